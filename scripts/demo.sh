#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the bundled default model
# (the DS-CAE1-like neural-signal autoencoder): inspect, hardware-aware balanced pruning of the
# encoder into int8 weight tables, recovery by the built-in fine-tuning (prune -> fine-tune ->
# simulate, with the fidelity next to the energy), integer inference from the tables, evaluation.
# Then the accelerator models (FPGA-SoC, RAMAN-like), a sparsity sweep, and last the RTL check:
# the pruned encoder on the RAMAN-like core's Verilated RTL against the reference and the model.
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
echo "== prunesim prune: balanced stochastic pruning of the encoder for 16 PEs, 50 %"
$P prune $Z/encoder.onnx --scheme balanced --sparsity 0.5 --pes 16 --cluster 4 --seed 7 \
  --calib $Z/calib.npy --data $Z/eval.npy -o $OUT/enc.pwt --report $OUT/prune.json
echo
echo "== the same, recovered: two AGP steps, each followed by 15 epochs of quantization-aware"
echo "   distillation from the dense encoder's latent (no labels; the built-in libtorch engine)"
$P prune $Z/encoder.onnx --scheme balanced --sparsity 0.5 --pes 16 --cluster 4 --seed 7 \
  --schedule agp --steps 2 --finetune epochs=15,lr=3e-3,batch=32,qat --train-data $Z/train.npy \
  --quiet --calib $Z/calib.npy --data $Z/eval.npy -o $OUT/enc_ft.pwt --report $OUT/prune_ft.json \
  | tail -3
echo
echo "== the whole autoencoder, int8: dense, one-shot pruned and recovered encoder tables, then the"
echo "   offline decoder (unchanged, calibrated on the dense encoder's latent)"
$P infer $Z/encoder.onnx --input $Z/calib.npy --output $OUT/latent_calib.npy >/dev/null
$P eval $Z/encoder.onnx --then $Z/decoder.onnx --then-calib $OUT/latent_calib.npy --int8 \
  --calib $Z/calib.npy --data $Z/eval.npy --labels $Z/eval.npy | grep SNDR |
  sed 's/^ *SNDR */  dense encoder            SNDR /'
for t in enc:one-shot enc_ft:recovered; do
  $P eval $OUT/${t%%:*}.pwt --then $Z/decoder.onnx --then-calib $OUT/latent_calib.npy \
    --data $Z/eval.npy --labels $Z/eval.npy | grep SNDR |
    sed "s/^ *SNDR */  $(printf '%-24s' "${t#*:} ${t%%:*}.pwt") SNDR /"
done
echo
echo "== prunesim tables inspect $OUT/enc.pwt"
$P tables inspect $OUT/enc.pwt
echo
echo "== prunesim infer from the weight tables (integer reference): latent of one window"
$P infer $OUT/enc.pwt --input $Z/sample.npy --output $OUT/latent.npy
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
echo
H=zoo/hsi_unet
echo "== prunesim simulate: the compressed HSI U-Net on the FPGA-SoC pipeline (Kria K26, SystemC)"
$P simulate --arch fpga-soc --tables $H/unet_pruned.pwt --input $H/frames.npy \
  --report $OUT/soc.json --output $OUT/soc_masks.npy
echo
echo "== prunesim compare: base vs compressed U-Net on the FPGA-SoC (the paper's before/after table)"
$P compare --arch fpga-soc $H/unet_base.pwt $H/unet_pruned.pwt --input $H/frames.npy \
  --labels $H/frame_labels.npy --report $OUT/soc_compare.json
echo
echo "== prunesim simulate: the recovered encoder on the RAMAN-like core (SystemC, cycle by cycle)"
$P simulate --arch raman --tables $OUT/enc_ft.pwt --input $Z/sample.npy \
  --report $OUT/raman.json --output $OUT/raman_latent.npy
echo "   (the reconstruction SNDR of these tables, above, sits next to this energy and power)"
echo
echo "== prunesim sweep: balanced vs magnitude vs nm, energy and fidelity against sparsity; every"
echo "   point recovered by 8 epochs of QAT distillation (the one-shot fidelity is kept beside it)"
$P sweep --arch raman --model $Z/encoder.onnx --schemes balanced,magnitude,nm \
  --sparsity 0:0.9:0.3 --calib $Z/calib.npy --data $Z/eval.npy -o $OUT/sweep.csv --plot $OUT/sweep.png \
  --finetune epochs=8,lr=3e-3,batch=32,qat --train-data $Z/train.npy
echo "sweep table: $OUT/sweep.csv"
echo "sweep plot: $OUT/sweep.png"
echo
echo "== prunesim verify: the pruned encoder on the RAMAN-like core's RTL (Verilator), cycle by cycle"
echo "   against the SystemC twins, bit-exact with the integer reference, cycles equal to the model's"
$P verify --arch raman --tables $OUT/enc.pwt --input $Z/sample.npy --trace $OUT/core.fst
echo "RTL trace: $OUT/core.fst"
