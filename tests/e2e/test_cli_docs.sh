#!/usr/bin/env bash
# What a user sees: --help points at the manual page and the reference by a path that exists; the man
# page renders and is installed; a spec's relative paths are relative to the spec (as docs/slurm.md
# says) and docs/slurm.md names every output a run writes; an unknown feature column lists the ones
# the input has; a K range above the number of customers is cut with a message.
source "$(dirname "$0")/lib.sh"
SRC=$TRIBE_SOURCE_DIR

# --help: "man tribe" and an absolute path to cli.md that exists, for tribe and every command.
# more_ok FILE: the help text in FILE ends with the pointer, and the cli.md it names exists.
more_ok() {
  grep -q "man tribe" "$1" || return 1
  local page
  page=$(grep -o '/[^ ]*/cli\.md' "$1" | head -1)
  [[ -n $page && -f $page ]]
}
"$TRIBE_BIN" --help >"$TMP/help.txt"
check "tribe --help points at man tribe and an existing cli.md by an absolute path" more_ok "$TMP/help.txt"
# cmd_help_ok CMD: its --help has its usage, then the pointer to its section of an existing cli.md.
cmd_help_ok() {
  "$TRIBE_BIN" "$1" --help >"$TMP/help.$1.txt" &&
    grep -q "^usage: tribe $1" "$TMP/help.$1.txt" && grep -q "'tribe $1' section of /" "$TMP/help.$1.txt" &&
    more_ok "$TMP/help.$1.txt"
}
for cmd in $(sed -n '/^commands:/,/^$/p' "$TMP/help.txt" | awk 'NF > 1 {print $1}'); do
  check "tribe $cmd --help prints its usage and points at man tribe and its section of cli.md" cmd_help_ok "$cmd"
done

# The manual page: renders without warnings, names every command, and is installed with the docs.
check "docs/tribe.1 renders without groff warnings" bash -c "[[ -z \$(groff -man -ww -z '$SRC/docs/tribe.1' 2>&1) ]]"
MANWIDTH=100 man -l "$SRC/docs/tribe.1" >"$TMP/man.txt" 2>/dev/null || fail "man cannot render docs/tribe.1"
for cmd in $(sed -n '/^commands:/,/^$/p' "$TMP/help.txt" | awk 'NF > 1 {print $1}'); do
  grep -qE "^ +$cmd( |$)" "$TMP/man.txt" || fail "man tribe does not describe '$cmd'"
done
if cmake --install "$TRIBE_BUILD_DIR" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1; then
  check "cmake --install puts the man page in share/man/man1" test -f "$TMP/prefix/share/man/man1/tribe.1"
  check "man finds it there" bash -c "MANPATH='$TMP/prefix/share/man' man -w tribe | grep -q '$TMP/prefix'"
  "$TMP/prefix/bin/tribe" run --help >"$TMP/help.installed.txt"
  check "an installed tribe's --help names the installed cli.md" \
    grep -q "section of $TMP/prefix/share/doc/tribe/cli.md" "$TMP/help.installed.txt"
else
  fail "cmake --install failed"; tail -3 "$TMP/install.log"
fi

# Spec paths are relative to the spec's directory, whatever the working directory (docs/slurm.md).
mkdir -p "$TMP/data" "$TMP/jobs" "$TMP/elsewhere"
tribe_np 1 gen --blobs --customers 6 --features 4 --seed 3 -o "$TMP/data/c.h5" >/dev/null 2>&1
echo '{"input": "../data/c.h5", "output": "../results", "seed": 7, "kmeans": {"k": [2, 20]}}' >"$TMP/jobs/job.json"
(cd "$TMP/elsewhere" && "$TRIBE_BIN" run ../jobs/job.json) >"$TMP/run.out" 2>"$TMP/run.err" || fail "run from another directory"
check "a spec's relative input and output are relative to the spec, not the working directory" \
  test -s "$TMP/results/results.h5" -a ! -e "$TMP/elsewhere/results"
check "docs/slurm.md says spec paths are relative to the spec file" \
  bash -c "tr '\n' ' ' <'$SRC/docs/slurm.md' | grep -q 'resolved against the directory that holds the spec file'"
check "docs/slurm.md no longer says they are relative to the submit directory" \
  bash -c "! grep -q 'paths relative to the submit directory' '$SRC/docs/slurm.md'"
# docs/slurm.md's "Where the outputs go" names every file the run wrote, with the right count.
para=$(awk '/^\*\*Where the outputs go\.\*\*/,/^$/' "$SRC/docs/slurm.md" | tr '\n' ' ')
n=0
for f in "$TMP/results"/*; do
  [[ -f $f ]] || continue
  n=$((n + 1))
  [[ $para == *"\`$(basename "$f")\`"* ]] || fail "docs/slurm.md's outputs paragraph lacks $(basename "$f")"
done
words=(zero one two three four five six seven eight nine ten)
counted() { [[ $para == *"The ${words[$n]} outputs"* ]]; }
check "docs/slurm.md counts the $n outputs a run writes" counted

# The K range cut to the number of customers, said in the log with the reason.
check "a K range above the number of customers is cut, and the log says to what and why" \
  grep -qE "K range 2\.\.20 cut to 2\.\.6: .*c\.h5 holds only 6 customers" "$TMP/run.err"

# An unknown features.columns entry lists the input's numeric features.
echo '{"input": "../data/c.h5", "output": "../r2", "kmeans": {"k": 2}, "features": {"columns": ["f01", "recency"]}}' \
  >"$TMP/jobs/cols.json"
expect 3 "cols.json: features.columns names 'recency', which .*c\.h5 does not have; its numeric features are: f01, f02, f03, f04$" \
  -- "$TRIBE_BIN" run "$TMP/jobs/cols.json"
echo '{"input": "../data/c.h5", "output": "../r2", "kmeans": {"k": 2}, "features": {"columns": ["f01", "f02"], "log1p": ["f03"]}}' \
  >"$TMP/jobs/log.json"
expect 3 "log.json: features.log1p names 'f03', which is not a model column; the model columns are: f01, f02$" \
  -- "$TRIBE_BIN" run "$TMP/jobs/log.json"
finish
