#!/usr/bin/python3
"""Exports real architectures from Debian's python3-torchvision (and a few 1-D signal models) to
ONNX, untrained but with realistic activation statistics, for the import / int8 / accelerator
test suite.

Every model is built with a fixed seed and no weight download (`weights=None`), then its
BatchNorm running statistics are set by forward passes in train mode on random inputs ("BN
recalibration"): without that, an untrained deep network in eval mode shrinks its activations
by orders of magnitude per block, so the int8 path would be tested on signals of 1e-12 rather
than on the ranges a trained network has.

For each model NAME it writes, into OUT (default build/tvmodels):
  NAME.onnx      opset 13 (or --opset), batch dimension 1
  NAME_x.npy     float32 inputs [N, ...]           (also the calibration set)
  NAME_y.npy     PyTorch's float32 outputs for NAME_x.npy

Usage: torchvision_models.py [--out DIR] [--opset K] [--n N] [--size S] [--large] [NAME ...]
A NAME already exported (all three files present, newer than this script) is skipped, so a
build can call it every time.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

# Classification architectures of torchvision 0.14 that export at a small input.
TORCHVISION = {
    "mobilenet_v2": 64,
    "resnet18": 64,
    "squeezenet1_1": 64,
    "mobilenet_v3_small": 64,
    "efficientnet_b0": 64,
    "shufflenet_v2_x0_5": 64,
    "mnasnet0_5": 64,
    "densenet121": 64,
    "googlenet": 64,
    "regnet_x_400mf": 64,
    "resnext50_32x4d": 64,
    "mobilenet_v3_large": 64,
    "convnext_tiny": 64,  # LayerNorm and GELU fused at import (LayerNormalization, Gelu)
    "swin_t": 64,  # shifted windows: Mod/ScatterND/Not mask arithmetic folded
}

# Exported only when named (or with --large): adaptive_avg_pool2d to 6x6 / 7x7 does not export
# from the 1x1 / 2x2 map a 64x64 input leaves, so these run at 224x224, and at 61 M / 133 M
# parameters (250 / 530 MB of ONNX) they are too heavy for the default suite
# (PRUNESIM_REAL_LARGE=1 build/tests/test_real runs them; docs/onnx-support.md).
# vit_b_32 runs at 64x64 (image_size=64: 4 patches + the class token, Equal/Where/Expand
# folded), but its 88 M parameters are a 350 MB export: opt-in for the same reason.
LARGE = {
    "alexnet": 224,
    "vgg11": 224,
    "vit_b_32": 64,
}


class Ae1d(nn.Module):
    """A 1-D convolutional autoencoder of the kind neural-signal compression uses: strided and
    average-pooled convolutions down, nearest upsampling back (Pad from AvgPool1d's padding)."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv1d(4, 16, 5, padding=2), nn.BatchNorm1d(16), nn.ReLU(),
            nn.AvgPool1d(2, padding=1, count_include_pad=False),
            nn.Conv1d(16, 8, 3, stride=2, padding=1), nn.ReLU())
        self.dec = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv1d(8, 16, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv1d(16, 4, 3, padding=1))

    def forward(self, x):
        return self.dec(self.enc(x))


class Kws1d(nn.Module):
    """A 1-D keyword-spotting CNN ending in a mean over time, x.mean(2) (ReduceMean)."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv1d(1, 16, 9, stride=2, padding=4), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Conv1d(16, 16, 5, padding=2, groups=16), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Conv1d(16, 32, 1), nn.BatchNorm1d(32), nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.f(x).mean(2))


ONE_D = {"ae1d": (Ae1d, (4, 64)), "kws1d": (Kws1d, (1, 128))}


def build(name, size):
    torch.manual_seed(0)
    if name in ONE_D:
        cls, shape = ONE_D[name]
        return cls(), shape
    import torchvision
    kw = {"num_classes": 10}
    if name == "googlenet":
        kw.update(aux_logits=False, init_weights=True)
    if name.startswith("vit_"):
        kw.update(image_size=size)
    model = getattr(torchvision.models, name)(weights=None, **kw)
    if name.startswith("vit_"):
        # torchvision zero-initialises ViT's classifier: the logits would be identically 0.
        model.heads.head.reset_parameters()
    return model, (3, size, size)


def recalibrate_bn(model, shape, batches=8):
    # Train-mode forward passes set the BatchNorm running statistics to the network's own
    # activation statistics (momentum None: a plain average over the batches).
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(16, *shape, generator=g))
    model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "tvmodels"))
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--n", type=int, default=4, help="samples in NAME_x.npy")
    ap.add_argument("--size", type=int, default=0, help="input height/width (0: per model)")
    ap.add_argument("--large", action="store_true", help="with no NAME: also %s" %
                    ", ".join(LARGE))
    ap.add_argument("names", nargs="*", help="models (default: all): %s" %
                    ", ".join(list(TORCHVISION) + list(ONE_D) + list(LARGE)))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = a.names or list(TORCHVISION) + list(ONE_D) + (list(LARGE) if a.large else [])
    torch.set_num_threads(1)
    me = os.path.getmtime(os.path.abspath(__file__))
    for name in names:
        if name not in TORCHVISION and name not in ONE_D and name not in LARGE:
            sys.exit("torchvision_models.py: unknown model '%s'" % name)
        paths = [os.path.join(a.out, name + s) for s in (".onnx", "_x.npy", "_y.npy")]
        if all(os.path.exists(p) and os.path.getmtime(p) > me for p in paths):
            continue
        model, shape = build(name, a.size or TORCHVISION.get(name, LARGE.get(name, 0)))
        recalibrate_bn(model, shape)
        x = torch.randn(a.n, *shape, generator=torch.Generator().manual_seed(2))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, x[:1], paths[0], opset_version=a.opset,
                              input_names=["input"], output_names=["output"])
        with torch.no_grad():
            y = model(x)
        np.save(paths[1], x.numpy().astype(np.float32))
        np.save(paths[2], y.numpy().astype(np.float32))
        print("%s: %s -> %s" % (name, tuple(x.shape[1:]), paths[0]))


if __name__ == "__main__":
    main()
