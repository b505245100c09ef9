/* Helpers shared by the report's HTML writers (report_internal.h). */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>

tribe_status report_esc(tribe_sbuf *b, const char *s)
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
const char *report_color(int c, char buf[32])
{
    static const char *const pal[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
    if (c >= 0 && c < 10)
        return pal[c];
    snprintf(buf, 32, "hsl(%d,55%%,48%%)", (int)fmod(137.508 * c, 360.0));
    return buf;
}

