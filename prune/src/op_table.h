// Internal: the table of supported ops. Each entry knows its allowed attributes, checks attribute
// values, infers output shapes and runs in float32. Shape inference, the supported-op check and
// the float executor all read this one table, so "loads" implies "runs".
#pragma once

#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim {

struct OpDef {
  std::vector<std::string> attrs;  // attributes accepted (values checked by `check`)
  int min_inputs = 1;
  int max_inputs = 1;
  int max_outputs = 1;
  // Inputs (by position) that must be initializers because shapes depend on their values.
  std::vector<int> const_inputs;
  void (*check)(const Graph& g, const Node& n) = nullptr;
  std::vector<Shape> (*infer)(const Graph& g, const Node& n,
                              const std::vector<Shape>& in) = nullptr;
  void (*run)(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) = nullptr;
};

const OpDef* find_op(const std::string& op);
std::vector<std::string> supported_ops();

// Input k's value as int64s (for Reshape shapes, Resize sizes …) from an initializer.
std::vector<int64_t> const_ints(const Graph& g, const Node& n, size_t k);
std::vector<float> const_floats(const Graph& g, const Node& n, size_t k);

// Resize / Upsample: the output shape and the per-axis float scales (sizes win over scales from
// opset 11; a sizes-driven scale is out/in). InputError naming the node on a bad length or scale.
struct ResizePlan {
  Shape out;
  std::vector<float> scales;
};
ResizePlan resize_plan(const Graph& g, const Node& n, const Shape& x);

}  // namespace prunesim
