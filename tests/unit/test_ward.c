/* Unit tests for the Ward tree over the segment centres (tribe_ward_*,
 * tribe/cluster.h): small exact cases and a cross-check against scipy's
 * linkage (skipped when /usr/bin/python3 lacks it). */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol))

static void ward_should_merge_by_weighted_cost(void)
{
    /* 1-D points 0 (3 customers), 1 and 5 (1 each). Squared heights
     * 2 n_a n_b / (n_a + n_b) d^2: (0,1) 1.5, (0,2) 37.5, (1,2) 16. The first
     * merge is (0,1) at sqrt(1.5); Lance-Williams then gives
     * ((1+3) 37.5 + (1+1) 16 - 1 * 1.5) / 5 = 36.1, which is also Ward's
     * cost of the merged centre 0.25 (4 customers) against 5. */
    double c[3] = {0, 1, 5};
    int64_t w[3] = {3, 1, 1};
    tribe_ward *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_ward_build(c, w, 3, 1, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(t->merges[0], 0);
    CU_ASSERT_EQUAL(t->merges[1], 1);
    NEAR(t->heights[0], sqrt(1.5), 1e-15);
    CU_ASSERT_EQUAL(t->sizes[0], 4);
    CU_ASSERT_EQUAL(t->merges[2], 2);
    CU_ASSERT_EQUAL(t->merges[3], 3);
    NEAR(t->heights[1], sqrt(36.1), 1e-13);
    CU_ASSERT_EQUAL(t->sizes[1], 5);
    tribe_ward_destroy(&t);
    /* Unit weights: heights are scipy's (0-1 at 1, then sqrt(27)). */
    int64_t one[3] = {1, 1, 1};
    CU_ASSERT_EQUAL_FATAL(tribe_ward_build(c, one, 3, 1, &t), TRIBE_OK);
    NEAR(t->heights[0], 1, 1e-15);
    NEAR(t->heights[1], sqrt(27), 1e-13);
    tribe_ward_destroy(&t);
    CU_ASSERT_EQUAL(tribe_ward_build(c, (int64_t[]){1, 0, 1}, 3, 1, &t), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(t);
}

static void ward_should_break_ties_by_lowest_ids(void)
{
    /* The corners of a unit square: four equal cheapest pairs. (0,1) goes
     * first (lowest ids), then (2,3), then the two pairs (4,5). */
    double c[8] = {0, 0, 1, 0, 0, 1, 1, 1};
    int64_t w[4] = {1, 1, 1, 1};
    tribe_ward *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_ward_build(c, w, 4, 2, &t), TRIBE_OK);
    int want[6] = {0, 1, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(t->merges[i], want[i]);
    NEAR(t->heights[0], 1, 1e-15);
    NEAR(t->heights[1], 1, 1e-15);
    NEAR(t->heights[2], sqrt(2), 1e-14); /* sqrt(2 * (2*2/4) * 1^2) */
    tribe_ward_destroy(&t);
    /* k = 1: an empty tree. */
    CU_ASSERT_EQUAL_FATAL(tribe_ward_build(c, w, 1, 2, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(t->k, 1);
    tribe_ward_destroy(&t);
}

static void ward_should_agree_with_scipy_linkage(void)
{
    if (!tribe_test_need_python("scipy.cluster.hierarchy"))
        return;
    enum { K = 12, Dm = 3 };
    double c[K * Dm];
    int64_t w[K];
    for (int i = 0; i < K * Dm; i++)
        c[i] = 3 * tribe_rng_normal(8, 1, (uint64_t)i);
    for (int i = 0; i < K; i++)
        w[i] = 1;
    tribe_ward *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_ward_build(c, w, K, Dm, &t), TRIBE_OK);
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/centres.csv", tribe_test_tmpdir());
    FILE *fp = fopen(path, "w");
    CU_ASSERT_FATAL(fp != NULL);
    for (int i = 0; i < K; i++)
        fprintf(fp, "%.17g,%.17g,%.17g\n", c[i * Dm], c[i * Dm + 1], c[i * Dm + 2]);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np; from scipy.cluster.hierarchy import linkage; "
             "Z = linkage(np.loadtxt('%s', delimiter=','), method='ward'); "
             "[print(int(a), int(b), repr(h), int(s)) for a, b, h, s in Z]\"",
             path);
    FILE *pp = popen(cmd, "r");
    CU_ASSERT_FATAL(pp != NULL);
    int rows = 0;
    for (int s = 0; s < K - 1; s++) {
        int a, b, sz;
        double h;
        if (fscanf(pp, "%d %d %lf %d", &a, &b, &h, &sz) != 4)
            break;
        rows++;
        CU_ASSERT_EQUAL(t->merges[2 * s], a);
        CU_ASSERT_EQUAL(t->merges[2 * s + 1], b);
        NEAR(t->heights[s], h, 1e-12 * (1 + h));
        CU_ASSERT_EQUAL(t->sizes[s], sz);
    }
    pclose(pp);
    CU_ASSERT_EQUAL(rows, K - 1);
    tribe_ward_destroy(&t);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(ward_should_merge_by_weighted_cost),
        TRIBE_TEST(ward_should_break_ties_by_lowest_ids),
        TRIBE_TEST(ward_should_agree_with_scipy_linkage),
        {NULL, NULL}};
    return tribe_test_main("ward", cases);
}
