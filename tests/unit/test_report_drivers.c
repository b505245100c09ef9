/* Unit tests for the report's "What drives each segment" section (src/report/html.c),
 * fed by the run record's "drivers" object. */
#include <stdlib.h>
#include <string.h>

#include "htmlfix.h"
#include "segfix.h"
#include "testutil.h"
#include "tribe/report.h"

/* 7 features for FIX_K = 5 segments. Segment 0 ranks them 6 ("<x>"), 2, 0, 5, 3 (then 1, 4);
 * the gain gives shares 40, 20, 10, 10, 10, 5, 5 percent. */
static const char DRIVERS_RUN[] =
    "{\"run_id\":\"r1\",\"timings\":{\"kmeans\":1.5},"
    "\"drivers\":{\"features\":[\"recency_days\",\"frequency\",\"monetary\",\"avg_order_value\",\"tenure_days\","
    "\"mean_days_between\",\"<x>\"],"
    "\"mean_abs_shap\":[[0.5,0.01,0.9,0.2,0.0,0.3,1.7],[1,1,1,1,1,1,1],[1,2,3,4,5,6,7],[0,0,0,0,0,0,0],"
    "[7,6,5,4,3,2,1]],"
    "\"gain\":[40,20,10,10,10,5,5],\"rows\":1234}}";

static void drivers_should_chart_the_top_five_per_segment_and_the_gain(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, DRIVERS_RUN, &html), TRIBE_OK);
    /* The navigation bar links the sections present, in page order. */
    const char *nav_drivers = strstr(html, "<a href=\"#drivers\">"), *nav_glance = strstr(html, "<a href=\"#glance\">");
    CU_ASSERT_PTR_NOT_NULL(nav_drivers);
    CU_ASSERT(nav_glance && nav_drivers && nav_glance < nav_drivers);
    CU_ASSERT_PTR_NULL(strstr(html, "<a href=\"#ltv\">"));
    char *sec = html_section(html, "drivers");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "What drives each segment"));
    for (int c = 0; c < s->k; c++)
        CU_ASSERT_PTR_NOT_NULL(strstr(sec, s->seg[c].name));
    /* five bars per segment, every feature in the overall chart */
    CU_ASSERT_EQUAL(html_count(sec, "<rect "), 5 * s->k + 7);
    /* segment 0's card: <x> first, then Total spend, Days since last order; Orders (rank 6) absent */
    const char *c0 = strstr(sec, s->seg[0].name), *c1 = strstr(sec, s->seg[1].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
    char *card0 = strndup(c0, (size_t)(c1 - c0));
    const char *px = strstr(card0, "&lt;x&gt;"), *pm = strstr(card0, "Total spend"),
               *pr = strstr(card0, "Days since last order");
    CU_ASSERT(px && pm && pr && px < pm && pm < pr);
    CU_ASSERT_PTR_NULL(strstr(card0, ">Orders<"));
    CU_ASSERT_PTR_NULL(strstr(card0, "Days since first order"));
    CU_ASSERT_PTR_NOT_NULL(strstr(card0, ">1.700</text>"));
    free(card0);
    /* gain shares, largest first */
    const char *g40 = strstr(sec, ">40.0%</text>"), *g20 = strstr(sec, ">20.0%</text>");
    CU_ASSERT(g40 && g20 && g40 < g20);
    /* nothing raw from the data, and the drivers are not repeated as a run-details table */
    CU_ASSERT_PTR_NULL(strstr(html, "<x>"));
    CU_ASSERT_PTR_NULL(strstr(html, "Drivers</h3>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Timings"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

static void drivers_section_should_be_absent_without_drivers_and_say_when_malformed(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, "{\"run_id\":\"r1\"}", &html), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"drivers\""));
    free(html);
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, NULL, &html), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"drivers\""));
    free(html);
    /* two segment rows for five segments */
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL,
                                                 "{\"drivers\":{\"features\":[\"a\"],\"mean_abs_shap\":[[1],[2]],"
                                                 "\"gain\":[1]}}",
                                                 &html),
                          TRIBE_OK);
    char *sec = html_section(html, "drivers");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "malformed"));
    CU_ASSERT_EQUAL(html_count(sec, "<rect "), 0);
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(drivers_should_chart_the_top_five_per_segment_and_the_gain),
        TRIBE_TEST(drivers_section_should_be_absent_without_drivers_and_say_when_malformed),
        {NULL, NULL}};
    return tribe_test_main("report_drivers", cases);
}
