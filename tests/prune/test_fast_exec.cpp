// The fast executors against the golden ones: run_int8_fast equals run_int8 code for code and
// run_float_fast equals run_float bit for bit, on small graphs of every conv/gemm shape the
// kernels special-case and on every zoo model, with every kernel ISA this CPU has and several
// thread counts; the prefix cache gives a full run's result and reuses what it should.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <tuple>

#include "common/graph_builder.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"

namespace prunesim {
namespace {

std::vector<KernelIsa> isas() {
  std::vector<KernelIsa> v;
  for (KernelIsa i : {KernelIsa::Scalar, KernelIsa::Avx2, KernelIsa::AvxVnni, KernelIsa::Avx512})
    if (kernel_isa_supported(i)) v.push_back(i);
  return v;
}

// Index of the first differing element, or -1.
template <class T>
int64_t first_diff(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t k = 0; k < a.size(); ++k)
    if (std::memcmp(&a[k], &b[k], sizeof(T)) != 0) return static_cast<int64_t>(k);
  return -1;
}

void expect_int8_equal(const QuantizedModel& q, const Tensor& x, const std::string& what) {
  const Int8Result ref = run_int8(q, x);
  for (KernelIsa isa : isas())
    for (int threads : {1, 3}) {
      ExecOptions o;
      o.isa = isa;
      o.threads = threads;
      const Int8Result f = run_int8_fast(q, x, o);
      EXPECT_EQ(f.output_int8.shape, ref.output_int8.shape) << what;
      const int64_t d = first_diff(f.output_int8.i, ref.output_int8.i);
      EXPECT_EQ(d, -1) << what << ", " << kernel_isa_name(isa) << ", " << threads
                       << " threads: code "
                       << (d >= 0 && d < (int64_t)f.output_int8.i.size() ? f.output_int8.i[d] : 0)
                       << " where run_int8 has "
                       << (d >= 0 && d < (int64_t)ref.output_int8.i.size() ? ref.output_int8.i[d]
                                                                           : 0);
      EXPECT_EQ(first_diff(f.output_float.f, ref.output_float.f), -1) << what;
    }
}

void expect_float_equal(const Graph& g, const Tensor& x, const std::string& what) {
  const Tensor ref = run_float(g, x);
  for (KernelIsa isa : isas())
    for (int threads : {1, 2}) {
      ExecOptions o;
      o.isa = isa;
      o.threads = threads;
      const Tensor f = run_float_fast(g, x, o);
      EXPECT_EQ(f.shape, ref.shape) << what;
      const int64_t d = first_diff(f.f, ref.f);
      EXPECT_EQ(d, -1) << what << ", " << kernel_isa_name(isa) << ": " << (d >= 0 ? f.f[d] : 0.f)
                       << " where run_float has " << (d >= 0 ? ref.f[d] : 0.f);
    }
}

void expect_both(const Graph& g, Shape sample, const std::string& what) {
  Shape cs = sample, es = sample;
  cs[0] = 48;
  es[0] = 21;  // not a multiple of the thread counts
  const QuantizedModel q = quantize(g, random_input(cs, 11));
  const Tensor x = random_input(es, 12, 0.9f);
  expect_int8_equal(q, x, what);
  expect_float_equal(g, x, what);
}

TEST(FastExec, KernelIsaIsReported) {
  EXPECT_TRUE(kernel_isa_supported(best_kernel_isa()));
  EXPECT_NE(std::string(kernel_isa_name(KernelIsa::Auto)), "?");
  RecordProperty("kernel_isa", kernel_isa_name(KernelIsa::Auto));
}

TEST(FastExec, Conv2dStridesPadsDilationsAndGroups) {
  {
    GraphBuilder b({1, 3, 13, 11});
    auto y = b.node("Conv", {"x", b.weight("w", {21, 3, 3, 3}, 0.3f), b.weight("b", {21}, 0.1f)},
                    {{"pads", ints({1, 2, 0, 1})}, {"strides", ints({2, 1})}});
    y = b.node("Relu", {y});
    y = b.node("Conv", {y, b.weight("w2", {9, 7, 2, 3}, 0.3f)},  // 3 groups of 7 channels
               {{"group", int1(3)}, {"dilations", ints({2, 1})}, {"pads", ints({1, 1, 1, 1})}});
    expect_both(b.finish(y), {1, 3, 13, 11}, "conv2d + grouped");
  }
  {  // many output channels (row blocks and remainders), 1x1 on a > 64-pixel plane
    GraphBuilder b({1, 13, 9, 10});
    auto y = b.node("Conv", {"x", b.weight("w", {37, 13, 1, 1}, 0.3f), b.weight("b", {37}, 0.1f)});
    y = b.node("Clip",
               {y, b.constant("lo", Tensor({}, {-0.5f})), b.constant("hi", Tensor({}, {1.f}))});
    expect_both(b.finish(y), {1, 13, 9, 10}, "pointwise");
  }
}

TEST(FastExec, DepthwiseAndChannelMultiplier) {
  {
    GraphBuilder b({1, 6, 70});
    auto y = b.node("Conv", {"x", b.weight("dw", {6, 1, 5}, 0.4f), b.weight("db", {6}, 0.1f)},
                    {{"group", int1(6)}, {"pads", ints({4, 3})}, {"dilations", ints({2})}});
    y = b.node("Relu", {y});
    y = b.node("Conv", {y, b.weight("dw2", {6, 1, 3}, 0.4f)},
               {{"group", int1(6)}, {"strides", ints({2})}, {"pads", ints({1, 1})}});
    y = b.node("Conv", {y, b.weight("dm", {12, 1, 3}, 0.4f)},  // depth multiplier 2
               {{"group", int1(6)}, {"pads", ints({1, 1})}});
    expect_both(b.finish(y), {1, 6, 70}, "depthwise 1-D");
  }
  {
    GraphBuilder b({1, 5, 9, 8});
    auto y = b.node("Conv", {"x", b.weight("dw", {5, 1, 3, 3}, 0.4f), b.weight("db", {5}, 0.1f)},
                    {{"group", int1(5)}, {"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 2})}});
    expect_both(b.finish(y), {1, 5, 9, 8}, "depthwise 2-D stride 2");
  }
}

TEST(FastExec, ConvTranspose1dAnd2d) {
  {
    GraphBuilder b({1, 6, 23});  // stride 3 with output padding, three groups
    auto y =
        b.node("ConvTranspose", {"x", b.weight("w", {6, 2, 5}, 0.3f), b.weight("b", {6}, 0.1f)},
               {{"strides", ints({3})},
                {"pads", ints({2, 0})},
                {"output_padding", ints({2})},
                {"group", int1(3)}});
    expect_both(b.finish(y), {1, 6, 23}, "convtranspose 1-D");
  }
  {
    GraphBuilder b({1, 3, 5, 6});
    auto y = b.node(
        "ConvTranspose", {"x", b.weight("w", {3, 4, 3, 3}, 0.3f)},
        {{"strides", ints({2, 3})}, {"pads", ints({1, 0, 1, 2})}, {"dilations", ints({1, 2})}});
    y = b.node("Relu", {y});
    expect_both(b.finish(y), {1, 3, 5, 6}, "convtranspose 2-D");
  }
}

TEST(FastExec, GemmMatMulAndOtherOps) {
  GraphBuilder b({1, 4, 3, 3});
  auto y = b.node("MaxPool", {"x"}, {{"kernel_shape", ints({2, 2})}, {"pads", ints({0, 0, 1, 1})}});
  y = b.node("Flatten", {"x"});
  y = b.node("Gemm", {y, b.weight("w", {12, 36}, 0.2f), b.weight("c", {12}, 0.2f)},
             {{"transB", int1(1)}, {"alpha", flt(0.7f)}});
  y = b.node("Relu", {y});
  y = b.node("MatMul", {y, b.weight("m", {12, 5}, 0.3f)});
  y = b.node("Add", {y, b.weight("mb", {5}, 0.2f)});
  y = b.node("Sigmoid", {y});
  expect_both(b.finish(y), {1, 4, 3, 3}, "gemm + matmul");
}

TEST(FastExec, InputQuantizationRoundsHalvesAwayAndSaturates) {
  GraphBuilder b({1, 1, 300});
  auto y = b.node("Conv", {"x", b.weight("w", {2, 1, 3}, 0.5f)}, {{"pads", ints({1, 1})}});
  QuantizedModel q = quantize(b.finish(y), random_input({8, 1, 300}, 1));
  q.input_scale = 0.25f;  // x = (k + 1/2) / 4 is exact: every quotient is a tie
  Tensor x({2, 1, 300});
  for (int64_t k = 0; k < 300; ++k) {
    x.f[static_cast<size_t>(k)] = (static_cast<float>(k - 150) + 0.5f) * 0.25f;
    x.f[static_cast<size_t>(300 + k)] = static_cast<float>(k - 150) * 0.2499f + 1e30f * (k == 7);
  }
  expect_int8_equal(q, x, "ties and saturation");
  ExecOptions o;
  for (KernelIsa isa : isas()) {
    o.isa = isa;
    Int8ActivationCache cache;  // holds the quantized input
    run_int8_cached(q, x, cache, o);
    for (int64_t k = 0; k < 600; ++k)
      ASSERT_EQ(cache.input_codes[static_cast<size_t>(k)],
                hls::quantize_value(x.f[static_cast<size_t>(k)], 0.25f))
          << kernel_isa_name(isa) << " element " << k;
  }
}

// ------------------------------------------------------------------ zoo models
std::string zoo(const std::string& rel) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}

Tensor first_samples(const Tensor& t, int64_t n) {
  n = std::min(n, t.shape[0]);
  Shape s = t.shape;
  const int64_t per = numel(s) / s[0];
  s[0] = n;
  return Tensor(s, std::vector<float>(t.f.begin(), t.f.begin() + n * per));
}

struct ZooCase {
  const char* model;
  const char* data;
  int64_t samples;
};

void PrintTo(const ZooCase& c, std::ostream* os) {
  *os << c.model << " on " << c.samples << " samples of " << c.data;
}

class FastExecZoo : public ::testing::TestWithParam<ZooCase> {};

TEST_P(FastExecZoo, EqualsTheReferenceExecutors) {
  const ZooCase c = GetParam();
  ASSERT_TRUE(std::ifstream(zoo(c.model)).good()) << zoo(c.model) << " missing";
  const std::string dir = std::string(c.model).substr(0, std::string(c.model).find('/') + 1);
  const Graph g = load_onnx(zoo(c.model));
  const QuantizedModel q = quantize(g, load_npy_as_float(zoo(dir + "calib.npy")));
  const Tensor x = first_samples(load_npy_as_float(zoo(dir + c.data)), c.samples);
  expect_int8_equal(q, x, c.model);
  expect_float_equal(g, x, c.model);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, FastExecZoo,
    ::testing::Values(ZooCase{"ds_cae1/ds_cae1.onnx", "eval.npy", 200},
                      ZooCase{"ds_cae1/encoder.onnx", "eval.npy", 300},
                      ZooCase{"digits_dscnn/digits_dscnn.onnx", "eval.npy", 400},
                      ZooCase{"fmnist_dscnn/fmnist_dscnn.onnx", "eval.npy", 300},
                      ZooCase{"hsi_unet/hsi_unet.onnx", "calib.npy", 40},
                      ZooCase{"hsi_unet/hsi_unet_pruned.onnx", "calib.npy", 40}),
    [](const ::testing::TestParamInfo<ZooCase>& i) {
      std::string n = i.param.model;
      for (char& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(FastExec, ObserverSeesWhatRunFloatsSees) {
  const Graph g = load_onnx(zoo("fmnist_dscnn/fmnist_dscnn.onnx"));
  const Tensor x = first_samples(load_npy_as_float(zoo("fmnist_dscnn/eval.npy")), 5);
  std::vector<std::pair<std::string, std::vector<float>>> seen[2];
  for (int k = 0; k < 2; ++k) {
    const Observer obs = [&](const Node& n, const std::string& v, const Tensor& t) {
      seen[k].push_back({n.name + "/" + v, t.f});
    };
    ExecOptions o;
    o.threads = 2;  // ignored with an observer: one thread, samples in order
    if (k == 0)
      run_float(g, x, obs);
    else
      run_float_fast(g, x, o, obs);
  }
  ASSERT_EQ(seen[0].size(), seen[1].size());
  for (size_t i = 0; i < seen[0].size(); ++i) {
    EXPECT_EQ(seen[0][i].first, seen[1][i].first);
    EXPECT_EQ(first_diff(seen[0][i].second, seen[1][i].second), -1) << seen[0][i].first;
  }
}

// The RAMAN twin counts every layer from the codes an observer hands it: the fast int8
// executor's observer must see run_int8's layers, codes and shapes, sample after sample.
TEST(FastExec, Int8ObserverSeesWhatRunInt8Sees) {
  const Graph g = load_onnx(zoo("fmnist_dscnn/fmnist_dscnn.onnx"));
  const QuantizedModel q = quantize(g, load_npy_as_float(zoo("fmnist_dscnn/calib.npy")));
  const Tensor x = first_samples(load_npy_as_float(zoo("fmnist_dscnn/eval.npy")), 3);
  std::vector<std::tuple<std::string, std::vector<int8_t>, Shape>> seen[2];
  for (int k = 0; k < 2; ++k) {
    const Int8Observer obs = [&](const QLayer& L, const std::vector<int8_t>& c, const Shape& s) {
      seen[k].emplace_back(L.name, c, s);
    };
    ExecOptions o;
    o.threads = 2;  // ignored with an observer: one thread, samples in order
    const Int8Result r = k == 0 ? run_int8(q, x, obs) : run_int8_fast(q, x, o, obs);
    EXPECT_EQ(r.output_int8.i, run_int8(q, x).output_int8.i);
  }
  ASSERT_EQ(seen[0].size(), 3 * q.layers.size());
  ASSERT_EQ(seen[0].size(), seen[1].size());
  for (size_t i = 0; i < seen[0].size(); ++i) {
    EXPECT_EQ(std::get<0>(seen[0][i]), std::get<0>(seen[1][i]));
    EXPECT_EQ(std::get<1>(seen[0][i]), std::get<1>(seen[1][i])) << std::get<0>(seen[0][i]);
    EXPECT_EQ(std::get<2>(seen[0][i]), std::get<2>(seen[1][i]));
  }
}

TEST(FastExec, QuantizationCalibratesTheSameOnBothExecutors) {
  // quantize() calibrates through run_float_batch: the fast executor must give the same program.
  const Graph g = load_onnx(zoo("ds_cae1/ds_cae1.onnx"));
  const Tensor calib = load_npy_as_float(zoo("ds_cae1/calib.npy"));
  for (auto method : {QuantOptions::Calib::MinMax, QuantOptions::Calib::Percentile}) {
    QuantOptions opt;
    opt.calib = method;
    setenv("PRUNESIM_EXECUTOR", "reference", 1);
    const QuantizedModel a = quantize(g, calib, opt);
    unsetenv("PRUNESIM_EXECUTOR");
    const QuantizedModel b = quantize(g, calib, opt);
    EXPECT_EQ(a.scales, b.scales);
    EXPECT_EQ(a.ranges, b.ranges);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t k = 0; k < a.layers.size(); ++k) {
      EXPECT_EQ(a.layers[k].weight, b.layers[k].weight) << a.layers[k].name;
      EXPECT_EQ(a.layers[k].bias, b.layers[k].bias) << a.layers[k].name;
      ASSERT_EQ(a.layers[k].requant.size(), b.layers[k].requant.size());
      for (size_t r = 0; r < a.layers[k].requant.size(); ++r) {
        EXPECT_EQ(a.layers[k].requant[r].multiplier, b.layers[k].requant[r].multiplier);
        EXPECT_EQ(a.layers[k].requant[r].shift, b.layers[k].requant[r].shift);
      }
    }
  }
}

// ------------------------------------------------------------------ prefix cache
// Three convs; `w2`/`w3` scale the last two layers' weights, which changes them and nothing
// before them.
Graph three_convs(float w2, float w3) {
  GraphBuilder b({1, 4, 10, 10});
  auto y =
      b.node("Conv", {"x", b.weight("w1", {8, 4, 3, 3}, 0.3f)}, {{"pads", ints({1, 1, 1, 1})}});
  y = b.node("Relu", {y});
  y = b.node("Conv", {y, b.weight("w2", {8, 8, 1, 1}, 0.3f * w2)});
  y = b.node("Relu", {y});
  y = b.node("Conv", {y, b.weight("w3", {4, 8, 3, 3}, 0.3f * w3)}, {{"pads", ints({1, 1, 1, 1})}});
  return b.finish(y);
}

TEST(FastExecCache, ReusesTheSharedPrefixAndEqualsAFullRun) {
  const Tensor calib = random_input({32, 4, 10, 10}, 3), x = random_input({9, 4, 10, 10}, 4);
  const QuantizedModel a = quantize(three_convs(1.f, 1.f), calib);
  const QuantizedModel b = quantize(three_convs(1.f, 0.5f), calib);  // last layer differs
  const QuantizedModel c = quantize(three_convs(0.5f, 1.f), calib);  // middle layer differs
  ASSERT_EQ(a.layers.size(), 3u);
  Int8ActivationCache cache;
  size_t reused = 99;
  ExecOptions o;
  o.threads = 2;
  auto check = [&](const QuantizedModel& q, size_t want) {
    const Int8Result r = run_int8_cached(q, x, cache, o, &reused);
    EXPECT_EQ(reused, want);
    EXPECT_EQ(r.output_int8.i, run_int8(q, x).output_int8.i);
    EXPECT_EQ(r.output_int8.shape, run_int8(q, x).output_int8.shape);
  };
  check(a, 0);  // empty cache
  check(a, 3);  // the same model: everything from the cache
  check(b, 2);
  check(a, 2);
  check(c, 1);
  EXPECT_GT(cache.bytes(), 9u * 8 * 100);
  // Other input data: nothing can be reused.
  const Tensor x2 = random_input({9, 4, 10, 10}, 5);
  const Int8Result r = run_int8_cached(c, x2, cache, o, &reused);
  EXPECT_EQ(reused, 0u);
  EXPECT_EQ(r.output_int8.i, run_int8(c, x2).output_int8.i);
  EXPECT_EQ(shared_prefix(cache, c, std::vector<int8_t>(cache.input_codes)), 3u);
}

TEST(FastExecCache, PrunedZooModelSharesItsUnprunedLayers) {
  // The ds_cae1 encoder with its last conv's weights zeroed below a threshold: everything
  // before that layer comes from the cache.
  Graph g = load_onnx(zoo("ds_cae1/encoder.onnx"));
  const Tensor calib = load_npy_as_float(zoo("ds_cae1/calib.npy"));
  const Tensor x = first_samples(load_npy_as_float(zoo("ds_cae1/eval.npy")), 50);
  QuantizedModel q0 = quantize(g, calib);
  QuantizedModel q1 = q0;
  QLayer& last = q1.layers.back();
  ASSERT_FALSE(last.weight.empty());
  for (auto& w : last.weight)
    if (w > -20 && w < 20) w = 0;
  Int8ActivationCache cache;
  size_t reused = 0;
  run_int8_cached(q0, x, cache, {}, &reused);
  const Int8Result r = run_int8_cached(q1, x, cache, {}, &reused);
  EXPECT_EQ(reused, q1.layers.size() - 1);
  EXPECT_EQ(r.output_int8.i, run_int8(q1, x).output_int8.i);
  EXPECT_NE(r.output_int8.i, run_int8(q0, x).output_int8.i);
}

// ------------------------------------------------------------------ selection
TEST(FastExec, EnvironmentSelectsTheReferenceExecutor) {
  GraphBuilder b({1, 2, 8});
  auto y = b.node("Conv", {"x", b.weight("w", {3, 2, 3}, 0.5f)}, {{"pads", ints({1, 1})}});
  const Graph g = b.finish(y);
  const QuantizedModel q = quantize(g, random_input({16, 2, 8}, 1));
  const Tensor x = random_input({5, 2, 8}, 2);
  for (const char* v : {"reference", "fast"}) {
    setenv("PRUNESIM_EXECUTOR", v, 1);
    EXPECT_EQ(reference_executor_selected(), std::string(v) == "reference");
    EXPECT_EQ(run_int8_batch(q, x).output_int8.i, run_int8(q, x).output_int8.i);
    EXPECT_EQ(run_float_batch(g, x).f, run_float(g, x).f);
  }
  setenv("PRUNESIM_EXECUTOR", "turbo", 1);
  try {
    run_int8_batch(q, x);
    ADD_FAILURE() << "no error for PRUNESIM_EXECUTOR=turbo";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("PRUNESIM_EXECUTOR"), std::string::npos) << e.what();
  }
  unsetenv("PRUNESIM_EXECUTOR");
}

}  // namespace
}  // namespace prunesim
