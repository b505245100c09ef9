/* Unit tests for the per-segment outlier fences (tribe_outliers_fit,
 * tribe/cluster.h) on a small exact case. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol))

static void outliers_should_use_the_segment_quartile_fence(void)
{
    /* Segment 0: 1..8 and 100: Q1 = 3, Q3 = 7 (numpy linear), IQR 4, fence
     * 7 + 3*4 = 19: only 100 is out, score (100 - 7) / 4 = 23.25.
     * Segment 1: three equal distances: no spread, nobody flagged. */
    float dist[] = {1, 2, 3, 4, 5, 6, 7, 8, 100, 5, 5, 5};
    int32_t lab[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    uint8_t flag[12];
    float score[12];
    tribe_par *par = NULL;
    tribe_outliers *o = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_outliers_fit(par, dist, lab, 12, 2, 3.0, flag, score, &o), TRIBE_OK);
    CU_ASSERT_EQUAL(o->q1[0], 3.0);
    CU_ASSERT_EQUAL(o->q3[0], 7.0);
    CU_ASSERT_EQUAL(o->fence[0], 19.0);
    CU_ASSERT(isinf(o->fence[1]));
    CU_ASSERT_EQUAL(o->count[0], 1);
    CU_ASSERT_EQUAL(o->count[1], 0);
    CU_ASSERT_EQUAL(o->total, 1);
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(flag[i], i == 8);
    CU_ASSERT_EQUAL(score[8], 23.25f);
    CU_ASSERT_EQUAL(score[0], -1.5f);
    CU_ASSERT_EQUAL(score[10], 0.0f);
    tribe_outliers_destroy(&o);
    tribe_outliers_destroy(&o); /* NULL is fine */
    /* A threshold of 0.2: 8 (score 0.25) is past the fence 7.8 too. */
    CU_ASSERT_EQUAL_FATAL(tribe_outliers_fit(par, dist, lab, 12, 2, 0.2, flag, score, &o), TRIBE_OK);
    CU_ASSERT_EQUAL(o->count[0], 2);
    CU_ASSERT(flag[7] && flag[8] && !flag[6]);
    tribe_outliers_destroy(&o);
    CU_ASSERT_EQUAL(tribe_outliers_fit(par, dist, lab, 12, 2, -1, flag, score, &o), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(o);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(outliers_should_use_the_segment_quartile_fence),
        {NULL, NULL}};
    return tribe_test_main("outliers", cases);
}
