/* /customers/items of customers.h5: what each customer bought (tribe/items.h,
 * docs/hdf5-layout.md). Written by `tribe ingest`, read by the offers stage. */
#include "tribe/h5.h"
#include "tribe/items.h"

#include <stdlib.h>
#include <string.h>

#define ITEMS "/customers/items"

void tribe_items_free(tribe_items *it)
{
    if (!it)
        return;
    tribe_free_strs(it->code, it->n_items);
    tribe_free_strs(it->name, it->n_items);
    free(it->count);
    free(it->item);
    free(it->spend);
    memset(it, 0, sizeof *it);
}

/* Collective. The strings s[n] (the same on every rank) as a fixed-length
 * string dataset written by rank 0. */
static tribe_status write_strs(tribe_par *par, tribe_h5 *h, const char *name, char *const *s, int n)
{
    tribe_status st = TRIBE_OK;
    char *buf = NULL;
    int width = 1;
    for (int i = 0; i < n; i++)
        if ((int)strlen(s[i]) + 1 > width)
            width = (int)strlen(s[i]) + 1;
    int rank0 = tribe_par_rank(par) == 0;
    st = tribe_calloc((void **)&buf, rank0 ? (size_t)n * (size_t)width : 1, 1);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int i = 0; rank0 && i < n; i++)
        memcpy(buf + (size_t)i * (size_t)width, s[i], strlen(s[i]));
    TRIBE_TRY(tribe_h5_write_str_rows(h, name, n, 0, rank0 ? n : 0, width, buf));
cleanup:
    free(buf);
    return st;
}

tribe_status tribe_items_write(tribe_par *par, const char *path, const tribe_table *t, const tribe_items *it)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    int64_t before = 0, total = 0;
    if (it->n_items == 0) /* the same on every rank */
        return TRIBE_OK;
    TRIBE_TRY(tribe_par_exscan_i64(par, it->nnz, &before, &total));
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open_rw(par, path, &h)));
    TRIBE_TRY(tribe_h5_write_rows(h, ITEMS "/count", TRIBE_H5_I64, t->n_global, t->offset, t->n_local, 1,
                                  it->count));
    TRIBE_TRY(tribe_h5_write_rows(h, ITEMS "/item", TRIBE_H5_I32, total, before, it->nnz, 1, it->item));
    TRIBE_TRY(tribe_h5_write_rows(h, ITEMS "/spend", TRIBE_H5_F64, total, before, it->nnz, 1, it->spend));
    TRIBE_TRY(write_strs(par, h, ITEMS "/code", it->code, it->n_items));
    TRIBE_TRY(write_strs(par, h, ITEMS "/name", it->name, it->n_items));
    TRIBE_TRY(tribe_h5_attr_str(h, ITEMS, "kind", it->kind == TRIBE_ITEMS_CATEGORIES ? "categories" : "products"));
cleanup:
    return tribe_h5_close_after(&h, st);
}

/* Collective. A fixed-length string dataset of n strings, read whole on
 * every rank, into s[n] (NUL-terminated copies). */
static tribe_status read_strs(tribe_h5 *h, const char *name, int n, char ***s)
{
    tribe_status st = TRIBE_OK;
    char *buf = NULL;
    int width = 0;
    TRIBE_TRY(tribe_h5_read_str_rows(h, name, n, 0, n, &width, &buf));
    TRIBE_TRY(tribe_calloc((void **)s, (size_t)(n > 0 ? n : 1), sizeof **s));
    for (int i = 0; i < n; i++) {
        TRIBE_TRY(tribe_alloc((void **)&(*s)[i], (size_t)width + 1));
        memcpy((*s)[i], buf + (size_t)i * (size_t)width, (size_t)width);
        (*s)[i][width] = '\0';
    }
cleanup:
    free(buf);
    return st;
}

/* Not collective: the read arrays against each other. INPUT naming the
 * object at fault. */
static tribe_status check_items(const char *path, const tribe_items *it, int64_t sum)
{
    if (sum != it->nnz)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: " ITEMS "/count adds up to %lld items on these rows, not %lld",
                          path, (long long)sum, (long long)it->nnz);
    for (int64_t j = 0; j < it->nnz; j++)
        if (it->item[j] < 0 || it->item[j] >= it->n_items)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: " ITEMS "/item holds %d, outside the %d items of " ITEMS "/code",
                              path, (int)it->item[j], it->n_items);
    return TRIBE_OK;
}

tribe_status tribe_items_read(tribe_par *par, const char *path, const tribe_rows *rows, tribe_items *it, int *has)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char *kind = NULL;
    int64_t sum = 0, before = 0, total = 0, n_items = 0, cols = 0, nnz_all = 0;
    memset(it, 0, sizeof *it);
    *has = 0;
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open(par, path, &h)));
    if (!tribe_h5_exists(h, ITEMS "/count")) /* the same file on every rank */
        goto cleanup;
    *has = 1;
    TRIBE_TRY(tribe_h5_shape(h, ITEMS "/code", &n_items, &cols));
    TRIBE_TRY(tribe_h5_shape(h, ITEMS "/item", &nnz_all, &cols));
    if (n_items > INT32_MAX)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: " ITEMS "/code has %lld items (at most %d)", path,
                             (long long)n_items, INT32_MAX));
    it->n_items = (int)n_items;
    it->n_local = rows->n_local;
    TRIBE_TRY(tribe_h5_read_attr_str(h, ITEMS, "kind", &kind));
    it->kind = strcmp(kind, "categories") == 0 ? TRIBE_ITEMS_CATEGORIES : TRIBE_ITEMS_PRODUCTS;
    TRIBE_TRY(tribe_h5_read_rows(h, ITEMS "/count", TRIBE_H5_I64, rows->n_global, rows->offset, rows->n_local,
                                 &cols, (void **)&it->count));
    for (int64_t i = 0; i < rows->n_local; i++)
        sum += it->count[i] >= 0 ? it->count[i] : INT64_MIN / 2; /* a negative count fails the sum check */
    st = sum >= 0 ? TRIBE_OK
                  : tribe_fail(TRIBE_ERR_INPUT, "%s: " ITEMS "/count holds a negative count", path);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_exscan_i64(par, sum, &before, &total));
    if (total != nnz_all)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: " ITEMS "/count adds up to %lld, but " ITEMS "/item has %lld rows",
                             path, (long long)total, (long long)nnz_all));
    it->nnz = sum;
    TRIBE_TRY(tribe_h5_read_rows(h, ITEMS "/item", TRIBE_H5_I32, total, before, sum, &cols, (void **)&it->item));
    TRIBE_TRY(tribe_h5_read_rows(h, ITEMS "/spend", TRIBE_H5_F64, total, before, sum, &cols, (void **)&it->spend));
    TRIBE_TRY(tribe_par_agree(par, read_strs(h, ITEMS "/code", it->n_items, &it->code)));
    TRIBE_TRY(tribe_par_agree(par, read_strs(h, ITEMS "/name", it->n_items, &it->name)));
    TRIBE_TRY(tribe_par_agree(par, check_items(path, it, sum)));
cleanup:
    free(kind);
    st = tribe_h5_close_after(&h, st);
    if (st != TRIBE_OK)
        tribe_items_free(it);
    return st;
}
