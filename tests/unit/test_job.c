/* Unit tests for the job spec parser (src/core/job.c). */
#include "testutil.h"
#include "tribe/job.h"

#include <string.h>

static tribe_status parse(const char *text, tribe_job **job)
{
    return tribe_job_parse("/jobs/demo.json", text, job);
}

static void a_full_spec_should_fill_every_field(void)
{
    tribe_job *job = NULL;
    const char *text = "{\"input\": \"data/customers.h5\", \"output\": \"/abs/out\", \"seed\": 7,"
                       " \"features\": {\"columns\": [\"recency_days\", \"monetary\"], \"log1p\": [\"monetary\"]},"
                       " \"kmeans\": {\"k\": 5, \"batch_size\": 512, \"tol\": 0.001},"
                       " \"silhouette\": {\"sample_size\": 100}, \"run_id\": \"r-1\"}";
    CU_ASSERT_EQUAL_FATAL(parse(text, &job), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "/jobs/data/customers.h5");
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("jobs/x.json", "{\"input\": \"../out/./a.h5\", \"output\": \"o\"}", &job), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "out/a.h5");
    CU_ASSERT_STRING_EQUAL(job->output, "jobs/o");
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(tribe_job_parse("../jobs/x.json", "{\"input\": \"../../a.h5\", \"output\": \"/t/../o\"}", &job), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->input, "../../a.h5");
    CU_ASSERT_STRING_EQUAL(job->output, "/t/../o");
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse(text, &job), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->output, "/abs/out");
    CU_ASSERT_EQUAL(job->seed, 7);
    CU_ASSERT_EQUAL(job->features.n_columns, 2);
    CU_ASSERT_STRING_EQUAL(job->features.columns[1], "monetary");
    CU_ASSERT_EQUAL(job->features.n_log1p, 1);
    CU_ASSERT_EQUAL(job->kmeans.k, 5);
    CU_ASSERT_EQUAL(job->kmeans.batch_size, 512);
    CU_ASSERT_DOUBLE_EQUAL(job->kmeans.tol, 0.001, 1e-12);
    CU_ASSERT_EQUAL(job->silhouette.sample_size, 100);
    CU_ASSERT_STRING_EQUAL(job->run_id, "r-1");
    CU_ASSERT_STRING_EQUAL(job->persona.provider, "offline");
    tribe_job_destroy(&job);
    CU_ASSERT_PTR_NULL(job);
}

static void defaults_should_sweep_k_from_3_to_8(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\"}", &job), TRIBE_OK);
    CU_ASSERT_EQUAL(job->kmeans.k, 0);
    CU_ASSERT_EQUAL(job->kmeans.k_min, 3);
    CU_ASSERT_EQUAL(job->kmeans.k_max, 8);
    CU_ASSERT_EQUAL(job->features.n_log1p, -1);
    CU_ASSERT_PTR_NOT_NULL(job->run_id);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\", \"kmeans\": {\"k\": [4, 6]}}", &job), TRIBE_OK);
    CU_ASSERT_EQUAL(job->kmeans.k_min, 4);
    CU_ASSERT_EQUAL(job->kmeans.k_max, 6);
    tribe_job_destroy(&job);
}

static void an_unknown_key_should_be_named(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"kmeans\": {\"kk\": 3}}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "unknown key 'kmeans.kk'") != NULL);
    CU_ASSERT(strstr(tribe_errmsg(), "/jobs/demo.json") != NULL);
    CU_ASSERT_PTR_NULL(job);
}

static void a_wrong_type_should_be_named(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"kmeans\": {\"k\": \"five\"}}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'kmeans.k' must be an integer") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"seed\": 1.5}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'seed'") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"features\": {\"columns\": [1]}}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "features.columns") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"kmeans\": {\"k\": 0}}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "outside") != NULL);
}

static void drivers_keys_should_have_defaults_and_bounds(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\"}", &job), TRIBE_OK);
    CU_ASSERT_EQUAL(job->drivers.enabled, 1);
    CU_ASSERT_EQUAL(job->drivers.n_rounds, 30);
    CU_ASSERT_EQUAL(job->drivers.max_leaves, 15);
    CU_ASSERT_DOUBLE_EQUAL(job->drivers.learning_rate, 0.2, 1e-12);
    CU_ASSERT_EQUAL(job->drivers.sample_size, 10000);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\", \"drivers\": {\"enabled\": false, "
                                "\"n_rounds\": 5, \"max_leaves\": 7, \"learning_rate\": 0.5, \"sample_size\": 0}}",
                                &job),
                          TRIBE_OK);
    CU_ASSERT_EQUAL(job->drivers.enabled, 0);
    CU_ASSERT_EQUAL(job->drivers.n_rounds, 5);
    CU_ASSERT_EQUAL(job->drivers.max_leaves, 7);
    CU_ASSERT_DOUBLE_EQUAL(job->drivers.learning_rate, 0.5, 1e-12);
    CU_ASSERT_EQUAL(job->drivers.sample_size, 0);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"drivers\": {\"max_leaves\": 1}}", &job),
                    TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "drivers.max_leaves") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"drivers\": {\"rounds\": 3}}", &job),
                    TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "unknown key 'drivers.rounds'") != NULL);
    CU_ASSERT_PTR_NULL(job);
}

static void ltv_keys_should_default_targets_and_be_checked(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\"}", &job), TRIBE_OK);
    CU_ASSERT_PTR_NULL(job->ltv.train); /* no ltv object: off */
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\", \"ltv\": {\"train\": \"w/c1.h5\", "
                                "\"test\": \"/d/c2\", \"horizon_days\": 90}}",
                                &job),
                          TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->ltv.train, "/jobs/w/c1.h5");
    CU_ASSERT_STRING_EQUAL(job->ltv.train_target, "/jobs/w/c1.target.h5");
    CU_ASSERT_STRING_EQUAL(job->ltv.test_target, "/d/c2.target.h5");
    CU_ASSERT_STRING_EQUAL(job->ltv.objective, "tweedie");
    CU_ASSERT_EQUAL(job->ltv.n_rounds, 200);
    CU_ASSERT_EQUAL(job->ltv.max_leaves, 15);
    CU_ASSERT_DOUBLE_EQUAL(job->ltv.learning_rate, 0.05, 1e-12);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a.h5\", \"output\": \"o\", \"ltv\": {\"train\": \"c1.h5\", "
                                "\"train_target\": \"t1.h5\", \"test\": \"c2.h5\", \"horizon_days\": 30, "
                                "\"objective\": \"poisson\", \"n_rounds\": 9}}",
                                &job),
                          TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(job->ltv.train_target, "/jobs/t1.h5");
    CU_ASSERT_STRING_EQUAL(job->ltv.objective, "poisson");
    CU_ASSERT_EQUAL(job->ltv.n_rounds, 9);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"ltv\": {\"test\": \"c2.h5\", \"horizon_days\": 9}}",
                          &job),
                    TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv' needs") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"ltv\": {\"train\": \"a\", \"test\": \"b\", "
                          "\"horizon_days\": 9, \"objective\": \"gamma\"}}",
                          &job),
                    TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.objective' = 'gamma'") != NULL);
    CU_ASSERT_EQUAL(parse("{\"input\": \"a\", \"output\": \"o\", \"ltv\": {\"horizon\": 9}}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "unknown key 'ltv.horizon'") != NULL);
    CU_ASSERT_PTR_NULL(job);
}

#define LTV_JOB(extra) \
    "{\"input\": \"a\", \"output\": \"o\", \"ltv\": {\"train\": \"a\", \"test\": \"b\", \"horizon_days\": 9" extra "}}"

static void ltv_validation_share_and_patience_should_default_and_be_checked(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse(LTV_JOB(""), &job), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(job->ltv.valid_fraction, 0.2, 1e-15);
    CU_ASSERT_EQUAL(job->ltv.early_stopping_rounds, 20);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL_FATAL(parse(LTV_JOB(", \"valid_fraction\": 0.35, \"early_stopping_rounds\": 7"), &job), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(job->ltv.valid_fraction, 0.35, 1e-15);
    CU_ASSERT_EQUAL(job->ltv.early_stopping_rounds, 7);
    tribe_job_destroy(&job);
    /* no hold-out and no early stopping: every row trains */
    CU_ASSERT_EQUAL_FATAL(parse(LTV_JOB(", \"valid_fraction\": 0, \"early_stopping_rounds\": 0"), &job), TRIBE_OK);
    CU_ASSERT_EQUAL(job->ltv.valid_fraction, 0.0);
    CU_ASSERT_EQUAL(job->ltv.early_stopping_rounds, 0);
    tribe_job_destroy(&job);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"valid_fraction\": 0"), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.early_stopping_rounds' = 20 needs held-out rows, but 'ltv.valid_fraction' = 0") !=
              NULL);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"valid_fraction\": 0.95"), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.valid_fraction' = 0.95 is outside [0, 0.9]") != NULL);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"valid_fraction\": -0.1"), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.valid_fraction' = -0.1 is outside") != NULL);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"valid_fraction\": \"20%\""), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.valid_fraction' must be a number") != NULL);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"early_stopping_rounds\": 2.5"), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.early_stopping_rounds'") != NULL);
    CU_ASSERT_EQUAL(parse(LTV_JOB(", \"early_stopping_rounds\": -1"), &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'ltv.early_stopping_rounds' = -1 is outside [0, 10000]") != NULL);
    CU_ASSERT_PTR_NULL(job);
}

static void broken_json_should_give_its_line(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL(parse("{\n\"input\": \"a\",\n\"output\": }", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "demo.json:3") != NULL);
    CU_ASSERT_EQUAL(parse("{\"output\": \"o\"}", &job), TRIBE_ERR_USAGE);
    CU_ASSERT(strstr(tribe_errmsg(), "'input'") != NULL);
    CU_ASSERT_EQUAL(tribe_job_load("/nonexistent.json", &job), TRIBE_ERR_IO);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_full_spec_should_fill_every_field),
        TRIBE_TEST(defaults_should_sweep_k_from_3_to_8),
        TRIBE_TEST(an_unknown_key_should_be_named),
        TRIBE_TEST(a_wrong_type_should_be_named),
        TRIBE_TEST(drivers_keys_should_have_defaults_and_bounds),
        TRIBE_TEST(ltv_keys_should_default_targets_and_be_checked),
        TRIBE_TEST(ltv_validation_share_and_patience_should_default_and_be_checked),
        TRIBE_TEST(broken_json_should_give_its_line),
        {NULL, NULL}};
    return tribe_test_main("job", cases);
}
