/* Exact gradient histograms (gbdt_internal.h, docs/gbdt.md "Histograms and
 * determinism").
 *
 * A row adds its fixed-point gradient g (and hessian h, unless constant) and
 * a count of 1 to one bin per feature. OpenMP threads fill private int64
 * cells over static blocks of the rows, in chunks of at most `chunk` rows,
 * chunk = floor((2^62 - 1) / gmax): every partial sum of a chunk then has
 * magnitude <= chunk * gmax < 2^62, so int64 cannot overflow whatever the
 * target's range. A thread whose block holds more than one chunk adds its
 * cells into its own 128-bit accumulators after each chunk; at the end the
 * threads' cells (or accumulators) are added bin by bin into 128-bit sums.
 * Integer addition is associative, so the result is the same integers for
 * any thread count, chunk size and row order: those of gbdt_hist_build_ref,
 * one thread summing straight into 128 bits. */
#include "gbdt_internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t gbdt_v2 __attribute__((vector_size(16)));
typedef int64_t gbdt_v4 __attribute__((vector_size(32)));

tribe_status gbdt_hist_init(gbdt_hist *hc, int d, const int *hoff, int hconst, int64_t hval)
{
    memset(hc, 0, sizeof *hc);
    hc->d = d;
    hc->hb = hoff[d];
    hc->hoff = hoff;
    hc->hconst = hconst;
    hc->hval = hval;
    hc->nthreads = omp_get_max_threads();
    /* cells of up to 4 int64, 64-byte aligned for the vector adds */
    size_t tb = ((size_t)hc->nthreads * hc->hb * sizeof(gbdt_v4) + 63) / 64 * 64;
    hc->tbuf = aligned_alloc(64, tb);
    if (!hc->tbuf)
        return tribe_fail(TRIBE_ERR_NOMEM, "gbdt: out of memory (%zu bytes of histogram buffers)", tb);
    return tribe_calloc((void **)&hc->tacc, (size_t)hc->nthreads * hc->hb * 3, sizeof(tribe_xsum));
}

void gbdt_hist_free(gbdt_hist *hc)
{
    free(hc->tbuf);
    free(hc->tacc);
    hc->tbuf = NULL;
    hc->tacc = NULL;
}

void gbdt_hist_build_ref(const gbdt_hist *hc, const uint8_t *codes, const int64_t *g, const int64_t *h, int64_t m,
                         tribe_xsum *out)
{
    int d = hc->d;
    memset(out, 0, (size_t)3 * hc->hb * sizeof *out);
    for (int64_t r = 0; r < m; r++) {
        const uint8_t *cr = codes + r * d;
        for (int f = 0; f < d; f++) {
            tribe_xsum *e = out + 3 * (hc->hoff[f] + cr[f]);
            e[0] += g[r];
            e[1] += hc->hconst ? hc->hval : h[r];
            e[2] += 1;
        }
    }
}

/* Rows [lo, hi) into one thread's int64 cells (zeroed first). */
static void hist_fill(const gbdt_hist *hc, const uint8_t *codes, const int64_t *g, const int64_t *h, int64_t lo,
                      int64_t hi, void *cells)
{
    int d = hc->d, hb = hc->hb;
    const int *hoff = hc->hoff;
    if (hc->hconst) {
        gbdt_v2 *buf = cells;
        memset(buf, 0, (size_t)hb * sizeof *buf);
        for (int64_t r = lo; r < hi; r++) {
            const uint8_t *cr = codes + r * d;
            gbdt_v2 add = {g[r], 1};
            for (int f = 0; f < d; f++)
                buf[hoff[f] + cr[f]] += add;
        }
    } else {
        gbdt_v4 *buf = cells;
        memset(buf, 0, (size_t)hb * sizeof *buf);
        for (int64_t r = lo; r < hi; r++) {
            const uint8_t *cr = codes + r * d;
            gbdt_v4 add = {g[r], h[r], 1, 0};
            for (int f = 0; f < d; f++)
                buf[hoff[f] + cr[f]] += add;
        }
    }
}

/* One thread's cells added into its 128-bit accumulators acc[hb][3]
 * (gradient, hessian, count; the hessian lane unused when constant). */
static void hist_flush(const gbdt_hist *hc, const void *cells, tribe_xsum *acc)
{
    int hb = hc->hb;
    if (hc->hconst) {
        const gbdt_v2 *c = cells;
        for (int k = 0; k < hb; k++) {
            acc[3 * (size_t)k] += c[k][0];
            acc[3 * (size_t)k + 2] += c[k][1];
        }
    } else {
        const gbdt_v4 *c = cells;
        for (int k = 0; k < hb; k++) {
            acc[3 * (size_t)k] += c[k][0];
            acc[3 * (size_t)k + 1] += c[k][1];
            acc[3 * (size_t)k + 2] += c[k][2];
        }
    }
}

/* Bins [k0, k1) of out: the sums over nth threads of their cells (when
 * every block was one chunk) or of their accumulators, in thread order. */
static void hist_reduce(const gbdt_hist *hc, int nth, int chunked, int k0, int k1, tribe_xsum *out)
{
    size_t hb = (size_t)hc->hb;
    for (int k = k0; k < k1; k++) {
        tribe_xsum sg = 0, sh = 0, sn = 0;
        if (chunked) {
            for (int u = 0; u < nth; u++) {
                const tribe_xsum *a = hc->tacc + (u * hb + k) * 3;
                sg += a[0];
                sh += a[1];
                sn += a[2];
            }
        } else if (hc->hconst) {
            for (int u = 0; u < nth; u++) {
                const gbdt_v2 *c = (const gbdt_v2 *)hc->tbuf + u * hb + k;
                sg += (*c)[0];
                sn += (*c)[1];
            }
        } else {
            for (int u = 0; u < nth; u++) {
                const gbdt_v4 *c = (const gbdt_v4 *)hc->tbuf + u * hb + k;
                sg += (*c)[0];
                sh += (*c)[1];
                sn += (*c)[2];
            }
        }
        out[3 * (size_t)k] = sg;
        out[3 * (size_t)k + 1] = hc->hconst ? sn * hc->hval : sh;
        out[3 * (size_t)k + 2] = sn;
    }
}

int64_t gbdt_hist_chunk(uint64_t gmax)
{
    uint64_t lim = ((uint64_t)1 << 62) - 1;
    return (int64_t)(lim / (gmax > 0 ? gmax : 1));
}

void gbdt_hist_build(const gbdt_hist *hc, const uint8_t *codes, const int64_t *g, const int64_t *h, int64_t m,
                     tribe_xsum *out)
{
    if (hc->ref) {
        gbdt_hist_build_ref(hc, codes, g, h, m, out);
        return;
    }
    int hb = hc->hb;
    int64_t chunk = gbdt_hist_chunk(hc->gmax);
    chunk = hc->max_chunk > 0 && hc->max_chunk < chunk ? hc->max_chunk : chunk;
    int nt = m * hc->d >= TRIBE_OMP_MIN_WORK ? hc->nthreads : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t rlo = m * t / nth, rhi = m * (t + 1) / nth;
        /* the largest block, (m + nth - 1) / nth rows, decides for all threads */
        int chunked = (m + nth - 1) / nth > chunk;
        void *cells = (char *)hc->tbuf + (size_t)t * hb * (hc->hconst ? sizeof(gbdt_v2) : sizeof(gbdt_v4));
        if (!chunked) {
            hist_fill(hc, codes, g, h, rlo, rhi, cells);
        } else {
            tribe_xsum *acc = hc->tacc + (size_t)t * hb * 3;
            memset(acc, 0, (size_t)hb * 3 * sizeof *acc);
            for (int64_t c0 = rlo; c0 < rhi; c0 += chunk) {
                hist_fill(hc, codes, g, h, c0, rhi - c0 > chunk ? c0 + chunk : rhi, cells);
                hist_flush(hc, cells, acc);
            }
        }
#pragma omp barrier
        /* static bins per thread, as omp for schedule(static) would */
        hist_reduce(hc, nth, chunked, (int)((int64_t)hb * t / nth), (int)((int64_t)hb * (t + 1) / nth), out);
    }
}
