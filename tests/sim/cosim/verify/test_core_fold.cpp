// The whole-core RTL on folded layers (issue 12 part 2): conv, depthwise, Concat copy passes,
// global pooling and dense layers with more channels than 16 PEs x 8 accumulators, and residual
// Add, bit-exact with the integer reference and with the SystemC model's cycles; and the
// one-line refusal of what the RTL does not have (a folded balanced-LFSR layer, Mul, a channel
// copy); a channel Split's views run.
#include <gtest/gtest.h>

#include "common/onnx_builder.h"
#include "common/raman_cases.h"
#include "cosim/verify.h"
#include "prune/errors.h"

namespace prunesim::cosim {
namespace {

using testing::ModelBuilder;
using testing::ramp;

SimInput make_input(const Graph& g, const Tensor& calib, const Tensor& x, double sparsity,
                    const std::string& encoding) {
  test::PruneSpec p;
  if (sparsity > 0) p = {"magnitude", sparsity, encoding, "pattern"};
  p.encoding = encoding;
  return test::graph_case(g, calib, x, {"weight_mem_bytes=65536"}, p);
}

// conv 4->144 (2 passes), depthwise 144 (2), Concat of both (4 copy passes), global average pool
// of 288 channels (3), dense 288->130 (2): 13 layer descriptors.
Graph wide_net() {
  ModelBuilder b;
  b.input("x", {1, 4, 4, 4});
  b.init("w1", {144, 4, 3, 3}, ramp(144 * 36, 1));
  b.init("b1", {144}, ramp(144, 2));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init("w2", {144, 1, 3, 3}, ramp(144 * 9, 3));
  b.init("b2", {144}, ramp(144, 4));
  auto* c2 = b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "depthwise");
  ModelBuilder::attr(c2, "group", int64_t{144});
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c2"}, {"r2"}, "relu2");
  auto* cat = b.node("Concat", {"r2", "r1"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  b.node("GlobalAveragePool", {"cat"}, {"gp"}, "gap");
  b.node("Flatten", {"gp"}, {"f"}, "flatten");
  b.init("wg", {130, 288}, ramp(130 * 288, 5));
  b.init("bg", {130}, ramp(130, 6));
  auto* gm = b.node("Gemm", {"f", "wg", "bg"}, {"y"}, "dense");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  b.output("y");
  return b.graph();
}

Tensor relu_ramp(const Shape& s, uint32_t seed) {
  return test::relu_ramp_tensor(s, ramp(static_cast<size_t>(numel(s)), seed));
}

// verify's one-line refusal of what the RTL does not have, "" if it ran.
std::string refusal(const SimInput& in) {
  try {
    verify_raman(in, VerifyOptions{});
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

TEST(CoreVerifyFold, FoldedLayersAndConcatRunOnTheRtl) {
  const Graph g = wide_net();
  const Tensor calib({4, 4, 4, 4}, ramp(256, 11));
  for (const auto& [s, enc] : std::vector<std::pair<double, std::string>>{
           {0.0, "dense"}, {0.6, "auto"}, {0.5, "bitmap"}}) {
    VerifyOptions o;
    o.run.lockstep = s == 0.0;  // the twin netlist cycle by cycle once
    const VerifyReport r =
        verify_raman(make_input(g, calib, relu_ramp({1, 4, 4, 4}, 12), s, enc), o);
    EXPECT_TRUE(r.pass) << enc << ": " << r.first_failure;
    EXPECT_TRUE(r.bit_exact) << enc;
    EXPECT_EQ(r.rtl_cycles, r.model_cycles) << enc;
  }
}

// Residual blocks: conv -> relu -> conv -> Add(conv2, relu1) -> relu, the skip tensor live
// across conv2; on 20 and on 144 channels (two Add passes of 4 tiles).
Graph residual_net(int64_t c) {
  ModelBuilder b;
  b.input("x", {1, 4, 4, 4});
  b.init("w1", {c, 4, 3, 3}, ramp(static_cast<size_t>(c * 36), 41));
  b.init("b1", {c}, ramp(static_cast<size_t>(c), 42));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init("w2", {c, c, 1, 1}, ramp(static_cast<size_t>(c * c), 43));
  b.init("b2", {c}, ramp(static_cast<size_t>(c), 44));
  b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2");
  b.node("Add", {"c2", "r1"}, {"s"}, "residual");
  b.node("Relu", {"s"}, {"y"}, "relu2");
  b.output("y");
  return b.graph();
}

TEST(CoreVerifyFold, ResidualAddRunsOnTheRtl) {
  for (int64_t c : {20, 144}) {
    VerifyOptions o;
    o.run.lockstep = true;
    const VerifyReport r =
        verify_raman(make_input(residual_net(c), Tensor({4, 4, 4, 4}, ramp(256, 51)),
                                relu_ramp({1, 4, 4, 4}, 52), 0.0, "dense"),
                     o);
    EXPECT_TRUE(r.pass) << c << ": " << r.first_failure;
    EXPECT_TRUE(r.bit_exact) << c;
    EXPECT_EQ(r.rtl_cycles, r.model_cycles) << c;
  }
}

// Concat by placement on the RTL: both branches (same weights, same scale) write their 80
// channels into the 160-channel tensor with the output pitch, the Concat costs no cycle.
TEST(CoreVerifyFold, APlacedConcatRunsOnTheRtl) {
  ModelBuilder b;
  b.input("x", {1, 4, 3, 3});
  b.init("w", {80, 4, 3, 3}, ramp(80 * 36, 81));
  for (const char* k : {"a", "b"}) {
    auto* c = b.node("Conv", {"x", "w"}, {std::string("c") + k}, std::string("conv_") + k);
    ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Relu", {std::string("c") + k}, {std::string("r") + k}, std::string("relu_") + k);
  }
  auto* cat = b.node("Concat", {"ra", "rb"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  b.node("GlobalAveragePool", {"cat"}, {"y"}, "gap");
  b.output("y");
  VerifyOptions o;
  o.run.lockstep = true;
  const VerifyReport r = verify_raman(make_input(b.graph(), Tensor({4, 4, 3, 3}, ramp(144, 83)),
                                                 relu_ramp({1, 4, 3, 3}, 84), 0.0, "dense"),
                                      o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  EXPECT_TRUE(r.bit_exact);
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
}

TEST(CoreVerifyFold, AFoldedLfsrLayerIsRefusedNamingTheLayer) {
  ModelBuilder b;
  b.input("x", {1, 8, 2, 2});
  b.init("w", {144, 8, 1, 1}, ramp(144 * 8, 61));
  b.node("Conv", {"x", "w"}, {"y"}, "wide");
  b.output("y");
  const Graph g = b.graph();
  const SimInput in =
      test::graph_case(g, Tensor({4, 8, 2, 2}, ramp(128, 62)), relu_ramp({1, 8, 2, 2}, 63), {},
                       {"balanced", 0.5, "balanced", "lfsr"});
  const std::string m = refusal(in);
  EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer 'wide': balanced LFSR across folding "
                    "passes is not in the RTL",
                    0),
            0u)
      << m;
}

// A Split is two channel views: a convolution reads one half, a Concat copies the other, at
// the whole tensor's bytes per position; views need nothing the RTL lacks.
Graph split_net() {
  ModelBuilder b;
  b.input("x", {1, 4, 4, 4});
  b.init("w1", {24, 4, 3, 3}, ramp(24 * 36, 71));
  auto* c1 = b.node("Conv", {"x", "w1"}, {"c1"}, "conv");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init_i64("halves", {2}, {12, 12});
  auto* sp = b.node("Split", {"r1", "halves"}, {"sa", "sb"}, "split");
  ModelBuilder::attr(sp, "axis", int64_t{1});
  b.init("w2", {12, 12, 3, 3}, ramp(12 * 108, 72));
  auto* c2 = b.node("Conv", {"sb", "w2"}, {"cb"}, "branch");
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"cb"}, {"rb"}, "relu_b");
  auto* cat = b.node("Concat", {"sa", "rb"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  b.init("w3", {8, 24, 1, 1}, ramp(8 * 24, 73));
  b.node("Conv", {"cat", "w3"}, {"y"}, "head");
  b.output("y");
  return b.graph();
}

TEST(CoreVerifyFold, AChannelSplitRunsOnTheRtlAsViews) {
  const SimInput in = make_input(split_net(), Tensor({4, 4, 4, 4}, ramp(256, 74)),
                                 relu_ramp({1, 4, 4, 4}, 75), 0, "auto");
  VerifyOptions o;
  o.run.lockstep = true;
  const VerifyReport r = verify_raman(in, o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  EXPECT_TRUE(r.bit_exact);
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
}

// What the RTL lacks is refused in one line naming the layer: a Mul (the squeeze-excite scale),
// a channel copy (the Split of a channel shuffle).
TEST(CoreVerifyFold, MulAndChannelCopiesAreRefusedNamingTheLayer) {
  ModelBuilder m;
  m.input("x", {1, 4, 3, 3});
  m.init("w", {16, 4, 1, 1}, ramp(64, 81));
  m.node("Conv", {"x", "w"}, {"a"}, "pw");
  m.node("GlobalAveragePool", {"a"}, {"g"}, "squeeze");
  m.node("Mul", {"g", "a"}, {"y"}, "scale");
  m.output("y");
  ModelBuilder s;
  s.input("x", {1, 8, 2, 2});
  s.init_i64("shape1", {5}, {1, 2, 4, 2, 2});
  s.init_i64("shape2", {4}, {1, 8, 2, 2});
  s.node("Reshape", {"x", "shape1"}, {"a"}, "r1");
  auto* t = s.node("Transpose", {"a"}, {"b"}, "t");
  ModelBuilder::attr(t, "perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  s.node("Reshape", {"b", "shape2"}, {"c"}, "r2");
  s.init("w", {4, 8, 1, 1}, ramp(32, 82));
  s.node("Conv", {"c", "w"}, {"y"}, "pw");
  s.output("y");
  const std::pair<Graph, std::string> cases[] = {
      {m.graph(), "layer 'scale': elementwise Mul is not in the RTL"},
      {s.graph(), "layer 'r2': channel copy (a channel shuffle or split) is not in the RTL"}};
  for (const auto& [g, want] : cases) {
    const Shape xs = g.shape(g.inputs.at(0).name);
    Shape cs = xs;
    cs[0] = 4;
    const SimInput in = make_input(g, Tensor(cs, ramp(static_cast<size_t>(numel(cs)), 83)),
                                   relu_ramp(xs, 84), 0, "auto");
    const std::string msg = refusal(in);
    EXPECT_EQ(msg.rfind("fold.pwt: whole-core RTL: " + want, 0), 0u) << msg;
  }
}

}  // namespace
}  // namespace prunesim::cosim
