// The whole-core RTL on folded layers (issue 12 part 2): conv, depthwise, Concat copy passes,
// global pooling and dense layers with more channels than 16 PEs x 8 accumulators, and residual
// Add, bit-exact with the integer reference and with the SystemC model's cycles; and the
// one-line refusal of what the RTL does not have (a folded balanced-LFSR layer).
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
  try {
    verify_raman(in, VerifyOptions{});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer 'wide': balanced LFSR across folding "
                      "passes is not in the RTL",
                      0),
              0u)
        << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace prunesim::cosim
