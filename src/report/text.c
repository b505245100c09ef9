/* report.html: "What customers write about" (the text signals of ingest
 * --text, docs/ingest.md): the topics' top terms, and per segment of at
 * least k_min customers its mean sentiment and its largest topics. */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Topic t's label: its first three terms. */
static void topic_label(const char *terms, char *buf, size_t cap)
{
    int words = 0;
    size_t n = 0;
    while (terms[n] && !(terms[n] == ' ' && ++words == 3))
        n++;
    snprintf(buf, cap, "%.*s", (int)n, terms);
}

/* The two topics of segment c with the largest mean share, as "label
 * (share%)"; nothing when the segment has no share. */
static tribe_status top_topics(tribe_sbuf *b, const tribe_segments *s, int c, int n_topics,
                               const char *const *topics)
{
    tribe_status st = TRIBE_OK;
    int best[2] = {-1, -1};
    double val[2] = {-1, -1};
    for (int t = 0; t < n_topics; t++) {
        char name[32];
        snprintf(name, sizeof name, "topic_%d", t + 1);
        int j = tribe_segments_feature(s, name);
        double v = j >= 0 ? s->seg[c].mean[j] : NAN;
        if (!(v > val[1]))
            continue;
        int at = v > val[0] ? 0 : 1;
        if (at == 0) {
            best[1] = best[0];
            val[1] = val[0];
        }
        best[at] = t;
        val[at] = v;
    }
    PUT("<td>");
    for (int q = 0; q < 2 && best[q] >= 0; q++) {
        char label[160];
        topic_label(topics[best[q]], label, sizeof label);
        OUT("%s%d. ", q ? "; " : "", best[q] + 1);
        ESC(label);
        OUT(" (%.0f%%)", 100.0 * val[q]);
    }
    PUT("</td>");
cleanup:
    return st;
}

tribe_status tribe_report_text(tribe_sbuf *b, const tribe_segments *s, int n_topics, const char *const *topics,
                               int64_t k_min)
{
    tribe_status st = TRIBE_OK;
    int js = tribe_segments_feature(s, "sentiment"), jn = tribe_segments_feature(s, "negative_share");
    int hidden = 0;
    char v[48];
    TRIBE_TRY(tribe_html_section(b, "text", "Customer voice", "What customers write about"));
    PUT("<p class=\"lead\">From the customers' reviews, tickets and survey answers: sentiment from the VADER "
        "lexicon (-1 very negative to +1 very positive; a text is negative at -0.05 or below) and topics found "
        "in the texts (TF-IDF and spherical K-Means). Means are over the customers who wrote.</p>\n");
    if (n_topics > 0) {
        PUT("<div class=\"card scroll\" style=\"max-width:760px\"><table><thead><tr><th>Topic</th><th>Top terms"
            "</th></tr></thead><tbody>\n");
        for (int t = 0; t < n_topics; t++) {
            OUT("<tr><td class=\"n\">%d</td><td>", t + 1);
            ESC(topics[t][0] ? topics[t] : "(no terms)");
            PUT("</td></tr>\n");
        }
        PUT("</tbody></table></div>\n");
    }
    PUT("<div class=\"card scroll\" style=\"max-width:960px\"><table><thead><tr><th>Segment</th><th>Customers</th>"
        "<th>Mean sentiment</th><th>Negative texts</th>");
    if (n_topics > 0)
        PUT("<th>Largest topics</th>");
    PUT("</tr></thead><tbody>\n");
    for (int c = 0; c < s->k; c++) {
        if (s->seg[c].size < k_min) { /* aggregates of small segments stay out (persona.k_min) */
            hidden++;
            continue;
        }
        double sent = js >= 0 ? s->seg[c].mean[js] : NAN, neg = jn >= 0 ? s->seg[c].mean[jn] : NAN;
        PUT("<tr>");
        TRIBE_TRY(report_seg_cell(b, s, c));
        OUT("<td class=\"n\">%s</td>", tribe_fmt_count(v, sizeof v, (double)s->seg[c].size));
        if (isfinite(sent))
            OUT("<td class=\"n\">%+.2f</td><td class=\"n\">%.0f%%</td>", sent, 100.0 * neg);
        else
            PUT("<td class=\"n\">&ndash;</td><td class=\"n\">&ndash;</td>");
        if (n_topics > 0)
            TRIBE_TRY(top_topics(b, s, c, n_topics, topics));
        PUT("</tr>\n");
    }
    PUT("</tbody></table></div>\n");
    if (hidden > 0)
        OUT("<p class=\"note\">%d segment%s with fewer than %lld customers (persona.k_min) %s not shown "
            "individually.</p>\n",
            hidden, hidden > 1 ? "s" : "", (long long)k_min, hidden > 1 ? "are" : "is");
    PUT("<p class=\"note\">Per-customer figures are the features <code>text_docs</code>, <code>sentiment</code>, "
        "<code>negative_share</code> and <code>topic_1</code>&hellip; of customers.h5; they are not model columns "
        "unless the job names them.</p></section>\n");
cleanup:
    return st;
}
