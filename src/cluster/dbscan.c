/* DBSCAN on a sample, every customer labelled by its nearest core point
 * (tribe/dbscan.h; docs/clustering.md, "Outliers").
 *
 * Every neighbour search here is exact and brute force in its candidates,
 * pruned by one sort: points sorted by their projection on the sample's
 * first principal axis v (unit length), a scan outward from a point stops
 * once the projections alone put every further point beyond the radius
 * sought: |<x - y, v>| <= |x - y| (Cauchy-Schwarz), with an allowance for
 * rounding far above it (past()). The axis only decides how much is scanned,
 * never the answer: results are those of a scan over every point. Measured
 * on the demo's 7 standardised columns, the first principal axis leaves about
 * half the candidates the best single column leaves within eps. */
#include "tribe/dbscan.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Squared Euclidean distance in double, columns summed in order: the sum
 * scikit-learn's kd-tree makes (euclidean_rdist), so a tie at eps falls the
 * same way in both. */
static inline double dist2(const float *a, const float *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = (double)a[j] - (double)b[j];
        s += t * t;
    }
    return s;
}

typedef struct {
    double key;
    int64_t idx;
} keyed;

static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int f64_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The projection <x, v>, in double, columns in order. */
static inline double project(const float *x, const double *v, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (double)x[j] * v[j];
    return s;
}

/* 1 when two points whose projections differ by dk >= 0 are surely further
 * apart than sqrt(b2): the projection's rounding (about d * 2^-53 times the
 * sum of |x_j|, far below tol) and the distance's are allowed for. */
static inline int past(double dk, double b2, double tol)
{
    return dk > sqrt(b2) * (1 + 1e-12) + tol;
}

/* The rounding allowance of projections of x: 1e-9 times its 1-norm. */
static inline double allowance(const float *x, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += fabs((double)x[j]);
    return 1e-9 * (1 + s);
}

/* v[d]: the unit eigenvector of the largest eigenvalue of the covariance of
 * s[m][d] (tribe_eigh: the same on every rank for the same sample); *tol the
 * largest allowance() of the points. NOMEM, INTERNAL (LAPACK). */
static tribe_status principal_axis(const float *s, int64_t m, int d, double *v, double *tol)
{
    tribe_status st = TRIBE_OK;
    double *mu = NULL, *a = NULL, *w = NULL, *vec = NULL;
    size_t dd = (size_t)d * (size_t)d;
    TRIBE_TRY(tribe_calloc((void **)&mu, (size_t)d, sizeof *mu));
    TRIBE_TRY(tribe_calloc((void **)&a, dd, sizeof *a));
    TRIBE_TRY(tribe_alloc((void **)&w, (size_t)d * sizeof *w));
    TRIBE_TRY(tribe_alloc((void **)&vec, dd * sizeof *vec));
    *tol = 0;
    for (int64_t i = 0; i < m; i++) {
        double t = allowance(s + i * d, d);
        *tol = t > *tol ? t : *tol;
        for (int j = 0; j < d; j++)
            mu[j] += (double)s[i * d + j];
    }
    for (int j = 0; j < d; j++)
        mu[j] /= (double)m;
    for (int64_t i = 0; i < m; i++)
        for (int j = 0; j < d; j++)
            for (int l = 0; l <= j; l++)
                a[j * d + l] += ((double)s[i * d + j] - mu[j]) * ((double)s[i * d + l] - mu[l]);
    for (int j = 0; j < d; j++)
        for (int l = 0; l < j; l++)
            a[l * d + j] = a[j * d + l];
    TRIBE_TRY(tribe_eigh(a, d, w, vec));
    memcpy(v, vec, (size_t)d * sizeof *v);
cleanup:
    free(mu);
    free(a);
    free(w);
    free(vec);
    return st;
}

/* The points s[m][d] ascending by projection on v, then index: o[m] (key and
 * sample index), ss[m][d] the points in that order, key[m]. */
static void sort_points(const float *s, int64_t m, int d, const double *v, keyed *o, float *ss, double *key)
{
    for (int64_t i = 0; i < m; i++)
        o[i] = (keyed){project(s + i * d, v, d), i};
    qsort(o, (size_t)m, sizeof *o, keyed_cmp);
    for (int64_t q = 0; q < m; q++) {
        memcpy(ss + q * d, s + o[q].idx * d, (size_t)d * sizeof *ss);
        key[q] = o[q].key;
    }
}

/* v into b[0..*c) kept ascending, at most k kept (the k smallest). */
static inline void keep_smallest(double *b, int *c, int k, double v)
{
    int i;
    if (*c == k) {
        if (v >= b[k - 1])
            return;
        i = k - 1;
    } else {
        i = (*c)++;
    }
    while (i > 0 && b[i - 1] > v) {
        b[i] = b[i - 1];
        i--;
    }
    b[i] = v;
}

int64_t tribe_dbscan_knee(const double *y, int64_t m)
{
    if (m < 3 || !(y[m - 1] > y[0]))
        return m - 1;
    double span = y[m - 1] - y[0], best = -INFINITY;
    int64_t at = m - 1;
    for (int64_t i = 0; i < m; i++) {
        double v = (double)i / (double)(m - 1) - (y[i] - y[0]) / span;
        if (v > best) {
            best = v;
            at = i;
        }
    }
    return at;
}

/* kd2[q] for the sorted points ss[m][d] (keys key[m]); best[nth][k] is the
 * threads' workspace. Each point's answer depends on its own scan only. */
static void kdist_sorted(const float *ss, const double *key, int64_t m, int d, int k, double tol, int nth,
                         double *best, double *kd2)
{
#pragma omp parallel num_threads(nth)
    {
        double *b = best + (size_t)omp_get_thread_num() * (size_t)k;
#pragma omp for schedule(dynamic, 64)
        for (int64_t q = 0; q < m; q++) {
            int c = 0;
            const float *p = ss + q * d;
            for (int64_t r = q; r >= 0; r--) {
                if (c == k && past(key[q] - key[r], b[k - 1], tol))
                    break;
                keep_smallest(b, &c, k, dist2(p, ss + r * d, d));
            }
            for (int64_t r = q + 1; r < m; r++) {
                if (c == k && past(key[r] - key[q], b[k - 1], tol))
                    break;
                keep_smallest(b, &c, k, dist2(p, ss + r * d, d));
            }
            kd2[q] = b[k - 1];
        }
    }
}

tribe_status tribe_dbscan_kdist(const float *s, int64_t m, int d, int k, double *kd2)
{
    tribe_status st = TRIBE_OK;
    keyed *o = NULL;
    float *ss = NULL;
    double *key = NULL, *best = NULL, *w = NULL, *v = NULL, tol = 0;
    int nth = omp_get_max_threads();
    if (k < 1 || k > m || d < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "dbscan: k=%d with %lld points of %d columns", k, (long long)m, d);
    TRIBE_TRY(tribe_alloc((void **)&o, (size_t)m * sizeof *o));
    TRIBE_TRY(tribe_alloc((void **)&ss, (size_t)m * (size_t)d * sizeof *ss));
    TRIBE_TRY(tribe_alloc((void **)&key, (size_t)m * sizeof *key));
    TRIBE_TRY(tribe_alloc((void **)&w, (size_t)m * sizeof *w));
    TRIBE_TRY(tribe_alloc((void **)&best, (size_t)nth * (size_t)k * sizeof *best));
    TRIBE_TRY(tribe_alloc((void **)&v, (size_t)d * sizeof *v));
    TRIBE_TRY(principal_axis(s, m, d, v, &tol));
    sort_points(s, m, d, v, o, ss, key);
    kdist_sorted(ss, key, m, d, k, tol, nth, best, w);
    for (int64_t q = 0; q < m; q++)
        kd2[o[q].idx] = w[q];
cleanup:
    free(o);
    free(ss);
    free(key);
    free(best);
    free(w);
    free(v);
    return st;
}

void tribe_dbscan_destroy(tribe_dbscan **p)
{
    if (!p || !*p)
        return;
    tribe_dbscan *db = *p;
    free(db->core);
    free(db->key);
    free(db->core_index);
    free(db->core_cluster);
    free(db->core_count);
    free(db->cluster_size);
    free(db->axis);
    free(db);
    *p = NULL;
}

static int64_t uf_find(int64_t *parent, int64_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

/* Clusters of the core points (sorted positions with core[q] = 1): connected
 * components of the core points within eps2 of each other, numbered by their
 * first core point in sample order. cl[q] receives the cluster (-1 for a
 * non-core point); parent[m], pos[m] (sample index -> sorted position) and
 * id[m] are workspaces. Serial: unions are order-free but cheap. */
static int number_clusters(const float *ss, const double *key, const keyed *o, const uint8_t *core, int64_t m,
                           int d, double eps2, double tol, int64_t *parent, int64_t *pos, int32_t *id, int32_t *cl)
{
    for (int64_t q = 0; q < m; q++) {
        parent[q] = q;
        pos[o[q].idx] = q;
        id[q] = -1;
        cl[q] = -1;
    }
    for (int64_t q = 0; q < m; q++) {
        if (!core[q])
            continue;
        for (int64_t r = q + 1; r < m; r++) {
            if (past(key[r] - key[q], eps2, tol))
                break;
            if (!core[r] || dist2(ss + q * d, ss + r * d, d) > eps2)
                continue;
            int64_t a = uf_find(parent, q), b = uf_find(parent, r);
            if (a != b)
                parent[a > b ? a : b] = a > b ? b : a;
        }
    }
    int n = 0;
    for (int64_t i = 0; i < m; i++) {
        int64_t q = pos[i];
        if (!core[q])
            continue;
        int64_t root = uf_find(parent, q);
        if (id[root] < 0)
            id[root] = n++;
        cl[q] = id[root];
    }
    return n;
}

/* eps from the knee: w[m] receives the sorted squared k-distances, y[m]
 * their roots (the curve); eps is the knee's k-distance, rounded up to the
 * smallest double whose square reaches the squared one, so the knee's point
 * is core. */
static double knee_eps(const double *kd2, int64_t m, double *w, double *y, int64_t *knee)
{
    memcpy(w, kd2, (size_t)m * sizeof *w);
    qsort(w, (size_t)m, sizeof *w, f64_cmp);
    for (int64_t i = 0; i < m; i++)
        y[i] = sqrt(w[i]);
    *knee = tribe_dbscan_knee(y, m);
    double eps = y[*knee];
    while (eps * eps < w[*knee])
        eps = nextafter(eps, INFINITY);
    return eps;
}

/* Builds *out from the sorted points and their core flags and clusters. */
static tribe_status make_model(const float *ss, const double *key, const keyed *o, const uint8_t *core,
                               const int32_t *cl, int64_t m, int d, int nc, tribe_dbscan **out)
{
    tribe_status st = TRIBE_OK;
    tribe_dbscan *db = NULL;
    int64_t n_core = 0;
    for (int64_t q = 0; q < m; q++)
        n_core += core[q];
    TRIBE_TRY(tribe_calloc((void **)&db, 1, sizeof *db));
    TRIBE_TRY(tribe_alloc((void **)&db->core, (size_t)n_core * (size_t)d * sizeof *db->core));
    TRIBE_TRY(tribe_alloc((void **)&db->key, (size_t)n_core * sizeof *db->key));
    TRIBE_TRY(tribe_alloc((void **)&db->core_index, (size_t)n_core * sizeof *db->core_index));
    TRIBE_TRY(tribe_alloc((void **)&db->core_cluster, (size_t)n_core * sizeof *db->core_cluster));
    TRIBE_TRY(tribe_calloc((void **)&db->core_count, (size_t)nc, sizeof *db->core_count));
    int64_t j = 0;
    for (int64_t q = 0; q < m; q++) {
        if (!core[q])
            continue;
        memcpy(db->core + j * d, ss + q * d, (size_t)d * sizeof *db->core);
        db->key[j] = key[q];
        db->core_index[j] = o[q].idx;
        db->core_cluster[j] = cl[q];
        db->core_count[cl[q]]++;
        j++;
    }
    db->d = d;
    db->m = m;
    db->n_core = n_core;
    db->n_clusters = nc;
    *out = db;
    db = NULL;
cleanup:
    tribe_dbscan_destroy(&db);
    return st;
}

tribe_status tribe_dbscan_fit_sample(const float *s, int64_t m, int d, int min_samples, double eps,
                                     tribe_dbscan **out)
{
    tribe_status st = TRIBE_OK;
    keyed *o = NULL;
    float *ss = NULL;
    double *key = NULL, *best = NULL, *kd2 = NULL, *w = NULL, *y = NULL, *v = NULL, tol = 0;
    uint8_t *core = NULL;
    int64_t *parent = NULL, *pos = NULL, knee = -1;
    int32_t *id = NULL, *cl = NULL;
    int nth = omp_get_max_threads(), k = min_samples;
    *out = NULL;
    if (d < 1 || min_samples < 1 || min_samples > m)
        return tribe_fail(TRIBE_ERR_USAGE, "dbscan: min_samples %d needs 1..%lld (the sample's points)", min_samples,
                          (long long)m);
    if (!(eps >= 0) || !isfinite(eps))
        return tribe_fail(TRIBE_ERR_USAGE, "dbscan: eps %g must be finite and > 0 (0: from the knee)", eps);
    TRIBE_TRY(tribe_alloc((void **)&o, (size_t)m * sizeof *o));
    TRIBE_TRY(tribe_alloc((void **)&ss, (size_t)m * (size_t)d * sizeof *ss));
    TRIBE_TRY(tribe_alloc((void **)&key, (size_t)m * sizeof *key));
    TRIBE_TRY(tribe_alloc((void **)&kd2, (size_t)m * sizeof *kd2));
    TRIBE_TRY(tribe_alloc((void **)&w, (size_t)m * sizeof *w));
    TRIBE_TRY(tribe_alloc((void **)&y, (size_t)m * sizeof *y));
    TRIBE_TRY(tribe_alloc((void **)&best, (size_t)nth * (size_t)k * sizeof *best));
    TRIBE_TRY(tribe_alloc((void **)&core, (size_t)m));
    TRIBE_TRY(tribe_alloc((void **)&parent, (size_t)m * sizeof *parent));
    TRIBE_TRY(tribe_alloc((void **)&pos, (size_t)m * sizeof *pos));
    TRIBE_TRY(tribe_alloc((void **)&id, (size_t)m * sizeof *id));
    TRIBE_TRY(tribe_alloc((void **)&cl, (size_t)m * sizeof *cl));
    TRIBE_TRY(tribe_alloc((void **)&v, (size_t)d * sizeof *v));
    TRIBE_TRY(principal_axis(s, m, d, v, &tol));
    sort_points(s, m, d, v, o, ss, key);
    /* A point is core exactly when its k-distance (k = min_samples, itself
     * counted) is within eps: one pass serves the knee and the core test. */
    kdist_sorted(ss, key, m, d, k, tol, nth, best, kd2);
    int from_knee = eps == 0;
    if (from_knee)
        eps = knee_eps(kd2, m, w, y, &knee);
    double eps2 = eps * eps;
    int64_t n_core = 0;
    for (int64_t q = 0; q < m; q++)
        n_core += core[q] = kd2[q] <= eps2;
    if (n_core == 0) {
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "dbscan: no core point among %lld sampled customers at eps %g with min_samples %d (raise "
                        "outliers.eps, lower outliers.min_samples, or leave eps out to take the k-distance knee)",
                        (long long)m, eps, min_samples);
        goto cleanup;
    }
    int nc = number_clusters(ss, key, o, core, m, d, eps2, tol, parent, pos, id, cl);
    TRIBE_TRY(make_model(ss, key, o, core, cl, m, d, nc, out));
    (*out)->axis = v;
    v = NULL;
    (*out)->tol = tol;
    (*out)->min_samples = min_samples;
    (*out)->eps = eps;
    (*out)->eps2 = eps2;
    (*out)->eps_from_knee = from_knee;
    (*out)->knee = knee;
cleanup:
    free(o);
    free(ss);
    free(key);
    free(best);
    free(kd2);
    free(w);
    free(y);
    free(core);
    free(parent);
    free(pos);
    free(id);
    free(cl);
    free(v);
    return st;
}

/* The nearest core point of x (lowest sample index on ties): its position in
 * db's arrays (-1 when x has a NaN) and squared distance *b2. Scans outward
 * from x's projection in both directions until the projections alone put
 * every further core point past the best so far. */
static inline int64_t nearest_core(const tribe_dbscan *db, const float *x, double *b2)
{
    const double *key = db->key;
    int64_t nc = db->n_core, lo = 0, hi = nc, bj = -1;
    int d = db->d;
    double k0 = project(x, db->axis, d), b = INFINITY, tol = db->tol + allowance(x, d);
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (key[mid] < k0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int64_t r = lo; r < nc; r++) {
        if (past(key[r] - k0, b, tol))
            break;
        double v = dist2(x, db->core + r * d, d);
        if (v < b || (v == b && db->core_index[r] < db->core_index[bj])) {
            b = v;
            bj = r;
        }
    }
    for (int64_t r = lo - 1; r >= 0; r--) {
        if (past(k0 - key[r], b, tol))
            break;
        double v = dist2(x, db->core + r * d, d);
        if (v < b || (v == b && db->core_index[r] < db->core_index[bj])) {
            b = v;
            bj = r;
        }
    }
    *b2 = b;
    return bj;
}

void tribe_dbscan_assign(const tribe_dbscan *db, const float *x, int64_t n, int32_t *cluster, uint8_t *flag,
                         float *score)
{
    int64_t work = n * db->n_core / 8 * db->d;
#pragma omp parallel for schedule(dynamic, 512) if (work >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double b2 = NAN;
        int64_t j = nearest_core(db, x + i * db->d, &b2);
        /* A row with a NaN has no nearest core: not labelled, not flagged. */
        int in = j >= 0 && b2 <= db->eps2;
        if (cluster)
            cluster[i] = in ? db->core_cluster[j] : -1;
        if (flag)
            flag[i] = j >= 0 && !in;
        if (score)
            score[i] = j >= 0 ? (float)(sqrt(b2) / db->eps) : NAN;
    }
}

tribe_status tribe_dbscan_fit(const tribe_dmat *z, const tribe_dbscan_cfg *cfg, int32_t *cluster, uint8_t *flag,
                              float *score, tribe_dbscan **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = z->rows->par;
    tribe_dbscan *db = NULL;
    float *S = NULL;
    int64_t *gidx = NULL, m = 0, n = z->rows->n_local;
    int d = z->d, ms = cfg->min_samples > 0 ? cfg->min_samples : 2 * z->d;
    *out = NULL;
    TRIBE_TRY(tribe_sample_rows(z, NULL, cfg->sample_size, cfg->seed, TRIBE_STREAM_DBSCAN_SAMPLE, &S, NULL, &gidx,
                                &m));
    /* The sample and so every check below is the same on every rank; only
     * an allocation can fail on one rank alone. */
    if (m < ms)
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "dbscan: the sample holds %lld customers, fewer than min_samples %d (raise "
                        "outliers.sample_size or lower outliers.min_samples)",
                        (long long)m, ms);
    else
        st = tribe_dbscan_fit_sample(S, m, d, ms, cfg->eps, &db);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&db->cluster_size, (size_t)db->n_clusters, sizeof *db->cluster_size);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t j = 0; j < db->n_core; j++)
        db->core_index[j] = gidx[db->core_index[j]];
    tribe_dbscan_assign(db, z->x, n, cluster, flag, score);
    for (int64_t i = 0; i < n; i++) {
        if (cluster[i] >= 0)
            db->cluster_size[cluster[i]]++;
        else
            db->noise += flag[i];
    }
    TRIBE_TRY(tribe_par_sum_i64(par, db->cluster_size, db->n_clusters));
    TRIBE_TRY(tribe_par_sum_i64(par, &db->noise, 1));
    *out = db;
    db = NULL;
cleanup:
    tribe_dbscan_destroy(&db);
    free(S);
    free(gidx);
    return st;
}
