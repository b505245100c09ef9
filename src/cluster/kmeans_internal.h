/* Private helpers shared by the files of src/cluster (not public API). */
#ifndef TRIBE_KMEANS_INTERNAL_H
#define TRIBE_KMEANS_INTERNAL_H

#include "tribe/core.h"
#include "tribe/par.h"

/* tribe_kmeans_assign with double distances. Not collective. */
void tribe_kmeans_assign_d(const float *z, int64_t n, int d, const double *centroids, int k,
                           int32_t *label, double *dist2);

/* The plain double loop (the reference of the GEMM pass; tests compare). */
void tribe_kmeans_assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                               double *dist2);

/* One fused pass over rows z[n][d] against `nsets` sets of k centres
 * cent[nsets][k][d] (n_init restarts share it): for each row and set the
 * nearest centre exactly as the naive loop finds it (kmeans_kernel.c), then
 * whatever outputs are not NULL. Outputs of set 0 only: label[n], dist2[n],
 * dist2f[n]. Of every set: mind2[nsets][n] (lowered to the nearest distance where smaller). Of
 * every set (zeroed first): sum[nsets][k][d] exact sums of the rows of each
 * centre, count[nsets][k], inertia[nsets] exact sums of squared distances,
 * sumsq[nsets][k] exact sums of |x|^2 (each in double, j in order) of the
 * rows of each centre (Lloyd's inertia without the distances).
 * kset (NULL: k for every set): set s uses only its first kset[s] centres,
 * 1 <= kset[s] <= k; the rest are padding the pass never reads (no ties
 * with copies, so no re-checks).
 * rechecked counts the (row, set) pairs that needed more than one exact
 * distance. OpenMP inside (one BLAS thread); results independent of the
 * thread count. Not collective. Errors: NOMEM (outputs undefined). */
typedef struct {
    const double *cent;
    int nsets, k, d;
    int32_t *label;
    double *dist2;
    float *dist2f;
    double *mind2;
    int64_t mind2_ld; /* set by the pass: n */
    tribe_xsum *sum;
    int64_t *count;
    tribe_xsum *inertia;
    tribe_xsum *sumsq;
    int64_t rechecked;
    const int *kset;
} tribe_kmeans_pass_io;
tribe_status tribe_kmeans_pass(const float *z, int64_t n, tribe_kmeans_pass_io *p);

/* The kernel tribe_kmeans_pass uses from now on: 0 the SGEMM pass, 1 the
 * direct AVX-512 pass (if the CPU has AVX-512 F/DQ/BW/VL), 2 the direct
 * AVX2 pass (if it has AVX2 and FMA), -1 (default, or a kernel the CPU
 * lacks) the automatic choice: the best direct kernel the CPU has when
 * nsets*k*d is small enough, else the SGEMM. Returns the kernel in effect
 * for small k*d. All give the same bits; for tests and benchmarks. Not
 * collective, not thread-safe. */
int tribe_kmeans_kernel(int level);

/* Collective. tribe_kmeans_fit running only restarts first .. first+count-1
 * of its n_init (cfg->n_init is ignored): restart r is seeded by
 * hash2(seed, r) either way, so a restart gives the same centres alone as
 * among others (tests check that the shared passes change nothing). */
tribe_status tribe_kmeans_fit_restarts(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                                       int64_t n_global, int d, const tribe_kmeans_cfg *cfg, int first, int count,
                                       double *centroids, tribe_kmeans_info *info);

/* Not collective. Index of the first non-finite value of z[nv] (inf or
 * NaN), -1 when all are finite: one vectorised, threaded scan of the
 * exponent bits at memory speed, the position looked up only if needed. */
int64_t tribe_km_first_nonfinite(const float *z, int64_t nv);

/* Index drawn with probability proportional to w[i] >= 0 (serial sum, so the
 * same on every rank), never a zero-weight row; -1 when all weights are 0. */
int64_t tribe_kmeans_draw(const double *w, int64_t m, uint64_t seed, uint64_t stream, uint64_t counter);

/* Collective. Checks that the ranks' (n_local, offset) blocks tile
 * [0, n_global) in rank order: the RNG keys rows by global index, so a wrong
 * offset would silently change every sample. TRIBE_ERR_INTERNAL naming what
 * is inconsistent, on every rank. */
tribe_status tribe_cluster_check_rows(tribe_par *par, int64_t n_local, int64_t offset, int64_t n_global,
                                      const char *who);

#endif
