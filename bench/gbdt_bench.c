/* Benchmark driver for the gradient-boosting comparison (bench/bench_gbdt.sh);
 * not installed, not a user command.
 *
 *   tribe_bench_gbdt gen N FILE [bench|spend]
 *       writes N generated regression rows: int64 N, int64 D (= 16), then
 *       float32 x[N][D] (NaN = missing), then float64 y[N].
 *   mpiexec -n P tribe_bench_gbdt train FILE MODEL.json [SHAP_ROWS]
 *       fits on the first 80% of the rows (each rank reads its block), writes
 *       the model JSON (rank 0) and prints `key=value` lines: train_s, and on
 *       rank 0 the test R^2 and prediction time on the last 20% and the
 *       TreeSHAP time on the first SHAP_ROWS test rows (0 = skip). Any column
 *       count D >= 1 is read (the file's header gives it).
 *
 * The data: 16 features from the counter RNG (streams 205..207, seed 2024),
 * ten informative (Friedman #1 on x0..x4 plus a step interaction, a cosine,
 * a log-product and two discrete ones), six pure noise; 1% missing in x0, x5
 * and x10 (a missing x0 or x5 is treated as 0.5 by the target); Gaussian
 * noise of sd 1 ("bench", the default target). "spend" is a dollar amount
 * from the same features, skewed like real customer spend: lognormal,
 * exp(1.2 + 0.12 s + 0.9 z) with s the noiseless bench signal and z the same
 * standard normal draw, rounded to cents (median about $25, mean about $40,
 * the largest of 10M rows tens of thousands of dollars). */
#include "tribe/core.h"
#include "tribe/gbdt.h"
#include "tribe/par.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { D = 16, STREAM_X = TRIBE_STREAM_BENCH_GBDT_X, STREAM_NOISE = TRIBE_STREAM_BENCH_GBDT_NOISE,
       STREAM_MISS = TRIBE_STREAM_BENCH_GBDT_MISS };
static const uint64_t SEED = 2024;

/* CPU seconds (user + system, all threads) of this process. */
static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static void gen_row(int64_t i, int spend, float *xr, double *y)
{
    for (int f = 0; f < D; f++)
        xr[f] = (float)tribe_rng_unif(SEED, STREAM_X, (uint64_t)i * D + (uint64_t)f);
    xr[8] = (float)floor(xr[8] * 12);  /* 12 levels */
    xr[9] = (float)floor(xr[9] * 4);   /* 4 levels */
    xr[11] = (float)(xr[11] * 1000.0); /* wide-range noise */
    double x0 = xr[0], x5 = xr[5];
    double s = 10 * sin(M_PI * x0 * xr[1]) + 20 * (xr[2] - 0.5) * (xr[2] - 0.5) + 10 * xr[3] + 5 * xr[4] +
               4 * (x5 > 0.5) * xr[6] + 2 * cos(6 * xr[7]) + 0.3 * xr[8] * (xr[9] - 1.5);
    double z = tribe_rng_normal(SEED, STREAM_NOISE, (uint64_t)i);
    *y = spend ? round(100.0 * exp(1.2 + 0.12 * s + 0.9 * z)) / 100.0 : s + z;
    static const int miss[3] = {0, 5, 10};
    for (int k = 0; k < 3; k++)
        if (tribe_rng_unif(SEED, STREAM_MISS, (uint64_t)i * 3 + (uint64_t)k) < 0.01)
            xr[miss[k]] = NAN;
}

static int gen(int64_t n, const char *path, int spend)
{
    float *x = malloc((size_t)n * D * sizeof *x);
    double *y = malloc((size_t)n * sizeof *y);
    if (!x || !y)
        return 5;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        gen_row(i, spend, x + i * D, y + i);
    FILE *fp = fopen(path, "wb");
    int64_t hd[2] = {n, D};
    int ok = fp && fwrite(hd, sizeof hd, 1, fp) == 1 && fwrite(x, sizeof *x * D, (size_t)n, fp) == (size_t)n &&
             fwrite(y, sizeof *y, (size_t)n, fp) == (size_t)n;
    if (fp)
        ok = (fclose(fp) == 0) && ok;
    free(x);
    free(y);
    if (!ok) {
        fprintf(stderr, "gbdt_bench: cannot write %s\n", path);
        return 3;
    }
    return 0;
}

/* Rows [lo, hi) of the file into x[m][*d], y[m]; with hi < 0 only the
 * header (N into *n_all, D into *d). The header must agree with the file's
 * size: 16 + N * (4 D + 8) bytes. */
static int read_rows(const char *path, int64_t lo, int64_t hi, int64_t *n_all, int *d, float **x, double **y)
{
    FILE *fp = fopen(path, "rb");
    int64_t hd[2];
    if (!fp) {
        fprintf(stderr, "gbdt_bench: cannot open %s: %s\n", path, strerror(errno));
        return 3;
    }
    if (fread(hd, sizeof hd, 1, fp) != 1) {
        fprintf(stderr, "gbdt_bench: %s is shorter than its 16-byte header (int64 rows, int64 columns)\n", path);
        fclose(fp);
        return 3;
    }
    long size = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
    if (hd[0] < 1 || hd[1] < 1 || hd[1] > 1000000 || size < 0 ||
        (double)size != 16.0 + (double)hd[0] * (4.0 * (double)hd[1] + 8.0)) {
        fprintf(stderr,
                "gbdt_bench: %s is not a data file: its header says %lld rows x %lld columns "
                "(16 + rows * (4 columns + 8) bytes), the file has %ld bytes\n",
                path, (long long)hd[0], (long long)hd[1], size);
        fclose(fp);
        return 3;
    }
    *n_all = hd[0];
    *d = (int)hd[1];
    if (hi < 0)
        return fclose(fp), 0;
    int64_t m = hi - lo, dd = hd[1];
    *x = malloc((size_t)(m + 1) * (size_t)dd * sizeof **x);
    *y = malloc((size_t)(m + 1) * sizeof **y);
    int ok = *x && *y && fseek(fp, (long)(16 + lo * dd * 4), SEEK_SET) == 0 &&
             fread(*x, sizeof **x * (size_t)dd, (size_t)m, fp) == (size_t)m &&
             fseek(fp, (long)(16 + hd[0] * dd * 4 + lo * 8), SEEK_SET) == 0 &&
             fread(*y, sizeof **y, (size_t)m, fp) == (size_t)m;
    fclose(fp);
    if (!ok) {
        fprintf(stderr, "gbdt_bench: short read of %s\n", path);
        return 3;
    }
    return 0;
}

static int train(tribe_par *par, const char *path, const char *model_path, int64_t shap_rows)
{
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t n_all = 0, lo, hi;
    int d = 0;
    float *x = NULL, *xt = NULL;
    double *y = NULL, *yt = NULL;
    if (read_rows(path, 0, -1, &n_all, &d, NULL, NULL))
        return 3;
    int64_t n_train = n_all / 10 * 8;
    tribe_par_block(n_train, size, rank, &lo, &hi);
    if (read_rows(path, lo, hi, &n_all, &d, &x, &y))
        return 3;
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg); /* 100 rounds, 31 leaves, 255 bins, lr 0.1, lambda 1 */
    cfg.min_samples_leaf = 20;
    cfg.min_child_weight = 1e-3;
    tribe_gbdt_model *m = NULL;
    tribe_par_barrier(par);
    double t0 = tribe_now(), c0 = cpu_now();
    tribe_rows rows = {par, hi - lo, lo, n_train}; /* tribe_par_block's partition: tiled by construction */
    tribe_status st = tribe_gbdt_fit(&(tribe_dmat){&rows, x, d}, y, NULL, &cfg, &m);
    int64_t cpu_us = (int64_t)((cpu_now() - c0) * 1e6); /* summed over ranks below */
    tribe_par_barrier(par);
    double t1 = tribe_now();
    if (st == TRIBE_OK)
        st = tribe_par_sum_i64(par, &cpu_us, 1);
    free(x);
    free(y);
    if (st != TRIBE_OK) {
        fprintf(stderr, "gbdt_bench: %s\n", tribe_errmsg());
        return 5;
    }
    int rc = 0;
    if (rank == 0) {
        printf("train_s=%.3f\ntrain_cpu_s=%.3f\n", t1 - t0, 1e-6 * (double)cpu_us);
        if (tribe_gbdt_save(m, model_path) != TRIBE_OK) {
            fprintf(stderr, "gbdt_bench: %s\n", tribe_errmsg());
            rc = 3;
        }
        int64_t nt = n_all - n_train;
        if (rc == 0 && read_rows(path, n_train, n_all, &n_all, &d, &xt, &yt) == 0) {
            double *pred = malloc((size_t)nt * sizeof *pred);
            double a = tribe_now(), ca = cpu_now();
            tribe_gbdt_predict(m, xt, nt, pred);
            double b = tribe_now(), cb = cpu_now();
            double ym = 0, sse = 0, sst = 0;
            for (int64_t i = 0; i < nt; i++)
                ym += yt[i];
            ym /= (double)nt;
            for (int64_t i = 0; i < nt; i++) {
                sse += (yt[i] - pred[i]) * (yt[i] - pred[i]);
                sst += (yt[i] - ym) * (yt[i] - ym);
            }
            printf("test_rows=%lld\nr2=%.5f\npredict_s=%.3f\npredict_cpu_s=%.3f\n", (long long)nt, 1 - sse / sst, b - a,
                   cb - ca);
            if (shap_rows > 0) {
                int64_t ns = shap_rows < nt ? shap_rows : nt;
                double *phi = malloc((size_t)ns * (size_t)(d + 1) * sizeof *phi);
                a = tribe_now();
                ca = cpu_now();
                st = tribe_gbdt_shap(m, xt, ns, phi);
                b = tribe_now();
                cb = cpu_now();
                double maxerr = 0; /* additivity check against the prediction */
                for (int64_t i = 0; i < ns && st == TRIBE_OK; i++) {
                    double s = 0;
                    for (int f = 0; f <= d; f++)
                        s += phi[i * (d + 1) + f];
                    maxerr = fmax(maxerr, fabs(s - pred[i]));
                }
                printf("shap_rows=%lld\nshap_s=%.3f\nshap_cpu_s=%.3f\nshap_additivity_maxerr=%.3g\n", (long long)ns, b - a,
                       cb - ca, maxerr);
                free(phi);
            }
            free(pred);
        } else {
            rc = rc ? rc : 3;
        }
    }
    free(xt);
    free(yt);
    tribe_gbdt_model_destroy(&m);
    return rc;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "gen") == 0) {
        int spend = argc == 5 && strcmp(argv[4], "spend") == 0;
        if (argc == 5 && !spend && strcmp(argv[4], "bench") != 0) {
            fprintf(stderr, "gbdt_bench: unknown target '%s' (bench or spend)\n", argv[4]);
            return 2;
        }
        return gen(atoll(argv[2]), argv[3], spend);
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "train") == 0) {
        tribe_par *par = NULL;
        if (tribe_par_init(&argc, &argv, &par) != TRIBE_OK) {
            fprintf(stderr, "gbdt_bench: %s\n", tribe_errmsg());
            return 4;
        }
        int rc = train(par, argv[2], argv[3], argc == 5 ? atoll(argv[4]) : 0);
        tribe_par_finalize(&par);
        return rc;
    }
    fprintf(stderr, "usage: tribe_bench_gbdt gen N FILE [bench|spend] | train FILE MODEL.json [SHAP_ROWS]\n");
    return 2;
}
