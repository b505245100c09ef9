/* report.html: the segment map (a PCA scatter of sampled customers). */
#include "report_internal.h"

#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 3000

/* ---- projection scatter ---------------------------------------------------------------- */

static double nice_step(double range)
{
    double raw = range / 5.0;
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

tribe_status tribe_report_map(tribe_sbuf *b, const tribe_segments *s, const tribe_projection *proj)
{
    tribe_status st = TRIBE_OK;
    char cb[32], num[48];
    TRIBE_TRY(tribe_html_section(b, "map", "Segment map", "Segment map"));
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
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", PX(x), PY(y), tribe_html_color(c, cb));
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
        OUT("<span><span class=\"dot\" style=\"background:%s\"></span>", tribe_html_color(c, cb));
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

