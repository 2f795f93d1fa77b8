// `prunesim simulate` and `prunesim config` as a user runs them on the RAMAN model: the report
// contract in the file, the output tensor, the VCD, the parameter dump, and bad input refused
// with exit 2, one line and no report left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"
#include "prune/npy.h"

namespace fs = std::filesystem;
using prunesim::testing::slurp;

namespace {

class Simulate : public prunesim::testing::RamanEncoderFixture {
 protected:
  std::string sim(const std::string& extra) const {
    return "simulate --arch raman --tables " + table + " --input " + zoo + "sample.npy " + extra;
  }
};

TEST_F(Simulate, WritesTheReportOutputAndTrace) {
  const auto r = run(sim("--report " + path("r.json") + " --output " + path("y.npy") + " --vcd " +
                         path("t.vcd") + " --stats"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bit-exact with the integer reference"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pe15"), std::string::npos) << "per-PE statistics in the table";
  const auto j = nlohmann::json::parse(slurp(path("r.json")));
  for (const char* k : {"arch", "mode", "clock_hz", "latency_cycles", "latency_s", "energy_j",
                        "power_w", "area_mm2", "layers", "components"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["mode"], "cycle");
  EXPECT_TRUE(j["bit_exact_vs_reference"].get<bool>());
  const prunesim::Tensor y = prunesim::load_npy_as_float(path("y.npy"));
  EXPECT_EQ(y.shape, (prunesim::Shape{1, 8, 8}));
  EXPECT_NE(slurp(path("t.vcd")).find("$enddefinitions"), std::string::npos);
  // The analytical mode reports the same cycles.
  const auto a = run(sim("--mode analytical --json"));
  ASSERT_EQ(a.code, 0) << a.err;
  const auto ja = nlohmann::json::parse(a.out);
  EXPECT_EQ(ja["latency_cycles"], j["latency_cycles"]);
}

// A rate the core cannot reach is not an error: one warning line states the highest rate and
// the power at it, and the report keeps the rate asked.
TEST_F(Simulate, ARateAboveTheCoresIsAWarningWithThePowerAtTheMaximum) {
  const auto r = run(sim("--rate 1000000 --report " + path("r.json")));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("warning: --rate 1e+06 1/s: one inference takes ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("the power is given at that rate: "), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(slurp(path("r.json")));
  EXPECT_EQ(j["rate_asked_hz"], 1e6);
  EXPECT_NEAR(j["rate_hz"].get<double>(), 1.0 / j["latency_s"].get<double>(), 1e-6);
  ASSERT_EQ(j["warnings"].size(), 1u);
  expect_bad(sim("--rate 1000000 --strict --report " + path("s.json")), "(--strict)",
             path("s.json"));
  // At the default rate nothing is said.
  const auto d = run(sim(""));
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.err, "");
}

// compare on the RAMAN core: no published column (those figures are the HSI paper's), power and
// energy in units that fit a tinyML core, and non-zero parameters (a pruned table keeps zeros).
TEST_F(Simulate, CompareOnRamanShowsItsOwnUnitsAndNonZeroParameters) {
  const std::string dense = path("dense.pwt");
  const auto p = run("prune " + zoo + "encoder.onnx --scheme magnitude --sparsity 0 --calib " +
                     zoo + "calib.npy -o " + dense + " --target raman --quiet");
  ASSERT_EQ(p.code, 0) << p.err;
  const auto r = run("compare --arch raman " + dense + " " + table + " --input " + zoo +
                     "sample.npy --mode analytical");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("published"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("0.000 W"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" uW"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" uJ"), std::string::npos) << r.out;
  const auto j = run("compare --arch raman " + dense + " " + table + " --input " + zoo +
                     "sample.npy --mode analytical --json");
  ASSERT_EQ(j.code, 0) << j.err;
  const auto v = nlohmann::json::parse(j.out);
  EXPECT_FALSE(v.contains("published"));
  // The fixture's table is balanced-pruned to about half: half the parameters are zeros.
  EXPECT_LT(v["ratios"]["params_pct"].get<double>(), 60.0);
}

TEST_F(Simulate, ConfigDumpDocumentsEveryParameter) {
  const auto r = run("config --dump raman --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["parameters"].size(), 10u);
  for (const auto& p : j["parameters"]) {
    EXPECT_FALSE(p["meaning"].get<std::string>().empty()) << p["name"];
    EXPECT_TRUE(p.contains("default")) << p["name"];
    EXPECT_TRUE(p.contains("unit")) << p["name"];
  }
  const auto t = run("config --dump raman");
  ASSERT_EQ(t.code, 0);
  EXPECT_NE(t.out.find("pe_count"), std::string::npos);
  EXPECT_NE(t.out.find("Hz"), std::string::npos);
  expect_bad("config --dump nosuch", "unknown architecture");
}

TEST_F(Simulate, BadInputExitsTwoWithoutAReport) {
  const std::string rep = path("bad.json");
  expect_bad(sim("--report " + rep + " --set pe_count=0"), "pe_count must be in", rep);
  expect_bad(sim("--report " + rep + " --set clock_hz=-1"), "clock_hz", rep);
  expect_bad(sim("--report " + rep + " --set bogus=1"), "key 'bogus': unknown parameter", rep);
  expect_bad(sim("--report " + rep + " --mode fast"), "--mode fast", rep);
  expect_bad(sim("--report " + rep + " --mode analytical --vcd " + path("t.vcd")),
             "only --mode cycle writes a trace", rep);
  expect_bad(sim("--report " + rep + " --set act_mem_bytes=4096"), "short by", rep);
  expect_bad(sim("--report " + rep + " --set pe_count=32"), "made for 16 PEs", rep);
  // Wrong input shape: names the input file.
  expect_bad(
      "simulate --arch raman --tables " + table + " --input " + path("x.npy") + " --report " + rep,
      "x.npy", rep);
  expect_bad("simulate --arch raman --tables " + path("x.npy") + " --input " + zoo +
                 "sample.npy --report " + rep,
             "not a weight table", rep);
}

}  // namespace
