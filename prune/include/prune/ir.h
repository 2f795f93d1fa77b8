// Graph IR of the pruning front end: tensors, nodes with ONNX-style attributes, and the graph
// (topologically ordered nodes, initializers, inferred shapes). Everything downstream — the
// executors, quantization, pruning schemes, weight tables — works on this, never on protobuf.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prunesim {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[1, 96, 100]"

// Element types we can meet in a model or an .npy. The float reference computes in float32;
// integer initializers (Reshape shapes, Resize sizes, …) keep their values in `i`.
enum class DType : uint8_t { F32, F64, I8, U8, I32, I64, BOOL, OTHER };
const char* dtype_name(DType t);

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<float> f;    // F32/F64 payload (F64 narrowed to float)
  std::vector<int64_t> i;  // integer/bool payload

  Tensor() = default;
  explicit Tensor(Shape s) : shape(std::move(s)), f(static_cast<size_t>(numel(shape)), 0.f) {}
  Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), f(std::move(d)) {}
  static Tensor ints(Shape s, std::vector<int64_t> d) {
    Tensor t;
    t.dtype = DType::I64;
    t.shape = std::move(s);
    t.i = std::move(d);
    return t;
  }
  bool is_float() const { return dtype == DType::F32 || dtype == DType::F64; }
  int64_t size() const { return numel(shape); }
};

struct Attribute {
  enum class Kind { INT, FLOAT, STRING, INTS, FLOATS, TENSOR, OTHER };
  Kind kind = Kind::OTHER;
  int64_t i = 0;
  float f = 0.f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  Tensor t;
};

struct Node {
  std::string name;  // never empty after import (synthesised as "<op>_<index>" if missing)
  std::string op;
  std::vector<std::string> inputs;  // "" marks an absent optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  int64_t attr_i(const std::string& a, int64_t dflt) const;
  float attr_f(const std::string& a, float dflt) const;
  std::string attr_s(const std::string& a, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const std::string& a, std::vector<int64_t> dflt = {}) const;
  std::vector<float> attr_floats(const std::string& a, std::vector<float> dflt = {}) const;
  // Input i if present and non-empty, else "".
  const std::string& in(size_t i) const;
};

struct ValueInfo {
  std::string name;
  Shape shape;  // -1 for a symbolic dimension (resolved to 1 for batch by shape inference)
  DType dtype = DType::F32;
};

struct Graph {
  std::string source;  // file the graph came from, for error messages
  std::string name;
  int64_t opset = 0;
  std::vector<ValueInfo> inputs;  // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> initializers;
  std::vector<Node> nodes;              // topological order
  std::map<std::string, Shape> shapes;  // every value's shape, after infer_shapes()

  bool is_const(const std::string& v) const { return initializers.count(v) != 0; }
  const Tensor& init(const std::string& v) const;  // throws if missing
  const Node* producer(const std::string& v) const;
  std::vector<const Node*> consumers(const std::string& v) const;
  const Shape& shape(const std::string& v) const;  // throws if unknown
};

}  // namespace prunesim
