/* Internal to src/stages: checkpoints of `tribe run` in its staging
 * directory, and the cleaning of what killed runs leave behind
 * (docs/cli.md, "Interrupted runs").
 *
 * A staging directory <output>/.staging-<run_id> holds, besides the outputs
 * being written:
 *   lock               the owner: pid, host, process start time, Slurm job id
 *                      and restart count; touched at every stage boundary
 *                      and stop point
 *   checkpoint         identity of the run (format line, spec_hash, binary,
 *                      run_id, input_hash), one "stage NAME" line per
 *                      saved stage and one "partial NAME" line per partial
 *                      checkpoint; rewritten atomically
 *   checkpoint-NAME.h5 one per saved stage (the stage's save operation)
 *   checkpoint-NAME.partial.h5  a stage stopped inside its run: its progress
 *                      (tribe_run_save_partial), dropped once it completes
 * A staging directory is a killed run's when its owner is gone: same host and
 * no live process with that pid and start time (or this process: a pipeline
 * of it that has returned); or the same Slurm job id at
 * another restart count (a requeued job); or another host and a lock not
 * touched for TRIBE_OWNER_STALE_SECONDS (tribe/owner.h). It is never read as
 * results. All of this happens under the output directory's lock
 * (<output>/.lock, outputs.c), so no other live run makes or removes staging
 * directories meanwhile.
 */
#ifndef TRIBE_CHECKPOINT_H
#define TRIBE_CHECKPOINT_H

#include "pipeline_internal.h"

/* A staging directory without its lock file counts as a run's that has just
 * made it (it writes the lock next) for this long, then as a killed run's. */
#define CHECKPOINT_FRESH_SECONDS 60

/* Rank 0, not collective. Fills pl->spec_hash and pl->binary, then scans the
 * output directory (which exists and whose lock this run holds): removes
 * killed runs' staging directories and top-level *.tmp.<pid> files whose
 * writer is provably gone (stale_tmp), except the newest killed run whose
 * checkpoint has this spec hash and binary, which is adopted: pl->staging is
 * set to it, job->run_id becomes its run id, pl->saved, pl->partial and
 * pl->resumed_input are filled. With pl->resume and only other specs' or
 * binaries' checkpoints, fails with USAGE naming both and removes nothing.
 * IO, NOMEM. */
tribe_status checkpoint_scan(tribe_pipeline *pl);
/* Rank 0. A new staging directory <output>/.staging-<run_id> in pl->staging;
 * IO when one exists (the scan left it: its owner is alive). */
tribe_status checkpoint_new_staging(tribe_pipeline *pl);
/* Rank 0. Writes the lock of the (new or adopted) staging directory and its
 * checkpoint identity file. IO. */
tribe_status checkpoint_claim(tribe_pipeline *pl);
/* Collective. After the input is read: an adopted checkpoint made from other
 * input is refused (INPUT, naming both hashes) with pl->resume, else removed,
 * and the run goes on afresh under its own run id (r->run_group follows);
 * then every rank learns pl->saved and pl->partial. */
tribe_status checkpoint_check_input(tribe_pipeline *pl);
/* Collective. Stage i's save into checkpoint-NAME.h5 (written under a
 * temporary name, renamed when closed) and the identity file updated. */
tribe_status checkpoint_save(tribe_pipeline *pl, int i);
/* Collective. Stage i's load from its checkpoint. */
tribe_status checkpoint_load(tribe_pipeline *pl, int i);
/* Collective. A stage boundary: rank 0 touches the lock, the ranks agree on
 * the stop flag (one allreduce); *stop = 1 when they are to stop here. */
tribe_status checkpoint_boundary(tribe_pipeline *pl, int *stop);
/* Collective. Stage i completed: rank 0 removes its partial checkpoint and
 * updates the identity file. */
tribe_status checkpoint_drop_partial(tribe_pipeline *pl, int i);
/* Rank 0. Removes the checkpoint identity file and the stages' checkpoints
 * of a finished run's staging directory (best effort); the lock stays. */
void checkpoint_drop(const char *dir);
/* Rank 0. Removes the lock of a directory (best effort). */
void checkpoint_unlock(const char *dir);
/* Not collective. Removes a flat directory and the files in it (best effort). */
void checkpoint_rmdir(const char *dir);

#endif
