/* tribe/campaign.h: from segments to campaigns (docs/campaigns.md).
 *
 *  - The plan: a rule table maps each segment (RFM name family, value,
 *    device mix) to a campaign, channel, tone, timing and expected value.
 *  - Dispatch: SendGrid v3 mail/send- and Twilio Messages-shaped requests for
 *    one segment's customers, batched, idempotent, signed, logged to an
 *    outbox (JSON lines); skipped customers are counted by reason.
 *  - Small crypto: SHA-256, HMAC-SHA256, Standard Webhooks signatures (base64: tribe/base64.h).
 *
 * Usage:
 *     tribe_campaign_plan *plan = NULL;
 *     TRIBE_TRY(tribe_campaign_plan_build(segs, rules, n_rules, &plan));
 *     TRIBE_TRY(tribe_campaign_plan_csv("out/campaign_plan.csv", plan, segs->k));
 *     tribe_campaign_plan_destroy(&plan);
 *
 *     tribe_send_cfg cfg; tribe_send_cfg_defaults(&cfg); cfg.endpoint = "http://127.0.0.1:8025"; ...
 *     tribe_send_stats stats;
 *     TRIBE_TRY(tribe_campaign_send(&cfg, ids, n, contacts, &stats));
 *
 * Ownership: a plan array is owned by the caller (plan_destroy frees it);
 * tribe_contacts owns its strings; send borrows everything.
 * Not collective: rank 0 only (plans, HTTP). Nothing here keeps mutable
 * state between calls, so `tribe serve` calls it from several threads at
 * once (each with its own cfg, stats and outputs; two sends appending to one
 * outbox at once are the caller's to serialise).
 */
#ifndef TRIBE_CAMPAIGN_H
#define TRIBE_CAMPAIGN_H

#include "tribe/base64.h"
#include "tribe/core.h"
#include "tribe/spec.h"
#include "tribe/sbuf.h"
#include "tribe/segment.h"

/* ---- the plan ---------------------------------------------------------- */

/* One campaign rule of the job spec's "campaign.rules" array
 * (docs/campaigns.md). Fields left out are NULL / NaN and take the matching
 * built-in rule's value. */
typedef struct {
    char *segment_match;  /* segment name family ("At Risk"), prefix match, case-insensitive; "*" = any */
    char *campaign;       /* e.g. "reactivation offer" */
    char *channel;        /* "email", "sms", "push" or "auto" (from the device mix) */
    char *tone;
    char *timing;
    double response_rate; /* in [0, 1]; NaN = the built-in rule's */
} tribe_campaign_rule;

/* Reads "rules" of the spec object c (the job's "campaign"; tribe/spec.h)
 * into *rules[*n] (none: *rules NULL, *n 0). Strict: an unknown field, a
 * wrong type, a missing segment_match, a channel outside email, sms, push,
 * auto or a rate outside [0, 1] is USAGE naming "campaign.rules[i].field".
 * Not collective. */
tribe_status tribe_campaign_rules_read(tribe_spec *c, tribe_campaign_rule **rules, int *n);
/* Frees the n rules and the array; accepts NULL. */
void tribe_campaign_rules_free(tribe_campaign_rule *rules, int n);

typedef struct {
    int segment;              /* segment id */
    char segment_name[64];
    char status[64];          /* RFM name family: the name without a " 2" suffix */
    int64_t size;
    char campaign[96];
    char channel[16];         /* "email", "sms" or "push" */
    char channel_basis[96];   /* why: "rule" or "device mix: app 41%" */
    char tone[96];
    char timing[128];
    double response_rate;     /* assumed, from the rule */
    double order_value;       /* value signal per responding customer (see value_basis) */
    char value_basis[48];     /* "mean monetary / mean frequency", ... */
    double mean_monetary, median_monetary, revenue_share; /* NaN when absent */
    double value_index;       /* revenue_share / share: spend per customer against the base; NaN when absent */
    char value_tier[8];       /* "high" (index >= 1.5), "mid", "low" (< 0.67), "unknown" */
    double expected_value;    /* size * response_rate * order_value */
    int priority;             /* 1 = highest expected value */
    char rule[48];            /* "campaign.rules[2]", "built-in: At Risk" or "built-in: At Risk (high value)" */
    char currency[4];         /* ISO 4217 code of order_value, mean/median_monetary, expected_value */
    /* What to offer (the offers stage, docs/offers.md): the item the segment
     * buys most above the base, "" and NaN without one. */
    char offer[96];
    double offer_lift;
    double churn_risk;        /* the segment's mean churn risk (docs/churn.md), NaN without a churn model */
} tribe_campaign_plan;

/* 1 when `match` selects a segment named `name`: "*" matches every name;
 * otherwise the match must equal the name's family (the name without a
 * trailing " <digits>"), ignoring case: "At Risk" matches "At Risk" and
 * "At Risk 2", not "At Risky". */
int tribe_campaign_rule_matches(const char *match, const char *segment_name);
/* Channel for a device level: app -> push, mobile -> sms, desktop and
 * tablet -> email, anything else -> email. */
const char *tribe_campaign_channel_of_device(const char *device);

/* Builds one plan row per segment (array of s->k, in segment order). Job
 * rules are tried first in order, then the built-in rules; the first match
 * wins and fields a job rule leaves out come from the built-in rule for the
 * segment. A high-value lapsed segment (About to Sleep, At Risk, Hibernating,
 * Lost with value tier "high") without a job rule gets the "Can't Lose Them"
 * treatment at its own family's response rate.
 * Errors: NOMEM; INPUT when s->k < 1. */
tribe_status tribe_campaign_plan_build(const tribe_segments *s, const tribe_campaign_rule *rules, int n_rules,
                                       tribe_campaign_plan **out);
/* The order value of every segment is its mean predicted lifetime value when
 * the run fitted the LTV model (seg.ltv_mean finite; value_basis "mean
 * predicted LTV"), else mean monetary / mean frequency, else the mean
 * average order value. */
void tribe_campaign_plan_destroy(tribe_campaign_plan **p);
/* campaign_plan.csv (RFC 4180, CRLF; columns in docs/campaigns.md). */
tribe_status tribe_campaign_plan_csv_text(const tribe_campaign_plan *p, int k, char **out);
tribe_status tribe_campaign_plan_csv(const char *path, const tribe_campaign_plan *p, int k);

/* ---- crypto ------------------------------------------------------------ */

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[64];
    size_t fill;
} tribe_sha256_ctx;
void tribe_sha256_init(tribe_sha256_ctx *c);
void tribe_sha256_update(tribe_sha256_ctx *c, const void *data, size_t len);
void tribe_sha256_final(tribe_sha256_ctx *c, uint8_t out[32]);
void tribe_sha256(const void *data, size_t len, uint8_t out[32]);
void tribe_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len, uint8_t out[32]);
/* out: 2n + 1 chars, lower-case hex. */
void tribe_hex(const uint8_t *in, size_t n, char *out);

/* Standard Webhooks: signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
 * The secret is "whsec_<base64 key>" or, otherwise, the key's own bytes. */
#define TRIBE_WEBHOOK_SIG_MAX 64
tribe_status tribe_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                                size_t len, char out[TRIBE_WEBHOOK_SIG_MAX]);
/* TRIBE_OK when one of the space-separated signatures of the header matches
 * and the timestamp is within `tolerance` seconds of `now` (tolerance <= 0:
 * not checked). INPUT naming the message otherwise. */
tribe_status tribe_webhook_verify(const char *secret, const char *msg_id, const char *timestamp, const char *body,
                                  size_t len, const char *signature_header, int64_t now, int64_t tolerance);

/* ---- contacts ---------------------------------------------------------- */

typedef struct {
    int64_t id;        /* the customer's id: the number, or a string id's key (tribe/id.h) */
    char *id_text;     /* the CustomerID as written when it is not a number (a string id), else NULL */
    char *email;       /* NULL when the customer has none */
    char *phone;       /* E.164, NULL when none */
    char *first_name;  /* optional FirstName column, NULL otherwise */
    int email_optin, sms_optin;
} tribe_contact;

typedef struct {
    int64_t n;
    tribe_contact *c; /* [n], sorted by id */
} tribe_contacts;

/* Reads contacts.csv (CustomerID,Email,Phone,EmailOptIn,SmsOptIn[,FirstName]).
 * A CustomerID is a number (also "17850.0") or a string id (tribe/id.h).
 * INPUT naming file and line on a bad id, opt-in flag or duplicate id. */
tribe_status tribe_contacts_read(const char *path, tribe_contacts **out);
const tribe_contact *tribe_contacts_find(const tribe_contacts *cs, int64_t id);
void tribe_contacts_destroy(tribe_contacts **cs);

/* ---- suppression --------------------------------------------------------- */

/* A suppression list: addresses nobody may send to or upload (docs/campaigns.md). */
typedef struct tribe_suppression tribe_suppression;
/* Reads a suppression file: one e-mail or phone number a line, '#' lines and
 * blank lines skipped. Each entry is kept trimmed and lower-cased and, where
 * it parses, also as its canonical e-mail (tribe_audience_email, Google's
 * rule: dots of a Gmail local part removed) and its E.164 phone
 * (tribe_audience_phone with calling_code for national numbers; NULL: those
 * stay as written), so "J.Doe@Gmail.com" also suppresses "jdoe@gmail.com"
 * and "+44 7700 900123" also "+447700900123". IO, NOMEM. Not collective. */
tribe_status tribe_suppression_read(const char *path, const char *calling_code, tribe_suppression **out);
/* 1 when addr, trimmed and lower-cased or in its canonical e-mail or E.164
 * form, is on the list; 0 otherwise (a NULL list or addr included). */
int tribe_suppression_has(const tribe_suppression *s, const char *addr);
/* Frees the list and sets *s NULL; accepts NULL. */
void tribe_suppression_destroy(tribe_suppression **s);

/* ---- audiences for ad platforms ------------------------------------------ */

/* The upload files of Google Ads Customer Match and Meta custom audiences:
 * one row per customer, e-mail and phone normalised as the platform says,
 * then SHA-256 in lower-case hex (docs/campaigns.md, "Audiences"). */
typedef enum { TRIBE_AUDIENCE_GOOGLE = 0, TRIBE_AUDIENCE_META = 1 } tribe_audience_platform;
#define TRIBE_AUDIENCE_ADDR_MAX 256 /* a normalised address fits in this, NUL included */

/* Normalises an e-mail into out[TRIBE_AUDIENCE_ADDR_MAX]: surrounding ASCII
 * white space removed, ASCII letters lower-cased, and for Google the dots of
 * the local part of a gmail.com or googlemail.com address removed. Returns 1,
 * or 0 (out "") when the address is not usable: not exactly one '@', an empty
 * local part, a domain without a dot or with an empty label, white space,
 * control bytes or one of ",;:<>()[]\"" inside, or longer than 254 bytes. */
int tribe_audience_email(tribe_audience_platform p, const char *raw, char *out);
/* Normalises a phone number to E.164 into out[TRIBE_AUDIENCE_ADDR_MAX]:
 * spaces, '-', '.', '/', '(' and ')' dropped; a leading '+' or "00" starts the
 * country code (a "(0)" after it, "+44 (0)20 ...", is dropped); a national
 * number (neither) takes calling_code ("44") after one leading trunk '0' is
 * dropped, and is unusable without calling_code.
 * Usable: 8 to 15 digits in all, the first not 0, nothing else (letters, an
 * extension, a second '+'). Google: "+<digits>"; Meta: "<digits>" (Meta's
 * rule: symbols and leading zeros removed, the country code kept). Returns 1,
 * or 0 (out ""). */
int tribe_audience_phone(tribe_audience_platform p, const char *raw, const char *calling_code, char *out);
/* out = lower-case hex SHA-256 of the NUL-terminated s. */
void tribe_audience_hash(const char *s, char out[65]);

typedef struct {
    /* every customer is in exactly one of these */
    int64_t customers, exported, no_contact, opted_out, suppressed, invalid;
    int64_t emails, phones;                 /* identifiers written */
    int64_t invalid_emails, invalid_phones; /* opted-in, unsuppressed addresses that do not normalise */
} tribe_audience_stats;

/* The upload CSV of customers ids[n] for platform p (header Email,Phone for
 * Google, email,phone for Meta; CRLF) appended to out. Per customer, in this
 * order: no contacts row or no address -> no_contact; an address on the
 * suppression list (sup, may be NULL) -> suppressed, with every other address
 * of the customer; then the e-mail is used only with EmailOptIn and the phone
 * only with SmsOptIn, each when it normalises; a customer with at least one
 * address used -> exported (one row, an empty cell for the other), else
 * invalid when an opted-in address did not normalise, else opted_out.
 * Nothing but hashes is written. NOMEM. Not collective. */
tribe_status tribe_audience_csv(tribe_audience_platform p, const int64_t *ids, int64_t n,
                                const tribe_contacts *contacts, const tribe_suppression *sup,
                                const char *calling_code, tribe_sbuf *out, tribe_audience_stats *stats);

/* ---- the message of a run's segment ------------------------------------- */

/* What a segment's campaign says, with the merge fields {{first_name}} and
 * {{customer_id}} still in: the persona's e-mail subject, its body (after a
 * "Hi {{first_name}}," greeting unless it greets by itself) and an SMS made
 * of its tagline ("Hi {{first_name}}, <tagline> Reply STOP to opt out."). */
typedef struct {
    char *subject, *body, *sms;
} tribe_campaign_message;

/* The message of the segment whose persistent id (docs/resegmentation.md;
 * personas.json's segment_id) is segment_id, from run_dir/personas.json.
 * IO when the file cannot be read; INPUT when it is not an array of
 * personas, has no persona of that segment or lacks its e-mail or tagline;
 * NOMEM. On error *m is left empty. Not collective; no shared state. */
tribe_status tribe_campaign_message_read(const char *run_dir, int64_t segment_id, tribe_campaign_message *m);
/* The message of one persona given as JSON object text (a saved persona
 * version, docs/dashboard.md); `what` names it in errors. As
 * tribe_campaign_message_read otherwise. */
tribe_status tribe_campaign_message_parse(const char *persona_json, const char *what, int64_t segment_id,
                                          tribe_campaign_message *m);
/* Frees the strings and zeroes *m; accepts NULL. */
void tribe_campaign_message_clear(tribe_campaign_message *m);
/* The campaign name of that segment's row of run_dir/campaign_plan.csv
 * into out (truncated to cap). IO, INPUT (no row for the segment, a missing
 * column). Not collective; no shared state. */
tribe_status tribe_campaign_plan_name(const char *run_dir, int64_t segment_id, char *out, size_t cap);
/* The subject and body customer c receives on channel "email" or "sms",
 * merge fields filled exactly as tribe_campaign_send fills them (first name
 * or "there", the customer id): e-mail: *subject and *body; SMS: *subject
 * NULL and *body the SMS text (m->sms, else m->body). Caller frees both.
 * USAGE for another channel or a NULL message or contact; NOMEM. */
tribe_status tribe_campaign_render(const tribe_campaign_message *m, const char *channel, const tribe_contact *c,
                                   char **subject, char **body);

/* ---- dispatch ---------------------------------------------------------- */

#define TRIBE_SEND_MAX_BATCH 1000

typedef struct {
    const char *run_id;
    int segment;
    const char *campaign;         /* campaign name (the idempotency key and the cap use it) */
    const char *channel;          /* "email" or "sms" */
    const char *endpoint;         /* base URL; NULL: dry run (outbox only) unless live */
    int live;                     /* 0: SendGrid sandbox_mode on; live without endpoint: the real APIs */
    const char *outbox;           /* JSON-lines log, appended (required) */
    const char *signing_secret;   /* sign request bodies when set */
    const char *api_key;          /* SendGrid bearer / Twilio auth token; never logged */
    const char *from_email, *from_name, *from_phone, *twilio_sid;
    const char *subject, *body;   /* e-mail; body also used for SMS when sms_body is NULL */
    const char *sms_body;
    int batch_size;               /* 1..TRIBE_SEND_MAX_BATCH (e-mail); SMS is one per request */
    int max_per_customer;         /* 0 = no cap */
    int64_t window_seconds;       /* cap window */
    int max_retries;
    double retry_base_seconds;
    double timeout_seconds;
    int64_t now;                  /* unix seconds (tests fix it); 0 = time(NULL) */
    const char *suppress_path;    /* file of e-mails/phones, one a line; NULL = none */
    /* Called by tribe_campaign_send after each request (a batch of e-mails,
     * one SMS) with the customers decided so far of `total`, and once at the
     * end with done == total; NULL = none. It runs on the sending thread and
     * must not call back into the send. */
    void (*progress)(void *ctx, int64_t done, int64_t total);
    void *progress_ctx;
    /* String ids (tribe/id.h): the text of ids[i] at id_text + i * id_width,
     * written to each outbox line as "customer_id"; NULL with integer ids. */
    const char *id_text;
    int id_width;
    /* Holdout (docs/experiments.md): the share in [0, 1] of the customers
     * who pass every check (contact, consent, suppression, cap) kept as a
     * control group: never sent, an outbox line with status "holdout" each.
     * The arm is tribe_campaign_arm(campaign, id); 0 = no control group. */
    double holdout;
} tribe_send_cfg;

typedef struct {
    int64_t customers;            /* the segment's customers */
    int64_t sent;                 /* accepted by the endpoint (2xx) */
    int64_t dry_run;              /* written to the outbox only */
    int64_t no_contact, opted_out, suppressed, capped, failed;
    int64_t holdout;              /* eligible, kept as the control group (cfg.holdout) */
    int64_t requests, attempts;   /* distinct requests, HTTP attempts (with retries) */
    int64_t outbox_lines;
} tribe_send_stats;

void tribe_send_cfg_defaults(tribe_send_cfg *cfg);
/* Sends the campaign to customers ids[n]. Every customer ends in exactly one
 * of sent, dry_run, no_contact, opted_out, suppressed, capped, failed.
 * Errors: USAGE for a bad cfg; IO for the outbox or suppression file; ENV
 * when requests still fail after the retries (stats and outbox say which). */
tribe_status tribe_campaign_send(const tribe_send_cfg *cfg, const int64_t *ids, int64_t n,
                                 const tribe_contacts *contacts, tribe_send_stats *stats);
/* What tribe_campaign_send would do with the same arguments, without
 * sending or writing anything: stats as the send fills them for a dry run
 * (customers, no_contact, opted_out, suppressed, capped by the outbox
 * history, and the customers it would send to in dry_run, whatever the
 * endpoint; requests = the requests they need), sent, failed, attempts and
 * outbox_lines 0. The send and the count share the one function that
 * decides a customer's fate. Errors: those of the send before it sends
 * (USAGE for a bad cfg; IO for the suppression file or the outbox history).
 * progress is not called. */
tribe_status tribe_campaign_count(const tribe_send_cfg *cfg, const int64_t *ids, int64_t n,
                                  const tribe_contacts *contacts, tribe_send_stats *stats);
/* The arm of customer id (its int64 key) in a campaign with control share
 * holdout: 1 (control) when the first 8 bytes of SHA-256("campaign|id"), read
 * big-endian as u / 2^64, are below holdout; else 0 (treatment). A pure
 * function: the same customer in the same campaign is always in the same
 * arm; different campaign names draw independently. holdout <= 0: never
 * control; >= 1: always. */
int tribe_campaign_arm(const char *campaign, int64_t id, double holdout);
/* Idempotency key of a batch: hex SHA-256 of "run|segment|campaign|channel|id,id,...". */
void tribe_campaign_batch_key(const char *run_id, int segment, const char *campaign, const char *channel,
                              const int64_t *ids, int64_t n, char out[65]);

#endif
