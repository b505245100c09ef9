/* tribe explain RESULTS.h5 --customer ID: why one customer is in its segment. */
#include "cli.h"
#include "tribe/gbdt.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/table.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: tribe explain RESULTS.h5 --customer ID [--top N] [--customers CUSTOMERS.h5]\n\n"
    "Explains one customer's segment with the run's segment-driver model (/model/drivers in\n"
    "RESULTS.h5, docs/gbdt.md): the customer's segment, the model's probability for every segment,\n"
    "and the N (default 5) features with the largest SHAP contributions to the customer's score for\n"
    "its own segment (feature, raw value, contribution in log-odds). The customer's features come\n"
    "from the run's input customers.h5 (the results' `input` attribute) or --customers.\n"
    "An unknown customer id exits 3. Collective; rank 0 prints.\n";

/* What rank 0 needs about the customer, sent by the rank holding it. */
typedef struct {
    int64_t row;   /* global row, -1 = not found anywhere */
    int32_t label;
} found_row;

/* Reads the drivers model and names from a results file (every rank). */
static tribe_status read_results(tribe_par *par, const char *path, char **input, char **json, char ***feat,
                                 int *d, char ***seg_names, int *k, int64_t **seg_id)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char *format = NULL;
    uint8_t *bytes = NULL;
    int64_t rows = 0, cols = 0;
    st = tribe_par_agree(par, tribe_h5_open(par, path, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &format));
    if (!format || strcmp(format, "tribe-results") != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe results file", path);
        goto cleanup;
    }
    if (!tribe_h5_exists(h, "/model/drivers/gbdt_json")) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: holds no segment drivers (/model/drivers); run the job with "
                        "drivers.enabled true", path);
        goto cleanup;
    }
    TRIBE_TRY(tribe_h5_read_attr_str(h, "/", "input", input));
    TRIBE_TRY(tribe_h5_read_small(h, "/model/drivers/gbdt_json", TRIBE_H5_U8, &rows, &cols, (void **)&bytes));
    TRIBE_TRY(tribe_alloc((void **)json, (size_t)rows + 1));
    memcpy(*json, bytes, (size_t)rows);
    (*json)[rows] = '\0';
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/model/drivers/mean_abs_shap", "feature_names", d, feat));
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", k, seg_names));
    /* the ids the report shows (persistent across reruns, docs/resegmentation.md); else the positions */
    TRIBE_TRY(tribe_calloc((void **)seg_id, (size_t)*k + 1, sizeof **seg_id));
    for (int c = 0; c < *k; c++)
        (*seg_id)[c] = c;
    if (tribe_h5_exists(h, "/segments/segment_id"))
        TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/segment_id", TRIBE_H5_I64, *k, 0, *k, 1, *seg_id));
cleanup:
    tribe_h5_close(&h);
    free(format);
    free(bytes);
    return tribe_par_agree(par, st);
}

/* Collective: finds the customer in this rank's shard, checks that the
 * results' row holds the same id, and hands row and label to every rank. */
static tribe_status find_customer(tribe_par *par, const char *path, const tribe_table *t, const char *name,
                                  found_row *out, int *owner)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    int64_t *ids = NULL;
    int32_t *label = NULL;
    int64_t i = tribe_table_find_id(t, name), id = i >= 0 ? t->id[i] : 0;
    st = tribe_par_agree(par, tribe_h5_open(par, path, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, t->n_global, t->offset, t->n_local, NULL,
                                 (void **)&ids));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/label", TRIBE_H5_I32, t->n_global, t->offset, t->n_local, NULL,
                                 (void **)&label));
    if (i >= 0 && ids[i] != id)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: row %lld is customer %lld but the customers file has %lld there; "
                        "the results belong to other input", path, (long long)(t->offset + i), (long long)ids[i],
                        (long long)id);
    TRIBE_TRY(tribe_par_agree(par, st));
    int64_t who = i >= 0 ? tribe_par_rank(par) : -1;
    TRIBE_TRY(tribe_par_max_i64(par, &who, 1));
    *owner = (int)who;
    *out = (found_row){-1, -1};
    if (who < 0)
        goto cleanup;
    if (i >= 0)
        *out = (found_row){t->offset + i, label[i]};
    TRIBE_TRY(tribe_par_bcast(par, out, sizeof *out, (int)who));
cleanup:
    tribe_h5_close(&h);
    free(ids);
    free(label);
    return tribe_par_agree(par, st);
}

/* Rank 0: the explanation of one row x[d]. */
static tribe_status print_explanation(const tribe_gbdt_model *m, const float *x, char *const *feat, int d,
                                      char *const *seg_names, const int64_t *seg_id, int k, const char *id, int32_t seg,
                                      int top)
{
    tribe_status st = TRIBE_OK;
    int g = m->n_groups;
    double *phi = NULL, *prob = NULL, *raw = NULL, *val = NULL;
    int *idx = NULL;
    TRIBE_TRY(tribe_calloc((void **)&phi, (size_t)g * ((size_t)d + 1), sizeof *phi));
    TRIBE_TRY(tribe_calloc((void **)&prob, 2 * (size_t)g, sizeof *prob));
    raw = prob + g;
    TRIBE_TRY(tribe_calloc((void **)&val, (size_t)d + 1, sizeof *val));
    TRIBE_TRY(tribe_calloc((void **)&idx, (size_t)d + 1, sizeof *idx));
    TRIBE_TRY(tribe_gbdt_shap(m, x, 1, phi));
    tribe_gbdt_predict(m, x, 1, prob);
    tribe_gbdt_predict_raw(m, x, 1, raw);
    printf("customer %s: segment %lld %s\n", id, (long long)seg_id[seg], seg_names[seg]);
    printf("segment probabilities (model):\n");
    for (int c = 0; c < g; c++)
        printf("  %-3lld %-24s p=%.6f raw=%+.6f%s\n", c < k ? (long long)seg_id[c] : (long long)c,
               c < k ? seg_names[c] : "?", prob[c], raw[c], c == seg ? "  <- its segment" : "");
    const double *ps = phi + (size_t)seg * ((size_t)d + 1);
    int n = tribe_gbdt_top_contrib(ps, d, top, idx, val);
    printf("top %d contributions to the raw score for segment %lld (expected value %+.6f):\n", n,
           (long long)seg_id[seg], ps[d]);
    printf("  %-24s %14s %14s\n", "feature", "value", "contribution");
    for (int i = 0; i < n; i++) {
        char v[32];
        float xv = x[idx[i]];
        if (isnan(xv))
            snprintf(v, sizeof v, "missing");
        else
            snprintf(v, sizeof v, "%.6g", (double)xv);
        printf("  %-24s %14s %+14.6f\n", feat[idx[i]], v, val[i]);
    }
cleanup:
    free(phi);
    free(prob);
    free(val);
    free(idx);
    return st;
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    const char *results = NULL, *customers = NULL, *id_arg = NULL;
    int64_t top = 5;
    char idb[TRIBE_ID_BUF] = "";
    char *input = NULL, *json = NULL;
    char **feat = NULL, **seg_names = NULL;
    int64_t *seg_id = NULL;
    int d = 0, k = 0, owner = -1;
    int *col = NULL;
    float *x = NULL;
    tribe_table *t = NULL;
    tribe_gbdt_model *m = NULL;
    found_row fr;
    static const struct option opts[] = {{"customer", required_argument, 0, 'c'},
                                         {"top", required_argument, 0, 't'},
                                         {"customers", required_argument, 0, 'u'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            id_arg = optarg;
        else if (c == 't')
            TRIBE_TRY(tribe_cli_int("explain", "--top", optarg, 1, 100000, &top));
        else if (c == 'u')
            customers = optarg;
        else
            return tribe_cli_usage("explain", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return tribe_cli_usage("explain", "expects exactly one RESULTS.h5");
    results = argv[optind];
    if (!id_arg)
        return tribe_cli_usage("explain", "--customer ID is required");
    if (tribe_id_lookup_keys(id_arg, 1, (int64_t[2]){0, 0}) == 0)
        return tribe_cli_usage("explain", "--customer '%s' is not a customer id", id_arg);

    TRIBE_TRY(read_results(par, results, &input, &json, &feat, &d, &seg_names, &k, &seg_id));
    st = tribe_par_agree(par, tribe_gbdt_from_json(json, &m));
    if (st != TRIBE_OK)
        goto cleanup;
    if (m->n_features != d || m->n_groups != k || m->objective != TRIBE_GBDT_SOFTMAX) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: the drivers model (%d features, %d outputs) does not match the "
                        "results (%d features, %d segments)", results, m->n_features, m->n_groups, d, k);
        goto cleanup;
    }
    if (!customers)
        customers = input;
    TRIBE_TRY(tribe_store_read_customers(par, customers, &t, NULL));
    TRIBE_TRY(tribe_calloc((void **)&col, (size_t)d + 1, sizeof *col));
    for (int j = 0; j < d; j++)
        if ((col[j] = tribe_table_feature(t, feat[j])) < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: has no feature '%s', which the drivers model of %s uses",
                            customers, feat[j], results);
            goto cleanup;
        }
    TRIBE_TRY(find_customer(par, results, t, id_arg, &fr, &owner));
    if (owner < 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "customer %s is not in %s (%lld customers)", id_arg, customers,
                        (long long)t->n_global);
        goto cleanup;
    }
    /* The owner sends the customer's model columns to everyone. */
    TRIBE_TRY(tribe_calloc((void **)&x, (size_t)d + 1, sizeof *x));
    if (tribe_par_rank(par) == owner) {
        for (int j = 0; j < d; j++)
            x[j] = t->x[(size_t)(fr.row - t->offset) * t->d + col[j]];
        tribe_table_id(t, fr.row - t->offset, idb);
    }
    TRIBE_TRY(tribe_par_bcast(par, x, (size_t)d * sizeof *x, owner));
    TRIBE_TRY(tribe_par_bcast(par, idb, sizeof idb, owner));
    if (fr.label < 0 || fr.label >= k) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: customer %s has segment %d, outside 0..%d", results, idb,
                        fr.label, k - 1);
        goto cleanup;
    }
    if (tribe_par_rank(par) == 0)
        st = print_explanation(m, x, feat, d, seg_names, seg_id, k, idb, fr.label, (int)top);
cleanup:
    tribe_gbdt_model_destroy(&m);
    tribe_table_destroy(&t);
    free(input);
    free(json);
    tribe_free_strs(feat, d);
    tribe_free_strs(seg_names, k);
    free(seg_id);
    free(col);
    free(x);
    return tribe_par_agree(par, st);
}

const tribe_cli_cmd tribe_cmd_explain = {"explain", "explain one customer's segment (top SHAP contributions)", USAGE,
                                         run};
