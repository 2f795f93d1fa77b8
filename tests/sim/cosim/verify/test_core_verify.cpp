// The whole-core RTL (rtl/raman/raman_core.sv) against the integer reference, the SystemC model's
// cycle count and, cycle by cycle, the all-twin SystemC netlist: every zoo model at several
// sparsities and encodings in full RTL, every block alone in RTL (mixed mode), and two broken
// variants caught at the block and cycle predicted from the reference netlist's own signals.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/raman_cases.h"
#include "cosim/verify.h"
#include "models/isolate.h"
#include "models/raman/core.h"

namespace prunesim::cosim {
namespace {

using nlohmann::json;

struct Case {
  const char* model;
  const char* scheme;
  double sparsity;
  const char* encoding;
  const char* variant;
  bool lockstep;
};

// Test listings show the case, not the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " " << (*c.scheme ? c.scheme : "dense") << " " << c.sparsity << " "
      << c.encoding << "/" << c.variant << (c.lockstep ? " lockstep" : "");
}

// Clusters of 2 (zoo_case) run on the RTL too: its pattern group is a descriptor field.
SimInput case_input(const Case& c) {
  return test::zoo_case(c.model, c.scheme, c.sparsity, c.encoding, c.variant);
}

class CoreVerifyZoo : public ::testing::TestWithParam<Case> {};

TEST_P(CoreVerifyZoo, FullRtlIsBitExactWithTheModelsCycles) {
  const Case c = GetParam();
  VerifyOptions o;
  o.run.lockstep = c.lockstep;
  const VerifyReport r = verify_raman(case_input(c), o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  EXPECT_TRUE(r.bit_exact);
  ASSERT_EQ(r.rtl_cycles.size(), 1u);
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
  EXPECT_GT(r.rtl_cycles[0], 1000);
  EXPECT_EQ(r.dut, "raman_core");
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, CoreVerifyZoo,
    ::testing::Values(
        Case{"ds_cae1/encoder.onnx", "", 0, "dense", "pattern", true},
        Case{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "pattern", true},
        Case{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "lfsr", true},
        Case{"ds_cae1/encoder.onnx", "magnitude", 0.6, "csr", "pattern", false},
        Case{"ds_cae1/encoder.onnx", "magnitude", 0.9, "bitmap", "pattern", false},
        Case{"ds_cae1/decoder.onnx", "magnitude", 0.3, "bitmap", "pattern", true},
        Case{"ds_cae1/decoder.onnx", "balanced", 0.6, "balanced", "lfsr", false},
        Case{"ds_cae1/ds_cae1.onnx", "magnitude", 0.6, "csr", "pattern", false},
        Case{"digits_dscnn/digits_dscnn.onnx", "", 0, "dense", "pattern", true},
        Case{"digits_dscnn/digits_dscnn.onnx", "magnitude", 0.9, "csr", "pattern", false},
        Case{"fmnist_dscnn/fmnist_dscnn.onnx", "balanced", 0.6, "balanced", "pattern", true},
        Case{"fmnist_dscnn/fmnist_dscnn.onnx", "magnitude", 0.3, "bitmap", "pattern", false}),
    [](const ::testing::TestParamInfo<Case>& i) {
      std::string n =
          test::zoo_short_name(i.param.model) + "_" + i.param.encoding + "_" +
          (std::string(i.param.encoding) == "balanced" ? std::string(i.param.variant) + "_" : "") +
          std::to_string(static_cast<int>(i.param.sparsity * 100));
      return n;
    });

// Every zoo model with every encoding the core decodes at sparsities 0.3 and 0.9 (the RamanZoo
// grid of the SystemC tests, thinned): outputs and cycles, without the lockstep (fast).
class CoreVerifySweep : public ::testing::TestWithParam<const char*> {};

TEST_P(CoreVerifySweep, EveryEncodingAndSparsity) {
  struct V {
    const char* scheme;
    const char* encoding;
    const char* variant;
  };
  int cases = 0;
  for (double sp : {0.3, 0.9})
    for (const V& v : {V{"magnitude", "dense", "pattern"}, V{"magnitude", "bitmap", "pattern"},
                       V{"magnitude", "csr", "pattern"}, V{"balanced", "balanced", "pattern"},
                       V{"balanced", "balanced", "lfsr"}}) {
      VerifyOptions o;
      o.run.lockstep = false;
      const Case c{GetParam(), v.scheme, sp, v.encoding, v.variant, false};
      const VerifyReport r = verify_raman(case_input(c), o);
      const std::string what =
          std::string(v.encoding) + "/" + v.variant + " s=" + std::to_string(sp);
      EXPECT_TRUE(r.pass) << what << ": " << r.first_failure;
      EXPECT_EQ(r.rtl_cycles, r.model_cycles) << what;
      ++cases;
    }
  EXPECT_EQ(cases, 10);
}

INSTANTIATE_TEST_SUITE_P(Zoo, CoreVerifySweep, ::testing::ValuesIn(test::kRamanZooModels),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return test::zoo_short_name(i.param);
                         });

// Several samples back to back on one loaded program: every inference bit-exact, each with the
// model's cycles (the controller's state and the activation memory carry over between them).
TEST(CoreVerifySamples, ThreeInferencesBackToBack) {
  SimInput in = test::build_case("digits_dscnn/digits_dscnn.onnx", "digits_dscnn/calib.npy",
                                 "digits_dscnn/eval.npy", "magnitude", 0.6, "bitmap",
                                 {"weight_mem_bytes=65536"}, "pattern", 3);
  VerifyOptions o;
  const VerifyReport r = verify_raman(in, o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  ASSERT_EQ(r.samples, 3);
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
  EXPECT_TRUE(r.bit_exact);
}

// The controller alone in RTL on the whole autoencoder: over 100,000 cycles of lockstep with the
// twin controller on a real program (the controller's counterpart of the blocks' seeded
// 100,000-cycle stimulus tests in tests/sim/cosim).
TEST(CoreVerifyMixedLong, ControllerInRtlRunsTheWholeAutoencoder) {
  VerifyOptions o;
  o.run.rtl = {"ctrl"};
  const VerifyReport r = verify_raman(
      case_input({"ds_cae1/ds_cae1.onnx", "magnitude", 0.6, "csr", "pattern", true}), o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  ASSERT_EQ(r.rtl_cycles.size(), 1u);
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
  EXPECT_GT(r.rtl_cycles[0], 100000);
}

const Case kEncoder{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "pattern", true};

// Each block alone in RTL, and the pair, inside the twin netlist.
class CoreVerifyMixed : public ::testing::TestWithParam<std::string> {};

TEST_P(CoreVerifyMixed, MixedModePasses) {
  VerifyOptions o;
  const std::string s = GetParam();
  for (size_t a = 0; a <= s.size();) {
    const size_t b = std::min(s.find('+', a), s.size());
    o.run.rtl.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  const VerifyReport r = verify_raman(case_input(kEncoder), o);
  EXPECT_TRUE(r.pass) << r.first_failure;
  EXPECT_EQ(r.rtl_cycles, r.model_cycles);
  EXPECT_NE(r.dut.find("mixed:"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Blocks, CoreVerifyMixed,
                         ::testing::Values("ctrl", "act_mem", "pe_array", "decoder", "requant",
                                           "pe_array+decoder"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           std::replace(n.begin(), n.end(), '+', 'X');
                           return n;
                         });

std::vector<std::vector<std::vector<uint32_t>>> record_reference(
    const std::vector<std::string>& probes, const Case& c = kEncoder) {
  // The good core with lockstep: the twin netlist's values of `probes` in every busy cycle.
  const std::string payload = run_isolated([&] {
    const SimInput in = case_input(c);
    const raman::RamanProgram prog = raman::compile(
        in.model, in.summary, in.masks, raman::RamanConfig::from(in.params), in.tables_path);
    const raman::RtlImage img = raman::build_rtl_image(prog);
    std::vector<int8_t> x;
    for (float v : in.input.f) x.push_back(hls::quantize_value(v, prog.input_scale));
    CoreRunOptions o;
    o.record = probes;
    const CoreRunResult r = run_core(img, {x}, o, {int64_t{1} << 30}, {}, 0);
    if (r.div.found) throw std::runtime_error("good core diverged: " + r.div.message());
    if (r.timed_out || r.cycles.size() != 1) throw std::runtime_error("good core did not finish");
    return json(r.recorded).dump();
  });
  return json::parse(payload).get<std::vector<std::vector<std::vector<uint32_t>>>>();
}

int8_t requant_out(int64_t prod, int shift, bool round, int8_t lo, int8_t hi) {
  // docs/quantization.md: round half away from zero (round) or truncate (the broken core).
  const int64_t half = round ? (int64_t{1} << (shift - 1)) - (prod < 0 ? 1 : 0) : 0;
  const int64_t v = std::clamp<int64_t>((prod + half) >> shift, -128, 127);
  return static_cast<int8_t>(std::clamp<int64_t>(v, lo, hi));
}

// BREAK_ROUND: the requantizer truncates. The first drain cycle whose inputs (as the twin netlist
// presents them) give a different code truncated than rounded must be the first divergence, at
// requant.out_q.
TEST(CoreVerifyBroken, RoundingIsCaughtAtTheFirstDrainItChanges) {
  const auto rec =
      record_reference({"ctrl.rq_in_valid", "ctrl.rq_bypass", "ctrl.rq_acc", "ctrl.rq_mult",
                        "ctrl.rq_shift", "ctrl.rq_act_min", "ctrl.rq_act_max"});
  int64_t predicted = -1;
  for (size_t c = 0; c < rec[0].size() && predicted < 0; ++c) {
    if (!rec[0][c][0] || rec[1][c][0]) continue;
    const int64_t prod = static_cast<int64_t>(static_cast<int32_t>(rec[2][c][0])) *
                         static_cast<int64_t>(rec[3][c][0]);
    const int s = static_cast<int>(rec[4][c][0]);
    const auto lo = static_cast<int8_t>(rec[5][c][0]), hi = static_cast<int8_t>(rec[6][c][0]);
    if (requant_out(prod, s, true, lo, hi) != requant_out(prod, s, false, lo, hi))
      predicted = static_cast<int64_t>(c);
  }
  ASSERT_GE(predicted, 0) << "no drain where rounding matters";
  VerifyOptions o;
  o.run.variant = "broken_round";
  const VerifyReport r = verify_raman(case_input(kEncoder), o);
  EXPECT_FALSE(r.pass);
  ASSERT_TRUE(r.div.found) << r.first_failure;
  EXPECT_EQ(r.div.block, "requant");
  EXPECT_EQ(r.div.signal, "out_q");
  EXPECT_EQ(static_cast<int64_t>(r.div.cycle), predicted);
  EXPECT_NE(r.first_failure.find("layer '"), std::string::npos) << r.first_failure;
}

// BREAK_DECODER_ORDER: mask formats yield the highest slot first. The first load of a mask
// format giving some PE two or more slots must diverge one cycle later at that decoder's slot.
TEST(CoreVerifyBroken, DecoderOrderIsCaughtAfterTheFirstMultiSlotLoad) {
  // The dense encoder: its wider layers hold two or more rows per PE (the balanced one keeps one).
  const Case dense{"ds_cae1/encoder.onnx", "", 0, "dense", "pattern", true};
  const auto rec = record_reference({"ctrl.dec_load", "ctrl.dec_fmt", "ctrl.dec_bits"}, dense);
  int64_t predicted = -1;
  int cluster = -1;
  for (size_t c = 0; c < rec[0].size() && predicted < 0; ++c) {
    if (!rec[0][c][0] || rec[1][c][0] == 2) continue;
    for (int p = 0; p < 16 && predicted < 0; ++p) {
      const uint32_t bits = (rec[2][c][static_cast<size_t>(p / 4)] >> (8 * (p % 4))) & 0xffu;
      if (__builtin_popcount(bits) >= 2) {
        predicted = static_cast<int64_t>(c) + 1;
        cluster = p / 4;
      }
    }
  }
  ASSERT_GE(predicted, 0);
  VerifyOptions o;
  o.run.variant = "broken_order";
  const VerifyReport r = verify_raman(case_input(dense), o);
  EXPECT_FALSE(r.pass);
  ASSERT_TRUE(r.div.found) << r.first_failure;
  EXPECT_EQ(r.div.block, "decoder" + std::to_string(cluster));
  EXPECT_EQ(r.div.signal, "slot");
  EXPECT_EQ(static_cast<int64_t>(r.div.cycle), predicted);
}

// Without the lockstep the broken core is still caught, by its outputs.
TEST(CoreVerifyBroken, WithoutLockstepTheOutputsGiveItAway) {
  VerifyOptions o;
  o.run.variant = "broken_round";
  o.run.lockstep = false;
  const VerifyReport r = verify_raman(case_input(kEncoder), o);
  EXPECT_FALSE(r.pass);
  EXPECT_FALSE(r.bit_exact);
  EXPECT_NE(r.first_failure.find("output element"), std::string::npos) << r.first_failure;
}

}  // namespace
}  // namespace prunesim::cosim
