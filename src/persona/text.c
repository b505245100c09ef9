/* String buffer and number formatting shared by personas and the report (text.h). */
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static tribe_status reserve(tribe_sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return TRIBE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return tribe_fail(TRIBE_ERR_NOMEM, "text buffer would exceed the address space");
        cap *= 2;
    }
    tribe_status st = tribe_realloc((void **)&b->p, cap);
    if (st == TRIBE_OK)
        b->cap = cap;
    return st;
}

tribe_status tribe_sbuf_addn(tribe_sbuf *b, const char *s, size_t n)
{
    tribe_status st = reserve(b, n);
    if (st != TRIBE_OK)
        return st;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return TRIBE_OK;
}

tribe_status tribe_sbuf_add(tribe_sbuf *b, const char *s) { return tribe_sbuf_addn(b, s, strlen(s)); }

tribe_status tribe_sbuf_printf(tribe_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "bad format '%s'", fmt);
    tribe_status st = reserve(b, (size_t)n);
    if (st != TRIBE_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TRIBE_OK;
}

tribe_status tribe_sbuf_take(tribe_sbuf *b, char **out)
{
    if (!b->p) {
        tribe_status st = reserve(b, 0);
        if (st != TRIBE_OK)
            return st;
        b->p[0] = '\0';
    }
    *out = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return TRIBE_OK;
}

void tribe_sbuf_free(tribe_sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

tribe_feat_kind tribe_feature_kind(const char *name)
{
    static const char *const money[] = {"monetary", "avg_order_value", "value", "spend", "revenue", "ltv"};
    for (size_t i = 0; i < sizeof money / sizeof *money; i++)
        if (strstr(name, money[i]))
            return TRIBE_FEAT_MONEY;
    if (strstr(name, "days"))
        return TRIBE_FEAT_DAYS;
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

char *tribe_fmt_money(char *buf, size_t cap, double v)
{
    char num[64];
    if (!isfinite(v)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    fixed(num, sizeof num, v, 0);
    if (num[0] == '-')
        snprintf(buf, cap, "-%s%s", TRIBE_CURRENCY, num + 1);
    else
        snprintf(buf, cap, "%s%s", TRIBE_CURRENCY, num);
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

char *tribe_fmt_feature(char *buf, size_t cap, const char *feature, double v)
{
    switch (tribe_feature_kind(feature)) {
    case TRIBE_FEAT_MONEY:
        return tribe_fmt_money(buf, cap, v);
    case TRIBE_FEAT_DAYS:
        return fixed(buf, cap, v, 0);
    default:
        return fixed(buf, cap, v, fabs(v - round(v)) < 0.05 ? 0 : 1);
    }
}
