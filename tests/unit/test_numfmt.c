/* Unit tests for src/core/numfmt.c: the number convention of personas and the report. */
#include "testutil.h"
#include "tribe/numfmt.h"

#include <math.h>
#include <string.h>

static void counts_should_have_thousands_separators_and_no_negative_zero(void)
{
    char b[48];
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, 0), "0");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, 999), "999");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, 1000), "1,000");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, 1234567.4), "1,234,567");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, -1234567), "-1,234,567");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, -0.4), "0");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_count(b, sizeof b, NAN), "n/a");
}

static void money_should_put_the_sign_before_the_currency(void)
{
    char b[48];
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, 1234.4), TRIBE_CURRENCY "1,234");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, -1234.6), "-" TRIBE_CURRENCY "1,235");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, -0.2), TRIBE_CURRENCY "0");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, INFINITY), "n/a");
}

static void shares_should_print_as_percent_with_one_decimal(void)
{
    char b[48];
    CU_ASSERT_STRING_EQUAL(tribe_fmt_pct(b, sizeof b, 0.186), "18.6%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_pct(b, sizeof b, 1.0), "100.0%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_pct(b, sizeof b, 12.345), "1,234.5%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_pct(b, sizeof b, -0.0001), "0.0%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_pct(b, sizeof b, NAN), "n/a");
}

static void features_should_be_formatted_by_their_kind(void)
{
    char b[48];
    CU_ASSERT_EQUAL(tribe_feature_kind("monetary"), TRIBE_FEAT_MONEY);
    CU_ASSERT_EQUAL(tribe_feature_kind("avg_order_value"), TRIBE_FEAT_MONEY);
    CU_ASSERT_EQUAL(tribe_feature_kind("web_spend_90d"), TRIBE_FEAT_MONEY);
    CU_ASSERT_EQUAL(tribe_feature_kind("recency_days"), TRIBE_FEAT_DAYS);
    CU_ASSERT_EQUAL(tribe_feature_kind("frequency"), TRIBE_FEAT_PLAIN);
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, "monetary", 2500.7), TRIBE_CURRENCY "2,501");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, "recency_days", 45.4), "45");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, "frequency", 3.04), "3");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, "frequency", 3.3), "3.3");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, "frequency", 1234.3), "1,234.3");
}

static void small_buffers_should_truncate_without_overrunning(void)
{
    char b[6] = "xxxxx";
    tribe_fmt_count(b, sizeof b, 1234567);
    CU_ASSERT_EQUAL(b[5], '\0');
    CU_ASSERT(strlen(b) < sizeof b);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(counts_should_have_thousands_separators_and_no_negative_zero),
        TRIBE_TEST(money_should_put_the_sign_before_the_currency),
        TRIBE_TEST(shares_should_print_as_percent_with_one_decimal),
        TRIBE_TEST(features_should_be_formatted_by_their_kind),
        TRIBE_TEST(small_buffers_should_truncate_without_overrunning),
        {NULL, NULL}};
    return tribe_test_main("numfmt", cases);
}
