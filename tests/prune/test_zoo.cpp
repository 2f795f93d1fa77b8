// The committed zoo: every model loads, the float reference reproduces the metrics its training
// script measured in PyTorch (zoo/<model>/float_metrics.json), the DS-CAE1 parts compose, and the
// model cards are complete. CI does not retrain; these tests keep the committed files honest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"

using namespace prunesim;
namespace fs = std::filesystem;

namespace {

fs::path zoo(const std::string& rel) {
  return fs::path(PRUNESIM_SOURCE_DIR) / "zoo" / rel;
}

nlohmann::json float_metrics(const std::string& model) {
  std::ifstream f(zoo(model + "/float_metrics.json"));
  EXPECT_TRUE(f.good()) << "missing " << zoo(model + "/float_metrics.json");
  return nlohmann::json::parse(f);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST(Zoo, DsCae1ReproducesItsCard) {
  const Graph g = load_onnx(zoo("ds_cae1/ds_cae1.onnx").string());
  const Tensor x = load_npy_as_float(zoo("ds_cae1/eval.npy").string());
  EXPECT_EQ(g.shape(g.inputs[0].name), (Shape{1, 96, 100}));
  const Tensor y = run_float(g, x);
  const auto m = float_metrics("ds_cae1");
  EXPECT_NEAR(sndr_db(x, y), m["sndr_db"].get<double>(), 0.05);
  EXPECT_NEAR(r2_score(x, y), m["r2"].get<double>(), 0.002);
}

TEST(Zoo, DsCae1EncoderAndDecoderComposeAndCompressBy150) {
  const Graph whole = load_onnx(zoo("ds_cae1/ds_cae1.onnx").string());
  const Graph enc = load_onnx(zoo("ds_cae1/encoder.onnx").string());
  const Graph dec = load_onnx(zoo("ds_cae1/decoder.onnx").string());
  const Shape latent = enc.shape(enc.outputs[0].name);
  EXPECT_EQ(numel(latent), 64) << shape_str(latent);  // 96*100 / 64 = 150
  const Tensor x = load_npy_as_float(zoo("ds_cae1/sample.npy").string());
  const Tensor a = run_float(whole, x), b = run_float(dec, run_float(enc, x));
  ASSERT_EQ(a.shape, b.shape);
  for (size_t k = 0; k < a.f.size(); ++k) EXPECT_NEAR(a.f[k], b.f[k], 1e-4) << k;
}

class ZooClassifier : public ::testing::TestWithParam<const char*> {};

TEST_P(ZooClassifier, ReproducesItsCard) {
  const std::string m = GetParam();
  const Graph g = load_onnx(zoo(m + "/" + m + ".onnx").string());
  const Tensor x = load_npy_as_float(zoo(m + "/eval.npy").string());
  const Tensor labels = load_npy(zoo(m + "/eval_labels.npy").string());
  const double t = top1(run_float(g, x), labels);
  // Float32 in a different summation order may flip a near-tie: allow one sample in 500.
  EXPECT_NEAR(t, float_metrics(m)["top1"].get<double>(), 0.002) << m;
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooClassifier, ::testing::Values("digits_dscnn", "fmnist_dscnn"));

TEST(Zoo, EveryModelHasACompleteCard) {
  for (const char* m : {"ds_cae1", "digits_dscnn", "fmnist_dscnn"}) {
    const std::string card = slurp(zoo(std::string(m) + "/model_card.md"));
    EXPECT_FALSE(card.empty()) << m;
    EXPECT_EQ(card.find("TBD"), std::string::npos) << m << ": model card still has a TBD";
    EXPECT_NE(card.find("int8"), std::string::npos) << m;
    for (const char* f : {"calib.npy", "eval.npy", "sample.npy"})
      EXPECT_TRUE(fs::exists(zoo(std::string(m) + "/" + f))) << m << "/" << f;
  }
}
