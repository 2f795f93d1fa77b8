#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the bundled default model
# (the DS-CAE1-like neural-signal autoencoder): inspect, int8 inference and evaluation.
# Later stages (pruning, simulation, RTL verification) join this script as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
P=build/bin/prunesim
Z=zoo/ds_cae1
OUT=build/demo
mkdir -p "$OUT"

echo "== prunesim inspect $Z/ds_cae1.onnx"
$P inspect $Z/ds_cae1.onnx
echo
echo "== prunesim infer (float reference) on one window"
$P infer $Z/ds_cae1.onnx --input $Z/sample.npy --output $OUT/recon_float.npy
echo
echo "== prunesim infer --int8 (bit-exact integer reference) on one window"
$P infer $Z/ds_cae1.onnx --int8 --calib $Z/calib.npy --input $Z/sample.npy \
  --output $OUT/recon_int8.npy --output-int8 $OUT/recon_int8_codes.npy
echo
echo "== prunesim eval: float vs int8 reconstruction fidelity on the evaluation windows"
$P eval $Z/ds_cae1.onnx --data $Z/eval.npy --labels $Z/eval.npy --int8 --calib $Z/calib.npy
echo
echo "== prunesim eval: the classifiers"
for m in digits_dscnn fmnist_dscnn; do
  $P eval zoo/$m/$m.onnx --data zoo/$m/eval.npy --labels zoo/$m/eval_labels.npy \
    --int8 --calib zoo/$m/calib.npy
done
