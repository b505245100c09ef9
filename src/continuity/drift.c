/* Drift between runs: reference bins of the raw model features and the
 * population stability index against them (tribe/continuity.h). */
#include "tribe/continuity.h"
#include "tribe/cluster.h"
#include "tribe/streams.h"
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
    /* Branch-free: the edges ascend and a NaN pad compares false. */
    int b = 0;
    double dv = v;
    for (int k = 0; k < NE; k++)
        b += dv > e[k];
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

/* Edges e[NE] from NE quantiles q[NE] with repeats removed (NaN-padded). */
static void edges_of(const double *q, double *e)
{
    int n = 0;
    for (int b = 0; b < NE; b++) /* repeats removed: a tie spans one bin */
        if (!isnan(q[b]) && (n == 0 || q[b] > e[n - 1]))
            e[n++] = q[b];
    for (; n < NE; n++)
        e[n] = NAN;
}

/* Collective. The edges from the deciles of about TRIBE_DRIFT_SAMPLE rows. */
static tribe_status sampled_deciles(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m,
                                    const double *prob, double *edges)
{
    tribe_status st = TRIBE_OK;
    int64_t *pos = NULL, cnt = 0;
    float *buf = NULL;
    double *q = NULL, col[NE];
    TRIBE_TRY(tribe_sample_local(rows, TRIBE_DRIFT_SAMPLE, 0, TRIBE_STREAM_DRIFT_SAMPLE, &pos, &cnt));
    TRIBE_TRY(tribe_par_agree(rows->par, tribe_alloc((void **)&buf, ((size_t)cnt * m + 1) * sizeof *buf)));
    TRIBE_TRY(tribe_par_agree(rows->par, tribe_alloc((void **)&q, (size_t)NE * m * sizeof *q)));
    for (int64_t i = 0; i < cnt; i++)
        for (int j = 0; j < m; j++)
            buf[i * m + j] = x[(pos[i] - rows->offset) * ldx + cols[j]];
    TRIBE_TRY(tribe_xstats_quantiles(rows->par, buf, cnt, m, m, NULL, 1, 0, NE, prob, q));
    for (int j = 0; j < m; j++) {
        for (int b = 0; b < NE; b++)
            col[b] = q[(size_t)b * m + j];
        edges_of(col, edges + (size_t)j * NE);
    }
cleanup:
    free(pos);
    free(buf);
    free(q);
    return st;
}

tribe_status tribe_drift_ref(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m, double *edges,
                             double *share)
{
    tribe_status st = TRIBE_OK;
    double prob[NE], q[NE], *all = NULL;
    for (int b = 0; b < NE; b++)
        prob[b] = (b + 1.0) / TRIBE_DRIFT_BINS;
    /* Above twice TRIBE_DRIFT_SAMPLE customers the edges are the deciles of a
     * sample drawn by global row (the same rows for any rank count): the
     * bins only need to be fixed, not exact, and the shares are still
     * counted over every customer. */
    if (rows->n_global > 2 * TRIBE_DRIFT_SAMPLE) {
        TRIBE_TRY(sampled_deciles(rows, x, ldx, cols, m, prob, edges));
        goto shares;
    }
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
        edges_of(q, edges + (size_t)j * NE);
    }
shares:
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
