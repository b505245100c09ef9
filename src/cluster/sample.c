/* Row samples drawn by global index and gathered to every rank
 * (tribe_sample_rows in tribe/cluster.h). */
#include "tribe/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "kmeans_internal.h"

tribe_status tribe_cluster_check_rows(tribe_par *par, int64_t n_local, int64_t offset, int64_t n_global,
                                      const char *who)
{
    int64_t before = 0, total = 0;
    tribe_status st = tribe_par_exscan_i64(par, n_local, &before, &total);
    if (st != TRIBE_OK)
        return st;
    if (before != offset || total != n_global || n_local < 0)
        st = tribe_fail(TRIBE_ERR_INTERNAL,
                        "%s: rank %d holds rows [%lld, +%lld) of %lld, but the ranks' blocks give offset %lld of %lld",
                        who, tribe_par_rank(par), (long long)offset, (long long)n_local, (long long)n_global,
                        (long long)before, (long long)total);
    return tribe_par_agree(par, st);
}

tribe_status tribe_sample_rows(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                               int64_t n_global, int d, const int32_t *label, int64_t size,
                               uint64_t seed, uint64_t stream, float **rows, int32_t **lab,
                               int64_t **gidx, int64_t *m)
{
    tribe_status st = TRIBE_OK;
    float *lr = NULL;
    int32_t *ll = NULL;
    int64_t *lg = NULL;
    unsigned char *sel = NULL;
    void *gr = NULL, *gl = NULL, *gg = NULL;
    size_t tot = 0, totl = 0, totg = 0;
    int64_t nl = 0;
    /* Bernoulli selection keyed by the global index: whether row i is in
     * the sample is a property of i alone, not of the rank holding it. */
    int all = size >= n_global;
    double p = all ? 1.0 : (double)size / (double)n_global;
    uint64_t key = tribe_hash2(seed, stream);
    st = tribe_alloc((void **)&sel, (size_t)n_local + 1);
    TRIBE_TRY(tribe_par_agree(par, st));
    /* The draws in parallel (each is a function of the global index). */
#pragma omp parallel for schedule(static) reduction(+ : nl) if (n_local >= 65536)
    for (int64_t i = 0; i < n_local; i++) {
        sel[i] = (unsigned char)(all || tribe_km_unif_keyed(key, (uint64_t)(offset + i)) < p);
        nl += sel[i];
    }
    st = tribe_alloc((void **)&lr, (size_t)nl * (size_t)d * sizeof *lr);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&ll, (size_t)nl * sizeof *ll);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&lg, (size_t)nl * sizeof *lg);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0, j = 0; i < n_local; i++)
        if (sel[i]) {
            memcpy(lr + j * d, z + i * d, (size_t)d * sizeof *lr);
            ll[j] = label ? label[i] : -1;
            lg[j] = offset + i;
            j++;
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
    free(sel);
    free(lr);
    free(ll);
    free(lg);
    free(gr);
    free(gl);
    free(gg);
    return st;
}
