/* Stage "segments": per-segment profiles over every raw feature (sizes,
 * shares, exact means, medians and quartiles, categorical mixes) and their
 * RFM-style names (docs/clustering.md). Fills r->segs; writes
 * /segments/{size,share,...} and segments.csv. */
#include "tribe/cluster.h"
#include "tribe/kruskal.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
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

/* ---- are the segments different? (Kruskal-Wallis, tribe/kruskal.h) ---------------------- */

/* Collective. Per raw feature, the Kruskal-Wallis test across the segments
 * and the pairwise Cliff's deltas into r->segs->kw. */
static tribe_status kw_run(tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_table *t = r->t;
    TRIBE_TRY(tribe_kw_test(r->par, t->x, t->n_local, t->d, t->d, r->label, r->k, &r->segs->kw));
    const tribe_segtest *kw = r->segs->kw;
    int large = 0, tested = 0;
    for (int j = 0; j < kw->d; j++) {
        tested += isfinite(kw->h[j]) != 0;
        large += kw->eps2[j] >= 0.14;
    }
    TRIBE_DEBUG("segments: Kruskal-Wallis over %d features: %d tested, %d with a large effect (epsilon^2 >= 0.14)",
                kw->d, tested, large);
cleanup:
    return st;
}

/* Collective. /segments/kw_{n,h,p,p_holm,eps2} [d] and kw_delta [d][k*k]. */
static tribe_status kw_write(const tribe_segments *s, tribe_h5 *h)
{
    tribe_status st = TRIBE_OK;
    const tribe_segtest *kw = s->kw;
    const char *const *names = (const char *const *)s->feature_names;
    if (!kw)
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_n", TRIBE_H5_I64, kw->d, 1, kw->n));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_h", TRIBE_H5_F64, kw->d, 1, kw->h));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_p", TRIBE_H5_F64, kw->d, 1, kw->p));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_p_holm", TRIBE_H5_F64, kw->d, 1, kw->p_holm));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_eps2", TRIBE_H5_F64, kw->d, 1, kw->eps2));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/kw_delta", TRIBE_H5_F64, kw->d, (int64_t)kw->k * kw->k, kw->delta));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/kw_delta", "feature_names", kw->d, names));
cleanup:
    return st;
}

/* run.json's "kruskal_wallis": the method, then per feature the test, the
 * effect size in words and the pairwise deltas [k][k]. */
static tribe_status kw_record(const tribe_segments *s, tribe_rec *obj)
{
    tribe_status st = TRIBE_OK;
    const tribe_segtest *kw = s->kw;
    tribe_rec *o = NULL, *list = NULL, *f = NULL, *m = NULL;
    if (!kw)
        return TRIBE_OK;
    TRIBE_TRY(tribe_rec_obj(obj, "kruskal_wallis", &o));
    TRIBE_TRY(tribe_rec_str(o, "method", "Kruskal-Wallis H (tie-corrected), chi-square p, Holm over the features; "
                                         "epsilon^2 = H / (n - 1); Cliff's delta per pair"));
    TRIBE_TRY(tribe_rec_arr(o, "features", &list));
    for (int j = 0; j < kw->d; j++) {
        TRIBE_TRY(tribe_rec_obj(list, NULL, &f));
        TRIBE_TRY(tribe_rec_str(f, "feature", s->feature_names[j]));
        TRIBE_TRY(tribe_rec_int(f, "n", kw->n[j]));
        TRIBE_TRY(tribe_rec_int(f, "segments", kw->k_used[j]));
        TRIBE_TRY(tribe_rec_num(f, "h", kw->h[j]));
        TRIBE_TRY(tribe_rec_num(f, "p", kw->p[j]));
        TRIBE_TRY(tribe_rec_num(f, "p_holm", kw->p_holm[j]));
        TRIBE_TRY(tribe_rec_num(f, "epsilon_squared", kw->eps2[j]));
        TRIBE_TRY(tribe_rec_str(f, "effect", tribe_kw_magnitude(kw->eps2[j])));
        TRIBE_TRY(tribe_rec_arr(f, "cliffs_delta", &m));
        for (int a = 0; a < kw->k; a++)
            TRIBE_TRY(tribe_rec_nums(m, NULL, kw->delta + ((size_t)j * kw->k + a) * kw->k, kw->k));
    }
cleanup:
    return st;
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
    TRIBE_TRY(kw_run(r));
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
    TRIBE_TRY(kw_write(s, h));
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
    TRIBE_TRY(kw_record(s, obj));
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
