/* report.html: the executive summary at the top and "What changed since the
 * last run" (transitions, migration matrix, drift). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A previous segment's name cell: "#id name". */
static tribe_status old_cell(tribe_sbuf *b, const tribe_changes *c, int i)
{
    tribe_status st = TRIBE_OK;
    if (i < c->ko) {
        OUT("<td>#%lld ", (long long)c->prev->seg_id[i]);
        ESC(c->prev->seg_names[i]);
        PUT("</td>");
    } else {
        PUT("<td><em>new to the base</em></td>");
    }
cleanup:
    return st;
}

/* The summary of a first run: the segments a marketing lead meets first. */
static tribe_status first_summary(tribe_sbuf *b, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    char v[48];
    int top = 0;
    for (int c = 1; c < s->k; c++)
        if (s->seg[c].revenue_share > s->seg[top].revenue_share)
            top = c;
    OUT("<li>%d segments over %s customers. This is the first run of its history: the next run that names it as "
        "<code>previous</code> will say what changed.</li>\n",
        s->k, tribe_fmt_count(v, sizeof v, (double)s->n_total));
    if (s->k > 0 && isfinite(s->seg[top].revenue_share)) {
        PUT("<li>The most valuable segment is <b>");
        ESC(s->seg[top].name);
        OUT("</b>: %.0f%% of the customers, %.0f%% of the revenue.</li>\n", 100 * s->seg[top].share,
            100 * s->seg[top].revenue_share);
    }
cleanup:
    return st;
}

/* One line on drift: how many columns shifted significantly, the worst three. */
static tribe_status drift_line(tribe_sbuf *b, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    char label[96];
    int n = 0, top[3] = {-1, -1, -1};
    for (int j = 0; c->psi && j < c->prev->m; j++) {
        if (!(c->psi[j] > 0.25))
            continue;
        n++;
        for (int t = 0; t < 3; t++)
            if (top[t] < 0 || c->psi[j] > c->psi[top[t]]) {
                for (int u = 2; u > t; u--)
                    top[u] = top[u - 1];
                top[t] = j;
                break;
            }
    }
    if (!n)
        goto cleanup;
    OUT("<li class=\"warn\">%d feature%s shifted significantly since the last run (population stability index "
        "over 0.25), most: ",
        n, n == 1 ? "" : "s");
    for (int t = 0; t < 3 && top[t] >= 0; t++) {
        PUT(t ? ", " : "");
        ESC(tribe_html_feature_label(c->prev->names[top[t]], label, sizeof label));
        OUT(" (%.2f)", c->psi[top[t]]);
    }
    PUT(".</li>\n");
cleanup:
    return st;
}

/* The few changes to read first: customers in and out, every transition
 * that is not a plain survival, the biggest size changes, drift. */
static tribe_status change_summary(tribe_sbuf *b, const tribe_segments *s, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    int64_t cont = 0, stayed = 0, added = 0, gone = 0;
    char v1[48], v2[48], v3[48], line[512];
    tribe_changes_counts(c, &cont, &stayed, &added, &gone);
    PUT("<li>Since run <b>");
    ESC(c->prev->run_id);
    OUT("</b>: %s customers joined and %s left; %s of the %s customers in both runs (%.1f%%) changed segment.</li>\n",
        tribe_fmt_count(v1, sizeof v1, (double)added), tribe_fmt_count(v2, sizeof v2, (double)gone),
        tribe_fmt_count(v3, sizeof v3, (double)(cont - stayed)), tribe_fmt_count(line, sizeof line, (double)cont),
        cont > 0 ? 100.0 * (double)(cont - stayed) / (double)cont : 0.0);
    int plain = 1;
    for (int t = 0; t < c->match.n; t++) {
        if (c->match.tr[t].type == TRIBE_TR_SURVIVED)
            continue;
        plain = 0;
        tribe_changes_describe(c, s, &c->match.tr[t], line, sizeof line);
        PUT("<li>");
        ESC(line);
        PUT(".</li>\n");
    }
    if (plain)
        OUT("<li>Every one of the %d previous segments survived with its id and name.</li>\n", c->ko);
    int shown = 0;
    for (int w = 0; w < c->n_warn && shown < 3; w++)
        if (strncmp(c->warn[w], "segment ", 8) == 0) { /* segment changes first, drift in one line */
            PUT("<li class=\"warn\">");
            ESC(c->warn[w]);
            PUT(".</li>\n");
            shown++;
        }
    TRIBE_TRY(drift_line(b, c));
cleanup:
    return st;
}

static tribe_status transitions_table(tribe_sbuf *b, const tribe_segments *s, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    char line[512];
    PUT("<h3>Segments then and now</h3>\n<div class=\"card scroll\" style=\"max-width:900px\"><table><thead><tr>"
        "<th>What happened</th><th>Customers before</th><th>Customers now</th><th>Centre moved</th></tr></thead>"
        "<tbody>\n");
    for (int t = 0; t < c->match.n; t++) {
        const tribe_transition *tr = &c->match.tr[t];
        int64_t before = tr->from >= 0 ? c->prev->size[tr->from] : 0, now = 0;
        for (int k = 0; k < tr->n_to; k++)
            now += s->seg[tr->to[k]].size;
        double shift = tr->type == TRIBE_TR_SURVIVED ? c->cdist[(size_t)tr->from * c->kn + tr->to[0]] : NAN;
        tribe_changes_describe(c, s, tr, line, sizeof line);
        PUT("<tr><td>");
        ESC(line);
        OUT("</td><td class=\"n\">%s</td>", tr->from >= 0 ? tribe_fmt_count(line, sizeof line, (double)before) : "&ndash;");
        OUT("<td class=\"n\">%s</td>", tr->n_to > 0 ? tribe_fmt_count(line, sizeof line, (double)now) : "&ndash;");
        if (isfinite(shift))
            OUT("<td class=\"n\">%.2f</td></tr>\n", shift);
        else
            PUT("<td class=\"n\">&ndash;</td></tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">A segment survives when at least half of its customers who are "
        "in both runs land in one new segment; it keeps its id, name and persona. \"Centre moved\" is the distance "
        "between its old and new centre in the previous run's model units (standard deviations).</p>\n");
cleanup:
    return st;
}

/* The migration matrix as a heat map: each row shaded by the share of that
 * previous segment going to each new one. */
static tribe_status matrix(tribe_sbuf *b, const tribe_segments *s, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    char v[48], r[48];
    PUT("<h3>Who moved where</h3>\n<p class=\"lead\">Rows: the segments of the previous run (and customers new to "
        "the base); columns: this run's segments (and customers gone from the base). Darker cells hold a larger "
        "share of the row; each cell shows customers and, below, their spend in this run.</p>\n"
        "<div class=\"card scroll\"><table class=\"heat\"><thead><tr><th>From \\ to</th>");
    for (int j = 0; j < c->kn; j++) {
        OUT("<th>#%d ", s->seg[j].id);
        ESC(s->seg[j].name);
        PUT("</th>");
    }
    PUT("<th><em>gone</em></th></tr></thead><tbody>\n");
    for (int i = 0; i <= c->ko; i++) {
        int64_t total = 0;
        for (int j = 0; j <= c->kn; j++)
            total += c->overlap[(size_t)i * (c->kn + 1) + j];
        PUT("<tr>");
        TRIBE_TRY(old_cell(b, c, i));
        for (int j = 0; j <= c->kn; j++) {
            int64_t n = c->overlap[(size_t)i * (c->kn + 1) + j];
            double share = total > 0 ? (double)n / (double)total : 0, rev = c->revenue[(size_t)i * (c->kn + 1) + j];
            OUT("<td class=\"n\" style=\"background:rgba(37,99,235,%.2f);color:%s\" title=\"%.1f%% of the row\">%s",
                0.05 + 0.85 * share, share > 0.5 ? "#fff" : "inherit", 100 * share,
                tribe_fmt_count(v, sizeof v, (double)n));
            if (j < c->kn && isfinite(rev) && n > 0)
                OUT("<br><small>%s</small>", tribe_fmt_money(r, sizeof r, &s->currency, rev));
            PUT("</td>");
        }
        PUT("</tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">The same counts are in migration.csv and in results.h5 "
        "(<code>/continuity/migration</code>).</p>\n");
cleanup:
    return st;
}

static tribe_status drift_table(tribe_sbuf *b, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    char label[96];
    if (!c->psi || !c->prev->has_ref) {
        PUT("<p class=\"note\">No drift table: the previous run was made before tribe kept a drift reference.</p>\n");
        goto cleanup;
    }
    PUT("<h3>Did the customers change?</h3>\n<p class=\"lead\">Population stability index of each feature against "
        "the previous run (its deciles as bins): under 0.1 stable, 0.1 to 0.25 a moderate shift, over 0.25 a "
        "significant one.</p>\n<div class=\"card scroll\" style=\"max-width:600px\"><table><thead><tr>"
        "<th>Feature</th><th>PSI</th><th>Reading</th></tr></thead><tbody>\n");
    for (int j = 0; j < c->prev->m; j++) {
        double p = c->psi[j];
        PUT("<tr><td>");
        ESC(tribe_html_feature_label(c->prev->names[j], label, sizeof label));
        OUT("</td><td class=\"n\">%.3f</td><td>%s</td></tr>\n", p,
            p < 0.1 ? "stable" : p <= 0.25 ? "moderate shift" : "<b>significant shift</b>");
    }
    PUT("</tbody></table></div>\n");
cleanup:
    return st;
}

tribe_status tribe_report_changes(tribe_sbuf *b, const tribe_segments *s, const tribe_changes *c)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_html_section(b, "summary", "In brief", "In brief"));
    PUT("<div class=\"card\" style=\"max-width:900px\"><ul>\n");
    TRIBE_TRY(c ? change_summary(b, s, c) : first_summary(b, s));
    PUT("</ul></div></section>\n");
    if (!c)
        goto cleanup;
    TRIBE_TRY(tribe_html_section(b, "changes", "What changed", "What changed since the last run"));
    TRIBE_TRY(transitions_table(b, s, c));
    TRIBE_TRY(matrix(b, s, c));
    TRIBE_TRY(drift_table(b, c));
    if (c->n_warn > 0) {
        PUT("<h3>Warnings</h3><ul>\n");
        for (int w = 0; w < c->n_warn; w++) {
            PUT("<li>");
            ESC(c->warn[w]);
            PUT("</li>\n");
        }
        PUT("</ul>\n");
    }
    PUT("</section>\n");
cleanup:
    return st;
}
