/* report.html: key figures, "Segments at a glance" and the profiles. */
#include "report_internal.h"

#include "tribe/kruskal.h"
#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static tribe_status kpis(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char v1[48], v2[48], v3[48];
    PUT("<div class=\"kpis\">\n");
    tribe_fmt_count(v1, sizeof v1, (double)s->n_total);
    OUT("<div class=\"card kpi\"><div class=\"l\">Customers</div><div class=\"v\">%s</div>"
        "<div class=\"n\">in %d segment%s</div></div>\n", v1, s->k, s->k == 1 ? "" : "s");
    /* The segment that earns most per head: revenue share over size share. */
    int top = -1;
    for (int c = 0; c < s->k; c++)
        if (isfinite(s->seg[c].revenue_share) && s->seg[c].share > 0 &&
            (top < 0 || s->seg[c].revenue_share > s->seg[top].revenue_share))
            top = c;
    if (top >= 0) {
        tribe_fmt_pct(v1, sizeof v1, s->seg[top].revenue_share);
        tribe_fmt_pct(v2, sizeof v2, s->seg[top].share);
        PUT("<div class=\"card kpi\"><div class=\"l\">Top revenue segment</div><div class=\"v\">");
        ESC(s->seg[top].name);
        OUT("</div><div class=\"n\">%s of revenue from %s of customers</div></div>\n", v1, v2);
    }
    int mon = tribe_segments_feature(s, "monetary");
    if (mon >= 0 && isfinite(s->overall_median[mon])) {
        tribe_fmt_money(v1, sizeof v1, &s->currency, s->overall_median[mon]);
        tribe_fmt_money(v2, sizeof v2, &s->currency, s->overall_mean[mon]);
        OUT("<div class=\"card kpi\"><div class=\"l\">Median customer net spend</div><div class=\"v\">%s</div>"
            "<div class=\"n\">mean %s</div></div>\n", v1, v2);
    }
    int rec = tribe_segments_feature(s, "recency_days");
    if (rec >= 0 && isfinite(s->overall_median[rec])) {
        tribe_fmt_feature(v1, sizeof v1, &s->currency, "recency_days", s->overall_median[rec]);
        OUT("<div class=\"card kpi\"><div class=\"l\">Median days since last order</div><div class=\"v\">%s</div>"
            "<div class=\"n\">across all customers</div></div>\n", v1);
    }
    if (isfinite(s->silhouette)) {
        snprintf(v1, sizeof v1, "%.2f", s->silhouette);
        /* The interval only when it says something: measured, and not 0.00 at the shown precision. */
        if (isfinite(s->silhouette_ci) && s->silhouette_ci >= 0.005)
            snprintf(v3, sizeof v3, " &plusmn; %.2f", s->silhouette_ci);
        else
            v3[0] = '\0';
        OUT("<div class=\"card kpi\"><div class=\"l\">Segment separation</div><div class=\"v\">%s%s</div>"
            "<div class=\"n\">silhouette (&minus;1 to 1): %s in Kaufman &amp; Rousseeuw's bands</div></div>\n", v1, v3,
            report_silhouette_band(s->silhouette));
    }
    PUT("</div>\n");
cleanup:
    return st;
}

/* ---- segment size chart ------------------------------------------------------------- */

/* HTML bars rather than an SVG: the text stays text at any width (a scaled
 * SVG's labels shrink to nothing on a phone). A bar's length is its share
 * against the largest share shown, up to 70% of the track so its label fits
 * beside it. */
static tribe_status bar(tribe_sbuf *b, const char *cls, double frac, const char *col)
{
    tribe_status st = TRIBE_OK;
    OUT("<div class=\"bar%s\"><i style=\"width:%.1f%%;background:%s\"></i><span>", cls, fmax(70 * frac, 0.3), col);
cleanup:
    return st;
}

static tribe_status size_chart(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char cb[32], pc[32], cnt[48], rv[32];
    int has_rev = 0;
    double mx = 0;
    for (int c = 0; c < s->k; c++) {
        if (isfinite(s->seg[c].share) && s->seg[c].share > mx)
            mx = s->seg[c].share;
        if (isfinite(s->seg[c].revenue_share)) {
            has_rev = 1;
            if (s->seg[c].revenue_share > mx)
                mx = s->seg[c].revenue_share;
        }
    }
    if (mx <= 0)
        mx = 1;
    TRIBE_TRY(tribe_html_section(b, "glance", "At a glance", "Segments at a glance"));
    PUT("<p class=\"lead\">How many customers each segment holds");
    if (has_rev)
        PUT(", and how much of the revenue they bring in. A segment whose revenue bar is longer than its customer bar "
            "earns more than its share");
    PUT(".</p>\n<div class=\"card\"><div class=\"bars\" role=\"img\" aria-label=\"Segment sizes\">\n");
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        const char *col = tribe_html_color(c, cb);
        double sh = isfinite(g->share) ? g->share : 0;
        tribe_fmt_pct(pc, sizeof pc, g->share);
        tribe_fmt_count(cnt, sizeof cnt, (double)g->size);
        PUT("<div class=\"brow\" title=\"");
        ESC(g->name);
        OUT(": %s customers (%s)", cnt, pc);
        if (isfinite(g->revenue_share)) {
            tribe_fmt_pct(rv, sizeof rv, g->revenue_share);
            OUT(", %s of revenue", rv);
        }
        OUT("\"><div class=\"bn\"><span class=\"dot\" style=\"background:%s\"></span>", col);
        ESC(g->name);
        PUT("</div><div class=\"bt\">");
        TRIBE_TRY(bar(b, "", sh / mx, col));
        OUT("%s &middot; %s customers</span></div>", pc, cnt);
        if (has_rev && isfinite(g->revenue_share)) {
            TRIBE_TRY(bar(b, " rev", g->revenue_share / mx, col));
            OUT("%s of revenue</span></div>", rv);
        }
        PUT("</div></div>\n");
    }
    PUT("</div>\n");
    if (has_rev)
        PUT("<div class=\"legend\"><span><span class=\"sw\" style=\"background:#6b7280\"></span>Share of customers"
            "</span><span><span class=\"sw\" style=\"background:#6b7280;opacity:.38\"></span>Share of revenue</span>"
            "</div>\n");
    PUT("</div></section>\n");
cleanup:
    return st;
}

/* ---- profile table ------------------------------------------------------------------ */

/* Features where less is better: fewer days since the last order or
 * between orders. Their shading is inverted (the arrow still says above or
 * below). */
static int lower_is_better(const char *f)
{
    return strcmp(f, "recency_days") == 0 || strcmp(f, "mean_days_between") == 0;
}

/* Features defined only for customers with two or more orders. */
static int needs_two_orders(const char *f) { return strcmp(f, "mean_days_between") == 0; }

/* Highlight class of a segment figure against the base (median, else mean):
 * "hi" (teal) where it stands out for the better, "lo" (amber) for the
 * worse; *ratio the segment over the base, NaN when not comparable. */
static const char *stand_out(double seg_med, double base_med, double seg_mean, double base_mean, int lower_better,
                             double *ratio)
{
    static const char *const CLS[2][4] = {{"hi2", "hi1", "lo2", "lo1"}, {"lo2", "lo1", "hi2", "hi1"}};
    double a = seg_med, z = base_med;
    if (!(isfinite(a) && isfinite(z) && z > 0 && a >= 0)) {
        a = seg_mean;
        z = base_mean;
    }
    *ratio = NAN;
    if (!(isfinite(a) && isfinite(z) && z > 0 && a >= 0))
        return "";
    *ratio = a / z;
    const char *const *cls = CLS[lower_better != 0];
    if (*ratio >= 2.0)
        return cls[0];
    if (*ratio >= 1.33)
        return cls[1];
    if (*ratio <= 0.5)
        return cls[2];
    if (*ratio <= 0.75)
        return cls[3];
    return "";
}

/* 1 when the median customer of row c (s->k: all customers) has placed
 * fewer than two orders: a figure needing two orders is then undefined for
 * most of them (the stored 0 would read as "buys very often"). */
static int mostly_one_order(const tribe_segments *s, int c)
{
    int f = tribe_segments_feature(s, "frequency");
    if (f < 0)
        return 0;
    double med = c < s->k ? s->seg[c].median[f] : s->overall_median[f];
    return isfinite(med) && med < 2;
}

static tribe_status seg_header_cells(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char cb[32], cnt[48];
    for (int c = 0; c < s->k; c++) {
        OUT("<th><span class=\"dot\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
        ESC(s->seg[c].name);
        tribe_fmt_count(cnt, sizeof cnt, (double)s->seg[c].size);
        OUT("<span class=\"cnt\">%s customers</span></th>", cnt);
    }
    tribe_fmt_count(cnt, sizeof cnt, (double)s->n_total);
    OUT("<th>All customers<span class=\"cnt\">%s customers</span></th>", cnt);
cleanup:
    return st;
}

static double level_share(const tribe_segmix *mx, int row, int l)
{
    int64_t tot = 0;
    for (int q = 0; q < mx->n_levels; q++)
        tot += mx->count[(size_t)row * (size_t)mx->n_levels + (size_t)q];
    return tot > 0 ? (double)mx->count[(size_t)row * (size_t)mx->n_levels + (size_t)l] / (double)tot : NAN;
}

/* One categorical mix: a row per segment (and the base), a column per level,
 * the largest levels of the base first, at most MAX_LEVELS of them. */
#define MAX_LEVELS 6
static tribe_status mix_table(tribe_sbuf *b, const tribe_segments *s, const tribe_segmix *mx)
{
    tribe_status st = TRIBE_OK;
    char lab[128], pc[32], cb[32];
    int order[MAX_LEVELS], n = 0;
    /* Selection of the largest levels, ties to the first listed. */
    for (int l = 0; l < mx->n_levels; l++) {
        int64_t cl = mx->count[(size_t)s->k * (size_t)mx->n_levels + (size_t)l];
        int pos = n;
        while (pos > 0 && cl > mx->count[(size_t)s->k * (size_t)mx->n_levels + (size_t)order[pos - 1]])
            pos--;
        if (pos >= MAX_LEVELS)
            continue;
        if (n < MAX_LEVELS)
            n++;
        memmove(order + pos + 1, order + pos, (size_t)(n - 1 - pos) * sizeof *order);
        order[pos] = l;
    }
    PUT("<div class=\"card mix scroll\"><h3>");
    report_pretty_key(mx->name, lab, sizeof lab);
    ESC(lab);
    PUT("</h3><table><thead><tr><th>Segment</th>");
    for (int i = 0; i < n; i++) {
        PUT("<th>");
        ESC(mx->levels[order[i]]);
        PUT("</th>");
    }
    PUT("</tr></thead><tbody>\n");
    for (int c = 0; c <= s->k; c++) {
        if (c < s->k) {
            OUT("<tr><td class=\"f\"><span class=\"dot\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
            ESC(s->seg[c].name);
            PUT("</td>");
        } else
            PUT("<tr><td class=\"f base\">All customers</td>");
        for (int i = 0; i < n; i++) {
            double sh = level_share(mx, c, order[i]), base = level_share(mx, s->k, order[i]);
            const char *cls = "";
            if (c == s->k)
                cls = "base";
            else if (isfinite(sh) && isfinite(base) && sh - base >= 0.10)
                cls = sh - base >= 0.25 ? "hi2" : "hi1";
            else if (isfinite(sh) && isfinite(base) && base - sh >= 0.10)
                cls = base - sh >= 0.25 ? "lo2" : "lo1";
            OUT("<td class=\"%s\">%s</td>", cls, tribe_fmt_pct(pc, sizeof pc, sh));
        }
        PUT("</tr>\n");
    }
    if (mx->n_levels > n)
        OUT("<tr><td colspan=\"%d\" class=\"note\">%d smaller %s not shown</td></tr>\n", n + 1,
            mx->n_levels - n, mx->n_levels - n == 1 ? "category" : "categories");
    PUT("</tbody></table></div>\n");
cleanup:
    return st;
}

/* ---- are the segments different? (Kruskal-Wallis, docs/clustering.md) ---------------- */

/* The header cell of the test's column, when the run computed it. */
static tribe_status kw_head(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    if (s->kw)
        PUT("<th title=\"Kruskal-Wallis test across the segments\">Segments differ?<span class=\"cnt\">effect "
            "size &epsilon;&sup2;, H, Holm p</span></th>");
cleanup:
    return st;
}

/* Feature j's cell: epsilon^2 with its words, H and the Holm-adjusted p;
 * n/a with the reason where the test is undefined. */
static tribe_status kw_cell(tribe_sbuf *b, const tribe_segments *s, int j)
{
    tribe_status st = TRIBE_OK;
    const tribe_segtest *kw = s->kw;
    char pv[32];
    if (!kw)
        return TRIBE_OK;
    if (!isfinite(kw->h[j])) {
        OUT("<td class=\"na\">n/a<span class=\"m\">%s</span></td>",
            kw->k_used[j] < 2 ? "fewer than two segments with a value" : "every value equal");
        return TRIBE_OK;
    }
    double e = kw->eps2[j], p = kw->p_holm[j];
    const char *w = tribe_kw_magnitude(e);
    if (!(p >= 1e-300))
        snprintf(pv, sizeof pv, "&lt; 1e-300");
    else
        snprintf(pv, sizeof pv, "%.2g", p);
    /* a model feature (it has a centroid): the segments were formed on it */
    int formed = s->k > 0 && isfinite(s->seg[0].centroid[j]);
    OUT("<td class=\"%s\" title=\"epsilon squared = H / (n - 1), n = %lld; raw p %.3g\">%.3f %s%s",
        e >= 0.14 ? "hi1" : "", (long long)kw->n[j], kw->p[j], e, w, formed ? "&dagger;" : "");
    OUT("<span class=\"m\">H %.*f &middot; p %s</span></td>", kw->h[j] < 100 ? 2 : 0, kw->h[j], pv);
cleanup:
    return st;
}

/* The note under the table: what the column says and why p alone does not. */
static tribe_status kw_note(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    if (!s->kw)
        return TRIBE_OK;
    PUT("<p class=\"note\"><strong>Segments differ?</strong> For each feature, a Kruskal-Wallis test of whether the "
        "segments' values come from one distribution (ranks, so outliers and skew do not drive it; ties corrected). "
        "&epsilon;&sup2; = H / (n &minus; 1) is the share of the ranks' variation that the segments explain "
        "(Tomczak &amp; Tomczak 2014): negligible below 0.01, small from 0.01, medium from 0.06, large from 0.14 "
        "(Cohen's bands for &eta;&sup2;). The p-values are adjusted for testing every feature (Holm; the raw p is in "
        "each cell's tooltip). With thousands or millions of customers almost every p is tiny, so read the effect "
        "size: a tiny p with a negligible &epsilon;&sup2; means the segments hardly differ on that feature. "
        "&dagger; A feature the segments were formed on: they differ on it by construction, so there the test "
        "describes how far apart they lie rather than testing a question fixed in advance; the features without "
        "&dagger; are the fairer check.</p>\n");
cleanup:
    return st;
}

static tribe_status profile_table(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char lab[128], med[64], mean[64];
    TRIBE_TRY(tribe_html_section(b, "profiles", "Profiles", "What makes each segment different"));
    PUT("<p class=\"lead\">The typical (median) customer of each segment, with the mean below it. "
        "Arrows mark what stands out against all customers: &#9650; well above (&ge;1.33&times; the median), "
        "&#9660; well below (&le;0.75&times;); the shading says whether that is good news: <span class=\"sw\" "
        "style=\"background:#99f6e4\"></span>better, <span class=\"sw\" style=\"background:#fde68a\"></span>worse "
        "(darker from 2&times; or 0.5&times;). Fewer days since the last order or between orders is better. Days "
        "between orders needs two orders: where the median customer has only one, it shows n/a.</p>\n");
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Feature</th>");
    TRIBE_TRY(seg_header_cells(b, s));
    TRIBE_TRY(kw_head(b, s));
    PUT("</tr></thead><tbody>\n");
    if (s->d == 0)
        OUT("<tr><td colspan=\"%d\" class=\"note\">No numeric features in this run.</td></tr>\n", s->k + 2);
    for (int j = 0; j < s->d; j++) {
        const char *f = s->feature_names[j];
        PUT("<tr><td class=\"f\">");
        ESC(tribe_html_feature_label(f, lab, sizeof lab));
        PUT("</td>");
        int base_na = needs_two_orders(f) && mostly_one_order(s, s->k);
        for (int c = 0; c < s->k; c++) {
            if (needs_two_orders(f) && mostly_one_order(s, c)) {
                PUT("<td class=\"na\">n/a<span class=\"m\">one order</span></td>");
                continue;
            }
            double r;
            const char *cls = base_na ? "" : stand_out(s->seg[c].median[j], s->overall_median[j], s->seg[c].mean[j],
                                                       s->overall_mean[j], lower_is_better(f), &r);
            if (base_na)
                r = NAN;
            tribe_fmt_feature(med, sizeof med, &s->currency, f, s->seg[c].median[j]);
            tribe_fmt_feature(mean, sizeof mean, &s->currency, f, s->seg[c].mean[j]);
            OUT("<td class=\"%s\"", cls);
            if (isfinite(r))
                OUT(" title=\"%.2f&times; all customers\"", r);
            OUT(">%s", med);
            if (cls[0])
                OUT("<span class=\"ar\">%s</span>", r > 1 ? "&#9650;" : "&#9660;");
            OUT("<span class=\"m\">mean %s</span></td>", mean);
        }
        if (base_na) {
            PUT("<td class=\"base na\">n/a<span class=\"m\">one order</span></td>");
        } else {
            tribe_fmt_feature(med, sizeof med, &s->currency, f, s->overall_median[j]);
            tribe_fmt_feature(mean, sizeof mean, &s->currency, f, s->overall_mean[j]);
            OUT("<td class=\"base\">%s<span class=\"m\">mean %s</span></td>", med, mean);
        }
        TRIBE_TRY(kw_cell(b, s, j));
        PUT("</tr>\n");
    }
    PUT("</tbody></table>\n");
    TRIBE_TRY(kw_note(b, s));
    PUT("</div>\n");

    /* Categorical mixes: the share of each level per segment. */
    if (s->n_mix > 0) {
        PUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Who they are</h3>\n<p class=\"lead\">Share of each "
            "segment in every category; shading marks shares at least 10 points above or below all customers "
            "(darker from 25 points).</p>\n<div class=\"grid2\">\n");
        for (int m = 0; m < s->n_mix; m++)
            TRIBE_TRY(mix_table(b, s, &s->mix[m]));
        PUT("</div>\n");
    }
    PUT("</section>\n");
cleanup:
    return st;
}


tribe_status tribe_report_segments(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(kpis(b, s));
    TRIBE_TRY(size_chart(b, s));
    TRIBE_TRY(profile_table(b, s));
cleanup:
    return st;
}
