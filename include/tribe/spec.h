/* tribe/spec.h: reading the JSON job spec (docs/job-spec.md), one object at
 * a time, the way PETSc objects read their own options: every stage asks for
 * its own keys, with their type and bounds, and the spec remembers what was
 * asked for, so a key nobody asked for is an error once every stage has read
 * its part.
 *
 * Usage (a stage's configure, for "gmm": {"max_iter": 50}):
 *     tribe_spec *g = NULL;
 *     TRIBE_TRY(tribe_spec_object(root, "gmm", &g));          // empty when absent
 *     TRIBE_TRY(tribe_spec_bool(g, "enabled", &cfg->enabled));   // absent: *v keeps the default
 *     TRIBE_TRY(tribe_spec_int(g, "max_iter", 1, 10000, &cfg->max_iter));
 *     ...
 *     TRIBE_TRY(tribe_spec_finish(root));   // after every reader: "unknown key 'gmm.max_it'"
 *
 * Every error is TRIBE_ERR_USAGE naming the spec file and the key's dotted
 * path ("job.json: 'gmm.max_iter' = 0 is outside [1, 10000]",
 * "'campaign.rules[2].channel' must be a non-empty string"). A key given
 * twice in one object: the last one wins. Relative paths (tribe_spec_path)
 * are resolved against the spec file's directory.
 *
 * Ownership: the root owns every object handle taken from it (freed by
 * tribe_spec_destroy); strings written through char ** are the caller's
 * (the previous value is freed first, so defaults may be strdup'ed).
 * Not collective: every rank reads the same text the same way.
 */
#ifndef TRIBE_SPEC_H
#define TRIBE_SPEC_H

#include "tribe/core.h"
#include "tribe/record.h"

typedef struct tribe_spec tribe_spec;

/* Parses spec text; `file` (may be NULL: "job spec") names it in messages and
 * anchors relative paths. USAGE "FILE:LINE: not valid JSON" or "the job spec
 * must be a JSON object"; NOMEM. */
tribe_status tribe_spec_parse(const char *file, const char *text, tribe_spec **out);
/* Frees the root and every handle taken from it; accepts NULL. */
void tribe_spec_destroy(tribe_spec **s);

/* The object under key (a handle owned by the root; an empty object when the
 * key is absent). USAGE when the value is not an object. */
tribe_status tribe_spec_object(tribe_spec *s, const char *key, tribe_spec **out);
/* 1 when the object has the key (asking does not count as reading it). */
int tribe_spec_has(const tribe_spec *s, const char *key);
/* 1 when the key holds an array. */
int tribe_spec_is_array(const tribe_spec *s, const char *key);

/* Scalars. Absent: *v keeps its value. Integers must be whole numbers. */
tribe_status tribe_spec_int(tribe_spec *s, const char *key, double lo, double hi, int *v);
tribe_status tribe_spec_i64(tribe_spec *s, const char *key, double lo, double hi, int64_t *v);
tribe_status tribe_spec_u64(tribe_spec *s, const char *key, double lo, double hi, uint64_t *v);
tribe_status tribe_spec_num(tribe_spec *s, const char *key, double lo, double hi, double *v);
tribe_status tribe_spec_bool(tribe_spec *s, const char *key, int *v);
/* A non-empty string. */
tribe_status tribe_spec_str(tribe_spec *s, const char *key, char **v);
/* A non-empty string naming a file, resolved against the spec's directory. */
tribe_status tribe_spec_path(tribe_spec *s, const char *key, char **v);
/* value resolved against the spec file's directory (absolute values and specs
 * without a file are kept as given): *out, caller frees. NOMEM. */
tribe_status tribe_spec_resolve(const tribe_spec *s, const char *value, char **out);
/* A string that must be one of names[n]: *v its index. */
tribe_status tribe_spec_choice(tribe_spec *s, const char *key, const char *const *names, int n, int *v);
/* An array of strings: *v[*n] (the previous array, *n strings, is freed). */
tribe_status tribe_spec_strs(tribe_spec *s, const char *key, char ***v, int *n);
/* An array of exactly n integers in [lo, hi] into v[n]. */
tribe_status tribe_spec_ints(tribe_spec *s, const char *key, double lo, double hi, int n, int *v);

/* An array of objects: *n items (0 when absent); item i as a handle. */
tribe_status tribe_spec_list(tribe_spec *s, const char *key, int *n);
tribe_status tribe_spec_item(tribe_spec *s, const char *key, int i, tribe_spec **out);

/* ---- the effective settings -------------------------------------------
 * Every reader above also records the value the key took (its default when
 * absent) under its dotted path, in reading order: the run record keeps them
 * ("settings" in run.json), so a run says exactly how it was configured. A
 * value a stage derives after reading (a default target path, say) is
 * recorded with a note. */
tribe_status tribe_spec_note_num(tribe_spec *s, const char *key, double v);
tribe_status tribe_spec_note_str(tribe_spec *s, const char *key, const char *v);
/* Adds the settings as a flat object {"kmeans.batch_size": 2048, ...} named
 * key to the record object obj (tribe/record.h). NOMEM. */
tribe_status tribe_spec_settings(const tribe_spec *root, tribe_rec *obj, const char *key);

/* A USAGE error "FILE: <message>" (for checks across keys); returns USAGE. */
tribe_status tribe_spec_fail(const tribe_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The dotted path of key in s ("gmm.max_iter"), into buf. */
const char *tribe_spec_key(const tribe_spec *s, const char *key, char *buf, size_t cap);
/* The spec file as given (NULL for text without a file). */
const char *tribe_spec_file(const tribe_spec *s);

/* USAGE "unknown key 'ltv.horizon'" for the first member of s (or of an
 * object in it) that nobody read: a stage calls it once it has read all its
 * keys, before checking how they combine, so a misspelt key is named as such
 * rather than as a missing one. */
tribe_status tribe_spec_check(const tribe_spec *s);
/* After every reader: USAGE "unknown key 'x.y' (see docs/job-spec.md)" for the
 * first key (in document order) that nobody read. */
tribe_status tribe_spec_finish(const tribe_spec *root);

#endif
