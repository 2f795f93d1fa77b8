// Test helper: builds small ONNX models in memory (protobuf), so importer and executor tests
// do not depend on Python or on committed binaries.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "prune/ir.h"
#include "prune/onnx_io.h"

namespace prunesim::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13) {
    m_.set_ir_version(8);
    auto* os = m_.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
    m_.mutable_graph()->set_name("test");
  }
  void input(const std::string& name, const Shape& shape) {
    vi(m_.mutable_graph()->add_input(), name, shape);
  }
  void output(const std::string& name) { vi(m_.mutable_graph()->add_output(), name, {}); }
  void init(const std::string& name, const Shape& shape, const std::vector<float>& v) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : shape) t->add_dims(d);
    for (auto x : v) t->add_float_data(x);
  }
  void init_i64(const std::string& name, const Shape& shape, const std::vector<int64_t>& v) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : shape) t->add_dims(d);
    for (auto x : v) t->add_int64_data(x);
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& name = "") {
    auto* n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& a, int64_t v) {
    auto* p = n->add_attribute();
    p->set_name(a);
    p->set_type(onnx::AttributeProto::INT);
    p->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& a, const std::vector<int64_t>& v) {
    auto* p = n->add_attribute();
    p->set_name(a);
    p->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) p->add_ints(x);
  }
  static void attr_f(onnx::NodeProto* n, const std::string& a, float v) {
    auto* p = n->add_attribute();
    p->set_name(a);
    p->set_type(onnx::AttributeProto::FLOAT);
    p->set_f(v);
  }
  static void attr_s(onnx::NodeProto* n, const std::string& a, const std::string& v) {
    auto* p = n->add_attribute();
    p->set_name(a);
    p->set_type(onnx::AttributeProto::STRING);
    p->set_s(v);
  }
  std::string bytes() const { return m_.SerializeAsString(); }
  Graph graph(const ImportOptions& o = {}) const { return parse_onnx(bytes(), "test.onnx", o); }

 private:
  static void vi(onnx::ValueInfoProto* v, const std::string& name, const Shape& shape) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    for (auto d : shape) {
      if (d < 0)
        sh->add_dim()->set_dim_param("N");
      else
        sh->add_dim()->set_dim_value(d);
    }
  }
  onnx::ModelProto m_;
};

// Deterministic pseudo-random values in [-1, 1) (no <random> distribution differences).
inline std::vector<float> ramp(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>((s >> 8) & 0xFFFF) / 32768.f - 1.f;
  }
  return v;
}

}  // namespace prunesim::testing
