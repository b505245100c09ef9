/* tribe campaign send | verify-webhook: dispatch one segment's campaign
 * (docs/campaigns.md). Rank 0 reads, decides and talks HTTP; the other ranks
 * only take part in opening results.h5 (collective in HDF5) and in the final
 * agreement, so the command works under mpiexec with any number of ranks. */
#include "cli.h"
#include "tribe/campaign.h"
#include "tribe/h5.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char USAGE[] =
    "usage: tribe campaign send --results DIR --segment ID --contacts contacts.csv --channel email|sms\n"
    "                           [--endpoint URL] [--live] [--outbox FILE] [--suppress FILE]\n"
    "                           [--max-per-customer N] [--window-days D] [--campaign NAME] [--batch-size N]\n"
    "                           [--retries N] [--retry-base-ms MS] [--timeout S] [--from EMAIL]\n"
    "                           [--from-phone E164] [--twilio-sid SID] [--signing-secret-env VAR]\n"
    "                           [--api-key-env VAR] [--holdout SHARE]\n"
    "       tribe campaign measure --outbox FILE --transactions FILE [--campaign NAME] [--window-days N]\n"
    "                           [--cost-per-message X] [--confidence C] [--mapping FILE] [--out DIR]\n"
    "       tribe campaign verify-webhook --secret-env VAR --id ID --timestamp TS --signature SIG\n"
    "                           [--body FILE] [--tolerance S]\n"
    "       tribe campaign audience --results DIR --contacts contacts.csv --platform google|meta|all\n"
    "                           (--segment ID ... | --all) --out OUTDIR [--suppress FILE] [--country-code CC]\n\n"
    "send: sends segment ID of the run in DIR (results.h5, personas.json, campaign_plan.csv) to its\n"
    "customers: SendGrid v3 /v3/mail/send batches of at most 1,000 (e-mail) or Twilio Messages requests\n"
    "(SMS) to --endpoint. Without --endpoint and --live it is a dry run (outbox only); without --live\n"
    "SendGrid's sandbox_mode is on. Every attempt and every skipped customer (no contact, opted out,\n"
    "suppressed, capped) is a line of the outbox (default DIR/outbox.jsonl). Rank 0 sends.\n"
    "  --campaign NAME          campaign name (default: the segment's row of campaign_plan.csv)\n"
    "  --max-per-customer N     frequency cap: at most N sends per customer in the window (0 = off)\n"
    "  --window-days D          cap window in days (default 7)\n"
    "  --signing-secret-env VAR sign request bodies (Standard Webhooks) with the secret in $VAR\n"
    "  --api-key-env VAR        SendGrid API key / Twilio auth token in $VAR (never logged)\n"
    "  --holdout SHARE          keep this share (0..1, default 0) of the eligible customers as a control\n"
    "                           group: never sent, outbox status \"holdout\"; the arm is a hash of the\n"
    "                           campaign name and the customer id (docs/experiments.md)\n\n"
    "measure: compares the treatment (sent) and control (holdout) customers of one campaign of the outbox\n"
    "over the transactions of the --window-days (default 30) days from each customer's send day: per\n"
    "segment and overall, conversion and spend per customer in each arm, absolute and relative lift with\n"
    "confidence intervals (Newcombe, Welch, log-ratio delta method), incremental revenue and ROI at\n"
    "--cost-per-message (default 0). Writes experiment_<campaign>.csv and .html to --out (default: the\n"
    "outbox's folder) and prints the table. --mapping reads the transactions' columns as tribe ingest does.\n\n"
    "verify-webhook: checks a Standard Webhooks signature (HMAC-SHA256 over id.timestamp.body, body\n"
    "from --body or stdin; timestamps more than --tolerance seconds from now refused, default 300, 0 = no\n"
    "check). Exit 0 when valid, 3 when not (a missing signature included).\n\n"
    "audience: per segment and platform, an upload file for Google Ads Customer Match (Email,Phone) or\n"
    "Meta custom audiences (email,phone): e-mails and phones normalised as the platform documents, then\n"
    "SHA-256 (hex). An e-mail is used with EmailOptIn, a phone with SmsOptIn; a customer with an address\n"
    "on --suppress is left out; addresses that do not normalise are counted, never written. Files:\n"
    "OUTDIR/<platform>_segment_<id>_<name>.csv and OUTDIR/audience_summary.csv (the counts).\n"
    "  --country-code CC        calling code for national phone numbers (44: 07700 900123 -> +447700900123);\n"
    "                           without it only numbers written with + or 00 are usable\n";

tribe_status tribe_cli_run_segments_read(tribe_par *par, const char *dir, tribe_cli_run_segments *r)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char path[4096], *fmt = NULL;
    int64_t rows = 0, width = 0, ks = 0;
    int rank0 = tribe_par_rank(par) == 0;
    memset(r, 0, sizeof *r);
    st = tribe_fmt(path, sizeof path, "%s/results.h5", dir);
    if (st == TRIBE_OK)
        st = tribe_h5_open(par, path, &h);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &fmt);
    if (st == TRIBE_OK && (!fmt || strcmp(fmt, "tribe-results") != 0))
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe results file", path);
    if (st == TRIBE_OK)
        st = tribe_h5_read_attr_str(h, "/", "run_id", &r->run_id);
    if (st == TRIBE_OK)
        st = tribe_h5_shape(h, "/segments/id", &rows, &width);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, rows, 0, rank0 ? rows : 0, NULL, (void **)&r->id));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/label", TRIBE_H5_I32, rows, 0, rank0 ? rows : 0, NULL,
                                 (void **)&r->label));
    r->n = rank0 ? rows : 0;
    if (tribe_h5_exists(h, "/segments/id_text")) { /* string ids (tribe/id.h) */
        TRIBE_TRY(tribe_h5_read_str_rows(h, "/segments/id_text", rows, 0, r->n, &r->id_width, &r->id_text));
        st = tribe_store_check_id_text(path, "/segments/id_text", r->id_text, r->id_width, r->id, r->n, 0);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    TRIBE_TRY(tribe_h5_shape(h, "/segments/size", &ks, &width));
    r->k = (int)ks;
    if (tribe_h5_exists(h, "/segments/segment_id")) {
        TRIBE_TRY(tribe_h5_read_rows(h, "/segments/segment_id", TRIBE_H5_I64, r->k, 0, r->k, NULL,
                                     (void **)&r->seg_id));
    } else {
        TRIBE_TRY(tribe_calloc((void **)&r->seg_id, (size_t)(r->k > 0 ? r->k : 1), sizeof *r->seg_id));
        for (int c = 0; c < r->k; c++)
            r->seg_id[c] = c;
    }
    {
        int nn = 0;
        TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", &nn, &r->names));
        if (nn != r->k) {
            for (int c = 0; c < nn; c++)
                free(r->names[c]);
            free(r->names);
            r->names = NULL;
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: %d segment names for %d segments", path, nn, r->k);
        }
    }
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(fmt);
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        tribe_cli_run_segments_free(r);
    return st;
}

void tribe_cli_run_segments_free(tribe_cli_run_segments *r)
{
    if (!r)
        return;
    free(r->run_id);
    free(r->id);
    free(r->id_text);
    free(r->label);
    free(r->seg_id);
    for (int c = 0; r->names && c < r->k; c++)
        free(r->names[c]);
    free(r->names);
    memset(r, 0, sizeof *r);
}

int tribe_cli_run_segments_pos(const tribe_cli_run_segments *r, int64_t seg, char *known, size_t cap)
{
    int pos = -1;
    size_t at = 0;
    known[0] = '\0';
    for (int c = 0; c < r->k; c++) {
        if (r->seg_id[c] == seg)
            pos = c;
        if (at < cap)
            at += (size_t)snprintf(known + at, cap - at, "%s%lld", c ? ", " : "", (long long)r->seg_id[c]);
    }
    return pos;
}

/* Collective: every rank opens results.h5; rank 0 gets the run id and the
 * ids of the segment's customers (the others read no rows), and with string
 * ids their texts (*texts, *text_width bytes each; else NULL).
 * --segment is the segment's id as the report, segments.csv and the plan
 * show it: its persistent id (docs/resegmentation.md), whose position in
 * /segments/label /segments/segment_id gives (a run without them: the
 * position itself). */
static tribe_status segment_ids(tribe_par *par, const char *dir, int seg, char **run_id, int64_t **ids, int64_t *n,
                                int *k, char **texts, int *text_width)
{
    tribe_status st = TRIBE_OK;
    tribe_cli_run_segments r;
    char known[512];
    *n = 0;
    TRIBE_TRY(tribe_cli_run_segments_read(par, dir, &r));
    *k = r.k;
    if (tribe_par_rank(par) == 0) {
        int pos = tribe_cli_run_segments_pos(&r, seg, known, sizeof known);
        if (pos < 0) {
            st = tribe_fail(TRIBE_ERR_USAGE, "--segment %d: the run's segments are %s", seg, known);
            goto cleanup;
        }
        const size_t w = (size_t)r.id_width;
        for (int64_t i = 0; i < r.n; i++)
            if (r.label[i] == pos) {
                if (r.id_text)
                    memmove(r.id_text + (size_t)*n * w, r.id_text + (size_t)i * w, w);
                r.id[(*n)++] = r.id[i];
            }
        *ids = r.id;
        r.id = NULL;
        *texts = r.id_text;
        *text_width = r.id_width;
        r.id_text = NULL;
    }
    *run_id = r.run_id;
    r.run_id = NULL;
cleanup:
    tribe_cli_run_segments_free(&r);
    return tribe_par_agree(par, st);
}

static const char *env_or_null(const char *var, const char *what, tribe_status *st)
{
    if (!var)
        return NULL;
    const char *v = getenv(var);
    if (!v || !*v)
        *st = tribe_cli_usage("campaign", "%s: environment variable %s is not set", what, var);
    return v;
}

static tribe_status cmd_send(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    const char *dir = NULL, *contacts_path = NULL, *secret_env = NULL, *key_env = NULL, *campaign = NULL;
    char outbox[4096] = "", plan_name[128] = "", *run_id = NULL, *id_text = NULL;
    int64_t seg = -1, v = 0, *ids = NULL, n = 0;
    int k = 0;
    tribe_campaign_message msg = {0};
    tribe_contacts *contacts = NULL;
    tribe_send_cfg cfg;
    tribe_send_stats stats;
    tribe_send_cfg_defaults(&cfg);
    enum { O_RESULTS = 256, O_SEGMENT, O_CONTACTS, O_CHANNEL, O_ENDPOINT, O_LIVE, O_OUTBOX, O_SUPPRESS, O_CAP,
           O_WINDOW, O_CAMPAIGN, O_BATCH, O_RETRIES, O_RETRY_MS, O_TIMEOUT, O_FROM, O_FROM_PHONE, O_SID, O_SECRET,
           O_KEY, O_HOLDOUT };
    static const struct option opts[] = {
        {"results", required_argument, 0, O_RESULTS},   {"segment", required_argument, 0, O_SEGMENT},
        {"contacts", required_argument, 0, O_CONTACTS}, {"channel", required_argument, 0, O_CHANNEL},
        {"endpoint", required_argument, 0, O_ENDPOINT}, {"live", no_argument, 0, O_LIVE},
        {"outbox", required_argument, 0, O_OUTBOX},     {"suppress", required_argument, 0, O_SUPPRESS},
        {"max-per-customer", required_argument, 0, O_CAP}, {"window-days", required_argument, 0, O_WINDOW},
        {"campaign", required_argument, 0, O_CAMPAIGN}, {"batch-size", required_argument, 0, O_BATCH},
        {"retries", required_argument, 0, O_RETRIES},   {"retry-base-ms", required_argument, 0, O_RETRY_MS},
        {"timeout", required_argument, 0, O_TIMEOUT},   {"from", required_argument, 0, O_FROM},
        {"from-phone", required_argument, 0, O_FROM_PHONE}, {"twilio-sid", required_argument, 0, O_SID},
        {"signing-secret-env", required_argument, 0, O_SECRET}, {"api-key-env", required_argument, 0, O_KEY},
        {"holdout", required_argument, 0, O_HOLDOUT}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RESULTS: dir = optarg; break;
        case O_SEGMENT: TRIBE_TRY(tribe_cli_int("campaign", "--segment", optarg, 0, 100000, &seg)); break;
        case O_CONTACTS: contacts_path = optarg; break;
        case O_CHANNEL: cfg.channel = optarg; break;
        case O_ENDPOINT: cfg.endpoint = optarg; break;
        case O_LIVE: cfg.live = 1; break;
        case O_OUTBOX: snprintf(outbox, sizeof outbox, "%s", optarg); break;
        case O_SUPPRESS: cfg.suppress_path = optarg; break;
        case O_CAP:
            TRIBE_TRY(tribe_cli_int("campaign", "--max-per-customer", optarg, 0, 1000000, &v));
            cfg.max_per_customer = (int)v;
            break;
        case O_WINDOW:
            TRIBE_TRY(tribe_cli_int("campaign", "--window-days", optarg, 1, 3650, &v));
            cfg.window_seconds = v * 86400;
            break;
        case O_CAMPAIGN: campaign = optarg; break;
        case O_BATCH:
            TRIBE_TRY(tribe_cli_int("campaign", "--batch-size", optarg, 1, TRIBE_SEND_MAX_BATCH, &v));
            cfg.batch_size = (int)v;
            break;
        case O_RETRIES:
            TRIBE_TRY(tribe_cli_int("campaign", "--retries", optarg, 0, 20, &v));
            cfg.max_retries = (int)v;
            break;
        case O_RETRY_MS:
            TRIBE_TRY(tribe_cli_int("campaign", "--retry-base-ms", optarg, 0, 600000, &v));
            cfg.retry_base_seconds = (double)v / 1000;
            break;
        case O_TIMEOUT:
            TRIBE_TRY(tribe_cli_int("campaign", "--timeout", optarg, 1, 3600, &v));
            cfg.timeout_seconds = (double)v;
            break;
        case O_FROM: cfg.from_email = optarg; break;
        case O_FROM_PHONE: cfg.from_phone = optarg; break;
        case O_SID: cfg.twilio_sid = optarg; break;
        case O_SECRET: secret_env = optarg; break;
        case O_KEY: key_env = optarg; break;
        case O_HOLDOUT: TRIBE_TRY(tribe_cli_number("campaign", "--holdout", optarg, 0, 1, &cfg.holdout)); break;
        default: return tribe_cli_usage("campaign", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("campaign", "unexpected argument '%s'", argv[optind]);
    if (!dir || seg < 0 || !contacts_path)
        return tribe_cli_usage("campaign", "send needs --results DIR, --segment ID and --contacts FILE");
    if (strcmp(cfg.channel, "email") && strcmp(cfg.channel, "sms"))
        return tribe_cli_usage("campaign", "--channel must be email or sms, got '%s'", cfg.channel);
    cfg.signing_secret = env_or_null(secret_env, "--signing-secret-env", &st);
    cfg.api_key = env_or_null(key_env, "--api-key-env", &st);
    if (st != TRIBE_OK)
        return st;
    if (!outbox[0])
        TRIBE_TRY(tribe_fmt(outbox, sizeof outbox, "%s/outbox.jsonl", dir));

    TRIBE_TRY(segment_ids(par, dir, (int)seg, &run_id, &ids, &n, &k, &id_text, &cfg.id_width));
    cfg.id_text = id_text;
    if (tribe_par_rank(par) == 0) {
        if (!campaign) {
            st = tribe_campaign_plan_name(dir, seg, plan_name, sizeof plan_name);
            campaign = plan_name;
        }
        if (st == TRIBE_OK)
            st = tribe_campaign_message_read(dir, seg, &msg);
        if (st == TRIBE_OK)
            st = tribe_contacts_read(contacts_path, &contacts);
        if (st == TRIBE_OK) {
            cfg.run_id = run_id;
            cfg.segment = (int)seg;
            cfg.campaign = campaign;
            cfg.outbox = outbox;
            cfg.subject = msg.subject;
            cfg.body = msg.body;
            cfg.sms_body = msg.sms;
            fprintf(stderr, "tribe campaign: run %s segment %lld '%s' via %s: %lld customers, %s\n", run_id,
                    (long long)seg, campaign, cfg.channel, (long long)n,
                    cfg.endpoint ? cfg.endpoint : cfg.live ? "live API" : "dry run (no endpoint)");
            st = tribe_campaign_send(&cfg, ids, n, contacts, &stats);
            /* The counts are printed even when some requests failed. */
            printf("campaign send: run %s, segment %lld, campaign '%s', channel %s%s\n", run_id, (long long)seg,
                   campaign, cfg.channel, cfg.live ? " (live)" : cfg.endpoint ? " (sandbox)" : " (dry run)");
            printf("  customers %lld: sent %lld, dry_run %lld, no_contact %lld, opted_out %lld, suppressed %lld, "
                   "capped %lld, failed %lld\n",
                   (long long)stats.customers, (long long)stats.sent, (long long)stats.dry_run,
                   (long long)stats.no_contact, (long long)stats.opted_out, (long long)stats.suppressed,
                   (long long)stats.capped, (long long)stats.failed);
            if (cfg.holdout > 0)
                printf("  holdout %lld (control group, share %g of the eligible, not sent)\n",
                       (long long)stats.holdout, cfg.holdout);
            printf("  requests %lld, attempts %lld, outbox lines %lld -> %s\n", (long long)stats.requests,
                   (long long)stats.attempts, (long long)stats.outbox_lines, outbox);
        }
    }
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(run_id);
    free(ids);
    free(id_text);
    tribe_campaign_message_clear(&msg);
    tribe_contacts_destroy(&contacts);
    return st;
}

static tribe_status cmd_verify(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    const char *secret_env = NULL, *id = NULL, *ts = NULL, *sig = NULL, *body_path = NULL;
    int64_t tolerance = 300; /* Standard Webhooks' replay window */
    char *body = NULL;
    size_t len = 0;
    static const struct option opts[] = {{"secret-env", required_argument, 0, 's'}, {"id", required_argument, 0, 'i'},
                                         {"timestamp", required_argument, 0, 't'},
                                         {"signature", required_argument, 0, 'g'},
                                         {"body", required_argument, 0, 'b'},
                                         {"tolerance", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's') secret_env = optarg;
        else if (c == 'i') id = optarg;
        else if (c == 't') ts = optarg;
        else if (c == 'g') sig = optarg;
        else if (c == 'b') body_path = optarg;
        else if (c == 'o') TRIBE_TRY(tribe_cli_int("campaign", "--tolerance", optarg, 0, 86400 * 365, &tolerance));
        else return tribe_cli_usage("campaign", "unknown option '%s'", argv[optind - 1]);
    }
    if (!secret_env || !id || !ts)
        return tribe_cli_usage("campaign", "verify-webhook needs --secret-env, --id, --timestamp and --signature");
    if (!sig || !*sig) /* a request without a signature fails verification, it is not a usage error */
        return tribe_par_agree(par, tribe_fail(TRIBE_ERR_INPUT, "webhook: message %s carries no signature", id));
    const char *secret = env_or_null(secret_env, "--secret-env", &st);
    if (st != TRIBE_OK)
        return st;
    if (tribe_par_rank(par) == 0) {
        st = tribe_read_file(body_path ? body_path : "/dev/stdin", &body, &len);
        if (st == TRIBE_OK)
            st = tribe_webhook_verify(secret, id, ts, body, len, sig, (int64_t)time(NULL), tolerance);
        if (st == TRIBE_OK)
            printf("signature valid for message %s\n", id);
    }
cleanup:
    free(body);
    return tribe_par_agree(par, st);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    if (argc < 2)
        return tribe_cli_usage("campaign", "expects a subcommand: send, measure, verify-webhook or audience");
    if (strcmp(argv[1], "send") == 0)
        return cmd_send(par, argc - 1, argv + 1);
    if (strcmp(argv[1], "verify-webhook") == 0)
        return cmd_verify(par, argc - 1, argv + 1);
    if (strcmp(argv[1], "audience") == 0)
        return tribe_cli_campaign_audience(par, argc - 1, argv + 1);
    if (strcmp(argv[1], "measure") == 0)
        return tribe_cli_campaign_measure(par, argc - 1, argv + 1);
    return tribe_cli_usage("campaign", "unknown subcommand '%s' (send, measure, verify-webhook or audience)",
                           argv[1]);
}

const tribe_cli_cmd tribe_cmd_campaign = {"campaign",
                                          "send a segment's campaign (e-mail/SMS), verify a webhook, or write "
                                          "ad-platform audiences",
                                          USAGE, run};
