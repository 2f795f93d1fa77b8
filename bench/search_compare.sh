#!/usr/bin/env bash
# NSGA-II against random search and EMO-DIR (--divide 2) at equal evaluations (pop 16 x 12
# generations: 192 fitness calls), 3 seeds each, on the ds_cae1 encoder (64 validation windows,
# SNDR against the dense float model) and fmnist_dscnn (the first 100 evaluation images, top-1):
# the final hypervolume of each run, as bench/README.md and docs/search.md report it.
# Usage: [POP=16 GENS=11 MODELS="encoder fmnist"] bench/search_compare.sh [BUILD_DIR] [OUT_DIR]
# (about 15 min on 2 cores at the defaults)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=${2:-/tmp/prunesim_search_compare}
pop=${POP:-16}
gens=${GENS:-11}
models=${MODELS:-encoder fmnist}
mkdir -p "$out"
P="$build/bin/prunesim"
/usr/bin/python3 -c "import numpy as np; a = np.load('$root/zoo/fmnist_dscnn/eval.npy'); \
b = np.load('$root/zoo/fmnist_dscnn/eval_labels.npy'); np.save('$out/fm_val.npy', a[:100]); \
np.save('$out/fm_val_labels.npy', b[:100])"
enc="--model $root/zoo/ds_cae1/encoder.onnx --calib $root/zoo/ds_cae1/calib.npy --data $root/zoo/ds_cae1/eval.npy"
fm="--model $root/zoo/fmnist_dscnn/fmnist_dscnn.onnx --calib $root/zoo/fmnist_dscnn/calib.npy --data $out/fm_val.npy --labels $out/fm_val_labels.npy"
printf "model,algo,seed,evaluations,distinct_points,hypervolume,seconds\n" >"$out/summary.csv"
for model in $models; do
  args=$enc
  [ "$model" = fmnist ] && args=$fm
  for seed in 1 2 3; do
    for algo in nsga2 random emo-dir; do
      extra="--algo $algo"
      [ "$algo" = emo-dir ] && extra="--algo nsga2 --divide 2"
      t0=$(date +%s.%N)
      "$P" search $args --pop "$pop" --gens "$gens" --seed "$seed" $extra --no-recheck \
        -o "$out/$model-$algo-$seed.csv" --front "$out/$model-$algo-$seed.json" >/dev/null
      t1=$(date +%s.%N)
      /usr/bin/python3 -c "import json,sys; j = json.load(open('$out/$model-$algo-$seed.json')); \
print('$model,$algo,$seed,%d,%d,%.6f,%.1f' % (j['evaluations'], j['distinct_points'], \
j['hypervolume'], $t1 - $t0))" >> "$out/summary.csv"
      tail -1 "$out/summary.csv"
    done
  done
done
