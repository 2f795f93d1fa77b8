// What the commands that train (finetune, prune --finetune, sweep --finetune) share: the progress
// line, the masks a pruned ONNX or a weight table imposes on a model, and the fine-tuning hook
// the pruning pipeline calls between steps.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "prune/pipeline.h"
#include "prune/tables.h"
#include "train/finetune.h"

namespace prunesim::cli {

// Progress on stderr: on a terminal a bar redrawn in place, otherwise one line per epoch, so logs
// and pipes stay readable. `label` prefixes every line ("finetune", "step 2/4", ...).
train::ProgressFn train_progress(const std::string& label, bool quiet = false);

// The zero pattern of `pruned` (an ONNX of the same architecture as `model`: same weight names
// and shapes) as masks over `model`'s weights. InputError naming the file and the weight when a
// weight is missing or its shape differs.
MaskMap masks_from_onnx(const Graph& model, const std::string& pruned_path);
// The positions a weight table records, as masks over `model`'s weights, and the notes that let
// write_tables re-encode the same structure (balanced geometry, N:M). InputError naming the file
// and the layer when the table does not fit the model.
MaskMap masks_from_tables(const Graph& model, const std::string& tables_path,
                          nlohmann::json* notes);

// The fine-tuning hook of the pruning pipeline (Schedule::finetune_fn): trains the pruned graph
// with its masks held on `data` (labels or, without them, distillation from `dense`) and prints
// one summary line per call on stderr.
struct LoopFinetune {
  train::TrainOptions opt;
  const Tensor* x = nullptr;
  const Tensor* labels = nullptr;
  const Tensor* calib = nullptr;
  const Graph* dense = nullptr;
  bool quiet = false;
  int64_t paser_budget = 0;  // > 0: PASER picks this many of x as the fine-tuning set
  int64_t paser_clusters = 4;
  nlohmann::json log = nlohmann::json::array();  // one entry per call: the training report
  // The first call's weights after opt.snapshot_epoch (the lottery's early-epoch rewind point).
  Graph snapshot;
  bool has_snapshot = false;
  Graph operator()(const Graph& g, const MaskMap& masks, const std::string& label);
};

}  // namespace prunesim::cli
