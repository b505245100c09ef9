/* k-means++ seeding and weighted draws (tribe_kmeanspp in tribe/cluster.h,
 * tribe_kmeans_draw in kmeans_internal.h): serial, the same on every rank. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_kernel.h"

/* Index of the row whose cumulative weight first exceeds u (weights w >= 0,
 * u in [0, total)); never a row of weight 0. -1 if every weight is 0. */
static int64_t draw_weighted(const double *w, int64_t m, double u)
{
    double cum = 0;
    int64_t last = -1;
    for (int64_t i = 0; i < m; i++) {
        if (w[i] <= 0)
            continue;
        cum += w[i];
        last = i;
        if (cum > u)
            return i;
    }
    return last; /* u rounded up to the total */
}

int64_t tribe_kmeans_draw(const double *w, int64_t m, uint64_t seed, uint64_t stream, uint64_t counter)
{
    double total = 0;
    for (int64_t i = 0; i < m; i++)
        total += w[i];
    if (!(total > 0))
        return -1;
    return draw_weighted(w, m, tribe_rng_unif(seed, stream, counter) * total);
}

/* out[i] = |s_i - c|^2 for the m rows of the column-major copy st[d][m]:
 * j ascending for every row, so each value has dist2_row's bits, but the
 * loops run down contiguous columns (vectorised across rows). */
static void cols_dist2(const float *st, int64_t m, int d, const double *c, double *out)
{
    for (int64_t i = 0; i < m; i++) {
        double t = (double)st[i] - c[0];
        out[i] = t * t;
    }
    for (int j = 1; j < d; j++) {
        const float *col = st + (size_t)j * m;
        double cj = c[j];
        for (int64_t i = 0; i < m; i++) {
            double t = (double)col[i] - cj;
            out[i] += t * t;
        }
    }
}

int tribe_kmeanspp(const float *s, int64_t m, int d, int k, uint64_t seed, uint64_t stream,
                   double *centroids, double *d2)
{
    if (m <= 0 || k <= 0)
        return 0;
    /* Work: the sample by columns and two distance rows (plain malloc: this
     * may run on several threads at once, one restart each). */
    float *st = malloc((size_t)m * d * sizeof *st);
    double *dd = malloc((size_t)m * sizeof *dd), *bd = malloc((size_t)m * sizeof *bd);
    int found = -1;
    if (!st || !dd || !bd)
        goto cleanup;
    for (int64_t i = 0; i < m; i++)
        for (int j = 0; j < d; j++)
            st[(size_t)j * m + i] = s[i * d + j];
    uint64_t ctr = 0;
    int64_t first = (int64_t)tribe_rng_below(seed, stream, ctr++, (uint64_t)m);
    for (int j = 0; j < d; j++)
        centroids[j] = (double)s[first * d + j];
    cols_dist2(st, m, d, centroids, d2);
    /* Greedy k-means++ (as in sklearn): several candidates per step, keep the
     * one that lowers the potential most. The potential is a serial sum in
     * row order, so it does not depend on threads. */
    int trials = 2 + (int)floor(log((double)k));
    found = 1;
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int64_t i = 0; i < m; i++)
            total += d2[i];
        if (!(total > 0))
            break; /* every sample row coincides with a chosen centre */
        int64_t best = -1;
        double best_pot = INFINITY;
        double *cc = centroids + (size_t)c * d;
        for (int t = 0; t < trials; t++) {
            int64_t cand = draw_weighted(d2, m, tribe_rng_unif(seed, stream, ctr++) * total);
            for (int j = 0; j < d; j++)
                cc[j] = (double)s[cand * d + j];
            cols_dist2(st, m, d, cc, dd);
            double pot = 0;
            for (int64_t i = 0; i < m; i++)
                pot += dd[i] < d2[i] ? dd[i] : d2[i];
            if (pot < best_pot) {
                best_pot = pot;
                best = cand;
                double *sw = bd;
                bd = dd;
                dd = sw;
            }
        }
        for (int j = 0; j < d; j++)
            cc[j] = (double)s[best * d + j];
        for (int64_t i = 0; i < m; i++)
            if (bd[i] < d2[i])
                d2[i] = bd[i];
        found = c + 1;
    }
cleanup:
    free(st);
    free(dd);
    free(bd);
    return found;
}
