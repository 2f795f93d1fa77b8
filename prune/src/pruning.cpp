#include "prune/pruning.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "prune/errors.h"

namespace prunesim {

Registry<Scheme>& scheme_registry() {
  static Registry<Scheme> r("scheme");
  return r;
}

const Scheme* make_scheme(const std::string& name) {
  return &scheme_registry().get(name, "--scheme");
}

std::vector<std::string> scheme_names() {
  return scheme_registry().names();
}

ParamValues resolve_scheme_params(const Scheme& s, const nlohmann::json& given,
                                  const std::function<std::string(const std::string&)>& where) {
  const std::vector<ParamSpec> specs = s.params();
  ParamValues pv(specs);
  if (!given.is_null())
    for (const auto& [key, v] : given.items()) {
      const ParamSpec* spec = find_param(specs, key);
      if (!spec) {
        std::string takes;
        for (const auto& p : specs) takes += (takes.empty() ? "" : ", ") + p.name;
        throw InputError(where(key) + ": not an option of the " + s.name() + " scheme (" +
                         (takes.empty() ? "it takes none" : "it takes " + takes) + ")");
      }
      pv.set(key, check_param_value(*spec, v, where(key)));
    }
  try {
    s.check(pv);
  } catch (const InputError& e) {
    throw InputError(where("") + ": " + e.what());
  }
  return pv;
}

ParamValues Scheme::complete(const ParamValues& given) const {
  const std::vector<ParamSpec> specs = params();
  ParamValues full(specs);
  for (const auto& [key, v] : given.json().items()) {
    if (!find_param(specs, key))
      throw InputError("option '" + key + "': not an option of the " + name() + " scheme");
    full.set(key, v);
  }
  return full;
}

SchemeResult Scheme::apply(const Graph& g, const std::vector<std::string>& layers,
                           const SchemeOptions& o, const PruneData& d) const {
  SchemeOptions full = o;
  full.params = complete(o.params);
  return run(g, layers, full, d);
}

int64_t PrunableLayer::index(int64_t row, int64_t col) const {
  if (op != "ConvTranspose") {
    if (col_major) return col * rows + row;  // [K, N] layout: rows are columns of the initializer
    return row * cols + col;
  }
  // ConvTranspose weight [C, M/group, k...]: output channel m = g*mpg + mo gathers, per input
  // channel ci of its group, the kernel taps w[ci, mo, :].
  const int64_t ksz = numel(Shape(shape.begin() + 2, shape.end()));
  const int64_t mpg = shape[1], cpg = shape[0] / group;
  const int64_t gi = row / mpg, mo = row % mpg;
  const int64_t ci = gi * cpg + col / ksz, t = col % ksz;
  return (ci * mpg + mo) * ksz + t;
}

std::vector<PrunableLayer> prunable_layers(const Graph& g) {
  std::vector<PrunableLayer> r;
  for (const Node& n : g.nodes) {
    if (n.op != "Conv" && n.op != "ConvTranspose" && n.op != "Gemm" && n.op != "MatMul") continue;
    if (n.in(1).empty() || !g.is_const(n.in(1))) continue;
    const Tensor& w = g.init(n.in(1));
    if (!w.is_float() || w.shape.size() < 2) continue;
    PrunableLayer l;
    l.node = n.name;
    l.op = n.op;
    l.weight = n.in(1);
    l.shape = w.shape;
    l.group = n.attr_i("group", 1);
    if (n.op == "Conv") {
      l.rows = w.shape[0];
      l.cols = w.size() / l.rows;
      l.depthwise = l.group > 1 && w.shape[1] == 1;
    } else if (n.op == "ConvTranspose") {
      l.rows = w.shape[1] * l.group;
      l.cols = w.size() / l.rows;
      l.depthwise = l.group > 1 && w.shape[1] == 1;
    } else {
      if (w.shape.size() != 2) continue;
      const bool tb = n.op == "Gemm" && n.attr_i("transB", 0) != 0;
      l.rows = tb ? w.shape[0] : w.shape[1];
      l.cols = tb ? w.shape[1] : w.shape[0];
      l.col_major = !tb;
    }
    r.push_back(l);
  }
  return r;
}

std::vector<PrunableLayer> select_layers(const Graph& g, const std::vector<std::string>& layers) {
  auto all = prunable_layers(g);
  if (layers.empty()) return all;
  std::vector<PrunableLayer> r;
  for (const auto& name : layers) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const PrunableLayer& l) { return l.node == name; });
    if (it == all.end()) fail(g.source, "layer '" + name + "'", "no prunable layer of that name");
    r.push_back(*it);
  }
  return r;
}

Graph apply_masks(const Graph& g, const MaskMap& masks) {
  Graph out = g;
  for (const auto& kv : masks) {
    auto it = out.initializers.find(kv.first);
    if (it == out.initializers.end())
      throw InputError("mask for unknown weight '" + kv.first + "'");
    Tensor& w = it->second;
    if (kv.second.size() != w.f.size())
      throw InputError("mask for '" + kv.first + "' has " + std::to_string(kv.second.size()) +
                       " entries, weight has " + std::to_string(w.f.size()));
    for (size_t k = 0; k < w.f.size(); ++k)
      if (!kv.second[k]) w.f[k] = 0.f;
  }
  return out;
}

double weight_sparsity(const Graph& g, const std::vector<std::string>& weights) {
  std::vector<std::string> names = weights;
  if (names.empty())
    for (const auto& l : prunable_layers(g)) names.push_back(l.weight);
  int64_t zeros = 0, total = 0;
  for (const auto& n : names) {
    const Tensor& w = g.init(n);
    total += w.size();
    for (float v : w.f) zeros += v == 0.f;
  }
  return total ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

void check_sparsity(double s) {
  if (!(s >= 0.0 && s < 1.0))
    throw InputError("--sparsity: " + std::to_string(s) + " is outside [0, 1)");
}

}  // namespace prunesim
