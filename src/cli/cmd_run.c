/* tribe run JOB.json: the segmentation job, end to end. */
#include "cli.h"
#include "run_extras.h"
#include "tribe/campaign.h"
#include "tribe/clv.h"
#include "tribe/cluster.h"
#include "tribe/date.h"
#include "tribe/gbdt.h"
#include "tribe/h5.h"
#include "tribe/job.h"
#include "tribe/llm.h"
#include "tribe/persona.h"
#include "tribe/report.h"
#include "tribe/results.h"
#include "tribe/sbuf.h"
#include "tribe/transform.h"
#include "tribe/xstats.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: tribe run JOB.json\n\n"
    "Runs the segmentation job described by JOB.json (docs/job-spec.md) on all ranks: transforms,\n"
    "K-Means (fixed K, or a K range scored by silhouettes, Calinski-Harabasz, Davies-Bouldin, the elbow\n"
    "and split-half stability), segment statistics and names, outliers, soft membership, the Ward tree,\n"
    "the PCA map, segment drivers, lifetime value (with an ltv object), personas and the campaign plan,\n"
    "and writes results.h5, personas.json, segments.csv, campaign_plan.csv and report.html\n"
    "into the job's output directory (atomically: a failed run leaves earlier results in place).\n";

/* Columns transformed by log1p when the spec does not say: counts, money
 * and day spans, which are all skewed and non-negative. */
static const char *const DEFAULT_LOG1P[] = {"recency_days",      "frequency",         "monetary",
                                            "avg_order_value",   "tenure_days",       "mean_days_between",
                                            "distinct_products", "sessions",          "pages_per_session",
                                            "minutes_on_site"};
#define N_DEFAULT_LOG1P (sizeof DEFAULT_LOG1P / sizeof DEFAULT_LOG1P[0])

static const char *const OUTPUTS[] = {"personas.json", "segments.csv", "campaign_plan.csv", "report.html",
                                      "results.h5"};
#define N_OUTPUTS (sizeof OUTPUTS / sizeof OUTPUTS[0])

typedef struct {
    const char *name;
    double seconds;
} stage_time;

typedef struct {
    stage_time t[12];
    int n;
    double mark;
    int64_t rss[12]; /* this rank's peak RSS when stage i ended (0: not taken) */
} timings;

static void lap(timings *tm, const char *name)
{
    double now = tribe_now();
    if (tm->n < 12) {
        tm->rss[tm->n] = tribe_cli_peak_rss();
        tm->t[tm->n++] = (stage_time){name, now - tm->mark};
    }
    tm->mark = now;
}

static tribe_status timings_json(const timings *tm, char **out)
{
    size_t cap = 64 + (size_t)tm->n * 64;
    tribe_status st = tribe_alloc((void **)out, cap);
    if (st != TRIBE_OK)
        return st;
    size_t n = (size_t)snprintf(*out, cap, "{");
    double total = 0;
    for (int i = 0; i < tm->n; i++) {
        n += (size_t)snprintf(*out + n, cap - n, "\"%s\": %.3f, ", tm->t[i].name, tm->t[i].seconds);
        total += tm->t[i].seconds;
    }
    snprintf(*out + n, cap - n, "\"total\": %.3f}", total);
    return TRIBE_OK;
}

/* Which table columns the model uses, and which of them get log1p. */
static tribe_status pick_columns(const tribe_job *job, const tribe_table *t, int **cols_out, int **log_out,
                                 int *m_out)
{
    tribe_status st = TRIBE_OK;
    int m = job->features.n_columns > 0 ? job->features.n_columns : t->d;
    int *cols = NULL, *logf = NULL;
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)m + 1, sizeof *cols));
    TRIBE_TRY(tribe_calloc((void **)&logf, (size_t)m + 1, sizeof *logf));
    for (int j = 0; j < m; j++) {
        if (job->features.n_columns == 0) {
            cols[j] = j;
            continue;
        }
        cols[j] = tribe_table_feature(t, job->features.columns[j]);
        if (cols[j] < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: features.columns names '%s', which %s does not have",
                            job->path, job->features.columns[j], job->input);
            goto cleanup;
        }
        for (int i = 0; i < j; i++)
            if (cols[i] == cols[j]) {
                st = tribe_fail(TRIBE_ERR_USAGE, "%s: features.columns names '%s' twice", job->path,
                                job->features.columns[j]);
                goto cleanup;
            }
    }
    if (job->features.n_log1p < 0) {
        for (int j = 0; j < m; j++)
            for (size_t i = 0; i < N_DEFAULT_LOG1P; i++)
                if (strcmp(t->names[cols[j]], DEFAULT_LOG1P[i]) == 0)
                    logf[j] = 1;
    } else {
        for (int i = 0; i < job->features.n_log1p; i++) {
            int found = 0;
            for (int j = 0; j < m; j++)
                if (strcmp(t->names[cols[j]], job->features.log1p[i]) == 0)
                    logf[j] = found = 1;
            if (!found) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s: features.log1p names '%s', which is not a model column",
                                job->path, job->features.log1p[i]);
                goto cleanup;
            }
        }
    }
    *cols_out = cols;
    *log_out = logf;
    *m_out = m;
    cols = logf = NULL;
cleanup:
    free(cols);
    free(logf);
    return st;
}

/* Removes a staging directory and the files in it (one level). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    closedir(d);
    rmdir(dir);
}

/* Rank 0: moves every staged output into place. Each rename is atomic;
 * results.h5 goes last so it always describes complete siblings. */
static tribe_status publish(const char *staging, const char *output)
{
    char from[4096], to[4096];
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        tribe_status st = tribe_fmt(from, sizeof from, "%s/%s", staging, OUTPUTS[i]);
        if (st == TRIBE_OK)
            st = tribe_fmt(to, sizeof to, "%s/%s", output, OUTPUTS[i]);
        if (st != TRIBE_OK)
            return st;
        if (rename(from, to) != 0)
            return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move into place", to);
    }
    remove_dir(staging);
    return TRIBE_OK;
}


/* Segment drivers: what the run hands to results.h5 and the report. */
typedef struct {
    char *json;        /* the GBDT as JSON */
    double *mean_abs;  /* [k][m]: mean |SHAP| of the class-s output over segment s's rows */
    double *gain;      /* [m]: split gain over all trees */
    int64_t rows;      /* rows TreeSHAP explained, all ranks */
    char *report_json; /* ", \"drivers\": {...}" for the run record (rank 0), or NULL */
} drivers;

static void drivers_free(drivers *dr)
{
    free(dr->json);
    free(dr->mean_abs);
    free(dr->gain);
    free(dr->report_json);
    *dr = (drivers){0};
}

/* The drivers as a fragment of the run record, read by the report's "What
 * drives each segment" section: features, mean_abs_shap[k][m], gain[m]. */
static tribe_status drivers_report_json(const drivers *dr, const char *const *names, int k, int m, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"drivers\": {\"features\": ["));
    for (int j = 0; j < m; j++) {
        if (j)
            TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(tribe_sbuf_json_str(&b, names[j]));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "], \"mean_abs_shap\": ["));
    for (int c = 0; c < k; c++) {
        TRIBE_TRY(tribe_sbuf_add(&b, c ? ", [" : "["));
        for (int j = 0; j < m; j++)
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s%.9g", j ? ", " : "", dr->mean_abs[(size_t)c * m + j]));
        TRIBE_TRY(tribe_sbuf_add(&b, "]"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "], \"gain\": ["));
    for (int j = 0; j < m; j++)
        TRIBE_TRY(tribe_sbuf_printf(&b, "%s%.9g", j ? ", " : "", dr->gain[j]));
    TRIBE_TRY(tribe_sbuf_printf(&b, "], \"rows\": %lld}", (long long)dr->rows));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* Not collective. The rows of this rank's block in a driver sample of about
 * `want` customers (every row when want <= 0 or >= n_global): global row g
 * is in it when tribe_rng_unif(seed, stream, g) < want / n_global, so the
 * sample does not depend on the rank count. Their local indices into
 * *rows[*count] and their model columns into *x[*count][m] (caller frees
 * both). Errors: NOMEM. */
static tribe_status sample_model_rows(const tribe_table *t, const int *cols, int m, uint64_t seed, uint64_t stream,
                                      int64_t want, float **x, int64_t **rows, int64_t *count)
{
    tribe_status st = TRIBE_OK;
    int64_t n = t->n_local, c = 0, cap = 0;
    double rate = (want <= 0 || want >= t->n_global) ? 1.0 : (double)want / (double)t->n_global;
    for (int64_t i = 0; i < n; i++) {
        if (rate < 1.0 && tribe_rng_unif(seed, stream, (uint64_t)(t->offset + i)) >= rate)
            continue;
        if (c == cap) { /* grows with the sample, not with the block */
            cap = cap ? 2 * cap : 4096;
            TRIBE_TRY(tribe_realloc((void **)rows, (size_t)cap * sizeof **rows));
        }
        (*rows)[c++] = i;
    }
    TRIBE_TRY(tribe_alloc((void **)x, ((size_t)c * (size_t)m + 1) * sizeof **x));
    for (int64_t r = 0; r < c; r++)
        for (int j = 0; j < m; j++)
            (*x)[(size_t)r * m + j] = t->x[(size_t)(*rows)[r] * t->d + cols[j]];
    *count = c;
cleanup:
    return st;
}

/* Collective. Segment drivers (docs/gbdt.md): a softmax GBDT learns the
 * segment label from the RAW model columns (NaN stays missing), so SHAP
 * values are in the units a marketer knows rather than in z-scores; TreeSHAP
 * on a sample chosen by global row index (job key drivers.sample_size) gives
 * mean |SHAP| per feature per segment, segment s read off the class-s
 * output. The model, the sample and the exact sums make every number
 * independent of the rank and thread counts.
 * Memory: the GBDT holds ~(2m + 33 + 24k) bytes a training row beside the
 * m-float copy, so it trains on a sample of drivers.train_rows customers
 * (by global row index, indexed in the sample by an exclusive scan so the
 * sample's order and numbering do not depend on the split). */
static tribe_status drivers_fit(tribe_par *par, const tribe_job *job, const tribe_table *t, const int *cols, int m,
                                const int32_t *label, int k, drivers *dr)
{
    tribe_status st = TRIBE_OK;
    float *x = NULL;
    double *y = NULL, *phi = NULL, *ma = NULL, *g = NULL;
    int32_t *ls = NULL;
    int64_t *cnt = NULL;
    tribe_gbdt_model *gm = NULL;
    int64_t *rows = NULL, nt = 0, t_off = 0, t_glob = 0;
    TRIBE_TRY(sample_model_rows(t, cols, m, job->seed, TRIBE_STREAM_DRIVERS_TRAIN, job->drivers.train_rows, &x, &rows,
                                &nt));
    TRIBE_TRY(tribe_par_exscan_i64(par, nt, &t_off, &t_glob));
    TRIBE_TRY(tribe_alloc((void **)&y, ((size_t)nt + 1) * sizeof *y));
    for (int64_t r = 0; r < nt; r++)
        y[r] = label[rows[r]];
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_SOFTMAX;
    cfg.n_class = k;
    cfg.n_rounds = job->drivers.n_rounds;
    cfg.max_leaves = job->drivers.max_leaves;
    cfg.learning_rate = job->drivers.learning_rate;
    cfg.seed = job->seed;
    /* Small inputs (tests, pilots) must still train: at most 20 rows a leaf,
     * fewer when there are fewer than 80 customers a segment. */
    cfg.min_samples_leaf = t_glob / (4 * (int64_t)k);
    if (cfg.min_samples_leaf > 20)
        cfg.min_samples_leaf = 20;
    if (cfg.min_samples_leaf < 1)
        cfg.min_samples_leaf = 1;
    tribe_rows trows;
    TRIBE_TRY(tribe_rows_init(par, nt, t_off, t_glob, &trows));
    TRIBE_TRY(tribe_gbdt_fit(&(tribe_dmat){&trows, x, m}, y, NULL, &cfg, &gm));
    free(x);
    free(y);
    free(rows);
    x = NULL;
    y = NULL;
    rows = NULL;

    /* The TreeSHAP sample, from every customer (not only the training ones). */
    int64_t ns = 0;
    TRIBE_TRY(sample_model_rows(t, cols, m, job->seed, TRIBE_STREAM_DRIVERS_SAMPLE, job->drivers.sample_size, &x,
                                &rows, &ns));
    TRIBE_TRY(tribe_alloc((void **)&ls, ((size_t)ns + 1) * sizeof *ls));
    for (int64_t r = 0; r < ns; r++)
        ls[r] = label[rows[r]];
    TRIBE_TRY(tribe_calloc((void **)&phi, (size_t)ns * (size_t)k * ((size_t)m + 1) + 1, sizeof *phi));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_shap(gm, x, ns, phi)));
    TRIBE_TRY(tribe_calloc((void **)&ma, (size_t)k * (size_t)k * (size_t)m + 1, sizeof *ma));
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)k + 1, sizeof *cnt));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_shap_mean_abs(par, phi, ns, k, m, ls, k, ma, cnt)));
    TRIBE_TRY(tribe_calloc((void **)&dr->mean_abs, (size_t)k * (size_t)m + 1, sizeof *dr->mean_abs));
    dr->rows = 0;
    for (int c = 0; c < k; c++) {
        dr->rows += cnt[c];
        memcpy(dr->mean_abs + (size_t)c * m, ma + ((size_t)c * k + c) * m, (size_t)m * sizeof *ma);
    }
    /* Global importance: every class's trees, summed in class order. */
    TRIBE_TRY(tribe_calloc((void **)&g, (size_t)k * (size_t)m + 1, sizeof *g));
    TRIBE_TRY(tribe_calloc((void **)&dr->gain, (size_t)m + 1, sizeof *dr->gain));
    tribe_gbdt_importance_gain(gm, g);
    for (int c = 0; c < k; c++)
        for (int j = 0; j < m; j++)
            dr->gain[j] += g[(size_t)c * m + j];
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm, &dr->json)));
    TRIBE_INFO("segment drivers: %d trees trained on %lld customers, TreeSHAP on %lld rows", gm->n_trees,
               (long long)t_glob, (long long)dr->rows);
cleanup:
    tribe_gbdt_model_destroy(&gm);
    free(x);
    free(y);
    free(phi);
    free(ma);
    free(g);
    free(ls);
    free(cnt);
    free(rows);
    return st;
}


#define LTV_MODELS 3
static const char *const LTV_MODEL_NAMES[LTV_MODELS] = {"gbdt", "bgnbd_gamma_gamma", "past_spend_rate"};
static const char *const LTV_TARGET_COLS[5] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T",
                                               "repeat_mean_spend"};

/* Lifetime value: what the run hands to results.h5, the plan and the report. */
typedef struct {
    float *pred;            /* [n_local] of the main input */
    double metrics[LTV_MODELS * 4];
    char *json;             /* the final GBDT */
    double *seg_mean, *seg_median, *seg_total; /* [k] */
    char *report_json;      /* ", \"ltv\": {...}" (rank 0) */
} ltv_result;

static void ltv_free(ltv_result *l)
{
    free(l->pred);
    free(l->json);
    free(l->seg_mean);
    free(l->seg_median);
    free(l->seg_total);
    free(l->report_json);
    *l = (ltv_result){0};
}

/* A window of the temporal split: features of customers.h5 (the model
 * columns, matched by name, raw) and its target table. */
typedef struct {
    const char *feat_path, *target_path;
    int64_t n_local, offset, n_global; /* this rank's block of the window's customers */
    float *x;          /* [n_local][m] */
    double *col[5];    /* target columns, LTV_TARGET_COLS order */
    double *rate[2];   /* test window: monetary, tenure_days (NaN as 0) for the spend-rate baseline, or NULL */
    int64_t cutoff_day; /* from the ledger; -1 without a cutoff, INT64_MIN without a ledger */
    int64_t horizon_days;
} ltv_window;

static void ltv_window_free(ltv_window *w)
{
    free(w->x);
    for (int c = 0; c < 5; c++)
        free(w->col[c]);
    free(w->rate[0]);
    free(w->rate[1]);
    *w = (ltv_window){0};
}

/* The integer `key` of a ledger JSON (tribe_ledger_to_json's layout), or
 * `dflt` when there is no ledger or no such key. */
static int64_t ledger_int(const char *ledger, const char *key, int64_t dflt)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = ledger ? strstr(ledger, pat) : NULL;
    if (!p)
        return dflt;
    p += strlen(pat);
    char *end = NULL;
    long long v = strtoll(p, &end, 10);
    return end == p ? dflt : (int64_t)v;
}

/* Collective (the reads). Bad input is INPUT (exit 3) naming the file(s)
 * and, for a row, the customer id: ids that differ between the two files, a
 * missing column, a future_spend that is NaN/inf (or < 0 unless `signed_ok`),
 * a target made at another cutoff. The first bad customer of the lowest rank
 * is named once the caller agrees. With `rate`, also the spend-rate
 * baseline's columns (w->rate, left NULL when the features lack them). */
static tribe_status ltv_window_read(tribe_par *par, const char *key, const char *feat, const char *target,
                                    const char *const *names, int m, int signed_ok, int rate, ltv_window *w)
{
    tribe_status st = TRIBE_OK;
    char *ledger = NULL;
    tribe_table *f = NULL, *tg = NULL; /* read whole, kept only as the arrays LTV reads */
    w->feat_path = feat;
    w->target_path = target;
    TRIBE_TRY(tribe_store_read_customers(par, feat, &f, &ledger));
    w->cutoff_day = ledger_int(ledger, "cutoff_day", INT64_MIN);
    w->horizon_days = ledger_int(ledger, "horizon_days", 0);
    /* every rank read the same ledger: no agreement needed before the next read */
    if (w->cutoff_day == -1)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                             "%s: ingested without --cutoff; '%s' needs a file from 'tribe ingest --cutoff DATE --horizon H'",
                             feat, key));
    free(ledger);
    ledger = NULL;
    TRIBE_TRY(tribe_store_read_customers(par, target, &tg, &ledger));
    int64_t n = f->n_local;
    w->n_local = n;
    w->offset = f->offset;
    w->n_global = f->n_global;
    if (tg->n_global != f->n_global)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                             "%s: its %lld customers are not the %lld of %s (ingest both with the same --cutoff)",
                             target, (long long)tg->n_global, (long long)f->n_global, feat));
    for (int64_t i = 0; i < n; i++)
        if (tg->id[i] != f->id[i])
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                                 "%s: its customers are not those of %s: customer %lld where the features have "
                                 "customer %lld (ingest both with the same --cutoff)",
                                 target, feat, (long long)tg->id[i], (long long)f->id[i]));
    int64_t tcut = ledger_int(ledger, "cutoff_day", INT64_MIN);
    if (w->cutoff_day != INT64_MIN && tcut != INT64_MIN && tcut != w->cutoff_day) {
        char a[11] = "none", b[11] = "none";
        if (w->cutoff_day >= 0)
            tribe_format_day(w->cutoff_day, a);
        if (tcut >= 0)
            tribe_format_day(tcut, b);
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: made at cutoff %s, but %s at cutoff %s (ingest both with the same --cutoff)",
                             target, b, feat, a));
    }
    TRIBE_TRY(tribe_alloc((void **)&w->x, ((size_t)n * (size_t)m + 1) * sizeof *w->x));
    for (int j = 0; j < m; j++) {
        int c = tribe_table_feature(f, names[j]);
        if (c < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (a model column of the job)", feat, names[j]);
            goto cleanup;
        }
        for (int64_t i = 0; i < n; i++)
            w->x[(size_t)i * m + j] = f->x[(size_t)i * f->d + c];
    }
    for (int c = 0; c < 5; c++) {
        int tc = tribe_table_feature(tg, LTV_TARGET_COLS[c]);
        if (tc < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (not a tribe ingest --cutoff target file?)",
                            target, LTV_TARGET_COLS[c]);
            goto cleanup;
        }
        TRIBE_TRY(tribe_alloc((void **)&w->col[c], ((size_t)n + 1) * sizeof *w->col[c]));
        for (int64_t i = 0; i < n; i++) {
            float v = tg->x[(size_t)i * tg->d + tc];
            /* future_spend must be a number: NaN is what ingest writes without
             * a cutoff, and guessing 0 would train on made-up zeros. */
            if (c == 0 && (!isfinite(v) || (!signed_ok && v < 0)))
                TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: future_spend of customer %lld is %g%s", target,
                                     (long long)tg->id[i], (double)v,
                                     isnan(v) ? " (a target file made without --cutoff?)"
                                              : isfinite(v) ? " (< 0: the objective needs spend >= 0)" : ""));
            w->col[c][i] = isnan(v) ? 0.0 : (double)v; /* mbar is 0/NaN without repeats: unused then */
        }
    }
    {
        int cm = tribe_table_feature(f, "monetary"), ct = tribe_table_feature(f, "tenure_days");
        for (int r = 0; r < 2 && rate && cm >= 0 && ct >= 0; r++) {
            TRIBE_TRY(tribe_alloc((void **)&w->rate[r], ((size_t)n + 1) * sizeof *w->rate[r]));
            for (int64_t i = 0; i < n; i++) {
                float v = f->x[(size_t)i * f->d + (r ? ct : cm)];
                w->rate[r][i] = isfinite(v) ? v : 0.0;
            }
        }
    }
cleanup:
    free(ledger);
    tribe_table_destroy(&f);
    tribe_table_destroy(&tg);
    return st;
}

/* The two windows must be what docs/ltv.md asks: made with --cutoff and the
 * job's horizon, the test window starting no earlier than the train
 * window's target ends (else the score would use spend the model trained on).
 * Files without a ledger (not from tribe ingest) are not checked.
 * Not collective (every rank has the ledgers). */
static tribe_status ltv_windows_check(const tribe_job *job, const ltv_window *tr, const ltv_window *te)
{
    const ltv_window *w[2] = {tr, te};
    for (int k = 0; k < 2; k++) {
        if (w[k]->cutoff_day < 0) /* no ledger (checked in ltv_window_read otherwise) */
            continue;
        if ((double)w[k]->horizon_days != job->ltv.horizon_days)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: ingested with --horizon %lld, but 'ltv.horizon_days' = %g",
                              w[k]->feat_path, (long long)w[k]->horizon_days, job->ltv.horizon_days);
    }
    if (tr->cutoff_day >= 0 && te->cutoff_day >= 0 && te->cutoff_day < tr->cutoff_day + tr->horizon_days) {
        char a[11], b[11], c[11];
        tribe_format_day(tr->cutoff_day, a);
        tribe_format_day(te->cutoff_day, b);
        tribe_format_day(tr->cutoff_day + tr->horizon_days, c);
        return tribe_fail(TRIBE_ERR_INPUT,
                          "%s: cutoff %s is before the end of the train window (%s: cutoff %s + %lld days = %s): "
                          "the test target would overlap the training target",
                          te->feat_path, b, tr->feat_path, a, (long long)tr->horizon_days, c);
    }
    return TRIBE_OK;
}

/* st unchanged, its message prefixed with "ltv: <what> <file>[ + <file2>]: "
 * so a fit's error says which window's data it is about. */
static tribe_status ltv_blame(tribe_status st, const char *what, const char *file, const char *file2)
{
    if (st == TRIBE_OK)
        return st;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", tribe_errmsg());
    return tribe_fail(st, "ltv: %s %s%s%s: %s", what, file, file2 ? " + " : "", file2 ? file2 : "", msg);
}

/* Collective. The GBDT of future spend on the rows of nw windows stacked in
 * order (tribe_gbdt_fit_blocks: window w's row i has global index = rows of
 * the windows before + i, whatever the rank count). ltv.valid_fraction of
 * the rows, chosen by that index (stream 204), are held out for early
 * stopping. An error of the fit is prefixed with the windows' files. */
static tribe_status ltv_gbdt(tribe_par *par, const tribe_job *job, const ltv_window *const *w, int nw, int m,
                             tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    uint8_t *valid[2] = {NULL, NULL};
    tribe_gbdt_block blk[2];
    tribe_rows wrows[2];
    int64_t before = 0;
    for (int k = 0; k < nw && k < 2; k++) {
        int64_t n = w[k]->n_local, off = w[k]->offset;
        TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&valid[k], (size_t)n + 1)));
        for (int64_t i = 0; i < n; i++)
            valid[k][i] = tribe_rng_unif(job->seed, TRIBE_STREAM_LTV_VALID, (uint64_t)(before + off + i)) <
                          job->ltv.valid_fraction;
        TRIBE_TRY(tribe_rows_init(par, n, off, w[k]->n_global, &wrows[k]));
        blk[k] = (tribe_gbdt_block){{&wrows[k], w[k]->x, m}, w[k]->col[0], valid[k]};
        before += w[k]->n_global;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = strcmp(job->ltv.objective, "poisson") == 0   ? TRIBE_GBDT_POISSON
                    : strcmp(job->ltv.objective, "squared") == 0 ? TRIBE_GBDT_SQUARED
                                                                 : TRIBE_GBDT_TWEEDIE;
    cfg.n_rounds = job->ltv.n_rounds;
    cfg.learning_rate = job->ltv.learning_rate;
    cfg.max_leaves = job->ltv.max_leaves;
    cfg.early_stopping_rounds = job->ltv.early_stopping_rounds;
    cfg.seed = job->seed;
    st = ltv_blame(tribe_gbdt_fit_blocks(blk, nw < 2 ? nw : 2, &cfg, out), "the GBDT on", w[0]->feat_path,
                   nw > 1 ? w[1]->feat_path : NULL);
cleanup:
    free(valid[0]);
    free(valid[1]);
    return st;
}

/* Collective. Lifetime value (docs/ltv.md): on the honest split (features
 * as of c1 -> spend in (c1, c1 + h]; evaluated on the test file, features as
 * of c2 = c1 + h -> spend in (c2, c2 + h]) the GBDT, BG/NBD + Gamma-Gamma
 * (fitted on the train window's x, t_x, T, mbar; predicting each test
 * customer from their own) and the past spend rate are scored; then the
 * GBDT is refit on all labelled history, the rows of both windows stacked
 * (a customer once per window), and predicts the next horizon for every
 * customer of the job's input. */
static tribe_status ltv_fit(tribe_par *par, const tribe_job *job, const tribe_table *t, const int *cols,
                            const char *const *names, int m, const int32_t *label, int k, ltv_result *lr)
{
    tribe_status st = TRIBE_OK;
    ltv_window tr = {0}, te = {0};
    tribe_gbdt_model *gm = NULL;
    double *pred = NULL;
    float *xt = NULL;
    double h = job->ltv.horizon_days;
    int signed_ok = strcmp(job->ltv.objective, "squared") == 0;
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.train", job->ltv.train, job->ltv.train_target, names, m, signed_ok, 0, &tr)));
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.test", job->ltv.test, job->ltv.test_target, names, m, signed_ok, 1, &te)));
    TRIBE_TRY(ltv_windows_check(job, &tr, &te));
    tribe_rows tr_rows, te_rows;
    TRIBE_TRY(tribe_rows_init(par, tr.n_local, tr.offset, tr.n_global, &tr_rows));
    TRIBE_TRY(tribe_rows_init(par, te.n_local, te.offset, te.n_global, &te_rows));
    const ltv_window *both[2] = {&tr, &te};
    int64_t n = te.n_local;
    TRIBE_TRY(tribe_alloc((void **)&pred, ((size_t)n + 1) * sizeof *pred));

    /* 1. GBDT fitted on the train window, scored on the test window. */
    TRIBE_TRY(ltv_gbdt(par, job, both, 1, m, &gm));
    tribe_gbdt_predict(gm, te.x, n, pred);
    for (int64_t i = 0; i < n; i++)
        pred[i] = fmax(pred[i], 0.0);
    tribe_clv_metrics met;
    TRIBE_TRY(tribe_clv_metrics_compute(&te_rows, pred, te.col[0], &met));
    double *row = lr->metrics;
    row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    tribe_gbdt_model_destroy(&gm);

    /* 2. BG/NBD + Gamma-Gamma, fitted on the train window. */
    {
        tribe_bgnbd bg;
        tribe_gammagamma gg;
        tribe_clv_fit_info info;
        st = tribe_bgnbd_fit(&tr_rows, tr.col[1], tr.col[2], tr.col[3], NULL, &bg, &info);
        if (st == TRIBE_OK)
            st = tribe_gammagamma_fit(&tr_rows, tr.col[1], tr.col[4], NULL, &gg, &info);
        TRIBE_TRY(ltv_blame(st, "the BG/NBD + Gamma-Gamma baseline on", job->ltv.train_target, NULL));
        tribe_clv_predict(&bg, &gg, te.col[1], te.col[2], te.col[3], te.col[4], n, h, 0.0, pred);
        /* NaN (a == 1, a diverging series, q <= 1) would poison the metrics:
         * such a customer is predicted 0 and counted in the log. */
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(pred[i])) {
                pred[i] = 0;
                bad++;
            }
        if (bad)
            TRIBE_WARN("ltv: BG/NBD gave no finite prediction for %lld local customers (set to 0)", (long long)bad);
        TRIBE_TRY(tribe_clv_metrics_compute(&te_rows, pred, te.col[0], &met));
        row = lr->metrics + 4;
        row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    }

    /* 3. The past spend rate carried forward (monetary / tenure_days). */
    {
        if (!te.rate[0]) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: the past-spend-rate baseline needs 'monetary' and 'tenure_days'",
                            job->ltv.test);
            goto cleanup;
        }
        tribe_clv_rate_baseline(te.rate[0], te.rate[1], n, h, pred);
        TRIBE_TRY(tribe_clv_metrics_compute(&te_rows, pred, te.col[0], &met));
        row = lr->metrics + 8;
        row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    }
    for (int i = 0; i < LTV_MODELS; i++)
        TRIBE_INFO("ltv %-18s MAE %.4g RMSE %.4g R2 %.4f lift %.3f", LTV_MODEL_NAMES[i], lr->metrics[4 * i],
                   lr->metrics[4 * i + 1], lr->metrics[4 * i + 2], lr->metrics[4 * i + 3]);

    /* 4. Refit on all labelled history (train rows then test rows); predict
     *    for the job's customers from their features at the input's end. */
    TRIBE_TRY(ltv_gbdt(par, job, both, 2, m, &gm));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm, &lr->json)));
    {
        /* In blocks: the model columns of LTV_BLOCK customers at a time. */
        enum { LTV_BLOCK = 65536 };
        int64_t nl = t->n_local;
        TRIBE_TRY(tribe_alloc((void **)&xt, (size_t)LTV_BLOCK * (size_t)m * sizeof *xt));
        free(pred);
        pred = NULL;
        TRIBE_TRY(tribe_alloc((void **)&pred, (size_t)LTV_BLOCK * sizeof *pred));
        TRIBE_TRY(tribe_alloc((void **)&lr->pred, ((size_t)nl + 1) * sizeof *lr->pred));
        for (int64_t i0 = 0; i0 < nl; i0 += LTV_BLOCK) {
            int64_t nb = nl - i0 < LTV_BLOCK ? nl - i0 : LTV_BLOCK;
            for (int64_t i = 0; i < nb; i++)
                for (int j = 0; j < m; j++)
                    xt[(size_t)i * m + j] = t->x[(size_t)(i0 + i) * t->d + cols[j]];
            tribe_gbdt_predict(gm, xt, nb, pred);
            for (int64_t i = 0; i < nb; i++)
                lr->pred[i0 + i] = (float)fmax(pred[i], 0.0); /* squared loss may go below 0 */
        }
        TRIBE_TRY(tribe_calloc((void **)&lr->seg_mean, (size_t)k + 1, sizeof *lr->seg_mean));
        TRIBE_TRY(tribe_calloc((void **)&lr->seg_median, (size_t)k + 1, sizeof *lr->seg_median));
        TRIBE_TRY(tribe_calloc((void **)&lr->seg_total, (size_t)k + 1, sizeof *lr->seg_total));
        TRIBE_TRY(tribe_par_agree(par, tribe_xstats_means(par, lr->pred, nl, 1, 1, label, k, 0, NULL, lr->seg_total,
                                                          lr->seg_mean)));
        TRIBE_TRY(tribe_par_agree(par, tribe_xstats_medians(par, lr->pred, nl, 1, 1, label, k, 0, lr->seg_median)));
    }
    TRIBE_INFO("ltv: GBDT refit on %s + %s (%lld rows, %d trees) predicted %g days for %lld customers", job->ltv.train,
               job->ltv.test, (long long)(tr.n_global + te.n_global), gm->n_trees, h, (long long)t->n_global);
cleanup:
    ltv_window_free(&tr);
    ltv_window_free(&te);
    tribe_gbdt_model_destroy(&gm);
    free(pred);
    free(xt);
    return st;
}

static tribe_status json_num(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%.9g", v) : tribe_sbuf_add(b, "null");
}

/* The run record's "ltv" object, read by the report's "Lifetime value"
 * section: models, metrics[model][mae, rmse, r2, lift], per-segment
 * mean/median/total predicted value. */
static tribe_status ltv_report_json(const ltv_result *lr, const tribe_job *job, int k, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(tribe_sbuf_printf(&b, ", \"ltv\": {\"horizon_days\": %.9g, \"objective\": ", job->ltv.horizon_days));
    TRIBE_TRY(tribe_sbuf_json_str(&b, job->ltv.objective));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"models\": ["));
    for (int i = 0; i < LTV_MODELS; i++) {
        TRIBE_TRY(tribe_sbuf_add(&b, i ? ", " : ""));
        TRIBE_TRY(tribe_sbuf_json_str(&b, LTV_MODEL_NAMES[i]));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "], \"metrics\": ["));
    for (int i = 0; i < LTV_MODELS; i++) {
        TRIBE_TRY(tribe_sbuf_add(&b, i ? ", [" : "["));
        for (int c = 0; c < 4; c++) {
            TRIBE_TRY(tribe_sbuf_add(&b, c ? ", " : ""));
            TRIBE_TRY(json_num(&b, lr->metrics[4 * i + c]));
        }
        TRIBE_TRY(tribe_sbuf_add(&b, "]"));
    }
    const double *v[3] = {lr->seg_mean, lr->seg_median, lr->seg_total};
    const char *key[3] = {"segment_mean", "segment_median", "segment_total"};
    for (int a = 0; a < 3; a++) {
        TRIBE_TRY(tribe_sbuf_printf(&b, "], \"%s\": [", key[a]));
        for (int c = 0; c < k; c++) {
            TRIBE_TRY(tribe_sbuf_add(&b, c ? ", " : ""));
            TRIBE_TRY(json_num(&b, v[a][c]));
        }
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "]}"));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

static void print_summary(const tribe_job *job, const tribe_segments *s, const tribe_persona *p, int64_t n)
{
    printf("tribe run %s: %lld customers in %d segments (silhouette %.3f +/- %.3f)\n", job->run_id, (long long)n,
           s->k, s->silhouette, s->silhouette_ci);
    printf("  %-3s %-22s %10s %7s %8s  %s\n", "id", "segment", "customers", "share", "revenue", "persona");
    for (int c = 0; c < s->k; c++) {
        char rev[16] = "       -"; /* no monetary column: no revenue share */
        if (isfinite(s->seg[c].revenue_share))
            snprintf(rev, sizeof rev, "%7.1f%%", 100 * s->seg[c].revenue_share);
        printf("  %-3d %-22s %10lld %6.1f%% %s  %s\n", c, s->seg[c].name, (long long)s->seg[c].size,
               100 * s->seg[c].share, rev, p ? p[c].name : "");
    }
    printf("results: %s/{results.h5,personas.json,segments.csv,campaign_plan.csv,report.html}\n", job->output);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_job *job = NULL;
    tribe_table *t = NULL;
    tribe_scaler *scaler = NULL;
    tribe_segments *segs = NULL;
    tribe_projection *proj = NULL;
    tribe_persona_provider *pp = NULL;
    tribe_persona *personas = NULL;
    tribe_campaign_plan *plan = NULL;
    tribe_persona_image *images = NULL;
    int n_images = 0; /* segments the images array covers, for its destroy */
    char *ijson = NULL;
    drivers dr = {0};
    ltv_result lv = {0};
    run_extras ex = {0};
    char *ledger = NULL, *tjson = NULL, *pjson = NULL, *run_json = NULL, *mjson = NULL;
    int *cols = NULL, *logf = NULL, *perm = NULL;
    int32_t *label = NULL, *log32 = NULL;
    float *z = NULL, *dist = NULL;
    double *best = NULL, *sweep = NULL;
    tribe_ksweep *ks = NULL;
    char *ksjson = NULL;
    const char **model_names = NULL;
    char staging[4096] = "", path[4096], hash[17];
    int m = 0, best_k = 0, n_sweep = 0;
    double sil_seconds = 0;
    int rank = tribe_par_rank(par);
    timings tm = {.mark = tribe_now()};

    if (argc != 2)
        return tribe_cli_usage("run", "expects exactly one JOB.json");
    st = tribe_par_agree(par, tribe_job_load(argv[1], &job));
    if (st != TRIBE_OK)
        goto cleanup;
    {
        /* Record the input by absolute path: `tribe export results.h5` finds
         * the customers through it from any working directory. */
        char *abs = realpath(job->input, NULL);
        if (abs) {
            free(job->input);
            job->input = abs;
        }
    }
    if (rank == 0)
        fprintf(stderr, "tribe run: ranks=%d threads=%d job=%s run_id=%s\n", tribe_par_size(par),
                omp_get_max_threads(), job->path, job->run_id);

    /* The output directory must be writable before any work is done. */
    if (rank == 0) {
        st = tribe_mkdirs(job->output);
        if (st == TRIBE_OK)
            st = tribe_fmt(staging, sizeof staging, "%s/.staging-%s", job->output, job->run_id);
        if (st == TRIBE_OK) {
            remove_dir(staging);
            st = tribe_mkdirs(staging);
        }
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_bcast(par, staging, sizeof staging, 0));

    TRIBE_TRY(tribe_store_read_customers(par, job->input, &t, &ledger));
    TRIBE_TRY(tribe_table_hash(par, t, hash));
    lap(&tm, "read");
    TRIBE_INFO("read %lld customers x %d features from %s", (long long)t->n_global, t->d, job->input);

    TRIBE_TRY(pick_columns(job, t, &cols, &logf, &m));
    TRIBE_TRY(tribe_par_agree(par, tribe_scaler_fit(par, t, cols, m, logf, &scaler)));
    TRIBE_TRY(tribe_par_agree(par, tribe_scaler_apply_table(scaler, t, &z)));
    lap(&tm, "transform");

    /* K: fixed, or the sweep's recommendation (tribe_ksweep_run). */
    {
        int k_lo = job->kmeans.k ? job->kmeans.k : job->kmeans.k_min;
        int k_hi = job->kmeans.k ? job->kmeans.k : job->kmeans.k_max;
        if (k_lo > t->n_global) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: K=%d but %s holds only %lld customers", job->path, k_lo,
                            job->input, (long long)t->n_global);
            goto cleanup;
        }
        if (k_hi > t->n_global)
            k_hi = (int)t->n_global;
        tribe_kmeans_cfg kc;
        tribe_kmeans_cfg_default(&kc);
        kc.seed = job->seed;
        kc.batch_size = job->kmeans.batch_size;
        kc.max_steps = job->kmeans.max_steps;
        kc.init_sample = job->kmeans.init_sample;
        kc.tol = job->kmeans.tol;
        kc.n_init = job->kmeans.n_init;
        kc.lloyd_passes = job->kmeans.lloyd_passes;
        kc.inertia_tol = job->kmeans.inertia_tol;
        kc.init = job->kmeans.init && !strcmp(job->kmeans.init, "kmeans||") ? TRIBE_KMEANS_INIT_PARALLEL
                                                                            : TRIBE_KMEANS_INIT_PP;
        if (job->kmeans.init && !strcmp(job->kmeans.init, "kmeans++-lloyd"))
            kc.init = TRIBE_KMEANS_INIT_PP_LLOYD;
        kc.algorithm = job->kmeans.algorithm && !strcmp(job->kmeans.algorithm, "lloyd") ? TRIBE_KMEANS_LLOYD
                                                                                        : TRIBE_KMEANS_MINIBATCH;
        int64_t s = job->silhouette.sample_size > 0 ? job->silhouette.sample_size : k_lo != k_hi ? 2000 : 0;
        TRIBE_TRY(tribe_alloc((void **)&label, (size_t)(t->n_local + 1) * sizeof *label));
        TRIBE_TRY(tribe_alloc((void **)&dist, (size_t)(t->n_local + 1) * sizeof *dist));
        TRIBE_TRY(tribe_ksweep_run(par, z, t->n_local, t->offset, t->n_global, m, k_lo, k_hi, &kc, s, label, dist,
                                   &ks));
        best_k = ks->recommended_k;
        sil_seconds = ks->score_seconds;
        n_sweep = ks->n;
        TRIBE_TRY(tribe_calloc((void **)&best, (size_t)best_k * (size_t)m, sizeof *best));
        memcpy(best, tribe_ksweep_centroids(ks, best_k), (size_t)best_k * (size_t)m * sizeof *best);
        TRIBE_TRY(tribe_calloc((void **)&sweep, (size_t)n_sweep * TRIBE_RESULTS_SWEEP_COLS, sizeof *sweep));
        for (int i = 0; i < n_sweep; i++) {
            const tribe_ksweep_row *kr = &ks->row[i];
            double *row = sweep + (size_t)i * TRIBE_RESULTS_SWEEP_COLS;
            row[0] = kr->k;
            row[1] = kr->inertia;
            row[2] = kr->silhouette;
            row[3] = kr->silhouette_ci;
            row[4] = kr->silhouette_sq;
            row[5] = kr->ch;
            row[6] = kr->db;
            row[7] = kr->stability;
        }
        if (rank == 0)
            st = tribe_ksweep_json(ks, &ksjson);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    /* Split the K loop's time into fitting and silhouette scoring. */
    tm.mark += sil_seconds;
    lap(&tm, "kmeans");
    if (tm.n < 12)
        tm.t[tm.n++] = (stage_time){"silhouette", sil_seconds};

    /* Final assignment with the chosen centroids; ids by descending monetary. */
    tribe_kmeans_assign(z, t->n_local, m, best, best_k, label, dist);
    TRIBE_TRY(tribe_alloc((void **)&perm, (size_t)best_k * sizeof *perm));
    TRIBE_TRY(tribe_par_agree(par, tribe_kmeans_relabel(par, t, tribe_table_feature(t, "monetary"), best_k, m, best,
                                                        label, perm)));
    TRIBE_TRY(tribe_par_agree(par, tribe_segments_build(par, t, label, best_k, best, cols, m,
                                                        tribe_table_feature(t, "monetary"), &segs)));
    tribe_segments_name(segs);
    {
        double inertia = 0;
        tribe_xsum acc = 0;
        for (int64_t i = 0; i < t->n_local; i++) {
            acc += tribe_xsum_of((double)dist[i]);
            dist[i] = sqrtf(dist[i]);
        }
        TRIBE_TRY(tribe_par_sum_xsum(par, &acc, 1));
        inertia = tribe_xsum_value(acc);
        segs->inertia = inertia;
        for (int i = 0; i < n_sweep; i++)
            if (ks->row[i].k == best_k) {
                segs->silhouette = ks->row[i].silhouette;
                segs->silhouette_ci = ks->row[i].silhouette_ci;
            }
    }
    lap(&tm, "segments");
    if (job->projection.sample_size > 0) {
        tribe_rows rows;
        TRIBE_TRY(tribe_rows_init(par, t->n_local, t->offset, t->n_global, &rows));
        TRIBE_TRY(tribe_par_agree(par, tribe_projection_fit(&(tribe_dmat){&rows, z, m}, label,
                                                            job->projection.sample_size, job->seed, &proj)));
    }
    lap(&tm, "projection");
    TRIBE_TRY(run_extras_fit(par, job, z, t->n_local, t->offset, t->n_global, m, label, dist, best, best_k, &ex));
    /* Later stages read the raw table: the model-space copy goes. */
    free(z);
    z = NULL;
    lap(&tm, "beyond");
    if (job->drivers.enabled && best_k >= 2) {
        TRIBE_TRY(tribe_calloc((void **)&model_names, (size_t)m + 1, sizeof *model_names));
        for (int j = 0; j < m; j++)
            model_names[j] = t->names[cols[j]];
        TRIBE_TRY(drivers_fit(par, job, t, cols, m, label, best_k, &dr));
        /* Every rank holds the same mean |SHAP|: no agree needed. */
        TRIBE_TRY(tribe_segments_set_drivers(segs, best_k, m, model_names, dr.mean_abs));
        if (rank == 0)
            st = drivers_report_json(&dr, model_names, best_k, m, &dr.report_json);
        TRIBE_TRY(tribe_par_agree(par, st));
        lap(&tm, "drivers");
    } else if (job->drivers.enabled) {
        TRIBE_INFO("segment drivers skipped: one segment");
    }

    if (job->ltv.train) {
        if (!model_names)
            TRIBE_TRY(tribe_calloc((void **)&model_names, (size_t)m + 1, sizeof *model_names));
        for (int j = 0; j < m; j++)
            model_names[j] = t->names[cols[j]];
        TRIBE_TRY(tribe_par_agree(par, ltv_fit(par, job, t, cols, model_names, m, label, best_k, &lv)));
        /* The profiles behind the personas carry the predicted value too. */
        segs->ltv_horizon_days = job->ltv.horizon_days;
        for (int c = 0; c < best_k; c++) {
            segs->seg[c].ltv_mean = lv.seg_mean[c];
            segs->seg[c].ltv_median = lv.seg_median[c];
            segs->seg[c].ltv_total = lv.seg_total[c];
        }
        if (rank == 0)
            st = ltv_report_json(&lv, job, best_k, &lv.report_json);
        TRIBE_TRY(tribe_par_agree(par, st));
        lap(&tm, "ltv");
    }

    /* Rank 0 writes what the marketer reads. */
    if (rank == 0) {
        st = tribe_persona_create(job, &pp);
        if (st == TRIBE_OK)
            st = tribe_personas_write(pp, segs, &personas);
        if (st == TRIBE_OK)
            st = tribe_personas_to_json(personas, segs->k, segs, &pjson);
        if (st == TRIBE_OK)
            st = tribe_fmt(path, sizeof path, "%s/personas.json", staging);
        if (st == TRIBE_OK)
            st = tribe_write_file_atomic(path, pjson, strlen(pjson));
        if (st == TRIBE_OK)
            st = tribe_fmt(path, sizeof path, "%s/segments.csv", staging);
        if (st == TRIBE_OK)
            st = tribe_segments_csv(path, segs, personas, ex.out ? ex.out->count : NULL);
        if (st == TRIBE_OK)
            st = tribe_campaign_plan_build_ltv(segs, job->campaign.rules, job->campaign.n_rules, lv.seg_mean, &plan);
        if (st == TRIBE_OK)
            st = tribe_fmt(path, sizeof path, "%s/campaign_plan.csv", staging);
        if (st == TRIBE_OK)
            st = tribe_campaign_plan_csv(path, plan, segs->k);
        /* Optional images: a failure leaves a card without one, never the run. */
        if (st == TRIBE_OK)
            st = tribe_persona_images_from_job(job, segs, personas, &images);
        n_images = segs->k;
        if (st == TRIBE_OK && images)
            st = tribe_persona_images_json(images, segs, &ijson);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    lap(&tm, "personas");

    if (!model_names)
        TRIBE_TRY(tribe_calloc((void **)&model_names, (size_t)m + 1, sizeof *model_names));
    TRIBE_TRY(tribe_calloc((void **)&log32, (size_t)m + 1, sizeof *log32));
    for (int j = 0; j < m; j++) {
        model_names[j] = t->names[cols[j]];
        log32[j] = logf[j];
    }
    TRIBE_TRY(timings_json(&tm, &tjson));
    {
        const char *stage[12];
        for (int i = 0; i < tm.n; i++)
            stage[i] = tm.t[i].name;
        TRIBE_TRY(tribe_cli_rss_json(par, tm.n, stage, tm.rss, &mjson));
    }
    {
        tribe_results r = {0};
        r.run_id = job->run_id;
        r.input = job->input;
        r.input_hash = hash;
        r.job_spec = job->spec_json;
        r.ledger_json = ledger;
        r.timings_json = tjson;
        r.seed = job->seed;
        r.ranks = tribe_par_size(par);
        r.threads = omp_get_max_threads();
        r.n_global = t->n_global;
        r.offset = t->offset;
        r.n_local = t->n_local;
        r.id = t->id;
        r.label = label;
        r.distance = dist;
        r.segs = segs;
        r.m = m;
        r.model_columns = model_names;
        r.centroids = best;
        r.scaler_mean = scaler->mean;
        r.scaler_std = scaler->std;
        r.scaler_impute = scaler->impute;
        r.scaler_log1p = log32;
        r.n_sweep = n_sweep;
        r.sweep = sweep;
        r.sweep_recommended_k = ks->recommended_k;
        r.sweep_elbow_k = ks->elbow_k;
        r.sweep_stability_ari = ks->stability_ari;
        r.sweep_reason = ks->reason;
        r.proj = proj;
        r.drivers_json = dr.json;
        r.drivers_d = m;
        r.drivers_features = model_names;
        r.drivers_mean_abs_shap = dr.mean_abs;
        r.drivers_gain = dr.gain;
        r.drivers_rows = dr.rows;
        r.ltv = lv.pred;
        r.ltv_n_models = LTV_MODELS;
        r.ltv_models = LTV_MODEL_NAMES;
        r.ltv_metrics = lv.metrics;
        r.ltv_json = lv.json;
        r.ltv_seg_mean = lv.seg_mean;
        r.ltv_seg_median = lv.seg_median;
        r.ltv_seg_total = lv.seg_total;
        r.ltv_horizon_days = job->ltv.horizon_days;
        run_extras_results(&ex, job, &r);
        r.memory_json = mjson;
        TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/results.h5", staging));
        TRIBE_TRY(tribe_results_write(par, path, &r));
    }
    lap(&tm, "results");

    if (rank == 0) {
        free(tjson);
        tjson = NULL;
        st = timings_json(&tm, &tjson);
        size_t cap = 1024 + strlen(job->run_id) + strlen(job->input) + (ledger ? strlen(ledger) : 2) + strlen(tjson) +
                     (ijson ? strlen(ijson) : 0) +
                     (dr.report_json ? strlen(dr.report_json) : 0) + (lv.report_json ? strlen(lv.report_json) : 0) +
                     (ksjson ? strlen(ksjson) : 0) + (ex.report_json ? strlen(ex.report_json) : 0);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&run_json, cap);
        if (st == TRIBE_OK) {
            snprintf(run_json, cap,
                     "{\"run_id\": \"%s\", \"seed\": %llu, \"input\": \"%s\", \"input_hash\": \"%s\", "
                     "\"customers\": %lld, \"k\": %d, \"ranks\": %d, \"threads\": %d, \"silhouette\": %.4f, "
                     "\"ledger\": %s, \"timings\": %s%s%s%s%s%s%s}",
                     job->run_id, (unsigned long long)job->seed, job->input, hash, (long long)t->n_global, segs->k,
                     tribe_par_size(par), omp_get_max_threads(), segs->silhouette, ledger ? ledger : "{}", tjson,
                     ijson ? ", \"images\": " : "", ijson ? ijson : "", dr.report_json ? dr.report_json : "",
                     lv.report_json ? lv.report_json : "", ex.report_json ? ex.report_json : "",
                     ksjson ? ksjson : "");
            st = tribe_fmt(path, sizeof path, "%s/report.html", staging);
        }
        if (st == TRIBE_OK)
            st = tribe_report_html_full(path, segs, personas, proj, run_json, plan, images);
        if (st == TRIBE_OK)
            st = publish(staging, job->output);
        if (st == TRIBE_OK) {
            staging[0] = '\0';
            print_summary(job, segs, personas, t->n_global);
        }
    }
    TRIBE_TRY(tribe_par_agree(par, st));

cleanup:
    if (rank == 0 && staging[0] && st != TRIBE_OK)
        remove_dir(staging);
    tribe_job_destroy(&job);
    tribe_table_destroy(&t);
    tribe_scaler_destroy(&scaler);
    if (personas && segs)
        tribe_personas_destroy(&personas, segs->k);
    tribe_segments_destroy(&segs);
    tribe_projection_destroy(&proj);
    tribe_persona_provider_destroy(&pp);
    tribe_campaign_plan_destroy(&plan);
    tribe_persona_images_destroy(&images, n_images);
    free(ijson);
    drivers_free(&dr);
    ltv_free(&lv);
    run_extras_free(&ex);
    free(ledger);
    free(tjson);
    free(pjson);
    free(run_json);
    free(mjson);
    free(cols);
    free(logf);
    free(perm);
    free(label);
    free(log32);
    free(z);
    free(dist);
    tribe_ksweep_destroy(&ks);
    free(ksjson);
    free(best);
    free(sweep);
    free(model_names);
    return st;
}

const tribe_cli_cmd tribe_cmd_run = {"run", "run a segmentation job (JSON spec) on all ranks", USAGE, run};
