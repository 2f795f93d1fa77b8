// Element-wise and semi-structured schemes, the recipe/schedule pipeline and recovery.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/registry.h"
#include "common/onnx_builder.h"
#include "prune/balanced.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/pipeline.h"
#include "prune/pruning.h"

using namespace prunesim;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;
namespace fs = std::filesystem;

namespace {

// conv1: Conv 4->16 k3 (cols 12); conv2: Conv 16->8 k1; fc: Gemm 8*6 -> 4 (transB).
Graph small_net() {
  ModelBuilder b;
  b.input("x", {-1, 4, 6});
  b.init("w1", {16, 4, 3}, ramp(192, 1));
  b.init("b1", {16}, ramp(16, 2));
  b.init("w2", {8, 16, 1}, ramp(128, 3));
  b.init("b2", {8}, ramp(8, 4));
  b.init("wf", {4, 48}, ramp(192, 5));
  b.init("bf", {4}, ramp(4, 6));
  auto* c = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2");
  b.node("Relu", {"c2"}, {"r2"}, "relu2");
  b.node("Flatten", {"r2"}, {"f"}, "flat");
  auto* fc = b.node("Gemm", {"f", "wf", "bf"}, {"y"}, "fc");
  ModelBuilder::attr(fc, "transB", 1);
  b.output("y");
  return b.graph();
}

int64_t count(const std::vector<uint8_t>& m) {
  int64_t n = 0;
  for (auto v : m) n += v;
  return n;
}

SchemeResult apply(const std::string& scheme, const SchemeOptions& o, const Graph& g,
                   const std::vector<std::string>& layers = {}) {
  return make_scheme(scheme)->apply(g, layers, o, {});
}

// A new scheme with two options of its own is this much code: a class declaring them and one
// registration line (the CLI's flags and the recipes' keys come from the declaration).
class TwoOptions : public Scheme {
 public:
  std::string description() const override { return "keeps everything; reports its options"; }
  std::vector<ParamSpec> params() const override {
    return {int_param("width", 3, 1, 8, "weights", "group width"),
            choice_param("order", "up", {"up", "down"}, "ranking order")};
  }

 protected:
  SchemeResult run(const Graph& g, const std::vector<std::string>&, const SchemeOptions& o,
                   const PruneData&) const override {
    SchemeResult r;
    r.graph = g;
    r.notes["width"] = o.params.i("width");
    r.notes["order"] = o.params.s("order");
    return r;
  }
};

}  // namespace

PRUNESIM_REGISTER_SCHEME("two_options", TwoOptions);

namespace {
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Schemes, ASchemeDefinedHereRegistersListsAndResolvesItsOptions) {
  const Scheme* s = make_scheme("two_options");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name(), "two_options");  // defined by the registration
  const auto names = scheme_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "two_options"), names.end());
  const std::vector<ParamSpec> p = s->params();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "width");
  EXPECT_EQ(p[0].def, 3);
  EXPECT_EQ(p[0].unit, "weights");
  EXPECT_EQ(param_range(p[0]), "[1, 8]");
  EXPECT_EQ(p[1].name, "order");
  EXPECT_EQ(p[1].def, "up");
  EXPECT_EQ(param_range(p[1]), "up|down");

  auto where = [](const std::string& k) { return "--" + (k.empty() ? "scheme" : k); };
  // Defaults, then given values, reach run().
  const ParamValues def = resolve_scheme_params(*s, nlohmann::json::object(), where);
  EXPECT_EQ(def.i("width"), 3);
  EXPECT_EQ(def.s("order"), "up");
  SchemeOptions o;
  o.params = resolve_scheme_params(*s, {{"width", 5}, {"order", "down"}}, where);
  const SchemeResult r = s->apply(small_net(), {}, o, {});
  EXPECT_EQ(r.notes["width"], 5);
  EXPECT_EQ(r.notes["order"], "down");
  // Left out of o.params: apply() gives run() the default.
  EXPECT_EQ(s->apply(small_net(), {}, SchemeOptions{}, {}).notes["width"], 3);

  // An unknown key and a value out of range are InputErrors naming them.
  std::string e = input_error([&] { resolve_scheme_params(*s, {{"colour", 1}}, where); });
  EXPECT_NE(e.find("--colour"), std::string::npos) << e;
  EXPECT_NE(e.find("not an option of the two_options scheme (it takes width, order)"),
            std::string::npos)
      << e;
  e = input_error([&] { resolve_scheme_params(*s, {{"width", 9}}, where); });
  EXPECT_NE(e.find("--width: width must be in [1, 8]"), std::string::npos) << e;
  e = input_error([&] { resolve_scheme_params(*s, {{"order", "sideways"}}, where); });
  EXPECT_NE(e.find("'sideways' is not one of up|down"), std::string::npos) << e;
  SchemeOptions bad;
  bad.params.set("colour", 1);
  e = input_error([&] { s->apply(small_net(), {}, bad, {}); });
  EXPECT_NE(e.find("'colour'"), std::string::npos) << e;

  // A recipe rule takes the scheme's options as keys, with the file and rule named in errors.
  const Graph g = small_net();
  const std::string path = (fs::temp_directory_path() / "prunesim_two_options.json").string();
  std::ofstream(path) << R"({"rules": [{"match": "*", "scheme": "two_options", "width": 7}]})";
  const Recipe rc = load_recipe(path, g);
  EXPECT_EQ(rc.rules.at(0).options.params.i("width"), 7);
  EXPECT_EQ(rc.rules.at(0).options.params.s("order"), "up");
  std::ofstream(path) << R"({"rules": [{"match": "*", "scheme": "two_options", "width": 0}]})";
  e = input_error([&] { load_recipe(path, g); });
  EXPECT_EQ(e.rfind(path + ": rules[0].width: width must be in [1, 8]", 0), 0u) << e;
  std::ofstream(path) << R"({"rules": [{"match": "*", "scheme": "two_options", "n": 2}]})";
  e = input_error([&] { load_recipe(path, g); });
  EXPECT_EQ(e.rfind(path + ": rules[0].n: not an option of the two_options scheme", 0), 0u) << e;
  fs::remove(path);
}

TEST(Registry, RejectsDuplicatesAndListsTheKnownNames) {
  struct Part {
    std::string n;
    std::string name() const { return n; }
  };
  Registry<Part> r("part");
  r.add(std::make_unique<Part>(Part{"b"}));
  r.add(std::make_unique<Part>(Part{"a"}));
  EXPECT_THROW(r.add(std::make_unique<Part>(Part{"a"})), std::logic_error);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.get("a", "--part").name(), "a");
  EXPECT_EQ(r.find("c"), nullptr);
  const std::string e = input_error([&] { r.get("c", "--part"); });
  EXPECT_EQ(e, "--part: unknown part 'c' (known: a, b)");
}

TEST(Schemes, RegistryListsEveryScheme) {
  auto names = scheme_names();
  for (const char* s : {"magnitude", "random", "nm", "block", "balanced", "mask", "polarization"})
    EXPECT_NE(std::find(names.begin(), names.end(), s), names.end()) << s;
  try {
    make_scheme("nope");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("known: "), std::string::npos);
  }
}

TEST(Schemes, MagnitudeLayerwiseIsExactAndKeepsTheLargest) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.6;
  auto r = apply("magnitude", o, g);
  for (const auto& l : prunable_layers(g)) {
    const auto& m = r.masks.at(l.weight);
    const auto& w = g.init(l.weight).f;
    EXPECT_EQ(count(m), static_cast<int64_t>(w.size()) - std::llround(0.6 * w.size())) << l.node;
    float min_kept = 1e9f, max_removed = 0;
    for (size_t k = 0; k < w.size(); ++k)
      (m[k] ? min_kept : max_removed) =
          m[k] ? std::min(min_kept, std::fabs(w[k])) : std::max(max_removed, std::fabs(w[k]));
    EXPECT_GE(min_kept, max_removed) << l.node;
    for (size_t k = 0; k < w.size(); ++k) EXPECT_EQ(r.graph.init(l.weight).f[k], m[k] ? w[k] : 0.f);
  }
}

TEST(Schemes, MagnitudeGlobalUsesOneThreshold) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  o.params.set("global", true);
  auto r = apply("magnitude", o, g);
  int64_t kept = 0, total = 0;
  float min_kept = 1e9f, max_removed = 0;
  for (const auto& l : prunable_layers(g)) {
    const auto& m = r.masks.at(l.weight);
    const auto& w = g.init(l.weight).f;
    kept += count(m);
    total += static_cast<int64_t>(w.size());
    for (size_t k = 0; k < w.size(); ++k)
      if (m[k])
        min_kept = std::min(min_kept, std::fabs(w[k]));
      else
        max_removed = std::max(max_removed, std::fabs(w[k]));
  }
  EXPECT_EQ(kept, total - std::llround(0.5 * total));
  EXPECT_GE(min_kept, max_removed);
}

TEST(Schemes, RandomIsExactAndSeeded) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.3;
  o.seed = 11;
  auto a = apply("random", o, g), b = apply("random", o, g);
  o.seed = 12;
  auto c = apply("random", o, g);
  EXPECT_EQ(a.masks, b.masks);
  EXPECT_NE(a.masks, c.masks);
  EXPECT_EQ(count(a.masks.at("w1")), 192 - std::llround(0.3 * 192));
}

TEST(Schemes, NmKeepsNOfEveryMAlongTheReduction) {
  Graph g = small_net();
  for (auto [n, m] : {std::pair<int64_t, int64_t>{2, 4}, {1, 4}, {4, 8}}) {
    SchemeOptions o;
    o.params.set("n", n);
    o.params.set("m", m);
    auto r = apply("nm", o, g);
    for (const auto& l : prunable_layers(g)) {
      const auto& mask = r.masks.at(l.weight);
      const auto& w = g.init(l.weight).f;
      for (int64_t row = 0; row < l.rows; ++row)
        for (int64_t c0 = 0; c0 < l.cols; c0 += m) {
          const int64_t len = std::min(m, l.cols - c0);
          int64_t kept = 0;
          float min_kept = 1e9f, max_removed = 0;
          for (int64_t j = 0; j < len; ++j) {
            const size_t k = static_cast<size_t>(l.index(row, c0 + j));
            kept += mask[k];
            if (mask[k])
              min_kept = std::min(min_kept, std::fabs(w[k]));
            else
              max_removed = std::max(max_removed, std::fabs(w[k]));
          }
          EXPECT_EQ(kept, std::min(n, len)) << l.node << " row " << row << " group " << c0;
          EXPECT_GE(min_kept, max_removed);
        }
    }
  }
  SchemeOptions bad;
  bad.params.set("n", 5);
  bad.params.set("m", 4);
  EXPECT_THROW(apply("nm", bad, g), InputError);
}

TEST(Schemes, BlockDropsWholeBlocks) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  o.params.set("block", std::vector<int64_t>{2, 4});
  auto r = apply("block", o, g, {"conv1"});
  const PrunableLayer l = select_layers(g, {"conv1"})[0];
  const auto& mask = r.masks.at(l.weight);
  int64_t blocks_kept = 0;
  for (int64_t br = 0; br < l.rows; br += 2)
    for (int64_t bc = 0; bc < l.cols; bc += 4) {
      const uint8_t first = mask[static_cast<size_t>(l.index(br, bc))];
      for (int64_t i = br; i < br + 2; ++i)
        for (int64_t j = bc; j < bc + 4; ++j)
          EXPECT_EQ(mask[static_cast<size_t>(l.index(i, j))], first);
      blocks_kept += first;
    }
  EXPECT_EQ(blocks_kept, 24 - 12);
}

TEST(Schemes, BalancedPatternKeepsExactlyKPerGroupAndSharesClusterPatterns) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  const PeMapping pe{4, 2};
  o.params.set("pes", pe.pes);
  o.params.set("cluster", pe.cluster);
  o.seed = 7;
  auto r = apply("balanced", o, g, {"conv1", "conv2"});
  for (const auto& l : select_layers(g, {"conv1", "conv2"})) {
    const BalancedGeometry geo = balanced_geometry(l, pe);
    const auto& mask = r.masks.at(l.weight);
    const int64_t k = r.notes["layers"][l.node]["balanced"]["k"];
    EXPECT_EQ(k, geo.slots / 2);
    for (int64_t c = 0; c < geo.cols; ++c)
      for (int64_t p = 0; p < geo.pes; ++p) {
        int64_t kept = 0;
        for (int64_t j = 0; j < geo.slots; ++j) {
          const uint8_t v = mask[static_cast<size_t>(l.index(geo.row_of(p, j), c))];
          kept += v;
          const int64_t lead = (p / geo.cluster) * geo.cluster;  // cluster's first PE
          EXPECT_EQ(v, mask[static_cast<size_t>(l.index(geo.row_of(lead, j), c))]);
        }
        EXPECT_EQ(kept, k) << l.node << " col " << c << " pe " << p;
      }
  }
  EXPECT_TRUE(r.notes.contains("storage_saving"));
  // Determinism and seed dependence.
  EXPECT_EQ(apply("balanced", o, g, {"conv1"}).masks, apply("balanced", o, g, {"conv1"}).masks);
  SchemeOptions o2 = o;
  o2.seed = 8;
  EXPECT_NE(apply("balanced", o, g, {"conv1"}).masks, apply("balanced", o2, g, {"conv1"}).masks);
}

TEST(Schemes, BalancedInfinitePIsBalancedMagnitude) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  const PeMapping pe{4, 1};
  o.params.set("pes", pe.pes);
  o.params.set("cluster", pe.cluster);
  o.params.set("p", std::numeric_limits<double>::infinity());
  auto r = apply("balanced", o, g, {"conv1"});
  const PrunableLayer l = select_layers(g, {"conv1"})[0];
  const auto geo = balanced_geometry(l, pe);
  const auto& w = g.init(l.weight).f;
  const auto& mask = r.masks.at(l.weight);
  for (int64_t c = 0; c < geo.cols; ++c)
    for (int64_t p = 0; p < geo.pes; ++p) {
      float min_kept = 1e9f, max_removed = 0;
      for (int64_t j = 0; j < geo.slots; ++j) {
        const size_t k = static_cast<size_t>(l.index(geo.row_of(p, j), c));
        if (mask[k])
          min_kept = std::min(min_kept, std::fabs(w[k]));
        else
          max_removed = std::max(max_removed, std::fabs(w[k]));
      }
      EXPECT_GE(min_kept, max_removed);
    }
}

TEST(Schemes, BalancedLfsrMaskRegeneratesFromTheSeedAlone) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.75;
  const PeMapping pe{4, 4};
  o.params.set("pes", pe.pes);
  o.params.set("cluster", pe.cluster);
  o.params.set("variant", "lfsr");
  auto r = apply("balanced", o, g, {"conv1"});
  const PrunableLayer l = select_layers(g, {"conv1"})[0];
  const auto geo = balanced_geometry(l, pe);
  const auto& note = r.notes["layers"]["conv1"]["balanced"];
  const auto slots = lfsr_slot_mask(geo, note["k"].get<int64_t>(), note["seed"].get<uint16_t>());
  const auto& mask = r.masks.at(l.weight);
  for (int64_t c = 0; c < geo.cols; ++c)
    for (int64_t p = 0; p < geo.pes; ++p)
      for (int64_t j = 0; j < geo.slots; ++j)
        EXPECT_EQ(mask[static_cast<size_t>(l.index(geo.row_of(p, j), c))],
                  slots[static_cast<size_t>((c * geo.pes + p) * geo.slots + j)]);
  EXPECT_EQ(count(mask), 192 / 4);
}

// 16 channels do not divide among 6 PEs: the groups are balanced over the PEs in use (4 PEs of
// 4 slots keep 2 each, 2 PEs idle), so every group keeps the same k and the sparsity is exact.
// Clusters of 3 on 16 PEs: the last cluster has one PE and its own pattern.
TEST(Schemes, BalancedRunsOnThePesInUseWhenTheArrayDoesNotDivide) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  const PeMapping pe{6, 1};
  o.params.set("pes", pe.pes);
  o.params.set("cluster", pe.cluster);
  auto r = apply("balanced", o, g, {"conv1"});
  const auto& b = r.notes["layers"]["conv1"]["balanced"];
  EXPECT_EQ(b["pes"], 4);
  EXPECT_EQ(b["idle_pes"], 2);
  EXPECT_EQ(b["slots"], 4);
  EXPECT_EQ(b["k"], 2);
  EXPECT_EQ(count(r.masks.at("w1")), 192 / 2);

  const PeMapping pe16{16, 3};
  o.params.set("pes", pe16.pes);
  o.params.set("cluster", pe16.cluster);
  r = apply("balanced", o, g, {"conv1"});
  const PrunableLayer l = select_layers(g, {"conv1"})[0];
  const BalancedGeometry geo = balanced_geometry(l, pe16, o.sparsity);
  EXPECT_EQ(geo.pes, 16);
  EXPECT_EQ(geo.clusters(), 6);
  EXPECT_EQ(geo.cluster_end(5), 16);
  // 16 rows on 16 PEs is one slot a group: k is clamped to 1 (the layer stays dense, warned).
  EXPECT_EQ(r.notes["layers"]["conv1"]["balanced"]["idle_pes"], 0);
  // A prime count leaves one PE: the mapping never fails.
  PrunableLayer prime = l;
  prime.rows = 17;
  EXPECT_EQ(balanced_geometry(prime, {16, 4}, 0.5).pes, 1);
  EXPECT_EQ(balanced_geometry(prime, {16, 4}, 0.5).cluster, 1);
  // 24 rows on 16 PEs: 12 in use, the k of ceil(24/16) = 2 slots.
  prime.rows = 24;
  EXPECT_EQ(balanced_geometry(prime, {16, 4}, 0.5).pes, 12);
  EXPECT_TRUE(balanced_pes_valid(24, 16, 12));
  EXPECT_FALSE(balanced_pes_valid(24, 16, 16));
  EXPECT_FALSE(balanced_pes_valid(24, 8, 12));
  EXPECT_FALSE(balanced_pes_valid(96, 32, 16));  // 32 divides 96: a 16-PE table is refused
}

TEST(Schemes, SparsityOutOfRange) {
  Graph g = small_net();
  for (double s : {-0.1, 1.0, 1.5}) {
    SchemeOptions o;
    o.sparsity = s;
    EXPECT_THROW(apply("magnitude", o, g), InputError) << s;
  }
}

TEST(Schemes, MaskImportFromOnnxZeros) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.4;
  auto pruned = apply("magnitude", o, g);
  const std::string path = (fs::temp_directory_path() / "prunesim_masks.onnx").string();
  save_onnx(pruned.graph, path);
  SchemeOptions mo;
  mo.params.set("mask_file", path);
  auto r = apply("mask", mo, g);
  fs::remove(path);
  EXPECT_EQ(r.masks, pruned.masks);
}

TEST(Pipeline, GlobMatch) {
  EXPECT_TRUE(glob_match("conv*", "conv1"));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("c?nv1", "conv1"));
  EXPECT_FALSE(glob_match("fc*", "conv1"));
  EXPECT_TRUE(glob_match("*2", "conv2"));
}

TEST(Pipeline, RecipeErrors) {
  Graph g = small_net();
  const std::string path = (fs::temp_directory_path() / "prunesim_recipe.json").string();
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(path) << text;
    try {
      load_recipe(path, g);
      FAIL() << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind(path, 0), 0u) << e.what();
    }
  };
  expect_error(R"({"rules": [{"match": "conv*", "sparsty": 0.5}]})",
               "rules[0].sparsty: unknown key");
  expect_error(R"({"rules": [{"match": "nothing*"}]})", "names no prunable layer");
  expect_error(R"({"rules": [{"match": "conv1", "sparsity": 1.2}]})", "outside [0, 1)");
  expect_error(R"({"rules": [{"match": "conv1", "scheme": "nm", "n": 5, "m": 4}]})", "N > M");
  expect_error(R"({"rulez": []})", "rulez: unknown key");
  expect_error(R"({"rules": [)", "invalid JSON");
  std::ofstream(path) << R"({"rules": [{"match": "conv1", "scheme": "nm", "n": 1, "m": 4},
                                       {"match": "fc", "skip": true},
                                       {"match": "*", "sparsity": 0.5}]})";
  Recipe r = load_recipe(path, g);
  fs::remove(path);
  PruneOutcome out = run_pruning(g, r, {}, {}, {});
  EXPECT_EQ(out.notes["layers"]["conv1"]["scheme"], "nm");
  EXPECT_EQ(out.notes["layers"]["conv2"]["scheme"], "magnitude");
  EXPECT_FALSE(out.masks.count("wf"));  // skipped
  EXPECT_NEAR(weight_sparsity(out.graph, {"w1"}), 0.75, 1e-9);
  EXPECT_NEAR(weight_sparsity(out.graph, {"w2"}), 0.5, 1e-9);
  EXPECT_EQ(weight_sparsity(out.graph, {"wf"}), 0.0);
}

TEST(Pipeline, AgpScheduleReachesTheTargetMonotonically) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.8;
  Schedule s;
  s.kind = "agp";
  s.steps = 4;
  PruneOutcome out = run_pruning(g, single_rule_recipe("magnitude", o), s, {}, {});
  ASSERT_EQ(out.notes["steps"].size(), 4u);
  double prev = 0;
  for (const auto& st : out.notes["steps"]) {
    EXPECT_GT(st["sparsity"].get<double>(), prev);
    prev = st["sparsity"];
  }
  EXPECT_NEAR(prev, 0.8, 0.005);
}

TEST(Pipeline, FinetuneCommandAndRewind) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  Schedule s;
  s.kind = "steps";
  s.fractions = {0.5, 1.0};
  s.finetune_cmd = "cp";  // identity fine-tune: CMD IN OUT
  PruneOutcome out = run_pruning(g, single_rule_recipe("magnitude", o), s, {}, {});
  EXPECT_NEAR(weight_sparsity(out.graph), 0.5, 0.01);
  s.finetune_cmd = "false";
  EXPECT_THROW(run_pruning(g, single_rule_recipe("magnitude", o), s, {}, {}), InputError);
  // Rewind: kept weights take the values of the rewind model.
  Graph init = g;
  for (auto& kv : init.initializers)
    for (auto& v : kv.second.f) v *= 2.f;
  const std::string path = (fs::temp_directory_path() / "prunesim_init.onnx").string();
  save_onnx(init, path);
  Schedule rw;
  rw.rewind_onnx = path;
  out = run_pruning(g, single_rule_recipe("magnitude", o), rw, {}, {});
  fs::remove(path);
  const auto& w = out.graph.init("w1").f;
  const auto& m = out.masks.at("w1");
  for (size_t k = 0; k < w.size(); ++k) EXPECT_EQ(w[k], m[k] ? 2.f * g.init("w1").f[k] : 0.f);
}

TEST(Recovery, BiasCorrectionRemovesTheMeanShiftOfTheFirstLayer) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.7;
  PruneOutcome plain = run_pruning(g, single_rule_recipe("magnitude", o), {}, {}, {});
  Tensor calib({32, 4, 6}, ramp(32 * 24, 9));
  for (auto& v : calib.f) v += 0.5f;  // a non-zero input mean, so pruning shifts output means
  PruneData d;
  d.calib = &calib;
  Recovery rec;
  rec.bias_correct = true;
  PruneOutcome fixed = run_pruning(g, single_rule_recipe("magnitude", o), {}, rec, d);
  EXPECT_EQ(fixed.notes["recovery"]["bias_corrected_layers"], 3);
  auto mean_out = [&](const Graph& m, const std::string& value) {
    double s = 0;
    int64_t n = 0;
    run_float(m, calib, [&](const Node&, const std::string& v, const Tensor& t) {
      if (v != value) return;
      for (float x : t.f) s += x;
      n += t.size();
    });
    return s / static_cast<double>(n);
  };
  const double dense = mean_out(g, "c1");
  EXPECT_LT(std::fabs(mean_out(fixed.graph, "c1") - dense), 1e-4);
  EXPECT_GT(std::fabs(mean_out(plain.graph, "c1") - dense), 1e-3);
}

TEST(Recovery, PaserPicksTheBudgetFromTheMostDegradedSamples) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.8;
  PruneOutcome p = run_pruning(g, single_rule_recipe("magnitude", o), {}, {}, {});
  Tensor calib({40, 4, 6}, ramp(40 * 24, 3));
  nlohmann::json rep;
  auto picked = paser_select(p.graph, g, calib, 10, 3, 5, &rep);
  EXPECT_EQ(picked.size(), 10u);
  int64_t shares = 0;
  for (const auto& c : rep["clusters"]) {
    shares += c["budget_share"].get<int64_t>();
    EXPECT_LE(c["budget_share"].get<int64_t>(), c["size"].get<int64_t>());
  }
  EXPECT_EQ(shares, 10);
  EXPECT_EQ(picked, paser_select(p.graph, g, calib, 10, 3, 5, nullptr));  // deterministic
}

TEST(Pipeline, StructuralSchemeUnderAScheduleWithBiasCorrection) {
  // Channel pruning shrinks weights between steps: earlier masks must follow the new shapes.
  Graph g = small_net();
  Tensor calib({8, 4, 6}, ramp(8 * 24, 4));
  PruneData d;
  d.calib = &calib;
  SchemeOptions o;
  o.sparsity = 0.5;
  Recipe r;
  r.rules.push_back({"conv1", {}, false, "magnitude", o});
  r.rules.push_back({"*", {}, false, "channel", o});
  Schedule s;
  s.kind = "agp";
  s.steps = 2;
  Recovery rec;
  rec.bias_correct = true;
  PruneOutcome out = run_pruning(g, r, s, rec, d);
  EXPECT_LT(out.graph.init("w2").shape[0], 8);  // conv2 lost output channels
  for (const auto& kv : out.masks) EXPECT_EQ(kv.second.size(), out.graph.init(kv.first).f.size());
  EXPECT_NO_THROW(run_float(out.graph, calib));
}

namespace {
// A stored (uncompressed) zip with one member per entry, as np.savez writes it.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, cd;
  auto le = [](std::string& s, uint32_t v, int n) {
    for (int k = 0; k < n; ++k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  };
  for (const auto& [name, data] : members) {
    const uint32_t off = static_cast<uint32_t>(out.size());
    le(out, 0x04034b50u, 4);
    le(out, 20, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2);
    le(out, 0, 4), le(out, static_cast<uint32_t>(data.size()), 4),
        le(out, static_cast<uint32_t>(data.size()), 4);
    le(out, static_cast<uint32_t>(name.size()), 2), le(out, 0, 2);
    out += name + data;
    le(cd, 0x02014b50u, 4);
    le(cd, 20, 2), le(cd, 20, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2);
    le(cd, 0, 4), le(cd, static_cast<uint32_t>(data.size()), 4),
        le(cd, static_cast<uint32_t>(data.size()), 4);
    le(cd, static_cast<uint32_t>(name.size()), 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2),
        le(cd, 0, 2);
    le(cd, 0, 4), le(cd, off, 4);
    cd += name;
  }
  const uint32_t cd_off = static_cast<uint32_t>(out.size());
  out += cd;
  le(out, 0x06054b50u, 4);
  le(out, 0, 2), le(out, 0, 2);
  le(out, static_cast<uint32_t>(members.size()), 2),
      le(out, static_cast<uint32_t>(members.size()), 2);
  le(out, static_cast<uint32_t>(cd.size()), 4), le(out, cd_off, 4), le(out, 0, 2);
  return out;
}
}  // namespace

TEST(Schemes, MaskImportFromNpzByLayerName) {
  Graph g = small_net();
  std::vector<int64_t> keep(128, 0);
  for (size_t k = 0; k < keep.size(); k += 3) keep[k] = 1;
  Tensor m = Tensor::ints({8, 16, 1}, keep);
  m.dtype = DType::U8;
  const std::string path = (fs::temp_directory_path() / "prunesim_masks.npz").string();
  std::ofstream(path, std::ios::binary) << stored_zip({{"conv2.npy", npy_bytes(m)}});
  SchemeOptions o;
  o.params.set("mask_file", path);
  auto r = make_scheme("polarization")->apply(g, {}, o, {});
  ASSERT_TRUE(r.masks.count("w2"));
  for (size_t k = 0; k < keep.size(); ++k) EXPECT_EQ(r.masks["w2"][k], keep[k]);
  EXPECT_FALSE(r.masks.count("w1"));  // not in the file: left dense
  // A member that names nothing in the model is an error naming the file and member.
  std::ofstream(path, std::ios::binary) << stored_zip({{"ghost.npy", npy_bytes(m)}});
  try {
    make_scheme("mask")->apply(g, {}, o, {});
    FAIL();
  } catch (const InputError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("1 key: 'ghost' name no prunable layer"), std::string::npos) << w;
    EXPECT_NE(w.find("PyTorch state-dict names"), std::string::npos) << w;
  }
  fs::remove(path);
}

// PyTorch's exporter names nodes by module scope and often renames the fused weight: a
// state-dict key ("layer1.0.conv1.weight") finds the node "/layer1/layer1.0/conv1/Conv".
TEST(Schemes, MaskImportTakesPyTorchStateDictNames) {
  ModelBuilder b;
  b.input("x", {-1, 4, 6});
  b.init("onnx::Conv_9", {8, 4, 3}, ramp(96, 1));
  b.init("fc.weight", {2, 32}, ramp(64, 2));
  b.node("Conv", {"x", "onnx::Conv_9"}, {"c"}, "/layer1/layer1.0/conv1/Conv");
  b.node("Flatten", {"c"}, {"f"}, "/Flatten");
  auto* fc = b.node("Gemm", {"f", "fc.weight"}, {"y"}, "/fc/Gemm");
  ModelBuilder::attr(fc, "transB", 1);
  b.output("y");
  Graph g = b.graph();
  std::vector<int64_t> keep(96, 0);
  for (size_t k = 0; k < keep.size(); k += 4) keep[k] = 1;
  Tensor m = Tensor::ints({8, 4, 3}, keep);
  const std::string path = (fs::temp_directory_path() / "prunesim_torch_masks.npz").string();
  std::ofstream(path, std::ios::binary)
      << stored_zip({{"layer1.0.conv1.weight.npy", npy_bytes(m)}});
  SchemeOptions o;
  o.params.set("mask_file", path);
  auto r = make_scheme("mask")->apply(g, {}, o, {});
  ASSERT_TRUE(r.masks.count("onnx::Conv_9"));
  EXPECT_EQ(r.masks["onnx::Conv_9"][4], 1);
  EXPECT_EQ(r.masks["onnx::Conv_9"][5], 0);
  EXPECT_EQ(r.notes["layers"]["/layer1/layer1.0/conv1/Conv"]["mask_key"], "layer1.0.conv1.weight");
  // The layer the file does not cover is noted for the caller's warning.
  EXPECT_EQ(r.notes["layers"]["/fc/Gemm"]["mask"], "none in file: left dense");
  fs::remove(path);
}

TEST(Pipeline, ChannelStepsCompoundToTheTargetNotPastIt) {
  Graph g = small_net();
  SchemeOptions o;
  o.sparsity = 0.5;
  Schedule s;
  s.kind = "agp";
  s.steps = 3;
  PruneOutcome out = run_pruning(g, single_rule_recipe("channel", o, {"conv1"}), s, {}, {});
  EXPECT_EQ(out.graph.init("w1").shape[0], 8);  // 16 channels, half removed over three steps
}
