/* report.html: unusual customers (the per-segment outlier rule). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "Unusual customers": the outlier rule and the count per segment. */
tribe_status tribe_report_outliers(tribe_sbuf *b, const tribe_segments *s, const tribe_outliers *o)
{
    tribe_status st = TRIBE_OK;
    char v1[48], v2[48];
    TRIBE_TRY(tribe_html_section(b, "outliers", "Unusual customers", "Unusual customers"));
    tribe_fmt_count(v1, sizeof v1, (double)o->total);
    OUT("<p class=\"lead\">%s customers sit unusually far from the centre of their segment: further than the "
        "segment's third quartile of distances plus %g times its interquartile range (Tukey's far-out fence, "
        "judged per segment so a loose segment is not penalised for being loose). They are still in their "
        "segment, but check them before a campaign: they may be data errors, one-off bulk buyers or a niche of "
        "their own.</p>\n",
        v1, o->threshold);
    PUT("<div class=\"card scroll\" style=\"max-width:760px\"><table><thead><tr><th>Segment</th><th>Customers</th>"
        "<th>Unusual</th><th>Share</th><th>Distance fence</th></tr></thead><tbody>\n");
    for (int c = 0; c < s->k && c < o->k; c++) {
        double n = (double)o->count[c], f = o->fence[c];
        PUT("<tr>");
        TRIBE_TRY(report_seg_cell(b, s, c));
        OUT("<td class=\"n\">%s</td><td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)s->seg[c].size),
            tribe_fmt_count(v2, sizeof v2, n));
        double pct = s->seg[c].size > 0 ? 100.0 * n / (double)s->seg[c].size : NAN;
        if (isfinite(pct))
            OUT("<td class=\"n\">%.*f%%</td>", pct > 0 && pct < 1 ? 2 : 1, pct);
        else
            PUT("<td class=\"n\">&ndash;</td>");
        if (isfinite(f))
            OUT("<td class=\"n\">%.3g</td></tr>\n", f);
        else
            PUT("<td class=\"n\">no spread</td></tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">Per-customer flags and scores are in results.h5 "
        "(<code>/segments/outlier</code>, <code>/segments/outlier_score</code>: how many interquartile ranges "
        "past the third quartile).</p></section>\n");
cleanup:
    return st;
}

