// Integer conv, transposed conv and fully-connected kernels: int8 x int8 accumulated in int32
// from the bias, requantized per output channel and clamped (fused ReLU/Clip). No allocation or
// exceptions: callers pass flat C-order buffers whose sizes the parameter structs describe.
#pragma once

#include <cstdint>

#include "hls/arith.h"

namespace prunesim {
namespace hls {

// A 2-D convolution over one image. 1-D is the same with in_h = out_h = k_h = 1, stride_h =
// dil_h = 1, pad_top = 0 (see conv1d_params). Padding is implicit zeros, which is exact because
// activations have zero point 0.
struct ConvParams {
  int32_t in_c = 1, in_h = 1, in_w = 1;
  int32_t out_c = 1, out_h = 1, out_w = 1;
  int32_t k_h = 1, k_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dil_h = 1, dil_w = 1;
  int32_t pad_top = 0, pad_left = 0;  // bottom/right padding only shows in out_h/out_w
  int32_t groups = 1;
  int8_t act_min = kInt8Min, act_max = kInt8Max;  // fused activation clamp
};

// Accumulator of one output of a convolution: bias[oc] + sum over the group's input channels
// and the kernel window of x * w.
// x: [in_c][in_h][in_w]; w: [out_c][in_c/groups][k_h][k_w]; bias: [out_c].
inline int32_t conv2d_acc(const ConvParams& p, const int8_t* x, const int8_t* w,
                          const int32_t* bias, int32_t oc, int32_t oh, int32_t ow) {
  const int32_t icg = p.in_c / p.groups;
  const int32_t ocg = p.out_c / p.groups;
  const int32_t g = oc / ocg;
  int32_t acc = bias ? bias[oc] : 0;
  for (int32_t c = 0; c < icg; ++c) {
    const int32_t ic = g * icg + c;
    for (int32_t kh = 0; kh < p.k_h; ++kh) {
      const int32_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
      if (ih < 0 || ih >= p.in_h) continue;
      for (int32_t kw = 0; kw < p.k_w; ++kw) {
        PRUNESIM_HLS_PIPELINE
        const int32_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
        if (iw < 0 || iw >= p.in_w) continue;
        acc = mac(acc, x[(ic * p.in_h + ih) * p.in_w + iw],
                  w[((oc * icg + c) * p.k_h + kh) * p.k_w + kw]);
      }
    }
  }
  return acc;
}

// Dense, grouped and depthwise (groups == in_c) convolution; rq holds one requantization per
// output channel. y: [out_c][out_h][out_w].
inline void conv2d(const ConvParams& p, const int8_t* x, const int8_t* w, const int32_t* bias,
                   const Requant* rq, int8_t* y) {
  for (int32_t oc = 0; oc < p.out_c; ++oc) {
    for (int32_t oh = 0; oh < p.out_h; ++oh) {
      for (int32_t ow = 0; ow < p.out_w; ++ow) {
        const int32_t acc = conv2d_acc(p, x, w, bias, oc, oh, ow);
        y[(oc * p.out_h + oh) * p.out_w + ow] = requantize_clamp(acc, rq[oc], p.act_min, p.act_max);
      }
    }
  }
}

inline ConvParams conv1d_params(int32_t in_c, int32_t in_w, int32_t out_c, int32_t out_w,
                                int32_t k_w, int32_t stride, int32_t dil, int32_t pad_left,
                                int32_t groups) {
  ConvParams p;
  p.in_c = in_c;
  p.in_w = in_w;
  p.out_c = out_c;
  p.out_w = out_w;
  p.k_w = k_w;
  p.stride_w = stride;
  p.dil_w = dil;
  p.pad_left = pad_left;
  p.groups = groups;
  return p;
}

// Transposed convolution in gather form: each output is accumulated once from every
// (input, tap) pair that scatters onto it, i.e. oh = ih*stride_h - pad_top + kh*dil_h. Gathering
// keeps one accumulator per output (no partial-sum write-back) and gives the same sum as the
// scatter definition because integer addition is exact and order-free.
// x: [in_c][in_h][in_w]; w: [in_c][out_c/groups][k_h][k_w] (ONNX layout); y: [out_c][out_h][out_w].
// out_h/out_w already include output_padding and the end pads.
inline int32_t conv_transpose2d_acc(const ConvParams& p, const int8_t* x, const int8_t* w,
                                    const int32_t* bias, int32_t oc, int32_t oh, int32_t ow) {
  const int32_t icg = p.in_c / p.groups;
  const int32_t ocg = p.out_c / p.groups;
  const int32_t g = oc / ocg;
  const int32_t m = oc % ocg;
  int32_t acc = bias ? bias[oc] : 0;
  for (int32_t c = 0; c < icg; ++c) {
    const int32_t ic = g * icg + c;
    for (int32_t kh = 0; kh < p.k_h; ++kh) {
      const int32_t th = oh + p.pad_top - kh * p.dil_h;
      if (th < 0 || th % p.stride_h != 0) continue;
      const int32_t ih = th / p.stride_h;
      if (ih >= p.in_h) continue;
      for (int32_t kw = 0; kw < p.k_w; ++kw) {
        PRUNESIM_HLS_PIPELINE
        const int32_t tw = ow + p.pad_left - kw * p.dil_w;
        if (tw < 0 || tw % p.stride_w != 0) continue;
        const int32_t iw = tw / p.stride_w;
        if (iw >= p.in_w) continue;
        acc = mac(acc, x[(ic * p.in_h + ih) * p.in_w + iw],
                  w[((ic * ocg + m) * p.k_h + kh) * p.k_w + kw]);
      }
    }
  }
  return acc;
}

inline void conv_transpose2d(const ConvParams& p, const int8_t* x, const int8_t* w,
                             const int32_t* bias, const Requant* rq, int8_t* y) {
  for (int32_t oc = 0; oc < p.out_c; ++oc) {
    for (int32_t oh = 0; oh < p.out_h; ++oh) {
      for (int32_t ow = 0; ow < p.out_w; ++ow) {
        const int32_t acc = conv_transpose2d_acc(p, x, w, bias, oc, oh, ow);
        y[(oc * p.out_h + oh) * p.out_w + ow] = requantize_clamp(acc, rq[oc], p.act_min, p.act_max);
      }
    }
  }
}

// Fully connected: y[r][n] = requant(bias[n] + sum_k x[r][k] * w[n][k]). Weights are stored
// output-major ([N][K]) whatever the model's transB, so one output's weights are contiguous.
inline int32_t gemm_acc(int32_t k_dim, const int8_t* x_row, const int8_t* w, const int32_t* bias,
                        int32_t n) {
  int32_t acc = bias ? bias[n] : 0;
  for (int32_t k = 0; k < k_dim; ++k) {
    PRUNESIM_HLS_PIPELINE
    acc = mac(acc, x_row[k], w[n * k_dim + k]);
  }
  return acc;
}

inline void gemm(int32_t rows, int32_t k_dim, int32_t n_dim, const int8_t* x, const int8_t* w,
                 const int32_t* bias, const Requant* rq, int8_t act_min, int8_t act_max,
                 int8_t* y) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t n = 0; n < n_dim; ++n) {
      const int32_t acc = gemm_acc(k_dim, x + r * k_dim, w, bias, n);
      y[r * n_dim + n] = requantize_clamp(acc, rq[n], act_min, act_max);
    }
  }
}

}  // namespace hls
}  // namespace prunesim
