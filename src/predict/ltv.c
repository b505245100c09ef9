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

const char *const TRIBE_LTV_MODEL_NAMES[TRIBE_LTV_MODELS] = {"gbdt", "bgnbd_gamma_gamma", "past_spend_rate"};
const char *const TRIBE_LTV_OBJECTIVES[3] = {"tweedie", "poisson", "squared"};
static const char *const LTV_TARGET_COLS[5] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T",
                                               "repeat_mean_spend"};

void tribe_ltv_cfg_default(tribe_ltv_cfg *cfg)
{
    *cfg = (tribe_ltv_cfg){.objective = TRIBE_LTV_TWEEDIE, .n_rounds = 200, .learning_rate = 0.05, .max_leaves = 15,
                           .valid_fraction = 0.2, .early_stopping_rounds = 20};
}

void tribe_ltv_destroy(tribe_ltv **lp)
{
    if (!lp || !*lp)
        return;
    tribe_ltv *l = *lp;
    free(l->pred);
    free(l->model_json);
    free(l->seg_mean);
    free(l->seg_median);
    free(l->seg_total);
    free(l);
    *lp = NULL;
}


/* A window of the temporal split: features of customers.h5 (the model
 * columns, matched by name, raw) and its target table. */
typedef struct {
    const char *feat_path, *target_path;
    tribe_rows rows;   /* the window's customers over ranks */
    float *x;          /* [rows.n_local][m] */
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
    TRIBE_TRY(tribe_rows_init(par, n, f->offset, f->n_global, &w->rows));
    if (tg->n_global != f->n_global)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                             "%s: its %lld customers are not the %lld of %s (ingest both with the same --cutoff)",
                             target, (long long)tg->n_global, (long long)f->n_global, feat));
    for (int64_t i = 0; i < n; i++)
        if (tg->id[i] != f->id[i]) {
            char a[TRIBE_ID_BUF], b[TRIBE_ID_BUF];
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT,
                                 "%s: its customers are not those of %s: customer %s where the features have "
                                 "customer %s (ingest both with the same --cutoff)",
                                 target, feat, tribe_table_id(tg, i, a), tribe_table_id(f, i, b)));
        }
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
            char idb[TRIBE_ID_BUF];
            float v = tg->x[(size_t)i * tg->d + tc];
            /* future_spend must be a number: NaN is what ingest writes without
             * a cutoff, and guessing 0 would train on made-up zeros. */
            if (c == 0 && (!isfinite(v) || (!signed_ok && v < 0)))
                TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: future_spend of customer %s is %g%s", target,
                                     tribe_table_id(tg, i, idb), (double)v,
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
static tribe_status ltv_windows_check(const tribe_ltv_cfg *cfg, const ltv_window *tr, const ltv_window *te)
{
    const ltv_window *w[2] = {tr, te};
    for (int k = 0; k < 2; k++) {
        if (w[k]->cutoff_day < 0) /* no ledger (checked in ltv_window_read otherwise) */
            continue;
        if ((double)w[k]->horizon_days != cfg->horizon_days)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: ingested with --horizon %lld, but 'ltv.horizon_days' = %g",
                              w[k]->feat_path, (long long)w[k]->horizon_days, cfg->horizon_days);
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
static tribe_status ltv_gbdt(tribe_par *par, const tribe_ltv_cfg *lc, const ltv_window *const *w, int nw, int m,
                             tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    uint8_t *valid[2] = {NULL, NULL};
    tribe_gbdt_block blk[2];
    int64_t before = 0;
    for (int k = 0; k < nw && k < 2; k++) {
        int64_t n = w[k]->rows.n_local, off = w[k]->rows.offset;
        TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&valid[k], (size_t)n + 1)));
        for (int64_t i = 0; i < n; i++)
            valid[k][i] = tribe_rng_unif(lc->seed, TRIBE_STREAM_LTV_VALID, (uint64_t)(before + off + i)) <
                          lc->valid_fraction;
        blk[k] = (tribe_gbdt_block){{&w[k]->rows, w[k]->x, m}, w[k]->col[0], valid[k]};
        before += w[k]->rows.n_global;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = lc->objective == TRIBE_LTV_POISSON   ? TRIBE_GBDT_POISSON
                    : lc->objective == TRIBE_LTV_SQUARED ? TRIBE_GBDT_SQUARED
                                                         : TRIBE_GBDT_TWEEDIE;
    cfg.n_rounds = lc->n_rounds;
    cfg.learning_rate = lc->learning_rate;
    cfg.max_leaves = lc->max_leaves;
    cfg.early_stopping_rounds = lc->early_stopping_rounds;
    cfg.seed = lc->seed;
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
tribe_status tribe_ltv_fit(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t, const int *cols,
                           const char *const *names, int m, const int32_t *label, int k, tribe_ltv **out)
{
    tribe_status st = TRIBE_OK;
    tribe_ltv *lr = NULL;
    ltv_window tr = {0}, te = {0};
    tribe_gbdt_model *gm = NULL;
    double *pred = NULL;
    float *xt = NULL;
    double h = cfg->horizon_days;
    int signed_ok = cfg->objective == TRIBE_LTV_SQUARED;
    *out = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&lr, 1, sizeof *lr)));
    lr->k = k;
    lr->horizon_days = h;
    lr->objective = cfg->objective;
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.train", cfg->train, cfg->train_target, names, m,
                                                   signed_ok, 0, &tr)));
    TRIBE_TRY(tribe_par_agree(par, ltv_window_read(par, "ltv.test", cfg->test, cfg->test_target, names, m,
                                                   signed_ok, 1, &te)));
    TRIBE_TRY(ltv_windows_check(cfg, &tr, &te));
    const ltv_window *both[2] = {&tr, &te};
    int64_t n = te.rows.n_local;
    TRIBE_TRY(tribe_alloc((void **)&pred, ((size_t)n + 1) * sizeof *pred));

    /* 1. GBDT fitted on the train window, scored on the test window. */
    TRIBE_TRY(ltv_gbdt(par, cfg, both, 1, m, &gm));
    tribe_gbdt_predict(gm, te.x, n, pred);
    for (int64_t i = 0; i < n; i++)
        pred[i] = fmax(pred[i], 0.0);
    tribe_clv_metrics met;
    TRIBE_TRY(tribe_clv_metrics_compute(&te.rows, pred, te.col[0], &met));
    double *row = lr->metrics[0];
    row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    tribe_gbdt_model_destroy(&gm);

    /* 2. BG/NBD + Gamma-Gamma, fitted on the train window. */
    {
        tribe_bgnbd bg;
        tribe_gammagamma gg;
        tribe_clv_fit_info info;
        st = tribe_bgnbd_fit(&tr.rows, tr.col[1], tr.col[2], tr.col[3], NULL, &bg, &info);
        if (st == TRIBE_OK)
            st = tribe_gammagamma_fit(&tr.rows, tr.col[1], tr.col[4], NULL, &gg, &info);
        TRIBE_TRY(ltv_blame(st, "the BG/NBD + Gamma-Gamma baseline on", cfg->train_target, NULL));
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
        TRIBE_TRY(tribe_clv_metrics_compute(&te.rows, pred, te.col[0], &met));
        row = lr->metrics[1];
        row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    }

    /* 3. The past spend rate carried forward (monetary / tenure_days). */
    {
        if (!te.rate[0]) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: the past-spend-rate baseline needs 'monetary' and 'tenure_days'",
                            cfg->test);
            goto cleanup;
        }
        tribe_clv_rate_baseline(te.rate[0], te.rate[1], n, h, pred);
        TRIBE_TRY(tribe_clv_metrics_compute(&te.rows, pred, te.col[0], &met));
        row = lr->metrics[2];
        row[0] = met.mae, row[1] = met.rmse, row[2] = met.r2, row[3] = met.top_decile_lift;
    }
    for (int i = 0; i < TRIBE_LTV_MODELS; i++)
        TRIBE_INFO("ltv %-18s MAE %.4g RMSE %.4g R2 %.4f lift %.3f", TRIBE_LTV_MODEL_NAMES[i], lr->metrics[i][0],
                   lr->metrics[i][1], lr->metrics[i][2], lr->metrics[i][3]);

    /* 4. Refit on all labelled history (train rows then test rows); predict
     *    for the job's customers from their features at the input's end. */
    TRIBE_TRY(ltv_gbdt(par, cfg, both, 2, m, &gm));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm, &lr->model_json)));
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
    lr->n_trees = gm->n_trees;
    TRIBE_INFO("ltv: GBDT refit on %s + %s (%lld rows, %d trees) predicted %g days for %lld customers", cfg->train,
               cfg->test, (long long)(tr.rows.n_global + te.rows.n_global), gm->n_trees, h, (long long)t->n_global);
    *out = lr;
    lr = NULL;
cleanup:
    tribe_ltv_destroy(&lr);
    ltv_window_free(&tr);
    ltv_window_free(&te);
    tribe_gbdt_model_destroy(&gm);
    free(pred);
    free(xt);
    return st;
}
