#!/usr/bin/env bash
# A full disk under ingest and run, on 1 and 2 ranks: exit 4 naming the path, in bounded time (no
# hang, no crash), the previous customers.h5 and run outputs byte-identical, nothing half-written
# left (no *.tmp.* file, no staging directory). Needs root to mount a small tmpfs; skipped otherwise.
source "$(dirname "$0")/lib.sh"

MNT="$TMP/mnt"
mkdir -p "$MNT"
if [[ $(id -u) -ne 0 ]] || ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>"$TMP/mount.err"; then
  echo "skip: mounting a 4 MB tmpfs needs root ($(cat "$TMP/mount.err" 2>/dev/null))"
  exit 77
fi
trap 'umount "$MNT" 2>/dev/null || umount -l "$MNT"; [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"' EXIT

tribe_np 1 gen --customers 1500 --seed 5 -o "$TMP/raw" 2>/dev/null
R="$TMP/raw"
ingest_args=(ingest --transactions "$R/transactions.csv" --web "$R/web_events.csv"
  --demographics "$R/demographics.csv" -o "$MNT/c.h5")
# The previous good results: customers.h5 (and its rejects) and one run.
tribe_np 1 "${ingest_args[@]}" >/dev/null 2>"$TMP/good.err" || { fail "first ingest"; cat "$TMP/good.err"; }
write_job "$TMP/good.json" "$MNT/c.h5" "$MNT/out" 4 '"run_id": "good"'
tribe_np 1 run "$TMP/good.json" >/dev/null 2>"$TMP/good.err" || { fail "first run"; cat "$TMP/good.err"; }

snapshot() { # every file's hash and every link's target, the filler and the lock files' owner records aside
  (cd "$MNT" && find . \( -path ./filler -o -name .lock \) -prune -o -type f -print | sort | xargs sha256sum &&
    find . -type l -printf '%p -> %l\n' | sort)
}
snapshot >"$TMP/before.sha"

# fill_to KB: a filler file leaves KB kilobytes free.
fill_to() {
  rm -f "$MNT/filler"
  local avail
  avail=$(df -k --output=avail "$MNT" | tail -1)
  dd if=/dev/zero of="$MNT/filler" bs=1k count=$((avail - $1)) status=none 2>/dev/null || true
}

# after_failure WHAT: previous results unchanged, no temporary file or staging directory left.
after_failure() {
  snapshot >"$TMP/after.sha"
  cmp -s "$TMP/after.sha" "$TMP/before.sha" && ok "$1: previous results byte-identical" ||
    { fail "$1: previous results changed"; diff "$TMP/before.sha" "$TMP/after.sha" | sed 's/^/    /'; }
  local left
  left=$(find "$MNT" \( -name '*.tmp.*' -o -name '.staging-*' -o -name '*.part' \) -print)
  [[ -z $left ]] && ok "$1: nothing half-written left" || fail "$1: left behind: $left"
  [[ $(ls "$MNT/out/runs") == good ]] && ok "$1: no new run published" || fail "$1: runs: $(ls "$MNT/out/runs")"
}

h5_kb=$(($(stat -c %s "$MNT/c.h5") / 1024))
for np in 1 2; do
  # Room for the rejects (written elsewhere) but only half the new customers.h5: the HDF5 write fails.
  fill_to $((h5_kb / 2))
  start=$SECONDS
  expect 4 "$MNT/c.h5.tmp.[0-9]+: .*(No space left on device|disk is full)" -- \
    timeout 60 "$MPIEXEC" -n $np --oversubscribe --bind-to none "$TRIBE_BIN" "${ingest_args[@]}" --rejects "$TMP/rej.csv"
  check "ingest on $np ranks ended in $((SECONDS - start)) s (< 60)" test $((SECONDS - start)) -lt 60
  after_failure "ingest on $np ranks"

  # A run with a full disk fails at its first file that does not fit: with 100 KB free a checkpoint
  # in the staging directory, with 600 KB results.h5 (2 ranks: that one only, to save time).
  frees=(100 600)
  [[ $np -eq 1 ]] || frees=(600)
  for free in "${frees[@]}"; do
    fill_to $free
    write_job "$TMP/full.json" "$MNT/c.h5" "$MNT/out" 4 "\"run_id\": \"full$np-$free\""
    start=$SECONDS
    expect 4 "$MNT/out/.*(No space left on device|disk is full)" -- \
      timeout 60 "$MPIEXEC" -n $np --oversubscribe --bind-to none "$TRIBE_BIN" run "$TMP/full.json"
    check "run on $np ranks ended in $((SECONDS - start)) s (< 60)" test $((SECONDS - start)) -lt 60
    after_failure "run on $np ranks ($free KB free)"
  done
done
rm -f "$MNT/filler"
finish
