/* customers.h5 written on N ranks reads back identically on N ranks, and the
 * content hash does not depend on N. */
#include "testutil.h"
#include "tribe/h5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    const int64_t n = 1003;
    const char *names[] = {"recency_days", "return_rate", "monetary"};
    const char *levels[] = {"app", "desktop", "mobile"};
    int64_t lo, hi;
    /* An uneven split (not the block split the reader uses) on purpose. */
    lo = rank == 0 ? 0 : n * rank / size + 7;
    hi = rank == size - 1 ? n : n * (rank + 1) / size + 7;
    tribe_table *t = NULL;
    tribe_catcol *dev = NULL;
    TRIBE_MPI_CHECK(par, tribe_table_create(hi - lo, 3, names, &t) == TRIBE_OK, "create");
    TRIBE_MPI_CHECK(par, tribe_table_add_cat(t, "device", 3, levels, &dev) == TRIBE_OK, "cat");
    t->n_global = n;
    t->offset = lo;
    for (int64_t i = 0; i < hi - lo; i++) {
        int64_t g = lo + i;
        t->id[i] = 1000 + 3 * g;
        for (int j = 0; j < 3; j++)
            t->x[i * 3 + j] = (float)(g * 10 + j);
        dev->code[i] = (int32_t)(g % 4) - 1;
    }
    /* ingest's default model columns: its behaviour features, not the others */
    TRIBE_MPI_CHECK(par, tribe_table_set_model_default(t) == TRIBE_OK, "model default");
    TRIBE_MPI_CHECK(par, t->n_model_default == 2 && strcmp(t->model_default[0], "recency_days") == 0 &&
                    strcmp(t->model_default[1], "monetary") == 0, "model default: %d columns", t->n_model_default);
    const char *dir = tribe_mpitest_tmpdir(par);
    char path[512];
    snprintf(path, sizeof path, "%s/customers.h5", dir);
    tribe_status st = tribe_store_write_customers(par, path, t, "{\"rows_read\":5}", NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "write: %s", tribe_errmsg());
    char h1[17], h2[17];
    TRIBE_MPI_CHECK(par, tribe_table_hash(par, t, h1) == TRIBE_OK, "hash");

    tribe_table *r = NULL;
    char *ledger = NULL;
    st = tribe_store_read_customers(par, path, &r, &ledger);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "read: %s", tribe_errmsg());
    if (st == TRIBE_OK) {
        TRIBE_MPI_CHECK(par, r->n_global == n && r->d == 3 && r->n_cat == 1, "shape");
        TRIBE_MPI_CHECK(par, ledger && strcmp(ledger, "{\"rows_read\":5}") == 0, "ledger");
        TRIBE_MPI_CHECK(par, strcmp(r->names[2], "monetary") == 0, "names");
        TRIBE_MPI_CHECK(par, strcmp(r->cat[0].levels[1], "desktop") == 0, "levels");
        TRIBE_MPI_CHECK(par, r->n_model_default == 2 && strcmp(r->model_default[1], "monetary") == 0,
                        "model default read back: %d columns", r->n_model_default);
        for (int64_t i = 0; i < r->n_local; i++) {
            int64_t g = r->offset + i;
            TRIBE_MPI_CHECK(par, r->id[i] == 1000 + 3 * g, "id of row %lld", (long long)g);
            TRIBE_MPI_CHECK(par, r->x[i * 3 + 2] == (float)(g * 10 + 2), "x of row %lld", (long long)g);
            TRIBE_MPI_CHECK(par, r->cat[0].code[i] == (int32_t)(g % 4) - 1, "code of row %lld", (long long)g);
        }
        TRIBE_MPI_CHECK(par, tribe_table_hash(par, r, h2) == TRIBE_OK && strcmp(h1, h2) == 0,
                        "hash differs across splits: %s vs %s", h1, h2);
    }
    free(ledger);
    tribe_table_destroy(&r);

    /* A file that is not tribe's is refused with an input error. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/not.h5", dir);
    if (rank == 0) {
        FILE *f = fopen(bad, "w");
        fputs("hello", f);
        fclose(f);
    }
    tribe_par_barrier(par);
    st = tribe_store_read_customers(par, bad, &r, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "not.h5"), "bad file: %d %s", st, tribe_errmsg());
    /* An HDF5 file without tribe's marker too. */
    tribe_h5 *h = NULL;
    TRIBE_MPI_CHECK(par, tribe_h5_create(par, bad, &h) == TRIBE_OK, "create plain");
    tribe_h5_attr_str(h, "/", "other", "x");
    tribe_h5_close(&h);
    st = tribe_store_read_customers(par, bad, &r, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "not a tribe"), "foreign h5: %s", tribe_errmsg());
    /* Strings are fixed-length attributes of any size (a JSON beyond the 64 KiB object header
     * message limit included) and read back exactly; an empty list and an empty string too. */
    static char big[100001];
    memset(big, 'x', sizeof big - 1);
    big[3] = 'y';
    const char *list[] = {"a", "", "longer one"};
    TRIBE_MPI_CHECK(par, tribe_h5_create(par, bad, &h) == TRIBE_OK, "create strings");
    TRIBE_MPI_CHECK(par, tribe_h5_attr_str(h, "/", "big", big) == TRIBE_OK, "big attr: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_attr_strs(h, "/g", "list", 3, list) == TRIBE_OK, "list: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_attr_strs(h, "/g", "none", 0, list) == TRIBE_OK, "empty: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_attr_str(h, "/g", "blank", "") == TRIBE_OK, "blank: %s", tribe_errmsg());
    int32_t codes[4] = {1, 2, 3, 4};
    TRIBE_MPI_CHECK(par, tribe_h5_write_small(h, "/g/codes", TRIBE_H5_I32, 4, 1, codes) == TRIBE_OK, "codes");
    TRIBE_MPI_CHECK(par, tribe_h5_close(&h) == TRIBE_OK, "close strings");
    TRIBE_MPI_CHECK(par, tribe_h5_open(par, bad, &h) == TRIBE_OK, "open strings");
    char *s1 = NULL, *s2 = NULL, *s3 = NULL, **l = NULL;
    int nl = -1, n0 = -1;
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_str(h, "/", "big", &s1) == TRIBE_OK && strcmp(s1, big) == 0, "big back");
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_strs(h, "/g", "list", &nl, &l) == TRIBE_OK && nl == 3 &&
                    strcmp(l[0], "a") == 0 && strcmp(l[1], "") == 0 && strcmp(l[2], "longer one") == 0, "list back");
    tribe_free_strs(l, nl);
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_strs(h, "/g", "none", &n0, &l) == TRIBE_OK && n0 == 0, "empty back");
    tribe_free_strs(l, n0);
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_str(h, "/g", "blank", &s2) == TRIBE_OK && strcmp(s2, "") == 0, "blank");
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_str_opt(h, "/g", "absent", &s3) == TRIBE_OK && !s3, "optional absent");
    TRIBE_MPI_CHECK(par, tribe_h5_read_attr_str_opt(h, "/nope", "absent", &s3) == TRIBE_OK && !s3, "no object");
    /* A dataset read as another type is refused, never converted. */
    void *vals = NULL;
    int64_t rows = 0, cols = 0;
    st = tribe_h5_read_small(h, "/g/codes", TRIBE_H5_I64, &rows, &cols, &vals);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "'/g/codes' is not stored as int64"),
                    "int32 read as int64: %d %s", st, tribe_errmsg());
    st = tribe_h5_read_small(h, "/g/codes", TRIBE_H5_F32, &rows, &cols, &vals);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "not stored as float32"), "as float");
    st = tribe_h5_read_small(h, "/g/codes", TRIBE_H5_I32, &rows, &cols, &vals);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK && rows == 4 && ((int32_t *)vals)[3] == 4, "as int32: %s", tribe_errmsg());
    free(vals);
    free(s1);
    free(s2);
    tribe_h5_close(&h);
    /* The table's currency is stored and read back on every rank. */
    TRIBE_MPI_CHECK(par, tribe_currency_from_code("JPY", &t->currency) == TRIBE_OK, "JPY");
    st = tribe_store_write_customers(par, path, t, NULL, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "write JPY: %s", tribe_errmsg());
    st = tribe_store_read_customers(par, path, &r, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK && strcmp(r->currency.code, "JPY") == 0 &&
                    strcmp(r->currency.symbol, "\xc2\xa5") == 0 && r->currency.decimals == 0,
                    "currency back: %d %s", st, tribe_errmsg());
    tribe_table_destroy(&r);
    /* A file as an older tribe wrote it (no currency attributes) is in pounds;
     * a currency attribute that is not an ISO 4217 code is refused naming the file. */
    char old[512];
    snprintf(old, sizeof old, "%s/old.h5", dir);
    for (int v = 0; v < 2; v++) {
        TRIBE_MPI_CHECK(par, tribe_h5_create(par, old, &h) == TRIBE_OK, "create old");
        st = tribe_h5_attr_str(h, "/", "tribe_format", TRIBE_CUSTOMERS_FORMAT);
        if (st == TRIBE_OK)
            st = tribe_h5_write_rows(h, "/customers/id", TRIBE_H5_I64, n, lo, hi - lo, 1, t->id);
        if (st == TRIBE_OK)
            st = tribe_h5_write_rows(h, "/customers/features", TRIBE_H5_F32, n, lo, hi - lo, 3, t->x);
        if (st == TRIBE_OK)
            st = tribe_h5_attr_strs(h, "/customers/features", "feature_names", 3, names);
        if (st == TRIBE_OK && v == 1)
            st = tribe_h5_attr_str(h, "/", "currency", "usd");
        TRIBE_MPI_CHECK(par, tribe_h5_close_after(&h, st) == TRIBE_OK, "write old: %s", tribe_errmsg());
        st = tribe_store_read_customers(par, old, &r, NULL);
        if (v == 0)
            TRIBE_MPI_CHECK(par, st == TRIBE_OK && strcmp(r->currency.code, "GBP") == 0 &&
                            strcmp(r->currency.symbol, "\xc2\xa3") == 0 && r->currency.decimals == 2,
                            "no attribute = GBP: %d %s", st, tribe_errmsg());
        else
            TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "old.h5") &&
                            strstr(tribe_errmsg(), "'usd'"), "bad currency: %d %s", st, tribe_errmsg());
        tribe_table_destroy(&r);
    }
    /* An unwritable destination fails cleanly and leaves nothing behind. */
    st = tribe_store_write_customers(par, "/proc/nope/customers.h5", t, NULL, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_IO, "unwritable: %d %s", st, tribe_errmsg());
    tribe_table_destroy(&t);
    return tribe_mpitest_finish(&par);
}
