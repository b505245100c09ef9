/* report.html: the campaign plan. */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- campaign plan --------------------------------------------------------------------------- */

/* The recommended campaign of every segment and the arithmetic behind its
 * expected value. */
tribe_status tribe_report_campaign(tribe_sbuf *b, const tribe_segments *s, const tribe_campaign_plan *plan)
{
    tribe_status st = TRIBE_OK;
    char cb[32], v1[64], v2[64], v3[64];
    if (!plan)
        return TRIBE_OK;
    TRIBE_TRY(tribe_html_section(b, "campaigns", "Campaigns", "Campaign plan"));
    PUT("<p class=\"lead\">The recommended campaign per segment, from its RFM status, value and device mix "
        "(rules in docs/campaigns.md; a job overrides them with <code>campaign.rules</code>). Expected value = "
        "customers &times; assumed response rate &times; order value (the segment's mean predicted "
        "lifetime value when the run fitted the LTV model, else mean monetary / mean frequency; see each "
        "row's basis in campaign_plan.csv): the revenue of one wave if that share of the segment orders once more. Response rates are planning "
        "assumptions, not measurements.</p>\n");
    PUT("<div class=\"card scroll\"><table><thead><tr><th>#</th><th>Segment</th><th>Customers</th><th>Campaign</th>"
        "<th>Channel</th><th>Tone</th><th>Timing</th><th>Response</th><th>Order value</th><th>Expected value</th>"
        "</tr></thead><tbody>\n");
    for (int c = 0; c < s->k; c++) {
        const tribe_campaign_plan *r = &plan[c];
        OUT("<tr><td class=\"n\">%d</td><td><span class=\"sw\" style=\"background:%s\"></span>", r->priority,
            tribe_html_color(c, cb));
        ESC(r->segment_name);
        OUT("</td><td class=\"n\">%s</td><td>", tribe_fmt_count(v1, sizeof v1, (double)r->size));
        ESC(r->campaign);
        PUT("</td><td>");
        ESC(r->channel);
        PUT("<span class=\"m\">");
        ESC(r->channel_basis);
        PUT("</span></td><td>");
        ESC(r->tone);
        PUT("</td><td>");
        ESC(r->timing);
        OUT("</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
            tribe_fmt_pct(v1, sizeof v1, r->response_rate), tribe_fmt_money(v2, sizeof v2, &s->currency, r->order_value),
            tribe_fmt_money(v3, sizeof v3, &s->currency, r->expected_value));
    }
    PUT("</tbody></table></div>\n<p class=\"note\"># = priority by expected value. The same rows are in "
        "campaign_plan.csv; <code>tribe campaign send</code> dispatches one segment's campaign.</p></section>\n");
cleanup:
    return st;
}

