/* tribe/currency.h: the currency money is in, a property of the data (not of
 * the build): an ISO 4217 code, the symbol printed before amounts and the
 * digits of its minor unit.
 *
 * Usage:
 *     tribe_currency cur;
 *     TRIBE_TRY(tribe_currency_from_code("USD", &cur));   // {"USD", "$", 2}
 *     char b[48];
 *     tribe_fmt_money(b, sizeof b, &cur, 1234.5);          // "$1,235" (tribe/numfmt.h)
 *
 * customers.h5 and results.h5 store the code and symbol as root attributes
 * `currency` and `currency_symbol`; a file without them is in
 * TRIBE_CURRENCY_DEFAULT (pounds: the Online Retail layout's currency, and
 * what every tribe before the attribute wrote). docs/outputs.md.
 *
 * Ownership: plain values, nothing allocated. Not collective.
 */
#ifndef TRIBE_CURRENCY_H
#define TRIBE_CURRENCY_H

#include "tribe/core.h"

typedef struct {
    char code[4];   /* ISO 4217 alphabetic code: three upper-case ASCII letters, "GBP" */
    char symbol[8]; /* UTF-8, printed before amounts: "£", "$", "CHF" */
    int decimals;   /* digits of the minor unit: 2 (GBP, USD), 0 (JPY, KRW), 3 (KWD) */
} tribe_currency;

/* The currency of a file without currency attributes. */
#define TRIBE_CURRENCY_DEFAULT "GBP"

/* The default currency: {"GBP", "£", 2}. */
tribe_currency tribe_currency_default(void);

/* The currency of an ISO 4217 code (three ASCII letters; lower case is
 * accepted and upper-cased). The symbol and minor digits come from a
 * built-in table of common currencies (docs/outputs.md); a well-formed code
 * it does not list is its own symbol, with 2 decimals.
 * Errors: USAGE naming the code when it is not three letters (*out untouched). */
tribe_status tribe_currency_from_code(const char *code, tribe_currency *out);

/* The currency stored in a file: code and symbol as read (symbol NULL or ""
 * = the table's). Errors: INPUT naming `where` when the code is not three
 * upper-case letters or the symbol is longer than 7 bytes or holds a control
 * character (*out untouched). */
tribe_status tribe_currency_from_attrs(const char *where, const char *code, const char *symbol,
                                       tribe_currency *out);

#endif
