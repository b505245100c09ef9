/* Unit tests for the job spec as the stages read it (src/core/job.c,
 * src/core/spec.c, every stage's configure; docs/job-spec.md): values,
 * defaults, paths, bounds and strictness, checked through the pipeline's
 * effective settings. */
#include "testutil.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tribe_par *par;

/* Configures the default stages on spec text (no data is read). */
static tribe_status configure(const char *text, tribe_pipeline **pl)
{
    *pl = NULL;
    return tribe_pipeline_create_text(par, "/jobs/demo.json", text, NULL, 0, pl);
}

/* The effective settings of a configured pipeline (caller destroys). */
static tribe_rec *settings(const tribe_pipeline *pl)
{
    tribe_rec *r = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_rec_create(&r), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_spec_settings(tribe_pipeline_context(pl)->job->spec, r, "s"), TRIBE_OK);
    return r;
}

static double num(const tribe_rec *r, const char *key)
{
    const tribe_rec *v = tribe_rec_get(tribe_rec_get(r, "s"), key);
    CU_ASSERT_PTR_NOT_NULL(v);
    if (!v)
        fprintf(stderr, "\nno setting '%s'\n", key);
    return tribe_rec_number(v);
}

static const char *str(const tribe_rec *r, const char *key)
{
    const char *v = tribe_rec_string(tribe_rec_get(tribe_rec_get(r, "s"), key));
    return v ? v : "(null)";
}

static int flag(const tribe_rec *r, const char *key)
{
    return tribe_rec_true(tribe_rec_get(tribe_rec_get(r, "s"), key));
}

/* Configures `text` expecting USAGE with `msg` in the message. */
static void expect_usage(const char *text, const char *msg)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL(configure(text, &pl), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(pl);
    if (!strstr(tribe_errmsg(), msg))
        fprintf(stderr, "\n%s\n -> %s\n (wanted '%s')\n", text, tribe_errmsg(), msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), msg));
}

#define JOB(extra) "{\"input\": \"a.h5\", \"output\": \"o\"" extra "}"

static void a_full_spec_should_set_every_stage(void)
{
    tribe_pipeline *pl = NULL;
    const char *text = "{\"input\": \"data/customers.h5\", \"output\": \"/abs/out\", \"seed\": 7,"
                       " \"features\": {\"columns\": [\"recency_days\", \"monetary\"], \"log1p\": [\"monetary\"]},"
                       " \"kmeans\": {\"k\": 5, \"batch_size\": 512, \"tol\": 0.001, \"init\": \"kmeans||\"},"
                       " \"silhouette\": {\"sample_size\": 100}, \"run_id\": \"r-1\"}";
    CU_ASSERT_EQUAL_FATAL(configure(text, &pl), TRIBE_OK);
    const tribe_job *job = tribe_pipeline_context(pl)->job;
    CU_ASSERT_STRING_EQUAL(job->output, "/abs/out");
    CU_ASSERT_EQUAL(job->seed, 7);
    CU_ASSERT_STRING_EQUAL(job->run_id, "r-1");
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "kmeans.k"), 5);
    CU_ASSERT_EQUAL(num(s, "kmeans.batch_size"), 512);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "kmeans.tol"), 0.001, 1e-15);
    CU_ASSERT_STRING_EQUAL(str(s, "kmeans.init"), "kmeans||");
    CU_ASSERT(!flag(s, "kmeans.stability")); /* a fixed K only when asked */
    CU_ASSERT_EQUAL(num(s, "silhouette.sample_size"), 100);
    CU_ASSERT_STRING_EQUAL(str(s, "persona.provider"), "offline");
    CU_ASSERT_EQUAL(num(s, "persona.seed"), 7); /* the job's seed unless given */
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_PTR_NULL(pl);
}

static void relative_paths_should_resolve_against_the_spec(void)
{
    tribe_job *job = NULL;
    char here[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(here, sizeof here));
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("/jobs/demo.json", JOB(""), &job), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "/jobs/a.h5");
    tribe_job_destroy(&job);
    /* A relative spec path: the paths become absolute (the run record keeps them). */
    CU_ASSERT_EQUAL_FATAL(chdir("/tmp"), 0);
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("jobs/x.json", "{\"input\": \"../out/./a.h5\", \"output\": \"o\"}", &job),
                          TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "/tmp/out/a.h5");
    CU_ASSERT_STRING_EQUAL(job->output, "/tmp/jobs/o");
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("../jobs/x.json", "{\"input\": \"../../a.h5\", \"output\": \"/t/../o\"}", &job),
                          TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "/a.h5"); /* /tmp/../jobs/../../a.h5: no climbing above the root */
    CU_ASSERT_STRING_EQUAL(job->output, "/t/../o"); /* an absolute value is kept as written */
    tribe_job_destroy(&job);
    CU_ASSERT_PTR_NULL(job);
    CU_ASSERT_EQUAL(chdir(here), 0);
}

/* Run ids and paths that would fail late (or be cut) are refused when the
 * spec is read, naming the key. */
static void bad_run_ids_and_overlong_paths_should_fail_at_parse_time(void)
{
    tribe_job *job = NULL;
    char text[16384], id[200];
    static const char *const bad_ids[] = {".", "..", "a/b", "a b", ""};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        snprintf(text, sizeof text, "{\"input\": \"/a.h5\", \"output\": \"/o\", \"run_id\": \"%s\"}", bad_ids[i]);
        CU_ASSERT_EQUAL(tribe_job_parse("/j.json", text, &job), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "run_id"));
        CU_ASSERT_PTR_NULL(job);
    }
    memset(id, 'r', TRIBE_RUN_ID_MAX + 1);
    id[TRIBE_RUN_ID_MAX + 1] = '\0';
    snprintf(text, sizeof text, "{\"input\": \"/a.h5\", \"output\": \"/o\", \"run_id\": \"%s\"}", id);
    CU_ASSERT_EQUAL(tribe_job_parse("/j.json", text, &job), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "at most 128"));
    id[TRIBE_RUN_ID_MAX] = '\0'; /* 128 characters: fine */
    snprintf(text, sizeof text, "{\"input\": \"/a.h5\", \"output\": \"/o\", \"run_id\": \"%s\"}", id);
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("/j.json", text, &job), TRIBE_OK);
    tribe_job_destroy(&job);
    /* 600 segments, relative and absolute; 5000 bytes */
    char path[8192] = "";
    for (int i = 0; i < 600; i++)
        strcat(path, i ? "/d" : "d");
    for (int a = 0; a < 2; a++) {
        snprintf(text, sizeof text, "{\"input\": \"/a.h5\", \"output\": \"%s%s\"}", a ? "/" : "", path);
        CU_ASSERT_EQUAL(tribe_job_parse("/j.json", text, &job), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "segments"));
        CU_ASSERT_PTR_NULL(job);
    }
    memset(path, 'x', 5000);
    path[0] = '/';
    path[5000] = '\0';
    snprintf(text, sizeof text, "{\"input\": \"%s\", \"output\": \"/o\"}", path);
    CU_ASSERT_EQUAL(tribe_job_parse("/j.json", text, &job), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "bytes"));
    CU_ASSERT_PTR_NULL(job);
}

static void defaults_should_sweep_k_from_3_to_8_and_turn_every_stage_on(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(""), &pl), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(tribe_pipeline_context(pl)->job->run_id);
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "kmeans.k"), 0);
    CU_ASSERT_EQUAL(num(s, "kmeans.k_min"), 3);
    CU_ASSERT_EQUAL(num(s, "kmeans.k_max"), 8);
    CU_ASSERT(flag(s, "kmeans.stability")); /* it chooses K */
    CU_ASSERT_EQUAL(num(s, "kmeans.batch_size"), 2048);
    CU_ASSERT_EQUAL(num(s, "kmeans.init_sample"), 20000);
    CU_ASSERT_EQUAL(num(s, "drivers.n_rounds"), 30);
    CU_ASSERT_EQUAL(num(s, "drivers.max_leaves"), 15);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "drivers.learning_rate"), 0.2, 1e-15);
    CU_ASSERT_EQUAL(num(s, "drivers.sample_size"), 10000);
    CU_ASSERT_STRING_EQUAL(str(s, "outliers.method"), "iqr");
    CU_ASSERT_EQUAL(num(s, "outliers.threshold"), 3.0);
    CU_ASSERT_EQUAL(num(s, "gmm.max_iter"), 100);
    CU_ASSERT_EQUAL(num(s, "gmm.tol"), 1e-3);
    CU_ASSERT_EQUAL(num(s, "gmm.reg_covar"), 1e-6);
    CU_ASSERT_EQUAL(num(s, "gmm.sample_size"), 100000);
    CU_ASSERT(flag(s, "features.standardize"));
    static const char *const on[] = {"transform", "kmeans",  "segments", "outliers", "gmm",
                                     "ward",      "projection", "drivers", "personas", "campaign"};
    for (size_t i = 0; i < sizeof on / sizeof *on; i++)
        CU_ASSERT(tribe_pipeline_enabled(pl, on[i]));
    CU_ASSERT(!tribe_pipeline_enabled(pl, "ltv")); /* no ltv object: off */
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"kmeans\": {\"k\": [4, 6]}"), &pl), TRIBE_OK);
    s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "kmeans.k_min"), 4);
    CU_ASSERT_EQUAL(num(s, "kmeans.k_max"), 6);
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
}

static void stages_should_be_switched_off_by_their_keys(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"outliers\": {\"enabled\": false, \"threshold\": 1.5}, "
                                        "\"gmm\": {\"enabled\": false, \"max_iter\": 7, \"tol\": 0.5, "
                                        "\"reg_covar\": 0.01, \"sample_size\": 0}, \"ward\": {\"enabled\": false}, "
                                        "\"drivers\": {\"enabled\": false, \"n_rounds\": 5, \"max_leaves\": 7, "
                                        "\"learning_rate\": 0.5, \"sample_size\": 0}, "
                                        "\"projection\": {\"sample_size\": 0}"),
                                    &pl),
                          TRIBE_OK);
    static const char *const off[] = {"outliers", "gmm", "ward", "drivers", "projection"};
    for (size_t i = 0; i < sizeof off / sizeof *off; i++)
        CU_ASSERT(!tribe_pipeline_enabled(pl, off[i]));
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "outliers.threshold"), 1.5);
    CU_ASSERT_EQUAL(num(s, "gmm.max_iter"), 7);
    CU_ASSERT_EQUAL(num(s, "gmm.tol"), 0.5);
    CU_ASSERT_EQUAL(num(s, "gmm.reg_covar"), 0.01);
    CU_ASSERT_EQUAL(num(s, "gmm.sample_size"), 0);
    CU_ASSERT_EQUAL(num(s, "drivers.n_rounds"), 5);
    CU_ASSERT_EQUAL(num(s, "drivers.max_leaves"), 7);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "drivers.learning_rate"), 0.5, 1e-15);
    CU_ASSERT_EQUAL(num(s, "drivers.sample_size"), 0);
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
}

static void ltv_keys_should_default_targets(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"ltv\": {\"train\": \"w/c1.h5\", \"test\": \"/d/c2\", "
                                        "\"horizon_days\": 90}"),
                                    &pl),
                          TRIBE_OK);
    CU_ASSERT(tribe_pipeline_enabled(pl, "ltv"));
    tribe_rec *s = settings(pl);
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.train"), "/jobs/w/c1.h5");
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.train_target"), "/jobs/w/c1.target.h5");
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.test_target"), "/d/c2.target.h5");
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.objective"), "tweedie");
    CU_ASSERT_EQUAL(num(s, "ltv.n_rounds"), 200);
    CU_ASSERT_EQUAL(num(s, "ltv.max_leaves"), 15);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "ltv.learning_rate"), 0.05, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "ltv.valid_fraction"), 0.2, 1e-15);
    CU_ASSERT_EQUAL(num(s, "ltv.early_stopping_rounds"), 20);
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"ltv\": {\"train\": \"c1.h5\", \"train_target\": \"t1.h5\", "
                                        "\"test\": \"c2.h5\", \"horizon_days\": 30, \"objective\": \"poisson\", "
                                        "\"n_rounds\": 9, \"valid_fraction\": 0, \"early_stopping_rounds\": 0}"),
                                    &pl),
                          TRIBE_OK);
    s = settings(pl);
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.train_target"), "/jobs/t1.h5");
    CU_ASSERT_STRING_EQUAL(str(s, "ltv.objective"), "poisson");
    CU_ASSERT_EQUAL(num(s, "ltv.n_rounds"), 9);
    CU_ASSERT_EQUAL(num(s, "ltv.valid_fraction"), 0.0); /* no hold-out, no early stopping: every row trains */
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
}

/* churn (docs/churn.md): on with ltv, off without; its own keys; off on request. */
static void churn_should_run_with_ltv_and_read_its_keys(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(""), &pl), TRIBE_OK);
    CU_ASSERT_FALSE(tribe_pipeline_enabled(pl, "churn"));
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"ltv\": {\"train\": \"c1.h5\", \"test\": \"c2.h5\", \"horizon_days\": 90}"),
                                    &pl),
                          TRIBE_OK);
    CU_ASSERT(tribe_pipeline_enabled(pl, "churn"));
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "churn.max_leaves"), 4);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "churn.high_risk"), 0.5, 0);
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"ltv\": {\"train\": \"c1.h5\", \"test\": \"c2.h5\", \"horizon_days\": 90}, "
                                        "\"churn\": {\"enabled\": false}"),
                                    &pl),
                          TRIBE_OK);
    CU_ASSERT_FALSE(tribe_pipeline_enabled(pl, "churn"));
    CU_ASSERT(tribe_pipeline_enabled(pl, "ltv"));
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL(configure(JOB(", \"churn\": {\"enabled\": true}"), &pl), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "needs an 'ltv' object"));
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL(configure(JOB(", \"ltv\": {\"train\": \"c1.h5\", \"test\": \"c2.h5\", \"horizon_days\": 90}, "
                                  "\"churn\": {\"high_risk\": 1.5}"),
                              &pl),
                    TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "churn.high_risk"));
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL(configure(JOB(", \"ltv\": {\"train\": \"c1.h5\", \"test\": \"c2.h5\", \"horizon_days\": 90}, "
                                  "\"churn\": {\"leaves\": 3}"),
                              &pl),
                    TRIBE_ERR_USAGE);
    tribe_pipeline_destroy(&pl);
}

static void persona_keys_should_be_read_and_checked(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"seed\": 3, \"persona\": {\"provider\": \"openai\", \"base_url\": "
                                        "\"http://127.0.0.1:9/v1\", \"model\": \"m\", \"seed\": 11, \"retries\": 0, "
                                        "\"image_base_url\": \"https://x/v1\", \"image_model\": \"i\"}"),
                                    &pl),
                          TRIBE_OK);
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "persona.seed"), 11);
    CU_ASSERT_EQUAL(num(s, "persona.retries"), 0);
    CU_ASSERT_STRING_EQUAL(str(s, "persona.prompt"), "/jobs/prompts/persona-v1.txt");
    CU_ASSERT_STRING_EQUAL(str(s, "persona.image_size"), "1024x1024");
    CU_ASSERT_FALSE(flag(s, "persona.require_llm")); /* graceful unless asked */
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"persona\": {\"provider\": \"openai\", \"base_url\": "
                                        "\"http://127.0.0.1:8080/v1\", \"model\": \"m\", \"temperature\": 0.2, "
                                        "\"seed\": 3, \"timeout_s\": 5, \"deadline_s\": 30, \"backoff_s\": 0.1, "
                                        "\"api_key_env\": \"OPENAI_API_KEY\", \"max_concurrency\": 2, "
                                        "\"k_min\": 100, \"cache_dir\": \"cache\", \"prompt\": \"p/v2.txt\", "
                                        "\"require_llm\": true}"),
                                    &pl),
                          TRIBE_OK);
    s = settings(pl);
    CU_ASSERT_STRING_EQUAL(str(s, "persona.provider"), "openai");
    CU_ASSERT_EQUAL(num(s, "persona.k_min"), 100);
    CU_ASSERT_DOUBLE_EQUAL(num(s, "persona.temperature"), 0.2, 0);
    CU_ASSERT_EQUAL(num(s, "persona.max_concurrency"), 2);
    CU_ASSERT_STRING_EQUAL(str(s, "persona.cache_dir"), "/jobs/cache");
    CU_ASSERT_STRING_EQUAL(str(s, "persona.prompt"), "/jobs/p/v2.txt");
    CU_ASSERT_STRING_EQUAL(str(s, "persona.api_key_env"), "OPENAI_API_KEY");
    CU_ASSERT_STRING_EQUAL(str(s, "persona.image_base_url"), "(null)"); /* images: off by default */
    CU_ASSERT_TRUE(flag(s, "persona.require_llm"));
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
    expect_usage(JOB(", \"persona\": {\"provider\": \"claude\"}"), "'persona.provider' = 'claude' is not one of");
    expect_usage(JOB(", \"persona\": {\"provider\": \"openai\", \"model\": \"m\"}"), "base_url");
    expect_usage(JOB(", \"persona\": {\"temperature\": 3}"), "'persona.temperature' = 3 is outside [0, 2]");
    expect_usage(JOB(", \"persona\": {\"k_min\": 0}"), "'persona.k_min' = 0 is outside");
    expect_usage(JOB(", \"persona\": {\"api_key\": \"sk-x\"}"), "unknown key 'persona.api_key'"); /* never in a spec */
    expect_usage(JOB(", \"persona\": {\"image_base_url\": \"file:///x\", \"image_model\": \"m\"}"),
                 "'persona.image_base_url' must start with http");
    expect_usage(JOB(", \"persona\": {\"provider\": \"openai\"}"), "'persona.provider' = 'openai' needs");
    expect_usage(JOB(", \"persona\": {\"base_url\": \"ftp://x\"}"), "'persona.base_url' must start with http");
    expect_usage(JOB(", \"persona\": {\"image_base_url\": \"http://x\"}"), "needs 'persona.image_model'");
    expect_usage(JOB(", \"persona\": {\"max_concurrency\": 0}"), "'persona.max_concurrency' = 0 is outside [1, 256]");
    expect_usage(JOB(", \"persona\": {\"require_llm\": \"yes\"}"), "'persona.require_llm' must be true or false");
    expect_usage(JOB(", \"persona\": {\"require_llm\": true}"), "'persona.require_llm' needs 'persona.provider' = 'openai'");
}

static void an_unknown_key_should_be_named(void)
{
    expect_usage(JOB(", \"kmeans\": {\"kk\": 3}"), "unknown key 'kmeans.kk'");
    CU_ASSERT(strstr(tribe_errmsg(), "/jobs/demo.json") != NULL);
    expect_usage(JOB(", \"drivers\": {\"rounds\": 3}"), "unknown key 'drivers.rounds'");
    expect_usage(JOB(", \"ltv\": {\"horizon\": 9}"), "unknown key 'ltv.horizon'");
    expect_usage(JOB(", \"ward\": {\"depth\": 2}"), "unknown key 'ward.depth'");
    expect_usage(JOB(", \"outliers\": {\"treshold\": 3}"), "unknown key 'outliers.treshold'");
    expect_usage(JOB(", \"clusters\": 3"), "unknown key 'clusters'");
    expect_usage(JOB(", \"campaign\": {\"rules\": [{\"segment_match\": \"*\", \"tone\": \"x\", \"colour\": 1}]}"),
                 "unknown key 'campaign.rules[0].colour'");
}

static void a_wrong_type_or_value_should_be_named(void)
{
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {JOB(", \"kmeans\": {\"k\": \"five\"}"), "'kmeans.k' must be an integer"},
        {JOB(", \"kmeans\": {\"k\": 0}"), "'kmeans.k' = 0 is outside [1, 1000]"},
        {JOB(", \"kmeans\": {\"k\": [4]}"), "'kmeans.k' must be an array of 2 integers"},
        {JOB(", \"kmeans\": {\"k\": 4, \"k_max\": 6}"), "give either 'kmeans.k' or"},
        {JOB(", \"kmeans\": {\"k_min\": 5, \"k_max\": 4}"), "need 2 <= k_min <= k_max"},
        {JOB(", \"kmeans\": {\"init\": \"random\"}"), "'kmeans.init' = 'random' is not one of"},
        {JOB(", \"seed\": 1.5"), "'seed' must be an integer"},
        {JOB(", \"features\": {\"columns\": [1]}"), "'features.columns' must be an array of strings; item 0"},
        {JOB(", \"outliers\": {\"method\": \"lof\"}"), "'outliers.method' = 'lof' is not one of 'iqr', 'dbscan'"},
        {JOB(", \"outliers\": {\"method\": \"dbscan\", \"eps\": -1}"), "'outliers.eps' = -1 is outside"},
        {JOB(", \"outliers\": {\"method\": \"dbscan\", \"min_samples\": 2.5}"), "'outliers.min_samples' must be an integer"},
        {JOB(", \"outliers\": {\"method\": \"dbscan\", \"sample_size\": 0}"), "'outliers.sample_size' = 0 is outside"},
        {JOB(", \"outliers\": {\"threshold\": -1}"), "'outliers.threshold' = -1 is outside [0, 1000]"},
        {JOB(", \"outliers\": {\"threshold\": \"3\"}"), "'outliers.threshold' must be a number"},
        {JOB(", \"outliers\": true"), "'outliers' must be an object"},
        {JOB(", \"gmm\": {\"max_iter\": 0}"), "'gmm.max_iter' = 0 is outside [1, 10000]"},
        {JOB(", \"gmm\": {\"max_iter\": 2.5}"), "'gmm.max_iter' must be an integer"},
        {JOB(", \"gmm\": {\"tol\": -1}"), "'gmm.tol' = -1 is outside"},
        {JOB(", \"gmm\": {\"reg_covar\": -0.1}"), "'gmm.reg_covar' = -0.1 is outside"},
        {JOB(", \"gmm\": {\"enabled\": 1}"), "'gmm.enabled' must be true or false"},
        {JOB(", \"gmm\": {\"sample_size\": -5}"), "'gmm.sample_size' = -5 is outside"},
        {JOB(", \"drivers\": {\"max_leaves\": 1}"), "'drivers.max_leaves' = 1 is outside"},
        {JOB(", \"ltv\": {\"test\": \"c2.h5\", \"horizon_days\": 9}"), "'ltv' needs"},
        {JOB(", \"ltv\": {}"), "'ltv' needs"},
        {JOB(", \"ltv\": {\"train\": \"a\", \"test\": \"b\", \"horizon_days\": 9, \"objective\": \"gamma\"}"),
         "'ltv.objective' = 'gamma'"},
        {JOB(", \"run_id\": \"a/b\""), "'run_id' may hold only"},
        {JOB(", \"campaign\": {\"rules\": [{\"tone\": \"x\"}]}"), "'campaign.rules[0].segment_match' is required"},
        {JOB(", \"campaign\": {\"rules\": [{\"segment_match\": \"*\", \"channel\": \"fax\"}]}"),
         "'campaign.rules[0].channel' = 'fax' is not one of"},
        {JOB(", \"campaign\": {\"rules\": [{\"segment_match\": \"*\", \"response_rate\": 2}]}"),
         "'campaign.rules[0].response_rate' = 2 is outside [0, 1]"},
        {JOB(", \"campaign\": {\"rules\": [3]}"), "'campaign.rules[0]' must be an object"},
        {"{\"output\": \"o\"}", "'input'"},
        {"{\"input\": \"a\"}", "'output'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_usage(bad[i].spec, bad[i].msg);
}

#define LTV_JOB(extra) JOB(", \"ltv\": {\"train\": \"a\", \"test\": \"b\", \"horizon_days\": 9" extra "}")

static void ltv_validation_share_and_patience_should_be_checked(void)
{
    expect_usage(LTV_JOB(", \"valid_fraction\": 0"),
                 "'ltv.early_stopping_rounds' = 20 needs held-out rows, but 'ltv.valid_fraction' = 0");
    expect_usage(LTV_JOB(", \"valid_fraction\": 0.95"), "'ltv.valid_fraction' = 0.95 is outside [0, 0.9]");
    expect_usage(LTV_JOB(", \"valid_fraction\": -0.1"), "'ltv.valid_fraction' = -0.1 is outside");
    expect_usage(LTV_JOB(", \"valid_fraction\": \"20%\""), "'ltv.valid_fraction' must be a number");
    expect_usage(LTV_JOB(", \"early_stopping_rounds\": 2.5"), "'ltv.early_stopping_rounds' must be an integer");
    expect_usage(LTV_JOB(", \"early_stopping_rounds\": -1"), "'ltv.early_stopping_rounds' = -1 is outside [0, 10000]");
}

static void broken_json_should_give_its_line(void)
{
    tribe_job *job = NULL;
    expect_usage("{\n\"input\": \"a\",\n\"output\": }", "demo.json:3: not valid JSON");
    expect_usage("[1, 2]", "the job spec must be a JSON object");
    CU_ASSERT_EQUAL(tribe_job_load("/nonexistent.json", &job), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NULL(job);
}

static void a_key_given_twice_should_take_the_last_value(void)
{
    tribe_pipeline *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(configure(JOB(", \"kmeans\": {\"k\": 3, \"k\": 4}"), &pl), TRIBE_OK);
    tribe_rec *s = settings(pl);
    CU_ASSERT_EQUAL(num(s, "kmeans.k"), 4);
    tribe_rec_destroy(&s);
    tribe_pipeline_destroy(&pl);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_full_spec_should_set_every_stage),
        TRIBE_TEST(relative_paths_should_resolve_against_the_spec),
        TRIBE_TEST(bad_run_ids_and_overlong_paths_should_fail_at_parse_time),
        TRIBE_TEST(defaults_should_sweep_k_from_3_to_8_and_turn_every_stage_on),
        TRIBE_TEST(stages_should_be_switched_off_by_their_keys),
        TRIBE_TEST(ltv_keys_should_default_targets),
        TRIBE_TEST(churn_should_run_with_ltv_and_read_its_keys),
        TRIBE_TEST(persona_keys_should_be_read_and_checked),
        TRIBE_TEST(an_unknown_key_should_be_named),
        TRIBE_TEST(a_wrong_type_or_value_should_be_named),
        TRIBE_TEST(ltv_validation_share_and_patience_should_be_checked),
        TRIBE_TEST(broken_json_should_give_its_line),
        TRIBE_TEST(a_key_given_twice_should_take_the_last_value),
        {NULL, NULL}};
    if (tribe_par_serial(&par) != TRIBE_OK) /* one context for every case: the cases share it */
        return 1;
    int rc = tribe_test_main("job_spec", cases);
    tribe_par_finalize(&par);
    return rc;
}
