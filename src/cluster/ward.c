/* Nested segments: Ward agglomeration of the K-Means centres weighted by the
 * segment sizes (tribe_ward_build / tribe_ward_fit in tribe/cluster.h). The
 * tree is small (k - 1 merges) and computed identically on every rank; its
 * format is scipy's linkage matrix so analysts can plot it with
 * scipy.cluster.hierarchy.dendrogram. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>

void tribe_ward_destroy(tribe_ward **w)
{
    if (!w || !*w)
        return;
    free((*w)->merges);
    free((*w)->heights);
    free((*w)->sizes);
    free((*w)->leaf_size);
    free(*w);
    *w = NULL;
}

tribe_status tribe_ward_build(const double *c, const int64_t *w, int k, int d, tribe_ward **out)
{
    tribe_status st = TRIBE_OK;
    tribe_ward *t = NULL;
    double *D = NULL, *n = NULL;
    int *id = NULL, *alive = NULL;
    *out = NULL;
    if (k < 1 || d < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "ward: k=%d, d=%d: need k >= 1 and d >= 1", k, d);
    for (int i = 0; i < k; i++)
        if (w[i] < 1)
            return tribe_fail(TRIBE_ERR_USAGE, "ward: point %d has weight %lld, need >= 1", i, (long long)w[i]);
    TRIBE_TRY(tribe_calloc((void **)&t, 1, sizeof *t));
    t->k = k;
    TRIBE_TRY(tribe_calloc((void **)&t->merges, 2 * (size_t)k, sizeof *t->merges));
    TRIBE_TRY(tribe_calloc((void **)&t->heights, (size_t)k, sizeof *t->heights));
    TRIBE_TRY(tribe_calloc((void **)&t->sizes, (size_t)k, sizeof *t->sizes));
    TRIBE_TRY(tribe_calloc((void **)&t->leaf_size, (size_t)k, sizeof *t->leaf_size));
    TRIBE_TRY(tribe_alloc((void **)&D, (size_t)k * (size_t)k * sizeof *D));
    TRIBE_TRY(tribe_alloc((void **)&n, (size_t)k * sizeof *n));
    TRIBE_TRY(tribe_alloc((void **)&id, (size_t)k * sizeof *id));
    TRIBE_TRY(tribe_alloc((void **)&alive, (size_t)k * sizeof *alive));
    /* D holds squared heights: 2 n_a n_b / (n_a + n_b) ||c_a - c_b||^2, i.e.
     * twice Ward's merge cost, so that for unit weights sqrt(D) is the
     * Euclidean distance scipy reports for two singletons. */
    for (int i = 0; i < k; i++) {
        t->leaf_size[i] = w[i];
        n[i] = (double)w[i];
        id[i] = i;
        alive[i] = 1;
    }
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int l = 0; l < d; l++) {
                double e = c[(size_t)i * d + l] - c[(size_t)j * d + l];
                s += e * e;
            }
            D[(size_t)i * k + j] = 2.0 * n[i] * n[j] / (n[i] + n[j]) * s;
        }
    }
    for (int step = 0; step < k - 1; step++) {
        /* The cheapest pair; ties to the lowest (smaller id, larger id). */
        int ba = -1, bb = -1;
        double best = INFINITY;
        int blo = 0, bhi = 0;
        for (int a = 0; a < k; a++) {
            if (!alive[a])
                continue;
            for (int b = a + 1; b < k; b++) {
                if (!alive[b])
                    continue;
                double v = D[(size_t)a * k + b];
                int lo = id[a] < id[b] ? id[a] : id[b], hi = id[a] < id[b] ? id[b] : id[a];
                if (ba < 0 || v < best || (v == best && (lo < blo || (lo == blo && hi < bhi)))) {
                    best = v;
                    ba = a;
                    bb = b;
                    blo = lo;
                    bhi = hi;
                }
            }
        }
        t->merges[2 * step] = blo;
        t->merges[2 * step + 1] = bhi;
        t->heights[step] = sqrt(best > 0 ? best : 0.0);
        double na = n[ba], nb = n[bb];
        /* Lance-Williams for Ward on squared heights. */
        for (int s = 0; s < k; s++) {
            if (!alive[s] || s == ba || s == bb)
                continue;
            double ns = n[s];
            double v = ((ns + na) * D[(size_t)s * k + ba] + (ns + nb) * D[(size_t)s * k + bb] - ns * best) /
                       (ns + na + nb);
            D[(size_t)s * k + ba] = D[(size_t)ba * k + s] = v;
        }
        n[ba] = na + nb;
        t->sizes[step] = (int64_t)n[ba];
        id[ba] = k + step;
        alive[bb] = 0;
    }
    *out = t;
    t = NULL;
cleanup:
    tribe_ward_destroy(&t);
    free(D);
    free(n);
    free(id);
    free(alive);
    return st;
}

tribe_status tribe_ward_fit(tribe_par *par, const int32_t *label, int64_t n_local, const double *centroids, int k,
                            int d, tribe_ward **out)
{
    tribe_status st = TRIBE_OK;
    int64_t *cnt = NULL;
    *out = NULL;
    if (k < 1 || d < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "ward: k=%d, d=%d: need k >= 1 and d >= 1", k, d);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&cnt, (size_t)k, sizeof *cnt);
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++) {
        if (label[i] < 0 || label[i] >= k)
            st = tribe_fail(TRIBE_ERR_INPUT, "ward: local row %lld has label %d, outside [0, %d)", (long long)i,
                            label[i], k);
        else
            cnt[label[i]]++;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, k));
    for (int c = 0; c < k; c++)
        if (cnt[c] < 1) {
            st = tribe_fail(TRIBE_ERR_INPUT, "ward: segment %d is empty", c);
            goto cleanup; /* every rank sees the same counts */
        }
    st = tribe_ward_build(centroids, cnt, k, d, out);
cleanup:
    free(cnt);
    return st;
}
