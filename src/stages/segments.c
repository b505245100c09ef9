/* Stage "segments": per-segment profiles over every raw feature (sizes,
 * shares, exact means, medians and quartiles, categorical mixes) and their
 * RFM-style names (docs/clustering.md). Fills r->segs; writes
 * /segments/{size,share,...} and segments.csv. */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int unused;
} segments_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    return TRIBE_OK; /* no keys of its own */
}

static tribe_status run(void *state, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    int mon = tribe_table_feature(r->t, "monetary");
    TRIBE_DEBUG("segments: statistics of %d segments over %d model columns (monetary column %d)", r->k, r->m, mon);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_segments_build(r->par, r->t, r->label, r->k, r->centroids, r->model_col,
                                                           r->m, mon, &r->segs)));
    tribe_segments_name(r->segs);
    r->segs->inertia = r->inertia;
    r->segs->silhouette = r->silhouette;
    r->segs->silhouette_ci = r->silhouette_ci;
cleanup:
    return st;
}

/* Collective. A per-segment matrix [k][d] of one profile statistic. */
static tribe_status write_matrix(tribe_h5 *h, const tribe_segments *s, const char *name, size_t field)
{
    tribe_status st = TRIBE_OK;
    double *v = NULL;
    int k = s->k, d = s->d;
    TRIBE_TRY(tribe_calloc((void **)&v, (size_t)k * (size_t)d + 1, sizeof *v));
    for (int c = 0; c < k; c++)
        memcpy(v + (size_t)c * d, *(double *const *)((const char *)&s->seg[c] + field), (size_t)d * sizeof *v);
    TRIBE_TRY(tribe_h5_write_small(h, name, TRIBE_H5_F64, k, d, v));
    TRIBE_TRY(tribe_h5_attr_strs(h, name, "feature_names", d, (const char *const *)s->feature_names));
cleanup:
    free(v);
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    tribe_status st = TRIBE_OK;
    const tribe_segments *s = r->segs;
    const char **names = NULL;
    int64_t *size = NULL;
    double *share = NULL, *rev = NULL;
    int k = s->k, d = s->d;
    TRIBE_TRY(tribe_calloc((void **)&names, (size_t)k + 1, sizeof *names));
    TRIBE_TRY(tribe_calloc((void **)&size, (size_t)k + 1, sizeof *size));
    TRIBE_TRY(tribe_calloc((void **)&share, 2 * ((size_t)k + 1), sizeof *share));
    rev = share + k + 1;
    for (int c = 0; c < k; c++) {
        names[c] = s->seg[c].name;
        size[c] = s->seg[c].size;
        share[c] = s->seg[c].share;
        rev[c] = s->seg[c].revenue_share;
    }
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments", "names", k, names));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments", "k", k));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/size", TRIBE_H5_I64, k, 1, size));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/share", TRIBE_H5_F64, k, 1, share));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/revenue_share", TRIBE_H5_F64, k, 1, rev));
    TRIBE_TRY(write_matrix(h, s, "/segments/mean", offsetof(tribe_segment, mean)));
    TRIBE_TRY(write_matrix(h, s, "/segments/median", offsetof(tribe_segment, median)));
    TRIBE_TRY(write_matrix(h, s, "/segments/q1", offsetof(tribe_segment, q1)));
    TRIBE_TRY(write_matrix(h, s, "/segments/q3", offsetof(tribe_segment, q3)));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_mean", TRIBE_H5_F64, d, 1, s->overall_mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_median", TRIBE_H5_F64, d, 1, s->overall_median));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_q1", TRIBE_H5_F64, d, 1, s->overall_q1));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/overall_q3", TRIBE_H5_F64, d, 1, s->overall_q3));
cleanup:
    free(names);
    free(size);
    free(share);
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    tribe_status st = TRIBE_OK;
    const tribe_segments *s = r->segs;
    tribe_rec *list = NULL, *o = NULL;
    TRIBE_TRY(tribe_rec_arr(obj, "segments", &list));
    for (int c = 0; c < s->k; c++) {
        TRIBE_TRY(tribe_rec_obj(list, NULL, &o));
        TRIBE_TRY(tribe_rec_int(o, "id", s->seg[c].id));
        TRIBE_TRY(tribe_rec_str(o, "name", s->seg[c].name));
        TRIBE_TRY(tribe_rec_int(o, "size", s->seg[c].size));
        TRIBE_TRY(tribe_rec_num(o, "share", s->seg[c].share));
        TRIBE_TRY(tribe_rec_num(o, "revenue_share", s->seg[c].revenue_share));
    }
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    return tribe_report_segments(b, r->segs);
}

static tribe_status files(void *state, const tribe_run *r, const char *dir)
{
    char path[4096 + 32];
    tribe_status st = tribe_fmt(path, sizeof path, "%s/segments.csv", dir);
    return st == TRIBE_OK ? tribe_segments_csv(path, r->segs, r->personas) : st;
}

static const char *const OUTPUTS[] = {"segments.csv", NULL};

const tribe_stage_def tribe_stage_segments = {
    .name = "segments", .state_size = sizeof(segments_stage), .report_order = 10, .outputs = OUTPUTS,
    .configure = configure, .run = run, .write = write, .record = record, .report = report, .files = files};
