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

/* ---- row buffers -------------------------------------------------------------
 * The training rows of a tree live in row buffers that hold, per row and in
 * the same order, its bin codes (d bytes), its local row index and its
 * fixed-point gradient and hessian. A leaf is a range [begin, end) of one
 * buffer; splitting it moves its rows into the other buffer (left rows
 * first), so every histogram build (hist.c) streams contiguous memory
 * ("ordered gradients"). Buffer 2 is the base: all training rows in local
 * order, whose codes never change; buffers 0 and 1 alternate down the tree. */

typedef struct {
    uint8_t *codes; /* [n][d] */
    int64_t *row;   /* [n] local row index */
    int64_t *g, *h; /* [n] fixed-point gradient / hessian of the current output */
} rowbuf;

/* Histogram of rows [lo, hi) of buffer b into out[3 * hb]. */
static void hist_build(const gbdt_hist *hc, const rowbuf *b, int64_t lo, int64_t hi, tribe_xsum *out)
{
    gbdt_hist_build(hc, b->codes + lo * hc->d, b->g + lo, hc->hconst ? NULL : b->h + lo, hi - lo, out);
}

/* ---- tree growth ------------------------------------------------------------ */

typedef struct {
    int64_t begin, end; /* local rows in the partition array */
    int node, depth, slot, side; /* side: the row buffer holding the rows */
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

/* Best split of a leaf from its global histogram: features in order, bins in
 * order, missing right before missing left; a candidate replaces the best
 * only when strictly better, so ties go to the first. */
/* The same scan in int64 arithmetic, for leaves where every partial sum of
 * the histogram fits: |any sum of the leaf's g or h| <= gmax * N < 2^62.
 * (double)s / 2^32 of an int64 s is what tribe_xsum_value returns for it, so
 * every gain, hence the chosen split, has the same bits as the 128-bit scan. */
static void find_split_i64(const tribe_gbdt_cfg *c, const tribe_gbdt_bins *bins, const int *hoff,
                           const tribe_xsum *hist, leaf_t *L, double parent, int64_t mcw)
{
    const double lam = c->lambda;
    const int64_t G = (int64_t)L->G, H = (int64_t)L->H, N = L->N, msl = c->min_samples_leaf;
    double best = L->gain;
    for (int f = 0; f < bins->d; f++) {
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

static void find_split(const tribe_gbdt_cfg *c, const tribe_gbdt_bins *bins, const int *hoff,
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
        find_split_i64(c, bins, hoff, hist, L, parent, (int64_t)mcw);
        return;
    }
    for (int f = 0; f < bins->d; f++) {
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
    rowbuf rb[3];        /* 0, 1: alternating leaf buffers; 2: the base */
    uint8_t *flag;       /* [n] scratch: direction of each row of a split leaf */
    tribe_xsum *slots;   /* [max_leaves][3 * hb] */
    leaf_t *leaves;      /* [max_leaves] */
    int n_leaves;        /* leaves of the last grown tree */
    uint64_t gmax_global; /* max |g|, h over every rank's rows of the tree */
    int64_t n_train;      /* global training rows */
    int64_t *rbuf;        /* [5 * hb] int64 histogram for the reduction */
} grower;

static tribe_xsum *slot_hist(grower *gr, int s) { return gr->slots + (size_t)s * 3 * gr->hc.hb; }

static void leaf_totals(grower *gr, leaf_t *L)
{
    /* every row has exactly one code of feature 0: its bins sum to the leaf */
    const tribe_xsum *h = slot_hist(gr, L->slot);
    L->G = L->H = 0;
    L->N = 0;
    for (int b = 0; b < gr->bins->n_edges[0] + 2; b++) {
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


/* Sums histogram h over ranks in int64 messages. When gmax_global *
 * (n_train + 1) < 2^62 no global bin sum can leave int64: each bin sends
 * (gradient, count), and the hessian too unless constant (H = count *
 * hval). Otherwise (money targets) each 128-bit sum v is sent as hi =
 * floor(v / 2^32) and lo = v - hi 2^32 in [0, 2^32): the ranks' lo add up
 * below P 2^32 and their hi below gmax_global n_train / 2^32 + P < 2^63
 * (gmax < 2^62, n_train < 2^32), and sum(v) = sum(hi) 2^32 + sum(lo)
 * exactly. The same integers as summing 128-bit values (the fallback for
 * n_train >= 2^32), in a built-in MPI_SUM message of 3 or 5 int64 per bin
 * instead of 3 tribe_xsum. */
static tribe_status reduce_hist(grower *gr, tribe_xsum *h)
{
    int hb = gr->hc.hb, hc = gr->hc.hconst;
    if (tribe_par_size(gr->par) == 1)
        return TRIBE_OK;
    int small = (unsigned __int128)gr->gmax_global * (uint64_t)(gr->n_train + 1) < ((unsigned __int128)1 << 62);
    if (!small && gr->n_train >= ((int64_t)1 << 32) - tribe_par_size(gr->par))
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
    tribe_status st = tribe_par_sum_i64(gr->par, b, (int64_t)w * hb);
    if (st != TRIBE_OK)
        return st;
    for (int k = 0; k < hb; k++) {
        const int64_t *o = b + (size_t)w * k;
        for (int q = 0; q < (hc ? 1 : 2); q++)
            h[3 * (size_t)k + q] = small ? (tribe_xsum)o[q] : (tribe_xsum)o[2 * q] * ((tribe_xsum)1 << 32) + o[2 * q + 1];
        h[3 * (size_t)k + 2] = o[w - 1];
        if (hc)
            h[3 * (size_t)k + 1] = h[3 * (size_t)k + 2] * gr->hc.hval;
    }
    return TRIBE_OK;
}

/* Row r of buffer src to row q of buffer dst (wh: with its hessian). */
static inline void move_row(const rowbuf *restrict src, rowbuf *restrict dst, int64_t r, int64_t q, int d, int wh)
{
    if (d == 16)
        memcpy(dst->codes + q * 16, src->codes + r * 16, 16);
    else
        memcpy(dst->codes + q * d, src->codes + r * d, (size_t)d);
    dst->row[q] = src->row[r];
    dst->g[q] = src->g[r];
    if (wh)
        dst->h[q] = src->h[r];
}

/* One thread's split_rows in one pass: left rows forward from lo, right
 * rows backward from hi - 1 (so in reverse order), with no counting pass
 * (which reads every row's codes once more). */
static int64_t split_rows_serial(grower *gr, int from, int to, int64_t lo, int64_t hi, int f, int bb, int dl)
{
    /* local copies: the stores of a row cannot change them, so the
     * compiler keeps the buffer pointers in registers */
    const rowbuf sb = gr->rb[from], *src = &sb;
    rowbuf db = gr->rb[to], *dst = &db;
    int d = gr->hc.d, wh = !gr->hc.hconst;
    const uint8_t *restrict fl = gr->flag, *restrict sc = src->codes;
    int64_t wl = lo, wr = hi - 1;
    /* branch-free: the direction of a row is a coin toss to the CPU */
    for (int64_t r = lo; r < hi; r++) {
        int64_t left;
        if (f >= 0) {
            uint8_t cd = sc[r * d + f];
            left = cd == 0 ? dl : cd <= bb;
        } else {
            left = fl[r];
        }
        int64_t q = left ? wl : wr;
        wl += left;
        wr -= 1 - left;
        move_row(src, dst, r, q, d, wh);
    }
    return wl - lo;
}

/* Moves the rows [lo, hi) of buffer `from` to the same range of buffer
 * `to`: those going left first. With f >= 0 a row goes left when its code
 * of feature f is <= bb (code 0, missing: when dl); with f < 0, when
 * flag[r] = 1. OpenMP over static row blocks: each thread counts its
 * block's left rows, then writes its rows at offsets from the block-order
 * prefix sums; one thread does it in one pass (split_rows_serial). The row
 * order does not affect any histogram (integer sums), so the two give the
 * same tree. Returns the left count. */
static int64_t split_rows(grower *gr, int from, int to, int64_t lo, int64_t hi, int f, int bb, int dl)
{
    enum { MAXT = 256 };
    int64_t cnt[MAXT + 1];
    const rowbuf *src = &gr->rb[from];
    rowbuf *dst = &gr->rb[to];
    int d = gr->hc.d, wh = !gr->hc.hconst;
    int64_t m = hi - lo, nl = 0;
    int nt = m >= 32768 ? gr->hc.nthreads : 1;
    nt = nt > MAXT ? MAXT : nt;
    if (nt == 1)
        return split_rows_serial(gr, from, to, lo, hi, f, bb, dl);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t rlo = lo + m * t / nth, rhi = lo + m * (t + 1) / nth, c = 0;
        if (f >= 0) {
            const uint8_t *pc = src->codes + f;
            for (int64_t r = rlo; r < rhi; r++) {
                uint8_t cd = pc[r * d];
                uint8_t left = (uint8_t)(cd == 0 ? dl : cd <= bb);
                gr->flag[r] = left;
                c += left;
            }
        } else {
            for (int64_t r = rlo; r < rhi; r++)
                c += gr->flag[r];
        }
        cnt[t] = c;
#pragma omp barrier
        /* left rows: after the earlier blocks' left rows; right rows: after
         * all left rows and the earlier blocks' right rows */
        int64_t wl = lo, wr = lo;
        for (int u = 0; u < nth; u++)
            wr += cnt[u];
        for (int u = 0; u < t; u++) {
            wl += cnt[u];
            wr += (m * (u + 1) / nth - m * u / nth) - cnt[u];
        }
        /* branch-free: the direction of a row is a coin toss to the CPU;
         * the thread's own copies of the buffers, as in split_rows_serial */
        const uint8_t *restrict fl = gr->flag;
        const rowbuf ts = *src;
        rowbuf td = *dst;
        for (int64_t r = rlo; r < rhi; r++) {
            int64_t left = fl[r], q = left ? wl : wr;
            wl += left;
            wr += 1 - left;
            move_row(&ts, &td, r, q, d, wh);
        }
#pragma omp single
        for (int u = 0; u < nth; u++)
            nl += cnt[u];
    }
    return nl;
}

/* Grows one tree on the rows [0, m) of buffer `root_side` (local);
 * nodes[2 * max_leaves - 1] out. */
static tribe_status grow_tree(grower *gr, int root_side, int64_t m, tribe_gbdt_tree *tree)
{
    tribe_status st = TRIBE_OK;
    const tribe_gbdt_cfg *c = gr->cfg;
    const tribe_gbdt_bins *bins = gr->bins;
    size_t hl = (size_t)3 * gr->hc.hb;
    tribe_gbdt_node *nodes = tree->nodes;
    int n_nodes = 1, n_leaves = 1;
    leaf_t *lv = gr->leaves;
    memset(&lv[0], 0, sizeof lv[0]);
    lv[0].begin = 0;
    lv[0].end = m;
    lv[0].slot = 0;
    lv[0].side = root_side;
    hist_build(&gr->hc, &gr->rb[root_side], 0, m, slot_hist(gr, 0));
    TRIBE_TRY(reduce_hist(gr, slot_hist(gr, 0)));
    leaf_totals(gr, &lv[0]);
    find_split(c, bins, gr->hc.hoff, slot_hist(gr, 0), &lv[0], gr->gmax_global);

    while (n_leaves < c->max_leaves) {
        int best = -1;
        for (int k = 0; k < n_leaves; k++)
            if (lv[k].feature >= 0 && (best < 0 || lv[k].gain > lv[best].gain))
                best = k;
        if (best < 0)
            break;
        leaf_t P = lv[best];
        int f = P.feature, bb = P.bin, dl = P.default_left;
        /* the rows move to the other buffer, left ones first */
        int to = P.side == 0 ? 1 : 0;
        int64_t nl = split_rows(gr, P.side, to, P.begin, P.end, f, bb, dl);

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
        A.begin = P.begin;
        A.end = P.begin + nl;
        B.begin = A.end;
        B.end = P.end;
        A.side = B.side = to;
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
        /* Build the child with fewer GLOBAL rows (same choice on every rank),
         * derive its sibling by subtraction in the parent's slot. */
        leaf_t *small = A.N <= B.N ? &A : &B, *large = small == &A ? &B : &A;
        small->slot = n_leaves; /* slots 0..n_leaves-1 are in use */
        large->slot = P.slot;
        tribe_xsum *hs = slot_hist(gr, small->slot), *hp = slot_hist(gr, P.slot);
        hist_build(&gr->hc, &gr->rb[to], small->begin, small->end, hs);
        TRIBE_TRY(reduce_hist(gr, hs));
        for (size_t k = 0; k < hl; k++)
            hp[k] -= hs[k];
        /* slots must stay a permutation of 0..n_leaves: the new slot is n_leaves */
        find_split(c, bins, gr->hc.hoff, slot_hist(gr, A.slot), &A, gr->gmax_global);
        find_split(c, bins, gr->hc.hoff, slot_hist(gr, B.slot), &B, gr->gmax_global);
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
    int32_t *leafof;    /* [n] leaf node of each bagged row of the last tree, else -1 */
    int *hoff;          /* [d + 1] first bin of each feature */
    double *score;      /* [n][ng] raw scores */
    int64_t *gall, *hall; /* [n][ng] fixed-point gradients / hessians (not for squared error) */
    int64_t n_tr;       /* local training rows */
} fit_state;

static void fit_free(fit_state *fs, grower *gr)
{
    free(fs->codes);
    free(fs->leafof);
    free(fs->hoff);
    free(fs->score);
    free(fs->gall);
    free(fs->hall);
    gbdt_hist_free(&gr->hc);
    free(gr->slots);
    free(gr->leaves);
    free(gr->flag);
    free(gr->rbuf);
    for (int b = 0; b < 3; b++) {
        free(gr->rb[b].codes);
        free(gr->rb[b].row);
        free(gr->rb[b].g);
        free(gr->rb[b].h);
    }
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
    TRIBE_TRY(tribe_alloc((void **)&fs->leafof, ((size_t)n + 1) * sizeof *fs->leafof));
    TRIBE_TRY(tribe_calloc((void **)&fs->hoff, (size_t)d + 1, sizeof *fs->hoff));
    for (int f = 0; f < d; f++)
        fs->hoff[f + 1] = fs->hoff[f] + bins->n_edges[f] + 2;
    /* squared error: every hessian is 1, so H = count * 1 is not summed */
    TRIBE_TRY(gbdt_hist_init(&gr->hc, d, fs->hoff, sq, (int64_t)tribe_xsum_of(1.0)));
    TRIBE_TRY(tribe_calloc((void **)&gr->slots, (size_t)ml * 3 * gr->hc.hb, sizeof(tribe_xsum)));
    TRIBE_TRY(tribe_calloc((void **)&gr->leaves, (size_t)ml, sizeof *gr->leaves));
    fs->n_tr = n;
    if (valid)
        for (int64_t i = 0; i < n; i++)
            fs->n_tr -= valid[i] != 0;
    for (int b = 0; b < 3; b++) {
        TRIBE_TRY(tribe_alloc((void **)&gr->rb[b].codes, (size_t)fs->n_tr * d + 16));
        TRIBE_TRY(tribe_alloc((void **)&gr->rb[b].row, ((size_t)fs->n_tr + 1) * sizeof(int64_t)));
        TRIBE_TRY(tribe_alloc((void **)&gr->rb[b].g, ((size_t)fs->n_tr + 1) * sizeof(int64_t)));
        /* squared error: hessians are constant, never stored */
        if (!sq)
            TRIBE_TRY(tribe_alloc((void **)&gr->rb[b].h, ((size_t)fs->n_tr + 1) * sizeof(int64_t)));
    }
    TRIBE_TRY(tribe_alloc((void **)&gr->flag, (size_t)fs->n_tr + 1));
    TRIBE_TRY(tribe_alloc((void **)&gr->rbuf, (size_t)5 * gr->hc.hb * sizeof(int64_t) + 8));
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

/* Not collective. Output k's gradients (and hessians) of the training rows
 * into the base buffer, and with subsampling the bag flags of tree t.
 * Returns the local max |g|, h; *overflow |= 1 when a squared-error
 * gradient overflowed. */
static int64_t group_gradients(grower *gr, const fit_state *fs, int ng, int k, int t, int64_t offset,
                               const double *y, int *overflow)
{
    const tribe_gbdt_cfg *cfg = gr->cfg;
    rowbuf *base = &gr->rb[2];
    int64_t gmax = 0, n_tr = fs->n_tr;
    const double *score = fs->score;
    if (cfg->objective == TRIBE_GBDT_SQUARED) {
        /* branch-free so that it vectorises: |g| < 2^30 keeps the
         * fixed-point values and their sums in range (then
         * |g 2^32| < 2^62 and the rounding below is tribe_xsum_of's) */
        const int64_t *restrict brow = base->row;
        int64_t *restrict bg = base->g;
        int ovf = 0;
#pragma omp parallel for schedule(static) reduction(max : gmax) reduction(| : ovf) if (n_tr >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = 0; r < n_tr; r++) {
            int64_t i = brow[r];
            double e = score[i] - y[i];
            int ok = fabs(e) < 1073741824.0;
            ovf |= !ok;
            double sc = (ok ? e : 0.0) * TRIBE_XSUM_SCALE;
            int64_t gv = (int64_t)(sc < 0 ? sc - 0.5 : sc + 0.5);
            bg[r] = gv;
            gv = gv < 0 ? -gv : gv;
            gmax = gv > gmax ? gv : gmax;
        }
        *overflow |= ovf;
        gmax = gr->hc.hval > gmax ? gr->hc.hval : gmax;
    } else {
#pragma omp parallel for schedule(static) reduction(max : gmax) if (n_tr >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = 0; r < n_tr; r++) {
            int64_t i = base->row[r], gv = fs->gall[i * ng + k], hv = fs->hall[i * ng + k];
            base->g[r] = gv;
            base->h[r] = hv;
            gv = gv < 0 ? -gv : gv;
            gmax = gv > gmax ? gv : gmax;
            gmax = hv > gmax ? hv : gmax;
        }
    }
    if (cfg->subsample < 1.0) {
#pragma omp parallel for schedule(static) if (n_tr >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = 0; r < n_tr; r++)
            gr->flag[r] = tribe_rng_unif(cfg->seed, TRIBE_STREAM_GBDT_BAG,
                                         tribe_hash2((uint64_t)(offset + base->row[r]), (uint64_t)t)) < cfg->subsample;
    }
    return gmax;
}

/* Not collective. Adds tree (output k) to the scores of the n local rows.
 * Bagged rows: their leaf (node) is known from the partition and noted per
 * row; the others (validation, out of bag) walk the tree on their codes.
 * Then one pass over the rows in order updates the scores and clears the
 * notes (-1). */
static void apply_tree(const grower *gr, const tribe_gbdt_tree *tree, fit_state *fs, int64_t n, int d, int ng,
                       int k)
{
    int32_t *leafof = fs->leafof;
    for (int q = 0; q < gr->n_leaves; q++) {
        const leaf_t *L = &gr->leaves[q];
        const int64_t *lrow = gr->rb[L->side].row;
        int32_t node = L->node;
#pragma omp parallel for schedule(static) if (L->end - L->begin >= TRIBE_OMP_MIN_WORK)
        for (int64_t r = L->begin; r < L->end; r++)
            leafof[lrow[r]] = node;
    }
#pragma omp parallel for schedule(static) if (n >= 16384)
    for (int64_t i = 0; i < n; i++) {
        int32_t node = leafof[i];
        leafof[i] = -1;
        if (node < 0)
            node = gbdt_leaf_of_codes(tree, fs->codes + i * d);
        fs->score[i * ng + k] += tree->nodes[node].value;
    }
}

/* Not collective. Exact sums of the per-row losses over training (ls[0])
 * and validation (ls[1]) rows; per-thread integer partial sums, so any
 * order gives the same. Returns 1 when a loss is not finite or above 1e15. */
static int round_losses(const tribe_gbdt_cfg *cfg, int ng, int64_t n, const double *score, const double *y,
                        const uint8_t *valid, tribe_xsum ls[2])
{
    int nonfinite = 0;
    ls[0] = ls[1] = 0;
#pragma omp parallel if (n >= TRIBE_OMP_MIN_WORK)
    {
        tribe_xsum lt[2] = {0, 0};
        int bad = 0;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
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
    TRIBE_TRY(tribe_par_agree(par, fit_alloc(cfg, bins, n, d, valid, ng, cnt[1] > 0, &m, &fs, &gr)));
    tribe_gbdt_bin_codes(bins, xm->x, n, fs.codes);
    for (int64_t i = 0; i < n; i++)
        fs.leafof[i] = -1;
    /* the base buffer: every training row, in local order */
    {
        int64_t q = 0;
        for (int64_t i = 0; i < n; i++) {
            if (valid && valid[i])
                continue;
            memcpy(gr.rb[2].codes + q * d, fs.codes + i * d, (size_t)d);
            gr.rb[2].row[q++] = i;
        }
    }
    gr.par = par;
    gr.n_train = cnt[0];
    gr.cfg = cfg;
    gr.bins = bins;
    gr.hc.ref = ref128;

    TRIBE_TRY(fit_base_score(par, cfg, y, valid, n, cnt[0], m));
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < ng; k++)
            fs.score[i * ng + k] = m->base_score[k];

    double best_loss = INFINITY;
    int best_round = -1, ml = cfg->max_leaves;
    int round;
    tribe_progress_begin("training", "tree", (int64_t)cfg->n_rounds * ng);
    for (round = 0; round < cfg->n_rounds; round++) {
        /* gradients of every output from the scores at the start of the round */
        int overflow = cfg->objective != TRIBE_GBDT_SQUARED && all_gradients(cfg, ng, n, fs.score, y, fs.gall, fs.hall);
        if (overflow)
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: gradients overflowed in round %d (targets too large for the objective?)", round);
        TRIBE_TRY(tribe_par_agree(par, st));

        for (int k = 0; k < ng; k++) {
            int t = round * ng + k;
            int64_t gmax = group_gradients(&gr, &fs, ng, k, t, offset, y, &overflow);
            if (overflow)
                st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: gradients overflowed in round %d (targets too large for the objective?)", round);
            TRIBE_TRY(tribe_par_agree(par, st));
            gr.hc.gmax = (uint64_t)gmax;
            TRIBE_TRY(tribe_par_max_i64(par, &gmax, 1));
            gr.gmax_global = (uint64_t)gmax;
            /* the bag: all training rows, or the sampled ones moved to buffer 0 */
            int root_side = 2;
            int64_t mrows = fs.n_tr;
            if (cfg->subsample < 1.0) {
                mrows = split_rows(&gr, 2, 0, 0, fs.n_tr, -1, 0, 0);
                root_side = 0;
            }
            tribe_gbdt_tree *tree = &m->trees[t];
            tree->group = k;
            TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&tree->nodes, (size_t)2 * ml - 1, sizeof *tree->nodes)));
            m->n_trees = t + 1;
            TRIBE_TRY(grow_tree(&gr, root_side, mrows, tree));
            apply_tree(&gr, tree, &fs, n, d, ng, k);
            tribe_progress_step(m->n_trees);
        }

        /* losses: exact sums of per-row losses over training / validation rows */
        tribe_xsum ls[2];
        if (round_losses(cfg, ng, n, fs.score, y, valid, ls))
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt: the loss diverged in round %d", round);
        TRIBE_TRY(tribe_par_agree(par, st));
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

