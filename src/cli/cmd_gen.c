/* tribe gen: synthetic multi-source customer data with planted segments. */
#include "cli.h"
#include "tribe/experiment.h"
#include "tribe/gen.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A macro's value as a string literal (the feature limit in the usage text). */
#define GEN_STR_(x) #x
#define GEN_STR(x) GEN_STR_(x)

static const char USAGE[] =
    "usage: tribe gen --customers N -o DIR [--seed S] [--segments K] [--dirt X] [--end-date YYYY-MM-DD]\n"
    "                 [--gzip] [--no-web] [--no-demographics] [--no-reviews] [--layout retail|financial]\n"
    "       tribe gen --blobs --customers N -o FILE.h5 [--features D] [--clusters K] [--spread S] [--seed S]\n"
    "       tribe gen --blobs --periods 2 --customers N -o DIR [--features D] [--clusters K] [--seed S]\n"
    "       tribe gen --effect OUTBOX -o DIR [--campaign NAME] [--seed S] [--window-days N]\n"
    "                 [--base-conversion P] [--conversion-lift D] [--mean-spend M] [--spend-lift R] [--sigma S]\n\n"
    "Writes synthetic data with planted segments into DIR (docs/gen.md): transactions.csv (Online Retail\n"
    "columns), web_events.csv, demographics.csv, and the truth (truth.csv, truth.json with the exact\n"
    "counts of planted dirt), plus contacts.csv (synthetic e-mail/phone/opt-ins for `tribe campaign`) and\n"
    "reviews.csv (review texts with planted topics and sentiment per segment, for `ingest --text`).\n"
    "The bytes depend only on the options, never on the number of ranks.\n"
    "  --customers N     customers to generate (required)\n"
    "  -o, --output DIR  output directory (created)\n"
    "  --seed S          random seed (default 42)\n"
    "  --segments K      planted segments, 1..8 (default 6)\n"
    "  --dirt X          scale of the dirt proportions (default 1; 0 = clean data)\n"
    "  --end-date DATE   last invoice day (default 2011-12-09)\n"
    "  --gzip            write .csv.gz sources\n"
    "  --no-web, --no-demographics, --no-reviews   skip that source\n"
    "  --layout L        retail (default: the Online Retail files above) or financial: the card-payment\n"
    "                    export of the financial brief, transactions_data.csv ($ amounts, chip/swipe/online,\n"
    "                    merchant category codes, refunds) and users_data.csv (income, debt, credit score),\n"
    "                    no web file; the same customers and segments\n\n"
    "With --blobs: a numeric benchmark table written straight to FILE.h5 (customers.h5 layout): K overlapping\n"
    "planted Gaussian clusters in D features (f01..fD); the planted labels go to FILE.truth.h5 (/truth/label).\n"
    "  --features D      features, 1.." GEN_STR(TRIBE_MAX_FEATURES) " (default 16)\n"
    "  --clusters K      planted clusters, 1..256 (default 8)\n"
    "  --spread S        standard deviation of the centre coordinates (default 1; within-cluster 0.6..1.4)\n\n"
    "With --blobs --periods 2: the resegmentation scenario (docs/gen.md) in DIR: period1.h5 and period2.h5\n"
    "(features monetary, f02..fD) with K well-separated planted segments (default 7; 6..32); period 2 has\n"
    "survivors, one split, one merge, one disappearance, one emerged segment, ~5%% migration between\n"
    "survivors, ~5%% churn and N/5 new customers. Truth: period1.truth.h5, period2.truth.h5 (per customer)\n"
    "and truth.json (true K, transitions, the exact migration matrix).\n"
    "  --periods P       1 (default: one FILE.h5) or 2 (-o DIR)\n\n"
    "With --effect OUTBOX: the transactions after a send with a holdout (`tribe campaign send --holdout`),\n"
    "with a planted lift per segment, for `tribe campaign measure` (docs/gen.md, \"Planted campaign effect\"):\n"
    "DIR/transactions.csv (Online Retail columns) and DIR/effect_truth.csv (the true lifts). Segment s:\n"
    "control conversion P (1 + 0.25 (s mod 4)), treatment adds D w (w = 0.5 + 0.5 (s mod 3)); a control\n"
    "converter spends M (1 + 0.5 (s mod 2)) on average (lognormal, sigma S), a treated one (1 + R w) times it.\n"
    "  defaults: --window-days 30 --base-conversion 0.08 --conversion-lift 0.03 --mean-spend 40\n"
    "            --spend-lift 0.2 --sigma 0.8 --seed 42\n";

/* tribe gen --blobs: the options were checked by the caller's loop. */
static tribe_status run_blobs(tribe_par *par, tribe_blobs_cfg *b, const char *out)
{
    tribe_status st = TRIBE_OK;
    double t0 = tribe_now();
    TRIBE_TRY(tribe_gen_blobs(par, b, out));
    if (tribe_par_rank(par) == 0) {
        char truth[4096];
        TRIBE_TRY(tribe_blobs_truth_path(out, truth, sizeof truth));
        printf("generated %lld customers x %d features in %d planted clusters (seed %llu) in %s, truth in %s "
               "(%.2f s)\n",
               (long long)b->customers, b->features, b->clusters, (unsigned long long)b->seed, out, truth,
               tribe_now() - t0);
    }
cleanup:
    return st;
}

/* tribe gen --blobs --periods 2. */
static tribe_status run_periods(tribe_par *par, tribe_blobs_cfg *b, const char *out)
{
    tribe_status st = TRIBE_OK;
    double t0 = tribe_now();
    TRIBE_TRY(tribe_gen_periods(par, b, out));
    if (tribe_par_rank(par) == 0)
        printf("generated two periods from %lld customers x %d features, %d planted segments (seed %llu) in %s: "
               "period1.h5, period2.h5, truth.json (%.2f s)\n",
               (long long)b->customers, b->features, b->clusters, (unsigned long long)b->seed, out,
               tribe_now() - t0);
cleanup:
    return st;
}

/* tribe gen --effect OUTBOX: rank 0 reads the outbox and writes the files. */
static tribe_status run_effect(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_effect_cfg cfg;
    const char *outbox = NULL, *out = NULL, *campaign = NULL;
    int64_t v = 0;
    tribe_exp_assign a = {0};
    static const struct option opts[] = {{"effect", required_argument, 0, 'E'},
                                         {"output", required_argument, 0, 'o'},
                                         {"campaign", required_argument, 0, 'c'},
                                         {"seed", required_argument, 0, 's'},
                                         {"window-days", required_argument, 0, 'w'},
                                         {"base-conversion", required_argument, 0, 'p'},
                                         {"conversion-lift", required_argument, 0, 'd'},
                                         {"mean-spend", required_argument, 0, 'm'},
                                         {"spend-lift", required_argument, 0, 'r'},
                                         {"sigma", required_argument, 0, 'g'},
                                         {0, 0, 0, 0}};
    int c;
    tribe_effect_defaults(&cfg);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'E': outbox = optarg; break;
        case 'o': out = optarg; break;
        case 'c': campaign = optarg; break;
        case 's':
            TRIBE_TRY(tribe_cli_int("gen", "--seed", optarg, 0, INT64_MAX, &v));
            cfg.seed = (uint64_t)v;
            break;
        case 'w':
            TRIBE_TRY(tribe_cli_int("gen", "--window-days", optarg, 1, 3650, &v));
            cfg.window_days = (int)v;
            break;
        case 'p':
            TRIBE_TRY(tribe_cli_number("gen", "--base-conversion", optarg, -1e9, 1e9, &cfg.base_conversion));
            break;
        case 'd':
            TRIBE_TRY(tribe_cli_number("gen", "--conversion-lift", optarg, -1e9, 1e9, &cfg.conversion_lift));
            break;
        case 'm': TRIBE_TRY(tribe_cli_number("gen", "--mean-spend", optarg, -1e9, 1e9, &cfg.mean_spend)); break;
        case 'r': TRIBE_TRY(tribe_cli_number("gen", "--spend-lift", optarg, -1e9, 1e9, &cfg.spend_lift)); break;
        case 'g': TRIBE_TRY(tribe_cli_number("gen", "--sigma", optarg, -1e9, 1e9, &cfg.sigma)); break;
        default: return tribe_cli_usage("gen", "unknown option '%s' with --effect", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("gen", "unexpected argument '%s'", argv[optind]);
    if (!outbox || !out)
        return tribe_cli_usage("gen", "--effect OUTBOX needs -o DIR");
    if (tribe_par_rank(par) == 0) {
        st = tribe_exp_outbox_read(outbox, campaign, &a);
        if (st == TRIBE_OK)
            st = tribe_effect_write(&cfg, &a, out);
        if (st == TRIBE_OK)
            printf("planted the effect of campaign '%s' on %lld customers (seed %llu) in %s: transactions.csv, "
                   "effect_truth.csv\n",
                   a.campaign, (long long)a.n, (unsigned long long)cfg.seed, out);
    }
cleanup:
    tribe_exp_assign_free(&a);
    return tribe_par_agree(par, st);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--effect") == 0 || strncmp(argv[i], "--effect=", 9) == 0)
            return run_effect(par, argc, argv);
    tribe_gen_cfg cfg;
    const char *out = NULL;
    int64_t v = 0;
    tribe_status st = TRIBE_OK;
    int have_customers = 0, blobs = 0, gen_only = 0, blobs_only = 0, periods = 1, have_clusters = 0, spread = 0;
    tribe_blobs_cfg b;
    static const struct option opts[] = {{"customers", required_argument, 0, 'n'},
                                         {"output", required_argument, 0, 'o'},
                                         {"seed", required_argument, 0, 's'},
                                         {"segments", required_argument, 0, 'k'},
                                         {"dirt", required_argument, 0, 'd'},
                                         {"end-date", required_argument, 0, 'e'},
                                         {"gzip", no_argument, 0, 'z'},
                                         {"no-web", no_argument, 0, 'W'},
                                         {"no-demographics", no_argument, 0, 'D'},
                                         {"no-reviews", no_argument, 0, 'R'},
                                         {"blobs", no_argument, 0, 'b'},
                                         {"features", required_argument, 0, 'F'},
                                         {"clusters", required_argument, 0, 'K'},
                                         {"spread", required_argument, 0, 'p'},
                                         {"periods", required_argument, 0, 'P'},
                                         {"layout", required_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    int c;
    tribe_gen_defaults(&cfg);
    tribe_blobs_defaults(&b);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            TRIBE_TRY(tribe_cli_int("gen", "--customers", optarg, 1, INT64_MAX / 4, &cfg.customers));
            have_customers = 1;
            break;
        case 'o': out = optarg; break;
        case 's':
            TRIBE_TRY(tribe_cli_int("gen", "--seed", optarg, 0, INT64_MAX, &v));
            cfg.seed = (uint64_t)v;
            break;
        case 'k':
            TRIBE_TRY(tribe_cli_int("gen", "--segments", optarg, 1, TRIBE_GEN_MAX_SEGMENTS, &v));
            cfg.segments = (int)v;
            gen_only = 1;
            break;
        case 'd': {
            char *end = NULL;
            cfg.dirt = strtod(optarg, &end);
            if (!end || *end || !isfinite(cfg.dirt) || cfg.dirt < 0)
                return tribe_cli_usage("gen", "--dirt expects a number >= 0, got '%s'", optarg);
            gen_only = 1;
            break;
        }
        case 'e': cfg.end_date = optarg; gen_only = 1; break;
        case 'z': cfg.gzip = 1; gen_only = 1; break;
        case 'W': cfg.web = 0; gen_only = 1; break;
        case 'D': cfg.demographics = 0; gen_only = 1; break;
        case 'R': cfg.reviews = 0; gen_only = 1; break;
        case 'L':
            if (strcmp(optarg, "retail") == 0)
                cfg.layout = TRIBE_GEN_RETAIL;
            else if (strcmp(optarg, "financial") == 0)
                cfg.layout = TRIBE_GEN_FINANCIAL;
            else
                return tribe_cli_usage("gen", "--layout expects retail or financial, got '%s'", optarg);
            gen_only = 1;
            break;
        case 'b': blobs = 1; break;
        case 'F':
            TRIBE_TRY(tribe_cli_int("gen", "--features", optarg, 1, TRIBE_MAX_FEATURES, &v));
            b.features = (int)v;
            blobs_only = 1;
            break;
        case 'K':
            TRIBE_TRY(tribe_cli_int("gen", "--clusters", optarg, 1, 256, &v));
            b.clusters = (int)v;
            blobs_only = have_clusters = 1;
            break;
        case 'p': {
            char *end = NULL;
            b.spread = strtod(optarg, &end);
            if (!end || *end || !isfinite(b.spread) || b.spread < 0)
                return tribe_cli_usage("gen", "--spread expects a number >= 0, got '%s'", optarg);
            blobs_only = spread = 1;
            break;
        }
        case 'P':
            TRIBE_TRY(tribe_cli_int("gen", "--periods", optarg, 1, 2, &v));
            periods = (int)v;
            blobs_only = 1;
            break;
        default: return tribe_cli_usage("gen", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("gen", "unexpected argument '%s'", argv[optind]);
    if (!have_customers)
        return tribe_cli_usage("gen", "--customers N is required");
    if (blobs && gen_only)
        return tribe_cli_usage("gen", "--segments, --dirt, --end-date, --gzip, --no-web, --no-demographics, "
                                      "--no-reviews and --layout do not apply to --blobs");
    if (cfg.layout == TRIBE_GEN_FINANCIAL && !cfg.web)
        return tribe_cli_usage("gen", "--no-web does not apply to --layout financial (it writes no web file)");
    if (!blobs && blobs_only)
        return tribe_cli_usage("gen", "--features, --clusters, --spread and --periods need --blobs");
    if (periods == 2 && spread)
        return tribe_cli_usage("gen", "--spread does not apply to --periods 2 (the separation is fixed)");
    if (!out)
        return tribe_cli_usage("gen", blobs && periods == 1 ? "-o FILE.h5 is required" : "-o DIR is required");
    if (blobs) {
        b.customers = cfg.customers;
        b.seed = cfg.seed;
        if (periods == 1)
            return run_blobs(par, &b, out);
        if (!have_clusters)
            b.clusters = TRIBE_PERIODS_DEFAULT_K;
        return run_periods(par, &b, out);
    }
    TRIBE_TRY(tribe_gen(par, &cfg, out));
    if (tribe_par_rank(par) == 0)
        printf("generated %lld customers (seed %llu, %d planted segments, %s layout) in %s\n",
               (long long)cfg.customers, (unsigned long long)cfg.seed, cfg.segments,
               cfg.layout == TRIBE_GEN_FINANCIAL ? "financial" : "retail", out);
cleanup:
    return st;
}

const tribe_cli_cmd tribe_cmd_gen = {"gen", "synthetic transactions, web sessions and demographics with planted truth",
                                     USAGE, run};
