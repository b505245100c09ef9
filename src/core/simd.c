/* Which hand-written x86 SIMD kernels may run (tribe_simd_level in
 * tribe/core.h): the CPU's level, capped once by TRIBE_SIMD. Every kernel
 * gives the same bits at every level; the switch exists to run, test and
 * time the portable paths (what an ARM machine runs) on an x86 machine. */
#include "tribe/core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int simd_level = TRIBE_SIMD_PORTABLE;
static pthread_once_t simd_once = PTHREAD_ONCE_INIT;

int tribe_simd_cpu_level(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(TRIBE_PORTABLE)
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return TRIBE_SIMD_AVX512;
    if (avx2)
        return TRIBE_SIMD_AVX2;
#endif
    return TRIBE_SIMD_PORTABLE;
}

static void simd_init(void)
{
    int cpu = tribe_simd_cpu_level(), cap = cpu;
    const char *e = getenv("TRIBE_SIMD");
    if (e && *e) {
        if (!strcmp(e, "portable"))
            cap = TRIBE_SIMD_PORTABLE;
        else if (!strcmp(e, "avx2"))
            cap = TRIBE_SIMD_AVX2;
        else if (!strcmp(e, "avx512"))
            cap = TRIBE_SIMD_AVX512;
        else if (strcmp(e, "auto") != 0)
            TRIBE_WARN("TRIBE_SIMD=%s is not portable, avx2, avx512 or auto: ignored", e);
    }
    simd_level = cap < cpu ? cap : cpu;
}

int tribe_simd_level(void)
{
    pthread_once(&simd_once, simd_init);
    return simd_level;
}
