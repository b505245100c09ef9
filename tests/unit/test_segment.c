/* Unit tests for segments.json (tribe_segments_to_json / _from_json in
 * src/core/segment_json.c): the round trip is exact field by field, the LLM
 * profile of the segments read back is the original's byte for byte (the
 * reason the file exists), and anything that is not the schema is INPUT
 * naming the member. */
#include "testutil.h"
#include "tribe/llm.h"
#include "tribe/segment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segfix.h"

/* The same double, bit for bit, or both NaN (null in the file). */
static int same(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 1;
    return memcmp(&a, &b, sizeof a) == 0;
}

static int same_arr(const double *a, const double *b, int n)
{
    for (int i = 0; i < n; i++)
        if (!same(a[i], b[i]))
            return 0;
    return 1;
}

static void assert_equal_segments(const tribe_segments *a, const tribe_segments *b)
{
    CU_ASSERT_EQUAL_FATAL(a->k, b->k);
    CU_ASSERT_EQUAL_FATAL(a->d, b->d);
    CU_ASSERT_EQUAL(a->n_total, b->n_total);
    for (int j = 0; j < a->d; j++)
        CU_ASSERT_STRING_EQUAL(a->feature_names[j], b->feature_names[j]);
    CU_ASSERT(same(a->silhouette, b->silhouette));
    CU_ASSERT(same(a->silhouette_ci, b->silhouette_ci));
    CU_ASSERT(same(a->inertia, b->inertia));
    CU_ASSERT(same(a->ltv_horizon_days, b->ltv_horizon_days));
    CU_ASSERT(same(a->churn_horizon_days, b->churn_horizon_days));
    CU_ASSERT(same(a->churn_high_risk, b->churn_high_risk));
    CU_ASSERT(same_arr(a->overall_mean, b->overall_mean, a->d));
    CU_ASSERT(same_arr(a->overall_median, b->overall_median, a->d));
    CU_ASSERT(same_arr(a->overall_q1, b->overall_q1, a->d));
    CU_ASSERT(same_arr(a->overall_q3, b->overall_q3, a->d));
    for (int c = 0; c < a->k; c++) {
        const tribe_segment *x = &a->seg[c], *y = &b->seg[c];
        CU_ASSERT_EQUAL(x->id, y->id);
        CU_ASSERT_STRING_EQUAL(x->name, y->name);
        CU_ASSERT_EQUAL(x->size, y->size);
        CU_ASSERT(same(x->share, y->share));
        CU_ASSERT(same(x->revenue_share, y->revenue_share));
        CU_ASSERT(same_arr(x->mean, y->mean, a->d));
        CU_ASSERT(same_arr(x->median, y->median, a->d));
        CU_ASSERT(same_arr(x->q1, y->q1, a->d));
        CU_ASSERT(same_arr(x->q3, y->q3, a->d));
        CU_ASSERT(same_arr(x->centroid, y->centroid, a->d));
        CU_ASSERT_EQUAL(x->n_drivers, y->n_drivers);
        for (int r = 0; r < TRIBE_SEG_DRIVERS; r++) {
            CU_ASSERT_EQUAL(x->driver_feature[r], y->driver_feature[r]);
            CU_ASSERT(same(x->driver_shap[r], y->driver_shap[r]));
        }
        CU_ASSERT(same(x->ltv_mean, y->ltv_mean));
        CU_ASSERT(same(x->churn_mean, y->churn_mean));
        CU_ASSERT(same(x->churn_high, y->churn_high));
        CU_ASSERT(same(x->ltv_median, y->ltv_median));
        CU_ASSERT(same(x->ltv_total, y->ltv_total));
        CU_ASSERT_EQUAL(x->outliers, y->outliers);
        CU_ASSERT_EQUAL_FATAL(x->n_offers, y->n_offers);
        for (int q = 0; q < x->n_offers; q++) {
            CU_ASSERT_STRING_EQUAL(x->offer[q].name, y->offer[q].name);
            CU_ASSERT(same(x->offer[q].lift, y->offer[q].lift));
            CU_ASSERT(same(x->offer[q].share, y->offer[q].share));
            CU_ASSERT(same(x->offer[q].base_share, y->offer[q].base_share));
            CU_ASSERT_EQUAL(x->offer[q].customers, y->offer[q].customers);
        }
    }
    CU_ASSERT_EQUAL_FATAL(a->n_mix, b->n_mix);
    for (int m = 0; m < a->n_mix; m++) {
        const tribe_segmix *x = &a->mix[m], *y = &b->mix[m];
        CU_ASSERT_STRING_EQUAL(x->name, y->name);
        CU_ASSERT_EQUAL_FATAL(x->n_levels, y->n_levels);
        for (int l = 0; l < x->n_levels; l++)
            CU_ASSERT_STRING_EQUAL(x->levels[l], y->levels[l]);
        CU_ASSERT(memcmp(x->count, y->count, (size_t)(a->k + 1) * (size_t)x->n_levels * sizeof *x->count) == 0);
    }
    /* the Kruskal-Wallis block, when there is one */
    CU_ASSERT_EQUAL_FATAL(a->kw == NULL, b->kw == NULL);
    if (a->kw) {
        CU_ASSERT(memcmp(a->kw->n, b->kw->n, (size_t)a->d * sizeof *a->kw->n) == 0);
        CU_ASSERT(memcmp(a->kw->k_used, b->kw->k_used, (size_t)a->d * sizeof *a->kw->k_used) == 0);
        CU_ASSERT(same_arr(a->kw->h, b->kw->h, a->d));
        CU_ASSERT(same_arr(a->kw->p, b->kw->p, a->d));
        CU_ASSERT(same_arr(a->kw->p_holm, b->kw->p_holm, a->d));
        CU_ASSERT(same_arr(a->kw->eps2, b->kw->eps2, a->d));
        CU_ASSERT(same_arr(a->kw->delta, b->kw->delta, a->d * a->k * a->k));
    }
}

/* The fixture with drivers, predicted value, outliers and values that a
 * short printf would not keep: thirds, tiny and huge magnitudes, -0, NaN. */
static tribe_segments *rich_segments(void)
{
    tribe_segments *s = fixture_segments_with_drivers();
    if (!s)
        return NULL;
    s->ltv_horizon_days = 365;
    s->churn_horizon_days = 90;
    s->churn_high_risk = 0.5;
    for (int c = 0; c < s->k; c++) {
        tribe_segment *g = &s->seg[c];
        g->id = 10 + 3 * c; /* persistent ids, not positions */
        g->churn_mean = 1.0 / (c + 3);
        g->churn_high = c == 1 ? NAN : 0.125 * c;
        g->ltv_mean = 1000.0 / 3.0 * (c + 1);
        g->ltv_median = g->ltv_mean * 0.7071067811865476;
        g->ltv_total = g->ltv_mean * (double)g->size;
        g->outliers = c == 2 ? -1 : 7 * c;
        g->centroid[0] = c == 1 ? -0.0 : 1e-300 * (c + 1);
        g->mean[1] = 1.0 / 3.0 + c;
    }
    s->seg[3].revenue_share = NAN;
    s->seg[4].q1[5] = NAN;
    s->overall_q3[2] = 6.02214076e23;
    s->silhouette = 0.1 + 0.2;
    snprintf(s->seg[1].name, sizeof s->seg[1].name, "Loyal \"Customers\" \\ 2\n");
    /* a Kruskal-Wallis block: a constant feature's NaN, a p of 1e-300, deltas in thirds */
    if (tribe_segtest_create(s->k, s->d, &s->kw) != TRIBE_OK) {
        tribe_segments_destroy(&s);
        return NULL;
    }
    for (int j = 0; j < s->d; j++) {
        s->kw->n[j] = 4346 - j;
        s->kw->k_used[j] = s->k;
        s->kw->h[j] = j == 3 ? NAN : 1000.0 / 3.0 * (j + 1);
        s->kw->p[j] = j == 3 ? NAN : 1e-300 * (j + 1);
        s->kw->p_holm[j] = j == 3 ? NAN : 1e-299 * (j + 1);
        s->kw->eps2[j] = j == 3 ? NAN : s->kw->h[j] / 4345.0;
        for (int a = 0; a < s->k; a++)
            for (int c = 0; c < s->k; c++)
                s->kw->delta[((size_t)j * s->k + a) * s->k + c] = (double)(a - c) / 3.0 / s->k;
    }
    /* offers (docs/offers.md) on one segment: a name with a quote and digits, a lift of a third */
    s->seg[1].n_offers = 2;
    s->seg[1].offer[0] = (tribe_segoffer){"PACK OF 72 \"RETROSPOT\" CAKE CASES", 7.0 / 3.0, 0.35, 0.15, 42};
    s->seg[1].offer[1] = (tribe_segoffer){"LUNCH BAG RED RETROSPOT", 1.25, 0.5, 0.4, 60};
    return s;
}

static void segments_json_should_round_trip_every_field_exactly(void)
{
    tribe_segments *s = rich_segments(), *back = NULL;
    char *text = NULL, *again = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"revenue_share\": null"));
    CU_ASSERT_EQUAL_FATAL(tribe_segments_from_json(text, &back), TRIBE_OK);
    assert_equal_segments(s, back);
    /* and the text of the copy is the same text */
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(back, &again), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(text, again);
    free(text);
    free(again);
    tribe_segments_destroy(&s);
    tribe_segments_destroy(&back);
    CU_ASSERT_PTR_NULL(back);
}

/* A segments.json written before the churn keys existed still loads: they
 * read as NaN (no churn model). */
static void segments_json_without_churn_keys_should_load_as_no_churn_model(void)
{
    tribe_segments *s = rich_segments(), *back = NULL;
    char *text = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    static const char *const keys[] = {"churn_mean", "churn_high", "churn_horizon_days", "churn_high_risk"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char pat[48];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[k]);
        for (char *p = strstr(text, pat); p; p = strstr(text, pat))
            memcpy(p + 1, "x", 1); /* rename the key: an old reader's file has none of them */
    }
    CU_ASSERT_PTR_NULL(strstr(text, "\"churn_mean\""));
    CU_ASSERT_EQUAL_FATAL(tribe_segments_from_json(text, &back), TRIBE_OK);
    CU_ASSERT(isnan(back->churn_horizon_days) && isnan(back->churn_high_risk));
    for (int c = 0; c < back->k; c++)
        CU_ASSERT(isnan(back->seg[c].churn_mean) && isnan(back->seg[c].churn_high));
    CU_ASSERT(same(back->ltv_horizon_days, s->ltv_horizon_days));
    free(text);
    tribe_segments_destroy(&s);
    tribe_segments_destroy(&back);
}

/* The server rebuilds a persona's grounding input from segments.json: the
 * profile sent to the LLM (and so its cache key) must not change. */
static void segments_read_back_should_give_the_same_llm_profile(void)
{
    tribe_segments *s = rich_segments(), *back = NULL;
    char *text = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_from_json(text, &back), TRIBE_OK);
    for (int c = 0; c < s->k; c++) {
        char *p1 = NULL, *p2 = NULL;
        CU_ASSERT_EQUAL_FATAL(tribe_llm_profile(s, c, 1, &p1), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_llm_profile(back, c, 1, &p2), TRIBE_OK);
        CU_ASSERT_STRING_EQUAL(p1, p2);
        CU_ASSERT_PTR_NOT_NULL(strstr(p1, "top_drivers")); /* the drivers came through */
        free(p1);
        free(p2);
    }
    free(text);
    tribe_segments_destroy(&s);
    tribe_segments_destroy(&back);
}

/* Zero segments, zero features, no mixes: still a valid file. */
static void empty_segments_should_round_trip(void)
{
    tribe_segments *s = NULL, *back = NULL;
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_segments_create(0, 0, NULL, &s), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_from_json(text, &back), TRIBE_OK);
    assert_equal_segments(s, back);
    free(text);
    tribe_segments_destroy(&s);
    tribe_segments_destroy(&back);
}

/* Replaces the first occurrence of `from` in text by `to` (fresh string). */
static char *edited(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p)
        return NULL;
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
    return out;
}

static void bad_segments_json_should_be_input_naming_the_member(void)
{
    tribe_segments *s = rich_segments(), *back = NULL;
    char *text = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    static const struct {
        const char *from, *to, *says;
    } cases[] = {
        {"\"format\": \"tribe-segments\"", "\"format\": \"other\"", "format"},
        {"\"size\": 612", "\"size\": \"612\"", "segments[0].size"},
        {"\"size\": 612", "\"size\": 612.5", "segments[0].size"},
        {"\"feature\": \"monetary\"", "\"feature\": \"shoe_size\"", "segments[0].drivers[0].feature is not among feature_names"},
        {"\"mean_abs_shap\": ", "\"mean_abs_shap\": \"x\", \"was\": ", "segments[0].drivers[0].mean_abs_shap is not"},
        {"\"median\": [9,", "\"median\": [\"9\",", "segments[0].median"},
        {"\"k\": 5", "\"k\": 4", "segments"},
        {"\"outliers\": 0}", "\"outliers\": -2}", "segments[0].outliers"},
        {"\"customers\": 42}", "\"customers\": -42}", "segments[1].offers[0].customers is not"},
        {"\"count\": [[150", "\"count\": [[-150", "mixes[0].count"},
        {"\"feature_names\": [\"recency_days\"", "\"feature_names\": [7", "feature_names"},
        {"\"epsilon_squared\": [", "\"epsilon_squared\": [\"x\", ", "kruskal_wallis.epsilon_squared"},
        {"\"cliffs_delta\": [\n   [[", "\"cliffs_delta\": [\n   [[1, ", "kruskal_wallis.cliffs_delta"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *bad = edited(text, cases[i].from, cases[i].to);
        CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
        CU_ASSERT_EQUAL(tribe_segments_from_json(bad, &back), TRIBE_ERR_INPUT);
        CU_ASSERT_PTR_NULL(back);
        if (!strstr(tribe_errmsg(), cases[i].says))
            fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, tribe_errmsg(), cases[i].says);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), cases[i].says));
        free(bad);
    }
    CU_ASSERT_EQUAL(tribe_segments_from_json("{\"format\": ", &back), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_segments_from_json(NULL, &back), TRIBE_ERR_INPUT);
    free(text);
    tribe_segments_destroy(&s);
}

/* Out of memory at every allocation of the read: NOMEM, nothing leaked (ASan). */
static void segments_from_json_should_fail_cleanly_out_of_memory(void)
{
    tribe_segments *s = rich_segments(), *back = NULL;
    char *text = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_to_json(s, &text), TRIBE_OK);
    int failed = 0;
    for (long n = 1; n < 400; n++) {
        tribe_alloc_fail_after(n);
        tribe_status st = tribe_segments_from_json(text, &back);
        tribe_alloc_fail_after(0);
        if (st == TRIBE_OK) {
            tribe_segments_destroy(&back);
            break;
        }
        CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
        CU_ASSERT_PTR_NULL(back);
        failed++;
    }
    CU_ASSERT(failed > 20);
    free(text);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(segments_json_should_round_trip_every_field_exactly),
        TRIBE_TEST(segments_json_without_churn_keys_should_load_as_no_churn_model),
        TRIBE_TEST(segments_read_back_should_give_the_same_llm_profile),
        TRIBE_TEST(empty_segments_should_round_trip),
        TRIBE_TEST(bad_segments_json_should_be_input_naming_the_member),
        TRIBE_TEST(segments_from_json_should_fail_cleanly_out_of_memory),
        {NULL, NULL}};
    return tribe_test_main("segment", cases);
}
