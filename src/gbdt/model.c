/* Prediction and the model JSON (tribe/gbdt.h, docs/gbdt.md). */
#include "gbdt_internal.h"
#include "tribe/record.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void tribe_gbdt_predict_raw(const tribe_gbdt_model *m, const float *x, int64_t n, double *out)
{
    enum { BLOCK = 64 }; /* rows per block: each tree's nodes stay in cache for the block */
    int d = m->n_features, ng = m->n_groups;
    int64_t nb = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) if (n * (m->n_trees + 1) >= 16384)
    for (int64_t blk = 0; blk < nb; blk++) {
        int64_t lo = blk * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        for (int64_t i = lo; i < hi; i++)
            for (int k = 0; k < ng; k++)
                out[i * ng + k] = m->base_score[k];
        /* trees in model order for every row: the same sums as row by row */
        for (int t = 0; t < m->n_trees; t++) {
            const tribe_gbdt_tree *tr = &m->trees[t];
            for (int64_t i = lo; i < hi; i++)
                out[i * ng + tr->group] += tr->nodes[gbdt_leaf_of_x(tr, x + i * d)].value;
        }
    }
}

void tribe_gbdt_predict(const tribe_gbdt_model *m, const float *x, int64_t n, double *out)
{
    int ng = m->n_groups;
    tribe_gbdt_predict_raw(m, x, n, out);
#pragma omp parallel for schedule(static) if (n >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double *o = out + i * ng;
        switch (m->objective) {
        case TRIBE_GBDT_SQUARED:
            break;
        case TRIBE_GBDT_POISSON:
        case TRIBE_GBDT_TWEEDIE:
            o[0] = exp(o[0]);
            break;
        case TRIBE_GBDT_LOGISTIC:
            o[0] = 1.0 / (1.0 + exp(-o[0]));
            break;
        case TRIBE_GBDT_SOFTMAX: {
            double mx = o[0], z = 0;
            for (int k = 1; k < ng; k++)
                mx = o[k] > mx ? o[k] : mx;
            for (int k = 0; k < ng; k++)
                z += (o[k] = exp(o[k] - mx));
            for (int k = 0; k < ng; k++)
                o[k] /= z;
            break;
        }
        }
    }
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *const OBJ_NAMES[] = {"squared", "poisson", "tweedie", "logistic", "softmax"};

#define JCHECK(p)                                                         \
    do {                                                                  \
        if (!(p)) {                                                       \
            st = tribe_fail(TRIBE_ERR_NOMEM, "gbdt: out of memory building the model JSON"); \
            goto cleanup;                                                 \
        }                                                                 \
    } while (0)

/* cJSON prints a double with 15 digits whenever that reads back within one
 * ulp, which is not bit-exact; models must round-trip exactly, so real
 * numbers are written as the shortest of %.15g/%.16g/%.17g that strtod reads
 * back to the same bits. Infinities become +-1e999 (strtod, cJSON and
 * Python read them back as infinities). */
static cJSON_bool add_real(cJSON *obj, const char *key, double v)
{
    char buf[40];
    if (isnan(v))
        snprintf(buf, sizeof buf, "null");
    else if (isinf(v))
        snprintf(buf, sizeof buf, v > 0 ? "1e999" : "-1e999");
    else
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    if (obj && key)
        return cJSON_AddRawToObject(obj, key, buf) != NULL;
    return cJSON_AddItemToArray(obj, cJSON_CreateRaw(buf));
}

tribe_status tribe_gbdt_to_json(const tribe_gbdt_model *m, char **out)
{
    tribe_status st = TRIBE_OK;
    cJSON *root = cJSON_CreateObject(), *arr, *trees, *tj, *nodes, *nj;
    *out = NULL;
    JCHECK(root);
    JCHECK(cJSON_AddStringToObject(root, "format", "tribe-gbdt"));
    JCHECK(cJSON_AddNumberToObject(root, "version", TRIBE_GBDT_FORMAT_VERSION));
    JCHECK(cJSON_AddStringToObject(root, "objective", OBJ_NAMES[m->objective]));
    JCHECK(add_real(root, "tweedie_power", m->tweedie_power));
    JCHECK(cJSON_AddNumberToObject(root, "n_features", m->n_features));
    JCHECK(cJSON_AddNumberToObject(root, "n_groups", m->n_groups));
    JCHECK(cJSON_AddNumberToObject(root, "best_round", m->best_round));
    JCHECK(arr = cJSON_AddArrayToObject(root, "base_score"));
    for (int k = 0; k < m->n_groups; k++) {
        JCHECK(add_real(arr, NULL, m->base_score[k]));
    }
    JCHECK(trees = cJSON_AddArrayToObject(root, "trees"));
    for (int t = 0; t < m->n_trees; t++) {
        const tribe_gbdt_tree *tr = &m->trees[t];
        JCHECK(tj = cJSON_CreateObject());
        cJSON_AddItemToArray(trees, tj);
        JCHECK(cJSON_AddNumberToObject(tj, "group", tr->group));
        JCHECK(nodes = cJSON_AddArrayToObject(tj, "nodes"));
        for (int k = 0; k < tr->n_nodes; k++) {
            const tribe_gbdt_node *nd = &tr->nodes[k];
            JCHECK(nj = cJSON_CreateObject());
            cJSON_AddItemToArray(nodes, nj);
            if (nd->feature < 0) {
                JCHECK(add_real(nj, "leaf", nd->value));
            } else {
                JCHECK(cJSON_AddNumberToObject(nj, "feature", nd->feature));
                JCHECK(add_real(nj, "threshold", (double)nd->threshold));
                JCHECK(cJSON_AddNumberToObject(nj, "bin", nd->bin));
                JCHECK(cJSON_AddBoolToObject(nj, "default_left", nd->default_left));
                JCHECK(cJSON_AddNumberToObject(nj, "left", nd->left));
                JCHECK(cJSON_AddNumberToObject(nj, "right", nd->right));
                JCHECK(add_real(nj, "gain", nd->gain));
            }
            JCHECK(add_real(nj, "cover", nd->cover));
        }
    }
    st = tribe_json_text(root, 1, 0, "gbdt: the model JSON", out);
cleanup:
    cJSON_Delete(root);
    return st;
}

tribe_status tribe_gbdt_save(const tribe_gbdt_model *m, const char *path)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    TRIBE_TRY(tribe_gbdt_to_json(m, &text));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
cleanup:
    free(text);
    return st;
}

/* Number field `key` of obj into *v; INPUT naming the field when absent. */
static tribe_status num_field(const cJSON *obj, const char *key, const char *where, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(it))
        return tribe_fail(TRIBE_ERR_INPUT, "gbdt model: %s: field '%s' is missing or not a number", where, key);
    *v = it->valuedouble;
    return TRIBE_OK;
}

static tribe_status int_field(const cJSON *obj, const char *key, const char *where, int lo, int hi, int *v)
{
    double x = 0;
    tribe_status st = num_field(obj, key, where, &x);
    if (st != TRIBE_OK)
        return st;
    if (x != floor(x) || x < lo || x > hi)
        return tribe_fail(TRIBE_ERR_INPUT, "gbdt model: %s: field '%s' = %g is not an integer in %d..%d", where, key, x, lo, hi);
    *v = (int)x;
    return TRIBE_OK;
}

tribe_status tribe_gbdt_from_json(const char *text, tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_model *m = NULL;
    cJSON *root = cJSON_Parse(text);
    char where[64];
    *out = NULL;
    if (!root)
        return tribe_fail(TRIBE_ERR_INPUT, "gbdt model: not valid JSON (near '%.20s')",
                          cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "tribe-gbdt") != 0)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: field 'format' is not \"tribe-gbdt\""));
    double ver = 0;
    TRIBE_TRY(num_field(root, "version", "top level", &ver));
    if (ver != TRIBE_GBDT_FORMAT_VERSION)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: format version %g, but this build reads version %d",
                             ver, TRIBE_GBDT_FORMAT_VERSION));
    TRIBE_TRY(tribe_calloc((void **)&m, 1, sizeof *m));
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "objective");
    int o = -1;
    for (int k = 0; cJSON_IsString(obj) && k < 5; k++)
        if (strcmp(obj->valuestring, OBJ_NAMES[k]) == 0)
            o = k;
    if (o < 0)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: field 'objective' is missing or unknown"));
    m->objective = (tribe_gbdt_objective)o;
    TRIBE_TRY(num_field(root, "tweedie_power", "top level", &m->tweedie_power));
    if (m->objective == TRIBE_GBDT_TWEEDIE && !(m->tweedie_power > 1 && m->tweedie_power < 2))
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: field 'tweedie_power' = %g is outside (1, 2)", m->tweedie_power));
    TRIBE_TRY(int_field(root, "n_features", "top level", 1, 1 << 24, &m->n_features));
    TRIBE_TRY(int_field(root, "n_groups", "top level", 1, 65536, &m->n_groups));
    if ((m->objective == TRIBE_GBDT_SOFTMAX) != (m->n_groups > 1))
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: n_groups = %d does not fit objective '%s'", m->n_groups, OBJ_NAMES[o]));
    TRIBE_TRY(int_field(root, "best_round", "top level", -1, 1 << 30, &m->best_round));
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(root, "base_score");
    if (!cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != m->n_groups)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: field 'base_score' is not an array of n_groups = %d numbers", m->n_groups));
    TRIBE_TRY(tribe_calloc((void **)&m->base_score, (size_t)m->n_groups, sizeof *m->base_score));
    for (int k = 0; k < m->n_groups; k++) {
        const cJSON *v = cJSON_GetArrayItem(bs, k);
        if (!cJSON_IsNumber(v))
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: base_score[%d] is not a number", k));
        m->base_score[k] = v->valuedouble;
    }
    const cJSON *trees = cJSON_GetObjectItemCaseSensitive(root, "trees");
    if (!cJSON_IsArray(trees))
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: field 'trees' is missing or not an array"));
    int nt = cJSON_GetArraySize(trees);
    TRIBE_TRY(tribe_calloc((void **)&m->trees, (size_t)nt + 1, sizeof *m->trees));
    for (int t = 0; t < nt; t++) {
        const cJSON *tj = cJSON_GetArrayItem(trees, t);
        tribe_gbdt_tree *tr = &m->trees[t];
        m->n_trees = t + 1;
        snprintf(where, sizeof where, "trees[%d]", t);
        TRIBE_TRY(int_field(tj, "group", where, 0, m->n_groups - 1, &tr->group));
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(tj, "nodes");
        int nn = cJSON_IsArray(nodes) ? cJSON_GetArraySize(nodes) : 0;
        if (nn < 1)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: %s: field 'nodes' is missing or empty", where));
        TRIBE_TRY(tribe_calloc((void **)&tr->nodes, (size_t)nn, sizeof *tr->nodes));
        tr->n_nodes = nn;
        for (int k = 0; k < nn; k++) {
            const cJSON *nj = cJSON_GetArrayItem(nodes, k);
            tribe_gbdt_node *nd = &tr->nodes[k];
            snprintf(where, sizeof where, "trees[%d].nodes[%d]", t, k);
            TRIBE_TRY(num_field(nj, "cover", where, &nd->cover));
            if (cJSON_GetObjectItemCaseSensitive(nj, "leaf")) {
                nd->feature = nd->left = nd->right = -1;
                TRIBE_TRY(num_field(nj, "leaf", where, &nd->value));
                continue;
            }
            int b, dl;
            double thr = 0;
            TRIBE_TRY(int_field(nj, "feature", where, 0, m->n_features - 1, &nd->feature));
            TRIBE_TRY(num_field(nj, "threshold", where, &thr));
            TRIBE_TRY(int_field(nj, "bin", where, 1, TRIBE_GBDT_MAX_BINS, &b));
            /* children after their parent: no cycles, every walk ends */
            TRIBE_TRY(int_field(nj, "left", where, k + 1, nn - 1, &nd->left));
            TRIBE_TRY(int_field(nj, "right", where, k + 1, nn - 1, &nd->right));
            TRIBE_TRY(num_field(nj, "gain", where, &nd->gain));
            const cJSON *dj = cJSON_GetObjectItemCaseSensitive(nj, "default_left");
            if (!cJSON_IsBool(dj))
                TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "gbdt model: %s: field 'default_left' is missing or not a boolean", where));
            dl = cJSON_IsTrue(dj);
            nd->threshold = (float)thr;
            nd->bin = (uint8_t)b;
            nd->default_left = (uint8_t)dl;
        }
    }
    *out = m;
    m = NULL;
cleanup:
    cJSON_Delete(root);
    tribe_gbdt_model_destroy(&m);
    return st;
}

tribe_status tribe_gbdt_load(const char *path, tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    TRIBE_TRY(tribe_read_file(path, &text, &len));
    st = tribe_gbdt_from_json(text, out);
    if (st != TRIBE_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tribe_errmsg());
        st = tribe_fail(st, "%s: %s", path, msg);
    }
cleanup:
    free(text);
    return st;
}
