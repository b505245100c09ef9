/* tribe serve DIR: the look-up API and the dashboard (docs/api.md). */
#include "cli.h"
#include "tribe/serve.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: tribe serve RESULTS_DIR --tokens FILE [--listen ADDR] [--port N] [--threads N]\n"
    "                   [--rate-limit R] [--burst B] [--write-rate-limit W] [--max-body BYTES]\n"
    "                   [--watch S] [--audit FILE] [--tls-cert PEM --tls-key PEM] [--ready-file FILE]\n"
    "                   [--contacts contacts.csv] [--mail-endpoint URL] [--suppress FILE] [--outbox FILE]\n"
    "                   [--max-per-customer N] [--window-days D] [--allow-live]\n\n"
    "Serves the newest run of RESULTS_DIR (an output directory of tribe run: its `latest` run; or a run\n"
    "directory, or a results.h5) over HTTP: API v1 under /v1 (docs/api.md, /openapi.json), the dashboard\n"
    "at / (docs/dashboard.md), /healthz, /readyz and /metrics (Prometheus). One process, no mpiexec.\n"
    "It follows the directory: when a new run is published (or on SIGHUP) it loads it beside the served\n"
    "one and swaps atomically; a run that fails to load is logged and the previous one stays served.\n"
    "SIGTERM or SIGINT stops it (exit 0).\n"
    "  --tokens FILE           'read TOKEN' / 'write TOKEN' lines (tokens of 16+ characters); required\n"
    "  --listen ADDR           IPv4 address to bind (default 127.0.0.1: this host only)\n"
    "  --port N                TCP port (default 8080; 0 = any free port, see --ready-file)\n"
    "  --threads N             request threads (default 2)\n"
    "  --rate-limit R          requests per second per client address (default 2000; 0 = no limit)\n"
    "  --burst B               requests allowed at once above the rate (default 2 x R)\n"
    "  --write-rate-limit W    writes (refine, save, campaign) per minute per address (default 60; 0 = off)\n"
    "  --max-body BYTES        largest request body (default 1048576)\n"
    "  --watch S               seconds between checks for a new run (default 2; 0 = on SIGHUP only)\n"
    "  --audit FILE            append-only audit log of writes (default RESULTS_DIR/audit.jsonl)\n"
    "  --tls-cert, --tls-key   PEM certificate and key: HTTPS (GnuTLS)\n"
    "  --ready-file FILE       written with the server's URL once it listens\n"
    "  --contacts FILE         contacts.csv for campaigns (docs/campaigns.md); without it campaigns are off\n"
    "  --mail-endpoint URL     SendGrid/Twilio-shaped endpoint (a sandbox or stand-in); default: dry run\n"
    "  --suppress FILE         suppression list; --outbox FILE (default RESULTS_DIR/outbox.jsonl)\n"
    "  --max-per-customer N    frequency cap per customer in the window (default 1; 0 = off)\n"
    "  --window-days D         cap window (default 7)\n"
    "  --allow-live            let a write token confirm live sends (sandbox only without it)\n";

static tribe_status number(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!end || *end || end == s || !(v >= lo && v <= hi))
        return tribe_cli_usage("serve", "%s expects a number in [%g, %g], got '%s'", opt, lo, hi, s);
    *out = v;
    return TRIBE_OK;
}

static tribe_status parse(int argc, char **argv, tribe_serve_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    static const struct option opts[] = {
        {"tokens", required_argument, 0, 't'},       {"listen", required_argument, 0, 'l'},
        {"port", required_argument, 0, 'p'},         {"threads", required_argument, 0, 'n'},
        {"rate-limit", required_argument, 0, 'r'},   {"burst", required_argument, 0, 'b'},
        {"write-rate-limit", required_argument, 0, 'w'}, {"max-body", required_argument, 0, 'm'},
        {"watch", required_argument, 0, 'W'},        {"audit", required_argument, 0, 'a'},
        {"tls-cert", required_argument, 0, 'C'},     {"tls-key", required_argument, 0, 'K'},
        {"ready-file", required_argument, 0, 'R'},   {"contacts", required_argument, 0, 'c'},
        {"mail-endpoint", required_argument, 0, 'e'}, {"suppress", required_argument, 0, 's'},
        {"outbox", required_argument, 0, 'o'},       {"max-per-customer", required_argument, 0, 'x'},
        {"window-days", required_argument, 0, 'd'},  {"allow-live", no_argument, 0, 'L'},
        {0, 0, 0, 0}};
    int c;
    int64_t v = 0;
    double x = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': cfg->tokens_path = optarg; break;
        case 'l': cfg->listen = optarg; break;
        case 'p': TRIBE_TRY(tribe_cli_int("serve", "--port", optarg, 0, 65535, &v)); cfg->port = (int)v; break;
        case 'n': TRIBE_TRY(tribe_cli_int("serve", "--threads", optarg, 1, 256, &v)); cfg->threads = (int)v; break;
        case 'r': TRIBE_TRY(number("--rate-limit", optarg, 0, 1e9, &cfg->rate)); break;
        case 'b': TRIBE_TRY(number("--burst", optarg, 1, 1e9, &cfg->burst)); break;
        case 'w': TRIBE_TRY(number("--write-rate-limit", optarg, 0, 1e6, &cfg->write_rate)); break;
        case 'm': TRIBE_TRY(tribe_cli_int("serve", "--max-body", optarg, 1024, 1 << 30, &cfg->max_body)); break;
        case 'W': TRIBE_TRY(number("--watch", optarg, 0, 86400, &cfg->watch_s)); break;
        case 'a': cfg->audit_path = optarg; break;
        case 'C': cfg->tls_cert = optarg; break;
        case 'K': cfg->tls_key = optarg; break;
        case 'R': cfg->ready_file = optarg; break;
        case 'c': cfg->contacts = optarg; break;
        case 'e': cfg->mail_endpoint = optarg; break;
        case 's': cfg->suppress = optarg; break;
        case 'o': cfg->outbox = optarg; break;
        case 'x':
            TRIBE_TRY(tribe_cli_int("serve", "--max-per-customer", optarg, 0, 1000000, &v));
            cfg->max_per_customer = (int)v;
            break;
        case 'd':
            TRIBE_TRY(number("--window-days", optarg, 0, 3650, &x));
            cfg->window_seconds = (int64_t)(x * 86400);
            break;
        case 'L': cfg->allow_live = 1; break;
        default: return tribe_cli_usage("serve", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return tribe_cli_usage("serve", "expects exactly one RESULTS_DIR");
    cfg->dir = argv[optind];
cleanup:
    return st;
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_serve_cfg cfg;
    tribe_serve_cfg_defaults(&cfg);
    TRIBE_TRY(parse(argc, argv, &cfg));
    TRIBE_TRY(tribe_serve(par, &cfg));
cleanup:
    return st;
}

const tribe_cli_cmd tribe_cmd_serve = {"serve", "the look-up API and the dashboard over the latest run", USAGE, run};
