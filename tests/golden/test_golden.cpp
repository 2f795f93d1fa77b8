// Golden regressions (DESIGN.md habit 9, issue 17): `prunesim simulate --report` on every
// architecture and zoo model, in both modes, compared field by field with the JSON committed in
// tests/golden/*.json. A refactor that changes one cycle, one count or one joule fails here,
// naming the first JSON path that differs. PRUNESIM_UPDATE_GOLDENS=1 rewrites the goldens
// instead (scripts/update_goldens.sh; tests/golden/README.md says when that is right).
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

using nlohmann::json;

// The tolerances, in one place. Integers (cycles, counts, bytes, resources) must match exactly;
// a real number relatively to kRelTol: the figures are deterministic, and this only admits
// rounding at the last bits when a refactor reorders the same arithmetic (the report's `stats`
// tree, for one, scales seconds to ms). A cycle count that the report gives as a real number
// (per inference) still fails on one cycle: 1 / 51,932 is far above 1e-9.
constexpr double kRelTol = 1e-9;

// Fields that differ between runs or machines and carry no figure: the paths of the temporary
// table and the input, and the absolute path of the technology table (it names the checkout).
const std::vector<std::string>& skipped() {
  static const std::vector<std::string> s = {"tables", "input", "power.tech_table", "tech.table"};
  return s;
}

bool is_skipped(const std::string& path) {
  for (const std::string& s : skipped())
    if (path == s) return true;
  return false;
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string show(const json& v) {
  std::string s = v.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// The first difference between the golden and the run, as "path: golden X, now Y"; "" if none.
// Object keys are walked in order (nlohmann keeps them sorted), so "first" is stable.
std::string first_difference(const json& want, const json& got, const std::string& path = "") {
  if (is_skipped(path)) return "";
  const std::string at = path.empty() ? "(top level)" : path;
  if (want.is_number() && got.is_number()) {
    if (want.is_number_integer() && got.is_number_integer()) {
      if (want.get<int64_t>() != got.get<int64_t>())
        return at + ": golden " + show(want) + ", now " + show(got) + " (integers: exact)";
      return "";
    }
    const double a = want.get<double>(), b = got.get<double>();
    if (!(std::fabs(a - b) <= kRelTol * std::max(std::fabs(a), std::fabs(b)))) {
      std::ostringstream os;
      os.precision(17);
      os << at << ": golden " << a << ", now " << b;
      os.precision(3);
      os << " (relative tolerance " << kRelTol << ")";
      return os.str();
    }
    return "";
  }
  if (want.type() != got.type())
    return at + ": golden " + show(want) + ", now " + show(got) + " (type differs)";
  if (want.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      const std::string p = join(path, it.key());
      if (is_skipped(p)) continue;
      if (!got.contains(it.key())) return p + ": in the golden, missing now";
      const std::string d = first_difference(it.value(), got[it.key()], p);
      if (!d.empty()) return d;
    }
    for (auto it = got.begin(); it != got.end(); ++it)
      if (!want.contains(it.key()) && !is_skipped(join(path, it.key())))
        return join(path, it.key()) + ": new, not in the golden";
    return "";
  }
  if (want.is_array()) {
    if (want.size() != got.size())
      return at + ": golden has " + std::to_string(want.size()) + " entries, now " +
             std::to_string(got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string d = first_difference(want[i], got[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  if (want != got) return at + ": golden " + show(want) + ", now " + show(got);
  return "";
}

// The report with the skipped fields removed (what the golden files hold).
void strip(json& j, const std::string& path = "") {
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end();) {
    const std::string p = join(path, it.key());
    if (is_skipped(p)) {
      it = j.erase(it);
    } else {
      strip(it.value(), p);
      ++it;
    }
  }
}

// One golden: the tables (a zoo file, or pruned from a zoo model by `prune` into t.pwt), the
// input and the simulate flags. Commands as the README, the demo and the CLI tests give them.
struct Case {
  std::string name;   // golden file tests/golden/<name>.json and the ctest name
  std::string arch;   // raman, fpga-soc
  std::string prune;  // prune arguments after the model ("" = tables is a shipped file)
  std::string model;  // zoo-relative model to prune, or the shipped tables
  std::string input;  // zoo-relative input .npy
  std::string flags;  // extra simulate flags (--mode analytical, --fit)
};

const std::string kDense = "--scheme magnitude --sparsity 0";
const std::string kBalanced7 = "--scheme balanced --sparsity 0.5 --pes 16 --seed 7";
const std::string kBalanced = "--scheme balanced --sparsity 0.5";
const std::string kAna = "--mode analytical";

std::vector<Case> cases() {
  std::vector<Case> c;
  auto both = [&](const std::string& name, const std::string& arch, const std::string& prune,
                  const std::string& model, const std::string& input, const std::string& flags) {
    c.push_back({name + "_cycle", arch, prune, model, input, flags});
    c.push_back({name + "_analytical", arch, prune, model, input, kAna + " " + flags});
  };
  // README "encoder" table: dense (51,932 cycles, 186 uW) and the one-shot --seed 7 row.
  both("raman_encoder_dense", "raman", kDense, "ds_cae1/encoder.onnx", "ds_cae1/sample.npy", "");
  both("raman_encoder_balanced_seed7", "raman", kBalanced7, "ds_cae1/encoder.onnx",
       "ds_cae1/sample.npy", "");
  // README's `prune --target raman` example and the CLI tests' RamanEncoderFixture.
  both("raman_encoder_balanced", "raman", kBalanced, "ds_cae1/encoder.onnx", "ds_cae1/sample.npy",
       "");
  // The whole autoencoder does not fit the default weight memory: prune --target raman with the
  // --set value its fit line names, simulate sized to the model (--fit).
  both("raman_ds_cae1_dense", "raman", kDense + " --set weight_mem_bytes=27162",
       "ds_cae1/ds_cae1.onnx", "ds_cae1/sample.npy", "--fit");
  // The classifiers fit the default core.
  both("raman_digits_dscnn_dense", "raman", kDense, "digits_dscnn/digits_dscnn.onnx",
       "digits_dscnn/sample.npy", "");
  both("raman_fmnist_dscnn_dense", "raman", kDense, "fmnist_dscnn/fmnist_dscnn.onnx",
       "fmnist_dscnn/sample.npy", "");
  // The HSI U-Net on the FPGA-SoC pipeline, base and compressed (README, demo, compare).
  both("fpga_soc_unet_pruned", "fpga-soc", "", "hsi_unet/unet_pruned.pwt", "hsi_unet/frames.npy",
       "");
  both("fpga_soc_unet_base", "fpga-soc", "", "hsi_unet/unet_base.pwt", "hsi_unet/frames.npy", "");
  return c;
}

std::string zoo(const std::string& rel) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}

std::string calib_of(const std::string& model) {
  return zoo(model.substr(0, model.find('/')) + "/calib.npy");
}

class Golden : public CliFixture, public ::testing::WithParamInterface<Case> {};

TEST_P(Golden, ReportMatches) {
  const Case& k = GetParam();
  std::string tables = zoo(k.model);
  if (!k.prune.empty()) {
    tables = path("t.pwt");
    const Result p = run("prune " + zoo(k.model) + " " + k.prune + " --calib " + calib_of(k.model) +
                         " --target " + k.arch + " -o " + tables + " --quiet");
    ASSERT_EQ(p.code, 0) << p.err;
  }
  const std::string rep = path("report.json");
  const Result s = run("simulate --arch " + k.arch + " --tables " + tables + " --input " +
                       zoo(k.input) + " --report " + rep + " " + k.flags);
  ASSERT_EQ(s.code, 0) << s.err;
  json got = json::parse(slurp(rep));
  strip(got);
  const std::string golden = std::string(PRUNESIM_SOURCE_DIR) + "/tests/golden/" + k.name + ".json";
  const char* update = std::getenv("PRUNESIM_UPDATE_GOLDENS");
  if (update && std::string(update) == "1") {
    std::ofstream(golden) << got.dump(2) << "\n";
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " missing: scripts/update_goldens.sh writes it";
  const json want = json::parse(slurp(golden));
  const std::string d = first_difference(want, got);
  EXPECT_TRUE(d.empty()) << k.name << ": " << d << "\n(if the change is intended: "
                         << "scripts/update_goldens.sh, and say why in the commit)";
}

INSTANTIATE_TEST_SUITE_P(Zoo, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// The comparison itself: it must see a changed figure and name where it is.
TEST(GoldenCompare, NamesTheFirstDifferingPath) {
  const json a = json::parse(R"({"layers":[{"cycles":10,"energy_j":1.0}],"tables":"x"})");
  json b = a;
  EXPECT_EQ(first_difference(a, b), "");
  b["tables"] = "elsewhere";  // skipped
  EXPECT_EQ(first_difference(a, b), "");
  b["layers"][0]["cycles"] = 11;
  EXPECT_NE(first_difference(a, b).find("layers[0].cycles"), std::string::npos);
  b = a;
  b["layers"][0]["energy_j"] = 1.0 + 1e-12;  // rounding: within tolerance
  EXPECT_EQ(first_difference(a, b), "");
  b["layers"][0]["energy_j"] = 1.0 + 1e-6;
  EXPECT_NE(first_difference(a, b).find("layers[0].energy_j"), std::string::npos);
  b = a;
  b["new_key"] = 1;
  EXPECT_NE(first_difference(a, b).find("new_key"), std::string::npos);
}

}  // namespace
}  // namespace prunesim::testing
