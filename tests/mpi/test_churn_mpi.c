/* Churn metrics are bit-identical on 1, 2 and 4 ranks: each rank holds a
 * block of a fixed population (risks on 31 levels, so equal risks straddle
 * ranks; and once with every row on rank 0) and the AUC, Brier score and
 * calibration table equal those of a serial computation of the whole. */
#include "testutil.h"
#include "tribe/churn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 5003

static void population(double *risk, uint8_t *y)
{
    for (int64_t i = 0; i < N; i++) {
        risk[i] = floor(31 * tribe_rng_unif(11, 1, (uint64_t)i)) / 30;
        y[i] = tribe_rng_unif(11, 2, (uint64_t)i) < 0.2 + 0.6 * risk[i];
    }
}

static int same(const tribe_churn_metrics *a, const tribe_churn_metrics *b)
{
    int ok = a->n == b->n && a->n_churned == b->n_churned && memcmp(&a->auc, &b->auc, sizeof a->auc) == 0 &&
             memcmp(&a->brier, &b->brier, sizeof a->brier) == 0 && memcmp(&a->ece, &b->ece, sizeof a->ece) == 0;
    for (int i = 0; i < TRIBE_CHURN_BINS && ok; i++)
        ok = a->bin_count[i] == b->bin_count[i] && memcmp(&a->bin_risk[i], &b->bin_risk[i], sizeof(double)) == 0 &&
             memcmp(&a->bin_churned[i], &b->bin_churned[i], sizeof(double)) == 0;
    return ok;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(N, size, rank, &lo, &hi);
    double *risk = calloc(N, sizeof *risk);
    uint8_t *y = calloc(N, 1);
    tribe_par *ser = NULL;
    TRIBE_MPI_CHECK(par, tribe_par_serial(&ser) == TRIBE_OK, "serial");
    population(risk, y);
    tribe_rows all = {ser, N, 0, N}, rows = {0}, lopsided = {0};
    tribe_churn_metrics m1, mp, m0;
    TRIBE_MPI_CHECK(par, tribe_churn_metrics_compute(&all, risk, y, &m1) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, m1.auc > 0.6 && m1.auc < 0.95, "auc %g", m1.auc);

    TRIBE_MPI_CHECK(par, tribe_rows_init(par, hi - lo, lo, N, &rows) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_churn_metrics_compute(&rows, risk + lo, y + lo, &mp) == TRIBE_OK, "%s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, same(&m1, &mp), "blocks: auc %.17g vs %.17g, brier %.17g vs %.17g, ece %.17g vs %.17g",
                    m1.auc, mp.auc, m1.brier, mp.brier, m1.ece, mp.ece);

    /* every row on rank 0, none elsewhere */
    TRIBE_MPI_CHECK(par, tribe_rows_init(par, rank ? 0 : N, rank ? N : 0, N, &lopsided) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_churn_metrics_compute(&lopsided, risk, y, &m0) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, same(&m1, &m0), "rank 0 only: auc %.17g vs %.17g", m1.auc, m0.auc);

    /* one rank's bad row is everyone's error, naming the global row */
    if (hi > lo)
        risk[hi - 1] = size > 1 && rank == 1 ? 2.0 : risk[hi - 1];
    tribe_status st = tribe_churn_metrics_compute(&rows, risk + lo, y + lo, &mp);
    if (size > 1) {
        int64_t l1, h1;
        tribe_par_block(N, size, 1, &l1, &h1);
        char want[64];
        snprintf(want, sizeof want, "row %lld", (long long)(h1 - 1));
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), want), "bad row: %d %s", (int)st,
                        tribe_errmsg());
    } else {
        TRIBE_MPI_CHECK(par, st == TRIBE_OK, "%s", tribe_errmsg());
    }
    tribe_par_finalize(&ser);
    free(risk);
    free(y);
    return tribe_mpitest_finish(&par);
}
