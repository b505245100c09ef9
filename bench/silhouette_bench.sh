#!/usr/bin/env bash
# Sampled silhouette timings (docs/benchmarks.md, "Sampled silhouette: the distance kernel"):
#   bench/silhouette_bench.sh [BUILD_DIR] [N]
# compiles bench/silhouette_bench.c against BUILD_DIR's library and times, for
# s = 2000 on N x 16 rows (one rank, OMP_NUM_THREADS as set), each distance
# kernel the CPU has: the portable C compiled for the CPU (what an ARM build
# runs: the compiler vectorises it), the AVX2 and the AVX-512 intrinsics;
# with SIL_BASELINE=1 also the portable C for the baseline x86-64 ISA (no
# FMA: fmaf is a library call, slow). Then the best kernel for s = 20000, and
# scikit-learn's silhouette_score with sample_size=20000 on the same data
# when python3 has sklearn.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
exe=$build/silhouette_bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -g -fopenmp -I"$root/include" "$root/bench/silhouette_bench.c" -o "$exe" \
  "$build/libtribe_lib.a" $(pkg-config --libs hdf5-openmpi ompi-c openblas libcurl libcjson zlib 2>/dev/null) -lm
levels="1 2 3"
[ "${SIL_BASELINE:-0}" = 1 ] && levels="0 $levels"
for level in $levels; do SIL_KERNEL=$level "$exe" "$n" 2000 | head -1; done
SIL_DUMP=$tmp/data.bin "$exe" "$n" 20000
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  /usr/bin/python3 - "$tmp/data.bin" "$n" <<'PY'
import sys, time, numpy as np
from sklearn.metrics import silhouette_score
path, n = sys.argv[1], int(sys.argv[2])
raw = np.fromfile(path, dtype=np.uint8)
z = raw[: n * 16 * 4].view(np.float32).reshape(n, 16)
lab = raw[n * 16 * 4 :].view(np.int32)
t = time.time()
s = silhouette_score(z, lab, sample_size=20000, random_state=0)
print(f"sklearn silhouette_score(sample_size=20000) n={n}: {s:.6f} in {time.time() - t:.3f} s")
PY
fi
