/* Unit tests for the report's "Unusual customers", "How crisp are the
 * segments" and "How the segments nest" sections (src/report/html_extras.c),
 * fed by the run record's "outliers", "gmm" and "ward" objects. */
#include <stdlib.h>
#include <string.h>

#include "htmlfix.h"
#include "segfix.h"
#include "testutil.h"
#include "tribe/report.h"

/* FIX_K = 5 segments. Segment 4 has no spread (fence null). Ward: (3,4) at 1,
 * (0,1) at 2, (2,5) at 3, (6,7) at 5. */
static const char RUN[] =
    "{\"run_id\":\"r1\",\"timings\":{\"kmeans\":1.5},"
    "\"outliers\":{\"method\":\"iqr\",\"threshold\":3,\"total\":7,\"count\":[1,0,2,4,0],"
    "\"fence\":[3.5,4,2.25,1.5,null]},"
    "\"gmm\":{\"iterations\":12,\"converged\":true,\"loglik\":-3.5,\"em_rows\":1000,\"crisp_threshold\":0.9,"
    "\"size\":[100,200,300,200,200],\"crisp\":[50,200,150,100,0],\"agree\":[90,200,300,100,20],"
    "\"mean_max\":[0.8,1,0.9,0.75,0.5],\"weights\":[0.1,0.2,0.3,0.2,0.2]},"
    "\"ward\":{\"merges\":[[3,4],[0,1],[2,5],[6,7]],\"heights\":[1,2,3,5],\"sizes\":[400,300,600,1000]}}";

static void beyond_sections_should_show_outliers_crispness_and_tree(void)
{
    const char *names[FIX_K] = {"Champions", "Big <Spenders>", NULL, NULL, NULL};
    tribe_segments *s = fixture_segments_named(names);
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, RUN, &html), TRIBE_OK);
    char *o = html_section(html, "outliers"), *c = html_section(html, "crispness"), *w = html_section(html, "nested");
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "7 customers sit unusually far"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "plus 3 times"));
    CU_ASSERT_EQUAL(html_count(o, "<tr>"), 1 + FIX_K);
    CU_ASSERT_PTR_NOT_NULL(strstr(o, ">no spread<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, ">2.25<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "Big &lt;Spenders&gt;"));
    /* 500 of 1000 sure members overall; Champions 50% with a 100px bar */
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "Overall, 50% of customers"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "12 rounds"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "width=\"100.0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, ">0.80<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, ">90%<"));
    CU_ASSERT_EQUAL(html_count(c, "<tr>"), 1 + FIX_K);
    /* one elbow per merge, a leaf label per segment; leaves in tree order:
     * root (6,7) -> 6 = (0,1), 7 = (2,5) -> 2, 5 = (3,4) */
    CU_ASSERT_EQUAL(html_count(w, "<path "), FIX_K - 1);
    CU_ASSERT_EQUAL(html_count(w, "<circle "), FIX_K);
    const char *p0 = strstr(w, s->seg[0].name), *p1 = strstr(w, "Big &lt;Spenders&gt;"),
               *p2 = strstr(w, s->seg[2].name), *p3 = strstr(w, s->seg[3].name), *p4 = strstr(w, s->seg[4].name);
    CU_ASSERT(p0 && p1 && p2 && p3 && p4 && p0 < p1 && p1 < p2 && p2 < p3 && p3 < p4);
    /* not repeated in the run details */
    CU_ASSERT_PTR_NULL(strstr(html, "Crisp threshold"));
    CU_ASSERT_PTR_NULL(strstr(html, "Em rows"));
    free(o);
    free(c);
    free(w);
    free(html);
    tribe_segments_destroy(&s);
}

static void beyond_sections_should_be_absent_or_say_malformed(void)
{
    tribe_segments *s = fixture_segments();
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, "{\"run_id\":\"r\"}", &html), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(html, "<section id=\"outliers\">"));
    CU_ASSERT_PTR_NULL(strstr(html, "<section id=\"crispness\">"));
    CU_ASSERT_PTR_NULL(strstr(html, "<section id=\"nested\">"));
    free(html);
    /* wrong lengths, a child that does not exist yet, a cycle */
    static const char *const bad[] = {
        "{\"outliers\":{\"threshold\":3,\"total\":1,\"count\":[1],\"fence\":[1]}}",
        "{\"gmm\":{\"iterations\":1,\"crisp_threshold\":0.9,\"size\":[1],\"crisp\":[1],\"agree\":[1],\"mean_max\":[1]}}",
        "{\"ward\":{\"merges\":[[0,1],[2,6],[3,4],[7,8]],\"heights\":[1,2,3,4]}}",
        "{\"ward\":{\"merges\":[[0,1],[1,2],[3,4],[6,7]],\"heights\":[1,2,3,4]}}",
        "{\"ward\":{\"merges\":[[0,1],[0,5],[5,6],[6,7]],\"heights\":[1,2,3,4]}}",
    };
    static const char *const id[] = {"outliers", "crispness", "nested", "nested", "nested"};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL_FATAL(tribe_report_html_text(s, NULL, NULL, bad[i], &html), TRIBE_OK);
        char *sec = html_section(html, id[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(sec, "malformed"));
        free(sec);
        free(html);
    }
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(beyond_sections_should_show_outliers_crispness_and_tree),
        TRIBE_TEST(beyond_sections_should_be_absent_or_say_malformed),
        {NULL, NULL}};
    return tribe_test_main("report_beyond", cases);
}
