/* The offers' items of ingest (tribe/items.h): once every customer is with
 * its owner, the CSR of the table's rows and each item's name. Everything
 * is exact integer counting, so the result does not depend on the number of
 * ranks. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t item;
    double spend;
} item_ent;

static int cmp_item_ent(const void *a, const void *b)
{
    const item_ent *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
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

/* Not collective. Sorts one row's items (distinct, so any sort gives this
 * order) with their spends: in place for the few items a customer usually
 * has, through tmp (room for the longest row) for more. */
static void sort_row(int32_t *item, double *spend, int64_t n, item_ent *tmp)
{
    if (n > 16) {
        for (int64_t q = 0; q < n; q++)
            tmp[q] = (item_ent){item[q], spend[q]};
        qsort(tmp, (size_t)n, sizeof *tmp, cmp_item_ent);
        for (int64_t q = 0; q < n; q++) {
            item[q] = tmp[q].item;
            spend[q] = tmp[q].spend;
        }
        return;
    }
    for (int64_t q = 1; q < n; q++) {
        int32_t it = item[q];
        double sp = spend[q];
        int64_t j = q;
        for (; j > 0 && item[j - 1] > it; j--) {
            item[j] = item[j - 1];
            spend[j] = spend[j - 1];
        }
        item[j] = it;
        spend[j] = sp;
    }
}

/* Not collective. The CSR of the table's rows (out->count, item, spend,
 * nnz) from the (owned customer, item) spends: each row's length is its
 * customer's item count, so one pass over the table scatters every entry
 * straight to its row (customers without a row have none); then each row is
 * sorted by item. Errors: NOMEM; INTERNAL when the counts do not match the
 * table. */
static tribe_status item_rows(const ing_items_src *src, tribe_items *out)
{
    tribe_status st = TRIBE_OK;
    int64_t *at = NULL, longest = 0; /* at[customer]: where its next entry goes (-1: no row) */
    item_ent *tmp = NULL;
    const ing_map *m = src->spend;
    const size_t nr = (size_t)(src->n_rows > 0 ? src->n_rows : 1);
    TRIBE_TRY(tribe_alloc((void **)&at, (size_t)(src->n_owned > 0 ? src->n_owned : 1) * sizeof *at));
    TRIBE_TRY(tribe_alloc((void **)&out->count, nr * sizeof *out->count));
    for (int64_t c = 0; c < src->n_owned; c++)
        at[c] = -1;
    out->n_local = src->n_rows;
    for (int64_t r = 0; r < src->n_rows; r++) {
        out->count[r] = src->owned_items[src->order[r]];
        at[src->order[r]] = out->nnz;
        out->nnz += out->count[r];
        longest = out->count[r] > longest ? out->count[r] : longest;
    }
    TRIBE_TRY(tribe_alloc((void **)&out->item, (size_t)(out->nnz > 0 ? out->nnz : 1) * sizeof *out->item));
    TRIBE_TRY(tribe_alloc((void **)&out->spend, (size_t)(out->nnz > 0 ? out->nnz : 1) * sizeof *out->spend));
    TRIBE_TRY(tribe_alloc((void **)&tmp, (size_t)(longest > 0 ? longest : 1) * sizeof *tmp));
    for (size_t i = 0; i < m->cap && st == TRIBE_OK; i++) {
        const ing_ent *e = &m->t[i];
        if (e->a == ING_EMPTY || at[e->a] < 0)
            continue;
        int64_t q = at[e->a]++;
        if (q >= out->nnz) { /* more entries than counted: never, but no write past the arrays */
            st = tribe_fail(TRIBE_ERR_INTERNAL, "ingest: customer %lld has more items than counted", (long long)e->a);
            break;
        }
        out->item[q] = (int32_t)(src->spend_remap ? src->spend_remap[e->b] : (int64_t)e->b);
        out->spend[q] = (double)e->v / src->unit;
    }
    for (int64_t r = 0, q = 0; r < src->n_rows && st == TRIBE_OK; q += out->count[r], r++) {
        if (at[src->order[r]] != q + out->count[r]) { /* fewer, or another row's */
            st = tribe_fail(TRIBE_ERR_INTERNAL, "ingest: customer %lld's items do not match its count",
                            (long long)src->order[r]);
            break;
        }
        sort_row(out->item + q, out->spend + q, out->count[r], tmp);
    }
cleanup:
    free(at);
    free(tmp);
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
