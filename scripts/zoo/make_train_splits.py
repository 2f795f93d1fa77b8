#!/usr/bin/python3
"""Write the training split of every zoo model (the data `prunesim finetune` takes):

    /usr/bin/python3 scripts/zoo/make_train_splits.py [--only NAME] [--force] [--out-root DIR]
                                                      [--check]

* ds_cae1/train.npy       float32 [2048, 96, 100]: the first 2048 windows of the training stream of
                          train_ds_cae1.py (LFPSynth(session_seed=2024).windows(12000, seed=101) / 100)
* digits_dscnn/train.npy, train_labels.npy   float32 [1400, 1, 8, 8] (pixel / 16), int64 [1400]:
                          the training split, default_rng(7).permutation(1797)[:1400]
* fmnist_dscnn/train.npy, train_labels.npy   float32 [20000, 1, 28, 28] (pixel / 255), int64
                          [20000]: the training subset, default_rng(11).permutation(60000)[:20000]
* hsi_unet/train.npy, train_labels.npy       float32 [1200, 25, 24, 48] reflectance cubes, int64
                          [1200, 24, 48] class ids 0-10 (0 = unlabelled, kept; the training gave it
                          loss weight 0): hsi_synth.make_set(611, 1200, 24, 48)
* hsi_unet/eval.npy, eval_labels.npy         the 200 held-out test scenes the model card's
                          84.72 % mIoU is measured on: hsi_synth.make_set(TEST_SEED, 200, 24, 48)
                          (what `prunesim eval` and `finetune --eval-data` score mIoU on)

Every split is made by the generator the training script uses (imported, not copied), so it is
the training data itself, in the model's input normalisation and shape: the classifiers' images
are *not* augmented (digits trained with random +-1 pixel shifts drawn per batch; the split holds
the unshifted images).  The hsi_unet scene count is read from zoo/hsi_unet/float_metrics.json
(`train_frames`, the committed model's), so the split follows a retrained model.

A file already present with the right shape and dtype is skipped (``--force`` rewrites it);
files are written under a temporary name and renamed.  One line is printed per file written.
Everything is seeded NumPy, so the content is the same on every run and machine.

``--check`` then runs each zoo float model (built from its ONNX in torch by
scripts/bench/torch_finetune.py's interpreter) on its split and on data it never saw, and
prints the figures (a split that is really the training data scores at or above the card's
figures; the classifiers' calibration sets, the first 64 training images, must match bitwise).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hsi_synth as hs  # noqa: E402
import lfp_synth  # noqa: E402
import train_digits_dscnn as tdig  # noqa: E402
import train_ds_cae1 as tcae  # noqa: E402
import train_fmnist_dscnn as tfm  # noqa: E402
import train_hsi_unet as thsi  # noqa: E402
import zoo_common as zc  # noqa: E402

NAMES = ("ds_cae1", "digits_dscnn", "fmnist_dscnn", "hsi_unet")
CAE_WINDOWS = 2048           # the first 2048 of the 12,000 training windows (79 MB)
HSI_TRAIN_FRAMES = 1200      # fallback when zoo/hsi_unet/float_metrics.json has no train_frames


def hsi_train_frames():
    p = os.path.join(zc.REPO_ROOT, "zoo", "hsi_unet", "float_metrics.json")
    try:
        with open(p) as f:
            return int(json.load(f)["train_frames"])
    except (OSError, KeyError, ValueError):
        return HSI_TRAIN_FRAMES


# name -> (files {file: (shape, dtype)}, generator returning {file: array})
def specs(cae_windows):
    nh = hsi_train_frames()
    f32, i64 = np.dtype(np.float32), np.dtype(np.int64)

    def cae():
        return {"train.npy": tcae.train_windows(cae_windows)}

    def digits():
        xtr, ytr, _, _ = tdig.load_split()
        return {"train.npy": xtr, "train_labels.npy": ytr}

    def fmnist():
        x, y = tfm.train_subset(tfm.N_TRAIN)
        return {"train.npy": x, "train_labels.npy": y}

    def hsi():
        _, x, y = hs.make_set(thsi.TRAIN_SEED, nh, thsi.H, thsi.W)
        _, xte, yte = hs.make_set(thsi.TEST_SEED, 200, thsi.H, thsi.W)
        return {"train.npy": x, "train_labels.npy": y, "eval.npy": xte, "eval_labels.npy": yte}

    return {
        "ds_cae1": ({"train.npy": ((cae_windows, lfp_synth.N_CH, lfp_synth.WIN), f32)}, cae),
        "digits_dscnn": ({"train.npy": ((tdig.N_TRAIN, 1, 8, 8), f32),
                          "train_labels.npy": ((tdig.N_TRAIN,), i64)}, digits),
        "fmnist_dscnn": ({"train.npy": ((tfm.N_TRAIN, 1, 28, 28), f32),
                          "train_labels.npy": ((tfm.N_TRAIN,), i64)}, fmnist),
        "hsi_unet": ({"train.npy": ((nh, hs.BANDS, thsi.H, thsi.W), f32),
                      "train_labels.npy": ((nh, thsi.H, thsi.W), i64),
                      "eval.npy": ((200, hs.BANDS, thsi.H, thsi.W), f32),
                      "eval_labels.npy": ((200, thsi.H, thsi.W), i64)}, hsi),
    }


def present(path, shape, dtype):
    """True when ``path`` is a readable .npy of exactly this shape and dtype."""
    try:
        a = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return tuple(a.shape) == tuple(shape) and a.dtype == dtype


def save_atomic(path, arr):
    tmp = os.path.join(os.path.dirname(path), ".%s.tmp%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(arr))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def rel(path):
    r = os.path.relpath(path, zc.REPO_ROOT)
    return path if r.startswith("..") else r


def generate(names, out_root, force, cae_windows):
    wrote = 0
    sp = specs(cae_windows)
    for name in names:
        files, make = sp[name]
        d = os.path.join(out_root, name)
        todo = [f for f, (shape, dt) in files.items()
                if force or not present(os.path.join(d, f), shape, dt)]
        if not todo:
            continue
        os.makedirs(d, exist_ok=True)
        t0 = time.time()
        arrays = make()
        dt_gen = time.time() - t0
        for f in todo:
            shape, dt = files[f]
            a = arrays[f]
            assert tuple(a.shape) == shape and a.dtype == dt, (name, f, a.shape, a.dtype)
            p = os.path.join(d, f)
            save_atomic(p, a)
            wrote += 1
            print("train splits: wrote %s  %s %s  %.1f MB  (data made in %.1f s)" % (
                rel(p), dt.name, list(shape), os.path.getsize(p) / 1e6, dt_gen), flush=True)
    return wrote


# --------------------------------------------------------------------------------------
# --check: the float models on their splits
# --------------------------------------------------------------------------------------

def _run(module, x, bs=256):
    import torch
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(module(torch.from_numpy(np.ascontiguousarray(x[i:i + bs]))).numpy())
    return np.concatenate(out, 0)


def _module(name, onnx_file=None):
    sys.path.insert(0, os.path.join(zc.REPO_ROOT, "scripts", "bench"))
    import torch_finetune
    return torch_finetune.load_onnx_module(
        os.path.join(zc.REPO_ROOT, "zoo", name, onnx_file or name + ".onnx"))


def _top1(logits, y):
    return float((logits.argmax(1) == y).mean())


def check(names, out_root):
    import torch
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    zdir = os.path.join(zc.REPO_ROOT, "zoo")
    res = {}
    for name in names:
        d = os.path.join(out_root, name)
        x = np.load(os.path.join(d, "train.npy"))
        t0 = time.time()
        if name == "ds_cae1":
            m = _module(name)
            ho = lfp_synth.normalise(lfp_synth.LFPSynth(session_seed=tcae.SESSION_SEED)
                                     .windows(2000, seed=tcae.HELDOUT_SEED))
            xh, hh = _run(m, x), _run(m, ho)
            r = {"n": len(x), "train_sndr_db": tcae.sndr_db(x, xh), "train_r2": tcae.r2(x, xh),
                 "heldout2000_sndr_db": tcae.sndr_db(ho, hh), "heldout2000_r2": tcae.r2(ho, hh),
                 "train_rms": float(np.sqrt((x.astype(np.float64) ** 2).mean())),
                 "train_p999_first2000": float(np.percentile(np.abs(x[:2000]), 99.9)),
                 "card": "eval 17.51 dB, held-out 2000 16.61 dB; data p99.9 1.16 (first 2000 "
                         "training windows), rms 0.319 (12,000)"}
        elif name in ("digits_dscnn", "fmnist_dscnn"):
            y = np.load(os.path.join(d, "train_labels.npy"))
            m = _module(name)
            calib = np.load(os.path.join(zdir, name, "calib.npy"))
            ev, evl = np.load(os.path.join(zdir, name, "eval.npy")), \
                np.load(os.path.join(zdir, name, "eval_labels.npy"))
            r = {"n": len(x), "train_top1": _top1(_run(m, x), y),
                 "eval_top1": _top1(_run(m, ev), evl),
                 "calib_equals_train_first64": bool(np.array_equal(calib, x[:len(calib)]))}
            if name == "digits_dscnn":
                _, _, xte, yte = tdig.load_split()
                r["eval_equals_test_split"] = bool(np.array_equal(ev, xte) and
                                                   np.array_equal(evl, yte))
                r["card"] = "eval (test split, 397) 97.48 %"
            else:
                xa, ya = tfm.load("train")
                rest = tfm.subset_permutation(len(xa))[tfm.N_TRAIN:]
                r["unseen_train_images"] = len(rest)
                r["unseen_top1"] = _top1(_run(m, xa[rest]), ya[rest])
                r["card"] = "eval (first 1000 test) 90.30 %, full test 88.96 %"
        elif name == "hsi_unet":
            y = np.load(os.path.join(d, "train_labels.npy"))
            m = _module(name)
            _, xte, yte = hs.make_set(thsi.TEST_SEED, 200, thsi.H, thsi.W)
            ptr, pte = _run(m, x, 64).argmax(1), _run(m, xte, 64).argmax(1)

            def acc(p, t):
                return float(((p == t) & (t != 0)).sum() / (t != 0).sum())
            counts = np.bincount(y.ravel(), minlength=hs.N_CLASSES).astype(np.float64) + 1.0
            w = (counts.sum() / counts) ** 0.5
            w = w / w.mean()
            w[0] = 0.0
            r = {"n": len(x), "train_miou": hs.miou(ptr, y), "train_pixel_acc": acc(ptr, y),
                 "test200_miou": hs.miou(pte, yte), "test200_pixel_acc": acc(pte, yte),
                 "unlabelled_share": float((y == 0).mean()),
                 "class_weights_as_trained": [round(float(v), 4) for v in w],
                 "card": "test 200 mIoU 84.72 %, pixel acc 98.78 %"}
        r["seconds"] = time.time() - t0
        res[name] = r
        print("check %s: %s" % (name, json.dumps(r)), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description="Write zoo/*/train.npy (+ train_labels.npy).")
    ap.add_argument("--out-root", default=os.path.join(zc.REPO_ROOT, "zoo"),
                    help="folder holding one sub-folder per model (default: the repo's zoo/)")
    ap.add_argument("--only", action="append", choices=NAMES, metavar="NAME",
                    help="only this model (repeatable): " + ", ".join(NAMES))
    ap.add_argument("--force", action="store_true", help="rewrite files already present")
    ap.add_argument("--cae-windows", type=int, default=CAE_WINDOWS,
                    help="ds_cae1 windows (default %d, at most 12000)" % CAE_WINDOWS)
    ap.add_argument("--check", action="store_true",
                    help="then run each float model on its split and print the figures")
    a = ap.parse_args()
    if not 0 < a.cae_windows <= tcae.N_TRAIN_DEFAULT:
        ap.error("--cae-windows must be in 1..%d" % tcae.N_TRAIN_DEFAULT)
    names = [n for n in NAMES if not a.only or n in a.only]
    if not generate(names, os.path.abspath(a.out_root), a.force, a.cae_windows):
        print("train splits: all present (%s)" % ", ".join(names))
    if a.check:
        check(names, os.path.abspath(a.out_root))


if __name__ == "__main__":
    main()
