/* Moving customers to their owner rank: sample-sort splitters, the record
 * all-to-all, and the union of categorical levels. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A sample: an id and how many local ids (at or below it, down to the
 * previous sample) it stands for, so ranks holding more ids weigh more. */
typedef struct {
    int64_t id, weight;
} sample;

static int cmp_sample(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->weight > y->weight) - (x->weight < y->weight);
}

#define SAMPLES_PER_RANK 256

tribe_status ing_splitters(tribe_par *par, const int64_t *ids, int64_t n, int64_t **spl)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par);
    int64_t *sorted = NULL, *out = NULL;
    sample *mine = NULL, *all = NULL;
    size_t total = 0;
    int64_t m = n < SAMPLES_PER_RANK ? n : SAMPLES_PER_RANK;
    st = tribe_alloc((void **)&out, (size_t)(size > 1 ? size - 1 : 1) * sizeof *out);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&sorted, (size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&mine, (size_t)(m > 0 ? m : 1) * sizeof *mine);
    /* one rank out of memory must not leave the others in the gather */
    TRIBE_TRY(tribe_par_agree(par, st));
    if (n > 0)
        memcpy(sorted, ids, (size_t)n * sizeof *ids);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_i64);
    for (int64_t i = 0; i < m; i++) {
        int64_t lo = i * n / m, hi = (i + 1) * n / m;
        mine[i].id = sorted[hi - 1];
        mine[i].weight = hi - lo;
    }
    TRIBE_TRY(tribe_par_allgatherv(par, mine, (size_t)m * sizeof *mine, (void **)&all, &total, NULL, NULL));
    {
        size_t ns = total / sizeof *all;
        int64_t w = 0, acc = 0;
        qsort(all, ns, sizeof *all, cmp_sample);
        for (size_t i = 0; i < ns; i++)
            w += all[i].weight;
        /* Splitter r-1 is the first sample at which the cumulative weight
         * reaches r/size of the total: ranks get about equal id counts. */
        size_t i = 0;
        for (int r = 1; r < size; r++) {
            int64_t target = (w * r + size - 1) / size;
            while (i < ns && acc + all[i].weight < target)
                acc += all[i++].weight;
            out[r - 1] = i < ns ? all[i].id : INT64_MAX;
        }
    }
    *spl = out;
    out = NULL;
cleanup:
    free(sorted);
    free(mine);
    free(all);
    free(out);
    return st;
}

int ing_owner(const int64_t *spl, int size, int64_t id)
{
    /* first r with id <= spl[r]; size-1 when above every splitter */
    int lo = 0, hi = size - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (id <= spl[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

tribe_status ing_shuffle(tribe_par *par, const int64_t *spl, const void *recs, int64_t n, size_t rsize,
                         void **out, int64_t *nout)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par);
    size_t *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL, *fill = NULL, total = 0;
    int *dest = NULL;
    char *send = NULL;
    const char *src = recs;
    st = tribe_calloc((void **)&sc, 5 * (size_t)size, sizeof *sc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&dest, (size_t)(n > 0 ? n : 1) * sizeof *dest);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&send, (size_t)(n > 0 ? n : 1) * rsize);
    /* one rank out of memory must not leave the others in the exchange */
    TRIBE_TRY(tribe_par_agree(par, st));
    sd = sc + size;
    rc = sd + size;
    rd = rc + size;
    fill = rd + size;
    for (int64_t i = 0; i < n; i++) {
        int64_t id;
        memcpy(&id, src + (size_t)i * rsize, sizeof id);
        dest[i] = ing_owner(spl, size, id);
        sc[dest[i]] += rsize;
    }
    for (int r = 1; r < size; r++)
        sd[r] = sd[r - 1] + sc[r - 1];
    memcpy(fill, sd, (size_t)size * sizeof *fill);
    for (int64_t i = 0; i < n; i++) {
        memcpy(send + fill[dest[i]], src + (size_t)i * rsize, rsize);
        fill[dest[i]] += rsize;
    }
    TRIBE_TRY(tribe_par_alltoallv(par, send, sc, sd, out, &total, rc, rd));
    *nout = (int64_t)(total / rsize);
cleanup:
    free(sc);
    free(dest);
    free(send);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

tribe_status ing_levels_union(tribe_par *par, const ing_dict *d, char ***levels, int *n_levels,
                              int64_t **remap)
{
    tribe_status st = TRIBE_OK;
    char *all = NULL;
    char **ptr = NULL, **lv = NULL;
    int64_t *map = NULL;
    size_t total = 0, np = 0;
    int nl = 0;
    *levels = NULL;
    *n_levels = 0;
    *remap = NULL;
    TRIBE_TRY(tribe_par_allgatherv(par, d->text ? d->text : "", d->tlen, (void **)&all, &total, NULL, NULL));
    for (size_t i = 0; i < total; i++)
        np += all[i] == '\0';
    TRIBE_TRY(tribe_alloc((void **)&ptr, (np ? np : 1) * sizeof *ptr));
    {
        size_t k = 0;
        for (size_t i = 0; i < total; i += strlen(all + i) + 1)
            ptr[k++] = all + i;
    }
    qsort(ptr, np, sizeof *ptr, cmp_str);
    TRIBE_TRY(tribe_calloc((void **)&lv, np ? np : 1, sizeof *lv));
    for (size_t i = 0; i < np; i++) {
        if (nl > 0 && strcmp(lv[nl - 1], ptr[i]) == 0)
            continue;
        TRIBE_TRY(tribe_strdup(ptr[i], &lv[nl]));
        nl++;
    }
    TRIBE_TRY(tribe_alloc((void **)&map, (size_t)(d->n > 0 ? d->n : 1) * sizeof *map));
    for (int64_t i = 0; i < d->n; i++) {
        const char *key = ing_dict_str(d, i);
        char **hit = bsearch(&key, lv, (size_t)nl, sizeof *lv, cmp_str);
        if (!hit) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "level '%s' missing from the gathered union", key);
            goto cleanup;
        }
        map[i] = hit - lv;
    }
    *levels = lv;
    *n_levels = nl;
    *remap = map;
    lv = NULL;
    map = NULL;
cleanup:
    if (lv)
        for (int i = 0; i < nl; i++)
            free(lv[i]);
    free(lv);
    free(map);
    free(ptr);
    free(all);
    return st;
}
