"""The paper's before/after experiment at HSI-Drive's full resolution (192x384 cubes, raw 960x1920
mosaic frames), with the zoo U-Net's weights (the network is fully convolutional, so the same
weights run at any size divisible by 8).

    /usr/bin/python3 scripts/fpga_soc_paper.py [--prunesim build/bin/prunesim] [--frames 2]
        [--work /tmp/prunesim_paper] [--mode cycle] [--set k=v ...]

Steps (all seeded): re-declare the input size of zoo/hsi_unet/hsi_unet.onnx and of the
compressed hsi_unet_pruned.onnx (shapes are re-inferred by prunesim), generate full-resolution
calibration cubes, frames and labels with hsi_synth.py, quantize both with `prunesim prune
--sparsity 0` (the compressed model is already channel-pruned and fine-tuned), then run
`prunesim compare --arch fpga-soc` and print its table. Nothing is written to the repository.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "zoo"))
import hsi_synth as hs  # noqa: E402

H, W = 192, 384
CALIB_SEED, FRAMES_SEED = 722, 733


def resize_onnx(src, dst, h, w):
    m = onnx.load(src)
    for vi in list(m.graph.input) + list(m.graph.output):
        d = vi.type.tensor_type.shape.dim
        d[2].dim_value = h
        d[3].dim_value = w
    del m.graph.value_info[:]
    onnx.save(m, dst)


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap = argparse.ArgumentParser()
    ap.add_argument("--prunesim", default=os.path.join(root, "build", "bin", "prunesim"))
    ap.add_argument("--frames", type=int, default=2)
    ap.add_argument("--work", default="/tmp/prunesim_paper")
    ap.add_argument("--mode", default="cycle")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    z = os.path.join(root, "zoo", "hsi_unet")
    w = lambda f: os.path.join(a.work, f)  # noqa: E731
    resize_onnx(os.path.join(z, "hsi_unet.onnx"), w("base.onnx"), H, W)
    resize_onnx(os.path.join(z, "hsi_unet_pruned.onnx"), w("pruned.onnx"), H, W)
    _, calib, _ = hs.make_set(CALIB_SEED, 3, H, W)
    np.save(w("calib.npy"), calib.astype(np.float32))
    raw, _, lab = hs.make_set(FRAMES_SEED, a.frames, H, W)
    np.save(w("frames.npy"), raw.astype(np.float32))
    np.save(w("labels.npy"), lab.astype(np.int64))
    p = a.prunesim
    for name in ("base", "pruned"):
        subprocess.run([p, "prune", w(name + ".onnx"), "--scheme", "magnitude", "--sparsity", "0",
                        "--calib", w("calib.npy"), "-o", w(name + ".pwt")], check=True,
                       stdout=subprocess.DEVNULL)
    cmd = [p, "compare", "--arch", "fpga-soc", w("base.pwt"), w("pruned.pwt"), "--input",
           w("frames.npy"), "--labels", w("labels.npy"), "--mode", a.mode, "--report",
           w("compare.json"), "--set", "sensor.rows=%d" % (5 * H), "--set",
           "sensor.cols=%d" % (5 * W)]
    for s in a.set:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
