// `prunesim prune MODEL.onnx (--scheme S [options] | --recipe R.json) [-o out.pwt]
// [--onnx-out pruned.onnx] [--report r.json]`: prunes with a registered scheme or a recipe,
// under a schedule, optionally recovers without retraining, quantizes to int8 and writes the
// weight tables, the pruned ONNX and a report (also printed as a table).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pipeline.h"
#include "prune_output.h"
#include "registry.h"
#include "train_cli.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, scheme = "magnitude", recipe, out, onnx_out, report;
  std::string calib, data, labels;
  std::vector<std::string> layers;
  SchemeOptions so;  // sparsity and seed; the scheme's own options come from `flags`
  // The schemes' options as typed, by flag (--n, --mask-file): built from their declarations.
  std::map<std::string, std::string> flags;
  std::set<std::string> typed;  // the flags the user gave
  Schedule sched;
  std::string step_list;
  Recovery rec;
  TablesCliOpts tables;
  std::string finetune, train_data, train_labels;
  int rewind_epoch = 0;
  bool list = false, json = false, quiet = false;
  bool no_fidelity_alone = false;  // skip the per-layer figures: one evaluation per layer
  bool sparsity_given = false;
};

std::string option_flag(const std::string& name) {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

// The scheme's options from the flags the user typed (others take the scheme's defaults). With
// --sparsity, a scheme whose sparsity follows from its options (nm) sets them from it.
ParamValues scheme_params(const Scheme& s, const Opts& o) {
  nlohmann::json given = nlohmann::json::object();
  for (const ParamSpec& p : s.params()) {
    const std::string flag = option_flag(p.name);
    if (o.typed.count(flag)) given[p.name] = parse_param_value(p, o.flags.at(flag), flag);
  }
  if (o.sparsity_given) {
    ParamValues from(s.params());
    std::string note;
    const auto keys = s.params_for_sparsity(o.so.sparsity, &from, &note);
    std::string typed;
    for (const auto& k : keys)
      if (o.typed.count(option_flag(k))) typed += (typed.empty() ? "" : "/") + option_flag(k);
    if (!typed.empty())
      throw InputError("--sparsity with " + typed + ": " + s.name() +
                       " sets them from the sparsity; give one or the other");
    for (const auto& k : keys) given[k] = from.json().at(k);
    if (!keys.empty())
      std::fprintf(stderr, "%s: --sparsity %g -> %s\n", s.name().c_str(), o.so.sparsity,
                   note.c_str());
  }
  return resolve_scheme_params(s, given, [&](const std::string& k) {
    return k.empty() ? "--scheme " + s.name() : option_flag(k);
  });
}

void print_table(const nlohmann::json& rep) {
  std::printf("%-26s %-14s %-10s %10s %8s %12s %12s\n", "layer", "op", "scheme", "weights",
              "sparsity", "MACs dense", "MACs eff.");
  for (const auto& l : rep["layers"])
    std::printf(
        "%-26s %-14s %-10s %10s %7.1f%% %12s %12s\n",
        l["name"].get<std::string>().substr(0, 26).c_str(), l["op"].get<std::string>().c_str(),
        l["scheme"].get<std::string>().c_str(), with_commas(l["weights"].get<int64_t>()).c_str(),
        100.0 * l["sparsity"].get<double>(), with_commas(l["macs_dense"].get<int64_t>()).c_str(),
        with_commas(l["macs_effective"].get<int64_t>()).c_str());
  const auto& t = rep["total"];
  std::printf("total: %s of %s weights kept (sparsity %.1f%%), params %s -> %s, MACs %s -> %s\n",
              with_commas(t["nonzero"].get<int64_t>()).c_str(),
              with_commas(t["weights"].get<int64_t>()).c_str(), 100.0 * t["sparsity"].get<double>(),
              with_commas(t["params_dense"].get<int64_t>()).c_str(),
              with_commas(t["params"].get<int64_t>()).c_str(),
              with_commas(t["macs_dense"].get<int64_t>()).c_str(),
              with_commas(t["macs_effective"].get<int64_t>()).c_str());
  if (rep.contains("balanced") && rep["balanced"].contains("storage_saving")) {
    const auto& s = rep["balanced"]["storage_saving"];
    std::printf("balanced storage saving: %.1f%% vs dense, %.1f%% vs CSR\n",
                100.0 * s["vs_dense"].get<double>(), 100.0 * s["vs_csr"].get<double>());
  }
  if (rep.contains("fidelity")) {
    const auto& f = rep["fidelity"];
    for (const char* which : {"dense", "pruned", "int8"}) {
      if (!f.contains(which)) continue;
      const auto& m = f[which];
      if (std::string(which) == "dense" && m.value("against", "") == "dense model output") continue;
      std::printf("fidelity %-7s %s\n", which, fidelity_text(m).c_str());
    }
  }
}

// A layer that ends more than a point below the sparsity its rule asked for is named on stderr in
// one warning line, with the total reached (the request fell short, so the console says so).
void warn_short_sparsity(const Recipe& recipe, const nlohmann::json& rep) {
  std::string shortfall, reason, left;
  double asked_w = 0, weights = 0;
  int n = 0;
  for (const auto& row : rep["layers"]) {
    const std::string name = row["name"];
    const RecipeRule* rule = nullptr;
    for (const auto& rl : recipe.rules) {
      const bool hit = rl.layers.empty()
                           ? glob_match(rl.match, name)
                           : std::find(rl.layers.begin(), rl.layers.end(), name) != rl.layers.end();
      if (hit) {
        rule = &rl;
        break;
      }
    }
    if (!rule || rule->skip) continue;
    const Scheme* scheme = make_scheme(rule->scheme);
    if (scheme->traits().removes_channels && rule->options.sparsity > 0 &&
        row["sparsity"].get<double>() == 0 && row["weights"].get<double>() > 0) {
      // A channel rule asks for a share of channels, not of weights: only a layer it left
      // exactly as it was has fallen short for sure.
      left += (left.empty() ? "" : ", ") + name;
      continue;
    }
    if (!scheme->traits().meets_sparsity) continue;
    const double w = row["weights"].get<double>(), sp = row["sparsity"].get<double>();
    asked_w += rule->options.sparsity * w;
    weights += w;
    if (sp < rule->options.sparsity - 0.01) {
      char b[160];
      std::snprintf(b, sizeof b, "%s%s %.1f %%", n ? ", " : "", name.c_str(), 100 * sp);
      if (n < 4) shortfall += b;
      ++n;
      if (reason.empty()) reason = scheme->shortfall_reason(scheme->complete(rule->options.params));
    }
  }
  if (!left.empty())
    warn("channel rules left " + left +
         " as they were: no removable channel group is produced there (a depthwise layer's "
         "channels follow its input's producer; the model's input and output channels stay)");
  if (!n) return;
  char line[1024];
  std::snprintf(line, sizeof line,
                "reached %.1f %% weight sparsity of the %.1f %% asked: %d layer%s fell "
                "short (%s%s)%s%s",
                100 * rep["total"]["sparsity"].get<double>(),
                weights > 0 ? 100 * asked_w / weights : 0.0, n, n == 1 ? "" : "s",
                shortfall.c_str(), n > 4 ? ", ..." : "", reason.empty() ? "" : "; ",
                reason.c_str());
  warn(line);
}

// Balanced groups of a channel count the PE array does not divide run on fewer PEs
// (prune/balanced.h); the console names each such layer, so the mapping is never a surprise.
void note_idle_pes(const nlohmann::json& rep) {
  std::string which;
  int n = 0;
  for (const auto& row : rep["layers"]) {
    if (!row.contains("balanced") || row["balanced"].value("idle_pes", int64_t{0}) == 0) continue;
    const auto& b = row["balanced"];
    const int64_t pes = b["pes"].get<int64_t>(), idle = b["idle_pes"].get<int64_t>();
    if (n < 4)
      which += (n ? ", " : "") + row["name"].get<std::string>() + " " + std::to_string(pes) +
               " of " + std::to_string(pes + idle);
    ++n;
  }
  if (n)
    std::fprintf(stderr,
                 "note: balanced: %d layer%s run on fewer PEs, the largest count that divides "
                 "their output channels, the others idle (%s%s PEs)\n",
                 n, n == 1 ? "" : "s", which.c_str(), n > 4 ? ", ..." : "");
}

// Layers a mask file does not cover stay dense: named in one warning line.
void warn_unmasked(const nlohmann::json& rep) {
  std::string which;
  int n = 0;
  for (const auto& row : rep["layers"])
    if (row.value("mask", "") == "none in file: left dense") {
      if (n < 6) which += (n ? ", " : "") + row["name"].get<std::string>();
      ++n;
    }
  if (n)
    warn("the mask file has no mask for " + std::to_string(n) + " of " +
         std::to_string(rep["layers"].size()) + " layers, left dense: " + which +
         (n > 6 ? ", ..." : ""));
}

// prune --list: each scheme and the options it declares.
void print_scheme_list() {
  // Each scheme and the options it declares: flag, type, default, unit, range, meaning.
  for (const auto& n : scheme_names()) {
    const Scheme* s = make_scheme(n);
    std::cout << n << "  " << s->description() << "\n";
    for (const ParamSpec& p : s->params()) {
      char b[512];
      std::snprintf(
          b, sizeof b, "    %-14s %-6s default %-8s %-7s %-16s %s\n", option_flag(p.name).c_str(),
          dump_params_json("", {p})["parameters"][0]["type"].get<std::string>().c_str(),
          param_text(p.def).c_str(), p.unit.c_str(), param_range(p).c_str(), p.meaning.c_str());
      std::cout << b;
    }
  }
}

// Built-in recovery: the training engine runs after one-shot pruning and between the steps of
// every schedule (o.sched.finetune_fn), trains polarization gates in the pruning step
// (pd.train_scheme, its reports into polar_log), and rewinds lottery tickets; PASER's budget then
// chooses the fine-tuning set from --train-data. Without --finetune, the flags that need it are
// refused.
void set_up_recovery(Opts& o, const Graph& g, PruneData& pd, LoopFinetune& ft,
                     nlohmann::json& polar_log, Tensor& train_x, Tensor& train_y) {
  if (!o.finetune.empty()) {
    train::parse_train_spec(o.finetune, "--finetune", &ft.opt);
    if (o.train_data.empty())
      throw InputError(
          "--finetune: needs --train-data X.npy (and --train-labels, or the dense "
          "model is distilled)");
    train_x = load_data(o.train_data, &g);
    ft.x = &train_x;
    if (!o.train_labels.empty()) {
      train_y = load_npy_as_float(o.train_labels);
      check_finite(train_y, o.train_labels, "labels");
      ft.labels = &train_y;
    }
    ft.calib = pd.calib;
    ft.dense = &g;
    ft.quiet = o.quiet;
    if (o.rec.paser_budget > 0) {
      if (o.rec.paser_budget > train_x.shape[0])
        throw InputError("--paser-budget: " + std::to_string(o.rec.paser_budget) +
                         " is more than the " + std::to_string(train_x.shape[0]) +
                         " samples of --train-data");
      ft.paser_budget = o.rec.paser_budget;
      ft.paser_clusters = o.rec.paser_clusters;
      if (!o.rec.bias_correct) o.rec.paser_budget = 0;  // the budget picks the training set
    }
    o.sched.finetune_fn = [&ft](const Graph& pg, const MaskMap& m, const std::string& label) {
      return ft(pg, m, label);
    };
    if (o.sched.kind == "lottery" && o.sched.rewind_onnx.empty()) o.sched.rewind_dense = true;
    if (o.rewind_epoch > 0) {
      if (o.sched.kind != "lottery")
        throw InputError("--rewind-epoch: rewinds a lottery ticket (--schedule lottery)");
      if (!o.sched.rewind_onnx.empty())
        throw InputError("--rewind-epoch and --rewind: give one rewind point");
      if (o.rewind_epoch > ft.opt.epochs)
        throw InputError("--rewind-epoch " + std::to_string(o.rewind_epoch) + ": more than the " +
                         std::to_string(ft.opt.epochs) + " epochs of a round");
      ft.opt.snapshot_epoch = o.rewind_epoch;
      o.sched.rewind_snapshot = [&ft]() -> const Graph* {
        return ft.has_snapshot ? &ft.snapshot : nullptr;
      };
    }
    // Polarization trains its gates in the pruning step itself, with the same options.
    pd.train_scheme = [&ft, &g, &rep_polar = polar_log](const std::string&, const Graph& cur,
                                                        const std::vector<std::string>& layers,
                                                        const SchemeOptions& so) {
      train::PolarizeOptions po;
      po.train = ft.opt;
      po.sparsity = so.sparsity;
      po.granularity = so.params.s("granularity");
      train::TrainData d;
      d.x = ft.x;
      d.labels = ft.labels;
      d.teacher = &g;
      d.calib = ft.calib;
      d.x_source = "--train-data";
      d.labels_source = "--train-labels";
      train::PolarizeResult pr =
          train::polarize(cur, layers, d, po, train_progress("polarization", ft.quiet));
      if (!ft.quiet)
        std::fprintf(stderr,
                     "polarization: %.1f %% of gates removed (target %.1f %%), %.1f %% were below "
                     "1/2 after training\n",
                     100 * pr.reached_sparsity, 100 * so.sparsity,
                     100 * pr.report["gates_below_half_at_end"].get<double>());
      rep_polar.push_back(pr.report);
      SchemeResult r;
      r.graph = pr.graph;
      r.masks = pr.masks;
      for (const auto& [node, info] : pr.report["layers"].items())
        r.notes["layers"][node]["polarization"] = info;
      return r;
    };
    train::install_interrupt_handler();
  } else if (!o.train_data.empty() || !o.train_labels.empty()) {
    throw InputError("--train-data/--train-labels: only used with --finetune epochs=N");
  } else if (o.rewind_epoch > 0) {
    throw InputError("--rewind-epoch: rewinds a lottery ticket trained by --finetune epochs=N");
  } else if (o.sched.kind == "lottery") {
    throw InputError("--schedule lottery: needs --finetune epochs=N and --train-data");
  }
}

// --data: the fidelity of the dense and the pruned model, and of each layer pruned alone.
void add_fidelity(const Opts& o, const Graph& g, const PruneOutcome& res, const Tensor& data,
                  const Tensor* labels, nlohmann::json& rep) {
  rep["fidelity"]["dense"] = fidelity(g, g, data, labels);
  rep["fidelity"]["pruned"] = fidelity(res.graph, g, data, labels);
  // Per layer: the dense model with only that layer's mask applied, so a user sees which
  // layer costs the fidelity (structural schemes change shapes: reported for the whole only).
  // One full evaluation per layer: --no-fidelity-alone skips them.
  const size_t nl = rep["layers"].size();
  size_t done = 0;
  for (auto& row : rep["layers"]) {
    if (o.no_fidelity_alone) break;
    const std::string name = row["name"];
    if (!o.quiet) progress(done, nl, "fidelity of " + name + " alone");
    for (const auto& l : prunable_layers(g))
      if (l.node == name && res.masks.count(l.weight) &&
          res.masks.at(l.weight).size() == g.init(l.weight).f.size())
        row["fidelity_alone"] =
            fidelity(apply_masks(g, {{l.weight, res.masks.at(l.weight)}}), g, data, labels);
    ++done;
  }
  if (!o.quiet && !o.no_fidelity_alone) progress(nl, nl, "per-layer fidelity");
}

void run(Opts& o) {
  if (o.list) return print_scheme_list();
  if (o.model.empty()) throw InputError("prune: MODEL is required (or --list)");
  if (!o.recipe.empty() && !o.layers.empty())
    throw InputError("--layers: not with --recipe (the recipe's rules choose the layers)");
  for (const auto& [path, flag] :
       {std::pair{o.out, "-o"}, {o.onnx_out, "--onnx-out"}, {o.report, "--report"}})
    check_writable(path, flag);
  (void)o.tables.resolve();  // a bad table flag costs nothing
  Graph g = load_model(o.model);
  check_sparsity(o.so.sparsity);
  if (o.recipe.empty()) o.so.params = scheme_params(*make_scheme(o.scheme), o);
  if (!o.step_list.empty()) o.sched.fractions = parse_number_list(o.step_list, "--step-list");
  o.rec.seed = o.so.seed;

  Tensor calib, data, labels;
  PruneData pd;
  if (!o.calib.empty()) {
    calib = load_data(o.calib, &g);
    pd.calib = &calib;
  }
  if (!o.data.empty()) {
    data = load_data(o.data, &g);
    pd.eval = &data;
  }
  if (!o.labels.empty()) {
    if (o.data.empty()) throw InputError("--labels needs --data");
    labels = load_labels(o.labels, g, data.shape[0]);
    pd.labels = &labels;
  }
  if (!o.out.empty() && o.calib.empty())
    throw InputError("-o: writing int8 weight tables needs --calib");

  const Recipe recipe =
      o.recipe.empty() ? single_rule_recipe(o.scheme, o.so, o.layers) : load_recipe(o.recipe, g);
  LoopFinetune ft;  // the built-in recovery, when --finetune asks for it
  nlohmann::json polar_log = nlohmann::json::array();
  Tensor train_x, train_y;
  set_up_recovery(o, g, pd, ft, polar_log, train_x, train_y);
  PruneOutcome res = run_pruning(g, recipe, o.sched, o.rec, pd);
  nlohmann::json rep = pruning_report(g, res);
  if (!ft.log.empty()) rep["finetune"] = ft.log;
  if (!polar_log.empty()) rep["polarization"] = polar_log;
  rep["model"] = o.model;
  if (!o.recipe.empty()) rep["recipe"] = o.recipe;
  if (pd.eval) add_fidelity(o, g, res, data, pd.labels, rep);
  warn_short_sparsity(recipe, rep);
  warn_unmasked(rep);
  if (!o.quiet) note_idle_pes(rep);
  // Outputs last, all or none: every one is made in memory first, then all are renamed into
  // place, so a failure in any step (a table that does not fit, a name JSON cannot hold) leaves
  // nothing behind.
  std::vector<std::pair<std::string, std::string>> files;
  if (!o.out.empty())
    files.emplace_back(o.out, pruned_table_bytes(g, res, calib, pd.eval ? &data : nullptr,
                                                 pd.labels, o.tables, o.out, rep));
  if (!o.onnx_out.empty()) files.emplace_back(o.onnx_out, onnx_bytes(res.graph, o.onnx_out));
  const std::string text = json_text(rep);
  if (!o.report.empty()) files.emplace_back(o.report, text);
  write_files_atomic(files);
  if (o.json)
    std::cout << text;
  else
    print_table(rep);
}

// One flag per scheme option (Scheme::params()); an option that several schemes declare
// (criterion) is one flag whose help lists each scheme's meaning, range and default.
void add_scheme_flags(CLI::App* c, Opts& o) {
  std::map<std::string, std::string> help;
  std::vector<ParamSpec> all;
  std::vector<std::string> order;
  for (const Scheme* s : scheme_registry().items())
    for (const ParamSpec& p : s->params()) {
      const std::string flag = option_flag(p.name);
      std::string& h = help[flag];
      if (h.empty()) order.push_back(flag);
      if (h.find(p.meaning) != std::string::npos) {
        h.insert(h.find(p.meaning) - 2,
                 "/" + s->name());  // same option, same words: "mask/polarization"
        continue;
      }
      const std::string range = param_range(p);
      h += (h.empty() ? "" : "; ") + s->name() + ": " + p.meaning +
           (range.empty() || p.type == ParamSpec::Type::Bool ? "" : " (" + range + ")") +
           (p.type == ParamSpec::Type::Bool ? "" : " [" + param_text(p.def) + "]");
      all.push_back(p);
    }
  for (const std::string& flag : order) {
    const ParamSpec* p = nullptr;
    for (const ParamSpec& q : all)
      if (option_flag(q.name) == flag) p = &q;
    std::string* text = &o.flags[flag];
    std::set<std::string>* typed = &o.typed;
    if (p->type == ParamSpec::Type::Bool) {
      c->add_flag_function(
          flag,
          [text, typed, flag](int64_t n) {
            *text = n > 0 ? "true" : "false";
            typed->insert(flag);
          },
          help[flag]);
      continue;
    }
    auto* opt = c->add_option_function<std::string>(
        flag,
        [text, typed, flag](const std::string& v) {
          *text = v;
          typed->insert(flag);
        },
        help[flag]);
    if (p->unit == "file") opt->check(CLI::ExistingFile);
  }
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c =
      app.add_subcommand("prune", "Prune a model with a scheme or a recipe; write weight tables");
  c->add_option("model", o->model, "ONNX model")->check(CLI::ExistingFile);
  c->add_flag("--list", o->list, "list the registered schemes and exit");
  c->add_option("--scheme", o->scheme, "pruning scheme (see --list)");
  c->add_option("--recipe", o->recipe, "JSON recipe: layer globs -> scheme and options")
      ->check(CLI::ExistingFile);
  c->add_option("--layers", o->layers, "only these layers (node names)")->delimiter(',');
  c->add_option("--sparsity", o->so.sparsity, "fraction of weights removed, in [0, 1)");
  c->add_option("--seed", o->so.seed, "seed of every random choice");
  add_scheme_flags(c, *o);
  c->add_option(
      "--schedule", o->sched.kind,
      "oneshot | agp | steps | lottery (iterative magnitude, rewinding; needs --finetune)");
  c->add_option("--steps,--rounds", o->sched.steps, "agp: number of steps; lottery: rounds");
  c->add_option("--step-list", o->step_list, "steps: fractions of the target, e.g. 0.5,0.8,1");
  c->add_option("--finetune-cmd", o->sched.finetune_cmd,
                "run as CMD IN.onnx OUT.onnx after every step");
  c->add_option("--rewind", o->sched.rewind_onnx,
                "lottery ticket: initial ONNX the kept weights rewind to (lottery default: the "
                "dense model's own weights)")
      ->check(CLI::ExistingFile);
  c->add_option("--rewind-epoch", o->rewind_epoch,
                "lottery: rounds after the first rewind to the first round's weights after this "
                "many epochs (late rewinding) instead of the dense ones")
      ->check(CLI::PositiveNumber);
  c->add_option("--finetune", o->finetune,
                "built-in fine-tuning after pruning and between steps: epochs=N[,lr=X,batch=N,qat,"
                "...] (see prunesim finetune --help)");
  add_train_data_options(c, &o->train_data, &o->train_labels);
  c->add_flag("--quiet", o->quiet, "no progress (training, per-layer fidelity) on stderr");
  c->add_flag("--bias-correct", o->rec.bias_correct,
              "recover: per-channel bias correction on --calib");
  c->add_option("--paser-budget", o->rec.paser_budget,
                "recover: pick this many calibration samples PASER-style");
  c->add_option("--paser-clusters", o->rec.paser_clusters, "recover: clusters for PASER selection");
  c->add_option("--calib", o->calib,
                "calibration set .npy (int8 scales, recovery, data-driven schemes)")
      ->check(CLI::ExistingFile);
  c->add_flag("--no-fidelity-alone", o->no_fidelity_alone,
              "--data: skip the per-layer fidelity_alone figures (one evaluation per layer)");
  c->add_option("--data", o->data, "evaluation inputs .npy for the fidelity report")
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets for --data")
      ->check(CLI::ExistingFile);
  c->add_option("-o,--output", o->out, "weight tables to write (.pwt)");
  c->add_option("--onnx-out", o->onnx_out, "pruned float ONNX to write");
  c->add_option("--report", o->report, "JSON report to write");
  c->add_flag("--json", o->json, "print the report as JSON");
  o->tables.add_to(c);
  c->callback([o, c] {
    o->sparsity_given = c->count("--sparsity") > 0;
    run(*o);
  });
}

Registrar reg("prune", setup);

}  // namespace
}  // namespace prunesim::cli
