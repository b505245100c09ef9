/* Offers on 1, 2 and 4 ranks give the serial result: ingest's items
 * (tribe_ingest_split_items) are each rank's slice of the serial CSR with
 * the same item codes and names, for products (the retail layout) and for
 * categories (the financial layout's merchant codes); written to
 * customers.h5 and read back per rank they are unchanged; and
 * tribe_offers_fit on the shards equals the serial fit bit for bit. A
 * customers.h5 without items reads as "no items". */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/h5.h"
#include "tribe/ingest.h"
#include "tribe/offers.h"

#include <stdlib.h>
#include <string.h>

static tribe_par *par;

/* A label of each customer that does not depend on the rank count. */
static void labels_of(const tribe_table *t, int32_t *label)
{
    for (int64_t i = 0; i < t->n_local; i++)
        label[i] = (int32_t)((uint64_t)t->id[i] * 2654435761u % 4);
}

static int64_t sum_before(const tribe_items *it, int64_t rows)
{
    int64_t s = 0;
    for (int64_t i = 0; i < rows; i++)
        s += it->count[i];
    return s;
}

/* The shard p must be rows [off, off + p->n_local) of the serial items s. */
static void check_items(const char *what, const tribe_items *p, const tribe_items *s, int64_t off)
{
    TRIBE_MPI_CHECK(par, p->n_items == s->n_items && p->kind == s->kind, "%s: %d vs %d items", what, p->n_items,
                    s->n_items);
    if (p->n_items != s->n_items)
        return;
    for (int i = 0; i < p->n_items; i++)
        TRIBE_MPI_CHECK(par, strcmp(p->code[i], s->code[i]) == 0 && strcmp(p->name[i], s->name[i]) == 0,
                        "%s: item %d is %s/%s, serially %s/%s", what, i, p->code[i], p->name[i], s->code[i],
                        s->name[i]);
    int64_t j0 = sum_before(s, off);
    TRIBE_MPI_CHECK(par, memcmp(p->count, s->count + off, (size_t)p->n_local * sizeof *p->count) == 0,
                    "%s: counts", what);
    TRIBE_MPI_CHECK(par, p->nnz == sum_before(s, off + p->n_local) - j0, "%s: nnz", what);
    TRIBE_MPI_CHECK(par, memcmp(p->item, s->item + j0, (size_t)p->nnz * sizeof *p->item) == 0, "%s: items", what);
    TRIBE_MPI_CHECK(par, memcmp(p->spend, s->spend + j0, (size_t)p->nnz * sizeof *p->spend) == 0, "%s: spend",
                    what);
}

static void check_offers(const char *what, const tribe_offers *p, const tribe_offers *s)
{
    TRIBE_MPI_CHECK(par, p->n_customers == s->n_customers && p->items_counted == s->items_counted,
                    "%s: customers %lld vs %lld", what, (long long)p->n_customers, (long long)s->n_customers);
    TRIBE_MPI_CHECK(par, memcmp(p->n_offers, s->n_offers, (size_t)s->k * sizeof *s->n_offers) == 0, "%s: n_offers",
                    what);
    TRIBE_MPI_CHECK(par, memcmp(p->offer, s->offer, (size_t)s->k * (size_t)s->top * sizeof *s->offer) == 0,
                    "%s: offers differ from serial", what);
}

static void compare(const char *what, const tribe_ingest_cfg *cfg, const char *h5)
{
    tribe_par *sp = NULL;
    tribe_table *ts = NULL, *tp = NULL;
    tribe_items is = {0}, ip = {0}, back = {0};
    tribe_ledger led;
    tribe_offers os = {0}, op = {0};
    int32_t *ls = NULL, *lp = NULL;
    int has = 0, total = 0;
    TRIBE_MPI_CHECK(par, tribe_par_serial(&sp) == TRIBE_OK, "serial context");
    tribe_status st = tribe_ingest_split_items(sp, cfg, &ts, NULL, &led, &is);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "%s serial: %s", what, tribe_errmsg());
    st = tribe_ingest_split_items(par, cfg, &tp, NULL, &led, &ip);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "%s: %s", what, tribe_errmsg());
    if (!ts || !tp)
        goto done;
    TRIBE_MPI_CHECK(par, is.n_items > 1 && is.nnz >= ts->n_local, "%s: %d items, %lld pairs", what, is.n_items,
                    (long long)is.nnz);
    check_items(what, &ip, &is, tp->offset);
    /* customers.h5 and back, on this rank's rows */
    st = tribe_store_write_customers(par, h5, tp, NULL, NULL);
    if (st == TRIBE_OK)
        st = tribe_items_write(par, h5, tp, &ip);
    tribe_rows rows = {0};
    if (st == TRIBE_OK)
        st = tribe_rows_init(par, tp->n_local, tp->offset, tp->n_global, &rows);
    if (st == TRIBE_OK)
        st = tribe_items_read(par, h5, &rows, &back, &has);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK && has, "%s: items written and read: %s", what, tribe_errmsg());
    if (st == TRIBE_OK && has)
        check_items("read back", &back, &is, tp->offset);
    /* the fit on the shards equals the serial fit */
    ls = malloc((size_t)ts->n_local * sizeof *ls + 1);
    lp = malloc((size_t)tp->n_local * sizeof *lp + 1);
    labels_of(ts, ls);
    labels_of(tp, lp);
    tribe_offers_cfg oc;
    tribe_offers_cfg_default(&oc);
    oc.min_customers = 5;
    oc.min_share = 0.02;
    oc.min_lift = 1.0;
    oc.top = 5;
    TRIBE_MPI_CHECK(par, tribe_offers_fit(sp, ls, &is, 4, &oc, NULL, &os) == TRIBE_OK, "serial fit");
    TRIBE_MPI_CHECK(par, tribe_offers_fit(par, lp, &ip, 4, &oc, NULL, &op) == TRIBE_OK, "fit: %s", tribe_errmsg());
    for (int c = 0; c < 4 && os.n_offers; c++)
        total += os.n_offers[c];
    TRIBE_MPI_CHECK(par, total > 0, "%s: some offers", what);
    if (os.n_offers && op.n_offers)
        check_offers(what, &op, &os);
done:
    free(ls);
    free(lp);
    tribe_offers_free(&os);
    tribe_offers_free(&op);
    tribe_items_free(&is);
    tribe_items_free(&ip);
    tribe_items_free(&back);
    tribe_table_destroy(&ts);
    tribe_table_destroy(&tp);
    tribe_par_finalize(&sp);
}

int main(int argc, char **argv)
{
    par = tribe_mpitest_init(&argc, &argv);
    const char *dir = tribe_mpitest_tmpdir(par);
    char gdir[1024], fdir[1024], tx[1100], ftx[1100], h5[1100], mpath[1100];
    snprintf(gdir, sizeof gdir, "%s/retail", dir);
    snprintf(fdir, sizeof fdir, "%s/financial", dir);
    tribe_gen_cfg g;
    tribe_gen_defaults(&g);
    g.customers = 600;
    g.web = g.demographics = g.reviews = 0;
    TRIBE_MPI_CHECK(par, tribe_gen(par, &g, gdir) == TRIBE_OK, "gen retail: %s", tribe_errmsg());
    g.layout = TRIBE_GEN_FINANCIAL;
    TRIBE_MPI_CHECK(par, tribe_gen(par, &g, fdir) == TRIBE_OK, "gen financial: %s", tribe_errmsg());

    snprintf(tx, sizeof tx, "%s/transactions.csv", gdir);
    snprintf(h5, sizeof h5, "%s/retail.h5", dir);
    tribe_ingest_cfg cfg = {.transactions = tx};
    compare("products", &cfg, h5);

    tribe_mapping *map = NULL;
    snprintf(mpath, sizeof mpath, "%s/jobs/mappings/financial.json", TRIBE_SOURCE_DIR);
    TRIBE_MPI_CHECK(par, tribe_mapping_load(mpath, &map) == TRIBE_OK, "mapping: %s", tribe_errmsg());
    snprintf(ftx, sizeof ftx, "%s/transactions_data.csv", fdir);
    snprintf(h5, sizeof h5, "%s/financial.h5", dir);
    tribe_ingest_cfg fc = {.transactions = ftx, .mapping = map};
    if (map)
        compare("categories", &fc, h5);
    tribe_mapping_destroy(&map);

    /* a customers.h5 without items: none, no error */
    tribe_table *t = NULL;
    tribe_ledger led;
    tribe_items it = {0};
    int has = 1;
    snprintf(h5, sizeof h5, "%s/plain.h5", dir);
    tribe_status st = tribe_ingest(par, &cfg, &t, &led);
    if (st == TRIBE_OK)
        st = tribe_store_write_customers(par, h5, t, NULL, NULL);
    tribe_rows rows = {0};
    if (st == TRIBE_OK)
        st = tribe_rows_init(par, t->n_local, t->offset, t->n_global, &rows);
    if (st == TRIBE_OK)
        st = tribe_items_read(par, h5, &rows, &it, &has);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK && !has && it.n_items == 0, "a file without items: has %d (%s)", has,
                    tribe_errmsg());
    tribe_table_destroy(&t);
    return tribe_mpitest_finish(&par);
}
