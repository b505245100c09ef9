/* tribe/ltv.h: lifetime value on an honest temporal split (docs/ltv.md).
 *
 * Two windows made by `tribe ingest --cutoff c --horizon h`: train (features
 * as of c1 -> spend in (c1, c1 + h]) and test (features as of c2 >= c1 + h ->
 * spend in (c2, c2 + h]). The GBDT (tribe/gbdt.h), BG/NBD + Gamma-Gamma
 * (tribe/clv.h) and the past spend rate are fitted on train and scored on
 * test; then the GBDT is refit on both windows' rows and predicts the next
 * horizon for every customer of the job's input.
 *
 * Usage:
 *     tribe_ltv_cfg cfg; tribe_ltv_cfg_default(&cfg); cfg.train = ...; ...
 *     tribe_ltv *lv = NULL;
 *     TRIBE_TRY(tribe_ltv_fit(par, &cfg, t, cols, names, m, label, k, &lv));
 *     tribe_ltv_destroy(&lv);
 *
 * Ownership: the config borrows its strings; a tribe_ltv owns its arrays.
 */
#ifndef TRIBE_LTV_H
#define TRIBE_LTV_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/table.h"

/* Models scored on the test window, in this order (rows of metrics). */
#define TRIBE_LTV_MODELS 3
extern const char *const TRIBE_LTV_MODEL_NAMES[TRIBE_LTV_MODELS]; /* gbdt, bgnbd_gamma_gamma, past_spend_rate */

/* tribe_ltv_cfg.objective */
enum { TRIBE_LTV_TWEEDIE = 0, TRIBE_LTV_POISSON = 1, TRIBE_LTV_SQUARED = 2 };
extern const char *const TRIBE_LTV_OBJECTIVES[3]; /* "tweedie", "poisson", "squared" */

typedef struct {
    const char *train, *train_target; /* customers.h5 ingested with --cutoff c1, and its target file */
    const char *test, *test_target;   /* with --cutoff c2 >= c1 + horizon */
    double horizon_days;  /* the ingests' --horizon */
    int objective;        /* TRIBE_LTV_TWEEDIE (default), _POISSON, _SQUARED */
    int n_rounds;         /* default 200 */
    double learning_rate; /* default 0.05 */
    int max_leaves;       /* default 15 */
    double valid_fraction;     /* rows held out for early stopping; default 0.2 */
    int early_stopping_rounds; /* default 20; 0 = off */
    uint64_t seed;
} tribe_ltv_cfg;

typedef struct {
    int k;
    double horizon_days;
    int objective;
    float *pred;          /* [n_local] predicted spend over the next horizon, >= 0 */
    double metrics[TRIBE_LTV_MODELS][4]; /* mae, rmse, r2, top-decile lift on the test window */
    char *model_json;     /* the refit GBDT, tribe_gbdt_to_json text */
    int n_trees;
    double *seg_mean, *seg_median, *seg_total; /* [k] predicted value per segment */
} tribe_ltv;

/* Not collective. Defaults above (paths NULL, horizon 0). */
void tribe_ltv_cfg_default(tribe_ltv_cfg *cfg);

/* Collective. Fits and scores the models on the windows, refits, predicts
 * t's customers from the model columns cols[m] (names[m], matched by name in
 * the windows' files) and sums the prediction per segment (label[n_local] in
 * [0, k)). Bad input is INPUT naming the file(s) and, for a row, the
 * customer id; IO; NOMEM; ENV. *out NULL on error. */
tribe_status tribe_ltv_fit(tribe_par *par, const tribe_ltv_cfg *cfg, const tribe_table *t, const int *cols,
                           const char *const *names, int m, const int32_t *label, int k, tribe_ltv **out);
/* Accepts NULL; sets *l = NULL. */
void tribe_ltv_destroy(tribe_ltv **l);

#endif
