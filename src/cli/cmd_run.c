/* tribe run JOB.json: the segmentation job, a pipeline of stages
 * (tribe/stage.h). */
#include "cli.h"
#include "tribe/stage.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

static const char USAGE[] =
    "usage: tribe run [--resume] [--progress | --no-progress] JOB.json\n\n"
    "Runs the segmentation job described by JOB.json (docs/job-spec.md) on all ranks: transforms,\n"
    "K-Means (fixed K, or a K range scored by silhouettes, Calinski-Harabasz, Davies-Bouldin, the elbow\n"
    "and split-half stability), segment statistics and names, outliers, soft membership, the Ward tree,\n"
    "the PCA map, segment drivers, lifetime value (with an ltv object), personas and the campaign plan,\n"
    "and writes results.h5, run.json, personas.json, segments.csv, segments.json, migration.csv,\n"
    "campaign_plan.csv and report.html into the job's output directory (atomically: a failed run leaves\n"
    "earlier results in place). Relative paths in JOB.json are relative to JOB.json's directory.\n\n"
    "SIGUSR1 or SIGTERM stops the run at the next stage boundary (or after a K's fit in the K sweep)\n"
    "with its checkpoint kept (exit 75); running the same job again with the same binary resumes it,\n"
    "with the same results as an uninterrupted run. --resume also refuses (exit 2) a checkpoint of\n"
    "another job spec or binary, which a plain run removes as stale. See docs/cli.md, \"Interrupted\n"
    "runs\".\n\n"
    "--progress prints the long stages' progress to stderr (stage, share done, elapsed, time left) at most\n"
    "once a second even when stderr is not a terminal (as TRIBE_PROGRESS=1 does); --no-progress never.\n";

static void print_summary(const tribe_run *r)
{
    const tribe_segments *s = r->segs;
    const tribe_persona *p = r->personas;
    printf("tribe run %s: %lld customers in %d segments (silhouette %.3f +/- %.3f)\n", r->job->run_id,
           (long long)r->rows.n_global, s->k, s->silhouette, s->silhouette_ci);
    printf("  %-3s %-22s %10s %7s %8s  %s\n", "id", "segment", "customers", "share", "revenue", "persona");
    for (int c = 0; c < s->k; c++) {
        char rev[16] = "       -"; /* no monetary column: no revenue share */
        if (isfinite(s->seg[c].revenue_share))
            snprintf(rev, sizeof rev, "%7.1f%%", 100 * s->seg[c].revenue_share);
        printf("  %-3d %-22s %10lld %6.1f%% %s  %s\n", s->seg[c].id, s->seg[c].name, (long long)s->seg[c].size,
               100 * s->seg[c].share, rev, p ? p[c].name : "");
    }
    printf("results: %s/{results.h5,run.json,personas.json,segments.csv,segments.json,migration.csv,campaign_plan.csv,report.html}"
           " (kept in %s/runs/%s)\n",
           r->job->output, r->job->output, r->job->run_id);
}

static tribe_status run(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    tribe_pipeline *pl = NULL;
    int resume = argc == 3 && strcmp(argv[1], "--resume") == 0;
    if (argc != 2 + resume || argv[argc - 1][0] == '-')
        return tribe_cli_usage("run", "expects [--resume] and exactly one JOB.json");
    TRIBE_TRY(tribe_par_agree(par, tribe_pipeline_create(par, argv[argc - 1], NULL, 0, &pl)));
    tribe_pipeline_set_resume(pl, resume);
    tribe_pipeline_set_stop(pl, tribe_cli_catch_stop());
    const tribe_run *r = tribe_pipeline_context(pl);
    if (tribe_par_rank(par) == 0)
        fprintf(stderr, "tribe run: ranks=%d threads=%d job=%s run_id=%s\n", tribe_par_size(par),
                omp_get_max_threads(), r->job->path, r->job->run_id);
    TRIBE_TRY(tribe_pipeline_run(pl));
    tribe_cli_stopped = tribe_pipeline_stopped(pl);
    if (tribe_par_rank(par) == 0 && !tribe_cli_stopped)
        print_summary(r);
cleanup:
    tribe_pipeline_destroy(&pl);
    return st;
}

const tribe_cli_cmd tribe_cmd_run = {"run", "run a segmentation job (JSON spec) on all ranks", USAGE, run};
