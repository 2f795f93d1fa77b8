"""Train the compact 4-level HSI segmentation U-Net and write zoo/hsi_unet/.

    /usr/bin/python3 scripts/zoo/train_hsi_unet.py [--epochs 14] [--train 1600]

Input [N, 25, 24, 48]: reflectance cubes (25 bands, 600-975 nm) of synthetic road scenes seen
through a 5x5 snapshot mosaic (hsi_synth.py); output [N, 11, 24, 48] class logits (HSI-Drive's 11
classes). The resolution is HSI-Drive's 192x384 crop scaled down 8x so that training takes a few
minutes on one CPU thread.

Architecture (docs/references.md section 2: 4 levels instead of 5, ReLU): per level two 3x3 convs
(8, 16, 32, 64 channels), 2x2 max-pool down, 2x2 stride-2 transposed conv up, skip connections by
Concat, a 1x1 head. Hidden convs have no bias and no BatchNorm: a channel removed by
`prunesim prune --scheme channel` then leaves the constant relu(0) = 0 behind, which folds
exactly into every consumer (docs/pruning.md), so every channel is prunable.

Outputs: hsi_unet.onnx, calib.npy (reflectance cubes), frames.npy (raw mosaic frames for
`prunesim simulate --arch fpga-soc`), frame_labels.npy, eval.npy / eval_labels.npy (cubes for
`prunesim eval`-style checks), float_metrics.json, model_card.md (the compression section is
filled by scripts/zoo/hsi_unet_compress.sh).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsi_synth as hs  # noqa: E402
import zoo_common as zc  # noqa: E402

SEED = 6
TRAIN_SEED, CALIB_SEED, FRAMES_SEED, EVAL_SEED, TEST_SEED = 611, 622, 633, 644, 655
H, W = 24, 48
WIDTHS = (8, 16, 32, 64)


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, bands=hs.BANDS, classes=hs.N_CLASSES, widths=WIDTHS):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.enc1 = block(bands, w1)
        self.enc2 = block(w1, w2)
        self.enc3 = block(w2, w3)
        self.bott = block(w3, w4)
        self.pool = nn.MaxPool2d(2, 2)
        self.up3 = nn.ConvTranspose2d(w4, w3, 2, stride=2, bias=False)
        self.dec3 = block(2 * w3, w3)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2, bias=False)
        self.dec2 = block(2 * w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2, bias=False)
        self.dec1 = block(2 * w1, w1)
        self.head = nn.Conv2d(w1, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        b = self.bott(self.pool(e3))
        d3 = self.dec3(torch.cat([self.up3(b), e3], 1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


def predict(model, cubes, bs=64):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(cubes), bs):
            out.append(model(torch.from_numpy(cubes[i:i + bs])).argmax(1).numpy())
    return np.concatenate(out)


def train(model, cubes, labs, epochs, lr=3e-3, log=print, masks=None):
    """Adam + class-weighted cross entropy. masks: {param name: 0/1 tensor} kept applied."""
    counts = np.bincount(labs.ravel(), minlength=hs.N_CLASSES).astype(np.float64) + 1.0
    wts = torch.tensor((counts.sum() / counts) ** 0.5, dtype=torch.float32)
    wts = wts / wts.mean()
    wts[0] = 0.0  # unlabelled pixels carry no loss (ignored in mIoU too)
    lossf = nn.CrossEntropyLoss(weight=wts)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    rng = np.random.default_rng(SEED)
    x_all, y_all = torch.from_numpy(cubes), torch.from_numpy(labs)
    params = dict(model.named_parameters())
    for ep in range(epochs):
        model.train()
        perm = rng.permutation(len(cubes))
        tot = 0.0
        for i in range(0, len(perm), 16):
            idx = torch.from_numpy(perm[i:i + 16])
            opt.zero_grad()
            loss = lossf(model(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
            if masks:
                with torch.no_grad():
                    for k, m in masks.items():
                        params[k].mul_(m)
            tot += float(loss) * len(idx)
        sched.step()
        log("epoch %d loss %.4f" % (ep + 1, tot / len(perm)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--train", type=int, default=1600)
    a = ap.parse_args()
    zc.setup(SEED)
    t = zc.Timer()
    out = zc.zoo_dir("hsi_unet")
    _, xtr, ytr = hs.make_set(TRAIN_SEED, a.train, H, W)
    _, xte, yte = hs.make_set(TEST_SEED, 200, H, W)
    model = UNet()
    train(model, xtr, ytr, a.epochs, log=lambda s: print("[%.0fs] %s" % (t(), s), flush=True))
    miou = hs.miou(predict(model, xte), yte)
    acc = float(((predict(model, xte) == yte) & (yte != 0)).sum() / (yte != 0).sum())
    print("test mIoU %.4f, pixel accuracy %.4f (%.0fs)" % (miou, acc, t()), flush=True)
    torch.save(model.state_dict(), os.path.join("/tmp", "hsi_unet_state.pt"))

    example = torch.from_numpy(xte[:1])
    info = zc.export_onnx(model, example, os.path.join(out, "hsi_unet.onnx"), fold=False)
    # data sets (small: the zoo stays under 3 MB)
    _, calib, _ = hs.make_set(CALIB_SEED, 6, H, W)
    zc.save_f32(os.path.join(out, "calib.npy"), calib)
    raw, fcubes, flab = hs.make_set(FRAMES_SEED, 6, H, W)
    zc.save_f32(os.path.join(out, "frames.npy"), raw)
    zc.save_i64(os.path.join(out, "frame_labels.npy"), flab)
    frames_miou = hs.miou(predict(model, fcubes), flab)
    rows = zc.layer_table(model, example)
    tot = zc.totals(rows)
    metrics = {"test_miou": miou, "test_pixel_accuracy": acc, "test_frames": 200,
               "frames_miou": frames_miou, "params": int(sum(p.numel() for p in model.parameters())),
               "macs": int(tot.get("macs", 0)) if isinstance(tot, dict) else None,
               "train_seconds": t(), "epochs": a.epochs, "train_frames": a.train}
    zc.write_json(os.path.join(out, "float_metrics.json"), metrics)
    with open(os.path.join(out, "layers.md"), "w") as f:
        f.write(zc.table_markdown(rows))
    print(metrics, info["onnx_float_params"])


if __name__ == "__main__":
    main()
