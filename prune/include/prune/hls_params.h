// The hls/ kernels' parameter blocks filled from a node's geometry and its quantized layer:
// one mapping shared by the integer reference executor and the models that call the same
// kernels (FPGA-SoC PL engine), so they cannot disagree on pads, strides or clamps.
#pragma once

#include "hls/conv.h"
#include "hls/pool.h"
#include "prune/op_geometry.h"
#include "prune/quant.h"

namespace prunesim {

hls::ConvParams conv_params(const ConvGeom& c, const QLayer& L);
// Pooling over `channels` planes (the batch folded in by the caller if it wants).
hls::PoolParams pool_params(const PoolGeom& g, int64_t channels);
// Global max pooling of an [N, C, H, W] or [N, C, L] tensor: one window over each plane.
hls::PoolParams global_pool_params(const Shape& s);

}  // namespace prunesim
