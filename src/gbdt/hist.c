/* Exact gradient histograms (gbdt_internal.h, docs/gbdt.md "Histograms and
 * determinism").
 *
 * A row record adds its fixed-point gradient g (and hessian h, unless
 * constant) and a count of 1 to one bin per feature. Each OpenMP thread
 * fills private int64 cells; after every `chunk` rows, chunk =
 * floor((2^62 - 1) / gmax), it adds its cells into its own 128-bit
 * accumulators and starts again from zero, so every partial sum of a chunk
 * has magnitude <= chunk * gmax < 2^62 and int64 cannot overflow whatever
 * the target's range. At the end the threads' cells (and accumulators,
 * where a thread flushed) are added bin by bin into 128-bit sums. Integer
 * addition is associative, so the result is the same integers for any
 * thread count, chunk size and row order: those of gbdt_hist_build_ref,
 * one thread summing straight into 128 bits.
 *
 * With squared error a thread keeps two cells a bin, side by side: of each
 * pair of consecutive rows the first adds to cell 0, the second to cell 1.
 * Two neighbouring rows often fall in the same bin (a leaf's rows share the
 * ranges of the features it was split on, and a feature of few levels
 * repeats), and one cell would make the second add wait for the first's
 * store; with two they are independent. Measured: histogram builds 1.6 x
 * faster on 1.6M rows of 16 features (docs/gbdt.md). Four cells were
 * slower again, and so were two of the 4-lane cells that carry a hessian:
 * the cells outgrow the caches. */
#include "gbdt_internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t gbdt_v2 __attribute__((vector_size(16)));
typedef int64_t gbdt_v4 __attribute__((vector_size(32)));

tribe_status gbdt_hist_init(gbdt_hist *hc, int d, const int *hoff, int hconst, int64_t hval, int with_row)
{
    memset(hc, 0, sizeof *hc);
    hc->d = d;
    hc->hb = hoff[d];
    hc->hoff = hoff;
    hc->hconst = hconst;
    hc->hval = hval;
    hc->coff = (hconst ? 8 : 16) + (with_row ? 4 : 0);
    hc->rs = (hc->coff + d + 7) / 8 * 8;
    hc->nthreads = omp_get_max_threads();
    /* 32 bytes a bin (cell_size), 64-byte aligned for the vector adds */
    size_t tb = ((size_t)hc->nthreads * hc->hb * sizeof(gbdt_v4) + 63) / 64 * 64;
    hc->tbuf = aligned_alloc(64, tb);
    if (!hc->tbuf)
        return tribe_fail(TRIBE_ERR_NOMEM, "gbdt: out of memory (%zu bytes of histogram buffers)", tb);
    tribe_status st = tribe_calloc((void **)&hc->th, (size_t)hc->nthreads, sizeof *hc->th);
    if (st != TRIBE_OK)
        return st;
    return tribe_calloc((void **)&hc->tacc, (size_t)hc->nthreads * hc->hb * 3, sizeof(tribe_xsum));
}

void gbdt_hist_free(gbdt_hist *hc)
{
    free(hc->tbuf);
    free(hc->tacc);
    free(hc->th);
    hc->tbuf = NULL;
    hc->tacc = NULL;
    hc->th = NULL;
}

void gbdt_hist_add_ref(const gbdt_hist *hc, const uint8_t *rec, int64_t m, tribe_xsum *out)
{
    int d = hc->d;
    for (int64_t r = 0; r < m; r++) {
        const uint8_t *p = rec + (size_t)r * hc->rs, *cr = p + hc->coff;
        int64_t g = gbdt_rec_g(p), h = hc->hconst ? hc->hval : gbdt_rec_h(p);
        for (int f = 0; f < d; f++) {
            tribe_xsum *e = out + 3 * (hc->hoff[f] + cr[f]);
            e[0] += g;
            e[1] += h;
            e[2] += 1;
        }
    }
}

void gbdt_hist_build_ref(const gbdt_hist *hc, const uint8_t *rec, int64_t m, tribe_xsum *out)
{
    memset(out, 0, (size_t)3 * hc->hb * sizeof *out);
    gbdt_hist_add_ref(hc, rec, m, out);
}

/* Bytes of one bin's cells: two of 2 lanes, or one of 4. */
static size_t cell_size(const gbdt_hist *hc) { return hc->hconst ? 2 * sizeof(gbdt_v2) : sizeof(gbdt_v4); }

void gbdt_hist_zero(const gbdt_hist *hc, int t)
{
    memset((char *)hc->tbuf + (size_t)t * hc->hb * cell_size(hc), 0, (size_t)hc->hb * cell_size(hc));
    int64_t chunk = gbdt_hist_chunk(hc->gmax);
    hc->th[t].chunk = hc->max_chunk > 0 && hc->max_chunk < chunk ? hc->max_chunk : chunk;
    hc->th[t].since = 0;
    hc->th[t].flushed = 0;
}

/* m records into one thread's int64 cells (no flush). Squared error:
 * (gradient, count), the rows of a pair into a bin's cells 0 and 1. */
static void fill_g(const gbdt_hist *hc, const uint8_t *rec, int64_t m, gbdt_v2 *restrict buf)
{
    const int d = hc->d, coff = hc->coff, *hoff = hc->hoff;
    const size_t rs = (size_t)hc->rs;
    int64_t r = 0;
    for (; r + 1 < m; r += 2) {
        const uint8_t *p = rec + (size_t)r * rs, *cp = p + coff, *cq = cp + rs;
        gbdt_v2 a = {gbdt_rec_g(p), 1}, b = {gbdt_rec_g(p + rs), 1};
#pragma GCC unroll 8
        for (int f = 0; f < d; f++) {
            buf[2 * (hoff[f] + cp[f])] += a;
            buf[2 * (hoff[f] + cq[f]) + 1] += b;
        }
    }
    for (; r < m; r++) {
        const uint8_t *p = rec + (size_t)r * rs, *cp = p + coff;
        gbdt_v2 a = {gbdt_rec_g(p), 1};
        for (int f = 0; f < d; f++)
            buf[2 * (hoff[f] + cp[f])] += a;
    }
}

/* With the hessian: (gradient, hessian, count, unused), one cell a bin. */
static void fill_gh(const gbdt_hist *hc, const uint8_t *rec, int64_t m, gbdt_v4 *restrict buf)
{
    const int d = hc->d, coff = hc->coff, *hoff = hc->hoff;
    const size_t rs = (size_t)hc->rs;
    for (int64_t r = 0; r < m; r++) {
        const uint8_t *p = rec + (size_t)r * rs, *cp = p + coff;
        gbdt_v4 a = {gbdt_rec_g(p), gbdt_rec_h(p), 1, 0};
#pragma GCC unroll 8
        for (int f = 0; f < d; f++)
            buf[hoff[f] + cp[f]] += a;
    }
}

static void hist_fill(const gbdt_hist *hc, const uint8_t *rec, int64_t m, void *cells)
{
    if (hc->hconst)
        fill_g(hc, rec, m, cells);
    else
        fill_gh(hc, rec, m, cells);
}

/* Thread t's cells added into its 128-bit accumulators (gradient, hessian,
 * count; the hessian lane unused when constant), then zeroed. */
static void hist_flush(const gbdt_hist *hc, int t)
{
    int hb = hc->hb, first = !hc->th[t].flushed;
    void *cells = (char *)hc->tbuf + (size_t)t * hb * cell_size(hc);
    tribe_xsum *acc = hc->tacc + (size_t)t * hb * 3;
    if (first)
        memset(acc, 0, (size_t)hb * 3 * sizeof *acc);
    /* a cell's lanes are below 2^62 in magnitude: a pair's sum fits int64 */
    if (hc->hconst) {
        const gbdt_v2 *c = cells;
        for (int k = 0; k < hb; k++) {
            gbdt_v2 v = c[2 * k] + c[2 * k + 1];
            acc[3 * (size_t)k] += v[0];
            acc[3 * (size_t)k + 2] += v[1];
        }
    } else {
        const gbdt_v4 *c = cells;
        for (int k = 0; k < hb; k++) {
            acc[3 * (size_t)k] += c[k][0];
            acc[3 * (size_t)k + 1] += c[k][1];
            acc[3 * (size_t)k + 2] += c[k][2];
        }
    }
    memset(cells, 0, (size_t)hb * cell_size(hc));
    hc->th[t].flushed = 1;
    hc->th[t].since = 0;
}

void gbdt_hist_add(const gbdt_hist *hc, int t, const uint8_t *rec, int64_t m)
{
    gbdt_hist_thread *s = &hc->th[t];
    void *cells = (char *)hc->tbuf + (size_t)t * hc->hb * cell_size(hc);
    while (m > 0) {
        int64_t k = s->chunk - s->since < m ? s->chunk - s->since : m;
        hist_fill(hc, rec, k, cells);
        rec += (size_t)k * hc->rs;
        m -= k;
        s->since += k;
        if (s->since == s->chunk)
            hist_flush(hc, t);
    }
}

void gbdt_hist_reduce(const gbdt_hist *hc, int nth, int k0, int k1, tribe_xsum *out)
{
    size_t hb = (size_t)hc->hb;
    for (int k = k0; k < k1; k++) {
        tribe_xsum sg = 0, sh = 0, sn = 0;
        for (int u = 0; u < nth; u++) {
            if (hc->th[u].flushed) {
                const tribe_xsum *a = hc->tacc + (u * hb + k) * 3;
                sg += a[0];
                sh += a[1];
                sn += a[2];
            }
            if (hc->hconst) {
                const gbdt_v2 *c = (const gbdt_v2 *)hc->tbuf + 2 * (u * hb + k);
                gbdt_v2 v = c[0] + c[1];
                sg += v[0];
                sn += v[1];
            } else {
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

void gbdt_hist_build_ranges(const gbdt_hist *hc, const uint8_t *rec, int nr, const int64_t *rg, tribe_xsum *out)
{
    int64_t m = 0;
    for (int u = 0; u < nr; u++)
        m += rg[2 * u + 1] - rg[2 * u];
    if (hc->ref) {
        memset(out, 0, (size_t)3 * hc->hb * sizeof *out);
        for (int u = 0; u < nr; u++)
            gbdt_hist_add_ref(hc, rec + (size_t)rg[2 * u] * hc->rs, rg[2 * u + 1] - rg[2 * u], out);
        return;
    }
    int nt = m * hc->d >= TRIBE_OMP_MIN_WORK ? hc->nthreads : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        gbdt_hist_zero(hc, t);
        /* each range split into nth static blocks, block t to thread t */
        for (int u = 0; u < nr; u++) {
            int64_t lo = rg[2 * u], n = rg[2 * u + 1] - lo;
            int64_t a = lo + n * t / nth, b = lo + n * (t + 1) / nth;
            gbdt_hist_add(hc, t, rec + (size_t)a * hc->rs, b - a);
        }
#pragma omp barrier
        /* static bins per thread, as omp for schedule(static) would */
        gbdt_hist_reduce(hc, nth, (int)((int64_t)hc->hb * t / nth), (int)((int64_t)hc->hb * (t + 1) / nth), out);
    }
}

