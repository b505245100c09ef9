/* tribe/gbdt.h: histogram gradient-boosted decision trees, data-parallel over
 * ranks, with exact path-dependent TreeSHAP.
 *
 * Usage (one rank's shard: x[n][d] row-major floats, NaN = missing, rows
 * [offset, offset + n) of n_global, a tribe_rows checked once when made;
 * y[n]; valid[n] flags validation rows):
 *     tribe_rows rows;  TRIBE_TRY(tribe_rows_init(par, n, offset, n_global, &rows));
 *     tribe_gbdt_cfg cfg;  tribe_gbdt_cfg_default(&cfg);
 *     cfg.objective = TRIBE_GBDT_TWEEDIE;  cfg.n_rounds = 100;  cfg.seed = 42;
 *     tribe_gbdt_model *m = NULL;
 *     TRIBE_TRY(tribe_gbdt_fit(&(tribe_dmat){&rows, x, d}, y, valid, &cfg, &m));  // collective
 *     tribe_gbdt_predict(m, x, n, pred);                        // pred[n][m->n_groups], local
 *     tribe_gbdt_shap(m, x, n, phi);                            // phi[n][n_groups][d + 1], local
 *     TRIBE_TRY(tribe_gbdt_save(m, "model.json"));  tribe_gbdt_model_destroy(&m);
 *
 * Determinism: bin edges come from a sample drawn by the counter RNG keyed by
 * GLOBAL row index and gathered in rank order; gradients and hessians are
 * summed as tribe_xsum fixed-point integers, so every rank sees the same
 * histograms, takes the same split decisions and holds a bit-identical model
 * whatever the number of ranks and OpenMP threads (docs/gbdt.md).
 *
 * Ownership: a model returned through ** belongs to the caller and is freed
 * with tribe_gbdt_model_destroy (accepts NULL). Array outputs are
 * caller-allocated with the shapes given per function. Nothing here keeps a
 * pointer to caller memory.
 */
#ifndef TRIBE_GBDT_H
#define TRIBE_GBDT_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/streams.h"

/* RNG streams: tribe/streams.h (TRIBE_STREAM_GBDT_BIN, _BAG). */

/* Version of the model JSON written by tribe_gbdt_save; loading any other
 * version fails with TRIBE_ERR_INPUT. */
#define TRIBE_GBDT_FORMAT_VERSION 1
#define TRIBE_GBDT_MAX_BINS 255 /* non-missing bins per feature; code 0 is NaN */

typedef enum {
    TRIBE_GBDT_SQUARED = 0, /* y real; identity link */
    TRIBE_GBDT_POISSON,     /* y >= 0; log link */
    TRIBE_GBDT_TWEEDIE,     /* y >= 0; log link; variance power in (1, 2) */
    TRIBE_GBDT_LOGISTIC,    /* y in {0, 1}; logit link; prediction = probability */
    TRIBE_GBDT_SOFTMAX      /* y in {0, .., n_class-1}; one tree per class per round */
} tribe_gbdt_objective;

typedef struct {
    tribe_gbdt_objective objective;
    double tweedie_power;      /* in (1, 2) for TWEEDIE */
    int n_class;               /* >= 2 for SOFTMAX, ignored otherwise */
    int n_rounds;              /* boosting rounds (trees per group) */
    int max_leaves;            /* >= 2 */
    int max_depth;             /* <= 0: unlimited (max_leaves bounds it) */
    int64_t min_samples_leaf;  /* >= 1: global rows in each child */
    double min_child_weight;   /* hessian sum in each child */
    double min_gain;           /* a split must reduce the loss by more than this */
    double lambda;             /* L2 regularisation of leaf values */
    double learning_rate;
    double subsample;          /* fraction of training rows per tree, (0, 1] */
    int max_bins;              /* non-missing bins per feature, 2..255 */
    int64_t bin_sample;        /* rows sampled (in expectation) for bin edges */
    int early_stopping_rounds; /* patience on the validation loss; 0 = off */
    uint64_t seed;
} tribe_gbdt_cfg;

/* Defaults: squared error, 100 rounds, 31 leaves, no depth limit,
 * min_samples_leaf 20, min_child_weight 1e-3, min_gain 0, lambda 1,
 * learning_rate 0.1, subsample 1, 255 bins, 200000 bin-sample rows, no early
 * stopping, tweedie_power 1.5, seed 42. Not collective. */
void tribe_gbdt_cfg_default(tribe_gbdt_cfg *cfg);

/* One node. Internal: rows with x[feature] <= threshold (or NaN and
 * default_left) go to `left`, others to `right`; `bin` is the same test on
 * codes (code != 0 && code <= bin). Leaf: feature == -1 and `value` is the
 * (learning-rate scaled) raw score it adds. cover = training rows that
 * reached the node (the TreeSHAP weights); gain = loss reduction of the split. */
typedef struct {
    int32_t feature;
    int32_t left, right;
    uint8_t bin;
    uint8_t default_left;
    float threshold;
    double value;
    double gain;
    double cover;
} tribe_gbdt_node;

typedef struct {
    int32_t group; /* output this tree adds to (class for SOFTMAX, else 0) */
    int32_t n_nodes;
    tribe_gbdt_node *nodes; /* nodes[0] is the root */
} tribe_gbdt_tree;

typedef struct {
    tribe_gbdt_objective objective;
    double tweedie_power;
    int n_features;
    int n_groups;        /* outputs: n_class for SOFTMAX, else 1 */
    double *base_score;  /* [n_groups] raw score before any tree */
    int n_trees;         /* = n_rounds_kept * n_groups, round-major */
    tribe_gbdt_tree *trees;
    int best_round;      /* rounds kept - 1 (early stopping keeps the best) */
    /* Training history (not saved): loss per round on training and
     * validation rows (valid_loss NULL without validation rows). */
    int n_hist;
    double *train_loss, *valid_loss;
} tribe_gbdt_model;

void tribe_gbdt_model_destroy(tribe_gbdt_model **m); /* accepts NULL; sets *m = NULL */

/* ---- binning ---------------------------------------------------------------- */

/* Per-feature bin edges. Feature f has n_edges[f] strictly increasing float
 * edges e[0..k-1] at edges[off[f]]; a finite or infinite value x gets code
 * 1 + #{j : e[j] < x} (so x <= e[b-1] <=> code <= b) and NaN gets code 0.
 * A feature with no edges (constant or all-missing) is never split. */
typedef struct {
    int d;
    int *n_edges; /* [d] */
    int *off;     /* [d + 1] */
    float *edges; /* [off[d]] */
} tribe_gbdt_bins;

void tribe_gbdt_bins_destroy(tribe_gbdt_bins **b); /* accepts NULL */

/* Quantile edges of each feature from sorted non-missing sample values:
 * values[off[f] .. off[f+1]) hold feature f's sample (any order; sorted
 * here in place). At most max_bins - 1 edges; with at most max_bins distinct
 * values every distinct value gets its own bin. Not collective.
 * Errors: NOMEM, USAGE (max_bins outside 2..255). */
tribe_status tribe_gbdt_bins_from_sample(float *values, const int64_t *off, int d, int max_bins,
                                         tribe_gbdt_bins **out);

/* Collective: edges from the rows i of x (this rank's x->x[n_local][d])
 * with (skip == NULL || !skip[i]), sampled by global row index
 * (TRIBE_STREAM_GBDT_BIN) with rate min(1, sample / n_candidates_global),
 * gathered over ranks: identical on every rank and for any rank count.
 * Errors: NOMEM, USAGE, ENV. */
tribe_status tribe_gbdt_bins_fit(const tribe_dmat *x, const uint8_t *skip, int max_bins, int64_t sample,
                                 uint64_t seed, tribe_gbdt_bins **out);

/* Kernel: codes[n][d] of x[n][d]. OpenMP over rows. Not collective. */
void tribe_gbdt_bin_codes(const tribe_gbdt_bins *b, const float *x, int64_t n, uint8_t *codes);

/* ---- training --------------------------------------------------------------- */

/* Collective: boosts a model on the rows of x (this rank's x->x[n][d],
 * global rows [offset, offset + n) of n_global) and y[n]. valid[n] (may be
 * NULL) marks validation rows: they take no part in bins or trees and give
 * the early-stopping loss. The model is identical on every rank. Errors
 * (agreed over ranks):
 *   USAGE  bad cfg (names the field), early stopping without validation rows,
 *          shard sizes that do not add up to n_global;
 *   INPUT  NaN/inf target or one outside the objective's domain (names the
 *          global row index), fewer training rows than min_samples_leaf;
 *   NOMEM, ENV. */
tribe_status tribe_gbdt_fit(const tribe_dmat *x, const double *y, const uint8_t *valid, const tribe_gbdt_cfg *cfg,
                            tribe_gbdt_model **out);

/* Several tables stacked as one training set (e.g. the same customers at two
 * cutoffs). Block b is a table distributed like any shard: x on its rows
 * (this rank's x.x[n][d]), y[n], valid[n] (valid may be NULL = no
 * validation row). Every block has the same d and communicator. */
typedef struct {
    tribe_dmat x;
    const double *y;
    const uint8_t *valid;
} tribe_gbdt_block;

/* Collective (over blk[0].x.rows->par): tribe_gbdt_fit on the rows of n_blk
 * blocks stacked in block order, i.e. row i of block b has global index
 * (n_global of the blocks before b) + i. The rows are first moved (one
 * all-to-all) so that each rank holds a contiguous range of that stacked
 * order, so the model (bin sample, bagging, ties) is bit-identical to a fit
 * of the concatenated table on one rank, whatever the rank count. Target
 * errors name the stacked row index. Errors: those of tribe_gbdt_fit; USAGE
 * for no block, blocks of different widths, or blocks whose shards do not
 * add up to their n_global; NOMEM, ENV. */
tribe_status tribe_gbdt_fit_blocks(const tribe_gbdt_block *blk, int n_blk, const tribe_gbdt_cfg *cfg,
                                   tribe_gbdt_model **out);

/* ---- prediction (kernels, Not collective, OpenMP over rows) ---------------- */

/* out[n][n_groups]: base score + sum of tree values (raw, link scale). */
void tribe_gbdt_predict_raw(const tribe_gbdt_model *m, const float *x, int64_t n, double *out);
/* out[n][n_groups]: raw score through the inverse link (identity, exp,
 * sigmoid, softmax). */
void tribe_gbdt_predict(const tribe_gbdt_model *m, const float *x, int64_t n, double *out);

/* ---- model files ------------------------------------------------------------ */

/* Model as JSON text (caller frees) / file (written atomically); format in
 * docs/gbdt.md. Errors: NOMEM, IO (names the path). Not collective. */
tribe_status tribe_gbdt_to_json(const tribe_gbdt_model *m, char **out);
tribe_status tribe_gbdt_save(const tribe_gbdt_model *m, const char *path);
/* Errors: INPUT for malformed JSON, a missing/invalid field (named) or a
 * format version other than TRIBE_GBDT_FORMAT_VERSION (both versions named);
 * IO for an unreadable file; NOMEM. Not collective. */
tribe_status tribe_gbdt_from_json(const char *text, tribe_gbdt_model **out);
tribe_status tribe_gbdt_load(const char *path, tribe_gbdt_model **out);

/* ---- TreeSHAP --------------------------------------------------------------- */

/* Exact path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2), cover
 * weighted. phi[n][n_groups][d + 1]: per-feature contributions to the raw
 * score, then the expected value (base score + cover-weighted mean of every
 * tree); each row's d + 1 entries sum to its raw prediction. OpenMP over
 * rows. Errors: NOMEM. Not collective. */
tribe_status tribe_gbdt_shap(const tribe_gbdt_model *m, const float *x, int64_t n, double *phi);

/* TreeSHAP of one row at a time, fast: tables built once per model hold, for
 * every leaf and every pattern of decisions along its path, what the
 * recursion adds there, so a row costs a walk of each tree and a few
 * additions per leaf. tribe_gbdt_shap_row gives phi[n_groups][d + 1]
 * bit-identical to tribe_gbdt_shap for that row. Trees deeper than 10 keep
 * the recursion; a table costs 2^depth x depth entries a leaf. The table
 * borrows m (keep m alive); it is read-only after the build, so threads may
 * share it. Not collective. Errors: NOMEM. */
typedef struct tribe_gbdt_shap_table tribe_gbdt_shap_table;
tribe_status tribe_gbdt_shap_table_build(const tribe_gbdt_model *m, tribe_gbdt_shap_table **out);
void tribe_gbdt_shap_table_destroy(tribe_gbdt_shap_table **t); /* accepts NULL */
tribe_status tribe_gbdt_shap_row(const tribe_gbdt_shap_table *t, const float *x, double *phi);

/* Expected raw value per group (the last column of tribe_gbdt_shap):
 * ev[n_groups]. Not collective. */
void tribe_gbdt_expected_value(const tribe_gbdt_model *m, double *ev);

/* Collective: mean |phi| per feature per (segment, output group) over all
 * ranks' rows: phi[n][n_groups][d + 1] as from tribe_gbdt_shap, seg[n] in
 * [0, n_seg) (rows with seg < 0 are skipped); out[n_seg][n_groups][d]
 * (0 for an empty segment); count[n_seg] (may be NULL) receives the global
 * row count. Exact sums: identical on any rank count.
 * Errors: INPUT (segment id >= n_seg, names the local row), NOMEM, ENV. */
tribe_status tribe_gbdt_shap_mean_abs(tribe_par *par, const double *phi, int64_t n, int n_groups,
                                      int d, const int32_t *seg, int n_seg, double *out,
                                      int64_t *count);

/* Global importance: gain[n_groups][d] = sum of the split gains (loss
 * reductions) of each feature over the group's trees. Not collective. */
void tribe_gbdt_importance_gain(const tribe_gbdt_model *m, double *gain);

/* Per-row explanation: the k (<= d) features of largest |phi[f]| among
 * phi[0..d) (one row and group of tribe_gbdt_shap), largest first, ties to
 * the lower feature index: idx[k], val[k] (the signed contributions).
 * Returns how many were written (min(k, d)). Not collective. */
int tribe_gbdt_top_contrib(const double *phi, int d, int k, int *idx, double *val);

#endif
