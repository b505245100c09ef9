/* Growable string buffer (tribe/sbuf.h). */
#include "tribe/sbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

tribe_status tribe_sbuf_reserve(tribe_sbuf *b, size_t extra)
{
    if (extra < b->cap && b->len < b->cap - extra) /* len + extra + 1 <= cap, without overflow */
        return TRIBE_OK;
    if (extra > SIZE_MAX - 1 - b->len)
        return tribe_fail(TRIBE_ERR_NOMEM, "text buffer would exceed the address space");
    const size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
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
    tribe_status st = tribe_sbuf_reserve(b, n);
    if (st != TRIBE_OK)
        return st;
    if (n > 0) /* s may be NULL when n == 0 */
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
    tribe_status st = tribe_sbuf_reserve(b, (size_t)n);
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
    /* reserve(0) allocates for an empty buffer and is free otherwise: every
     * successful reserve left room for the NUL after len */
    tribe_status st = tribe_sbuf_reserve(b, 0);
    if (st != TRIBE_OK)
        return st;
    b->p[b->len] = '\0';
    *out = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return TRIBE_OK;
}

void tribe_sbuf_free(tribe_sbuf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

tribe_status tribe_sbuf_json_str(tribe_sbuf *b, const char *s)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "\""));
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            TRIBE_TRY(tribe_sbuf_printf(b, "\\%c", *p));
        else if (*p == '\n')
            TRIBE_TRY(tribe_sbuf_add(b, "\\n"));
        else if (*p < 0x20)
            TRIBE_TRY(tribe_sbuf_printf(b, "\\u%04x", *p));
        else
            TRIBE_TRY(tribe_sbuf_addn(b, (const char *)p, 1));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "\""));
cleanup:
    return st;
}

/* [+-]? digits [. digits] [e [+-] digits], at least one digit before the
 * exponent: what a spreadsheet reads as a plain number. */
static int plain_number(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (!e)
            return 0;
    }
    return i == n;
}

static int formula_start(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

size_t tribe_csv_cell(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = 0, len = 0;
    while (k < n && s[k] == '\'')
        k++;
    int guard = k < n && formula_start(s[k]) && !(k == 0 && plain_number(s, n));
    int quote = guard;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
#define PUT(c)                                                                                                       \
    do {                                                                                                             \
        if (len < cap)                                                                                               \
            dst[len] = (c);                                                                                          \
        len++;                                                                                                       \
    } while (0)
    if (quote)
        PUT('"');
    if (guard)
        PUT('\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' && quote)
            PUT('"');
        PUT(s[i]);
    }
    if (quote)
        PUT('"');
#undef PUT
    if (len < cap)
        dst[len] = '\0';
    return len;
}

const char *tribe_csv_cell_text(const char *v)
{
    size_t k = 0;
    while (v[k] == '\'')
        k++;
    return k > 0 && formula_start(v[k]) ? v + 1 : v;
}

tribe_status tribe_sbuf_csv_cell(tribe_sbuf *b, const char *s)
{
    tribe_status st = TRIBE_OK;
    size_t n = s ? strlen(s) : 0, need = tribe_csv_cell(NULL, 0, s ? s : "", n);
    TRIBE_TRY(tribe_sbuf_reserve(b, need));
    b->len += tribe_csv_cell(b->p + b->len, b->cap - b->len, s ? s : "", n);
cleanup:
    return st;
}
