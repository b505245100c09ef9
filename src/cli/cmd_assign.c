/* tribe assign MODEL.h5 CUSTOMERS.h5|CUSTOMERS.csv [-o OUT.csv|OUT.h5]:
 * labels customers with a trained model (results.h5 of `tribe run`). */
#include "cli.h"
#include "tribe/cluster.h"
#include "tribe/continuity.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/ingest.h"
#include "tribe/sbuf.h"
#include "tribe/stage.h"
#include "tribe/transform.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: tribe assign MODEL.h5 CUSTOMERS.h5|CUSTOMERS.csv [-o OUT.csv|OUT.h5] [--id-type integer|string]\n\n"
    "Labels customers with the segments of a finished run: MODEL.h5 is its results.h5. The input's\n"
    "columns are matched to the model's by name (extra columns are ignored, a missing one is an error),\n"
    "then transformed exactly as in the run (missing values imputed, log1p, standardisation with the\n"
    "run's moments) and each customer gets the nearest centroid. CUSTOMERS is a customers.h5 (from\n"
    "tribe ingest / tribe import) or a features CSV in tribe import's format (customer id first).\n"
    "Output rows are in ascending customer id: customer_id,segment,segment_name,distance (CSV; default\n"
    "standard output; segment is the model's segment id as its report shows it), or\n"
    "/segments/{id,label,distance} in an HDF5 file when OUT ends in .h5.\n"
    "With -o DIR/ (a directory: a trailing slash, or one that exists) it is a whole score-only run\n"
    "instead: tribe run with previous = MODEL and continuity.mode \"score\" (docs/resegmentation.md),\n"
    "writing DIR/results.h5 with the segment statistics, personas.json, segments.csv, migration.csv,\n"
    "report.html and the rest of a run's outputs, every stage at its default settings.\n"
    "  -o, --output FILE   where the labels go (.csv or .h5), or DIR/ for the full outputs\n"
    "  --id-type TYPE      a CSV's customer ids: integer or string (kept as given, as for tribe import);\n"
    "                      default: string when MODEL.h5 was trained on string ids, else integer\n";

#define TRIBE_LABELS_FORMAT "tribe-labels"

/* Rows transformed at a time: bounds the model-space buffer. */
enum { BLOCK_ROWS = 65536 };

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* One output row, as it travels to rank 0. */
typedef struct {
    int64_t id;
    int32_t label;
    float dist;
    char text[TRIBE_ID_BUF]; /* the id's text, "" with integer ids */
} out_row;

/* The segment names as CSV text cells (tribe_csv_cell), [k] strings. */
static tribe_status name_cells(const tribe_prev *md, char ***out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(tribe_calloc((void **)out, (size_t)md->k, sizeof **out));
    for (int c = 0; c < md->k; c++) {
        TRIBE_TRY(tribe_sbuf_csv_cell(&b, md->seg_names[c]));
        TRIBE_TRY(tribe_sbuf_take(&b, &(*out)[c]));
    }
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* Collective. CSV rows in global order: rank 0 writes, the others send
 * their rows in blocks (one gatherv per block, only the sender contributing),
 * so no rank ever holds more than a block of another's rows. */
static tribe_status write_csv(tribe_par *par, const char *out, const tribe_prev *md, const tribe_table *t,
                              const int32_t *label, const float *dist)
{
    tribe_status st = TRIBE_OK, wst = TRIBE_OK;
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    FILE *f = NULL;
    char tmp[4096] = "";
    int64_t *counts = NULL;
    out_row *send = NULL, *got = NULL;
    char **cells = NULL;
    size_t total = 0;
    if (rank == 0) {
        wst = name_cells(md, &cells);
        if (wst == TRIBE_OK && out) {
            wst = tribe_fmt(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
            if (wst == TRIBE_OK && !(f = fopen(tmp, "w")))
                wst = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create", out);
        } else if (wst == TRIBE_OK) {
            f = stdout;
        }
        if (f && fputs("customer_id,segment,segment_name,distance\n", f) < 0)
            wst = tribe_fail_errno(TRIBE_ERR_IO, "%s: write failed", out ? out : "standard output");
    }
    TRIBE_TRY(tribe_par_agree(par, wst));
    TRIBE_TRY(tribe_calloc((void **)&counts, (size_t)size, sizeof *counts));
    counts[rank] = t->n_local;
    TRIBE_TRY(tribe_par_sum_i64(par, counts, size));
    TRIBE_TRY(tribe_alloc((void **)&send, (size_t)BLOCK_ROWS * sizeof *send));
    for (int r = 0; r < size; r++)
        for (int64_t lo = 0; lo < counts[r]; lo += BLOCK_ROWS) {
            int64_t n = counts[r] - lo < BLOCK_ROWS ? counts[r] - lo : BLOCK_ROWS;
            if (rank == r)
                for (int64_t i = 0; i < n; i++) {
                    send[i] = (out_row){t->id[lo + i], label[lo + i], dist[lo + i], ""};
                    if (t->id_text)
                        snprintf(send[i].text, sizeof send[i].text, "%s", tribe_table_id_text(t, lo + i));
                }
            TRIBE_TRY(tribe_par_gatherv(par, send, rank == r ? (size_t)n * sizeof *send : 0, 0, (void **)&got,
                                        &total, NULL, NULL));
            for (size_t i = 0; rank == 0 && wst == TRIBE_OK && i < total / sizeof *got; i++) {
                char idb[TRIBE_ID_BUF], cell[3 * TRIBE_ID_BUF];
                tribe_id_format(t->id_text ? got[i].text : NULL, got[i].id, idb);
                tribe_csv_cell(cell, sizeof cell, idb, strlen(idb));
                if (fprintf(f, "%s,%lld,%s,%.9g\n", cell, (long long)md->seg_id[got[i].label],
                            cells[got[i].label], (double)got[i].dist) < 0)
                    wst = tribe_fail_errno(TRIBE_ERR_IO, "%s: write failed", out ? out : "standard output");
            }
            free(got);
            got = NULL;
        }
    if (rank == 0 && f) {
        if (f == stdout) {
            if (fflush(f) != 0 && wst == TRIBE_OK)
                wst = tribe_fail_errno(TRIBE_ERR_IO, "standard output: write failed");
        } else {
            int bad = fclose(f) != 0;
            f = NULL;
            if (bad && wst == TRIBE_OK)
                wst = tribe_fail_errno(TRIBE_ERR_IO, "%s: write failed (disk full?)", out);
            if (wst == TRIBE_OK && rename(tmp, out) != 0)
                wst = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the finished file into place", out);
        }
    }
    st = wst;
cleanup:
    if (f && f != stdout)
        fclose(f);
    if (rank == 0 && tmp[0] && st != TRIBE_OK)
        unlink(tmp);
    for (int c = 0; cells && c < md->k; c++)
        free(cells[c]);
    free(cells);
    free(counts);
    free(send);
    free(got);
    return tribe_par_agree(par, st);
}

/* Collective. The labels as an HDF5 file: /segments/{id,label,distance},
 * segment names on /segments, written atomically. */
static tribe_status write_h5(tribe_par *par, const char *out, const char *model_path, const tribe_prev *md,
                             const tribe_table *t, const int32_t *label, const float *dist)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char tmp[4096];
    TRIBE_TRY(tribe_tmp_name(par, out, tmp, sizeof tmp));
    st = tribe_par_agree(par, tribe_h5_create(par, tmp, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", TRIBE_LABELS_FORMAT));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", 1));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_version", TRIBE_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "model", model_path));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/id", TRIBE_H5_I64, t->n_global, t->offset, t->n_local, 1, t->id));
    if (t->id_text)
        TRIBE_TRY(tribe_h5_write_str_rows(h, "/segments/id_text", t->n_global, t->offset, t->n_local, t->id_width,
                                          t->id_text));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/label", TRIBE_H5_I32, t->n_global, t->offset, t->n_local, 1, label));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/distance", TRIBE_H5_F32, t->n_global, t->offset, t->n_local, 1, dist));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments", "names", md->k, (const char *const *)md->seg_names));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/segments", "k", md->k));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/segment_id", TRIBE_H5_I64, md->k, 1, md->seg_id));
cleanup:
    st = tribe_h5_close_after(&h, st);
    st = tribe_par_agree(par, st);
    if (tribe_par_rank(par) == 0) {
        if (st == TRIBE_OK && rename(tmp, out) != 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the finished file into place", out);
        if (st != TRIBE_OK)
            unlink(tmp);
    }
    return tribe_par_agree(par, st);
}

/* Collective. The score-only run of the whole pipeline into dir. */
static tribe_status assign_run(tribe_par *par, const char *mpath, const char *in, const char *dir)
{
    tribe_status st = TRIBE_OK;
    tribe_pipeline *pl = NULL;
    tribe_sbuf b = {0};
    char *mfile = realpath(mpath, NULL), *input = realpath(in, NULL);
    if (!mfile || !input) {
        st = tribe_fail_errno(TRIBE_ERR_INPUT, "%s", !mfile ? mpath : in);
        goto cleanup;
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "{\"input\": "));
    TRIBE_TRY(tribe_sbuf_json_str(&b, input));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"output\": "));
    TRIBE_TRY(tribe_sbuf_json_str(&b, dir));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"previous\": "));
    TRIBE_TRY(tribe_sbuf_json_str(&b, mfile));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"continuity\": {\"mode\": \"score\"}}"));
    TRIBE_TRY(tribe_par_agree(par, tribe_pipeline_create_text(par, NULL, b.p, NULL, 0, &pl)));
    TRIBE_TRY(tribe_pipeline_run(pl));
    if (tribe_par_rank(par) == 0) {
        const tribe_run *r = tribe_pipeline_context(pl);
        printf("assigned %lld customers to %d segments with %s: %s (run %s)\n", (long long)r->rows.n_global, r->k,
               mfile, dir, r->job->run_id);
    }
cleanup:
    tribe_pipeline_destroy(&pl);
    tribe_sbuf_free(&b);
    free(mfile);
    free(input);
    return st;
}

/* -o FILE and --id-type TYPE (*id_type stays NULL without it), then MODEL
 * and CUSTOMERS from argv[*first]. USAGE for anything else. */
static tribe_status assign_args(int argc, char **argv, const char **out, const char **id_type, int *first)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"id-type", required_argument, 0, 'I'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'o')
            *out = optarg;
        else if (c == 'I' && (strcmp(optarg, "integer") == 0 || strcmp(optarg, "string") == 0))
            *id_type = optarg;
        else if (c == 'I')
            return tribe_cli_usage("assign", "--id-type is integer or string, not '%s'", optarg);
        else
            return tribe_cli_usage("assign", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 2)
        return tribe_cli_usage("assign", "expects MODEL.h5 and CUSTOMERS.h5|CUSTOMERS.csv");
    *first = optind;
    return TRIBE_OK;
}

/* Collective. Whether a CSV's ids are strings: as --id-type says, else as
 * the model's run had them (its results.h5 holds /segments/id_text). */
static tribe_status csv_string_ids(tribe_par *par, const char *mpath, const char *id_type, int *string_ids)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    if (id_type) {
        *string_ids = strcmp(id_type, "string") == 0;
        return TRIBE_OK;
    }
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open(par, mpath, &h)));
    *string_ids = tribe_h5_exists(h, "/segments/id_text") > 0;
cleanup:
    st = tribe_h5_close_after(&h, st);
    return tribe_par_agree(par, st);
}

static tribe_status assign(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_prev *md = NULL;
    tribe_table *t = NULL;
    tribe_scaler *sc = NULL;
    int *cols = NULL;
    int32_t *label = NULL;
    float *dist = NULL, *z = NULL;
    const char *out = NULL, *mpath = NULL, *in = NULL, *id_type = NULL;
    int first = 0, string_ids = 0;
    TRIBE_TRY(assign_args(argc, argv, &out, &id_type, &first));
    mpath = argv[first];
    in = argv[first + 1];
    if (out && tribe_cli_is_dir_arg(out) && !ends_with(in, ".h5"))
        /* the run reads customers.h5 (its ids typed already): --id-type would go unused */
        return tribe_cli_usage("assign",
                               "-o %s (a whole score-only run) reads a customers.h5, not a features CSV: make one "
                               "first with 'tribe import %s%s%s -o customers.h5'",
                               out, in, " --id-type ", id_type ? id_type : "integer|string");
    if (out && tribe_cli_is_dir_arg(out))
        return assign_run(par, mpath, in, out);
    if (out && !ends_with(out, ".csv") && !ends_with(out, ".h5"))
        return tribe_cli_usage("assign", "-o must end in .csv or .h5, got '%s'", out);

    TRIBE_TRY(tribe_prev_read(par, mpath, &md));
    if (ends_with(in, ".h5"))
        TRIBE_TRY(tribe_store_read_customers(par, in, &t, NULL));
    else {
        TRIBE_TRY(csv_string_ids(par, mpath, id_type, &string_ids));
        TRIBE_TRY(tribe_par_agree(par, tribe_import_csv_ids(par, in, string_ids, &t)));
    }

    /* Columns by name; the first missing one (model order) is the error. */
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)md->m, sizeof *cols));
    for (int j = 0; j < md->m; j++) {
        cols[j] = tribe_table_feature(t, md->names[j]);
        if (cols[j] < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s', which the model %s uses", in, md->names[j],
                            mpath);
            goto cleanup;
        }
    }
    TRIBE_TRY(tribe_scaler_from_model(md->m, cols, (const char *const *)md->names, md->log1p, md->mean, md->std,
                                      md->impute, &sc));
    TRIBE_TRY(tribe_alloc((void **)&label, ((size_t)t->n_local + 1) * sizeof *label));
    TRIBE_TRY(tribe_alloc((void **)&dist, ((size_t)t->n_local + 1) * sizeof *dist));
    TRIBE_TRY(tribe_alloc((void **)&z, (size_t)BLOCK_ROWS * (size_t)md->m * sizeof *z));
    for (int64_t lo = 0; lo < t->n_local && st == TRIBE_OK; lo += BLOCK_ROWS) {
        int64_t n = t->n_local - lo < BLOCK_ROWS ? t->n_local - lo : BLOCK_ROWS;
        st = tribe_scaler_apply(sc, t->x + (size_t)lo * (size_t)t->d, n, t->d, t->id + lo, z);
        if (st == TRIBE_OK)
            tribe_kmeans_assign(z, n, md->m, md->centroids, md->k, label + lo, dist + lo);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < t->n_local; i++)
        dist[i] = sqrtf(dist[i]);

    if (out && ends_with(out, ".h5"))
        TRIBE_TRY(write_h5(par, out, mpath, md, t, label, dist));
    else
        TRIBE_TRY(write_csv(par, out, md, t, label, dist));
    if (tribe_par_rank(par) == 0 && out)
        printf("assigned %lld customers to %d segments: %s\n", (long long)t->n_global, md->k, out);
cleanup:
    tribe_prev_destroy(&md);
    tribe_table_destroy(&t);
    tribe_scaler_destroy(&sc);
    free(cols);
    free(label);
    free(dist);
    free(z);
    return st;
}

const tribe_cli_cmd tribe_cmd_assign = {"assign", "label new customers with a finished run's model", USAGE, assign};
