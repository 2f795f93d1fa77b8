// `prunesim finetune MODEL.onnx --data X.npy [--labels Y.npy] [--mask-from PRUNED.onnx |
// --tables T.pwt] --epochs N --lr X --batch N -o OUT.onnx [--tables-out T2.pwt]`: recovers a
// pruned model with the built-in training engine (prune/train, libtorch). Every zero of the
// model (or of the mask source) stays exactly zero; channels a structured scheme removed stay
// removed because the model is trained at its own shapes. Without labels the model is distilled
// from --teacher (default: MODEL as given).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "prune_output.h"
#include "registry.h"
#include "train_cli.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, data, labels, teacher, mask_from, tables, out, tables_out, report;
  std::string val_data, val_labels, calib, eval_data, eval_labels;
  train::TrainOptions t;
  TablesCliOpts tab;
  bool json = false, quiet = false;
};

double weight_zero_fraction(const Graph& g) {
  int64_t z = 0, n = 0;
  for (const auto& l : prunable_layers(g))
    for (float v : g.init(l.weight).f) {
      z += v == 0.f;
      ++n;
    }
  return n ? static_cast<double>(z) / static_cast<double>(n) : 0.0;
}

std::string metric_text(const std::string& metric, double v) {
  char b[64];
  if (metric == "sndr_db")
    std::snprintf(b, sizeof b, "SNDR %.2f dB", v);
  else if (metric == "miou")
    std::snprintf(b, sizeof b, "mIoU %.2f %%", 100 * v);
  else if (metric == "agreement")
    std::snprintf(b, sizeof b, "top-1 agreement with the teacher %.2f %%", 100 * v);
  else
    std::snprintf(b, sizeof b, "top-1 %.2f %%", 100 * v);
  return b;
}

// The flag combinations checked before any file is read.
void check_flags(const Opts& o) {
  train::validate(o.t, "finetune");
  if (!o.mask_from.empty() && !o.tables.empty())
    throw InputError("--mask-from and --tables: give one mask source");
  if (o.out.empty() && o.tables_out.empty())
    throw InputError("finetune: give -o OUT.onnx and/or --tables-out T.pwt");
  for (const auto& [path, flag] :
       {std::pair{o.out, "-o"}, {o.tables_out, "--tables-out"}, {o.report, "--report"}})
    check_writable(path, flag);
  if (!o.tables_out.empty() && o.calib.empty())
    throw InputError("--tables-out: writing int8 weight tables needs --calib");
  if (!o.val_labels.empty() && o.val_data.empty())
    throw InputError("--val-labels needs --val-data");
}

// The console summary: the run, the validation metric before and after, the zeros held and the
// evaluation-set fidelity.
void print_summary(const Opts& o, const train::TrainResult& r, const nlohmann::json& rep,
                   const std::string& mask_source) {
  std::printf("finetune %s: %lld training, %lld validation samples, loss %s against the %s\n",
              o.model.c_str(), static_cast<long long>(r.train_samples),
              static_cast<long long>(r.val_samples), r.loss.c_str(), r.against.c_str());
  std::printf("  validation %s -> %s (best epoch %d of %d), %.1f s\n",
              metric_text(r.metric, r.start_metric).c_str(),
              metric_text(r.metric, r.best_metric).c_str(), r.best_epoch, o.t.epochs, r.seconds);
  std::printf("  weight sparsity %.1f %% (zeros held from %s)\n",
              100 * rep["weight_sparsity"].get<double>(), mask_source.c_str());
  if (rep.contains("fidelity")) {
    for (const char* k : {"before", "after", "after_int8"}) {
      if (!rep["fidelity"].contains(k)) continue;
      const auto& f = rep["fidelity"][k];
      std::printf("  eval %-10s %s\n", k, fidelity_text(f).c_str());
    }
  }
}

// --eval-data: the fidelity before and after the fine-tuning (and in int8 with --calib).
void eval_fidelity(const Opts& o, const Graph& g, const Graph& teacher, const Graph& tuned,
                   const Tensor& calib, nlohmann::json& rep) {
  Tensor ex = load_data(o.eval_data, &g);
  const Tensor* el = nullptr;
  Tensor elt;
  if (!o.eval_labels.empty()) {
    elt = load_labels(o.eval_labels, g, ex.shape[0]);
    el = &elt;
  }
  rep["fidelity"]["before"] = fidelity(g, teacher, ex, el);
  rep["fidelity"]["after"] = fidelity(tuned, teacher, ex, el);
  if (!o.calib.empty())
    rep["fidelity"]["after_int8"] = int8_fidelity(teacher, quantize(tuned, calib), ex, el);
}

void run(Opts& o) {
  check_flags(o);
  Graph g = load_model(o.model);
  Tensor x = load_data(o.data, &g);
  Tensor labels, val_x, val_labels, calib;
  if (!o.labels.empty())
    labels = load_npy_as_float(o.labels), check_finite(labels, o.labels, "labels");
  if (!o.val_data.empty()) val_x = load_data(o.val_data, &g);
  if (!o.val_labels.empty())
    val_labels = load_npy_as_float(o.val_labels), check_finite(val_labels, o.val_labels, "labels");
  if (!o.calib.empty()) calib = load_data(o.calib, &g);
  Graph teacher;
  if (!o.teacher.empty())
    teacher = load_model(o.teacher);
  else
    teacher = g;

  nlohmann::json notes;
  MaskMap masks;
  std::string mask_source = o.model + " (its zeros)";
  if (!o.mask_from.empty()) {
    masks = masks_from_onnx(g, o.mask_from);
    mask_source = o.mask_from;
  } else if (!o.tables.empty()) {
    masks = masks_from_tables(g, o.tables, &notes);
    mask_source = o.tables;
  } else {
    masks = train::zero_masks(g);
  }

  train::TrainData d;
  d.x = &x;
  d.x_source = o.data;
  d.labels = o.labels.empty() ? nullptr : &labels;
  d.labels_source = o.labels;
  d.teacher = &teacher;
  d.val_x = o.val_data.empty() ? nullptr : &val_x;
  d.val_labels = o.val_labels.empty() ? nullptr : &val_labels;
  d.calib = o.calib.empty() ? nullptr : &calib;
  if (!d.labels && o.teacher.empty() && o.mask_from.empty() && o.tables.empty())
    warn("no --labels and no --teacher: distilling " + o.model +
         " from itself only holds it where it is; pass --teacher DENSE.onnx to recover a pruned "
         "model");
  if (o.t.distill > 0 && d.labels && o.teacher.empty())
    throw InputError("--distill: give --teacher DENSE.onnx, the model whose outputs are mixed in");
  if (o.t.distill > 0 && !d.labels) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", o.t.distill);
    warn(std::string("--distill ") + b +
         " has no effect without --labels (the run distills from the teacher alone)");
  }
  if (d.val_labels && !d.labels)
    throw InputError("--val-labels: the training data has no --labels");

  train::install_interrupt_handler();
  train::TrainResult r = train::finetune(g, masks, d, o.t, train_progress("finetune", o.quiet));

  nlohmann::json rep = r.report();
  rep["model"] = o.model;
  rep["mask_source"] = mask_source;
  rep["weight_sparsity"] = weight_zero_fraction(r.graph);
  rep["options"] = {{"epochs", o.t.epochs},       {"lr", o.t.lr},
                    {"batch", o.t.batch},         {"optimizer", o.t.optimizer},
                    {"schedule", o.t.schedule},   {"qat", o.t.qat},
                    {"seed", o.t.seed},           {"threads", o.t.threads},
                    {"val_split", o.t.val_split}, {"distill", o.t.distill},
                    {"shift", o.t.shift}};
  if (!o.eval_data.empty()) eval_fidelity(o, g, teacher, r.graph, calib, rep);
  if (r.best_epoch == 0)
    warn("no epoch beat the starting weights on validation (" +
         metric_text(r.metric, r.start_metric) +
         "); the output keeps them — try more epochs or another lr");
  // Outputs only now, all or none: an error or an interruption above leaves nothing behind.
  std::vector<std::pair<std::string, std::string>> files;
  if (!o.tables_out.empty()) {
    PruneOutcome po;
    po.graph = r.graph;
    po.masks = masks;
    po.notes = notes;
    nlohmann::json trep;
    files.emplace_back(o.tables_out, pruned_table_bytes(teacher, po, calib, nullptr, nullptr, o.tab,
                                                        o.tables_out, trep));
    rep["tables"] = trep["tables"];
  }
  if (!o.out.empty()) files.emplace_back(o.out, onnx_bytes(r.graph, o.out));
  const std::string text = json_text(rep);
  if (!o.report.empty()) files.emplace_back(o.report, text);
  write_files_atomic(files);
  if (o.json) {
    std::cout << text;
    return;
  }
  print_summary(o, r, rep, mask_source);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand(
      "finetune", "Recover a pruned model by training it with its zeros held (libtorch, CPU)");
  c->add_option("model", o->model, "ONNX model to train (pruned: its zeros stay zero)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "training inputs .npy [N, ...]")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels,
                "class ids [N] (or per pixel [N, H, W]) for cross-entropy, or targets shaped like "
                "the output for MSE; without: distillation from --teacher")
      ->check(CLI::ExistingFile);
  c->add_option("--teacher", o->teacher, "dense ONNX to distill from (default: MODEL as given)")
      ->check(CLI::ExistingFile);
  c->add_option("--mask-from", o->mask_from,
                "hold the zeros of this pruned ONNX (same weights as MODEL; MODEL's weights are "
                "masked with them)")
      ->check(CLI::ExistingFile);
  c->add_option("--tables", o->tables, "hold the positions this weight table records")
      ->check(CLI::ExistingFile);
  c->add_option("--epochs", o->t.epochs, "training epochs")->capture_default_str();
  c->add_option("--lr", o->t.lr, "learning rate")->capture_default_str();
  c->add_option("--batch", o->t.batch, "batch size")->capture_default_str();
  c->add_option("--optimizer", o->t.optimizer, "adam | sgd")->capture_default_str();
  c->add_option("--momentum", o->t.momentum, "sgd momentum")->capture_default_str();
  c->add_option("--weight-decay", o->t.weight_decay, "L2 weight decay")->capture_default_str();
  c->add_option("--schedule", o->t.schedule, "learning-rate schedule: cosine | step | constant")
      ->capture_default_str();
  c->add_option("--step-every", o->t.step_every, "step schedule: epochs per decay (0: epochs/3)");
  c->add_option("--step-gamma", o->t.step_gamma, "step schedule: decay factor")
      ->capture_default_str();
  c->add_option("--val-split", o->t.val_split,
                "fraction of --data held out to pick the best epoch (0: keep the last)")
      ->capture_default_str();
  c->add_option("--val-data", o->val_data, "validation inputs instead of a split")
      ->check(CLI::ExistingFile);
  c->add_option("--val-labels", o->val_labels, "labels of --val-data")->check(CLI::ExistingFile);
  c->add_option("--loss", o->t.loss, "auto | ce | mse | kl (auto: from the labels)")
      ->capture_default_str();
  c->add_option("--temperature", o->t.temperature, "kl distillation temperature")
      ->capture_default_str();
  c->add_option("--ignore-index", o->t.ignore_index,
                "ce: class id that counts for nothing (e.g. 0 = unlabelled pixels)");
  c->add_option("--class-weight", o->t.class_weight,
                "ce: none | sqrt (class c weighs sqrt(total/count_c); for mIoU on rare classes)")
      ->capture_default_str();
  c->add_option("--distill", o->t.distill,
                "with --labels: weight in [0, 1] of the --teacher's outputs in the loss (KL of "
                "softened logits, or MSE)")
      ->capture_default_str();
  c->add_option("--shift", o->t.shift,
                "augment: shift every sample by up to N positions per spatial axis (zero fill; "
                "classification and distillation)")
      ->capture_default_str();
  c->add_flag("--qat", o->t.qat,
              "quantization-aware: fake-quantize weights and activations with the int8 rules");
  c->add_option("--calib", o->calib,
                "calibration .npy: QAT activation scales and --tables-out (default: --data)")
      ->check(CLI::ExistingFile);
  c->add_option("--seed", o->t.seed, "seed of the split and the shuffling")->capture_default_str();
  c->add_option("--threads", o->t.threads, "CPU threads (0: all; 1: deterministic)")
      ->capture_default_str();
  c->add_option("--eval-data", o->eval_data, "report fidelity before/after on these inputs")
      ->check(CLI::ExistingFile);
  c->add_option("--eval-labels", o->eval_labels, "labels of --eval-data")->check(CLI::ExistingFile);
  c->add_option("-o,--output", o->out, "trained ONNX to write");
  c->add_option("--tables-out", o->tables_out, "int8 weight tables of the trained model");
  o->tab.add_to(c);
  c->add_option("--report", o->report, "JSON report to write");
  c->add_flag("--json", o->json, "print the report as JSON");
  c->add_flag("--quiet", o->quiet, "no progress on stderr");
  c->callback([o] { run(*o); });
}

Registrar reg("finetune", setup);

}  // namespace
}  // namespace prunesim::cli
