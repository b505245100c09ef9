/* Cluster quality from per-cluster sufficient statistics (tribe/cluster.h,
 * "cluster quality"): Calinski-Harabasz, Davies-Bouldin, the exact
 * squared-Euclidean silhouette over every row, and the adjusted Rand index
 * between two labelings; for several labelings of the same rows at once
 * (a K sweep's), tribe_quality_multi in silhouette_internal.h.
 *
 * Two passes over the shard, each serving every labeling. Pass 1 reduces
 * per cluster the count, Σx and Σ‖x‖² exactly (integer counts, tribe_xsum),
 * which fixes every centroid and within-cluster variance on every rank; each
 * row is added once into its tuple (its clusters under all labelings, see
 * tribe_tuples_build) and the tuples into their clusters. Pass 2 needs the
 * centroids: per cluster Σ‖x − μ‖ (Davies-Bouldin's spread) and Σ over rows
 * of the squared-Euclidean silhouette, both exact sums; its distances are
 * computed for blocks of Q_LANES rows at once (the compiler vectorises them
 * across rows; each row's sum still runs over j in order, in double, without
 * contraction: the bits of the plain loop). Everything after the reductions
 * is serial arithmetic on identical values, so the results do not depend on
 * the rank or thread count. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "silhouette_internal.h"

enum { Q_ROWS = 8192, Q_LANES = 16, Q_TUPLES = 2048 };

/* The distance kernels are built for the baseline ISA and, on x86-64, for
 * x86-64-v3, chosen at load time: the same C, the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define Q_CLONES __attribute__((target_clones("default", "arch=x86-64-v3")))
#else
#define Q_CLONES
#endif

static int64_t q_chunks(int64_t n) { return (n + Q_ROWS - 1) / Q_ROWS; }

static int q_threads(int64_t n, int64_t work)
{
    int nth = 1;
#ifdef _OPENMP
    if (work >= TRIBE_OMP_MIN_WORK)
        nth = omp_get_max_threads();
#endif
    (void)work;
    return nth < q_chunks(n) ? nth : (int)(q_chunks(n) > 0 ? q_chunks(n) : 1);
}

static int q_thread(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Pass 1 on rows [i0, i1): Σx and Σ‖x‖² of each tuple in ts[ntup][d + 1]
 * (zeroed here), then ADDED to mom[cell][d + 1] with the counts to count[cell]. */
static void moments_chunk(const tribe_dmat *z, const tribe_labelings *ls, int64_t i0, int64_t i1,
                          tribe_tuples *t, tribe_xsum *ts, tribe_xsum *mom, int64_t *count)
{
    int d = z->d;
    size_t w = (size_t)d + 1;
    for (int l0 = 0, l1, nt; l0 < ls->n; l0 = l1) {
        l1 = tribe_tuples_build(t, ls, i0, i1, l0, 0, &nt);
        memset(ts, 0, (size_t)nt * w * sizeof *ts);
        for (int64_t i = i0; i < i1; i++) {
            const float *x = z->x + (size_t)i * (size_t)d;
            tribe_xsum *s = ts + (size_t)t->rid[i - i0] * w;
            double q = 0;
            for (int j = 0; j < d; j++) {
                s[j] += tribe_xsum_of((double)x[j]);
                q += (double)x[j] * (double)x[j];
            }
            s[d] += tribe_xsum_of(q);
        }
        for (int u = 0; u < nt; u++)
            for (int l = 0; l < l1 - l0; l++) {
                int c = t->cell[(size_t)u * TRIBE_LABELINGS_MAX + l];
                for (size_t j = 0; j < w; j++)
                    mom[(size_t)c * w + j] += ts[(size_t)u * w + j];
                count[c] += t->count[u];
            }
    }
}

/* Pass 1 on the shard, per thread, then summed over threads into
 * mom[cells][d + 1] and count[cells] (zeroed by the caller). */
static tribe_status moments(const tribe_dmat *z, const tribe_labelings *ls, tribe_xsum *mom, int64_t *count)
{
    tribe_status st = TRIBE_OK;
    int64_t n = z->rows->n_local;
    size_t w = (size_t)z->d + 1, cells = (size_t)ls->coff[ls->n];
    int nth = q_threads(n, n * (int64_t)w);
    tribe_tuples *tup = NULL;
    tribe_xsum *ts = NULL, *tm = NULL;
    int64_t *tc = NULL;
    TRIBE_TRY(tribe_calloc((void **)&tup, (size_t)nth, sizeof *tup));
    for (int t = 0; t < nth; t++)
        TRIBE_TRY(tribe_tuples_init(&tup[t], Q_ROWS, Q_TUPLES, ls));
    TRIBE_TRY(tribe_alloc((void **)&ts, (size_t)nth * (size_t)tup[0].cap * w * sizeof *ts));
    TRIBE_TRY(tribe_calloc((void **)&tm, (size_t)nth * cells * w, sizeof *tm));
    TRIBE_TRY(tribe_calloc((void **)&tc, (size_t)nth * cells, sizeof *tc));
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (nth > 1)
    for (int64_t ch = 0; ch < q_chunks(n); ch++) {
        int t = q_thread();
        int64_t i0 = ch * Q_ROWS, i1 = i0 + Q_ROWS < n ? i0 + Q_ROWS : n;
        moments_chunk(z, ls, i0, i1, &tup[t], ts + (size_t)t * (size_t)tup[0].cap * w, tm + (size_t)t * cells * w,
                      tc + (size_t)t * cells);
    }
    for (int t = 0; t < nth; t++) {
        for (size_t c = 0; c < cells * w; c++)
            mom[c] += tm[(size_t)t * cells * w + c];
        for (size_t c = 0; c < cells; c++)
            count[c] += tc[(size_t)t * cells + c];
    }
cleanup:
    for (int t = 0; tup && t < nth; t++)
        tribe_tuples_free(&tup[t]);
    free(tup);
    free(ts);
    free(tm);
    free(tc);
    return st;
}

/* s[r] = ‖x_r − m‖² for the Q_LANES rows xb[d][Q_LANES], each over j in
 * order: vectorised across the rows, never across j. Four independent
 * accumulators of 4 rows (one AVX2 register each) hide the adds' latency;
 * unrolled, GCC would vectorise j instead and add each row's terms back one
 * by one. */
static inline __attribute__((always_inline)) void q_dist2(const double (*restrict xb)[Q_LANES],
                                                          const double *restrict m, int d, double *restrict s)
{
    double a0[4] = {0}, a1[4] = {0}, a2[4] = {0}, a3[4] = {0};
    for (int j = 0; j < d; j++) {
        const double *restrict x = xb[j];
        double mj = m[j];
#pragma GCC unroll 1
        for (int r = 0; r < 4; r++) {
            double t0 = x[r] - mj, t1 = x[4 + r] - mj, t2 = x[8 + r] - mj, t3 = x[12 + r] - mj;
            a0[r] += t0 * t0;
            a1[r] += t1 * t1;
            a2[r] += t2 * t2;
            a3[r] += t3 * t3;
        }
    }
    for (int r = 0; r < 4; r++) {
        s[r] = a0[r];
        s[4 + r] = a1[r];
        s[8 + r] = a2[r];
        s[12 + r] = a3[r];
    }
}

/* Pass 2 on rows [i0, i1) for every labeling, given the GLOBAL count,
 * mean[cell][d] and var[cell] (Σ‖y‖²/n_c − ‖μ_c‖²): ADDS per cell Σ‖x − μ_c‖
 * over its rows to spread[cells] and, per labeling, the sum over rows of the
 * squared-Euclidean silhouette (b − a)/max(a, b) to sil[l], where the mean
 * squared distance to cluster C is ‖x − μ_C‖² + var_C (the form of
 * ‖x‖² − 2x·μ_C + Σ‖y‖²/n_C that does not cancel large norms) and the own
 * cluster's is scaled by n_c/(n_c − 1) to leave x out; a row alone in its
 * cluster adds 0. */
Q_CLONES static void pass2_chunk(const tribe_dmat *z, const tribe_labelings *ls, int64_t i0, int64_t i1,
                                 const int64_t *count, const double *mean, const double *var, tribe_xsum *spread,
                                 tribe_xsum *sil)
{
    int d = z->d;
    double xb[TRIBE_MAX_FEATURES][Q_LANES];
    for (int64_t i = i0; i < i1; i += Q_LANES) {
        int nl = (int)(i1 - i < Q_LANES ? i1 - i : Q_LANES);
        for (int j = 0; j < d; j++)
            for (int r = 0; r < Q_LANES; r++)
                xb[j][r] = r < nl ? (double)z->x[(size_t)(i + r) * (size_t)d + (size_t)j] : 0.0;
        for (int l = 0; l < ls->n; l++) {
            const int64_t *cnt = count + ls->coff[l];
            const double *mu = mean + (size_t)ls->coff[l] * (size_t)d, *vr = var + ls->coff[l];
            int own[Q_LANES];
            double e2[Q_LANES], b[Q_LANES];
            for (int r = 0; r < Q_LANES; r++) {
                own[r] = r < nl ? tribe_labelings_at(ls, l, i + r) : 0;
                e2[r] = 0;
                b[r] = INFINITY;
            }
            for (int c = 0; c < ls->k[l]; c++) {
                if (cnt[c] < 1)
                    continue;
                double s[Q_LANES];
                q_dist2(xb, mu + (size_t)c * (size_t)d, d, s);
                for (int r = 0; r < Q_LANES; r++) {
                    double v = s[r] + vr[c];
                    e2[r] = own[r] == c ? s[r] : e2[r];
                    b[r] = own[r] != c && v < b[r] ? v : b[r];
                }
            }
            for (int r = 0; r < nl; r++) {
                int c = own[r];
                spread[ls->coff[l] + c] += tribe_xsum_of(sqrt(e2[r]));
                if (cnt[c] < 2 || !isfinite(b[r]))
                    continue; /* alone in its cluster, or no other cluster: s = 0 */
                double a = (e2[r] + vr[c]) * (double)cnt[c] / (double)(cnt[c] - 1);
                double mx = a > b[r] ? a : b[r];
                if (mx > 0)
                    sil[l] += tribe_xsum_of((b[r] - a) / mx);
            }
        }
    }
}

/* Pass 2 on the shard, per thread, then summed over threads into
 * spread[cells] and sil[n] (zeroed by the caller). */
static tribe_status pass2(const tribe_dmat *z, const tribe_labelings *ls, const int64_t *count, const double *mean,
                          const double *var, tribe_xsum *spread, tribe_xsum *sil)
{
    tribe_status st = TRIBE_OK;
    int64_t n = z->rows->n_local;
    size_t w = (size_t)ls->coff[ls->n] + (size_t)ls->n;
    int nth = q_threads(n, n * (int64_t)ls->coff[ls->n] * z->d);
    tribe_xsum *acc = NULL;
    TRIBE_TRY(tribe_calloc((void **)&acc, (size_t)nth * w, sizeof *acc));
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (nth > 1)
    for (int64_t ch = 0; ch < q_chunks(n); ch++) {
        tribe_xsum *a = acc + (size_t)q_thread() * w;
        int64_t i0 = ch * Q_ROWS, i1 = i0 + Q_ROWS < n ? i0 + Q_ROWS : n;
        pass2_chunk(z, ls, i0, i1, count, mean, var, a, a + ls->coff[ls->n]);
    }
    for (int t = 0; t < nth; t++) {
        for (int c = 0; c < ls->coff[ls->n]; c++)
            spread[c] += acc[(size_t)t * w + (size_t)c];
        for (int l = 0; l < ls->n; l++)
            sil[l] += acc[(size_t)t * w + (size_t)ls->coff[ls->n] + (size_t)l];
    }
cleanup:
    free(acc);
    return st;
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

tribe_status tribe_quality_multi(const tribe_dmat *z, const tribe_labelings *ls, tribe_cluster_quality *q)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = z->rows->par;
    int d = z->d, L = ls->n;
    tribe_xsum *mom = NULL, *red = NULL;
    int64_t *count = NULL;
    double *mean = NULL, *var = NULL, *sp = NULL;
    for (int l = 0; l < L && l < TRIBE_LABELINGS_MAX; l++) {
        q[l].ch = q[l].db = q[l].silhouette_sq = NAN;
        q[l].clusters = 0;
    }
    TRIBE_TRY(tribe_labelings_check(z, ls, "cluster quality"));
    size_t cells = (size_t)ls->coff[L], w = (size_t)d + 1;
    st = tribe_calloc((void **)&mom, cells * w, sizeof *mom);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&red, cells + (size_t)L, sizeof *red);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&count, cells, sizeof *count);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&mean, cells * ((size_t)d + 2), sizeof *mean);
    TRIBE_TRY(tribe_par_agree(par, st));
    var = mean + cells * (size_t)d;
    sp = var + cells;

    TRIBE_TRY(tribe_par_agree(par, moments(z, ls, mom, count)));
    TRIBE_TRY(tribe_par_sum_xsum(par, mom, (int64_t)(cells * w)));
    TRIBE_TRY(tribe_par_sum_i64(par, count, (int64_t)cells));
    for (size_t c = 0; c < cells; c++) {
        if (count[c] < 1)
            continue;
        double m2 = 0;
        for (int j = 0; j < d; j++) {
            double v = tribe_xsum_value(mom[c * w + (size_t)j]) / (double)count[c];
            mean[c * (size_t)d + (size_t)j] = v;
            m2 += v * v;
        }
        double v = tribe_xsum_value(mom[c * w + (size_t)d]) / (double)count[c] - m2;
        var[c] = v > 0 ? v : 0;
    }
    TRIBE_TRY(tribe_par_agree(par, pass2(z, ls, count, mean, var, red, red + cells)));
    TRIBE_TRY(tribe_par_sum_xsum(par, red, (int64_t)(cells + (size_t)L)));
    for (size_t c = 0; c < cells; c++)
        sp[c] = count[c] > 0 ? tribe_xsum_value(red[c]) / (double)count[c] : 0;
    for (int l = 0; l < L; l++) {
        int o = ls->coff[l], k = ls->k[l];
        for (int c = 0; c < k; c++)
            q[l].clusters += count[o + c] > 0;
        q[l].ch = tribe_quality_ch(count + o, mean + (size_t)o * (size_t)d, var + o, k, d);
        q[l].db = tribe_quality_db(count + o, mean + (size_t)o * (size_t)d, sp + o, k, d);
        if (q[l].clusters >= 2 && z->rows->n_global > 0)
            q[l].silhouette_sq = tribe_xsum_value(red[cells + (size_t)l]) / (double)z->rows->n_global;
    }
cleanup:
    free(mom);
    free(red);
    free(count);
    free(mean);
    return st;
}

tribe_status tribe_cluster_quality_compute(const tribe_dmat *z, const int32_t *label, int k,
                                           tribe_cluster_quality *q)
{
    tribe_labelings ls;
    tribe_labelings_one(&ls, label, k, z->rows->n_local);
    return tribe_quality_multi(z, &ls, q);
}
