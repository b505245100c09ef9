/* The churn stage takes the ltv stage's BG/NBD fit of the train window
 * (docs/churn.md, "The BG/NBD fit: the ltv stage's") and fits its own only
 * when ltv did not run: a pipeline of every default stage but ltv, on the
 * same job, gives the same churn results bit for bit (BG/NBD parameters,
 * metrics, calibration, GBDT, risks), on 1, 2 and 4 ranks. Real data:
 * tribe gen (600 customers) ingested at two cutoffs one horizon apart and in
 * full, as tests/e2e/test_churn_run.sh does from the CLI. */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/h5.h"
#include "tribe/ingest.h"
#include "tribe/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dir/name.h5 (and, with a cutoff, dir/name.target.h5) from the generated
 * transactions. */
static void ingest(tribe_par *par, const char *dir, const char *name, const char *cutoff)
{
    char tx[1024], path[1200];
    tribe_ingest_cfg cfg = {0};
    tribe_table *t = NULL, *g = NULL;
    tribe_ledger l;
    char *ledger = NULL;
    snprintf(tx, sizeof tx, "%s/transactions.csv", dir);
    cfg.transactions = tx;
    cfg.cutoff = cutoff;
    cfg.horizon_days = cutoff ? 90 : 0;
    TRIBE_MPI_CHECK(par, tribe_ingest_split(par, &cfg, &t, &g, &l) == TRIBE_OK, "ingest %s: %s", name,
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_ledger_to_json(&l, &ledger) == TRIBE_OK, "ledger");
    snprintf(path, sizeof path, "%s/%s.h5", dir, name);
    TRIBE_MPI_CHECK(par, tribe_store_write_customers(par, path, t, ledger, NULL) == TRIBE_OK, "%s", tribe_errmsg());
    snprintf(path, sizeof path, "%s/%s.target.h5", dir, name);
    if (cutoff)
        TRIBE_MPI_CHECK(par, tribe_store_write_customers(par, path, g, ledger, NULL) == TRIBE_OK, "%s",
                        tribe_errmsg());
    free(ledger);
    tribe_table_destroy(&t);
    tribe_table_destroy(&g);
}

/* The job with the stages list[n] (NULL: the default ones). The ltv
 * stage's own keys (a small model: churn does not read them) only when it is
 * in the list: a key no stage reads is a usage error. */
static tribe_pipeline *run(tribe_par *par, const char *dir, const char *out, const tribe_stage_def *const *list,
                           int n)
{
    const char *ltv_own = list ? "" : ", \"n_rounds\": 5, \"n_boot\": 0";
    char text[4096];
    snprintf(text, sizeof text,
             "{\"input\": \"%s/all.h5\", \"output\": \"%s/%s\", \"seed\": 7, \"kmeans\": {\"k\": 3}, "
             "\"silhouette\": {\"sample_size\": 0}, \"gmm\": {\"enabled\": false}, \"ward\": {\"enabled\": false}, "
             "\"projection\": {\"sample_size\": 200}, \"drivers\": {\"enabled\": false}, "
             "\"ltv\": {\"train\": \"%s/train.h5\", \"test\": \"%s/test.h5\", \"horizon_days\": 90%s}, "
             "\"churn\": {\"n_rounds\": 30, \"features\": \"with_ltv\"}}",
             dir, dir, out, dir, dir, ltv_own);
    tribe_pipeline *pl = NULL;
    tribe_status st = tribe_pipeline_create_text(par, NULL, text, list, n, &pl);
    if (st == TRIBE_OK)
        st = tribe_pipeline_run(pl);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "run %s: %s", out, tribe_errmsg());
    return pl;
}

/* Dataset name of dir/out/results.h5 as bytes (*len of them; caller frees). */
static unsigned char *dataset(tribe_par *par, const char *dir, const char *out, const char *name,
                              tribe_h5_type type, size_t size, int64_t *len)
{
    char path[1200];
    tribe_h5 *h = NULL;
    void *data = NULL;
    int64_t rows = 0, cols = 0;
    snprintf(path, sizeof path, "%s/%s/results.h5", dir, out);
    *len = 0;
    if (tribe_h5_open(par, path, &h) == TRIBE_OK && tribe_h5_read_small(h, name, type, &rows, &cols, &data) == TRIBE_OK)
        *len = rows * cols * (int64_t)size;
    tribe_h5_close(&h);
    return data;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    const char *dir = tribe_mpitest_tmpdir(par);
    tribe_gen_cfg g;
    tribe_gen_defaults(&g);
    g.customers = 600;
    g.seed = 9;
    g.web = g.demographics = g.reviews = 0;
    TRIBE_MPI_CHECK(par, tribe_gen(par, &g, dir) == TRIBE_OK, "gen: %s", tribe_errmsg());
    ingest(par, dir, "train", "2011-06-12");
    ingest(par, dir, "test", "2011-09-10");
    ingest(par, dir, "all", NULL);

    /* every default stage but ltv: churn alone on the ltv object's windows */
    static const tribe_stage_def *no_ltv[64];
    int nd = 0, n = 0;
    const tribe_stage_def *const *d = tribe_stages_default(&nd);
    for (int i = 0; i < nd && n < 64; i++)
        if (strcmp(d[i]->name, "ltv") != 0)
            no_ltv[n++] = d[i];
    tribe_pipeline *with = run(par, dir, "with", NULL, 0);
    tribe_pipeline *alone = run(par, dir, "alone", no_ltv, n);
    TRIBE_MPI_CHECK(par, with && tribe_pipeline_ran(with, "ltv") && tribe_pipeline_ran(with, "churn"),
                    "the default stages did not run ltv and churn");
    TRIBE_MPI_CHECK(par, alone && !tribe_pipeline_ran(alone, "ltv") && tribe_pipeline_ran(alone, "churn"),
                    "churn did not run alone");
    TRIBE_MPI_CHECK(par, with && tribe_pipeline_context(with)->ltv && alone && !tribe_pipeline_context(alone)->ltv,
                    "tribe_run.ltv is not what ran");

    static const char *const same[] = {"/model/churn/bgnbd", "/model/churn/metrics", "/model/churn/calibration",
                                       "/model/churn/gbdt_json", "/segments/churn_risk_mean",
                                       "/segments/churn_high_share", "/segments/churn_risk"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        int u8 = strstr(same[i], "json") != NULL, f32 = strcmp(same[i], "/segments/churn_risk") == 0;
        tribe_h5_type ty = u8 ? TRIBE_H5_U8 : f32 ? TRIBE_H5_F32 : TRIBE_H5_F64;
        size_t sz = u8 ? 1 : f32 ? 4 : 8;
        int64_t la = 0, lb = 0;
        unsigned char *a = dataset(par, dir, "with", same[i], ty, sz, &la);
        unsigned char *b = dataset(par, dir, "alone", same[i], ty, sz, &lb);
        TRIBE_MPI_CHECK(par, a && b && la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0,
                        "%s: churn alone (its own fit) differs from churn after ltv (%lld vs %lld bytes)", same[i],
                        (long long)lb, (long long)la);
        free(a);
        free(b);
    }
    /* and the fit churn took is ltv's train row */
    int64_t lc = 0, ll = 0;
    unsigned char *c = dataset(par, dir, "with", "/model/churn/bgnbd", TRIBE_H5_F64, 8, &lc);
    unsigned char *l = dataset(par, dir, "with", "/model/ltv/bgnbd", TRIBE_H5_F64, 8, &ll);
    TRIBE_MPI_CHECK(par, c && l && lc == 32 && ll == 96 && memcmp(c, l, 32) == 0,
                    "/model/churn/bgnbd is not /model/ltv/bgnbd's train row");
    free(c);
    free(l);
    tribe_pipeline_destroy(&with);
    tribe_pipeline_destroy(&alone);
    return tribe_mpitest_finish(&par);
}
