/* Quantile bin edges and the binning kernel (tribe/gbdt.h). */
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tribe_gbdt_bins_destroy(tribe_gbdt_bins **b)
{
    if (!b || !*b)
        return;
    free((*b)->n_edges);
    free((*b)->off);
    free((*b)->edges);
    free(*b);
    *b = NULL;
}

/* LSD radix sort of non-NaN floats: two 16-bit passes over order-preserving
 * integer keys (copied with memcpy: no type punning). -0 sorts before +0;
 * they compare equal anyway. */
static tribe_status sort_floats(float *v, int64_t m)
{
    tribe_status st = TRIBE_OK;
    uint32_t *a = NULL, *b = NULL;
    int64_t *cnt = NULL;
    if (m < 2)
        return TRIBE_OK;
    TRIBE_TRY(tribe_alloc((void **)&a, (size_t)m * sizeof *a));
    TRIBE_TRY(tribe_alloc((void **)&b, (size_t)m * sizeof *b));
    TRIBE_TRY(tribe_alloc((void **)&cnt, 65537 * sizeof *cnt));
    memcpy(a, v, (size_t)m * sizeof *a);
    for (int64_t i = 0; i < m; i++) /* negatives reversed below positives */
        a[i] ^= (a[i] >> 31) ? 0xFFFFFFFFu : 0x80000000u;
    for (int pass = 0; pass < 2; pass++) {
        int sh = 16 * pass;
        memset(cnt, 0, 65537 * sizeof *cnt);
        for (int64_t i = 0; i < m; i++)
            cnt[((a[i] >> sh) & 0xFFFF) + 1]++;
        for (int k = 0; k < 65536; k++)
            cnt[k + 1] += cnt[k];
        for (int64_t i = 0; i < m; i++)
            b[cnt[(a[i] >> sh) & 0xFFFF]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    for (int64_t i = 0; i < m; i++)
        a[i] ^= (a[i] >> 31) ? 0x80000000u : 0xFFFFFFFFu;
    memcpy(v, a, (size_t)m * sizeof *a);
cleanup:
    free(a);
    free(b);
    free(cnt);
    return st;
}

/* Edges of one sorted sample v[m]: with at most max_bins distinct values every
 * distinct value but the largest is an edge (each value its own bin);
 * otherwise the value at every (j/max_bins)-quantile, deduplicated, and never
 * the maximum (the last bin would be empty). Returns the edge count. */
static int edges_of_sorted(const float *v, int64_t m, int max_bins, float *e)
{
    if (m == 0)
        return 0;
    int64_t distinct = 1;
    for (int64_t i = 1; i < m && distinct <= max_bins; i++)
        distinct += v[i] != v[i - 1];
    int k = 0;
    if (distinct <= max_bins) {
        for (int64_t i = 1; i < m; i++)
            if (v[i] != v[i - 1])
                e[k++] = v[i - 1];
        return k;
    }
    float vmax = v[m - 1];
    for (int j = 1; j < max_bins; j++) {
        int64_t pos = (int64_t)((__int128)m * j / max_bins) - 1;
        if (pos < 0)
            pos = 0;
        float q = v[pos];
        if (q >= vmax)
            break;
        if (k == 0 || q > e[k - 1])
            e[k++] = q;
    }
    return k;
}

tribe_status tribe_gbdt_bins_from_sample(float *values, const int64_t *off, int d, int max_bins,
                                         tribe_gbdt_bins **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_bins *b = NULL;
    *out = NULL;
    if (max_bins < 2 || max_bins > TRIBE_GBDT_MAX_BINS)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.max_bins = %d is outside 2..%d", max_bins,
                          TRIBE_GBDT_MAX_BINS);
    TRIBE_TRY(tribe_calloc((void **)&b, 1, sizeof *b));
    b->d = d;
    TRIBE_TRY(tribe_calloc((void **)&b->n_edges, (size_t)d + 1, sizeof *b->n_edges));
    TRIBE_TRY(tribe_calloc((void **)&b->off, (size_t)d + 1, sizeof *b->off));
    TRIBE_TRY(tribe_calloc((void **)&b->edges, (size_t)d * (size_t)(max_bins - 1) + 1, sizeof *b->edges));
    for (int f = 0; f < d; f++) {
        float *v = values + off[f];
        int64_t m = off[f + 1] - off[f];
        TRIBE_TRY(sort_floats(v, m));
        b->off[f] = f == 0 ? 0 : b->off[f - 1] + b->n_edges[f - 1];
        b->n_edges[f] = edges_of_sorted(v, m, max_bins, b->edges + b->off[f]);
    }
    b->off[d] = d == 0 ? 0 : b->off[d - 1] + b->n_edges[d - 1];
    *out = b;
    b = NULL;
cleanup:
    tribe_gbdt_bins_destroy(&b);
    return st;
}

/* Not collective. The sample's values of this rank's features [flo, fhi),
 * feature-major: from each rank q in turn (all[] as tribe_par_alltoallv
 * delivers it, rdispls[q] bytes in) allcnt[q * d + f] values of feature f;
 * each feature's values in rank order to v, its start in voff[f - flo];
 * wr[fhi - flo] is scratch (write cursors). */
static void merge_owned(const void *all, const size_t *rdispls, const int64_t *allcnt, int size, int d, int flo,
                        int fhi, float *v, int64_t *voff, int64_t *wr)
{
    voff[0] = 0;
    for (int f = flo; f < fhi; f++) {
        int64_t s = 0;
        for (int r = 0; r < size; r++)
            s += allcnt[(size_t)r * d + f];
        wr[f - flo] = voff[f - flo];
        voff[f - flo + 1] = voff[f - flo] + s;
    }
    for (int r = 0; r < size; r++) {
        const float *src = (const float *)((const char *)all + rdispls[r]);
        for (int f = flo; f < fhi; f++) {
            int64_t c = allcnt[(size_t)r * d + f];
            memcpy(v + wr[f - flo], src, (size_t)c * sizeof *src);
            wr[f - flo] += c;
            src += c;
        }
    }
}

/* Sampling is by global row index, so the union of the ranks' samples is the
 * same set for any split; the radix sort orders a multiset the same way
 * whatever its input order, so the edges are the same too. The sort is
 * shared out: rank r owns features tribe_par_block(d, size, r); every rank's
 * sample of a feature goes to its owner in one all-to-all, the owner sorts
 * it and finds the edges, and one allgatherv gives every rank all edges. A
 * rank receives about 1/size of the sample instead of all of it. */
tribe_status tribe_gbdt_bins_fit(const tribe_dmat *xm, const uint8_t *skip, int max_bins, int64_t sample,
                                 uint64_t seed, tribe_gbdt_bins **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = xm->rows->par;
    const float *x = xm->x;
    int64_t n = xm->rows->n_local, offset = xm->rows->offset;
    int d = xm->d;
    int size = tribe_par_size(par), rank = tribe_par_rank(par);
    int64_t cand = 0, *cnt = NULL, *start = NULL, *pos = NULL, *allcnt = NULL, *voff = NULL, flo, fhi;
    float *mine = NULL, *v = NULL;
    void *all = NULL, *gathered = NULL;
    size_t total = 0, *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL;
    tribe_gbdt_bins *b = NULL, *own = NULL;
    *out = NULL;
    for (int64_t i = 0; i < n; i++)
        cand += !(skip && skip[i]);
    TRIBE_TRY(tribe_par_sum_i64(par, &cand, 1));
    double rate = (sample <= 0 || cand <= sample) ? 1.0 : (double)sample / (double)cand;

    /* Local sample, feature-major: cnt[f] values of feature f from start[f]. */
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)d + 1, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&start, (size_t)d + 1, sizeof *start));
    TRIBE_TRY(tribe_calloc((void **)&pos, (size_t)d + 1, sizeof *pos));
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t i = 0; i < n; i++) {
            if (skip && skip[i])
                continue;
            if (rate < 1.0 && tribe_rng_unif(seed, TRIBE_STREAM_GBDT_BIN, (uint64_t)(offset + i)) >= rate)
                continue;
            for (int f = 0; f < d; f++) {
                float val = x[i * d + f];
                if (isnan(val))
                    continue;
                if (pass == 0)
                    cnt[f]++;
                else
                    mine[pos[f]++] = val;
            }
        }
        if (pass == 0) {
            for (int f = 0; f < d; f++) {
                pos[f] = start[f]; /* the second pass's write cursors */
                start[f + 1] = start[f] + cnt[f];
            }
            TRIBE_TRY(tribe_alloc((void **)&mine, (size_t)start[d] * sizeof *mine + 1));
        }
    }
    /* counts per feature per rank: size * d int64 */
    TRIBE_TRY(tribe_par_allgatherv(par, cnt, (size_t)d * sizeof *cnt, &gathered, &total, NULL, NULL));
    allcnt = gathered;
    gathered = NULL;
    /* each owner gets every rank's values of its features */
    TRIBE_TRY(tribe_calloc((void **)&sc, (size_t)size * 4, sizeof *sc));
    sd = sc + size;
    rc = sd + size;
    rd = rc + size;
    for (int r = 0; r < size; r++) {
        tribe_par_block(d, size, r, &flo, &fhi);
        sc[r] = (size_t)(start[fhi] - start[flo]) * sizeof *mine;
        sd[r] = (size_t)start[flo] * sizeof *mine;
    }
    TRIBE_TRY(tribe_par_alltoallv(par, mine, sc, sd, &all, &total, rc, rd));
    tribe_par_block(d, size, rank, &flo, &fhi);
    TRIBE_TRY(tribe_calloc((void **)&voff, (size_t)(fhi - flo) + 1, sizeof *voff));
    TRIBE_TRY(tribe_alloc((void **)&v, total + sizeof *v));
    merge_owned(all, rd, allcnt, size, d, (int)flo, (int)fhi, v, voff, pos);
    /* this rank's edges: the bins of its features alone */
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_bins_from_sample(v, voff, (int)(fhi - flo), max_bins, &own)));
    /* every rank's edges, in rank order, which is feature order */
    TRIBE_TRY(tribe_calloc((void **)&b, 1, sizeof *b));
    b->d = d;
    TRIBE_TRY(tribe_par_allgatherv(par, own->n_edges, (size_t)own->d * sizeof *own->n_edges, &gathered, &total,
                                   NULL, NULL));
    b->n_edges = gathered;
    gathered = NULL;
    TRIBE_TRY(tribe_par_allgatherv(par, own->edges, (size_t)own->off[own->d] * sizeof *own->edges, &gathered,
                                   &total, NULL, NULL));
    b->edges = gathered;
    gathered = NULL;
    TRIBE_TRY(tribe_calloc((void **)&b->off, (size_t)d + 1, sizeof *b->off));
    for (int f = 0; f < d; f++)
        b->off[f + 1] = b->off[f] + b->n_edges[f];
    *out = b;
    b = NULL;
cleanup:
    tribe_gbdt_bins_destroy(&b);
    tribe_gbdt_bins_destroy(&own);
    free(gathered);
    free(cnt);
    free(start);
    free(pos);
    free(allcnt);
    free(voff);
    free(mine);
    free(v);
    free(all);
    free(sc);
    return st;
}

void tribe_gbdt_bin_codes(const tribe_gbdt_bins *b, const float *x, int64_t n, uint8_t *codes)
{
    int d = b->d;
#pragma omp parallel for schedule(static) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        for (int f = 0; f < d; f++) {
            float v = x[i * d + f];
            if (isnan(v)) {
                codes[i * d + f] = 0;
                continue;
            }
            /* lower bound: number of edges strictly below v (branch-free
             * halving: the comparison becomes a conditional move) */
            const float *e = b->edges + b->off[f], *base = e;
            int len = b->n_edges[f], lo = 0;
            if (len > 0) {
                while (len > 1) {
                    int half = len / 2;
                    base = base[half] < v ? base + half : base;
                    len -= half;
                }
                lo = (int)(base - e) + (*base < v);
            }
            codes[i * d + f] = (uint8_t)(1 + lo);
        }
    }
}
