// Internal: run_float's walk over the nodes of one batch, with a hook through which the fast
// float executor takes over the MAC nodes; without a hook it is exactly run_float's own loop.
#pragma once

#include <functional>
#include <vector>

#include "prune/executor.h"

namespace prunesim {

// Returns true when it computed `out` for node `k` itself.
using NodeHook = std::function<bool(size_t k, const Node& n, const std::vector<const Tensor*>& in,
                                    std::vector<Tensor>& out)>;

// Runs the graph once on tensors whose shapes match the declared ones (batch included).
TensorMap run_graph_once(const Graph& g, const TensorMap& inputs, const Observer& obs,
                         const NodeHook& hook);

// Sample b of a batch [N, ...], as a batch of one.
Tensor batch_slice(const Tensor& t, int64_t b);

}  // namespace prunesim
