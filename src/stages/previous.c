/* Stage "previous" (job keys "previous" and "continuity"): reads the run this
 * one follows, checks that it can be followed, measures the drift of the new
 * base against it and, in "auto" mode, decides whether to refit or to score
 * with the previous model (docs/resegmentation.md). Fills r->prev and
 * r->rerun, r->prev_psi. Enabled only when the job names a previous run. */
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const MODES[] = {"refit", "warm", "score", "auto"}; /* TRIBE_RERUN_* order */

typedef struct {
    char *path;        /* "previous" as given (resolved against the spec) */
    int mode;          /* continuity.mode */
    double psi_refit;  /* auto: refit when a feature's PSI passes this */
    tribe_prev *prev;
    double *psi;       /* [prev->m] PSI of each previous model column, NaN when unknown */
    double psi_max;
    char reason[512];  /* why this mode (auto: the drift that decided) */
    int first;         /* "previous" is the job's own output directory, still without a run */
    const char *output;
} previous_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    previous_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_spec *c = NULL;
    s->psi_refit = 0.25;
    TRIBE_TRY(tribe_spec_path(spec, "previous", &s->path));
    TRIBE_TRY(tribe_spec_object(spec, "continuity", &c));
    TRIBE_TRY(tribe_spec_choice(c, "mode", MODES, 4, &s->mode));
    TRIBE_TRY(tribe_spec_num(c, "psi_refit", 0, 100, &s->psi_refit));
    *enabled = s->path != NULL;
    s->output = job->output;
cleanup:
    return st;
}

/* Collective. The previous model's columns must be the input's and, unless
 * it is only scored, the job's transform must be the previous one's (the
 * transform stage checks the latter once it knows its columns). */
static tribe_status check_columns(previous_stage *s, const tribe_run *r)
{
    char missing[1024] = "";
    size_t at = 0;
    int n = 0;
    for (int j = 0; j < s->prev->m; j++)
        if (tribe_table_feature(r->t, s->prev->names[j]) < 0) {
            at += (size_t)snprintf(missing + at, at < sizeof missing ? sizeof missing - at : 0, "%s'%s'",
                                   n++ ? ", " : "", s->prev->names[j]);
            at = at < sizeof missing ? at : sizeof missing - 1;
        }
    if (n)
        return tribe_fail(TRIBE_ERR_INPUT,
                          "previous run %s was made with %d column%s that %s does not have: %s; follow it only "
                          "with input of the same features",
                          s->prev->path, n, n == 1 ? "" : "s", r->job->input, missing);
    return TRIBE_OK;
}

/* Collective. PSI of every previous model column, new base against the
 * previous run's reference bins. */
static tribe_status drift(previous_stage *s, const tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_prev *p = s->prev;
    int *cols = NULL;
    double *share = NULL;
    TRIBE_TRY(tribe_calloc((void **)&s->psi, (size_t)p->m, sizeof *s->psi));
    s->psi_max = NAN;
    for (int j = 0; j < p->m; j++)
        s->psi[j] = NAN;
    if (!p->has_ref)
        goto cleanup;
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)p->m, sizeof *cols));
    TRIBE_TRY(tribe_calloc((void **)&share, (size_t)p->m * (TRIBE_DRIFT_BINS + 1), sizeof *share));
    for (int j = 0; j < p->m; j++)
        cols[j] = tribe_table_feature(r->t, p->names[j]);
    TRIBE_TRY(tribe_drift_shares(&r->rows, r->t->x, r->t->d, cols, p->m, p->edges, share));
    for (int j = 0; j < p->m; j++) {
        s->psi[j] = tribe_psi(p->ref_share + (size_t)j * (TRIBE_DRIFT_BINS + 1),
                              share + (size_t)j * (TRIBE_DRIFT_BINS + 1), TRIBE_DRIFT_BINS + 1);
        if (isnan(s->psi_max) || s->psi[j] > s->psi_max)
            s->psi_max = s->psi[j];
    }
cleanup:
    free(cols);
    free(share);
    return st;
}

/* Not collective. "auto" resolved by the drift; the reason in words. */
static void decide(previous_stage *s, tribe_run *r)
{
    const tribe_prev *p = s->prev;
    int worst = -1;
    for (int j = 0; j < p->m; j++)
        if (!isnan(s->psi[j]) && (worst < 0 || s->psi[j] > s->psi[worst]))
            worst = j;
    r->rerun = s->mode;
    if (s->mode != TRIBE_RERUN_AUTO) {
        snprintf(s->reason, sizeof s->reason, "continuity.mode is \"%s\"", MODES[s->mode]);
        return;
    }
    if (!p->has_ref) {
        r->rerun = TRIBE_RERUN_REFIT;
        snprintf(s->reason, sizeof s->reason,
                 "auto: refit, because the previous run %s holds no drift reference (made before tribe kept one)",
                 p->run_id);
    } else if (worst >= 0 && s->psi[worst] > s->psi_refit) {
        r->rerun = TRIBE_RERUN_REFIT;
        snprintf(s->reason, sizeof s->reason, "auto: refit, because '%s' drifted (PSI %.3f > psi_refit %.3g)",
                 p->names[worst], s->psi[worst], s->psi_refit);
    } else {
        r->rerun = TRIBE_RERUN_SCORE;
        snprintf(s->reason, sizeof s->reason,
                 "auto: scored with the previous model, because no feature drifted (largest PSI %.3f%s%s%s <= "
                 "psi_refit %.3g)",
                 worst >= 0 ? s->psi[worst] : 0.0, worst >= 0 ? ", '" : "", worst >= 0 ? p->names[worst] : "",
                 worst >= 0 ? "'" : "", s->psi_refit);
    }
}

static tribe_status run(void *state, tribe_run *r)
{
    previous_stage *s = state;
    tribe_status st = TRIBE_OK;
    char *found = NULL;
    TRIBE_DEBUG("previous: %s, continuity mode %d, refit past PSI %g", s->path, s->mode, s->psi_refit);
    if (strcmp(s->path, s->output) == 0 && tribe_prev_resolve(s->path, &found) != TRIBE_OK) {
        tribe_clear_error(); /* the first run of a periodic job: its history starts here */
        s->first = 1;
        snprintf(s->reason, sizeof s->reason, "the first run of this history: %s holds no run yet", s->path);
        TRIBE_INFO("previous: %s", s->reason);
        goto cleanup;
    }
    free(found);
    TRIBE_TRY(tribe_prev_read(r->par, s->path, &s->prev));
    TRIBE_TRY(tribe_par_agree(r->par, check_columns(s, r)));
    TRIBE_TRY(tribe_par_agree(r->par, drift(s, r)));
    decide(s, r);
    r->prev = s->prev;
    r->prev_psi = s->psi;
    TRIBE_INFO("previous run %s (%s, K=%d, %lld customers): %s", s->prev->run_id, s->prev->path, s->prev->k,
               (long long)s->prev->n, s->reason);
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    previous_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *psi = NULL;
    if (s->first) {
        TRIBE_TRY(tribe_rec_bool(obj, "first", 1));
        TRIBE_TRY(tribe_rec_str(obj, "reason", s->reason));
        goto cleanup;
    }
    TRIBE_TRY(tribe_rec_str(obj, "path", s->prev->path));
    TRIBE_TRY(tribe_rec_str(obj, "run_id", s->prev->run_id));
    TRIBE_TRY(tribe_rec_str(obj, "created", s->prev->created));
    TRIBE_TRY(tribe_rec_int(obj, "k", s->prev->k));
    TRIBE_TRY(tribe_rec_int(obj, "customers", s->prev->n));
    TRIBE_TRY(tribe_rec_str(obj, "mode", MODES[s->mode]));
    TRIBE_TRY(tribe_rec_str(obj, "rerun", MODES[r->rerun]));
    TRIBE_TRY(tribe_rec_str(obj, "reason", s->reason));
    TRIBE_TRY(tribe_rec_num(obj, "psi_max", s->psi_max));
    TRIBE_TRY(tribe_rec_obj(obj, "psi", &psi));
    for (int j = 0; j < s->prev->m; j++)
        TRIBE_TRY(tribe_rec_num(psi, s->prev->names[j], s->psi[j]));
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    previous_stage *s = state;
    tribe_status st = TRIBE_OK;
    if (s->first)
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "previous", s->prev->path));
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "previous_run_id", s->prev->run_id));
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "mode", MODES[s->mode]));
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "rerun", MODES[r->rerun]));
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "rerun_reason", s->reason));
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/psi", TRIBE_H5_F64, s->prev->m, 1, s->psi));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/continuity/psi", "feature_names", s->prev->m,
                                 (const char *const *)s->prev->names));
cleanup:
    return st;
}

static void destroy(void *state)
{
    previous_stage *s = state;
    free(s->path);
    free(s->psi);
    tribe_prev_destroy(&s->prev);
}

const tribe_stage_def tribe_stage_previous = {
    .name = "previous", .state_size = sizeof(previous_stage), .configure = configure, .run = run, .write = write,
    .record = record, .destroy = destroy};
