// The FPGA-SoC pipeline from the command line: simulate on the zoo U-Net (report file, bit-exact
// masks), config --dump, compare (the before/after table), and the bad-input contract (exit 2,
// one line naming the problem, no report left behind).
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

std::string zoo(const std::string& f) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/hsi_unet/" + f;
}

class FpgaSocCli : public CliFixture {};

TEST_F(FpgaSocCli, SimulateWritesReportAndMasks) {
  const std::string rep = path("soc.json"), masks = path("masks.npy");
  Result r = run("simulate --arch fpga-soc --tables " + zoo("unet_pruned.pwt") + " --input " +
                 zoo("frames.npy") + " --report " + rep + " --output " + masks +
                 " --set ps_clock_hz=1.2e9 --set place.demosaic=ps");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bit-exact"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_EQ(j["arch"], "fpga-soc");
  EXPECT_TRUE(j["bit_exact"].get<bool>());
  EXPECT_GT(j["throughput_fps"].get<double>(), 0);
  EXPECT_EQ(j["config"]["place.demosaic"], "ps");
  const Tensor m = load_npy(masks);
  EXPECT_EQ(m.shape, (Shape{6, 24, 48}));
}

TEST_F(FpgaSocCli, ConfigDump) {
  Result r = run("config --dump fpga-soc");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* k :
       {"dpu", "B3136", "ps_clock_hz", "place.demosaic", "pl.lanes", "ddr.bandwidth_gbs"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k;
}

TEST_F(FpgaSocCli, CompareBeforeAfter) {
  const std::string rep = path("cmp.json");
  Result r = run("compare --arch fpga-soc " + zoo("unet_base.pwt") + " " + zoo("unet_pruned.pwt") +
                 " --input " + zoo("frames.npy") + " --labels " + zoo("frame_labels.npy") +
                 " --mode analytical --report " + rep);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* k : {"operations", "parameters", "speed-up", "24.34", "1.02", "2.86x", "mIoU",
                        "frames/s", "power"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << "\n" << r.out;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_GT(j["ratios"]["speedup"].get<double>(), 1.0);
  EXPECT_LT(j["ratios"]["ops_pct"].get<double>(), 50.0);
  // Golden: scripts/zoo/hsi_synth.miou on the masks `simulate --output` writes for these frames
  // (the same rule in Python and C++; regenerate with the zoo).
  EXPECT_NEAR(j["compressed"]["miou"].get<double>(), 0.779035102046247, 1e-12);
  EXPECT_NEAR(j["base"]["miou"].get<double>(), 0.8326531564033092, 1e-12);
}

TEST_F(FpgaSocCli, CompareATableWithItself) {
  const std::string rep = path("self.json");
  Result r =
      run("compare --arch fpga-soc " + zoo("unet_pruned.pwt") + " " + zoo("unet_pruned.pwt") +
          " --input " + zoo("frames.npy") + " --mode analytical --json --report " + rep);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_DOUBLE_EQ(j["ratios"]["ops_pct"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["ratios"]["params_pct"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["ratios"]["speedup"].get<double>(), 1.0);
  EXPECT_EQ(nlohmann::json::parse(r.out), j);
}

TEST_F(FpgaSocCli, BadInput) {
  const std::string rep = path("soc.json");
  const std::string base = "simulate --arch fpga-soc --tables " + zoo("unet_pruned.pwt") +
                           " --report " + rep + " --input ";
  expect_bad(base + zoo("frames.npy") + " --set dpu=B9999", "dpu", rep);
  expect_bad(base + zoo("frames.npy") + " --set ps_clock_hz=5e9", "ps_clock_hz", rep);
  expect_bad(base + zoo("frames.npy") + " --set dpu=B4096 --set dpu.uram=false", "BRAM", rep);
  expect_bad(base + path("x.npy"), "x.npy", rep);  // [5, 2, 8]: not raw frames
  save_npy(Tensor({1, 25, 24, 48}), path("cube.npy"));
  expect_bad(base + path("cube.npy"), "planes", rep);  // a band cube instead of raw frames
  save_npy(Tensor({1, 120, 245}), path("wide.npy"));
  expect_bad(base + path("wide.npy"), "sensor", rep);
  // A network the DPU model cannot run: the fixture's 1-D conv net.
  const std::string t = path("net.pwt");
  ASSERT_EQ(run("prune " + model_ + " --scheme magnitude --sparsity 0 --calib " +
                path("calib.npy") + " -o " + t)
                .code,
            0);
  expect_bad("simulate --arch fpga-soc --tables " + t + " --input " + zoo("frames.npy") +
                 " --report " + rep,
             "net.pwt", rep);
  expect_bad("compare --arch fpga-soc " + zoo("frames.npy") + " " + zoo("unet_pruned.pwt") +
                 " --input " + zoo("frames.npy"),
             "weight table");
}

}  // namespace
}  // namespace prunesim::testing
