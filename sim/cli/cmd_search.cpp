// `prunesim search --arch A --model M.onnx --calib C.npy --data V.npy [--labels L.npy]
// --objectives energy,fidelity [--latency-budget S] [--min-fidelity F] [--max-area MM2]
// [--schemes a,b] [--sparsity 0:0.9:0.1] [--set key=lo:hi:step] [--algo nsga2|random]
// [--pop N] [--gens G] [--divide K] [--checkpoint F [--resume]] -o points.csv [--front F.json]
// [--hv hv.csv] [--plot front.png] [--finetune epochs=N --train-data X [--train-labels Y]]`:
// the multi-objective search of docs/search.md. Under
// `mpirun -np K` rank 0 searches and the others evaluate (sim/dse/mpi.h); the engine is
// sim/dse/search.h, this file checks the flags, loads the files and writes.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/output.h"
#include "common.h"
#include "dse_cli.h"
#include "prune/errors.h"
#include "prune/pruning.h"
#include "registry.h"
#include "sim/dse/mpi.h"
#include "sim/dse/plot.h"
#include "sim/dse/search.h"

namespace prunesim::cli {
namespace {

using nlohmann::json;

struct Opts {
  std::string arch = "raman", model, calib, data, labels, input, config;
  std::string out, front, hv, plot, checkpoint;
  std::string finetune, train_data, train_labels;
  std::vector<std::string> schemes = {"magnitude", "nm"};
  std::string sparsity = "0:0.9:0.1";
  std::vector<std::string> sets;
  std::string objectives = "energy,fidelity";
  double latency_budget = std::nan(""), min_fidelity = std::nan(""), max_area = std::nan("");
  std::string algo = "nsga2";
  size_t pop = 16, gens = 10, divide = 1;
  uint64_t seed = 1;
  double rate = 0;
  bool resume = false, no_recheck = false, json = false;
};

void check_limit(double v, const char* flag) {
  if (!std::isnan(v) && !(std::isfinite(v) && v > 0))
    throw InputError(std::string(flag) + ": must be a finite number > 0");
}

// Every flag checked before any work: bad input costs nothing and writes nothing.
void check(const Opts& o, dse::Context& c, dse::Space& s, dse::SearchOptions& so) {
  if (o.model.empty()) throw InputError("search: --model is required");
  if (o.calib.empty()) throw InputError("search: --calib is required (int8 quantization)");
  if (o.data.empty()) throw InputError("search: --data is required (the validation split)");
  for (const auto& [p, f] : {std::pair{o.out, "-o"},
                             {o.front, "--front"},
                             {o.hv, "--hv"},
                             {o.plot, "--plot"},
                             {o.checkpoint, "--checkpoint"}})
    check_writable(p, f);
  if (!o.plot.empty() && o.out.empty()) throw InputError("--plot: needs -o (the CSV it plots)");
  check_dse_arch(o.arch, "", o.rate, c);
  const auto modes = c.arch->modes();
  if (!std::count(modes.begin(), modes.end(), "analytical"))
    throw InputError("--arch " + o.arch + ": has no analytical twin to search with");
  c.config = o.config;
  c.seed = o.seed;
  so.objectives = dse::parse_objectives(o.objectives);
  check_limit(o.latency_budget, "--latency-budget");
  check_limit(o.max_area, "--max-area");
  if (!std::isnan(o.min_fidelity) && !std::isfinite(o.min_fidelity))
    throw InputError("--min-fidelity: must be a finite number");
  so.cons.latency_s = o.latency_budget;
  so.cons.min_fidelity = o.min_fidelity;
  so.cons.area_mm2 = o.max_area;
  so.algo = o.algo;
  so.pop = o.pop;
  so.gens = o.gens;
  so.seed = o.seed;
  so.divide = o.divide;
  so.checkpoint = o.checkpoint;
  so.resume = o.resume;
  if (o.resume && o.checkpoint.empty()) throw InputError("--resume: needs --checkpoint FILE");
  if (o.schemes.empty()) throw InputError("--schemes: name at least one scheme");
  for (const auto& n : o.schemes) {
    make_scheme(n);  // an unknown scheme is bad input now
    if (!std::count(s.schemes.begin(), s.schemes.end(), n)) s.schemes.push_back(n);
  }
  s.sparsities = dse::parse_sparsities(o.sparsity);
  // 0 (the layer left dense) is always a choice, first: index 0 is "dense".
  if (s.sparsities.front() != 0) s.sparsities.insert(s.sparsities.begin(), 0.0);
  s.axes = dse::parse_axes(o.arch, c.specs, o.config, o.sets);
}

void write_outputs(const Opts& o, const dse::Context& c, const dse::Space& s,
                   const dse::SearchOptions& so, dse::SearchResult& r, const std::string& script,
                   const std::vector<std::string>& recheck_notes) {
  const std::string csv = dse::points_csv(s, r.points);
  json j = dse::result_json(s, so, r);
  j["arch"] = o.arch;
  j["model"] = o.model;
  j["mode"] = c.mode;
  j["recheck"] = o.no_recheck ? "off" : "cycle mode, every front point";
  OutputBatch out;
  if (!o.out.empty()) {
    const std::string tmp = out.stage(o.out, csv);
    if (!o.plot.empty()) {
      // The front plot reads the points CSV and the run's limits.
      dse::draw_plot(script, tmp, out.stage_external(o.plot), o.min_fidelity, o.out,
                     {"--latency-budget", dse::fmt(o.latency_budget)});
    }
  }
  if (!o.front.empty()) out.stage(o.front, json_text(j));
  if (!o.hv.empty()) out.stage(o.hv, dse::history_csv(r.history));
  // A constraint nobody met: said at the end with the best miss, and the run fails (exit 2);
  // under --strict the warning is the error and nothing is written.
  const bool none = r.feasible == 0;
  std::string miss;
  if (none) miss = "no evaluated point meets the constraints; the closest misses by " + r.best_miss;
  if (none && strict()) warn(miss);
  out.commit();
  if (o.json) {
    std::cout << json_text(j);
  } else {
    size_t fronts = 0;
    for (const auto& p : r.points) fronts += p.front;
    std::printf("%s: %zu evaluations, %zu distinct points, %zu feasible, %zu on the front\n",
                so.algo.c_str(), r.evaluations, r.points.size(), r.feasible, fronts);
    std::printf("hypervolume %.6f (normalised to the dense model; docs/search.md)\n",
                r.history.empty() ? 0.0 : r.history.back().hypervolume);
    if (r.generations_run && r.eval_seconds > 0)
      std::printf("%.1f design points/s evaluated in this process\n",
                  static_cast<double>(r.points.size() - r.replayed) / r.eval_seconds);
    for (size_t k = 0; k < r.points.size(); ++k) {
      const dse::Point& p = r.points[k];
      if (!p.tuned.ok) continue;
      const char* u = p.row.metric == "top1_pct" || p.row.metric == "miou_pct" ? "%" : "dB";
      std::printf(
          "front point %zu fine-tuned: sparsity %.1f %%, fidelity %.2f -> %.2f %s, "
          "energy %.4g -> %.4g uJ\n",
          k, 100 * p.row.actual, p.row.fidelity, p.tuned.fidelity, u, 1e6 * p.row.energy_j,
          1e6 * p.tuned.energy_j);
    }
    for (const auto& [p, what] :
         {std::pair{o.out, "points"}, {o.front, "front"}, {o.hv, "hypervolume"}, {o.plot, "plot"}})
      if (!p.empty()) std::printf("wrote %s %s\n", what, p.c_str());
  }
  for (const auto& n : recheck_notes) warn(n);
  if (none) {
    warn(miss);
    set_exit_code(2);
  }
}

void run(const Opts& o) {
  dse::Context c;
  dse::Space s;
  dse::SearchOptions so;
  check(o, c, s, so);
  const std::string script = o.plot.empty() ? std::string() : dse::check_plot("plot_search.py");
  c.g = load_model(o.model);
  for (const auto& l : prunable_layers(c.g)) s.layers.push_back(l.node);
  dse::check_search(s, so);
  // Fine-tuning is for the front only: the search's own context stays without the hook.
  DseFinetune ft;
  const dse::FinetuneFn hook =
      make_dse_finetune(o.finetune, o.train_data, o.train_labels, c.g, &c.calib, ft);
  load_dse_data(o.calib, o.data, o.labels, o.input, c);
  dse::Context tuned = c;
  tuned.finetune = hook;

  std::unique_ptr<dse::MpiFarm> farm;
  if (dse::mpi_launched()) farm = std::make_unique<dse::MpiFarm>();
  if (!farm || farm->rank() == 0) {
    // A choice that can change nothing is still searched (the space is a product), but the
    // user is told once which ones are the dense layer in disguise.
    for (const auto& n : dse::inert_choices(c, s))
      warn("--schemes " + n + ": removes nothing there even at the largest sparsity " +
           "(a depthwise layer's channels follow its input's producer; the model's input and " +
           "output channels stay); that choice leaves the layer dense");
  }
  if (farm && farm->rank() != 0) {
    // A worker: evaluate until rank 0 is done; rank 0 reports for everyone.
    farm->serve(c, s);
    return;
  }
  const dse::BatchFn batch = farm && farm->size() > 1 ? farm->batch(c, s) : dse::serial_batch(c, s);
  dse::SearchResult r = dse::run_search(c, s, so, batch, progress);
  if (farm) farm->stop();
  std::vector<std::string> notes;
  if (!o.no_recheck) notes = dse::recheck_front(c, s, r.points, so.cons);
  if (tuned.finetune) {
    // The search ranks one-shot points (training every candidate would cost epochs each); the
    // front it found is then recovered, and each point's tuned figures sit beside its own.
    for (const auto& n : dse::finetune_front(tuned, s, r.points, so.cons, progress))
      notes.push_back(n);
  }
  write_outputs(o, c, s, so, r, script, notes);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand(
      "search", "Multi-objective search (NSGA-II, random, EMO-DIR) over per-layer pruning");
  c->add_option("--arch", o->arch, "architecture (default raman)");
  c->add_option("--model", o->model, "ONNX model")->check(CLI::ExistingFile);
  c->add_option("--calib", o->calib, "calibration set .npy (int8 scales)")
      ->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "validation split .npy (fidelity; first sample simulated)")
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets for --data")
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "simulate this input .npy instead of the first --data sample")
      ->check(CLI::ExistingFile);
  c->add_option("--config", o->config, "JSON file of architecture parameters")
      ->check(CLI::ExistingFile);
  add_threads_option(c);
  c->add_option("--rate", o->rate, "inferences per second for power (default: the arch's)");
  c->add_option("--schemes", o->schemes, "schemes a layer may take (comma list)")->delimiter(',');
  c->add_option("--sparsity", o->sparsity,
                "sparsities a layer may take: start:stop:step or a list, in [0, 1); 0 is added");
  c->add_option("--set", o->sets,
                "key=v1,v2,... or key=start:stop:step: an architecture parameter to search "
                "(repeatable)");
  c->add_option("--objectives", o->objectives,
                "two to four of energy, latency, area, fidelity (comma list)");
  c->add_option("--latency-budget", o->latency_budget, "latency limit per inference, s");
  c->add_option("--min-fidelity", o->min_fidelity,
                "fidelity floor, in the fidelity's unit (top-1 %, mIoU % or SNDR dB)");
  c->add_option("--max-area", o->max_area, "area limit, mm2");
  c->add_option("--algo", o->algo, "nsga2 or random (the baseline)");
  c->add_option("--pop", o->pop, "population (and batch) size: a multiple of 4, >= 8");
  c->add_option("--gens", o->gens, "generations after the initial population");
  c->add_option("--seed", o->seed, "seed of the search and of the schemes");
  c->add_option("--divide", o->divide, "EMO-DIR: search K parts of consecutive layers, combine");
  c->add_option("--checkpoint", o->checkpoint, "JSON written after every generation");
  c->add_flag("--resume", o->resume, "continue the search in --checkpoint");
  c->add_flag("--no-recheck", o->no_recheck, "do not rerun the front in cycle mode");
  c->add_option("--finetune", o->finetune,
                "fine-tune every front point after the search: epochs=N[,lr=..,qat,...] "
                "(docs/training.md); needs --train-data");
  add_train_data_options(c, &o->train_data, &o->train_labels);
  c->add_option("-o,--output", o->out, "CSV of every evaluated point");
  c->add_option("--front", o->front, "JSON: the front, the run, the hypervolume per generation");
  c->add_option("--hv", o->hv, "CSV: hypervolume per generation");
  c->add_option("--plot", o->plot,
                "PNG: fidelity against energy and against latency, front and limits drawn");
  c->add_flag("--json", o->json, "print the run and its front as JSON");
  c->callback([o] { run(*o); });
}

Registrar reg("search", setup);

}  // namespace
}  // namespace prunesim::cli
