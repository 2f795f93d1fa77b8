// Post-training quantization and the int8 executor: closeness to float on small graphs of every
// supported op, bit-exactness against an independent re-computation of the documented rules,
// determinism, bad calibration input, and (when the zoo is built) fidelity on the zoo models.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "common/graph_builder.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"

namespace prunesim {
namespace {

struct Closeness {
  double max_lsb = 0;  // worst |int8 - float| in output steps
  double rms_lsb = 0;  // root-mean-square difference in output steps
  double snr_db = 0;   // float output power over difference power
  int saturated = 0;   // float outputs beyond the int8 range (left out of max_lsb)
};

Closeness compare(const Graph& g, const QuantizedModel& q, const Tensor& x) {
  const Tensor yf = run_float(g, x);
  const Int8Result r = run_int8(q, x);
  EXPECT_EQ(r.output_float.shape, yf.shape);
  Closeness c;
  double sig = 0, err = 0;
  for (size_t k = 0; k < yf.f.size(); ++k) {
    const double d = static_cast<double>(yf.f[k]) - r.output_float.f[k];
    // Outside the calibrated range the int8 output saturates by design: not rounding error.
    if (std::fabs(yf.f[k]) > 127.5 * r.output_scale) {
      ++c.saturated;
      continue;
    }
    c.max_lsb = std::max(c.max_lsb, std::fabs(d) / r.output_scale);
    sig += static_cast<double>(yf.f[k]) * yf.f[k];
    err += d * d;
  }
  c.rms_lsb = std::sqrt(err / static_cast<double>(yf.f.size())) / r.output_scale;
  c.snr_db = 10 * std::log10(sig / std::max(err, 1e-30));
  return c;
}

// Quantizes on 64 samples and checks 16 others against float: the worst output within
// `max_lsb` steps and the RMS difference within `rms_lsb` steps. Rounding contributes 0.29 LSB
// RMS per requantization; input rounding errors propagate through the layers (a weight sum of
// several LSBs after a few layers), hence per-graph bounds.
void expect_close(const Graph& g, Shape sample, double max_lsb, double rms_lsb,
                  QuantOptions opt = {}) {
  Shape calib_shape = sample, eval_shape = sample;
  calib_shape[0] = 64;
  eval_shape[0] = 16;
  const QuantizedModel q = quantize(g, random_input(calib_shape, 11), opt);
  // Evaluation data inside the calibration range (a 0.9 spread), as calibrated deployments see.
  const Closeness c = compare(g, q, random_input(eval_shape, 12, 0.9f));
  EXPECT_LE(c.max_lsb, max_lsb) << "rms " << c.rms_lsb << " snr " << c.snr_db;
  EXPECT_LE(c.rms_lsb, rms_lsb) << "max " << c.max_lsb << " snr " << c.snr_db;
  ::testing::Test::RecordProperty("max_lsb", std::to_string(c.max_lsb));
  ::testing::Test::RecordProperty("rms_lsb", std::to_string(c.rms_lsb));
}

TEST(Int8, ConvReluFused) {
  GraphBuilder b({1, 3, 10, 12});
  auto y = b.node("Conv", {"x", b.weight("w", {8, 3, 3, 3}, 0.3f), b.weight("b", {8}, 0.1f)},
                  {{"pads", ints({1, 1, 1, 1})}, {"strides", ints({1, 2})}});
  y = b.node("Relu", {y});
  const Graph g = b.finish(y);
  const QuantizedModel q = quantize(g, random_input({32, 3, 10, 12}, 3));
  ASSERT_EQ(q.layers.size(), 1u);  // the Relu is absorbed
  EXPECT_EQ(q.layers[0].fused, (std::vector<std::string>{"Relu_1"}));
  EXPECT_EQ(q.layers[0].act_min, 0);
  expect_close(g, {1, 3, 10, 12}, 1.5, 0.4);
}

TEST(Int8, DepthwiseSeparable1dWithDilation) {
  GraphBuilder b({1, 6, 40});
  auto y = b.node("Conv", {"x", b.weight("dw", {6, 1, 5}, 0.4f), b.weight("db", {6}, 0.1f)},
                  {{"group", int1(6)}, {"pads", ints({4, 4})}, {"dilations", ints({2})}});
  y = b.node("Relu", {y});
  y = b.node("Conv", {y, b.weight("pw", {10, 6, 1}, 0.4f), b.weight("pb", {10}, 0.1f)},
             {{"strides", ints({2})}});
  y = b.node("Clip",
             {y, b.constant("lo", Tensor({}, {-1.f})), b.constant("hi", Tensor({}, {2.f}))});
  const Graph g = b.finish(y);
  const QuantizedModel q = quantize(g, random_input({32, 6, 40}, 5));
  ASSERT_EQ(q.layers.size(), 2u);
  const float s = q.output_scale;
  EXPECT_EQ(q.layers[1].act_min, hls::quantize_value(-1.f, s));
  EXPECT_EQ(q.layers[1].act_max, hls::quantize_value(2.f, s));
  expect_close(g, {1, 6, 40}, 4.0, 1.0);
}

TEST(Int8, ConvTranspose1dAnd2d) {
  {
    GraphBuilder b({1, 4, 25});
    auto y =
        b.node("ConvTranspose", {"x", b.weight("w", {4, 3, 4}, 0.3f), b.weight("b", {6}, 0.1f)},
               {{"strides", ints({2})},
                {"pads", ints({1, 2})},
                {"output_padding", ints({1})},
                {"group", int1(2)}});
    const Graph g = b.finish(y);
    expect_close(g, {1, 4, 25}, 1.5, 0.45);
  }
  {
    GraphBuilder b({1, 3, 5, 6});
    auto y = b.node("ConvTranspose", {"x", b.weight("w", {3, 4, 3, 3}, 0.3f)},
                    {{"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
    y = b.node("Relu", {y});
    const Graph g = b.finish(y);
    expect_close(g, {1, 3, 5, 6}, 2.0, 0.4);
  }
}

TEST(Int8, FlattenGemmAndMatMulWithBiasAdd) {
  GraphBuilder b({1, 4, 3, 3});
  auto y = b.node("Flatten", {"x"});
  y = b.node("Gemm", {y, b.weight("w", {12, 36}, 0.2f), b.weight("c", {12}, 0.2f)},
             {{"transB", int1(1)}, {"alpha", flt(0.7f)}, {"beta", flt(1.5f)}});
  y = b.node("Relu", {y});
  y = b.node("MatMul", {y, b.weight("m", {12, 5}, 0.3f)});
  y = b.node("Add", {y, b.weight("mb", {5}, 0.2f)});
  const Graph g = b.finish(y);
  const QuantizedModel q = quantize(g, random_input({64, 4, 3, 3}, 7));
  ASSERT_EQ(q.layers.size(), 3u);  // Flatten, Gemm+Relu, MatMul+Add
  EXPECT_EQ(q.layers[2].fused.size(), 1u);
  expect_close(g, {1, 4, 3, 3}, 2.5, 0.7);
}

TEST(Int8, ResidualAddWithDifferentScales) {
  GraphBuilder b({1, 4, 8, 8});
  auto a =
      b.node("Conv", {"x", b.weight("w1", {4, 4, 3, 3}, 0.5f)}, {{"pads", ints({1, 1, 1, 1})}});
  auto c = b.node("Conv", {"x", b.weight("w2", {4, 4, 1, 1}, 0.1f)});
  auto y = b.node("Add", {a, c});
  y = b.node("Relu", {y});
  y = b.node("Add", {y, b.weight("k", {1, 4, 1, 1}, 1.f)});  // broadcast constant operand
  const Graph g = b.finish(y);
  const QuantizedModel q = quantize(g, random_input({32, 4, 8, 8}, 9));
  EXPECT_NE(q.scales.at(a), q.scales.at(c));
  expect_close(g, {1, 4, 8, 8}, 2.5, 0.7);
}

TEST(Int8, Pools) {
  for (int include_pad : {0, 1}) {
    GraphBuilder b({1, 3, 9, 11});
    auto y = b.node("MaxPool", {"x"},
                    {{"kernel_shape", ints({3, 2})},
                     {"strides", ints({2, 2})},
                     {"pads", ints({1, 0, 1, 1})},
                     {"ceil_mode", int1(1)}});
    y = b.node("AveragePool", {y},
               {{"kernel_shape", ints({2, 3})},
                {"pads", ints({1, 1, 0, 1})},
                {"count_include_pad", int1(include_pad)}});
    y = b.node("GlobalAveragePool", {y});
    const Graph g = b.finish(y);
    expect_close(g, {1, 3, 9, 11}, 1.0, 0.5);
  }
  GraphBuilder b({1, 2, 30});
  auto y = b.node("AveragePool", {"x"}, {{"kernel_shape", ints({4})}, {"strides", ints({3})}});
  y = b.node("MaxPool", {y}, {{"kernel_shape", ints({2})}, {"strides", ints({2})}});
  expect_close(b.finish(y), {1, 2, 30}, 1.5, 0.5);
}

TEST(Int8, ConcatRescalesInputs) {
  GraphBuilder b({1, 2, 16});
  auto a = b.node("Conv", {"x", b.weight("w1", {3, 2, 3}, 0.8f)}, {{"pads", ints({1, 1})}});
  auto c = b.node("Conv", {"x", b.weight("w2", {2, 2, 1}, 0.1f)});
  auto y = b.node("Concat", {a, c, "x"}, {{"axis", int1(1)}});
  const Graph g = b.finish(y);
  expect_close(g, {1, 2, 16}, 2.0, 0.5);
}

TEST(Int8, LutOpsResizeTransposeSoftmax) {
  GraphBuilder b({1, 3, 4, 5});
  auto y = b.node("Sigmoid", {"x"});
  y = b.node("Resize", {y, "", b.constant("sc", Tensor({4}, {1.f, 1.f, 2.f, 2.f}))},
             {{"mode", str("nearest")},
              {"coordinate_transformation_mode", str("asymmetric")},
              {"nearest_mode", str("floor")}});
  y = b.node("Conv", {y, b.weight("w", {4, 3, 1, 1}, 1.f)});
  y = b.node("Tanh", {y});
  y = b.node("Transpose", {y}, {{"perm", ints({0, 2, 3, 1})}});
  y = b.node("LeakyRelu", {y}, {{"alpha", flt(0.2f)}});
  y = b.node("Softmax", {y}, {{"axis", int1(-1)}});
  const Graph g = b.finish(y);
  expect_close(g, {1, 3, 4, 5}, 1.5, 0.45);
}

TEST(Int8, PercentileCalibrationClipsOutliers) {
  GraphBuilder b({1, 4, 50});
  auto y = b.node("Conv", {"x", b.weight("w", {4, 4, 3}, 0.5f)});
  const Graph g = b.finish(y);
  Tensor calib = random_input({64, 4, 50}, 21);
  calib.f[123] = 40.f;  // one outlier stretches the min/max range
  QuantOptions pct;
  pct.calib = QuantOptions::Calib::Percentile;
  pct.percentile = 99.9;
  const QuantizedModel qm = quantize(g, calib), qp = quantize(g, calib, pct);
  EXPECT_FLOAT_EQ(qm.input_scale, 40.f / 127.f);
  EXPECT_LT(qp.input_scale, qm.input_scale / 5);
  EXPECT_GT(qp.input_scale, 2.5f / 127.f);
}

// ------------------------------------------------------------------ bit-exactness
// Rounding of x / 2^n, ties away from zero, by sign and magnitude in 128 bits.
int64_t ref_round(__int128 x, int n) {
  const __int128 den = static_cast<__int128>(1) << n;
  const __int128 mag = ((x < 0 ? -x : x) + den / 2) / den;
  return static_cast<int64_t>(x < 0 ? -mag : mag);
}
int64_t ref_round_real(double v) {
  return static_cast<int64_t>(v < 0 ? -std::floor(-v + 0.5) : std::floor(v + 0.5));
}

TEST(Int8, ConvIsBitExactAgainstTheDocumentedRules) {
  const int C = 4, M = 6, H = 7, W = 9, G = 2, KH = 3, KW = 2, SH = 2, SW = 1, PT = 1, PL = 1;
  GraphBuilder b({1, C, H, W}, 33);
  auto y =
      b.node("Conv", {"x", b.weight("w", {M, C / G, KH, KW}, 0.4f), b.weight("b", {M}, 0.3f)},
             {{"group", int1(G)}, {"strides", ints({SH, SW})}, {"pads", ints({PT, PL, 0, 1})}});
  y = b.node("Relu", {y});
  const Graph g = b.finish(y);
  const Tensor calib = random_input({40, C, H, W}, 34);
  const QuantizedModel q = quantize(g, calib);
  const QLayer& L = q.layers.at(0);

  // Scales: input max|x| / 127 over the calibration set; output max(relu) / 127.
  float xmax = 0;
  for (float v : calib.f) xmax = std::max(xmax, std::fabs(v));
  EXPECT_EQ(q.input_scale, static_cast<float>(xmax / 127.0));
  float ymax = 0;
  const Tensor yc = run_float(g, calib);
  for (float v : yc.f) ymax = std::max(ymax, v);
  EXPECT_EQ(q.output_scale, static_cast<float>(ymax / 127.0));

  // Weights per output channel: s_w = max|w| / 127, q = round(w / s_w); bias round(b / (s_in s_w)).
  const Tensor& w = g.init("w");
  const Tensor& bias = g.init("b");
  const int per = C / G * KH * KW;
  std::vector<int64_t> bq(M);
  std::vector<__int128> mult(M);
  std::vector<int> shift(M);
  for (int m = 0; m < M; ++m) {
    float mx = 0;
    for (int k = 0; k < per; ++k)
      mx = std::max(mx, std::fabs(w.f[static_cast<size_t>(m * per + k)]));
    const float sw = static_cast<float>(mx / 127.0);
    EXPECT_EQ(L.weight_scale[static_cast<size_t>(m)], sw);
    for (int k = 0; k < per; ++k)
      ASSERT_EQ(L.weight[static_cast<size_t>(m * per + k)],
                ref_round_real(static_cast<double>(w.f[static_cast<size_t>(m * per + k)]) / sw));
    bq[static_cast<size_t>(m)] =
        ref_round_real(bias.f[static_cast<size_t>(m)] / (static_cast<double>(q.input_scale) * sw));
    EXPECT_EQ(L.bias[static_cast<size_t>(m)], bq[static_cast<size_t>(m)]);
    // Multiplier: M * 2^-shift within 2^-31 (relative) of s_in s_w / s_out, M normalised.
    const double real = static_cast<double>(q.input_scale) * sw / q.output_scale;
    mult[static_cast<size_t>(m)] = L.requant[static_cast<size_t>(m)].multiplier;
    shift[static_cast<size_t>(m)] = L.requant[static_cast<size_t>(m)].shift;
    EXPECT_GE(L.requant[static_cast<size_t>(m)].multiplier, 1 << 30);
    EXPECT_LE(std::fabs(std::ldexp(static_cast<double>(mult[static_cast<size_t>(m)]),
                                   -shift[static_cast<size_t>(m)]) -
                        real) /
                  real,
              std::ldexp(1.0, -31));
  }

  // Re-compute the whole layer from those rules and compare every output code.
  const Tensor x = random_input({5, C, H, W}, 35, 1.3f);  // beyond the calibrated range too
  const Int8Result r = run_int8(q, x);
  const int OH = (H + PT - KH) / SH + 1, OW = (W + PL + 1 - KW) / SW + 1;
  ASSERT_EQ(r.output_int8.shape, (Shape{5, M, OH, OW}));
  int checked = 0, saturated = 0;
  for (int n = 0; n < 5; ++n) {
    std::vector<int64_t> xq(static_cast<size_t>(C * H * W));
    for (size_t k = 0; k < xq.size(); ++k) {
      const int64_t v = ref_round_real(static_cast<double>(x.f[n * xq.size() + k]) / q.input_scale);
      xq[k] = std::max<int64_t>(-128, std::min<int64_t>(127, v));
    }
    for (int m = 0; m < M; ++m)
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          int64_t acc = bq[static_cast<size_t>(m)];
          const int gi = m / (M / G);
          for (int c = 0; c < C / G; ++c)
            for (int kh = 0; kh < KH; ++kh)
              for (int kw = 0; kw < KW; ++kw) {
                const int ih = oh * SH - PT + kh, iw = ow * SW - PL + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += xq[static_cast<size_t>(((gi * (C / G) + c) * H + ih) * W + iw)] *
                       L.weight[static_cast<size_t>(((m * (C / G) + c) * KH + kh) * KW + kw)];
              }
          int64_t out =
              ref_round(acc * mult[static_cast<size_t>(m)], shift[static_cast<size_t>(m)]);
          out = std::max<int64_t>(0, std::min<int64_t>(127, out));  // ReLU fused: [0, 127]
          saturated += out == 127;
          const size_t idx = static_cast<size_t>(((n * M + m) * OH + oh) * OW + ow);
          ASSERT_EQ(r.output_int8.i[idx], out) << n << "," << m << "," << oh << "," << ow;
          ASSERT_EQ(r.output_float.f[idx],
                    static_cast<float>(out * static_cast<double>(q.output_scale)));
          ++checked;
        }
  }
  EXPECT_EQ(checked, 5 * M * OH * OW);
  EXPECT_GT(saturated, 0);  // the 1.3x inputs exercise saturation
}

TEST(Int8, DeterministicAcrossRuns) {
  GraphBuilder b({1, 2, 20});
  auto y = b.node("Conv", {"x", b.weight("w", {4, 2, 3}, 0.5f)}, {{"pads", ints({1, 1})}});
  y = b.node("Relu", {y});
  y = b.node("AveragePool", {y}, {{"kernel_shape", ints({2})}, {"strides", ints({2})}});
  const Graph g = b.finish(y);
  const Tensor calib = random_input({16, 2, 20}, 41), x = random_input({8, 2, 20}, 42);
  const QuantizedModel q1 = quantize(g, calib), q2 = quantize(g, calib);
  ASSERT_EQ(q1.layers.size(), q2.layers.size());
  for (size_t k = 0; k < q1.layers.size(); ++k) {
    EXPECT_EQ(q1.layers[k].weight, q2.layers[k].weight);
    EXPECT_EQ(q1.layers[k].bias, q2.layers[k].bias);
    for (size_t c = 0; c < q1.layers[k].requant.size(); ++c) {
      EXPECT_EQ(q1.layers[k].requant[c].multiplier, q2.layers[k].requant[c].multiplier);
      EXPECT_EQ(q1.layers[k].requant[c].shift, q2.layers[k].requant[c].shift);
    }
  }
  EXPECT_EQ(q1.scales, q2.scales);
  const Int8Result a = run_int8(q1, x), b2 = run_int8(q2, x), c = run_int8(q1, x);
  EXPECT_EQ(a.output_int8.i, b2.output_int8.i);
  EXPECT_EQ(a.output_int8.i, c.output_int8.i);
  EXPECT_EQ(a.output_float.f, c.output_float.f);
  // Batch independence: sample 3 alone gives the same codes as inside the batch.
  Tensor one({1, 2, 20}, std::vector<float>(x.f.begin() + 3 * 40, x.f.begin() + 4 * 40));
  const Int8Result s = run_int8(q1, one);
  const size_t per = s.output_int8.i.size();
  EXPECT_EQ(s.output_int8.i, std::vector<int64_t>(a.output_int8.i.begin() + 3 * per,
                                                  a.output_int8.i.begin() + 4 * per));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Int8, BadCalibrationAndUnsupportedOps) {
  GraphBuilder b({1, 2, 20});
  auto y = b.node("Conv", {"x", b.weight("w", {4, 2, 3}, 0.5f)});
  const Graph g = b.finish(y);
  QuantOptions opt;
  opt.calib_source = "calib.npy";
  std::string m = error_of([&] { quantize(g, random_input({8, 2, 21}, 1), opt); });
  EXPECT_NE(m.find("calib.npy"), std::string::npos) << m;
  EXPECT_NE(m.find("[8, 2, 21]"), std::string::npos) << m;
  EXPECT_NE(m.find("[N, 2, 20]"), std::string::npos) << m;
  m = error_of([&] { quantize(g, random_input({8, 40}, 1), opt); });
  EXPECT_NE(m.find("does not match model input"), std::string::npos) << m;
  Tensor nan = random_input({4, 2, 20}, 1);
  nan.f[57] = std::nanf("");
  m = error_of([&] { quantize(g, nan, opt); });
  EXPECT_NE(m.find("calib.npy: element 57"), std::string::npos) << m;
  EXPECT_NE(m.find("NaN"), std::string::npos) << m;
  nan.f[57] = INFINITY;
  m = error_of([&] { quantize(g, nan, opt); });
  EXPECT_NE(m.find("Inf"), std::string::npos) << m;
  // The [N, 1, 2, 20] form is accepted too.
  EXPECT_NO_THROW(quantize(g, random_input({3, 1, 2, 20}, 1), opt));
  // run_int8 checks its input the same way.
  const QuantizedModel q = quantize(g, random_input({3, 2, 20}, 1));
  m = error_of([&] { run_int8(q, random_input({3, 3, 20}, 1)); });
  EXPECT_NE(m.find("does not match"), std::string::npos) << m;
  opt.calib = QuantOptions::Calib::Percentile;
  opt.percentile = 0;
  m = error_of([&] { quantize(g, random_input({3, 2, 20}, 1), opt); });
  EXPECT_NE(m.find("percentile"), std::string::npos) << m;

  GraphBuilder b2({1, 2, 20});
  auto z = b2.node("Exp", {"x"});
  const Graph g2 = b2.finish(z);
  m = error_of([&] { quantize(g2, random_input({3, 2, 20}, 1)); });
  EXPECT_NE(m.find("node 'Exp_0' (Exp)"), std::string::npos) << m;
  EXPECT_NE(m.find("no int8 implementation"), std::string::npos) << m;
}

// ------------------------------------------------------------------ zoo models
std::string zoo(const std::string& rel) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}
bool exists(const std::string& p) {
  return std::ifstream(p).good();
}

TEST(Int8Zoo, DsCae1WithinOneDbSndr) {
  for (const char* f : {"ds_cae1/ds_cae1.onnx", "ds_cae1/calib.npy", "ds_cae1/eval.npy"})
    ASSERT_TRUE(exists(zoo(f))) << "zoo file " << zoo(f) << " missing (the zoo is committed)";
  const Graph g = load_onnx(zoo("ds_cae1/ds_cae1.onnx"));
  const QuantizedModel q = quantize(g, load_npy_as_float(zoo("ds_cae1/calib.npy")));
  const Tensor x = load_npy_as_float(zoo("ds_cae1/eval.npy"));
  auto sndr = [&](const Tensor& xh) {
    double num = 0, den = 0;
    for (size_t k = 0; k < x.f.size(); ++k) {
      num += static_cast<double>(x.f[k]) * x.f[k];
      den += (static_cast<double>(x.f[k]) - xh.f[k]) * (static_cast<double>(x.f[k]) - xh.f[k]);
    }
    return 10 * std::log10(num / den);
  };
  const double f = sndr(run_float(g, x)), i8 = sndr(run_int8(q, x).output_float);
  RecordProperty("sndr_float_db", std::to_string(f));
  RecordProperty("sndr_int8_db", std::to_string(i8));
  EXPECT_GT(i8, f - 1.0) << "float " << f << " dB, int8 " << i8 << " dB";
}

void classifier_within_one_point(const std::string& name) {
  const std::string dir = name + "/";
  for (const std::string& f :
       {dir + name + ".onnx", dir + "calib.npy", dir + "eval.npy", dir + "eval_labels.npy"})
    ASSERT_TRUE(exists(zoo(f))) << "zoo file " << zoo(f) << " missing (the zoo is committed)";
  const Graph g = load_onnx(zoo(dir + name + ".onnx"));
  const QuantizedModel q = quantize(g, load_npy_as_float(zoo(dir + "calib.npy")));
  const Tensor x = load_npy_as_float(zoo(dir + "eval.npy"));
  const Tensor labels = load_npy_as_float(zoo(dir + "eval_labels.npy"));
  auto top1 = [&](const Tensor& y) {
    const int64_t n = labels.size(), k = y.size() / n;
    int64_t hit = 0;
    for (int64_t s = 0; s < n; ++s) {
      int64_t best = 0;
      for (int64_t c = 1; c < k; ++c)
        if (y.f[static_cast<size_t>(s * k + c)] > y.f[static_cast<size_t>(s * k + best)]) best = c;
      hit += best == static_cast<int64_t>(labels.f[static_cast<size_t>(s)]);
    }
    return 100.0 * static_cast<double>(hit) / static_cast<double>(n);
  };
  const double f = top1(run_float(g, x)), i8 = top1(run_int8(q, x).output_float);
  EXPECT_GE(i8, f - 1.0) << name << ": float " << f << "%, int8 " << i8 << "%";
}

TEST(Int8Zoo, DigitsDscnnWithinOnePointTop1) {
  classifier_within_one_point("digits_dscnn");
}
TEST(Int8Zoo, FmnistDscnnWithinOnePointTop1) {
  classifier_within_one_point("fmnist_dscnn");
}

}  // namespace
}  // namespace prunesim
