#include <cmath>
#include <map>
#include <set>

#include "float_walk.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/executor.h"

namespace prunesim {

TensorMap run_graph_once(const Graph& g, const TensorMap& inputs, const Observer& obs,
                         const NodeHook& hook) {
  // Last use of every value, so intermediates are freed as soon as nothing needs them.
  std::map<std::string, size_t> last;
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (const auto& i : g.nodes[k].inputs) last[i] = k;
  std::map<std::string, Tensor> env;
  for (const auto& v : g.inputs) {
    auto it = inputs.find(v.name);
    if (it == inputs.end()) fail(g.source, "input '" + v.name + "'", "no tensor given");
    env[v.name] = it->second;
  }
  std::set<std::string> outs;
  for (const auto& o : g.outputs) outs.insert(o.name);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    const OpDef* d = find_op(n.op);
    size_t used = n.inputs.size();
    while (used > 0 && n.inputs[used - 1].empty()) --used;
    std::vector<const Tensor*> in(used, nullptr);
    for (size_t i = 0; i < used; ++i) {
      const std::string& v = n.inputs[i];
      if (v.empty()) continue;
      if (g.is_const(v)) {
        in[i] = &g.init(v);
      } else {
        auto it = env.find(v);
        if (it == env.end())
          fail(g.source, "node '" + n.name + "'", "input '" + v + "' not computed");
        in[i] = &it->second;
      }
    }
    std::vector<Tensor> out(n.outputs.size());
    if (!hook || !hook(k, n, in, out)) d->run(g, n, in, out);
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      if (n.outputs[o].empty()) continue;
      if (obs) obs(n, n.outputs[o], out[o]);
      env[n.outputs[o]] = std::move(out[o]);
    }
    for (const auto& v : n.inputs) {
      auto it = last.find(v);
      if (it != last.end() && it->second == k && !outs.count(v)) env.erase(v);
    }
  }
  TensorMap r;
  for (const auto& o : g.outputs) r[o.name] = g.is_const(o.name) ? g.init(o.name) : env.at(o.name);
  return r;
}

Tensor batch_slice(const Tensor& t, int64_t b) {
  Shape s = t.shape;
  const int64_t per = numel(s) / s[0];
  s[0] = 1;
  return Tensor(s, std::vector<float>(t.f.begin() + b * per, t.f.begin() + (b + 1) * per));
}

TensorMap run_float(const Graph& g, const TensorMap& inputs, const Observer& obs) {
  // A model declared with batch 1 (or a symbolic batch that shape inference fixed at 1) runs
  // a larger batch sample by sample: constant Reshape targets often hard-code the batch.
  // (A symbolic batch is -1 in the declared shape: prunesim's own saved models declare one.)
  if (g.inputs.size() == 1 && !g.inputs[0].shape.empty() &&
      (g.inputs[0].shape[0] == 1 || g.inputs[0].shape[0] < 0)) {
    auto it = inputs.find(g.inputs[0].name);
    if (it != inputs.end() && !it->second.shape.empty() && it->second.shape[0] > 1) {
      const Tensor& x = it->second;
      TensorMap result;
      for (int64_t b = 0; b < x.shape[0]; ++b) {
        TensorMap one = run_graph_once(g, {{g.inputs[0].name, batch_slice(x, b)}}, obs, nullptr);
        for (auto& kv : one) {
          Tensor& acc = result[kv.first];
          if (b == 0) {
            acc.shape = kv.second.shape;
            acc.shape[0] = 0;
          }
          acc.shape[0] += kv.second.shape.empty() ? 1 : kv.second.shape[0];
          acc.f.insert(acc.f.end(), kv.second.f.begin(), kv.second.f.end());
        }
      }
      return result;
    }
  }
  return run_graph_once(g, inputs, obs, nullptr);
}

Tensor run_float(const Graph& g, const Tensor& x, const Observer& obs) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    fail(g.source, "graph",
         "expected one input and one output, found " + std::to_string(g.inputs.size()) + " and " +
             std::to_string(g.outputs.size()));
  TensorMap r = run_float(g, {{g.inputs[0].name, x}}, obs);
  return r.begin()->second;
}

void check_input_shape(const Graph& g, const Tensor& x, const std::string& file) {
  if (g.inputs.size() != 1)
    fail(g.source, "graph", "has " + std::to_string(g.inputs.size()) + " inputs; one expected");
  const ValueInfo& v = g.inputs[0];
  bool ok = x.shape.size() == v.shape.size() && !x.shape.empty() && x.shape[0] >= 1;
  for (size_t d = 1; ok && d < v.shape.size(); ++d) ok = v.shape[d] < 0 || v.shape[d] == x.shape[d];
  if (ok && v.shape[0] > 1) ok = x.shape[0] == v.shape[0];
  if (!ok) {
    Shape want = v.shape;
    fail(file, "shape " + shape_str(x.shape),
         "does not match input '" + v.name + "' " + shape_str(want) + " of " + g.source +
             " (the first dimension is the batch)");
  }
  if (!x.is_float())
    fail(file, "dtype", std::string(dtype_name(x.dtype)) + " data where float32 is expected");
}

void check_finite(const Tensor& t, const std::string& source, const std::string& what) {
  for (size_t k = 0; k < t.f.size(); ++k)
    if (!std::isfinite(t.f[k]))
      fail(source, what,
           std::string("contains ") + (std::isnan(t.f[k]) ? "NaN" : "Inf") + " at element " +
               std::to_string(k));
}

}  // namespace prunesim
