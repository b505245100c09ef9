/* 2-D PCA projection for plots (tribe_projection_fit in tribe/cluster.h):
 * exact covariance over every row, eigenvectors from LAPACK's dsyevd (the
 * LAPACK that ships inside OpenBLAS) on every rank, then the coordinates of
 * a sample drawn by global index. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* LAPACK's Fortran entry point (OpenBLAS exports it; no LAPACKE needed). The
 * two trailing arguments are the hidden lengths of the character arguments
 * that gfortran passes by value (size_t since GCC 8), as LAPACKE does. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                    size_t uplo_len);

tribe_status tribe_eigh(const double *a, int n, double *w, double *v)
{
    tribe_status st = TRIBE_OK;
    double *work = NULL, *wa = NULL;
    int *iwork = NULL;
    if (n < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "eigh: n=%d, need n >= 1", n);
    /* Workspace sizes of dsyevd with jobz = 'V' (LAPACK documentation). */
    int lwork = 1 + 6 * n + 2 * n * n, liwork = 3 + 5 * n, info = 0;
    TRIBE_TRY(tribe_alloc((void **)&work, (size_t)lwork * sizeof *work));
    TRIBE_TRY(tribe_alloc((void **)&iwork, (size_t)liwork * sizeof *iwork));
    TRIBE_TRY(tribe_alloc((void **)&wa, (size_t)n * sizeof *wa));
    /* A symmetric row-major matrix is its own column-major self; on return
     * column j (column-major), i.e. row j of v read row-major, is the
     * eigenvector of the j-th smallest eigenvalue. */
    memcpy(v, a, (size_t)n * (size_t)n * sizeof *v);
    dsyevd_("V", "U", &n, v, &n, wa, work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "eigh: LAPACK dsyevd failed (info=%d) on a %dx%d matrix", info, n, n);
        goto cleanup;
    }
    /* Ascending -> descending: reverse the rows in place. */
    for (int i = 0; i < n / 2; i++) {
        int j = n - 1 - i;
        for (int c = 0; c < n; c++) {
            double t = v[(size_t)i * n + c];
            v[(size_t)i * n + c] = v[(size_t)j * n + c];
            v[(size_t)j * n + c] = t;
        }
    }
    for (int i = 0; i < n; i++)
        w[i] = wa[n - 1 - i];
    /* An eigenvector's sign is arbitrary: fix it so plots do not flip. */
    for (int i = 0; i < n; i++) {
        int big = 0;
        for (int j = 1; j < n; j++)
            if (fabs(v[(size_t)i * n + j]) > fabs(v[(size_t)i * n + big]))
                big = j;
        if (v[(size_t)i * n + big] < 0)
            for (int j = 0; j < n; j++)
                v[(size_t)i * n + j] = -v[(size_t)i * n + j];
    }
cleanup:
    free(work);
    free(iwork);
    free(wa);
    return st;
}

tribe_status tribe_projection_fit(const tribe_dmat *zm, const int32_t *label, int64_t sample_size, uint64_t seed,
                                  tribe_projection **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = zm->rows->par;
    const float *z = zm->x;
    int64_t n_local = zm->rows->n_local, n_global = zm->rows->n_global;
    int d = zm->d;
    tribe_projection *p = NULL;
    tribe_xsum *acc = NULL;
    double *mu = NULL, *cov = NULL, *w = NULL, *v = NULL;
    float *S = NULL;
    int32_t *SL = NULL;
    int64_t m = 0;
    size_t np = (size_t)d * (size_t)(d + 1) / 2;
    *out = NULL;
    if (d < 1 || d > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "projection: d=%d, need 1..%d features", d, TRIBE_MAX_FEATURES);
    TRIBE_TRY(tribe_par_agree(par, st));
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
    /* Every rank decomposes the same exact matrix with the same code, so
     * every rank holds the same axes (no broadcast needed). */
    TRIBE_TRY(tribe_eigh(cov, d, w, v));
    p->d = d;
    for (int j = 0; j < d; j++) {
        p->mean[j] = mu[j];
        p->components[0][j] = v[j];
        p->components[1][j] = d > 1 ? v[(size_t)d + j] : 0.0;
        /* dsyevd may return tiny negative eigenvalues of a singular matrix. */
        p->explained_variance[j] = w[j] > 0 ? w[j] : 0.0;
        p->explained_variance_ratio[j] = trace > 0 ? p->explained_variance[j] / trace : 0.0;
    }

    TRIBE_TRY(tribe_sample_rows(zm, label, sample_size, seed, TRIBE_STREAM_PROJECTION, &S, &SL, NULL, &m));
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

void tribe_projection_destroy(tribe_projection **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->xy);
    free((*pp)->label);
    free(*pp);
    *pp = NULL;
}
