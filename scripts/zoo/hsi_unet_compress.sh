#!/usr/bin/env bash
# Makes the two weight tables of zoo/hsi_unet with prunesim itself (run after
# scripts/zoo/train_hsi_unet.py):
#   unet_base.pwt        the trained U-Net, int8, unpruned (every weight kept)
#   unet_pruned.pwt      channel pruning by zoo/hsi_unet/compress_recipe.json in 3 AGP steps, each
#                        followed by a short fine-tune (scripts/zoo/hsi_unet_finetune.py), int8
#   hsi_unet_pruned.onnx the compressed float model; compress_report.json the pruning report
# and compare_frames.json: `prunesim compare` of the two on the committed frames (mIoU, ops,
# params, speed-up). Usage: scripts/zoo/hsi_unet_compress.sh [path/to/prunesim]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
P="${1:-$ROOT/build/bin/prunesim}"
Z="$ROOT/zoo/hsi_unet"
PY=/usr/bin/python3
"$P" prune "$Z/hsi_unet.onnx" --scheme magnitude --sparsity 0 --calib "$Z/calib.npy" \
    -o "$Z/unet_base.pwt" > /dev/null
"$P" prune "$Z/hsi_unet.onnx" --recipe "$Z/compress_recipe.json" --schedule agp --steps 3 \
    --finetune-cmd "$PY $ROOT/scripts/zoo/hsi_unet_finetune.py --epochs 10 --frames 1200" \
    --calib "$Z/calib.npy" -o "$Z/unet_pruned.pwt" --onnx-out "$Z/hsi_unet_pruned.onnx" \
    --report "$Z/compress_report.json" | tail -1
"$P" compare --arch fpga-soc "$Z/unet_base.pwt" "$Z/unet_pruned.pwt" --input "$Z/frames.npy" \
    --labels "$Z/frame_labels.npy" --report "$Z/compare_frames.json"
