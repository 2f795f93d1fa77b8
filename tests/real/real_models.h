// The real-network suite (issue 12): torchvision architectures and two 1-D nets exported by
// scripts/zoo/torchvision_models.py into <build>/tvmodels. One list of models and one fixture,
// so later checks (prune, simulate) are a new TEST_P on RealModelTest over the same list.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim::real {

struct RealModel {
  std::string name;
  bool classifier;  // [N, 10] logits: top-1 agreement is checked
  // Bounds of this model's int8 output against float on its own inputs (calibrated on them):
  // max |int8 - float| / max |float|, and (classifiers) the fraction of samples with the same
  // top-1 class. Set from the measured values with headroom (docs/onnx-support.md has them).
  double int8_rel;
  double top1;
};

// gtest prints the parameter in test names and ctest listings: the model's name.
inline void PrintTo(const RealModel& m, std::ostream* os) {
  *os << m.name;
}

// Every model the suite runs, in one place.
const std::vector<RealModel>& real_models();

// Per model: the ONNX graph, the inputs (also the calibration set) and PyTorch's outputs.
class RealModelTest : public ::testing::TestWithParam<RealModel> {
 protected:
  void SetUp() override;
  std::string path(const std::string& suffix) const;  // <build>/tvmodels/<name><suffix>
  Graph graph;
  Tensor x, y_torch;
};

}  // namespace prunesim::real
