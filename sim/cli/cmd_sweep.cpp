// `prunesim sweep --arch A --model M.onnx --schemes a,b --sparsity 0:0.9:0.1 --calib C.npy
// --data X.npy [--set key=v1,v2 ...] -o sweep.csv [--plot sweep.png]`: for every scheme ×
// sparsity × combination of --set values it prunes, quantizes, builds the weight table in
// memory, measures the int8 fidelity and simulates the table on the architecture; the rows go to
// one CSV (docs/cli.md lists the columns) with the Pareto points on (energy min, fidelity max)
// marked, and optionally a PNG drawn by scripts/plot_sweep.py.
// The engine is sim/dse (sweep.h, plot.h); this file declares and checks the flags, loads the
// files and prints.
//
// A point that cannot be made (a scheme refusing a layer geometry, an arch rejecting a table) is
// a row with the `error` column set, and the sweep goes on: only bad flags abort, before any work.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/output.h"
#include "common.h"
#include "dse_cli.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/pipeline.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/dse/plot.h"
#include "sim/dse/sweep.h"
#include "train_cli.h"

namespace prunesim::cli {
namespace {

using dse::Axis;
using dse::Row;
using nlohmann::json;

struct Opts {
  std::string arch = "raman", model, calib, data, labels, input, out, plot, mode, config;
  std::vector<std::string> schemes = {"balanced", "magnitude", "nm"};
  std::string sparsity = "0:0.9:0.1";
  std::vector<std::string> sets;
  double rate = 0;
  uint64_t seed = 1;
  bool json = false;
  double min_fidelity = std::nan("");  // points below are not Pareto candidates (broken models)
  // Recovery of every point: built-in fine-tuning, bias correction, a recipe as one more curve,
  // masks imported for the mask/polarization schemes.
  std::string finetune, train_data, train_labels, recipe, mask_file;
  bool bias_correct = false;
};

// What a sweep loads once: the engine's context and what the fine-tuning hook reads.
struct Loaded {
  dse::Context c;
  DseFinetune ft;
};

// The architecture, mode, table target and rate of the sweep, checked.
void check_arch(const Opts& o, dse::Context& c) {
  check_dse_arch(o.arch, o.mode, o.rate, c);
  c.config = o.config;
  c.seed = o.seed;
  c.recipe = o.recipe;
  c.mask_file = o.mask_file;
  c.bias_correct = o.bias_correct;
}

// --schemes, known and without repeats ("recipe" only with --recipe).
std::vector<std::string> check_schemes(const Opts& o) {
  if (o.schemes.empty()) throw InputError("--schemes: name at least one scheme");
  std::vector<std::string> schemes;
  for (const auto& s : o.schemes) {
    if (s == "recipe" && !o.recipe.empty()) {
      if (!std::count(schemes.begin(), schemes.end(), s)) schemes.push_back(s);
      continue;
    }
    scheme_registry().get(s, "--schemes");
    if (!std::count(schemes.begin(), schemes.end(), s)) schemes.push_back(s);
  }
  return schemes;
}

// The model, data sets and simulated input into L.c, and the fine-tuning hook with --finetune.
void load_inputs(const Opts& o, Loaded& L, std::vector<std::string>& schemes) {
  dse::Context& c = L.c;
  c.g = load_model(o.model);
  if (!o.recipe.empty()) {
    load_recipe(o.recipe, c.g);  // a bad recipe fails now, not at every point
    if (!std::count(schemes.begin(), schemes.end(), "recipe")) schemes.push_back("recipe");
  }
  c.finetune = make_dse_finetune(o.finetune, o.train_data, o.train_labels, c.g, &c.calib, L.ft);
  load_dse_data(o.calib, o.data, o.labels, o.input, c);
}

void write_outputs(const Opts& o, const dse::Context& c, const std::string& script,
                   const std::vector<Row>& rows, const std::vector<Axis>& axes, size_t failed) {
  const std::string csv = dse::to_csv(rows, axes);
  // The CSV and the plot drawn from it are staged and renamed into place together (base/output.h).
  OutputBatch outputs;
  if (!o.out.empty()) {
    const std::string csv_tmp = outputs.stage(o.out, csv);
    if (!o.plot.empty())
      dse::draw_plot(script, csv_tmp, outputs.stage_external(o.plot), o.min_fidelity, o.out);
  }
  outputs.commit();
  if (o.json) {
    json j = {{"arch", o.arch},
              {"mode", c.mode},
              {"model", o.model},
              {"rate_hz", c.rate_hz},
              {"points", rows.size()},
              {"failed", failed},
              {"rows", dse::to_json(rows, axes)}};
    if (!o.out.empty()) j["csv"] = o.out;
    if (!o.plot.empty()) j["plot"] = o.plot;
    std::cout << json_text(j);
  } else if (o.out.empty()) {
    std::cout << csv;
  } else {
    dse::print_table(rows, axes, c.rate_hz);
    std::printf("wrote %zu rows (%zu failed) to %s\n", rows.size(), failed, o.out.c_str());
    if (!o.plot.empty()) std::printf("wrote plot %s\n", o.plot.c_str());
  }
  // Nothing simulated at all is a failure a script must notice, even though the CSV says why.
  if (failed == rows.size()) {
    std::cerr << "prunesim: error: sweep: every point failed; first: " << rows[0].error << "\n";
    set_exit_code(1);
  }
}

void run(const Opts& o) {
  // Every flag is checked before the first point runs: a bad one costs nothing and writes nothing.
  if (o.model.empty()) throw InputError("sweep: --model is required");
  if (o.calib.empty()) throw InputError("sweep: --calib is required (int8 quantization)");
  if (o.data.empty()) throw InputError("sweep: --data is required (fidelity)");
  check_writable(o.out, "-o");
  check_writable(o.plot, "--plot");
  if (!o.plot.empty() && o.out.empty()) throw InputError("--plot: needs -o (the CSV it plots)");
  Loaded L;
  dse::Context& c = L.c;
  check_arch(o, c);
  std::vector<std::string> schemes = check_schemes(o);
  const std::vector<double> sparsities = dse::parse_sparsities(o.sparsity);
  const std::vector<Axis> axes = dse::parse_axes(o.arch, c.specs, o.config, o.sets);
  dse::check_grid(axes, schemes.size(), sparsities.size());
  const std::string script = o.plot.empty() ? std::string() : dse::check_plot();

  load_inputs(o, L, schemes);
  // A recipe is a curve like a scheme: at each sparsity its rules are scaled to it (run_point).
  std::vector<Row> rows = dse::make_rows(axes, schemes, sparsities);
  const size_t failed = dse::run_rows(c, axes, rows, progress);
  dse::mark_pareto(rows, o.min_fidelity);
  // Points short of their sparsity or slower than 1/rate: one warning line each.
  for (const std::string& w : dse::sweep_warnings(rows, c.rate_hz)) warn(w);
  write_outputs(o, c, script, rows, axes, failed);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand(
      "sweep", "Schemes x sparsities (x --set ranges): prune, measure fidelity, simulate; CSV");
  c->add_option("--arch", o->arch, "architecture (default raman)");
  c->add_option("--model", o->model, "ONNX model")->check(CLI::ExistingFile);
  c->add_option("--schemes", o->schemes, "comma list of pruning schemes")->delimiter(',');
  c->add_option("--sparsity", o->sparsity,
                "start:stop:step (inclusive) or a comma list, in [0, 1)");
  c->add_option("--calib", o->calib, "calibration set .npy (int8 scales)")
      ->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "evaluation inputs .npy (fidelity; first sample simulated)")
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets for --data")
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "simulate this input .npy instead of the first --data sample")
      ->check(CLI::ExistingFile);
  add_threads_option(c);
  c->add_option("--mode", o->mode, "simulation mode (default analytical; cycle = SystemC)");
  c->add_option("--set", o->sets, "key=v1,v2,...: sweep an architecture parameter (repeatable)");
  c->add_option("--config", o->config, "JSON file of architecture parameters")
      ->check(CLI::ExistingFile);
  c->add_option("--rate", o->rate, "inferences per second for power (default: the arch's)");
  c->add_option("--seed", o->seed, "seed of the schemes' random choices");
  c->add_option("-o,--output", o->out, "CSV to write (without: CSV on stdout)");
  c->add_option(
      "--plot", o->plot,
      "PNG to draw (energy, power and fidelity against sparsity; fidelity against energy)");
  c->add_flag("--json", o->json, "print the rows as JSON");
  c->add_option("--min-fidelity", o->min_fidelity,
                "points whose fidelity is below this (in the fidelity column's unit: % or dB) are "
                "not Pareto candidates, and the plot draws the line");
  c->add_option("--finetune", o->finetune,
                "recover every point with the built-in engine: epochs=N[,lr=X,batch=N,qat,...]");
  add_train_data_options(c, &o->train_data, &o->train_labels);
  c->add_flag("--bias-correct", o->bias_correct, "recover every point by bias correction");
  c->add_option("--recipe", o->recipe, "one more curve: this recipe (scheme name 'recipe')")
      ->check(CLI::ExistingFile);
  c->add_option("--mask-file", o->mask_file, "masks for the mask/polarization schemes")
      ->check(CLI::ExistingFile);
  c->callback([o] { run(*o); });
}

Registrar reg("sweep", setup);

}  // namespace
}  // namespace prunesim::cli
