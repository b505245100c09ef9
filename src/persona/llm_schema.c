/* The persona schema, validation of what a server answers, and the small
 * pure pieces of the LLM provider (backoff, cache keys). No I/O here. */
#include "tribe/llm.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR "{\"type\":\"string\"}"
#define LIST "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"

/* Strict mode of OpenAI's structured outputs wants every property required
 * and additionalProperties false, at every level. */
static const char SCHEMA[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"name\",\"age_band\",\"occupation\",\"bio\",\"goals\",\"frustrations\",\"channels\",\"quote\","
    "\"email\",\"tagline\",\"image_prompt\"],"
    "\"properties\":{\"name\":" STR ",\"age_band\":" STR ",\"occupation\":" STR ",\"bio\":" STR ",\"goals\":" LIST
    ",\"frustrations\":" LIST ",\"channels\":" LIST ",\"quote\":" STR
    ",\"email\":{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"subject\",\"body\"],"
    "\"properties\":{\"subject\":" STR ",\"body\":" STR "}},\"tagline\":" STR ",\"image_prompt\":" STR "}}";

const char *tribe_llm_persona_schema(void) { return SCHEMA; }

static const char *const STR_KEYS[] = {"name", "age_band", "occupation", "bio", "quote", "tagline", "image_prompt"};
static const char *const LIST_KEYS[] = {"goals", "frustrations", "channels"};
#define N_STR (int)(sizeof STR_KEYS / sizeof *STR_KEYS)
#define N_LIST (int)(sizeof LIST_KEYS / sizeof *LIST_KEYS)
#define MAX_ITEMS 8

static int known_key(const char *k)
{
    for (int i = 0; i < N_STR; i++)
        if (strcmp(k, STR_KEYS[i]) == 0)
            return 1;
    for (int i = 0; i < N_LIST; i++)
        if (strcmp(k, LIST_KEYS[i]) == 0)
            return 1;
    return strcmp(k, "email") == 0;
}

static tribe_status get_str(const cJSON *o, const char *key, const char *label, char **dst)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s' is missing", label);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s' is not a non-empty string", label);
    tribe_status st = tribe_strdup(v->valuestring, dst);
    if (st != TRIBE_OK)
        return st;
    /* the reply is untrusted: no control character reaches a terminal, log or file */
    tribe_strip_controls(*dst, strcmp(label, "email.body") == 0);
    if (!(*dst)[strspn(*dst, " \n\t")]) {
        free(*dst);
        *dst = NULL;
        return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s' holds only control characters or spaces", label);
    }
    return TRIBE_OK;
}

static tribe_status get_list(const cJSON *o, const char *key, char ***dst, int *n)
{
    tribe_status st = TRIBE_OK;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s' is missing", key);
    int len = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (len < 1 || len > MAX_ITEMS)
        return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s' is not an array of 1 to %d strings", key, MAX_ITEMS);
    TRIBE_TRY(tribe_calloc((void **)dst, (size_t)len, sizeof **dst));
    *n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return tribe_fail(TRIBE_ERR_INPUT, "persona reply: '%s[%d]' is not a non-empty string", key, *n);
        TRIBE_TRY(tribe_strdup(e->valuestring, &(*dst)[*n]));
        tribe_strip_controls((*dst)[*n], 0);
        (*n)++;
    }
cleanup:
    return st;
}

tribe_status tribe_llm_persona_parse(const char *content, tribe_persona *out)
{
    tribe_status st = TRIBE_OK;
    cJSON *root = NULL;
    char *copy = NULL;
    /* Some servers wrap JSON mode output in a Markdown fence anyway. */
    const char *s = content;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    if (strncmp(s, "```", 3) == 0) {
        const char *nl = strchr(s, '\n');
        const char *end = nl ? strstr(nl, "```") : NULL;
        if (nl && end) {
            size_t n = (size_t)(end - nl);
            TRIBE_TRY(tribe_alloc((void **)&copy, n + 1));
            memcpy(copy, nl, n);
            copy[n] = '\0';
            s = copy;
        }
    }
    root = cJSON_Parse(s);
    if (!root || !cJSON_IsObject(root)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "persona reply: the message content is not a JSON object");
        goto cleanup;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!known_key(it->string)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "persona reply: unexpected property '%.60s'", it->string);
            goto cleanup;
        }
    }
    char **dst[N_STR] = {&out->name, &out->age_band, &out->occupation, &out->bio, &out->quote, &out->tagline,
                         &out->image_prompt};
    for (int i = 0; i < N_STR; i++)
        TRIBE_TRY(get_str(root, STR_KEYS[i], STR_KEYS[i], dst[i]));
    TRIBE_TRY(get_list(root, "goals", &out->goals, &out->n_goals));
    TRIBE_TRY(get_list(root, "frustrations", &out->frustrations, &out->n_frustrations));
    TRIBE_TRY(get_list(root, "channels", &out->channels, &out->n_channels));
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(root, "email");
    if (!cJSON_IsObject(em)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "persona reply: 'email' is not an object {subject, body}");
        goto cleanup;
    }
    cJSON_ArrayForEach(it, em)
    {
        if (strcmp(it->string, "subject") != 0 && strcmp(it->string, "body") != 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "persona reply: unexpected property 'email.%.60s'", it->string);
            goto cleanup;
        }
    }
    TRIBE_TRY(get_str(em, "subject", "email.subject", &out->email_subject));
    TRIBE_TRY(get_str(em, "body", "email.body", &out->email_body));
cleanup:
    free(copy);
    cJSON_Delete(root);
    return st;
}

tribe_status tribe_llm_reply_content(const char *body, char **content)
{
    tribe_status st = TRIBE_OK;
    cJSON *root = cJSON_Parse(body);
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!root || !cJSON_IsObject(msg)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "reply is not a chat completion (no choices[0].message)");
        goto cleanup;
    }
    if (cJSON_IsString(ref) && ref->valuestring[0]) {
        st = tribe_fail(TRIBE_ERR_INPUT, "refusal: %.120s", ref->valuestring);
        goto cleanup;
    }
    if (cJSON_IsString(fin) && strcmp(fin->valuestring, "length") == 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "finish_reason length (reply cut short)");
        goto cleanup;
    }
    if (cJSON_IsString(fin) && strcmp(fin->valuestring, "content_filter") == 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "refusal: finish_reason content_filter");
        goto cleanup;
    }
    if (!cJSON_IsString(c) || !c->valuestring[0]) {
        st = tribe_fail(TRIBE_ERR_INPUT, "reply has no message content");
        goto cleanup;
    }
    TRIBE_TRY(tribe_strdup(c->valuestring, content));
cleanup:
    cJSON_Delete(root);
    return st;
}

double tribe_llm_backoff_s(double base_s, int attempt, double retry_after_s, uint64_t seed, int segment)
{
    if (retry_after_s >= 0)
        return retry_after_s;
    if (attempt < 1)
        attempt = 1;
    double d = base_s * ldexp(1.0, attempt > 30 ? 30 : attempt - 1);
    if (d > 60.0)
        d = 60.0;
    /* Jitter spreads the retries of concurrent segments apart; drawn from
     * the counter RNG so a rerun waits the same. */
    double u = tribe_rng_unif(seed, 0x6c6c6d00ULL + (uint64_t)segment, (uint64_t)attempt);
    return d * (0.5 + 0.5 * u);
}

void tribe_llm_cache_key(const char *profile, const char *prompt_version, const char *model, char out[33])
{
    const char *parts[3] = {profile, prompt_version, model};
    uint64_t h1 = TRIBE_FNV_INIT, h2 = tribe_hash2(TRIBE_FNV_INIT, 0x746f6b656eULL);
    for (int i = 0; i < 3; i++) {
        const char *s = parts[i] ? parts[i] : "";
        /* The NUL separates the parts, so ("ab", "c") and ("a", "bc") differ. */
        h1 = tribe_fnv1a(h1, s, strlen(s) + 1);
        h2 = tribe_fnv1a(h2, s, strlen(s) + 1);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}
