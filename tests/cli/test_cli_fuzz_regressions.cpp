// Every input in tests/fuzz/regressions/<target>/ (fuzzer findings and the hand-made hostile
// files of issue 16) replayed through the CLI as a user would meet it: exit 2, one line that
// names the file and a place in it, and no output file or temporary left behind.
#include <set>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

const fs::path kRegressions = fs::path(PRUNESIM_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
const std::string kZoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/";

std::vector<fs::path> inputs(const std::string& target) {
  std::vector<fs::path> r;
  if (fs::is_directory(kRegressions / target))
    for (const auto& e : fs::directory_iterator(kRegressions / target)) r.push_back(e.path());
  std::sort(r.begin(), r.end());
  return r;
}

// `args` with {} replaced by each regression file of `target`; `output` must not exist after.
template <typename Base>
class Replay : public Base {
 protected:
  // only: a subset of the file names (a slow command need not see every file of a class).
  void replay(const std::string& target, const std::string& args, const std::string& output,
              const std::set<std::string>& only = {}) {
    auto files = inputs(target);
    if (!only.empty())
      files.erase(std::remove_if(files.begin(), files.end(),
                                 [&](const fs::path& f) { return !only.count(f.filename()); }),
                  files.end());
    EXPECT_FALSE(files.empty()) << "no regressions for " << target;
    for (const auto& f : files) {
      std::string a = args;
      a.replace(a.find("{}"), 2, f.string());
      SCOPED_TRACE(f.filename().string());
      // The file, then a place: "prunesim: error: <file>: <place>: <what>".
      this->expect_bad(a, "error: " + f.string() + ": ", output);
      const Result r = this->run(a);
      const size_t at = r.err.find(f.string() + ": ");
      ASSERT_NE(at, std::string::npos) << r.err;
      EXPECT_NE(r.err.find(": ", at + f.string().size() + 2), std::string::npos)
          << "no place after the file name: " << r.err;
    }
  }
};
using FuzzRegressions = Replay<CliFixture>;
// The architecture inputs need a table the RAMAN-like core takes (the bundled encoder).
using FuzzRegressionsRaman = Replay<RamanEncoderFixture>;

TEST_F(FuzzRegressions, OnnxInspectAndInfer) {
  replay("onnx", "inspect {}", "");
  replay("onnx", "infer {} --input " + path("x.npy") + " --output " + path("o.npy"), path("o.npy"));
}

TEST_F(FuzzRegressions, OnnxPruneLeavesNoOutputs) {
  // prune loads more than inspect (seconds per run): one file per kind of refusal.
  replay("onnx",
         "prune {} --sparsity 0.5 -o " + path("p.pwt") + " --calib " + path("calib.npy") +
             " --onnx-out " + path("p.onnx") + " --report " + path("r.json"),
         path("p.onnx"),
         {"name_not_utf8.onnx", "node_without_output.onnx", "reshape_count_wraps.onnx",
          "input_shape_over_cap.onnx"});
  for (const char* f : {"p.pwt", "r.json"}) EXPECT_FALSE(fs::exists(path(f))) << f;
}

TEST_F(FuzzRegressions, Npy) {
  replay("npy", "infer " + model_ + " --input {} --output " + path("o.npy"), path("o.npy"));
}

TEST_F(FuzzRegressions, NpzMasks) {
  replay("npz", "prune " + model_ + " --scheme mask --mask-file {} --onnx-out " + path("p.onnx"),
         path("p.onnx"));
}

TEST_F(FuzzRegressions, Recipe) {
  replay("recipe", "prune " + model_ + " --recipe {} --onnx-out " + path("p.onnx"), path("p.onnx"));
}

TEST_F(FuzzRegressions, WeightTables) {
  replay("pwt", "tables inspect {}", "");
  replay("pwt", "infer {} --input " + kZoo + "digits_dscnn/sample.npy --output " + path("o.npy"),
         path("o.npy"));
  replay("pwt",
         "simulate --arch raman --tables {} --input " + kZoo +
             "digits_dscnn/sample.npy --mode analytical --report " + path("r.json"),
         path("r.json"));
}

TEST_F(FuzzRegressionsRaman, ArchConfig) {
  replay("config",
         "simulate --arch raman --tables " + table + " --input " + kZoo +
             "ds_cae1/sample.npy --mode analytical --config {} --report " + path("r.json"),
         path("r.json"));
}

TEST_F(FuzzRegressionsRaman, TechTables) {
  replay("tech",
         "simulate --arch raman --tables " + table + " --input " + kZoo +
             "ds_cae1/sample.npy --mode analytical --set tech={} --report " + path("r.json"),
         path("r.json"));
}

// Every target with a regressions folder is replayed above (a new folder needs a test).
TEST(FuzzRegressionsCover, EveryFolderHasAReplay) {
  const std::set<std::string> replayed = {"onnx", "npy", "npz", "recipe", "pwt", "config", "tech"};
  for (const auto& e : fs::directory_iterator(kRegressions))
    EXPECT_TRUE(replayed.count(e.path().filename().string())) << e.path();
}

}  // namespace
}  // namespace prunesim::testing
