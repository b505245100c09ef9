/* tribe/date.h: calendar days as day numbers (days since 1970-01-01,
 * proleptic Gregorian), parsed from and formatted to text.
 *
 * Usage:
 *     int64_t day;
 *     TRIBE_TRY(tribe_parse_day("2011-12-09 12:50", &day));   // 15317
 *     char iso[11];
 *     tribe_format_day(day + 1, iso);                         // "2011-12-10"
 *
 * Ownership: nothing here allocates or keeps pointers; outputs go to caller
 * buffers. Not collective: nothing here talks to other ranks.
 */
#ifndef TRIBE_DATE_H
#define TRIBE_DATE_H

#include "tribe/core.h"

/* Day number of year y, month m (1..12), day d (1..31) (H. Hinnant's
 * days_from_civil). Any y is accepted; m and d are NOT validated: a day past
 * the month's end counts on into the next month. */
int64_t tribe_days_from_civil(int64_t y, int m, int d);

/* "YYYY-MM-DD" of a day number into buf[11] (NUL-terminated). Years outside
 * 0..9999 cannot be written in that form and give "?". */
void tribe_format_day(int64_t day, char buf[11]);
/* Year, month (1..12) and day (1..31) of a day number (H. Hinnant's
 * civil_from_days; the inverse of tribe_days_from_civil). Not collective. */
void tribe_civil_from_days(int64_t day, int64_t *y, int *m, int *d);

/* Day number of the text s[0, n) (need not be NUL-terminated; surrounding
 * spaces and tabs are ignored): "YYYY-MM-DD" or "M/D/YYYY", optionally
 * followed by ' ' or 'T' and a time H:MM[:SS[.fraction]], which is validated
 * and then ignored. Returns 1 and sets *day when it parses, 0 (and leaves
 * *day untouched) when it does not. No error message: this is the per-cell
 * parser of ingest; tribe_parse_day is the reporting variant. */
int tribe_day_parse(const char *s, size_t n, int64_t *day);

/* Date formats of a source column (docs/mapping.md): auto = tribe_day_parse;
 * iso = YYYY-MM-DD; mdy = M/D/YYYY; dmy = D/M/YYYY (also D.M.YYYY, D-M-YYYY);
 * each optionally followed by a time as above; epoch = whole seconds since
 * 1970-01-01 UTC, epoch_ms = milliseconds (the UTC day, floored). */
enum { TRIBE_DATE_AUTO, TRIBE_DATE_ISO, TRIBE_DATE_MDY, TRIBE_DATE_DMY, TRIBE_DATE_EPOCH, TRIBE_DATE_EPOCH_MS,
       TRIBE_DATE_NFORMATS };
/* tribe_day_parse in the format fmt (TRIBE_DATE_*): 1 and *day when s[0, n)
 * parses, 0 (*day untouched) when not or fmt is unknown. */
int tribe_day_parse_as(const char *s, size_t n, int fmt, int64_t *day);
/* "auto", "iso", "mdy", "dmy", "epoch", "epoch_ms" ("?" for another value). */
const char *tribe_date_format_name(int fmt);

/* tribe_day_parse of a NUL-terminated text. Errors: INPUT naming the text
 * ("'<text>' is not a date (expected YYYY-MM-DD)"); *day is then untouched. */
tribe_status tribe_parse_day(const char *text, int64_t *day);

#endif
