#!/usr/bin/env bash
# Installs the Debian 12 packages tribe needs, only those missing.
# Idempotent: when everything is present it checks dpkg status and exits
# without touching apt. Runs apt as root directly, otherwise through sudo.
#   tools/setup.sh            build + run dependencies
#   tools/setup.sh --test     also what the test suite needs (Slurm, munge, PostgreSQL, Python peers, valgrind,
#                             clang with libFuzzer and OpenMP for tests/fuzz, and for the
#                             dashboard's browser test Chromium, Node.js and, once, `npm ci` in
#                             tests/browser: playwright-core, from the npm registry)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
      libopenblas-dev libcurl4-openssl-dev libcjson-dev libcunit1-dev zlib1g-dev
      libmicrohttpd-dev libpq-dev)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(slurm-wlm munge python3 python3-sklearn python3-h5py python3-xgboost valgrind chromium
        clang libclang-rt-14-dev libomp-dev # the libFuzzer harnesses (libclang_rt.fuzzer, clang's OpenMP)
        postgresql) # the server test_publish.sh starts for tribe publish (initdb, pg_ctl, psql)
  # node and npm may come from elsewhere (nodesource's nodejs bundles npm): Debian's only if absent
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "tribe setup: installing missing Debian packages: ${missing[*]}" >&2
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "tribe setup: not root and no sudo; install: ${missing[*]}" >&2; exit 4; }
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q >&2
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# The dashboard's browser test drives Chromium with playwright-core (tests/browser/package-lock.json).
browser_dir=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
if [[ "${1:-}" == "--test" && ! -d $browser_dir/node_modules ]]; then
  echo "tribe setup: npm ci in $browser_dir" >&2
  (cd "$browser_dir" && npm ci --no-audit --no-fund) >&2
fi
