/* Decimal digits of every script (digits.h): a small UTF-8 decoder and the
 * table of Unicode's decimal digits (general category Nd).
 *
 * The table was made at development time with Python 3.11's unicodedata
 * (Unicode 14.0.0):
 *
 *     import unicodedata
 *     [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"
 *      and unicodedata.decimal(chr(c)) == 0]
 *
 * Every Nd character is one of 66 runs of ten, zero to nine in code point
 * order (660 characters), so a code point is a digit when it is at most
 * 9 past the nearest zero at or below it; the script checked that before the
 * table was written. A later Unicode version may add runs: regenerate the
 * table with the same lines. */
#include "digits.h"

#include <stddef.h>

static const uint32_t ND_ZEROS[] = {
    0x00030, 0x00660, 0x006F0, 0x007C0, 0x00966, 0x009E6, 0x00A66, 0x00AE6, 0x00B66, 0x00BE6, 0x00C66, 0x00CE6,
    0x00D66, 0x00DE6, 0x00E50, 0x00ED0, 0x00F20, 0x01040, 0x01090, 0x017E0, 0x01810, 0x01946, 0x019D0, 0x01A80,
    0x01A90, 0x01B50, 0x01BB0, 0x01C40, 0x01C50, 0x0A620, 0x0A8D0, 0x0A900, 0x0A9D0, 0x0A9F0, 0x0AA50, 0x0ABF0,
    0x0FF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2,
    0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

size_t tribe_utf8_next(const char *text, size_t n, size_t i, uint32_t *cp)
{
    const unsigned char *t = (const unsigned char *)text + i;
    size_t left = n - i;
    unsigned char b = t[0];
    *cp = TRIBE_UTF8_INVALID;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (len == 0 || b > 0xf4 || left < len)
        return 1;
    uint32_t v = b & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((t[k] & 0xc0) != 0x80)
            return 1; /* a cut sequence: the byte after it is read on its own */
        v = v << 6 | (t[k] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not characters. */
    static const uint32_t MIN[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < MIN[len] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
        return 1;
    *cp = v;
    return len;
}

int tribe_nd_digit(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9' ? (int)(cp - '0') : -1;
    size_t lo = 0, hi = sizeof ND_ZEROS / sizeof *ND_ZEROS;
    /* The last zero at or below cp. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ND_ZEROS[mid] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || cp - ND_ZEROS[lo - 1] > 9)
        return -1;
    return (int)(cp - ND_ZEROS[lo - 1]);
}

int tribe_digit_at(const char *text, size_t n, size_t i, size_t *len)
{
    uint32_t cp;
    if (i >= n) {
        *len = 0;
        return -1;
    }
    *len = tribe_utf8_next(text, n, i, &cp);
    return cp == TRIBE_UTF8_INVALID ? -1 : tribe_nd_digit(cp);
}
