/* Kruskal-Wallis across segments and pairwise Cliff's deltas from exact
 * global mid-ranks (tribe/kruskal.h, docs/clustering.md "Are the segments
 * different?"). */
#include "tribe/kruskal.h"

#include <float.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tribe/xstats.h"

#define KW_MAX_K (1 << 24)
/* Sample keys each rank contributes to the choice of value ranges. */
#define KW_SAMPLES 64
/* Fewer values than this are sorted and summed on one thread. */
#define KW_PAR_MIN 32768
#define KW_MAX_THREADS 64

/* ---- kernels ----------------------------------------------------------------------------- */

/* LSD radix sort of key[0..m) on its low `bits` bits, 11 at a time (the
 * counts of a 2,048-bucket digit stay in L1), with tmp[m] as scratch, on nth
 * threads: each counts its block's digits (hist[t][2048]), the offsets run
 * bucket by bucket over the threads in order, and each scatters its block,
 * so the sort is stable and its result the same for any nth. A digit every
 * key shares is skipped (the segment bits above a small k, a feature's
 * shared exponent bits). */
#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)
static void radix_sort(uint64_t *key, uint64_t *tmp, int64_t m, int bits, int nth, int64_t *hist)
{
    const uint64_t mask = RADIX_SIZE - 1;
    int passes = (bits + RADIX_BITS - 1) / RADIX_BITS, skip = 0;
    uint64_t *src = key, *dst = tmp;
    if (m < KW_PAR_MIN)
        nth = 1;
#pragma omp parallel num_threads(nth) if (nth > 1) firstprivate(src, dst)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t lo = m * t / nt, hi = m * (t + 1) / nt, *h = hist + (size_t)t * RADIX_SIZE;
        for (int p = 0; p < passes; p++) {
            int shift = p * RADIX_BITS;
            memset(h, 0, RADIX_SIZE * sizeof *h);
            for (int64_t i = lo; i < hi; i++)
                h[(src[i] >> shift) & mask]++;
#pragma omp barrier
#pragma omp single
            {
                int64_t at = 0;
                skip = 0;
                for (int d = 0; d < RADIX_SIZE; d++) {
                    int64_t tot = 0;
                    for (int u = 0; u < nt; u++) {
                        int64_t c = hist[(size_t)u * RADIX_SIZE + d];
                        hist[(size_t)u * RADIX_SIZE + d] = at;
                        at += c;
                        tot += c;
                    }
                    skip |= tot == m;
                }
            }
            if (skip)
                continue; /* every thread sees the same skip: the single's barrier */
            for (int64_t i = lo; i < hi; i++)
                dst[h[(src[i] >> shift) & mask]++] = src[i];
            uint64_t *sw = src;
            src = dst;
            dst = sw;
#pragma omp barrier
        }
#pragma omp single
        if (src != key)
            memcpy(key, src, (size_t)m * sizeof *key);
    }
}

void tribe_kw_runs(const float *x, int64_t n, int ldx, const int32_t *label, int k, int nth, int64_t *hist,
                   uint64_t *key, uint64_t *count, int64_t *nruns)
{
    int64_t m = 0;
    int segbits = 0;
    while (segbits < 32 && ((int64_t)1 << segbits) < k)
        segbits++;
    /* the value's key above the segment: ascending by value, then segment */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i * ldx];
        if (!isnan(v))
            key[m++] = (uint64_t)tribe_f32_key(v) << segbits | (uint32_t)label[i];
    }
    radix_sort(key, count, m, 32 + segbits, nth, hist);
    int64_t r = -1;
    for (int64_t i = 0; i < m; i++) {
        uint64_t u = (key[i] >> segbits) << 32 | (key[i] & (((uint64_t)1 << segbits) - 1));
        if (r >= 0 && key[r] == u) {
            count[r]++;
        } else {
            key[++r] = u;
            count[r] = 1;
        }
    }
    *nruns = r + 1;
}

/* Adds the 64-bit pair accumulators into the exact sums and zeroes them. */
static void flush_pairs(uint64_t *acc, int k, tribe_xsum *u2)
{
    for (size_t i = 0; i < (size_t)k * (size_t)k; i++) {
        u2[i] += acc[i];
        acc[i] = 0;
    }
}

void tribe_kw_sums(const uint64_t *key, const uint64_t *count, int64_t nruns, int k, int64_t *below, int64_t *work,
                   tribe_xsum *sums)
{
    tribe_xsum *nn = sums, *r2 = sums + k, *u2 = sums + 2 * (size_t)k, *ties = u2 + (size_t)k * (size_t)k;
    int64_t *cur = work;
    uint64_t *acc = (uint64_t *)(work + k);
    /* The pairs' terms go to 64-bit accumulators (a 128-bit multiply-add per
     * pair per run is most of the cost), flushed before any could pass 2^63:
     * bound is at least every accumulator, as each run adds at most
     * c (2 N(<v) + t) to each. */
    const tribe_xsum lim = (tribe_xsum)1 << 63;
    tribe_xsum bound = 0;
    int64_t nbelow = 0;
    for (int g = 0; g < k; g++)
        nbelow += below[g];
    for (int64_t a = 0; a < nruns;) {
        uint64_t v = key[a] >> 32;
        int64_t b = a, t = 0;
        for (; b < nruns && key[b] >> 32 == v; b++) {
            cur[(uint32_t)key[b]] += (int64_t)count[b];
            t += (int64_t)count[b];
        }
        /* twice the mid-rank of v: ranks nbelow + 1 .. nbelow + t */
        tribe_xsum mid2 = 2 * (tribe_xsum)nbelow + t + 1;
        for (int64_t q = a; q < b; q++) {
            if (q + 1 < b && key[q + 1] == key[q])
                continue; /* a segment's runs of v (from several ranks) are adjacent: once, at the last */
            int g = (int)(uint32_t)key[q];
            int64_t c = cur[g];
            nn[g] += c;
            r2[g] += c * mid2;
            /* twice U of g over h at v: pairs with h below count 2, ties 1 */
            tribe_xsum inc = (tribe_xsum)c * (mid2 - 1);
            if (bound + inc >= lim) {
                flush_pairs(acc, k, u2);
                bound = 0;
            }
            if (inc >= lim) {
                for (int h = 0; h < k; h++)
                    u2[(size_t)g * k + h] += (tribe_xsum)c * (2 * (tribe_xsum)below[h] + cur[h]);
                continue;
            }
            bound += inc;
            uint64_t *row = acc + (size_t)g * k, cu = (uint64_t)c;
            for (int h = 0; h < k; h++)
                row[h] += cu * (2 * (uint64_t)below[h] + (uint64_t)cur[h]);
        }
        *ties += (tribe_xsum)t * t * t - t;
        for (int64_t q = a; q < b; q++) {
            int g = (int)(uint32_t)key[q];
            below[g] += cur[g];
            cur[g] = 0;
        }
        nbelow += t;
        a = b;
    }
    flush_pairs(acc, k, u2);
}

double tribe_kw_gamma_q(double a, double x)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return 1;
    if (isinf(x))
        return 0;
    double lg = a * log(x) - x - lgamma(a);
    if (x < a + 1) {
        /* P(a, x) by its series; Q = 1 - P is not small here */
        double ap = a, del = 1 / a, sum = del;
        for (int i = 0; i < 100000 && fabs(del) >= fabs(sum) * 1e-17; i++) {
            ap += 1;
            del *= x / ap;
            sum += del;
        }
        return 1 - sum * exp(lg);
    }
    /* Q(a, x) by its continued fraction, modified Lentz */
    const double tiny = DBL_MIN / DBL_EPSILON;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return exp(lg) * h;
}

void tribe_kw_finish(int k, const tribe_xsum *sums, int64_t *n, int *k_used, double *h, double *p, double *eps2,
                     double *delta)
{
    const tribe_xsum *nn = sums, *r2 = sums + k, *u2 = sums + 2 * (size_t)k, *ties = u2 + (size_t)k * (size_t)k;
    tribe_xsum N = 0;
    int used = 0;
    for (int g = 0; g < k; g++) {
        N += nn[g];
        used += nn[g] > 0;
    }
    *n = (int64_t)N;
    *k_used = used;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            tribe_xsum pairs = nn[a] * nn[b];
            delta[(size_t)a * k + b] =
                pairs > 0 ? (double)(u2[(size_t)a * k + b] - pairs) / ((double)nn[a] * (double)nn[b]) : NAN;
        }
    *h = *p = *eps2 = NAN;
    /* The tie correction's denominator N^3 - N and numerator N^3 - N - sum(t^3 - t):
     * exact; 0 when every value is equal (a constant feature has no ranks to compare). */
    tribe_xsum cube = N * N * N - N, num = cube - *ties;
    if (used < 2 || num <= 0)
        return;
    /* H = 12 / (N (N+1)) sum n_g (mean rank_g - (N+1)/2)^2 = 3 / (N (N+1)) sum D_g^2 / n_g,
     * D_g = 2 R_g - n_g (N+1) an exact integer: no cancellation between two large sums. */
    double s = 0;
    for (int g = 0; g < k; g++)
        if (nn[g] > 0) {
            double dg = (double)(r2[g] - nn[g] * (N + 1));
            s += dg * dg / (double)nn[g];
        }
    double hv = 3 * s / ((double)N * (double)(N + 1));
    hv /= (double)num / (double)cube;
    *h = hv;
    *p = tribe_kw_gamma_q((used - 1) / 2.0, hv / 2);
    *eps2 = hv / (double)(N - 1);
}

void tribe_kw_holm(int m, const double *p, double *adj)
{
    /* insertion order of the finite p ascending, ties by lower index: m is
     * the number of features (at most TRIBE_MAX_FEATURES), no allocation */
    int ord[TRIBE_MAX_FEATURES];
    double val[TRIBE_MAX_FEATURES];
    int q = 0;
    for (int j = 0; j < m && j < TRIBE_MAX_FEATURES; j++) {
        val[j] = p[j];
        if (!isfinite(p[j]))
            continue;
        int pos = q;
        while (pos > 0 && p[ord[pos - 1]] > p[j])
            pos--;
        memmove(ord + pos + 1, ord + pos, (size_t)(q - pos) * sizeof *ord);
        ord[pos] = j;
        q++;
    }
    for (int j = 0; j < m && j < TRIBE_MAX_FEATURES; j++)
        adj[j] = NAN;
    double run = 0;
    for (int i = 0; i < q; i++) {
        double v = fmin(1.0, (double)(q - i) * val[ord[i]]);
        run = fmax(run, v);
        adj[ord[i]] = run;
    }
}

const char *tribe_kw_magnitude(double eps2)
{
    if (isnan(eps2))
        return "n/a";
    return eps2 < 0.01 ? "negligible" : eps2 < 0.06 ? "small" : eps2 < 0.14 ? "medium" : "large";
}

const char *tribe_kw_delta_magnitude(double delta)
{
    double a = fabs(delta);
    if (isnan(a))
        return "n/a";
    return a < 0.147 ? "negligible" : a < 0.33 ? "small" : a < 0.474 ? "medium" : "large";
}

/* ---- distributed driver ------------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* First run whose value is >= v (runs ascending). */
static int64_t lower_bound(const uint64_t *key, int64_t nr, uint64_t v)
{
    int64_t lo = 0, hi = nr;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (key[mid] >> 32 < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Collective. Value ranges [lo[r], lo[r+1]) by rank, from KW_SAMPLES keys
 * a rank (evenly spaced over its runs): any split gives the same sums, a
 * balanced one only moves less. lo[0] = 0, lo[size] = 2^32. */
static tribe_status split_values(tribe_par *par, const uint64_t *key, int64_t nr, int size, uint64_t *lo)
{
    tribe_status st = TRIBE_OK;
    uint32_t samp[KW_SAMPLES], *all = NULL;
    size_t total = 0;
    int ns = nr > 0 ? KW_SAMPLES : 0;
    for (int i = 0; i < ns; i++)
        samp[i] = (uint32_t)(key[(int64_t)((double)i * (double)nr / KW_SAMPLES)] >> 32);
    TRIBE_TRY(tribe_par_allgatherv(par, samp, (size_t)ns * sizeof *samp, (void **)&all, &total, NULL, NULL));
    size_t m = total / sizeof *all;
    if (m > 0)
        qsort(all, m, sizeof *all, cmp_u32);
    lo[0] = 0;
    lo[size] = (uint64_t)1 << 32;
    for (int r = 1; r < size; r++)
        lo[r] = m > 0 ? all[(size_t)r * m / (size_t)size] : lo[size];
cleanup:
    free(all);
    return st;
}

/* Merges the size blocks of runs (each ascending; block r at element
 * offset off[r], off[size] the total) into mk/mc by the whole key. */
static void merge_blocks(const uint64_t *rk, const uint64_t *rc, const size_t *off, int size, uint64_t *mk,
                         uint64_t *mc, size_t *pos)
{
    for (int r = 0; r < size; r++)
        pos[r] = off[r];
    for (size_t o = 0; o < off[size]; o++) {
        int best = -1;
        for (int r = 0; r < size; r++)
            if (pos[r] < off[r + 1] && (best < 0 || rk[pos[r]] < rk[pos[best]]))
                best = r;
        mk[o] = rk[pos[best]];
        mc[o] = rc[pos[best]];
        pos[best]++;
    }
}

/* The driver's thread count and per-thread workspaces, sized once. */
typedef struct {
    int nth;
    int64_t *hist;   /* [TRIBE_KW_HIST(nth)] */
    int64_t *tw;     /* [nth][KW_TWORK(k)], zeroed */
    tribe_xsum *ts;  /* [nth][TRIBE_KW_SUMS(k)] */
    int64_t *loc;    /* [k] zeroed: a range's counts per segment */
} kw_threads;

/* Per-thread workspace of sums_threads: below, the chunk's counts and
 * tribe_kw_sums's work (int64), and the chunk's sums (tribe_xsum). */
#define KW_TWORK(k) (2 * (size_t)(k) + TRIBE_KW_WORK(k))

/* Not collective. tribe_kw_sums over the runs on nth threads: the runs
 * are cut into chunks at value boundaries (every copy of a value in one
 * chunk), each chunk's counts below come from the chunks before it, and
 * the chunks' integer sums are added in chunk order: the same sums for
 * any nth. tw[nth][KW_TWORK(k)] zeroed (left zeroed where tribe_kw_sums
 * works), ts[nth][TRIBE_KW_SUMS(k)]. */
static void sums_threads(const uint64_t *key, const uint64_t *count, int64_t nr, int k, int64_t *below, int nth,
                         int64_t *tw, tribe_xsum *ts, tribe_xsum *sums)
{
    size_t stride = KW_TWORK(k), len = TRIBE_KW_SUMS(k);
    int64_t start[KW_MAX_THREADS + 1];
    if (nr < KW_PAR_MIN || nth < 2) {
        tribe_kw_sums(key, count, nr, k, below, tw + 2 * (size_t)k, sums);
        return;
    }
    start[0] = 0;
    for (int t = 1; t < nth; t++) {
        int64_t q = nr * t / nth;
        while (q > start[t - 1] && q < nr && key[q] >> 32 == key[q - 1] >> 32)
            q++;
        start[t] = q > start[t - 1] ? q : start[t - 1];
    }
    start[nth] = nr;
#pragma omp parallel num_threads(nth)
    {
        int t = omp_get_thread_num();
        int64_t *bl = tw + (size_t)t * stride, *cnt = bl + k;
        tribe_xsum *sm = ts + (size_t)t * len;
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        memset(sm, 0, len * sizeof *sm);
        for (int64_t q = start[t]; q < start[t + 1]; q++)
            cnt[(uint32_t)key[q]] += (int64_t)count[q];
#pragma omp barrier
        for (int g = 0; g < k; g++) {
            bl[g] = below[g];
            for (int u = 0; u < t; u++)
                bl[g] += tw[(size_t)u * stride + k + g];
        }
        tribe_kw_sums(key + start[t], count + start[t], start[t + 1] - start[t], k, bl, cnt + k, sm);
    }
    for (int t = 0; t < nth; t++) {
        for (size_t i = 0; i < len; i++)
            sums[i] += ts[(size_t)t * len + i];
        for (int g = 0; g < k; g++)
            below[g] += tw[(size_t)t * stride + k + g];
    }
}

/* Collective. One feature's sums: the runs go to the rank owning their value
 * range; every rank adds its range's share given the per-segment counts below
 * it (the totals of the ranks before it). */
static tribe_status exchange_sums(tribe_par *par, const uint64_t *key, const uint64_t *count, int64_t nr, int k,
                                  int64_t *below, const kw_threads *th, tribe_xsum *sums)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par), rank = tribe_par_rank(par);
    uint64_t *lo = NULL, *rk = NULL, *rc = NULL, *mk = NULL, *mc = NULL;
    size_t *sc = NULL, *sd = NULL, *rcnt = NULL, *rdis = NULL, *off = NULL, *pos = NULL, tk = 0, tc = 0;
    int64_t *allc = NULL;
    st = tribe_calloc((void **)&lo, (size_t)size + 1, sizeof *lo);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sc, 6 * ((size_t)size + 1), sizeof *sc);
    TRIBE_TRY(tribe_par_agree(par, st));
    sd = sc + size + 1;
    rcnt = sd + size + 1;
    rdis = rcnt + size + 1;
    off = rdis + size + 1;
    pos = off + size + 1;
    TRIBE_TRY(split_values(par, key, nr, size, lo));
    for (int r = 0; r < size; r++) {
        int64_t a = lower_bound(key, nr, lo[r]), b = r + 1 < size ? lower_bound(key, nr, lo[r + 1]) : nr;
        sd[r] = (size_t)a * sizeof *key;
        sc[r] = (size_t)(b - a) * sizeof *key;
    }
    TRIBE_TRY(tribe_par_alltoallv(par, key, sc, sd, (void **)&rk, &tk, rcnt, rdis));
    TRIBE_TRY(tribe_par_alltoallv(par, count, sc, sd, (void **)&rc, &tc, rcnt, rdis));
    for (int r = 0; r <= size; r++)
        off[r] = r < size ? rdis[r] / sizeof *key : tk / sizeof *key;
    st = tribe_alloc((void **)&mk, tk > 0 ? tk : 1); /* tk bytes of keys */
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&mc, tk > 0 ? tk : 1);
    TRIBE_TRY(tribe_par_agree(par, st));
    merge_blocks(rk, rc, off, size, mk, mc, pos);
    /* this range's values per segment (th->loc is zeroed and left zeroed) */
    for (size_t o = 0; o < off[size]; o++)
        th->loc[(uint32_t)mk[o]] += (int64_t)mc[o];
    st = tribe_par_allgatherv(par, th->loc, (size_t)k * sizeof *th->loc, (void **)&allc, &tc, NULL, NULL);
    memset(th->loc, 0, (size_t)k * sizeof *th->loc);
    TRIBE_TRY(st);
    for (int g = 0; g < k; g++) {
        below[g] = 0;
        for (int r = 0; r < rank; r++)
            below[g] += allc[(size_t)r * k + g];
    }
    sums_threads(mk, mc, (int64_t)off[size], k, below, th->nth, th->tw, th->ts, sums);
cleanup:
    free(lo);
    free(sc);
    free(rk);
    free(rc);
    free(mk);
    free(mc);
    free(allc);
    return st;
}

static tribe_status check_args(const int32_t *label, int64_t n, int ldx, int ncol, int k)
{
    if (k < 1 || k > KW_MAX_K || ncol < 0 || ncol > TRIBE_MAX_FEATURES || ldx < ncol || n < 0)
        return tribe_fail(TRIBE_ERR_USAGE, "kruskal-wallis: k=%d, %d columns of %d, %lld rows", k, ncol, ldx,
                          (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (label[i] < 0 || label[i] >= k)
            return tribe_fail(TRIBE_ERR_INPUT, "kruskal-wallis: local row %lld has segment %d, outside [0, %d)",
                              (long long)i, (int)label[i], k);
    return TRIBE_OK;
}

/* Not collective. The driver's workspaces for k segments (NOMEM). */
static tribe_status threads_create(int k, kw_threads *th)
{
    tribe_status st = TRIBE_OK;
    int nth = omp_get_max_threads();
    th->nth = nth < 1 ? 1 : nth > KW_MAX_THREADS ? KW_MAX_THREADS : nth;
    TRIBE_TRY(tribe_calloc((void **)&th->hist, TRIBE_KW_HIST(th->nth), sizeof *th->hist));
    TRIBE_TRY(tribe_calloc((void **)&th->tw, (size_t)th->nth * KW_TWORK(k), sizeof *th->tw));
    TRIBE_TRY(tribe_calloc((void **)&th->ts, (size_t)th->nth * TRIBE_KW_SUMS(k), sizeof *th->ts));
    TRIBE_TRY(tribe_calloc((void **)&th->loc, (size_t)k, sizeof *th->loc));
cleanup:
    return st;
}

static void threads_free(kw_threads *th)
{
    free(th->hist);
    free(th->tw);
    free(th->ts);
    free(th->loc);
}

tribe_status tribe_kw_test(tribe_par *par, const float *x, int64_t n, int ldx, int ncol, const int32_t *label, int k,
                           tribe_segtest **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segtest *t = NULL;
    uint64_t *key = NULL, *count = NULL;
    int64_t *below = NULL;
    tribe_xsum *sums = NULL;
    kw_threads th = {0};
    size_t len = TRIBE_KW_SUMS(k > 0 ? k : 1);
    *out = NULL;
    st = check_args(label, n, ldx, ncol, k);
    if (st == TRIBE_OK)
        st = tribe_segtest_create(k, ncol, &t);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&key, (size_t)(n > 0 ? n : 1) * sizeof *key);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&count, (size_t)(n > 0 ? n : 1) * sizeof *count);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&below, (size_t)k, sizeof *below);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sums, len, sizeof *sums);
    if (st == TRIBE_OK)
        st = threads_create(k, &th);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int j = 0; j < ncol; j++) {
        int64_t nr = 0;
        tribe_kw_runs(x + j, n, ldx, label, k, th.nth, th.hist, key, count, &nr);
        memset(sums, 0, len * sizeof *sums);
        memset(below, 0, (size_t)k * sizeof *below);
        if (tribe_par_size(par) == 1)
            sums_threads(key, count, nr, k, below, th.nth, th.tw, th.ts, sums);
        else
            TRIBE_TRY(exchange_sums(par, key, count, nr, k, below, &th, sums));
        TRIBE_TRY(tribe_par_sum_xsum(par, sums, (int64_t)len));
        tribe_kw_finish(k, sums, &t->n[j], &t->k_used[j], &t->h[j], &t->p[j], &t->eps2[j],
                        t->delta + (size_t)j * k * k);
    }
    tribe_kw_holm(ncol, t->p, t->p_holm);
    *out = t;
    t = NULL;
cleanup:
    tribe_segtest_destroy(&t);
    threads_free(&th);
    free(key);
    free(count);
    free(below);
    free(sums);
    return st;
}
