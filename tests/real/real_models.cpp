// Fixture of the real-network suite: makes sure the exported files exist (running the exporter
// for the one model if the ctest fixture test did not), loads them.
#include "real_models.h"

#include <cstdlib>
#include <fstream>

#include "prune/npy.h"
#include "prune/onnx_io.h"

namespace prunesim::real {

const std::vector<RealModel>& real_models() {
  static const std::vector<RealModel> m = {
      // name, classifier, int8_rel, top1: measured (docs/onnx-support.md) + 25 % on int8_rel;
      // top-1 over the 4 exported samples, so a bound below 1 allows one or two flips.
      {"mobilenet_v2", true, 0.62, 0.5},
      {"resnet18", true, 0.17, 0.75},
      {"squeezenet1_1", true, 0.032, 1.0},
      {"mobilenet_v3_small", true, 0.4, 0.75},
      {"efficientnet_b0", true, 0.48, 0.75},
      {"shufflenet_v2_x0_5", true, 0.67, 0.5},
      {"mnasnet0_5", true, 0.53, 0.75},
      {"densenet121", true, 0.18, 1.0},
      {"googlenet", true, 0.59, 1.0},
      {"regnet_x_400mf", true, 0.49, 0.75},
      {"resnext50_32x4d", true, 0.73, 1.0},
      {"mobilenet_v3_large", true, 0.38, 0.75},
      {"ae1d", false, 0.042, 0},
      {"kws1d", true, 0.012, 1.0},
      {"convnext_tiny", true, 0.04, 1.0},
      {"swin_t", true, 0.087, 1.0},
  };
  // The heavy exports (torchvision_models.py LARGE: alexnet and vgg11 at 224x224, 61 M and
  // 133 M parameters; vit_b_32, 88 M) are opt-in.
  static const std::vector<RealModel> large = [] {
    std::vector<RealModel> v = m;
    const char* e = std::getenv("PRUNESIM_REAL_LARGE");
    if (e && *e && std::string(e) != "0") {
      v.push_back({"alexnet", true, 0.016, 1.0});
      v.push_back({"vgg11", true, 0.087, 1.0});
      v.push_back({"vit_b_32", true, 0.36, 1.0});
    }
    return v;
  }();
  return large;
}

namespace {
bool exists(const std::string& p) {
  return std::ifstream(p).good();
}
}  // namespace

// PRUNESIM_TVMODELS_DIR runs the suite on another export (another --opset, say); models not in
// it are skipped rather than exported there at the default opset.
std::string models_dir() {
  const char* d = std::getenv("PRUNESIM_TVMODELS_DIR");
  return d && *d ? d : std::string(PRUNESIM_BINARY_DIR) + "/tvmodels";
}

std::string RealModelTest::path(const std::string& suffix) const {
  return models_dir() + "/" + GetParam().name + suffix;
}

void RealModelTest::SetUp() {
  const std::string name = GetParam().name;
  if (!exists(path(".onnx")) || !exists(path("_x.npy")) || !exists(path("_y.npy"))) {
    // The exporter needs Debian's python3-torchvision (scripts/setup.sh installs it); without it
    // there is nothing to test against.
    const char* other = std::getenv("PRUNESIM_TVMODELS_DIR");
    if (other && *other) GTEST_SKIP() << name << " is not exported in " << other;
    if (std::system("/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "/usr/bin/python3 has no torchvision: cannot export " << name;
    const std::string cmd = "/usr/bin/python3 " + std::string(PRUNESIM_SOURCE_DIR) +
                            "/scripts/zoo/torchvision_models.py --out " + models_dir() + " " + name;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  graph = load_onnx(path(".onnx"));
  x = load_npy_as_float(path("_x.npy"));
  y_torch = load_npy_as_float(path("_y.npy"));
}

}  // namespace prunesim::real
