// Layers wider than the core's accumulators, as a user meets them (issue 12 part 2): a 144-channel
// conv with a residual Add pruned for the raman core simulates bit-exact and verifies on the RTL
// (exit 0); a folded balanced-LFSR layer, which the RTL does not have, is refused by verify in one
// line naming the layer (exit 2, no trace left); simulate --fit reports the fitted sizes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"

namespace fs = std::filesystem;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;
using prunesim::testing::slurp;

namespace {

class Fold : public prunesim::testing::CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    // conv 8->144 (1x1: two passes on 16 PEs x 8 accumulators), relu, Add with the input of a
    // second 144-channel conv (a residual block), global average pool.
    ModelBuilder b;
    b.input("x", {-1, 8, 2, 2});
    b.init("w1", {144, 8, 1, 1}, ramp(144 * 8, 71));
    b.node("Conv", {"x", "w1"}, {"c1"}, "wide");
    b.node("Relu", {"c1"}, {"r1"}, "relu1");
    b.init("w2", {144, 144, 1, 1}, ramp(144 * 144, 72));
    b.node("Conv", {"r1", "w2"}, {"c2"}, "wide2");
    b.node("Add", {"c2", "r1"}, {"s"}, "residual");
    b.node("GlobalAveragePool", {"s"}, {"y"}, "gap");
    b.output("y");
    wide_ = path("wide.onnx");
    std::ofstream(wide_, std::ios::binary) << b.bytes();
    prunesim::save_npy(prunesim::Tensor({8, 8, 2, 2}, ramp(256, 73)), path("wcalib.npy"));
    prunesim::save_npy(prunesim::Tensor({1, 8, 2, 2}, ramp(32, 74)), path("wx.npy"));
  }
  std::string prune(const std::string& how, const std::string& out) const {
    return "prune " + wide_ + " " + how + " --calib " + path("wcalib.npy") +
           " --target raman --set weight_mem_bytes=65536 -o " + out;
  }
  std::string wide_;
};

TEST_F(Fold, FoldedLayersAndResidualAddSimulateAndVerify) {
  const std::string t = path("mag.pwt");
  const auto p = run(prune("--scheme magnitude --sparsity 0.5", t));
  ASSERT_EQ(p.code, 0) << p.err;
  const auto s = run("simulate --arch raman --tables " + t + " --input " + path("wx.npy") +
                     " --set weight_mem_bytes=65536 --json");
  ASSERT_EQ(s.code, 0) << s.err;
  const auto j = nlohmann::json::parse(s.out);
  EXPECT_TRUE(j["bit_exact_vs_reference"].get<bool>());
  const auto v = run("verify --arch raman --tables " + t + " --input " + path("wx.npy") +
                     " --set weight_mem_bytes=65536");
  EXPECT_EQ(v.code, 0) << v.out << v.err;
}

TEST_F(Fold, VerifyRefusesAFoldedLfsrLayerInOneLine) {
  const std::string t = path("lfsr.pwt");
  const auto p = run(prune("--scheme balanced --variant lfsr --sparsity 0.5", t));
  ASSERT_EQ(p.code, 0) << p.err;
  // The SystemC model runs it ...
  const auto s = run("simulate --arch raman --tables " + t + " --input " + path("wx.npy") +
                     " --set weight_mem_bytes=65536 --json");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_TRUE(nlohmann::json::parse(s.out)["bit_exact_vs_reference"].get<bool>());
  // ... the RTL does not: one line, the layer and the missing feature, no trace.
  expect_bad("verify --arch raman --tables " + t + " --input " + path("wx.npy") +
                 " --set weight_mem_bytes=65536 --trace " + path("t.vcd"),
             "layer 'wide': balanced LFSR across folding passes is not in the RTL", path("t.vcd"));
}

}  // namespace
