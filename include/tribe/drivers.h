/* tribe/drivers.h: segment drivers (docs/gbdt.md): what tells the segments
 * apart, in the units a marketer knows. A softmax GBDT (tribe/gbdt.h) learns
 * the segment label from the RAW model columns (NaN stays missing), and
 * TreeSHAP on a sample gives the mean |SHAP| of each feature for each
 * segment (segment s read off the class-s output).
 *
 * Usage:
 *     tribe_drivers_cfg cfg; tribe_drivers_cfg_default(&cfg); cfg.seed = job->seed;
 *     tribe_drivers *dr = NULL;
 *     TRIBE_TRY(tribe_drivers_fit(par, t, cols, m, label, k, &cfg, &dr));
 *     ... dr->mean_abs[c * m + j] ...
 *     tribe_drivers_destroy(&dr);
 *
 * Determinism: the training sample and the TreeSHAP sample are drawn by
 * global row index, the model and the sums are exact, so every number is
 * independent of the rank and thread counts.
 * Ownership: a tribe_drivers owns its arrays.
 */
#ifndef TRIBE_DRIVERS_H
#define TRIBE_DRIVERS_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/table.h"

typedef struct {
    int n_rounds;         /* boosting rounds (trees per segment); default 30 */
    int max_leaves;       /* default 15 */
    double learning_rate; /* default 0.2 */
    int64_t sample_size;  /* rows TreeSHAP explains (expected, by global row index); 0 = all; default 10000 */
    int64_t train_rows;   /* rows the GBDT trains on (expected); 0 = all; default 1,000,000 */
    uint64_t seed;
} tribe_drivers_cfg;

typedef struct {
    int k, m;
    double *mean_abs;     /* [k][m]: mean |SHAP| of the class-c output over segment c's sampled rows */
    double *gain;         /* [m]: split gain over all trees, summed in class order */
    int64_t rows;         /* rows TreeSHAP explained, all ranks */
    int64_t train_rows;   /* rows the model trained on, all ranks */
    int n_trees;
    char *model_json;     /* the GBDT, tribe_gbdt_to_json text */
} tribe_drivers;

/* Not collective. The defaults above. */
void tribe_drivers_cfg_default(tribe_drivers_cfg *cfg);

/* Collective. Fits the driver model on t's model columns cols[m] against
 * label[t->n_local] in [0, k) (k >= 2) and explains the sample. Memory: the
 * GBDT holds ~(2m + 33 + 24k) bytes a training row beside the m-float copy,
 * hence the train_rows sample. Errors: those of tribe_gbdt_fit, NOMEM, ENV.
 * *out (free with tribe_drivers_destroy) NULL on error. */
tribe_status tribe_drivers_fit(tribe_par *par, const tribe_table *t, const int *cols, int m, const int32_t *label,
                               int k, const tribe_drivers_cfg *cfg, tribe_drivers **out);
/* Accepts NULL; sets *d = NULL. */
void tribe_drivers_destroy(tribe_drivers **d);

#endif
