/* The data-quality ledger as JSON and as text. */
#include "ingest_internal.h"
#include "tribe/ingest.h"

#include <stdlib.h>

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

void tribe_ledger_print(const tribe_ledger *l, FILE *f)
{
    fprintf(f, "transactions: %lld rows read, %lld kept (%.1f%%)\n", (long long)l->rows_read,
            (long long)l->rows_kept, pct(l->rows_kept, l->rows_read));
    fprintf(f, "  malformed (rejects file)  %10lld  %5.1f%%\n", (long long)l->malformed,
            pct(l->malformed, l->rows_read));
    if (l->implausible_date > 0)
        fprintf(f, "  date out of range         %10lld  %5.1f%%\n", (long long)l->implausible_date,
                pct(l->implausible_date, l->rows_read));
    fprintf(f, "  missing CustomerID        %10lld  %5.1f%%\n", (long long)l->missing_customer_id,
            pct(l->missing_customer_id, l->rows_read));
    fprintf(f, "  returns (netted)          %10lld  %5.1f%%  (%lld cancellations)\n", (long long)l->returns,
            pct(l->returns, l->rows_read), (long long)l->cancellations);
    fprintf(f, "  Quantity = 0              %10lld  %5.1f%%\n", (long long)l->nonpositive_quantity,
            pct(l->nonpositive_quantity, l->rows_read));
    fprintf(f, "  UnitPrice <= 0            %10lld  %5.1f%%\n", (long long)l->nonpositive_price,
            pct(l->nonpositive_price, l->rows_read));
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
