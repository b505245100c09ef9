/* Private helpers shared by the files of src/cluster (not public API). */
#ifndef TRIBE_KMEANS_INTERNAL_H
#define TRIBE_KMEANS_INTERNAL_H

#include "tribe/core.h"
#include "tribe/par.h"

/* tribe_kmeans_assign with double distances. Not collective. */
void tribe_kmeans_assign_d(const float *z, int64_t n, int d, const double *centroids, int k,
                           int32_t *label, double *dist2);

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
