/* tribe/job.h: the JSON job spec of `tribe run` (docs/job-spec.md).
 *
 * Usage:
 *     tribe_job *job = NULL;
 *     st = tribe_job_load("jobs/demo.json", &job);   // parse + validate, strict
 *     ... job->kmeans.k ...
 *     tribe_job_destroy(&job);
 *
 * Every key has the name of the field it fills (kmeans.batch_size ->
 * job->kmeans.batch_size). Unknown keys and wrong types are TRIBE_ERR_USAGE
 * errors naming the file and the key path ("kmeans.kk"). Relative paths in
 * the spec are resolved against the spec file's directory.
 *
 * Ownership: the job owns all its strings. Not collective (the CLI loads it
 * on every rank; the file is small).
 */
#ifndef TRIBE_JOB_H
#define TRIBE_JOB_H

#include "tribe/core.h"

/* One campaign rule of the job spec's "campaign.rules" array
 * (docs/campaigns.md). Fields left out are NULL / NaN and take the matching
 * built-in rule's value. */
typedef struct {
    char *segment_match;  /* segment name family ("At Risk"), prefix match, case-insensitive; "*" = any */
    char *campaign;       /* e.g. "reactivation offer" */
    char *channel;        /* "email", "sms", "push" or "auto" (from the device mix) */
    char *tone;
    char *timing;
    double response_rate; /* in [0, 1]; NaN = the built-in rule's */
} tribe_campaign_rule;

typedef struct {
    char *path;         /* the spec file */
    char *input;        /* customers.h5 (resolved) */
    char *output;       /* output directory (resolved) */
    char *run_id;       /* default: UTC timestamp + seed */
    uint64_t seed;
    struct {
        int n_columns;  /* 0 = every numeric feature of the input */
        char **columns;
        int n_log1p;    /* -1 = the default list (docs/job-spec.md) */
        char **log1p;
        int standardize;
    } features;
    struct {
        int k;          /* fixed K, or 0 when k_min..k_max is swept */
        int k_min, k_max;
        int64_t batch_size;
        int max_steps;
        int64_t init_sample;
        double tol;
        char *init;         /* "kmeans++" (NULL = default) or "kmeans||" */
        char *algorithm;    /* "minibatch" (NULL = default) or "lloyd" */
        int n_init;         /* restarts sharing each full pass; default 1 */
        int lloyd_passes;   /* full passes after mini-batch; default 3 */
        double inertia_tol; /* Lloyd stops when inertia falls by less than this share; default 1e-4 */
    } kmeans;
    struct {
        int64_t sample_size;
    } silhouette;
    struct {
        int64_t sample_size;
    } projection;
    struct {
        int enabled;          /* default true: segment drivers (docs/gbdt.md) */
        int n_rounds;         /* boosting rounds (trees per segment); default 30 */
        int max_leaves;       /* default 15 */
        double learning_rate; /* default 0.2 */
        int64_t sample_size;  /* rows explained by TreeSHAP (expected, by global
                                 row index); 0 = every row; default 10000 */
        int64_t train_rows;   /* rows the driver GBDT trains on (expected, by
                                 global row index); 0 = every row; default 1M */
    } drivers;
    struct {
        /* Lifetime value (docs/ltv.md); off unless "ltv" is given. Paths
         * resolved against the spec's directory. */
        char *train;          /* customers.h5 ingested with --cutoff c1; required with ltv */
        char *train_target;   /* default <train without .h5>.target.h5 */
        char *test;           /* ingested with cutoff c1 + horizon; required with ltv */
        char *test_target;    /* default <test without .h5>.target.h5 */
        double horizon_days;  /* required with ltv: the ingests' --horizon */
        char *objective;      /* "tweedie" (default), "poisson" or "squared" */
        int n_rounds;         /* default 200 */
        double learning_rate; /* default 0.05 */
        int max_leaves;       /* default 15 */
        double valid_fraction;     /* rows held out for early stopping, 0..0.9; default 0.2 */
        int early_stopping_rounds; /* patience in rounds; 0 = off; default 20; > 0 needs
                                      valid_fraction > 0 */
    } ltv;
    struct {
        char *provider;     /* "offline" (default) or "openai" (docs/personas-llm.md) */
        char *base_url;     /* e.g. "https://api.openai.com/v1"; required for "openai" */
        char *model;        /* required for "openai" */
        double temperature; /* default 0.7 */
        uint64_t seed;      /* sent to the server; default: the job's seed */
        double timeout_s;   /* per request; default 60 */
        double deadline_s;  /* all requests of a run; default 300 */
        double backoff_s;   /* first retry delay without Retry-After; default 1 */
        char *api_key_env;  /* name of the variable holding the key; NULL = no key */
        int max_concurrency; /* requests in flight; default 4 */
        int retries;        /* retries after the first attempt; default 2 */
        int64_t k_min;      /* smaller segments never reach the LLM; default 50 */
        char *cache_dir;    /* NULL = no cache */
        char *prompt;       /* template file; default <spec dir>/prompts/persona-v1.txt */
        char *image_base_url; /* images endpoint base; NULL = no images */
        char *image_model;    /* required with image_base_url */
        char *image_size;     /* default "1024x1024" */
    } persona;
    struct {
        int n_rules;
        tribe_campaign_rule *rules; /* tried in order before the built-in rules */
    } campaign;
    /* Beyond K-Means (docs/clustering.md): each on unless "enabled": false. */
    struct {
        int enabled;          /* default true */
        char *method;         /* "iqr" (default and only): Q3 + threshold * IQR of the segment's distances */
        double threshold;     /* IQRs above the third quartile; default 3 */
    } outliers;
    struct {
        int enabled;          /* default true: soft membership by a diagonal Gaussian mixture */
        int max_iter;         /* EM iterations at most; default 100 */
        double tol;           /* on the mean log-likelihood per customer; default 1e-3 */
        double reg_covar;     /* added to every variance; default 1e-6 */
        int64_t sample_size;  /* EM iterates on about this many customers (by global row
                                 index); 0 = every one; default 100000. Memberships cover all. */
    } gmm;
    struct {
        int enabled;          /* default true: Ward tree over the segment centres */
    } ward;
    char *spec_json;    /* the spec as given, for /runs/<id>/job_spec */
} tribe_job;

tribe_status tribe_job_load(const char *path, tribe_job **out);
/* Parses spec text (path is used for messages and relative paths). */
tribe_status tribe_job_parse(const char *path, const char *text, tribe_job **out);
void tribe_job_destroy(tribe_job **job);

#endif
