/* tribe ingest / tribe import: raw sources or a feature table -> customers.h5. */
#include "cli.h"
#include "tribe/csv.h"
#include "tribe/h5.h"
#include "tribe/ingest.h"
#include "tribe/owner.h"
#include "tribe/sbuf.h"

#include <getopt.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char INGEST_USAGE[] =
    "usage: tribe ingest --transactions FILE... [--web FILE...] [--demographics FILE...] -o customers.h5\n"
    "                    [--rejects FILE] [--malformed-only] [--snapshot YYYY-MM-DD] [--strict]\n"
    "                    [--cutoff YYYY-MM-DD --horizon DAYS] [--target FILE] [--progress | --no-progress]\n"
    "                    [--text FILE... [--text-topics K] [--text-seed N]] [--id-type integer|string]\n"
    "                    [--mapping MAPPING.json]\n\n"
    "Reads raw sources (RFC 4180 CSV, plain or .gz), applies the cleaning rules, aggregates one row per\n"
    "customer (RFM and behaviour features) and writes customers.h5 (docs/ingest.md).\n"
    "Each source option may be repeated and may be a quoted glob pattern ('exports/2011-*.csv.gz', expanded\n"
    "by tribe, sorted): the files of one source are read as one (monthly exports), plain or .gz mixed.\n"
    "  --transactions FILE   Online Retail columns, or those of --mapping (required)\n"
    "  --web FILE            web/app sessions: CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device,\n"
    "                        or the columns of --mapping's \"web\" section\n"
    "  --demographics FILE   CustomerID,Age,Country,Occupation,Subscription, or the columns of --mapping's\n"
    "                        \"demographics\" section\n"
    "  --text FILE           reviews, tickets, survey answers: CustomerID,Date,Text (or --mapping's \"text\"\n"
    "                        section); adds per customer text_docs, sentiment, negative_share,\n"
    "                        topic_1..topic_K (docs/ingest.md)\n"
    "  --text-topics K       topics of the text topic model, 0..100 (default 8; 0: sentiment only)\n"
    "  --text-seed N         seed of the topic model (default 1)\n"
    "  -o, --output FILE     customers.h5 to write (replaced atomically)\n"
    "  --rejects FILE        rejected rows with source and line (default: OUTPUT without .h5 + .rejects.csv)\n"
    "  --malformed-only      write only unparseable rows to the rejects file (rule-removed rows are counted)\n"
    "  --snapshot DATE       reference day for recency and tenure (default: day after the last invoice)\n"
    "  --strict              any unparseable row is an error (exit 3) naming its file and line\n"
    "  --cutoff DATE         temporal split (docs/ltv.md): features from rows dated on or before DATE only\n"
    "                        (snapshot = the next day); customers first seen after it are left out\n"
    "  --horizon DAYS        target window (cutoff, cutoff + DAYS]; required with --cutoff, > 0\n"
    "  --target FILE         with --cutoff: future_spend and the BG/NBD inputs per customer, same layout as\n"
    "                        customers.h5 (default: OUTPUT without .h5 + .target.h5); never a model feature;\n"
    "                        without --cutoff: the BG/NBD inputs of all history (tribe run's ltv needs them)\n"
    "  --id-type TYPE        customer ids: integer (default; 17850 or 17850.0) or string (C-00123, UUIDs:\n"
    "                        UTF-8, up to 64 bytes, kept as given in customers.h5 and every output)\n"
    "  --mapping FILE        which column is which in every source (transactions, web, demographics, text),\n"
    "                        date formats, money as written, constants (docs/mapping.md; a section left out\n"
    "                        keeps the built-in columns above: the layout of jobs/mappings/online-retail.json)\n"
    "  --progress            rows read so far on stderr, once a second, also when stderr is not a terminal\n"
    "                        (TRIBE_PROGRESS=1 does the same); --no-progress: never (default: on a terminal)\n";

static const char IMPORT_USAGE[] =
    "usage: tribe import FEATURES.csv -o customers.h5 [--currency CODE] [--id-type integer|string]\n\n"
    "A ready feature table (first column the customer id, then numeric columns; empty = missing) becomes\n"
    "customers.h5, sorted by customer id. Non-numeric cells and duplicate ids are errors (exit 3).\n"
    "  -o, --output FILE   customers.h5 to write (replaced atomically)\n"
    "  --currency CODE     ISO 4217 code of the money columns (default GBP): every output of a run names it\n"
    "                      and prints its symbol from a built-in table (USD $, JPY with no decimals, ...;\n"
    "                      a code it does not list is its own symbol; docs/outputs.md)\n"
    "  --id-type TYPE      customer ids: integer (default) or string (kept as given, as for tribe ingest)\n";

/* --id-type VALUE of command cmd into *string_ids. USAGE when neither. */
static tribe_status id_type_arg(const char *cmd, const char *v, int *string_ids)
{
    if (strcmp(v, "integer") != 0 && strcmp(v, "string") != 0)
        return tribe_cli_usage(cmd, "--id-type is integer or string, not '%s'", v);
    *string_ids = strcmp(v, "string") == 0;
    return TRIBE_OK;
}

static tribe_status default_beside(const char *out, const char *suffix, char *buf, size_t cap)
{
    size_t n = strlen(out);
    if (n > 3 && strcmp(out + n - 3, ".h5") == 0)
        n -= 3;
    return tribe_fmt(buf, cap, "%.*s%s", (int)n, out, suffix);
}

static tribe_status default_rejects(const char *out, char *buf, size_t cap)
{
    return default_beside(out, ".rejects.csv", buf, cap);
}

/* The files given to one source option, in order, glob patterns expanded. */
typedef struct {
    char **path;
    int n, cap;
} path_list;

static void path_list_free(path_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
    memset(l, 0, sizeof *l);
}

static tribe_status path_list_push(path_list *l, const char *opt, const char *p)
{
    tribe_status st = TRIBE_OK;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->path[i], p) == 0)
            return tribe_cli_usage("ingest", "--%s: '%s' is given twice (its rows would count twice)", opt, p);
    if (l->n == l->cap) {
        int ncap = l->cap ? 2 * l->cap : 8;
        TRIBE_TRY(tribe_realloc((void **)&l->path, (size_t)ncap * sizeof *l->path));
        l->cap = ncap;
    }
    TRIBE_TRY(tribe_alloc((void **)&l->path[l->n], strlen(p) + 1));
    memcpy(l->path[l->n++], p, strlen(p) + 1);
cleanup:
    return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the value of --opt: a path, or a glob(3) pattern (any of * ? [) whose
 * matches are added sorted by byte value. A pattern matching nothing is a
 * usage error naming it, unless a file has exactly that name. */
static tribe_status path_list_add(path_list *l, const char *opt, const char *arg)
{
    tribe_status st = TRIBE_OK;
    glob_t g;
    int rc;
    if (!strpbrk(arg, "*?["))
        return path_list_push(l, opt, arg);
    memset(&g, 0, sizeof g);
    rc = glob(arg, GLOB_NOSORT, NULL, &g);
    if (rc == GLOB_NOMATCH && access(arg, F_OK) == 0)
        st = path_list_push(l, opt, arg); /* a name that merely contains * ? [ */
    else if (rc == GLOB_NOMATCH)
        st = tribe_cli_usage("ingest", "--%s '%s': no file matches the pattern", opt, arg);
    else if (rc != 0)
        st = tribe_fail(rc == GLOB_NOSPACE ? TRIBE_ERR_NOMEM : TRIBE_ERR_IO, "--%s '%s': cannot expand the pattern",
                        opt, arg);
    else
        qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_str);
    for (size_t i = 0; st == TRIBE_OK && i < g.gl_pathc; i++)
        st = path_list_push(l, opt, g.gl_pathv[i]);
    globfree(&g);
    return st;
}

enum { SRC_TEXT = 3, N_SOURCES = 4 }; /* after transactions, web, demographics */

/* The /customers `source` attribute: every input file of each source (and
 * the mapping file, when one was given). */
static tribe_status source_json(const path_list *src, const char *mapping, char **out)
{
    tribe_status st = TRIBE_OK;
    static const char *const key[N_SOURCES] = {"transactions", "web", "demographics", "text"};
    tribe_sbuf b = {0};
    for (int k = 0; k < N_SOURCES; k++) {
        if (k == SRC_TEXT && src[k].n == 0)
            continue; /* the key only with a text source, as before text existed */
        TRIBE_TRY(tribe_sbuf_printf(&b, "%s\"%s\": [", k ? ", " : "{", key[k]));
        for (int i = 0; i < src[k].n; i++) {
            if (i)
                TRIBE_TRY(tribe_sbuf_add(&b, ", "));
            TRIBE_TRY(tribe_sbuf_json_str(&b, src[k].path[i]));
        }
        TRIBE_TRY(tribe_sbuf_add(&b, "]"));
    }
    if (mapping) {
        TRIBE_TRY(tribe_sbuf_add(&b, ", \"mapping\": "));
        TRIBE_TRY(tribe_sbuf_json_str(&b, mapping));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "}"));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* --strict: the first malformed row of the rejects file `path` (sorted,
 * to be moved to `rejects`) as an error. The rows removed by a cleaning
 * rule and the customers left out are passed over: they are not
 * unparseable (map: the mapping their labels name, NULL built-in). */
static tribe_status strict_error(const char *path, const char *rejects, const tribe_mapping *map)
{
    tribe_csv *c = NULL;
    int has = 0;
    tribe_status st = tribe_csv_open(path, NULL, &c);
    while (st == TRIBE_OK && (st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        size_t n;
        if (tribe_csv_error(c) || tribe_csv_nfields(c) < 3)
            continue;
        const char *src = tribe_csv_field(c, 0, &n), *reason = tribe_csv_field(c, 2, &n);
        if (tribe_ingest_reason_is_rule(map, src, reason))
            continue;
        st = tribe_fail(TRIBE_ERR_INPUT, "%s:%s: %s (--strict; all rejected rows are in %s)", src,
                        tribe_csv_field(c, 1, &n), reason, rejects);
        tribe_csv_close(&c);
        return st;
    }
    tribe_csv_close(&c);
    return tribe_fail(TRIBE_ERR_INPUT, "unparseable rows found (see %s)", rejects);
}

/* The files an ingest writes: rejects, target (or none), customers.h5, in
 * the order they are moved into place (the main file last). */
enum { F_REJECTS, F_TARGET, F_OUT, N_FILES };

/* Collective. Rank 0 locks final[F_OUT] + ".lock" until the files are in
 * place (a second ingest into the same file meanwhile stops with IO naming
 * this one); a killed ingest's committed set is completed, and killed
 * writers' temporaries of the files are removed. tmp[i] = final[i] +
 * ".tmp.<rank 0's pid>" on every rank (rank 0's pid: one name for all). */
static tribe_status ingest_begin(tribe_par *par, const char *const *final, char (*tmp)[4096 + 32], tribe_lock **lk)
{
    tribe_status st = TRIBE_OK;
    char *prev = NULL, path[4096 + 16];
    if (tribe_par_rank(par) == 0) {
        st = tribe_fmt(path, sizeof path, "%s.lock", final[F_OUT]);
        if (st == TRIBE_OK)
            st = tribe_lock_take(path, final[F_OUT], "tribe ingest", 1, &prev, lk);
        if (st == TRIBE_OK) {
            long gone = tribe_commit_recover(prev);
            for (int i = 0; i < N_FILES; i++)
                if (final[i])
                    tribe_tmp_clean(final[i], gone);
        }
    }
    free(prev);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int i = 0; i < N_FILES; i++)
        if (final[i])
            TRIBE_TRY(tribe_tmp_name(par, final[i], tmp[i], sizeof tmp[i]));
cleanup:
    return st;
}

/* Rank 0, at the end. Done: the files were moved into place, or their renames
 * committed (a failed one is left to the next ingest, with the temporaries).
 * Else the rejects of what was read go into place alone (they explain the
 * failure; a killed ingest moves nothing) and the other temporaries go. Then
 * the lock. */
static void ingest_end(tribe_par *par, int done, const char *const *final, char (*tmp)[4096 + 32], tribe_lock **lk)
{
    if (tribe_par_rank(par) != 0 || !*lk)
        return;
    for (int i = 0; !done && i < N_FILES; i++) {
        if (!final[i] || !tmp[i][0])
            continue;
        if (i == F_REJECTS && access(tmp[i], F_OK) == 0 && rename(tmp[i], final[i]) == 0)
            continue;
        unlink(tmp[i]);
    }
    tribe_lock_release(lk);
}

/* A whole number in [lo, hi] for option `opt`. */
static tribe_status text_number(const char *opt, const char *arg, int64_t lo, int64_t hi, int64_t *v)
{
    char *end = NULL;
    long long x = strtoll(arg, &end, 10);
    if (end == arg || *end || x < lo || x > hi)
        return tribe_cli_usage("ingest", "%s '%s': need a whole number from %lld to %lld", opt, arg, (long long)lo,
                               (long long)hi);
    *v = x;
    return TRIBE_OK;
}

/* Collective: the topic model's top terms as the /customers attribute
 * text_topics of the customers.h5 at `path` (one string per topic). */
static tribe_status store_topics(tribe_par *par, const char *path, const tribe_text_topics *topics)
{
    tribe_h5 *h = NULL;
    tribe_status st = tribe_h5_open_rw(par, path, &h);
    st = tribe_par_agree(par, st);
    if (st == TRIBE_OK)
        st = tribe_h5_attr_strs(h, "/customers", "text_topics", topics->k, (const char *const *)topics->terms);
    return tribe_h5_close_after(&h, st);
}

/* The temporal split's options: --horizon needs --cutoff, a cutoff needs a
 * positive --horizon; the target file defaults to beside out. --target
 * without --cutoff writes the BG/NBD inputs of all history (future_spend
 * NaN): what tribe run's ltv stage needs for the job's input. */
static tribe_status split_args(tribe_ingest_cfg *cfg, const char *horizon, const char *out, char *target_path,
                               size_t cap)
{
    char *end = NULL;
    if (horizon && !cfg->cutoff)
        return tribe_cli_usage("ingest", "--horizon without a split: need --cutoff YYYY-MM-DD");
    if (!cfg->cutoff)
        return TRIBE_OK;
    if (!horizon)
        return tribe_cli_usage("ingest", "--cutoff needs --horizon DAYS (the target window)");
    long long h = strtoll(horizon, &end, 10);
    if (end == horizon || *end || h <= 0)
        return tribe_cli_usage("ingest", "--horizon '%s': need a positive number of days", horizon);
    cfg->horizon_days = h;
    return target_path[0] ? TRIBE_OK : default_beside(out, ".target.h5", target_path, cap);
}

/* Collective: --mapping FILE, read on every rank (the same outcome, agreed
 * anyway); its customer_id.type sets the id type unless --id-type says
 * otherwise (a usage error). */
static tribe_status mapping_arg(tribe_par *par, const char *mapping, const char *id_type, tribe_ingest_cfg *cfg,
                                tribe_mapping **map)
{
    tribe_status st = tribe_par_agree(par, tribe_mapping_load(mapping, map));
    if (st != TRIBE_OK)
        return st;
    cfg->mapping = *map;
    if (id_type && cfg->string_ids != (*map)->id_string)
        return tribe_cli_usage("ingest", "--id-type %s, but %s says customer_id.type \"%s\"", id_type, mapping,
                               (*map)->id_string ? "string" : "integer");
    cfg->string_ids = (*map)->id_string;
    return TRIBE_OK;
}

/* What tribe ingest's command line says. */
typedef struct {
    tribe_ingest_cfg cfg;
    const char *out, *horizon, *mapping, *id_type;
    path_list src[N_SOURCES]; /* transactions, web, demographics, text */
    tribe_text_cfg text;
    char rejects[4096], target_path[4096];
    int strict;
} ingest_opts;

static void ingest_opts_free(ingest_opts *o)
{
    for (int k = 0; k < N_SOURCES; k++)
        path_list_free(&o->src[k]);
}

/* The options into *o (zeroed first; ingest_opts_free frees it, also on
 * error): the source lists, the output, and cfg's files. USAGE for an
 * unknown option, a stray argument, no --transactions or no -o, or -o
 * naming a directory. */
static tribe_status ingest_parse(int argc, char **argv, ingest_opts *o)
{
    tribe_status st = TRIBE_OK;
    int64_t v = 0;
    static const struct option opts[] = {{"transactions", required_argument, 0, 't'},
                                         {"web", required_argument, 0, 'w'},
                                         {"demographics", required_argument, 0, 'd'},
                                         {"output", required_argument, 0, 'o'},
                                         {"rejects", required_argument, 0, 'r'},
                                         {"malformed-only", no_argument, 0, 'm'},
                                         {"snapshot", required_argument, 0, 's'},
                                         {"strict", no_argument, 0, 'S'},
                                         {"cutoff", required_argument, 0, 'c'},
                                         {"horizon", required_argument, 0, 'H'},
                                         {"target", required_argument, 0, 'T'},
                                         {"text", required_argument, 0, 'x'},
                                         {"text-topics", required_argument, 0, 'K'},
                                         {"text-seed", required_argument, 0, 'E'},
                                         {"id-type", required_argument, 0, 'I'},
                                         {"mapping", required_argument, 0, 'M'},
                                         {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->cfg.rejects_all = 1;
    o->text.topics = 8;
    o->text.seed = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 't': TRIBE_TRY(path_list_add(&o->src[0], "transactions", optarg)); break;
        case 'w': TRIBE_TRY(path_list_add(&o->src[1], "web", optarg)); break;
        case 'd': TRIBE_TRY(path_list_add(&o->src[2], "demographics", optarg)); break;
        case 'o': o->out = optarg; break;
        case 'r': snprintf(o->rejects, sizeof o->rejects, "%s", optarg); break;
        case 'm': o->cfg.rejects_all = 0; break;
        case 's': o->cfg.snapshot = optarg; break;
        case 'S': o->strict = 1; break;
        case 'c': o->cfg.cutoff = optarg; break;
        case 'H': o->horizon = optarg; break;
        case 'T': snprintf(o->target_path, sizeof o->target_path, "%s", optarg); break;
        case 'x': TRIBE_TRY(path_list_add(&o->src[SRC_TEXT], "text", optarg)); break;
        case 'K': TRIBE_TRY(text_number("--text-topics", optarg, 0, 100, &v)); o->text.topics = (int)v; break;
        case 'E': TRIBE_TRY(text_number("--text-seed", optarg, 0, INT64_MAX, &v)); o->text.seed = (uint64_t)v; break;
        case 'I': TRIBE_TRY(id_type_arg("ingest", optarg, &o->cfg.string_ids)); o->id_type = optarg; break;
        case 'M': o->mapping = optarg; break;
        default: return tribe_cli_usage("ingest", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("ingest", "unexpected argument '%s'", argv[optind]);
    if (o->src[0].n == 0)
        return tribe_cli_usage("ingest", "--transactions FILE is required");
    if (!o->out)
        return tribe_cli_usage("ingest", "-o customers.h5 is required");
    if (tribe_cli_is_dir_arg(o->out)) /* else every source is read before the file cannot be written */
        return tribe_cli_usage("ingest", "-o %s names a directory: name the file to write (%s%scustomers.h5)",
                               o->out, o->out, o->out[strlen(o->out) - 1] == '/' ? "" : "/");
    o->cfg.transactions_files = (const char *const *)o->src[0].path;
    o->cfg.n_transactions_files = o->src[0].n;
    o->cfg.web_files = (const char *const *)o->src[1].path;
    o->cfg.n_web_files = o->src[1].n;
    o->cfg.demographics_files = (const char *const *)o->src[2].path;
    o->cfg.n_demographics_files = o->src[2].n;
cleanup:
    return st;
}

/* Collective: the --text source's columns into t (the mapping's text
 * section, when map is not NULL), its malformed rows appended to rejects. */
static tribe_status ingest_text(tribe_par *par, ingest_opts *o, const tribe_mapping *map, const char *rejects,
                                tribe_table *t, tribe_ledger *led, tribe_text_topics *topics)
{
    tribe_text_cfg *text = &o->text;
    text->files = (const char *const *)o->src[SRC_TEXT].path;
    text->n_files = o->src[SRC_TEXT].n;
    text->gz_block = o->cfg.gz_block;
    text->rejects = rejects;
    if (map) { /* the mapping's text section: its column names and date format */
        for (int k = 0; k < 3; k++)
            text->columns[k] = map->src[TRIBE_MAP_TEXT].column[k]; /* TRIBE_TEXT_* order */
        text->date_format = map->src[TRIBE_MAP_TEXT].date_format;
    }
    return tribe_ingest_text(par, text, t, led, topics);
}

/* Collective, after the summary: with --strict, any malformed row of any
 * source is an error (rank 0 names the first from the rejects file at tmp,
 * to be moved to `rejects`), agreed. */
static tribe_status strict_check(tribe_par *par, const tribe_ledger *led, const char *tmp, const char *rejects,
                                 const tribe_mapping *map)
{
    if (led->malformed + led->web_malformed + led->demographics_malformed + led->text_malformed == 0)
        return TRIBE_OK;
    return tribe_par_agree(par, tribe_par_rank(par) == 0 ? strict_error(tmp, rejects, map) : TRIBE_ERR_INPUT);
}

/* Collective: customers.h5 (with the topics and items) and the target file
 * (target not NULL) written under their temporary names tmp[F_OUT] and
 * tmp[F_TARGET], each with the ledger and sources. t's (and target's)
 * currency is the ledger's. */
static tribe_status ingest_store(tribe_par *par, const ingest_opts *o, const tribe_ledger *led, tribe_table *t,
                                 tribe_table *target, const tribe_text_topics *topics, const tribe_items *items,
                                 char (*tmp)[4096 + 32])
{
    tribe_status st = TRIBE_OK;
    char *ledger = NULL, *source = NULL;
    TRIBE_TRY(tribe_ledger_to_json(led, &ledger));
    TRIBE_TRY(source_json(o->src, o->mapping, &source));
    /* The data's currency (the ledger's) names the money in customers.h5. */
    TRIBE_TRY(tribe_currency_from_attrs(o->out, led->currency, led->currency_symbol, &t->currency));
    if (target)
        target->currency = t->currency;
    TRIBE_TRY(tribe_store_write_customers_at(par, tmp[F_OUT], t, ledger, source));
    if (topics->k > 0)
        TRIBE_TRY(store_topics(par, tmp[F_OUT], topics));
    TRIBE_TRY(tribe_items_write(par, tmp[F_OUT], t, items));
    if (target)
        TRIBE_TRY(tribe_store_write_customers_at(par, tmp[F_TARGET], target, ledger, source));
cleanup:
    free(ledger);
    free(source);
    return st;
}

/* Collective: rank 0 moves the written files into place together
 * (tribe_commit_renames; *done as it says); agreed. */
static tribe_status ingest_commit(tribe_par *par, const char *const *final, char (*tmp)[4096 + 32], tribe_lock *lk,
                                  int *done)
{
    tribe_status st = TRIBE_OK;
    if (tribe_par_rank(par) == 0) {
        const char *from[N_FILES], *to[N_FILES];
        int n = 0;
        for (int i = 0; i < N_FILES; i++)
            if (final[i] && (i != F_REJECTS || access(tmp[i], F_OK) == 0)) {
                from[n] = tmp[i];
                to[n++] = final[i];
            }
        st = tribe_commit_renames(lk, n, from, to, done);
    }
    return tribe_par_agree(par, st);
}

static tribe_status ingest(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    ingest_opts o;
    tribe_ledger led;
    tribe_table *t = NULL, *target = NULL;
    tribe_mapping *map = NULL;
    tribe_text_topics topics = {0};
    tribe_items items = {0}; /* what each customer bought: the offers stage's input */
    char tmp[N_FILES][4096 + 32] = {""};
    const char *final[N_FILES] = {NULL, NULL, NULL};
    tribe_lock *lk = NULL;
    int done = 0;
    TRIBE_TRY(ingest_parse(argc, argv, &o));
    TRIBE_TRY(split_args(&o.cfg, o.horizon, o.out, o.target_path, sizeof o.target_path));
    if (o.mapping)
        TRIBE_TRY(mapping_arg(par, o.mapping, o.id_type, &o.cfg, &map));
    if (!o.rejects[0])
        TRIBE_TRY(default_rejects(o.out, o.rejects, sizeof o.rejects));
    final[F_REJECTS] = o.rejects;
    final[F_TARGET] = o.cfg.cutoff || o.target_path[0] ? o.target_path : NULL;
    final[F_OUT] = o.out;
    TRIBE_TRY(ingest_begin(par, final, tmp, &lk));
    /* Every file is written under its temporary name and all are moved into
     * place together at the end (tribe_commit_renames): a kill at any point
     * leaves the previous set or, once committed, the new one. */
    o.cfg.rejects = tmp[F_REJECTS];

    tribe_progress_stage("ingest");
    st = tribe_ingest_split_items(par, &o.cfg, &t, final[F_TARGET] ? &target : NULL, &led, &items);
    if (st != TRIBE_OK)
        goto cleanup;
    if (o.src[SRC_TEXT].n > 0)
        TRIBE_TRY(ingest_text(par, &o, map, tmp[F_REJECTS], t, &led, &topics));
    if (tribe_par_rank(par) == 0)
        tribe_ledger_print(&led, map, stderr);
    if (o.strict)
        TRIBE_TRY(strict_check(par, &led, tmp[F_REJECTS], o.rejects, map));
    TRIBE_TRY(ingest_store(par, &o, &led, t, target, &topics, &items, tmp));
    TRIBE_TRY(ingest_commit(par, final, tmp, lk, &done));
    done = 1;
    if (tribe_par_rank(par) == 0)
        printf("ingested %lld customers (%lld of %lld transaction rows kept) into %s; rejects: %s\n",
               (long long)t->n_global, (long long)led.rows_kept, (long long)led.rows_read, o.out, o.rejects);
    if (target && !o.cfg.cutoff && tribe_par_rank(par) == 0)
        printf("BG/NBD inputs of all history (no cutoff, future_spend NaN) in %s\n", o.target_path);
    if (target && o.cfg.cutoff && tribe_par_rank(par) == 0)
        printf("temporal split at %s: target (future_spend over %lld days, BG/NBD inputs) in %s\n", led.cutoff,
               (long long)led.horizon_days, o.target_path);
cleanup:
    ingest_end(par, done, final, tmp, &lk);
    ingest_opts_free(&o);
    tribe_text_topics_free(&topics);
    tribe_items_free(&items);
    tribe_mapping_destroy(&map);
    tribe_table_destroy(&t);
    tribe_table_destroy(&target);
    return st;
}

static tribe_status import(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_table *t = NULL;
    char *source = NULL;
    const char *out = NULL, *in = NULL, *code = NULL;
    tribe_currency cur = tribe_currency_default();
    int string_ids = 0, c;
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"currency", required_argument, 0, 'c'},
                                         {"id-type", required_argument, 0, 'I'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'c')
            code = optarg;
        else if (c == 'I')
            TRIBE_TRY(id_type_arg("import", optarg, &string_ids));
        else
            return tribe_cli_usage("import", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return tribe_cli_usage("import", "expects exactly one FEATURES.csv");
    in = argv[optind];
    if (!out)
        return tribe_cli_usage("import", "-o customers.h5 is required");
    if (code && tribe_currency_from_code(code, &cur) != TRIBE_OK)
        return tribe_cli_usage("import", "--currency '%s' is not an ISO 4217 code (three letters: GBP, USD, JPY, ...)",
                               code);
    TRIBE_TRY(tribe_import_csv_ids(par, in, string_ids, &t));
    t->currency = cur;
    TRIBE_TRY(tribe_alloc((void **)&source, strlen(in) + 32));
    snprintf(source, strlen(in) + 32, "{\"import\": \"%s\"}", in);
    TRIBE_TRY(tribe_store_write_customers(par, out, t, NULL, source));
    if (tribe_par_rank(par) == 0)
        printf("imported %lld customers x %d features into %s (currency %s)\n", (long long)t->n_global, t->d, out,
               t->currency.code);
cleanup:
    free(source);
    tribe_table_destroy(&t);
    return st;
}

const tribe_cli_cmd tribe_cmd_ingest = {"ingest", "raw transactions (+ web, demographics) -> customers.h5",
                                        INGEST_USAGE, ingest};
const tribe_cli_cmd tribe_cmd_import = {"import", "a ready feature table (CSV) -> customers.h5", IMPORT_USAGE, import};
