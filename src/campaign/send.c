/* Campaign dispatch (tribe/campaign.h, docs/campaigns.md): one segment's
 * customers -> SendGrid v3 mail/send batches or Twilio Messages requests,
 * with idempotency keys, signatures, retries, suppression, a frequency cap
 * and an outbox line for every attempt and every skip.
 *
 * JSON is written by hand (json_str escapes): cJSON stays in config, persona
 * and report code. */
#include "tribe/campaign.h"
#include "tribe/id.h"
#include "tribe/http.h"
#include "tribe/sbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


void tribe_send_cfg_defaults(tribe_send_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->run_id = "run";
    cfg->channel = "email";
    cfg->from_email = "marketing@example.com";
    cfg->from_name = "tribe";
    cfg->from_phone = "+447700900000";
    cfg->twilio_sid = "ACtest";
    cfg->batch_size = TRIBE_SEND_MAX_BATCH;
    cfg->window_seconds = 7 * 86400;
    cfg->max_retries = 4;
    cfg->retry_base_seconds = 0.5;
    cfg->timeout_seconds = 30;
}

void tribe_campaign_batch_key(const char *run_id, int segment, const char *campaign, const char *channel,
                              const int64_t *ids, int64_t n, char out[65])
{
    tribe_sha256_ctx c;
    char head[64];
    uint8_t h[32];
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, run_id, strlen(run_id));
    int hn = snprintf(head, sizeof head, "|%d|", segment);
    tribe_sha256_update(&c, head, (size_t)hn);
    tribe_sha256_update(&c, campaign, strlen(campaign));
    tribe_sha256_update(&c, "|", 1);
    tribe_sha256_update(&c, channel, strlen(channel));
    tribe_sha256_update(&c, "|", 1);
    for (int64_t i = 0; i < n; i++) {
        hn = snprintf(head, sizeof head, "%s%lld", i ? "," : "", (long long)ids[i]);
        tribe_sha256_update(&c, head, (size_t)hn);
    }
    tribe_sha256_final(&c, h);
    tribe_hex(h, 32, out);
}

int tribe_campaign_arm(const char *campaign, int64_t id, double holdout)
{
    if (!(holdout > 0))
        return 0;
    if (holdout >= 1)
        return 1;
    tribe_sha256_ctx c;
    char num[32];
    uint8_t h[32];
    int n = snprintf(num, sizeof num, "|%lld", (long long)id);
    tribe_sha256_init(&c);
    tribe_sha256_update(&c, campaign ? campaign : "", campaign ? strlen(campaign) : 0);
    tribe_sha256_update(&c, num, (size_t)n);
    tribe_sha256_final(&c, h);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | h[i];
    /* u / 2^64 < holdout, in long double so a share like 0.1 is not rounded
     * across a boundary by the conversion of u */
    return (long double)u < (long double)holdout * 18446744073709551616.0L;
}

/* ---- small text helpers ---------------------------------------------------------------- */

static tribe_status form_str(tribe_sbuf *b, const char *s)
{
    tribe_status st = TRIBE_OK;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            TRIBE_TRY(tribe_sbuf_addn(b, (const char *)p, 1));
        else if (*p == ' ')
            TRIBE_TRY(tribe_sbuf_add(b, "+"));
        else
            TRIBE_TRY(tribe_sbuf_printf(b, "%%%02X", *p));
    }
cleanup:
    return st;
}

/* text with {{first_name}} and {{customer_id}} replaced (SMS: Twilio has no
 * substitutions, so they are applied here). */
static tribe_status substitute(tribe_sbuf *b, const char *text, const char *first, const tribe_contact *k)
{
    char id[TRIBE_ID_BUF];
    tribe_id_format(k->id_text, k->id, id);
    tribe_status st = TRIBE_OK;
    for (const char *p = text ? text : ""; *p;) {
        if (strncmp(p, "{{first_name}}", 14) == 0) {
            TRIBE_TRY(tribe_sbuf_add(b, first));
            p += 14;
        } else if (strncmp(p, "{{customer_id}}", 15) == 0) {
            TRIBE_TRY(tribe_sbuf_add(b, id));
            p += 15;
        } else {
            TRIBE_TRY(tribe_sbuf_addn(b, p, 1));
            p++;
        }
    }
cleanup:
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The number after "key": in one outbox line (lines are written by
 * outbox_line below, so the keys are known and unique). */
static int line_i64(const char *line, const char *key, int64_t *v)
{
    const char *p = strstr(line, key);
    if (!p)
        return 0;
    char *end = NULL;
    long long x = strtoll(p + strlen(key), &end, 10);
    if (end == p + strlen(key))
        return 0;
    *v = x;
    return 1;
}

/* Customer ids with a "sent" line in the window [now - window, now], one
 * entry per send, sorted: the count of an id is its run length. A missing
 * outbox is an empty history. */
static tribe_status load_history(const char *path, int64_t now, int64_t window, int64_t **ids, int64_t *n)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    int64_t cap = 0;
    *ids = NULL;
    *n = 0;
    FILE *probe = fopen(path, "r");
    if (!probe)
        return errno == ENOENT ? TRIBE_OK : tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot read the outbox", path);
    fclose(probe);
    char *save = NULL;
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int64_t ts = 0, id = 0;
        if (!strstr(line, "\"status\": \"sent\"") || !line_i64(line, "\"ts\": ", &ts) ||
            !line_i64(line, "\"customer\": ", &id) || ts < now - window || ts > now)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            TRIBE_TRY(tribe_realloc((void **)ids, (size_t)cap * sizeof **ids));
        }
        (*ids)[(*n)++] = id;
    }
    if (*n > 0)
        qsort(*ids, (size_t)*n, sizeof **ids, cmp_i64);
cleanup:
    free(text);
    return st;
}

static int64_t history_count(const int64_t *ids, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t c = 0;
    while (lo + c < n && ids[lo + c] == id)
        c++;
    return c;
}

/* ---- a customer's fate ------------------------------------------------------------------ */

/* What becomes of one customer: sent (or dry run), or skipped for a reason.
 * tribe_campaign_send and tribe_campaign_count both ask gate_decide, so a
 * count is what the send then does. */
typedef enum { FATE_SEND = 0, FATE_NO_CONTACT, FATE_OPTED_OUT, FATE_SUPPRESSED, FATE_CAPPED, FATE_HOLDOUT } fate;
static const char *const FATE_REASON[] = {"", "no_contact", "opted_out", "suppressed", "capped", "control"};

typedef struct {
    const tribe_send_cfg *cfg;
    int email;     /* the channel is e-mail (else SMS) */
    int64_t now;   /* the send's clock: cap window and outbox lines */
    int bs;        /* recipients per request */
    tribe_suppression *sup; /* the suppression list, NULL: none */
    int64_t *hist; /* ids with a "sent" line in the cap window, sorted */
    int64_t nhist;
} gate;

static void gate_close(gate *g)
{
    tribe_suppression_destroy(&g->sup);
    free(g->hist);
    g->hist = NULL;
    g->nhist = 0;
}

/* Checks cfg and loads what the decisions need (suppression list, the
 * outbox history when capped). USAGE for a bad cfg, IO. */
static tribe_status gate_open(const tribe_send_cfg *cfg, gate *g)
{
    tribe_status st = TRIBE_OK;
    memset(g, 0, sizeof *g);
    if (!cfg->channel || (strcmp(cfg->channel, "email") && strcmp(cfg->channel, "sms")))
        return tribe_fail(TRIBE_ERR_USAGE, "campaign send: channel '%s' is not email or sms",
                          cfg->channel ? cfg->channel : "");
    if (!cfg->outbox || !cfg->run_id || !cfg->campaign || !*cfg->campaign)
        return tribe_fail(TRIBE_ERR_USAGE, "campaign send: outbox, run id and campaign are required");
    if (cfg->batch_size < 1 || cfg->batch_size > TRIBE_SEND_MAX_BATCH)
        return tribe_fail(TRIBE_ERR_USAGE, "campaign send: batch size %d is outside [1, %d]", cfg->batch_size,
                          TRIBE_SEND_MAX_BATCH);
    if (cfg->max_retries < 0 || cfg->max_per_customer < 0)
        return tribe_fail(TRIBE_ERR_USAGE, "campaign send: negative retries or cap");
    if (!(cfg->holdout >= 0 && cfg->holdout <= 1))
        return tribe_fail(TRIBE_ERR_USAGE, "campaign send: holdout share %g is outside [0, 1]", cfg->holdout);
    g->cfg = cfg;
    g->email = strcmp(cfg->channel, "email") == 0;
    g->now = cfg->now ? cfg->now : (int64_t)time(NULL);
    g->bs = g->email ? cfg->batch_size : 1; /* Twilio takes one message per request */
    if (cfg->suppress_path)
        TRIBE_TRY(tribe_suppression_read(cfg->suppress_path, NULL, &g->sup));
    if (cfg->max_per_customer > 0)
        TRIBE_TRY(load_history(cfg->outbox, g->now, cfg->window_seconds, &g->hist, &g->nhist));
cleanup:
    if (st != TRIBE_OK)
        gate_close(g);
    return st;
}

/* The one place a customer's fate is decided (k NULL: no contact row). */
static fate gate_decide(const gate *g, const tribe_contact *k, int64_t id)
{
    const char *addr = k ? (g->email ? k->email : k->phone) : NULL;
    if (!addr)
        return FATE_NO_CONTACT;
    if (!(g->email ? k->email_optin : k->sms_optin))
        return FATE_OPTED_OUT;
    if (tribe_suppression_has(g->sup, addr))
        return FATE_SUPPRESSED;
    if (g->cfg->max_per_customer > 0 && history_count(g->hist, g->nhist, id) >= g->cfg->max_per_customer)
        return FATE_CAPPED;
    /* The split comes last: control and treatment are drawn from the same
     * eligible customers, so the comparison is fair. */
    if (tribe_campaign_arm(g->cfg->campaign, id, g->cfg->holdout))
        return FATE_HOLDOUT;
    return FATE_SEND;
}

static int64_t *skip_counter(tribe_send_stats *st, fate f)
{
    return f == FATE_HOLDOUT      ? &st->holdout
           : f == FATE_NO_CONTACT ? &st->no_contact
           : f == FATE_OPTED_OUT ? &st->opted_out
           : f == FATE_SUPPRESSED ? &st->suppressed
                                  : &st->capped;
}

tribe_status tribe_campaign_count(const tribe_send_cfg *cfg, const int64_t *ids, int64_t n,
                                  const tribe_contacts *contacts, tribe_send_stats *stats)
{
    gate g;
    memset(stats, 0, sizeof *stats);
    tribe_status st = gate_open(cfg, &g);
    if (st != TRIBE_OK)
        return st;
    stats->customers = n;
    for (int64_t i = 0; i < n; i++) {
        fate f = gate_decide(&g, tribe_contacts_find(contacts, ids[i]), ids[i]);
        if (f == FATE_SEND)
            stats->dry_run++;
        else
            (*skip_counter(stats, f))++;
    }
    stats->requests = (stats->dry_run + g.bs - 1) / g.bs;
    gate_close(&g);
    return TRIBE_OK;
}

/* ---- the send ---------------------------------------------------------------------------- */

typedef struct {
    const tribe_send_cfg *cfg;
    int64_t now;
    FILE *outbox;
    tribe_send_stats *stats;
    tribe_sbuf line, body;
    int email;
    const tribe_contact **batch; /* [cfg->batch_size] */
    int64_t *batch_ids;
    const char **batch_text; /* [cfg->batch_size] each one's id text (cfg->id_text) or NULL */
    int64_t nb;
} sender;

/* One outbox line about customer id (its text id_text with string ids, else NULL). */
static tribe_status outbox_line(sender *s, const tribe_contact *k, int64_t id, const char *id_text,
                                const char *request, int attempt, const char *status, long http, const char *reason)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf *b = &s->line;
    const char *to = k ? (s->email ? k->email : k->phone) : NULL;
    b->len = 0;
    TRIBE_TRY(tribe_sbuf_printf(b, "{\"ts\": %lld, \"run_id\": ", (long long)s->now));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->cfg->run_id));
    TRIBE_TRY(tribe_sbuf_printf(b, ", \"segment\": %d, \"campaign\": ", s->cfg->segment));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->cfg->campaign));
    TRIBE_TRY(tribe_sbuf_printf(b, ", \"channel\": \"%s\", \"customer\": %lld, ", s->cfg->channel, (long long)id));
    if (id_text) { /* "customer" stays the key: the frequency cap reads it back */
        TRIBE_TRY(tribe_sbuf_add(b, "\"customer_id\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, id_text));
        TRIBE_TRY(tribe_sbuf_add(b, ", "));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "\"to\": "));
    if (to)
        TRIBE_TRY(tribe_sbuf_json_str(b, to));
    else
        TRIBE_TRY(tribe_sbuf_add(b, "null"));
    TRIBE_TRY(tribe_sbuf_add(b, ", \"request\": "));
    if (request)
        TRIBE_TRY(tribe_sbuf_json_str(b, request));
    else
        TRIBE_TRY(tribe_sbuf_add(b, "null"));
    TRIBE_TRY(tribe_sbuf_printf(b, ", \"attempt\": %d, \"status\": \"%s\", \"http\": %ld, \"reason\": ", attempt,
                                status, http));
    TRIBE_TRY(tribe_sbuf_json_str(b, reason ? reason : ""));
    TRIBE_TRY(tribe_sbuf_add(b, "}\n"));
    if (fwrite(b->p, 1, b->len, s->outbox) != b->len) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot append to the outbox", s->cfg->outbox);
        goto cleanup;
    }
    s->stats->outbox_lines++;
cleanup:
    return st;
}

static const char *first_name_of(const tribe_contact *k) { return k->first_name ? k->first_name : "there"; }

static tribe_status email_body(sender *s)
{
    tribe_status st = TRIBE_OK;
    const tribe_send_cfg *cfg = s->cfg;
    tribe_sbuf *b = &s->body;
    char seg[16];
    snprintf(seg, sizeof seg, "%d", cfg->segment);
    b->len = 0;
    TRIBE_TRY(tribe_sbuf_add(b, "{\"personalizations\": ["));
    for (int64_t i = 0; i < s->nb; i++) {
        const tribe_contact *k = s->batch[i];
        TRIBE_TRY(tribe_sbuf_add(b, i ? ", {\"to\": [{\"email\": " : "{\"to\": [{\"email\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, k->email));
        TRIBE_TRY(tribe_sbuf_add(b, "}], \"substitutions\": {\"{{first_name}}\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, first_name_of(k)));
        char idb[TRIBE_ID_BUF];
        tribe_id_format(k->id_text, k->id, idb);
        TRIBE_TRY(tribe_sbuf_add(b, ", \"{{customer_id}}\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, idb));
        TRIBE_TRY(tribe_sbuf_add(b, "}, \"custom_args\": {\"customer_id\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, idb));
        TRIBE_TRY(tribe_sbuf_add(b, ", \"run_id\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, cfg->run_id));
        TRIBE_TRY(tribe_sbuf_printf(b, ", \"segment\": \"%s\", \"campaign\": ", seg));
        TRIBE_TRY(tribe_sbuf_json_str(b, cfg->campaign));
        TRIBE_TRY(tribe_sbuf_add(b, "}}"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "], \"from\": {\"email\": "));
    TRIBE_TRY(tribe_sbuf_json_str(b, cfg->from_email));
    TRIBE_TRY(tribe_sbuf_add(b, ", \"name\": "));
    TRIBE_TRY(tribe_sbuf_json_str(b, cfg->from_name));
    TRIBE_TRY(tribe_sbuf_add(b, "}, \"subject\": "));
    TRIBE_TRY(tribe_sbuf_json_str(b, cfg->subject));
    TRIBE_TRY(tribe_sbuf_add(b, ", \"content\": [{\"type\": \"text/plain\", \"value\": "));
    TRIBE_TRY(tribe_sbuf_json_str(b, cfg->body));
    TRIBE_TRY(tribe_sbuf_add(b, "}], \"categories\": [\"tribe\"], \"mail_settings\": {\"sandbox_mode\": {\"enable\": "));
    TRIBE_TRY(tribe_sbuf_add(b, cfg->live ? "false" : "true"));
    TRIBE_TRY(tribe_sbuf_add(b, "}}}"));
cleanup:
    return st;
}

static tribe_status sms_body(sender *s)
{
    tribe_status st = TRIBE_OK;
    const tribe_contact *k = s->batch[0];
    tribe_sbuf text = {0};
    tribe_sbuf *b = &s->body;
    b->len = 0;
    TRIBE_TRY(substitute(&text, s->cfg->sms_body ? s->cfg->sms_body : s->cfg->body, first_name_of(k), k));
    TRIBE_TRY(tribe_sbuf_add(b, "To="));
    TRIBE_TRY(form_str(b, k->phone));
    TRIBE_TRY(tribe_sbuf_add(b, "&From="));
    TRIBE_TRY(form_str(b, s->cfg->from_phone));
    TRIBE_TRY(tribe_sbuf_add(b, "&Body="));
    TRIBE_TRY(form_str(b, text.p ? text.p : ""));
cleanup:
    tribe_sbuf_free(&text);
    return st;
}

/* The e-mail goes out with SendGrid substitutions of the same two fields
 * (email_body above), the SMS substituted here (sms_body): a preview runs
 * the SMS path's substitute on both, with the same values. */
tribe_status tribe_campaign_render(const tribe_campaign_message *m, const char *channel, const tribe_contact *c,
                                   char **subject, char **body)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf sb = {0}, bb = {0};
    int email = channel && strcmp(channel, "email") == 0;
    *subject = *body = NULL;
    if (!m || !c || (!email && (!channel || strcmp(channel, "sms") != 0)))
        return tribe_fail(TRIBE_ERR_USAGE, "campaign render: a message, a contact and channel email or sms are "
                                           "required (channel '%s')",
                          channel ? channel : "");
    if (email) {
        TRIBE_TRY(substitute(&sb, m->subject, first_name_of(c), c));
        TRIBE_TRY(tribe_sbuf_take(&sb, subject));
        TRIBE_TRY(substitute(&bb, m->body, first_name_of(c), c));
    } else
        TRIBE_TRY(substitute(&bb, m->sms ? m->sms : m->body, first_name_of(c), c));
    TRIBE_TRY(tribe_sbuf_take(&bb, body));
cleanup:
    if (st != TRIBE_OK) {
        free(*subject);
        *subject = NULL;
    }
    tribe_sbuf_free(&sb);
    tribe_sbuf_free(&bb);
    return st;
}

static void pause_seconds(double sec)
{
    if (sec <= 0)
        return;
    struct timespec ts = {(time_t)sec, (long)((sec - floor(sec)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static tribe_status flush(sender *s)
{
    tribe_status st = TRIBE_OK;
    const tribe_send_cfg *cfg = s->cfg;
    char key[65], url[2048], sig[TRIBE_WEBHOOK_SIG_MAX];
    char h_key[128], h_wid[128], h_wts[64], h_wsig[128], userpwd[512];
    const char *headers[8];
    if (s->nb == 0)
        return TRIBE_OK;
    tribe_campaign_batch_key(cfg->run_id, cfg->segment, cfg->campaign, cfg->channel, s->batch_ids, s->nb, key);
    TRIBE_TRY(s->email ? email_body(s) : sms_body(s));
    s->stats->requests++;
    if (!cfg->endpoint && !cfg->live) {
        for (int64_t i = 0; i < s->nb; i++)
            TRIBE_TRY(outbox_line(s, s->batch[i], s->batch[i]->id, s->batch_text[i], key, 0, "dry_run", 0,
                                  "no endpoint"));
        s->stats->dry_run += s->nb;
        s->nb = 0;
        return TRIBE_OK;
    }
    const char *base = cfg->endpoint ? cfg->endpoint : s->email ? "https://api.sendgrid.com" : "https://api.twilio.com";
    if (s->email)
        TRIBE_TRY(tribe_fmt(url, sizeof url, "%s/v3/mail/send", base));
    else
        TRIBE_TRY(tribe_fmt(url, sizeof url, "%s/2010-04-01/Accounts/%s/Messages.json", base, cfg->twilio_sid));
    int nh = 0;
    headers[nh++] = s->email ? "Content-Type: application/json" : "Content-Type: application/x-www-form-urlencoded";
    snprintf(h_key, sizeof h_key, "Idempotency-Key: %s", key);
    headers[nh++] = h_key;
    if (!s->email && cfg->api_key)
        TRIBE_TRY(tribe_fmt(userpwd, sizeof userpwd, "%s:%s", cfg->twilio_sid, cfg->api_key));
    if (cfg->signing_secret) {
        /* webhook-id is the batch key: a retried request carries the same id,
         * timestamp and signature, so the receiver can deduplicate on it too. */
        TRIBE_TRY(tribe_webhook_sign(cfg->signing_secret, key, s->now, s->body.p, s->body.len, sig));
        snprintf(h_wid, sizeof h_wid, "webhook-id: %s", key);
        snprintf(h_wts, sizeof h_wts, "webhook-timestamp: %lld", (long long)s->now);
        snprintf(h_wsig, sizeof h_wsig, "webhook-signature: %s", sig);
        headers[nh++] = h_wid;
        headers[nh++] = h_wts;
        headers[nh++] = h_wsig;
    }
    headers[nh] = NULL;

    const char *outcome = "failed";
    for (int attempt = 1; attempt <= cfg->max_retries + 1; attempt++) {
        tribe_http_result resp;
        tribe_http_request rq = {.url = url, .headers = headers, .bearer = s->email ? cfg->api_key : NULL,
                                 .userpwd = !s->email && cfg->api_key ? userpwd : NULL,
                                 .body = s->body.p, .len = s->body.len, .timeout_s = cfg->timeout_seconds};
        tribe_status hs = tribe_http_fetch(&rq, &resp);
        s->stats->attempts++;
        int ok = hs == TRIBE_OK && resp.status >= 200 && resp.status < 300;
        int retryable = hs != TRIBE_OK || resp.status == 429 || resp.status >= 500;
        int last = ok || !retryable || attempt == cfg->max_retries + 1;
        const char *status = ok ? "sent" : last ? "failed" : "retry";
        char reason[600];
        if (hs != TRIBE_OK)
            snprintf(reason, sizeof reason, "%s", tribe_errmsg());
        else
            snprintf(reason, sizeof reason, "%.500s", ok || !resp.body ? "" : resp.body);
        long code = resp.status;
        double retry_after = resp.retry_after_s;
        tribe_http_result_free(&resp);
        for (int64_t i = 0; i < s->nb; i++)
            TRIBE_TRY(outbox_line(s, s->batch[i], s->batch[i]->id, s->batch_text[i], key, attempt, status, code,
                                  reason));
        if (last) {
            outcome = status;
            if (!ok)
                TRIBE_WARN("campaign: request %.12s... for %lld recipient(s) failed after %d attempt(s): %s", key,
                           (long long)s->nb, attempt, reason);
            break;
        }
        /* Retry-After when the server gives one (capped), else exponential
         * backoff with a deterministic jitter of up to 25%. */
        double wait = cfg->retry_base_seconds * pow(2.0, attempt - 1) *
                      (1 + 0.25 * tribe_rng_unif(tribe_fnv1a(TRIBE_FNV_INIT, key, 64), 7, (uint64_t)attempt));
        if (retry_after >= 0)
            wait = retry_after < 60 ? retry_after : 60;
        pause_seconds(wait);
    }
    if (strcmp(outcome, "sent") == 0)
        s->stats->sent += s->nb;
    else
        s->stats->failed += s->nb;
    s->nb = 0;
cleanup:
    return st;
}

static void progress(const tribe_send_cfg *cfg, int64_t done, int64_t total)
{
    if (cfg->progress)
        cfg->progress(cfg->progress_ctx, done, total);
}

static const char *id_text_at(const tribe_send_cfg *cfg, int64_t i)
{
    return cfg->id_text ? cfg->id_text + (size_t)i * (size_t)cfg->id_width : NULL;
}

tribe_status tribe_campaign_send(const tribe_send_cfg *cfg, const int64_t *ids, int64_t n,
                                 const tribe_contacts *contacts, tribe_send_stats *stats)
{
    tribe_status st = TRIBE_OK;
    sender s = {0};
    gate g;
    memset(stats, 0, sizeof *stats);
    TRIBE_TRY(gate_open(cfg, &g));
    s.cfg = cfg;
    s.stats = stats;
    s.email = g.email;
    s.now = g.now;
    TRIBE_TRY(tribe_calloc((void **)&s.batch, (size_t)g.bs, sizeof *s.batch));
    TRIBE_TRY(tribe_calloc((void **)&s.batch_ids, (size_t)g.bs, sizeof *s.batch_ids));
    TRIBE_TRY(tribe_calloc((void **)&s.batch_text, (size_t)g.bs, sizeof *s.batch_text));
    s.outbox = fopen(cfg->outbox, "a");
    if (!s.outbox) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open the outbox for appending", cfg->outbox);
        goto cleanup;
    }
    stats->customers = n;
    for (int64_t i = 0; i < n; i++) {
        const tribe_contact *k = tribe_contacts_find(contacts, ids[i]);
        fate f = gate_decide(&g, k, ids[i]);
        if (f != FATE_SEND) {
            (*skip_counter(stats, f))++;
            const char *status = f == FATE_HOLDOUT ? "holdout" : "skipped";
            TRIBE_TRY(outbox_line(&s, k, ids[i], id_text_at(cfg, i), NULL, 0, status, 0, FATE_REASON[f]));
            continue;
        }
        s.batch[s.nb] = k;
        s.batch_text[s.nb] = id_text_at(cfg, i);
        s.batch_ids[s.nb++] = ids[i];
        if (s.nb == g.bs) {
            TRIBE_TRY(flush(&s));
            progress(cfg, i + 1, n);
        }
    }
    TRIBE_TRY(flush(&s));
    progress(cfg, n, n);
    if (stats->failed > 0)
        st = tribe_fail(TRIBE_ERR_ENV, "campaign send: %lld customer(s) not delivered after %d retries (see %s)",
                        (long long)stats->failed, cfg->max_retries, cfg->outbox);
cleanup:
    if (s.outbox && fclose(s.outbox) != 0 && st == TRIBE_OK)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot close the outbox", cfg->outbox);
    tribe_sbuf_free(&s.line);
    tribe_sbuf_free(&s.body);
    free(s.batch);
    free(s.batch_ids);
    free(s.batch_text);
    gate_close(&g);
    return st;
}
