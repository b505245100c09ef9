/* Unit tests for the feature transform (tribe/transform.h) and the exact
 * sums it relies on (tribe/xstats.h). */
#include "testutil.h"
#include "tribe/transform.h"
#include "tribe/xstats.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const char *NAMES[] = {"recency_days", "frequency", "monetary", "age"};

/* A table of n rows x 4 features filled by fn(i, j); ids 1000 + i. */
static tribe_table *make_table(int64_t n, float (*fn)(int64_t, int))
{
    tribe_table *t = NULL;
    if (tribe_table_create(n, 4, NAMES, &t) != TRIBE_OK)
        return NULL;
    for (int64_t i = 0; i < n; i++) {
        t->id[i] = 1000 + i;
        for (int j = 0; j < 4; j++)
            t->x[i * 4 + j] = fn(i, j);
    }
    return t;
}

static float plain(int64_t i, int j)
{
    switch (j) {
    case 0: return (float)(i % 37);
    case 1: return (float)(1 + i % 5);
    case 2: return (float)(50.0 * tribe_rng_unif(1, 2, (uint64_t)i) * (1 + i % 3));
    default: return (i % 7 == 0) ? NAN : (float)(20 + i % 50);
    }
}

static void scaler_should_standardise_with_population_moments(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 1001;
    tribe_table *t = make_table(n, plain);
    int cols[] = {0, 1, 2, 3}, logs[] = {0, 1, 1, 0};
    tribe_scaler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 4, logs, &s), TRIBE_OK);
    for (int j = 0; j < 4; j++) {
        long double sum = 0, sum2 = 0;
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++) {
            float x = t->x[i * 4 + j];
            if (isnan(x))
                continue;
            long double v = logs[j] ? log1pl(x) : x;
            sum += v;
            c++;
        }
        long double mean = sum / c;
        for (int64_t i = 0; i < n; i++) {
            float x = t->x[i * 4 + j];
            if (isnan(x))
                continue;
            long double v = (logs[j] ? log1pl(x) : x) - mean;
            sum2 += v * v;
        }
        double sd = sqrt((double)(sum2 / c));
        CU_ASSERT_DOUBLE_EQUAL(s->mean[j], (double)mean, 1e-12 * fabs((double)mean));
        CU_ASSERT_DOUBLE_EQUAL(s->std[j], sd, 1e-12 * sd);
        CU_ASSERT_STRING_EQUAL(s->names[j], NAMES[j]);
    }
    CU_ASSERT_DOUBLE_EQUAL(s->impute[1], expm1(s->mean[1]), 1e-12);
    CU_ASSERT_EQUAL(s->impute[3], s->mean[3]);

    float *z = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_apply_table(s, t, &z), TRIBE_OK);
    for (int j = 0; j < 4; j++) {
        double m = 0, m2 = 0;
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++) {
            if (isnan(t->x[i * 4 + j])) {
                CU_ASSERT_EQUAL(z[i * 4 + j], 0.0f); /* imputed with the mean */
                continue;
            }
            m += z[i * 4 + j];
            m2 += (double)z[i * 4 + j] * z[i * 4 + j];
            c++;
        }
        CU_ASSERT_DOUBLE_EQUAL(m / c, 0.0, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(m2 / c, 1.0, 1e-5);
    }
    /* a hand-checked value: recency 5 -> (5 - mean) / std */
    CU_ASSERT_DOUBLE_EQUAL(z[5 * 4], (5 - s->mean[0]) / s->std[0], 1e-6);
    free(z);
    tribe_scaler_destroy(&s);
    CU_ASSERT_PTR_NULL(s);
    tribe_scaler_destroy(&s);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static float constant_and_missing(int64_t i, int j)
{
    if (j == 0)
        return 4.25f;
    if (j == 1)
        return NAN;
    return (float)i;
}

static void zero_variance_and_empty_columns_should_map_to_zero(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = make_table(50, constant_and_missing);
    int cols[] = {0, 1, 2};
    tribe_scaler *s = NULL;
    tribe_log_setup(0, TRIBE_LOG_ERROR, 0); /* the warnings are expected */
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 3, NULL, &s), TRIBE_OK);
    tribe_log_setup(0, TRIBE_LOG_WARN, 0);
    CU_ASSERT_EQUAL(s->std[0], 1.0);
    CU_ASSERT_EQUAL(s->mean[0], 4.25);
    CU_ASSERT_EQUAL(s->std[1], 1.0);
    CU_ASSERT_EQUAL(s->mean[1], 0.0);
    float z[150];
    CU_ASSERT_EQUAL(tribe_scaler_apply(s, t->x, 50, 4, NULL, z), TRIBE_OK);
    for (int i = 0; i < 50; i++) {
        CU_ASSERT_EQUAL(z[i * 3], 0.0f);
        CU_ASSERT_EQUAL(z[i * 3 + 1], 0.0f);
    }
    tribe_scaler_destroy(&s);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void bad_values_should_name_the_customer_and_feature(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = make_table(20, plain);
    int cols[] = {0, 1, 2}, logs[] = {0, 1, 0};
    tribe_scaler *s = NULL;
    t->x[7 * 4 + 2] = INFINITY;
    t->x[9 * 4 + 2] = -INFINITY;
    CU_ASSERT_EQUAL(tribe_scaler_fit(par, t, cols, 3, logs, &s), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "customer 1007, feature 'monetary': value is infinite");
    CU_ASSERT_PTR_NULL(s);
    t->x[7 * 4 + 2] = 1;
    t->x[9 * 4 + 2] = 1;
    t->x[3 * 4 + 1] = -1.0f;
    CU_ASSERT_EQUAL(tribe_scaler_fit(par, t, cols, 3, logs, &s), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(),
                           "customer 1003, feature 'frequency': value -1 cannot be log1p-transformed (needs > -1)");
    t->x[3 * 4 + 1] = -0.5f; /* allowed: log1p(-0.5) is finite */
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 3, logs, &s), TRIBE_OK);
    /* the kernel without ids names the row */
    t->x[4 * 4 + 0] = INFINITY;
    float z[60];
    CU_ASSERT_EQUAL(tribe_scaler_apply(s, t->x, 20, 4, NULL, z), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "row 4, feature 'recency_days': value is infinite");
    int badcol[] = {0, 4};
    tribe_scaler *s2 = NULL;
    CU_ASSERT_EQUAL(tribe_scaler_fit(par, t, badcol, 2, NULL, &s2), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(s2);
    tribe_scaler_destroy(&s);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static float huge(int64_t i, int j)
{
    /* magnitudes the plain 2^-32 fixed point could not hold squared */
    return (float)((j == 0 ? 1e15 : 1e-7) * (1.0 + (double)(i % 10)));
}

static void scaled_exact_sums_should_handle_extreme_magnitudes(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = make_table(1000, huge);
    int cols[] = {0, 1};
    tribe_scaler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 2, NULL, &s), TRIBE_OK);
    for (int j = 0; j < 2; j++) {
        long double m = 0, v = 0;
        for (int i = 0; i < 1000; i++)
            m += t->x[i * 4 + j];
        m /= 1000;
        for (int i = 0; i < 1000; i++)
            v += (t->x[i * 4 + j] - m) * (t->x[i * 4 + j] - m);
        double sd = sqrt((double)(v / 1000));
        CU_ASSERT_DOUBLE_EQUAL(s->mean[j], (double)m, 1e-12 * (double)m);
        CU_ASSERT_DOUBLE_EQUAL(s->std[j], sd, 1e-12 * sd);
    }
    CU_ASSERT_EQUAL(tribe_xsum_scale(0, 10), 1.0);
    CU_ASSERT_EQUAL(tribe_xsum_scale(1.0, 1), ldexp(1.0, 90));
    tribe_scaler_destroy(&s);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void scaler_should_not_depend_on_the_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 20000; /* above TRIBE_OMP_MIN_WORK */
    tribe_table *t = make_table(n, plain);
    int cols[] = {0, 1, 2, 3}, logs[] = {1, 0, 1, 0};
    tribe_scaler *a = NULL, *b = NULL;
    float *za = NULL, *zb = NULL;
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 4, logs, &a), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_apply_table(a, t, &za), TRIBE_OK);
    omp_set_num_threads(2);
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 4, logs, &b), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_apply_table(b, t, &zb), TRIBE_OK);
    omp_set_num_threads(nt);
    CU_ASSERT(memcmp(a->mean, b->mean, 4 * sizeof(double)) == 0);
    CU_ASSERT(memcmp(a->std, b->std, 4 * sizeof(double)) == 0);
    CU_ASSERT(memcmp(za, zb, (size_t)n * 4 * sizeof(float)) == 0);
    free(za);
    free(zb);
    tribe_scaler_destroy(&a);
    tribe_scaler_destroy(&b);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static float mixed(int64_t i, int j)
{
    double u = tribe_rng_unif(5, (uint64_t)j, (uint64_t)i);
    switch (j) {
    case 0: return (float)(i % 3001);                                     /* integers past the log1p table */
    case 1: return i % 11 == 0 ? -0.5f : i % 13 == 0 ? -0.0f : (float)(u * 100); /* fractions, -0 */
    case 2: return (float)(i % 57);                                       /* integers, no log1p */
    default: return u < 0.3 ? NAN : (float)(i % 7) + 0.25f * (float)(i % 4); /* NaN, small values */
    }
}

/* The transform as documented in tribe/transform.h, one column at a time:
 * v = log1p(x) or x; mean = exact sum of v (scaled by max |v| and n) / count;
 * std = sqrt(exact sum of (v - mean)^2 (scaled by (max |v| + |mean|)^2) /
 * count); z = (v - mean) / std. */
static void reference_column(const tribe_table *t, int j, int lg, double *mean, double *sd)
{
    double maxabs = 0;
    int64_t cnt = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        float x = t->x[i * t->d + j];
        if (!isnan(x) && fabs(lg ? log1p((double)x) : (double)x) > maxabs)
            maxabs = fabs(lg ? log1p((double)x) : (double)x);
    }
    double sc = tribe_xsum_scale(maxabs, t->n_local);
    tribe_xsum acc = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        float x = t->x[i * t->d + j];
        if (!isnan(x)) {
            acc += tribe_xsum_of((lg ? log1p((double)x) : (double)x) * sc);
            cnt++;
        }
    }
    *mean = tribe_xsum_value(acc) / sc / (double)cnt;
    double bound = maxabs + fabs(*mean), sc2 = tribe_xsum_scale(bound * bound, t->n_local);
    acc = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        float x = t->x[i * t->d + j];
        if (!isnan(x)) {
            double dv = (lg ? log1p((double)x) : (double)x) - *mean;
            acc += tribe_xsum_of(dv * dv * sc2);
        }
    }
    *sd = sqrt(tribe_xsum_value(acc) / sc2 / (double)cnt);
}

static void scaler_should_equal_the_documented_transform_bit_for_bit(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 20000; /* above TRIBE_OMP_MIN_WORK */
    tribe_table *t = make_table(n, mixed);
    int cols[] = {0, 1, 2, 3}, logs[] = {1, 1, 0, 1};
    float *z = NULL;
    int nt = omp_get_max_threads();
    for (int threads = 1; threads <= 3; threads++) {
        tribe_scaler *s = NULL;
        omp_set_num_threads(threads);
        CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 4, logs, &s), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_scaler_apply_table(s, t, &z), TRIBE_OK);
        for (int j = 0; j < 4; j++) {
            double mean, sd;
            reference_column(t, j, logs[j], &mean, &sd);
            CU_ASSERT(memcmp(&s->mean[j], &mean, sizeof mean) == 0);
            CU_ASSERT(memcmp(&s->std[j], &sd, sizeof sd) == 0);
            int64_t wrong = 0;
            for (int64_t i = 0; i < n; i++) {
                float x = t->x[i * 4 + j];
                float want = isnan(x) ? 0.0f : (float)(((logs[j] ? log1p((double)x) : (double)x) - mean) / sd);
                wrong += memcmp(&z[i * 4 + j], &want, sizeof want) != 0;
            }
            CU_ASSERT_EQUAL(wrong, 0);
        }
        free(z);
        z = NULL;
        tribe_scaler_destroy(&s);
    }
    omp_set_num_threads(nt);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void failed_allocations_should_leave_nothing_behind(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = make_table(30, plain);
    int cols[] = {0, 2};
    for (long k = 1; k < 40; k++) {
        tribe_scaler *s = NULL;
        tribe_alloc_fail_after(k);
        tribe_status st = tribe_scaler_fit(par, t, cols, 2, NULL, &s);
        tribe_alloc_fail_after(0);
        if (st == TRIBE_OK) {
            tribe_scaler_destroy(&s);
            break;
        }
        CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
        CU_ASSERT_PTR_NULL(s);
    }
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void a_scaler_from_stored_moments_should_transform_identically(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 500;
    tribe_table *t = make_table(n, plain);
    int cols[] = {0, 1, 2, 3}, logs[] = {0, 1, 1, 0};
    tribe_scaler *s = NULL, *r = NULL;
    float *z1 = NULL, *z2 = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_fit(par, t, cols, 4, logs, &s), TRIBE_OK);
    /* The stored model reads the columns in another order from another table
     * layout: column j of the model from table column rcols[j]. */
    int rcols[] = {3, 2, 1, 0};
    tribe_table *u = NULL;
    const char *rnames[] = {"age", "monetary", "frequency", "recency_days"};
    CU_ASSERT_EQUAL_FATAL(tribe_table_create(n, 4, rnames, &u), TRIBE_OK);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < 4; j++)
            u->x[i * 4 + 3 - j] = t->x[i * 4 + j];
    CU_ASSERT_EQUAL_FATAL(tribe_scaler_from_model(4, rcols, (const char *const *)s->names, s->log1p, s->mean, s->std,
                                                  s->impute, &r),
                          TRIBE_OK);
    z1 = malloc((size_t)n * 4 * sizeof *z1);
    z2 = malloc((size_t)n * 4 * sizeof *z2);
    CU_ASSERT_EQUAL(tribe_scaler_apply(s, t->x, n, 4, t->id, z1), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_scaler_apply(r, u->x, n, 4, NULL, z2), TRIBE_OK);
    CU_ASSERT_EQUAL(memcmp(z1, z2, (size_t)n * 4 * sizeof *z1), 0);
    /* A std of 0 or a NaN mean is a damaged model. */
    double bad_std[] = {1, 1, 0, 1}, bad_mean[] = {0, NAN, 0, 0};
    tribe_scaler *b = NULL;
    CU_ASSERT_EQUAL(tribe_scaler_from_model(4, rcols, (const char *const *)s->names, s->log1p, s->mean, bad_std, NULL, &b),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'monetary'"));
    CU_ASSERT_EQUAL(tribe_scaler_from_model(4, rcols, (const char *const *)s->names, s->log1p, bad_mean, s->std, NULL, &b),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(b);
    free(z1);
    free(z2);
    tribe_scaler_destroy(&s);
    tribe_scaler_destroy(&r);
    tribe_table_destroy(&t);
    tribe_table_destroy(&u);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(scaler_should_standardise_with_population_moments),
        TRIBE_TEST(zero_variance_and_empty_columns_should_map_to_zero),
        TRIBE_TEST(bad_values_should_name_the_customer_and_feature),
        TRIBE_TEST(scaled_exact_sums_should_handle_extreme_magnitudes),
        TRIBE_TEST(scaler_should_not_depend_on_the_thread_count),
        TRIBE_TEST(scaler_should_equal_the_documented_transform_bit_for_bit),
        TRIBE_TEST(failed_allocations_should_leave_nothing_behind),
        TRIBE_TEST(a_scaler_from_stored_moments_should_transform_identically),
        {NULL, NULL}};
    return tribe_test_main("transform", cases);
}
