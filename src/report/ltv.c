/* report.html: lifetime value (models scored on the test window, value per segment). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>

/* "Lifetime value": the models scored on the later window (MAE, RMSE, R^2,
 * top-decile lift) and the predicted value per segment. */
tribe_status tribe_report_ltv(tribe_sbuf *b, const tribe_segments *s, const tribe_ltv *lv)
{
    static const char *const LABEL[TRIBE_LTV_MODELS] = {"Gradient-boosted trees (tribe)",
                                                        "Trees correcting BG/NBD + Gamma-Gamma",
                                                        "BG/NBD + Gamma-Gamma", "Blend of the three",
                                                        "Past spend rate carried forward"};
    tribe_status st = TRIBE_OK;
    char cb[32], v1[64], v2[64], v3[64];
    TRIBE_TRY(tribe_html_section(b, "ltv", "Lifetime value", "Lifetime value"));
    OUT("<p class=\"lead\">Predicted spend per customer in the next %.0f days. The models were scored honestly: "
        "fitted on the customers' history up to one cutoff and the spend that followed, then judged on a later "
        "window they never saw. Lower MAE and RMSE are better; R&sup2; is the share of the spread in spend "
        "explained; lift = how much more the top 10%% of predicted customers spent than an average 10%%.</p>\n",
        lv->horizon_days);
    PUT("<div class=\"card scroll\"><table><thead><tr><th>Model</th><th>MAE</th><th>RMSE</th><th>R&sup2;</th>"
        "<th>Top-decile lift</th></tr></thead><tbody>\n");
    for (int i = 0; i < TRIBE_LTV_MODELS; i++) {
        const double *row = lv->metrics[i];
        PUT("<tr><td>");
        ESC(LABEL[i]);
        if (i == TRIBE_LTV_BLEND)
            OUT(" (%.0f%% / %.0f%% / %.0f%%)", 100 * lv->blend_w[0], 100 * lv->blend_w[1], 100 * lv->blend_w[2]);
        if (i == lv->chosen)
            PUT(" <strong>&larr; chosen</strong>");
        OUT("</td><td class=\"n\">%s</td><td class=\"n\">%s</td>", tribe_fmt_money(v1, sizeof v1, &s->currency, row[0]),
            tribe_fmt_money(v2, sizeof v2, &s->currency, row[1]));
        if (isfinite(row[2]))
            OUT("<td class=\"n\">%.3f</td>", row[2]);
        else
            PUT("<td class=\"n\">&ndash;</td>");
        if (isfinite(row[3]))
            OUT("<td class=\"n\">%.2f&times;</td></tr>\n", row[3]);
        else
            PUT("<td class=\"n\">&ndash;</td></tr>\n");
    }
    PUT("</tbody></table></div>\n<p class=\"note\">The job uses the <strong>");
    ESC(LABEL[lv->chosen]);
    PUT("</strong>: among the gradient-boosted trees (on features that mean the same at any cutoff: rates, "
        "recency in the customer's own purchase gaps, the classic model's predictions; one learns the spend, one "
        "the classic model's error), BG/NBD + Gamma-Gamma and their blend, the one with the best R&sup2; that is no worse than BG/NBD + Gamma-Gamma on both R&sup2; and "
        "MAE");
    if (lv->select_confidence > 0)
        OUT(" and beats it on both in at least %.3g%% of %d bootstrap redraws of the window's customers (so that "
            "its advantage is not the luck of which customers the window happened to hold)",
            100 * lv->select_confidence, TRIBE_LTV_SELECT_BOOT);
    OUT(". Share of those redraws in which each beat BG/NBD + Gamma-Gamma on MAE / R&sup2;: trees %.0f%% / %.0f%%, "
        "trees correcting it %.0f%% / %.0f%%, blend %.0f%% / %.0f%%. The choice and the blend's weight were made on "
        "the same later window whose scores are shown, so the chosen model's score is slightly optimistic; "
        "docs/ltv.md reports it on a window after that.</p>\n",
        100 * lv->select_share[TRIBE_LTV_GBDT][0], 100 * lv->select_share[TRIBE_LTV_GBDT][1],
        100 * lv->select_share[TRIBE_LTV_RESID][0], 100 * lv->select_share[TRIBE_LTV_RESID][1],
        100 * lv->select_share[TRIBE_LTV_BLEND][0], 100 * lv->select_share[TRIBE_LTV_BLEND][1]);
    if (lv->n_stack > 0) /* ltv.train_windows */
        OUT("<p class=\"note\">The trees learned from %s rows: the training window's customers and those of %d "
            "earlier window%s stacked with them, each described by its own BG/NBD + Gamma-Gamma fit.</p>\n",
            tribe_fmt_count(v1, sizeof v1, (double)lv->train_rows), lv->n_stack, lv->n_stack > 1 ? "s" : "");
    PUT("<h3 style=\"font-size:16px;margin:22px 0 4px\">Predicted value per segment</h3>\n"
        "<div class=\"card scroll\"><table><thead><tr><th>Segment</th><th>Customers</th><th>Mean</th>"
        "<th>Median</th><th>Total</th><th>Mean: 95% interval</th></tr></thead><tbody>\n");
    for (int c = 0; c < s->k && c < lv->k; c++) {
        OUT("<tr><td><span class=\"sw\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
        ESC(s->seg[c].name);
        OUT("</td><td class=\"n\">%s</td>", tribe_fmt_count(v1, sizeof v1, (double)s->seg[c].size));
        OUT("<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
            tribe_fmt_money(v1, sizeof v1, &s->currency, lv->seg_mean[c]), tribe_fmt_money(v2, sizeof v2, &s->currency, lv->seg_median[c]),
            tribe_fmt_money(v3, sizeof v3, &s->currency, lv->seg_total[c]));
        if (lv->seg_lo && isfinite(lv->seg_lo[c]) && isfinite(lv->seg_hi[c]))
            OUT("<td class=\"n\">%s &ndash; %s</td></tr>\n", tribe_fmt_money(v1, sizeof v1, &s->currency, lv->seg_lo[c]),
                tribe_fmt_money(v2, sizeof v2, &s->currency, lv->seg_hi[c]));
        else
            PUT("<td class=\"n\"></td></tr>\n");
    }
    OUT("</tbody></table></div>\n<p class=\"note\">Per-customer predictions are in results.h5 "
        "(<code>/segments/ltv</code>, every candidate's in <code>/segments/ltv_candidates</code>); the campaign "
        "plan values a segment's customers at their mean predicted value. The interval is a bootstrap over the "
        "segment's customers (%d replicates): how much the mean would move with another draw of customers, not "
        "the model's own error.</p></section>\n", lv->n_boot);
cleanup:
    return st;
}
