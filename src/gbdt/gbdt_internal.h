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

#endif
