/* tribe gen: synthetic multi-source customer data with planted segments. */
#include "cli.h"
#include "tribe/gen.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>

static const char USAGE[] =
    "usage: tribe gen --customers N -o DIR [--seed S] [--segments K] [--dirt X] [--end-date YYYY-MM-DD]\n"
    "                 [--gzip] [--no-web] [--no-demographics]\n\n"
    "Writes synthetic data with planted segments into DIR (docs/gen.md): transactions.csv (Online Retail\n"
    "columns), web_events.csv, demographics.csv, and the truth (truth.csv, truth.json with the exact\n"
    "counts of planted dirt), plus contacts.csv (synthetic e-mail/phone/opt-ins for `tribe campaign`).\n"
    "The bytes depend only on the options, never on the number of ranks.\n"
    "  --customers N     customers to generate (required)\n"
    "  -o, --output DIR  output directory (created)\n"
    "  --seed S          random seed (default 42)\n"
    "  --segments K      planted segments, 1..8 (default 6)\n"
    "  --dirt X          scale of the dirt proportions (default 1; 0 = clean data)\n"
    "  --end-date DATE   last invoice day (default 2011-12-09)\n"
    "  --gzip            write .csv.gz sources\n"
    "  --no-web, --no-demographics   skip that source\n";

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_gen_cfg cfg;
    const char *out = NULL;
    int64_t v = 0;
    tribe_status st = TRIBE_OK;
    int have_customers = 0;
    static const struct option opts[] = {{"customers", required_argument, 0, 'n'},
                                         {"output", required_argument, 0, 'o'},
                                         {"seed", required_argument, 0, 's'},
                                         {"segments", required_argument, 0, 'k'},
                                         {"dirt", required_argument, 0, 'd'},
                                         {"end-date", required_argument, 0, 'e'},
                                         {"gzip", no_argument, 0, 'z'},
                                         {"no-web", no_argument, 0, 'W'},
                                         {"no-demographics", no_argument, 0, 'D'},
                                         {0, 0, 0, 0}};
    int c;
    tribe_gen_defaults(&cfg);
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
            break;
        case 'd': {
            char *end = NULL;
            cfg.dirt = strtod(optarg, &end);
            if (!end || *end || !isfinite(cfg.dirt) || cfg.dirt < 0)
                return tribe_cli_usage("gen", "--dirt expects a number >= 0, got '%s'", optarg);
            break;
        }
        case 'e': cfg.end_date = optarg; break;
        case 'z': cfg.gzip = 1; break;
        case 'W': cfg.web = 0; break;
        case 'D': cfg.demographics = 0; break;
        default: return tribe_cli_usage("gen", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("gen", "unexpected argument '%s'", argv[optind]);
    if (!have_customers)
        return tribe_cli_usage("gen", "--customers N is required");
    if (!out)
        return tribe_cli_usage("gen", "-o DIR is required");
    TRIBE_TRY(tribe_gen(par, &cfg, out));
    if (tribe_par_rank(par) == 0)
        printf("generated %lld customers (seed %llu, %d planted segments) in %s\n", (long long)cfg.customers,
               (unsigned long long)cfg.seed, cfg.segments, out);
cleanup:
    return st;
}

const tribe_cli_cmd tribe_cmd_gen = {"gen", "synthetic transactions, web sessions and demographics with planted truth",
                                     USAGE, run};
