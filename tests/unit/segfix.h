/* Hand-built tribe_segments fixtures shared by test_persona.c and
 * test_report.c: five RFM segments of an online shop with web and
 * demographic features and four categorical mixes, shaped like what the
 * cluster stage hands to rank 0. */
#ifndef TRIBE_TEST_SEGFIX_H
#define TRIBE_TEST_SEGFIX_H

#include <stdlib.h>
#include <string.h>

#include "tribe/cluster.h"
#include "tribe/segment.h"

#define FIX_D 11
static const char *const FIX_FEATURES[FIX_D] = {
    "recency_days", "frequency",      "monetary", "avg_order_value", "tenure_days", "mean_days_between",
    "distinct_products", "sessions", "pages_per_session", "minutes_on_site", "age"};

#define FIX_K 5
static const char *const FIX_NAMES[FIX_K] = {"Champions", "Loyal Customers", "New Customers", "At Risk",
                                             "Hibernating"};
static const int64_t FIX_SIZE[FIX_K] = {612, 880, 540, 1020, 1294};
static const double FIX_REV[FIX_K] = {0.6125, 0.2011, 0.0302, 0.1101, 0.0461};
static const double FIX_MEDIAN[FIX_K][FIX_D] = {
    {9, 12, 4310.5, 352.1, 320, 21.5, 96, 34, 6.4, 412.5, 41},
    {31, 5, 1650.2, 298.4, 260, 44, 52, 18, 5.1, 190, 47},
    {18, 1, 298.75, 240.1, 22, 0, 14, 5, 4.2, 31.5, 29},
    {142, 3, 980.0, 270, 340, 70, 38, 9, 3.9, 66, 52},
    {260, 1, 245.3, 200, 275, 0, 12, 1, 2.8, 8.5, 58}};
static const double FIX_BASE_MEDIAN[FIX_D] = {51, 2, 668.4, 262.5, 281, 30, 30, 8, 4.0, 54, 49};

typedef struct {
    const char *name;
    int n_levels;
    const char *levels[5];
    int64_t count[FIX_K][5]; /* per segment; the base row is their sum */
} fix_mix;

static const fix_mix FIX_MIXES[] = {
    {"device", 4, {"desktop", "mobile", "tablet", "app"},
     {{150, 120, 42, 300}, {420, 300, 60, 100}, {100, 380, 40, 20}, {600, 250, 120, 50}, {700, 400, 150, 44}}},
    {"country", 4, {"United Kingdom", "Germany", "France", "EIRE"},
     {{520, 40, 30, 22}, {800, 40, 30, 10}, {480, 30, 20, 10}, {900, 60, 40, 20}, {1200, 40, 40, 14}}},
    {"occupation", 4, {"teacher", "engineer", "student", "retired"},
     {{100, 380, 32, 100}, {300, 280, 100, 200}, {50, 90, 380, 20}, {300, 300, 120, 300}, {200, 200, 194, 700}}},
    {"subscription", 3, {"none", "basic", "premium"},
     {{100, 112, 400}, {300, 380, 200}, {400, 120, 20}, {500, 400, 120}, {1000, 250, 44}}},
};
#define FIX_N_MIX (int)(sizeof FIX_MIXES / sizeof *FIX_MIXES)

/* The five-segment fixture; names[] may override segment names (NULL = default). */
__attribute__((unused)) static tribe_segments *fixture_segments_named(const char *const *names)
{
    tribe_segments *s = NULL;
    if (tribe_segments_create(FIX_K, FIX_D, FIX_FEATURES, &s) != TRIBE_OK)
        return NULL;
    s->n_total = 0;
    for (int c = 0; c < FIX_K; c++)
        s->n_total += FIX_SIZE[c];
    for (int c = 0; c < FIX_K; c++) {
        tribe_segment *g = &s->seg[c];
        snprintf(g->name, sizeof g->name, "%s", names && names[c] ? names[c] : FIX_NAMES[c]);
        g->size = FIX_SIZE[c];
        g->share = (double)FIX_SIZE[c] / (double)s->n_total;
        g->revenue_share = FIX_REV[c];
        for (int j = 0; j < FIX_D; j++) {
            g->median[j] = FIX_MEDIAN[c][j];
            g->mean[j] = FIX_MEDIAN[c][j] * 1.21 + 0.37;
            g->q1[j] = FIX_MEDIAN[c][j] * 0.583 + 0.041;
            g->q3[j] = FIX_MEDIAN[c][j] * 1.637 + 0.057;
            g->centroid[j] = (FIX_MEDIAN[c][j] - FIX_BASE_MEDIAN[j]) / (FIX_BASE_MEDIAN[j] + 1.0);
        }
    }
    for (int j = 0; j < FIX_D; j++) {
        s->overall_median[j] = FIX_BASE_MEDIAN[j];
        s->overall_mean[j] = FIX_BASE_MEDIAN[j] * 1.43 + 0.11;
        s->overall_q1[j] = FIX_BASE_MEDIAN[j] * 0.47 + 0.19;
        s->overall_q3[j] = FIX_BASE_MEDIAN[j] * 1.81 + 0.23;
    }
    s->mix = calloc(FIX_N_MIX, sizeof *s->mix);
    s->n_mix = FIX_N_MIX;
    for (int m = 0; m < FIX_N_MIX; m++) {
        const fix_mix *f = &FIX_MIXES[m];
        tribe_segmix *x = &s->mix[m];
        x->name = strdup(f->name);
        x->n_levels = f->n_levels;
        x->levels = calloc((size_t)f->n_levels, sizeof *x->levels);
        x->count = calloc((size_t)(FIX_K + 1) * (size_t)f->n_levels, sizeof *x->count);
        for (int l = 0; l < f->n_levels; l++) {
            x->levels[l] = strdup(f->levels[l]);
            for (int c = 0; c < FIX_K; c++) {
                x->count[c * f->n_levels + l] = f->count[c][l];
                x->count[FIX_K * f->n_levels + l] += f->count[c][l];
            }
        }
    }
    s->silhouette = 0.4123;
    s->silhouette_ci = 0.0087;
    s->inertia = 10234.5;
    return s;
}

__attribute__((unused)) static tribe_segments *fixture_segments(void) { return fixture_segments_named(NULL); }

/* Segment drivers as `tribe run` hands them over: mean |SHAP| per segment
 * over seven model columns in an order unlike the features'. Champions:
 * monetary, then a tie recency_days = frequency (lower feature index
 * first), distinct_products, tenure_days; avg_order_value falls past the
 * fifth place and sessions (0) is no driver. At Risk: recency_days,
 * monetary, frequency only. */
#define FIX_DRV_M 7
static const char *const FIX_DRV_NAMES[FIX_DRV_M] = {"monetary",    "frequency",         "recency_days", "sessions",
                                                     "tenure_days", "distinct_products", "avg_order_value"};
static const double FIX_DRV_SHAP[FIX_K][FIX_DRV_M] = {{0.9, 0.4, 0.4, 0.0, 0.2, 0.3, 0.1},
                                                      {0.5, 0.7, 0.1, 0.0, 0.0, 0.8, 0.0},
                                                      {0.2, 0.0, 0.0, 0.0, 0.6, 0.0, 0.0},
                                                      {0.3, 0.2, 1.1, 0.0, 0.0, 0.0, 0.0},
                                                      {0.1, 0.1, 0.8, 0.0, 0.0, 0.0, 0.05}};

__attribute__((unused)) static tribe_segments *fixture_segments_with_drivers(void)
{
    tribe_segments *s = fixture_segments();
    if (s && tribe_segments_set_drivers(s, FIX_K, FIX_DRV_M, FIX_DRV_NAMES, &FIX_DRV_SHAP[0][0]) != TRIBE_OK)
        tribe_segments_destroy(&s);
    return s;
}

/* A 2-D projection sample: m points around one centre per segment. */
__attribute__((unused)) static tribe_projection *fixture_projection(int64_t m)
{
    tribe_projection *p = calloc(1, sizeof *p);
    p->m = m;
    p->xy = calloc((size_t)(2 * m), sizeof *p->xy);
    p->label = calloc((size_t)m, sizeof *p->label);
    for (int64_t i = 0; i < m; i++) {
        int c = (int)(i % FIX_K);
        double a = tribe_rng_normal(7, 1, (uint64_t)i), b = tribe_rng_normal(7, 2, (uint64_t)i);
        p->label[i] = c;
        p->xy[2 * i] = (float)(2.5 * (c - 2) + 0.6 * a);
        p->xy[2 * i + 1] = (float)((c % 2 ? 1.5 : -1.0) + 0.5 * b + 0.3 * c);
    }
    snprintf(p->axis[0], sizeof p->axis[0], "PC1 (41%%)");
    snprintf(p->axis[1], sizeof p->axis[1], "PC2 (23%%)");
    return p;
}

#endif
