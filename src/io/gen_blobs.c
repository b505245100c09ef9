/* tribe gen --blobs: planted Gaussian clusters written straight to
 * customers.h5 (tribe/gen.h). The cluster parameters are tiny and computed by
 * every rank from the seed alone; each rank then fills its own block of rows
 * and the store writes the blocks collectively, so nothing but the HDF5
 * transfer crosses the network. */
#include "tribe/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "tribe/h5.h"
#include "tribe/streams.h"
#include "tribe/table.h"


void tribe_blobs_defaults(tribe_blobs_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->customers = 1000;
    cfg->features = 16;
    cfg->clusters = 8;
    cfg->seed = 42;
    cfg->spread = 1.0;
}

tribe_status tribe_blobs_truth_path(const char *path, char *buf, size_t cap)
{
    size_t n = strlen(path);
    int h5 = n >= 3 && strcmp(path + n - 3, ".h5") == 0;
    if (snprintf(buf, cap, "%.*s.truth.h5", (int)(h5 ? n - 3 : n), path) >= (int)cap)
        return tribe_fail(TRIBE_ERR_USAGE, "%s: path too long for its truth file", path);
    return TRIBE_OK;
}

/* Centres c[K][d] ~ spread * N(0, 1); per-dimension scales s[K][d] =
 * sigma_k * a_kj with sigma_k in [0.6, 1.4) and a_kj in [0.7, 1.3), then
 * renormalised so the mean of s over the dimensions of a cluster is sigma_k;
 * shares proportional to k + 2 (unequal sizes: the smallest cluster of 8 has
 * 2/44 of the rows, the largest 9/44). */
static void blobs_params(const tribe_blobs_cfg *cfg, double *c, double *s, double *share)
{
    int K = cfg->clusters, d = cfg->features;
    uint64_t sd = cfg->seed;
    double tot = 0;
    for (int k = 0; k < K; k++) {
        double sigma = 0.6 + 0.8 * tribe_rng_unif(sd, TRIBE_STREAM_BLOBS_PARAMS, 1u << 20 | (uint64_t)k);
        double mean_a = 0;
        for (int j = 0; j < d; j++) {
            uint64_t q = (uint64_t)k * (uint64_t)d + (uint64_t)j;
            c[q] = cfg->spread * tribe_rng_normal(sd, TRIBE_STREAM_BLOBS_PARAMS, q);
            s[q] = 0.7 + 0.6 * tribe_rng_unif(sd, TRIBE_STREAM_BLOBS_PARAMS, 2u << 20 | q);
            mean_a += s[q] / d;
        }
        for (int j = 0; j < d; j++)
            s[(size_t)k * d + j] *= sigma / mean_a;
        share[k] = k + 2;
        tot += k + 2;
    }
    for (int k = 0; k < K; k++)
        share[k] /= tot;
}

void gen_gauss_row(uint64_t seed, int stream, int64_t g, const double *c, const double *s, int d, float *x)
{
    int pairs = (d + 1) / 2;
    for (int p = 0; p < pairs; p++) {
        uint64_t q = ((uint64_t)g * (uint64_t)pairs + (uint64_t)p) * 2;
        double u1 = tribe_rng_unif(seed, stream, q);
        double u2 = tribe_rng_unif(seed, stream, q + 1);
        if (u1 < 1e-300)
            u1 = 1e-300;
        double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
        int j = 2 * p;
        x[j] = (float)(c[j] + s[j] * r * cos(a));
        if (j + 1 < d)
            x[j + 1] = (float)(c[j + 1] + s[j + 1] * r * sin(a));
    }
}

/* Row g: label from the cumulative shares, then its Gaussian draw. */
static int32_t blobs_row(const tribe_blobs_cfg *cfg, const double *c, const double *s, const double *cum,
                         int64_t g, float *x)
{
    int K = cfg->clusters, d = cfg->features;
    double u = tribe_rng_unif(cfg->seed, TRIBE_STREAM_BLOBS_LABEL, (uint64_t)g);
    int k = 0;
    while (k < K - 1 && u >= cum[k])
        k++;
    gen_gauss_row(cfg->seed, TRIBE_STREAM_BLOBS_NOISE, g, c + (size_t)k * d, s + (size_t)k * d, d, x);
    return (int32_t)k;
}

tribe_status tribe_gen_blobs(tribe_par *par, const tribe_blobs_cfg *cfg, const char *path)
{
    tribe_status st = TRIBE_OK;
    tribe_table *t = NULL;
    tribe_h5 *h = NULL;
    double *c = NULL, *s = NULL, *share = NULL, *cum = NULL;
    int32_t *lab = NULL;
    char **names = NULL;
    char truth[4096], src[512];
    int K = cfg->clusters, d = cfg->features;
    int64_t lo = 0, hi = 0;

    if (cfg->customers < 1 || d < 1 || d > TRIBE_MAX_FEATURES || K < 1 || K > 256 || !(cfg->spread >= 0) || !isfinite(cfg->spread))
        st = tribe_fail(TRIBE_ERR_USAGE,
                        "gen --blobs: need customers >= 1, 1 <= features <= %d, 1 <= clusters <= 256 and a "
                        "finite spread >= 0 (got %lld, %d, %d, %g)",
                        TRIBE_MAX_FEATURES, (long long)cfg->customers, d, K, cfg->spread);
    if (st == TRIBE_OK)
        st = tribe_blobs_truth_path(path, truth, sizeof truth);
    TRIBE_TRY(tribe_par_agree(par, st));

    tribe_par_block(cfg->customers, tribe_par_size(par), tribe_par_rank(par), &lo, &hi);
    st = tribe_calloc((void **)&c, (size_t)K * d, sizeof *c);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&s, (size_t)K * d, sizeof *s);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&share, (size_t)K, sizeof *share);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&cum, (size_t)K, sizeof *cum);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&lab, (size_t)(hi - lo + 1), sizeof *lab);
    if (st == TRIBE_OK) st = tribe_calloc((void **)&names, (size_t)d, sizeof *names);
    for (int j = 0; st == TRIBE_OK && j < d; j++) {
        st = tribe_alloc((void **)&names[j], 16);
        if (st == TRIBE_OK)
            snprintf(names[j], 16, "f%02d", j + 1);
    }
    if (st == TRIBE_OK)
        st = tribe_table_create(hi - lo, d, (const char *const *)names, &t);
    TRIBE_TRY(tribe_par_agree(par, st));
    t->n_global = cfg->customers;
    t->offset = lo;

    blobs_params(cfg, c, s, share);
    double acc = 0;
    for (int k = 0; k < K; k++) {
        acc += share[k];
        cum[k] = acc;
    }
    int64_t n = hi - lo;
#pragma omp parallel for schedule(static) if (n >= 4096)
    for (int64_t i = 0; i < n; i++) {
        t->id[i] = lo + i + 1;
        lab[i] = blobs_row(cfg, c, s, cum, lo + i, t->x + i * d);
    }

    TRIBE_TRY(tribe_fmt(src, sizeof src,
                        "{\"generator\": \"blobs\", \"customers\": %lld, \"features\": %d, \"clusters\": %d, "
                        "\"seed\": %llu, \"spread\": %.17g}",
                        (long long)cfg->customers, d, K, (unsigned long long)cfg->seed, cfg->spread));
    TRIBE_TRY(tribe_store_write_customers(par, path, t, NULL, src));

    /* The truth beside it: written after the table, so a truth file never
     * describes a table that failed to appear. */
    st = tribe_h5_create(par, truth, &h);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", "tribe-blobs-truth"));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", 1));
    TRIBE_TRY(tribe_h5_attr_str(h, "/truth", "source", src));
    TRIBE_TRY(tribe_h5_write_rows(h, "/truth/label", TRIBE_H5_I32, cfg->customers, lo, n, 1, lab));
    TRIBE_TRY(tribe_h5_write_small(h, "/truth/centers", TRIBE_H5_F64, K, d, c));
    TRIBE_TRY(tribe_h5_write_small(h, "/truth/scale", TRIBE_H5_F64, K, d, s));
    TRIBE_TRY(tribe_h5_write_small(h, "/truth/share", TRIBE_H5_F64, K, 1, share));
cleanup:
    st = tribe_h5_close_after(&h, st);
    for (int j = 0; names && j < d; j++)
        free(names[j]);
    free(names);
    free(c);
    free(s);
    free(share);
    free(cum);
    free(lab);
    tribe_table_destroy(&t);
    return st;
}
