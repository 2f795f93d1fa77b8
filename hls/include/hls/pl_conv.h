// Streaming PL versions of the U-Net's layers, written the way an HLS tool wants them: a KxK
// convolution over a line buffer of K input rows (each input row read from memory once), a 1x1
// convolution per pixel, a 2x2 max-pool with one row of running maxima, a 2x2 stride-2 transposed
// convolution and a nearest upsample. Bit-exact with conv2d / conv_transpose2d / max_pool2d and
// the Resize codes move of the int8 executor (tests/hls/test_hls_pl.cpp); the FPGA-SoC model
// calls these for its DPU datapath.
#pragma once

#include <cstdint>

#include "hls/arith.h"
#include "hls/conv.h"

#if defined(__SYNTHESIS__)
#define PRUNESIM_HLS_PL_PIPELINE _Pragma("HLS PIPELINE II=1")
#define PRUNESIM_HLS_PL_UNROLL _Pragma("HLS UNROLL")
#define PRUNESIM_HLS_PL_LB_PARTITION _Pragma("HLS ARRAY_PARTITION variable=lb.rows dim=1 complete")
#else
#define PRUNESIM_HLS_PL_PIPELINE
#define PRUNESIM_HLS_PL_UNROLL
#define PRUNESIM_HLS_PL_LB_PARTITION
#endif

namespace prunesim {
namespace hls {

// K input rows of up to MAX_C channels x MAX_W pixels; input row ih lives in slot ih % K. The
// K slots are separate memories (partitioned) so the K taps of a column are read in one cycle.
template <int K, int MAX_C, int MAX_W>
struct LineBuffer {
  int8_t rows[K][MAX_C][MAX_W];
};

// What conv_lb supports: the PL conv engine is stride 1, dilation 1, one group, square kernels
// up to K, channels and widths within the line buffer. Everything else goes to conv2d.
template <int K, int MAX_C, int MAX_W>
inline bool conv_lb_supports(const ConvParams& p) {
  return p.k_h == p.k_w && p.k_h <= K && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 &&
         p.dil_w == 1 && p.groups == 1 && p.in_c <= MAX_C && p.in_w <= MAX_W;
}

// KxK convolution, stride 1, zero padding: output rows in order; before output row oh the input
// rows up to oh - pad_top + k_h - 1 are streamed into the line buffer. x [in_c][in_h][in_w],
// w [out_c][in_c][k][k], y [out_c][out_h][out_w] (C order, as conv2d). Returns the number of
// input rows read (each exactly once), which the timing model charges as DDR traffic.
template <int K, int MAX_C, int MAX_W>
inline int32_t conv_lb(const ConvParams& p, const int8_t* x, const int8_t* w, const int32_t* bias,
                       const Requant* rq, int8_t* y, LineBuffer<K, MAX_C, MAX_W>& lb) {
  PRUNESIM_HLS_PL_LB_PARTITION
  const int32_t k = p.k_h;
  int32_t loaded = 0;  // input rows [0, loaded) have entered the buffer
  for (int32_t oh = 0; oh < p.out_h; ++oh) {
    const int32_t need = oh - p.pad_top + k;  // exclusive bound of the rows this output reads
    while (loaded < need && loaded < p.in_h) {
      for (int32_t c = 0; c < p.in_c; ++c)
        for (int32_t iw = 0; iw < p.in_w; ++iw) {
          PRUNESIM_HLS_PL_PIPELINE
          lb.rows[loaded % K][c][iw] = x[(c * p.in_h + loaded) * p.in_w + iw];
        }
      ++loaded;
    }
    for (int32_t ow = 0; ow < p.out_w; ++ow) {
      for (int32_t oc = 0; oc < p.out_c; ++oc) {
        int32_t acc = bias ? bias[oc] : 0;
        for (int32_t c = 0; c < p.in_c; ++c) {
          for (int32_t kh = 0; kh < k; ++kh) {
            const int32_t ih = oh - p.pad_top + kh;
            if (ih < 0 || ih >= p.in_h) continue;  // zero padding rows
            for (int32_t kw = 0; kw < k; ++kw) {
              PRUNESIM_HLS_PL_UNROLL
              const int32_t iw = ow - p.pad_left + kw;
              if (iw < 0 || iw >= p.in_w) continue;
              acc = mac(acc, lb.rows[ih % K][c][iw], w[((oc * p.in_c + c) * k + kh) * k + kw]);
            }
          }
        }
        y[(oc * p.out_h + oh) * p.out_w + ow] = requantize_clamp(acc, rq[oc], p.act_min, p.act_max);
      }
    }
  }
  return loaded;
}

// 1x1 convolution (stride 1, no padding) one pixel at a time: the pixel's in_c codes are held in
// registers and every output channel is computed from them.
template <int MAX_C>
inline void conv1x1(const ConvParams& p, const int8_t* x, const int8_t* w, const int32_t* bias,
                    const Requant* rq, int8_t* y) {
  const int32_t n = p.in_h * p.in_w;
  int8_t px[MAX_C];
  for (int32_t k = 0; k < n; ++k) {
    for (int32_t c = 0; c < p.in_c; ++c) px[c] = x[c * n + k];
    for (int32_t oc = 0; oc < p.out_c; ++oc) {
      PRUNESIM_HLS_PL_PIPELINE
      int32_t acc = bias ? bias[oc] : 0;
      for (int32_t c = 0; c < p.in_c; ++c) acc = mac(acc, px[c], w[oc * p.in_c + c]);
      y[oc * n + k] = requantize_clamp(acc, rq[oc], p.act_min, p.act_max);
    }
  }
}

// 2x2 max-pool, stride 2, no padding, floor mode (a trailing odd row/column is dropped, as
// MaxPool(2, 2) does): one row of running maxima per channel.
template <int MAX_W>
inline void maxpool2x2(int32_t channels, int32_t in_h, int32_t in_w, const int8_t* x, int8_t* y) {
  const int32_t oh_n = in_h / 2, ow_n = in_w / 2;
  int8_t run[MAX_W];
  for (int32_t c = 0; c < channels; ++c) {
    for (int32_t oh = 0; oh < oh_n; ++oh) {
      for (int32_t r = 0; r < 2; ++r) {
        const int8_t* row = x + (c * in_h + 2 * oh + r) * in_w;
        for (int32_t ow = 0; ow < ow_n; ++ow) {
          PRUNESIM_HLS_PL_PIPELINE
          const int8_t a = row[2 * ow], b = row[2 * ow + 1];
          const int8_t m = a > b ? a : b;
          run[ow] = (r == 0 || m > run[ow]) ? m : run[ow];
        }
      }
      for (int32_t ow = 0; ow < ow_n; ++ow) y[(c * oh_n + oh) * ow_n + ow] = run[ow];
    }
  }
}

// Transposed convolution with a 2x2 kernel, stride 2, no padding, one group: every output
// (m, oh, ow) receives exactly one tap, input (oh/2, ow/2) with kernel position (oh%2, ow%2).
// x [in_c][in_h][in_w], w [in_c][out_c][2][2] (ONNX layout), y [out_c][2*in_h][2*in_w].
template <int MAX_C>
inline void upconv2x2(int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, const int8_t* x,
                      const int8_t* w, const int32_t* bias, const Requant* rq, int8_t act_min,
                      int8_t act_max, int8_t* y) {
  const int32_t oh_n = 2 * in_h, ow_n = 2 * in_w, n = in_h * in_w;
  int8_t px[MAX_C];
  for (int32_t k = 0; k < n; ++k) {
    const int32_t ih = k / in_w, iw = k % in_w;
    for (int32_t c = 0; c < in_c; ++c) px[c] = x[c * n + k];
    for (int32_t m = 0; m < out_c; ++m) {
      for (int32_t t = 0; t < 4; ++t) {
        PRUNESIM_HLS_PL_PIPELINE
        const int32_t kh = t / 2, kw = t % 2;
        int32_t acc = bias ? bias[m] : 0;
        for (int32_t c = 0; c < in_c; ++c)
          acc = mac(acc, px[c], w[((c * out_c + m) * 2 + kh) * 2 + kw]);
        y[(m * oh_n + 2 * ih + kh) * ow_n + 2 * iw + kw] =
            requantize_clamp(acc, rq[m], act_min, act_max);
      }
    }
  }
}

// Nearest upsample by integer factors: y[c][oh][ow] = x[c][oh / fh][ow / fw] (ONNX Resize
// nearest, asymmetric, floor, with integer scales).
inline void upsample_nearest(int32_t channels, int32_t in_h, int32_t in_w, int32_t fh, int32_t fw,
                             const int8_t* x, int8_t* y) {
  const int32_t oh_n = in_h * fh, ow_n = in_w * fw;
  for (int32_t c = 0; c < channels; ++c)
    for (int32_t oh = 0; oh < oh_n; ++oh)
      for (int32_t ow = 0; ow < ow_n; ++ow) {
        PRUNESIM_HLS_PL_PIPELINE
        y[(c * oh_n + oh) * ow_n + ow] = x[(c * in_h + oh / fh) * in_w + ow / fw];
      }
}

}  // namespace hls
}  // namespace prunesim
