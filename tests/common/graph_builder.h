// Small graphs built in code for the executor and quantizer tests: ONNX-style attribute helpers,
// a builder with seeded random weights (shapes inferred and ops checked on finish), and seeded
// normal input tensors.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "prune/graph_passes.h"
#include "prune/ir.h"

namespace prunesim {

inline Attribute ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::INTS;
  a.ints = std::move(v);
  return a;
}
inline Attribute int1(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::INT;
  a.i = v;
  return a;
}
inline Attribute flt(float v) {
  Attribute a;
  a.kind = Attribute::Kind::FLOAT;
  a.f = v;
  return a;
}
inline Attribute str(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::STRING;
  a.s = v;
  return a;
}

// Builds small graphs in code with seeded random weights.
class GraphBuilder {
 public:
  explicit GraphBuilder(Shape input, uint32_t seed = 1) : rng_(seed) {
    g_.source = "test.onnx";
    g_.opset = 13;
    g_.inputs.push_back({"x", std::move(input), DType::F32});
  }
  std::string weight(const std::string& name, Shape s, float sd) {
    std::normal_distribution<float> d(0.f, sd);
    Tensor t(s);
    for (auto& v : t.f) v = d(rng_);
    g_.initializers[name] = t;
    return name;
  }
  std::string constant(const std::string& name, Tensor t) {
    g_.initializers[name] = std::move(t);
    return name;
  }
  std::string node(const std::string& op, std::vector<std::string> in,
                   std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.op = op;
    n.name = op + "_" + std::to_string(g_.nodes.size());
    n.inputs = std::move(in);
    n.outputs = {n.name + "_out"};
    n.attrs = std::move(attrs);
    g_.nodes.push_back(n);
    return n.outputs[0];
  }
  Graph finish(const std::string& out) {
    g_.outputs.push_back({out, {}, DType::F32});
    check_supported(g_);
    infer_shapes(g_);
    return g_;
  }

 private:
  Graph g_;
  std::mt19937 rng_;
};

inline Tensor random_input(Shape s, uint32_t seed, float sd = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sd);
  Tensor t(std::move(s));
  for (auto& v : t.f) v = d(rng);
  return t;
}

}  // namespace prunesim
