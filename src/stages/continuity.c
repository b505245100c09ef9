/* Stage "continuity" (job key "continuity"): every run writes the drift
 * reference of its model columns and its segments' persistent ids; a run
 * that follows a previous one (stage "previous") also matches its segments
 * to the previous ones (survived / split / absorbed / disappeared /
 * emerged), keeps a survivor's id and name, counts the migration matrix and
 * warns about drift (tribe/continuity.h, docs/resegmentation.md). Sets
 * r->segs->seg[].id and names; writes migration.csv. */
#include "tribe/continuity.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NE = TRIBE_DRIFT_BINS - 1, NS = TRIBE_DRIFT_BINS + 1, BLOCK = 4096 };

typedef struct {
    tribe_match_cfg mc;
    double psi_warn, shift_warn, size_warn, persona_shift;
    double *edges, *ref;      /* [m][NE], [m][NS]: this run's drift reference */
    int64_t *ids;             /* [k] persistent ids of this run's segments */
    int64_t next_id;
    tribe_changes ch;         /* with a previous run */
} continuity_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    continuity_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_spec *c = NULL;
    tribe_match_cfg_default(&s->mc);
    s->psi_warn = 0.25;
    s->shift_warn = 0.5;
    s->size_warn = 0.5;
    s->persona_shift = 0.25;
    TRIBE_TRY(tribe_spec_object(spec, "continuity", &c));
    TRIBE_TRY(tribe_spec_num(c, "survive", 0.5, 1, &s->mc.survive));
    TRIBE_TRY(tribe_spec_num(c, "split", 0.01, 1, &s->mc.split));
    TRIBE_TRY(tribe_spec_i64(c, "min_overlap", 0, 1e12, &s->mc.min_overlap));
    TRIBE_TRY(tribe_spec_num(c, "centre_max", 0, 1e6, &s->mc.centre_max));
    TRIBE_TRY(tribe_spec_num(c, "psi_warn", 0, 100, &s->psi_warn));
    TRIBE_TRY(tribe_spec_num(c, "shift_warn", 0, 1e6, &s->shift_warn));
    TRIBE_TRY(tribe_spec_num(c, "size_warn", 0, 1e6, &s->size_warn));
    TRIBE_TRY(tribe_spec_num(c, "persona_shift", 0, 1e6, &s->persona_shift));
    if (s->mc.split > s->mc.survive)
        TRIBE_TRY(tribe_spec_fail(c, "'continuity.split' (%g) must not exceed 'continuity.survive' (%g)", s->mc.split,
                                  s->mc.survive));
    (void)job;
    (void)enabled;
cleanup:
    return st;
}

/* Collective. Distances of the new segments' centres, measured in the
 * previous model space (the new customers transformed with the previous
 * scaler and averaged per segment, exactly), to the previous centres:
 * c->cdist[ko][kn]. */
static tribe_status centre_distances(tribe_changes *c, const tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_prev *p = c->prev;
    int pm = p->m, kn = c->kn;
    int *cols = NULL;
    float *z = NULL;
    tribe_xsum *sum = NULL;
    int64_t *cnt = NULL;
    tribe_scaler *sc = NULL;
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)pm, sizeof *cols));
    TRIBE_TRY(tribe_calloc((void **)&z, (size_t)BLOCK * pm, sizeof *z));
    TRIBE_TRY(tribe_calloc((void **)&sum, (size_t)kn * pm, sizeof *sum));
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)kn, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&c->cdist, (size_t)c->ko * kn + 1, sizeof *c->cdist));
    for (int j = 0; j < pm; j++)
        cols[j] = tribe_table_feature(r->t, p->names[j]);
    TRIBE_TRY(tribe_scaler_from_model(pm, cols, (const char *const *)p->names, p->log1p, p->mean, p->std, p->impute,
                                      &sc));
    for (int64_t i0 = 0; i0 < r->rows.n_local && st == TRIBE_OK; i0 += BLOCK) {
        int64_t n = r->rows.n_local - i0 < BLOCK ? r->rows.n_local - i0 : BLOCK;
        st = tribe_scaler_apply(sc, r->t->x + i0 * r->t->d, n, r->t->d, r->t->id + i0, z);
        for (int64_t i = 0; i < n && st == TRIBE_OK; i++) {
            int l = r->label[i0 + i];
            cnt[l]++;
            for (int j = 0; j < pm; j++)
                sum[(size_t)l * pm + j] += tribe_xsum_of(z[i * pm + j]);
        }
    }
    TRIBE_TRY(tribe_par_agree(r->par, st));
    TRIBE_TRY(tribe_par_sum_xsum(r->par, sum, (int64_t)kn * pm));
    TRIBE_TRY(tribe_par_sum_i64(r->par, cnt, kn));
    for (int i = 0; i < c->ko; i++)
        for (int l = 0; l < kn; l++) {
            double d2 = 0;
            for (int j = 0; j < pm && cnt[l] > 0; j++) {
                double dv = tribe_xsum_value(sum[(size_t)l * pm + j]) / (double)cnt[l] - p->centroids[(size_t)i * pm + j];
                d2 += dv * dv;
            }
            c->cdist[(size_t)i * kn + l] = cnt[l] > 0 ? sqrt(d2) : NAN;
        }
cleanup:
    free(cols);
    free(z);
    free(sum);
    free(cnt);
    tribe_scaler_destroy(&sc);
    return st;
}

/* Not collective. The matching; in a score-only rerun each centre is its
 * previous self (matched by identity, not by customers). */
static tribe_status match(continuity_stage *s, tribe_changes *c, const tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    double *ident = NULL;
    tribe_match_cfg mc = s->mc;
    tribe_match_in in = {.ko = c->ko, .kn = c->kn, .overlap = c->overlap, .cdist = c->cdist,
                         .old_id = c->prev->seg_id, .next_id = c->prev->next_id};
    if (r->from_prev) {
        TRIBE_TRY(tribe_calloc((void **)&ident, (size_t)c->ko * c->kn + 1, sizeof *ident));
        for (int i = 0; i < c->ko; i++)
            for (int j = 0; j < c->kn; j++)
                ident[(size_t)i * c->kn + j] = r->from_prev[j] == i ? 0 : INFINITY;
        in.cdist = ident;
        mc.min_overlap = INT64_MAX;
    }
    TRIBE_TRY(tribe_match_segments(&in, &mc, &c->match));
cleanup:
    free(ident);
    return st;
}

/* 1 for the naming rules' fallback "Segment <n>" (no RFM columns, or
 * beyond the named prototypes), which numbers by position. */
static int numbered_name(const char *name)
{
    const char *p = name + 8;
    if (strncmp(name, "Segment ", 8) != 0 || !*p)
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' || *p == ' ';
}

/* Not collective. Survivors keep their previous name; a numbered new segment
 * is numbered by its persistent id; any other name taken by a survivor gets a
 * number. */
static void names(tribe_changes *c, tribe_segments *segs)
{
    for (int j = 0; j < c->kn; j++)
        if (c->match.heir[j] >= 0)
            snprintf(segs->seg[j].name, sizeof segs->seg[j].name, "%s", c->prev->seg_names[c->match.heir[j]]);
        else if (numbered_name(segs->seg[j].name))
            snprintf(segs->seg[j].name, sizeof segs->seg[j].name, "Segment %lld", (long long)c->match.id[j] + 1);
    for (int j = 0; j < c->kn; j++) {
        if (c->match.heir[j] >= 0)
            continue;
        char base[64];
        snprintf(base, sizeof base, "%s", segs->seg[j].name);
        for (int n = 2, clash = 1; clash && n < 1000; n++) {
            clash = 0;
            for (int o = 0; o < c->kn; o++)
                clash |= o != j && strcmp(segs->seg[o].name, segs->seg[j].name) == 0;
            if (clash)
                snprintf(segs->seg[j].name, sizeof segs->seg[j].name, "%.56s %d", base, n);
        }
    }
}

/* Not collective. Every warning into c->warn (and the log). */
static tribe_status warnings(continuity_stage *s, tribe_changes *c, const tribe_segments *segs)
{
    tribe_status st = TRIBE_OK;
    const tribe_prev *p = c->prev;
    char line[256];
    for (int j = 0; j < c->kn; j++) {
        int h = c->match.heir[j];
        if (h < 0)
            continue;
        double grow = p->size[h] > 0 ? (double)segs->seg[j].size / (double)p->size[h] - 1 : NAN;
        double shift = c->cdist[(size_t)h * c->kn + j];
        if (fabs(grow) > s->size_warn) {
            snprintf(line, sizeof line, "segment #%lld %s %s %.0f%% (%lld -> %lld customers)", (long long)c->match.id[j],
                     segs->seg[j].name, grow > 0 ? "grew" : "shrank", fabs(grow) * 100, (long long)p->size[h],
                     (long long)segs->seg[j].size);
            TRIBE_TRY(tribe_changes_warn(c, line));
        }
        if (shift > s->shift_warn) {
            snprintf(line, sizeof line, "segment #%lld %s moved %.2f from its previous centre (> %.2f, model units)",
                     (long long)c->match.id[j], segs->seg[j].name, shift, s->shift_warn);
            TRIBE_TRY(tribe_changes_warn(c, line));
        }
    }
    for (int j = 0; j < p->m; j++)
        if (c->psi && c->psi[j] > s->psi_warn) {
            snprintf(line, sizeof line, "'%s' drifted: population stability index %.2f > %.2f", p->names[j],
                     c->psi[j], s->psi_warn);
            TRIBE_TRY(tribe_changes_warn(c, line));
        }
cleanup:
    return st;
}

/* Not collective. One log line per transition. */
static void log_transitions(const tribe_changes *c, const tribe_segments *segs)
{
    for (int t = 0; t < c->match.n; t++) {
        char line[512];
        tribe_changes_describe(c, segs, &c->match.tr[t], line, sizeof line);
        TRIBE_INFO("continuity: %s", line);
    }
}

/* Collective. Everything that needs the previous run. */
static tribe_status follow(continuity_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    tribe_changes *c = &s->ch;
    int32_t *pl = NULL;
    int64_t *gone = NULL;
    c->prev = r->prev;
    c->psi = r->prev_psi;
    c->ko = r->prev->k;
    c->kn = r->k;
    TRIBE_TRY(tribe_calloc((void **)&pl, (size_t)r->rows.n_local + 1, sizeof *pl));
    TRIBE_TRY(tribe_calloc((void **)&gone, (size_t)c->ko, sizeof *gone));
    TRIBE_TRY(tribe_prev_labels(&r->rows, r->t->id, r->prev, pl, gone));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_changes_migration(r->par, c, pl, r->label, r->rows.n_local, r->t->x,
                                                              r->t->d, tribe_table_feature(r->t, "monetary"),
                                                              gone)));
    TRIBE_TRY(tribe_par_agree(r->par, centre_distances(c, r)));
    TRIBE_TRY(tribe_par_agree(r->par, match(s, c, r)));
    for (int j = 0; j < c->kn; j++)
        s->ids[j] = c->match.id[j];
    s->next_id = c->match.next_id;
    names(c, r->segs);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_calloc((void **)&c->keep_persona, (size_t)c->kn, sizeof *c->keep_persona)));
    for (int j = 0; j < c->kn; j++) {
        int h = c->match.heir[j];
        r->segs->seg[j].id = (int)c->match.id[j];
        c->keep_persona[j] = h >= 0 && c->cdist[(size_t)h * c->kn + j] <= s->persona_shift;
    }
    r->changes = c;
    TRIBE_TRY(tribe_par_agree(r->par, warnings(s, c, r->segs)));
    if (tribe_par_rank(r->par) == 0) {
        log_transitions(c, r->segs);
        for (int w = 0; w < c->n_warn; w++)
            TRIBE_WARN("continuity: %s", c->warn[w]);
    }
cleanup:
    free(pl);
    free(gone);
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    continuity_stage *s = state;
    tribe_status st = TRIBE_OK;
    size_t m = (size_t)r->m;
    TRIBE_DEBUG("continuity: %s, drift warnings at PSI %g, shift %g, size %g", r->prev ? "against the previous run" :
                "first run (drift reference only)", s->psi_warn, s->shift_warn, s->size_warn);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_calloc((void **)&s->edges, m * NE + 1, sizeof *s->edges)));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_calloc((void **)&s->ref, m * NS + 1, sizeof *s->ref)));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_calloc((void **)&s->ids, (size_t)r->k, sizeof *s->ids)));
    TRIBE_TRY(tribe_drift_ref(&r->rows, r->t->x, r->t->d, r->model_col, r->m, s->edges, s->ref));
    for (int c = 0; c < r->k; c++)
        s->ids[c] = c;
    s->next_id = r->k;
    if (r->prev)
        TRIBE_TRY(follow(s, r));
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    continuity_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_changes *c = &s->ch;
    char *json = NULL;
    int64_t next = s->next_id;
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/segment_id", TRIBE_H5_I64, r->k, 1, s->ids));
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/next_id", TRIBE_H5_I64, 1, 1, &next));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/drift/edges", TRIBE_H5_F64, r->m, NE, s->edges));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/drift/share", TRIBE_H5_F64, r->m, NS, s->ref));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/drift", "feature_names", r->m, r->model_name));
    if (!c->prev)
        goto cleanup;
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/migration", TRIBE_H5_I64, c->ko + 1, c->kn + 1, c->overlap));
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/migration_revenue", TRIBE_H5_F64, c->ko + 1, c->kn + 1,
                                   c->revenue));
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/previous_segment_id", TRIBE_H5_I64, c->ko, 1, c->prev->seg_id));
    TRIBE_TRY(tribe_h5_write_small(h, "/continuity/centre_distance", TRIBE_H5_F64, c->ko, c->kn, c->cdist));
    TRIBE_TRY(tribe_changes_json(c, r->segs, &json));
    TRIBE_TRY(tribe_h5_attr_str(h, "/continuity", "changes", json));
cleanup:
    free(json);
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    continuity_stage *s = state;
    tribe_status st = TRIBE_OK;
    char *json = NULL;
    TRIBE_TRY(tribe_rec_ints(obj, "segment_ids", s->ids, r->k));
    TRIBE_TRY(tribe_rec_int(obj, "next_id", s->next_id));
    if (!s->ch.prev)
        goto cleanup;
    TRIBE_TRY(tribe_changes_json(&s->ch, r->segs, &json));
    TRIBE_TRY(tribe_rec_json(obj, "changes", json));
cleanup:
    free(json);
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    continuity_stage *s = state;
    return tribe_report_changes(b, r->segs, s->ch.prev ? &s->ch : NULL);
}

static tribe_status files(void *state, const tribe_run *r, const char *dir)
{
    continuity_stage *s = state;
    char path[4096 + 32];
    tribe_status st = tribe_fmt(path, sizeof path, "%s/migration.csv", dir);
    return st == TRIBE_OK ? tribe_changes_csv(path, &s->ch, r->segs) : st;
}

static void destroy(void *state)
{
    continuity_stage *s = state;
    free(s->edges);
    free(s->ref);
    free(s->ids);
    tribe_changes_free(&s->ch);
}

static const char *const OUTPUTS[] = {"migration.csv", NULL};

const tribe_stage_def tribe_stage_continuity = {
    .name = "continuity", .state_size = sizeof(continuity_stage), .report_order = 5, .outputs = OUTPUTS,
    .configure = configure, .run = run, .write = write, .record = record, .report = report, .files = files,
    .destroy = destroy};
