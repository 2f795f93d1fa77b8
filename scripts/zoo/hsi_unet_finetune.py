"""Fine-tune command for `prunesim prune --finetune-cmd` on the HSI U-Net.

    /usr/bin/python3 scripts/zoo/hsi_unet_finetune.py IN.onnx OUT.onnx [--epochs 3]

prunesim hands over the current model (for the channel scheme: physically smaller layers); this
rebuilds the training module with the layer widths found in the ONNX initializers, loads them by
name, trains a few epochs on freshly generated
synthetic scenes (seeded; a different seed from the training set) with every zero weight held at
zero, and exports the result with the same names and shapes. prunesim re-applies its masks.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsi_synth as hs  # noqa: E402
import train_hsi_unet as tr  # noqa: E402
import zoo_common as zc  # noqa: E402

FINETUNE_SEED = 677


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=800)
    a = ap.parse_args()
    zc.setup(tr.SEED)
    m = onnx.load(a.inp)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    model = tr.UNet()
    # Resize every layer to the widths prunesim left (weights [out, in, k, k]; transposed
    # convolutions [in, out, k, k]).
    for name, arr in inits.items():
        if not name.endswith(".weight"):
            continue
        path = name[:-len(".weight")].split(".")
        parent = model
        for part in path[:-1]:
            parent = getattr(parent, part) if not part.isdigit() else parent[int(part)]
        old = getattr(parent, path[-1]) if not path[-1].isdigit() else parent[int(path[-1])]
        if isinstance(old, nn.ConvTranspose2d):
            new = nn.ConvTranspose2d(arr.shape[0], arr.shape[1], old.kernel_size, stride=old.stride,
                                     bias=old.bias is not None)
        else:
            new = nn.Conv2d(arr.shape[1], arr.shape[0], old.kernel_size, padding=old.padding,
                            bias=old.bias is not None)
        if path[-1].isdigit():
            parent[int(path[-1])] = new
        else:
            setattr(parent, path[-1], new)
    sd = model.state_dict()
    for k in sd:
        sd[k] = torch.from_numpy(np.array(inits[k], dtype=np.float32))
    model.load_state_dict(sd)
    masks = {k: (p != 0).float() for k, p in model.named_parameters() if p.dim() > 1}
    _, x, y = hs.make_set(FINETUNE_SEED, a.frames, tr.H, tr.W)
    tr.train(model, x, y, a.epochs, lr=1e-3, log=lambda s: print("finetune:", s, flush=True),
             masks=masks)
    zc.export_onnx(model, torch.from_numpy(x[:1]), a.out, fold=False)


if __name__ == "__main__":
    main()
