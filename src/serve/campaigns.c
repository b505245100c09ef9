/* Campaigns from the dashboard (docs/dashboard.md): a preview of the
 * messages a few real customers would get and the counts after suppression
 * and the frequency cap (tribe_campaign_count), then the send itself on its
 * own thread — the same tribe_campaign_send as `tribe campaign send`, into
 * the same outbox — with progress and the per-reason summary. Sandboxed
 * unless the server allows live sends and the request confirms with the
 * segment's name. */
#include "writes.h"
#include "tribe/id.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define PREVIEW_MAX 20

/* What a campaign request names, checked. */
typedef struct {
    int64_t sid;
    int c;
    const char *channel;
    int n;           /* preview customers */
    int live;
    const char *campaign, *confirm;
} camp_req;

static int parse_req(const tribe_req *q, tribe_snap *s, const cJSON *in, camp_req *cr, tribe_reply *r)
{
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(in, "segment_id");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(in, "channel");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(in, "customers");
    const cJSON *live = cJSON_GetObjectItemCaseSensitive(in, "live");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "campaign");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(in, "confirm");
    memset(cr, 0, sizeof cr[0]);
    cr->n = 3;
    if (!cJSON_IsObject(in) || !cJSON_IsString(seg) || !cJSON_IsString(ch) ||
        (strcmp(ch->valuestring, "email") != 0 && strcmp(ch->valuestring, "sms") != 0)) {
        tribe_reply_problem(r, 400, "bad-request", q->url,
                            "the body must be {\"segment_id\": \"<id>\", \"channel\": \"email\" or \"sms\", ...}");
        return 0;
    }
    if ((n && (!cJSON_IsNumber(n) || n->valuedouble < 1 || n->valuedouble > PREVIEW_MAX)) ||
        (live && !cJSON_IsBool(live)) || (name && (!cJSON_IsString(name) || strlen(name->valuestring) > 100)) ||
        (conf && !cJSON_IsString(conf))) {
        tribe_reply_problem(r, 400, "bad-request", q->url,
                            "customers must be 1..%d, live a boolean, campaign a name of at most 100 characters, "
                            "confirm a string", PREVIEW_MAX);
        return 0;
    }
    if (!tribe_writes_segment(q, s, seg->valuestring, strlen(seg->valuestring), r))
        return 0;
    tribe_serve_parse_id(seg->valuestring, strlen(seg->valuestring), &cr->sid);
    cr->c = tribe_snap_segment(s, cr->sid);
    cr->channel = ch->valuestring;
    cr->n = n ? (int)n->valuedouble : 3;
    cr->live = cJSON_IsTrue(live);
    cr->campaign = name ? name->valuestring : NULL;
    cr->confirm = conf ? conf->valuestring : NULL;
    return 1;
}

/* The send's settings for segment cr of run s, with the message of its
 * current persona (a saved version or the run's) in m. */
static tribe_status send_cfg(tribe_writes *w, tribe_snap *s, const camp_req *cr, char *campaign, size_t cap,
                             tribe_campaign_message *m, tribe_send_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    const tribe_serve_cfg *sc = &w->srv->cfg;
    int version = 0;
    char *persona = tribe_writes_persona(w, s, cr->sid, &version);
    if (!persona)
        return tribe_fail(TRIBE_ERR_INPUT, "segment %lld of run %s has no persona to send", (long long)cr->sid,
                          s->run_id);
    TRIBE_TRY(tribe_campaign_message_parse(persona, "persona", cr->sid, m));
    if (cr->campaign)
        snprintf(campaign, cap, "%s", cr->campaign);
    else if (tribe_campaign_plan_name(s->dir, cr->sid, campaign, cap) != TRIBE_OK) {
        tribe_clear_error();
        snprintf(campaign, cap, "%s campaign", s->seg_name[cr->c]);
    }
    tribe_send_cfg_defaults(cfg);
    cfg->run_id = s->run_id;
    cfg->segment = (int)cr->sid;
    cfg->campaign = campaign;
    cfg->channel = cr->channel;
    cfg->endpoint = sc->mail_endpoint;
    cfg->live = cr->live;
    cfg->outbox = w->outbox;
    cfg->subject = m->subject;
    cfg->body = m->body;
    cfg->sms_body = m->sms;
    cfg->max_per_customer = sc->max_per_customer;
    cfg->window_seconds = sc->window_seconds;
    cfg->suppress_path = sc->suppress;
cleanup:
    free(persona);
    return st;
}

/* The segment's customer ids, ascending. */
static int64_t *segment_ids(const tribe_snap *s, int c, int64_t *n)
{
    *n = s->seg_start[c + 1] - s->seg_start[c];
    int64_t *ids = malloc((size_t)(*n + 1) * sizeof *ids);
    for (int64_t i = 0; ids && i < *n; i++)
        ids[i] = s->id[s->seg_rows[s->seg_start[c] + i]];
    return ids;
}

/* Their texts with string ids (NULL otherwise, or when out of memory: the
 * outbox then names customers by key only). */
static char *segment_texts(const tribe_snap *s, int c)
{
    int64_t n = s->seg_start[c + 1] - s->seg_start[c];
    char *t = s->id_text ? malloc((size_t)(n + 1) * (size_t)s->id_width) : NULL;
    for (int64_t i = 0; t && i < n; i++)
        memcpy(t + (size_t)i * (size_t)s->id_width,
               s->id_text + (size_t)s->seg_rows[s->seg_start[c] + i] * (size_t)s->id_width, (size_t)s->id_width);
    return t;
}

static cJSON *counts(const tribe_send_stats *st, int done)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "customers", (double)st->customers);
    if (done) {
        cJSON_AddNumberToObject(o, "sent", (double)st->sent);
        cJSON_AddNumberToObject(o, "dry_run", (double)st->dry_run);
        cJSON_AddNumberToObject(o, "failed", (double)st->failed);
    } else {
        cJSON_AddNumberToObject(o, "would_send", (double)st->dry_run);
    }
    cJSON_AddNumberToObject(o, "no_contact", (double)st->no_contact);
    cJSON_AddNumberToObject(o, "opted_out", (double)st->opted_out);
    cJSON_AddNumberToObject(o, "suppressed", (double)st->suppressed);
    cJSON_AddNumberToObject(o, "capped", (double)st->capped);
    return o;
}

/* Messages for the first n customers who have a contact on the channel and
 * opted in. */
static void previews(tribe_writes *w, const camp_req *cr, const tribe_campaign_message *m, const int64_t *ids,
                     int64_t n, cJSON *arr)
{
    int shown = 0;
    int sms = strcmp(cr->channel, "sms") == 0;
    for (int64_t i = 0; i < n && shown < cr->n; i++) {
        const tribe_contact *c = tribe_contacts_find(w->contacts, ids[i]);
        char *subject = NULL, *body = NULL, id[TRIBE_ID_BUF];
        if (!c || !(sms ? c->phone && c->sms_optin : c->email && c->email_optin) ||
            tribe_campaign_render(m, cr->channel, c, &subject, &body) != TRIBE_OK) {
            tribe_clear_error();
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        tribe_id_format(c->id_text, c->id, id);
        cJSON_AddStringToObject(o, "customer_id", id);
        cJSON_AddStringToObject(o, "to", sms ? c->phone : c->email);
        if (subject)
            cJSON_AddStringToObject(o, "subject", subject);
        else
            cJSON_AddNullToObject(o, "subject");
        cJSON_AddStringToObject(o, "body", body);
        cJSON_AddItemToArray(arr, o);
        free(subject);
        free(body);
        shown++;
    }
}

static void preview(const tribe_req *q, tribe_snap *s, const camp_req *cr, tribe_reply *r)
{
    tribe_writes *w = q->srv->writes;
    tribe_campaign_message m = {0};
    tribe_send_cfg cfg;
    tribe_send_stats st;
    char campaign[128];
    int64_t n = 0, *ids = segment_ids(s, cr->c, &n);
    memset(&st, 0, sizeof st);
    if (!ids || send_cfg(w, s, cr, campaign, sizeof campaign, &m, &cfg) != TRIBE_OK ||
        tribe_campaign_count(&cfg, ids, n, w->contacts, &st) != TRIBE_OK) {
        tribe_reply_problem(r, 500, "internal", q->url, "%s", ids ? tribe_errmsg() : "out of memory");
    } else {
        cJSON *o = cJSON_CreateObject();
        char sid[24];
        snprintf(sid, sizeof sid, "%lld", (long long)cr->sid);
        cJSON_AddStringToObject(o, "segment_id", sid);
        cJSON_AddStringToObject(o, "channel", cr->channel);
        cJSON_AddStringToObject(o, "campaign", campaign);
        previews(w, cr, &m, ids, n, cJSON_AddArrayToObject(o, "messages"));
        cJSON_AddItemToObject(o, "counts", counts(&st, 0));
        cJSON_AddBoolToObject(o, "live_allowed", w->srv->cfg.allow_live);
        cJSON_AddStringToObject(o, "mode", w->srv->cfg.mail_endpoint ? "sandbox" : "dry run");
        char *text = cJSON_PrintUnformatted(o);
        tribe_reply_json(r, 200, text ? text : "{}", -1);
        free(text);
        cJSON_Delete(o);
    }
    tribe_campaign_message_clear(&m);
    free(ids);
}

/* ---- sends -------------------------------------------------------------------- */

typedef struct {
    tribe_writes *w;
    tribe_cjob *job;
    tribe_snap *s;
    camp_req cr;
} send_job;

static void on_progress(void *ctx, int64_t done, int64_t total)
{
    tribe_cjob *j = ctx;
    atomic_store(&j->done, done);
    atomic_store(&j->total, total);
}

static void *send_thread(void *arg)
{
    send_job *sj = arg;
    tribe_cjob *j = sj->job;
    tribe_campaign_message m = {0};
    tribe_send_cfg cfg;
    tribe_send_stats st;
    char campaign[128], detail[512];
    int64_t n = 0, *ids = segment_ids(sj->s, sj->cr.c, &n);
    char *texts = segment_texts(sj->s, sj->cr.c);
    tribe_status rc = ids ? send_cfg(sj->w, sj->s, &sj->cr, campaign, sizeof campaign, &m, &cfg)
                          : tribe_fail(TRIBE_ERR_NOMEM, "out of memory");
    memset(&st, 0, sizeof st);
    atomic_store(&j->total, n);
    if (rc == TRIBE_OK) {
        cfg.progress = on_progress;
        cfg.progress_ctx = j;
        cfg.id_text = texts;
        cfg.id_width = sj->s->id_width;
        pthread_mutex_lock(&sj->w->send_lock); /* sends of other segments wait (state running, done 0) */
        rc = tribe_campaign_send(&cfg, ids, n, sj->w->contacts, &st);
        pthread_mutex_unlock(&sj->w->send_lock);
    }
    j->stats = st;
    if (rc != TRIBE_OK)
        snprintf(j->error, sizeof j->error, "%s", tribe_errmsg());
    atomic_store(&j->state, rc == TRIBE_OK ? 1 : 2);
    snprintf(detail, sizeof detail,
             "{\"campaign_job\":\"%s\",\"state\":\"%s\",\"sent\":%lld,\"dry_run\":%lld,\"failed\":%lld,"
             "\"skipped\":%lld}",
             j->id, rc == TRIBE_OK ? "done" : "failed", (long long)st.sent, (long long)st.dry_run,
             (long long)st.failed, (long long)(st.no_contact + st.opted_out + st.suppressed + st.capped));
    tribe_audit(sj->w, j->who, "campaign.finished", sj->s->run_id, j->segment_id, detail);
    tribe_campaign_message_clear(&m);
    free(ids);
    free(texts);
    tribe_snap_release(sj->s);
    atomic_fetch_sub(&sj->w->sending, 1);
    free(sj);
    return NULL;
}

/* A new job in the table, or NULL when one of the segment is still running
 * (*busy) or the table is full of running jobs. */
static tribe_cjob *new_job(tribe_writes *w, const tribe_req *q, tribe_snap *s, const camp_req *cr, int *busy)
{
    tribe_cjob *j = calloc(1, sizeof *j);
    uint8_t rnd[16];
    *busy = 0;
    if (!j || getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        free(j);
        return NULL;
    }
    tribe_hex(rnd, sizeof rnd, j->id);
    snprintf(j->run_id, sizeof j->run_id, "%s", s->run_id);
    snprintf(j->segment_name, sizeof j->segment_name, "%s", s->seg_name[cr->c]);
    snprintf(j->channel, sizeof j->channel, "%s", cr->channel);
    snprintf(j->campaign, sizeof j->campaign, "%s", cr->campaign ? cr->campaign : "");
    snprintf(j->who, sizeof j->who, "%s", q->who);
    j->segment_id = cr->sid;
    j->live = cr->live;
    j->started = tribe_now();
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->n_jobs; i++)
        if (w->jobs[i]->segment_id == cr->sid && atomic_load(&w->jobs[i]->state) == 0)
            *busy = 1;
    if (!*busy && w->n_jobs == TRIBE_SERVE_JOBS) { /* forget the oldest finished one */
        for (int i = 0; i < w->n_jobs; i++)
            if (atomic_load(&w->jobs[i]->state) != 0) {
                free(w->jobs[i]);
                memmove(w->jobs + i, w->jobs + i + 1, (size_t)(w->n_jobs - i - 1) * sizeof *w->jobs);
                w->n_jobs--;
                break;
            }
    }
    if (*busy || w->n_jobs == TRIBE_SERVE_JOBS) {
        free(j);
        j = NULL;
    } else {
        w->jobs[w->n_jobs++] = j;
    }
    pthread_mutex_unlock(&w->lock);
    return j;
}

static void start_send(const tribe_req *q, tribe_snap *s, const camp_req *cr, tribe_reply *r)
{
    tribe_writes *w = q->srv->writes;
    int busy = 0;
    pthread_t t;
    if (cr->live && !w->srv->cfg.allow_live) {
        tribe_reply_problem(r, 403, "forbidden", q->url, "live sends are off on this server (start it with --allow-live)");
        return;
    }
    if (cr->live && (!cr->confirm || strcmp(cr->confirm, s->seg_name[cr->c]) != 0)) {
        tribe_reply_problem(r, 400, "bad-request", q->url, "a live send needs \"confirm\": the segment's name ('%s')",
                            s->seg_name[cr->c]);
        return;
    }
    tribe_cjob *j = new_job(w, q, s, cr, &busy);
    send_job *sj = j ? calloc(1, sizeof *sj) : NULL;
    if (!sj) {
        tribe_reply_problem(r, busy ? 409 : 503, busy ? "conflict" : "not-ready", q->url,
                            busy ? "a send of this segment is still running" : "too many sends running");
        if (j)
            atomic_store(&j->state, 2);
        return;
    }
    sj->w = w;
    sj->job = j;
    sj->s = s;
    sj->cr = *cr;
    sj->cr.campaign = j->campaign[0] ? j->campaign : NULL;
    sj->cr.channel = j->channel; /* the request's strings go with it */
    sj->cr.confirm = NULL;
    tribe_snap_retain(s);
    atomic_fetch_add(&w->sending, 1);
    char detail[256], body[96];
    snprintf(detail, sizeof detail, "{\"campaign_job\":\"%s\",\"channel\":\"%s\",\"live\":%s,\"customers\":%lld}",
             j->id, cr->channel, cr->live ? "true" : "false",
             (long long)(s->seg_start[cr->c + 1] - s->seg_start[cr->c]));
    tribe_audit(w, q->who, "campaign.send", s->run_id, cr->sid, detail);
    if (pthread_create(&t, NULL, send_thread, sj) != 0) {
        atomic_fetch_sub(&w->sending, 1);
        tribe_snap_release(s);
        free(sj);
        snprintf(j->error, sizeof j->error, "cannot start a thread");
        atomic_store(&j->state, 2);
        tribe_reply_problem(r, 503, "not-ready", q->url, "cannot start a thread for the send");
        return;
    }
    pthread_detach(t);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"state\":\"running\"}", j->id);
    tribe_reply_json(r, 202, body, -1);
}

static void job_status(const tribe_req *q, const char *id, tribe_reply *r)
{
    tribe_writes *w = q->srv->writes;
    cJSON *o = NULL;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->n_jobs && !o; i++) {
        tribe_cjob *j = w->jobs[i];
        if (strcmp(j->id, id) != 0)
            continue;
        int state = atomic_load(&j->state);
        char sid[24];
        snprintf(sid, sizeof sid, "%lld", (long long)j->segment_id);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", j->id);
        cJSON_AddStringToObject(o, "state", state == 0 ? "running" : state == 1 ? "done" : "failed");
        cJSON_AddStringToObject(o, "run_id", j->run_id);
        cJSON_AddStringToObject(o, "segment_id", sid);
        cJSON_AddStringToObject(o, "segment_name", j->segment_name);
        cJSON_AddStringToObject(o, "channel", j->channel);
        cJSON_AddBoolToObject(o, "live", j->live);
        cJSON *p = cJSON_AddObjectToObject(o, "progress");
        cJSON_AddNumberToObject(p, "done", (double)atomic_load(&j->done));
        cJSON_AddNumberToObject(p, "total", (double)atomic_load(&j->total));
        cJSON_AddItemToObject(o, "summary", state ? counts(&j->stats, 1) : cJSON_CreateNull());
        if (state == 2)
            cJSON_AddStringToObject(o, "error", j->error);
        else
            cJSON_AddNullToObject(o, "error");
    }
    pthread_mutex_unlock(&w->lock);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    if (text)
        tribe_reply_json(r, 200, text, -1);
    else
        tribe_reply_problem(r, 404, "not-found", q->url, "no campaign '%.40s' (the server keeps the last %d)", id,
                            TRIBE_SERVE_JOBS);
    free(text);
    cJSON_Delete(o);
}

int tribe_api_campaigns(const tribe_req *q, tribe_snap *s, tribe_reply *r)
{
    const char *u = q->url;
    int post = strcmp(q->method, "POST") == 0;
    camp_req cr;
    r->route = TRIBE_ROUTE_CAMPAIGN;
    if (strncmp(u, "/v1/campaigns/", 14) == 0 && !post) {
        job_status(q, u + 14, r);
        return 1;
    }
    if (strcmp(u, "/v1/campaigns:preview") != 0 && strcmp(u, "/v1/campaigns") != 0)
        return 0;
    if (!post) {
        tribe_reply_problem(r, 405, "method-not-allowed", u, "use POST");
        return 1;
    }
    if (q->role < TRIBE_ROLE_WRITE) {
        tribe_reply_problem(r, 403, "forbidden", u, "this needs a write token (the token given is read-only)");
        return 1;
    }
    if (!q->srv->writes->contacts) {
        tribe_reply_problem(r, 409, "conflict", u, "campaigns are off: start tribe serve with --contacts FILE");
        return 1;
    }
    cJSON *in = cJSON_ParseWithLength(q->body ? q->body : "", q->body_len);
    if (parse_req(q, s, in, &cr, r)) {
        if (strcmp(u, "/v1/campaigns:preview") == 0)
            preview(q, s, &cr, r);
        else
            start_send(q, s, &cr, r);
    }
    cJSON_Delete(in);
    return 1;
}

void tribe_campaigns_wait(tribe_writes *w)
{
    for (int i = 0; i < 1200 && atomic_load(&w->sending) > 0; i++) { /* at most 2 minutes */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
