/* Stage "outliers": customers unusually far from their segment's centre,
 * judged per segment by Tukey's fence on the distances (docs/clustering.md,
 * "Outliers"). Writes /segments/outlier*, /model/outliers; adds each
 * segment's count to r->segs (segments.csv's outliers column). */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>

static const char *const METHODS[] = {"iqr"};

typedef struct {
    int method;       /* index into METHODS */
    double threshold; /* IQRs past Q3; default 3 */
    uint8_t *flag;    /* [n_local] 1 = outlier */
    float *score;     /* [n_local] (distance - Q3) / IQR of the segment */
    tribe_outliers *out;
} outliers_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    outliers_stage *s = state;
    tribe_spec *o = NULL;
    tribe_status st = TRIBE_OK;
    s->threshold = 3;
    TRIBE_TRY(tribe_spec_object(spec, "outliers", &o));
    TRIBE_TRY(tribe_spec_bool(o, "enabled", enabled));
    TRIBE_TRY(tribe_spec_choice(o, "method", METHODS, 1, &s->method));
    TRIBE_TRY(tribe_spec_num(o, "threshold", 0, 1000, &s->threshold));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    outliers_stage *s = state;
    tribe_status st = TRIBE_OK;
    int64_t n = r->rows.n_local;
    TRIBE_DEBUG("outliers: method %s, threshold %g IQRs past Q3", METHODS[s->method], s->threshold);
    st = tribe_alloc((void **)&s->flag, (size_t)n + 1);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&s->score, ((size_t)n + 1) * sizeof *s->score);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    TRIBE_TRY(tribe_outliers_fit(r->par, r->distance, r->label, n, r->k, s->threshold, s->flag, s->score, &s->out));
    for (int c = 0; c < r->k; c++)
        r->segs->seg[c].outliers = s->out->count[c];
    TRIBE_INFO("outliers: %lld customers past Q3 + %g IQR of their segment's distances", (long long)s->out->total,
               s->threshold);
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    outliers_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_rows *rw = &r->rows;
    int k = r->k;
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/outlier", TRIBE_H5_U8, rw->n_global, rw->offset, rw->n_local, 1,
                                  s->flag));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/outlier_score", TRIBE_H5_F32, rw->n_global, rw->offset, rw->n_local,
                                  1, s->score));
    TRIBE_TRY(tribe_h5_attr_str(h, "/segments/outlier", "method", METHODS[s->method]));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/outlier", "threshold", s->out->threshold));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/outlier_count", TRIBE_H5_I64, k, 1, s->out->count));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q1", TRIBE_H5_F64, k, 1, s->out->q1));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q3", TRIBE_H5_F64, k, 1, s->out->q3));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/fence", TRIBE_H5_F64, k, 1, s->out->fence));
    TRIBE_TRY(tribe_h5_attr_i64(h, r->run_group, "outliers", s->out->total));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    outliers_stage *s = state;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_rec_str(obj, "method", METHODS[s->method]));
    TRIBE_TRY(tribe_rec_num(obj, "threshold", s->out->threshold));
    TRIBE_TRY(tribe_rec_int(obj, "total", s->out->total));
    TRIBE_TRY(tribe_rec_ints(obj, "count", s->out->count, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "fence", s->out->fence, r->k));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    outliers_stage *s = state;
    return tribe_report_outliers(b, r->segs, s->out);
}

static void destroy(void *state)
{
    outliers_stage *s = state;
    free(s->flag);
    free(s->score);
    tribe_outliers_destroy(&s->out);
}

const tribe_stage_def tribe_stage_outliers = {
    .name = "outliers", .state_size = sizeof(outliers_stage), .report_order = 50, .configure = configure,
    .run = run, .write = write, .record = record, .report = report, .destroy = destroy};
