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

/* Day number of the text s[0, n) (need not be NUL-terminated; surrounding
 * spaces and tabs are ignored): "YYYY-MM-DD" or "M/D/YYYY", optionally
 * followed by ' ' or 'T' and a time H:MM[:SS[.fraction]], which is validated
 * and then ignored. Returns 1 and sets *day when it parses, 0 (and leaves
 * *day untouched) when it does not. No error message: this is the per-cell
 * parser of ingest; tribe_parse_day is the reporting variant. */
int tribe_day_parse(const char *s, size_t n, int64_t *day);

/* tribe_day_parse of a NUL-terminated text. Errors: INPUT naming the text
 * ("'<text>' is not a date (expected YYYY-MM-DD)"); *day is then untouched. */
tribe_status tribe_parse_day(const char *text, int64_t *day);

#endif
