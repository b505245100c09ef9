/* Unit tests for continuity between runs (tribe/continuity.h): the matching
 * of segments on small exact overlap tables (every MONIC transition, ids
 * never reused, the centre fallback), the population stability index, and
 * personas.json read back. */
#include "testutil.h"
#include "tribe/continuity.h"
#include "tribe/persona.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol))

/* The transition of old segment i (or, for i = -1, the emerged one holding
 * new segment j), or NULL. */
static const tribe_transition *of_old(const tribe_match *m, int i, int j)
{
    for (int t = 0; t < m->n; t++)
        if (m->tr[t].from == i && (i >= 0 || m->tr[t].to[0] == j))
            return &m->tr[t];
    return NULL;
}

static void match_should_keep_every_segment_of_an_unchanged_run(void)
{
    /* 3 old -> 3 new, everyone stays; nobody new or gone. */
    int64_t ov[4 * 4] = {100, 0, 0, 0, 0, 50, 0, 0, 0, 0, 70, 0, 0, 0, 0, 0};
    int64_t ids[3] = {4, 0, 2};
    tribe_match_in in = {.ko = 3, .kn = 3, .overlap = ov, .old_id = ids, .next_id = 6};
    tribe_match_cfg cfg;
    tribe_match m;
    tribe_match_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(m.n, 3);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(m.tr[i].type, TRIBE_TR_SURVIVED);
        CU_ASSERT_EQUAL(m.tr[i].to[0], i);
        CU_ASSERT_EQUAL(m.heir[i], i);
        CU_ASSERT_EQUAL(m.id[i], ids[i]);
        NEAR(m.tr[i].share, 1.0, 0);
    }
    CU_ASSERT_EQUAL(m.next_id, 6);
    tribe_match_free(&m);
}

static void match_should_report_split_absorption_disappearance_and_emergence(void)
{
    /* Old 0 survives as new 0 (90 of 100, 10 migrate to new 2).
     * Old 1 (200) splits into new 1 and new 2 (47.5% each), 5% to new 0.
     * Old 2 (80) and old 3 (60) both go to new 3: old 2 holds 80 of its 140
     * continuing customers (>= 0.5): it survives, old 3 is absorbed.
     * Old 4: all 40 customers gone: disappeared.
     * New 4: new customers only: emerged. */
    enum { KO = 5, KN = 5, W = KN + 1 };
    int64_t ov[(KO + 1) * W] = {0};
#define OV(i, j) ov[(i) * W + (j)]
    OV(0, 0) = 90, OV(0, 2) = 10;
    OV(1, 1) = 95, OV(1, 2) = 95, OV(1, 0) = 10;
    OV(2, 3) = 80;
    OV(3, 3) = 60;
    OV(4, KN) = 40;
    OV(KO, 4) = 300, OV(KO, 0) = 25;
    int64_t ids[KO] = {0, 1, 2, 3, 4};
    tribe_match_in in = {.ko = KO, .kn = KN, .overlap = ov, .old_id = ids, .next_id = KO};
    tribe_match_cfg cfg;
    tribe_match m;
    tribe_match_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    const tribe_transition *t = of_old(&m, 0, 0);
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(t->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(t->to[0], 0);
    NEAR(t->share, 0.9, 1e-15);
    t = of_old(&m, 1, 0);
    CU_ASSERT_EQUAL(t->type, TRIBE_TR_SPLIT);
    CU_ASSERT_EQUAL(t->n_to, 2);
    CU_ASSERT_EQUAL(t->to[0], 1);
    CU_ASSERT_EQUAL(t->to[1], 2);
    NEAR(t->share, 0.95, 1e-15);
    CU_ASSERT_EQUAL(of_old(&m, 2, 0)->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(of_old(&m, 3, 0)->type, TRIBE_TR_ABSORBED);
    CU_ASSERT_EQUAL(of_old(&m, 3, 0)->to[0], 3);
    CU_ASSERT_EQUAL(of_old(&m, 4, 0)->type, TRIBE_TR_DISAPPEARED);
    CU_ASSERT_EQUAL(of_old(&m, 4, 0)->n_to, 0);
    t = of_old(&m, -1, 4);
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(t->type, TRIBE_TR_EMERGED);
    CU_ASSERT_EQUAL(m.n, KO + 1); /* no invented transition: one per old segment, one emergence */
    /* Ids: survivors keep theirs (0 and 2), the split parts and the new
     * segment get ids never used before (5, 6, 7 in new-segment order). */
    CU_ASSERT_EQUAL(m.id[0], 0);
    CU_ASSERT_EQUAL(m.id[3], 2);
    CU_ASSERT_EQUAL(m.id[1], 5);
    CU_ASSERT_EQUAL(m.id[2], 6);
    CU_ASSERT_EQUAL(m.id[4], 7);
    CU_ASSERT_EQUAL(m.next_id, 8);
    CU_ASSERT_EQUAL(m.heir[0], 0);
    CU_ASSERT_EQUAL(m.heir[3], 2);
    CU_ASSERT_EQUAL(m.heir[1], -1);
    tribe_match_free(&m);
#undef OV
}

static void match_should_tell_an_uneven_split_from_leakage(void)
{
    /* Old 0 goes 55/45 to new 0 and new 1, both made only of it: split,
     * although one part holds more than half. Old 1 keeps 75 % in new 2 and
     * loses 25 % to new 3, which is mostly old 2's: old 1 survived (the 25 %
     * migrated), old 2 survived as new 3. */
    enum { KO = 3, KN = 4, W = KN + 1 };
    int64_t ov[(KO + 1) * W] = {0};
    ov[0 * W + 0] = 55, ov[0 * W + 1] = 45;
    ov[1 * W + 2] = 75, ov[1 * W + 3] = 25;
    ov[2 * W + 3] = 100;
    int64_t ids[KO] = {0, 1, 2};
    tribe_match_in in = {.ko = KO, .kn = KN, .overlap = ov, .old_id = ids, .next_id = KO};
    tribe_match_cfg cfg;
    tribe_match m;
    tribe_match_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    const tribe_transition *t = of_old(&m, 0, 0);
    CU_ASSERT_EQUAL(t->type, TRIBE_TR_SPLIT);
    CU_ASSERT_EQUAL(t->n_to, 2);
    NEAR(t->share, 1.0, 1e-15);
    CU_ASSERT_EQUAL(of_old(&m, 1, 0)->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(of_old(&m, 1, 0)->to[0], 2);
    CU_ASSERT_EQUAL(of_old(&m, 2, 0)->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(of_old(&m, 2, 0)->to[0], 3);
    CU_ASSERT_EQUAL(m.n, KO);
    CU_ASSERT_EQUAL(m.id[0], 3); /* split parts: new ids */
    CU_ASSERT_EQUAL(m.id[1], 4);
    tribe_match_free(&m);
}

static void match_should_give_an_even_merge_a_new_id(void)
{
    /* Old 0 and old 1 (60 and 40) merge with old 2's 60 into new 0; none
     * holds half of it: all three are absorbed into a new segment. Retired
     * ids (here 9) are never handed out again: next_id comes first. */
    int64_t ov[4 * 2] = {60, 0, 40, 0, 60, 0, 0, 0};
    int64_t ids[3] = {0, 1, 2};
    tribe_match_in in = {.ko = 3, .kn = 1, .overlap = ov, .old_id = ids, .next_id = 10};
    tribe_match_cfg cfg;
    tribe_match m;
    tribe_match_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(of_old(&m, i, 0)->type, TRIBE_TR_ABSORBED);
    CU_ASSERT_EQUAL(m.heir[0], -1);
    CU_ASSERT_EQUAL(m.id[0], 10);
    CU_ASSERT_EQUAL(m.n, 3);
    tribe_match_free(&m);
}

static void match_should_fall_back_on_mutual_nearest_centres(void)
{
    /* Nobody is in both runs: old 0 is matched to the nearest new centre
     * when they are mutually nearest within centre_max; old 1's nearest is
     * too far: it disappeared and new 1 emerged. */
    int64_t ov[3 * 3] = {0, 0, 5, 0, 0, 7, 30, 40, 0};
    double cd[2 * 2] = {0.2, 3.0, 2.5, 1.5};
    int64_t ids[2] = {0, 1};
    tribe_match_in in = {.ko = 2, .kn = 2, .overlap = ov, .cdist = cd, .old_id = ids, .next_id = 2};
    tribe_match_cfg cfg;
    tribe_match m;
    tribe_match_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(of_old(&m, 0, 0)->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(m.id[0], 0);
    CU_ASSERT_EQUAL(of_old(&m, 1, 0)->type, TRIBE_TR_DISAPPEARED);
    CU_ASSERT_EQUAL(of_old(&m, -1, 1)->type, TRIBE_TR_EMERGED);
    CU_ASSERT_EQUAL(m.id[1], 2);
    tribe_match_free(&m);
    /* centre_max 1.6 admits old 1 -> new 1 (1.5). */
    cfg.centre_max = 1.6;
    CU_ASSERT_EQUAL_FATAL(tribe_match_segments(&in, &cfg, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(of_old(&m, 1, 0)->type, TRIBE_TR_SURVIVED);
    CU_ASSERT_EQUAL(m.id[1], 1);
    tribe_match_free(&m);
}

static void match_should_refuse_bad_settings(void)
{
    int64_t ov[4] = {1, 0, 0, 0};
    int64_t ids[1] = {0};
    tribe_match_in in = {.ko = 1, .kn = 1, .overlap = ov, .old_id = ids, .next_id = 1};
    tribe_match_cfg cfg;
    tribe_match m = {0};
    tribe_match_cfg_default(&cfg);
    cfg.survive = 0.4; /* two successors could each hold "most" of a segment */
    CU_ASSERT_EQUAL(tribe_match_segments(&in, &cfg, &m), TRIBE_ERR_USAGE);
    tribe_match_cfg_default(&cfg);
    cfg.split = 0.7;
    CU_ASSERT_EQUAL(tribe_match_segments(&in, &cfg, &m), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(m.tr);
}

static void psi_should_match_the_formula(void)
{
    double e[2] = {0.5, 0.5}, a[2] = {0.25, 0.75}, same[3] = {0.2, 0.3, 0.5};
    NEAR(tribe_psi(e, a, 2), -0.25 * log(0.5) + 0.25 * log(1.5), 1e-15);
    NEAR(tribe_psi(same, same, 3), 0, 0);
    /* An emptied bin is floored, not infinite. */
    double z[2] = {0, 1}, h[2] = {0.5, 0.5};
    NEAR(tribe_psi(h, z, 2), (TRIBE_PSI_FLOOR - 0.5) * log(TRIBE_PSI_FLOOR / 0.5) + 0.5 * log(2), 1e-12);
}

static void drift_reference_should_bin_by_deciles(void)
{
    tribe_par *par = tribe_test_serial();
    enum { N = 100 };
    float x[N * 2];
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)i;                       /* 0..99: ten equal bins */
        x[2 * i + 1] = i < 60 ? 1.0f : (i < 95 ? 2.0f : NAN); /* ties and missing values */
    }
    tribe_rows rows;
    CU_ASSERT_EQUAL_FATAL(tribe_rows_init(par, N, 0, N, &rows), TRIBE_OK);
    int cols[2] = {0, 1};
    double edges[2 * (TRIBE_DRIFT_BINS - 1)], share[2 * (TRIBE_DRIFT_BINS + 1)];
    CU_ASSERT_EQUAL_FATAL(tribe_drift_ref(&rows, x, 2, cols, 2, edges, share), TRIBE_OK);
    for (int b = 0; b < TRIBE_DRIFT_BINS; b++)
        NEAR(share[b], 0.1, 1e-15);
    NEAR(share[TRIBE_DRIFT_BINS], 0, 0);
    /* Column 2: deciles 1 (x6), then 2: edges {1, 2}; 60% <= 1, 35% in (1, 2], 5% missing. */
    const double *e2 = edges + TRIBE_DRIFT_BINS - 1, *s2 = share + TRIBE_DRIFT_BINS + 1;
    NEAR(e2[0], 1, 0);
    NEAR(e2[1], 2, 0);
    CU_ASSERT(isnan(e2[2]));
    NEAR(s2[0], 0.60, 1e-15);
    NEAR(s2[1], 0.35, 1e-15);
    NEAR(s2[TRIBE_DRIFT_BINS], 0.05, 1e-15);
    /* Columns that are not one run of the table's take one call each: the same bins. */
    int swapped[2] = {1, 0};
    double e_sw[2 * (TRIBE_DRIFT_BINS - 1)], s_sw[2 * (TRIBE_DRIFT_BINS + 1)];
    CU_ASSERT_EQUAL_FATAL(tribe_drift_ref(&rows, x, 2, swapped, 2, e_sw, s_sw), TRIBE_OK);
    CU_ASSERT(memcmp(s_sw, s2, (TRIBE_DRIFT_BINS + 1) * sizeof *s_sw) == 0);
    CU_ASSERT(memcmp(s_sw + TRIBE_DRIFT_BINS + 1, share, (TRIBE_DRIFT_BINS + 1) * sizeof *s_sw) == 0);
    CU_ASSERT(memcmp(e_sw + TRIBE_DRIFT_BINS - 1, edges, (TRIBE_DRIFT_BINS - 1) * sizeof *e_sw) == 0);
    tribe_par_finalize(&par);
}

static void drift_reference_should_sample_a_large_base(void)
{
    /* Above 2 TRIBE_DRIFT_SAMPLE customers the edges are a sample's deciles:
     * near the exact ones, and the shares are still counted over everyone. */
    tribe_par *par = tribe_test_serial();
    int64_t n = 2 * TRIBE_DRIFT_SAMPLE + 1000;
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((i * 7919) % 1000); /* 0..999, evenly */
    tribe_rows rows;
    CU_ASSERT_EQUAL_FATAL(tribe_rows_init(par, n, 0, n, &rows), TRIBE_OK);
    int col = 0;
    double edges[TRIBE_DRIFT_BINS - 1], share[TRIBE_DRIFT_BINS + 1], sum = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_drift_ref(&rows, x, 1, &col, 1, edges, share), TRIBE_OK);
    for (int b = 0; b < TRIBE_DRIFT_BINS - 1; b++)
        CU_ASSERT(fabs(edges[b] - (100.0 * (b + 1) - 0.5)) <= 10);
    for (int b = 0; b < TRIBE_DRIFT_BINS; b++) {
        CU_ASSERT(fabs(share[b] - 0.1) <= 0.01);
        sum += share[b];
    }
    NEAR(sum, 1, 1e-12);
    NEAR(share[TRIBE_DRIFT_BINS], 0, 0);
    free(x);
    tribe_par_finalize(&par);
}

static void personas_should_read_back_from_personas_json(void)
{
    tribe_segments *segs = NULL;
    static const char *const F[] = {"monetary"};
    CU_ASSERT_EQUAL_FATAL(tribe_segments_create(1, 1, F, &segs), TRIBE_OK);
    segs->seg[0].id = 7;
    snprintf(segs->seg[0].name, sizeof segs->seg[0].name, "Champions");
    segs->seg[0].size = 10;
    segs->seg[0].share = 1;
    tribe_persona_provider *pp = NULL;
    tribe_persona *p = NULL, *back = NULL;
    char *json = NULL, *again = NULL;
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_offline_create(42, &pp), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_write(pp, segs, &p), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_to_json(p, 1, segs, &json), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_from_json(json, &back, &n), TRIBE_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(back[0].segment, 7);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_to_json(back, 1, segs, &again), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(json, again); /* every field survives the round trip */
    CU_ASSERT_EQUAL(tribe_personas_from_json("{\"x\": 1}", &back, &n), TRIBE_ERR_INPUT);
    free(json);
    free(again);
    tribe_personas_destroy(&p, 1);
    tribe_personas_destroy(&back, 1);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&segs);
}

int main(void)
{
    static const tribe_test_case cases[] = {TRIBE_TEST(match_should_keep_every_segment_of_an_unchanged_run),
                                            TRIBE_TEST(match_should_report_split_absorption_disappearance_and_emergence),
                                            TRIBE_TEST(match_should_tell_an_uneven_split_from_leakage),
                                            TRIBE_TEST(match_should_give_an_even_merge_a_new_id),
                                            TRIBE_TEST(match_should_fall_back_on_mutual_nearest_centres),
                                            TRIBE_TEST(match_should_refuse_bad_settings),
                                            TRIBE_TEST(psi_should_match_the_formula),
                                            TRIBE_TEST(drift_reference_should_bin_by_deciles),
                                            TRIBE_TEST(drift_reference_should_sample_a_large_base),
                                            TRIBE_TEST(personas_should_read_back_from_personas_json),
                                            {NULL, NULL}};
    return tribe_test_main("continuity", cases);
}
