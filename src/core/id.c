/* Customer ids: keys of string ids, parsing and printing (tribe/id.h). */
#include "tribe/id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key layout: bit 63 clear, bits 62..61 a tag, bits 60..0 the payload.
 *   tag 0  canonical decimal number (< 10^18 < 2^60): the number
 *   tag 1  any text of 1..7 bytes: length << 56 | bytes (big-endian)
 *   tag 2  8..10 characters of [0-9A-Za-z-]: 6-bit codes (1..63), first char highest
 *   tag 3  anything else: a 61-bit hash (fewer bits under the test hook)
 * Every text takes the first tag that fits, so within each exact tag two
 * different texts differ in the payload, and tags never share a key. */
#define TAG(t) ((uint64_t)(t) << 61)
#define PAYLOAD_BITS 61

static int hash_bits = -1; /* -1: not read from the environment yet */
_Static_assert(TRIBE_ID_MAX == 64, "tribe_id_check names the limit as 64 bytes");

void tribe_id_set_hash_bits(int bits) { hash_bits = bits > 0 && bits <= PAYLOAD_BITS ? bits : PAYLOAD_BITS; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int tribe_code6(unsigned char c, char sym63)
{
    if (c >= '0' && c <= '9')
        return 1 + (c - '0');
    if (c >= 'A' && c <= 'Z')
        return 11 + (c - 'A');
    if (c >= 'a' && c <= 'z')
        return 37 + (c - 'a');
    return c == (unsigned char)sym63 ? 63 : 0;
}

int tribe_pack6(const char *s, size_t n, char sym63, uint64_t *k)
{
    uint64_t v = 0;
    if (n > 10)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = tribe_code6((unsigned char)s[i], sym63);
        if (!c)
            return 0;
        v |= (uint64_t)c << (6 * (9 - i));
    }
    *k = v;
    return 1;
}

int64_t tribe_id_key(const char *s, size_t n)
{
    if (n >= 1 && n <= 18 && (s[0] != '0' || n == 1)) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < n && is_digit(s[i]); i++)
            v = v * 10 + (uint64_t)(s[i] - '0');
        if (i == n)
            return (int64_t)(TAG(0) | v);
    }
    if (n <= 7) {
        uint64_t k = (uint64_t)n << 56;
        for (size_t i = 0; i < n; i++)
            k |= (uint64_t)(unsigned char)s[i] << (8 * (6 - i));
        return (int64_t)(TAG(1) | k);
    }
    uint64_t k6 = 0;
    if (tribe_pack6(s, n, '-', &k6))
        return (int64_t)(TAG(2) | k6);
    if (hash_bits < 0) {
        const char *e = getenv("TRIBE_TEST_ID_HASH_BITS");
        tribe_id_set_hash_bits(e ? atoi(e) : 0);
    }
    uint64_t h = tribe_hash2(tribe_fnv1a(TRIBE_FNV_INIT, s, n), (uint64_t)n);
    h >>= 64 - PAYLOAD_BITS;
    if (hash_bits < PAYLOAD_BITS)
        h &= (1ULL << hash_bits) - 1;
    return (int64_t)(TAG(3) | h);
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned v = len == 1 ? c : c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int tribe_id_check(const char *s, size_t n, char *why, size_t cap)
{
    const char *bad = NULL;
    if (n == 0)
        bad = "is empty";
    else if (n > TRIBE_ID_MAX)
        bad = "is longer than 64 bytes (the longest string id)";
    for (size_t i = 0; !bad && i < n;) {
        unsigned cp = 0;
        size_t l = utf8_len((const unsigned char *)s + i, n - i, &cp);
        if (l == 0)
            bad = "is not valid UTF-8";
        else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            bad = "holds a control character";
        i += l;
    }
    if (bad && why && cap > 0) {
        /* the text cut to 40 bytes, control bytes shown as '?' */
        char shown[41];
        size_t k = n > 40 ? 40 : n;
        for (size_t i = 0; i < k; i++)
            shown[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        shown[k] = '\0';
        snprintf(why, cap, "CustomerID '%s'%s %s", shown, n > 40 ? "..." : "", bad);
    }
    return bad == NULL;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* An integer, also with a zero fraction ("17850.0", "17850."): 1 when it
 * is one and not negative (*v set), -1 when negative, -2 when above
 * INT64_MAX, 0 when not a number. */
static int parse_uint(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    uint64_t acc = 0;
    int neg = 0, big = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t d0 = i;
    for (; i < n && is_digit(s[i]); i++) {
        uint64_t dig = (uint64_t)(s[i] - '0');
        big |= acc > ((uint64_t)INT64_MAX - dig) / 10;
        acc = big ? acc : acc * 10 + dig;
    }
    if (i == d0)
        return 0;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] == '0'; i++)
            ;
    if (i != n)
        return 0;
    if (neg && (acc > 0 || big))
        return -1;
    if (big)
        return -2;
    *v = (int64_t)acc;
    return 1;
}

int tribe_id_parse(const char *s, size_t n, int string_ids, int64_t *key, char *why, size_t cap)
{
    trim(&s, &n);
    if (n == 0)
        return 0;
    if (string_ids) {
        if (!tribe_id_check(s, n, why, cap))
            return -1;
        *key = tribe_id_key(s, n);
        return 1;
    }
    int r = parse_uint(s, n, key);
    if (r == 1)
        return 1;
    if (why && cap > 0) {
        snprintf(why, cap, "CustomerID '%.*s'%s %s", (int)(n > 40 ? 40 : n), s, n > 40 ? "..." : "",
                 r == -1 ? "is negative" : r == -2 ? "is above the largest integer id (2^63 - 1)" : "is not an integer id");
    }
    return -1;
}

int tribe_id_lookup_keys(const char *s, int string_ids, int64_t keys[2])
{
    size_t n = strlen(s);
    int k = 0;
    if (tribe_id_parse(s, n, string_ids, &keys[0], NULL, 0) == 1)
        k = 1;
    if (string_ids) {
        int64_t v = 0;
        trim(&s, &n);
        /* only a number that can be a decimal text's key (tag 0) */
        if (parse_uint(s, n, &v) == 1 && v < 1000000000000000000LL && (k == 0 || v != keys[0]))
            keys[k++] = v;
    }
    return k;
}

const char *tribe_id_format(const char *text, int64_t id, char buf[TRIBE_ID_BUF])
{
    if (text)
        snprintf(buf, TRIBE_ID_BUF, "%s", text);
    else
        snprintf(buf, TRIBE_ID_BUF, "%lld", (long long)id);
    return buf;
}
