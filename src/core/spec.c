/* Reading the job spec object by object (tribe/spec.h). The root keeps the
 * parsed cJSON tree, every handle it gave out and the set of nodes read;
 * tribe_spec_finish walks the tree and reports the first member of an
 * opened object that no reader asked for. */
#include "tribe/spec.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct spec_root spec_root;

struct tribe_spec {
    const cJSON *obj; /* NULL: an absent (empty) object */
    char path[256];   /* dotted key path ("" for the root) */
    spec_root *root;
};

struct spec_root {
    char *file;
    cJSON *tree;
    tribe_spec **handles; /* every handle, the root's own first */
    int n_handles, cap_handles;
    const cJSON **read;   /* nodes some reader asked for (objects opened included) */
    int n_read, cap_read;
    cJSON *settings;      /* {"dotted.key": effective value, ...} in reading order */
};

static const char *file_of(const tribe_spec *s)
{
    return s->root->file ? s->root->file : "job spec";
}

const char *tribe_spec_file(const tribe_spec *s)
{
    return s->root->file;
}

const char *tribe_spec_key(const tribe_spec *s, const char *key, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", s->path, s->path[0] && key[0] != '[' ? "." : "", key);
    return buf;
}

tribe_status tribe_spec_fail(const tribe_spec *s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tribe_fail(TRIBE_ERR_USAGE, "%s: %s", file_of(s), msg);
}

static tribe_status mark(spec_root *r, const cJSON *v)
{
    if (r->n_read == r->cap_read) {
        int cap = r->cap_read ? 2 * r->cap_read : 64;
        tribe_status st = tribe_realloc((void **)&r->read, (size_t)cap * sizeof *r->read);
        if (st != TRIBE_OK)
            return st;
        r->cap_read = cap;
    }
    r->read[r->n_read++] = v;
    return TRIBE_OK;
}

static int was_read(const spec_root *r, const cJSON *v)
{
    for (int i = 0; i < r->n_read; i++)
        if (r->read[i] == v)
            return 1;
    return 0;
}

/* The member `key` of s (the last one when given twice; every copy counts
 * as read), or NULL. Errors: NOMEM. */
static tribe_status lookup(tribe_spec *s, const char *key, const cJSON **out)
{
    *out = NULL;
    if (!s->obj)
        return TRIBE_OK;
    for (const cJSON *v = s->obj->child; v; v = v->next)
        if (v->string && strcmp(v->string, key) == 0) {
            tribe_status st = mark(s->root, v);
            if (st != TRIBE_OK)
                return st;
            *out = v;
        }
    return TRIBE_OK;
}

static const cJSON *peek(const tribe_spec *s, const char *key)
{
    const cJSON *found = NULL;
    for (const cJSON *v = s->obj ? s->obj->child : NULL; v; v = v->next)
        if (v->string && strcmp(v->string, key) == 0)
            found = v;
    return found;
}

int tribe_spec_has(const tribe_spec *s, const char *key)
{
    return peek(s, key) != NULL;
}

int tribe_spec_is_array(const tribe_spec *s, const char *key)
{
    return cJSON_IsArray(peek(s, key));
}

static tribe_status new_handle(spec_root *r, const cJSON *obj, const char *path, tribe_spec **out)
{
    tribe_spec *h = NULL;
    tribe_status st = tribe_calloc((void **)&h, 1, sizeof *h);
    if (st == TRIBE_OK && r->n_handles == r->cap_handles) {
        int cap = r->cap_handles ? 2 * r->cap_handles : 16;
        st = tribe_realloc((void **)&r->handles, (size_t)cap * sizeof *r->handles);
        if (st == TRIBE_OK)
            r->cap_handles = cap;
    }
    if (st != TRIBE_OK) {
        free(h);
        return st;
    }
    h->obj = obj;
    h->root = r;
    snprintf(h->path, sizeof h->path, "%s", path);
    r->handles[r->n_handles++] = h;
    *out = h;
    return TRIBE_OK;
}

tribe_status tribe_spec_parse(const char *file, const char *text, tribe_spec **out)
{
    tribe_status st = TRIBE_OK;
    spec_root *r = NULL;
    tribe_spec *root = NULL;
    const char *name = file ? file : "job spec";
    TRIBE_TRY(tribe_calloc((void **)&r, 1, sizeof *r));
    if (file)
        TRIBE_TRY(tribe_strdup(file, &r->file));
    r->tree = cJSON_Parse(text);
    if (!r->tree) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = text; at && p < at && *p; p++)
            line += *p == '\n';
        st = tribe_fail(TRIBE_ERR_USAGE, "%s:%d: not valid JSON", name, line);
        goto cleanup;
    }
    if (!cJSON_IsObject(r->tree)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: the job spec must be a JSON object", name);
        goto cleanup;
    }
    r->settings = cJSON_CreateObject();
    if (!r->settings) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "job spec: out of memory");
        goto cleanup;
    }
    TRIBE_TRY(new_handle(r, r->tree, "", &root));
    *out = root;
    r = NULL;
cleanup:
    if (r) {
        cJSON_Delete(r->tree);
        cJSON_Delete(r->settings);
        free(r->file);
        free(r);
    }
    return st;
}

void tribe_spec_destroy(tribe_spec **sp)
{
    if (!sp || !*sp)
        return;
    spec_root *r = (*sp)->root;
    for (int i = 0; i < r->n_handles; i++)
        free(r->handles[i]);
    free(r->handles);
    free(r->read);
    cJSON_Delete(r->tree);
    cJSON_Delete(r->settings);
    free(r->file);
    free(r);
    *sp = NULL;
}

static tribe_status wrong(const tribe_spec *s, const char *key, const char *what)
{
    char k[320];
    return tribe_spec_fail(s, "'%s' must be %s", tribe_spec_key(s, key, k, sizeof k), what);
}

/* Records the effective value of key (item: a new cJSON node, taken). */
static tribe_status note(tribe_spec *s, const char *key, cJSON *item)
{
    char k[320];
    spec_root *r = s->root;
    tribe_spec_key(s, key, k, sizeof k);
    if (!item)
        return tribe_fail(TRIBE_ERR_NOMEM, "job spec: out of memory");
    if (cJSON_GetObjectItemCaseSensitive(r->settings, k))
        cJSON_ReplaceItemInObjectCaseSensitive(r->settings, k, item);
    else if (!cJSON_AddItemToObject(r->settings, k, item)) {
        cJSON_Delete(item);
        return tribe_fail(TRIBE_ERR_NOMEM, "job spec: out of memory");
    }
    return TRIBE_OK;
}

static cJSON *num_item(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *strs_item(char *const *v, int n)
{
    return v && n > 0 ? cJSON_CreateStringArray((const char *const *)v, n) : cJSON_CreateArray();
}

static cJSON *str_item(const char *v)
{
    return v ? cJSON_CreateString(v) : cJSON_CreateNull();
}

tribe_status tribe_spec_note_num(tribe_spec *s, const char *key, double v)
{
    return note(s, key, num_item(v));
}

tribe_status tribe_spec_note_str(tribe_spec *s, const char *key, const char *v)
{
    return note(s, key, str_item(v));
}

tribe_status tribe_spec_settings(const tribe_spec *root, tribe_rec *obj, const char *key)
{
    cJSON *copy = cJSON_Duplicate(root->root->settings, 1);
    if (!copy)
        return tribe_fail(TRIBE_ERR_NOMEM, "job spec: out of memory");
    tribe_rec *dst = NULL;
    tribe_status st = tribe_rec_obj(obj, key, &dst);
    if (st != TRIBE_OK) {
        cJSON_Delete(copy);
        return st;
    }
    /* Move copy's members into the new (empty) record object. */
    cJSON *d = (cJSON *)dst;
    d->child = copy->child;
    copy->child = NULL;
    cJSON_Delete(copy);
    return TRIBE_OK;
}

tribe_status tribe_spec_object(tribe_spec *s, const char *key, tribe_spec **out)
{
    const cJSON *v = NULL;
    char k[320];
    tribe_status st = lookup(s, key, &v);
    if (st != TRIBE_OK)
        return st;
    if (v && !cJSON_IsObject(v))
        return wrong(s, key, "an object");
    return new_handle(s->root, v, tribe_spec_key(s, key, k, sizeof k), out);
}

/* The number under key within [lo, hi] (whole when `whole`), or dflt when the
 * key is absent, into *d, recorded in the settings. */
static tribe_status number(tribe_spec *s, const char *key, double lo, double hi, int whole, double dflt, double *d)
{
    const cJSON *v = NULL;
    char k[320];
    tribe_status st = lookup(s, key, &v);
    *d = dflt;
    if (st != TRIBE_OK || !v)
        return st == TRIBE_OK ? tribe_spec_note_num(s, key, dflt) : st;
    if (!cJSON_IsNumber(v) || (whole && v->valuedouble != floor(v->valuedouble)))
        return wrong(s, key, whole ? "an integer" : "a number");
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return tribe_spec_fail(s, "'%s' = %g is outside [%g, %g]", tribe_spec_key(s, key, k, sizeof k),
                               v->valuedouble, lo, hi);
    *d = v->valuedouble;
    return tribe_spec_note_num(s, key, *d);
}

/* Defaults and bounds of the integer readers are well inside 2^53: exact as doubles. */
tribe_status tribe_spec_int(tribe_spec *s, const char *key, double lo, double hi, int *v)
{
    double d = 0;
    tribe_status st = number(s, key, lo, hi, 1, *v, &d);
    *v = st == TRIBE_OK ? (int)d : *v;
    return st;
}

tribe_status tribe_spec_i64(tribe_spec *s, const char *key, double lo, double hi, int64_t *v)
{
    double d = 0;
    tribe_status st = number(s, key, lo, hi, 1, (double)*v, &d);
    *v = st == TRIBE_OK ? (int64_t)d : *v;
    return st;
}

tribe_status tribe_spec_u64(tribe_spec *s, const char *key, double lo, double hi, uint64_t *v)
{
    double d = 0;
    tribe_status st = number(s, key, lo, hi, 1, (double)*v, &d);
    *v = st == TRIBE_OK ? (uint64_t)d : *v;
    return st;
}

tribe_status tribe_spec_num(tribe_spec *s, const char *key, double lo, double hi, double *v)
{
    return number(s, key, lo, hi, 0, *v, v);
}

tribe_status tribe_spec_bool(tribe_spec *s, const char *key, int *v)
{
    const cJSON *j = NULL;
    tribe_status st = lookup(s, key, &j);
    if (st != TRIBE_OK)
        return st;
    if (j && !cJSON_IsBool(j))
        return wrong(s, key, "true or false");
    if (j)
        *v = cJSON_IsTrue(j);
    return note(s, key, cJSON_CreateBool(*v));
}

/* The string of key, or NULL when absent. */
static tribe_status string(tribe_spec *s, const char *key, const char **out)
{
    const cJSON *v = NULL;
    tribe_status st = lookup(s, key, &v);
    *out = NULL;
    if (st != TRIBE_OK || !v)
        return st;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return wrong(s, key, "a string");
    *out = v->valuestring;
    return TRIBE_OK;
}

tribe_status tribe_spec_str(tribe_spec *s, const char *key, char **v)
{
    const char *str = NULL;
    tribe_status st = string(s, key, &str);
    if (st == TRIBE_OK && str) {
        free(*v);
        *v = NULL;
        st = tribe_strdup(str, v);
    }
    return st == TRIBE_OK ? tribe_spec_note_str(s, key, *v) : st;
}

/* The longest path (bytes) and the most segments a path of a job may have:
 * longer ones are refused when the spec is read (exit 2), never cut. */
#define SPEC_PATH_MAX 4095
#define SPEC_PATH_SEGMENTS 512

/* Lexically removes "." and "dir/.." segments from an absolute or relative
 * path, in place, so messages and records show the path a person would.
 * -1 (p unchanged) when it has more than SPEC_PATH_SEGMENTS segments. */
static int normalize_path(char *p)
{
    int abs = p[0] == '/', segs = 0;
    for (const char *c = p; *c; c++)
        segs += *c != '/' && (c == p || c[-1] == '/');
    if (segs > SPEC_PATH_SEGMENTS)
        return -1;
    char *seg[SPEC_PATH_SEGMENTS];
    int n = 0, up = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
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
        seg[n++] = tok;
    }
    char buf[SPEC_PATH_MAX + 1];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", (i || abs) ? "/" : "", seg[i]);
    if (len >= sizeof buf)
        return -1; /* would be cut */
    if (n == 0)
        snprintf(buf, sizeof buf, "%s", abs ? "/" : ".");
    strcpy(p, buf); /* never longer than the input */
    return 0;
}

tribe_status tribe_spec_resolve(const tribe_spec *s, const char *value, char **out)
{
    const char *file = s->root->file;
    size_t vlen = strlen(value), segs = 0;
    for (const char *c = value; *c; c++)
        segs += *c != '/' && (c == value || c[-1] == '/');
    if (vlen > SPEC_PATH_MAX || segs > SPEC_PATH_SEGMENTS)
        return tribe_spec_fail(s, "the path '%.60s...' has %zu bytes and %zu segments (at most %d and %d)", value,
                               vlen, segs, SPEC_PATH_MAX, SPEC_PATH_SEGMENTS);
    if (value[0] == '/' || !file)
        return tribe_strdup(value, out);
    char *copy = NULL;
    tribe_status st = tribe_strdup(file, &copy);
    if (st != TRIBE_OK)
        return st;
    /* Absolute: the run record keeps these paths, and readers of a finished
     * run (tribe serve, a rerun from elsewhere) work in other directories. */
    const char *dir = dirname(copy);
    char cwd[4096] = "";
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    size_t n = strlen(cwd) + strlen(dir) + strlen(value) + 3;
    st = tribe_alloc((void **)out, n);
    if (st == TRIBE_OK) {
        snprintf(*out, n, "%s%s%s/%s", cwd, cwd[0] ? "/" : "", dir, value);
        if (normalize_path(*out) != 0 || strlen(*out) > SPEC_PATH_MAX) {
            st = tribe_spec_fail(s, "the path '%.60s...' resolves to more than %d bytes or %d segments", value,
                                 SPEC_PATH_MAX, SPEC_PATH_SEGMENTS);
            free(*out);
            *out = NULL;
        }
    }
    free(copy);
    return st;
}

tribe_status tribe_spec_path(tribe_spec *s, const char *key, char **v)
{
    const char *str = NULL;
    tribe_status st = string(s, key, &str);
    if (st == TRIBE_OK && str) {
        free(*v);
        *v = NULL;
        st = tribe_spec_resolve(s, str, v);
    }
    return st == TRIBE_OK ? tribe_spec_note_str(s, key, *v) : st;
}

tribe_status tribe_spec_choice(tribe_spec *s, const char *key, const char *const *names, int n, int *v)
{
    const char *str = NULL;
    char k[320], list[512];
    tribe_status st = string(s, key, &str);
    if (st != TRIBE_OK || !str)
        return st == TRIBE_OK ? tribe_spec_note_str(s, key, *v >= 0 && *v < n ? names[*v] : NULL) : st;
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(str, names[i]) == 0) {
            *v = i;
            return tribe_spec_note_str(s, key, names[i]);
        }
        len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s'%s'", i ? ", " : "",
                                names[i]);
    }
    return tribe_spec_fail(s, "'%s' = '%s' is not one of %s", tribe_spec_key(s, key, k, sizeof k), str, list);
}

tribe_status tribe_spec_strs(tribe_spec *s, const char *key, char ***v, int *n)
{
    const cJSON *a = NULL, *e;
    char k[320];
    tribe_status st = lookup(s, key, &a);
    if (st != TRIBE_OK || !a)
        return st == TRIBE_OK ? note(s, key, strs_item(*v, *n)) : st;
    if (!cJSON_IsArray(a))
        return wrong(s, key, "an array of strings");
    int count = cJSON_GetArraySize(a), i = 0;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsString(e))
            return tribe_spec_fail(s, "'%s' must be an array of strings; item %d is not a string",
                                   tribe_spec_key(s, key, k, sizeof k), i);
        i++;
    }
    char **list = NULL;
    TRIBE_TRY(tribe_calloc((void **)&list, (size_t)count + 1, sizeof *list));
    i = 0;
    cJSON_ArrayForEach(e, a)
    {
        st = tribe_strdup(e->valuestring, &list[i]);
        if (st != TRIBE_OK) {
            tribe_free_strs(list, i);
            return st;
        }
        i++;
    }
    tribe_free_strs(*v, *n);
    *v = list;
    *n = count;
    st = note(s, key, strs_item(*v, *n));
cleanup:
    return st;
}

tribe_status tribe_spec_ints(tribe_spec *s, const char *key, double lo, double hi, int n, int *v)
{
    const cJSON *a = NULL;
    char k[320];
    tribe_status st = lookup(s, key, &a);
    if (st != TRIBE_OK || !a)
        return st;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return tribe_spec_fail(s, "'%s' must be an array of %d integers", tribe_spec_key(s, key, k, sizeof k), n);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble))
            return tribe_spec_fail(s, "'%s' must be an array of %d integers", tribe_spec_key(s, key, k, sizeof k), n);
        if (!(e->valuedouble >= lo && e->valuedouble <= hi))
            return tribe_spec_fail(s, "'%s[%d]' = %g is outside [%g, %g]", tribe_spec_key(s, key, k, sizeof k), i,
                                   e->valuedouble, lo, hi);
    }
    for (int i = 0; i < n; i++)
        v[i] = (int)cJSON_GetArrayItem(a, i)->valuedouble;
    return note(s, key, cJSON_CreateIntArray(v, n));
}

tribe_status tribe_spec_list(tribe_spec *s, const char *key, int *n)
{
    const cJSON *a = NULL;
    tribe_status st = lookup(s, key, &a);
    *n = 0;
    if (st != TRIBE_OK || !a)
        return st;
    if (!cJSON_IsArray(a))
        return wrong(s, key, "an array of objects");
    *n = cJSON_GetArraySize(a);
    return TRIBE_OK;
}

tribe_status tribe_spec_item(tribe_spec *s, const char *key, int i, tribe_spec **out)
{
    const cJSON *a = peek(s, key), *e = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, i) : NULL;
    char k[320], ki[352];
    tribe_spec_key(s, key, k, sizeof k);
    snprintf(ki, sizeof ki, "%s[%d]", k, i);
    if (!cJSON_IsObject(e))
        return tribe_spec_fail(s, "'%s' must be an object", ki);
    tribe_status st = mark(s->root, e);
    if (st != TRIBE_OK)
        return st;
    return new_handle(s->root, e, ki, out);
}

/* The first unread member of an object that was opened, in document order,
 * descending into opened objects and the opened items of read arrays. */
static const cJSON *unread(const spec_root *r, const cJSON *obj, char *path, size_t cap)
{
    size_t len = strlen(path);
    for (const cJSON *v = obj->child; v; v = v->next) {
        snprintf(path + len, cap - len, "%s%s", len ? "." : "", v->string ? v->string : "");
        if (!was_read(r, v))
            return v;
        if (cJSON_IsObject(v)) {
            const cJSON *u = unread(r, v, path, cap);
            if (u)
                return u;
        } else if (cJSON_IsArray(v)) {
            size_t l2 = strlen(path);
            int i = 0;
            for (const cJSON *e = v->child; e; e = e->next, i++) {
                snprintf(path + l2, cap - l2, "[%d]", i);
                if (cJSON_IsObject(e) && was_read(r, e)) {
                    const cJSON *u = unread(r, e, path, cap);
                    if (u)
                        return u;
                }
            }
        }
        path[len] = '\0';
    }
    return NULL;
}

tribe_status tribe_spec_check(const tribe_spec *s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", s->path);
    const cJSON *u = s->obj ? unread(s->root, s->obj, path, sizeof path) : NULL;
    if (u)
        return tribe_spec_fail(s, "unknown key '%s' (see docs/job-spec.md)", path);
    return TRIBE_OK;
}

tribe_status tribe_spec_finish(const tribe_spec *root)
{
    return tribe_spec_check(root);
}
