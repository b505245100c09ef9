/* tribe/numfmt.h: the one number-formatting convention shared by personas,
 * segments.csv and report.html, so a figure reads the same everywhere and the
 * grounding check (persona/ground.c) knows what precision each printed
 * number has.
 *
 * Usage:
 *     char a[48], b[48];
 *     tribe_sbuf_printf(&out, "%s customers (%s)", tribe_fmt_count(a, sizeof a, n),
 *                       tribe_fmt_pct(b, sizeof b, share));   // "1,234 customers (18.6%)"
 *
 * Convention (docs/outputs.md):
 *   customer counts     whole numbers with thousands separators   "1,234"
 *   shares              percent, one decimal                      "18.6%"
 *   money features      whole currency units, separators, the      "£1,234"
 *                       data's currency symbol (tribe/currency.h)  "-$1,235", "CHF 1,234"
 *   *_days features     whole days                                "45"
 *   other features      whole when within 0.05 of an integer, else one decimal
 *
 * Ownership: formatters write into caller buffers and keep nothing.
 * Not collective.
 */
#ifndef TRIBE_NUMFMT_H
#define TRIBE_NUMFMT_H

#include "tribe/core.h"
#include "tribe/currency.h"

/* Kinds of feature, by name (monetary, avg_order_value, *value*, *spend*,
 * *revenue*, ltv -> money; *days* -> days; *_share and return_rate, fractions
 * of 1 -> share, printed in percent). */
typedef enum { TRIBE_FEAT_PLAIN = 0, TRIBE_FEAT_MONEY, TRIBE_FEAT_DAYS, TRIBE_FEAT_SHARE } tribe_feat_kind;
tribe_feat_kind tribe_feature_kind(const char *name);

/* Formatters write into buf (cap >= 48 is always enough) and return buf.
 * Non-finite values print as "n/a". */
char *tribe_fmt_count(char *buf, size_t cap, double v);      /* "1,234" */
char *tribe_fmt_pct(char *buf, size_t cap, double fraction); /* 0.186 -> "18.6%" */
/* Money in whole units of cur (NULL = tribe_currency_default()): the sign
 * before the symbol ("-£1,235"), a space after a symbol ending in a letter
 * ("CHF 1,234"). */
char *tribe_fmt_money(char *buf, size_t cap, const tribe_currency *cur, double v); /* "£1,234" */
/* The same with the currency's minor digits: "£1,234.50", "¥1,235". */
char *tribe_fmt_money_exact(char *buf, size_t cap, const tribe_currency *cur, double v);
/* A plain number with the currency's minor digits, no symbol, no separators
 * (CSV and JSON values): "1234.50", "1235" for JPY. */
char *tribe_fmt_amount(char *buf, size_t cap, const tribe_currency *cur, double v);
/* By the feature's kind; money in cur (NULL = the default). */
char *tribe_fmt_feature(char *buf, size_t cap, const tribe_currency *cur, const char *feature, double v);

#endif
