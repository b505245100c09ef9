/* Stage "drivers": what tells the segments apart, a softmax GBDT on the raw
 * model columns explained by TreeSHAP (tribe/drivers.h, docs/gbdt.md). Writes
 * /model/drivers (read by `tribe explain`); adds every segment's top drivers
 * to r->segs for the personas. Needs two segments or more. */
#include "tribe/drivers.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    tribe_drivers_cfg cfg; /* the job's drivers.* keys, same names */
    tribe_drivers *dr;     /* NULL with one segment */
} drivers_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    drivers_stage *s = state;
    tribe_spec *d = NULL;
    tribe_status st = TRIBE_OK;
    tribe_drivers_cfg_default(&s->cfg);
    s->cfg.seed = job->seed;
    TRIBE_TRY(tribe_spec_object(spec, "drivers", &d));
    TRIBE_TRY(tribe_spec_bool(d, "enabled", enabled));
    TRIBE_TRY(tribe_spec_int(d, "n_rounds", 1, 10000, &s->cfg.n_rounds));
    TRIBE_TRY(tribe_spec_int(d, "max_leaves", 2, 4096, &s->cfg.max_leaves));
    TRIBE_TRY(tribe_spec_num(d, "learning_rate", 1e-6, 1, &s->cfg.learning_rate));
    TRIBE_TRY(tribe_spec_i64(d, "sample_size", 0, 1e12, &s->cfg.sample_size));
    TRIBE_TRY(tribe_spec_i64(d, "train_rows", 0, 1e12, &s->cfg.train_rows));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    drivers_stage *s = state;
    tribe_status st = TRIBE_OK;
    if (r->k < 2) {
        TRIBE_INFO("segment drivers skipped: one segment");
        return TRIBE_OK;
    }
    TRIBE_DEBUG("drivers: %d rounds x %d classes, max_leaves %d, learning_rate %g, train_rows %lld, TreeSHAP sample %lld",
                s->cfg.n_rounds, r->k, s->cfg.max_leaves, s->cfg.learning_rate, (long long)s->cfg.train_rows,
                (long long)s->cfg.sample_size);
    TRIBE_TRY(tribe_drivers_fit(r->par, r->t, r->model_col, r->m, r->label, r->k, &s->cfg, &s->dr));
    /* Every rank holds the same mean |SHAP|: no agreement needed. */
    TRIBE_TRY(tribe_segments_set_drivers(r->segs, r->k, r->m, r->model_name, s->dr->mean_abs));
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    drivers_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_drivers *dr = s->dr;
    if (!dr)
        return TRIBE_OK;
    /* The model JSON is a 1-D uint8 dataset, not an attribute: with K classes
     * x n_rounds trees it easily passes the 64 KiB an HDF5 attribute may hold
     * in the object header. */
    int64_t len = (int64_t)strlen(dr->model_json);
    TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/mean_abs_shap", TRIBE_H5_F64, r->k, r->m, dr->mean_abs));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/drivers/mean_abs_shap", "feature_names", r->m, r->model_name));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/gain", TRIBE_H5_F64, r->m, 1, dr->gain));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/drivers/gain", "feature_names", r->m, r->model_name));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/drivers/gbdt_json", TRIBE_H5_U8, len, 1, dr->model_json));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/drivers", "shap_rows", dr->rows));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    drivers_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_drivers *dr = s->dr;
    tribe_rec *ma = NULL;
    if (!dr)
        return tribe_rec_str(obj, "skipped", "one segment");
    TRIBE_TRY(tribe_rec_strs(obj, "features", r->model_name, r->m));
    TRIBE_TRY(tribe_rec_arr(obj, "mean_abs_shap", &ma));
    for (int c = 0; c < r->k; c++)
        TRIBE_TRY(tribe_rec_nums(ma, NULL, dr->mean_abs + (size_t)c * r->m, r->m));
    TRIBE_TRY(tribe_rec_nums(obj, "gain", dr->gain, r->m));
    TRIBE_TRY(tribe_rec_int(obj, "rows", dr->rows));
    TRIBE_TRY(tribe_rec_int(obj, "train_rows", dr->train_rows));
    TRIBE_TRY(tribe_rec_int(obj, "trees", dr->n_trees));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    drivers_stage *s = state;
    return s->dr ? tribe_report_drivers(b, r->segs, s->dr, r->model_name) : TRIBE_OK;
}

static void destroy(void *state)
{
    drivers_stage *s = state;
    tribe_drivers_destroy(&s->dr);
}

/* The checkpoint is the fitted model and its figures (/drivers/model: k, m,
 * rows, train_rows, n_trees; mean_abs, gain, the model JSON); with one
 * segment, nothing (k = 0). load gives the segments the same drivers as run. */
static tribe_status save(void *state, const tribe_run *r, tribe_h5 *h)
{
    const drivers_stage *s = state;
    const tribe_drivers *dr = s->dr;
    tribe_status st = TRIBE_OK;
    int64_t head[5] = {0, 0, 0, 0, 0};
    (void)r;
    if (dr) {
        head[0] = dr->k, head[1] = dr->m, head[2] = dr->rows, head[3] = dr->train_rows, head[4] = dr->n_trees;
        TRIBE_TRY(tribe_h5_write_small(h, "/drivers/mean_abs", TRIBE_H5_F64, dr->k, dr->m, dr->mean_abs));
        TRIBE_TRY(tribe_h5_write_small(h, "/drivers/gain", TRIBE_H5_F64, dr->m, 1, dr->gain));
        TRIBE_TRY(tribe_h5_write_small(h, "/drivers/json", TRIBE_H5_U8, (int64_t)strlen(dr->model_json) + 1, 1,
                                       dr->model_json));
    }
    TRIBE_TRY(tribe_h5_write_small(h, "/drivers/model", TRIBE_H5_I64, 1, 5, head));
cleanup:
    return st;
}

static tribe_status load(void *state, tribe_run *r, tribe_h5 *h)
{
    drivers_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_drivers *dr = NULL;
    int64_t *head = NULL, n = 0, w = 0, n2 = 0, w2 = 0, n3 = 0, w3 = 0, n4 = 0, w4 = 0;
    TRIBE_TRY(tribe_h5_read_small(h, "/drivers/model", TRIBE_H5_I64, &n, &w, (void **)&head));
    if (n != 1 || w != 5)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: /drivers/model is not 1 x 5", tribe_h5_path(h)));
    if (head[0] == 0) { /* one segment: run fitted nothing */
        TRIBE_INFO("segment drivers skipped: one segment");
        goto cleanup;
    }
    TRIBE_TRY(tribe_calloc((void **)&dr, 1, sizeof *dr));
    dr->k = (int)head[0], dr->m = (int)head[1], dr->rows = head[2], dr->train_rows = head[3];
    dr->n_trees = (int)head[4];
    TRIBE_TRY(tribe_h5_read_small(h, "/drivers/mean_abs", TRIBE_H5_F64, &n2, &w2, (void **)&dr->mean_abs));
    TRIBE_TRY(tribe_h5_read_small(h, "/drivers/gain", TRIBE_H5_F64, &n3, &w3, (void **)&dr->gain));
    TRIBE_TRY(tribe_h5_read_small(h, "/drivers/json", TRIBE_H5_U8, &n4, &w4, (void **)&dr->model_json));
    if (dr->k != r->k || dr->m != r->m || n2 != r->k || w2 != r->m || n3 != r->m || n4 < 1 ||
        dr->model_json[n4 - 1] != '\0')
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: the driver model saved does not fit this run", tribe_h5_path(h)));
    TRIBE_TRY(tribe_segments_set_drivers(r->segs, r->k, r->m, r->model_name, dr->mean_abs));
    s->dr = dr;
    dr = NULL;
cleanup:
    tribe_drivers_destroy(&dr);
    free(head);
    return st;
}

const tribe_stage_def tribe_stage_drivers = {
    .name = "drivers", .state_size = sizeof(drivers_stage), .report_order = 20, .configure = configure, .run = run,
    .write = write, .record = record, .report = report, .destroy = destroy, .save = save, .load = load};
