/* Times the sampled silhouette (s sampled rows against all n rows) with one
 * distance kernel, and the exact squared-Euclidean quality pass, on one rank
 * for synthetic planted blobs n x 16 (8 clusters). Built and run by
 * bench/silhouette_bench.sh:  silhouette_bench N S
 * SIL_KERNEL=0|1|2|3 picks the kernel (silhouette_internal.h: 0 the portable
 * C for the baseline ISA, 1 the portable C for the CPU's best ISA, 2 AVX2,
 * 3 AVX-512; default the best the CPU has); SIL_DUMP=FILE writes the rows
 * and labels for the scikit-learn comparison. */
#include "tribe/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/cluster/silhouette_internal.h"

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

static const char *const kernel_name[] = {"portable, baseline ISA", "portable, compiled for the CPU",
                                          "AVX2 + FMA intrinsics", "AVX-512 intrinsics"};

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
    int64_t s = argc > 2 ? atoll(argv[2]) : 2000;
    int d = 16, k = 8;
    tribe_par *par = NULL;
    tribe_rows rows;
    int level = tribe_silhouette_kernel(getenv("SIL_KERNEL") ? atoi(getenv("SIL_KERNEL")) : -1);
    if (tribe_par_serial(&par) != TRIBE_OK || tribe_rows_init(par, n, 0, n, &rows) != TRIBE_OK)
        return 1;
    float *z = malloc((size_t)n * d * sizeof *z);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    if (!z || !lab)
        return 1;
    for (int64_t i = 0; i < n; i++) {
        int c = (int)tribe_rng_below(7, 1, (uint64_t)i, (uint64_t)k);
        lab[i] = c;
        for (int j = 0; j < d; j++)
            z[i * d + j] = (float)(2.0 * (j % k == c) + tribe_rng_normal(7, 2, (uint64_t)(i * d + j)));
    }
    tribe_dmat zm = {&rows, z, d};
    double mean = 0, ci = 0, t0 = tribe_now(), c0 = cpu();
    if (tribe_silhouette_sample(&zm, lab, k, s, 42, &mean, &ci) != TRIBE_OK)
        return 1;
    double t1 = tribe_now();
    printf("kernel %d (%s) n=%lld s=%lld: silhouette %.6f +/- %.6f in %.3f s (cpu %.3f s)\n", level,
           kernel_name[level], (long long)n, (long long)s, mean, ci, t1 - t0, cpu() - c0);
    tribe_cluster_quality q;
    t0 = tribe_now();
    c0 = cpu();
    if (tribe_cluster_quality_compute(&zm, lab, k, &q) != TRIBE_OK)
        return 1;
    t1 = tribe_now();
    printf("quality n=%lld: CH %.6g DB %.6f exact sq-silhouette %.6f in %.3f s (cpu %.3f s)\n", (long long)n, q.ch,
           q.db, q.silhouette_sq, t1 - t0, cpu() - c0);
    FILE *f = getenv("SIL_DUMP") ? fopen(getenv("SIL_DUMP"), "wb") : NULL;
    if (f) { /* for the sklearn comparison in silhouette_bench.sh */
        fwrite(z, sizeof *z, (size_t)n * d, f);
        fwrite(lab, sizeof *lab, (size_t)n, f);
        fclose(f);
    }
    free(z);
    free(lab);
    tribe_par_finalize(&par);
    return 0;
}
