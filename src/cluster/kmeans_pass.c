/* The K-Means pass (kmeans_internal.h) and the kernels on plain arrays of
 * tribe/cluster.h: plain arrays in, arrays out, OpenMP inside, no MPI. Each
 * row's result is computed by the same code whatever the thread that runs
 * it, and sums are exact, so results do not depend on the thread count. The
 * block kernels live in kmeans_gemm.c, kmeans_avx512.c and kmeans_avx2.c. */
#include "tribe/cluster.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_kernel.h"

/* Largest |value| of a block (NaN counts as large: the slow path then
 * keeps tribe_xsum_of's behaviour). */
static float block_max_abs(const float *x, int64_t n)
{
    /* On the bit patterns without the sign: integer max vectorises, and a
     * NaN compares above infinity. */
    uint32_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    float f;
    memcpy(&f, &m, sizeof f);
    return isnan(f) ? INFINITY : f;
}

/* acc[j] += the 2^-32 fixed-point value of x[j], every |x[j]| < 2^22: the
 * same integer as tribe_xsum_of. */
static inline void add_fixed(int64_t *restrict acc, const float *restrict x, int d)
{
    for (int j = 0; j < d; j++) {
        double s = (double)x[j] * TRIBE_XSUM_SCALE;
        acc[j] += (int64_t)(s + (s < 0 ? -0.5 : 0.5));
    }
}

/* Phase 3 of a block, after the SGEMM block or the AVX2 nominator: the
 * outputs and exact sums from the winners w->best / w->bd ([nsets][rows])
 * into the thread's buffers. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
tribe_km_emit(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t i0, int64_t rows)
{
    int d = p->d, k = p->k, ns = p->nsets;
    int block_small = p->sum && block_max_abs(xb, rows * d) < (float)KM_SMALL;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = xb + r * d;
        double xx = 0;
        if (p->sumsq)
            for (int j = 0; j < d; j++)
                xx += (double)x[j] * x[j];
        for (int s = 0; s < ns; s++) {
            int c0 = s * k;
            int best = w->best[s * rows + r];
            double bd = w->bd[s * rows + r];
            if (s == 0) {
                if (p->label)
                    p->label[i0 + r] = best;
                if (p->dist2)
                    p->dist2[i0 + r] = bd;
                if (p->dist2f)
                    p->dist2f[i0 + r] = (float)bd;
            }
            if (p->mind2) {
                double *m = p->mind2 + (size_t)s * (size_t)p->mind2_ld + (size_t)(i0 + r);
                if (bd < *m)
                    *m = bd;
            }
            if (p->count)
                w->cnt[c0 + best]++;
            if (p->sumsq) {
                if (xx < KM_SMALL)
                    w->sq64[c0 + best] += fix64(xx);
                else
                    w->sq[c0 + best] += tribe_xsum_of(xx);
            }
            if (p->inertia) {
                if (bd < KM_SMALL)
                    w->in64[s] += fix64(bd);
                else
                    w->in[s] += tribe_xsum_of(bd);
            }
            if (p->sum) {
                int64_t *acc = w->s64 + (size_t)(c0 + best) * d;
                if (block_small)
                    add_fixed(acc, x, d);
                else
                    for (int j = 0; j < d; j++) {
                        if (fabsf(x[j]) < (float)KM_SMALL)
                            acc[j] += fix64((double)x[j]);
                        else
                            w->sum[(size_t)(c0 + best) * d + j] += tribe_xsum_of((double)x[j]);
                    }
            }
        }
    }
}

/* A direct kernel's lane with several nominees, or not a finite row: the
 * nearest of the centres whose h (hb[c * stride]) is within lim, each
 * re-scored with dist2_row; the naive loop itself when none qualifies or
 * the row is not finite (ok = 0). Distance into *bv. */
int tribe_km_recheck(const float *x, int d, const double *cs, int ks, const float *hb, int stride, float lim, int ok,
                     double *bv)
{
    int bsel = -1;
    *bv = INFINITY;
    for (int c = 0; ok && c < ks; c++) {
        if (!(hb[c * stride] <= lim))
            continue;
        double v = dist2_row(x, cs + (size_t)c * d, d);
        if (bsel < 0 || v < *bv) {
            *bv = v;
            bsel = c;
        }
    }
    return bsel >= 0 ? bsel : nearest(x, d, cs, ks, bv);
}

/* The kernel of a pass: 1 the direct AVX-512 kernel, 2 the direct AVX2
 * nominator, 0 the SGEMM. Chosen by measurement (docs/clustering.md): the
 * direct kernel the CPU has whenever nsets * k * d <= KM_DIRECT_MAX. */
#define KM_DIRECT_MAX 65536 /* the largest k*d measured (K = 256, d = 256): direct still 1.9x faster */
static int km_kernel = -1;

static int km_avail(int level)
{
#ifdef KM_X86
    if (level == 1)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (level == 2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return level == 0;
}

static int km_best(void)
{
    return km_avail(1) ? 1 : km_avail(2) ? 2 : 0;
}

int tribe_kmeans_kernel(int level)
{
    km_kernel = level >= 0 && level <= 2 && km_avail(level) ? level : -1;
    return km_kernel < 0 ? km_best() : km_kernel;
}

static int km_rows_per_block(int kt)
{
    int r = 65536 / (kt > 0 ? kt : 1);
    return r < 8 ? 8 : r > KM_BLOCK ? KM_BLOCK : r;
}

tribe_status tribe_kmeans_pass(const float *z, int64_t n, tribe_kmeans_pass_io *p)
{
    tribe_status st = TRIBE_OK;
    int d = p->d, k = p->k, ns = p->nsets, kt = p->nsets * p->k;
    size_t ktd = (size_t)kt * (size_t)d;
    int nth = omp_get_max_threads();
    int R = km_rows_per_block(kt);
    float *cf = NULL;
    double *cn = NULL, *cmax = NULL;
    km_thread *th = NULL;
    int kern = km_kernel >= 0 ? km_kernel : (size_t)kt * d <= KM_DIRECT_MAX ? km_best() : 0;
#ifdef KM_X86
    float *wf = NULL, *cnf = NULL, *cmf = NULL;
    double *ct = NULL;
    int kp = 0;
    km_tabs tabs = {0};
#endif
    /* Threads only pay off on whole passes, not on a mini-batch. */
    int small = n < 8192 || (int64_t)n * kt * d < TRIBE_OMP_MIN_WORK;
    p->mind2_ld = n;
    if (small)
        nth = 1;
    TRIBE_TRY(tribe_alloc((void **)&cf, ktd * sizeof *cf));
    TRIBE_TRY(tribe_alloc((void **)&cn, (size_t)kt * sizeof *cn));
    TRIBE_TRY(tribe_calloc((void **)&cmax, (size_t)ns, sizeof *cmax));
    TRIBE_TRY(tribe_calloc((void **)&th, (size_t)nth, sizeof *th));
    for (int c = 0; c < kt; c++) {
        double s2 = 0;
        for (int j = 0; j < d; j++) {
            double v = p->cent[(size_t)c * d + j];
            cf[(size_t)c * d + j] = (float)v;
            s2 += v * v;
        }
        cn[c] = s2;
        if (sqrt(s2) > cmax[c / k])
            cmax[c / k] = sqrt(s2);
        if (!(s2 < 1e30)) /* NaN, infinite or huge centres: h could overflow */
            kern = 0;
    }
#ifdef KM_X86
    if (kern) {
        /* The direct kernels' tables (km_tabs). */
        kp = k <= 8 ? 8 : kern == 2 ? 0 : k <= 16 ? 16 : k <= 32 ? 32 : 0; /* the AVX2 kernel permutes only for k <= 8 */
        TRIBE_TRY(tribe_alloc((void **)&wf, ktd * sizeof *wf));
        TRIBE_TRY(tribe_alloc((void **)&cnf, (size_t)kt * sizeof *cnf));
        TRIBE_TRY(tribe_alloc((void **)&cmf, (size_t)ns * sizeof *cmf));
        TRIBE_TRY(tribe_calloc((void **)&ct, (size_t)ns * d * (kp ? kp : 1), sizeof *ct));
        for (size_t q = 0; q < ktd; q++)
            wf[q] = (float)(-2.0 * p->cent[q]);
        for (int c = 0; c < kt; c++)
            cnf[c] = (float)cn[c];
        for (int s = 0; s < ns; s++)
            cmf[s] = (float)cmax[s] * (1.0f + 1e-6f); /* rounded up */
        for (int c = 0; kp && c < kt; c++)
            for (int j = 0; j < d; j++)
                ct[((size_t)(c / k) * d + j) * kp + c % k] = p->cent[(size_t)c * d + j];
        tabs = (km_tabs){.wf = wf, .cnf = cnf, .ct = ct, .cmax = cmf, .kp = kp,
                         .e1 = 1.5f * (float)(d + 2) * 5.9604644775390625e-08f};
        R = KM_BLOCK;
    }
#endif
    for (int t = 0; t < nth; t++) {
        if (kern) {
            TRIBE_TRY(tribe_alloc((void **)&th[t].xt, (size_t)d * 16 * sizeof(float) + KM_PAD));
            TRIBE_TRY(tribe_alloc((void **)&th[t].hb, (size_t)k * 16 * sizeof(float) + KM_PAD));
        } else {
            TRIBE_TRY(tribe_alloc((void **)&th[t].g, (size_t)R * kt * sizeof(float) + KM_PAD));
        }
        TRIBE_TRY(tribe_calloc((void **)&th[t].s64, ktd * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sum, ktd * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].cnt, (size_t)kt * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in, (size_t)ns * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in64, (size_t)ns * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq, (size_t)kt * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq64, (size_t)kt * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_alloc((void **)&th[t].best, (size_t)R * ns * sizeof(int32_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].bd, (size_t)R * ns * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].xn, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m1, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m2, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].multi, (size_t)R * sizeof(int32_t) + KM_PAD));
    }
    /* One BLAS thread: the threads here are ours (docs/clustering.md). */
    openblas_set_num_threads(1);
    int64_t nblocks = (n + R - 1) / R;
    const double ebound = 3.0 * (d + 2) * 5.9604644775390625e-08; /* 2^-24 */
#pragma omp parallel num_threads(nth) if (!small)
    {
        km_thread *w = &th[omp_get_thread_num()];
        /* Dynamic: a thread that loses its core (shared machines) does not
         * hold up the pass. Which thread takes a block changes no result:
         * every row is computed alike and the sums are integers. */
#pragma omp for schedule(dynamic, 8)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t i0 = b * R, rows = n - i0 < R ? n - i0 : R;
#ifdef KM_X86
            if (kern == 1) {
                tribe_km_block_avx512(p, w, &tabs, z + i0 * d, i0, rows, n);
            } else if (kern == 2) {
                tribe_km_nominate_avx2(p, w, &tabs, z + i0 * d, rows, (n - i0) * d * 4);
                tribe_km_emit(p, w, z + i0 * d, i0, rows);
            } else
#endif
            {
                tribe_km_block_gemm(p, w, z + i0 * d, rows, cn, cmax, cf, ebound);
                tribe_km_emit(p, w, z + i0 * d, i0, rows);
            }
            /* Flush the block's int64 partials (values below 2^22
             * and at most KM_BLOCK of them fit in int64 too). */
            for (int s = 0; s < ns; s++) {
                w->in[s] += w->in64[s];
                w->in64[s] = 0;
            }
            for (int c = 0; c < kt; c++) {
                w->sq[c] += w->sq64[c];
                w->sq64[c] = 0;
            }
            if (p->sum)
                for (size_t q = 0; q < ktd; q++) {
                    w->sum[q] += w->s64[q];
                    w->s64[q] = 0;
                }
        }
    }
    /* Integer totals: the order of the threads does not matter. */
    if (p->sum)
        for (size_t q = 0; q < ktd; q++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].sum[q];
            p->sum[q] = a;
        }
    if (p->count)
        for (int c = 0; c < kt; c++) {
            int64_t a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].cnt[c];
            p->count[c] = a;
        }
    if (p->sumsq)
        for (int c = 0; c < kt; c++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].sq[c];
            p->sumsq[c] = a;
        }
    if (p->inertia)
        for (int s = 0; s < ns; s++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].in[s];
            p->inertia[s] = a;
        }
    p->rechecked = 0;
    for (int t = 0; t < nth; t++)
        p->rechecked += th[t].recheck;
cleanup:
    for (int t = 0; th && t < nth; t++) {
        free(th[t].g);
        free(th[t].s64);
        free(th[t].sum);
        free(th[t].cnt);
        free(th[t].in);
        free(th[t].in64);
        free(th[t].sq);
        free(th[t].sq64);
        free(th[t].best);
        free(th[t].bd);
        free(th[t].xn);
        free(th[t].m1);
        free(th[t].m2);
        free(th[t].multi);
        free(th[t].xt);
        free(th[t].hb);
    }
    free(th);
#ifdef KM_X86
    free(wf);
    free(cnf);
    free(cmf);
    free(ct);
#endif
    free(cf);
    free(cn);
    free(cmax);
    return st;
}

/* The naive double loop: the reference the GEMM pass reproduces, and the
 * fallback when its buffers cannot be allocated. */
static void assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                         double *dist2, float *dist2f)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * k * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double bd;
        label[i] = nearest(z + i * d, d, centroids, k, &bd);
        if (dist2)
            dist2[i] = bd;
        if (dist2f)
            dist2f[i] = (float)bd;
    }
}

void tribe_kmeans_assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                               double *dist2)
{
    assign_naive(z, n, d, centroids, k, label, dist2, NULL);
}

void tribe_kmeans_assign_d(const float *z, int64_t n, int d, const double *centroids, int k,
                           int32_t *label, double *dist2)
{
    tribe_kmeans_pass_io p = {.cent = centroids, .nsets = 1, .k = k, .d = d, .label = label, .dist2 = dist2};
    if (n > 0 && tribe_kmeans_pass(z, n, &p) != TRIBE_OK) {
        tribe_clear_error();
        assign_naive(z, n, d, centroids, k, label, dist2, NULL);
    }
}

void tribe_kmeans_assign(const float *z, int64_t n, int d, const double *centroids, int k,
                         int32_t *label, float *dist2)
{
    tribe_kmeans_pass_io p = {.cent = centroids, .nsets = 1, .k = k, .d = d, .label = label, .dist2f = dist2};
    if (n > 0 && tribe_kmeans_pass(z, n, &p) != TRIBE_OK) {
        tribe_clear_error();
        assign_naive(z, n, d, centroids, k, label, NULL, dist2);
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

int64_t tribe_km_first_nonfinite(const float *z, int64_t nv)
{
    uint32_t any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (nv >= 1 << 20)
    for (int64_t i = 0; i < nv; i++) {
        uint32_t u;
        memcpy(&u, z + i, sizeof u);
        any |= (u & 0x7f800000u) == 0x7f800000u;
    }
    for (int64_t i = 0; any && i < nv; i++)
        if (!isfinite(z[i]))
            return i;
    return -1;
}
