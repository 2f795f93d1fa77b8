// Graph checks and rewrites: the supported-op table, shape inference, BatchNorm folding and
// per-layer parameter/MAC accounting.
#pragma once

#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim {

// Throws InputError "<source>: node '<name>' (<op>): <what>" for an op or attribute value we do
// not implement.
void check_supported(const Graph& g);
// Evaluates at import every node whose inputs are all constants, and Shape of any value (shapes
// are fixed, the batch at 1): PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains,
// ConstantOfShape, Range, Cast, integer Add/Sub/Mul/Div become initializers. Fills g.shapes as
// it goes. A fold-only op (Shape arithmetic) whose inputs are not constant is an
// UnsupportedError naming the node. Returns the number of folded nodes.
int fold_constants(Graph& g);
// Inputs that shapes depend on (Reshape shape, Slice starts, Pad pads, ...) must be constants
// once folding is done: UnsupportedError naming the node otherwise.
void check_const_inputs(const Graph& g);
// Fuses PyTorch's opset-13 decompositions of transformer ops into one node each (needs
// g.shapes): LayerNorm (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div[, Mul gamma,
// Add beta] over trailing axes) into LayerNormalization, and GELU (Div sqrt 2 or Mul 1/sqrt 2,
// Erf, Add 1, Mul x, Mul 0.5 in either order) into Gelu. Returns the number of fusions.
int fuse_transformer_ops(Graph& g);
// Rewrites every Split into one Slice per output (needs g.shapes). Returns the Splits rewritten.
int split_to_slices(Graph& g);
// Fills g.shapes for every value; symbolic batch dimensions become 1.
void infer_shapes(Graph& g);
// Folds BatchNormalization into a preceding Conv/ConvTranspose/Gemm whose output feeds only it.
// Returns the number of folded nodes.
int fold_batchnorm(Graph& g);
// Removes Identity/Dropout, turns Constant nodes into initializers, evaluates Shape-free
// constant subgraphs that only feed shape inputs. Returns the number of removed nodes.
int simplify(Graph& g);

struct LayerStats {
  std::string name, op;
  Shape in_shape, out_shape;
  int64_t params = 0;  // weights + biases held by the node (BN parameters after folding: none)
  int64_t macs = 0;    // multiply-accumulates for one inference at batch 1
};
std::vector<LayerStats> layer_stats(const Graph& g);

}  // namespace prunesim
