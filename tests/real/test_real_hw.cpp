// The real networks as a user brings them, through the command line: pruned with magnitude,
// balanced (for the RAMAN core's 16 PEs) and channel schemes, then simulated on the FPGA-SoC
// pipeline (tensor input) and on the RAMAN core in both modes, whose cycles must agree and
// whose outputs must be bit-exact with the integer reference (issue 12's acceptance list).
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "real_models.h"

namespace prunesim::real {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out, err;
};

class RealHwTest : public RealModelTest {
 protected:
  void SetUp() override {
    RealModelTest::SetUp();
    if (IsSkipped()) return;
    // One folder per test and process: the fpga-soc and raman cases of a model run in parallel
    // under ctest -j, and other checkouts may run the same tests on this machine.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string id = std::string(info->name()) + "_" + std::to_string(::getpid());
    for (char& ch : id)
      if (ch == '/') ch = '_';
    dir_ = fs::temp_directory_path() / ("prunesim_real_hw_" + id);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string tmp(const std::string& n) const { return (dir_ / n).string(); }
  CliRun run(const std::string& args) const {
    const std::string o = tmp("out.txt"), e = tmp("err.txt");
    CliRun r;
    const int s =
        std::system((std::string(PRUNESIM_BIN) + " " + args + " >" + o + " 2>" + e).c_str());
    r.code = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    auto slurp = [](const std::string& p) {
      std::ifstream f(p);
      std::stringstream b;
      b << f.rdbuf();
      return b.str();
    };
    r.out = slurp(o);
    r.err = slurp(e);
    return r;
  }
  nlohmann::json json_of(const CliRun& r, const std::string& what) const {
    EXPECT_EQ(r.code, 0) << what << ": " << r.err;
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception&) {
      ADD_FAILURE() << what << ": not JSON: " << r.out.substr(0, 300) << r.err;
      return {};
    }
  }
  // prune MODEL ARGS --calib X -o T.pwt --json: the report.
  nlohmann::json prune(const std::string& args, const std::string& table) const {
    return json_of(run("prune " + path(".onnx") + " " + args + " --calib " + path("_x.npy") +
                       " -o " + table + " --quiet --json"),
                   "prune " + args);
  }
  fs::path dir_;
};

// The six architectures issue 12 names; the other exports are covered by the import suite.
std::vector<RealModel> hw_models() {
  std::vector<RealModel> v;
  for (const auto& m : real_models())
    for (const char* n : {"mobilenet_v2", "resnet18", "squeezenet1_1", "mobilenet_v3_small",
                          "efficientnet_b0", "shufflenet_v2_x0_5"})
      if (m.name == n) v.push_back(m);
  return v;
}

TEST_P(RealHwTest, PrunesWithMagnitudeBalancedAndChannel) {
  const auto mag = prune("--scheme magnitude --sparsity 0.5", tmp("mag.pwt"));
  EXPECT_NEAR(mag["total"]["sparsity"].get<double>(), 0.5, 0.01);
  // Balanced for the 16-PE core: every channel count maps (the PEs in use divide it); layers
  // whose PE groups hold one weight stay dense, so the total is somewhat below the target.
  const auto bal = prune("--scheme balanced --sparsity 0.5 --pes 16", tmp("bal.pwt"));
  EXPECT_GT(bal["total"]["sparsity"].get<double>(), 0.3);
  for (const auto& l : bal["layers"])
    if (l.contains("balanced")) EXPECT_LE(l["balanced"]["pes"].get<int64_t>(), 16) << l["name"];
  // Channel pruning removes channels across the dependency groups; what it took is counted
  // against the original model, and the pruned table still runs.
  const auto ch = prune("--scheme channel --sparsity 0.3", tmp("ch.pwt"));
  EXPECT_GT(ch["total"]["sparsity"].get<double>(), 0.05) << GetParam().name;
  EXPECT_LT(ch["total"]["params"].get<int64_t>(), ch["total"]["params_dense"].get<int64_t>());
  const CliRun inf =
      run("infer " + tmp("ch.pwt") + " --input " + path("_x.npy") + " --output " + tmp("y.npy"));
  EXPECT_EQ(inf.code, 0) << inf.err;
}

TEST_P(RealHwTest, RunsOnTheFpgaSocInTensorMode) {
  prune("--scheme magnitude --sparsity 0.5", tmp("mag.pwt"));
  for (const char* mode : {"analytical", "cycle"}) {
    const auto j = json_of(run("simulate --arch fpga-soc --tables " + tmp("mag.pwt") + " --input " +
                               path("_x.npy") + " --mode " + mode + " --json"),
                           std::string("fpga-soc ") + mode);
    EXPECT_TRUE(j.value("bit_exact", false)) << mode;
    EXPECT_GT(j.value("throughput_fps", 0.0), 0.0) << mode;
  }
}

// The RAMAN core: the fit check names the --set values the model needs; with them the table is
// written and every model (squeeze-excite Mul, HardSwish and SiLU look-ups, ShuffleNet's
// channel shuffle and split included) runs in both modes with equal cycles and outputs
// bit-exact with the integer reference.
TEST_P(RealHwTest, RunsOnTheRamanCoreInBothModes) {
  const std::string base = "prune " + path(".onnx") + " --scheme balanced --sparsity 0.5 --calib " +
                           path("_x.npy") + " --target raman --quiet -o " + tmp("r.pwt");
  CliRun first = run(base);
  std::string sets;
  if (first.code == 2 && first.err.find("does not fit the raman core") != std::string::npos) {
    // "set act_mem_bytes >= 116009 (...); set weight_mem_bytes >= 1338687 (...)"
    static const std::regex re(R"(set ([a-z_]+) >= ([0-9]+))");
    for (std::sregex_iterator it(first.err.begin(), first.err.end(), re), end; it != end; ++it)
      sets += " --set " + (*it)[1].str() + "=" + (*it)[2].str();
    EXPECT_FALSE(sets.empty()) << first.err;
    EXPECT_FALSE(fs::exists(tmp("r.pwt")));
    first = run(base + sets);
  }
  ASSERT_EQ(first.code, 0) << first.err;
  // One sample is enough for the equality checks (the report is per inference).
  ASSERT_EQ(
      run("infer " + path(".onnx") + " --input " + path("_x.npy") + " --output " + tmp("y.npy"))
          .code,
      0);
  const std::string sim = "simulate --arch raman --tables " + tmp("r.pwt") + " --input " +
                          path("_x.npy") + sets + " --rate 1 --json";
  const auto c = json_of(run(sim + " --mode cycle"), "raman cycle");
  const auto a = json_of(run(sim + " --mode analytical"), "raman analytical");
  EXPECT_TRUE(c.value("bit_exact_vs_reference", false));
  EXPECT_EQ(c["latency_cycles"], a["latency_cycles"]);
  EXPECT_EQ(c["energy_j"], a["energy_j"]);
  ASSERT_EQ(c["layers"].size(), a["layers"].size());
  // Every count of every layer, not only its cycles.
  for (size_t k = 0; k < c["layers"].size(); ++k)
    for (auto it = a["layers"][k].begin(); it != a["layers"][k].end(); ++it)
      EXPECT_EQ(it.value(), c["layers"][k][it.key()]) << c["layers"][k]["name"] << " " << it.key();
}

INSTANTIATE_TEST_SUITE_P(Real, RealHwTest, ::testing::ValuesIn(hw_models()),
                         [](const ::testing::TestParamInfo<RealModel>& i) { return i.param.name; });

}  // namespace
}  // namespace prunesim::real
