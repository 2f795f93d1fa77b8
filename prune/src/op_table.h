// Internal: the table of supported ops. Each entry knows its allowed attributes, checks attribute
// values, infers output shapes and runs in float32. Shape inference, the supported-op check and
// the float executor all read this one table, so "loads" implies "runs".
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "prune/ir.h"
#include "prune/op_geometry.h"

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
  // Shape arithmetic (Shape, ConstantOfShape, Range, Cast to an integer type): evaluated at
  // import by fold_constants() and never run; a node left unfolded is an UnsupportedError.
  bool fold_only = false;
};

const OpDef* find_op(const std::string& op);

// GELU, erf form, as PyTorch computes it: the float op and the int8 table (quant.cpp) both
// evaluate this one expression.
inline float gelu_erf(float v) {
  return v * 0.5f * (1.f + std::erf(v * 0.70710678118654752f));
}

// The rules every node passes before its shape function runs (op_rules.cpp): a named first
// output, named required inputs, spatial attributes in range, a perm that is a permutation.
void check_node_rules(const Graph& g, const Node& n, const OpDef& d);
// d.infer, then every output shape checked: dimensions >= 1, element count within the memory
// cap (base/limits.h). `place` of check_value_shape names the value in errors.
std::vector<Shape> infer_checked(const Graph& g, const Node& n, const OpDef& d,
                                 const std::vector<Shape>& in);
void check_value_shape(const Graph& g, const std::string& place, const Shape& s);
// A float from a constant as an int64 (a shape, index or count): non-finite or beyond 2^62 is
// an InputError naming the node, never an undefined conversion.
int64_t float_to_i64(const Graph& g, const Node& n, double v);
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

// Linear Resize: the axes that are really interpolated (an axis whose every output reads
// exactly its own input index is left out, e.g. N and C) with the taps of each output index.
struct LinearAxis {
  size_t axis = 0;
  std::vector<LinearTap> taps;  // one per output index along the axis
};
std::vector<LinearAxis> resize_linear_axes(const Graph& g, const Node& n, const Shape& x);

// Pad: per-axis begin/end pads (negative: a crop), the mode and the constant fill, from the
// attributes (opset < 11) or the constant inputs (from 11). Shared by the float op, the int8
// program (which moves codes with it) and the training engine.
struct PadPlan {
  std::vector<int64_t> begin, end;
  std::string mode;  // "constant", "reflect" or "edge"
  float value = 0.f;
  Shape out;
};
PadPlan pad_plan(const Graph& g, const Node& n, const Shape& x);
// Source index along one axis of size d for output position o (-1: the constant fill).
int64_t pad_src(const std::string& mode, int64_t o, int64_t begin, int64_t d);

// ReduceMean/ReduceMax/ReduceSum: which axes are reduced (axes attribute, or the input of
// ReduceSum from opset 13; empty = all unless noop_with_empty_axes) and the output shape.
struct ReducePlan {
  std::vector<bool> reduced;  // per input axis
  Shape out;                  // with keepdims applied
  bool noop = false;          // empty axes and noop_with_empty_axes = 1: the identity
};
ReducePlan reduce_plan(const Graph& g, const Node& n, const Shape& x);

// Slice: first element and step along every input axis and the output shape (ONNX clamping
// of starts/ends; attributes before opset 10, constant inputs from 10).
struct SlicePlan {
  std::vector<int64_t> start, step;
  Shape out;
};
SlicePlan slice_plan(const Graph& g, const Node& n, const Shape& x);

// Split: the normalised axis and the length of every output.
std::vector<int64_t> split_lengths(const Graph& g, const Node& n, const Shape& x, int64_t* axis);

// Gather with constant indices: the normalised axis and indices (negative ones wrapped).
std::vector<int64_t> gather_indices(const Graph& g, const Node& n, const Shape& x, int64_t* axis);

}  // namespace prunesim
