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
 *   money features      whole currency units, separators          "£1,234"
 *   *_days features     whole days                                "45"
 *   other features      whole when within 0.05 of an integer, else one decimal
 *
 * Ownership: formatters write into caller buffers and keep nothing.
 * Not collective.
 */
#ifndef TRIBE_NUMFMT_H
#define TRIBE_NUMFMT_H

#include "tribe/core.h"

/* Currency of monetary features. The transactions layout (Online Retail) is
 * in pounds; a job-spec key would belong in core's config when another
 * currency is needed. */
#define TRIBE_CURRENCY "\xc2\xa3" /* £ in UTF-8 */

/* Kinds of feature, by name (monetary, avg_order_value, *value*, *spend*,
 * *revenue*, ltv -> money; *days* -> days). */
typedef enum { TRIBE_FEAT_PLAIN = 0, TRIBE_FEAT_MONEY, TRIBE_FEAT_DAYS } tribe_feat_kind;
tribe_feat_kind tribe_feature_kind(const char *name);

/* Formatters write into buf (cap >= 48 is always enough) and return buf.
 * Non-finite values print as "n/a". */
char *tribe_fmt_count(char *buf, size_t cap, double v);      /* "1,234" */
char *tribe_fmt_money(char *buf, size_t cap, double v);      /* "£1,234" */
char *tribe_fmt_pct(char *buf, size_t cap, double fraction); /* 0.186 -> "18.6%" */
char *tribe_fmt_feature(char *buf, size_t cap, const char *feature, double v);

#endif
