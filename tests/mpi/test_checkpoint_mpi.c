/* A run stopped at a stage boundary (the stop test of tribe/stage.h) keeps
 * its checkpoints; run again, it loads K-Means (and the driver model) instead
 * of running them and ends with the K, centroids, labels, distances, inertia
 * and driver model of an uninterrupted run, bit for bit, on 1, 2 and 4
 * ranks. A run stopped inside the K sweep keeps the K values fitted in a
 * partial checkpoint and, resumed, ends the same. */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/h5.h"
#include "tribe/stage.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static tribe_pipeline *watched;
static const char *stop_after;

/* Asked at every stage boundary: stop once that stage has run. */
static int stop_test(void)
{
    return tribe_pipeline_ran(watched, stop_after);
}

static int asks;

/* Asked at stage boundaries and at the K sweep's stop points: stop at the
 * third ask once transform has run (its boundary, K=2's fit, K=3's fit),
 * inside the kmeans stage. */
static int stop_in_sweep(void)
{
    if (!tribe_pipeline_ran(watched, "transform") || tribe_pipeline_ran(watched, "kmeans"))
        return 0;
    return ++asks == 3;
}

/* The K, centroids, labels, distances, inertia and segment sizes of two runs
 * agree bit for bit. */
static void check_same_run(tribe_par *par, const tribe_run *r0, const tribe_run *r1, const char *what)
{
    TRIBE_MPI_CHECK(par, r0->k == r1->k && r0->m == r1->m, "%s: K %d vs %d", what, r0->k, r1->k);
    if (r0->k != r1->k || r0->m != r1->m)
        return;
    size_t n = (size_t)r0->rows.n_local;
    TRIBE_MPI_CHECK(par, memcmp(r0->centroids, r1->centroids, (size_t)r0->k * (size_t)r0->m * sizeof(double)) == 0,
                    "%s: centroids differ", what);
    TRIBE_MPI_CHECK(par, memcmp(r0->label, r1->label, n * sizeof *r0->label) == 0, "%s: labels differ", what);
    TRIBE_MPI_CHECK(par, memcmp(r0->distance, r1->distance, n * sizeof *r0->distance) == 0, "%s: distances differ",
                    what);
    TRIBE_MPI_CHECK(par, memcmp(&r0->inertia, &r1->inertia, sizeof r0->inertia) == 0, "%s: inertia %.17g vs %.17g",
                    what, r0->inertia, r1->inertia);
    TRIBE_MPI_CHECK(par, r0->segs && r1->segs && r0->segs->seg[0].size == r1->segs->seg[0].size,
                    "%s: segment sizes differ", what);
}

/* Dataset `name` (of `type`, `size` bytes a value) of dir/results.h5 as
 * bytes, *len of them (caller frees). */
static unsigned char *dataset(tribe_par *par, const char *dir, const char *name, tribe_h5_type type, size_t size,
                              int64_t *len)
{
    char path[1200];
    tribe_h5 *h = NULL;
    void *data = NULL;
    int64_t rows = 0, cols = 0;
    snprintf(path, sizeof path, "%s/results.h5", dir);
    *len = 0;
    if (tribe_h5_open(par, path, &h) == TRIBE_OK && tribe_h5_read_small(h, name, type, &rows, &cols, &data) == TRIBE_OK)
        *len = rows * cols * (int64_t)size;
    tribe_h5_close(&h);
    return data;
}

static tribe_status create(tribe_par *par, const char *text, tribe_pipeline **pl)
{
    tribe_status st = tribe_pipeline_create_text(par, NULL, text, NULL, 0, pl);
    if (st != TRIBE_OK)
        fprintf(stderr, "create: %s\n", tribe_errmsg());
    return st;
}

static int exists(const char *dir, const char *name)
{
    char path[1200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    const char *dir = tribe_mpitest_tmpdir(par);
    char input[600], text[2400], ref_out[700], out[700];
    tribe_blobs_cfg cfg;
    tribe_blobs_defaults(&cfg);
    cfg.customers = 3000;
    cfg.features = 4;
    cfg.clusters = 4;
    cfg.seed = 5;
    snprintf(input, sizeof input, "%s/blobs.h5", dir);
    TRIBE_MPI_CHECK(par, tribe_gen_blobs(par, &cfg, input) == TRIBE_OK, "blobs: %s", tribe_errmsg());
    snprintf(ref_out, sizeof ref_out, "%s/ref", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    const char *fmt = "{\"input\": \"%s\", \"output\": \"%s\", \"run_id\": \"r1\", \"seed\": 3, "
                      "\"kmeans\": {\"k_min\": 2, \"k_max\": 5}, \"drivers\": {\"n_rounds\": 3}}";

    /* The uninterrupted run. */
    tribe_pipeline *ref = NULL, *a = NULL, *b = NULL;
    snprintf(text, sizeof text, fmt, input, ref_out);
    TRIBE_MPI_CHECK(par, create(par, text, &ref) == TRIBE_OK, "create ref");
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(ref) == TRIBE_OK, "ref: %s", tribe_errmsg());

    /* Stopped after K-Means: nothing published, the checkpoint kept. */
    snprintf(text, sizeof text, fmt, input, out);
    TRIBE_MPI_CHECK(par, create(par, text, &a) == TRIBE_OK, "create a");
    watched = a;
    stop_after = "kmeans";
    tribe_pipeline_set_stop(a, stop_test);
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(a) == TRIBE_OK, "stopped run: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_pipeline_stopped(a), "the run did not stop");
    TRIBE_MPI_CHECK(par, tribe_pipeline_ran(a, "kmeans") && !tribe_pipeline_ran(a, "segments"),
                    "stopped after the wrong stage");
    TRIBE_MPI_CHECK(par, !exists(out, "results.h5"), "a stopped run published results");
    TRIBE_MPI_CHECK(par, exists(out, ".staging-r1/checkpoint-kmeans.h5") && exists(out, ".staging-r1/checkpoint"),
                    "no checkpoint in %s/.staging-r1", out);
    tribe_pipeline_destroy(&a);

    /* Resumed: K-Means loaded, the rest run, the same numbers. */
    TRIBE_MPI_CHECK(par, create(par, text, &b) == TRIBE_OK, "create b");
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(b) == TRIBE_OK, "resumed run: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, !tribe_pipeline_stopped(b), "the resumed run stopped");
    TRIBE_MPI_CHECK(par, tribe_pipeline_restored(b, "kmeans") && !tribe_pipeline_restored(b, "transform") &&
                         tribe_pipeline_ran(b, "segments"),
                    "kmeans was not restored from its checkpoint");
    TRIBE_MPI_CHECK(par, exists(out, "results.h5") && !exists(out, ".staging-r1"), "the resumed run did not publish");
    check_same_run(par, tribe_pipeline_context(ref), tribe_pipeline_context(b), "resumed after kmeans");
    tribe_pipeline_destroy(&b);

    /* Stopped after the driver model, then resumed: K-Means and the model
     * loaded, the same model and SHAP figures published. */
    char out2[800];
    snprintf(out2, sizeof out2, "%s/out2", dir);
    snprintf(text, sizeof text, fmt, input, out2);
    TRIBE_MPI_CHECK(par, create(par, text, &a) == TRIBE_OK, "create a2");
    watched = a;
    stop_after = "drivers";
    tribe_pipeline_set_stop(a, stop_test);
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(a) == TRIBE_OK && tribe_pipeline_stopped(a), "stop after drivers: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, !tribe_pipeline_ran(a, "personas"), "did not stop after drivers");
    tribe_pipeline_destroy(&a);
    TRIBE_MPI_CHECK(par, create(par, text, &b) == TRIBE_OK, "create b2");
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(b) == TRIBE_OK, "resumed run 2: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_pipeline_restored(b, "kmeans") && tribe_pipeline_restored(b, "drivers"),
                    "kmeans and drivers were not both restored");
    tribe_pipeline_destroy(&b);
    int64_t n0 = 0, n1 = 0;
    unsigned char *j0 = dataset(par, ref_out, "/model/drivers/gbdt_json", TRIBE_H5_U8, 1, &n0);
    unsigned char *j1 = dataset(par, out2, "/model/drivers/gbdt_json", TRIBE_H5_U8, 1, &n1);
    TRIBE_MPI_CHECK(par, j0 && j1 && n0 > 0 && n0 == n1 && memcmp(j0, j1, (size_t)n0) == 0,
                    "the driver model differs (%lld vs %lld bytes)", (long long)n0, (long long)n1);
    free(j0);
    free(j1);
    j0 = dataset(par, ref_out, "/model/drivers/mean_abs_shap", TRIBE_H5_F64, sizeof(double), &n0);
    j1 = dataset(par, out2, "/model/drivers/mean_abs_shap", TRIBE_H5_F64, sizeof(double), &n1);
    TRIBE_MPI_CHECK(par, j0 && j1 && n0 > 0 && n0 == n1 && memcmp(j0, j1, (size_t)n0) == 0, "mean |SHAP| differs");
    free(j0);
    free(j1);

    /* Stopped inside the K sweep after K=3's fit: a partial checkpoint, no
     * stage checkpoint; resumed, K=2 and 3 reused, the same numbers. */
    char out3[800];
    snprintf(out3, sizeof out3, "%s/out3", dir);
    snprintf(text, sizeof text, fmt, input, out3);
    TRIBE_MPI_CHECK(par, create(par, text, &a) == TRIBE_OK, "create a3");
    watched = a;
    tribe_pipeline_set_stop(a, stop_in_sweep);
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(a) == TRIBE_OK && tribe_pipeline_stopped(a), "stop in the sweep: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_pipeline_ran(a, "transform") && !tribe_pipeline_ran(a, "kmeans"),
                    "did not stop inside kmeans");
    TRIBE_MPI_CHECK(par, exists(out3, ".staging-r1/checkpoint-kmeans.partial.h5") &&
                         !exists(out3, ".staging-r1/checkpoint-kmeans.h5"),
                    "no partial kmeans checkpoint alone in %s/.staging-r1", out3);
    tribe_pipeline_destroy(&a);
    TRIBE_MPI_CHECK(par, create(par, text, &b) == TRIBE_OK, "create b3");
    TRIBE_MPI_CHECK(par, tribe_pipeline_run(b) == TRIBE_OK && !tribe_pipeline_stopped(b), "resumed run 3: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_pipeline_ran(b, "kmeans") && !tribe_pipeline_restored(b, "kmeans"),
                    "kmeans did not run from its partial checkpoint");
    TRIBE_MPI_CHECK(par, exists(out3, "results.h5") && !exists(out3, ".staging-r1"), "resumed run 3 did not publish");
    check_same_run(par, tribe_pipeline_context(ref), tribe_pipeline_context(b), "resumed inside the sweep");
    j0 = dataset(par, ref_out, "/model/k_sweep", TRIBE_H5_F64, sizeof(double), &n0);
    j1 = dataset(par, out3, "/model/k_sweep", TRIBE_H5_F64, sizeof(double), &n1);
    TRIBE_MPI_CHECK(par, j0 && j1 && n0 > 0 && n0 == n1 && memcmp(j0, j1, (size_t)n0) == 0, "the K sweep differs");
    free(j0);
    free(j1);
    tribe_pipeline_destroy(&b);
    tribe_pipeline_destroy(&ref);
    return tribe_mpitest_finish(&par);
}
