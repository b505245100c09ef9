/* tribe gen --blobs --periods 2: two customers files whose planted segments
 * follow each other by known transitions (tribe/gen.h, docs/gen.md).
 *
 * Roles. Period-1 segments by role r: 0 splits, 1 and 2 merge, 3 disappears
 * (its customers churn), 4.. survive. Period-2 segments by role p: p < S the
 * survivor of period-1 role 4 + p, S and S + 1 the split's two children,
 * S + 2 the merged segment, S + 3 the emerged one (only new customers); so
 * K2 = S + 4 = K1. The "sources" of period 2 are the period-1 customers
 * 0..N-1 followed by the new customers N..N+N/5-1: a period file holds the
 * sources present in it, in source order (ids ascend with the source). The
 * planted numbers written out are the roles renumbered by descending centre
 * monetary (feature 0) within each period. */
#include "tribe/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "tribe/h5.h"
#include "tribe/sbuf.h"
#include "tribe/streams.h"
#include "tribe/table.h"

#define PER_SPREAD 8.0      /* standard deviation of a centre coordinate */
#define PER_MIN_DIST 12.0   /* between any two centres of a period (within-segment sd 0.8..1.2) */
#define PER_SPLIT_HALF 7.0  /* a split child's distance from its parent's centre */
#define PER_DRIFT 1.0       /* a survivor's centre move */
#define PER_MON_GAP 1.0     /* between the monetary coordinates of two centres of a period */
#define PER_ATTEMPTS 20000  /* centre draws tried before giving up */
#define PER_CHURN 0.05      /* chance a customer of a non-disappearing segment leaves */
#define PER_MIGRATE 0.05    /* chance a staying survivor's customer moves to another survivor */
#define PER_SPLIT_SHARE 0.55 /* share of the split's customers going to its first child */
#define PER_NEW_DIV 5       /* new customers = N / PER_NEW_DIV */
#define PER_NEW_EMERGED 0.6 /* share of the new customers founding the emerged segment */

typedef struct {
    int k1, k2, s, d;
    uint64_t seed;
    int64_t n1, n_new;
    double *c1, *c2, *s1, *s2; /* [k][d] by role */
    double cum1[TRIBE_PERIODS_MAX_K];
    int num1[TRIBE_PERIODS_MAX_K], num2[TRIBE_PERIODS_MAX_K]; /* role -> planted number */
} per_model;

static double per_normal(uint64_t seed, uint64_t attempt, uint64_t what, uint64_t idx)
{
    return tribe_rng_normal(seed, TRIBE_STREAM_PERIODS_PARAMS, attempt << 40 | what << 32 | idx);
}

/* Per-dimension standard deviations of segment `idx` of kind `what`: sigma
 * in [0.8, 1.2) times a_j in [0.8, 1.2) renormalised to mean 1. */
static void per_scale(uint64_t seed, uint64_t what, uint64_t idx, int d, double *s)
{
    double sigma = 0.8 + 0.4 * tribe_rng_unif(seed, TRIBE_STREAM_PERIODS_PARAMS, 1ull << 60 | what << 32 | idx);
    double mean = 0;
    for (int j = 0; j < d; j++) {
        uint64_t q = 2ull << 60 | what << 32 | (idx * (uint64_t)d + (uint64_t)j);
        s[j] = 0.8 + 0.4 * tribe_rng_unif(seed, TRIBE_STREAM_PERIODS_PARAMS, q);
        mean += s[j] / d;
    }
    for (int j = 0; j < d; j++)
        s[j] *= sigma / mean;
}

/* A unit direction (kind what, index idx) times len, added to x. */
static void per_step(uint64_t seed, uint64_t t, uint64_t what, uint64_t idx, int d, double len, const double *from,
                     double sign, double *x)
{
    double n2 = 0, v[TRIBE_MAX_FEATURES];
    for (int j = 0; j < d; j++) {
        v[j] = per_normal(seed, t, what, idx * (uint64_t)d + (uint64_t)j);
        n2 += v[j] * v[j];
    }
    double f = n2 > 0 ? sign * len / sqrt(n2) : 0;
    for (int j = 0; j < d; j++)
        x[j] = from[j] + f * v[j];
}

static double per_dist(const double *a, const double *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* 1 when the k centres c[k][d] are PER_MIN_DIST apart and their monetary
 * coordinates PER_MON_GAP apart. */
static int per_separated(const double *c, int k, int d)
{
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++)
            if (per_dist(c + (size_t)a * d, c + (size_t)b * d, d) < PER_MIN_DIST ||
                fabs(c[(size_t)a * d] - c[(size_t)b * d]) < PER_MON_GAP)
                return 0;
    return 1;
}

/* Attempt t's centres of both periods; 1 when they meet the separation
 * rules (each period separated; the emerged centre and every period-2
 * centre PER_MIN_DIST from the disappeared one, the emerged one also from
 * every period-1 centre). */
static int per_try_centres(per_model *m, uint64_t t)
{
    int d = m->d, S = m->s;
    for (int r = 0; r < m->k1; r++)
        for (int j = 0; j < d; j++)
            m->c1[(size_t)r * d + j] = PER_SPREAD * per_normal(m->seed, t, 0, (uint64_t)r * d + j);
    for (int p = 0; p < S; p++)
        per_step(m->seed, t, 2, (uint64_t)p, d, PER_DRIFT, m->c1 + (size_t)(4 + p) * d, 1.0, m->c2 + (size_t)p * d);
    per_step(m->seed, t, 1, 0, d, PER_SPLIT_HALF, m->c1, 1.0, m->c2 + (size_t)S * d);
    per_step(m->seed, t, 1, 0, d, PER_SPLIT_HALF, m->c1, -1.0, m->c2 + (size_t)(S + 1) * d);
    for (int j = 0; j < d; j++) {
        m->c2[(size_t)(S + 2) * d + j] = 0.5 * (m->c1[(size_t)d + j] + m->c1[(size_t)2 * d + j]);
        m->c2[(size_t)(S + 3) * d + j] = PER_SPREAD * per_normal(m->seed, t, 3, (uint64_t)j);
    }
    if (!per_separated(m->c1, m->k1, d) || !per_separated(m->c2, m->k2, d))
        return 0;
    for (int p = 0; p < m->k2; p++)
        if (per_dist(m->c2 + (size_t)p * d, m->c1 + (size_t)3 * d, d) < PER_MIN_DIST)
            return 0;
    for (int r = 0; r < m->k1; r++)
        if (per_dist(m->c2 + (size_t)(S + 3) * d, m->c1 + (size_t)r * d, d) < PER_MIN_DIST)
            return 0;
    return 1;
}

/* num[role] = rank of the role's centre by descending monetary (ties by role). */
static void per_number(const double *c, int k, int d, int *num)
{
    for (int a = 0; a < k; a++) {
        num[a] = 0;
        for (int b = 0; b < k; b++)
            num[a] += c[(size_t)b * d] > c[(size_t)a * d] || (c[(size_t)b * d] == c[(size_t)a * d] && b < a);
    }
}

/* Centres, scales, shares and numbering. USAGE when no draw meets the rules
 * (too few features for the segments). Not collective: every rank computes
 * the same model. */
static tribe_status per_model_init(per_model *m, const tribe_blobs_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    m->k1 = m->k2 = cfg->clusters;
    m->s = cfg->clusters - 4;
    m->d = cfg->features;
    m->seed = cfg->seed;
    m->n1 = cfg->customers;
    m->n_new = cfg->customers / PER_NEW_DIV;
    size_t kd = (size_t)m->k1 * (size_t)m->d;
    TRIBE_TRY(tribe_calloc((void **)&m->c1, kd, sizeof *m->c1));
    TRIBE_TRY(tribe_calloc((void **)&m->c2, kd, sizeof *m->c2));
    TRIBE_TRY(tribe_calloc((void **)&m->s1, kd, sizeof *m->s1));
    TRIBE_TRY(tribe_calloc((void **)&m->s2, kd, sizeof *m->s2));
    uint64_t t = 0;
    while (t < PER_ATTEMPTS && !per_try_centres(m, t))
        t++;
    if (t == PER_ATTEMPTS)
        return tribe_fail(TRIBE_ERR_USAGE,
                          "gen --periods 2: cannot place %d well-separated segments in %d features (seed %llu); "
                          "use more features",
                          m->k1, m->d, (unsigned long long)m->seed);
    int d = m->d, S = m->s;
    for (int r = 0; r < m->k1; r++)
        per_scale(m->seed, 0, (uint64_t)r, d, m->s1 + (size_t)r * d);
    for (int p = 0; p < S; p++)
        memcpy(m->s2 + (size_t)p * d, m->s1 + (size_t)(4 + p) * d, (size_t)d * sizeof *m->s2);
    memcpy(m->s2 + (size_t)S * d, m->s1, (size_t)d * sizeof *m->s2);
    memcpy(m->s2 + (size_t)(S + 1) * d, m->s1, (size_t)d * sizeof *m->s2);
    for (int j = 0; j < d; j++)
        m->s2[(size_t)(S + 2) * d + j] = 0.5 * (m->s1[(size_t)d + j] + m->s1[(size_t)2 * d + j]);
    per_scale(m->seed, 1, 0, d, m->s2 + (size_t)(S + 3) * d);
    /* shares by role: weight k1 + 4 - r (the split the largest) */
    double tot = 0, acc = 0;
    for (int r = 0; r < m->k1; r++)
        tot += m->k1 + 4 - r;
    for (int r = 0; r < m->k1; r++) {
        acc += (m->k1 + 4 - r) / tot;
        m->cum1[r] = acc;
    }
    per_number(m->c1, m->k1, d, m->num1);
    per_number(m->c2, m->k2, d, m->num2);
cleanup:
    return st;
}

static void per_model_free(per_model *m)
{
    free(m->c1);
    free(m->c2);
    free(m->s1);
    free(m->s2);
}

static double per_unif(const per_model *m, int64_t src, int slot)
{
    return tribe_rng_unif(m->seed, TRIBE_STREAM_PERIODS_FATE, (uint64_t)src * 8 + (uint64_t)slot);
}

/* Source src's period-1 role (*r1, -1 = new customer) and period-2 role
 * (*p2, -1 = gone). */
static void per_fate(const per_model *m, int64_t src, int *r1, int *p2)
{
    double u = per_unif(m, src, 0);
    if (src >= m->n1) {
        *r1 = -1;
        int o = (int)((u - PER_NEW_EMERGED) / (1 - PER_NEW_EMERGED) * (m->k2 - 1));
        *p2 = u < PER_NEW_EMERGED ? m->s + 3 : (o < m->k2 - 2 ? o : m->k2 - 2);
        return;
    }
    int r = 0;
    while (r < m->k1 - 1 && u >= m->cum1[r])
        r++;
    *r1 = r;
    if (r == 3 || per_unif(m, src, 1) < PER_CHURN)
        *p2 = -1;
    else if (r == 0)
        *p2 = m->s + (per_unif(m, src, 3) < PER_SPLIT_SHARE ? 0 : 1);
    else if (r <= 2)
        *p2 = m->s + 2;
    else if (per_unif(m, src, 2) < PER_MIGRATE) {
        int o = (int)(per_unif(m, src, 3) * (m->s - 1));
        o = o < m->s - 2 ? o : m->s - 2;
        *p2 = o >= r - 4 ? o + 1 : o;
    } else
        *p2 = r - 4;
}

/* Source src's customer id: 3 src + 1, 2 or 3 (ascending, not contiguous). */
static int64_t per_id(const per_model *m, int64_t src)
{
    int j = (int)(per_unif(m, src, 4) * 3);
    return 3 * src + 1 + (j < 2 ? j : 2);
}

/* One period's rows on this rank: the present sources of its block. */
typedef struct {
    int64_t lo, nsrc, n, offset, n_global;
    int *r1, *p2;    /* [nsrc] roles */
    int64_t *row;    /* [nsrc] local row of a present source, -1 absent */
    int32_t *label;  /* [n] planted number in this period */
    int32_t *other;  /* [n] planted number in the other period (-1 new/gone) */
    int64_t *id;     /* [n] */
} per_rows;

static void per_rows_free(per_rows *w)
{
    free(w->r1);
    free(w->p2);
    free(w->row);
    free(w->label);
    free(w->other);
    free(w->id);
}

/* Collective: fates of this rank's block of the period's sources, which
 * are present, and where the rank's rows go (exclusive scan). */
static tribe_status per_rows_plan(tribe_par *par, const per_model *m, int period, per_rows *w)
{
    tribe_status st = TRIBE_OK;
    int64_t nsrc = period == 1 ? m->n1 : m->n1 + m->n_new, hi = 0;
    tribe_par_block(nsrc, tribe_par_size(par), tribe_par_rank(par), &w->lo, &hi);
    w->nsrc = hi - w->lo;
    st = tribe_calloc((void **)&w->r1, (size_t)w->nsrc + 1, sizeof *w->r1);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&w->p2, (size_t)w->nsrc + 1, sizeof *w->p2);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&w->row, (size_t)w->nsrc + 1, sizeof *w->row);
    TRIBE_TRY(tribe_par_agree(par, st));
#pragma omp parallel for schedule(static) if (w->nsrc >= 4096)
    for (int64_t i = 0; i < w->nsrc; i++)
        per_fate(m, w->lo + i, &w->r1[i], &w->p2[i]);
    w->n = 0;
    for (int64_t i = 0; i < w->nsrc; i++)
        w->row[i] = period == 1 || w->p2[i] >= 0 ? w->n++ : -1;
    TRIBE_TRY(tribe_par_exscan_i64(par, w->n, &w->offset, &w->n_global));
    st = tribe_calloc((void **)&w->label, (size_t)w->n + 1, sizeof *w->label);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&w->other, (size_t)w->n + 1, sizeof *w->other);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&w->id, (size_t)w->n + 1, sizeof *w->id);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    return st;
}

/* Fills t (the rank's rows of the period) and w's truth columns. */
static void per_rows_fill(const per_model *m, int period, per_rows *w, tribe_table *t)
{
    int d = m->d;
#pragma omp parallel for schedule(static) if (w->nsrc >= 4096)
    for (int64_t i = 0; i < w->nsrc; i++) {
        int64_t k = w->row[i], src = w->lo + i;
        if (k < 0)
            continue;
        int r1 = w->r1[i], p2 = w->p2[i];
        w->id[k] = t->id[k] = per_id(m, src);
        if (period == 1) {
            w->label[k] = m->num1[r1];
            w->other[k] = p2 < 0 ? -1 : m->num2[p2];
            gen_gauss_row(m->seed, TRIBE_STREAM_PERIODS_NOISE1, src, m->c1 + (size_t)r1 * d,
                          m->s1 + (size_t)r1 * d, d, t->x + k * d);
        } else {
            w->label[k] = m->num2[p2];
            w->other[k] = r1 < 0 ? -1 : m->num1[r1];
            gen_gauss_row(m->seed, TRIBE_STREAM_PERIODS_NOISE2, src, m->c2 + (size_t)p2 * d,
                          m->s2 + (size_t)p2 * d, d, t->x + k * d);
        }
    }
}

/* c[k][d] by role -> out[k][d] by planted number. */
static void per_by_number(const double *c, const int *num, int k, int d, double *out)
{
    for (int r = 0; r < k; r++)
        memcpy(out + (size_t)num[r] * d, c + (size_t)r * d, (size_t)d * sizeof *out);
}

/* Collective: the period's truth side file (docs/gen.md). */
static tribe_status per_write_truth(tribe_par *par, const per_model *m, int period, const per_rows *w,
                                    const char *path, const char *src)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    double *c = NULL, *s = NULL;
    int k = period == 1 ? m->k1 : m->k2, d = m->d;
    st = tribe_calloc((void **)&c, (size_t)k * d, sizeof *c);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&s, (size_t)k * d, sizeof *s);
    TRIBE_TRY(tribe_par_agree(par, st));
    per_by_number(period == 1 ? m->c1 : m->c2, period == 1 ? m->num1 : m->num2, k, d, c);
    per_by_number(period == 1 ? m->s1 : m->s2, period == 1 ? m->num1 : m->num2, k, d, s);
    st = tribe_h5_create(par, path, &h);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", "tribe-blobs-truth"));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", 1));
    TRIBE_TRY(tribe_h5_attr_str(h, "/truth", "source", src));
    TRIBE_TRY(tribe_h5_write_rows(h, "/truth/id", TRIBE_H5_I64, w->n_global, w->offset, w->n, 1, w->id));
    TRIBE_TRY(tribe_h5_write_rows(h, "/truth/label", TRIBE_H5_I32, w->n_global, w->offset, w->n, 1, w->label));
    TRIBE_TRY(tribe_h5_write_rows(h, period == 1 ? "/truth/next" : "/truth/prev", TRIBE_H5_I32, w->n_global,
                                  w->offset, w->n, 1, w->other));
    TRIBE_TRY(tribe_h5_write_small(h, "/truth/centers", TRIBE_H5_F64, k, d, c));
    TRIBE_TRY(tribe_h5_write_small(h, "/truth/scale", TRIBE_H5_F64, k, d, s));
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(c);
    free(s);
    return st;
}

/* Collective: writes DIR/periodP.h5 and DIR/periodP.truth.h5; for period 2
 * adds this rank's customers to mig[(k1 + 1) x (k2 + 1)] (row k1 = new,
 * column k2 = gone; every source is counted once, in period 2's plan). */
static tribe_status per_write_period(tribe_par *par, const per_model *m, int period, const char *dir,
                                     char **names, int64_t *mig)
{
    tribe_status st = TRIBE_OK;
    per_rows w;
    tribe_table *t = NULL;
    char path[4096], truth[4096], src[512];
    memset(&w, 0, sizeof w);
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/period%d.h5", dir, period));
    TRIBE_TRY(tribe_fmt(truth, sizeof truth, "%s/period%d.truth.h5", dir, period));
    TRIBE_TRY(per_rows_plan(par, m, period, &w));
    st = tribe_table_create(w.n, m->d, (const char *const *)names, &t);
    TRIBE_TRY(tribe_par_agree(par, st));
    t->n_global = w.n_global;
    t->offset = w.offset;
    per_rows_fill(m, period, &w, t);
    for (int64_t i = 0; period == 2 && i < w.nsrc; i++) {
        int row = w.r1[i] < 0 ? m->k1 : m->num1[w.r1[i]], col = w.p2[i] < 0 ? m->k2 : m->num2[w.p2[i]];
        mig[(size_t)row * (m->k2 + 1) + col]++;
    }
    TRIBE_TRY(tribe_fmt(src, sizeof src,
                        "{\"generator\": \"blobs-periods\", \"period\": %d, \"customers\": %lld, \"features\": %d, "
                        "\"clusters\": %d, \"seed\": %llu}",
                        period, (long long)m->n1, m->d, m->k1, (unsigned long long)m->seed));
    TRIBE_TRY(tribe_store_write_customers(par, path, t, NULL, src));
    TRIBE_TRY(per_write_truth(par, m, period, &w, truth, src));
cleanup:
    per_rows_free(&w);
    tribe_table_destroy(&t);
    return st;
}

/* Appends a JSON array of ints. */
static tribe_status per_json_ints(tribe_sbuf *b, const int *v, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "["));
    for (int i = 0; i < n; i++)
        TRIBE_TRY(tribe_sbuf_printf(b, "%s%d", i ? ", " : "", v[i]));
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

/* v[n], n <= 2, ascending into out. */
static void per_sorted(const int *v, int n, int *out)
{
    for (int i = 0; i < n; i++)
        out[i] = v[i];
    if (n == 2 && out[1] < out[0]) {
        out[0] = v[1];
        out[1] = v[0];
    }
}

/* One transition object (n = 0: that side absent), each side ascending. */
static tribe_status per_json_transition(tribe_sbuf *b, const char *type, const int *from, int nf, const int *to,
                                        int nt)
{
    tribe_status st = TRIBE_OK;
    int f[2] = {0, 0}, t2[2] = {0, 0};
    per_sorted(from, nf, f);
    per_sorted(to, nt, t2);
    TRIBE_TRY(tribe_sbuf_printf(b, "    {\"type\": \"%s\"", type));
    if (nf) {
        TRIBE_TRY(tribe_sbuf_add(b, ", \"from\": "));
        TRIBE_TRY(per_json_ints(b, f, nf));
    }
    if (nt) {
        TRIBE_TRY(tribe_sbuf_add(b, ", \"to\": "));
        TRIBE_TRY(per_json_ints(b, t2, nt));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

/* The transitions in planted numbers: survivors by period-1 number, then
 * the split, the merge, the disappearance and the emergence. */
static tribe_status per_json_transitions(tribe_sbuf *b, const per_model *m)
{
    tribe_status st = TRIBE_OK;
    int S = m->s;
    TRIBE_TRY(tribe_sbuf_add(b, "  \"transitions\": [\n"));
    for (int a = 0; a < m->k1; a++)
        for (int p = 0; p < S; p++)
            if (m->num1[4 + p] == a) {
                TRIBE_TRY(per_json_transition(b, "survived", &m->num1[4 + p], 1, &m->num2[p], 1));
                TRIBE_TRY(tribe_sbuf_add(b, ",\n"));
            }
    TRIBE_TRY(per_json_transition(b, "split", &m->num1[0], 1, &m->num2[S], 2));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n"));
    TRIBE_TRY(per_json_transition(b, "merged", &m->num1[1], 2, &m->num2[S + 2], 1));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n"));
    TRIBE_TRY(per_json_transition(b, "disappeared", &m->num1[3], 1, NULL, 0));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n"));
    TRIBE_TRY(per_json_transition(b, "emerged", NULL, 0, &m->num2[S + 3], 1));
    TRIBE_TRY(tribe_sbuf_add(b, "\n  ],\n"));
cleanup:
    return st;
}

/* Rank 0: DIR/truth.json from the model and the reduced migration matrix. */
static tribe_status per_write_json(const per_model *m, const int64_t *mig, const char *dir)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    char path[4096];
    int K1 = m->k1, K2 = m->k2, W = K2 + 1;
    int64_t n[2] = {0, 0}, size1[TRIBE_PERIODS_MAX_K] = {0}, size2[TRIBE_PERIODS_MAX_K] = {0}, gone = 0, moved = 0;
    for (int a = 0; a <= K1; a++)
        for (int c = 0; c <= K2; c++) {
            int64_t v = mig[(size_t)a * W + c];
            if (a < K1) size1[a] += v, n[0] += v;
            if (c < K2) size2[c] += v, n[1] += v;
            if (c == K2) gone += v;
        }
    for (int p = 0; p < m->s; p++)
        for (int q = 0; q < m->s; q++)
            moved += p != q ? mig[(size_t)m->num1[4 + p] * W + m->num2[q]] : 0;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/truth.json", dir));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                                "{\n  \"generator\": \"blobs-periods\",\n  \"format_version\": 1,\n"
                                "  \"seed\": %llu,\n  \"features\": %d,\n  \"k\": [%d, %d],\n"
                                "  \"customers\": [%lld, %lld],\n  \"new_customers\": %lld,\n"
                                "  \"churned\": %lld,\n  \"migrated\": %lld,\n",
                                (unsigned long long)m->seed, m->d, K1, K2, (long long)n[0], (long long)n[1],
                                (long long)m->n_new, (long long)gone, (long long)moved));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                                "  \"rates\": {\"churn\": %g, \"migration\": %g, \"new\": %g, \"new_to_emerged\": %g, "
                                "\"split_first_child\": %g},\n",
                                PER_CHURN, PER_MIGRATE, 1.0 / PER_NEW_DIV, PER_NEW_EMERGED, PER_SPLIT_SHARE));
    for (int p = 0; p < 2; p++) {
        TRIBE_TRY(tribe_sbuf_printf(&b,
                                    "%s\n    {\"period\": %d, \"file\": \"period%d.h5\", \"truth\": "
                                    "\"period%d.truth.h5\", \"k\": %d, \"customers\": %lld, \"sizes\": [",
                                    p ? "," : "  \"periods\": [", p + 1, p + 1, p + 1, p ? K2 : K1, (long long)n[p]));
        for (int a = 0; a < (p ? K2 : K1); a++)
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s%lld", a ? ", " : "", (long long)(p ? size2[a] : size1[a])));
        TRIBE_TRY(tribe_sbuf_add(&b, "]}"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "\n  ],\n"));
    TRIBE_TRY(per_json_transitions(&b, m));
    TRIBE_TRY(tribe_sbuf_add(&b, "  \"migration\": [\n"));
    for (int a = 0; a <= K1; a++) {
        if (a < K1)
            TRIBE_TRY(tribe_sbuf_printf(&b, "    {\"from\": %d, \"to\": [", a));
        else
            TRIBE_TRY(tribe_sbuf_add(&b, "    {\"from\": \"new\", \"to\": ["));
        for (int c = 0; c < K2; c++)
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s%lld", c ? ", " : "", (long long)mig[(size_t)a * W + c]));
        TRIBE_TRY(tribe_sbuf_printf(&b, "], \"gone\": %lld}%s\n", (long long)mig[(size_t)a * W + K2],
                                    a < K1 ? "," : ""));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "  ]\n}\n"));
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

tribe_status tribe_gen_periods(tribe_par *par, const tribe_blobs_cfg *cfg, const char *dir)
{
    tribe_status st = TRIBE_OK;
    per_model m;
    char **names = NULL;
    int64_t *mig = NULL;
    int d = cfg->features;
    memset(&m, 0, sizeof m);
    if (cfg->customers < 1 || d < 2 || d > TRIBE_MAX_FEATURES || cfg->clusters < 6 ||
        cfg->clusters > TRIBE_PERIODS_MAX_K)
        st = tribe_fail(TRIBE_ERR_USAGE,
                        "gen --blobs --periods 2: need customers >= 1, 2 <= features <= %d and 6 <= clusters <= %d "
                        "(got %lld, %d, %d)",
                        TRIBE_MAX_FEATURES, TRIBE_PERIODS_MAX_K, (long long)cfg->customers, d, cfg->clusters);
    if (st == TRIBE_OK)
        st = per_model_init(&m, cfg);
    if (st == TRIBE_OK && tribe_par_rank(par) == 0)
        st = tribe_mkdirs(dir);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&mig, (size_t)(m.k1 + 1) * (size_t)(m.k2 + 1), sizeof *mig);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&names, (size_t)d, sizeof *names);
    for (int j = 0; st == TRIBE_OK && j < d; j++) {
        st = tribe_alloc((void **)&names[j], 16);
        if (st == TRIBE_OK && j == 0)
            snprintf(names[j], 16, "monetary");
        else if (st == TRIBE_OK)
            snprintf(names[j], 16, "f%02d", j + 1);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(per_write_period(par, &m, 1, dir, names, mig));
    TRIBE_TRY(per_write_period(par, &m, 2, dir, names, mig));
    TRIBE_TRY(tribe_par_sum_i64(par, mig, (int64_t)(m.k1 + 1) * (m.k2 + 1)));
    if (tribe_par_rank(par) == 0)
        st = per_write_json(&m, mig, dir);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    for (int j = 0; names && j < d; j++)
        free(names[j]);
    free(names);
    free(mig);
    per_model_free(&m);
    return st;
}
