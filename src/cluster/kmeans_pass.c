/* The K-Means pass (kmeans_internal.h) and the kernels on plain arrays of
 * tribe/cluster.h: plain arrays in, arrays out, OpenMP inside, no MPI. Each
 * row's result is computed by the same code whatever the thread that runs
 * it, and sums are exact, so results do not depend on the thread count. The
 * block kernels live in kmeans_gemm.c, kmeans_avx512.c and kmeans_avx2.c. */
#include "tribe/cluster.h"

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

/* ---- the workspace and the pass --------------------------------------------
 * The automatic kernel (chosen by measurement, docs/clustering.md): the
 * direct kernel the CPU has (tribe_simd_level) whenever nsets * k * d <=
 * KM_DIRECT_MAX, else the SGEMM. */
#define KM_DIRECT_MAX 65536 /* the largest k*d measured (K = 256, d = 256): direct still 1.9x faster */

struct tribe_kmeans_ws {
    int nsets, kt, d;   /* capacity: at most nsets sets and kt centres in all, d features */
    int threads, kernel;
    float *cf;          /* [kt][d] the centres in float (SGEMM) */
    double *cn, *cmax;  /* [kt] |c|^2, [nsets] largest |c| of a set */
    float *wf, *cnf, *cmf; /* direct kernels: [kt][d] fl(-2 c), [kt] fl(|c|^2), [nsets] */
    double *ct;         /* direct kernels: [nsets][d][kp] centre coordinates by j */
    size_t ct_cap;      /* doubles in ct */
    km_thread *th;      /* [threads] */
};

int tribe_kmeans_kernel_available(int kernel)
{
    int level = tribe_simd_level();
    if (kernel == TRIBE_KMEANS_KERNEL_AVX512)
        return level >= TRIBE_SIMD_AVX512;
    if (kernel == TRIBE_KMEANS_KERNEL_AVX2)
        return level >= TRIBE_SIMD_AVX2;
    return kernel == TRIBE_KMEANS_KERNEL_GEMM;
}

int tribe_kmeans_ws_kernel(const tribe_kmeans_ws *ws) { return ws->kernel; }

static int km_rows_per_block(int kt)
{
    int r = 65536 / (kt > 0 ? kt : 1);
    return r < 8 ? 8 : r > KM_BLOCK ? KM_BLOCK : r;
}

static void ws_free_buffers(tribe_kmeans_ws *ws)
{
    for (int t = 0; ws->th && t < ws->threads; t++) {
        km_thread *w = &ws->th[t];
        free(w->g);
        free(w->s64);
        free(w->sum);
        free(w->cnt);
        free(w->in);
        free(w->in64);
        free(w->sq);
        free(w->sq64);
        free(w->best);
        free(w->bd);
        free(w->xn);
        free(w->m1);
        free(w->m2);
        free(w->multi);
        free(w->xt);
        free(w->hb);
    }
    free(ws->th);
    free(ws->cf);
    free(ws->cn);
    free(ws->cmax);
    free(ws->wf);
    free(ws->cnf);
    free(ws->cmf);
    free(ws->ct);
    ws->th = NULL;
    ws->cf = ws->wf = ws->cnf = ws->cmf = NULL;
    ws->cn = ws->cmax = ws->ct = NULL;
}

/* Every buffer for passes of at most ns sets and kt centres in all (the
 * previous ones freed first). The SGEMM's are always there: a pass whose
 * centres are too large for the direct kernels' float tables falls back to
 * it. Per-thread buffers end with KM_PAD unused bytes. */
static tribe_status ws_alloc_buffers(tribe_kmeans_ws *ws, int ns, int kt)
{
    tribe_status st = TRIBE_OK;
    int d = ws->d, direct = ws->kernel != TRIBE_KMEANS_KERNEL_GEMM;
    size_t ktd = (size_t)kt * (size_t)d;
    /* The largest SGEMM block: R(kt') kt' <= max(65536, 8 kt') floats. */
    size_t gcap = (size_t)kt * 8 > 65536 ? (size_t)kt * 8 : 65536;
    ws_free_buffers(ws);
    ws->nsets = ns;
    ws->kt = kt;
    /* The permute tables take kp <= 32 doubles per set and j, kp <= 8 k. */
    ws->ct_cap = (size_t)d * (size_t)(8 * (int64_t)kt < 32 * (int64_t)ns ? 8 * kt : 32 * ns);
    TRIBE_TRY(tribe_alloc((void **)&ws->cf, ktd * sizeof *ws->cf));
    TRIBE_TRY(tribe_alloc((void **)&ws->cn, (size_t)kt * sizeof *ws->cn));
    TRIBE_TRY(tribe_alloc((void **)&ws->cmax, (size_t)ns * sizeof *ws->cmax));
    if (direct) {
        TRIBE_TRY(tribe_alloc((void **)&ws->wf, ktd * sizeof *ws->wf));
        TRIBE_TRY(tribe_alloc((void **)&ws->cnf, (size_t)kt * sizeof *ws->cnf));
        TRIBE_TRY(tribe_alloc((void **)&ws->cmf, (size_t)ns * sizeof *ws->cmf));
        TRIBE_TRY(tribe_alloc((void **)&ws->ct, ws->ct_cap * sizeof *ws->ct));
    }
    TRIBE_TRY(tribe_calloc((void **)&ws->th, (size_t)ws->threads, sizeof *ws->th));
    for (int t = 0; t < ws->threads; t++) {
        km_thread *w = &ws->th[t];
        if (direct) {
            TRIBE_TRY(tribe_alloc((void **)&w->xt, (size_t)d * 16 * sizeof(float) + KM_PAD));
            TRIBE_TRY(tribe_alloc((void **)&w->hb, (size_t)kt * 16 * sizeof(float) + KM_PAD));
        }
        TRIBE_TRY(tribe_alloc((void **)&w->g, gcap * sizeof(float) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->s64, ktd * sizeof(int64_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->sum, ktd * sizeof(tribe_xsum) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->cnt, (size_t)kt * sizeof(int64_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->in, (size_t)ns * sizeof(tribe_xsum) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->in64, (size_t)ns * sizeof(int64_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->sq, (size_t)kt * sizeof(tribe_xsum) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->sq64, (size_t)kt * sizeof(int64_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->best, (size_t)KM_BLOCK * ns * sizeof(int32_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->bd, (size_t)KM_BLOCK * ns * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->xn, (size_t)KM_BLOCK * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->m1, (size_t)KM_BLOCK * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->m2, (size_t)KM_BLOCK * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&w->multi, (size_t)KM_BLOCK * sizeof(int32_t) + KM_PAD));
    }
cleanup:
    if (st != TRIBE_OK)
        ws_free_buffers(ws);
    return st;
}

tribe_status tribe_kmeans_ws_create(const tribe_kmeans_ws_spec *spec, tribe_kmeans_ws **out)
{
    tribe_status st = TRIBE_OK;
    tribe_kmeans_ws *ws = NULL;
    int kernel = spec->kernel;
    *out = NULL;
    if (spec->nsets < 1 || spec->k < 1 || spec->d < 1 || spec->d > TRIBE_MAX_FEATURES || spec->threads < 1 ||
        (int64_t)spec->nsets * spec->k > INT32_MAX / 64 || kernel < TRIBE_KMEANS_KERNEL_AUTO ||
        kernel > TRIBE_KMEANS_KERNEL_AVX2)
        return tribe_fail(TRIBE_ERR_INTERNAL, "kmeans workspace: nsets=%d, k=%d, d=%d, threads=%d, kernel=%d",
                          spec->nsets, spec->k, spec->d, spec->threads, kernel);
    /* An unavailable kernel (CPU or TRIBE_SIMD) gets the automatic choice;
     * tribe_kmeans_ws_kernel tells which. */
    if (kernel != TRIBE_KMEANS_KERNEL_AUTO && !tribe_kmeans_kernel_available(kernel))
        kernel = TRIBE_KMEANS_KERNEL_AUTO;
    if (kernel == TRIBE_KMEANS_KERNEL_AUTO)
        kernel = (int64_t)spec->nsets * spec->k * spec->d > KM_DIRECT_MAX ? TRIBE_KMEANS_KERNEL_GEMM
                 : tribe_kmeans_kernel_available(TRIBE_KMEANS_KERNEL_AVX512) ? TRIBE_KMEANS_KERNEL_AVX512
                 : tribe_kmeans_kernel_available(TRIBE_KMEANS_KERNEL_AVX2)   ? TRIBE_KMEANS_KERNEL_AVX2
                                                                             : TRIBE_KMEANS_KERNEL_GEMM;
    TRIBE_TRY(tribe_calloc((void **)&ws, 1, sizeof *ws));
    ws->d = spec->d;
    ws->threads = spec->threads;
    ws->kernel = kernel;
    TRIBE_TRY(ws_alloc_buffers(ws, spec->nsets, spec->nsets * spec->k));
    *out = ws;
    ws = NULL;
cleanup:
    tribe_kmeans_ws_destroy(&ws);
    return st;
}

tribe_status tribe_kmeans_ws_reserve(tribe_kmeans_ws *ws, int nsets, int k)
{
    int64_t kt = (int64_t)nsets * k;
    if (nsets < 1 || k < 1 || kt > INT32_MAX / 64)
        return tribe_fail(TRIBE_ERR_INTERNAL, "kmeans workspace: reserve nsets=%d, k=%d", nsets, k);
    if (nsets <= ws->nsets && kt <= ws->kt)
        return TRIBE_OK;
    /* At least doubled: a sequence of growing passes reallocates O(log) times. */
    int ns = nsets > ws->nsets ? (nsets > 2 * ws->nsets ? nsets : 2 * ws->nsets) : ws->nsets;
    int64_t kc = kt > ws->kt ? (kt > 2 * (int64_t)ws->kt ? kt : 2 * (int64_t)ws->kt) : ws->kt;
    if (kc > INT32_MAX / 64)
        kc = kt;
    return ws_alloc_buffers(ws, ns, (int)kc);
}

void tribe_kmeans_ws_destroy(tribe_kmeans_ws **ws)
{
    if (!ws || !*ws)
        return;
    ws_free_buffers(*ws);
    free(*ws);
    *ws = NULL;
}

/* Fills the shared tables from p->cent; returns the kernel this pass runs:
 * the workspace's, or the SGEMM when a centre is not finite or too large
 * for the direct kernels' float tables (h could overflow). */
static int pass_tables(tribe_kmeans_ws *ws, const tribe_kmeans_pass_io *p, km_tabs *tabs)
{
    int d = p->d, k = p->k, ns = p->nsets, kt = ns * k, kern = ws->kernel;
    size_t ktd = (size_t)kt * (size_t)d;
    for (int s = 0; s < ns; s++)
        ws->cmax[s] = 0;
    for (int c = 0; c < kt; c++) {
        double s2 = 0;
        for (int j = 0; j < d; j++) {
            double v = p->cent[(size_t)c * d + j];
            ws->cf[(size_t)c * d + j] = (float)v;
            s2 += v * v;
        }
        ws->cn[c] = s2;
        if (sqrt(s2) > ws->cmax[c / k])
            ws->cmax[c / k] = sqrt(s2);
        if (!(s2 < 1e30))
            kern = TRIBE_KMEANS_KERNEL_GEMM;
    }
    if (kern == TRIBE_KMEANS_KERNEL_GEMM)
        return kern;
    /* The AVX2 kernel permutes only for k <= 8. */
    int kp = k <= 8 ? 8 : kern == TRIBE_KMEANS_KERNEL_AVX2 ? 0 : k <= 16 ? 16 : k <= 32 ? 32 : 0;
    for (size_t q = 0; q < ktd; q++)
        ws->wf[q] = (float)(-2.0 * p->cent[q]);
    for (int c = 0; c < kt; c++)
        ws->cnf[c] = (float)ws->cn[c];
    for (int s = 0; s < ns; s++)
        ws->cmf[s] = (float)ws->cmax[s] * (1.0f + 1e-6f); /* rounded up */
    if (kp)
        memset(ws->ct, 0, (size_t)ns * d * kp * sizeof *ws->ct);
    for (int c = 0; kp && c < kt; c++)
        for (int j = 0; j < d; j++)
            ws->ct[((size_t)(c / k) * d + j) * kp + c % k] = p->cent[(size_t)c * d + j];
    *tabs = (km_tabs){.wf = ws->wf, .cnf = ws->cnf, .ct = ws->ct, .cmax = ws->cmf, .kp = kp,
                      .e1 = 1.5f * (float)(d + 2) * 5.9604644775390625e-08f};
    return kern;
}

tribe_status tribe_kmeans_pass(tribe_kmeans_ws *ws, const float *z, int64_t n, tribe_kmeans_pass_io *p)
{
    int d = p->d, ns = p->nsets, kt = p->nsets * p->k;
    size_t ktd = (size_t)kt * (size_t)d;
    if (d != ws->d || ns < 1 || p->k < 1 || ns > ws->nsets || (int64_t)ns * p->k > ws->kt)
        return tribe_fail(TRIBE_ERR_INTERNAL,
                          "kmeans pass: %d sets of %d centres in %d features, the workspace holds %d sets, %d "
                          "centres, %d features",
                          ns, p->k, d, ws->nsets, ws->kt, ws->d);
    km_tabs tabs = {0};
    int kern = pass_tables(ws, p, &tabs);
    int R = kern == TRIBE_KMEANS_KERNEL_GEMM ? km_rows_per_block(kt) : KM_BLOCK;
    /* A mini-batch or a small table runs on one of the granted threads:
     * waking the team costs more than it saves. */
    int small = n < 8192 || (int64_t)n * kt * d < TRIBE_OMP_MIN_WORK;
    int nth = small ? 1 : ws->threads;
    km_thread *th = ws->th;
    for (int t = 0; t < nth; t++) {
        memset(th[t].s64, 0, ktd * sizeof *th[t].s64);
        memset(th[t].sum, 0, ktd * sizeof *th[t].sum);
        memset(th[t].cnt, 0, (size_t)kt * sizeof *th[t].cnt);
        memset(th[t].in, 0, (size_t)ns * sizeof *th[t].in);
        memset(th[t].in64, 0, (size_t)ns * sizeof *th[t].in64);
        memset(th[t].sq, 0, (size_t)kt * sizeof *th[t].sq);
        memset(th[t].sq64, 0, (size_t)kt * sizeof *th[t].sq64);
        th[t].recheck = 0;
    }
    p->mind2_ld = n;
    p->kernel = kern;
    int64_t nblocks = (n + R - 1) / R;
    const double ebound = 3.0 * (d + 2) * 5.9604644775390625e-08; /* 2^-24 */
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        km_thread *w = &th[omp_get_thread_num()];
        /* Dynamic: a thread that loses its core (shared machines) does not
         * hold up the pass. Which thread takes a block changes no result:
         * every row is computed alike and the sums are integers. */
#pragma omp for schedule(dynamic, 8)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t i0 = b * R, rows = n - i0 < R ? n - i0 : R;
#ifdef KM_X86
            if (kern == TRIBE_KMEANS_KERNEL_AVX512) {
                tribe_km_block_avx512(p, w, &tabs, z + i0 * d, i0, rows, n);
            } else if (kern == TRIBE_KMEANS_KERNEL_AVX2) {
                tribe_km_nominate_avx2(p, w, &tabs, z + i0 * d, rows, (n - i0) * d * 4);
                tribe_km_emit(p, w, z + i0 * d, i0, rows);
            } else
#endif
            {
                tribe_km_block_gemm(p, w, z + i0 * d, rows, ws->cn, ws->cmax, ws->cf, ebound);
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
    return TRIBE_OK;
}

/* The naive double loop: the reference every kernel reproduces, and the
 * fallback of tribe_kmeans_assign when its workspace cannot be allocated. */
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

void tribe_kmeans_assign(const float *z, int64_t n, int d, const double *centroids, int k,
                         int32_t *label, float *dist2)
{
    tribe_kmeans_ws *ws = NULL;
    tribe_kmeans_ws_spec spec = {.nsets = 1, .k = k, .d = d, .threads = omp_get_max_threads(),
                                 .kernel = TRIBE_KMEANS_KERNEL_AUTO};
    tribe_kmeans_pass_io p = {.cent = centroids, .nsets = 1, .k = k, .d = d, .label = label, .dist2f = dist2};
    if (n > 0 && (tribe_kmeans_ws_create(&spec, &ws) != TRIBE_OK || tribe_kmeans_pass(ws, z, n, &p) != TRIBE_OK)) {
        tribe_clear_error();
        assign_naive(z, n, d, centroids, k, label, NULL, dist2);
    }
    tribe_kmeans_ws_destroy(&ws);
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
