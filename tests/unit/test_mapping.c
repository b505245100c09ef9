/* Unit tests for src/features/mapping*.c and the date formats of
 * src/core/date.c: the strict mapping reader, money as written, dates in a
 * declared format. */
#include "testutil.h"
#include "tribe/date.h"
#include "tribe/ingest.h"
#include "tribe/mapping.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses text as "m.json": the status, and the message on failure. */
static tribe_status parse(const char *text, tribe_mapping **m)
{
    *m = NULL;
    return tribe_mapping_parse("m.json", text, m);
}

static void the_default_should_be_the_online_retail_layout(void)
{
    tribe_mapping *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_mapping_default(&m), TRIBE_OK);
    const tribe_map_source *tx = &m->src[TRIBE_MAP_TX];
    CU_ASSERT_STRING_EQUAL(tx->column[TRIBE_TX_CUSTOMER_ID], "CustomerID");
    CU_ASSERT_STRING_EQUAL(tx->column[TRIBE_TX_ORDER_ID], "InvoiceNo");
    CU_ASSERT_STRING_EQUAL(tx->column[TRIBE_TX_UNIT_PRICE], "UnitPrice");
    CU_ASSERT_PTR_NULL(tx->column[TRIBE_TX_AMOUNT]);
    CU_ASSERT_STRING_EQUAL(tx->currency, "GBP");
    CU_ASSERT_STRING_EQUAL(tx->cancel_prefix, "C");
    CU_ASSERT_EQUAL(tx->date_format, TRIBE_DATE_AUTO);
    CU_ASSERT_EQUAL(tx->decimal, '.');
    CU_ASSERT_EQUAL(m->src[TRIBE_MAP_DEMO].optional, 1u << TRIBE_DEMO_COUNTRY);
    CU_ASSERT_STRING_EQUAL(m->src[TRIBE_MAP_WEB].column[TRIBE_WEB_DATE], "SessionStart");
    CU_ASSERT_EQUAL(m->id_string, 0);
    tribe_mapping_destroy(&m);
    CU_ASSERT_PTR_NULL(m);
    tribe_mapping_destroy(&m); /* NULL is fine */
}

static void a_section_should_replace_the_built_in_one_and_keep_the_others(void)
{
    tribe_mapping *m = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"customer_id\": {\"type\": \"string\", \"max_length\": 40},"
                                " \"transactions\": {\"columns\": {\"customer_id\": \"cid\", \"date\": \"d\","
                                " \"amount\": \"total\", \"return_flag\": \"ret\", \"country\": null},"
                                " \"date_format\": \"dmy\", \"decimal\": \",\", \"currency\": \"EUR\","
                                " \"return_values\": [\"R\"], \"constants\": {\"country\": \"France\","
                                " \"quantity\": 2}}}",
                                &m),
                          TRIBE_OK);
    const tribe_map_source *tx = &m->src[TRIBE_MAP_TX];
    CU_ASSERT_EQUAL(m->id_string, 1);
    CU_ASSERT_EQUAL(m->id_max_length, 40);
    CU_ASSERT_STRING_EQUAL(tx->column[TRIBE_TX_AMOUNT], "total");
    CU_ASSERT_PTR_NULL(tx->column[TRIBE_TX_ORDER_ID]); /* not given: not in the file */
    CU_ASSERT_PTR_NULL(tx->column[TRIBE_TX_COUNTRY]);
    CU_ASSERT_STRING_EQUAL(tx->constant[TRIBE_TX_COUNTRY], "France");
    CU_ASSERT_STRING_EQUAL(tx->constant[TRIBE_TX_QUANTITY], "2");
    CU_ASSERT_EQUAL(tx->date_format, TRIBE_DATE_DMY);
    CU_ASSERT_EQUAL(tx->decimal, ',');
    CU_ASSERT_STRING_EQUAL(tx->currency, "EUR");
    CU_ASSERT_STRING_EQUAL(tx->cancel_prefix, ""); /* only the built-in cancels by 'C' */
    CU_ASSERT_EQUAL(tx->n_return_values, 1);
    CU_ASSERT_STRING_EQUAL(tx->return_values[0], "R");
    CU_ASSERT_STRING_EQUAL(m->src[TRIBE_MAP_WEB].column[TRIBE_WEB_PAGES], "PagesViewed"); /* built-in kept */
    CU_ASSERT_STRING_EQUAL(m->file, "m.json");
    tribe_mapping_destroy(&m);
}

/* Each bad mapping is a usage error whose message is exactly `want`. */
static void bad_mappings_should_name_the_file_and_the_key(void)
{
    static const char *const cases[][2] = {
        {"{\"transactions\": {\"colums\": {}}}", "m.json: unknown key 'transactions.colums' (see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\", "
         "\"qty\": \"q\"}}}",
         "m.json: unknown key 'transactions.columns.qty' (see docs/mapping.md)"},
        {"{\"sales\": {}}", "m.json: unknown key 'sales' (see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\"}, "
         "\"channels\": {\"online\": [\"web\"]}}}",
         "m.json: 'transactions.channels' needs columns.channel: the column the channel values are in (see "
         "docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\", "
         "\"channel\": \"h\"}, \"channels\": {\"Online\": [\"web\"]}}}",
         "m.json: 'transactions.channels.Online' must be a name of 1-24 lower-case letters, digits and '_' (a letter "
         "first) (see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\", "
         "\"channel\": \"h\"}, \"channels\": {\"online\": []}}}",
         "m.json: 'transactions.channels.online' must be an array of 1 to 8 channel values (see docs/mapping.md)"},
        {"{\"demographics\": {\"columns\": {\"customer_id\": \"c\", \"income\": \"c\"}}}",
         "m.json: 'demographics.columns.customer_id' and 'demographics.columns.income' both name column 'c' (a "
         "column has one role; see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"c\"}}}",
         "m.json: 'transactions.columns.customer_id' and 'transactions.columns.amount' both name column 'c' (a "
         "column has one role; see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\", "
         "\"country\": \"k\"}, \"constants\": {\"country\": \"UK\"}}}",
         "m.json: 'transactions.columns.country' and 'transactions.constants.country' both given: a role is a "
         "column or a constant (see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\", "
         "\"unit_price\": \"p\", \"quantity\": \"q\"}}}",
         "m.json: 'transactions.columns' must name either a unit_price column (with quantity) or an amount column "
         "(see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"amount\": \"a\"}}}",
         "m.json: 'transactions.columns' must name the date column (see docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": 3}}}",
         "m.json: 'transactions.columns.amount' must be a column name (a non-empty string) or null (see "
         "docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\"}, "
         "\"date_format\": \"ymd\"}}",
         "m.json: 'transactions.date_format' must be one of 'auto', 'iso', 'mdy', 'dmy', 'epoch', 'epoch_ms' (see "
         "docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\"}, "
         "\"currency\": \"usd\"}}",
         "m.json: 'transactions.currency' must be an ISO 4217 code of three capital letters (\"EUR\") (see "
         "docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\"}, "
         "\"constants\": {\"date\": \"2011-01-01\"}}}",
         "m.json: 'transactions.constants.date' cannot be a constant (it differs from row to row) (see "
         "docs/mapping.md)"},
        {"{\"transactions\": {\"columns\": {\"customer_id\": \"c\", \"date\": \"d\", \"amount\": \"a\"}, "
         "\"constants\": {\"quantity\": 0}}}",
         "m.json: 'transactions.constants.quantity' must be a positive whole number (see docs/mapping.md)"},
        {"{\"customer_id\": {\"type\": \"uuid\"}}",
         "m.json: 'customer_id.type' must be \"integer\" or \"string\" (see docs/mapping.md)"},
        {"[1]", "m.json: a mapping must be a JSON object (see docs/mapping.md)"},
        {"{\n\"web\": {,}}", "m.json:2: not valid JSON"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tribe_mapping *m = NULL;
        CU_ASSERT_EQUAL(parse(cases[k][0], &m), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NULL(m);
        CU_ASSERT_STRING_EQUAL(tribe_errmsg(), cases[k][1]);
        if (strcmp(tribe_errmsg(), cases[k][1]) != 0)
            fprintf(stderr, "case %zu: %s\n", k, tribe_errmsg());
    }
}

/* The amount of a cell, or NAN when refused; code/sym as parsed. */
static double money(const char *s, char decimal, char code[4], char sym[8])
{
    double v = 0;
    return tribe_money_parse(s, strlen(s), decimal, &v, code, sym) ? v : NAN;
}

static void money_as_written_should_parse_exactly(void)
{
    static const struct {
        const char *cell;
        char decimal;
        double want;
        const char *code, *sym;
    } ok[] = {
        {"$1,234.50", '.', 1234.50, "USD", "$"},
        {"  $ 1,234,567.01 ", '.', 1234567.01, "USD", "$"},
        {"-$12.00", '.', -12.0, "USD", "$"},
        {"$-12.00", '.', -12.0, "USD", "$"},
        {"($1,000.25)", '.', -1000.25, "USD", "$"},
        {"\xC2\xA3" "2.55", '.', 2.55, "GBP", "\xC2\xA3"},
        {"1.234,50 \xE2\x82\xAC", ',', 1234.50, "EUR", "\xE2\x82\xAC"},
        {"1 234,5 EUR", ',', 1234.5, "EUR", ""},
        {"EUR 0,07", ',', 0.07, "EUR", ""},
        {"\xC2\xA5" "1,200", '.', 1200.0, "JPY", "\xC2\xA5"},
        {"12.5USD", '.', 12.5, "USD", ""},
        {"1234.5", '.', 1234.5, "", ""},
        {"0.1", '.', 0.1, "", ""},
        {"3,5", ',', 3.5, "", ""},
        {"123,456,789.123456789", '.', 123456789.123456789, "", ""},
    };
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) {
        char code[4] = "?", sym[8] = "?";
        double v = money(ok[k].cell, ok[k].decimal, code, sym);
        CU_ASSERT_EQUAL(v, ok[k].want); /* exactly strtod's double of the plain number */
        CU_ASSERT_STRING_EQUAL(code, ok[k].code);
        CU_ASSERT_STRING_EQUAL(sym, ok[k].sym);
        if (v != ok[k].want)
            fprintf(stderr, "'%s': %.17g\n", ok[k].cell, v);
    }
    static const struct {
        const char *cell;
        char decimal;
    } bad[] = {{"1,23", '.'},    {"1,2345.00", '.'}, {"12,34,567", '.'}, {"1.5", ','},     {"$", '.'},
               {"--1", '.'},     {"(-1)", '.'},      {"$1$", '.'},       {"1.2.3", '.'},   {"USD", '.'},
               {"12 usd", '.'},  {"1,234.", '.'},    {"abc", '.'},       {"1e3", '.'},     {"", '.'},
               {"$1,234.50x", '.'}, {"1.2345,00", ','}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char code[4], sym[8];
        double v = money(bad[k].cell, bad[k].decimal, code, sym);
        CU_ASSERT(v != v);
        if (v == v)
            fprintf(stderr, "'%s' read as %.17g\n", bad[k].cell, v);
    }
    CU_ASSERT(tribe_money_symbol_fits("$", "CAD"));
    CU_ASSERT(!tribe_money_symbol_fits("$", "EUR"));
    CU_ASSERT(tribe_money_symbol_fits("\xC2\xA5", "CNY"));
}

static void dates_should_parse_in_the_declared_format_only(void)
{
    static const struct {
        const char *text;
        int fmt;
        int y, m, d; /* 0: refused */
    } cases[] = {
        {"2011-12-09 08:26:00", TRIBE_DATE_ISO, 2011, 12, 9},
        {"2011-12-09T08:26:00.5", TRIBE_DATE_ISO, 2011, 12, 9},
        {"12/9/2011 8:26", TRIBE_DATE_ISO, 0, 0, 0},
        {"12/9/2011 8:26", TRIBE_DATE_MDY, 2011, 12, 9},
        {"12/9/2011 8:26", TRIBE_DATE_DMY, 2011, 9, 12},
        {"31/01/2011", TRIBE_DATE_DMY, 2011, 1, 31},
        {"31.01.2011 23:59:59", TRIBE_DATE_DMY, 2011, 1, 31},
        {"31-01-2011", TRIBE_DATE_DMY, 2011, 1, 31},
        {"31/01/2011", TRIBE_DATE_MDY, 0, 0, 0},
        {"31.01/2011", TRIBE_DATE_DMY, 0, 0, 0},
        {"29/02/2011", TRIBE_DATE_DMY, 0, 0, 0},
        {"2011-12-09", TRIBE_DATE_DMY, 0, 0, 0},
        {"2011-12-09", TRIBE_DATE_AUTO, 2011, 12, 9},
        {"12/9/2011", TRIBE_DATE_AUTO, 2011, 12, 9},
        {"1323419160", TRIBE_DATE_EPOCH, 2011, 12, 9},
        {"1323419160000", TRIBE_DATE_EPOCH_MS, 2011, 12, 9},
        {"-1", TRIBE_DATE_EPOCH, 1969, 12, 31},
        {"-86400", TRIBE_DATE_EPOCH, 1969, 12, 31},
        {"-86401", TRIBE_DATE_EPOCH, 1969, 12, 30},
        {"0", TRIBE_DATE_EPOCH_MS, 1970, 1, 1},
        {"1323419160.5", TRIBE_DATE_EPOCH, 0, 0, 0},
        {"2011-12-09", TRIBE_DATE_EPOCH, 0, 0, 0},
        {"1234567890123456", TRIBE_DATE_EPOCH, 0, 0, 0},
        {"2011-12-09", 99, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int64_t day = -7;
        int got = tribe_day_parse_as(cases[k].text, strlen(cases[k].text), cases[k].fmt, &day);
        CU_ASSERT_EQUAL(got, cases[k].y != 0);
        CU_ASSERT_EQUAL(day, cases[k].y ? tribe_days_from_civil(cases[k].y, cases[k].m, cases[k].d) : -7);
        if (got != (cases[k].y != 0))
            fprintf(stderr, "'%s' as %s: %d\n", cases[k].text, tribe_date_format_name(cases[k].fmt), got);
    }
    CU_ASSERT_STRING_EQUAL(tribe_date_format_name(TRIBE_DATE_EPOCH_MS), "epoch_ms");
    CU_ASSERT_STRING_EQUAL(tribe_date_format_name(-1), "?");
}

/* Writes text to <tmp>/name; returns the path (static storage per call site). */
static void write_file(char *path, size_t cap, const char *name, const char *text)
{
    snprintf(path, cap, "%s/%s", tribe_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* An export with epoch-ms dates, "1.234,50 €" totals, no order id column
 * (every row an order), a return flag, a constant country; one row dated
 * 9999-12-31 and one in 1899. Figures by hand below. */
static void a_mapped_export_should_give_exact_features_and_ledger(void)
{
    tribe_par *par = tribe_test_serial();
    char tx[1024], mp[1024];
    tribe_mapping *m = NULL;
    tribe_table *t = NULL;
    tribe_ledger l;
    write_file(tx, sizeof tx, "export.csv",
               "when,who,total,sku,ret,cat\n"
               "1296518400000,7,\"1.234,50 \xE2\x82\xAC\",A,,x\n"  /* 2011-02-01 */
               "1296604800000,7,\"0,25 \xE2\x82\xAC\",B,no,x\n"    /* 2011-02-02 */
               "1296604800000,7,\"10,00 \xE2\x82\xAC\",B,YES,x\n"  /* flagged: a return, netted */
               "1296691200000,9,\"(2,00 \xE2\x82\xAC)\",A,,y\n"    /* 2011-02-03, negative: a return */
               "1296691200000,9,\"3 000,00 \xE2\x82\xAC\",A,,y\n"  /* 2011-02-03 */
               "253402214400000,9,\"1,00 \xE2\x82\xAC\",A,,y\n"    /* 9999-12-31 */
               "-2208988800001,9,\"1,00 \xE2\x82\xAC\",A,,y\n"     /* 1899-12-31 */
               "2011-02-03,9,\"1,00 \xE2\x82\xAC\",A,,y\n");       /* not epoch_ms */
    CU_ASSERT_EQUAL_FATAL(tribe_mapping_parse("m.json",
                                              "{\"transactions\": {\"columns\": {\"customer_id\": \"who\", "
                                              "\"date\": \"when\", \"amount\": \"total\", \"product\": \"sku\", "
                                              "\"return_flag\": \"ret\", \"category\": \"cat\"}, "
                                              "\"date_format\": \"epoch_ms\", \"decimal\": \",\", "
                                              "\"constants\": {\"country\": \"France\"}}}",
                                              &m),
                          TRIBE_OK);
    tribe_ingest_cfg cfg = {0};
    cfg.transactions = tx;
    cfg.mapping = m;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.rows_read, 8);
    CU_ASSERT_EQUAL(l.rows_kept, 3);
    CU_ASSERT_EQUAL(l.malformed, 1);
    CU_ASSERT_EQUAL(l.implausible_date, 2);
    CU_ASSERT_EQUAL(l.returns, 2);       /* the flagged row and the negative amount */
    CU_ASSERT_EQUAL(l.cancellations, 1); /* the flagged one */
    CU_ASSERT_EQUAL(l.nonpositive_price, 0);
    CU_ASSERT_EQUAL(l.rows_read, l.rows_kept + l.returns + l.malformed + l.implausible_date +
                                     l.missing_customer_id + l.nonpositive_quantity + l.nonpositive_price);
    CU_ASSERT_STRING_EQUAL(l.currency, "EUR");
    CU_ASSERT_STRING_EQUAL(l.currency_symbol, "\xE2\x82\xAC");
    CU_ASSERT_STRING_EQUAL(l.snapshot, "2011-02-04");
    CU_ASSERT_EQUAL_FATAL(t->n_global, 2);
    int jm = tribe_table_feature(t, "monetary"), jf = tribe_table_feature(t, "frequency");
    int jr = tribe_table_feature(t, "recency_days"), jp = tribe_table_feature(t, "distinct_products");
    CU_ASSERT_EQUAL(t->id[0], 7);
    CU_ASSERT_EQUAL(t->x[0 * t->d + jm], (float)1224.75); /* 1234.50 + 0.25 - 10.00 */
    CU_ASSERT_EQUAL(t->x[0 * t->d + jf], 2.0f); /* two rows, two orders */
    CU_ASSERT_EQUAL(t->x[0 * t->d + jr], 2.0f);
    CU_ASSERT_EQUAL(t->x[0 * t->d + jp], 2.0f);
    CU_ASSERT_EQUAL(t->id[1], 9);
    CU_ASSERT_EQUAL(t->x[1 * t->d + jm], 2998.0f); /* 3000 - 2 */
    CU_ASSERT_EQUAL(t->x[1 * t->d + jr], 1.0f);
    int c = tribe_table_cat(t, "country");
    CU_ASSERT_FATAL(c >= 0);
    CU_ASSERT_STRING_EQUAL(t->cat[c].levels[t->cat[c].code[1]], "France");
    tribe_table_destroy(&t);

    /* the same rows in two currencies by a currency column: refused, naming a row of each */
    write_file(tx, sizeof tx, "two.csv",
               "when,who,total,cur\n1296518400000,7,\"1,00\",EUR\n1296518400000,7,\"2,00\",EUR\n"
               "1296518400000,8,\"3,00\",CHF\n");
    write_file(mp, sizeof mp, "two.json",
               "{\"transactions\": {\"columns\": {\"customer_id\": \"who\", \"date\": \"when\", "
               "\"amount\": \"total\", \"currency\": \"cur\"}, \"date_format\": \"epoch_ms\", \"decimal\": \",\"}}");
    tribe_mapping_destroy(&m);
    CU_ASSERT_EQUAL_FATAL(tribe_mapping_load(mp, &m), TRIBE_OK);
    cfg.mapping = m;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    char want[3200];
    snprintf(want, sizeof want,
             "amounts in two currencies and no exchange rate: %s:2 is in EUR, %s:4 is in CHF (one currency per "
             "source; see docs/mapping.md)",
             tx, tx);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), want);
    CU_ASSERT_PTR_NULL(t);
    tribe_mapping_destroy(&m);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(the_default_should_be_the_online_retail_layout),
        TRIBE_TEST(a_section_should_replace_the_built_in_one_and_keep_the_others),
        TRIBE_TEST(bad_mappings_should_name_the_file_and_the_key),
        TRIBE_TEST(money_as_written_should_parse_exactly),
        TRIBE_TEST(dates_should_parse_in_the_declared_format_only),
        TRIBE_TEST(a_mapped_export_should_give_exact_features_and_ledger),
        {NULL, NULL}};
    return tribe_test_main("mapping", cases);
}
