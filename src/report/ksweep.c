/* report.html: choosing the number of segments (the K sweep). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The plots read the sweep as its table (TRIBE_KSWEEP_COLUMNS): k, inertia,
 * silhouette and its 95% half-width, squared silhouette, Calinski-Harabasz,
 * Davies-Bouldin, stability. */
enum { COLS = TRIBE_KSWEEP_COLS };

static double cell(const double *tab, int i, int col)
{
    return tab[(size_t)i * COLS + (size_t)col];
}

/* One small line plot of column `col` of the sweep rows over K: a point per
 * K (NaN skipped), the recommended K drawn as a dashed line and a ringed
 * point, optionally a second marker (the elbow) and a 95% band (ci_col >= 0). */
static tribe_status ksweep_plot(tribe_sbuf *b, const double *tab, int n, int col, int ci_col, const char *title,
                                const char *hint, int rec_k, int mark_k, const char *mark_name)
{
    tribe_status st = TRIBE_OK;
    const double W = 340, H = 190, l = 58, r = 12, t = 12, bm = 34;
    double kmin = INFINITY, kmax = -INFINITY, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double k = cell(tab, i, 0), v = cell(tab, i, col), e = ci_col >= 0 ? cell(tab, i, ci_col) : 0;
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
        double k = cell(tab, i, 0);
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
            double k = cell(tab, i, 0), v = cell(tab, i, col), e = cell(tab, i, ci_col);
            if (isfinite(k) && isfinite(v) && isfinite(e) && e > 0)
                OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#93c5fd\" stroke-width=\"3\"/>",
                    KX(k), KY(v - e), KX(k), KY(v + e));
        }
    PUT("<polyline fill=\"none\" stroke=\"#374151\" stroke-width=\"1.5\" points=\"");
    for (int i = 0; i < n; i++) {
        double k = cell(tab, i, 0), v = cell(tab, i, col);
        if (isfinite(k) && isfinite(v))
            OUT("%.1f,%.1f ", KX(k), KY(v));
    }
    PUT("\"/>\n");
    for (int i = 0; i < n; i++) {
        double k = cell(tab, i, 0), v = cell(tab, i, col);
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

/* The warning when the chosen K does not hold (ks->k_stable < 0): the
 * sweep's plain-words note, on the amber of the page's "low" cells. */
static tribe_status ksweep_warning(tribe_sbuf *b, const tribe_ksweep *ks)
{
    tribe_status st = TRIBE_OK;
    PUT("<p class=\"kwarn\" role=\"alert\" style=\"background:var(--lo-bg);border-left:4px solid var(--lo);"
        "padding:8px 12px;border-radius:6px;max-width:820px\"><strong>Not reliable.</strong> ");
    ESC(ks->stability_note);
    PUT("</p>\n");
cleanup:
    return st;
}

/* "Choosing the number of segments": one plot per criterion of the K sweep
 * with the recommended K marked, and the reason; first, when no K held
 * (k_stable < 0), a warning that the choice is not reliable. A fixed K gets
 * the section only for that warning. */
tribe_status tribe_report_ksweep(tribe_sbuf *b, const tribe_ksweep *ks)
{
    tribe_status st = TRIBE_OK;
    double *tab = NULL;
    int n = ks->n, rec = ks->recommended_k, stable = 0, unreliable = ks->k_stable < 0;
    double smin = ks->stability_min > 0 ? ks->stability_min : TRIBE_KSWEEP_STABLE_ARI;
    char hint[96];
    if (n < 2 && !unreliable)
        return TRIBE_OK; /* a fixed K: nothing to compare */
    TRIBE_TRY(tribe_html_section(b, "choosing-k", "Choosing K", "Choosing the number of segments"));
    if (unreliable)
        TRIBE_TRY(ksweep_warning(b, ks));
    if (n < 2) {
        PUT("</section>\n");
        goto cleanup;
    }
    TRIBE_TRY(tribe_alloc((void **)&tab, (size_t)n * COLS * sizeof *tab));
    for (int i = 0; i < n; i++) {
        tribe_ksweep_row_values(&ks->row[i], tab + (size_t)i * COLS);
        stable |= isfinite(ks->row[i].stability);
    }
    OUT("<p class=\"lead\">Every K in the range was fitted and scored. %s: <strong>K=%d</strong>",
        unreliable ? "Best of unreliable choices" : "Recommended", rec);
    if (isfinite(ks->stability_ari))
        OUT(" (split-half agreement %.2f: refitted on two disjoint halves of the customers, the two "
            "segmentations agree this well, 1 = identically)", ks->stability_ari);
    PUT(".</p>\n");
    if (ks->reason[0]) {
        PUT("<p class=\"note\">");
        ESC(ks->reason);
        PUT("</p>\n");
    }
    PUT("<div style=\"display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px\">\n");
    TRIBE_TRY(ksweep_plot(b, tab, n, 1, -1, "Inertia", "Lower is tighter; the bend is the elbow", rec, ks->elbow_k,
                          "elbow"));
    TRIBE_TRY(ksweep_plot(b, tab, n, 2, 3, "Silhouette (sampled)", "Higher is better; bars: 95% interval", rec, 0,
                          NULL));
    TRIBE_TRY(ksweep_plot(b, tab, n, 4, -1, "Silhouette, squared distance (all)", "Higher is better", rec, 0, NULL));
    TRIBE_TRY(ksweep_plot(b, tab, n, 5, -1, "Calinski-Harabasz", "Higher is better", rec, 0, NULL));
    TRIBE_TRY(ksweep_plot(b, tab, n, 6, -1, "Davies-Bouldin", "Lower is better", rec, 0, NULL));
    snprintf(hint, sizeof hint, "Higher is more reproducible; below %.2g a K may not win", smin);
    if (stable)
        TRIBE_TRY(ksweep_plot(b, tab, n, 7, -1, "Split-half stability (ARI)", hint, rec, 0, NULL));
    PUT("</div></section>\n");
cleanup:
    free(tab);
    return st;
}
