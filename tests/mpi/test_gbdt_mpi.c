/* Data-parallel boosting gives a byte-identical model JSON on 1, 2 and 4
 * ranks, equal to a serial (tribe_par_serial) fit of all rows on rank 0; the
 * per-segment mean |SHAP| is identical too. */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D = 5 };

/* Row i of the synthetic set, from its global index alone. objective
 * TRIBE_GBDT_SQUARED + 100: dollar spend, lognormal with cents and whales
 * of about $2M, whose gradients (|g| x rows >> 2^30) make the histograms
 * add int64 chunks of a few hundred rows into 128-bit sums. */
static void row(int64_t i, int objective, float *xr, double *y)
{
    for (int f = 0; f < D; f++) {
        xr[f] = (float)tribe_rng_unif(77, 1, (uint64_t)(i * D + f));
        if (f == 2 && i % 9 == 0)
            xr[f] = NAN;
    }
    xr[4] = (float)(i % 13); /* a discrete feature */
    double s = 2 * xr[0] - xr[1] * (isnan(xr[2]) ? 0.5 : xr[2]) + 0.1 * xr[4] +
               0.2 * tribe_rng_normal(77, 2, (uint64_t)i);
    if (objective == TRIBE_GBDT_TWEEDIE)
        *y = tribe_rng_unif(77, 3, (uint64_t)i) < 0.3 ? 0 : exp(s);
    else if (objective == TRIBE_GBDT_SQUARED + 100)
        *y = round(100 * exp(4 + 1.5 * s + 2 * tribe_rng_normal(77, 4, (uint64_t)i))) / 100;
    else if (objective == TRIBE_GBDT_SOFTMAX)
        *y = s < 0.3 ? 0 : s < 1.0 ? 1 : 2;
    else
        *y = s;
}

/* The model JSON of a fit on rows [lo, hi) of n, on the first d <= D
 * features. */
static char *fit_json(tribe_par *par, int64_t lo, int64_t hi, int64_t n, int d, const tribe_gbdt_cfg *cfg, int money,
                      double *shap_mean)
{
    int64_t m = hi - lo;
    float *x = malloc((size_t)(m + 1) * D * sizeof *x), xr[D];
    double *y = malloc((size_t)(m + 1) * sizeof *y);
    uint8_t *valid = malloc((size_t)m + 1);
    int32_t *seg = malloc((size_t)(m + 1) * sizeof *seg);
    for (int64_t i = lo; i < hi; i++) {
        row(i, cfg->objective + (money ? 100 : 0), xr, y + (i - lo));
        memcpy(x + (i - lo) * d, xr, (size_t)d * sizeof *xr);
        valid[i - lo] = i % 7 == 3;
        seg[i - lo] = (int32_t)(i % 3);
    }
    tribe_gbdt_model *model = NULL;
    char *json = NULL;
    tribe_rows rows;
    tribe_status st = tribe_rows_init(par, m, lo, n, &rows);
    if (st == TRIBE_OK)
        st = tribe_gbdt_fit(&(tribe_dmat){&rows, x, d}, y, valid, cfg, &model);
    if (st == TRIBE_OK)
        st = tribe_gbdt_to_json(model, &json);
    if (st != TRIBE_OK)
        fprintf(stderr, "fit: %s\n", tribe_errmsg());
    if (st == TRIBE_OK) {
        int ng = model->n_groups;
        double *phi = malloc((size_t)(m + 1) * ng * (d + 1) * sizeof *phi);
        st = tribe_gbdt_shap(model, x, m, phi);
        if (st == TRIBE_OK)
            st = tribe_gbdt_shap_mean_abs(par, phi, m, ng, d, seg, 3, shap_mean, NULL);
        free(phi);
    }
    tribe_gbdt_model_destroy(&model);
    free(x);
    free(y);
    free(valid);
    free(seg);
    return json;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    const int64_t n = 6000;
    int64_t lo, hi;
    tribe_par_block(n, size, rank, &lo, &hi);

    /* the fourth: squared error on dollar spend; the fifth and sixth: squared
     * error on every row (gradients updated in place, roots derived from the
     * leaves), on 2 features (on 4 ranks, two own none of the split scan) and
     * on dollar spend */
    tribe_gbdt_objective objs[] = {TRIBE_GBDT_SQUARED, TRIBE_GBDT_TWEEDIE, TRIBE_GBDT_SOFTMAX,
                                   TRIBE_GBDT_SQUARED, TRIBE_GBDT_SQUARED, TRIBE_GBDT_SQUARED};
    for (int o = 0; o < 6; o++) {
        int d = o == 4 ? 2 : D, money = o == 3 || o == 5;
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = objs[o];
        cfg.n_class = 3;
        cfg.n_rounds = o == 2 ? 8 : 25;
        cfg.max_leaves = 12;
        cfg.max_depth = 5;
        cfg.min_samples_leaf = 10;
        cfg.subsample = 0.7;
        cfg.bin_sample = 2500; /* sampled edges */
        cfg.max_bins = 64;
        cfg.early_stopping_rounds = 4;
        cfg.learning_rate = 0.5; /* overfits soon: early stopping cuts the model */
        cfg.seed = 5 + (uint64_t)o;
        if (o >= 3) { /* every round kept */
            cfg.n_rounds = 10;
            cfg.learning_rate = 0.1;
            cfg.early_stopping_rounds = 0;
        }
        if (o >= 4)
            cfg.subsample = 1.0;
        double mean_par[3 * 3 * D], mean_ser[3 * 3 * D];
        memset(mean_par, 0, sizeof mean_par);
        memset(mean_ser, 0, sizeof mean_ser);
        char *dist = fit_json(par, lo, hi, n, d, &cfg, money, mean_par);
        char *ser = NULL;
        if (rank == 0) {
            tribe_par *one = NULL;
            if (tribe_par_serial(&one) == TRIBE_OK)
                ser = fit_json(one, 0, n, n, d, &cfg, money, mean_ser);
            tribe_par_finalize(&one);
            if (!ser)
                ser = strdup("");
        }
        TRIBE_MPI_CHECK(par, tribe_par_bcast_str(par, &ser, 0) == TRIBE_OK, "bcast");
        TRIBE_MPI_CHECK(par, tribe_par_bcast(par, mean_ser, sizeof mean_ser, 0) == TRIBE_OK, "bcast");
        TRIBE_MPI_CHECK(par, dist != NULL && ser != NULL && strlen(ser) > 100, "objective %d: no model", o);
        TRIBE_MPI_CHECK(par, dist && ser && strcmp(dist, ser) == 0,
                        "objective %d: model differs from the serial fit (%zu vs %zu bytes)", o,
                        dist ? strlen(dist) : 0, ser ? strlen(ser) : 0);
        TRIBE_MPI_CHECK(par, memcmp(mean_par, mean_ser, sizeof mean_par) == 0,
                        "objective %d: mean |SHAP| per segment differs", o);
        if (rank == 0 && getenv("TRIBE_TEST_VERBOSE"))
            fprintf(stderr, "objective %d: %zu bytes: %.300s\n", o, dist ? strlen(dist) : 0, dist ? dist : "");
        free(dist);
        free(ser);
    }

    /* A NaN target on the last rank's shard: every rank gets the same error
     * naming the global row. */
    {
        float x[D * 4];
        double y[4];
        for (int i = 0; i < 4; i++)
            row(lo + i, TRIBE_GBDT_SQUARED, x + i * D, y + i);
        if (rank == size - 1)
            y[2] = NAN;
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.min_samples_leaf = 1;
        tribe_gbdt_model *m = NULL;
        int64_t l2, h2;
        tribe_par_block(4 * (int64_t)size, size, rank, &l2, &h2);
        tribe_rows rows = {par, 4, l2, 4 * (int64_t)size}; /* tribe_par_block's partition */
        tribe_status st = tribe_gbdt_fit(&(tribe_dmat){&rows, x, D}, y, NULL, &cfg, &m);
        char want[64];
        snprintf(want, sizeof want, "row %d ", 4 * (size - 1) + 2);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), want), "status %d '%s'", st, tribe_errmsg());
        tribe_gbdt_model_destroy(&m);
    }
    return tribe_mpitest_finish(&par);
}
