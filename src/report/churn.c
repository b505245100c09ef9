/* report.html: churn (the models scored on the test window, calibration,
 * risk per segment). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>

static const char *const CHURN_LABEL[TRIBE_CHURN_MODELS] = {"Gradient-boosted trees (tribe)",
                                                             "BG/NBD: 1 &minus; P(alive)",
                                                             "BG/NBD: P(no purchase in the horizon)"};

/* A cell with a rate in percent, or a dash when it is not a number. */
static tribe_status pct_cell(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "<td class=\"n\">%.1f%%</td>", 100 * v)
                       : tribe_sbuf_add(b, "<td class=\"n\">&ndash;</td>");
}

/* The calibration table: per bin of predicted risk, each model's count, mean
 * predicted risk and observed churn rate. */
static tribe_status churn_calibration(tribe_sbuf *b, const tribe_churn *ch)
{
    tribe_status st = TRIBE_OK;
    char v1[64];
    PUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Calibration on the test window</h3>\n"
        "<div class=\"card scroll\"><table><thead><tr><th>Predicted risk</th>");
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        OUT("<th colspan=\"3\">%s</th>", CHURN_LABEL[i]);
    PUT("</tr><tr><th></th>");
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        PUT("<th>Customers</th><th>Predicted</th><th>Observed</th>");
    PUT("</tr></thead><tbody>\n");
    for (int bin = 0; bin < TRIBE_CHURN_BINS; bin++) {
        OUT("<tr><td>%d&ndash;%d%%</td>", bin * 100 / TRIBE_CHURN_BINS, (bin + 1) * 100 / TRIBE_CHURN_BINS);
        for (int i = 0; i < TRIBE_CHURN_MODELS; i++) {
            const tribe_churn_metrics *m = &ch->metrics[i];
            OUT("<td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)m->bin_count[bin]));
            TRIBE_TRY(pct_cell(b, m->bin_risk[bin]));
            TRIBE_TRY(pct_cell(b, m->bin_churned[bin]));
        }
        PUT("</tr>\n");
    }
    PUT("</tbody></table></div>\n");
cleanup:
    return st;
}

/* "Churn": AUC, Brier score and calibration error of the GBDT and the
 * BG/NBD baseline on the later window, the calibration table, the risk per
 * segment. */
tribe_status tribe_report_churn(tribe_sbuf *b, const tribe_segments *s, const tribe_churn *ch)
{
    tribe_status st = TRIBE_OK;
    char cb[32], v1[64];
    TRIBE_TRY(tribe_html_section(b, "churn", "Churn", "Churn"));
    OUT("<p class=\"lead\">Risk that a customer buys nothing in the next %.0f days. Scored honestly: fitted on the "
        "history up to one cutoff and who bought in the %.0f days after it (%s customers, %.1f%% churned), then "
        "judged on a later window it never saw (%s customers, %.1f%% churned). AUC: the chance that a churner is "
        "ranked above a customer who stayed (0.5 = guessing, 1 = perfect). Brier score: mean squared error of "
        "the predicted risk (lower is better). Calibration error: the gap between predicted and observed churn, "
        "averaged over the ten risk bins below.</p>\n",
        ch->horizon_days, ch->horizon_days, tribe_fmt_count(v1, sizeof v1, (double)ch->n_train),
        100 * ch->churn_train, tribe_fmt_count(cb, sizeof cb, (double)ch->n_test), 100 * ch->churn_test);
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Model</th><th>AUC</th><th>Brier score</th>"
        "<th>Calibration error</th></tr></thead><tbody>\n");
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++) {
        const tribe_churn_metrics *m = &ch->metrics[i];
        OUT("<tr><td>%s</td>", CHURN_LABEL[i]);
        if (isfinite(m->auc))
            OUT("<td class=\"n\">%.3f</td>", m->auc);
        else
            PUT("<td class=\"n\">&ndash;</td>");
        OUT("<td class=\"n\">%.3f</td><td class=\"n\">%.3f</td></tr>\n", m->brier, m->ece);
    }
    PUT("</tbody></table></div>\n");
    TRIBE_TRY(churn_calibration(b, ch));
    OUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Churn risk per segment</h3>\n"
        "<div class=\"card scroll\"><table><thead><tr><th>Segment</th><th>Customers</th><th>Mean risk</th>"
        "<th>High risk (&ge; %.0f%%)</th></tr></thead><tbody>\n",
        100 * ch->high_risk);
    for (int c = 0; c < s->k && c < ch->k; c++) {
        OUT("<tr><td><span class=\"sw\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
        ESC(s->seg[c].name);
        OUT("</td><td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)s->seg[c].size));
        TRIBE_TRY(pct_cell(b, ch->seg_mean[c]));
        TRIBE_TRY(pct_cell(b, ch->seg_high[c]));
        PUT("</tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">Per-customer risks are in results.h5 "
        "(<code>/segments/churn_risk</code>) and the exports; the model, its metrics and calibration under "
        "<code>/model/churn</code>. The campaign plan proposes retention for segments of high value and high "
        "risk.</p></section>\n");
cleanup:
    return st;
}
