/* Private helpers shared by the files of src/cluster (not public API). */
#ifndef TRIBE_KMEANS_INTERNAL_H
#define TRIBE_KMEANS_INTERNAL_H

#include "tribe/core.h"
#include "tribe/par.h"

/* The plain double loop (the reference of every kernel; tests compare). */
void tribe_kmeans_assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                               double *dist2);

/* ---- the pass and its workspace (ggml-style) ------------------------------
 * A pass needs per-thread buffers and tables sized by the centres, never by
 * the rows: the caller creates one workspace for its largest pass (once per
 * fit), gives it the team size and the kernel, and every pass then runs
 * without allocating:
 *     tribe_kmeans_ws_spec spec = {.nsets = ns, .k = k, .d = d, .threads = omp_get_max_threads(),
 *                                  .kernel = cfg->kernel};
 *     TRIBE_TRY(tribe_kmeans_ws_create(&spec, &ws));
 *     for (...) TRIBE_TRY(tribe_kmeans_pass(ws, z, n, &io));
 *     tribe_kmeans_ws_destroy(&ws);
 * A workspace is used by one pass at a time (the pass runs its own OpenMP
 * team of up to `threads`). */
typedef struct tribe_kmeans_ws tribe_kmeans_ws;
typedef struct {
    int nsets, k, d; /* the largest pass: nsets sets of k centres in d features */
    int threads;     /* the team of a pass (>= 1); a pass over fewer than 8192
                        rows or TRIBE_OMP_MIN_WORK operations runs on one */
    int kernel;      /* TRIBE_KMEANS_KERNEL_*: AUTO (or a kernel this CPU or
                        TRIBE_SIMD does not allow) is resolved once, here */
} tribe_kmeans_ws_spec;

/* Not collective. Allocates the workspace: per thread about
 * nsets*k*(24 d + 48) + 4 max(65536, 8 nsets k) bytes. Errors: INTERNAL for
 * a bad spec, NOMEM. *out NULL on error. */
tribe_status tribe_kmeans_ws_create(const tribe_kmeans_ws_spec *spec, tribe_kmeans_ws **out);
/* Not collective. Grows ws (if needed) for passes of nsets sets of k
 * centres; at least doubles what it grows, so a run of growing passes
 * (k-means|| rounds) reallocates rarely. Errors: INTERNAL, NOMEM (ws then
 * holds no buffers: only destroy is valid). */
tribe_status tribe_kmeans_ws_reserve(tribe_kmeans_ws *ws, int nsets, int k);
/* Accepts NULL; sets *ws = NULL. */
void tribe_kmeans_ws_destroy(tribe_kmeans_ws **ws);
/* The kernel the workspace's passes run (TRIBE_KMEANS_KERNEL_GEMM, _AVX512
 * or _AVX2; a pass whose centres are not finite or above 1e15 runs the
 * SGEMM and says so in tribe_kmeans_pass_io.kernel). */
int tribe_kmeans_ws_kernel(const tribe_kmeans_ws *ws);

/* One fused pass over rows z[n][d] against `nsets` sets of k centres
 * cent[nsets][k][d] (n_init restarts share it): for each row and set the
 * nearest centre exactly as the naive loop finds it, then whatever outputs
 * are not NULL. Outputs of set 0 only: label[n], dist2[n], dist2f[n]. Of
 * every set: mind2[nsets][n] (lowered to the nearest distance where
 * smaller). Of every set (zeroed first): sum[nsets][k][d] exact sums of the
 * rows of each centre, count[nsets][k], inertia[nsets] exact sums of squared
 * distances, sumsq[nsets][k] exact sums of |x|^2 (each in double, j in
 * order) of the rows of each centre (Lloyd's inertia without the distances).
 * kset (NULL: k for every set): set s uses only its first kset[s] centres,
 * 1 <= kset[s] <= k; the rest are padding the pass never reads (no ties
 * with copies, so no re-checks).
 * rechecked counts the (row, set) pairs that needed more than one exact
 * distance; kernel is the kernel that ran. OpenMP inside (the workspace's
 * team; BLAS must run on one thread: tribe_blas_init); results independent
 * of the thread count and kernel. Allocates nothing. Not collective.
 * Errors: INTERNAL when the pass is larger than the workspace. */
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
    int64_t rechecked; /* set by the pass */
    int kernel;        /* set by the pass */
    const int *kset;
} tribe_kmeans_pass_io;
tribe_status tribe_kmeans_pass(tribe_kmeans_ws *ws, const float *z, int64_t n, tribe_kmeans_pass_io *p);

/* Collective. tribe_kmeans_fit running only restarts first .. first+count-1
 * of its n_init (cfg->n_init is ignored): restart r is seeded by
 * hash2(seed, r) either way, so a restart gives the same centres alone as
 * among others (tests check that the shared passes change nothing). */
tribe_status tribe_kmeans_fit_restarts(const tribe_dmat *z, const tribe_kmeans_cfg *cfg, int first, int count,
                                       double *centroids, tribe_kmeans_info *info);

/* Not collective. Index of the first non-finite value of z[nv] (inf or
 * NaN), -1 when all are finite: one vectorised, threaded scan of the
 * exponent bits at memory speed, the position looked up only if needed. */
int64_t tribe_km_first_nonfinite(const float *z, int64_t nv);

/* Index drawn with probability proportional to w[i] >= 0 (serial sum, so the
 * same on every rank), never a zero-weight row; -1 when all weights are 0. */
int64_t tribe_kmeans_draw(const double *w, int64_t m, uint64_t seed, uint64_t stream, uint64_t counter);

#endif
