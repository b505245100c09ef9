/* The job spec: strict JSON parsing against a table of known keys. */
#include "tribe/job.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { K_STR, K_PATH, K_INT, K_I64, K_U64, K_NUM, K_BOOL, K_STRS, K_OBJ, K_K, K_RULES } key_kind;

/* One row per key: its dotted path, kind, where it goes, and bounds. */
typedef struct {
    const char *key;
    key_kind kind;
    size_t off;         /* offsetof(tribe_job, field) */
    size_t count_off;   /* K_STRS: offset of the int count */
    double lo, hi;      /* numeric bounds (inclusive) */
} key_spec;

#define F(field) offsetof(tribe_job, field)
static const key_spec KEYS[] = {
    {"input", K_PATH, F(input), 0, 0, 0},
    {"output", K_PATH, F(output), 0, 0, 0},
    {"run_id", K_STR, F(run_id), 0, 0, 0},
    {"seed", K_U64, F(seed), 0, 0, 9007199254740991.0},
    {"features", K_OBJ, 0, 0, 0, 0},
    {"features.columns", K_STRS, F(features.columns), F(features.n_columns), 0, 0},
    {"features.log1p", K_STRS, F(features.log1p), F(features.n_log1p), 0, 0},
    {"features.standardize", K_BOOL, F(features.standardize), 0, 0, 0},
    {"kmeans", K_OBJ, 0, 0, 0, 0},
    {"kmeans.k", K_K, F(kmeans.k), 0, 1, 1000},
    {"kmeans.k_min", K_INT, F(kmeans.k_min), 0, 1, 1000},
    {"kmeans.k_max", K_INT, F(kmeans.k_max), 0, 1, 1000},
    {"kmeans.batch_size", K_I64, F(kmeans.batch_size), 0, 1, 1e9},
    {"kmeans.max_steps", K_INT, F(kmeans.max_steps), 0, 1, 1e7},
    {"kmeans.init_sample", K_I64, F(kmeans.init_sample), 0, 1, 1e9},
    {"kmeans.tol", K_NUM, F(kmeans.tol), 0, 0, 1e9},
    {"kmeans.init", K_STR, F(kmeans.init), 0, 0, 0},
    {"kmeans.algorithm", K_STR, F(kmeans.algorithm), 0, 0, 0},
    {"kmeans.n_init", K_INT, F(kmeans.n_init), 0, 1, 1000},
    {"kmeans.lloyd_passes", K_INT, F(kmeans.lloyd_passes), 0, 0, 1e6},
    {"kmeans.inertia_tol", K_NUM, F(kmeans.inertia_tol), 0, 0, 1},
    {"silhouette", K_OBJ, 0, 0, 0, 0},
    {"silhouette.sample_size", K_I64, F(silhouette.sample_size), 0, 0, 1e8},
    {"projection", K_OBJ, 0, 0, 0, 0},
    {"projection.sample_size", K_I64, F(projection.sample_size), 0, 0, 1e6},
    {"drivers", K_OBJ, 0, 0, 0, 0},
    {"drivers.enabled", K_BOOL, F(drivers.enabled), 0, 0, 0},
    {"drivers.n_rounds", K_INT, F(drivers.n_rounds), 0, 1, 10000},
    {"drivers.max_leaves", K_INT, F(drivers.max_leaves), 0, 2, 4096},
    {"drivers.learning_rate", K_NUM, F(drivers.learning_rate), 0, 1e-6, 1},
    {"drivers.sample_size", K_I64, F(drivers.sample_size), 0, 0, 1e12},
    {"drivers.train_rows", K_I64, F(drivers.train_rows), 0, 0, 1e12},
    {"ltv", K_OBJ, 0, 0, 0, 0},
    {"ltv.train", K_PATH, F(ltv.train), 0, 0, 0},
    {"ltv.train_target", K_PATH, F(ltv.train_target), 0, 0, 0},
    {"ltv.test", K_PATH, F(ltv.test), 0, 0, 0},
    {"ltv.test_target", K_PATH, F(ltv.test_target), 0, 0, 0},
    {"ltv.horizon_days", K_NUM, F(ltv.horizon_days), 0, 1, 36500},
    {"ltv.objective", K_STR, F(ltv.objective), 0, 0, 0},
    {"ltv.n_rounds", K_INT, F(ltv.n_rounds), 0, 1, 10000},
    {"ltv.learning_rate", K_NUM, F(ltv.learning_rate), 0, 1e-6, 1},
    {"ltv.max_leaves", K_INT, F(ltv.max_leaves), 0, 2, 4096},
    {"ltv.valid_fraction", K_NUM, F(ltv.valid_fraction), 0, 0, 0.9},
    {"ltv.early_stopping_rounds", K_INT, F(ltv.early_stopping_rounds), 0, 0, 10000},
    {"persona", K_OBJ, 0, 0, 0, 0},
    {"persona.provider", K_STR, F(persona.provider), 0, 0, 0},
    {"persona.base_url", K_STR, F(persona.base_url), 0, 0, 0},
    {"persona.model", K_STR, F(persona.model), 0, 0, 0},
    {"persona.temperature", K_NUM, F(persona.temperature), 0, 0, 2},
    {"persona.seed", K_U64, F(persona.seed), 0, 0, 9007199254740991.0},
    {"persona.timeout_s", K_NUM, F(persona.timeout_s), 0, 0.001, 3600},
    {"persona.deadline_s", K_NUM, F(persona.deadline_s), 0, 0.001, 86400},
    {"persona.backoff_s", K_NUM, F(persona.backoff_s), 0, 0, 600},
    {"persona.api_key_env", K_STR, F(persona.api_key_env), 0, 0, 0},
    {"persona.max_concurrency", K_INT, F(persona.max_concurrency), 0, 1, 256},
    {"persona.retries", K_INT, F(persona.retries), 0, 0, 20},
    {"persona.k_min", K_I64, F(persona.k_min), 0, 1, 1e12},
    {"persona.cache_dir", K_PATH, F(persona.cache_dir), 0, 0, 0},
    {"persona.prompt", K_PATH, F(persona.prompt), 0, 0, 0},
    {"persona.image_base_url", K_STR, F(persona.image_base_url), 0, 0, 0},
    {"persona.image_model", K_STR, F(persona.image_model), 0, 0, 0},
    {"persona.image_size", K_STR, F(persona.image_size), 0, 0, 0},
    {"campaign", K_OBJ, 0, 0, 0, 0},
    {"campaign.rules", K_RULES, F(campaign.rules), F(campaign.n_rules), 0, 0},
    {"outliers", K_OBJ, 0, 0, 0, 0},
    {"outliers.enabled", K_BOOL, F(outliers.enabled), 0, 0, 0},
    {"outliers.method", K_STR, F(outliers.method), 0, 0, 0},
    {"outliers.threshold", K_NUM, F(outliers.threshold), 0, 0, 1000},
    {"gmm", K_OBJ, 0, 0, 0, 0},
    {"gmm.enabled", K_BOOL, F(gmm.enabled), 0, 0, 0},
    {"gmm.max_iter", K_INT, F(gmm.max_iter), 0, 1, 10000},
    {"gmm.tol", K_NUM, F(gmm.tol), 0, 0, 1e9},
    {"gmm.reg_covar", K_NUM, F(gmm.reg_covar), 0, 0, 1e6},
    {"gmm.sample_size", K_I64, F(gmm.sample_size), 0, 0, 1e12},
    {"ward", K_OBJ, 0, 0, 0, 0},
    {"ward.enabled", K_BOOL, F(ward.enabled), 0, 0, 0},
};
#undef F
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static const key_spec *find_key(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, path) == 0)
            return &KEYS[i];
    return NULL;
}

static const char *kind_name(key_kind k)
{
    switch (k) {
    case K_STR:
    case K_PATH: return "a string";
    case K_INT:
    case K_I64:
    case K_U64:
    case K_K: return "an integer";
    case K_NUM: return "a number";
    case K_BOOL: return "true or false";
    case K_STRS: return "an array of strings";
    case K_OBJ: return "an object";
    case K_RULES: return "an array of rule objects";
    }
    return "?";
}

/* Lexically removes "." and "dir/.." segments from an absolute or relative
 * path, in place, so messages and records show the path a person would. */
static void normalize_path(char *p)
{
    int abs = p[0] == '/';
    char *seg[512];
    int n = 0, up = 0;
    for (char *tok = strtok(p, "/"); tok; tok = strtok(NULL, "/")) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0 && n > up) {
            n--;
            continue;
        }
        if (strcmp(tok, "..") == 0 && abs)
            continue;
        if (strcmp(tok, "..") == 0)
            up++;
        if (n < 512)
            seg[n++] = tok;
    }
    char buf[4096];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", (i || abs) ? "/" : "", seg[i]);
    if (n == 0)
        snprintf(buf, sizeof buf, "%s", abs ? "/" : ".");
    strcpy(p, buf); /* never longer than the input */
}

static tribe_status resolve_path(const char *spec_path, const char *value, char **out)
{
    if (value[0] == '/' || !spec_path)
        return tribe_strdup(value, out);
    char *copy = NULL;
    tribe_status st = tribe_strdup(spec_path, &copy);
    if (st != TRIBE_OK)
        return st;
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + strlen(value) + 2;
    st = tribe_alloc((void **)out, n);
    if (st == TRIBE_OK) {
        snprintf(*out, n, "%s/%s", dir, value);
        normalize_path(*out);
    }
    free(copy);
    return st;
}

static void free_rules(tribe_campaign_rule *r, int n)
{
    if (!r)
        return;
    for (int i = 0; i < n; i++) {
        free(r[i].segment_match);
        free(r[i].campaign);
        free(r[i].channel);
        free(r[i].tone);
        free(r[i].timing);
    }
    free(r);
}

/* "campaign.rules": an array of objects with the fields of
 * tribe_campaign_rule. Strict like the rest: an unknown field, a wrong type
 * or a rate outside [0, 1] is a USAGE error naming "campaign.rules[i].field". */
static tribe_status set_rules(tribe_job *job, const char *path, const cJSON *v)
{
    const char *file = job->path ? job->path : "job spec";
    static const char *const STR_FIELDS[] = {"segment_match", "campaign", "channel", "tone", "timing"};
    int n = cJSON_GetArraySize(v);
    free_rules(job->campaign.rules, job->campaign.n_rules); /* a key given twice: the last one wins */
    job->campaign.rules = NULL;
    job->campaign.n_rules = 0;
    tribe_status st = tribe_calloc((void **)&job->campaign.rules, (size_t)(n ? n : 1), sizeof *job->campaign.rules);
    if (st != TRIBE_OK)
        return st;
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, v)
    {
        tribe_campaign_rule *r = &job->campaign.rules[i];
        r->response_rate = NAN;
        job->campaign.n_rules = ++i;
        if (!cJSON_IsObject(e))
            return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s[%d]' must be an object", file, path, i - 1);
        const cJSON *f;
        cJSON_ArrayForEach(f, e)
        {
            char **dst = NULL;
            for (size_t k = 0; k < sizeof STR_FIELDS / sizeof *STR_FIELDS; k++)
                if (strcmp(f->string, STR_FIELDS[k]) == 0)
                    dst = k == 0 ? &r->segment_match : k == 1 ? &r->campaign : k == 2 ? &r->channel
                                                     : k == 3 ? &r->tone : &r->timing;
            if (dst) {
                if (!cJSON_IsString(f) || !f->valuestring[0])
                    return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s[%d].%s' must be a non-empty string", file, path,
                                      i - 1, f->string);
                free(*dst);
                *dst = NULL;
                if ((st = tribe_strdup(f->valuestring, dst)) != TRIBE_OK)
                    return st;
            } else if (strcmp(f->string, "response_rate") == 0) {
                if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0 && f->valuedouble <= 1))
                    return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s[%d].response_rate' must be a number in [0, 1]", file,
                                      path, i - 1);
                r->response_rate = f->valuedouble;
            } else {
                return tribe_fail(TRIBE_ERR_USAGE, "%s: unknown key '%s[%d].%s' (see docs/campaigns.md)", file, path,
                                  i - 1, f->string);
            }
        }
        if (!r->segment_match)
            return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s[%d].segment_match' is required", file, path, i - 1);
        if (r->channel && strcmp(r->channel, "email") && strcmp(r->channel, "sms") && strcmp(r->channel, "push") &&
            strcmp(r->channel, "auto"))
            return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s[%d].channel' = '%s' is not one of email, sms, push, auto", file,
                              path, i - 1, r->channel);
    }
    return TRIBE_OK;
}

static tribe_status set_value(tribe_job *job, const key_spec *ks, const char *path, const cJSON *v)
{
    char *base = (char *)job + ks->off;
    const char *file = job->path ? job->path : "job spec";
    switch (ks->kind) {
    case K_STR:
    case K_PATH: {
        if (!cJSON_IsString(v) || !v->valuestring[0])
            break;
        char **dst = (char **)base;
        free(*dst);
        *dst = NULL;
        return ks->kind == K_PATH ? resolve_path(job->path, v->valuestring, dst) : tribe_strdup(v->valuestring, dst);
    }
    case K_BOOL:
        if (!cJSON_IsBool(v))
            break;
        *(int *)base = cJSON_IsTrue(v);
        return TRIBE_OK;
    case K_INT:
    case K_I64:
    case K_U64:
    case K_K:
    case K_NUM: {
        if (!cJSON_IsNumber(v))
            break;
        double d = v->valuedouble;
        if (ks->kind != K_NUM && d != floor(d))
            break;
        if (!(d >= ks->lo && d <= ks->hi))
            return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s' = %g is outside [%g, %g]", file, path, d, ks->lo, ks->hi);
        if (ks->kind == K_INT || ks->kind == K_K)
            *(int *)base = (int)d;
        else if (ks->kind == K_I64)
            *(int64_t *)base = (int64_t)d;
        else if (ks->kind == K_U64)
            *(uint64_t *)base = (uint64_t)d;
        else
            *(double *)base = d;
        return TRIBE_OK;
    }
    case K_STRS: {
        if (!cJSON_IsArray(v))
            break;
        int n = cJSON_GetArraySize(v);
        char ***dst = (char ***)base;
        int *count = (int *)((char *)job + ks->count_off);
        tribe_free_strs(*dst, *count); /* a key given twice: the last one wins */
        *dst = NULL;
        tribe_status st = tribe_calloc((void **)dst, (size_t)(n ? n : 1), sizeof **dst);
        if (st != TRIBE_OK)
            return st;
        *count = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsString(e))
                return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s' must be %s; item %d is not a string", file, path,
                                  kind_name(ks->kind), *count);
            st = tribe_strdup(e->valuestring, &(*dst)[*count]);
            if (st != TRIBE_OK)
                return st;
            (*count)++;
        }
        return TRIBE_OK;
    }
    case K_RULES:
        if (!cJSON_IsArray(v))
            break;
        return set_rules(job, path, v);
    case K_OBJ:
        break;
    }
    return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s' must be %s", file, path, kind_name(ks->kind));
}

static tribe_status walk(tribe_job *job, const cJSON *obj, const char *prefix)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        const key_spec *ks = find_key(path);
        if (!ks)
            return tribe_fail(TRIBE_ERR_USAGE, "%s: unknown key '%s' (see docs/job-spec.md)",
                              job->path ? job->path : "job spec", path);
        tribe_status st;
        if (ks->kind == K_OBJ) {
            if (!cJSON_IsObject(item))
                return tribe_fail(TRIBE_ERR_USAGE, "%s: '%s' must be an object", job->path ? job->path : "job spec",
                                  path);
            st = walk(job, item, path);
        } else if (ks->kind == K_K && cJSON_IsArray(item)) {
            /* "k": [3, 8] is shorthand for k_min = 3, k_max = 8. */
            if (cJSON_GetArraySize(item) != 2)
                return tribe_fail(TRIBE_ERR_USAGE, "%s: 'kmeans.k' as a range must be [k_min, k_max]",
                                  job->path ? job->path : "job spec");
            st = set_value(job, find_key("kmeans.k_min"), path, cJSON_GetArrayItem(item, 0));
            if (st == TRIBE_OK)
                st = set_value(job, find_key("kmeans.k_max"), path, cJSON_GetArrayItem(item, 1));
        } else {
            st = set_value(job, ks, path, item);
        }
        if (st != TRIBE_OK)
            return st;
    }
    return TRIBE_OK;
}

static void set_defaults(tribe_job *job)
{
    job->seed = 42;
    job->features.n_log1p = -1;
    job->features.standardize = 1;
    job->kmeans.batch_size = 2048;
    job->kmeans.max_steps = 200;
    job->kmeans.init_sample = 20000;
    job->kmeans.tol = 1e-4;
    job->kmeans.n_init = 1;
    job->kmeans.lloyd_passes = 3;
    job->kmeans.inertia_tol = 1e-4;
    job->silhouette.sample_size = 2000;
    job->projection.sample_size = 3000;
    job->drivers.enabled = 1;
    job->drivers.n_rounds = 30;
    job->drivers.max_leaves = 15;
    job->drivers.learning_rate = 0.2;
    job->drivers.sample_size = 10000;
    job->drivers.train_rows = 1000000;
    job->ltv.n_rounds = 200;
    job->ltv.learning_rate = 0.05;
    job->ltv.max_leaves = 15;
    job->ltv.valid_fraction = 0.2;
    job->ltv.early_stopping_rounds = 20;
    job->persona.temperature = 0.7;
    job->persona.timeout_s = 60;
    job->persona.deadline_s = 300;
    job->persona.backoff_s = 1;
    job->persona.max_concurrency = 4;
    job->persona.retries = 2;
    job->persona.k_min = 50;
    job->outliers.enabled = 1;
    job->outliers.threshold = 3;
    job->gmm.enabled = 1;
    job->gmm.max_iter = 100;
    job->gmm.tol = 1e-3;
    job->gmm.reg_covar = 1e-6;
    job->gmm.sample_size = 100000;
    job->ward.enabled = 1;
}

tribe_status tribe_job_parse(const char *path, const char *text, tribe_job **out)
{
    tribe_status st = TRIBE_OK;
    tribe_job *job = NULL;
    cJSON *root = NULL;
    const char *file = path ? path : "job spec";
    TRIBE_TRY(tribe_calloc((void **)&job, 1, sizeof *job));
    set_defaults(job);
    if (path)
        TRIBE_TRY(tribe_strdup(path, &job->path));
    TRIBE_TRY(tribe_strdup(text, &job->spec_json));
    root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = text; at && p < at && *p; p++)
            line += *p == '\n';
        st = tribe_fail(TRIBE_ERR_USAGE, "%s:%d: not valid JSON", file, line);
        goto cleanup;
    }
    if (!cJSON_IsObject(root)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: the job spec must be a JSON object", file);
        goto cleanup;
    }
    TRIBE_TRY(walk(job, root, ""));
    if (!job->input) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'input' (the customers.h5 file) is required", file);
        goto cleanup;
    }
    if (!job->output) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'output' (the results directory) is required", file);
        goto cleanup;
    }
    if (job->kmeans.k && (job->kmeans.k_min || job->kmeans.k_max)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: give either 'kmeans.k' or 'kmeans.k_min'/'kmeans.k_max', not both", file);
        goto cleanup;
    }
    if (!job->kmeans.k) {
        if (!job->kmeans.k_min && !job->kmeans.k_max) {
            job->kmeans.k_min = 3;
            job->kmeans.k_max = 8;
        }
        if (!job->kmeans.k_min || !job->kmeans.k_max || job->kmeans.k_min > job->kmeans.k_max ||
            job->kmeans.k_min < 2) {
            st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'kmeans.k_min' and 'kmeans.k_max' need 2 <= k_min <= k_max", file);
            goto cleanup;
        }
    }
    if (job->kmeans.init && strcmp(job->kmeans.init, "kmeans++") && strcmp(job->kmeans.init, "kmeans||") &&
        strcmp(job->kmeans.init, "kmeans++-lloyd")) {
        st = tribe_fail(TRIBE_ERR_USAGE,
                        "%s: 'kmeans.init' = '%s' is not one of 'kmeans++', 'kmeans||', 'kmeans++-lloyd'", file,
                        job->kmeans.init);
        goto cleanup;
    }
    if (job->kmeans.algorithm && strcmp(job->kmeans.algorithm, "minibatch") && strcmp(job->kmeans.algorithm, "lloyd")) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'kmeans.algorithm' = '%s' is not one of 'minibatch', 'lloyd'", file,
                        job->kmeans.algorithm);
        goto cleanup;
    }
    if (job->ltv.train || job->ltv.test || job->ltv.train_target || job->ltv.test_target ||
        job->ltv.horizon_days > 0 || job->ltv.objective) {
        if (!job->ltv.train || !job->ltv.test || !(job->ltv.horizon_days > 0)) {
            st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'ltv' needs 'ltv.train', 'ltv.test' and 'ltv.horizon_days'", file);
            goto cleanup;
        }
        if (!job->ltv.objective)
            TRIBE_TRY(tribe_strdup("tweedie", &job->ltv.objective));
        if (strcmp(job->ltv.objective, "tweedie") && strcmp(job->ltv.objective, "poisson") &&
            strcmp(job->ltv.objective, "squared")) {
            st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'ltv.objective' = '%s' is not one of 'tweedie', 'poisson', 'squared'",
                            file, job->ltv.objective);
            goto cleanup;
        }
        if (job->ltv.early_stopping_rounds > 0 && !(job->ltv.valid_fraction > 0)) {
            st = tribe_fail(TRIBE_ERR_USAGE,
                            "%s: 'ltv.early_stopping_rounds' = %d needs held-out rows, but 'ltv.valid_fraction' = 0 "
                            "(set 'ltv.early_stopping_rounds' to 0 to train on every row)",
                            file, job->ltv.early_stopping_rounds);
            goto cleanup;
        }
        /* `tribe ingest --cutoff` writes the target beside its output as
         * <name without .h5>.target.h5. */
        for (int w = 0; w < 2; w++) {
            const char *src = w ? job->ltv.test : job->ltv.train;
            char **dst = w ? &job->ltv.test_target : &job->ltv.train_target;
            if (*dst)
                continue;
            size_t len = strlen(src);
            if (len > 3 && strcmp(src + len - 3, ".h5") == 0)
                len -= 3;
            TRIBE_TRY(tribe_alloc((void **)dst, len + 11));
            memcpy(*dst, src, len);
            memcpy(*dst + len, ".target.h5", 11);
        }
    }
    if (!job->persona.provider)
        TRIBE_TRY(tribe_strdup("offline", &job->persona.provider));
    if (strcmp(job->persona.provider, "offline") != 0 && strcmp(job->persona.provider, "openai") != 0) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.provider' = '%s' is not available ('offline' or 'openai')",
                        file, job->persona.provider);
        goto cleanup;
    }
    if (strcmp(job->persona.provider, "openai") == 0 && (!job->persona.base_url || !job->persona.model)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.provider' = 'openai' needs 'persona.base_url' and 'persona.model'",
                        file);
        goto cleanup;
    }
    if (job->persona.base_url && strncmp(job->persona.base_url, "http://", 7) != 0 &&
        strncmp(job->persona.base_url, "https://", 8) != 0) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.base_url' must start with http:// or https://", file);
        goto cleanup;
    }
    if (job->persona.image_base_url && strncmp(job->persona.image_base_url, "http://", 7) != 0 &&
        strncmp(job->persona.image_base_url, "https://", 8) != 0) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.image_base_url' must start with http:// or https://", file);
        goto cleanup;
    }
    if (job->persona.image_base_url && !job->persona.image_model) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.image_base_url' needs 'persona.image_model'", file);
        goto cleanup;
    }
    if (job->persona.image_base_url && !job->persona.image_size)
        TRIBE_TRY(tribe_strdup("1024x1024", &job->persona.image_size));
    /* Unless given, the server's seed is the job's, so one seed pins the run. */
    if (!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "persona"), "seed"))
        job->persona.seed = job->seed;
    if (!job->persona.prompt)
        TRIBE_TRY(resolve_path(job->path, "prompts/persona-v1.txt", &job->persona.prompt));
    if (!job->outliers.method)
        TRIBE_TRY(tribe_strdup("iqr", &job->outliers.method));
    if (strcmp(job->outliers.method, "iqr") != 0) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'outliers.method' = '%s' is not available ('iqr')", file,
                        job->outliers.method);
        goto cleanup;
    }
    if (!job->run_id) {
        char id[64];
        time_t now = time(NULL);
        struct tm tmv;
        strftime(id, sizeof id, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tmv));
        char full[96];
        snprintf(full, sizeof full, "%s-s%llu", id, (unsigned long long)job->seed);
        TRIBE_TRY(tribe_strdup(full, &job->run_id));
    }
    for (const char *p = job->run_id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.')) {
            st = tribe_fail(TRIBE_ERR_USAGE, "%s: 'run_id' may hold only letters, digits, '-', '_' and '.'", file);
            goto cleanup;
        }
    *out = job;
    job = NULL;
cleanup:
    cJSON_Delete(root);
    tribe_job_destroy(&job);
    return st;
}

tribe_status tribe_job_load(const char *path, tribe_job **out)
{
    char *text = NULL;
    tribe_status st = tribe_read_file(path, &text, NULL);
    if (st == TRIBE_OK)
        st = tribe_job_parse(path, text, out);
    free(text);
    return st;
}


void tribe_job_destroy(tribe_job **jp)
{
    if (!jp || !*jp)
        return;
    tribe_job *j = *jp;
    free(j->path);
    free(j->input);
    free(j->output);
    free(j->run_id);
    tribe_free_strs(j->features.columns, j->features.n_columns);
    tribe_free_strs(j->features.log1p, j->features.n_log1p);
    free(j->ltv.train);
    free(j->ltv.train_target);
    free(j->ltv.test);
    free(j->ltv.test_target);
    free(j->ltv.objective);
    free(j->kmeans.init);
    free(j->kmeans.algorithm);
    free(j->persona.provider);
    free(j->persona.base_url);
    free(j->persona.model);
    free(j->persona.api_key_env);
    free(j->persona.cache_dir);
    free(j->persona.prompt);
    free(j->persona.image_base_url);
    free(j->persona.image_model);
    free(j->persona.image_size);
    free_rules(j->campaign.rules, j->campaign.n_rules);
    free(j->outliers.method);
    free(j->spec_json);
    free(j);
    *jp = NULL;
}
