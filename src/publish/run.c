/* What a publish reads of a finished run (publish_internal.h): results.h5's
 * identity, segments and figures, run.json and personas.json beside it, and
 * the per-customer outputs in slices. */
#include "publish_internal.h"

#include "tribe/continuity.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

void pub_run_free(pub_run *r)
{
    if (!r)
        return;
    tribe_h5_close(&r->h);
    tribe_par_finalize(&r->serial);
    free(r->results);
    free(r->dir);
    free(r->run_id);
    free(r->created);
    free(r->input);
    free(r->tribe_version);
    free(r->job_spec);
    free(r->run_json);
    tribe_rec_destroy(&r->rec);
    tribe_personas_destroy(&r->personas, r->n_personas);
    tribe_free_strs(r->seg_names, r->k);
    tribe_free_strs(r->feat, r->d);
    free(r->seg_id);
    free(r->size);
    free(r->outliers);
    free(r->share);
    free(r->revenue_share);
    free(r->ltv_mean);
    free(r->ltv_median);
    free(r->ltv_total);
    for (int i = 0; i < 4; i++)
        free(r->stat[i]);
    memset(r, 0, sizeof *r);
}

/* A per-segment dataset of k rows and `cols` columns (*out NULL when it is
 * absent and optional). */
static tribe_status read_k(pub_run *r, const char *name, tribe_h5_type type, int64_t cols, int optional, void **out)
{
    tribe_status st = TRIBE_OK;
    int64_t rows = 0, width = 0;
    if (optional && !tribe_h5_exists(r->h, name))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_read_small(r->h, name, type, &rows, &width, out));
    if (rows != r->k || width != cols)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: %s is %lldx%lld, expected %dx%lld", r->results, name, (long long)rows,
                        (long long)width, r->k, (long long)cols);
cleanup:
    return st;
}

/* The segments: names, persistent ids, sizes, shares, and the profile
 * figures (mean, median, quartiles per feature) when the run has them. */
static tribe_status read_segments(pub_run *r)
{
    tribe_status st = TRIBE_OK;
    static const char *const STAT[4] = {"/segments/mean", "/segments/median", "/segments/q1", "/segments/q3"};
    TRIBE_TRY(tribe_h5_read_attr_strs(r->h, "/segments", "names", &r->k, &r->seg_names));
    if (r->k < 1)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: /segments names no segment", r->results);
    if (tribe_h5_exists(r->h, "/segments/segment_id")) {
        TRIBE_TRY(read_k(r, "/segments/segment_id", TRIBE_H5_I64, 1, 0, (void **)&r->seg_id));
    } else { /* a run from before persistent ids: the labels are the ids */
        TRIBE_TRY(tribe_calloc((void **)&r->seg_id, (size_t)r->k, sizeof *r->seg_id));
        for (int c = 0; c < r->k; c++)
            r->seg_id[c] = c;
    }
    TRIBE_TRY(read_k(r, "/segments/size", TRIBE_H5_I64, 1, 0, (void **)&r->size));
    TRIBE_TRY(read_k(r, "/segments/share", TRIBE_H5_F64, 1, 1, (void **)&r->share));
    TRIBE_TRY(read_k(r, "/segments/revenue_share", TRIBE_H5_F64, 1, 1, (void **)&r->revenue_share));
    TRIBE_TRY(read_k(r, "/segments/outlier_count", TRIBE_H5_I64, 1, 1, (void **)&r->outliers));
    TRIBE_TRY(read_k(r, "/segments/ltv_mean", TRIBE_H5_F64, 1, 1, (void **)&r->ltv_mean));
    TRIBE_TRY(read_k(r, "/segments/ltv_median", TRIBE_H5_F64, 1, 1, (void **)&r->ltv_median));
    TRIBE_TRY(read_k(r, "/segments/ltv_total", TRIBE_H5_F64, 1, 1, (void **)&r->ltv_total));
    if (tribe_h5_exists(r->h, STAT[0])) {
        TRIBE_TRY(tribe_h5_read_attr_strs(r->h, STAT[0], "feature_names", &r->d, &r->feat));
        for (int i = 0; i < 4; i++)
            TRIBE_TRY(read_k(r, STAT[i], TRIBE_H5_F64, r->d, i > 0, (void **)&r->stat[i]));
    }
cleanup:
    return st;
}

/* A per-customer dataset of n rows and `cols` columns; *has (may be NULL)
 * says whether an optional one is there. */
static tribe_status check_rows(pub_run *r, const char *name, int64_t cols, int *has)
{
    tribe_status st = TRIBE_OK;
    int64_t rows = 0, width = 0;
    if (has && !(*has = tribe_h5_exists(r->h, name)))
        return TRIBE_OK;
    TRIBE_TRY(tribe_h5_shape(r->h, name, &rows, &width));
    if (rows != r->n || width != cols)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: %s is %lldx%lld, expected %lldx%lld (as /segments/id)", r->results,
                        name, (long long)rows, (long long)width, (long long)r->n, (long long)cols);
cleanup:
    return st;
}

/* Which per-customer datasets the run has, each checked for n rows. */
static tribe_status read_shapes(pub_run *r)
{
    tribe_status st = TRIBE_OK;
    int64_t cols = 0;
    TRIBE_TRY(tribe_h5_shape(r->h, "/segments/id", &r->n, &cols));
    TRIBE_TRY(check_rows(r, "/segments/id", 1, NULL));
    TRIBE_TRY(check_rows(r, "/segments/label", 1, NULL));
    TRIBE_TRY(check_rows(r, "/segments/distance", 1, NULL));
    TRIBE_TRY(check_rows(r, "/segments/outlier", 1, &r->has_outlier));
    r->has_id_text = tribe_h5_exists(r->h, "/segments/id_text");
    TRIBE_TRY(check_rows(r, "/segments/outlier_score", 1, &r->has_oscore));
    TRIBE_TRY(check_rows(r, "/segments/membership", r->k, &r->has_memb));
    TRIBE_TRY(check_rows(r, "/segments/ltv", 1, &r->has_ltv));
cleanup:
    return st;
}

/* run.json (its settings and facts) and personas.json, when beside it. */
static tribe_status read_sides(pub_run *r)
{
    tribe_status st = TRIBE_OK;
    char *personas = NULL;
    TRIBE_TRY(tribe_read_file_opt(r->dir, "run.json", &r->run_json));
    if (r->run_json && tribe_rec_parse(r->run_json, &r->rec) != TRIBE_OK) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s/run.json: not a JSON object (%s)", r->dir, tribe_errmsg());
        goto cleanup;
    }
    TRIBE_TRY(tribe_read_file_opt(r->dir, "personas.json", &personas));
    if (personas && tribe_personas_from_json(personas, &r->personas, &r->n_personas) != TRIBE_OK) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s/%s", r->dir, tribe_errmsg());
        goto cleanup;
    }
cleanup:
    free(personas);
    return st;
}

tribe_status pub_run_open(const char *path, pub_run *r)
{
    tribe_status st = TRIBE_OK;
    char *format = NULL, *copy = NULL, group[4096];
    memset(r, 0, sizeof *r);
    if ((st = tribe_prev_resolve(path, &r->results)) != TRIBE_OK) {
        /* its messages speak of a "previous run": here it is the run to publish */
        char m[1024];
        snprintf(m, sizeof m, "%s", tribe_errmsg());
        if (strncmp(m, "previous run ", 13) == 0)
            tribe_set_errmsg(m + 9);
        goto cleanup;
    }
    TRIBE_TRY(tribe_strdup(r->results, &copy));
    TRIBE_TRY(tribe_strdup(dirname(copy), &r->dir));
    TRIBE_TRY(tribe_par_serial(&r->serial));
    TRIBE_TRY(tribe_h5_open(r->serial, r->results, &r->h));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(r->h, "/", "tribe_format", &format));
    if (!format || strcmp(format, "tribe-results") != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: not a tribe results file (no tribe_format='tribe-results')", r->results);
        goto cleanup;
    }
    TRIBE_TRY(tribe_h5_read_attr_str(r->h, "/", "run_id", &r->run_id));
    TRIBE_TRY(tribe_h5_read_attr_str(r->h, "/", "input", &r->input));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(r->h, "/", "tribe_version", &r->tribe_version));
    TRIBE_TRY(tribe_fmt(group, sizeof group, "/runs/%s", r->run_id));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(r->h, group, "created", &r->created));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(r->h, group, "job_spec", &r->job_spec));
    if (!r->run_id[0] || strlen(r->run_id) >= 256)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: run_id is empty or longer than 255 bytes", r->results);
    TRIBE_TRY(st);
    TRIBE_TRY(read_segments(r));
    TRIBE_TRY(read_shapes(r));
    TRIBE_TRY(read_sides(r));
cleanup:
    free(format);
    free(copy);
    if (st != TRIBE_OK)
        pub_run_free(r);
    return st;
}

tribe_status pub_slice_alloc(const pub_run *r, int64_t rows, pub_slice *s)
{
    tribe_status st = TRIBE_OK;
    memset(s, 0, sizeof *s);
    size_t m = (size_t)rows + 1;
    TRIBE_TRY(tribe_alloc((void **)&s->id, m * sizeof *s->id));
    TRIBE_TRY(tribe_alloc((void **)&s->label, m * sizeof *s->label));
    TRIBE_TRY(tribe_alloc((void **)&s->dist, m * sizeof *s->dist));
    if (r->has_outlier)
        TRIBE_TRY(tribe_alloc((void **)&s->outlier, m * sizeof *s->outlier));
    if (r->has_oscore)
        TRIBE_TRY(tribe_alloc((void **)&s->oscore, m * sizeof *s->oscore));
    if (r->has_memb)
        TRIBE_TRY(tribe_alloc((void **)&s->memb, m * (size_t)r->k * sizeof *s->memb));
    if (r->has_ltv)
        TRIBE_TRY(tribe_alloc((void **)&s->ltv, m * sizeof *s->ltv));
cleanup:
    if (st != TRIBE_OK)
        pub_slice_free(s);
    return st;
}

void pub_slice_free(pub_slice *s)
{
    free(s->id);
    free(s->id_text);
    free(s->label);
    free(s->dist);
    free(s->outlier);
    free(s->oscore);
    free(s->memb);
    free(s->ltv);
    memset(s, 0, sizeof *s);
}

tribe_status pub_slice_read(pub_run *r, int64_t off, int64_t rows, pub_slice *s)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = r->h;
    int64_t n = r->n;
    TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/id", TRIBE_H5_I64, n, off, rows, 1, s->id));
    if (r->has_id_text) { /* string ids: the texts, checked against their keys */
        free(s->id_text);
        s->id_text = NULL;
        TRIBE_TRY(tribe_h5_read_str_rows(h, "/segments/id_text", n, off, rows, &s->id_width, &s->id_text));
        TRIBE_TRY(tribe_store_check_id_text(r->results, "/segments/id_text", s->id_text, s->id_width, s->id, rows,
                                            off));
    }
    TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/label", TRIBE_H5_I32, n, off, rows, 1, s->label));
    TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/distance", TRIBE_H5_F32, n, off, rows, 1, s->dist));
    if (s->outlier)
        TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/outlier", TRIBE_H5_U8, n, off, rows, 1, s->outlier));
    if (s->oscore)
        TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/outlier_score", TRIBE_H5_F32, n, off, rows, 1, s->oscore));
    if (s->memb)
        TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/membership", TRIBE_H5_F32, n, off, rows, r->k, s->memb));
    if (s->ltv)
        TRIBE_TRY(tribe_h5_read_rows_into(h, "/segments/ltv", TRIBE_H5_F32, n, off, rows, 1, s->ltv));
    for (int64_t i = 0; i < rows; i++)
        if (s->label[i] < 0 || s->label[i] >= r->k)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/label of row %lld is %d, outside 0..%d", r->results,
                              (long long)(off + i), s->label[i], r->k - 1);
cleanup:
    return st;
}
