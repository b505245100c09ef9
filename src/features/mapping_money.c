/* Money as written (tribe/mapping.h): "$1,234.50", "(£12.00)", "1.234,50 EUR".
 *
 * The cell is normalised to a plain decimal ("-1234.50") and read by
 * ing_parse_double, so an amount is exactly the double strtod gives for the
 * plain number. Grouping is checked (groups of three after the first), so a
 * cell in the other decimal convention ("1,5" when the decimal point is '.')
 * is refused instead of being read as 15. */
#include "ingest_internal.h"
#include "tribe/mapping.h"

#include <string.h>

typedef struct {
    const char *text, *code;
} symbol;

/* The symbols read in cells, with the currency each names when the mapping
 * does not say ("$" is many dollars: set transactions.currency for CAD). */
static const symbol symbols[] = {{"$", "USD"}, {"\xC2\xA3", "GBP"}, {"\xE2\x82\xAC", "EUR"}, {"\xC2\xA5", "JPY"}};
#define N_SYMBOLS (sizeof symbols / sizeof symbols[0])

/* Currencies a symbol may stand for. */
static const symbol fits[] = {{"$", "USD"},  {"$", "CAD"},  {"$", "AUD"}, {"$", "NZD"},
                              {"$", "HKD"},  {"$", "SGD"},  {"$", "MXN"}, {"$", "TWD"},
                              {"\xC2\xA3", "GBP"}, {"\xE2\x82\xAC", "EUR"}, {"\xC2\xA5", "JPY"},
                              {"\xC2\xA5", "CNY"}};

int tribe_money_symbol_fits(const char *sym, const char *code)
{
    for (size_t i = 0; i < sizeof fits / sizeof *fits; i++)
        if (strcmp(fits[i].text, sym) == 0 && strcmp(fits[i].code, code) == 0)
            return 1;
    return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/* A currency token at s[*i]: a symbol or three capital letters not followed
 * by a letter. Fills code/sym and advances; 0 when there is none. */
static int currency_token(const char *s, size_t n, size_t *i, char code[4], char sym[8])
{
    for (size_t k = 0; k < N_SYMBOLS; k++) {
        size_t len = strlen(symbols[k].text);
        if (n - *i >= len && memcmp(s + *i, symbols[k].text, len) == 0) {
            memcpy(code, symbols[k].code, 4);
            memcpy(sym, symbols[k].text, len + 1);
            *i += len;
            return 1;
        }
    }
    if (n - *i >= 3 && is_upper(s[*i]) && is_upper(s[*i + 1]) && is_upper(s[*i + 2]) &&
        (n - *i == 3 || !(is_upper(s[*i + 3]) || (s[*i + 3] >= 'a' && s[*i + 3] <= 'z')))) {
        memcpy(code, s + *i, 3);
        code[3] = '\0';
        sym[0] = '\0';
        *i += 3;
        return 1;
    }
    return 0;
}

/* The number at s[*i], appended to out[*len..] as digits with '.' for the
 * decimal separator: digits, optionally split into groups of three by the
 * group separator (',' when the decimal is '.', else '.' or ' '; the first
 * group 1-3 digits), then the decimal separator and at least one digit.
 * Returns 0 when malformed. */
static int number(const char *s, size_t n, size_t *i, char decimal, char *out, size_t cap, size_t *len)
{
    size_t o = *len, nd = 0, group = 0;
    int ngroups = 0;
    for (;;) {
        while (*i < n && is_digit(s[*i])) {
            if (o + 2 >= cap)
                return 0;
            out[o++] = s[(*i)++];
            nd++;
            group++;
        }
        if (nd == 0 || *i >= n)
            break;
        char ch = s[*i];
        if (!(decimal == '.' ? ch == ',' : (ch == '.' || ch == ' ')))
            break;
        int three = n - *i >= 4 && is_digit(s[*i + 1]) && is_digit(s[*i + 2]) && is_digit(s[*i + 3]) &&
                    (n - *i == 4 || !is_digit(s[*i + 4]));
        if (!three) {
            if (ch == ' ')
                break; /* a space before a code: "12 EUR" */
            return 0;  /* "1,23" is not an amount when the decimal is '.' */
        }
        if (ngroups == 0 ? group > 3 : group != 3)
            return 0;
        ngroups++;
        group = 0;
        (*i)++;
    }
    if (nd == 0)
        return 0;
    if (*i < n && s[*i] == decimal) {
        (*i)++;
        out[o++] = '.';
        size_t f0 = o;
        while (*i < n && is_digit(s[*i])) {
            if (o + 1 >= cap)
                return 0;
            out[o++] = s[(*i)++];
        }
        if (o == f0)
            return 0;
    }
    *len = o;
    return 1;
}

int tribe_money_parse(const char *s, size_t n, char decimal, double *v, char code[4], char sym[8])
{
    char buf[128];
    size_t len = 1, i = 0;
    int neg = 0, sign = 0, paren = 0, has_cur = 0;
    code[0] = sym[0] = '\0';
    ing_trim(&s, &n);
    if (n >= 2 && s[0] == '(' && s[n - 1] == ')') { /* accounting negative: "(1,234.50)" */
        paren = 1;
        s++;
        n -= 2;
        ing_trim(&s, &n);
    }
    /* before the number: a sign and a currency, in either order */
    for (;;) {
        if (!sign && i < n && (s[i] == '-' || s[i] == '+')) {
            sign = 1;
            neg = s[i++] == '-';
        } else if (!has_cur && currency_token(s, n, &i, code, sym)) {
            has_cur = 1;
            while (i < n && s[i] == ' ')
                i++;
        } else {
            break;
        }
    }
    if ((paren && sign) || !number(s, n, &i, decimal, buf, sizeof buf, &len))
        return 0;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && !has_cur && !currency_token(s, n, &i, code, sym))
        return 0;
    if (i != n) {
        code[0] = sym[0] = '\0';
        return 0;
    }
    buf[0] = neg || paren ? '-' : '+';
    return ing_parse_double(buf, len, v);
}
