/* results.h5 writer (tribe/results.h, layout in docs/hdf5-layout.md). */
#include "tribe/results.h"
#include "tribe/h5.h"

#include "results_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static tribe_status write_segments(tribe_h5 *h, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    const char **names = NULL;
    int64_t *size = NULL;
    double *share = NULL, *rev = NULL, *mean = NULL, *median = NULL, *q1 = NULL, *q3 = NULL;
    int k = s->k, d = s->d;
    TRIBE_TRY(tribe_calloc((void **)&names, (size_t)k + 1, sizeof *names));
    TRIBE_TRY(tribe_calloc((void **)&size, (size_t)k + 1, sizeof *size));
    TRIBE_TRY(tribe_calloc((void **)&share, 2 * ((size_t)k + 1), sizeof *share));
    rev = share + k + 1;
    TRIBE_TRY(tribe_calloc((void **)&mean, 4 * ((size_t)k * (size_t)d + 1), sizeof *mean));
    median = mean + (size_t)k * (size_t)d + 1;
    q1 = median + (size_t)k * (size_t)d + 1;
    q3 = q1 + (size_t)k * (size_t)d + 1;
    for (int c = 0; c < k; c++) {
        names[c] = s->seg[c].name;
        size[c] = s->seg[c].size;
        share[c] = s->seg[c].share;
        rev[c] = s->seg[c].revenue_share;
        memcpy(mean + (size_t)c * d, s->seg[c].mean, (size_t)d * sizeof *mean);
        memcpy(median + (size_t)c * d, s->seg[c].median, (size_t)d * sizeof *median);
        memcpy(q1 + (size_t)c * d, s->seg[c].q1, (size_t)d * sizeof *q1);
        memcpy(q3 + (size_t)c * d, s->seg[c].q3, (size_t)d * sizeof *q3);
    }
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments", "names", k, names));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments", "k", k));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/size", TRIBE_H5_I64, k, 1, size));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/share", TRIBE_H5_F64, k, 1, share));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/revenue_share", TRIBE_H5_F64, k, 1, rev));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/mean", TRIBE_H5_F64, k, d, mean));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/mean", "feature_names", d, (const char *const *)s->feature_names));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/median", TRIBE_H5_F64, k, d, median));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/median", "feature_names", d, (const char *const *)s->feature_names));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/q1", TRIBE_H5_F64, k, d, q1));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/q1", "feature_names", d, (const char *const *)s->feature_names));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/q3", TRIBE_H5_F64, k, d, q3));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/q3", "feature_names", d, (const char *const *)s->feature_names));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_mean", TRIBE_H5_F64, d, 1, s->overall_mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_median", TRIBE_H5_F64, d, 1, s->overall_median));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_q1", TRIBE_H5_F64, d, 1, s->overall_q1));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_q3", TRIBE_H5_F64, d, 1, s->overall_q3));
cleanup:
    free(names);
    free(size);
    free(share);
    free(mean);
    return st;
}

tribe_status tribe_results_write(tribe_par *par, const char *path, const tribe_results *r)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char run[256];
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    /* Every rank must write identical attribute values: rank 0's clock wins. */
    TRIBE_TRY(tribe_par_bcast(par, created, sizeof created, 0));
    st = tribe_par_agree(par, tribe_h5_create(par, path, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", TRIBE_RESULTS_FORMAT));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", TRIBE_RESULTS_FORMAT_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_version", TRIBE_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "input", r->input));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "run_id", r->run_id));

    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/id", TRIBE_H5_I64, r->n_global, r->offset, r->n_local, 1, r->id));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/label", TRIBE_H5_I32, r->n_global, r->offset, r->n_local, 1, r->label));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/distance", TRIBE_H5_F32, r->n_global, r->offset, r->n_local, 1,
                                  r->distance));
    TRIBE_TRY(write_segments(h, r->segs));

    TRIBE_TRY(tribe_h5_write_small(h, "/model/centroids", TRIBE_H5_F64, r->segs->k, r->m, r->centroids));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model", "feature_names", r->m, r->model_columns));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/mean", TRIBE_H5_F64, r->m, 1, r->scaler_mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/std", TRIBE_H5_F64, r->m, 1, r->scaler_std));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/impute", TRIBE_H5_F64, r->m, 1, r->scaler_impute));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/scaler/log1p", TRIBE_H5_I32, r->m, 1, r->scaler_log1p));
    if (r->n_sweep > 0) {
        static const char *const cols[TRIBE_RESULTS_SWEEP_COLS] = {
            "k", "inertia", "silhouette", "silhouette_ci95", "silhouette_sq", "calinski_harabasz", "davies_bouldin",
            "stability_ari"};
        TRIBE_TRY(tribe_h5_write_small(h, "/model/k_sweep", TRIBE_H5_F64, r->n_sweep, TRIBE_RESULTS_SWEEP_COLS,
                                       r->sweep));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/k_sweep", "columns", TRIBE_RESULTS_SWEEP_COLS, cols));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/k_sweep", "recommended_k", r->sweep_recommended_k));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/k_sweep", "elbow_k", r->sweep_elbow_k));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/model/k_sweep", "stability_ari", r->sweep_stability_ari));
        TRIBE_TRY(tribe_h5_attr_str(h, "/model/k_sweep", "reason", r->sweep_reason ? r->sweep_reason : ""));
    }
    if (r->proj && r->proj->m > 0) {
        const char *axes[2] = {r->proj->axis[0], r->proj->axis[1]};
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/xy", TRIBE_H5_F32, r->proj->m, 2, r->proj->xy));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/label", TRIBE_H5_I32, r->proj->m, 1, r->proj->label));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/projection", "axis", 2, axes));
    }
    if (r->drivers_json) {
        /* The model JSON is a 1-D uint8 dataset, not an attribute: with K
         * classes x n_rounds trees it easily passes the 64 KiB an HDF5
         * attribute may hold in the object header. */
        int64_t len = (int64_t)strlen(r->drivers_json);
        TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/mean_abs_shap", TRIBE_H5_F64, r->segs->k, r->drivers_d,
                                       r->drivers_mean_abs_shap));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/drivers/mean_abs_shap", "feature_names", r->drivers_d,
                                     r->drivers_features));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/gain", TRIBE_H5_F64, r->drivers_d, 1, r->drivers_gain));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/drivers/gain", "feature_names", r->drivers_d, r->drivers_features));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/gbdt_json", TRIBE_H5_U8, len, 1, r->drivers_json));
        TRIBE_TRY(tribe_h5_attr_i64(h, "/model/drivers", "shap_rows", r->drivers_rows));
    }
    if (r->ltv) {
        static const char *const mcols[] = {"mae", "rmse", "r2", "lift"};
        int k = r->segs->k;
        int64_t len = (int64_t)strlen(r->ltv_json);
        TRIBE_TRY(tribe_h5_write_rows(h, "/segments/ltv", TRIBE_H5_F32, r->n_global, r->offset, r->n_local, 1,
                                      r->ltv));
        TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/ltv", "horizon_days", r->ltv_horizon_days));
        TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_mean", TRIBE_H5_F64, k, 1, r->ltv_seg_mean));
        TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_median", TRIBE_H5_F64, k, 1, r->ltv_seg_median));
        TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_total", TRIBE_H5_F64, k, 1, r->ltv_seg_total));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/metrics", TRIBE_H5_F64, r->ltv_n_models, 4, r->ltv_metrics));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/metrics", "models", r->ltv_n_models, r->ltv_models));
        TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/metrics", "columns", 4, mcols));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/gbdt_json", TRIBE_H5_U8, len, 1, r->ltv_json));
    }
    TRIBE_TRY(tribe_results_write_beyond(h, r));

    TRIBE_TRY(tribe_fmt(run, sizeof run, "/runs/%s", r->run_id));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "job_spec", r->job_spec ? r->job_spec : "{}"));
    TRIBE_TRY(tribe_h5_attr_i64(h, run, "seed", (int64_t)r->seed));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "input", r->input));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "input_hash", r->input_hash));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "version", TRIBE_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "created", created));
    TRIBE_TRY(tribe_h5_attr_i64(h, run, "ranks", r->ranks));
    TRIBE_TRY(tribe_h5_attr_i64(h, run, "threads", r->threads));
    TRIBE_TRY(tribe_h5_attr_i64(h, run, "customers", r->n_global));
    TRIBE_TRY(tribe_h5_attr_i64(h, run, "k", r->segs->k));
    TRIBE_TRY(tribe_h5_attr_f64(h, run, "silhouette", r->segs->silhouette));
    TRIBE_TRY(tribe_h5_attr_f64(h, run, "silhouette_ci95", r->segs->silhouette_ci));
    TRIBE_TRY(tribe_h5_attr_f64(h, run, "inertia", r->segs->inertia));
    if (r->n_sweep > 0) {
        TRIBE_TRY(tribe_h5_attr_str(h, run, "k_reason", r->sweep_reason ? r->sweep_reason : ""));
        TRIBE_TRY(tribe_h5_attr_f64(h, run, "k_stability_ari", r->sweep_stability_ari));
    }
    TRIBE_TRY(tribe_h5_attr_str(h, run, "ledger", r->ledger_json ? r->ledger_json : "{}"));
    TRIBE_TRY(tribe_h5_attr_str(h, run, "timings", r->timings_json ? r->timings_json : "{}"));
    if (r->memory_json)
        TRIBE_TRY(tribe_h5_attr_str(h, run, "memory", r->memory_json));
cleanup:
    {
        tribe_status cst = tribe_h5_close(&h);
        if (st == TRIBE_OK)
            st = cst;
    }
    return tribe_par_agree(par, st);
}
