// `prunesim verify` as a user runs it: the pruned ds_cae1 encoder on the whole-core RTL and in
// mixed mode passes (exit 0) with the cycles of the SystemC model, traces are written, and bad
// input is refused with exit 2, one line and no trace left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"
#include "common/onnx_builder.h"
#include "prune/npy.h"

namespace fs = std::filesystem;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;
using prunesim::testing::slurp;

namespace {

class Verify : public prunesim::testing::RamanEncoderFixture {
 protected:
  std::string verify(const std::string& extra) const {
    return "verify --arch raman --tables " + table + " --input " + zoo + "sample.npy " + extra;
  }
};

TEST_F(Verify, WholeCorePassesWithTheModelsCyclesAndWritesAnFst) {
  const auto r = run(verify("--trace " + path("core.fst")));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bit-exact with the integer reference"), std::string::npos) << r.out;
  EXPECT_GT(fs::file_size(path("core.fst")), 10000u);
  // The JSON form states the two cycle counts, equal.
  const auto j = run(verify("--json --no-lockstep"));
  ASSERT_EQ(j.code, 0) << j.err;
  const auto v = nlohmann::json::parse(j.out);
  EXPECT_TRUE(v["pass"].get<bool>());
  EXPECT_EQ(v["cycles_rtl"], v["cycles_model"]);
  EXPECT_GT(v["cycles_rtl"][0].get<int64_t>(), 30000);
}

TEST_F(Verify, MixedModePassesAndWritesABlockPortVcd) {
  const auto r = run(verify("--rtl pe_array,decoder --trace " + path("mixed.vcd")));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("mixed: pe_array decoder in RTL"), std::string::npos) << r.out;
  const std::string vcd = slurp(path("mixed.vcd"));
  EXPECT_NE(vcd.find("rtl.decoder0.valid"), std::string::npos);
  EXPECT_NE(vcd.find("twin.pe_array.rd_acc"), std::string::npos);
}

TEST_F(Verify, ABrokenCoreIsExit1WithTheFirstDivergence) {
  const auto r = run(verify("--broken broken_round"));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const size_t f = r.out.find("FAIL: cycle ");
  ASSERT_NE(f, std::string::npos) << r.out;
  const std::string line = r.out.substr(f, r.out.find('\n', f) - f);
  EXPECT_NE(line.find(": requant.out_q: expected 0x"), std::string::npos) << line;
  EXPECT_NE(line.find(", actual 0x"), std::string::npos) << line;
  EXPECT_NE(line.find("(sample 0, layer '"), std::string::npos) << line;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // The sample the RTL did not finish has no cycle count, and says why.
  EXPECT_EQ(r.out.find("-1 cycles"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sample 0: RTL run stopped before the end"), std::string::npos) << r.out;
}

// Balanced pruning of channel counts the 16 PEs and clusters of 4 do not divide: 24 channels run
// on 12 PEs (4 idle), 10 classes on 10 PEs in clusters of 4, 4 and 2. The SystemC model, the
// analytical twin and the whole-core RTL agree, bit-exact with the integer reference.
TEST_F(Verify, BalancedChannelCountsThePesDoNotDivideRunOnTheRtl) {
  ModelBuilder b;
  b.input("x", {-1, 2, 16});
  b.init("w", {24, 2, 3}, ramp(144, 11));
  b.init("b", {24}, ramp(24, 12));
  b.init("fw", {10, 24 * 8}, ramp(10 * 24 * 8, 13));
  b.init("fb", {10}, ramp(10, 14));
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv24");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu");
  auto* p = b.node("MaxPool", {"r"}, {"p"}, "pool");
  ModelBuilder::attr(p, "kernel_shape", std::vector<int64_t>{2});
  ModelBuilder::attr(p, "strides", std::vector<int64_t>{2});
  b.node("Flatten", {"p"}, {"f"}, "flat");
  auto* fc = b.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc10");
  ModelBuilder::attr(fc, "transB", 1);
  b.output("y");
  std::ofstream(path("n.onnx"), std::ios::binary) << b.bytes();
  prunesim::save_npy(prunesim::Tensor({8, 2, 16}, ramp(256, 15)), path("calib.npy"));
  prunesim::save_npy(prunesim::Tensor({2, 2, 16}, ramp(64, 16)), path("x.npy"));
  for (const char* variant : {"pattern", "lfsr"}) {
    SCOPED_TRACE(variant);
    const auto pr =
        run("prune " + path("n.onnx") + " --scheme balanced --sparsity 0.5 --variant " + variant +
            " --calib " + path("calib.npy") + " --target raman -o " + path("n.pwt") + " --json");
    ASSERT_EQ(pr.code, 0) << pr.err;
    const auto pj = nlohmann::json::parse(pr.out);
    EXPECT_EQ(pj["layers"][0]["balanced"]["pes"], 12);
    EXPECT_EQ(pj["layers"][0]["sparsity"], 0.5);
    EXPECT_NE(pr.err.find("conv24 12 of 16"), std::string::npos) << pr.err;
    const std::string args =
        " --arch raman --tables " + path("n.pwt") + " --input " + path("x.npy");
    const auto cyc = run("simulate" + args + " --json");
    const auto ana = run("simulate" + args + " --mode analytical --json");
    ASSERT_EQ(cyc.code, 0) << cyc.err;
    ASSERT_EQ(ana.code, 0) << ana.err;
    const auto jc = nlohmann::json::parse(cyc.out), ja = nlohmann::json::parse(ana.out);
    EXPECT_TRUE(jc["bit_exact_vs_reference"].get<bool>());
    EXPECT_EQ(jc["latency_cycles"], ja["latency_cycles"]);
    const auto v = run("verify" + args + " --json --no-lockstep");
    ASSERT_EQ(v.code, 0) << v.out << v.err;
    const auto jv = nlohmann::json::parse(v.out);
    EXPECT_TRUE(jv["pass"].get<bool>());
    EXPECT_EQ(jv["cycles_rtl"], jv["cycles_model"]);
  }
}

TEST_F(Verify, BadInputIsExit2WithOneLineAndNoTrace) {
  struct Bad {
    std::string args, needle;
  };
  const Bad bad[] = {
      {verify("--rtl pe_array,alu"), "--rtl alu: not a block of the core"},
      {verify("--trace " + path("t.txt")), "must end in .fst or .vcd"},
      {verify("--rtl decoder --trace " + path("t.fst")), "in mixed mode use .vcd"},
      {verify("--set pe_count=8 --set acc_per_pe=16 --trace " + path("t.vcd")),
       "pe_count=8 (the RTL has 16)"},
      {"verify --arch fpga-soc --tables " + table + " --input " + zoo + "sample.npy",
       "only raman has RTL"},
      {verify("--broken off_by_one"), "the broken cores are broken_round, broken_order"},
  };
  for (const Bad& b : bad) {
    const auto r = run(b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(b.needle), std::string::npos) << b.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  for (const char* f : {"t.txt", "t.fst", "t.vcd"}) EXPECT_FALSE(fs::exists(path(f))) << f;
}

}  // namespace
