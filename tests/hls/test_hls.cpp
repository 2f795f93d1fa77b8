// The int8 datapath arithmetic of hls/: rounding, saturation, multiplier derivation, accumulator
// width and the conv/pool/element-wise kernels, each checked against an independent reference
// (128-bit sign-magnitude rounding, naive loops) so any change to the arithmetic fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hls/datapath.h"

namespace prunesim {
namespace hls {
namespace {

// Reference rounding of x / 2^n, ties away from zero, by sign and magnitude in 128 bits: shares
// nothing with the biased-floor formula of round_shift.
int64_t ref_round(__int128 x, int n) {
  const __int128 half = static_cast<__int128>(1) << (n - 1);
  const __int128 den = static_cast<__int128>(1) << n;
  const __int128 mag = ((x < 0 ? -x : x) + half) / den;
  return static_cast<int64_t>(x < 0 ? -mag : mag);
}

int8_t ref_requant(int32_t acc, int32_t m, int n) {
  const int64_t r = ref_round(static_cast<__int128>(acc) * m, n);
  return static_cast<int8_t>(r > 127 ? 127 : r < -128 ? -128 : r);
}

TEST(HlsRound, TiesGoAwayFromZero) {
  EXPECT_EQ(round_shift(1, 1), 1);    // 0.5
  EXPECT_EQ(round_shift(-1, 1), -1);  // -0.5
  EXPECT_EQ(round_shift(3, 1), 2);    // 1.5
  EXPECT_EQ(round_shift(-3, 1), -2);  // -1.5
  EXPECT_EQ(round_shift(5, 1), 3);    // 2.5: half-to-even would give 2
  EXPECT_EQ(round_shift(-5, 1), -3);  // -2.5: half-up (floor(x+0.5)) would give -2
  EXPECT_EQ(round_shift(-2, 2), -1);  // -0.5
  EXPECT_EQ(round_shift(-1, 2), 0);   // -0.25
  EXPECT_EQ(round_shift(-3, 2), -1);  // -0.75
  EXPECT_EQ(round_shift(6, 2), 2);    // 1.5
  EXPECT_EQ(round_shift(-6, 2), -2);  // -1.5
  EXPECT_EQ(round_shift(0, 62), 0);
}

TEST(HlsRound, ExhaustiveSmallRangeMatchesReference) {
  for (int n = 1; n <= 12; ++n)
    for (int64_t x = -20000; x <= 20000; ++x) ASSERT_EQ(round_shift(x, n), ref_round(x, n)) << x;
}

TEST(HlsRound, WholeShiftRangeAtExtremes) {
  const int64_t big[] = {int64_t{1} << 62,
                         -(int64_t{1} << 62),
                         int64_t{kInt32Max} * kInt32Max,
                         -(int64_t{kInt32Max} + 1) * kInt32Max,
                         (int64_t{1} << 61) + 1,
                         -(int64_t{1} << 61)};
  for (int n = kMinShift; n <= kMaxShift; ++n)
    for (int64_t x : big) ASSERT_EQ(round_shift(x, n), ref_round(x, n)) << x << " >> " << n;
  EXPECT_EQ(round_shift(int64_t{1} << 62, 62), 1);
  EXPECT_EQ(round_shift(int64_t{1} << 61, 62), 1);  // exactly 0.5
  EXPECT_EQ(round_shift(-(int64_t{1} << 61), 62), -1);
  EXPECT_EQ(round_shift((int64_t{1} << 61) - 1, 62), 0);
}

TEST(HlsRequant, ExactTiesWithRepresentableFactor) {
  // factor 0.25 = 2^30 * 2^-32 exactly, so acc/4 ties are real ties.
  EXPECT_EQ(requantize(6, kMultiplierMin, 32), 2);     // 1.5
  EXPECT_EQ(requantize(-6, kMultiplierMin, 32), -2);   // -1.5
  EXPECT_EQ(requantize(10, kMultiplierMin, 32), 3);    // 2.5
  EXPECT_EQ(requantize(-10, kMultiplierMin, 32), -3);  // -2.5
  EXPECT_EQ(requantize(2, kMultiplierMin, 32), 1);     // 0.5
  EXPECT_EQ(requantize(-2, kMultiplierMin, 32), -1);   // -0.5
  EXPECT_EQ(requantize(1, kMultiplierMin, 32), 0);     // 0.25
  EXPECT_EQ(requantize(-1, kMultiplierMin, 32), 0);    // -0.25
}

TEST(HlsRequant, SaturatesAtInt8Bounds) {
  // factor 1 (2^30 * 2^-30): the output is the accumulator, saturated.
  const int32_t one = kMultiplierMin;
  for (int32_t acc = -300; acc <= 300; ++acc)
    ASSERT_EQ(requantize(acc, one, 30), acc > 127 ? 127 : acc < -128 ? -128 : acc);
  EXPECT_EQ(requantize(kInt32Max, one, 30), 127);
  EXPECT_EQ(requantize(-kInt32Max - 1, one, 30), -128);
  // factor 0.5: 255/2 = 127.5 rounds to 128 and saturates; 253/2 = 126.5 rounds to 127.
  EXPECT_EQ(requantize(255, one, 31), 127);
  EXPECT_EQ(requantize(253, one, 31), 127);
  EXPECT_EQ(requantize(251, one, 31), 126);
  // -257/2 = -128.5 rounds to -129 and saturates; -255/2 = -127.5 rounds to -128 exactly.
  EXPECT_EQ(requantize(-257, one, 31), -128);
  EXPECT_EQ(requantize(-255, one, 31), -128);
  EXPECT_EQ(requantize(-253, one, 31), -127);
  // Largest product: |acc| = 2^31, multiplier 2^31 - 1, no overflow anywhere in the shift range.
  for (int n = kMinShift; n <= kMaxShift; ++n) {
    ASSERT_EQ(requantize(-kInt32Max - 1, kInt32Max, n), ref_requant(-kInt32Max - 1, kInt32Max, n));
    ASSERT_EQ(requantize(kInt32Max, kInt32Max, n), ref_requant(kInt32Max, kInt32Max, n));
  }
}

TEST(HlsRequant, ExhaustiveAccumulatorSweepMatchesReference) {
  // A typical conv factor (~0.0123) and an awkward one with all multiplier bits set.
  Requant r;
  ASSERT_TRUE(quantize_multiplier(0.0123, &r));
  EXPECT_EQ(r.multiplier, 1690499128);
  EXPECT_EQ(r.shift, 37);
  for (int32_t acc = -20000; acc <= 20000; ++acc)
    ASSERT_EQ(requantize(acc, r), ref_requant(acc, r.multiplier, r.shift)) << acc;
  for (int32_t acc = -300000; acc <= 300000; acc += 7)
    ASSERT_EQ(requantize(acc, kInt32Max, 45), ref_requant(acc, kInt32Max, 45)) << acc;
  // Worked example of docs/quantization.md.
  EXPECT_EQ(requantize(5000, r), 62);    // 61.50000001 -> 62
  EXPECT_EQ(requantize(-5000, r), -62);  // symmetric
  EXPECT_EQ(requantize(10366, r), 127);  // 127.5018 -> 128 -> saturated
  EXPECT_EQ(requantize(-10367, r), -128);
}

TEST(HlsRequant, ClampAndRelu) {
  Requant one{kMultiplierMin, 30};
  EXPECT_EQ(requantize_clamp(-5, one, 0, 127), 0);
  EXPECT_EQ(requantize_clamp(50, one, 0, 127), 50);
  EXPECT_EQ(requantize_clamp(500, one, 0, 127), 127);
  EXPECT_EQ(requantize_clamp(90, one, -10, 60), 60);  // Clip(-x, 60 steps)
  EXPECT_EQ(requantize_clamp(-90, one, -10, 60), -10);
  EXPECT_EQ(relu8(-128), 0);
  EXPECT_EQ(relu8(127), 127);
  EXPECT_EQ(clamp8(int8_t{-7}, int8_t{-3}, int8_t{3}), -3);
}

TEST(HlsMultiplier, DerivationAndRanges) {
  Requant r;
  ASSERT_TRUE(quantize_multiplier(1.0, &r));
  EXPECT_EQ(r.multiplier, 1 << 30);
  EXPECT_EQ(r.shift, 30);
  ASSERT_TRUE(quantize_multiplier(0.75, &r));
  EXPECT_EQ(r.multiplier, 3 << 29);
  EXPECT_EQ(r.shift, 31);
  // f * 2^31 rounds up to 2^31: renormalised to 2^30 with one shift less.
  ASSERT_TRUE(quantize_multiplier(1.0 - std::ldexp(1.0, -40), &r));
  EXPECT_EQ(r.multiplier, 1 << 30);
  EXPECT_EQ(r.shift, 30);
  // Largest factor (shift 1) and beyond.
  ASSERT_TRUE(quantize_multiplier(std::ldexp(1.5, 29), &r));
  EXPECT_EQ(r.shift, 1);
  EXPECT_FALSE(quantize_multiplier(std::ldexp(1.0, 30), &r));
  // Below 2^-31 the shift stays at 62 and the multiplier shrinks, down to 0.
  ASSERT_TRUE(quantize_multiplier(std::ldexp(1.0, -33), &r));
  EXPECT_EQ(r.shift, 62);
  EXPECT_EQ(r.multiplier, 1 << 29);
  ASSERT_TRUE(quantize_multiplier(1e-30, &r));
  EXPECT_EQ(r.shift, 62);
  EXPECT_EQ(r.multiplier, 0);
  EXPECT_FALSE(quantize_multiplier(0.0, &r));
  EXPECT_FALSE(quantize_multiplier(-0.5, &r));
  EXPECT_FALSE(quantize_multiplier(std::nan(""), &r));
  EXPECT_FALSE(quantize_multiplier(INFINITY, &r));
  // Normalised multipliers and relative error <= 2^-31 over a wide range of factors.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> e(-20, 20);
  for (int k = 0; k < 20000; ++k) {
    const double real = std::exp2(e(rng));
    ASSERT_TRUE(quantize_multiplier(real, &r));
    ASSERT_GE(r.multiplier, kMultiplierMin);
    ASSERT_GE(r.shift, kMinShift);
    ASSERT_LE(r.shift, kMaxShift);
    ASSERT_LE(std::fabs(requant_factor(r) - real) / real, std::ldexp(1.0, -31)) << real;
  }
}

TEST(HlsMac, AccumulatorBoundAndWrap) {
  EXPECT_EQ(kMaxProduct, 16256);
  EXPECT_EQ(kMaxSafeTerms, 132104);
  EXPECT_LE(kMaxSafeTerms * kMaxProduct, kInt32Max);
  EXPECT_GT((kMaxSafeTerms + 1) * kMaxProduct, kInt32Max);
  int32_t pos = 0, neg = 0;
  for (int64_t k = 0; k < kMaxSafeTerms; ++k) {
    pos = mac(pos, -128, -127);
    neg = mac(neg, -128, 127);
  }
  EXPECT_EQ(pos, 2147482624);
  EXPECT_EQ(neg, -2147482624);
  // One more worst-case term wraps like a 32-bit two's-complement register.
  EXPECT_EQ(mac(pos, -128, -127), static_cast<int32_t>(2147482624LL + 16256 - (1LL << 32)));
  EXPECT_EQ(mac(neg, -128, 127), static_cast<int32_t>(-2147482624LL - 16256 + (1LL << 32)));
  EXPECT_EQ(add_wrap32(kInt32Max, 1), -kInt32Max - 1);
  EXPECT_EQ(mac(100, 3, -4), 88);
}

TEST(HlsBoundary, InputQuantizationAndDequantization) {
  // Division in double of the float values: 0.1f is 0.100000001490116..., so 0.25f / 0.1f is
  // 2.49999996, not a tie.
  EXPECT_EQ(quantize_value(0.25f, 0.1f), 2);
  EXPECT_EQ(quantize_value(-0.25f, 0.1f), -2);
  EXPECT_EQ(quantize_value(0.5f, 0.25f), 2);
  EXPECT_EQ(quantize_value(0.375f, 0.25f), 2);  // 1.5 exactly
  EXPECT_EQ(quantize_value(-0.375f, 0.25f), -2);
  EXPECT_EQ(quantize_value(1000.f, 1.f), 127);
  EXPECT_EQ(quantize_value(-1000.f, 1.f), -128);
  EXPECT_EQ(quantize_value(INFINITY, 1.f), 127);
  EXPECT_EQ(quantize_value(-INFINITY, 1.f), -128);
  EXPECT_EQ(quantize_value(std::nanf(""), 1.f), 0);
  EXPECT_EQ(dequantize_value(-128, 0.5f), -64.f);
  EXPECT_EQ(dequantize_value(127, 0.25f), 31.75f);
}

TEST(HlsLut, IndexedByOffsetBinaryCode) {
  int8_t lut[256];
  for (int k = 0; k < 256; ++k) lut[k] = static_cast<int8_t>(k - 128 > 0 ? (k - 128) / 2 : 0);
  EXPECT_EQ(lut_apply(lut, int8_t{-128}), lut[0]);
  EXPECT_EQ(lut_apply(lut, int8_t{127}), 63);
  EXPECT_EQ(lut_apply(lut, int8_t{0}), lut[128]);
  const int8_t x[3] = {-5, 10, 127};
  int8_t y[3];
  lut_apply(3, lut, x, y);
  EXPECT_EQ(y[0], 0);
  EXPECT_EQ(y[1], 5);
  EXPECT_EQ(y[2], 63);
}

// ------------------------------------------------------------------ kernels vs naive loops
std::vector<int8_t> random_codes(size_t n, std::mt19937& rng, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

TEST(HlsConv, GroupedDilatedStridedMatchesNaive) {
  std::mt19937 rng(1);
  ConvParams p;
  p.in_c = 4;
  p.in_h = 7;
  p.in_w = 9;
  p.out_c = 6;
  p.groups = 2;
  p.k_h = 3;
  p.k_w = 2;
  p.stride_h = 2;
  p.stride_w = 1;
  p.dil_h = 1;
  p.dil_w = 2;
  p.pad_top = 1;
  p.pad_left = 2;
  const int pad_bottom = 1, pad_right = 0;
  p.out_h = (p.in_h + p.pad_top + pad_bottom - ((p.k_h - 1) * p.dil_h + 1)) / p.stride_h + 1;
  p.out_w = (p.in_w + p.pad_left + pad_right - ((p.k_w - 1) * p.dil_w + 1)) / p.stride_w + 1;
  p.act_min = -100;
  p.act_max = 90;
  const int icg = p.in_c / p.groups, ocg = p.out_c / p.groups;
  auto x = random_codes(static_cast<size_t>(p.in_c * p.in_h * p.in_w), rng);
  auto w = random_codes(static_cast<size_t>(p.out_c * icg * p.k_h * p.k_w), rng, -127, 127);
  std::vector<int32_t> bias = {-5000, 0, 17, 123456, -1, 2};
  std::vector<Requant> rq(6);
  for (int c = 0; c < 6; ++c) quantize_multiplier(0.001 * (c + 1), &rq[static_cast<size_t>(c)]);
  std::vector<int8_t> y(static_cast<size_t>(p.out_c * p.out_h * p.out_w));
  conv2d(p, x.data(), w.data(), bias.data(), rq.data(), y.data());
  for (int oc = 0; oc < p.out_c; ++oc)
    for (int oh = 0; oh < p.out_h; ++oh)
      for (int ow = 0; ow < p.out_w; ++ow) {
        int64_t acc = bias[static_cast<size_t>(oc)];
        for (int c = 0; c < icg; ++c)
          for (int kh = 0; kh < p.k_h; ++kh)
            for (int kw = 0; kw < p.k_w; ++kw) {
              const int ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
              const int iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
              if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
              const int ic = (oc / ocg) * icg + c;
              acc += x[static_cast<size_t>((ic * p.in_h + ih) * p.in_w + iw)] *
                     w[static_cast<size_t>(((oc * icg + c) * p.k_h + kh) * p.k_w + kw)];
            }
        int8_t want = ref_requant(static_cast<int32_t>(acc), rq[static_cast<size_t>(oc)].multiplier,
                                  rq[static_cast<size_t>(oc)].shift);
        want = want < p.act_min ? p.act_min : want > p.act_max ? p.act_max : want;
        ASSERT_EQ(y[static_cast<size_t>((oc * p.out_h + oh) * p.out_w + ow)], want)
            << oc << "," << oh << "," << ow;
      }
}

TEST(HlsConv, TransposedGatherEqualsScatter) {
  std::mt19937 rng(2);
  ConvParams p;
  p.in_c = 4;
  p.in_h = 1;
  p.in_w = 6;
  p.out_c = 2;
  p.groups = 2;
  p.k_w = 4;
  p.stride_w = 3;
  p.dil_w = 1;
  p.pad_left = 1;
  const int pad_right = 2, out_pad = 1;
  p.out_w =
      p.stride_w * (p.in_w - 1) + out_pad + (p.k_w - 1) * p.dil_w + 1 - p.pad_left - pad_right;
  const int icg = p.in_c / p.groups, ocg = p.out_c / p.groups;
  auto x = random_codes(static_cast<size_t>(p.in_c * p.in_w), rng);
  auto w = random_codes(static_cast<size_t>(p.in_c * ocg * p.k_w), rng, -127, 127);
  std::vector<int32_t> bias = {100, -100};
  std::vector<Requant> rq(2);
  quantize_multiplier(0.004, &rq[0]);
  quantize_multiplier(0.0021, &rq[1]);
  std::vector<int8_t> y(static_cast<size_t>(p.out_c * p.out_w));
  conv_transpose2d(p, x.data(), w.data(), bias.data(), rq.data(), y.data());
  std::vector<int64_t> acc(y.size());
  for (int oc = 0; oc < p.out_c; ++oc)
    for (int ow = 0; ow < p.out_w; ++ow)
      acc[static_cast<size_t>(oc * p.out_w + ow)] = bias[static_cast<size_t>(oc)];
  for (int ic = 0; ic < p.in_c; ++ic)
    for (int iw = 0; iw < p.in_w; ++iw)
      for (int m = 0; m < ocg; ++m)
        for (int k = 0; k < p.k_w; ++k) {
          const int ow = iw * p.stride_w + k * p.dil_w - p.pad_left;
          if (ow < 0 || ow >= p.out_w) continue;
          const int oc = (ic / icg) * ocg + m;
          acc[static_cast<size_t>(oc * p.out_w + ow)] +=
              x[static_cast<size_t>(ic * p.in_w + iw)] *
              w[static_cast<size_t>((ic * ocg + m) * p.k_w + k)];
        }
  for (size_t k = 0; k < y.size(); ++k) {
    const Requant& r = rq[k / static_cast<size_t>(p.out_w)];
    ASSERT_EQ(y[k], ref_requant(static_cast<int32_t>(acc[k]), r.multiplier, r.shift)) << k;
  }
}

TEST(HlsConv, GemmMatchesNaive) {
  std::mt19937 rng(3);
  const int rows = 3, K = 50, N = 7;
  auto x = random_codes(rows * K, rng);
  auto w = random_codes(N * K, rng, -127, 127);
  std::vector<int32_t> bias(N);
  std::vector<Requant> rq(N);
  for (int n = 0; n < N; ++n) {
    bias[static_cast<size_t>(n)] = (n - 3) * 1000;
    quantize_multiplier(0.0005 + 0.0003 * n, &rq[static_cast<size_t>(n)]);
  }
  std::vector<int8_t> y(rows * N);
  gemm(rows, K, N, x.data(), w.data(), bias.data(), rq.data(), 0, 127, y.data());
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      int64_t acc = bias[static_cast<size_t>(n)];
      for (int k = 0; k < K; ++k)
        acc += x[static_cast<size_t>(r * K + k)] * w[static_cast<size_t>(n * K + k)];
      int8_t want = ref_requant(static_cast<int32_t>(acc), rq[static_cast<size_t>(n)].multiplier,
                                rq[static_cast<size_t>(n)].shift);
      if (want < 0) want = 0;
      ASSERT_EQ(y[static_cast<size_t>(r * N + n)], want);
    }
}

TEST(HlsPool, MaxAndAverageWithPaddingCounts) {
  // One 1x5 plane, kernel 3, stride 2, pads 1/1: windows [-1..1], [1..3], [3..5].
  PoolParams p;
  p.in_w = 5;
  p.out_w = 3;
  p.k_w = 3;
  p.stride_w = 2;
  p.pad_left = 1;
  p.pad_right = 1;
  const int8_t x[5] = {-100, 20, -3, 127, -128};
  int8_t y[3];
  max_pool2d(p, x, y);
  EXPECT_EQ(y[0], 20);
  EXPECT_EQ(y[1], 127);
  EXPECT_EQ(y[2], 127);
  EXPECT_EQ(pool_window_count(p, 0, 0), 2);
  EXPECT_EQ(pool_window_count(p, 0, 2), 2);
  p.count_include_pad = true;
  EXPECT_EQ(pool_window_count(p, 0, 0), 3);
  EXPECT_EQ(pool_window_count(p, 0, 1), 3);
  // Same scale in and out: by_count[n] = 1/n.
  Requant by_count[4];
  for (int n = 1; n <= 3; ++n) quantize_multiplier(1.0 / n, &by_count[n]);
  p.count_include_pad = false;
  avg_pool2d(p, x, by_count, y);
  EXPECT_EQ(y[0], -40);  // (-100 + 20) / 2
  EXPECT_EQ(y[1], 48);   // (20 - 3 + 127) / 3 = 48
  EXPECT_EQ(y[2], -1);   // (127 - 128) / 2 = -0.5 rounds away from zero
}

TEST(HlsPool, GlobalAverage) {
  const int8_t x[8] = {1, 2, 3, 4, -1, -2, -3, -5};
  int8_t y[2];
  Requant r;
  quantize_multiplier(0.25, &r);
  global_avg_pool(2, 4, x, r, -128, 127, y);
  EXPECT_EQ(y[0], 3);   // 10/4 = 2.5 -> 3
  EXPECT_EQ(y[1], -3);  // -11/4 = -2.75 -> -3
  global_avg_pool(2, 4, x, r, 0, 127, y);
  EXPECT_EQ(y[1], 0);  // fused ReLU
}

TEST(HlsEltwise, AddRescalesBothOperands) {
  // s_a = 0.1, s_b = 0.05, s_out = 0.2; common grid s_c = 0.1 * 2^-16.
  const double sa = 0.1, sb = 0.05, so = 0.2, sc = std::max(sa, sb) / (1 << kAddGridBits);
  AddParams p;
  quantize_multiplier(sa / sc, &p.a);
  quantize_multiplier(sb / sc, &p.b);
  quantize_multiplier(sc / so, &p.out);
  EXPECT_EQ(p.a.multiplier, 1 << 30);  // exactly 2^16
  EXPECT_EQ(add8(10, -7, p), 3);       // 1.0 - 0.35 = 0.65 -> 3.25 -> 3
  EXPECT_EQ(add8(-10, 7, p), -3);
  EXPECT_EQ(add8(127, 127, p), 95);  // 12.7 + 6.35 = 19.05 -> 95.25
  EXPECT_EQ(add8(5, 0, p), 3);       // 0.5 / 0.2 = 2.5 -> 3
  EXPECT_EQ(add8(-5, 0, p), -3);
  p.out.shift -= 2;  // factor x4: saturation
  EXPECT_EQ(add8(127, 127, p), 127);
  EXPECT_EQ(add8(-128, -128, p), -128);
  p.out.shift += 2;
  p.act_min = 0;
  EXPECT_EQ(add8(-10, 7, p), 0);  // fused ReLU
  // Exhaustive: the two-step rescale is within one output step of the exact real sum.
  p.act_min = -128;
  for (int a = -128; a <= 127; ++a)
    for (int b = -128; b <= 127; ++b) {
      const double exact = (a * sa + b * sb) / so;
      const int got = add8(static_cast<int8_t>(a), static_cast<int8_t>(b), p);
      const double clamped = std::max(-128.0, std::min(127.0, exact));
      ASSERT_LE(std::fabs(got - clamped), 0.5 + 1e-3) << a << "," << b;
    }
}

TEST(HlsEltwise, RescaleAndClamp) {
  Requant r;
  quantize_multiplier(0.5, &r);
  EXPECT_EQ(rescale8(int8_t{-3}, r), -2);  // -1.5 -> -2
  EXPECT_EQ(rescale8(int8_t{127}, r), 64);
  quantize_multiplier(1.0, &r);
  for (int v = -128; v <= 127; ++v) ASSERT_EQ(rescale8(static_cast<int8_t>(v), r), v);  // identity
  const int8_t x[4] = {-128, -1, 0, 127};
  int8_t y[4];
  clamp8(4, x, 0, 100, y);
  EXPECT_EQ(y[0], 0);
  EXPECT_EQ(y[3], 100);
}

TEST(HlsEltwise, SoftmaxIntegerDivision) {
  // s_in = 0.05: exp_lut[d] = round(2^16 exp(-0.05 d)).
  int32_t lut[256];
  for (int d = 0; d < 256; ++d)
    lut[d] = static_cast<int32_t>(std::llround(std::ldexp(std::exp(-0.05 * d), 16)));
  ASSERT_EQ(lut[0], 65536);
  const int8_t two[2] = {7, 7};
  int8_t y[3];
  softmax8(2, 1, two, lut, y);
  EXPECT_EQ(y[0], 64);  // 127/2 = 63.5 rounds up
  EXPECT_EQ(y[1], 64);
  // Strided row (stride 2): elements 0 and 2 form the row, 1 is untouched.
  const int8_t row[3] = {20, 99, 0};  // d = 0 and 20: e = 65536, round(2^16 e^-1) = 24109
  y[1] = 55;
  softmax8(2, 2, row, lut, y);
  EXPECT_EQ(lut[20], 24109);
  EXPECT_EQ(y[0], 93);  // 127 * 65536 / 89645 = 92.84
  EXPECT_EQ(y[2], 34);  // 127 * 24109 / 89645 = 34.16
  EXPECT_EQ(y[1], 55);
  // Extreme spread: the far element gets 0, the max 127.
  const int8_t wide[2] = {127, -128};
  softmax8(2, 1, wide, lut, y);
  EXPECT_EQ(y[0], 127);
  EXPECT_EQ(y[1], 0);
}

}  // namespace
}  // namespace hls
}  // namespace prunesim
