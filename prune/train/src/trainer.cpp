// Masked fine-tuning and quantization-aware training on the translated graph (graph_module.h).
// Masks are held by zeroing the masked gradient before the step and writing exact zeros after it,
// so Adam's moments or weight decay can never move a pruned weight. QAT fake-quantizes with the
// int8 rules of docs/quantization.md (weights per output channel, activations per tensor with the
// calibrated scales of quantize()), straight-through.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "base/output.h"
#include "graph_module.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/quant.h"
#include "train/finetune.h"
#include "train_internal.h"

namespace prunesim::train {

// ---- options ----------------------------------------------------------------------------------

namespace {

double parse_num(const std::string& v, const std::string& flag, const std::string& key) {
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used != v.size() || !std::isfinite(d)) throw std::invalid_argument(v);
    return d;
  } catch (const std::exception&) {
    throw InputError(flag + ": " + key + "='" + v + "' is not a number");
  }
}

int64_t parse_int(const std::string& v, const std::string& flag, const std::string& key) {
  const double d = parse_num(v, flag, key);
  if (d != std::floor(d) || std::fabs(d) > 1e12)
    throw InputError(flag + ": " + key + "='" + v + "' is not an integer");
  return static_cast<int64_t>(d);
}

}  // namespace

std::string train_spec_help() {
  return "epochs=N (10), lr=X (1e-3), batch=N (64), optimizer=adam|sgd, momentum=X (0.9), "
         "weight_decay=X (0), schedule=cosine|step|constant, step_every=N, step_gamma=X (0.1), "
         "val_split=X (0.1), loss=auto|ce|mse|kl, temperature=X (4), distill=X (0: labels only), "
         "ignore_index=N, class_weight=none|sqrt, qat, "
         "shift=N (0), seed=N, "
         "threads=N, keep_last";
}

void parse_train_spec(const std::string& spec, const std::string& flag, TrainOptions* o) {
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string k = item.substr(0, eq);
    const std::string v = eq == std::string::npos ? "" : item.substr(eq + 1);
    auto need = [&] {
      if (eq == std::string::npos)
        throw InputError(flag + ": " + k + " needs a value (" + k + "=...)");
    };
    if (k == "qat") {
      o->qat = v.empty() || v == "1" || v == "true";
    } else if (k == "keep_last") {
      o->keep_best = false;
    } else if (k == "epochs") {
      need();
      o->epochs = static_cast<int>(parse_int(v, flag, k));
    } else if (k == "lr") {
      need();
      o->lr = parse_num(v, flag, k);
    } else if (k == "batch") {
      need();
      o->batch = parse_int(v, flag, k);
    } else if (k == "optimizer") {
      need();
      o->optimizer = v;
    } else if (k == "momentum") {
      need();
      o->momentum = parse_num(v, flag, k);
    } else if (k == "weight_decay") {
      need();
      o->weight_decay = parse_num(v, flag, k);
    } else if (k == "schedule") {
      need();
      o->schedule = v;
    } else if (k == "step_every") {
      need();
      o->step_every = static_cast<int>(parse_int(v, flag, k));
    } else if (k == "step_gamma") {
      need();
      o->step_gamma = parse_num(v, flag, k);
    } else if (k == "val_split") {
      need();
      o->val_split = parse_num(v, flag, k);
    } else if (k == "loss") {
      need();
      o->loss = v;
    } else if (k == "temperature") {
      need();
      o->temperature = parse_num(v, flag, k);
    } else if (k == "class_weight") {
      need();
      o->class_weight = v;
    } else if (k == "ignore_index") {
      need();
      o->ignore_index = parse_int(v, flag, k);
    } else if (k == "distill") {
      need();
      o->distill = parse_num(v, flag, k);
    } else if (k == "shift") {
      need();
      o->shift = static_cast<int>(parse_int(v, flag, k));
    } else if (k == "seed") {
      need();
      o->seed = static_cast<uint64_t>(parse_int(v, flag, k));
    } else if (k == "threads") {
      need();
      o->threads = static_cast<int>(parse_int(v, flag, k));
    } else {
      throw InputError(flag + ": unknown key '" + k + "' (known: " + train_spec_help() + ")");
    }
  }
  validate(*o, flag);
}

void validate(const TrainOptions& o, const std::string& flag) {
  auto bad = [&](const std::string& what) { throw InputError(flag + ": " + what); };
  if (o.epochs < 1 || o.epochs > 100000)
    bad("epochs must be a positive integer, not " + std::to_string(o.epochs));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) bad("lr must be positive");
  if (o.batch < 1 || o.batch > (1 << 20))
    bad("batch must be a positive integer, not " + std::to_string(o.batch));
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    bad("optimizer must be adam or sgd, not '" + o.optimizer + "'");
  if (o.schedule != "cosine" && o.schedule != "step" && o.schedule != "constant")
    bad("schedule must be cosine, step or constant, not '" + o.schedule + "'");
  if (o.loss != "auto" && o.loss != "ce" && o.loss != "mse" && o.loss != "kl")
    bad("loss must be auto, ce, mse or kl, not '" + o.loss + "'");
  if (!(o.val_split >= 0 && o.val_split <= 0.9)) bad("val_split must be in [0, 0.9]");
  if (!(o.momentum >= 0 && o.momentum < 1)) bad("momentum must be in [0, 1)");
  if (!(o.weight_decay >= 0 && o.weight_decay < 1)) bad("weight_decay must be in [0, 1)");
  if (o.step_every < 0) bad("step_every must be >= 0");
  if (!(o.step_gamma > 0 && o.step_gamma <= 1)) bad("step_gamma must be in (0, 1]");
  if (!(o.temperature > 0 && o.temperature <= 100)) bad("temperature must be in (0, 100]");
  if (o.threads < 0 || o.threads > 1024) bad("threads must be >= 0");
  if (o.shift < 0 || o.shift > 64) bad("shift must be in [0, 64]");
  if (o.snapshot_epoch < 0 || o.snapshot_epoch > o.epochs)
    bad("the snapshot epoch (--rewind-epoch) must be in [0, epochs = " + std::to_string(o.epochs) +
        "]");
  if (!(o.distill >= 0 && o.distill <= 1)) bad("distill must be in [0, 1]");
  if (o.class_weight != "none" && o.class_weight != "sqrt")
    bad("class_weight must be none or sqrt, not '" + o.class_weight + "'");
}

// The process-wide guard (base/output.h) in cooperative mode: a signal removes every temporary
// output, stops child processes and sets the flag this loop checks between batches.
void install_interrupt_handler() {
  set_cooperative_interrupt(true);
}
bool interrupted() {
  return interrupt_requested();
}

// ---- masks ------------------------------------------------------------------------------------

MaskMap zero_masks(const Graph& g) {
  MaskMap m;
  for (const auto& l : prunable_layers(g)) {
    const Tensor& w = g.init(l.weight);
    std::vector<uint8_t> k(w.f.size());
    for (size_t i = 0; i < k.size(); ++i) k[i] = w.f[i] != 0.f;
    m[l.weight] = std::move(k);
  }
  return m;
}

// ---- the pieces the trainer and polarize share (train_internal.h) -----------------------------

torch::Tensor round_half_away(const torch::Tensor& x) {
  return torch::sign(x) * torch::floor(torch::abs(x) + 0.5);
}

torch::Tensor ste(const torch::Tensor& x, const torch::Tensor& q) {
  return x + (q - x).detach();
}

// Per-output-channel scale of a weight in its initializer layout, broadcastable against it:
// s_w[c] = max|w_c| / 127 (1/127 for an all-zero channel), docs/quantization.md §3.
torch::Tensor weight_scale(const PrunableLayer& l, const torch::Tensor& w, double alpha) {
  torch::Tensor a = (w * alpha).abs().detach();
  torch::Tensor mx;
  std::vector<int64_t> view(static_cast<size_t>(w.dim()), 1);
  if (l.op == "Conv") {
    mx = a.reshape({w.size(0), -1}).amax(1);
    view[0] = w.size(0);
    mx = mx.reshape(view);
  } else if (l.op == "ConvTranspose") {
    // [C, M/g, k...]: output channel gi*M/g + m collects the C/g input rows of group gi.
    const int64_t C = w.size(0), Mg = w.size(1), G = l.group;
    torch::Tensor r = a.reshape({G, C / G, Mg, -1}).amax({1, 3});  // [G, Mg]
    mx = r.reshape({G, 1, Mg, 1}).expand({G, C / G, Mg, 1}).reshape({C, Mg});
    view[0] = C;
    view[1] = Mg;
    mx = mx.reshape(view);
  } else if (l.col_major) {  // [K, N]
    mx = a.amax(0, true);
  } else {  // [N, K]
    mx = a.amax(1, true);
  }
  return torch::where(mx > 0, mx / 127.0, torch::full_like(mx, 1.0 / 127.0));
}

torch::Tensor fake_quant_weight(const PrunableLayer& l, const torch::Tensor& w, double alpha) {
  torch::Tensor s = weight_scale(l, w, alpha) / alpha;
  torch::Tensor q = torch::clamp(round_half_away(w / s), -127, 127) * s;
  return ste(w, q);
}

torch::Tensor fake_quant_act(const torch::Tensor& x, float scale) {
  torch::Tensor q = torch::clamp(round_half_away(x / scale), -128, 127) * scale;
  return ste(x, q);
}

QatState::QatState(const Graph& g) {
  for (const auto& l : prunable_layers(g)) {
    double alpha = 1.0;
    for (const auto& n : g.nodes)
      if (n.name == l.node && n.op == "Gemm") alpha = n.attr_f("alpha", 1.f);
    layers[l.weight] = {l, alpha};
  }
}

void QatState::calibrate(const Graph& g, const Tensor& calib) {
  QuantizedModel q = quantize(g, calib);
  act_scales.clear();
  act_scales[q.input] = q.input_scale;
  for (const auto& L : q.layers) act_scales[L.output] = q.scales.at(L.output);
}

void QatState::attach(GraphModule& m) const {
  m.weight_hook = [this](const std::string& name, const torch::Tensor& w) {
    auto it = layers.find(name);
    if (it == layers.end()) return w;
    return fake_quant_weight(it->second.first, w, it->second.second);
  };
  m.act_hook = [this](const std::string& value, const torch::Tensor& x) {
    auto it = act_scales.find(value);
    if (it == act_scales.end()) return x;
    return fake_quant_act(x, it->second);
  };
}

// ---- data, losses and metrics -----------------------------------------------------------------

Task make_task(const Graph& model, const TrainData& d, const TrainOptions& o) {
  Task t;
  if (!d.x) throw InputError("finetune: no training data");
  check_input_shape(model, *d.x, d.x_source);
  t.n = d.x->shape[0];
  Shape out = model.shape(model.outputs.at(0).name);
  out[0] = t.n;
  t.out_shape = out;
  if (d.labels) {
    const Tensor& y = *d.labels;
    if (y.shape.empty() || y.shape[0] != t.n)
      fail(d.labels_source, "shape " + shape_str(y.shape),
           std::to_string(y.shape.empty() ? 0 : y.shape[0]) + " labels for " + std::to_string(t.n) +
               " samples of " + d.x_source);
    Shape ids = out;
    ids.erase(ids.begin() + 1);  // class ids: the output without its class dimension
    if (y.shape == out && o.loss != "ce") {
      t.loss = o.loss == "auto" ? "mse" : o.loss;
      if (t.loss == "kl") fail(d.labels_source, "loss", "kl is for distillation without labels");
      t.metric = "sndr_db";
    } else if (out.size() >= 2 && y.shape == ids) {
      t.loss = "ce";
      if (o.loss != "auto" && o.loss != "ce")
        fail(d.labels_source, "loss", "class-id labels take loss=ce, not " + o.loss);
      t.classes = out[1];
      std::vector<float> v = y.is_float() ? y.f : std::vector<float>(y.i.begin(), y.i.end());
      for (size_t k = 0; k < v.size(); ++k)
        if (v[k] != std::floor(v[k]) || v[k] < 0 || v[k] >= static_cast<float>(t.classes))
          fail(d.labels_source, "element " + std::to_string(k),
               "value " + std::to_string(v[k]) + " is not a class id in [0, " +
                   std::to_string(t.classes) + ")");
      t.metric = ids.size() == 1 ? "top1" : "miou";
    } else {
      fail(d.labels_source, "shape " + shape_str(y.shape),
           "labels must be class ids " + shape_str(ids) + " or targets shaped like the output " +
               shape_str(out));
    }
    t.against = "labels";
  } else {
    if (!d.teacher) throw InputError("finetune: no labels and no teacher to distill from");
    const Shape tout = d.teacher->shape(d.teacher->outputs.at(0).name);
    Shape o1 = out;
    o1[0] = tout[0];
    if (tout != o1)
      fail(d.teacher->source, "output",
           "the teacher's output " + shape_str(tout) + " differs from the student's " +
               shape_str(o1));
    t.against = "teacher";
    const bool logits = out.size() == 2 && out[1] > 1;
    t.loss = o.loss == "auto" ? (logits ? "kl" : "mse") : o.loss;
    if (t.loss == "ce") throw InputError("finetune: loss=ce needs class-id labels");
    t.metric = logits ? "agreement" : "sndr_db";
    t.classes = logits ? out[1] : 0;
  }
  return t;
}

namespace {

torch::Tensor run_all(const GraphModule& m, const torch::Tensor& x, int64_t batch) {
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < x.size(0); s += batch)
    parts.push_back(m.forward(x.slice(0, s, std::min(x.size(0), s + batch))));
  return torch::cat(parts, 0);
}

}  // namespace

torch::Tensor targets_for(const Task& t, const TrainData& d, const Tensor* labels,
                          const torch::Tensor& x, int64_t batch) {
  if (labels) {
    torch::Tensor y = to_labels_tensor(*labels);
    return t.loss == "ce" ? y.to(torch::kLong) : y.to(torch::kFloat32);
  }
  torch::NoGradGuard ng;
  GraphModule teacher(*d.teacher, {std::string()});  // nothing trainable
  return run_all(teacher, x, std::max<int64_t>(batch, 256));
}

torch::Tensor to_labels_tensor(const Tensor& y) {
  if (y.is_float()) return to_torch(y);
  std::vector<int64_t> sizes(y.shape.begin(), y.shape.end());
  return torch::tensor(y.i, torch::kLong).reshape(sizes);
}

void set_threads(const TrainOptions& o) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(o.threads > 0 ? o.threads : static_cast<int>(hw));
}

double lr_at(const TrainOptions& o, int epoch0) {
  if (o.schedule == "cosine")
    return o.lr * 0.5 * (1.0 + std::cos(M_PI * epoch0 / static_cast<double>(o.epochs)));
  if (o.schedule == "step") {
    const int every = o.step_every > 0 ? o.step_every : std::max(1, o.epochs / 3);
    return o.lr * std::pow(o.step_gamma, epoch0 / every);
  }
  return o.lr;
}

nlohmann::json TrainResult::report() const {
  nlohmann::json ep = nlohmann::json::array();
  for (const auto& e : epochs)
    ep.push_back({{"epoch", e.epoch},
                  {"lr", e.lr},
                  {"train_loss", e.train_loss},
                  {"val_loss", e.val_loss},
                  {"val_" + metric, e.val_metric},
                  {"seconds", e.seconds},
                  {"train_seconds", e.train_seconds}});
  return {{"loss", loss},
          {"metric", metric},
          {"against", against},
          {"start_metric", start_metric},
          {"best_metric", best_metric},
          {"best_epoch", best_epoch},
          {"train_samples", train_samples},
          {"val_samples", val_samples},
          {"seconds", seconds},
          {"train_seconds", train_seconds},
          {"epochs", ep}};
}

// ---- the loop ---------------------------------------------------------------------------------

namespace {

// The masks as bool tensors over the parameters they hold (true: held at zero), the held
// weights zeroed. InputError for a mask that names no initializer or has another size.
std::map<std::string, torch::Tensor> hold_masks(GraphModule& m, const MaskMap& masks) {
  const Graph& g = m.graph();
  std::map<std::string, torch::Tensor> held;
  for (const auto& [name, keep] : masks) {
    auto it = m.params().find(name);
    if (it == m.params().end()) {
      if (!g.is_const(name))
        fail(g.source, "mask '" + name + "'", "no initializer of that name in the model");
      continue;  // a mask on a constant the engine does not train: nothing moves it anyway
    }
    if (static_cast<int64_t>(keep.size()) != it->second.numel())
      fail(g.source, "mask '" + name + "'",
           std::to_string(keep.size()) + " mask elements for a weight of " +
               std::to_string(it->second.numel()) + " (" + shape_str(g.init(name).shape) + ")");
    torch::Tensor k = torch::from_blob(const_cast<uint8_t*>(keep.data()),
                                       {static_cast<int64_t>(keep.size())}, torch::kUInt8)
                          .clone()
                          .to(torch::kBool)
                          .reshape(it->second.sizes());
    held[name] = k.logical_not();
    torch::NoGradGuard ng;
    it->second.masked_fill_(held[name], 0.0);
  }
  return held;
}

// The validation set: --val-data, or a seeded share (val_split) of the training data, which
// then leaves the training set.
void split_validation(const Graph& g, const Task& task, const TrainData& d, const TrainOptions& o,
                      const torch::Tensor& X, const torch::Tensor& Y, torch::Tensor& Xtr,
                      torch::Tensor& Ytr, torch::Tensor& Xv, torch::Tensor& Yv) {
  if (d.val_x) {
    check_input_shape(g, *d.val_x, "validation data");
    Xv = to_torch(*d.val_x);
    Yv = targets_for(task, d, d.val_labels, Xv, o.batch);
  } else if (o.val_split > 0 && task.n >= 2) {
    std::vector<int64_t> perm(static_cast<size_t>(task.n));
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937_64 rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
    std::shuffle(perm.begin(), perm.end(), rng);
    const int64_t nv = std::max<int64_t>(1, std::llround(o.val_split * task.n));
    torch::Tensor p = torch::tensor(perm, torch::kLong);
    Xv = X.index_select(0, p.slice(0, 0, nv));
    Yv = Y.index_select(0, p.slice(0, 0, nv));
    Xtr = X.index_select(0, p.slice(0, nv));
    Ytr = Y.index_select(0, p.slice(0, nv));
  }
}

// class_weight=sqrt: weights ~ 1/sqrt(class frequency) (+1 smoothing), the ignored class 0,
// normalised to mean 1 over the weighted classes.
torch::Tensor sqrt_class_weights(const Task& task, const TrainOptions& o,
                                 const torch::Tensor& Ytr) {
  if (task.loss != "ce")
    throw InputError("finetune: class_weight=sqrt weighs class-id labels (this is " + task.loss +
                     ")");
  torch::Tensor ids = Ytr.reshape({-1});
  torch::Tensor valid = ids.ge(0).logical_and(ids.lt(task.classes));
  torch::Tensor counts =
      torch::bincount(ids.masked_select(valid), {}, task.classes).to(torch::kFloat32) + 1.0;
  torch::Tensor w = (counts.sum() / counts).sqrt();
  if (o.ignore_index >= 0 && o.ignore_index < task.classes) w[o.ignore_index] = 0.0;
  return w / w.sum() * static_cast<double>(w.gt(0).sum().item<int64_t>());
}

}  // namespace

// The graph translation as the loop's module: masks held by zeroing their gradient before the
// step and writing exact zeros after it; QAT re-calibrated at every epoch after the first; the
// best epoch kept as a graph.
class GraphTrainable : public Trainable {
 public:
  GraphTrainable(GraphModule& m, std::map<std::string, torch::Tensor> held, QatState* qat,
                 const Tensor* calib)
      : m_(m), held_(std::move(held)), qat_(qat), calib_(calib) {}
  torch::Tensor forward(const torch::Tensor& x) override { return m_.forward(x); }
  std::vector<torch::Tensor> parameters() override { return m_.param_list(); }
  void begin_epoch(int epoch0) override {
    if (qat_ && epoch0 > 0) qat_->calibrate(m_.to_graph(), *calib_);
  }
  void before_step() override {
    for (auto& [name, drop] : held_) {
      torch::Tensor& p = m_.params().at(name);
      if (p.grad().defined()) p.grad().masked_fill_(drop, 0.0);
    }
  }
  void after_step() override {
    torch::NoGradGuard ng;
    for (auto& [name, drop] : held_) m_.params().at(name).masked_fill_(drop, 0.0);
  }
  void keep_best() override { best = m_.to_graph(); }
  void take_snapshot() override {
    snapshot = m_.to_graph();
    has_snapshot = true;
  }
  Graph best, snapshot;
  bool has_snapshot = false;

 private:
  GraphModule& m_;
  std::map<std::string, torch::Tensor> held_;  // true: held at zero
  QatState* qat_;
  const Tensor* calib_;
};

TrainResult run_training(GraphModule& m, const MaskMap& masks, const TrainData& d,
                         const TrainOptions& o, const ProgressFn& progress, QatState* qat,
                         const LoopHooks& hooks) {
  validate(o);
  set_threads(o);
  torch::manual_seed(o.seed);
  const auto t_start = std::chrono::steady_clock::now();
  const Graph& g = m.graph();
  LoopData ld;
  ld.task = make_task(g, d, o);
  Task& task = ld.task;
  // A shifted input keeps its class, and the teacher is run on the shifted input itself; but a
  // reconstruction target or per-pixel labels belong to the unshifted sample.
  if (o.shift > 0 && task.metric != "top1" && task.against != "teacher")
    throw InputError("finetune: shift=" + std::to_string(o.shift) +
                     " augments classification or distillation only (this is " + task.loss +
                     " against " + task.against + ")");
  ld.mix = o.distill > 0 && task.against == "labels";
  if (ld.mix && !d.teacher)
    throw InputError("finetune: distill=" + std::to_string(o.distill) +
                     " mixes in a teacher's outputs: give the dense model as the teacher");
  // The teacher runs per batch on what the student sees when the inputs are shifted; otherwise
  // its outputs are computed once.
  std::unique_ptr<GraphModule> teacher;
  if (o.shift > 0 && (ld.mix || task.against == "teacher"))
    teacher = std::make_unique<GraphModule>(*d.teacher, std::vector<std::string>{std::string()});
  ld.teacher = teacher.get();
  GraphTrainable gm(m, hold_masks(m, masks), qat, d.calib ? d.calib : d.x);

  // Split: a seeded permutation; the first val_n samples validate.
  torch::Tensor X = to_torch(*d.x);
  torch::Tensor Y = targets_for(task, d, d.labels, X, o.batch);
  torch::Tensor Xv, Yv;
  ld.Xtr = X;
  ld.Ytr = Y;
  split_validation(g, task, d, o, X, Y, ld.Xtr, ld.Ytr, Xv, Yv);
  const bool has_val = Xv.defined();
  // Without a validation set the metric is measured on the training data.
  ld.Xm = has_val ? Xv : ld.Xtr;
  ld.Ym = has_val ? Yv : ld.Ytr;
  if (o.class_weight == "sqrt") task.class_weight = sqrt_class_weights(task, o, ld.Ytr);
  if (ld.mix && !teacher) {
    TrainData td = d;
    td.labels = nullptr;
    ld.Ttr = targets_for(task, td, nullptr, ld.Xtr, o.batch);
  }
  if (qat) {
    qat->calibrate(m.to_graph(), d.calib ? *d.calib : *d.x);
    qat->attach(m);
  }
  TrainResult r = train_loop(gm, ld, o, progress, hooks);
  r.val_samples = has_val ? Xv.size(0) : 0;
  r.graph = std::move(gm.best);
  r.snapshot = std::move(gm.snapshot);
  r.has_snapshot = gm.has_snapshot;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return r;
}

TrainResult finetune(const Graph& model, const MaskMap& masks, const TrainData& data,
                     const TrainOptions& opt, const ProgressFn& progress) {
  GraphModule m(model);
  std::unique_ptr<QatState> qat;
  if (opt.qat) qat = std::make_unique<QatState>(model);
  return run_training(m, masks, data, opt, progress, qat.get());
}

}  // namespace prunesim::train
