#include "prune/ir.h"

#include <sstream>
#include <stdexcept>

namespace prunesim {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << '[';
  for (size_t k = 0; k < s.size(); ++k) o << (k ? ", " : "") << s[k];
  o << ']';
  return o.str();
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::F64:
      return "float64";
    case DType::I8:
      return "int8";
    case DType::U8:
      return "uint8";
    case DType::I32:
      return "int32";
    case DType::I64:
      return "int64";
    case DType::BOOL:
      return "bool";
    default:
      return "other";
  }
}

int64_t Node::attr_i(const std::string& a, int64_t dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.i;
}
float Node::attr_f(const std::string& a, float dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.f;
}
std::string Node::attr_s(const std::string& a, const std::string& dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.s;
}
std::vector<int64_t> Node::attr_ints(const std::string& a, std::vector<int64_t> dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.ints;
}
std::vector<float> Node::attr_floats(const std::string& a, std::vector<float> dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.floats;
}
const std::string& Node::in(size_t k) const {
  static const std::string none;
  return k < inputs.size() ? inputs[k] : none;
}

const Tensor& Graph::init(const std::string& v) const {
  auto it = initializers.find(v);
  if (it == initializers.end()) throw std::logic_error("no initializer '" + v + "'");
  return it->second;
}

const Node* Graph::producer(const std::string& v) const {
  for (const Node& n : nodes)
    for (const auto& o : n.outputs)
      if (o == v) return &n;
  return nullptr;
}

std::vector<const Node*> Graph::consumers(const std::string& v) const {
  std::vector<const Node*> r;
  for (const Node& n : nodes)
    for (const auto& i : n.inputs)
      if (i == v) {
        r.push_back(&n);
        break;
      }
  return r;
}

const Shape& Graph::shape(const std::string& v) const {
  auto it = shapes.find(v);
  if (it == shapes.end()) throw std::logic_error("no shape for value '" + v + "'");
  return it->second;
}

}  // namespace prunesim
