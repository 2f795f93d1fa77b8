// Geometry of convolution and pooling nodes (ONNX semantics: pads, auto_pad, strides,
// dilations, ceil_mode, output_padding/output_shape), computed once and shared by the shape
// inference, the float and the int8 executors and MAC counting, so they cannot disagree.
// 1-D operators are mapped onto 2-D with H = 1 and a 1-wide kernel in that dimension.
#pragma once

#include <cstdint>
#include <string>

#include "prune/ir.h"

namespace prunesim {

struct ConvGeom {
  bool one_d = false;
  int64_t N = 1, C = 1, H = 1, W = 1;  // input
  int64_t M = 1, OH = 1, OW = 1;       // output channels and spatial size
  int64_t kh = 1, kw = 1, group = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;  // pads: top, left, bottom, right
  Shape out_shape() const;                 // [N, M, OH, OW] or [N, M, OW]
  int64_t macs_per_batch() const;          // for Conv: M*OH*OW*(C/group)*kh*kw
};

// Conv: x [N,C,(H,)W], w [M, C/group, (kh,) kw]. Throws InputError naming the node.
ConvGeom conv_geometry(const Graph& g, const Node& n, const Shape& x, const Shape& w);
// ConvTranspose: x [N,C,(H,)W], w [C, M/group, (kh,) kw]; OH/OW from pads/output_padding or
// output_shape. For ConvTranspose, "pads" are the ones cropped from the full output.
ConvGeom convtranspose_geometry(const Graph& g, const Node& n, const Shape& x, const Shape& w);

struct PoolGeom {
  bool one_d = false;
  int64_t N = 1, C = 1, H = 1, W = 1;
  int64_t OH = 1, OW = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  Shape out_shape() const;
};
// MaxPool / AveragePool.
PoolGeom pool_geometry(const Graph& g, const Node& n, const Shape& x);

// Resize / Upsample, nearest: the source index of output index `o` along one axis of length `in`
// (output length `out`, float scale `scale`), with the node's coordinate transform and nearest
// rounding (Upsample: asymmetric + floor). Shared by the float executor and the training
// engine, so that ties round the same way in both.
int64_t nearest_src(const Node& n, bool upsample, int64_t o, int64_t in, int64_t out, float scale);

// Resize / Upsample, linear: output index `o` reads `(1 - w1) * x[i0] + w1 * x[i1]` along one
// axis. The source coordinate (node's transform; Upsample: asymmetric) is clamped to
// [0, in - 1] and i1 = min(i0 + 1, in - 1), as PyTorch and onnxruntime do.
struct LinearTap {
  int64_t i0 = 0, i1 = 0;
  double w1 = 0.0;
};
LinearTap linear_src(const Node& n, bool upsample, int64_t o, int64_t in, int64_t out, float scale);

}  // namespace prunesim
