/* report.html: the page around the stages' sections (tribe/report.h).
 *
 * Everything is generated here: inline CSS, inline SVG charts, no scripts and
 * no external references, so the file opens offline, from an e-mail
 * attachment or a shared drive, and looks the same everywhere. Every piece
 * of text from the data (segment, level, feature and persona text, run facts)
 * goes through tribe_html_esc() (html_util.c). */
#include "report_internal.h"

#include "tribe/date.h"
#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    ".facts dt{display:inline;opacity:.7;margin-right:6px}.facts dd{display:inline;margin:0;font-weight:600;"
    "overflow-wrap:anywhere}\n"
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
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(200px,100%),1fr));gap:14px;margin-top:26px}\n"
    ".kpi .v{font-size:26px;font-weight:700;letter-spacing:-.01em}\n"
    ".kpi .l{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.06em;font-weight:600}\n"
    ".kpi .n{color:var(--muted);font-size:13px;margin-top:2px}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;color:var(--muted);margin:6px 0 0}\n"
    ".sw{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:6px;vertical-align:-1px}\n"
    ".dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:7px;vertical-align:0}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    ".bars{display:grid;gap:10px}.brow{display:grid;grid-template-columns:minmax(0,210px) minmax(0,1fr);gap:4px 14px;"
    "align-items:center}\n"
    ".bn{font-weight:600;font-size:14px;overflow-wrap:anywhere}.bt{display:grid;gap:3px}\n"
    ".bar{display:flex;align-items:center;gap:8px;font-size:13px;color:#374151}.bar i{flex:none;height:16px;"
    "border-radius:3px;min-width:2px}\n"
    ".bar.rev{font-size:12px;color:var(--muted)}.bar.rev i{height:11px;opacity:.38}\n"
    "td.na{color:var(--muted)}\n"
    ".illus{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;background:#fef3c7;"
    "color:#92400e;border-radius:4px;padding:1px 5px;margin-left:4px}\n"
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
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:16px}\n"
    ".grid2>*,.personas>*,.kpis>*{min-width:0}\n"
    ".mix h3{font-size:15px;margin:0 0 8px}\n"
    ".personas{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(500px,100%),1fr));gap:18px}\n"
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
    ".email .eb{padding:12px 14px;white-space:pre-line;font-size:14px;overflow-wrap:anywhere}\n"
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
    "table.kv td{text-align:left;overflow-wrap:anywhere}table.kv td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td,th{font-variant-numeric:tabular-nums}\n"
    "footer{border-top:1px solid var(--line);color:var(--muted);font-size:13px;padding:22px 0 40px;margin-top:40px}\n"
    "@media (max-width:640px){.wrap{padding:0 14px}h1{font-size:24px}.card{padding:14px}"
    ".brow{grid-template-columns:minmax(0,1fr)}.stats{grid-template-columns:repeat(2,1fr)}"
    ".two{grid-template-columns:minmax(0,1fr)}th,td{padding:6px 7px}}\n"
    "@media print{nav.toc{display:none}.card{box-shadow:none}section{break-inside:avoid}}\n";

/* ---- run facts (the run record) ------------------------------------------------- */

static void rec_scalar(const tribe_rec *v, char *buf, size_t cap, int seconds)
{
    switch (tribe_rec_type(v)) {
    case TRIBE_REC_STR: snprintf(buf, cap, "%s", tribe_rec_string(v)); break;
    case TRIBE_REC_BOOL: snprintf(buf, cap, "%s", tribe_rec_true(v) ? "yes" : "no"); break;
    case TRIBE_REC_NULL: snprintf(buf, cap, "-"); break;
    case TRIBE_REC_NUM: {
        double d = tribe_rec_number(v);
        if (seconds)
            snprintf(buf, cap, "%.2f s", d);
        else if (fabs(d) < 1e15 && d == floor(d))
            tribe_fmt_count(buf, cap, d);
        else
            snprintf(buf, cap, "%.4g", d);
        break;
    }
    case TRIBE_REC_ARR: { /* "1, 2, 3": the items as scalars */
        size_t n = 0;
        buf[0] = '\0';
        for (const tribe_rec *e = tribe_rec_first(v); e && n + 1 < cap; e = tribe_rec_next(e)) {
            char item[64];
            rec_scalar(e, item, sizeof item, seconds);
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", item);
        }
        break;
    }
    case TRIBE_REC_OBJ: snprintf(buf, cap, "{...}"); break;
    }
}

/* One row of a two-column table: the key as a label, the value escaped. */
static tribe_status kv_row(tribe_sbuf *b, const char *key, const char *val, int num)
{
    tribe_status st = TRIBE_OK;
    char label[256];
    report_pretty_key(key, label, sizeof label);
    PUT("<tr><td>");
    ESC(label);
    OUT("</td><td class=\"%s\">", num ? "n" : "");
    ESC(val);
    PUT("</td></tr>\n");
cleanup:
    return st;
}

/* An object of the record as a two-column table; nested objects flatten to
 * dotted keys. */
static tribe_status kv_rows(tribe_sbuf *b, const tribe_rec *obj, const char *prefix, int seconds)
{
    tribe_status st = TRIBE_OK;
    char key[256], val[512];
    for (const tribe_rec *v = tribe_rec_first(obj); v; v = tribe_rec_next(v)) {
        const char *name = tribe_rec_name(v);
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", name ? name : "");
        if (tribe_rec_type(v) == TRIBE_REC_OBJ) {
            TRIBE_TRY(kv_rows(b, v, key, seconds));
            continue;
        }
        int num = tribe_rec_type(v) == TRIBE_REC_NUM;
        rec_scalar(v, val, sizeof val, seconds && num);
        TRIBE_TRY(kv_row(b, key, val, num));
    }
cleanup:
    return st;
}

static tribe_status card_open(tribe_sbuf *b, const char *title)
{
    tribe_status st = TRIBE_OK;
    PUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">");
    ESC(title);
    PUT("</h3>");
cleanup:
    return st;
}

static tribe_status kv_table(tribe_sbuf *b, const char *title, const tribe_rec *obj, int seconds)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(card_open(b, title));
    if (!tribe_rec_first(obj))
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

/* ---- the data-quality ledger ---------------------------------------------------- */

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The ledger as a marketer reads it: dates as dates (the day numbers
 * "first_invoice_day" etc. are internals: shown only as the date, and only
 * when the ledger has no date of that name), the cutoff as a date or "none
 * (latest data)", and the counts of an optional source (web_*,
 * demographics_*) replaced by one "not given" row when the run had none. */
static tribe_status ledger_table(tribe_sbuf *b, const tribe_rec *l)
{
    tribe_status st = TRIBE_OK;
    char val[512], date[11], alt[256];
    const char *cut = tribe_rec_string(tribe_rec_get(l, "cutoff"));
    const tribe_rec *cut_day = tribe_rec_get(l, "cutoff_day");
    int has_cut = cut ? cut[0] != '\0' : tribe_rec_type(cut_day) == TRIBE_REC_NUM && tribe_rec_number(cut_day) >= 0;
    int web = tribe_rec_true(tribe_rec_get(l, "has_web")), demo = tribe_rec_true(tribe_rec_get(l, "has_demographics"));
    TRIBE_TRY(card_open(b, "Data-quality ledger"));
    PUT("<table class=\"kv\"><tbody>\n");
    for (const tribe_rec *v = tribe_rec_first(l); v; v = tribe_rec_next(v)) {
        const char *key = tribe_rec_name(v);
        if (!key || tribe_rec_type(v) == TRIBE_REC_OBJ)
            continue;
        if ((!web && strncmp(key, "web_", 4) == 0) || (!demo && strncmp(key, "demographics_", 13) == 0))
            continue; /* a source that was not given: one row below says so */
        if (!has_cut && (strstr(key, "after_cutoff") || strcmp(key, "horizon_days") == 0))
            continue; /* meaningful only with a cutoff */
        if (strcmp(key, "has_web") == 0 || strcmp(key, "has_demographics") == 0) {
            int given = tribe_rec_true(v);
            TRIBE_TRY(kv_row(b, key[4] == 'w' ? "web_sessions" : "demographics", given ? "given" : "not given", 0));
            continue;
        }
        if (strcmp(key, "cutoff") == 0 || strcmp(key, "cutoff_day") == 0) {
            if (strcmp(key, "cutoff_day") == 0 && cut)
                continue; /* the date says it */
            if (!has_cut)
                snprintf(val, sizeof val, "none (latest data)");
            else if (cut)
                snprintf(val, sizeof val, "%s", cut);
            else
                tribe_format_day((int64_t)tribe_rec_number(v), val);
            TRIBE_TRY(kv_row(b, "cutoff", val, 0));
            continue;
        }
        if (ends_with(key, "_day") && tribe_rec_type(v) == TRIBE_REC_NUM) {
            /* "first_invoice_day" -> "first_invoice_date"; "snapshot_day" -> "snapshot" */
            size_t stem = strlen(key) - 4;
            snprintf(alt, sizeof alt, "%.*s_date", (int)stem, key);
            int dup = tribe_rec_get(l, alt) != NULL;
            snprintf(alt, sizeof alt, "%.*s", (int)stem, key);
            if (dup || tribe_rec_get(l, alt))
                continue;
            tribe_format_day((int64_t)tribe_rec_number(v), date);
            TRIBE_TRY(kv_row(b, alt, date, 0));
            continue;
        }
        rec_scalar(v, val, sizeof val, 0);
        TRIBE_TRY(kv_row(b, key, val, tribe_rec_type(v) == TRIBE_REC_NUM));
    }
    PUT("</tbody></table></div>\n");
cleanup:
    return st;
}

/* ---- header, navigation, run details ------------------------------------------ */

static tribe_status header(tribe_sbuf *b, const tribe_segments *s, const tribe_rec *run)
{
    tribe_status st = TRIBE_OK;
    char n[48], val[512], label[256];
    PUT("<header class=\"top\"><div class=\"wrap\"><div class=\"brand\">tribe &middot; customer segmentation</div>\n");
    PUT("<h1>Who our customers are, and how to reach them</h1>\n<p class=\"sub\">");
    if (s) {
        tribe_fmt_count(n, sizeof n, (double)s->n_total);
        OUT("%s customers in %d segments &middot; money in %s (", n, s->k, s->currency.code);
        ESC(s->currency.symbol);
        PUT(")");
    }
    const char *input = tribe_rec_string(tribe_rec_get(run, "input"));
    if (input) {
        PUT(" &middot; source ");
        ESC(input);
    }
    PUT("</p>\n");
    if (run) {
        PUT("<dl class=\"facts\">");
        for (const tribe_rec *v = tribe_rec_first(run); v; v = tribe_rec_next(v)) {
            tribe_rec_kind kind = tribe_rec_type(v);
            if (kind == TRIBE_REC_OBJ || kind == TRIBE_REC_ARR || !tribe_rec_name(v))
                continue;
            report_pretty_key(tribe_rec_name(v), label, sizeof label);
            rec_scalar(v, val, sizeof val, 0);
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

/* The navigation bar: a link to every section the body holds, in its order,
 * labelled by the section's data-nav attribute. */
static tribe_status toc(tribe_sbuf *b, const char *body)
{
    static const char OPEN[] = "<section id=\"", NAV[] = "\" data-nav=\"";
    tribe_status st = TRIBE_OK;
    PUT("<nav class=\"toc\"><div class=\"wrap\">");
    for (const char *q = body; (q = strstr(q, OPEN)) != NULL;) {
        q += strlen(OPEN);
        size_t n = strcspn(q, "\"");
        if (strncmp(q + n, NAV, strlen(NAV)) == 0) {
            const char *lab = q + n + strlen(NAV);
            /* both parts are already escaped in the section's tag */
            OUT("<a href=\"#%.*s\">%.*s</a>", (int)n, q, (int)strcspn(lab, "\""), lab);
        }
        q += n;
    }
    PUT("</div></nav>\n");
cleanup:
    return st;
}

/* The model: segments, the features the model was built from (the run
 * record's transform.columns; the profile may describe more) and inertia. */
static tribe_status model_card(tribe_sbuf *b, const tribe_segments *s, const tribe_rec *cols)
{
    tribe_status st = TRIBE_OK;
    char v[64];
    int m = 0;
    for (const tribe_rec *e = tribe_rec_first(cols); e; e = tribe_rec_next(e))
        m++;
    if (tribe_rec_type(cols) != TRIBE_REC_ARR)
        m = s->d;
    snprintf(v, sizeof v, "%.6g", s->inertia);
    OUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">Model</h3><table class=\"kv\"><tbody>"
        "<tr><td>Segments</td><td class=\"n\">%d</td></tr><tr><td>Features used</td><td class=\"n\">%d</td></tr>",
        s->k, m);
    if (tribe_rec_type(cols) == TRIBE_REC_ARR && m > 0) {
        PUT("<tr><td>Built from</td><td>");
        for (const tribe_rec *e = tribe_rec_first(cols); e; e = tribe_rec_next(e)) {
            char lab[128];
            if (e != tribe_rec_first(cols))
                PUT(", ");
            ESC(tribe_html_feature_label(tribe_rec_string(e) ? tribe_rec_string(e) : "", lab, sizeof lab));
        }
        PUT("</td></tr>");
    }
    OUT("<tr><td>Inertia (model space)</td><td class=\"n\">%s</td></tr></tbody></table></div>\n", v);
cleanup:
    return st;
}

static tribe_status run_details(tribe_sbuf *b, const tribe_segments *s, const tribe_rec *run)
{
    static const char *const TABLES[][2] = {{"timings", "Timings"}, {"memory", "Peak memory (bytes)"}};
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_html_section(b, "quality", "Data quality", "Data quality and run details"));
    PUT("<p class=\"lead\">What the run read, what it set aside and why, and how long each stage took.</p>\n");
    if (!run) {
        PUT("<div class=\"card\"><p class=\"note\">No run record was passed to the report.</p></div></section>\n");
        return TRIBE_OK;
    }
    PUT("<div class=\"grid2\">\n");
    const tribe_rec *ledger = tribe_rec_get(run, "ledger");
    if (tribe_rec_type(ledger) == TRIBE_REC_OBJ)
        TRIBE_TRY(ledger_table(b, ledger));
    else
        PUT("<div class=\"card\"><p class=\"note\">The run recorded no data-quality ledger.</p></div>\n");
    for (size_t i = 0; i < sizeof TABLES / sizeof *TABLES; i++) {
        const tribe_rec *o = tribe_rec_get(run, TABLES[i][0]);
        if (tribe_rec_type(o) == TRIBE_REC_OBJ)
            TRIBE_TRY(kv_table(b, TABLES[i][1], o, i == 0));
    }
    if (s && isfinite(s->inertia))
        TRIBE_TRY(model_card(b, s, tribe_rec_get(tribe_rec_get(run, "transform"), "columns")));
    PUT("</div></section>\n");
cleanup:
    return st;
}

tribe_status tribe_report_html(const tribe_report_page *page, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf buf = {0}, *b = &buf, body = {0};
    const char *rid = tribe_rec_string(tribe_rec_get(page->record, "run_id"));
    PUT("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Customer segments");
    if (rid) {
        PUT(" &middot; ");
        ESC(rid);
    }
    OUT("</title>\n<meta name=\"generator\" content=\"tribe %s\">\n<style>\n%s</style></head><body>\n",
        TRIBE_VERSION, CSS);
    /* The body first: the navigation bar lists the sections it holds. */
    if (page->sections)
        TRIBE_TRY(tribe_sbuf_add(&body, page->sections));
    TRIBE_TRY(run_details(&body, page->segs, page->record));
    TRIBE_TRY(header(b, page->segs, page->record));
    TRIBE_TRY(toc(b, body.p ? body.p : ""));
    PUT("<main class=\"wrap\">\n");
    if (body.len)
        TRIBE_TRY(tribe_sbuf_addn(b, body.p, body.len));
    PUT("</main>\n<footer><div class=\"wrap\">");
    OUT("Generated by tribe %s", TRIBE_VERSION);
    if (rid) {
        PUT(" &middot; run ");
        ESC(rid);
    }
    tribe_currency cur = page->segs ? page->segs->currency : tribe_currency_default();
    OUT(" &middot; money in whole %s (", cur.code);
    ESC(cur.symbol);
    PUT("), shares in percent of customers; figures are medians unless marked as means.</div></footer>\n"
        "</body></html>\n");
    TRIBE_TRY(tribe_sbuf_take(b, out));
cleanup:
    tribe_sbuf_free(b);
    tribe_sbuf_free(&body);
    return st;
}
