/* Stage "projection": the 2-D PCA of the model space and a sample of
 * customers placed on it, for the report's segment map (docs/clustering.md).
 * Writes /model/projection. Off when projection.sample_size is 0. */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

typedef struct {
    int64_t sample_size; /* customers drawn for the scatter; default 3000; 0 = off */
    tribe_projection *proj;
} projection_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    projection_stage *s = state;
    tribe_spec *p = NULL;
    tribe_status st = TRIBE_OK;
    s->sample_size = 3000;
    TRIBE_TRY(tribe_spec_object(spec, "projection", &p));
    TRIBE_TRY(tribe_spec_i64(p, "sample_size", 0, 1e6, &s->sample_size));
    *enabled = s->sample_size > 0;
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    projection_stage *s = state;
    TRIBE_DEBUG("projection: PCA map of %lld sampled customers (0 = off)", (long long)s->sample_size);
    tribe_dmat z = tribe_run_z(r);
    return tribe_par_agree(r->par, tribe_projection_fit(&z, r->label, s->sample_size, r->job->seed, &s->proj));
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    projection_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_projection *p = s->proj;
    double comp[2 * TRIBE_MAX_FEATURES];
    const char *axes[2] = {p->axis[0], p->axis[1]};
    if (p->m <= 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/xy", TRIBE_H5_F32, p->m, 2, p->xy));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/label", TRIBE_H5_I32, p->m, 1, p->label));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/projection", "axis", 2, axes));
    if (p->d <= 0)
        return TRIBE_OK;
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < p->d; j++)
            comp[c * p->d + j] = p->components[c][j];
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/explained_variance", TRIBE_H5_F64, p->d, 1,
                                   p->explained_variance));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/explained_variance_ratio", TRIBE_H5_F64, p->d, 1,
                                   p->explained_variance_ratio));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/components", TRIBE_H5_F64, 2, p->d, comp));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/projection/mean", TRIBE_H5_F64, p->d, 1, p->mean));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    projection_stage *s = state;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_rec_int(obj, "sample", s->proj->m));
    TRIBE_TRY(tribe_rec_str(obj, "x_axis", s->proj->axis[0]));
    TRIBE_TRY(tribe_rec_str(obj, "y_axis", s->proj->axis[1]));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    projection_stage *s = state;
    return tribe_report_map(b, r->segs, s->proj);
}

static void destroy(void *state)
{
    projection_stage *s = state;
    tribe_projection_destroy(&s->proj);
}

const tribe_stage_def tribe_stage_projection = {
    .name = "projection", .state_size = sizeof(projection_stage), .uses_z = 1, .report_order = 80,
    .configure = configure, .run = run, .write = write, .record = record, .report = report, .destroy = destroy};
