/* tribe/sbuf.h: a growable byte/string buffer.
 *
 * Usage:
 *     tribe_sbuf b = {0};
 *     TRIBE_TRY(tribe_sbuf_add(&b, "{\n"));
 *     TRIBE_TRY(tribe_sbuf_printf(&b, "  \"k\": %d\n", k));
 *     TRIBE_TRY(tribe_sbuf_take(&b, &text));   // text is the caller's now
 *   cleanup:
 *     tribe_sbuf_free(&b);
 *
 * Hot loops that format many small fields (the generator's rows) reserve once
 * and write into b.p + b.len themselves:
 *     TRIBE_TRY(tribe_sbuf_reserve(&b, ROW_MAX));
 *     memcpy(b.p + b.len, s, n); b.len += n;    // n <= ROW_MAX
 *
 * Ownership: a tribe_sbuf owns its bytes until tribe_sbuf_take hands them
 * over; a zeroed struct is an empty buffer. The struct may be copied or
 * swapped as a whole (the copy then owns the bytes).
 * Not collective: nothing here talks to other ranks.
 */
#ifndef TRIBE_SBUF_H
#define TRIBE_SBUF_H

#include "tribe/core.h"

typedef struct {
    char *p;    /* NUL-terminated after every add/addn/printf (NULL until the first) */
    size_t len; /* bytes, excluding the NUL */
    size_t cap; /* bytes allocated at p */
} tribe_sbuf;

/* Makes room for `extra` more bytes plus a terminating NUL: afterwards
 * len + extra < cap. Capacity doubles from 256 bytes. Bytes written directly
 * at p + len are not NUL-terminated until the next add or take.
 * Errors: NOMEM (buffer untouched). */
tribe_status tribe_sbuf_reserve(tribe_sbuf *b, size_t extra);
/* Appends n bytes of s (which may hold NULs); on NOMEM the buffer is left as it was. */
tribe_status tribe_sbuf_addn(tribe_sbuf *b, const char *s, size_t n);
/* Appends the NUL-terminated s. Errors: NOMEM (buffer untouched). */
tribe_status tribe_sbuf_add(tribe_sbuf *b, const char *s);
/* Appends printf output of any length. Errors: NOMEM (buffer untouched),
 * INTERNAL when the format cannot be rendered. */
tribe_status tribe_sbuf_printf(tribe_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (NULL = "") as a JSON string literal: " and \ get a backslash,
 * a newline becomes \n, other control bytes \u00XX; UTF-8 passes through.
 * Errors: NOMEM. */
tribe_status tribe_sbuf_json_str(tribe_sbuf *b, const char *s);
/* CSV text cells (docs/outputs.md, "CSV files"): every CSV tribe writes puts
 * its text cells (ids as text, names, messages, raw input) through these; the
 * numbers tribe formats itself are written as they are.
 *  - A cell that a spreadsheet would run as a formula (first byte '=', '+',
 *    '-', '@', tab or carriage return: the OWASP rule) gets a leading '\''
 *    and is quoted. So does a cell whose leading '\''s are followed by one of
 *    those bytes, so that a reader removing one leading '\'' before them gets
 *    the text back exactly. A cell that is wholly a decimal number ("-12",
 *    "+3.5", "-1e-3") is left alone: a spreadsheet reads it as a number.
 *  - RFC 4180: a cell holding a comma, '"', CR or LF is quoted, '"' doubled.
 * s holds n bytes (NULs and any UTF-8 pass through unchanged). */
/* Formats the cell into dst like snprintf: writes at most cap bytes, adding a
 * NUL when there is room, and returns the length of the whole cell (without
 * NUL). dst may be NULL when cap is 0 (to measure). Never fails. */
size_t tribe_csv_cell(char *dst, size_t cap, const char *s, size_t n);
/* Appends the cell for the NUL-terminated s (NULL = empty cell).
 * Errors: NOMEM (buffer untouched). */
tribe_status tribe_sbuf_csv_cell(tribe_sbuf *b, const char *s);
/* The text of a cell tribe wrote, as read back by an RFC 4180 reader: v
 * without the '\'' the formula rule added (v + 1 when v is one or more '\''
 * then '=', '+', '-', '@', tab or CR), else v itself. Never fails. */
const char *tribe_csv_cell_text(const char *v);
/* Hands the NUL-terminated text to the caller (never NULL: "" for an empty
 * buffer) and resets the buffer to empty. Errors: NOMEM only when an empty
 * buffer cannot allocate "" (the buffer is then unchanged). */
tribe_status tribe_sbuf_take(tribe_sbuf *b, char **out);
/* Frees the bytes and resets the buffer to empty; accepts NULL. */
void tribe_sbuf_free(tribe_sbuf *b);

#endif
