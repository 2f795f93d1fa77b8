// Element-wise int8 kernels: Add/Sub of two tensors with different scales, Mul, reductions, rescale
// to another scale (Concat inputs), ReLU/Clip, 256-entry table ops (Sigmoid, Tanh, ...) and
// Softmax. Scalar functions plus flat-buffer loops; broadcasting is the caller's index arithmetic.
#pragma once

#include <cstdint>

#include "hls/arith.h"

namespace prunesim {
namespace hls {

// Add: each operand is moved onto a common grid of step s_c = max(s_a, s_b) * 2^-kAddGridBits
// (a -> round(a * s_a / s_c), at most 2^kAddGridBits * 128 in magnitude), the int32 sum is
// then requantized by s_c / s_out. The grid is 2^16 times finer than the coarser input, so the
// first rounding costs at most 2^-17 of an input step; the sum stays below 2^24.
constexpr int kAddGridBits = 16;

struct AddParams {
  Requant a, b;  // s_a / s_c, s_b / s_c (<= 2^16)
  Requant out;   // s_c / s_out
  int8_t act_min = kInt8Min, act_max = kInt8Max;
};

inline int8_t add8(int8_t a, int8_t b, const AddParams& p) {
  const int32_t sum = add_wrap32(rescale32(a, p.a), rescale32(b, p.b));
  return requantize_clamp(sum, p.out, p.act_min, p.act_max);
}

inline void add8(int32_t n, const int8_t* a, const int8_t* b, const AddParams& p, int8_t* y) {
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    y[k] = add8(a[k], b[k], p);
  }
}

// Sub: Add's common grid with the second operand subtracted; |a_c - b_c| <= 2^24 as for Add.
inline int8_t sub8(int8_t a, int8_t b, const AddParams& p) {
  const int32_t diff = add_wrap32(rescale32(a, p.a), -rescale32(b, p.b));
  return requantize_clamp(diff, p.out, p.act_min, p.act_max);
}

// Mul: the exact int32 product (|a * b| <= 2^14) requantized by s_a * s_b / s_out.
inline int8_t mul8(int8_t a, int8_t b, const Requant& r, int8_t lo, int8_t hi) {
  return requantize_clamp(static_cast<int32_t>(a) * static_cast<int32_t>(b), r, lo, hi);
}

// ReduceSum/ReduceMean over n codes gathered contiguously: int32 sum (n * 128 < 2^31 is checked
// by the quantizer), requantized by s_in / s_out (Sum) or s_in / (s_out * n) (Mean).
inline int8_t reduce_sum8(int32_t n, const int8_t* x, const Requant& r, int8_t lo, int8_t hi) {
  int32_t acc = 0;
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    acc = add_wrap32(acc, x[k]);
  }
  return requantize_clamp(acc, r, lo, hi);
}

// ReduceMax: the largest code (quantization is monotonic); n = 0 gives -128.
inline int8_t reduce_max8(int32_t n, const int8_t* x) {
  int8_t m = kInt8Min;
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    if (x[k] > m) m = x[k];
  }
  return m;
}

// Linear Resize: the n (2 or 4) neighbouring codes weighted by integer weights that sum to
// 2^shift (per-axis weights of kLerpBits bits, multiplied for two axes), rounded half away from
// zero back to the input scale: |acc| <= 128 * 2^20, no saturation can occur but sat8 keeps the
// kernel total.
constexpr int kLerpBits = 10;
inline int8_t lerp8(int32_t n, const int8_t* x, const int32_t* w, int shift) {
  int32_t acc = 0;
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    acc = add_wrap32(acc, static_cast<int32_t>(x[k]) * w[k]);
  }
  return sat8(round_shift(acc, shift));
}

// Moves int8 codes of scale s_in to scale s_out: requantize(x, s_in / s_out).
inline int8_t rescale8(int8_t x, const Requant& r) {
  return requantize(int32_t{x}, r);
}

inline void rescale8(int32_t n, const int8_t* x, const Requant& r, int8_t* y) {
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    y[k] = rescale8(x[k], r);
  }
}

inline void clamp8(int32_t n, const int8_t* x, int8_t lo, int8_t hi, int8_t* y) {
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    y[k] = clamp8(x[k], lo, hi);
  }
}

inline void lut_apply(int32_t n, const int8_t* lut, const int8_t* x, int8_t* y) {
  PRUNESIM_HLS_LUT_COMPLETE
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    y[k] = lut_apply(lut, x[k]);
  }
}

// Softmax over `len` codes spaced `stride` apart, output scale fixed at 1/127 (outputs lie in
// [0, 1]). With d = max - x (0..255 codes), exp_lut[d] = round(2^16 * exp(-d * s_in)) so the
// largest element contributes exactly 2^16 and sum >= 2^16; sum < 2^31 needs len <= 32767.
// y = round_half_up(127 * e / sum) = floor((254 e + sum) / (2 sum)) <= 127: one integer divide
// per output (or a reciprocal of sum per row in hardware).
constexpr int kSoftmaxExpBits = 16;
constexpr int32_t kSoftmaxMaxLen = 32767;

inline void softmax8(int32_t len, int32_t stride, const int8_t* x, const int32_t* exp_lut,
                     int8_t* y) {
  int8_t mx = kInt8Min;
  for (int32_t k = 0; k < len; ++k) {
    PRUNESIM_HLS_PIPELINE
    if (x[k * stride] > mx) mx = x[k * stride];
  }
  int32_t sum = 0;
  for (int32_t k = 0; k < len; ++k) {
    PRUNESIM_HLS_PIPELINE
    sum = add_wrap32(sum, exp_lut[static_cast<int32_t>(mx) - x[k * stride]]);
  }
  const int64_t den = 2 * static_cast<int64_t>(sum);
  for (int32_t k = 0; k < len; ++k) {
    PRUNESIM_HLS_PIPELINE
    const int64_t e = exp_lut[static_cast<int32_t>(mx) - x[k * stride]];
    y[k * stride] = static_cast<int8_t>((254 * e + sum) / den);
  }
}

// MatMul of two activations for one batch entry: y[m, n] = requant(sum_k a[m, k] * b[k, n]),
// a [M, K] and b [K, N] row-major int8 codes, the int32 sum exact (K * 2^14 < 2^31 is checked at
// quantization), one requantization s_a * s_b / s_out for the layer.
inline void matmul8(int32_t M, int32_t K, int32_t N, const int8_t* a, const int8_t* b,
                    const Requant& rq, int8_t lo, int8_t hi, int8_t* y) {
  for (int32_t m = 0; m < M; ++m)
    for (int32_t n = 0; n < N; ++n) {
      int32_t acc = 0;
      for (int32_t k = 0; k < K; ++k) {
        PRUNESIM_HLS_PIPELINE
        acc = mac(acc, a[m * K + k], b[k * N + n]);
      }
      y[m * N + n] = requantize_clamp(acc, rq, lo, hi);
    }
}

// LayerNorm over one row of n codes x (quantization.md §11d). With S = sum x, Q = sum x^2 and
// V = n Q - S^2 (= n^2 times the codes' variance, exact in int64), the normalised value of x_i
// is (n x_i - S) / sqrt(V + E), E = round(n^2 eps / s_in^2) (eps on the code grid). The
// square root is the integer floor sqrt of (V + E) * 2^16 (8 fractional bits), the quotient
// z_i = round((n x_i - S) * 2^(kNormBits + 8) / t) holds x-hat with kNormBits fractional bits,
// and acc_i = z_i * w_i + bias_i (gamma's int8 code, beta on the same grid) is requantized per
// element by rq[i] = s_w[i] / (2^kNormBits s_out). Callers bound n <= 2^14 and V + E <= 2^46,
// so every intermediate fits int64 and the accumulator int32 (checked at quantization).
constexpr int kNormBits = 12;

inline uint64_t isqrt64(uint64_t v) {  // floor(sqrt(v)), bit by bit
  uint64_t r = 0, bit = uint64_t{1} << 62;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

inline void layernorm8(int32_t n, const int8_t* x, const int8_t* w, const int32_t* bias,
                       const Requant* rq, int64_t eps_codes, int8_t lo, int8_t hi, int8_t* y) {
  int64_t S = 0, Q = 0;
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    S += x[k];
    Q += static_cast<int64_t>(x[k]) * x[k];
  }
  const int64_t V = static_cast<int64_t>(n) * Q - S * S;
  int64_t t = static_cast<int64_t>(isqrt64(static_cast<uint64_t>(V + eps_codes) << 16));
  if (t == 0) t = 1;  // every code equal and eps 0: x - mean is 0 anyway
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_PIPELINE
    const int64_t num = (static_cast<int64_t>(n) * x[k] - S) * (int64_t{1} << (kNormBits + 8));
    // Rounded to nearest, ties away from zero.
    const int64_t z = num >= 0 ? (num + t / 2) / t : -((-num + t / 2) / t);
    const int64_t acc = z * w[k] + bias[k];
    y[k] = requantize_clamp(sat32(acc), rq[k], lo, hi);
  }
}

}  // namespace hls
}  // namespace prunesim
