// The PL kernels of the FPGA-SoC pipeline (hls/hsi.h, hls/pl_conv.h) against the reference
// kernels the int8 executor uses (conv2d, conv_transpose2d, max_pool2d) and against plain
// index arithmetic for the preprocessing: bit-exact on random data and shapes, including padding,
// odd sizes, ties and saturation. The end-to-end check (PL datapath vs run_int8 on the zoo U-Net)
// is tests/models/fpga_soc.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "hls/datapath.h"
#include "hls/hsi.h"
#include "hls/pl_conv.h"

namespace prunesim {
namespace hls {
namespace {

std::vector<int8_t> rand8(std::mt19937& g, size_t n, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(g));
  return v;
}

std::vector<Requant> rand_rq(std::mt19937& g, int n) {
  std::uniform_real_distribution<double> d(1e-4, 5e-3);
  std::vector<Requant> r(static_cast<size_t>(n));
  for (auto& q : r) EXPECT_TRUE(quantize_multiplier(d(g), &q));
  return r;
}

std::vector<int32_t> rand_bias(std::mt19937& g, int n) {
  std::uniform_int_distribution<int32_t> d(-20000, 20000);
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (auto& x : b) x = d(g);
  return b;
}

using LB = LineBuffer<3, 64, 64>;

TEST(HlsPl, LineBufferConvMatchesConv2d) {
  std::mt19937 g(7);
  auto lb = std::make_unique<LB>();
  int cases = 0;
  for (int k : {1, 2, 3})
    for (int pad = 0; pad < k; ++pad)
      for (int trial = 0; trial < 6; ++trial) {
        std::uniform_int_distribution<int> dim(1, 13), ch(1, 9);
        ConvParams p;
        p.in_c = ch(g);
        p.out_c = ch(g);
        p.in_h = dim(g) + k;
        p.in_w = dim(g) + k;
        p.k_h = p.k_w = k;
        p.pad_top = p.pad_left = pad;
        p.out_h = p.in_h + 2 * pad - k + 1;
        p.out_w = p.in_w + 2 * pad - k + 1;
        if (trial % 2) {  // ReLU fused
          p.act_min = 0;
        }
        const auto x = rand8(g, static_cast<size_t>(p.in_c * p.in_h * p.in_w));
        const auto w = rand8(g, static_cast<size_t>(p.out_c * p.in_c * k * k), -127, 127);
        const auto b = rand_bias(g, p.out_c);
        const auto rq = rand_rq(g, p.out_c);
        ASSERT_TRUE((conv_lb_supports<3, 64, 64>(p)));
        std::vector<int8_t> want(static_cast<size_t>(p.out_c * p.out_h * p.out_w)),
            got(want.size());
        conv2d(p, x.data(), w.data(), b.data(), rq.data(), want.data());
        const int rows = conv_lb(p, x.data(), w.data(), b.data(), rq.data(), got.data(), *lb);
        EXPECT_EQ(rows, p.in_h) << "every input row is read exactly once";
        ASSERT_EQ(got, want) << "k=" << k << " pad=" << pad << " trial " << trial;
        ++cases;
      }
  EXPECT_EQ(cases, 36);
}

TEST(HlsPl, LineBufferRefusesWhatItCannotDo) {
  ConvParams p;
  p.k_h = p.k_w = 5;
  EXPECT_FALSE((conv_lb_supports<3, 64, 64>(p)));
  p.k_h = p.k_w = 3;
  p.stride_h = 2;
  EXPECT_FALSE((conv_lb_supports<3, 64, 64>(p)));
  p.stride_h = 1;
  p.in_c = 65;
  EXPECT_FALSE((conv_lb_supports<3, 64, 64>(p)));
}

TEST(HlsPl, PointwiseConvMatchesConv2d) {
  std::mt19937 g(11);
  for (int trial = 0; trial < 10; ++trial) {
    ConvParams p;
    p.in_c = 1 + trial * 3;
    p.out_c = 1 + (trial * 7) % 13;
    p.in_h = p.out_h = 3 + trial;
    p.in_w = p.out_w = 5 + 2 * trial;
    const auto x = rand8(g, static_cast<size_t>(p.in_c * p.in_h * p.in_w));
    const auto w = rand8(g, static_cast<size_t>(p.out_c * p.in_c), -127, 127);
    const auto b = rand_bias(g, p.out_c);
    const auto rq = rand_rq(g, p.out_c);
    std::vector<int8_t> want(static_cast<size_t>(p.out_c * p.out_h * p.out_w)), got(want.size());
    conv2d(p, x.data(), w.data(), b.data(), rq.data(), want.data());
    conv1x1<64>(p, x.data(), w.data(), b.data(), rq.data(), got.data());
    ASSERT_EQ(got, want) << trial;
  }
}

TEST(HlsPl, MaxPool2x2MatchesMaxPool2d) {
  std::mt19937 g(3);
  for (int h = 2; h <= 9; ++h)
    for (int w = 2; w <= 9; w += 3) {
      const int c = 1 + (h + w) % 4;
      const auto x = rand8(g, static_cast<size_t>(c * h * w));
      PoolParams p;
      p.channels = c;
      p.in_h = h;
      p.in_w = w;
      p.out_h = h / 2;
      p.out_w = w / 2;
      p.k_h = p.k_w = p.stride_h = p.stride_w = 2;
      std::vector<int8_t> want(static_cast<size_t>(c * p.out_h * p.out_w)), got(want.size());
      max_pool2d(p, x.data(), want.data());
      maxpool2x2<64>(c, h, w, x.data(), got.data());
      ASSERT_EQ(got, want) << h << "x" << w;
    }
}

TEST(HlsPl, UpConv2x2MatchesConvTranspose2d) {
  std::mt19937 g(5);
  for (int trial = 0; trial < 8; ++trial) {
    ConvParams p;
    p.in_c = 1 + trial;
    p.out_c = 1 + (trial * 5) % 7;
    p.in_h = 1 + trial % 4;
    p.in_w = 2 + trial;
    p.out_h = 2 * p.in_h;
    p.out_w = 2 * p.in_w;
    p.k_h = p.k_w = p.stride_h = p.stride_w = 2;
    if (trial % 2) p.act_min = 0;
    const auto x = rand8(g, static_cast<size_t>(p.in_c * p.in_h * p.in_w));
    const auto w = rand8(g, static_cast<size_t>(p.in_c * p.out_c * 4), -127, 127);
    const auto b = rand_bias(g, p.out_c);
    const auto rq = rand_rq(g, p.out_c);
    std::vector<int8_t> want(static_cast<size_t>(p.out_c * p.out_h * p.out_w)), got(want.size());
    conv_transpose2d(p, x.data(), w.data(), b.data(), rq.data(), want.data());
    upconv2x2<64>(p.in_c, p.in_h, p.in_w, p.out_c, x.data(), w.data(), b.data(), rq.data(),
                  p.act_min, p.act_max, got.data());
    ASSERT_EQ(got, want) << trial;
  }
}

TEST(HlsPl, UpsampleNearestIsTheFloorIndexMap) {
  std::mt19937 g(9);
  const auto x = rand8(g, 2 * 3 * 4);
  std::vector<int8_t> y(2 * 6 * 12);
  upsample_nearest(2, 3, 4, 2, 3, x.data(), y.data());
  for (int c = 0; c < 2; ++c)
    for (int oh = 0; oh < 6; ++oh)
      for (int ow = 0; ow < 12; ++ow)
        EXPECT_EQ(y[static_cast<size_t>((c * 6 + oh) * 12 + ow)],
                  x[static_cast<size_t>((c * 3 + oh / 2) * 4 + ow / 3)]);
}

TEST(HlsPl, DemosaicScattersEachRawPixelToItsBand) {
  MosaicParams p;
  p.raw_h = 10;
  p.raw_w = 15;
  std::vector<uint16_t> raw(150), cube(150);
  for (int i = 0; i < 150; ++i) raw[static_cast<size_t>(i)] = static_cast<uint16_t>(i * 7 % 1024);
  demosaic(p, raw.data(), cube.data());
  ASSERT_EQ(p.bands(), 25);
  for (int b = 0; b < 25; ++b)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        EXPECT_EQ(cube[static_cast<size_t>((b * 2 + i) * 3 + j)],
                  raw[static_cast<size_t>((5 * i + b / 5) * 15 + 5 * j + b % 5)]);
}

TEST(HlsPl, NormaliseIsRoundedReflectanceOverInputScale) {
  // q = sat8(round((dn - dark) / (white - dark) / s)) for every 10-bit DN; the integer kernel
  // (one requantization) agrees with the real-valued rule except within 2^-20 of a tie.
  for (float s : {0.0081f, 0.00787f, 0.0123f}) {
    Requant rq;
    ASSERT_TRUE(normalise_requant(1000.0 - 64.0, s, &rq));
    int checked = 0;
    for (int dn = 0; dn < 1024; ++dn) {
      const double real = (dn - 64.0) / (1000.0 - 64.0) / static_cast<double>(s);
      const double frac = std::fabs(real - std::trunc(real));
      if (std::fabs(frac - 0.5) < 1e-6) continue;
      const double r = std::round(real);
      const int want = static_cast<int>(r > 127 ? 127 : r < -128 ? -128 : r);
      EXPECT_EQ(normalise_value(static_cast<uint16_t>(dn), 64, rq), want) << dn << " s=" << s;
      ++checked;
    }
    EXPECT_GT(checked, 1000);
  }
  Requant rq;
  EXPECT_FALSE(normalise_requant(0.0, 0.01f, &rq)) << "white == dark";
}

TEST(HlsPl, CropAndNearestResize) {
  std::vector<int8_t> x(2 * 6 * 8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i);
  CropParams c;
  c.channels = 2;
  c.in_h = 6;
  c.in_w = 8;
  c.top = 1;
  c.left = 2;
  c.win_h = c.out_h = 4;
  c.win_w = c.out_w = 4;
  std::vector<int8_t> y(2 * 4 * 4);
  crop_resize(c, x.data(), y.data());
  for (int ch = 0; ch < 2; ++ch)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        EXPECT_EQ(y[static_cast<size_t>((ch * 4 + i) * 4 + j)],
                  x[static_cast<size_t>((ch * 6 + 1 + i) * 8 + 2 + j)]);
  c.top = c.left = 0;
  c.win_h = 6;
  c.win_w = 8;
  c.out_h = 3;
  c.out_w = 2;
  std::vector<int8_t> z(2 * 3 * 2);
  crop_resize(c, x.data(), z.data());
  for (int ch = 0; ch < 2; ++ch)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 2; ++j)
        EXPECT_EQ(z[static_cast<size_t>((ch * 3 + i) * 2 + j)],
                  x[static_cast<size_t>((ch * 6 + i * 2) * 8 + j * 4)]);
}

TEST(HlsPl, ArgmaxFirstMaximumWins) {
  // 3 classes x 4 pixels, with ties.
  const std::vector<int8_t> s = {5, -1, 7, 0,     //
                                 5, 3,  7, -128,  //
                                 4, 3,  9, -5};
  std::vector<uint8_t> m(4);
  argmax(3, 4, s.data(), m.data());
  EXPECT_EQ(m, (std::vector<uint8_t>{0, 1, 2, 0}));
  std::mt19937 g(1);
  const auto r = rand8(g, 11 * 100, -3, 3);  // many ties
  std::vector<uint8_t> got(100);
  argmax(11, 100, r.data(), got.data());
  for (int k = 0; k < 100; ++k) {
    int best = 0;
    for (int c = 1; c < 11; ++c)
      if (r[static_cast<size_t>(c * 100 + k)] > r[static_cast<size_t>(best * 100 + k)]) best = c;
    EXPECT_EQ(got[static_cast<size_t>(k)], best);
  }
}

}  // namespace
}  // namespace hls
}  // namespace prunesim
