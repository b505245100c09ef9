/* Unit tests for the ingest hash tables (src/features/ingest_hash.c):
 * batched set insertion and seeded tables. */
#include "testutil.h"

#include "../../src/features/ingest_internal.h"

#include <stdlib.h>
#include <string.h>

/* Pairs with many repeats, inside one batch and across batches. */
static void make_pairs(ing_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i].a = tribe_rng_below(5, 1, i, 97);
        p[i].b = tribe_rng_below(5, 2, i, 301) * 0x100000001ULL;
    }
}

static void batched_adds_should_match_one_by_one_adds(void)
{
    enum { N = 20000 };
    ing_pair *p = malloc(N * sizeof *p);
    unsigned char *is_new = malloc(N);
    CU_ASSERT_FATAL(p && is_new);
    make_pairs(p, N);
    ing_set one, many;
    CU_ASSERT_EQUAL_FATAL(ing_set_init(&one, 0), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(ing_set_init_seed(&many, 0, 12345), TRIBE_OK);
    /* uneven chunks: shorter and longer than one batch, growth in between */
    size_t done = 0, chunk = 1;
    while (done < N) {
        size_t m = chunk < N - done ? chunk : N - done;
        CU_ASSERT_EQUAL_FATAL(ing_set_add_many(&many, p + done, m, is_new + done), TRIBE_OK);
        done += m;
        chunk = chunk * 3 + 1;
    }
    size_t fresh = 0;
    for (size_t i = 0; i < N; i++) {
        int nw = 0;
        CU_ASSERT_EQUAL_FATAL(ing_set_add(&one, p[i].a, p[i].b, &nw), TRIBE_OK);
        CU_ASSERT_EQUAL(nw, is_new[i]);
        fresh += (size_t)nw;
    }
    CU_ASSERT_EQUAL(one.n, fresh);
    CU_ASSERT_EQUAL(many.n, fresh);
    CU_ASSERT(fresh > 1000 && fresh < N); /* the data does repeat */
    /* adding everything again finds it all */
    CU_ASSERT_EQUAL(ing_set_add_many(&many, p, N, is_new), TRIBE_OK);
    for (size_t i = 0; i < N; i++)
        CU_ASSERT_EQUAL(is_new[i], 0);
    CU_ASSERT_EQUAL(many.n, fresh);
    ing_set_free(&one);
    ing_set_free(&many);
    free(p);
    free(is_new);
}

static void a_map_filled_from_another_maps_slots_should_find_every_key(void)
{
    ing_map src, dst;
    CU_ASSERT_EQUAL_FATAL(ing_map_init(&src, 0), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(ing_map_init_seed(&dst, 0, 0xd1b54a32d192ed03ULL), TRIBE_OK);
    for (int64_t i = 0; i < 50000; i++) {
        int64_t *v = NULL;
        int nw = 0;
        CU_ASSERT_EQUAL_FATAL(ing_map_upsert(&src, (uint64_t)i, (uint64_t)(i % 7), &v, &nw), TRIBE_OK);
        *v = i;
    }
    /* slot order of src, into a map that starts small and grows */
    for (size_t s = 0; s < src.cap; s++) {
        if (src.t[s].a == ING_EMPTY)
            continue;
        int64_t *v = NULL;
        int nw = 0;
        CU_ASSERT_EQUAL_FATAL(ing_map_upsert(&dst, src.t[s].a, src.t[s].b, &v, &nw), TRIBE_OK);
        CU_ASSERT_EQUAL(nw, 1);
        *v = src.t[s].v;
    }
    CU_ASSERT_EQUAL(dst.n, src.n);
    for (int64_t i = 0; i < 50000; i += 7) {
        int64_t *v = ing_map_find(&dst, (uint64_t)i, (uint64_t)(i % 7));
        CU_ASSERT_FATAL(v != NULL);
        CU_ASSERT_EQUAL(*v, i);
    }
    CU_ASSERT_PTR_NULL(ing_map_find(&dst, 3, 4));
    ing_map_free(&src);
    ing_map_free(&dst);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(batched_adds_should_match_one_by_one_adds),
        TRIBE_TEST(a_map_filled_from_another_maps_slots_should_find_every_key),
        {NULL, NULL}};
    return tribe_test_main("ingest_hash", cases);
}
