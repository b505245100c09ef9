/* tribe export: one CSV row per customer (id, features, categories, segment). */
#include "cli.h"
#include "tribe/h5.h"
#include "tribe/sbuf.h"
#include "tribe/table.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: tribe export FILE.h5 --csv OUT.csv [--results RESULTS.h5] [--customers CUSTOMERS.h5]\n\n"
    "Writes one row per customer: customer_id, every feature (RFM first: recency_days,frequency,monetary),\n"
    "every categorical column as text, and, where results exist, segment_id and segment_name.\n"
    "FILE.h5 is a customers.h5 (then --results adds segments) or a results.h5 (then its run's input\n"
    "customers.h5 is used, or --customers). Collective; ranks write their rows in place.\n";

typedef struct {
    const tribe_table *t;
    const int32_t *label;   /* may be NULL */
    char **seg_names;
    int n_seg;
    int64_t *seg_id;        /* [n_seg] persistent segment id of each label (NULL: the label itself) */
} export_rows;

/* A text cell (tribe_csv_cell: RFC 4180 quoting and the formula rule). */
static size_t put_field(char *dst, size_t cap, const char *s)
{
    return tribe_csv_cell(dst, cap, s, strlen(s));
}

/* Formats row i into buf (cap bytes); returns the length it needs. */
static size_t format_row(const export_rows *e, int64_t i, char *buf, size_t cap)
{
    const tribe_table *t = e->t;
    size_t n = (size_t)snprintf(buf, cap, "%lld", (long long)t->id[i]);
    for (int j = 0; j < t->d; j++) {
        float v = t->x[i * t->d + j];
        char *dst = n < cap ? buf + n : NULL;
        size_t room = n < cap ? cap - n : 0;
        if (isnan(v))
            n += (size_t)snprintf(dst, room, ",");
        else
            n += (size_t)snprintf(dst, room, ",%.9g", (double)v);
    }
    for (int c = 0; c < t->n_cat; c++) {
        int32_t code = t->cat[c].code[i];
        n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, ",");
        if (code >= 0)
            n += put_field(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, t->cat[c].levels[code]);
    }
    if (e->label) {
        int32_t s = e->label[i];
        long long id = e->seg_id && s >= 0 && s < e->n_seg ? (long long)e->seg_id[s] : (long long)s;
        n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, ",%lld,", id);
        if (s >= 0 && s < e->n_seg)
            n += put_field(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, e->seg_names[s]);
    }
    n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "\n");
    return n;
}

static tribe_status header(const export_rows *e, char **out)
{
    tribe_status st = TRIBE_OK;
    size_t cap = 64, n = 0;
    const tribe_table *t = e->t;
    for (int j = 0; j < t->d; j++)
        cap += 3 * strlen(t->names[j]) + 3;
    for (int c = 0; c < t->n_cat; c++)
        cap += 3 * strlen(t->cat[c].name) + 3;
    char *h = NULL;
    TRIBE_TRY(tribe_alloc((void **)&h, cap));
    n += (size_t)snprintf(h, cap, "customer_id");
    for (int j = 0; j < t->d; j++) {
        h[n++] = ',';
        n += put_field(h + n, cap - n, t->names[j]);
    }
    for (int c = 0; c < t->n_cat; c++) {
        h[n++] = ',';
        n += put_field(h + n, cap - n, t->cat[c].name);
    }
    if (e->label)
        n += (size_t)snprintf(h + n, cap - n, ",segment_id,segment_name");
    snprintf(h + n, cap - n, "\n");
    *out = h;
cleanup:
    return st;
}

/* Two passes: the byte length of this rank's rows decides where it writes
 * (exclusive scan), then every rank writes its rows at its own offset. */
static tribe_status write_csv(tribe_par *par, const export_rows *e, const char *path)
{
    tribe_status st = TRIBE_OK;
    char *hdr = NULL, *buf = NULL;
    char tmp[4096] = "";
    int fd = -1;
    const size_t BUF = 1 << 20;
    int64_t mine = 0, before = 0, total = 0;
    TRIBE_TRY(header(e, &hdr));
    TRIBE_TRY(tribe_alloc((void **)&buf, BUF));
    for (int64_t i = 0; i < e->t->n_local; i++)
        mine += (int64_t)format_row(e, i, buf, BUF);
    TRIBE_TRY(tribe_par_exscan_i64(par, mine, &before, &total));
    TRIBE_TRY(tribe_tmp_name(par, path, tmp, sizeof tmp));
    int64_t base = (int64_t)strlen(hdr);
    if (tribe_par_rank(par) == 0) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ftruncate(fd, base + total) != 0 || pwrite(fd, hdr, (size_t)base, 0) != base)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write", path);
    }
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        goto cleanup;
    if (fd < 0 && (fd = open(tmp, O_WRONLY)) < 0)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open for writing", tmp);
    int64_t off = base + before;
    size_t used = 0;
    for (int64_t i = 0; st == TRIBE_OK && i <= e->t->n_local; i++) {
        size_t need = i < e->t->n_local ? format_row(e, i, NULL, 0) : 0;
        if (used && (i == e->t->n_local || used + need + 1 > BUF)) {
            if (pwrite(fd, buf, used, off) != (ssize_t)used)
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: write failed", tmp);
            off += (int64_t)used;
            used = 0;
        }
        if (i < e->t->n_local)
            used += format_row(e, i, buf + used, BUF - used);
    }
    if (fd >= 0 && close(fd) != 0 && st == TRIBE_OK)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", tmp);
    fd = -1;
    st = tribe_par_agree(par, st);
    if (tribe_par_rank(par) == 0) {
        if (st == TRIBE_OK && rename(tmp, path) != 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move into place", path);
        if (st != TRIBE_OK)
            unlink(tmp);
    }
cleanup:
    if (fd >= 0)
        close(fd);
    free(hdr);
    free(buf);
    return tribe_par_agree(par, st);
}

static tribe_status read_segments(tribe_par *par, const char *path, const tribe_table *t, int32_t **label,
                                  char ***names, int *n_names, int64_t **seg_id, char **input)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char *format = NULL;
    int64_t *ids = NULL;
    st = tribe_par_agree(par, tribe_h5_open(par, path, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &format));
    if (!format || strcmp(format, "tribe-results") != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe results file", path);
        goto cleanup;
    }
    if (input)
        TRIBE_TRY(tribe_h5_read_attr_str(h, "/", "input", input));
    if (t) {
        TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, t->n_global, t->offset, t->n_local, NULL,
                                     (void **)&ids));
        for (int64_t i = 0; i < t->n_local; i++)
            if (ids[i] != t->id[i]) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s: row %lld is customer %lld but the customers file has %lld there; "
                                "the results belong to other input", path, (long long)(t->offset + i),
                                (long long)ids[i], (long long)t->id[i]);
                goto cleanup;
            }
        TRIBE_TRY(tribe_h5_read_rows(h, "/segments/label", TRIBE_H5_I32, t->n_global, t->offset, t->n_local, NULL,
                                     (void **)label));
        TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", n_names, names));
        if (tribe_h5_exists(h, "/segments/segment_id")) /* a run's persistent ids (docs/resegmentation.md) */
            TRIBE_TRY(tribe_h5_read_rows(h, "/segments/segment_id", TRIBE_H5_I64, *n_names, 0, *n_names, NULL,
                                         (void **)seg_id));
    }
cleanup:
    tribe_h5_close(&h);
    free(format);
    free(ids);
    return tribe_par_agree(par, st);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    const char *file = NULL, *csv = NULL, *results = NULL, *customers = NULL;
    char *input = NULL, *fmt_attr = NULL;
    tribe_table *t = NULL;
    export_rows e = {0};
    static const struct option opts[] = {{"csv", required_argument, 0, 'c'},
                                         {"results", required_argument, 0, 'r'},
                                         {"customers", required_argument, 0, 'u'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') csv = optarg;
        else if (c == 'r') results = optarg;
        else if (c == 'u') customers = optarg;
        else return tribe_cli_usage("export", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return tribe_cli_usage("export", "expects exactly one FILE.h5");
    file = argv[optind];
    if (!csv)
        return tribe_cli_usage("export", "--csv OUT.csv is required");

    /* Which kind of file is FILE.h5? */
    {
        tribe_h5 *h = NULL;
        st = tribe_par_agree(par, tribe_h5_open(par, file, &h));
        if (st != TRIBE_OK)
            goto cleanup;
        st = tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &fmt_attr);
        if (st == TRIBE_OK && !fmt_attr)
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe file (no tribe_format attribute)", file);
        tribe_h5_close(&h);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    if (strcmp(fmt_attr, "tribe-results") == 0) {
        results = file;
        if (!customers) {
            TRIBE_TRY(read_segments(par, results, NULL, NULL, NULL, NULL, NULL, &input));
            customers = input;
        }
    } else {
        customers = file;
    }
    TRIBE_TRY(tribe_store_read_customers(par, customers, &t, NULL));
    e.t = t;
    if (results)
        TRIBE_TRY(read_segments(par, results, t, (int32_t **)&e.label, &e.seg_names, &e.n_seg, &e.seg_id, NULL));
    TRIBE_TRY(write_csv(par, &e, csv));
    if (tribe_par_rank(par) == 0)
        printf("exported %lld customers to %s\n", (long long)t->n_global, csv);
cleanup:
    free(input);
    free(fmt_attr);
    free((void *)e.label);
    free(e.seg_id);
    if (e.seg_names) {
        for (int i = 0; i < e.n_seg; i++)
            free(e.seg_names[i]);
        free(e.seg_names);
    }
    tribe_table_destroy(&t);
    return st;
}

const tribe_cli_cmd tribe_cmd_export = {"export", "write one CSV row per customer (features and segment)", USAGE, run};
