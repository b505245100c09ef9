/* COPY text format fields (tribe/publish.h): every value a publish sends
 * goes through these, so names and persona texts with tabs, line breaks or
 * backslashes arrive as written. */
#include "tribe/publish.h"

#include <math.h>
#include <string.h>

/* The escape of byte c in a COPY text field, or 0 when it goes as it is.
 * Backslash starts every escape; tab, newline and carriage return would end
 * a field or a row. Other control bytes are data in the text format. */
static char escape_of(char c)
{
    switch (c) {
    case '\\': return '\\';
    case '\t': return 't';
    case '\n': return 'n';
    case '\r': return 'r';
    default: return 0;
    }
}

tribe_status tribe_sbuf_copy_text(tribe_sbuf *b, const char *s)
{
    tribe_status st = TRIBE_OK;
    if (!s)
        return tribe_sbuf_add(b, "\\N");
    size_t n = strlen(s);
    TRIBE_TRY(tribe_sbuf_reserve(b, 2 * n));
    for (size_t i = 0; i < n; i++) {
        char e = escape_of(s[i]);
        if (e) {
            b->p[b->len++] = '\\';
            b->p[b->len++] = e;
        } else {
            b->p[b->len++] = s[i];
        }
    }
    b->p[b->len] = '\0';
cleanup:
    return st;
}

tribe_status tribe_sbuf_copy_array(tribe_sbuf *b, char *const *s, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "{"));
    for (int i = 0; i < n; i++) {
        const char *v = s[i] ? s[i] : "";
        size_t len = strlen(v);
        /* inside a quoted array element '"' and '\' take a backslash, which
         * the COPY field then doubles: at most 4 bytes per byte */
        TRIBE_TRY(tribe_sbuf_reserve(b, 4 * len + 4));
        if (i)
            b->p[b->len++] = ',';
        b->p[b->len++] = '"';
        for (size_t j = 0; j < len; j++) {
            if (v[j] == '"' || v[j] == '\\') {
                b->p[b->len++] = '\\';
                b->p[b->len++] = '\\';
            }
            char e = escape_of(v[j]);
            if (e) {
                b->p[b->len++] = '\\';
                b->p[b->len++] = e;
            } else {
                b->p[b->len++] = v[j];
            }
        }
        b->p[b->len++] = '"';
        b->p[b->len] = '\0';
    }
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

tribe_status tribe_sbuf_copy_f64(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%.17g", v) : tribe_sbuf_add(b, "\\N");
}

tribe_status tribe_sbuf_copy_f32(tribe_sbuf *b, float v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%.9g", (double)v) : tribe_sbuf_add(b, "\\N");
}
