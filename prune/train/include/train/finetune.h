// The training engine's public face (prune/train/, on Debian's CPU libtorch): masked fine-tuning
// of any graph the float executor runs, with cross-entropy, MSE or distillation losses, Adam or
// SGD under a cosine/step schedule, a validation split with the best epoch kept, and optional
// quantization-aware training that fake-quantizes with exactly the int8 rules of
// docs/quantization.md. No torch header is reachable from here: the CLI and the pruning pipeline
// include this file without paying libtorch's compile time.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/output.h"
#include "prune/ir.h"
#include "prune/pruning.h"

namespace prunesim::train {

struct TrainOptions {
  int epochs = 10;
  double lr = 1e-3;
  int64_t batch = 64;
  std::string optimizer = "adam";  // adam | sgd
  double momentum = 0.9;           // sgd
  double weight_decay = 0.0;
  std::string schedule = "cosine";  // cosine | step | constant (per epoch)
  int step_every = 0;               // step: epochs between decays (0: epochs / 3, at least 1)
  double step_gamma = 0.1;          // step: factor per decay
  double val_split = 0.1;     // fraction of the training data held out for validation, [0, 0.9]
  std::string loss = "auto";  // auto | ce | mse | kl (kl: distillation of softened logits)
  double temperature = 4.0;   // kl
  // With labels and a teacher: loss = (1 - distill) * (label loss) + distill * (teacher loss:
  // KL of softened logits for classifiers, MSE otherwise). The pruned model learns the labels and
  // the dense model's soft outputs at once, which generalises better on small training splits.
  double distill = 0.0;
  int64_t ignore_index = -100;  // ce: a class id whose pixels/samples count for nothing (HSI: 0)
  // ce: "none", or "sqrt": class c weighs sqrt(total / count_c) over the training labels,
  // normalised to mean 1 (ignore_index weighs 0). Rare classes then count in the loss as they
  // count in mIoU, which averages over classes, not pixels.
  std::string class_weight = "none";
  bool qat = false;  // fake-quantize weights and activations (straight-through)
  // Augmentation: every training sample shifted by up to this many positions (zero fill) along
  // each spatial axis (images: H and W; 1-D signals: time), drawn per sample from the seed.
  int shift = 0;
  uint64_t seed = 1;      // shuffling, the validation split, anything random
  int threads = 0;        // 0: every core; 1 makes a run deterministic for its seed
  bool keep_best = true;  // keep the epoch with the best validation metric (else the last)
  // > 0: TrainResult::snapshot holds the weights after this many epochs (the early-epoch
  // rewind point of a lottery ticket, Frankle et al.'s "late rewinding").
  int snapshot_epoch = 0;
};

// Every key of `spec` ("epochs=3,lr=1e-3,batch=32,qat,optimizer=sgd,...") applied onto `o`.
// InputError "<flag>: ..." naming the bad key or value. Also checks the ranges (epochs, lr and
// batch positive, ...), as validate() does.
void parse_train_spec(const std::string& spec, const std::string& flag, TrainOptions* o);
// InputError "<flag>: <key> must be ..." for non-positive epochs/lr/batch and other bad values.
void validate(const TrainOptions& o, const std::string& flag = "finetune");
// The keys parse_train_spec accepts, with their meaning (for --help and docs).
std::string train_spec_help();

struct TrainData {
  const Tensor* x = nullptr;       // [N, ...] training inputs (required)
  const Tensor* labels = nullptr;  // [N] class ids, or targets shaped like the output, or null
  const Graph* teacher = nullptr;  // distillation source when labels are null (required then)
  const Tensor* val_x = nullptr;   // explicit validation set (else val_split of x)
  const Tensor* val_labels = nullptr;
  // QAT activation scales are calibrated on this (null: on the training inputs).
  const Tensor* calib = nullptr;
  std::string x_source = "training data", labels_source = "labels";  // names for errors
};

struct EpochStats {
  int epoch = 0;  // 1-based
  double lr = 0, train_loss = 0, val_loss = 0;
  double val_metric = 0;     // top-1 (fraction) or SNDR (dB), see TrainResult::metric
  double seconds = 0;        // the whole epoch: batches, QAT re-calibration, validation pass
  double train_seconds = 0;  // the batches alone (forward, backward, optimiser step, masks)
};

// Called after every optimiser step (batch b of `batches`) and at each epoch's end
// (b == batches, with the epoch's stats).
using ProgressFn =
    std::function<void(int epoch, int64_t b, int64_t batches, double loss, const EpochStats*)>;

struct TrainResult {
  Graph graph;  // the trained float graph (masked weights exactly zero)
  std::vector<EpochStats> epochs;
  int best_epoch = 0;       // 0: the starting weights were best (kept)
  std::string metric;       // "top1", "sndr_db" (against targets) or "agreement"/"sndr_db"
  std::string loss;         // the loss used: ce | mse | kl
  std::string against;      // "labels" or "teacher"
  double start_metric = 0;  // validation metric of the starting weights
  double best_metric = 0;
  int64_t train_samples = 0, val_samples = 0;
  double seconds = 0;        // wall time of the whole run, metric passes included
  double train_seconds = 0;  // sum of the epochs' train_seconds: what a bare training loop costs
  Graph snapshot;            // the weights after TrainOptions::snapshot_epoch (else empty)
  bool has_snapshot = false;
  nlohmann::json report() const;
};

// Fine-tunes `model` with every weight element whose mask is 0 held at exactly 0 (and every
// weight without a mask entry free). masks are keyed by initializer name in its layout; a mask of
// the wrong size is an InputError naming the initializer. Returns the trained graph. InputError
// for labels that do not fit, a diverging run (NaN/Inf loss: names the epoch, suggests a smaller
// lr) or bad options; Interrupted when interrupted() became true.
TrainResult finetune(const Graph& model, const MaskMap& masks, const TrainData& data,
                     const TrainOptions& opt, const ProgressFn& progress = nullptr);

// The mask every trainable weight of g implies by its zeros (1 = non-zero).
MaskMap zero_masks(const Graph& g);
// The names of g's initializers the engine trains (weights and biases of Conv, ConvTranspose,
// Gemm, MatMul, the constant operand of Add/Sub, BatchNormalization's scale and bias).
std::vector<std::string> trainable_initializers(const Graph& g);

// ---- Polarization (consensus sub-network) -----------------------------------------------------

struct PolarizeOptions {
  TrainOptions train;
  double sparsity = 0.5;               // target fraction of gated weights (or channels) removed
  std::string granularity = "weight";  // weight | channel
  double lambda = 1e-4;                // strength of the polarization regulariser
  double t = 1.2;                      // polarization: R(g) = sum( t|g| - |g - mean(g)| ), t > 1
};

struct PolarizeResult {
  Graph graph;                  // the static sub-network (removed weights exactly 0), trained
  MaskMap masks;                // 1 = kept
  double reached_sparsity = 0;  // over the gated weights
  nlohmann::json report;        // per layer: gates kept/total, threshold, gap statistics
  TrainResult train;
};

// Trains gates g in [0, 1] (one per weight or per output channel of the selected layers) jointly
// with the weights, the task loss plus lambda * R(g) pushed to the target sparsity, then
// thresholds them to a static mask and exports the sub-network (gates folded into nothing: the
// kept weights carry their trained values).
PolarizeResult polarize(const Graph& model, const std::vector<std::string>& layers,
                        const TrainData& data, const PolarizeOptions& opt,
                        const ProgressFn& progress = nullptr);

// ---- Interruption ----------------------------------------------------------------------------

// Thrown when SIGINT/SIGTERM arrived during training (after install_interrupt_handler()).
using Interrupted = prunesim::Interrupted;  // base/output.h
// SIGINT and SIGTERM set a flag the training loop checks between batches, so an interrupted run
// unwinds and writes nothing (outputs are only written after training returns).
void install_interrupt_handler();
bool interrupted();

}  // namespace prunesim::train
