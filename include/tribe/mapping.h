/* tribe/mapping.h: which column of each source file is which key, in what
 * format (docs/mapping.md), and the parsers of money as written.
 *
 * Usage:
 *     tribe_mapping *m = NULL;
 *     TRIBE_TRY(tribe_mapping_load("jobs/mappings/example-export.json", &m));  // or tribe_mapping_default
 *     cfg.mapping = m;                     // tribe_ingest_cfg; NULL = the built-in Online Retail layout
 *     ... tribe_ingest(...) ...
 *     tribe_mapping_destroy(&m);
 *
 * A mapping has one section per source (transactions, web, demographics,
 * text); a section's `columns` name the header of each role (TRIBE_TX_*,
 * ...), or null when the file lacks it; `constants` give the value of a role
 * the file lacks. The file is read strictly like the job spec: an unknown
 * key, a wrong type, two roles on one column or a role both a column and a
 * constant is a USAGE error naming the file and the key path.
 *
 * Ownership: the caller owns the mapping (tribe_mapping_destroy accepts NULL
 * and sets the pointer to NULL). Not collective: every rank reads the same
 * file the same way.
 */
#ifndef TRIBE_MAPPING_H
#define TRIBE_MAPPING_H

#include "tribe/core.h"

enum { TRIBE_MAP_TX, TRIBE_MAP_WEB, TRIBE_MAP_DEMO, TRIBE_MAP_TEXT, TRIBE_MAP_NSRC };

/* Roles (the keys of `columns`) of each source, in this order. */
enum {
    TRIBE_TX_CUSTOMER_ID, TRIBE_TX_ORDER_ID, TRIBE_TX_DATE, TRIBE_TX_QUANTITY, TRIBE_TX_UNIT_PRICE,
    TRIBE_TX_AMOUNT, TRIBE_TX_PRODUCT, TRIBE_TX_COUNTRY, TRIBE_TX_CURRENCY, TRIBE_TX_CATEGORY,
    TRIBE_TX_CHANNEL, TRIBE_TX_RETURN_FLAG, TRIBE_TX_PRODUCT_NAME, TRIBE_TX_NROLES
};
enum { TRIBE_WEB_CUSTOMER_ID, TRIBE_WEB_DATE, TRIBE_WEB_PAGES, TRIBE_WEB_MINUTES, TRIBE_WEB_DEVICE, TRIBE_WEB_NROLES };
enum {
    TRIBE_DEMO_CUSTOMER_ID, TRIBE_DEMO_AGE, TRIBE_DEMO_COUNTRY, TRIBE_DEMO_OCCUPATION, TRIBE_DEMO_SUBSCRIPTION,
    TRIBE_DEMO_INCOME, TRIBE_DEMO_DEBT, TRIBE_DEMO_CREDIT_SCORE, TRIBE_DEMO_NROLES
};
enum { TRIBE_TEXT_CUSTOMER_ID, TRIBE_TEXT_DATE, TRIBE_TEXT_TEXT, TRIBE_TEXT_NROLES };
#define TRIBE_MAP_MAXROLES 13

#define TRIBE_MAP_RETURN_VALUES 16 /* most return_values */
#define TRIBE_MAP_CHANNELS 4        /* most named channels (transactions.channels) */
#define TRIBE_MAP_CHANNEL_VALUES 8  /* most channel cell values of one named channel */
#define TRIBE_MAP_ID_MAX 64         /* the longest string id (TRIBE_ID_MAX of tribe/id.h) */

typedef struct {
    int present;                          /* the section is in the file (always, in the built-in) */
    char *column[TRIBE_MAP_MAXROLES];     /* header name of each role; NULL: not in the file */
    char *constant[TRIBE_MAP_MAXROLES];   /* the value of a role the file lacks; NULL: none */
    unsigned optional;                    /* bit r: column[r] may be missing from a file (then unused) */
    int date_format;                      /* TRIBE_DATE_* (tribe/date.h) */
    char decimal;                         /* '.' or ',' */
    char currency[4];                     /* ISO 4217 code of every amount; "" = from the data */
    char cancel_prefix[16];               /* an order id starting with it is a cancellation; "" = none */
    char *return_values[TRIBE_MAP_RETURN_VALUES]; /* return_flag cells meaning "a return" */
    int n_return_values;
    /* transactions.channels: named channels (feature <name>_share), each the
     * channel cells that mean it ("online": ["Online Transaction"]) */
    int n_channels;
    char channel_name[TRIBE_MAP_CHANNELS][32];
    char *channel_values[TRIBE_MAP_CHANNELS][TRIBE_MAP_CHANNEL_VALUES];
    int n_channel_values[TRIBE_MAP_CHANNELS];
    /* transactions.categories_file: product -> category (sorted by product),
     * the category of a row without a category column */
    char *categories_file;                /* as resolved (relative to the mapping's folder) */
    int64_t n_prodcat;
    char **prodcat;                       /* [2 * n_prodcat]: product, category, sorted by product */
} tribe_map_source;

typedef struct {
    char *file;        /* the mapping file, or "built-in" */
    int id_string;     /* customer_id.type: 0 integer, 1 string (tribe ingest sets cfg.string_ids from it) */
    int id_max_length; /* customer_id.max_length (bytes, <= TRIBE_MAP_ID_MAX; recorded, the check is at 64) */
    tribe_map_source src[TRIBE_MAP_NSRC];
} tribe_mapping;

/* The built-in mapping: today's Online Retail layout (jobs/mappings/
 * online-retail.json says the same). Errors: NOMEM. */
tribe_status tribe_mapping_default(tribe_mapping **out);
/* Parses mapping text (file names it in messages). Sections left out keep
 * the built-in ones. Errors: USAGE "FILE: ..." naming the key path; NOMEM. */
tribe_status tribe_mapping_parse(const char *file, const char *text, tribe_mapping **out);
/* Reads and parses a file. Errors: IO (missing, unreadable), as parse. */
tribe_status tribe_mapping_load(const char *path, tribe_mapping **out);
void tribe_mapping_destroy(tribe_mapping **m);

/* The category of a product from transactions.categories_file, or NULL
 * (not listed, or no file). Not collective. */
const char *tribe_mapping_product_category(const tribe_map_source *s, const char *product, size_t n);

/* The key name of a source ("transactions") and of a role ("unit_price"). */
const char *tribe_mapping_source_name(int src);
const char *tribe_mapping_role_name(int src, int role);
int tribe_mapping_nroles(int src);

/* ---- money as written ------------------------------------------------------
 * An amount cell: optional sign or parentheses (negative), a currency symbol
 * ($ £ € ¥) or a 3-letter ISO 4217 code before or after the number (a space
 * allowed between), digits grouped by thousands ("1,234,567.50"; with
 * decimal ',' the groups are split by '.' or ' ' and "1.234,50" is read), a
 * decimal separator. Returns 1 and *v, the same double as strtod of the
 * normalised plain number, and code (NUL-terminated, "" when the cell names
 * no currency: "$" gives "USD", "£" "GBP", "€" "EUR", "¥" "JPY"); sym gets
 * the symbol as written (or ""). Returns 0 when the cell is not such an
 * amount (a wrong grouping "1,23", two signs, junk). Not collective. */
int tribe_money_parse(const char *s, size_t n, char decimal, double *v, char code[4], char sym[8]);
/* 1 when a cell's symbol `sym` may stand for currency `code` ("$" for USD,
 * CAD, AUD, ...; "¥" for JPY and CNY). */
int tribe_money_symbol_fits(const char *sym, const char *code);

#endif
