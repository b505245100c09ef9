/* Several files per source: which rank reads which file (ingest_internal.h).
 * Plain files are split between all ranks by byte ranges (tribe_csv_open_shared)
 * whatever their number; gzip files cannot be split, so when there are
 * several each goes whole to one rank instead of every rank decompressing
 * every file. The results do not depend on this plan: every aggregate is
 * exact and rejected rows are merged by (source, line). */
#include "ingest_internal.h"
#include "tribe/csv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    int64_t size; /* bytes on disk */
    int32_t gz, pad;
} probe;

/* Rank 0: opens every file in order, checks its header, notes its size and
 * whether it is gzip. Stops at the first bad file. Not collective. */
static tribe_status probe_files(const ing_files *f, ing_header_check check, const void *ctx, probe *pr)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    for (int i = 0; i < f->n; i++) {
        struct stat sb;
        TRIBE_TRY(tribe_csv_open(f->path[i], NULL, &c));
        TRIBE_TRY(check(ctx, c));
        pr[i].gz = tribe_csv_is_gzip(c);
        pr[i].size = stat(f->path[i], &sb) == 0 ? (int64_t)sb.st_size : 0;
        tribe_csv_close(&c);
    }
cleanup:
    tribe_csv_close(&c);
    return st;
}

/* Greedy longest-processing-time assignment of the gzip files to ranks. */
static tribe_status assign_gz(const probe *pr, int n, int size, int *owner)
{
    tribe_status st = TRIBE_OK;
    int *order = NULL, m = 0;
    int64_t *load = NULL;
    TRIBE_TRY(tribe_calloc((void **)&order, (size_t)n, sizeof *order));
    TRIBE_TRY(tribe_calloc((void **)&load, (size_t)size, sizeof *load));
    for (int i = 0; i < n; i++)
        if (pr[i].gz)
            order[m++] = i;
    /* largest first; a stable insertion sort keeps equal sizes in file order */
    for (int i = 1; i < m; i++) {
        int x = order[i], j = i;
        for (; j > 0 && pr[order[j - 1]].size < pr[x].size; j--)
            order[j] = order[j - 1];
        order[j] = x;
    }
    for (int i = 0; i < m; i++) {
        int best = 0;
        for (int r = 1; r < size; r++)
            if (load[r] < load[best])
                best = r;
        owner[order[i]] = best;
        load[best] += pr[order[i]].size + 1; /* + 1: empty files still spread */
    }
cleanup:
    free(order);
    free(load);
    return st;
}

tribe_status ing_files_plan(tribe_par *par, ing_files *f, ing_header_check check, const void *ctx)
{
    tribe_status st = TRIBE_OK;
    probe *pr = NULL;
    int n_gz = 0, size = tribe_par_size(par);
    f->owner = NULL;
    st = tribe_calloc((void **)&f->owner, (size_t)(f->n > 0 ? f->n : 1), sizeof *f->owner);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&pr, (size_t)(f->n > 0 ? f->n : 1), sizeof *pr);
    for (int i = 0; st == TRIBE_OK && i < f->n; i++)
        f->owner[i] = -1;
    /* one file: shared, opened (and checked) by tribe_csv_open_shared as always */
    if (st == TRIBE_OK && f->n > 1 && tribe_par_rank(par) == 0)
        st = probe_files(f, check, ctx, pr);
    TRIBE_TRY(tribe_par_agree(par, st));
    if (f->n <= 1 || size == 1)
        goto cleanup;
    TRIBE_TRY(tribe_par_bcast(par, pr, (size_t)f->n * sizeof *pr, 0));
    for (int i = 0; i < f->n; i++)
        n_gz += pr[i].gz != 0;
    if (n_gz >= 2)
        st = assign_gz(pr, f->n, size, f->owner);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(pr);
    if (st != TRIBE_OK)
        ing_files_free(f);
    return st;
}

void ing_files_free(ing_files *f)
{
    free(f->owner);
    f->owner = NULL;
}
