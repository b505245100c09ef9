/* The JSON documents of a snapshot (docs/api.md): rendered once at load for
 * everything that does not depend on the request, and the per-customer object
 * on the request path (no allocation beyond the response buffer and one small
 * SHAP workspace). */
#include "serve_internal.h"

#include "tribe/csv.h"
#include "tribe/h5.h"
#include "tribe/record.h"
#include "tribe/sbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Everything the renderers read besides the snapshot. */
typedef struct {
    tribe_h5 *h;
    cJSON *run;              /* run.json or NULL */
    cJSON *personas;         /* personas.json or NULL */
    cJSON **plan;            /* [k] campaign plan rows or NULLs */
    int ns;                  /* segment statistics: columns */
    char **snames;
    double *size, *share, *rev, *ltv_mean, *ocount;
    double *mean, *median, *q1, *q3;           /* [k][ns] */
    double *omean, *omedian, *oq1, *oq3;       /* [ns] */
    int nd;                  /* drivers columns */
    char **dnames;
    double *shap;            /* [k][nd] */
    int64_t *hist;           /* [k][d][BINS] */
    double *edges;           /* [d][BINS + 1] */
    double *kwdelta;         /* [ns][k*k] Cliff's delta of segment a against b (NaN in older runs) */
} render_src;

/* A number that reads back to the same double: cJSON prints 15 digits
 * whenever they read back within one ulp, so a median of results.h5 would
 * come out an ulp off; the shortest of 15..17 digits that round-trips. */
static cJSON *num(double v)
{
    char buf[32];
    if (!isfinite(v))
        return cJSON_CreateNull();
    for (int prec = 15; prec <= 17; prec++)
        if (snprintf(buf, sizeof buf, "%.*g", prec, v) > 0 && strtod(buf, NULL) == v)
            break;
    return cJSON_CreateRaw(buf);
}

static cJSON *id_str(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return cJSON_CreateString(buf);
}

/* The currency every money value of the documents is in. */
static cJSON *currency_obj(const tribe_snap *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", s->currency.code);
    cJSON_AddStringToObject(o, "symbol", s->currency.symbol);
    cJSON_AddNumberToObject(o, "decimals", s->currency.decimals);
    return o;
}

static cJSON *run_ref(const tribe_snap *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->run_id);
    cJSON_AddStringToObject(o, "created", s->created);
    cJSON_AddStringToObject(o, "currency", s->currency.code);
    return o;
}

/* A [k] or [k][cols] float64 dataset when present (NaN-filled when absent). */
static tribe_status read_f64(tribe_h5 *h, const char *name, int64_t rows, int64_t cols, double **out)
{
    tribe_status st = TRIBE_OK;
    int64_t r = 0, c = 0;
    double *v = NULL;
    if (tribe_h5_exists(h, name)) {
        TRIBE_TRY(tribe_h5_read_small(h, name, TRIBE_H5_F64, &r, &c, (void **)&v));
        if (r != rows || c != cols) {
            free(v);
            return tribe_fail(TRIBE_ERR_INPUT, "%s: %s is %lldx%lld, expected %lldx%lld", tribe_h5_path(h), name,
                              (long long)r, (long long)c, (long long)rows, (long long)cols);
        }
        *out = v;
        return TRIBE_OK;
    }
    TRIBE_TRY(tribe_alloc((void **)out, (size_t)(rows * cols + 1) * sizeof **out));
    for (int64_t i = 0; i < rows * cols; i++)
        (*out)[i] = NAN;
cleanup:
    return st;
}

static tribe_status read_i64_as_f64(tribe_h5 *h, const char *name, int64_t k, double **out)
{
    tribe_status st = TRIBE_OK;
    int64_t r = 0, c = 0, *v = NULL;
    TRIBE_TRY(tribe_alloc((void **)out, (size_t)(k + 1) * sizeof **out));
    for (int64_t i = 0; i < k; i++)
        (*out)[i] = NAN;
    if (!tribe_h5_exists(h, name))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_read_small(h, name, TRIBE_H5_I64, &r, &c, (void **)&v));
    for (int64_t i = 0; i < k && i < r; i++)
        (*out)[i] = (double)v[i];
cleanup:
    free(v);
    return st;
}

static tribe_status read_stats(const tribe_snap *s, render_src *r)
{
    tribe_status st = TRIBE_OK;
    int k = s->k;
    TRIBE_TRY(tribe_h5_read_attr_strs(r->h, "/segments/mean", "feature_names", &r->ns, &r->snames));
    TRIBE_TRY(read_i64_as_f64(r->h, "/segments/size", k, &r->size));
    TRIBE_TRY(read_f64(r->h, "/segments/share", k, 1, &r->share));
    TRIBE_TRY(read_f64(r->h, "/segments/revenue_share", k, 1, &r->rev));
    TRIBE_TRY(read_f64(r->h, "/segments/ltv_mean", k, 1, &r->ltv_mean));
    TRIBE_TRY(read_i64_as_f64(r->h, "/segments/outlier_count", k, &r->ocount));
    TRIBE_TRY(read_f64(r->h, "/segments/mean", k, r->ns, &r->mean));
    TRIBE_TRY(read_f64(r->h, "/segments/median", k, r->ns, &r->median));
    TRIBE_TRY(read_f64(r->h, "/segments/q1", k, r->ns, &r->q1));
    TRIBE_TRY(read_f64(r->h, "/segments/q3", k, r->ns, &r->q3));
    TRIBE_TRY(read_f64(r->h, "/segments/overall_mean", r->ns, 1, &r->omean));
    TRIBE_TRY(read_f64(r->h, "/segments/overall_median", r->ns, 1, &r->omedian));
    TRIBE_TRY(read_f64(r->h, "/segments/overall_q1", r->ns, 1, &r->oq1));
    TRIBE_TRY(read_f64(r->h, "/segments/overall_q3", r->ns, 1, &r->oq3));
    TRIBE_TRY(read_f64(r->h, "/segments/kw_delta", r->ns, (int64_t)k * k, &r->kwdelta));
    if (tribe_h5_exists(r->h, "/model/drivers/mean_abs_shap")) {
        TRIBE_TRY(tribe_h5_read_attr_strs(r->h, "/model/drivers/mean_abs_shap", "feature_names", &r->nd, &r->dnames));
        TRIBE_TRY(read_f64(r->h, "/model/drivers/mean_abs_shap", k, r->nd, &r->shap));
    }
cleanup:
    return st;
}

/* ---- histograms ---------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Edges of feature f: TRIBE_SERVE_BINS equal bins between the base's 0.5th
 * and 99.5th percentiles (of a sample of at most ~100k rows), on a log1p scale
 * when the values are non-negative and skewed (money, counts), so a long tail
 * does not squeeze the bulk into one bar. */
static tribe_status feature_edges(const tribe_snap *s, int f, float *buf, double *edges)
{
    int64_t step = s->n / 100000 + 1, m = 0;
    for (int64_t i = 0; i < s->n; i += step) {
        float v = s->x[(size_t)i * s->d + f];
        if (isfinite(v))
            buf[m++] = v;
    }
    for (int b = 0; b <= TRIBE_SERVE_BINS; b++)
        edges[b] = NAN;
    if (m == 0)
        return TRIBE_OK;
    qsort(buf, (size_t)m, sizeof *buf, cmp_float);
    double lo = buf[(int64_t)(0.005 * (double)(m - 1))], hi = buf[(int64_t)(0.995 * (double)(m - 1))];
    double med = buf[(m - 1) / 2];
    if (!(hi > lo)) {
        lo = buf[0];
        hi = buf[m - 1] > lo ? buf[m - 1] : lo + 1;
    }
    int logs = lo >= 0 && hi > 4 * med + 1; /* skewed: the tail reaches far past the median */
    double a = logs ? log1p(lo) : lo, z = logs ? log1p(hi) : hi;
    for (int b = 0; b <= TRIBE_SERVE_BINS; b++) {
        double t = a + (z - a) * b / TRIBE_SERVE_BINS;
        edges[b] = logs ? expm1(t) : t;
    }
    return TRIBE_OK;
}

static int bin_of(const double *e, double v)
{
    int lo = 0, hi = TRIBE_SERVE_BINS - 1; /* last bin with e[b] <= v; clamped to the ends */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (e[mid] <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static tribe_status histograms(const tribe_snap *s, render_src *r)
{
    tribe_status st = TRIBE_OK;
    float *buf = NULL;
    if (s->d == 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_calloc((void **)&r->hist, (size_t)s->k * s->d * TRIBE_SERVE_BINS, sizeof *r->hist));
    TRIBE_TRY(tribe_alloc((void **)&r->edges, (size_t)s->d * (TRIBE_SERVE_BINS + 1) * sizeof *r->edges));
    TRIBE_TRY(tribe_alloc((void **)&buf, (size_t)(s->n / (s->n / 100000 + 1) + 2) * sizeof *buf));
    for (int f = 0; f < s->d; f++)
        TRIBE_TRY(feature_edges(s, f, buf, r->edges + (size_t)f * (TRIBE_SERVE_BINS + 1)));
#pragma omp parallel for schedule(static) if (s->n > 100000)
    for (int f = 0; f < s->d; f++) {
        const double *e = r->edges + (size_t)f * (TRIBE_SERVE_BINS + 1);
        if (!isfinite(e[0]))
            continue;
        for (int64_t i = 0; i < s->n; i++) {
            float v = s->x[(size_t)i * s->d + f];
            if (isfinite(v))
                r->hist[((size_t)s->label[i] * s->d + f) * TRIBE_SERVE_BINS + bin_of(e, v)]++;
        }
    }
cleanup:
    free(buf);
    return st;
}

/* ---- inputs from the run directory ---------------------------------------- */

static const cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static tribe_status read_plan(const tribe_snap *s, render_src *r)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    char path[4096 + 32];
    int has = 0;
    TRIBE_TRY(tribe_calloc((void **)&r->plan, (size_t)s->k, sizeof *r->plan));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/campaign_plan.csv", s->dir));
    if (tribe_csv_open(path, NULL, &c) != TRIBE_OK) {
        tribe_clear_error();
        return TRIBE_OK;
    }
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        if (tribe_csv_error(c))
            continue;
        cJSON *row = cJSON_CreateObject();
        int seg = -1;
        for (int i = 0; i < tribe_csv_ncolumns(c); i++) {
            const char *name = tribe_csv_column_name(c, i), *v = tribe_csv_cell_text(tribe_csv_field(c, i, NULL));
            char *end = NULL;
            double x = strtod(v, &end);
            if (strcmp(name, "segment_id") == 0)
                seg = tribe_snap_segment(s, (int64_t)x);
            else if (*v && end && !*end)
                cJSON_AddItemToObject(row, name, num(x));
            else
                cJSON_AddStringToObject(row, name, v);
        }
        if (seg >= 0 && !r->plan[seg])
            r->plan[seg] = row;
        else
            cJSON_Delete(row);
    }
cleanup:
    tribe_csv_close(&c);
    return st;
}

static const cJSON *persona_of(const render_src *r, int64_t sid)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, r->personas)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "segment_id");
        if (cJSON_IsNumber(id) && (int64_t)id->valuedouble == sid)
            return p;
    }
    return NULL;
}

/* {"kind", "from": [ids]} of the transition that made segment sid, or null. */
static cJSON *transition_of(const render_src *r, int64_t sid)
{
    const cJSON *t, *to;
    const cJSON *trs = cJSON_GetObjectItemCaseSensitive(path_get(r->run, "continuity", "changes"), "transitions");
    cJSON_ArrayForEach(t, trs)
    {
        cJSON_ArrayForEach(to, cJSON_GetObjectItemCaseSensitive(t, "to"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(to, "id");
            if (!cJSON_IsNumber(id) || (int64_t)id->valuedouble != sid)
                continue;
            cJSON *o = cJSON_CreateObject(), *from = cJSON_AddArrayToObject(o, "from");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "from"), "id");
            cJSON_AddStringToObject(o, "kind", cJSON_IsString(type) ? type->valuestring : "");
            if (cJSON_IsNumber(f))
                cJSON_AddItemToArray(from, id_str((int64_t)f->valuedouble));
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(t, "text");
            cJSON_AddStringToObject(o, "text", cJSON_IsString(text) ? text->valuestring : "");
            return o;
        }
    }
    return cJSON_CreateNull();
}

/* ---- documents ------------------------------------------------------------ */

static int stat_col(const render_src *r, const char *name)
{
    for (int j = 0; j < r->ns; j++)
        if (strcmp(r->snames[j], name) == 0)
            return j;
    return -1;
}

/* One entry of GET /v1/segments. */
static cJSON *segment_entry(const tribe_snap *s, const render_src *r, int c)
{
    cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject(), *camp = cJSON_CreateObject();
    const cJSON *pj = persona_of(r, s->seg_id[c]);
    cJSON_AddItemToObject(o, "id", id_str(s->seg_id[c]));
    cJSON_AddStringToObject(o, "name", s->seg_name[c]);
    cJSON_AddItemToObject(o, "size", num(r->size[c]));
    cJSON_AddItemToObject(o, "share", num(r->share[c]));
    cJSON_AddItemToObject(o, "revenue_share", num(r->rev[c]));
    cJSON_AddItemToObject(o, "ltv_mean", num(r->ltv_mean[c]));
    cJSON_AddItemToObject(o, "outliers", num(r->ocount[c]));
    int mon = stat_col(r, "monetary");
    cJSON_AddItemToObject(o, "mean_monetary", num(mon >= 0 ? r->mean[(size_t)c * r->ns + mon] : NAN));
    cJSON_AddItemToObject(p, "name", pj ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pj, "name"), 1)
                                        : cJSON_CreateNull());
    cJSON_AddItemToObject(p, "tagline", pj ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pj, "tagline"), 1)
                                           : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "persona", p);
    if (r->plan[c]) {
        static const char *const F[][2] = {{"campaign", "name"}, {"channel", "channel"},
                                           {"expected_value", "expected_value"}, {"priority", "priority"}};
        for (size_t i = 0; i < sizeof F / sizeof *F; i++)
            cJSON_AddItemToObject(camp, F[i][1], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->plan[c], F[i][0]), 1));
        cJSON_AddItemToObject(o, "campaign", camp);
    } else {
        cJSON_Delete(camp);
        cJSON_AddNullToObject(o, "campaign");
    }
    cJSON_AddItemToObject(o, "transition", transition_of(r, s->seg_id[c]));
    return o;
}

static cJSON *quartiles(double mean, double median, double q1, double q3)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", num(mean));
    cJSON_AddItemToObject(o, "median", num(median));
    cJSON_AddItemToObject(o, "q1", num(q1));
    cJSON_AddItemToObject(o, "q3", num(q3));
    return o;
}

static cJSON *histogram(const tribe_snap *s, const render_src *r, int c, const char *feature)
{
    for (int f = 0; f < s->d && r->hist; f++) {
        const double *e = r->edges + (size_t)f * (TRIBE_SERVE_BINS + 1);
        if (strcmp(s->feat[f], feature) != 0 || !isfinite(e[0]))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "edges", cJSON_CreateDoubleArray(e, TRIBE_SERVE_BINS + 1));
        cJSON *cnt = cJSON_AddArrayToObject(o, "counts"), *base = cJSON_AddArrayToObject(o, "base_counts");
        for (int b = 0; b < TRIBE_SERVE_BINS; b++) {
            int64_t tot = 0;
            for (int g = 0; g < s->k; g++)
                tot += r->hist[((size_t)g * s->d + f) * TRIBE_SERVE_BINS + b];
            cJSON_AddItemToArray(cnt, cJSON_CreateNumber((double)r->hist[((size_t)c * s->d + f) * TRIBE_SERVE_BINS + b]));
            cJSON_AddItemToArray(base, cJSON_CreateNumber((double)tot));
        }
        return o;
    }
    return cJSON_CreateNull();
}

static cJSON *drivers_of(const render_src *r, int c)
{
    cJSON *a = cJSON_CreateArray();
    int used[TRIBE_MAX_FEATURES] = {0};
    for (int t = 0; t < r->nd && t < TRIBE_MAX_FEATURES; t++) { /* by mean |SHAP| descending */
        int best = -1;
        for (int j = 0; j < r->nd && j < TRIBE_MAX_FEATURES; j++)
            if (!used[j] && isfinite(r->shap[(size_t)c * r->nd + j]) &&
                (best < 0 || r->shap[(size_t)c * r->nd + j] > r->shap[(size_t)c * r->nd + best]))
                best = j;
        if (best < 0 || !(r->shap[(size_t)c * r->nd + best] > 0))
            break;
        used[best] = 1;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "feature", r->dnames[best]);
        cJSON_AddNumberToObject(o, "mean_abs_shap", r->shap[(size_t)c * r->nd + best]);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* Feature j's Cliff's delta of segment c against every other, keyed by
 * the other's persistent id (absent where unknown). */
static cJSON *deltas_of(const tribe_snap *s, const render_src *r, int c, int j)
{
    cJSON *o = cJSON_CreateObject();
    char key[32];
    for (int b = 0; r->kwdelta && b < s->k; b++) {
        double v = r->kwdelta[((size_t)j * s->k + c) * s->k + b];
        if (b == c || !isfinite(v))
            continue;
        snprintf(key, sizeof key, "%lld", (long long)s->seg_id[b]);
        cJSON_AddItemToObject(o, key, num(v));
    }
    return o;
}

/* GET /v1/segments/{id}. */
static cJSON *segment_doc(const tribe_snap *s, const render_src *r, int c)
{
    cJSON *o = cJSON_CreateObject(), *prof = cJSON_CreateArray();
    cJSON_AddItemToObject(o, "run", run_ref(s));
    cJSON_AddItemToObject(o, "segment", segment_entry(s, r, c));
    for (int j = 0; j < r->ns; j++) {
        size_t at = (size_t)c * r->ns + j;
        cJSON *f = quartiles(r->mean[at], r->median[at], r->q1[at], r->q3[at]);
        cJSON_AddItemToObject(f, "base", quartiles(r->omean[j], r->omedian[j], r->oq1[j], r->oq3[j]));
        cJSON_AddItemToObject(f, "histogram", histogram(s, r, c, r->snames[j]));
        cJSON_AddItemToObject(f, "feature", cJSON_CreateString(r->snames[j]));
        cJSON_AddItemToObject(f, "cliffs_delta", deltas_of(s, r, c, j));
        cJSON_AddItemToArray(prof, f);
    }
    cJSON_AddItemToObject(o, "profile", prof);
    cJSON_AddItemToObject(o, "drivers", drivers_of(r, c));
    const cJSON *pj = persona_of(r, s->seg_id[c]);
    cJSON *p = pj ? cJSON_Duplicate(pj, 1) : cJSON_CreateNull();
    if (pj)
        cJSON_AddNumberToObject(p, "version", 0);
    cJSON_AddItemToObject(o, "persona", p);
    cJSON_AddItemToObject(o, "plan", r->plan[c] ? cJSON_Duplicate(r->plan[c], 1) : cJSON_CreateNull());
    return o;
}

/* The PCA map: at most 3000 of the projection sample's points. */
static tribe_status projection(const tribe_snap *s, const render_src *r, cJSON *o)
{
    tribe_status st = TRIBE_OK;
    float *xy = NULL;
    int32_t *lab = NULL;
    int64_t n = 0, cols = 0, n2 = 0;
    cJSON *p = cJSON_AddObjectToObject(o, "projection"), *pts = NULL;
    const cJSON *proj = path_get(r->run, "projection", NULL);
    cJSON_AddItemToObject(p, "x_axis", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(proj, "x_axis"), 1));
    cJSON_AddItemToObject(p, "y_axis", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(proj, "y_axis"), 1));
    pts = cJSON_AddArrayToObject(p, "points");
    if (!tribe_h5_exists(r->h, "/model/projection/xy"))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_read_small(r->h, "/model/projection/xy", TRIBE_H5_F32, &n, &cols, (void **)&xy));
    TRIBE_TRY(tribe_h5_read_small(r->h, "/model/projection/label", TRIBE_H5_I32, &n2, &cols, (void **)&lab));
    int64_t step = n / 3000 + 1;
    for (int64_t i = 0; i < n && i < n2; i += step) {
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, num(xy[2 * i]));
        cJSON_AddItemToArray(pt, num(xy[2 * i + 1]));
        cJSON_AddItemToArray(pt, lab[i] >= 0 && lab[i] < s->k ? id_str(s->seg_id[lab[i]]) : cJSON_CreateNull());
        cJSON_AddItemToArray(pts, pt);
    }
cleanup:
    free(xy);
    free(lab);
    return st;
}

/* GET /v1/runs/current. */
static tribe_status current_doc(const tribe_snap *s, const render_src *r, cJSON *o)
{
    cJSON *run = run_ref(s), *kc = cJSON_AddObjectToObject(o, "k_choice"), *w = NULL;
    cJSON_AddNumberToObject(run, "customers", (double)s->n);
    cJSON_AddNumberToObject(run, "k", s->k);
    cJSON_AddItemToObject(o, "run", run);
    cJSON_AddItemToObject(o, "currency", currency_obj(s));
    const cJSON *sweep = path_get(r->run, "kmeans", "k_sweep");
    static const char *const KC[] = {"reason", "recommended_k", "elbow_k", "stability_ari", "columns", "rows"};
    for (size_t i = 0; i < sizeof KC / sizeof *KC; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sweep, KC[i]);
        cJSON_AddItemToObject(kc, KC[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    tribe_status st = projection(s, r, o);
    if (st != TRIBE_OK)
        return st;
    const cJSON *changes = path_get(r->run, "continuity", "changes");
    const cJSON *psi = cJSON_GetObjectItemCaseSensitive(changes, "psi"), *v;
    cJSON *drift = psi ? cJSON_AddArrayToObject(o, "drift") : cJSON_AddNullToObject(o, "drift");
    cJSON_ArrayForEach(v, psi)
    {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "feature", v->string);
        cJSON_AddItemToObject(d, "psi", cJSON_IsNumber(v) ? num(v->valuedouble) : cJSON_CreateNull());
        cJSON_AddItemToArray(drift, d);
    }
    cJSON_AddItemToObject(o, "changes", changes ? cJSON_Duplicate(changes, 1) : cJSON_CreateNull());
    w = cJSON_AddArrayToObject(o, "warnings");
    const cJSON *kw = path_get(r->run, "kmeans", "k_warning");
    if (cJSON_IsString(kw))
        cJSON_AddItemToArray(w, cJSON_CreateString(kw->valuestring));
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(changes, "warnings"))
        if (cJSON_IsString(v))
            cJSON_AddItemToArray(w, cJSON_CreateString(v->valuestring));
    return TRIBE_OK;
}

static tribe_status print(cJSON *o, char **out)
{
    tribe_status st = tribe_json_text(o, o != NULL, 0, "serve document", out);
    cJSON_Delete(o);
    return st;
}

static tribe_status render_all(tribe_snap *s, render_src *r)
{
    tribe_status st = TRIBE_OK;
    cJSON *list = cJSON_CreateObject(), *arr = NULL;
    cJSON_AddItemToObject(list, "run", run_ref(s));
    cJSON_AddNumberToObject(list, "k", s->k);
    cJSON_AddItemToObject(list, "currency", currency_obj(s));
    arr = cJSON_AddArrayToObject(list, "segments");
    for (int c = 0; c < s->k; c++)
        cJSON_AddItemToArray(arr, segment_entry(s, r, c));
    TRIBE_TRY(print(list, &s->segments_json));
    TRIBE_TRY(tribe_calloc((void **)&s->segment_json, (size_t)s->k, sizeof *s->segment_json));
    for (int c = 0; c < s->k; c++)
        TRIBE_TRY(print(segment_doc(s, r, c), &s->segment_json[c]));
    cJSON *cur = cJSON_CreateObject();
    st = current_doc(s, r, cur);
    if (st != TRIBE_OK) {
        cJSON_Delete(cur);
        goto cleanup;
    }
    TRIBE_TRY(print(cur, &s->current_json));
cleanup:
    return st;
}

static void src_free(render_src *r, int k)
{
    cJSON_Delete(r->run);
    cJSON_Delete(r->personas);
    for (int c = 0; r->plan && c < k; c++)
        cJSON_Delete(r->plan[c]);
    free(r->plan);
    tribe_free_strs(r->snames, r->ns);
    tribe_free_strs(r->dnames, r->nd);
    double *f[] = {r->size, r->share, r->rev, r->ltv_mean, r->ocount, r->mean, r->median, r->q1, r->q3,
                   r->omean, r->omedian, r->oq1, r->oq3, r->shap, r->edges, r->kwdelta};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        free(f[i]);
    free(r->hist);
}

tribe_status tribe_snap_render(tribe_snap *s, const char *run_json, const char *personas_json, const char *plan_csv,
                               void *h5)
{
    tribe_status st = TRIBE_OK;
    render_src r;
    (void)plan_csv;
    memset(&r, 0, sizeof r);
    r.h = h5;
    r.run = run_json ? cJSON_Parse(run_json) : NULL;
    r.personas = personas_json ? cJSON_Parse(personas_json) : NULL;
    const cJSON *spec = NULL;
    cJSON *job = s->job_spec ? cJSON_Parse(s->job_spec) : NULL;
    if ((spec = path_get(job, "ltv", "horizon_days")) && cJSON_IsNumber(spec) && s->ltv)
        s->ltv_horizon = spec->valuedouble;
    cJSON_Delete(job);
    TRIBE_TRY(read_stats(s, &r));
    TRIBE_TRY(read_plan(s, &r));
    TRIBE_TRY(histograms(s, &r));
    TRIBE_TRY(render_all(s, &r));
cleanup:
    src_free(&r, s->k);
    return st;
}

/* ---- the customer ------------------------------------------------------- */

const char *tribe_snap_money_fmt(const tribe_snap *s)
{
    return s->currency.decimals == 0 ? "%.0f" : s->currency.decimals == 3 ? "%.3f" : "%.2f";
}

tribe_status tribe_snap_num(tribe_sbuf *b, const char *fmt, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, fmt, v) : tribe_sbuf_add(b, "null");
}

static tribe_status add_drivers(const tribe_snap *s, int64_t row, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    const tribe_gbdt_model *m = s->drv_seg[s->label[row]]; /* the customer's own segment's trees */
    int d = m->n_features, idx[3];
    double val[3], phi[TRIBE_MAX_FEATURES + 1];
    float xr[TRIBE_MAX_FEATURES];
    for (int j = 0; j < d && j < TRIBE_MAX_FEATURES; j++)
        xr[j] = s->x[(size_t)row * s->d + s->drv_col[j]];
    TRIBE_TRY(tribe_gbdt_shap_row(s->drv_tab[s->label[row]], xr, phi)); /* = tribe_gbdt_shap, bit for bit */
    int top = tribe_gbdt_top_contrib(phi, d, 3, idx, val);
    TRIBE_TRY(tribe_sbuf_add(b, ",\"drivers\":["));
    for (int t = 0; t < top; t++) {
        TRIBE_TRY(tribe_sbuf_add(b, t ? ",{\"feature\":" : "{\"feature\":"));
        TRIBE_TRY(tribe_sbuf_json_str(b, s->feat[s->drv_col[idx[t]]]));
        TRIBE_TRY(tribe_sbuf_add(b, ",\"value\":")); /* a missing value (NaN) is null, not "nan" */
        TRIBE_TRY(tribe_snap_num(b, "%.9g", (double)xr[idx[t]]));
        TRIBE_TRY(tribe_sbuf_printf(b, ",\"shap\":%.6g}", val[t]));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

/* The memberships above 0.01, largest first (ties: lower position), at most 8. */
static tribe_status add_membership(const tribe_snap *s, int64_t row, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    const float *p = s->memb + (size_t)row * s->k;
    uint8_t used[TRIBE_SERVE_MAX_K];
    memset(used, 0, (size_t)s->k);
    TRIBE_TRY(tribe_sbuf_add(b, ",\"membership\":["));
    for (int shown = 0; shown < 8; shown++) {
        int best = -1;
        for (int c = 0; c < s->k; c++)
            if (!used[c] && p[c] > 0.01f && (best < 0 || p[c] > p[best]))
                best = c;
        if (best < 0)
            break;
        used[best] = 1;
        TRIBE_TRY(tribe_sbuf_printf(b, "%s{\"segment_id\":\"%lld\",\"p\":%.4g}", shown ? "," : "",
                                    (long long)s->seg_id[best], (double)p[best]));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

static tribe_status add_features(const tribe_snap *s, int64_t row, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, ",\"features\":{"));
    for (int f = 0; f < s->d; f++) {
        if (f)
            TRIBE_TRY(tribe_sbuf_add(b, ","));
        TRIBE_TRY(tribe_sbuf_json_str(b, s->feat[f]));
        TRIBE_TRY(tribe_sbuf_add(b, ":"));
        TRIBE_TRY(tribe_snap_num(b, "%.9g", s->x[(size_t)row * s->d + f]));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

const char *const TRIBE_CUSTOMER_FIELDS[TRIBE_CF_COUNT] = {"segment", "persona", "membership", "distance",
                                                            "outlier", "predicted_value", "churn_risk", "features",
                                                            "drivers", "run"};

int tribe_customer_field(const char *name, size_t len)
{
    for (int i = 0; i < TRIBE_CF_COUNT; i++)
        if (strlen(TRIBE_CUSTOMER_FIELDS[i]) == len && strncmp(TRIBE_CUSTOMER_FIELDS[i], name, len) == 0)
            return i;
    return -1;
}

static tribe_status add_persona(const tribe_snap *s, int c, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, ",\"persona\":"));
    if (!s->persona_name[c])
        return tribe_sbuf_add(b, "null");
    TRIBE_TRY(tribe_sbuf_add(b, "{\"name\":"));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->persona_name[c]));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

static tribe_status add_outlier(const tribe_snap *s, int64_t row, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    if (!s->outlier)
        return tribe_sbuf_add(b, ",\"outlier\":null");
    TRIBE_TRY(tribe_sbuf_printf(b, ",\"outlier\":{\"flag\":%s,\"score\":", s->outlier[row] ? "true" : "false"));
    TRIBE_TRY(tribe_snap_num(b, "%.4g", s->oscore ? s->oscore[row] : NAN));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

static tribe_status add_value(const tribe_snap *s, int64_t row, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    if (!s->ltv)
        return tribe_sbuf_add(b, ",\"predicted_value\":null");
    TRIBE_TRY(tribe_sbuf_add(b, ",\"predicted_value\":{\"amount\":"));
    TRIBE_TRY(tribe_snap_num(b, tribe_snap_money_fmt(s), s->ltv[row]));
    TRIBE_TRY(tribe_sbuf_add(b, ",\"currency\":"));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->currency.code));
    TRIBE_TRY(tribe_sbuf_add(b, ",\"horizon_days\":"));
    TRIBE_TRY(tribe_snap_num(b, "%.0f", s->ltv_horizon));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

/* prefix then "v": an id as a JSON string, as "%lld" writes it, without printf (a lean batch spent a
 * quarter of its time in printf's parsing of the format for the two ids of each customer) */
static tribe_status add_id(tribe_sbuf *b, const char *prefix, int64_t v)
{
    char buf[32], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--p = '\0';
    *--p = '"';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    *--p = '"';
    tribe_status st = tribe_sbuf_add(b, prefix);
    return st != TRIBE_OK ? st : tribe_sbuf_add(b, p);
}

tribe_status tribe_snap_add_customer_id(const tribe_snap *s, tribe_sbuf *b, const char *prefix, int64_t row)
{
    if (!s->id_text)
        return add_id(b, prefix, s->id[row]);
    tribe_status st = tribe_sbuf_add(b, prefix);
    return st != TRIBE_OK ? st : tribe_sbuf_json_str(b, s->id_text + (size_t)row * (size_t)s->id_width);
}

tribe_status tribe_snap_customer_json(const tribe_snap *s, int64_t row, unsigned fields, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    int c = s->label[row];
#define HAS(f) (fields & (1u << (f)))
    TRIBE_TRY(tribe_snap_add_customer_id(s, b, "{\"customer_id\":", row));
    if (HAS(TRIBE_CF_SEGMENT)) {
        TRIBE_TRY(add_id(b, ",\"segment\":{\"id\":", s->seg_id[c]));
        TRIBE_TRY(tribe_sbuf_add(b, ",\"name\":"));
        TRIBE_TRY(tribe_sbuf_json_str(b, s->seg_name[c]));
        TRIBE_TRY(tribe_sbuf_add(b, "}"));
    }
    if (HAS(TRIBE_CF_PERSONA))
        TRIBE_TRY(add_persona(s, c, b));
    if (HAS(TRIBE_CF_MEMBERSHIP))
        TRIBE_TRY(s->memb ? add_membership(s, row, b) : tribe_sbuf_add(b, ",\"membership\":null"));
    if (HAS(TRIBE_CF_DISTANCE)) {
        TRIBE_TRY(tribe_sbuf_add(b, ",\"distance\":"));
        TRIBE_TRY(tribe_snap_num(b, "%.6g", s->dist[row]));
    }
    if (HAS(TRIBE_CF_OUTLIER))
        TRIBE_TRY(add_outlier(s, row, b));
    if (HAS(TRIBE_CF_VALUE))
        TRIBE_TRY(add_value(s, row, b));
    if (HAS(TRIBE_CF_CHURN) && s->churn) {
        TRIBE_TRY(tribe_sbuf_add(b, ",\"churn_risk\":"));
        TRIBE_TRY(tribe_snap_num(b, "%.6g", s->churn[row]));
    } else if (HAS(TRIBE_CF_CHURN)) {
        TRIBE_TRY(tribe_sbuf_add(b, ",\"churn_risk\":null"));
    }
    if (HAS(TRIBE_CF_FEATURES))
        TRIBE_TRY(s->d ? add_features(s, row, b) : tribe_sbuf_add(b, ",\"features\":null"));
    if (HAS(TRIBE_CF_DRIVERS))
        TRIBE_TRY(s->drivers ? add_drivers(s, row, b) : tribe_sbuf_add(b, ",\"drivers\":null"));
    if (HAS(TRIBE_CF_RUN))
        TRIBE_TRY(tribe_snap_run_ref(s, b));
#undef HAS
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

tribe_status tribe_snap_run_ref(const tribe_snap *s, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, ",\"run\":{\"id\":"));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->run_id));
    TRIBE_TRY(tribe_sbuf_add(b, ",\"created\":"));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->created));
    TRIBE_TRY(tribe_sbuf_add(b, ",\"currency\":"));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->currency.code));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}
