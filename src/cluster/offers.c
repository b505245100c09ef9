/* What each segment buys more than the base (tribe/offers.h, docs/offers.md). */
#include "tribe/offers.h"

#include <stdlib.h>
#include <string.h>

void tribe_offers_cfg_default(tribe_offers_cfg *cfg)
{
    cfg->min_customers = 20;
    cfg->min_share = 0.05;
    cfg->min_lift = 1.2;
    cfg->top = 3;
    cfg->max_items = 5000;
}

void tribe_offers_count(const int32_t *label, int64_t n, const int64_t *count, const int32_t *item,
                        const int32_t *col, int k, int m, int64_t *cnt, int64_t *size)
{
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        int s = label[i] >= 0 && label[i] < k ? label[i] : -1;
        size[k]++;
        if (s >= 0)
            size[s]++;
        for (int64_t q = 0; q < count[i]; q++, j++) {
            int32_t c = col[item[j]];
            if (c < 0)
                continue;
            cnt[(int64_t)k * m + c]++;
            if (s >= 0)
                cnt[(int64_t)s * m + c]++;
        }
    }
}

/* 1 when offer a ranks before b: higher lift, then more buyers, then the
 * lower item code. */
static int before(const tribe_offer *a, const tribe_offer *b)
{
    if (a->lift != b->lift)
        return a->lift > b->lift;
    if (a->customers != b->customers)
        return a->customers > b->customers;
    return a->item < b->item;
}

void tribe_offers_rank(const int64_t *cnt, const int64_t *size, int k, int m, const int32_t *col_item,
                       const tribe_offers_cfg *cfg, tribe_offer *out, int *n_out)
{
    const int64_t n_all = size[k];
    for (int s = 0; s < k; s++) {
        tribe_offer *row = out + (int64_t)s * cfg->top;
        int n = 0;
        n_out[s] = 0;
        if (size[s] <= 0 || n_all <= 0)
            continue;
        for (int c = 0; c < m; c++) {
            int64_t in = cnt[(int64_t)s * m + c], all = cnt[(int64_t)k * m + c];
            if (in < cfg->min_customers || all <= 0)
                continue;
            tribe_offer o = {col_item[c], in, (double)in / (double)size[s], (double)all / (double)n_all, 0};
            o.lift = o.share / o.base_share;
            if (o.share < cfg->min_share || o.lift < cfg->min_lift)
                continue;
            /* insertion into the sorted top list */
            int p = n < cfg->top ? n : cfg->top - 1;
            if (n == cfg->top && !before(&o, &row[p]))
                continue;
            while (p > 0 && before(&o, &row[p - 1])) {
                row[p] = row[p - 1];
                p--;
            }
            row[p] = o;
            if (n < cfg->top)
                n++;
        }
        n_out[s] = n;
    }
}

void tribe_offers_free(tribe_offers *o)
{
    if (!o)
        return;
    free(o->n_offers);
    free(o->offer);
    memset(o, 0, sizeof *o);
}

/* More buyers first, then the lower code (qsort_r over item codes, ctx the totals). */
static int cmp_buyers(const void *a, const void *b, void *ctx)
{
    const int64_t *tot = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (tot[x] != tot[y])
        return tot[x] < tot[y] ? 1 : -1;
    return (x > y) - (x < y);
}

/* Not collective. The counted items: those not excluded with >= min_customers buyers,
 * at most max_items of them (the most bought; ties: the lower code), as
 * col[n_items] (-1: not counted) and col_item[*m]. Errors: NOMEM. */
static tribe_status pick_items(const int64_t *tot, int n_items, const tribe_offers_cfg *cfg, const uint8_t *exclude,
                               int32_t *col, int32_t **col_item, int *m)
{
    tribe_status st = TRIBE_OK;
    int32_t *keep = NULL;
    int n = 0;
    TRIBE_TRY(tribe_alloc((void **)&keep, (size_t)(n_items > 0 ? n_items : 1) * sizeof *keep));
    for (int i = 0; i < n_items; i++)
        if (tot[i] >= cfg->min_customers && tot[i] > 0 && !(exclude && exclude[i]))
            keep[n++] = i;
    if (n > cfg->max_items) {
        qsort_r(keep, (size_t)n, sizeof *keep, cmp_buyers, (void *)tot);
        n = cfg->max_items;
    }
    for (int i = 0; i < n_items; i++)
        col[i] = -1;
    for (int c = 0; c < n; c++)
        col[keep[c]] = c;
    n = 0; /* columns in item order */
    for (int i = 0; i < n_items; i++)
        if (col[i] >= 0) {
            col[i] = n;
            keep[n++] = i;
        }
    *col_item = keep;
    keep = NULL;
    *m = n;
cleanup:
    free(keep);
    return st;
}

tribe_status tribe_offers_fit(tribe_par *par, const int32_t *label, const tribe_items *items, int k,
                              const tribe_offers_cfg *cfg, const uint8_t *exclude, tribe_offers *out)
{
    tribe_status st = TRIBE_OK;
    int64_t *tot = NULL, *buf = NULL;
    int32_t *col = NULL, *col_item = NULL;
    int m = 0;
    const int ni = items->n_items;
    memset(out, 0, sizeof *out);
    out->k = k;
    out->top = cfg->top;
    out->items_total = ni;
    st = tribe_calloc((void **)&tot, (size_t)(ni > 0 ? ni : 1), sizeof *tot);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&col, (size_t)(ni > 0 ? ni : 1) * sizeof *col);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&out->n_offers, (size_t)(k > 0 ? k : 1), sizeof *out->n_offers);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&out->offer, (size_t)(k > 0 ? k : 1) * (size_t)cfg->top, sizeof *out->offer);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t j = 0; j < items->nnz; j++) /* a customer's items are distinct: buyers */
        tot[items->item[j]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, tot, ni));
    TRIBE_TRY(tribe_par_agree(par, pick_items(tot, ni, cfg, exclude, col, &col_item, &m)));
    out->items_counted = m;
    /* one buffer, one reduction: size[k + 1], then cnt[k + 1][m] */
    const int64_t len = (int64_t)(k + 1) * (m + 1);
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&buf, (size_t)len, sizeof *buf)));
    tribe_offers_count(label, items->n_local, items->count, items->item, col, k, m, buf + k + 1, buf);
    TRIBE_TRY(tribe_par_sum_i64(par, buf, len));
    out->n_customers = buf[k];
    tribe_offers_rank(buf + k + 1, buf, k, m, col_item, cfg, out->offer, out->n_offers);
cleanup:
    free(tot);
    free(buf);
    free(col);
    free(col_item);
    if (st != TRIBE_OK)
        tribe_offers_free(out);
    return st;
}
