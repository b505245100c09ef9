/* tribe_gbdt_fit_blocks: two distributed tables of different sizes stacked
 * as one training set give a byte-identical model JSON on 1, 2 and 4 ranks,
 * equal to a serial tribe_gbdt_fit of the concatenated table, with sampled
 * bin edges and row subsampling on (both keyed by the stacked row index). */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D = 4 };
static const int64_t NB[2] = {1700, 2300};

/* Row i of block b, from (b, i) alone; the stacked index decides `valid`. */
static void row(int b, int64_t i, float *xr, double *y, uint8_t *valid)
{
    uint64_t key = (uint64_t)b * 1000000u + (uint64_t)i;
    for (int f = 0; f < D; f++)
        xr[f] = (float)tribe_rng_unif(91, 1, key * D + (uint64_t)f);
    if (i % 11 == 0)
        xr[1] = NAN;
    xr[3] = (float)b; /* the block itself is a feature (a window's cutoff) */
    double s = 1.5 * xr[0] - (isnan(xr[1]) ? 0.3 : xr[1]) + 0.4 * xr[3] + 0.2 * tribe_rng_normal(91, 2, key);
    *y = tribe_rng_unif(91, 3, key) < 0.3 ? 0 : exp(s);
    int64_t g = (b ? NB[0] : 0) + i;
    *valid = g % 6 == 1;
}

typedef struct {
    float *x;
    double *y;
    uint8_t *v;
} rows;

static void make(int b, int64_t lo, int64_t hi, rows *r)
{
    int64_t m = hi - lo;
    r->x = malloc((size_t)(m + 1) * D * sizeof *r->x);
    r->y = malloc((size_t)(m + 1) * sizeof *r->y);
    r->v = malloc((size_t)m + 1);
    for (int64_t i = lo; i < hi; i++)
        row(b, i, r->x + (i - lo) * D, r->y + (i - lo), r->v + (i - lo));
}

static void unmake(rows *r)
{
    free(r->x);
    free(r->y);
    free(r->v);
}

static char *to_json(tribe_status st, tribe_gbdt_model **m)
{
    char *json = NULL;
    if (st == TRIBE_OK)
        st = tribe_gbdt_to_json(*m, &json);
    if (st != TRIBE_OK)
        fprintf(stderr, "fit: %s\n", tribe_errmsg());
    tribe_gbdt_model_destroy(m);
    return json;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_TWEEDIE;
    cfg.n_rounds = 20;
    cfg.max_leaves = 10;
    cfg.min_samples_leaf = 10;
    cfg.subsample = 0.7;  /* bagging keyed by the stacked index */
    cfg.bin_sample = 900; /* sampled edges, keyed by the stacked index */
    cfg.max_bins = 48;
    cfg.early_stopping_rounds = 5;
    cfg.learning_rate = 0.3;
    cfg.seed = 17;

    /* distributed: each block split over the ranks on its own */
    rows r[2];
    tribe_gbdt_block blk[2];
    tribe_rows brows[2];
    for (int b = 0; b < 2; b++) {
        int64_t lo, hi;
        tribe_par_block(NB[b], size, rank, &lo, &hi);
        make(b, lo, hi, &r[b]);
        TRIBE_MPI_CHECK(par, tribe_rows_init(par, hi - lo, lo, NB[b], &brows[b]) == TRIBE_OK, "rows");
        blk[b] = (tribe_gbdt_block){{&brows[b], r[b].x, D}, r[b].y, r[b].v};
    }
    tribe_gbdt_model *m = NULL;
    char *dist = to_json(tribe_gbdt_fit_blocks(blk, 2, &cfg, &m), &m);

    /* serial reference on rank 0: the concatenation, one plain fit */
    char *ser = NULL;
    if (rank == 0) {
        tribe_par *one = NULL;
        rows a = {0}, c = {0};
        make(0, 0, NB[0], &a);
        make(1, 0, NB[1], &c);
        int64_t n = NB[0] + NB[1];
        float *x = malloc((size_t)n * D * sizeof *x);
        double *y = malloc((size_t)n * sizeof *y);
        uint8_t *v = malloc((size_t)n);
        memcpy(x, a.x, (size_t)NB[0] * D * sizeof *x);
        memcpy(x + NB[0] * D, c.x, (size_t)NB[1] * D * sizeof *x);
        memcpy(y, a.y, (size_t)NB[0] * sizeof *y);
        memcpy(y + NB[0], c.y, (size_t)NB[1] * sizeof *y);
        memcpy(v, a.v, (size_t)NB[0]);
        memcpy(v + NB[0], c.v, (size_t)NB[1]);
        if (tribe_par_serial(&one) == TRIBE_OK)
            ser = to_json(tribe_gbdt_fit(&(tribe_dmat){&(tribe_rows){one, n, 0, n}, x, D}, y, v, &cfg, &m), &m);
        tribe_par_finalize(&one);
        if (!ser)
            ser = strdup("");
        free(x);
        free(y);
        free(v);
        unmake(&a);
        unmake(&c);
    }
    TRIBE_MPI_CHECK(par, tribe_par_bcast_str(par, &ser, 0) == TRIBE_OK, "bcast");
    TRIBE_MPI_CHECK(par, dist != NULL && ser != NULL && strlen(ser) > 100, "no model");
    TRIBE_MPI_CHECK(par, dist && ser && strcmp(dist, ser) == 0,
                    "stacked model differs from the serial fit of the concatenation (%zu vs %zu bytes)",
                    dist ? strlen(dist) : 0, ser ? strlen(ser) : 0);
    free(dist);
    free(ser);

    /* A NaN target in block 1 is named by its stacked row index on every
     * rank; a block whose shards do not add up is a usage error. */
    {
        int64_t lo, hi;
        tribe_par_block(NB[1], size, rank, &lo, &hi);
        double keep = 0;
        if (lo <= 5 && 5 < hi) {
            keep = r[1].y[5 - lo];
            r[1].y[5 - lo] = NAN;
        }
        tribe_status st = tribe_gbdt_fit_blocks(blk, 2, &cfg, &m);
        char want[64];
        snprintf(want, sizeof want, "row %lld ", (long long)(NB[0] + 5));
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), want), "status %d '%s'", st,
                        tribe_errmsg());
        tribe_gbdt_model_destroy(&m);
        if (lo <= 5 && 5 < hi)
            r[1].y[5 - lo] = keep;
        brows[0].n_global += 1; /* a layout changed after its check: still caught */
        st = tribe_gbdt_fit_blocks(blk, 2, &cfg, &m);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_USAGE && strstr(tribe_errmsg(), "block 0"), "status %d '%s'", st,
                        tribe_errmsg());
        TRIBE_MPI_CHECK(par, m == NULL, "model after an error");
    }
    for (int b = 0; b < 2; b++)
        unmake(&r[b]);
    return tribe_mpitest_finish(&par);
}
