/* The owner-side merge of tribe_ingest on 1, 2 and 4 ranks: a generated file
 * mixes customers whose rows come together (each read by one rank, counted
 * without the owner's sets) with customers whose rows are spread over the
 * whole file, repeating invoices, products and days on every rank (merged
 * through the owner's sets). Each rank's shard must be its slice of the
 * serial table bit for bit, and the distinct counts of the spread customers
 * must be the ones the generator planted. */
#include "testutil.h"
#include "tribe/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tribe_par *par;

enum { N_GROUPED = 300, N_SPREAD = 40, SPREAD_ROWS = 25, N_PRODUCTS = 30, GROUPED_ID = 1000, SPREAD_ID = 5000 };

/* Planted distinct counts of each spread customer. */
typedef struct {
    int inv[8], prod[N_PRODUCTS], day[6];
    int n_inv, n_prod, n_day;
} planted;

static const char *const devices[3] = {"desktop", "mobile", "tablet"};

static void tx_line(FILE *f, long inv, int prod, int qty, int day, long id)
{
    fprintf(f, "%ld,P%02d,ITEM %d,%d,2011-03-%02d 10:00:00,%d.25,%ld,%s\n", inv, prod, prod, qty, day, 1 + prod % 7,
            id, prod % 5 == 0 ? "France" : "United Kingdom");
}

/* Writes transactions and web events; fills the planted counts. */
static int generate(const char *tx, const char *web, planted *pl)
{
    FILE *f = fopen(tx, "w"), *w = fopen(web, "w");
    if (!f || !w) {
        if (f)
            fclose(f);
        if (w)
            fclose(w);
        return -1;
    }
    fprintf(f, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    fprintf(w, "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n");
    memset(pl, 0, N_SPREAD * sizeof *pl);
    uint64_t k = 0, spread_row = 0;
    long inv = 600000;
    for (int g = 0; g < N_GROUPED; g++) {
        int rows = 3 + (int)tribe_rng_below(7, 1, (uint64_t)g, 12);
        for (int r = 0; r < rows; r++, k++) {
            if (r % 4 == 0)
                inv++;
            tx_line(f, inv, (int)tribe_rng_below(7, 2, k, N_PRODUCTS), 1 + r % 3, 1 + r / 4, GROUPED_ID + g);
            fprintf(w, "%d,2011-03-%02d 12:00:00,%d,%d.5,%s\n", GROUPED_ID + g, 1 + r % 28, 1 + r, r,
                    devices[tribe_rng_below(7, 3, k, 3)]);
            /* every few rows, one row of a spread customer */
            if (k % 2 == 1 && spread_row < (uint64_t)N_SPREAD * SPREAD_ROWS) {
                int c = (int)(spread_row % N_SPREAD);
                planted *p = &pl[c];
                int i = (int)tribe_rng_below(7, 4, spread_row, 8);
                int pr = (int)tribe_rng_below(7, 5, spread_row, N_PRODUCTS);
                int d = (int)tribe_rng_below(7, 6, spread_row, 6);
                p->n_inv += !p->inv[i];
                p->n_prod += !p->prod[pr];
                p->n_day += !p->day[d];
                p->inv[i] = p->prod[pr] = p->day[d] = 1;
                tx_line(f, 700000 + 10L * c + i, pr, 2, 10 + 2 * d, SPREAD_ID + c);
                fprintf(w, "%d,2011-04-01 08:00:00,3,1.5,%s\n", SPREAD_ID + c, devices[spread_row % 3]);
                spread_row++;
            }
        }
    }
    int bad = ferror(f) || ferror(w) || spread_row != (uint64_t)N_SPREAD * SPREAD_ROWS;
    bad |= fclose(f) != 0;
    bad |= fclose(w) != 0;
    return bad ? -1 : 0;
}

static void check_slice(const tribe_table *p, const tribe_table *s)
{
    TRIBE_MPI_CHECK(par, p->n_global == s->n_global && p->d == s->d && p->n_cat == s->n_cat, "shape");
    TRIBE_MPI_CHECK(par, p->offset >= 0 && p->offset + p->n_local <= s->n_local, "slice out of range");
    if (p->n_global != s->n_global || p->d != s->d || p->n_cat != s->n_cat || p->offset < 0 ||
        p->offset + p->n_local > s->n_local)
        return;
    TRIBE_MPI_CHECK(par, memcmp(p->id, s->id + p->offset, (size_t)p->n_local * sizeof *p->id) == 0, "ids");
    TRIBE_MPI_CHECK(par,
                    memcmp(p->x, s->x + (size_t)p->offset * (size_t)s->d,
                           (size_t)p->n_local * (size_t)p->d * sizeof *p->x) == 0,
                    "features differ from serial");
    for (int c = 0; c < p->n_cat; c++) {
        TRIBE_MPI_CHECK(par, p->cat[c].n_levels == s->cat[c].n_levels, "column %d levels", c);
        TRIBE_MPI_CHECK(par,
                        memcmp(p->cat[c].code, s->cat[c].code + p->offset,
                               (size_t)p->n_local * sizeof *p->cat[c].code) == 0,
                        "column %d codes", c);
    }
}

int main(int argc, char **argv)
{
    par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par);
    const char *dir = tribe_mpitest_tmpdir(par);
    char tx[1024], web[1024], rej[1024];
    static planted pl[N_SPREAD];
    snprintf(tx, sizeof tx, "%s/tx.csv", dir);
    snprintf(web, sizeof web, "%s/web.csv", dir);
    snprintf(rej, sizeof rej, "%s/rejects_%d.csv", dir, rank);
    int ok = rank == 0 ? generate(tx, web, pl) == 0 : 1;
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, &ok, sizeof ok, 0) == TRIBE_OK && ok, "generate");
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, pl, sizeof pl, 0) == TRIBE_OK, "broadcast planted counts");

    tribe_par *sp = NULL;
    tribe_table *ts = NULL, *tp = NULL;
    tribe_ledger ls, lp;
    tribe_ingest_cfg cfg = {.transactions = tx, .web = web, .rejects = rej};
    TRIBE_MPI_CHECK(par, tribe_par_serial(&sp) == TRIBE_OK, "serial context");
    tribe_status st = tribe_ingest(sp, &cfg, &ts, &ls);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "serial: %s", tribe_errmsg());
    cfg.rejects = NULL;
    st = tribe_ingest(par, &cfg, &tp, &lp);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "parallel: %s", tribe_errmsg());
    if (ts && tp) {
        TRIBE_MPI_CHECK(par, ts->n_global == N_GROUPED + N_SPREAD, "customers: %lld", (long long)ts->n_global);
        TRIBE_MPI_CHECK(par, memcmp(&ls, &lp, offsetof(tribe_ledger, snapshot)) == 0, "ledger differs");
        TRIBE_MPI_CHECK(par, ls.rows_kept == ls.rows_read && ls.web_rows_kept == ls.web_rows, "all rows kept");
        check_slice(tp, ts);
        /* features 1, 5, 6 (frequency, mean days between, distinct products) and the sessions */
        for (int64_t i = 0; i < ts->n_local; i++) {
            int64_t c = ts->id[i] - SPREAD_ID;
            if (c < 0 || c >= N_SPREAD)
                continue;
            const float *x = ts->x + (size_t)i * (size_t)ts->d;
            TRIBE_MPI_CHECK(par, x[1] == (float)pl[c].n_inv, "customer %lld: %g invoices, planted %d",
                            (long long)ts->id[i], (double)x[1], pl[c].n_inv);
            TRIBE_MPI_CHECK(par, x[6] == (float)pl[c].n_prod, "customer %lld: %g products, planted %d",
                            (long long)ts->id[i], (double)x[6], pl[c].n_prod);
            const int js = tribe_table_feature(ts, "sessions");
            TRIBE_MPI_CHECK(par, js >= 0 && x[js] == (float)SPREAD_ROWS, "customer %lld: sessions",
                            (long long)ts->id[i]);
            int lo = 6, hi = -1;
            for (int d = 0; d < 6; d++)
                if (pl[c].day[d]) {
                    lo = d < lo ? d : lo;
                    hi = d;
                }
            float between = pl[c].n_day > 1 ? (float)((double)(2 * (hi - lo)) / (double)(pl[c].n_day - 1)) : 0.0f;
            TRIBE_MPI_CHECK(par, x[5] == between, "customer %lld: mean days between %g, planted %g",
                            (long long)ts->id[i], (double)x[5], (double)between);
        }
    }
    tribe_table_destroy(&ts);
    tribe_table_destroy(&tp);
    tribe_par_finalize(&sp);
    return tribe_mpitest_finish(&par);
}
