/* Sampled exact silhouette (tribe_silhouette_sample in tribe/cluster.h).
 * A sample of rows is replicated on every rank; each rank adds the distances
 * from every sampled row to each of its own rows into per-(row, cluster)
 * exact sums, one reduction combines them, and every rank then evaluates the
 * same silhouette values. Cost: sample x n x d distance terms, spread over
 * ranks and threads; traffic: sample x k sums. */
#include "tribe/cluster.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "kmeans_internal.h"
#include "tribe/xstats.h"

tribe_status tribe_silhouette_sample(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                                     int64_t n_global, int d, const int32_t *label, int k,
                                     int64_t sample_size, uint64_t seed, double *mean, double *ci95)
{
    tribe_status st = TRIBE_OK;
    int64_t *cnt = NULL, m = 0;
    float *S = NULL;
    int32_t *SL = NULL;
    tribe_xsum *acc = NULL;
    *mean = NAN;
    *ci95 = NAN;
    if (k < 1 || d < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "silhouette: k=%d, d=%d", k, d);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_cluster_check_rows(par, n_local, offset, n_global, "silhouette"));
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++)
        if (label[i] < 0 || label[i] >= k)
            st = tribe_fail(TRIBE_ERR_INPUT, "silhouette: row %lld has label %d, outside [0, %d)",
                            (long long)(offset + i), (int)label[i], k);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&cnt, (size_t)k, sizeof *cnt);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < n_local; i++)
        cnt[label[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, k));
    int nonempty = 0;
    for (int c = 0; c < k; c++)
        nonempty += cnt[c] > 0;
    if (nonempty < 2)
        goto cleanup; /* undefined with one cluster: NaN, as documented */

    TRIBE_TRY(tribe_sample_rows(par, z, n_local, offset, n_global, d, label, sample_size, seed,
                                TRIBE_STREAM_SILHOUETTE, &S, &SL, NULL, &m));
    st = tribe_calloc((void **)&acc, (size_t)(m > 0 ? m : 1) * (size_t)k, sizeof *acc);
    TRIBE_TRY(tribe_par_agree(par, st));
    /* Rows are visited in tiles of SIL_BLOCK that stay in cache while every
     * sampled row is compared with them (one pass over the shard in all,
     * instead of one per sampled row). Within a tile the sampled rows are
     * shared out over threads; each owns acc[a][*]. The fixed-point terms
     * are those of tribe_xsum_of, summed first in int64 over the tile (each
     * term < 2^52, so a tile of 1024 cannot overflow) and then into the
     * 128-bit total: integer sums, so neither the row split, the tiling nor
     * the thread count changes a bit. */
    enum { SIL_BLOCK = 1024 };
#pragma omp parallel if (m * n_local * d >= TRIBE_OMP_MIN_WORK)
    {
        int64_t part[k];
        for (int64_t i0 = 0; i0 < n_local; i0 += SIL_BLOCK) {
            int64_t i1 = i0 + SIL_BLOCK < n_local ? i0 + SIL_BLOCK : n_local;
#pragma omp for schedule(static)
            for (int64_t a = 0; a < m; a++) {
                const float *sa = S + a * d;
                tribe_xsum *row = acc + a * k;
                memset(part, 0, sizeof part);
                for (int64_t i = i0; i < i1; i++) {
                    const float *x = z + i * d;
                    double s2 = 0;
                    for (int j = 0; j < d; j++) {
                        double t = (double)sa[j] - (double)x[j];
                        s2 += t * t;
                    }
                    double dist = sqrt(s2);
                    double v = dist * TRIBE_XSUM_SCALE + 0.5;
                    if (v < 0x1p52)
                        part[label[i]] += (int64_t)v;
                    else
                        row[label[i]] += tribe_xsum_of(dist);
                }
                for (int c = 0; c < k; c++)
                    row[c] += part[c];
            }
        }
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, acc, m * k));
    if (m == 0)
        goto cleanup;
    double sum = 0, sum2 = 0;
    for (int64_t a = 0; a < m; a++) {
        int own = SL[a];
        double s = 0;
        if (cnt[own] > 1) {
            double ai = tribe_xsum_value(acc[a * k + own]) / (double)(cnt[own] - 1);
            double bi = INFINITY;
            for (int c = 0; c < k; c++)
                if (c != own && cnt[c] > 0) {
                    double v = tribe_xsum_value(acc[a * k + c]) / (double)cnt[c];
                    if (v < bi)
                        bi = v;
                }
            double mx = ai > bi ? ai : bi;
            s = mx > 0 ? (bi - ai) / mx : 0.0; /* duplicates: a = b = 0 */
        }
        sum += s;
        sum2 += s * s;
    }
    *mean = sum / (double)m;
    if (m == n_global) {
        *ci95 = 0.0; /* the whole population: no sampling error */
    } else if (m > 1) {
        double var = (sum2 - sum * sum / (double)m) / (double)(m - 1);
        if (var < 0)
            var = 0;
        double fpc = (double)(n_global - m) / (double)(n_global - 1);
        *ci95 = 1.959963984540054 * sqrt(var / (double)m * fpc);
    }
cleanup:
    free(cnt);
    free(S);
    free(SL);
    free(acc);
    return st;
}
