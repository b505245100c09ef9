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

#define POUND "\xc2\xa3"
#define EURO "\xe2\x82\xac"
#define YEN "\xc2\xa5"

static tribe_currency currency(const char *code)
{
    tribe_currency c = {"", "", -1};
    CU_ASSERT_EQUAL(tribe_currency_from_code(code, &c), TRIBE_OK);
    return c;
}

static void money_should_put_the_sign_before_the_currency(void)
{
    char b[48];
    tribe_currency gbp = currency("GBP");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &gbp, 1234.4), POUND "1,234");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &gbp, -1234.6), "-" POUND "1,235");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &gbp, -0.2), POUND "0");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &gbp, INFINITY), "n/a");
    /* NULL is the default currency: pounds, what a file without the attribute holds */
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, NULL, 1234.4), POUND "1,234");
}

static void money_should_be_written_in_the_currency_given(void)
{
    char b[48];
    tribe_currency usd = currency("USD"), eur = currency("eur"), jpy = currency("JPY"), chf = currency("CHF");
    tribe_currency kwd = currency("KWD"), xyz = currency("XYZ");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &usd, 1234567.5), "$1,234,568");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &usd, -999.5), "-$1,000");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &eur, 12.4), EURO "12");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &jpy, -1234567.0), "-" YEN "1,234,567");
    /* a symbol ending in a letter is set apart by a space */
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &chf, -4310.6), "-CHF 4,311");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money(b, sizeof b, &xyz, 7), "XYZ 7");
    /* exact: the currency's minor digits (2 for USD, 0 for JPY, 3 for KWD) */
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &usd, 1234.5), "$1,234.50");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &usd, -0.004), "$0.00");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &usd, -1234.5), "-$1,234.50");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &jpy, 1234.5), YEN "1,234");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &jpy, 1235.5), YEN "1,236");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_money_exact(b, sizeof b, &kwd, 1.2345), "KWD 1.234");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_amount(b, sizeof b, &usd, 1234.5), "1234.50");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_amount(b, sizeof b, &jpy, 1234.4), "1234");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_amount(b, sizeof b, &jpy, NAN), "n/a");
}

static void currencies_should_come_from_iso_codes(void)
{
    tribe_currency c = currency("usd");
    CU_ASSERT_STRING_EQUAL(c.code, "USD");
    CU_ASSERT_STRING_EQUAL(c.symbol, "$");
    CU_ASSERT_EQUAL(c.decimals, 2);
    c = currency("JPY");
    CU_ASSERT_STRING_EQUAL(c.symbol, YEN);
    CU_ASSERT_EQUAL(c.decimals, 0);
    c = currency("ABC"); /* well formed, not in the table: its code is its symbol */
    CU_ASSERT_STRING_EQUAL(c.symbol, "ABC");
    CU_ASSERT_EQUAL(c.decimals, 2);
    c = tribe_currency_default();
    CU_ASSERT_STRING_EQUAL(c.code, TRIBE_CURRENCY_DEFAULT);
    CU_ASSERT_STRING_EQUAL(c.symbol, POUND);
    static const char *const BAD[] = {"", "US", "USDX", "U$D", "12A", "\xc2\xa3"};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        tribe_currency keep = {"KEP", "k", 7};
        CU_ASSERT_EQUAL(tribe_currency_from_code(BAD[i], &keep), TRIBE_ERR_USAGE);
        CU_ASSERT_STRING_EQUAL(keep.code, "KEP");
    }
    CU_ASSERT_EQUAL(tribe_currency_from_code(NULL, &c), TRIBE_ERR_USAGE);
}

static void currencies_read_from_a_file_should_be_checked(void)
{
    tribe_currency c;
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "USD", NULL, &c), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(c.symbol, "$");
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "USD", "US$", &c), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(c.symbol, "US$");
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "JPY", "", &c), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(c.symbol, YEN);
    CU_ASSERT_EQUAL(c.decimals, 0);
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "usd", NULL, &c), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "f.h5"));
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "USD", "12345678", &c), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_currency_from_attrs("f.h5", "USD", "$\n", &c), TRIBE_ERR_INPUT);
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
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "monetary", 2500.7), POUND "2,501");
    tribe_currency usd = currency("USD");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, &usd, "avg_order_value", -2500.7), "-$2,501");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, &usd, "frequency", 3.3), "3.3");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "recency_days", 45.4), "45");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "frequency", 3.04), "3");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "frequency", 3.3), "3.3");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "frequency", 1234.3), "1,234.3");
    /* fractions of 1 in percent: a 3% return share is not "0" */
    CU_ASSERT_EQUAL(tribe_feature_kind("weekend_share"), TRIBE_FEAT_SHARE);
    CU_ASSERT_EQUAL(tribe_feature_kind("return_rate"), TRIBE_FEAT_SHARE);
    CU_ASSERT_EQUAL(tribe_feature_kind("share_count"), TRIBE_FEAT_PLAIN);
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "return_rate", 0.0312), "3.1%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "weekend_share", 0.3), "30%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "weekend_share", 0.0), "0%");
    CU_ASSERT_STRING_EQUAL(tribe_fmt_feature(b, sizeof b, NULL, "negative_share", NAN), "n/a");
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
        TRIBE_TEST(money_should_be_written_in_the_currency_given),
        TRIBE_TEST(currencies_should_come_from_iso_codes),
        TRIBE_TEST(currencies_read_from_a_file_should_be_checked),
        TRIBE_TEST(shares_should_print_as_percent_with_one_decimal),
        TRIBE_TEST(features_should_be_formatted_by_their_kind),
        TRIBE_TEST(small_buffers_should_truncate_without_overrunning),
        {NULL, NULL}};
    return tribe_test_main("numfmt", cases);
}
