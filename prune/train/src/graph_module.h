// Internal to prune/train: the IR translated into a differentiable libtorch program. Every op the
// importer accepts (prune/src/op_table.h) has a torch translation with the float executor's exact
// semantics (pads, ceil_mode, count_include_pad, Resize coordinate modes, Softmax coercion, ...),
// so any model `infer` runs can be trained. Trainable initializers are torch parameters; the rest
// are constant tensors. Hooks let the trainer fake-quantize (QAT) or gate weights (polarization)
// without the translator knowing about either.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim::train {

class GraphModule {
 public:
  // Builds the program for g (shapes inferred, BatchNorm folded as at import). `trainable` names
  // the initializers that become parameters (requires_grad); empty = trainable_initializers(g).
  // Empty names are skipped, so {""} makes a module with no parameters (a frozen teacher).
  explicit GraphModule(const Graph& g, std::vector<std::string> trainable = {});

  // x: [N, ...] float32, N any >= 1 even when the graph was declared with batch 1 (the batch
  // dimension of every value and of constant Reshape targets follows x). Returns the single
  // graph output (a model with several outputs: the first).
  torch::Tensor forward(const torch::Tensor& x) const;

  // Called on every activation value as it is produced (the graph input included), with its
  // graph value name; the returned tensor replaces it downstream. QAT fake-quantizes here.
  std::function<torch::Tensor(const std::string& value, const torch::Tensor&)> act_hook;
  // Called on every parameter or constant initializer as a node reads it (name = initializer);
  // the returned tensor is what the node uses. QAT and polarization gates act here. Inputs read
  // as numbers rather than data (Reshape shape, Resize roi/scales/sizes, Clip bounds) are not
  // passed through it.
  std::function<torch::Tensor(const std::string& init, const torch::Tensor&)> weight_hook;

  // Parameters by initializer name (the tensors the optimiser updates, in place).
  std::map<std::string, torch::Tensor>& params() { return params_; }
  const std::map<std::string, torch::Tensor>& params() const { return params_; }
  std::vector<torch::Tensor> param_list() const;

  // A copy of the graph with every parameter's current value written into its initializer.
  Graph to_graph() const;
  const Graph& graph() const { return g_; }

 private:
  Graph g_;
  std::map<std::string, torch::Tensor> params_;           // requires_grad
  std::map<std::string, torch::Tensor> consts_;           // float initializers not trained
  torch::Tensor value_of(const std::string& init) const;  // param or const, through weight_hook
  struct Plan;                        // the lowered program, built once (graph_module.cpp)
  std::shared_ptr<const Plan> plan_;  // immutable: copies of the module may share it
  friend struct OpLowering;
};

// Graph IR Tensor <-> torch tensor (float32, contiguous, CPU).
torch::Tensor to_torch(const Tensor& t);
Tensor from_torch(const torch::Tensor& t);

}  // namespace prunesim::train
