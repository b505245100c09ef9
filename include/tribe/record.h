/* tribe/record.h: the run record, one JSON tree that the pipeline and every
 * stage add to (docs/outputs.md, run.json), serialised once.
 *
 * Usage (a stage's record operation, obj = its own object):
 *     TRIBE_TRY(tribe_rec_int(obj, "iterations", g->iterations));
 *     TRIBE_TRY(tribe_rec_num(obj, "loglik", g->loglik));            // NaN, inf -> null
 *     TRIBE_TRY(tribe_rec_nums(obj, "weights", g->weight, k));
 *     tribe_rec *sub = NULL;
 *     TRIBE_TRY(tribe_rec_obj(obj, "crisp", &sub));
 *
 * Strings are escaped by the serialiser, non-finite numbers become null, so
 * any path, name or figure gives valid JSON. Integers are stored as doubles:
 * exact up to 2^53.
 *
 * Ownership: a tree is owned by its root (tribe_rec_destroy); every handle
 * taken from it lives as long as the root. Not collective.
 */
#ifndef TRIBE_RECORD_H
#define TRIBE_RECORD_H

#include "tribe/core.h"

typedef struct tribe_rec tribe_rec; /* an object or array node */

typedef enum { TRIBE_REC_NULL, TRIBE_REC_BOOL, TRIBE_REC_NUM, TRIBE_REC_STR, TRIBE_REC_ARR, TRIBE_REC_OBJ } tribe_rec_kind;

/* An empty object as a new root. NOMEM. */
tribe_status tribe_rec_create(tribe_rec **out);
void tribe_rec_destroy(tribe_rec **r);

/* Members of object o (or items of array o when key is NULL). NOMEM; USAGE
 * when o is an array and key is not NULL or o is an object and key is NULL. */
tribe_status tribe_rec_obj(tribe_rec *o, const char *key, tribe_rec **out);
tribe_status tribe_rec_arr(tribe_rec *o, const char *key, tribe_rec **out);
tribe_status tribe_rec_num(tribe_rec *o, const char *key, double v);
tribe_status tribe_rec_int(tribe_rec *o, const char *key, int64_t v);
tribe_status tribe_rec_bool(tribe_rec *o, const char *key, int v);
tribe_status tribe_rec_str(tribe_rec *o, const char *key, const char *s); /* NULL -> null */
/* Arrays of n numbers / integers / strings. */
tribe_status tribe_rec_nums(tribe_rec *o, const char *key, const double *v, int64_t n);
tribe_status tribe_rec_ints(tribe_rec *o, const char *key, const int64_t *v, int64_t n);
tribe_status tribe_rec_strs(tribe_rec *o, const char *key, const char *const *s, int64_t n);
/* JSON text (e.g. the ingest ledger) parsed and added as a value. INPUT when
 * it is not valid JSON; NOMEM. */
tribe_status tribe_rec_json(tribe_rec *o, const char *key, const char *text);

/* A record read back from JSON text (run.json): INPUT when the text is not a
 * JSON object; NOMEM. */
tribe_status tribe_rec_parse(const char *text, tribe_rec **out);

/* The tree as JSON text (indented when pretty), caller frees. NOMEM. */
tribe_status tribe_rec_print(const tribe_rec *r, int pretty, char **out);

/* For modules that build their own cJSON trees (the GBDT model files, the
 * persona requests, personas.json): root, a `const cJSON *` (the type stays
 * out of public headers), printed (indented when pretty) into *out, allocated
 * by tribe (the caller frees it with free). ok = 0 says building root already
 * ran out of memory. root stays the caller's. Errors: NOMEM "<what>: out of
 * memory". */
tribe_status tribe_json_text(const void *root, int ok, int pretty, const char *what, char **out);

/* ---- reading (for the report's run facts) ------------------------------- */
/* The member key of object o, or NULL. */
const tribe_rec *tribe_rec_get(const tribe_rec *o, const char *key);
/* First member / item of o (NULL when empty or not a container), next sibling. */
const tribe_rec *tribe_rec_first(const tribe_rec *o);
const tribe_rec *tribe_rec_next(const tribe_rec *v);
tribe_rec_kind tribe_rec_type(const tribe_rec *v);
const char *tribe_rec_name(const tribe_rec *v);   /* member name, NULL for an array item */
double tribe_rec_number(const tribe_rec *v);      /* NaN unless a number */
int tribe_rec_true(const tribe_rec *v);           /* 1 for true, 0 otherwise */
const char *tribe_rec_string(const tribe_rec *v); /* NULL unless a string */

#endif
