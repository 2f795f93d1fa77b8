#include "prune/graph_passes.h"

#include <cmath>
#include <set>

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

}  // namespace

void check_supported(const Graph& g) {
  for (const Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    if (!d) unsupported(g.source, where(n), "op '" + n.op + "' is not supported");
    const int ni = static_cast<int>(n.inputs.size());
    if (ni < d->min_inputs || ni > d->max_inputs)
      fail(g.source, where(n),
           "has " + std::to_string(ni) + " inputs, expected " + std::to_string(d->min_inputs) +
               (d->max_inputs != d->min_inputs ? "–" + std::to_string(d->max_inputs) : ""));
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
    for (int k : d->const_inputs)
      if (!n.in(static_cast<size_t>(k)).empty() && !g.is_const(n.in(static_cast<size_t>(k))))
        unsupported(g.source, where(n),
                    "input " + std::to_string(k) + " ('" + n.in(static_cast<size_t>(k)) +
                        "') must be a constant initializer");
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

void infer_shapes(Graph& g) {
  g.shapes.clear();
  for (auto& v : g.inputs) {
    Shape s = v.shape;
    for (auto& d : s)
      if (d < 0) d = 1;  // symbolic (batch) dimensions are inferred at 1
    g.shapes[v.name] = s;
  }
  for (const auto& kv : g.initializers) g.shapes[kv.first] = kv.second.shape;
  for (const Node& n : g.nodes) {
    const OpDef* d = find_op(n.op);
    if (!d) unsupported(g.source, where(n), "op '" + n.op + "' is not supported");
    std::vector<Shape> in = input_shapes(g, n);
    std::vector<Shape> out = d->infer(g, n, in);
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
  std::vector<Node> kept;
  for (Node& n : g.nodes)
    if (!n.op.empty()) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
  // Drop initializers nothing reads any more (the BN parameters, replaced weights).
  std::set<std::string> used;
  for (const Node& n : g.nodes)
    for (const auto& i : n.inputs) used.insert(i);
  for (const auto& o : g.outputs) used.insert(o.name);
  for (auto it = g.initializers.begin(); it != g.initializers.end();)
    it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
  return folded;
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
