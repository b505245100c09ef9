/* Lifetime value on the temporal split (tribe/ltv.h, docs/ltv.md). */
#include "tribe/ltv.h"
#include "tribe/clv.h"
#include "tribe/date.h"
#include "tribe/gbdt.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/streams.h"
#include "tribe/xstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const TRIBE_LTV_MODEL_NAMES[TRIBE_LTV_MODELS] = {"gbdt", "gbdt_residual", "bgnbd_gamma_gamma", "blend",
                                                             "past_spend_rate"};
const char *const TRIBE_LTV_OBJECTIVES[3] = {"tweedie", "poisson", "squared"};
const char *const TRIBE_LTV_FEATURE_SETS[2] = {"transferable", "model_columns"};
static const char *const LTV_TARGET_COLS[5] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T",
                                               "repeat_mean_spend"};

void tribe_ltv_cfg_default(tribe_ltv_cfg *cfg)
{
    *cfg = (tribe_ltv_cfg){.objective = TRIBE_LTV_TWEEDIE, .n_rounds = 200, .learning_rate = 0.05, .max_leaves = 15,
                           .valid_fraction = 0.2, .early_stopping_rounds = 20, .n_boot = 200};
}

void tribe_ltv_destroy(tribe_ltv **lp)
{
    if (!lp || !*lp)
        return;
    tribe_ltv *l = *lp;
    free(l->pred);
    free(l->cand);
    free(l->seg_lo);
    free(l->seg_hi);
    free(l->model_json);
    free(l->resid_json);
    free(l->seg_mean);
    free(l->seg_median);
    free(l->seg_total);
    free(l->stack);
    free(l);
    *lp = NULL;
}


/* A window of the temporal split: customers.h5 and its target table (kept
 * whole: the classic fit and the transferable features read them), the
 * GBDT's inputs and the target. */
typedef struct {
    const char *feat_path, *target_path;
    tribe_rows rows;    /* the window's customers over ranks */
    tribe_table *f, *tg; /* the two files' tables */
    float *gx;          /* [rows.n_local][gm] the GBDT's inputs (features or model columns) */
    int gm;
    double *y;          /* future_spend */
    double *pc;         /* the classic CLV of each customer (cl; 0 where not finite) */
    double *yr;         /* y - pc: what the residual GBDT learns */
    double *rate[2];    /* test window: monetary, tenure_days (NaN as 0) for the spend-rate baseline, or NULL */
    tribe_ltv_classic cl; /* BG/NBD + Gamma-Gamma fitted on this window's own inputs */
    int64_t cutoff_day; /* from the ledger; -1 without a cutoff, INT64_MIN without a ledger */
    int64_t horizon_days, last_day; /* last_day: the data's last invoice day (INT64_MIN: unknown) */
} ltv_window;

static void ltv_window_free(ltv_window *w)
{
    tribe_table_destroy(&w->f);
    tribe_table_destroy(&w->tg);
    free(w->gx);
    free(w->y);
    free(w->pc);
    free(w->yr);
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

/* Not collective. The job's model columns of f, raw, into w->gx (the
 * GBDT's inputs with ltv.features = "model_columns"). INPUT when one is
 * missing. */
static tribe_status ltv_model_columns(ltv_window *w, const char *const *names, int m)
{
    const tribe_table *f = w->f;
    int64_t n = f->n_local;
    tribe_status st = tribe_alloc((void **)&w->gx, ((size_t)n * (size_t)m + 1) * sizeof *w->gx);
    if (st != TRIBE_OK)
        return st;
    w->gm = m;
    for (int j = 0; j < m; j++) {
        int c = tribe_table_feature(f, names[j]);
        if (c < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (a model column of the job)", w->feat_path,
                              names[j]);
        for (int64_t i = 0; i < n; i++)
            w->gx[(size_t)i * m + j] = f->x[(size_t)i * f->d + c];
    }
    return TRIBE_OK;
}

/* Not collective. w->y from the target's future_spend: INPUT naming the
 * customer when it is NaN/inf (or < 0 unless `signed_ok`); the BG/NBD
 * columns must be there (INPUT naming the column). */
static tribe_status ltv_target_read(ltv_window *w, int signed_ok)
{
    const tribe_table *tg = w->tg;
    int64_t n = tg->n_local;
    for (int c = 0; c < 5; c++)
        if (tribe_table_feature(tg, LTV_TARGET_COLS[c]) < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (not a tribe ingest --cutoff target file?)",
                              w->target_path, LTV_TARGET_COLS[c]);
    int fc = tribe_table_feature(tg, LTV_TARGET_COLS[0]);
    tribe_status st = tribe_alloc((void **)&w->y, ((size_t)n + 1) * sizeof *w->y);
    if (st != TRIBE_OK)
        return st;
    for (int64_t i = 0; i < n; i++) {
        char idb[TRIBE_ID_BUF];
        float v = tg->x[(size_t)i * tg->d + fc];
        /* future_spend must be a number: NaN is what ingest writes without a
         * cutoff, and guessing 0 would train on made-up zeros. */
        if (!isfinite(v) || (!signed_ok && v < 0))
            return tribe_fail(TRIBE_ERR_INPUT, "%s: future_spend of customer %s is %g%s", w->target_path,
                              tribe_table_id(tg, i, idb), (double)v,
                              isnan(v) ? " (a target file made without --cutoff?)"
                              : isfinite(v) ? " (< 0: the objective needs spend >= 0)" : "");
        w->y[i] = (double)v;
    }
    return TRIBE_OK;
}

/* Not collective. Checks that the target table tg has the customers of f
 * (same count, same ids in the same order), naming both files. */
static tribe_status ltv_same_customers(const tribe_table *f, const tribe_table *tg, const char *feat,
                                       const char *target, const char *hint)
{
    if (tg->n_global != f->n_global)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: its %lld customers are not the %lld of %s (%s)", target,
                          (long long)tg->n_global, (long long)f->n_global, feat, hint);
    for (int64_t i = 0; i < f->n_local && i < tg->n_local; i++)
        if (tg->id[i] != f->id[i]) {
            char a[TRIBE_ID_BUF], b[TRIBE_ID_BUF];
            return tribe_fail(TRIBE_ERR_INPUT,
                              "%s: its customers are not those of %s: customer %s where the features have "
                              "customer %s (%s)",
                              target, feat, tribe_table_id(tg, i, a), tribe_table_id(f, i, b), hint);
        }
    return TRIBE_OK;
}

/* Collective (the reads). Bad input is INPUT (exit 3) naming the file(s)
 * and, for a row, the customer id: ids that differ between the two files, a
 * missing column, a future_spend that is NaN/inf (or < 0 unless `signed_ok`),
 * a target made at another cutoff. The first bad customer of the lowest rank
 * is named once the caller agrees. With `rate`, also the spend-rate
 * baseline's columns (w->rate, left NULL when the features lack them). With
 * model columns (names, m > 0), w->gx holds them. */
static tribe_status ltv_window_read(tribe_par *par, const char *key, const char *feat, const char *target,
                                    const char *const *names, int m, int signed_ok, int rate, ltv_window *w)
{
    tribe_status st = TRIBE_OK;
    char *ledger = NULL;
    w->feat_path = feat;
    w->target_path = target;
    TRIBE_TRY(tribe_store_read_customers(par, feat, &w->f, &ledger));
    w->cutoff_day = ledger_int(ledger, "cutoff_day", INT64_MIN);
    w->horizon_days = ledger_int(ledger, "horizon_days", 0);
    w->last_day = ledger_int(ledger, "last_invoice_day", INT64_MIN);
    /* every rank read the same ledger: no agreement needed before the next read */
    if (w->cutoff_day == -1)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                             "%s: ingested without --cutoff; '%s' needs a file from 'tribe ingest --cutoff DATE --horizon H'",
                             feat, key));
    free(ledger);
    ledger = NULL;
    TRIBE_TRY(tribe_store_read_customers(par, target, &w->tg, &ledger));
    const tribe_table *f = w->f;
    int64_t n = f->n_local;
    TRIBE_TRY(tribe_rows_init(par, n, f->offset, f->n_global, &w->rows));
    TRIBE_TRY(ltv_same_customers(f, w->tg, feat, target, "ingest both with the same --cutoff"));
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
    if (m > 0)
        TRIBE_TRY(ltv_model_columns(w, names, m));
    TRIBE_TRY(ltv_target_read(w, signed_ok));
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
    return st;
}

/* The two windows must be what docs/ltv.md asks: made with --cutoff and the
 * job's horizon, the test window starting no earlier than the train
 * window's target ends (else the score would use spend the model trained on).
 * Files without a ledger (not from tribe ingest) are not checked.
 * Not collective (every rank has the ledgers). */
static tribe_status ltv_windows_check(const tribe_ltv_cfg *cfg, const ltv_window *tr, const ltv_window *te)
{
    const ltv_window *w[2] = {tr, te};
    for (int k = 0; k < 2; k++) {
        if (w[k]->cutoff_day < 0) /* no ledger (checked in ltv_window_read otherwise) */
            continue;
        if ((double)w[k]->horizon_days != cfg->horizon_days)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: ingested with --horizon %lld, but 'ltv.horizon_days' = %g",
                              w[k]->feat_path, (long long)w[k]->horizon_days, cfg->horizon_days);
        /* A window past the data's end has a censored target: its customers'
         * spend is cut short, and a model would learn (or be scored on) too
         * little spend. Ingest warns; here it is refused. */
        int64_t end = w[k]->cutoff_day + w[k]->horizon_days;
        if (w[k]->last_day != INT64_MIN && end > w[k]->last_day) {
            char a[11], b[11], c[11];
            tribe_format_day(w[k]->cutoff_day, a);
            tribe_format_day(end, b);
            tribe_format_day(w[k]->last_day, c);
            return tribe_fail(TRIBE_ERR_INPUT,
                              "%s: cutoff %s + horizon %lld days = %s runs past the data's last day %s: its "
                              "future_spend is censored (ingest with an earlier --cutoff)",
                              w[k]->feat_path, a, (long long)w[k]->horizon_days, b, c);
        }
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
 * stopping. An error of the fit is prefixed with the windows' files (the
 * last two: train and test, or a stacked window and train). */
static tribe_status ltv_gbdt(tribe_par *par, const tribe_ltv_cfg *lc, const ltv_window *const *w, int nw,
                             int resid, tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    uint8_t **valid = NULL;
    tribe_gbdt_block *blk = NULL;
    int64_t before = 0;
    st = tribe_calloc((void **)&valid, (size_t)nw + 1, sizeof *valid);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&blk, (size_t)nw + 1, sizeof *blk);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int k = 0; k < nw; k++) {
        int64_t n = w[k]->rows.n_local, off = w[k]->rows.offset;
        TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&valid[k], (size_t)n + 1)));
        for (int64_t i = 0; i < n; i++)
            valid[k][i] = tribe_rng_unif(lc->seed, TRIBE_STREAM_LTV_VALID, (uint64_t)(before + off + i)) <
                          lc->valid_fraction;
        blk[k] = (tribe_gbdt_block){{&w[k]->rows, w[k]->gx, w[k]->gm}, resid ? w[k]->yr : w[k]->y, valid[k]};
        before += w[k]->rows.n_global;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = resid                                        ? TRIBE_GBDT_SQUARED /* residuals are signed */
                    : lc->objective == TRIBE_LTV_POISSON         ? TRIBE_GBDT_POISSON
                    : lc->objective == TRIBE_LTV_SQUARED         ? TRIBE_GBDT_SQUARED
                                                                 : TRIBE_GBDT_TWEEDIE;
    cfg.n_rounds = lc->n_rounds;
    cfg.learning_rate = lc->learning_rate;
    cfg.max_leaves = lc->max_leaves;
    cfg.early_stopping_rounds = lc->early_stopping_rounds;
    cfg.seed = lc->seed;
    st = ltv_blame(tribe_gbdt_fit_blocks(blk, nw, &cfg, out), resid ? "the residual GBDT on" : "the GBDT on",
                   w[nw > 1 ? nw - 2 : 0]->feat_path, nw > 1 ? w[nw - 1]->feat_path : NULL);
cleanup:
    for (int k = 0; valid && k < nw; k++)
        free(valid[k]);
    free(valid);
    free(blk);
    return st;
}

/* Not collective. The classic CLV of every customer of tg (columns by
 * name; 0 where not finite, counted in *bad) into out[n_local]. */
static void ltv_classic_pred(const tribe_ltv_classic *cl, const tribe_table *tg, double *out, int64_t *bad)
{
    int c[4];
    for (int j = 0; j < 4; j++)
        c[j] = tribe_table_feature(tg, LTV_TARGET_COLS[1 + j]); /* present: the classic fit needed them */
    *bad = 0;
    for (int64_t i = 0; i < tg->n_local; i++) {
        const float *r = tg->x + (size_t)i * tg->d;
        out[i] = tribe_ltv_classic_predict1(cl, r[c[0]], r[c[1]], r[c[2]], isnan(r[c[3]]) ? 0 : r[c[3]]);
        if (!isfinite(out[i])) /* would poison the metrics and the residual: predicted 0 */
            out[i] = 0, (*bad)++;
    }
}

/* Collective. BG/NBD + Gamma-Gamma fitted on the window's own BG/NBD inputs
 * (nothing after its cutoff), each customer's classic CLV (w->pc), the
 * GBDT's target (w->yr) and, with transferable features, w->gx = the
 * window's features (tribe_ltv_features_table). */
static tribe_status ltv_window_features(tribe_par *par, const tribe_ltv_cfg *cfg, ltv_window *w)
{
    tribe_status st = ltv_blame(tribe_ltv_classic_fit(&w->rows, w->tg, cfg->horizon_days, &w->cl),
                                "the BG/NBD + Gamma-Gamma baseline on", w->target_path, NULL);
    if (st != TRIBE_OK)
        return st;
    int64_t n = w->rows.n_local, bad = 0;
    st = tribe_alloc((void **)&w->pc, ((size_t)n + 1) * sizeof *w->pc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&w->yr, ((size_t)n + 1) * sizeof *w->yr);
    if (st == TRIBE_OK) {
        ltv_classic_pred(&w->cl, w->tg, w->pc, &bad);
        if (bad)
            TRIBE_WARN("ltv: %s: BG/NBD gave no finite prediction for %lld local customers (set to 0)",
                       w->target_path, (long long)bad);
        for (int64_t i = 0; i < n; i++)
            w->yr[i] = w->y[i] - w->pc[i];
    }
    if (st == TRIBE_OK && cfg->features == TRIBE_LTV_FEAT_TRANSFERABLE) {
        w->gm = TRIBE_LTV_NFEAT;
        st = tribe_alloc((void **)&w->gx, ((size_t)n * TRIBE_LTV_NFEAT + 1) * sizeof *w->gx);
        if (st == TRIBE_OK)
            st = tribe_ltv_features_table(&w->cl, w->f, w->tg, w->gx);
    }
    return tribe_par_agree(par, st);
}

/* Collective. The metrics of pred against the window's target into row[4]. */
static tribe_status ltv_score(const ltv_window *w, const double *pred, double *row)
{
    tribe_clv_metrics met;
    tribe_status st = tribe_clv_metrics_compute(&w->rows, pred, w->y, &met);
    if (st == TRIBE_OK)
        row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    return st;
}

/* The blend weights tried: multiples of 1 / LTV_BLEND_STEPS summing to 1
 * over (gbdt, gbdt_residual, classic). */
enum { LTV_BLEND_STEPS = 20, LTV_BLEND_N = (LTV_BLEND_STEPS + 1) * (LTV_BLEND_STEPS + 2) / 2 };

/* The weights of blend number s, in the order ltv_blend_weight enumerates. */
static void blend_weights(int s, double *w)
{
    for (int a = 0, i = 0; a <= LTV_BLEND_STEPS; a++)
        for (int b = 0; a + b <= LTV_BLEND_STEPS; b++, i++)
            if (i == s) {
                w[0] = (double)a / LTV_BLEND_STEPS;
                w[1] = (double)b / LTV_BLEND_STEPS;
                w[2] = (double)(LTV_BLEND_STEPS - a - b) / LTV_BLEND_STEPS;
                return;
            }
}

/* Collective. The blend (p[0..2]: gbdt, gbdt_residual, classic) with the
 * least squared error on the window among those whose absolute error is no
 * larger than the classic's alone (always admissible): so the blend is no
 * worse than BG/NBD + Gamma-Gamma on both R^2 and MAE there. Every blend's
 * sums are exact (one allreduce for all); ties go to the earlier blend. */
static tribe_status ltv_blend_weight(tribe_par *par, const ltv_window *w, const double *const *p, double *weight)
{
    const double inv = 1.0 / LTV_BLEND_STEPS;
    tribe_xsum sum[2 * LTV_BLEND_N] = {0}; /* SSE, SAE per blend */
    for (int64_t i = 0; i < w->rows.n_local; i++) {
        int s = 0;
        for (int a = 0; a <= LTV_BLEND_STEPS; a++)
            for (int b = 0; a + b <= LTV_BLEND_STEPS; b++, s++) {
                double e = (a * p[0][i] + b * p[1][i] + (LTV_BLEND_STEPS - a - b) * p[2][i]) * inv - w->y[i];
                sum[2 * s] += tribe_xsum_of(e * e);
                sum[2 * s + 1] += tribe_xsum_of(fabs(e));
            }
    }
    tribe_status st = tribe_par_sum_xsum(par, sum, 2 * LTV_BLEND_N);
    int best = 0; /* blend 0 is (0, 0, 1): the classic alone */
    for (int s = 1; s < LTV_BLEND_N; s++)
        if (sum[2 * s + 1] <= sum[1] && sum[2 * s] < sum[2 * best])
            best = s;
    blend_weights(best, weight);
    return st;
}

/* A Poisson(1) variate from a uniform u in [0, 1) (inverse CDF). */
static int poisson1(double u)
{
    double p = exp(-1.0), cdf = p;
    int k = 0;
    while (u >= cdf && k < 20) {
        p /= ++k;
        cdf += p;
    }
    return k;
}

tribe_status tribe_ltv_select_shares(const tribe_rows *rows, const double *y, const double *pc,
                                     const double *const *p, int nc, uint64_t seed, int n_rep, double (*share)[2])
{
    tribe_status st = TRIBE_OK;
    size_t cells = (size_t)(n_rep > 0 ? n_rep : 0) * (size_t)(nc > 0 ? nc : 0) * 2;
    tribe_xsum *sum = NULL, d[2 * TRIBE_LTV_CANDIDATES];
    for (int j = 0; j < nc; j++)
        share[j][0] = share[j][1] = NAN;
    if (cells == 0 || nc > TRIBE_LTV_CANDIDATES)
        return nc > TRIBE_LTV_CANDIDATES ? tribe_fail(TRIBE_ERR_INTERNAL, "ltv: %d challengers, at most %d", nc,
                                                      TRIBE_LTV_CANDIDATES)
                                         : TRIBE_OK;
    TRIBE_TRY(tribe_par_agree(rows->par, tribe_calloc((void **)&sum, cells + 1, sizeof *sum)));
    uint64_t key = tribe_rng_key(seed, TRIBE_STREAM_LTV_SELECT);
    for (int64_t i = 0; i < rows->n_local; i++) {
        /* each difference rounded to the fixed point once: a replicate adds
         * it w times, an exact integer product */
        double ec = pc[i] - y[i];
        tribe_xsum ac = tribe_xsum_of(fabs(ec)), sc = tribe_xsum_of(ec * ec);
        for (int j = 0; j < nc; j++) {
            double e = p[j][i] - y[i];
            d[2 * j] = tribe_xsum_of(fabs(e)) - ac;
            d[2 * j + 1] = tribe_xsum_of(e * e) - sc;
        }
        uint64_t g = (uint64_t)(rows->offset + i) * (uint64_t)n_rep;
        for (int b = 0; b < n_rep; b++) {
            int w = poisson1(tribe_rng_unif_keyed(key, g + (uint64_t)b));
            tribe_xsum *s = sum + (size_t)b * (size_t)nc * 2;
            for (int q = 0; w && q < 2 * nc; q++)
                s[q] += w * d[q];
        }
    }
    TRIBE_TRY(tribe_par_sum_xsum(rows->par, sum, (int64_t)cells));
    for (int j = 0; j < nc; j++)
        for (int q = 0; q < 2; q++) {
            int64_t better = 0;
            for (int b = 0; b < n_rep; b++)
                better += sum[((size_t)b * (size_t)nc + (size_t)j) * 2 + (size_t)q] < 0;
            share[j][q] = (double)better / n_rep;
        }
cleanup:
    free(sum);
    return st;
}

/* Whether candidate j may replace the classic: no worse on both R^2 and MAE
 * on the test window and, with a level > 0, better on both in at least that
 * share of the paired bootstrap replicates. */
static int ltv_qualifies(const tribe_ltv *lr, int j)
{
    const double *m = lr->metrics[j], *c = lr->metrics[TRIBE_LTV_CLASSIC];
    double conf = lr->select_confidence;
    if (!(m[2] >= c[2] && m[0] <= c[0]))
        return 0;
    return !(conf > 0) || (lr->select_share[j][0] >= conf && lr->select_share[j][1] >= conf);
}

void tribe_ltv_choose(tribe_ltv *lr)
{
    const double *c = lr->metrics[TRIBE_LTV_CLASSIC];
    static const int order[TRIBE_LTV_CANDIDATES] = {TRIBE_LTV_CLASSIC, TRIBE_LTV_GBDT, TRIBE_LTV_RESID,
                                                    TRIBE_LTV_BLEND};
    int best = TRIBE_LTV_CLASSIC;
    for (int j = 1; j < TRIBE_LTV_CANDIDATES; j++)
        if (ltv_qualifies(lr, order[j]) && lr->metrics[order[j]][2] > lr->metrics[best][2])
            best = order[j];
    lr->chosen = best;
    const double *g = lr->metrics[TRIBE_LTV_GBDT], *r = lr->metrics[TRIBE_LTV_RESID], *b = lr->metrics[TRIBE_LTV_BLEND];
    const double *w = lr->blend_w;
    const double(*sh)[2] = (const double(*)[2])lr->select_share;
    char rule[160];
    if (lr->select_confidence > 0)
        snprintf(rule, sizeof rule, " and better on both in at least %.3g of the replicates (ltv.select_confidence)",
                 lr->select_confidence);
    else
        snprintf(rule, sizeof rule, " (ltv.select_confidence 0: the shares are not required)");
    snprintf(lr->why, sizeof lr->why,
             "%s: on the test window, R2 / MAE: gbdt %.4f / %.4g, gbdt_residual %.4f / %.4g, bgnbd_gamma_gamma "
             "%.4f / %.4g, blend (%.2f, %.2f, %.2f) %.4f / %.4g; paired bootstrap of the test window's customers "
             "(%d replicates), share with a better MAE / R2 than bgnbd_gamma_gamma: gbdt %.3f / %.3f, "
             "gbdt_residual %.3f / %.3f, blend %.3f / %.3f; chosen: the best R2 among the candidates no worse than "
             "bgnbd_gamma_gamma on both%s",
             TRIBE_LTV_MODEL_NAMES[best], g[2], g[0], r[2], r[0], c[2], c[0], w[0], w[1], w[2], b[2], b[0],
             TRIBE_LTV_SELECT_BOOT, sh[TRIBE_LTV_GBDT][0], sh[TRIBE_LTV_GBDT][1], sh[TRIBE_LTV_RESID][0],
             sh[TRIBE_LTV_RESID][1], sh[TRIBE_LTV_BLEND][0], sh[TRIBE_LTV_BLEND][1], rule);
}

/* Collective. The candidates scored on the test window: the two GBDTs
 * fitted on the train window (trw[ntr]: the stacked windows, then train);
 * BG/NBD + Gamma-Gamma fitted on the test
 * window's own inputs (up to c2: no target); their blend with the weights
 * fitted here; the past spend rate. Chooses (tribe_ltv_select_shares, tribe_ltv_choose). */
static tribe_status ltv_select(tribe_par *par, const tribe_ltv_cfg *cfg, const ltv_window *const *trw, int ntr,
                               const ltv_window *te, tribe_ltv *lr)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_model *gm = NULL;
    double *p[TRIBE_LTV_MODELS] = {NULL}; /* predictions, TRIBE_LTV_* order */
    int64_t n = te->rows.n_local;
    TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&p[0], ((size_t)n + 1) * TRIBE_LTV_MODELS * sizeof *p[0])));
    for (int j = 1; j < TRIBE_LTV_MODELS; j++)
        p[j] = p[j - 1] + n + 1;
    for (int resid = 0; resid < 2; resid++) {
        TRIBE_TRY(ltv_gbdt(par, cfg, trw, ntr, resid, &gm));
        tribe_gbdt_predict(gm, te->gx, n, p[resid]); /* TRIBE_LTV_GBDT, TRIBE_LTV_RESID */
        tribe_gbdt_model_destroy(&gm);
    }
    for (int64_t i = 0; i < n; i++) {
        p[TRIBE_LTV_CLASSIC][i] = te->pc[i];
        p[TRIBE_LTV_GBDT][i] = fmax(p[TRIBE_LTV_GBDT][i], 0.0); /* squared loss may go below 0 */
        p[TRIBE_LTV_RESID][i] = fmax(p[TRIBE_LTV_RESID][i] + te->pc[i], 0.0);
    }
    const double *const pw[3] = {p[TRIBE_LTV_GBDT], p[TRIBE_LTV_RESID], p[TRIBE_LTV_CLASSIC]};
    TRIBE_TRY(ltv_blend_weight(par, te, pw, lr->blend_w));
    for (int64_t i = 0; i < n; i++)
        p[TRIBE_LTV_BLEND][i] = lr->blend_w[0] * pw[0][i] + lr->blend_w[1] * pw[1][i] + lr->blend_w[2] * pw[2][i];
    if (!te->rate[0])
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: the past-spend-rate baseline needs 'monetary' and 'tenure_days'",
                             te->feat_path));
    tribe_clv_rate_baseline(te->rate[0], te->rate[1], n, cfg->horizon_days, p[TRIBE_LTV_RATE]);
    for (int j = 0; j < TRIBE_LTV_MODELS; j++)
        TRIBE_TRY(ltv_score(te, p[j], lr->metrics[j]));
    for (int i = 0; i < TRIBE_LTV_MODELS; i++)
        TRIBE_INFO("ltv %-18s MAE %.4g RMSE %.4g R2 %.4f lift %.3f", TRIBE_LTV_MODEL_NAMES[i], lr->metrics[i][0],
                   lr->metrics[i][1], lr->metrics[i][2], lr->metrics[i][3]);
    /* the challengers against the classic, paired over the same bootstrap draws */
    const double *const ch[3] = {p[TRIBE_LTV_GBDT], p[TRIBE_LTV_RESID], p[TRIBE_LTV_BLEND]};
    double sh[3][2];
    TRIBE_TRY(tribe_ltv_select_shares(&te->rows, te->y, p[TRIBE_LTV_CLASSIC], ch, 3, cfg->seed,
                                      TRIBE_LTV_SELECT_BOOT, sh));
    static const int slot[3] = {TRIBE_LTV_GBDT, TRIBE_LTV_RESID, TRIBE_LTV_BLEND};
    lr->select_share[TRIBE_LTV_CLASSIC][0] = lr->select_share[TRIBE_LTV_CLASSIC][1] = NAN;
    for (int j = 0; j < 3; j++)
        lr->select_share[slot[j]][0] = sh[j][0], lr->select_share[slot[j]][1] = sh[j][1];
    lr->select_confidence = cfg->select_confidence;
    tribe_ltv_choose(lr);
    TRIBE_INFO("ltv: chosen %s", lr->why);
cleanup:
    tribe_gbdt_model_destroy(&gm);
    free(p[0]);
    return st;
}

tribe_status tribe_ltv_input_derive(const char *who, const tribe_table *t, tribe_table **out)
{
    static const char *const need[5] = {"tenure_days", "recency_days", "mean_days_between", "monetary", "frequency"};
    int c[5];
    *out = NULL;
    for (int j = 0; j < 5; j++)
        if ((c[j] = tribe_table_feature(t, need[j])) < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: the input has no target file and no column '%s' to derive the "
                              "BG/NBD inputs from", who, need[j]);
    tribe_status st = tribe_table_create(t->n_local, 5, LTV_TARGET_COLS, out);
    if (st != TRIBE_OK)
        return st;
    (*out)->offset = t->offset;
    (*out)->n_global = t->n_global;
    if (t->n_local > 0)
        memcpy((*out)->id, t->id, (size_t)t->n_local * sizeof *t->id);
    for (int64_t i = 0; i < t->n_local; i++) {
        const float *r = t->x + (size_t)i * t->d;
        float *y = (*out)->x + (size_t)i * 5;
        double ten = r[c[0]], rec = r[c[1]], mdb = r[c[2]], mon = r[c[3]], fr = r[c[4]];
        /* days are integers below 2^24: every step is exact in float */
        double tx = isfinite(ten) && isfinite(rec) && ten >= rec ? ten - rec : 0.0;
        double T = isfinite(ten) && ten - 1 >= tx ? ten - 1 : tx;
        double x = isfinite(mdb) && mdb > 0 ? nearbyint(tx / mdb) : 0.0;
        y[0] = NAN;
        y[1] = (float)x;
        y[2] = (float)tx;
        y[3] = (float)T;
        y[4] = x > 0 && isfinite(mon) && mon > 0 && fr > 0 ? (float)(mon / fr) : 0.0f;
    }
    return TRIBE_OK;
}

tribe_status tribe_ltv_input_bgnbd(tribe_par *par, const char *who, const char *path, const tribe_table *t,
                                   tribe_table **out, int *exact)
{
    tribe_status st = TRIBE_OK;
    int64_t have = path && access(path, R_OK) == 0;
    *out = NULL;
    TRIBE_TRY(tribe_par_max_i64(par, &have, 1)); /* one file system, but one answer for sure */
    *exact = (int)have;
    if (have) {
        TRIBE_TRY(tribe_store_read_customers(par, path, out, NULL));
        TRIBE_TRY(tribe_par_agree(par, ltv_same_customers(t, *out, "the job's input", path,
                                                          "make it with tribe ingest --target, from the same data")));
        goto cleanup;
    }
    TRIBE_WARN("%s: no %s: the input's BG/NBD inputs are approximated from customers.h5 (x, t_x, T as ingest's, from "
               "tenure_days, recency_days and mean_days_between; the repeat purchases' mean spend by monetary / "
               "frequency); make it with 'tribe ingest ... --target %s' for exact ones",
               who, path ? path : "input target file", path ? path : "FILE");
    TRIBE_TRY(tribe_par_agree(par, tribe_ltv_input_derive(who, t, out)));
cleanup:
    if (st != TRIBE_OK)
        tribe_table_destroy(out);
    return st;
}

/* Collective. Every candidate's prediction for the job's customers (tg:
 * their BG/NBD inputs, tribe_ltv_input_bgnbd; the
 * refit GBDTs gm[0] spend, gm[1] residual, on their features as of the input's end, BG/NBD + Gamma-Gamma
 * fitted on the input's own inputs, the blend) into lr->cand, and the chosen
 * one into lr->pred; in blocks of LTV_BLOCK customers. */
static tribe_status ltv_input_predict(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t,
                                      const tribe_table *tg, const int *cols, int m,
                                      const tribe_gbdt_model *const *gm, tribe_ltv *lr)
{
    enum { LTV_BLOCK = 65536 };
    tribe_status st = TRIBE_OK;
    tribe_rows rows;
    float *xt = NULL;
    double *pg = NULL, *pcl = NULL;
    int64_t nl = t->n_local, bad = 0;
    int gmw = cfg->features == TRIBE_LTV_FEAT_TRANSFERABLE ? TRIBE_LTV_NFEAT : m;
    TRIBE_TRY(tribe_rows_init(par, nl, t->offset, t->n_global, &rows));
    TRIBE_TRY(ltv_blame(tribe_ltv_classic_fit(&rows, tg, cfg->horizon_days, &lr->classic[TRIBE_LTV_W_INPUT]),
                        "the BG/NBD + Gamma-Gamma baseline on", lr->input_exact ? cfg->input_target : "the job's input",
                        NULL));
    const tribe_ltv_classic *cl = &lr->classic[TRIBE_LTV_W_INPUT];
    st = tribe_alloc((void **)&xt, (size_t)LTV_BLOCK * (size_t)gmw * sizeof *xt);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&pg, (size_t)LTV_BLOCK * 2 * sizeof *pg);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&lr->pred, ((size_t)nl + 1) * sizeof *lr->pred);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&lr->cand, ((size_t)nl + 1) * TRIBE_LTV_CANDIDATES * sizeof *lr->cand);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&pcl, ((size_t)nl + 1) * sizeof *pcl);
    if (st == TRIBE_OK)
        ltv_classic_pred(cl, tg, pcl, &bad);
    if (bad)
        TRIBE_WARN("ltv: the job's input: BG/NBD gave no finite prediction for %lld local customers (set to 0)",
                   (long long)bad);
    for (int64_t i0 = 0; i0 < nl && st == TRIBE_OK; i0 += LTV_BLOCK) {
        int64_t nb = nl - i0 < LTV_BLOCK ? nl - i0 : LTV_BLOCK;
        if (cfg->features == TRIBE_LTV_FEAT_TRANSFERABLE)
            st = tribe_ltv_features_range(cl, t, tg, i0, nb, xt);
        else
            for (int64_t i = 0; i < nb; i++)
                for (int j = 0; j < m; j++)
                    xt[(size_t)i * m + j] = t->x[(size_t)(i0 + i) * t->d + cols[j]];
        if (st != TRIBE_OK)
            break;
        tribe_gbdt_predict(gm[0], xt, nb, pg);
        tribe_gbdt_predict(gm[1], xt, nb, pg + LTV_BLOCK);
        const double *w = lr->blend_w;
        for (int64_t i = 0; i < nb; i++) {
            double c = pcl[i0 + i], g = fmax(pg[i], 0.0), r = fmax(pg[LTV_BLOCK + i] + c, 0.0);
            float *o = lr->cand + (size_t)(i0 + i) * TRIBE_LTV_CANDIDATES;
            o[TRIBE_LTV_GBDT] = (float)g;
            o[TRIBE_LTV_RESID] = (float)r;
            o[TRIBE_LTV_CLASSIC] = (float)c;
            o[TRIBE_LTV_BLEND] = (float)(w[0] * g + w[1] * r + w[2] * c);
            lr->pred[i0 + i] = o[lr->chosen];
        }
    }
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(xt);
    free(pg);
    free(pcl);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[n] sorted (linear interpolation, numpy's default). */
static double quantile(const double *v, int n, double q)
{
    if (n == 0)
        return NAN;
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/* Collective. Per segment, the 95% percentile interval of the mean
 * predicted value over cfg->n_boot Poisson(1) bootstrap replicates of the
 * customers: customer i's weight in replicate b is drawn from the counter
 * RNG keyed by (seed, stream 218, global row * n_boot + b), and each
 * segment's weighted sums are exact (tribe_xsum), so the interval is the
 * same bits on any rank count. NaN without replicates. */
static tribe_status ltv_intervals(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t,
                                  const int32_t *label, int k, tribe_ltv *lr)
{
    tribe_status st = TRIBE_OK;
    int nb = cfg->n_boot;
    size_t cells = (size_t)nb * (size_t)k * 2;
    tribe_xsum *sum = NULL;
    double *mean = NULL;
    for (int c = 0; c < k; c++)
        lr->seg_lo[c] = lr->seg_hi[c] = NAN;
    lr->n_boot = nb;
    if (nb <= 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&sum, cells + 1, sizeof *sum)));
    uint64_t key = tribe_rng_key(cfg->seed, TRIBE_STREAM_LTV_BOOT);
    for (int64_t i = 0; i < t->n_local; i++) {
        int c = label[i];
        uint64_t g = (uint64_t)(t->offset + i) * (uint64_t)nb;
        for (int b = 0; b < nb; b++) {
            int w = poisson1(tribe_rng_unif_keyed(key, g + (uint64_t)b));
            tribe_xsum *s = sum + ((size_t)b * (size_t)k + (size_t)c) * 2;
            s[0] += tribe_xsum_of((double)w * lr->pred[i]); /* an integer times a float: exact */
            s[1] += w;
        }
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, sum, (int64_t)cells));
    TRIBE_TRY(tribe_alloc((void **)&mean, (size_t)nb * sizeof *mean + 1));
    for (int c = 0; c < k; c++) {
        int n = 0;
        for (int b = 0; b < nb; b++) {
            const tribe_xsum *s = sum + ((size_t)b * (size_t)k + (size_t)c) * 2;
            if (s[1] > 0) /* a replicate without the segment's customers says nothing of it */
                mean[n++] = tribe_xsum_value(s[0]) / (double)(int64_t)s[1];
        }
        qsort(mean, (size_t)n, sizeof *mean, cmp_double);
        lr->seg_lo[c] = quantile(mean, n, 0.025);
        lr->seg_hi[c] = quantile(mean, n, 0.975);
    }
cleanup:
    free(sum);
    free(mean);
    return st;
}

/* Collective. Per segment: mean, exact median and total of lr->pred, and
 * the bootstrap interval of the mean. */
static tribe_status ltv_segments(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t,
                                 const int32_t *label, int k, tribe_ltv *lr)
{
    tribe_status st = TRIBE_OK;
    int64_t nl = t->n_local;
    double **arr[5] = {&lr->seg_mean, &lr->seg_median, &lr->seg_total, &lr->seg_lo, &lr->seg_hi};
    for (int j = 0; j < 5 && st == TRIBE_OK; j++)
        st = tribe_calloc((void **)arr[j], (size_t)k + 1, sizeof **arr[j]);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_agree(par, tribe_xstats_means(par, lr->pred, nl, 1, 1, label, k, 0, NULL, lr->seg_total,
                                                      lr->seg_mean)));
    TRIBE_TRY(tribe_par_agree(par, tribe_xstats_medians(par, lr->pred, nl, 1, 1, label, k, 0, lr->seg_median)));
    TRIBE_TRY(ltv_intervals(par, cfg, t, label, k, lr));
cleanup:
    return st;
}

/* ---- stacked training windows (ltv.train_windows; docs/ltv.md, "Stacked
 * training windows") ------------------------------------------------------ */

/* Not collective (every rank has the ledgers). A stacked window must be
 * what the train window is (made by tribe ingest --cutoff with the job's
 * horizon, not censored), its target must end by the test window's cutoff
 * (ce + h <= c2: nothing of the test target reaches training), and it must
 * be a window of its own (a cutoff neither train's nor an earlier stacked
 * window's: the same customers twice would weigh them double). INPUT. */
static tribe_status ltv_stack_check(const tribe_ltv_cfg *cfg, const ltv_window *ex, int n, const ltv_window *tr,
                                    const ltv_window *te)
{
    for (int k = 0; k < n; k++) {
        const ltv_window *w = &ex[k];
        char a[11], b[11], c[11];
        if (w->cutoff_day < 0 || te->cutoff_day < 0)
            return tribe_fail(TRIBE_ERR_INPUT,
                              "%s: no tribe ledger with a cutoff: 'ltv.train_windows' needs the cutoffs of the "
                              "stacked and the test windows to keep the test target out of training",
                              w->cutoff_day < 0 ? w->feat_path : te->feat_path);
        int64_t end = w->cutoff_day + w->horizon_days;
        if (end > te->cutoff_day) {
            tribe_format_day(w->cutoff_day, a);
            tribe_format_day(end, b);
            tribe_format_day(te->cutoff_day, c);
            return tribe_fail(TRIBE_ERR_INPUT,
                              "%s: cutoff %s + %lld days = %s is after the test window's cutoff %s (%s): its target "
                              "would overlap the test target ('ltv.train_windows' must end by the test cutoff)",
                              w->feat_path, a, (long long)w->horizon_days, b, c, te->feat_path);
        }
        for (int j = -1; j < k; j++) {
            const ltv_window *o = j < 0 ? tr : &ex[j];
            if (o->cutoff_day == w->cutoff_day) {
                tribe_format_day(w->cutoff_day, a);
                return tribe_fail(TRIBE_ERR_INPUT,
                                  "%s: cutoff %s is that of %s too: a window stacked twice would count its "
                                  "customers twice",
                                  w->feat_path, a, o->feat_path);
            }
        }
        tribe_status st = ltv_windows_check(cfg, w, te); /* the horizon, a censored target */
        if (st != TRIBE_OK)
            return st;
    }
    return TRIBE_OK;
}

/* Collective. The stacked windows cfg->stack[n_stack] (and their targets),
 * read, checked against train and test, and featurised with their own
 * BG/NBD + Gamma-Gamma fits, into ex[n_stack] (zeroed by the caller); each
 * one noted in lr->stack. Errors as ltv_window_read and ltv_stack_check. */
static tribe_status ltv_stack_read(tribe_par *par, const tribe_ltv_cfg *cfg, const char *const *names, int mm,
                                   const ltv_window *tr, const ltv_window *te, ltv_window *ex, tribe_ltv *lr)
{
    tribe_status st = TRIBE_OK;
    int signed_ok = cfg->objective == TRIBE_LTV_SQUARED;
    if (cfg->n_stack <= 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&lr->stack, (size_t)cfg->n_stack, sizeof *lr->stack)));
    for (int k = 0; k < cfg->n_stack; k++) {
        /* a missing file fails in every rank's read: named here, not as an HDF5 error */
        int64_t miss = access(cfg->stack[k], R_OK) != 0 ? 1 : access(cfg->stack_target[k], R_OK) != 0 ? 2 : 0;
        TRIBE_TRY(tribe_par_max_i64(par, &miss, 1));
        if (miss)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "ltv.train_windows: cannot read %s%s (make it with 'tribe ingest "
                                 "--cutoff DATE --horizon %g -o %s': it writes the target beside)",
                                 miss == 1 ? cfg->stack[k] : cfg->stack_target[k],
                                 miss == 1 ? "" : ", the stacked window's target", cfg->horizon_days, cfg->stack[k]));
        TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.train_windows", cfg->stack[k], cfg->stack_target[k],
                                                       names, mm, signed_ok, 0, &ex[k])));
        lr->n_stack = k + 1;
    }
    TRIBE_TRY(ltv_stack_check(cfg, ex, cfg->n_stack, tr, te));
    for (int k = 0; k < cfg->n_stack; k++) {
        char day[11];
        TRIBE_TRY(ltv_window_features(par, cfg, &ex[k]));
        lr->stack[k] = (tribe_ltv_stacked){cfg->stack[k], ex[k].cutoff_day, ex[k].rows.n_global, ex[k].cl};
        tribe_format_day(ex[k].cutoff_day, day);
        TRIBE_INFO("ltv: stacked window %s (cutoff %s): %lld rows; BG/NBD r %.4g alpha %.4g a %.4g b %.4g",
                   cfg->stack[k], day, (long long)ex[k].rows.n_global, ex[k].cl.bg.r, ex[k].cl.bg.alpha,
                   ex[k].cl.bg.a, ex[k].cl.bg.b);
    }
cleanup:
    return st;
}

/* Collective. Lifetime value (docs/ltv.md): on the honest split (features
 * as of c1 -> spend in (c1, c1 + h]; evaluated on the test file, features as
 * of c2 = c1 + h -> spend in (c2, c2 + h]) the GBDT (on the transferable
 * features by default), BG/NBD + Gamma-Gamma, their blend and the past spend
 * rate are scored and a candidate chosen (ltv_select, tribe_ltv_choose); then the GBDT is
 * refit on all labelled history, the rows of both windows stacked (a
 * customer once per window), and the chosen model predicts the next horizon
 * for every customer of the job's input. The windows of ltv.train_windows,
 * when given, are stacked before train's rows in both fits. */
tribe_status tribe_ltv_fit(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t, const int *cols,
                           const char *const *names, int m, const int32_t *label, int k, tribe_ltv **out)
{
    tribe_status st = TRIBE_OK;
    tribe_ltv *lr = NULL;
    ltv_window tr = {0}, te = {0};
    ltv_window *ex = NULL;        /* the stacked windows, cfg->stack order */
    const ltv_window **all = NULL; /* ex..., tr, te: the GBDTs' training windows in order */
    int ns = cfg->n_stack > 0 ? cfg->n_stack : 0;
    tribe_gbdt_model *gm[2] = {NULL, NULL};
    tribe_table *itg = NULL; /* the input's BG/NBD inputs */
    int signed_ok = cfg->objective == TRIBE_LTV_SQUARED;
    int mm = cfg->features == TRIBE_LTV_FEAT_MODEL ? m : 0;
    *out = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&lr, 1, sizeof *lr)));
    lr->k = k;
    lr->horizon_days = cfg->horizon_days;
    lr->objective = cfg->objective;
    lr->features = cfg->features;
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.train", cfg->train, cfg->train_target, names, mm,
                                                   signed_ok, 0, &tr)));
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.test", cfg->test, cfg->test_target, names, mm,
                                                   signed_ok, 1, &te)));
    TRIBE_TRY(ltv_windows_check(cfg, &tr, &te));
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&ex, (size_t)ns + 1, sizeof *ex)));
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&all, (size_t)ns + 2, sizeof *all)));
    TRIBE_TRY(ltv_stack_read(par, cfg, names, mm, &tr, &te, ex, lr));
    TRIBE_TRY(tribe_ltv_input_bgnbd(par, "ltv", cfg->input_target, t, &itg, &lr->input_exact)); /* fail fast */
    TRIBE_TRY(ltv_window_features(par, cfg, &tr));
    TRIBE_TRY(ltv_window_features(par, cfg, &te));
    lr->classic[TRIBE_LTV_W_TRAIN] = tr.cl;
    lr->classic[TRIBE_LTV_W_TEST] = te.cl;
    lr->classic_on[TRIBE_LTV_W_TRAIN] = cfg->train_target;
    lr->classic_on[TRIBE_LTV_W_TEST] = cfg->test_target;
    lr->classic_on[TRIBE_LTV_W_INPUT] = lr->input_exact ? cfg->input_target : NULL;
    for (int j = 0; j < ns; j++)
        all[j] = &ex[j];
    all[ns] = &tr;
    all[ns + 1] = &te;
    for (int j = 0; j < ns + 2; j++)
        lr->refit_rows += all[j]->rows.n_global;
    lr->train_rows = lr->refit_rows - te.rows.n_global;
    TRIBE_TRY(ltv_select(par, cfg, all, ns + 1, &te, lr));

    /* Refit on all labelled history (stacked rows, train rows, then test
     * rows); predict for the job's customers from their features at the
     * input's end. */
    for (int resid = 0; resid < 2; resid++) {
        TRIBE_TRY(ltv_gbdt(par, cfg, all, ns + 2, resid, &gm[resid]));
        TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm[resid], resid ? &lr->resid_json : &lr->model_json)));
    }
    lr->n_trees = gm[0]->n_trees;
    TRIBE_TRY(ltv_input_predict(par, cfg, t, itg, cols, m, (const tribe_gbdt_model *const *)gm, lr));
    TRIBE_TRY(ltv_segments(par, cfg, t, label, k, lr));
    TRIBE_INFO("ltv: GBDTs refit on %s%s + %s (%lld rows, %d + %d trees); %s predicted %g days for %lld customers",
               ns ? "the stacked windows + " : "", cfg->train, cfg->test, (long long)lr->refit_rows, gm[0]->n_trees,
               gm[1]->n_trees, TRIBE_LTV_MODEL_NAMES[lr->chosen], cfg->horizon_days, (long long)t->n_global);
    *out = lr;
    lr = NULL;
cleanup:
    tribe_ltv_destroy(&lr);
    ltv_window_free(&tr);
    ltv_window_free(&te);
    for (int j = 0; ex && j < ns; j++)
        ltv_window_free(&ex[j]);
    free(ex);
    free(all);
    tribe_gbdt_model_destroy(&gm[0]);
    tribe_gbdt_model_destroy(&gm[1]);
    tribe_table_destroy(&itg);
    return st;
}

tribe_status tribe_ltv_target_path(const char *src, char **dst)
{
    size_t len = strlen(src);
    if (*dst)
        return TRIBE_OK;
    if (len > 3 && strcmp(src + len - 3, ".h5") == 0)
        len -= 3;
    tribe_status st = tribe_alloc((void **)dst, len + 11);
    if (st == TRIBE_OK) {
        memcpy(*dst, src, len);
        memcpy(*dst + len, ".target.h5", 11);
    }
    return st;
}

tribe_status tribe_ltv_paths_default(tribe_ltv_paths *p, const char *input)
{
    tribe_status st = tribe_ltv_target_path(p->train, &p->train_target);
    if (st == TRIBE_OK)
        st = tribe_ltv_target_path(p->test, &p->test_target);
    if (st == TRIBE_OK && input)
        st = tribe_ltv_target_path(input, &p->input_target);
    return st;
}

void tribe_ltv_paths_free(tribe_ltv_paths *p)
{
    free(p->train);
    free(p->train_target);
    free(p->test);
    free(p->test_target);
    free(p->input_target);
    memset(p, 0, sizeof *p);
}
