/* Stage "offers": what each segment buys more than the base (tribe/offers.h,
 * docs/offers.md), from /customers/items of the input (tribe/items.h).
 * Writes /segments/offers, run.json's "offers", the report's "What each
 * segment buys more than the base"; adds the offers to r->segs for the
 * segment profiles, the personas and the campaign plan. An input without
 * items (an older tribe's customers.h5, tribe import) skips the stage with
 * an info line. */
#include "tribe/offers.h"
#include "tribe/llm.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    tribe_offers_cfg cfg;
    int64_t k_min;     /* persona.k_min: smaller segments are not shown in the report */
    int has;           /* the input has /customers/items */
    int kind;          /* TRIBE_ITEMS_* */
    tribe_offers res;
    char **code, **name; /* [n_items] of the input (offered ones only are used) */
    int n_items;
    char **exclude;    /* offers.exclude: item codes never offered */
    int n_exclude;
} offers_stage;

/* Online Retail's stock codes that are not products: postage, carriage,
 * manual entries, discounts, fees, samples and charity (docs/offers.md). */
static const char *const EXCLUDE_DEFAULT[] = {"POST", "DOT", "C2", "M", "D", "S", "B", "CRUK", "PADS",
                                               "AMAZONFEE", "BANK CHARGES", "gift_0001_10", "gift_0001_20",
                                               "gift_0001_30", "gift_0001_40", "gift_0001_50"};

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    offers_stage *s = state;
    tribe_spec *o = NULL;
    tribe_persona_settings set;
    tribe_status st = TRIBE_OK;
    tribe_offers_cfg_default(&s->cfg);
    TRIBE_TRY(tribe_spec_object(spec, "offers", &o));
    TRIBE_TRY(tribe_spec_bool(o, "enabled", enabled));
    TRIBE_TRY(tribe_spec_i64(o, "min_customers", 1, 1e15, &s->cfg.min_customers));
    TRIBE_TRY(tribe_spec_num(o, "min_share", 0, 1, &s->cfg.min_share));
    TRIBE_TRY(tribe_spec_num(o, "min_lift", 1, 1e6, &s->cfg.min_lift));
    TRIBE_TRY(tribe_spec_int(o, "top", 1, TRIBE_OFFERS_TOP_MAX, &s->cfg.top));
    TRIBE_TRY(tribe_spec_int(o, "max_items", 1, 1000000, &s->cfg.max_items));
    TRIBE_TRY(tribe_spec_strs(o, "exclude", &s->exclude, &s->n_exclude));
    if (!tribe_spec_has(o, "exclude")) {
        const int n = (int)(sizeof EXCLUDE_DEFAULT / sizeof *EXCLUDE_DEFAULT);
        TRIBE_TRY(tribe_calloc((void **)&s->exclude, (size_t)n, sizeof *s->exclude));
        for (; s->n_exclude < n; s->n_exclude++)
            TRIBE_TRY(tribe_strdup(EXCLUDE_DEFAULT[s->n_exclude], &s->exclude[s->n_exclude]));
    }
    TRIBE_TRY(tribe_spec_check(o));
    /* the report hides what the personas hide: segments under persona.k_min */
    st = tribe_persona_settings_read(spec, job->seed, &set);
    if (st == TRIBE_OK)
        s->k_min = set.llm.req.k_min;
    tribe_persona_settings_clear(&set);
cleanup:
    return st;
}

/* The offers of rank 0's result into the segment profiles (every rank: the
 * result is the same everywhere). */
static void fill_segments(const offers_stage *s, tribe_segments *segs)
{
    for (int c = 0; c < segs->k && c < s->res.k; c++) {
        tribe_segment *g = &segs->seg[c];
        g->n_offers = 0;
        for (int q = 0; q < s->res.n_offers[c] && q < TRIBE_SEG_OFFERS; q++) {
            const tribe_offer *o = &s->res.offer[(int64_t)c * s->res.top + q];
            tribe_segoffer *f = &g->offer[g->n_offers++];
            size_t n = strlen(s->name[o->item]);
            if (n >= sizeof f->name) /* cut at a character boundary of UTF-8 */
                for (n = sizeof f->name - 1; n > 0 && (s->name[o->item][n] & 0xC0) == 0x80; n--)
                    ;
            memcpy(f->name, s->name[o->item], n);
            f->name[n] = '\0';
            f->lift = o->lift;
            f->share = o->share;
            f->base_share = o->base_share;
            f->customers = o->customers;
        }
    }
}

static tribe_status run(void *state, tribe_run *r)
{
    offers_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_items it = {0};
    uint8_t *skip = NULL;
    TRIBE_DEBUG("offers: min_customers %lld, min_share %g, min_lift %g, top %d, max_items %d, %d codes excluded",
                (long long)s->cfg.min_customers, s->cfg.min_share, s->cfg.min_lift, s->cfg.top, s->cfg.max_items,
                s->n_exclude);
    TRIBE_TRY(tribe_items_read(r->par, r->job->input, &r->rows, &it, &s->has));
    if (!s->has) {
        TRIBE_INFO("offers: %s has no /customers/items (written by an older tribe, by tribe import, or from "
                   "transactions without a product or category column): no offers; ingest the transactions with "
                   "this tribe to get them",
                   r->job->input);
        goto cleanup;
    }
    st = tribe_calloc((void **)&skip, (size_t)(it.n_items > 0 ? it.n_items : 1), 1);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    for (int i = 0; i < it.n_items; i++)
        for (int e = 0; e < s->n_exclude && !skip[i]; e++)
            skip[i] = strcmp(it.code[i], s->exclude[e]) == 0;
    TRIBE_TRY(tribe_offers_fit(r->par, r->label, &it, r->k, &s->cfg, skip, &s->res));
    s->kind = it.kind;
    s->n_items = it.n_items;
    s->code = it.code;
    s->name = it.name;
    it.code = it.name = NULL;
    if (r->segs)
        fill_segments(s, r->segs);
    {
        int64_t total = 0;
        for (int c = 0; c < r->k; c++)
            total += s->res.n_offers[c];
        TRIBE_INFO("offers: %lld offers over %d segments (%lld of %lld %s with >= %lld buyers counted)",
                   (long long)total, r->k, (long long)s->res.items_counted, (long long)s->res.items_total,
                   s->kind == TRIBE_ITEMS_CATEGORIES ? "categories" : "products", (long long)s->cfg.min_customers);
    }
cleanup:
    tribe_items_free(&it);
    free(skip);
    return st;
}

/* Collective: /segments/offers (docs/hdf5-layout.md), k x top each, rows
 * padded with item -1 and NaN. */
static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    offers_stage *s = state;
    tribe_status st = TRIBE_OK;
    int32_t *item = NULL;
    int64_t *cust = NULL;
    double *num = NULL;
    char *names = NULL;
    const int k = r->k, top = s->res.top;
    const size_t kt = (size_t)k * (size_t)top;
    if (!s->has)
        return TRIBE_OK;
    st = tribe_alloc((void **)&item, kt * sizeof *item);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&cust, kt * sizeof *cust);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&num, 3 * kt * sizeof *num);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&names, kt, 96);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    for (size_t q = 0; q < kt; q++) {
        int c = (int)(q / (size_t)top), p = (int)(q % (size_t)top);
        int on = p < s->res.n_offers[c];
        const tribe_offer *o = &s->res.offer[q];
        item[q] = on ? o->item : -1;
        cust[q] = on ? o->customers : 0;
        num[q] = on ? o->lift : NAN;
        num[kt + q] = on ? o->share : NAN;
        num[2 * kt + q] = on ? o->base_share : NAN;
        if (on)
            memcpy(names + q * 96, r->segs->seg[c].offer[p].name, strlen(r->segs->seg[c].offer[p].name));
    }
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/offers/item", TRIBE_H5_I32, k, top, item));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/offers/customers", TRIBE_H5_I64, k, top, cust));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/offers/lift", TRIBE_H5_F64, k, top, num));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/offers/share", TRIBE_H5_F64, k, top, num + kt));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/offers/base_share", TRIBE_H5_F64, k, top, num + 2 * kt));
    TRIBE_TRY(tribe_h5_write_str_rows(h, "/segments/offers/name", (int64_t)kt, 0,
                                      tribe_par_rank(r->par) == 0 ? (int64_t)kt : 0, 96, names));
    TRIBE_TRY(tribe_h5_attr_str(h, "/segments/offers", "kind",
                                s->kind == TRIBE_ITEMS_CATEGORIES ? "categories" : "products"));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments/offers", "min_customers", s->cfg.min_customers));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/offers", "min_share", s->cfg.min_share));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/offers", "min_lift", s->cfg.min_lift));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments/offers", "items_counted", s->res.items_counted));
cleanup:
    free(item);
    free(cust);
    free(num);
    free(names);
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    offers_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *segs = NULL, *one = NULL, *list = NULL, *o = NULL;
    TRIBE_TRY(tribe_rec_bool(obj, "computed", s->has));
    if (!s->has)
        goto cleanup;
    TRIBE_TRY(tribe_rec_str(obj, "kind", s->kind == TRIBE_ITEMS_CATEGORIES ? "categories" : "products"));
    TRIBE_TRY(tribe_rec_int(obj, "min_customers", s->cfg.min_customers));
    TRIBE_TRY(tribe_rec_num(obj, "min_share", s->cfg.min_share));
    TRIBE_TRY(tribe_rec_num(obj, "min_lift", s->cfg.min_lift));
    TRIBE_TRY(tribe_rec_int(obj, "top", s->cfg.top));
    TRIBE_TRY(tribe_rec_int(obj, "items_total", s->res.items_total));
    TRIBE_TRY(tribe_rec_int(obj, "items_counted", s->res.items_counted));
    TRIBE_TRY(tribe_rec_arr(obj, "segments", &segs));
    for (int c = 0; c < r->k; c++) {
        TRIBE_TRY(tribe_rec_obj(segs, NULL, &one));
        TRIBE_TRY(tribe_rec_int(one, "segment", c));
        TRIBE_TRY(tribe_rec_arr(one, "offers", &list));
        for (int q = 0; q < s->res.n_offers[c]; q++) {
            const tribe_offer *f = &s->res.offer[(int64_t)c * s->res.top + q];
            TRIBE_TRY(tribe_rec_obj(list, NULL, &o));
            TRIBE_TRY(tribe_rec_str(o, "code", s->code[f->item]));
            TRIBE_TRY(tribe_rec_str(o, "name", r->segs->seg[c].offer[q].name));
            TRIBE_TRY(tribe_rec_num(o, "lift", f->lift));
            TRIBE_TRY(tribe_rec_num(o, "share", f->share));
            TRIBE_TRY(tribe_rec_num(o, "base_share", f->base_share));
            TRIBE_TRY(tribe_rec_int(o, "customers", f->customers));
        }
    }
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    offers_stage *s = state;
    return s->has ? tribe_report_offers(b, r->segs, s->kind == TRIBE_ITEMS_CATEGORIES, s->k_min) : TRIBE_OK;
}

static void destroy(void *state)
{
    offers_stage *s = state;
    tribe_offers_free(&s->res);
    tribe_free_strs(s->code, s->n_items);
    tribe_free_strs(s->name, s->n_items);
    tribe_free_strs(s->exclude, s->n_exclude);
}

const tribe_stage_def tribe_stage_offers = {
    .name = "offers", .state_size = sizeof(offers_stage), .report_order = 87, .configure = configure, .run = run,
    .write = write, .record = record, .report = report, .destroy = destroy};
