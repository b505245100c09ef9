/* Value parsers for ingest: integers, decimals, text keys (dates: tribe/date.h).
 *
 * Written by hand rather than with strtol/strtod/strptime because those are
 * locale-dependent, accept things a CSV cell should not ("inf", "0x1p3",
 * leading junk) and are slow on hundreds of millions of cells. */
#include "ingest_internal.h"
#include "tribe/id.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ing_trim(const char **s, size_t *n)
{
    const char *p = *s;
    size_t k = *n;
    while (k > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        k--;
    }
    while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
        k--;
    *s = p;
    *n = k;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int ing_parse_int(const char *s, size_t n, int64_t *v)
{
    ing_trim(&s, &n);
    size_t i = 0;
    int neg = 0;
    uint64_t acc = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t d0 = i;
    while (i < n && is_digit(s[i])) {
        uint64_t dig = (uint64_t)(s[i] - '0');
        if (acc > (UINT64_MAX - dig) / 10)
            return 0;
        acc = acc * 10 + dig;
        i++;
    }
    if (i == d0)
        return 0;
    if (i < n && s[i] == '.') { /* "17850.0": a zero fraction only */
        i++;
        while (i < n && s[i] == '0')
            i++;
    }
    if (i != n)
        return 0;
    if (neg ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX)
        return 0;
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 1;
}

/* Exact powers of ten as doubles (10^22 is the largest exactly representable). */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int ing_parse_double(const char *s, size_t n, double *v)
{
    ing_trim(&s, &n);
    size_t i = 0;
    int neg = 0, has_exp = 0, ndig = 0, nfrac = 0;
    uint64_t mant = 0;
    int sig = 0; /* significant digits accumulated in mant (leading zeros skipped) */
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    while (i < n && is_digit(s[i])) {
        if (mant || s[i] != '0')
            sig++;
        if (sig <= 19)
            mant = mant * 10 + (uint64_t)(s[i] - '0');
        ndig++;
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) {
            if (mant || s[i] != '0')
                sig++;
            if (sig <= 19)
                mant = mant * 10 + (uint64_t)(s[i] - '0');
            ndig++;
            nfrac++;
            i++;
        }
    }
    if (ndig == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e0 = ++i;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d0 = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == d0 || i - e0 > 6)
            return 0;
        has_exp = 1;
    }
    if (i != n)
        return 0;
    /* Clinger's fast path: both the integer mantissa (< 2^53) and 10^nfrac
     * are exact doubles, so one IEEE division is the correctly rounded value. */
    if (!has_exp && sig <= 15 && nfrac <= 22) {
        double x = (double)mant / pow10_exact[nfrac];
        *v = neg ? -x : x;
        return 1;
    }
    char tmp[128];
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double x = strtod(tmp, NULL);
    if (!isfinite(x))
        return 0;
    *v = x;
    return 1;
}

uint64_t ing_key(const char *s, size_t n)
{
    /* tag 0 (top 4 bits): up to 7 raw bytes and the length. */
    if (n <= 7) {
        uint64_t k = (uint64_t)n << 56;
        for (size_t i = 0; i < n; i++)
            k |= (uint64_t)(unsigned char)s[i] << (8 * (6 - i));
        return k;
    }
    /* tag 1: optional letter + 1..15 digits: letter, digit count, value. */
    {
        size_t i = 0;
        uint64_t letter = 0;
        if ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) {
            letter = (uint64_t)(tribe_code6((unsigned char)s[0], ' ') - 10); /* 1..52 */
            i = 1;
        }
        size_t nd = n - i;
        if (nd >= 1 && nd <= 15) {
            uint64_t v = 0;
            size_t j = i;
            for (; j < n && is_digit(s[j]); j++)
                v = v * 10 + (uint64_t)(s[j] - '0');
            if (j == n)
                return (1ULL << 60) | (letter << 54) | ((uint64_t)nd << 50) | v;
        }
    }
    /* tag 2: up to 10 characters of a 63-symbol alphabet, 6 bits each. */
    uint64_t k6 = 0;
    if (tribe_pack6(s, n, ' ', &k6))
        return (2ULL << 60) | k6;
    /* tag 3: 60-bit hash. Only keys of the same customer are ever compared,
     * so a collision needs two such texts of one customer to meet. */
    uint64_t h = tribe_hash2(tribe_fnv1a(TRIBE_FNV_INIT, s, n), (uint64_t)n);
    return (3ULL << 60) | (h >> 4);
}
