// finetune_logic(): a discretised netlist made differentiable again with its wiring fixed, trained
// on the shared loop (train_loop) and discretised back onto the same wiring. The netlist is a DAG
// (after a pruning pass a gate may read any earlier signal), so the forward pass goes by depth
// level: every gate of a level reads only lower levels, and a level is one batched gather and one
// [G,16]x[16,4] product however many gates it holds.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "logic/simplify.h"
#include "logic_module.h"
#include "prune/errors.h"
#include "train/logic_train.h"

namespace prunesim::train {
namespace {

// The relaxed network of a netlist. Signals are kept as rows of one tensor in level order
// (inputs, then the gates of level 1, level 2, ...): pos_[s] is signal s's row.
class LogicDag : public Trainable {
 public:
  LogicDag(const logic::Netlist& n, double init_logit);
  torch::Tensor forward(const torch::Tensor& x) override { return run(x, false); }
  torch::Tensor evaluate(const torch::Tensor& x) override { return run(x, true); }
  std::vector<torch::Tensor> parameters() override { return logits_; }
  void keep_best() override;
  void restore_best();
  // The input netlist with each gate's function replaced by its argmax.
  logic::Netlist to_netlist() const;

 private:
  torch::Tensor run(const torch::Tensor& x, bool hard) const;
  logic::Netlist net_;
  std::vector<std::vector<uint32_t>> level_gates_;  // gate indices of each level (1, 2, ...)
  std::vector<torch::Tensor> ia_, ib_;              // per level: rows of the inputs
  std::vector<torch::Tensor> logits_;               // per level: [gates, 16]
  std::vector<torch::Tensor> best_;
  torch::Tensor out_rows_, out_neg_;  // the outputs' rows; 1 where an output is complemented
};

LogicDag::LogicDag(const logic::Netlist& n, double init_logit) : net_(n) {
  std::vector<uint32_t> level(n.signals(), 0);
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const uint32_t l = 1 + std::max(level[n.gates[g].a], level[n.gates[g].b]);
    level[n.inputs + g] = l;
    if (level_gates_.size() < l) level_gates_.resize(l);
    level_gates_[l - 1].push_back(static_cast<uint32_t>(g));
  }
  std::vector<int64_t> pos(n.signals());
  for (uint32_t s = 0; s < n.inputs; ++s) pos[s] = s;
  int64_t next = n.inputs;
  for (const auto& gs : level_gates_)
    for (uint32_t g : gs) pos[n.inputs + g] = next++;
  for (const auto& gs : level_gates_) {
    std::vector<int64_t> a, b;
    torch::Tensor z = torch::zeros({static_cast<int64_t>(gs.size()), 16});
    for (size_t j = 0; j < gs.size(); ++j) {
      a.push_back(pos[n.gates[gs[j]].a]);
      b.push_back(pos[n.gates[gs[j]].b]);
      z[static_cast<int64_t>(j)][logic::tt_to_petersen(n.gates[gs[j]].tt)] = init_logit;
    }
    ia_.push_back(torch::tensor(a, torch::kLong));
    ib_.push_back(torch::tensor(b, torch::kLong));
    logits_.push_back(z.set_requires_grad(true));
  }
  std::vector<int64_t> rows;
  std::vector<float> neg;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    rows.push_back(pos[n.outputs[i]]);
    neg.push_back(i < n.out_negate.size() && n.out_negate[i] ? 1.f : 0.f);
  }
  out_rows_ = torch::tensor(rows, torch::kLong);
  out_neg_ = torch::tensor(neg).unsqueeze(1);
}

void LogicDag::keep_best() {
  best_.clear();
  for (auto& p : logits_) best_.push_back(p.detach().clone());
}

void LogicDag::restore_best() {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < logits_.size() && i < best_.size(); ++i) logits_[i].copy_(best_[i]);
}

torch::Tensor LogicDag::run(const torch::Tensor& x, bool hard) const {
  static const torch::Tensor C = relaxation_coefficients();
  torch::Tensor all = x.t().contiguous();  // signals as rows, samples as columns
  for (size_t l = 0; l < logits_.size(); ++l) {
    const torch::Tensor a = all.index_select(0, ia_[l]), b = all.index_select(0, ib_[l]);
    const torch::Tensor p = hard ? torch::one_hot(logits_[l].argmax(1), 16).to(torch::kFloat32)
                                 : torch::softmax(logits_[l], 1);
    const torch::Tensor c = p.mm(C);
    auto col = [&](int k) { return c.select(1, k).unsqueeze(1); };
    all = torch::cat({all, col(0) + col(1) * a + col(2) * b + col(3) * a * b}, 0);
  }
  // A complemented output is 1 - v: v + neg (1 - 2 v).
  const torch::Tensor v = all.index_select(0, out_rows_);
  const torch::Tensor o = v + out_neg_ * (1 - 2 * v);
  return o.reshape({static_cast<int64_t>(net_.classes), -1, x.size(0)}).sum(1).t() / net_.tau;
}

logic::Netlist LogicDag::to_netlist() const {
  torch::NoGradGuard ng;
  logic::Netlist n = net_;
  for (size_t l = 0; l < logits_.size(); ++l) {
    const torch::Tensor id = logits_[l].argmax(1).contiguous();
    for (size_t j = 0; j < level_gates_[l].size(); ++j)
      n.gates[level_gates_[l][j]].tt =
          logic::petersen_to_tt(static_cast<int>(id.data_ptr<int64_t>()[j]));
  }
  return n;
}

void check_data(const logic::Netlist& net, const LogicData& d) {
  logic::validate(net, "finetune_logic");
  if (d.n < 1 || d.features < 1 || d.x.size() != static_cast<size_t>(d.n * d.features))
    throw InputError(d.x_source + ": no samples to fine-tune on");
  if (static_cast<size_t>(d.features) != net.encoder.thresholds.size())
    fail(d.x_source, "",
         std::to_string(d.features) + " features per sample, the network's encoder reads " +
             std::to_string(net.encoder.thresholds.size()));
  if (static_cast<int64_t>(d.labels.size()) != d.n)
    fail(d.labels_source, "",
         std::to_string(d.labels.size()) + " labels for " + std::to_string(d.n) + " samples of " +
             d.x_source);
  for (size_t k = 0; k < d.labels.size(); ++k)
    if (d.labels[k] < 0 || d.labels[k] >= static_cast<int64_t>(net.classes))
      fail(d.labels_source, "element " + std::to_string(k),
           "value " + std::to_string(d.labels[k]) + " is not a class id of the network's " +
               std::to_string(net.classes) + " classes");
}

}  // namespace

LogicFinetuneResult finetune_logic(const logic::Netlist& net, const LogicData& d,
                                   const LogicFinetuneOptions& o, const ProgressFn& progress) {
  validate(o.train, "--finetune");
  if (!(o.init_logit > 0) || !std::isfinite(o.init_logit))
    throw InputError("--finetune: the initial logit must be > 0 (it is " +
                     std::to_string(o.init_logit) + ")");
  if (o.train.loss != "auto" && o.train.loss != "ce")
    throw InputError("--finetune: a logic network learns class ids: loss=ce");
  if (o.train.distill > 0 || o.train.shift > 0 || o.train.qat)
    throw InputError("--finetune: distill, shift and qat are for graph fine-tuning");
  check_data(net, d);
  if (net.gates.empty()) throw InputError("--finetune: the network has no gates to train");
  const auto t_start = std::chrono::steady_clock::now();
  set_threads(o.train);
  LogicFinetuneResult res;
  std::vector<int64_t> tr;
  split_rows(d, o.train, &tr, &res.val_rows);
  LogicDag m(net, o.init_logit);
  res.parameters = 16 * static_cast<int64_t>(net.gates.size());
  LoopData ld;
  ld.task.n = static_cast<int64_t>(tr.size());
  ld.task.loss = "ce";
  ld.task.metric = "top1";
  ld.task.against = "labels";
  ld.task.classes = net.classes;
  ld.Xtr = encoded(d, net.encoder, tr);
  ld.Ytr = label_tensor(d, tr);
  ld.Xm = res.val_rows.empty() ? ld.Xtr : encoded(d, net.encoder, res.val_rows);
  ld.Ym = res.val_rows.empty() ? ld.Ytr : label_tensor(d, res.val_rows);
  TrainResult r = train_loop(m, ld, o.train, progress);
  r.val_samples = static_cast<int64_t>(res.val_rows.size());
  m.restore_best();
  res.wiring = m.to_netlist();
  res.net = logic::simplify(res.wiring);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  res.train = std::move(r);
  return res;
}

logic::Netlist logic_finetune_start(const logic::Netlist& net, const LogicData& d,
                                    double init_logit, std::vector<int64_t>* hard_classes) {
  check_data(net, d);
  LogicDag m(net, init_logit);
  if (hard_classes) {
    std::vector<int64_t> rows(static_cast<size_t>(d.n));
    for (int64_t i = 0; i < d.n; ++i) rows[static_cast<size_t>(i)] = i;
    torch::NoGradGuard ng;
    const torch::Tensor pred = m.evaluate(encoded(d, net.encoder, rows)).argmax(1).contiguous();
    hard_classes->assign(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + d.n);
  }
  return m.to_netlist();
}

}  // namespace prunesim::train
