/* tribe_ingest and tribe_import_csv on 1, 2 and 4 ranks give the serial
 * result: each rank's shard is exactly its slice of the serial table (ids,
 * features bit for bit, categorical levels and codes), the ledger and the
 * rejects file are the same, for plain files (byte ranges) and gzip files
 * (record blocks, with tiny blocks so every rank gets several). */
#include "testutil.h"
#include "tribe/id.h"
#include "tribe/ingest.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static tribe_par *par;

static int gzip_copy(const char *src, const char *dst)
{
    char *data = NULL;
    size_t len = 0;
    if (tribe_read_file(src, &data, &len) != TRIBE_OK)
        return -1;
    gzFile g = gzopen(dst, "wb");
    int ok = g && gzwrite(g, data, (unsigned)len) == (int)len;
    if (g)
        gzclose(g);
    free(data);
    return ok ? 0 : -1;
}

static int same_file(const char *a, const char *b)
{
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = tribe_read_file(a, &x, &nx) == TRIBE_OK && tribe_read_file(b, &y, &ny) == TRIBE_OK && nx == ny &&
               memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* The distributed shard `p` must be rows [p->offset, p->offset + n_local) of
 * the serial table `s`. */
static void check_slice(const char *what, const tribe_table *p, const tribe_table *s)
{
    TRIBE_MPI_CHECK(par, p->n_global == s->n_global, "%s: n_global %lld vs %lld", what, (long long)p->n_global,
                    (long long)s->n_global);
    TRIBE_MPI_CHECK(par, p->offset >= 0 && p->offset + p->n_local <= s->n_local, "%s: slice out of range", what);
    TRIBE_MPI_CHECK(par, p->d == s->d && p->n_cat == s->n_cat, "%s: shape", what);
    if (p->offset < 0 || p->offset + p->n_local > s->n_local || p->d != s->d || p->n_cat != s->n_cat)
        return;
    for (int j = 0; j < p->d; j++)
        TRIBE_MPI_CHECK(par, strcmp(p->names[j], s->names[j]) == 0, "%s: feature %d name", what, j);
    TRIBE_MPI_CHECK(par, memcmp(p->id, s->id + p->offset, (size_t)p->n_local * sizeof *p->id) == 0, "%s: ids", what);
    TRIBE_MPI_CHECK(par,
                    memcmp(p->x, s->x + (size_t)p->offset * (size_t)s->d,
                           (size_t)p->n_local * (size_t)p->d * sizeof *p->x) == 0,
                    "%s: features differ from serial", what);
    for (int c = 0; c < p->n_cat; c++) {
        const tribe_catcol *a = &p->cat[c], *b = &s->cat[c];
        TRIBE_MPI_CHECK(par, strcmp(a->name, b->name) == 0 && a->n_levels == b->n_levels, "%s: column %d", what, c);
        if (a->n_levels != b->n_levels)
            continue;
        for (int k = 0; k < a->n_levels; k++)
            TRIBE_MPI_CHECK(par, strcmp(a->levels[k], b->levels[k]) == 0, "%s: %s level %d", what, a->name, k);
        TRIBE_MPI_CHECK(par, memcmp(a->code, b->code + p->offset, (size_t)p->n_local * sizeof *a->code) == 0,
                        "%s: %s codes", what, a->name);
    }
    for (int64_t i = 1; i < p->n_local; i++)
        TRIBE_MPI_CHECK(par, p->id[i - 1] < p->id[i], "%s: ids not ascending", what);
}

static void check_ledger(const char *what, const tribe_ledger *a, const tribe_ledger *b)
{
    TRIBE_MPI_CHECK(par, memcmp(a, b, offsetof(tribe_ledger, snapshot)) == 0, "%s: ledger differs", what);
    TRIBE_MPI_CHECK(par, strcmp(a->snapshot, b->snapshot) == 0, "%s: snapshot", what);
    TRIBE_MPI_CHECK(par,
                    a->rows_read == a->rows_kept + a->returns + a->malformed + a->missing_customer_id +
                                        a->implausible_date + a->nonpositive_quantity + a->nonpositive_price,
                    "%s: rows do not add up", what);
}

/* Runs cfg serially (on this process) and collectively; compares. */
static void compare_run(const char *what, tribe_ingest_cfg cfg, const char *dir, int k)
{
    tribe_par *sp = NULL;
    tribe_table *ts = NULL, *tp = NULL, *gs = NULL, *gp = NULL;
    tribe_ledger ls, lp;
    char rs[1024], rp[1024];
    int rank = tribe_par_rank(par);
    snprintf(rs, sizeof rs, "%s/serial_%d_%d.csv", dir, rank, k);
    snprintf(rp, sizeof rp, "%s/par_%d.csv", dir, k);
    TRIBE_MPI_CHECK(par, tribe_par_serial(&sp) == TRIBE_OK, "serial context");
    cfg.rejects = rs;
    tribe_status st = tribe_ingest_split(sp, &cfg, &ts, &gs, &ls);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "%s serial: %s", what, tribe_errmsg());
    cfg.rejects = rp;
    st = tribe_ingest_split(par, &cfg, &tp, &gp, &lp);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "%s: %s", what, tribe_errmsg());
    if (ts && tp && gs && gp) {
        check_slice(what, tp, ts);
        check_slice(what, gp, gs); /* the target table: future_spend and the BG/NBD inputs */
        check_ledger(what, &lp, &ls);
        TRIBE_MPI_CHECK(par, lp.cutoff_day == ls.cutoff_day && strcmp(lp.cutoff, ls.cutoff) == 0, "%s: cutoff",
                        what);
    }
    tribe_table_destroy(&gs);
    tribe_table_destroy(&gp);
    if (rank == 0)
        TRIBE_MPI_CHECK(par, same_file(rs, rp), "%s: rejects file differs from serial", what);
    tribe_table_destroy(&ts);
    tribe_table_destroy(&tp);
    tribe_par_finalize(&sp);
}

int main(int argc, char **argv)
{
    par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par);
    char tx[1024], web[1024], demo[1024], txz[1024], webz[1024], demoz[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(web, sizeof web, "%s", tribe_test_data("ingest/web_events.csv"));
    snprintf(demo, sizeof demo, "%s", tribe_test_data("ingest/demographics.csv"));
    const char *dir = tribe_mpitest_tmpdir(par);
    snprintf(txz, sizeof txz, "%s/tx.csv.gz", dir);
    snprintf(webz, sizeof webz, "%s/web.csv.gz", dir);
    snprintf(demoz, sizeof demoz, "%s/demo.csv.gz", dir);
    int ok = 1;
    if (rank == 0)
        ok = gzip_copy(tx, txz) == 0 && gzip_copy(web, webz) == 0 && gzip_copy(demo, demoz) == 0;
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, &ok, sizeof ok, 0) == TRIBE_OK && ok, "gzip copies");

    tribe_ingest_cfg cfg = {.transactions = tx};
    compare_run("transactions only", cfg, dir, 0);
    cfg.web = web;
    cfg.demographics = demo;
    compare_run("all sources", cfg, dir, 1);
    cfg.rejects_all = 1;
    cfg.snapshot = "2011-04-01";
    compare_run("all sources, all rejects, snapshot", cfg, dir, 2);
    tribe_ingest_cfg gz = {.transactions = txz, .web = webz, .demographics = demoz};
    for (int64_t block = 1; block <= 3; block++) {
        char what[64];
        snprintf(what, sizeof what, "gzip, blocks of %lld", (long long)block);
        gz.gz_block = block;
        compare_run(what, gz, dir, 3 + (int)block);
    }
    /* temporal split: on the main fixture (with web sessions on both sides of
     * the cutoff) and on the split fixture in gzip blocks of 2 records */
    tribe_ingest_cfg cut = {.transactions = tx, .web = web, .cutoff = "2011-02-01", .horizon_days = 45};
    compare_run("cutoff, all sources", cut, dir, 7);
    char splz[1024];
    snprintf(splz, sizeof splz, "%s/split.csv.gz", dir);
    if (rank == 0)
        ok = gzip_copy(tribe_test_data("ingest/split_transactions.csv"), splz) == 0;
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, &ok, sizeof ok, 0) == TRIBE_OK && ok, "gzip copy");
    tribe_ingest_cfg spz = {.transactions = splz, .cutoff = "2011-03-31", .horizon_days = 30, .gz_block = 2};
    compare_run("cutoff, gzip blocks of 2", spz, dir, 8);

    /* returns netted (a partial return, a return without a purchase, a
     * full refund, returns after the cutoff), rows of one customer on
     * several ranks (gzip blocks of 1 record), the customers left out for
     * net spend <= 0 in the rejects file */
    char retz[1024];
    snprintf(retz, sizeof retz, "%s/returns.csv.gz", dir);
    if (rank == 0)
        ok = gzip_copy(tribe_test_data("ingest/returns.csv"), retz) == 0;
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, &ok, sizeof ok, 0) == TRIBE_OK && ok, "gzip copy");
    tribe_ingest_cfg ret = {.transactions = retz, .gz_block = 1, .rejects_all = 1};
    compare_run("returns, gzip blocks of 1", ret, dir, 11);
    ret.cutoff = "2011-02-15";
    ret.horizon_days = 30;
    compare_run("returns, cutoff, gzip blocks of 1", ret, dir, 12);
    ret.transactions = tribe_test_data("ingest/returns.csv");
    compare_run("returns, cutoff, plain", ret, dir, 13);

    /* several files per source, plain and gzip mixed: two or more gzip files
     * are each read whole by one rank, plain files (and a lone gzip file)
     * are shared; a file given twice counts twice (the library allows it) */
    {
        const char *txs[] = {tx, splz, txz, tx};
        const char *webs[] = {webz, web};
        const char *demos[] = {demoz, demo};
        tribe_ingest_cfg many = {.transactions_files = txs, .n_transactions_files = 4, .web_files = webs,
                                 .n_web_files = 2, .demographics_files = demos, .n_demographics_files = 2,
                                 .rejects_all = 1};
        compare_run("several files per source", many, dir, 9);
        many.n_web_files = many.n_demographics_files = 0;
        many.n_transactions_files = 2;
        many.transactions_files = (const char *[]){splz, txz};
        compare_run("two gzip files", many, dir, 10);
    }

    /* errors: same status and message on every rank */
    {
        tribe_table *t = NULL;
        tribe_ledger l;
        tribe_ingest_cfg bad = {.transactions = tx, .web = tx};
        tribe_status st = tribe_ingest(par, &bad, &t, &l);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && t == NULL, "missing column: %d", st);
        TRIBE_MPI_CHECK(par, strstr(tribe_errmsg(), "'SessionStart'") != NULL, "message '%s'", tribe_errmsg());
        bad.web = NULL;
        bad.transactions = tribe_test_data("ingest/all_rejected.csv");
        st = tribe_ingest(par, &bad, &t, &l);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && l.rows_read == 3, "all rejected: %d", st);
    }

    /* import: the same slices as a serial import; errors agreed */
    {
        tribe_par *sp = NULL;
        tribe_table *ts = NULL, *tp = NULL;
        tribe_par_serial(&sp);
        char f[1024];
        snprintf(f, sizeof f, "%s", tribe_test_data("ingest/features.csv"));
        TRIBE_MPI_CHECK(par, tribe_import_csv(sp, f, &ts) == TRIBE_OK, "serial import: %s", tribe_errmsg());
        TRIBE_MPI_CHECK(par, tribe_import_csv(par, f, &tp) == TRIBE_OK, "import: %s", tribe_errmsg());
        if (ts && tp)
            check_slice("import", tp, ts);
        tribe_table_destroy(&ts);
        tribe_table_destroy(&tp);
        tribe_status st = tribe_import_csv(par, tribe_test_data("ingest/features_dup.csv"), &tp);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "lines 2 and 4"), "dup: %s",
                        tribe_errmsg());
        st = tribe_import_csv(par, tribe_test_data("ingest/features_bad_cell.csv"), &tp);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "features_bad_cell.csv:3"),
                        "bad cell: %s", tribe_errmsg());
        tribe_par_finalize(&sp);
    }

    /* string ids: two texts whose (hashed, cut to one bit) keys collide, at
     * the two ends of a file the ranks split, so with several ranks neither
     * rank reads both and the owner of the key finds the collision */
    {
        char a[32], b[32], path[1024];
        tribe_id_set_hash_bits(1);
        snprintf(a, sizeof a, "u-%08d-x", 0);
        for (int i = 1;; i++) {
            snprintf(b, sizeof b, "u-%08d-x", i);
            if (tribe_id_key(a, strlen(a)) == tribe_id_key(b, strlen(b)))
                break;
        }
        snprintf(path, sizeof path, "%s/collide.csv", dir);
        if (tribe_par_rank(par) == 0) {
            FILE *f = fopen(path, "w");
            fprintf(f, "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
            fprintf(f, "1,A,1,2011-01-01,1.0,%s,UK\n", a);
            for (int i = 0; i < 4000; i++)
                fprintf(f, "%d,A,1,2011-01-02,1.0,C-%d,UK\n", i + 2, i % 50);
            fprintf(f, "9,A,1,2011-01-03,1.0,%s,UK\n", b);
            fclose(f);
        }
        tribe_par_barrier(par);
        tribe_ingest_cfg cc = {.transactions = path, .string_ids = 1};
        tribe_table *t = NULL;
        tribe_ledger l;
        tribe_status st = tribe_ingest(par, &cc, &t, &l);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && t == NULL && strstr(tribe_errmsg(), "have the same key") &&
                                 strstr(tribe_errmsg(), a) && strstr(tribe_errmsg(), b),
                        "collision: %d %s", st, tribe_errmsg());
        /* one rank: found while reading (file:line); several: by the owner */
        TRIBE_MPI_CHECK(par, strncmp(tribe_errmsg(), tribe_par_size(par) > 1 ? "ingest: " : path,
                                     strlen(tribe_par_size(par) > 1 ? "ingest: " : path)) == 0,
                        "collision found where: %s", tribe_errmsg());
        tribe_id_set_hash_bits(0);
        st = tribe_ingest(par, &cc, &t, &l);
        TRIBE_MPI_CHECK(par, st == TRIBE_OK && t && t->n_global == 52 && t->id_width == 13,
                        "without the hook: %d %s", st, tribe_errmsg());
        tribe_table_destroy(&t);
    }

    return tribe_mpitest_finish(&par);
}
