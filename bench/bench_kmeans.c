/* bench_kmeans: times tribe_kmeans_fit and one full tribe_kmeans_assign pass
 * on a customers.h5 (raw features, no transform: the same matrix the
 * scikit-learn peer sees), for bench/bench_kmeans.sh.
 *   bench_kmeans FILE.h5 OUT_PREFIX [--k K] [--seed S] [--init pp|par] [--algorithm minibatch|lloyd]
 *                [--n-init R] [--max-steps M] [--reps R] [--kernel 0|1|2|-1]
 * --reps: timed repetitions of each pass (default 3, best kept); besides the
 * assignment it times one fused Lloyd pass (assign + exact sums, counts and
 * sums of |x|^2, no labels out). --kernel: the pass kernel (0 SGEMM, 1 direct
 * AVX-512, 2 direct AVX2, -1 the automatic choice; tribe_kmeans_cfg.kernel,
 * for the fit and the timed passes; "kernel" in the output is the one that
 * ran). The timed passes reuse one workspace, as the fit's passes do.
 * Writes OUT_PREFIX.labels (int32[n], native order) and OUT_PREFIX.centroids
 * (float64[k][d]) and prints one JSON line on rank 0. Collective. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <omp.h>

#include "tribe/cluster.h"
#include "tribe/h5.h"
#include "../src/cluster/kmeans_internal.h"

static tribe_status write_at(const char *path, int create, const void *buf, size_t bytes, int64_t off)
{
    int fd = open(path, O_WRONLY | (create ? O_CREAT : 0), 0644);
    if (fd < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
    ssize_t w = bytes ? pwrite(fd, buf, bytes, (off_t)off) : 0;
    close(fd);
    return w == (ssize_t)bytes ? TRIBE_OK : tribe_fail(TRIBE_ERR_IO, "%s: short write", path);
}

int main(int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = NULL;
    tribe_table *t = NULL;
    double *cent = NULL;
    int32_t *lab = NULL;
    float *dist = NULL;
    char path[4096];
    if (tribe_par_init(&argc, &argv, &par) != TRIBE_OK)
        return 4;
    tribe_blas_init();
    tribe_kmeans_ws *ws = NULL;
    if (argc < 3) {
        fprintf(stderr, "usage: bench_kmeans FILE.h5 OUT_PREFIX [options]\n");
        tribe_par_finalize(&par);
        return 2;
    }
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = 8;
    int reps = 3;
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--k")) cfg.k = atoi(v);
        else if (!strcmp(o, "--seed")) cfg.seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--init")) cfg.init = !strcmp(v, "par") ? TRIBE_KMEANS_INIT_PARALLEL : !strcmp(v, "ppl") ? TRIBE_KMEANS_INIT_PP_LLOYD : TRIBE_KMEANS_INIT_PP;
        else if (!strcmp(o, "--algorithm")) cfg.algorithm = !strcmp(v, "lloyd") ? TRIBE_KMEANS_LLOYD : TRIBE_KMEANS_MINIBATCH;
        else if (!strcmp(o, "--n-init")) cfg.n_init = atoi(v);
        else if (!strcmp(o, "--max-steps")) cfg.max_steps = atoi(v);
        else if (!strcmp(o, "--inertia-tol")) cfg.inertia_tol = atof(v);
        else if (!strcmp(o, "--init-sample")) cfg.init_sample = atoll(v);
        else if (!strcmp(o, "--reps")) reps = atoi(v) > 0 ? atoi(v) : 1;
        else if (!strcmp(o, "--kernel")) cfg.kernel = atoi(v);
    }
    int rank = tribe_par_rank(par);
    double t0 = tribe_now();
    TRIBE_TRY(tribe_store_read_customers(par, argv[1], &t, NULL));
    TRIBE_TRY(tribe_par_barrier(par));
    double t_read = tribe_now() - t0;
    int d = t->d, k = cfg.k;
    TRIBE_TRY(tribe_alloc((void **)&cent, (size_t)k * d * sizeof *cent));
    TRIBE_TRY(tribe_alloc((void **)&lab, (size_t)(t->n_local + 1) * sizeof *lab));
    TRIBE_TRY(tribe_alloc((void **)&dist, (size_t)(t->n_local + 1) * sizeof *dist));
    tribe_kmeans_info info;
    t0 = tribe_now();
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, t->n_local, t->offset, t->n_global, &rows));
    TRIBE_TRY(tribe_par_agree(par, tribe_kmeans_fit(&(tribe_dmat){&rows, t->x, d}, &cfg, cent, &info)));
    TRIBE_TRY(tribe_par_barrier(par));
    double t_fit = tribe_now() - t0;
    /* One full assignment pass (tribe_kmeans_assign's outputs; best of reps:
     * the machine is shared). */
    double t_assign = 1e30, t_fused = 1e30;
    int64_t rechecked = 0;
    int used = -1;
    tribe_kmeans_ws_spec spec = {.nsets = 1, .k = k, .d = d, .threads = omp_get_max_threads(), .kernel = cfg.kernel};
    TRIBE_TRY(tribe_par_agree(par, tribe_kmeans_ws_create(&spec, &ws)));
    for (int rep = 0; rep < reps && st == TRIBE_OK; rep++) {
        tribe_kmeans_pass_io io = {.cent = cent, .nsets = 1, .k = k, .d = d, .label = lab, .dist2f = dist};
        TRIBE_TRY(tribe_par_barrier(par));
        t0 = tribe_now();
        st = tribe_kmeans_pass(ws, t->x, t->n_local, &io);
        used = io.kernel;
        TRIBE_TRY(tribe_par_barrier(par));
        double e = tribe_now() - t0;
        if (e < t_assign)
            t_assign = e;
    }
    TRIBE_TRY(st);
    {
        /* One fused Lloyd pass (what each Lloyd iteration runs). */
        tribe_xsum *sum = NULL, *sq = NULL;
        int64_t *cnt = NULL;
        TRIBE_TRY(tribe_alloc((void **)&sum, (size_t)k * d * sizeof *sum));
        TRIBE_TRY(tribe_alloc((void **)&sq, (size_t)k * sizeof *sq));
        TRIBE_TRY(tribe_alloc((void **)&cnt, (size_t)k * sizeof *cnt));
        for (int rep = 0; rep < reps && st == TRIBE_OK; rep++) {
            tribe_kmeans_pass_io io = {.cent = cent, .nsets = 1, .k = k, .d = d, .sum = sum, .count = cnt, .sumsq = sq};
            TRIBE_TRY(tribe_par_barrier(par));
            t0 = tribe_now();
            st = tribe_kmeans_pass(ws, t->x, t->n_local, &io);
            rechecked = io.rechecked;
            TRIBE_TRY(tribe_par_barrier(par));
            double e = tribe_now() - t0;
            if (e < t_fused)
                t_fused = e;
        }
        free(sum);
        free(sq);
        free(cnt);
        TRIBE_TRY(st);
    }
    double t_naive = tribe_now();
    {
        int32_t *l2 = NULL;
        TRIBE_TRY(tribe_alloc((void **)&l2, (size_t)(t->n_local + 1) * sizeof *l2));
        tribe_kmeans_assign_naive(t->x, t->n_local, d, cent, k, l2, NULL);
        int same = memcmp(l2, lab, (size_t)t->n_local * sizeof *l2) == 0;
        free(l2);
        if (!same) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "the assignment pass differs from the naive loop");
            goto cleanup;
        }
    }
    TRIBE_TRY(tribe_par_barrier(par));
    t_naive = tribe_now() - t_naive;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s.labels", argv[2]));
    if (rank == 0)
        st = write_at(path, 1, NULL, 0, 0);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_agree(par, write_at(path, 0, lab, (size_t)t->n_local * sizeof *lab, t->offset * 4)));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s.centroids", argv[2]));
    if (rank == 0)
        st = write_at(path, 1, cent, (size_t)k * d * sizeof *cent, 0);
    TRIBE_TRY(tribe_par_agree(par, st));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int64_t rss = (int64_t)ru.ru_maxrss;
    TRIBE_TRY(tribe_par_max_i64(par, &rss, 1));
    if (rank == 0)
        printf("{\"ranks\": %d, \"threads\": %d, \"n\": %lld, \"d\": %d, \"k\": %d, \"read_s\": %.4f, \"fit_s\": %.4f, "
               "\"kernel\": %d, \"assign_s\": %.5f, \"fused_s\": %.5f, \"rechecked\": %lld, "
               "\"naive_assign_s\": %.5f, \"inertia\": %.17g, \"steps\": %d, \"passes\": %lld, "
               "\"best_init\": %d, \"reassigned\": %lld, \"peak_rss_mib\": %.1f}\n",
               tribe_par_size(par), omp_get_max_threads(), (long long)t->n_global, d, k, t_read, t_fit, used,
               t_assign, t_fused, (long long)rechecked, t_naive, info.inertia, info.steps, (long long)info.passes,
               info.best_init, (long long)info.reassigned, rss / 1024.0);
cleanup:
    if (st != TRIBE_OK)
        fprintf(stderr, "bench_kmeans: %s\n", tribe_errmsg());
    tribe_kmeans_ws_destroy(&ws);
    free(cent);
    free(lab);
    free(dist);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
    return st == TRIBE_OK ? 0 : 5;
}
