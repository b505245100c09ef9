/* bench_passes: times the single-pass stages of a fixed-K run (the feature
 * transform and the segment statistics) on a customers.h5, for
 * bench/bench_run.sh, and prints a hash of everything they compute so two
 * builds can be checked for identical results.
 *   bench_passes FILE.h5 [--k K] [--seed S] [--reps R] [--only STAGE]
 * The model columns are every numeric feature, log1p on the job's default
 * log1p columns (docs/job-spec.md); labels come from a K-Means fit of the
 * transformed matrix (tribe_kmeans_fit with the default settings, then one
 * assignment), as in `tribe run`. Each stage is timed R times (default 5,
 * best kept, wall and CPU seconds) between barriers; --only times one stage (fit, apply, means,
 * medians, quartiles, build: for profilers), the others once. Prints one JSON line on rank 0: seconds per
 * stage, the bytes each reads, and "hash", an FNV-1a 64 of the scaler, the
 * transformed matrix (this rank's rows, combined over ranks in rank order)
 * and every segment statistic. Collective. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>

#include "tribe/cluster.h"
#include "tribe/h5.h"
#include "tribe/transform.h"
#include "tribe/xstats.h"

static const char *LOG1P[] = {"recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
                              "mean_days_between", "distinct_products", "sessions", "pages_per_session",
                              "minutes_on_site"};

static uint64_t hash_segs(uint64_t h, const tribe_segments *s)
{
    int d = s->d;
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        h = tribe_fnv1a(h, &g->size, sizeof g->size);
        h = tribe_fnv1a(h, &g->revenue_share, sizeof g->revenue_share);
        h = tribe_fnv1a(h, g->mean, (size_t)d * sizeof *g->mean);
        h = tribe_fnv1a(h, g->median, (size_t)d * sizeof *g->median);
        h = tribe_fnv1a(h, g->q1, (size_t)d * sizeof *g->q1);
        h = tribe_fnv1a(h, g->q3, (size_t)d * sizeof *g->q3);
        h = tribe_fnv1a(h, g->name, strlen(g->name));
    }
    h = tribe_fnv1a(h, s->overall_mean, (size_t)d * sizeof *s->overall_mean);
    h = tribe_fnv1a(h, s->overall_median, (size_t)d * sizeof *s->overall_median);
    h = tribe_fnv1a(h, s->overall_q1, (size_t)d * sizeof *s->overall_q1);
    h = tribe_fnv1a(h, s->overall_q3, (size_t)d * sizeof *s->overall_q3);
    for (int m = 0; m < s->n_mix; m++)
        h = tribe_fnv1a(h, s->mix[m].count, (size_t)(s->k + 1) * (size_t)s->mix[m].n_levels * sizeof(int64_t));
    return h;
}

/* This process's CPU seconds (all its threads): unlike the wall clock, not
 * lengthened by other jobs taking the cores, so steadier on a shared machine
 * (with one rank; several ranks spin while they wait for each other). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of reps of one collective call, between barriers: wall seconds into
 * best[0], CPU seconds into best[1]. */
#define TIME_BEST(best, stage, call)                                                                                  \
    do {                                                                                                              \
        int r_ = only && strcmp(only, stage) ? 1 : reps;                                                              \
        for (int rep_ = 0; rep_ < r_; rep_++) {                                                                       \
            TRIBE_TRY(tribe_par_barrier(par));                                                                        \
            double t0_ = tribe_now(), c0_ = cpu_now();                                                                \
            call;                                                                                                     \
            TRIBE_TRY(tribe_par_barrier(par));                                                                        \
            double e_ = tribe_now() - t0_, f_ = cpu_now() - c0_;                                                      \
            (best)[0] = e_ < (best)[0] ? e_ : (best)[0];                                                              \
            (best)[1] = f_ < (best)[1] ? f_ : (best)[1];                                                              \
        }                                                                                                             \
    } while (0)

int main(int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = NULL;
    tribe_table *t = NULL;
    tribe_scaler *sc = NULL;
    tribe_segments *segs = NULL;
    float *z = NULL, *dist = NULL;
    double *cent = NULL, *stat = NULL;
    int32_t *lab = NULL;
    int *cols = NULL, *logf = NULL;
    if (tribe_par_init(&argc, &argv, &par) != TRIBE_OK)
        return 4;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_passes FILE.h5 [--k K] [--seed S] [--reps R]\n");
        tribe_par_finalize(&par);
        return 2;
    }
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = 7;
    cfg.seed = 42;
    int reps = 5;
    const char *only = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--k"))
            cfg.k = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            cfg.seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
    }
    TRIBE_TRY(tribe_store_read_customers(par, argv[1], &t, NULL));
    int d = t->d, k = cfg.k, mon = tribe_table_feature(t, "monetary");
    int64_t n = t->n_local;
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)d, sizeof *cols));
    TRIBE_TRY(tribe_calloc((void **)&logf, (size_t)d, sizeof *logf));
    for (int j = 0; j < d; j++) {
        cols[j] = j;
        for (size_t l = 0; l < sizeof LOG1P / sizeof LOG1P[0]; l++)
            logf[j] |= strcmp(t->names[j], LOG1P[l]) == 0;
    }
    TRIBE_TRY(tribe_alloc((void **)&z, (size_t)(n + 1) * (size_t)d * sizeof *z));
    TRIBE_TRY(tribe_alloc((void **)&lab, (size_t)(n + 1) * sizeof *lab));
    TRIBE_TRY(tribe_alloc((void **)&dist, (size_t)(n + 1) * sizeof *dist));
    TRIBE_TRY(tribe_alloc((void **)&cent, (size_t)k * (size_t)d * sizeof *cent));
    TRIBE_TRY(tribe_alloc((void **)&stat, 2 * (size_t)(k + 1) * (size_t)d * sizeof *stat));

    double t_fit[2] = {1e30, 1e30}, t_apply[2] = {1e30, 1e30}, t_means[2] = {1e30, 1e30};
    double t_medians[2] = {1e30, 1e30}, t_quart[2] = {1e30, 1e30}, t_build[2] = {1e30, 1e30};
    TIME_BEST(t_fit, "fit", tribe_scaler_destroy(&sc); TRIBE_TRY(tribe_par_agree(par, tribe_scaler_fit(par, t, cols, d, logf, &sc))));
    TIME_BEST(t_apply, "apply", TRIBE_TRY(tribe_par_agree(par, tribe_scaler_apply(sc, t->x, n, d, t->id, z))));
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n, t->offset, t->n_global, &rows));
    TRIBE_TRY(tribe_par_agree(par, tribe_kmeans_fit(&(tribe_dmat){&rows, z, d}, &cfg, cent, NULL)));
    tribe_kmeans_assign(z, n, d, cent, k, lab, dist);
    static const double Q[2] = {0.25, 0.75};
    TIME_BEST(t_means, "means", TRIBE_TRY(tribe_xstats_means(par, t->x, n, d, d, lab, k, 1, NULL, stat, stat + (size_t)(k + 1) * d)));
    TIME_BEST(t_medians, "medians", TRIBE_TRY(tribe_xstats_medians(par, t->x, n, d, d, lab, k, 1, stat)));
    TIME_BEST(t_quart, "quartiles", TRIBE_TRY(tribe_xstats_quantiles(par, t->x, n, d, d, lab, k, 1, 2, Q, stat)));
    TIME_BEST(t_build, "build", tribe_segments_destroy(&segs);
              TRIBE_TRY(tribe_par_agree(par, tribe_segments_build(par, t, lab, k, cent, cols, d, mon, &segs))));
    tribe_segments_name(segs);

    /* One hash over every rank's z in rank order: rank r folds in r's rows
     * after receiving the hash so far (a ring of broadcasts keeps it simple). */
    uint64_t h = TRIBE_FNV_INIT;
    h = tribe_fnv1a(h, sc->mean, (size_t)d * sizeof *sc->mean);
    h = tribe_fnv1a(h, sc->std, (size_t)d * sizeof *sc->std);
    h = tribe_fnv1a(h, sc->impute, (size_t)d * sizeof *sc->impute);
    for (int r = 0; r < tribe_par_size(par); r++) {
        if (r == tribe_par_rank(par))
            h = tribe_fnv1a(h, z, (size_t)n * (size_t)d * sizeof *z);
        TRIBE_TRY(tribe_par_bcast(par, &h, sizeof h, r));
    }
    h = hash_segs(h, segs);
    double mb = (double)t->n_global * d * 4 / 1e6;
    if (tribe_par_rank(par) == 0) {
        const char *names[6] = {"scaler_fit", "scaler_apply", "xstats_means", "xstats_medians", "xstats_quartiles",
                                "segments_build"};
        const double *tm[6] = {t_fit, t_apply, t_means, t_medians, t_quart, t_build};
        printf("{\"ranks\": %d, \"threads\": %d, \"n\": %lld, \"d\": %d, \"k\": %d, \"table_mb\": %.2f, ",
               tribe_par_size(par), omp_get_max_threads(), (long long)t->n_global, d, k, mb);
        for (int i = 0; i < 6; i++)
            printf("\"%s_s\": %.5f, \"%s_cpu_s\": %.5f, ", names[i], tm[i][0], names[i], tm[i][1]);
        printf("\"hash\": \"%016llx\"}\n", (unsigned long long)h);
    }
cleanup:
    if (st != TRIBE_OK)
        fprintf(stderr, "bench_passes: %s\n", tribe_errmsg());
    tribe_scaler_destroy(&sc);
    tribe_segments_destroy(&segs);
    free(z);
    free(dist);
    free(cent);
    free(stat);
    free(lab);
    free(cols);
    free(logf);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
    return st == TRIBE_OK ? 0 : 5;
}
