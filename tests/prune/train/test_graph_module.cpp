// The IR -> libtorch translator against the float reference executor (the ground truth): every
// op of the table on hand-built graphs at batch 3, the zoo at batch > 1, Debian's
// libonnx-testdata, gradients against finite differences of run_float, hooks and write-back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>

#include "../../../prune/src/op_table.h"  // supported_ops(): the table the translator must cover
#include "graph_module.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "train/finetune.h"

namespace fs = std::filesystem;
using namespace prunesim;
using prunesim::train::from_torch;
using prunesim::train::GraphModule;
using prunesim::train::to_torch;

namespace {

fs::path zoo(const std::string& rel) {
  return fs::path(PRUNESIM_SOURCE_DIR) / "zoo" / rel;
}

// Element-wise |a - b| <= atol + rtol |b| (NaN matching NaN, equal infinities). Returns "" or
// the first offending element.
std::string mismatch(const Tensor& got, const Tensor& want, double atol, double rtol) {
  if (got.shape != want.shape && !(numel(got.shape) == numel(want.shape) && want.shape.empty()))
    return "shape " + shape_str(got.shape) + " != " + shape_str(want.shape);
  for (size_t i = 0; i < want.f.size(); ++i) {
    const double a = got.f[i], b = want.f[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (std::isinf(b) && a == b) continue;
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b)))
      return "element " + std::to_string(i) + ": got " + std::to_string(a) + ", want " +
             std::to_string(b);
  }
  return "";
}

Tensor first_n(const Tensor& x, int64_t n) {
  return from_torch(to_torch(x).narrow(0, 0, std::min<int64_t>(n, x.shape[0])));
}

Tensor random_tensor(const Shape& s, uint32_t seed, float lo = -2.f, float hi = 2.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(s);
  for (auto& v : t.f) v = u(rng);
  return t;
}

// ---------------------------------------------------------------- hand-built graphs

Attribute ai(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::INT;
  a.i = v;
  return a;
}
Attribute af(float v) {
  Attribute a;
  a.kind = Attribute::Kind::FLOAT;
  a.f = v;
  return a;
}
Attribute as(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::STRING;
  a.s = v;
  return a;
}
Attribute aints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::INTS;
  a.ints = std::move(v);
  return a;
}
Attribute afloats(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::FLOATS;
  a.floats = std::move(v);
  return a;
}

struct Builder {
  Graph g;
  uint32_t seed = 7;
  Builder(const Shape& x, int64_t opset = 13) {
    g.source = "synthetic";
    g.opset = opset;
    g.inputs.push_back({"x", x, DType::F32});
  }
  std::string init(const std::string& name, Tensor t) {
    g.initializers[name] = std::move(t);
    return name;
  }
  std::string weight(const std::string& name, const Shape& s, float lo = -1.f, float hi = 1.f) {
    return init(name, random_tensor(s, seed++, lo, hi));
  }
  std::string ints(const std::string& name, std::vector<int64_t> v) {
    return init(name, Tensor::ints({static_cast<int64_t>(v.size())}, std::move(v)));
  }
  std::string floats(const std::string& name, std::vector<float> v) {
    const int64_t n = static_cast<int64_t>(v.size());
    return init(name, Tensor({n}, std::move(v)));
  }
  std::string node(const std::string& op, std::vector<std::string> in,
                   std::map<std::string, Attribute> attrs = {}, const std::string& out = "") {
    Node n;
    n.op = op;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.inputs = std::move(in);
    n.outputs = {out.empty() ? n.name + "_out" : out};
    n.attrs = std::move(attrs);
    g.nodes.push_back(n);
    return n.outputs[0];
  }
  Graph done(const std::string& out) {
    g.outputs = {{out, {}, DType::F32}};
    infer_shapes(g);
    return g;
  }
};

struct Case {
  std::string name;
  Graph g;
  float lo = -2.f, hi = 2.f;  // input range (positive for Log, Sqrt, ...)
};

std::vector<Case> op_cases() {
  std::vector<Case> cs;
  auto add = [&](const std::string& name, Graph g, float lo = -2.f, float hi = 2.f) {
    cs.push_back({name, std::move(g), lo, hi});
  };
  {  // Conv: groups, asymmetric pads, strides, dilations, bias
    Builder b({1, 4, 9, 8});
    add("conv_group_asym_pads",
        b.done(b.node("Conv", {"x", b.weight("w", {6, 2, 3, 3}), b.weight("b", {6})},
                      {{"group", ai(2)},
                       {"pads", aints({1, 0, 2, 1})},
                       {"strides", aints({2, 1})},
                       {"dilations", aints({1, 2})}})));
  }
  for (const char* ap : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    Builder b({1, 3, 9, 10});
    add(std::string("conv_auto_pad_") + ap,
        b.done(b.node("Conv", {"x", b.weight("w", {5, 3, 4, 3})},
                      {{"auto_pad", as(ap)}, {"strides", aints({2, 3})}})));
  }
  {
    Builder b({1, 6, 7, 7});
    add("conv_depthwise",
        b.done(b.node("Conv", {"x", b.weight("w", {6, 1, 3, 3}), b.weight("b", {6})},
                      {{"group", ai(6)}, {"pads", aints({1, 1, 1, 1})}})));
  }
  {
    Builder b({1, 3, 20});
    add("conv_1d",
        b.done(
            b.node("Conv", {"x", b.weight("w", {4, 3, 5}), b.weight("b", {4})},
                   {{"pads", aints({2, 1})}, {"strides", aints({2})}, {"dilations", aints({2})}})));
  }
  {
    Builder b({1, 4, 5, 6});
    add("convtranspose_pads_output_padding",
        b.done(b.node("ConvTranspose", {"x", b.weight("w", {4, 3, 3, 3}), b.weight("b", {3})},
                      {{"strides", aints({2, 3})},
                       {"pads", aints({1, 0, 0, 2})},
                       {"output_padding", aints({1, 2})},
                       {"dilations", aints({1, 2})}})));
  }
  {
    Builder b({1, 2, 3, 3});
    add("convtranspose_output_shape",
        b.done(b.node("ConvTranspose", {"x", b.weight("w", {2, 2, 3, 3}), b.weight("b", {2})},
                      {{"strides", aints({3, 3})}, {"output_shape", aints({11, 8})}})));
  }
  {
    Builder b({1, 4, 9});
    add("convtranspose_1d_group_same_upper",
        b.done(
            b.node("ConvTranspose", {"x", b.weight("w", {4, 2, 4}), b.weight("b", {4})},
                   {{"group", ai(2)}, {"strides", aints({2})}, {"auto_pad", as("SAME_UPPER")}})));
  }
  {
    Builder b({1, 3, 4, 4});
    add("convtranspose_same_lower",
        b.done(b.node("ConvTranspose", {"x", b.weight("w", {3, 2, 3, 3})},
                      {{"strides", aints({2, 2})}, {"auto_pad", as("SAME_LOWER")}})));
  }
  {
    Builder b({1, 5});
    add("gemm_transB_alpha_beta",
        b.done(b.node("Gemm", {"x", b.weight("w", {4, 5}), b.weight("c", {4})},
                      {{"transB", ai(1)}, {"alpha", af(0.5f)}, {"beta", af(2.f)}})));
  }
  {
    Builder b({1, 5});
    add("gemm_plain_c2d",
        b.done(b.node("Gemm", {"x", b.weight("w", {5, 3}), b.weight("c", {1, 3})})));
  }
  {  // transA moves the batch out of dim 0: the per-sample path
    Builder b({1, 5});
    add("gemm_transA", b.done(b.node("Gemm", {"x", b.weight("w", {1, 3})}, {{"transA", ai(1)}})));
  }
  {
    Builder b({1, 3, 5});
    add("matmul_3d_2d", b.done(b.node("MatMul", {"x", b.weight("w", {5, 4})})));
  }
  {
    Builder b({1, 2, 3, 5});
    add("matmul_broadcast_batch", b.done(b.node("MatMul", {"x", b.weight("w", {2, 5, 4})})));
  }
  {
    Builder b({1, 5});
    add("matmul_1d_right", b.done(b.node("MatMul", {"x", b.weight("w", {5})})));
  }
  {
    Builder b({1, 3, 5});
    add("matmul_const_left", b.done(b.node("MatMul", {b.weight("w", {4, 3}), "x"})));
  }
  {
    Builder b({1, 3, 4});
    const std::string t = b.node("Transpose", {"x"}, {{"perm", aints({0, 2, 1})}});
    add("matmul_two_activations", b.done(b.node("MatMul", {"x", t})));
  }
  // element-wise unary
  struct U {
    const char* op;
    std::map<std::string, Attribute> attrs;
    float lo, hi;
  };
  const std::vector<U> unary = {
      {"Relu", {}, -2, 2},
      {"LeakyRelu", {{"alpha", af(0.3f)}}, -2, 2},
      {"LeakyRelu", {}, -2, 2},
      {"Sigmoid", {}, -6, 6},
      {"Tanh", {}, -3, 3},
      {"Abs", {}, -2, 2},
      {"Neg", {}, -2, 2},
      {"Exp", {}, -3, 3},
      {"Log", {}, 0.05f, 5},
      {"Sqrt", {}, 0.f, 5},
      {"Reciprocal", {}, 0.2f, 4},
      {"Elu", {{"alpha", af(0.7f)}}, -3, 3},
      {"Elu", {}, -3, 3},
      {"Selu", {}, -3, 3},
      {"Selu", {{"alpha", af(1.2f)}, {"gamma", af(0.8f)}}, -3, 3},
      {"HardSigmoid", {}, -4, 4},
      {"HardSigmoid", {{"alpha", af(0.3f)}, {"beta", af(0.4f)}}, -4, 4},
      {"Softplus", {}, -30, 30},
      {"Softsign", {}, -4, 4},
      {"Floor", {}, -4, 4},
      {"Ceil", {}, -4, 4},
      {"Identity", {}, -2, 2},
      {"Dropout", {{"ratio", af(0.5f)}}, -2, 2},
  };
  for (const auto& u : unary) {
    Builder b({1, 3, 4, 5});
    add(std::string("unary_") + u.op + (u.attrs.empty() ? "" : "_attrs"),
        b.done(b.node(u.op, {"x"}, u.attrs)), u.lo, u.hi);
  }
  {
    Builder b({1, 3, 4, 5});
    add("clip_inputs",
        b.done(b.node("Clip", {"x", b.floats("lo", {-0.5f}), b.floats("hi", {1.f})})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("clip_max_only", b.done(b.node("Clip", {"x", "", b.floats("hi", {0.25f})})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("clip_no_bounds", b.done(b.node("Clip", {"x"})));
  }
  {
    Builder b({1, 3, 4, 5}, 6);
    add("clip_attrs_opset6", b.done(b.node("Clip", {"x"}, {{"min", af(-1.f)}, {"max", af(0.5f)}})));
  }
  {  // a bound computed at run time from the data (constant per sample only)
    Builder b({1, 3, 4, 5});
    const std::string lo = b.node("Reshape", {b.node("Relu", {"x"}), b.ints("s", {-1})});
    add("clip_runtime_bound", b.done(b.node("Clip", {"x", lo})));
  }
  // binary, numpy broadcasting
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    for (int form = 0; form < 4; ++form) {
      Builder b({1, 3, 4, 5});
      std::string out;
      const float lo = std::string(op) == "Div" ? 0.5f : -1.f;
      if (form == 0) out = b.node(op, {"x", b.weight("c", {3, 1, 1}, lo, 2.f)});
      if (form == 1) out = b.node(op, {"x", b.weight("c", {5}, lo, 2.f)});
      if (form == 2) out = b.node(op, {b.weight("c", {1, 3, 1, 5}, lo, 2.f), "x"});
      if (form == 3) out = b.node(op, {"x", b.node("Sigmoid", {"x"})});
      add(std::string("binary_") + op + "_" + std::to_string(form), b.done(out));
    }
    {
      Builder b({1, 3, 4, 5});
      add(std::string("binary_") + op + "_scalar",
          b.done(b.node(op, {"x", b.init("c", Tensor({}, {1.5f}))})));
    }
    {  // opset < 7: B aligned at `axis` of A
      Builder b({1, 3, 4, 5}, 6);
      add(std::string("binary_") + op + "_legacy_axis",
          b.done(b.node(op, {"x", b.weight("c", {3, 4}, 0.5f, 2.f)},
                        {{"broadcast", ai(1)}, {"axis", ai(1)}})));
    }
    {
      Builder b({1, 3, 4, 5}, 6);
      add(std::string("binary_") + op + "_legacy_suffix",
          b.done(b.node(op, {"x", b.weight("c", {5}, 0.5f, 2.f)}, {{"broadcast", ai(1)}})));
    }
  }
  // pooling
  struct P {
    const char* name;
    Shape x;
    std::map<std::string, Attribute> attrs;
  };
  const std::vector<P> pools = {
      {"k3s2_ceil",
       {1, 2, 10, 9},
       {{"kernel_shape", aints({3, 3})}, {"strides", aints({2, 2})}, {"ceil_mode", ai(1)}}},
      {"asym_pads", {1, 2, 8, 9}, {{"kernel_shape", aints({3, 2})}, {"pads", aints({0, 1, 2, 0})}}},
      {"pads_ceil",
       {1, 2, 7, 8},
       {{"kernel_shape", aints({3, 3})},
        {"strides", aints({2, 3})},
        {"pads", aints({1, 1, 1, 0})},
        {"ceil_mode", ai(1)}}},
      {"same_upper",
       {1, 2, 7, 8},
       {{"kernel_shape", aints({3, 4})},
        {"strides", aints({2, 2})},
        {"auto_pad", as("SAME_UPPER")}}},
      {"same_lower",
       {1, 2, 7, 8},
       {{"kernel_shape", aints({3, 4})},
        {"strides", aints({2, 2})},
        {"auto_pad", as("SAME_LOWER")}}},
      {"dilated_ceil",
       {1, 2, 11, 10},
       {{"kernel_shape", aints({3, 2})},
        {"strides", aints({2, 2})},
        {"dilations", aints({2, 3})},
        {"pads", aints({1, 0, 1, 1})},
        {"ceil_mode", ai(1)}}},
      {"1d_ceil",
       {1, 3, 11},
       {{"kernel_shape", aints({3})},
        {"strides", aints({2})},
        {"pads", aints({1, 0})},
        {"ceil_mode", ai(1)}}},
      {"1d_dilated", {1, 3, 12}, {{"kernel_shape", aints({2})}, {"dilations", aints({3})}}},
  };
  for (const auto& pc : pools) {
    {
      Builder b(pc.x);
      add(std::string("maxpool_") + pc.name, b.done(b.node("MaxPool", {"x"}, pc.attrs)));
    }
    for (int inc = 0; inc < 2; ++inc) {
      auto attrs = pc.attrs;
      attrs["count_include_pad"] = ai(inc);
      Builder b(pc.x);
      add(std::string("avgpool_") + pc.name + (inc ? "_include_pad" : ""),
          b.done(b.node("AveragePool", {"x"}, attrs)));
    }
  }
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    for (const Shape& s : {Shape{1, 3, 5, 6}, Shape{1, 3, 7}, Shape{1, 2, 3, 4, 2}}) {
      Builder b(s);
      add(std::string(op) + "_rank" + std::to_string(s.size()), b.done(b.node(op, {"x"})));
    }
  }
  for (const Shape& s : {Shape{1, 3, 4, 5}, Shape{1, 3}}) {
    Builder b(s);
    add("batchnorm_rank" + std::to_string(s.size()),
        b.done(b.node("BatchNormalization",
                      {"x", b.weight("scale", {3}), b.weight("bias", {3}), b.weight("mean", {3}),
                       b.weight("var", {3}, 0.1f, 2.f)},
                      {{"epsilon", af(1e-3f)}})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("concat_const",
        b.done(b.node("Concat", {b.weight("c", {1, 2, 4, 5}), "x", b.node("Relu", {"x"})},
                      {{"axis", ai(1)}})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("concat_last_axis",
        b.done(b.node("Concat", {"x", b.node("Neg", {"x"})}, {{"axis", ai(-1)}})));
  }
  {  // axis 0 concatenates the batch: per sample
    Builder b({1, 3, 4});
    add("concat_axis0",
        b.done(b.node("Concat", {"x", b.weight("c", {2, 3, 4})}, {{"axis", ai(0)}})));
  }
  for (int64_t axis : {0, 1, 2, -1}) {
    Builder b({1, 3, 4, 5});
    add("flatten_axis" + std::to_string(axis),
        b.done(b.node("Flatten", {"x"}, {{"axis", ai(axis)}})));
  }
  const std::vector<std::vector<int64_t>> targets = {{1, -1}, {-1, 20}, {0, 12, 5}, {1, 3, 20},
                                                     {3, 20}, {-1},     {1, 60, 1}};
  for (const auto& t : targets) {
    Builder b({1, 3, 4, 5});
    std::string name = "reshape";
    for (auto d : t) name += "_" + std::to_string(d);
    add(name, b.done(b.node("Relu", {b.node("Reshape", {"x", b.ints("shape", t)})})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("transpose_keep_batch",
        b.done(b.node("Transpose", {"x"}, {{"perm", aints({0, 2, 3, 1})}})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("transpose_default", b.done(b.node("Transpose", {"x"})));
  }
  for (int64_t opset : {11, 13})
    for (int64_t axis : {-1, 0, 1, 2}) {
      Builder b({1, 3, 4, 5}, opset);
      add("softmax_opset" + std::to_string(opset) + "_axis" + std::to_string(axis),
          b.done(b.node("Softmax", {"x"}, {{"axis", ai(axis)}})), -4, 4);
    }
  {
    Builder b({1, 3, 4, 5}, 11);
    add("softmax_opset11_default", b.done(b.node("Softmax", {"x"})), -4, 4);
  }
  // Resize: every coordinate mode with every nearest mode, up and down, scales and sizes
  const char* cts[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                       "tf_half_pixel_for_nearest"};
  const char* nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  for (const char* ct : cts)
    for (const char* nm : nms) {
      for (int form = 0; form < 3; ++form) {
        Builder b({1, 2, 4, 6});
        std::map<std::string, Attribute> at = {{"mode", as("nearest")},
                                               {"coordinate_transformation_mode", as(ct)},
                                               {"nearest_mode", as(nm)}};
        std::string out;
        if (form == 0)
          out = b.node("Resize", {"x", "", b.floats("scales", {1.f, 1.f, 2.f, 1.5f})}, at);
        if (form == 1) out = b.node("Resize", {"x", "", "", b.ints("sizes", {1, 2, 7, 4})}, at);
        if (form == 2)
          out = b.node("Resize",
                       {"x", b.floats("roi", {}), b.floats("scales", {1.f, 1.f, 0.6f, 2.5f})}, at);
        add(std::string("resize_") + ct + "_" + nm + "_" + std::to_string(form), b.done(out));
      }
    }
  {
    Builder b({1, 2, 3, 4}, 10);
    add("resize_opset10", b.done(b.node("Resize", {"x", b.floats("scales", {1.f, 1.f, 2.f, 3.f})},
                                        {{"mode", as("nearest")}})));
  }
  {
    Builder b({1, 2, 3, 4}, 9);
    add("upsample_opset9",
        b.done(b.node("Upsample", {"x", b.floats("scales", {1.f, 1.f, 2.f, 1.5f})},
                      {{"mode", as("nearest")}})));
  }
  {
    Builder b({1, 2, 3, 4}, 7);
    add("upsample_opset7_attr",
        b.done(b.node("Upsample", {"x"}, {{"scales", afloats({1.f, 1.f, 3.f, 2.f})}})));
  }
  // The ops of PyTorch-exported networks (issue 12).
  {
    Builder b({1, 3, 5});
    add("hardswish", b.done(b.node("HardSwish", {"x"})), -5, 5);
  }
  // Transformer ops: what import fuses PyTorch's LayerNorm and GELU into, and their parts.
  {
    Builder b({1, 3, 5});
    add("erf", b.done(b.node("Erf", {"x"})), -3, 3);
  }
  {
    Builder b({1, 3, 5});
    add("gelu", b.done(b.node("Gelu", {"x"})), -4, 4);
  }
  {
    Builder b({1, 3, 5});
    add("pow_square", b.done(b.node("Pow", {"x", b.floats("two", {2.f})})), -3, 3);
  }
  {
    Builder b({1, 4, 6});
    add("layernorm_last_axis",
        b.done(b.node("LayerNormalization", {"x", b.weight("ln_w", {6}), b.weight("ln_b", {6})},
                      {{"epsilon", af(1e-5f)}})));
    Builder b2({1, 2, 3, 4});
    add("layernorm_axis1_no_bias",
        b2.done(
            b2.node("LayerNormalization", {"x", b2.weight("ln_w", {2, 3, 4})}, {{"axis", ai(1)}})));
  }
  for (const char* mode : {"constant", "reflect", "edge"}) {
    Builder b({1, 2, 4, 5});
    add(std::string("pad_") + mode,
        b.done(b.node("Pad",
                      {"x", b.ints("pads", {0, 0, 1, 2, 0, 0, 2, -1}), b.floats("v", {0.7f})},
                      {{"mode", as(mode)}})));
  }
  {
    Builder b({1, 2, 6}, 10);
    add("pad_opset10_attr",
        b.done(b.node("Pad", {"x"}, {{"pads", aints({0, 1, 2, 0, 0, 1})}, {"value", af(-1.5f)}})));
  }
  {
    Builder b({1, 3, 4, 5});
    add("reducemean_hw",
        b.done(b.node("ReduceMean", {"x"}, {{"axes", aints({2, 3})}, {"keepdims", ai(1)}})));
    add("reducemax_c_nokeep",
        b.done(b.node("ReduceMax", {"x"}, {{"axes", aints({1})}, {"keepdims", ai(0)}})));
    add("reducesum_axes_input", b.done(b.node("ReduceSum", {"x", b.ints("ax", {-1})})));
  }
  {  // a reduction over the batch axis: per sample
    Builder b({1, 3, 4});
    add("reducemean_all", b.done(b.node("ReduceMean", {"x"}, {{"keepdims", ai(1)}})));
  }
  {
    Builder b({1, 6, 5});
    add("slice_steps", b.done(b.node("Slice", {"x", b.ints("st", {-1, 1}), b.ints("en", {-100, 5}),
                                               b.ints("ax", {1, 2}), b.ints("sp", {-2, 2})})));
  }
  {
    Builder b({1, 4, 3});
    const std::string idx = b.init("idx", Tensor::ints({2, 2}, {3, 0, 1, 1}));
    add("gather_axis1_2d", b.done(b.node("Gather", {"x", idx}, {{"axis", ai(1)}})));
  }
  {
    Builder b({1, 4, 1, 3});
    const std::string sq = b.node("Squeeze", {"x", b.ints("a2", {2})});
    add("squeeze_unsqueeze", b.done(b.node("Unsqueeze", {sq, b.ints("a3", {3})})));
  }
  {
    Builder b({1, 4, 1, 3}, 11);
    const std::string sq = b.node("Squeeze", {"x"}, {{"axes", aints({2})}});
    add("squeeze_unsqueeze_opset11", b.done(b.node("Unsqueeze", {sq}, {{"axes", aints({1})}})));
  }
  {
    Builder b({1, 3, 4});
    add("cast_to_float", b.done(b.node("Cast", {"x"}, {{"to", ai(1)}})));
  }
  for (const char* ct : {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"}) {
    Builder b({1, 2, 4, 5});
    add(std::string("resize_linear_") + ct,
        b.done(b.node("Resize", {"x", "", b.floats("scales", {1.f, 1.f, 2.f, 0.6f})},
                      {{"mode", as("linear")}, {"coordinate_transformation_mode", as(ct)}})));
  }
  {  // squeeze-excite gating: both operands activations, [N, C, H, W] x [N, C, 1, 1]
    Builder b({1, 3, 4, 4});
    const std::string p = b.node("GlobalAveragePool", {"x"});
    const std::string s = b.node("HardSigmoid", {p}, {{"alpha", af(1.f / 6.f)}});
    add("mul_squeeze_excite", b.done(b.node("Mul", {"x", s})));
  }
  {  // the batch axis resized: per sample
    Builder b({1, 2, 3}, 13);
    add("resize_batch_axis",
        b.done(b.node("Resize", {"x", "", b.floats("scales", {2.f, 1.f, 1.f})},
                      {{"coordinate_transformation_mode", as("asymmetric")}})));
  }
  return cs;
}

torch::Tensor batch3(const Case& c) {
  Shape s = c.g.shape("x");
  s[0] = 3;
  return to_torch(random_tensor(s, 99, c.lo, c.hi));
}

}  // namespace

TEST(GraphModuleOps, EveryOpMatchesRunFloatAtBatch3) {
  int n = 0;
  for (const Case& c : op_cases()) {
    SCOPED_TRACE(c.name);
    GraphModule m(c.g);
    const torch::Tensor x = batch3(c);
    const Tensor want = run_float(c.g, from_torch(x));
    torch::Tensor y;
    ASSERT_NO_THROW(y = m.forward(x)) << c.name;
    EXPECT_EQ(mismatch(from_torch(y), want, 1e-5, 1e-4), "") << c.name;
    // batch 1 as declared, too
    const torch::Tensor x1 = x.narrow(0, 1, 1);
    EXPECT_EQ(mismatch(from_torch(m.forward(x1)), run_float(c.g, from_torch(x1)), 1e-5, 1e-4), "")
        << c.name << " at batch 1";
    ++n;
  }
  std::cout << n << " hand-built graphs\n";
}

TEST(GraphModuleOps, TheCasesCoverEveryOpOfTheTable) {
  std::set<std::string> covered;
  for (const Case& c : op_cases())
    for (const Node& n : c.g.nodes) covered.insert(n.op);
  for (const auto& op : supported_ops()) {
    if (op == "Constant") continue;  // folded into an initializer at import
    // Shape arithmetic is folded into constants and Split rewritten into Slices at import:
    // neither reaches a GraphModule.
    if (op == "Split" || find_op(op)->fold_only) continue;
    EXPECT_TRUE(covered.count(op)) << op << " has no hand-built case";
  }
}

TEST(GraphModuleOps, ForwardIsDifferentiableForEveryCase) {
  // Every case with parameters: backward of a generic loss reaches each of them.
  for (const Case& c : op_cases()) {
    GraphModule m(c.g);
    if (m.param_list().empty()) continue;
    SCOPED_TRACE(c.name);
    const torch::Tensor y = m.forward(batch3(c));
    (y * y).sum().backward();
    for (const auto& kv : m.params()) {
      ASSERT_TRUE(kv.second.grad().defined()) << kv.first;
      EXPECT_TRUE(torch::isfinite(kv.second.grad()).all().item<bool>()) << kv.first;
    }
  }
}

// The PyTorch-exported networks of the real suite (tests/real; files exported by its ctest
// fixture into build/tvmodels): the translation runs them at batch 2 as run_float does and
// gradients reach every weight, so `prunesim finetune` trains what `infer` runs.
TEST(GraphModuleReal, TorchvisionModelsMatchRunFloatAndBackpropagate) {
  int ran = 0;
  for (const char* name : {"mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x0_5",
                           "mnasnet0_5", "densenet121", "ae1d", "kws1d"}) {
    const fs::path dir = fs::path(PRUNESIM_BINARY_DIR) / "tvmodels";
    const fs::path onnx = dir / (std::string(name) + ".onnx");
    if (!fs::exists(onnx)) continue;
    SCOPED_TRACE(name);
    const Graph g = load_onnx(onnx.string());
    const Tensor x = first_n(load_npy_as_float((dir / (std::string(name) + "_x.npy")).string()), 2);
    GraphModule m(g);
    const torch::Tensor y = m.forward(to_torch(x));
    const Tensor want = run_float(g, x);
    double d = 0, mx = 0;
    const Tensor got = from_torch(y);
    ASSERT_EQ(got.shape, want.shape);
    for (size_t k = 0; k < want.f.size(); ++k) {
      d = std::max(d, std::fabs(static_cast<double>(got.f[k]) - want.f[k]));
      mx = std::max(mx, std::fabs(static_cast<double>(want.f[k])));
    }
    EXPECT_LE(d / mx, 1e-4) << "max |torch - run_float| / max |run_float|";
    (y * y).sum().backward();
    int nonzero = 0;
    for (const auto& kv : m.params()) {
      ASSERT_TRUE(kv.second.grad().defined()) << kv.first;
      EXPECT_TRUE(torch::isfinite(kv.second.grad()).all().item<bool>()) << kv.first;
      nonzero += kv.second.grad().abs().sum().item<double>() > 0;
    }
    // Every weight tensor but ReLU-dead corners gets a gradient; most must.
    EXPECT_GT(nonzero, static_cast<int>(m.params().size()) * 9 / 10);
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no exported models in build/tvmodels (ctest runs the exporter)";
}

TEST(GraphModule, RejectsInputsThatDoNotFit) {
  Builder b({1, 3, 4});
  const Graph g = b.done(b.node("Relu", {"x"}));
  GraphModule m(g);
  EXPECT_THROW(m.forward(torch::zeros({2, 3, 5})), InputError);
  EXPECT_THROW(m.forward(torch::zeros({3, 4})), InputError);
  EXPECT_NO_THROW(m.forward(torch::zeros({5, 3, 4})));
  Builder b2({2, 3});  // declared batch 2: only that batch
  GraphModule m2(b2.done(b2.node("Relu", {"x"})));
  EXPECT_THROW(m2.forward(torch::zeros({4, 3})), InputError);
  EXPECT_NO_THROW(m2.forward(torch::zeros({2, 3})));
}

TEST(GraphModule, TrainableInitializersAreWeightsNeverShapes) {
  Builder b({1, 3, 4, 4});
  std::string v = b.node("Conv", {"x", b.weight("cw", {4, 3, 3, 3}), b.weight("cb", {4})});
  v = b.node("BatchNormalization", {v, b.weight("bs", {4}), b.weight("bb", {4}),
                                    b.weight("bm", {4}), b.weight("bv", {4}, 0.5f, 1.f)});
  v = b.node("Clip", {v, b.floats("lo", {0.f}), b.floats("hi", {6.f})});
  v = b.node("Add", {v, b.weight("add_c", {4, 1, 1})});
  v = b.node("Mul", {v, b.weight("mul_c", {4, 1, 1})});
  v = b.node("Sub", {b.weight("sub_c", {1}), v});
  v = b.node("Resize", {v, "", b.floats("scales", {1.f, 1.f, 2.f, 2.f})});
  v = b.node("Reshape", {v, b.ints("shape", {1, -1})});
  v = b.node("Gemm", {v, b.weight("gw", {64, 5}), b.weight("gb", {5})});
  v = b.node("MatMul", {v, b.weight("mw", {5, 2})});
  const Graph g = b.done(v);
  const auto t = prunesim::train::trainable_initializers(g);
  EXPECT_EQ(std::set<std::string>(t.begin(), t.end()),
            (std::set<std::string>{"cw", "cb", "bs", "bb", "add_c", "sub_c", "gw", "gb", "mw"}));
  GraphModule m(g);
  EXPECT_EQ(m.params().size(), t.size());
  const torch::Tensor x = to_torch(random_tensor({4, 3, 4, 4}, 3));
  EXPECT_EQ(mismatch(from_torch(m.forward(x)), run_float(g, from_torch(x)), 1e-5, 1e-4), "");
  GraphModule frozen(g, {std::string()});
  EXPECT_TRUE(frozen.params().empty());
}

// ---------------------------------------------------------------- zoo

TEST(GraphModuleZoo, EveryModelMatchesRunFloatAtBatchAboveOne) {
  struct Z {
    const char* model;
    const char* data;
    int64_t n;
  };
  const std::vector<Z> zs = {{"ds_cae1/ds_cae1.onnx", "ds_cae1/eval.npy", 12},
                             {"ds_cae1/encoder.onnx", "ds_cae1/eval.npy", 12},
                             {"ds_cae1/decoder.onnx", "", 12},
                             {"digits_dscnn/digits_dscnn.onnx", "digits_dscnn/eval.npy", 40},
                             {"fmnist_dscnn/fmnist_dscnn.onnx", "fmnist_dscnn/eval.npy", 40},
                             {"hsi_unet/hsi_unet.onnx", "hsi_unet/calib.npy", 6},
                             {"hsi_unet/hsi_unet_pruned.onnx", "hsi_unet/calib.npy", 6}};
  for (const auto& z : zs) {
    SCOPED_TRACE(z.model);
    const Graph g = load_onnx(zoo(z.model).string());
    Tensor x;
    if (*z.data) {
      x = first_n(load_npy_as_float(zoo(z.data).string()), z.n);
    } else {  // the decoder's input is the encoder's latent
      const Graph enc = load_onnx(zoo("ds_cae1/encoder.onnx").string());
      x = run_float(enc, first_n(load_npy_as_float(zoo("ds_cae1/eval.npy").string()), z.n));
    }
    ASSERT_GT(x.shape[0], 1);
    const Tensor want = run_float(g, x);
    GraphModule m(g);
    EXPECT_FALSE(m.params().empty());
    torch::NoGradGuard ng;
    const Tensor got = from_torch(m.forward(to_torch(x)));
    ASSERT_EQ(got.shape, want.shape);
    double scale = 1.0, diff = 0.0;
    for (size_t k = 0; k < want.f.size(); ++k) {
      scale = std::max(scale, std::fabs(static_cast<double>(want.f[k])));
      diff = std::max(diff, std::fabs(static_cast<double>(got.f[k]) - want.f[k]));
    }
    EXPECT_LE(diff, 1e-4 * scale) << z.model << ": max |diff| " << diff << ", scale " << scale;
    std::cout << z.model << ": batch " << x.shape[0] << ", max |diff| " << diff << " (scale "
              << scale << ")\n";
  }
}

TEST(GraphModuleZoo, GradientsAreFiniteNonZeroAndMatchFiniteDifferences) {
  const Graph g = load_onnx(zoo("digits_dscnn/digits_dscnn.onnx").string());
  const Tensor x = first_n(load_npy_as_float(zoo("digits_dscnn/eval.npy").string()), 16);
  const Tensor labels =
      first_n(load_npy_as_float(zoo("digits_dscnn/eval_labels.npy").string()), 16);
  const torch::Tensor lab = to_torch(labels).to(torch::kLong);
  GraphModule m(g);
  ASSERT_FALSE(m.params().empty());
  const torch::Tensor loss = torch::nn::functional::cross_entropy(m.forward(to_torch(x)), lab);
  loss.backward();
  for (const auto& kv : m.params()) {
    const torch::Tensor gr = kv.second.grad();
    ASSERT_TRUE(gr.defined()) << kv.first;
    EXPECT_TRUE(torch::isfinite(gr).all().item<bool>()) << kv.first;
    EXPECT_GT(gr.abs().max().item<float>(), 0.f) << kv.first << ": all-zero gradient";
  }
  // Mean cross entropy of run_float's logits, in double.
  auto ce = [&](const Graph& gg) {
    const Tensor y = run_float(gg, x);
    const int64_t n = y.shape[0], c = y.shape[1];
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      double mx = -1e30, z = 0;
      for (int64_t j = 0; j < c; ++j)
        mx = std::max<double>(mx, y.f[static_cast<size_t>(i * c + j)]);
      for (int64_t j = 0; j < c; ++j) z += std::exp(y.f[static_cast<size_t>(i * c + j)] - mx);
      sum +=
          std::log(z) + mx -
          y.f[static_cast<size_t>(i * c + static_cast<int64_t>(labels.f[static_cast<size_t>(i)]))];
    }
    return sum / static_cast<double>(n);
  };
  const std::string w = prunesim::train::trainable_initializers(g)[0];  // the first conv's weight
  const torch::Tensor gw = m.params().at(w).grad().reshape({-1});
  int checked = 0;
  // The three largest gradient elements (the finite difference is then well above rounding).
  const auto top = std::get<1>(gw.abs().topk(3));
  for (int64_t t = 0; t < 3; ++t) {
    const int64_t e = top[t].item<int64_t>();
    const float eps = 1e-3f;
    Graph gp = g, gm = g;
    gp.initializers.at(w).f[static_cast<size_t>(e)] += eps;
    gm.initializers.at(w).f[static_cast<size_t>(e)] -= eps;
    const double fd = (ce(gp) - ce(gm)) / (2.0 * eps);
    const double an = gw[e].item<double>();
    EXPECT_NEAR(an, fd, 0.02 * std::fabs(fd) + 1e-3) << w << "[" << e << "]";
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(GraphModuleZoo, HooksSeeEveryActivationAndWeight) {
  const Graph g = load_onnx(zoo("fmnist_dscnn/fmnist_dscnn.onnx").string());
  const Tensor x = first_n(load_npy_as_float(zoo("fmnist_dscnn/eval.npy").string()), 4);
  GraphModule m(g);
  std::set<std::string> acts, weights;
  std::map<std::string, int> reads;
  m.act_hook = [&](const std::string& v, const torch::Tensor& t) {
    acts.insert(v);
    return v == g.inputs[0].name ? t * 2.f : t;  // the replacement is what flows on
  };
  const std::string zeroed = prunesim::train::trainable_initializers(g).back();
  m.weight_hook = [&](const std::string& w, const torch::Tensor& t) {
    weights.insert(w);
    ++reads[w];
    return w == zeroed ? torch::zeros_like(t) : t;
  };
  torch::NoGradGuard ng;
  const Tensor got = from_torch(m.forward(to_torch(x)));
  std::set<std::string> want_acts = {g.inputs[0].name}, want_weights;
  for (const Node& n : g.nodes) {
    for (const auto& o : n.outputs) want_acts.insert(o);
    for (const auto& i : n.inputs)
      if (g.is_const(i)) want_weights.insert(i);
  }
  EXPECT_EQ(acts, want_acts);
  EXPECT_EQ(weights, want_weights);
  for (const auto& kv : reads) EXPECT_EQ(kv.second, 1) << kv.first;
  // The same effect in the reference: input doubled, that initializer zero.
  Graph g2 = g;
  for (auto& v : g2.initializers.at(zeroed).f) v = 0.f;
  Tensor x2 = x;
  for (auto& v : x2.f) v *= 2.f;
  EXPECT_EQ(mismatch(got, run_float(g2, x2), 1e-4, 1e-4), "");
}

TEST(GraphModuleZoo, ToGraphWritesParametersBack) {
  const Graph g = load_onnx(zoo("digits_dscnn/digits_dscnn.onnx").string());
  const Tensor x = first_n(load_npy_as_float(zoo("digits_dscnn/eval.npy").string()), 8);
  GraphModule m(g);
  {
    torch::NoGradGuard ng;
    float k = 0.9f;
    for (auto& kv : m.params()) {
      kv.second.mul_(k).add_(0.01f);
      k += 0.01f;
    }
  }
  const Graph g2 = m.to_graph();
  ASSERT_EQ(g2.initializers.size(), g.initializers.size());
  for (const auto& kv : g.initializers) {
    const Tensor& t2 = g2.initializers.at(kv.first);
    EXPECT_EQ(t2.shape, kv.second.shape) << kv.first;
    EXPECT_EQ(t2.dtype, kv.second.dtype) << kv.first;
    if (m.params().count(kv.first)) {
      const Tensor p = from_torch(m.params().at(kv.first));
      EXPECT_EQ(t2.f, p.f) << kv.first;
      EXPECT_NE(t2.f, kv.second.f) << kv.first;
    } else {
      EXPECT_EQ(t2.f, kv.second.f) << kv.first;
    }
  }
  torch::NoGradGuard ng;
  const Tensor y = from_torch(m.forward(to_torch(x)));
  EXPECT_EQ(mismatch(y, run_float(g2, x), 1e-5, 1e-4), "");
  GraphModule m2(g2);
  EXPECT_EQ(mismatch(from_torch(m2.forward(to_torch(x))), y, 0, 0), "");
  EXPECT_EQ(m.graph().initializers.at(m.params().begin()->first).f,
            g.initializers.at(m.params().begin()->first).f)
      << "graph() is the original";
}

TEST(GraphModule, TensorConversionRoundTrips) {
  const Tensor t = random_tensor({2, 3, 4}, 5);
  EXPECT_EQ(from_torch(to_torch(t)).f, t.f);
  EXPECT_EQ(from_torch(to_torch(t)).shape, t.shape);
  const Tensor s({}, {2.5f});
  EXPECT_EQ(to_torch(s).dim(), 0);
  EXPECT_EQ(from_torch(to_torch(s)).f, s.f);
  const Tensor i = Tensor::ints({3}, {1, -2, 7});
  EXPECT_EQ(from_torch(to_torch(i)).f, (std::vector<float>{1.f, -2.f, 7.f}));
  const torch::Tensor nc = torch::arange(6, torch::kFloat32).reshape({2, 3}).t();  // not contiguous
  EXPECT_EQ(from_torch(nc).f, (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

// ---------------------------------------------------------------- libonnx-testdata

namespace {

const char* kRoot = "/usr/share/libonnx-testdata/data";

std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> r;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.rfind(prefix, 0) != 0) continue;
    const std::string num = e.path().stem().string().substr(prefix.size());
    r.emplace_back(num.empty() ? 0 : std::stoi(num), e.path());
  }
  std::sort(r.begin(), r.end());
  std::vector<fs::path> out;
  for (auto& p : r) out.push_back(p.second);
  return out;
}

struct Conf {
  int ran = 0, passed = 0, skipped = 0, batched = 0;
  std::vector<std::string> failures;
};

// One model: every data set through GraphModule, compared with output_*.pb. Inputs after the
// first are frozen to the data set's values (the module has one input), which also turns
// shape-like graph inputs into the constants the importer needs. Models the float executor
// cannot run are skipped: they are the other conformance test's business.
void run_model(const fs::path& dir, Conf& c) {
  auto skip = [&] { ++c.skipped; };
  try {
    load_onnx((dir / "model.onnx").string());
  } catch (const UnsupportedError& e) {
    const std::string why = e.what();
    if (why.find("must be a constant initializer") == std::string::npos &&
        why.find("graph input of type int64") == std::string::npos)
      return skip();
  } catch (const std::exception&) {
    return skip();
  }
  bool ran = false;
  for (const auto& ds : numbered(dir, "test_data_set_")) {
    const auto ins = numbered(ds, "input_"), outs = numbered(ds, "output_");
    if (outs.empty()) return skip();
    Graph g;
    Tensor x;
    std::vector<Tensor> expect;
    try {
      ImportOptions opt;
      for (size_t k = 1; k < ins.size(); ++k) opt.bind_inputs[k] = load_tensor_pb(ins[k].string());
      g = load_onnx((dir / "model.onnx").string(), opt);
      if (!ins.empty()) x = load_tensor_pb(ins[0].string());
      for (const auto& o : outs) expect.push_back(load_tensor_pb(o.string()));
    } catch (const std::exception&) {
      return skip();
    }
    // No input at all (test_constant): forward ignores its argument.
    if (g.inputs.size() != std::min<size_t>(ins.size(), 1) || !x.is_float()) return skip();
    for (const auto& e : expect)
      if (!e.is_float()) return skip();
    try {
      TensorMap feed;
      if (!g.inputs.empty()) feed[g.inputs[0].name] = x;
      run_float(g, feed);
    } catch (const std::exception&) {
      return skip();
    }
    if (!ran) ++c.ran;
    ran = true;
    const std::string id = dir.parent_path().filename().string() + "/" + dir.filename().string() +
                           "/" + ds.filename().string();
    try {
      for (size_t k = 0; k < expect.size() && k < g.outputs.size(); ++k) {
        Graph gk = g;  // forward returns the first output: one module per output
        gk.outputs = {g.outputs[k]};
        GraphModule m(gk);
        const torch::Tensor xt = g.inputs.empty() ? torch::Tensor() : to_torch(x);
        const std::string bad = mismatch(from_torch(m.forward(xt)), expect[k], 1e-5, 1e-4);
        if (!bad.empty()) {
          c.failures.push_back(id + " output " + std::to_string(k) + ": " + bad);
          return;
        }
      }
      // A batch of two distinct samples (the data and its reverse, which stays in the op's
      // domain) where run_float runs sample by sample: the batch rule or the per-sample path.
      if (!g.inputs.empty() && !g.inputs[0].shape.empty() && g.inputs[0].shape[0] == 1 &&
          x.shape[0] == 1) {
        Tensor x2 = x;
        x2.shape[0] = 2;
        x2.f.insert(x2.f.end(), x.f.rbegin(), x.f.rend());
        GraphModule m(g);
        const std::string bad =
            mismatch(from_torch(m.forward(to_torch(x2))), run_float(g, x2), 1e-5, 1e-4);
        if (!bad.empty()) {
          c.failures.push_back(id + " at batch 2: " + bad);
          return;
        }
        ++c.batched;
      }
    } catch (const std::exception& e) {
      c.failures.push_back(id + ": " + e.what());
      return;
    }
  }
  if (!ran) return skip();
  ++c.passed;
}

}  // namespace

TEST(GraphModuleConformance, LibonnxTestdata) {
  if (!fs::exists(kRoot)) GTEST_SKIP() << kRoot << " missing: install libonnx-testdata";
  torch::NoGradGuard ng;
  Conf c;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator"}) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(fs::path(kRoot) / suite))
      if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) run_model(d, c);
  }
  for (const auto& f : c.failures) std::cout << "FAIL " << f << "\n";
  std::cout << "GraphModule on libonnx-testdata: ran " << c.ran << " models, passed " << c.passed
            << ", failed " << c.failures.size() << ", skipped " << c.skipped << "; " << c.batched
            << " data sets also checked at batch 2\n";
  RecordProperty("ran", c.ran);
  RecordProperty("passed", c.passed);
  EXPECT_TRUE(c.failures.empty());
  EXPECT_GE(c.ran, 320);
}
