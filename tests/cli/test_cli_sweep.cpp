// `prunesim sweep` as a user runs it: a small analytical sweep of the ds_cae1 encoder on the
// RAMAN model (CSV columns, energy falling with sparsity, the Pareto column), bad flags
// refused before any work (exit 2, no CSV), and the PNG plot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/cli_fixture.h"

namespace fs = std::filesystem;
using prunesim::testing::Result;
using prunesim::testing::slurp;

namespace {

using Sweep = prunesim::testing::CliFixture;

const std::string kZoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";

// A few eval windows keep the fidelity pass cheap; the flags every run shares.
std::string base_args() {
  return "sweep --arch raman --model " + kZoo + "encoder.onnx --calib " + kZoo +
         "calib.npy --data " + kZoo + "sample.npy";
}

// RFC 4180 rows (quoted fields may hold commas: error messages).
std::vector<std::map<std::string, std::string>> read_csv(const std::string& text,
                                                         std::vector<std::string>* header) {
  std::vector<std::vector<std::string>> recs(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (quoted) {
      if (c == '"' && k + 1 < text.size() && text[k + 1] == '"') {
        recs.back().back() += '"';
        ++k;
      } else if (c == '"') {
        quoted = false;
      } else {
        recs.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      recs.back().emplace_back();
    } else if (c == '\n') {
      recs.emplace_back(1);
    } else {
      recs.back().back() += c;
    }
  }
  if (recs.back().size() == 1 && recs.back()[0].empty()) recs.pop_back();
  *header = recs.at(0);
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t r = 1; r < recs.size(); ++r) {
    EXPECT_EQ(recs[r].size(), header->size()) << "row " << r;
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < header->size() && c < recs[r].size(); ++c) m[(*header)[c]] = recs[r][c];
    rows.push_back(m);
  }
  return rows;
}

bool has_matplotlib() {
  return std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0;
}

TEST_F(Sweep, CsvRowsEnergyAndPareto) {
  const std::string csv = path("sweep.csv");
  Result r = run(base_args() + " --schemes balanced,magnitude --sparsity 0,0.5 -o " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  // No progress bar off a terminal; only the warning that balanced 50 % reached 47.9 % (the
  // encoder's last layer has one weight per PE group, which balanced pruning keeps).
  EXPECT_EQ(r.err,
            "warning: 1 of 4 points reached less sparsity than asked (balanced s=0.50 reached "
            "0.479); the sparsity_actual column has each\n");
  EXPECT_NE(r.out.find("wrote 4 rows"), std::string::npos) << r.out;
  std::vector<std::string> header;
  auto rows = read_csv(slurp(csv), &header);
  const std::vector<std::string> want = {"scheme",
                                         "sparsity_target",
                                         "sparsity_actual",
                                         "params",
                                         "macs",
                                         "fidelity",
                                         "fidelity_metric",
                                         "fidelity_oneshot",
                                         "cycles",
                                         "latency_s",
                                         "energy_j",
                                         "power_w",
                                         "area_mm2",
                                         "storage_bytes",
                                         "file_bytes",
                                         "scheme_options",
                                         "pareto",
                                         "error"};
  EXPECT_EQ(header, want);
  ASSERT_EQ(rows.size(), 4u);
  std::map<std::string, double> energy;
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("error"), "") << row.at("scheme") << " " << row.at("sparsity_target");
    EXPECT_EQ(row.at("fidelity_metric"), "sndr_db_vs_dense_float");
    EXPECT_GT(std::stod(row.at("cycles")), 0);
    EXPECT_GT(std::stod(row.at("storage_bytes")), 0);
    energy[row.at("scheme") + "@" + row.at("sparsity_target")] = std::stod(row.at("energy_j"));
  }
  EXPECT_LT(energy.at("balanced@0.5"), energy.at("balanced@0"));
  // magnitude reaches its target; balanced only what whole PE groups allow.
  for (const auto& row : rows) {
    if (row.at("sparsity_target") != "0.5") continue;
    const double tol = row.at("scheme") == "magnitude" ? 0.01 : 0.05;
    EXPECT_NEAR(std::stod(row.at("sparsity_actual")), 0.5, tol) << row.at("scheme");
  }
  // Pareto on (energy min, fidelity max), recomputed.
  for (const auto& a : rows) {
    const double ea = std::stod(a.at("energy_j")), fa = std::stod(a.at("fidelity"));
    bool dominated = false;
    for (const auto& b : rows) {
      const double eb = std::stod(b.at("energy_j")), fb = std::stod(b.at("fidelity"));
      dominated |= eb <= ea && fb >= fa && (eb < ea || fb > fa);
    }
    EXPECT_EQ(a.at("pareto"), dominated ? "0" : "1") << a.at("scheme") << a.at("sparsity_target");
  }
}

// Channel pruning removes weights instead of zeroing them: its sparsity, parameters and MACs
// are counted against the original model (it used to plot at x = 0). --min-fidelity keeps
// points below the threshold off the Pareto front.
TEST_F(Sweep, ChannelSparsityCountsAgainstTheOriginalAndMinFidelityFiltersPareto) {
  const std::string csv = path("sweep.csv");
  Result r = run(base_args() + " --schemes channel,magnitude --sparsity 0,0.5 -o " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> header;
  auto rows = read_csv(slurp(csv), &header);
  ASSERT_EQ(rows.size(), 4u);
  std::map<std::string, std::map<std::string, std::string>> by;
  for (const auto& row : rows) by[row.at("scheme") + "@" + row.at("sparsity_target")] = row;
  EXPECT_GT(std::stod(by["channel@0.5"].at("sparsity_actual")), 0.4);
  EXPECT_LT(std::stod(by["channel@0.5"].at("params")), std::stod(by["channel@0"].at("params")));
  EXPECT_LT(std::stod(by["channel@0.5"].at("macs")), std::stod(by["channel@0"].at("macs")));
  EXPECT_LT(std::stod(by["magnitude@0.5"].at("macs")), std::stod(by["magnitude@0"].at("macs")));
  // Every pruned point is below the dense fidelity (+inf vs itself is left out): a threshold
  // above all of them leaves only dense points on the front.
  double best = -1e9;
  for (const auto& row : rows)
    if (row.at("sparsity_target") == "0.5") best = std::max(best, std::stod(row.at("fidelity")));
  Result f = run(base_args() + " --schemes channel,magnitude --sparsity 0,0.5 --min-fidelity " +
                 std::to_string(best + 1) + " -o " + csv);
  ASSERT_EQ(f.code, 0) << f.err;
  for (const auto& row : read_csv(slurp(csv), &header))
    if (row.at("sparsity_target") == "0.5") EXPECT_EQ(row.at("pareto"), "0") << row.at("scheme");
}

TEST_F(Sweep, SetAxisAndNmRecordsReachedSparsity) {
  const std::string csv = path("sweep.csv");
  Result r = run(base_args() + " --schemes nm,balanced --sparsity 0.3 --set pe_count=16,32 -o " +
                 csv + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["points"], 4);
  std::vector<std::string> header;
  auto rows = read_csv(slurp(csv), &header);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_NE(std::find(header.begin(), header.end(), "pe_count"), header.end());
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("error"), "") << row.at("scheme") << " pe_count=" << row.at("pe_count");
    if (row.at("scheme") == "nm") {
      // 0.3 → keep 3 of 4; layers whose reduction is shorter than a group stay dense.
      EXPECT_EQ(row.at("scheme_options"), "n:m=3:4");
      EXPECT_GT(std::stod(row.at("sparsity_actual")), 0.2);
      EXPECT_LE(std::stod(row.at("sparsity_actual")), 0.25 + 1e-9);
    } else {
      EXPECT_EQ(row.at("scheme_options"), "pes=" + row.at("pe_count") + " cluster=4");
    }
  }
}

// A rate no point reaches: every point is simulated and its power is at its own highest rate;
// one warning line says so (it used to abort the sweep).
TEST_F(Sweep, ARateAboveEveryPointIsOneWarningLine) {
  Result r = run(base_args() + " --schemes magnitude --sparsity 0,0.5 --mode analytical --rate " +
                 "1e6 -o " + path("s.csv") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 2 of 2 points take longer than 1/rate = 1e-06 s"),
            std::string::npos)
      << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& p : j["rows"]) EXPECT_LT(p["rate_hz"].get<double>(), 1e6) << p.dump();
}

// A point the architecture refuses (4 KiB of activation memory is too small for the encoder; 8
// PEs used to be refused too, before output-channel folding) is a row with its reason; the sweep
// goes on and succeeds.
TEST_F(Sweep, ImpossiblePointIsARowWithItsError) {
  const std::string csv = path("sweep.csv");
  Result r = run(base_args() +
                 " --schemes magnitude --sparsity 0.5 --set act_mem_bytes=4096,16384 -o " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> header;
  auto rows = read_csv(slurp(csv), &header);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("act_mem_bytes"), "4096");
  EXPECT_NE(rows[0].at("error").find("set act_mem_bytes >= "), std::string::npos)
      << rows[0].at("error");
  EXPECT_EQ(rows[0].at("energy_j"), "");
  EXPECT_EQ(rows[0].at("pareto"), "0");
  EXPECT_EQ(rows[1].at("error"), "");
  EXPECT_EQ(rows[1].at("pareto"), "1");
}

TEST_F(Sweep, UnknownScheme) {
  expect_bad(base_args() + " --schemes balanced,bogus -o " + path("s.csv"), "bogus", path("s.csv"));
}

TEST_F(Sweep, SparsityRangeBeyondOne) {
  expect_bad(base_args() + " --sparsity 0:2:0.1 -o " + path("s.csv"), "[0, 1)", path("s.csv"));
}

TEST_F(Sweep, SparsityRangeWithoutStep) {
  expect_bad(base_args() + " --sparsity 0:0.5 -o " + path("s.csv"), "start:stop:step",
             path("s.csv"));
}

TEST_F(Sweep, UnknownSetKey) {
  expect_bad(base_args() + " --set bogus_key=1,2 -o " + path("s.csv"), "bogus_key", path("s.csv"));
}

TEST_F(Sweep, SetValueOutOfRange) {
  expect_bad(base_args() + " --set pe_count=16,0 -o " + path("s.csv"), "pe_count", path("s.csv"));
}

TEST_F(Sweep, UnknownMode) {
  expect_bad(base_args() + " --mode bogus -o " + path("s.csv"), "--mode bogus", path("s.csv"));
}

TEST_F(Sweep, PlotWithoutCsv) {
  expect_bad(base_args() + " --plot " + path("s.png"), "needs -o", path("s.png"));
}

TEST_F(Sweep, PlotWritesPng) {
  if (!has_matplotlib()) GTEST_SKIP() << "/usr/bin/python3 lacks matplotlib";
  const std::string csv = path("sweep.csv"), png = path("sweep.png");
  Result r = run(base_args() + " --schemes balanced,magnitude --sparsity 0,0.5 -o " + csv +
                 " --plot " + png + " --min-fidelity 5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote plot " + png), std::string::npos) << r.out;
  const std::string bytes = slurp(png);
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Four panels (energy, power, fidelity against sparsity; fidelity against energy): 13 x 9 in
  // at 110 dpi, from the IHDR chunk.
  auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1430u);
  EXPECT_EQ(be32(20), 990u);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path() << " left behind";
}

}  // namespace

namespace {

// Every point recovered: the fidelity column is the fine-tuned model's, the one-shot figure is
// kept beside it, and a recipe curve follows the sparsity axis.
TEST_F(Sweep, FinetuneRecoversEveryPointAndKeepsTheOneShotFigure) {
  const std::string csv = path("ft.csv");
  const std::string recipe = path("r.json");
  std::ofstream(recipe) << R"({"rules": [{"match": "/1/*", "scheme": "magnitude", "sparsity": 0.8},
                                        {"match": "*", "scheme": "magnitude", "sparsity": 0.4}]})";
  Result r = run(base_args() + " --schemes magnitude --sparsity 0.3,0.6 --recipe " + recipe +
                 " --finetune epochs=2,lr=3e-3,batch=64,threads=1 --train-data " + kZoo +
                 "calib.npy -o " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> header;
  auto rows = read_csv(slurp(csv), &header);
  ASSERT_EQ(rows.size(), 4u) << slurp(csv);
  std::map<std::string, double> actual;
  for (const auto& row : rows) {
    ASSERT_EQ(row.at("error"), "") << row.at("scheme");
    ASSERT_NE(row.at("fidelity_oneshot"), "") << row.at("scheme");
    // Distillation from the dense encoder on the calibration windows never ends below the
    // one-shot point (the best epoch is kept, the start included) and lifts the 60 % point.
    const double ft = std::stod(row.at("fidelity")), once = std::stod(row.at("fidelity_oneshot"));
    EXPECT_GE(ft, once) << row.at("scheme") << " " << row.at("sparsity_target");
    if (row.at("scheme") == "magnitude" && row.at("sparsity_target") == "0.6")
      EXPECT_GT(ft, once + 0.5);
    actual[row.at("scheme") + "@" + row.at("sparsity_target")] =
        std::stod(row.at("sparsity_actual"));
  }
  // The recipe's largest rule sparsity is set to each point's target, the others in proportion.
  ASSERT_EQ(actual.count("recipe@0.3"), 1u);
  EXPECT_LT(actual["recipe@0.3"], actual["recipe@0.6"]);
  EXPECT_LT(actual["recipe@0.6"], 0.6);
  // Without --finetune the one-shot column stays empty.
  Result plain = run(base_args() + " --schemes magnitude --sparsity 0.3 -o " + path("p.csv"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  auto prow = read_csv(slurp(path("p.csv")), &header);
  ASSERT_FALSE(prow.empty());
  EXPECT_EQ(prow.back().at("fidelity_oneshot"), "");
}

}  // namespace
