#!/usr/bin/env bash
# The recovery figures of docs/training.md: every zoo model pruned, fine-tuned by the built-in
# engine (prune --finetune) and scored in int8 on its evaluation set (the int8 weight tables the
# accelerator models run), against the dense model in int8 on the same set.
#
# Usage: bench/recovery.sh [build-dir] [case...]
#   cases: cae_balanced cae_magnitude digits fmnist hsi lottery polarization (default: all)
#   SEEDS="1 2 3" runs the digits case for each seed (default: 1).
# Prints one line per case: the figure, the dense figure, the difference and the wall time. The
# whole run takes about 15 minutes on 2 cores. Data: zoo/*/train.npy from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
shift || true
P=$B/bin/prunesim
CASES=${*:-"cae_balanced cae_magnitude digits fmnist hsi lottery polarization"}
SEEDS=${SEEDS:-1}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 scripts/zoo/make_train_splits.py >/dev/null

# metric TABLE-OR-ONNX DATA LABELS [eval args...]: the int8 headline of `prunesim eval --json`
metric() {
  "$P" eval "$@" --json | /usr/bin/python3 -c 'import json, sys
j = json.load(sys.stdin)["int8"]
print("%.2f" % (100 * j["top1"] if "top1" in j else 100 * j["miou"] if "miou" in j else j["sndr_db"]))'
}
line() {  # line NAME VALUE DENSE UNIT SECONDS
  printf "%-44s %8s %s   dense int8 %8s %s   (%+.2f %s)   %4d s\n" "$1" "$2" "$4" "$3" "$4" \
    "$(/usr/bin/python3 -c "print($2 - $3)")" "$4" "$5"
}
now() { date +%s; }

C=zoo/ds_cae1
# The decoder runs offline in int8, unchanged: calibrated on the dense encoder's latent.
"$P" infer $C/encoder.onnx --input $C/calib.npy --output "$T/latent.npy" >/dev/null
cae_dense=$(metric $C/encoder.onnx --then $C/decoder.onnx --then-calib "$T/latent.npy" \
  --int8 --calib $C/calib.npy --data $C/eval.npy --labels $C/eval.npy)
# cae NAME PRUNE-ARGS...: encoder pruned and distilled from the dense encoder's latent (no labels)
cae() {
  local name=$1 t0
  shift
  t0=$(now)
  "$P" prune $C/encoder.onnx "$@" --train-data $C/train.npy --calib $C/calib.npy \
    -o "$T/enc.pwt" --quiet >/dev/null
  line "$name" "$(metric "$T/enc.pwt" --then $C/decoder.onnx --then-calib "$T/latent.npy" \
    --data $C/eval.npy --labels $C/eval.npy)" "$cae_dense" "dB" $(($(now) - t0))
}
# cls MODEL NAME PRUNE-ARGS...: a classifier pruned and fine-tuned on its labels
cls() {
  local m=$1 name=$2 t0 z=zoo/$1
  shift 2
  t0=$(now)
  "$P" prune $z/$m.onnx "$@" --train-data $z/train.npy --train-labels $z/train_labels.npy \
    --calib $z/calib.npy -o "$T/$m.pwt" --quiet >/dev/null
  line "$name" "$(metric "$T/$m.pwt" --data $z/eval.npy --labels $z/eval_labels.npy)" \
    "$(metric $z/$m.onnx --int8 --calib $z/calib.npy --data $z/eval.npy \
      --labels $z/eval_labels.npy)" "%" $(($(now) - t0))
}

for c in $CASES; do
  case $c in
  cae_balanced)
    cae "ds_cae1 encoder balanced 50 %, 16 PEs" --scheme balanced --sparsity 0.5 --pes 16 \
      --schedule agp --steps 4 --finetune epochs=40,lr=3e-3,batch=32,qat ;;
  cae_magnitude)
    cae "ds_cae1 encoder magnitude 70 %" --scheme magnitude --sparsity 0.7 \
      --schedule agp --steps 4 --finetune epochs=30,lr=3e-3,batch=32,qat ;;
  digits)
    for s in $SEEDS; do
      cls digits_dscnn "digits magnitude 70 % (seed $s)" --scheme magnitude --sparsity 0.7 \
        --schedule agp --steps 8 --finetune epochs=30,lr=1e-2,batch=32,qat,distill=0.5,seed=$s
    done ;;
  fmnist)
    cat >"$T/fm.json" <<'EOF'
{"description": "balanced 50 % for 16 PEs in clusters of 4; the 10-class classifier in clusters of 2",
 "rules": [{"match": "/classifier/*", "scheme": "balanced", "sparsity": 0.5, "pes": 16, "cluster": 2},
           {"match": "*", "scheme": "balanced", "sparsity": 0.5, "pes": 16, "cluster": 4}]}
EOF
    cls fmnist_dscnn "fmnist balanced 50 %, 16 PEs" --recipe "$T/fm.json" \
      --finetune epochs=10,lr=5e-3,batch=64,qat,distill=0.5 ;;
  hsi)
    H=zoo/hsi_unet
    t0=$(now)
    F=lr=3e-3,batch=16,ignore_index=0,class_weight=sqrt
    # Channels first (the recipe of docs/fpga-soc.md), then one magnitude ranking over what is left.
    "$P" prune $H/hsi_unet.onnx --recipe $H/compress_recipe.json --schedule agp --steps 3 \
      --train-data $H/train.npy --train-labels $H/train_labels.npy --finetune epochs=20,$F \
      --onnx-out "$T/hsi_ch.onnx" --quiet >/dev/null
    "$P" prune "$T/hsi_ch.onnx" --scheme magnitude --global --sparsity 0.86 --schedule agp \
      --steps 4 --train-data $H/train.npy --train-labels $H/train_labels.npy \
      --finetune epochs=15,$F --calib $H/calib.npy -o "$T/hsi.pwt" --onnx-out "$T/hsi.onnx" \
      --quiet >/dev/null
    params=$("$P" prune "$T/hsi.onnx" --scheme magnitude --sparsity 0 --json |
      /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["total"]["params"])')
    line "hsi_unet to $params of 122,091 params ($(/usr/bin/python3 -c "print('%.2f' % (100 * $params / 122091))") %)" \
      "$(metric "$T/hsi.pwt" --data $H/eval.npy --labels $H/eval_labels.npy)" \
      "$(metric $H/hsi_unet.onnx --int8 --calib $H/calib.npy --data $H/eval.npy \
        --labels $H/eval_labels.npy)" "% mIoU" $(($(now) - t0)) ;;
  lottery)
    cls digits_dscnn "digits lottery ticket, 3 rounds to 80 %" --scheme magnitude \
      --sparsity 0.8 --schedule lottery --rounds 3 --rewind-epoch 5 \
      --finetune epochs=60,lr=1e-2,batch=32,qat,distill=0.5 ;;
  polarization)
    F=epochs=8,lr=5e-3,batch=64,qat,distill=0.5
    cls fmnist_dscnn "fmnist polarization 70 %, one pass" --scheme polarization --sparsity 0.7 \
      --finetune $F
    cls fmnist_dscnn "fmnist magnitude 70 % + fine-tune" --scheme magnitude --sparsity 0.7 \
      --finetune $F ;;
  *)
    echo "unknown case '$c'" >&2
    exit 2 ;;
  esac
done
