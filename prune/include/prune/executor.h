// Float reference executor: runs the IR in float32 in node order. It is the ground truth for
// fidelity metrics and the source of activation ranges for quantization (via the observer).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "prune/ir.h"

namespace prunesim {

using TensorMap = std::map<std::string, Tensor>;

// Called after every node with each output value's name and tensor.
using Observer = std::function<void(const Node&, const std::string& value, const Tensor& t)>;

// Runs the graph. `inputs` must name every graph input with the inferred shape (batch may differ:
// the leading dimension of the first input may be any N ≥ 1 and the graph is run as N batches of
// one when the model was declared with batch 1). Returns the graph outputs.
TensorMap run_float(const Graph& g, const TensorMap& inputs, const Observer& obs = nullptr);

// Convenience for single-input single-output graphs; x may be [N, ...] for batch N.
Tensor run_float(const Graph& g, const Tensor& x, const Observer& obs = nullptr);

// Checks that x fits the graph's single input (rank and every non-batch dimension; the batch
// may be any N >= 1). InputError "<file>: shape [..] does not match input '<name>' [..] of
// <model>".
void check_input_shape(const Graph& g, const Tensor& x, const std::string& file);

// Checks a tensor for NaN/Inf: InputError "<source>: <what>: contains NaN at element k".
void check_finite(const Tensor& t, const std::string& source, const std::string& what);

}  // namespace prunesim
