// Every input in tests/fuzz/regressions/<target>/ (fuzzer findings and the hand-made hostile
// files of issue 16) replayed through the CLI as a user would meet it: exit 2, one line that
// names the file and a place in it, and no output file or temporary left behind.
#include <map>
#include <set>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

const fs::path kRegressions = fs::path(PRUNESIM_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
const std::string kZoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/";

// The rule each hand-made hostile file must meet (the message's tail): a file refused for the
// wrong reason would hide the class it stands for. Fuzzer findings need only the generic check.
const std::map<std::string, std::string> kWhy = {
    {"add_broadcast_axis_huge.onnx", "node 'a' (Add): axis 1099511627776 out of range"},
    {"add_broadcast_axis_negative.onnx", "node 'a' (Add): axis -9 out of range"},
    {"conv_pads_negative.onnx", "attribute 'pads' value -1 is outside [0, "},
    {"conv_stride_0.onnx", "(Conv): attribute 'strides' value 0 is outside [1, "},
    {"empty_input_batchnorm.onnx", "required input 0 has an empty name"},
    {"empty_input_conv.onnx", "required input 1 has an empty name"},
    {"empty_input_globalaveragepool.onnx", "required input 0 has an empty name"},
    {"empty_input_matmul.onnx", "required input 1 has an empty name"},
    {"empty_input_relu.onnx", "required input 0 has an empty name"},
    {"initializer_size_wraps.onnx", "initializer 'w': shape [4294967296, 4294967296, 16]"},
    {"input_dim_negative.onnx", "negative dimension -5"},
    {"input_shape_over_cap.onnx", "more than the memory cap of 4 GiB"},
    {"name_not_utf8.onnx", "node 'rel\\xFF': name is not valid UTF-8"},
    {"node_without_output.onnx", "(Relu): has no output"},
    {"pool_stride_0.onnx", "(MaxPool): attribute 'strides' value 0"},
    {"pool_stride_negative.onnx", "(MaxPool): attribute 'strides' value -2"},
    {"reshape_count_wraps.onnx", "(Reshape): shape [4294967296, 4294967296, 1]: element count"},
    {"resize_scale_1e30.onnx", "(Resize): value 4e+30 does not fit an integer size"},
    {"transpose_repeated_axis.onnx", "attribute 'perm' [0, 1, 1, 3] is not a permutation"},
    {"input_scale_nan.pwt", "input scale: scale nan is not a finite number > 0"},
    {"output_scale_nan.pwt", "output scale: scale nan"},
    {"requant_shift_99.pwt", "requant 0: multiplier 1691111577 / shift 99 outside"},
    {"requant_shift_negative.pwt", "/ shift -6 outside"},
    {"avgpool_requant_empty.pwt", "has 0 requantization records, its kind needs 3"},
    {"avgpool_requant_short.pwt", "has 2 requantization records, its kind needs 3"},
    {"global_avgpool_requant_empty.pwt", "has 0 requantization records, its kind needs 1"},
    {"shape_table_misses_layer.pwt", "missing from the value-shape table"},
    {"shape_table_wrong.pwt", "shape table says [1, 23, 8, 8], the graph gives [1, 16, 8, 8]"},
    {"layer_name_not_utf8.pwt", "Conv\\xFF' is not valid UTF-8"},
    {"pool_stride_0.pwt", "(MaxPool): attribute 'strides' value 0"},
    {"declared_size_impossible.npz", "declared size 4294967295 is impossible"},
    {"name_not_utf8.npz", "member name is not valid UTF-8"},
    {"shape_overflows.npy", "shape entry 4611686018427387904 is too large"},
    {"truncated_data.npy", "truncated data: shape [2, 2] of <f4 needs 16 bytes"},
    {"number_1e400.json", "invalid JSON: number overflow parsing '1e400'"},
    {"nested_deep.json", "JSON nested more than 64 levels deep"},
    {"huge_int.json", "pe_count: 1e+300 does not fit a 64-bit integer"},
    {"fuzz_set_text_not_utf8.sets", "tech: 'k2\\xF66' is not valid UTF-8"},
    {"classes_zero.lgn", "outputs: 20 outputs do not split into 0 classes"},
    {"crc_mismatch.lgn", "body: CRC mismatch"},
    {"gate_count_beyond_file.lgn", "gate table: 4294967295 × 12 bytes, but only"},
    {"gate_reads_later_signal.lgn", "gate 0: reads signal 69, not an earlier one"},
    {"output_signal_out_of_range.lgn", "signal 1084 does not exist"},
    {"threshold_nan.lgn", "a threshold is not finite"},
    {"truncated.lgn", "(truncated or corrupt file)"},
};

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
      // The file, then a place: "prunesim: error: <file>: <place>: <what>"; one run per file
      // (expect_bad's checks, inline: prunesim takes seconds to start on a loaded machine).
      const Result r = this->run(a);
      EXPECT_EQ(r.code, 2) << a << "\n" << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      const size_t at = r.err.find("error: " + f.string() + ": ");
      ASSERT_NE(at, std::string::npos) << r.err;
      EXPECT_NE(r.err.find(": ", at + 7 + f.string().size() + 2), std::string::npos)
          << "no place after the file name: " << r.err;
      if (!output.empty()) EXPECT_FALSE(fs::exists(output)) << output << " left behind";
      for (const auto& e : fs::directory_iterator(this->dir_))
        EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path() << " left";
      auto why = kWhy.find(f.filename().string());
      if (why != kWhy.end())
        EXPECT_NE(r.err.find(why->second), std::string::npos)
            << "want '" << why->second << "' in: " << r.err;
    }
  }
};
using FuzzRegressions = Replay<CliFixture>;
// The architecture inputs need a table the RAMAN-like core takes (the bundled encoder).
using FuzzRegressionsRaman = Replay<RamanEncoderFixture>;

TEST_F(FuzzRegressions, OnnxInspect) {
  replay("onnx", "inspect {}", "");
}

TEST_F(FuzzRegressions, OnnxInfer) {
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

TEST_F(FuzzRegressions, WeightTablesInspect) {
  replay("pwt", "tables inspect {}", "");
}

TEST_F(FuzzRegressions, WeightTablesInfer) {
  replay("pwt", "infer {} --input " + kZoo + "digits_dscnn/sample.npy --output " + path("o.npy"),
         path("o.npy"));
}

TEST_F(FuzzRegressions, WeightTablesSimulate) {
  replay("pwt",
         "simulate --arch raman --tables {} --input " + kZoo +
             "digits_dscnn/sample.npy --mode analytical --report " + path("r.json"),
         path("r.json"));
}

TEST_F(FuzzRegressionsRaman, ArchConfig) {
  const std::string sim = "simulate --arch raman --tables " + table + " --input " + kZoo +
                          "ds_cae1/sample.npy --mode analytical --report " + path("r.json");
  std::set<std::string> json;
  for (const auto& f : inputs("config"))
    if (f.extension() == ".json") json.insert(f.filename());
  replay("config", sim + " --config {}", path("r.json"), json);
  // *.sets: one --set KEY=VALUE per line (the fuzz_config target's text after its NUL byte).
  for (const auto& f : inputs("config")) {
    if (f.extension() != ".sets") continue;
    SCOPED_TRACE(f.filename().string());
    std::string args = sim;
    std::istringstream lines(slurp(f));
    for (std::string l; std::getline(lines, l);) args += " --set '" + l + "'";
    expect_bad(args, "error: --set ", path("r.json"));
    const Result r = run(args);
    auto why = kWhy.find(f.filename().string());
    if (why != kWhy.end()) EXPECT_NE(r.err.find(why->second), std::string::npos) << r.err;
  }
}

TEST_F(FuzzRegressionsRaman, TechTables) {
  replay("tech",
         "simulate --arch raman --tables " + table + " --input " + kZoo +
             "ds_cae1/sample.npy --mode analytical --set tech={} --report " + path("r.json"),
         path("r.json"));
}

// The logic-network reader, through the commands that read a .lgn: eval, prune (its outputs
// must not appear) and verilog.
TEST_F(FuzzRegressions, LogicNetworks) {
  const std::string dz = kZoo + "digits_dscnn/";
  replay("lgn", "lgn eval {} --data " + dz + "eval.npy --labels " + dz + "eval_labels.npy", "");
  replay("lgn", "lgn prune {} --sat -o " + path("p.lgn"), path("p.lgn"));
  replay("lgn", "lgn verilog {} -o " + path("n.sv"), path("n.sv"));
}

// Every target with a regressions folder is replayed above (a new folder needs a test).
TEST(FuzzRegressionsCover, EveryFolderHasAReplay) {
  const std::set<std::string> replayed = {"onnx", "npy",    "npz",  "recipe",
                                          "pwt",  "config", "tech", "lgn"};
  for (const auto& e : fs::directory_iterator(kRegressions))
    EXPECT_TRUE(replayed.count(e.path().filename().string())) << e.path();
}

}  // namespace
}  // namespace prunesim::testing
