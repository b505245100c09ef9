/* Exact grouped order statistics (medians, quantiles) for tribe/xstats.h:
 * a distributed radix selection over the 32-bit order keys, every
 * histogram summed over ranks as integers, so the values found are exact
 * and the same on any number of ranks and threads.
 *
 * After the counting pass (xstats.c: fine histograms of about equal-mass
 * buckets, with each bucket's smallest and largest key), a target knows its
 * fine bucket and its rank in it. A bucket holding one distinct key (its
 * smallest equals its largest: a tie, common in count and day columns)
 * settles the target at once. The others are refined 8 key bits a pass;
 * only values in a fine bucket still sought (one bit test) go further. The
 * first refining pass also copies those values into per-thread candidate
 * lists when they are few enough, and later passes read only the lists. */
#include "xstats_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#define XS_DIGIT 8

void xs_fine_maps(const int64_t *bh, int ncol, int f, xs_fine_hist *fh)
{
    int off = 0;
    for (int c = 0; c < ncol; c++) {
        xs_colmap *cm = &fh->cm[c];
        const int64_t *h = bh + (size_t)c * XS_BINADES;
        int64_t m = 0;
        int nb = 0, fc = f;
        for (int b = 0; b < XS_BINADES; b++)
            m += h[b];
        while (fc > 64 && fc > m / 4) /* a few values a bucket at least */
            fc /= 2;
        for (int b = 0; b < XS_BINADES; b++) {
            cm->base[b] = -1;
            cm->sub[b] = 0;
            if (h[b] == 0)
                continue;
            /* 2^sub buckets, the most with 2^sub m <= fc h (at least one):
             * about m / fc values a bucket. The comparison is exact in
             * double (a power of two times an integer below 2^53). */
            int sub = 0;
            while (sub < 23 && (double)m * (double)(2 << sub) <= (double)fc * (double)h[b])
                sub++;
            cm->base[b] = nb;
            cm->sub[b] = (uint8_t)sub;
            nb += 1 << sub;
        }
        cm->off = off;
        cm->nb = nb;
        off += nb;
    }
    fh->nbt = off;
}

void xs_plan_free(xs_plan *pl)
{
    free(pl->tn);
    free(pl->tix);
    free(pl->rem);
    free(pl->pre);
    free(pl->kb);
    free(pl->fb0);
    free(pl->tslot);
    free(pl->soff);
    free(pl->sn);
    free(pl->spre);
    free(pl->skb);
    free(pl->range);
    free(pl->hist);
    free(pl->bm);
    memset(pl, 0, sizeof *pl);
}

tribe_status xs_plan_alloc(xs_plan *pl, int ncell, int nq, const double *prob, int nth, int64_t nbt_max)
{
    tribe_status st = TRIBE_OK;
    pl->nq = nq;
    pl->p = prob;
    pl->nt = 2 * nq;
    pl->ncell = ncell;
    size_t ct = (size_t)ncell * (size_t)pl->nt + 1;
    TRIBE_TRY(tribe_calloc((void **)&pl->tn, (size_t)ncell + 1, sizeof *pl->tn));
    TRIBE_TRY(tribe_calloc((void **)&pl->tix, ct, sizeof *pl->tix));
    TRIBE_TRY(tribe_calloc((void **)&pl->rem, ct, sizeof *pl->rem));
    TRIBE_TRY(tribe_calloc((void **)&pl->pre, ct, sizeof *pl->pre));
    TRIBE_TRY(tribe_calloc((void **)&pl->kb, ct, sizeof *pl->kb));
    TRIBE_TRY(tribe_calloc((void **)&pl->fb0, ct, sizeof *pl->fb0));
    TRIBE_TRY(tribe_calloc((void **)&pl->tslot, ct, sizeof *pl->tslot));
    TRIBE_TRY(tribe_calloc((void **)&pl->soff, (size_t)ncell + 1, sizeof *pl->soff));
    TRIBE_TRY(tribe_calloc((void **)&pl->sn, (size_t)ncell + 1, sizeof *pl->sn));
    TRIBE_TRY(tribe_calloc((void **)&pl->spre, ct, sizeof *pl->spre));
    TRIBE_TRY(tribe_calloc((void **)&pl->skb, ct, sizeof *pl->skb));
    TRIBE_TRY(tribe_calloc((void **)&pl->range, 2 * ct, sizeof *pl->range));
    TRIBE_TRY(tribe_calloc((void **)&pl->hist, (size_t)nth * (ct << XS_DIGIT), sizeof *pl->hist));
    TRIBE_TRY(tribe_calloc((void **)&pl->bm, (size_t)(nbt_max / 64 + 1), sizeof *pl->bm));
cleanup:
    return st;
}

/* Target j's rank for a cell of m values (floor and ceil of (m-1)p,
 * clamped to [0, m-1]). */
static int64_t target_rank(const xs_plan *pl, int j, int64_t m)
{
    double vi = (double)(m - 1) * pl->p[j / 2];
    int64_t r = (j % 2 == 0) ? (int64_t)floor(vi) : (int64_t)ceil(vi);
    return r > m - 1 ? m - 1 : r < 0 ? 0 : r;
}

/* The distinct targets of every cell, ascending, from its count. */
static void plan_targets(xs_plan *pl, const int64_t *cnt)
{
    int nt = pl->nt;
    for (int q = 0; q < pl->ncell; q++) {
        int64_t m = cnt[q], *rk = pl->rem + (size_t)q * nt;
        int *tix = pl->tix + (size_t)q * nt, n = 0;
        pl->tn[q] = 0;
        if (m == 0)
            continue;
        for (int j = 0; j < nt; j++) {
            int64_t r = target_rank(pl, j, m);
            int a = 0;
            while (a < n && rk[a] < r)
                a++;
            if (a == n || rk[a] != r) {
                for (int b = n; b > a; b--)
                    rk[b] = rk[b - 1];
                rk[a] = r;
                n++;
            }
        }
        for (int j = 0; j < nt; j++) {
            int64_t r = target_rank(pl, j, m);
            int a = 0;
            while (rk[a] != r)
                a++;
            tix[j] = a;
        }
        pl->tn[q] = n;
    }
}

/* Bucket j's values in cell (gt, column of cm) over all ranks: its group
 * slot's, or the sum of every slot's for the whole base. */
static int64_t fine_count(const xs_shape *s, const xs_fine_hist *fh, int gt, const xs_colmap *cm, int j)
{
    if (gt < s->G)
        return fh->fcnt[(size_t)gt * fh->nbt + cm->off + j];
    int64_t v = 0;
    for (int g = 0; g <= s->G; g++)
        v += fh->fcnt[(size_t)g * fh->nbt + cm->off + j];
    return v;
}

/* This rank's smallest and largest key in fine bucket f (in a row) of cell
 * (gt, .), over threads (and group slots for the whole base). */
static void fine_range(const xs_shape *s, const xs_fine_hist *fh, int gt, uint32_t f, uint32_t *lo, uint32_t *hi)
{
    int g0 = gt < s->G ? gt : 0, g1 = gt < s->G ? gt : s->G;
    *lo = ~0u;
    *hi = 0;
    for (int t = 0; t < s->nth; t++)
        for (int g = g0; g <= g1; g++) {
            const xs_fbin *b = &fh->fb[((size_t)t * (s->G + 1) + g) * fh->nbt + f];
            *lo = b->lo < *lo ? b->lo : *lo;
            *hi = b->hi > *hi ? b->hi : *hi;
        }
}

/* The binade holding bucket j of a column. */
static int bucket_binade(const xs_colmap *cm, int j)
{
    for (int b = 0; b < XS_BINADES; b++)
        if (cm->base[b] >= 0 && cm->base[b] <= j && j < cm->base[b] + (1 << cm->sub[b]))
            return b;
    return 0; /* not reached: every bucket belongs to a binade */
}

/* Each target's fine bucket (one sweep of the cell's buckets: targets are
 * ascending), its rank there and its key's known top bits; the buckets'
 * key ranges, reduced over ranks, settle targets in a bucket of one key.
 * Collective. */
static tribe_status first_level(tribe_par *par, const xs_shape *s, const xs_fine_hist *fh, xs_plan *pl)
{
    tribe_status st = TRIBE_OK;
    int ncol = s->ncol, nt = pl->nt;
    size_t ct = (size_t)pl->ncell * nt;
    for (int q = 0; q < pl->ncell; q++) {
        int gt = q / ncol, a = 0;
        const xs_colmap *cm = &fh->cm[q % ncol];
        int64_t cum = 0;
        for (int j = 0; j < cm->nb && a < pl->tn[q]; j++) {
            int64_t n = fine_count(s, fh, gt, cm, j);
            for (; a < pl->tn[q] && pl->rem[(size_t)q * nt + a] < cum + n; a++) {
                size_t t = (size_t)q * nt + a;
                int b = bucket_binade(cm, j);
                uint32_t lo, hi;
                pl->rem[t] -= cum;
                pl->fb0[t] = (uint32_t)(cm->off + j);
                pl->pre[t] = ((uint32_t)b << cm->sub[b]) | (uint32_t)(j - cm->base[b]);
                pl->kb[t] = 9 + cm->sub[b];
                fine_range(s, fh, gt, pl->fb0[t], &lo, &hi);
                pl->range[t] = -(int64_t)lo;
                pl->range[ct + t] = hi;
            }
            cum += n;
        }
    }
    TRIBE_TRY(tribe_par_max_i64(par, pl->range, 2 * (int64_t)ct));
    for (int q = 0; q < pl->ncell; q++)
        for (int a = 0; a < pl->tn[q]; a++) {
            size_t t = (size_t)q * nt + a;
            if (pl->range[t] == -pl->range[ct + t]) { /* one key in the bucket: it */
                pl->pre[t] = (uint32_t)pl->range[ct + t];
                pl->kb[t] = 32;
            }
        }
cleanup:
    return st;
}

/* Slots of this pass: the distinct prefixes of each cell's unsettled
 * targets (ascending, so equal ones are adjacent), and the bitmap of their
 * fine buckets. Returns the number of slots. */
static int plan_slots(const xs_fine_hist *fh, xs_plan *pl)
{
    int S = 0, nt = pl->nt;
    memset(pl->bm, 0, (size_t)(fh->nbt / 64 + 1) * sizeof *pl->bm);
    for (int q = 0; q < pl->ncell; q++) {
        int k = 0;
        pl->soff[q] = S;
        for (int a = 0; a < pl->tn[q]; a++) {
            size_t t = (size_t)q * nt + a;
            if (pl->kb[t] == 32)
                continue;
            if (k == 0 || pl->spre[S + k - 1] != pl->pre[t] || pl->skb[S + k - 1] != pl->kb[t]) {
                pl->spre[S + k] = pl->pre[t];
                pl->skb[S + k] = pl->kb[t];
                k++;
            }
            pl->tslot[t] = S + k - 1;
            pl->bm[pl->fb0[t] >> 6] |= (uint64_t)1 << (pl->fb0[t] & 63);
        }
        pl->sn[q] = k;
        S += k;
    }
    return S;
}

/* Counts key under the next digit of the slot of cell q whose prefix it
 * carries; returns 0 when it carries none (few slots, and only values in a
 * bucket still sought get here). */
static inline int count_key(const xs_plan *pl, int q, uint32_t key, int64_t *h)
{
    for (int k = 0; k < pl->sn[q]; k++) {
        int sl = pl->soff[q] + k, kb = pl->skb[sl];
        if ((key >> (32 - kb)) == pl->spre[sl]) {
            int bits = 32 - kb < XS_DIGIT ? 32 - kb : XS_DIGIT;
            h[((size_t)sl << XS_DIGIT) + ((key >> (32 - kb - bits)) & ((1u << bits) - 1))]++;
            return 1;
        }
    }
    return 0;
}

/* A candidate: a key and the cell it counts for. */
typedef struct {
    uint32_t key;
    int32_t cell;
} xs_cand;

/* One refining pass over rows [i0, i1) into h; with cand, the values that
 * counted are also appended there (the caller sized it). Returns how many. */
static int64_t refine_rows(const xs_shape *s, const xs_fine_hist *fh, const xs_plan *pl, int64_t i0, int64_t i1,
                           int64_t *h, xs_cand *cand)
{
    int ncol = s->ncol, G = s->G, ldx = s->ldx, slot[XS_BLOCK];
    int64_t nc = 0;
    for (int64_t b0 = i0; b0 < i1; b0 += XS_BLOCK) {
        int64_t b1 = i1 - b0 < XS_BLOCK ? i1 : b0 + XS_BLOCK;
        for (int64_t i = b0; i < b1; i++)
            slot[i - b0] = xs_row_slot(s, i);
        for (int c = 0; c < ncol; c++) {
            const float *restrict xc = s->x + c;
            const xs_colmap *cm = &fh->cm[c];
            for (int64_t i = b0; i < b1; i++) {
                int g = slot[i - b0];
                uint32_t key = xs_key(xc[i * ldx]);
                if (g < 0 || key == ~0u)
                    continue;
                uint32_t f = xs_fine(cm, key);
                if (!((pl->bm[f >> 6] >> (f & 63)) & 1))
                    continue;
                if (g < G && count_key(pl, g * ncol + c, key, h) && cand)
                    cand[nc++] = (xs_cand){key, g * ncol + c};
                if (s->with_total && count_key(pl, G * ncol + c, key, h) && cand)
                    cand[nc++] = (xs_cand){key, G * ncol + c};
            }
        }
    }
    return nc;
}

/* One refining pass over a candidate list, keeping (in place) the ones that
 * still count. Returns how many are kept. */
static int64_t refine_cands(const xs_plan *pl, xs_cand *cand, int64_t nc, int64_t *h)
{
    int64_t k = 0;
    for (int64_t i = 0; i < nc; i++)
        if (count_key(pl, cand[i].cell, cand[i].key, h))
            cand[k++] = cand[i];
    return k;
}

/* Values thread t will copy in the first refining pass: those of its rows
 * in the fine buckets of unsettled targets, per cell. */
static int64_t thread_candidates(const xs_shape *s, const xs_fine_hist *fh, const xs_plan *pl, int t)
{
    int64_t v = 0;
    for (int q = 0; q < pl->ncell; q++) {
        int gt = q / s->ncol, g0 = gt < s->G ? gt : 0, g1 = gt < s->G ? gt : s->G;
        for (int a = 0; a < pl->tn[q]; a++) {
            size_t u = (size_t)q * pl->nt + a;
            if (pl->kb[u] == 32 || (a > 0 && pl->fb0[u] == pl->fb0[u - 1] && pl->kb[u - 1] < 32))
                continue; /* settled, or the same bucket as the previous target */
            for (int g = g0; g <= g1; g++)
                v += fh->fb[((size_t)t * (s->G + 1) + g) * fh->nbt + pl->fb0[u]].n;
        }
    }
    return v;
}

/* Moves every unsettled target one digit on: the bucket of its slot's
 * histogram holding its rank. */
static void advance(xs_plan *pl)
{
    for (int q = 0; q < pl->ncell; q++)
        for (int a = 0; a < pl->tn[q]; a++) {
            size_t t = (size_t)q * pl->nt + a;
            if (pl->kb[t] == 32)
                continue;
            int bits = 32 - pl->kb[t] < XS_DIGIT ? 32 - pl->kb[t] : XS_DIGIT, b = 0;
            const int64_t *h = pl->hist + ((size_t)pl->tslot[t] << XS_DIGIT);
            int64_t cum = 0;
            while (b < (1 << bits) - 1 && cum + h[b] <= pl->rem[t])
                cum += h[b++];
            pl->rem[t] -= cum;
            pl->pre[t] = (pl->pre[t] << bits) | (uint32_t)b;
            pl->kb[t] += bits;
        }
}

tribe_status xs_select(tribe_par *par, const xs_shape *s, const xs_fine_hist *fh, const int64_t *cnt, xs_plan *pl)
{
    tribe_status st = TRIBE_OK;
    xs_cand *cand = NULL;
    int64_t coff[XS_MAX_THREADS + 1] = {0}, ncand[XS_MAX_THREADS] = {0};
    int nth = s->nth;
    plan_targets(pl, cnt);
    TRIBE_TRY(first_level(par, s, fh, pl));
    /* Candidate lists when the values to copy are few (a tie-heavy bucket
     * can hold most of a column: then every pass reads the rows). Optional:
     * without memory the passes read the rows. */
    for (int t = 0; t < nth; t++)
        coff[t + 1] = coff[t] + thread_candidates(s, fh, pl, t);
    if (coff[nth] > 0 && coff[nth] <= s->n * (int64_t)s->ncol / 8 + 4096 &&
        tribe_alloc((void **)&cand, (size_t)coff[nth] * sizeof *cand) != TRIBE_OK)
        cand = NULL; /* no lists: the passes read the rows, the same counts */
    for (int pass = 0;; pass++) {
        int S = plan_slots(fh, pl);
        size_t hn = (size_t)S << XS_DIGIT;
        if (S == 0)
            break; /* every rank sees the same reduced histograms */
        size_t stride = ((size_t)pl->ncell * pl->nt + 1) << XS_DIGIT;
        /* block t of the rows is pass B's block t (its candidates were
         * counted there), whatever team OpenMP gives */
#pragma omp parallel num_threads(nth)
        for (int t = omp_get_thread_num(); t < nth; t += omp_get_num_threads()) {
            int64_t *h = pl->hist + (size_t)t * stride;
            memset(h, 0, hn * sizeof *h);
            if (pass > 0 && cand) {
                ncand[t] = refine_cands(pl, cand + coff[t], ncand[t], h);
            } else {
                int64_t lo, hi;
                tribe_par_block(s->n, nth, t, &lo, &hi);
                ncand[t] = refine_rows(s, fh, pl, lo, hi, h, cand ? cand + coff[t] : NULL);
            }
        }
        for (int t = 1; t < nth; t++)
            for (size_t j = 0; j < hn; j++)
                pl->hist[j] += pl->hist[(size_t)t * stride + j];
        TRIBE_TRY(tribe_par_sum_i64(par, pl->hist, (int64_t)hn));
        advance(pl);
        tribe_progress_step(3 + pass); /* after xstats.c's passes A and B */
    }
cleanup:
    free(cand);
    return st;
}
