/* tribe/llm.h: personas written by an OpenAI-compatible Chat Completions
 * server (OpenAI, vLLM, llama.cpp's server, Ollama), behind the provider
 * interface of tribe/persona.h. docs/personas-llm.md has the configuration,
 * the faults and fallbacks, the privacy rule and the cache.
 *
 * Usage (rank 0 only):
 *     tribe_llm_config cfg = {.base_url = ..., .model = ..., .prompt_path = ..., .req = {...}};
 *     tribe_persona_provider *pp = NULL;
 *     st = tribe_persona_llm_create(&cfg, &pp);
 *     st = tribe_personas_write(pp, segs, &p);  // never fails because of the server
 *     tribe_persona_provider_destroy(&pp);
 *
 * What leaves the job: for each segment of at least k_min customers, the
 * profile built by tribe_llm_profile from tribe_segments alone (aggregates,
 * no customer id, e-mail or row), inside the prompt template. Smaller segments
 * are written by the offline writer. The API key is read from the environment
 * variable the spec names, sent as a Bearer header and never logged or written.
 *
 * Every reply is validated against the persona schema and checked for
 * grounding (tribe_persona_check_grounded); a segment whose requests fail is
 * written by the offline writer, and its persona's provider says why, e.g.
 * "offline (fallback: HTTP 500 after 3 attempts)". The run counts those by
 * kind, and persona.require_llm makes them an error (tribe_personas_fallbacks).
 *
 * Ownership: strings returned through char ** are the caller's to free().
 * Not collective: rank 0 only; nothing here calls MPI.
 */
#ifndef TRIBE_LLM_H
#define TRIBE_LLM_H

#include "tribe/core.h"
#include "tribe/persona.h"
#include "tribe/segment.h"
#include "tribe/spec.h"

/* How the requests to a server behave (the job's persona.* request keys),
 * shared by the chat and the image endpoints. */
typedef struct {
    const char *api_key_env; /* NULL = no Authorization header */
    double timeout_s;        /* per request */
    double deadline_s;       /* all requests of one write_all / fetch */
    double backoff_s;        /* first retry delay when no Retry-After is given */
    uint64_t seed;           /* sent to the chat server; also keys the backoff jitter */
    int max_concurrency;     /* requests in flight at once, >= 1 */
    int retries;             /* retries after the first attempt, >= 0 */
    int64_t k_min;           /* segments smaller than this never reach the server */
} tribe_llm_requests;

typedef struct {
    const char *base_url;    /* "http://127.0.0.1:8000/v1": POST {base_url}/chat/completions */
    const char *model;
    const char *cache_dir;   /* NULL = no cache */
    const char *prompt_path; /* template file (format in docs/personas-llm.md) */
    double temperature;
    tribe_llm_requests req;
} tribe_llm_config;

/* The LLM provider (copies everything it keeps from cfg). Returns USAGE when
 * cfg lacks base_url, model or prompt_path, IO when the prompt template cannot
 * be read, INPUT when it is malformed, NOMEM. The API key's absence is not an
 * error here: requests then go without it and the server decides. Not
 * collective. */
tribe_status tribe_persona_llm_create(const tribe_llm_config *cfg, tribe_persona_provider **out);

/* ---- pieces, public for tests and tools ---------------------------------- */

/* The profile of segment index c as JSON text: name, size, share, revenue
 * share, per feature mean and median of the segment and of the whole base and
 * whether the segment is higher/lower/similar, and the categorical mixes
 * (levels held by fewer than k_min customers of the segment are left out).
 * Figures are rounded to two decimals; shares are percentages. Returns USAGE
 * when the segment has fewer than k_min customers (it must not leave the
 * job), NOMEM. */
tribe_status tribe_llm_profile(const tribe_segments *segs, int c, int64_t k_min, char **out);

/* A refine's "Marketer's guidance" block (tribe_persona_refine): the inputs
 * given (already cleaned: one line each), then the channel codes, between
 * "=== Marketer's guidance ... ===" and "=== End of marketer's guidance ==="
 * lines. The provider appends it to the profile, so it lands where
 * {{profile}} is and the cache key hashes it. *out NULL when no input is
 * given (the request is then a run's). NOMEM. */
tribe_status tribe_llm_guidance(const tribe_persona_inputs *in, char **out);

/* A prompt template: "version: <v>" on the first line, then sections opened
 * by "--- system", "--- user" and "--- reask" lines. In user, "{{profile}}"
 * is replaced by the profile; in reask, "{{violation}}" by what was wrong. */
typedef struct {
    char *version;
    char *system;
    char *user;
    char *reask;
} tribe_llm_prompt;
/* Loads and checks a template (all three sections present). Returns IO or
 * INPUT naming the file and line, NOMEM. */
tribe_status tribe_llm_prompt_load(const char *path, tribe_llm_prompt **out);
/* Replaces every "{{name}}" in tmpl by value. Returns NOMEM only. */
tribe_status tribe_llm_render(const char *tmpl, const char *name, const char *value, char **out);
void tribe_llm_prompt_destroy(tribe_llm_prompt **p);

/* The persona's JSON schema (static text, strict: every property required,
 * no additional properties). */
const char *tribe_llm_persona_schema(void);
/* Validates a reply's message content against the schema and fills out
 * (zeroed by caller; segment and segment_name are left to the caller).
 * Returns INPUT naming the first violation ("goals[1] is not a string"),
 * NOMEM. On error out may hold partial strings: destroy it either way. */
tribe_status tribe_llm_persona_parse(const char *content, tribe_persona *out);
/* The message content of a Chat Completions response body. Returns INPUT
 * when the body is not such a response, is a refusal, or was cut short
 * (finish_reason "length"); the message says which. NOMEM. */
tribe_status tribe_llm_reply_content(const char *body, char **content);

/* Seconds to wait before retry number `attempt` (1 = first retry) of
 * segment `segment`: retry_after_s when >= 0 (the server's Retry-After),
 * else base_s * 2^(attempt-1), capped at 60 s, times a jitter factor in
 * [0.5, 1) from the counter RNG keyed by (seed, segment, attempt). */
double tribe_llm_backoff_s(double base_s, int attempt, double retry_after_s, uint64_t seed, int segment);

/* Cache key of (profile, prompt version, model): 32 hex digits + NUL. */
void tribe_llm_cache_key(const char *profile, const char *prompt_version, const char *model, char out[33]);

/* ---- persona images (optional) --------------------------------------------
 *
 * Usage (rank 0, after the personas):
 *     tribe_persona_image *img = NULL;           // array of segs->k
 *     st = tribe_persona_images_fetch(&icfg, segs, personas, &img);
 *     ... tribe_report_personas(b, segs, personas, plan, img) ...
 *     tribe_persona_images_destroy(&img, segs->k);
 *
 * One POST {base_url}/images/generations per segment with {model, prompt
 * (the persona's image_prompt), size, response_format: "b64_json", n: 1},
 * under the retry, timeout and deadline rules of the persona requests. A
 * segment under k_min sends nothing. Whatever the server does, the run goes
 * on: a segment without an image has mime "" and b64 NULL, and why says what
 * happened ("HTTP 500 after 3 attempts", "image reply: neither PNG nor JPEG"). */

typedef struct {
    const char *base_url;    /* POST {base_url}/images/generations */
    const char *model;
    const char *size;        /* e.g. "1024x1024"; NULL = "1024x1024" */
    tribe_llm_requests req;
} tribe_image_config;

typedef struct {
    int segment;        /* segment id */
    char mime[16];      /* "image/png" or "image/jpeg"; "" = no image */
    char *b64;          /* canonical base64 of the checked bytes; NULL = no image */
    size_t bytes;       /* decoded size */
    char why[200];      /* why there is no image; "" when there is one */
} tribe_persona_image;

/* Fetches one image per segment (array of segs->k in segment order, matched
 * to p by segment id). Returns USAGE when cfg lacks base_url or model, NOMEM;
 * never an error because of the server. Not collective. */
tribe_status tribe_persona_images_fetch(const tribe_image_config *cfg, const tribe_segments *segs,
                                        const tribe_persona *p, tribe_persona_image **out);
void tribe_persona_images_destroy(tribe_persona_image **img, int k);
/* What became of one segment's image, for the run record: "image/png, 68
 * bytes" or "no image: <why>", into buf. */
const char *tribe_persona_image_summary(const tribe_persona_image *im, char *buf, size_t cap);

/* "image/png" or "image/jpeg" from the magic bytes, NULL for anything else. */
const char *tribe_image_mime(const unsigned char *data, size_t n);
/* Decodes standard base64 (whitespace skipped). Returns INPUT on a bad
 * character or padding, NOMEM; *out is the caller's to free. */
tribe_status tribe_image_b64_decode(const char *text, unsigned char **out, size_t *n);
/* Fills img from an images/generations response body (data[0].b64_json):
 * decoded, checked to be PNG or JPEG and at most 16 MiB, re-encoded. Returns
 * INPUT naming what is wrong (img untouched), NOMEM. */
tribe_status tribe_image_reply_parse(const char *body, tribe_persona_image *img);

/* ---- fallbacks -------------------------------------------------------------
 *
 * A persona the LLM provider could not get from the server is the offline
 * writer's, with provider "offline (fallback: <reason>)". Its kind, for the
 * run's summary (run.json "personas.fallbacks") and persona.require_llm: */
enum {
    TRIBE_FALLBACK_K_MIN = 0,  /* "under k_min": the privacy rule, never sent */
    TRIBE_FALLBACK_HTTP,       /* "http error": 4xx/5xx (after its retries) */
    TRIBE_FALLBACK_TIMEOUT,    /* "timeout" */
    TRIBE_FALLBACK_DEADLINE,   /* "deadline": persona.deadline_s passed */
    TRIBE_FALLBACK_CONNECTION, /* "connection error": refused, reset, unresolvable, ... */
    TRIBE_FALLBACK_REFUSED,    /* "refused": a refusal or content_filter */
    TRIBE_FALLBACK_CUT,        /* "cut short": finish_reason length */
    TRIBE_FALLBACK_REPLY,      /* "invalid reply": not a chat completion */
    TRIBE_FALLBACK_JSON,       /* "invalid JSON": the content is not a JSON object */
    TRIBE_FALLBACK_SCHEMA,     /* "schema violation" */
    TRIBE_FALLBACK_UNGROUNDED, /* "ungrounded figure": still after the re-ask */
    TRIBE_FALLBACK_BAND,       /* "band invalid": age_band not one of the six, after the re-ask */
    TRIBE_N_FALLBACK_KINDS
};
/* The kinds' names, by the enum above. */
extern const char *const TRIBE_FALLBACK_KINDS[TRIBE_N_FALLBACK_KINDS];
/* The kind of p's fallback (an enum value above), or -1 when p is not a
 * fallback (the model's persona, or the offline provider's own). */
int tribe_persona_fallback_kind(const tribe_persona *p);
/* Counts the fallbacks of p[0..k-1] by kind into counts. With strict
 * (persona.require_llm), returns ENV naming every segment that fell back
 * for another reason than k_min, and why ("persona.require_llm: 2 of 5
 * personas fell back to the offline writer: segment 1 (Loyal Customers):
 * HTTP 500 server_error after 3 attempts; ..."); else TRIBE_OK. */
tribe_status tribe_personas_fallbacks(const tribe_persona *p, int k, int strict, int counts[TRIBE_N_FALLBACK_KINDS]);
/* "2 http error, 1 timeout" (the non-zero counts in kind order; "" for
 * none) into buf; returns buf. */
const char *tribe_fallback_counts_text(const int counts[TRIBE_N_FALLBACK_KINDS], char *buf, size_t cap);

/* ---- the job's "persona" section ------------------------------------------ */

enum { TRIBE_PERSONA_OFFLINE = 0, TRIBE_PERSONA_OPENAI = 1 };
/* "offline", "openai": the values of persona.provider, by the enum above. */
extern const char *const TRIBE_PERSONA_PROVIDER_NAMES[2];

/* The job's "persona" section (docs/job-spec.md) with its defaults. llm and
 * img point at the owned strings below; img.base_url NULL = no images. */
typedef struct {
    int provider;           /* TRIBE_PERSONA_OFFLINE or TRIBE_PERSONA_OPENAI */
    int require_llm;        /* 1: a fallback other than k_min fails the run (ENV) */
    tribe_llm_config llm;   /* llm.req.seed defaults to the job's seed */
    tribe_image_config img;
    char *base_url, *model, *api_key_env, *cache_dir, *prompt, *image_base_url, *image_model, *image_size;
} tribe_persona_settings;

/* Reads root's "persona" object into *s (zeroed first; cleared again on
 * error): strict as every stage's keys (USAGE naming "persona.<key>";
 * relative paths beside the spec file). seed: the job's seed. Not
 * collective. */
tribe_status tribe_persona_settings_read(tribe_spec *root, uint64_t seed, tribe_persona_settings *s);
/* Frees the strings and zeroes *s; accepts NULL. */
void tribe_persona_settings_clear(tribe_persona_settings *s);
/* The provider the settings name: the LLM provider (errors of
 * tribe_persona_llm_create) or the offline writer keyed by seed. */
tribe_status tribe_persona_provider_create(const tribe_persona_settings *s, uint64_t seed,
                                           tribe_persona_provider **out);
/* The provider a finished run used, rebuilt from its job spec text (the
 * /runs/<run_id> attribute job_spec of results.h5) and seed (attribute seed),
 * the way `tribe run` builds it. spec_path anchors relative paths in the
 * spec (persona.prompt, persona.cache_dir and the default prompt
 * prompts/persona-v1.txt, beside the spec) as the spec file did; NULL
 * leaves them relative to the current directory. Errors: USAGE for a spec
 * that is not JSON or a bad persona section (other sections are not read),
 * those of tribe_persona_llm_create (IO for a prompt template that cannot be
 * read), NOMEM. Not collective. The provider keeps no state that writing
 * changes: one provider serves several threads at once. */
tribe_status tribe_persona_provider_from_job(const char *job_json, const char *spec_path, uint64_t seed,
                                             tribe_persona_provider **out);

#endif
