"""Shared helpers for the prunesim model-zoo training scripts.

Everything here is plain PyTorch 1.13 / ONNX 1.12 / NumPy and runs on one CPU thread.

* ``setup()``            seeds every RNG, pins torch to one thread, deterministic algorithms.
* ``layer_table()``      per-layer op / shapes / params / MACs, computed from the module
                         definition with forward hooks on one example input.
* ``export_onnx()``      exports with the project's fixed settings, then checks the graph
                         (onnx.checker, shape inference, op set within ``ALLOWED_OPS``) and
                         runs it through the small NumPy reference evaluator below, comparing
                         with the torch output.
* ``run_onnx_numpy()``   a NumPy evaluator for the ONNX op subset the C++ importer supports
                         (used only to verify the exports; onnx 1.12 has no reference runtime).
* ``save_f32`` / ``save_i64``  C-order .npy writers.
"""
import copy
import json
import os
import random
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper, shape_inference

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Op types the prunesim C++ importer supports.
ALLOWED_OPS = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Relu", "Clip", "MaxPool", "AveragePool",
    "GlobalAveragePool", "BatchNormalization", "Add", "Concat", "Flatten", "Reshape",
    "Resize", "Sigmoid", "Softmax", "Identity", "Dropout",
}


def zoo_dir(name):
    d = os.path.join(REPO_ROOT, "zoo", name)
    os.makedirs(d, exist_ok=True)
    return d


def setup(seed):
    """Seed python, numpy and torch; one thread; deterministic kernels."""
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    torch.use_deterministic_algorithms(True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_f32(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def save_i64(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.int64))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def __call__(self):
        return time.time() - self.t0


# --------------------------------------------------------------------------------------
# Layer table
# --------------------------------------------------------------------------------------

def _prod(xs):
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _kind(m):
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        if m.groups == m.in_channels and m.groups > 1:
            return "Conv (depthwise)"
        if all(k == 1 for k in m.kernel_size):
            return "Conv (pointwise)"
        return "Conv"
    if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        return "ConvTranspose"
    if isinstance(m, nn.Linear):
        return "Gemm"
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return "BatchNorm (folded)"
    if isinstance(m, nn.ReLU):
        return "Relu"
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)):
        return "MaxPool"
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d)):
        return "AveragePool"
    if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
        return "GlobalAveragePool"
    if isinstance(m, nn.Identity):
        return "Identity"
    return type(m).__name__


def _macs(m, in_shape, out_shape):
    """Multiply-accumulates per sample (bias adds not counted)."""
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        # every output element: (Cin/groups) * prod(kernel) MACs
        return _prod(out_shape[1:]) * (m.in_channels // m.groups) * _prod(m.kernel_size)
    if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        # every input element is scattered to (Cout/groups) * prod(kernel) outputs
        return _prod(in_shape[1:]) * (m.out_channels // m.groups) * _prod(m.kernel_size)
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features
    return 0


def _attrs(m):
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
        s = "k=%s s=%s p=%s" % (
            "x".join(map(str, m.kernel_size)), "x".join(map(str, m.stride)),
            "x".join(map(str, m.padding)))
        if m.groups > 1:
            s += " g=%d" % m.groups
        if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d)) and any(m.output_padding):
            s += " op=%s" % "x".join(map(str, m.output_padding))
        return s
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        k = m.kernel_size if isinstance(m.kernel_size, (tuple, list)) else (m.kernel_size,)
        st = m.stride if isinstance(m.stride, (tuple, list)) else (m.stride,)
        return "k=%s s=%s" % ("x".join(map(str, k)), "x".join(map(str, st)))
    return ""


def layer_table(model, example):
    """Run ``example`` (batch 1) through ``model`` and return one row per leaf module."""
    rows = []
    hooks = []

    def hook(name):
        def f(m, inp, out):
            ish = tuple(inp[0].shape)
            osh = tuple(out.shape)
            nparam = sum(p.numel() for p in m.parameters(recurse=False))
            rows.append({
                "name": name, "op": _kind(m), "attrs": _attrs(m),
                "in": list(ish[1:]), "out": list(osh[1:]),
                "params": int(nparam), "macs": int(_macs(m, ish, osh)),
            })
        return f

    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            hooks.append(m.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(example[:1])
    model.train(was_training)
    for h in hooks:
        h.remove()
    return rows


def table_markdown(rows):
    lines = ["| # | layer | op | attributes | input | output | params | MACs |",
             "|---|---|---|---|---|---|---:|---:|"]
    for i, r in enumerate(rows):
        lines.append("| %d | `%s` | %s | %s | %s | %s | %d | %d |" % (
            i, r["name"], r["op"], r["attrs"], "x".join(map(str, r["in"])),
            "x".join(map(str, r["out"])), r["params"], r["macs"]))
    tp = sum(r["params"] for r in rows)
    tm = sum(r["macs"] for r in rows)
    lines.append("| | **total** | | | | | **%d** | **%d** |" % (tp, tm))
    return "\n".join(lines)


def totals(rows):
    bn = sum(r["params"] for r in rows if r["op"].startswith("BatchNorm"))
    return {
        "params_torch": sum(r["params"] for r in rows),
        "params_bn": bn,
        "macs": sum(r["macs"] for r in rows),
    }


# --------------------------------------------------------------------------------------
# BatchNorm folding (so the exported graphs carry per-channel conv weights and no BN node)
# --------------------------------------------------------------------------------------

_CONVS = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
_BNS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _fuse(conv, bn):
    c = copy.deepcopy(conv)
    std = torch.sqrt(bn.running_var + bn.eps)
    s = bn.weight.detach() / std                                  # [Cout]
    w = c.weight.detach().clone()
    if isinstance(c, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        # weight [Cin, Cout/g, *k]: output channel o = gi*(Cout/g) + j
        g = c.groups
        cin, cog = w.shape[:2]
        w = w.reshape(g, cin // g, cog, *w.shape[2:])
        w = w * s.reshape(g, 1, cog, *([1] * (w.dim() - 3)))
        w = w.reshape(cin, cog, *w.shape[3:])
    else:
        w = w * s.reshape(-1, *([1] * (w.dim() - 1)))
    b = c.bias.detach() if c.bias is not None else torch.zeros_like(bn.running_mean)
    b = (b - bn.running_mean) * s + bn.bias.detach()
    c.weight = nn.Parameter(w)
    c.bias = nn.Parameter(b)
    return c


def fold_bn(model):
    """Deep copy of ``model`` (eval mode) in which every Conv/ConvTranspose directly followed
    by a BatchNorm inside an nn.Sequential absorbs it; the BN becomes nn.Identity (which the
    exporter drops).  Torch folds Conv+BN itself, but not ConvTranspose+BN."""
    m = copy.deepcopy(model).eval()

    def visit(mod):
        if isinstance(mod, nn.Sequential):
            names = list(mod._modules.keys())
            for a, b in zip(names[:-1], names[1:]):
                if isinstance(mod._modules[a], _CONVS) and isinstance(mod._modules[b], _BNS):
                    mod._modules[a] = _fuse(mod._modules[a], mod._modules[b])
                    mod._modules[b] = nn.Identity()
        for ch in mod.children():
            visit(ch)

    visit(m)
    return m


# --------------------------------------------------------------------------------------
# ONNX export + checks
# --------------------------------------------------------------------------------------

def export_onnx(model, example, path, fold=True):
    """Export with the project's fixed settings and verify the graph. Returns a dict.
    With ``fold`` the BatchNorms are folded first (``fold_bn``); the check compares the
    exported graph with the original (unfolded) model."""
    model.eval()
    with torch.no_grad():
        ref = model(example).numpy()
    exp_model = fold_bn(model) if fold else model
    torch.onnx.export(
        exp_model, example, path, opset_version=13, do_constant_folding=True,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    inferred = shape_inference.infer_shapes(m)
    onnx.checker.check_model(inferred)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    assert not bad, "%s: ops outside the supported set: %s" % (path, bad)

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value
                for d in vi.type.tensor_type.shape.dim]

    in_shape = dims(inferred.graph.input[0])
    out_shape = dims(inferred.graph.output[0])
    exp_in = ["N"] + list(example.shape[1:])
    exp_out = ["N"] + list(ref.shape[1:])
    assert in_shape == exp_in, (path, in_shape, exp_in)
    assert out_shape == exp_out, (path, out_shape, exp_out)
    # every intermediate tensor must have a fully inferred shape
    for vi in inferred.graph.value_info:
        assert len(vi.type.tensor_type.shape.dim) > 0, (path, vi.name)

    # float parameter count as stored (BN folded into conv by the exporter)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    n_float = sum(a.size for a in inits.values() if a.dtype == np.float32)

    # numeric check through the NumPy reference evaluator
    got = run_onnx_numpy(m, example.numpy())
    err = float(np.max(np.abs(got - ref)))
    scale = float(np.max(np.abs(ref))) + 1e-12
    assert err <= 1e-4 * max(1.0, scale), "%s: numpy eval differs from torch by %g" % (path, err)
    return {"path": path, "ops": ops, "op_set": sorted(set(ops)), "input_shape": in_shape,
            "output_shape": out_shape, "onnx_float_params": int(n_float),
            "numpy_vs_torch_max_abs_err": err}


# --------------------------------------------------------------------------------------
# NumPy reference evaluator (subset of ONNX, NCHW / NCL layouts, float32)
# --------------------------------------------------------------------------------------

def _attr(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        out[a.name] = v
    return out


def _pad_nd(x, pads, value=0.0):
    nsp = x.ndim - 2
    pw = [(0, 0), (0, 0)] + [(pads[i], pads[i + nsp]) for i in range(nsp)]
    return np.pad(x, pw, mode="constant", constant_values=value)


def _windows(x, k, s, d=None):
    """x: [N, C, *sp] -> view [N, C, *out_sp, *k] (dilation d)."""
    nsp = x.ndim - 2
    d = d or [1] * nsp
    out_sp = [(x.shape[2 + i] - (d[i] * (k[i] - 1) + 1)) // s[i] + 1 for i in range(nsp)]
    shape = list(x.shape[:2]) + out_sp + list(k)
    st = list(x.strides[:2]) + [x.strides[2 + i] * s[i] for i in range(nsp)] + \
        [x.strides[2 + i] * d[i] for i in range(nsp)]
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=st, writeable=False)


def _conv(x, w, b, a):
    nsp = x.ndim - 2
    k = list(w.shape[2:])
    s = a.get("strides", [1] * nsp)
    d = a.get("dilations", [1] * nsp)
    p = a.get("pads", [0] * (2 * nsp))
    g = a.get("group", 1)
    xp = _pad_nd(x, p)
    win = _windows(xp, k, s, d)  # N, C, *o, *k
    N, C = x.shape[:2]
    M = w.shape[0]
    cg, mg = C // g, M // g
    outs = []
    sp_letters = "ijk"[:nsp]
    k_letters = "uvw"[:nsp]
    for gi in range(g):
        wi = win[:, gi * cg:(gi + 1) * cg]
        wg = w[gi * mg:(gi + 1) * mg]
        eq = "nc%s%s,mc%s->nm%s" % (sp_letters, k_letters, k_letters, sp_letters)
        outs.append(np.einsum(eq, wi, wg, optimize=True))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + b.reshape([1, -1] + [1] * nsp)
    return y.astype(np.float32)


def _conv_transpose(x, w, b, a):
    nsp = x.ndim - 2
    k = list(w.shape[2:])
    s = a.get("strides", [1] * nsp)
    p = a.get("pads", [0] * (2 * nsp))
    op = a.get("output_padding", [0] * nsp)
    g = a.get("group", 1)
    assert all(v == 1 for v in a.get("dilations", [1] * nsp))
    N, C = x.shape[:2]
    mg = w.shape[1]
    cg = C // g
    M = mg * g
    full = [(x.shape[2 + i] - 1) * s[i] + k[i] + op[i] for i in range(nsp)]
    y = np.zeros([N, M] + full, dtype=np.float64)
    for gi in range(g):
        xi = x[:, gi * cg:(gi + 1) * cg]
        wg = w[gi * cg:(gi + 1) * cg]  # [cg, mg, *k]
        if nsp == 1:
            contrib = np.einsum("nci,cmu->nmiu", xi, wg)
            for u in range(k[0]):
                y[:, gi * mg:(gi + 1) * mg, u:u + s[0] * x.shape[2]:s[0]] += contrib[..., u]
        else:
            contrib = np.einsum("ncij,cmuv->nmijuv", xi, wg)
            for u in range(k[0]):
                for v in range(k[1]):
                    y[:, gi * mg:(gi + 1) * mg,
                      u:u + s[0] * x.shape[2]:s[0],
                      v:v + s[1] * x.shape[3]:s[1]] += contrib[..., u, v]
    sl = [slice(None), slice(None)] + [slice(p[i], full[i] - p[i + nsp]) for i in range(nsp)]
    y = y[tuple(sl)]
    if b is not None:
        y = y + b.reshape([1, -1] + [1] * nsp)
    return y.astype(np.float32)


def _pool(x, a, kind):
    nsp = x.ndim - 2
    k = a["kernel_shape"]
    s = a.get("strides", [1] * nsp)
    p = a.get("pads", [0] * (2 * nsp))
    assert not a.get("ceil_mode", 0)
    if kind == "max":
        xp = _pad_nd(x, p, -np.inf)
        w = _windows(xp, k, s)
        return w.max(axis=tuple(range(-nsp, 0))).astype(np.float32)
    xp = _pad_nd(x, p, 0.0)
    w = _windows(xp, k, s)
    tot = w.sum(axis=tuple(range(-nsp, 0)))
    if a.get("count_include_pad", 0) or not any(p):
        return (tot / _prod(k)).astype(np.float32)
    ones = _pad_nd(np.ones((1, 1) + x.shape[2:], np.float32), p, 0.0)
    cnt = _windows(ones, k, s).sum(axis=tuple(range(-nsp, 0)))
    return (tot / cnt).astype(np.float32)


def run_onnx_numpy(model, x):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float32)
    for n in model.graph.node:
        a = _attr(n)
        ins = [env[i] if i else None for i in n.input]
        t = n.op_type
        if t == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif t == "ConvTranspose":
            y = _conv_transpose(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif t == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
        elif t == "MatMul":
            y = ins[0] @ ins[1]
        elif t == "Relu":
            y = np.maximum(ins[0], 0)
        elif t == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            y = np.clip(ins[0], lo, hi)
        elif t == "MaxPool":
            y = _pool(ins[0], a, "max")
        elif t == "AveragePool":
            y = _pool(ins[0], a, "avg")
        elif t == "GlobalAveragePool":
            y = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif t == "BatchNormalization":
            sc, bi, mu, var = ins[1:5]
            sh = [1, -1] + [1] * (ins[0].ndim - 2)
            y = (ins[0] - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + a.get("epsilon", 1e-5)) \
                * sc.reshape(sh) + bi.reshape(sh)
        elif t == "Add":
            y = ins[0] + ins[1]
        elif t == "Concat":
            y = np.concatenate(ins, axis=a["axis"])
        elif t == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(_prod(ins[0].shape[:ax]), -1)
        elif t == "Reshape":
            shp = [int(v) for v in ins[1]]
            shp = [ins[0].shape[i] if v == 0 else v for i, v in enumerate(shp)]
            y = ins[0].reshape(shp)
        elif t == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-ins[0]))
        elif t == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=a.get("axis", -1), keepdims=True))
            y = e / e.sum(axis=a.get("axis", -1), keepdims=True)
        elif t in ("Identity", "Dropout"):
            y = ins[0]
        else:
            raise NotImplementedError(t)
        env[n.output[0]] = np.asarray(y, dtype=np.float32)
    return env[model.graph.output[0].name]
