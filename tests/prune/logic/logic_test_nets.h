// Random netlists for the logic tests: layered or arbitrary DAGs with every function, complemented
// outputs and random inputs, so that the evaluator and the format are checked on structures no
// trainer would produce (gates reading inputs directly, outputs on inputs, dead gates).
#pragma once

#include <random>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::logic::test_nets {

inline Netlist random_netlist(std::mt19937_64& rng, uint32_t features, uint32_t gates,
                              uint32_t classes, uint32_t per_class) {
  Netlist n;
  n.encoder.thresholds.resize(features);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& t : n.encoder.thresholds) {
    const int k = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < k; ++i) t.push_back(u(rng));
  }
  n.inputs = n.encoder.bits();
  for (uint32_t i = 0; i < gates; ++i) {
    const uint32_t s = n.inputs + i;
    n.gates.push_back({static_cast<uint32_t>(rng() % s), static_cast<uint32_t>(rng() % s),
                       static_cast<TruthTable>(rng() % 16), i / 7});
  }
  n.classes = classes;
  for (uint32_t k = 0; k < classes * per_class; ++k) {
    n.outputs.push_back(static_cast<uint32_t>(rng() % n.signals()));
    n.out_negate.push_back(static_cast<uint8_t>(rng() % 4 == 0));
  }
  n.tau = 2.5f;
  n.meta = "random test network";
  return n;
}

// n samples of the netlist's features, uniform in [-1.2, 1.2] (some beyond every threshold).
inline std::vector<float> random_features(std::mt19937_64& rng, const Netlist& n, size_t samples) {
  std::uniform_real_distribution<float> u(-1.2f, 1.2f);
  std::vector<float> x(samples * n.encoder.thresholds.size());
  for (auto& v : x) v = u(rng);
  return x;
}

}  // namespace prunesim::logic::test_nets
