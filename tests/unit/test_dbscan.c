/* Unit tests for DBSCAN outliers (tribe/dbscan.h): the knee, the exact
 * k-distances and nearest core points against brute force, a small case by
 * hand, and scikit-learn's DBSCAN on the same points (core points and noise
 * identical, clusters identical up to a relabelling, border points in a
 * cluster that reaches them), with eps given and with eps from the knee. */
#include "segfix.h"
#include "testutil.h"
#include "tribe/dbscan.h"
#include "tribe/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double brute_d2(const float *a, const float *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = (double)a[j] - (double)b[j];
        s += t * t;
    }
    return s;
}

/* n points in d columns: four Gaussian blobs (sd 0.3) and a share of
 * uniform noise over [-4, 4]^d; coordinates rounded to 1/64 so that exact
 * duplicates and distance ties occur. */
static float *make_points(int64_t n, int d, uint64_t seed)
{
    float *z = malloc((size_t)n * (size_t)d * sizeof *z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)tribe_rng_below(seed, 1, (uint64_t)i, 5);
        for (int j = 0; j < d; j++) {
            double v = c == 4 ? 8 * tribe_rng_unif(seed, 2, (uint64_t)(i * d + j)) - 4
                              : 2.0 * ((j + c) % 3 - 1) + 0.3 * tribe_rng_normal(seed, 3, (uint64_t)(i * d + j));
            z[i * d + j] = (float)(round(v * 64) / 64);
        }
    }
    return z;
}

static void knee_should_be_the_point_furthest_below_the_chord(void)
{
    double y[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 100};
    CU_ASSERT_EQUAL(tribe_dbscan_knee(y, 10), 8);
    double flat[] = {2, 2, 2, 2};
    CU_ASSERT_EQUAL(tribe_dbscan_knee(flat, 4), 3);
    double line[] = {0, 1, 2, 3}; /* every point on the chord: the first */
    CU_ASSERT_EQUAL(tribe_dbscan_knee(line, 4), 0);
    CU_ASSERT_EQUAL(tribe_dbscan_knee(y, 2), 1);
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void kdist_should_equal_brute_force(void)
{
    int64_t n = 700;
    int d = 3;
    float *z = make_points(n, d, 5);
    double *kd2 = malloc((size_t)n * sizeof *kd2), *all = malloc((size_t)n * sizeof *all);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kd2 && all);
    int ks[] = {1, 2, 6, 700};
    for (int t = 0; t < 4; t++) {
        CU_ASSERT_EQUAL_FATAL(tribe_dbscan_kdist(z, n, d, ks[t], kd2), TRIBE_OK);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            for (int64_t j = 0; j < n; j++)
                all[j] = brute_d2(z + i * d, z + j * d, d);
            qsort(all, (size_t)n, sizeof *all, dbl_cmp);
            bad += kd2[i] != all[ks[t] - 1];
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
    CU_ASSERT_EQUAL(tribe_dbscan_kdist(z, n, d, 701, kd2), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(tribe_dbscan_kdist(z, n, d, 0, kd2), TRIBE_ERR_USAGE);
    free(z);
    free(kd2);
    free(all);
}

static void dbscan_should_find_the_hand_made_clusters_and_noise(void)
{
    /* Two pairs of points 0.5 apart on a line, 10 apart, and one point 3
     * from the first pair. eps 1, min_samples 2: four core points, two
     * clusters numbered by their first point in input order (the pair at 10
     * comes first), the stray point noise with score 3 / 1. */
    float z[] = {10, 0, 10.5f, 0, 0, 0, 0.5f, 0, -3, 0};
    tribe_dbscan *db = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_dbscan_fit_sample(z, 5, 2, 2, 1.0, &db), TRIBE_OK);
    CU_ASSERT_EQUAL(db->n_core, 4);
    CU_ASSERT_EQUAL(db->n_clusters, 2);
    CU_ASSERT_EQUAL(db->core_count[0], 2);
    CU_ASSERT_EQUAL(db->knee, -1);
    int32_t cl[6];
    uint8_t fl[6];
    float sc[6];
    float q[] = {10, 0, 10.5f, 0, 0, 0, 0.5f, 0, -3, 0, 1.5f, 0};
    tribe_dbscan_assign(db, q, 6, cl, fl, sc);
    int32_t want_cl[] = {0, 0, 1, 1, -1, 1};
    uint8_t want_fl[] = {0, 0, 0, 0, 1, 0};
    float want_sc[] = {0, 0, 0, 0, 3, 1};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(cl[i], want_cl[i]);
        CU_ASSERT_EQUAL(fl[i], want_fl[i]);
        CU_ASSERT_EQUAL(sc[i], want_sc[i]);
    }
    tribe_dbscan_destroy(&db);
    tribe_dbscan_destroy(&db); /* NULL is fine */
    /* eps too small for any core point: a clear INPUT error, no model. */
    CU_ASSERT_EQUAL(tribe_dbscan_fit_sample(z, 5, 2, 2, 0.1, &db), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no core point"));
    CU_ASSERT_EQUAL(tribe_dbscan_fit_sample(z, 5, 2, 6, 1.0, &db), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(tribe_dbscan_fit_sample(z, 5, 2, 2, -1.0, &db), TRIBE_ERR_USAGE);
    /* From the knee (min_samples 2: the nearest other point's distance,
     * 0.5 0.5 0.5 0.5 3 sorted: the knee is the fourth, eps 0.5). */
    CU_ASSERT_EQUAL_FATAL(tribe_dbscan_fit_sample(z, 5, 2, 2, 0, &db), TRIBE_OK);
    CU_ASSERT_EQUAL(db->eps, 0.5);
    CU_ASSERT_EQUAL(db->knee, 3);
    CU_ASSERT_EQUAL(db->n_core, 4);
    tribe_dbscan_destroy(&db);
}

/* The driver's sample smaller than min_samples: no point could be core, so
 * it refuses with INPUT (exit 3) naming both numbers and the two keys to
 * change, and leaves no model; with min_samples 0 the default 2 x columns is
 * the one named. */
static void dbscan_fit_should_refuse_a_sample_smaller_than_min_samples(void)
{
    float z[6 * 4] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 5, 5, 0, 0, 5, 6, 0, 0};
    int32_t cl[6];
    uint8_t fl[6];
    float sc[6];
    tribe_par *par = tribe_test_serial();
    tribe_dbscan *db = NULL;
    tribe_dbscan_cfg cfg = {.sample_size = 100, .min_samples = 10, .eps = 1.0, .seed = 42};
    CU_ASSERT_EQUAL(tribe_dbscan_fit(&(tribe_dmat){TRIBE_TEST_ROWS(par, 6), z, 4}, &cfg, cl, fl, sc, &db),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "the sample holds 6 customers, fewer than min_samples 10"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "outliers.sample_size"));
    cfg.min_samples = 0;
    CU_ASSERT_EQUAL(tribe_dbscan_fit(&(tribe_dmat){TRIBE_TEST_ROWS(par, 6), z, 4}, &cfg, cl, fl, sc, &db),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "the sample holds 6 customers, fewer than min_samples 8"));
    tribe_par_finalize(&par);
}

static void nearest_core_should_equal_brute_force(void)
{
    int64_t n = 1500, nq = 2000;
    int d = 4;
    float *z = make_points(n, d, 7), *q = make_points(nq, d, 8);
    int32_t *cl = malloc((size_t)nq * sizeof *cl);
    float *sc = malloc((size_t)nq * sizeof *sc);
    uint8_t *fl = malloc((size_t)nq);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cl && sc && fl);
    tribe_dbscan *db = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_dbscan_fit_sample(z, n, d, 8, 0.4, &db), TRIBE_OK);
    tribe_dbscan_assign(db, q, nq, cl, fl, sc);
    int bad = 0, noise = 0;
    for (int64_t i = 0; i < nq; i++) {
        double b = INFINITY;
        int64_t bj = -1;
        for (int64_t j = 0; j < db->n_core; j++) { /* any order: ties by sample index */
            double v = brute_d2(q + i * d, db->core + j * d, d);
            if (v < b || (v == b && db->core_index[j] < db->core_index[bj])) {
                b = v;
                bj = j;
            }
        }
        int in = b <= db->eps2;
        bad += cl[i] != (in ? db->core_cluster[bj] : -1) || fl[i] != !in || sc[i] != (float)(sqrt(b) / db->eps);
        noise += !in;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(noise > 0 && noise < nq);
    tribe_dbscan_destroy(&db);
    free(z);
    free(q);
    free(cl);
    free(sc);
    free(fl);
}

/* One comparison with scikit-learn: the points, tribe's parameters (eps 0:
 * the knee), tribe's fit and scikit-learn's labels and core flags. */
typedef struct {
    const float *z;
    int64_t n;
    int d, ms;
    double eps;
    tribe_dbscan *db;
    int32_t *sk;
    uint8_t *skcore;
} sk_case;

/* Runs scikit-learn's DBSCAN (kd-tree: the same double squared distances)
 * with tribe's eps on every case's points, written as float32 text, in one
 * Python process (its start-up is most of the cost); reads the labels and
 * core flags back. 0 when every case has its answer. */
static int sklearn_batch(sk_case *c, int nc)
{
    const char *dir = tribe_test_tmpdir();
    char path[600], cmd[8192];
    size_t len = (size_t)snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import numpy as np\n"
                                                   "from sklearn.cluster import DBSCAN\nfor p, e, k in [");
    for (int t = 0; t < nc; t++) {
        snprintf(path, sizeof path, "%s/pts%d.csv", dir, t);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        for (int64_t i = 0; i < c[t].n; i++)
            for (int j = 0; j < c[t].d; j++)
                fprintf(f, "%.9g%c", c[t].z[i * c[t].d + j], j + 1 < c[t].d ? ',' : '\n');
        fclose(f);
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, "('%s', %.17g, %d), ", path, c[t].db->eps, c[t].ms);
    }
    snprintf(cmd + len, sizeof cmd - len,
             "]:\n x = np.loadtxt(p, delimiter=',', dtype=np.float32, ndmin=2).astype(np.float64)\n"
             " m = DBSCAN(eps=e, min_samples=k, algorithm='kd_tree').fit(x)\n"
             " c = np.zeros(len(x), int); c[m.core_sample_indices_] = 1\n"
             " np.savetxt(p + '.out', np.column_stack([m.labels_, c]), fmt='%%d')\"");
    if (system(cmd) != 0)
        return -1;
    for (int t = 0; t < nc; t++) {
        snprintf(path, sizeof path, "%s/pts%d.csv.out", dir, t);
        FILE *f = fopen(path, "r");
        int64_t got = 0;
        int a, b;
        while (f && got < c[t].n && fscanf(f, "%d %d", &a, &b) == 2) {
            c[t].sk[got] = a;
            c[t].skcore[got++] = (uint8_t)b;
        }
        if (f)
            fclose(f);
        if (got != c[t].n)
            return -1;
    }
    return 0;
}

/* tribe's DBSCAN of a case against scikit-learn's: core points and noise
 * identical, clusters a bijection on the core points, every border point in
 * a cluster that reaches it. Returns the border points in another cluster
 * than scikit-learn's. */
static int compare_case(const sk_case *c)
{
    const tribe_dbscan *db = c->db;
    int64_t n = c->n;
    int d = c->d, nc = db->n_clusters;
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    uint8_t *core = calloc((size_t)n, 1);
    int *to = malloc((size_t)nc * sizeof *to), *from = malloc((size_t)n * sizeof *from);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lab && core && to && from);
    tribe_dbscan_assign(db, c->z, n, lab, NULL, NULL);
    for (int64_t j = 0; j < db->n_core; j++)
        core[db->core_index[j]] = 1;
    int core_diff = 0, noise_diff = 0, map_bad = 0, border_bad = 0, border_other = 0;
    for (int k = 0; k < nc; k++)
        to[k] = -1;
    for (int64_t i = 0; i < n; i++)
        from[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        core_diff += core[i] != c->skcore[i];
        noise_diff += (lab[i] < 0) != (c->sk[i] < 0);
        if (!core[i] || !c->skcore[i] || c->sk[i] < 0)
            continue;
        if (to[lab[i]] < 0)
            to[lab[i]] = c->sk[i];
        if (from[c->sk[i]] < 0)
            from[c->sk[i]] = lab[i];
        map_bad += to[lab[i]] != c->sk[i] || from[c->sk[i]] != lab[i];
    }
    /* Border points: scikit-learn's cluster must reach them too (a core point
     * of it within eps); tribe's is the nearest core's by construction. */
    for (int64_t i = 0; i < n; i++) {
        if (core[i] || lab[i] < 0 || c->sk[i] < 0)
            continue;
        int reach = 0;
        for (int64_t j = 0; j < db->n_core && !reach; j++)
            reach = db->core_cluster[j] == from[c->sk[i]] && brute_d2(c->z + i * d, db->core + j * d, d) <= db->eps2;
        border_bad += !reach;
        border_other += to[lab[i]] != c->sk[i];
    }
    CU_ASSERT_EQUAL(core_diff, 0);
    CU_ASSERT_EQUAL(noise_diff, 0);
    CU_ASSERT_EQUAL(map_bad, 0);
    CU_ASSERT_EQUAL(border_bad, 0);
    printf("\n    eps %.6g (%s), min_samples %d: %lld core, %d clusters, %d border points in another cluster than "
           "sklearn's ",
           db->eps, c->eps == 0 ? "knee" : "given", c->ms, (long long)db->n_core, nc, border_other);
    free(lab);
    free(core);
    free(to);
    free(from);
    return border_other;
}

static void dbscan_should_match_sklearn_with_eps_given_and_from_the_knee(void)
{
    if (!tribe_test_need_python("sklearn"))
        return;
    int64_t n = 3000;
    int d = 4;
    float *z = make_points(n, d, 11);
    /* The third: a border point both clusters reach (eps 0.7, min_samples
     * 4): 1.28 is 0.68 from P's core 0.6 and 0.62 from Q's core 1.9.
     * scikit-learn expands P first and keeps it there; tribe takes the
     * nearest core, Q's. */
    static const float line[] = {0, 0.2f, 0.4f, 0.6f, 1.28f, 1.9f, 2.1f, 2.3f, 2.5f};
    sk_case cs[3] = {{.z = z, .n = n, .d = d, .ms = 8, .eps = 0.35},
                     {.z = z, .n = n, .d = d, .ms = 8, .eps = 0},
                     {.z = line, .n = 9, .d = 1, .ms = 4, .eps = 0.7}};
    for (int t = 0; t < 3; t++) {
        cs[t].sk = malloc((size_t)cs[t].n * sizeof *cs[t].sk);
        cs[t].skcore = malloc((size_t)cs[t].n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cs[t].sk && cs[t].skcore);
        CU_ASSERT_EQUAL_FATAL(tribe_dbscan_fit_sample(cs[t].z, cs[t].n, cs[t].d, cs[t].ms, cs[t].eps, &cs[t].db),
                              TRIBE_OK);
        CU_ASSERT(cs[t].db->n_core > 0 && cs[t].db->n_core < cs[t].n);
    }
    CU_ASSERT_EQUAL(cs[1].db->knee >= 0 && cs[1].db->eps_from_knee, 1);
    if (sklearn_batch(cs, 3) == 0) {
        compare_case(&cs[0]);
        compare_case(&cs[1]);
        CU_ASSERT_EQUAL(compare_case(&cs[2]), 1);
    } else {
        CU_FAIL("scikit-learn's DBSCAN did not run");
    }
    for (int t = 0; t < 3; t++) {
        tribe_dbscan_destroy(&cs[t].db);
        free(cs[t].sk);
        free(cs[t].skcore);
    }
    free(z);
}

static void report_should_name_the_method_and_its_parameters(void)
{
    /* The hand-made case above from the knee, flagging 1 + 2 customers of
     * the fixture's segments 0 and 3. */
    float z[] = {10, 0, 10.5f, 0, 0, 0, 0.5f, 0, -3, 0};
    tribe_dbscan *db = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_dbscan_fit_sample(z, 5, 2, 2, 0, &db), TRIBE_OK);
    tribe_segments *s = fixture_segments();
    int64_t count[FIX_K] = {1, 0, 0, 2, 0};
    tribe_outliers o = {.k = FIX_K, .threshold = NAN, .count = count, .total = 3, .dbscan = db};
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_report_outliers(&b, s, &o), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "3 customers are <em>noise</em>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "Method <code>dbscan</code> on 5 sampled customers"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "min_samples = 2 sampled customers (itself included) lie within eps = 0.5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "4 core points form 2 dense regions"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "knee of the sorted k-distance curve"));
    CU_ASSERT_PTR_NULL(strstr(b.p, "Distance fence"));
    int rows = 0;
    for (const char *p = b.p; (p = strstr(p, "<tr>")) != NULL; p++)
        rows++;
    CU_ASSERT_EQUAL(rows, 1 + FIX_K);
    /* 2 of At Risk's 1020: 0.20% */
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, ">0.20%<"));
    tribe_sbuf_free(&b);
    tribe_segments_destroy(&s);
    tribe_dbscan_destroy(&db);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(knee_should_be_the_point_furthest_below_the_chord),
        TRIBE_TEST(kdist_should_equal_brute_force),
        TRIBE_TEST(dbscan_should_find_the_hand_made_clusters_and_noise),
        TRIBE_TEST(dbscan_fit_should_refuse_a_sample_smaller_than_min_samples),
        TRIBE_TEST(nearest_core_should_equal_brute_force),
        TRIBE_TEST(dbscan_should_match_sklearn_with_eps_given_and_from_the_knee),
        TRIBE_TEST(report_should_name_the_method_and_its_parameters),
        {NULL, NULL}};
    return tribe_test_main("dbscan", cases);
}
