/* Source mappings (tribe/mapping.h, docs/mapping.md): the built-in Online
 * Retail layout and the strict reader of mapping files.
 *
 * Read with cJSON directly rather than through tribe/spec.h because a
 * mapping's values may be null ("amount": null: the file has no such
 * column) and its messages point at docs/mapping.md. */
#include "tribe/csv.h"
#include "tribe/date.h"
#include "tribe/mapping.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const src_names[TRIBE_MAP_NSRC] = {"transactions", "web", "demographics", "text"};
static const char *const tx_roles[TRIBE_TX_NROLES] = {
    "customer_id", "order_id", "date",     "quantity", "unit_price", "amount",
    "product",     "country",  "currency", "category", "channel",    "return_flag",
    "product_name"};
static const char *const web_roles[TRIBE_WEB_NROLES] = {"customer_id", "date", "pages", "minutes", "device"};
static const char *const demo_roles[TRIBE_DEMO_NROLES] = {"customer_id", "age",    "country", "occupation",
                                                          "subscription", "income", "debt",    "credit_score"};
static const char *const text_roles[TRIBE_TEXT_NROLES] = {"customer_id", "date", "text"};
static const char *const *const roles[TRIBE_MAP_NSRC] = {tx_roles, web_roles, demo_roles, text_roles};
static const int nroles[TRIBE_MAP_NSRC] = {TRIBE_TX_NROLES, TRIBE_WEB_NROLES, TRIBE_DEMO_NROLES, TRIBE_TEXT_NROLES};

/* The built-in layout: the header names of each role ("" = none). */
static const char *const builtin[TRIBE_MAP_NSRC][TRIBE_MAP_MAXROLES] = {
    {"CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", "", "StockCode", "Country", "", "", "", "",
     "Description"},
    {"CustomerID", "SessionStart", "PagesViewed", "MinutesOnSite", "Device"},
    {"CustomerID", "Age", "Country", "Occupation", "Subscription"},
    {"CustomerID", "Date", "Text"}};

/* Roles a source cannot do without, and roles that cannot be constants. */
static const unsigned required[TRIBE_MAP_NSRC] = {
    1u << TRIBE_TX_CUSTOMER_ID | 1u << TRIBE_TX_DATE,
    1u << TRIBE_WEB_CUSTOMER_ID | 1u << TRIBE_WEB_DATE | 1u << TRIBE_WEB_PAGES | 1u << TRIBE_WEB_MINUTES,
    1u << TRIBE_DEMO_CUSTOMER_ID, 1u << TRIBE_TEXT_CUSTOMER_ID | 1u << TRIBE_TEXT_DATE | 1u << TRIBE_TEXT_TEXT};
static const unsigned no_constant[TRIBE_MAP_NSRC] = {
    1u << TRIBE_TX_CUSTOMER_ID | 1u << TRIBE_TX_ORDER_ID | 1u << TRIBE_TX_DATE | 1u << TRIBE_TX_UNIT_PRICE |
        1u << TRIBE_TX_AMOUNT | 1u << TRIBE_TX_CURRENCY | 1u << TRIBE_TX_RETURN_FLAG,
    1u << TRIBE_WEB_CUSTOMER_ID | 1u << TRIBE_WEB_DATE, 1u << TRIBE_DEMO_CUSTOMER_ID,
    1u << TRIBE_TEXT_CUSTOMER_ID | 1u << TRIBE_TEXT_DATE | 1u << TRIBE_TEXT_TEXT};

static const char *const default_returns[] = {"1", "true", "yes", "y"};

const char *tribe_mapping_source_name(int src) { return src >= 0 && src < TRIBE_MAP_NSRC ? src_names[src] : "?"; }
const char *tribe_mapping_role_name(int src, int role)
{
    return src >= 0 && src < TRIBE_MAP_NSRC && role >= 0 && role < nroles[src] ? roles[src][role] : "?";
}
int tribe_mapping_nroles(int src) { return src >= 0 && src < TRIBE_MAP_NSRC ? nroles[src] : 0; }

static void source_clear(tribe_map_source *s)
{
    for (int r = 0; r < TRIBE_MAP_MAXROLES; r++) {
        free(s->column[r]);
        free(s->constant[r]);
    }
    for (int i = 0; i < s->n_return_values; i++)
        free(s->return_values[i]);
    for (int k = 0; k < s->n_channels; k++)
        for (int i = 0; i < s->n_channel_values[k]; i++)
            free(s->channel_values[k][i]);
    tribe_free_strs(s->prodcat, (int)(2 * s->n_prodcat));
    free(s->categories_file);
    memset(s, 0, sizeof *s);
    s->decimal = '.';
}

void tribe_mapping_destroy(tribe_mapping **m)
{
    if (!m || !*m)
        return;
    for (int k = 0; k < TRIBE_MAP_NSRC; k++)
        source_clear(&(*m)->src[k]);
    free((*m)->file);
    free(*m);
    *m = NULL;
}

/* Fills source k with the built-in layout. */
static tribe_status source_builtin(tribe_map_source *s, int k)
{
    tribe_status st = TRIBE_OK;
    source_clear(s);
    for (int r = 0; r < nroles[k]; r++)
        if (builtin[k][r] && builtin[k][r][0])
            TRIBE_TRY(tribe_strdup(builtin[k][r], &s->column[r]));
    if (k == TRIBE_MAP_TX) {
        s->optional = 1u << TRIBE_TX_PRODUCT_NAME; /* the product names of the offers (docs/offers.md) */
        memcpy(s->currency, "GBP", 4);
        memcpy(s->cancel_prefix, "C", 2);
    }
    if (k == TRIBE_MAP_DEMO)
        s->optional = 1u << TRIBE_DEMO_COUNTRY; /* a demographics Country overrides when present */
    s->date_format = TRIBE_DATE_AUTO;
    for (size_t i = 0; i < sizeof default_returns / sizeof *default_returns; i++)
        TRIBE_TRY(tribe_strdup(default_returns[i], &s->return_values[s->n_return_values++]));
cleanup:
    return st;
}

tribe_status tribe_mapping_default(tribe_mapping **out)
{
    tribe_status st = TRIBE_OK;
    tribe_mapping *m = NULL;
    *out = NULL;
    TRIBE_TRY(tribe_calloc((void **)&m, 1, sizeof *m));
    m->id_max_length = 64;
    TRIBE_TRY(tribe_strdup("built-in", &m->file));
    for (int k = 0; k < TRIBE_MAP_NSRC; k++)
        TRIBE_TRY(source_builtin(&m->src[k], k));
    *out = m;
    m = NULL;
cleanup:
    tribe_mapping_destroy(&m);
    return st;
}

/* ---- the strict reader -------------------------------------------------------- */

typedef struct {
    const char *file;
    char path[256]; /* the key path of the object being read */
} rd;

static tribe_status bad(const rd *r, const char *key, const char *fmt, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, what);
    return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s%s%s' %s (see docs/mapping.md)", r->file, r->path,
                      r->path[0] && key[0] ? "." : "", key, msg);
}

/* Every member of obj must be one of names[n]: USAGE naming the first other. */
static tribe_status known_keys(const rd *r, const cJSON *obj, const char *const *names, int n)
{
    for (const cJSON *v = obj->child; v; v = v->next) {
        int ok = 0;
        for (int i = 0; i < n && !ok; i++)
            ok = names[i] && strcmp(v->string, names[i]) == 0;
        if (!ok)
            return tribe_fail(TRIBE_ERR_USAGE, "%s: unknown key '%s%s%s' (see docs/mapping.md)", r->file, r->path,
                              r->path[0] ? "." : "", v->string);
    }
    return TRIBE_OK;
}

/* Index of role name `key` in source k, or -1. */
static int role_of(int k, const char *key)
{
    for (int r = 0; r < nroles[k]; r++)
        if (strcmp(key, roles[k][r]) == 0)
            return r;
    return -1;
}

static void sub(rd *c, const rd *r, const char *key)
{
    c->file = r->file;
    size_t n = strlen(r->path);
    if (n + strlen(key) + 2 > sizeof c->path) /* paths are short: sections, then one more key */
        n = 0;
    memcpy(c->path, r->path, n);
    if (n)
        c->path[n++] = '.';
    memcpy(c->path + n, key, strlen(key) + 1);
}

/* "columns": role -> header name (string) or null. */
static tribe_status read_columns(const rd *r, const cJSON *obj, int k, tribe_map_source *s)
{
    tribe_status st = TRIBE_OK;
    rd c;
    sub(&c, r, "columns");
    if (!cJSON_IsObject(obj))
        return bad(r, "columns", "must be an object of %s", "column names");
    TRIBE_TRY(known_keys(&c, obj, roles[k], nroles[k]));
    for (const cJSON *v = obj->child; v; v = v->next) {
        int role = role_of(k, v->string);
        if (cJSON_IsNull(v))
            continue;
        if (!cJSON_IsString(v) || !v->valuestring[0])
            return bad(&c, v->string, "must be a %s or null", "column name (a non-empty string)");
        free(s->column[role]);
        s->column[role] = NULL;
        TRIBE_TRY(tribe_strdup(v->valuestring, &s->column[role]));
    }
    /* two roles on one column: one of them is surely a mistake */
    for (int a = 0; a < nroles[k]; a++)
        for (int b = a + 1; b < nroles[k]; b++)
            if (s->column[a] && s->column[b] && strcmp(s->column[a], s->column[b]) == 0)
                return tribe_fail(TRIBE_ERR_USAGE,
                                  "%s: '%s.%s' and '%s.%s' both name column '%s' (a column has one role; see "
                                  "docs/mapping.md)",
                                  r->file, c.path, roles[k][a], c.path, roles[k][b], s->column[a]);
cleanup:
    return st;
}

/* "constants": role -> string or number. */
static tribe_status read_constants(const rd *r, const cJSON *obj, int k, tribe_map_source *s)
{
    tribe_status st = TRIBE_OK;
    rd c;
    char num[64];
    sub(&c, r, "constants");
    if (!cJSON_IsObject(obj))
        return bad(r, "constants", "must be an object of %s", "values");
    TRIBE_TRY(known_keys(&c, obj, roles[k], nroles[k]));
    for (const cJSON *v = obj->child; v; v = v->next) {
        int role = role_of(k, v->string);
        const char *text = NULL;
        if (no_constant[k] >> role & 1u)
            return bad(&c, v->string, "cannot be a constant (%s)",
                       k == TRIBE_MAP_TX && role == TRIBE_TX_CURRENCY ? "give transactions.currency instead"
                                                                      : "it differs from row to row");
        if (cJSON_IsString(v) && v->valuestring[0]) {
            text = v->valuestring;
        } else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
            if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
                snprintf(num, sizeof num, "%lld", (long long)v->valuedouble);
            else
                snprintf(num, sizeof num, "%.17g", v->valuedouble);
            text = num;
        } else {
            return bad(&c, v->string, "must be a %s", "non-empty string or a number");
        }
        if (k == TRIBE_MAP_TX && role == TRIBE_TX_QUANTITY) {
            char *end = NULL;
            errno = 0;
            long long q = strtoll(text, &end, 10);
            if (*end || errno || q <= 0)
                return bad(&c, v->string, "must be a %s", "positive whole number");
        }
        free(s->constant[role]);
        s->constant[role] = NULL;
        TRIBE_TRY(tribe_strdup(text, &s->constant[role]));
    }
cleanup:
    return st;
}

static tribe_status read_strings(const rd *r, const char *key, const cJSON *v, int max, char **out, int *n)
{
    tribe_status st = TRIBE_OK;
    const cJSON *e;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > max)
        return bad(r, key, "must be an array of %s", max == TRIBE_MAP_RETURN_VALUES    ? "at most 16 strings"
                                                     : max == TRIBE_MAP_CHANNEL_VALUES ? "at most 8 strings"
                                                                                       : "role names");
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return bad(r, key, "must be an array of %s", "non-empty strings");
    }
    for (int i = 0; i < *n; i++)
        free(out[i]);
    *n = 0;
    cJSON_ArrayForEach(e, v) TRIBE_TRY(tribe_strdup(e->valuestring, &out[(*n)++]));
cleanup:
    return st;
}

/* "channels": name -> the channel cells meaning it; the feature <name>_share
 * is the share of the customer's gross spend through that channel. */
static tribe_status read_channels(const rd *top, const cJSON *obj, tribe_map_source *s)
{
    tribe_status st = TRIBE_OK;
    rd r;
    sub(&r, top, "channels");
    if (!cJSON_IsObject(obj) || cJSON_GetArraySize(obj) < 1 || cJSON_GetArraySize(obj) > TRIBE_MAP_CHANNELS)
        return bad(top, "channels", "must be %s", "an object of 1 to 4 named channels");
    for (const cJSON *v = obj->child; v; v = v->next) {
        const char *name = v->string;
        size_t len = strlen(name);
        int ok = len >= 1 && len <= 24 && name[0] >= 'a' && name[0] <= 'z';
        for (size_t i = 0; i < len && ok; i++)
            ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
        if (!ok)
            return bad(&r, name, "must be %s", "a name of 1-24 lower-case letters, digits and '_' (a letter first)");
        int k = s->n_channels;
        TRIBE_TRY(read_strings(&r, name, v, TRIBE_MAP_CHANNEL_VALUES, s->channel_values[k], &s->n_channel_values[k]));
        if (s->n_channel_values[k] == 0)
            return bad(&r, name, "must be %s", "an array of 1 to 8 channel values");
        memcpy(s->channel_name[k], name, len + 1);
        s->n_channels++;
    }
cleanup:
    return st;
}

/* The folder of the mapping file r->file ("" for a bare name) + name, or
 * name itself when absolute. */
static tribe_status beside(const rd *r, const char *name, char **out)
{
    const char *slash = strrchr(r->file, '/');
    if (name[0] == '/' || !slash)
        return tribe_strdup(name, out);
    size_t n = (size_t)(slash - r->file) + 1, len = n + strlen(name) + 1;
    tribe_status st = tribe_alloc((void **)out, len);
    if (st == TRIBE_OK)
        snprintf(*out, len, "%.*s%s", (int)n, r->file, name);
    return st;
}

static tribe_status strndup_t(const char *s, size_t n, char **out)
{
    tribe_status st = tribe_alloc((void **)out, n + 1);
    if (st == TRIBE_OK) {
        memcpy(*out, s, n);
        (*out)[n] = '\0';
    }
    return st;
}

static int cmp_prodcat(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

/* "categories_file": a CSV (plain or .gz) whose first two columns are a
 * product and its category (a header line first), read into s->prodcat.
 * Errors: USAGE (not a string), IO (missing), INPUT (fewer than two
 * columns, an empty product, one product listed with two categories: names
 * the file and the product). */
static tribe_status read_categories(const rd *r, const cJSON *v, tribe_map_source *s)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    int has = 0;
    int64_t cap = 0;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return bad(r, v->string, "must be %s", "a file name (relative to the mapping's folder)");
    tribe_free_strs(s->prodcat, (int)(2 * s->n_prodcat));
    s->prodcat = NULL;
    s->n_prodcat = 0;
    free(s->categories_file);
    s->categories_file = NULL;
    TRIBE_TRY(beside(r, v->valuestring, &s->categories_file));
    TRIBE_TRY(tribe_csv_open(s->categories_file, NULL, &c));
    if (tribe_csv_ncolumns(c) < 2)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: needs two columns, a product and its category (mapping key "
                             "%s.categories_file, %s)", s->categories_file, r->path, r->file));
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        size_t np = 0, nc = 0;
        const char *p = tribe_csv_field(c, 0, &np), *k = tribe_csv_field(c, 1, &nc);
        if (tribe_csv_error(c) || tribe_csv_nfields(c) < 2 || np == 0)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: not a product and its category", s->categories_file,
                                 (long long)tribe_csv_line(c)));
        if (2 * s->n_prodcat + 2 > cap) {
            cap = cap ? 2 * cap : 256;
            TRIBE_TRY(tribe_realloc((void **)&s->prodcat, (size_t)cap * sizeof *s->prodcat));
        }
        s->prodcat[2 * s->n_prodcat] = NULL;
        s->prodcat[2 * s->n_prodcat + 1] = NULL;
        s->n_prodcat++;
        TRIBE_TRY(strndup_t(p, np, &s->prodcat[2 * s->n_prodcat - 2]));
        TRIBE_TRY(strndup_t(k, nc, &s->prodcat[2 * s->n_prodcat - 1]));
    }
    TRIBE_TRY(st);
    qsort(s->prodcat, (size_t)s->n_prodcat, 2 * sizeof *s->prodcat, cmp_prodcat);
    for (int64_t i = 1; i < s->n_prodcat; i++)
        if (strcmp(s->prodcat[2 * i], s->prodcat[2 * i - 2]) == 0 &&
            strcmp(s->prodcat[2 * i + 1], s->prodcat[2 * i - 1]) != 0)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: product '%s' is listed with two categories, '%s' and '%s'",
                                 s->categories_file, s->prodcat[2 * i], s->prodcat[2 * i - 1],
                                 s->prodcat[2 * i + 1]));
cleanup:
    tribe_csv_close(&c);
    return st;
}

const char *tribe_mapping_product_category(const tribe_map_source *s, const char *product, size_t n)
{
    int64_t lo = 0, hi = s->n_prodcat;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const char *p = s->prodcat[2 * mid];
        int c = strncmp(p, product, n);
        if (c == 0)
            c = p[n] != '\0'; /* p is longer: after product */
        if (c == 0)
            return s->prodcat[2 * mid + 1];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* "optional": role names whose column may be missing from a file. */
static tribe_status read_optional(const rd *r, const cJSON *v, int k, tribe_map_source *s)
{
    const cJSON *e;
    if (!cJSON_IsArray(v))
        return bad(r, "optional", "must be an array of %s", "role names");
    s->optional = 0;
    cJSON_ArrayForEach(e, v)
    {
        int role = cJSON_IsString(e) ? role_of(k, e->valuestring) : -1;
        if (role < 0 || (required[k] >> role & 1u))
            return bad(r, "optional", "must name roles of columns a file may lack (%s)",
                       cJSON_IsString(e) ? e->valuestring : "not a string");
        s->optional |= 1u << role;
    }
    return TRIBE_OK;
}

static int is_iso_code(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

/* One scalar setting of a section (date_format, decimal, currency,
 * cancel_prefix). */
static tribe_status read_setting(const rd *r, const cJSON *v, tribe_map_source *s)
{
    const char *key = v->string;
    const char *str = cJSON_IsString(v) ? v->valuestring : NULL;
    if (strcmp(key, "date_format") == 0) {
        for (int f = 0; str && f < TRIBE_DATE_NFORMATS; f++)
            if (strcmp(str, tribe_date_format_name(f)) == 0) {
                s->date_format = f;
                return TRIBE_OK;
            }
        return bad(r, key, "must be one of %s", "'auto', 'iso', 'mdy', 'dmy', 'epoch', 'epoch_ms'");
    }
    if (strcmp(key, "decimal") == 0) {
        if (!str || (strcmp(str, ".") != 0 && strcmp(str, ",") != 0))
            return bad(r, key, "must be %s", "\".\" or \",\"");
        s->decimal = str[0];
        return TRIBE_OK;
    }
    if (strcmp(key, "currency") == 0) {
        if (!str || !is_iso_code(str))
            return bad(r, key, "must be %s", "an ISO 4217 code of three capital letters (\"EUR\")");
        memcpy(s->currency, str, 4);
        return TRIBE_OK;
    }
    /* cancel_prefix: "" = no cancellations by order id */
    if (!str || strlen(str) >= sizeof s->cancel_prefix)
        return bad(r, key, "must be %s", "a string of at most 15 bytes");
    memcpy(s->cancel_prefix, str, strlen(str) + 1);
    return TRIBE_OK;
}

/* Checks how the roles of a read section combine. */
static tribe_status check_source(const rd *r, int k, const tribe_map_source *s)
{
    for (int role = 0; role < nroles[k]; role++) {
        if (s->column[role] && s->constant[role])
            return tribe_fail(TRIBE_ERR_USAGE,
                              "%s: '%s.columns.%s' and '%s.constants.%s' both given: a role is a column or a "
                              "constant (see docs/mapping.md)",
                              r->file, r->path, roles[k][role], r->path, roles[k][role]);
        if ((required[k] >> role & 1u) && !s->column[role])
            return bad(r, "columns", "must name the %s column", roles[k][role]);
    }
    if (k != TRIBE_MAP_TX)
        return TRIBE_OK;
    int price = s->column[TRIBE_TX_UNIT_PRICE] != NULL, amount = s->column[TRIBE_TX_AMOUNT] != NULL;
    if (price == amount)
        return bad(r, "columns", "must name %s", "either a unit_price column (with quantity) or an amount column");
    if (price && !s->column[TRIBE_TX_QUANTITY] && !s->constant[TRIBE_TX_QUANTITY])
        return bad(r, "columns", "must name %s", "a quantity column (or give constants.quantity) with unit_price");
    if (s->currency[0] && s->column[TRIBE_TX_CURRENCY])
        return bad(r, "currency", "%s", "and columns.currency are both given: one currency source");
    if (s->n_channels > 0 && !s->column[TRIBE_TX_CHANNEL])
        return bad(r, "channels", "%s", "needs columns.channel: the column the channel values are in");
    return TRIBE_OK;
}

static tribe_status read_source(const rd *top, const cJSON *obj, int k, tribe_map_source *s)
{
    tribe_status st = TRIBE_OK;
    static const char *const keys[TRIBE_MAP_NSRC][11] = {
        {"columns", "date_format", "decimal", "currency", "cancel_prefix", "return_values", "constants", "optional",
         "description", "channels", "categories_file"},
        {"columns", "date_format", "constants", "optional", "description"},
        {"columns", "constants", "optional", "description"},
        {"columns", "date_format", "description"}};
    rd r;
    sub(&r, top, src_names[k]);
    if (!cJSON_IsObject(obj))
        return bad(top, src_names[k], "must be an %s", "object");
    TRIBE_TRY(known_keys(&r, obj, keys[k], 11));
    /* a section given replaces the built-in one: only what it says is mapped */
    source_clear(s);
    s->present = 1;
    for (size_t i = 0; i < sizeof default_returns / sizeof *default_returns; i++)
        TRIBE_TRY(tribe_strdup(default_returns[i], &s->return_values[s->n_return_values++]));
    for (const cJSON *v = obj->child; v; v = v->next) {
        if (strcmp(v->string, "columns") == 0)
            TRIBE_TRY(read_columns(&r, v, k, s));
        else if (strcmp(v->string, "constants") == 0)
            TRIBE_TRY(read_constants(&r, v, k, s));
        else if (strcmp(v->string, "optional") == 0)
            TRIBE_TRY(read_optional(&r, v, k, s));
        else if (strcmp(v->string, "channels") == 0)
            TRIBE_TRY(read_channels(&r, v, s));
        else if (strcmp(v->string, "categories_file") == 0)
            TRIBE_TRY(read_categories(&r, v, s));
        else if (strcmp(v->string, "return_values") == 0)
            TRIBE_TRY(read_strings(&r, v->string, v, TRIBE_MAP_RETURN_VALUES, s->return_values, &s->n_return_values));
        else if (strcmp(v->string, "description") == 0) {
            if (!cJSON_IsString(v))
                return bad(&r, v->string, "must be a %s", "string");
        } else
            TRIBE_TRY(read_setting(&r, v, s));
    }
    TRIBE_TRY(check_source(&r, k, s));
cleanup:
    return st;
}

static tribe_status read_id(const rd *top, const cJSON *obj, tribe_mapping *m)
{
    static const char *const keys[] = {"type", "max_length"};
    rd r;
    sub(&r, top, "customer_id");
    if (!cJSON_IsObject(obj))
        return bad(top, "customer_id", "must be an %s", "object");
    tribe_status st = known_keys(&r, obj, keys, 2);
    for (const cJSON *v = obj->child; v && st == TRIBE_OK; v = v->next) {
        if (strcmp(v->string, "type") == 0) {
            if (!cJSON_IsString(v) || (strcmp(v->valuestring, "integer") && strcmp(v->valuestring, "string")))
                return bad(&r, v->string, "must be %s", "\"integer\" or \"string\"");
            m->id_string = strcmp(v->valuestring, "string") == 0;
        } else if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
                   v->valuedouble > TRIBE_MAP_ID_MAX) {
            return bad(&r, v->string, "must be %s", "a whole number of bytes in [1, 64]");
        } else {
            m->id_max_length = (int)v->valuedouble;
        }
    }
    return st;
}

tribe_status tribe_mapping_parse(const char *file, const char *text, tribe_mapping **out)
{
    tribe_status st = TRIBE_OK;
    static const char *const keys[] = {"customer_id", "transactions", "web", "demographics", "text", "description"};
    tribe_mapping *m = NULL;
    cJSON *root = NULL;
    rd r = {file ? file : "mapping", ""};
    *out = NULL;
    TRIBE_TRY(tribe_mapping_default(&m));
    free(m->file);
    m->file = NULL;
    TRIBE_TRY(tribe_strdup(r.file, &m->file));
    root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = text; at && p < at && *p; p++)
            line += *p == '\n';
        st = tribe_fail(TRIBE_ERR_USAGE, "%s:%d: not valid JSON", r.file, line);
        goto cleanup;
    }
    if (!cJSON_IsObject(root)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: a mapping must be a JSON object (see docs/mapping.md)", r.file);
        goto cleanup;
    }
    TRIBE_TRY(known_keys(&r, root, keys, 6));
    for (const cJSON *v = root->child; v; v = v->next) {
        int k = -1;
        for (int i = 0; i < TRIBE_MAP_NSRC; i++)
            if (strcmp(v->string, src_names[i]) == 0)
                k = i;
        if (k >= 0)
            TRIBE_TRY(read_source(&r, v, k, &m->src[k]));
        else if (strcmp(v->string, "customer_id") == 0)
            TRIBE_TRY(read_id(&r, v, m));
        else if (!cJSON_IsString(v))
            TRIBE_TRY(bad(&r, v->string, "must be a %s", "string"));
    }
    *out = m;
    m = NULL;
cleanup:
    cJSON_Delete(root);
    tribe_mapping_destroy(&m);
    return st;
}

tribe_status tribe_mapping_load(const char *path, tribe_mapping **out)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    *out = NULL;
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    TRIBE_TRY(tribe_mapping_parse(path, text, out));
cleanup:
    free(text);
    return st;
}
