/* An allocation failing on one rank ends tribe_gen and tribe_ingest with the
 * same NOMEM on every rank, never a deadlock (ctest's timeout would catch
 * one): the last rank's k-th allocation fails, for k = 1, 2, ... until the
 * run needs no more. The ingest input interleaves every customer's rows over
 * the whole file, so on several ranks each customer has several senders and
 * every exchange of the owner-side merge (totals, the three key sets,
 * country and device votes, demographics) runs under the fault. A failed
 * gen leaves no .part file behind. */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/ingest.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { N_CUST = 60, N_ROWS = 600, MAX_FAULTS = 2000 };

static const char *const countries[3] = {"France", "Germany", "United Kingdom"};
static const char *const devices[3] = {"desktop", "mobile", "tablet"};

/* Rank 0 writes the three sources into dir; 0 on success. */
static int write_sources(const char *dir)
{
    char p[3][1024];
    snprintf(p[0], sizeof p[0], "%s/tx.csv", dir);
    snprintf(p[1], sizeof p[1], "%s/web.csv", dir);
    snprintf(p[2], sizeof p[2], "%s/demo.csv", dir);
    FILE *f = fopen(p[0], "w"), *w = fopen(p[1], "w"), *d = fopen(p[2], "w");
    int bad = !f || !w || !d;
    if (!bad) {
        fprintf(f, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
        fprintf(w, "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n");
        fprintf(d, "CustomerID,Age,Country,Occupation,Subscription\n");
        for (int r = 0; r < N_ROWS; r++) {
            int c = r % N_CUST, k = r / N_CUST; /* customer c's k-th row, far from its others */
            fprintf(f, "%d,P%02d,ITEM,%d,2011-0%d-%02d 10:00:00,%d.50,%d,%s\n", 500000 + 10 * c + k % 4,
                    (c + 3 * k) % 17, 1 + k % 3, 1 + k % 6, 1 + (c + k) % 28, 1 + k % 5, 10000 + c,
                    countries[(c + k / 3) % 3]);
            fprintf(w, "%d,2011-0%d-%02d 12:00:00,%d,%d.5,%s\n", 10000 + c, 1 + k % 6, 1 + k, 1 + k, k,
                    devices[(c + k) % 3]);
            if (k < 2)
                fprintf(d, "%d,%d,%s,clerk,%s\n", 10000 + c, 20 + (c + k) % 50, countries[c % 3],
                        k ? "gold" : "none");
        }
        bad = ferror(f) || ferror(w) || ferror(d);
    }
    bad |= f && fclose(f) != 0;
    bad |= w && fclose(w) != 0;
    bad |= d && fclose(d) != 0;
    return bad ? -1 : 0;
}

/* Collective: the statuses of every rank are the same. */
static int same_everywhere(tribe_par *par, tribe_status st)
{
    int64_t hi = st, lo = st;
    return tribe_par_max_i64(par, &hi, 1) == TRIBE_OK && tribe_par_min_i64(par, &lo, 1) == TRIBE_OK && hi == lo;
}

static int file_exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Runs tribe_ingest with the last rank failing its k-th allocation, for
 * every k until a run succeeds; returns the number of failed runs. */
static long ingest_under_faults(tribe_par *par, const tribe_ingest_cfg *cfg)
{
    const int faulty = tribe_par_rank(par) == tribe_par_size(par) - 1;
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        tribe_table *t = NULL, *tg = NULL;
        tribe_ledger l;
        if (faulty)
            tribe_alloc_fail_after(k);
        tribe_status st = tribe_ingest_split(par, cfg, &t, cfg->cutoff ? &tg : NULL, &l);
        tribe_alloc_fail_after(0);
        TRIBE_MPI_CHECK(par, same_everywhere(par, st), "ingest fault %ld: ranks disagree (%s)", k,
                        tribe_status_name(st));
        TRIBE_MPI_CHECK(par, st == TRIBE_OK || st == TRIBE_ERR_NOMEM, "ingest fault %ld: %s: %s", k,
                        tribe_status_name(st), tribe_errmsg());
        if (st == TRIBE_OK) {
            TRIBE_MPI_CHECK(par, t && t->n_global == N_CUST, "ingest fault %ld: %lld rows", k,
                            t ? (long long)t->n_global : -1LL);
            TRIBE_MPI_CHECK(par, !cfg->cutoff || tg, "ingest fault %ld: no target table", k);
            tribe_table_destroy(&t);
            tribe_table_destroy(&tg);
            break;
        }
        TRIBE_MPI_CHECK(par, !t && !tg, "ingest fault %ld: a table after a failure", k);
    }
    TRIBE_MPI_CHECK(par, k < MAX_FAULTS, "ingest never succeeded");
    return k - 1;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    const int rank = tribe_par_rank(par), faulty = rank == tribe_par_size(par) - 1;
    char dir[600], tx[1024], web[1024], demo[1024];
    snprintf(dir, sizeof dir, "%s", tribe_mpitest_tmpdir(par));
    int wrote = rank == 0 ? write_sources(dir) : 0;
    int64_t bad = wrote != 0;
    TRIBE_MPI_CHECK(par, tribe_par_max_i64(par, &bad, 1) == TRIBE_OK && !bad, "cannot write the sources");
    snprintf(tx, sizeof tx, "%s/tx.csv", dir);
    snprintf(web, sizeof web, "%s/web.csv", dir);
    snprintf(demo, sizeof demo, "%s/demo.csv", dir);

    tribe_ingest_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.transactions = tx;
    cfg.web = web;
    cfg.demographics = demo;
    long failed = ingest_under_faults(par, &cfg);
    TRIBE_MPI_CHECK(par, failed > 10, "only %ld ingest allocations could fail", failed);
    cfg.cutoff = "2011-04-15";
    cfg.horizon_days = 30;
    failed = ingest_under_faults(par, &cfg);
    TRIBE_MPI_CHECK(par, failed > 10, "only %ld ingest allocations (with a cutoff) could fail", failed);

    /* gen: 1000 customers = 16 chunks, several rounds on every rank count */
    tribe_gen_cfg g;
    tribe_gen_defaults(&g);
    g.customers = 1000;
    g.seed = 5;
    for (int gz = 0; gz < 2; gz++) {
        g.gzip = gz;
        long k = 1;
        for (; k < MAX_FAULTS; k++) {
            char out[600];
            snprintf(out, sizeof out, "%s", tribe_mpitest_tmpdir(par));
            if (faulty)
                tribe_alloc_fail_after(k);
            tribe_status st = tribe_gen(par, &g, out);
            tribe_alloc_fail_after(0);
            TRIBE_MPI_CHECK(par, same_everywhere(par, st), "gen fault %ld: ranks disagree (%s)", k,
                            tribe_status_name(st));
            TRIBE_MPI_CHECK(par, st == TRIBE_OK || st == TRIBE_ERR_NOMEM, "gen fault %ld: %s: %s", k,
                            tribe_status_name(st), tribe_errmsg());
            if (st == TRIBE_OK)
                break;
            TRIBE_MPI_CHECK(par, rank != 0 || !file_exists(out, gz ? "transactions.csv.gz.part" : "transactions.csv.part"),
                            "gen fault %ld: a .part file is left", k);
        }
        TRIBE_MPI_CHECK(par, k < MAX_FAULTS && k > 10, "gen (gzip %d): %ld runs to succeed", gz, k);
    }
    return tribe_mpitest_finish(&par);
}
