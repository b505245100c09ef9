/* tribe/stage.h: `tribe run` as a pipeline of stages (docs/architecture.md,
 * "How to add a stage").
 *
 * A stage is one tribe_stage_def: a name and a few operations. The pipeline
 * reads the customers, then for every registered stage in order:
 *     configure  (all stages, before any work: its keys of the job spec)
 *     run        (enabled stages, collective, timed, peak memory taken)
 * and once every stage has run:
 *     write      (collective: its objects of results.h5)
 *     record     (rank 0: its object of the run record, run.json)
 *     report     (rank 0: its sections of report.html, placed by report_order)
 *     files      (rank 0: its own output files in the staging directory)
 * and publishes every output atomically into the job's output directory.
 * Every operation but configure and run may be NULL.
 *
 * Checkpoints (docs/cli.md, "Interrupted runs"): after a stage with a save
 * operation has run, the pipeline saves it into the staging directory; a
 * later run of the same job spec with the same binary restores it with load
 * instead of running it. Stages without save/load simply rerun on resume
 * (every stage is deterministic), so a resumed run's outputs are those of an
 * uninterrupted one, bit for bit. A stop test (a signal handler's flag) is
 * asked at every stage boundary: the ranks agree on it, and the run stops
 * there with its checkpoints kept (tribe_pipeline_stopped). A long stage may
 * also ask it inside its run (tribe_run_stop_point) and, to stop there, save
 * its progress so far as a partial checkpoint (tribe_run_save_partial) that
 * its run reads back on resume (tribe_run_open_partial).
 *
 * Usage (the CLI):
 *     tribe_pipeline *pl = NULL;
 *     TRIBE_TRY(tribe_pipeline_create(par, "job.json", NULL, 0, &pl));  // default stages
 *     TRIBE_TRY(tribe_pipeline_run(pl));
 *     const tribe_run *r = tribe_pipeline_context(pl);
 *     tribe_pipeline_destroy(&pl);
 *
 * Ownership: the pipeline owns the run context and everything its fields point
 * to (freed by tribe_pipeline_destroy); a stage owns its state (freed by its
 * destroy, the state block itself by the pipeline).
 */
#ifndef TRIBE_STAGE_H
#define TRIBE_STAGE_H

#include "tribe/campaign.h"
#include "tribe/continuity.h"
#include "tribe/core.h"
#include "tribe/h5.h"
#include "tribe/job.h"
#include "tribe/ltv.h"
#include "tribe/par.h"
#include "tribe/persona.h"
#include "tribe/record.h"
#include "tribe/sbuf.h"
#include "tribe/segment.h"
#include "tribe/spec.h"
#include "tribe/table.h"
#include "tribe/transform.h"

/* What the stages share. Fields are filled by the stage named beside them and
 * read by later ones; a field a disabled stage would fill keeps its zero. */
typedef struct {
    /* the pipeline, before the first stage */
    struct tribe_pipeline *pipeline; /* for tribe_run_stop_point and the partial checkpoints (NULL: none) */
    tribe_par *par;
    const tribe_job *job;
    tribe_table *t;          /* the customers: raw features and ids, this rank's rows */
    tribe_rows rows;         /* their layout over ranks (checked once) */
    char *ledger;            /* ingest's data-quality ledger (JSON text), NULL without one */
    char input_hash[17];     /* split-independent hash of the input rows */
    char run_group[320];     /* "/runs/<run_id>" in results.h5 */
    /* previous (job keys "previous" and "continuity"; docs/resegmentation.md) */
    const tribe_prev *prev;  /* the run this one follows, NULL without one */
    int rerun;               /* TRIBE_RERUN_*: how the kmeans stage fits ("auto" already resolved) */
    const double *prev_psi;  /* [prev->m] PSI of each previous model column (NaN: no reference) */
    /* transform */
    int m;                   /* model columns */
    int *model_col;          /* [m] column of t->x of each */
    const char **model_name; /* [m] their names (t's strings) */
    float *z;                /* [n_local][m] the model space; freed after the last stage with uses_z */
    const tribe_scaler *scaler; /* the model space's transform (the stage's) */
    /* kmeans */
    int k;                   /* segments */
    double *centroids;       /* [k][m] in the model space, ids by descending mean monetary */
    int32_t *label;          /* [n_local] segment of each customer */
    float *distance;         /* [n_local] Euclidean distance to its segment's centre */
    double inertia;          /* sum of squared distances, model space */
    double silhouette, silhouette_ci; /* sampled silhouette of the chosen K (NaN: not computed) */
    int *from_prev;          /* [k] score-only rerun: the previous run's segment of each centre (else NULL) */
    int64_t passes;          /* full passes over the data of the final fit (0: not counted) */
    /* continuity */
    const tribe_changes *changes; /* what changed since the previous run, NULL without one */
    /* segments */
    tribe_segments *segs;    /* profiles, names; drivers, ltv and outliers stages add their figures */
    /* ltv */
    const tribe_ltv *ltv;    /* its fit: the windows' BG/NBD + Gamma-Gamma (classic, classic_on), which the
                              * churn stage reuses; NULL when the stage did not run */
    /* personas, campaign */
    tribe_persona *personas; /* [k] */
    tribe_campaign_plan *plan; /* [k] */
} tribe_run;

/* How a run with a previous one fits its segments (continuity.mode). */
enum { TRIBE_RERUN_REFIT = 0, TRIBE_RERUN_WARM, TRIBE_RERUN_SCORE, TRIBE_RERUN_AUTO };

/* The model space of r as a matrix on the customers' rows (a view). */
static inline tribe_dmat tribe_run_z(const tribe_run *r)
{
    return (tribe_dmat){&r->rows, r->z, r->m};
}

typedef struct {
    const char *name;        /* job-spec section, run-record object, timing and memory label */
    size_t state_size;       /* bytes of the stage's state (zeroed before configure) */
    int uses_z;              /* 1 when run reads r->z (the pipeline frees z after the last one) */
    int report_order;        /* place of its report sections (lower first) */
    const char *const *outputs; /* files that files() writes, NULL-terminated (NULL: none) */
    /* Not collective. Reads the stage's own keys of spec (tribe/spec.h) into
     * state, checks them and sets *enabled (1 on entry). Errors: USAGE naming
     * the key. */
    tribe_status (*configure)(void *state, tribe_spec *spec, const tribe_job *job, int *enabled);
    /* Collective. The stage's work on r; ranks agree on errors. */
    tribe_status (*run)(void *state, tribe_run *r);
    /* Collective. Its objects of results.h5 (docs/hdf5-layout.md). */
    tribe_status (*write)(void *state, const tribe_run *r, tribe_h5 *h);
    /* Rank 0. Fills obj, the run record's object named after the stage. */
    tribe_status (*record)(void *state, const tribe_run *r, tribe_rec *obj);
    /* Rank 0. Appends its report sections (tribe/report.h) to b. */
    tribe_status (*report)(void *state, const tribe_run *r, tribe_sbuf *b);
    /* Rank 0. Writes its outputs into dir (the staging directory). */
    tribe_status (*files)(void *state, const tribe_run *r, const char *dir);
    /* Frees what state owns (not the state block); may be NULL. */
    void (*destroy)(void *state);
    /* Collective, optional (give both or neither). save: after run, what run
     * computed (its state, the fields of r it fills) into h, a checkpoint
     * file of its own. load: instead of run on a resumed job, from the file
     * save wrote, on the same earlier stages' results (any rank count);
     * afterwards state and r must be exactly what run would have left. */
    tribe_status (*save)(void *state, const tribe_run *r, tribe_h5 *h);
    tribe_status (*load)(void *state, tribe_run *r, tribe_h5 *h);
} tribe_stage_def;

/* The stages of `tribe run`, in order (src/stages/registry.c). Not collective. */
const tribe_stage_def *const *tribe_stages_default(int *n);
/* The default stage named `name`, or NULL. */
const tribe_stage_def *tribe_stage_find(const char *name);

typedef struct tribe_pipeline tribe_pipeline;

/* Not collective. Loads the job and configures every stage (stages[n], or the
 * default list when stages is NULL), then rejects keys no stage read. No data
 * is touched: every spec error comes before any work. USAGE, IO, NOMEM. */
tribe_status tribe_pipeline_create(tribe_par *par, const char *job_path, const tribe_stage_def *const *stages,
                                   int n, tribe_pipeline **out);
/* As create, from spec text (path may be NULL). */
tribe_status tribe_pipeline_create_text(tribe_par *par, const char *path, const char *text,
                                        const tribe_stage_def *const *stages, int n, tribe_pipeline **out);
/* Collective. The whole run: read, stages, results.h5, run.json, report.html,
 * the stages' files, then publish. A failed run leaves earlier results in
 * place. Before any work, rank 0 cleans staging directories and temporary
 * files left in the output directory by killed runs, and adopts the
 * checkpoint of an interrupted run of the same spec and binary (its run id
 * too); a checkpoint of another spec or binary is refused (USAGE, naming
 * both) when resume was asked, else removed as stale. Returns TRIBE_OK
 * also when the run stopped on the stop flag (tribe_pipeline_stopped). */
tribe_status tribe_pipeline_run(tribe_pipeline *pl);
/* Not collective, before run. stop (NULL: never) is asked on every rank at
 * each stage boundary, typically whether a signal handler set its flag; the
 * run stops when it says 1 on any rank. resume = 1 asks for the interrupted
 * run's checkpoint (see tribe_pipeline_run). */
void tribe_pipeline_set_stop(tribe_pipeline *pl, int (*stop)(void));
void tribe_pipeline_set_resume(tribe_pipeline *pl, int resume);
/* Collective, inside a stage's run, at points every rank reaches the same
 * number of times: *stop = 1 when the run is to stop here (the stop test, or
 * force, on any rank: one small allreduce; force serves test hooks). The
 * stage then saves its progress with tribe_run_save_partial and returns
 * TRIBE_OK from run at once. *stop = 0 outside a pipeline. */
tribe_status tribe_run_stop_point(tribe_run *r, int force, int *stop);
/* Collective. save(ctx, h) writes the running stage's progress into h, its
 * partial checkpoint checkpoint-NAME.partial.h5 in the staging directory
 * (written under a temporary name, renamed when closed, and listed in the
 * checkpoint identity); the pipeline then stops after this stage's run as at
 * a stage boundary. The partial checkpoint is dropped once the stage
 * completes. Outside a pipeline: nothing is saved and the run does not stop. */
tribe_status tribe_run_save_partial(tribe_run *r, tribe_status (*save)(void *ctx, tribe_h5 *h), void *ctx);
/* Collective. The running stage's partial checkpoint of a resumed run,
 * opened for reading (*h NULL when there is none); close it with
 * tribe_h5_close. */
tribe_status tribe_run_open_partial(tribe_run *r, tribe_h5 **h);
/* Not collective. 1 when run stopped on the stop flag (at a stage boundary,
 * or inside a stage with its partial checkpoint), its checkpoints kept in the
 * staging directory for a resume. */
int tribe_pipeline_stopped(const tribe_pipeline *pl);
/* Not collective. The context (valid until destroy). */
const tribe_run *tribe_pipeline_context(const tribe_pipeline *pl);
/* Not collective. 1 when the stage of that name is enabled by the job (after
 * create) / ran in this pipeline (after run). */
int tribe_pipeline_enabled(const tribe_pipeline *pl, const char *name);
int tribe_pipeline_ran(const tribe_pipeline *pl, const char *name);
/* Not collective, after run: 1 when that stage was loaded from a checkpoint
 * instead of run (it also counts as ran). */
int tribe_pipeline_restored(const tribe_pipeline *pl, const char *name);
void tribe_pipeline_destroy(tribe_pipeline **pl);

#endif
