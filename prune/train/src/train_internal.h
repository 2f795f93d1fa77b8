// Internal to prune/train: the pieces the fine-tuning loop, QAT and polarization share.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "graph_module.h"
#include "prune/pruning.h"
#include "train/finetune.h"

namespace prunesim::train {

// What is learnt against what: the loss, the validation metric and the target kind, decided from
// the labels' shape (class ids, targets) or, without labels, from the teacher's output.
struct Task {
  int64_t n = 0;  // training samples
  Shape out_shape;
  std::string loss, metric, against;
  int64_t classes = 0;
  torch::Tensor class_weight;  // ce: per-class weights (undefined: all 1)
};
Task make_task(const Graph& model, const TrainData& d, const TrainOptions& o);

torch::Tensor round_half_away(const torch::Tensor& x);
// Straight-through estimator: the value of q, the gradient of x.
torch::Tensor ste(const torch::Tensor& x, const torch::Tensor& q);
torch::Tensor fake_quant_weight(const PrunableLayer& l, const torch::Tensor& w, double alpha);
torch::Tensor fake_quant_act(const torch::Tensor& x, float scale);
torch::Tensor to_labels_tensor(const Tensor& y);

// Fake quantization of one graph: the weight layout of every prunable layer, and the activation
// scales quantize() calibrates (re-calibrated at every epoch as the weights move).
struct QatState {
  explicit QatState(const Graph& g);
  void calibrate(const Graph& g, const Tensor& calib);
  void attach(GraphModule& m) const;
  std::map<std::string, std::pair<PrunableLayer, double>> layers;  // weight -> layer, Gemm alpha
  std::map<std::string, float> act_scales;                         // value -> int8 scale
};

void set_threads(const TrainOptions& o);
double lr_at(const TrainOptions& o, int epoch0);

// What polarization adds to the loop: its gates (optimised with the weights), the regulariser,
// the clamp after every step and a controller after every epoch.
struct LoopHooks {
  std::vector<torch::Tensor> extra_params;
  std::function<torch::Tensor()> extra_loss;
  std::function<void()> after_step;
  std::function<void(int epoch)> on_epoch;
  // Set: the best epoch is chosen by this score instead of the validation metric (polarization
  // must not keep an early epoch whose gates are far from the target).
  std::function<double(double val_metric)> score;
};

// What the training loop trains: the graph translation (GraphModule, with its masks and QAT) or
// a logic-gate network (logic_module.h). The loop owns the optimiser, the shuffling, the
// schedule, progress, interruption and the best epoch; the module owns its forward pass, its
// parameters and what "keep this state" means.
class Trainable {
 public:
  virtual ~Trainable() = default;
  // The training-mode forward of a batch (gradients reach parameters()).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // The outputs the validation metric is measured on, under NoGradGuard: the same forward for a
  // graph; the discretised network for a logic net, whose soft accuracy is not what ships.
  virtual torch::Tensor evaluate(const torch::Tensor& x) { return forward(x); }
  virtual std::vector<torch::Tensor> parameters() = 0;
  virtual void begin_epoch(int epoch0) {}  // before epoch epoch0's batches (0-based)
  virtual void before_step() {}            // after backward, before the optimiser step
  virtual void after_step() {}             // after the optimiser step
  virtual void keep_best() = 0;            // the current state is the best so far
  virtual void take_snapshot() {}          // TrainOptions::snapshot_epoch was reached
};

// The loop's data, prepared by the caller: the task and the tensors it learns from.
struct LoopData {
  Task task;
  torch::Tensor Xtr, Ytr;                // training inputs and targets (class ids: long)
  torch::Tensor Xm, Ym;                  // the metric's set: validation, else the training data
  torch::Tensor Ttr;                     // the teacher's outputs on Xtr (mix without shift)
  const GraphModule* teacher = nullptr;  // run per batch on shifted inputs
  bool mix = false;                      // labels and teacher both in the loss (distill > 0)
};

// The epochs: start metric, batches, per-epoch metric, best-epoch keeping. Fills the result's
// epochs, metrics, loss/metric/against, train_samples and train_seconds; the caller sets
// val_samples, seconds and what the model is (graph, snapshot).
TrainResult train_loop(Trainable& m, const LoopData& d, const TrainOptions& o,
                       const ProgressFn& progress, const LoopHooks& hooks = {});

// The training loop on an existing module: masks held exactly, optional QAT, and the hooks.
TrainResult run_training(GraphModule& m, const MaskMap& masks, const TrainData& d,
                         const TrainOptions& o, const ProgressFn& progress, QatState* qat,
                         const LoopHooks& hooks = {});

}  // namespace prunesim::train
