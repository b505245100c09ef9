/* tribe run: outliers, soft membership and the Ward tree on the final
 * segments (run_extras.h, docs/clustering.md). */
#include "run_extras.h"

#include "tribe/sbuf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Membership above this counts as a crisp assignment in the report. */
#define CRISP 0.9

/* Collective. Per segment (K-Means label): customers whose highest membership is above
 * CRISP, customers whose most likely component is their segment, and the sum
 * of the highest memberships (exact integer / fixed-point sums). */
static tribe_status crispness(tribe_par *par, const float *memb, const int32_t *label, int64_t n, int k,
                              int64_t *crisp, int64_t *agree, double *mean_max, int64_t *size)
{
    tribe_status st = TRIBE_OK;
    tribe_xsum *acc = NULL;
    int64_t *cnt = NULL;
    st = tribe_calloc((void **)&acc, (size_t)k, sizeof *acc);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&cnt, 3 * (size_t)k, sizeof *cnt);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < n; i++) {
        const float *p = memb + i * k;
        int best = 0;
        for (int c = 1; c < k; c++)
            if (p[c] > p[best])
                best = c;
        int c = label[i];
        cnt[c]++;
        cnt[k + c] += p[best] > CRISP;
        cnt[2 * k + c] += best == c;
        acc[c] += tribe_xsum_of((double)p[best]);
    }
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, 3 * (int64_t)k));
    TRIBE_TRY(tribe_par_sum_xsum(par, acc, k));
    for (int c = 0; c < k; c++) {
        size[c] = cnt[c];
        crisp[c] = cnt[k + c];
        agree[c] = cnt[2 * k + c];
        mean_max[c] = cnt[c] > 0 ? tribe_xsum_value(acc[c]) / (double)cnt[c] : NAN;
    }
cleanup:
    free(acc);
    free(cnt);
    return st;
}

static tribe_status num_list(tribe_sbuf *b, const char *key, const double *v, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "\"%s\": [", key));
    for (int i = 0; i < n; i++)
        TRIBE_TRY(isfinite(v[i]) ? tribe_sbuf_printf(b, "%s%.9g", i ? ", " : "", v[i])
                                 : tribe_sbuf_printf(b, "%snull", i ? ", " : ""));
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

static tribe_status int_list(tribe_sbuf *b, const char *key, const int64_t *v, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "\"%s\": [", key));
    for (int i = 0; i < n; i++)
        TRIBE_TRY(tribe_sbuf_printf(b, "%s%lld", i ? ", " : "", (long long)v[i]));
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

/* Rank 0: the run-record fragment ", \"outliers\": {...}, \"gmm\": {...},
 * \"ward\": {...}" (each part when computed) read by the report's sections. */
static tribe_status extras_json(const run_extras *x, const tribe_job *job, int k, const int64_t *cnt,
                                const double *mean_max, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(tribe_sbuf_add(&b, ""));
    if (x->out) {
        TRIBE_TRY(tribe_sbuf_printf(&b, ", \"outliers\": {\"method\": \"%s\", \"threshold\": %.9g, \"total\": %lld, ",
                                    job->outliers.method, job->outliers.threshold, (long long)x->out->total));
        TRIBE_TRY(int_list(&b, "count", x->out->count, k));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(num_list(&b, "fence", x->out->fence, k));
        TRIBE_TRY(tribe_sbuf_add(&b, "}"));
    }
    if (x->gmm) {
        TRIBE_TRY(tribe_sbuf_printf(&b, ", \"gmm\": {\"iterations\": %d, \"converged\": %s, \"loglik\": %.9g, "
                                    "\"em_rows\": %lld, \"crisp_threshold\": %.9g, ",
                                    x->gmm->iterations, x->gmm->converged ? "true" : "false", x->gmm->loglik,
                                    (long long)x->gmm->rows, CRISP));
        TRIBE_TRY(int_list(&b, "size", cnt + 2 * k, k));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(int_list(&b, "crisp", cnt, k));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(int_list(&b, "agree", cnt + k, k));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(num_list(&b, "mean_max", mean_max, k));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(num_list(&b, "weights", x->gmm->weight, k));
        TRIBE_TRY(tribe_sbuf_add(&b, "}"));
    }
    if (x->ward) {
        TRIBE_TRY(tribe_sbuf_add(&b, ", \"ward\": {\"merges\": ["));
        for (int s = 0; s < k - 1; s++)
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s[%d, %d]", s ? ", " : "", x->ward->merges[2 * s],
                                        x->ward->merges[2 * s + 1]));
        TRIBE_TRY(tribe_sbuf_add(&b, "], "));
        TRIBE_TRY(num_list(&b, "heights", x->ward->heights, k - 1));
        TRIBE_TRY(tribe_sbuf_add(&b, ", "));
        TRIBE_TRY(int_list(&b, "sizes", x->ward->sizes, k - 1));
        TRIBE_TRY(tribe_sbuf_add(&b, "}"));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

tribe_status run_extras_fit(tribe_par *par, const tribe_job *job, const float *z, int64_t n_local,
                            int64_t offset, int64_t n_global, int m, const int32_t *label, const float *dist,
                            const double *centroids, int k, run_extras *x)
{
    tribe_status st = TRIBE_OK;
    int64_t *cnt = NULL;
    double *mean_max = NULL;
    st = tribe_calloc((void **)&cnt, 3 * (size_t)k, sizeof *cnt);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&mean_max, (size_t)k, sizeof *mean_max);
    TRIBE_TRY(tribe_par_agree(par, st));
    /* Every step below is collective and agrees on its own errors. */
    if (job->outliers.enabled) {
        st = tribe_alloc((void **)&x->outlier, (size_t)n_local + 1);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&x->outlier_score, ((size_t)n_local + 1) * sizeof *x->outlier_score);
        TRIBE_TRY(tribe_par_agree(par, st));
        TRIBE_TRY(tribe_outliers_fit(par, dist, label, n_local, k, job->outliers.threshold, x->outlier,
                                     x->outlier_score, &x->out));
        TRIBE_INFO("outliers: %lld customers past Q3 + %g IQR of their segment's distances",
                   (long long)x->out->total, job->outliers.threshold);
    }
    if (job->gmm.enabled) {
        tribe_gmm_cfg cfg;
        tribe_gmm_cfg_default(&cfg);
        cfg.max_iter = job->gmm.max_iter;
        cfg.tol = job->gmm.tol;
        cfg.reg_covar = job->gmm.reg_covar;
        cfg.sample_size = job->gmm.sample_size;
        cfg.seed = job->seed;
        st = tribe_alloc((void **)&x->membership, ((size_t)n_local * (size_t)k + 1) * sizeof *x->membership);
        TRIBE_TRY(tribe_par_agree(par, st));
        tribe_rows rows;
        TRIBE_TRY(tribe_rows_init(par, n_local, offset, n_global, &rows));
        TRIBE_TRY(tribe_gmm_fit(&(tribe_dmat){&rows, z, m}, label, k, centroids, &cfg, x->membership, &x->gmm));
        TRIBE_TRY(crispness(par, x->membership, label, n_local, k, cnt, cnt + k, mean_max, cnt + 2 * k));
        TRIBE_INFO("gmm: %d EM iterations (%s) on %lld customers, mean log-likelihood %.6g", x->gmm->iterations,
                   x->gmm->converged ? "converged" : "max_iter reached", (long long)x->gmm->rows, x->gmm->loglik);
    }
    if (job->ward.enabled && k >= 2)
        TRIBE_TRY(tribe_ward_fit(par, label, n_local, centroids, k, m, &x->ward));
    if (tribe_par_rank(par) == 0 && (x->out || x->gmm || x->ward))
        st = extras_json(x, job, k, cnt, mean_max, &x->report_json);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(cnt);
    free(mean_max);
    return st;
}

void run_extras_results(const run_extras *x, const tribe_job *job, tribe_results *r)
{
    if (x->out) {
        r->outlier = x->outlier;
        r->outlier_score = x->outlier_score;
        r->outlier_count = x->out->count;
        r->outlier_q1 = x->out->q1;
        r->outlier_q3 = x->out->q3;
        r->outlier_fence = x->out->fence;
        r->outlier_method = job->outliers.method;
        r->outlier_threshold = x->out->threshold;
    }
    if (x->gmm) {
        r->membership = x->membership;
        r->gmm_weight = x->gmm->weight;
        r->gmm_mean = x->gmm->mean;
        r->gmm_var = x->gmm->var;
        r->gmm_iterations = x->gmm->iterations;
        r->gmm_converged = x->gmm->converged;
        r->gmm_loglik = x->gmm->loglik;
        r->gmm_lower_bound = x->gmm->lower_bound;
        r->gmm_tol = job->gmm.tol;
        r->gmm_reg_covar = job->gmm.reg_covar;
        r->gmm_rows = x->gmm->rows;
    }
    if (x->ward) {
        r->ward_merges = x->ward->merges;
        r->ward_heights = x->ward->heights;
        r->ward_sizes = x->ward->sizes;
        r->ward_leaf_size = x->ward->leaf_size;
    }
}

void run_extras_free(run_extras *x)
{
    free(x->outlier);
    free(x->outlier_score);
    tribe_outliers_destroy(&x->out);
    free(x->membership);
    tribe_gmm_destroy(&x->gmm);
    tribe_ward_destroy(&x->ward);
    free(x->report_json);
    memset(x, 0, sizeof *x);
}
