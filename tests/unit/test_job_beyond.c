/* Unit tests for the outliers, gmm and ward job keys (src/core/job.c,
 * docs/job-spec.md). */
#include "testutil.h"
#include "tribe/job.h"

#include <string.h>

static tribe_status parse(const char *text, tribe_job **job)
{
    return tribe_job_parse("/jobs/demo.json", text, job);
}

static void beyond_keys_should_default_on(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a\", \"output\": \"o\"}", &job), TRIBE_OK);
    CU_ASSERT_EQUAL(job->outliers.enabled, 1);
    CU_ASSERT_STRING_EQUAL(job->outliers.method, "iqr");
    CU_ASSERT_EQUAL(job->outliers.threshold, 3.0);
    CU_ASSERT_EQUAL(job->gmm.enabled, 1);
    CU_ASSERT_EQUAL(job->gmm.max_iter, 100);
    CU_ASSERT_EQUAL(job->gmm.tol, 1e-3);
    CU_ASSERT_EQUAL(job->gmm.reg_covar, 1e-6);
    CU_ASSERT_EQUAL(job->gmm.sample_size, 100000);
    CU_ASSERT_EQUAL(job->ward.enabled, 1);
    tribe_job_destroy(&job);
}

static void beyond_keys_should_be_read(void)
{
    tribe_job *job = NULL;
    CU_ASSERT_EQUAL_FATAL(parse("{\"input\": \"a\", \"output\": \"o\", \"outliers\": {\"enabled\": false, "
                                "\"method\": \"iqr\", \"threshold\": 1.5}, \"gmm\": {\"enabled\": false, "
                                "\"max_iter\": 7, \"tol\": 0.5, \"reg_covar\": 0.01, \"sample_size\": 0}, \"ward\": {\"enabled\": false}}",
                                &job),
                          TRIBE_OK);
    CU_ASSERT_EQUAL(job->outliers.enabled, 0);
    CU_ASSERT_EQUAL(job->outliers.threshold, 1.5);
    CU_ASSERT_EQUAL(job->gmm.enabled, 0);
    CU_ASSERT_EQUAL(job->gmm.max_iter, 7);
    CU_ASSERT_EQUAL(job->gmm.tol, 0.5);
    CU_ASSERT_EQUAL(job->gmm.reg_covar, 0.01);
    CU_ASSERT_EQUAL(job->gmm.sample_size, 0);
    CU_ASSERT_EQUAL(job->ward.enabled, 0);
    tribe_job_destroy(&job);
}

static void beyond_keys_should_be_strict(void)
{
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"\"outliers\": {\"method\": \"dbscan\"}", "'outliers.method' = 'dbscan' is not available ('iqr')"},
        {"\"outliers\": {\"threshold\": -1}", "'outliers.threshold' = -1 is outside [0, 1000]"},
        {"\"outliers\": {\"threshold\": \"3\"}", "'outliers.threshold' must be"},
        {"\"outliers\": {\"treshold\": 3}", "unknown key 'outliers.treshold'"},
        {"\"outliers\": true", "'outliers' must be an object"},
        {"\"gmm\": {\"max_iter\": 0}", "'gmm.max_iter' = 0 is outside [1, 10000]"},
        {"\"gmm\": {\"max_iter\": 2.5}", "'gmm.max_iter' must be"},
        {"\"gmm\": {\"tol\": -1}", "'gmm.tol' = -1 is outside"},
        {"\"gmm\": {\"reg_covar\": -0.1}", "'gmm.reg_covar' = -0.1 is outside"},
        {"\"gmm\": {\"enabled\": 1}", "'gmm.enabled' must be"},
        {"\"gmm\": {\"sample_size\": -5}", "'gmm.sample_size' = -5 is outside"},
        {"\"ward\": {\"depth\": 2}", "unknown key 'ward.depth'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        tribe_job *job = NULL;
        snprintf(text, sizeof text, "{\"input\": \"a\", \"output\": \"o\", %s}", bad[i].spec);
        CU_ASSERT_EQUAL(parse(text, &job), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NULL(job);
        if (!strstr(tribe_errmsg(), bad[i].msg))
            fprintf(stderr, "\n%s -> %s\n", bad[i].spec, tribe_errmsg());
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), bad[i].msg));
    }
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(beyond_keys_should_default_on),
        TRIBE_TEST(beyond_keys_should_be_read),
        TRIBE_TEST(beyond_keys_should_be_strict),
        {NULL, NULL}};
    return tribe_test_main("job_beyond", cases);
}
