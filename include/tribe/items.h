/* tribe/items.h: what each customer bought, kept by `tribe ingest` in
 * customers.h5 (/customers/items, docs/hdf5-layout.md) for the offers stage
 * (docs/offers.md): per customer the set of items (products, or categories
 * when the data has them) it bought, with its purchase spend on each.
 *
 * Usage:
 *     tribe_items it = {0};
 *     TRIBE_TRY(tribe_ingest_split_items(par, &cfg, &t, NULL, &led, &it)); // ingest fills it
 *     TRIBE_TRY(tribe_items_write(par, "customers.h5", t, &it));            // beside the table
 *     tribe_items_free(&it);
 *     ...
 *     int has = 0;
 *     TRIBE_TRY(tribe_items_read(par, "customers.h5", &rows, &it, &has));  // a run: this rank's rows
 *
 * Layout (CSR over the table's rows): count[i] items of row i, its items at
 * item[off_i .. off_i + count[i]) (off_i the sum of the counts before it),
 * ascending; spend[] beside them. Item codes index code[] and name[], the
 * same on every rank, sorted by code (strcmp).
 *
 * Ownership: a tribe_items owns its arrays; tribe_items_free frees them and
 * zeroes the struct (a zeroed struct is valid: no items).
 */
#ifndef TRIBE_ITEMS_H
#define TRIBE_ITEMS_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/table.h"

enum { TRIBE_ITEMS_PRODUCTS = 0, TRIBE_ITEMS_CATEGORIES = 1 };

typedef struct {
    int kind;           /* TRIBE_ITEMS_PRODUCTS or TRIBE_ITEMS_CATEGORIES */
    int n_items;        /* items over all customers (global) */
    char **code;        /* [n_items] the product code (or the category), sorted by strcmp */
    char **name;        /* [n_items] what a person reads: the product's description (the one on most
                         * rows; ties: the first by byte value), else the code */
    int64_t n_local;    /* rows (the table shard's customers) */
    int64_t *count;     /* [n_local] distinct items each row bought */
    int64_t nnz;        /* sum of count */
    int32_t *item;      /* [nnz] item codes, ascending within a row */
    double *spend;      /* [nnz] purchase spend on the item (before any cutoff; returns not netted) */
} tribe_items;

void tribe_items_free(tribe_items *it);

/* Collective. Adds /customers/items (count, item, spend, code, name; attr
 * kind) to the customers.h5 at path, rows at t->offset of t->n_global.
 * Nothing is written when it->n_items is 0. Errors: IO, NOMEM (agreed). */
tribe_status tribe_items_write(tribe_par *par, const char *path, const tribe_table *t, const tribe_items *it);

/* Collective. Reads rows [rows->offset, + rows->n_local) of /customers/items
 * of the customers.h5 at path into *it; *has = 0 (and *it empty) when the
 * file has no /customers/items (an older tribe's file, tribe import).
 * Errors: IO; INPUT naming the object when the layout is broken (a count
 * below zero, counts that do not add up to the item rows, an item code out
 * of range); agreed on all ranks. */
tribe_status tribe_items_read(tribe_par *par, const char *path, const tribe_rows *rows, tribe_items *it, int *has);

#endif
