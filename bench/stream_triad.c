/* STREAM triad a[i] = b[i] + s * c[i] over arrays far larger than the cache,
 * OpenMP, best of 10: the machine's sustainable memory bandwidth for
 * bench/bench_kmeans.sh (counts 24 bytes per element, as STREAM does).
 *   stream_triad [MILLION_ELEMENTS]   (default 40: 960 MB moved per trial) */
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>

int main(int argc, char **argv)
{
    long n = (argc > 1 ? atol(argv[1]) : 40) * 1000000L;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c)
        return 1;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        a[i] = 0;
        b[i] = 1;
        c[i] = 2;
    }
    double best = 1e30;
    for (int t = 0; t < 10; t++) {
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++)
            a[i] = b[i] + 3.0 * c[i];
        double e = omp_get_wtime() - t0;
        if (e < best)
            best = e;
    }
    printf("%.3f\n", 24.0 * n / best / 1e9); /* GB/s */
    free(a);
    free(b);
    free(c);
    return 0;
}
