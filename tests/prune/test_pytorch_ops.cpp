// The ops PyTorch's exporter emits for real networks (issue 12): Pad, ReduceMean/Max/Sum,
// broadcasting Mul/Sub/Div, HardSigmoid/HardSwish and x * f(x), shape arithmetic folded at
// import, Slice/Split/Squeeze/Unsqueeze/Gather, unfolded BatchNormalization. Float against
// hand-computed values, int8 against float within quantization error, int8 Mul bit-exact against
// the documented rule, and a .pwt round trip of every new layer kind.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "common/onnx_builder.h"
#include "hls/datapath.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace prunesim {
namespace {

using testing::ModelBuilder;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

Tensor seq(Shape s) {  // 1, 2, 3, ...
  Tensor t(std::move(s));
  for (size_t k = 0; k < t.f.size(); ++k) t.f[k] = static_cast<float>(k + 1);
  return t;
}

Tensor normal(Shape s, uint32_t seed, float sd = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sd);
  Tensor t(std::move(s));
  for (auto& v : t.f) v = d(rng);
  return t;
}

void expect_values(const Tensor& y, const Shape& shape, const std::vector<float>& want) {
  EXPECT_EQ(y.shape, shape);
  ASSERT_EQ(y.f.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_FLOAT_EQ(y.f[k], want[k]) << "element " << k;
}

// Quantizes on 48 samples, evaluates 8 others: worst |int8 - float| in output steps (outputs
// beyond the calibrated range excluded: they saturate by design). Then the .pwt round trip
// must give the same codes.
struct Int8Check {
  double max_lsb = 0;
  QuantizedModel q;
};
Int8Check int8_vs_float(const Graph& g, Shape sample, uint32_t seed = 5) {
  Shape cs = sample, es = sample;
  cs[0] = 48;
  es[0] = 8;
  Int8Check c;
  c.q = quantize(g, normal(cs, seed));
  const Tensor x = normal(es, seed + 1, 0.9f);
  const Tensor yf = run_float(g, x);
  const Int8Result r = run_int8(c.q, x);
  EXPECT_EQ(r.output_float.shape, yf.shape);
  for (size_t k = 0; k < yf.f.size(); ++k) {
    if (std::fabs(yf.f[k]) > 127.5 * r.output_scale) continue;
    c.max_lsb = std::max(
        c.max_lsb, std::fabs(static_cast<double>(yf.f[k]) - r.output_float.f[k]) / r.output_scale);
  }
  // .pwt: the new kinds and their fields survive the file.
  const std::string bytes = table_bytes(c.q, {}, {}, TableOptions{}, "t.pwt");
  TableSummary s;
  const QuantizedModel back = parse_tables(bytes, "t.pwt", &s);
  EXPECT_EQ(back.layers.size(), c.q.layers.size());
  for (size_t k = 0; k < back.layers.size() && k < c.q.layers.size(); ++k) {
    EXPECT_EQ(back.layers[k].kind, c.q.layers[k].kind);
    EXPECT_EQ(back.layers[k].fused, c.q.layers[k].fused);
    EXPECT_EQ(back.layers[k].lut, c.q.layers[k].lut);
    EXPECT_EQ(back.layers[k].weight, c.q.layers[k].weight);
  }
  EXPECT_EQ(run_int8(back, x).output_int8.i, r.output_int8.i);
  return c;
}

bool has_kind(const QuantizedModel& q, QLayer::Kind k) {
  for (const auto& L : q.layers)
    if (L.kind == k) return true;
  return false;
}

// ------------------------------------------------------------------ Pad

TEST(PytorchOps, PadConstantReflectEdgeAndCrop) {
  struct Case {
    std::string mode;
    std::vector<int64_t> pads;
    Shape out;
    std::vector<float> want;
  };
  // x = [[1, 2, 3], [4, 5, 6]] as [1, 1, 2, 3]; numpy.pad gives the expectations.
  const std::vector<Case> cases = {
      {"constant", {0, 0, 0, 2, 0, 0, 0, 1}, {1, 1, 2, 6}, {9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9}},
      {"reflect", {0, 0, 0, 2, 0, 0, 0, 1}, {1, 1, 2, 6}, {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}},
      {"edge", {0, 0, 0, 2, 0, 0, 0, 1}, {1, 1, 2, 6}, {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6}},
      {"reflect", {0, 0, 1, 0, 0, 0, 0, 0}, {1, 1, 3, 3}, {4, 5, 6, 1, 2, 3, 4, 5, 6}},
      {"constant", {0, 0, 0, -1, 0, 0, 0, 0}, {1, 1, 2, 2}, {2, 3, 5, 6}},
  };
  for (const auto& c : cases) {
    ModelBuilder b(13);
    b.input("x", {1, 1, 2, 3});
    b.init_i64("pads", {8}, c.pads);
    b.init("v", {}, {9.f});
    ModelBuilder::attr_s(b.node("Pad", {"x", "pads", "v"}, {"y"}, "pad"), "mode", c.mode);
    b.output("y");
    const Graph g = b.graph();
    SCOPED_TRACE(c.mode);
    expect_values(run_float(g, seq({1, 1, 2, 3})), c.out, c.want);
  }
  // Opset < 11: pads and value are attributes.
  ModelBuilder b(10);
  b.input("x", {1, 1, 2, 3});
  auto* n = b.node("Pad", {"x"}, {"y"}, "pad");
  ModelBuilder::attr(n, "pads", std::vector<int64_t>{0, 0, 0, 2, 0, 0, 0, 1});
  ModelBuilder::attr_f(n, "value", 9.f);
  b.output("y");
  expect_values(run_float(b.graph(), seq({1, 1, 2, 3})), {1, 1, 2, 6},
                {9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9});
}

TEST(PytorchOps, PadBadModeAndPadsAreOneLineErrors) {
  ModelBuilder b(13);
  b.input("x", {1, 1, 2, 3});
  b.init_i64("pads", {8}, {0, 0, 0, 2, 0, 0, 0, 1});
  ModelBuilder::attr_s(b.node("Pad", {"x", "pads"}, {"y"}, "p0"), "mode", "wrap");
  b.output("y");
  std::string m = error_of([&] { b.graph(); });
  EXPECT_NE(m.find("test.onnx: node 'p0' (Pad): mode 'wrap'"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  ModelBuilder c(13);
  c.input("x", {1, 1, 2, 3});
  c.init_i64("pads", {4}, {0, 2, 0, 1});
  c.node("Pad", {"x", "pads"}, {"y"}, "p1");
  c.output("y");
  m = error_of([&] { c.graph(); });
  EXPECT_NE(m.find("node 'p1' (Pad): pads has 4 values, rank 4 needs 8"), std::string::npos) << m;
  ModelBuilder d(13);
  d.input("x", {1, 1, 2, 3});
  d.init_i64("pads", {8}, {0, 0, 0, 3, 0, 0, 0, 0});
  ModelBuilder::attr_s(d.node("Pad", {"x", "pads"}, {"y"}, "p2"), "mode", "reflect");
  d.output("y");
  m = error_of([&] { d.graph(); });
  EXPECT_NE(m.find("node 'p2' (Pad): reflect pads must be smaller"), std::string::npos) << m;
}

TEST(PytorchOps, PadInt8MovesCodesAndFillsWithTheValueCode) {
  for (const std::string mode : {"constant", "reflect", "edge"}) {
    ModelBuilder b(13);
    b.input("x", {1, 2, 5});
    b.init_i64("pads", {6}, {0, 0, 2, 0, 0, 1});
    b.init("v", {}, {0.5f});
    ModelBuilder::attr_s(b.node("Pad", {"x", "pads", "v"}, {"y"}, "pad"), "mode", mode);
    b.output("y");
    const Graph g = b.graph();
    const Int8Check c = int8_vs_float(g, {1, 2, 5});
    SCOPED_TRACE(mode);
    // Codes are moved, so the only error is the input rounding (half a step) and, for the
    // constant fill, the rounding of 0.5 to the input grid.
    EXPECT_LE(c.max_lsb, 0.5 + 1e-6);
    EXPECT_EQ(c.q.layers.at(0).kind, QLayer::Kind::Move);
  }
}

// ------------------------------------------------------------------ Reduce*

TEST(PytorchOps, ReduceMeanMaxSumAxesKeepdimsAndGlobal) {
  // x = [[1, 2, 3], [4, 5, 6]] as [1, 2, 3].
  auto run = [](const std::string& op, std::vector<int64_t> axes, int keep, bool axes_input) {
    ModelBuilder b(13);
    b.input("x", {1, 2, 3});
    std::vector<std::string> in = {"x"};
    if (axes_input) {
      b.init_i64("axes", {static_cast<int64_t>(axes.size())}, axes);
      in.push_back("axes");
    }
    auto* n = b.node(op, in, {"y"}, "r");
    if (!axes_input && !axes.empty()) ModelBuilder::attr(n, "axes", axes);
    ModelBuilder::attr(n, "keepdims", int64_t{keep});
    b.output("y");
    return run_float(b.graph(), seq({1, 2, 3}));
  };
  expect_values(run("ReduceMean", {2}, 1, false), {1, 2, 1}, {2, 5});
  expect_values(run("ReduceMean", {-1}, 0, false), {1, 2}, {2, 5});
  expect_values(run("ReduceMax", {1}, 0, false), {1, 3}, {4, 5, 6});
  expect_values(run("ReduceSum", {-1}, 1, true), {1, 2, 1}, {6, 15});  // axes input, opset 13
  expect_values(run("ReduceSum", {}, 0, true), {}, {21});              // empty axes: all
  expect_values(run("ReduceMean", {}, 0, false), {}, {3.5f});          // global
  expect_values(run("ReduceMax", {1, 2}, 1, false), {1, 1, 1}, {6});
}

TEST(PytorchOps, ReduceInt8WithinOneStepAndMaxIsExact) {
  for (const std::string op : {"ReduceMean", "ReduceSum", "ReduceMax"}) {
    ModelBuilder b(13);
    b.input("x", {1, 4, 3, 5});
    std::vector<std::string> in = {"x"};
    if (op == "ReduceSum") {
      b.init_i64("axes", {2}, {2, 3});
      in.push_back("axes");
    }
    auto* n = b.node(op, in, {"y"}, "r");
    if (op != "ReduceSum") ModelBuilder::attr(n, "axes", std::vector<int64_t>{2, 3});
    ModelBuilder::attr(n, "keepdims", int64_t{0});
    b.output("y");
    const Int8Check c = int8_vs_float(b.graph(), {1, 4, 3, 5});
    SCOPED_TRACE(op);
    if (op == "ReduceMax") {
      EXPECT_TRUE(has_kind(c.q, QLayer::Kind::ReduceMax));
      EXPECT_LE(c.max_lsb, 0.5 + 1e-6);  // a selected input code: the input rounding only
    } else {
      EXPECT_TRUE(has_kind(c.q, QLayer::Kind::ReduceSum));
      // One requantization (0.5 step) plus 15 input roundings averaged (mean) or summed at a
      // coarser output step (sum): within 1.5 steps.
      EXPECT_LE(c.max_lsb, 1.5);
    }
  }
}

// ------------------------------------------------------------------ element-wise

TEST(PytorchOps, SqueezeExciteMulBroadcastsActivations) {
  // x * Sigmoid(GlobalAveragePool(x)): [1, C, H, W] x [1, C, 1, 1], both activations.
  ModelBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.node("GlobalAveragePool", {"x"}, {"p"}, "gap");
  b.node("HardSigmoid", {"p"}, {"s"}, "hs");
  b.node("Mul", {"x", "s"}, {"y"}, "gate");
  b.output("y");
  const Graph g = b.graph();
  const Tensor x = normal({1, 3, 4, 4}, 3);
  const Tensor y = run_float(g, x);
  for (int c = 0; c < 3; ++c) {
    double m = 0;
    for (int k = 0; k < 16; ++k) m += x.f[static_cast<size_t>(c * 16 + k)];
    const float s = std::max(0.f, std::min(1.f, 0.2f * static_cast<float>(m / 16) + 0.5f));
    for (int k = 0; k < 16; ++k)
      EXPECT_NEAR(y.f[static_cast<size_t>(c * 16 + k)], x.f[static_cast<size_t>(c * 16 + k)] * s,
                  1e-6);
  }
  const Int8Check c = int8_vs_float(g, {1, 3, 4, 4});
  EXPECT_TRUE(has_kind(c.q, QLayer::Kind::Mul));
  EXPECT_LE(c.max_lsb, 2.0);
}

TEST(PytorchOps, Int8MulIsBitExactAgainstTheDocumentedRule) {
  // Two activations from one input, multiplied.
  ModelBuilder m(13);
  m.input("x", {1, 2, 6});
  m.init("w", {2, 2, 1}, {0.7f, -0.4f, 0.2f, 0.9f});
  m.node("Conv", {"x", "w"}, {"a"}, "conv");
  m.node("Mul", {"a", "x"}, {"y"}, "mul");
  m.output("y");
  const Graph g = m.graph();
  const QuantizedModel q = quantize(g, normal({32, 2, 6}, 1));
  const QLayer* mul = nullptr;
  for (const auto& L : q.layers)
    if (L.kind == QLayer::Kind::Mul) mul = &L;
  ASSERT_NE(mul, nullptr);
  std::map<std::string, std::vector<int8_t>> codes;
  const Tensor x = normal({1, 2, 6}, 2);
  std::vector<int8_t> xin;
  for (float v : x.f) xin.push_back(hls::quantize_value(v, q.input_scale));
  codes["x"] = xin;
  run_int8(q, x, [&](const QLayer& L, const std::vector<int8_t>& c, const Shape&) {
    codes[L.output] = c;
  });
  // §11: out = sat8(round_half_away(a_q * b_q * M / 2^shift)), computed here independently.
  const auto& a = codes.at("a");
  const auto& xx = codes.at("x");
  const auto& y = codes.at("y");
  const int64_t M = mul->requant[0].multiplier;
  const int sh = mul->requant[0].shift;
  const double real = static_cast<double>(q.scales.at("a")) * q.scales.at("x") / q.scales.at("y");
  EXPECT_NEAR(static_cast<double>(M) / std::ldexp(1.0, sh), real, real * 1e-9);
  for (size_t k = 0; k < y.size(); ++k) {
    const int64_t p = static_cast<int64_t>(a[k]) * xx[k] * M;
    const int64_t half = int64_t{1} << (sh - 1);
    const int64_t r = p >= 0 ? (p + half) >> sh : -((-p + half) >> sh);
    EXPECT_EQ(y[k], static_cast<int8_t>(std::max<int64_t>(-128, std::min<int64_t>(127, r))))
        << "element " << k;
  }
}

TEST(PytorchOps, SubAndDivByConstantInInt8DivByActivationRefused) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 8});
  b.init("k", {1, 3, 1}, {2.f, -4.f, 0.5f});
  b.init("w", {3, 3, 1}, {0.5f, 0.1f, -0.3f, 0.2f, 0.8f, 0.1f, -0.6f, 0.3f, 0.4f});
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Sub", {"x", "c"}, {"d"}, "sub");
  b.node("Div", {"d", "k"}, {"y"}, "div");
  b.output("y");
  const Graph g = b.graph();
  const Tensor y = run_float(g, seq({1, 3, 8}));
  EXPECT_EQ(y.shape, (Shape{1, 3, 8}));
  const Int8Check c = int8_vs_float(g, {1, 3, 8});
  EXPECT_TRUE(has_kind(c.q, QLayer::Kind::Sub));
  EXPECT_TRUE(has_kind(c.q, QLayer::Kind::Mul));
  EXPECT_LE(c.max_lsb, 2.5);

  ModelBuilder d(13);
  d.input("x", {1, 3, 8});
  d.node("Relu", {"x"}, {"r"}, "relu");
  d.node("Div", {"x", "r"}, {"y"}, "div");
  d.output("y");
  const std::string m = error_of([&] { quantize(d.graph(), normal({4, 3, 8}, 1)); });
  EXPECT_NE(m.find("node 'div' (Div): division by an activation"), std::string::npos) << m;
}

TEST(PytorchOps, HardSigmoidHardSwishAndFusedSiluTables) {
  // Float values against the ONNX formulas.
  ModelBuilder f(14);
  f.input("x", {1, 5});
  f.node("HardSwish", {"x"}, {"y"}, "hsw");
  f.output("y");
  Tensor x({1, 5}, {-4.f, -1.5f, 0.f, 1.5f, 4.f});
  expect_values(run_float(f.graph(), x), {1, 5}, {0.f, -0.375f, 0.f, 1.125f, 4.f});

  // x * HardSigmoid(x) (hard swish before opset 14) and x * Sigmoid(x) (SiLU): one table each.
  for (const std::string act : {"HardSigmoid", "Sigmoid"}) {
    ModelBuilder b(13);
    b.input("x", {1, 4, 6});
    b.init("w", {4, 4, 1}, testing::ramp(16, 3));
    b.node("Conv", {"x", "w"}, {"c"}, "conv");
    auto* n = b.node(act, {"c"}, {"s"}, "act");
    if (act == "HardSigmoid") ModelBuilder::attr_f(n, "alpha", 1.f / 6.f);
    b.node("Mul", {"c", "s"}, {"y"}, "mul");
    b.output("y");
    const Int8Check c = int8_vs_float(b.graph(), {1, 4, 6});
    SCOPED_TRACE(act);
    ASSERT_EQ(c.q.layers.size(), 2u);  // Conv, Lut(+Mul)
    EXPECT_EQ(c.q.layers[1].kind, QLayer::Kind::Lut);
    EXPECT_EQ(c.q.layers[1].fused, std::vector<std::string>{"mul"});
    // The table maps the code of c to the code of c * f(c): rounding of c (propagated through
    // the slope of x f(x), at most about 1.1) plus the output rounding.
    EXPECT_LE(c.max_lsb, 2.0);
  }
  // HardSwish as its own op, and HardSigmoid alone.
  for (const std::string act : {"HardSwish", "HardSigmoid"}) {
    ModelBuilder b(14);
    b.input("x", {1, 4, 6});
    b.node(act, {"x"}, {"y"}, "act");
    b.output("y");
    const Int8Check c = int8_vs_float(b.graph(), {1, 4, 6});
    SCOPED_TRACE(act);
    EXPECT_EQ(c.q.layers.at(0).kind, QLayer::Kind::Lut);
    EXPECT_LE(c.max_lsb, 1.5);
  }
}

// ------------------------------------------------------------------ shape arithmetic

TEST(PytorchOps, ShapeArithmeticFoldsAtImportShuffleNetChunk) {
  // ShuffleNet's x.chunk(2, dim=1): Slice bounds from Shape -> Gather -> Add -> Div -> Mul (integer
  // division: (5 + 1) / 2 = 3), then the channel shuffle Reshape -> Transpose -> Reshape whose
  // target comes from Shape -> Gather -> Unsqueeze -> Concat.
  ModelBuilder b(13);
  b.input("x", {1, 6, 2});
  b.init_i64("one", {1}, {1});
  b.init_i64("two", {1}, {2});
  b.init_i64("zero", {1}, {0});
  b.node("Shape", {"x"}, {"shp"}, "shape");
  b.node("Gather", {"shp", "one"}, {"c"}, "gather");  // [6]
  b.node("Add", {"c", "one"}, {"c1"}, "add");         // 7
  b.node("Div", {"c1", "two"}, {"h"}, "div");         // 3 (integer)
  b.node("Mul", {"h", "one"}, {"e0"}, "mul");
  b.node("Slice", {"x", "zero", "e0", "one"}, {"lo"}, "slice_lo");
  b.node("Mul", {"h", "two"}, {"e1"}, "mul2");
  b.node("Slice", {"x", "e0", "e1", "one"}, {"hi"}, "slice_hi");
  ModelBuilder::attr(b.node("Concat", {"hi", "lo"}, {"cat"}, "cat"), "axis", int64_t{1});
  ModelBuilder::attr(b.node("Concat", {"two", "h", "two"}, {"t5"}, "t5"), "axis", int64_t{0});
  b.init_i64("b1", {1}, {1});
  ModelBuilder::attr(b.node("Concat", {"b1", "t5"}, {"tgt"}, "tgt"), "axis", int64_t{0});
  b.node("Reshape", {"cat", "tgt"}, {"r"}, "reshape");  // [1, 2, 3, 2]
  ModelBuilder::attr(b.node("Transpose", {"r"}, {"t"}, "transpose"), "perm",
                     std::vector<int64_t>{0, 2, 1, 3});
  b.init_i64("flat", {3}, {1, -1, 2});
  b.node("Reshape", {"t", "flat"}, {"y"}, "reshape2");
  b.output("y");
  const Graph g = b.graph();
  // Integer semantics: (6 + 1) / 2 = 3, so the slice bounds are 3 and 6 (float division would
  // give 3.5 and 7).
  ASSERT_TRUE(g.is_const("e0") && g.is_const("e1"));
  EXPECT_EQ(g.init("e0").i, std::vector<int64_t>{3});
  EXPECT_EQ(g.init("e1").i, std::vector<int64_t>{6});
  EXPECT_EQ(g.init("e1").dtype, DType::I64);
  for (const Node& n : g.nodes) {
    EXPECT_NE(n.op, "Shape");
    EXPECT_NE(n.op, "Gather");
    EXPECT_NE(n.op, "Div");
  }
  // x rows (channels) 1..6: cat = channels [3 4 5 0 1 2], shuffled = [3 0 4 1 5 2].
  const Tensor y = run_float(g, seq({1, 6, 2}));
  expect_values(y, {1, 6, 2}, {7, 8, 1, 2, 9, 10, 3, 4, 11, 12, 5, 6});
  const Int8Check c = int8_vs_float(g, {1, 6, 2});
  EXPECT_LE(c.max_lsb, 0.5 + 1e-6);  // moves only
}

TEST(PytorchOps, ConstantOfShapeRangeCastUnsqueezeFold) {
  ModelBuilder b(13);
  b.input("x", {1, 4});
  b.init_i64("s", {2}, {1, 4});
  b.node("ConstantOfShape", {"s"}, {"z"}, "cos");  // float zeros [1, 4]
  b.init_i64("r0", {}, {0});
  b.init_i64("r1", {}, {8});
  b.init_i64("r2", {}, {2});
  b.node("Range", {"r0", "r1", "r2"}, {"rg"}, "range");  // [0, 2, 4, 6]
  ModelBuilder::attr(b.node("Cast", {"rg"}, {"rf"}, "cast"), "to", int64_t{1});
  b.init_i64("ax", {1}, {0});
  b.node("Unsqueeze", {"rf", "ax"}, {"ru"}, "unsq");  // [1, 4]
  b.node("Add", {"z", "ru"}, {"k"}, "addk");
  b.node("Add", {"x", "k"}, {"y"}, "add");
  b.output("y");
  const Graph g = b.graph();
  ASSERT_EQ(g.nodes.size(), 1u);  // only the Add of the input is left
  expect_values(run_float(g, seq({1, 4})), {1, 4}, {1, 4, 7, 10});
}

TEST(PytorchOps, SliceSqueezeUnsqueezeGatherSplit) {
  ModelBuilder b(13);
  b.input("x", {1, 4, 3});
  b.init_i64("st", {1}, {-1});
  b.init_i64("en", {1}, {-100});  // clamps to before the start: reversed whole axis
  b.init_i64("ax", {1}, {1});
  b.init_i64("sp", {1}, {-2});
  b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"s"}, "slice");  // channels 3, 1
  b.init_i64("idx", {}, {2});
  ModelBuilder::attr(b.node("Gather", {"s", "idx"}, {"gt"}, "gather"), "axis", int64_t{2});
  b.init_i64("a0", {1}, {0});
  b.node("Squeeze", {"gt", "a0"}, {"sq"}, "squeeze");  // [2]
  b.node("Unsqueeze", {"sq", "a0"}, {"y0"}, "unsq");   // [1, 2]
  b.init_i64("lens", {2}, {1, 2});
  ModelBuilder::attr(b.node("Split", {"x", "lens"}, {"p", "q"}, "split"), "axis", int64_t{2});
  b.node("ReduceSum", {"q", "ax"}, {"qs"}, "rs");  // [1, 1, 2]
  b.output("y0");
  b.output("qs");
  Graph g = b.graph();
  for (const Node& n : g.nodes) EXPECT_NE(n.op, "Split");  // rewritten into Slices
  TensorMap in;
  in["x"] = seq({1, 4, 3});
  const TensorMap out = run_float(g, in);
  // x[0, [3, 1], 2] = 12, 6.
  expect_values(out.at("y0"), {1, 2}, {12, 6});
  // sum over channels of x[..., 1:3]: (2+5+8+11, 3+6+9+12).
  expect_values(out.at("qs"), {1, 1, 2}, {26, 30});
}

// ------------------------------------------------------------------ Resize linear

TEST(PytorchOps, ResizeLinearCoordinateModesAndInt8) {
  struct Case {
    std::string ct;
    std::vector<float> want;  // [1, 3] upsampled x2 along W
  };
  const std::vector<Case> cases = {
      {"half_pixel", {1.f, 1.5f, 2.5f, 3.f}},  // (o + 0.5) / 2 - 0.5, clamped to [0, 1]
      {"asymmetric", {1.f, 2.f, 3.f, 3.f}},
      {"align_corners", {1.f, 5.f / 3.f, 7.f / 3.f, 3.f}},
      {"pytorch_half_pixel", {1.f, 1.5f, 2.5f, 3.f}},
  };
  for (const auto& c : cases) {
    ModelBuilder b(13);
    b.input("x", {1, 1, 1, 2});
    b.init("scales", {4}, {1.f, 1.f, 1.f, 2.f});
    auto* n = b.node("Resize", {"x", "", "scales"}, {"y"}, "up");
    ModelBuilder::attr_s(n, "mode", "linear");
    ModelBuilder::attr_s(n, "coordinate_transformation_mode", c.ct);
    b.output("y");
    SCOPED_TRACE(c.ct);
    Tensor x({1, 1, 1, 2}, {1.f, 3.f});
    const Tensor y = run_float(b.graph(), x);
    EXPECT_EQ(y.shape, (Shape{1, 1, 1, 4}));
    for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(y.f[k], c.want[k], 1e-6) << k;
  }
  // Bilinear 2-D up (x2) and down (x0.6) in int8: a weighted sum of codes rounded back to the
  // input scale, so input rounding (0.5 step) + output rounding (0.5) + the 10-bit weights.
  for (float sc : {2.f, 0.6f}) {
    ModelBuilder b(13);
    b.input("x", {1, 2, 5, 5});
    b.init("scales", {4}, {1.f, 1.f, sc, sc});
    ModelBuilder::attr_s(b.node("Resize", {"x", "", "scales"}, {"y"}, "rs"), "mode", "linear");
    b.output("y");
    const Int8Check c = int8_vs_float(b.graph(), {1, 2, 5, 5});
    SCOPED_TRACE(sc);
    EXPECT_EQ(c.q.layers.at(0).kind, QLayer::Kind::ResizeLinear);
    EXPECT_LE(c.max_lsb, 1.0 + 128.0 / 2048);
  }
  ModelBuilder b(13);
  b.input("x", {1, 2, 5, 5});
  b.init("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  ModelBuilder::attr_s(b.node("Resize", {"x", "", "scales"}, {"y"}, "rs"), "mode", "cubic");
  b.output("y");
  const std::string m = error_of([&] { b.graph(); });
  EXPECT_NE(m.find("node 'rs' (Resize): mode 'cubic' is not supported"), std::string::npos) << m;
}

// ------------------------------------------------------------------ BatchNormalization, errors

TEST(PytorchOps, UnfoldedBatchNormRunsInInt8AsDepthwiseConv) {
  // DenseNet: BatchNormalization after a Concat cannot be folded into a Conv at import.
  ModelBuilder b(13);
  b.input("x", {1, 2, 5, 5});
  b.init("w", {2, 2, 1, 1}, {0.5f, -0.2f, 0.3f, 0.9f});
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  ModelBuilder::attr(b.node("Concat", {"x", "c"}, {"cat"}, "cat"), "axis", int64_t{1});
  b.init("g", {4}, {1.5f, 0.5f, 2.f, 1.f});
  b.init("be", {4}, {0.1f, -0.2f, 0.f, 0.3f});
  b.init("mu", {4}, {0.2f, 0.f, -0.1f, 0.05f});
  b.init("var", {4}, {1.f, 0.25f, 2.f, 0.5f});
  b.node("BatchNormalization", {"cat", "g", "be", "mu", "var"}, {"bn"}, "bn");
  b.node("Relu", {"bn"}, {"y"}, "relu");
  b.output("y");
  const Graph g = b.graph();
  bool kept = false;
  for (const Node& n : g.nodes) kept = kept || n.op == "BatchNormalization";
  EXPECT_TRUE(kept);
  const Int8Check c = int8_vs_float(g, {1, 2, 5, 5});
  const QLayer& last = c.q.layers.back();
  EXPECT_EQ(last.name, "bn");
  EXPECT_EQ(last.kind, QLayer::Kind::Conv);
  EXPECT_EQ(last.fused, std::vector<std::string>{"relu"});
  EXPECT_LE(c.max_lsb, 2.0);
}

TEST(PytorchOps, UnsupportedOpsNameTheNodeAndSuggestAForm) {
  ModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("ReduceL2", {"x"}, {"y"}, "norm");
  b.output("y");
  std::string m = error_of([&] { b.graph(); });
  EXPECT_NE(m.find("test.onnx: node 'norm' (ReduceL2): op 'ReduceL2' is not supported"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ReduceSum"), std::string::npos) << m;  // the suggestion
  EXPECT_EQ(m.find('\n'), std::string::npos);
  // Shape arithmetic that cannot fold: ConstantOfShape of an activation-derived value.
  ModelBuilder c(13);
  c.input("x", {1, 4});
  ModelBuilder::attr(c.node("Cast", {"x"}, {"y"}, "tocast"), "to", int64_t{7});
  c.output("y");
  m = error_of([&] { c.graph(); });
  EXPECT_NE(m.find("node 'tocast' (Cast): Cast of an activation to an integer type"),
            std::string::npos)
      << m;
}

TEST(PytorchOps, TablesOfNewKindsAreVersion2AndOldKindsStay1) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.init("w", {3, 3, 1, 1}, testing::ramp(9, 2));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"y"}, "relu");
  b.output("y");
  const QuantizedModel q1 = quantize(b.graph(), normal({8, 3, 4, 4}, 1));
  TableSummary s1;
  parse_tables(table_bytes(q1, {}, {}, TableOptions{}, "a.pwt"), "a.pwt", &s1);
  EXPECT_EQ(s1.version, 1);

  ModelBuilder m(13);
  m.input("x", {1, 3, 4, 4});
  m.init_i64("ax", {2}, {2, 3});
  m.node("ReduceSum", {"x", "ax"}, {"y"}, "rs");
  m.output("y");
  const QuantizedModel q2 = quantize(m.graph(), normal({8, 3, 4, 4}, 1));
  std::string bytes = table_bytes(q2, {}, {}, TableOptions{}, "b.pwt");
  TableSummary s2;
  parse_tables(bytes, "b.pwt", &s2);
  EXPECT_EQ(s2.version, 2);
}

// ------------------------------------------------------------------ transformer ops (ConvNeXt)

// PyTorch's opset-13 LayerNorm over the last axis: ReduceMean, Sub, Pow 2, ReduceMean, Add eps,
// Sqrt, Div, Mul gamma, Add beta, after a Conv so the int8 input is an activation.
Graph layernorm_graph(bool decomposed, int64_t c, int64_t w) {
  ModelBuilder b(decomposed ? 13 : 17);
  b.input("x", {1, c, w});
  b.init("cw", {c, c, 1}, testing::ramp(static_cast<size_t>(c * c), 3));
  b.node("Conv", {"x", "cw"}, {"v"}, "conv");
  std::vector<float> gamma(static_cast<size_t>(w)), beta(static_cast<size_t>(w));
  for (size_t k = 0; k < gamma.size(); ++k) {
    gamma[k] = 0.5f + 0.1f * static_cast<float>(k);
    beta[k] = 0.2f - 0.05f * static_cast<float>(k);
  }
  b.init("gamma", {w}, gamma);
  b.init("beta", {w}, beta);
  if (!decomposed) {
    auto* n = b.node("LayerNormalization", {"v", "gamma", "beta"}, {"y"}, "ln");
    ModelBuilder::attr(n, "axis", int64_t{-1});
    ModelBuilder::attr_f(n, "epsilon", 1e-6f);
  } else {
    b.init("two", {}, {2.f});
    b.init("eps", {}, {1e-6f});
    ModelBuilder::attr(b.node("ReduceMean", {"v"}, {"m"}, "mean"), "axes",
                       std::vector<int64_t>{-1});
    b.node("Sub", {"v", "m"}, {"d"}, "sub");
    b.node("Pow", {"d", "two"}, {"d2"}, "pow");
    ModelBuilder::attr(b.node("ReduceMean", {"d2"}, {"var"}, "mean2"), "axes",
                       std::vector<int64_t>{-1});
    b.node("Add", {"var", "eps"}, {"ve"}, "add_eps");
    b.node("Sqrt", {"ve"}, {"sd"}, "sqrt");
    b.node("Div", {"d", "sd"}, {"nrm"}, "div");
    b.node("Mul", {"nrm", "gamma"}, {"sc"}, "mul_gamma");
    b.node("Add", {"sc", "beta"}, {"y"}, "add_beta");
  }
  b.output("y");
  return b.graph();
}

TEST(TransformerOps, DecomposedLayerNormFusesAndMatchesTheFormula) {
  const Graph g = layernorm_graph(true, 3, 8);
  ASSERT_EQ(g.nodes.size(), 2u);  // Conv, LayerNormalization
  EXPECT_EQ(g.nodes[1].op, "LayerNormalization");
  EXPECT_EQ(g.nodes[1].name, "mean");
  EXPECT_FLOAT_EQ(g.nodes[1].attr_f("epsilon", 0.f), 1e-6f);
  const Tensor x = normal({2, 3, 8}, 11);
  const Tensor y = run_float(g, x);
  // Against the textbook formula in double on the Conv output.
  Graph conv_only = g;
  conv_only.nodes.resize(1);
  conv_only.outputs[0].name = "v";
  const Tensor v = run_float(conv_only, x);
  for (int64_t r = 0; r < 6; ++r) {
    double m = 0, var = 0;
    for (int64_t i = 0; i < 8; ++i) m += v.f[static_cast<size_t>(r * 8 + i)] / 8.0;
    for (int64_t i = 0; i < 8; ++i) {
      const double d = v.f[static_cast<size_t>(r * 8 + i)] - m;
      var += d * d / 8.0;
    }
    for (int64_t i = 0; i < 8; ++i) {
      const double want =
          (v.f[static_cast<size_t>(r * 8 + i)] - m) / std::sqrt(var + 1e-6) * (0.5 + 0.1 * i) +
          (0.2 - 0.05 * i);
      EXPECT_NEAR(y.f[static_cast<size_t>(r * 8 + i)], want, 1e-5) << r << "," << i;
    }
  }
  // The opset-17 op gives the same values.
  const Tensor y17 = run_float(layernorm_graph(false, 3, 8), x);
  for (size_t k = 0; k < y.f.size(); ++k) EXPECT_FLOAT_EQ(y17.f[k], y.f[k]);
}

TEST(TransformerOps, LayerNormInt8FollowsTheIntegerRule) {
  // The kernel on quantization.md's example: n = 4, codes {10, 20, 30, 40}, E = 0, gamma code
  // 16, no beta, requantized by 2^-12: z = -5496, -1832, 1832, 5496, acc / 2^12 rounded.
  const int8_t x[4] = {10, 20, 30, 40}, w[4] = {16, 16, 16, 16};
  const int32_t bias[4] = {0, 0, 0, 0};
  hls::Requant rq[4];
  for (auto& r : rq) r = {1 << 30, 42};
  int8_t y[4];
  hls::layernorm8(4, x, w, bias, rq, 0, hls::kInt8Min, hls::kInt8Max, y);
  EXPECT_EQ(std::vector<int8_t>(y, y + 4), (std::vector<int8_t>{-21, -7, 7, 21}));
  EXPECT_EQ(hls::isqrt64(2000u * 65536u), 11448u);
  EXPECT_EQ(hls::isqrt64(0), 0u);
  EXPECT_EQ(hls::isqrt64((uint64_t{1} << 62) - 1), (uint64_t{1} << 31) - 1);

  // Whole models: within a few output steps of float, the fast executor code for code, .pwt.
  for (bool decomposed : {true, false}) {
    SCOPED_TRACE(decomposed ? "decomposed" : "opset 17");
    const Graph g = layernorm_graph(decomposed, 4, 16);
    const Int8Check c = int8_vs_float(g, {1, 4, 16});
    ASSERT_EQ(c.q.layers.size(), 2u);
    EXPECT_EQ(c.q.layers[1].kind, QLayer::Kind::LayerNorm);
    EXPECT_LE(c.max_lsb, 3.0);
    const Tensor x = normal({3, 4, 16}, 21);
    EXPECT_EQ(run_int8_fast(c.q, x).output_int8.i, run_int8(c.q, x).output_int8.i);
  }
}

TEST(TransformerOps, ErfGeluFusesIntoOneTable) {
  // PyTorch's GELU: x / sqrt2 -> Erf -> + 1 -> x * . -> * 0.5, and the (x * 0.5) * (1 + erf)
  // order.
  for (int form = 0; form < 2; ++form) {
    SCOPED_TRACE(form);
    ModelBuilder b(13);
    b.input("x", {1, 4, 6});
    b.init("w", {4, 4, 1}, testing::ramp(16, 3));
    b.node("Conv", {"x", "w"}, {"c"}, "conv");
    b.init("sqrt2", {}, {1.4142135f});
    b.init("one", {}, {1.f});
    b.init("half", {}, {0.5f});
    b.node("Div", {"c", "sqrt2"}, {"s"}, "div");
    b.node("Erf", {"s"}, {"e"}, "erf");
    b.node("Add", {"e", "one"}, {"e1"}, "add");
    if (form == 0) {
      b.node("Mul", {"c", "e1"}, {"m"}, "mul");
      b.node("Mul", {"m", "half"}, {"y"}, "mul_half");
    } else {
      b.node("Mul", {"c", "half"}, {"h"}, "mul_half");
      b.node("Mul", {"h", "e1"}, {"y"}, "mul");
    }
    b.output("y");
    const Graph g = b.graph();
    ASSERT_EQ(g.nodes.size(), 2u);
    EXPECT_EQ(g.nodes[1].op, "Gelu");
    Graph conv_only = g;
    conv_only.nodes.resize(1);
    conv_only.outputs[0].name = "c";
    const Tensor x = normal({2, 4, 6}, 3);
    const Tensor v = run_float(conv_only, x), y = run_float(g, x);
    for (size_t k = 0; k < y.f.size(); ++k)
      EXPECT_NEAR(y.f[k], 0.5 * v.f[k] * (1 + std::erf(v.f[k] / std::sqrt(2.0))), 1e-6);
    const Int8Check c = int8_vs_float(g, {1, 4, 6});
    ASSERT_EQ(c.q.layers.size(), 2u);
    EXPECT_EQ(c.q.layers[1].kind, QLayer::Kind::Lut);
    // The Conv output's rounding (through GELU's slope, at most 1.13, and s_c / s_out > 1 when
    // the negative side is the larger) plus the table's output rounding.
    EXPECT_LE(c.max_lsb, 2.0);
  }
}

TEST(TransformerOps, UnfusedErfAndPowRunInFloatAndAreRefusedInInt8) {
  for (const std::string op : {"Erf", "Pow"}) {
    SCOPED_TRACE(op);
    ModelBuilder b(13);
    b.input("x", {1, 5});
    b.init("three", {}, {3.f});
    if (op == "Erf")
      b.node("Erf", {"x"}, {"y"}, "lonely");
    else
      b.node("Pow", {"x", "three"}, {"y"}, "lonely");
    b.output("y");
    const Graph g = b.graph();
    const Tensor x({1, 5}, {-1.f, -0.5f, 0.f, 0.5f, 2.f});
    const Tensor y = run_float(g, x);
    for (size_t k = 0; k < 5; ++k)
      EXPECT_FLOAT_EQ(y.f[k], op == "Erf" ? std::erf(x.f[k]) : x.f[k] * x.f[k] * x.f[k]);
    const std::string e = error_of([&] { quantize(g, x); });
    EXPECT_NE(e.find("node 'lonely' (" + op + "): op '" + op + "' has no int8 implementation"),
              std::string::npos)
        << e;
  }
}

TEST(TransformerOps, ClassTokenShapeArithmeticFoldsAndConcatTakesAConstant) {
  // ViT's class token: Expand(token, Where(Equal(shape, ConstantOfShape * -1), ones, shape)),
  // all constants once shapes are fixed, then Concat with the patch tokens.
  ModelBuilder b(13);
  b.input("x", {1, 2, 3});
  b.init("w", {3, 3}, testing::ramp(9, 4));
  b.node("MatMul", {"x", "w"}, {"t"}, "proj");
  b.init_i64("shape", {3}, {1, -1, -1});
  b.init_i64("three", {1}, {3});
  b.init_i64("minus1", {}, {-1});
  b.init("token", {1, 1, 3}, {0.5f, -1.f, 2.f});
  auto* cs = b.node("ConstantOfShape", {"three"}, {"ones"}, "cos");
  {
    auto* a = cs->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_int64_data(1);
  }
  b.node("Mul", {"ones", "minus1"}, {"neg"}, "mul");
  b.node("Equal", {"shape", "neg"}, {"eq"}, "eq");
  b.node("Where", {"eq", "ones", "shape"}, {"sel"}, "where");
  b.node("Expand", {"token", "sel"}, {"tok"}, "expand");
  ModelBuilder::attr(b.node("Concat", {"tok", "t"}, {"y"}, "cat"), "axis", int64_t{1});
  b.output("y");
  const Graph g = b.graph();
  ASSERT_EQ(g.nodes.size(), 2u);  // MatMul, Concat: the rest folded
  EXPECT_EQ(g.nodes[1].op, "Concat");
  EXPECT_EQ(g.init(g.nodes[1].inputs[0]).shape, (Shape{1, 1, 3}));
  const Tensor x = normal({1, 2, 3}, 8);
  const Tensor y = run_float(g, x);
  ASSERT_EQ(y.shape, (Shape{1, 3, 3}));
  EXPECT_EQ(std::vector<float>(y.f.begin(), y.f.begin() + 3),
            (std::vector<float>{0.5f, -1.f, 2.f}));
  // int8: the token is the layer's weight at the output scale.
  const Int8Check c = int8_vs_float(g, {1, 2, 3});
  ASSERT_EQ(c.q.layers.size(), 2u);
  const QLayer& L = c.q.layers[1];
  EXPECT_EQ(L.kind, QLayer::Kind::Concat);
  EXPECT_EQ(L.const_operand, 0);
  ASSERT_EQ(L.weight.size(), 3u);
  const float s = c.q.scales.at("y");
  EXPECT_EQ(L.weight[2], hls::quantize_value(2.f, s));
  EXPECT_LE(c.max_lsb, 1.0);
  // Equal on an activation is refused naming the node.
  ModelBuilder b2(13);
  b2.input("x", {1, 3});
  b2.node("Equal", {"x", "x"}, {"y"}, "live_eq");
  b2.output("y");
  const std::string e = error_of([&] { b2.graph(); });
  EXPECT_NE(e.find("node 'live_eq' (Equal)"), std::string::npos) << e;
}

TEST(TransformerOps, AttentionMatMulOfTwoActivationsInt8) {
  // The kernel: [[1, 2], [3, 4]] x [[5, 6], [7, 8]], requantized by 1.
  const int8_t a[4] = {1, 2, 3, 4}, bm[4] = {5, 6, 7, 8};
  int8_t y[4];
  hls::matmul8(2, 2, 2, a, bm, hls::Requant{1 << 30, 30}, hls::kInt8Min, hls::kInt8Max, y);
  EXPECT_EQ(std::vector<int8_t>(y, y + 4), (std::vector<int8_t>{19, 22, 43, 50}));
  // softmax(q k^T) v on [1, 4, 6] tokens, then a broadcast batch: [1, 2, 4, 6] x [1, 6, 4].
  ModelBuilder b(13);
  b.input("x", {1, 4, 6});
  b.init("wq", {6, 6}, testing::ramp(36, 5));
  b.init("wk", {6, 6}, testing::ramp(36, 6));
  b.init("wv", {6, 6}, testing::ramp(36, 7));
  b.node("MatMul", {"x", "wq"}, {"q"}, "q");
  b.node("MatMul", {"x", "wk"}, {"k"}, "k");
  b.node("MatMul", {"x", "wv"}, {"v"}, "v");
  ModelBuilder::attr(b.node("Transpose", {"k"}, {"kt"}, "kt"), "perm",
                     std::vector<int64_t>{0, 2, 1});
  b.node("MatMul", {"q", "kt"}, {"s"}, "qk");
  ModelBuilder::attr(b.node("Softmax", {"s"}, {"p"}, "softmax"), "axis", int64_t{-1});
  b.node("MatMul", {"p", "v"}, {"o"}, "pv");
  b.init_i64("shape4", {4}, {1, 1, 4, 6});
  b.node("Reshape", {"o", "shape4"}, {"o4"}, "r4");
  ModelBuilder::attr(b.node("Concat", {"o4", "o4"}, {"oo"}, "stack"), "axis", int64_t{1});
  b.node("MatMul", {"oo", "kt"}, {"y"}, "bcast");
  b.output("y");
  const Graph g = b.graph();
  const Int8Check c = int8_vs_float(g, {1, 4, 6});
  int act = 0;
  for (const auto& L : c.q.layers) act += L.kind == QLayer::Kind::MatMulAct;
  EXPECT_EQ(act, 3);
  // The transformer kinds need weight-table version 3.
  TableSummary ts;
  parse_tables(table_bytes(c.q, {}, {}, TableOptions{}, "t.pwt"), "t.pwt", &ts);
  EXPECT_EQ(ts.version, 3);
  // Roundings compound through three products and a softmax: a few output steps (6.6 measured).
  EXPECT_LE(c.max_lsb, 8.0);
  const Tensor x = normal({3, 4, 6}, 9);
  EXPECT_EQ(run_int8_fast(c.q, x).output_int8.i, run_int8(c.q, x).output_int8.i);
}

TEST(TransformerOps, SwinMaskArithmeticFolds) {
  // Mod (Python's sign rule, and fmod), Not, ScatterND of constants become initializers; an
  // empty slice of a shape concatenated into a Reshape target folds too.
  for (int fmod = 0; fmod < 2; ++fmod) {
    ModelBuilder b(13);
    b.input("x", {1, 3});
    b.init_i64("a", {3}, {-7, 7, 5});
    b.init_i64("m", {1}, {3});
    auto* n = b.node("Mod", {"a", "m"}, {"r"}, "mod");
    if (fmod) ModelBuilder::attr(n, "fmod", int64_t{1});
    b.node("Add", {"x", "r"}, {"y"}, "add");
    b.output("y");
    const Graph g = b.graph();
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.init(g.nodes[0].inputs[1]).i,
              fmod ? (std::vector<int64_t>{-1, 1, 2}) : (std::vector<int64_t>{2, 1, 2}));
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.init_i64("c", {4}, {1, 0, 1, 0});
    b.init("one", {1}, {1.f});
    b.init("zero", {1}, {0.f});
    ModelBuilder::attr(b.node("Cast", {"c"}, {"cb"}, "cast"), "to", int64_t{9});  // bool
    b.node("Not", {"cb"}, {"nc"}, "not");
    b.node("Where", {"nc", "one", "zero"}, {"w"}, "where");
    b.init("data", {4}, {0.f, 0.f, 0.f, 0.f});
    b.init_i64("idx", {2, 1}, {1, 3});
    b.init("upd", {2}, {5.f, 6.f});
    b.node("ScatterND", {"data", "idx", "upd"}, {"sc"}, "scatter");
    b.node("Add", {"w", "sc"}, {"k"}, "addk");
    b.node("Add", {"x", "k"}, {"y"}, "add");
    b.output("y");
    const Graph g = b.graph();
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.init(g.nodes[0].inputs[1]).f, (std::vector<float>{0.f, 6.f, 0.f, 7.f}));
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 6});
    b.node("Shape", {"x"}, {"s"}, "shape");
    b.init_i64("st", {1}, {2});
    b.init_i64("en", {1}, {2});
    b.node("Slice", {"s", "st", "en"}, {"none"}, "slice");
    b.init_i64("hw", {2}, {2, 3});
    ModelBuilder::attr(b.node("Concat", {"hw", "none"}, {"t"}, "cat"), "axis", int64_t{0});
    b.node("Reshape", {"x", "t"}, {"y"}, "reshape");
    b.output("y");
    const Graph g = b.graph();
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.shape("y"), (Shape{2, 3}));
  }
}

}  // namespace
}  // namespace prunesim
