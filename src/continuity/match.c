/* Matching the segments of a run to the previous run's (tribe/continuity.h;
 * the rules are in docs/resegmentation.md, "Matching"). Serial: it reads the
 * overlap counts only. */
#include "tribe/continuity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tribe_match_cfg_default(tribe_match_cfg *cfg)
{
    *cfg = (tribe_match_cfg){.survive = 0.5, .split = 0.2, .min_overlap = 30, .centre_max = 1.0};
}

const char *tribe_transition_name(int type)
{
    static const char *const NAMES[] = {"survived", "split", "absorbed", "disappeared", "emerged"};
    return type >= 0 && type <= TRIBE_TR_EMERGED ? NAMES[type] : "?";
}

void tribe_match_free(tribe_match *m)
{
    if (!m)
        return;
    free(m->tr);
    free(m->id);
    free(m->heir);
    memset(m, 0, sizeof *m);
}

typedef struct {
    const tribe_match_in *in;
    const tribe_match_cfg *cfg;
    int64_t *cont, *contn; /* [ko] continuing customers of each old, [kn] of each new */
    int *strong;           /* [ko] the new segment an old one goes to (-1: none) */
    int *split;            /* [ko] 1: the old segment split (two or more parts made mostly of it) */
} matcher;

static int64_t ov(const matcher *x, int i, int j)
{
    return x->in->overlap[(size_t)i * (x->in->kn + 1) + j];
}

static double share_of(const matcher *x, int i, int j)
{
    return x->cont[i] > 0 ? (double)ov(x, i, j) / (double)x->cont[i] : 0;
}

/* Share of new j's continuing customers that come from old i. */
static double back_of(const matcher *x, int i, int j)
{
    return x->contn[j] > 0 ? (double)ov(x, i, j) / (double)x->contn[j] : 0;
}

/* A part of old i's split: it holds at least `split` of i's continuing
 * customers and i's customers are at least `survive` of its own. */
static int part_of(const matcher *x, int i, int j)
{
    return x->cont[i] >= x->cfg->min_overlap && share_of(x, i, j) >= x->cfg->split &&
           back_of(x, i, j) >= x->cfg->survive;
}

static double cdist(const matcher *x, int i, int j)
{
    return x->in->cdist ? x->in->cdist[(size_t)i * x->in->kn + j] : NAN;
}

/* The nearest new centre to old i, or the nearest old to new j (-1: none known). */
static int nearest_new(const matcher *x, int i)
{
    int best = -1;
    for (int j = 0; j < x->in->kn; j++)
        if (!isnan(cdist(x, i, j)) && (best < 0 || cdist(x, i, j) < cdist(x, i, best)))
            best = j;
    return best;
}

static int nearest_old(const matcher *x, int j)
{
    int best = -1;
    for (int i = 0; i < x->in->ko; i++)
        if (!isnan(cdist(x, i, j)) && (best < 0 || cdist(x, i, j) < cdist(x, best, j)))
            best = i;
    return best;
}

/* Step 1: splits (two or more parts made mostly of the old segment, together
 * `survive` of it), then each other old segment's strong successor, by
 * customers or, with too few continuing customers, by mutual nearest
 * centres. */
static void strong_edges(matcher *x)
{
    const tribe_match_in *in = x->in;
    for (int i = 0; i < in->ko; i++) {
        x->strong[i] = -1;
        int parts = 0;
        double sum = 0;
        for (int j = 0; j < in->kn; j++)
            if (part_of(x, i, j)) {
                parts++;
                sum += share_of(x, i, j);
            }
        x->split[i] = parts >= 2 && sum >= x->cfg->survive;
        if (x->split[i])
            continue;
        if (x->cont[i] >= x->cfg->min_overlap) {
            int best = 0;
            for (int j = 1; j < in->kn; j++)
                if (ov(x, i, j) > ov(x, i, best))
                    best = j;
            if (in->kn > 0 && share_of(x, i, best) >= x->cfg->survive)
                x->strong[i] = best;
        } else {
            int j = nearest_new(x, i);
            if (j >= 0 && nearest_old(x, j) == i && cdist(x, i, j) <= x->cfg->centre_max)
                x->strong[i] = j;
        }
    }
}

static tribe_transition *add(tribe_match *m, int type, int from, double share)
{
    tribe_transition *t = &m->tr[m->n++];
    *t = (tribe_transition){.type = type, .from = from, .share = share};
    return t;
}

static void add_to(tribe_transition *t, int j)
{
    if (t->n_to < TRIBE_TR_MAX_TO)
        t->to[t->n_to++] = j;
}

/* Step 2: per new segment, its predecessors: one (survived) or several
 * (absorbed; the dominant one survives when it holds `survive` of the new
 * segment's continuing customers). Fills m->heir. */
static void successors(matcher *x, tribe_match *m, int *kind)
{
    const tribe_match_in *in = x->in;
    for (int j = 0; j < in->kn; j++) {
        int n = 0, dom = -1;
        for (int i = 0; i < in->ko; i++)
            if (x->strong[i] == j) {
                n++;
                if (dom < 0 || ov(x, i, j) > ov(x, dom, j))
                    dom = i;
            }
        m->heir[j] = -1;
        if (n == 1)
            m->heir[j] = dom;
        else if (n > 1 && x->contn[j] > 0 && (double)ov(x, dom, j) >= x->cfg->survive * (double)x->contn[j])
            m->heir[j] = dom;
        for (int i = 0; i < in->ko; i++)
            if (x->strong[i] == j)
                kind[i] = i == m->heir[j] ? TRIBE_TR_SURVIVED : TRIBE_TR_ABSORBED;
    }
}

/* Steps 3 and 4: one transition per old segment (splits and disappearances
 * for those without a strong successor), then the emerged new segments. */
static void transitions(matcher *x, tribe_match *m, const int *kind, int *claimed)
{
    const tribe_match_in *in = x->in;
    for (int i = 0; i < in->ko; i++) {
        if (x->strong[i] >= 0) {
            int j = x->strong[i];
            add_to(add(m, kind[i], i, share_of(x, i, j)), j);
            claimed[j] = 1;
            continue;
        }
        if (x->split[i]) {
            tribe_transition *t = add(m, TRIBE_TR_SPLIT, i, 0);
            for (int j = 0; j < in->kn; j++)
                if (part_of(x, i, j)) {
                    t->share += share_of(x, i, j);
                    add_to(t, j);
                    claimed[j] = 1;
                }
        } else {
            add(m, TRIBE_TR_DISAPPEARED, i, NAN);
        }
    }
    for (int j = 0; j < in->kn; j++)
        if (!claimed[j])
            add_to(add(m, TRIBE_TR_EMERGED, -1, NAN), j);
}

static tribe_status check(const tribe_match_in *in, const tribe_match_cfg *cfg)
{
    if (in->ko < 0 || in->kn < 1 || !in->overlap || (in->ko > 0 && !in->old_id) || !(cfg->survive > 0.5 - 1e-12) ||
        !(cfg->survive <= 1) || !(cfg->split > 0) || !(cfg->split <= cfg->survive) || cfg->min_overlap < 0 ||
        !(cfg->centre_max >= 0))
        return tribe_fail(TRIBE_ERR_USAGE,
                          "continuity: invalid matching settings (survive %g, split %g, min_overlap %lld, "
                          "centre_max %g; need 0.5 <= survive <= 1, 0 < split <= survive, the rest >= 0)",
                          cfg->survive, cfg->split, (long long)cfg->min_overlap, cfg->centre_max);
    return TRIBE_OK;
}

tribe_status tribe_match_segments(const tribe_match_in *in, const tribe_match_cfg *cfg, tribe_match *out)
{
    tribe_status st = TRIBE_OK;
    matcher x = {.in = in, .cfg = cfg};
    tribe_match m = {0};
    int *kind = NULL, *claimed = NULL;
    TRIBE_TRY(check(in, cfg));
    int ko = in->ko, kn = in->kn;
    TRIBE_TRY(tribe_calloc((void **)&x.cont, (size_t)ko + 1, sizeof *x.cont));
    TRIBE_TRY(tribe_calloc((void **)&x.contn, (size_t)kn + 1, sizeof *x.contn));
    TRIBE_TRY(tribe_calloc((void **)&x.strong, (size_t)ko + 1, sizeof *x.strong));
    TRIBE_TRY(tribe_calloc((void **)&x.split, (size_t)ko + 1, sizeof *x.split));
    TRIBE_TRY(tribe_calloc((void **)&kind, (size_t)ko + 1, sizeof *kind));
    TRIBE_TRY(tribe_calloc((void **)&claimed, (size_t)kn + 1, sizeof *claimed));
    TRIBE_TRY(tribe_calloc((void **)&m.tr, (size_t)(ko + kn) + 1, sizeof *m.tr));
    TRIBE_TRY(tribe_calloc((void **)&m.id, (size_t)kn, sizeof *m.id));
    TRIBE_TRY(tribe_calloc((void **)&m.heir, (size_t)kn, sizeof *m.heir));
    for (int i = 0; i < ko; i++)
        for (int j = 0; j < kn; j++) {
            x.cont[i] += ov(&x, i, j);
            x.contn[j] += ov(&x, i, j);
        }
    strong_edges(&x);
    successors(&x, &m, kind);
    transitions(&x, &m, kind, claimed);
    m.next_id = in->next_id;
    for (int i = 0; i < ko; i++)
        m.next_id = in->old_id[i] + 1 > m.next_id ? in->old_id[i] + 1 : m.next_id;
    for (int j = 0; j < kn; j++)
        m.id[j] = m.heir[j] >= 0 ? in->old_id[m.heir[j]] : m.next_id++;
    *out = m;
    memset(&m, 0, sizeof m);
cleanup:
    free(x.cont);
    free(x.contn);
    free(x.strong);
    free(x.split);
    free(kind);
    free(claimed);
    tribe_match_free(&m);
    return st;
}
