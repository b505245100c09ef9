/* results.h5: outliers, soft membership, the Ward tree and the projection's
 * PCA (docs/hdf5-layout.md). Called by tribe_results_write. */
#include "results_internal.h"

tribe_status tribe_results_write_beyond(tribe_h5 *h, const tribe_results *r)
{
    tribe_status st = TRIBE_OK;
    int k = r->segs->k, m = r->m;
    char run[256];
    TRIBE_TRY(tribe_fmt(run, sizeof run, "/runs/%s", r->run_id));
    if (r->outlier) {
        TRIBE_TRY(tribe_h5_write_rows(h, "/segments/outlier", TRIBE_H5_U8, r->n_global, r->offset, r->n_local, 1,
                                      r->outlier));
        TRIBE_TRY(tribe_h5_write_rows(h, "/segments/outlier_score", TRIBE_H5_F32, r->n_global, r->offset,
                                      r->n_local, 1, r->outlier_score));
        TRIBE_TRY(tribe_h5_attr_str(h, "/segments/outlier", "method", r->outlier_method ? r->outlier_method : "iqr"));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/outlier", "threshold", r->outlier_threshold));
        TRIBE_TRY(tribe_h5_write_small(h, "/segments/outlier_count", TRIBE_H5_I64, k, 1, r->outlier_count));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q1", TRIBE_H5_F64, k, 1, r->outlier_q1));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q3", TRIBE_H5_F64, k, 1, r->outlier_q3));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/fence", TRIBE_H5_F64, k, 1, r->outlier_fence));
        int64_t total = 0;
        for (int c = 0; c < k; c++)
            total += r->outlier_count[c];
        TRIBE_TRY(tribe_h5_attr_i64(h, run, "outliers", total));
    }
    if (r->membership) {
        TRIBE_TRY(tribe_h5_write_rows(h, "/segments/membership", TRIBE_H5_F32, r->n_global, r->offset, r->n_local, k,
                                      r->membership));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/weights", TRIBE_H5_F64, k, 1, r->gmm_weight));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/means", TRIBE_H5_F64, k, m, r->gmm_mean));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/variances", TRIBE_H5_F64, k, m, r->gmm_var));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/gmm/means", "feature_names", m, r->model_columns));
        TRIBE_TRY(tribe_h5_attr_str(h, "/model/gmm", "covariance_type", "diag"));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "iterations", r->gmm_iterations));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "converged", r->gmm_converged));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "loglik", r->gmm_loglik));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "lower_bound", r->gmm_lower_bound));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "tol", r->gmm_tol));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "reg_covar", r->gmm_reg_covar));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "em_rows", r->gmm_rows));
        TRIBE_TRY(tribe_h5_attr_f64(h, run, "gmm_loglik", r->gmm_loglik));
        TRIBE_TRY(tribe_h5_attr_i64(h, run, "gmm_iterations", r->gmm_iterations));
    }
    if (r->ward_merges && k >= 2) {
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/merges", TRIBE_H5_I32, k - 1, 2, r->ward_merges));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/heights", TRIBE_H5_F64, k - 1, 1, r->ward_heights));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/sizes", TRIBE_H5_I64, k - 1, 1, r->ward_sizes));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/leaf_sizes", TRIBE_H5_I64, k, 1, r->ward_leaf_size));
        TRIBE_TRY(tribe_h5_attr_str(h, "/model/ward", "format",
                                    "scipy linkage: Z = column_stack([merges, heights, sizes])"));
    }
    if (r->proj && r->proj->d > 0 && r->proj->m > 0) {
        const tribe_projection *p = r->proj;
        double comp[2 * TRIBE_MAX_FEATURES];
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < p->d; j++)
                comp[c * p->d + j] = p->components[c][j];
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/explained_variance", TRIBE_H5_F64, p->d, 1,
                                       p->explained_variance));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/explained_variance_ratio", TRIBE_H5_F64, p->d, 1,
                                       p->explained_variance_ratio));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/components", TRIBE_H5_F64, 2, p->d, comp));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/mean", TRIBE_H5_F64, p->d, 1, p->mean));
    }
cleanup:
    return st;
}
