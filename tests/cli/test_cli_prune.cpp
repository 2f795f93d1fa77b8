// `prunesim prune` and `prunesim sensitivity` as a user runs them.
#include <gtest/gtest.h>
#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pruning.h"

using namespace prunesim;
namespace fs = std::filesystem;
using prunesim::testing::Result;
using prunesim::testing::slurp;
using Prune = prunesim::testing::CliFixture;

TEST_F(Prune, ListNamesEveryScheme) {
  Result r = run("prune --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& s : scheme_names()) EXPECT_NE(r.out.find(s + "  "), std::string::npos) << s;
}

// The flags and the listing come from each scheme's declarations: every option is listed under
// its scheme with its default and range, and an option of one name in two schemes (criterion)
// keeps each scheme's own default.
TEST_F(Prune, ListShowsEachSchemesOptions) {
  Result r = run("prune --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* line :
       {"--n ", "--m ", "--block", "--mask-file", "--granularity", "--threshold"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line;
  EXPECT_NE(r.out.find("l1|l2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cosine|correlation"), std::string::npos) << r.out;
  Result h = run("prune --help");
  EXPECT_NE(h.out.find("channel: filter norm that ranks channels (l1|l2) [l1]"), std::string::npos)
      << h.out;
  expect_bad("prune " + model_ + " --scheme nm --n 99999 --onnx-out " + path("p.onnx"),
             "--n: n must be in [0, 65536]", path("p.onnx"));
  expect_bad(
      "prune " + model_ + " --scheme balanced --variant sideways --onnx-out " + path("p.onnx"),
      "--variant: variant: 'sideways' is not one of pattern|lfsr", path("p.onnx"));
}

// --target takes what the architecture declares it decodes; the refusals name the target and
// what it decodes, and no table is written.
TEST_F(Prune, TargetTakesTheEncodingsTheArchitectureDecodes) {
  const std::string base = "prune " + model_ + " --sparsity 0.5 --calib " + path("calib.npy");
  expect_bad(base + " --target tpu -o " + path("t.pwt"),
             "--target: unknown target 'tpu' (known: raman, or none for any)", path("t.pwt"));
  expect_bad(base + " --target raman --encoding rle -o " + path("t.pwt"),
             "encoding 'rle' is not accepted by target 'raman' (it decodes balanced, bitmap, csr, "
             "dense)",
             path("t.pwt"));
  expect_bad(base + " --csr-index-bits 5 -o " + path("t.pwt"),
             "--csr-index-bits: index_bits: 5 is not one of 4|8|16", path("t.pwt"));
  Result r = run(base + " --encoding rle --rle-run-bits 3 -o " + path("t.pwt") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  Result t = run("tables inspect " + path("t.pwt") + " --json");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("\"run_bits\": 3"), std::string::npos) << t.out;
  r = run(base + " --encoding csr --csr-index-bits 16 -o " + path("t.pwt") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  t = run("tables inspect " + path("t.pwt") + " --json");
  EXPECT_NE(t.out.find("\"index_bits\": 16"), std::string::npos) << t.out;
}

TEST_F(Prune, MagnitudeWritesOnnxAndReport) {
  Result r = run("prune " + model_ + " --scheme magnitude --sparsity 0.5 --onnx-out " +
                 path("p.onnx") + " --report " + path("r.json") + " --data " + path("x.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sparsity 50.0%"), std::string::npos) << r.out;
  Graph p = load_onnx(path("p.onnx"));
  EXPECT_NEAR(weight_sparsity(p), 0.5, 0.01);
  auto rep = nlohmann::json::parse(slurp(path("r.json")));
  EXPECT_EQ(rep["total"]["weights"], 24 + 48);
  EXPECT_EQ(rep["total"]["nonzero"], 12 + 24);
  EXPECT_EQ(rep["layers"][0]["macs_dense"], 192);
  EXPECT_EQ(rep["layers"][0]["macs_effective"], 96);
  EXPECT_TRUE(rep["fidelity"]["pruned"].contains("sndr_db"));  // no labels: against the dense model
  for (const auto& l : rep["layers"])
    EXPECT_TRUE(l["fidelity_alone"].contains("sndr_db")) << l["name"];
}

TEST_F(Prune, BalancedReportsStorage) {
  Result r = run("prune " + model_ +
                 " --scheme balanced --sparsity 0.5 --pes 2 --cluster 1 --layers conv1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_TRUE(rep["balanced"]["storage_saving"].contains("vs_csr"));
  EXPECT_EQ(rep["layers"][0]["balanced"]["k"], 1);
}

// A channel rule on layers that produce no removable channel group (the depthwise first layer
// reads the model input; the last layer makes the model output) leaves them as they were: said
// in one warning line naming them, while the layer it can prune is pruned.
TEST_F(Prune, ChannelRuleLeftLayersAsTheyWereWarnsNamingThem) {
  const std::string z = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";
  const std::string recipe = path("r.json");
  std::ofstream(recipe) << R"({"rules": [{"match": "/0/Conv", "scheme": "channel", "sparsity": 0.5},
    {"match": "/16/Conv", "scheme": "channel", "sparsity": 0.5},
    {"match": "/1/Conv", "scheme": "channel", "sparsity": 0.5}, {"match": "*", "skip": true}]})";
  Result r = run("prune " + z + "encoder.onnx --recipe " + recipe + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("warning: channel rules left /0/Conv, /16/Conv as they were", 0), 0u)
      << r.err;
  const auto rep = nlohmann::json::parse(r.out);
  for (const auto& l : rep["layers"])
    if (l["name"] == "/1/Conv") EXPECT_DOUBLE_EQ(l["sparsity"].get<double>(), 0.5) << l.dump();
}

// A request that falls short says so on the console: balanced pruning of a layer whose PE groups
// hold one weight keeps that weight, and the warning names the layer and the total reached.
TEST_F(Prune, BalancedShortOfTheTargetWarnsNamingTheLayer) {
  const std::string enc = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/encoder.onnx";
  Result r = run("prune " + enc + " --scheme balanced --sparsity 0.5 --pes 16");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("warning: reached 47.9 % weight sparsity of the 50.0 % asked", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("/16/Conv 0.0 %"), std::string::npos) << r.err;
  // --strict (before or after the subcommand) makes the shortfall an error with no output.
  expect_bad("prune " + enc + " --scheme balanced --sparsity 0.5 --pes 16 --strict --calib " +
                 std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/calib.npy -o " + path("s.pwt"),
             "reached 47.9 % weight sparsity of the 50.0 % asked", path("s.pwt"));
  expect_bad(
      "--strict prune " + enc + " --scheme balanced --sparsity 0.5 --onnx-out " + path("s.onnx"),
      "(--strict)", path("s.onnx"));
  // Reached everywhere: no warning.
  Result m = run("prune " + enc + " --scheme magnitude --sparsity 0.5");
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(m.err, "");
  // 10 PEs do not divide 96 channels: the layers run on 8 PEs and the console says so.
  Result p = run("prune " + enc + " --scheme balanced --sparsity 0.5 --pes 10 --json");
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(p.err.find("note: balanced: "), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("/0/Conv 8 of 10"), std::string::npos) << p.err;
  const auto j = nlohmann::json::parse(p.out);
  EXPECT_EQ(j["layers"][0]["balanced"]["pes"], 8);
  EXPECT_EQ(j["layers"][0]["balanced"]["idle_pes"], 2);
}

// nm has no free sparsity: --sparsity picks the nearest N:M (as sweep does) and says which;
// --sparsity together with --n/--m is refused.
TEST_F(Prune, NmTakesItsPatternFromTheSparsity) {
  Result r = run("prune " + model_ + " --scheme nm --sparsity 0.7 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("nm: --sparsity 0.7 -> 1:4"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["total"]["sparsity"].get<double>(), 0.6);  // not the 2:4 default (50 %)
  expect_bad("prune " + model_ + " --scheme nm --sparsity 0.7 --n 2 --m 4", "--n/--m");
}

// A mask file that covers only some layers: the others are named in one warning line (and
// --strict refuses); a key that names nothing is an error listing it.
TEST_F(Prune, MaskFileNamesTheLayersItLeavesDense) {
  const std::string npz = path("m.npz");
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"import numpy as np; np.savez('" + npz +
                         "', conv1=np.ones((4, 2, 3), np.uint8))\"")
                            .c_str()),
            0);
  Result r = run("prune " + model_ + " --scheme mask --mask-file " + npz);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "warning: the mask file has no mask for 1 of 2 layers, left dense: fc\n");
  expect_bad("prune " + model_ + " --scheme mask --mask-file " + npz + " --strict", "(--strict)");
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"import numpy as np; np.savez('" + npz +
                         "', conv1=np.ones((4, 2, 3)), conv0_weight=np.ones(3))\"")
                            .c_str()),
            0);
  expect_bad("prune " + model_ + " --scheme mask --mask-file " + npz,
             "1 key: 'conv0_weight' name no prunable layer or weight");
}

TEST_F(Prune, RecipeFromTheCommandLine) {
  std::ofstream(path("recipe.json"))
      << R"({"rules": [{"match": "fc", "scheme": "nm", "n": 1, "m": 4},
                                                     {"match": "*", "skip": true}]})";
  Result r =
      run("prune " + model_ + " --recipe " + path("recipe.json") + " --onnx-out " + path("p.onnx"));
  ASSERT_EQ(r.code, 0) << r.err;
  Graph p = load_onnx(path("p.onnx"));
  EXPECT_NEAR(weight_sparsity(p, {"fw"}), 0.75, 1e-9);
  EXPECT_EQ(weight_sparsity(p, {"w"}), 0.0);
}

TEST_F(Prune, SparsityOutOfRange) {
  expect_bad("prune " + model_ + " --sparsity 1.0 --onnx-out " + path("p.onnx"), "[0, 1)",
             path("p.onnx"));
}

TEST_F(Prune, NGreaterThanM) {
  expect_bad("prune " + model_ + " --scheme nm --n 5 --m 4 --onnx-out " + path("p.onnx"), "N <= M",
             path("p.onnx"));
}

TEST_F(Prune, PeCountBelowOne) {
  expect_bad("prune " + model_ + " --scheme balanced --pes 0 --onnx-out " + path("p.onnx"),
             "--pes: must be at least 1", path("p.onnx"));
}

TEST_F(Prune, RecipeNamingNoLayer) {
  std::ofstream(path("recipe.json")) << R"({"rules": [{"match": "decoder*"}]})";
  expect_bad(
      "prune " + model_ + " --recipe " + path("recipe.json") + " --onnx-out " + path("p.onnx"),
      "names no prunable layer", path("p.onnx"));
}

TEST_F(Prune, RecipeWithUnknownKey) {
  std::ofstream(path("recipe.json"))
      << R"({"rules": [{"match": "*", "sparsity": 0.5, "pes": 2, "colour": 1}]})";
  expect_bad("prune " + model_ + " --recipe " + path("recipe.json") + " --report " + path("r.json"),
             "rules[0].colour: unknown key", path("r.json"));
}

TEST_F(Prune, UnknownScheme) {
  expect_bad("prune " + model_ + " --scheme wishful --onnx-out " + path("p.onnx"), "unknown scheme",
             path("p.onnx"));
}

TEST_F(Prune, TablesNeedCalibration) {
  expect_bad("prune " + model_ + " --sparsity 0.5 -o " + path("t.pwt"), "--calib", path("t.pwt"));
}

TEST_F(Prune, SensitivityCsvAndBudget) {
  Result r = run("sensitivity " + model_ + " --data " + path("x.npy") +
                 " --sparsities 0,0.5,0.9 --tolerance 3 -o " + path("s.csv"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = slurp(path("s.csv"));
  EXPECT_EQ(csv.rfind("layer,sparsity,sndr_db_vs_dense\n", 0), 0u) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 3);  // header + 2 layers x 3
  EXPECT_NE(csv.find("conv1,0,inf"), std::string::npos) << csv;    // sparsity 0: identical to dense
  EXPECT_NE(r.out.find("per-layer budget"), std::string::npos);
}

// With labels the metric is in % like eval's (top1_pct), the tolerance in pt; the budgets are
// measured together, the compounding is one warning line, and --recipe-out writes a recipe that
// prune reproduces.
TEST_F(Prune, SensitivityMeasuresTheBudgetsTogether) {
  const std::string z = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::string args = "sensitivity " + z + "digits_dscnn.onnx --data " + z + "eval.npy " +
                           "--labels " + z + "eval_labels.npy --sparsities 0,0.3,0.6 " +
                           "--tolerance 1 -o " + path("s.csv") + " --recipe-out " + path("r.json");
  Result r = run(args + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metric"], "top1_pct");
  EXPECT_GT(j["rows"][0]["value"].get<double>(), 90.0);  // percent, not a fraction
  ASSERT_TRUE(j.contains("combined"));
  const double together = j["combined"]["value"].get<double>();
  const double dense = j["rows"][0]["value"].get<double>();
  if (dense - together > 1.0)
    EXPECT_EQ(r.err.rfind("warning: the per-layer budgets compound: ", 0), 0u) << r.err;
  else
    EXPECT_EQ(r.err, "");
  EXPECT_EQ(slurp(path("s.csv")).rfind("layer,sparsity,top1_pct\n", 0), 0u);
  Result p = run("prune " + z + "digits_dscnn.onnx --recipe " + path("r.json") + " --data " + z +
                 "eval.npy --labels " + z + "eval_labels.npy --json");
  ASSERT_EQ(p.code, 0) << p.err;
  const auto pj = nlohmann::json::parse(p.out);
  EXPECT_NEAR(100 * pj["fidelity"]["pruned"]["top1"].get<double>(), together, 1e-9);
  EXPECT_NEAR(pj["total"]["sparsity"].get<double>(), j["combined"]["sparsity"].get<double>(),
              1e-12);
  expect_bad("sensitivity " + z + "digits_dscnn.onnx --data " + z + "eval.npy --recipe-out " +
                 path("x.json"),
             "needs --tolerance", path("x.json"));
}

// --data measures every layer alone too (one evaluation each); --no-fidelity-alone skips it.
TEST_F(Prune, NoFidelityAloneSkipsThePerLayerEvaluations) {
  const std::string a = "prune " + model_ + " --sparsity 0.5 --data " + path("x.npy") + " --json";
  Result with = run(a), without = run(a + " --no-fidelity-alone");
  ASSERT_EQ(with.code, 0) << with.err;
  ASSERT_EQ(without.code, 0) << without.err;
  const auto jw = nlohmann::json::parse(with.out), jo = nlohmann::json::parse(without.out);
  EXPECT_TRUE(jw["layers"][0].contains("fidelity_alone"));
  EXPECT_FALSE(jo["layers"][0].contains("fidelity_alone"));
  EXPECT_EQ(jo["fidelity"]["pruned"], jw["fidelity"]["pruned"]);  // the whole is still measured
}

TEST_F(Prune, SensitivityBadSparsity) {
  expect_bad("sensitivity " + model_ + " --data " + path("x.npy") + " --sparsities 0,1.5 -o " +
                 path("s.csv"),
             "[0, 1)", path("s.csv"));
}

TEST_F(Prune, UnknownLayerName) {
  expect_bad("prune " + model_ + " --layers nope --onnx-out " + path("p.onnx"), "layer 'nope'",
             path("p.onnx"));
}

TEST_F(Prune, LayersWithRecipe) {
  std::ofstream(path("recipe.json")) << R"({"rules": [{"match": "*"}]})";
  expect_bad("prune " + model_ + " --recipe " + path("recipe.json") +
                 " --layers conv1 --onnx-out " + path("p.onnx"),
             "--layers", path("p.onnx"));
}

TEST_F(Prune, LabelsOfWrongCount) {
  save_npy(Tensor::ints({4}, {0, 1, 2, 1}), path("l.npy"));
  expect_bad("prune " + model_ + " --data " + path("x.npy") + " --labels " + path("l.npy") +
                 " --report " + path("r.json"),
             "4 labels for 5 samples", path("r.json"));
}

TEST_F(Prune, ABadLastOutputLeavesNoEarlierOne) {
  expect_bad("prune " + model_ + " --sparsity 0.5 -o " + path("t.pwt") + " --calib " +
                 path("calib.npy") + " --onnx-out " + path("p.onnx") + " --report " +
                 path("no/dir/r.json"),
             "not writable", path("t.pwt"));
  EXPECT_FALSE(fs::exists(path("p.onnx")));
}

TEST_F(Prune, FreshPatternSchemesRefuseMultiStepSchedules) {
  expect_bad(
      "prune " + model_ + " --scheme random --schedule agp --steps 3 --onnx-out " + path("p.onnx"),
      "oneshot", path("p.onnx"));
}

TEST_F(Prune, GlobalOverChosenLayersRanksThemTogether) {
  Result r = run("prune " + model_ + " --sparsity 0.5 --global --layers conv1,fc --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_EQ(rep["total"]["nonzero"], 36);  // exactly half of 72 over both layers
  EXPECT_NE(rep["layers"][0]["sparsity"].get<double>(), 0.5);  // not layer-wise
}
