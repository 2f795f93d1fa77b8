// The training loop every trainer of prune/train shares (train_internal.h): the graph
// fine-tuning of finetune()/polarize() and the logic-gate networks of logic_train(). A seed gives
// the same run at threads=1 because the optimiser, the shuffling rng and the best epoch are used
// in one fixed order here, whatever the module is.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "prune/errors.h"
#include "train_internal.h"

namespace prunesim::train {
namespace {

torch::Tensor loss_of(const Task& t, const TrainOptions& o, const torch::Tensor& out,
                      const torch::Tensor& y) {
  if (t.loss == "ce") {
    torch::Tensor logits = out, ids = y;
    if (out.dim() > 2) {  // segmentation: [N, C, ...] -> [N*..., C]
      logits = out.movedim(1, -1).reshape({-1, out.size(1)});
      ids = y.reshape({-1});
    }
    auto opt = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(o.ignore_index);
    if (t.class_weight.defined()) opt = opt.weight(t.class_weight);
    return torch::nn::functional::cross_entropy(logits, ids, opt);
  }
  if (t.loss == "kl") {
    const double T = o.temperature;
    torch::Tensor ls = torch::log_softmax(out / T, 1);
    torch::Tensor pt = torch::softmax(y / T, 1);
    return torch::nn::functional::kl_div(
               ls, pt, torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean)) *
           (T * T);
  }
  return torch::mse_loss(out, y);
}

// The teacher term of a labelled run with distill > 0: KL of softened logits for a classifier,
// MSE for anything else (per-pixel logits, reconstructions, latents).
torch::Tensor teacher_loss(const Task& t, const TrainOptions& o, const torch::Tensor& out,
                           const torch::Tensor& teacher_out) {
  Task k = t;
  if (out.dim() > 2 && t.classes > 1) {
    // Per-pixel class logits: the KL of the softened class distributions at every position.
    const double T = o.temperature;
    torch::Tensor ls = torch::log_softmax(out / T, 1), pt = torch::softmax(teacher_out / T, 1);
    const double positions = static_cast<double>(out.numel() / out.size(1));
    return torch::nn::functional::kl_div(
               ls, pt, torch::nn::functional::KLDivFuncOptions().reduction(torch::kSum)) *
           (T * T / positions);
  }
  k.loss = (out.dim() == 2 && out.size(1) > 1) ? "kl" : "mse";
  return loss_of(k, o, out, teacher_out);
}

// Higher is better for every metric.
double metric_of(const Task& t, const TrainOptions& o, const torch::Tensor& out,
                 const torch::Tensor& y) {
  if (t.metric == "top1") return out.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  if (t.metric == "agreement")
    return out.argmax(1).eq(y.argmax(1)).to(torch::kFloat64).mean().item<double>();
  if (t.metric == "miou") {
    torch::Tensor p = out.argmax(1).reshape({-1}), l = y.reshape({-1});
    double s = 0;
    int n = 0;
    for (int64_t c = 0; c < t.classes; ++c) {
      if (c == o.ignore_index) continue;
      torch::Tensor valid = l.ne(o.ignore_index);
      torch::Tensor pc = p.eq(c).logical_and(valid), tc = l.eq(c);
      const double inter = pc.logical_and(tc).sum().item<double>();
      const double uni = pc.logical_or(tc).sum().item<double>();
      if (uni > 0) {
        s += inter / uni;
        ++n;
      }
    }
    return n ? s / n : 0.0;
  }
  const double sig = y.to(torch::kFloat64).pow(2).sum().item<double>();
  const double err = (y - out).to(torch::kFloat64).pow(2).sum().item<double>();
  return err == 0 ? 1e9 : 10.0 * std::log10(sig / err);
}

// Random shifts with zero fill (the zoo classifiers were trained with them): pad every spatial
// axis by `k`, then cut each sample's window at its own offset.
torch::Tensor shifted(const torch::Tensor& x, int k, std::mt19937_64& rng) {
  const int64_t sp = x.dim() - 2;  // spatial axes after [N, C]
  if (k <= 0 || sp < 1) return x;
  std::vector<int64_t> pad;
  for (int64_t d = 0; d < sp; ++d) pad.insert(pad.end(), {k, k});
  torch::Tensor p = torch::constant_pad_nd(x, pad, 0);
  std::uniform_int_distribution<int> off(0, 2 * k);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < x.size(0); ++i) {
    torch::Tensor s = p[i];
    for (int64_t d = 0; d < sp; ++d) s = s.narrow(1 + d, off(rng), x.size(2 + d));
    out.push_back(s);
  }
  return torch::stack(out);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& plist,
                                                        const TrainOptions& o) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(
        plist, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  else
    return std::make_unique<torch::optim::SGD>(
        plist, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
}

double eval_metric(Trainable& m, const Task& t, const TrainOptions& o, const torch::Tensor& x,
                   const torch::Tensor& y, double* loss) {
  torch::NoGradGuard ng;
  const int64_t batch = std::max<int64_t>(o.batch, 256);
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < x.size(0); s += batch)
    parts.push_back(m.evaluate(x.slice(0, s, std::min(x.size(0), s + batch))));
  torch::Tensor out = torch::cat(parts, 0);
  if (loss) *loss = loss_of(t, o, out, y).item<double>();
  return metric_of(t, o, out, y);
}

// One epoch's batches in the order `rng` shuffles them; returns the sample-weighted mean loss.
double run_epoch(Trainable& m, const LoopData& d, const TrainOptions& o, int e,
                 torch::optim::Optimizer& opt, std::vector<int64_t>& order, std::mt19937_64& rng,
                 const ProgressFn& progress, const LoopHooks& hooks) {
  const Task& task = d.task;
  const int64_t ntr = d.Xtr.size(0);
  const int64_t nb = (ntr + o.batch - 1) / o.batch;
  std::shuffle(order.begin(), order.end(), rng);
  torch::Tensor idx = torch::tensor(order, torch::kLong);
  double sum = 0;
  int64_t seen = 0;
  for (int64_t b = 0; b < nb; ++b) {
    if (interrupted()) throw Interrupted();
    torch::Tensor bi = idx.slice(0, b * o.batch, std::min(ntr, (b + 1) * o.batch));
    torch::Tensor xb = shifted(d.Xtr.index_select(0, bi), o.shift, rng), yb, tb;
    if (d.teacher) {
      torch::NoGradGuard ng;
      tb = d.teacher->forward(xb);
    } else if (d.mix) {
      tb = d.Ttr.index_select(0, bi);
    }
    yb = task.against == "teacher" && d.teacher ? tb : d.Ytr.index_select(0, bi);
    opt.zero_grad();
    torch::Tensor out = m.forward(xb);
    torch::Tensor loss = loss_of(task, o, out, yb);
    if (d.mix) loss = (1 - o.distill) * loss + o.distill * teacher_loss(task, o, out, tb);
    if (hooks.extra_loss) loss = loss + hooks.extra_loss();
    const double lv = loss.item<double>();
    if (!std::isfinite(lv)) {
      std::ostringstream s;
      s << "finetune: epoch " << e + 1 << ", batch " << b + 1 << ": the loss is "
        << (std::isnan(lv) ? "NaN" : "infinite") << ": the run diverged; try a smaller lr (now "
        << o.lr << ")";
      throw InputError(s.str());
    }
    loss.backward();
    m.before_step();
    opt.step();
    m.after_step();
    if (hooks.after_step) hooks.after_step();
    sum += lv * static_cast<double>(bi.size(0));
    seen += bi.size(0);
    if (progress) progress(e + 1, b + 1, nb, sum / static_cast<double>(seen), nullptr);
  }
  return sum / static_cast<double>(std::max<int64_t>(1, seen));
}

}  // namespace

TrainResult train_loop(Trainable& m, const LoopData& d, const TrainOptions& o,
                       const ProgressFn& progress, const LoopHooks& hooks) {
  const Task& task = d.task;
  TrainResult r;
  r.loss = task.loss;
  r.metric = task.metric;
  r.against = task.against;
  r.train_samples = d.Xtr.size(0);
  double best_loss = 0;
  r.start_metric = eval_metric(m, task, o, d.Xm, d.Ym, &best_loss);
  r.best_metric = r.start_metric;
  double best_score = hooks.score ? -1e300 : r.start_metric;
  if (hooks.score || !std::isfinite(best_loss)) best_loss = 1e300;
  m.keep_best();
  r.best_epoch = 0;

  std::vector<torch::Tensor> plist = m.parameters();
  plist.insert(plist.end(), hooks.extra_params.begin(), hooks.extra_params.end());
  std::unique_ptr<torch::optim::Optimizer> opt = make_optimizer(plist, o);
  const int64_t ntr = d.Xtr.size(0);
  const int64_t nb = (ntr + o.batch - 1) / o.batch;
  std::vector<int64_t> order(static_cast<size_t>(ntr));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(o.seed);
  for (int e = 0; e < o.epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    EpochStats st;
    st.lr = lr_at(o, e);
    for (auto& grp : opt->param_groups()) grp.options().set_lr(st.lr);
    m.begin_epoch(e);
    const auto t_loop = std::chrono::steady_clock::now();
    st.train_loss = run_epoch(m, d, o, e, *opt, order, rng, progress, hooks);
    st.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_loop).count();
    r.train_seconds += st.train_seconds;
    if (hooks.on_epoch) hooks.on_epoch(e + 1);
    if (o.snapshot_epoch == e + 1) m.take_snapshot();
    st.epoch = e + 1;
    st.val_metric = eval_metric(m, task, o, d.Xm, d.Ym, &st.val_loss);
    if (!std::isfinite(st.val_loss) && task.metric != "sndr_db")
      throw InputError("finetune: epoch " + std::to_string(e + 1) +
                       ": the validation loss is not finite: the run diverged; try a smaller lr");
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.epochs.push_back(st);
    const double score = hooks.score ? hooks.score(st.val_metric) : st.val_metric;
    // A tie on the metric (top-1 saturates on a small validation split) goes to the lower
    // validation loss: otherwise the first epoch to reach it wins, often one at a high lr.
    if (!o.keep_best || score > best_score ||
        (score == best_score && std::isfinite(st.val_loss) && st.val_loss < best_loss)) {
      best_score = score;
      best_loss = std::isfinite(st.val_loss) ? st.val_loss : 1e300;
      r.best_metric = st.val_metric;
      r.best_epoch = st.epoch;
      m.keep_best();
    }
    if (progress) progress(e + 1, nb, nb, st.train_loss, &r.epochs.back());
  }
  return r;
}

}  // namespace prunesim::train
