/* tribe/ltv.h: lifetime value on an honest temporal split (docs/ltv.md).
 *
 * Two windows made by `tribe ingest --cutoff c --horizon h`: train (features
 * as of c1 -> spend in (c1, c1 + h]) and test (features as of c2 >= c1 + h ->
 * spend in (c2, c2 + h]). The GBDT (tribe/gbdt.h, on the transferable
 * features of tribe/ltv_features.h) is fitted on train and scored on test
 * with BG/NBD + Gamma-Gamma (tribe/clv.h, fitted on each window's own
 * inputs), their blend (weight fitted on test) and the past spend rate; the
 * candidate no worse than the classic on R^2 and MAE (and, with
 * cfg.select_confidence > 0, better on both in that share of a paired
 * bootstrap of the test window's customers) with the best R^2 is chosen. Then the GBDT is refit on both windows' rows and the chosen model
 * predicts the next horizon for every customer of the job's input. More
 * labelled windows (cfg.stack, ltv.train_windows), each with its own
 * classic fit and features, can be stacked before train's rows in every
 * GBDT's training set.
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
#include "tribe/ltv_features.h"
#include "tribe/table.h"

/* Models scored on the test window, in this order (rows of metrics); the
 * first three are the candidates of the selection. */
#define TRIBE_LTV_MODELS 5
enum { TRIBE_LTV_GBDT = 0, TRIBE_LTV_RESID = 1, TRIBE_LTV_CLASSIC = 2, TRIBE_LTV_BLEND = 3, TRIBE_LTV_RATE = 4 };
#define TRIBE_LTV_CANDIDATES 4
/* gbdt (learns the spend), gbdt_residual (learns spend - the classic CLV,
 * squared loss, the classic added back: it extrapolates like the classic),
 * bgnbd_gamma_gamma, blend (of the first three), past_spend_rate */
extern const char *const TRIBE_LTV_MODEL_NAMES[TRIBE_LTV_MODELS];

/* tribe_ltv_cfg.objective */
enum { TRIBE_LTV_TWEEDIE = 0, TRIBE_LTV_POISSON = 1, TRIBE_LTV_SQUARED = 2 };
extern const char *const TRIBE_LTV_OBJECTIVES[3]; /* "tweedie", "poisson", "squared" */
/* tribe_ltv_cfg.features: the GBDT's inputs */
enum { TRIBE_LTV_FEAT_TRANSFERABLE = 0, TRIBE_LTV_FEAT_MODEL = 1 };
extern const char *const TRIBE_LTV_FEATURE_SETS[2]; /* "transferable" (tribe/ltv_features.h), "model_columns" */
/* The windows of the classic fits (rows of tribe_ltv.classic). */
enum { TRIBE_LTV_W_TRAIN = 0, TRIBE_LTV_W_TEST = 1, TRIBE_LTV_W_INPUT = 2 };

typedef struct {
    const char *train, *train_target; /* customers.h5 ingested with --cutoff c1, and its target file */
    const char *test, *test_target;   /* with --cutoff c2 >= c1 + horizon */
    const char *input_target;         /* the job input's BG/NBD inputs (tribe ingest --target without
                                       * --cutoff); NULL or absent file: approximated (docs/ltv.md) */
    /* ltv.train_windows: more labelled windows (customers.h5 made with
     * --cutoff ce --horizon h, ce + h <= c2, and their target files), their
     * rows stacked before train's in every GBDT's training set; 0 = none. */
    const char *const *stack, *const *stack_target;
    int n_stack;
    double horizon_days;  /* the ingests' --horizon */
    int objective;        /* TRIBE_LTV_TWEEDIE (default), _POISSON, _SQUARED */
    int features;         /* TRIBE_LTV_FEAT_TRANSFERABLE (default) or _MODEL (the job's model columns, raw) */
    int n_rounds;         /* default 200 */
    double learning_rate; /* default 0.05 */
    int max_leaves;       /* default 15 */
    double valid_fraction;     /* rows held out for early stopping; default 0.2 */
    int early_stopping_rounds; /* default 20; 0 = off */
    int n_boot;           /* bootstrap replicates of the per-segment intervals; default 200, 0 = none */
    /* ltv.select_confidence in [0, 1): a challenger (gbdt, gbdt_residual,
     * blend) replaces the classic only when, besides being no worse on the
     * test window, its MAE and its R^2 are better than the classic's in at
     * least this share of the paired bootstrap replicates of the test
     * window's customers (TRIBE_LTV_SELECT_BOOT); 0 = the point rule alone. */
    double select_confidence;
    uint64_t seed;
} tribe_ltv_cfg;

/* Replicates of the selection's paired bootstrap (docs/ltv.md, "Selection"). */
#define TRIBE_LTV_SELECT_BOOT 1000

/* One stacked training window, as used (record, log). */
typedef struct {
    const char *file;  /* borrowed from the config */
    int64_t cutoff_day, rows;
    tribe_ltv_classic classic; /* BG/NBD + Gamma-Gamma fitted on its own inputs */
} tribe_ltv_stacked;

typedef struct {
    int k;
    double horizon_days;
    int objective, features;
    float *pred;          /* [n_local] the chosen model's predicted spend over the next horizon, >= 0 */
    float *cand;          /* [n_local][TRIBE_LTV_CANDIDATES] every candidate's prediction, same order */
    double metrics[TRIBE_LTV_MODELS][4]; /* mae, rmse, r2, top-decile lift on the test window */
    int chosen;           /* TRIBE_LTV_GBDT, _RESID, _CLASSIC or _BLEND */
    double blend_w[3];    /* blend = w0 gbdt + w1 gbdt_residual + w2 classic, fitted on the test window */
    char why[1024];       /* the reason, in words, with the held-out figures and the bootstrap shares */
    double select_confidence; /* the rule's level (cfg), 0 = the point rule alone */
    /* [candidate][0]: share of the TRIBE_LTV_SELECT_BOOT replicates where the
     * candidate's absolute error sum is below the classic's (a better MAE),
     * [1]: its squared error sum (a better R^2); NaN for the classic. */
    double select_share[TRIBE_LTV_CANDIDATES][2];
    int input_exact;      /* 1: the input's BG/NBD inputs came from its target file; 0: approximated */
    tribe_ltv_classic classic[3]; /* BG/NBD + Gamma-Gamma fitted on each window's own inputs (TRIBE_LTV_W_*) */
    const char *classic_on[3]; /* the files each classic[] fit read its inputs from: the train and test target
                                * files, the input's target file (NULL: approximated); the config's strings,
                                * borrowed (valid while it is): a later stage reuses a fit only on the same file */
    char *model_json;     /* the refit GBDTs, tribe_gbdt_to_json text: spend */
    char *resid_json;     /* and residual */
    int n_trees;
    double *seg_mean, *seg_median, *seg_total; /* [k] predicted value per segment */
    int n_boot;
    double *seg_lo, *seg_hi; /* [k] 95% bootstrap interval of seg_mean (NaN without replicates) */
    /* The stacked windows (ltv.train_windows, cfg order) and the rows the
     * GBDTs learned from: the candidates (stack + train), the refit (+ test). */
    int n_stack;
    tribe_ltv_stacked *stack; /* [n_stack] */
    int64_t train_rows, refit_rows;
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

/* Collective. The selection's paired bootstrap (docs/ltv.md, "In tribe
 * run", step 3): on rows' customers (targets y[n_local], the classic's
 * predictions pc[n_local], challenger j's p[j][n_local], j < nc <=
 * TRIBE_LTV_CANDIDATES, all finite), n_rep replicates in which customer i
 * weighs Poisson(1), drawn from the counter RNG keyed by (seed, stream
 * TRIBE_STREAM_LTV_SELECT, global row x n_rep + b). share[j][0] = the share
 * of replicates where challenger j's weighted absolute error sum is below
 * the classic's (a better MAE), share[j][1] the same for the squared errors
 * (a better R^2: both share the weighted SST). Each customer's error
 * difference is rounded to the fixed point once and the weighted sums are
 * exact (tribe_xsum): the same bits on any rank count. NaN shares when
 * n_rep <= 0. NOMEM, ENV (MPI); INTERNAL when nc is too large. */
tribe_status tribe_ltv_select_shares(const tribe_rows *rows, const double *y, const double *pc,
                                     const double *const *p, int nc, uint64_t seed, int n_rep, double (*share)[2]);

/* Not collective. Sets lr->chosen and lr->why from lr->metrics (the test
 * window's), lr->select_share and lr->select_confidence: among the
 * candidates no worse than BG/NBD + Gamma-Gamma on both R^2 and MAE (the
 * classic always is) and, when select_confidence > 0, with both shares >=
 * it, the best R^2; ties go to the simpler (classic, then the GBDTs, then
 * the blend). */
void tribe_ltv_choose(tribe_ltv *lr);

/* Collective. The job input's BG/NBD inputs, one derivation for every stage
 * that needs them (ltv, churn): a table of the target file's 5 columns
 * (future_spend NaN, bgnbd_x, bgnbd_t_x, bgnbd_T, repeat_mean_spend) for
 * t's customers. Read from `path` (`tribe ingest --target` without --cutoff)
 * when that file exists (*exact = 1); else derived from t's columns
 * (tribe_ltv_input_derive) with a warning prefixed "who: " (*exact = 0).
 * Errors (agreed): INPUT a file of other customers than t's, or no file and
 * a column missing; IO; NOMEM. *out NULL on error. */
tribe_status tribe_ltv_input_bgnbd(tribe_par *par, const char *who, const char *path, const tribe_table *t,
                                   tribe_table **out, int *exact);

/* Not collective. The BG/NBD inputs of t's customers from customers.h5
 * columns, as a table of the target file's 5 columns: t_x = tenure_days -
 * recency_days, T = tenure_days - 1 and x = t_x / mean_days_between
 * rounded (0 with one purchase day), which are ingest's bgnbd_t_x, bgnbd_T
 * and bgnbd_x exactly (distinct purchase days - 1, since mean_days_between
 * = (last - first day) / (days - 1)); repeat_mean_spend approximated by
 * monetary / frequency (the mean order, the first included; 0 when x = 0),
 * the one input not exact; future_spend NaN. A non-finite or inconsistent
 * row gets t_x = 0 (recency > tenure), T = t_x (tenure - 1 < t_x) or x = 0.
 * INPUT naming a missing column (prefixed "who: "); NOMEM. */
tribe_status tribe_ltv_input_derive(const char *who, const tribe_table *t, tribe_table **out);

/* Not collective. The target file `tribe ingest --cutoff` writes beside its
 * output src when the job names none: <src without .h5>.target.h5, in a new
 * *dst (left as is when *dst is already set, the job's own choice). NOMEM. */
tribe_status tribe_ltv_target_path(const char *src, char **dst);

/* The window files of the job's "ltv" object, which the ltv and churn
 * stages both read (the job's paths, resolved). */
typedef struct {
    char *train, *train_target, *test, *test_target, *input_target;
} tribe_ltv_paths;

/* Not collective. The target files the job leaves out: the train and test
 * windows' beside them, and the input's beside `input` (none when NULL), by
 * tribe_ltv_target_path. NOMEM. */
tribe_status tribe_ltv_paths_default(tribe_ltv_paths *p, const char *input);
void tribe_ltv_paths_free(tribe_ltv_paths *p);

#endif
