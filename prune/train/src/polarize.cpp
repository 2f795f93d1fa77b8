// Polarization (consensus sub-network): gates in [0, 1], one per weight or per output channel,
// multiply the weights and are trained with them under the polarization regulariser of Zhuang et
// al. (NeurIPS 2020), R(g) = mean_i( t|g_i| - |g_i - mean(g)| ), t > 1, which drives each gate to
// 0 or to a value well above the mean instead of shrinking all of them. Its strength is steered
// epoch by epoch so that the share of gates below 1/2 approaches the user's sparsity; at the end
// the gates are thresholded at exactly that sparsity and folded into the kept weights, which
// gives the static sub-network.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "graph_module.h"
#include "prune/errors.h"
#include "train/finetune.h"
#include "train_internal.h"

namespace prunesim::train {
namespace {

// Gate variables are a = g / kGain: Adam moves every variable by about lr per step, so the gain
// lets a gate cross [0, 1] in tens of steps at the weights' learning rate.
constexpr double kGain = 10.0;

struct Gate {
  PrunableLayer layer;
  torch::Tensor a;      // raw variable (requires_grad), numel = weights or rows
  torch::Tensor index;  // weight element -> gate (channel granularity), else undefined
  // No clamp here: after every step `a` is projected back onto [0, 1/kGain], and a clamp would
  // cut the gradient of every gate sitting at 1 (0.1f * 10 rounds above 1), freezing it open.
  torch::Tensor value() const { return a * kGain; }
  // The gate of every weight element, in the weight's shape.
  torch::Tensor per_weight(const torch::Tensor& w) const {
    torch::Tensor g = value();
    if (index.defined()) g = g.index_select(0, index);
    return g.reshape(w.sizes());
  }
};

// Channel gates never close a channel that reaches a graph output through no other weight layer
// (a classifier's classes, a decoder's image channels): the output keeps its shape.
bool feeds_output(const Graph& model, const std::string& node) {
  static const std::set<std::string> weight_ops = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
  std::vector<std::string> todo;
  for (const auto& n : model.nodes)
    if (n.name == node) todo = n.outputs;
  std::set<std::string> seen;
  while (!todo.empty()) {
    const std::string v = todo.back();
    todo.pop_back();
    if (!seen.insert(v).second) continue;
    for (const auto& o : model.outputs)
      if (o.name == v) return true;
    for (const auto& n : model.nodes)
      if (!weight_ops.count(n.op) &&
          std::find(n.inputs.begin(), n.inputs.end(), v) != n.inputs.end())
        todo.insert(todo.end(), n.outputs.begin(), n.outputs.end());
  }
  return false;
}

void check_options(const PolarizeOptions& opt) {
  if (!(opt.sparsity > 0 && opt.sparsity < 1))
    throw InputError("polarization: sparsity must be in (0, 1)");
  if (opt.granularity != "weight" && opt.granularity != "channel")
    throw InputError("polarization: granularity must be weight or channel, not '" +
                     opt.granularity + "'");
  if (!(opt.t > 1 && opt.t < 10)) throw InputError("polarization: t must be in (1, 10)");
  if (!(opt.lambda > 0 && opt.lambda < 100))
    throw InputError("polarization: lambda must be in (0, 100)");
  validate(opt.train, "polarization");
}

// The gates after training, cut at the target: which gates stay (per gated weight, in the order
// of Polarizer::gates) and the statistics of the cut for the report.
struct Cut {
  std::vector<std::string> names;          // gated weights
  std::vector<std::vector<float>> vals;    // their gate values
  std::vector<std::vector<uint8_t>> keep;  // 1 = gate kept
  int64_t total = 0, removed = 0;
  double threshold = 0, natural = 0, undecided = 0;
};

// One polarization run: the gates of the selected layers, the regulariser with its controller
// state (lambda and t move during training), the gated training phase, the cut and the settle
// phase. The loop hooks are closures over this object, so its state is one place, not captures.
class Polarizer {
 public:
  Polarizer(const Graph& model, const TrainData& data, const PolarizeOptions& opt)
      : model_(model), data_(data), opt_(opt), lambda_(opt.lambda), t_(opt.t) {}

  PolarizeResult run(const std::vector<std::string>& layers, const ProgressFn& progress);

 private:
  void make_gates(const std::vector<std::string>& layers);
  torch::Tensor regulariser();
  void control_step(int64_t every);
  double below_half();
  LoopHooks hooks();
  TrainResult train_gated(int settle, const ProgressFn& progress);
  Cut cut() const;
  void fold(const Cut& c, PolarizeResult* out) const;

  const Graph& model_;
  const TrainData& data_;
  const PolarizeOptions& opt_;
  std::map<std::string, Gate> gates_;  // by weight name
  std::vector<std::string> kept_whole_;
  MaskMap masks_;  // the model's own zeros, held like any mask
  double lambda_;
  // t sets where the regulariser alone settles: with a share p of a layer's gates at 0 and the
  // rest at 1, R/n = (1 - p)(t - 2p), least at p = (t + 2) / 4. Beyond some lambda a larger pull
  // only holds that share, so the controller moves t as well as lambda.
  double t_;
  int64_t step_ = 0;
  nlohmann::json trace_ = nlohmann::json::array();
};

void Polarizer::make_gates(const std::vector<std::string>& layers) {
  for (const auto& l : select_layers(model_, layers)) {
    if (opt_.granularity == "channel" && feeds_output(model_, l.node)) {
      kept_whole_.push_back(l.node);
      continue;
    }
    Gate g;
    g.layer = l;
    const int64_t n = numel(l.shape);
    if (opt_.granularity == "channel") {
      std::vector<int64_t> row_of(static_cast<size_t>(n), 0);
      for (int64_t r = 0; r < l.rows; ++r)
        for (int64_t c = 0; c < l.cols; ++c) row_of[static_cast<size_t>(l.index(r, c))] = r;
      g.index = torch::tensor(row_of, torch::kLong);
      g.a = torch::full({l.rows}, 1.0 / kGain, torch::kFloat32).set_requires_grad(true);
    } else {
      g.a = torch::full({n}, 1.0 / kGain, torch::kFloat32).set_requires_grad(true);
    }
    gates_[l.weight] = std::move(g);
  }
  if (gates_.empty()) throw InputError("polarization: no prunable layer selected");
}

double Polarizer::below_half() {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> v;
  for (auto& [n, g] : gates_) v.push_back(g.value());
  return torch::cat(v).lt(0.5).to(torch::kFloat64).mean().item<double>();
}

torch::Tensor Polarizer::regulariser() {
  // The paper's sum, not a mean: the pull on each gate must not shrink as the network grows. The
  // mean the gates polarize away from is each layer's own: one network-wide mean lets a layer of
  // small gates close entirely, which disconnects the network.
  torch::Tensor R;
  for (auto& [n, gt] : gates_) {
    torch::Tensor g = gt.value();
    torch::Tensor r = (t_ * g.abs() - (g - g.mean()).abs()).sum();
    R = R.defined() ? R + r : r;
  }
  return lambda_ * R;
}

// After every optimiser step: the gates projected back onto [0, 1], and every `every` steps a
// multiplicative controller (too few gates closed -> stronger pull, overshoot -> weaker).
void Polarizer::control_step(int64_t every) {
  torch::NoGradGuard ng;
  for (auto& [n, g] : gates_) g.a.clamp_(0.0, 1.0 / kGain);
  if (++step_ % every) return;
  const double s = below_half();
  if (s < opt_.sparsity - 0.005) {
    lambda_ = std::min(lambda_ * 1.3, 1e4);
    if (lambda_ > 1e-2) t_ = std::min(t_ * 1.02, 9.9);
  } else if (s > opt_.sparsity + 0.005) {
    lambda_ = std::max(lambda_ / 1.3, 1e-9);
    t_ = std::max(t_ / 1.02, 1.0 + 1e-6);
  }
}

LoopHooks Polarizer::hooks() {
  LoopHooks h;
  for (auto& [n, g] : gates_) h.extra_params.push_back(g.a);
  h.extra_loss = [this] { return regulariser(); };
  // The controller about ten times an epoch: once an epoch is too slow for a short run.
  const int64_t ntrain = static_cast<int64_t>(
      std::ceil(static_cast<double>(data_.x->shape[0]) * (1.0 - opt_.train.val_split)));
  const int64_t steps_per_epoch =
      std::max<int64_t>(1, (ntrain + opt_.train.batch - 1) / opt_.train.batch);
  const int64_t every = std::max<int64_t>(1, steps_per_epoch / 10);
  h.after_step = [this, every] { control_step(every); };
  h.on_epoch = [this](int epoch) {
    trace_.push_back(
        {{"epoch", epoch}, {"gates_below_half", below_half()}, {"lambda", lambda_}, {"t", t_}});
  };
  return h;
}

// Gates and weights trained together for the epochs before the settle phase; with QAT the fake
// quantizer sees the gated weight.
TrainResult Polarizer::train_gated(int settle, const ProgressFn& progress) {
  GraphModule m(model_);
  auto gated = [this](const std::string& name, const torch::Tensor& w) {
    auto it = gates_.find(name);
    return it == gates_.end() ? w : w * it->second.per_weight(w);
  };
  m.weight_hook = gated;
  std::unique_ptr<QatState> qat;
  if (opt_.train.qat) {
    // Gates first, then the fake quantizer (run_training gets no QatState, whose attach() would
    // replace the gate hook; scales are calibrated once, on the start).
    qat = std::make_unique<QatState>(model_);
    qat->calibrate(m.to_graph(), data_.calib ? *data_.calib : *data_.x);
    QatState* q = qat.get();
    m.weight_hook = [q, gated](const std::string& name, const torch::Tensor& w) {
      torch::Tensor gw = gated(name, w);
      auto it = q->layers.find(name);
      return it == q->layers.end() ? gw
                                   : fake_quant_weight(it->second.first, gw, it->second.second);
    };
    m.act_hook = [q](const std::string& v, const torch::Tensor& x) {
      auto it = q->act_scales.find(v);
      return it == q->act_scales.end() ? x : fake_quant_act(x, it->second);
    };
  }
  TrainOptions to = opt_.train;
  to.epochs = opt_.train.epochs - settle;
  to.keep_best = false;  // the gates must end where the controller brought them
  return run_training(m, masks_, data_, to, progress, nullptr, hooks());
}

// Exactly the target share of every layer's gates goes (the lowest of each, ties broken by
// position so the count is exact), so every layer keeps a share of its weights and the sparsity
// asked for is the sparsity reached.
Cut Polarizer::cut() const {
  torch::NoGradGuard ng;
  Cut c;
  for (const auto& [name, gt] : gates_) {
    torch::Tensor gv = gt.value().contiguous();
    c.vals.emplace_back(gv.data_ptr<float>(), gv.data_ptr<float>() + gv.numel());
    c.names.push_back(name);
  }
  for (const auto& v : c.vals) {
    c.keep.emplace_back(v.size(), 1);
    std::vector<int64_t> order(v.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int64_t>(k);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return v[static_cast<size_t>(x)] < v[static_cast<size_t>(y)];
    });
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t d =
        std::min<int64_t>(n - 1, std::llround(opt_.sparsity * static_cast<double>(n)));
    for (int64_t r = 0; r < d; ++r)
      c.keep.back()[static_cast<size_t>(order[static_cast<size_t>(r)])] = 0;
    if (d > 0)
      c.threshold =
          std::max(c.threshold,
                   static_cast<double>(v[static_cast<size_t>(order[static_cast<size_t>(d - 1)])]));
    c.removed += d;
    c.total += n;
    for (float x : v) {
      c.natural += x < 0.5f;
      c.undecided += x > 0.1f && x < 0.9f;
    }
  }
  c.natural /= static_cast<double>(std::max<int64_t>(1, c.total));
  c.undecided /= static_cast<double>(std::max<int64_t>(1, c.total));
  return c;
}

// The cut applied to out->graph (the trained weights): removed weights exactly 0, kept ones
// carrying their gate, so the sub-network computes what was trained; masks and per-layer counts.
void Polarizer::fold(const Cut& c, PolarizeResult* out) const {
  nlohmann::json per_layer = nlohmann::json::object();
  for (size_t i = 0; i < c.names.size(); ++i) {
    const Gate& gt = gates_.at(c.names[i]);
    Tensor& w = out->graph.initializers.at(c.names[i]);
    const size_t n = w.f.size();
    std::vector<uint8_t> mk(n);
    std::vector<int64_t> row;
    if (gt.index.defined()) {
      torch::Tensor ix = gt.index.contiguous();
      row.assign(ix.data_ptr<int64_t>(), ix.data_ptr<int64_t>() + ix.numel());
    }
    for (size_t e = 0; e < n; ++e) {
      const size_t gi = row.empty() ? e : static_cast<size_t>(row[e]);
      const bool keep = c.keep[i][gi] && w.f[e] != 0.f;
      mk[e] = keep;
      w.f[e] = keep ? w.f[e] * c.vals[i][gi] : 0.f;
    }
    int64_t kept = 0;
    for (uint8_t k : c.keep[i]) kept += k;
    per_layer[gt.layer.node] = {{"gates", static_cast<int64_t>(c.vals[i].size())},
                                {"kept", kept},
                                {"granularity", opt_.granularity}};
    out->masks[c.names[i]] = std::move(mk);
  }
  // Masks of weights outside the gated layers keep their zeros.
  for (const auto& [name, mk] : masks_)
    if (!out->masks.count(name)) out->masks[name] = mk;
  out->report["layers"] = per_layer;
}

PolarizeResult Polarizer::run(const std::vector<std::string>& layers, const ProgressFn& progress) {
  make_gates(layers);
  masks_ = zero_masks(model_);  // weights pruned earlier stay pruned
  // One pass of opt.train.epochs: the first three quarters train gates and weights together, then
  // the gates are cut at the target and the rest of the epochs train the static sub-network with
  // its mask held (the gates rarely all reach 0 or 1 in a short run, and cutting the undecided
  // ones costs accuracy that those last epochs win back).
  const int settle = opt_.train.epochs >= 4
                         ? std::max(1, static_cast<int>(std::lround(opt_.train.epochs / 4.0)))
                         : 0;
  PolarizeResult out;
  out.train = train_gated(settle, progress);
  out.graph = out.train.graph;
  const Cut c = cut();
  fold(c, &out);
  TrainResult settled;
  if (settle > 0) {
    TrainOptions so = opt_.train;
    so.epochs = settle;
    so.lr = opt_.train.lr * 0.5;  // the cosine schedule of the gated phase ended near 0
    settled = finetune(out.graph, out.masks, data_, so, progress);
    out.graph = settled.graph;
  }
  out.reached_sparsity =
      c.total ? static_cast<double>(c.removed) / static_cast<double>(c.total) : 0.0;
  out.report.update({{"target_sparsity", opt_.sparsity},
                     {"reached_sparsity", out.reached_sparsity},
                     {"gates_below_half_at_end", c.natural},
                     {"gates_undecided_0.1_0.9", c.undecided},
                     {"threshold_max", c.threshold},
                     {"lambda_final", lambda_},
                     {"t", opt_.t},
                     {"t_final", t_},
                     {"granularity", opt_.granularity},
                     {"epochs", trace_},
                     {"train", out.train.report()},
                     {"settle_epochs", settle},
                     {"output_layers_kept_whole", kept_whole_}});
  if (settle > 0) out.report["settle"] = settled.report();
  return out;
}

}  // namespace

PolarizeResult polarize(const Graph& model, const std::vector<std::string>& layers,
                        const TrainData& data, const PolarizeOptions& opt,
                        const ProgressFn& progress) {
  check_options(opt);
  return Polarizer(model, data, opt).run(layers, progress);
}

}  // namespace prunesim::train
