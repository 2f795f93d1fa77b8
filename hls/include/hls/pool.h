// Integer pooling kernels of the int8 datapath. Max-pool works on the int8 codes directly
// (quantization is monotonic, so the output keeps the input scale); average pool sums in int32
// and requantizes by a per-window-size multiplier, scale_in / (scale_out * count).
#pragma once

#include <cstdint>

#include "hls/arith.h"

namespace prunesim {
namespace hls {

// One image, 2-D (1-D: in_h = out_h = k_h = 1, pads 0 on that axis). Pads are given on both
// sides because count_include_pad counts taps up to the end padding.
struct PoolParams {
  int32_t channels = 1, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int32_t k_h = 1, k_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dil_h = 1, dil_w = 1;
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
  int8_t act_min = kInt8Min, act_max = kInt8Max;  // fused clamp (average pool only)
};

// Taps of a window: real input taps (count_include_pad false) or taps inside the padded input
// (true). A ceil_mode window running past the end padding is cut there in both cases.
inline int32_t pool_window_count(const PoolParams& p, int32_t oh, int32_t ow) {
  int32_t n = 0;
  const int32_t lo_h = p.count_include_pad ? -p.pad_top : 0;
  const int32_t hi_h = p.count_include_pad ? p.in_h + p.pad_bottom : p.in_h;
  const int32_t lo_w = p.count_include_pad ? -p.pad_left : 0;
  const int32_t hi_w = p.count_include_pad ? p.in_w + p.pad_right : p.in_w;
  for (int32_t kh = 0; kh < p.k_h; ++kh) {
    const int32_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
    if (ih < lo_h || ih >= hi_h) continue;
    for (int32_t kw = 0; kw < p.k_w; ++kw) {
      const int32_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
      if (iw >= lo_w && iw < hi_w) ++n;
    }
  }
  return n;
}

// A window with no input tap (only possible with padding at least a kernel wide) gives -128,
// the int8 image of the float executor's lowest value.
inline void max_pool2d(const PoolParams& p, const int8_t* x, int8_t* y) {
  for (int32_t c = 0; c < p.channels; ++c) {
    for (int32_t oh = 0; oh < p.out_h; ++oh) {
      for (int32_t ow = 0; ow < p.out_w; ++ow) {
        int8_t m = kInt8Min;
        for (int32_t kh = 0; kh < p.k_h; ++kh) {
          const int32_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
          if (ih < 0 || ih >= p.in_h) continue;
          for (int32_t kw = 0; kw < p.k_w; ++kw) {
            PRUNESIM_HLS_PIPELINE
            const int32_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
            if (iw < 0 || iw >= p.in_w) continue;
            const int8_t v = x[(c * p.in_h + ih) * p.in_w + iw];
            if (v > m) m = v;
          }
        }
        y[(c * p.out_h + oh) * p.out_w + ow] = m;
      }
    }
  }
}

// by_count[n] is the requantization for a window of n taps, n in [1, k_h*k_w]; padding taps
// add zero to the sum. A window with no tap at all outputs 0.
inline void avg_pool2d(const PoolParams& p, const int8_t* x, const Requant* by_count, int8_t* y) {
  for (int32_t c = 0; c < p.channels; ++c) {
    for (int32_t oh = 0; oh < p.out_h; ++oh) {
      for (int32_t ow = 0; ow < p.out_w; ++ow) {
        int32_t acc = 0;
        for (int32_t kh = 0; kh < p.k_h; ++kh) {
          const int32_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
          if (ih < 0 || ih >= p.in_h) continue;
          for (int32_t kw = 0; kw < p.k_w; ++kw) {
            PRUNESIM_HLS_PIPELINE
            const int32_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
            if (iw < 0 || iw >= p.in_w) continue;
            acc = add_wrap32(acc, x[(c * p.in_h + ih) * p.in_w + iw]);
          }
        }
        const int32_t n = pool_window_count(p, oh, ow);
        y[(c * p.out_h + oh) * p.out_w + ow] =
            n == 0 ? int8_t{0} : requantize_clamp(acc, by_count[n], p.act_min, p.act_max);
      }
    }
  }
}

// Global average pool of `channels` planes of `spatial` values: one requantization,
// scale_in / (scale_out * spatial).
inline void global_avg_pool(int32_t channels, int32_t spatial, const int8_t* x, const Requant& rq,
                            int8_t act_min, int8_t act_max, int8_t* y) {
  for (int32_t c = 0; c < channels; ++c) {
    int32_t acc = 0;
    for (int32_t s = 0; s < spatial; ++s) {
      PRUNESIM_HLS_PIPELINE
      acc = add_wrap32(acc, x[c * spatial + s]);
    }
    y[c] = requantize_clamp(acc, rq, act_min, act_max);
  }
}

}  // namespace hls
}  // namespace prunesim
