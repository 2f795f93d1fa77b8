#!/usr/bin/python3
"""Writes the fuzz seed corpora and the hand-made hostile inputs (tests/fuzz/README.md).

Seeds: tests/fuzz/corpus/<target>/ — small valid files of every reader (tiny ONNX graphs of the
ops with attributes, .npy of every supported dtype and version, .npz stored and deflated, JSON).
Hostile: tests/fuzz/regressions/<target>/ — one file per class of issue 16's findings; each must
give exit 2 and one line naming the file and place (tests/cli/test_cli_fuzz_regressions.cpp).
The .pwt files come from `prunesim fuzz-seeds`-free C++ (tests/fuzz/make_pwt.cpp).
Run: /usr/bin/python3 tests/fuzz/make_corpus.py (deterministic; rewrites the files).
"""
import io
import json
import os
import shutil
import struct
import zipfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def out(kind, target, name, data):
    d = os.path.join(HERE, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def model(nodes, inputs, outputs, inits=(), opset=13, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def conv_net(conv_attrs=None, pool_attrs=None, conv_inputs=("x", "w", "b")):
    w = init("w", np.ones((4, 2, 3, 3), np.float32))
    b = init("b", np.zeros(4, np.float32))
    conv = helper.make_node("Conv", list(conv_inputs), ["c"], name="conv1",
                            **(conv_attrs or {"pads": [1, 1, 1, 1]}))
    relu = helper.make_node("Relu", ["c"], ["r"], name="relu1")
    pool = helper.make_node("MaxPool", ["r"], ["p"], name="pool1",
                            **(pool_attrs or {"kernel_shape": [2, 2], "strides": [2, 2]}))
    return model([conv, relu, pool], [vi("x", [1, 2, 8, 8])], [vi("p", None)], [w, b])


def onnx_seeds():
    for f in ["digits_dscnn/digits_dscnn.onnx", "ds_cae1/encoder.onnx"]:
        shutil.copy(os.path.join(ROOT, "zoo", f), os.path.join(HERE, "corpus", "onnx",
                                                             os.path.basename(f)))
    out("corpus", "onnx", "conv_pool.onnx", conv_net())
    x = vi("x", [1, 4, 4, 4])
    shape = init("s", np.array([1, 64], np.int64))
    out("corpus", "onnx", "reshape.onnx", model(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")], [x], [vi("y", None)], [shape]))
    out("corpus", "onnx", "transpose.onnx", model(
        [helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 2, 3, 1])], [x],
        [vi("y", None)]))
    scales = init("sc", np.array([1, 1, 2, 2], np.float32))
    roi = init("roi", np.zeros(0, np.float32))
    out("corpus", "onnx", "resize.onnx", model(
        [helper.make_node("Resize", ["x", "roi", "sc"], ["y"], name="rs", mode="nearest")], [x],
        [vi("y", None)], [roi, scales]))
    bb = init("bb", np.ones(4, np.float32))
    out("corpus", "onnx", "add_legacy.onnx", model(
        [helper.make_node("Add", ["x", "bb"], ["y"], name="a", broadcast=1, axis=1)], [x],
        [vi("y", None)], [bb], opset=6))
    gp = helper.make_node("GlobalAveragePool", ["x"], ["g"], name="gap")
    fl = helper.make_node("Flatten", ["g"], ["f"], name="fl")
    mw = init("mw", np.ones((4, 3), np.float32))
    mm = helper.make_node("MatMul", ["f", "mw"], ["y"], name="mm")
    out("corpus", "onnx", "gap_matmul.onnx", model([gp, fl, mm], [x], [vi("y", None)], [mw]))
    bn = [init(n, np.ones(4, np.float32)) for n in ["g1", "b1", "m1", "v1"]]
    out("corpus", "onnx", "bn.onnx", model(
        [helper.make_node("BatchNormalization", ["x", "g1", "b1", "m1", "v1"], ["y"], name="bn")],
        [x], [vi("y", None)], bn))


def onnx_hostile():
    x = vi("x", [1, 4, 4, 4])
    relu = helper.make_node("Relu", ["x"], [], name="relu_no_output")
    out("regressions", "onnx", "node_without_output.onnx", model([relu], [x], [vi("x", None)]))
    for op, ins, inits in [
        ("Relu", ["x", ""], []),
        ("GlobalAveragePool", [""], []),
        ("MatMul", ["x", ""], []),
    ]:
        n = helper.make_node(op, ins if op != "Relu" else [""], ["y"], name="n1")
        out("regressions", "onnx", "empty_input_%s.onnx" % op.lower(),
            model([n], [x], [vi("y", None)], inits))
    bn = [init(n, np.ones(4, np.float32)) for n in ["g1", "b1", "m1", "v1"]]
    out("regressions", "onnx", "empty_input_batchnorm.onnx", model(
        [helper.make_node("BatchNormalization", ["", "g1", "b1", "m1", "v1"], ["y"], name="bn")],
        [x], [vi("y", None)], bn))
    out("regressions", "onnx", "empty_input_conv.onnx", conv_net(conv_inputs=("x", "", "b")))
    out("regressions", "onnx", "conv_stride_0.onnx", conv_net({"strides": [0, 1]}))
    out("regressions", "onnx", "pool_stride_0.onnx",
        conv_net(pool_attrs={"kernel_shape": [2, 2], "strides": [0, 2]}))
    out("regressions", "onnx", "pool_stride_negative.onnx",
        conv_net(pool_attrs={"kernel_shape": [2, 2], "strides": [-2, -2]}))
    out("regressions", "onnx", "conv_pads_negative.onnx", conv_net({"pads": [-1, 0, 0, 0]}))
    big = init("s", np.array([1 << 32, 1 << 32, 1], np.int64))
    out("regressions", "onnx", "reshape_count_wraps.onnx", model(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")], [x], [vi("y", None)], [big]))
    out("regressions", "onnx", "transpose_repeated_axis.onnx", model(
        [helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 1, 1, 3])], [x],
        [vi("y", None)]))
    scales = init("sc", np.array([1, 1, 1, 1e30], np.float32))
    roi = init("roi", np.zeros(0, np.float32))
    out("regressions", "onnx", "resize_scale_1e30.onnx", model(
        [helper.make_node("Resize", ["x", "roi", "sc"], ["y"], name="rs")], [x], [vi("y", None)],
        [roi, scales]))
    t = TensorProto()
    t.name, t.data_type = "w", TensorProto.FLOAT
    t.dims.extend([1 << 32, 1 << 32, 16])  # 2^68 elements: the size arithmetic wraps
    t.raw_data = b""
    n = helper.make_node("Add", ["x", "w"], ["y"], name="a")
    out("regressions", "onnx", "initializer_size_wraps.onnx",
        model([n], [x], [vi("y", None)], [t]))
    bb = init("bb", np.ones(4, np.float32))
    for ax, tag in [(1 << 40, "huge"), (-9, "negative")]:
        n = helper.make_node("Add", ["x", "bb"], ["y"], name="a", broadcast=1, axis=ax)
        out("regressions", "onnx", "add_broadcast_axis_%s.onnx" % tag,
            model([n], [x], [vi("y", None)], [bb], opset=6))
    n = helper.make_node("Relu", ["x"], ["y"], name="relu")
    m = onnx.load_from_string(model([n], [x], [vi("y", None)]))
    m.graph.node[0].name = "relu\udcff"[:4]
    raw = m.SerializeToString().replace(b"relu", b"rel\xff", 1)
    out("regressions", "onnx", "name_not_utf8.onnx", raw)
    out("regressions", "onnx", "input_dim_negative.onnx",
        model([n], [vi("x", [1, -5, 4, 4])], [vi("y", None)]))
    out("regressions", "onnx", "input_shape_over_cap.onnx",
        model([n], [vi("x", [1, 100000, 100000, 100])], [vi("y", None)]))
    out("regressions", "onnx", "truncated.onnx", conv_net()[:57])


def npy_bytes(arr, version=(1, 0)):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


def npy_seeds():
    rng = np.random.default_rng(16)
    for dt in ["<f4", "<f8", "|i1", "|u1", "<i4", "<i8", "|b1", "<f2"]:
        a = (rng.standard_normal((2, 3)) * 10).astype(dt)
        out("corpus", "npy", "a_%s.npy" % dt.strip("<|"), npy_bytes(a))
    out("corpus", "npy", "v2.npy", npy_bytes(np.ones((3,), np.float32), (2, 0)))
    out("corpus", "npy", "scalar.npy", npy_bytes(np.float32(1.5)))
    out("corpus", "npy", "empty.npy", npy_bytes(np.zeros((0, 4), np.float32)))
    shutil.copy(os.path.join(ROOT, "zoo/digits_dscnn/sample.npy"),
                os.path.join(HERE, "corpus/npy/sample.npy"))
    h = npy_bytes(np.zeros((1,), np.float32)).replace(b"(1,)", b"(4611686018427387904, 4)")
    out("regressions", "npy", "shape_overflows.npy", h)
    h = npy_bytes(np.zeros((2, 2), np.float32))
    out("regressions", "npy", "truncated_data.npy", h[:-3])


def npz_bytes(members, compressed):
    b = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(b, "w", mode) as z:
        for k, v in members.items():
            z.writestr(k + ".npy", npy_bytes(v))
    return b.getvalue()


def npz_seeds():
    m = {"conv1": (np.arange(18) % 2).astype(np.int8).reshape(2, 9),
         "fc.weight": np.ones((3, 4), np.float32)}
    out("corpus", "npz", "stored.npz", npz_bytes(m, False))
    out("corpus", "npz", "deflated.npz", npz_bytes(m, True))
    # A deflated member that claims to inflate to 2^32 - 1 bytes from a few bytes.
    z = bytearray(npz_bytes({"conv1": np.zeros((4, 4), np.int8)}, True))
    cd = z.rfind(b"PK\x01\x02")
    z[cd + 24:cd + 28] = (0xFFFFFFFF).to_bytes(4, "little")
    out("regressions", "npz", "declared_size_impossible.npz", bytes(z))
    out("regressions", "npz", "name_not_utf8.npz",
        npz_bytes({"conv\udcff".encode("utf-8", "surrogateescape").decode("latin-1"):
                   np.ones(2, np.int8)}, False).replace(b"conv\xc3\xbf", b"conv\xff\xff"))


def json_seeds():
    shutil.copy(os.path.join(ROOT, "zoo/hsi_unet/compress_recipe.json"),
                os.path.join(HERE, "corpus/recipe/hsi_compress.json"))
    rec = {"rules": [{"match": "*", "scheme": "magnitude", "sparsity": 0.5},
                     {"match": "conv*", "scheme": "nm", "n": 2, "m": 4, "seed": 3},
                     {"match": "fc", "skip": True}]}
    out("corpus", "recipe", "rules.json", json.dumps(rec).encode())
    out("regressions", "recipe", "number_1e400.json",
        b'{"rules": [{"match": "*", "scheme": "magnitude", "sparsity": 1e400}]}')
    out("regressions", "recipe", "nested_deep.json", b'{"rules": ' + b"[" * 1000 + b"]" * 1000
        + b"}")
    for f in ["raman65.json", "k26.json"]:
        shutil.copy(os.path.join(ROOT, "sim/power/data", f),
                    os.path.join(HERE, "corpus/tech", f))
    t = json.load(open(os.path.join(ROOT, "sim/power/data/raman65.json")))
    raw = json.dumps(t).encode()
    out("regressions", "tech", "number_1e400.json", raw.replace(b'"node_nm": ', b'"node_nm": 1e400, "x": ', 1))
    out("corpus", "config", "raman.json",
        b'{"pe_count": 32, "clock_hz": 2e8, "gating": false, "tile": [2, 8], "mode": "analytical"}'
        b"\0pe_count=64\nclock_hz=1e8\ntimeout_s=inf\nlanes=16")
    out("corpus", "config", "sets_only.txt", b"\0gating=1\ntile=4,4\ntech=k26\nmode=cycle")
    out("regressions", "config", "huge_int.json", b'{"pe_count": 1e300}')
    out("regressions", "config", "nested_deep.json", b"[" * 1000 + b"]" * 1000)


def lgn_fix_crcs(b):
    """Recomputes both CRCs of a .lgn (header over bytes 0..35, body from byte 40 to the end)."""
    b = bytearray(b)
    b[36:40] = struct.pack("<I", zlib.crc32(bytes(b[:36])))
    b[-4:] = struct.pack("<I", zlib.crc32(bytes(b[40:-4])))
    return bytes(b)


def lgn_hostile():
    """Hostile .lgn files, each derived from the committed seed corpus/lgn/tiny_1x20.lgn (written
    by `prunesim lgn train`; the seeds are made by that command, see tests/fuzz/README.md) with
    valid CRCs, so each is refused by the rule it stands for and not by a checksum."""
    with open(os.path.join(HERE, "corpus", "lgn", "tiny_1x20.lgn"), "rb") as f:
        base = f.read()
    inputs, features, gates, outputs = struct.unpack_from("<IIII", base, 8)
    body = 40
    for _ in range(features):  # the encoder: a count then that many float32 thresholds
        (k,) = struct.unpack_from("<I", base, body)
        first_threshold, body = body + 4, body + 4 + 4 * k
    first_gate = body

    def patched(offset, fmt, value):
        b = bytearray(base)
        struct.pack_into(fmt, b, offset, value)
        return lgn_fix_crcs(b)

    out("regressions", "lgn", "gate_reads_later_signal.lgn",
        patched(first_gate, "<I", inputs + 5))
    out("regressions", "lgn", "gate_count_beyond_file.lgn", patched(16, "<I", 0xFFFFFFFF))
    out("regressions", "lgn", "threshold_nan.lgn", patched(first_threshold, "<f", float("nan")))
    out("regressions", "lgn", "classes_zero.lgn", patched(24, "<I", 0))
    out("regressions", "lgn", "output_signal_out_of_range.lgn",
        patched(first_gate + 12 * gates, "<I", inputs + gates + 1000))
    out("regressions", "lgn", "truncated.lgn", base[: len(base) // 2])
    bad_crc = bytearray(base)
    bad_crc[first_gate + 8] ^= 0x40  # a gate's truth table, CRC left as it was
    out("regressions", "lgn", "crc_mismatch.lgn", bytes(bad_crc))


def main():
    # Files are overwritten, never removed: regressions/ also holds the fuzzers' findings, which
    # no generator here can make again.
    for kind in ["corpus", "regressions"]:
        for t in ["onnx", "npy", "npz", "recipe", "config", "tech", "lgn"]:
            os.makedirs(os.path.join(HERE, kind, t), exist_ok=True)
    onnx_seeds()
    onnx_hostile()
    npy_seeds()
    npz_seeds()
    json_seeds()
    lgn_hostile()


if __name__ == "__main__":
    main()
