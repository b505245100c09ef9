/* The write side of API v1 (docs/api.md, docs/dashboard.md): a persona
 * refined with a marketer's inputs through the provider of the run (on a
 * worker thread: an LLM call never holds a request thread), saved as a
 * numbered version; every write in the append-only audit log. Campaigns are
 * in campaigns.c. */
#include "writes.h"

#include "tribe/llm.h"
#include "tribe/persona.h"
#include "tribe/record.h"
#include "tribe/segment.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DRAFT_SECONDS 3600

/* ---- audit log -------------------------------------------------------------- */

void tribe_audit(tribe_writes *w, const char *who, const char *action, const char *run_id, int64_t segment_id,
                 const char *detail)
{
    char when[32], sid[24];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(sid, sizeof sid, "%lld", (long long)segment_id);
    cJSON *o = detail ? cJSON_Parse(detail) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        o = cJSON_CreateObject();
    }
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "who", who);
    cJSON_AddStringToObject(o, "action", action);
    cJSON_AddStringToObject(o, "run_id", run_id);
    cJSON_AddStringToObject(o, "segment_id", sid);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line)
        return;
    size_t n = strlen(line);
    line[n] = '\n'; /* replaces the NUL: written as one record with its newline */
    pthread_mutex_lock(&w->lock);
    if (w->audit_fd < 0 || write(w->audit_fd, line, n + 1) != (ssize_t)(n + 1) || fdatasync(w->audit_fd) != 0)
        TRIBE_WARN("serve: audit log: cannot append (%s): %s", strerror(errno), action);
    pthread_mutex_unlock(&w->lock);
    free(line);
}

/* ---- persona versions --------------------------------------------------------- */

/* Path of version v of segment sid (v = 0: the segment's directory). */
static tribe_status version_path(const tribe_writes *w, int64_t sid, int v, char *out, size_t cap)
{
    return v ? tribe_fmt(out, cap, "%s/%lld/v%d.json", w->versions_dir, (long long)sid, v)
             : tribe_fmt(out, cap, "%s/%lld", w->versions_dir, (long long)sid);
}

/* The saved versions of segment sid: each file's parsed content by number,
 * the largest number in *last. Caller deletes the array. */
static cJSON *versions_of(const tribe_writes *w, int64_t sid, int *last)
{
    char dir[4096], path[4096 + 64];
    cJSON *arr = cJSON_CreateArray();
    DIR *d = NULL;
    *last = 0;
    if (version_path(w, sid, 0, dir, sizeof dir) != TRIBE_OK || !(d = opendir(dir)))
        return arr;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int v = 0;
        char tail = 0, *text = NULL;
        if (sscanf(e->d_name, "v%d.json%c", &v, &tail) != 1 || v < 1 ||
            tribe_fmt(path, sizeof path, "%s/%s", dir, e->d_name) != TRIBE_OK)
            continue;
        *last = v > *last ? v : *last;
        if (tribe_read_file(path, &text, NULL) != TRIBE_OK) {
            tribe_clear_error();
            continue;
        }
        cJSON *o = cJSON_Parse(text);
        free(text);
        if (cJSON_IsObject(o))
            cJSON_AddItemToArray(arr, o);
        else
            cJSON_Delete(o);
    }
    closedir(d);
    return arr;
}

static int version_no(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

char *tribe_writes_persona(tribe_writes *w, const tribe_snap *s, int64_t sid, int *version)
{
    int last = 0, best = 0;
    const cJSON *o, *pick = NULL;
    cJSON *arr = versions_of(w, sid, &last);
    char *text = NULL;
    *version = 0;
    cJSON_ArrayForEach(o, arr)
    {
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(o, "run_id");
        if (cJSON_IsString(run) && strcmp(run->valuestring, s->run_id) == 0 && version_no(o) > best) {
            best = version_no(o);
            pick = o;
        }
    }
    if (pick) {
        cJSON *p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pick, "persona"), 1);
        cJSON_AddNumberToObject(p, "version", best);
        text = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        *version = best;
    } else {
        int c = tribe_snap_segment(s, sid);
        cJSON *doc = c >= 0 ? cJSON_Parse(s->segment_json[c]) : NULL;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "persona");
        text = cJSON_IsObject(p) ? cJSON_PrintUnformatted(p) : NULL;
        cJSON_Delete(doc);
    }
    cJSON_Delete(arr);
    return text;
}

/* ---- refine ------------------------------------------------------------------ */

typedef struct {
    tribe_server *srv;
    tribe_snap *s;
    int64_t sid;
    cJSON *inputs;           /* the request's object (validated shape) */
    char who[24], url[256];
} refine_job;

/* The run's persona section rebuilt from run.json's resolved settings
 * ("persona.<key>", absolute paths), as a job spec text. */
static tribe_status persona_spec(const tribe_snap *s, char **spec, uint64_t *seed)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 16], *text = NULL;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/run.json", s->dir));
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    cJSON *run = cJSON_Parse(text), *job = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(job, "persona");
    const cJSON *v, *sd = cJSON_GetObjectItemCaseSensitive(run, "seed");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(run, "settings"))
        if (strncmp(v->string, "persona.", 8) == 0 && !cJSON_IsNull(v))
            cJSON_AddItemToObject(p, v->string + 8, cJSON_Duplicate(v, 1));
    *seed = cJSON_IsNumber(sd) ? (uint64_t)sd->valuedouble : 0;
    st = cJSON_IsObject(run) ? tribe_json_text(job, 1, 0, "persona settings", spec)
                             : tribe_fail(TRIBE_ERR_INPUT, "%s: not a run record", path);
    cJSON_Delete(run);
    cJSON_Delete(job);
cleanup:
    free(text);
    return st;
}

/* The inputs of the request as tribe_persona_inputs (pointers into in). */
static void inputs_of(const cJSON *in, tribe_persona_inputs *pi, const char **ch)
{
    static const char *const KEYS[] = {"tone", "brand_guidance", "emphasis"};
    const char **dst[] = {&pi->tone, &pi->brand_guidance, &pi->emphasis};
    const cJSON *v;
    memset(pi, 0, sizeof *pi);
    for (int i = 0; i < 3; i++) {
        v = cJSON_GetObjectItemCaseSensitive(in, KEYS[i]);
        *dst[i] = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(in, "channels"))
        if (cJSON_IsString(v) && pi->n_channels < TRIBE_PERSONA_MAX_CHANNELS + 1)
            ch[pi->n_channels++] = v->valuestring;
    pi->channels = ch;
}

static tribe_status refine_segment(refine_job *j, char **proposed, char **failure)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *text = NULL, *spec = NULL, *arr = NULL;
    tribe_segments *segs = NULL;
    tribe_persona_provider *pp = NULL;
    tribe_persona p;
    tribe_persona_inputs pi;
    const char *ch[TRIBE_PERSONA_MAX_CHANNELS + 1];
    uint64_t seed = 0;
    int c = -1;
    memset(&p, 0, sizeof p);
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/segments.json", j->s->dir));
    if (access(path, R_OK) != 0) {
        *failure = "conflict";
        st = tribe_fail(TRIBE_ERR_INPUT, "run %s has no segments.json (written by tribe run since this release): "
                        "rerun the job to refine its personas", j->s->run_id);
        goto cleanup;
    }
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    TRIBE_TRY(tribe_segments_from_json(text, &segs));
    for (int i = 0; i < segs->k; i++)
        if (segs->seg[i].id == j->sid)
            c = i;
    if (c < 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: no segment %lld", path, (long long)j->sid);
        goto cleanup;
    }
    TRIBE_TRY(persona_spec(j->s, &spec, &seed));
    TRIBE_TRY(tribe_persona_provider_from_job(spec, NULL, seed, &pp));
    inputs_of(j->inputs, &pi, ch);
    st = tribe_persona_refine(pp, segs, c, &pi, &p);
    if (st == TRIBE_ERR_USAGE)
        *failure = "bad-request";
    TRIBE_TRY(st);
    TRIBE_TRY(tribe_personas_to_json(&p, 1, segs, &arr));
    cJSON *a = cJSON_Parse(arr);
    *proposed = cJSON_PrintUnformatted(cJSON_GetArrayItem(a, 0));
    cJSON_Delete(a);
    if (!*proposed)
        st = tribe_fail(TRIBE_ERR_NOMEM, "refine: out of memory");
cleanup:
    tribe_persona_clear(&p);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&segs);
    free(text);
    free(spec);
    free(arr);
    return st;
}

static int random_id(char out[33])
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    tribe_hex(r, sizeof r, out);
    return 0;
}

/* Keeps the draft; its id into id. */
static int keep_draft(tribe_writes *w, const tribe_snap *s, int64_t sid, char *persona, char *inputs, char id[33])
{
    double now = tribe_now();
    int slot = -1;
    if (random_id(id) != 0)
        return -1;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < TRIBE_SERVE_DRAFTS; i++)
        if (slot < 0 || w->drafts[i].expires < w->drafts[slot].expires)
            slot = i; /* free or expiring first */
    tribe_draft *d = &w->drafts[slot];
    free(d->persona);
    free(d->inputs);
    memcpy(d->id, id, 33);
    memcpy(d->gen, s->gen, 17);
    d->segment_id = sid;
    d->persona = persona;
    d->inputs = inputs;
    d->expires = now + DRAFT_SECONDS;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static void refine_run(void *arg, tribe_reply *out)
{
    refine_job *j = arg;
    char *proposed = NULL, *failure = "upstream", id[33];
    int version = 0;
    if (out) {
        tribe_status st = refine_segment(j, &proposed, &failure);
        char *current = st == TRIBE_OK ? tribe_writes_persona(j->srv->writes, j->s, j->sid, &version) : NULL;
        char *inputs = st == TRIBE_OK ? cJSON_PrintUnformatted(j->inputs) : NULL;
        if (st != TRIBE_OK)
            tribe_reply_problem(out, strcmp(failure, "bad-request") == 0 ? 400 : strcmp(failure, "conflict") == 0 ? 409
                                                                                                                : 502,
                                failure, j->url, "%s", tribe_errmsg());
        else if (!inputs || keep_draft(j->srv->writes, j->s, j->sid, proposed, inputs, id) != 0) {
            free(inputs);
            tribe_reply_problem(out, 500, "internal", j->url, "cannot keep the draft");
        } else {
            tribe_sbuf b = {0};
            tribe_sbuf_printf(&b, "{\"segment_id\":\"%lld\",\"draft\":\"%s\",\"current\":%s,\"proposed\":%s,"
                                  "\"inputs\":%s}",
                              (long long)j->sid, id, current ? current : "null", proposed, inputs);
            proposed = NULL; /* the draft's now */
            tribe_reply_sbuf(out, 200, &b);
            tribe_sbuf_free(&b);
            tribe_audit(j->srv->writes, j->who, "persona.refine", j->s->run_id, j->sid, NULL);
        }
        free(current);
    }
    free(proposed);
    tribe_snap_release(j->s);
    cJSON_Delete(j->inputs);
    free(j);
}

/* The body of a refine: an object of the known keys only (texts checked by
 * tribe_persona_refine itself). */
static const char *refine_body_error(const cJSON *in)
{
    const cJSON *v;
    if (!cJSON_IsObject(in))
        return "the body must be a JSON object {\"tone\", \"brand_guidance\", \"emphasis\", \"channels\"}";
    cJSON_ArrayForEach(v, in)
    {
        if (strcmp(v->string, "channels") == 0) {
            const cJSON *c;
            if (!cJSON_IsArray(v))
                return "channels must be an array of strings";
            cJSON_ArrayForEach(c, v) if (!cJSON_IsString(c)) return "channels must be an array of strings";
        } else if (strcmp(v->string, "tone") && strcmp(v->string, "brand_guidance") && strcmp(v->string, "emphasis")) {
            return "unknown field (the fields are tone, brand_guidance, emphasis and channels)";
        } else if (!cJSON_IsString(v) && !cJSON_IsNull(v)) {
            return "tone, brand_guidance and emphasis must be strings";
        }
    }
    return NULL;
}

static void refine(const tribe_req *q, tribe_snap *s, int64_t sid, tribe_reply *r)
{
    refine_job *j = NULL;
    cJSON *in = cJSON_ParseWithLength(q->body ? q->body : "", q->body_len);
    const char *why = refine_body_error(in);
    if (why) {
        tribe_reply_problem(r, 400, "bad-request", q->url, "%s", why);
        cJSON_Delete(in);
        return;
    }
    if (!(j = calloc(1, sizeof *j))) {
        cJSON_Delete(in);
        tribe_reply_problem(r, 500, "internal", q->url, "out of memory");
        return;
    }
    j->srv = q->srv;
    j->s = s;
    tribe_snap_retain(s);
    j->sid = sid;
    j->inputs = in;
    snprintf(j->who, sizeof j->who, "%s", q->who);
    snprintf(j->url, sizeof j->url, "%s", q->url);
    r->defer = refine_run;
    r->defer_arg = j;
}

/* POST .../persona/versions {"draft"}: the draft becomes the next version. */
static void save(const tribe_req *q, tribe_snap *s, int64_t sid, tribe_reply *r)
{
    tribe_writes *w = q->srv->writes;
    cJSON *in = cJSON_ParseWithLength(q->body ? q->body : "", q->body_len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "draft");
    char path[4096 + 64], dir[4096], when[32];
    tribe_draft d = {0};
    int found = 0, last = 0;
    if (!cJSON_IsString(id)) {
        tribe_reply_problem(r, 400, "bad-request", q->url, "the body must be {\"draft\": \"<id from persona:refine>\"}");
        goto done;
    }
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < TRIBE_SERVE_DRAFTS && !found; i++)
        if (w->drafts[i].expires >= tribe_now() && strcmp(w->drafts[i].id, id->valuestring) == 0 &&
            w->drafts[i].segment_id == sid) {
            d = w->drafts[i];
            w->drafts[i].persona = w->drafts[i].inputs = NULL;
            w->drafts[i].expires = 0;
            found = 1;
        }
    if (!found)
        tribe_reply_problem(r, 404, "not-found", q->url, "no draft '%.40s' of segment %lld (drafts last an hour)",
                            id->valuestring, (long long)sid);
    else if (strcmp(d.gen, s->gen) != 0)
        tribe_reply_problem(r, 409, "conflict", q->url, "the draft was refined on an earlier run; refine it again");
    else {
        cJSON_Delete(versions_of(w, sid, &last));
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "version", last + 1);
        cJSON_AddStringToObject(v, "run_id", s->run_id);
        cJSON_AddStringToObject(v, "saved", when);
        cJSON_AddStringToObject(v, "by", q->who);
        cJSON_AddItemToObject(v, "inputs", cJSON_Parse(d.inputs));
        cJSON_AddItemToObject(v, "persona", cJSON_Parse(d.persona));
        char *text = cJSON_Print(v);
        FILE *f = NULL;
        int fd = -1;
        if (version_path(w, sid, 0, dir, sizeof dir) == TRIBE_OK && (mkdir(w->versions_dir, 0755) == 0 || errno == EEXIST) &&
            (mkdir(dir, 0755) == 0 || errno == EEXIST) &&
            version_path(w, sid, last + 1, path, sizeof path) == TRIBE_OK &&
            (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) >= 0 && (f = fdopen(fd, "w")) != NULL && text &&
            fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fd) == 0) {
            cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(v, "persona"), "version",
                                  cJSON_CreateNumber(last + 1));
            char *out = cJSON_PrintUnformatted(v);
            tribe_reply_json(r, 201, out ? out : "{}", -1);
            free(out);
        } else {
            tribe_reply_problem(r, 500, "internal", q->url, "cannot write persona version %d of segment %lld: %s",
                                last + 1, (long long)sid, strerror(errno));
        }
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        free(text);
        cJSON_Delete(v);
    }
    pthread_mutex_unlock(&w->lock);
    if (r->status == 201) {
        char detail[96];
        snprintf(detail, sizeof detail, "{\"version\":%d}", last + 1);
        tribe_audit(w, q->who, "persona.save", s->run_id, sid, detail);
    }
done:
    free(d.persona);
    free(d.inputs);
    cJSON_Delete(in);
}

static void versions(const tribe_req *q, int64_t sid, tribe_reply *r)
{
    int last = 0;
    cJSON *arr = versions_of(q->srv->writes, sid, &last), *o, *doc = cJSON_CreateObject(), *list;
    list = cJSON_AddArrayToObject(doc, "versions");
    for (int v = last; v >= 1; v--) /* newest first */
        cJSON_ArrayForEach(o, arr) if (version_no(o) == v)
        {
            cJSON *e = cJSON_CreateObject();
            static const char *const K[] = {"version", "run_id", "saved", "by", "inputs"};
            for (size_t i = 0; i < sizeof K / sizeof *K; i++)
                cJSON_AddItemToObject(e, K[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, K[i]), 1));
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "persona");
            cJSON_AddItemToObject(e, "provider", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "provider"), 1));
            cJSON_AddItemToObject(e, "name", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "name"), 1));
            cJSON_AddItemToArray(list, e);
        }
    char *text = cJSON_PrintUnformatted(doc);
    tribe_reply_json(r, 200, text ? text : "{\"versions\":[]}", -1);
    free(text);
    cJSON_Delete(doc);
    cJSON_Delete(arr);
}

int tribe_writes_segment(const tribe_req *q, tribe_snap *s, const char *id, size_t len, tribe_reply *r)
{
    int64_t sid = 0;
    if (tribe_serve_parse_id(id, len, &sid) != 0 || tribe_snap_segment(s, sid) < 0) {
        tribe_reply_problem(r, 404, "not-found", q->url, "no segment '%.*s' in run %s", (int)(len > 40 ? 40 : len), id,
                            s->run_id);
        return 0;
    }
    return 1;
}

/* Needs the write role; 0 and a problem in r otherwise. */
static int writer(const tribe_req *q, tribe_reply *r)
{
    if (q->role >= TRIBE_ROLE_WRITE)
        return 1;
    tribe_reply_problem(r, 403, "forbidden", q->url, "this needs a write token (the token given is read-only)");
    return 0;
}

int tribe_api_write(const tribe_req *q, tribe_snap *s, tribe_reply *r)
{
    const char *u = q->url, *p = NULL;
    int post = strcmp(q->method, "POST") == 0;
    if (strncmp(u, "/v1/campaigns", 13) == 0)
        return tribe_api_campaigns(q, s, r);
    if (strncmp(u, "/v1/segments/", 13) != 0 || !(p = strstr(u + 13, "/persona")))
        return 0;
    r->route = TRIBE_ROUTE_PERSONA;
    size_t len = (size_t)(p - (u + 13));
    int64_t sid = 0;
    tribe_serve_parse_id(u + 13, len, &sid);
    if (strcmp(p, "/persona:refine") == 0) {
        if (!post)
            tribe_reply_problem(r, 405, "method-not-allowed", u, "use POST");
        else if (writer(q, r) && tribe_writes_segment(q, s, u + 13, len, r))
            refine(q, s, sid, r);
    } else if (strcmp(p, "/persona/versions") == 0) {
        if (!tribe_writes_segment(q, s, u + 13, len, r))
            return 1;
        if (!post)
            versions(q, sid, r);
        else if (writer(q, r))
            save(q, s, sid, r);
    } else {
        return 0;
    }
    return 1;
}

/* ---- set-up ------------------------------------------------------------------ */

tribe_status tribe_writes_create(tribe_server *srv, tribe_writes **out)
{
    tribe_status st = TRIBE_OK;
    tribe_writes *w = NULL;
    const tribe_serve_cfg *cfg = &srv->cfg;
    char path[4096 + 32], *copy = NULL;
    struct stat sb;
    TRIBE_TRY(tribe_calloc((void **)&w, 1, sizeof *w));
    w->srv = srv;
    w->audit_fd = -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->send_lock, NULL);
    int is_dir = stat(cfg->dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    TRIBE_TRY(tribe_strdup(cfg->dir, &copy));
    const char *root = is_dir ? cfg->dir : dirname(copy);
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas", root));
    TRIBE_TRY(tribe_strdup(path, &w->versions_dir));
    if (cfg->audit_path)
        snprintf(path, sizeof path, "%s", cfg->audit_path);
    else
        TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/audit.jsonl", root));
    if ((w->audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "audit log %s", path);
        goto cleanup;
    }
    if (cfg->outbox)
        snprintf(path, sizeof path, "%s", cfg->outbox);
    else
        TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/outbox.jsonl", root));
    TRIBE_TRY(tribe_strdup(path, &w->outbox));
    if (cfg->contacts)
        TRIBE_TRY(tribe_contacts_read(cfg->contacts, &w->contacts));
cleanup:
    free(copy);
    if (st == TRIBE_OK)
        *out = w;
    else
        tribe_writes_destroy(&w);
    return st;
}

void tribe_writes_destroy(tribe_writes **wp)
{
    if (!wp || !*wp)
        return;
    tribe_writes *w = *wp;
    tribe_campaigns_wait(w);
    if (w->audit_fd >= 0)
        close(w->audit_fd);
    for (int i = 0; i < TRIBE_SERVE_DRAFTS; i++) {
        free(w->drafts[i].persona);
        free(w->drafts[i].inputs);
    }
    for (int i = 0; i < w->n_jobs; i++)
        free(w->jobs[i]);
    tribe_contacts_destroy(&w->contacts);
    free(w->versions_dir);
    free(w->outbox);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->send_lock);
    free(w);
    *wp = NULL;
}
