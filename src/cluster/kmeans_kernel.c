/* K-Means kernels (tribe/cluster.h): plain arrays in, arrays out, OpenMP
 * inside, no MPI. Each row's result is computed by the same code whatever the
 * thread that runs it, and sums are exact, so results do not depend on the
 * thread count. */
#include "tribe/cluster.h"

#include <math.h>

#include "kmeans_internal.h"
#include "tribe/xstats.h"

static inline double dist2_row(const float *x, const double *c, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = (double)x[j] - c[j];
        s += t * t;
    }
    return s;
}

/* Index of the centroid nearest to row x and its squared distance. Strictly
 * smaller wins: ties go to the lowest index. Inlined into both assignment
 * loops (which differ only in the precision of the distance they store). */
static inline int nearest(const float *x, int d, const double *centroids, int k, double *dist2)
{
    int best = 0;
    double bd = dist2_row(x, centroids, d);
    for (int c = 1; c < k; c++) {
        double t = dist2_row(x, centroids + (size_t)c * d, d);
        if (t < bd) {
            bd = t;
            best = c;
        }
    }
    *dist2 = bd;
    return best;
}

void tribe_kmeans_assign_d(const float *z, int64_t n, int d, const double *centroids, int k,
                           int32_t *label, double *dist2)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * k * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double bd;
        label[i] = nearest(z + i * d, d, centroids, k, &bd);
        if (dist2)
            dist2[i] = bd;
    }
}

void tribe_kmeans_assign(const float *z, int64_t n, int d, const double *centroids, int k,
                         int32_t *label, float *dist2)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * k * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double bd;
        label[i] = nearest(z + i * d, d, centroids, k, &bd);
        if (dist2)
            dist2[i] = (float)bd;
    }
}

void tribe_kmeans_sums(const float *z, int64_t n, int d, const int32_t *label, int k,
                       tribe_xsum *sum, int64_t *count)
{
    for (size_t q = 0; q < (size_t)k * d; q++)
        sum[q] = 0;
    for (int c = 0; c < k; c++)
        count[c] = 0;
    /* Column j = d is the counts. Each thread owns whole columns, so no cell
     * is shared and no per-thread buffers are needed. */
#pragma omp parallel for schedule(dynamic, 1) if ((int64_t)n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j <= d; j++) {
        for (int64_t i = 0; i < n; i++) {
            int c = label[i];
            if (c < 0 || c >= k)
                continue;
            if (j == d)
                count[c]++;
            else
                sum[(size_t)c * d + j] += tribe_xsum_of((double)z[i * d + j]);
        }
    }
}

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

int tribe_kmeanspp(const float *s, int64_t m, int d, int k, uint64_t seed, uint64_t stream,
                   double *centroids, double *d2)
{
    if (m <= 0 || k <= 0)
        return 0;
    uint64_t ctr = 0;
    int64_t first = (int64_t)tribe_rng_below(seed, stream, ctr++, (uint64_t)m);
    for (int j = 0; j < d; j++)
        centroids[j] = (double)s[first * d + j];
    for (int64_t i = 0; i < m; i++)
        d2[i] = dist2_row(s + i * d, centroids, d);
    /* Greedy k-means++ (as in sklearn): several candidates per step, keep the
     * one that lowers the potential most. Serial on purpose: the potential is
     * a floating-point sum whose order must not depend on threads. */
    int trials = 2 + (int)floor(log((double)k));
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int64_t i = 0; i < m; i++)
            total += d2[i];
        if (!(total > 0))
            return c; /* every sample row coincides with a chosen centre */
        int64_t best = -1;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            int64_t cand = draw_weighted(d2, m, tribe_rng_unif(seed, stream, ctr++) * total);
            double pot = 0;
            for (int64_t i = 0; i < m; i++) {
                double dd = 0;
                for (int j = 0; j < d; j++) {
                    double u = (double)s[i * d + j] - (double)s[cand * d + j];
                    dd += u * u;
                }
                pot += dd < d2[i] ? dd : d2[i];
            }
            if (pot < best_pot) {
                best_pot = pot;
                best = cand;
            }
        }
        double *cc = centroids + (size_t)c * d;
        for (int j = 0; j < d; j++)
            cc[j] = (double)s[best * d + j];
        for (int64_t i = 0; i < m; i++) {
            double dd = dist2_row(s + i * d, cc, d);
            if (dd < d2[i])
                d2[i] = dd;
        }
    }
    return k;
}

void tribe_eig_sym(double *a, int n, double *w, double *v)
{
    /* V starts as the identity and accumulates the rotations; its COLUMNS
     * are the eigenvectors until the final transpose. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            v[i * n + j] = i == j ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int p = 0; p < n; p++) {
            diag += a[p * n + p] * a[p * n + p];
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        }
        if (off <= 1e-30 * diag || off == 0)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int r = 0; r < n; r++) { /* A <- A J */
                    double arp = a[r * n + p], arq = a[r * n + q];
                    a[r * n + p] = c * arp - s * arq;
                    a[r * n + q] = s * arp + c * arq;
                }
                for (int r = 0; r < n; r++) { /* A <- J^T A */
                    double apr = a[p * n + r], aqr = a[q * n + r];
                    a[p * n + r] = c * apr - s * aqr;
                    a[q * n + r] = s * apr + c * aqr;
                }
                a[p * n + q] = a[q * n + p] = 0;
                for (int r = 0; r < n; r++) { /* V <- V J */
                    double vrp = v[r * n + p], vrq = v[r * n + q];
                    v[r * n + p] = c * vrp - s * vrq;
                    v[r * n + q] = s * vrp + c * vrq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        w[i] = a[i * n + i];
    /* Transpose so eigenvectors are rows, then insertion-sort by descending
     * eigenvalue with adjacent swaps (stable: equal values keep their order). */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double t = v[i * n + j];
            v[i * n + j] = v[j * n + i];
            v[j * n + i] = t;
        }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && w[j - 1] < w[j]; j--) {
            double t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
            for (int r = 0; r < n; r++) {
                t = v[j * n + r];
                v[j * n + r] = v[(j - 1) * n + r];
                v[(j - 1) * n + r] = t;
            }
        }
    /* An eigenvector's sign is arbitrary: fix it so plots do not flip. */
    for (int i = 0; i < n; i++) {
        int big = 0;
        for (int j = 1; j < n; j++)
            if (fabs(v[i * n + j]) > fabs(v[i * n + big]))
                big = j;
        if (v[i * n + big] < 0)
            for (int j = 0; j < n; j++)
                v[i * n + j] = -v[i * n + j];
    }
}
