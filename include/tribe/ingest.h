/* tribe/ingest.h: raw CSV sources in, this rank's shard of the customer table
 * out, plus a data-quality ledger and a rejects file (docs/ingest.md).
 *
 * Usage:
 *     tribe_ingest_cfg cfg = {0};
 *     cfg.transactions = "transactions.csv.gz";       // required
 *     cfg.web = "web_events.csv";                      // optional (NULL)
 *     cfg.demographics = NULL;                         // optional
 *     cfg.rejects = "out/rejects.csv";                 // optional (NULL: not written)
 *     // or several files per source, read as one:
 *     //   const char *tx[] = {"2011-01.csv.gz", "2011-02.csv"};
 *     //   cfg.transactions_files = tx; cfg.n_transactions_files = 2;
 *     tribe_table *t = NULL;
 *     tribe_ledger led;
 *     st = tribe_ingest(par, &cfg, &t, &led);          // collective
 *     ... t: rows [t->offset, t->offset + t->n_local) of t->n_global, sorted by id ...
 *     char *json = NULL;
 *     tribe_ledger_to_json(&led, &json);  ...  free(json);
 *     tribe_table_destroy(&t);
 *
 * Output table: numeric features, in this order: recency_days, frequency,
 * monetary (net of returns), avg_order_value, tenure_days,
 * mean_days_between, distinct_products, gross_monetary, return_count,
 * return_value, return_rate; then, with web events: sessions,
 * pages_per_session, minutes_on_site; then, with demographics: age (NaN
 * when missing). Customers whose net spend is <= 0 are left out (counted
 * in the ledger, listed in the rejects file).
 * Categorical columns: country; device (web); occupation, subscription
 * (demographics). Levels are the values some customer has, sorted by strcmp,
 * identical on every rank. Every feature is computed from exact integer or
 * fixed-point sums, so the table is bit-identical whatever the rank count.
 *
 * Ownership: the caller owns *out (tribe_table_destroy) and the JSON string
 * (free). The config's strings are only read during the call.
 */
#ifndef TRIBE_INGEST_H
#define TRIBE_INGEST_H

#include "tribe/core.h"
#include "tribe/date.h"
#include "tribe/items.h"
#include "tribe/mapping.h"
#include "tribe/par.h"
#include "tribe/table.h"

typedef struct {
    const char *transactions; /* required: Online Retail layout, plain or .gz */
    const char *web;          /* optional web_events.csv (NULL or "" = none) */
    const char *demographics; /* optional demographics.csv (NULL or "" = none) */
    /* Several files per source, read together as one source: the same result
     * as one file holding their data rows in this order (docs/ingest.md).
     * n > 0 replaces the single path above (which is then ignored). */
    const char *const *transactions_files;
    int n_transactions_files;
    const char *const *web_files;
    int n_web_files;
    const char *const *demographics_files;
    int n_demographics_files;
    const char *rejects;      /* rejects CSV to write (NULL = do not write) */
    const char *snapshot;     /* "YYYY-MM-DD" (NULL or "" = day after the last kept invoice day) */
    int rejects_all;          /* 0: only malformed rows go to the rejects file; 1: also the
                               * transaction rows removed by a cleaning rule (reason = rule) */
    int64_t gz_block;         /* data records per block when ranks share a .gz (0 = 65536) */
    /* Temporal split (docs/ltv.md): features from kept transaction rows dated
     * on or before `cutoff` only (snapshot = the day after it; web sessions
     * after it are ignored too); the target future_spend = the customer's kept
     * spend dated in (cutoff, cutoff + horizon_days]. NULL or "" = no split. */
    const char *cutoff;       /* "YYYY-MM-DD", within the kept rows' date range */
    int64_t horizon_days;     /* > 0 when cutoff is given */
    /* Customer ids (tribe/id.h): 0 = integers (ids must be non-negative
     * integers, "17850.0" accepted); 1 = strings of up to TRIBE_ID_MAX bytes
     * of UTF-8, kept as given in the table's id_text. */
    int string_ids;
    /* Which column is which, date formats, money (docs/mapping.md); NULL =
     * the built-in Online Retail layout (tribe_mapping_default). Borrowed. */
    const tribe_mapping *mapping;
} tribe_ingest_cfg;

/* Data-quality counts, summed over ranks (identical on every rank).
 * Invariants (asserted by the tests):
 *   rows_read = rows_kept + returns + malformed + implausible_date + missing_customer_id
 *               + nonpositive_quantity + nonpositive_price
 *   cancellations <= returns;  rows_after_cutoff <= rows_kept + returns
 *   customers + customers_after_cutoff + customers_net_nonpositive
 *       = distinct customers of the kept purchase and return rows
 *   web_rows = web_rows_kept + web_rows_unmatched + web_malformed + web_rows_after_cutoff
 *   demographics_rows = demographics_rows_kept + demographics_rows_unmatched
 *                       + demographics_duplicate_ids + demographics_malformed */
typedef struct {
    int64_t rows_read;            /* transaction data records (blank lines are not records) */
    int64_t rows_kept;            /* purchase rows kept, including those after the cutoff */
    int64_t returns;              /* return rows (InvoiceNo starting with 'C' or Quantity < 0;
                                   * UnitPrice > 0), netted against the customer's spend */
    int64_t rows_after_cutoff;    /* kept purchase and return rows dated after the cutoff: target only */
    int64_t malformed;            /* wrong column count, unparseable number/date/id: in rejects */
    int64_t implausible_date;     /* dated before 1900-01-01 or after the day after the run's day (UTC) */
    int64_t missing_customer_id;
    int64_t cancellations;        /* the returns whose order id starts with the cancel prefix ('C') or
                                   * whose return flag is set (a part of returns; docs/mapping.md) */
    int64_t nonpositive_quantity; /* Quantity = 0 (a negative Quantity is a return) */
    int64_t nonpositive_price;    /* UnitPrice <= 0, on a purchase or a return */
    int64_t customers;            /* rows of the output table */
    int64_t customers_after_cutoff; /* customers with kept rows, none on or before the cutoff */
    int64_t customers_net_nonpositive; /* left out: net spend (purchases - returns) <= 0 on or before the
                                        * cutoff; one rejects row each (source "customers") */
    int64_t web_rows, web_rows_kept, web_rows_unmatched, web_malformed;
    int64_t web_rows_after_cutoff; /* sessions after the cutoff, not used */
    int64_t demographics_rows, demographics_rows_kept, demographics_rows_unmatched;
    int64_t demographics_duplicate_ids; /* rows superseded by a later row of the same id */
    int64_t demographics_malformed;
    int64_t first_invoice_day, last_invoice_day; /* over kept rows, days since 1970-01-01 */
    int64_t snapshot_day;         /* days since 1970-01-01 */
    char snapshot[11];            /* the same as YYYY-MM-DD */
    int64_t cutoff_day;           /* -1: no temporal split */
    int64_t horizon_days;         /* 0: no temporal split */
    char cutoff[11];              /* "" without a split */
    int has_web, has_demographics;
    /* text source (tribe_ingest_text): text_rows = text_rows_kept + text_rows_unmatched
     * + text_malformed + text_rows_after_cutoff */
    int64_t text_rows, text_rows_kept, text_rows_unmatched, text_malformed, text_rows_after_cutoff;
    int64_t text_customers;       /* customers with at least one kept text */
    int64_t text_vocabulary;      /* terms of the topic model */
    int has_text;
    char currency[4];             /* ISO 4217 code of the money columns (default "GBP", tribe/currency.h) */
    char currency_symbol[8];      /* UTF-8 (default "£"); customers.h5 stores both (docs/hdf5-layout.md) */
} tribe_ledger;

/* Collective. Reads the sources (each rank its share: byte ranges of plain
 * files, record blocks of .gz files), cleans, aggregates per customer, moves
 * customers to their owner rank (rank r holds one contiguous id range, ranks
 * in ascending id order) and computes the features.
 * *out gets this rank's shard (offset, n_global set); *ledger is filled on
 * every rank, also on most errors (counts gathered so far).
 * Several files per source (cfg.*_files) are read as one source: the same
 * result as one file holding their rows in the order given.
 * The rejects file is written as soon as all sources are parsed, so it is
 * kept when a later step fails: each rank streams its rejected rows to part
 * files beside it, which rank 0 merges (no rank holds the rows in memory;
 * the rejects directory must be visible to all ranks).
 * Errors (the same status and message on every rank; *out is NULL):
 *   USAGE  no transactions path (or an empty one in a list), snapshot not a date or before the last invoice day;
 *          cutoff not a date or outside the kept rows' date range (names both),
 *          horizon_days <= 0 with a cutoff, both a snapshot and a cutoff
 *   IO     a source missing or unreadable (message names it), rejects not writable
 *   INPUT  a source file empty (no header) or missing a mapped column (names
 *          file, column and mapping key), a mapped column name twice in a
 *          header; amounts in two currencies (names a row of each, file:line);
 *          a truncated or damaged gzip; no purchase row kept at all; no
 *          customer with a net spend > 0 */
tribe_status tribe_ingest(tribe_par *par, const tribe_ingest_cfg *cfg, tribe_table **out, tribe_ledger *ledger);

/* Collective. tribe_ingest, plus (when target is not NULL) *target: a table
 * with the same rows, ids and distribution as *out and 5 columns, kept apart
 * so that no model ever takes the target as a feature:
 *   future_spend       net spend in (cutoff, cutoff + horizon], 0 when the window's
 *                      returns exceed its purchases (NaN without a cutoff)
 *   bgnbd_x            repeat purchase days = distinct purchase days - 1
 *   bgnbd_t_x          last - first purchase day (days; on or before the cutoff)
 *   bgnbd_T            (snapshot - 1) - first purchase day = tenure_days - 1
 *   repeat_mean_spend  (gross_monetary - purchases of the first day) / bgnbd_x
 *                      (0 when x = 0)
 * Customers with rows only after the cutoff are in neither table (counted as
 * customers_after_cutoff). Errors: as tribe_ingest; *target NULL on error. */
tribe_status tribe_ingest_split(tribe_par *par, const tribe_ingest_cfg *cfg, tribe_table **out,
                                tribe_table **target, tribe_ledger *ledger);

/* Collective. tribe_ingest_split, plus (items not NULL) what each customer of
 * *out bought (tribe/items.h): its products, or its categories when the
 * mapping has a category column or categories_file; purchases on or before
 * the cutoff only. *items is freed on error. */
tribe_status tribe_ingest_split_items(tribe_par *par, const tribe_ingest_cfg *cfg, tribe_table **out,
                                      tribe_table **target, tribe_ledger *ledger, tribe_items *items);

/* Collective: reads a ready feature table CSV: first column the customer id
 * (any header name), then numeric columns named by the header (an empty cell,
 * "nan" or "NaN" = NaN). The result is sorted by id and distributed like
 * tribe_ingest's (contiguous id ranges). No categorical columns.
 * Errors (agreed; *out NULL): IO missing file; INPUT empty file, a header
 * with no feature column, two columns of one name, no data row, a row with the wrong number of fields, a
 * non-numeric cell (names file, line and column), an id that is not an
 * integer or is empty (names file, line and column and what is wrong, with a
 * hint to --id-type string when the text would be a string id), a duplicate
 * id (names the id and both lines). */
tribe_status tribe_import_csv(tribe_par *par, const char *path, tribe_table **out);
/* The same with string ids when string_ids is 1 (tribe/id.h): the first
 * column is a string id (a malformed one is INPUT naming file, line, column
 * and reason),
 * kept in the table's id_text; two ids with one key are INPUT naming both. */
tribe_status tribe_import_csv_ids(tribe_par *par, const char *path, int string_ids, tribe_table **out);

/* The ledger as one JSON object (keys = field names; snapshot as a string).
 * *out is a heap string the caller frees. Not collective. Errors: NOMEM. */
tribe_status tribe_ledger_to_json(const tribe_ledger *ledger, char **out);
/* A human-readable summary (one rule per line, with shares), its rules
 * named by the mapping's columns ("missing Customer Number", "Order Total
 * <= 0"; mapping NULL: the built-in layout's CustomerID, Quantity,
 * UnitPrice). Not collective. */
void tribe_ledger_print(const tribe_ledger *ledger, const tribe_mapping *mapping, FILE *f);

/* 1 when a rejects-file row (its source and reason, as tribe_ingest writes
 * them under `mapping`; NULL: the built-in layout) was removed by a
 * cleaning rule (missing id, quantity or price <= 0, a date out of range)
 * or is a customer left out for its net spend, rather than malformed: the
 * rows --strict passes over. Not collective. */
int tribe_ingest_reason_is_rule(const tribe_mapping *mapping, const char *source, const char *reason);

/* tribe_parse_day (the day number of "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]"
 * or "M/D/YYYY[ H:MM]", as ingest reads dates) lives in tribe/date.h,
 * included here so callers of ingest keep getting it. */

/* ---- text source (docs/ingest.md, "Text source") ---------------------------- */

typedef struct {
    const char *const *files;  /* CSV files (plain or .gz) read as one source, in order */
    int n_files;
    int topics;                /* K topics (0: sentiment only, no topic model) */
    uint64_t seed;             /* seeds the topic model */
    int64_t gz_block;          /* as tribe_ingest_cfg.gz_block */
    const char *rejects;       /* the rejects file tribe_ingest wrote (NULL: none): malformed
                                * text rows are appended to it */
    const char *columns[3];    /* header names of the customer id, date and text columns
                                * (NULL: CustomerID, Date, Text; a mapping's text section) */
    int date_format;           /* TRIBE_DATE_* of tribe/date.h (0: auto) */
} tribe_text_cfg;

/* The topic model's labels, for customers.h5 and the report. */
typedef struct {
    int k;
    char **terms;              /* [k] the topic's top terms, space-separated, best first */
    int64_t *docs;             /* [k] documents of the topic */
} tribe_text_topics;

/* Top terms stored per topic. */
#define TRIBE_TEXT_TOP_TERMS 10

/* Collective. Reads the text source (each rank its share of each file),
 * scores each document's sentiment, fits the TF-IDF topic model over every
 * rank's documents and appends to *t (a tribe_ingest table, modified in
 * place) the columns text_docs, sentiment, negative_share, topic_1 ..
 * topic_K of each customer (NaN for those without text, except text_docs =
 * 0). Texts dated after ledger->cutoff_day (a temporal split) are not used.
 * Fills the ledger's text_* counts (summed, identical on every rank) and
 * *topics (caller frees: tribe_text_topics_free). The result does not
 * depend on the rank count.
 * Errors (agreed; *t unchanged on error): USAGE no file, topics < 0;
 * IO a file missing or the rejects not writable; INPUT a file without
 * a header or a required column (names file and column); NOMEM. */
tribe_status tribe_ingest_text(tribe_par *par, const tribe_text_cfg *cfg, tribe_table *t, tribe_ledger *ledger,
                               tribe_text_topics *topics);
void tribe_text_topics_free(tribe_text_topics *topics);

#endif
