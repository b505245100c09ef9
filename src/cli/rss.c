/* Peak resident memory per rank, for the run record (cli.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int64_t tribe_cli_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (int64_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

tribe_status tribe_cli_rss_json(tribe_par *par, int n_stages, const char *const *stage, const int64_t *at_stage,
                                char **out)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par);
    int64_t mine = tribe_cli_peak_rss(), *all = NULL, *smax = NULL;
    char *buf = NULL;
    *out = NULL;
    TRIBE_TRY(tribe_calloc((void **)&all, (size_t)size, sizeof *all));
    TRIBE_TRY(tribe_calloc((void **)&smax, (size_t)n_stages + 1, sizeof *smax));
    all[tribe_par_rank(par)] = mine;
    /* One slot per rank, zero elsewhere: the sum is the gather. */
    TRIBE_TRY(tribe_par_sum_i64(par, all, size));
    for (int s = 0; s < n_stages; s++)
        smax[s] = at_stage[s];
    TRIBE_TRY(tribe_par_max_i64(par, smax, n_stages));
    size_t cap = 128 + (size_t)size * 24 + (size_t)n_stages * 64, n = 0;
    TRIBE_TRY(tribe_alloc((void **)&buf, cap));
    int64_t mx = 0;
    for (int r = 0; r < size; r++)
        mx = all[r] > mx ? all[r] : mx;
    n += (size_t)snprintf(buf + n, cap - n, "{\"peak_rss_bytes_max\": %lld, \"peak_rss_bytes\": [", (long long)mx);
    for (int r = 0; r < size; r++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", r ? ", " : "", (long long)all[r]);
    /* cap leaves 24 bytes a rank and 64 a stage (names are short literals). */
    n += (size_t)snprintf(buf + n, cap - n, "], \"peak_rss_bytes_after\": {");
    for (int s = 0, first = 1; s < n_stages; s++)
        if (smax[s] > 0) { /* stages without a measurement (0) are left out */
            n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\": %lld", first ? "" : ", ", stage[s],
                                  (long long)smax[s]);
            first = 0;
        }
    snprintf(buf + n, cap - n, "}}");
    if (tribe_par_rank(par) == 0) {
        char line[1024];
        size_t k = (size_t)snprintf(line, sizeof line, "peak RSS per rank (MB):");
        for (int r = 0; r < size && k < sizeof line; r++)
            k += (size_t)snprintf(line + k, sizeof line - k, " %.0f", (double)all[r] / 1048576.0);
        TRIBE_INFO("%s", line);
    }
    *out = buf;
    buf = NULL;
cleanup:
    free(all);
    free(smax);
    free(buf);
    return st;
}
