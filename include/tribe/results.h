/* tribe/results.h: results.h5, the record of one `tribe run`
 * (docs/hdf5-layout.md). The writer takes plain arrays so it knows nothing
 * of how they were computed.
 *
 * Usage:
 *     tribe_results r = {0};
 *     r.run_id = job->run_id; r.id = t->id; r.label = label; ...
 *     TRIBE_TRY(tribe_results_write(par, "out/.staging/results.h5", &r));
 *
 * Ownership: tribe_results only borrows; the caller owns every array.
 * Collective: every rank passes its own per-customer rows and the same
 * run-wide values.
 */
#ifndef TRIBE_RESULTS_H
#define TRIBE_RESULTS_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/segment.h"

#define TRIBE_RESULTS_FORMAT "tribe-results"
#define TRIBE_RESULTS_FORMAT_VERSION 1
#define TRIBE_RESULTS_SWEEP_COLS 8

typedef struct {
    /* the run */
    const char *run_id, *input, *input_hash, *job_spec, *ledger_json, *timings_json;
    uint64_t seed;
    int ranks, threads;
    /* per customer: this rank's rows [offset, offset + n_local) of n_global */
    int64_t n_global, offset, n_local;
    const int64_t *id;
    const int32_t *label;
    const float *distance;
    /* segments (raw-unit profiles) */
    const tribe_segments *segs;
    /* model: m transformed columns */
    int m;
    const char *const *model_columns;
    const double *centroids;     /* [k][m] */
    const double *scaler_mean;   /* [m] */
    const double *scaler_std;    /* [m] */
    const double *scaler_impute; /* [m] raw value used for missing entries */
    const int32_t *scaler_log1p; /* [m] 1 = log1p applied before standardising */
    /* K selection: one row per K tried, TRIBE_RESULTS_SWEEP_COLS columns: k,
     * inertia, silhouette, silhouette_ci95, silhouette_sq, calinski_harabasz,
     * davies_bouldin, stability_ari */
    int n_sweep;
    const double *sweep;         /* [n_sweep][TRIBE_RESULTS_SWEEP_COLS] */
    int sweep_recommended_k, sweep_elbow_k; /* elbow 0: fewer than 3 K values */
    double sweep_stability_ari;  /* split-half ARI of the recommended K (NaN: skipped) */
    const char *sweep_reason;    /* one line; may be NULL */
    const tribe_projection *proj; /* may be NULL */
    /* segment drivers (docs/gbdt.md); absent when drivers_json is NULL */
    const char *drivers_json;            /* the softmax GBDT, tribe_gbdt_to_json text */
    int drivers_d;                       /* features the GBDT saw (raw model columns) */
    const char *const *drivers_features; /* [drivers_d] */
    const double *drivers_mean_abs_shap; /* [k][drivers_d]: segment s, class-s output */
    const double *drivers_gain;          /* [drivers_d]: split gain summed over all trees */
    int64_t drivers_rows;                /* rows TreeSHAP explained (global) */
    /* lifetime value (docs/ltv.md); absent when ltv is NULL */
    const float *ltv;                    /* [n_local]: predicted spend in the next horizon */
    int ltv_n_models;                    /* rows of ltv_metrics */
    const char *const *ltv_models;       /* [ltv_n_models] */
    const double *ltv_metrics;           /* [ltv_n_models][4]: mae, rmse, r2, lift */
    const char *ltv_json;                /* the final GBDT, tribe_gbdt_to_json text */
    const double *ltv_seg_mean;          /* [k] */
    const double *ltv_seg_median;        /* [k] */
    const double *ltv_seg_total;         /* [k] */
    double ltv_horizon_days;
    /* beyond K-Means (docs/clustering.md); each part absent when its first
     * pointer is NULL. m = model columns, k = segments. */
    const uint8_t *outlier;              /* [n_local]: 1 = outlier */
    const float *outlier_score;          /* [n_local]: (distance - Q3) / IQR of the segment */
    const int64_t *outlier_count;        /* [k] */
    const double *outlier_q1, *outlier_q3, *outlier_fence; /* [k] distance quartiles and fences */
    const char *outlier_method;
    double outlier_threshold;
    const float *membership;             /* [n_local][k]: Gaussian mixture probabilities */
    const double *gmm_weight;            /* [k] */
    const double *gmm_mean, *gmm_var;    /* [k][m] */
    int gmm_iterations, gmm_converged;
    double gmm_loglik, gmm_lower_bound, gmm_tol, gmm_reg_covar;
    int64_t gmm_rows;                    /* customers EM iterated on */
    const int32_t *ward_merges;          /* [k-1][2] */
    const double *ward_heights;          /* [k-1] */
    const int64_t *ward_sizes;           /* [k-1] */
    const int64_t *ward_leaf_size;       /* [k] */
    /* peak memory per rank (JSON, /runs/<id> attr "memory"); may be NULL */
    const char *memory_json;
} tribe_results;

tribe_status tribe_results_write(tribe_par *par, const char *path, const tribe_results *r);

#endif
