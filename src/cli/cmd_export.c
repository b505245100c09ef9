/* tribe export: one CSV row per customer (id, features, categories, segment
 * and the run's other per-customer outputs; docs/outputs.md). */
#include "cli.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/sbuf.h"
#include "tribe/table.h"

#include <ctype.h>
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
    "every categorical column as text, and, where results exist, segment_id and segment_name, then the\n"
    "run's per-customer outputs it has: distance, outlier, outlier_score_iqr (outlier_score_dbscan with\n"
    "outliers.method dbscan), predicted_value_<cur>_<H>d,\n"
    "top_segment_id, top_segment_name, top_membership_probability, membership_segment_<id> per segment.\n"
    "FILE.h5 is a customers.h5 (then --results adds segments) or a results.h5 (then its run's input\n"
    "customers.h5 is used, or --customers). Collective; ranks write their rows in place.\n";

typedef struct {
    const tribe_table *t;
    const int32_t *label;   /* may be NULL */
    char **seg_names;
    int n_seg;
    int64_t *seg_id;        /* [n_seg] persistent segment id of each label (NULL: the label itself) */
    /* the run's other per-customer outputs, this rank's rows; NULL when the run has none */
    float *distance;        /* /segments/distance */
    uint8_t *outlier;       /* /segments/outlier */
    float *outlier_score;   /* /segments/outlier_score */
    int outlier_dbscan;     /* its method attribute is "dbscan": the score is nearest core / eps */
    float *ltv;             /* /segments/ltv */
    double ltv_horizon;     /* its horizon_days attribute, NaN when absent */
    float *churn;           /* /segments/churn_risk (docs/churn.md) */
    double churn_horizon;   /* its horizon_days attribute, NaN when absent */
    float *memb;            /* /segments/membership [n_local][n_seg] */
} export_rows;

/* A text cell (tribe_csv_cell: RFC 4180 quoting and the formula rule). */
static size_t put_field(char *dst, size_t cap, const char *s)
{
    return tribe_csv_cell(dst, cap, s, strlen(s));
}

/* The customer id of row i as a cell: the one place export prints an id
 * (the text with string ids, tribe/id.h; a text cell under the CSV rules). */
static size_t put_id(char *dst, size_t cap, const tribe_table *t, int64_t i)
{
    char idb[TRIBE_ID_BUF];
    return put_field(dst, cap, tribe_table_id(t, i, idb));
}

/* The currency of money columns, for their names: the ISO 4217 code of the
 * customers file's currency in lower case ("gbp"; docs/outputs.md). */
static const char *money_unit(const tribe_table *t, char buf[4])
{
    for (int k = 0; k < 4; k++)
        buf[k] = (char)tolower((unsigned char)t->currency.code[k]);
    buf[3] = '\0';
    return buf;
}

/* ",v" with v as %.9g (a float32 read back exactly), "," for NaN. */
static size_t put_num(char *dst, size_t cap, double v)
{
    return isnan(v) ? (size_t)snprintf(dst, cap, ",") : (size_t)snprintf(dst, cap, ",%.9g", v);
}

#define AT(n) ((n) < cap ? buf + (n) : NULL), ((n) < cap ? cap - (n) : 0)

/* The segment cell pair "id,name" of label s (",," outside 0..n_seg-1). */
static size_t put_segment(const export_rows *e, int32_t s, char *buf, size_t cap)
{
    size_t n = 0;
    int known = s >= 0 && s < e->n_seg;
    long long id = e->seg_id && known ? (long long)e->seg_id[s] : (long long)s;
    n += (size_t)snprintf(AT(n), ",%lld,", id);
    if (known)
        n += put_field(AT(n), e->seg_names[s]);
    return n;
}

/* The run's outputs after segment_name (columns in header()). */
static size_t put_outputs(const export_rows *e, int64_t i, char *buf, size_t cap)
{
    size_t n = 0;
    if (e->distance)
        n += put_num(AT(n), (double)e->distance[i]);
    if (e->outlier) {
        n += (size_t)snprintf(AT(n), ",%d", (int)e->outlier[i]);
        n += put_num(AT(n), e->outlier_score ? (double)e->outlier_score[i] : NAN);
    }
    if (e->ltv)
        n += put_num(AT(n), (double)e->ltv[i]);
    if (e->churn)
        n += put_num(AT(n), (double)e->churn[i]);
    if (e->memb) {
        const float *p = e->memb + (size_t)i * (size_t)e->n_seg;
        int top = 0;
        for (int c = 1; c < e->n_seg; c++) /* the first of equal probabilities */
            if (p[c] > p[top])
                top = c;
        n += put_segment(e, top, AT(n));
        n += put_num(AT(n), (double)p[top]);
        for (int c = 0; c < e->n_seg; c++)
            n += put_num(AT(n), (double)p[c]);
    }
    return n;
}

/* Formats row i into buf (cap bytes); returns the length it needs. */
static size_t format_row(const export_rows *e, int64_t i, char *buf, size_t cap)
{
    const tribe_table *t = e->t;
    size_t n = put_id(buf, cap, t, i);
    for (int j = 0; j < t->d; j++)
        n += put_num(AT(n), (double)t->x[i * t->d + j]);
    for (int c = 0; c < t->n_cat; c++) {
        int32_t code = t->cat[c].code[i];
        n += (size_t)snprintf(AT(n), ",");
        if (code >= 0)
            n += put_field(AT(n), t->cat[c].levels[code]);
    }
    if (e->label) {
        n += put_segment(e, e->label[i], AT(n));
        n += put_outputs(e, i, AT(n));
    }
    n += (size_t)snprintf(AT(n), "\n");
    return n;
}

#undef AT

static tribe_status header(const export_rows *e, char **out)
{
    tribe_status st = TRIBE_OK;
    size_t cap = 64, n = 0;
    const tribe_table *t = e->t;
    for (int j = 0; j < t->d; j++)
        cap += 3 * strlen(t->names[j]) + 3;
    for (int c = 0; c < t->n_cat; c++)
        cap += 3 * strlen(t->cat[c].name) + 3;
    cap += 256 + 48 * (size_t)e->n_seg; /* the run's outputs */
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
    if (e->label && e->distance)
        n += (size_t)snprintf(h + n, cap - n, ",distance");
    if (e->label && e->outlier)
        n += (size_t)snprintf(h + n, cap - n, ",outlier,outlier_score_%s", e->outlier_dbscan ? "dbscan" : "iqr");
    if (e->label && e->ltv) {
        char unit[4];
        n += (size_t)snprintf(h + n, cap - n, ",predicted_value_%s", money_unit(t, unit));
        if (isfinite(e->ltv_horizon))
            n += (size_t)snprintf(h + n, cap - n, "_%.0fd", e->ltv_horizon);
    }
    if (e->label && e->churn) {
        n += (size_t)snprintf(h + n, cap - n, ",churn_risk");
        if (isfinite(e->churn_horizon))
            n += (size_t)snprintf(h + n, cap - n, "_%.0fd", e->churn_horizon);
    }
    if (e->label && e->memb) {
        n += (size_t)snprintf(h + n, cap - n, ",top_segment_id,top_segment_name,top_membership_probability");
        for (int c = 0; c < e->n_seg; c++)
            n += (size_t)snprintf(h + n, cap - n, ",membership_segment_%lld",
                                  e->seg_id ? (long long)e->seg_id[c] : (long long)c);
    }
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

/* Reads this rank's rows of an optional per-customer dataset of width cols
 * (*out stays NULL when the run has none). */
static tribe_status read_opt(tribe_h5 *h, const char *name, tribe_h5_type type, const tribe_table *t, int64_t cols,
                             void **out)
{
    tribe_status st = TRIBE_OK;
    int64_t width = 0;
    if (!tribe_h5_exists(h, name))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_read_rows(h, name, type, t->n_global, t->offset, t->n_local, &width, out));
    if (width != cols)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s has %lld columns, the run has %lld segments", name, (long long)width,
                        (long long)cols);
cleanup:
    return st;
}

/* Collective. With e: its segments and the run's per-customer outputs for
 * e->t's rows (the rows must be the same customers); with input: the run's
 * input attribute. */
static tribe_status read_segments(tribe_par *par, const char *path, export_rows *e, char **input)
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
    if (e) {
        const tribe_table *t = e->t;
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
                                     (void **)&e->label));
        TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", &e->n_seg, &e->seg_names));
        if (tribe_h5_exists(h, "/segments/segment_id")) /* a run's persistent ids (docs/resegmentation.md) */
            TRIBE_TRY(tribe_h5_read_rows(h, "/segments/segment_id", TRIBE_H5_I64, e->n_seg, 0, e->n_seg, NULL,
                                         (void **)&e->seg_id));
        TRIBE_TRY(read_opt(h, "/segments/distance", TRIBE_H5_F32, t, 1, (void **)&e->distance));
        TRIBE_TRY(read_opt(h, "/segments/outlier", TRIBE_H5_U8, t, 1, (void **)&e->outlier));
        TRIBE_TRY(read_opt(h, "/segments/outlier_score", TRIBE_H5_F32, t, 1, (void **)&e->outlier_score));
        if (e->outlier) {
            char *method = NULL;
            TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/segments/outlier", "method", &method));
            e->outlier_dbscan = method && strcmp(method, "dbscan") == 0;
            free(method);
        }
        TRIBE_TRY(read_opt(h, "/segments/ltv", TRIBE_H5_F32, t, 1, (void **)&e->ltv));
        if (e->ltv)
            TRIBE_TRY(tribe_h5_read_attr_f64_opt(h, "/segments/ltv", "horizon_days", &e->ltv_horizon));
        TRIBE_TRY(read_opt(h, "/segments/churn_risk", TRIBE_H5_F32, t, 1, (void **)&e->churn));
        if (e->churn)
            TRIBE_TRY(tribe_h5_read_attr_f64_opt(h, "/segments/churn_risk", "horizon_days", &e->churn_horizon));
        if (e->n_seg > 0)
            TRIBE_TRY(read_opt(h, "/segments/membership", TRIBE_H5_F32, t, e->n_seg, (void **)&e->memb));
    }
cleanup:
    tribe_h5_close(&h);
    free(format);
    free(ids);
    return tribe_par_agree(par, st);
}

static void export_rows_free(export_rows *e)
{
    free((void *)e->label);
    free(e->seg_id);
    free(e->distance);
    free(e->outlier);
    free(e->outlier_score);
    free(e->ltv);
    free(e->churn);
    free(e->memb);
    if (e->seg_names) {
        for (int i = 0; i < e->n_seg; i++)
            free(e->seg_names[i]);
        free(e->seg_names);
    }
    memset(e, 0, sizeof *e);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    const char *file = NULL, *csv = NULL, *results = NULL, *customers = NULL;
    char *input = NULL, *fmt_attr = NULL;
    tribe_table *t = NULL;
    export_rows e = {0};
    e.ltv_horizon = NAN;
    e.churn_horizon = NAN;
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
            TRIBE_TRY(read_segments(par, results, NULL, &input));
            customers = input;
        }
    } else {
        customers = file;
    }
    TRIBE_TRY(tribe_store_read_customers(par, customers, &t, NULL));
    e.t = t;
    if (results)
        TRIBE_TRY(read_segments(par, results, &e, NULL));
    TRIBE_TRY(write_csv(par, &e, csv));
    if (tribe_par_rank(par) == 0)
        printf("exported %lld customers to %s\n", (long long)t->n_global, csv);
cleanup:
    free(input);
    free(fmt_attr);
    export_rows_free(&e);
    tribe_table_destroy(&t);
    return st;
}

const tribe_cli_cmd tribe_cmd_export = {"export", "write one CSV row per customer (features, segment, the run's outputs)",
                                        USAGE, run};
