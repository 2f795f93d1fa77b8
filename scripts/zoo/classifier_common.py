"""Training loop, evaluation, export and model card shared by the two image classifiers
(digits_dscnn, fmnist_dscnn)."""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import zoo_common as zc


def dsconv2d(cin, cout, k=3):
    """Depthwise kxk (groups=cin, 'same' padding) + pointwise 1x1 + BN + ReLU."""
    return [nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class DSCNN(nn.Module):
    """features (nn.Sequential ending in GlobalAveragePool) -> torch.flatten(x, 1) -> Linear.
    torch.flatten exports as one ONNX Flatten (no Shape/Gather/Concat chain)."""

    def __init__(self, features, n_feat, n_classes=10):
        super().__init__()
        self.features = features
        self.classifier = nn.Linear(n_feat, n_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def random_shift(x, max_shift, gen):
    """Shift each image by up to +-max_shift pixels (zero fill), deterministic via ``gen``."""
    if max_shift <= 0:
        return x
    n, c, h, w = x.shape
    p = max_shift
    xp = F.pad(x, (p, p, p, p))
    dy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :])                       # [n, h]
    cols = (dx[:, None] + torch.arange(w)[None, :])                       # [n, w]
    idx_n = torch.arange(n)[:, None, None]
    out = xp[idx_n, :, rows[:, :, None], cols[:, None, :]]               # [n, h, w, c]
    return out.permute(0, 3, 1, 2).contiguous()


def predict(model, x, bs=500):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(model(torch.from_numpy(x[i:i + bs])).numpy())
    return np.concatenate(out, 0)


def top1(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def train(model, xtr, ytr, epochs, bs, lr, wd, seed, max_shift=0, label_smoothing=0.0,
          log_every=1, xval=None, yval=None, timer=None):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    n = len(xtr)
    steps = n // bs
    total = epochs * steps
    warm = min(steps, total // 2)  # one epoch of linear warm-up, then cosine to 0
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm
        else 0.5 * (1 + math.cos(math.pi * min(s - warm, total - warm) / (total - warm))))
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(xtr)
    yt = torch.from_numpy(ytr)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        tl, tc = 0.0, 0
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            xb = random_shift(xt[idx], max_shift, g)
            yb = yt[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item()
            tc += int((out.argmax(1) == yb).sum())
        if (ep + 1) % log_every == 0 or ep == epochs - 1:
            msg = "epoch %d  loss %.4f  train acc %.4f" % (ep + 1, tl / steps, tc / (steps * bs))
            if xval is not None:
                msg += "  test top1 %.4f" % top1(predict(model, xval), yval)
            if timer is not None:
                msg += "  (%.0fs)" % timer()
            print(msg, flush=True)


def finish(name, model, xcal, xev, yev, out, card_fn, extra):
    """Save files, export ONNX, build the layer table, write metrics and the model card."""
    sample = xev[:1]
    logits = predict(model, xev)
    metrics = {"top1": top1(logits, yev)}
    zc.save_f32(os.path.join(out, "calib.npy"), xcal)
    zc.save_f32(os.path.join(out, "eval.npy"), xev)
    zc.save_i64(os.path.join(out, "eval_labels.npy"), yev)
    zc.save_f32(os.path.join(out, "sample.npy"), sample)
    zc.save_f32(os.path.join(out, "sample_output.npy"), predict(model, sample))
    zc.write_json(os.path.join(out, "float_metrics.json"), metrics)
    ex = torch.from_numpy(np.concatenate([sample, xev[1:2]], 0))
    exp = zc.export_onnx(model, ex, os.path.join(out, name + ".onnx"))
    rows = zc.layer_table(model, ex)
    # torch.flatten is a function call, not a module: add it to the table by hand
    for i, r in enumerate(rows):
        if r["op"] == "GlobalAveragePool":
            rows.insert(i + 1, {"name": "flatten", "op": "Flatten", "attrs": "axis=1",
                                "in": r["out"], "out": [_n(r["out"])], "params": 0,
                                "macs": 0})
            break
    summary = dict(extra)
    summary.update({"metrics": metrics, "totals": zc.totals(rows), "onnx": exp})
    card_fn(out, rows, summary)
    print(name + ".onnx", exp["op_set"], exp["input_shape"], "->", exp["output_shape"],
          "params", exp["onnx_float_params"], "numpy err %.2e" % exp["numpy_vs_torch_max_abs_err"])
    t = summary["totals"]
    print("metrics %s  params (torch) %d, BN %d, MACs %d" % (
        metrics, t["params_torch"], t["params_bn"], t["macs"]))
    return summary


def _n(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def _fmt(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def card_common(rows, s):
    """Layer/graph sections shared by the classifier cards."""
    t = s["totals"]
    o = s["onnx"]
    return f"""## Layers

BatchNorm layers are folded into the preceding convolution before export (`zoo_common.fold_bn`),
so the `.onnx` graph has no BatchNormalization node.  MACs are per image: a convolution counts
(output elements) x (Cin/groups) x kernel, a Gemm in x out; bias adds, pooling, ReLU and
Flatten count 0.

{zc.table_markdown(rows)}

Totals: **{t['params_torch']} parameters** in torch ({t['params_bn']} of them BatchNorm),
**{o['onnx_float_params']} float parameters in the `.onnx`** after folding; **{t['macs']} MACs**
per image.

ONNX graph: `input` {_fmt(o['input_shape'])} -> `output` {_fmt(o['output_shape'])} (logits, no Softmax);
op types in order: {', '.join(o['ops'])}.  The export passed `onnx.checker`, full shape
inference, the op-set check, and a NumPy re-evaluation of the graph that matches torch to
{o['numpy_vs_torch_max_abs_err']:.1e} (max abs).
"""
