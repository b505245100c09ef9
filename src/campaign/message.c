/* What a campaign of a run's segment says and is called (tribe/campaign.h):
 * the persona's e-mail and tagline from personas.json, the campaign's name
 * from campaign_plan.csv. `tribe campaign send` and `tribe serve` read them
 * the same way. */
#include "tribe/campaign.h"
#include "tribe/csv.h"
#include "tribe/sbuf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

tribe_status tribe_campaign_plan_name(const char *run_dir, int64_t segment_id, char *out, size_t cap)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    char path[4096];
    int col[2], has = 0, found = 0;
    static const char *const want[] = {"segment_id", "campaign"};
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/campaign_plan.csv", run_dir));
    TRIBE_TRY(tribe_csv_open(path, NULL, &c));
    TRIBE_TRY(tribe_csv_require(c, want, 2, col));
    while (!found && (st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        const char *id = tribe_csv_field(c, col[0], NULL);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(id, &end, 10);
        if (!tribe_csv_error(c) && end != id && *end == '\0' && errno == 0 && v == segment_id) {
            snprintf(out, cap, "%s", tribe_csv_cell_text(tribe_csv_field(c, col[1], NULL)));
            found = 1;
        }
    }
    TRIBE_TRY(st);
    if (!found)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: no row for segment %lld", path, (long long)segment_id);
cleanup:
    tribe_csv_close(&c);
    return st;
}

void tribe_campaign_message_clear(tribe_campaign_message *m)
{
    if (!m)
        return;
    free(m->subject);
    free(m->body);
    free(m->sms);
    memset(m, 0, sizeof *m);
}

/* The message of one persona object p of personas.json. */
static tribe_status message_of(const cJSON *p, const char *path, int64_t segment_id, tribe_campaign_message *m)
{
    tribe_status st = TRIBE_OK;
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(p, "email_subject");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(p, "email_body");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(p, "tagline");
    if (!cJSON_IsString(subj) || !cJSON_IsString(body) || !cJSON_IsString(tag))
        return tribe_fail(TRIBE_ERR_INPUT, "%s: persona of segment %lld lacks email_subject, email_body or tagline",
                          path, (long long)segment_id);
    /* A greeting with the per-customer substitution, unless the text
     * already personalises itself. */
    size_t n = strlen(body->valuestring) + 64;
    TRIBE_TRY(tribe_strdup(subj->valuestring, &m->subject));
    TRIBE_TRY(tribe_alloc((void **)&m->body, n));
    snprintf(m->body, n, "%s%s", strstr(body->valuestring, "{{first_name}}") ? "" : "Hi {{first_name}},\n\n",
             body->valuestring);
    n = strlen(tag->valuestring) + 64;
    TRIBE_TRY(tribe_alloc((void **)&m->sms, n));
    snprintf(m->sms, n, "Hi {{first_name}}, %s Reply STOP to opt out.", tag->valuestring);
cleanup:
    return st;
}

tribe_status tribe_campaign_message_parse(const char *persona_json, const char *what, int64_t segment_id,
                                          tribe_campaign_message *m)
{
    cJSON *p = cJSON_Parse(persona_json);
    memset(m, 0, sizeof *m);
    tribe_status st = cJSON_IsObject(p) ? message_of(p, what, segment_id, m)
                                        : tribe_fail(TRIBE_ERR_INPUT, "%s: not a persona object", what);
    if (st != TRIBE_OK)
        tribe_campaign_message_clear(m);
    cJSON_Delete(p);
    return st;
}

tribe_status tribe_campaign_message_read(const char *run_dir, int64_t segment_id, tribe_campaign_message *m)
{
    tribe_status st = TRIBE_OK;
    char path[4096], *text = NULL;
    cJSON *root = NULL;
    memset(m, 0, sizeof *m);
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas.json", run_dir));
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    root = cJSON_Parse(text);
    if (!cJSON_IsArray(root)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a JSON array of personas", path);
        goto cleanup;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, root)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "segment_id");
        if (cJSON_IsNumber(id) && id->valuedouble == (double)segment_id) {
            st = message_of(p, path, segment_id, m);
            goto cleanup;
        }
    }
    st = tribe_fail(TRIBE_ERR_INPUT, "%s: no persona for segment %lld", path, (long long)segment_id);
cleanup:
    if (st != TRIBE_OK)
        tribe_campaign_message_clear(m);
    cJSON_Delete(root);
    free(text);
    return st;
}
