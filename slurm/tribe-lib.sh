# shellcheck shell=bash
# tribe-lib.sh: what the tribe batch scripts share (sourced, never run).
#
#   tribe_find        -> $TRIBE: $TRIBE_BIN, else `tribe` on PATH, else
#                        $SLURM_SUBMIT_DIR/build/tribe; exit 4 (environment)
#                        when there is none
#   tribe_step NAME [srun options] -- COMMAND...
#                     -> one job step, with the launch check and SIGUSR1 /
#                        SIGTERM forwarded to it; returns its exit code
#   tribe_stopped_or_exit RC
#                     -> RC 75 (tribe stopped at a stage boundary, checkpoint
#                        kept), or any failure of a step that was signalled
#                        (a step without checkpoints, such as ingest, simply
#                        ends): requeues this job when it may be requeued, so
#                        the next start resumes; any other non-zero RC ends
#                        the script with it
#
#   tribe_env         -> OMP_NUM_THREADS from --cpus-per-task, OPENBLAS_NUM_THREADS=1,
#                        and SIGUSR1/SIGTERM between steps remembered (the
#                        next step does not start)
#
# Settings (environment): TRIBE_BIN, TRIBE_SRUN_MPI (srun's --mpi plugin,
# default pmix; "none" leaves it to the site's MpiDefault), TRIBE_MAX_RESTARTS
# (requeues of one job, default 10). Exit codes follow docs/cli.md: 2
# usage, 3 bad data, 4 environment, 5 internal, 75 stopped (docs/slurm.md).

TRIBE_EXIT_STOPPED=75
TRIBE_SIGNALLED=0
TRIBE_ME=${TRIBE_ME:-tribe}

tribe_log() { echo "$TRIBE_ME: $*" >&2; }

# One OpenMP thread per CPU Slurm gave each task, and no hidden second level
# of threads inside OpenBLAS competing with them.
# Also: a signal between steps is remembered (bash would otherwise die of
# SIGUSR1), and the next step does not start.
tribe_env() {
  export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
  export OPENBLAS_NUM_THREADS=1
  trap _tribe_between_steps USR1 TERM
}

_tribe_between_steps() {
  TRIBE_SIGNALLED=1
  tribe_log "signal between steps: no further step starts"
}

tribe_find() {
  if [ -n "${TRIBE_BIN:-}" ]; then
    TRIBE=$TRIBE_BIN
  elif command -v tribe >/dev/null 2>&1; then
    TRIBE=$(command -v tribe)
  else
    TRIBE=${SLURM_SUBMIT_DIR:-$PWD}/build/tribe
  fi
  if [ ! -x "$TRIBE" ]; then
    tribe_log "no tribe binary at '$TRIBE': set TRIBE_BIN, put tribe on PATH (module load ...)" \
      "or build it in build/"
    exit 4
  fi
}

# srun does not take --cpus-per-task from the allocation since Slurm 22.05:
# it is passed on explicitly. --mpi=pmix is what Debian's Open MPI 4 speaks
# (pmi2 fails in MPI_Init); TRIBE_SRUN_MPI overrides it.
#
# srun can exit 0 when a step fails to launch at all (seen with Slurm 22.05
# when the pmix plugin cannot set up the step): no rank ran, and the job
# would be reported COMPLETED. Rank 0, which runs on this node, leaves a
# marker in node-local tmp before it becomes tribe, so such a launch is
# caught and the step fails.
#
# The step runs in the background so that this shell can take a signal
# (sbatch --signal=B:USR1@N, scancel --signal=USR1 --batch, or the SIGTERM
# of a time limit or preemption) while it waits, and pass it on: srun
# forwards SIGUSR1 to every task, and tribe stops at the next stage boundary.
tribe_step() {
  local name=$1 marker rc child opts=() mpi=${TRIBE_SRUN_MPI:-pmix}
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  [ "$mpi" = none ] || opts+=("--mpi=$mpi")
  if [ "$TRIBE_SIGNALLED" = 1 ]; then
    tribe_log "step $name: not started, the job was signalled"
    return "$TRIBE_EXIT_STOPPED"
  fi
  tribe_log "step $name: $*"
  marker=$(mktemp "${TMPDIR:-/tmp}/tribe-launch.${SLURM_JOB_ID:-0}.XXXXXX") || exit 4
  rm -f "$marker"
  # shellcheck disable=SC2016  # expanded by the task's bash, not here
  srun --cpus-per-task="$OMP_NUM_THREADS" "${opts[@]}" \
    bash -c '[ "${SLURM_PROCID:-0}" != 0 ] || : >"$0"; exec "$@"' "$marker" "$@" &
  child=$!
  # shellcheck disable=SC2064  # the child's pid, now
  trap "TRIBE_SIGNALLED=1; tribe_log 'signal: asking step $name to stop at a stage boundary';
        kill -USR1 $child 2>/dev/null" USR1 TERM
  rc=0
  wait "$child" || rc=$?
  # A trapped signal ends `wait` early (status > 128): wait again for the step.
  while [ $rc -gt 128 ] && kill -0 "$child" 2>/dev/null; do
    rc=0
    wait "$child" || rc=$?
  done
  trap _tribe_between_steps USR1 TERM
  if [ $rc -eq 0 ] && [ ! -e "$marker" ]; then
    tribe_log "step $name: srun exited 0 but rank 0 never started (step launch failed)"
    rc=1
  fi
  rm -f "$marker"
  [ $rc -eq 0 ] || tribe_log "step $name ended with exit code $rc"
  return $rc
}

# After a step: 0 goes on, 75 requeues (or ends the job with 75 when it may
# not be requeued: rerun it by hand to resume), anything else ends the job.
tribe_stopped_or_exit() {
  local rc=$1
  [ "$rc" -eq 0 ] && return 0
  if { [ "$rc" -eq "$TRIBE_EXIT_STOPPED" ] || [ "$TRIBE_SIGNALLED" = 1 ]; } && [ -n "${SLURM_JOB_ID:-}" ]; then
    # A signal that always comes too early (a --signal margin longer than the
    # time limit) would requeue the job for ever.
    if [ "${SLURM_RESTART_COUNT:-0}" -ge "${TRIBE_MAX_RESTARTS:-10}" ]; then
      tribe_log "stopped (exit $rc) after ${SLURM_RESTART_COUNT} restarts (TRIBE_MAX_RESTARTS):" \
        "not requeued; check --time and --signal, then submit it again to resume"
      exit "$rc"
    fi
    if scontrol requeue "$SLURM_JOB_ID"; then
      tribe_log "stopped (exit $rc); job $SLURM_JOB_ID requeued (restart $((${SLURM_RESTART_COUNT:-0} + 1))):" \
        "it resumes from the checkpoint"
      exit 0
    fi
    tribe_log "stopped (exit $rc), but job $SLURM_JOB_ID could not be requeued (no --requeue?):" \
      "submit it again to resume"
  fi
  exit "$rc"
}
