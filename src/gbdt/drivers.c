/* Segment drivers (tribe/drivers.h, docs/gbdt.md). */
#include "tribe/drivers.h"
#include "tribe/gbdt.h"
#include "tribe/streams.h"

#include <stdlib.h>
#include <string.h>

void tribe_drivers_cfg_default(tribe_drivers_cfg *cfg)
{
    *cfg = (tribe_drivers_cfg){.n_rounds = 30, .max_leaves = 15, .learning_rate = 0.2, .sample_size = 10000,
                               .train_rows = 1000000, .seed = 0};
}

void tribe_drivers_destroy(tribe_drivers **dp)
{
    if (!dp || !*dp)
        return;
    free((*dp)->mean_abs);
    free((*dp)->gain);
    free((*dp)->model_json);
    free(*dp);
    *dp = NULL;
}

/* Not collective. The rows of this rank's block in a driver sample of about
 * `want` customers (every row when want <= 0 or >= n_global): global row g
 * is in it when tribe_rng_unif(seed, stream, g) < want / n_global, so the
 * sample does not depend on the rank count. Their local indices into
 * *rows[*count] and their model columns into *x[*count][m] (caller frees
 * both). Errors: NOMEM. */
static tribe_status sample_model_rows(const tribe_table *t, const int *cols, int m, uint64_t seed, uint64_t stream,
                                      int64_t want, float **x, int64_t **rows, int64_t *count)
{
    tribe_status st = TRIBE_OK;
    int64_t n = t->n_local, c = 0, cap = 0;
    double rate = (want <= 0 || want >= t->n_global) ? 1.0 : (double)want / (double)t->n_global;
    for (int64_t i = 0; i < n; i++) {
        if (rate < 1.0 && tribe_rng_unif(seed, stream, (uint64_t)(t->offset + i)) >= rate)
            continue;
        if (c == cap) { /* grows with the sample, not with the block */
            cap = cap ? 2 * cap : 4096;
            TRIBE_TRY(tribe_realloc((void **)rows, (size_t)cap * sizeof **rows));
        }
        (*rows)[c++] = i;
    }
    TRIBE_TRY(tribe_alloc((void **)x, ((size_t)c * (size_t)m + 1) * sizeof **x));
    for (int64_t r = 0; r < c; r++)
        for (int j = 0; j < m; j++)
            (*x)[(size_t)r * m + j] = t->x[(size_t)(*rows)[r] * t->d + cols[j]];
    *count = c;
cleanup:
    return st;
}


/* The training sample is indexed by an exclusive scan, so its order and
 * numbering do not depend on the split; min_samples_leaf is at most 20 and
 * smaller when there are fewer than 80 customers a segment, so small inputs
 * (tests, pilots) still train. */
tribe_status tribe_drivers_fit(tribe_par *par, const tribe_table *t, const int *cols, int m, const int32_t *label,
                               int k, const tribe_drivers_cfg *dc, tribe_drivers **out)
{
    tribe_status st = TRIBE_OK;
    tribe_drivers *dr = NULL;
    float *x = NULL;
    double *y = NULL, *phi = NULL, *ma = NULL, *g = NULL;
    int32_t *ls = NULL;
    int64_t *cnt = NULL;
    tribe_gbdt_model *gm = NULL;
    int64_t *rows = NULL, nt = 0, t_glob = 0;
    tribe_rows trows;
    *out = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&dr, 1, sizeof *dr)));
    dr->k = k;
    dr->m = m;
    TRIBE_TRY(sample_model_rows(t, cols, m, dc->seed, TRIBE_STREAM_DRIVERS_TRAIN, dc->train_rows, &x, &rows, &nt));
    TRIBE_TRY(tribe_rows_stack(par, nt, &trows));
    t_glob = trows.n_global;
    TRIBE_TRY(tribe_alloc((void **)&y, ((size_t)nt + 1) * sizeof *y));
    for (int64_t r = 0; r < nt; r++)
        y[r] = label[rows[r]];
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_SOFTMAX;
    cfg.n_class = k;
    cfg.n_rounds = dc->n_rounds;
    cfg.max_leaves = dc->max_leaves;
    cfg.learning_rate = dc->learning_rate;
    cfg.seed = dc->seed;
    cfg.min_samples_leaf = t_glob / (4 * (int64_t)k);
    if (cfg.min_samples_leaf > 20)
        cfg.min_samples_leaf = 20;
    if (cfg.min_samples_leaf < 1)
        cfg.min_samples_leaf = 1;
    TRIBE_TRY(tribe_gbdt_fit(&(tribe_dmat){&trows, x, m}, y, NULL, &cfg, &gm));
    free(x);
    free(y);
    free(rows);
    x = NULL;
    y = NULL;
    rows = NULL;

    /* The TreeSHAP sample, from every customer (not only the training ones). */
    int64_t ns = 0;
    TRIBE_TRY(sample_model_rows(t, cols, m, dc->seed, TRIBE_STREAM_DRIVERS_SAMPLE, dc->sample_size, &x, &rows, &ns));
    TRIBE_TRY(tribe_alloc((void **)&ls, ((size_t)ns + 1) * sizeof *ls));
    for (int64_t r = 0; r < ns; r++)
        ls[r] = label[rows[r]];
    TRIBE_TRY(tribe_calloc((void **)&phi, (size_t)ns * (size_t)k * ((size_t)m + 1) + 1, sizeof *phi));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_shap(gm, x, ns, phi)));
    TRIBE_TRY(tribe_calloc((void **)&ma, (size_t)k * (size_t)k * (size_t)m + 1, sizeof *ma));
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)k + 1, sizeof *cnt));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_shap_mean_abs(par, phi, ns, k, m, ls, k, ma, cnt)));
    TRIBE_TRY(tribe_calloc((void **)&dr->mean_abs, (size_t)k * (size_t)m + 1, sizeof *dr->mean_abs));
    dr->rows = 0;
    for (int c = 0; c < k; c++) {
        dr->rows += cnt[c];
        memcpy(dr->mean_abs + (size_t)c * m, ma + ((size_t)c * k + c) * m, (size_t)m * sizeof *ma);
    }
    /* Global importance: every class's trees, summed in class order. */
    TRIBE_TRY(tribe_calloc((void **)&g, (size_t)k * (size_t)m + 1, sizeof *g));
    TRIBE_TRY(tribe_calloc((void **)&dr->gain, (size_t)m + 1, sizeof *dr->gain));
    tribe_gbdt_importance_gain(gm, g);
    for (int c = 0; c < k; c++)
        for (int j = 0; j < m; j++)
            dr->gain[j] += g[(size_t)c * m + j];
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm, &dr->model_json)));
    dr->train_rows = t_glob;
    dr->n_trees = gm->n_trees;
    TRIBE_INFO("segment drivers: %d trees trained on %lld customers, TreeSHAP on %lld rows", gm->n_trees,
               (long long)t_glob, (long long)dr->rows);
    *out = dr;
    dr = NULL;
cleanup:
    tribe_drivers_destroy(&dr);
    tribe_gbdt_model_destroy(&gm);
    free(x);
    free(y);
    free(phi);
    free(ma);
    free(g);
    free(ls);
    free(cnt);
    free(rows);
    return st;
}
