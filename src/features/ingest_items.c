/* The offers' items of ingest (tribe/items.h): once every customer is with
 * its owner, the CSR of the table's rows and each item's name. Everything
 * is exact integer counting, so the result does not depend on the number of
 * ranks. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t code, v;
} item_ent;

static int cmp_item_ent(const void *a, const void *b)
{
    const item_ent *x = a, *y = b;
    return (x->code > y->code) - (x->code < y->code);
}

static int cmp_str(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

/* Collective (one sum-reduction). names[i]: the description on the most
 * rows of item i (ties: the first by byte value: pairs are sorted), else its
 * code. */
static tribe_status item_names(tribe_par *par, const ing_items_src *src, char **names)
{
    tribe_status st = TRIBE_OK;
    int64_t *tot = NULL, *best = NULL;
    int *from = NULL;
    const size_t np = (size_t)(src->n_pair > 0 ? src->n_pair : 1), ni = (size_t)(src->n_item > 0 ? src->n_item : 1);
    st = tribe_calloc((void **)&tot, np, sizeof *tot);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&best, ni, sizeof *best);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&from, ni * sizeof *from);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < src->n_desc; i++)
        tot[src->pair_remap[i]] += src->desc_rows[i];
    TRIBE_TRY(tribe_par_sum_i64(par, tot, src->n_pair));
    for (int i = 0; i < src->n_item; i++)
        from[i] = -1;
    for (int p = 0; p < src->n_pair; p++) {
        char code[257];
        const char *sep = strchr(src->pair[p], '\x1f');
        size_t n = sep ? (size_t)(sep - src->pair[p]) : 0;
        if (!sep || n >= sizeof code)
            continue;
        memcpy(code, src->pair[p], n);
        code[n] = '\0';
        char *const *hit = bsearch(code, src->item, (size_t)src->n_item, sizeof *src->item, cmp_str);
        if (hit && tot[p] > best[hit - src->item]) {
            best[hit - src->item] = tot[p];
            from[hit - src->item] = p;
        }
    }
    for (int i = 0; i < src->n_item && st == TRIBE_OK; i++)
        st = tribe_strdup(from[i] >= 0 ? strchr(src->pair[from[i]], '\x1f') + 1 : src->item[i], &names[i]);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(tot);
    free(best);
    free(from);
    return st;
}

/* Not collective. The CSR of the table's rows (out->count, item, spend,
 * nnz) from the (owned customer, item) spends. Errors: NOMEM. */
static tribe_status item_rows(const ing_items_src *src, tribe_items *out)
{
    tribe_status st = TRIBE_OK;
    int64_t *start = NULL;
    item_ent *e = NULL;
    const ing_map *m = src->spend;
    const size_t no = (size_t)src->n_owned + 1;
    TRIBE_TRY(tribe_calloc((void **)&start, no + 1, sizeof *start));
    TRIBE_TRY(tribe_alloc((void **)&e, (m->n > 0 ? m->n : 1) * sizeof *e));
    for (size_t i = 0; i < m->cap; i++) /* grouped by customer: a counting sort on the index */
        if (m->t[i].a != ING_EMPTY)
            start[m->t[i].a + 2]++;
    for (size_t k = 2; k <= no; k++)
        start[k] += start[k - 1];
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].a != ING_EMPTY)
            e[start[m->t[i].a + 1]++] = (item_ent){(int64_t)m->t[i].b, m->t[i].v};
    /* now start[c] .. start[c + 1] are customer c's entries */
    for (int64_t c = 0; c < src->n_owned; c++)
        qsort(e + start[c], (size_t)(start[c + 1] - start[c]), sizeof *e, cmp_item_ent);
    out->n_local = src->n_rows;
    for (int64_t r = 0; r < src->n_rows; r++)
        out->nnz += start[src->order[r] + 1] - start[src->order[r]];
    TRIBE_TRY(tribe_alloc((void **)&out->count, (size_t)(src->n_rows > 0 ? src->n_rows : 1) * sizeof *out->count));
    TRIBE_TRY(tribe_alloc((void **)&out->item, (size_t)(out->nnz > 0 ? out->nnz : 1) * sizeof *out->item));
    TRIBE_TRY(tribe_alloc((void **)&out->spend, (size_t)(out->nnz > 0 ? out->nnz : 1) * sizeof *out->spend));
    int64_t j = 0;
    for (int64_t r = 0; r < src->n_rows; r++) {
        int64_t c = src->order[r];
        out->count[r] = start[c + 1] - start[c];
        for (int64_t q = start[c]; q < start[c + 1]; q++, j++) {
            out->item[j] = (int32_t)e[q].code;
            out->spend[j] = (double)e[q].v / src->unit;
        }
    }
cleanup:
    free(start);
    free(e);
    return st;
}

tribe_status ing_items_build(tribe_par *par, const ing_items_src *src, tribe_items *out)
{
    tribe_status st = TRIBE_OK;
    memset(out, 0, sizeof *out);
    out->kind = src->categories ? TRIBE_ITEMS_CATEGORIES : TRIBE_ITEMS_PRODUCTS;
    st = tribe_calloc((void **)&out->code, (size_t)(src->n_item > 0 ? src->n_item : 1), sizeof *out->code);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&out->name, (size_t)(src->n_item > 0 ? src->n_item : 1), sizeof *out->name);
    if (st == TRIBE_OK)
        out->n_items = src->n_item;
    for (int i = 0; i < src->n_item && st == TRIBE_OK; i++)
        st = tribe_strdup(src->item[i], &out->code[i]);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(item_names(par, src, out->name));
    TRIBE_TRY(tribe_par_agree(par, item_rows(src, out)));
cleanup:
    if (st != TRIBE_OK)
        tribe_items_free(out);
    return st;
}
