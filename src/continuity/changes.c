/* What changed between two runs, in words, JSON and CSV (tribe/continuity.h). */
#include "tribe/continuity.h"
#include "tribe/record.h"
#include "tribe/sbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tribe_status tribe_changes_warn(tribe_changes *c, const char *line)
{
    tribe_status st = tribe_realloc((void **)&c->warn, (size_t)(c->n_warn + 1) * sizeof *c->warn);
    if (st == TRIBE_OK)
        snprintf(c->warn[c->n_warn++], sizeof *c->warn, "%s", line);
    return st;
}

void tribe_changes_free(tribe_changes *c)
{
    if (!c)
        return;
    free(c->overlap);
    free(c->revenue);
    free(c->cdist);
    free(c->warn);
    free(c->keep_persona);
    tribe_match_free(&c->match);
    memset(c, 0, sizeof *c);
}

tribe_status tribe_changes_migration(tribe_par *par, tribe_changes *c, const int32_t *prev_label,
                                     const int32_t *label, int64_t n, const float *x, int ldx, int money,
                                     const int64_t *gone)
{
    tribe_status st = TRIBE_OK;
    int ko = c->ko, kn = c->kn, mon = x ? money : -1;
    size_t cells = (size_t)(ko + 1) * (kn + 1);
    tribe_xsum *rev = NULL;
    TRIBE_TRY(tribe_calloc((void **)&c->overlap, cells, sizeof *c->overlap));
    TRIBE_TRY(tribe_calloc((void **)&c->revenue, cells, sizeof *c->revenue));
    TRIBE_TRY(tribe_calloc((void **)&rev, cells, sizeof *rev));
    for (int64_t i = 0; i < n; i++) {
        size_t at = (size_t)(prev_label[i] >= 0 ? prev_label[i] : ko) * (kn + 1) + (size_t)label[i];
        c->overlap[at]++;
        float v = mon >= 0 ? x[i * ldx + mon] : NAN;
        if (isfinite(v))
            rev[at] += tribe_xsum_of(v);
    }
    TRIBE_TRY(tribe_par_sum_i64(par, c->overlap, (int64_t)cells));
    if (mon >= 0)
        TRIBE_TRY(tribe_par_sum_xsum(par, rev, (int64_t)cells));
    for (size_t i = 0; i < cells; i++)
        c->revenue[i] = mon >= 0 ? tribe_xsum_value(rev[i]) : NAN;
    for (int i = 0; i < ko; i++) { /* gone customers bring no revenue to this run */
        c->overlap[(size_t)i * (kn + 1) + kn] = gone[i];
        c->revenue[(size_t)i * (kn + 1) + kn] = mon >= 0 ? 0 : NAN;
    }
cleanup:
    free(rev);
    return st;
}

static int64_t ov(const tribe_changes *c, int i, int j)
{
    return c->overlap[(size_t)i * (c->kn + 1) + j];
}

void tribe_changes_counts(const tribe_changes *c, int64_t *continuing, int64_t *stayed, int64_t *added, int64_t *gone)
{
    *continuing = *stayed = *added = *gone = 0;
    for (int i = 0; i < c->ko; i++) {
        *gone += ov(c, i, c->kn);
        for (int j = 0; j < c->kn; j++) {
            *continuing += ov(c, i, j);
            if (c->match.id && c->match.id[j] == c->prev->seg_id[i])
                *stayed += ov(c, i, j);
        }
    }
    for (int j = 0; j < c->kn; j++)
        *added += ov(c, c->ko, j);
}

static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    if (*at >= cap)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    *at += n > 0 ? (size_t)n : 0;
    return 1;
}

void tribe_changes_describe(const tribe_changes *c, const tribe_segments *segs, const tribe_transition *t, char *buf,
                            size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    if (t->from >= 0)
        put(buf, cap, &at, "#%lld %s ", (long long)c->prev->seg_id[t->from], c->prev->seg_names[t->from]);
    switch (t->type) {
    case TRIBE_TR_SURVIVED: put(buf, cap, &at, "survived as "); break;
    case TRIBE_TR_SPLIT: put(buf, cap, &at, "split into "); break;
    case TRIBE_TR_ABSORBED: put(buf, cap, &at, "was absorbed into "); break;
    case TRIBE_TR_DISAPPEARED: put(buf, cap, &at, "disappeared"); break;
    default: put(buf, cap, &at, "new segment "); break;
    }
    for (int k = 0; k < t->n_to; k++)
        put(buf, cap, &at, "%s#%d %s", k ? (k + 1 == t->n_to ? " and " : ", ") : "", segs->seg[t->to[k]].id,
            segs->seg[t->to[k]].name);
    if (t->type == TRIBE_TR_EMERGED) {
        put(buf, cap, &at, " emerged");
        int j = t->to[0];
        int64_t fresh = ov(c, c->ko, j), all = 0;
        for (int i = 0; i <= c->ko; i++)
            all += ov(c, i, j);
        if (all > 0)
            put(buf, cap, &at, " (%.0f%% of its customers new to the base)", 100.0 * (double)fresh / (double)all);
    } else if (t->type == TRIBE_TR_DISAPPEARED) {
        int64_t gone = ov(c, t->from, c->kn), all = gone;
        for (int j = 0; j < c->kn; j++)
            all += ov(c, t->from, j);
        if (all > 0)
            put(buf, cap, &at, " (%.0f%% of its customers left the base)", 100.0 * (double)gone / (double)all);
    } else if (!isnan(t->share)) {
        put(buf, cap, &at, " (%.0f%% of its continuing customers)", 100.0 * t->share);
    }
}

/* {"id": .., "name": ..} of an old (side 0) or new (side 1) segment. */
static tribe_status seg_ref(tribe_rec *parent, const char *key, const tribe_changes *c, const tribe_segments *segs,
                            int side, int i)
{
    tribe_rec *o = NULL;
    tribe_status st = tribe_rec_obj(parent, key, &o);
    if (st == TRIBE_OK)
        st = tribe_rec_int(o, "id", side ? segs->seg[i].id : c->prev->seg_id[i]);
    if (st == TRIBE_OK)
        st = tribe_rec_str(o, "name", side ? segs->seg[i].name : c->prev->seg_names[i]);
    return st;
}

static tribe_status transitions_json(const tribe_changes *c, const tribe_segments *segs, tribe_rec *root)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *arr = NULL, *o = NULL, *to = NULL;
    char text[512];
    TRIBE_TRY(tribe_rec_arr(root, "transitions", &arr));
    for (int t = 0; t < c->match.n; t++) {
        const tribe_transition *tr = &c->match.tr[t];
        TRIBE_TRY(tribe_rec_obj(arr, NULL, &o));
        TRIBE_TRY(tribe_rec_str(o, "type", tribe_transition_name(tr->type)));
        if (tr->from >= 0)
            TRIBE_TRY(seg_ref(o, "from", c, segs, 0, tr->from));
        else
            TRIBE_TRY(tribe_rec_str(o, "from", NULL));
        TRIBE_TRY(tribe_rec_arr(o, "to", &to));
        for (int k = 0; k < tr->n_to; k++)
            TRIBE_TRY(seg_ref(to, NULL, c, segs, 1, tr->to[k]));
        TRIBE_TRY(tribe_rec_num(o, "share", tr->share));
        tribe_changes_describe(c, segs, tr, text, sizeof text);
        TRIBE_TRY(tribe_rec_str(o, "text", text));
    }
cleanup:
    return st;
}

static tribe_status matrix_json(const tribe_changes *c, const tribe_segments *segs, tribe_rec *root)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *m = NULL, *from = NULL, *to = NULL, *cnt = NULL, *rev = NULL, *row = NULL;
    TRIBE_TRY(tribe_rec_obj(root, "migration", &m));
    TRIBE_TRY(tribe_rec_arr(m, "from", &from));
    TRIBE_TRY(tribe_rec_arr(m, "to", &to));
    for (int i = 0; i < c->ko; i++)
        TRIBE_TRY(seg_ref(from, NULL, c, segs, 0, i));
    TRIBE_TRY(tribe_rec_str(from, NULL, "new to the base"));
    for (int j = 0; j < c->kn; j++)
        TRIBE_TRY(seg_ref(to, NULL, c, segs, 1, j));
    TRIBE_TRY(tribe_rec_str(to, NULL, "gone from the base"));
    TRIBE_TRY(tribe_rec_arr(m, "customers", &cnt));
    TRIBE_TRY(tribe_rec_arr(m, "revenue", &rev));
    for (int i = 0; i <= c->ko; i++) {
        TRIBE_TRY(tribe_rec_ints(cnt, NULL, c->overlap + (size_t)i * (c->kn + 1), c->kn + 1));
        TRIBE_TRY(tribe_rec_arr(rev, NULL, &row));
        for (int j = 0; j <= c->kn; j++)
            TRIBE_TRY(tribe_rec_num(row, NULL, i == c->ko && j == c->kn ? 0 : c->revenue[(size_t)i * (c->kn + 1) + j]));
    }
cleanup:
    return st;
}

static tribe_status drift_json(const tribe_changes *c, const tribe_segments *segs, tribe_rec *root)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *psi = NULL, *seg = NULL, *o = NULL, *w = NULL;
    TRIBE_TRY(tribe_rec_obj(root, "psi", &psi));
    for (int j = 0; j < c->prev->m; j++)
        TRIBE_TRY(tribe_rec_num(psi, c->prev->names[j], c->psi ? c->psi[j] : NAN));
    TRIBE_TRY(tribe_rec_arr(root, "segments", &seg));
    for (int j = 0; j < c->kn; j++) {
        int h = c->match.heir[j];
        TRIBE_TRY(tribe_rec_obj(seg, NULL, &o));
        TRIBE_TRY(tribe_rec_int(o, "id", segs->seg[j].id));
        TRIBE_TRY(tribe_rec_str(o, "name", segs->seg[j].name));
        TRIBE_TRY(tribe_rec_int(o, "size", segs->seg[j].size));
        TRIBE_TRY(tribe_rec_int(o, "previous_size", h >= 0 ? c->prev->size[h] : 0));
        TRIBE_TRY(tribe_rec_num(o, "centre_shift", h >= 0 ? c->cdist[(size_t)h * c->kn + j] : NAN));
        TRIBE_TRY(tribe_rec_bool(o, "kept_identity", h >= 0));
    }
    TRIBE_TRY(tribe_rec_arr(root, "warnings", &w));
    for (int i = 0; i < c->n_warn; i++)
        TRIBE_TRY(tribe_rec_str(w, NULL, c->warn[i]));
cleanup:
    return st;
}

tribe_status tribe_changes_json(const tribe_changes *c, const tribe_segments *segs, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *root = NULL, *p = NULL;
    int64_t cont = 0, stayed = 0, added = 0, gone = 0;
    tribe_changes_counts(c, &cont, &stayed, &added, &gone);
    TRIBE_TRY(tribe_rec_create(&root));
    TRIBE_TRY(tribe_rec_obj(root, "previous", &p));
    TRIBE_TRY(tribe_rec_str(p, "run_id", c->prev->run_id));
    TRIBE_TRY(tribe_rec_str(p, "created", c->prev->created));
    TRIBE_TRY(tribe_rec_str(p, "path", c->prev->path));
    TRIBE_TRY(tribe_rec_int(p, "k", c->prev->k));
    TRIBE_TRY(tribe_rec_int(p, "customers", c->prev->n));
    TRIBE_TRY(tribe_rec_int(root, "continuing_customers", cont));
    TRIBE_TRY(tribe_rec_int(root, "stayed", stayed));
    TRIBE_TRY(tribe_rec_int(root, "moved", cont - stayed));
    TRIBE_TRY(tribe_rec_int(root, "new_customers", added));
    TRIBE_TRY(tribe_rec_int(root, "gone_customers", gone));
    TRIBE_TRY(transitions_json(c, segs, root));
    TRIBE_TRY(matrix_json(c, segs, root));
    TRIBE_TRY(drift_json(c, segs, root));
    TRIBE_TRY(tribe_rec_print(root, 0, out));
cleanup:
    tribe_rec_destroy(&root);
    return st;
}

tribe_status tribe_changes_csv(const char *path, const tribe_changes *c, const tribe_segments *segs)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(tribe_sbuf_add(&b, "from_segment_id,from_segment,to_segment_id,to_segment,customers,revenue,currency\n"));
    for (int i = 0; c->prev && i <= c->ko; i++)
        for (int j = 0; j <= c->kn; j++) {
            if (ov(c, i, j) == 0)
                continue;
            if (i < c->ko) {
                TRIBE_TRY(tribe_sbuf_printf(&b, "%lld,", (long long)c->prev->seg_id[i]));
                TRIBE_TRY(tribe_sbuf_csv_cell(&b, c->prev->seg_names[i]));
            } else {
                TRIBE_TRY(tribe_sbuf_add(&b, ",(new to the base)"));
            }
            if (j < c->kn) {
                TRIBE_TRY(tribe_sbuf_printf(&b, ",%d,", segs->seg[j].id));
                TRIBE_TRY(tribe_sbuf_csv_cell(&b, segs->seg[j].name));
            } else {
                TRIBE_TRY(tribe_sbuf_add(&b, ",,(gone from the base)"));
            }
            double rev = c->revenue[(size_t)i * (c->kn + 1) + j];
            TRIBE_TRY(tribe_sbuf_printf(&b, ",%lld,", (long long)ov(c, i, j)));
            if (!isnan(rev)) /* in the currency's minor digits: 2 for GBP, 0 for JPY */
                TRIBE_TRY(tribe_sbuf_printf(&b, "%.*f", segs->currency.decimals, rev));
            TRIBE_TRY(tribe_sbuf_printf(&b, ",%s\n", segs->currency.code));
        }
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}
