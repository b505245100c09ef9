/* tribe publish RUN [--db CONNINFO] [--schema NAME] [--no-current]: a finished
 * run into PostgreSQL (tribe/publish.h). */
#include "cli.h"
#include "tribe/numfmt.h"
#include "tribe/publish.h"

#include <getopt.h>
#include <stdio.h>

static const char USAGE[] =
    "usage: tribe publish RUN [--db CONNINFO] [--schema NAME] [--current | --no-current] [--batch-rows N]\n\n"
    "Publishes a finished run into PostgreSQL through COPY: tables runs, segments, personas and customers\n"
    "(every per-customer output results.h5 holds), versioned by run id, and views current_run,\n"
    "current_segments, current_personas and current_customers of the current run, in the schema\n"
    "NAME (default tribe; created with its tables when missing). RUN: a results.h5, a run directory or an\n"
    "output directory (its latest run). One transaction: readers see the database before or after the\n"
    "publish, never half a run; on any failure nothing changes. Publishing a run again replaces its rows.\n"
    "--db: a libpq conninfo ('host=db dbname=crm user=tribe') or URI (postgresql://tribe@db/crm); without\n"
    "it the PG* environment variables (PGHOST, PGDATABASE, PGUSER, ...). Give the password through\n"
    "PGPASSWORD or ~/.pgpass, never on the command line. --no-current publishes without making the run\n"
    "the current one (a backfill). --batch-rows: customers read and sent per slice (default 65536).\n"
    "Exit codes: 4 when the server cannot be reached or refuses, 3 when it rejects the run's data.\n"
    "Rank 0 reads the run and holds the one connection (docs/outputs.md, \"PostgreSQL\").\n";

static tribe_status parse(int argc, char **argv, tribe_publish_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"schema", required_argument, 0, 's'},
                                         {"current", no_argument, 0, 'c'},
                                         {"no-current", no_argument, 0, 'n'},
                                         {"batch-rows", required_argument, 0, 'b'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cfg->conninfo = optarg; break;
        case 's': cfg->schema = optarg; break;
        case 'c': cfg->set_current = 1; break;
        case 'n': cfg->set_current = 0; break;
        case 'b': TRIBE_TRY(tribe_cli_int("publish", "--batch-rows", optarg, 1, 1 << 24, &cfg->batch_rows)); break;
        default: return tribe_cli_usage("publish", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return tribe_cli_usage("publish", "expects exactly one RUN (results.h5, run directory or output directory)");
    cfg->run = argv[optind];
    if (tribe_publish_check_schema(cfg->schema) != TRIBE_OK)
        return tribe_cli_usage("publish", "--schema %s", tribe_errmsg());
cleanup:
    return st;
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_publish_cfg cfg;
    tribe_publish_result res;
    char n[48];
    tribe_publish_cfg_default(&cfg);
    TRIBE_TRY(parse(argc, argv, &cfg));
    /* One connection holds the one transaction, so one process publishes;
     * the other ranks wait for its verdict. */
    if (tribe_par_rank(par) == 0) {
        double t0 = tribe_now();
        TRIBE_TRY(tribe_publish(&cfg, &res));
        printf("published run %s to schema %s: %s customers, %d segments, %d personas%s%s in %.1f s; "
               "current run: %s\n",
               res.run_id, cfg.schema, tribe_fmt_count(n, sizeof n, (double)res.customers), res.k, res.personas,
               res.replaced ? " (replacing its earlier rows)" : "", res.installed ? " (tables created)" : "",
               tribe_now() - t0, res.current[0] ? res.current : "none");
    }
cleanup:
    return tribe_par_agree(par, st);
}

const tribe_cli_cmd tribe_cmd_publish = {"publish", "publish a finished run into PostgreSQL (COPY, one transaction)",
                                         USAGE, run};
