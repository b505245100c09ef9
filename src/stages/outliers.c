/* Stage "outliers": customers unusually far from their segment's centre,
 * judged per segment by Tukey's fence on the distances, or (method "dbscan")
 * the noise of DBSCAN on a sample (docs/clustering.md, "Outliers"). Writes
 * /segments/outlier*, /model/outliers; adds each segment's count to r->segs
 * (segments.csv's outliers column). */
#include "tribe/cluster.h"
#include "tribe/dbscan.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>

enum { METHOD_IQR, METHOD_DBSCAN };
static const char *const METHODS[] = {"iqr", "dbscan"};

typedef struct {
    int method;       /* index into METHODS */
    double threshold; /* IQRs past Q3; default 3 */
    tribe_dbscan_cfg dbscan; /* method "dbscan": sample_size, min_samples (0: 2 x columns), eps (0: knee) */
    uint8_t *flag;    /* [n_local] 1 = outlier */
    float *score;     /* [n_local] iqr: (distance - Q3) / IQR of the segment; dbscan: nearest core / eps */
    int32_t *cluster; /* [n_local] dbscan: DBSCAN cluster, -1 = noise */
    tribe_dbscan *db;
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
    TRIBE_TRY(tribe_spec_choice(o, "method", METHODS, 2, &s->method));
    TRIBE_TRY(tribe_spec_num(o, "threshold", 0, 1000, &s->threshold));
    s->dbscan = (tribe_dbscan_cfg){.sample_size = 20000, .seed = job->seed};
    TRIBE_TRY(tribe_spec_i64(o, "sample_size", 1, 1e9, &s->dbscan.sample_size));
    TRIBE_TRY(tribe_spec_int(o, "min_samples", 0, 1e6, &s->dbscan.min_samples));
    TRIBE_TRY(tribe_spec_num(o, "eps", 0, 1e300, &s->dbscan.eps));
cleanup:
    return st;
}

/* DBSCAN noise as the outliers, counted per segment into s->out. */
static tribe_status run_dbscan(outliers_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    int64_t n = r->rows.n_local;
    tribe_dmat z = tribe_run_z(r);
    TRIBE_DEBUG("outliers: method dbscan, sample %lld, min_samples %d%s, eps %g%s",
                (long long)s->dbscan.sample_size, s->dbscan.min_samples, s->dbscan.min_samples ? "" : " (2 x columns)",
                s->dbscan.eps, s->dbscan.eps > 0 ? "" : " (from the k-distance knee)");
    st = tribe_alloc((void **)&s->cluster, ((size_t)n + 1) * sizeof *s->cluster);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&s->out, 1, sizeof *s->out);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&s->out->count, (size_t)r->k, sizeof *s->out->count);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    TRIBE_TRY(tribe_dbscan_fit(&z, &s->dbscan, s->cluster, s->flag, s->score, &s->db));
    s->out->k = r->k;
    s->out->threshold = NAN;
    s->out->dbscan = s->db;
    for (int64_t i = 0; i < n; i++)
        if (s->flag[i] && r->label[i] >= 0 && r->label[i] < r->k)
            s->out->count[r->label[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(r->par, s->out->count, r->k));
    for (int c = 0; c < r->k; c++)
        s->out->total += s->out->count[c];
    TRIBE_INFO("outliers: %lld customers are DBSCAN noise (eps %.4g%s, min_samples %d; %lld core points of %lld "
               "sampled, %d clusters)",
               (long long)s->out->total, s->db->eps, s->db->eps_from_knee ? " from the k-distance knee" : "",
               s->db->min_samples, (long long)s->db->n_core, (long long)s->db->m, s->db->n_clusters);
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    outliers_stage *s = state;
    tribe_status st = TRIBE_OK;
    int64_t n = r->rows.n_local;
    st = tribe_alloc((void **)&s->flag, (size_t)n + 1);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&s->score, ((size_t)n + 1) * sizeof *s->score);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    if (s->method == METHOD_DBSCAN) {
        TRIBE_TRY(run_dbscan(s, r));
    } else {
        TRIBE_DEBUG("outliers: method %s, threshold %g IQRs past Q3", METHODS[s->method], s->threshold);
        TRIBE_TRY(tribe_outliers_fit(r->par, r->distance, r->label, n, r->k, s->threshold, s->flag, s->score,
                                     &s->out));
        TRIBE_INFO("outliers: %lld customers past Q3 + %g IQR of their segment's distances",
                   (long long)s->out->total, s->threshold);
    }
    for (int c = 0; c < r->k; c++)
        r->segs->seg[c].outliers = s->out->count[c];
cleanup:
    return st;
}

/* /model/outliers of method "dbscan": each customer's DBSCAN cluster, the
 * clusters' sizes and the parameters (docs/hdf5-layout.md). */
static tribe_status write_dbscan(const outliers_stage *s, const tribe_run *r, tribe_h5 *h)
{
    tribe_status st = TRIBE_OK;
    const tribe_rows *rw = &r->rows;
    const tribe_dbscan *db = s->db;
    static const char *const OBJ = "/model/outliers/dbscan_cluster";
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/outlier", "eps", db->eps));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments/outlier", "min_samples", db->min_samples));
    TRIBE_TRY(tribe_h5_write_rows(h, OBJ, TRIBE_H5_I32, rw->n_global, rw->offset, rw->n_local, 1, s->cluster));
    TRIBE_TRY(tribe_h5_attr_f64(h, OBJ, "eps", db->eps));
    TRIBE_TRY(tribe_h5_attr_str(h, OBJ, "eps_source", db->eps_from_knee ? "knee" : "given"));
    TRIBE_TRY(tribe_h5_attr_i64(h, OBJ, "min_samples", db->min_samples));
    TRIBE_TRY(tribe_h5_attr_i64(h, OBJ, "sample_size", db->m));
    TRIBE_TRY(tribe_h5_attr_i64(h, OBJ, "core_count", db->n_core));
    TRIBE_TRY(tribe_h5_attr_i64(h, OBJ, "clusters", db->n_clusters));
    TRIBE_TRY(tribe_h5_attr_i64(h, OBJ, "noise", db->noise));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/cluster_size", TRIBE_H5_I64, db->n_clusters, 1,
                                   db->cluster_size));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/cluster_core_count", TRIBE_H5_I64, db->n_clusters, 1,
                                   db->core_count));
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
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/outlier_count", TRIBE_H5_I64, k, 1, s->out->count));
    if (s->method == METHOD_DBSCAN) {
        TRIBE_TRY(write_dbscan(s, r, h));
    } else {
        TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/outlier", "threshold", s->out->threshold));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q1", TRIBE_H5_F64, k, 1, s->out->q1));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/distance_q3", TRIBE_H5_F64, k, 1, s->out->q3));
        TRIBE_TRY(tribe_h5_write_small(h, "/model/outliers/fence", TRIBE_H5_F64, k, 1, s->out->fence));
    }
    TRIBE_TRY(tribe_h5_attr_i64(h, r->run_group, "outliers", s->out->total));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    outliers_stage *s = state;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_rec_str(obj, "method", METHODS[s->method]));
    if (s->method == METHOD_DBSCAN) {
        const tribe_dbscan *db = s->db;
        TRIBE_TRY(tribe_rec_num(obj, "eps", db->eps));
        TRIBE_TRY(tribe_rec_str(obj, "eps_source", db->eps_from_knee ? "knee" : "given"));
        TRIBE_TRY(tribe_rec_int(obj, "min_samples", db->min_samples));
        TRIBE_TRY(tribe_rec_int(obj, "sample_size", db->m));
        TRIBE_TRY(tribe_rec_int(obj, "core_count", db->n_core));
        TRIBE_TRY(tribe_rec_int(obj, "clusters", db->n_clusters));
        TRIBE_TRY(tribe_rec_ints(obj, "cluster_size", db->cluster_size, db->n_clusters));
    } else {
        TRIBE_TRY(tribe_rec_num(obj, "threshold", s->out->threshold));
    }
    TRIBE_TRY(tribe_rec_int(obj, "total", s->out->total));
    TRIBE_TRY(tribe_rec_ints(obj, "count", s->out->count, r->k));
    if (s->method == METHOD_IQR)
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
    free(s->cluster);
    tribe_outliers_destroy(&s->out);
    tribe_dbscan_destroy(&s->db);
}

const tribe_stage_def tribe_stage_outliers = {
    .name = "outliers", .state_size = sizeof(outliers_stage), .uses_z = 1, .report_order = 50, .configure = configure,
    .run = run, .write = write, .record = record, .report = report, .destroy = destroy};
