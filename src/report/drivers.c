/* report.html: what drives each segment (mean |SHAP|, split gain). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One horizontal bar chart: the n features idx[] with values v[idx[i]],
 * longest bar = vmax. */
static tribe_status driver_bars(tribe_sbuf *b, const char *const *feats, const double *v, const int *idx, int n,
                                double vmax, const char *fill, const char *unit_fmt)
{
    tribe_status st = TRIBE_OK;
    char lab[128], num[64];
    const double W = 460, left = 170, row = 24, bw = W - left - 70;
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Feature importance\">\n", W, row * n + 6);
    for (int i = 0; i < n; i++) {
        const char *name = feats[idx[i]] ? feats[idx[i]] : "?";
        double w = vmax > 0 ? fmax(bw * v[idx[i]] / vmax, 1.5) : 1.5;
        double y = 3 + row * i;
        snprintf(num, sizeof num, unit_fmt, v[idx[i]]);
        PUT("<g><title>");
        ESC(name);
        OUT(": %s</title><text x=\"%.0f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"end\" fill=\"#1f2937\">",
            num, left - 8, y + 14);
        ESC(tribe_html_feature_label(name, lab, sizeof lab));
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
 * largest mean |SHAP| of the segment-membership model, and the global gain. */
tribe_status tribe_report_drivers(tribe_sbuf *b, const tribe_segments *s, const tribe_drivers *dr,
                                  const char *const *feats)
{
    tribe_status st = TRIBE_OK;
    double *v = NULL;
    int *idx = NULL;
    char cb[32];
    int d = dr->m, k = dr->k < s->k ? dr->k : s->k;
    TRIBE_TRY(tribe_html_section(b, "drivers", "Drivers", "What drives each segment"));
    if (d == 0) {
        PUT("<div class=\"card\"><p class=\"note\">The model had no features to explain.</p></div></section>\n");
        goto cleanup;
    }
    PUT("<p class=\"lead\">A gradient-boosted model learned to tell the segments apart from the customers' own "
        "figures. For each segment, the features that move its customers' scores the most (mean absolute SHAP "
        "value, in log-odds of belonging to the segment): the longer the bar, the more that feature decides who "
        "is in the segment.</p>\n<div class=\"grid2\">\n");
    TRIBE_TRY(tribe_calloc((void **)&v, (size_t)d, sizeof *v));
    TRIBE_TRY(tribe_calloc((void **)&idx, (size_t)d, sizeof *idx));
    for (int c = 0; c < k; c++) {
        memcpy(v, dr->mean_abs + (size_t)c * d, (size_t)d * sizeof *v);
        rank_desc(v, d, idx);
        int n = d < 5 ? d : 5;
        PUT("<div class=\"card\"><h3 style=\"margin:0 0 8px;font-size:15px\">");
        ESC(s->seg[c].name);
        PUT("</h3>\n");
        TRIBE_TRY(driver_bars(b, feats, v, idx, n, v[idx[0]], tribe_html_color(c, cb), "%.3f"));
        PUT("</div>\n");
    }
    PUT("</div>\n");
    {
        double tot = 0;
        for (int j = 0; j < d; j++) {
            v[j] = isfinite(dr->gain[j]) ? dr->gain[j] : 0;
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
    free(v);
    free(idx);
    return st;
}
