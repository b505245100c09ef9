/* report.html sections for the beyond-K-Means results (html_extras.h):
 * unusual customers (outliers), how crisp the segments are (Gaussian
 * mixture memberships) and how they nest (Ward dendrogram, inline SVG). Each
 * reads its object from the run record written by `tribe run`
 * (run_extras.c) and detaches it, so the run-details section does not repeat
 * it as a table. */
#include "html_extras.h"
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUT(...) TRIBE_TRY(tribe_sbuf_printf(b, __VA_ARGS__))
#define PUT(s) TRIBE_TRY(tribe_sbuf_add(b, (s)))
#define ESC(s) TRIBE_TRY(report_esc(b, (s)))

static double num_at(const cJSON *a, int i)
{
    const cJSON *x = cJSON_GetArrayItem(a, i);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static int is_list(const cJSON *a, int n)
{
    return cJSON_IsArray(a) && cJSON_GetArraySize(a) == n;
}

static tribe_status seg_cell(tribe_sbuf *b, const tribe_segments *s, int c)
{
    tribe_status st = TRIBE_OK;
    char cb[32];
    OUT("<td><span class=\"sw\" style=\"background:%s\"></span>", report_color(c, cb));
    ESC(s->seg[c].name);
    PUT("</td>");
cleanup:
    return st;
}

/* "Unusual customers": the outlier rule and the count per segment. */
static tribe_status outliers_section(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    char v1[48], v2[48];
    cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(run, "outliers");
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(o, "count");
    const cJSON *fence = cJSON_GetObjectItemCaseSensitive(o, "fence");
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(o, "threshold");
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(o, "total");
    if (!o)
        return TRIBE_OK;
    PUT("<section id=\"outliers\"><h2>Unusual customers</h2>\n");
    if (!is_list(cnt, s->k) || !is_list(fence, s->k) || !cJSON_IsNumber(thr) || !cJSON_IsNumber(tot)) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's outliers are malformed.</p></div></section>\n");
        goto cleanup;
    }
    tribe_fmt_count(v1, sizeof v1, tot->valuedouble);
    OUT("<p class=\"lead\">%s customers sit unusually far from the centre of their segment: further than the "
        "segment's third quartile of distances plus %g times its interquartile range (Tukey's far-out fence, "
        "judged per segment so a loose segment is not penalised for being loose). They are still in their "
        "segment, but check them before a campaign: they may be data errors, one-off bulk buyers or a niche of "
        "their own.</p>\n",
        v1, thr->valuedouble);
    PUT("<div class=\"card scroll\" style=\"max-width:760px\"><table><thead><tr><th>Segment</th><th>Customers</th>"
        "<th>Unusual</th><th>Share</th><th>Distance fence</th></tr></thead><tbody>\n");
    for (int c = 0; c < s->k; c++) {
        double n = num_at(cnt, c), f = num_at(fence, c);
        PUT("<tr>");
        TRIBE_TRY(seg_cell(b, s, c));
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
    cJSON_Delete(o);
    return st;
}

/* "How crisp are the segments": from the Gaussian mixture's memberships. */
static tribe_status crisp_section(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    char cb[32], v1[48];
    cJSON *g = cJSON_DetachItemFromObjectCaseSensitive(run, "gmm");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(g, "size");
    const cJSON *crisp = cJSON_GetObjectItemCaseSensitive(g, "crisp");
    const cJSON *agree = cJSON_GetObjectItemCaseSensitive(g, "agree");
    const cJSON *mmax = cJSON_GetObjectItemCaseSensitive(g, "mean_max");
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(g, "crisp_threshold");
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(g, "iterations");
    if (!g)
        return TRIBE_OK;
    PUT("<section id=\"crispness\"><h2>How crisp are the segments</h2>\n");
    if (!is_list(size, s->k) || !is_list(crisp, s->k) || !is_list(agree, s->k) || !is_list(mmax, s->k) ||
        !cJSON_IsNumber(thr) || !cJSON_IsNumber(it)) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's mixture summary is malformed.</p></div>"
            "</section>\n");
        goto cleanup;
    }
    double all = 0, sure = 0;
    for (int c = 0; c < s->k; c++)
        all += num_at(size, c), sure += num_at(crisp, c);
    OUT("<p class=\"lead\">A soft version of the segments (a Gaussian mixture started from them, %d rounds of "
        "refinement) gives every customer a probability of belonging to each segment. Overall, %.0f%% of "
        "customers belong to one segment with more than %.0f%% probability; a low share means the segment "
        "shades into its neighbours, so its borderline customers may respond like the next segment.</p>\n",
        (int)it->valuedouble, all > 0 ? 100 * sure / all : 0.0, 100 * thr->valuedouble);
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Segment</th><th>Customers</th>");
    OUT("<th>Sure members (&gt; %.0f%%)</th><th style=\"width:32%%\"></th><th>Mean top probability</th>"
        "<th>Most likely here</th></tr></thead><tbody>\n",
        100 * thr->valuedouble);
    for (int c = 0; c < s->k; c++) {
        double n = num_at(size, c), share = n > 0 ? num_at(crisp, c) / n : NAN;
        double ag = n > 0 ? num_at(agree, c) / n : NAN, mm = num_at(mmax, c);
        PUT("<tr>");
        TRIBE_TRY(seg_cell(b, s, c));
        OUT("<td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, n));
        if (isfinite(share))
            OUT("<td class=\"n\">%.0f%%</td><td><svg viewBox=\"0 0 200 14\" role=\"img\" aria-label=\"%.0f%%\">"
                "<rect x=\"0\" y=\"2\" width=\"200\" height=\"10\" rx=\"3\" fill=\"#eef0f3\"/>"
                "<rect x=\"0\" y=\"2\" width=\"%.1f\" height=\"10\" rx=\"3\" fill=\"%s\"/></svg></td>",
                100 * share, 100 * share, 200 * share, report_color(c, cb));
        else
            PUT("<td class=\"n\">&ndash;</td><td></td>");
        OUT("<td class=\"n\">%.2f</td><td class=\"n\">%.0f%%</td></tr>\n", mm, 100 * ag);
    }
    PUT("</tbody></table></div>\n<p class=\"note\">&ldquo;Most likely here&rdquo;: customers whose most probable "
        "mixture component is their own segment. Probabilities per customer are in results.h5 "
        "(<code>/segments/membership</code>), the mixture in <code>/model/gmm</code>.</p></section>\n");
cleanup:
    cJSON_Delete(g);
    return st;
}

/* Leaf order of the tree under node `id` (first child first). */
static void leaf_order(const int *ma, const int *mb, int k, int id, int *order, int *n)
{
    if (id < k) {
        order[(*n)++] = id;
        return;
    }
    leaf_order(ma, mb, k, ma[id - k], order, n);
    leaf_order(ma, mb, k, mb[id - k], order, n);
}

/* "How the segments nest": the Ward tree as a horizontal dendrogram. */
static tribe_status ward_section(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    char cb[32];
    int *ma = NULL, *mb = NULL, *order = NULL, *used = NULL;
    double *x = NULL, *y = NULL; /* per node id: height, row position */
    cJSON *w = cJSON_DetachItemFromObjectCaseSensitive(run, "ward");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(w, "merges");
    const cJSON *heights = cJSON_GetObjectItemCaseSensitive(w, "heights");
    int k = s->k, ok = 1;
    if (!w)
        return TRIBE_OK;
    PUT("<section id=\"nested\"><h2>How the segments nest</h2>\n");
    ok = k >= 2 && is_list(merges, k - 1) && is_list(heights, k - 1);
    if (ok) {
        TRIBE_TRY(tribe_calloc((void **)&ma, (size_t)k, sizeof *ma));
        TRIBE_TRY(tribe_calloc((void **)&mb, (size_t)k, sizeof *mb));
        TRIBE_TRY(tribe_calloc((void **)&order, (size_t)k, sizeof *order));
        TRIBE_TRY(tribe_calloc((void **)&x, 2 * (size_t)k, sizeof *x));
        TRIBE_TRY(tribe_calloc((void **)&y, 2 * (size_t)k, sizeof *y));
        TRIBE_TRY(tribe_calloc((void **)&used, 2 * (size_t)k, sizeof *used));
        for (int t = 0; t < k - 1 && ok; t++) {
            const cJSON *p = cJSON_GetArrayItem(merges, t);
            double a = num_at(p, 0), c = num_at(p, 1), h = num_at(heights, t);
            /* children exist before their parent (ids below k + t) and each
             * is joined once: then the tree has exactly k leaves */
            ok = is_list(p, 2) && a >= 0 && c >= 0 && a < k + t && c < k + t && a != c && isfinite(h) && h >= 0 &&
                 a == floor(a) && c == floor(c) && !used[(int)a] && !used[(int)c];
            if (ok) {
                used[(int)a] = used[(int)c] = 1;
                ma[t] = (int)a;
                mb[t] = (int)c;
                x[k + t] = h;
            }
        }
    }
    if (!ok) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's segment tree is malformed.</p></div></section>\n");
        goto cleanup;
    }
    int nl = 0;
    leaf_order(ma, mb, k, 2 * k - 2, order, &nl);
    if (nl != k) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's segment tree is malformed.</p></div></section>\n");
        goto cleanup;
    }
    PUT("<p class=\"lead\">Segments that behave alike join early (short branches); the last joins split the base "
        "into its broadest groups. Read it right to left to merge segments into fewer, larger audiences "
        "(Ward's method over the segment centres, weighted by segment size: each join is the one that loses "
        "the least homogeneity).</p>\n<div class=\"card\">\n");
    const double row = 30, L = 230, R = 30, T = 10, Bm = 44, W = 980;
    double H = T + row * k + Bm, pw = W - L - R, hmax = x[2 * k - 2] > 0 ? x[2 * k - 2] : 1;
    for (int i = 0; i < k; i++)
        y[order[i]] = T + row * (i + 0.5);
    for (int t = 0; t < k - 1; t++)
        y[k + t] = 0.5 * (y[ma[t]] + y[mb[t]]);
#define PX(h) (L + (h) / hmax * pw)
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Segment tree\">\n", W, H);
    for (int i = 0; i <= 4; i++) {
        double h = hmax * i / 4, px = PX(h);
        OUT("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eef0f3\"/>"
            "<text x=\"%.1f\" y=\"%.0f\" font-size=\"12\" fill=\"#6b7280\" text-anchor=\"middle\">%.3g</text>\n",
            px, T, px, T + row * k, px, T + row * k + 18, h);
    }
    OUT("<text x=\"%.1f\" y=\"%.0f\" font-size=\"13\" font-weight=\"600\" fill=\"#374151\" text-anchor=\"middle\">"
        "Ward distance at which the groups join</text>\n", L + pw / 2, H - 6);
    for (int i = 0; i < k; i++) {
        int c = order[i];
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" "
            "text-anchor=\"end\" fill=\"#1f2937\">", L, y[c], report_color(c, cb), L - 10, y[c] + 4);
        ESC(s->seg[c].name);
        PUT("</text>\n");
    }
    PUT("<g fill=\"none\" stroke=\"#1e3a5f\" stroke-width=\"1.6\">\n");
    for (int t = 0; t < k - 1; t++) {
        double px = PX(x[k + t]);
        OUT("<path d=\"M%.1f %.1fH%.1fV%.1fH%.1f\"/>\n", PX(x[ma[t]]), y[ma[t]], px, y[mb[t]], PX(x[mb[t]]));
    }
#undef PX
    PUT("</g>\n</svg>\n</div>\n<p class=\"note\">The tree is in results.h5 (<code>/model/ward</code>) as a scipy "
        "linkage matrix: <code>scipy.cluster.hierarchy.dendrogram</code> draws it directly.</p></section>\n");
cleanup:
    cJSON_Delete(w);
    free(ma);
    free(mb);
    free(order);
    free(used);
    free(x);
    free(y);
    return st;
}

tribe_status report_beyond_sections(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    if (!run)
        return TRIBE_OK;
    TRIBE_TRY(outliers_section(b, s, run));
    TRIBE_TRY(crisp_section(b, s, run));
    TRIBE_TRY(ward_section(b, s, run));
cleanup:
    return st;
}
