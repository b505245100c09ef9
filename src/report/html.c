/* report.html: one self-contained page for the marketer (tribe/report.h).
 *
 * Everything is generated here: inline CSS, inline SVG charts, no scripts and
 * no external references, so the file opens offline, from an e-mail
 * attachment or a shared drive, and looks the same everywhere. Every piece
 * of text from the data (segment, level, feature and persona text, run facts)
 * goes through report_esc() (html_util.c). */
#include "tribe/campaign.h"
#include "tribe/numfmt.h"
#include "tribe/report.h"
#include "tribe/sbuf.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html_extras.h"
#include "report_internal.h"

#define MAX_POINTS 3000

/* Appends to `b`; on failure jumps to the function's cleanup. */
#define OUT(...) TRIBE_TRY(tribe_sbuf_printf(b, __VA_ARGS__))
#define PUT(s) TRIBE_TRY(tribe_sbuf_add(b, (s)))
#define ESC(s) TRIBE_TRY(report_esc(b, (s)))

/* "recency_days" -> a label a marketer reads. */
static const char *feature_label(const char *f, char *buf, size_t cap)
{
    static const char *const known[][2] = {
        {"recency_days", "Days since last order"}, {"frequency", "Orders"},
        {"monetary", "Total spend"},               {"avg_order_value", "Average order value"},
        {"tenure_days", "Days since first order"}, {"mean_days_between", "Days between orders"},
        {"distinct_products", "Different products"}, {"sessions", "Site visits"},
        {"pages_per_session", "Pages per visit"},  {"minutes_on_site", "Minutes on site"},
        {"age", "Age"}};
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

/* ---- style -------------------------------------------------------------------- */

static const char CSS[] =
    ":root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f6f9;--card:#fff;--navy:#1e2a44;"
    "--hi:#0f766e;--hi-bg:#ccfbf1;--hi-bg2:#99f6e4;--lo:#b45309;--lo-bg:#fef3c7;--lo-bg2:#fde68a}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"Helvetica Neue\",Arial,sans-serif;-webkit-font-smoothing:antialiased}\n"
    ".wrap{max-width:1180px;margin:0 auto;padding:0 28px}\n"
    "header.top{background:linear-gradient(135deg,#1e2a44 0%,#2d4373 100%);color:#fff;padding:34px 0 26px}\n"
    ".brand{font-size:12px;letter-spacing:.18em;text-transform:uppercase;opacity:.7;font-weight:600}\n"
    "h1{font-size:30px;line-height:1.2;margin:6px 0 6px;font-weight:700;letter-spacing:-.01em}\n"
    ".sub{margin:0;opacity:.85;font-size:15px}\n"
    ".facts{display:flex;flex-wrap:wrap;gap:8px 10px;margin:20px 0 0;padding:0}\n"
    ".facts div{background:rgba(255,255,255,.1);border:1px solid rgba(255,255,255,.16);border-radius:8px;"
    "padding:6px 12px;font-size:13px}\n"
    ".facts dt{display:inline;opacity:.7;margin-right:6px}.facts dd{display:inline;margin:0;font-weight:600}\n"
    "nav.toc{background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}\n"
    "nav.toc .wrap{display:flex;gap:22px;overflow-x:auto}\n"
    "nav.toc a{color:var(--muted);text-decoration:none;font-size:13px;font-weight:600;padding:12px 0;"
    "white-space:nowrap;border-bottom:2px solid transparent}\n"
    "nav.toc a:hover{color:var(--ink);border-bottom-color:var(--navy)}\n"
    "section{margin:34px 0}\n"
    "h2{font-size:21px;margin:0 0 4px;letter-spacing:-.005em}\n"
    ".lead{color:var(--muted);margin:0 0 16px;max-width:820px}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 22px;"
    "box-shadow:0 1px 2px rgba(16,24,40,.04)}\n"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:14px;margin-top:26px}\n"
    ".kpi .v{font-size:26px;font-weight:700;letter-spacing:-.01em}\n"
    ".kpi .l{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.06em;font-weight:600}\n"
    ".kpi .n{color:var(--muted);font-size:13px;margin-top:2px}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;color:var(--muted);margin:6px 0 0}\n"
    ".sw{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:6px;vertical-align:-1px}\n"
    ".dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:7px;vertical-align:0}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:14px}\n"
    "th,td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}\n"
    "th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em;"
    "background:#fafbfc}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "td.f{font-weight:600;white-space:nowrap}\n"
    "th .cnt{display:block;text-transform:none;letter-spacing:0;font-weight:500}\n"
    "td .m{display:block;color:var(--muted);font-size:12px}\n"
    "td.base{background:#f8fafc}\n"
    "td.hi1{background:var(--hi-bg)}td.hi2{background:var(--hi-bg2)}\n"
    "td.lo1{background:var(--lo-bg)}td.lo2{background:var(--lo-bg2)}\n"
    ".ar{font-size:10px;margin-left:4px}.hi1 .ar,.hi2 .ar{color:var(--hi)}.lo1 .ar,.lo2 .ar{color:var(--lo)}\n"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}\n"
    ".mix h3{font-size:15px;margin:0 0 8px}\n"
    ".personas{display:grid;grid-template-columns:repeat(auto-fit,minmax(500px,1fr));gap:18px}\n"
    ".persona{border-top:5px solid var(--c);padding:0;overflow:hidden}\n"
    ".persona .in{padding:20px 22px}\n"
    ".ph{display:flex;gap:14px;align-items:center}\n"
    ".avatar{flex:none;width:54px;height:54px;border-radius:50%;background:var(--c);color:#fff;display:flex;"
    "align-items:center;justify-content:center;font-weight:700;font-size:19px;letter-spacing:.02em}\n"
    ".seg{font-size:12px;font-weight:700;color:var(--c);text-transform:uppercase;letter-spacing:.06em;"
    "filter:brightness(.8)}\n"
    ".persona h3{margin:1px 0 0;font-size:20px}\n"
    ".meta{color:var(--muted);font-size:14px}\n"
    ".tagline{font-size:17px;font-weight:600;margin:14px 0 8px;color:var(--navy)}\n"
    ".bio{margin:0 0 12px}\n"
    ".stats{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin:16px 0 4px}\n"
    ".stats div{background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:7px 10px}\n"
    ".stats b{display:block;font-size:17px}.stats span{font-size:12px;color:var(--muted)}\n"
    ".persona h4{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:14px 0 6px}\n"
    ".two{display:grid;grid-template-columns:1fr 1fr;gap:18px}\n"
    ".two ul{margin:0;padding-left:18px}.two li{margin:3px 0}\n"
    ".chips{display:flex;flex-wrap:wrap;gap:6px}\n"
    ".chips span{background:#eef2f7;border:1px solid #dde3ec;border-radius:999px;padding:3px 11px;font-size:13px}\n"
    "blockquote{margin:16px 0 4px;padding:10px 16px;border-left:4px solid var(--c);background:#f8fafc;"
    "font-style:italic;color:#374151;border-radius:0 8px 8px 0}\n"
    ".email{margin-top:14px;border:1px solid var(--line);border-radius:10px;overflow:hidden}\n"
    ".email .eh{background:#f8fafc;padding:9px 14px;border-bottom:1px solid var(--line);font-size:14px}\n"
    ".email .eh b{color:var(--muted);font-weight:600;margin-right:8px;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.05em}\n"
    ".email .eb{padding:12px 14px;white-space:pre-line;font-size:14px}\n"
    "details{margin-top:12px;font-size:13px;color:var(--muted)}summary{cursor:pointer;font-weight:600}\n"
    ".prov{font-size:12px;color:var(--muted);margin:12px 0 0}\n"
    ".camp{border:1px solid var(--line);border-left:4px solid var(--c);border-radius:8px;padding:9px 14px;"
    "font-size:14px}\n"
    ".camp dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:6px 0 0}"
    ".camp dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}.camp dd{margin:0}\n"
    ".m{color:var(--muted);font-size:12px}\n"
    "ul.ev{margin:0;padding-left:18px;font-size:13px}ul.ev li{margin:2px 0}ul.ev code{font-size:11px;"
    "color:var(--muted)}.bad{color:#b91c1c}\n"
    ".pimg{display:block;width:100%;max-height:320px;object-fit:cover;border-radius:8px;margin:14px 0 0}\n"
    ".note{color:var(--muted);font-style:italic}\n"
    "table.kv td{text-align:left}table.kv td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td,th{font-variant-numeric:tabular-nums}\n"
    "footer{border-top:1px solid var(--line);color:var(--muted);font-size:13px;padding:22px 0 40px;margin-top:40px}\n"
    "@media print{nav.toc{display:none}.card{box-shadow:none}section{break-inside:avoid}}\n";

/* ---- run facts (run_json) -------------------------------------------------------- */

static void pretty_key(const char *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", k);
    for (char *p = buf; *p; p++)
        if (*p == '_' || *p == '.')
            *p = ' ';
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
}

static void json_scalar(const cJSON *v, char *buf, size_t cap, int seconds)
{
    if (cJSON_IsString(v))
        snprintf(buf, cap, "%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "yes" : "no");
    else if (cJSON_IsNull(v))
        snprintf(buf, cap, "-");
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (seconds)
            snprintf(buf, cap, "%.2f s", d);
        else if (fabs(d) < 1e15 && d == floor(d))
            tribe_fmt_count(buf, cap, d);
        else
            snprintf(buf, cap, "%.4g", d);
    } else
        snprintf(buf, cap, "%s", cJSON_IsArray(v) ? "[list]" : "{...}");
}

/* A JSON object as a two-column table; nested objects flatten to dotted keys. */
static tribe_status kv_rows(tribe_sbuf *b, const cJSON *obj, const char *prefix, int seconds)
{
    tribe_status st = TRIBE_OK;
    char key[256], val[512];
    for (const cJSON *v = obj->child; v; v = v->next) {
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", v->string ? v->string : "");
        if (cJSON_IsObject(v)) {
            TRIBE_TRY(kv_rows(b, v, key, seconds));
            continue;
        }
        char label[256];
        pretty_key(key, label, sizeof label);
        json_scalar(v, val, sizeof val, seconds && cJSON_IsNumber(v));
        PUT("<tr><td>");
        ESC(label);
        OUT("</td><td class=\"%s\">", cJSON_IsNumber(v) ? "n" : "");
        ESC(val);
        PUT("</td></tr>\n");
    }
cleanup:
    return st;
}

static tribe_status kv_table(tribe_sbuf *b, const char *title, const cJSON *obj, int seconds)
{
    tribe_status st = TRIBE_OK;
    PUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">");
    ESC(title);
    PUT("</h3>");
    if (!obj->child)
        PUT("<p class=\"note\">Nothing recorded.</p>");
    else {
        PUT("<table class=\"kv\"><tbody>\n");
        TRIBE_TRY(kv_rows(b, obj, "", seconds));
        PUT("</tbody></table>");
    }
    PUT("</div>\n");
cleanup:
    return st;
}

/* ---- header and key figures ---------------------------------------------------- */

static tribe_status header(tribe_sbuf *b, const tribe_segments *s, const cJSON *run)
{
    tribe_status st = TRIBE_OK;
    char n[48], val[512], label[256];
    tribe_fmt_count(n, sizeof n, (double)s->n_total);
    PUT("<header class=\"top\"><div class=\"wrap\"><div class=\"brand\">tribe &middot; customer segmentation</div>\n");
    PUT("<h1>Who our customers are, and how to reach them</h1>\n");
    OUT("<p class=\"sub\">%s customers in %d segments", n, s->k);
    const cJSON *input = run ? cJSON_GetObjectItemCaseSensitive(run, "input") : NULL;
    if (cJSON_IsString(input)) {
        PUT(" &middot; source ");
        ESC(input->valuestring);
    }
    PUT("</p>\n");
    if (run) {
        PUT("<dl class=\"facts\">");
        for (const cJSON *v = run->child; v; v = v->next) {
            if (cJSON_IsObject(v) || cJSON_IsArray(v) || !v->string)
                continue;
            pretty_key(v->string, label, sizeof label);
            json_scalar(v, val, sizeof val, 0);
            PUT("<div><dt>");
            ESC(label);
            PUT("</dt><dd>");
            ESC(val);
            PUT("</dd></div>");
        }
        PUT("</dl>\n");
    }
    PUT("</div></header>\n");
cleanup:
    return st;
}

/* The navigation bar: a link to every section the body holds, in its
 * order (sections appear only when the run has their data). */
static tribe_status toc(tribe_sbuf *b, const char *body)
{
    static const char *const names[][2] = {
        {"glance", "At a glance"},     {"profiles", "Profiles"},    {"drivers", "Drivers"},
        {"ltv", "Lifetime value"},     {"choosing-k", "Choosing K"}, {"outliers", "Unusual customers"},
        {"crispness", "Crispness"},    {"nested", "Nesting"},       {"map", "Segment map"},
        {"personas", "Personas"},      {"campaigns", "Campaigns"},  {"quality", "Data quality"}};
    tribe_status st = TRIBE_OK;
    PUT("<nav class=\"toc\"><div class=\"wrap\">");
    for (const char *q = body; (q = strstr(q, "<section id=\"")) != NULL;) {
        q += strlen("<section id=\"");
        size_t n = strcspn(q, "\"");
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i][0]) == n && strncmp(q, names[i][0], n) == 0)
                OUT("<a href=\"#%s\">%s</a>", names[i][0], names[i][1]);
        q += n;
    }
    PUT("</div></nav>\n");
cleanup:
    return st;
}

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
        tribe_fmt_money(v1, sizeof v1, s->overall_median[mon]);
        tribe_fmt_money(v2, sizeof v2, s->overall_mean[mon]);
        OUT("<div class=\"card kpi\"><div class=\"l\">Median customer spend</div><div class=\"v\">%s</div>"
            "<div class=\"n\">mean %s</div></div>\n", v1, v2);
    }
    int rec = tribe_segments_feature(s, "recency_days");
    if (rec >= 0 && isfinite(s->overall_median[rec])) {
        tribe_fmt_feature(v1, sizeof v1, "recency_days", s->overall_median[rec]);
        OUT("<div class=\"card kpi\"><div class=\"l\">Median days since last order</div><div class=\"v\">%s</div>"
            "<div class=\"n\">across all customers</div></div>\n", v1);
    }
    if (isfinite(s->silhouette)) {
        snprintf(v1, sizeof v1, "%.2f", s->silhouette);
        if (isfinite(s->silhouette_ci))
            snprintf(v3, sizeof v3, " &plusmn; %.2f", s->silhouette_ci);
        else
            v3[0] = '\0';
        const char *q = s->silhouette >= 0.5 ? "clearly separated" : s->silhouette >= 0.25 ? "reasonably separated"
                                                                                           : "overlapping";
        OUT("<div class=\"card kpi\"><div class=\"l\">Segment separation</div><div class=\"v\">%s%s</div>"
            "<div class=\"n\">silhouette (&minus;1 to 1): %s</div></div>\n", v1, v3, q);
    }
    PUT("</div>\n");
cleanup:
    return st;
}

/* ---- segment size chart ------------------------------------------------------------- */

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
    const double W = 1080, left = 230, right = 150, row = has_rev ? 50 : 34, top = 8;
    const double bw = W - left - right;
    double H = top + row * s->k + 8;
    PUT("<section id=\"glance\"><h2>Segments at a glance</h2>\n");
    PUT("<p class=\"lead\">How many customers each segment holds");
    if (has_rev)
        PUT(", and how much of the revenue they bring in. A segment whose revenue bar is longer than its customer bar "
            "earns more than its share");
    PUT(".</p>\n<div class=\"card\">\n");
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Segment sizes\">\n", W, H);
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        const char *col = report_color(c, cb);
        double y = top + row * c;
        double sh = isfinite(g->share) ? g->share : 0;
        tribe_fmt_pct(pc, sizeof pc, g->share);
        tribe_fmt_count(cnt, sizeof cnt, (double)g->size);
        OUT("<g><title>");
        ESC(g->name);
        OUT(": %s customers (%s)", cnt, pc);
        if (isfinite(g->revenue_share)) {
            tribe_fmt_pct(rv, sizeof rv, g->revenue_share);
            OUT(", %s of revenue", rv);
        }
        PUT("</title>\n");
        OUT("<circle cx=\"8\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>", y + 15, col);
        OUT("<text x=\"20\" y=\"%.1f\" font-size=\"14\" font-weight=\"600\" fill=\"#1f2937\">", y + 20);
        ESC(g->name);
        PUT("</text>\n");
        OUT("<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"3\" fill=\"%s\"/>", left, y + 6,
            fmax(bw * sh / mx, 1.5), col);
        OUT("<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#374151\">%s &middot; %s</text>\n",
            left + fmax(bw * sh / mx, 1.5) + 8, y + 19, pc, cnt);
        if (has_rev && isfinite(g->revenue_share)) {
            double rw = fmax(bw * g->revenue_share / mx, 1.5);
            OUT("<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"11\" rx=\"2\" fill=\"%s\" fill-opacity=\".38\"/>",
                left, y + 26, rw, col);
            OUT("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#6b7280\">%s of revenue</text>\n", left + rw + 8,
                y + 36, rv);
        }
        PUT("</g>\n");
    }
    PUT("</svg>\n");
    if (has_rev)
        PUT("<div class=\"legend\"><span><span class=\"sw\" style=\"background:#6b7280\"></span>Share of customers"
            "</span><span><span class=\"sw\" style=\"background:#6b7280;opacity:.38\"></span>Share of revenue</span>"
            "</div>\n");
    PUT("</div></section>\n");
cleanup:
    return st;
}

/* ---- profile table ------------------------------------------------------------------ */

/* Highlight class of a segment figure against the base (median, else mean). */
static const char *stand_out(double seg_med, double base_med, double seg_mean, double base_mean, double *ratio)
{
    double a = seg_med, z = base_med;
    if (!(isfinite(a) && isfinite(z) && z > 0 && a >= 0)) {
        a = seg_mean;
        z = base_mean;
    }
    *ratio = NAN;
    if (!(isfinite(a) && isfinite(z) && z > 0 && a >= 0))
        return "";
    *ratio = a / z;
    if (*ratio >= 2.0)
        return "hi2";
    if (*ratio >= 1.33)
        return "hi1";
    if (*ratio <= 0.5)
        return "lo2";
    if (*ratio <= 0.75)
        return "lo1";
    return "";
}

static tribe_status seg_header_cells(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char cb[32], cnt[48];
    for (int c = 0; c < s->k; c++) {
        OUT("<th><span class=\"dot\" style=\"background:%s\"></span>", report_color(c, cb));
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
    pretty_key(mx->name, lab, sizeof lab);
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
            OUT("<tr><td class=\"f\"><span class=\"dot\" style=\"background:%s\"></span>", report_color(c, cb));
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

static tribe_status profile_table(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char lab[128], med[64], mean[64];
    PUT("<section id=\"profiles\"><h2>What makes each segment different</h2>\n");
    PUT("<p class=\"lead\">The typical (median) customer of each segment, with the mean below it. "
        "Shading marks what stands out against all customers: <span class=\"sw\" style=\"background:#99f6e4\">"
        "</span>well above (&ge;1.33&times; the median, darker from 2&times;), <span class=\"sw\" "
        "style=\"background:#fde68a\"></span>well below (&le;0.75&times;, darker from 0.5&times;).</p>\n");
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Feature</th>");
    TRIBE_TRY(seg_header_cells(b, s));
    PUT("</tr></thead><tbody>\n");
    if (s->d == 0)
        OUT("<tr><td colspan=\"%d\" class=\"note\">No numeric features in this run.</td></tr>\n", s->k + 2);
    for (int j = 0; j < s->d; j++) {
        const char *f = s->feature_names[j];
        PUT("<tr><td class=\"f\">");
        ESC(feature_label(f, lab, sizeof lab));
        PUT("</td>");
        for (int c = 0; c < s->k; c++) {
            double r;
            const char *cls = stand_out(s->seg[c].median[j], s->overall_median[j], s->seg[c].mean[j],
                                        s->overall_mean[j], &r);
            tribe_fmt_feature(med, sizeof med, f, s->seg[c].median[j]);
            tribe_fmt_feature(mean, sizeof mean, f, s->seg[c].mean[j]);
            OUT("<td class=\"%s\"", cls);
            if (isfinite(r))
                OUT(" title=\"%.2f&times; all customers\"", r);
            OUT(">%s", med);
            if (cls[0])
                OUT("<span class=\"ar\">%s</span>", cls[0] == 'h' ? "&#9650;" : "&#9660;");
            OUT("<span class=\"m\">mean %s</span></td>", mean);
        }
        tribe_fmt_feature(med, sizeof med, f, s->overall_median[j]);
        tribe_fmt_feature(mean, sizeof mean, f, s->overall_mean[j]);
        OUT("<td class=\"base\">%s<span class=\"m\">mean %s</span></td></tr>\n", med, mean);
    }
    PUT("</tbody></table></div>\n");

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

/* ---- projection scatter ---------------------------------------------------------------- */

static double nice_step(double range)
{
    double raw = range / 5.0;
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static tribe_status scatter(tribe_sbuf *b, const tribe_segments *s, const tribe_projection *proj)
{
    tribe_status st = TRIBE_OK;
    char cb[32], num[48];
    PUT("<section id=\"map\"><h2>Segment map</h2>\n");
    PUT("<p class=\"lead\">Each dot is a sampled customer, placed by a two-dimensional projection of the features "
        "the segments were built from. Customers close together behave alike; well-separated colours mean "
        "well-separated segments.</p>\n<div class=\"card\">\n");
    if (!proj || proj->m <= 0 || !proj->xy || !proj->label) {
        PUT("<p class=\"note\">No projection sample was produced in this run.</p></div></section>\n");
        return TRIBE_OK;
    }
    int64_t m = proj->m, shown = m < MAX_POINTS ? m : MAX_POINTS;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int64_t t = 0; t < shown; t++) {
        int64_t i = (int64_t)((double)t * (double)m / (double)shown);
        double x = proj->xy[2 * i], y = proj->xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y))
            continue;
        x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
    }
    if (!(x0 <= x1 && y0 <= y1)) {
        PUT("<p class=\"note\">The projection sample holds no finite points.</p></div></section>\n");
        return TRIBE_OK;
    }
    /* Pad 5% and snap to tick steps so the frame has round numbers. */
    double dx = x1 - x0 > 0 ? x1 - x0 : 1, dy = y1 - y0 > 0 ? y1 - y0 : 1;
    double sx = nice_step(dx), sy = nice_step(dy);
    x0 = floor((x0 - 0.05 * dx) / sx) * sx, x1 = ceil((x1 + 0.05 * dx) / sx) * sx;
    y0 = floor((y0 - 0.05 * dy) / sy) * sy, y1 = ceil((y1 + 0.05 * dy) / sy) * sy;
    const double W = 1080, H = 560, L = 70, R = 20, T = 16, B = 58;
    const double pw = W - L - R, ph = H - T - B;
#define PX(x) (L + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (T + (1.0 - ((y) - y0) / (y1 - y0)) * ph)
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Segment map\">\n", W, H);
    OUT("<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fbfcfd\" stroke=\"#e5e7eb\"/>\n", L, T,
        pw, ph);
    for (double v = x0; v <= x1 + 1e-9 * sx; v += sx) {
        double px = PX(v);
        snprintf(num, sizeof num, "%g", fabs(v) < 1e-9 * sx ? 0.0 : v);
        OUT("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eef0f3\"/>"
            "<text x=\"%.1f\" y=\"%.0f\" font-size=\"12\" fill=\"#6b7280\" text-anchor=\"middle\">%s</text>\n",
            px, T, px, T + ph, px, T + ph + 18, num);
    }
    for (double v = y0; v <= y1 + 1e-9 * sy; v += sy) {
        double py = PY(v);
        snprintf(num, sizeof num, "%g", fabs(v) < 1e-9 * sy ? 0.0 : v);
        OUT("<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eef0f3\"/>"
            "<text x=\"%.0f\" y=\"%.1f\" font-size=\"12\" fill=\"#6b7280\" text-anchor=\"end\">%s</text>\n",
            L, py, L + pw, py, L - 8, py + 4, num);
    }
    PUT("<g fill-opacity=\".62\">\n");
    for (int64_t t = 0; t < shown; t++) {
        int64_t i = (int64_t)((double)t * (double)m / (double)shown);
        double x = proj->xy[2 * i], y = proj->xy[2 * i + 1];
        int c = proj->label[i];
        if (!isfinite(x) || !isfinite(y) || c < 0 || c >= s->k)
            continue;
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", PX(x), PY(y), report_color(c, cb));
        if (t % 8 == 7)
            PUT("\n");
    }
    PUT("</g>\n");
    OUT("<text x=\"%.1f\" y=\"%.0f\" font-size=\"13\" font-weight=\"600\" fill=\"#374151\" "
        "text-anchor=\"middle\">", L + pw / 2, H - 12);
    ESC(proj->axis[0][0] ? proj->axis[0] : "Component 1");
    OUT("</text><text transform=\"translate(18 %.1f) rotate(-90)\" font-size=\"13\" font-weight=\"600\" "
        "fill=\"#374151\" text-anchor=\"middle\">", T + ph / 2);
    ESC(proj->axis[1][0] ? proj->axis[1] : "Component 2");
    PUT("</text>\n</svg>\n");
#undef PX
#undef PY
    PUT("<div class=\"legend\">");
    for (int c = 0; c < s->k; c++) {
        OUT("<span><span class=\"dot\" style=\"background:%s\"></span>", report_color(c, cb));
        ESC(s->seg[c].name);
        PUT("</span>");
    }
    tribe_fmt_count(num, sizeof num, (double)shown);
    OUT("</div><p class=\"note\" style=\"margin:8px 0 0;font-size:13px\">%s customers shown", num);
    if (shown < m) {
        char all[48];
        tribe_fmt_count(all, sizeof all, (double)m);
        OUT(" (an even sample of the %s in the projection sample)", all);
    }
    PUT(".</p></div></section>\n");
cleanup:
    return st;
}

/* ---- persona cards ----------------------------------------------------------------------- */

static tribe_status list(tribe_sbuf *b, char *const *v, int n)
{
    tribe_status st = TRIBE_OK;
    PUT("<ul>");
    for (int i = 0; i < n; i++) {
        PUT("<li>");
        ESC(v[i]);
        PUT("</li>");
    }
    PUT("</ul>");
cleanup:
    return st;
}

/* Key figures of the segment above the persona's story: the RFM medians
 * and the revenue share, where the data has them. */
static tribe_status persona_stats(tribe_sbuf *b, const tribe_segments *s, int c)
{
    tribe_status st = TRIBE_OK;
    static const char *const feats[][3] = {{"recency_days", " days", "since last order"},
                                           {"frequency", "", "orders"},
                                           {"monetary", "", "total spend"}};
    char v[64];
    int any = 0;
    for (size_t i = 0; i < sizeof feats / sizeof *feats; i++) {
        int j = tribe_segments_feature(s, feats[i][0]);
        if (j < 0 || !isfinite(s->seg[c].median[j]))
            continue;
        if (!any++)
            PUT("<div class=\"stats\">");
        OUT("<div><b>%s%s</b><span>%s</span></div>", tribe_fmt_feature(v, sizeof v, feats[i][0], s->seg[c].median[j]),
            feats[i][1], feats[i][2]);
    }
    if (isfinite(s->seg[c].revenue_share)) {
        if (!any++)
            PUT("<div class=\"stats\">");
        OUT("<div><b>%s</b><span>of revenue</span></div>", tribe_fmt_pct(v, sizeof v, s->seg[c].revenue_share));
    }
    if (any)
        PUT("</div>\n");
cleanup:
    return st;
}

/* "base.median.monetary" -> "Whole base: median Total spend": what an
 * evidence line names, from the figure ids of personas.json. */
static tribe_status figure_label(tribe_sbuf *b, const char *id)
{
    tribe_status st = TRIBE_OK;
    static const char *const stats[][2] = {{"median.", "median"}, {"mean.", "mean"}, {"q1.", "first quartile"},
                                           {"q3.", "third quartile"}};
    char lb[64];
    if (strncmp(id, "base.", 5) == 0) {
        PUT("whole base: ");
        id += 5;
    }
    if (strcmp(id, "size") == 0) {
        PUT("customers");
        goto cleanup;
    }
    if (strcmp(id, "share") == 0) {
        PUT("share of customers");
        goto cleanup;
    }
    if (strcmp(id, "revenue_share") == 0) {
        PUT("share of revenue");
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof stats / sizeof *stats; i++) {
        size_t n = strlen(stats[i][0]);
        if (strncmp(id, stats[i][0], n) == 0) {
            char phrase[96];
            snprintf(phrase, sizeof phrase, "%s %s", stats[i][1], feature_label(id + n, lb, sizeof lb));
            /* lower case inside a phrase: "median total spend" */
            size_t at = strlen(stats[i][1]) + 1;
            if (at < sizeof phrase)
                phrase[at] = (char)tolower((unsigned char)phrase[at]);
            ESC(phrase);
            goto cleanup;
        }
    }
    if (strncmp(id, "mix.", 4) == 0) {
        /* mix.<column>.<level>: the level may itself contain dots. */
        const char *col = id + 4, *dot = strchr(col, '.');
        if (dot) {
            PUT("share with ");
            ESC(dot + 1);
            PUT(" (");
            TRIBE_TRY(tribe_sbuf_printf(b, "%.*s", (int)(dot - col), col));
            PUT(")");
            goto cleanup;
        }
    }
    ESC(id);
cleanup:
    return st;
}

/* The persona's "evidence" (personas.json): every figure its text states,
 * as written, with the profile figure it rests on. An empty list says so. */
static tribe_status evidence_list(tribe_sbuf *b, const cJSON *ev)
{
    tribe_status st = TRIBE_OK;
    const cJSON *e;
    PUT("<h4>Evidence</h4>");
    if (!cJSON_IsArray(ev) || cJSON_GetArraySize(ev) == 0) {
        PUT("<p class=\"note ev\">The text states no figures.</p>\n");
        return TRIBE_OK;
    }
    PUT("<ul class=\"ev\">");
    cJSON_ArrayForEach(e, ev)
    {
        const cJSON *fig = cJSON_GetObjectItemCaseSensitive(e, "figure");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, "value");
        const cJSON *wr = cJSON_GetObjectItemCaseSensitive(e, "written");
        const cJSON *fd = cJSON_GetObjectItemCaseSensitive(e, "field");
        PUT("<li><b>");
        ESC(cJSON_IsString(wr) ? wr->valuestring : "?");
        PUT("</b> ");
        if (cJSON_IsString(fig)) {
            TRIBE_TRY(figure_label(b, fig->valuestring));
            PUT(" <code>");
            ESC(fig->valuestring);
            if (cJSON_IsNumber(val))
                OUT(" = %.10g", val->valuedouble);
            PUT("</code>");
        } else {
            PUT("<span class=\"bad\">no matching figure</span>");
        }
        if (cJSON_IsString(fd)) {
            PUT(" <span class=\"m\">in ");
            ESC(fd->valuestring);
            PUT("</span>");
        }
        PUT("</li>");
    }
    PUT("</ul>\n");
cleanup:
    return st;
}

/* The segment's row of the campaign plan, in a card. */
static tribe_status card_campaign(tribe_sbuf *b, const tribe_campaign_plan *r)
{
    tribe_status st = TRIBE_OK;
    char v[64];
    PUT("<h4>Recommended campaign</h4><div class=\"camp\"><b>");
    ESC(r->campaign);
    PUT("</b><dl><dt>Channel</dt><dd>");
    ESC(r->channel);
    if (r->channel_basis[0]) {
        PUT(" <span class=\"m\">(");
        ESC(r->channel_basis);
        PUT(")</span>");
    }
    PUT("</dd><dt>Tone</dt><dd>");
    ESC(r->tone);
    PUT("</dd><dt>Timing</dt><dd>");
    ESC(r->timing);
    OUT("</dd><dt>Expected value</dt><dd>%s", tribe_fmt_money(v, sizeof v, r->expected_value));
    OUT(" <span class=\"m\">(%s response &times; ", tribe_fmt_pct(v, sizeof v, r->response_rate));
    OUT("%s order value; priority %d)</span></dd></dl></div>\n", tribe_fmt_money(v, sizeof v, r->order_value),
        r->priority);
cleanup:
    return st;
}

static const tribe_campaign_plan *plan_of(const tribe_campaign_plan *plan, int k, int c, int id)
{
    if (!plan)
        return NULL;
    if (c < k && plan[c].segment == id)
        return &plan[c];
    for (int i = 0; i < k; i++)
        if (plan[i].segment == id)
            return &plan[i];
    return NULL;
}

static const cJSON *evidence_of(const cJSON *personas, int id)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, personas)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(o, "segment_id");
        if (cJSON_IsNumber(sid) && sid->valueint == id)
            return cJSON_GetObjectItemCaseSensitive(o, "evidence");
    }
    return NULL;
}

/* The segment's image as a data: URI, only when it is a PNG or JPEG in
 * plain base64: nothing else from the server reaches the page. */
static tribe_status card_image(tribe_sbuf *b, const tribe_persona_image *im, const char *name)
{
    tribe_status st = TRIBE_OK;
    if (!im || !im->b64 || !im->b64[0] || (strcmp(im->mime, "image/png") != 0 && strcmp(im->mime, "image/jpeg") != 0))
        return TRIBE_OK;
    for (const char *q = im->b64; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '+' && *q != '/' && *q != '=')
            return TRIBE_OK;
    OUT("<img class=\"pimg\" alt=\"Portrait of ");
    ESC(name);
    OUT("\" src=\"data:%s;base64,", im->mime);
    PUT(im->b64);
    PUT("\">\n");
cleanup:
    return st;
}

static const tribe_persona_image *image_of(const tribe_persona_image *img, int k, int c, int id)
{
    if (!img)
        return NULL;
    if (c < k && img[c].segment == id)
        return &img[c];
    for (int i = 0; i < k; i++)
        if (img[i].segment == id)
            return &img[i];
    return NULL;
}

static tribe_status persona_cards(tribe_sbuf *b, const tribe_segments *s, const tribe_persona *p,
                                  const tribe_campaign_plan *plan, const tribe_persona_image *img)
{
    tribe_status st = TRIBE_OK;
    char cb[32], cnt[48], pc[32];
    char *pj = NULL;
    cJSON *personas = NULL;
    PUT("<section id=\"personas\"><h2>Personas</h2>\n");
    PUT("<p class=\"lead\">One imagined customer per segment, written from the segment's figures: every number "
        "quoted is a real figure of the segment. Use them to brief creative and to choose the message, offer "
        "and channel for each segment.</p>\n");
    if (!p) {
        PUT("<div class=\"card\"><p class=\"note\">No personas were written in this run.</p></div></section>\n");
        return TRIBE_OK;
    }
    /* The evidence exactly as personas.json states it: one definition of
     * which figure a number cites. */
    TRIBE_TRY(tribe_personas_to_json(p, s->k, s, &pj));
    personas = cJSON_Parse(pj);
    if (!personas) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "report: cannot parse the personas' JSON");
        goto cleanup;
    }
    PUT("<div class=\"personas\">\n");
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        const tribe_persona *q = report_persona_of(p, s->k, c, g->id);
        if (!q)
            continue;
        char initials[8] = {0};
        int ni = 0;
        for (const char *t = q->name; t && *t && ni < 2; t++)
            if ((t == q->name || t[-1] == ' ') && isalpha((unsigned char)*t))
                initials[ni++] = (char)toupper((unsigned char)*t);
        tribe_fmt_count(cnt, sizeof cnt, (double)g->size);
        tribe_fmt_pct(pc, sizeof pc, g->share);
        OUT("<article class=\"card persona\" style=\"--c:%s\"><div class=\"in\">\n", report_color(c, cb));
        OUT("<div class=\"ph\"><div class=\"avatar\">%s</div><div><div class=\"seg\">", initials);
        ESC(g->name);
        OUT(" &middot; %s customers (%s)</div><h3>", cnt, pc);
        ESC(q->name);
        PUT("</h3><div class=\"meta\">");
        ESC(q->age_band);
        PUT(" &middot; ");
        ESC(q->occupation);
        PUT("</div></div></div>\n");
        TRIBE_TRY(card_image(b, image_of(img, s->k, c, g->id), q->name));
        TRIBE_TRY(persona_stats(b, s, c));
        PUT("<p class=\"tagline\">");
        ESC(q->tagline);
        PUT("</p>\n<p class=\"bio\">");
        ESC(q->bio);
        PUT("</p>\n<div class=\"two\"><div><h4>Goals</h4>");
        TRIBE_TRY(list(b, q->goals, q->n_goals));
        PUT("</div><div><h4>Frustrations</h4>");
        TRIBE_TRY(list(b, q->frustrations, q->n_frustrations));
        PUT("</div></div>\n<h4>Preferred channels</h4><div class=\"chips\">");
        for (int i = 0; i < q->n_channels; i++) {
            PUT("<span>");
            ESC(q->channels[i]);
            PUT("</span>");
        }
        PUT("</div>\n<blockquote>&ldquo;");
        ESC(q->quote);
        PUT("&rdquo;</blockquote>\n<h4>Campaign e-mail</h4><div class=\"email\"><div class=\"eh\"><b>Subject</b>");
        ESC(q->email_subject);
        PUT("</div><div class=\"eb\">");
        ESC(q->email_body);
        PUT("</div></div>\n");
        const tribe_campaign_plan *r = plan_of(plan, s->k, c, g->id);
        if (r)
            TRIBE_TRY(card_campaign(b, r));
        TRIBE_TRY(evidence_list(b, evidence_of(personas, g->id)));
        if (q->image_prompt && q->image_prompt[0]) {
            PUT("<details><summary>Image brief</summary><p>");
            ESC(q->image_prompt);
            PUT("</p></details>\n");
        }
        PUT("<p class=\"prov\">Written by the ");
        ESC(q->provider ? q->provider : "unknown");
        PUT(" persona provider.</p>\n</div></article>\n");
    }
    PUT("</div></section>\n");
cleanup:
    cJSON_Delete(personas);
    free(pj);
    return st;
}

/* ---- campaign plan --------------------------------------------------------------------------- */

/* Only when a plan was built (tribe_report_html_campaign): the recommended
 * campaign of every segment and the arithmetic behind its expected value. */
static tribe_status campaign_plan(tribe_sbuf *b, const tribe_segments *s, const tribe_campaign_plan *plan)
{
    tribe_status st = TRIBE_OK;
    char cb[32], v1[64], v2[64], v3[64];
    if (!plan)
        return TRIBE_OK;
    PUT("<section id=\"campaigns\"><h2>Campaign plan</h2>\n");
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
            report_color(c, cb));
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
            tribe_fmt_pct(v1, sizeof v1, r->response_rate), tribe_fmt_money(v2, sizeof v2, r->order_value),
            tribe_fmt_money(v3, sizeof v3, r->expected_value));
    }
    PUT("</tbody></table></div>\n<p class=\"note\"># = priority by expected value. The same rows are in "
        "campaign_plan.csv; <code>tribe campaign send</code> dispatches one segment's campaign.</p></section>\n");
cleanup:
    return st;
}

/* ---- segment drivers (run_json "drivers") ------------------------------------------------ */

/* One horizontal bar chart: the n features idx[] with values v[idx[i]],
 * longest bar = vmax. */
static tribe_status driver_bars(tribe_sbuf *b, const cJSON *feats, const double *v, const int *idx, int n,
                                double vmax, const char *fill, const char *unit_fmt)
{
    tribe_status st = TRIBE_OK;
    char lab[128], num[64];
    const double W = 460, left = 170, row = 24, bw = W - left - 70;
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Feature importance\">\n", W, row * n + 6);
    for (int i = 0; i < n; i++) {
        const cJSON *f = cJSON_GetArrayItem(feats, idx[i]);
        const char *name = cJSON_IsString(f) ? f->valuestring : "?";
        double w = vmax > 0 ? fmax(bw * v[idx[i]] / vmax, 1.5) : 1.5;
        double y = 3 + row * i;
        snprintf(num, sizeof num, unit_fmt, v[idx[i]]);
        PUT("<g><title>");
        ESC(name);
        OUT(": %s</title><text x=\"%.0f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"end\" fill=\"#1f2937\">",
            num, left - 8, y + 14);
        ESC(feature_label(name, lab, sizeof lab));
        OUT("</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"15\" rx=\"3\" fill=\"%s\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#374151\">%s</text></g>\n",
            left, y + 2, w, fill, left + w + 6, y + 14, num);
    }
    PUT("</svg>\n");
cleanup:
    return st;
}

/* Indices of v[0..d) by descending value, ties to the lower index. */
static void rank_desc(const double *v, int d, int *idx)
{
    for (int j = 0; j < d; j++) {
        int at = j;
        while (at > 0 && (v[idx[at - 1]] < v[j] || !isfinite(v[idx[at - 1]])) && isfinite(v[j]))
            at--;
        memmove(idx + at + 1, idx + at, (size_t)(j - at) * sizeof *idx);
        idx[at] = j;
    }
}

/* "What drives each segment": per segment the five features with the
 * largest mean |SHAP| of the segment-membership model, and the global gain.
 * Reads run->drivers (written by `tribe run`) and then removes it from the
 * run record, so the run-details section does not repeat it as a table. */
static tribe_status drivers_section(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    double *v = NULL;
    int *idx = NULL;
    char cb[32];
    cJSON *dr = run ? cJSON_DetachItemFromObjectCaseSensitive(run, "drivers") : NULL;
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(dr, "features");
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(dr, "mean_abs_shap");
    const cJSON *gain = cJSON_GetObjectItemCaseSensitive(dr, "gain");
    int d = cJSON_GetArraySize(feats);
    if (!dr)
        return TRIBE_OK; /* drivers off (or one segment): no section */
    PUT("<section id=\"drivers\"><h2>What drives each segment</h2>\n");
    if (!cJSON_IsArray(feats) || !cJSON_IsArray(ma) || !cJSON_IsArray(gain) || d == 0 ||
        cJSON_GetArraySize(ma) != s->k || cJSON_GetArraySize(gain) != d) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's drivers are malformed.</p></div></section>\n");
        goto cleanup;
    }
    PUT("<p class=\"lead\">A gradient-boosted model learned to tell the segments apart from the customers' own "
        "figures. For each segment, the features that move its customers' scores the most (mean absolute SHAP "
        "value, in log-odds of belonging to the segment): the longer the bar, the more that feature decides who "
        "is in the segment.</p>\n<div class=\"grid2\">\n");
    TRIBE_TRY(tribe_calloc((void **)&v, (size_t)d, sizeof *v));
    TRIBE_TRY(tribe_calloc((void **)&idx, (size_t)d, sizeof *idx));
    for (int c = 0; c < s->k; c++) {
        const cJSON *rowj = cJSON_GetArrayItem(ma, c);
        for (int j = 0; j < d; j++) {
            const cJSON *x = cJSON_GetArrayItem(rowj, j);
            v[j] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        }
        rank_desc(v, d, idx);
        int n = d < 5 ? d : 5;
        PUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">");
        ESC(s->seg[c].name);
        PUT("</h3>\n");
        TRIBE_TRY(driver_bars(b, feats, v, idx, n, v[idx[0]], report_color(c, cb), "%.3f"));
        PUT("</div>\n");
    }
    PUT("</div>\n");
    {
        double tot = 0;
        for (int j = 0; j < d; j++) {
            const cJSON *x = cJSON_GetArrayItem(gain, j);
            v[j] = cJSON_IsNumber(x) ? x->valuedouble : 0;
            tot += v[j];
        }
        for (int j = 0; j < d; j++)
            v[j] = tot > 0 ? 100 * v[j] / tot : 0;
        rank_desc(v, d, idx);
        PUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Overall importance</h3>\n<p class=\"lead\">Each "
            "feature's share of the model's total split gain: how much it contributes to telling all segments "
            "apart.</p>\n<div class=\"card\" style=\"max-width:560px\">\n");
        TRIBE_TRY(driver_bars(b, feats, v, idx, d, v[idx[0]], "#1e3a5f", "%.1f%%"));
        PUT("</div>\n");
    }
    PUT("</section>\n");
cleanup:
    cJSON_Delete(dr);
    free(v);
    free(idx);
    return st;
}

/* ---- lifetime value (run_json "ltv") ---------------------------------------------------- */

static double ltv_num(const cJSON *a, int i)
{
    const cJSON *x = cJSON_GetArrayItem(a, i);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* "Lifetime value": the three models scored on the later window (MAE, RMSE,
 * R^2, top-decile lift) and the predicted value per segment. Reads run->ltv
 * (written by `tribe run` with an ltv object) and removes it from the run
 * record, as drivers_section does. */
static tribe_status ltv_section(tribe_sbuf *b, const tribe_segments *s, cJSON *run)
{
    static const char *const LABEL[][2] = {{"gbdt", "Gradient-boosted trees (tribe)"},
                                            {"bgnbd_gamma_gamma", "BG/NBD + Gamma-Gamma"},
                                            {"past_spend_rate", "Past spend rate carried forward"}};
    tribe_status st = TRIBE_OK;
    char cb[32], v1[64], v2[64], v3[64];
    cJSON *lv = run ? cJSON_DetachItemFromObjectCaseSensitive(run, "ltv") : NULL;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(lv, "models");
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(lv, "metrics");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(lv, "segment_mean");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(lv, "segment_median");
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(lv, "segment_total");
    const cJSON *hz = cJSON_GetObjectItemCaseSensitive(lv, "horizon_days");
    int nm = cJSON_GetArraySize(models);
    if (!lv)
        return TRIBE_OK; /* no ltv object in the job: no section */
    PUT("<section id=\"ltv\"><h2>Lifetime value</h2>\n");
    if (!cJSON_IsArray(models) || !cJSON_IsArray(met) || cJSON_GetArraySize(met) != nm || !cJSON_IsArray(mean) ||
        !cJSON_IsArray(med) || !cJSON_IsArray(tot) || cJSON_GetArraySize(mean) != s->k ||
        cJSON_GetArraySize(med) != s->k || cJSON_GetArraySize(tot) != s->k || !cJSON_IsNumber(hz)) {
        PUT("<div class=\"card\"><p class=\"note\">The run record's lifetime value is malformed.</p></div>"
            "</section>\n");
        goto cleanup;
    }
    OUT("<p class=\"lead\">Predicted spend per customer in the next %.0f days. The models were scored honestly: "
        "fitted on the customers' history up to one cutoff and the spend that followed, then judged on a later "
        "window they never saw. Lower MAE and RMSE are better; R&sup2; is the share of the spread in spend "
        "explained; lift = how much more the top 10%% of predicted customers spent than an average 10%%.</p>\n",
        hz->valuedouble);
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Model</th><th>MAE</th><th>RMSE</th><th>R&sup2;</th>"
        "<th>Top-decile lift</th></tr></thead><tbody>\n");
    for (int i = 0; i < nm; i++) {
        const cJSON *mj = cJSON_GetArrayItem(models, i);
        const cJSON *row = cJSON_GetArrayItem(met, i);
        const char *name = cJSON_IsString(mj) ? mj->valuestring : "?";
        for (size_t l = 0; l < sizeof LABEL / sizeof LABEL[0]; l++)
            if (strcmp(name, LABEL[l][0]) == 0)
                name = LABEL[l][1];
        PUT("<tr><td>");
        ESC(name);
        double r2 = ltv_num(row, 2), lift = ltv_num(row, 3);
        OUT("</td><td class=\"n\">%s</td><td class=\"n\">%s</td>", tribe_fmt_money(v1, sizeof v1, ltv_num(row, 0)),
            tribe_fmt_money(v2, sizeof v2, ltv_num(row, 1)));
        if (isfinite(r2))
            OUT("<td class=\"n\">%.3f</td>", r2);
        else
            PUT("<td class=\"n\">&ndash;</td>");
        if (isfinite(lift))
            OUT("<td class=\"n\">%.2f&times;</td></tr>\n", lift);
        else
            PUT("<td class=\"n\">&ndash;</td></tr>\n");
    }
    PUT("</tbody></table></div>\n");
    PUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Predicted value per segment</h3>\n"
        "<div class=\"card scroll\"><table><thead><tr><th>Segment</th><th>Customers</th><th>Mean</th>"
        "<th>Median</th><th>Total</th></tr></thead><tbody>\n");
    for (int c = 0; c < s->k; c++) {
        OUT("<tr><td><span class=\"sw\" style=\"background:%s\"></span>", report_color(c, cb));
        ESC(s->seg[c].name);
        OUT("</td><td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)s->seg[c].size));
        OUT("<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
            tribe_fmt_money(v1, sizeof v1, ltv_num(mean, c)), tribe_fmt_money(v2, sizeof v2, ltv_num(med, c)),
            tribe_fmt_money(v3, sizeof v3, ltv_num(tot, c)));
    }
    PUT("</tbody></table></div>\n<p class=\"note\">Per-customer predictions are in results.h5 "
        "(<code>/segments/ltv</code>); the campaign plan values a segment's customers at their mean predicted "
        "value.</p></section>\n");
cleanup:
    cJSON_Delete(lv);
    return st;
}

/* ---- choosing K (run_json "k_sweep") -------------------------------------------------- */

/* One small line plot of column `col` of the sweep rows over K: a point per
 * K (NaN skipped), the recommended K drawn as a dashed line and a ringed
 * point, optionally a second marker (the elbow) and a 95% band (ci_col >= 0). */
static tribe_status ksweep_plot(tribe_sbuf *b, const cJSON *rows, int col, int ci_col, const char *title,
                                const char *hint, int rec_k, int mark_k, const char *mark_name)
{
    tribe_status st = TRIBE_OK;
    const double W = 340, H = 190, l = 58, r = 12, t = 12, bm = 34;
    int n = cJSON_GetArraySize(rows);
    double kmin = INFINITY, kmax = -INFINITY, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        double k = ltv_num(row, 0), v = ltv_num(row, col), e = ci_col >= 0 ? ltv_num(row, ci_col) : 0;
        if (!isfinite(k) || !isfinite(v))
            continue;
        if (!isfinite(e))
            e = 0;
        kmin = fmin(kmin, k);
        kmax = fmax(kmax, k);
        lo = fmin(lo, v - e);
        hi = fmax(hi, v + e);
    }
    PUT("<div class=\"card\"><h3 style=\"margin:0 0 2px;font-size:15px\">");
    ESC(title);
    PUT("</h3><p class=\"note\" style=\"margin:0 0 6px\">");
    ESC(hint);
    PUT("</p>\n");
    if (!isfinite(lo)) {
        PUT("<p class=\"note\">Not computed.</p></div>\n");
        return TRIBE_OK;
    }
    if (kmax <= kmin)
        kmax = kmin + 1;
    if (hi <= lo) {
        hi = lo + fmax(fabs(lo) * 0.05, 1e-9);
        lo -= fmax(fabs(lo) * 0.05, 1e-9);
    }
    double pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
#define KX(k) (l + ((k) - kmin) / (kmax - kmin) * (W - l - r))
#define KY(v) (t + (hi - (v)) / (hi - lo) * (H - t - bm))
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", W, H);
    ESC(title);
    PUT(" by K\">\n");
    OUT("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#d1d5db\"/>", l, H - bm, W - r, H - bm);
    for (int q = 0; q <= 2; q++) {
        double v = lo + pad + (hi - lo - 2 * pad) * q / 2.0;
        char num[48];
        if (fabs(v) >= 1000) /* Calinski-Harabasz, inertia: whole numbers read better than 1.854e+04 */
            tribe_fmt_count(num, sizeof num, v);
        else
            snprintf(num, sizeof num, "%.4g", v);
        OUT("<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#6b7280\">%s</text>", l - 6,
            KY(v) + 4, num);
    }
    for (int i = 0; i < n; i++) {
        double k = ltv_num(cJSON_GetArrayItem(rows, i), 0);
        if (isfinite(k))
            OUT("<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#6b7280\">%g</text>", KX(k),
                H - bm + 15, k);
    }
    OUT("<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#6b7280\">K</text>\n",
        (l + W - r) / 2, H - 4);
    if (rec_k > 0 && rec_k >= kmin && rec_k <= kmax)
        OUT("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#2563eb\" stroke-dasharray=\"4 3\"/>\n",
            KX(rec_k), t, KX(rec_k), H - bm);
    if (ci_col >= 0)
        for (int i = 0; i < n; i++) {
            const cJSON *row = cJSON_GetArrayItem(rows, i);
            double k = ltv_num(row, 0), v = ltv_num(row, col), e = ltv_num(row, ci_col);
            if (isfinite(k) && isfinite(v) && isfinite(e) && e > 0)
                OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#93c5fd\" stroke-width=\"3\"/>",
                    KX(k), KY(v - e), KX(k), KY(v + e));
        }
    PUT("<polyline fill=\"none\" stroke=\"#374151\" stroke-width=\"1.5\" points=\"");
    for (int i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        double k = ltv_num(row, 0), v = ltv_num(row, col);
        if (isfinite(k) && isfinite(v))
            OUT("%.1f,%.1f ", KX(k), KY(v));
    }
    PUT("\"/>\n");
    for (int i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        double k = ltv_num(row, 0), v = ltv_num(row, col);
        if (!isfinite(k) || !isfinite(v))
            continue;
        int rec = (int)k == rec_k;
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>K=%g: %.6g</title></circle>", KX(k), KY(v),
            rec ? "5" : "3", rec ? "#2563eb" : "#374151", k, v);
        if ((int)k == mark_k && mark_name)
            OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"#d97706\" stroke-width=\"1.5\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#d97706\">%s</text>",
                KX(k), KY(v), KX(k) + 9, KY(v) - 8, mark_name);
    }
#undef KX
#undef KY
    PUT("</svg></div>\n");
cleanup:
    return st;
}

/* "Choosing the number of segments": one plot per criterion of the K sweep
 * with the recommended K marked, and the reason. Reads run->k_sweep and
 * removes it from the run record, as drivers_section does. */
static tribe_status ksweep_section(tribe_sbuf *b, cJSON *run)
{
    tribe_status st = TRIBE_OK;
    const cJSON *ks = run ? cJSON_GetObjectItemCaseSensitive(run, "k_sweep") : NULL;
    const cJSON *rows = ks ? cJSON_GetObjectItemCaseSensitive(ks, "rows") : NULL;
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) < 2)
        goto cleanup; /* a fixed K: nothing to compare */
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(ks, "recommended_k");
    const cJSON *ek = cJSON_GetObjectItemCaseSensitive(ks, "elbow_k");
    const cJSON *ari = cJSON_GetObjectItemCaseSensitive(ks, "stability_ari");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(ks, "reason");
    int rec = cJSON_IsNumber(rk) ? rk->valueint : 0, elbow = cJSON_IsNumber(ek) ? ek->valueint : 0;
    PUT("<section id=\"choosing-k\"><h2>Choosing the number of segments</h2>\n");
    OUT("<p class=\"lead\">Every K in the range was fitted and scored. Recommended: <strong>K=%d</strong>", rec);
    if (cJSON_IsNumber(ari))
        OUT(" (split-half agreement %.2f: refitted on two disjoint halves of the customers, the two "
            "segmentations agree this well, 1 = identically)", ari->valuedouble);
    PUT(".</p>\n");
    if (cJSON_IsString(why)) {
        PUT("<p class=\"note\">");
        ESC(why->valuestring);
        PUT("</p>\n");
    }
    PUT("<div style=\"display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px\">\n");
    TRIBE_TRY(ksweep_plot(b, rows, 1, -1, "Inertia", "Lower is tighter; the bend is the elbow", rec, elbow,
                          "elbow"));
    TRIBE_TRY(ksweep_plot(b, rows, 2, 3, "Silhouette (sampled)", "Higher is better; bars: 95% interval", rec, 0,
                          NULL));
    TRIBE_TRY(ksweep_plot(b, rows, 4, -1, "Silhouette, squared distance (all)", "Higher is better", rec, 0, NULL));
    TRIBE_TRY(ksweep_plot(b, rows, 5, -1, "Calinski-Harabasz", "Higher is better", rec, 0, NULL));
    TRIBE_TRY(ksweep_plot(b, rows, 6, -1, "Davies-Bouldin", "Lower is better", rec, 0, NULL));
    if (cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0)) > 7)
        TRIBE_TRY(ksweep_plot(b, rows, 7, -1, "Split-half stability (ARI)",
                              "Higher is more reproducible; below 0.8 a K may not win", rec, 0, NULL));
    PUT("</div></section>\n");
cleanup:
    if (run)
        cJSON_DeleteItemFromObjectCaseSensitive(run, "k_sweep");
    return st;
}

/* ---- data quality ---------------------------------------------------------------------------- */

static tribe_status quality(tribe_sbuf *b, const tribe_segments *s, const cJSON *run)
{
    tribe_status st = TRIBE_OK;
    PUT("<section id=\"quality\"><h2>Data quality and run details</h2>\n");
    PUT("<p class=\"lead\">What the run read, what it set aside and why, and how long each stage took.</p>\n");
    if (!run) {
        PUT("<div class=\"card\"><p class=\"note\">No run record was passed to the report.</p></div></section>\n");
        return TRIBE_OK;
    }
    PUT("<div class=\"grid2\">\n");
    const cJSON *ledger = cJSON_GetObjectItemCaseSensitive(run, "ledger");
    if (cJSON_IsObject(ledger))
        TRIBE_TRY(kv_table(b, "Data-quality ledger", ledger, 0));
    else
        PUT("<div class=\"card\"><p class=\"note\">The run recorded no data-quality ledger.</p></div>\n");
    const cJSON *timings = cJSON_GetObjectItemCaseSensitive(run, "timings");
    if (cJSON_IsObject(timings))
        TRIBE_TRY(kv_table(b, "Timings", timings, 1));
    for (const cJSON *v = run->child; v; v = v->next) {
        if (!cJSON_IsObject(v) || v == ledger || v == timings || !v->string)
            continue;
        char title[256];
        pretty_key(v->string, title, sizeof title);
        TRIBE_TRY(kv_table(b, title, v, 0));
    }
    if (isfinite(s->inertia)) {
        char v[64];
        snprintf(v, sizeof v, "%.6g", s->inertia);
        OUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">Model</h3><table class=\"kv\"><tbody>"
            "<tr><td>Segments</td><td class=\"n\">%d</td></tr><tr><td>Features</td><td class=\"n\">%d</td></tr>"
            "<tr><td>Inertia (model space)</td><td class=\"n\">%s</td></tr></tbody></table></div>\n",
            s->k, s->d, v);
    }
    PUT("</div></section>\n");
cleanup:
    return st;
}

static tribe_status html_text(const tribe_segments *s, const tribe_persona *p, const tribe_projection *proj,
                              const char *run_json, const tribe_campaign_plan *plan, const tribe_persona_image *img,
                              char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf buf = {0}, *b = &buf, body = {0};
    cJSON *run = NULL;
    if (run_json) {
        run = cJSON_Parse(run_json);
        if (!run) {
            const char *at = cJSON_GetErrorPtr();
            st = tribe_fail(TRIBE_ERR_INPUT, "report: run record is not valid JSON (near '%.30s')", at ? at : "");
            goto cleanup;
        }
        if (!cJSON_IsObject(run)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "report: run record is JSON but not an object");
            goto cleanup;
        }
    }
    const cJSON *rid = run ? cJSON_GetObjectItemCaseSensitive(run, "run_id") : NULL;
    PUT("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Customer segments");
    if (cJSON_IsString(rid)) {
        PUT(" &middot; ");
        ESC(rid->valuestring);
    }
    OUT("</title>\n<meta name=\"generator\" content=\"tribe %s\">\n<style>\n%s</style></head><body>\n",
        TRIBE_VERSION, CSS);
    /* The body first: the navigation bar lists the sections it holds. */
    TRIBE_TRY(kpis(&body, s));
    TRIBE_TRY(size_chart(&body, s));
    TRIBE_TRY(profile_table(&body, s));
    TRIBE_TRY(drivers_section(&body, s, run));
    TRIBE_TRY(ltv_section(&body, s, run));
    TRIBE_TRY(ksweep_section(&body, run));
    TRIBE_TRY(report_beyond_sections(&body, s, run));
    TRIBE_TRY(scatter(&body, s, proj));
    TRIBE_TRY(persona_cards(&body, s, p, plan, img));
    TRIBE_TRY(campaign_plan(&body, s, plan));
    TRIBE_TRY(quality(&body, s, run));
    TRIBE_TRY(header(b, s, run));
    TRIBE_TRY(toc(b, body.p ? body.p : ""));
    PUT("<main class=\"wrap\">\n");
    if (body.len)
        TRIBE_TRY(tribe_sbuf_addn(b, body.p, body.len));
    PUT("</main>\n<footer><div class=\"wrap\">");
    OUT("Generated by tribe %s", TRIBE_VERSION);
    if (cJSON_IsString(rid)) {
        PUT(" &middot; run ");
        ESC(rid->valuestring);
    }
    PUT(" &middot; money in whole pounds, shares in percent of customers; figures are medians unless marked "
        "as means.</div></footer>\n</body></html>\n");
    TRIBE_TRY(tribe_sbuf_take(b, out));
cleanup:
    cJSON_Delete(run);
    tribe_sbuf_free(b);
    tribe_sbuf_free(&body);
    return st;
}

tribe_status tribe_report_html_text(const tribe_segments *s, const tribe_persona *p, const tribe_projection *proj,
                                    const char *run_json, char **out)
{
    return html_text(s, p, proj, run_json, NULL, NULL, out);
}

tribe_status tribe_report_html_campaign_text(const tribe_segments *s, const tribe_persona *p,
                                             const tribe_projection *proj, const char *run_json,
                                             const tribe_campaign_plan *plan, char **out)
{
    return html_text(s, p, proj, run_json, plan, NULL, out);
}

tribe_status tribe_report_html_full_text(const tribe_segments *s, const tribe_persona *p,
                                         const tribe_projection *proj, const char *run_json,
                                         const tribe_campaign_plan *plan, const tribe_persona_image *img, char **out)
{
    return html_text(s, p, proj, run_json, plan, img, out);
}

tribe_status tribe_report_html_full(const char *path, const tribe_segments *s, const tribe_persona *p,
                                    const tribe_projection *proj, const char *run_json,
                                    const tribe_campaign_plan *plan, const tribe_persona_image *img)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    TRIBE_TRY(html_text(s, p, proj, run_json, plan, img, &text));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
cleanup:
    free(text);
    return st;
}

tribe_status tribe_report_html_campaign(const char *path, const tribe_segments *s, const tribe_persona *p,
                                        const tribe_projection *proj, const char *run_json,
                                        const tribe_campaign_plan *plan)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    TRIBE_TRY(html_text(s, p, proj, run_json, plan, NULL, &text));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
cleanup:
    free(text);
    return st;
}

tribe_status tribe_report_html(const char *path, const tribe_segments *s, const tribe_persona *p,
                               const tribe_projection *proj, const char *run_json)
{
    return tribe_report_html_campaign(path, s, p, proj, run_json, NULL);
}
