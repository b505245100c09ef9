/* xstats_internal.h: what xstats.c (the passes over the rows and the driver)
 * and xselect.c (the exact selection of medians and quantiles) share. Not
 * a public header. */
#ifndef TRIBE_XSTATS_INTERNAL_H
#define TRIBE_XSTATS_INTERNAL_H

#include "tribe/xstats.h"

/* The shape of one describe call. Group slots run 0..G: slot G holds rows
 * whose group is out of range, which count only towards the whole base
 * (without with_total they are skipped). Cells are the outputs, [GT][ncol]
 * with GT = G + with_total, the whole base last. */
typedef struct {
    const float *x;
    int64_t n;
    int ldx, ncol;
    const int32_t *group;
    int G, with_total;
    int nth; /* row blocks of every pass (block t: tribe_par_block(n, nth, t)), each
              * with its own counters, whichever thread runs it */
} xs_shape;
#define XS_MAX_THREADS 256
#define XS_BLOCK 256 /* rows a pass reads a column at a time (the block stays in L1) */

static inline int xs_row_slot(const xs_shape *s, int64_t i)
{
    int g = s->group ? s->group[i] : 0;
    if (g >= 0 && g < s->G)
        return g;
    return s->with_total ? s->G : -1;
}

/* The order key of a float (tribe_f32_key), or ~0 for NaN (no number has
 * it), without a branch on the sign. */
static inline uint32_t xs_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    uint32_t a = u & 0x7fffffffu;
    uint32_t k = u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u); /* negatives: ~u, else u | 2^31 */
    k = a == 0 ? 0x80000000u : k;
    return a > 0x7f800000u ? ~0u : k;
}
#define XS_KEY_POS_INF 0xff800000u
#define XS_KEY_NEG_INF 0x007fffffu

/* ---- fine buckets ------------------------------------------------------------
 * The selection's first histogram splits each column's keys into buckets
 * of about equal mass: a key's binade (its top 9 bits: sign and exponent)
 * is split on its top `sub` mantissa bits, sub chosen from the binade's
 * share of the column's values (the screen's binade histogram). Buckets are
 * numbered in key order; a group slot's row holds every column's buckets,
 * column c at off. */
#define XS_BINADES 512
typedef struct {
    int32_t base[XS_BINADES]; /* the binade's first bucket in the column; -1: no value */
    uint8_t sub[XS_BINADES];  /* mantissa bits the binade is split on */
    int off, nb;              /* the column's first bucket in a row, and its bucket count */
} xs_colmap;

static inline uint32_t xs_fine(const xs_colmap *cm, uint32_t key)
{
    uint32_t bn = key >> 23;
    return (uint32_t)(cm->off + cm->base[bn]) + ((key & 0x7fffffu) >> (23 - cm->sub[bn]));
}

/* One fine bucket of one thread: values, smallest and largest key. */
typedef struct {
    int64_t n;
    uint32_t lo, hi;
} xs_fbin;

/* The selection's inputs from the passes: column maps, and per thread the
 * fine histograms [nth][G+1][nbt] (kept after the reduction: they size the
 * candidate lists), and the reduced counts [G+1][nbt]. */
typedef struct {
    xs_colmap *cm;   /* [ncol] */
    int nbt;         /* buckets in a row: the sum of the columns' nb */
    xs_fbin *fb;     /* [nth][G+1][nbt] */
    int64_t *fcnt;   /* [G+1][nbt] summed over threads and ranks */
} xs_fine_hist;

/* Builds the column maps from the binade histograms bh[ncol][XS_BINADES]
 * (summed over ranks) for about f buckets a column (fewer for a column of
 * few values: m / 4 at most, 64 at least); sets fh->nbt. Not collective. */
void xs_fine_maps(const int64_t *bh, int ncol, int f, xs_fine_hist *fh);

/* The selection's state (xselect.c). Targets are the 0-based ranks a cell
 * seeks among its m values, for probability p floor((m-1)p) and
 * ceil((m-1)p), deduplicated and ascending. */
typedef struct {
    int nq;           /* probabilities */
    const double *p;  /* [nq] */
    int nt;           /* targets per cell at most: 2 nq */
    int ncell;
    int *tn;          /* [ncell] targets of the cell */
    int *tix;         /* [ncell][nt] the target of probability j side s: [2j + s] */
    int64_t *rem;     /* [ncell][nt] the rank sought among the values under the prefix */
    uint32_t *pre;    /* [ncell][nt] the top kb bits of the target's key (all of it when kb = 32) */
    int *kb;          /* [ncell][nt] known bits */
    uint32_t *fb0;    /* [ncell][nt] the target's fine bucket (in a row) */
    int *tslot;       /* [ncell][nt] the target's slot this pass */
    int *soff, *sn;   /* [ncell] the cell's first slot and slot count */
    uint32_t *spre;   /* [ncell * nt] a slot's prefix */
    int *skb;         /* [ncell * nt] and its known bits */
    int64_t *range;   /* [2][ncell * nt] -lo and hi of the targets' fine buckets */
    int64_t *hist;    /* [nth][ncell * nt][256] refining histograms */
    uint64_t *bm;     /* [nbt_max / 64 + 1] fine buckets still sought */
} xs_plan;

/* Not collective. Allocates the plan for ncell cells and probabilities
 * prob[nq] (kept by pointer), nth threads and rows of at most nbt_max fine
 * buckets. Errors: TRIBE_ERR_NOMEM. */
tribe_status xs_plan_alloc(xs_plan *pl, int ncell, int nq, const double *prob, int nth, int64_t nbt_max);
void xs_plan_free(xs_plan *pl);

/* Collective. The exact order statistics after the counting pass: for each
 * cell with cnt[cell] = m > 0 values, the targets' keys; then
 * xs_plan_value gives probability j's lower (side 0) or upper value.
 * Errors: TRIBE_ERR_ENV. */
tribe_status xs_select(tribe_par *par, const xs_shape *s, const xs_fine_hist *fh, const int64_t *cnt, xs_plan *pl);
static inline float xs_plan_value(const xs_plan *pl, int cell, int j, int side)
{
    size_t t = (size_t)cell * (size_t)pl->nt;
    return tribe_f32_unkey(pl->pre[t + (size_t)pl->tix[t + 2 * (size_t)j + side]]);
}

#endif
