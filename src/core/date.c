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

void tribe_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void tribe_format_day(int64_t z, char buf[11])
{
    int64_t y;
    int m, d;
    tribe_civil_from_days(z, &y, &m, &d);
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

/* The optional time of day after a date at s[i]: ' ' or 'T', then
 * H:MM[:SS[.fraction]]; validated, then ignored (features use days). */
static int time_of_day(const char *s, size_t n, size_t i)
{
    int hh = 0, mm = 0, ss = 0;
    if (i == n)
        return 1;
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
    return i == n && hh <= 23 && mm <= 59 && ss <= 60;
}

/* A calendar date in one field order: YYYY-MM-DD (ISO), M/D/YYYY (MDY) or
 * D/M/YYYY (DMY; '/', '.' or '-' between the fields, the same twice). */
static int calendar(const char *s, size_t n, int fmt, int64_t *day)
{
    size_t i = 0;
    int y = 0, m = 0, d = 0;
    if (fmt == TRIBE_DATE_ISO) {
        if (!digits(s, n, &i, 4, 4, &y) || i >= n || s[i++] != '-' || !digits(s, n, &i, 1, 2, &m) || i >= n ||
            s[i++] != '-' || !digits(s, n, &i, 1, 2, &d))
            return 0;
    } else {
        int a = 0, b = 0;
        char sep = 0;
        if (!digits(s, n, &i, 1, 2, &a) || i >= n)
            return 0;
        sep = s[i++];
        if ((sep != '/' && (fmt == TRIBE_DATE_MDY || (sep != '.' && sep != '-'))) ||
            !digits(s, n, &i, 1, 2, &b) || i >= n || s[i++] != sep || !digits(s, n, &i, 4, 4, &y))
            return 0;
        m = fmt == TRIBE_DATE_MDY ? a : b;
        d = fmt == TRIBE_DATE_MDY ? b : a;
    }
    if (!time_of_day(s, n, i) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *day = tribe_days_from_civil(y, m, d);
    return 1;
}

/* Whole seconds (or milliseconds) since 1970-01-01T00:00:00Z, optionally
 * negative; the day is the floor, so -1 s is 1969-12-31. At most 15 digits
 * (past year 30,000 in seconds): a longer number is not a date. */
static int epoch(const char *s, size_t n, int64_t unit, int64_t *day)
{
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n || n - i > 15)
        return 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    v = neg ? -v : v;
    int64_t per_day = 86400 * unit;
    *day = v >= 0 ? v / per_day : -((-v + per_day - 1) / per_day);
    return 1;
}

int tribe_day_parse_as(const char *s, size_t n, int fmt, int64_t *day)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    switch (fmt) {
    case TRIBE_DATE_AUTO: /* ISO when the fifth byte is '-', else the UCI original's M/D/YYYY */
        return calendar(s, n, n >= 5 && s[4] == '-' ? TRIBE_DATE_ISO : TRIBE_DATE_MDY, day);
    case TRIBE_DATE_ISO:
    case TRIBE_DATE_MDY:
    case TRIBE_DATE_DMY: return calendar(s, n, fmt, day);
    case TRIBE_DATE_EPOCH: return epoch(s, n, 1, day);
    case TRIBE_DATE_EPOCH_MS: return epoch(s, n, 1000, day);
    default: return 0;
    }
}

int tribe_day_parse(const char *s, size_t n, int64_t *day) { return tribe_day_parse_as(s, n, TRIBE_DATE_AUTO, day); }

const char *tribe_date_format_name(int fmt)
{
    static const char *const names[TRIBE_DATE_NFORMATS] = {"auto", "iso", "mdy", "dmy", "epoch", "epoch_ms"};
    return fmt >= 0 && fmt < TRIBE_DATE_NFORMATS ? names[fmt] : "?";
}

tribe_status tribe_parse_day(const char *text, int64_t *day)
{
    if (!text || !tribe_day_parse(text, strlen(text), day))
        return tribe_fail(TRIBE_ERR_INPUT, "'%s' is not a date (expected YYYY-MM-DD)", text ? text : "(null)");
    return TRIBE_OK;
}
