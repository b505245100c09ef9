/* How crisp the segments are: the Gaussian mixture's memberships summarised
 * per K-Means segment (tribe_gmm_crispness in tribe/cluster.h). */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>

void tribe_gmm_crispness_destroy(tribe_gmm_crispness **cp)
{
    if (!cp || !*cp)
        return;
    free((*cp)->size);
    free((*cp)->mean_max);
    free(*cp);
    *cp = NULL;
}

tribe_status tribe_gmm_crispness_compute(tribe_par *par, const float *memb, const int32_t *label, int64_t n, int k,
                                         tribe_gmm_crispness **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gmm_crispness *c = NULL;
    tribe_xsum *acc = NULL;
    *out = NULL;
    st = tribe_calloc((void **)&c, 1, sizeof *c);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&c->size, 3 * (size_t)k + 1, sizeof *c->size);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&c->mean_max, (size_t)k + 1, sizeof *c->mean_max);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&acc, (size_t)k + 1, sizeof *acc);
    TRIBE_TRY(tribe_par_agree(par, st));
    c->k = k;
    c->threshold = TRIBE_CRISP_THRESHOLD;
    c->crisp = c->size + k;
    c->agree = c->size + 2 * k;
    for (int64_t i = 0; i < n; i++) {
        const float *p = memb + i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (p[j] > p[best])
                best = j;
        int s = label[i];
        c->size[s]++;
        c->crisp[s] += p[s] > TRIBE_CRISP_THRESHOLD; /* sure of its own segment */
        c->agree[s] += best == s;
        acc[s] += tribe_xsum_of((double)p[best]);
    }
    TRIBE_TRY(tribe_par_sum_i64(par, c->size, 3 * (int64_t)k));
    TRIBE_TRY(tribe_par_sum_xsum(par, acc, k));
    for (int s = 0; s < k; s++)
        c->mean_max[s] = c->size[s] > 0 ? tribe_xsum_value(acc[s]) / (double)c->size[s] : NAN;
    *out = c;
    c = NULL;
cleanup:
    tribe_gmm_crispness_destroy(&c);
    free(acc);
    return st;
}
