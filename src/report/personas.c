/* report.html: one persona card per segment. */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The mark of a demographic field the data does not hold. */
#define ILLUS " <span class=\"illus\" title=\"Not in the data: invented for the story\">illustrative</span>"

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
                                           {"monetary", "", "net spend (after returns)"}};
    char v[64];
    int any = 0;
    for (size_t i = 0; i < sizeof feats / sizeof *feats; i++) {
        int j = tribe_segments_feature(s, feats[i][0]);
        if (j < 0 || !isfinite(s->seg[c].median[j]))
            continue;
        if (!any++)
            PUT("<div class=\"stats\">");
        OUT("<div><b>%s%s</b><span>%s</span></div>", tribe_fmt_feature(v, sizeof v, &s->currency, feats[i][0], s->seg[c].median[j]),
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

/* "base.median.monetary" -> "Whole base: median Net spend (after returns)": what an
 * evidence line names, from the figure ids of personas.json. */
static tribe_status figure_label(tribe_sbuf *b, const char *id, const tribe_segments *s)
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
            snprintf(phrase, sizeof phrase, "%s %s", stats[i][1], tribe_html_feature_label(id + n, lb, sizeof lb));
            /* lower case inside a phrase: "median net spend (after returns)" */
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
    if (strncmp(id, "offer.", 6) == 0 && strchr(id + 6, '.')) { /* offer.<q>.<figure> (docs/offers.md) */
        static const char *const words[][2] = {{"lift", "times as often as the base"},
                                               {"share", "share of the segment who bought it"},
                                               {"base_share", "share of all customers who bought it"},
                                               {"customers", "buyers in the segment"}};
        const char *f = strchr(id + 6, '.') + 1;
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (strcmp(f, words[i][0]) == 0) {
                TRIBE_TRY(tribe_sbuf_printf(b, "offer %d: %s", atoi(id + 6) + 1, words[i][1]));
                goto cleanup;
            }
    }
    /* predictions: "mean predicted spend in the next 90 days" */
    static const char *const pred[][3] = {
        {"ltv.mean", "mean predicted spend", "l"},
        {"ltv.median", "median predicted spend", "l"},
        {"ltv.total", "the segment's predicted spend", "l"},
        {"ltv.horizon_days", "days the predicted spend covers", ""},
        {"churn.mean_risk", "mean risk of no purchase", "c"},
        {"churn.high_share", "share at high risk of no purchase", "c"},
        {"churn.high_risk", "risk from which a customer counts as high risk", ""},
        {"churn.horizon_days", "days the churn risk covers", ""}};
    for (size_t i = 0; i < sizeof pred / sizeof *pred; i++)
        if (strcmp(id, pred[i][0]) == 0) {
            double days = pred[i][2][0] == 'l' ? s->ltv_horizon_days : s->churn_horizon_days;
            PUT(pred[i][1]);
            if (pred[i][2][0] && isfinite(days) && days > 0)
                OUT(" in the next %.0f days", days);
            goto cleanup;
        }
    ESC(id);
cleanup:
    return st;
}

/* The persona's evidence (as personas.json states it, tribe_persona_evidence:
 * one definition of which figure a number cites): every figure its text
 * states, as written, with the profile figure it rests on. An empty list
 * says so. */
static tribe_status evidence_list(tribe_sbuf *b, const tribe_persona *q, const tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    tribe_evidence *ev = NULL;
    int n = 0;
    TRIBE_TRY(tribe_persona_evidence(q, s, &ev, &n));
    PUT("<h4>Evidence</h4>");
    if (n == 0) {
        PUT("<p class=\"note ev\">The text states no figures.</p>\n");
        goto cleanup;
    }
    PUT("<ul class=\"ev\">");
    for (int i = 0; i < n; i++) {
        const tribe_evidence *e = &ev[i];
        PUT("<li><b>");
        ESC(e->written);
        PUT("</b> ");
        if (e->figure[0]) {
            TRIBE_TRY(figure_label(b, e->figure, s));
            PUT(" <code>");
            ESC(e->figure);
            if (isfinite(e->value))
                OUT(" = %.10g", e->value);
            PUT("</code>");
        } else {
            PUT("<span class=\"bad\">no matching figure</span>");
        }
        PUT(" <span class=\"m\">in ");
        ESC(e->field);
        PUT("</span></li>");
    }
    PUT("</ul>\n");
cleanup:
    free(ev);
    return st;
}

/* The segment's row of the campaign plan, in a card. */
static tribe_status card_campaign(tribe_sbuf *b, const tribe_segments *s, const tribe_campaign_plan *r)
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
    OUT("</dd><dt>Expected value</dt><dd>%s", tribe_fmt_money(v, sizeof v, &s->currency, r->expected_value));
    OUT(" <span class=\"m\">(%s response &times; ", tribe_fmt_pct(v, sizeof v, r->response_rate));
    OUT("%s order value; priority %d)</span></dd></dl></div>\n",
        tribe_fmt_money(v, sizeof v, &s->currency, r->order_value), r->priority);
cleanup:
    return st;
}

/* The segment's image as a data: URI, only when it is a PNG or JPEG in
 * plain base64: nothing else from the server reaches the page. */
static tribe_status card_image(tribe_sbuf *b, const tribe_persona_image *im, const char *name)
{
    tribe_status st = TRIBE_OK;
    if (im && !im->b64) { /* the run asked for one: say why there is none */
        char why[256];
        PUT("<p class=\"prov\">Portrait: ");
        ESC(tribe_persona_image_summary(im, why, sizeof why));
        PUT("</p>\n");
        return TRIBE_OK;
    }
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

tribe_status tribe_report_personas(tribe_sbuf *b, const tribe_segments *s, const tribe_persona *p,
                                   const tribe_campaign_plan *plan, const tribe_persona_image *img)
{
    tribe_status st = TRIBE_OK;
    char cb[32], cnt[48], pc[32];
    TRIBE_TRY(tribe_html_section(b, "personas", "Personas", "Personas"));
    PUT("<p class=\"lead\">One imagined customer per segment, written from the segment's figures: every number "
        "quoted is a real figure of the segment. Use them to brief creative and to choose the message, offer "
        "and channel for each segment.</p>\n");
    if (!p) {
        PUT("<div class=\"card\"><p class=\"note\">No personas were written in this run.</p></div></section>\n");
        return TRIBE_OK;
    }
    /* Demographics the data does not hold are invented for the story: say so on every card. */
    int age_known = tribe_segments_feature(s, "age") >= 0, occ_known = 0;
    for (int m = 0; m < s->n_mix; m++)
        occ_known |= strcasecmp(s->mix[m].name, "occupation") == 0;
    if (!age_known || !occ_known)
        OUT("<p class=\"note\">The data has no %s column: the %s on the cards %s illustrative, not measured.</p>\n",
            !age_known && !occ_known ? "age or occupation" : !age_known ? "age" : "occupation",
            !age_known && !occ_known ? "age bands and occupations" : !age_known ? "age bands" : "occupations",
            "are");
    PUT("<div class=\"personas\">\n");
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        int pi = REPORT_ENTRY(p, s->k, c, g->id), ri = REPORT_ENTRY(plan, s->k, c, g->id);
        int ii = REPORT_ENTRY(img, s->k, c, g->id);
        if (pi < 0)
            continue;
        const tribe_persona *q = &p[pi];
        char initials[8] = {0};
        int ni = 0;
        for (const char *t = q->name; t && *t && ni < 2; t++)
            if ((t == q->name || t[-1] == ' ') && isalpha((unsigned char)*t))
                initials[ni++] = (char)toupper((unsigned char)*t);
        tribe_fmt_count(cnt, sizeof cnt, (double)g->size);
        tribe_fmt_pct(pc, sizeof pc, g->share);
        OUT("<article class=\"card persona\" style=\"--c:%s\"><div class=\"in\">\n", tribe_html_color(c, cb));
        OUT("<div class=\"ph\"><div class=\"avatar\">%s</div><div><div class=\"seg\">", initials);
        ESC(g->name);
        OUT(" &middot; %s customers (%s)</div><h3>", cnt, pc);
        ESC(q->name);
        PUT("</h3><div class=\"meta\">");
        ESC(q->age_band);
        if (!age_known)
            PUT(ILLUS);
        PUT(" &middot; ");
        ESC(q->occupation);
        if (!occ_known)
            PUT(ILLUS);
        PUT("</div></div></div>\n");
        TRIBE_TRY(card_image(b, ii >= 0 ? &img[ii] : NULL, q->name));
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
        if (ri >= 0)
            TRIBE_TRY(card_campaign(b, s, &plan[ri]));
        TRIBE_TRY(evidence_list(b, q, s));
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
    return st;
}

