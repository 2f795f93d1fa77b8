#include "prune/pruning.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "prune/errors.h"

namespace prunesim {
namespace {
std::map<std::string, SchemeFactory>& registry() {
  static std::map<std::string, SchemeFactory> r;
  return r;
}
}  // namespace

SchemeRegistrar::SchemeRegistrar(const std::string& name, SchemeFactory f) {
  registry()[name] = std::move(f);
}

std::unique_ptr<Scheme> make_scheme(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& kv : registry()) known += (known.empty() ? "" : ", ") + kv.first;
    throw InputError("--scheme: unknown scheme '" + name + "' (known: " + known + ")");
  }
  return it->second();
}

std::vector<std::string> scheme_names() {
  std::vector<std::string> r;
  for (const auto& kv : registry()) r.push_back(kv.first);
  return r;
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
