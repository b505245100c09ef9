/* The run-wide keys of the job spec (tribe/job.h); the stages read the rest. */
#include "tribe/job.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A run id names files and HDF5 groups: letters, digits, '-', '_', '.', at
 * most TRIBE_RUN_ID_MAX characters, and not "." or ".." (which name
 * directories). */
static int valid_run_id(const char *id)
{
    if (strlen(id) > TRIBE_RUN_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            return 0;
    return id[0] != '\0';
}

tribe_status tribe_job_parse(const char *path, const char *text, tribe_job **out)
{
    tribe_status st = TRIBE_OK;
    tribe_job *job = NULL;
    TRIBE_TRY(tribe_calloc((void **)&job, 1, sizeof *job));
    job->seed = 42;
    if (path)
        TRIBE_TRY(tribe_strdup(path, &job->path));
    TRIBE_TRY(tribe_strdup(text, &job->spec_json));
    TRIBE_TRY(tribe_spec_parse(path, text, &job->spec));
    TRIBE_TRY(tribe_spec_path(job->spec, "input", &job->input));
    TRIBE_TRY(tribe_spec_path(job->spec, "output", &job->output));
    TRIBE_TRY(tribe_spec_str(job->spec, "run_id", &job->run_id));
    TRIBE_TRY(tribe_spec_u64(job->spec, "seed", 0, 9007199254740991.0, &job->seed));
    if (!job->input)
        TRIBE_TRY(tribe_spec_fail(job->spec, "'input' (the customers.h5 file) is required"));
    if (!job->output)
        TRIBE_TRY(tribe_spec_fail(job->spec, "'output' (the results directory) is required"));
    if (!job->run_id) {
        char id[64], full[96];
        time_t now = time(NULL);
        struct tm tmv;
        strftime(id, sizeof id, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tmv));
        snprintf(full, sizeof full, "%s-s%llu", id, (unsigned long long)job->seed);
        TRIBE_TRY(tribe_strdup(full, &job->run_id));
        job->run_id_default = 1;
    }
    if (!valid_run_id(job->run_id))
        TRIBE_TRY(tribe_spec_fail(job->spec, "'run_id' may hold only letters, digits, '-', '_' and '.', at most %d of "
                                  "them, and is not '.' or '..'", TRIBE_RUN_ID_MAX));
    *out = job;
    job = NULL;
cleanup:
    tribe_job_destroy(&job);
    return st;
}

tribe_status tribe_job_load(const char *path, tribe_job **out)
{
    char *text = NULL;
    tribe_status st = tribe_read_file(path, &text, NULL);
    if (st == TRIBE_OK)
        st = tribe_job_parse(path, text, out);
    free(text);
    return st;
}

void tribe_job_destroy(tribe_job **jp)
{
    if (!jp || !*jp)
        return;
    tribe_job *j = *jp;
    free(j->path);
    free(j->input);
    free(j->output);
    free(j->run_id);
    free(j->spec_json);
    tribe_spec_destroy(&j->spec);
    free(j);
    *jp = NULL;
}
