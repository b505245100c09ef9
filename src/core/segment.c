/* Segment profiles and projection samples (tribe/segment.h). */
#include "tribe/segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tribe_status nan_array(int d, double **out)
{
    tribe_status st = tribe_alloc((void **)out, (size_t)(d > 0 ? d : 1) * sizeof **out);
    if (st == TRIBE_OK)
        for (int j = 0; j < d; j++)
            (*out)[j] = NAN;
    return st;
}

tribe_status tribe_segments_create(int k, int d, const char *const *feature_names, tribe_segments **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segments *s = NULL;
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    s->k = k;
    s->d = d;
    s->silhouette = NAN;
    s->silhouette_ci = NAN;
    s->inertia = NAN;
    TRIBE_TRY(tribe_calloc((void **)&s->feature_names, (size_t)(d > 0 ? d : 1), sizeof *s->feature_names));
    for (int j = 0; j < d; j++)
        TRIBE_TRY(tribe_strdup(feature_names[j], &s->feature_names[j]));
    TRIBE_TRY(tribe_calloc((void **)&s->seg, (size_t)(k > 0 ? k : 1), sizeof *s->seg));
    for (int c = 0; c < k; c++) {
        s->seg[c].id = c;
        s->seg[c].revenue_share = NAN;
        TRIBE_TRY(nan_array(d, &s->seg[c].mean));
        TRIBE_TRY(nan_array(d, &s->seg[c].median));
        TRIBE_TRY(nan_array(d, &s->seg[c].q1));
        TRIBE_TRY(nan_array(d, &s->seg[c].q3));
        TRIBE_TRY(nan_array(d, &s->seg[c].centroid));
    }
    TRIBE_TRY(nan_array(d, &s->overall_mean));
    TRIBE_TRY(nan_array(d, &s->overall_median));
    TRIBE_TRY(nan_array(d, &s->overall_q1));
    TRIBE_TRY(nan_array(d, &s->overall_q3));
    *out = s;
    s = NULL;
cleanup:
    tribe_segments_destroy(&s);
    return st;
}

int tribe_segments_feature(const tribe_segments *s, const char *name)
{
    for (int j = 0; j < s->d; j++)
        if (strcmp(s->feature_names[j], name) == 0)
            return j;
    return -1;
}

void tribe_segments_destroy(tribe_segments **sp)
{
    if (!sp || !*sp)
        return;
    tribe_segments *s = *sp;
    if (s->feature_names)
        for (int j = 0; j < s->d; j++)
            free(s->feature_names[j]);
    free(s->feature_names);
    if (s->seg)
        for (int c = 0; c < s->k; c++) {
            free(s->seg[c].mean);
            free(s->seg[c].median);
            free(s->seg[c].q1);
            free(s->seg[c].q3);
            free(s->seg[c].centroid);
        }
    free(s->seg);
    free(s->overall_mean);
    free(s->overall_median);
    free(s->overall_q1);
    free(s->overall_q3);
    for (int m = 0; m < s->n_mix; m++) {
        free(s->mix[m].name);
        for (int l = 0; l < s->mix[m].n_levels; l++)
            free(s->mix[m].levels[l]);
        free(s->mix[m].levels);
        free(s->mix[m].count);
    }
    free(s->mix);
    free(s);
    *sp = NULL;
}

void tribe_projection_destroy(tribe_projection **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->xy);
    free((*pp)->label);
    free(*pp);
    *pp = NULL;
}
