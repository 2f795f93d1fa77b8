// The README's headline figures are the ones the tool prints today: the table of the ds_cae1
// encoder on the default RAMAN-like core is read from README.md itself and each figure is
// compared with a run of the commands the README names (cycles exactly; power and SNDR to the
// digits the README prints). The recovered row needs 160 training epochs and is measured by
// bench/recovery.sh instead; this test checks the dense and one-shot rows.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/cli_fixture.h"

namespace {

using prunesim::testing::slurp;

struct ReadmeRow {
  int64_t cycles = 0;
  double power_uw = 0, sndr_db = 0;
};

// "| dense | 51,932 (26.0 ms) | 186 µW | 16.9 dB |" → {51932, 186, 16.9}; the minus sign of a
// negative SNDR is U+2212 in the README.
ReadmeRow parse_row(const std::string& readme, const std::string& first_cell) {
  const size_t at = readme.find("\n| " + first_cell + " |");
  EXPECT_NE(at, std::string::npos) << "README has no row '" << first_cell << "'";
  if (at == std::string::npos) return {};
  std::string line = readme.substr(at + 1, readme.find('\n', at + 1) - at - 1);
  line = std::regex_replace(line, std::regex("\xE2\x88\x92"), "-");
  std::smatch m;
  const std::regex re(R"(\| ([0-9,]+) \([0-9.]+ ms\) \| ([0-9.]+) µW \| (-?[0-9.]+) dB)");
  EXPECT_TRUE(std::regex_search(line, m, re)) << line;
  if (m.empty()) return {};
  ReadmeRow r;
  r.cycles = std::stoll(std::regex_replace(m[1].str(), std::regex(","), ""));
  r.power_uw = std::stod(m[2].str());
  r.sndr_db = std::stod(m[3].str());
  return r;
}

class Readme : public prunesim::testing::CliFixture {
 protected:
  const std::string z = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";

  void check(const std::string& row, const std::string& prune_args) {
    const ReadmeRow want = parse_row(slurp(std::string(PRUNESIM_SOURCE_DIR) + "/README.md"), row);
    const std::string t = path("t.pwt");
    const auto p = run("prune " + z + "encoder.onnx " + prune_args + " --calib " + z +
                       "calib.npy --target raman -o " + t + " --quiet");
    ASSERT_EQ(p.code, 0) << p.err;
    const auto s = run("simulate --arch raman --tables " + t + " --input " + z +
                       "sample.npy --mode analytical --json");
    ASSERT_EQ(s.code, 0) << s.err;
    const auto j = nlohmann::json::parse(s.out);
    EXPECT_EQ(std::llround(j["latency_cycles"].get<double>()), want.cycles) << row;
    EXPECT_EQ(std::lround(j["power_w"].get<double>() * 1e6), std::lround(want.power_uw)) << row;
    // The whole autoencoder in int8: the README's `eval ENC.pwt --then decoder.onnx`.
    const auto l =
        run("infer " + z + "encoder.onnx --input " + z + "calib.npy --output " + path("lat.npy"));
    ASSERT_EQ(l.code, 0) << l.err;
    const auto e =
        run("eval " + t + " --then " + z + "decoder.onnx --then-calib " + path("lat.npy") +
            " --data " + z + "eval.npy --labels " + z + "eval.npy --json");
    ASSERT_EQ(e.code, 0) << e.err;
    const double sndr = nlohmann::json::parse(e.out)["int8"]["sndr_db"].get<double>();
    EXPECT_NEAR(sndr, want.sndr_db, 0.05 + 1e-9) << row;
  }
};

TEST_F(Readme, DenseEncoderRowIsWhatTheToolPrints) {
  check("dense", "--scheme magnitude --sparsity 0");
}

TEST_F(Readme, OneShotBalancedRowIsWhatTheToolPrints) {
  check("balanced 48 %, one-shot (`--seed 7`)",
        "--scheme balanced --sparsity 0.5 --pes 16 --seed 7");
}

}  // namespace
