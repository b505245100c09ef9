/* Exact path-dependent TreeSHAP (Lundberg, Erion, Lee 2018, "Consistent
 * individualized feature attribution for tree ensembles", Algorithm 2).
 *
 * For one tree and one row, the recursion carries the path of unique features
 * met so far with, for each, the fraction of zero paths (cover share of the
 * branch taken: the feature is "missing" and both branches are averaged by
 * training cover) and of one paths (1 if the row follows the branch, else 0),
 * and the permutation weights of every subset size. At a leaf, each feature
 * on the path receives its unwound weight times (one - zero) times the leaf
 * value. A feature split on twice is first unwound from the path and its
 * fractions multiplied into the new ones. Cost O(leaves * depth^2) per row. */
#include "gbdt_internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int feature;
    double zero, one, w;
} path_el;

/* inv[k] = 1 / k: the recursion's divisions by small integers become
 * multiplications. The one fractions are always 0 or 1 here (products of
 * indicators), so the divisions by `one` disappear too. */
static void extend(path_el *p, int ud, double zero, double one, int feature, const double *inv)
{
    p[ud].feature = feature;
    p[ud].zero = zero;
    p[ud].one = one;
    p[ud].w = ud == 0 ? 1.0 : 0.0;
    double r = inv[ud + 1];
    for (int i = ud - 1; i >= 0; i--) {
        p[i + 1].w += one * p[i].w * (double)(i + 1) * r;
        p[i].w = zero * p[i].w * (double)(ud - i) * r;
    }
}

static void unwind(path_el *p, int ud, int pi, const double *inv)
{
    double one = p[pi].one, zero = p[pi].zero, next = p[ud].w, r = inv[ud + 1];
    if (one != 0) {
        for (int i = ud - 1; i >= 0; i--) {
            double tmp = p[i].w;
            p[i].w = next * (double)(ud + 1) * inv[i + 1];
            next = tmp - p[i].w * zero * (double)(ud - i) * r;
        }
    } else {
        double iz = (double)(ud + 1) / zero;
        for (int i = ud - 1; i >= 0; i--)
            p[i].w = p[i].w * iz * inv[ud - i];
    }
    for (int i = pi; i < ud; i++) {
        p[i].feature = p[i + 1].feature;
        p[i].zero = p[i + 1].zero;
        p[i].one = p[i + 1].one;
    }
}

/* Sum of the weights the path would have with element pi unwound. */
static double unwound_sum(const path_el *p, int ud, int pi, const double *inv)
{
    double one = p[pi].one, zero = p[pi].zero, next = p[ud].w, total = 0, r = inv[ud + 1];
    if (one != 0) {
        double zr = zero * r;
        for (int i = ud - 1; i >= 0; i--) {
            double tmp = next * (double)(ud + 1) * inv[i + 1];
            total += tmp;
            next = p[i].w - tmp * zr * (double)(ud - i);
        }
    } else {
        double iz = (double)(ud + 1) / zero;
        for (int i = ud - 1; i >= 0; i--)
            total += p[i].w * inv[ud - i];
        total *= iz;
    }
    return total;
}

/* `parent` holds ud + 1 elements; this call's path is written after them. */
static void recurse(const tribe_gbdt_tree *t, const float *xr, double *phi, int node, int ud,
                    path_el *parent, double pzero, double pone, int pfeature, const double *inv)
{
    path_el *p = parent + ud + 1;
    memcpy(p, parent, (size_t)(ud + 1) * sizeof *p);
    extend(p, ud, pzero, pone, pfeature, inv);
    const tribe_gbdt_node *nd = &t->nodes[node];
    if (nd->feature < 0) {
        for (int i = 1; i <= ud; i++) {
            double w = unwound_sum(p, ud, i, inv);
            phi[p[i].feature] += w * (p[i].one - p[i].zero) * nd->value;
        }
        return;
    }
    float v = xr[nd->feature];
    int go_left = isnan(v) ? nd->default_left : v <= nd->threshold;
    int hot = go_left ? nd->left : nd->right, cold = go_left ? nd->right : nd->left;
    double ic = 1.0 / nd->cover;
    double hz = t->nodes[hot].cover * ic, cz = t->nodes[cold].cover * ic;
    double izero = 1, ione = 1;
    int k;
    for (k = 0; k <= ud; k++)
        if (p[k].feature == nd->feature)
            break;
    if (k <= ud) {
        izero = p[k].zero;
        ione = p[k].one;
        unwind(p, ud, k, inv);
        ud--;
    }
    recurse(t, xr, phi, hot, ud + 1, p, hz * izero, ione, nd->feature, inv);
    recurse(t, xr, phi, cold, ud + 1, p, cz * izero, 0, nd->feature, inv);
}

static double tree_expected(const tribe_gbdt_tree *t, int node)
{
    const tribe_gbdt_node *nd = &t->nodes[node];
    if (nd->feature < 0)
        return nd->value;
    return (t->nodes[nd->left].cover * tree_expected(t, nd->left) +
            t->nodes[nd->right].cover * tree_expected(t, nd->right)) / nd->cover;
}

static int tree_depth(const tribe_gbdt_tree *t, int node)
{
    const tribe_gbdt_node *nd = &t->nodes[node];
    if (nd->feature < 0)
        return 0;
    int a = tree_depth(t, nd->left), b = tree_depth(t, nd->right);
    return 1 + (a > b ? a : b);
}

void tribe_gbdt_expected_value(const tribe_gbdt_model *m, double *ev)
{
    for (int k = 0; k < m->n_groups; k++)
        ev[k] = m->base_score[k];
    for (int t = 0; t < m->n_trees; t++)
        ev[m->trees[t].group] += tree_expected(&m->trees[t], 0);
}

tribe_status tribe_gbdt_shap(const tribe_gbdt_model *m, const float *x, int64_t n, double *phi)
{
    tribe_status st = TRIBE_OK;
    int d = m->n_features, ng = m->n_groups, depth = 0, nth = 1;
    double *ev = NULL, *inv = NULL;
    path_el *paths = NULL;
    for (int t = 0; t < m->n_trees; t++) {
        int dt = tree_depth(&m->trees[t], 0);
        depth = dt > depth ? dt : depth;
    }
    /* each recursion level copies the path: (depth + 2)(depth + 3) / 2 elements */
    size_t plen = (size_t)(depth + 2) * (depth + 3) / 2;
#ifdef _OPENMP
    nth = omp_get_max_threads();
#endif
    TRIBE_TRY(tribe_calloc((void **)&ev, (size_t)ng, sizeof *ev));
    TRIBE_TRY(tribe_calloc((void **)&paths, plen * (size_t)nth, sizeof *paths));
    TRIBE_TRY(tribe_calloc((void **)&inv, (size_t)depth + 4, sizeof *inv));
    for (int k = 1; k < depth + 4; k++)
        inv[k] = 1.0 / k;
    tribe_gbdt_expected_value(m, ev);
    /* Rows in blocks, for the progress lines between them: every row's values
     * are its own, whichever block or thread computes them. */
    int64_t blk = n / 64 > 256 ? n / 64 : 256; /* about 64 blocks */
    tribe_progress_begin("TreeSHAP", "rows of rank 0", n);
    for (int64_t b0 = 0; b0 < n; b0 += blk) {
        int64_t b1 = n - b0 > blk ? b0 + blk : n;
#pragma omp parallel num_threads(nth) if (n * m->n_trees >= 4096)
        {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            path_el *buf = paths + plen * (size_t)tid;
#pragma omp for schedule(static)
            for (int64_t i = b0; i < b1; i++) {
                double *pr = phi + (size_t)i * ng * (d + 1);
                memset(pr, 0, (size_t)ng * (d + 1) * sizeof *pr);
                for (int k = 0; k < ng; k++)
                    pr[k * (d + 1) + d] = ev[k];
                for (int t = 0; t < m->n_trees; t++) {
                    const tribe_gbdt_tree *tr = &m->trees[t];
                    recurse(tr, x + i * d, pr + tr->group * (d + 1), 0, 0, buf, 1, 1, -1, inv);
                }
            }
        }
        tribe_progress_step(b1);
    }
    tribe_progress_end();
cleanup:
    free(ev);
    free(inv);
    free(paths);
    return st;
}

tribe_status tribe_gbdt_shap_mean_abs(tribe_par *par, const double *phi, int64_t n, int n_groups,
                                      int d, const int32_t *seg, int n_seg, double *out,
                                      int64_t *count)
{
    tribe_status st = TRIBE_OK;
    size_t len = (size_t)n_seg * n_groups * d;
    tribe_xsum *s = NULL;
    int64_t *c = NULL;
    st = tribe_calloc((void **)&s, len + 1, sizeof *s);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&c, (size_t)n_seg + 1, sizeof *c);
    for (int64_t i = 0; st == TRIBE_OK && i < n; i++) {
        if (seg[i] < 0)
            continue;
        if (seg[i] >= n_seg) {
            st = tribe_fail(TRIBE_ERR_INPUT, "gbdt shap: local row %lld has segment %d, but there are %d segments",
                            (long long)i, (int)seg[i], n_seg);
            break;
        }
        c[seg[i]]++;
        for (int k = 0; k < n_groups; k++)
            for (int f = 0; f < d; f++)
                s[((size_t)seg[i] * n_groups + k) * d + f] += tribe_xsum_of(fabs(phi[((size_t)i * n_groups + k) * (d + 1) + f]));
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_xsum(par, s, (int64_t)len));
    TRIBE_TRY(tribe_par_sum_i64(par, c, n_seg));
    for (int q = 0; q < n_seg; q++) {
        for (size_t j = 0; j < (size_t)n_groups * d; j++)
            out[(size_t)q * n_groups * d + j] = c[q] ? tribe_xsum_value(s[(size_t)q * n_groups * d + j]) / (double)c[q] : 0.0;
        if (count)
            count[q] = c[q];
    }
cleanup:
    free(s);
    free(c);
    return st;
}

void tribe_gbdt_importance_gain(const tribe_gbdt_model *m, double *gain)
{
    int d = m->n_features;
    memset(gain, 0, (size_t)m->n_groups * d * sizeof *gain);
    for (int t = 0; t < m->n_trees; t++) {
        const tribe_gbdt_tree *tr = &m->trees[t];
        for (int k = 0; k < tr->n_nodes; k++)
            if (tr->nodes[k].feature >= 0)
                gain[(size_t)tr->group * d + tr->nodes[k].feature] += tr->nodes[k].gain;
    }
}

int tribe_gbdt_top_contrib(const double *phi, int d, int k, int *idx, double *val)
{
    if (k > d)
        k = d;
    /* selection: k passes, each taking the largest |phi| not taken yet */
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int f = 0; f < d; f++) {
            int taken = 0;
            for (int q = 0; q < j && !taken; q++)
                taken = idx[q] == f;
            if (!taken && (best < 0 || fabs(phi[f]) > fabs(phi[best])))
                best = f;
        }
        idx[j] = best;
        val[j] = phi[best];
    }
    return k < 0 ? 0 : k;
}

/* ---- per-row TreeSHAP from tables ------------------------------------------
 *
 * The recursion's work at a leaf depends on the row only through the
 * decisions along the leaf's path (at each node: does the row go the path's
 * way?). For every leaf and every pattern of those decisions the table holds
 * the contributions the recursion would add, computed by replaying the
 * recursion's own extend/unwind steps down that path, so a row costs a walk of
 * the tree in the recursion's order (hot child first) and a few additions per
 * leaf, with the same floating-point operations in the same order: the result
 * is bit-identical to tribe_gbdt_shap. Trees deeper than SHAP_TABLE_DEPTH keep
 * the recursion. */

#define SHAP_TABLE_DEPTH 10
/* Entries (12 bytes each) a model's tables may hold in all: about 48 MiB.
 * Trees past it keep the recursion. */
#define SHAP_TABLE_MAX_ENTRIES ((int64_t)4 << 20)

typedef struct {
    int depth;            /* leaves' path lengths <= depth: the tree has tables */
    int64_t *leaf_base;   /* [n_nodes]: first entry of the leaf's table, -1 for internal nodes */
    int *leaf_m;          /* [n_nodes]: entries per pattern at the leaf */
    int32_t *feat;        /* entries: feature, contribution */
    double *val;
} tree_table;

struct tribe_gbdt_shap_table {
    const tribe_gbdt_model *m;
    double *ev;           /* [n_groups] */
    double inv[SHAP_TABLE_DEPTH + 8];
    tree_table *t;        /* [n_trees] */
    int max_depth;        /* of the trees without tables (their recursion's scratch) */
};

/* The contributions at leaf `leaf` (path[0..len) the nodes above it, root
 * first) for decision pattern `bits` (bit k: the row goes the path's way at
 * path[k]), in the recursion's order. */
static int replay(const tribe_gbdt_tree *t, const int *path, int len, int leaf, unsigned bits, path_el *buf,
                  const double *inv, int32_t *feat, double *val)
{
    int ud = 0;
    path_el *parent = buf;
    double pzero = 1, pone = 1;
    int pfeature = -1;
    for (int k = 0;; k++) {
        path_el *p = parent + ud + 1;
        memcpy(p, parent, (size_t)(ud + 1) * sizeof *p);
        extend(p, ud, pzero, pone, pfeature, inv);
        if (k == len) {
            const tribe_gbdt_node *lf = &t->nodes[leaf];
            for (int i = 1; i <= ud; i++) {
                double w = unwound_sum(p, ud, i, inv);
                feat[i - 1] = p[i].feature;
                val[i - 1] = w * (p[i].one - p[i].zero) * lf->value;
            }
            return ud;
        }
        const tribe_gbdt_node *nd = &t->nodes[path[k]];
        int child = k + 1 < len ? path[k + 1] : leaf, hot_way = (int)((bits >> k) & 1u);
        double izero = 1, ione = 1;
        int j;
        for (j = 0; j <= ud; j++)
            if (p[j].feature == nd->feature)
                break;
        if (j <= ud) {
            izero = p[j].zero;
            ione = p[j].one;
            unwind(p, ud, j, inv);
            ud--;
        }
        double ic = 1.0 / nd->cover;
        pzero = t->nodes[child].cover * ic * izero;
        pone = hot_way ? ione : 0;
        pfeature = nd->feature;
        parent = p;
        ud++;
    }
}

/* Depth-first over the tree: every leaf's path (nodes above it). */
static tribe_status tree_tables(const tribe_gbdt_tree *t, const double *inv, int64_t *budget, tree_table *tt)
{
    tribe_status st = TRIBE_OK;
    int path[SHAP_TABLE_DEPTH + 1], stack_node[64], stack_depth[64], sp = 0;
    int64_t total = 0;
    path_el *buf = NULL;
    size_t plen = (size_t)(SHAP_TABLE_DEPTH + 2) * (SHAP_TABLE_DEPTH + 3) / 2;
    TRIBE_TRY(tribe_alloc((void **)&tt->leaf_base, (size_t)t->n_nodes * sizeof *tt->leaf_base));
    TRIBE_TRY(tribe_calloc((void **)&tt->leaf_m, (size_t)t->n_nodes, sizeof *tt->leaf_m));
    TRIBE_TRY(tribe_calloc((void **)&buf, plen, sizeof *buf));
    for (int pass = 0; pass < 2; pass++) { /* sizes, then the entries */
        sp = 0;
        total = 0;
        stack_node[sp] = 0;
        stack_depth[sp++] = 0;
        while (sp > 0) {
            int node = stack_node[--sp], dep = stack_depth[sp];
            const tribe_gbdt_node *nd = &t->nodes[node];
            if (nd->feature >= 0) {
                path[dep] = node;
                stack_node[sp] = nd->right;
                stack_depth[sp++] = dep + 1;
                stack_node[sp] = nd->left;
                stack_depth[sp++] = dep + 1;
                continue;
            }
            tt->leaf_base[node] = total;
            int32_t f[SHAP_TABLE_DEPTH + 1];
            double v[SHAP_TABLE_DEPTH + 1];
            /* the path of this leaf: the internal nodes on the stack walk so far */
            int len = dep, m = 0;
            for (unsigned b = 0; b < (1u << len); b++) {
                m = replay(t, path, len, node, b, buf, inv, pass ? tt->feat + total + (int64_t)b * tt->leaf_m[node] : f,
                           pass ? tt->val + total + (int64_t)b * tt->leaf_m[node] : v);
                if (!pass)
                    tt->leaf_m[node] = m;
            }
            total += ((int64_t)1 << len) * tt->leaf_m[node];
        }
        if (!pass && total > *budget) { /* over the model's budget: this tree keeps the recursion */
            free(tt->leaf_base);
            free(tt->leaf_m);
            tt->leaf_base = NULL;
            tt->leaf_m = NULL;
            goto cleanup;
        }
        if (!pass) {
            *budget -= total;
            TRIBE_TRY(tribe_alloc((void **)&tt->feat, (size_t)(total + 1) * sizeof *tt->feat));
            TRIBE_TRY(tribe_alloc((void **)&tt->val, (size_t)(total + 1) * sizeof *tt->val));
        }
    }
cleanup:
    free(buf);
    return st;
}

tribe_status tribe_gbdt_shap_table_build(const tribe_gbdt_model *m, tribe_gbdt_shap_table **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_shap_table *tb = NULL;
    TRIBE_TRY(tribe_calloc((void **)&tb, 1, sizeof *tb));
    tb->m = m;
    TRIBE_TRY(tribe_calloc((void **)&tb->ev, (size_t)m->n_groups + 1, sizeof *tb->ev));
    TRIBE_TRY(tribe_calloc((void **)&tb->t, (size_t)m->n_trees + 1, sizeof *tb->t));
    for (int k = 1; k < SHAP_TABLE_DEPTH + 8; k++)
        tb->inv[k] = 1.0 / k;
    tribe_gbdt_expected_value(m, tb->ev);
    int64_t budget = SHAP_TABLE_MAX_ENTRIES;
    for (int t = 0; t < m->n_trees; t++) {
        int dt = tree_depth(&m->trees[t], 0);
        tb->t[t].depth = dt;
        if (dt <= SHAP_TABLE_DEPTH)
            TRIBE_TRY(tree_tables(&m->trees[t], tb->inv, &budget, &tb->t[t]));
        if (!tb->t[t].leaf_base)
            tb->max_depth = dt > tb->max_depth ? dt : tb->max_depth;
    }
    *out = tb;
    tb = NULL;
cleanup:
    tribe_gbdt_shap_table_destroy(&tb);
    return st;
}

void tribe_gbdt_shap_table_destroy(tribe_gbdt_shap_table **tp)
{
    if (!tp || !*tp)
        return;
    tribe_gbdt_shap_table *tb = *tp;
    for (int t = 0; tb->t && t < tb->m->n_trees; t++) {
        free(tb->t[t].leaf_base);
        free(tb->t[t].leaf_m);
        free(tb->t[t].feat);
        free(tb->t[t].val);
    }
    free(tb->t);
    free(tb->ev);
    free(tb);
    *tp = NULL;
}

/* One tree's contributions for row xr from its tables, leaves in the
 * recursion's order (hot child first). */
static void tree_row(const tribe_gbdt_tree *t, const tree_table *tt, const float *xr, double *phi)
{
    int stack_node[64], sp = 0;
    unsigned stack_bits[64];
    int stack_dep[64];
    stack_node[sp] = 0;
    stack_bits[sp] = 0;
    stack_dep[sp++] = 0;
    while (sp > 0) {
        int node = stack_node[--sp], dep = stack_dep[sp];
        unsigned bits = stack_bits[sp];
        const tribe_gbdt_node *nd = &t->nodes[node];
        if (nd->feature < 0) {
            int m = tt->leaf_m[node];
            const int32_t *f = tt->feat + tt->leaf_base[node] + (int64_t)bits * m;
            const double *v = tt->val + tt->leaf_base[node] + (int64_t)bits * m;
            for (int i = 0; i < m; i++)
                phi[f[i]] += v[i];
            continue;
        }
        float x = xr[nd->feature];
        int go_left = isnan(x) ? nd->default_left : x <= nd->threshold;
        int hot = go_left ? nd->left : nd->right, cold = go_left ? nd->right : nd->left;
        /* cold pushed first: hot is visited first, as the recursion does; the
         * path's way at this node is "hot" for the hot child only */
        stack_node[sp] = cold;
        stack_bits[sp] = bits;
        stack_dep[sp++] = dep + 1;
        stack_node[sp] = hot;
        stack_bits[sp] = bits | (1u << dep);
        stack_dep[sp++] = dep + 1;
    }
}

tribe_status tribe_gbdt_shap_row(const tribe_gbdt_shap_table *tb, const float *x, double *phi)
{
    tribe_status st = TRIBE_OK;
    const tribe_gbdt_model *m = tb->m;
    int d = m->n_features;
    path_el *paths = NULL;
    double *inv = NULL;
    memset(phi, 0, (size_t)m->n_groups * (d + 1) * sizeof *phi);
    for (int k = 0; k < m->n_groups; k++)
        phi[k * (d + 1) + d] = tb->ev[k];
    for (int t = 0; t < m->n_trees; t++) {
        const tribe_gbdt_tree *tr = &m->trees[t];
        double *pr = phi + tr->group * (d + 1);
        if (tb->t[t].leaf_base) {
            tree_row(tr, &tb->t[t], x, pr);
            continue;
        }
        if (!paths) { /* a tree too deep for tables: the recursion, as tribe_gbdt_shap runs it */
            size_t plen = (size_t)(tb->max_depth + 2) * (tb->max_depth + 3) / 2;
            TRIBE_TRY(tribe_calloc((void **)&paths, plen, sizeof *paths));
            TRIBE_TRY(tribe_calloc((void **)&inv, (size_t)tb->max_depth + 4, sizeof *inv));
            for (int k = 1; k < tb->max_depth + 4; k++)
                inv[k] = 1.0 / k;
        }
        recurse(tr, x, pr, 0, 0, paths, 1, 1, -1, inv);
    }
cleanup:
    free(paths);
    free(inv);
    return st;
}
