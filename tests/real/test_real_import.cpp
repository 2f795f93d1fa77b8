// Real networks through the importer and both reference executors: float within 1e-4 of
// PyTorch (max |a - b| / max |b|), bit-exact int8 within the model's quantization bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "prune/executor.h"
#include "prune/quant.h"
#include "real_models.h"

namespace prunesim::real {
namespace {

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float a : v) m = std::max(m, std::fabs(static_cast<double>(a)));
  return m;
}

double rel_err(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  double d = 0;
  for (size_t k = 0; k < a.f.size() && k < b.f.size(); ++k)
    d = std::max(d, std::fabs(static_cast<double>(a.f[k]) - b.f[k]));
  return d / std::max(max_abs(b.f), 1e-30);
}

// Fraction of rows of [N, C] logits whose argmax agree.
double top1_agreement(const Tensor& a, const Tensor& b) {
  const int64_t n = a.shape[0], c = a.size() / n;
  int64_t same = 0;
  for (int64_t r = 0; r < n; ++r) {
    auto row = [&](const Tensor& t) {
      auto it = t.f.begin() + r * c;
      return std::max_element(it, it + c) - it;
    };
    same += row(a) == row(b);
  }
  return static_cast<double>(same) / static_cast<double>(n);
}

TEST_P(RealModelTest, FloatMatchesPytorchAndInt8StaysClose) {
  const RealModel& m = GetParam();
  const Tensor yf = run_float(graph, x);
  const double ef = rel_err(yf, y_torch);
  RecordProperty("float_rel", std::to_string(ef));
  EXPECT_LE(ef, 1e-4) << m.name << ": float vs PyTorch";

  const QuantizedModel q = quantize(graph, x);
  const Int8Result r = run_int8(q, x);
  const double eq = rel_err(r.output_float, yf);
  RecordProperty("int8_rel", std::to_string(eq));
  EXPECT_LE(eq, m.int8_rel) << m.name << ": int8 vs float";
  if (m.classifier) {
    const double t = top1_agreement(r.output_float, yf);
    RecordProperty("top1", std::to_string(t));
    EXPECT_GE(t, m.top1) << m.name << ": int8 top-1 agreement with float";
  }
  double sig = 0, err = 0;
  for (size_t k = 0; k < yf.f.size(); ++k) {
    const double d = static_cast<double>(yf.f[k]) - r.output_float.f[k];
    sig += static_cast<double>(yf.f[k]) * yf.f[k];
    err += d * d;
  }
  // One line per model: the figures of the table in docs/onnx-support.md.
  std::printf("%s: float rel %.2g, int8 rel %.3g, int8 SNR %.1f dB, top-1 %s\n", m.name.c_str(), ef,
              eq, 10 * std::log10(sig / std::max(err, 1e-30)),
              m.classifier ? std::to_string(top1_agreement(r.output_float, yf)).c_str() : "-");
}

INSTANTIATE_TEST_SUITE_P(Real, RealModelTest, ::testing::ValuesIn(real_models()),
                         [](const ::testing::TestParamInfo<RealModel>& i) { return i.param.name; });

}  // namespace
}  // namespace prunesim::real
