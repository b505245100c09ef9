/* `tribe run` as a loop over registered stages (tribe/stage.h). */
#include "checkpoint.h"

#include "tribe/h5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int64_t pipeline_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (int64_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

void pipeline_lap(tribe_pipeline *pl, const char *name)
{
    double now = tribe_now();
    if (pl->n_steps < PIPELINE_MAX_STEPS) {
        pl->step[pl->n_steps] = name;
        pl->seconds[pl->n_steps] = now - pl->mark;
        pl->rss[pl->n_steps++] = pipeline_peak_rss();
    }
    pl->mark = now;
}

/* Every stage's configure on the job's spec, then the check that no key was
 * left unread. */
static tribe_status configure(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    for (int i = 0; i < pl->n; i++) {
        TRIBE_TRY(tribe_calloc(&pl->state[i], 1, pl->def[i]->state_size ? pl->def[i]->state_size : 1));
        pl->enabled[i] = 1;
        TRIBE_TRY(pl->def[i]->configure(pl->state[i], pl->job->spec, pl->job, &pl->enabled[i]));
    }
    TRIBE_TRY(tribe_spec_finish(pl->job->spec));
cleanup:
    return st;
}

tribe_status tribe_pipeline_create_text(tribe_par *par, const char *path, const char *text,
                                        const tribe_stage_def *const *stages, int n, tribe_pipeline **out)
{
    tribe_status st = TRIBE_OK;
    tribe_pipeline *pl = NULL;
    if (!stages)
        stages = tribe_stages_default(&n);
    TRIBE_TRY(tribe_calloc((void **)&pl, 1, sizeof *pl));
    pl->run.par = par;
    pl->run.silhouette = pl->run.silhouette_ci = pl->run.inertia = NAN;
    TRIBE_TRY(tribe_job_parse(path, text, &pl->job));
    pl->run.job = pl->job;
    pl->n = n;
    TRIBE_TRY(tribe_calloc((void **)&pl->def, (size_t)n + 1, sizeof *pl->def));
    TRIBE_TRY(tribe_calloc((void **)&pl->state, (size_t)n + 1, sizeof *pl->state));
    TRIBE_TRY(tribe_calloc((void **)&pl->enabled, (size_t)n + 1, sizeof *pl->enabled));
    TRIBE_TRY(tribe_calloc((void **)&pl->ran, (size_t)n + 1, sizeof *pl->ran));
    TRIBE_TRY(tribe_calloc((void **)&pl->saved, (size_t)n + 1, sizeof *pl->saved));
    TRIBE_TRY(tribe_calloc((void **)&pl->restored, (size_t)n + 1, sizeof *pl->restored));
    TRIBE_TRY(tribe_calloc((void **)&pl->partial, (size_t)n + 1, sizeof *pl->partial));
    pl->run.pipeline = pl;
    for (int i = 0; i < n; i++)
        pl->def[i] = stages[i];
    TRIBE_TRY(configure(pl));
    /* Record the input by absolute path: `tribe export results.h5` finds
     * the customers through it from any working directory. */
    char *abs = realpath(pl->job->input, NULL);
    if (abs) {
        free(pl->job->input);
        pl->job->input = abs;
    }
    *out = pl;
    pl = NULL;
cleanup:
    tribe_pipeline_destroy(&pl);
    return st;
}

tribe_status tribe_pipeline_create(tribe_par *par, const char *job_path, const tribe_stage_def *const *stages, int n,
                                   tribe_pipeline **out)
{
    char *text = NULL;
    tribe_status st = tribe_read_file(job_path, &text, NULL);
    if (st == TRIBE_OK)
        st = tribe_pipeline_create_text(par, job_path, text, stages, n, out);
    free(text);
    return st;
}

/* Collective. The customers, their layout over ranks and their hash. */
static tribe_status read_input(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    TRIBE_TRY(tribe_store_read_customers(r->par, pl->job->input, &r->t, &r->ledger));
    TRIBE_TRY(tribe_rows_init(r->par, r->t->n_local, r->t->offset, r->t->n_global, &r->rows));
    TRIBE_TRY(tribe_table_hash(r->par, r->t, r->input_hash));
    TRIBE_TRY(tribe_fmt(r->run_group, sizeof r->run_group, "/runs/%s", pl->job->run_id));
    TRIBE_INFO("read %lld customers x %d features from %s", (long long)r->t->n_global, r->t->d, pl->job->input);
cleanup:
    return st;
}

/* The last enabled stage that reads the model space: z is freed after it. */
static int last_z_user(const tribe_pipeline *pl)
{
    int last = -1;
    for (int i = 0; i < pl->n; i++)
        if (pl->enabled[i] && pl->def[i]->uses_z)
            last = i;
    return last;
}

/* Collective. Stage i: restored from its checkpoint, or run (and saved when
 * it can be). */
static tribe_status run_stage(tribe_pipeline *pl, int i)
{
    tribe_status st = TRIBE_OK;
    const tribe_run *r = &pl->run;
    double t0 = tribe_now();
    if (pl->saved[i]) {
        pl->restored[i] = 1;
        TRIBE_DEBUG("stage %s: restored from its checkpoint", pl->def[i]->name);
        return checkpoint_load(pl, i);
    }
    pl->current = i;
    TRIBE_DEBUG("stage %s: start on %lld customers (%lld on rank 0) x %d model columns, K=%d", pl->def[i]->name,
                (long long)r->rows.n_global, (long long)r->rows.n_local, r->m, r->k);
    tribe_progress_stage(pl->def[i]->name);
    st = pl->def[i]->run(pl->state[i], &pl->run);
    tribe_progress_stage(NULL);
    TRIBE_TRY(tribe_par_agree(pl->run.par, st));
    TRIBE_DEBUG("stage %s: done in %.3f s (peak RSS %lld MiB on rank 0)", pl->def[i]->name, tribe_now() - t0,
                (long long)(pipeline_peak_rss() >> 20));
    if (pl->stopped_inside)
        goto cleanup; /* its partial checkpoint holds what it did */
    if (pl->partial[i])
        TRIBE_TRY(checkpoint_drop_partial(pl, i));
    if (pl->def[i]->save && pl->def[i]->load)
        TRIBE_TRY(checkpoint_save(pl, i));
cleanup:
    return st;
}

tribe_status tribe_pipeline_run(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    int rank = tribe_par_rank(r->par), z_last = last_z_user(pl), stop = 0;
    pl->mark = tribe_now();
    TRIBE_TRY(pipeline_staging(pl));
    TRIBE_TRY(read_input(pl));
    TRIBE_TRY(checkpoint_check_input(pl));
    pipeline_lap(pl, "read");
    for (int i = 0; i < pl->n; i++) {
        if (!pl->enabled[i])
            continue;
        TRIBE_TRY(run_stage(pl, i));
        if (pl->stopped_inside) {
            pl->stopped = 1;
            if (rank == 0)
                TRIBE_WARN("stopped on a signal inside stage %s; its partial checkpoint and the checkpoints in %s "
                           "resume the run", pl->def[i]->name, pl->staging);
            goto cleanup;
        }
        pl->ran[i] = 1;
        /* The input's currency, also over profiles restored from a
         * checkpoint (the input hash covers the numbers, not their unit). */
        if (r->segs)
            r->segs->currency = r->t->currency;
        if (i >= z_last) { /* later stages read the raw table only */
            free(r->z);
            r->z = NULL;
        }
        pipeline_lap(pl, pl->def[i]->name);
        TRIBE_TRY(checkpoint_boundary(pl, &stop));
        if (stop) {
            pl->stopped = 1;
            if (rank == 0)
                TRIBE_WARN("stopped on a signal after stage %s; the checkpoint in %s resumes the run", pl->def[i]->name,
                           pl->staging);
            goto cleanup;
        }
    }
    TRIBE_TRY(pipeline_write_results(pl));
    pipeline_lap(pl, "results");
    if (rank == 0)
        st = pipeline_outputs(pl);
    TRIBE_TRY(tribe_par_agree(r->par, st));
cleanup:
    if (st != TRIBE_OK && rank == 0)
        pipeline_unstage(pl);
    pipeline_unlock(pl); /* last: the staging directory is published, kept for a resume or gone */
    return st;
}

void tribe_pipeline_set_stop(tribe_pipeline *pl, int (*stop)(void))
{
    pl->stop = stop;
}

void tribe_pipeline_set_resume(tribe_pipeline *pl, int resume)
{
    pl->resume = resume;
}

int tribe_pipeline_stopped(const tribe_pipeline *pl)
{
    return pl->stopped;
}

const tribe_run *tribe_pipeline_context(const tribe_pipeline *pl)
{
    return &pl->run;
}

static int flag_of(const tribe_pipeline *pl, const int *flag, const char *name)
{
    for (int i = 0; i < pl->n; i++)
        if (strcmp(pl->def[i]->name, name) == 0)
            return flag[i];
    return 0;
}

int tribe_pipeline_enabled(const tribe_pipeline *pl, const char *name)
{
    return flag_of(pl, pl->enabled, name);
}

int tribe_pipeline_ran(const tribe_pipeline *pl, const char *name)
{
    return flag_of(pl, pl->ran, name);
}

int tribe_pipeline_restored(const tribe_pipeline *pl, const char *name)
{
    return flag_of(pl, pl->restored, name);
}

void tribe_pipeline_destroy(tribe_pipeline **pp)
{
    if (!pp || !*pp)
        return;
    tribe_pipeline *pl = *pp;
    for (int i = 0; i < pl->n; i++) {
        if (pl->state && pl->state[i] && pl->def[i]->destroy)
            pl->def[i]->destroy(pl->state[i]);
        if (pl->state)
            free(pl->state[i]);
    }
    tribe_run *r = &pl->run;
    if (r->personas && r->segs)
        tribe_personas_destroy(&r->personas, r->segs->k);
    tribe_campaign_plan_destroy(&r->plan);
    tribe_segments_destroy(&r->segs);
    free(r->model_col);
    free(r->model_name);
    free(r->z);
    free(r->centroids);
    free(r->from_prev);
    free(r->label);
    free(r->distance);
    free(r->ledger);
    tribe_table_destroy(&r->t);
    tribe_rec_destroy(&pl->memory);
    pipeline_unlock(pl);
    free(pl->def);
    free(pl->state);
    free(pl->enabled);
    free(pl->ran);
    free(pl->saved);
    free(pl->restored);
    free(pl->partial);
    tribe_job_destroy(&pl->job);
    free(pl);
    *pp = NULL;
}
