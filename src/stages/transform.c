/* Stage "transform" (job key "features"): the model columns, log1p of the
 * skewed ones, standardisation with global moments (tribe/transform.h,
 * docs/clustering.md). Fills r->m, r->model_col, r->model_name, r->z. */
#include "tribe/stage.h"
#include "tribe/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns transformed by log1p when the spec does not say: counts, money
 * and day spans, which are all skewed and non-negative. */
static const char *const DEFAULT_LOG1P[] = {"recency_days",      "frequency",         "monetary",
                                            "avg_order_value",   "tenure_days",       "mean_days_between",
                                            "distinct_products", "sessions",          "pages_per_session",
                                            "minutes_on_site",   "gross_monetary",    "return_count",
                                            "return_value"};
#define N_DEFAULT_LOG1P (sizeof DEFAULT_LOG1P / sizeof DEFAULT_LOG1P[0])

typedef struct {
    const char *spec_file;
    int n_columns;   /* 0 = the input's default model columns (tribe_table_set_model_default), or all */
    char **columns;
    int n_log1p;     /* -1 = DEFAULT_LOG1P */
    char **log1p;
    int standardize; /* 0: centred only (std 1), distances in the log1p/raw units */
    int *logf;       /* [m] after run */
    tribe_scaler *scaler;
} transform_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    transform_stage *s = state;
    tribe_spec *f = NULL;
    tribe_status st = TRIBE_OK;
    s->spec_file = job->path ? job->path : "job spec";
    s->n_log1p = -1;
    s->standardize = 1;
    TRIBE_TRY(tribe_spec_object(spec, "features", &f));
    TRIBE_TRY(tribe_spec_strs(f, "columns", &s->columns, &s->n_columns));
    if (tribe_spec_has(f, "log1p")) {
        s->n_log1p = 0;
        TRIBE_TRY(tribe_spec_strs(f, "log1p", &s->log1p, &s->n_log1p));
    }
    TRIBE_TRY(tribe_spec_bool(f, "standardize", &s->standardize));
    if (s->n_columns > TRIBE_MAX_FEATURES)
        TRIBE_TRY(tribe_spec_fail(f, "'features.columns' names %d columns; at most %d", s->n_columns,
                                  TRIBE_MAX_FEATURES));
cleanup:
    return st;
}

/* "a, b, c": the n names, cut with "... (N in all)" when they do not fit in
 * cap bytes, for an error that says what the spec could have named. */
static const char *name_list(const char *const *names, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t need = strlen(names[i]) + (i ? 2 : 0);
        if (len + need + 32 >= cap) {
            snprintf(buf + len, cap - len, "%s... (%d in all)", i ? ", " : "", n);
            break;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
    }
    return buf;
}

/* Which table columns the model uses (r->model_col), and which of them get
 * log1p (s->logf). */
static tribe_status pick_columns(transform_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_table *t = r->t;
    /* no columns named: the input's default model columns, or every feature */
    char *const *want = s->n_columns > 0 ? s->columns : t->n_model_default > 0 ? t->model_default : NULL;
    int m = s->n_columns > 0 ? s->n_columns : t->n_model_default > 0 ? t->n_model_default : t->d;
    if (m > TRIBE_MAX_FEATURES)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: %d model columns; at most %d (name them in 'features.columns')",
                          r->job->input, m, TRIBE_MAX_FEATURES);
    TRIBE_TRY(tribe_calloc((void **)&r->model_col, (size_t)m + 1, sizeof *r->model_col));
    TRIBE_TRY(tribe_calloc((void **)&r->model_name, (size_t)m + 1, sizeof *r->model_name));
    TRIBE_TRY(tribe_calloc((void **)&s->logf, (size_t)m + 1, sizeof *s->logf));
    char names[1024];
    for (int j = 0; j < m; j++) {
        int c = want ? tribe_table_feature(t, want[j]) : j;
        if (c < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: features.columns names '%s', which %s does not have; its "
                              "numeric features are: %s", s->spec_file, want[j], r->job->input,
                              name_list((const char *const *)t->names, t->d, names, sizeof names));
        for (int i = 0; i < j; i++)
            if (r->model_col[i] == c)
                return tribe_fail(TRIBE_ERR_USAGE, "%s: features.columns names '%s' twice", s->spec_file,
                                  want[j]);
        r->model_col[j] = c;
        r->model_name[j] = t->names[c];
    }
    for (int j = 0; j < m && s->n_log1p < 0; j++)
        for (size_t i = 0; i < N_DEFAULT_LOG1P; i++)
            s->logf[j] |= strcmp(r->model_name[j], DEFAULT_LOG1P[i]) == 0;
    for (int i = 0; i < s->n_log1p; i++) {
        int found = 0;
        for (int j = 0; j < m; j++)
            if (strcmp(r->model_name[j], s->log1p[i]) == 0)
                s->logf[j] = found = 1;
        if (!found)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: features.log1p names '%s', which is not a model column; "
                              "the model columns are: %s", s->spec_file, s->log1p[i],
                              name_list(r->model_name, m, names, sizeof names));
    }
    r->m = m;
cleanup:
    return st;
}

/* Not collective. A run that follows a previous one and fits anew must fit
 * in the same model space: the same columns, in order, with the same log1p
 * (docs/resegmentation.md, "What must match"). */
static tribe_status same_as_prev(const transform_stage *s, const tribe_run *r)
{
    const tribe_prev *p = r->prev;
    int same = p->m == r->m;
    for (int j = 0; same && j < r->m; j++)
        same = strcmp(p->names[j], r->model_name[j]) == 0 && !p->log1p[j] == !s->logf[j];
    if (same)
        return TRIBE_OK;
    char mine[1024] = "", theirs[1024] = "";
    size_t a = 0, b = 0;
    for (int j = 0; j < r->m && a < sizeof mine; j++)
        a += (size_t)snprintf(mine + a, sizeof mine - a, "%s%s%s", j ? "," : "", s->logf[j] ? "log1p:" : "",
                              r->model_name[j]);
    for (int j = 0; j < p->m && b < sizeof theirs; j++)
        b += (size_t)snprintf(theirs + b, sizeof theirs - b, "%s%s%s", j ? "," : "", p->log1p[j] ? "log1p:" : "",
                              p->names[j]);
    return tribe_fail(TRIBE_ERR_INPUT,
                      "%s: this job's model columns [%s] are not those of the previous run %s [%s]; a rerun that "
                      "fits anew must use the same columns and transforms (or set continuity.mode \"score\")",
                      s->spec_file, mine, p->path, theirs);
}

/* Not collective. Score-only rerun: the previous run's columns and scaler. */
static tribe_status previous_space(transform_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_prev *p = r->prev;
    r->m = p->m;
    TRIBE_TRY(tribe_calloc((void **)&r->model_col, (size_t)p->m + 1, sizeof *r->model_col));
    TRIBE_TRY(tribe_calloc((void **)&r->model_name, (size_t)p->m + 1, sizeof *r->model_name));
    TRIBE_TRY(tribe_calloc((void **)&s->logf, (size_t)p->m + 1, sizeof *s->logf));
    for (int j = 0; j < p->m; j++) {
        r->model_col[j] = tribe_table_feature(r->t, p->names[j]); /* checked by the previous stage */
        r->model_name[j] = r->t->names[r->model_col[j]];
        s->logf[j] = p->log1p[j];
    }
    TRIBE_TRY(tribe_scaler_from_model(p->m, r->model_col, (const char *const *)p->names, p->log1p, p->mean, p->std,
                                      p->impute, &s->scaler));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    transform_stage *s = state;
    tribe_status st = TRIBE_OK;
    if (r->prev && r->rerun == TRIBE_RERUN_SCORE) {
        TRIBE_TRY(tribe_par_agree(r->par, previous_space(s, r)));
    } else {
        TRIBE_TRY(tribe_par_agree(r->par, pick_columns(s, r)));
        if (r->prev)
            TRIBE_TRY(tribe_par_agree(r->par, same_as_prev(s, r)));
        TRIBE_TRY(tribe_par_agree(r->par, tribe_scaler_fit(r->par, r->t, r->model_col, r->m, s->logf, &s->scaler)));
        for (int j = 0; j < r->m && !s->standardize; j++)
            s->scaler->std[j] = 1.0; /* centring alone moves no distance */
    }
    r->scaler = s->scaler;
    TRIBE_DEBUG("transform: %d model columns (%s first), standardize %d, rerun mode %d", r->m,
                r->m > 0 ? r->model_name[0] : "none", s->standardize, r->prev ? (int)r->rerun : -1);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_scaler_apply_table(s->scaler, r->t, &r->z)));
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    transform_stage *s = state;
    tribe_status st = TRIBE_OK;
    int32_t *log32 = NULL;
    TRIBE_TRY(tribe_calloc((void **)&log32, (size_t)r->m + 1, sizeof *log32));
    for (int j = 0; j < r->m; j++)
        log32[j] = s->logf[j];
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model", "feature_names", r->m, r->model_name));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/mean", TRIBE_H5_F64, r->m, 1, s->scaler->mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/std", TRIBE_H5_F64, r->m, 1, s->scaler->std));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/impute", TRIBE_H5_F64, r->m, 1, s->scaler->impute));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/log1p", TRIBE_H5_I32, r->m, 1, log32));
cleanup:
    free(log32);
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    transform_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *cols = NULL;
    TRIBE_TRY(tribe_rec_strs(obj, "columns", r->model_name, r->m));
    TRIBE_TRY(tribe_rec_arr(obj, "log1p", &cols));
    for (int j = 0; j < r->m; j++)
        if (s->logf[j])
            TRIBE_TRY(tribe_rec_str(cols, NULL, r->model_name[j]));
    TRIBE_TRY(tribe_rec_bool(obj, "standardize", s->standardize));
cleanup:
    return st;
}

static void destroy(void *state)
{
    transform_stage *s = state;
    tribe_free_strs(s->columns, s->n_columns);
    tribe_free_strs(s->log1p, s->n_log1p);
    free(s->logf);
    tribe_scaler_destroy(&s->scaler);
}

const tribe_stage_def tribe_stage_transform = {
    .name = "transform", .state_size = sizeof(transform_stage), .configure = configure, .run = run, .write = write,
    .record = record, .destroy = destroy};
