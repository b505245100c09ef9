/* tribe/ltv_features.h: features that transfer between temporal windows
 * (docs/ltv.md, "Features that transfer").
 *
 * A model trained on the features at one cutoff must predict from the
 * features at a later one. Raw ages (tenure, counts, totals) grow with the
 * cutoff, so at the later cutoff they lie outside what the model saw; these
 * features are rates, ratios and the classic models' own predictions, which
 * mean the same thing at any cutoff:
 *
 *   bgnbd_expected_tx      BG/NBD E[purchase days in the next horizon]
 *   p_alive                BG/NBD P(still active at the cutoff)
 *   gg_expected_spend      Gamma-Gamma E[spend per purchase day]
 *   clv_bgnbd_gg           the two multiplied: the classic CLV (stacking)
 *   spend_per_day          monetary / tenure (tenure = T + 1 days)
 *   orders_per_30d         frequency (invoices) per 30 days of tenure
 *   purchase_days_per_30d  (x + 1) purchase days per 30 days of tenure
 *   recency_days           T - t_x: days from the last purchase to the cutoff
 *   recency_over_gap       (T - t_x) / (t_x / x): recency in units of the
 *                          customer's own mean gap (NaN when x = 0)
 *   recency_share          (T - t_x) / (T + 1): share of the tenure since
 *                          the last purchase
 *   avg_order_value        monetary / frequency
 *   repeat_mean_spend      mbar (NaN when x = 0)
 *   products_per_order     distinct_products / frequency
 *
 * NaN means missing (the GBDT sends it down its learned default branch).
 * Inputs: the BG/NBD inputs x, t_x, T, mbar of ingest's target file
 * (docs/ltv.md) and the customers table's monetary, frequency and
 * distinct_products (any of them may be absent: NaN). Nothing after the
 * window's cutoff enters: the classic parameters must be fitted on the
 * window's own inputs (tribe_ltv_classic_fit), never on a target.
 *
 * Usage (one window; churn uses the same features):
 *     tribe_ltv_classic c;
 *     st = tribe_ltv_classic_fit(&rows, target, 90, &c);        // collective
 *     float *f = malloc(n_local * TRIBE_LTV_NFEAT * sizeof *f);
 *     st = tribe_ltv_features_table(&c, feats, target, f);      // not collective
 *
 * Ownership: the caller owns every array and table.
 */
#ifndef TRIBE_LTV_FEATURES_H
#define TRIBE_LTV_FEATURES_H

#include "tribe/clv.h"
#include "tribe/core.h"
#include "tribe/table.h"

#define TRIBE_LTV_NFEAT 13
extern const char *const TRIBE_LTV_FEATURE_NAMES[TRIBE_LTV_NFEAT]; /* the order above */

/* One customer's inputs (days; NaN = absent). */
typedef struct {
    double x, t_x, T, mbar;                  /* BG/NBD inputs: repeat days, last - first, cutoff - first, mean repeat spend */
    double monetary, frequency, products;    /* customers.h5: monetary, frequency, distinct_products */
} tribe_ltv_inputs;

/* BG/NBD + Gamma-Gamma fitted on one window's inputs, and the horizon. */
typedef struct {
    tribe_bgnbd bg;
    tribe_gammagamma gg;
    double horizon;           /* days */
    tribe_clv_fit_info bg_info, gg_info; /* log-likelihoods, iterations, customers used */
} tribe_ltv_classic;

/* Not collective. The TRIBE_LTV_NFEAT features of one customer into out[],
 * in TRIBE_LTV_FEATURE_NAMES order; NaN where undefined (x = 0 for the
 * gap-based ones, an absent input, a non-finite classic prediction). */
void tribe_ltv_features1(const tribe_ltv_classic *c, const tribe_ltv_inputs *in, float *out);

/* Not collective. out[n_local][TRIBE_LTV_NFEAT] for every local row of
 * feats/target (same customers, same order; not checked here beyond the
 * counts). Columns are found by name: bgnbd_x, bgnbd_t_x, bgnbd_T,
 * repeat_mean_spend in target (required), monetary, frequency,
 * distinct_products in feats (NaN when absent). Errors: INPUT a missing
 * BG/NBD column or different local row counts (named); out untouched. */
tribe_status tribe_ltv_features_table(const tribe_ltv_classic *c, const tribe_table *feats,
                                      const tribe_table *target, float *out);

/* Not collective. The same for local rows [i0, i0 + n) only, into
 * out[n][TRIBE_LTV_NFEAT] (a block at a time: no n_local-sized buffer). */
tribe_status tribe_ltv_features_range(const tribe_ltv_classic *c, const tribe_table *feats,
                                      const tribe_table *target, int64_t i0, int64_t n, float *out);

/* Collective. BG/NBD and Gamma-Gamma fitted on the target table's BG/NBD
 * inputs (rows: the table's rows over ranks), with `horizon` stored in *c.
 * Errors (agreed): as tribe_bgnbd_fit / tribe_gammagamma_fit (INPUT no
 * repeat customer, USAGE a bad row), INPUT a missing column; NOMEM. */
tribe_status tribe_ltv_classic_fit(const tribe_rows *rows, const tribe_table *target, double horizon,
                                   tribe_ltv_classic *c);

/* Not collective. The classic CLV of one customer (E[tx] x E[spend]); NaN
 * when not finite. */
double tribe_ltv_classic_predict1(const tribe_ltv_classic *c, double x, double t_x, double T, double mbar);

#endif
