// train_logic(): the data checks, the thermometer encoding (logic::encode, the evaluator's own),
// the validation split and the discretisation around the shared training loop (train_loop).
#include "train/logic_train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "logic/eval.h"
#include "logic_module.h"
#include "prune/errors.h"

namespace prunesim::train {

std::vector<uint32_t> parse_layers(const std::string& spec, const std::string& flag) {
  std::vector<uint32_t> out;
  std::stringstream ss(spec);
  std::string item;
  auto number = [&](const std::string& t) -> uint32_t {
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos)
      throw InputError(flag + ": '" + spec + "': '" + t +
                       "' is not a positive integer (layers read like 4x2000 or 2000,1000)");
    const uint32_t v = static_cast<uint32_t>(std::stoul(t));
    if (v == 0) throw InputError(flag + ": '" + spec + "': a count of 0");
    return v;
  };
  while (std::getline(ss, item, ',')) {
    const size_t x = item.find('x');
    if (x == std::string::npos) {
      out.push_back(number(item));
      continue;
    }
    const uint32_t reps = number(item.substr(0, x)), width = number(item.substr(x + 1));
    if (reps > 1000) throw InputError(flag + ": '" + spec + "': more than 1000 layers");
    out.insert(out.end(), reps, width);
  }
  if (out.empty()) throw InputError(flag + ": '" + spec + "': no layers");
  uint64_t total = 0;
  for (uint32_t w : out) total += w;
  if (total > 100000000) throw InputError(flag + ": '" + spec + "': more than 10^8 gates in all");
  return out;
}

void validate(const LogicNetOptions& o, const std::string& flag) {
  validate(o.train, flag);
  auto bad = [&](const std::string& what) { throw InputError(flag + ": " + what); };
  if (o.layers.empty()) bad("no layers (--layers 4x2000)");
  if (o.layers.size() > 0xFFFF) bad("more than 65535 layers");
  if (o.interconnect != "learned" && o.interconnect != "random")
    bad("--interconnect must be learned or random, not '" + o.interconnect + "'");
  if (o.candidates < 1 || o.candidates > 1024) bad("--candidates must be in 1..1024");
  if (o.thresholds < 1 || o.thresholds > 255) bad("--thresholds must be in 1..255");
  if (o.threshold_mode != "uniform" && o.threshold_mode != "quantile")
    bad("--threshold-mode must be uniform or quantile, not '" + o.threshold_mode + "'");
  if (!(o.tau > 0) || !std::isfinite(o.tau)) bad("--tau must be > 0");
  if (!std::isfinite(o.candidate_bias) || !std::isfinite(o.residual_logit))
    bad("--candidate-bias and --residual-logit must be finite");
  if (o.init != "residual" && o.init != "normal")
    bad("init must be residual or normal, not '" + o.init + "'");
  if (o.train.loss != "auto" && o.train.loss != "ce")
    bad("a logic network learns class ids: loss=ce (not " + o.train.loss + ")");
  if (o.train.distill > 0 || o.train.shift > 0 || o.train.qat)
    bad("distill, shift and qat are for graph fine-tuning, not logic networks");
}

logic::Encoder fit_encoder(const LogicData& d, int thresholds, const std::string& mode,
                           const std::vector<int64_t>& rows) {
  std::vector<int64_t> r = rows;
  if (r.empty()) {
    r.resize(static_cast<size_t>(d.n));
    std::iota(r.begin(), r.end(), 0);
  }
  logic::Encoder e;
  e.thresholds.resize(static_cast<size_t>(d.features));
  std::vector<float> v(r.size());
  for (int64_t f = 0; f < d.features; ++f) {
    for (size_t i = 0; i < r.size(); ++i) v[i] = d.x[static_cast<size_t>(r[i] * d.features + f)];
    std::sort(v.begin(), v.end());
    auto& t = e.thresholds[static_cast<size_t>(f)];
    for (int k = 1; k <= thresholds; ++k) {
      const double q = static_cast<double>(k) / (thresholds + 1);
      if (mode == "quantile") {
        t.push_back(v[static_cast<size_t>(std::floor(q * static_cast<double>(v.size() - 1)))]);
      } else {
        t.push_back(static_cast<float>(v.front() + q * (v.back() - v.front())));
      }
    }
  }
  return e;
}

namespace {

int64_t check_labels(const LogicData& d, const LogicNetOptions& o) {
  if (d.n < 1 || d.features < 1 || d.x.size() != static_cast<size_t>(d.n * d.features))
    throw InputError(d.x_source + ": no samples to train on");
  if (static_cast<int64_t>(d.labels.size()) != d.n)
    fail(d.labels_source, "",
         std::to_string(d.labels.size()) + " labels for " + std::to_string(d.n) + " samples of " +
             d.x_source);
  int64_t classes = d.classes;
  if (classes == 0)
    for (int64_t v : d.labels) classes = std::max(classes, v + 1);
  for (size_t k = 0; k < d.labels.size(); ++k)
    if (d.labels[k] < 0 || d.labels[k] >= classes)
      fail(d.labels_source, "element " + std::to_string(k),
           "value " + std::to_string(d.labels[k]) + " is not a class id in [0, " +
               std::to_string(classes) + ")");
  if (classes < 2) fail(d.labels_source, "", "fewer than 2 classes");
  if (o.layers.back() % classes != 0)
    throw InputError("--layers: the last layer's " + std::to_string(o.layers.back()) +
                     " gates do not split into " + std::to_string(classes) +
                     " equal class groups (make it a multiple of " + std::to_string(classes) + ")");
  return classes;
}

}  // namespace

// The validation rows: a seeded share of the samples (the same rule as the graph trainer).
void split_rows(const LogicData& d, const TrainOptions& o, std::vector<int64_t>* tr,
                std::vector<int64_t>* val) {
  std::vector<int64_t> perm(static_cast<size_t>(d.n));
  std::iota(perm.begin(), perm.end(), 0);
  int64_t nv = 0;
  if (o.val_split > 0 && d.n >= 2) {
    std::mt19937_64 rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
    std::shuffle(perm.begin(), perm.end(), rng);
    nv = std::min<int64_t>(d.n - 1, std::max<int64_t>(1, std::llround(o.val_split * d.n)));
  }
  val->assign(perm.begin(), perm.begin() + nv);
  tr->assign(perm.begin() + nv, perm.end());
}

// Rows of d, thermometer-encoded by the evaluator's encoder, unpacked to 0/1 floats [rows, bits].
torch::Tensor encoded(const LogicData& d, const logic::Encoder& e,
                      const std::vector<int64_t>& rows) {
  std::vector<float> x(rows.size() * static_cast<size_t>(d.features));
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(d.x.begin() + rows[i] * d.features, d.features, x.begin() + i * d.features);
  const logic::BitMatrix m = logic::encode(e, x.data(), rows.size(), d.features);
  torch::Tensor t = torch::zeros({static_cast<int64_t>(rows.size()), m.rows});
  auto acc = t.accessor<float, 2>();
  for (uint32_t r = 0; r < m.rows; ++r)
    for (size_t s = 0; s < rows.size(); ++s)
      acc[static_cast<int64_t>(s)][r] = static_cast<float>((m.row(r)[s / 64] >> (s % 64)) & 1);
  return t;
}

torch::Tensor label_tensor(const LogicData& d, const std::vector<int64_t>& rows) {
  std::vector<int64_t> y(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) y[i] = d.labels[static_cast<size_t>(rows[i])];
  return torch::tensor(y, torch::kLong);
}

LogicTrainResult train_logic(const LogicData& d, const LogicNetOptions& o,
                             const ProgressFn& progress) {
  validate(o);
  const auto t_start = std::chrono::steady_clock::now();
  LogicTrainResult res;
  res.classes = check_labels(d, o);
  set_threads(o.train);
  torch::manual_seed(o.train.seed);
  std::vector<int64_t> tr;
  split_rows(d, o.train, &tr, &res.val_rows);
  const logic::Encoder enc = fit_encoder(d, o.thresholds, o.threshold_mode, tr);
  LogicModule m(enc.bits(), res.classes, o);
  res.parameters = m.parameter_count();
  LoopData ld;
  ld.task.n = static_cast<int64_t>(tr.size());
  ld.task.loss = "ce";
  ld.task.metric = "top1";
  ld.task.against = "labels";
  ld.task.classes = res.classes;
  ld.Xtr = encoded(d, enc, tr);
  ld.Ytr = label_tensor(d, tr);
  // Without a validation split the discrete accuracy is measured on the training data.
  const std::vector<int64_t>& mrows = res.val_rows.empty() ? tr : res.val_rows;
  ld.Xm = res.val_rows.empty() ? ld.Xtr : encoded(d, enc, mrows);
  ld.Ym = res.val_rows.empty() ? ld.Ytr : label_tensor(d, mrows);
  TrainResult r = train_loop(m, ld, o.train, progress);
  r.val_samples = static_cast<int64_t>(res.val_rows.size());
  m.restore_best();
  res.net = m.to_netlist(enc);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  res.train = std::move(r);
  return res;
}

int64_t logic_parameter_count(uint32_t input_bits, const LogicNetOptions& o) {
  validate(o);
  torch::manual_seed(o.train.seed);
  LogicModule m(input_bits, 1, o);
  return m.parameter_count();
}

std::vector<int64_t> logic_hard_predictions(const LogicData& d, const LogicNetOptions& o,
                                            logic::Netlist* net) {
  validate(o);
  const int64_t classes = check_labels(d, o);
  torch::manual_seed(o.train.seed);
  const logic::Encoder enc = fit_encoder(d, o.thresholds, o.threshold_mode);
  LogicModule m(enc.bits(), classes, o);
  std::vector<int64_t> rows(static_cast<size_t>(d.n));
  std::iota(rows.begin(), rows.end(), 0);
  torch::NoGradGuard ng;
  torch::Tensor pred = m.evaluate(encoded(d, enc, rows)).argmax(1).contiguous();
  if (net) *net = m.to_netlist(enc);
  return std::vector<int64_t>(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + d.n);
}

}  // namespace prunesim::train
