// `prunesim sensitivity MODEL.onnx --data x.npy [--labels y.npy] -o sens.csv`: each prunable
// layer alone, pruned from the dense weights at every sparsity, with the fidelity metric; and,
// with --tolerance, the largest sparsity per layer whose metric drop stays within it (a
// per-layer budget to feed a recipe).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/pipeline.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, calib, data, labels, out, recipe_out, scheme = "magnitude";
  std::vector<double> sparsities;
  double tolerance = 0;
  bool tolerance_given = false, json = false;
  int64_t pes = 16, cluster = 4, n = 2, m = 4;
};

// What the measurement gave: the rows, the metric's name (with _pct when shown in percent) and
// how budgets read it (a drop in points, or an SNDR floor against the dense model).
struct Measured {
  std::vector<SensitivityRow> rows;
  std::string metric;
  bool pct = false, vs_dense = false;
};

// The sparsities to measure: the list given (default 0, 0.05, ... 0.95), with the dense point the
// budgets start from, in increasing order.
std::vector<double> sparsity_grid(const Opts& o) {
  std::vector<double> sp = o.sparsities;
  if (sp.empty())
    for (int k = 0; k <= 19; ++k) sp.push_back(0.05 * k);  // 0 … 0.95
  for (double s : sp) check_sparsity(s);
  // The dense point is the budget's baseline: always measured, and the list scanned upward.
  if (std::find(sp.begin(), sp.end(), 0.0) == sp.end()) sp.push_back(0.0);
  std::sort(sp.begin(), sp.end());
  return sp;
}

// Budget: the largest sparsity (scanning upward, stopping at the first violation) whose metric
// stays acceptable. With labels: a drop from the layer's dense metric within the tolerance.
// Without: the dense point is infinitely far (SNDR against itself), so the tolerance is the
// lowest acceptable SNDR against the dense model, in dB.
nlohmann::json budgets(const Opts& o, const Measured& m) {
  const auto& rows = m.rows;
  const bool vs_dense = m.vs_dense;
  nlohmann::json budget;
  {
    std::map<std::string, double> base, best;
    std::map<std::string, bool> broken;
    for (const auto& r : rows) {
      if (!base.count(r.layer)) base[r.layer] = r.metric, best[r.layer] = 0.0;
      if (broken[r.layer] || r.sparsity == 0.0) continue;
      const bool ok = vs_dense ? r.metric >= o.tolerance : base[r.layer] - r.metric <= o.tolerance;
      if (ok)
        best[r.layer] = r.sparsity;
      else
        broken[r.layer] = true;
    }
    for (const auto& kv : best) budget[kv.first] = kv.second;
  }
  return budget;
}

// The budgets were measured one layer at a time; together their losses compound. The combined
// recipe is measured, and a combined result outside the tolerance is a warning.
nlohmann::json measure_combined(const Opts& o, const Graph& g, const Tensor& x,
                                const Tensor& labels, const PruneData& pd, const SchemeOptions& so,
                                const nlohmann::json& given, const nlohmann::json& budget,
                                const Measured& m) {
  const auto& rows = m.rows;
  const std::string& metric = m.metric;
  const bool pct = m.pct, vs_dense = m.vs_dense;
  nlohmann::json combined;
  {
    Recipe rc;
    for (auto it = budget.begin(); it != budget.end(); ++it) {
      if (it->get<double>() <= 0) continue;
      RecipeRule rule;
      rule.layers = {it.key()};
      rule.scheme = o.scheme;
      rule.options = so;
      rule.options.sparsity = it->get<double>();
      rc.rules.push_back(rule);
    }
    double value = std::nan("");
    const double dense = [&] {
      for (const auto& r : rows)
        if (r.sparsity == 0.0) return r.metric;
      return std::nan("");
    }();
    if (!rc.rules.empty()) {
      PruneOutcome po = run_pruning(g, rc, Schedule{}, Recovery{}, pd);
      const Tensor ref = o.labels.empty() ? run_float_batch(g, x) : labels;
      value = score(run_float_batch(po.graph, x), ref).front().second * (pct ? 100 : 1);
      combined = {{"value", std::isfinite(value) ? nlohmann::json(value) : nlohmann::json()},
                  {"sparsity", pruning_report(g, po)["total"]["sparsity"]}};
      nlohmann::json rj = {{"rules", nlohmann::json::array()}};
      for (const auto& rule : rc.rules) {
        // A layer name holds no glob character, so `match` is the exact name.
        nlohmann::json r = {{"match", rule.layers[0]},
                            {"scheme", rule.scheme},
                            {"sparsity", rule.options.sparsity}};
        for (const auto& [k, v] : given.items()) r[k] = v;
        rj["rules"].push_back(r);
      }
      rj["rules"].push_back({{"match", "*"}, {"skip", true}});
      combined["recipe"] = rj;
      const bool ok = vs_dense ? value >= o.tolerance : dense - value <= o.tolerance;
      if (!ok) {
        char b[256];
        if (vs_dense)
          std::snprintf(b, sizeof b,
                        "the per-layer budgets compound: all of them together give %.4g dB SNDR "
                        "vs the dense model, below --tolerance %g dB; lower the budgets",
                        value, o.tolerance);
        else
          std::snprintf(b, sizeof b,
                        "the per-layer budgets compound: all of them together give %s %.4g "
                        "(a drop of %.4g%s), more than --tolerance %g; lower the budgets",
                        metric.c_str(), value, dense - value, pct ? " pt" : "", o.tolerance);
        warn(b);
      }
    }
    if (!o.recipe_out.empty() && rc.rules.empty())
      warn("--recipe-out: no layer has a budget above 0; no recipe written");
  }
  return combined;
}

// --json, or the CSV (or where it went), the budgets and the combined result on the console.
void print_results(const Opts& o, const Measured& m, const std::string& csv,
                   const nlohmann::json& budget, const nlohmann::json& combined) {
  const auto& rows = m.rows;
  const std::string& metric = m.metric;
  const bool pct = m.pct, vs_dense = m.vs_dense;
  if (o.json) {
    nlohmann::json j = {{"model", o.model}, {"metric", metric}, {"scheme", o.scheme}};
    for (const auto& r : rows)  // JSON has no infinity: the dense point against itself is null
      j["rows"].push_back(
          {{"layer", r.layer},
           {"sparsity", r.sparsity},
           {"value", std::isfinite(r.metric) ? nlohmann::json(r.metric) : nlohmann::json()}});
    if (!budget.is_null()) j["budget"] = budget;
    if (!combined.is_null()) j["combined"] = combined;
    std::cout << json_text(j);
    return;
  }
  if (o.out.empty())
    std::cout << csv;
  else
    std::cout << "wrote " << rows.size() << " rows (" << metric << ") to " << o.out << "\n";
  if (!budget.is_null()) {
    if (vs_dense)
      std::printf("per-layer budget (largest sparsity with SNDR vs dense >= %g dB):\n",
                  o.tolerance);
    else
      std::printf("per-layer budget (largest sparsity with a drop <= %g%s):\n", o.tolerance,
                  pct ? " pt" : "");
    for (auto it = budget.begin(); it != budget.end(); ++it)
      std::printf("  %-28s %.2f\n", it.key().c_str(), it->get<double>());
    if (!combined.is_null())
      std::printf("all budgets together: sparsity %.1f %%, %s %.4g%s\n",
                  100 * combined["sparsity"].get<double>(), metric.c_str(),
                  combined["value"].is_null() ? std::nan("") : combined["value"].get<double>(),
                  pct ? " %" : " dB");
    if (!o.recipe_out.empty() && combined.contains("recipe"))
      std::printf("recipe -> %s\n", o.recipe_out.c_str());
  }
}

void run(const Opts& o) {
  check_writable(o.out, "-o");
  check_writable(o.recipe_out, "--recipe-out");
  if (!o.recipe_out.empty() && !o.tolerance_given)
    throw InputError("--recipe-out: needs --tolerance (the budgets it writes)");
  Graph g = load_model(o.model);
  if (o.data.empty() && o.calib.empty()) throw InputError("sensitivity: give --data (or --calib)");
  Tensor x = load_data(o.data.empty() ? o.calib : o.data, &g);
  Tensor labels, calib;
  if (!o.labels.empty()) labels = load_labels(o.labels, g, x.shape[0]);
  PruneData pd;  // data-driven schemes (similarity) calibrate on --calib
  if (!o.calib.empty()) {
    calib = load_data(o.calib, &g);
    pd.calib = &calib;
  }
  const std::vector<double> sp = sparsity_grid(o);
  if (o.tolerance_given && !std::isfinite(o.tolerance))
    throw InputError("--tolerance: must be a finite number");
  // The flags this command has for scheme options, given to the scheme that declares them.
  const Scheme& scheme = *make_scheme(o.scheme);
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [k, v] : {std::pair<const char*, int64_t>{"pes", o.pes},
                             {"cluster", o.cluster},
                             {"n", o.n},
                             {"m", o.m}})
    if (find_param(scheme.params(), k)) given[k] = v;
  SchemeOptions so;
  so.params = resolve_scheme_params(scheme, given, [&](const std::string& k) {
    return k.empty() ? "--scheme " + o.scheme : "--" + k;
  });
  std::string metric;
  auto rows = sensitivity(g, o.scheme, so, sp, x, o.labels.empty() ? nullptr : &labels, &metric, pd,
                          progress);
  // One convention with eval, prune and sweep: fractions (top-1, mIoU, pixel accuracy) are shown
  // in %, so a drop and --tolerance are in percentage points (pt).
  const bool pct = metric == "top1" || metric == "miou" || metric == "pixel_accuracy";
  if (pct) {
    metric += "_pct";
    for (auto& r : rows) r.metric *= 100;
  }
  std::ostringstream csv;
  csv << "layer,sparsity," << metric << "\n";
  for (const auto& r : rows) csv << r.layer << "," << r.sparsity << "," << r.metric << "\n";
  const bool vs_dense = o.labels.empty();
  Measured m{rows, metric, pct, vs_dense};
  const nlohmann::json budget = o.tolerance_given ? budgets(o, m) : nlohmann::json();
  const nlohmann::json combined = o.tolerance_given
                                      ? measure_combined(o, g, x, labels, pd, so, given, budget, m)
                                      : nlohmann::json();
  // Outputs after every warning, so --strict leaves none behind.
  if (!o.out.empty()) write_file_atomic(o.out, csv.str());
  if (!o.recipe_out.empty() && combined.contains("recipe"))
    write_file_atomic(o.recipe_out, json_text(combined["recipe"]));
  print_results(o, m, csv.str(), budget, combined);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("sensitivity",
                               "Per-layer pruning sensitivity: CSV of layer, sparsity, metric");
  c->add_option("model", o->model, "ONNX model")->required()->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "evaluation inputs .npy")->check(CLI::ExistingFile);
  c->add_option("--calib", o->calib, "used as the data when --data is absent")
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets; without: SNDR vs the dense model")
      ->check(CLI::ExistingFile);
  c->add_option("--scheme", o->scheme, "scheme applied to one layer at a time")
      ->capture_default_str();
  c->add_option("--sparsities", o->sparsities, "list, default 0,0.05,…,0.95")->delimiter(',');
  c->add_option("--tolerance", o->tolerance,
                "per-layer budget: tolerated metric drop (with --labels; pt for top-1/mIoU), or "
                "the lowest SNDR in dB against the dense model (without)")
      ->each([o](const std::string&) { o->tolerance_given = true; });
  c->add_option("--pes", o->pes, "balanced: PE count");
  c->add_option("--cluster", o->cluster, "balanced: PEs per cluster");
  c->add_option("--n", o->n, "nm: keep N ...");
  c->add_option("--m", o->m, "nm: ... of every M");
  c->add_option("-o,--output", o->out, "CSV file to write");
  add_threads_option(c);
  c->add_option("--recipe-out", o->recipe_out,
                "with --tolerance: write the budgets as a recipe (prunesim prune --recipe)");
  c->add_flag("--json", o->json, "print JSON");
  c->callback([o] { run(*o); });
}

Registrar reg("sensitivity", setup);

}  // namespace
}  // namespace prunesim::cli
