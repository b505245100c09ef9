/* The data-quality ledger as JSON and as text. */
#include "ingest_internal.h"
#include "tribe/ingest.h"

#include <stdlib.h>
#include <string.h>

/* Every integer count, in output order. */
#define LEDGER_COUNTS(X)                                                                           \
    X(rows_read) X(rows_kept) X(returns) X(malformed) X(missing_customer_id) X(cancellations)      \
    X(nonpositive_quantity) X(nonpositive_price) X(customers) X(customers_net_nonpositive)         \
    X(web_rows) X(web_rows_kept) X(web_rows_unmatched) X(web_malformed) X(demographics_rows)       \
    X(demographics_rows_kept) X(demographics_rows_unmatched) X(demographics_duplicate_ids)         \
    X(demographics_malformed) X(first_invoice_day) X(last_invoice_day) X(snapshot_day)             \
    X(rows_after_cutoff) X(customers_after_cutoff) X(web_rows_after_cutoff) X(cutoff_day)          \
    X(horizon_days) X(text_rows) X(text_rows_kept) X(text_rows_unmatched) X(text_malformed)        \
    X(text_rows_after_cutoff) X(text_customers) X(text_vocabulary) X(implausible_date)

tribe_status tribe_ledger_to_json(const tribe_ledger *l, char **out)
{
    tribe_status st = TRIBE_OK;
    char *buf = NULL;
    size_t cap = 4096, len = 0;
    char first[11], last[11];
    TRIBE_TRY(tribe_alloc((void **)&buf, cap));
    tribe_format_day(l->first_invoice_day, first);
    tribe_format_day(l->last_invoice_day, last);
#define EMIT(...)                                                                                  \
    do {                                                                                           \
        int n_ = snprintf(buf + len, cap - len, __VA_ARGS__);                                      \
        if (n_ < 0 || (size_t)n_ >= cap - len) {                                                   \
            st = tribe_fail(TRIBE_ERR_INTERNAL, "ledger JSON longer than %zu bytes", cap);         \
            goto cleanup;                                                                          \
        }                                                                                          \
        len += (size_t)n_;                                                                         \
    } while (0)
#define X(name) EMIT("  \"" #name "\": %lld,\n", (long long)l->name);
    EMIT("{\n");
    LEDGER_COUNTS(X)
    EMIT("  \"first_invoice_date\": \"%s\",\n", first);
    EMIT("  \"last_invoice_date\": \"%s\",\n", last);
    EMIT("  \"snapshot\": \"%s\",\n", l->snapshot);
    EMIT("  \"cutoff\": \"%s\",\n", l->cutoff);
    EMIT("  \"currency\": \"%.3s\",\n", l->currency);
    EMIT("  \"currency_symbol\": \"");
    for (const char *c = l->currency_symbol; c < l->currency_symbol + sizeof l->currency_symbol && *c; c++)
        EMIT(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
    EMIT("\",\n");
    EMIT("  \"has_web\": %s,\n", l->has_web ? "true" : "false");
    EMIT("  \"has_demographics\": %s,\n", l->has_demographics ? "true" : "false");
    EMIT("  \"has_text\": %s\n", l->has_text ? "true" : "false");
    EMIT("}\n");
#undef X
#undef EMIT
    *out = buf;
    buf = NULL;
cleanup:
    free(buf);
    return st;
}

static double pct(int64_t a, int64_t b) { return b > 0 ? 100.0 * (double)a / (double)b : 0.0; }

const char *ing_rule_column(const tribe_mapping *map, int role)
{
    /* the built-in layout's (mapping.c), when there is no mapping at hand */
    static const char *const builtin[TRIBE_TX_NROLES] = {[TRIBE_TX_CUSTOMER_ID] = "CustomerID",
                                                         [TRIBE_TX_DATE] = "InvoiceDate",
                                                         [TRIBE_TX_QUANTITY] = "Quantity",
                                                         [TRIBE_TX_UNIT_PRICE] = "UnitPrice"};
    if (!map)
        return builtin[role];
    const tribe_map_source *m = &map->src[TRIBE_MAP_TX];
    if (role == TRIBE_TX_UNIT_PRICE && !m->column[role])
        role = TRIBE_TX_AMOUNT; /* a mapping names one of the two (mapping.c) */
    return m->column[role];
}

int tribe_ingest_reason_is_rule(const tribe_mapping *mapping, const char *source, const char *reason)
{
    char label[160];
    const char *q = ing_rule_column(mapping, TRIBE_TX_QUANTITY), *date = ing_rule_column(mapping, TRIBE_TX_DATE);
    if (strcmp(source, "customers") == 0)
        return 1; /* left out for a net spend <= 0 */
    snprintf(label, sizeof label, "missing %s", ing_rule_column(mapping, TRIBE_TX_CUSTOMER_ID));
    if (strcmp(reason, label) == 0)
        return 1;
    snprintf(label, sizeof label, "%s <= 0", ing_rule_column(mapping, TRIBE_TX_UNIT_PRICE));
    if (strcmp(reason, label) == 0)
        return 1;
    snprintf(label, sizeof label, "%s <= 0", q ? q : "quantity");
    if (strcmp(reason, label) == 0)
        return 1;
    /* a date out of range (why_date_range): "<date column> '<cell>' is outside 1900-01-01 .. <day>" */
    size_t n = date ? strlen(date) : 0;
    return n > 0 && strncmp(reason, date, n) == 0 && strncmp(reason + n, " '", 2) == 0 &&
           strstr(reason + n, "' is outside 1900-01-01 .. ") != NULL;
}

/* One cleaning rule's line: its label, count, share of the rows read, and
 * `tail` ("" or more words). */
static void rule_line(FILE *f, const char *label, int64_t n, int64_t of, const char *tail)
{
    fprintf(f, "  %-25s %10lld  %5.1f%%%s\n", label, (long long)n, pct(n, of), tail);
}

void tribe_ledger_print(const tribe_ledger *l, const tribe_mapping *map, FILE *f)
{
    char label[160], tail[48];
    const char *qcol = ing_rule_column(map, TRIBE_TX_QUANTITY);
    fprintf(f, "transactions: %lld rows read, %lld kept (%.1f%%)\n", (long long)l->rows_read,
            (long long)l->rows_kept, pct(l->rows_kept, l->rows_read));
    rule_line(f, "malformed (rejects file)", l->malformed, l->rows_read, "");
    if (l->implausible_date > 0)
        rule_line(f, "date out of range", l->implausible_date, l->rows_read, "");
    snprintf(label, sizeof label, "missing %s", ing_rule_column(map, TRIBE_TX_CUSTOMER_ID));
    rule_line(f, label, l->missing_customer_id, l->rows_read, "");
    snprintf(tail, sizeof tail, "  (%lld cancellations)", (long long)l->cancellations);
    rule_line(f, "returns (netted)", l->returns, l->rows_read, tail);
    if (qcol || l->nonpositive_quantity > 0) { /* without a quantity column, every row's is 1 or a constant */
        snprintf(label, sizeof label, "%s = 0", qcol ? qcol : "quantity");
        rule_line(f, label, l->nonpositive_quantity, l->rows_read, "");
    }
    snprintf(label, sizeof label, "%s <= 0", ing_rule_column(map, TRIBE_TX_UNIT_PRICE));
    rule_line(f, label, l->nonpositive_price, l->rows_read, "");
    if (l->has_web)
        fprintf(f, "web events: %lld rows, %lld kept, %lld without a customer, %lld malformed\n",
                (long long)l->web_rows, (long long)l->web_rows_kept, (long long)l->web_rows_unmatched,
                (long long)l->web_malformed);
    if (l->has_demographics)
        fprintf(f, "demographics: %lld rows, %lld kept, %lld without a customer, %lld duplicate ids, %lld malformed\n",
                (long long)l->demographics_rows, (long long)l->demographics_rows_kept,
                (long long)l->demographics_rows_unmatched, (long long)l->demographics_duplicate_ids,
                (long long)l->demographics_malformed);
    if (l->has_text)
        fprintf(f, "text: %lld rows, %lld kept (%lld customers), %lld without a customer, %lld malformed, "
                   "%lld after the cutoff; %lld topic terms\n",
                (long long)l->text_rows, (long long)l->text_rows_kept, (long long)l->text_customers,
                (long long)l->text_rows_unmatched, (long long)l->text_malformed,
                (long long)l->text_rows_after_cutoff, (long long)l->text_vocabulary);
    char first[11], last[11];
    tribe_format_day(l->first_invoice_day, first);
    tribe_format_day(l->last_invoice_day, last);
    fprintf(f, "customers: %lld; invoices from %s to %s; snapshot %s\n", (long long)l->customers, first, last,
            l->snapshot);
    if (l->customers_net_nonpositive > 0)
        fprintf(f, "  %lld customers left out: net spend <= 0 (rejects file, source 'customers')\n",
                (long long)l->customers_net_nonpositive);
    if (l->cutoff[0])
        fprintf(f, "temporal split: features up to %s (%lld rows after it, target only), target horizon %lld days; "
                   "%lld customers only after the cutoff (not in the table); %lld web sessions after it ignored\n",
                l->cutoff, (long long)l->rows_after_cutoff, (long long)l->horizon_days,
                (long long)l->customers_after_cutoff, (long long)l->web_rows_after_cutoff);
}
