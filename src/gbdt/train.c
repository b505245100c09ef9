/* Data-parallel histogram boosting (tribe/gbdt.h).
 *
 * Each rank bins its shard with the shared edges, builds gradient histograms
 * of its rows and the histograms are summed over ranks in one reduction per
 * histogram (LightGBM's data-parallel learner). Gradients and hessians enter
 * the histograms as 2^-32 fixed-point integers, so the reduced histograms,
 * hence every gain, split and leaf value, are the same bits on every rank and
 * for any rank or thread count. Every decision is taken from global
 * quantities only (counts, exact sums), so all ranks walk the same tree. */
#include "gbdt_internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

void tribe_gbdt_cfg_default(tribe_gbdt_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->objective = TRIBE_GBDT_SQUARED;
    cfg->tweedie_power = 1.5;
    cfg->n_class = 2;
    cfg->n_rounds = 100;
    cfg->max_leaves = 31;
    cfg->max_depth = 0;
    cfg->min_samples_leaf = 20;
    cfg->min_child_weight = 1e-3;
    cfg->min_gain = 0.0;
    cfg->lambda = 1.0;
    cfg->learning_rate = 0.1;
    cfg->subsample = 1.0;
    cfg->max_bins = TRIBE_GBDT_MAX_BINS;
    cfg->bin_sample = 200000;
    cfg->early_stopping_rounds = 0;
    cfg->seed = 42;
}

void tribe_gbdt_model_destroy(tribe_gbdt_model **m)
{
    if (!m || !*m)
        return;
    if ((*m)->trees)
        for (int t = 0; t < (*m)->n_trees; t++)
            free((*m)->trees[t].nodes);
    free((*m)->trees);
    free((*m)->base_score);
    free((*m)->train_loss);
    free((*m)->valid_loss);
    free(*m);
    *m = NULL;
}

static tribe_status check_cfg(const tribe_gbdt_cfg *c, int d)
{
    if (d < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt: the feature count is %d; need at least 1", d);
    if ((int)c->objective < 0 || c->objective > TRIBE_GBDT_SOFTMAX)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.objective = %d is unknown", (int)c->objective);
    if (c->objective == TRIBE_GBDT_TWEEDIE && !(c->tweedie_power > 1 && c->tweedie_power < 2))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.tweedie_power = %g is outside (1, 2)", c->tweedie_power);
    if (c->objective == TRIBE_GBDT_SOFTMAX && (c->n_class < 2 || c->n_class > 65536))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.n_class = %d; softmax needs 2..65536", c->n_class);
    if (c->n_rounds < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.n_rounds = %d; need >= 1", c->n_rounds);
    if (c->max_leaves < 2 || c->max_leaves > (1 << 20))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.max_leaves = %d; need 2..2^20", c->max_leaves);
    if (c->min_samples_leaf < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.min_samples_leaf = %lld; need >= 1", (long long)c->min_samples_leaf);
    if (!(c->min_child_weight >= 0) || !(c->min_gain >= 0) || !(c->lambda >= 0))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt: min_child_weight (%g), min_gain (%g) and lambda (%g) must be >= 0",
                          c->min_child_weight, c->min_gain, c->lambda);
    if (!(c->learning_rate > 0) || !isfinite(c->learning_rate))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.learning_rate = %g; need > 0", c->learning_rate);
    if (!(c->subsample > 0 && c->subsample <= 1))
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.subsample = %g is outside (0, 1]", c->subsample);
    if (c->max_bins < 2 || c->max_bins > TRIBE_GBDT_MAX_BINS)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.max_bins = %d is outside 2..%d", c->max_bins, TRIBE_GBDT_MAX_BINS);
    if (c->early_stopping_rounds < 0)
        return tribe_fail(TRIBE_ERR_USAGE, "gbdt.early_stopping_rounds = %d; need >= 0", c->early_stopping_rounds);
    return TRIBE_OK;
}

/* First target outside the objective's domain; -1 if none. */
static int64_t bad_target(const tribe_gbdt_cfg *c, const double *y, int64_t n, const char **why)
{
    for (int64_t i = 0; i < n; i++) {
        double v = y[i];
        if (!isfinite(v)) {
            *why = "is not a finite number";
            return i;
        }
        switch (c->objective) {
        case TRIBE_GBDT_POISSON:
        case TRIBE_GBDT_TWEEDIE:
            if (v < 0) {
                *why = "is negative (poisson/tweedie need y >= 0)";
                return i;
            }
            break;
        case TRIBE_GBDT_LOGISTIC:
            if (v < 0 || v > 1) {
                *why = "is outside [0, 1] (logistic)";
                return i;
            }
            break;
        case TRIBE_GBDT_SOFTMAX:
            if (v != floor(v) || v < 0 || v >= c->n_class) {
                *why = "is not a class index in 0..n_class-1 (softmax)";
                return i;
            }
            break;
        default:
            break;
        }
    }
    return -1;
}

/* ---- objectives ------------------------------------------------------------ */

/* Gradient and hessian of one row for output k; s = the row's raw scores. */
static void grad_hess(const tribe_gbdt_cfg *c, int ng, const double *s, double y, int k, double *g, double *h)
{
    double f = s[k], p, rho;
    switch (c->objective) {
    case TRIBE_GBDT_SQUARED:
        *g = f - y;
        *h = 1.0;
        break;
    case TRIBE_GBDT_POISSON:
        *g = exp(f) - y;
        *h = exp(f);
        break;
    case TRIBE_GBDT_TWEEDIE:
        rho = c->tweedie_power;
        *g = -y * exp((1 - rho) * f) + exp((2 - rho) * f);
        *h = -y * (1 - rho) * exp((1 - rho) * f) + (2 - rho) * exp((2 - rho) * f);
        break;
    case TRIBE_GBDT_LOGISTIC:
        p = 1.0 / (1.0 + exp(-f));
        *g = p - y;
        *h = p * (1 - p);
        break;
    case TRIBE_GBDT_SOFTMAX: {
        double mx = s[0], z = 0;
        for (int j = 1; j < ng; j++)
            mx = s[j] > mx ? s[j] : mx;
        for (int j = 0; j < ng; j++)
            z += exp(s[j] - mx);
        p = exp(f - mx) / z;
        *g = p - (k == (int)y);
        *h = p * (1 - p);
        break;
    }
    }
    if (*h < 1e-16)
        *h = 1e-16;
}

/* Per-row loss (up to constants) reported for training and early stopping. */
static double row_loss(const tribe_gbdt_cfg *c, int ng, const double *s, double y)
{
    double f = s[0], rho, p;
    switch (c->objective) {
    case TRIBE_GBDT_SQUARED:
        return (f - y) * (f - y);
    case TRIBE_GBDT_POISSON:
        return exp(f) - y * f;
    case TRIBE_GBDT_TWEEDIE:
        rho = c->tweedie_power;
        return -y * exp((1 - rho) * f) / (1 - rho) + exp((2 - rho) * f) / (2 - rho);
    case TRIBE_GBDT_LOGISTIC:
        /* log(1 + e^f) - y f, stable for large |f| */
        return (f > 0 ? f + log1p(exp(-f)) : log1p(exp(f))) - y * f;
    case TRIBE_GBDT_SOFTMAX: {
        double mx = s[0], z = 0;
        for (int j = 1; j < ng; j++)
            mx = s[j] > mx ? s[j] : mx;
        for (int j = 0; j < ng; j++)
            z += exp(s[j] - mx);
        p = s[(int)y] - mx - log(z);
        return -p;
    }
    }
    return 0;
}

/* ---- row records -------------------------------------------------------------
 * The training rows of a tree live in record buffers (gbdt_internal.h: per
 * row its fixed-point gradient, its hessian unless constant, its local row
 * index and its bin codes, in one record). The buffer positions are cut
 * into T segments, one per OpenMP thread, and a row stays in its segment
 * for the whole fit: a leaf is a range of positions in every segment of one
 * buffer, and splitting it moves each segment's rows to the same segment of
 * the other buffer (left rows forward, right rows backward). So thread t
 * splits its own rows in one pass, without counting them first, and adds
 * those of the child whose histogram is built to its cells while they are
 * in cache; every histogram streams contiguous records ("ordered
 * gradients"). Buffer 2 is the base: every training row, dealt to the
 * segments in blocks of GBDT_SEG_BLOCK rows round robin (a leaf of rows
 * that are neighbours in the input still spreads over the threads); a
 * split moves a leaf's rows from buffer 2 to 0 and then 0 and 1 alternate
 * down the tree (with squared error, apply_incr returns every row to
 * buffer 2, split by the next root when it can). The order of rows in a leaf changes no
 * histogram (integer sums), so the tree is the same for any T. */
enum { GBDT_SEG_BLOCK = 1024, GBDT_PART_BLOCK = 256 };

static inline int64_t rec_row(const gbdt_hist *hc, const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p + hc->coff - 4, sizeof v);
    return v;
}

/* ---- tree growth ------------------------------------------------------------ */

typedef struct {
    int node, depth, slot, side; /* side: the record buffer holding the rows */
    tribe_xsum G, H;
    int64_t N;
    /* best split (valid when gain > 0) */
    double gain;
    int feature, bin, default_left;
    tribe_xsum GL, HL;
    int64_t NL;
} leaf_t;

static double score_of(tribe_xsum G, tribe_xsum H, double lambda)
{
    double g = tribe_xsum_value(G), h = tribe_xsum_value(H);
    return g * g / (h + lambda);
}

/* Best split of a leaf over features [f0, f1) from its global histogram:
 * features in order, bins in order, missing right before missing left; a
 * candidate replaces the best only when strictly better, so ties go to the
 * first. */
/* The same scan in int64 arithmetic, for leaves where every partial sum of
 * the histogram fits: |any sum of the leaf's g or h| <= gmax * N < 2^62.
 * (double)s / 2^32 of an int64 s is what tribe_xsum_value returns for it, so
 * every gain, hence the chosen split, has the same bits as the 128-bit scan. */
static void find_split_i64(const tribe_gbdt_cfg *c, const tribe_gbdt_bins *bins, const int *hoff, int f0, int f1,
                           const tribe_xsum *hist, leaf_t *L, double parent, int64_t mcw)
{
    const double lam = c->lambda;
    const int64_t G = (int64_t)L->G, H = (int64_t)L->H, N = L->N, msl = c->min_samples_leaf;
    double best = L->gain;
    for (int f = f0; f < f1; f++) {
        int ne = bins->n_edges[f];
        if (ne == 0)
            continue;
        const tribe_xsum *hf = hist + 3 * hoff[f];
        int64_t gm = (int64_t)hf[0], hm = (int64_t)hf[1], nm = (int64_t)hf[2];
        int64_t gc = 0, hc = 0, nc = 0;
        for (int b = 1; b <= ne; b++) {
            gc += (int64_t)hf[3 * b];
            hc += (int64_t)hf[3 * b + 1];
            nc += (int64_t)hf[3 * b + 2];
            for (int ml = 0; ml < 2; ml++) {
                if (ml == 1 && nm == 0)
                    break;
                int64_t GL = gc + (ml ? gm : 0), HL = hc + (ml ? hm : 0), NL = nc + (ml ? nm : 0);
                int64_t GR = G - GL, HR = H - HL, NR = N - NL;
                if (NL < msl || NR < msl || HL < mcw || HR < mcw)
                    continue;
                double gl = (double)GL / TRIBE_XSUM_SCALE, hl = (double)HL / TRIBE_XSUM_SCALE;
                double gr = (double)GR / TRIBE_XSUM_SCALE, hr = (double)HR / TRIBE_XSUM_SCALE;
                double gain = 0.5 * (gl * gl / (hl + lam) + gr * gr / (hr + lam) - parent);
                if (gain > best && gain > c->min_gain) {
                    best = gain;
                    L->gain = gain;
                    L->feature = f;
                    L->bin = b;
                    L->default_left = nm > 0 ? ml : NL >= NR;
                    L->GL = GL;
                    L->HL = HL;
                    L->NL = NL;
                }
            }
        }
    }
}

static void find_split(const tribe_gbdt_cfg *c, const tribe_gbdt_bins *bins, const int *hoff, int f0, int f1,
                       const tribe_xsum *hist, leaf_t *L, uint64_t gmax)
{
    L->gain = 0;
    L->feature = -1;
    if (c->max_depth > 0 && L->depth >= c->max_depth)
        return;
    if (L->N < 2 * c->min_samples_leaf)
        return;
    double parent = score_of(L->G, L->H, c->lambda);
    tribe_xsum mcw = tribe_xsum_of(c->min_child_weight);
    if ((unsigned __int128)gmax * (uint64_t)(L->N + 1) < ((unsigned __int128)1 << 62) && mcw <= INT64_MAX) {
        find_split_i64(c, bins, hoff, f0, f1, hist, L, parent, (int64_t)mcw);
        return;
    }
    for (int f = f0; f < f1; f++) {
        int ne = bins->n_edges[f];
        if (ne == 0)
            continue;
        const tribe_xsum *hf = hist + 3 * hoff[f];
        tribe_xsum gm = hf[0], hm = hf[1];
        int64_t nm = (int64_t)hf[2];
        tribe_xsum gc = 0, hc = 0;
        int64_t nc = 0;
        for (int b = 1; b <= ne; b++) {
            gc += hf[3 * b];
            hc += hf[3 * b + 1];
            nc += (int64_t)hf[3 * b + 2];
            for (int ml = 0; ml < 2; ml++) {
                if (ml == 1 && nm == 0)
                    break;
                tribe_xsum GL = gc + (ml ? gm : 0), HL = hc + (ml ? hm : 0);
                int64_t NL = nc + (ml ? nm : 0);
                tribe_xsum GR = L->G - GL, HR = L->H - HL;
                int64_t NR = L->N - NL;
                if (NL < c->min_samples_leaf || NR < c->min_samples_leaf || HL < mcw || HR < mcw)
                    continue;
                double gain = 0.5 * (score_of(GL, HL, c->lambda) + score_of(GR, HR, c->lambda) - parent);
                if (gain > L->gain && gain > c->min_gain) {
                    L->gain = gain;
                    L->feature = f;
                    L->bin = b;
                    /* Without missing training rows, NaN follows the larger child. */
                    L->default_left = nm > 0 ? ml : NL >= NR;
                    L->GL = GL;
                    L->HL = HL;
                    L->NL = NL;
                }
            }
        }
    }
}

typedef struct {
    tribe_par *par;
    const tribe_gbdt_cfg *cfg;
    const tribe_gbdt_bins *bins;
    gbdt_hist hc;        /* histogram kernel state (gmax: local rows of the tree) */
    uint8_t *buf[3];     /* record buffers: 0, 1 alternate down the tree; 2: the base */
    int T;               /* segments, one per thread (hc.nthreads) */
    int64_t *seg;        /* [T + 1] segment u holds the positions [seg[u], seg[u + 1]) */
    int64_t *rng;        /* [max_leaves + 1][T][2] leaf k's positions in segment u; entry
                          * max_leaves: the out-of-bag rows (buffer 0) of a bagged tree */
    int bagged;          /* the tree grows on the rows drawn into its bag (subsample < 1) */
    int incr;            /* squared error without bagging: the rows' gradients are updated
                          * in fixed point after each tree (apply_incr) and the next root's
                          * histogram comes from the leaves' */
    tribe_xsum *next;    /* [3 * hb] incr: the next root's histogram (global) */
    int64_t *vfix;       /* [max_leaves] incr: the leaf values in fixed point */
    int64_t gmax_next;   /* incr: local max |g| after the last tree */
    int ovf_next;        /* incr: a gradient reached 2^62 after the last tree */
    int premoved;        /* incr: the next root is already split (next_root): its rows are
                          * in buffer 2 as leaves 0 (left) and 1 (right), its split in pre */
    leaf_t pre;          /* incr: the next root with its split, from next_root */
    int bag_tree;        /* the tree's index: for the bag draws, and with incr tree 0
                          * builds its root from the rows */
    int64_t offset;      /* global index of local row 0, for the bag draws */
    int64_t n_tr;        /* local training rows */
    tribe_xsum *slots;   /* [max_leaves][3 * hb] */
    leaf_t *leaves;      /* [max_leaves] */
    int n_leaves;        /* leaves of the last grown tree */
    uint64_t gmax_global; /* max |g|, h over every rank's rows of the tree */
    int64_t n_train;      /* global training rows */
    int64_t *rbuf;        /* [5 * hb] int64 histogram for the reduction */
    /* Split finding is shared out (as LightGBM's data-parallel learner):
     * rank r owns features [fo[r], fo[r + 1]), contiguous and balanced by
     * bins, receives only their global bins in reduce_hist (a
     * reduce-scatter), scans only them (find_split) and the ranks' best
     * splits are compared in agree_splits. A slot's bins outside [k0, k1)
     * hold this rank's rows only, and are never read. */
    int *fo;              /* [P + 1] */
    int f0, f1, k0, k1;   /* this rank's features, and their bins [hoff[f0], hoff[f1]) */
    int *rcnt;            /* [P] int64 lanes each rank receives in reduce_hist */
    int64_t *rrecv;       /* [2][5 * hb] this rank's reduced bins, and scratch */
    void *xch;            /* [P][2] split messages */
} grower;

static tribe_xsum *slot_hist(grower *gr, int s) { return gr->slots + (size_t)s * 3 * gr->hc.hb; }
static int64_t *leaf_rng(const grower *gr, int k) { return gr->rng + (size_t)k * gr->T * 2; }

/* Not collective. A leaf's totals from its histogram, on a rank that owns
 * a feature: every row has exactly one code of feature f0, so its bins sum
 * to the leaf. */
static void leaf_totals(grower *gr, leaf_t *L)
{
    const tribe_xsum *h = slot_hist(gr, L->slot) + 3 * (size_t)gr->k0;
    L->G = L->H = 0;
    L->N = 0;
    for (int b = 0; b < gr->bins->n_edges[gr->f0] + 2; b++) {
        L->G += h[3 * b];
        L->H += h[3 * b + 1];
        L->N += (int64_t)h[3 * b + 2];
    }
}

static tribe_gbdt_node leaf_node(const tribe_gbdt_cfg *c, const leaf_t *L)
{
    tribe_gbdt_node nd;
    memset(&nd, 0, sizeof nd);
    nd.feature = -1;
    nd.left = nd.right = -1;
    double den = tribe_xsum_value(L->H) + c->lambda;
    /* an empty bag with lambda = 0 would give 0/0 */
    nd.value = den > 0 ? -tribe_xsum_value(L->G) / den * c->learning_rate : 0.0;
    nd.cover = (double)L->N;
    return nd;
}


/* Collective. Sums histogram h of N global rows over ranks, leaving the
 * global sums in this rank's bins [k0, k1) only (a reduce-scatter: the rest
 * of h keeps this rank's rows). In int64 messages: when gmax_global * (N +
 * 1) < 2^62 no global bin sum can leave int64, and each bin sends (gradient,
 * count), and the hessian too unless constant (H = count * hval).
 * Otherwise (money targets) each 128-bit sum v is sent as hi = floor(v /
 * 2^32) and lo = v - hi 2^32 in [0, 2^32): the ranks' lo add up below P
 * 2^32 and their hi below gmax_global n_train / 2^32 + P < 2^63 (gmax <
 * 2^62, n_train < 2^32), and sum(v) = sum(hi) 2^32 + sum(lo) exactly. The
 * same integers as summing 128-bit values (the fallback for n_train >=
 * 2^32, an allreduce of 3 tribe_xsum a bin), in 3 or 5 int64 a bin. */
static tribe_status reduce_hist(grower *gr, tribe_xsum *h, int64_t N)
{
    int hb = gr->hc.hb, hc = gr->hc.hconst, P = tribe_par_size(gr->par);
    if (P == 1)
        return TRIBE_OK;
    int small = (unsigned __int128)gr->gmax_global * (uint64_t)(N + 1) < ((unsigned __int128)1 << 62);
    if (!small && gr->n_train >= ((int64_t)1 << 32) - P)
        return tribe_par_sum_xsum(gr->par, h, (int64_t)3 * hb);
    /* lanes per bin: sums (1 lane when small, hi and lo otherwise) of the
     * gradient, the hessian unless constant, then the count */
    int ls = small ? 1 : 2, w = ls * (hc ? 1 : 2) + 1;
    int64_t *b = gr->rbuf;
    for (int k = 0; k < hb; k++) {
        int64_t *o = b + (size_t)w * k;
        for (int q = 0; q < (hc ? 1 : 2); q++) {
            tribe_xsum v = h[3 * (size_t)k + q];
            if (small) {
                o[q] = (int64_t)v;
            } else {
                o[2 * q] = (int64_t)(v >> 32);
                o[2 * q + 1] = (int64_t)(v & 0xFFFFFFFF);
            }
        }
        o[w - 1] = (int64_t)h[3 * (size_t)k + 2];
    }
    for (int r = 0; r < P; r++)
        gr->rcnt[r] = w * (gr->hc.hoff[gr->fo[r + 1]] - gr->hc.hoff[gr->fo[r]]);
    int64_t *got = gr->rrecv;
    tribe_status st = tribe_par_sum_scatter_i64(gr->par, b, gr->rcnt, got, got + (size_t)5 * hb);
    if (st != TRIBE_OK)
        return st;
    for (int k = gr->k0; k < gr->k1; k++) {
        const int64_t *o = got + (size_t)w * (k - gr->k0);
        for (int q = 0; q < (hc ? 1 : 2); q++)
            h[3 * (size_t)k + q] = small ? (tribe_xsum)o[q] : (tribe_xsum)o[2 * q] * ((tribe_xsum)1 << 32) + o[2 * q + 1];
        h[3 * (size_t)k + 2] = o[w - 1];
        if (hc)
            h[3 * (size_t)k + 1] = h[3 * (size_t)k + 2] * gr->hc.hval;
    }
    return TRIBE_OK;
}

/* A rank's best split of one leaf (and, for the root, its totals). */
typedef struct {
    double gain;
    int32_t feature, bin, default_left, pad;
    tribe_xsum GL, HL, G, H;
    int64_t NL, N;
} split_msg;

/* Collective. The best split of each of the nl (<= 2) leaves L[] over
 * every rank's features: each rank found the best over its own (the first
 * of the largest gains in its order); the best over ranks is the largest
 * gain, ties to the lower rank, i.e. the lower feature: the split one
 * scan of every feature in order finds. With root, the leaf's totals too,
 * from rank 0 (which owns feature 0). */
static tribe_status agree_splits(grower *gr, leaf_t *const *L, int nl, int root)
{
    int P = tribe_par_size(gr->par);
    if (P == 1)
        return TRIBE_OK;
    split_msg mine[2], *all = gr->xch;
    memset(mine, 0, sizeof mine);
    for (int j = 0; j < nl; j++) {
        const leaf_t *l = L[j];
        mine[j] = (split_msg){.gain = l->gain, .feature = l->feature, .bin = l->bin, .default_left = l->default_left,
                              .GL = l->GL, .HL = l->HL, .G = l->G, .H = l->H, .NL = l->NL, .N = l->N};
    }
    tribe_status st = tribe_par_allgather(gr->par, mine, (size_t)nl * sizeof *mine, all);
    if (st != TRIBE_OK)
        return st;
    for (int j = 0; j < nl; j++) {
        const split_msg *b = NULL;
        for (int r = 0; r < P; r++) {
            const split_msg *m = &all[(size_t)r * nl + j];
            if (m->feature >= 0 && (!b || m->gain > b->gain))
                b = m;
        }
        leaf_t *l = L[j];
        l->gain = b ? b->gain : 0;
        l->feature = b ? b->feature : -1;
        if (b) {
            l->bin = b->bin;
            l->default_left = b->default_left;
            l->GL = b->GL;
            l->HL = b->HL;
            l->NL = b->NL;
        }
        if (root) {
            l->G = all[j].G;
            l->H = all[j].H;
            l->N = all[j].N;
        }
    }
    return TRIBE_OK;
}

/* Whether a row whose code of the split feature is cd goes left: cd <= bb,
 * and code 0 (missing) when dl; branch-free. */
static inline int code_left(int cd, int bb, int dl) { return ((cd == 0) & dl) | ((cd != 0) & (cd <= bb)); }

/* Record s to d (rs bytes, a multiple of 8). */
static inline void copy_rec(uint8_t *restrict d, const uint8_t *restrict s, size_t rs)
{
    if (rs == 24) {
        memcpy(d, s, 24);
        return;
    }
    if (rs == 32) {
        memcpy(d, s, 32);
        return;
    }
    size_t k = 0;
    for (; k + 16 <= rs; k += 16)
        memcpy(d + k, s + k, 16);
    if (k < rs)
        memcpy(d + k, s + k, 8);
}

/* Thread t's part of a split: the records at positions [b, e) of buffer
 * `from` to the same positions of buffer `to`, left rows forward from b and
 * right rows backward from e - 1, in one pass. A row goes left when its
 * code of feature f is <= bb (code 0, missing: when dl); with f < 0, when
 * it is drawn into the tree's bag. Returns the left count. (Building the
 * histogram of a child here, while its rows are in cache, was slower: the
 * rows streaming through evict the histogram cells. So was partitioning in
 * place, BlockQuicksort style, in one buffer: it reads and writes less, but
 * its swaps scatter rows that this order-keeping pass leaves next to rows
 * of the same leaves of earlier trees, hence of nearby bins, and the
 * histogram builds took 1.7 x as long; measured 2026-12-07.) */
static int64_t part_rows(const grower *gr, int from, int to, int64_t b, int64_t e, int f, int bb, int dl)
{
    const gbdt_hist *hc = &gr->hc;
    const tribe_gbdt_cfg *c = gr->cfg;
    const size_t rs = (size_t)hc->rs;
    const uint8_t *restrict src = gr->buf[from];
    uint8_t *restrict dst = gr->buf[to];
    uint8_t lf[GBDT_PART_BLOCK];
    int64_t wl = b, wr = e - 1;
    for (int64_t r0 = b; r0 < e; r0 += GBDT_PART_BLOCK) {
        int n = e - r0 > GBDT_PART_BLOCK ? GBDT_PART_BLOCK : (int)(e - r0);
        const uint8_t *sb = src + (size_t)r0 * rs;
        if (f >= 0) {
            const uint8_t *pc = sb + hc->coff + f;
            for (int j = 0; j < n; j++) {
                int cd = pc[(size_t)j * rs];
                lf[j] = (uint8_t)code_left(cd, bb, dl);
            }
        } else {
            for (int j = 0; j < n; j++)
                lf[j] = tribe_rng_unif(c->seed, TRIBE_STREAM_GBDT_BAG,
                                       tribe_hash2((uint64_t)(gr->offset + rec_row(hc, sb + (size_t)j * rs)),
                                                   (uint64_t)gr->bag_tree)) < c->subsample;
        }
        /* branch-free: the direction of a row is a coin toss to the CPU */
        for (int j = 0; j < n; j++) {
            int64_t left = lf[j], q = left ? wl : wr;
            wl += left;
            wr -= 1 - left;
            copy_rec(dst + (size_t)q * rs, sb + (size_t)j * rs, rs);
        }
    }
    return wl - b;
}

/* Splits leaf ka, whose rows are in buffer `from`, into buffer `to` (see
 * part_rows for f, bb, dl): afterwards leaf ka's ranges hold its left rows
 * and leaf kb's its right rows. With hs >= 0, out[3 * hb] is then the
 * histogram of this rank's rows of side hs (0 left, 1 right). OpenMP:
 * thread t splits the segments t, t + nth, ... */
static void split_leaf(grower *gr, int ka, int kb, int from, int to, int f, int bb, int dl, int hs,
                       tribe_xsum *out)
{
    int T = gr->T;
    int64_t *ra = leaf_rng(gr, ka), *rb = leaf_rng(gr, kb), m = 0;
    for (int u = 0; u < T; u++)
        m += ra[2 * u + 1] - ra[2 * u];
    int nt = m * gr->hc.d >= TRIBE_OMP_MIN_WORK ? T : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int u = 0; u < T; u++) {
        int64_t b = ra[2 * u], e = ra[2 * u + 1];
        int64_t nl = part_rows(gr, from, to, b, e, f, bb, dl);
        ra[2 * u + 1] = rb[2 * u] = b + nl;
        rb[2 * u + 1] = e;
    }
    if (hs >= 0)
        gbdt_hist_build_ranges(&gr->hc, gr->buf[to], T, hs == 0 ? ra : rb, out);
}

/* Collective. Grows one tree from its root (grow_root: leaf 0, slot 0);
 * nodes[2 * max_leaves - 1] out. */
static tribe_status grow_tree(grower *gr, tribe_gbdt_tree *tree)
{
    tribe_status st = TRIBE_OK;
    const tribe_gbdt_cfg *c = gr->cfg;
    const tribe_gbdt_bins *bins = gr->bins;
    tribe_gbdt_node *nodes = tree->nodes;
    int n_nodes = 1, n_leaves = 1;
    leaf_t *lv = gr->leaves;
    int moved = gr->premoved; /* the root's split is chosen and its rows moved (next_root) */
    gr->premoved = 0;
    if (moved) {
        lv[0] = gr->pre;
    } else {
        if (gr->f0 < gr->f1)
            leaf_totals(gr, &lv[0]);
        find_split(c, bins, gr->hc.hoff, gr->f0, gr->f1, slot_hist(gr, 0), &lv[0], gr->gmax_global);
        TRIBE_TRY(agree_splits(gr, (leaf_t *const[]){&lv[0]}, 1, 1));
    }

    while (n_leaves < c->max_leaves) {
        int best = -1;
        for (int k = 0; k < n_leaves; k++)
            if (lv[k].feature >= 0 && (best < 0 || lv[k].gain > lv[best].gain))
                best = k;
        if (best < 0)
            break;
        leaf_t P = lv[best];
        int f = P.feature, bb = P.bin, dl = P.default_left;

        tribe_gbdt_node *pn = &nodes[P.node];
        pn->feature = f;
        pn->bin = (uint8_t)bb;
        pn->threshold = bins->edges[bins->off[f] + bb - 1];
        pn->default_left = (uint8_t)dl;
        pn->gain = P.gain;
        pn->cover = (double)P.N;
        pn->left = n_nodes;
        pn->right = n_nodes + 1;

        leaf_t A, B; /* left, right */
        memset(&A, 0, sizeof A);
        memset(&B, 0, sizeof B);
        /* the rows move to the other buffer, left ones first (buffer 2 is
         * the base: from it to 0; a premoved root's children are in it) */
        A.side = B.side = moved ? 2 : P.side == 0 ? 1 : 0;
        A.node = n_nodes;
        B.node = n_nodes + 1;
        A.depth = B.depth = P.depth + 1;
        A.G = P.GL;
        A.H = P.HL;
        A.N = P.NL;
        B.G = P.G - P.GL;
        B.H = P.H - P.HL;
        B.N = P.N - P.NL;
        n_nodes += 2;
        /* Build the child with fewer GLOBAL rows (same choice on every rank)
         * while the rows move, derive its sibling by subtraction in the
         * parent's slot. */
        leaf_t *small = A.N <= B.N ? &A : &B, *large = small == &A ? &B : &A;
        small->slot = n_leaves; /* slots 0..n_leaves-1 are in use */
        large->slot = P.slot;
        tribe_xsum *hs = slot_hist(gr, small->slot), *hp = slot_hist(gr, P.slot);
        /* leaf best's ranges become A's, leaf n_leaves's B's */
        if (moved) /* leaves 0 and 1 hold the root's children's rows */
            gbdt_hist_build_ranges(&gr->hc, gr->buf[2], gr->T, leaf_rng(gr, small == &A ? 0 : 1), hs);
        else
            split_leaf(gr, best, n_leaves, P.side, A.side, f, bb, dl, small == &A ? 0 : 1, hs);
        moved = 0;
        TRIBE_TRY(reduce_hist(gr, hs, small->N));
        for (size_t k = (size_t)3 * gr->k0; k < (size_t)3 * gr->k1; k++)
            hp[k] -= hs[k];
        /* slots must stay a permutation of 0..n_leaves: the new slot is n_leaves */
        find_split(c, bins, gr->hc.hoff, gr->f0, gr->f1, slot_hist(gr, A.slot), &A, gr->gmax_global);
        find_split(c, bins, gr->hc.hoff, gr->f0, gr->f1, slot_hist(gr, B.slot), &B, gr->gmax_global);
        TRIBE_TRY(agree_splits(gr, (leaf_t *const[]){&A, &B}, 2, 0));
        lv[best] = A;
        lv[n_leaves++] = B;
    }
    for (int k = 0; k < n_leaves; k++)
        nodes[lv[k].node] = leaf_node(c, &lv[k]);
    tree->n_nodes = n_nodes;
    gr->n_leaves = n_leaves;
cleanup:
    return st;
}

/* ---- driver ------------------------------------------------------------------ */

/* The driver's per-row state, sized once per fit. */
typedef struct {
    uint8_t *codes;     /* [n][d] bin codes of every local row */
    int *hoff;          /* [d + 1] first bin of each feature */
    double *score;      /* [n][ng] raw scores */
    int64_t *gall, *hall; /* [n][ng] fixed-point gradients / hessians (not for squared error) */
    int64_t n_tr;       /* local training rows */
} fit_state;

static void fit_free(fit_state *fs, grower *gr)
{
    free(fs->codes);
    free(fs->hoff);
    free(fs->score);
    free(fs->gall);
    free(fs->hall);
    gbdt_hist_free(&gr->hc);
    free(gr->slots);
    free(gr->leaves);
    free(gr->rbuf);
    free(gr->seg);
    free(gr->rng);
    free(gr->next);
    free(gr->vfix);
    free(gr->fo);
    free(gr->rcnt);
    free(gr->rrecv);
    free(gr->xch);
    for (int b = 0; b < 3; b++)
        free(gr->buf[b]);
}

/* Not collective. Which features each rank scans for splits (grower's fo):
 * rank r's start is the first feature f with hoff[f] P >= r hb, so the
 * ranges are contiguous, in rank order, and rank 0 owns feature 0. */
static tribe_status split_owners(grower *gr, int d)
{
    tribe_status st = TRIBE_OK;
    int P = tribe_par_size(gr->par), rank = tribe_par_rank(gr->par), hb = gr->hc.hb;
    const int *hoff = gr->hc.hoff;
    TRIBE_TRY(tribe_calloc((void **)&gr->fo, (size_t)P + 1, sizeof *gr->fo));
    TRIBE_TRY(tribe_calloc((void **)&gr->rcnt, (size_t)P, sizeof *gr->rcnt));
    TRIBE_TRY(tribe_alloc((void **)&gr->rrecv, (size_t)10 * hb * sizeof *gr->rrecv + 8));
    TRIBE_TRY(tribe_alloc((void **)&gr->xch, (size_t)P * 2 * sizeof(split_msg)));
    for (int r = 0, f = 0; r <= P; r++) {
        while (f < d && (int64_t)hoff[f] * P < (int64_t)r * hb)
            f++;
        gr->fo[r] = r == P ? d : f;
    }
    gr->f0 = gr->fo[rank];
    gr->f1 = gr->fo[rank + 1];
    gr->k0 = hoff[gr->f0];
    gr->k1 = hoff[gr->f1];
cleanup:
    return st;
}

/* Not collective. The model's arrays (ng outputs, has_valid: validation
 * losses) and every buffer of the rounds for n local rows of d features,
 * valid[n] (may be NULL) marking validation rows. Errors: NOMEM (the
 * caller agrees, then frees with fit_free). */
static tribe_status fit_alloc(const tribe_gbdt_cfg *cfg, const tribe_gbdt_bins *bins, int64_t n, int d,
                              const uint8_t *valid, int ng, int has_valid, tribe_gbdt_model **mp, fit_state *fs,
                              grower *gr)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_model *m = NULL;
    int ml = cfg->max_leaves, sq = cfg->objective == TRIBE_GBDT_SQUARED;
    TRIBE_TRY(tribe_calloc((void **)mp, 1, sizeof **mp));
    m = *mp;
    m->objective = cfg->objective;
    m->tweedie_power = cfg->objective == TRIBE_GBDT_TWEEDIE ? cfg->tweedie_power : 0;
    m->n_features = d;
    m->n_groups = ng;
    TRIBE_TRY(tribe_calloc((void **)&m->base_score, (size_t)ng, sizeof *m->base_score));
    TRIBE_TRY(tribe_calloc((void **)&m->trees, (size_t)cfg->n_rounds * ng, sizeof *m->trees));
    TRIBE_TRY(tribe_calloc((void **)&m->train_loss, (size_t)cfg->n_rounds, sizeof(double)));
    if (has_valid)
        TRIBE_TRY(tribe_calloc((void **)&m->valid_loss, (size_t)cfg->n_rounds, sizeof(double)));
    TRIBE_TRY(tribe_alloc((void **)&fs->codes, (size_t)n * d + 1));
    TRIBE_TRY(tribe_calloc((void **)&fs->hoff, (size_t)d + 1, sizeof *fs->hoff));
    for (int f = 0; f < d; f++)
        fs->hoff[f + 1] = fs->hoff[f] + bins->n_edges[f] + 2;
    /* squared error: every hessian is 1, so H = count * 1 is not summed */
    /* squared error on all rows (incr) has no use for the row index */
    TRIBE_TRY(gbdt_hist_init(&gr->hc, d, fs->hoff, sq, (int64_t)tribe_xsum_of(1.0), !(sq && cfg->subsample >= 1.0)));
    TRIBE_TRY(tribe_calloc((void **)&gr->slots, (size_t)ml * 3 * gr->hc.hb, sizeof(tribe_xsum)));
    TRIBE_TRY(tribe_calloc((void **)&gr->leaves, (size_t)ml, sizeof *gr->leaves));
    fs->n_tr = n;
    if (valid)
        for (int64_t i = 0; i < n; i++)
            fs->n_tr -= valid[i] != 0;
    /* records name their row in an int32 */
    if (n > INT32_MAX)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gbdt: %lld rows on one rank; at most %d (use more ranks)",
                             (long long)n, INT32_MAX));
    /* squared error: hessians are constant, never stored (gbdt_hist_init's record layout) */
    for (int b = 0; b < 3; b++)
        TRIBE_TRY(tribe_alloc((void **)&gr->buf[b], ((size_t)fs->n_tr + 1) * gr->hc.rs));
    gr->T = gr->hc.nthreads;
    gr->n_tr = fs->n_tr;
    TRIBE_TRY(tribe_calloc((void **)&gr->seg, (size_t)gr->T + 1, sizeof *gr->seg));
    TRIBE_TRY(tribe_calloc((void **)&gr->rng, ((size_t)ml + 1) * gr->T * 2, sizeof *gr->rng));
    TRIBE_TRY(tribe_calloc((void **)&gr->next, (size_t)3 * gr->hc.hb, sizeof *gr->next));
    TRIBE_TRY(tribe_calloc((void **)&gr->vfix, (size_t)ml, sizeof *gr->vfix));
    TRIBE_TRY(tribe_alloc((void **)&gr->rbuf, (size_t)5 * gr->hc.hb * sizeof(int64_t) + 8));
    TRIBE_TRY(split_owners(gr, d));
    TRIBE_TRY(tribe_alloc((void **)&fs->score, ((size_t)n * ng + 1) * sizeof *fs->score));
    /* squared error: gradients are computed where the rows are gathered */
    if (!sq) {
        TRIBE_TRY(tribe_alloc((void **)&fs->gall, ((size_t)n * ng + 1) * sizeof *fs->gall));
        TRIBE_TRY(tribe_alloc((void **)&fs->hall, ((size_t)n * ng + 1) * sizeof *fs->hall));
    }
cleanup:
    return st;
}

/* Collective. The base score from exact sums of the training targets (class
 * counts for softmax) over n_train training rows in all. */
static tribe_status fit_base_score(tribe_par *par, const tribe_gbdt_cfg *cfg, const double *y, const uint8_t *valid,
                                   int64_t n, int64_t n_train, tribe_gbdt_model *m)
{
    tribe_status st = TRIBE_OK;
    int ng = m->n_groups;
    tribe_xsum s[1] = {0};
    int64_t *cc = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&cc, (size_t)ng, sizeof *cc)));
    for (int64_t i = 0; i < n; i++) {
        if (valid && valid[i])
            continue;
        s[0] += tribe_xsum_of(y[i]);
        if (ng > 1)
            cc[(int)y[i]]++;
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, s, 1));
    if (ng > 1)
        TRIBE_TRY(tribe_par_sum_i64(par, cc, ng));
    double mean = tribe_xsum_value(s[0]) / (double)n_train;
    switch (cfg->objective) {
    case TRIBE_GBDT_SQUARED:
        m->base_score[0] = mean;
        break;
    case TRIBE_GBDT_POISSON:
    case TRIBE_GBDT_TWEEDIE:
        m->base_score[0] = log(mean > 1e-12 ? mean : 1e-12);
        break;
    case TRIBE_GBDT_LOGISTIC: {
        double p = mean < 1e-6 ? 1e-6 : mean > 1 - 1e-6 ? 1 - 1e-6 : mean;
        m->base_score[0] = log(p / (1 - p));
        break;
    }
    case TRIBE_GBDT_SOFTMAX:
        for (int k = 0; k < ng; k++) {
            double p = (double)cc[k] / (double)n_train;
            m->base_score[k] = log(p > 1e-6 ? p : 1e-6);
        }
        break;
    }
cleanup:
    free(cc);
    return st;
}

/* Not collective. Gradients and hessians of every output of every row from
 * the scores at the start of a round (not for squared error: see
 * gbdt_hist.hconst). Returns 1 when one overflowed (|g|, h >= 2^30; set to 0). */
static int all_gradients(const tribe_gbdt_cfg *cfg, int ng, int64_t n, const double *score, const double *y,
                         int64_t *gall, int64_t *hall)
{
    int overflow = 0;
#pragma omp parallel for schedule(static) reduction(| : overflow) if (n * ng >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < ng; k++) {
            double gv = 0, hv = 0;
            grad_hess(cfg, ng, score + i * ng, y[i], k, &gv, &hv);
            /* |g|, h < 2^30 keep the fixed-point values and their sums in range */
            if (!(fabs(gv) < 1073741824.0) || !(hv < 1073741824.0)) {
                overflow = 1;
                gv = hv = 0;
            }
            gall[i * ng + k] = (int64_t)tribe_xsum_of(gv);
            hall[i * ng + k] = (int64_t)tribe_xsum_of(hv);
        }
    }
    return overflow;
}

/* Squared error's fixed-point gradient of a residual e, branch-free (so
 * that it vectorises): tribe_xsum_of(e); 0 and *bad = 1 when |e| >= 2^30,
 * which keeps |g| < 2^62 and the sums in range. */
static inline int64_t sq_fixed(double e, int *bad)
{
    int ok = fabs(e) < 1073741824.0;
    *bad |= !ok;
    double sc = (ok ? e : 0.0) * TRIBE_XSUM_SCALE;
    return (int64_t)(sc < 0 ? sc - 0.5 : sc + 0.5);
}

/* Not collective. Output k's gradients (and hessians) of the training rows
 * into their base records. Returns the local max |g|, h; *overflow |= 1
 * when a squared-error gradient overflowed. */
static int64_t group_gradients(grower *gr, const fit_state *fs, int ng, int k, const double *y, int *overflow)
{
    const gbdt_hist *hc = &gr->hc;
    uint8_t *base = gr->buf[2];
    const size_t rs = (size_t)hc->rs;
    int64_t gmax = 0, n_tr = fs->n_tr;
    const double *score = fs->score;
    if (gr->cfg->objective == TRIBE_GBDT_SQUARED) {
        int ovf = 0;
#pragma omp parallel for schedule(static) reduction(max : gmax) reduction(| : ovf) if (n_tr >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = 0; r < n_tr; r++) {
            uint8_t *p = base + (size_t)r * rs;
            int64_t i = rec_row(hc, p), gv = sq_fixed(score[i] - y[i], &ovf);
            memcpy(p, &gv, sizeof gv);
            gv = gv < 0 ? -gv : gv;
            gmax = gv > gmax ? gv : gmax;
        }
        *overflow |= ovf;
        gmax = hc->hval > gmax ? hc->hval : gmax;
    } else {
#pragma omp parallel for schedule(static) reduction(max : gmax) if (n_tr >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = 0; r < n_tr; r++) {
            uint8_t *p = base + (size_t)r * rs;
            int64_t i = rec_row(hc, p), gv = fs->gall[i * ng + k], hv = fs->hall[i * ng + k];
            memcpy(p, &gv, sizeof gv);
            memcpy(p + 8, &hv, sizeof hv);
            gv = gv < 0 ? -gv : gv;
            gmax = gv > gmax ? gv : gmax;
            gmax = hv > gmax ? hv : gmax;
        }
    }
    return gmax;
}

/* Collective. The root of the next tree (output k of round `round`): its
 * rows' gradients into their records and its histogram, summed over ranks,
 * in slot 0; sets leaf 0's ranges and side, hc.gmax and gmax_global.
 * Errors: INPUT when a gradient overflowed (agreed). */
static tribe_status grow_root(grower *gr, const fit_state *fs, int ng, int k, const double *y, int round)
{
    tribe_status st = TRIBE_OK;
    leaf_t *L = &gr->leaves[0];
    tribe_xsum *h0 = slot_hist(gr, 0);
    int64_t *r0 = leaf_rng(gr, 0), gmax;
    int overflow = 0;
    memset(L, 0, sizeof *L);
    if (!gr->premoved) /* else leaves 0 and 1 hold the root's rows (apply_incr) */
        for (int u = 0; u < gr->T; u++) {
            r0[2 * u] = gr->seg[u];
            r0[2 * u + 1] = gr->seg[u + 1];
        }
    L->side = gr->bagged ? 0 : 2;
    if (gr->incr) {
        /* the rows' gradients are in buffer 2 (fill_base, then apply_incr);
         * after the first tree the root's (global) histogram comes from the
         * last tree's leaves (gr->next) */
        gmax = gr->gmax_next;
        overflow = gr->ovf_next;
        gr->hc.gmax = (uint64_t)gmax;
        if (gr->bag_tree > 0 && !gr->premoved) /* premoved: next_root copied it */
            memcpy(h0, gr->next, (size_t)3 * gr->hc.hb * sizeof *h0);
        else if (gr->bag_tree == 0)
            gbdt_hist_build_ranges(&gr->hc, gr->buf[2], gr->T, r0, h0);
        if (gr->bag_tree > 0 && gr->hc.ref == 2) {
            /* tests: the same histogram from the rows, summed over ranks;
             * premoved, they are in leaves 0 and 1, whose ranges follow one
             * another in gr->rng */
            tribe_xsum *hr = slot_hist(gr, 1);
            gbdt_hist_build_ranges(&gr->hc, gr->buf[2], gr->premoved ? 2 * gr->T : gr->T, r0, hr);
            TRIBE_TRY(reduce_hist(gr, hr, gr->n_train));
            size_t k0 = (size_t)3 * gr->k0;
            if (memcmp(hr + k0, h0 + k0, (size_t)3 * (gr->k1 - gr->k0) * sizeof *h0) != 0)
                st = tribe_fail(TRIBE_ERR_INTERNAL, "gbdt: tree %d's root histogram from the leaves differs from the rows'",
                                gr->bag_tree);
            TRIBE_TRY(tribe_par_agree(gr->par, st));
        }
    } else {
        gmax = group_gradients(gr, fs, ng, k, y, &overflow);
        gr->hc.gmax = (uint64_t)gmax;
        /* with bagging, the bag to buffer 0, the rest of the rows (out of
         * bag) behind it in the ranges of leaf max_leaves */
        if (gr->bagged)
            split_leaf(gr, 0, gr->cfg->max_leaves, 2, 0, -1, 0, 0, 0, h0);
        else
            gbdt_hist_build_ranges(&gr->hc, gr->buf[2], gr->T, r0, h0);
    }
    if (overflow)
        st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: gradients overflowed in round %d (targets too large for the objective?)", round);
    TRIBE_TRY(tribe_par_agree(gr->par, st));
    TRIBE_TRY(tribe_par_max_i64(gr->par, &gmax, 1));
    gr->gmax_global = (uint64_t)gmax;
    if (!gr->incr || gr->bag_tree == 0)
        TRIBE_TRY(reduce_hist(gr, h0, gr->n_train));
    /* incr: apply_incr derives the next root from this one */
    if (gr->incr && gr->bag_tree == 0)
        memcpy(gr->next, h0, (size_t)3 * gr->hc.hb * sizeof *h0);
cleanup:
    return st;
}

/* Not collective. Adds tree (output k) to the scores of the validation
 * rows (valid[i] != 0; none when valid is NULL): they walk the tree on
 * their codes. */
static void apply_valid(const tribe_gbdt_tree *tree, fit_state *fs, const uint8_t *valid, int64_t n, int d, int ng,
                        int k)
{
    if (!valid)
        return;
#pragma omp parallel for schedule(static) if (n >= 16384)
    for (int64_t i = 0; i < n; i++)
        if (valid[i])
            fs->score[i * ng + k] += tree->nodes[gbdt_leaf_of_codes(tree, fs->codes + i * d)].value;
}

/* Not collective. Adds tree (output k) to the scores of the n local rows:
 * each leaf's value to the rows in its ranges, segment by segment (rows
 * are in exactly one leaf); the rows outside the tree's bag and the
 * validation rows walk the tree on their codes. */
static void apply_tree(const grower *gr, const tribe_gbdt_tree *tree, fit_state *fs, const uint8_t *valid, int64_t n,
                       int d, int ng, int k)
{
    const gbdt_hist *hc = &gr->hc;
    const size_t rs = (size_t)hc->rs;
    double *score = fs->score;
#pragma omp parallel for schedule(static) num_threads(gr->T) if (gr->n_tr * d >= TRIBE_OMP_MIN_WORK)
    for (int u = 0; u < gr->T; u++) {
        for (int q = 0; q < gr->n_leaves; q++) {
            const leaf_t *L = &gr->leaves[q];
            const int64_t *rg = leaf_rng(gr, q) + 2 * u;
            const uint8_t *b = gr->buf[L->side];
            double v = tree->nodes[L->node].value;
            for (int64_t r = rg[0]; r < rg[1]; r++)
                score[rec_row(hc, b + (size_t)r * rs) * ng + k] += v;
        }
        if (gr->bagged) {
            const int64_t *rg = leaf_rng(gr, gr->cfg->max_leaves) + 2 * u;
            for (int64_t r = rg[0]; r < rg[1]; r++) {
                const uint8_t *p = gr->buf[0] + (size_t)r * rs;
                score[rec_row(hc, p) * ng + k] += tree->nodes[gbdt_leaf_of_codes(tree, p + hc->coff)].value;
            }
        }
    }
    apply_valid(tree, fs, valid, n, d, ng, k);
}

/* Not collective. Squared error without bagging (gr->incr), after a tree:
 * each leaf's value in fixed point, V = tribe_xsum_of(value) (gr->vfix),
 * and the next root's histogram, which is this tree's root (gr->next) with
 * V times each leaf's count of every bin added to the gradients, so no row
 * is read to build it (hessians and counts stay: every tree has every
 * row); this rank's bins, the others are never read. */
static void incr_next(grower *gr, const tribe_gbdt_tree *tree)
{
    int nl = gr->n_leaves;
    for (int q = 0; q < nl; q++)
        gr->vfix[q] = (int64_t)tribe_xsum_of(tree->nodes[gr->leaves[q].node].value);
    tribe_xsum *nx = gr->next;
    for (int q = 0; q < nl; q++) {
        const tribe_xsum *h = slot_hist(gr, gr->leaves[q].slot);
        int64_t v = gr->vfix[q];
        if (v != 0)
            for (size_t b = (size_t)gr->k0; b < (size_t)gr->k1; b++)
                nx[3 * b] += (tribe_xsum)v * (int64_t)h[3 * b + 2];
    }
}

/* Collective. The next root's split, chosen before its rows are read
 * (incr_next gave its histogram, copied here to slot 0), into gr->pre;
 * gr->pre.feature < 0 when it has none. The scan's arithmetic is picked by
 * a bound on max |g| after the update, |g + V| <= |g| + |V|, where grow_root
 * has the exact one; the chosen split has the same bits either way. */
static tribe_status next_root(grower *gr)
{
    tribe_status st = TRIBE_OK;
    leaf_t *L = &gr->pre;
    uint64_t vmax = 0;
    for (int q = 0; q < gr->n_leaves; q++) {
        uint64_t a = gr->vfix[q] < 0 ? -(uint64_t)gr->vfix[q] : (uint64_t)gr->vfix[q];
        vmax = a > vmax ? a : vmax;
    }
    memset(L, 0, sizeof *L);
    L->feature = -1;
    L->side = 2;
    if (gr->gmax_global + vmax >= ((uint64_t)1 << 62)) /* the same on every rank */
        return TRIBE_OK;
    memcpy(slot_hist(gr, 0), gr->next, (size_t)3 * gr->hc.hb * sizeof(tribe_xsum));
    if (gr->f0 < gr->f1)
        leaf_totals(gr, L);
    find_split(gr->cfg, gr->bins, gr->hc.hoff, gr->f0, gr->f1, slot_hist(gr, 0), L, gr->gmax_global + vmax);
    TRIBE_TRY(agree_splits(gr, (leaf_t *const[]){L}, 1, 1));
cleanup:
    return st;
}

/* Not collective. After incr_next: every row's gradient gets its leaf's V,
 * and its record goes to buffer 2 (then g stays the fixed-point residual
 * prediction - y, updated exactly). Without a next root split (gr->pre)
 * each record keeps its position; with one, every leaf being in buffer 0
 * or 1, the pass is also that split: left rows forward from the segment's
 * start, right rows backward from its end, the children's ranges into
 * leaves 0 and 1 (so the next tree does not move every row once more).
 * gr->gmax_next, gr->ovf_next and *loss, the sum of tribe_xsum_of(e^2) over
 * the local rows (e = g / 2^32), come from the same pass. Returns 1 when
 * some e^2 is above 1e15 (diverged). */
static int apply_incr(grower *gr, tribe_xsum *loss)
{
    const gbdt_hist *hc = &gr->hc;
    const size_t rs = (size_t)hc->rs;
    const int nl = gr->n_leaves, f = gr->pre.feature, bb = gr->pre.bin, dl = gr->pre.default_left;
    int bad = 0, big = 0;
    int64_t gmax = 0;
    *loss = 0;
#pragma omp parallel num_threads(gr->T) if (gr->n_tr * hc->d >= TRIBE_OMP_MIN_WORK) reduction(max : gmax) \
    reduction(| : bad, big)
    {
        tribe_xsum lt = 0;
#pragma omp for schedule(static)
        for (int u = 0; u < gr->T; u++) {
            int64_t wl = gr->seg[u], wr = gr->seg[u + 1] - 1;
            uint8_t *dst = gr->buf[2];
            for (int q = 0; q < nl; q++) {
                const int64_t *rg = leaf_rng(gr, q) + 2 * u, v = gr->vfix[q];
                const uint8_t *src = gr->buf[gr->leaves[q].side];
                for (int64_t r = rg[0]; r < rg[1]; r++) {
                    const uint8_t *p = src + (size_t)r * rs;
                    int64_t pos = r;
                    if (f >= 0) {
                        int64_t left = code_left(p[hc->coff + f], bb, dl);
                        pos = left ? wl : wr;
                        wl += left;
                        wr -= 1 - left;
                    }
                    uint8_t *o = dst + (size_t)pos * rs;
                    /* |g|, |v| < 2^62: the sum fits */
                    int64_t g = gbdt_rec_g(p) + v, a = g < 0 ? -g : g;
                    if (src != dst)
                        copy_rec(o, p, rs);
                    bad |= a >= ((int64_t)1 << 62);
                    gmax = a > gmax ? a : gmax;
                    memcpy(o, &g, sizeof g);
                    double e = (double)g / TRIBE_XSUM_SCALE, l = e * e;
                    big |= l > 1e15;
                    lt += tribe_xsum_of(l);
                }
            }
            /* segment u's entries are read by this thread only, and no longer */
            if (f >= 0) {
                int64_t *ra = leaf_rng(gr, 0) + 2 * u, *rb = leaf_rng(gr, 1) + 2 * u;
                ra[0] = gr->seg[u];
                ra[1] = rb[0] = wl;
                rb[1] = gr->seg[u + 1];
            }
        }
#pragma omp critical(gbdt_incr_loss)
        *loss += lt;
    }
    gr->premoved = f >= 0;
    gr->gmax_next = hc->hval > gmax ? hc->hval : gmax;
    gr->ovf_next = bad;
    return big;
}

/* Collective. Squared error without bagging, after a tree: the next root's
 * histogram (incr_next), then, when another tree follows and no leaf is in
 * buffer 2 (apply_incr's destination), its split (next_root), then the rows'
 * gradient update that also moves them by that split (apply_incr; *diverged
 * its result). */
static tribe_status incr_tree(grower *gr, const tribe_gbdt_tree *tree, int more, tribe_xsum *loss, int *diverged)
{
    tribe_status st = TRIBE_OK;
    int fuse = more;
    for (int q = 0; q < gr->n_leaves; q++)
        fuse &= gr->leaves[q].side != 2;
    incr_next(gr, tree);
    gr->pre.feature = -1;
    if (fuse)
        TRIBE_TRY(next_root(gr));
    *diverged = apply_incr(gr, loss);
cleanup:
    return st;
}

/* Not collective. The base records: every training row (valid[i] == 0) of
 * the n local rows, its row index (when the records carry it) and codes,
 * dealt to the T segments in blocks of GBDT_SEG_BLOCK rows round robin;
 * sets seg[]. With gr->incr, also its gradient from the base score b0,
 * sq_fixed(b0 - y[i]), and gr->gmax_next, gr->ovf_next. */
static void fill_base(grower *gr, const fit_state *fs, const uint8_t *valid, int64_t n, int d, const double *y,
                      double b0)
{
    const gbdt_hist *hc = &gr->hc;
    const size_t rs = (size_t)hc->rs;
    int T = gr->T;
    int64_t nb = (fs->n_tr + GBDT_SEG_BLOCK - 1) / GBDT_SEG_BLOCK;
    /* segment u: blocks u, u + T, ...; only the last block can be short */
    gr->seg[0] = 0;
    for (int u = 0; u < T; u++) {
        int64_t full = nb / T + (u < nb % T), rows = full * GBDT_SEG_BLOCK;
        if (full > 0 && (nb - 1) % T == u)
            rows -= nb * GBDT_SEG_BLOCK - fs->n_tr;
        gr->seg[u + 1] = gr->seg[u] + rows;
    }
    memset(gr->buf[2], 0, (size_t)fs->n_tr * rs);
    int64_t q = 0;
    for (int64_t i = 0; i < n; i++) {
        if (valid && valid[i])
            continue;
        int64_t j = q / GBDT_SEG_BLOCK;
        uint8_t *p = gr->buf[2] + (size_t)(gr->seg[j % T] + j / T * GBDT_SEG_BLOCK + q % GBDT_SEG_BLOCK) * rs;
        int32_t row = (int32_t)i;
        if (!gr->incr) {
            memcpy(p + hc->coff - 4, &row, sizeof row);
        } else {
            int64_t g = sq_fixed(b0 - y[i], &gr->ovf_next), a = g < 0 ? -g : g;
            memcpy(p, &g, sizeof g);
            gr->gmax_next = a > gr->gmax_next ? a : gr->gmax_next;
        }
        memcpy(p + hc->coff, fs->codes + i * d, (size_t)d);
        q++;
    }
    gr->gmax_next = hc->hval > gr->gmax_next ? hc->hval : gr->gmax_next;
}

/* Not collective. Exact sums of the per-row losses over training (ls[0];
 * none when valid_only) and validation (ls[1]) rows; per-thread integer partial sums, so any
 * order gives the same. Returns 1 when a loss is not finite or above 1e15. */
static int round_losses(const tribe_gbdt_cfg *cfg, int ng, int64_t n, const double *score, const double *y,
                        const uint8_t *valid, int valid_only, tribe_xsum ls[2])
{
    int nonfinite = 0;
    ls[0] = ls[1] = 0;
    if (valid_only && !valid)
        return 0;
#pragma omp parallel if (n >= TRIBE_OMP_MIN_WORK)
    {
        tribe_xsum lt[2] = {0, 0};
        int bad = 0;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            if (valid_only && !valid[i])
                continue;
            double l = row_loss(cfg, ng, score + i * ng, y[i]);
            if (!isfinite(l) || fabs(l) > 1e15) {
                bad = 1;
                continue;
            }
            lt[valid && valid[i] ? 1 : 0] += tribe_xsum_of(l);
        }
#pragma omp critical(gbdt_loss)
        {
            ls[0] += lt[0];
            ls[1] += lt[1];
            nonfinite |= bad;
        }
    }
    return nonfinite;
}

tribe_status tribe_gbdt_fit(const tribe_dmat *xm, const double *y, const uint8_t *valid, const tribe_gbdt_cfg *cfg,
                            tribe_gbdt_model **out)
{
    return gbdt_fit(xm, y, valid, cfg, 0, out);
}

tribe_status gbdt_fit(const tribe_dmat *xm, const double *y, const uint8_t *valid, const tribe_gbdt_cfg *cfg, int ref128,
                      tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = xm->rows->par;
    int64_t n = xm->rows->n_local, offset = xm->rows->offset, n_global = xm->rows->n_global;
    int d = xm->d;
    tribe_gbdt_model *m = NULL;
    tribe_gbdt_bins *bins = NULL;
    fit_state fs;
    grower gr;
    memset(&fs, 0, sizeof fs);
    memset(&gr, 0, sizeof gr);
    *out = NULL;

    st = check_cfg(cfg, d);
    if (st == TRIBE_OK) {
        const char *why = NULL;
        int64_t bad = bad_target(cfg, y, n, &why);
        if (bad >= 0)
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: target of row %lld (%g) %s", (long long)(offset + bad), y[bad], why);
    }
    TRIBE_TRY(tribe_par_agree(par, st));

    int ng = cfg->objective == TRIBE_GBDT_SOFTMAX ? cfg->n_class : 1;
    /* counts: [0] training rows, [1] validation rows */
    int64_t cnt[2] = {0, 0};
    for (int64_t i = 0; i < n; i++)
        cnt[valid && valid[i] ? 1 : 0]++;
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, 2));
    if (cnt[0] + cnt[1] != n_global)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gbdt: the ranks hold %lld rows in all, but n_global = %lld",
                             (long long)(cnt[0] + cnt[1]), (long long)n_global));
    if (cnt[0] < cfg->min_samples_leaf || cnt[0] == 0)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt: %lld training rows, fewer than min_samples_leaf = %lld",
                             (long long)cnt[0], (long long)cfg->min_samples_leaf));
    if (cfg->early_stopping_rounds > 0 && cnt[1] == 0)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gbdt.early_stopping_rounds = %d but no row is flagged for validation",
                             cfg->early_stopping_rounds));

    TRIBE_TRY(tribe_gbdt_bins_fit(xm, valid, cfg->max_bins, cfg->bin_sample, cfg->seed, &bins));
    /* Local allocations; agreed before the next collective. */
    gr.par = par;
    TRIBE_TRY(tribe_par_agree(par, fit_alloc(cfg, bins, n, d, valid, ng, cnt[1] > 0, &m, &fs, &gr)));
    tribe_gbdt_bin_codes(bins, xm->x, n, fs.codes);
    gr.n_train = cnt[0];
    gr.cfg = cfg;
    gr.bins = bins;
    gr.hc.ref = ref128;
    gr.offset = offset;
    gr.bagged = cfg->subsample < 1.0;
    gr.incr = cfg->objective == TRIBE_GBDT_SQUARED && !gr.bagged;

    TRIBE_TRY(fit_base_score(par, cfg, y, valid, n, cnt[0], m));
    fill_base(&gr, &fs, valid, n, d, y, m->base_score[0]);
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < ng; k++)
            fs.score[i * ng + k] = m->base_score[k];

    double best_loss = INFINITY;
    int best_round = -1, ml = cfg->max_leaves;
    int round;
    tribe_progress_begin("training", "tree", (int64_t)cfg->n_rounds * ng);
    for (round = 0; round < cfg->n_rounds; round++) {
        int diverged = 0;
        tribe_xsum train_loss = 0; /* incr: from apply_incr */
        /* gradients of every output from the scores at the start of the round */
        int overflow = cfg->objective != TRIBE_GBDT_SQUARED && all_gradients(cfg, ng, n, fs.score, y, fs.gall, fs.hall);
        if (overflow)
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: gradients overflowed in round %d (targets too large for the objective?)", round);
        TRIBE_TRY(tribe_par_agree(par, st));

        for (int k = 0; k < ng; k++) {
            int t = round * ng + k;
            tribe_gbdt_tree *tree = &m->trees[t];
            tree->group = k;
            TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&tree->nodes, (size_t)2 * ml - 1, sizeof *tree->nodes)));
            m->n_trees = t + 1;
            gr.bag_tree = t;
            TRIBE_TRY(grow_root(&gr, &fs, ng, k, y, round));
            TRIBE_TRY(grow_tree(&gr, tree));
            if (gr.incr) {
                TRIBE_TRY(incr_tree(&gr, tree, round + 1 < cfg->n_rounds, &train_loss, &diverged));
                apply_valid(tree, &fs, valid, n, d, ng, k);
            } else {
                apply_tree(&gr, tree, &fs, valid, n, d, ng, k);
            }
            tribe_progress_step(m->n_trees);
        }

        /* losses: exact sums of per-row losses over training / validation rows */
        tribe_xsum ls[2];
        if (round_losses(cfg, ng, n, fs.score, y, valid, gr.incr, ls) | diverged)
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: the loss diverged in round %d", round);
        TRIBE_TRY(tribe_par_agree(par, st));
        if (gr.incr)
            ls[0] = train_loss;
        TRIBE_TRY(tribe_par_sum_xsum(par, ls, 2));
        m->train_loss[round] = tribe_xsum_value(ls[0]) / (double)cnt[0];
        m->n_hist = round + 1;
        if (cnt[1] > 0) {
            double vl = tribe_xsum_value(ls[1]) / (double)cnt[1];
            m->valid_loss[round] = vl;
            if (vl < best_loss) {
                best_loss = vl;
                best_round = round;
            } else if (cfg->early_stopping_rounds > 0 && round - best_round >= cfg->early_stopping_rounds) {
                round++;
                break;
            }
        }
    }
    /* keep the best round's trees when early stopping is on */
    int kept = cfg->early_stopping_rounds > 0 && best_round >= 0 ? best_round + 1 : round;
    for (int t = kept * ng; t < m->n_trees; t++) {
        free(m->trees[t].nodes);
        m->trees[t].nodes = NULL;
    }
    m->n_trees = kept * ng;
    m->best_round = kept - 1;
    tribe_progress_end();
    *out = m;
    m = NULL;
cleanup:
    tribe_gbdt_model_destroy(&m);
    tribe_gbdt_bins_destroy(&bins);
    fit_free(&fs, &gr);
    return st;
}

