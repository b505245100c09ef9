/* Helpers for tests that read the report's HTML. Header-only, static. */
#ifndef TRIBE_TEST_HTMLFIX_H
#define TRIBE_TEST_HTMLFIX_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "tribe/report.h"

/* The text of <section id="ID" ...> ... up to its </section> (caller frees);
 * fails the test when the section is missing. */
__attribute__((unused)) static char *html_section(const char *html, const char *id)
{
    char open[96];
    snprintf(open, sizeof open, "<section id=\"%s\"", id);
    const char *a = strstr(html, open);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *b = strstr(a, "</section>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    return strndup(a, (size_t)(b - a));
}

/* Occurrences of needle in hay (overlapping ones counted). */
__attribute__((unused)) static int html_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

/* The whole page around sections (caller frees): run id "r1", timings. */
__attribute__((unused)) static char *page_html(const tribe_segments *s, const char *sections)
{
    tribe_rec *rec = NULL, *t = NULL;
    char *html = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_rec_create(&rec), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_rec_str(rec, "run_id", "r1"), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_rec_obj(rec, "timings", &t), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_rec_num(t, "kmeans", 1.5), TRIBE_OK);
    tribe_report_page page = {s, rec, sections};
    CU_ASSERT_EQUAL_FATAL(tribe_report_html(&page, &html), TRIBE_OK);
    tribe_rec_destroy(&rec);
    return html;
}

#endif
