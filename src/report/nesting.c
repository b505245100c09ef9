/* report.html: how the segments nest (the Ward tree as a dendrogram). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Leaf order of the tree under node `id` (first child first). */
static void leaf_order(const int *ma, const int *mb, int k, int id, int *order, int *n)
{
    if (id < k) {
        order[(*n)++] = id;
        return;
    }
    leaf_order(ma, mb, k, ma[id - k], order, n);
    leaf_order(ma, mb, k, mb[id - k], order, n);
}

/* "How the segments nest": the Ward tree as a horizontal dendrogram. */
tribe_status tribe_report_nesting(tribe_sbuf *b, const tribe_segments *s, const tribe_ward *w)
{
    tribe_status st = TRIBE_OK;
    char cb[32];
    int *ma = NULL, *mb = NULL, *order = NULL;
    double *x = NULL, *y = NULL; /* per node id: height, row position */
    int k = w->k;
    if (k < 2 || k != s->k)
        return TRIBE_OK; /* nothing nests */
    TRIBE_TRY(tribe_calloc((void **)&ma, (size_t)k, sizeof *ma));
    TRIBE_TRY(tribe_calloc((void **)&mb, (size_t)k, sizeof *mb));
    TRIBE_TRY(tribe_calloc((void **)&order, (size_t)k, sizeof *order));
    TRIBE_TRY(tribe_calloc((void **)&x, 2 * (size_t)k, sizeof *x));
    TRIBE_TRY(tribe_calloc((void **)&y, 2 * (size_t)k, sizeof *y));
    for (int t = 0; t < k - 1; t++) {
        ma[t] = w->merges[2 * t];
        mb[t] = w->merges[2 * t + 1];
        x[k + t] = w->heights[t];
    }
    TRIBE_TRY(tribe_html_section(b, "nested", "Nesting", "How the segments nest"));
    int nl = 0;
    leaf_order(ma, mb, k, 2 * k - 2, order, &nl);
    if (nl != k) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "report: the Ward tree has %d leaves, not %d", nl, k);
        goto cleanup;
    }
    PUT("<p class=\"lead\">Segments that behave alike join early (short branches); the last joins split the base "
        "into its broadest groups. Read it right to left to merge segments into fewer, larger audiences "
        "(Ward's method over the segment centres, weighted by segment size: each join is the one that loses "
        "the least homogeneity).</p>\n<div class=\"card\">\n");
    const double row = 30, L = 230, R = 30, T = 10, Bm = 44, W = 980;
    double H = T + row * k + Bm, pw = W - L - R, hmax = x[2 * k - 2] > 0 ? x[2 * k - 2] : 1;
    for (int i = 0; i < k; i++)
        y[order[i]] = T + row * (i + 0.5);
    for (int t = 0; t < k - 1; t++)
        y[k + t] = 0.5 * (y[ma[t]] + y[mb[t]]);
#define PX(h) (L + (h) / hmax * pw)
    OUT("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Segment tree\">\n", W, H);
    for (int i = 0; i <= 4; i++) {
        double h = hmax * i / 4, px = PX(h);
        OUT("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eef0f3\"/>"
            "<text x=\"%.1f\" y=\"%.0f\" font-size=\"12\" fill=\"#6b7280\" text-anchor=\"middle\">%.3g</text>\n",
            px, T, px, T + row * k, px, T + row * k + 18, h);
    }
    OUT("<text x=\"%.1f\" y=\"%.0f\" font-size=\"13\" font-weight=\"600\" fill=\"#374151\" text-anchor=\"middle\">"
        "Ward distance at which the groups join</text>\n", L + pw / 2, H - 6);
    for (int i = 0; i < k; i++) {
        int c = order[i];
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" "
            "text-anchor=\"end\" fill=\"#1f2937\">", L, y[c], tribe_html_color(c, cb), L - 10, y[c] + 4);
        ESC(s->seg[c].name);
        PUT("</text>\n");
    }
    PUT("<g fill=\"none\" stroke=\"#1e3a5f\" stroke-width=\"1.6\">\n");
    for (int t = 0; t < k - 1; t++) {
        double px = PX(x[k + t]);
        OUT("<path d=\"M%.1f %.1fH%.1fV%.1fH%.1f\"/>\n", PX(x[ma[t]]), y[ma[t]], px, y[mb[t]], PX(x[mb[t]]));
    }
#undef PX
    PUT("</g>\n</svg>\n</div>\n<p class=\"note\">The tree is in results.h5 (<code>/model/ward</code>) as a scipy "
        "linkage matrix: <code>scipy.cluster.hierarchy.dendrogram</code> draws it directly.</p></section>\n");
cleanup:
    free(ma);
    free(mb);
    free(order);
    free(x);
    free(y);
    return st;
}

