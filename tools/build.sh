#!/usr/bin/env bash
# Configures and builds tribe into a build directory.
#   tools/build.sh [BUILD_DIR] [extra cmake args...]     (default BUILD_DIR: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.cmake.log" 2>&1 ||
  { cat "$dir.cmake.log" >&2; exit 4; }
cmake --build "$dir" -j"$(nproc)" >"$dir.build.log" 2>&1 || { tail -40 "$dir.build.log" >&2; exit 4; }
