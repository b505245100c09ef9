/* Exact grouped statistics (tribe/xstats.h). Every reduction that feeds a
 * result is over integers (counts, histograms, fixed-point sums) or is a
 * max/min, so the answers do not depend on how rows are split.
 *
 * The work is done in few passes over the rows, each reading every column
 * (a block of XS_BLOCK rows one column at a time: the block stays in L1, a
 * column's counters stay hot; a pass per column would read the row-major
 * matrix ncol times). The rows are cut into nth blocks, each with its own
 * counters, summed afterwards (integers: the order cannot matter):
 *   A. screen: a histogram of each column's raw sign-and-exponent bits,
 *      which finds infinities and gives the exact sums' scale and the
 *      binade histogram the fine buckets are cut from;
 *   B. counts, exact sums and the selection's fine histograms;
 *   then the selection's refining passes (xselect.c).
 * The whole base (with_total) is never accumulated on its own: it is the
 * sum of the groups' integers, plus a slot for rows of no group. */
#include "xstats_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

double tribe_xsum_scale(double maxabs, int64_t n)
{
    if (!(maxabs > 0) || n <= 0)
        return 1.0;
    int em = 0, en = 0;
    (void)frexp(maxabs, &em);    /* maxabs < 2^em */
    (void)frexp((double)n, &en); /* n < 2^en */
    /* n * maxabs * 2^e < 2^(en + em + e) = 2^92, two bits below the range
     * core.h promises, so a rounded term or two cannot tip it over. */
    int e = 92 - en - em;
    if (e > 1000)
        e = 1000;
    if (e < -1000)
        e = -1000;
    return ldexp(1.0, e);
}

/* Fine buckets over all (group slot, column) pairs, about: they are summed
 * over ranks, so they stay near half a megabyte. */
#define XS_FINE_TOTAL (1 << 16)

/* The screen's histogram of raw float bits: bins 0..511 are the top 9 bits
 * (sign and exponent) of nonzero numbers, then NaN and zero (either sign). */
#define XS_RAW_NAN 512
#define XS_RAW_ZERO 513
#define XS_RAW_BINS 514

/* Workspace of one call. */
typedef struct {
    int64_t *raw;       /* [nth][ncol][XS_RAW_BINS] pass A */
    int64_t *bh;        /* [ncol][XS_BINADES] the keys' binade histograms (for fine buckets) */
    double *scale;      /* [ncol] the exact sums' scale */
    int64_t *cnt;       /* [nth][G+1][ncol] */
    tribe_xacc *xs;     /* [nth][G+1][ncol] */
    tribe_xsum *sum;    /* [G+1][ncol] the exact sums over blocks and ranks */
    int64_t *ccnt;      /* [G + with_total][ncol] the cells' counts */
    int f;              /* fine buckets a column, about */
    xs_fine_hist fh;
} xs_work;

static void work_free(xs_work *w)
{
    free(w->raw);
    free(w->bh);
    free(w->scale);
    free(w->cnt);
    free(w->xs);
    free(w->sum);
    free(w->ccnt);
    free(w->fh.cm);
    free(w->fh.fb);
    free(w->fh.fcnt);
}

/* What does not depend on the data. */
static tribe_status work_alloc(xs_work *w, const xs_shape *s, int do_sum, int do_sel)
{
    tribe_status st = TRIBE_OK;
    size_t ncol = (size_t)s->ncol, slots = (size_t)(s->G + 1) * ncol, nth = (size_t)s->nth;
    w->f = 4096;
    while (w->f > 64 && slots * (size_t)w->f > XS_FINE_TOTAL)
        w->f /= 2;
    TRIBE_TRY(tribe_calloc((void **)&w->raw, nth * ncol * XS_RAW_BINS, sizeof *w->raw));
    TRIBE_TRY(tribe_calloc((void **)&w->scale, ncol, sizeof *w->scale));
    TRIBE_TRY(tribe_calloc((void **)&w->cnt, nth * slots, sizeof *w->cnt));
    if (do_sum) {
        TRIBE_TRY(tribe_calloc((void **)&w->xs, nth * slots, sizeof *w->xs));
        TRIBE_TRY(tribe_calloc((void **)&w->sum, slots, sizeof *w->sum));
    }
    if (do_sel) {
        TRIBE_TRY(tribe_calloc((void **)&w->bh, ncol * XS_BINADES, sizeof *w->bh));
        TRIBE_TRY(tribe_calloc((void **)&w->fh.cm, ncol, sizeof *w->fh.cm));
        TRIBE_TRY(tribe_calloc((void **)&w->ccnt, (size_t)(s->G + s->with_total) * ncol, sizeof *w->ccnt));
    }
cleanup:
    return st;
}

/* ---- pass A: screen ------------------------------------------------------ */

/* raw[c][bin] += the values of column c over rows [i0, i1), a block of
 * rows one column at a time (the column's bins stay in L1). */
static void screen_rows(const xs_shape *s, int64_t i0, int64_t i1, int64_t *restrict raw)
{
    int ncol = s->ncol, ldx = s->ldx;
    for (int64_t b0 = i0; b0 < i1; b0 += XS_BLOCK) {
        int64_t b1 = i1 - b0 < XS_BLOCK ? i1 : b0 + XS_BLOCK;
        for (int c = 0; c < ncol; c++) {
            const float *restrict xc = s->x + c;
            int64_t *restrict h = raw + (size_t)c * XS_RAW_BINS;
            for (int64_t i = b0; i < b1; i++) {
                uint32_t u;
                memcpy(&u, xc + i * ldx, sizeof u);
                uint32_t a = u & 0x7fffffffu, b = u >> 23;
                b = a == 0 ? XS_RAW_ZERO : b;
                b = a > 0x7f800000u ? XS_RAW_NAN : b;
                h[b]++;
            }
        }
    }
}

/* The largest |x| of column c on this rank (the rare exact look when the
 * largest binade is the subnormal one). */
static double local_maxabs(const xs_shape *s, int c)
{
    double m = 0;
    for (int64_t i = 0; i < s->n; i++) {
        double v = fabs((double)s->x[i * s->ldx + c]);
        m = v > m ? v : m; /* NaN compares false */
    }
    return m;
}

/* The sums' scale from the column's reduced raw histogram: tribe_xsum_scale
 * reads only the binary exponent of max |x|, which a normal binade fixes. */
static tribe_status sum_scales(tribe_par *par, const xs_shape *s, const int64_t *raw, int64_t ntot, double *scale)
{
    tribe_status st = TRIBE_OK;
    for (int c = 0; c < s->ncol; c++) {
        const int64_t *h = raw + (size_t)c * XS_RAW_BINS;
        int e = -1;
        for (int b = 0; b < 512; b++)
            if (h[b] > 0 && (b & 255) > e)
                e = b & 255;
        if (e > 0) {
            scale[c] = tribe_xsum_scale(ldexp(1.0, e - 127), ntot); /* max |x| in [2^(e-127), 2^(e-126)) */
        } else if (e == 0) { /* subnormal: every rank looks (the ranks see the same histogram) */
            double m = local_maxabs(s, c);
            TRIBE_TRY(tribe_par_max_f64(par, &m, 1));
            scale[c] = tribe_xsum_scale(m, ntot);
        } else {
            scale[c] = tribe_xsum_scale(0, ntot);
        }
    }
cleanup:
    return st;
}

/* The screen: every column's raw histogram over all ranks, which gives the
 * sums' scale and the keys' binade histogram; an infinity fails naming the
 * first one in row order, and the ranks agree on it (with st, a failure
 * before). Collective. */
static tribe_status screen(tribe_par *par, const xs_shape *s, xs_work *w, int do_sum, tribe_status st)
{
    int ncol = s->ncol, nth = s->nth;
    size_t nr = (size_t)ncol * XS_RAW_BINS;
    if (st == TRIBE_OK) {
#pragma omp parallel num_threads(nth)
        for (int t = omp_get_thread_num(); t < nth; t += omp_get_num_threads()) {
            int64_t lo, hi;
            tribe_par_block(s->n, nth, t, &lo, &hi);
            memset(w->raw + t * nr, 0, nr * sizeof *w->raw);
            screen_rows(s, lo, hi, w->raw + t * nr);
        }
        for (int t = 1; t < nth; t++)
            for (size_t j = 0; j < nr; j++)
                w->raw[j] += w->raw[t * nr + j];
        int inf = 0;
        for (int c = 0; c < ncol; c++) /* bins 255 and 511: exponent 255, not NaN */
            inf |= w->raw[(size_t)c * XS_RAW_BINS + 255] + w->raw[(size_t)c * XS_RAW_BINS + 511] > 0;
        for (int64_t i = 0; inf && i < s->n; i++)
            for (int c = 0; c < ncol; c++)
                if (isinf(s->x[i * s->ldx + c])) {
                    st = tribe_fail(TRIBE_ERR_INPUT, "rank %d, local row %lld, column %d: value is infinite",
                                    tribe_par_rank(par), (long long)i, c);
                    inf = 0;
                    break;
                }
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    if (!do_sum && !w->bh)
        goto cleanup;
    TRIBE_TRY(tribe_par_sum_i64(par, w->raw, (int64_t)nr));
    if (do_sum) {
        int64_t ntot = s->n;
        TRIBE_TRY(tribe_par_sum_i64(par, &ntot, 1));
        TRIBE_TRY(sum_scales(par, s, w->raw, ntot, w->scale));
    }
    for (int c = 0; w->bh && c < ncol; c++) {
        /* key binade of raw bin b: 256 + b for positives, 511 - b for
         * negatives; zero's key is 0x80000000 */
        const int64_t *h = w->raw + (size_t)c * XS_RAW_BINS;
        int64_t *k = w->bh + (size_t)c * XS_BINADES;
        for (int b = 0; b < 256; b++) {
            k[256 + b] = h[b];
            k[255 - b] = h[256 + b];
        }
        k[256] += h[XS_RAW_ZERO];
    }
cleanup:
    return st;
}

/* ---- pass B: counts, sums, fine histograms ---------------------------------- */

/* Block t's counters: cnt[G+1][ncol] (without fine histograms: with them
 * the counts are the buckets'), xs[G+1][ncol], fb[G+1][nbt]. */
typedef struct {
    int64_t *cnt;
    tribe_xacc *xs;
    xs_fbin *fb;
} xs_acc;

/* The group slots of rows [b0, b1) (-1: skipped). */
static void block_slots(const xs_shape *s, int64_t b0, int64_t b1, int *slot)
{
    for (int64_t i = b0; i < b1; i++)
        slot[i - b0] = xs_row_slot(s, i);
}

/* Rows [i0, i1) into a, a block of rows one column at a time. The flags are
 * constants at each call, so the compiler drops what a call does not ask
 * for. */
static inline __attribute__((always_inline)) void count_rows(const xs_shape *s, const xs_work *w, int64_t i0,
                                                                int64_t i1, const xs_acc *a, int do_sum, int do_sel)
{
    int ncol = s->ncol, nbt = w->fh.nbt, ldx = s->ldx, slot[XS_BLOCK];
    for (int64_t b0 = i0; b0 < i1; b0 += XS_BLOCK) {
        int64_t b1 = i1 - b0 < XS_BLOCK ? i1 : b0 + XS_BLOCK;
        block_slots(s, b0, b1, slot);
        for (int c = 0; c < ncol; c++) {
            const float *restrict xc = s->x + c;
            const xs_colmap *restrict cm = do_sel ? &w->fh.cm[c] : NULL;
            double sc = do_sum ? w->scale[c] : 0;
            for (int64_t i = b0; i < b1; i++) {
                int g = slot[i - b0];
                float v = xc[i * ldx];
                if (g < 0 || isnan(v))
                    continue;
                if (!do_sel)
                    a->cnt[(size_t)g * ncol + c]++;
                if (do_sum)
                    tribe_xacc_add(&a->xs[(size_t)g * ncol + c], (double)v * sc);
                if (do_sel) {
                    uint32_t k = xs_key(v);
                    xs_fbin *f = a->fb + (size_t)g * nbt + xs_fine(cm, k);
                    f->n++;
                    f->lo = k < f->lo ? k : f->lo;
                    f->hi = k > f->hi ? k : f->hi;
                }
            }
        }
    }
}

static void count_pass(const xs_shape *s, const xs_work *w, int64_t i0, int64_t i1, const xs_acc *a)
{
    if (a->xs && a->fb)
        count_rows(s, w, i0, i1, a, 1, 1);
    else if (a->xs)
        count_rows(s, w, i0, i1, a, 1, 0);
    else if (a->fb)
        count_rows(s, w, i0, i1, a, 0, 1);
    else
        count_rows(s, w, i0, i1, a, 0, 0);
}

/* A block's counts from its fine histograms: a column's buckets sum to it. */
static void counts_of_fine(const xs_shape *s, const xs_fine_hist *fh, const xs_fbin *fb, int64_t *cnt)
{
    for (int g = 0; g <= s->G; g++)
        for (int c = 0; c < s->ncol; c++) {
            const xs_fbin *b = fb + (size_t)g * fh->nbt + fh->cm[c].off;
            int64_t v = 0;
            for (int j = 0; j < fh->cm[c].nb; j++)
                v += b[j].n;
            cnt[(size_t)g * s->ncol + c] = v;
        }
}

/* Pass B on the blocks, counters summed over blocks and ranks (the blocks'
 * fine histograms are kept: the selection sizes its candidate lists with
 * them). Collective. */
static tribe_status run_count(tribe_par *par, const xs_shape *s, xs_work *w)
{
    tribe_status st = TRIBE_OK;
    int nth = s->nth;
    size_t slots = (size_t)(s->G + 1) * (size_t)s->ncol, nf = w->fh.fb ? (size_t)(s->G + 1) * w->fh.nbt : 0;
#pragma omp parallel num_threads(nth)
    for (int t = omp_get_thread_num(); t < nth; t += omp_get_num_threads()) {
        int64_t lo, hi;
        tribe_par_block(s->n, nth, t, &lo, &hi);
        xs_acc a = {w->cnt + t * slots, w->xs ? w->xs + t * slots : NULL, w->fh.fb ? w->fh.fb + t * nf : NULL};
        memset(a.cnt, 0, slots * sizeof *a.cnt);
        if (a.xs)
            memset(a.xs, 0, slots * sizeof *a.xs);
        for (size_t j = 0; j < nf; j++)
            a.fb[j] = (xs_fbin){0, ~0u, 0};
        count_pass(s, w, lo, hi, &a);
        if (a.fb)
            counts_of_fine(s, &w->fh, a.fb, a.cnt);
    }
    for (int t = 1; t < nth; t++)
        for (size_t j = 0; j < slots; j++) {
            w->cnt[j] += w->cnt[t * slots + j];
            if (w->xs) {
                w->xs[j].hi += w->xs[t * slots + j].hi;
                w->xs[j].lo += w->xs[t * slots + j].lo;
            }
        }
    for (size_t j = 0; j < nf; j++) {
        int64_t v = 0;
        for (int t = 0; t < nth; t++)
            v += w->fh.fb[t * nf + j].n;
        w->fh.fcnt[j] = v;
    }
    TRIBE_TRY(tribe_par_sum_i64(par, w->cnt, (int64_t)slots));
    if (w->xs) {
        for (size_t j = 0; j < slots; j++)
            w->sum[j] = tribe_xacc_value(w->xs[j]);
        TRIBE_TRY(tribe_par_sum_xsum(par, w->sum, (int64_t)slots));
    }
    if (nf)
        TRIBE_TRY(tribe_par_sum_i64(par, w->fh.fcnt, (int64_t)nf));
cleanup:
    return st;
}

/* ---- the driver ----------------------------------------------------------- */

/* numpy's _lerp: a + (b-a)t, or b - (b-a)(1-t) from t = 0.5 on, so the
 * result matches np.quantile(method='linear') bit for bit on the same doubles. */
static double lerp(double a, double b, double t)
{
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* Cell q's count and exact sum: its group slot's, or for the whole base
 * the sum of every slot's. */
static int64_t cell_total(const xs_shape *s, const xs_work *w, size_t q, tribe_xsum *sum)
{
    int ncol = s->ncol;
    int64_t m = 0;
    tribe_xsum x = 0;
    int g0 = q < (size_t)s->G * ncol ? (int)(q / (size_t)ncol) : 0, g1 = q < (size_t)s->G * ncol ? g0 : s->G;
    for (int g = g0; g <= g1; g++) {
        m += w->cnt[(size_t)g * ncol + q % (size_t)ncol];
        x += w->sum ? w->sum[(size_t)g * ncol + q % (size_t)ncol] : 0;
    }
    *sum = x;
    return m;
}

/* The outputs from the reduced counters and the selected values. */
static void finish(const xs_shape *s, const xs_work *w, const xs_plan *pl, const tribe_xstats_out *o)
{
    int ncol = s->ncol, GT = s->G + s->with_total;
    size_t cells = (size_t)GT * (size_t)ncol;
    for (size_t q = 0; q < cells; q++) {
        tribe_xsum x;
        int64_t m = cell_total(s, w, q, &x);
        double sm = w->sum ? tribe_xsum_value(x) / w->scale[q % (size_t)ncol] : 0;
        if (o->count)
            o->count[q] = m;
        if (o->sum)
            o->sum[q] = sm;
        if (o->mean)
            o->mean[q] = m > 0 ? sm / (double)m : NAN;
        if (o->median) {
            double lo = m ? (double)xs_plan_value(pl, (int)q, 0, 0) : 0;
            double hi = m ? (double)xs_plan_value(pl, (int)q, 0, 1) : 0;
            o->median[q] = m == 0 ? NAN : lo == hi ? lo : 0.5 * (lo + hi);
        }
        for (int p = 0; p < o->nprob; p++) {
            double *out = &o->quantile[(size_t)p * cells + q];
            int j = p + (o->median ? 1 : 0);
            if (m == 0) {
                *out = NAN;
                continue;
            }
            double a = (double)xs_plan_value(pl, (int)q, j, 0), b = (double)xs_plan_value(pl, (int)q, j, 1);
            double vi = (double)(m - 1) * o->prob[p];
            *out = a == b ? a : lerp(a, b, vi - floor(vi));
        }
    }
}

tribe_status tribe_xstats_describe(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                   const int32_t *group, int G, int with_total, const tribe_xstats_out *o)
{
    tribe_status st = TRIBE_OK;
    xs_shape s = {x, n, ldx, ncol, group, G, with_total ? 1 : 0, 1};
    xs_work w = {0};
    xs_plan pl = {0};
    double *prob = NULL;
    int do_sum = o->sum || o->mean, nq = o->nprob + (o->median ? 1 : 0);
    if (o->nprob < 0)
        return tribe_fail(TRIBE_ERR_USAGE, "quantiles: %d probabilities", o->nprob);
    for (int p = 0; p < o->nprob; p++)
        if (!(o->prob[p] >= 0 && o->prob[p] <= 1))
            return tribe_fail(TRIBE_ERR_USAGE, "quantiles: probability %d is %g, outside [0, 1]", p, o->prob[p]);
    if (ncol < 1)
        return TRIBE_OK; /* nothing to describe (every rank knows) */
    if (n * ncol >= TRIBE_OMP_MIN_WORK)
        s.nth = omp_get_max_threads() < XS_MAX_THREADS ? omp_get_max_threads() : XS_MAX_THREADS;
    size_t ncell = (size_t)(G + s.with_total) * (size_t)ncol;
    st = work_alloc(&w, &s, do_sum, nq > 0);
    if (st == TRIBE_OK && nq > 0)
        st = tribe_calloc((void **)&prob, (size_t)nq, sizeof *prob);
    if (st == TRIBE_OK && nq > 0) {
        if (o->median)
            prob[0] = 0.5;
        for (int p = 0; p < o->nprob; p++)
            prob[p + (o->median ? 1 : 0)] = o->prob[p];
        /* a column's buckets: at most f, plus one a binade */
        st = xs_plan_alloc(&pl, (int)ncell, nq, prob, s.nth, (int64_t)ncol * (w.f + XS_BINADES));
    }
    tribe_progress_begin("statistics", "passes over the rows", 0); /* the selection's passes: as many as it needs */
    TRIBE_TRY(screen(par, &s, &w, do_sum, st));
    tribe_progress_step(1);
    if (nq > 0) {
        xs_fine_maps(w.bh, ncol, w.f, &w.fh);
        size_t nf = (size_t)(G + 1) * (size_t)w.fh.nbt;
        st = tribe_calloc((void **)&w.fh.fb, (size_t)s.nth * nf, sizeof *w.fh.fb);
        if (st == TRIBE_OK)
            st = tribe_calloc((void **)&w.fh.fcnt, nf, sizeof *w.fh.fcnt);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    TRIBE_TRY(run_count(par, &s, &w));
    tribe_progress_step(2);
    if (nq > 0) {
        for (size_t q = 0; q < ncell; q++) {
            tribe_xsum unused;
            w.ccnt[q] = cell_total(&s, &w, q, &unused);
        }
        TRIBE_TRY(xs_select(par, &s, &w.fh, w.ccnt, &pl));
    }
    finish(&s, &w, &pl, o);
    tribe_progress_end();
cleanup:
    work_free(&w);
    xs_plan_free(&pl);
    free(prob);
    return st;
}

tribe_status tribe_xstats_means(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                const int32_t *group, int G, int with_total, int64_t *count,
                                double *sum, double *mean)
{
    tribe_xstats_out o = {.count = count, .sum = sum, .mean = mean};
    return tribe_xstats_describe(par, x, n, ldx, ncol, group, G, with_total, &o);
}

tribe_status tribe_xstats_medians(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                  const int32_t *group, int G, int with_total, double *median)
{
    tribe_xstats_out o = {.median = median};
    return tribe_xstats_describe(par, x, n, ldx, ncol, group, G, with_total, &o);
}

tribe_status tribe_xstats_quantiles(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                    const int32_t *group, int G, int with_total, int nprob,
                                    const double *prob, double *quantile)
{
    if (nprob < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "quantiles: %d probabilities", nprob);
    tribe_xstats_out o = {.nprob = nprob, .prob = prob, .quantile = quantile};
    return tribe_xstats_describe(par, x, n, ldx, ncol, group, G, with_total, &o);
}
