#include "prune/graph_passes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "base/limits.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace {

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

// Shapes of a node's inputs; trailing absent optional inputs are dropped, inner ones are [].
std::vector<Shape> input_shapes(const Graph& g, const Node& n) {
  size_t used = n.inputs.size();
  while (used > 0 && n.inputs[used - 1].empty()) --used;
  std::vector<Shape> s;
  for (size_t k = 0; k < used; ++k) {
    const std::string& v = n.inputs[k];
    if (v.empty()) {
      s.emplace_back();
    } else if (g.is_const(v)) {
      s.push_back(g.init(v).shape);
    } else {
      auto it = g.shapes.find(v);
      if (it == g.shapes.end()) fail(g.source, where(n), "input '" + v + "' has no known shape");
      s.push_back(it->second);
    }
  }
  return s;
}

void replace_uses(Graph& g, const std::string& from, const std::string& to) {
  for (Node& n : g.nodes)
    for (auto& i : n.inputs)
      if (i == from) i = to;
}

bool is_graph_output(const Graph& g, const std::string& v) {
  for (const auto& o : g.outputs)
    if (o.name == v) return true;
  return false;
}

int uses(const Graph& g, const std::string& v) {
  int c = 0;
  for (const Node& n : g.nodes)
    if (!n.op.empty())  // nodes being removed have their op cleared
      for (const auto& i : n.inputs) c += i == v;
  return c + (is_graph_output(g, v) ? 1 : 0);
}

// Removes the nodes whose op was cleared, then the initializers nothing reads any more.
void drop_removed_nodes(Graph& g) {
  std::vector<Node> kept;
  for (Node& n : g.nodes)
    if (!n.op.empty()) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
  std::set<std::string> used;
  for (const Node& n : g.nodes)
    for (const auto& i : n.inputs) used.insert(i);
  for (const auto& o : g.outputs) used.insert(o.name);
  for (auto it = g.initializers.begin(); it != g.initializers.end();)
    it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
}

// A private copy of initializer `v` for node `n` if anything else uses it, so folding one
// consumer cannot change another.
std::string own_initializer(Graph& g, Node& n, size_t k) {
  const std::string v = n.inputs[k];
  if (uses(g, v) == 1) return v;
  std::string nv = v + "__" + n.name;
  g.initializers[nv] = g.init(v);
  n.inputs[k] = nv;
  return nv;
}

// The nearest supported form of an op we do not implement, for the error message.
std::string suggestion(const std::string& op) {
  static const std::map<std::string, std::string> m = {
      {"ReduceL1", "ReduceSum of Abs"},
      {"ReduceL2", "ReduceSum, Sqrt"},
      {"ReduceMin", "ReduceMax of Neg"},
      {"ReduceProd", "ReduceSum"},
      {"ReduceLogSumExp", "Softmax or ReduceMax"},
      {"ReduceSumSquare", "Mul, ReduceSum"},
      {"PRelu", "LeakyRelu"},
      {"Tile", "Concat"},
      {"Einsum", "MatMul or Gemm"},
      {"InstanceNormalization", "BatchNormalization"},
      {"DepthToSpace", "Reshape, Transpose, Reshape"},
      {"SpaceToDepth", "Reshape, Transpose, Reshape"},
      {"Max", "Clip with constant bounds"},
      {"Min", "Clip with constant bounds"},
      {"QuantizeLinear", "a float model (prunesim quantizes it: --int8)"},
      {"DequantizeLinear", "a float model (prunesim quantizes it: --int8)"},
      {"QLinearConv", "a float model (prunesim quantizes it: --int8)"},
      {"ConvInteger", "a float model (prunesim quantizes it: --int8)"},
      {"LpPool", "AveragePool or MaxPool"},
      {"GlobalLpPool", "GlobalAveragePool"},
  };
  auto it = m.find(op);
  if (it != m.end()) return " (nearest supported form: " + it->second + ")";
  if (op.compare(0, 6, "Reduce") == 0)
    return " (supported reductions: ReduceMean, ReduceMax, ReduceSum)";
  return " (docs/onnx-support.md lists the supported ops)";
}

}  // namespace

void check_supported(const Graph& g) {
  for (const Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    if (!d)
      unsupported(g.source, where(n), "op '" + n.op + "' is not supported" + suggestion(n.op));
    const int ni = static_cast<int>(n.inputs.size());
    if (ni < d->min_inputs || ni > d->max_inputs)
      fail(g.source, where(n),
           "has " + std::to_string(ni) + " inputs, expected " + std::to_string(d->min_inputs) +
               (d->max_inputs != d->min_inputs ? "–" + std::to_string(d->max_inputs) : ""));
    check_node_rules(g, n, *d);
    for (size_t k = static_cast<size_t>(d->max_outputs); k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty() && !g.consumers(n.outputs[k]).empty())
        unsupported(g.source, where(n), "output " + std::to_string(k) + " is not supported");
    for (const auto& kv : n.attrs) {
      bool ok = false;
      for (const auto& a : d->attrs) ok = ok || a == kv.first;
      if (!ok) unsupported(g.source, where(n), "attribute '" + kv.first + "' is not supported");
      if (kv.second.kind == Attribute::Kind::OTHER)
        unsupported(g.source, where(n), "attribute '" + kv.first + "' has an unsupported type");
    }
    if (d->check) d->check(g, n);
  }
  for (const auto& kv : g.initializers) {
    const Tensor& t = kv.second;
    for (size_t k = 0; k < t.f.size(); ++k)
      if (!std::isfinite(t.f[k]))
        fail(g.source, "initializer '" + kv.first + "'",
             std::string("contains ") + (std::isnan(t.f[k]) ? "NaN" : "Inf") + " at element " +
                 std::to_string(k));
  }
}

namespace {
// The graph inputs' shapes, symbolic (batch) dimensions (-1) inferred at 1, and the
// initializers' shapes: the start of shape inference.
void seed_shapes(Graph& g) {
  g.shapes.clear();
  for (auto& v : g.inputs) {
    Shape s = v.shape;
    for (auto& d : s)
      if (d == -1) d = 1;
    check_value_shape(g, "input '" + v.name + "'", s);
    g.shapes[v.name] = s;
  }
  for (const auto& kv : g.initializers) g.shapes[kv.first] = kv.second.shape;
}
}  // namespace

void infer_shapes(Graph& g) {
  seed_shapes(g);
  for (const Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    if (!d) unsupported(g.source, where(n), "op '" + n.op + "' is not supported");
    std::vector<Shape> in = input_shapes(g, n);
    std::vector<Shape> out = infer_checked(g, n, *d, in);
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty()) g.shapes[n.outputs[k]] = k < out.size() ? out[k] : in[0];
  }
  for (const auto& o : g.outputs)
    if (!g.shapes.count(o.name))
      fail(g.source, "output '" + o.name + "'", "graph output is produced by no node");
}

int simplify(Graph& g) {
  int removed = 0;
  std::vector<Node> kept;
  // Walk in order; an Identity/Dropout is bypassed by pointing its consumers at its input.
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (n.op != "Identity" && n.op != "Dropout") continue;
    const std::string x = n.inputs[0], y = n.outputs[0];
    if (!is_graph_output(g, y)) {
      replace_uses(g, y, x);
      n.op = "";  // mark removed
      ++removed;
      continue;
    }
    // The output is a graph output: rename the producer's output instead, if that is safe.
    Node* prod = nullptr;
    for (Node& p : g.nodes)
      for (auto& o : p.outputs)
        if (o == x) prod = &p;
    if (prod && !is_graph_output(g, x) && uses(g, x) == 1) {
      for (auto& o : prod->outputs)
        if (o == x) o = y;
      n.op = "";
      ++removed;
    }
  }
  for (Node& n : g.nodes)
    if (!n.op.empty()) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
  return removed;
}

int fold_batchnorm(Graph& g) {
  int folded = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& bn = g.nodes[k];
    if (bn.op != "BatchNormalization") continue;
    bool params_const = true;
    for (size_t i = 1; i < 5; ++i) params_const = params_const && g.is_const(bn.in(i));
    if (!params_const) continue;
    Node* prod = nullptr;
    for (Node& p : g.nodes)
      if (!p.outputs.empty() && p.outputs[0] == bn.inputs[0]) prod = &p;
    if (!prod || uses(g, bn.inputs[0]) != 1) continue;
    const bool conv = prod->op == "Conv", convt = prod->op == "ConvTranspose";
    const bool gemm = prod->op == "Gemm";
    if (!conv && !convt && !gemm) continue;
    if (!g.is_const(prod->in(1)) || (!prod->in(2).empty() && !g.is_const(prod->in(2)))) continue;
    const Tensor& wt = g.init(prod->in(1));
    if (gemm && prod->attr_i("transA", 0) != 0) continue;
    const int64_t M = conv    ? wt.shape[0]
                      : convt ? wt.shape[1] * prod->attr_i("group", 1)
                              : (prod->attr_i("transB", 0) ? wt.shape[0] : wt.shape[1]);
    if (bn.inputs.size() < 5 || numel(g.init(bn.in(1)).shape) != M) continue;
    if (gemm && !prod->in(2).empty() && numel(g.init(prod->in(2)).shape) != M) continue;

    const float eps = bn.attr_f("epsilon", 1e-5f);
    const auto &gamma = g.init(bn.in(1)).f, &beta = g.init(bn.in(2)).f;
    const auto &mean = g.init(bn.in(3)).f, &var = g.init(bn.in(4)).f;
    std::vector<double> s(static_cast<size_t>(M));
    for (size_t m = 0; m < s.size(); ++m)
      s[m] = gamma[m] / std::sqrt(static_cast<double>(var[m]) + eps);

    const std::string wname = own_initializer(g, *prod, 1);
    Tensor& w = g.initializers[wname];
    const int64_t per = numel(w.shape) / w.shape[0];
    if (conv) {
      for (int64_t i = 0; i < w.size(); ++i)
        w.f[static_cast<size_t>(i)] =
            static_cast<float>(w.f[static_cast<size_t>(i)] * s[static_cast<size_t>(i / per)]);
    } else if (convt) {
      const int64_t G = prod->attr_i("group", 1), cpg = w.shape[0] / G, mpg = w.shape[1];
      const int64_t ksz = per / mpg;
      for (int64_t i = 0; i < w.size(); ++i) {
        const int64_t ci = i / per, mo = (i / ksz) % mpg;
        const size_t m = static_cast<size_t>((ci / cpg) * mpg + mo);
        w.f[static_cast<size_t>(i)] = static_cast<float>(w.f[static_cast<size_t>(i)] * s[m]);
      }
    } else {
      const bool tb = prod->attr_i("transB", 0) != 0;
      const int64_t cols = w.shape[1];
      for (int64_t i = 0; i < w.size(); ++i) {
        const size_t m = static_cast<size_t>(tb ? i / cols : i % cols);
        w.f[static_cast<size_t>(i)] = static_cast<float>(w.f[static_cast<size_t>(i)] * s[m]);
      }
      const float alpha = prod->attr_f("alpha", 1.f);
      if (alpha != 1.f) {
        for (auto& v : w.f) v *= alpha;
        prod->attrs.erase("alpha");
      }
    }
    std::vector<float> bias(static_cast<size_t>(M), 0.f);
    if (!prod->in(2).empty()) {
      const Tensor& b = g.init(prod->in(2));
      const float bscale = gemm ? prod->attr_f("beta", 1.f) : 1.f;
      for (size_t m = 0; m < bias.size(); ++m) bias[m] = b.f[m] * bscale;
    }
    if (gemm) prod->attrs.erase("beta");
    for (size_t m = 0; m < bias.size(); ++m)
      bias[m] = static_cast<float>((bias[m] - mean[m]) * s[m] + beta[m]);
    const std::string bname = prod->name + "__bias_bnfold";
    g.initializers[bname] = Tensor({M}, bias);
    if (prod->inputs.size() < 3) prod->inputs.resize(3);
    prod->inputs[2] = bname;
    prod->outputs[0] = bn.outputs[0];
    bn.op = "";
    ++folded;
  }
  // The BN parameters and replaced weights are read by nothing any more.
  drop_removed_nodes(g);
  return folded;
}

// ---------------------------------------------------------------- constant folding
namespace {

bool is_int(const Tensor& t) {
  return !t.is_float();
}

Tensor as_float(const Tensor& t) {
  if (t.is_float()) return t;
  Tensor r(t.shape);
  for (size_t k = 0; k < t.i.size(); ++k) r.f[k] = static_cast<float>(t.i[k]);
  return r;
}

// ONNX TensorProto data types that Cast can target in shape arithmetic.
bool cast_to_float(const Graph& g, const Node& n) {
  const int64_t to = n.attr_i("to", 0);
  if (to == 1 || to == 10 || to == 11 || to == 16) return true;  // float, float16, double, bf16
  if (to == 2 || to == 3 || to == 4 || to == 5 || to == 6 || to == 7 || to == 9 || to == 12 ||
      to == 13)
    return false;
  unsupported(g.source, where(n), "Cast to data type " + std::to_string(to) + " is not supported");
}

// Element-wise integer arithmetic with numpy broadcasting (int64, Div truncates like ONNX).
Tensor int_binary(const Graph& g, const Node& n, const Tensor& a, const Tensor& b) {
  const size_t r = std::max(a.shape.size(), b.shape.size());
  Shape s(r);
  auto dim = [r](const Shape& x, size_t k) {
    return k < r - x.size() ? int64_t{1} : x[k - (r - x.size())];
  };
  for (size_t k = 0; k < r; ++k) {
    const int64_t da = dim(a.shape, k), db = dim(b.shape, k);
    if (da != db && da != 1 && db != 1)
      fail(g.source, where(n),
           "shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not broadcast");
    s[k] = da == 1 ? db : da;
  }
  check_shape_alloc(g.source, where(n), s, sizeof(int64_t));
  std::vector<int64_t> out(static_cast<size_t>(numel(s)));
  std::vector<int64_t> idx(r, 0);
  for (size_t k = 0; k < out.size(); ++k) {
    int64_t ia = 0, ib = 0, ma = 1, mb = 1;
    for (size_t d = r; d-- > 0;) {
      const int64_t da = dim(a.shape, d), db = dim(b.shape, d);
      ia += (da == 1 ? 0 : idx[d]) * ma;
      ib += (db == 1 ? 0 : idx[d]) * mb;
      ma *= da;
      mb *= db;
    }
    const int64_t x = a.i[static_cast<size_t>(ia)], y = b.i[static_cast<size_t>(ib)];
    int64_t v = 0;
    bool wrapped = false;
    if (n.op == "Add")
      wrapped = __builtin_add_overflow(x, y, &v);
    else if (n.op == "Sub")
      wrapped = __builtin_sub_overflow(x, y, &v);
    else if (n.op == "Mul")
      wrapped = __builtin_mul_overflow(x, y, &v);
    else {
      if (y == 0) fail(g.source, where(n), "integer division by zero");
      wrapped = y == -1 && x == std::numeric_limits<int64_t>::min();
      if (!wrapped) v = x / y;
    }
    if (wrapped) fail(g.source, where(n), "integer overflow in shape arithmetic");
    out[k] = v;
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  Tensor t = Tensor::ints(s, out);
  t.dtype = a.dtype;
  return t;
}

// Ops that only move elements: integer data goes through them as element positions (exact in
// float32), so int64 values such as INT64_MAX slice ends survive unchanged.
bool moves_only(const std::string& op) {
  static const std::set<std::string> m = {"Concat",    "Flatten", "Gather",  "Identity",
                                          "Reshape",   "Slice",   "Squeeze", "Transpose",
                                          "Unsqueeze", "Split",   "Dropout"};
  return m.count(op) != 0;
}

// Shape (start/end attributes of opset 15) of a known input shape.
std::vector<Tensor> fold_shape(const Node& n, const Shape& in0_shape) {
  const int64_t r = static_cast<int64_t>(in0_shape.size());
  int64_t s = n.attr_i("start", 0), e = n.attr_i("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::max<int64_t>(0, std::min(s, r));
  e = std::max<int64_t>(s, std::min(e, r));
  std::vector<int64_t> v(in0_shape.begin() + s, in0_shape.begin() + e);
  return {Tensor::ints({e - s}, v)};
}

std::vector<Tensor> fold_constant_of_shape(const Graph& g, const Node& n,
                                           const std::vector<const Tensor*>& ins) {
  Shape s = ins[0]->is_float() ? Shape(ins[0]->f.begin(), ins[0]->f.end()) : ins[0]->i;
  for (auto d : s)
    if (d < 0) fail(g.source, where(n), "negative dimension");
  check_shape_alloc(g.source, where(n), s, sizeof(int64_t));
  Tensor v = n.has("value") ? n.attrs.at("value").t : Tensor({1}, {0.f});
  if (v.size() != 1) fail(g.source, where(n), "'value' must hold one element");
  Tensor r;
  r.dtype = v.dtype;
  r.shape = s;
  if (v.is_float())
    r.f.assign(static_cast<size_t>(numel(s)), v.f[0]);
  else
    r.i.assign(static_cast<size_t>(numel(s)), v.i[0]);
  return {r};
}

std::vector<Tensor> fold_range(const Graph& g, const Node& n,
                               const std::vector<const Tensor*>& ins) {
  auto scalar_i = [&](size_t k) -> int64_t {
    const Tensor& t = *ins.at(k);
    if (t.size() != 1) fail(g.source, where(n), "input " + std::to_string(k) + " must be a scalar");
    return t.is_float() ? float_to_i64(g, n, t.f[0]) : t.i[0];
  };
  for (size_t k = 0; k < 3; ++k)
    if (ins.at(k)->size() != 1)
      fail(g.source, where(n), "input " + std::to_string(k) + " must be a scalar");
  if (!is_int(*ins[0])) {
    const double s = ins[0]->f.at(0), l = ins[1]->f.at(0), d = ins[2]->f.at(0);
    if (d == 0) fail(g.source, where(n), "delta 0");
    const int64_t cnt = std::max<int64_t>(0, float_to_i64(g, n, std::ceil((l - s) / d)));
    check_alloc(g.source, where(n), "Range of " + std::to_string(cnt) + " elements", cnt, 8);
    Tensor r({cnt});
    for (int64_t k = 0; k < cnt; ++k) r.f[static_cast<size_t>(k)] = static_cast<float>(s + k * d);
    return {r};
  }
  const int64_t s = scalar_i(0), l = scalar_i(1), d = scalar_i(2);
  if (d == 0) fail(g.source, where(n), "delta 0");
  // In double: l - s + d can overflow int64 for hostile bounds.
  const int64_t cnt = std::max<int64_t>(
      0, float_to_i64(g, n, std::ceil((static_cast<double>(l) - static_cast<double>(s)) / d)));
  check_alloc(g.source, where(n), "Range of " + std::to_string(cnt) + " elements", cnt, 8);
  std::vector<int64_t> v;
  for (int64_t k = 0; k < cnt; ++k) v.push_back(s + k * d);
  Tensor r = Tensor::ints({cnt}, v);
  r.dtype = ins[0]->dtype;
  return {r};
}

std::vector<Tensor> fold_cast(const Graph& g, const Node& n,
                              const std::vector<const Tensor*>& ins) {
  const Tensor& x = *ins[0];
  if (cast_to_float(g, n)) return {as_float(x)};
  Tensor r;
  r.dtype = n.attr_i("to", 7) == 9 ? DType::BOOL : DType::I64;
  r.shape = x.shape;
  if (x.is_float())
    for (float v : x.f)
      r.i.push_back(r.dtype == DType::BOOL ? v != 0.f : float_to_i64(g, n, std::trunc(v)));
  else
    for (int64_t v : x.i) r.i.push_back(r.dtype == DType::BOOL ? v != 0 : v);
  return {r};
}

// A mover (Gather, Concat, Reshape, ...) of integer data: the values go through the float kernel
// as position tensors (each element's index into `pool`), so the op table's one kernel moves
// integers exactly. `data` inputs carry values; the rest (axes, indices) run as they are.
std::vector<Tensor> fold_int_moves(const Graph& g, const Node& n,
                                   const std::vector<const Tensor*>& ins, const OpDef* d,
                                   size_t data) {
  std::vector<Tensor> outs(n.outputs.size());
  // Integer data goes through as position tensors.
  std::vector<Tensor> holders(ins.size());
  std::vector<const Tensor*> run_in(ins);
  std::vector<int64_t> pool;  // values by position
  DType dt = DType::I64;
  for (size_t k = 0; k < data; ++k) {
    const Tensor& t = *ins[k];
    holders[k] = Tensor(t.shape);
    for (size_t e = 0; e < holders[k].f.size(); ++e) {
      holders[k].f[e] = static_cast<float>(pool.size());
      pool.push_back(t.is_float() ? float_to_i64(g, n, t.f[e]) : t.i[e]);
    }
    if (is_int(t)) dt = t.dtype;
    run_in[k] = &holders[k];
  }
  if (pool.size() > (1u << 24)) unsupported(g.source, where(n), "constant too large to fold");
  d->run(g, n, run_in, outs);
  for (auto& o : outs) {
    Tensor r;
    r.dtype = dt;
    r.shape = o.shape;
    for (float p : o.f) r.i.push_back(pool[static_cast<size_t>(p)]);
    o = std::move(r);
  }
  return outs;
}

// Numpy broadcasting of constant operands (Equal, Where, Expand): the output shape and, per
// operand, the flat index of the element every output element reads.
std::vector<std::vector<size_t>> broadcast_sources(const Graph& g, const Node& n,
                                                   const std::vector<Shape>& shapes, Shape* out) {
  size_t r = 0;
  for (const auto& s : shapes) r = std::max(r, s.size());
  Shape o(r, 1);
  for (const auto& s : shapes)
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& d = o[k + r - s.size()];
      if (s[k] != d && s[k] != 1 && d != 1)
        fail(g.source, where(n),
             "shapes do not broadcast (" + shape_str(s) + " into " + shape_str(o) + ")");
      if (s[k] != 1) d = s[k];
    }
  check_shape_alloc(g.source, where(n), o, sizeof(int64_t));
  const int64_t total = numel(o);
  std::vector<std::vector<size_t>> src(shapes.size(),
                                       std::vector<size_t>(static_cast<size_t>(total)));
  for (size_t a = 0; a < shapes.size(); ++a) {
    const Shape& s = shapes[a];
    for (int64_t e = 0; e < total; ++e) {
      int64_t rem = e, idx = 0, mul = 1;
      for (size_t k = r; k-- > 0;) {
        const int64_t i = rem % o[k];
        rem /= o[k];
        if (k >= r - s.size()) {
          const int64_t d = s[k - (r - s.size())];
          idx += (d == 1 ? 0 : i) * mul;
          mul *= d;
        }
      }
      src[a][static_cast<size_t>(e)] = static_cast<size_t>(idx);
    }
  }
  *out = o;
  return src;
}

double value_at(const Tensor& t, size_t k) {
  return t.is_float() ? t.f[k] : static_cast<double>(t.i[k]);
}

// Equal (bool), Where (the x / y type: integer when both are), Expand (the input broadcast to
// the shape input and itself).
std::vector<Tensor> fold_select(const Graph& g, const Node& n,
                                const std::vector<const Tensor*>& ins) {
  for (const Tensor* t : ins)
    if (!t) fail(g.source, where(n), "missing input");
  std::vector<Shape> shapes;
  for (const Tensor* t : ins) shapes.push_back(t->shape);
  if (n.op == "Expand") {
    const Tensor& sh = *ins[1];
    Shape target;
    for (size_t k = 0; k < sh.size(); ++k) {
      const int64_t d = sh.is_float() ? float_to_i64(g, n, sh.f[k]) : sh.i[k];
      if (d < 0) fail(g.source, where(n), "negative dimension in the shape input");
      target.push_back(d);
    }
    shapes[1] = target;
  }
  Shape o;
  const auto src = broadcast_sources(g, n, shapes, &o);
  Tensor r;
  r.shape = o;
  const size_t total = static_cast<size_t>(numel(o));
  if (n.op == "Equal") {
    r.dtype = DType::BOOL;
    for (size_t e = 0; e < total; ++e)
      r.i.push_back(value_at(*ins[0], src[0][e]) == value_at(*ins[1], src[1][e]));
    return {r};
  }
  const size_t a = n.op == "Where" ? 1 : 0;  // first value operand
  const bool ints = !ins[a]->is_float() && (n.op == "Expand" || !ins[2]->is_float());
  r.dtype = ints ? ins[a]->dtype : DType::F32;
  for (size_t e = 0; e < total; ++e) {
    size_t pick = a;
    if (n.op == "Where") pick = value_at(*ins[0], src[0][e]) != 0 ? 1 : 2;
    const Tensor& t = *ins[pick];
    const size_t k = src[pick][e];
    if (ints)
      r.i.push_back(t.i[k]);
    else
      r.f.push_back(static_cast<float>(value_at(t, k)));
  }
  return {r};
}

// Mod (fmod 0: the sign of the divisor, as Python; 1: C's fmod), Not, ScatterND (reduction
// none) of constants.
std::vector<Tensor> fold_misc(const Graph& g, const Node& n,
                              const std::vector<const Tensor*>& ins) {
  for (const Tensor* t : ins)
    if (!t) fail(g.source, where(n), "missing input");
  if (n.op == "Not") {
    Tensor r;
    r.dtype = DType::BOOL;
    r.shape = ins[0]->shape;
    for (size_t k = 0; k < static_cast<size_t>(ins[0]->size()); ++k)
      r.i.push_back(value_at(*ins[0], k) == 0 ? 1 : 0);
    return {r};
  }
  if (n.op == "Mod") {
    Shape o;
    const auto src = broadcast_sources(g, n, {ins[0]->shape, ins[1]->shape}, &o);
    const bool ints = !ins[0]->is_float() && !ins[1]->is_float();
    const bool fmod = n.attr_i("fmod", 0) != 0;
    Tensor r;
    r.shape = o;
    r.dtype = ints ? ins[0]->dtype : DType::F32;
    for (size_t e = 0; e < src[0].size(); ++e) {
      if (ints) {
        const int64_t a = ins[0]->i[src[0][e]], b = ins[1]->i[src[1][e]];
        if (b == 0) fail(g.source, where(n), "integer modulo by zero");
        int64_t m = b == -1 ? 0 : a % b;
        if (!fmod && m != 0 && ((m < 0) != (b < 0))) m += b;
        r.i.push_back(m);
      } else {
        const double a = value_at(*ins[0], src[0][e]), b = value_at(*ins[1], src[1][e]);
        double m = std::fmod(a, b);
        if (!fmod && m != 0 && ((m < 0) != (b < 0))) m += b;
        r.f.push_back(static_cast<float>(m));
      }
    }
    return {r};
  }
  // ScatterND: indices [..., k] address k leading axes of data; updates fill those slices.
  if (n.attr_s("reduction", "none") != "none")
    unsupported(g.source, where(n), "reduction other than 'none'");
  const Tensor& data = *ins[0];
  const Tensor& ind = *ins[1];
  const Tensor& upd = *ins[2];
  if (ind.is_float() || ind.shape.empty()) fail(g.source, where(n), "indices must be integers");
  const size_t k = static_cast<size_t>(ind.shape.back());
  if (k > data.shape.size()) fail(g.source, where(n), "index depth exceeds the data rank");
  const int64_t slice =
      numel(Shape(data.shape.begin() + static_cast<int64_t>(k), data.shape.end()));
  const int64_t count = numel(ind.shape) / static_cast<int64_t>(std::max<size_t>(k, 1));
  if (upd.size() != count * slice) fail(g.source, where(n), "updates do not match the indices");
  Tensor r = data;
  for (int64_t c = 0; c < count; ++c) {
    int64_t off = 0;
    for (size_t d = 0; d < k; ++d) {
      int64_t i = ind.i[static_cast<size_t>(c) * k + d];
      const int64_t dim = data.shape[d];
      if (i < 0) i += dim;
      if (i < 0 || i >= dim) fail(g.source, where(n), "index out of range");
      off = off * dim + i;
    }
    for (int64_t e = 0; e < slice; ++e) {
      const size_t to = static_cast<size_t>(off * slice + e),
                   from = static_cast<size_t>(c * slice + e);
      if (r.is_float())
        r.f[to] = static_cast<float>(value_at(upd, from));
      else
        r.i[to] = upd.is_float() ? static_cast<int64_t>(upd.f[from]) : upd.i[from];
    }
  }
  return {r};
}

// The value of node n whose inputs are all constants (or, for Shape, whose input shape is
// known). `ins` are the inputs (nullptr for absent ones).
std::vector<Tensor> eval_const(const Graph& g, const Node& n, const std::vector<const Tensor*>& ins,
                               const Shape& in0_shape) {
  if (n.op == "Shape") return fold_shape(n, in0_shape);
  if (n.op == "ConstantOfShape") return fold_constant_of_shape(g, n, ins);
  if (n.op == "Range") return fold_range(g, n, ins);
  if (n.op == "Cast") return fold_cast(g, n, ins);
  if (n.op == "Equal" || n.op == "Where" || n.op == "Expand") return fold_select(g, n, ins);
  if (n.op == "Mod" || n.op == "Not" || n.op == "ScatterND") return fold_misc(g, n, ins);
  const OpDef* d = find_op(n.op);
  const bool any_int =
      std::any_of(ins.begin(), ins.end(), [](const Tensor* t) { return t && is_int(*t); });
  const bool arith = n.op == "Add" || n.op == "Sub" || n.op == "Mul" || n.op == "Div";
  if (any_int && arith) {
    if (!is_int(*ins[0]) || !is_int(*ins[1]))
      unsupported(g.source, where(n), "mixes integer and float operands");
    return {int_binary(g, n, *ins[0], *ins[1])};
  }
  // Data inputs: all of Concat's, input 0 of the other movers (the rest are axes, indices, ...).
  const size_t data = n.op == "Concat" ? ins.size() : 1;
  bool data_int = false;
  for (size_t k = 0; k < data && k < ins.size(); ++k)
    data_int = data_int || (ins[k] && is_int(*ins[k]));
  if (data_int && moves_only(n.op)) return fold_int_moves(g, n, ins, d, data);
  std::vector<Tensor> outs(n.outputs.size());
  std::vector<Tensor> fl(ins.size());
  std::vector<const Tensor*> run_in(ins.size(), nullptr);
  for (size_t k = 0; k < ins.size(); ++k)
    if (ins[k]) {
      fl[k] = as_float(*ins[k]);
      run_in[k] = ins[k]->is_float() ? ins[k] : &fl[k];
    }
  d->run(g, n, run_in, outs);
  return outs;
}

}  // namespace

int fold_constants(Graph& g) {
  seed_shapes(g);
  int folded = 0;
  for (Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    if (!d) unsupported(g.source, where(n), "op '" + n.op + "' is not supported");
    bool all_const = true;
    for (const auto& i : n.inputs) all_const = all_const && (i.empty() || g.is_const(i));
    bool feeds_output = false;
    for (const auto& o : n.outputs) feeds_output = feeds_output || is_graph_output(g, o);
    const bool shape_op = n.op == "Shape" && g.shapes.count(n.inputs.at(0));
    if ((all_const || shape_op) && !feeds_output && !n.inputs.empty()) {
      std::vector<const Tensor*> ins;
      for (const auto& i : n.inputs)
        ins.push_back(i.empty() || !g.is_const(i) ? nullptr : &g.init(i));
      while (!ins.empty() && !ins.back() && n.inputs.size() > 1 && n.inputs.back().empty())
        ins.pop_back();
      // The output shapes pass the same checks as any node's before the kernel allocates them.
      // A folded value may be empty (Swin's shape arithmetic slices a shape to nothing and
      // concatenates it): only the memory cap applies, no kernel ever runs on it.
      if (!d->fold_only)
        for (const Shape& o : d->infer(g, n, input_shapes(g, n))) {
          for (int64_t dim : o)
            if (dim < 0) fail(g.source, where(n), "negative dimension in " + shape_str(o));
          check_shape_alloc(g.source, where(n), o, sizeof(int64_t));
        }
      auto in0 = g.shapes.find(n.inputs[0]);
      std::vector<Tensor> outs =
          eval_const(g, n, ins, in0 == g.shapes.end() ? Shape{} : in0->second);
      for (size_t k = 0; k < n.outputs.size() && k < outs.size(); ++k) {
        if (n.outputs[k].empty()) continue;
        g.shapes[n.outputs[k]] = outs[k].shape;
        g.initializers[n.outputs[k]] = std::move(outs[k]);
      }
      n.op = "";
      ++folded;
      continue;
    }
    if (n.op == "Cast" && !cast_to_float(g, n))
      unsupported(g.source, where(n),
                  "Cast of an activation to an integer type (only shape arithmetic on constants "
                  "is folded; the executors compute in float32)");
    std::vector<Shape> in = input_shapes(g, n);
    std::vector<Shape> out = infer_checked(g, n, *d, in);
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty()) g.shapes[n.outputs[k]] = k < out.size() ? out[k] : in[0];
  }
  // The folded nodes' inputs (shape constants) are read by nothing any more.
  if (folded) drop_removed_nodes(g);
  return folded;
}

void check_const_inputs(const Graph& g) {
  for (const Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    for (int k : d->const_inputs)
      if (!n.in(static_cast<size_t>(k)).empty() && !g.is_const(n.in(static_cast<size_t>(k))))
        unsupported(g.source, where(n),
                    "input " + std::to_string(k) + " ('" + n.in(static_cast<size_t>(k)) +
                        "') must be a constant initializer (or shape arithmetic on fixed shapes)");
  }
}

// ---------------------------------------------------------------- transformer fusions
namespace {

// The one scalar value of a constant float input, or NaN if it is not one.
double const_scalar(const Graph& g, const std::string& v) {
  if (v.empty() || !g.is_const(v)) return std::nan("");
  const Tensor& t = g.init(v);
  if (t.size() != 1) return std::nan("");
  return t.is_float() ? t.f[0] : static_cast<double>(t.i[0]);
}

bool near(double a, double b, double rel) {
  return std::fabs(a - b) <= rel * std::fabs(b);
}

struct Matcher {
  Graph& g;
  std::map<std::string, size_t> producer;  // value -> node index

  explicit Matcher(Graph& gr) : g(gr) {
    for (size_t k = 0; k < g.nodes.size(); ++k)
      for (const auto& o : g.nodes[k].outputs) producer[o] = k;
  }
  // The node that alone reads v (v no graph output), else nullptr.
  Node* sole(const std::string& v) {
    if (is_graph_output(g, v)) return nullptr;
    Node* found = nullptr;
    int c = 0;
    for (Node& n : g.nodes)
      if (!n.op.empty())
        for (const auto& i : n.inputs)
          if (i == v) {
            found = &n;
            ++c;
          }
    return c == 1 ? found : nullptr;
  }
  // The other input of binary node n (the one that is not v), or "" if n does not read v.
  static std::string other(const Node& n, const std::string& v) {
    if (n.inputs.size() != 2) return "";
    if (n.inputs[0] == v) return n.inputs[1];
    if (n.inputs[1] == v) return n.inputs[0];
    return "";
  }
};

// ReduceMean over trailing axes with keepdims: the first normalised axis, or -1.
int64_t trailing_mean_axis(const Graph& g, const Node& m) {
  if (m.op != "ReduceMean" || m.attr_i("keepdims", 1) != 1 || !m.has("axes")) return -1;
  const int64_t r = static_cast<int64_t>(g.shape(m.inputs[0]).size());
  std::vector<int64_t> ax = m.attr_ints("axes");
  for (auto& a : ax) a = a < 0 ? a + r : a;
  std::sort(ax.begin(), ax.end());
  for (size_t k = 0; k < ax.size(); ++k)
    if (ax[k] != r - static_cast<int64_t>(ax.size()) + static_cast<int64_t>(k)) return -1;
  return ax.empty() ? -1 : ax[0];
}

bool fuse_layernorm_at(Graph& g, Matcher& mt, Node& m1) {
  const int64_t axis = trailing_mean_axis(g, m1);
  if (axis < 0) return false;
  const std::string x = m1.inputs[0];
  Node* sub = mt.sole(m1.outputs[0]);
  if (!sub || sub->op != "Sub" || sub->inputs.size() != 2 || sub->inputs[0] != x ||
      sub->inputs[1] != m1.outputs[0])
    return false;
  const std::string d = sub->outputs[0];
  // d feeds the square and the division, nothing else.
  if (is_graph_output(g, d)) return false;
  Node *sq = nullptr, *div = nullptr;
  int readers = 0;
  for (Node& n : g.nodes) {
    if (n.op.empty()) continue;
    bool reads = false;
    for (const auto& i : n.inputs) reads = reads || i == d;
    if (!reads) continue;
    ++readers;
    if ((n.op == "Pow" && n.inputs[0] == d && const_scalar(g, n.inputs[1]) == 2.0) ||
        (n.op == "Mul" && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d))
      sq = &n;
    else if (n.op == "Div" && n.inputs[0] == d)
      div = &n;
  }
  if (readers != 2 || !sq || !div) return false;
  Node* m2 = mt.sole(sq->outputs[0]);
  if (!m2 || trailing_mean_axis(g, *m2) != axis || m2->inputs[0] != sq->outputs[0]) return false;
  Node* add = mt.sole(m2->outputs[0]);
  if (!add || add->op != "Add") return false;
  const double eps = const_scalar(g, Matcher::other(*add, m2->outputs[0]));
  if (!(eps >= 0)) return false;
  Node* sqrt = mt.sole(add->outputs[0]);
  if (!sqrt || sqrt->op != "Sqrt" || div->inputs[1] != sqrt->outputs[0] ||
      mt.sole(sqrt->outputs[0]) != div)
    return false;
  // Optional affine tail: Mul by a constant Scale, Add of a constant B, each the sole reader.
  const Shape& xs = g.shape(x);
  const int64_t inner = numel(Shape(xs.begin() + axis, xs.end()));
  auto per_channel = [&](const std::string& v) {
    if (v.empty() || !g.is_const(v) || !g.init(v).is_float()) return false;
    const Tensor& t = g.init(v);
    // Broadcasting over the trailing block only: numel inner with every leading dim 1.
    if (t.size() != inner && t.size() != 1) return false;
    if (static_cast<int64_t>(t.shape.size()) > static_cast<int64_t>(xs.size()) - axis &&
        t.size() != 1)
      for (size_t k = 0; k + (xs.size() - static_cast<size_t>(axis)) < t.shape.size(); ++k)
        if (t.shape[k] != 1) return false;
    return true;
  };
  std::vector<Node*> removed = {sub, sq, m2, add, sqrt, div};
  std::string out = div->outputs[0], scale, bias;
  Node* mul = mt.sole(out);
  if (mul && mul->op == "Mul" && per_channel(Matcher::other(*mul, out))) {
    scale = Matcher::other(*mul, out);
    removed.push_back(mul);
    out = mul->outputs[0];
    Node* ab = mt.sole(out);
    if (ab && ab->op == "Add" && per_channel(Matcher::other(*ab, out))) {
      bias = Matcher::other(*ab, out);
      removed.push_back(ab);
      out = ab->outputs[0];
    }
  }
  if (scale.empty()) {  // LayerNormalization requires Scale: ones
    scale = m1.name + "__ln_scale";
    g.initializers[scale] = Tensor({inner}, std::vector<float>(static_cast<size_t>(inner), 1.f));
  }
  for (Node* n : removed) n->op = "";
  m1.op = "LayerNormalization";
  m1.inputs = {x, scale};
  if (!bias.empty()) m1.inputs.push_back(bias);
  m1.outputs = {out};
  m1.attrs.clear();
  Attribute a;
  a.kind = Attribute::Kind::INT;
  a.i = axis;
  m1.attrs["axis"] = a;
  Attribute e;
  e.kind = Attribute::Kind::FLOAT;
  e.f = static_cast<float>(eps);
  m1.attrs["epsilon"] = e;
  return true;
}

// x / sqrt2 (or x * 1/sqrt2) -> Erf -> + 1 -> (* x, * 0.5 in either order).
bool fuse_gelu_at(Graph& g, Matcher& mt, Node& scale) {
  if (scale.op != "Div" && scale.op != "Mul") return false;
  if (scale.inputs.size() != 2 || g.is_const(scale.inputs[0])) return false;
  const std::string x = scale.inputs[0];
  const double c = const_scalar(g, scale.inputs[1]);
  if (!(scale.op == "Div" ? near(c, std::sqrt(2.0), 1e-6) : near(c, std::sqrt(0.5), 1e-6)))
    return false;
  Node* erf = mt.sole(scale.outputs[0]);
  if (!erf || erf->op != "Erf") return false;
  Node* one = mt.sole(erf->outputs[0]);
  if (!one || one->op != "Add" || const_scalar(g, Matcher::other(*one, erf->outputs[0])) != 1.0)
    return false;
  Node* m1 = mt.sole(one->outputs[0]);
  if (!m1 || m1->op != "Mul") return false;
  const std::string o1 = Matcher::other(*m1, one->outputs[0]);
  Node* m2 = nullptr;
  std::string out;
  if (o1 == x) {  // (x * (1 + erf)) * 0.5
    m2 = mt.sole(m1->outputs[0]);
    if (!m2 || m2->op != "Mul" || const_scalar(g, Matcher::other(*m2, m1->outputs[0])) != 0.5)
      return false;
    out = m2->outputs[0];
  } else {  // (x * 0.5) * (1 + erf)
    auto p = mt.producer.find(o1);
    if (p == mt.producer.end()) return false;
    m2 = &g.nodes[p->second];
    if (m2->op != "Mul" || Matcher::other(*m2, x).empty() ||
        const_scalar(g, Matcher::other(*m2, x)) != 0.5 || mt.sole(o1) != m1)
      return false;
    out = m1->outputs[0];
  }
  for (Node* n : {erf, one, m1, m2}) n->op = "";
  scale.op = "Gelu";
  scale.inputs = {x};
  scale.outputs = {out};
  scale.attrs.clear();
  return true;
}

}  // namespace

int fuse_transformer_ops(Graph& g) {
  int fused = 0;
  Matcher mt(g);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (n.op == "ReduceMean" && fuse_layernorm_at(g, mt, n)) ++fused;
  }
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (!n.op.empty() && fuse_gelu_at(g, mt, n)) ++fused;
  }
  if (fused) drop_removed_nodes(g);
  return fused;
}

int split_to_slices(Graph& g) {
  std::vector<Node> out;
  int rewritten = 0;
  for (Node& n : g.nodes) {
    if (n.op != "Split") {
      out.push_back(std::move(n));
      continue;
    }
    int64_t ax;
    const auto len = split_lengths(g, n, g.shape(n.inputs[0]), &ax);
    int64_t at = 0;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      Node s;
      s.name = n.name + "__slice" + std::to_string(k);
      s.op = "Slice";
      s.inputs = {n.inputs[0]};
      s.outputs = {n.outputs[k].empty() ? s.name + "__unused" : n.outputs[k]};
      if (g.opset < 10) {
        Attribute a;
        a.kind = Attribute::Kind::INTS;
        a.ints = {at};
        s.attrs["starts"] = a;
        a.ints = {at + len[k]};
        s.attrs["ends"] = a;
        a.ints = {ax};
        s.attrs["axes"] = a;
      } else {
        const char* part[] = {"starts", "ends", "axes"};
        const int64_t val[] = {at, at + len[k], ax};
        for (int p = 0; p < 3; ++p) {
          const std::string nm = s.name + "__" + part[p];
          g.initializers[nm] = Tensor::ints({1}, {val[p]});
          s.inputs.push_back(nm);
        }
      }
      at += len[k];
      out.push_back(std::move(s));
    }
    ++rewritten;
  }
  g.nodes = std::move(out);
  return rewritten;
}

std::vector<LayerStats> layer_stats(const Graph& g) {
  std::vector<LayerStats> r;
  for (const Node& n : g.nodes) {
    LayerStats s;
    s.name = n.name;
    s.op = n.op;
    std::vector<Shape> in = input_shapes(g, n);
    s.in_shape = in.empty() ? Shape{} : in[0];
    s.out_shape = g.shape(n.outputs[0]);
    for (const auto& i : n.inputs)
      if (!i.empty() && g.is_const(i) && g.init(i).is_float()) s.params += g.init(i).size();
    if (n.op == "Conv") {
      ConvGeom c = conv_geometry(g, n, in[0], in[1]);
      s.macs = c.N * c.macs_per_batch();
    } else if (n.op == "ConvTranspose") {
      ConvGeom c = convtranspose_geometry(g, n, in[0], in[1]);
      s.macs = c.N * c.C * c.H * c.W * (c.M / c.group) * c.kh * c.kw;
    } else if (n.op == "Gemm") {
      const bool ta = n.attr_i("transA", 0);
      const int64_t K = ta ? in[0][0] : in[0][1];
      s.macs = numel(s.out_shape) * K;
    } else if (n.op == "MatMul") {
      s.macs = numel(s.out_shape) * in[0].back();
    }
    r.push_back(s);
  }
  return r;
}

}  // namespace prunesim
