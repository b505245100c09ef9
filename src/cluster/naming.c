/* RFM-style segment names (tribe_segments_name in tribe/cluster.h). The rules
 * are documented in docs/clustering.md; keep the two in step. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Each name's ideal profile in the score space below: recency (positive =
 * bought more recently than the base's median customer), frequency and
 * monetary (positive = more than the base's median), in log2 units. */
typedef struct {
    const char *name;
    double r, f, m;
} rfm_proto;

static const rfm_proto PROTOS[] = {
    {"Champions", 1.5, 1.5, 1.5},
    {"Loyal Customers", 0.5, 1.25, 0.75},
    {"Big Spenders", 0.25, 0.25, 1.5},
    {"Potential Loyalists", 1.0, 0.25, 0.25},
    {"New Customers", 1.5, -0.75, -0.75},
    {"Promising", 0.75, -0.5, -0.25},
    {"Need Attention", 0.0, 0.0, 0.0},
    {"About to Sleep", -0.75, -0.5, -0.5},
    {"At Risk", -1.0, 0.5, 0.5},
    {"Can't Lose Them", -1.25, 1.5, 1.5},
    {"Hibernating", -1.25, -0.5, -0.5},
    {"Lost", -2.0, -1.0, -1.0},
};
#define N_PROTOS ((int)(sizeof PROTOS / sizeof PROTOS[0]))

/* log2 of a segment median over the base median, +1 smoothed so a median of
 * 0 (bought today, one order) stays finite, clipped to [-2, 2] so one extreme
 * feature cannot dominate; 0 when either median is unknown. */
static double score(double seg, double base)
{
    if (isnan(seg) || isnan(base))
        return 0;
    double v = log2((fmax(seg, 0) + 1) / (fmax(base, 0) + 1));
    return v < -2 ? -2 : v > 2 ? 2 : v;
}

static int name_taken(const tribe_segments *s, const char *name)
{
    for (int c = 0; c < s->k; c++)
        if (strcmp(s->seg[c].name, name) == 0)
            return 1;
    return 0;
}

void tribe_segments_name(tribe_segments *s)
{
    int k = s->k;
    int jr = tribe_segments_feature(s, "recency_days");
    int jf = tribe_segments_feature(s, "frequency");
    int jm = tribe_segments_feature(s, "monetary");
    for (int c = 0; c < k; c++)
        s->seg[c].name[0] = '\0';
    if (jr < 0 || jf < 0 || jm < 0) {
        for (int c = 0; c < k; c++)
            snprintf(s->seg[c].name, sizeof s->seg[c].name, "Segment %d", s->seg[c].id + 1);
        return;
    }
    /* Greedy matching on the distance to each prototype: the closest
     * (segment, name) pair overall is fixed first, then the closest among
     * the rest, ... so each segment gets the best name still free and names
     * are unique. Ties go to the lower segment id, then the earlier name. */
    double dist[64][N_PROTOS];
    int used[N_PROTOS] = {0};
    int kk = k < 64 ? k : 64;
    for (int c = 0; c < kk; c++) {
        const tribe_segment *g = &s->seg[c];
        double r = -score(g->median[jr], s->overall_median[jr]); /* fewer days = better */
        double f = score(g->median[jf], s->overall_median[jf]);
        double m = score(g->median[jm], s->overall_median[jm]);
        for (int p = 0; p < N_PROTOS; p++)
            dist[c][p] = (r - PROTOS[p].r) * (r - PROTOS[p].r) + (f - PROTOS[p].f) * (f - PROTOS[p].f) +
                         (m - PROTOS[p].m) * (m - PROTOS[p].m);
    }
    for (int round = 0; round < kk && round < N_PROTOS; round++) {
        int bc = -1, bp = -1;
        for (int c = 0; c < kk; c++) {
            if (s->seg[c].name[0])
                continue;
            for (int p = 0; p < N_PROTOS; p++)
                if (!used[p] && (bc < 0 || dist[c][p] < dist[bc][bp]))
                    bc = c, bp = p;
        }
        used[bp] = 1;
        snprintf(s->seg[bc].name, sizeof s->seg[bc].name, "%s", PROTOS[bp].name);
    }
    /* More segments than names: the closest name with a number. */
    for (int c = 0; c < k; c++) {
        if (s->seg[c].name[0])
            continue;
        char cand[64];
        if (c < kk) {
            int bp = 0;
            for (int p = 1; p < N_PROTOS; p++)
                if (dist[c][p] < dist[c][bp])
                    bp = p;
            for (int n = 2;; n++) {
                snprintf(cand, sizeof cand, "%s %d", PROTOS[bp].name, n);
                if (!name_taken(s, cand))
                    break;
            }
        } else {
            /* beyond 64 segments names stop being useful to a marketer */
            snprintf(cand, sizeof cand, "Segment %d", s->seg[c].id + 1);
            for (int n = 2; name_taken(s, cand); n++)
                snprintf(cand, sizeof cand, "Segment %d %d", s->seg[c].id + 1, n);
        }
        snprintf(s->seg[c].name, sizeof s->seg[c].name, "%s", cand);
    }
}
