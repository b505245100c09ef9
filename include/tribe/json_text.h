/* A built cJSON tree as text from tribe's allocator, for every writer of
 * JSON built with cJSON (the GBDT model, the persona-side requests and
 * personas.json). Not collective. */
#ifndef TRIBE_JSON_TEXT_H
#define TRIBE_JSON_TEXT_H

#include "tribe/core.h"

#include <cjson/cJSON.h>

/* *out = root printed (indented when pretty), allocated by tribe (the caller
 * frees it with free, never cJSON_free). ok = 0 says building root already
 * ran out of memory. root stays the caller's. Errors: NOMEM "<what>: out of
 * memory". */
static inline tribe_status tribe_json_text(const cJSON *root, int ok, int pretty, const char *what, char **out)
{
    char *text = ok && root ? (pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root)) : NULL;
    tribe_status st = text ? tribe_strdup(text, out) : tribe_fail(TRIBE_ERR_NOMEM, "%s: out of memory", what);
    cJSON_free(text);
    return st;
}

#endif
