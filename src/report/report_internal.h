/* Internal to src/report (not a public header): helpers shared by the
 * segments.csv writer (csv.c) and the HTML report (html.c, html_extras.c).
 * Not collective. */
#ifndef TRIBE_REPORT_INTERNAL_H
#define TRIBE_REPORT_INTERNAL_H

#include "tribe/persona.h"
#include "tribe/sbuf.h"

/* Appends s to b with &, <, >, " and ' escaped for HTML text and attribute
 * values (NULL appends nothing). Returns NOMEM only. */
tribe_status report_esc(tribe_sbuf *b, const char *s);

/* The colour of segment c as CSS (buf is used beyond the palette). */
const char *report_color(int c, char buf[32]);

/* The persona of segment `id` among the k personas p (NULL when p is NULL or
 * none matches). Personas usually come in segment order, so p[c] (c = the
 * segment's index) is tried first and the scan only runs when they do not. */
static inline const tribe_persona *report_persona_of(const tribe_persona *p, int k, int c, int id)
{
    if (!p)
        return NULL;
    if (p[c].segment == id)
        return &p[c];
    for (int i = 0; i < k; i++)
        if (p[i].segment == id)
            return &p[i];
    return NULL;
}

#endif
