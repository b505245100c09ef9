/* Row samples drawn by global index and gathered to every rank
 * (tribe_sample_rows in tribe/cluster.h). */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_internal.h"

/* The sample is drawn as geometric gaps: the j-th sampled row is the
 * (j-1)-th plus 1 + floor(ln(1 - u_j) / ln(1 - p)), u_j the counter RNG at
 * j, which gives every row probability p independently, as one uniform draw
 * per row would, in O(sample) work: each rank walks the gaps from row 0 to
 * the end of its own block, so the sample is a property of the global rows,
 * not of the rank count. */
tribe_status tribe_sample_local(const tribe_rows *rows, int64_t size, uint64_t seed, uint64_t stream, int64_t **pos,
                                int64_t *count)
{
    tribe_status st = TRIBE_OK;
    int64_t n_local = rows->n_local, offset = rows->offset, n_global = rows->n_global;
    int64_t *p = NULL, cap = 0, nl = 0, end = offset + n_local;
    if (size >= n_global) { /* every row */
        st = tribe_alloc((void **)&p, ((size_t)n_local + 1) * sizeof *p);
        for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++)
            p[nl++] = offset + i;
    } else {
        double lq = log1p(-(double)size / (double)n_global); /* < 0; -0 when size is 0: no row */
        uint64_t key = tribe_rng_key(seed, stream);
        int64_t g = -1;
        for (uint64_t j = 0; st == TRIBE_OK; j++) {
            double gap = floor(log1p(-tribe_rng_unif_keyed(key, j)) / lq);
            if (!(gap < (double)(end - 1 - g))) /* the next sampled row is past the block */
                break;
            g += 1 + (int64_t)gap;
            if (g < offset) /* another rank's row: walked, not kept */
                continue;
            if (nl == cap) {
                cap = cap ? 2 * cap : 1024;
                st = tribe_realloc((void **)&p, (size_t)cap * sizeof *p);
                if (st != TRIBE_OK)
                    break;
            }
            p[nl++] = g;
        }
    }
    if (st == TRIBE_OK && !p)
        st = tribe_alloc((void **)&p, sizeof *p); /* an empty block still gets a list */
    st = tribe_par_agree(rows->par, st);
    if (st != TRIBE_OK) {
        free(p);
        return st;
    }
    *pos = p;
    *count = nl;
    return TRIBE_OK;
}

tribe_status tribe_sample_rows(const tribe_dmat *zm, const int32_t *label, int64_t size, uint64_t seed,
                               uint64_t stream, float **rows, int32_t **lab, int64_t **gidx, int64_t *m)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = zm->rows->par;
    const float *z = zm->x;
    int64_t offset = zm->rows->offset;
    int d = zm->d;
    float *lr = NULL;
    int32_t *ll = NULL;
    int64_t *lg = NULL;
    void *gr = NULL, *gl = NULL, *gg = NULL;
    size_t tot = 0, totl = 0, totg = 0;
    int64_t nl = 0;
    TRIBE_TRY(tribe_sample_local(zm->rows, size, seed, stream, &lg, &nl));
    st = tribe_alloc((void **)&lr, ((size_t)nl * (size_t)d + 1) * sizeof *lr);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&ll, ((size_t)nl + 1) * sizeof *ll);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t j = 0; j < nl; j++) {
        int64_t i = lg[j] - offset;
        memcpy(lr + j * d, z + i * d, (size_t)d * sizeof *lr);
        ll[j] = label ? label[i] : -1;
    }
    /* Ranks own ascending blocks, so rank order is global order. */
    TRIBE_TRY(tribe_par_allgatherv(par, lr, (size_t)nl * (size_t)d * sizeof *lr, &gr, &tot, NULL, NULL));
    if (lab)
        TRIBE_TRY(tribe_par_allgatherv(par, ll, (size_t)nl * sizeof *ll, &gl, &totl, NULL, NULL));
    if (gidx)
        TRIBE_TRY(tribe_par_allgatherv(par, lg, (size_t)nl * sizeof *lg, &gg, &totg, NULL, NULL));
    *m = (int64_t)(tot / ((size_t)d * sizeof(float)));
    *rows = gr;
    gr = NULL;
    if (lab) {
        *lab = gl;
        gl = NULL;
    }
    if (gidx) {
        *gidx = gg;
        gg = NULL;
    }
cleanup:
    free(lr);
    free(ll);
    free(lg);
    free(gr);
    free(gl);
    free(gg);
    return st;
}
