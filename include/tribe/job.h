/* tribe/job.h: the run-wide part of a `tribe run` job spec (docs/job-spec.md):
 * where the customers are, where the results go, the run id and the seed.
 * Everything else in the spec belongs to a stage, which reads its own keys
 * from job->spec (tribe/spec.h) when the pipeline configures it
 * (tribe/stage.h).
 *
 * Usage:
 *     tribe_job *job = NULL;
 *     st = tribe_job_load("jobs/demo.json", &job);   // parse, read the run-wide keys
 *     ... each stage reads job->spec ...; tribe_spec_finish(job->spec);
 *     tribe_job_destroy(&job);
 *
 * Relative paths in the spec are resolved against the spec file's directory.
 * Errors are TRIBE_ERR_USAGE naming the file and the key.
 *
 * Ownership: the job owns all its strings and the spec. Not collective (every
 * rank loads the same small file).
 */
#ifndef TRIBE_JOB_H
#define TRIBE_JOB_H

#include "tribe/core.h"
#include "tribe/spec.h"

/* The longest run id: it names a directory and an HDF5 group, and paths
 * built from it must stay well inside the file system's and MPI-IO's limits. */
#define TRIBE_RUN_ID_MAX 128

typedef struct {
    char *path;      /* the spec file (NULL for text without a file) */
    char *input;     /* customers.h5 (resolved) */
    char *output;    /* output directory (resolved) */
    char *run_id;    /* default: UTC timestamp + seed (then -2, -3, ... when the history holds it) */
    int run_id_default; /* 1 when the spec gave none */
    uint64_t seed;   /* default 42 */
    char *spec_json; /* the spec as given, for /runs/<id>/job_spec */
    tribe_spec *spec; /* the parsed spec: the stages read their keys from it */
} tribe_job;

tribe_status tribe_job_load(const char *path, tribe_job **out);
/* Parses spec text (path is used for messages and relative paths). */
tribe_status tribe_job_parse(const char *path, const char *text, tribe_job **out);
void tribe_job_destroy(tribe_job **job);

#endif
