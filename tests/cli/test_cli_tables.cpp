// `prunesim tables inspect` and `prunesim infer FILE.pwt` as a user runs them: the listing and
// its JSON, the integer reference run straight from a table, and one-line errors with exit
// code 2 for damaged or foreign files.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/cli_fixture.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pruning.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace fs = std::filesystem;
using namespace prunesim;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;

namespace {

using prunesim::testing::slurp;
using CliRun = prunesim::testing::Result;

// The shared CLI fixture's model, with half the weights pruned and written as a table.
class TablesCli : public prunesim::testing::CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    Graph g = load_onnx(model_);
    MaskMap masks;
    for (const auto& l : prunable_layers(g)) {
      auto& m = masks[l.weight];
      m.resize(static_cast<size_t>(l.rows * l.cols));
      for (size_t k = 0; k < m.size(); ++k) m[k] = (k * 7 + 3) % 4 < 2;  // half kept
    }
    const Graph pruned = apply_masks(g, masks);
    q_ = quantize(pruned, Tensor({16, 2, 8}, ramp(256, 6)));
    table_ = path("net.pwt");
    write_tables(q_, masks, {}, TableOptions{}, table_);
  }
  // Exit 2, exactly one line on stderr containing every needle, no output file, no temp file.
  void expect_bad(const std::string& args, const std::vector<std::string>& needles,
                  const std::string& output = "") {
    CliRun r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& n : needles)
      EXPECT_NE(r.err.find(n), std::string::npos) << "want '" << n << "' in: " << r.err;
    if (!output.empty()) {
      EXPECT_FALSE(fs::exists(output)) << output << " left behind";
    }
    for (const auto& e : fs::directory_iterator(dir_))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path() << " left behind";
  }

  std::string damaged(const std::string& name, size_t at) const {
    std::string b = slurp(table_);
    b[at] ^= 0x20;
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << b;
    return p;
  }

  std::string table_;
  QuantizedModel q_;
};

}  // namespace

TEST_F(TablesCli, InspectListsEveryLayer) {
  CliRun r = run("tables inspect " + table_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("conv1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fc"), std::string::npos);
  EXPECT_NE(r.out.find("[4, 2, 3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ok"), std::string::npos);
  EXPECT_NE(r.out.find("total:"), std::string::npos);
  std::string size = std::to_string(fs::file_size(table_));
  for (size_t k = size.size(); k > 3; k -= 3) size.insert(k - 3, ",");
  EXPECT_NE(r.out.find("file " + size + " B"), std::string::npos) << r.out;
}

TEST_F(TablesCli, InspectJsonMatchesTheLibrary) {
  CliRun r = run("tables inspect " + table_ + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  TableSummary s;
  read_tables(table_, &s);
  EXPECT_EQ(j["file_bytes"], s.file_bytes);
  EXPECT_EQ(j["version"], 1);
  ASSERT_EQ(j["layers"].size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(j["layers"][k]["name"], s.layers[k].name);
    EXPECT_EQ(j["layers"][k]["encoding"], s.layers[k].encoding);
    EXPECT_EQ(j["layers"][k]["value_bytes"], s.layers[k].value_bytes);
    EXPECT_EQ(j["layers"][k]["meta_bytes"], s.layers[k].meta_bytes);
    EXPECT_EQ(j["layers"][k]["crc_ok"], true);
  }
  EXPECT_EQ(j["layers"][0]["shape"], (std::vector<int64_t>{4, 2, 3}));
  EXPECT_EQ(j["total"]["weights"], 24 + 48);
}

TEST_F(TablesCli, InferRunsTheTableOnTheIntegerReference) {
  CliRun r = run("infer " + table_ + " --input " + path("x.npy") + " --output " + path("y.npy") +
                 " --output-int8 " + path("q.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  const Int8Result want = run_int8(q_, x_);
  EXPECT_EQ(load_npy(path("q.npy")).i, want.output_int8.i);
  EXPECT_EQ(load_npy(path("y.npy")).f, want.output_float.f);
  EXPECT_EQ(load_npy(path("y.npy")).shape, (Shape{5, 3}));
}

TEST_F(TablesCli, HelpAndMissingSubcommand) {
  CliRun h = run("tables inspect --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--json"), std::string::npos);
  CliRun t = run("tables");
  EXPECT_EQ(t.code, 2);
}

TEST_F(TablesCli, CorruptLayerIsOneLineNamingFileAndLayer) {
  TableSummary s;
  read_tables(table_, &s);
  const std::string bad = damaged("bad.pwt", static_cast<size_t>(s.layers[1].offset) + 40);
  expect_bad("tables inspect " + bad, {"bad.pwt", "layer 'fc'", "CRC mismatch"});
  expect_bad("infer " + bad + " --input " + path("x.npy") + " --output " + path("y.npy"),
             {"bad.pwt", "layer 'fc'"}, path("y.npy"));
}

TEST_F(TablesCli, TruncatedAndForeignFiles) {
  const std::string b = slurp(table_);
  for (size_t cut : {size_t{30}, size_t{200}, b.size() - 10}) {
    std::ofstream(path("cut.pwt"), std::ios::binary) << b.substr(0, cut);
    expect_bad("tables inspect " + path("cut.pwt"), {"cut.pwt", "truncated"});
  }
  expect_bad("tables inspect " + model_, {"net.onnx", "bad magic"});
  expect_bad("tables inspect " + path("none.pwt"), {"none.pwt"});
  const std::string v = damaged("v2.pwt", 8);
  expect_bad("tables inspect " + v, {"v2.pwt", "version"});
}

TEST_F(TablesCli, InferTableRejectsCalibAndWrongInput) {
  expect_bad("infer " + table_ + " --calib " + path("calib.npy") + " --input " + path("x.npy") +
                 " --output " + path("y.npy"),
             {"--calib", "net.pwt"}, path("y.npy"));
  save_npy(Tensor({2, 3, 8}, ramp(48, 1)), path("wrong.npy"));
  expect_bad("infer " + table_ + " --input " + path("wrong.npy") + " --output " + path("y.npy"),
             {"wrong.npy"}, path("y.npy"));
}
