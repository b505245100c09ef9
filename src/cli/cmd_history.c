/* tribe history DIR: the runs an output directory keeps.
 * tribe diff A B: what changed from run A to run B (transitions, migration). */
#include "cli.h"
#include "tribe/continuity.h"
#include "tribe/h5.h"
#include "tribe/numfmt.h"
#include "tribe/record.h"
#include "tribe/segment.h"
#include "tribe/transform.h"

#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HISTORY_USAGE[] =
    "usage: tribe history DIR\n\n"
    "Lists the runs an output directory of tribe run keeps (DIR/runs/<run_id>, oldest first; * marks\n"
    "the one DIR/latest points at): when it ran, customers, K, the segment sizes, the sampled\n"
    "silhouette, how it was fitted (refit, warm, score) and its transitions from the run it followed.\n"
    "Reads each run's run.json; a run directory without one is listed as incomplete.\n";

static const char DIFF_USAGE[] =
    "usage: tribe diff A B [--json]\n\n"
    "What changed from run A to run B: every segment's transition (survived, split, absorbed,\n"
    "disappeared, emerged; matched as tribe run matches a run to its previous one with the default\n"
    "continuity settings) and the migration matrix of customers from A's segments (and new customers)\n"
    "to B's (and gone customers). A and B: results.h5 files, run directories or output directories\n"
    "(their latest run). --json prints the changes as JSON (docs/resegmentation.md). Collective;\n"
    "rank 0 prints.\n";

/* ---- history ------------------------------------------------------------------ */

typedef struct {
    char id[256];
    char created[40];
    tribe_rec *rec; /* NULL: no run.json */
} hist_run;

static int by_created(const void *a, const void *b)
{
    const hist_run *x = a, *y = b;
    int c = strcmp(x->created, y->created);
    return c ? c : strcmp(x->id, y->id);
}

static const char *str_at(const tribe_rec *r, const char *a, const char *b)
{
    const tribe_rec *v = tribe_rec_get(r, a);
    return b ? tribe_rec_string(tribe_rec_get(v, b)) : tribe_rec_string(v);
}

/* "3 survived, 1 split" from a run record's continuity changes, or "-". */
static void transitions_text(const tribe_rec *rec, char *buf, size_t cap)
{
    const tribe_rec *ch = tribe_rec_get(tribe_rec_get(rec, "continuity"), "changes");
    const tribe_rec *tr = tribe_rec_get(ch, "transitions");
    static const char *const TYPES[] = {"survived", "split", "absorbed", "disappeared", "emerged"};
    int count[5] = {0};
    for (const tribe_rec *t = tribe_rec_first(tr); t; t = tribe_rec_next(t))
        for (int i = 0; i < 5; i++)
            count[i] += str_at(t, "type", NULL) && strcmp(str_at(t, "type", NULL), TYPES[i]) == 0;
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < 5 && at < cap; i++)
        if (count[i])
            at += (size_t)snprintf(buf + at, cap - at, "%s%d %s", at ? ", " : "", count[i], TYPES[i]);
    if (!ch)
        snprintf(buf, cap, "-");
}

static void print_run(const hist_run *h, int latest)
{
    char sizes[256] = "", tr[256], v[48], sv[16] = "-";
    const tribe_rec *r = h->rec;
    if (!r) {
        printf("%c %-24s %-20s (incomplete: no run.json)\n", latest ? '*' : ' ', h->id, "");
        return;
    }
    const tribe_rec *segs = tribe_rec_get(tribe_rec_get(r, "segments"), "segments");
    size_t at = 0;
    for (const tribe_rec *s = tribe_rec_first(segs); s && at < sizeof sizes; s = tribe_rec_next(s))
        at += (size_t)snprintf(sizes + at, sizeof sizes - at, "%s%s", at ? "/" : "",
                               tribe_fmt_count(v, sizeof v, tribe_rec_number(tribe_rec_get(s, "size"))));
    transitions_text(r, tr, sizeof tr);
    const char *mode = str_at(r, "previous", "rerun");
    double sil = tribe_rec_number(tribe_rec_get(r, "silhouette"));
    if (!isnan(sil))
        snprintf(sv, sizeof sv, "%.3f", sil);
    printf("%c %-24s %-20s %10s %3.0f  %-6s %-6s %-30s %s\n", latest ? '*' : ' ', h->id, h->created,
           tribe_fmt_count(v, sizeof v, tribe_rec_number(tribe_rec_get(r, "customers"))),
           tribe_rec_number(tribe_rec_get(r, "k")), sv, mode ? mode : "new", tr, sizes);
}

/* Not collective. The runs of dir, oldest first, into *out[*n]. */
static tribe_status read_history(const char *dir, hist_run **out, int *n)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 512];
    hist_run *runs = NULL;
    int cnt = 0, cap = 0;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/runs", dir));
    DIR *d = opendir(path);
    if (!d)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: no run history here (no %s; is it the output directory of a tribe run?)",
                          dir, path);
    struct dirent *e;
    while ((e = readdir(d)) && st == TRIBE_OK) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof runs->id)
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            st = tribe_realloc((void **)&runs, (size_t)cap * sizeof *runs);
            if (st != TRIBE_OK)
                break;
        }
        hist_run *h = &runs[cnt++];
        memset(h, 0, sizeof *h);
        snprintf(h->id, sizeof h->id, "%s", e->d_name);
        char *text = NULL;
        if (snprintf(path, sizeof path, "%s/runs/%s/run.json", dir, e->d_name) < (int)sizeof path &&
            tribe_read_file(path, &text, NULL) == TRIBE_OK && tribe_rec_parse(text, &h->rec) == TRIBE_OK) {
            const char *c = str_at(h->rec, "created", NULL);
            snprintf(h->created, sizeof h->created, "%s", c ? c : "");
        }
        tribe_clear_error();
        free(text);
    }
    closedir(d);
    if (st == TRIBE_OK && cnt > 1)
        qsort(runs, (size_t)cnt, sizeof *runs, by_created);
    *out = runs;
    *n = cnt;
    runs = NULL;
cleanup:
    free(runs);
    return st;
}

static tribe_status history(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    hist_run *runs = NULL;
    int n = 0;
    char link[4096] = "", path[4096 + 16];
    if (argc != 2)
        return tribe_cli_usage("history", "give exactly one DIR (the output directory of tribe run)");
    if (tribe_par_rank(par) != 0)
        return TRIBE_OK;
    TRIBE_TRY(read_history(argv[1], &runs, &n));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/latest", argv[1]));
    ssize_t len = readlink(path, link, sizeof link - 1);
    link[len > 0 ? len : 0] = '\0';
    printf("  %-24s %-20s %10s %3s  %-6s %-6s %-30s %s\n", "run", "created (UTC)", "customers", "K", "silh.", "fit",
           "transitions", "segment sizes");
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(link, '/');
        print_run(&runs[i], strcmp(base ? base + 1 : link, runs[i].id) == 0);
    }
    if (n == 0)
        printf("  (no runs yet)\n");
cleanup:
    for (int i = 0; i < n; i++)
        tribe_rec_destroy(&runs[i].rec);
    free(runs);
    return st;
}

/* ---- diff --------------------------------------------------------------------- */

/* Collective. Run B's customers (ids and labels, block-distributed), its
 * segments (names, ids, sizes) and, when its model space is A's columns,
 * its centres in A's model space. */
typedef struct {
    tribe_prev *run;       /* B read as a previous run (model, ids, names) */
    tribe_rows rows;
    int64_t *id;
    int32_t *label;
} diff_side;

static tribe_status read_side(tribe_par *par, const tribe_prev *b, diff_side *s)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    int64_t lo = 0, hi = 0;
    tribe_par_block(b->n, tribe_par_size(par), tribe_par_rank(par), &lo, &hi);
    TRIBE_TRY(tribe_rows_init(par, hi - lo, lo, b->n, &s->rows));
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open(par, b->path, &h)));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, b->n, lo, hi - lo, NULL, (void **)&s->id));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/label", TRIBE_H5_I32, b->n, lo, hi - lo, NULL, (void **)&s->label));
    for (int64_t i = 0; i < hi - lo && st == TRIBE_OK; i++)
        if (s->label[i] < 0 || s->label[i] >= b->k)
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/label of row %lld is %d, outside 0..%d", b->path,
                            (long long)(lo + i), s->label[i], b->k - 1);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    st = tribe_h5_close_after(&h, st);
    return tribe_par_agree(par, st);
}

/* Not collective. Distances of B's centres, mapped into A's model space, to
 * A's centres (NaN when the spaces differ in columns or log1p). */
static tribe_status centre_distances(const tribe_prev *a, const tribe_prev *b, double **out)
{
    double *mapped = NULL;
    tribe_status st = tribe_calloc((void **)out, (size_t)a->k * b->k + 1, sizeof **out);
    int same = st == TRIBE_OK && a->m == b->m;
    for (int j = 0; same && j < a->m; j++)
        same = strcmp(a->names[j], b->names[j]) == 0 && a->log1p[j] == b->log1p[j];
    if (same)
        st = tribe_alloc((void **)&mapped, (size_t)b->k * b->m * sizeof *mapped);
    if (st == TRIBE_OK && same)
        tribe_scaler_remap(b->m, b->mean, b->std, a->mean, a->std, b->k, b->centroids, mapped);
    for (int i = 0; st == TRIBE_OK && i < a->k; i++)
        for (int l = 0; l < b->k; l++) {
            double d2 = 0;
            for (int j = 0; same && j < a->m; j++) {
                double dv = mapped[(size_t)l * b->m + j] - a->centroids[(size_t)i * a->m + j];
                d2 += dv * dv;
            }
            (*out)[(size_t)i * b->k + l] = same ? sqrt(d2) : NAN;
        }
    free(mapped);
    return st;
}

/* Not collective. B's segments as the later side of a comparison. */
static tribe_status later_segments(const tribe_prev *b, tribe_segments **out)
{
    static const char *const NONE[] = {"-"};
    tribe_status st = tribe_segments_create(b->k, 1, NONE, out);
    for (int c = 0; st == TRIBE_OK && c < b->k; c++) {
        (*out)->seg[c].id = (int)b->seg_id[c];
        (*out)->seg[c].size = b->size[c];
        snprintf((*out)->seg[c].name, sizeof (*out)->seg[c].name, "%s", b->seg_names[c]);
    }
    return st;
}

static void print_matrix(const tribe_changes *c, const tribe_segments *s)
{
    char v[48];
    printf("\nmigration (customers; rows: %s, columns: %s)\n%-26s", c->prev->run_id, "the later run", "from \\ to");
    for (int j = 0; j < c->kn; j++)
        printf(" %10s", (snprintf(v, sizeof v, "#%d", s->seg[j].id), v));
    printf(" %10s\n", "gone");
    for (int i = 0; i <= c->ko; i++) {
        char label[64];
        if (i < c->ko)
            snprintf(label, sizeof label, "#%lld %.20s", (long long)c->prev->seg_id[i], c->prev->seg_names[i]);
        else
            snprintf(label, sizeof label, "new to the base");
        printf("%-26s", label);
        for (int j = 0; j <= c->kn; j++)
            printf(" %10s", tribe_fmt_count(v, sizeof v, (double)c->overlap[(size_t)i * (c->kn + 1) + j]));
        printf("\n");
    }
}

/* Rank 0. The comparison in words (or JSON). */
static tribe_status print_diff(const tribe_changes *c, const tribe_prev *b, int json)
{
    tribe_status st = TRIBE_OK;
    tribe_segments *s = NULL;
    char *text = NULL, line[512];
    int64_t cont = 0, stayed = 0, added = 0, gone = 0;
    TRIBE_TRY(later_segments(b, &s));
    if (json) {
        TRIBE_TRY(tribe_changes_json(c, s, &text));
        printf("%s\n", text);
        goto cleanup;
    }
    tribe_changes_counts(c, &cont, &stayed, &added, &gone);
    printf("from %s (K=%d, %lld customers) to %s (K=%d, %lld customers)\n", c->prev->run_id, c->ko,
           (long long)c->prev->n, b->run_id, c->kn, (long long)b->n);
    printf("customers: %lld in both (%lld changed segment id), %lld new, %lld gone\n\ntransitions\n", (long long)cont,
           (long long)(cont - stayed), (long long)added, (long long)gone);
    for (int t = 0; t < c->match.n; t++) {
        tribe_changes_describe(c, s, &c->match.tr[t], line, sizeof line);
        printf("  %s\n", line);
    }
    print_matrix(c, s);
cleanup:
    free(text);
    tribe_segments_destroy(&s);
    return st;
}

static tribe_status diff(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    static const struct option LONG[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    int json = 0, o;
    tribe_prev *a = NULL, *b = NULL;
    diff_side side = {0};
    tribe_changes c = {0};
    int32_t *pl = NULL;
    int64_t *gone = NULL;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", LONG, NULL)) != -1)
        if (o == 'j')
            json = 1;
        else
            return tribe_cli_usage("diff", "unknown option");
    if (argc - optind != 2)
        return tribe_cli_usage("diff", "give exactly two runs, A and B");
    TRIBE_TRY(tribe_prev_read(par, argv[optind], &a));
    TRIBE_TRY(tribe_prev_read(par, argv[optind + 1], &b));
    TRIBE_TRY(read_side(par, b, &side));
    c.prev = a;
    c.ko = a->k;
    c.kn = b->k;
    st = tribe_calloc((void **)&pl, (size_t)side.rows.n_local + 1, sizeof *pl);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&gone, (size_t)a->k, sizeof *gone);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_prev_labels(&side.rows, side.id, a, pl, gone));
    /* results files hold no per-customer spend: no revenue */
    TRIBE_TRY(tribe_par_agree(par, tribe_changes_migration(par, &c, pl, side.label, side.rows.n_local, NULL, 0, -1,
                                                            gone)));
    TRIBE_TRY(tribe_par_agree(par, centre_distances(a, b, &c.cdist)));
    tribe_match_cfg mc;
    tribe_match_cfg_default(&mc);
    tribe_match_in in = {.ko = a->k, .kn = b->k, .overlap = c.overlap, .cdist = c.cdist, .old_id = a->seg_id,
                         .next_id = a->next_id};
    TRIBE_TRY(tribe_par_agree(par, tribe_match_segments(&in, &mc, &c.match)));
    if (tribe_par_rank(par) == 0)
        st = print_diff(&c, b, json);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(pl);
    free(gone);
    free(side.id);
    free(side.label);
    tribe_changes_free(&c);
    tribe_prev_destroy(&a);
    tribe_prev_destroy(&b);
    return st;
}

const tribe_cli_cmd tribe_cmd_history = {"history", "list the runs an output directory keeps", HISTORY_USAGE,
                                         history};
const tribe_cli_cmd tribe_cmd_diff = {"diff", "what changed between two runs (transitions, migration)", DIFF_USAGE,
                                      diff};
