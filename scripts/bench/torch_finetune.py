#!/usr/bin/python3
"""PyTorch side of the fine-tuning speed benchmark (bench/finetune_speed.sh): the same masked
fine-tuning `prunesim finetune` does, in Debian's PyTorch, on a module built from the ONNX file.

    /usr/bin/python3 scripts/bench/torch_finetune.py MODEL.onnx --data X.npy --labels Y.npy \
        --epochs E --batch B --lr L --threads T [--seed S]

* The module is a small interpreter over ``onnx.load(MODEL).graph.node`` for the ops the zoo
  uses (Conv with groups/pads/strides/dilations, ConvTranspose, Relu, AveragePool, MaxPool,
  GlobalAveragePool, Flatten, Gemm, Concat), 1-D and 2-D; every float initializer is an
  ``nn.Parameter``.  Anything else is an error naming the op.
* Masked weights: every weight (input 1 of Conv / ConvTranspose / Gemm) gets the mask its own
  zeros imply (1 = non-zero); after ``backward`` the gradients are multiplied by the mask and
  after every optimiser step the mask is re-applied, so zeros stay exactly zero.  Biases are free.
* Adam (torch defaults: betas 0.9/0.999, eps 1e-8, no weight decay), learning rate ``--lr`` under
  a per-epoch cosine schedule (``--schedule cosine``, prunesim's default; ``constant`` also
  works).  Loss: cross-entropy on int class ids (``--loss auto`` picks MSE instead when the labels
  are float and shaped like the output, e.g. an autoencoder with ``--labels`` = ``--data``).
* Each epoch shuffles with ``torch.randperm(N, generator=torch.Generator().manual_seed(S))`` (one
  generator for the run) and walks the batches in order; the last batch is partial unless
  ``--drop-last``.  No validation.
* ``torch.set_num_threads(T)`` (and one inter-op thread).

Prints one JSON line: {"seconds": wall time of the training loop only (data loading, module
building and the JSON excluded), "epochs", "samples" (training samples, N), "steps",
"final_loss" (mean loss over the last epoch's samples), "threads", ...}; with
``--metric-passes`` also "metric_seconds" and "seconds_with_metric" (see --help).  Diagnostics go
to stderr.  ``load_onnx_module(path)`` is importable (scripts/zoo/make_train_splits.py uses it).
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

WEIGHT_OPS = ("Conv", "ConvTranspose", "Gemm")


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _sym_pads(pads, nsp, what):
    """ONNX pads [b1.., e1..] -> torch's symmetric padding tuple, or None when asymmetric."""
    pads = list(pads) if pads else [0] * (2 * nsp)
    begin, end = pads[:nsp], pads[nsp:]
    return tuple(begin) if begin == end else None


class OnnxModule(nn.Module):
    """Runs an ONNX graph (the zoo's op subset) with torch ops; initializers are parameters."""

    def __init__(self, model):
        super().__init__()
        g = model.graph
        self.nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n)) for n in g.node]
        inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.input_name = next(i.name for i in g.input if i.name not in inits)
        self.output_name = g.output[0].name
        self._pname = {}        # initializer name -> attribute name of its parameter / buffer
        for k, (name, arr) in enumerate(inits.items()):
            attr = "p%d_%s" % (k, "".join(c if c.isalnum() else "_" for c in name))
            t = torch.from_numpy(np.array(arr))
            if t.is_floating_point():
                self.register_parameter(attr, nn.Parameter(t.float()))
            else:
                self.register_buffer(attr, t)
            self._pname[name] = attr
        self.weight_names = sorted({n[1][1] for n in self.nodes
                                    if n[0] in WEIGHT_OPS and n[1][1] in inits})
        bad = sorted({n[0] for n in self.nodes} - set(self._OPS))
        if bad:
            raise ValueError("unsupported ONNX op(s): %s (this interpreter runs %s)"
                             % (", ".join(bad), ", ".join(sorted(self._OPS))))

    def tensor(self, name):
        return getattr(self, self._pname[name])

    # ---- ops: f(self, inputs, attrs) -> output
    def _conv(self, x, a):
        w = x[1]
        b = x[2] if len(x) > 2 else None
        nsp = w.dim() - 2
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", ""):
            raise ValueError("Conv: auto_pad=%s not supported" % a["auto_pad"])
        s = a.get("strides", [1] * nsp)
        d = a.get("dilations", [1] * nsp)
        grp = a.get("group", 1)
        p = _sym_pads(a.get("pads"), nsp, "Conv")
        inp = x[0]
        if p is None:  # asymmetric: pad explicitly (torch pads last dim first)
            pads = list(a["pads"])
            fp = []
            for i in reversed(range(nsp)):
                fp += [pads[i], pads[i + nsp]]
            inp, p = F.pad(inp, fp), (0,) * nsp
        conv = F.conv1d if nsp == 1 else F.conv2d
        return conv(inp, w, b, stride=s, padding=p, dilation=d, groups=grp)

    def _conv_transpose(self, x, a):
        w = x[1]
        b = x[2] if len(x) > 2 else None
        nsp = w.dim() - 2
        if "output_shape" in a or a.get("auto_pad", "NOTSET") not in ("NOTSET", ""):
            raise ValueError("ConvTranspose: output_shape / auto_pad not supported")
        p = _sym_pads(a.get("pads"), nsp, "ConvTranspose")
        if p is None:
            raise ValueError("ConvTranspose: asymmetric pads not supported")
        ct = F.conv_transpose1d if nsp == 1 else F.conv_transpose2d
        return ct(x[0], w, b, stride=a.get("strides", [1] * nsp), padding=p,
                  output_padding=a.get("output_padding", [0] * nsp), groups=a.get("group", 1),
                  dilation=a.get("dilations", [1] * nsp))

    def _pool(self, x, a, kind):
        k = list(a["kernel_shape"])
        nsp = len(k)
        s = a.get("strides", [1] * nsp)
        p = _sym_pads(a.get("pads"), nsp, kind)
        if p is None:
            raise ValueError("%s: asymmetric pads not supported" % kind)
        ceil = bool(a.get("ceil_mode", 0))
        if kind == "MaxPool":
            f = F.max_pool1d if nsp == 1 else F.max_pool2d
            return f(x[0], k, s, p, dilation=a.get("dilations", [1] * nsp), ceil_mode=ceil)
        f = F.avg_pool1d if nsp == 1 else F.avg_pool2d
        return f(x[0], k, s, p, ceil_mode=ceil,
                 count_include_pad=bool(a.get("count_include_pad", 0)))

    def _gemm(self, x, a):
        A, B = x[0], x[1]
        C = x[2] if len(x) > 2 else None
        if a.get("transA", 0):
            A = A.t()
        if a.get("transB", 0):
            B = B.t()
        y = A @ B
        alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
        if alpha != 1.0:
            y = alpha * y
        if C is not None:
            y = y + (beta * C if beta != 1.0 else C)
        return y

    def _flatten(self, x, a):
        ax = a.get("axis", 1)
        t = x[0]
        ax = ax if ax >= 0 else t.dim() + ax
        return t.reshape(int(np.prod(t.shape[:ax])), -1)

    _OPS = {
        "Conv": _conv,
        "ConvTranspose": _conv_transpose,
        "Relu": lambda self, x, a: F.relu(x[0]),
        "AveragePool": lambda self, x, a: self._pool(x, a, "AveragePool"),
        "MaxPool": lambda self, x, a: self._pool(x, a, "MaxPool"),
        "GlobalAveragePool": lambda self, x, a: x[0].mean(dim=tuple(range(2, x[0].dim())),
                                                         keepdim=True),
        "Flatten": _flatten,
        "Gemm": _gemm,
        "Concat": lambda self, x, a: torch.cat(x, dim=a["axis"]),
    }

    def forward(self, inp):
        env = {self.input_name: inp}
        for op, ins, outs, a in self.nodes:
            xs = [env[n] if n in env else self.tensor(n) for n in ins if n != ""]
            env[outs[0]] = self._OPS[op](self, xs, a)
        return env[self.output_name]


def load_onnx_module(path):
    return OnnxModule(onnx.load(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schedule", choices=("cosine", "constant"), default="cosine")
    ap.add_argument("--loss", choices=("auto", "ce", "mse"), default="auto")
    ap.add_argument("--ignore-index", type=int, default=None,
                    help="ce: class id that carries no loss (hsi_unet: 0 = unlabelled)")
    ap.add_argument("--drop-last", action="store_true")
    ap.add_argument("--metric-passes", action="store_true",
                    help="also run a no-grad pass over the training data (chunks of "
                         "max(batch, 256)) before training and after every epoch, as `prunesim "
                         "finetune --val-split 0` does to track its metric; timed apart")
    a = ap.parse_args()
    if a.epochs < 1 or a.batch < 1 or a.lr <= 0 or a.threads < 1:
        ap.error("epochs, batch, threads must be >= 1 and lr > 0")

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)

    model = load_onnx_module(a.model)
    x = torch.from_numpy(np.ascontiguousarray(np.load(a.data), dtype=np.float32))
    y_np = np.load(a.labels)
    if len(y_np) != len(x):
        sys.exit("labels: %d rows for %d samples" % (len(y_np), len(x)))
    loss_kind = a.loss
    if loss_kind == "auto":
        loss_kind = "ce" if np.issubdtype(y_np.dtype, np.integer) else "mse"
    if loss_kind == "ce":
        y = torch.from_numpy(np.ascontiguousarray(y_np, dtype=np.int64))
        ii = -100 if a.ignore_index is None else a.ignore_index

        def lossf(out, t):
            return F.cross_entropy(out, t, ignore_index=ii)
    else:
        y = torch.from_numpy(np.ascontiguousarray(y_np, dtype=np.float32))
        lossf = F.mse_loss

    params = dict(model.named_parameters())
    masks = {}
    for name in model.weight_names:
        p = model.tensor(name)
        masks[model._pname[name]] = (p.detach() != 0).float()
    n_masked = int(sum(int((m == 0).sum()) for m in masks.values()))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n = len(x)
    gen = torch.Generator().manual_seed(a.seed)
    steps_per_epoch = n // a.batch if a.drop_last else -(-n // a.batch)
    print("torch_finetune: %s, %d samples, %d params (%d weights masked at 0), %s loss, "
          "%d threads" % (a.model, n, sum(p.numel() for p in model.parameters()), n_masked,
                          loss_kind, a.threads), file=sys.stderr)

    def metric_pass():
        """No-grad pass over the training data; returns its duration."""
        t = time.perf_counter()
        with torch.no_grad():
            bs = max(a.batch, 256)
            out = torch.cat([model(x[i:i + bs]) for i in range(0, n, bs)])
            lossf(out, y).item()
        return time.perf_counter() - t

    model.train()
    t0 = time.perf_counter()
    final_loss = float("nan")
    steps = 0
    metric_s = metric_pass() if a.metric_passes else 0.0
    for ep in range(a.epochs):
        if a.schedule == "cosine":
            for grp in opt.param_groups:
                grp["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * ep / a.epochs))
        perm = torch.randperm(n, generator=gen)
        tot, seen = 0.0, 0
        for i in range(steps_per_epoch):
            idx = perm[i * a.batch:(i + 1) * a.batch]
            xb, yb = x[idx], y[idx]
            loss = lossf(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for k, m in masks.items():
                    if params[k].grad is not None:
                        params[k].grad.mul_(m)
            opt.step()
            with torch.no_grad():
                for k, m in masks.items():
                    params[k].mul_(m)
            tot += loss.item() * len(idx)
            seen += len(idx)
            steps += 1
        final_loss = tot / max(seen, 1)
        if not math.isfinite(final_loss):
            sys.exit("torch_finetune: loss diverged in epoch %d (%g)" % (ep + 1, final_loss))
        if a.metric_passes:
            metric_s += metric_pass()
        print("epoch %d  loss %.5f  (%.2fs)" % (ep + 1, final_loss, time.perf_counter() - t0),
              file=sys.stderr)
    seconds = time.perf_counter() - t0 - metric_s

    held = all(bool((params[k].detach()[m == 0] == 0).all()) for k, m in masks.items())
    rep = {"seconds": seconds, "epochs": a.epochs, "samples": n, "steps": steps,
           "batch": a.batch, "lr": a.lr, "schedule": a.schedule, "loss": loss_kind,
           "final_loss": final_loss, "threads": a.threads, "seed": a.seed,
           "masked_weights": n_masked, "zeros_held": held, "torch": torch.__version__}
    if a.metric_passes:
        rep["metric_seconds"] = metric_s
        rep["seconds_with_metric"] = seconds + metric_s
    print(json.dumps(rep))


if __name__ == "__main__":
    main()
