/* The ingest harnesses' shared part (fuzz_ingest_*.c): tribe_ingest on one
 * rank (no MPI) with one source replaced by the fuzzer's bytes, the others
 * the test fixtures of tests/data/ingest, and the ledger's invariants
 * (tribe/ingest.h) checked on success. */
#ifndef TRIBE_FUZZ_INGEST_H
#define TRIBE_FUZZ_INGEST_H

#include "fuzzutil.h"

#include "tribe/ingest.h"

#include <stdio.h>
#include <stdlib.h>

enum { FZ_TX, FZ_WEB, FZ_DEMO };

static int fz_ingest(int which, const uint8_t *data, size_t size)
{
    static const char *const fixture[3] = {"transactions.csv", "web_events.csv", "demographics.csv"};
    const char *path[3];
    for (int s = 0; s < 3; s++) {
        if (s == which) {
            path[s] = fz_file(fixture[s], data, size);
            continue;
        }
        char *text = NULL, name[512];
        size_t len = 0;
        snprintf(name, sizeof name, "%s/tests/data/ingest/%s", TRIBE_SOURCE_DIR, fixture[s]);
        FZ_CHECK(tribe_read_file(name, &text, &len) == TRIBE_OK);
        path[s] = fz_file(fixture[s], (const uint8_t *)text, len);
        free(text);
    }
    tribe_par *par = NULL;
    FZ_CHECK(tribe_par_serial(&par) == TRIBE_OK);
    tribe_ingest_cfg cfg = {0};
    cfg.transactions = path[FZ_TX];
    cfg.web = path[FZ_WEB];
    cfg.demographics = path[FZ_DEMO];
    tribe_table *t = NULL, *target = NULL;
    tribe_ledger l;
    tribe_status st = tribe_ingest_split(par, &cfg, &t, size % 2 ? &target : NULL, &l);
    fz_note("tribe_ingest_split", st);
    if (st == TRIBE_OK) {
        const tribe_ledger *x = &l;
        FZ_CHECK(t != NULL && t->n_local == x->customers && t->n_global == x->customers);
        FZ_CHECK(x->rows_read == x->rows_kept + x->returns + x->malformed + x->missing_customer_id +
                                     x->implausible_date + x->nonpositive_quantity + x->nonpositive_price);
        FZ_CHECK(x->cancellations <= x->returns && x->customers > 0);
        FZ_CHECK(x->web_rows ==
                 x->web_rows_kept + x->web_rows_unmatched + x->web_malformed + x->web_rows_after_cutoff);
        FZ_CHECK(x->demographics_rows == x->demographics_rows_kept + x->demographics_rows_unmatched +
                                             x->demographics_duplicate_ids + x->demographics_malformed);
        FZ_CHECK(x->rows_kept > 0 && x->first_invoice_day <= x->last_invoice_day &&
                 x->last_invoice_day < x->snapshot_day);
        char *json = NULL;
        FZ_CHECK(tribe_ledger_to_json(x, &json) == TRIBE_OK);
        free(json);
    } else {
        FZ_CHECK(t == NULL && target == NULL);
    }
    tribe_table_destroy(&t);
    tribe_table_destroy(&target);
    tribe_par_finalize(&par);
    return 0;
}

#endif
