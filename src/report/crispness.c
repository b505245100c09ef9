/* report.html: how crisp the segments are (the mixture's memberships). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "How crisp are the segments": from the Gaussian mixture's memberships. */
tribe_status tribe_report_crispness(tribe_sbuf *b, const tribe_segments *s, const tribe_gmm *g,
                                    const tribe_gmm_crispness *cr)
{
    tribe_status st = TRIBE_OK;
    char cb[32], v1[48];
    TRIBE_TRY(tribe_html_section(b, "crispness", "Crispness", "How crisp are the segments"));
    double all = 0, sure = 0;
    int k = s->k < cr->k ? s->k : cr->k;
    for (int c = 0; c < k; c++)
        all += (double)cr->size[c], sure += (double)cr->crisp[c];
    OUT("<p class=\"lead\">A soft version of the segments (a Gaussian mixture started from them, %d rounds of "
        "refinement) gives every customer a probability of belonging to each segment. Overall, %.0f%% of "
        "customers belong to their own segment with more than %.0f%% probability; a low share means the segment "
        "shades into its neighbours, so its borderline customers may respond like the next segment.</p>\n",
        g->iterations, all > 0 ? 100 * sure / all : 0.0, 100 * cr->threshold);
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Segment</th><th>Customers</th>");
    OUT("<th>Sure members (&gt; %.0f%%)</th><th style=\"width:32%%\"></th><th>Mean top probability</th>"
        "<th>Most likely here</th></tr></thead><tbody>\n",
        100 * cr->threshold);
    for (int c = 0; c < k; c++) {
        double n = (double)cr->size[c], share = n > 0 ? (double)cr->crisp[c] / n : NAN;
        double ag = n > 0 ? (double)cr->agree[c] / n : NAN, mm = cr->mean_max[c];
        PUT("<tr>");
        TRIBE_TRY(report_seg_cell(b, s, c));
        OUT("<td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, n));
        if (isfinite(share))
            OUT("<td class=\"n\">%.0f%%</td><td><svg viewBox=\"0 0 200 14\" role=\"img\" aria-label=\"%.0f%%\">"
                "<rect x=\"0\" y=\"2\" width=\"200\" height=\"10\" rx=\"3\" fill=\"#eef0f3\"/>"
                "<rect x=\"0\" y=\"2\" width=\"%.1f\" height=\"10\" rx=\"3\" fill=\"%s\"/></svg></td>",
                100 * share, 100 * share, 200 * share, tribe_html_color(c, cb));
        else
            PUT("<td class=\"n\">&ndash;</td><td></td>");
        OUT("<td class=\"n\">%.2f</td><td class=\"n\">%.0f%%</td></tr>\n", mm, 100 * ag);
    }
    PUT("</tbody></table></div>\n<p class=\"note\">&ldquo;Sure members&rdquo;: customers whose probability of "
        "their own segment is above the threshold. &ldquo;Most likely here&rdquo;: customers whose most probable "
        "mixture component is their own segment. Probabilities per customer are in results.h5 "
        "(<code>/segments/membership</code>), the mixture in <code>/model/gmm</code>.</p></section>\n");
cleanup:
    return st;
}

