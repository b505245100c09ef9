/* Unit tests for the report sections the analysis stages write from their own
 * structs (src/report/{drivers,ltv,ksweep,outliers,crispness,nesting}.c):
 * "What drives each segment", "Lifetime value", "Choosing the number of
 * segments", "Unusual customers", "How crisp are the segments", "How the
 * segments nest", the profile table's "Segments differ?" column, and the
 * page's navigation over them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "htmlfix.h"
#include "segfix.h"
#include "testutil.h"
#include "tribe/report.h"

/* 7 features for FIX_K = 5 segments. Segment 0 ranks them 6 ("<x>"), 2, 0, 5, 3 (then 1, 4);
 * the gain gives shares 40, 20, 10, 10, 10, 5, 5 percent. */
static const char *const DRV_FEATURES[7] = {"recency_days", "frequency", "monetary", "avg_order_value",
                                            "tenure_days",  "mean_days_between", "<x>"};
static double DRV_MEAN_ABS[5][7] = {{0.5, 0.01, 0.9, 0.2, 0.0, 0.3, 1.7}, {1, 1, 1, 1, 1, 1, 1},
                                    {1, 2, 3, 4, 5, 6, 7},               {0, 0, 0, 0, 0, 0, 0},
                                    {7, 6, 5, 4, 3, 2, 1}};
static double DRV_GAIN[7] = {40, 20, 10, 10, 10, 5, 5};

/* The page holding one section writer's output. */
static char *page_of(const tribe_segments *s, tribe_status (*write)(tribe_sbuf *, const void *), const void *arg)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(write(&b, arg), TRIBE_OK);
    char *html = page_html(s, b.p ? b.p : "");
    tribe_sbuf_free(&b);
    return html;
}

static const tribe_segments *g_segs; /* the segments the writers below draw */

static tribe_status write_drivers(tribe_sbuf *b, const void *arg)
{
    return tribe_report_drivers(b, g_segs, arg, DRV_FEATURES);
}

static void drivers_should_chart_the_top_five_per_segment_and_the_gain(void)
{
    tribe_segments *s = fixture_segments();
    tribe_drivers dr = {.k = FIX_K, .m = 7, .mean_abs = &DRV_MEAN_ABS[0][0], .gain = DRV_GAIN, .rows = 1234};
    g_segs = s;
    char *html = page_of(s, write_drivers, &dr);
    /* The navigation bar links the sections present, with their labels. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<a href=\"#drivers\">Drivers</a>"));
    CU_ASSERT_PTR_NULL(strstr(html, "<a href=\"#ltv\">"));
    char *sec = html_section(html, "drivers");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "What drives each segment"));
    for (int c = 0; c < s->k; c++)
        CU_ASSERT_PTR_NOT_NULL(strstr(sec, s->seg[c].name));
    /* five bars per segment, every feature in the overall chart */
    CU_ASSERT_EQUAL(html_count(sec, "<rect "), 5 * s->k + 7);
    /* segment 0's card: <x> first, then Net spend (after returns), Days since last order; Orders (rank 6) absent */
    const char *c0 = strstr(sec, s->seg[0].name), *c1 = strstr(sec, s->seg[1].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
    char *card0 = strndup(c0, (size_t)(c1 - c0));
    const char *px = strstr(card0, "&lt;x&gt;"), *pm = strstr(card0, "Net spend (after returns)"),
               *pr = strstr(card0, "Days since last order");
    CU_ASSERT(px && pm && pr && px < pm && pm < pr);
    CU_ASSERT_PTR_NULL(strstr(card0, ">Orders<"));
    CU_ASSERT_PTR_NULL(strstr(card0, "Days since first order"));
    CU_ASSERT_PTR_NOT_NULL(strstr(card0, ">1.700</text>"));
    free(card0);
    /* gain shares, largest first */
    const char *g40 = strstr(sec, ">40.0%</text>"), *g20 = strstr(sec, ">20.0%</text>");
    CU_ASSERT(g40 && g20 && g40 < g20);
    CU_ASSERT_PTR_NULL(strstr(html, "<x>")); /* nothing raw from the data */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Timings"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

static tribe_status write_ltv(tribe_sbuf *b, const void *arg)
{
    return tribe_report_ltv(b, g_segs, arg);
}

static void ltv_should_table_the_five_models_the_choice_and_every_segment(void)
{
    tribe_segments *s = fixture_segments();
    double mean[FIX_K] = {500, 200, 100, 50, 10}, med[FIX_K] = {400, 150, 80, 40, 5}, tot[FIX_K] = {306000, 1, 2, 3, 4};
    double lo[FIX_K] = {450, 190, NAN, 40, 8}, hi[FIX_K] = {555, 210, NAN, 60, 12};
    tribe_ltv lv = {.k = FIX_K, .horizon_days = 90, .seg_mean = mean, .seg_median = med, .seg_total = tot,
                    .seg_lo = lo, .seg_hi = hi, .n_boot = 200, .chosen = TRIBE_LTV_BLEND, .blend_w = {0.35, 0.4, 0.25},
                    .metrics = {{108.4, 251.8, 0.248, 3.9}, {109, 260, 0.2, 3.8}, {111, 271.9, 0.123, 3.93},
                                {107, 250, 0.25, 3.95}, {342.8, 4018.8, NAN, 3.9}}};
    g_segs = s;
    char *html = page_of(s, write_ltv, &lv);
    char *sec = html_section(html, "ltv");
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<a href=\"#ltv\">Lifetime value</a>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "next 90 days"));
    const char *g = strstr(sec, "Gradient-boosted trees (tribe)"), *bg = strstr(sec, "<td>BG/NBD + Gamma-Gamma"),
               *r = strstr(sec, "Past spend rate carried forward");
    const char *bl = strstr(sec, "Blend of the three (35% / 40% / 25%) <strong>&larr; chosen</strong>"),
               *rs = strstr(sec, "Trees correcting BG/NBD + Gamma-Gamma");
    CU_ASSERT(g && bg && r && bl && rs && g < rs && rs < bg && bg < bl && bl < r);
    CU_ASSERT_EQUAL(html_count(sec, "&larr; chosen"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "The job uses the <strong>Blend of the three</strong>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">0.248<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">3.93&times;<"));
    CU_ASSERT_EQUAL(html_count(sec, "&ndash;"), 1 + 4); /* the NaN R2, the four finite intervals */
    CU_ASSERT_EQUAL(html_count(sec, "<tr>"), 2 + 5 + s->k);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "(200 replicates)"));
    for (int c = 0; c < s->k; c++)
        CU_ASSERT_PTR_NOT_NULL(strstr(strstr(sec, "Predicted value per segment"), s->seg[c].name));
    CU_ASSERT_PTR_NULL(strstr(sec, "earlier window")); /* no ltv.train_windows: no note */
    free(sec);
    free(html);
    /* With two stacked windows (ltv.train_windows) the section says what the trees learned from. */
    lv.n_stack = 2;
    lv.train_rows = 12345;
    html = page_of(s, write_ltv, &lv);
    sec = html_section(html, "ltv");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "The trees learned from 12,345 rows: the training window's customers and those of "
                                       "2 earlier windows stacked with them"));
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

static tribe_status write_ksweep(tribe_sbuf *b, const void *arg)
{
    return tribe_report_ksweep(b, arg);
}

/* Four K; K=3's squared silhouette is NaN. */
static void ksweep_should_plot_every_criterion_and_mark_the_choice(void)
{
    tribe_segments *s = fixture_segments();
    tribe_ksweep_row rows[4] = {{.k = 2, .inertia = 100, .silhouette = 0.3, .silhouette_ci = 0.01, .silhouette_sq = 0.5,
                                 .ch = 900, .db = 1.2, .stability = 0.99},
                                {.k = 3, .inertia = 60, .silhouette = 0.35, .silhouette_ci = 0.01, .silhouette_sq = NAN,
                                 .ch = 1000, .db = 1.0, .stability = 0.6},
                                {.k = 4, .inertia = 30, .silhouette = 0.4, .silhouette_ci = 0.02, .silhouette_sq = 0.6,
                                 .ch = 1100, .db = 0.9, .stability = 0.97},
                                {.k = 5, .inertia = 27, .silhouette = 0.33, .silhouette_ci = 0.01, .silhouette_sq = 0.52,
                                 .ch = 1200, .db = 1.1, .stability = 0.9}};
    tribe_ksweep ks = {.n = 4, .row = rows, .recommended_k = 4, .elbow_k = 3, .stability_ari = 0.97,
                       .reason = "K=4: 3 of 5 criteria agree (silhouette, Davies-Bouldin, elbow) <x>"};
    char *html = page_of(s, write_ksweep, &ks);
    char *sec = html_section(html, "choosing-k");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<strong>K=4</strong>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "split-half agreement 0.97"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Davies-Bouldin, elbow) &lt;x&gt;")); /* the reason, escaped */
    CU_ASSERT_EQUAL(html_count(sec, "<svg"), 6);
    CU_ASSERT_EQUAL(html_count(sec, "stroke-dasharray=\"4 3\""), 6); /* the chosen K on every plot */
    CU_ASSERT_EQUAL(html_count(sec, ">elbow</text>"), 1);
    CU_ASSERT_EQUAL(html_count(sec, "<circle"), 4 * 6 - 1 + 1); /* the NaN point skipped; the elbow ring */
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<title>K=4: 0.4</title>"));
    CU_ASSERT_PTR_NULL(strstr(sec, "Not reliable"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Recommended: <strong>K=4</strong>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "below 0.8 a K may not win")); /* stability_min 0: the default */
    free(sec);
    free(html);
    /* without stability (a fixed-K job asked for none): five plots */
    for (int i = 0; i < 4; i++)
        rows[i].stability = NAN;
    ks.stability_ari = NAN;
    html = page_of(s, write_ksweep, &ks);
    sec = html_section(html, "choosing-k");
    CU_ASSERT_EQUAL(html_count(sec, "<svg"), 5);
    CU_ASSERT_PTR_NULL(strstr(sec, "split-half"));
    CU_ASSERT_PTR_NULL(strstr(sec, "Not reliable"));
    free(sec);
    free(html);
    /* no K held: the note first, in words, and the K not called recommended */
    for (int i = 0; i < 4; i++)
        rows[i].stability = 0.5;
    ks.stability_ari = 0.5;
    ks.stability_min = 0.7;
    ks.k_stable = -1;
    snprintf(ks.stability_note, sizeof ks.stability_note, "No number of segments from 2 to 5 is reliable <y>");
    html = page_of(s, write_ksweep, &ks);
    sec = html_section(html, "choosing-k");
    const char *warn = strstr(sec, "<strong>Not reliable.</strong> No number of segments from 2 to 5 is reliable &lt;y&gt;");
    CU_ASSERT_PTR_NOT_NULL(warn);
    CU_ASSERT(warn && warn < strstr(sec, "<svg"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Best of unreliable choices: <strong>K=4</strong>"));
    CU_ASSERT_PTR_NULL(strstr(sec, "Recommended"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "below 0.7 a K may not win"));
    CU_ASSERT_EQUAL(html_count(sec, "<svg"), 6);
    free(sec);
    free(html);
    /* one K that does not hold: the section only for the note */
    ks.n = 1;
    html = page_of(s, write_ksweep, &ks);
    sec = html_section(html, "choosing-k");
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<strong>Not reliable.</strong>"));
    CU_ASSERT_EQUAL(html_count(sec, "<svg"), 0);
    free(sec);
    free(html);
    /* one K, reliable or not measured: nothing to compare, no section */
    ks.k_stable = 0;
    html = page_of(s, write_ksweep, &ks);
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"choosing-k\""));
    free(html);
    tribe_segments_destroy(&s);
}

/* The outliers, crispness and nesting sections of one page. */
typedef struct {
    const tribe_outliers *o;
    const tribe_gmm *g;
    const tribe_gmm_crispness *c;
    const tribe_ward *w;
} beyond;

static tribe_status write_beyond(tribe_sbuf *b, const void *arg)
{
    const beyond *x = arg;
    tribe_status st = tribe_report_outliers(b, g_segs, x->o);
    if (st == TRIBE_OK)
        st = tribe_report_crispness(b, g_segs, x->g, x->c);
    if (st == TRIBE_OK)
        st = tribe_report_nesting(b, g_segs, x->w);
    return st;
}

/* Segment 4 has no spread (fence inf). Ward: (3,4) at 1, (0,1) at 2, (2,5)
 * at 3, (6,7) at 5. */
static void outliers_crispness_and_tree_should_be_drawn(void)
{
    const char *names[FIX_K] = {"Champions", "Big <Spenders>", NULL, NULL, NULL};
    tribe_segments *s = fixture_segments_named(names);
    int64_t count[FIX_K] = {1, 0, 2, 4, 0}, size[FIX_K] = {100, 200, 300, 200, 200}, crisp[FIX_K] = {50, 200, 150, 100, 0},
            agree[FIX_K] = {90, 200, 300, 100, 20}, wsizes[FIX_K - 1] = {400, 300, 600, 1000};
    double fence[FIX_K] = {3.5, 4, 2.25, 1.5, INFINITY}, mmax[FIX_K] = {0.8, 1, 0.9, 0.75, 0.5},
           heights[FIX_K - 1] = {1, 2, 3, 5};
    int32_t merges[2 * (FIX_K - 1)] = {3, 4, 0, 1, 2, 5, 6, 7};
    tribe_outliers o = {.k = FIX_K, .threshold = 3, .count = count, .fence = fence, .total = 7};
    tribe_gmm g = {.k = FIX_K, .iterations = 12};
    tribe_gmm_crispness c = {.k = FIX_K, .threshold = 0.9, .size = size, .crisp = crisp, .agree = agree,
                             .mean_max = mmax};
    tribe_ward w = {.k = FIX_K, .merges = merges, .heights = heights, .sizes = wsizes};
    beyond x = {&o, &g, &c, &w};
    g_segs = s;
    char *html = page_of(s, write_beyond, &x);
    char *os = html_section(html, "outliers"), *cs = html_section(html, "crispness"), *ws = html_section(html, "nested");
    CU_ASSERT_PTR_NOT_NULL(strstr(os, "7 customers sit unusually far"));
    CU_ASSERT_PTR_NOT_NULL(strstr(os, "plus 3 times"));
    CU_ASSERT_EQUAL(html_count(os, "<tr>"), 1 + FIX_K);
    CU_ASSERT_PTR_NOT_NULL(strstr(os, ">no spread<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(os, ">2.25<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(os, "Big &lt;Spenders&gt;"));
    /* 500 of 1000 sure members overall; Champions 50% with a 100px bar */
    CU_ASSERT_PTR_NOT_NULL(strstr(cs, "Overall, 50% of customers"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cs, "12 rounds"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cs, "width=\"100.0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(cs, ">0.80<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cs, ">90%<"));
    CU_ASSERT_EQUAL(html_count(cs, "<tr>"), 1 + FIX_K);
    /* one elbow per merge, a leaf label per segment; leaves in tree order:
     * root (6,7) -> 6 = (0,1), 7 = (2,5) -> 2, 5 = (3,4) */
    CU_ASSERT_EQUAL(html_count(ws, "<path "), FIX_K - 1);
    CU_ASSERT_EQUAL(html_count(ws, "<circle "), FIX_K);
    const char *p0 = strstr(ws, s->seg[0].name), *p1 = strstr(ws, "Big &lt;Spenders&gt;"),
               *p2 = strstr(ws, s->seg[2].name), *p3 = strstr(ws, s->seg[3].name), *p4 = strstr(ws, s->seg[4].name);
    CU_ASSERT(p0 && p1 && p2 && p3 && p4 && p0 < p1 && p1 < p2 && p2 < p3 && p3 < p4);
    /* the navigation, in page order */
    const char *n1 = strstr(html, "<a href=\"#outliers\">Unusual customers</a>"),
               *n2 = strstr(html, "<a href=\"#crispness\">Crispness</a>"), *n3 = strstr(html, "<a href=\"#nested\">");
    CU_ASSERT(n1 && n2 && n3 && n1 < n2 && n2 < n3);
    free(os);
    free(cs);
    free(ws);
    free(html);
    /* a tree of one segment draws nothing */
    tribe_ward one = {.k = 1};
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_report_nesting(&b, s, &one), TRIBE_OK);
    CU_ASSERT_EQUAL(b.len, 0);
    tribe_segments_destroy(&s);
}

static tribe_status write_segments(tribe_sbuf *b, const void *arg)
{
    return tribe_report_segments(b, g_segs);
}

/* The profile table's "Segments differ?" column (docs/clustering.md):
 * epsilon^2 with its words, H and the Holm p; n/a with the reason where
 * the test is undefined; the note on reading effect sizes; no column when
 * the run did not compute the test. */
static void segments_differ_column_should_give_effect_words_and_undefined_reasons(void)
{
    tribe_segments *s = fixture_segments();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    g_segs = s;
    char *html = page_of(s, write_segments, NULL);
    CU_ASSERT_PTR_NULL(strstr(html, "Segments differ?"));
    free(html);
    CU_ASSERT_EQUAL_FATAL(tribe_segtest_create(s->k, s->d, &s->kw), TRIBE_OK);
    tribe_segtest *kw = s->kw;
    for (int j = 0; j < s->d; j++)
        kw->k_used[j] = s->k;
    kw->n[0] = 2983, kw->h[0] = 2282.46, kw->eps2[0] = 0.765, kw->p[0] = 0, kw->p_holm[0] = 0;
    kw->n[1] = 2983, kw->h[1] = 12.5, kw->eps2[1] = 0.03, kw->p[1] = 0.0041, kw->p_holm[1] = 0.0123;
    for (int c = 0; c < s->k; c++)
        s->seg[c].centroid[1] = NAN; /* feature 1 is not in the model: no dagger */
    kw->k_used[2] = 1; /* one segment with a value */
    kw->n[3] = 2983;   /* every value equal: H NaN with every segment present */
    html = page_of(s, write_segments, NULL);
    char *sec = html_section(html, "profiles");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Segments differ?"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">0.765 large&dagger;<span class=\"m\">H 2282 &middot; p &lt; 1e-300</span>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">0.030 small<span class=\"m\">H 12.50 &middot; p 0.012</span>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "raw p 0.0041"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "n/a<span class=\"m\">fewer than two segments with a value</span>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "n/a<span class=\"m\">every value equal</span>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "Holm"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "every p is tiny"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "formed on: they differ on it by construction"));
    /* a cell per feature, and the header */
    CU_ASSERT_EQUAL(html_count(sec, "title=\"epsilon squared") + html_count(sec, "segments with a value</span>") +
                        html_count(sec, "every value equal</span>"),
                    s->d);
    free(sec);
    free(html);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(drivers_should_chart_the_top_five_per_segment_and_the_gain),
        TRIBE_TEST(ltv_should_table_the_five_models_the_choice_and_every_segment),
        TRIBE_TEST(ksweep_should_plot_every_criterion_and_mark_the_choice),
        TRIBE_TEST(outliers_crispness_and_tree_should_be_drawn),
        TRIBE_TEST(segments_differ_column_should_give_effect_words_and_undefined_reasons),
        {NULL, NULL}};
    return tribe_test_main("report_sections", cases);
}
