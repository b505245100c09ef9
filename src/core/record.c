/* The run record (tribe/record.h): a cJSON tree behind an opaque handle, so
 * that no public header carries the cJSON type. A tribe_rec pointer is a
 * cJSON node. */
#include "tribe/record.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>

#define NODE(r) ((cJSON *)(r))
#define CNODE(r) ((const cJSON *)(r))

tribe_status tribe_rec_create(tribe_rec **out)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return tribe_fail(TRIBE_ERR_NOMEM, "run record: out of memory");
    *out = (tribe_rec *)o;
    return TRIBE_OK;
}

void tribe_rec_destroy(tribe_rec **r)
{
    if (!r || !*r)
        return;
    cJSON_Delete(NODE(*r));
    *r = NULL;
}

/* Adds item to o (as member key, or appended when o is an array); frees
 * item on failure. */
static tribe_status add(tribe_rec *o, const char *key, cJSON *item)
{
    if (!item)
        return tribe_fail(TRIBE_ERR_NOMEM, "run record: out of memory");
    cJSON *p = NODE(o);
    if (cJSON_IsArray(p) != (key == NULL)) {
        cJSON_Delete(item);
        return tribe_fail(TRIBE_ERR_USAGE, "run record: '%s' %s", key ? key : "(item)",
                          key ? "added to an array" : "added to an object without a name");
    }
    if (key ? !cJSON_AddItemToObject(p, key, item) : !cJSON_AddItemToArray(p, item)) {
        cJSON_Delete(item);
        return tribe_fail(TRIBE_ERR_NOMEM, "run record: out of memory");
    }
    return TRIBE_OK;
}

static cJSON *number(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

tribe_status tribe_rec_obj(tribe_rec *o, const char *key, tribe_rec **out)
{
    cJSON *c = cJSON_CreateObject();
    tribe_status st = add(o, key, c);
    if (st == TRIBE_OK)
        *out = (tribe_rec *)c;
    return st;
}

tribe_status tribe_rec_arr(tribe_rec *o, const char *key, tribe_rec **out)
{
    cJSON *c = cJSON_CreateArray();
    tribe_status st = add(o, key, c);
    if (st == TRIBE_OK)
        *out = (tribe_rec *)c;
    return st;
}

tribe_status tribe_rec_num(tribe_rec *o, const char *key, double v)
{
    return add(o, key, number(v));
}

tribe_status tribe_rec_int(tribe_rec *o, const char *key, int64_t v)
{
    return add(o, key, cJSON_CreateNumber((double)v));
}

tribe_status tribe_rec_bool(tribe_rec *o, const char *key, int v)
{
    return add(o, key, cJSON_CreateBool(v != 0));
}

tribe_status tribe_rec_str(tribe_rec *o, const char *key, const char *s)
{
    return add(o, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

tribe_status tribe_rec_nums(tribe_rec *o, const char *key, const double *v, int64_t n)
{
    tribe_rec *a = NULL;
    tribe_status st = tribe_rec_arr(o, key, &a);
    for (int64_t i = 0; st == TRIBE_OK && i < n; i++)
        st = add(a, NULL, number(v[i]));
    return st;
}

tribe_status tribe_rec_ints(tribe_rec *o, const char *key, const int64_t *v, int64_t n)
{
    tribe_rec *a = NULL;
    tribe_status st = tribe_rec_arr(o, key, &a);
    for (int64_t i = 0; st == TRIBE_OK && i < n; i++)
        st = add(a, NULL, cJSON_CreateNumber((double)v[i]));
    return st;
}

tribe_status tribe_rec_strs(tribe_rec *o, const char *key, const char *const *s, int64_t n)
{
    tribe_rec *a = NULL;
    tribe_status st = tribe_rec_arr(o, key, &a);
    for (int64_t i = 0; st == TRIBE_OK && i < n; i++)
        st = add(a, NULL, s[i] ? cJSON_CreateString(s[i]) : cJSON_CreateNull());
    return st;
}

tribe_status tribe_rec_json(tribe_rec *o, const char *key, const char *text)
{
    cJSON *v = cJSON_Parse(text ? text : "");
    if (!v)
        return tribe_fail(TRIBE_ERR_INPUT, "run record: '%s' is not valid JSON", key ? key : "(item)");
    return add(o, key, v);
}

tribe_status tribe_rec_parse(const char *text, tribe_rec **out)
{
    cJSON *o = cJSON_Parse(text ? text : "");
    if (!cJSON_IsObject(o)) {
        const char *at = o ? NULL : cJSON_GetErrorPtr();
        cJSON_Delete(o);
        return at ? tribe_fail(TRIBE_ERR_INPUT, "run record: not valid JSON (near '%.30s')", at)
                  : tribe_fail(TRIBE_ERR_INPUT, "run record: JSON but not an object");
    }
    *out = (tribe_rec *)o;
    return TRIBE_OK;
}

tribe_status tribe_json_text(const void *root, int ok, int pretty, const char *what, char **out)
{
    const cJSON *r = root;
    char *text = ok && r ? (pretty ? cJSON_Print(r) : cJSON_PrintUnformatted(r)) : NULL;
    tribe_status st = text ? tribe_strdup(text, out) : tribe_fail(TRIBE_ERR_NOMEM, "%s: out of memory", what);
    cJSON_free(text);
    return st;
}

tribe_status tribe_rec_print(const tribe_rec *r, int pretty, char **out)
{
    return tribe_json_text(CNODE(r), 1, pretty, "run record", out);
}

const tribe_rec *tribe_rec_get(const tribe_rec *o, const char *key)
{
    return cJSON_IsObject(CNODE(o)) ? (const tribe_rec *)cJSON_GetObjectItemCaseSensitive(CNODE(o), key) : NULL;
}

const tribe_rec *tribe_rec_first(const tribe_rec *o)
{
    const cJSON *p = CNODE(o);
    return (cJSON_IsObject(p) || cJSON_IsArray(p)) ? (const tribe_rec *)p->child : NULL;
}

const tribe_rec *tribe_rec_next(const tribe_rec *v)
{
    return v ? (const tribe_rec *)CNODE(v)->next : NULL;
}

tribe_rec_kind tribe_rec_type(const tribe_rec *v)
{
    const cJSON *p = CNODE(v);
    if (cJSON_IsBool(p))
        return TRIBE_REC_BOOL;
    if (cJSON_IsNumber(p))
        return TRIBE_REC_NUM;
    if (cJSON_IsString(p))
        return TRIBE_REC_STR;
    if (cJSON_IsArray(p))
        return TRIBE_REC_ARR;
    if (cJSON_IsObject(p))
        return TRIBE_REC_OBJ;
    return TRIBE_REC_NULL;
}

const char *tribe_rec_name(const tribe_rec *v)
{
    return v ? CNODE(v)->string : NULL;
}

double tribe_rec_number(const tribe_rec *v)
{
    return cJSON_IsNumber(CNODE(v)) ? CNODE(v)->valuedouble : NAN;
}

int tribe_rec_true(const tribe_rec *v)
{
    return cJSON_IsTrue(CNODE(v));
}

const char *tribe_rec_string(const tribe_rec *v)
{
    return cJSON_IsString(CNODE(v)) ? CNODE(v)->valuestring : NULL;
}
