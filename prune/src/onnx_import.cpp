// ONNX (protobuf) <-> graph IR. Only this file and tensor conversion know about protobuf.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "base/limits.h"
#include "prune/errors.h"
#include "prune/graph_passes.h"
#include "prune/onnx_io.h"

namespace prunesim {
namespace {

constexpr int64_t kMinOpset =
    1;  // legacy attribute forms are rejected per op, so old opsets are safe
constexpr int64_t kMaxOpset = 17;  // newest opset of libonnx 1.12, the one we test against

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open file");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

DType from_onnx_type(int t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
      return DType::F32;
    case onnx::TensorProto::DOUBLE:
      return DType::F64;
    case onnx::TensorProto::INT8:
      return DType::I8;
    case onnx::TensorProto::UINT8:
      return DType::U8;
    case onnx::TensorProto::INT32:
      return DType::I32;
    case onnx::TensorProto::INT64:
      return DType::I64;
    case onnx::TensorProto::BOOL:
      return DType::BOOL;
    default:
      return DType::OTHER;
  }
}

template <typename T>
void raw_to(const std::string& raw, size_t n, std::vector<T>& out) {
  out.resize(n);
  if (n == 0) return;  // an empty vector's data() may be null: memcpy(nullptr, ..., 0) is UB
  std::memcpy(out.data(), raw.data(), n * sizeof(T));
}

// Converts one TensorProto; `where` names it in errors.
Tensor convert_tensor(const onnx::TensorProto& tp, const std::string& file,
                      const std::string& where) {
  Tensor t;
  t.dtype = from_onnx_type(tp.data_type());
  for (auto d : tp.dims()) {
    if (d < 0) fail(file, where, "negative dimension " + std::to_string(d));
    t.shape.push_back(d);
  }
  if (tp.data_location() == onnx::TensorProto::EXTERNAL)
    unsupported(file, where, "external tensor data is not supported");
  // Overflow-checked and capped before anything is allocated or multiplied (base/limits.h).
  check_shape_alloc(file, where, t.shape, 8);
  const size_t n = static_cast<size_t>(numel(t.shape));
  const std::string& raw = tp.raw_data();
  const bool has_raw = tp.has_raw_data();
  auto need = [&](size_t got, size_t elem) {
    if (has_raw) {
      if (raw.size() != n * elem)
        fail(file, where,
             "raw_data holds " + std::to_string(raw.size()) + " bytes, shape " +
                 shape_str(t.shape) + " needs " + std::to_string(n * elem));
    } else if (got != n) {
      fail(file, where,
           "holds " + std::to_string(got) + " values, shape " + shape_str(t.shape) + " needs " +
               std::to_string(n));
    }
  };
  switch (t.dtype) {
    case DType::F32:
      need(static_cast<size_t>(tp.float_data_size()), 4);
      if (has_raw)
        raw_to(raw, n, t.f);
      else
        t.f.assign(tp.float_data().begin(), tp.float_data().end());
      break;
    case DType::F64: {
      need(static_cast<size_t>(tp.double_data_size()), 8);
      std::vector<double> d;
      if (has_raw)
        raw_to(raw, n, d);
      else
        d.assign(tp.double_data().begin(), tp.double_data().end());
      t.f.assign(d.begin(), d.end());
      break;
    }
    case DType::I64:
      need(static_cast<size_t>(tp.int64_data_size()), 8);
      if (has_raw)
        raw_to(raw, n, t.i);
      else
        t.i.assign(tp.int64_data().begin(), tp.int64_data().end());
      break;
    case DType::I32:
    case DType::I8:
    case DType::U8:
    case DType::BOOL: {
      const size_t elem = t.dtype == DType::I32 ? 4 : 1;
      need(static_cast<size_t>(tp.int32_data_size()), elem);
      t.i.resize(n);
      if (has_raw) {
        for (size_t k = 0; k < n; ++k) {
          if (t.dtype == DType::I32) {
            int32_t v;
            std::memcpy(&v, raw.data() + 4 * k, 4);
            t.i[k] = v;
          } else if (t.dtype == DType::I8) {
            t.i[k] = static_cast<int8_t>(raw[k]);
          } else {
            t.i[k] = static_cast<uint8_t>(raw[k]);
          }
        }
      } else {
        for (size_t k = 0; k < n; ++k) t.i[k] = tp.int32_data(static_cast<int>(k));
      }
      break;
    }
    default:
      unsupported(file, where,
                  "tensor data type " + std::to_string(tp.data_type()) +
                      " is not supported (float, double, int8/32/64, uint8, bool)");
  }
  return t;
}

onnx::TensorProto to_proto(const Tensor& t, const std::string& name) {
  onnx::TensorProto tp;
  tp.set_name(name);
  for (auto d : t.shape) tp.add_dims(d);
  if (t.is_float()) {
    tp.set_data_type(onnx::TensorProto::FLOAT);
    tp.set_raw_data(std::string(reinterpret_cast<const char*>(t.f.data()), t.f.size() * 4));
  } else if (t.dtype == DType::I64) {
    tp.set_data_type(onnx::TensorProto::INT64);
    tp.set_raw_data(std::string(reinterpret_cast<const char*>(t.i.data()), t.i.size() * 8));
  } else {
    int dt = t.dtype == DType::I8    ? onnx::TensorProto::INT8
             : t.dtype == DType::U8  ? onnx::TensorProto::UINT8
             : t.dtype == DType::I32 ? onnx::TensorProto::INT32
                                     : onnx::TensorProto::BOOL;
    tp.set_data_type(dt);
    for (auto v : t.i) tp.add_int32_data(static_cast<int32_t>(v));
  }
  return tp;
}

ValueInfo convert_value_info(const onnx::ValueInfoProto& vi, const std::string& file) {
  ValueInfo v;
  v.name = vi.name();
  if (!vi.type().has_tensor_type())
    unsupported(file, "value '" + vi.name() + "'", "only tensor-typed graph inputs/outputs");
  const auto& tt = vi.type().tensor_type();
  v.dtype = from_onnx_type(tt.elem_type());
  if (tt.has_shape())
    for (const auto& d : tt.shape().dim()) {
      // Only a dim_param (or no value) is symbolic; a negative dim_value is a broken file.
      if (d.has_dim_value() && d.dim_value() < 0)
        fail(file, "value '" + vi.name() + "'",
             "negative dimension " + std::to_string(d.dim_value()));
      v.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
  return v;
}

Attribute convert_attr(const onnx::AttributeProto& a, const std::string& file,
                       const std::string& where) {
  Attribute r;
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      r.kind = Attribute::Kind::INT;
      r.i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      r.kind = Attribute::Kind::FLOAT;
      r.f = a.f();
      break;
    case onnx::AttributeProto::STRING:
      r.kind = Attribute::Kind::STRING;
      r.s = a.s();
      break;
    case onnx::AttributeProto::INTS:
      r.kind = Attribute::Kind::INTS;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      r.kind = Attribute::Kind::FLOATS;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::TENSOR:
      r.kind = Attribute::Kind::TENSOR;
      r.t = convert_tensor(a.t(), file, where + " attribute '" + a.name() + "'");
      break;
    default:
      r.kind = Attribute::Kind::OTHER;
      break;  // rejected by check_supported if used
  }
  return r;
}

// Kahn's algorithm; ONNX requires topological order but producers do not always honour it.
void topo_sort(Graph& g) {
  std::set<std::string> ready;
  for (const auto& v : g.inputs) ready.insert(v.name);
  for (const auto& kv : g.initializers) ready.insert(kv.first);
  ready.insert("");
  std::vector<Node> sorted;
  std::vector<bool> done(g.nodes.size(), false);
  for (size_t pass = 0; sorted.size() < g.nodes.size(); ++pass) {
    bool progress = false;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      if (done[k]) continue;
      bool ok = true;
      for (const auto& i : g.nodes[k].inputs) ok = ok && ready.count(i);
      if (!ok) continue;
      for (const auto& o : g.nodes[k].outputs) ready.insert(o);
      sorted.push_back(g.nodes[k]);
      done[k] = true;
      progress = true;
    }
    if (!progress) {
      for (size_t k = 0; k < g.nodes.size(); ++k)
        if (!done[k])
          for (const auto& i : g.nodes[k].inputs)
            if (!ready.count(i))
              fail(g.source, "node '" + g.nodes[k].name + "' (" + g.nodes[k].op + ")",
                   "input '" + i + "' is produced by no node, input or initializer (or a cycle)");
    }
  }
  g.nodes = std::move(sorted);
}

// Constant nodes become initializers so later passes see one kind of constant.
void constants_to_initializers(Graph& g) {
  std::vector<Node> kept;
  for (Node& n : g.nodes) {
    if (n.op != "Constant") {
      kept.push_back(std::move(n));
      continue;
    }
    const std::string where = "node '" + n.name + "' (Constant)";
    Tensor t;
    if (n.has("value")) {
      t = n.attrs.at("value").t;
    } else if (n.has("value_float")) {
      t = Tensor({}, {n.attr_f("value_float", 0.f)});
    } else if (n.has("value_floats")) {
      auto v = n.attr_floats("value_floats");
      t = Tensor({static_cast<int64_t>(v.size())}, v);
    } else if (n.has("value_int")) {
      t = Tensor::ints({}, {n.attr_i("value_int", 0)});
    } else if (n.has("value_ints")) {
      auto v = n.attr_ints("value_ints");
      t = Tensor::ints({static_cast<int64_t>(v.size())}, v);
    } else {
      unsupported(g.source, where, "only tensor, float(s) and int(s) constants are supported");
    }
    if (n.outputs.size() != 1 || n.outputs[0].empty())
      fail(g.source, where, "Constant must have one named output");
    g.initializers[n.outputs[0]] = std::move(t);
  }
  g.nodes = std::move(kept);
}

// Names end up in JSON reports, .pwt files and terminals: a name that is not UTF-8 is refused
// here, once, rather than failing in nlohmann's dump() after outputs were written.
void check_utf8(const std::string& source, const std::string& kind, const std::string& s) {
  if (!valid_utf8(s)) fail(source, kind + " '" + utf8_escape(s) + "'", "name is not valid UTF-8");
}

void check_names(const onnx::GraphProto& gp, const std::string& source) {
  check_utf8(source, "graph", gp.name());
  for (const auto& t : gp.initializer()) check_utf8(source, "initializer", t.name());
  for (const auto& v : gp.input()) check_utf8(source, "input", v.name());
  for (const auto& v : gp.output()) check_utf8(source, "output", v.name());
  for (const auto& np : gp.node()) {
    check_utf8(source, "node", np.name());
    check_utf8(source, "op type", np.op_type());
    for (const auto& i : np.input()) check_utf8(source, "node '" + np.name() + "' input", i);
    for (const auto& o : np.output()) check_utf8(source, "node '" + np.name() + "' output", o);
    for (const auto& a : np.attribute()) {
      check_utf8(source, "node '" + np.name() + "' attribute", a.name());
      check_utf8(source, "node '" + np.name() + "' attribute '" + a.name() + "'", a.s());
    }
  }
}

}  // namespace

Tensor load_tensor_pb(const std::string& path) {
  std::string bytes = read_all(path);
  onnx::TensorProto tp;
  if (!tp.ParseFromString(bytes))
    fail(path, "", "not a valid onnx.TensorProto (protobuf parse failed)");
  return convert_tensor(tp, path, "tensor '" + tp.name() + "'");
}

Graph parse_onnx(const std::string& bytes, const std::string& source, const ImportOptions& opt) {
  onnx::ModelProto m;
  if (bytes.empty()) fail(source, "byte 0", "empty file, not an ONNX model");
  if (!m.ParseFromString(bytes))
    fail(source, "ModelProto",
         "not a valid ONNX model (protobuf parse failed: truncated or corrupt)");
  if (!m.has_graph() || m.graph().node_size() == 0)
    fail(source, "graph", "ONNX model has no graph or an empty graph");
  Graph g;
  g.source = source;
  g.name = m.graph().name();
  for (const auto& os : m.opset_import()) {
    if (os.domain().empty() || os.domain() == "ai.onnx") g.opset = os.version();
  }
  if (g.opset == 0) g.opset = 1;
  if (g.opset < kMinOpset || g.opset > kMaxOpset)
    unsupported(source, "opset_import",
                "opset " + std::to_string(g.opset) + " is not supported (" +
                    std::to_string(kMinOpset) + "–" + std::to_string(kMaxOpset) +
                    "; 11–17 tested)");

  const auto& gp = m.graph();
  check_names(gp, source);
  for (const auto& t : gp.initializer()) {
    if (t.name().empty()) fail(source, "initializer", "initializer without a name");
    g.initializers[t.name()] = convert_tensor(t, source, "initializer '" + t.name() + "'");
  }
  size_t input_index = 0;
  for (const auto& vi : gp.input()) {
    if (g.initializers.count(vi.name())) continue;  // old exporters list initializers as inputs
    auto bound = opt.bind_inputs.find(input_index++);
    if (bound != opt.bind_inputs.end()) {
      g.initializers[vi.name()] = bound->second;
      continue;
    }
    ValueInfo v = convert_value_info(vi, source);
    if (v.dtype != DType::F32)
      unsupported(source, "input '" + v.name + "'",
                  std::string("graph input of type ") + dtype_name(v.dtype) +
                      " (only float32 inputs are supported)");
    g.inputs.push_back(v);
  }
  for (const auto& vi : gp.output()) g.outputs.push_back(convert_value_info(vi, source));

  std::set<std::string> names;
  int k = 0;
  for (const auto& np : gp.node()) {
    Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? n.op + "_" + std::to_string(k) : np.name();
    while (names.count(n.name)) n.name += "_";
    names.insert(n.name);
    ++k;
    const std::string where = "node '" + n.name + "' (" + n.op + ")";
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      unsupported(source, where, "operator domain '" + np.domain() + "' is not supported");
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& a : np.attribute()) n.attrs[a.name()] = convert_attr(a, source, where);
    g.nodes.push_back(std::move(n));
  }
  topo_sort(g);
  constants_to_initializers(g);
  check_supported(g);
  if (opt.simplify) simplify(g);
  // Shape arithmetic becomes constants before the checks that need constant shape inputs.
  fold_constants(g);
  check_const_inputs(g);
  if (fuse_transformer_ops(g) > 0) infer_shapes(g);
  if (split_to_slices(g) > 0) infer_shapes(g);
  infer_shapes(g);
  if (opt.fold_batchnorm) {
    if (fold_batchnorm(g) > 0) infer_shapes(g);
  }
  return g;
}

Graph load_onnx(const std::string& path, const ImportOptions& opt) {
  return parse_onnx(read_all(path), path, opt);
}

std::string onnx_bytes(const Graph& g, const std::string& path) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("prunesim");
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(g.opset);
  auto* gp = m.mutable_graph();
  gp->set_name(g.name.empty() ? "prunesim" : g.name);
  auto fill_vi = [&](onnx::ValueInfoProto* vi, const std::string& name, const Shape& s) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] < 0 || d == 0)
        sh->add_dim()->set_dim_param("N");  // batch stays symbolic
      else
        sh->add_dim()->set_dim_value(s[d]);
    }
  };
  for (const auto& v : g.inputs) fill_vi(gp->add_input(), v.name, v.shape);
  for (const auto& v : g.outputs)
    fill_vi(gp->add_output(), v.name, g.shapes.count(v.name) ? g.shapes.at(v.name) : v.shape);
  for (const auto& kv : g.initializers) *gp->add_initializer() = to_proto(kv.second, kv.first);
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& kv : n.attrs) {
      auto* a = np->add_attribute();
      a->set_name(kv.first);
      const Attribute& at = kv.second;
      switch (at.kind) {
        case Attribute::Kind::INT:
          a->set_type(onnx::AttributeProto::INT);
          a->set_i(at.i);
          break;
        case Attribute::Kind::FLOAT:
          a->set_type(onnx::AttributeProto::FLOAT);
          a->set_f(at.f);
          break;
        case Attribute::Kind::STRING:
          a->set_type(onnx::AttributeProto::STRING);
          a->set_s(at.s);
          break;
        case Attribute::Kind::INTS:
          a->set_type(onnx::AttributeProto::INTS);
          for (auto v : at.ints) a->add_ints(v);
          break;
        case Attribute::Kind::FLOATS:
          a->set_type(onnx::AttributeProto::FLOATS);
          for (auto v : at.floats) a->add_floats(v);
          break;
        case Attribute::Kind::TENSOR:
          a->set_type(onnx::AttributeProto::TENSOR);
          *a->mutable_t() = to_proto(at.t, "");
          break;
        default:
          break;
      }
    }
  }
  std::string bytes;
  if (!m.SerializeToString(&bytes)) fail(path, "", "failed to serialise ONNX model");
  return bytes;
}

void save_onnx(const Graph& g, const std::string& path) {
  write_file_atomic(path, onnx_bytes(g, path));
}

}  // namespace prunesim
