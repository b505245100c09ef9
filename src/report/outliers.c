/* report.html: unusual customers (the per-segment outlier rule, or DBSCAN
 * noise with outliers.method "dbscan"). */
#include "report_internal.h"

#include "tribe/dbscan.h"
#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A segment's row up to its share: "<tr>", the segment, its customers, n
 * flagged and their share of it (the caller adds its cells and "</tr>"). */
static tribe_status count_cells(tribe_sbuf *b, const tribe_segments *s, int c, int64_t count)
{
    tribe_status st = TRIBE_OK;
    char v1[48], v2[48];
    double n = (double)count;
    PUT("<tr>");
    TRIBE_TRY(report_seg_cell(b, s, c));
    OUT("<td class=\"n\">%s</td><td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)s->seg[c].size),
        tribe_fmt_count(v2, sizeof v2, n));
    double pct = s->seg[c].size > 0 ? 100.0 * n / (double)s->seg[c].size : NAN;
    if (isfinite(pct))
        OUT("<td class=\"n\">%.*f%%</td>", pct > 0 && pct < 1 ? 2 : 1, pct);
    else
        PUT("<td class=\"n\">&ndash;</td>");
cleanup:
    return st;
}

/* The DBSCAN variant: the method and its parameters, then noise per segment. */
static tribe_status report_dbscan(tribe_sbuf *b, const tribe_segments *s, const tribe_outliers *o)
{
    tribe_status st = TRIBE_OK;
    const tribe_dbscan *db = o->dbscan;
    char v1[48], v2[48], v3[48];
    tribe_fmt_count(v1, sizeof v1, (double)o->total);
    tribe_fmt_count(v2, sizeof v2, (double)db->m);
    tribe_fmt_count(v3, sizeof v3, (double)db->n_core);
    OUT("<p class=\"lead\">%s customers are <em>noise</em> to DBSCAN: no dense region of customers reaches them. "
        "Method <code>dbscan</code> on %s sampled customers: a sampled customer is a core point when at least "
        "min_samples = %d sampled customers (itself included) lie within eps = %.4g of it (model space); %s core "
        "points form %d dense region%s. Every customer within eps of a core point belongs to the nearest core "
        "point's region; the others are flagged, whatever their segment. ",
        v1, v2, db->min_samples, db->eps, v3, db->n_clusters, db->n_clusters == 1 ? "" : "s");
    if (db->eps_from_knee)
        PUT("eps was taken at the knee of the sorted k-distance curve (k = min_samples; the point furthest below "
            "the chord). ");
    else
        PUT("eps was given in the job spec. ");
    PUT("They are still in their segment, but check them before a campaign: they may be data errors, one-off bulk "
        "buyers or a niche of their own.</p>\n");
    PUT("<div class=\"card scroll\" style=\"max-width:620px\"><table><thead><tr><th>Segment</th><th>Customers</th>"
        "<th>Noise</th><th>Share</th></tr></thead><tbody>\n");
    for (int c = 0; c < s->k && c < o->k; c++) {
        TRIBE_TRY(count_cells(b, s, c, o->count[c]));
        PUT("</tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">Per-customer flags and scores are in results.h5 "
        "(<code>/segments/outlier</code>, <code>/segments/outlier_score</code>: distance to the nearest core point "
        "in units of eps, above 1 for noise), each customer's DBSCAN region in "
        "<code>/model/outliers/dbscan_cluster</code> (-1 = noise).</p></section>\n");
cleanup:
    return st;
}

/* "Unusual customers": the outlier rule and the count per segment. */
tribe_status tribe_report_outliers(tribe_sbuf *b, const tribe_segments *s, const tribe_outliers *o)
{
    tribe_status st = TRIBE_OK;
    char v1[48];
    TRIBE_TRY(tribe_html_section(b, "outliers", "Unusual customers", "Unusual customers"));
    if (o->dbscan)
        return report_dbscan(b, s, o);
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
        double f = o->fence[c];
        TRIBE_TRY(count_cells(b, s, c, o->count[c]));
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

