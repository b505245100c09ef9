/* Unit tests for the report's "Lifetime value" section (src/report/html.c), fed by the run
 * record's "ltv" object (written by tribe run with a job "ltv" object). */
#include <stdlib.h>
#include <string.h>

#include "htmlfix.h"
#include "segfix.h"
#include "testutil.h"
#include "tribe/report.h"

/* FIX_K = 5 segments; the past-rate R2 is null (NaN in the run). */
static const char LTV_RUN[] =
    "{\"run_id\":\"r1\",\"timings\":{\"kmeans\":1.5},"
    "\"ltv\":{\"horizon_days\":90,\"objective\":\"tweedie\","
    "\"models\":[\"gbdt\",\"bgnbd_gamma_gamma\",\"past_spend_rate\"],"
    "\"metrics\":[[108.4,251.8,0.248,3.9],[111,271.9,0.123,3.93],[342.8,4018.8,null,3.9]],"
    "\"segment_mean\":[500,200,100,50,10],\"segment_median\":[400,150,80,40,5],"
    "\"segment_total\":[306000,1,2,3,4]}}";

static void ltv_should_table_the_three_models_and_every_segment(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, LTV_RUN, &html), TRIBE_OK);
    char *sec = html_section(html, "ltv");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "next 90 days"));
    const char *g = strstr(sec, "Gradient-boosted trees (tribe)"), *b = strstr(sec, "BG/NBD + Gamma-Gamma"),
               *r = strstr(sec, "Past spend rate carried forward");
    CU_ASSERT(g && b && r && g < b && b < r);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">0.248<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">3.93&times;<"));
    CU_ASSERT_EQUAL(html_count(sec, "&ndash;"), 1); /* the null R2 */
    CU_ASSERT_EQUAL(html_count(sec, "<tr>"), 2 + 3 + s->k);
    for (int c = 0; c < s->k; c++)
        CU_ASSERT_PTR_NOT_NULL(strstr(strstr(sec, "Predicted value per segment"), s->seg[c].name));
    /* not repeated in the run details */
    CU_ASSERT_PTR_NULL(strstr(html, "bgnbd_gamma_gamma"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

static void ltv_section_should_be_absent_without_ltv_and_say_when_malformed(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, "{\"run_id\":\"r1\"}", &html), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"ltv\""));
    free(html);
    /* segment arrays of the wrong length */
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL,
                                                 "{\"ltv\":{\"horizon_days\":90,\"models\":[\"gbdt\"],"
                                                 "\"metrics\":[[1,2,3,4]],\"segment_mean\":[1],"
                                                 "\"segment_median\":[1],\"segment_total\":[1]}}",
                                                 &html),
                          TRIBE_OK);
    char *sec = html_section(html, "ltv");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "malformed"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(ltv_should_table_the_three_models_and_every_segment),
        TRIBE_TEST(ltv_section_should_be_absent_without_ltv_and_say_when_malformed),
        {NULL, NULL},
    };
    return tribe_test_main("report_ltv", cases);
}
