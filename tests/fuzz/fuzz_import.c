/* libFuzzer harness: tribe_import_csv (a ready feature table) on one rank,
 * any bytes as the file. On success the table is sorted by id with no
 * duplicate (tribe/ingest.h). */
#include "fuzzutil.h"

#include "tribe/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tribe_par *par = NULL;
    FZ_CHECK(tribe_par_serial(&par) == TRIBE_OK);
    tribe_table *t = NULL;
    tribe_status st = tribe_import_csv(par, fz_file("features.csv", data, size), &t);
    fz_note("tribe_import_csv", st);
    if (st == TRIBE_OK) {
        FZ_CHECK(t != NULL && t->n_local == t->n_global && t->d >= 1);
        for (int64_t i = 1; i < t->n_local; i++)
            FZ_CHECK(t->id[i - 1] < t->id[i]);
    } else {
        FZ_CHECK(t == NULL);
    }
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
    return 0;
}
