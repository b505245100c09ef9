# shellcheck shell=bash
# shellcheck disable=SC2034  # SLURM_* globals are this library's outputs
# lib_slurm.sh: a throw-away single-node Slurm cluster for end-to-end tests.
#
#   source tests/e2e/lib_slurm.sh
#   slurm_up || exit 1                       # munged + slurmctld + slurmd, node idle
#   SLURM_SBATCH_OPTS=(--ntasks-per-node=2)  # optional sbatch options
#   slurm_submit_and_wait job.sbatch arg1    # returns the job's real exit code
#   grep ok "$SLURM_JOB_OUT"                 # the job's output file
#   slurm_down                               # also runs on EXIT/INT/TERM/HUP
#
# Needs root (slurmd runs jobs as root and munged/slurmd read root-only keys)
# and the Debian packages slurm-wlm and munge. Everything lives in one run
# directory under $TRIBE_SLURM_BASE (default /tmp/tribe-slurm): munge key,
# socket, pid and log files, slurm.conf, state and spool. Nothing under /etc,
# /run or /var is touched, no systemd unit is used, and the daemons listen on
# loopback ports picked free at start-up, so several runs can coexist.
#
# Processes are only ever ended by the pids this library recorded itself:
#   - daemons: the pids of the processes it started (run/<name>.pid), checked
#     against /proc/<pid>/cmdline, which names the run directory, before any
#     signal, so a recycled pid is never hit;
#   - slurmstepd: it is forked by slurmd, outlives it on purpose and ignores
#     SIGTERM; jobs are cancelled first, and any step daemon left over is found
#     by the TRIBE_SLURM_RUN=<run dir> marker it inherits from our slurmd.
# A run whose owning shell died (crash, SIGKILL from a test timeout) leaves its
# directory behind; the next slurm_up cleans such stale runs, and only those.
#
# Interface (globals set for the caller):
#   slurm_up                 -> 0 when the node is idle; exports SLURM_CONF;
#                               sets SLURM_RUN_DIR, SLURM_NODE, SLURM_UP_SECONDS
#   slurm_submit_and_wait [SBATCH_OPTS... --] SCRIPT [ARGS...]
#                            -> the job's exit code (0 only for JobState=COMPLETED
#                               with ExitCode=0:0; 128+sig for a signal, 124 when
#                               it timed out, 125 for any other failed state);
#                               sets SLURM_JOB_ID, SLURM_JOB_STATE, SLURM_JOB_OUT.
#                               sbatch options also come from the array
#                               SLURM_SBATCH_OPTS; the wait is bounded by
#                               SLURM_WAIT_TIMEOUT seconds (default 300), which
#                               also becomes the job's --time unless given.
#   slurm_wait JOBID [TIMEOUT]
#                            -> the same wait and exit code for a job submitted
#                               otherwise (an array task is <id>_<i>); sets
#                               SLURM_JOB_STATE and SLURM_JOB_OUT.
#   slurm_skip_unless_ready [COMMAND...]
#                            -> exits 77 (skipped, saying why) unless root and
#                               the Slurm and munge commands (and COMMANDs) are
#                               there
#   slurm_test_dir NAME      -> a fresh 0755 directory for the test's data in
#                               SLURM_TEST_DIR (/tmp/tribe-e2e-NAME.XXXXXX),
#                               removed at exit unless the test failed or
#                               SLURM_KEEP=1; call it before slurm_up, whose
#                               teardown runs first.
#   slurm_down               -> idempotent; cancels jobs, stops daemons, removes
#                               the run directory (kept when SLURM_KEEP=1).
#
# This file is sourced: it defines functions only and changes no shell option.

TRIBE_SLURM_BASE=${TRIBE_SLURM_BASE:-/tmp/tribe-slurm}
SLURM_RUN_DIR=
SLURM_NODE=
SLURM_UP_SECONDS=
SLURM_JOB_ID=
SLURM_JOB_STATE=
SLURM_JOB_OUT=
SLURM_WAIT_TIMEOUT=${SLURM_WAIT_TIMEOUT:-300}
SLURM_TEST_DIR=
SLURM_TEST_NAME=
_SLURM_PREV_EXIT_TRAP=

_slurm_log() { echo "lib_slurm: $*" >&2; }

_slurm_now() { date +%s.%N; }

# Start time of a process in clock ticks since boot (field 22 of stat), used
# with the pid to recognise the same process later.
_slurm_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }            # the command name may contain spaces
  local fields
  read -ra fields <<<"$stat"
  echo "${fields[19]}"
}

# True when <pid> is alive and its command line mentions <text>.
_slurm_pid_matches() {
  local pid=$1 text=$2 cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
  [[ $cmd == *"$text"* ]]
}

# Pids of live processes carrying the marker TRIBE_SLURM_RUN=<dir> in their
# environment (the daemons we started and the slurmstepds forked by slurmd).
_slurm_marked_pids() {
  local dir=$1 env_file pid
  for env_file in /proc/[0-9]*/environ; do
    pid=${env_file#/proc/}; pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if { tr '\0' '\n' <"$env_file"; } 2>/dev/null | grep -qxF "TRIBE_SLURM_RUN=$dir"; then
      echo "$pid"
    fi
  done
}

# Pids of all descendants of <pid>, deepest first.
_slurm_descendants() {
  local pid=$1 child
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    _slurm_descendants "$child"
    echo "$child"
  done
}

# Sends TERM, waits up to <grace> seconds, then KILL. Pids that are gone or no
# longer match <text> are left alone.
_slurm_stop_pids() {
  local text=$1 grace=$2 pid i alive
  shift 2
  local pids=()
  for pid in "$@"; do
    _slurm_pid_matches "$pid" "$text" && pids+=("$pid")
  done
  [[ ${#pids[@]} -eq 0 ]] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    alive=0
    for pid in "${pids[@]}"; do
      [[ -d /proc/$pid ]] && [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]] && alive=1
    done
    [[ $alive -eq 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    _slurm_pid_matches "$pid" "$text" && kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

# Stops everything belonging to run directory <dir> and removes it.
# <polite>=1 cancels jobs through slurmctld first (up to KillWait=5 s for
# tasks that ignore SIGTERM); 0, for stale runs, kills their steps at once.
_slurm_teardown_dir() {
  local dir=$1 keep=${2:-0} polite=${3:-1} conf=$1/slurm.conf pid i name pids
  [[ -d $dir ]] || return 0
  # 1. Jobs first: slurmstepd ignores SIGTERM, and a step left running keeps
  #    the job's processes alive. Cancelling through slurmctld lets slurmd
  #    end the steps cleanly (KillWait=5 between SIGTERM and SIGKILL).
  if [[ $polite == 1 && -f $conf && -f $dir/run/slurmctld.pid ]] &&
     _slurm_pid_matches "$(cat "$dir/run/slurmctld.pid")" "$dir"; then
    if [[ -n $(SLURM_CONF=$conf timeout 5 squeue -h -o %i 2>/dev/null) ]]; then
      SLURM_CONF=$conf timeout 5 scancel --full --quiet --user=root 2>/dev/null
      for ((i = 0; i < 100; i++)); do
        [[ -z $(SLURM_CONF=$conf timeout 5 squeue -h -o %i 2>/dev/null) ]] && break
        sleep 0.1
      done
    fi
  fi
  # 2. Daemons by their recorded pids: slurmd and slurmctld, munged last
  #    (step daemons still finishing need munge for their last messages).
  for name in slurmd slurmctld; do
    [[ -f $dir/run/$name.pid ]] && _slurm_stop_pids "$dir" 5 "$(cat "$dir/run/$name.pid")"
  done
  # 3. Step daemons that outlived the cancel (they ignore SIGTERM), and the
  #    job processes below them, which would otherwise be orphaned.
  pids=$(_slurm_marked_pids "$dir")
  if [[ -n $pids ]]; then
    local munged_pid=
    [[ -f $dir/run/munged.pid ]] && munged_pid=$(cat "$dir/run/munged.pid")
    local victims=()
    for pid in $pids; do
      [[ $pid == "$munged_pid" ]] && continue
      mapfile -t -O "${#victims[@]}" victims < <(_slurm_descendants "$pid")
      victims+=("$pid")
    done
    if [[ ${#victims[@]} -gt 0 ]]; then
      _slurm_log "killing leftover step processes: ${victims[*]}"
      kill -STOP "${victims[@]}" 2>/dev/null   # no forking while we kill
      kill -KILL "${victims[@]}" 2>/dev/null
    fi
  fi
  [[ -f $dir/run/munged.pid ]] && _slurm_stop_pids "$dir" 5 "$(cat "$dir/run/munged.pid")"
  if [[ $keep == 1 ]]; then
    _slurm_log "keeping $dir (SLURM_KEEP=1)"
  else
    rm -rf "$dir"
  fi
}

# Removes run directories whose owning shell is gone (a crashed or killed
# earlier run). A run whose owner is still alive is someone else's live
# cluster and is not touched.
_slurm_clean_stale() {
  local dir owner_pid owner_start
  for dir in "$TRIBE_SLURM_BASE"/run.*; do
    [[ -d $dir ]] || continue
    [[ $dir == "$SLURM_RUN_DIR" ]] && continue
    owner_pid='' owner_start=''
    if [[ -r $dir/owner ]]; then
      read -r owner_pid owner_start <"$dir/owner" || true
    fi
    if [[ -n $owner_pid && -n $owner_start ]] &&
       [[ $(_slurm_starttime "$owner_pid") == "$owner_start" ]]; then
      continue
    fi
    # An owner file not written yet may belong to a run starting right now;
    # only take directories that are at least a minute old without one.
    if [[ -z $owner_pid ]] && (($(date +%s) - $(stat -c %Y "$dir" 2>/dev/null || echo 0) < 60)); then
      continue
    fi
    _slurm_log "cleaning up stale run $dir (owner ${owner_pid:-unknown} is gone)"
    _slurm_teardown_dir "$dir" 0 0
  done
}

_slurm_port_free() {
  [[ -z $(ss -Htan "( sport = :$1 )" 2>/dev/null) ]]
}

# Two distinct free TCP ports below the ephemeral range.
_slurm_pick_ports() {
  local p tries=0 picked=()
  while [[ ${#picked[@]} -lt 2 && $tries -lt 200 ]]; do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
    tries=$((tries + 1))
    [[ ${#picked[@]} -eq 1 && ${picked[0]} == "$p" ]] && continue
    _slurm_port_free "$p" && picked+=("$p")
  done
  [[ ${#picked[@]} -eq 2 ]] || return 1
  echo "${picked[@]}"
}

# The node line: the real topology from `slurmd -C` (so CR_Core sees the same
# sockets/cores/threads slurmd reports and the node is not drained for a
# mismatch), with a modest RealMemory; CPUs = nproc when -C fails.
_slurm_node_line() {
  local node=$1 line
  line=$(slurmd -C 2>/dev/null | head -n1)
  if [[ $line == NodeName=* ]]; then
    line=$(sed -e "s/^NodeName=[^ ]*/NodeName=$node/" -e 's/ RealMemory=[0-9]*//' <<<"$line")
  else
    line="NodeName=$node CPUs=$(nproc)"
  fi
  echo "$line RealMemory=1024 NodeAddr=127.0.0.1 NodeHostname=$node State=UNKNOWN"
}

_slurm_write_conf() {
  local dir=$1 node=$2 ctld_port=$3 slurmd_port=$4 comm=
  # Binding to the node's own address instead of INADDR_ANY keeps the daemons
  # on loopback, but only works when the hostname resolves to 127.0.0.1.
  if [[ $(getent ahostsv4 "$node" 2>/dev/null | awk 'NR==1{print $1}') == 127.0.0.1 ]]; then
    comm="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
  fi
  cat >"$dir/slurm.conf" <<EOF
# Generated by tests/e2e/lib_slurm.sh for a throw-away test cluster.
ClusterName=tribetest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
$comm
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire (default 120 s) is also how long a requeued job waits before it
# may start again (tests requeue jobs).
AuthInfo=socket=$dir/munge/munge.socket.2,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.daemon.pid
SlurmdPidFile=$dir/run/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
# mpi/pmix makes spmix_appdir_<uid>_<job>.<step> under TmpFS. Job ids restart
# at 1 in every throw-away cluster, so a directory left by a killed step in a
# shared /tmp would make the next cluster's step 1.0 fail to launch.
TmpFS=$dir/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
MpiDefault=none
MailProg=/bin/true
KillWait=5
MinJobAge=600
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
$(_slurm_node_line "$node")
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$dir/plugstack.conf"
}

# Starts <name> in the foreground mode of the daemon, in the background of
# this shell, so $! is the daemon itself; stdio goes to its log file.
_slurm_start_daemon() {
  local dir=$1 name=$2
  shift 2
  env -u SLURM_JOB_ID -u SLURM_JOBID -u SLURM_STEP_ID -u SLURM_NODELIST \
    TRIBE_SLURM_RUN="$dir" SLURM_CONF="$dir/slurm.conf" \
    "$@" </dev/null >>"$dir/log/$name.stdio" 2>&1 &
  echo "$!" >"$dir/run/$name.pid"
}

_slurm_fail_up() {
  local dir=$SLURM_RUN_DIR f
  _slurm_log "bring-up failed: $*"
  for f in "$dir"/log/*; do
    [[ -s $f ]] || continue
    echo "----- $f (last 20 lines)" >&2
    tail -n 20 "$f" >&2
  done
  _slurm_teardown_dir "$dir" "${SLURM_KEEP:-0}"
  SLURM_RUN_DIR=
  unset SLURM_CONF
  return 1
}

# The EXIT trap: tear down, then run whatever EXIT trap the caller had.
_slurm_exit_hook() {
  local rc=$?
  slurm_down
  if [[ -n $_SLURM_PREV_EXIT_TRAP ]]; then
    # The caller's trap must see the script's status in $?. Set it in an if
    # condition: a bare failing `(exit $rc)` would trip `set -e` right here.
    if (exit "$rc"); then
      eval "$_SLURM_PREV_EXIT_TRAP"
    else
      eval "$_SLURM_PREV_EXIT_TRAP"
    fi
  fi
  return $rc
}

_slurm_install_traps() {
  local prev
  prev=$(trap -p EXIT)
  if [[ -n $prev && $prev != *_slurm_exit_hook* ]]; then
    # trap -p quotes its output (trap -- 'cmd' EXIT): eval splits it back.
    local words
    eval "words=($prev)"
    _SLURM_PREV_EXIT_TRAP=${words[2]}
  fi
  trap _slurm_exit_hook EXIT
  # A signal ends the script through exit, so the EXIT trap does the work.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

slurm_skip_unless_ready() {
  local cmd
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: not root (the throw-away Slurm cluster runs slurmd and munged as root)"
    exit 77
  fi
  for cmd in slurmctld slurmd munged mungekey sbatch srun scontrol scancel sinfo "$@"; do
    if ! command -v "$cmd" >/dev/null; then
      echo "SKIP: $cmd not installed (apt-get install -y slurm-wlm munge hdf5-tools, or tools/setup.sh --test)"
      exit 77
    fi
  done
}

slurm_test_dir() {
  SLURM_TEST_NAME=$1
  SLURM_TEST_DIR=$(mktemp -d "/tmp/tribe-e2e-$1.XXXXXX") || return 1
  chmod 0755 "$SLURM_TEST_DIR"   # jobs read and write it; munge-style 0755, see slurm_up
  trap _slurm_test_dir_cleanup EXIT
}

_slurm_test_dir_cleanup() {
  local rc=$?
  if [[ ($rc -ne 0 && $rc -ne 77) || ${SLURM_KEEP:-0} == 1 ]]; then
    echo "$SLURM_TEST_NAME: keeping $SLURM_TEST_DIR" >&2
  else
    rm -rf "$SLURM_TEST_DIR"
  fi
}

slurm_up() {
  local t0 dir node ports ctld_port slurmd_port i state cmd
  t0=$(_slurm_now)
  if [[ $(id -u) -ne 0 ]]; then
    _slurm_log "slurm_up needs root"; return 1
  fi
  for cmd in munged mungekey slurmctld slurmd sinfo sbatch scontrol squeue scancel ss; do
    command -v "$cmd" >/dev/null || { _slurm_log "missing command: $cmd"; return 1; }
  done
  if [[ -n $SLURM_RUN_DIR ]]; then
    _slurm_log "already up in $SLURM_RUN_DIR"; return 0
  fi
  # munged refuses a socket directory that group/other can write (unless
  # sticky, as /tmp is): every directory we create is 0755.
  mkdir -p "$TRIBE_SLURM_BASE" || return 1
  chmod 0755 "$TRIBE_SLURM_BASE"
  _slurm_clean_stale
  dir=$(mktemp -d "$TRIBE_SLURM_BASE/run.XXXXXX") || return 1
  chmod 0755 "$dir"
  echo "$$ $(_slurm_starttime $$)" >"$dir/owner"
  SLURM_RUN_DIR=$dir
  _slurm_install_traps
  (umask 022 && mkdir -p "$dir"/{munge,run,log,state,spool,tmp}) || { _slurm_fail_up "mkdir"; return 1; }

  node=$(hostname -s)
  SLURM_NODE=$node
  ports=$(_slurm_pick_ports) || { _slurm_fail_up "no free ports"; return 1; }
  read -r ctld_port slurmd_port <<<"$ports"
  _slurm_write_conf "$dir" "$node" "$ctld_port" "$slurmd_port"

  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
    { _slurm_fail_up "mungekey"; return 1; }
  chmod 0400 "$dir/munge/munge.key"
  _slurm_start_daemon "$dir" munged munged --foreground --force \
    --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
    --log-file="$dir/log/munged.log" --pid-file="$dir/run/munged.daemon.pid" \
    --seed-file="$dir/munge/munged.seed"
  for ((i = 0; i < 50; i++)); do
    [[ -S $dir/munge/munge.socket.2 ]] && break
    sleep 0.05
  done
  [[ -S $dir/munge/munge.socket.2 ]] || { _slurm_fail_up "munged did not create its socket"; return 1; }

  export SLURM_CONF=$dir/slurm.conf
  _slurm_start_daemon "$dir" slurmctld slurmctld -D -i -f "$SLURM_CONF"
  _slurm_start_daemon "$dir" slurmd slurmd -D -f "$SLURM_CONF" -N "$node"

  # The node turns idle once slurmctld is up and slurmd has registered.
  for ((i = 0; i < 300; i++)); do
    state=$(timeout 5 sinfo -h -N -n "$node" -o %t 2>/dev/null)
    [[ $state == idle ]] && break
    for cmd in munged slurmctld slurmd; do
      _slurm_pid_matches "$(cat "$dir/run/$cmd.pid")" "$dir" ||
        { _slurm_fail_up "$cmd exited"; return 1; }
    done
    sleep 0.1
  done
  [[ $state == idle ]] || { _slurm_fail_up "node $node is '${state:-unknown}', not idle, after 30 s"; return 1; }
  SLURM_UP_SECONDS=$(awk -v a="$t0" -v b="$(_slurm_now)" 'BEGIN{printf "%.2f", b-a}')
  _slurm_log "up in ${SLURM_UP_SECONDS}s: node $node, ports $ctld_port/$slurmd_port, dir $dir"
  return 0
}

# Echoes the value of <key> from a one-line `scontrol -o show job` record.
_slurm_job_field() {
  local rec=$1 key=$2 w
  for w in $rec; do
    [[ $w == "$key="* ]] && { echo "${w#*=}"; break; }
  done
  return 0
}

_slurm_print_output() {
  local out=$1
  if [[ -n $out && -f $out ]]; then
    echo "----- job output $out" >&2
    cat "$out" >&2
    echo "----- end of job output" >&2
  else
    _slurm_log "no job output file (${out:-unknown})"
  fi
}

slurm_submit_and_wait() {
  local opts=("${SLURM_SBATCH_OPTS[@]}") args=() a have_time=0 out id timeout=$SLURM_WAIT_TIMEOUT rc
  SLURM_JOB_ID='' SLURM_JOB_STATE='' SLURM_JOB_OUT=''
  [[ -n $SLURM_RUN_DIR ]] || { _slurm_log "slurm_submit_and_wait: cluster is not up"; return 1; }
  # SBATCH_OPTS -- SCRIPT ARGS, or just SCRIPT ARGS.
  for a in "$@"; do
    if [[ $a == -- ]]; then
      opts+=("${args[@]}"); args=()
    else
      args+=("$a")
    fi
  done
  [[ ${#args[@]} -ge 1 ]] || { _slurm_log "slurm_submit_and_wait: no script"; return 1; }
  for a in "${opts[@]}"; do
    [[ $a == --time=* || $a == -t* || $a == --time ]] && have_time=1
  done
  # Every test job gets a time limit, so a hung job cannot hold the node.
  [[ $have_time -eq 1 ]] || opts+=("--time=$(((timeout + 59) / 60))")

  rc=0
  out=$(sbatch --parsable "${opts[@]}" "${args[@]}" 2>&1) || rc=$?
  id=${out%%;*}
  if [[ $rc -ne 0 || ! $id =~ ^[0-9]+$ ]]; then
    _slurm_log "sbatch failed ($rc): $out"
    return 1
  fi
  SLURM_JOB_ID=$id
  slurm_wait "$id" "$timeout"
}

slurm_wait() {
  local id=$1 timeout=${2:-$SLURM_WAIT_TIMEOUT} rec state code sig deadline t0 rc a
  SLURM_JOB_STATE='' SLURM_JOB_OUT=''
  t0=$SECONDS
  deadline=$((SECONDS + timeout))
  # sbatch --wait is not used: it polls at 2, 10, 42 s and returns 0 for a job
  # cancelled before it ran. The job record tells the real state; a requeued
  # job passes through REQUEUED and PENDING, which are not final.
  while :; do
    rec=$(timeout 10 scontrol -o show job "$id" 2>/dev/null) || rec=
    state=$(_slurm_job_field "$rec" JobState)
    [[ -z $SLURM_JOB_OUT ]] && SLURM_JOB_OUT=$(_slurm_job_field "$rec" StdOut)
    case $state in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE|OUT_OF_MEMORY)
        break ;;
    esac
    if ((SECONDS >= deadline)); then
      _slurm_log "job $id still ${state:-unknown} after ${timeout}s: cancelling"
      scancel "$id" 2>/dev/null
      for ((a = 0; a < 150; a++)); do
        rec=$(timeout 10 scontrol -o show job "$id" 2>/dev/null) || rec=
        state=$(_slurm_job_field "$rec" JobState)
        [[ $state == CANCELLED || $state == COMPLETED || $state == FAILED ]] && break
        sleep 0.1
      done
      SLURM_JOB_STATE=${state:-unknown}
      _slurm_print_output "$SLURM_JOB_OUT"
      return 124
    fi
    sleep 0.2
  done
  SLURM_JOB_STATE=$state
  code=$(_slurm_job_field "$rec" ExitCode)
  sig=${code#*:}; code=${code%%:*}
  if [[ $state == COMPLETED && $code == 0 && $sig == 0 ]]; then
    rc=0
  elif [[ $sig =~ ^[0-9]+$ && $sig -ne 0 ]]; then
    rc=$((128 + sig))
  elif [[ $state == TIMEOUT ]]; then
    rc=124
  elif [[ $code =~ ^[0-9]+$ && $code -ne 0 ]]; then
    rc=$code
  else
    rc=125
  fi
  if [[ $rc -ne 0 ]]; then
    _slurm_log "job $id ended $state ExitCode=${code}:${sig} after $((SECONDS - t0))s"
    _slurm_print_output "$SLURM_JOB_OUT"
  fi
  return "$rc"
}

slurm_down() {
  local dir=$SLURM_RUN_DIR left
  [[ -n $dir ]] || return 0
  SLURM_RUN_DIR=
  _slurm_teardown_dir "$dir" "${SLURM_KEEP:-0}"
  unset SLURM_CONF
  left=$(_slurm_marked_pids "$dir")
  if [[ -n $left ]]; then
    _slurm_log "processes of $dir still alive after teardown:"
    ps -o pid,ppid,stat,cmd -p "${left//$'\n'/,}" >&2
    return 1
  fi
  return 0
}
