/* BG/NBD and Gamma-Gamma fits and the CLV metrics are bit-identical on 1, 2
 * and 4 ranks: each rank simulates its block of a fixed population, fits
 * collectively, and compares with a serial fit of the whole population. */
#include "testutil.h"
#include "tribe/clv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 6007

static void simulate(int64_t lo, int64_t hi, double *x, double *tx, double *T, double *mb)
{
    const tribe_bgnbd m = {0.4, 3.0, 1.2, 2.5};
    const tribe_gammagamma g = {5.0, 3.0, 10.0};
    for (int64_t i = lo; i < hi; i++) {
        T[i - lo] = 20.0 + 40.0 * tribe_rng_unif(7, 1, (uint64_t)i);
        tribe_bgnbd_simulate1(&m, 7, i, T[i - lo], &x[i - lo], &tx[i - lo]);
        mb[i - lo] = x[i - lo] > 0 ? tribe_gammagamma_simulate1(&g, 7, i, (int64_t)x[i - lo]) : 0;
    }
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(N, size, rank, &lo, &hi);
    int64_t n = hi - lo;
    double *x = calloc(N, sizeof *x), *tx = calloc(N, sizeof *tx), *T = calloc(N, sizeof *T);
    double *mb = calloc(N, sizeof *mb), *pred = calloc(N, sizeof *pred), *act = calloc(N, sizeof *act);
    tribe_par *ser = NULL;
    TRIBE_MPI_CHECK(par, tribe_par_serial(&ser) == TRIBE_OK, "serial");

    /* serial reference on the whole population */
    simulate(0, N, x, tx, T, mb);
    tribe_bgnbd m1 = {0}, mp = {0};
    tribe_gammagamma g1 = {0}, gp = {0};
    tribe_clv_fit_info i1 = {0}, ip = {0};
    tribe_rows all = {ser, N, 0, N}, rows = {0};
    TRIBE_MPI_CHECK(par, tribe_rows_init(par, n, lo, N, &rows) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_bgnbd_fit(&all, x, tx, T, NULL, &m1, &i1) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_gammagamma_fit(&all, x, mb, NULL, &g1, NULL) == TRIBE_OK, "%s", tribe_errmsg());
    tribe_clv_predict(&m1, &g1, x, tx, T, mb, N, 26.0, 0.0, pred);
    for (int64_t i = 0; i < N; i++)
        act[i] = 50.0 * tribe_rng_unif(7, 2, (uint64_t)i) * (x[i] + 1);
    tribe_clv_metrics k1, kp;
    TRIBE_MPI_CHECK(par, tribe_clv_metrics_compute(&all, pred, act, &k1) == TRIBE_OK, "%s", tribe_errmsg());

    /* distributed: this rank's block only */
    simulate(lo, hi, x, tx, T, mb);
    TRIBE_MPI_CHECK(par, tribe_bgnbd_fit(&rows, x, tx, T, NULL, &mp, &ip) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_gammagamma_fit(&rows, x, mb, NULL, &gp, NULL) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, memcmp(&m1, &mp, sizeof m1) == 0, "bgnbd r %.17g vs %.17g, a %.17g vs %.17g", m1.r, mp.r,
                    m1.a, mp.a);
    TRIBE_MPI_CHECK(par, memcmp(&g1, &gp, sizeof g1) == 0, "gammagamma p %.17g vs %.17g", g1.p, gp.p);
    TRIBE_MPI_CHECK(par, i1.loglik == ip.loglik && i1.iterations == ip.iterations, "fit info differs");
    TRIBE_MPI_CHECK(par, ip.n_used == N, "n_used %lld", (long long)ip.n_used);
    tribe_clv_predict(&mp, &gp, x, tx, T, mb, n, 26.0, 0.0, pred);
    for (int64_t i = lo; i < hi; i++)
        act[i - lo] = 50.0 * tribe_rng_unif(7, 2, (uint64_t)i) * (x[i - lo] + 1);
    TRIBE_MPI_CHECK(par, tribe_clv_metrics_compute(&rows, pred, act, &kp) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, memcmp(&k1, &kp, sizeof k1) == 0, "metrics lift %.17g vs %.17g r2 %.17g vs %.17g",
                    k1.top_decile_lift, kp.top_decile_lift, k1.r2, kp.r2);
    TRIBE_MPI_CHECK(par, k1.top_decile_lift > 1.0, "lift %g", k1.top_decile_lift);

    /* one rank's bad row becomes everyone's USAGE error */
    if (rank == size - 1 && n > 0)
        tx[0] = T[0] + 1;
    TRIBE_MPI_CHECK(par, tribe_bgnbd_fit(&rows, x, tx, T, NULL, &mp, NULL) == TRIBE_ERR_USAGE, "bad row agreed");

    tribe_par_finalize(&ser);
    free(x);
    free(tx);
    free(T);
    free(mb);
    free(pred);
    free(act);
    return tribe_mpitest_finish(&par);
}
