/* tribe/offers.h: what each segment buys more than the base (docs/offers.md).
 *
 * For segment s and item i (a product, or a category: tribe/items.h):
 *     share      = customers of s who bought i / customers of s
 *     base_share = customers who bought i / all customers
 *     lift       = share / base_share
 * An item is offered to s when at least min_customers of s bought it, its
 * share is at least min_share and its lift at least min_lift; the `top`
 * best by lift (ties: more buyers in s, then the lower item code).
 *
 * Usage (serial kernels, then the distributed driver):
 *     tribe_offers_count(label, n, count, item, col, k, m, cnt, size);   // this rank's rows
 *     tribe_offers_rank(cnt, size, k, m, col_item, &cfg, out, n_out);    // on the summed counts
 *     tribe_offers_fit(par, label, &items, k, &cfg, &res);               // both, collective
 *     tribe_offers_free(&res);
 *
 * Counts are exact integers summed over ranks, so every figure is the same
 * on any number of ranks. Only per-item and k x m counts cross the network.
 * Ownership: a tribe_offers owns its arrays (tribe_offers_free).
 */
#ifndef TRIBE_OFFERS_H
#define TRIBE_OFFERS_H

#include "tribe/core.h"
#include "tribe/items.h"
#include "tribe/par.h"

#define TRIBE_OFFERS_TOP_MAX 10 /* = TRIBE_SEG_OFFERS */

typedef struct {
    int64_t min_customers; /* buyers in the segment (default 20) */
    double min_share;      /* share of the segment's customers (default 0.05) */
    double min_lift;       /* default 1.2: at least 20% more often than the base */
    int top;               /* offers per segment, 1..TRIBE_OFFERS_TOP_MAX (default 3) */
    int max_items;         /* items counted per segment: those with the most buyers (default 5000) */
} tribe_offers_cfg;

/* The defaults above. Not collective. */
void tribe_offers_cfg_default(tribe_offers_cfg *cfg);

typedef struct {
    int32_t item;          /* item code (tribe_items.code index) */
    int64_t customers;     /* the segment's buyers */
    double share, base_share, lift;
} tribe_offer;

typedef struct {
    int k, top;
    int64_t n_customers;   /* all customers */
    int64_t items_counted; /* items with >= min_customers buyers overall (at most max_items) */
    int64_t items_total;   /* items in the data */
    int *n_offers;         /* [k] */
    tribe_offer *offer;    /* [k][top], the first n_offers[s] of row s filled */
} tribe_offers;

/* Not collective, serial kernel. cnt[(k + 1) x m] and size[k + 1] are
 * added to (the caller zeroes them): row s < k counts the customers of
 * segment s who bought each counted item, row k all customers; col[item]
 * is the item's column in 0..m-1 or -1 (not counted). Rows whose label is
 * outside 0..k-1 count in row k only. The items of a row must be distinct
 * (tribe/items.h). */
void tribe_offers_count(const int32_t *label, int64_t n, const int64_t *count, const int32_t *item,
                        const int32_t *col, int k, int m, int64_t *cnt, int64_t *size);

/* Not collective, serial kernel. From the summed counts, each segment's
 * offers into out[k][cfg->top] (n_out[s] filled), item codes through
 * col_item[m]. */
void tribe_offers_rank(const int64_t *cnt, const int64_t *size, int k, int m, const int32_t *col_item,
                       const tribe_offers_cfg *cfg, tribe_offer *out, int *n_out);

/* Collective. The offers of the k segments of this rank's rows (label[n],
 * items of the same rows): one sum-reduction of the item totals, one of the
 * k x m counts; *out identical on every rank. exclude[n_items] (NULL: none;
 * the same on every rank) marks items never offered (postage, fees).
 * Errors: NOMEM, agreed. */
tribe_status tribe_offers_fit(tribe_par *par, const int32_t *label, const tribe_items *items, int k,
                              const tribe_offers_cfg *cfg, const uint8_t *exclude, tribe_offers *out);

void tribe_offers_free(tribe_offers *o);

#endif
