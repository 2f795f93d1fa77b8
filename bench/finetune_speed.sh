#!/usr/bin/env bash
# Fine-tuning speed: `prunesim finetune` (C++ on libtorch) against Debian's PyTorch doing the same
# fine-tuning (scripts/bench/torch_finetune.py: the module built from the same ONNX, Adam, masked
# weights held at zero, cross-entropy on the class ids, cosine lr per epoch, the same batch,
# epochs, seed and thread count, no validation), for fmnist_dscnn and digits_dscnn on their
# training splits (zoo/*/train.npy, made by scripts/zoo/make_train_splits.py if missing), at 1 and
# 2 threads.  One run of each per line; times are the training-loop wall time each tool reports
# ("train_seconds" of `prunesim finetune --json`: the batches' forward, backward, optimiser step
# and mask re-application, without the validation passes; the training loop of the torch script).
#
# Usage: bench/finetune_speed.sh [build-dir]
#   EPOCHS=1 BATCH=64 LR=1e-3 SEED=1 THREADS="1 2" MODELS="fmnist_dscnn digits_dscnn"
#   LIMIT=N    train on the first N samples of each split (both tools get the same file)
#   REPEAT=R   best of R runs per tool and line (default 1)
# Columns: prunesim s, torch s (training loop only), prunesim/torch (the acceptance figure: at
# most 1.2), and for reference prunesim's whole-run "seconds" (metric passes over the training
# data before training and after every epoch included).  Without a prunesim that has the
# finetune subcommand the prunesim columns read "-".
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
P=$B/bin/prunesim
PY=/usr/bin/python3
EPOCHS=${EPOCHS:-1}
BATCH=${BATCH:-64}
LR=${LR:-1e-3}
SEED=${SEED:-1}
THREADS=${THREADS:-"1 2"}
MODELS=${MODELS:-"fmnist_dscnn digits_dscnn"}
REPEAT=${REPEAT:-1}
LIMIT=${LIMIT:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

have_prunesim=0
# (an older prunesim answers `finetune --help` with its main help: look for the subcommand's flag)
if [ -x "$P" ] && "$P" finetune --help 2>&1 | grep -q -- "--val-split"; then have_prunesim=1; fi

# json FILE KEY: a top-level number of a JSON document (jq if present, else Python)
json() {
  if command -v jq >/dev/null 2>&1; then jq -r ".$2" "$1"
  else $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; fi
}
# best FILE...: the smallest number among the files' first lines
best() { cat "$@" | sort -g | head -1; }

echo "fine-tuning speed: $EPOCHS epoch(s), batch $BATCH, lr $LR, Adam, seed $SEED" \
     "(torch $($PY -c 'import torch; print(torch.__version__)'), $(nproc) cores)"
printf "%-14s %7s %7s %11s %9s %15s %16s\n" model samples threads "prunesim s" "torch s" \
  "prunesim/torch" "prunesim whole s"
for m in $MODELS; do
  $PY scripts/zoo/make_train_splits.py --only "$m" >/dev/null
  Z=zoo/$m
  X=$Z/train.npy
  Y=$Z/train_labels.npy
  if [ -n "$LIMIT" ]; then
    $PY - "$X" "$Y" "$T/$m.x.npy" "$T/$m.y.npy" "$LIMIT" <<'EOF'
import sys, numpy as np
x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
n = int(sys.argv[5])
assert n <= len(x), "LIMIT %d > %d samples" % (n, len(x))
np.save(sys.argv[3], x[:n]); np.save(sys.argv[4], y[:n])
EOF
    X=$T/$m.x.npy
    Y=$T/$m.y.npy
  fi
  n=$($PY -c 'import numpy as np,sys; print(len(np.load(sys.argv[1], mmap_mode="r")))' "$X")
  for t in $THREADS; do
    rm -f "$T"/ps.* "$T"/pt.* "$T"/pw.*
    for r in $(seq "$REPEAT"); do
      if [ $have_prunesim = 1 ]; then
        "$P" finetune "$Z/$m.onnx" --data "$X" --labels "$Y" --epochs "$EPOCHS" --batch "$BATCH" \
          --lr "$LR" --threads "$t" --seed "$SEED" --val-split 0 --json -o "$T/x.onnx" \
          >"$T/p.json" 2>"$T/p.err" || { cat "$T/p.err" >&2; exit 1; }
        json "$T/p.json" train_seconds >"$T/ps.$r"
        json "$T/p.json" seconds >"$T/pw.$r"
      fi
      $PY scripts/bench/torch_finetune.py "$Z/$m.onnx" --data "$X" --labels "$Y" \
        --epochs "$EPOCHS" --batch "$BATCH" --lr "$LR" --threads "$t" --seed "$SEED" \
        >"$T/t.json" 2>"$T/t.err" || { cat "$T/t.err" >&2; exit 1; }
      json "$T/t.json" seconds >"$T/pt.$r"
    done
    ts=$(best "$T"/pt.*)
    if [ $have_prunesim = 1 ]; then
      read -r ps_f ratio pw_f < <($PY -c 'import sys
p, t, w = map(float, sys.argv[1:])
print("%.2f %.2f %.2f" % (p, p / t, w))' "$(best "$T"/ps.*)" "$ts" "$(best "$T"/pw.*)")
    else
      ps_f=- ratio=- pw_f=-
    fi
    printf "%-14s %7s %7s %11s %9.2f %15s %16s\n" "$m" "$n" "$t" "$ps_f" "$ts" "$ratio" "$pw_f"
  done
done
[ $have_prunesim = 1 ] ||
  echo "(no '$P finetune': build prunesim with the finetune subcommand for the prunesim columns)"
