# Sourced by tools/check.sh and tools/fuzz.sh: runs a shell function on each
# item, at most N at a time (the machine's cores), and collects the results.
#   par_each N FUNC ITEM...
# FUNC ITEM runs in the background with its stderr kept apart and printed
# whole when it ends (two items' reports never interleave); its exit status
# decides: 0 ok, 77 skipped, anything else failed. The items that failed are
# left in PAR_FAILED; par_each returns 1 when there is one.
par_each() {
  local n=$1 fn=$2 logs
  shift 2
  logs=$(mktemp -d)
  PAR_FAILED=()
  local -A item_of=()
  local item
  _par_reap() {
    local pid rc=0
    wait -n -p pid || rc=$?
    local it=${item_of[$pid]}
    unset "item_of[$pid]"
    cat "$logs/$it.err" >&2
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then PAR_FAILED+=("$it"); fi
  }
  for item in "$@"; do
    while [[ ${#item_of[@]} -ge $n ]]; do _par_reap; done
    "$fn" "$item" 2>"$logs/$item.err" &
    item_of[$!]=$item
  done
  while [[ ${#item_of[@]} -gt 0 ]]; do _par_reap; done
  rm -rf "$logs"
  [[ ${#PAR_FAILED[@]} -eq 0 ]]
}
