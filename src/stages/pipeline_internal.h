/* Internal to src/stages: the pipeline object shared by pipeline.c (the
 * loop) and outputs.c (results.h5, run.json, report.html, publishing). */
#ifndef TRIBE_PIPELINE_INTERNAL_H
#define TRIBE_PIPELINE_INTERNAL_H

#include "tribe/owner.h"
#include "tribe/stage.h"

/* Timed steps: "read", one per stage that ran, "results", "outputs". */
#define PIPELINE_MAX_STEPS 64

struct tribe_pipeline {
    tribe_job *job;
    int n;
    const tribe_stage_def **def; /* [n] */
    void **state;                /* [n] */
    int *enabled, *ran;          /* [n] */
    tribe_run run;
    char staging[4096];          /* "" until made; removed unless published */
    char created[32];            /* UTC time the results were written (rank 0's clock) */
    int n_steps;
    const char *step[PIPELINE_MAX_STEPS];
    double seconds[PIPELINE_MAX_STEPS];
    int64_t rss[PIPELINE_MAX_STEPS]; /* this rank's peak RSS when the step ended */
    double mark;
    tribe_rec *memory;           /* the record's "memory" object, every rank (NULL until taken) */
    /* checkpoints (checkpoint.h) */
    int (*stop)(void);           /* asked at stage boundaries (NULL: never stop) */
    int resume;                  /* --resume: a foreign checkpoint is an error, not stale */
    int stopped;                 /* the run stopped on *stop, checkpoints kept */
    int *saved;                  /* [n] 1: the staging directory holds stage i's checkpoint */
    int *restored;               /* [n] 1: stage i was loaded from it instead of run */
    int *partial;                /* [n] 1: the staging directory holds stage i's partial checkpoint */
    int current;                 /* the stage whose run is under way */
    int stopped_inside;          /* that stage saved a partial checkpoint to stop */
    char spec_hash[17];          /* of the job spec text */
    char binary[96];             /* version and a hash of the executable */
    char resumed_input[17];      /* input hash the adopted checkpoint was made from ("" : none) */
    char own_run_id[320];        /* the job's run id, before a checkpoint's was adopted */
    tribe_lock *dir_lock;        /* rank 0: <output>/.lock, held from the scan to the end of the run */
    long prev_owner_pid;         /* the lock's previous holder (gone), 0 none: its temporaries are stale */
};

/* Not collective: this process's peak resident set size so far, in bytes
 * (getrusage), 0 when unknown. */
int64_t pipeline_peak_rss(void);
/* Not collective: ends the current step (seconds since the last mark). */
void pipeline_lap(tribe_pipeline *pl, const char *name);
/* Collective. The staging directory <output>/.staging-<run_id>, emptied. */
tribe_status pipeline_staging(tribe_pipeline *pl);
/* Collective. results.h5 in the staging directory: the run's own objects and
 * every stage's write. */
tribe_status pipeline_write_results(tribe_pipeline *pl);
/* Rank 0. run.json, report.html and every stage's files, then the move into
 * the output directory. */
tribe_status pipeline_outputs(tribe_pipeline *pl);
/* Rank 0: removes the staging directory and what it holds. */
void pipeline_unstage(tribe_pipeline *pl);
/* Rank 0: releases the output directory's lock (none held: nothing). */
void pipeline_unlock(tribe_pipeline *pl);

#endif
