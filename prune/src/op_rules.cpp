// The operator-independent rules every node passes before its shape function runs, and every
// inferred shape passes after it (docs/onnx-support.md "Validation rules"). Shape functions and
// kernels may then assume: the inputs the op requires are named, spatial attributes are in range,
// a perm is a permutation, and every value's shape has dimensions >= 1 whose element count fits
// the memory cap. One rule per class of bad input, not one patch per crash.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "base/limits.h"
#include "op_table.h"
#include "prune/errors.h"

namespace prunesim {
namespace {

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

// Spatial sizes beyond 2^31 are no real model's, and keeping them below it keeps the geometry
// arithmetic ((k - 1) * d + 1, s * (H - 1), ...) far from int64 overflow.
constexpr int64_t kMaxSpatialAttr = (int64_t{1} << 31) - 1;

void check_range(const Graph& g, const Node& n, const std::string& a, int64_t lo) {
  if (!n.has(a)) return;
  const Attribute& at = n.attrs.at(a);
  std::vector<int64_t> v = at.kind == Attribute::Kind::INT ? std::vector<int64_t>{at.i} : at.ints;
  for (int64_t x : v)
    if (x < lo || x > kMaxSpatialAttr)
      fail(g.source, where(n),
           "attribute '" + a + "' value " + std::to_string(x) + " is outside [" +
               std::to_string(lo) + ", " + std::to_string(kMaxSpatialAttr) + "]");
}

void check_perm(const Graph& g, const Node& n) {
  if (!n.has("perm")) return;
  const auto p = n.attr_ints("perm");
  std::vector<bool> seen(p.size(), false);
  for (int64_t a : p) {
    if (a < 0 || a >= static_cast<int64_t>(p.size()) || seen[static_cast<size_t>(a)])
      fail(g.source, where(n), "attribute 'perm' " + shape_str(p) + " is not a permutation");
    seen[static_cast<size_t>(a)] = true;
  }
}

}  // namespace

void check_node_rules(const Graph& g, const Node& n, const OpDef& d) {
  if (n.outputs.empty() || n.outputs[0].empty())
    fail(g.source, where(n), "has no output (every node must name its first output)");
  for (size_t k = 0; k < n.inputs.size() && k < static_cast<size_t>(d.min_inputs); ++k)
    if (n.inputs[k].empty())
      fail(g.source, where(n),
           "required input " + std::to_string(k) + " has an empty name (the op requires " +
               std::to_string(d.min_inputs) + ")");
  for (const char* a : {"strides", "dilations", "kernel_shape", "group"}) check_range(g, n, a, 1);
  for (const char* a : {"output_padding", "output_shape"}) check_range(g, n, a, 0);
  // Pad's 'pads' may be negative (a crop); a Conv's or a pool's may not.
  check_range(g, n, "pads", n.op == "Pad" ? -kMaxSpatialAttr : 0);
  check_perm(g, n);
}

void check_value_shape(const Graph& g, const std::string& place, const Shape& s) {
  // Empty tensors are legal ONNX, but no model we run has one and every kernel divides by
  // extents: refused as unsupported (the conformance walk skips them). Negative is broken.
  for (int64_t d : s) {
    if (d < 0)
      fail(g.source, place,
           "shape " + shape_str(s) + " has a negative dimension (" + std::to_string(d) + ")");
    if (d == 0)
      unsupported(g.source, place,
                  "shape " + shape_str(s) +
                      " has a zero-size dimension (empty tensors are not "
                      "supported)");
  }
  check_shape_alloc(g.source, place, s, sizeof(float));
}

std::vector<Shape> infer_checked(const Graph& g, const Node& n, const OpDef& d,
                                 const std::vector<Shape>& in) {
  std::vector<Shape> out = d.infer(g, n, in);
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    if (n.outputs[k].empty()) continue;
    if (k >= out.size() && in.empty())
      fail(g.source, where(n), "output " + std::to_string(k) + " has no inferable shape");
    const Shape& s = k < out.size() ? out[k] : in[0];
    check_value_shape(g, where(n) + " output '" + n.outputs[k] + "'", s);
  }
  return out;
}

int64_t float_to_i64(const Graph& g, const Node& n, double v) {
  // 2^62: far beyond any shape, index or count, and exactly representable as a double.
  constexpr double kLimit = 4611686018427387904.0;
  if (!std::isfinite(v) || v < -kLimit || v > kLimit) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    fail(g.source, where(n), std::string("value ") + buf + " does not fit an integer size");
  }
  return static_cast<int64_t>(v);
}

}  // namespace prunesim
