/* Calendar days (tribe/date.h).
 *
 * The parser is written by hand rather than with strptime/sscanf because
 * those are locale-dependent, accept leading junk and are slow on the
 * hundreds of millions of date cells ingest reads. */
#include "tribe/date.h"

#include <string.h>

/* Proleptic Gregorian, H. Hinnant's algorithm: years are shifted to start on
 * March 1 so the leap day is the last day of the year, and 400-year eras make
 * negative years work with truncating division. */
int64_t tribe_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tribe_format_day(int64_t z, char buf[11])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    if (y < 0 || y > 9999) {
        buf[0] = '?';
        buf[1] = '\0';
        return;
    }
    /* Digits by hand: the generator formats a date per day of its window and
     * snprintf would be most of that cost. */
    const int yy = (int)y;
    const int dig[10] = {yy / 1000, yy / 100 % 10, yy / 10 % 10, yy % 10, 0, m / 10, m % 10, 0, d / 10, d % 10};
    for (int k = 0; k < 10; k++)
        buf[k] = (k == 4 || k == 7) ? '-' : (char)('0' + dig[k]);
    buf[10] = '\0';
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Reads min..max digits at s[*i]; fails when there are fewer than min or more than max. */
static int digits(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
    int v = 0, k = 0;
    while (*i < n && is_digit(s[*i])) {
        if (++k > max)
            return 0;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    if (k < min)
        return 0;
    *out = v;
    return 1;
}

int tribe_day_parse(const char *s, size_t n, int64_t *day)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t i = 0;
    int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0;
    if (n >= 5 && s[4] == '-') { /* YYYY-MM-DD */
        if (!digits(s, n, &i, 4, 4, &y) || i >= n || s[i++] != '-' || !digits(s, n, &i, 1, 2, &m) ||
            i >= n || s[i++] != '-' || !digits(s, n, &i, 1, 2, &d))
            return 0;
    } else { /* M/D/YYYY (UCI original) */
        if (!digits(s, n, &i, 1, 2, &m) || i >= n || s[i++] != '/' || !digits(s, n, &i, 1, 2, &d) ||
            i >= n || s[i++] != '/' || !digits(s, n, &i, 4, 4, &y))
            return 0;
    }
    if (i < n) { /* time of day: validated, then ignored (features use days) */
        if (s[i] != ' ' && s[i] != 'T')
            return 0;
        i++;
        if (!digits(s, n, &i, 1, 2, &hh) || i >= n || s[i++] != ':' || !digits(s, n, &i, 2, 2, &mm))
            return 0;
        if (i < n) {
            if (s[i++] != ':' || !digits(s, n, &i, 2, 2, &ss))
                return 0;
            if (i < n && s[i] == '.') { /* fractional seconds */
                i++;
                int frac;
                if (!digits(s, n, &i, 1, 9, &frac))
                    return 0;
            }
        }
        if (i != n)
            return 0;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 60)
        return 0;
    *day = tribe_days_from_civil(y, m, d);
    return 1;
}

tribe_status tribe_parse_day(const char *text, int64_t *day)
{
    if (!text || !tribe_day_parse(text, strlen(text), day))
        return tribe_fail(TRIBE_ERR_INPUT, "'%s' is not a date (expected YYYY-MM-DD)", text ? text : "(null)");
    return TRIBE_OK;
}
