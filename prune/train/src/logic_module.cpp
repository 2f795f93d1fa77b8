#include "logic_module.h"

namespace prunesim::train {

// From the truth table f(a, b) = sum of its minterms: f00 (1-a)(1-b) + f01 (1-a) b +
// f10 a (1-b) + f11 a b.
torch::Tensor relaxation_coefficients() {
  std::vector<float> c;
  for (int id = 0; id < 16; ++id) {
    const logic::TruthTable tt = logic::petersen_to_tt(id);
    const float f00 = tt & 1u, f01 = (tt >> 1) & 1u, f10 = (tt >> 2) & 1u, f11 = (tt >> 3) & 1u;
    c.insert(c.end(), {f00, f10 - f00, f01 - f00, f00 - f01 - f10 + f11});
  }
  return torch::tensor(c).reshape({16, 4});
}

namespace {

// `count` indices into [0, in) that use every index about equally often (concatenated random
// permutations, then shuffled), so that no input of a layer is left unread when there are
// enough gate inputs — Petersen et al.'s random wiring does the same.
torch::Tensor spread_indices(int64_t in, int64_t count) {
  std::vector<torch::Tensor> parts;
  for (int64_t have = 0; have < count; have += in) parts.push_back(torch::randperm(in));
  torch::Tensor all = torch::cat(parts).slice(0, 0, count);
  return all.index_select(0, torch::randperm(count));
}

}  // namespace

LogicLayer::LogicLayer(int64_t in, int64_t out, const LogicNetOptions& o)
    : in_(in), out_(out), learned_(o.interconnect == "learned") {
  torch::Tensor z = torch::randn({out, 16});
  if (o.init == "residual") z.select(1, 3) += o.residual_logit;  // ID 3: pass-through A
  logits_ = z.set_requires_grad(true);
  const int64_t k = learned_ ? o.candidates : 1;
  torch::Tensor idx = spread_indices(in, 2 * out * k).reshape({2, out, k});
  ia_ = idx[0].contiguous();
  ib_ = idx[1].contiguous();
  if (learned_) {
    wa_ = torch::randn({out, k});
    wb_ = torch::randn({out, k});
    wa_.select(1, 0) += o.candidate_bias;
    wb_.select(1, 0) += o.candidate_bias;
    wa_.set_requires_grad(true);
    wb_.set_requires_grad(true);
  } else {
    ia_ = ia_.reshape({out});
    ib_ = ib_.reshape({out});
  }
}

std::vector<torch::Tensor> LogicLayer::parameters() const {
  if (learned_) return {logits_, wa_, wb_};
  return {logits_};
}

torch::Tensor LogicLayer::chosen(const torch::Tensor& idx, const torch::Tensor& w) const {
  if (!learned_) return idx;
  return idx.gather(1, w.argmax(1, true)).squeeze(1);
}

torch::Tensor LogicLayer::inputs(const torch::Tensor& x, const torch::Tensor& idx,
                                 const torch::Tensor& w, bool hard) const {
  if (!learned_ || hard) return x.index_select(0, chosen(idx, w));
  // The soft choice: each input is the softmax-weighted sum of its K candidates, one bag per
  // gate over the rows of x (embedding_bag fuses the gather, the weighting and the sum, and
  // its backward, which a gathered [out, K, B] tensor would hold in memory 16 times over).
  namespace F = torch::nn::functional;
  const int64_t k = idx.size(1);
  // libtorch 1.13 takes its forward-only kernel when the table needs no gradient, and that
  // kernel fails to record the weights' gradient (an internal assert): the first layer's
  // inputs are made a leaf that wants one.
  torch::Tensor table = x;
  if (!x.requires_grad() && torch::GradMode::is_enabled()) table = x.detach().requires_grad_(true);
  return F::embedding_bag(idx.reshape({-1}), table,
                          F::EmbeddingBagFuncOptions()
                              .offsets(torch::arange(0, out_ * k, k, torch::kLong))
                              .mode(torch::kSum)
                              .per_sample_weights(torch::softmax(w, 1).reshape({-1})));
}

torch::Tensor LogicLayer::forward(const torch::Tensor& x, bool hard) const {
  static const torch::Tensor C = relaxation_coefficients();
  const torch::Tensor a = inputs(x, ia_, wa_, hard), b = inputs(x, ib_, wb_, hard);
  torch::Tensor p =
      hard ? torch::one_hot(logits_.argmax(1), 16).to(torch::kFloat32) : torch::softmax(logits_, 1);
  torch::Tensor c = p.mm(C);  // [out, 4], broadcast over the samples (columns)
  auto col = [&](int k) { return c.select(1, k).unsqueeze(1); };
  return col(0) + col(1) * a + col(2) * b + col(3) * a * b;
}

void LogicLayer::discretise(std::vector<int64_t>* a, std::vector<int64_t>* b,
                            std::vector<int>* ids) const {
  torch::NoGradGuard ng;
  torch::Tensor ca = chosen(ia_, wa_).contiguous(), cb = chosen(ib_, wb_).contiguous();
  torch::Tensor g = logits_.argmax(1).contiguous();
  a->assign(ca.data_ptr<int64_t>(), ca.data_ptr<int64_t>() + out_);
  b->assign(cb.data_ptr<int64_t>(), cb.data_ptr<int64_t>() + out_);
  ids->resize(static_cast<size_t>(out_));
  for (int64_t j = 0; j < out_; ++j) (*ids)[j] = static_cast<int>(g[j].item<int64_t>());
}

LogicModule::LogicModule(int64_t input_bits, int64_t classes, const LogicNetOptions& o)
    : inputs_(input_bits), classes_(classes), tau_(o.tau) {
  int64_t in = input_bits;
  for (uint32_t w : o.layers) {
    layers_.emplace_back(in, w, o);
    in = w;
  }
}

std::vector<torch::Tensor> LogicModule::parameters() {
  std::vector<torch::Tensor> v;
  for (const auto& l : layers_)
    for (auto& p : l.parameters()) v.push_back(p);
  return v;
}

int64_t LogicModule::parameter_count() {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.numel();
  return n;
}

void LogicModule::keep_best() {
  best_.clear();
  for (auto& p : parameters()) best_.push_back(p.detach().clone());
}

void LogicModule::restore_best() {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> ps = parameters();
  for (size_t i = 0; i < ps.size() && i < best_.size(); ++i) ps[i].copy_(best_[i]);
}

torch::Tensor LogicModule::run(const torch::Tensor& x, bool hard) const {
  // Signals as rows, samples as columns: a layer's inputs are whole rows of its predecessor.
  torch::Tensor h = x.t().contiguous();
  for (const auto& l : layers_) h = l.forward(h, hard);
  return h.reshape({classes_, -1, x.size(0)}).sum(1).t() / tau_;
}

logic::Netlist LogicModule::to_netlist(const logic::Encoder& e) const {
  logic::Netlist n;
  n.inputs = static_cast<uint32_t>(inputs_);
  n.encoder = e;
  n.classes = static_cast<uint32_t>(classes_);
  n.tau = static_cast<float>(tau_);
  uint32_t prev = 0;  // first signal of the layer the current one reads
  uint32_t next = n.inputs;
  for (size_t l = 0; l < layers_.size(); ++l) {
    std::vector<int64_t> a, b;
    std::vector<int> ids;
    layers_[l].discretise(&a, &b, &ids);
    for (size_t j = 0; j < ids.size(); ++j)
      n.gates.push_back({prev + static_cast<uint32_t>(a[j]), prev + static_cast<uint32_t>(b[j]),
                         logic::petersen_to_tt(ids[j]), static_cast<uint32_t>(l)});
    prev = next;
    next += static_cast<uint32_t>(ids.size());
  }
  for (uint32_t s = prev; s < next; ++s) n.outputs.push_back(s);
  n.out_negate.assign(n.outputs.size(), 0);
  return n;
}

}  // namespace prunesim::train
