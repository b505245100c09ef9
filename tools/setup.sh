#!/usr/bin/env bash
# Installs the Debian 12 packages tribe needs, only those missing.
# Idempotent: when everything is present it checks dpkg status and exits
# without touching apt. Runs apt as root directly, otherwise through sudo.
#   tools/setup.sh            build + run dependencies
#   tools/setup.sh --test     also what the test suite needs (Slurm, munge, Python peers)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
      libopenblas-dev libcurl4-openssl-dev libcjson-dev libcunit1-dev zlib1g-dev
      libmicrohttpd-dev)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(slurm-wlm munge python3 python3-sklearn python3-h5py python3-xgboost valgrind)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "tribe setup: installing missing Debian packages: ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "tribe setup: not root and no sudo; install: ${missing[*]}" >&2; exit 4; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >&2
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
