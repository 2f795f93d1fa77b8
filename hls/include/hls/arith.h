// Bit-accurate scalar arithmetic of the int8 datapath: int32 MAC, requantization by multiplier
// and right shift (round half away from zero, saturate), clamps, table look-up. The one definition
// the int8 executor, SystemC models and HLS flows all call; docs/quantization.md specifies it.
#pragma once

#include <cmath>
#include <cstdint>

// Real pragmas only when an HLS tool compiles us (Vitis/Catapult define __SYNTHESIS__); a host
// compiler would warn about unknown pragmas. Fixed strings, so a formatter cannot space them.
#if defined(__SYNTHESIS__)
#define PRUNESIM_HLS_PIPELINE _Pragma("HLS PIPELINE II=1")
#define PRUNESIM_HLS_LUT_COMPLETE _Pragma("HLS ARRAY_PARTITION variable=lut complete")
#else
#define PRUNESIM_HLS_PIPELINE
#define PRUNESIM_HLS_LUT_COMPLETE
#endif

namespace prunesim {
namespace hls {

// Arithmetic right shift of negative values is what every target does (and C++20 mandates);
// the rounding below relies on it being floor division by 2^n.
static_assert((-3 >> 1) == -2, "arithmetic right shift required");

constexpr int kMinShift = 1;   // a shift of 0 would leave no bit to round on
constexpr int kMaxShift = 62;  // |acc * multiplier| < 2^62, so larger shifts only give 0 or ±1
constexpr int32_t kMultiplierMin = int32_t{1} << 30;  // normalised multipliers: [2^30, 2^31-1]
constexpr int32_t kInt8Min = -128, kInt8Max = 127;
constexpr int32_t kWeightMax = 127;  // weights are symmetric: -128 is never produced
// Largest |w * a| term: weights in [-127, 127], activations in [-128, 127].
constexpr int64_t kMaxProduct = int64_t{kWeightMax} * 128;
constexpr int64_t kInt32Max = 2147483647;
// Number of products an int32 accumulator can always take without wrapping (bias 0):
// 132104 * 16256 = 2,147,482,624 <= 2^31 - 1.
constexpr int64_t kMaxSafeTerms = kInt32Max / kMaxProduct;

// A requantization step: real factor = multiplier * 2^-shift.
struct Requant {
  int32_t multiplier = kMultiplierMin;  // >= 0; [2^30, 2^31-1] unless the factor was tiny
  int32_t shift = 31;                   // right shift in [kMinShift, kMaxShift]
};

// The accumulator is a 32-bit two's-complement register: addition wraps rather than being
// undefined behaviour. The quantizer proves per layer that wrapping cannot happen
// (sum |w| * 128 + |bias| < 2^31); modelling the wrap keeps overflow visible, not UB.
inline int32_t add_wrap32(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

inline int32_t mac(int32_t acc, int8_t a, int8_t w) {
  return add_wrap32(acc, static_cast<int32_t>(a) * static_cast<int32_t>(w));
}

// x / 2^n rounded to nearest, ties away from zero, for n in [1, 62] and |x| <= 2^62.
// Adding 2^(n-1) then flooring rounds ties up; for negative x the extra -1 turns that into
// ties-down, i.e. away from zero. Costs one adder and a sign bit in hardware.
inline int64_t round_shift(int64_t x, int n) {
  const int64_t half = int64_t{1} << (n - 1);
  return (x + half - (x < 0 ? 1 : 0)) >> n;
}

inline int8_t sat8(int64_t v) {
  return static_cast<int8_t>(v > kInt8Max ? kInt8Max : v < kInt8Min ? kInt8Min : v);
}

inline int32_t sat32(int64_t v) {
  return static_cast<int32_t>(v > kInt32Max ? kInt32Max : v < -kInt32Max - 1 ? -kInt32Max - 1 : v);
}

inline int8_t clamp8(int8_t v, int8_t lo, int8_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

inline int8_t relu8(int8_t v) {
  return v < 0 ? int8_t{0} : v;
}

// int32 accumulator -> int8: sat8(round_shift(acc * multiplier, shift)). The 64-bit product
// is exact (|acc| <= 2^31, multiplier < 2^31).
inline int8_t requantize(int32_t acc, int32_t multiplier, int shift) {
  return sat8(round_shift(static_cast<int64_t>(acc) * multiplier, shift));
}

inline int8_t requantize(int32_t acc, const Requant& r) {
  return requantize(acc, r.multiplier, r.shift);
}

// Requantization with the fused activation: the clamp bounds [lo, hi] are the int8 images of
// ReLU ([0, 127]) or Clip([min, max]); no activation is [-128, 127].
inline int8_t requantize_clamp(int32_t acc, const Requant& r, int8_t lo, int8_t hi) {
  return clamp8(requantize(acc, r), lo, hi);
}

// The same rescale without narrowing to 8 bits: moves an int8 value onto a finer common int32
// grid (element-wise Add).
inline int32_t rescale32(int32_t x, const Requant& r) {
  return sat32(round_shift(static_cast<int64_t>(x) * r.multiplier, r.shift));
}

// 256-entry table indexed by the input's offset-binary code: lut[0] is the output for -128,
// lut[255] the output for 127.
inline int8_t lut_apply(const int8_t* lut, int8_t x) {
  return lut[static_cast<uint8_t>(static_cast<int32_t>(x) + 128)];
}

// Host-side (not synthesised): real factor -> (multiplier, shift) with
// real ~= multiplier * 2^-shift. real = f * 2^e with f in [0.5, 1); multiplier =
// round_half_away(f * 2^31) (a carry to 2^31 renormalises to 2^30, e + 1); shift = 31 - e.
// Relative error <= 2^-31. Factors below 2^-31 keep shift = 62 and a smaller (possibly zero)
// multiplier. Returns false for real <= 0, non-finite, or real >= 2^30 (shift would be < 1).
inline bool quantize_multiplier(double real, Requant* out) {
  if (!(real > 0.0) || !std::isfinite(real)) return false;
  int e = 0;
  const double f = std::frexp(real, &e);
  int64_t m = std::llround(std::ldexp(f, 31));
  if (m == (int64_t{1} << 31)) {
    m >>= 1;
    ++e;
  }
  int shift = 31 - e;
  if (shift < kMinShift) return false;
  if (shift > kMaxShift) {
    const int extra = shift - kMaxShift;
    m = extra > 32 ? 0 : round_shift(m, extra);  // m < 2^31: 33+ bits of shift leave nothing
    shift = kMaxShift;
  }
  out->multiplier = static_cast<int32_t>(m);
  out->shift = shift;
  return true;
}

// Host-side boundary conversions (the input DMA / host driver does these, not the datapath):
// q = sat8(round_half_away(x / scale)) evaluated in double, and x = q * scale.
inline int8_t quantize_value(float x, float scale) {
  const double q = std::round(static_cast<double>(x) / static_cast<double>(scale));
  if (q != q) return 0;  // NaN: callers reject non-finite data first; this only avoids UB
  return static_cast<int8_t>(q > kInt8Max ? kInt8Max : q < kInt8Min ? kInt8Min : q);
}
inline float dequantize_value(int8_t q, float scale) {
  return static_cast<float>(static_cast<double>(q) * static_cast<double>(scale));
}

// Host-side: the real factor a Requant stands for (for reports and tests).
inline double requant_factor(const Requant& r) {
  return std::ldexp(double(r.multiplier), -r.shift);
}

}  // namespace hls
}  // namespace prunesim
