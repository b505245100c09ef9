/* Stacked training sets (tribe/gbdt.h, tribe_gbdt_fit_blocks): several
 * distributed tables fitted as one, in a global row order that does not
 * depend on the rank count.
 *
 * Why the rows move: tribe_gbdt_fit keys the bin-edge sample and the row
 * subsampling by global row index = offset + local row, so a rank must hold
 * one contiguous range. A rank's rows of two blocks are two ranges of the
 * stacked order ([s_0 + o_0, ..) and [s_1 + o_1, ..)), so they are sent to
 * the ranks that own them under the block partition of the stacked order. */
#include "gbdt_internal.h"

#include <stdlib.h>
#include <string.h>

/* One row on the wire: stacked index, target, flag (padded to 8), x[d]. */
#define REC_HEAD (sizeof(int64_t) + sizeof(double) + 8)

tribe_status tribe_gbdt_fit_blocks(const tribe_gbdt_block *blk, int n_blk, const tribe_gbdt_cfg *cfg,
                                   tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    *out = NULL;
    /* The same arguments on every rank: no agreement needed to refuse them. */
    if (n_blk < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt: no block to stack");
    tribe_par *par = blk[0].x.rows->par;
    int d = blk[0].x.d;
    for (int b = 1; b < n_blk; b++)
        if (blk[b].x.d != d || blk[b].x.rows->par != par)
            return tribe_fail(TRIBE_ERR_USAGE, "gbdt: block %d has %d features, block 0 %d (or another communicator)",
                              b, blk[b].x.d, d);
    int size = tribe_par_size(par), rank = tribe_par_rank(par);
    size_t rec = REC_HEAD + (size_t)(d > 0 ? d : 0) * sizeof(float);
    int64_t *cnt = NULL, *start = NULL, *bound = NULL;
    size_t *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL, total = 0;
    char *send = NULL, *recv = NULL;
    float *x = NULL;
    double *y = NULL;
    uint8_t *valid = NULL;
    if (d < 1)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gbdt: %d blocks of %d features to stack", n_blk, d));

    /* Every block's shards must add up; block starts in the stacked order. */
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)n_blk, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&start, (size_t)n_blk + 1, sizeof *start));
    for (int b = 0; b < n_blk; b++)
        cnt[b] = blk[b].x.rows->n_local;
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, n_blk));
    for (int b = 0; b < n_blk; b++) {
        if (cnt[b] != blk[b].x.rows->n_global)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gbdt: block %d: the ranks hold %lld rows in all, but n_global = %lld",
                                 b, (long long)cnt[b], (long long)blk[b].x.rows->n_global));
        start[b + 1] = start[b] + blk[b].x.rows->n_global;
    }
    int64_t N = start[n_blk], lo, hi;
    tribe_par_block(N, size, rank, &lo, &hi);
    int64_t m = hi - lo;

    /* Pack: local rows come in increasing stacked index (blocks in order,
     * rows in order within a block), so destinations are non-decreasing and
     * one cursor over the partition bounds groups them. */
    int64_t nl = 0;
    for (int b = 0; b < n_blk; b++)
        nl += blk[b].x.rows->n_local;
    st = tribe_calloc((void **)&bound, (size_t)size + 1, sizeof *bound);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sc, 4 * (size_t)size, sizeof *sc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&send, (size_t)nl * rec + 1);
    if (st == TRIBE_OK) {
        sd = sc + size, rc = sc + 2 * (size_t)size, rd = sc + 3 * (size_t)size;
        for (int r = 0; r < size; r++) {
            int64_t a, e;
            tribe_par_block(N, size, r, &a, &e);
            bound[r + 1] = e;
        }
        int dest = 0;
        char *p = send;
        for (int b = 0; b < n_blk; b++)
            for (int64_t i = 0; i < blk[b].x.rows->n_local; i++) {
                int64_t g = start[b] + blk[b].x.rows->offset + i;
                double yv = blk[b].y[i];
                uint8_t flag[8] = {blk[b].valid && blk[b].valid[i] ? 1 : 0};
                while (g >= bound[dest + 1])
                    dest++;
                sc[dest] += rec;
                memcpy(p, &g, sizeof g);
                memcpy(p + sizeof g, &yv, sizeof yv);
                memcpy(p + sizeof g + sizeof yv, flag, sizeof flag);
                memcpy(p + REC_HEAD, blk[b].x.x + (size_t)i * d, (size_t)d * sizeof(float));
                p += rec;
            }
        for (int r = 1; r < size; r++)
            sd[r] = sd[r - 1] + sc[r - 1];
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_alltoallv(par, send, sc, sd, (void **)&recv, &total, rc, rd));
    free(send);
    send = NULL;

    /* Unpack into the stacked order (a rank's rows arrive grouped by source
     * rank and block, not sorted). */
    if (total != (size_t)m * rec)
        st = tribe_fail(TRIBE_ERR_USAGE, "gbdt: rank %d received %zu rows to stack, expected %lld (block offsets wrong?)",
                        rank, total / rec, (long long)m);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&x, ((size_t)m * (size_t)d + 1) * sizeof *x);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&y, ((size_t)m + 1) * sizeof *y);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&valid, (size_t)m + 1, 1);
    for (int64_t k = 0; st == TRIBE_OK && k < m; k++) {
        const char *p = recv + (size_t)k * rec;
        int64_t g;
        memcpy(&g, p, sizeof g);
        if (g < lo || g >= hi) {
            st = tribe_fail(TRIBE_ERR_USAGE, "gbdt: rank %d received stacked row %lld outside its range [%lld, %lld)",
                            rank, (long long)g, (long long)lo, (long long)hi);
            break;
        }
        int64_t i = g - lo;
        memcpy(&y[i], p + sizeof g, sizeof *y);
        valid[i] = (uint8_t)p[sizeof g + sizeof *y];
        memcpy(x + (size_t)i * d, p + REC_HEAD, (size_t)d * sizeof(float));
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    free(recv);
    recv = NULL;
    /* The block partition of the stacked order: tiled by construction. */
    tribe_rows stacked = {par, m, lo, N};
    TRIBE_TRY(tribe_gbdt_fit(&(tribe_dmat){&stacked, x, d}, y, valid, cfg, out));
cleanup:
    free(cnt);
    free(start);
    free(bound);
    free(sc);
    free(send);
    free(recv);
    free(x);
    free(y);
    free(valid);
    return st;
}
