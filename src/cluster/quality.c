/* Cluster quality from per-cluster sufficient statistics (tribe/cluster.h,
 * "cluster quality"): Calinski-Harabasz, Davies-Bouldin, the exact
 * squared-Euclidean silhouette over every row, and the adjusted Rand index
 * between two labelings.
 *
 * Two passes over the shard. Pass 1 reduces per cluster the count, Σx and
 * Σ‖x‖² exactly (integer counts, tribe_xsum), which fixes every centroid
 * and within-cluster variance on every rank. Pass 2 needs the centroids:
 * per cluster Σ‖x − μ‖ (Davies-Bouldin's spread) and Σ over rows of the
 * squared-Euclidean silhouette, both exact sums. Everything after the
 * reductions is serial arithmetic on identical values, so the results do
 * not depend on the rank or thread count. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kmeans_internal.h"
#include "tribe/xstats.h"

void tribe_quality_moments(const float *z, int64_t n, int d, const int32_t *label, int k, tribe_xsum *sum,
                           tribe_xsum *sumsq, int64_t *count)
{
    /* Columns of sum[] and the sumsq/count vectors are owned by one thread
     * each: no shared cells, and integer sums do not care about order. */
#pragma omp parallel for schedule(static) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j <= d; j++) {
        for (int64_t i = 0; i < n; i++) {
            int c = label[i];
            if (c < 0 || c >= k)
                continue;
            const float *x = z + i * d;
            if (j < d) {
                sum[(size_t)c * d + j] += tribe_xsum_of((double)x[j]);
            } else {
                double q = 0;
                for (int l = 0; l < d; l++)
                    q += (double)x[l] * (double)x[l];
                sumsq[c] += tribe_xsum_of(q);
                count[c]++;
            }
        }
    }
}

static double dist2(const float *x, const double *mu, int d)
{
    double s = 0;
    for (int l = 0; l < d; l++) {
        double t = (double)x[l] - mu[l];
        s += t * t;
    }
    return s;
}

void tribe_quality_pass2(const float *z, int64_t n, int d, const int32_t *label, int k, const int64_t *count,
                         const double *mean, const double *var, tribe_xsum *spread, tribe_xsum *sil_sum,
                         tribe_xsum *work, int nwork)
{
    /* Thread t adds into work[t][k + 1] (or, serially, straight into the
     * outputs); integer partial sums combine in any order. */
    int par = work && nwork > 1 && n * k * d >= TRIBE_OMP_MIN_WORK;
    if (par)
        memset(work, 0, (size_t)nwork * ((size_t)k + 1) * sizeof *work);
#pragma omp parallel num_threads(nwork) if (par)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        tribe_xsum *sp = par ? work + (size_t)t * ((size_t)k + 1) : spread;
        tribe_xsum *ss = par ? sp + k : sil_sum;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            int own = label[i];
            if (own < 0 || own >= k || count[own] < 1)
                continue;
            const float *x = z + i * d;
            /* Mean squared distance from x to the members of cluster c:
             * ‖x − μ_c‖² + var_c (var_c = Σ‖y‖²/n_c − ‖μ_c‖²), the form of
             * ‖x‖² − 2x·μ_c + Σ‖y‖²/n_c that does not cancel large norms. */
            double e2 = dist2(x, mean + (size_t)own * d, d);
            sp[own] += tribe_xsum_of(sqrt(e2));
            if (count[own] < 2)
                continue; /* alone in its cluster: s = 0 */
            /* The own-cluster mean includes x at distance 0: rescale to the
             * mean over the n_c - 1 others. */
            double a = (e2 + var[own]) * (double)count[own] / (double)(count[own] - 1), b = INFINITY;
            for (int c = 0; c < k; c++)
                if (c != own && count[c] > 0) {
                    double v = dist2(x, mean + (size_t)c * d, d) + var[c];
                    if (v < b)
                        b = v;
                }
            if (!isfinite(b))
                continue;
            double mx = a > b ? a : b;
            if (mx > 0)
                *ss += tribe_xsum_of((b - a) / mx);
        }
    }
    for (int t = 0; par && t < nwork; t++) {
        for (int c = 0; c < k; c++)
            spread[c] += work[(size_t)t * ((size_t)k + 1) + c];
        *sil_sum += work[(size_t)t * ((size_t)k + 1) + k];
    }
}

double tribe_quality_ch(const int64_t *count, const double *mean, const double *var, int k, int d)
{
    int64_t n = 0;
    int q = 0;
    for (int c = 0; c < k; c++) {
        n += count[c];
        q += count[c] > 0;
    }
    if (q < 2 || n <= q)
        return NAN;
    double between = 0, within = 0;
    for (int l = 0; l < d; l++) {
        double g = 0;
        for (int c = 0; c < k; c++)
            g += (double)count[c] * mean[(size_t)c * d + l];
        g /= (double)n;
        for (int c = 0; c < k; c++)
            if (count[c] > 0) {
                double t = mean[(size_t)c * d + l] - g;
                between += (double)count[c] * t * t;
            }
    }
    for (int c = 0; c < k; c++)
        within += (double)count[c] * var[c];
    if (!(within > 0))
        return 1.0; /* every cluster a point: sklearn's convention */
    return between * (double)(n - q) / (within * (double)(q - 1));
}

double tribe_quality_db(const int64_t *count, const double *mean, const double *spread, int k, int d)
{
    int q = 0;
    for (int c = 0; c < k; c++)
        q += count[c] > 0;
    if (q < 2)
        return NAN;
    double total = 0;
    for (int a = 0; a < k; a++) {
        if (count[a] < 1)
            continue;
        double worst = 0;
        for (int b = 0; b < k; b++) {
            if (b == a || count[b] < 1)
                continue;
            double m2 = 0;
            for (int l = 0; l < d; l++) {
                double t = mean[(size_t)a * d + l] - mean[(size_t)b * d + l];
                m2 += t * t;
            }
            /* Coincident centres count as infinitely far (sklearn). */
            double r = m2 > 0 ? (spread[a] + spread[b]) / sqrt(m2) : 0.0;
            if (r > worst)
                worst = r;
        }
        total += worst;
    }
    return total / (double)q;
}

static double comb2(double v) { return v * (v - 1) / 2; }

double tribe_ari_from_table(const int64_t *table, int ka, int kb)
{
    /* Pair counts as long double: with n up to 1e9 they pass 2^53. */
    long double sij = 0, sa = 0, sb = 0;
    int64_t n = 0;
    for (int a = 0; a < ka; a++) {
        int64_t row = 0;
        for (int b = 0; b < kb; b++) {
            row += table[(size_t)a * kb + b];
            sij += comb2((double)table[(size_t)a * kb + b]);
        }
        sa += comb2((double)row);
        n += row;
    }
    for (int b = 0; b < kb; b++) {
        int64_t col = 0;
        for (int a = 0; a < ka; a++)
            col += table[(size_t)a * kb + b];
        sb += comb2((double)col);
    }
    long double all = comb2((double)n);
    if (n < 2)
        return 1.0;
    long double expect = sa * sb / all, top = (sa + sb) / 2;
    /* One cluster on both sides, or every point alone on both: identical
     * partitions that the formula cannot score (0/0); sklearn gives 1. */
    if (top == expect)
        return 1.0;
    return (double)((sij - expect) / (top - expect));
}

tribe_status tribe_ari(tribe_par *par, const int32_t *la, int ka, const int32_t *lb, int kb, int64_t n_local,
                       double *ari)
{
    tribe_status st = TRIBE_OK;
    int64_t *tab = NULL;
    *ari = NAN;
    if (ka < 1 || kb < 1 || (int64_t)ka * kb > 1 << 20)
        st = tribe_fail(TRIBE_ERR_USAGE, "ari: %d x %d clusters", ka, kb);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&tab, (size_t)ka * (size_t)kb, sizeof *tab);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++) {
        if (la[i] < 0 || la[i] >= ka || lb[i] < 0 || lb[i] >= kb)
            st = tribe_fail(TRIBE_ERR_INPUT, "ari: local row %lld has labels %d and %d, outside [0, %d) x [0, %d)",
                            (long long)i, (int)la[i], (int)lb[i], ka, kb);
        else
            tab[(size_t)la[i] * kb + lb[i]]++;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_i64(par, tab, (int64_t)ka * kb));
    *ari = tribe_ari_from_table(tab, ka, kb);
cleanup:
    free(tab);
    return st;
}

tribe_status tribe_cluster_quality_compute(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                                           int64_t n_global, int d, const int32_t *label, int k,
                                           tribe_cluster_quality *q)
{
    tribe_status st = TRIBE_OK;
    tribe_xsum *sum = NULL, *sumsq = NULL, *spread = NULL, *work = NULL;
    int nwork = 1;
#ifdef _OPENMP
    nwork = omp_get_max_threads();
#endif
    int64_t *count = NULL;
    double *mean = NULL, *var = NULL, *sp = NULL;
    q->ch = q->db = q->silhouette_sq = NAN;
    q->clusters = 0;
    if (k < 1 || d < 1 || d > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "cluster quality: k=%d, d=%d", k, d);
    TRIBE_TRY(tribe_par_agree(par, st));
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n_local, offset, n_global, &rows));
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++)
        if (label[i] < 0 || label[i] >= k)
            st = tribe_fail(TRIBE_ERR_INPUT, "cluster quality: row %lld has label %d, outside [0, %d)",
                            (long long)(offset + i), (int)label[i], k);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sum, (size_t)k * ((size_t)d + 3), sizeof *sum);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&count, (size_t)k, sizeof *count);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&mean, (size_t)k * ((size_t)d + 2), sizeof *mean);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&work, (size_t)nwork * ((size_t)k + 1), sizeof *work);
    TRIBE_TRY(tribe_par_agree(par, st));
    sumsq = sum + (size_t)k * d;
    spread = sumsq + k;
    var = mean + (size_t)k * d;
    sp = var + k;

    tribe_quality_moments(z, n_local, d, label, k, sum, sumsq, count);
    TRIBE_TRY(tribe_par_sum_xsum(par, sum, (int64_t)k * (d + 1)));
    TRIBE_TRY(tribe_par_sum_i64(par, count, k));
    for (int c = 0; c < k; c++) {
        if (count[c] < 1)
            continue;
        q->clusters++;
        double m2 = 0;
        for (int l = 0; l < d; l++) {
            double v = tribe_xsum_value(sum[(size_t)c * d + l]) / (double)count[c];
            mean[(size_t)c * d + l] = v;
            m2 += v * v;
        }
        double v = tribe_xsum_value(sumsq[c]) / (double)count[c] - m2;
        var[c] = v > 0 ? v : 0;
    }
    q->ch = tribe_quality_ch(count, mean, var, k, d);

    tribe_xsum sil = 0;
    memset(spread, 0, (size_t)(k + 1) * sizeof *spread);
    tribe_quality_pass2(z, n_local, d, label, k, count, mean, var, spread, &sil, work, nwork);
    spread[k] = sil;
    TRIBE_TRY(tribe_par_sum_xsum(par, spread, k + 1));
    for (int c = 0; c < k; c++)
        sp[c] = count[c] > 0 ? tribe_xsum_value(spread[c]) / (double)count[c] : 0;
    q->db = tribe_quality_db(count, mean, sp, k, d);
    if (q->clusters >= 2 && n_global > 0)
        q->silhouette_sq = tribe_xsum_value(spread[k]) / (double)n_global;
cleanup:
    free(sum);
    free(count);
    free(mean);
    free(work);
    return st;
}
