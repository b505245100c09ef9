/* Features that transfer between temporal windows (tribe/ltv_features.h,
 * docs/ltv.md). */
#include "tribe/ltv_features.h"

#include <math.h>
#include <stdlib.h>

const char *const TRIBE_LTV_FEATURE_NAMES[TRIBE_LTV_NFEAT] = {
    "bgnbd_expected_tx", "p_alive",       "gg_expected_spend", "clv_bgnbd_gg",      "spend_per_day",
    "orders_per_30d",    "purchase_days_per_30d", "recency_days", "recency_over_gap", "recency_share",
    "avg_order_value",   "repeat_mean_spend",     "products_per_order"};

/* The target file's BG/NBD columns (ingest's order) and the customers
 * table's columns used here. */
static const char *const BG_COLS[4] = {"bgnbd_x", "bgnbd_t_x", "bgnbd_T", "repeat_mean_spend"};
static const char *const FEAT_COLS[3] = {"monetary", "frequency", "distinct_products"};

static float fin(double v)
{
    return isfinite(v) ? (float)v : NAN;
}

/* a / b, NaN unless both are finite and b > 0 */
static double ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

/* BG/NBD inputs the model can take: finite, x >= 0, 0 <= t_x <= T */
static int valid(double x, double tx, double T)
{
    return isfinite(x) && isfinite(tx) && isfinite(T) && x >= 0 && tx >= 0 && tx <= T;
}

double tribe_ltv_classic_predict1(const tribe_ltv_classic *c, double x, double t_x, double T, double mbar)
{
    if (!valid(x, t_x, T))
        return NAN;
    double v = tribe_bgnbd_expected(&c->bg, x, t_x, T, c->horizon) * tribe_gammagamma_expected(&c->gg, x, mbar);
    return isfinite(v) ? v : NAN;
}

void tribe_ltv_features1(const tribe_ltv_classic *c, const tribe_ltv_inputs *in, float *out)
{
    double x = in->x, tx = in->t_x, T = in->T;
    int ok = valid(x, tx, T);
    double ex = ok ? tribe_bgnbd_expected(&c->bg, x, tx, T, c->horizon) : NAN;
    double gg = ok ? tribe_gammagamma_expected(&c->gg, x, in->mbar) : NAN;
    double tenure = ok ? T + 1 : NAN, rec = ok ? T - tx : NAN;
    out[0] = fin(ex);
    out[1] = fin(ok ? tribe_bgnbd_p_alive(&c->bg, x, tx, T) : NAN);
    out[2] = fin(gg);
    out[3] = fin(ex * gg);
    out[4] = fin(ratio(in->monetary, tenure));
    out[5] = fin(ratio(30 * in->frequency, tenure));
    out[6] = fin(ratio(30 * (x + 1), tenure));
    out[7] = fin(rec);
    out[8] = fin(ok && x > 0 ? ratio(rec, tx / x) : NAN); /* tx = 0 with x > 0 cannot happen (distinct days) */
    out[9] = fin(ratio(rec, tenure));
    out[10] = fin(ratio(in->monetary, in->frequency));
    out[11] = fin(ok && x > 0 ? in->mbar : NAN);
    out[12] = fin(ratio(in->products, in->frequency));
}

/* Column indices: BG/NBD inputs in target (all required), FEAT_COLS in
 * feats (-1 = absent). */
static tribe_status find_cols(const tribe_table *feats, const tribe_table *target, int bg[4], int fc[3])
{
    if (feats->n_local != target->n_local)
        return tribe_fail(TRIBE_ERR_INPUT, "ltv features: %lld customers here but %lld in the target table",
                          (long long)feats->n_local, (long long)target->n_local);
    for (int j = 0; j < 4; j++)
        if ((bg[j] = tribe_table_feature(target, BG_COLS[j])) < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "ltv features: the target table has no column '%s' "
                              "(not made by tribe ingest --cutoff or --target?)", BG_COLS[j]);
    for (int j = 0; j < 3; j++)
        fc[j] = tribe_table_feature(feats, FEAT_COLS[j]);
    return TRIBE_OK;
}

static double cell(const tribe_table *t, int64_t i, int c)
{
    return c < 0 ? NAN : (double)t->x[(size_t)i * (size_t)t->d + (size_t)c];
}

tribe_status tribe_ltv_features_range(const tribe_ltv_classic *c, const tribe_table *feats,
                                      const tribe_table *target, int64_t i0, int64_t n, float *out)
{
    int bg[4], fc[3];
    tribe_status st = find_cols(feats, target, bg, fc);
    if (st != TRIBE_OK)
        return st;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n; r++) {
        int64_t i = i0 + r;
        tribe_ltv_inputs in = {cell(target, i, bg[0]), cell(target, i, bg[1]), cell(target, i, bg[2]),
                               cell(target, i, bg[3]), cell(feats, i, fc[0]),  cell(feats, i, fc[1]),
                               cell(feats, i, fc[2])};
        tribe_ltv_features1(c, &in, out + (size_t)r * TRIBE_LTV_NFEAT);
    }
    return TRIBE_OK;
}

tribe_status tribe_ltv_features_table(const tribe_ltv_classic *c, const tribe_table *feats,
                                      const tribe_table *target, float *out)
{
    return tribe_ltv_features_range(c, feats, target, 0, feats->n_local, out);
}

tribe_status tribe_ltv_classic_fit(const tribe_rows *rows, const tribe_table *target, double horizon,
                                   tribe_ltv_classic *c)
{
    tribe_status st = TRIBE_OK;
    double *col[4] = {NULL, NULL, NULL, NULL};
    int64_t n = target->n_local;
    int bg[4];
    for (int j = 0; j < 4; j++)
        bg[j] = tribe_table_feature(target, BG_COLS[j]);
    /* every rank has the same column names: no agreement needed */
    for (int j = 0; j < 4; j++)
        if (bg[j] < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "ltv: the target table has no column '%s'", BG_COLS[j]);
    for (int j = 0; j < 4; j++) {
        st = tribe_alloc((void **)&col[j], ((size_t)n + 1) * sizeof *col[j]);
        if (st != TRIBE_OK)
            break;
        for (int64_t i = 0; i < n; i++) {
            double v = cell(target, i, bg[j]);
            col[j][i] = j == 3 && isnan(v) ? 0.0 : v; /* mbar is unused without repeats */
        }
    }
    TRIBE_TRY(tribe_par_agree(rows->par, st));
    c->horizon = horizon;
    TRIBE_TRY(tribe_bgnbd_fit(rows, col[0], col[1], col[2], NULL, &c->bg, &c->bg_info));
    TRIBE_TRY(tribe_gammagamma_fit(rows, col[0], col[3], NULL, &c->gg, &c->gg_info));
cleanup:
    for (int j = 0; j < 4; j++)
        free(col[j]);
    return st;
}
