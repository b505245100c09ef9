/* Stage "ward": the Ward tree over the segment centres, weighted by segment
 * size (docs/clustering.md, "Nested segments"). Writes /model/ward as a scipy
 * linkage; the report draws the dendrogram. Needs two segments or more. */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

typedef struct {
    tribe_ward *ward; /* NULL with one segment */
} ward_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    tribe_spec *w = NULL;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_spec_object(spec, "ward", &w));
    TRIBE_TRY(tribe_spec_bool(w, "enabled", enabled));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    ward_stage *s = state;
    TRIBE_DEBUG("ward: merge tree of %d segment centroids in %d model columns", r->k, r->m);
    if (r->k < 2)
        return TRIBE_OK; /* one segment: nothing to nest */
    return tribe_ward_fit(r->par, r->label, r->rows.n_local, r->centroids, r->k, r->m, &s->ward);
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    ward_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ward *w = s->ward;
    int k = r->k;
    if (!w)
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/merges", TRIBE_H5_I32, k - 1, 2, w->merges));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/heights", TRIBE_H5_F64, k - 1, 1, w->heights));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/sizes", TRIBE_H5_I64, k - 1, 1, w->sizes));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ward/leaf_sizes", TRIBE_H5_I64, k, 1, w->leaf_size));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/ward", "format", "scipy linkage: Z = column_stack([merges, heights, sizes])"));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    ward_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ward *w = s->ward;
    tribe_rec *merges = NULL, *pair = NULL;
    if (!w)
        return TRIBE_OK;
    TRIBE_TRY(tribe_rec_arr(obj, "merges", &merges));
    for (int t = 0; t < r->k - 1; t++) {
        TRIBE_TRY(tribe_rec_arr(merges, NULL, &pair));
        TRIBE_TRY(tribe_rec_int(pair, NULL, w->merges[2 * t]));
        TRIBE_TRY(tribe_rec_int(pair, NULL, w->merges[2 * t + 1]));
    }
    TRIBE_TRY(tribe_rec_nums(obj, "heights", w->heights, r->k - 1));
    TRIBE_TRY(tribe_rec_ints(obj, "sizes", w->sizes, r->k - 1));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    ward_stage *s = state;
    return s->ward ? tribe_report_nesting(b, r->segs, s->ward) : TRIBE_OK;
}

static void destroy(void *state)
{
    ward_stage *s = state;
    tribe_ward_destroy(&s->ward);
}

const tribe_stage_def tribe_stage_ward = {
    .name = "ward", .state_size = sizeof(ward_stage), .report_order = 70, .configure = configure, .run = run,
    .write = write, .record = record, .report = report, .destroy = destroy};
