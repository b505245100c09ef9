/* A run loaded for look-ups (serve_internal.h): per-customer arrays by row
 * (ids ascending, found by binary search), rows grouped by segment for
 * paging, the raw features and the driver model for per-customer drivers,
 * and the JSON documents that do not depend on the request, rendered once. */
#include "serve_internal.h"

#include "tribe/continuity.h"
#include "tribe/h5.h"
#include "tribe/table.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include "tribe/id.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a per-customer dataset of n rows and `cols` columns when present
 * (*out stays NULL when absent and optional). */
static tribe_status read_col(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n, int64_t cols, int optional,
                             void **out)
{
    tribe_status st = TRIBE_OK;
    int64_t rows = 0, width = 0;
    if (optional && !tribe_h5_exists(h, name))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_shape(h, name, &rows, &width));
    if (rows != n || width != cols)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: %s is %lldx%lld, expected %lldx%lld", tribe_h5_path(h), name,
                          (long long)rows, (long long)width, (long long)n, (long long)cols);
    TRIBE_TRY(tribe_h5_read_rows(h, name, type, n, 0, n, &width, out));
cleanup:
    return st;
}

/* Segment names, persistent ids and the labels (narrowed to int16). */
static tribe_status read_segments(tribe_h5 *h, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    int32_t *label = NULL;
    int64_t rows = 0, cols = 0;
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", &s->k, &s->seg_name));
    if (s->k < 1 || s->k > TRIBE_SERVE_MAX_K)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: %d segments (1..%d can be served)", s->results, s->k,
                          TRIBE_SERVE_MAX_K);
    if (tribe_h5_exists(h, "/segments/segment_id")) {
        TRIBE_TRY(tribe_h5_read_small(h, "/segments/segment_id", TRIBE_H5_I64, &rows, &cols, (void **)&s->seg_id));
        if (rows != s->k)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/segment_id has %lld rows for %d segments", s->results,
                              (long long)rows, s->k);
    } else {
        TRIBE_TRY(tribe_calloc((void **)&s->seg_id, (size_t)s->k, sizeof *s->seg_id));
        for (int c = 0; c < s->k; c++)
            s->seg_id[c] = c;
    }
    TRIBE_TRY(read_col(h, "/segments/label", TRIBE_H5_I32, s->n, 1, 0, (void **)&label));
    TRIBE_TRY(tribe_alloc((void **)&s->label, (size_t)s->n * sizeof *s->label + 1));
    for (int64_t i = 0; i < s->n; i++) {
        if (label[i] < 0 || label[i] >= s->k) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/label[%lld] = %d is outside 0..%d", s->results,
                            (long long)i, label[i], s->k - 1);
            goto cleanup;
        }
        s->label[i] = (int16_t)label[i];
    }
cleanup:
    free(label);
    return st;
}

/* Rows grouped by segment (a counting sort keeps ids ascending within). */
static tribe_status group_rows(tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    int64_t *next = NULL;
    if (s->n > (int64_t)UINT32_MAX)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: %lld customers; one server holds at most %u", s->results,
                          (long long)s->n, UINT32_MAX);
    TRIBE_TRY(tribe_calloc((void **)&s->seg_start, (size_t)s->k + 1, sizeof *s->seg_start));
    TRIBE_TRY(tribe_calloc((void **)&next, (size_t)s->k, sizeof *next));
    TRIBE_TRY(tribe_alloc((void **)&s->seg_rows, (size_t)s->n * sizeof *s->seg_rows + 1));
    for (int64_t i = 0; i < s->n; i++)
        s->seg_start[s->label[i] + 1]++;
    for (int c = 0; c < s->k; c++)
        s->seg_start[c + 1] += s->seg_start[c];
    for (int c = 0; c < s->k; c++)
        next[c] = s->seg_start[c];
    for (int64_t i = 0; i < s->n; i++)
        s->seg_rows[next[s->label[i]]++] = (uint32_t)i;
cleanup:
    free(next);
    return st;
}

/* Per-customer arrays of results.h5, checked: ids strictly ascending. */
static tribe_status read_customers(tribe_h5 *h, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    int64_t cols = 0;
    TRIBE_TRY(tribe_h5_shape(h, "/segments/id", &s->n, &cols));
    TRIBE_TRY(read_col(h, "/segments/id", TRIBE_H5_I64, s->n, 1, 0, (void **)&s->id));
    for (int64_t i = 1; i < s->n; i++)
        if (s->id[i] <= s->id[i - 1])
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/id is not strictly ascending at row %lld (%lld after %lld)",
                              s->results, (long long)i, (long long)s->id[i], (long long)s->id[i - 1]);
    if (tribe_h5_exists(h, "/segments/id_text")) { /* string ids (tribe/id.h) */
        TRIBE_TRY(tribe_h5_read_str_rows(h, "/segments/id_text", s->n, 0, s->n, &s->id_width, &s->id_text));
        TRIBE_TRY(tribe_store_check_id_text(s->results, "/segments/id_text", s->id_text, s->id_width, s->id, s->n, 0));
    }
    TRIBE_TRY(read_segments(h, s));
    TRIBE_TRY(read_col(h, "/segments/distance", TRIBE_H5_F32, s->n, 1, 0, (void **)&s->dist));
    TRIBE_TRY(read_col(h, "/segments/membership", TRIBE_H5_F32, s->n, s->k, 1, (void **)&s->memb));
    TRIBE_TRY(read_col(h, "/segments/outlier", TRIBE_H5_U8, s->n, 1, 1, (void **)&s->outlier));
    TRIBE_TRY(read_col(h, "/segments/outlier_score", TRIBE_H5_F32, s->n, 1, 1, (void **)&s->oscore));
    TRIBE_TRY(read_col(h, "/segments/ltv", TRIBE_H5_F32, s->n, 1, 1, (void **)&s->ltv));
    TRIBE_TRY(read_col(h, "/segments/churn_risk", TRIBE_H5_F32, s->n, 1, 1, (void **)&s->churn));
    TRIBE_TRY(group_rows(s));
cleanup:
    return st;
}

/* The drivers model split by output: drv_seg[c] holds segment c's trees in
 * their order, so its TreeSHAP row is the same bits as row c of the whole
 * model's, and a look-up walks 1/k of the trees (the whole model's other rows
 * were computed and dropped: 8x the work per customer at K = 8). */
static tribe_status split_drivers(tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    const tribe_gbdt_model *m = s->drivers;
    if (m->n_features > TRIBE_MAX_FEATURES)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: the drivers model has %d features (at most %d can be served)",
                          s->results, m->n_features, TRIBE_MAX_FEATURES);
    TRIBE_TRY(tribe_calloc((void **)&s->drv_seg, (size_t)s->k, sizeof *s->drv_seg));
    for (int c = 0; c < s->k; c++) {
        tribe_gbdt_model *g = NULL;
        TRIBE_TRY(tribe_calloc((void **)&s->drv_seg[c], 1, sizeof *g));
        g = s->drv_seg[c];
        g->objective = m->objective;
        g->tweedie_power = m->tweedie_power;
        g->n_features = m->n_features;
        g->n_groups = 1;
        g->best_round = m->best_round;
        TRIBE_TRY(tribe_calloc((void **)&g->base_score, 1, sizeof *g->base_score));
        g->base_score[0] = m->base_score[c];
        TRIBE_TRY(tribe_calloc((void **)&g->trees, (size_t)m->n_trees + 1, sizeof *g->trees));
        for (int t = 0; t < m->n_trees; t++) {
            const tribe_gbdt_tree *tr = &m->trees[t];
            tribe_gbdt_tree *to = &g->trees[g->n_trees];
            if (tr->group != c)
                continue;
            TRIBE_TRY(tribe_alloc((void **)&to->nodes, (size_t)tr->n_nodes * sizeof *to->nodes + 1));
            memcpy(to->nodes, tr->nodes, (size_t)tr->n_nodes * sizeof *to->nodes);
            to->n_nodes = tr->n_nodes;
            g->n_trees++;
        }
    }
    /* TreeSHAP tables: a look-up walks each tree once (tribe_gbdt_shap_row, bit-identical) */
    TRIBE_TRY(tribe_calloc((void **)&s->drv_tab, (size_t)s->k, sizeof *s->drv_tab));
    for (int c = 0; c < s->k; c++)
        TRIBE_TRY(tribe_gbdt_shap_table_build(s->drv_seg[c], &s->drv_tab[c]));
cleanup:
    return st;
}

/* The run's input customers.h5: raw features by row (when it still holds
 * exactly the run's customers) and the driver model's columns in it. A
 * missing or different input only costs the features and drivers (logged). */
static tribe_status read_features(tribe_par *par, tribe_h5 *h, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    char *input = NULL, *json = NULL, **names = NULL;
    uint8_t *bytes = NULL;
    tribe_table *t = NULL;
    int nn = 0;
    int64_t rows = 0, cols = 0;
    struct stat sb;
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "input", &input));
    if (!input || stat(input, &sb) != 0) {
        TRIBE_WARN("serve: %s: the run's input %s is gone: customers are served without features and drivers",
                   s->results, input ? input : "(not recorded)");
        tribe_clear_error();
        goto cleanup;
    }
    TRIBE_TRY(tribe_store_read_customers(par, input, &t, NULL));
    if (t->n_global != s->n || memcmp(t->id, s->id, (size_t)s->n * sizeof *s->id) != 0) {
        TRIBE_WARN("serve: %s now holds other customers than run %s: served without features and drivers", input,
                   s->run_id);
        goto cleanup;
    }
    s->d = t->d;
    s->feat = t->names;
    s->x = t->x;
    t->names = NULL;
    t->x = NULL;
    t->d = 0;
    if (!tribe_h5_exists(h, "/model/drivers/gbdt_json"))
        goto cleanup;
    TRIBE_TRY(tribe_h5_read_small(h, "/model/drivers/gbdt_json", TRIBE_H5_U8, &rows, &cols, (void **)&bytes));
    TRIBE_TRY(tribe_alloc((void **)&json, (size_t)rows + 1));
    memcpy(json, bytes, (size_t)rows);
    json[rows] = '\0';
    TRIBE_TRY(tribe_gbdt_from_json(json, &s->drivers));
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/model/drivers/mean_abs_shap", "feature_names", &nn, &names));
    if (nn != s->drivers->n_features || s->drivers->n_groups != s->k) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: the drivers model (%d features, %d outputs) does not match the run "
                        "(%d names, %d segments)", s->results, s->drivers->n_features, s->drivers->n_groups, nn, s->k);
        goto cleanup;
    }
    TRIBE_TRY(tribe_calloc((void **)&s->drv_col, (size_t)nn + 1, sizeof *s->drv_col));
    for (int j = 0; j < nn; j++) {
        s->drv_col[j] = -1;
        for (int f = 0; f < s->d; f++)
            if (strcmp(s->feat[f], names[j]) == 0)
                s->drv_col[j] = f;
        if (s->drv_col[j] < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: has no feature '%s', which the drivers model of %s uses", input,
                            names[j], s->results);
            goto cleanup;
        }
    }
    TRIBE_TRY(split_drivers(s));
cleanup:
    tribe_table_destroy(&t);
    tribe_free_strs(names, nn);
    free(input);
    free(json);
    free(bytes);
    return st;
}

/* A text file of the run directory, or NULL when it does not exist. */
static tribe_status read_side(const tribe_snap *s, const char *name, char **out)
{
    return tribe_read_file_opt(s->dir, name, out);
}

/* Persona names by segment from personas.json. */
static tribe_status persona_names(tribe_snap *s, const char *personas)
{
    tribe_status st = TRIBE_OK;
    cJSON *root = personas ? cJSON_Parse(personas) : NULL;
    const cJSON *p;
    TRIBE_TRY(tribe_calloc((void **)&s->persona_name, (size_t)s->k, sizeof *s->persona_name));
    cJSON_ArrayForEach(p, root)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "segment_id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        int c = cJSON_IsNumber(id) ? tribe_snap_segment(s, (int64_t)id->valuedouble) : -1;
        if (c >= 0 && cJSON_IsString(name) && !s->persona_name[c])
            TRIBE_TRY(tribe_strdup(name->valuestring, &s->persona_name[c]));
    }
cleanup:
    cJSON_Delete(root);
    return st;
}

/* Run id, creation time and the job spec of /runs/<run_id>. */
static tribe_status read_identity(tribe_h5 *h, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    char group[4096];
    TRIBE_TRY(tribe_h5_read_attr_str(h, "/", "run_id", &s->run_id));
    TRIBE_TRY(tribe_fmt(group, sizeof group, "/runs/%s", s->run_id));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, group, "created", &s->created));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, group, "job_spec", &s->job_spec));
    TRIBE_TRY(tribe_store_read_currency(h, &s->currency));
    if (!s->created || !s->job_spec)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: no run record %s with created and job_spec", s->results, group);
    uint64_t hsh = 1469598103934665603ull;
    for (const char *p = s->dir; *p; p++)
        hsh = (hsh ^ (uint8_t)*p) * 1099511628211ull;
    for (const char *p = s->created; *p; p++)
        hsh = (hsh ^ (uint8_t)*p) * 1099511628211ull;
    for (const char *p = s->run_id; *p; p++) /* and the file itself: a rewrite in place is another run */
        hsh = (hsh ^ (uint8_t)*p) * 1099511628211ull;
    struct stat sb;
    if (stat(s->results, &sb) == 0) {
        uint64_t f[3] = {(uint64_t)sb.st_ino, (uint64_t)sb.st_mtim.tv_sec, (uint64_t)sb.st_mtim.tv_nsec};
        for (int i = 0; i < 3; i++)
            hsh = (hsh ^ f[i]) * 1099511628211ull;
    }
    snprintf(s->gen, sizeof s->gen, "%016llx", (unsigned long long)hsh);
cleanup:
    return st;
}

static tribe_status load(tribe_par *par, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char *format = NULL, *run_json = NULL, *personas = NULL, *plan = NULL;
    TRIBE_TRY(tribe_h5_open(par, s->results, &h));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &format));
    if (!format || strcmp(format, "tribe-results") != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe results file (no tribe_format='tribe-results')", s->results);
        goto cleanup;
    }
    TRIBE_TRY(read_identity(h, s));
    TRIBE_TRY(read_customers(h, s));
    TRIBE_TRY(read_features(par, h, s));
    TRIBE_TRY(read_side(s, "run.json", &run_json));
    TRIBE_TRY(read_side(s, "personas.json", &personas));
    TRIBE_TRY(read_side(s, "campaign_plan.csv", &plan));
    TRIBE_TRY(persona_names(s, personas));
    TRIBE_TRY(tribe_snap_render(s, run_json, personas, plan, h));
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(format);
    free(run_json);
    free(personas);
    free(plan);
    return st;
}

tribe_status tribe_snap_resolve(const char *target, char **out)
{
    char p[4096 + 32], to[4096];
    struct stat sb;
    if (stat(target, &sb) != 0)
        return errno == ENOENT ? tribe_fail(TRIBE_ERR_IO, "'%s': no such file or directory", target)
                               : tribe_fail_errno(TRIBE_ERR_IO, "'%s'", target);
    if (S_ISDIR(sb.st_mode)) {
        tribe_status st = tribe_fmt(p, sizeof p, "%s/latest", target);
        int latest = st == TRIBE_OK && lstat(p, &sb) == 0;
        ssize_t len = latest ? readlink(p, to, sizeof to - 1) : -1;
        to[len > 0 ? len : 0] = '\0';
        if (st == TRIBE_OK)
            st = tribe_fmt(p, sizeof p, latest ? "%s/latest/results.h5" : "%s/results.h5", target);
        if (st != TRIBE_OK)
            return st;
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            return latest ? tribe_fail(TRIBE_ERR_INPUT, "'%s/latest' points at '%s', which holds no results.h5", target, to)
                          : tribe_fail(TRIBE_ERR_INPUT, "'%s': a directory without results.h5 or latest/results.h5 (name "
                                       "a results.h5, a run directory or an output directory of tribe run)", target);
        target = p;
    }
    return tribe_prev_resolve(target, out);
}

tribe_status tribe_snap_load(tribe_par *par, const char *target, tribe_snap **out)
{
    tribe_status st = TRIBE_OK;
    tribe_snap *s = NULL;
    char *copy = NULL;
    double t0 = tribe_now();
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    atomic_init(&s->refs, 1);
    s->ltv_horizon = NAN;
    TRIBE_TRY(tribe_snap_resolve(target, &s->results));
    TRIBE_TRY(tribe_strdup(s->results, &copy));
    TRIBE_TRY(tribe_strdup(dirname(copy), &s->dir));
    TRIBE_TRY(load(par, s));
    s->load_seconds = tribe_now() - t0;
    *out = s;
    s = NULL;
cleanup:
    free(copy);
    if (s) {
        atomic_store(&s->refs, 1);
        tribe_snap_release(s);
    }
    return st;
}

void tribe_snap_retain(tribe_snap *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void tribe_snap_release(tribe_snap *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    free(s->dir);
    free(s->results);
    free(s->run_id);
    free(s->created);
    free(s->id);
    free(s->id_text);
    free(s->label);
    free(s->dist);
    free(s->memb);
    free(s->outlier);
    free(s->oscore);
    free(s->ltv);
    free(s->churn);
    free(s->seg_id);
    tribe_free_strs(s->seg_name, s->k);
    tribe_free_strs(s->persona_name, s->persona_name ? s->k : 0);
    free(s->seg_start);
    free(s->seg_rows);
    tribe_free_strs(s->feat, s->d);
    free(s->x);
    for (int c = 0; s->drv_tab && c < s->k; c++)
        tribe_gbdt_shap_table_destroy(&s->drv_tab[c]);
    free(s->drv_tab);
    for (int c = 0; s->drv_seg && c < s->k; c++)
        tribe_gbdt_model_destroy(&s->drv_seg[c]);
    free(s->drv_seg);
    tribe_gbdt_model_destroy(&s->drivers);
    free(s->drv_col);
    free(s->segments_json);
    tribe_free_strs(s->segment_json, s->segment_json ? s->k : 0);
    free(s->current_json);
    free(s->runs_json);
    free(s->job_spec);
    free(s);
}

int64_t tribe_snap_find(const tribe_snap *s, int64_t id)
{
    /* Interpolation search (ids strictly increasing, checked at load): one or two probes on evenly
     * spread ids, where a bisection of 10M ids makes about ten cache misses, half a batch look-up's
     * time; a bisection step after any interpolation step that did not halve the range, so skewed ids
     * take at most about twice a bisection's probes. */
    int64_t lo = 0, hi = s->n; /* the first row with an id >= id is in [lo, hi] */
    int bisect = 0;
    while (lo < hi) {
        int64_t mid, width = hi - lo;
        if (bisect) {
            mid = lo + width / 2;
        } else {
            if (id <= s->id[lo]) {
                hi = lo;
                break;
            }
            if (id > s->id[hi - 1]) {
                lo = hi;
                break;
            }
            double a = (double)s->id[lo], z = (double)s->id[hi - 1];
            mid = lo + (int64_t)(((double)id - a) / (z - a) * (double)(width - 1));
            mid = mid < lo ? lo : mid >= hi ? hi - 1 : mid;
        }
        if (s->id[mid] == id)
            return mid;
        if (s->id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
        bisect = !bisect && 2 * (hi - lo) > width;
    }
    return lo < s->n && s->id[lo] == id ? lo : -1;
}

int tribe_snap_segment(const tribe_snap *s, int64_t sid)
{
    for (int c = 0; c < s->k; c++)
        if (s->seg_id[c] == sid)
            return c;
    return -1;
}

int tribe_serve_parse_id(const char *s, size_t len, int64_t *out)
{
    char buf[32], *end = NULL;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *digits = buf[0] == '-' ? buf + 1 : buf;
    if (*digits < '0' || *digits > '9') /* no sign but '-', no space, no hex */
        return -1;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end == buf)
        return -1;
    if (*end == '.' && end[1] == '0') { /* the float form: "17850.0", "17850.000" */
        for (end++; *end == '0'; end++)
            ;
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

int64_t tribe_snap_find_name(const tribe_snap *s, const char *name)
{
    int64_t id = 0, keys[2];
    if (!s->id_text)
        return tribe_serve_parse_id(name, strlen(name), &id) != 0 ? -2 : tribe_snap_find(s, id);
    int nk = tribe_id_lookup_keys(name, 1, keys);
    size_t n = strlen(name);
    for (int k = 0; k < nk; k++) {
        int64_t row = tribe_snap_find(s, keys[k]);
        /* the first key's row must hold the text itself (a hashed key may be
         * another text's); the second is the exact key of a number */
        const char *txt = row >= 0 ? s->id_text + (size_t)row * (size_t)s->id_width : NULL;
        if (row >= 0 && (k > 0 || (strlen(txt) == n && memcmp(txt, name, n) == 0)))
            return row;
    }
    return nk ? -1 : -2;
}
