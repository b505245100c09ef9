/* tribe/churn.h: churn on the temporal split of docs/ltv.md (docs/churn.md).
 *
 * churned = no net spend in (cutoff, cutoff + h] (the target file's
 * future_spend == 0). Two models are scored on the test window (features at
 * c2, churn in (c2, c2 + h]) after fitting on the train window (features at
 * c1, churn in (c1, c1 + h]): a GBDT classifier (logistic objective) on the
 * job's model columns plus four BG/NBD-derived columns, and BG/NBD itself
 * (fitted on the train window's x, t_x, T) as the baseline, read two ways:
 * 1 - P(alive) and P(no purchase in h). The GBDT is then refit on both
 * windows stacked and gives each customer of the job's input a churn risk.
 *
 * Usage:
 *     tribe_churn_cfg cfg; tribe_churn_cfg_default(&cfg); cfg.train = ...; ...
 *     tribe_churn *ch = NULL;
 *     TRIBE_TRY(tribe_churn_fit(par, &cfg, t, cols, names, m, label, k, &ch));   // collective
 *     tribe_churn_destroy(&ch);
 *     tribe_churn_metrics met;
 *     TRIBE_TRY(tribe_churn_metrics_compute(&rows, risk, churned, &met));        // collective
 *
 * Every metric is an integer count or an exact sum (tribe_xsum), so results
 * are bit-identical on any rank count.
 *
 * Ownership: the config borrows its strings; a tribe_churn owns its arrays.
 */
#ifndef TRIBE_CHURN_H
#define TRIBE_CHURN_H

#include <stdint.h>

#include "tribe/clv.h"
#include "tribe/core.h"
#include "tribe/ltv_features.h"
#include "tribe/par.h"
#include "tribe/table.h"

/* Models scored on the test window, in this order. */
#define TRIBE_CHURN_MODELS 3
extern const char *const TRIBE_CHURN_MODEL_NAMES[TRIBE_CHURN_MODELS]; /* gbdt, bgnbd_p_alive, bgnbd_p_none */

/* Columns the GBDT gets after the job's model columns, from the BG/NBD
 * baseline (fitted on the train window) applied to each table's x, t_x, T
 * (docs/churn.md). */
#define TRIBE_CHURN_EXTRA 4
extern const char *const TRIBE_CHURN_EXTRA_NAMES[TRIBE_CHURN_EXTRA];
/* bgnbd_p_alive, bgnbd_expected, bgnbd_p_none, recency_over_cadence */

#define TRIBE_CHURN_BINS 10 /* calibration bins of predicted risk: [0, 0.1), ..., [0.9, 1] */

typedef struct {
    int64_t n, n_churned; /* rows, rows with churned = 1 (global) */
    double auc;           /* P(risk of a churner > risk of a stayer), ties count 1/2; NaN with one class */
    double brier;         /* mean (risk - churned)^2 */
    double ece;           /* sum over bins of count/n * |mean risk - churn rate| */
    int64_t bin_count[TRIBE_CHURN_BINS];
    double bin_risk[TRIBE_CHURN_BINS];    /* mean predicted risk in the bin, NaN when empty */
    double bin_churned[TRIBE_CHURN_BINS]; /* observed churn rate in the bin, NaN when empty */
} tribe_churn_metrics;

typedef struct {
    const char *train, *train_target; /* as tribe_ltv_cfg (the job's ltv.* paths) */
    const char *test, *test_target;
    const char *input_target;  /* the job input's BG/NBD inputs (ltv.input_target): read when the file exists,
                                * else derived from the input's columns (tribe_ltv_input_bgnbd) */
    const tribe_ltv_classic *train_fit; /* BG/NBD + Gamma-Gamma already fitted on train_target's inputs with
                                         * horizon_days (the ltv stage's), reused as is; NULL: fitted here */
    double horizon_days;
    int n_rounds;              /* default 300 */
    double learning_rate;      /* default 0.05 */
    int max_leaves;            /* default 4 (windows of a few thousand customers, docs/churn.md) */
    double valid_fraction;     /* default 0.2 */
    int early_stopping_rounds; /* default 20; 0 = off */
    double high_risk;          /* risk at or above which a customer counts as high-risk; default 0.5 */
    int features;              /* 1: also the LTV features of tribe/ltv_features.h (churn.features "with_ltv") */
    uint64_t seed;
} tribe_churn_cfg;

typedef struct {
    int k;
    double horizon_days, high_risk;
    float *risk;                  /* [n_local] P(no purchase in the next horizon), the refit GBDT */
    tribe_churn_metrics metrics[TRIBE_CHURN_MODELS]; /* on the test window */
    tribe_bgnbd bgnbd;            /* the baseline: BG/NBD fitted on the train window */
    int bgnbd_reused;             /* 1: bgnbd (and Gamma-Gamma) came from cfg->train_fit, not fitted here */
    int input_exact;              /* 1: the input's BG/NBD inputs came from its target file; 0: derived */
    int64_t n_train, n_test;      /* customers of the windows */
    double churn_train, churn_test; /* churn rates of the windows */
    char *model_json;             /* the refit GBDT, tribe_gbdt_to_json text */
    int n_trees, n_trees_holdout; /* trees of the refit / of the model scored on the test window */
    double *seg_mean;             /* [k] mean risk per segment */
    double *seg_high;             /* [k] share of customers with risk >= high_risk */
} tribe_churn;

/* Not collective. Defaults above (paths NULL, horizon 0). */
void tribe_churn_cfg_default(tribe_churn_cfg *cfg);

/* Not collective. BG/NBD's P(no purchase in (T, T + h] | x, t_x, T):
 * 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + h))^(r + x) (an active
 * customer's rate has the posterior Gamma(r + x, alpha + T), and dropping
 * out happens only at a purchase). */
double tribe_churn_bgnbd_p_none(const tribe_bgnbd *m, double x, double tx, double T, double h);

/* Not collective. The TRIBE_CHURN_EXTRA columns of one customer into
 * out[TRIBE_CHURN_EXTRA]: P(alive), E[purchases in h], P(no purchase in h)
 * and (T - t_x) / (t_x / x), the time since the last purchase in units of the
 * customer's own mean gap (NaN without a repeat purchase). Non-finite model
 * values become NaN (missing for the GBDT). */
void tribe_churn_extra(const tribe_bgnbd *m, double x, double tx, double T, double h, float *out);

/* Collective. AUC, Brier score and calibration of risk[n_local] (in [0, 1])
 * against churned[n_local] (0/1) over all ranks' rows. The AUC ranks every
 * row by risk with a sample sort (one all-to-all; equal risks meet on one
 * rank) and counts pairs as integers. Errors (agreed): INPUT no row, a risk
 * outside [0, 1] or NaN, a label other than 0/1 (names the global row);
 * NOMEM; ENV. *out untouched on error. */
tribe_status tribe_churn_metrics_compute(const tribe_rows *rows, const double *risk, const uint8_t *churned,
                                         tribe_churn_metrics *out);

/* Collective. Fits and scores the models on the windows, refits, gives t's
 * customers (model columns cols[m], names[m], matched by name in the
 * windows) a risk, and averages it per segment (label[n_local] in [0, k)).
 * t's BG/NBD inputs are cfg->input_target's, or derived from its
 * tenure_days, recency_days, mean_days_between, monetary and frequency
 * (tribe_ltv_input_bgnbd, docs/churn.md). BG/NBD (and, with cfg->features,
 * Gamma-Gamma) on the train window is cfg->train_fit when given, else
 * fitted here. Bad input is INPUT naming the file; IO; NOMEM; ENV. *out
 * NULL on error. */
tribe_status tribe_churn_fit(tribe_par *par, const tribe_churn_cfg *cfg, const tribe_table *t, const int *cols,
                             const char *const *names, int m, const int32_t *label, int k, tribe_churn **out);
/* Accepts NULL; sets *c = NULL. */
void tribe_churn_destroy(tribe_churn **c);

#endif
