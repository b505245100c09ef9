/* The currency of the data (tribe/currency.h). */
#include "tribe/currency.h"

#include <string.h>

/* Common currencies: symbol as usually printed before amounts in English
 * text (Unicode CLDR's English symbols) and ISO 4217's minor unit digits.
 * Ambiguous signs get their country prefix ("CA$", "CN¥") except the ones a
 * reader assumes ($ = USD, ¥ = JPY). */
static const tribe_currency KNOWN[] = {
    {"GBP", "\xc2\xa3", 2},     /* £ */
    {"USD", "$", 2},
    {"EUR", "\xe2\x82\xac", 2}, /* € */
    {"JPY", "\xc2\xa5", 0},     /* ¥ */
    {"CNY", "CN\xc2\xa5", 2},   /* CN¥ */
    {"INR", "\xe2\x82\xb9", 2}, /* ₹ */
    {"KRW", "\xe2\x82\xa9", 0}, /* ₩ */
    {"VND", "\xe2\x82\xab", 0}, /* ₫ */
    {"ILS", "\xe2\x82\xaa", 2}, /* ₪ */
    {"PHP", "\xe2\x82\xb1", 2}, /* ₱ */
    {"NGN", "\xe2\x82\xa6", 2}, /* ₦ */
    {"CAD", "CA$", 2},
    {"AUD", "A$", 2},
    {"NZD", "NZ$", 2},
    {"HKD", "HK$", 2},
    {"SGD", "S$", 2},
    {"MXN", "MX$", 2},
    {"BRL", "R$", 2},
    {"TWD", "NT$", 2},
    {"CHF", "CHF", 2},
    {"SEK", "SEK", 2},
    {"NOK", "NOK", 2},
    {"DKK", "DKK", 2},
    {"PLN", "PLN", 2},
    {"CZK", "CZK", 2},
    {"HUF", "HUF", 2},
    {"ZAR", "ZAR", 2},
    {"TRY", "TRY", 2},
    {"AED", "AED", 2},
    {"SAR", "SAR", 2},
    {"ISK", "ISK", 0},
    {"CLP", "CLP", 0},
    {"KWD", "KWD", 3},
    {"BHD", "BHD", 3},
    {"OMR", "OMR", 3},
    {"JOD", "JOD", 3},
};

tribe_currency tribe_currency_default(void) { return KNOWN[0]; }

static int upper3(const char *s) { return s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3; }

/* The table's entry for an upper-case code, or a code-as-symbol one. */
static tribe_currency lookup(const char *code)
{
    tribe_currency c = {"", "", 2};
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++)
        if (strcmp(KNOWN[i].code, code) == 0)
            return KNOWN[i];
    memcpy(c.code, code, 4);
    memcpy(c.symbol, code, 4);
    return c;
}

tribe_status tribe_currency_from_code(const char *code, tribe_currency *out)
{
    char up[4] = "";
    if (code && strlen(code) == 3)
        for (int i = 0; i < 3; i++)
            up[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 'a' + 'A' : code[i]);
    if (!upper3(up))
        return tribe_fail(TRIBE_ERR_USAGE, "currency '%s' is not an ISO 4217 code (three letters, e.g. GBP, USD, EUR)",
                          code ? code : "");
    *out = lookup(up);
    return TRIBE_OK;
}

tribe_status tribe_currency_from_attrs(const char *where, const char *code, const char *symbol,
                                       tribe_currency *out)
{
    if (!upper3(code))
        return tribe_fail(TRIBE_ERR_INPUT, "%s: currency '%s' is not an ISO 4217 code (three upper-case letters)",
                          where, code ? code : "");
    tribe_currency c = lookup(code);
    if (symbol && *symbol) {
        size_t n = strlen(symbol);
        int control = 0;
        for (size_t i = 0; i < n; i++)
            control |= (unsigned char)symbol[i] < 0x20 || symbol[i] == 0x7f;
        if (control || n >= sizeof c.symbol)
            return tribe_fail(TRIBE_ERR_INPUT,
                              "%s: currency_symbol is longer than %d bytes or holds a control character", where,
                              (int)sizeof c.symbol - 1);
        memcpy(c.symbol, symbol, n + 1);
    }
    *out = c;
    return TRIBE_OK;
}
