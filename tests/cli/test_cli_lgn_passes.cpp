// `prunesim lgn prune / verilog / verify / report` as a user runs them: the SAT pass keeps the
// function (miter proof, and ABC cec when installed) and removes gates; the budget passes meet
// the budget or refuse it with one line and no file; the Verilated network agrees with the
// evaluator and a broken one is caught; the report prices the block.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/cli_fixture.h"
#include "logic/abc.h"
#include "logic/eval.h"
#include "logic/format.h"
#include "logic/sat_sweep.h"
#include "logic/simplify.h"
#include "prune/logic/passes/nets.h"
#include "prune/npy.h"

using namespace prunesim;
using namespace prunesim::logic;
namespace fs = std::filesystem;

namespace {

class LgnPassesCli : public prunesim::testing::CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    const auto p = logic::testing::plant(logic::testing::random_net(24, 900, 40, 4, 7), 4, 8);
    net_ = p.net;
    lgn_ = path("net.lgn");
    write_lgn(net_, lgn_);
    // 300 samples of 24 features in {0, 1} (each encoder threshold is 0.5) and their labels.
    std::mt19937 rng(3);
    std::vector<float> x(300 * 24);
    for (auto& v : x) v = float(rng() % 2);
    save_npy(Tensor({300, 24}, x), path("lx.npy"));
    std::vector<int64_t> y(300);
    for (auto& v : y) v = rng() % 4;
    save_npy(Tensor::ints({300}, y), path("ly.npy"));
    save_npy(Tensor::ints({299}, std::vector<int64_t>(299, 0)), path("ly_short.npy"));
  }
  nlohmann::json json_of(const std::string& args) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  Netlist net_;
  std::string lgn_;
};

bool have(const char* tool) {
  return std::system(("command -v " + std::string(tool) + " > /dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_F(LgnPassesCli, SatRemovesGatesAndKeepsTheFunction) {
  const std::string out = path("sat.lgn");
  const auto j = json_of("lgn prune " + lgn_ + " --sat --data " + path("lx.npy") + " -o " + out +
                         " --json" + (abc_binary().empty() ? "" : " --abc"));
  const Netlist s = read_lgn(out);
  EXPECT_EQ(j["gates_before"], net_.gates.size());
  EXPECT_EQ(j["gates_after"], s.gates.size());
  EXPECT_LT(s.gates.size(), net_.gates.size());
  EXPECT_EQ(j["sat_calls"], j["proven"].get<size_t>() + j["refuted"].get<size_t>() +
                                j["budget_exhausted"].get<size_t>());
  EXPECT_EQ(check_equivalent(net_, s).verdict, EquivResult::Equivalent);
  if (!abc_binary().empty()) {
    EXPECT_EQ(j["abc"]["cec_equivalent"], true);
    EXPECT_LE(double(s.gates.size()), 1.05 * j["abc"]["fraig_two_input_gates"].get<double>());
  }
}

TEST_F(LgnPassesCli, BudgetPassesMeetTheBudget) {
  const size_t live = simplify(net_).gates.size();
  const long budget = static_cast<long>(live / 2);
  for (const char* pass : {"--similarity", "--greedy"}) {
    const std::string out = path(std::string(pass + 2) + ".lgn");
    const auto j = json_of("lgn prune " + lgn_ + " " + pass + " --gates " + std::to_string(budget) +
                           " --data " + path("lx.npy") + " --labels " + path("ly.npy") + " -o " +
                           out + " --json");
    const Netlist r = read_lgn(out);
    EXPECT_LE(r.gates.size(), static_cast<size_t>(budget)) << pass;
    EXPECT_EQ(j["gates_after"], r.gates.size());
    EXPECT_GE(j["top1_after"].get<double>(), 0.0);
  }
}

TEST_F(LgnPassesCli, FinetuneKeepsTheBudgetAndReportsTopOneBeforeAndAfter) {
  const long budget = static_cast<long>(simplify(net_).gates.size() / 2);
  const std::string out = path("ft.lgn");
  const auto j = json_of("lgn prune " + lgn_ + " --greedy --gates " + std::to_string(budget) +
                         " --data " + path("lx.npy") + " --labels " + path("ly.npy") + " -o " +
                         out + " --finetune epochs=2,threads=1 --quiet --json");
  const Netlist r = read_lgn(out);
  EXPECT_LE(r.gates.size(), static_cast<size_t>(budget));
  EXPECT_LE(r.gates.size(), j["gates_after"].get<size_t>());
  EXPECT_EQ(j["finetune"]["gates"], r.gates.size());
  EXPECT_EQ(j["finetune"]["epochs"], 2);
  EXPECT_EQ(j["finetune"]["val_samples"], 30);  // val_split 0.1 of 300
  EXPECT_GE(j["finetune"]["val_top1_best"].get<double>(),
            j["finetune"]["val_top1_start"].get<double>());
  // The reported top-1 is the written network's on --data.
  const auto t = load_npy_as_float(path("lx.npy"));
  std::vector<int64_t> y;
  for (float v : load_npy_as_float(path("ly.npy")).f) y.push_back(static_cast<int64_t>(v));
  const BitMatrix in = encode(r.encoder, t.f.data(), 300, 24);
  EXPECT_DOUBLE_EQ(j["finetune"]["top1_after"].get<double>(), accuracy(r, in, y.data(), 300));
}

TEST_F(LgnPassesCli, ImpossibleBudgetsAndBadInputGiveOneLineAndNoFile) {
  const std::string out = path("bad.lgn");
  const std::string data = " --data " + path("lx.npy") + " -o " + out;
  expect_bad("lgn prune " + lgn_ + " --similarity --gates 0" + data, "must be > 0", out);
  expect_bad("lgn prune " + lgn_ + " --greedy --gates -4" + data, "must be > 0", out);
  expect_bad("lgn prune " + lgn_ + " --greedy --gates 100000" + data, "above the network", out);
  expect_bad(
      "lgn prune " + lgn_ + " --similarity --gates 1" + data + " --labels " + path("ly_short.npy"),
      "ly_short.npy", out);
  expect_bad("lgn prune " + lgn_ + " --sat --gates 10 -o " + out, "takes no budget", out);
  expect_bad("lgn prune " + lgn_ + " -o " + out, "exactly one of", out);
  expect_bad("lgn prune " + lgn_ + " --greedy --gates 10 -o " + out, "need --data", out);
  expect_bad("lgn prune " + lgn_ + " --greedy --gates 10 --finetune epochs=2" + data,
             "--finetune needs --data and --labels", out);
  expect_bad("lgn prune " + lgn_ + " --sat --finetune epochs=2" + data, "--finetune follows", out);
  expect_bad("lgn prune " + lgn_ + " --greedy --gates 200 --finetune epochs=0" + data +
                 " --labels " + path("ly.npy"),
             "--finetune", out);
  std::string bytes = prunesim::testing::slurp(lgn_);
  bytes.resize(bytes.size() / 2);
  std::ofstream(path("cut.lgn"), std::ios::binary) << bytes;
  expect_bad("lgn prune " + path("cut.lgn") + " --sat -o " + out, "cut.lgn", out);
  expect_bad("lgn verilog " + lgn_ + " -o " + path("net.txt"), "must end in", path("net.txt"));
}

TEST_F(LgnPassesCli, VerilatedNetworkAgreesWithTheEvaluatorAndABrokenOneIsCaught) {
  if (!have("verilator")) GTEST_SKIP() << "verilator not on PATH";
  const auto r = run("lgn verilog " + lgn_ + " -o " + path("net.sv"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(prunesim::testing::slurp(path("net.sv")).find("module net ("), std::string::npos);
  const auto ok = json_of("lgn verify " + lgn_ + " --data " + path("lx.npy") + " --json");
  EXPECT_EQ(ok["pass"], true);
  EXPECT_EQ(ok["samples"], 300);
  const auto bad = run("lgn verify " + lgn_ + " --data " + path("lx.npy") + " --broken --json");
  EXPECT_EQ(bad.code, 1) << bad.err;
  const auto j = nlohmann::json::parse(bad.out);
  EXPECT_EQ(j["pass"], false);
  EXPECT_EQ(j["first_divergence"]["output"], 0);
  EXPECT_EQ(j["first_divergence"]["sample"], 0);
  EXPECT_GE(j["mismatches"].get<int>(), 300);  // output 0 on every sample, maybe more
}

TEST_F(LgnPassesCli, VerifyLgnRunsTheSameCheckAndRefusesAcceleratorOptions) {
  if (!have("verilator")) GTEST_SKIP() << "verilator not on PATH";
  const auto ok = json_of("verify --lgn " + lgn_ + " --data " + path("lx.npy") + " --json");
  EXPECT_EQ(ok["pass"], true);
  EXPECT_EQ(ok["samples"], 300);
  EXPECT_EQ(ok["network"], lgn_);
  expect_bad("verify --lgn " + lgn_ + " --data " + path("lx.npy") + " --arch raman",
             "verify --lgn: --arch is for the accelerator", "");
  expect_bad("verify --lgn " + lgn_, "verify --lgn needs --data", "");
  expect_bad("verify --data " + path("lx.npy"), "--data goes with --lgn", "");
  expect_bad("verify --input " + path("lx.npy"), "--arch is required", "");
}

TEST_F(LgnPassesCli, ReportPricesTheBlock) {
  const auto j = json_of("lgn report " + lgn_ + " --data " + path("lx.npy") + " --json");
  EXPECT_EQ(j["gates"], simplify(net_).gates.size());
  EXPECT_EQ(j["gates_in_file"], net_.gates.size());
  EXPECT_GT(j["depth_levels"].get<int>(), 0);
  EXPECT_GT(j["area_mm2"].get<double>(), 0.0);
  EXPECT_GT(j["energy_per_inference_j"].get<double>(), 0.0);
  // Fewer gates after the SAT pass: less area.
  json_of("lgn prune " + lgn_ + " --sat -o " + path("s.lgn") + " --json");
  const auto s = json_of("lgn report " + path("s.lgn") + " --data " + path("lx.npy") + " --json");
  EXPECT_LT(s["area_mm2"].get<double>(), j["area_mm2"].get<double>());
}
