/* Unit tests for the offers kernels (tribe/offers.h) on small exact cases:
 * counting buyers per segment and item, lift with its support thresholds,
 * the order of the top list, exclusion and the max_items cut. */
#include "testutil.h"
#include "tribe/offers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ten customers, two segments, four items.
 *   segment 0 (customers 0-3): item 0 bought by 0,1,2,3; item 1 by 0,1; item 2 by 0
 *   segment 1 (customers 4-8): item 0 by 4; item 2 by 4,5,6,7; item 3 by 8
 *   customer 9: label -1 (in no segment, in the base): item 3
 * Base (10 customers): item 0 5, item 1 2, item 2 5, item 3 2. */
static const int32_t LABEL[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, -1};
static const int64_t COUNT[10] = {3, 2, 1, 1, 2, 1, 1, 1, 1, 1};
static const int32_t ITEM[14] = {0, 1, 2, 0, 1, 0, 0, 0, 2, 2, 2, 2, 3, 3};

static void offers_should_count_buyers_per_segment_and_in_the_base(void)
{
    int32_t col[4] = {0, 1, 2, 3};
    int64_t cnt[3 * 4] = {0}, size[3] = {0};
    tribe_offers_count(LABEL, 10, COUNT, ITEM, col, 2, 4, cnt, size);
    CU_ASSERT_EQUAL(size[0], 4);
    CU_ASSERT_EQUAL(size[1], 5);
    CU_ASSERT_EQUAL(size[2], 10); /* the unlabelled customer counts in the base only */
    static const int64_t want[12] = {4, 2, 1, 0, 1, 0, 4, 1, 5, 2, 5, 2};
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(cnt[i], want[i]);
    /* an item left out (col -1) is counted nowhere; counts add to what is there */
    int32_t col2[4] = {0, -1, 1, -1};
    int64_t cnt2[3 * 2] = {0}, size2[3] = {0};
    tribe_offers_count(LABEL, 10, COUNT, ITEM, col2, 2, 2, cnt2, size2);
    static const int64_t want2[6] = {4, 1, 1, 4, 5, 5};
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(cnt2[i], want2[i]);
}

static void offers_should_rank_by_lift_within_the_support_thresholds(void)
{
    int32_t col[4] = {0, 1, 2, 3}, col_item[4] = {0, 1, 2, 3};
    int64_t cnt[12] = {0}, size[3] = {0};
    tribe_offers_count(LABEL, 10, COUNT, ITEM, col, 2, 4, cnt, size);
    tribe_offers_cfg cfg;
    tribe_offers_cfg_default(&cfg);
    cfg.min_customers = 2;
    cfg.min_share = 0.3;
    cfg.min_lift = 1.2;
    tribe_offer out[2 * 3];
    int n[2];
    tribe_offers_rank(cnt, size, 2, 4, col_item, &cfg, out, n);
    /* segment 0: item 1: share 2/4 = 0.5, base 2/10: lift 2.5; item 0: 1/0.5 = 2.0;
     * item 2: 1 buyer < min_customers 2 */
    CU_ASSERT_EQUAL_FATAL(n[0], 2);
    CU_ASSERT_EQUAL(out[0].item, 1);
    CU_ASSERT_EQUAL(out[0].customers, 2);
    CU_ASSERT_EQUAL(out[0].share, 0.5);
    CU_ASSERT_EQUAL(out[0].base_share, 0.2);
    CU_ASSERT_EQUAL(out[0].lift, 2.5);
    CU_ASSERT_EQUAL(out[1].item, 0);
    CU_ASSERT_EQUAL(out[1].lift, 2.0);
    /* segment 1: item 2: 4/5 = 0.8 over 0.5: lift 1.6; item 0 (1 buyer) and item 3 (1 buyer) fail support */
    CU_ASSERT_EQUAL_FATAL(n[1], 1);
    CU_ASSERT_EQUAL(out[3].item, 2);
    CU_ASSERT_DOUBLE_EQUAL(out[3].lift, 1.6, 1e-15);
    /* min_lift 1.7 drops segment 1's only offer; min_share 0.6 leaves segment 0 only item 0 (share 1.0) */
    cfg.min_lift = 1.7;
    tribe_offers_rank(cnt, size, 2, 4, col_item, &cfg, out, n);
    CU_ASSERT_EQUAL(n[1], 0);
    cfg.min_lift = 1.0;
    cfg.min_share = 0.6;
    tribe_offers_rank(cnt, size, 2, 4, col_item, &cfg, out, n);
    CU_ASSERT_EQUAL_FATAL(n[0], 1);
    CU_ASSERT_EQUAL(out[0].item, 0);
    /* top 1 keeps only the best */
    cfg.min_share = 0;
    cfg.top = 1;
    tribe_offers_rank(cnt, size, 2, 4, col_item, &cfg, out, n);
    CU_ASSERT_EQUAL(n[0], 1);
    CU_ASSERT_EQUAL(out[0].item, 1);
}

static void offers_should_break_lift_ties_by_buyers_then_item(void)
{
    /* one segment of 4 in a base of 8; items 0..2 all at lift 2: item 0 and
     * 2 with 2 buyers (base 2), item 1 with 4 buyers (base 4) */
    int64_t size[2] = {4, 8};
    int64_t cnt[2 * 3] = {2, 4, 2, 2, 4, 2};
    int32_t col_item[3] = {7, 8, 9};
    tribe_offers_cfg cfg;
    tribe_offers_cfg_default(&cfg);
    cfg.min_customers = 1;
    cfg.min_share = 0;
    tribe_offer out[3];
    int n = 0;
    tribe_offers_rank(cnt, size, 1, 3, col_item, &cfg, out, &n);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(out[0].item, 8);
    CU_ASSERT_EQUAL(out[1].item, 7);
    CU_ASSERT_EQUAL(out[2].item, 9);
    /* an empty segment offers nothing */
    int64_t size0[2] = {0, 8};
    tribe_offers_rank(cnt, size0, 1, 3, col_item, &cfg, out, &n);
    CU_ASSERT_EQUAL(n, 0);
}

static void offers_fit_should_exclude_items_and_keep_the_most_bought(void)
{
    tribe_par *par = NULL;
    tribe_items it = {0};
    it.n_items = 4;
    it.n_local = 10;
    it.nnz = 14;
    it.count = (int64_t *)COUNT;
    it.item = (int32_t *)ITEM;
    tribe_offers_cfg cfg;
    tribe_offers_cfg_default(&cfg);
    cfg.min_customers = 2;
    cfg.min_share = 0.3;
    tribe_offers res;
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_offers_fit(par, LABEL, &it, 2, &cfg, NULL, &res), TRIBE_OK);
    CU_ASSERT_EQUAL(res.n_customers, 10);
    CU_ASSERT_EQUAL(res.items_total, 4);
    CU_ASSERT_EQUAL(res.items_counted, 4); /* every item has >= 2 buyers overall */
    CU_ASSERT_EQUAL(res.n_offers[0], 2);
    CU_ASSERT_EQUAL(res.offer[0].item, 1);
    CU_ASSERT_EQUAL(res.offer[0].lift, 2.5);
    tribe_offers_free(&res);
    /* item 1 excluded: segment 0 keeps item 0 only */
    uint8_t skip[4] = {0, 1, 0, 0};
    CU_ASSERT_EQUAL_FATAL(tribe_offers_fit(par, LABEL, &it, 2, &cfg, skip, &res), TRIBE_OK);
    CU_ASSERT_EQUAL(res.items_counted, 3);
    CU_ASSERT_EQUAL_FATAL(res.n_offers[0], 1);
    CU_ASSERT_EQUAL(res.offer[0].item, 0);
    tribe_offers_free(&res);
    /* max_items 2: items 0 and 2 (5 buyers each) are counted, 1 and 3 (2) not */
    cfg.max_items = 2;
    CU_ASSERT_EQUAL_FATAL(tribe_offers_fit(par, LABEL, &it, 2, &cfg, NULL, &res), TRIBE_OK);
    CU_ASSERT_EQUAL(res.items_counted, 2);
    CU_ASSERT_EQUAL_FATAL(res.n_offers[0], 1);
    CU_ASSERT_EQUAL(res.offer[0].item, 0);
    CU_ASSERT_EQUAL_FATAL(res.n_offers[1], 1);
    CU_ASSERT_EQUAL(res.offer[res.top].item, 2);
    tribe_offers_free(&res);
    tribe_offers_free(&res); /* twice is fine */
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(offers_should_count_buyers_per_segment_and_in_the_base),
        TRIBE_TEST(offers_should_rank_by_lift_within_the_support_thresholds),
        TRIBE_TEST(offers_should_break_lift_ties_by_buyers_then_item),
        TRIBE_TEST(offers_fit_should_exclude_items_and_keep_the_most_bought),
        {NULL, NULL}};
    return tribe_test_main("offers", cases);
}
