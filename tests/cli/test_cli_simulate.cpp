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

namespace {

// The fit check (docs/raman.md "Fit"): one line naming every --set value that makes the model
// fit, before anything runs or is written; those values run and one byte less does not;
// `--fit` sizes the core to the model and reports the fitted area; prune --target raman checks
// the same before it writes the table.
int64_t number_after(const std::string& s, const std::string& key) {
  const size_t at = s.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(s.substr(at + key.size()));
}

TEST_F(Simulate, FitCheckNamesEverySizeThatMakesTheModelFit) {
  const std::string rep = path("fit.json");
  const std::string small = "--set act_mem_bytes=4096 --set weight_mem_bytes=1024";
  expect_bad(sim("--report " + rep + " " + small),
             "does not fit the raman core: set act_mem_bytes >= ", rep);
  const auto r = run(sim(small));
  EXPECT_EQ(r.code, 2);
  const int64_t act = number_after(r.err, "set act_mem_bytes >= ");
  const int64_t wgt = number_after(r.err, "set weight_mem_bytes >= ");
  EXPECT_GT(act, 4096) << r.err;
  EXPECT_GT(wgt, 1024) << r.err;
  EXPECT_NE(r.err.find("short by " + std::to_string(act - 4096) + " B"), std::string::npos)
      << r.err;
  const std::string exact = " --set act_mem_bytes=" + std::to_string(act) +
                            " --set weight_mem_bytes=" + std::to_string(wgt);
  const auto ok = run(sim("--mode analytical --json" + exact));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["memory"]["act_used_bytes"], act);
  const auto less = run(sim("--mode analytical --set act_mem_bytes=" + std::to_string(act - 1) +
                            " --set weight_mem_bytes=" + std::to_string(wgt)));
  EXPECT_EQ(less.code, 2);
  EXPECT_NE(less.err.find("set act_mem_bytes >= " + std::to_string(act) + " "), std::string::npos)
      << less.err;
  EXPECT_EQ(less.err.find("weight_mem_bytes >="), std::string::npos) << less.err;
  // --fit: the sizes the check named, and a smaller core than the default.
  const auto dflt = run(sim("--mode analytical --json"));
  ASSERT_EQ(dflt.code, 0) << dflt.err;
  const auto fit = run(sim("--mode analytical --fit --report " + rep + " " + small));
  ASSERT_EQ(fit.code, 0) << fit.err;
  EXPECT_NE(fit.out.find("fit: act_mem_bytes=" + std::to_string(act) +
                         " B, weight_mem_bytes=" + std::to_string(wgt) + " B"),
            std::string::npos)
      << fit.out;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_EQ(j["fit"]["act_mem_bytes"], act);
  EXPECT_EQ(j["config"]["weight_mem_bytes"], wgt);
  EXPECT_LT(j["area_mm2"].get<double>(), nlohmann::json::parse(dflt.out)["area_mm2"].get<double>());
  // 4 KiB cannot even hold the 9,600 B input window: the line says so.
  EXPECT_NE(r.err.find("(activations do not fit from input '"), std::string::npos) << r.err;
  // prune --target raman: the same line, no table written (magnitude: no sparsity warning).
  const std::string out = path("small.pwt");
  expect_bad("prune " + zoo + "encoder.onnx --scheme magnitude --sparsity 0.5 --calib " + zoo +
                 "calib.npy --target raman --set act_mem_bytes=4096 -o " + out,
             "encoder.onnx: does not fit the raman core: set act_mem_bytes >= " +
                 std::to_string(act) + " ",
             out);
}

}  // namespace
