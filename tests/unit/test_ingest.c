/* Unit tests for src/features/ingest*.c on the hand-made fixtures in
 * tests/data/ingest (see the comments there for what each row exercises). */
#include "testutil.h"
#include "tribe/csv.h"
#include "tribe/id.h"
#include "tribe/ingest.h"
/* the value parsers are internal to src/features; tested here directly */
#include "../../src/features/ingest_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int64_t row_of(const tribe_table *t, int64_t id)
{
    for (int64_t i = 0; i < t->n_local; i++)
        if (t->id[i] == id)
            return i;
    return -1;
}

static double feat(const tribe_table *t, int64_t id, const char *name)
{
    int64_t r = row_of(t, id);
    int j = tribe_table_feature(t, name);
    if (r < 0 || j < 0)
        return -12345.0;
    return t->x[r * t->d + j];
}

/* Level name of a categorical column for a customer ("" when missing). */
static const char *level(const tribe_table *t, int64_t id, const char *col)
{
    int64_t r = row_of(t, id);
    int c = tribe_table_cat(t, col);
    if (r < 0 || c < 0)
        return "?";
    int32_t k = t->cat[c].code[r];
    return k < 0 ? "" : t->cat[c].levels[k];
}

/* A customer's money columns: net monetary, gross, return rows, money returned, rate. */
static void check_money(const tribe_table *t, int64_t id, double net, double gross, int n_ret, double ret)
{
    CU_ASSERT_EQUAL(feat(t, id, "monetary"), (float)net);
    CU_ASSERT_EQUAL(feat(t, id, "gross_monetary"), (float)gross);
    CU_ASSERT_EQUAL(feat(t, id, "return_count"), n_ret);
    CU_ASSERT_EQUAL(feat(t, id, "return_value"), (float)ret);
    CU_ASSERT_EQUAL(feat(t, id, "return_rate"), (float)(ret / gross));
}

/* Every row that is not a kept purchase: rows_read = rows_kept + this. */
static int64_t rejected_sum(const tribe_ledger *l)
{
    return l->returns + l->malformed + l->implausible_date + l->missing_customer_id + l->nonpositive_quantity +
           l->nonpositive_price;
}

static void transactions_should_give_exact_features_and_ledger(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_ingest_cfg cfg = {0};
    char tx[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    cfg.transactions = tx;
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);

    CU_ASSERT_EQUAL(l.rows_read, 22);
    CU_ASSERT_EQUAL(l.rows_kept, 11);
    CU_ASSERT_EQUAL(l.malformed, 4);
    CU_ASSERT_EQUAL(l.missing_customer_id, 2);
    CU_ASSERT_EQUAL(l.returns, 2); /* C500004 and 500032 (Quantity -2) */
    CU_ASSERT_EQUAL(l.cancellations, 1);
    CU_ASSERT_EQUAL(l.nonpositive_quantity, 1);
    CU_ASSERT_EQUAL(l.nonpositive_price, 2);
    CU_ASSERT_EQUAL(l.rows_read, l.rows_kept + rejected_sum(&l));
    CU_ASSERT_EQUAL(l.customers, 4);
    CU_ASSERT_EQUAL(l.customers_net_nonpositive, 0);
    CU_ASSERT_STRING_EQUAL(l.snapshot, "2011-03-02");

    CU_ASSERT_EQUAL_FATAL(t->n_local, 4);
    CU_ASSERT_EQUAL(t->n_global, 4);
    CU_ASSERT_EQUAL(t->offset, 0);
    CU_ASSERT_EQUAL_FATAL(t->d, 17);
    const char *names[] = {"recency_days",      "frequency",         "monetary",     "avg_order_value",
                           "tenure_days",       "mean_days_between", "distinct_products",
                           "gross_monetary",    "return_count",      "return_value", "return_rate",
                           "spend_q1",          "spend_q2",          "spend_q3",     "spend_q4",
                           "weekend_share",     "monthly_spend"};
    for (int j = 0; j < 17; j++)
        CU_ASSERT_STRING_EQUAL(t->names[j], names[j]);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->id[i], 100 * (i + 1));

    /* 100: invoices 500001 (3.00 + 10.00, Jan 10), 500002 (6.00) and 500003
     * (0.50) both on Jan 20; products A1 B2 C3; returns C500004 (1.50, Jan
     * 21) and 500032 (Quantity -2: 3.00, Jan 22), which move neither the
     * last day nor the invoice count */
    CU_ASSERT_EQUAL(feat(t, 100, "recency_days"), 41);
    CU_ASSERT_EQUAL(feat(t, 100, "frequency"), 3);
    CU_ASSERT_EQUAL(feat(t, 100, "avg_order_value"), 5.0);
    check_money(t, 100, 15.0, 19.5, 2, 4.5);
    check_money(t, 200, 12.0, 12.0, 0, 0.0);
    CU_ASSERT_EQUAL(feat(t, 100, "tenure_days"), 51);
    CU_ASSERT_EQUAL(feat(t, 100, "mean_days_between"), 10);
    CU_ASSERT_EQUAL(feat(t, 100, "distinct_products"), 3);
    /* 200: three invoices on Feb 1, 5, 15 (the last as M/D/YYYY H:MM) */
    CU_ASSERT_EQUAL(feat(t, 200, "recency_days"), 15);
    CU_ASSERT_EQUAL(feat(t, 200, "frequency"), 3);
    CU_ASSERT_EQUAL(feat(t, 200, "monetary"), 12.0);
    CU_ASSERT_EQUAL(feat(t, 200, "avg_order_value"), 4.0);
    CU_ASSERT_EQUAL(feat(t, 200, "tenure_days"), 29);
    CU_ASSERT_EQUAL(feat(t, 200, "mean_days_between"), 7);
    CU_ASSERT_EQUAL(feat(t, 200, "distinct_products"), 2);
    /* seasonality: every purchase in January-March; 200 bought 2.25 of its
     * 12.00 on Saturday 2011-02-05 (the other days are a Monday, Tuesdays
     * and a Thursday) */
    CU_ASSERT_EQUAL(feat(t, 100, "spend_q1"), 1.0);
    CU_ASSERT_EQUAL(feat(t, 100, "spend_q2") + feat(t, 100, "spend_q3") + feat(t, 100, "spend_q4"), 0.0);
    CU_ASSERT_EQUAL(feat(t, 100, "weekend_share"), 0.0);
    CU_ASSERT_EQUAL(feat(t, 200, "weekend_share"), 0.1875f);
    /* monthly spend: net over the months since the first purchase, at least one */
    CU_ASSERT_EQUAL(feat(t, 100, "monthly_spend"), (float)(15.0 / (51 / 30.4375)));
    CU_ASSERT_EQUAL(feat(t, 200, "monthly_spend"), 12.0f);
    /* 300: one invoice, one day, the second line spans two physical lines */
    CU_ASSERT_EQUAL(feat(t, 300, "recency_days"), 1);
    CU_ASSERT_EQUAL(feat(t, 300, "frequency"), 1);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 300, "monetary"), 10.0, 1e-6);
    CU_ASSERT_EQUAL(feat(t, 300, "mean_days_between"), 0);
    CU_ASSERT_EQUAL(feat(t, 300, "distinct_products"), 2);
    CU_ASSERT_EQUAL(feat(t, 400, "monetary"), 2.0);

    /* country: 200 has France 2 x Germany 2 -> alphabetical first; Germany
     * is nobody's country, so it is not a level */
    CU_ASSERT_EQUAL_FATAL(t->n_cat, 1);
    CU_ASSERT_STRING_EQUAL(t->cat[0].name, "country");
    CU_ASSERT_EQUAL_FATAL(t->cat[0].n_levels, 4);
    const char *lv[] = {"EIRE", "France", "Spain", "United Kingdom"};
    for (int k = 0; k < 4; k++)
        CU_ASSERT_STRING_EQUAL(t->cat[0].levels[k], lv[k]);
    CU_ASSERT_STRING_EQUAL(level(t, 100, "country"), "United Kingdom");
    CU_ASSERT_STRING_EQUAL(level(t, 200, "country"), "France");
    CU_ASSERT_STRING_EQUAL(level(t, 300, "country"), "EIRE");
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void web_and_demographics_should_join_on_customer_id(void)
{
    tribe_par *par = tribe_test_serial();
    char tx[1024], web[1024], demo[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(web, sizeof web, "%s", tribe_test_data("ingest/web_events.csv"));
    snprintf(demo, sizeof demo, "%s", tribe_test_data("ingest/demographics.csv"));
    tribe_ingest_cfg cfg = {.transactions = tx, .web = web, .demographics = demo};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.web_rows, 10);
    CU_ASSERT_EQUAL(l.web_rows_kept, 5);
    CU_ASSERT_EQUAL(l.web_rows_unmatched, 2);
    CU_ASSERT_EQUAL(l.web_malformed, 3);
    CU_ASSERT_EQUAL(l.web_rows, l.web_rows_kept + l.web_rows_unmatched + l.web_malformed);
    CU_ASSERT_EQUAL(l.demographics_rows, 6);
    CU_ASSERT_EQUAL(l.demographics_rows_kept, 2);
    CU_ASSERT_EQUAL(l.demographics_duplicate_ids, 1);
    CU_ASSERT_EQUAL(l.demographics_rows_unmatched, 2);
    CU_ASSERT_EQUAL(l.demographics_malformed, 1);
    CU_ASSERT_EQUAL(l.demographics_rows, l.demographics_rows_kept + l.demographics_rows_unmatched +
                                             l.demographics_duplicate_ids + l.demographics_malformed);

    CU_ASSERT_EQUAL_FATAL(t->d, 21);
    CU_ASSERT_STRING_EQUAL(t->names[17], "sessions");
    CU_ASSERT_STRING_EQUAL(t->names[18], "pages_per_session");
    CU_ASSERT_STRING_EQUAL(t->names[19], "minutes_on_site");
    CU_ASSERT_STRING_EQUAL(t->names[20], "age");
    CU_ASSERT_EQUAL(feat(t, 100, "sessions"), 3);
    CU_ASSERT_EQUAL(feat(t, 100, "pages_per_session"), 5);
    CU_ASSERT_EQUAL(feat(t, 100, "minutes_on_site"), 20);
    CU_ASSERT_EQUAL(feat(t, 200, "sessions"), 2);
    CU_ASSERT_EQUAL(feat(t, 200, "pages_per_session"), 6);
    CU_ASSERT_EQUAL(feat(t, 200, "minutes_on_site"), 21);
    CU_ASSERT_EQUAL(feat(t, 300, "sessions"), 0);
    CU_ASSERT_EQUAL(feat(t, 300, "pages_per_session"), 0);
    CU_ASSERT_EQUAL(feat(t, 300, "minutes_on_site"), 0);
    CU_ASSERT_EQUAL(feat(t, 100, "age"), 34);
    CU_ASSERT_EQUAL(feat(t, 200, "age"), 45); /* the later row wins whole */
    CU_ASSERT(isnan(feat(t, 300, "age")));
    CU_ASSERT(isnan(feat(t, 400, "age")));

    CU_ASSERT_EQUAL_FATAL(t->n_cat, 4);
    CU_ASSERT_STRING_EQUAL(t->cat[1].name, "device");
    CU_ASSERT_STRING_EQUAL(t->cat[2].name, "occupation");
    CU_ASSERT_STRING_EQUAL(t->cat[3].name, "subscription");
    CU_ASSERT_STRING_EQUAL(level(t, 100, "device"), "mobile");
    CU_ASSERT_STRING_EQUAL(level(t, 200, "device"), "app"); /* tablet 1 x app 1 */
    CU_ASSERT_STRING_EQUAL(level(t, 300, "device"), "");
    CU_ASSERT_EQUAL(t->cat[1].n_levels, 2);
    CU_ASSERT_STRING_EQUAL(level(t, 100, "country"), "Belgium"); /* override */
    CU_ASSERT_STRING_EQUAL(level(t, 200, "country"), "France");  /* later row has no country */
    CU_ASSERT_EQUAL(t->cat[0].n_levels, 4);
    CU_ASSERT_STRING_EQUAL(t->cat[0].levels[0], "Belgium");
    CU_ASSERT_STRING_EQUAL(level(t, 100, "occupation"), "engineer");
    CU_ASSERT_STRING_EQUAL(level(t, 200, "occupation"), "teacher");
    CU_ASSERT_STRING_EQUAL(level(t, 300, "occupation"), "");
    CU_ASSERT_STRING_EQUAL(level(t, 100, "subscription"), "basic");
    CU_ASSERT_STRING_EQUAL(level(t, 200, "subscription"), "premium");
    CU_ASSERT_EQUAL(t->cat[3].n_levels, 2);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

/* Reads the rejects CSV back: returns rows, fills lines[] and reasons. */
static int read_rejects(const char *path, int64_t *lines, char reasons[][128], char sources[][256], int max)
{
    tribe_csv *c = NULL;
    int n = 0, has = 0;
    if (tribe_csv_open(path, NULL, &c) != TRIBE_OK)
        return -1;
    CU_ASSERT_EQUAL(tribe_csv_ncolumns(c), 4);
    CU_ASSERT_STRING_EQUAL(tribe_csv_column_name(c, 3), "raw");
    while (tribe_csv_next(c, &has) == TRIBE_OK && has && n < max) {
        CU_ASSERT_EQUAL(tribe_csv_nfields(c), 4);
        lines[n] = atoll(tribe_csv_field(c, 1, NULL));
        snprintf(reasons[n], 128, "%s", tribe_csv_field(c, 2, NULL));
        snprintf(sources[n], 256, "%s", tribe_csv_field(c, 0, NULL));
        n++;
    }
    tribe_csv_close(&c);
    return n;
}

static void rejects_file_should_list_malformed_rows_by_line(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[1024], web[1024], rej[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(web, sizeof web, "%s", tribe_test_data("ingest/web_events.csv"));
    snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
    tribe_ingest_cfg cfg = {.transactions = tx, .web = web, .rejects = rej};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    int64_t lines[16];
    char reasons[16][128], sources[16][256];
    int n = read_rejects(rej, lines, reasons, sources, 16);
    CU_ASSERT_EQUAL_FATAL(n, 7); /* 4 transactions + 3 web */
    const int64_t want[] = {19, 20, 21, 22, 8, 9, 10};
    for (int i = 0; i < 7; i++) {
        CU_ASSERT_EQUAL(lines[i], want[i]);
        CU_ASSERT_STRING_EQUAL(sources[i], i < 4 ? tx : web);
    }
    CU_ASSERT_STRING_EQUAL(reasons[0], "Quantity 'abc' is not an integer");
    CU_ASSERT_STRING_EQUAL(reasons[1], "expected 8 fields, found 7");
    CU_ASSERT_STRING_EQUAL(reasons[2], "InvoiceDate '2011-13-01 10:00:00' is not a date");
    CU_ASSERT_STRING_EQUAL(reasons[3], "CustomerID 'abc' is not an integer id");
    CU_ASSERT_STRING_EQUAL(reasons[4], "PagesViewed '-1' is not a count >= 0");
    CU_ASSERT_STRING_EQUAL(reasons[5], "CustomerID is empty");
    tribe_table_destroy(&t);

    /* rejects_all: every removed transaction row, with its rule */
    cfg.web = NULL;
    cfg.rejects_all = 1;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    n = read_rejects(rej, lines, reasons, sources, 16);
    CU_ASSERT_EQUAL(n, l.rows_read - l.rows_kept - l.returns); /* returns are netted, not rejected */
    CU_ASSERT_EQUAL(lines[0], 11);
    CU_ASSERT_STRING_EQUAL(reasons[0], "UnitPrice <= 0");
    CU_ASSERT_EQUAL(lines[n - 1], 23); /* missing id wins over the 'C' prefix */
    CU_ASSERT_STRING_EQUAL(reasons[n - 1], "missing CustomerID");
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void no_kept_row_should_fail_but_keep_the_rejects(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char rej[1024];
    snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
    tribe_ingest_cfg cfg = {.transactions = tribe_test_data("ingest/all_rejected.csv"), .rejects = rej};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no purchase row was kept"));
    CU_ASSERT_EQUAL(l.rows_read, 3);
    CU_ASSERT_EQUAL(l.returns, 1); /* C1: a return, but no purchase */
    CU_ASSERT_EQUAL(l.rows_read, l.rows_kept + rejected_sum(&l));
    int64_t lines[4];
    char reasons[4][128], sources[4][256];
    CU_ASSERT_EQUAL(read_rejects(rej, lines, reasons, sources, 4), 1);
    CU_ASSERT_EQUAL(lines[0], 3);
    tribe_par_finalize(&par);
}

static void bad_sources_should_fail_naming_file_and_column(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = NULL;
    tribe_ledger l;
    char tx[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    tribe_ingest_cfg cfg = {.transactions = "/nonexistent/tx.csv"};
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "/nonexistent/tx.csv"));

    cfg.transactions = tribe_test_data("ingest/no_country.csv");
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no_country.csv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'Country'"));

    cfg.transactions = tribe_test_data("ingest/empty.csv");
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "empty"));

    /* a web file without the Device column */
    cfg.transactions = tx;
    cfg.web = tx;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'SessionStart'"));
    cfg.web = "/nonexistent/web.csv";
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "/nonexistent/web.csv"));
    cfg.web = NULL;

    cfg.snapshot = "2011-02-30";
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    cfg.snapshot = "2011-02-01"; /* before the last invoice */
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "2011-03-01"));
    cfg.snapshot = "2011-03-10";
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(feat(t, 100, "recency_days"), 49);
    CU_ASSERT_EQUAL(feat(t, 100, "tenure_days"), 59);
    CU_ASSERT_STRING_EQUAL(l.snapshot, "2011-03-10");
    tribe_table_destroy(&t);
    CU_ASSERT_PTR_NULL(t);
    tribe_par_finalize(&par);
}

static void ledger_should_render_as_json_and_text(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_ingest_cfg cfg = {.transactions = tribe_test_data("ingest/transactions.csv")};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    char *json = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_ledger_to_json(&l, &json), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"rows_read\": 22,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"nonpositive_price\": 2,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"snapshot\": \"2011-03-02\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"last_invoice_date\": \"2011-03-01\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"has_web\": false"));
    /* the Online Retail layout's currency, the default until the data names one */
    CU_ASSERT_STRING_EQUAL(l.currency, "GBP");
    CU_ASSERT_STRING_EQUAL(l.currency_symbol, "\xc2\xa3");
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"currency\": \"GBP\",\n  \"currency_symbol\": \"\xc2\xa3\","));
    CU_ASSERT_EQUAL(json[0], '{');
    CU_ASSERT_EQUAL(json[strlen(json) - 2], '}');
    free(json);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    tribe_ledger_print(&l, NULL, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "22 rows read, 11 kept"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "snapshot 2011-03-02"));
    free(text);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

/* A shop export's layout: the summary and the no-row-kept error name its
 * columns, not the built-in CustomerID, Quantity and UnitPrice. */
static void summary_should_name_the_mapped_columns(void)
{
    tribe_par *par = tribe_test_serial();
    char tx[1024], bad[1024];
    snprintf(tx, sizeof tx, "%s/mapped.csv", tribe_test_tmpdir());
    snprintf(bad, sizeof bad, "%s/mapped-bad.csv", tribe_test_tmpdir());
    static const char head[] = "Order Ref,Order Date,Cust No,Line Total\n";
    FILE *f = fopen(tx, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%sA1,2011-01-03,7,10.5\nA2,2011-01-04,,3\nA3,2011-01-05,8,0\nA4,2011-01-05,8,4\n", head);
    fclose(f);
    f = fopen(bad, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%sB1,2011-01-03,,2\nB2,2011-01-04,9,0\n", head);
    fclose(f);
    tribe_mapping *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_mapping_parse("m.json",
                                              "{\"transactions\": {\"columns\": {\"customer_id\": \"Cust No\", "
                                              "\"order_id\": \"Order Ref\", \"date\": \"Order Date\", "
                                              "\"amount\": \"Line Total\"}}}",
                                              &m),
                          TRIBE_OK);
    tribe_ingest_cfg cfg = {.transactions = tx, .mapping = m};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.missing_customer_id, 1);
    CU_ASSERT_EQUAL(l.nonpositive_price, 1);
    char *text = NULL;
    size_t len = 0;
    f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    tribe_ledger_print(&l, m, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  missing Cust No                    1   25.0%\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  Line Total <= 0                    1   25.0%\n"));
    /* no quantity column: no quantity line */
    CU_ASSERT_PTR_NULL(strstr(text, "Quantity"));
    CU_ASSERT_PTR_NULL(strstr(text, "CustomerID"));
    CU_ASSERT_PTR_NULL(strstr(text, "UnitPrice"));
    free(text);
    tribe_table_destroy(&t);
    cfg.transactions = bad;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "1 without Cust No,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "1 with Line Total <= 0)"));
    CU_ASSERT_PTR_NULL(strstr(tribe_errmsg(), "CustomerID"));
    tribe_mapping_destroy(&m);
    tribe_par_finalize(&par);
}

static void dates_and_numbers_should_parse_strictly(void)
{
    int64_t d = 0;
    CU_ASSERT_EQUAL(tribe_parse_day("1970-01-01", &d), TRIBE_OK);
    CU_ASSERT_EQUAL(d, 0);
    CU_ASSERT_EQUAL(tribe_parse_day("2011-12-09 12:50:00", &d), TRIBE_OK);
    CU_ASSERT_EQUAL(d, 15317);
    CU_ASSERT_EQUAL(tribe_parse_day("12/9/2011 12:50", &d), TRIBE_OK);
    CU_ASSERT_EQUAL(d, 15317);
    CU_ASSERT_EQUAL(tribe_parse_day("2012-02-29", &d), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_parse_day("2011-02-29", &d), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_parse_day("2011-12-09 25:00", &d), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_parse_day("2011-12-09x", &d), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_parse_day("", &d), TRIBE_ERR_INPUT);
}

static void numbers_and_keys_should_parse_exactly(void)
{
    int64_t v = 0;
    double x = 0;
    CU_ASSERT(ing_parse_int("17850.0", 7, &v) && v == 17850);
    CU_ASSERT(ing_parse_int(" -12 ", 5, &v) && v == -12);
    CU_ASSERT(!ing_parse_int("17850.5", 7, &v));
    CU_ASSERT(!ing_parse_int("1e3", 3, &v));
    CU_ASSERT(!ing_parse_int("", 0, &v));
    CU_ASSERT(!ing_parse_int("99999999999999999999", 20, &v));
    CU_ASSERT(ing_parse_double("2.55", 4, &x) && x == 2.55);
    CU_ASSERT(ing_parse_double("-11062.06", 9, &x) && x == -11062.06);
    CU_ASSERT(ing_parse_double("0.000123456789012345678", 23, &x) && x == 0.000123456789012345678);
    CU_ASSERT(ing_parse_double("1.5e3", 5, &x) && x == 1500.0);
    CU_ASSERT(ing_parse_double(".5", 2, &x) && x == 0.5);
    CU_ASSERT(!ing_parse_double("nan", 3, &x));
    CU_ASSERT(!ing_parse_double("inf", 3, &x));
    CU_ASSERT(!ing_parse_double("1e999", 5, &x));
    CU_ASSERT(!ing_parse_double("0x10", 4, &x));
    CU_ASSERT(!ing_parse_double("1.2.3", 5, &x));
    /* every decimal with up to 15 digits parses to strtod's double */
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        uint64_t r = tribe_rng_u64(4, 4, (uint64_t)i);
        int n = snprintf(buf, sizeof buf, "%llu.%0*llu", (unsigned long long)(r % 1000000),
                         (int)(1 + (r >> 40) % 8), (unsigned long long)((r >> 20) % 10000000));
        CU_ASSERT(ing_parse_double(buf, (size_t)n, &x) && x == strtod(buf, NULL));
    }
    /* keys: different texts, different keys, in each encoding */
    const char *texts[] = {"536365", "C536365", "A563185", "85123A", "POST", "DCGS0076", "BANK CHARGES",
                           "gift_0001_40", "0536365", "5363650", "12345678", "012345678", "ABCDEFGHIJ",
                           "ABCDEFGHIJK", "85123a", ""};
    int nt = (int)(sizeof texts / sizeof texts[0]);
    for (int i = 0; i < nt; i++)
        for (int j = i + 1; j < nt; j++)
            CU_ASSERT(ing_key(texts[i], strlen(texts[i])) != ing_key(texts[j], strlen(texts[j])));
    CU_ASSERT(ing_key("BANK CHARGES", 12) == ing_key("BANK CHARGES", 12));
}

static void import_should_sort_by_id_and_read_nan(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_import_csv(par, tribe_test_data("ingest/features.csv"), &t), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(t->n_local, 3);
    CU_ASSERT_EQUAL(t->n_global, 3);
    CU_ASSERT_EQUAL_FATAL(t->d, 2);
    CU_ASSERT_STRING_EQUAL(t->names[0], "recency");
    CU_ASSERT_STRING_EQUAL(t->names[1], "monetary");
    CU_ASSERT(t->id[0] == 10 && t->id[1] == 20 && t->id[2] == 30);
    CU_ASSERT_EQUAL(t->x[0], 2.0f);
    CU_ASSERT_EQUAL(t->x[1], 3.25f);
    CU_ASSERT(isnan(t->x[2]));
    CU_ASSERT_EQUAL(t->x[3], 4.0f);
    CU_ASSERT_EQUAL(t->x[4], 1.5f);
    CU_ASSERT(isnan(t->x[5]));
    tribe_table_destroy(&t);

    CU_ASSERT_EQUAL(tribe_import_csv(par, tribe_test_data("ingest/features_bad_cell.csv"), &t), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "features_bad_cell.csv:3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'monetary'"));
    CU_ASSERT_EQUAL(tribe_import_csv(par, tribe_test_data("ingest/features_dup.csv"), &t), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "customer id 5 appears twice (lines 2 and 4)"));
    CU_ASSERT_EQUAL(tribe_import_csv(par, tribe_test_data("ingest/empty.csv"), &t), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_import_csv(par, "/nonexistent/f.csv", &t), TRIBE_ERR_IO);
    tribe_par_finalize(&par);
}

/* Writes `text` to dir/name; returns the path (static buffer). */
static const char *write_file(const char *dir, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* The message of importing `text` as dir/name (INPUT expected), or "". */
static const char *import_error(const char *dir, const char *name, const char *text, int string_ids)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = NULL;
    tribe_status st = tribe_import_csv_ids(par, write_file(dir, name, text), string_ids, &t);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
    return st == TRIBE_OK ? "" : tribe_errmsg();
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static void import_should_say_what_is_wrong_with_an_id(void)
{
    const char *dir = tribe_test_tmpdir();
    const char *e = import_error(dir, "feats.csv", "customer_id,a\n1,2\nC-12,3\n", 0);
    CU_ASSERT(ends_with(e, "/feats.csv:3: column 'customer_id': 'C-12' is not an integer id (use --id-type string)"));
    e = import_error(dir, "frac.csv", "id,a\n17850.5,3\n", 0);
    CU_ASSERT(ends_with(e, "/frac.csv:2: column 'id': '17850.5' is not an integer id (use --id-type string)"));
    /* ids are read as ingest reads them: no negative ones, none past int64, "17850.0" is 17850 */
    e = import_error(dir, "neg.csv", "id,a\n17850.0,2\n-5,3\n", 0);
    CU_ASSERT(ends_with(e, "/neg.csv:3: column 'id': '-5' is negative (use --id-type string)"));
    e = import_error(dir, "big.csv", "id,a\n92233720368547758070,3\n", 0);
    CU_ASSERT(ends_with(e, "/big.csv:2: column 'id': '92233720368547758070' is above the largest integer id "
                           "(2^63 - 1) (use --id-type string)"));
    e = import_error(dir, "bigfrac.csv", "id,a\n92233720368547758070.5,3\n", 0);
    CU_ASSERT(ends_with(e, "/bigfrac.csv:2: column 'id': '92233720368547758070.5' is not an integer id "
                           "(use --id-type string)"));
    e = import_error(dir, "bigneg.csv", "id,a\n-92233720368547758070,3\n", 0);
    CU_ASSERT(ends_with(e, "/bigneg.csv:2: column 'id': '-92233720368547758070' is negative (use --id-type string)"));
    /* no hint when the text could not be a string id either (over 64 bytes) */
    char text[256] = "id,a\n1,2\n";
    size_t k = strlen(text);
    memset(text + k, 'L', 65);
    strcpy(text + k + 65, ",3\n");
    e = import_error(dir, "long.csv", text, 0);
    CU_ASSERT(ends_with(e, "/long.csv:3: column 'id': 'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL'... is not an integer id"));
    e = import_error(dir, "long.csv", text, 1);
    CU_ASSERT(ends_with(e, "/long.csv:3: column 'id': 'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL'... is longer than 64 "
                           "bytes (the longest string id)"));
    for (int s = 0; s < 2; s++) {
        e = import_error(dir, "empty-id.csv", "id,a\n1,2\n ,3\n", s);
        CU_ASSERT(ends_with(e, "/empty-id.csv:3: column 'id': the customer id is empty"));
    }
    e = import_error(dir, "ctl.csv", "id,a\nA\001B,3\n", 1);
    CU_ASSERT(ends_with(e, "/ctl.csv:2: column 'id': 'A?B' holds a control character"));
}

/* With string ids a customer left out for a net spend <= 0 is written with
 * its text as raw and an empty line (its key is no line and no id a user
 * wrote), in key order; integer ids keep the number in both cells. */
static void string_id_customers_left_out_should_be_named_by_their_text(void)
{
    static const char *const texts[3] = {"C-20", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Zo\xc3\xab"};
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[1024], rej[1024], csv[2048];
    snprintf(csv, sizeof csv,
             "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
             "700001,A1,MUG,4,2011-01-05 10:00,2.50,C-10,United Kingdom\n"
             "C700010,A1,MUG,-1,2011-01-10 10:00,2.50,%s,France\n"
             "700020,D4,LAMP,1,2011-01-15 10:00,40.00,%s,Germany\n"
             "C700021,D4,LAMP,-1,2011-01-16 10:00,40.00,%s,Germany\n"
             "700050,C3,TEA,8,2011-02-05 10:00,1.25,%s,EIRE\n"
             "C700051,C3,TEA,-8,2011-03-05 10:00,1.25,%s,EIRE\n",
             texts[0], texts[1], texts[1], texts[2], texts[2]);
    snprintf(tx, sizeof tx, "%s", write_file(dir, "string-returns.csv", csv));
    snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
    tribe_ingest_cfg cfg = {.transactions = tx, .rejects = rej, .rejects_all = 1, .string_ids = 1};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.customers, 1);
    CU_ASSERT_EQUAL(l.customers_net_nonpositive, 3);
    tribe_table_destroy(&t);
    /* the expected order: by key */
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (tribe_id_key(texts[order[j]], strlen(texts[order[j]])) <
                tribe_id_key(texts[order[i]], strlen(texts[order[i]]))) {
                int x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
    tribe_csv *c = NULL;
    int has = 0, n = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_csv_open(rej, NULL, &c), TRIBE_OK);
    while (tribe_csv_next(c, &has) == TRIBE_OK && has && n < 3) {
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 0, NULL), "customers");
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 1, NULL), "");
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 3, NULL), texts[order[n]]);
        n++;
    }
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_FALSE(tribe_csv_next(c, &has) == TRIBE_OK && has);
    tribe_csv_close(&c);

    /* integer ids: the number as line and raw, as before */
    cfg.transactions = tribe_test_data("ingest/returns.csv");
    cfg.string_ids = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    tribe_table_destroy(&t);
    CU_ASSERT_EQUAL_FATAL(tribe_csv_open(rej, NULL, &c), TRIBE_OK);
    n = 0;
    while (tribe_csv_next(c, &has) == TRIBE_OK && has)
        if (strcmp(tribe_csv_field(c, 0, NULL), "customers") == 0) {
            CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 1, NULL), tribe_csv_field(c, 3, NULL));
            CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 1, NULL), n == 0 ? "20" : n == 1 ? "30" : "60");
            n++;
        }
    CU_ASSERT_EQUAL(n, 3);
    tribe_csv_close(&c);
    tribe_par_finalize(&par);
}

/* tests/data/ingest/split_transactions.csv, cutoff 2011-03-31, horizon 30:
 * customer 1 buys on 01-10 (13.00 on two lines), 02-15 (10), 03-31 (5: on
 * the cutoff, a feature), then 04-10 (20) and 04-30 (7) in the window, 05-01
 * (100) after it, and returns 10.00 on 04-11 (in the window: netted there);
 * customer 2 buys once on 02-01; customer 3 only after the cutoff; customer 4
 * twice on 01-01 (the data's first day) and once in the window (6). */
static void cutoff_should_split_features_and_target(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_ingest_cfg cfg = {0};
    char tx[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/split_transactions.csv"));
    cfg.transactions = tx;
    cfg.cutoff = "2011-03-31";
    cfg.horizon_days = 30;
    tribe_table *t = NULL, *g = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(t->n_global, 3);
    CU_ASSERT_EQUAL(g->n_local, 3);
    CU_ASSERT_EQUAL(row_of(t, 3), -1);
    CU_ASSERT_EQUAL(l.customers, 3);
    CU_ASSERT_EQUAL(l.customers_after_cutoff, 1);
    CU_ASSERT_EQUAL(l.rows_read, 13);
    CU_ASSERT_EQUAL(l.rows_kept, 12);
    CU_ASSERT_EQUAL(l.returns, 1);
    CU_ASSERT_EQUAL(l.cancellations, 1);
    CU_ASSERT_EQUAL(l.rows_after_cutoff, 6); /* 5 purchases and the return */
    CU_ASSERT_STRING_EQUAL(l.snapshot, "2011-04-01");
    CU_ASSERT_STRING_EQUAL(l.cutoff, "2011-03-31");
    CU_ASSERT_EQUAL(l.horizon_days, 30);
    CU_ASSERT_EQUAL(l.last_invoice_day - l.first_invoice_day, 120); /* 2011-01-01 .. 2011-05-01 */
    /* features see nothing after the cutoff */
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 1, "monetary"), 28.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 1, "frequency"), 3.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 1, "recency_days"), 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 1, "tenure_days"), 81.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 4, "frequency"), 2.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 4, "monetary"), 10.0, 1e-5);
    /* the target table: future_spend, bgnbd_x, bgnbd_t_x, bgnbd_T, repeat_mean_spend */
    CU_ASSERT_EQUAL(g->d, 5);
    CU_ASSERT_STRING_EQUAL(g->names[0], "future_spend");
    CU_ASSERT(memcmp(g->id, t->id, 3 * sizeof *g->id) == 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "future_spend"), 17.0, 1e-5); /* 20 + 7 - 10 */
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 2, "future_spend"), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 4, "future_spend"), 6.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "bgnbd_x"), 2.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "bgnbd_t_x"), 80.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "bgnbd_T"), 80.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "repeat_mean_spend"), 7.5, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 2, "bgnbd_x"), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 2, "bgnbd_t_x"), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 2, "bgnbd_T"), 58.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 2, "repeat_mean_spend"), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 4, "bgnbd_x"), 0.0, 0); /* two invoices, one day */
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 4, "bgnbd_T"), 89.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 4, "bgnbd_T"), feat(t, 4, "tenure_days") - 1, 0);
    char *json = NULL;
    CU_ASSERT_EQUAL(tribe_ledger_to_json(&l, &json), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"customers_after_cutoff\": 1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"cutoff\": \"2011-03-31\""));
    free(json);
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);

    /* a later cutoff moves rows from the target into the features */
    cfg.cutoff = "2011-04-10";
    cfg.horizon_days = 21; /* (04-10, 05-01] */
    CU_ASSERT_EQUAL_FATAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(t->n_global, 4);
    CU_ASSERT_EQUAL(l.customers_after_cutoff, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(t, 1, "monetary"), 48.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "future_spend"), 97.0, 1e-5); /* 7 + 100 - 10 */
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 3, "future_spend"), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 3, "bgnbd_T"), 5.0, 0);
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);

    /* without a cutoff: no target values, the BG/NBD inputs still there */
    cfg.cutoff = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(t->n_global, 4);
    CU_ASSERT(isnan(feat(g, 1, "future_spend")));
    CU_ASSERT_DOUBLE_EQUAL(feat(g, 1, "bgnbd_x"), 5.0, 0);
    CU_ASSERT_EQUAL(l.cutoff_day, -1);
    CU_ASSERT_STRING_EQUAL(l.cutoff, "");
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);
    tribe_par_finalize(&par);
}

static void bad_cutoff_or_horizon_should_be_usage_errors(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_ingest_cfg cfg = {0};
    char tx[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/split_transactions.csv"));
    cfg.transactions = tx;
    tribe_table *t = NULL, *g = NULL;
    tribe_ledger l;
    cfg.cutoff = "2010-12-31";
    cfg.horizon_days = 30;
    CU_ASSERT_EQUAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "cutoff 2010-12-31 is outside the data's date range 2011-01-01 .. 2011-05-01");
    cfg.cutoff = "2011-05-02";
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "2011-05-02"));
    cfg.cutoff = "2011-05-01"; /* the last day: allowed (an empty window) */
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    tribe_table_destroy(&t);
    cfg.cutoff = "2011-03-31";
    cfg.horizon_days = 0;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "horizon 0 days"));
    cfg.horizon_days = -5;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    cfg.horizon_days = 30;
    cfg.cutoff = "31/03/2011x";
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "not a date"));
    cfg.cutoff = "2011-03-31";
    cfg.snapshot = "2011-06-01";
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(t);
    tribe_par_finalize(&par);
}

/* web sessions after the cutoff must not leak into the features */
static void web_sessions_after_the_cutoff_should_be_ignored(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_ingest_cfg cfg = {0};
    char tx[1024], web[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(web, sizeof web, "%s", tribe_test_data("ingest/web_events.csv"));
    cfg.transactions = tx;
    cfg.web = web;
    tribe_table *t = NULL, *u = NULL;
    tribe_ledger l, m;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    cfg.cutoff = "2011-02-01";
    cfg.horizon_days = 45;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &u, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(l.web_rows_after_cutoff, 0);
    CU_ASSERT_EQUAL(m.web_rows_after_cutoff, 3); /* 02-02 (2) and 02-03 */
    CU_ASSERT_EQUAL(m.web_rows, m.web_rows_kept + m.web_rows_unmatched + m.web_malformed + m.web_rows_after_cutoff);
    double s0 = 0, s1 = 0;
    int j0 = tribe_table_feature(t, "sessions"), j1 = tribe_table_feature(u, "sessions");
    for (int64_t i = 0; i < t->n_local; i++)
        s0 += t->x[i * t->d + j0];
    for (int64_t i = 0; i < u->n_local; i++)
        s1 += u->x[i * u->d + j1];
    CU_ASSERT(s1 < s0);
    tribe_table_destroy(&t);
    tribe_table_destroy(&u);
    tribe_par_finalize(&par);
}

static void allocation_failures_should_fail_cleanly(void)
{
    tribe_par *par = tribe_test_serial();
    char tx[1024], web[1024], demo[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(web, sizeof web, "%s", tribe_test_data("ingest/web_events.csv"));
    snprintf(demo, sizeof demo, "%s", tribe_test_data("ingest/demographics.csv"));
    tribe_ingest_cfg cfg = {.transactions = tx, .web = web, .demographics = demo};
    tribe_table *t = NULL;
    tribe_ledger l;
    int ok = 0;
    /* Fail each allocation in turn until the run needs no more: every
     * failure is NOMEM with no table (and no leak under ASan). */
    for (long k = 1; k < 400 && !ok; k++) {
        tribe_alloc_fail_after(k);
        tribe_status st = tribe_ingest(par, &cfg, &t, &l);
        tribe_alloc_fail_after(0);
        if (st == TRIBE_OK) {
            ok = 1;
            CU_ASSERT_EQUAL(t->n_global, 4);
            tribe_table_destroy(&t);
        } else {
            CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
            CU_ASSERT_PTR_NULL(t);
        }
    }
    CU_ASSERT(ok);
    tribe_par_finalize(&par);
}

/* Several files per source read as one: a demographics row of a later file
 * wins over an earlier file's (even at a lower line, as if concatenated), and
 * rejected rows name their own file and line, sorted by file then line. */
static void several_files_should_read_as_one_source(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[1024], d1[1024], d2[1024], rej[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/transactions.csv"));
    snprintf(d1, sizeof d1, "%s/demo-1.csv", dir);
    snprintf(d2, sizeof d2, "%s/demo-2.csv", dir);
    snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
    FILE *f = fopen(d1, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("CustomerID,Age,Occupation,Subscription\n200,30,,\n300,x,,\n100,40,pilot,basic\n", f);
    fclose(f);
    f = fopen(d2, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("Subscription,CustomerID,Age,Occupation\nnone,100,61,nurse\n,200,bad,\n", f);
    fclose(f);
    const char *txs[] = {tx, tx};
    const char *demos[] = {d1, d2};
    tribe_ingest_cfg one = {.transactions = tx};
    tribe_ingest_cfg cfg = {.transactions_files = txs, .n_transactions_files = 2, .demographics_files = demos,
                            .n_demographics_files = 2, .rejects = rej};
    tribe_table *t = NULL, *t1 = NULL;
    tribe_ledger l, l1;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &one, &t1, &l1), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    /* the same file twice: every row counted twice, distinct counts unchanged */
    CU_ASSERT_EQUAL(l.rows_read, 2 * l1.rows_read);
    CU_ASSERT_EQUAL(l.malformed, 2 * l1.malformed);
    CU_ASSERT_EQUAL(feat(t, 100, "monetary"), 2 * feat(t1, 100, "monetary"));
    CU_ASSERT_EQUAL(feat(t, 100, "frequency"), feat(t1, 100, "frequency"));
    /* id 100: line 4 of the first file, line 2 of the second: the second wins */
    CU_ASSERT_EQUAL(feat(t, 100, "age"), 61);
    CU_ASSERT_STRING_EQUAL(level(t, 100, "occupation"), "nurse");
    CU_ASSERT_EQUAL(feat(t, 200, "age"), 30); /* its second-file row is malformed */
    CU_ASSERT_EQUAL(l.demographics_rows, 5);
    CU_ASSERT_EQUAL(l.demographics_malformed, 2);
    CU_ASSERT_EQUAL(l.demographics_duplicate_ids, 1);
    int64_t lines[32];
    char reasons[32][128], sources[32][256];
    int n = read_rejects(rej, lines, reasons, sources, 32);
    CU_ASSERT_EQUAL_FATAL(n, 2 * (int)l1.malformed + 2);
    int m = (int)l1.malformed; /* the file's rows, then the same rows of its second listing */
    for (int i = 0; i < 2 * m; i++)
        CU_ASSERT_STRING_EQUAL(sources[i], tx);
    for (int i = 0; i < m; i++)
        CU_ASSERT_EQUAL(lines[i], lines[i + m]);
    CU_ASSERT_STRING_EQUAL(sources[n - 2], d1);
    CU_ASSERT_STRING_EQUAL(sources[n - 1], d2);
    CU_ASSERT_EQUAL(lines[n - 2], 3);
    CU_ASSERT_EQUAL(lines[n - 1], 3);
    /* a bad header in any file is an error naming that file */
    f = fopen(d2, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("CustomerID,Age,Occupation\n100,61,nurse\n", f);
    fclose(f);
    tribe_table_destroy(&t);
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "demo-2.csv: missing required column 'Subscription'"));
    const char *empty[] = {tx, ""};
    cfg.transactions_files = empty;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_USAGE);
    tribe_table_destroy(&t);
    tribe_table_destroy(&t1);
    tribe_par_finalize(&par);
}

/* The ledger's row and customer identities (include/tribe/ingest.h). */
static void check_ledger_sums(const tribe_ledger *l, int64_t distinct_customers)
{
    CU_ASSERT_EQUAL(l->rows_read, l->rows_kept + rejected_sum(l));
    CU_ASSERT(l->cancellations <= l->returns);
    CU_ASSERT(l->rows_after_cutoff <= l->rows_kept + l->returns);
    CU_ASSERT_EQUAL(l->customers + l->customers_after_cutoff + l->customers_net_nonpositive, distinct_customers);
}

/* tests/data/ingest/returns.csv (rows not grouped by customer):
 *  10 buys 30.00 on 01-05 and 2.50 on 02-01, returns 2 mugs (5.00) on 01-06:
 *     part of an order;
 *  20 returns 2.50 and never bought: left out;
 *  30 buys a 40.00 lamp and returns it: fully refunded, left out;
 *  40 buys 15.00 on 01-20, returns 5.00 on 02-10 as a Quantity -1 line of an
 *     ordinary invoice (no 'C'), and a 'C' line at UnitPrice 0 (no money:
 *     the price rule);
 *  50 buys 25.00 on 02-01, returns 10.00 on 02-20 and buys 20.00 on 03-01;
 *  60 buys 10.00 on 02-05 and returns all of it on 03-05;
 *  70 buys 2.50 on 03-10, the last day. */
static void returns_should_be_netted_and_nonpositive_customers_left_out(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[1024], rej[1024];
    snprintf(tx, sizeof tx, "%s", tribe_test_data("ingest/returns.csv"));
    snprintf(rej, sizeof rej, "%s/rejects.csv", dir);
    tribe_ingest_cfg cfg = {.transactions = tx, .rejects = rej, .rejects_all = 1};
    tribe_table *t = NULL, *g = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.rows_read, 16);
    CU_ASSERT_EQUAL(l.rows_kept, 9);
    CU_ASSERT_EQUAL(l.returns, 6);
    CU_ASSERT_EQUAL(l.cancellations, 5);
    CU_ASSERT_EQUAL(l.nonpositive_price, 1);
    CU_ASSERT_EQUAL(l.customers, 4);
    CU_ASSERT_EQUAL(l.customers_net_nonpositive, 3); /* 20, 30, 60 */
    check_ledger_sums(&l, 7);
    CU_ASSERT_STRING_EQUAL(l.snapshot, "2011-03-11");
    CU_ASSERT_EQUAL_FATAL(t->n_global, 4);
    const int64_t ids[] = {10, 40, 50, 70};
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->id[i], ids[i]);
    /* 10: a partial return; frequency and days from the purchases only */
    check_money(t, 10, 27.5, 32.5, 1, 5.0);
    CU_ASSERT_EQUAL(feat(t, 10, "frequency"), 2);
    CU_ASSERT_EQUAL(feat(t, 10, "avg_order_value"), 13.75);
    CU_ASSERT_EQUAL(feat(t, 10, "recency_days"), 38); /* 02-01 */
    CU_ASSERT_EQUAL(feat(t, 10, "distinct_products"), 3);
    /* 40: the return dated after the last purchase moves no day */
    check_money(t, 40, 10.0, 15.0, 1, 5.0);
    CU_ASSERT_EQUAL(feat(t, 40, "recency_days"), 50); /* 01-20 */
    check_money(t, 50, 35.0, 45.0, 1, 10.0);
    check_money(t, 70, 2.5, 2.5, 0, 0.0);
    /* repeat_mean_spend of 10: purchases of the repeat day, (32.50 - 30.00) / 1 */
    CU_ASSERT_EQUAL(feat(g, 10, "repeat_mean_spend"), 2.5f);
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);
    int64_t lines[8];
    char reasons[8][128], sources[8][256];
    CU_ASSERT_EQUAL_FATAL(read_rejects(rej, lines, reasons, sources, 8), 4);
    CU_ASSERT_EQUAL(lines[0], 13);
    CU_ASSERT_STRING_EQUAL(reasons[0], "UnitPrice <= 0");
    const int64_t left[] = {20, 30, 60};
    const char *why[] = {"net spend <= 0: gross 0.00, returned 2.50", "net spend <= 0: gross 40.00, returned 40.00",
                         "net spend <= 0: gross 10.00, returned 10.00"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_STRING_EQUAL(sources[1 + i], "customers");
        CU_ASSERT_EQUAL(lines[1 + i], left[i]);
        CU_ASSERT_STRING_EQUAL(reasons[1 + i], why[i]);
    }
    char *json = NULL;
    CU_ASSERT_EQUAL(tribe_ledger_to_json(&l, &json), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(json && strstr(json, "\"returns\": 6,"));
    CU_ASSERT_PTR_NOT_NULL(json && strstr(json, "\"customers_net_nonpositive\": 3,"));
    free(json);

    /* cutoff 02-15, horizon 30: returns after the cutoff are the target's */
    cfg.cutoff = "2011-02-15";
    cfg.horizon_days = 30;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest_split(par, &cfg, &t, &g, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.customers, 4); /* 10, 40, 50, 60 */
    CU_ASSERT_EQUAL(l.customers_net_nonpositive, 2); /* 20, 30 */
    CU_ASSERT_EQUAL(l.customers_after_cutoff, 1);    /* 70 */
    CU_ASSERT_EQUAL(l.rows_after_cutoff, 4);
    check_ledger_sums(&l, 7);
    check_money(t, 50, 25.0, 25.0, 0, 0.0); /* its return is after the cutoff */
    CU_ASSERT_EQUAL(feat(g, 50, "future_spend"), 10.0); /* 20.00 bought - 10.00 returned in the window */
    check_money(t, 60, 10.0, 10.0, 0, 0.0);
    CU_ASSERT_EQUAL(feat(g, 60, "future_spend"), 0.0); /* returned more than bought in the window */
    CU_ASSERT_EQUAL(feat(g, 10, "future_spend"), 0.0);
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);
    CU_ASSERT_EQUAL(read_rejects(rej, lines, reasons, sources, 8), 3);

    /* every customer at net <= 0: an input error, the rejects kept */
    FILE *f = fopen(rej, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    char only[1024];
    snprintf(only, sizeof only, "%s/refunded.csv", dir);
    f = fopen(only, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
          "1,A,X,2,2011-01-01,3.00,5,UK\nC2,A,X,-2,2011-01-02,3.00,5,UK\n",
          f);
    fclose(f);
    tribe_ingest_cfg all = {.transactions = only, .rejects = rej, .rejects_all = 1};
    CU_ASSERT_EQUAL(tribe_ingest(par, &all, &t, &l), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no customer has a net spend > 0"));
    CU_ASSERT_EQUAL(l.customers_net_nonpositive, 1);
    CU_ASSERT_EQUAL(read_rejects(rej, lines, reasons, sources, 8), 1);
    CU_ASSERT_EQUAL(lines[0], 5);
    tribe_par_finalize(&par);
}

/* Ingest counts a customer's distinct products in its items when the items
 * are the products, and in a set of its own otherwise (categories, or no
 * product column): every way gives the same counts. Customer 1 buys 20
 * products (P00 twice: one item, the spends summed), more than a row's
 * items are sorted in place; customer 2 buys P03 three times and P01. */
static void distinct_products_should_be_the_same_whatever_the_items_are(void)
{
    tribe_par *par = tribe_test_serial();
    char tx[1024], body[8192];
    size_t n = (size_t)snprintf(body, sizeof body, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,"
                                                    "UnitPrice,CustomerID,Country,Cat\n");
    for (int k = 19; k >= 0; k--) /* not in code order */
        n += (size_t)snprintf(body + n, sizeof body - n, "1%02d,P%02d,Thing %d,1,2011-01-0%d 10:00,%d.5,1,UK,c%d\n",
                              k, k, k, 1 + k % 9, k + 1, k % 3);
    n += (size_t)snprintf(body + n, sizeof body - n, "200,P00,Thing 0,2,2011-01-09 10:00,1.25,1,UK,c0\n"
                                                     "300,P03,Thing 3,1,2011-01-02 10:00,3,2,UK,c0\n"
                                                     "300,P01,Thing 1,1,2011-01-02 10:00,1,2,UK,c1\n"
                                                     "301,P03,Thing 3,1,2011-01-03 10:00,3,2,UK,c0\n"
                                                     "302,P03,Thing 3,1,2011-01-04 10:00,3,2,UK,c0\n"
                                                     "400,Q@A,Q,1,2011-01-02 10:00,1,3,UK,c0\n"
                                                     "401,Q@B,Q,1,2011-01-03 10:00,1,3,UK,c0\n");
    for (size_t i = 0; i < n; i++) /* customer 3's codes differ after a NUL byte only */
        body[i] = body[i] == '@' ? '\0' : body[i];
    snprintf(tx, sizeof tx, "%s/items.csv", tribe_test_tmpdir());
    FILE *f = fopen(tx, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(body, 1, n, f), n);
    fclose(f);
    static const char *const maps[3] = {
        NULL, /* the default columns: the products are the items */
        "{\"transactions\": {\"columns\": {\"customer_id\": \"CustomerID\", \"date\": \"InvoiceDate\", "
        "\"quantity\": \"Quantity\", \"unit_price\": \"UnitPrice\", \"order_id\": \"InvoiceNo\", "
        "\"product\": \"StockCode\", \"category\": \"Cat\"}}}",
        "{\"transactions\": {\"columns\": {\"customer_id\": \"CustomerID\", \"date\": \"InvoiceDate\", "
        "\"quantity\": \"Quantity\", \"unit_price\": \"UnitPrice\", \"order_id\": \"InvoiceNo\"}}}"};
    /* customer 3: as items, a product is its text up to a NUL byte (one, as every level); the
     * categories' product set keys the whole cell (two) */
    static const double want[3][3] = {{20, 2, 1}, {20, 2, 2}, {1, 1, 1}};
    for (int w = 0; w < 3; w++) {
        tribe_mapping *m = NULL;
        if (maps[w])
            CU_ASSERT_EQUAL_FATAL(tribe_mapping_parse("m.json", maps[w], &m), TRIBE_OK);
        tribe_ingest_cfg cfg = {.transactions = tx, .mapping = m};
        tribe_table *t = NULL;
        tribe_ledger l;
        tribe_items it;
        CU_ASSERT_EQUAL_FATAL(tribe_ingest_split_items(par, &cfg, &t, NULL, &l, &it), TRIBE_OK);
        CU_ASSERT_EQUAL(feat(t, 1, "distinct_products"), want[w][0]);
        CU_ASSERT_EQUAL(feat(t, 2, "distinct_products"), want[w][1]);
        CU_ASSERT_EQUAL(feat(t, 3, "distinct_products"), want[w][2]);
        CU_ASSERT_EQUAL(feat(t, 1, "frequency"), 21);
        if (w == 0) { /* customer 1's row: P00 .. P19 in code order, P00 with both purchases */
            int64_t r = row_of(t, 1), q = 0;
            for (int64_t i = 0; i < r; i++)
                q += it.count[i];
            CU_ASSERT_EQUAL_FATAL(it.count[r], 20);
            CU_ASSERT_EQUAL_FATAL(it.n_items, 21); /* P00 .. P19 and Q */
            for (int k = 0; k < 20; k++) {
                char code[8];
                snprintf(code, sizeof code, "P%02d", k);
                CU_ASSERT_STRING_EQUAL(it.code[it.item[q + k]], code);
                CU_ASSERT_EQUAL(it.spend[q + k], k == 0 ? 1.5 + 2.5 : k + 1.5);
            }
            CU_ASSERT_STRING_EQUAL(it.name[3], "Thing 3");
        }
        if (w == 1)
            CU_ASSERT_EQUAL(it.n_items, 3); /* the categories */
        if (w == 2)
            CU_ASSERT_EQUAL(it.n_items, 0); /* no product column, no items */
        tribe_items_free(&it);
        tribe_table_destroy(&t);
        tribe_mapping_destroy(&m);
    }
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(transactions_should_give_exact_features_and_ledger),
        TRIBE_TEST(web_and_demographics_should_join_on_customer_id),
        TRIBE_TEST(rejects_file_should_list_malformed_rows_by_line),
        TRIBE_TEST(no_kept_row_should_fail_but_keep_the_rejects),
        TRIBE_TEST(bad_sources_should_fail_naming_file_and_column),
        TRIBE_TEST(ledger_should_render_as_json_and_text),
        TRIBE_TEST(summary_should_name_the_mapped_columns),
        TRIBE_TEST(dates_and_numbers_should_parse_strictly),
        TRIBE_TEST(numbers_and_keys_should_parse_exactly),
        TRIBE_TEST(import_should_sort_by_id_and_read_nan),
        TRIBE_TEST(import_should_say_what_is_wrong_with_an_id),
        TRIBE_TEST(allocation_failures_should_fail_cleanly),
        TRIBE_TEST(cutoff_should_split_features_and_target),
        TRIBE_TEST(bad_cutoff_or_horizon_should_be_usage_errors),
        TRIBE_TEST(web_sessions_after_the_cutoff_should_be_ignored),
        TRIBE_TEST(several_files_should_read_as_one_source),
        TRIBE_TEST(returns_should_be_netted_and_nonpositive_customers_left_out),
        TRIBE_TEST(string_id_customers_left_out_should_be_named_by_their_text),
        TRIBE_TEST(distinct_products_should_be_the_same_whatever_the_items_are),
        {NULL, NULL}};
    return tribe_test_main("ingest", cases);
}
