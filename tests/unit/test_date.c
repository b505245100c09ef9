/* Unit tests for src/core/date.c: day numbers, ISO formatting, date parsing. */
#include "testutil.h"
#include "tribe/date.h"

#include <string.h>

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int month_days(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 ? 28 + leap(y) : dm[m - 1];
}

static void known_days_should_match_the_calendar(void)
{
    /* values from Python's datetime.date(...) - date(1970, 1, 1) */
    CU_ASSERT_EQUAL(tribe_days_from_civil(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(tribe_days_from_civil(1969, 12, 31), -1);
    CU_ASSERT_EQUAL(tribe_days_from_civil(1, 1, 1), -719162);
    CU_ASSERT_EQUAL(tribe_days_from_civil(1900, 2, 28), -25509);
    CU_ASSERT_EQUAL(tribe_days_from_civil(1900, 3, 1), -25508);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2000, 2, 29), 11016);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2000, 3, 1), 11017);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2011, 12, 9), 15317);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2012, 2, 29), 15399);
    CU_ASSERT_EQUAL(tribe_days_from_civil(9999, 12, 31), 2932896);
}

/* Walks every day of years 0..9999 with a plain y/m/d counter: the day
 * numbers are consecutive, and formatting then parsing gives the day back. */
static void every_day_of_ten_millennia_should_round_trip(void)
{
    int64_t want = tribe_days_from_civil(0, 1, 1), bad = 0;
    char buf[11], expect[32];
    for (int64_t y = 0; y <= 9999; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= month_days(y, m); d++, want++) {
                if (tribe_days_from_civil(y, m, d) != want)
                    bad++;
                /* formatting and parsing are dearer: all of 1800..2199, a
                 * sample elsewhere (keeps the test fast under valgrind) */
                if ((y < 1800 || y >= 2200) && want % 11 != 0)
                    continue;
                tribe_format_day(want, buf);
                snprintf(expect, sizeof expect, "%04d-%02d-%02d", (int)y, m, d);
                int64_t back = INT64_MIN;
                if (strcmp(buf, expect) != 0 || !tribe_day_parse(buf, strlen(buf), &back) || back != want)
                    bad++;
            }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(want, tribe_days_from_civil(10000, 1, 1));
}

static void years_should_have_365_or_366_days_also_before_year_zero(void)
{
    int64_t bad = 0;
    for (int64_t y = -2000; y <= 12000; y++) {
        int64_t len = tribe_days_from_civil(y + 1, 1, 1) - tribe_days_from_civil(y, 1, 1);
        if (len != 365 + leap(y < 0 ? -y : y)) /* the leap rule is symmetric about year 0 */
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(tribe_days_from_civil(0, 3, 1) - tribe_days_from_civil(0, 2, 28), 2); /* 0 is leap */
    CU_ASSERT_EQUAL(tribe_days_from_civil(1900, 3, 1) - tribe_days_from_civil(1900, 2, 28), 1);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2000, 3, 1) - tribe_days_from_civil(2000, 2, 28), 2);
    CU_ASSERT_EQUAL(tribe_days_from_civil(2100, 3, 1) - tribe_days_from_civil(2100, 2, 28), 1);
}

static void years_outside_0_to_9999_should_format_as_a_question_mark(void)
{
    char buf[11];
    tribe_format_day(tribe_days_from_civil(0, 1, 1), buf);
    CU_ASSERT_STRING_EQUAL(buf, "0000-01-01");
    tribe_format_day(tribe_days_from_civil(0, 1, 1) - 1, buf);
    CU_ASSERT_STRING_EQUAL(buf, "?");
    tribe_format_day(tribe_days_from_civil(10000, 1, 1), buf);
    CU_ASSERT_STRING_EQUAL(buf, "?");
    tribe_format_day(INT64_MIN / 2, buf);
    CU_ASSERT_STRING_EQUAL(buf, "?");
    tribe_format_day(INT64_MAX / 2, buf);
    CU_ASSERT_STRING_EQUAL(buf, "?");
}

static void accepted_formats_should_give_the_same_day(void)
{
    static const char *const ok[] = {
        "2011-12-09", "2011-12-09 12:50", "2011-12-09 12:50:00", "2011-12-09T12:50:00",
        "2011-12-09 12:50:00.5", "2011-12-09 12:50:00.123456789", "2011-12-9", "12/9/2011",
        "12/09/2011 12:50", "12/9/2011 8:05:59", " \t2011-12-09 \t", "2011-12-09 23:59:60"};
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) {
        int64_t day = -1;
        CU_ASSERT_EQUAL(tribe_parse_day(ok[k], &day), TRIBE_OK);
        CU_ASSERT_EQUAL(day, 15317);
        if (day != 15317)
            fprintf(stderr, "'%s' -> %lld\n", ok[k], (long long)day);
    }
    int64_t day = -1;
    CU_ASSERT_EQUAL(tribe_parse_day("1/1/1970 0:00", &day), TRIBE_OK);
    CU_ASSERT_EQUAL(day, 0);
    CU_ASSERT_EQUAL(tribe_parse_day("2000-02-29", &day), TRIBE_OK);
    CU_ASSERT_EQUAL(day, 11016);
    /* the length is honoured: the text need not end at n */
    CU_ASSERT_EQUAL(tribe_day_parse("2011-12-09garbage", 10, &day), 1);
    CU_ASSERT_EQUAL(day, 15317);
}

static void rejected_formats_should_name_the_text_and_leave_the_day(void)
{
    static const char *const bad[] = {
        "", " ", "2011-02-29", "2100-02-29", "2011-13-01", "2011-00-10", "2011-12-00", "2011-12-32",
        "2011-04-31", "2011-12-09 24:00", "2011-12-09 12:60", "2011-12-09 12:5", "2011-12-09 12:50:61",
        "2011-12-09 12:50:0", "2011-12-09 12:50:00.", "2011-12-09 12:50:00.1234567890", "2011-12-09x",
        "2011-12-09  12:50", "2011-12-09 12", "11-12-09", "2011/12/09", "12/9/11", "12/9/20111",
        "123/9/2011", "20111-12-09", "2011-123-09", "2011-12-090", "+2011-12-09", "2011-12-09Z12:50",
        "twenty", "12-9-2011"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int64_t day = 42;
        CU_ASSERT_EQUAL(tribe_parse_day(bad[k], &day), TRIBE_ERR_INPUT);
        CU_ASSERT_EQUAL(day, 42);
        char want[128];
        snprintf(want, sizeof want, "'%s' is not a date (expected YYYY-MM-DD)", bad[k]);
        CU_ASSERT_STRING_EQUAL(tribe_errmsg(), want);
        if (tribe_errmsg()[0] && strcmp(tribe_errmsg(), want) != 0)
            fprintf(stderr, "'%s': %s\n", bad[k], tribe_errmsg());
    }
    int64_t day = 42;
    CU_ASSERT_EQUAL(tribe_parse_day(NULL, &day), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "'(null)' is not a date (expected YYYY-MM-DD)");
    CU_ASSERT_EQUAL(tribe_day_parse("2011-12-09", 9, &day), 0); /* cut short by n */
    CU_ASSERT_EQUAL(day, 42);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(known_days_should_match_the_calendar),
        TRIBE_TEST(every_day_of_ten_millennia_should_round_trip),
        TRIBE_TEST(years_should_have_365_or_366_days_also_before_year_zero),
        TRIBE_TEST(years_outside_0_to_9999_should_format_as_a_question_mark),
        TRIBE_TEST(accepted_formats_should_give_the_same_day),
        TRIBE_TEST(rejected_formats_should_name_the_text_and_leave_the_day),
        {NULL, NULL}};
    return tribe_test_main("date", cases);
}
