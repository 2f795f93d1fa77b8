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

}  // namespace

PolarizeResult polarize(const Graph& model, const std::vector<std::string>& layers,
                        const TrainData& data, const PolarizeOptions& opt,
                        const ProgressFn& progress) {
  if (!(opt.sparsity > 0 && opt.sparsity < 1))
    throw InputError("polarization: sparsity must be in (0, 1)");
  if (opt.granularity != "weight" && opt.granularity != "channel")
    throw InputError("polarization: granularity must be weight or channel, not '" +
                     opt.granularity + "'");
  if (!(opt.t > 1 && opt.t < 10)) throw InputError("polarization: t must be in (1, 10)");
  if (!(opt.lambda > 0 && opt.lambda < 100))
    throw InputError("polarization: lambda must be in (0, 100)");
  validate(opt.train, "polarization");

  const std::vector<PrunableLayer> sel = select_layers(model, layers);
  GraphModule m(model);
  std::map<std::string, Gate> gates;
  // Channel gates never close a channel that reaches a graph output through no other weight
  // layer (a classifier's classes, a decoder's image channels): the output keeps its shape.
  auto feeds_output = [&model](const std::string& node) {
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
  };
  std::vector<std::string> kept_whole;
  for (const auto& l : sel) {
    if (opt.granularity == "channel" && feeds_output(l.node)) {
      kept_whole.push_back(l.node);
      continue;
    }
    Gate g;
    g.layer = l;
    const int64_t n = numel(l.shape);
    if (opt.granularity == "channel") {
      std::vector<int64_t> row_of(static_cast<size_t>(n), 0);
      for (int64_t r = 0; r < l.rows; ++r)
        for (int64_t c = 0; c < l.cols; ++c) row_of[static_cast<size_t>(l.index(r, c))] = r;
      g.index = torch::tensor(row_of, torch::kLong);
      g.a = torch::full({l.rows}, 1.0 / kGain, torch::kFloat32).set_requires_grad(true);
    } else {
      g.a = torch::full({n}, 1.0 / kGain, torch::kFloat32).set_requires_grad(true);
    }
    gates[l.weight] = std::move(g);
  }
  if (gates.empty()) throw InputError("polarization: no prunable layer selected");

  // Weights pruned earlier stay pruned: their zeros are held like any mask.
  const MaskMap masks = zero_masks(model);
  std::unique_ptr<QatState> qat;
  if (opt.train.qat) qat = std::make_unique<QatState>(model);
  auto gated = [&gates](const std::string& name, const torch::Tensor& w) {
    auto it = gates.find(name);
    return it == gates.end() ? w : w * it->second.per_weight(w);
  };

  double lambda = opt.lambda;
  // t sets where the regulariser alone settles: with a share p of a layer's gates at 0 and the
  // rest at 1, R/n = (1 - p)(t - 2p), least at p = (t + 2) / 4. Beyond some lambda a larger pull
  // only holds that share, so the controller moves t as well as lambda.
  double t = opt.t;
  auto all_gates = [&] {
    std::vector<torch::Tensor> v;
    for (auto& [n, g] : gates) v.push_back(g.value());
    return torch::cat(v);
  };
  auto below_half = [&] {
    torch::NoGradGuard ng;
    return all_gates().lt(0.5).to(torch::kFloat64).mean().item<double>();
  };
  LoopHooks hooks;
  for (auto& [n, g] : gates) hooks.extra_params.push_back(g.a);
  hooks.extra_loss = [&] {
    // The paper's sum, not a mean: the pull on each gate must not shrink as the network grows.
    // The mean the gates polarize away from is each layer's own: one network-wide mean lets a
    // layer of small gates close entirely, which disconnects the network.
    torch::Tensor R;
    for (auto& [n, gt] : gates) {
      torch::Tensor g = gt.value();
      torch::Tensor r = (t * g.abs() - (g - g.mean()).abs()).sum();
      R = R.defined() ? R + r : r;
    }
    return lambda * R;
  };
  // A multiplicative controller (too few gates closed -> stronger pull, overshoot -> weaker)
  // about ten times an epoch: once an epoch is too slow for a short run.
  const int64_t ntrain = static_cast<int64_t>(
      std::ceil(static_cast<double>(data.x->shape[0]) * (1.0 - opt.train.val_split)));
  const int64_t steps_per_epoch =
      std::max<int64_t>(1, (ntrain + opt.train.batch - 1) / opt.train.batch);
  const int64_t every = std::max<int64_t>(1, steps_per_epoch / 10);
  int64_t step = 0;
  hooks.after_step = [&] {
    torch::NoGradGuard ng;
    for (auto& [n, g] : gates) g.a.clamp_(0.0, 1.0 / kGain);
    if (++step % every) return;
    const double s = below_half();
    if (s < opt.sparsity - 0.005) {
      lambda = std::min(lambda * 1.3, 1e4);
      if (lambda > 1e-2) t = std::min(t * 1.02, 9.9);
    } else if (s > opt.sparsity + 0.005) {
      lambda = std::max(lambda / 1.3, 1e-9);
      t = std::max(t / 1.02, 1.0 + 1e-6);
    }
  };
  nlohmann::json trace = nlohmann::json::array();
  hooks.on_epoch = [&](int epoch) {
    trace.push_back(
        {{"epoch", epoch}, {"gates_below_half", below_half()}, {"lambda", lambda}, {"t", t}});
  };

  // One pass of opt.train.epochs: the first three quarters train gates and weights together, then
  // the gates are cut at the target and the rest of the epochs train the static sub-network with
  // its mask held (the gates rarely all reach 0 or 1 in a short run, and cutting the undecided
  // ones costs accuracy that those last epochs win back).
  const int settle = opt.train.epochs >= 4
                         ? std::max(1, static_cast<int>(std::lround(opt.train.epochs / 4.0)))
                         : 0;
  TrainOptions to = opt.train;
  to.epochs = opt.train.epochs - settle;
  to.keep_best = false;  // the gates must end where the controller brought them
  m.weight_hook = gated;
  TrainResult tr;
  if (qat) {
    // Gates first, then the fake quantizer sees the gated weight (run_training gets no QatState,
    // whose attach() would replace the gate hook; scales are calibrated once, on the start).
    qat->calibrate(m.to_graph(), data.calib ? *data.calib : *data.x);
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
  tr = run_training(m, masks, data, to, progress, nullptr, hooks);

  // Threshold at exactly the target share of gates: the lowest gates go, ties (many gates sit at
  // exactly 0) broken by layer order and position so the count is exact.
  PolarizeResult out;
  out.train = tr;
  Graph g = tr.graph;
  torch::NoGradGuard ng;
  struct Ref {
    float v;
    size_t layer;
    int64_t k;
  };
  std::vector<Ref> refs;
  std::vector<std::vector<float>> vals;
  std::vector<std::string> names;
  for (auto& [name, gt] : gates) {
    torch::Tensor gv = gt.value().contiguous();
    vals.emplace_back(gv.data_ptr<float>(), gv.data_ptr<float>() + gv.numel());
    names.push_back(name);
    for (int64_t k = 0; k < gv.numel(); ++k)
      refs.push_back({vals.back()[static_cast<size_t>(k)], names.size() - 1, k});
  }
  const int64_t total = static_cast<int64_t>(refs.size());
  // Exactly the target in every layer (the lowest gates of each), so that every layer keeps a
  // share of its weights and the sparsity asked for is the sparsity reached.
  std::vector<std::vector<uint8_t>> gate_keep(vals.size());
  int64_t drop = 0;
  double thr = 0.0;
  for (size_t i = 0; i < vals.size(); ++i) {
    gate_keep[i].assign(vals[i].size(), 1);
    std::vector<int64_t> order(vals[i].size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int64_t>(k);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return vals[i][static_cast<size_t>(x)] < vals[i][static_cast<size_t>(y)];
    });
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t d = std::min<int64_t>(n - 1, std::llround(opt.sparsity * static_cast<double>(n)));
    for (int64_t r = 0; r < d; ++r)
      gate_keep[i][static_cast<size_t>(order[static_cast<size_t>(r)])] = 0;
    if (d > 0)
      thr = std::max(thr, static_cast<double>(
                              vals[i][static_cast<size_t>(order[static_cast<size_t>(d - 1)])]));
    drop += d;
  }
  double natural = 0, undecided = 0;
  for (const auto& r : refs) {
    natural += r.v < 0.5;
    undecided += r.v > 0.1 && r.v < 0.9;
  }
  natural /= std::max<int64_t>(1, total);
  undecided /= std::max<int64_t>(1, total);
  nlohmann::json per_layer = nlohmann::json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    const Gate& gt = gates.at(names[i]);
    Tensor& w = g.initializers.at(names[i]);
    const int64_t n = static_cast<int64_t>(w.f.size());
    std::vector<uint8_t> mk(static_cast<size_t>(n));
    std::vector<int64_t> row;
    if (gt.index.defined()) {
      torch::Tensor ix = gt.index.contiguous();
      row.assign(ix.data_ptr<int64_t>(), ix.data_ptr<int64_t>() + ix.numel());
    }
    for (int64_t e = 0; e < n; ++e) {
      const int64_t gi = row.empty() ? e : row[static_cast<size_t>(e)];
      const bool keep = gate_keep[i][static_cast<size_t>(gi)] && w.f[static_cast<size_t>(e)] != 0.f;
      mk[static_cast<size_t>(e)] = keep;
      // The kept weight carries its gate, so the sub-network computes what was trained.
      w.f[static_cast<size_t>(e)] =
          keep ? w.f[static_cast<size_t>(e)] * vals[i][static_cast<size_t>(gi)] : 0.f;
    }
    int64_t kept = 0;
    for (uint8_t k : gate_keep[i]) kept += k;
    per_layer[gt.layer.node] = {{"gates", static_cast<int64_t>(vals[i].size())},
                                {"kept", kept},
                                {"granularity", opt.granularity}};
    out.masks[names[i]] = std::move(mk);
  }
  const int64_t removed = drop;
  // Masks of weights outside the gated layers keep their zeros.
  for (const auto& [name, mk] : masks)
    if (!out.masks.count(name)) out.masks[name] = mk;
  out.graph = std::move(g);
  TrainResult settled;
  if (settle > 0) {
    TrainOptions so = opt.train;
    so.epochs = settle;
    so.lr = opt.train.lr * 0.5;      // the cosine schedule of the gated phase ended near 0
    torch::AutoGradMode grad(true);  // the cut above ran under a NoGradGuard
    settled = finetune(out.graph, out.masks, data, so, progress);
    out.graph = settled.graph;
  }
  out.reached_sparsity = total ? static_cast<double>(removed) / static_cast<double>(total) : 0.0;
  out.report = {{"target_sparsity", opt.sparsity},
                {"reached_sparsity", out.reached_sparsity},
                {"gates_below_half_at_end", natural},
                {"gates_undecided_0.1_0.9", undecided},
                {"threshold_max", thr},
                {"lambda_final", lambda},
                {"t", opt.t},
                {"t_final", t},
                {"granularity", opt.granularity},
                {"layers", per_layer},
                {"epochs", trace},
                {"train", tr.report()},
                {"settle_epochs", settle},
                {"output_layers_kept_whole", kept_whole}};
  if (settle > 0) out.report["settle"] = settled.report();
  return out;
}

}  // namespace prunesim::train
