/* Unit tests for `tribe run` as a pipeline of stages (src/stages,
 * tribe/stage.h): a stage added as a fixture takes part in every step from
 * its own code and one registration line; the run record is valid JSON
 * whatever the figures and paths (one segment, no silhouette, a quote in a
 * path). Real files: a small blobs table in a temporary directory. */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/h5.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tribe_par *par;

/* ---- the fixture stage: everything it does is in this block ------------- */

typedef struct {
    double factor;   /* fixture.factor: scales the figure below */
    int64_t rows;    /* customers of segment 0, all ranks */
    double total;    /* factor * their distances to the centre, summed exactly */
} fixture_stage;

static tribe_status fx_configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    fixture_stage *s = state;
    tribe_spec *o = NULL;
    tribe_status st = TRIBE_OK;
    s->factor = 1;
    TRIBE_TRY(tribe_spec_object(spec, "fixture", &o));
    TRIBE_TRY(tribe_spec_bool(o, "enabled", enabled));
    TRIBE_TRY(tribe_spec_num(o, "factor", 0, 10, &s->factor));
cleanup:
    return st;
}

static tribe_status fx_run(void *state, tribe_run *r)
{
    fixture_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_xsum acc = 0;
    for (int64_t i = 0; i < r->rows.n_local; i++)
        if (r->label[i] == 0) {
            s->rows++;
            acc += tribe_xsum_of(s->factor * (double)r->distance[i]);
        }
    TRIBE_TRY(tribe_par_sum_i64(r->par, &s->rows, 1));
    TRIBE_TRY(tribe_par_sum_xsum(r->par, &acc, 1));
    s->total = tribe_xsum_value(acc);
cleanup:
    return st;
}

static tribe_status fx_write(void *state, const tribe_run *r, tribe_h5 *h)
{
    fixture_stage *s = state;
    tribe_status st = tribe_h5_write_small(h, "/model/fixture/total", TRIBE_H5_F64, 1, 1, &s->total);
    return st == TRIBE_OK ? tribe_h5_attr_i64(h, "/model/fixture", "rows", s->rows) : st;
}

static tribe_status fx_record(void *state, const tribe_run *r, tribe_rec *obj)
{
    fixture_stage *s = state;
    tribe_status st = tribe_rec_int(obj, "rows", s->rows);
    return st == TRIBE_OK ? tribe_rec_num(obj, "total", s->total) : st;
}

static tribe_status fx_report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    fixture_stage *s = state;
    tribe_status st = tribe_html_section(b, "fixture", "Fixture", "A <fixture> stage");
    return st == TRIBE_OK ? tribe_sbuf_printf(b, "<p>%lld customers</p></section>\n", (long long)s->rows) : st;
}

static tribe_status fx_files(void *state, const tribe_run *r, const char *dir)
{
    fixture_stage *s = state;
    char path[4096 + 32], text[64];
    snprintf(text, sizeof text, "%lld\n", (long long)s->rows);
    tribe_status st = tribe_fmt(path, sizeof path, "%s/fixture.txt", dir);
    return st == TRIBE_OK ? tribe_write_file_atomic(path, text, strlen(text)) : st;
}

static const char *const FX_OUTPUTS[] = {"fixture.txt", NULL};

static const tribe_stage_def FIXTURE = {
    .name = "fixture", .state_size = sizeof(fixture_stage), .report_order = 15, .outputs = FX_OUTPUTS,
    .configure = fx_configure, .run = fx_run, .write = fx_write, .record = fx_record, .report = fx_report,
    .files = fx_files};

/* The default stages and the fixture: its one registration line. */
static const tribe_stage_def *const *stages_with_fixture(int *n)
{
    static const tribe_stage_def *list[64];
    int nd = 0;
    const tribe_stage_def *const *d = tribe_stages_default(&nd);
    memcpy(list, d, (size_t)nd * sizeof *list);
    list[nd] = &FIXTURE;
    *n = nd + 1;
    return list;
}

/* ---- helpers ---------------------------------------------------------- */

/* A blobs table of 600 customers x 4 features in dir (made once). */
static const char *blobs(const char *dir)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/customers.h5", dir);
    if (access(path, F_OK) == 0)
        return path;
    tribe_blobs_cfg cfg;
    tribe_blobs_defaults(&cfg);
    cfg.customers = 600;
    cfg.features = 4;
    cfg.clusters = 3;
    cfg.seed = 3;
    CU_ASSERT_EQUAL_FATAL(tribe_gen_blobs(par, &cfg, path), TRIBE_OK);
    return path;
}

/* Runs spec text (input and output put in by "%s" pairs) with the list. */
static tribe_status run_job(const char *text, const tribe_stage_def *const *list, int n, tribe_pipeline **pl)
{
    tribe_status st = tribe_pipeline_create_text(par, NULL, text, list, n, pl);
    if (st == TRIBE_OK)
        st = tribe_pipeline_run(*pl);
    if (st != TRIBE_OK)
        fprintf(stderr, "\nrun: %s\n", tribe_errmsg());
    return st;
}

/* output/run.json as a record (NULL when missing or not JSON). */
static tribe_rec *run_record(const char *out)
{
    char path[1200], *text = NULL;
    tribe_rec *r = NULL;
    snprintf(path, sizeof path, "%s/run.json", out);
    if (tribe_read_file(path, &text, NULL) == TRIBE_OK && tribe_rec_parse(text, &r) != TRIBE_OK)
        r = NULL;
    free(text);
    return r;
}

static char *slurp(const char *out, const char *name)
{
    char path[2400], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", out, name);
    return tribe_read_file(path, &text, NULL) == TRIBE_OK ? text : NULL;
}

/* s with " and \\ escaped for a JSON string, into buf. */
static const char *json_escaped(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 2 < cap; s++) {
        if (*s == '"' || *s == '\\')
            buf[n++] = '\\';
        buf[n++] = *s;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- tests ------------------------------------------------------------ */

static void a_stage_added_to_the_list_should_take_part_in_every_step(void)
{
    const char *dir = tribe_test_tmpdir();
    char out[1024], text[2048];
    int n = 0;
    const tribe_stage_def *const *list = stages_with_fixture(&n);
    tribe_pipeline *pl = NULL;
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(text, sizeof text,
             "{\"input\": \"%s\", \"output\": \"%s\", \"run_id\": \"fx\", \"kmeans\": {\"k\": 3}, "
             "\"drivers\": {\"n_rounds\": 3}, \"fixture\": {\"factor\": 2}}",
             blobs(dir), out);
    CU_ASSERT_EQUAL_FATAL(run_job(text, list, n, &pl), TRIBE_OK);
    CU_ASSERT(tribe_pipeline_ran(pl, "fixture"));
    const tribe_run *r = tribe_pipeline_context(pl);
    /* its figure, from the shared context */
    int64_t rows = 0;
    for (int64_t i = 0; i < r->rows.n_local; i++)
        rows += r->label[i] == 0;
    CU_ASSERT(rows > 0);
    CU_ASSERT_EQUAL(rows, r->segs->seg[0].size);
    /* run.json: its object, its timing, its setting */
    tribe_rec *rec = run_record(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    const tribe_rec *fx = tribe_rec_get(rec, "fixture");
    CU_ASSERT_EQUAL(tribe_rec_number(tribe_rec_get(fx, "rows")), rows);
    CU_ASSERT(tribe_rec_number(tribe_rec_get(fx, "total")) > 0);
    CU_ASSERT(tribe_rec_number(tribe_rec_get(tribe_rec_get(rec, "timings"), "fixture")) >= 0);
    CU_ASSERT_EQUAL(tribe_rec_number(tribe_rec_get(tribe_rec_get(rec, "settings"), "fixture.factor")), 2);
    /* results.h5: its objects */
    char h5path[1200];
    snprintf(h5path, sizeof h5path, "%s/results.h5", out);
    tribe_h5 *h = NULL;
    double *total = NULL;
    int64_t nr = 0, nc = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_h5_open(par, h5path, &h), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_h5_read_small(h, "/model/fixture/total", TRIBE_H5_F64, &nr, &nc, (void **)&total),
                    TRIBE_OK);
    CU_ASSERT(total && *total == tribe_rec_number(tribe_rec_get(fx, "total")));
    free(total);
    tribe_h5_close(&h);
    /* report.html: its section, escaped, linked from the navigation after the profiles */
    char *html = slurp(out, "report.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    const char *nav_fx = strstr(html, "<a href=\"#fixture\">Fixture</a>"), *nav_pr = strstr(html, "<a href=\"#profiles\">"),
               *nav_dr = strstr(html, "<a href=\"#drivers\">");
    CU_ASSERT(nav_fx && nav_pr && nav_dr && nav_pr < nav_fx && nav_fx < nav_dr);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "A &lt;fixture&gt; stage"));
    free(html);
    /* its file, published beside the others */
    char *f = slurp(out, "fixture.txt");
    CU_ASSERT_PTR_NOT_NULL(f);
    CU_ASSERT(f && atoll(f) == rows);
    free(f);
    tribe_rec_destroy(&rec);
    tribe_pipeline_destroy(&pl);
}

static void a_stage_keys_should_be_strict_and_switch_it_off(void)
{
    const char *dir = tribe_test_tmpdir();
    char out[1024], text[2048];
    int n = 0;
    const tribe_stage_def *const *list = stages_with_fixture(&n);
    tribe_pipeline *pl = NULL;
    snprintf(out, sizeof out, "%s/off", dir);
    CU_ASSERT_EQUAL(tribe_pipeline_create_text(par, "/j.json", "{\"input\": \"a\", \"output\": \"o\", "
                                                              "\"fixture\": {\"factr\": 2}}",
                                               list, n, &pl),
                    TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "unknown key 'fixture.factr'"));
    CU_ASSERT_EQUAL(tribe_pipeline_create_text(par, "/j.json", "{\"input\": \"a\", \"output\": \"o\", "
                                                              "\"fixture\": {\"factor\": 11}}",
                                               list, n, &pl),
                    TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'fixture.factor' = 11 is outside [0, 10]"));
    /* without the stage in the list its key is unknown */
    CU_ASSERT_EQUAL(tribe_pipeline_create_text(par, "/j.json", "{\"input\": \"a\", \"output\": \"o\", "
                                                              "\"fixture\": {}}",
                                               NULL, 0, &pl),
                    TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "unknown key 'fixture'"));
    CU_ASSERT_PTR_NULL(pl);
    snprintf(text, sizeof text,
             "{\"input\": \"%s\", \"output\": \"%s\", \"kmeans\": {\"k\": 3}, \"drivers\": {\"enabled\": false}, "
             "\"fixture\": {\"enabled\": false}}",
             blobs(dir), out);
    CU_ASSERT_EQUAL_FATAL(run_job(text, list, n, &pl), TRIBE_OK);
    CU_ASSERT(!tribe_pipeline_ran(pl, "fixture"));
    CU_ASSERT(!tribe_pipeline_ran(pl, "drivers"));
    tribe_rec *rec = run_record(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    CU_ASSERT_PTR_NULL(tribe_rec_get(rec, "fixture"));
    CU_ASSERT_PTR_NULL(tribe_rec_get(rec, "drivers"));
    CU_ASSERT_PTR_NULL(tribe_rec_get(tribe_rec_get(rec, "timings"), "fixture"));
    char *html = slurp(out, "report.html"), *f = slurp(out, "fixture.txt");
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"fixture\""));
    CU_ASSERT_PTR_NULL(strstr(html, "id=\"drivers\""));
    CU_ASSERT_PTR_NULL(f);
    free(html);
    tribe_rec_destroy(&rec);
    tribe_pipeline_destroy(&pl);
}

/* Once exit 3 "run record is not valid JSON (near 'nan, ...')" after all the
 * work: one segment (no silhouette, no drivers, no tree), no silhouette
 * sample, and a quote in the paths. */
static void the_run_record_should_be_json_for_one_segment_no_silhouette_and_quoted_paths(void)
{
    const char *dir = tribe_test_tmpdir();
    char odd[1024], in[1200], out[1200], text[4096];
    snprintf(odd, sizeof odd, "%s/we\"ird \\ <dir>", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(odd, 0755), 0);
    snprintf(in, sizeof in, "%s/c.h5", odd);
    CU_ASSERT_EQUAL_FATAL(link(blobs(dir), in), 0); /* not a symlink: the run records the real path */
    snprintf(out, sizeof out, "%s/out", odd);
    static const char *const jobs[] = {"\"kmeans\": {\"k\": 1}", "\"kmeans\": {\"k\": 3}, \"silhouette\": {\"sample_size\": 0}"};
    for (int j = 0; j < 2; j++) {
        tribe_pipeline *pl = NULL;
        char ein[2400], eout[2400];
        snprintf(text, sizeof text, "{\"input\": \"%s\", \"output\": \"%s\", \"run_id\": \"e%d\", %s}",
                 json_escaped(in, ein, sizeof ein), json_escaped(out, eout, sizeof eout), j, jobs[j]);
        CU_ASSERT_EQUAL_FATAL(run_job(text, NULL, 0, &pl), TRIBE_OK);
        tribe_rec *rec = run_record(out);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
        CU_ASSERT_STRING_EQUAL(tribe_rec_string(tribe_rec_get(rec, "input")), in);
        CU_ASSERT_EQUAL(tribe_rec_type(tribe_rec_get(rec, "silhouette")), TRIBE_REC_NULL);
        CU_ASSERT_EQUAL(tribe_rec_number(tribe_rec_get(rec, "k")), j ? 3 : 1);
        CU_ASSERT_EQUAL(tribe_pipeline_ran(pl, "drivers"), 1);
        if (j == 0) {
            CU_ASSERT_PTR_NOT_NULL(tribe_rec_get(tribe_rec_get(rec, "drivers"), "skipped"));
            CU_ASSERT_PTR_NULL(tribe_rec_get(tribe_rec_get(rec, "ward"), "merges"));
        }
        char *html = slurp(out, "report.html");
        CU_ASSERT_PTR_NOT_NULL(html);
        CU_ASSERT(html && strstr(html, "we&quot;ird \\ &lt;dir&gt;"));
        CU_ASSERT(html && !strstr(html, "<dir>"));
        free(html);
        tribe_rec_destroy(&rec);
        tribe_pipeline_destroy(&pl);
    }
}

/* features.standardize false: the columns are centred, not scaled (std 1),
 * so the model keeps each feature's own units. */
static void standardize_false_should_keep_the_units(void)
{
    const char *dir = tribe_test_tmpdir();
    char text[2048];
    double *sd[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++) {
        char out[1024], h5path[1200];
        tribe_pipeline *pl = NULL;
        tribe_h5 *h = NULL;
        int64_t nr = 0, nc = 0;
        snprintf(out, sizeof out, "%s/std%d", dir, v);
        snprintf(text, sizeof text,
                 "{\"input\": \"%s\", \"output\": \"%s\", \"kmeans\": {\"k\": 3}, \"drivers\": {\"enabled\": false}, "
                 "\"features\": {\"standardize\": %s}}",
                 blobs(dir), out, v ? "false" : "true");
        CU_ASSERT_EQUAL_FATAL(run_job(text, NULL, 0, &pl), TRIBE_OK);
        snprintf(h5path, sizeof h5path, "%s/results.h5", out);
        CU_ASSERT_EQUAL_FATAL(tribe_h5_open(par, h5path, &h), TRIBE_OK);
        CU_ASSERT_EQUAL(tribe_h5_read_small(h, "/model/scaler/std", TRIBE_H5_F64, &nr, &nc, (void **)&sd[v]), TRIBE_OK);
        CU_ASSERT_EQUAL(nr, 4);
        tribe_h5_close(&h);
        tribe_pipeline_destroy(&pl);
    }
    for (int j = 0; j < 4 && sd[0] && sd[1]; j++) {
        CU_ASSERT(sd[0][j] != 1.0); /* blobs' columns are not unit-variance */
        CU_ASSERT_EQUAL(sd[1][j], 1.0);
    }
    free(sd[0]);
    free(sd[1]);
}

/* A fixed K skips split-half stability unless kmeans.stability asks. */
static void a_fixed_k_should_score_stability_only_when_asked(void)
{
    const char *dir = tribe_test_tmpdir();
    for (int ask = 0; ask < 2; ask++) {
        char out[1024], text[2048];
        tribe_pipeline *pl = NULL;
        snprintf(out, sizeof out, "%s/stab%d", dir, ask);
        snprintf(text, sizeof text,
                 "{\"input\": \"%s\", \"output\": \"%s\", \"kmeans\": {\"k\": 3%s}, \"drivers\": {\"enabled\": false}}",
                 blobs(dir), out, ask ? ", \"stability\": true" : "");
        CU_ASSERT_EQUAL_FATAL(run_job(text, NULL, 0, &pl), TRIBE_OK);
        tribe_rec *rec = run_record(out);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
        const tribe_rec *ari = tribe_rec_get(tribe_rec_get(tribe_rec_get(rec, "kmeans"), "k_sweep"), "stability_ari");
        if (ask) {
            CU_ASSERT(tribe_rec_number(ari) > 0 && tribe_rec_number(ari) <= 1);
        } else {
            CU_ASSERT_EQUAL(tribe_rec_type(ari), TRIBE_REC_NULL);
        }
        tribe_rec_destroy(&rec);
        tribe_pipeline_destroy(&pl);
    }
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_stage_added_to_the_list_should_take_part_in_every_step),
        TRIBE_TEST(a_stage_keys_should_be_strict_and_switch_it_off),
        TRIBE_TEST(the_run_record_should_be_json_for_one_segment_no_silhouette_and_quoted_paths),
        TRIBE_TEST(standardize_false_should_keep_the_units),
        TRIBE_TEST(a_fixed_k_should_score_stability_only_when_asked),
        {NULL, NULL}};
    if (tribe_par_serial(&par) != TRIBE_OK) /* one context for every case: the cases share it */
        return 1;
    int rc = tribe_test_main("pipeline", cases);
    tribe_par_finalize(&par);
    return rc;
}
