/* Helpers shared by src/gbdt files (not installed). */
#ifndef TRIBE_GBDT_INTERNAL_H
#define TRIBE_GBDT_INTERNAL_H

#include "tribe/gbdt.h"

#include <math.h>

/* Leaf reached by a row of raw floats. */
static inline int gbdt_leaf_of_x(const tribe_gbdt_tree *t, const float *xr)
{
    int k = 0;
    while (t->nodes[k].feature >= 0) {
        const tribe_gbdt_node *nd = &t->nodes[k];
        float v = xr[nd->feature];
        int left = isnan(v) ? nd->default_left : v <= nd->threshold;
        k = left ? nd->left : nd->right;
    }
    return k;
}

/* Same test on bin codes (0 = missing). */
static inline int gbdt_leaf_of_codes(const tribe_gbdt_tree *t, const uint8_t *cr)
{
    int k = 0;
    while (t->nodes[k].feature >= 0) {
        const tribe_gbdt_node *nd = &t->nodes[k];
        uint8_t c = cr[nd->feature];
        int left = c == 0 ? nd->default_left : c <= nd->bin;
        k = left ? nd->left : nd->right;
    }
    return k;
}

/* tribe_xsum_of / tribe_xsum_value with the 64-bit conversions when the
 * value fits: the same integer or double (both truncate, resp. round, the
 * same exact value), without the slow 128-bit library calls. */
static inline tribe_xsum gbdt_xs_of(double v)
{
    double s = v * TRIBE_XSUM_SCALE;
    double r = s < 0 ? s - 0.5 : s + 0.5;
    if (r > -9.0e18 && r < 9.0e18)
        return (tribe_xsum)(int64_t)r;
    return (tribe_xsum)r;
}

static inline double gbdt_xs_value(tribe_xsum s)
{
    if (s >= INT64_MIN && s <= INT64_MAX)
        return (double)(int64_t)s / TRIBE_XSUM_SCALE;
    return (double)s / TRIBE_XSUM_SCALE;
}

#endif
