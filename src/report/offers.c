/* report.html: "What each segment buys more than the base" (the offers
 * stage, docs/offers.md): per segment of at least k_min customers the items
 * it buys more often than the average customer, with their support. */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <stdio.h>

tribe_status tribe_report_offers(tribe_sbuf *b, const tribe_segments *s, int categories, int64_t k_min)
{
    tribe_status st = TRIBE_OK;
    int hidden = 0;
    char v[48];
    const char *what = categories ? "category" : "product";
    TRIBE_TRY(tribe_html_section(b, "offers", "What to offer", "What each segment buys more than the base"));
    OUT("<p class=\"lead\">Per segment, the %s its customers buy more often than the average customer: "
        "<em>lift</em> = share of the segment's customers who bought it / share of all customers who did "
        "(2.0&times; = twice as often). Only %s bought by enough of the segment count (docs/offers.md).</p>\n",
        categories ? "categories" : "products", categories ? "categories" : "products");
    OUT("<div class=\"card scroll\" style=\"max-width:960px\"><table><thead><tr><th>Segment</th><th>Customers</th>"
        "<th>%s</th><th>Lift</th><th>Bought it (segment)</th><th>Bought it (all)</th><th>Buyers</th></tr>"
        "</thead><tbody>\n",
        categories ? "Category" : "Product");
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        if (g->size < k_min) { /* aggregates of small segments stay out (persona.k_min) */
            hidden++;
            continue;
        }
        int rows = g->n_offers > 0 ? g->n_offers : 1;
        for (int q = 0; q < rows; q++) {
            PUT("<tr>");
            if (q == 0) {
                TRIBE_TRY(report_seg_cell(b, s, c));
                OUT("<td class=\"n\">%s</td>", tribe_fmt_count(v, sizeof v, (double)g->size));
            } else {
                PUT("<td></td><td></td>");
            }
            if (g->n_offers == 0) {
                OUT("<td colspan=\"5\">no %s passes the support thresholds</td></tr>\n", what);
                continue;
            }
            const tribe_segoffer *o = &g->offer[q];
            PUT("<td>");
            ESC(o->name);
            OUT("</td><td class=\"n\">%.1f&times;</td><td class=\"n\">%.1f%%</td><td class=\"n\">%.1f%%</td>"
                "<td class=\"n\">%s</td></tr>\n",
                o->lift, 100.0 * o->share, 100.0 * o->base_share,
                tribe_fmt_count(v, sizeof v, (double)o->customers));
        }
    }
    PUT("</tbody></table></div>\n");
    if (hidden > 0)
        OUT("<p class=\"note\">%d segment%s with fewer than %lld customers (persona.k_min) %s not shown "
            "individually.</p>\n",
            hidden, hidden > 1 ? "s" : "", (long long)k_min, hidden > 1 ? "are" : "is");
    PUT("</section>\n");
cleanup:
    return st;
}
