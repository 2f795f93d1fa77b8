#!/usr/bin/env bash
# MPI speed-up of `prunesim search`: the same search (ds_cae1 encoder, 64 validation windows,
# pop 64 x 6 generations = 384 fitness calls by default, POP and GENS to change it; one executor
# thread per rank) at 1 and 2 ranks;
# prints the wall time, the design points per second of the batches (rank 0's clock, from the
# front JSON) and checks that both runs wrote the same CSV.
# Usage: bench/search_mpi.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=${2:-/tmp/prunesim_search_mpi}
mkdir -p "$out"
Z=$root/zoo/ds_cae1
args="search --model $Z/encoder.onnx --calib $Z/calib.npy --data $Z/eval.npy --pop ${POP:-64} --gens ${GENS:-5} --seed 1 --no-recheck --threads 1"
for n in 1 2; do
  t0=$(date +%s.%N)
  mpirun --allow-run-as-root --oversubscribe -np "$n" "$build/bin/prunesim" $args \
    -o "$out/np$n.csv" --front "$out/np$n.json" >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 -c "import json; j = json.load(open('$out/np$n.json')); \
print('ranks %d: %.1f s wall, %.2f design points/s (%d points)' % ($n, $t1 - $t0, \
j['points_per_s'], j['distinct_points']))"
done
cmp "$out/np1.csv" "$out/np2.csv" && echo "same CSV at 1 and 2 ranks"
uptime
