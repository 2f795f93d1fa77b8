// The pruning pipeline behind `prunesim prune`: a recipe (which scheme and options for which
// layers), a schedule (one-shot, AGP cubic or an explicit list of steps, with an optional
// external fine-tune command between steps and lottery-ticket rewinding), recovery without
// retraining (bias correction on calibration data, PASER-style calibration-sample selection) and
// the per-layer report.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prune/pruning.h"

namespace prunesim {

// One recipe rule: layers whose node name matches the glob get this scheme and options.
struct RecipeRule {
  std::string match = "*";
  std::vector<std::string> layers;  // exact node names instead of `match`, when not empty
  bool skip = false;                // matched layers stay dense
  std::string scheme = "magnitude";
  SchemeOptions options;
};

struct Recipe {
  std::vector<RecipeRule> rules;  // first match wins per layer
};

// Parses a recipe file. Unknown keys, out-of-range values and rules that match no prunable layer
// of `g` are InputErrors naming the file and the key / rule index.
Recipe load_recipe(const std::string& path, const Graph& g);
// The same from the recipe's JSON text (`path` names it in errors).
Recipe parse_recipe(const std::string& text, const std::string& path, const Graph& g);
// A recipe with one rule for every layer (or for `layers` when given).
Recipe single_rule_recipe(const std::string& scheme, const SchemeOptions& o,
                          const std::vector<std::string>& layers = {});
// Shell-style glob with * and ?.
bool glob_match(const std::string& pattern, const std::string& text);

struct Schedule {
  std::string kind = "oneshot";   // oneshot | agp | steps | lottery
  int steps = 4;                  // agp: number of steps; lottery: rounds
  std::vector<double> fractions;  // steps: fraction of each rule's target sparsity, increasing
  std::string finetune_cmd;       // run as: CMD IN.onnx OUT.onnx between steps
  std::string rewind_onnx;        // lottery ticket: kept weights take these values at the end
  // lottery: rewind the kept weights to the dense model's own (when rewind_onnx is empty).
  bool rewind_dense = false;
  // Built-in fine-tuning after every step (the commands that train set it; this library does not
  // link the training engine): (pruned graph, its masks, "step k/K") -> the tuned graph, whose
  // masked weights must still be zero.
  std::function<Graph(const Graph&, const MaskMap&, const std::string&)> finetune_fn;
  // lottery: once it returns a graph (the first round's weights after an early epoch, kept by
  // finetune_fn), later rounds rewind to it instead of rewind_onnx / the dense weights.
  std::function<const Graph*()> rewind_snapshot;
};

struct Recovery {
  bool bias_correct = false;  // per output channel, on calibration data
  int64_t paser_budget = 0;   // > 0: choose this many calibration samples PASER-style
  int64_t paser_clusters = 4;
  uint64_t seed = 1;
};

struct PruneOutcome {
  Graph graph;           // pruned float graph
  MaskMap masks;         // final masks (AND over steps)
  nlohmann::json notes;  // merged scheme notes: layers.<node>.{…}, storage, steps, recovery
  std::vector<int64_t> picked;  // PASER: chosen calibration sample indices
};

PruneOutcome run_pruning(const Graph& g, const Recipe& recipe, const Schedule& sched,
                         const Recovery& rec, const PruneData& data);

// Per-layer and total report: sparsity, params, MACs dense and effective, scheme.
nlohmann::json pruning_report(const Graph& dense, const PruneOutcome& out);

// Fidelity of `model` against labels (top-1 for class ids, SNDR/R² for targets), or against the
// dense model's outputs when labels are null.
nlohmann::json fidelity(const Graph& model, const Graph& dense, const Tensor& x,
                        const Tensor* labels);

// Bias correction: for each pruned layer in order, adds to its bias the mean (over calibration
// samples and positions) of dense-minus-pruned output of that layer, measured with every earlier
// correction applied. Returns the number of corrected layers.
int bias_correct(Graph& pruned, const Graph& dense, const Tensor& calib,
                 const std::vector<std::string>& layers);

// PASER-style selection: cluster samples by the dense model's output features (k-means, seeded),
// give each cluster a share of the budget proportional to its mean degradation (MSE of pruned vs
// dense output), and pick the most degraded samples in each cluster.
std::vector<int64_t> paser_select(const Graph& pruned, const Graph& dense, const Tensor& calib,
                                  int64_t budget, int64_t clusters, uint64_t seed,
                                  nlohmann::json* report);

// Sensitivity: each prunable layer alone, pruned from the dense weights at every sparsity.
struct SensitivityRow {
  std::string layer;
  double sparsity;
  double metric;  // top-1, or SNDR (dB)
};
std::vector<SensitivityRow> sensitivity(
    const Graph& g, const std::string& scheme, const SchemeOptions& base,
    const std::vector<double>& sparsities, const Tensor& x, const Tensor* labels,
    std::string* metric_name, const PruneData& data = {},
    const std::function<void(size_t done, size_t total, const std::string& what)>& progress =
        nullptr);

}  // namespace prunesim
