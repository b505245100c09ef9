/* Unit tests for src/core: status, allocation, RNG, exact sums, files. */
#include "testutil.h"
#include "tribe/streams.h"
#include "tribe/table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void rng_should_be_a_pure_function_of_its_key(void)
{
    CU_ASSERT_EQUAL(tribe_rng_u64(1, 2, 3), tribe_rng_u64(1, 2, 3));
    CU_ASSERT_NOT_EQUAL(tribe_rng_u64(1, 2, 3), tribe_rng_u64(1, 2, 4));
    CU_ASSERT_NOT_EQUAL(tribe_rng_u64(1, 2, 3), tribe_rng_u64(1, 3, 3));
    CU_ASSERT_NOT_EQUAL(tribe_rng_u64(1, 2, 3), tribe_rng_u64(2, 2, 3));
}

static void rng_uniforms_should_have_mean_one_half(void)
{
    double s = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = tribe_rng_unif(42, 7, (uint64_t)i);
        CU_ASSERT(u >= 0.0 && u < 1.0);
        s += u;
        s2 += tribe_rng_normal(42, 8, (uint64_t)i) * tribe_rng_normal(42, 8, (uint64_t)i);
    }
    CU_ASSERT_DOUBLE_EQUAL(s / n, 0.5, 0.005);
    CU_ASSERT_DOUBLE_EQUAL(s2 / n, 1.0, 0.02);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT(tribe_rng_below(1, 1, (uint64_t)i, 7) < 7);
}

static void exact_sums_should_not_depend_on_order(void)
{
    double v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (tribe_rng_unif(3, 0, (uint64_t)i) - 0.5) * pow(10.0, (double)(i % 9));
    tribe_xsum fwd = 0, bwd = 0;
    for (int i = 0; i < 1000; i++)
        fwd += tribe_xsum_of(v[i]);
    for (int i = 999; i >= 0; i--)
        bwd += tribe_xsum_of(v[i]);
    CU_ASSERT(fwd == bwd);
    CU_ASSERT_DOUBLE_EQUAL(tribe_xsum_value(tribe_xsum_of(-2.5)), -2.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(tribe_xsum_value(tribe_xsum_of(1e12) * 1000), 1e15, 1e-3);
}

static void failing_calls_should_keep_their_message(void)
{
    tribe_status st = tribe_fail(TRIBE_ERR_INPUT, "%s:%d: bad", "x.csv", 12);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "x.csv:12: bad");
    CU_ASSERT_EQUAL(tribe_status_exit_code(TRIBE_ERR_USAGE), 2);
    CU_ASSERT_EQUAL(tribe_status_exit_code(TRIBE_ERR_INPUT), 3);
    CU_ASSERT_EQUAL(tribe_status_exit_code(TRIBE_ERR_IO), 4);
}

static void injected_allocation_failure_should_report_nomem(void)
{
    const char *names[] = {"a", "b"};
    tribe_table *t = NULL;
    /* Fail each allocation in turn: every failure is clean (no leak under ASan). */
    for (long k = 1; k < 12; k++) {
        tribe_alloc_fail_after(k);
        tribe_status st = tribe_table_create(10, 2, names, &t);
        tribe_alloc_fail_after(0);
        if (st == TRIBE_OK) {
            tribe_table_destroy(&t);
            break;
        }
        CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
        CU_ASSERT_PTR_NULL(t);
    }
    CU_ASSERT_EQUAL(tribe_table_create(10, 2, names, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_table_feature(t, "b"), 1);
    CU_ASSERT_EQUAL(tribe_table_feature(t, "zz"), -1);
    tribe_table_destroy(&t);
    CU_ASSERT_PTR_NULL(t);
    tribe_table_destroy(&t); /* NULL is fine */
}

/* Found by the clang build (tools/fuzz.sh): the serial path's failed
 * allocation jumped to a cleanup that freed a pointer not yet initialised. */
static void serial_gather_should_fail_cleanly_when_its_buffer_cannot_be_had(void)
{
    tribe_par *par = tribe_test_serial();
    int v = 7;
    void *out = NULL;
    size_t total = 99;
    tribe_alloc_fail_after(1);
    tribe_status st = tribe_par_allgatherv(par, &v, sizeof v, &out, &total, NULL, NULL);
    tribe_alloc_fail_after(0);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_EQUAL_FATAL(tribe_par_allgatherv(par, &v, sizeof v, &out, &total, NULL, NULL), TRIBE_OK);
    CU_ASSERT_EQUAL(total, sizeof v);
    CU_ASSERT_EQUAL(*(int *)out, 7);
    free(out);
    tribe_par_finalize(&par);
}

static void atomic_write_should_replace_whole_files(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a.txt", tribe_test_tmpdir());
    CU_ASSERT_EQUAL(tribe_write_file_atomic(path, "hello", 5), TRIBE_OK);
    char *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(tribe_read_file(path, &buf, &len), TRIBE_OK);
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_STRING_EQUAL(buf, "hello");
    free(buf);
    CU_ASSERT_EQUAL(tribe_read_file("/nonexistent/x", &buf, &len), TRIBE_ERR_IO);
    CU_ASSERT(strstr(tribe_errmsg(), "/nonexistent/x") != NULL);
    CU_ASSERT_EQUAL(tribe_mkdirs("/proc/tribe-cannot"), TRIBE_ERR_IO);
}

/* The fast 64-bit path of tribe_xsum_of must round exactly like the
 * 128-bit conversion, on both sides of the switch-over near 2^63 / 2^32. */
static void exact_sum_conversion_should_not_depend_on_the_path(void)
{
    const double v[] = {0.0, 0.49 / 4294967296.0, 0.5 / 4294967296.0, -0.5 / 4294967296.0, 1.25, -1.25,
                        12345.678, -98765.4321, 1073741824.0, -1073741824.0, 2147483000.5, -2147483000.5,
                        2142000000.0, -2142000000.0, 2150000000.0, -2150000000.0, 1e12, -1e12, 3.3e20, -3.3e20};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        double s = v[i] * TRIBE_XSUM_SCALE;
        tribe_xsum want = (tribe_xsum)(s < 0 ? s - 0.5 : s + 0.5);
        CU_ASSERT(tribe_xsum_of(v[i]) == want);
        CU_ASSERT(tribe_xsum_value(want) == (double)want / TRIBE_XSUM_SCALE);
    }
    tribe_xsum big = (tribe_xsum)INT64_MAX + 12345;
    CU_ASSERT(tribe_xsum_value(big) == (double)big / TRIBE_XSUM_SCALE);
    CU_ASSERT(tribe_xsum_value(-big) == (double)-big / TRIBE_XSUM_SCALE);
}

/* Two uses of one stream would draw the same numbers: the registry's
 * streams must all differ. */
static void rng_streams_should_be_distinct(void)
{
    static const int all[] = {TRIBE_STREAMS_ALL};
    int n = (int)(sizeof all / sizeof all[0]);
    CU_ASSERT(n >= 20);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CU_ASSERT_NOT_EQUAL(all[i], all[j]);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(rng_should_be_a_pure_function_of_its_key),
        TRIBE_TEST(rng_uniforms_should_have_mean_one_half),
        TRIBE_TEST(rng_streams_should_be_distinct),
        TRIBE_TEST(exact_sums_should_not_depend_on_order),
        TRIBE_TEST(exact_sum_conversion_should_not_depend_on_the_path),
        TRIBE_TEST(failing_calls_should_keep_their_message),
        TRIBE_TEST(injected_allocation_failure_should_report_nomem),
        TRIBE_TEST(serial_gather_should_fail_cleanly_when_its_buffer_cannot_be_had),
        TRIBE_TEST(atomic_write_should_replace_whole_files),
        {NULL, NULL}};
    return tribe_test_main("core", cases);
}
