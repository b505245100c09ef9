/* tribe_ingest: raw sources -> per-customer features (tribe/ingest.h,
 * docs/ingest.md).
 *
 * Phases (every rank runs every collective step, errors agreed before each):
 *  1. parse: each rank reads its share of each source, classifies each row
 *     under exactly one ledger rule and aggregates kept rows per customer in
 *     hash maps: scalar sums plus the (customer, key) sets needed for exact
 *     distinct counts (invoices, products, invoice days) and (customer,
 *     category) counts for the most frequent country/device.
 *  2. rejects file, ledger sums, categorical level unions, snapshot.
 *  3. shuffle: sample-sort splitters over customer ids; every partial
 *     aggregate and set element travels to the owner of its id; owners merge
 *     (set union, exact sums, min/max).
 *  4. features per owned customer, sorted by id; levels compacted to those in
 *     use. All sums are integer or fixed-point, so the result does not depend
 *     on the number of ranks.
 */
#include "ingest_internal.h"
#include "tribe/csv.h"
#include "tribe/id.h"
#include "tribe/ingest.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { SRC_TX = 0, SRC_WEB = 1, SRC_DEMO = 2 };

/* |Quantity x UnitPrice| and MinutesOnSite above this are malformed: keeps
 * exact fixed-point sums far from their range (2^94) on any realistic data. */
#define AMOUNT_MAX 1e15
/* Category spend is summed in integers of 1/CAT_UNIT of the currency: exact
 * (rank-count independent) for amounts in cents, and far from int64's range. */
#define CAT_UNIT 1000.0
/* Categories with the most spend over all customers that get a share feature. */
#define CAT_TOP 5
#define PAGES_MAX 1000000000LL
#define AGE_MAX 150

/* ---- per-customer aggregates ----------------------------------------------- */

/* Spend by calendar quarter (Q1..Q4) and on Saturdays and Sundays: the
 * seasonality features spend_q1..spend_q4 and weekend_share. */
enum { TX_Q1 = 0, TX_WEEKEND = 4, TX_SEASONS = 5 };

/* Purchases (kept rows that are not returns) give first/last, the distinct
 * sets and `money`; returns (tx_is_return) only n_ret and ret. Both are
 * those dated on or before the cutoff; after it only `future` moves. */
typedef struct {
    int64_t id, first, last, n_inv, n_prod, n_day;
    int64_t n_item;         /* distinct items (tx_agg.item); with products as the items, the products
                             * counted here are not in n_prod (see items_are_products) */
    int64_t n_ret;          /* return rows */
    tribe_xsum money;       /* gross spend: sum of purchase rows' Quantity x UnitPrice */
    tribe_xsum ret;         /* money returned: sum of return rows' |Quantity x UnitPrice| */
    tribe_xsum future;      /* net spend in (cutoff, cutoff + horizon] (with a cutoff) */
    tribe_xsum first_money; /* purchases on day `first` (BG/NBD: the first purchase) */
    tribe_xsum season[TX_SEASONS]; /* purchases by calendar quarter (0: Jan-Mar), then on weekends */
    tribe_xsum chan[TRIBE_MAP_CHANNELS]; /* purchases through each named channel of the mapping */
} tx_cust;

typedef struct {
    ing_map cust;  /* (id, 0) -> index into c */
    tx_cust *c;
    int64_t n, cap;
    ing_set inv, prod, day; /* (index, key); prod only for rows whose product is no item */
    ing_map ctry;           /* (index, country code) -> rows */
    ing_map cat;            /* (index, category code) -> purchases in micro-units (CAT_UNIT) */
    ing_map item;           /* (index, item code) -> purchases in CAT_UNIT (the offers' items, tribe/items.h) */
} tx_agg;

typedef struct {
    int64_t id, sessions, pages, pad;
    tribe_xsum minutes;
} web_cust;

typedef struct {
    ing_map cust; /* (id, 0) -> index into w */
    web_cust *w;
    int64_t n, cap;
    ing_map dev;  /* (index, device code) -> sessions */
} web_agg;

/* Shuffle records: each starts with the customer id (ing_shuffle). */
typedef struct {
    int64_t id, first, last, src; /* src: the sending rank */
    tribe_xsum money;
    int64_t n_inv, n_prod, n_day; /* the sender's distinct counts */
    int64_t n_ret;
    tribe_xsum future, first_money, ret;
    tribe_xsum season[TX_SEASONS];
    tribe_xsum chan[TRIBE_MAP_CHANNELS];
} tx_rec;
typedef struct {
    int64_t id;
    uint64_t key;
} key_rec;
typedef struct {
    int64_t id, code, count;
} cnt_rec;
typedef struct {
    int64_t id, line, age, ctry, occ, sub; /* -1 = missing */
    double income, debt, score;            /* the financial roles (NaN = missing) */
} demo_rec;

static tribe_status tx_agg_init(tx_agg *a)
{
    tribe_status st = TRIBE_OK;
    memset(a, 0, sizeof *a);
    TRIBE_TRY(ing_map_init(&a->cust, 1024));
    TRIBE_TRY(ing_set_init(&a->inv, 1024));
    TRIBE_TRY(ing_set_init(&a->prod, 1024));
    TRIBE_TRY(ing_set_init(&a->day, 1024));
    TRIBE_TRY(ing_map_init(&a->ctry, 1024));
    TRIBE_TRY(ing_map_init(&a->cat, 1024));
    TRIBE_TRY(ing_map_init(&a->item, 1024));
cleanup:
    return st;
}

static void tx_agg_free(tx_agg *a)
{
    ing_map_free(&a->cust);
    ing_set_free(&a->inv);
    ing_set_free(&a->prod);
    ing_set_free(&a->day);
    ing_map_free(&a->ctry);
    ing_map_free(&a->cat);
    ing_map_free(&a->item);
    free(a->c);
    memset(a, 0, sizeof *a);
}

/* Dense index of customer `id` in a per-customer array (*arr holds *n of
 * *cap elements of `size` bytes, indexed through map). A new id gets a zeroed
 * element at the end and *is_new = 1, so the caller can set its fields. */
static tribe_status cust_slot(ing_map *map, void **arr, size_t size, int64_t *n, int64_t *cap, int64_t id,
                              int64_t *idx, int *is_new)
{
    tribe_status st = TRIBE_OK;
    int64_t *v = NULL;
    TRIBE_TRY(ing_map_upsert(map, (uint64_t)id, 0, &v, is_new));
    if (*is_new) {
        if (*n == *cap) {
            int64_t ncap = *cap ? 2 * *cap : 1024;
            st = tribe_realloc(arr, (size_t)ncap * size);
            if (st != TRIBE_OK) {
                *v = -1; /* poisoned; the whole ingest fails anyway */
                goto cleanup;
            }
            *cap = ncap;
        }
        memset((char *)*arr + (size_t)*n * size, 0, size);
        *v = (*n)++;
    }
    *idx = *v;
cleanup:
    return st;
}

static tribe_status tx_agg_cust(tx_agg *a, int64_t id, int64_t *idx)
{
    int is_new = 0;
    tribe_status st = cust_slot(&a->cust, (void **)&a->c, sizeof *a->c, &a->n, &a->cap, id, idx, &is_new);
    if (st == TRIBE_OK && is_new) {
        tx_cust *c = &a->c[*idx];
        c->id = id;
        c->first = INT64_MAX;
        c->last = INT64_MIN;
    }
    return st;
}

/* Local distinct count of one of the three sets of a customer. */
static int64_t *set_count(tx_cust *c, int which)
{
    return which == 0 ? &c->n_inv : which == 1 ? &c->n_prod : &c->n_day;
}

/* Adds key to a (customer, key) set; bumps *count when it is new. */
static tribe_status set_add(ing_set *m, int64_t idx, uint64_t key, int64_t *count)
{
    int is_new = 0;
    tribe_status st = ing_set_add(m, (uint64_t)idx, key, &is_new);
    if (st == TRIBE_OK && is_new)
        (*count)++;
    return st;
}

static tribe_status count_add(ing_map *m, int64_t idx, int64_t code, int64_t n)
{
    int64_t *v = NULL;
    int is_new = 0;
    tribe_status st = ing_map_upsert(m, (uint64_t)idx, (uint64_t)code, &v, &is_new);
    if (st == TRIBE_OK)
        *v += n;
    return st;
}

static tribe_status web_agg_init(web_agg *a)
{
    tribe_status st = TRIBE_OK;
    memset(a, 0, sizeof *a);
    TRIBE_TRY(ing_map_init(&a->cust, 1024));
    TRIBE_TRY(ing_map_init(&a->dev, 1024));
cleanup:
    return st;
}

static void web_agg_free(web_agg *a)
{
    ing_map_free(&a->cust);
    ing_map_free(&a->dev);
    free(a->w);
    memset(a, 0, sizeof *a);
}

static tribe_status web_agg_cust(web_agg *a, int64_t id, int64_t *idx)
{
    int is_new = 0;
    tribe_status st = cust_slot(&a->cust, (void **)&a->w, sizeof *a->w, &a->n, &a->cap, id, idx, &is_new);
    if (st == TRIBE_OK && is_new)
        a->w[*idx].id = id;
    return st;
}

/* ---- the whole run's state --------------------------------------------------- */

typedef struct {
    tribe_ledger led;   /* this rank's counts until summed */
    ing_rejects rej;
    ing_dict country, device, occupation, subscription, category;
    /* the offers' items (tribe/items.h): products or categories, and the
     * "code\x1fdescription" pairs with their rows (desc_rows[pair id]);
     * item_desc[item id]: the pair of the item's last row (-1: none), which
     * the next row of the item most often repeats */
    ing_dict item, itemdesc;
    int64_t *desc_rows, *item_desc;
    int64_t desc_cap, item_cap;
    tx_agg tx;          /* local partials, then (after the shuffle) owned customers */
    web_agg web;        /* local partials */
    demo_rec *demo;
    int64_t n_demo, cap_demo;
    int rejects_all;
    int string_ids;     /* cfg->string_ids: ids are texts, noted in `ids` */
    ing_ids ids;
    const tribe_mapping *map; /* which column is which (never NULL) */
    int64_t day_lo, day_hi;   /* plausible dates: [1900-01-01, the run's day + 1] */
    ing_currency cur;         /* the currencies the amounts name */
    int src;            /* source index (all sources' files) of the file being read */
    int cust_src;       /* the rejects' source index of the customers left out (net spend <= 0) */
    int64_t file_key;   /* (index of the file within its source) << 40: orders demographics rows */
    /* Temporal split: kept rows dated after `cutoff` (INT64_MAX = none) feed
     * only the target (when <= horizon_end); day_min/day_max span every kept
     * row, before or after the cutoff. */
    int64_t cutoff, horizon_end, day_min, day_max;
    /* Rows of one invoice come together, so most rows repeat the previous
     * row's customer, invoice, day and country: remembering them skips most
     * hash look-ups. Country votes are counted up and added when the
     * (customer, country) pair changes (flush_votes). */
    struct {
        int64_t id, idx; /* idx -1: nothing remembered */
        uint64_t inv;
        int64_t day;
        char ctry[64]; /* the last country (transactions) or device (web) */
        size_t nctry;
        char date[32]; /* the last parsed InvoiceDate text (ndate 0: none) */
        size_t ndate;
        int64_t date_day;
        int64_t code;
        int64_t vote_idx, vote_code, votes;
        ing_map *vote_map; /* tx.ctry or web.dev, by source */
    } last;
    /* (customer index, key) pairs waiting to enter tx.inv, tx.prod, tx.day:
     * added in batches (ing_set_add_many), the counts bumped then. */
    struct {
        ing_pair p[4 * ING_SET_BATCH];
        unsigned char is_new[4 * ING_SET_BATCH];
        size_t n;
    } pend[3];
    /* (customer index, item) purchases waiting to enter tx.item, the same way */
    struct {
        ing_pair p[4 * ING_SET_BATCH];
        int64_t v[4 * ING_SET_BATCH];
        unsigned char is_new[4 * ING_SET_BATCH];
        size_t n;
    } pend_item;
} state;

static tribe_status flush_items(state *S)
{
    size_t n = S->pend_item.n;
    S->pend_item.n = 0;
    tribe_status st = ing_map_add_many(&S->tx.item, S->pend_item.p, S->pend_item.v, n, S->pend_item.is_new);
    for (size_t k = 0; k < n && st == TRIBE_OK; k++)
        S->tx.c[S->pend_item.p[k].a].n_item += S->pend_item.is_new[k];
    return st;
}

/* Queues a purchase of `units` on item `code` by customer `idx` for tx.item. */
static tribe_status add_item(state *S, int64_t idx, int64_t code, int64_t units)
{
    size_t n = S->pend_item.n;
    S->pend_item.p[n].a = (uint64_t)idx;
    S->pend_item.p[n].b = (uint64_t)code;
    S->pend_item.v[n] = units;
    S->pend_item.n = n + 1;
    return n + 1 == sizeof S->pend_item.p / sizeof S->pend_item.p[0] ? flush_items(S) : TRIBE_OK;
}

static tribe_status flush_keys(state *S, int which)
{
    ing_set *m = which == 0 ? &S->tx.inv : which == 1 ? &S->tx.prod : &S->tx.day;
    size_t n = S->pend[which].n;
    S->pend[which].n = 0;
    tribe_status st = ing_set_add_many(m, S->pend[which].p, n, S->pend[which].is_new);
    for (size_t k = 0; k < n && st == TRIBE_OK; k++)
        *set_count(&S->tx.c[S->pend[which].p[k].a], which) += S->pend[which].is_new[k];
    return st;
}

/* Queues (customer index, key) for set `which` (0 invoices, 1 products, 2 days). */
static tribe_status add_key(state *S, int which, int64_t idx, uint64_t key)
{
    size_t n = S->pend[which].n;
    S->pend[which].p[n].a = (uint64_t)idx;
    S->pend[which].p[n].b = key;
    S->pend[which].n = n + 1;
    return n + 1 == sizeof S->pend[which].p / sizeof S->pend[which].p[0] ? flush_keys(S, which) : TRIBE_OK;
}

static tribe_status flush_votes(state *S)
{
    tribe_status st = TRIBE_OK;
    if (S->last.votes > 0)
        st = count_add(S->last.vote_map, S->last.vote_idx, S->last.vote_code, S->last.votes);
    S->last.votes = 0;
    return st;
}

/* One vote of customer idx for a level of dict (a country, a device). Rows
 * of one customer usually repeat the same text: the last text's code is
 * remembered, and equal consecutive votes are counted in one go. */
static tribe_status vote_level(state *S, ing_dict *dict, const char *txt, size_t n, int64_t idx)
{
    tribe_status st = TRIBE_OK;
    if (n != S->last.nctry || memcmp(txt, S->last.ctry, n) != 0) {
        S->last.nctry = 0;
        TRIBE_TRY(ing_dict_id(dict, txt, n, &S->last.code));
        if (n <= sizeof S->last.ctry) {
            memcpy(S->last.ctry, txt, n);
            S->last.nctry = n;
        }
    }
    if (S->last.votes > 0 && (S->last.vote_idx != idx || S->last.vote_code != S->last.code))
        TRIBE_TRY(flush_votes(S));
    S->last.vote_idx = idx;
    S->last.vote_code = S->last.code;
    S->last.votes++;
cleanup:
    return st;
}

static tribe_status state_init(state *S)
{
    tribe_status st = TRIBE_OK;
    memset(S, 0, sizeof *S);
    S->cutoff = S->horizon_end = S->day_min = INT64_MAX;
    S->day_max = INT64_MIN;
    TRIBE_TRY(ing_dict_init(&S->country));
    TRIBE_TRY(ing_dict_init(&S->device));
    TRIBE_TRY(ing_dict_init(&S->occupation));
    TRIBE_TRY(ing_dict_init(&S->subscription));
    TRIBE_TRY(ing_dict_init(&S->category));
    TRIBE_TRY(ing_dict_init(&S->item));
    TRIBE_TRY(ing_dict_init(&S->itemdesc));
    TRIBE_TRY(tx_agg_init(&S->tx));
    TRIBE_TRY(web_agg_init(&S->web));
    TRIBE_TRY(ing_ids_init(&S->ids));
cleanup:
    return st;
}

static void state_free(state *S)
{
    ing_rejects_free(&S->rej);
    ing_dict_free(&S->country);
    ing_dict_free(&S->device);
    ing_dict_free(&S->occupation);
    ing_dict_free(&S->subscription);
    ing_dict_free(&S->category);
    ing_dict_free(&S->item);
    ing_dict_free(&S->itemdesc);
    free(S->desc_rows);
    free(S->item_desc);
    tx_agg_free(&S->tx);
    web_agg_free(&S->web);
    ing_ids_free(&S->ids);
    free(S->demo);
}

/* ---- row parsing ----------------------------------------------------------------- */

/* A field, trimmed of surrounding blanks. */
static const char *cell(const tribe_csv *c, int col, size_t *n)
{
    const char *s = tribe_csv_field(c, col, n);
    ing_trim(&s, n);
    return s;
}

/* "<Column> '<value>' is not <what>", the value cut to 40 bytes. */
static void why_bad(char *buf, size_t cap, const char *col, const char *v, size_t n, const char *what)
{
    snprintf(buf, cap, "%s '%.*s'%s %s", col, (int)(n > 40 ? 40 : n), v, n > 40 ? "..." : "", what);
}

static tribe_status reject(state *S, const tribe_csv *c, const char *why)
{
    size_t rawlen = 0;
    const char *raw = tribe_csv_raw(c, &rawlen);
    return ing_rejects_add(&S->rej, S->src, tribe_csv_line(c), why, raw, rawlen);
}

/* Record-level problems shared by all sources: a quoting error or a wrong
 * number of fields. Returns 1 (and fills why) when the record is malformed. */
static int bad_record(const tribe_csv *c, char *why, size_t cap)
{
    const char *err = tribe_csv_error(c);
    if (err) {
        snprintf(why, cap, "%s", err);
        return 1;
    }
    if (tribe_csv_nfields(c) != tribe_csv_ncolumns(c)) {
        snprintf(why, cap, "expected %d fields, found %d", tribe_csv_ncolumns(c), tribe_csv_nfields(c));
        return 1;
    }
    return 0;
}

/* A customer id cell (tribe_id_parse): *has 1 = parsed, 0 = empty, -1 =
 * malformed (why filled, naming the file's column): not an id, or longer
 * than the mapping's customer_id.max_length. A string id's text is noted in
 * S->ids. Errors: INPUT when another text has the same key (naming both and
 * the row), NOMEM. */
static tribe_status parse_id(state *S, const tribe_csv *c, int col, int64_t *id, int *has, char *why, size_t cap)
{
    size_t n;
    const char *s = cell(c, col, &n), *name = tribe_csv_column_name(c, col);
    name = name ? name : "CustomerID";
    *has = tribe_id_parse(s, n, S->string_ids, id, why, cap);
    if (*has > 0 && S->map->id_max_length < TRIBE_ID_MAX && n > (size_t)S->map->id_max_length) {
        char what[64];
        snprintf(what, sizeof what, "is longer than customer_id.max_length = %d bytes", S->map->id_max_length);
        why_bad(why, cap, name, s, n, what);
        *has = -1;
    } else if (*has < 0) {
        ing_id_why_rename(why, cap, name);
    }
    if (*has <= 0 || !S->string_ids)
        return TRIBE_OK;
    return ing_ids_note(&S->ids, *id, s, n, S->rej.src_names ? S->rej.src_names[S->src] : NULL,
                        tribe_csv_line(c));
}

/* The cell of a mapped role, or the mapping's constant ("" when neither). */
static const char *role_cell(const tribe_map_source *m, const tribe_csv *c, const int *col, int role, size_t *n)
{
    if (col[role] >= 0)
        return cell(c, col[role], n);
    const char *k = m->constant[role] ? m->constant[role] : "";
    *n = strlen(k);
    return k;
}

/* The header name of a role, for messages. */
static const char *role_label(const tribe_map_source *m, int src, int role)
{
    return m->column[role] ? m->column[role] : tribe_mapping_role_name(src, role);
}

/* A unit price or amount cell: a plain decimal, or money as written
 * (tribe/mapping.h), whose currency is noted unless it is the mapping's.
 * Returns 1 when parsed. */
static int money_cell(state *S, const tribe_csv *c, const char *p, size_t np, double *v)
{
    const tribe_map_source *m = &S->map->src[SRC_TX];
    char code[4], sym[8];
    if (m->decimal == '.' && ing_parse_double(p, np, v))
        return 1;
    if (!tribe_money_parse(p, np, m->decimal, v, code, sym))
        return 0;
    if (code[0] && !(m->currency[0] && (strcmp(code, m->currency) == 0 ||
                                        (sym[0] && tribe_money_symbol_fits(sym, m->currency)))))
        ing_currency_note(&S->cur, code, sym, S->src, tribe_csv_line(c));
    return 1;
}

/* "is not a date", naming the mapping's format when it is not auto. */
static void date_what(int fmt, char *buf, size_t cap)
{
    if (fmt == TRIBE_DATE_AUTO)
        snprintf(buf, cap, "is not a date");
    else
        snprintf(buf, cap, "is not a date in the format %s", tribe_date_format_name(fmt));
}

/* "<Column> '<value>' is dated before 1900-01-01 or after <day_hi>". */
static void why_date_range(const state *S, char *buf, size_t cap, const char *col, const char *v, size_t n)
{
    char hi[11];
    tribe_format_day(S->day_hi, hi);
    char what[64];
    snprintf(what, sizeof what, "is outside 1900-01-01 .. %s", hi);
    why_bad(buf, cap, col, v, n, what);
}

/* What tx_is_return finds a row to be. */
enum { TX_PURCHASE = 0, TX_RET_CANCEL, TX_RET_NEGATIVE };

/* Whether a row is a return (docs/ingest.md, "Returns"): its order id starts
 * with the mapping's cancel prefix ('C' in Online Retail: C536379) or its
 * return flag cell is one of the mapping's return_values (TX_RET_CANCEL), or
 * its Quantity is negative (TX_RET_NEGATIVE; by amount: the amount is);
 * else TX_PURCHASE. The one place that says what a return is. */
static int tx_is_return(const tribe_map_source *m, const char *inv, size_t ninv, const char *rf, size_t nrf,
                        int64_t qty)
{
    size_t np = strlen(m->cancel_prefix);
    if (np > 0 && ninv >= np && memcmp(inv, m->cancel_prefix, np) == 0)
        return TX_RET_CANCEL;
    for (int i = 0; nrf > 0 && i < m->n_return_values; i++)
        if (strlen(m->return_values[i]) == nrf && strncasecmp(m->return_values[i], rf, nrf) == 0)
            return TX_RET_CANCEL;
    return qty < 0 ? TX_RET_NEGATIVE : TX_PURCHASE;
}

/* The dense index of customer id in S->tx, through the remembered last
 * customer (rows of one customer come together). */
static tribe_status tx_slot(state *S, int64_t id, int64_t *idx)
{
    tribe_status st = TRIBE_OK;
    if (S->last.idx >= 0 && S->last.id == id) {
        *idx = S->last.idx;
        return TRIBE_OK;
    }
    S->last.idx = -1;
    TRIBE_TRY(tx_agg_cust(&S->tx, id, idx));
    S->last.id = id;
    S->last.idx = *idx;
    S->last.inv = UINT64_MAX;
    S->last.day = INT64_MIN;
cleanup:
    return st;
}

/* A return row of customer cu: its money (|Quantity x UnitPrice|) is
 * taken off the customer's spend (on or before the cutoff) or off the
 * target window's spend (after it); it counts for nothing else (no invoice,
 * product, day or country). */
static void tx_return(state *S, tx_cust *cu, int64_t day, double amount)
{
    tribe_xsum v = tribe_xsum_of(fabs(amount));
    if (day > S->cutoff) {
        S->led.rows_after_cutoff++;
        if (day <= S->horizon_end)
            cu->future -= v;
        return;
    }
    cu->ret += v;
    cu->n_ret++;
}

/* Adds a purchase to its calendar quarter and, on a Saturday or Sunday, to
 * the weekend (day numbers count from Thursday 1970-01-01). */
static void tx_season(tx_cust *cu, int64_t day, double amount)
{
    int64_t year;
    int month, mday;
    tribe_civil_from_days(day, &year, &month, &mday);
    int weekday = (int)(((day + 4) % 7 + 7) % 7); /* 0 = Sunday .. 6 = Saturday */
    tribe_xsum v = tribe_xsum_of(amount);
    cu->season[TX_Q1 + (month - 1) / 3] += v;
    if (weekday == 0 || weekday == 6)
        cu->season[TX_WEEKEND] += v;
}

/* Adds a purchase to the mapping's named channel whose values hold its
 * channel cell (none when no value matches). */
static void tx_channel(const tribe_map_source *m, const tribe_csv *c, const int *col, tx_cust *cu, double amount)
{
    size_t n = 0;
    const char *v = role_cell(m, c, col, TRIBE_TX_CHANNEL, &n);
    for (int k = 0; k < m->n_channels; k++)
        for (int i = 0; i < m->n_channel_values[k]; i++)
            if (strlen(m->channel_values[k][i]) == n && memcmp(m->channel_values[k][i], v, n) == 0) {
                cu->chan[k] += tribe_xsum_of(amount);
                return;
            }
}

/* The row's category: its category cell, else its product's category from
 * categories_file; *n = 0 for none. */
static const char *row_category(const tribe_map_source *m, const tribe_csv *c, const int *col, size_t *n)
{
    const char *v = role_cell(m, c, col, TRIBE_TX_CATEGORY, n);
    if (*n == 0 && m->n_prodcat > 0) { /* the product's category from categories_file */
        size_t np = 0;
        const char *p = role_cell(m, c, col, TRIBE_TX_PRODUCT, &np);
        v = tribe_mapping_product_category(m, p, np);
        *n = v ? strlen(v) : 0;
    }
    return v;
}

static int has_categories(const tribe_map_source *m)
{
    return m->column[TRIBE_TX_CATEGORY] || m->constant[TRIBE_TX_CATEGORY] || m->n_prodcat > 0;
}

/* Without categories the items are the products, and the (customer, item)
 * pairs of tx.item are also the distinct products: a row with a product cell
 * counts its product there (n_item) instead of in tx.prod, which then holds
 * only the rows without one (no product column: one empty product each).
 * One pair table less, and one hash look-up less per row. A product is then
 * its text up to any NUL byte, as every level is (ing_dict_id). */
static int items_are_products(const tribe_map_source *m) { return !has_categories(m); }

/* Adds a purchase to the customer's spend in its category (an empty
 * category cell counts for none), in CAT_UNIT units. */
static tribe_status tx_category(state *S, const tribe_map_source *m, const tribe_csv *c, const int *col, int64_t idx,
                                double amount)
{
    size_t n = 0;
    int64_t code = 0;
    const char *v = row_category(m, c, col, &n);
    if (n == 0)
        return TRIBE_OK;
    tribe_status st = ing_dict_id(&S->category, v, n, &code);
    return st == TRIBE_OK ? count_add(&S->tx.cat, idx, code, llround(amount * CAT_UNIT)) : st;
}

/* Adds a purchase to the customer's spend on its item (tribe/items.h): its
 * category when the mapping has categories, else its product (an empty cell
 * counts for none); a product's description cell votes for its name. */
static tribe_status tx_item(state *S, const tribe_map_source *m, const tribe_csv *c, const int *col, int64_t idx,
                            double amount)
{
    tribe_status st = TRIBE_OK;
    size_t n = 0, nd = 0;
    int64_t code = 0;
    char pair[2 * 256 + 1];
    const char *v = has_categories(m) ? row_category(m, c, col, &n) : role_cell(m, c, col, TRIBE_TX_PRODUCT, &n);
    if (n == 0)
        return TRIBE_OK;
    TRIBE_TRY(ing_dict_id(&S->item, v, n, &code));
    TRIBE_TRY(add_item(S, idx, code, llround(amount * CAT_UNIT)));
    const char *d = has_categories(m) ? NULL : role_cell(m, c, col, TRIBE_TX_PRODUCT_NAME, &nd);
    if (nd == 0 || n > 255)
        return TRIBE_OK;
    nd = nd > 255 ? 255 : nd;
    if (code >= S->item_cap) { /* item ids are dense: grow by doubling */
        int64_t cap = S->item_cap ? 2 * S->item_cap : 1024;
        TRIBE_TRY(tribe_realloc((void **)&S->item_desc, (size_t)cap * sizeof *S->item_desc));
        for (int64_t i = S->item_cap; i < cap; i++)
            S->item_desc[i] = -1;
        S->item_cap = cap;
    }
    int64_t last = S->item_desc[code], pid = -1;
    /* the item's last (code, description) pair, compared within its own length (a code or
     * description with a NUL byte is stored shorter than n + 1 + nd) */
    const char *lp = last >= 0 ? ing_dict_str(&S->itemdesc, last) : NULL;
    size_t lpn = lp ? strlen(lp) : 0;
    if (lp && lpn == n + 1 + nd && memcmp(lp, v, n) == 0 && lp[n] == '\x1f' && memcmp(lp + n + 1, d, nd) == 0) {
        pid = last;
    } else {
        memcpy(pair, v, n);
        pair[n] = '\x1f';
        memcpy(pair + n + 1, d, nd);
        TRIBE_TRY(ing_dict_id(&S->itemdesc, pair, n + 1 + nd, &pid));
        S->item_desc[code] = pid;
    }
    if (pid >= S->desc_cap) {
        int64_t cap = S->desc_cap ? 2 * S->desc_cap : 1024;
        TRIBE_TRY(tribe_realloc((void **)&S->desc_rows, (size_t)cap * sizeof *S->desc_rows));
        memset(S->desc_rows + S->desc_cap, 0, (size_t)(cap - S->desc_cap) * sizeof *S->desc_rows);
        S->desc_cap = cap;
    }
    S->desc_rows[pid]++;
cleanup:
    return st;
}

/* The day of a date cell in the mapping's format; rows of one invoice repeat
 * its date text, so the last one parsed is remembered. Returns 0 when the
 * cell is not a date. */
static int tx_date(state *S, const tribe_map_source *m, const char *d, size_t nd, int64_t *day)
{
    if (nd > 0 && nd == S->last.ndate && memcmp(d, S->last.date, nd) == 0) {
        *day = S->last.date_day;
        return 1;
    }
    if (!tribe_day_parse_as(d, nd, m->date_format, day))
        return 0;
    S->last.ndate = 0;
    if (nd <= sizeof S->last.date) {
        memcpy(S->last.date, d, nd);
        S->last.ndate = nd;
        S->last.date_day = *day;
    }
    return 1;
}

/* A currency column's cell: three capital letters, noted for the
 * one-currency check. Returns 0 when it is not such a code. */
static int tx_currency(state *S, const tribe_csv *c, const char *cur, size_t ncur)
{
    char code[4] = "";
    if (ncur != 3)
        return 0;
    memcpy(code, cur, 3);
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return 0;
    ing_currency_note(&S->cur, code, "", S->src, tribe_csv_line(c));
    return 1;
}

/* One transaction record's cells and values, as tx_row reads them. */
typedef struct {
    const char *inv, *stock, *d, *rf;
    size_t ninv, nstock, nd, nrf;
    int64_t qty, day, id;
    double price, amount; /* amount: the line's money, signed as its quantity */
    int has_id;           /* as parse_id */
} tx_fields;

/* Parses record c into *r. Returns 1 when it is malformed (why filled,
 * naming the file's column), else 0 (*st is set: INPUT or NOMEM from
 * parse_id, which also ends the row). */
static int tx_parse(state *S, const tribe_csv *c, const int *col, tx_fields *r, char *why, size_t cap,
                    tribe_status *st)
{
    size_t nq, np, ncur;
    const tribe_map_source *m = &S->map->src[SRC_TX];
    const int by_amount = col[TRIBE_TX_AMOUNT] >= 0;
    *st = TRIBE_OK;
    if (bad_record(c, why, cap))
        return 1;
    r->inv = role_cell(m, c, col, TRIBE_TX_ORDER_ID, &r->ninv);
    r->stock = role_cell(m, c, col, TRIBE_TX_PRODUCT, &r->nstock);
    const char *q = role_cell(m, c, col, TRIBE_TX_QUANTITY, &nq);
    r->d = cell(c, col[TRIBE_TX_DATE], &r->nd);
    const char *p = cell(c, col[by_amount ? TRIBE_TX_AMOUNT : TRIBE_TX_UNIT_PRICE], &np);
    r->rf = role_cell(m, c, col, TRIBE_TX_RETURN_FLAG, &r->nrf);
    const char *cur = role_cell(m, c, col, TRIBE_TX_CURRENCY, &ncur);
    r->qty = 1;
    r->id = 0;
    if (r->ninv == 0 && col[TRIBE_TX_ORDER_ID] >= 0) {
        snprintf(why, cap, "%s is empty", m->column[TRIBE_TX_ORDER_ID]);
        return 1;
    }
    if (r->nstock == 0 && col[TRIBE_TX_PRODUCT] >= 0) {
        snprintf(why, cap, "%s is empty", m->column[TRIBE_TX_PRODUCT]);
        return 1;
    }
    if ((nq > 0 && !ing_parse_int(q, nq, &r->qty)) || (nq == 0 && (!by_amount || col[TRIBE_TX_QUANTITY] >= 0))) {
        why_bad(why, cap, role_label(m, SRC_TX, TRIBE_TX_QUANTITY), q, nq, "is not an integer");
        return 1;
    }
    if (!tx_date(S, m, r->d, r->nd, &r->day)) {
        char what[48];
        date_what(m->date_format, what, sizeof what);
        why_bad(why, cap, m->column[TRIBE_TX_DATE], r->d, r->nd, what);
        return 1;
    }
    if (!money_cell(S, c, p, np, &r->price)) {
        why_bad(why, cap, m->column[by_amount ? TRIBE_TX_AMOUNT : TRIBE_TX_UNIT_PRICE], p, np, "is not a number");
        return 1;
    }
    if (col[TRIBE_TX_CURRENCY] >= 0 && !tx_currency(S, c, cur, ncur)) {
        why_bad(why, cap, m->column[TRIBE_TX_CURRENCY], cur, ncur, "is not an ISO 4217 code");
        return 1;
    }
    /* an amount is the line's total: a negative one is a negative line (a
     * refund), as a negative Quantity is */
    if (by_amount && r->price < 0) {
        r->price = -r->price;
        r->qty = -r->qty;
    }
    r->amount = by_amount ? (r->qty < 0 ? -r->price : r->price) : (double)r->qty * r->price;
    if (!(fabs(r->amount) < AMOUNT_MAX)) {
        const char *pcol = role_label(m, SRC_TX, by_amount ? TRIBE_TX_AMOUNT : TRIBE_TX_UNIT_PRICE);
        if (by_amount)
            snprintf(why, cap, "%s is out of range", pcol);
        else
            snprintf(why, cap, "%s x %s is out of range", role_label(m, SRC_TX, TRIBE_TX_QUANTITY), pcol);
        return 1;
    }
    *st = parse_id(S, c, col[TRIBE_TX_CUSTOMER_ID], &r->id, &r->has_id, why, cap);
    return r->has_id < 0;
}

/* The cleaning rule that removes a well-formed row r, counted in the
 * ledger: its label in why (naming the mapped columns: "Amount <= 0"; the
 * built-in mapping's are CustomerID, Quantity and UnitPrice), or NULL when
 * the row is kept. *ret gets what tx_is_return finds (TX_PURCHASE unless
 * the rules got that far). */
static const char *tx_rule(state *S, const int *col, const tx_fields *r, int *ret, char *why, size_t cap)
{
    const tribe_map_source *m = &S->map->src[SRC_TX];
    const char *pcol = role_label(m, SRC_TX, col[TRIBE_TX_AMOUNT] >= 0 ? TRIBE_TX_AMOUNT : TRIBE_TX_UNIT_PRICE);
    *ret = TX_PURCHASE;
    if (r->day < S->day_lo || r->day > S->day_hi) {
        S->led.implausible_date++;
        why_date_range(S, why, cap, m->column[TRIBE_TX_DATE], r->d, r->nd);
    } else if (!r->has_id) {
        S->led.missing_customer_id++;
        snprintf(why, cap, "missing %s", role_label(m, SRC_TX, TRIBE_TX_CUSTOMER_ID));
    } else if ((*ret = tx_is_return(m, r->inv, r->ninv, r->rf, r->nrf, r->qty)) != TX_PURCHASE) {
        if (r->price > 0) {
            S->led.returns++;
            S->led.cancellations += *ret == TX_RET_CANCEL;
            return NULL;
        }
        S->led.nonpositive_price++; /* a return at no price returns no money */
        snprintf(why, cap, "%s <= 0", pcol);
    } else if (r->qty <= 0) {
        S->led.nonpositive_quantity++;
        snprintf(why, cap, "%s <= 0", role_label(m, SRC_TX, TRIBE_TX_QUANTITY));
    } else if (r->price <= 0) {
        S->led.nonpositive_price++;
        snprintf(why, cap, "%s <= 0", pcol);
    } else {
        return NULL;
    }
    return why;
}

/* A kept purchase row r of customer idx, on or before the cutoff: its
 * money, season, channel, category, item, order, product, day and country
 * vote go into the aggregate. Errors: NOMEM. */
static tribe_status tx_purchase(state *S, const tribe_csv *c, const int *col, const tx_fields *r, int64_t idx)
{
    tribe_status st = TRIBE_OK;
    const tribe_map_source *m = &S->map->src[SRC_TX];
    tx_cust *cu = &S->tx.c[idx];
    const int64_t day = r->day;
    const double amount = r->amount;
    cu->money += tribe_xsum_of(amount);
    tx_season(cu, day, amount);
    if (m->n_channels > 0)
        tx_channel(m, c, col, cu, amount);
    if (has_categories(m))
        TRIBE_TRY(tx_category(S, m, c, col, idx, amount));
    TRIBE_TRY(tx_item(S, m, c, col, idx, amount));
    if (day < cu->first)
        cu->first_money = tribe_xsum_of(amount);
    else if (day == cu->first)
        cu->first_money += tribe_xsum_of(amount);
    if (day < cu->first)
        cu->first = day;
    if (day > cu->last)
        cu->last = day;
    /* without an order id column every row is an order of its own */
    uint64_t ikey = col[TRIBE_TX_ORDER_ID] >= 0 ? ing_key(r->inv, r->ninv)
                                                : (4ULL << 60) | (uint64_t)S->file_key | (uint64_t)tribe_csv_line(c);
    if (ikey != S->last.inv) {
        S->last.inv = UINT64_MAX;
        TRIBE_TRY(add_key(S, 0, idx, ikey));
        S->last.inv = ikey;
    }
    if (r->nstock == 0 || !items_are_products(m)) /* else tx_item counted it */
        TRIBE_TRY(add_key(S, 1, idx, ing_key(r->stock, r->nstock)));
    if (day != S->last.day) {
        S->last.day = INT64_MIN;
        TRIBE_TRY(add_key(S, 2, idx, (uint64_t)day));
        S->last.day = day;
    }
    size_t nc;
    const char *ctry = role_cell(m, c, col, TRIBE_TX_COUNTRY, &nc);
    if (nc > 0)
        TRIBE_TRY(vote_level(S, &S->country, ctry, nc, idx));
cleanup:
    return st;
}

/* Classifies one transaction record; kept rows go into the aggregate. */
static tribe_status tx_row(state *S, const tribe_csv *c, const int *col)
{
    tribe_status st = TRIBE_OK;
    char why[160];
    int64_t idx = 0;
    int ret = TX_PURCHASE;
    tx_fields r;
    S->led.rows_read++;
    if (tx_parse(S, c, col, &r, why, sizeof why, &st)) {
        S->led.malformed++;
        return reject(S, c, why);
    }
    TRIBE_TRY(st);
    const char *rule = tx_rule(S, col, &r, &ret, why, sizeof why);
    if (rule)
        return S->rejects_all ? reject(S, c, rule) : TRIBE_OK;
    if (r.day < S->day_min)
        S->day_min = r.day;
    if (r.day > S->day_max)
        S->day_max = r.day;
    TRIBE_TRY(tx_slot(S, r.id, &idx));
    tx_cust *cu = &S->tx.c[idx];
    if (ret != TX_PURCHASE) {
        tx_return(S, cu, r.day, r.amount);
        return TRIBE_OK;
    }
    S->led.rows_kept++;
    if (r.day > S->cutoff) {
        /* after the cutoff: the target only, never a feature */
        S->led.rows_after_cutoff++;
        if (r.day <= S->horizon_end)
            cu->future += tribe_xsum_of(r.amount);
        return TRIBE_OK;
    }
    return tx_purchase(S, c, col, &r, idx);
cleanup:
    return st;
}


static tribe_status web_row(state *S, const tribe_csv *c, const int *col)
{
    tribe_status st = TRIBE_OK;
    char why[160];
    size_t nd, np, nm, ndev;
    int64_t id = 0, day = 0, pages = 0, idx = 0;
    double minutes = 0;
    const tribe_map_source *ms = &S->map->src[SRC_WEB];
    S->led.web_rows++;
    if (bad_record(c, why, sizeof why))
        goto malformed;
    int has_id = 0;
    TRIBE_TRY(parse_id(S, c, col[TRIBE_WEB_CUSTOMER_ID], &id, &has_id, why, sizeof why));
    if (has_id < 0)
        goto malformed;
    if (!has_id) {
        snprintf(why, sizeof why, "%s is empty", ms->column[TRIBE_WEB_CUSTOMER_ID]);
        goto malformed;
    }
    const char *d = cell(c, col[TRIBE_WEB_DATE], &nd);
    const char *p = role_cell(ms, c, col, TRIBE_WEB_PAGES, &np);
    const char *m = role_cell(ms, c, col, TRIBE_WEB_MINUTES, &nm);
    const char *dev = role_cell(ms, c, col, TRIBE_WEB_DEVICE, &ndev);
    if (!tribe_day_parse_as(d, nd, ms->date_format, &day)) {
        char what[48];
        date_what(ms->date_format, what, sizeof what);
        why_bad(why, sizeof why, ms->column[TRIBE_WEB_DATE], d, nd, what);
        goto malformed;
    }
    if (day < S->day_lo || day > S->day_hi) {
        why_date_range(S, why, sizeof why, ms->column[TRIBE_WEB_DATE], d, nd);
        goto malformed;
    }
    if (!ing_parse_int(p, np, &pages) || pages < 0 || pages > PAGES_MAX) {
        why_bad(why, sizeof why, role_label(ms, SRC_WEB, TRIBE_WEB_PAGES), p, np, "is not a count >= 0");
        goto malformed;
    }
    if (!ing_parse_double(m, nm, &minutes) || !(minutes >= 0 && minutes < AMOUNT_MAX)) {
        why_bad(why, sizeof why, role_label(ms, SRC_WEB, TRIBE_WEB_MINUTES), m, nm, "is not a number >= 0");
        goto malformed;
    }
    if (day > S->cutoff) { /* features see nothing after the cutoff */
        S->led.web_rows_after_cutoff++;
        return TRIBE_OK;
    }
    /* sessions of one customer usually come together: as in tx_row,
     * remember the customer and count device votes up per run */
    if (S->last.idx >= 0 && S->last.id == id) {
        idx = S->last.idx;
    } else {
        S->last.idx = -1;
        TRIBE_TRY(web_agg_cust(&S->web, id, &idx));
        S->last.id = id;
        S->last.idx = idx;
    }
    web_cust *w = &S->web.w[idx];
    w->sessions++;
    w->pages += pages;
    w->minutes += tribe_xsum_of(minutes);
    if (ndev > 0)
        TRIBE_TRY(vote_level(S, &S->device, dev, ndev, idx));
    return TRIBE_OK;
malformed:
    S->led.web_malformed++;
    return reject(S, c, why);
cleanup:
    return st;
}

/* Id of an optional categorical cell (or the mapping's constant), -1 when empty. */
static tribe_status cat_cell(const state *S, ing_dict *d, const tribe_csv *c, const int *col, int role,
                             int64_t *code)
{
    size_t n = 0;
    const char *s = role_cell(&S->map->src[SRC_DEMO], c, col, role, &n);
    *code = -1;
    return n > 0 ? ing_dict_id(d, s, n, code) : TRIBE_OK;
}

/* The financial roles of a demographics row (yearly income and total debt
 * as money as written, the credit score a number in [0, 1000]); an empty or
 * unmapped cell is NaN. Returns 0 (why filled) when a cell is not such a
 * value. */
static int demo_money(const state *S, const tribe_csv *c, const int *col, demo_rec *r, char *why, size_t cap)
{
    const tribe_map_source *ms = &S->map->src[SRC_DEMO];
    double *dst[3] = {&r->income, &r->debt, &r->score};
    static const int role[3] = {TRIBE_DEMO_INCOME, TRIBE_DEMO_DEBT, TRIBE_DEMO_CREDIT_SCORE};
    for (int k = 0; k < 3; k++) {
        size_t n = 0;
        const char *v = role_cell(ms, c, col, role[k], &n);
        char code[4], sym[8];
        *dst[k] = NAN;
        if (n == 0)
            continue;
        int ok = k < 2 ? tribe_money_parse(v, n, ms->decimal, dst[k], code, sym) && *dst[k] >= 0 &&
                             *dst[k] < AMOUNT_MAX
                       : ing_parse_double(v, n, dst[k]) && *dst[k] >= 0 && *dst[k] <= 1000;
        if (!ok) {
            why_bad(why, cap, role_label(ms, SRC_DEMO, role[k]), v, n,
                    k < 2 ? "is not an amount >= 0" : "is not a credit score in [0, 1000]");
            return 0;
        }
    }
    return 1;
}

static tribe_status demo_row(state *S, const tribe_csv *c, const int *col)
{
    tribe_status st = TRIBE_OK;
    char why[160];
    size_t na;
    demo_rec r;
    memset(&r, 0, sizeof r);
    S->led.demographics_rows++;
    if (bad_record(c, why, sizeof why))
        goto malformed;
    const tribe_map_source *ms = &S->map->src[SRC_DEMO];
    int has_id = 0;
    TRIBE_TRY(parse_id(S, c, col[TRIBE_DEMO_CUSTOMER_ID], &r.id, &has_id, why, sizeof why));
    if (has_id < 0)
        goto malformed;
    if (!has_id) {
        snprintf(why, sizeof why, "%s is empty", ms->column[TRIBE_DEMO_CUSTOMER_ID]);
        goto malformed;
    }
    const char *a = role_cell(ms, c, col, TRIBE_DEMO_AGE, &na);
    r.age = -1;
    if (na > 0 && (!ing_parse_int(a, na, &r.age) || r.age < 0 || r.age > AGE_MAX)) {
        why_bad(why, sizeof why, role_label(ms, SRC_DEMO, TRIBE_DEMO_AGE), a, na, "is not an age in years");
        goto malformed;
    }
    if (!demo_money(S, c, col, &r, why, sizeof why))
        goto malformed;
    r.line = S->file_key | tribe_csv_line(c); /* a later file's row wins, as in one file */
    TRIBE_TRY(cat_cell(S, &S->country, c, col, TRIBE_DEMO_COUNTRY, &r.ctry));
    TRIBE_TRY(cat_cell(S, &S->occupation, c, col, TRIBE_DEMO_OCCUPATION, &r.occ));
    TRIBE_TRY(cat_cell(S, &S->subscription, c, col, TRIBE_DEMO_SUBSCRIPTION, &r.sub));
    if (S->n_demo == S->cap_demo) {
        int64_t ncap = S->cap_demo ? 2 * S->cap_demo : 1024;
        TRIBE_TRY(tribe_realloc((void **)&S->demo, (size_t)ncap * sizeof *S->demo));
        S->cap_demo = ncap;
    }
    S->demo[S->n_demo++] = r;
    return TRIBE_OK;
malformed:
    S->led.demographics_malformed++;
    return reject(S, c, why);
cleanup:
    return st;
}

/* Looks up the mapped columns of source `kind` in c's header: col[role] =
 * the column index, or -1 for a role the mapping leaves out (or an optional
 * one the file lacks). Errors: INPUT naming the file, the column and the
 * mapping key: a column missing, or two columns of that name (which one is
 * meant cannot be told). */
static tribe_status source_columns(const state *S, const tribe_csv *c, int kind, int *col)
{
    const tribe_map_source *m = &S->map->src[kind];
    for (int r = 0; r < tribe_mapping_nroles(kind); r++) {
        const char *name = m->column[r];
        col[r] = name ? tribe_csv_column(c, name) : -1;
        if (!name || (col[r] < 0 && (m->optional >> r & 1u)))
            continue;
        if (col[r] < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: missing required column '%s' (mapping key %s.columns.%s, %s)",
                              tribe_csv_path(c), name, tribe_mapping_source_name(kind),
                              tribe_mapping_role_name(kind, r), S->map->file);
        for (int j = col[r] + 1; j < tribe_csv_ncolumns(c); j++)
            if (strcmp(tribe_csv_column_name(c, j), name) == 0)
                return tribe_fail(TRIBE_ERR_INPUT,
                                  "%s: columns %d and %d are both named '%s' (mapping key %s.columns.%s): which "
                                  "one is meant cannot be told",
                                  tribe_csv_path(c), col[r] + 1, j + 1, name, tribe_mapping_source_name(kind),
                                  tribe_mapping_role_name(kind, r));
    }
    return TRIBE_OK;
}

/* ing_files_plan's check of each file's header: source_columns. */
typedef struct {
    const state *S;
    int kind;
} header_ctx;

static tribe_status header_check(const void *ctx, const tribe_csv *c)
{
    const header_ctx *h = ctx;
    int col[TRIBE_MAP_MAXROLES];
    return source_columns(h->S, c, h->kind, col);
}

/* Reads the records of c (a file or this rank's share of it) as source `kind`.
 * Not collective. */
static tribe_status read_rows(state *S, tribe_csv *c, int kind)
{
    tribe_status st = TRIBE_OK;
    int col[TRIBE_MAP_MAXROLES] = {0};
    int has = 0;
    int64_t nrec = 0;
    TRIBE_TRY(source_columns(S, c, kind, col));
    S->last.idx = -1;
    S->last.votes = 0;
    S->last.nctry = 0;
    S->last.ndate = 0;
    S->last.vote_map = kind == SRC_WEB ? &S->web.dev : &S->tx.ctry;
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        if (kind == SRC_TX)
            st = tx_row(S, c, col);
        else if (kind == SRC_WEB)
            st = web_row(S, c, col);
        else
            st = demo_row(S, c, col);
        if (st != TRIBE_OK)
            break;
        if ((++nrec & 0xffff) == 0) /* every 65,536 records: a branch, then a clock read */
            tribe_progress_step(S->led.rows_read + S->led.web_rows + S->led.demographics_rows);
    }
    if (st == TRIBE_OK)
        st = flush_votes(S);
    for (int w = 0; w < 3 && st == TRIBE_OK; w++)
        st = flush_keys(S, w);
    if (st == TRIBE_OK)
        st = flush_items(S);
cleanup:
    return st;
}

static void select_file(state *S, const ing_files *f, int i, int stream)
{
    S->src = f->first + i;
    S->file_key = (int64_t)i << 40;
    S->rej.stream = stream;
}

/* Reads the files of one source: first those this rank reads alone, then
 * each shared file (all ranks, one share each). Collective. */
static tribe_status read_source(tribe_par *par, state *S, int kind, const ing_files *f, int64_t gz_block)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    int me = tribe_par_rank(par);
    for (int i = 0; i < f->n && st == TRIBE_OK; i++) {
        if (f->owner[i] != me)
            continue;
        select_file(S, f, i, ING_REJ_SOLO);
        st = tribe_csv_open(f->path[i], NULL, &c);
        if (st == TRIBE_OK)
            st = read_rows(S, c, kind);
        tribe_csv_close(&c);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int i = 0; i < f->n; i++) {
        if (f->owner[i] >= 0)
            continue;
        select_file(S, f, i, ING_REJ_SHARED);
        TRIBE_TRY(tribe_csv_open_shared(par, f->path[i], gz_block, &c));
        st = read_rows(S, c, kind);
        tribe_csv_close(&c);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
cleanup:
    tribe_csv_close(&c);
    return st;
}

/* ---- ledger sums ------------------------------------------------------------------ */

static const size_t ledger_counts[] = {
    offsetof(tribe_ledger, rows_read),          offsetof(tribe_ledger, rows_kept),
    offsetof(tribe_ledger, malformed),          offsetof(tribe_ledger, missing_customer_id),
    offsetof(tribe_ledger, cancellations),      offsetof(tribe_ledger, nonpositive_quantity),
    offsetof(tribe_ledger, nonpositive_price),  offsetof(tribe_ledger, web_rows),
    offsetof(tribe_ledger, web_rows_kept),      offsetof(tribe_ledger, web_rows_unmatched),
    offsetof(tribe_ledger, web_malformed),      offsetof(tribe_ledger, demographics_rows),
    offsetof(tribe_ledger, demographics_rows_kept), offsetof(tribe_ledger, demographics_rows_unmatched),
    offsetof(tribe_ledger, demographics_duplicate_ids), offsetof(tribe_ledger, demographics_malformed),
    offsetof(tribe_ledger, rows_after_cutoff),  offsetof(tribe_ledger, web_rows_after_cutoff),
    offsetof(tribe_ledger, returns),            offsetof(tribe_ledger, implausible_date)};
#define N_LEDGER_COUNTS (sizeof ledger_counts / sizeof ledger_counts[0])

/* Collective: sums the counts of `l` over ranks, in place. */
static tribe_status ledger_sum(tribe_par *par, tribe_ledger *l)
{
    int64_t v[N_LEDGER_COUNTS];
    for (size_t i = 0; i < N_LEDGER_COUNTS; i++)
        memcpy(&v[i], (char *)l + ledger_counts[i], sizeof v[i]);
    tribe_status st = tribe_par_sum_i64(par, v, (int64_t)N_LEDGER_COUNTS);
    if (st == TRIBE_OK)
        for (size_t i = 0; i < N_LEDGER_COUNTS; i++)
            memcpy((char *)l + ledger_counts[i], &v[i], sizeof v[i]);
    return st;
}

/* ---- categorical levels --------------------------------------------------------- */

typedef struct {
    char **levels;
    int n;
    int64_t *remap; /* local dictionary id -> global level */
} levels;

static void levels_free(levels *L)
{
    for (int i = 0; i < L->n; i++)
        free(L->levels[i]);
    free(L->levels);
    free(L->remap);
    memset(L, 0, sizeof *L);
}

/* ---- the merge on owner ranks ----------------------------------------------------- */

/* Seed of the tables an owner fills from received records: those arrive in
 * the slot order of the senders' tables, often with the same (index, key)
 * pairs, which must not hash alike (see ingest_hash.c). */
#define ING_SEED_OWNER 0xd1b54a32d192ed03ULL

/* Collective: tells each sender which of the customers it sent (recs[0,
 * n), each with its src) have several senders: *shared (caller frees) gets
 * one flag per local customer index of `loc`. */
static tribe_status reply_shared(tribe_par *par, const tx_agg *loc, const tx_rec *recs, int64_t n,
                                 const int64_t *own_idx, const int64_t *nsrc, unsigned char **shared)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par);
    size_t *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL, *fill = NULL, total = 0;
    int64_t *send = NULL, *got = NULL;
    int64_t nsend = 0;
    *shared = NULL;
    for (int64_t i = 0; i < n; i++)
        nsend += nsrc[own_idx[i]] > 1;
    st = tribe_calloc((void **)&sc, 5 * (size_t)size, sizeof *sc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&send, (size_t)(nsend > 0 ? nsend : 1) * sizeof *send);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)shared, (size_t)(loc->n > 0 ? loc->n : 1), 1);
    TRIBE_TRY(tribe_par_agree(par, st));
    sd = sc + size;
    rc = sd + size;
    rd = rc + size;
    fill = rd + size;
    for (int64_t i = 0; i < n; i++)
        if (nsrc[own_idx[i]] > 1)
            sc[recs[i].src] += sizeof *send;
    for (int r = 1; r < size; r++)
        sd[r] = sd[r - 1] + sc[r - 1];
    memcpy(fill, sd, (size_t)size * sizeof *fill);
    for (int64_t i = 0; i < n; i++)
        if (nsrc[own_idx[i]] > 1) {
            memcpy((char *)send + fill[recs[i].src], &recs[i].id, sizeof *send);
            fill[recs[i].src] += sizeof *send;
        }
    TRIBE_TRY(tribe_par_alltoallv(par, send, sc, sd, (void **)&got, &total, rc, rd));
    for (size_t i = 0; i < total / sizeof *got && st == TRIBE_OK; i++) {
        int64_t *v = ing_map_find(&loc->cust, (uint64_t)got[i], 0);
        if (v)
            (*shared)[*v] = 1;
        else
            st = tribe_fail(TRIBE_ERR_INTERNAL, "ingest: rank %d was asked about customer %lld it never sent",
                            tribe_par_rank(par), (long long)got[i]);
    }
    st = tribe_par_agree(par, st);
cleanup:
    if (st != TRIBE_OK) {
        free(*shared);
        *shared = NULL;
    }
    free(sc);
    free(send);
    free(got);
    return st;
}

/* The owner side of shuffle_tx while it runs (sizes in brackets). */
typedef struct {
    tx_agg own;            /* the owned customers, merged from what arrives */
    void *buf;             /* the send buffer, reused by each exchange */
    int64_t *fill;         /* [local customers]: a counting sort's cursors, then their ids (tx_send_votes) */
    int64_t *nsrc;         /* [owned customers]: how many ranks sent each */
    int64_t *own_idx;      /* [customer records received]: owned index of each */
    unsigned char *shared; /* [local customers]: 1 = the customer has several senders */
} tx_merge;

static void tx_merge_free(tx_merge *x)
{
    tx_agg_free(&x->own);
    free(x->buf);
    free(x->fill);
    free(x->nsrc);
    free(x->own_idx);
    free(x->shared);
    memset(x, 0, sizeof *x);
}

/* One rank owns everything: the local aggregate is already merged; only the
 * country votes and category spends (m) need their global codes. The multi-rank path is checked
 * against this one by the MPI tests. Not collective. Errors: NOMEM (the
 * ingest then fails; loc->ctry holds the votes remapped so far). */
static tribe_status tx_remap_votes(ing_map *m, const int64_t *remap)
{
    tribe_status st = TRIBE_OK;
    ing_map votes;
    TRIBE_TRY(ing_map_init_seed(&votes, m->n, ING_SEED_OWNER));
    for (size_t i = 0; i < m->cap && st == TRIBE_OK; i++)
        if (m->t[i].a != ING_EMPTY)
            st = count_add(&votes, (int64_t)m->t[i].a, remap[m->t[i].b], m->t[i].v);
    ing_map_free(m);
    *m = votes;
cleanup:
    return st;
}

/* Collective: each local customer's first/last day, money and local
 * distinct counts travel to its owner (x->buf holds loc->n tx_rec), which
 * merges them into x->own; x->nsrc counts the senders, and a customer with
 * one sender keeps that sender's distinct counts as final. Then each sender
 * learns which of its customers have several (x->shared). Errors: NOMEM,
 * INTERNAL; agreed on all ranks. */
static tribe_status tx_send_totals(tribe_par *par, const tx_agg *loc, const int64_t *spl, tx_merge *x)
{
    tribe_status st = TRIBE_OK;
    void *got = NULL;
    int64_t ngot = 0;
    tx_rec *r = x->buf;
    tx_agg *own = &x->own;
    for (int64_t i = 0; i < loc->n; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].id = loc->c[i].id;
        r[i].first = loc->c[i].first;
        r[i].last = loc->c[i].last;
        r[i].src = tribe_par_rank(par);
        r[i].money = loc->c[i].money;
        r[i].n_inv = loc->c[i].n_inv;
        r[i].n_prod = loc->c[i].n_prod;
        r[i].n_day = loc->c[i].n_day;
        r[i].future = loc->c[i].future;
        r[i].first_money = loc->c[i].first_money;
        r[i].n_ret = loc->c[i].n_ret;
        r[i].ret = loc->c[i].ret;
        memcpy(r[i].season, loc->c[i].season, sizeof r[i].season);
        memcpy(r[i].chan, loc->c[i].chan, sizeof r[i].chan);
    }
    TRIBE_TRY(ing_shuffle(par, spl, x->buf, loc->n, sizeof(tx_rec), &got, &ngot));
    size_t nn = (size_t)(ngot > 0 ? ngot : 1);
    st = tribe_calloc((void **)&x->nsrc, nn, sizeof *x->nsrc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&x->own_idx, nn * sizeof *x->own_idx);
    ing_map_free(&own->cust);
    if (st == TRIBE_OK)
        st = ing_map_init(&own->cust, (size_t)ngot);
    const tx_rec *g = got;
    for (int64_t i = 0; i < ngot && st == TRIBE_OK; i++) {
        int64_t idx = 0;
        st = tx_agg_cust(own, g[i].id, &idx);
        if (st != TRIBE_OK)
            break;
        tx_cust *cu = &own->c[idx];
        x->own_idx[i] = idx;
        x->nsrc[idx]++;
        cu->money += g[i].money;
        cu->future += g[i].future;
        cu->ret += g[i].ret;
        cu->n_ret += g[i].n_ret;
        for (int q = 0; q < TX_SEASONS; q++)
            cu->season[q] += g[i].season[q];
        for (int k = 0; k < TRIBE_MAP_CHANNELS; k++)
            cu->chan[k] += g[i].chan[k];
        if (g[i].first < cu->first)
            cu->first_money = g[i].first_money;
        else if (g[i].first == cu->first)
            cu->first_money += g[i].first_money;
        if (g[i].first < cu->first)
            cu->first = g[i].first;
        if (g[i].last > cu->last)
            cu->last = g[i].last;
    }
    for (int64_t i = 0; i < ngot && st == TRIBE_OK; i++)
        if (x->nsrc[x->own_idx[i]] == 1) {
            tx_cust *cu = &own->c[x->own_idx[i]];
            cu->n_inv = g[i].n_inv;
            cu->n_prod = g[i].n_prod;
            cu->n_day = g[i].n_day;
        }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(reply_shared(par, loc, g, ngot, x->own_idx, x->nsrc, &x->shared));
cleanup:
    free(got);
    return st;
}

/* Collective: set `which` (0 invoices, 1 products, 2 days) of the customers
 * with several senders travels to their owners, which unite it and count
 * its distinct keys into x->own. The local set is freed on the way (no
 * longer needed: lowers the peak memory), and so is the owner's once
 * counted. Errors: NOMEM, INTERNAL; agreed on all ranks. */
static tribe_status tx_send_keys(tribe_par *par, tx_agg *loc, const int64_t *spl, tx_merge *x, int which)
{
    tribe_status st = TRIBE_OK;
    void *got = NULL;
    int64_t n = 0, ngot = 0;
    ing_set *m = which == 0 ? &loc->inv : which == 1 ? &loc->prod : &loc->day;
    /* grouped by customer (a counting sort on the local index, whose counts
     * are the local distinct counts): the owner then looks each customer up
     * once per sender */
    for (int64_t i = 0; i < loc->n; i++) {
        x->fill[i] = n;
        n += x->shared[i] ? *set_count(&loc->c[i], which) : 0;
    }
    free(x->buf);
    x->buf = NULL;
    st = tribe_alloc(&x->buf, (size_t)(n > 0 ? n : 1) * sizeof(key_rec));
    TRIBE_TRY(tribe_par_agree(par, st));
    key_rec *r = x->buf;
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].a != ING_EMPTY && x->shared[m->t[i].a]) {
            key_rec *e = &r[x->fill[m->t[i].a]++];
            e->id = loc->c[m->t[i].a].id;
            e->key = m->t[i].b;
        }
    ing_set_free(m);
    TRIBE_TRY(ing_shuffle(par, spl, x->buf, n, sizeof(key_rec), &got, &ngot));
    ing_set *om = which == 0 ? &x->own.inv : which == 1 ? &x->own.prod : &x->own.day;
    ing_set_free(om);
    st = ing_set_init_seed(om, (size_t)ngot, ING_SEED_OWNER);
    const key_rec *g = got;
    int64_t last_id = -1, idx = -1;
    for (int64_t i = 0; i < ngot && st == TRIBE_OK; i++) {
        if (g[i].id != last_id) {
            int64_t *v = ing_map_find(&x->own.cust, (uint64_t)g[i].id, 0);
            if (!v || x->nsrc[*v] < 2) {
                st = tribe_fail(TRIBE_ERR_INTERNAL, "keys of customer %lld reached rank %d unasked",
                                (long long)g[i].id, tribe_par_rank(par));
                break;
            }
            last_id = g[i].id;
            idx = *v;
        }
        st = set_add(om, idx, g[i].key, set_count(&x->own.c[idx], which));
    }
    ing_set_free(om); /* only the counts are used from here on */
    free(got);
    got = NULL;
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(got);
    return st;
}

/* Collective: the votes of m (countries, category or item spends) travel to
 * the owners with their global codes (remap) and are added into dst, in
 * prefetched batches (ing_map_add_many: dst is sized for every record, so it
 * fills as one upsert per record would); with count_new, each (customer,
 * code) pair new to dst counts in the customer's n_item (dst starts empty:
 * these are then the distinct items over all ranks). Errors: NOMEM,
 * INTERNAL; agreed on all ranks. */
static tribe_status tx_send_votes(tribe_par *par, const tx_agg *loc, const ing_map *m, const int64_t *spl,
                                  const int64_t *remap, ing_map *dst, tx_merge *x, int count_new)
{
    enum { BATCH = 4 * ING_SET_BATCH };
    tribe_status st = TRIBE_OK;
    void *got = NULL;
    int64_t n = 0, ngot = 0, *fresh_n = NULL, *ids = x->fill; /* fill: free scratch by now */
    ing_pair p[BATCH];
    int64_t add[BATCH];
    unsigned char fresh[BATCH];
    free(x->buf);
    x->buf = NULL;
    st = tribe_alloc(&x->buf, (m->n > 0 ? m->n : 1) * sizeof(cnt_rec));
    if (st == TRIBE_OK && count_new)
        st = tribe_calloc((void **)&fresh_n, (size_t)(x->own.n > 0 ? x->own.n : 1), sizeof *fresh_n);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < loc->n; i++) /* the ids in a compact array: the slots visit customers at random */
        ids[i] = loc->c[i].id;
    cnt_rec *r = x->buf;
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].a != ING_EMPTY) {
            r[n].id = ids[m->t[i].a];
            r[n].code = remap[m->t[i].b];
            r[n].count = m->t[i].v;
            n++;
        }
    TRIBE_TRY(ing_shuffle(par, spl, x->buf, n, sizeof(cnt_rec), &got, &ngot));
    ing_map_free(dst);
    st = ing_map_init_seed(dst, (size_t)ngot, ING_SEED_OWNER);
    const cnt_rec *g = got;
    for (int64_t i0 = 0; i0 < ngot && st == TRIBE_OK; i0 += BATCH) {
        size_t nb = (size_t)(ngot - i0 < BATCH ? ngot - i0 : BATCH);
        for (size_t k = 0; k < nb && st == TRIBE_OK; k++) {
            int64_t *v = ing_map_find(&x->own.cust, (uint64_t)g[i0 + (int64_t)k].id, 0);
            if (!v)
                st = tribe_fail(TRIBE_ERR_INTERNAL, "vote of unknown customer %lld", (long long)g[i0 + (int64_t)k].id);
            else
                p[k] = (ing_pair){(uint64_t)*v, (uint64_t)g[i0 + (int64_t)k].code};
            add[k] = g[i0 + (int64_t)k].count;
        }
        if (st == TRIBE_OK)
            st = ing_map_add_many(dst, p, add, nb, fresh);
        for (size_t k = 0; fresh_n && k < nb && st == TRIBE_OK; k++)
            fresh_n[p[k].a] += fresh[k];
    }
    for (int64_t i = 0; fresh_n && i < x->own.n && st == TRIBE_OK; i++)
        x->own.c[i].n_item = fresh_n[i];
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(fresh_n);
    free(got);
    return st;
}

/* Not collective: the distinct products of each customer in n_prod, once
 * the customers are merged (items_are_products). */
static void tx_add_item_products(state *S)
{
    if (!items_are_products(&S->map->src[SRC_TX]))
        return;
    for (int64_t i = 0; i < S->tx.n; i++)
        S->tx.c[i].n_prod += S->tx.c[i].n_item;
}

/* Collective: moves the local transaction partials to their owners; on return
 * S->tx holds the owned customers, fully merged (the item spends keep their
 * local codes on one rank: ing_items_build remaps them).
 *
 * A customer whose rows were all read by one rank (the usual case when the
 * file is grouped by customer) has one sender: its local distinct counts are
 * final and travel with its totals. Only for customers with several senders
 * (the owner says which) do the set elements travel, to be united in the
 * owner's (customer, key) sets. Errors: NOMEM, INTERNAL; agreed on all
 * ranks (S->tx is then partly freed: the ingest fails). */
static tribe_status shuffle_tx(tribe_par *par, state *S, const int64_t *spl, const levels *ctry, const levels *cat,
                               const levels *item)
{
    tribe_status st = TRIBE_OK;
    tx_agg *loc = &S->tx;
    tx_merge x;
    memset(&x, 0, sizeof x);
    if (tribe_par_size(par) == 1) {
        /* the counts are final: the sets are no longer needed (a lower peak) */
        ing_set_free(&loc->inv);
        ing_set_free(&loc->prod);
        ing_set_free(&loc->day);
        tx_add_item_products(S);
        st = tx_remap_votes(&loc->ctry, ctry->remap);
        return st == TRIBE_OK ? tx_remap_votes(&loc->cat, cat->remap) : st;
    }
    st = tx_agg_init(&x.own);
    if (st == TRIBE_OK)
        st = tribe_alloc(&x.buf, (size_t)(loc->n > 0 ? loc->n : 1) * sizeof(tx_rec));
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&x.fill, (size_t)(loc->n > 0 ? loc->n : 1) * sizeof *x.fill);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tx_send_totals(par, loc, spl, &x));
    for (int which = 0; which < 3; which++)
        TRIBE_TRY(tx_send_keys(par, loc, spl, &x, which));
    TRIBE_TRY(tx_send_votes(par, loc, &loc->ctry, spl, ctry->remap, &x.own.ctry, &x, 0));
    TRIBE_TRY(tx_send_votes(par, loc, &loc->cat, spl, cat->remap, &x.own.cat, &x, 0));
    TRIBE_TRY(tx_send_votes(par, loc, &loc->item, spl, item->remap, &x.own.item, &x, 1));
    tx_agg_free(loc);
    *loc = x.own;
    memset(&x.own, 0, sizeof x.own);
    tx_add_item_products(S);
cleanup:
    tx_merge_free(&x);
    return st;
}

/* Per owned customer (index into S->tx.c): web totals and device votes. */
typedef struct {
    int64_t sessions, pages;
    tribe_xsum minutes;
} web_tot;

/* Collective: moves web partials to owners and attaches them to owned
 * customers; counts sessions of ids without transactions. */
static tribe_status shuffle_web(tribe_par *par, state *S, const int64_t *spl, const levels *dev,
                                web_tot *tot, ing_map *devmap)
{
    tribe_status st = TRIBE_OK;
    void *buf = NULL, *got = NULL;
    int64_t ngot = 0, n = 0;
    web_agg *w = &S->web;
    TRIBE_TRY(ing_shuffle(par, spl, w->w, w->n, sizeof(web_cust), &got, &ngot));
    {
        const web_cust *g = got;
        for (int64_t i = 0; i < ngot; i++) {
            int64_t *v = ing_map_find(&S->tx.cust, (uint64_t)g[i].id, 0);
            if (!v) {
                S->led.web_rows_unmatched += g[i].sessions;
                continue;
            }
            S->led.web_rows_kept += g[i].sessions;
            tot[*v].sessions += g[i].sessions;
            tot[*v].pages += g[i].pages;
            tot[*v].minutes += g[i].minutes;
        }
    }
    free(got);
    got = NULL;
    st = tribe_alloc(&buf, (w->dev.n > 0 ? w->dev.n : 1) * sizeof(cnt_rec));
    TRIBE_TRY(tribe_par_agree(par, st));
    {
        cnt_rec *r = buf;
        for (size_t i = 0; i < w->dev.cap; i++)
            if (w->dev.t[i].a != ING_EMPTY) {
                r[n].id = w->w[w->dev.t[i].a].id;
                r[n].code = dev->remap[w->dev.t[i].b];
                r[n].count = w->dev.t[i].v;
                n++;
            }
    }
    TRIBE_TRY(ing_shuffle(par, spl, buf, n, sizeof(cnt_rec), &got, &ngot));
    ing_map_free(devmap); /* sized for what arrived: no growth steps */
    st = ing_map_init_seed(devmap, (size_t)ngot, ING_SEED_OWNER);
    {
        const cnt_rec *g = got;
        for (int64_t i = 0; i < ngot && st == TRIBE_OK; i++) {
            int64_t *v = ing_map_find(&S->tx.cust, (uint64_t)g[i].id, 0);
            if (v)
                st = count_add(devmap, *v, g[i].code, g[i].count);
        }
    }
    st = tribe_par_agree(par, st);
cleanup:
    free(buf);
    free(got);
    return st;
}

static int cmp_demo(const void *a, const void *b)
{
    const demo_rec *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->line > y->line) - (x->line < y->line);
}

/* Collective: moves demographic rows to owners; the row with the highest line
 * of each id wins. best[idx] gets that row for owned customers (id = -1 none). */
static tribe_status shuffle_demo(tribe_par *par, state *S, const int64_t *spl, const levels *ctry,
                                 const levels *occ, const levels *sub, demo_rec *best)
{
    tribe_status st = TRIBE_OK;
    void *got = NULL;
    int64_t ngot = 0;
    for (int64_t i = 0; i < S->n_demo; i++) {
        demo_rec *r = &S->demo[i];
        if (r->ctry >= 0)
            r->ctry = ctry->remap[r->ctry];
        if (r->occ >= 0)
            r->occ = occ->remap[r->occ];
        if (r->sub >= 0)
            r->sub = sub->remap[r->sub];
    }
    TRIBE_TRY(ing_shuffle(par, spl, S->demo, S->n_demo, sizeof(demo_rec), &got, &ngot));
    demo_rec *g = got;
    qsort(g, (size_t)ngot, sizeof *g, cmp_demo);
    for (int64_t i = 0; i < ngot;) {
        int64_t j = i;
        while (j < ngot && g[j].id == g[i].id)
            j++;
        int64_t *v = ing_map_find(&S->tx.cust, (uint64_t)g[i].id, 0);
        if (!v) {
            S->led.demographics_rows_unmatched += j - i;
        } else {
            S->led.demographics_rows_kept++;
            S->led.demographics_duplicate_ids += j - i - 1;
            best[*v] = g[j - 1];
        }
        i = j;
    }
cleanup:
    free(got);
    return st;
}

/* ---- output table ------------------------------------------------------------------ */

/* Most frequent code per owned customer from a (index, code) -> count map;
 * ties go to the smaller code, i.e. the alphabetically first level. */
static void modes(const ing_map *m, int32_t *code, int64_t *best)
{
    for (size_t i = 0; i < m->cap; i++) {
        const ing_ent *e = &m->t[i];
        if (e->a == ING_EMPTY)
            continue;
        int64_t k = (int64_t)e->a;
        if (e->v > best[k] || (e->v == best[k] && (int32_t)e->b < code[k])) {
            best[k] = e->v;
            code[k] = (int32_t)e->b;
        }
    }
}

/* Collective: adds a categorical column holding only the levels some customer
 * has (codes[] are global level indices, -1 missing; rewritten in place). */
static tribe_status add_cat(tribe_par *par, tribe_table *t, const char *name, const levels *L, int32_t *codes)
{
    tribe_status st = TRIBE_OK;
    int64_t *used = NULL;
    const char **names = NULL;
    int32_t *newcode = NULL;
    int nl = 0;
    tribe_catcol *col = NULL;
    st = tribe_calloc((void **)&used, (size_t)(L->n > 0 ? L->n : 1), sizeof *used);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&names, (size_t)(L->n > 0 ? L->n : 1) * sizeof *names);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&newcode, (size_t)(L->n > 0 ? L->n : 1) * sizeof *newcode);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < t->n_local; i++)
        if (codes[i] >= 0)
            used[codes[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, used, L->n));
    for (int k = 0; k < L->n; k++) {
        newcode[k] = used[k] > 0 ? nl : -1;
        if (used[k] > 0)
            names[nl++] = L->levels[k];
    }
    st = tribe_table_add_cat(t, name, nl, names, &col);
    if (st == TRIBE_OK)
        for (int64_t i = 0; i < t->n_local; i++)
            col->code[i] = codes[i] >= 0 ? newcode[codes[i]] : -1;
    st = tribe_par_agree(par, st);
cleanup:
    free(used);
    free(names);
    free(newcode);
    return st;
}

static int cmp_cust_id(const void *a, const void *b, void *ctx)
{
    const tx_cust *c = ctx;
    int64_t x = c[*(const int64_t *)a].id, y = c[*(const int64_t *)b].id;
    return (x > y) - (x < y);
}

/* What build() gathers per owned customer (an index into S->tx.c, n of them)
 * before the table is written; every pointer is owned (build_ctx_free). */
typedef struct {
    levels ctry, dev, occ, sub; /* global level lists, the same on every rank */
    levels cat;                 /* the transactions' categories */
    levels item, itemdesc;      /* the offers' items and (code, description) pairs (tribe/items.h) */
    int64_t *spl;               /* [size - 1] owner splitters (ing_splitters) */
    int64_t n, n_rows;          /* owned customers; those that get a table row */
    web_tot *wt;                /* [n] web totals */
    ing_map devmap;             /* (index, device level) -> sessions */
    demo_rec *best;             /* [n] the demographics row that wins (id -1: none) */
    int32_t *cc, *dc, *oc, *sc; /* [n] level of country, device, occupation, subscription (-1
                                 * missing); one allocation at cc; table order after build_tables */
    int64_t *cbest;             /* [n] scratch: a mode's best counts, then build_tables' reordering */
    int64_t *order;             /* [n] the customer index of each table row, by id */
    int64_t *drop;              /* [n] customers left out for net spend <= 0, by id (n_drop) */
    int64_t n_drop;
    int n_chan;                 /* the mapping's named channels: features <name>_share */
    char chan_name[TRIBE_MAP_CHANNELS][40];
    int fin;                    /* the demographics map a financial role: yearly_income ... credit_score */
    int n_top;                  /* categories with a share feature (at most CAT_TOP) */
    char top_name[CAT_TOP][64]; /* their features' names, category_<level>_share */
    float *catshare;            /* [n][CAT_TOP] each owned customer's shares of them */
} build_ctx;

static void build_ctx_free(build_ctx *b)
{
    levels_free(&b->ctry);
    levels_free(&b->dev);
    levels_free(&b->occ);
    levels_free(&b->sub);
    levels_free(&b->cat);
    levels_free(&b->item);
    levels_free(&b->itemdesc);
    free(b->catshare);
    free(b->spl);
    free(b->wt);
    ing_map_free(&b->devmap);
    free(b->best);
    free(b->cc);
    free(b->cbest);
    free(b->order);
    free(b->drop);
    memset(b, 0, sizeof *b);
}

/* Collective: the four categorical level unions (country, device,
 * occupation, subscription). Errors: NOMEM; the union's local work can fail
 * on one rank, so each is agreed. */
static tribe_status build_levels(tribe_par *par, const state *S, build_ctx *b)
{
    tribe_status st = TRIBE_OK;
    st = ing_levels_union(par, &S->country, &b->ctry.levels, &b->ctry.n, &b->ctry.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->device, &b->dev.levels, &b->dev.n, &b->dev.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->occupation, &b->occ.levels, &b->occ.n, &b->occ.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->subscription, &b->sub.levels, &b->sub.n, &b->sub.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->category, &b->cat.levels, &b->cat.n, &b->cat.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->item, &b->item.levels, &b->item.n, &b->item.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = ing_levels_union(par, &S->itemdesc, &b->itemdesc.levels, &b->itemdesc.n, &b->itemdesc.remap);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    return st;
}

/* Collective (one max-reduction): the first and last kept invoice days over
 * all ranks and the snapshot into S->led: the day after the last kept
 * invoice day, or snapshot_override (INT64_MIN: none); with a cutoff, the
 * day after the cutoff, which must lie in the data's range. Errors: USAGE
 * (cutoff out of range, snapshot before the last kept day), computed from
 * reduced values and so the same on every rank: no agreement needed. */
static tribe_status build_snapshot(tribe_par *par, const tribe_ingest_cfg *cfg, state *S,
                                   int64_t snapshot_override)
{
    tribe_status st = TRIBE_OK;
    int64_t lim[2] = {-S->day_min, S->day_max}; /* -first, last for one max-reduction */
    TRIBE_TRY(tribe_par_max_i64(par, lim, 2));
    S->led.first_invoice_day = -lim[0];
    S->led.last_invoice_day = lim[1];
    if (S->cutoff != INT64_MAX) {
        char c0[11], c1[11];
        tribe_format_day(-lim[0], c0);
        tribe_format_day(lim[1], c1);
        if (S->cutoff < -lim[0] || S->cutoff > lim[1])
            TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "cutoff %s is outside the data's date range %s .. %s",
                                 cfg->cutoff, c0, c1));
        if (S->horizon_end > lim[1])
            TRIBE_WARN("ingest: the target window (%s + %lld days) ends after the last invoice day %s: "
                       "future_spend is censored",
                       cfg->cutoff, (long long)cfg->horizon_days, c1);
        snapshot_override = S->cutoff + 1;
        lim[1] = S->cutoff;
    }
    S->led.snapshot_day = snapshot_override != INT64_MIN ? snapshot_override : lim[1] + 1;
    tribe_format_day(S->led.snapshot_day, S->led.snapshot);
    if (S->led.snapshot_day < lim[1]) {
        char last[11];
        tribe_format_day(lim[1], last);
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "snapshot %s is before the last kept invoice day %s",
                             S->led.snapshot, last));
    }
cleanup:
    return st;
}

/* Collective: the owner splitters (b->spl) over the ids of every rank's
 * local customers. Errors: NOMEM, agreed on all ranks. */
static tribe_status build_owners(tribe_par *par, const state *S, build_ctx *b)
{
    tribe_status st = TRIBE_OK;
    int64_t *ids = NULL;
    st = tribe_alloc((void **)&ids, (size_t)(S->tx.n > 0 ? S->tx.n : 1) * sizeof *ids);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < S->tx.n; i++)
        ids[i] = S->tx.c[i].id;
    TRIBE_TRY(ing_splitters(par, ids, S->tx.n, &b->spl));
cleanup:
    free(ids);
    return st;
}

/* Collective: the per-owned-customer arrays of b, for the S->tx.n owned
 * customers, with nothing attached yet (no demographics row, every level
 * missing). Errors: NOMEM, agreed on all ranks. */
static tribe_status build_alloc(tribe_par *par, const state *S, build_ctx *b)
{
    tribe_status st = TRIBE_OK;
    const int64_t n = b->n = S->tx.n;
    size_t nn = (size_t)(n > 0 ? n : 1);
    st = tribe_calloc((void **)&b->wt, nn, sizeof *b->wt);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->best, nn * sizeof *b->best);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->order, nn * sizeof *b->order);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->drop, nn * sizeof *b->drop);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->cc, 4 * nn * sizeof *b->cc);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->cbest, nn * sizeof *b->cbest);
    if (st == TRIBE_OK)
        st = ing_map_init_seed(&b->devmap, 1024, ING_SEED_OWNER);
    TRIBE_TRY(tribe_par_agree(par, st));
    b->dc = b->cc + nn;
    b->oc = b->dc + nn;
    b->sc = b->oc + nn;
    for (int64_t i = 0; i < n; i++) {
        b->best[i].id = -1;
        b->cc[i] = b->dc[i] = b->oc[i] = b->sc[i] = -1;
    }
cleanup:
    return st;
}

/* The level codes of each owned customer: the most frequent country and
 * device, then the demographics row's country (overriding), occupation and
 * subscription. Not collective; cannot fail. */
static void build_codes(const state *S, build_ctx *b)
{
    for (int64_t i = 0; i < b->n; i++)
        b->cbest[i] = 0;
    modes(&S->tx.ctry, b->cc, b->cbest);
    for (int64_t i = 0; i < b->n; i++)
        b->cbest[i] = 0;
    modes(&b->devmap, b->dc, b->cbest);
    for (int64_t i = 0; i < b->n; i++)
        if (b->best[i].id >= 0) {
            if (b->best[i].ctry >= 0)
                b->cc[i] = (int32_t)b->best[i].ctry;
            b->oc[i] = (int32_t)b->best[i].occ;
            b->sc[i] = (int32_t)b->best[i].sub;
        }
}

/* The transaction features, in table order (docs/ingest.md, "Features"). */
static const char *const TX_FEATURES[] = {"recency_days",      "frequency",      "monetary",     "avg_order_value",
                                          "tenure_days",       "mean_days_between", "distinct_products",
                                          "gross_monetary",    "return_count",   "return_value", "return_rate",
                                          "spend_q1",          "spend_q2",       "spend_q3",     "spend_q4",
                                          "weekend_share",     "monthly_spend"};
#define N_TX_FEATURES ((int)(sizeof TX_FEATURES / sizeof TX_FEATURES[0]))

/* The numeric features of owned customer k into x (the table's columns in
 * order: RFM and behaviour, returns, then web, then age). Only customers
 * with a purchase and a net spend > 0 get here (frequency >= 1, gross >
 * returned). Not collective. */
static void feature_row(const build_ctx *b, const tx_cust *cu, int64_t k, int64_t snap, int has_web,
                        int has_demo, float *x)
{
    double net = tribe_xsum_value(cu->money - cu->ret), gross = tribe_xsum_value(cu->money);
    double ret = tribe_xsum_value(cu->ret);
    x[0] = (float)(snap - cu->last);
    x[1] = (float)cu->n_inv;
    x[2] = (float)net;
    x[3] = (float)(net / (double)cu->n_inv);
    x[4] = (float)(snap - cu->first);
    x[5] = cu->n_day > 1 ? (float)((double)(cu->last - cu->first) / (double)(cu->n_day - 1)) : 0.0f;
    x[6] = (float)cu->n_prod;
    x[7] = (float)gross;
    x[8] = (float)cu->n_ret;
    x[9] = (float)ret;
    x[10] = (float)(ret / gross);
    for (int q = 0; q < TX_SEASONS; q++) /* shares of gross spend (purchases only) */
        x[11 + q] = (float)(tribe_xsum_value(cu->season[q]) / gross);
    x[16] = (float)(net / fmax(1.0, (double)(snap - cu->first) / 30.4375)); /* months of tenure, >= 1 */
    int j = N_TX_FEATURES;
    for (int c = 0; c < b->n_chan; c++)
        x[j++] = (float)(tribe_xsum_value(cu->chan[c]) / gross);
    for (int t = 0; t < b->n_top; t++)
        x[j++] = b->catshare[k * CAT_TOP + t];
    if (has_web) {
        x[j++] = (float)b->wt[k].sessions;
        x[j++] = b->wt[k].sessions ? (float)((double)b->wt[k].pages / (double)b->wt[k].sessions) : 0.0f;
        x[j++] = (float)tribe_xsum_value(b->wt[k].minutes);
    }
    if (has_demo)
        x[j++] = b->best[k].id >= 0 && b->best[k].age >= 0 ? (float)b->best[k].age : NAN;
    if (b->fin) {
        const demo_rec *d = &b->best[k];
        int row = d->id >= 0;
        x[j++] = row ? (float)d->income : NAN;
        x[j++] = row ? (float)d->debt : NAN;
        x[j++] = row && d->income > 0 ? (float)(d->debt / d->income) : NAN;
        x[j++] = row ? (float)d->score : NAN;
    }
}

/* The target row of a customer into y[5]: future spend (NaN without a
 * cutoff; net of the window's returns, 0 when they exceed its purchases)
 * and the BG/NBD inputs in days, purchase occasions = distinct purchase
 * days: x = repeat days, t_x = last - first, T = (snapshot - 1) - first;
 * the mean spend of the repeat days is that of their purchases (returns
 * are not purchase occasions) without the first day's (Fader & Hardie).
 * Not collective. */
static void target_row(const tx_cust *cu, int64_t snap, int64_t cutoff, float *y)
{
    double rep_money = tribe_xsum_value(cu->money - cu->first_money);
    y[0] = cutoff == INT64_MAX ? NAN : cu->future > 0 ? (float)tribe_xsum_value(cu->future) : 0.0f;
    y[1] = (float)(cu->n_day - 1);
    y[2] = (float)(cu->last - cu->first);
    y[3] = (float)(snap - 1 - cu->first);
    y[4] = cu->n_day > 1 ? (float)(rep_money / (double)(cu->n_day - 1)) : 0.0f;
}

/* Collective: the feature table *t (and, when tg is not NULL, the target
 * table *tg), one row per owned customer with a kept row on or before the
 * cutoff, sorted by id (b->order, b->n_rows); the others are counted in
 * S->led.customers_after_cutoff. b's level codes are put in table order.
 * Errors: NOMEM, agreed on all ranks (*t, *tg may then hold a table for the
 * caller to destroy). */
static tribe_status build_tables(tribe_par *par, int has_web, int has_demo, state *S, build_ctx *b,
                                 tribe_table **t, tribe_table **tg)
{
    tribe_status st = TRIBE_OK;
    const char *names[N_TX_FEATURES + TRIBE_MAP_CHANNELS + CAT_TOP + 8];
    int d = N_TX_FEATURES;
    memcpy(names, TX_FEATURES, sizeof TX_FEATURES);
    for (int c = 0; c < b->n_chan; c++)
        names[d++] = b->chan_name[c];
    for (int u = 0; u < b->n_top; u++)
        names[d++] = b->top_name[u];
    if (has_web) {
        names[d++] = "sessions";
        names[d++] = "pages_per_session";
        names[d++] = "minutes_on_site";
    }
    if (has_demo)
        names[d++] = "age";
    if (b->fin) {
        names[d++] = "yearly_income";
        names[d++] = "total_debt";
        names[d++] = "debt_to_income";
        names[d++] = "credit_score";
    }
    /* customers whose every row is after the cutoff are not in the table,
     * nor those whose net spend is <= 0 (returns-only customers included) */
    for (int64_t i = 0; i < b->n; i++)
        if (S->tx.c[i].first != INT64_MAX || S->tx.c[i].n_ret > 0)
            b->order[b->n_rows++] = i;
        else
            S->led.customers_after_cutoff++;
    qsort_r(b->order, (size_t)b->n_rows, sizeof *b->order, cmp_cust_id, S->tx.c);
    int64_t kept = 0;
    for (int64_t r = 0; r < b->n_rows; r++) {
        const tx_cust *cu = &S->tx.c[b->order[r]];
        if (cu->money - cu->ret > 0)
            b->order[kept++] = b->order[r];
        else
            b->drop[b->n_drop++] = b->order[r];
    }
    b->n_rows = kept;
    S->led.customers_net_nonpositive += b->n_drop;
    st = tribe_table_create(b->n_rows, d, names, t);
    if (st == TRIBE_OK && tg) {
        static const char *const tnames[5] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T",
                                              "repeat_mean_spend"};
        st = tribe_table_create(b->n_rows, 5, tnames, tg);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    const int64_t snap = S->led.snapshot_day;
    for (int64_t r = 0; r < b->n_rows; r++) {
        const tx_cust *cu = &S->tx.c[b->order[r]];
        (*t)->id[r] = cu->id;
        feature_row(b, cu, b->order[r], snap, has_web, has_demo, (*t)->x + (size_t)r * (size_t)d);
        if (tg) {
            (*tg)->id[r] = cu->id;
            target_row(cu, snap, S->cutoff, (*tg)->x + (size_t)r * 5);
        }
    }
    /* reorder the code arrays to table order (through cbest as scratch) */
    int32_t *arrs[4] = {b->cc, b->dc, b->oc, b->sc};
    for (int a = 0; a < 4; a++) {
        int32_t *tmp = (int32_t *)b->cbest; /* n int64 hold 2n int32 */
        for (int64_t r = 0; r < b->n_rows; r++)
            tmp[r] = arrs[a][b->order[r]];
        memcpy(arrs[a], tmp, (size_t)b->n_rows * sizeof *tmp);
    }
cleanup:
    return st;
}

/* A customer id as the rejects file prints it: the number, or with string
 * ids the text (the owner's S->ids holds it after ing_ids_shuffle). */
static void fmt_id(const state *S, int64_t id, char buf[TRIBE_ID_BUF])
{
    tribe_id_format(S->string_ids ? ing_ids_text(&S->ids, id) : NULL, id, buf);
}

/* Collective: the customers left out for a net spend <= 0 (b->drop, by id
 * on each rank, ranks in id order) as rows of the rejects file, source
 * "customers", the id as raw text, appended after the rows of the sources.
 * The line cell holds the id too with integer ids; with string ids it is
 * empty (the key is no line and no id a user wrote), the key only orders
 * the rows. Errors: IO, NOMEM; agreed on all ranks. */
static tribe_status reject_customers(tribe_par *par, state *S, const build_ctx *b)
{
    tribe_status st = TRIBE_OK;
    char why[160], id[TRIBE_ID_BUF];
    S->rej.stream = ING_REJ_SHARED;
    for (int64_t i = 0; i < b->n_drop && st == TRIBE_OK; i++) {
        const tx_cust *cu = &S->tx.c[b->drop[i]];
        snprintf(why, sizeof why, "net spend <= 0: gross %.2f, returned %.2f", tribe_xsum_value(cu->money),
                 tribe_xsum_value(cu->ret));
        fmt_id(S, cu->id, id);
        if (S->string_ids)
            st = ing_rejects_add_unnumbered(&S->rej, S->cust_src, cu->id, why, id, strlen(id));
        else
            st = ing_rejects_add(&S->rej, S->cust_src, cu->id, why, id, strlen(id));
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    S->rej.append = 1; /* after the sources' rows, written by read_sources */
    TRIBE_TRY(ing_rejects_write(par, &S->rej));
cleanup:
    return st;
}

/* Everything after parsing: levels, snapshot, shuffles, features.
 * Collective. Errors: USAGE (cutoff or snapshot against the data's dates),
 * NOMEM, INTERNAL; every rank fails the same way. */
/* "category_<level>_share" with the level's letters and digits lower-cased
 * and every other run of bytes one '_'; a duplicate (or empty) name gets the
 * category's rank instead. Not collective. */
static void category_name(const char *level, int t, const build_ctx *b, char out[64])
{
    size_t n = (size_t)snprintf(out, 64, "category_");
    for (const char *p = level; *p && n < 40; p++) {
        char ch = *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            out[n++] = ch;
        else if (ch >= 'A' && ch <= 'Z')
            out[n++] = (char)(ch - 'A' + 'a');
        else if (out[n - 1] != '_')
            out[n++] = '_';
    }
    while (n > 9 && out[n - 1] == '_')
        n--;
    int dup = n == 9;
    out[n] = '\0';
    for (int u = 0; u < t; u++)
        dup |= strncmp(b->top_name[u], out, n) == 0 && strcmp(b->top_name[u] + n, "_share") == 0;
    snprintf(out + n, 64 - n, dup ? "_%d_share" : "_share", t + 1);
}

/* Collective (one sum-reduction over the categories): the CAT_TOP
 * categories with the most purchase spend over all customers (ties: the
 * level first by byte value), their feature names, and each owned customer's
 * share of its categorised spend in each (NaN without a categorised
 * purchase). No category column: nothing. Errors: NOMEM, agreed. */
static tribe_status build_categories(tribe_par *par, const state *S, build_ctx *b)
{
    tribe_status st = TRIBE_OK;
    int64_t *tot = NULL, *sum = NULL;
    const int nl = b->cat.n;
    if (nl == 0) /* the union is global: the same on every rank */
        return TRIBE_OK;
    const size_t n = (size_t)(b->n > 0 ? b->n : 1);
    st = tribe_calloc((void **)&tot, (size_t)nl, sizeof *tot);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sum, n * (CAT_TOP + 1), sizeof *sum);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&b->catshare, n * CAT_TOP * sizeof *b->catshare);
    TRIBE_TRY(tribe_par_agree(par, st));
    const ing_map *m = &S->tx.cat;
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].a != ING_EMPTY)
            tot[m->t[i].b] += m->t[i].v;
    TRIBE_TRY(tribe_par_sum_i64(par, tot, nl));
    int top[CAT_TOP];
    b->n_top = 0;
    for (int t = 0; t < CAT_TOP; t++) {
        int best = -1;
        for (int l = 0; l < nl; l++) {
            int used = 0;
            for (int u = 0; u < t; u++)
                used |= top[u] == l;
            if (!used && tot[l] > 0 && (best < 0 || tot[l] > tot[best]))
                best = l;
        }
        if (best < 0)
            break;
        top[b->n_top] = best;
        category_name(b->cat.levels[best], t, b, b->top_name[b->n_top]);
        b->n_top++;
    }
    for (size_t i = 0; i < m->cap; i++) /* sum[k][0]: all categorised spend; [1 + t]: in top[t] */
        if (m->t[i].a != ING_EMPTY) {
            int64_t *row = sum + m->t[i].a * (CAT_TOP + 1);
            row[0] += m->t[i].v;
            for (int t = 0; t < b->n_top; t++)
                row[1 + t] += (int64_t)m->t[i].b == top[t] ? m->t[i].v : 0;
        }
    for (int64_t k = 0; k < b->n; k++)
        for (int t = 0; t < CAT_TOP; t++) {
            const int64_t *row = sum + k * (CAT_TOP + 1);
            b->catshare[k * CAT_TOP + t] = row[0] > 0 ? (float)((double)row[1 + t] / (double)row[0]) : NAN;
        }
cleanup:
    free(tot);
    free(sum);
    return st;
}

/* The columns the mapping adds: a <name>_share per named channel, and the
 * financial ones when the demographics map income, debt or a credit score.
 * The same on every rank (the mapping is). Not collective. */
static void build_extras(const state *S, int has_demo, build_ctx *b)
{
    const tribe_map_source *tx = &S->map->src[SRC_TX], *dm = &S->map->src[SRC_DEMO];
    b->n_chan = tx->n_channels;
    for (int c = 0; c < b->n_chan; c++)
        snprintf(b->chan_name[c], sizeof b->chan_name[c], "%s_share", tx->channel_name[c]);
    b->fin = has_demo && (dm->column[TRIBE_DEMO_INCOME] || dm->column[TRIBE_DEMO_DEBT] ||
                          dm->column[TRIBE_DEMO_CREDIT_SCORE] || dm->constant[TRIBE_DEMO_INCOME] ||
                          dm->constant[TRIBE_DEMO_DEBT] || dm->constant[TRIBE_DEMO_CREDIT_SCORE]);
}

/* Collective: the categorical credit_band of the credit_score column, in the
 * FICO ranges (poor < 580, fair < 670, good < 740, very good < 800,
 * exceptional); missing outside 300..850 or without a score. The levels are
 * fixed, in score order. Errors: NOMEM, agreed. */
static tribe_status add_credit_band(tribe_par *par, tribe_table *t)
{
    static const char *const band[] = {"poor", "fair", "good", "very good", "exceptional"};
    static const double upper[] = {580, 670, 740, 800, 851};
    tribe_catcol *col = NULL;
    const int j = tribe_table_feature(t, "credit_score");
    tribe_status st = tribe_table_add_cat(t, "credit_band", 5, band, &col);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < t->n_local; i++) {
        float v = t->x[i * t->d + j];
        col->code[i] = -1;
        for (int k = 0; k < 5 && v >= 300 && v <= 850; k++)
            if (v < upper[k]) {
                col->code[i] = k;
                break;
            }
    }
cleanup:
    return st;
}

/* Collective: the offers' items of the table's rows (ingest_items.c) into
 * *items. Errors: NOMEM, INTERNAL; agreed. */
static tribe_status build_items(tribe_par *par, const state *S, const build_ctx *b, tribe_items *items)
{
    tribe_status st = TRIBE_OK;
    int64_t *n_item = NULL;
    st = tribe_alloc((void **)&n_item, (size_t)(S->tx.n > 0 ? S->tx.n : 1) * sizeof *n_item);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < S->tx.n; i++)
        n_item[i] = S->tx.c[i].n_item;
    ing_items_src src = {.spend = &S->tx.item,
                         .spend_remap = tribe_par_size(par) == 1 ? b->item.remap : NULL,
                         .desc_rows = S->desc_rows,
                         .n_desc = S->itemdesc.n,
                         .item = b->item.levels,
                         .n_item = b->item.n,
                         .pair = b->itemdesc.levels,
                         .n_pair = b->itemdesc.n,
                         .pair_remap = b->itemdesc.remap,
                         .n_owned = S->tx.n,
                         .owned_items = n_item,
                         .order = b->order,
                         .n_rows = b->n_rows,
                         .unit = CAT_UNIT,
                         .categories = has_categories(&S->map->src[SRC_TX])};
    TRIBE_TRY(ing_items_build(par, &src, items));
cleanup:
    free(n_item);
    return st;
}

static tribe_status build(tribe_par *par, const tribe_ingest_cfg *cfg, state *S, int64_t snapshot_override,
                          tribe_table **out, tribe_table **target, tribe_items *items)
{
    tribe_status st = TRIBE_OK;
    const int has_web = cfg->web != NULL, has_demo = cfg->demographics != NULL;
    build_ctx b;
    tribe_table *t = NULL, *tg = NULL;
    memset(&b, 0, sizeof b);

    build_extras(S, has_demo, &b);
    TRIBE_TRY(build_levels(par, S, &b));
    TRIBE_TRY(build_snapshot(par, cfg, S, snapshot_override));
    TRIBE_TRY(build_owners(par, S, &b));
    if (S->string_ids)
        TRIBE_TRY(ing_ids_shuffle(par, &S->ids, b.spl));
    TRIBE_TRY(shuffle_tx(par, S, b.spl, &b.ctry, &b.cat, &b.item));
    TRIBE_TRY(build_alloc(par, S, &b));
    TRIBE_TRY(build_categories(par, S, &b));
    if (has_web)
        TRIBE_TRY(shuffle_web(par, S, b.spl, &b.dev, b.wt, &b.devmap));
    if (has_demo)
        TRIBE_TRY(shuffle_demo(par, S, b.spl, &b.ctry, &b.occ, &b.sub, b.best));
    build_codes(S, &b);
    TRIBE_TRY(build_tables(par, has_web, has_demo, S, &b, &t, target ? &tg : NULL));
    if (items)
        TRIBE_TRY(build_items(par, S, &b, items));
    if (S->rejects_all)
        TRIBE_TRY(reject_customers(par, S, &b));
    if (S->string_ids) {
        TRIBE_TRY(ing_ids_fill(par, &S->ids, t));
        if (tg)
            TRIBE_TRY(ing_ids_fill(par, &S->ids, tg));
    }
    TRIBE_TRY(add_cat(par, t, "country", &b.ctry, b.cc));
    if (has_web)
        TRIBE_TRY(add_cat(par, t, "device", &b.dev, b.dc));
    if (has_demo) {
        TRIBE_TRY(add_cat(par, t, "occupation", &b.occ, b.oc));
        TRIBE_TRY(add_cat(par, t, "subscription", &b.sub, b.sc));
    }
    if (b.fin)
        TRIBE_TRY(add_credit_band(par, t));
    TRIBE_TRY(tribe_par_agree(par, tribe_table_set_model_default(t))); /* a local allocation */
    TRIBE_TRY(tribe_par_exscan_i64(par, b.n_rows, &t->offset, &t->n_global));
    S->led.customers = b.n_rows; /* summed by the caller with the other counts */
    if (tg) {
        tg->offset = t->offset;
        tg->n_global = t->n_global;
        *target = tg;
        tg = NULL;
    }
    *out = t;
    t = NULL;
cleanup:
    build_ctx_free(&b);
    tribe_table_destroy(&t);
    tribe_table_destroy(&tg);
    return st;
}

tribe_status tribe_ingest(tribe_par *par, const tribe_ingest_cfg *cfg, tribe_table **out, tribe_ledger *ledger)
{
    return tribe_ingest_split(par, cfg, out, NULL, ledger);
}

/* The files of every source: the lists, or the single paths. */
typedef struct {
    ing_files f[3];          /* SRC_TX, SRC_WEB, SRC_DEMO */
    const char **names;      /* every file, sources in that order, then "customers": the rejects' source column */
    const char *one[3];      /* a single path seen as a list of one */
} sources;

static const char *const source_kind[3] = {"transactions", "web", "demographics"};

/* Not collective (the same on every rank). Errors: USAGE for no transactions
 * file or an empty path in a list; NOMEM. */
static tribe_status sources_init(const tribe_ingest_cfg *cfg, sources *src)
{
    tribe_status st = TRIBE_OK;
    const char *const *list[3] = {cfg->transactions_files, cfg->web_files, cfg->demographics_files};
    const int nlist[3] = {cfg->n_transactions_files, cfg->n_web_files, cfg->n_demographics_files};
    src->one[SRC_TX] = cfg->transactions;
    src->one[SRC_WEB] = cfg->web;
    src->one[SRC_DEMO] = cfg->demographics;
    int total = 0;
    for (int k = 0; k < 3; k++) {
        ing_files *f = &src->f[k];
        f->first = total;
        if (nlist[k] > 0) {
            f->path = list[k];
            f->n = nlist[k];
        } else if (src->one[k] && *src->one[k]) { /* an empty path means "no such source" */
            f->path = &src->one[k];
            f->n = 1;
        }
        for (int i = 0; i < f->n; i++)
            if (!f->path[i] || !*f->path[i])
                return tribe_fail(TRIBE_ERR_USAGE, "ingest: %s file %d of %d has an empty path", source_kind[k],
                                  i + 1, f->n);
        total += f->n;
    }
    if (src->f[SRC_TX].n == 0)
        return tribe_fail(TRIBE_ERR_USAGE, "ingest: no transactions file given");
    TRIBE_TRY(tribe_calloc((void **)&src->names, (size_t)total + 1, sizeof *src->names));
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < src->f[k].n; i++)
            src->names[src->f[k].first + i] = src->f[k].path[i];
    src->names[total] = "customers"; /* the customers left out (net spend <= 0), after every file */
cleanup:
    return st;
}

static void sources_free(sources *src)
{
    for (int k = 0; k < 3; k++)
        ing_files_free(&src->f[k]);
    free(src->names);
    src->names = NULL;
}

/* Collective: reads every source (tm[k + 1]: when source k was done) and
 * writes the rejects file, also after a failed source (with what was read
 * so far: the rejects explain the data, whatever happens next). */
static tribe_status read_sources(tribe_par *par, const tribe_ingest_cfg *cfg, state *S, sources *src, double *tm)
{
    tribe_status st = TRIBE_OK;
    tribe_progress_begin("reading", "rows read by rank 0", 0);
    for (int k = 0; k < 3; k++) {
        if (st == TRIBE_OK && src->f[k].n > 0) {
            header_ctx h = {S, k};
            st = ing_files_plan(par, &src->f[k], header_check, &h);
            if (st == TRIBE_OK)
                st = read_source(par, S, k, &src->f[k], cfg->gz_block);
        }
        tm[k + 1] = tribe_now();
    }
    if (st == TRIBE_OK) {
        tribe_progress_step(S->led.rows_read + S->led.web_rows + S->led.demographics_rows);
        tribe_progress_end();
    }
    /* st is agreed here */
    tribe_status wst = ing_rejects_write(par, &S->rej);
    return st != TRIBE_OK ? st : wst;
}

/* The transactions files for a message: "a.csv" or "a.csv (and 11 more files)". */
static void tx_label(const sources *src, char *buf, size_t cap)
{
    const ing_files *f = &src->f[SRC_TX];
    if (f->n == 1)
        snprintf(buf, cap, "%s", f->path[0]);
    else
        snprintf(buf, cap, "%s (and %d more files)", f->path[0], f->n - 1);
}

tribe_status tribe_ingest_split(tribe_par *par, const tribe_ingest_cfg *cfg, tribe_table **out,
                                tribe_table **target, tribe_ledger *ledger)
{
    return tribe_ingest_split_items(par, cfg, out, target, ledger, NULL);
}

/* The config's dates: *snapshot (INT64_MIN: none) and *cutoff (INT64_MAX:
 * none). Errors: USAGE, the same on every rank (no agreement needed). */
static tribe_status date_options(const tribe_ingest_cfg *cfg, int64_t *snapshot, int64_t *cutoff)
{
    if (cfg->snapshot && *cfg->snapshot && !tribe_day_parse(cfg->snapshot, strlen(cfg->snapshot), snapshot))
        return tribe_fail(TRIBE_ERR_USAGE, "ingest: snapshot '%s' is not a date (expected YYYY-MM-DD)",
                          cfg->snapshot);
    if (cfg->cutoff && *cfg->cutoff) {
        if (!tribe_day_parse(cfg->cutoff, strlen(cfg->cutoff), cutoff))
            return tribe_fail(TRIBE_ERR_USAGE, "ingest: cutoff '%s' is not a date (expected YYYY-MM-DD)",
                              cfg->cutoff);
        if (cfg->horizon_days <= 0)
            return tribe_fail(TRIBE_ERR_USAGE, "ingest: horizon %lld days: need a positive number of days",
                              (long long)cfg->horizon_days);
        if (*snapshot != INT64_MIN)
            return tribe_fail(TRIBE_ERR_USAGE, "ingest: give a snapshot or a cutoff, not both (the snapshot "
                                               "of a cutoff is the day after it)");
    }
    return TRIBE_OK;
}

/* Collective (one max-reduction): S's settings from cfg before any row is
 * read (S->map set). Errors: as tribe_par_max_i64. */
static tribe_status state_setup(tribe_par *par, const tribe_ingest_cfg *cfg, const sources *src, int64_t cutoff,
                                state *S)
{
    tribe_status st = TRIBE_OK;
    /* a transaction dated after the run's day (UTC; the latest rank's
     * clock, so every rank draws the line at the same day) cannot have
     * happened; a day of slack for time zones */
    int64_t today = (int64_t)(time(NULL) / 86400);
    TRIBE_TRY(tribe_par_max_i64(par, &today, 1));
    S->day_lo = tribe_days_from_civil(1900, 1, 1);
    S->day_hi = today + 1;
    S->rejects_all = cfg->rejects_all;
    S->cust_src = src->f[SRC_DEMO].first + src->f[SRC_DEMO].n;
    S->string_ids = cfg->string_ids;
    S->cutoff = cutoff;
    S->led.cutoff_day = -1;
    S->horizon_end = cutoff != INT64_MAX ? cutoff + cfg->horizon_days : INT64_MAX;
    S->led.has_web = cfg->web != NULL;
    S->led.has_demographics = cfg->demographics != NULL;
    tribe_currency cur = tribe_currency_default(); /* until the mapping or the data says otherwise */
    memcpy(S->led.currency, cur.code, sizeof S->led.currency);
    memcpy(S->led.currency_symbol, cur.symbol, sizeof S->led.currency_symbol);
cleanup:
    return st;
}

/* The error when no purchase row was kept, each rule's count named by the
 * mapped columns. */
static tribe_status no_row_kept(const state *S, const char *label)
{
    const tribe_ledger *l = &S->led;
    return tribe_fail(TRIBE_ERR_INPUT,
                      "%s: no purchase row was kept (%lld read: %lld malformed, %lld dated out of range, "
                      "%lld without %s, %lld returns, %lld with %s = 0, %lld with %s <= 0)",
                      label, (long long)l->rows_read, (long long)l->malformed, (long long)l->implausible_date,
                      (long long)l->missing_customer_id, ing_rule_column(S->map, TRIBE_TX_CUSTOMER_ID),
                      (long long)l->returns, (long long)l->nonpositive_quantity,
                      role_label(&S->map->src[SRC_TX], SRC_TX, TRIBE_TX_QUANTITY), (long long)l->nonpositive_price,
                      ing_rule_column(S->map, TRIBE_TX_UNIT_PRICE));
}

/* Collective (one sum-reduction): the counts build() made on the owner
 * ranks (owned, this rank's) summed into *parsed, with the split and the
 * dates owned holds (the same on every rank). Call on every rank, after
 * build() (which ends agreed, or fails the same way on every rank). */
static tribe_status ledger_merge_owned(tribe_par *par, const tribe_ledger *owned, tribe_ledger *parsed)
{
    int64_t v[8] = {owned->web_rows_kept,          owned->web_rows_unmatched,
                    owned->demographics_rows_kept, owned->demographics_rows_unmatched,
                    owned->demographics_duplicate_ids, owned->customers, owned->customers_after_cutoff,
                    owned->customers_net_nonpositive};
    tribe_status st = tribe_par_sum_i64(par, v, 8);
    parsed->web_rows_kept = v[0];
    parsed->web_rows_unmatched = v[1];
    parsed->demographics_rows_kept = v[2];
    parsed->demographics_rows_unmatched = v[3];
    parsed->demographics_duplicate_ids = v[4];
    parsed->customers = v[5];
    parsed->customers_after_cutoff = v[6];
    parsed->customers_net_nonpositive = v[7];
    parsed->cutoff_day = owned->cutoff_day;
    parsed->horizon_days = owned->horizon_days;
    memcpy(parsed->cutoff, owned->cutoff, sizeof parsed->cutoff);
    parsed->first_invoice_day = owned->first_invoice_day;
    parsed->last_invoice_day = owned->last_invoice_day;
    parsed->snapshot_day = owned->snapshot_day;
    memcpy(parsed->snapshot, owned->snapshot, sizeof parsed->snapshot);
    return st;
}

tribe_status tribe_ingest_split_items(tribe_par *par, const tribe_ingest_cfg *user_cfg, tribe_table **out,
                                      tribe_table **target, tribe_ledger *ledger, tribe_items *items)
{
    tribe_status st = TRIBE_OK;
    state S;
    sources src;
    int64_t snapshot = INT64_MIN;
    tribe_ledger parsed;
    tribe_ingest_cfg norm;
    const tribe_ingest_cfg *cfg = &norm;
    double tm[5] = {0}; /* phase start times, for the debug log */
    int64_t cutoff = INT64_MAX;
    char label[4200];
    tribe_mapping *builtin = NULL;
    *out = NULL;
    if (target)
        *target = NULL;
    memset(ledger, 0, sizeof *ledger);
    memset(&S, 0, sizeof S);
    memset(&src, 0, sizeof src);
    /* Config problems are the same on every rank: no agreement needed. */
    if (!user_cfg)
        return tribe_fail(TRIBE_ERR_USAGE, "ingest: no transactions file given");
    norm = *user_cfg;
    st = date_options(cfg, &snapshot, &cutoff);
    if (st != TRIBE_OK)
        return st;
    /* Its usage errors are the same on every rank, an allocation failure not. */
    TRIBE_TRY(tribe_par_agree(par, sources_init(cfg, &src)));
    /* build() and the messages below see the first file of each source */
    norm.transactions = src.f[SRC_TX].path[0];
    norm.web = src.f[SRC_WEB].n > 0 ? src.f[SRC_WEB].path[0] : NULL;
    norm.demographics = src.f[SRC_DEMO].n > 0 ? src.f[SRC_DEMO].path[0] : NULL;
    tx_label(&src, label, sizeof label);

    st = state_init(&S);
    if (st == TRIBE_OK && !cfg->mapping)
        st = tribe_mapping_default(&builtin);
    TRIBE_TRY(tribe_par_agree(par, st));
    S.map = cfg->mapping ? cfg->mapping : builtin;
    TRIBE_TRY(state_setup(par, cfg, &src, cutoff, &S));

    TRIBE_TRY(ing_rejects_open(par, &S.rej, cfg->rejects, src.names));
    tm[0] = tribe_now();
    st = read_sources(par, cfg, &S, &src, tm);
    tm[4] = tribe_now();
    {
        tribe_status sst = ledger_sum(par, &S.led);
        if (st == TRIBE_OK)
            st = sst;
    }
    if (st == TRIBE_OK)
        st = ing_currency_agree(par, &S.cur, src.names, S.map->src[SRC_TX].currency, S.led.currency,
                                S.led.currency_symbol);
    *ledger = S.led;
    if (st != TRIBE_OK)
        goto cleanup;
    if (S.led.rows_kept == 0) {
        st = no_row_kept(&S, label);
        goto cleanup;
    }

    /* Owner-side counts start from zero and are summed after the shuffles. */
    parsed = S.led;
    S.led.web_rows_kept = S.led.web_rows_unmatched = 0;
    S.led.demographics_rows_kept = S.led.demographics_rows_unmatched = S.led.demographics_duplicate_ids = 0;
    S.led.cutoff_day = cutoff != INT64_MAX ? cutoff : -1;
    S.led.horizon_days = cutoff != INT64_MAX ? cfg->horizon_days : 0;
    if (cutoff != INT64_MAX)
        tribe_format_day(cutoff, S.led.cutoff);
    st = build(par, cfg, &S, snapshot, out, target, items);
    TRIBE_DEBUG("ingest: read transactions %.2f s, web %.2f s, demographics %.2f s, rejects %.2f s, "
                "merge %.2f s (rank 0)",
                tm[1] - tm[0], tm[2] - tm[1], tm[3] - tm[2], tm[4] - tm[3], tribe_now() - tm[4]);
    {
        tribe_status sst = ledger_merge_owned(par, &S.led, &parsed);
        if (st == TRIBE_OK)
            st = sst;
    }
    *ledger = parsed;
    if (st == TRIBE_OK && parsed.customers == 0)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: no customer has a net spend > 0 (%lld left out for net spend <= 0, "
                        "%lld with rows only after the cutoff)", label, (long long)parsed.customers_net_nonpositive,
                        (long long)parsed.customers_after_cutoff);
    if (st == TRIBE_OK && (*out)->n_global != parsed.customers)
        st = tribe_fail(TRIBE_ERR_INTERNAL, "ingest: table has %lld rows but %lld customers were counted",
                        (long long)(*out)->n_global, (long long)parsed.customers);
cleanup:
    if (st != TRIBE_OK) {
        tribe_table_destroy(out);
        if (target)
            tribe_table_destroy(target);
        tribe_items_free(items);
    }
    state_free(&S);
    sources_free(&src);
    tribe_mapping_destroy(&builtin);
    return st;
}
