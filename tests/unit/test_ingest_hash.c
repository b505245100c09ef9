/* Unit tests for the ingest hash tables (src/features/ingest_hash.c):
 * batched set and map insertion and seeded tables. */
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

/* ing_map_add_many against ing_map_upsert: the same sums, and is_new says
 * which pairs were absent (ingest counts a customer's distinct items so). */
static void batched_map_adds_should_match_upserts_and_say_which_pairs_were_new(void)
{
    enum { N = 20000 };
    ing_pair *p = malloc(N * sizeof *p);
    int64_t *v = malloc(N * sizeof *v);
    unsigned char *is_new = malloc(N);
    CU_ASSERT_FATAL(p && v && is_new);
    make_pairs(p, N);
    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)tribe_rng_below(5, 3, i, 1000) - 300;
    ing_map one, many;
    CU_ASSERT_EQUAL_FATAL(ing_map_init(&one, 0), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(ing_map_init_seed(&many, 0, 12345), TRIBE_OK);
    size_t done = 0, chunk = 1; /* shorter and longer than one batch, growth in between */
    while (done < N) {
        size_t m = chunk < N - done ? chunk : N - done;
        CU_ASSERT_EQUAL_FATAL(ing_map_add_many(&many, p + done, v + done, m, is_new + done), TRIBE_OK);
        done += m;
        chunk = chunk * 3 + 1;
    }
    size_t fresh = 0;
    for (size_t i = 0; i < N; i++) {
        int64_t *sum = NULL;
        int nw = 0;
        CU_ASSERT_EQUAL_FATAL(ing_map_upsert(&one, p[i].a, p[i].b, &sum, &nw), TRIBE_OK);
        *sum += v[i];
        CU_ASSERT_EQUAL(nw, is_new[i]);
        fresh += (size_t)nw;
    }
    CU_ASSERT_EQUAL(many.n, fresh);
    CU_ASSERT(fresh > 1000 && fresh < N); /* the data does repeat */
    for (size_t s = 0; s < one.cap; s++)
        if (one.t[s].a != ING_EMPTY) {
            int64_t *got = ing_map_find(&many, one.t[s].a, one.t[s].b);
            CU_ASSERT_FATAL(got != NULL);
            CU_ASSERT_EQUAL(*got, one.t[s].v);
        }
    /* without is_new, and nothing is new the second time */
    CU_ASSERT_EQUAL(ing_map_add_many(&many, p, v, N, NULL), TRIBE_OK);
    CU_ASSERT_EQUAL(many.n, fresh);
    CU_ASSERT_EQUAL(*ing_map_find(&many, p[0].a, p[0].b), 2 * *ing_map_find(&one, p[0].a, p[0].b));
    ing_map_free(&one);
    ing_map_free(&many);
    free(p);
    free(v);
    free(is_new);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(batched_adds_should_match_one_by_one_adds),
        TRIBE_TEST(a_map_filled_from_another_maps_slots_should_find_every_key),
        TRIBE_TEST(batched_map_adds_should_match_upserts_and_say_which_pairs_were_new),
        {NULL, NULL}};
    return tribe_test_main("ingest_hash", cases);
}
