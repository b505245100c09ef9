/* 2-D PCA projection for plots (tribe_projection_fit in tribe/cluster.h):
 * exact covariance over every row, Jacobi eigenvectors on every rank, then
 * the coordinates of a sample drawn by global index. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>

#include "kmeans_internal.h"
#include "tribe/xstats.h"

tribe_status tribe_projection_fit(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                                  int64_t n_global, int d, const int32_t *label, int64_t sample_size,
                                  uint64_t seed, tribe_projection **out)
{
    tribe_status st = TRIBE_OK;
    tribe_projection *p = NULL;
    tribe_xsum *acc = NULL;
    double *mu = NULL, *cov = NULL, *w = NULL, *v = NULL;
    float *S = NULL;
    int32_t *SL = NULL;
    int64_t m = 0;
    size_t np = (size_t)d * (size_t)(d + 1) / 2;
    *out = NULL;
    if (d < 1 || d > 256)
        st = tribe_fail(TRIBE_ERR_USAGE, "projection: d=%d, need 1..256 features", d);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_cluster_check_rows(par, n_local, offset, n_global, "projection"));
    st = tribe_calloc((void **)&acc, np + (size_t)d, sizeof *acc);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&mu, (size_t)d * sizeof *mu);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&cov, (size_t)d * (size_t)d * sizeof *cov);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&w, (size_t)d * sizeof *w);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&v, (size_t)d * (size_t)d * sizeof *v);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&p, 1, sizeof *p);
    TRIBE_TRY(tribe_par_agree(par, st));

    /* Means, then the centred cross products (two passes: no cancellation). */
    tribe_xsum *msum = acc + np;
#pragma omp parallel for schedule(dynamic, 1) if (n_local * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++)
        for (int64_t i = 0; i < n_local; i++)
            msum[j] += tribe_xsum_of((double)z[i * d + j]);
    TRIBE_TRY(tribe_par_sum_xsum(par, msum, d));
    for (int j = 0; j < d; j++)
        mu[j] = n_global > 0 ? tribe_xsum_value(msum[j]) / (double)n_global : 0.0;
    /* Thread per row j of the upper triangle: it owns cells (j, l >= j). */
#pragma omp parallel for schedule(dynamic, 1) if (n_local * d * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++) {
        size_t base = (size_t)j * d - (size_t)j * (j - 1) / 2; /* index of (j, j) */
        for (int64_t i = 0; i < n_local; i++) {
            const float *x = z + i * d;
            double dj = (double)x[j] - mu[j];
            for (int l = j; l < d; l++)
                acc[base + (size_t)(l - j)] += tribe_xsum_of(dj * ((double)x[l] - mu[l]));
        }
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, acc, (int64_t)np));
    double denom = n_global > 1 ? (double)(n_global - 1) : 1.0, trace = 0;
    for (int j = 0; j < d; j++) {
        size_t base = (size_t)j * d - (size_t)j * (j - 1) / 2;
        for (int l = j; l < d; l++)
            cov[(size_t)j * d + l] = cov[(size_t)l * d + j] = tribe_xsum_value(acc[base + (size_t)(l - j)]) / denom;
        trace += cov[(size_t)j * d + j];
    }
    tribe_eig_sym(cov, d, w, v);

    TRIBE_TRY(tribe_sample_rows(par, z, n_local, offset, n_global, d, label, sample_size, seed,
                                TRIBE_STREAM_PROJECTION, &S, &SL, NULL, &m));
    st = tribe_alloc((void **)&p->xy, (size_t)m * 2 * sizeof *p->xy);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&p->label, (size_t)m * sizeof *p->label);
    TRIBE_TRY(st); /* no collective follows: nothing to agree on */
    p->m = m;
    for (int64_t a = 0; a < m; a++) {
        for (int c = 0; c < 2; c++) {
            double s = 0;
            if (c < d)
                for (int j = 0; j < d; j++)
                    s += ((double)S[a * d + j] - mu[j]) * v[(size_t)c * d + j];
            p->xy[a * 2 + c] = (float)s;
        }
        p->label[a] = SL[a];
    }
    for (int c = 0; c < 2; c++) {
        double share = (c < d && trace > 0 && w[c] > 0) ? 100.0 * w[c] / trace : 0.0;
        TRIBE_TRY(tribe_fmt(p->axis[c], sizeof p->axis[c], "PC%d (%.0f%% of variance)", c + 1, share));
    }
    *out = p;
    p = NULL;
cleanup:
    tribe_projection_destroy(&p);
    free(acc);
    free(mu);
    free(cov);
    free(w);
    free(v);
    free(S);
    free(SL);
    return st;
}
