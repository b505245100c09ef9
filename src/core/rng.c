/* Counter-based random numbers: a keyed mix of (seed, stream, counter).
 * The mixer (tribe_rng_mix64, tribe/core.h) is SplitMix64's finaliser applied in a chain; it passes the usual
 * statistical batteries for this use (sampling, initialisation, synthetic
 * data) and is cheap enough to call per row. */
#include "tribe/core.h"

#include <math.h>

/* The mixer and the keyed forms are inline in tribe/core.h. */
uint64_t tribe_hash2(uint64_t a, uint64_t b) { return tribe_rng_key(a, b); }

uint64_t tribe_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return tribe_rng_u64_keyed(tribe_rng_key(seed, stream), counter);
}

double tribe_rng_unif(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return tribe_rng_unif_keyed(tribe_rng_key(seed, stream), counter);
}

uint64_t tribe_rng_below(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t n)
{
    /* 128-bit multiply-shift: bias below 2^-64 * n, negligible here. */
    unsigned __int128 m = (unsigned __int128)tribe_rng_u64(seed, stream, counter) * n;
    return (uint64_t)(m >> 64);
}

double tribe_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter)
{
    double u1 = tribe_rng_unif(seed, stream, 2 * counter);
    double u2 = tribe_rng_unif(seed, stream, 2 * counter + 1);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t tribe_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
