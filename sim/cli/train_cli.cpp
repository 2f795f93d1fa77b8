#include "train_cli.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "prune/errors.h"
#include "prune/onnx_io.h"

namespace prunesim::cli {

train::ProgressFn train_progress(const std::string& label, bool quiet) {
  if (quiet) return nullptr;
  const bool tty = isatty(STDERR_FILENO);
  return [tty, label](int epoch, int64_t b, int64_t batches, double loss,
                      const train::EpochStats* st) {
    if (st) {
      std::fprintf(stderr,
                   "%s%s epoch %d: loss %.5g, val loss %.5g, val metric %.4g, lr %.3g, %.1f s\n",
                   tty ? "\r\033[K" : "", label.c_str(), epoch, st->train_loss, st->val_loss,
                   st->val_metric, st->lr, st->seconds);
      return;
    }
    if (!tty) return;
    const int width = 24;
    const int fill = static_cast<int>(width * b / std::max<int64_t>(1, batches));
    std::string bar(static_cast<size_t>(fill), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s epoch %d [%s] %lld/%lld loss %.5g", label.c_str(), epoch,
                 bar.c_str(), static_cast<long long>(b), static_cast<long long>(batches), loss);
    std::fflush(stderr);
  };
}

MaskMap masks_from_onnx(const Graph& model, const std::string& pruned_path) {
  const Graph p = load_onnx(pruned_path);
  MaskMap m;
  for (const auto& l : prunable_layers(model)) {
    if (!p.is_const(l.weight))
      fail(pruned_path, "initializer '" + l.weight + "'",
           "missing: the mask source must have the model's weights (" + model.source + ")");
    const Tensor& w = p.init(l.weight);
    if (w.shape != l.shape)
      fail(pruned_path, "initializer '" + l.weight + "'",
           "shape " + shape_str(w.shape) + " differs from " + shape_str(l.shape) + " in " +
               model.source + " (a channel-pruned model is fine-tuned itself: pass it as MODEL)");
    std::vector<uint8_t> k(w.f.size());
    for (size_t i = 0; i < k.size(); ++i) k[i] = w.f[i] != 0.f;
    m[l.weight] = std::move(k);
  }
  return m;
}

MaskMap masks_from_tables(const Graph& model, const std::string& tables_path,
                          nlohmann::json* notes) {
  if (!is_table_file(tables_path)) throw InputError(tables_path + ": not a weight table (.pwt)");
  TableSummary s;
  MaskMap tm;
  read_tables(tables_path, &s, &tm);
  MaskMap m;
  for (const auto& L : s.layers) {
    if (L.weight.empty()) continue;
    if (!model.is_const(L.weight))
      fail(tables_path, "layer '" + L.name + "'",
           "weight '" + L.weight + "' is not in " + model.source);
    const Tensor& w = model.init(L.weight);
    auto it = tm.find(L.weight);
    if (it == tm.end()) continue;
    if (it->second.size() != w.f.size())
      fail(tables_path, "layer '" + L.name + "'",
           std::to_string(it->second.size()) + " weights, but '" + L.weight + "' of " +
               model.source + " has " + std::to_string(w.f.size()) + " " + shape_str(w.shape));
    m[L.weight] = it->second;
    if (notes && (L.encoding == "balanced" || L.encoding == "nm"))
      (*notes)["layers"][L.name][L.encoding] = L.params;
  }
  return m;
}

Graph LoopFinetune::operator()(const Graph& g, const MaskMap& masks, const std::string& label) {
  train::TrainData d;
  Tensor subset, sublabels;
  d.x = x;
  d.labels = labels;
  d.teacher = dense;  // distilled from without labels; mixed in with them when distill > 0
  d.calib = calib;
  d.x_source = "--train-data";
  d.labels_source = "--train-labels";
  nlohmann::json paser;
  if (paser_budget > 0) {
    // PASER: the samples the pruned model degraded most on, per cluster, become the training set.
    const std::vector<int64_t> pick =
        paser_select(g, *dense, *x, paser_budget, paser_clusters, opt.seed, &paser);
    const int64_t per = x->size() / x->shape[0];
    subset.shape = x->shape;
    subset.shape[0] = static_cast<int64_t>(pick.size());
    for (int64_t i : pick)
      subset.f.insert(subset.f.end(), x->f.begin() + i * per, x->f.begin() + (i + 1) * per);
    d.x = &subset;
    if (labels) {
      const int64_t lp = labels->size() / labels->shape[0];
      sublabels.shape = labels->shape;
      sublabels.shape[0] = subset.shape[0];
      for (int64_t i : pick)
        sublabels.f.insert(sublabels.f.end(), labels->f.begin() + i * lp,
                           labels->f.begin() + (i + 1) * lp);
      d.labels = &sublabels;
    }
  }
  train::TrainResult r = train::finetune(g, masks, d, opt, train_progress(label, quiet));
  if (r.has_snapshot && !has_snapshot) {
    snapshot = r.snapshot;
    has_snapshot = true;
  }
  nlohmann::json rep = r.report();
  rep["label"] = label;
  if (!paser.is_null()) rep["paser"] = paser;
  if (!quiet)
    std::fprintf(stderr, "%s: %s %.4g -> %.4g (best epoch %d of %d, %s, %.1f s)\n", label.c_str(),
                 r.metric.c_str(), r.start_metric, r.best_metric, r.best_epoch, opt.epochs,
                 r.against == "teacher" ? "distilled from the dense model"
                 : opt.distill > 0      ? "on labels and the dense model"
                                        : "on labels",
                 r.seconds);
  log.push_back(rep);
  return r.graph;
}

}  // namespace prunesim::cli
