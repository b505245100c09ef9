/* Number formatting shared by personas and the report (tribe/numfmt.h). */
#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tribe_feat_kind tribe_feature_kind(const char *name)
{
    static const char *const money[] = {"monetary", "avg_order_value", "value", "spend", "revenue", "ltv"};
    for (size_t i = 0; i < sizeof money / sizeof *money; i++)
        if (strstr(name, money[i]))
            return TRIBE_FEAT_MONEY;
    if (strstr(name, "days"))
        return TRIBE_FEAT_DAYS;
    size_t n = strlen(name);
    if ((n >= 6 && strcmp(name + n - 6, "_share") == 0) || strcmp(name, "return_rate") == 0)
        return TRIBE_FEAT_SHARE;
    return TRIBE_FEAT_PLAIN;
}

/* Inserts thousands separators into the integer part of a plain decimal
 * string ("-1234567.5" -> "-1,234,567.5"). */
static char *group(char *buf, size_t cap, const char *plain)
{
    const char *digits = plain[0] == '-' ? plain + 1 : plain;
    const char *dot = strchr(digits, '.');
    size_t nint = dot ? (size_t)(dot - digits) : strlen(digits);
    size_t o = 0;
    if (plain[0] == '-' && o + 1 < cap)
        buf[o++] = '-';
    for (size_t i = 0; i < nint && o + 2 < cap; i++) {
        if (i > 0 && (nint - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    for (const char *p = dot; p && *p && o + 1 < cap; p++)
        buf[o++] = *p;
    buf[o] = '\0';
    return buf;
}

static char *fixed(char *buf, size_t cap, double v, int decimals)
{
    char plain[64];
    if (!isfinite(v)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    snprintf(plain, sizeof plain, "%.*f", decimals, v);
    /* "-0" and "-0.0" read as an invented sign; print zero plainly. */
    if (plain[0] == '-' && strspn(plain + 1, "0.") == strlen(plain + 1))
        memmove(plain, plain + 1, strlen(plain));
    return group(buf, cap, plain);
}

char *tribe_fmt_count(char *buf, size_t cap, double v) { return fixed(buf, cap, v, 0); }

/* Symbol then number, the sign first; a space after a symbol ending in a
 * letter, so "CHF 1,234" does not read as one word. */
static char *money(char *buf, size_t cap, const tribe_currency *cur, double v, int decimals)
{
    char num[64];
    tribe_currency def = tribe_currency_default();
    if (!cur)
        cur = &def;
    if (!isfinite(v)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    fixed(num, sizeof num, v, decimals);
    size_t ns = strlen(cur->symbol);
    int letter = ns > 0 && isalpha((unsigned char)cur->symbol[ns - 1]);
    int neg = num[0] == '-';
    snprintf(buf, cap, "%s%s%s%s", neg ? "-" : "", cur->symbol, letter ? " " : "", num + neg);
    return buf;
}

char *tribe_fmt_money(char *buf, size_t cap, const tribe_currency *cur, double v) { return money(buf, cap, cur, v, 0); }

char *tribe_fmt_money_exact(char *buf, size_t cap, const tribe_currency *cur, double v)
{
    return money(buf, cap, cur, v, cur ? cur->decimals : tribe_currency_default().decimals);
}

char *tribe_fmt_amount(char *buf, size_t cap, const tribe_currency *cur, double v)
{
    int decimals = cur ? cur->decimals : tribe_currency_default().decimals;
    if (!isfinite(v))
        snprintf(buf, cap, "n/a");
    else
        snprintf(buf, cap, "%.*f", decimals, v);
    return buf;
}

char *tribe_fmt_pct(char *buf, size_t cap, double fraction)
{
    char num[64];
    if (!isfinite(fraction)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    fixed(num, sizeof num, 100.0 * fraction, 1);
    snprintf(buf, cap, "%s%%", num);
    return buf;
}

char *tribe_fmt_feature(char *buf, size_t cap, const tribe_currency *cur, const char *feature, double v)
{
    switch (tribe_feature_kind(feature)) {
    case TRIBE_FEAT_MONEY:
        return tribe_fmt_money(buf, cap, cur, v);
    case TRIBE_FEAT_DAYS:
        return fixed(buf, cap, v, 0);
    case TRIBE_FEAT_SHARE: { /* "30%", "2.4%" */
        char num[64];
        double p = 100.0 * v;
        if (!isfinite(v))
            return fixed(buf, cap, v, 0);
        fixed(num, sizeof num, p, fabs(p - round(p)) < 0.05 ? 0 : 1);
        snprintf(buf, cap, "%s%%", num);
        return buf;
    }
    default:
        return fixed(buf, cap, v, fabs(v - round(v)) < 0.05 ? 0 : 1);
    }
}
