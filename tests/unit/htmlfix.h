/* Helpers for tests that read the report's HTML. Header-only, static. */
#ifndef TRIBE_TEST_HTMLFIX_H
#define TRIBE_TEST_HTMLFIX_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

/* The text of <section id="ID"> ... up to its </section> (caller frees);
 * fails the test when the section is missing. */
static char *html_section(const char *html, const char *id)
{
    char open[96];
    snprintf(open, sizeof open, "<section id=\"%s\">", id);
    const char *a = strstr(html, open);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *b = strstr(a, "</section>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    return strndup(a, (size_t)(b - a));
}

/* Occurrences of needle in hay (overlapping ones counted). */
static int html_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

#endif
