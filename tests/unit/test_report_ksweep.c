/* Unit tests for the report's "Choosing the number of segments" section
 * (src/report/html.c), fed by the run record's "k_sweep" object (written by
 * tribe run from tribe_ksweep_json). */
#include <stdlib.h>
#include <string.h>

#include "htmlfix.h"
#include "segfix.h"
#include "testutil.h"
#include "tribe/report.h"

/* Four K; K=3's squared silhouette is null (NaN in the run). */
static const char KS_RUN[] =
    "{\"run_id\":\"r1\",\"k_sweep\":{\"recommended_k\":4,\"elbow_k\":3,\"stability_ari\":0.97,"
    "\"reason\":\"K=4: 3 of 5 criteria agree (silhouette, Davies-Bouldin, elbow) <x>\","
    "\"columns\":[\"k\",\"inertia\",\"silhouette\",\"silhouette_ci95\",\"silhouette_sq\",\"calinski_harabasz\","
    "\"davies_bouldin\",\"stability_ari\"],"
    "\"rows\":[[2,100,0.3,0.01,0.5,900,1.2,0.99],[3,60,0.35,0.01,null,1000,1.0,0.6],"
    "[4,30,0.4,0.02,0.6,1100,0.9,0.97],[5,27,0.33,0.01,0.52,1200,1.1,0.9]]}}";

static void ksweep_should_plot_every_criterion_and_mark_the_choice(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, KS_RUN, &html), TRIBE_OK);
    char *sec = html_section(html, "choosing-k");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<strong>K=4</strong>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "split-half agreement 0.97"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Davies-Bouldin, elbow) &lt;x&gt;")); /* the reason, escaped */
    CU_ASSERT_EQUAL(html_count(sec, "<svg"), 6);
    CU_ASSERT_EQUAL(html_count(sec, "stroke-dasharray=\"4 3\""), 6); /* the chosen K on every plot */
    CU_ASSERT_EQUAL(html_count(sec, ">elbow</text>"), 1);
    CU_ASSERT_EQUAL(html_count(sec, "<circle"), 4 * 6 - 1 + 1); /* the null point skipped; the elbow ring */
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<title>K=4: 0.4</title>"));
    /* not repeated in the run details */
    CU_ASSERT_PTR_NULL(strstr(html, "Recommended k"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

static void ksweep_section_should_be_absent_for_a_fixed_k(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL,
                                                 "{\"k_sweep\":{\"recommended_k\":5,\"elbow_k\":0,"
                                                 "\"stability_ari\":null,\"reason\":\"K=5: fixed by the job\","
                                                 "\"rows\":[[5,27,0.33,0.01,0.52,1200,1.1,null]]}}",
                                                 &html),
                          TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"choosing-k\""));
    CU_ASSERT_PTR_NULL(strstr(html, "fixed by the job"));
    free(html);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(ksweep_should_plot_every_criterion_and_mark_the_choice),
        TRIBE_TEST(ksweep_section_should_be_absent_for_a_fixed_k),
        {NULL, NULL}};
    return tribe_test_main("report_ksweep", cases);
}
