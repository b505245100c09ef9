/* Building blocks of the report's sections (tribe/report.h,
 * report_internal.h). */
#include "report_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

tribe_status tribe_html_esc(tribe_sbuf *b, const char *s)
{
    tribe_status st = TRIBE_OK;
    if (!s)
        return TRIBE_OK;
    const char *run = s;
    for (const char *q = s;; q++) {
        const char *rep = NULL;
        switch (*q) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep || *q == '\0') {
            TRIBE_TRY(tribe_sbuf_addn(b, run, (size_t)(q - run)));
            if (!rep)
                break;
            TRIBE_TRY(tribe_sbuf_add(b, rep));
            run = q + 1;
        }
    }
cleanup:
    return st;
}

/* Tableau 10: distinguishable, print-safe, familiar to analysts. Beyond ten
 * segments, hues step by the golden angle so neighbours stay apart. */
const char *tribe_html_color(int c, char buf[32])
{
    static const char *const pal[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
    if (c >= 0 && c < 10)
        return pal[c];
    snprintf(buf, 32, "hsl(%d,55%%,48%%)", (int)fmod(137.508 * c, 360.0));
    return buf;
}


const char *tribe_html_feature_label(const char *f, char *buf, size_t cap)
{
    static const char *const known[][2] = {
        {"recency_days", "Days since last order"}, {"frequency", "Orders"},
        {"monetary", "Net spend (after returns)"}, {"avg_order_value", "Average order value"},
        {"tenure_days", "Days since first order"}, {"mean_days_between", "Days between orders"},
        {"distinct_products", "Different products"}, {"sessions", "Site visits"},
        {"pages_per_session", "Pages per visit"},  {"minutes_on_site", "Minutes on site"},
        {"age", "Age"},                            {"gross_monetary", "Spend before returns"},
        {"return_count", "Lines returned"},        {"return_value", "Money returned"},
        {"return_rate", "Share of spend returned"}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(f, known[i][0]) == 0)
            return known[i][1];
    snprintf(buf, cap, "%s", f);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
    return buf;
}

const char *report_silhouette_band(double sil)
{
    if (sil > 0.70)
        return "strong structure (above 0.70)";
    if (sil > 0.50)
        return "reasonable structure (0.51 to 0.70)";
    if (sil > 0.25)
        return "weak structure, could be artificial (0.26 to 0.50)";
    return "no substantial structure (0.25 or below)";
}

void report_pretty_key(const char *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", k);
    for (char *p = buf; *p; p++)
        if (*p == '_' || *p == '.')
            *p = ' ';
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
}

tribe_status tribe_html_section(tribe_sbuf *b, const char *id, const char *nav, const char *title)
{
    tribe_status st = TRIBE_OK;
    OUT("<section id=\"%s\" data-nav=\"", id);
    ESC(nav);
    PUT("\"><h2>");
    ESC(title);
    PUT("</h2>\n");
cleanup:
    return st;
}

tribe_status report_seg_cell(tribe_sbuf *b, const tribe_segments *s, int c)
{
    tribe_status st = TRIBE_OK;
    char cb[32];
    OUT("<td><span class=\"sw\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
    ESC(s->seg[c].name);
    PUT("</td>");
cleanup:
    return st;
}

int report_entry_of(const void *arr, size_t size, size_t off, int k, int c, int id)
{
    const char *a = arr;
    if (!a)
        return -1;
    if (c >= 0 && c < k && *(const int *)(a + (size_t)c * size + off) == id)
        return c;
    for (int i = 0; i < k; i++)
        if (*(const int *)(a + (size_t)i * size + off) == id)
            return i;
    return -1;
}
