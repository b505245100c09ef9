/* Unit tests for the SIMD level switch (tribe_simd_level, tribe/core.h). */
#include "testutil.h"

#include <stdlib.h>

static void simd_level_should_be_capped_by_the_environment_once(void)
{
    int cpu = tribe_simd_cpu_level();
    CU_ASSERT(cpu >= TRIBE_SIMD_PORTABLE && cpu <= TRIBE_SIMD_AVX512);
    /* Read on the first call only: later changes of TRIBE_SIMD do nothing. */
    CU_ASSERT_EQUAL_FATAL(setenv("TRIBE_SIMD", "portable", 1), 0);
    CU_ASSERT_EQUAL(tribe_simd_level(), TRIBE_SIMD_PORTABLE);
    CU_ASSERT_EQUAL_FATAL(setenv("TRIBE_SIMD", "avx512", 1), 0);
    CU_ASSERT_EQUAL(tribe_simd_level(), TRIBE_SIMD_PORTABLE);
    CU_ASSERT_EQUAL(tribe_simd_cpu_level(), cpu);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(simd_level_should_be_capped_by_the_environment_once),
        {NULL, NULL}};
    return tribe_test_main("simd", cases);
}
