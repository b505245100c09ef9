#!/usr/bin/env bash
# The K scoring of a K sweep as `tribe run` does it (docs/benchmarks.md, "The
# whole job with a K sweep 3-10 on 10M customers"), without the rest of the run:
#   bench/silhouette_sweep.sh [BUILD_DIR] FILE.h5 [RANKS] [K_LO] [K_HI] [STABILITY]
# FILE.h5 from `tribe gen --blobs` (e.g. --customers 10000000). Compiles
# bench/silhouette_sweep.c against BUILD_DIR's library and runs it on RANKS
# ranks (default 2) x 1 thread for K = K_LO..K_HI (default 3..10): every
# sweep value with 17 digits (diff two builds' output to check they agree),
# the recommendation, and the seconds of the fits and of the scoring.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
file=${2:?usage: silhouette_sweep.sh [BUILD_DIR] FILE.h5 [RANKS] [K_LO] [K_HI] [STABILITY]}
ranks=${3:-2}
exe=$build/silhouette_sweep
mpicc -O2 -g -fopenmp -I"$root/include" "$root/bench/silhouette_sweep.c" -o "$exe" \
  "$build/libtribe_lib.a" $(pkg-config --libs hdf5-openmpi openblas libcurl libcjson zlib 2>/dev/null) -lm
OMP_NUM_THREADS=1 mpiexec -n "$ranks" "$exe" "$file" "${4:-3}" "${5:-10}" "${6:-1}"
