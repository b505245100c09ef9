/* Drift between runs: reference bins of the raw model features and the
 * population stability index against them (tribe/continuity.h). */
#include "tribe/continuity.h"
#include "tribe/xstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NE = TRIBE_DRIFT_BINS - 1, NS = TRIBE_DRIFT_BINS + 1 };

/* Bin of v among edges e[0..NE) (ascending, NaN-padded): the number of edges
 * below v; NS - 1 for a missing value. */
static int bin_of(float v, const double *e)
{
    if (isnan(v))
        return NS - 1;
    int b = 0;
    while (b < NE && !isnan(e[b]) && (double)v > e[b])
        b++;
    return b;
}

tribe_status tribe_drift_shares(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m,
                                const double *edges, double *share)
{
    tribe_status st = TRIBE_OK;
    int64_t *cnt = NULL;
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)m * NS + 1, sizeof *cnt));
    for (int64_t i = 0; i < rows->n_local; i++) /* one pass over the rows */
        for (int j = 0; j < m; j++)
            cnt[(size_t)j * NS + (size_t)bin_of(x[i * ldx + cols[j]], edges + (size_t)j * NE)]++;
    TRIBE_TRY(tribe_par_sum_i64(rows->par, cnt, (int64_t)m * NS));
    for (size_t i = 0; i < (size_t)m * NS; i++)
        share[i] = rows->n_global > 0 ? (double)cnt[i] / (double)rows->n_global : NAN;
cleanup:
    free(cnt);
    return st;
}

tribe_status tribe_drift_ref(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m, double *edges,
                             double *share)
{
    tribe_status st = TRIBE_OK;
    double prob[NE], q[NE], *all = NULL;
    for (int b = 0; b < NE; b++)
        prob[b] = (b + 1.0) / TRIBE_DRIFT_BINS;
    /* Model columns that are one run of the table's columns (the usual case:
     * all of them) take one call for all; otherwise one call each. */
    int run = 1;
    for (int j = 1; j < m; j++)
        run &= cols[j] == cols[0] + j;
    if (run)
        TRIBE_TRY(tribe_alloc((void **)&all, (size_t)NE * m * sizeof *all));
    if (run)
        TRIBE_TRY(tribe_xstats_quantiles(rows->par, x + cols[0], rows->n_local, ldx, m, NULL, 1, 0, NE, prob, all));
    for (int j = 0; j < m; j++) {
        if (run)
            for (int b = 0; b < NE; b++)
                q[b] = all[(size_t)b * m + j]; /* shape [nprob][1][m] */
        else
            TRIBE_TRY(tribe_xstats_quantiles(rows->par, x + cols[j], rows->n_local, ldx, 1, NULL, 1, 0, NE, prob, q));
        double *e = edges + (size_t)j * NE;
        int n = 0;
        for (int b = 0; b < NE; b++) /* repeats removed: a tie spans one bin */
            if (!isnan(q[b]) && (n == 0 || q[b] > e[n - 1]))
                e[n++] = q[b];
        for (; n < NE; n++)
            e[n] = NAN;
    }
    TRIBE_TRY(tribe_drift_shares(rows, x, ldx, cols, m, edges, share));
cleanup:
    free(all);
    return st;
}

double tribe_psi(const double *expected, const double *actual, int nb)
{
    double psi = 0;
    for (int b = 0; b < nb; b++) {
        double e = expected[b] > TRIBE_PSI_FLOOR ? expected[b] : TRIBE_PSI_FLOOR;
        double a = actual[b] > TRIBE_PSI_FLOOR ? actual[b] : TRIBE_PSI_FLOOR;
        if (expected[b] <= TRIBE_PSI_FLOOR && actual[b] <= TRIBE_PSI_FLOOR)
            continue; /* empty on both sides: no term */
        psi += (a - e) * log(a / e);
    }
    return psi;
}
