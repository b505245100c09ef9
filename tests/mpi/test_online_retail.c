/* The UCI Online Retail data (../shared/data/online-retail.csv.gz): the
 * published counts and spot checks of docs/ingest.md, read gzip-compressed
 * (record blocks per rank) and as a plain copy in a temporary folder (byte
 * ranges per rank), which must give the same table. Skipped (exit 77, on
 * every rank) when the data is absent. */
#include "testutil.h"
#include "tribe/ingest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static tribe_par *par;

/* Decompresses src into dst with zlib. */
static int gunzip(const char *src, const char *dst)
{
    gzFile g = gzopen(src, "rb");
    FILE *f = fopen(dst, "wb");
    char *buf = malloc(1 << 20);
    int ok = g && f && buf;
    while (ok) {
        int n = gzread(g, buf, 1 << 20);
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        ok = fwrite(buf, 1, (size_t)n, f) == (size_t)n;
    }
    if (g)
        gzclose(g);
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    return ok ? 0 : -1;
}

/* Row i of the shard as (id, features) bytes, gathered to rank 0. */
static void *gather_table(const tribe_table *t, size_t *bytes)
{
    size_t row = sizeof(int64_t) + (size_t)t->d * sizeof(float) + (size_t)t->n_cat * sizeof(int32_t);
    char *mine = malloc((size_t)(t->n_local > 0 ? t->n_local : 1) * row), *all = NULL;
    for (int64_t i = 0; i < t->n_local; i++) {
        char *p = mine + (size_t)i * row;
        memcpy(p, &t->id[i], sizeof(int64_t));
        memcpy(p + sizeof(int64_t), t->x + (size_t)i * (size_t)t->d, (size_t)t->d * sizeof(float));
        for (int c = 0; c < t->n_cat; c++)
            memcpy(p + sizeof(int64_t) + (size_t)t->d * sizeof(float) + (size_t)c * sizeof(int32_t),
                   &t->cat[c].code[i], sizeof(int32_t));
    }
    size_t total = 0;
    TRIBE_MPI_CHECK(par, tribe_par_gatherv(par, mine, (size_t)t->n_local * row, 0, (void **)&all, &total, NULL,
                                           NULL) == TRIBE_OK,
                    "gather");
    free(mine);
    *bytes = total;
    return all;
}

static void check_counts(const char *what, const tribe_ledger *l, const tribe_table *t)
{
    TRIBE_MPI_CHECK(par, l->rows_read == 541909, "%s: rows_read %lld", what, (long long)l->rows_read);
    TRIBE_MPI_CHECK(par, l->rows_kept == 397884, "%s: rows_kept %lld", what, (long long)l->rows_kept);
    /* 4,338 customers bought; 21 of them, and 33 who only returned, are at net spend <= 0 */
    TRIBE_MPI_CHECK(par, l->customers == 4317 && t->n_global == 4317, "%s: customers %lld", what,
                    (long long)l->customers);
    TRIBE_MPI_CHECK(par, l->customers_net_nonpositive == 54, "%s: net <= 0 %lld", what,
                    (long long)l->customers_net_nonpositive);
    TRIBE_MPI_CHECK(par,
                    l->rows_read == l->rows_kept + l->returns + l->malformed + l->missing_customer_id +
                                        l->implausible_date + l->nonpositive_quantity + l->nonpositive_price,
                    "%s: rows do not add up", what);
    TRIBE_MPI_CHECK(par, l->missing_customer_id == 135080, "%s: missing ids %lld", what,
                    (long long)l->missing_customer_id);
    TRIBE_MPI_CHECK(par, l->malformed == 0, "%s: malformed %lld", what, (long long)l->malformed);
    TRIBE_MPI_CHECK(par, l->cancellations == 8905 && l->returns == 8905, "%s: cancellations %lld, returns %lld", what,
                    (long long)l->cancellations, (long long)l->returns);
    TRIBE_MPI_CHECK(par, l->nonpositive_quantity == 0 && l->nonpositive_price == 40, "%s: qty %lld price %lld", what,
                    (long long)l->nonpositive_quantity, (long long)l->nonpositive_price);
    TRIBE_MPI_CHECK(par, strcmp(l->snapshot, "2011-12-10") == 0, "%s: snapshot %s", what, l->snapshot);

    /* spot checks, on whichever rank owns the customer */
    int64_t found = 0;
    int jr = tribe_table_feature(t, "recency_days"), jf = tribe_table_feature(t, "frequency"),
        jm = tribe_table_feature(t, "monetary");
    for (int64_t i = 0; i < t->n_local; i++) {
        const float *x = t->x + (size_t)i * (size_t)t->d;
        if (t->id[i] == 12347) {
            found++;
            TRIBE_MPI_CHECK(par, x[jr] == 3 && x[jf] == 7 && fabsf(x[jm] - 4310.00f) < 0.01f,
                            "%s: 12347: %g %g %g", what, x[jr], x[jf], x[jm]);
        }
        /* 168,472.50 bought, 168,469.60 of it returned */
        if (t->id[i] == 16446) {
            found++;
            TRIBE_MPI_CHECK(par, x[jr] == 1 && x[jf] == 2 && fabsf(x[jm] - 2.90f) < 0.01f, "%s: 16446: %g %g %g",
                            what, x[jr], x[jf], x[jm]);
        }
        if (t->id[i] == 12346) /* bought 77,183.60 and returned all of it */
            found += 100;
    }
    TRIBE_MPI_CHECK(par, tribe_par_sum_i64(par, &found, 1) == TRIBE_OK && found == 2, "%s: spot customers found %lld",
                    what, (long long)found);
}

int main(int argc, char **argv)
{
    par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par);
    char gz[1024];
    snprintf(gz, sizeof gz, "%s", tribe_mpitest_shared_data(&par, "online-retail.csv.gz"));

    tribe_ingest_cfg cfg = {.transactions = gz};
    tribe_table *tz = NULL, *tp = NULL;
    tribe_ledger lz, lp;
    tribe_status st = tribe_ingest(par, &cfg, &tz, &lz);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "gzip ingest: %s", tribe_errmsg());
    if (st == TRIBE_OK)
        check_counts("gzip", &lz, tz);

    /* a plain copy, split by byte ranges */
    char plain[1200];
    snprintf(plain, sizeof plain, "%s/online-retail.csv", tribe_mpitest_tmpdir(par));
    int ok = rank == 0 ? gunzip(gz, plain) == 0 : 1;
    TRIBE_MPI_CHECK(par, tribe_par_bcast(par, &ok, sizeof ok, 0) == TRIBE_OK && ok, "decompressing to %s", plain);
    cfg.transactions = plain;
    st = tribe_ingest(par, &cfg, &tp, &lp);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "plain ingest: %s", tribe_errmsg());
    if (st == TRIBE_OK && tz) {
        check_counts("plain", &lp, tp);
        TRIBE_MPI_CHECK(par, memcmp(&lz, &lp, offsetof(tribe_ledger, snapshot)) == 0, "ledgers differ");
        size_t na = 0, nb = 0;
        void *a = gather_table(tz, &na), *b = gather_table(tp, &nb);
        if (rank == 0)
            TRIBE_MPI_CHECK(par, na == nb && na > 0 && memcmp(a, b, na) == 0, "gzip and plain tables differ");
        free(a);
        free(b);
    }
    tribe_table_destroy(&tz);
    tribe_table_destroy(&tp);
    return tribe_mpitest_finish(&par);
}
