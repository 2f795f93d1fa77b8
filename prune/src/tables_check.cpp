// The semantic rules a weight table passes before anything runs it (docs/weight-tables.md §
// "Validation rules"): the embedded graph obeys the import rules (check_supported), its shape
// table is complete and equals what shape inference gives, every scale is finite and positive,
// every requantization record is in hls's range, and every layer's per-kind lists (pooling
// requantization, tables, operands) have the lengths the int8 executor indexes. The byte-level
// reader (tables_reader.cpp) has already checked lengths, CRCs and the directory.
#include <cmath>
#include <set>

#include "base/limits.h"
#include "hls/arith.h"
#include "prune/errors.h"
#include "prune/graph_passes.h"
#include "prune/op_geometry.h"
#include "tables_format.h"

namespace prunesim::pwt {
namespace {

void check_scale(const std::string& source, const std::string& place, double s) {
  if (!std::isfinite(s) || !(s > 0))
    fail(source, place, "scale " + std::to_string(s) + " is not a finite number > 0");
}

void check_scales(const QuantizedModel& q, const std::string& source) {
  check_scale(source, "input scale", q.input_scale);
  check_scale(source, "output scale", q.output_scale);
  if (!std::isfinite(q.options.percentile) || q.options.percentile < 0 ||
      q.options.percentile > 100)
    fail(source, "percentile", std::to_string(q.options.percentile) + " is outside [0, 100]");
  for (const auto& kv : q.scales) check_scale(source, "scale of '" + kv.first + "'", kv.second);
  for (const auto& kv : q.ranges)
    if (!std::isfinite(kv.second.first) || !std::isfinite(kv.second.second) ||
        kv.second.first > kv.second.second)
      fail(source, "range of '" + kv.first + "'", "is not a finite [min, max]");
}

// The shape table: every value the graph infers has the inferred shape (a missing or different
// entry would size a kernel's buffer wrongly).
void check_shape_table(const QuantizedModel& q, const std::string& source) {
  check_supported(q.graph);
  Graph g = q.graph;
  // Weights live in the layer sections, not among the graph's initializers: their shapes come
  // from the table (placeholders without data; no shape function reads a weight's values).
  std::set<std::string> produced;
  for (const auto& v : g.inputs) produced.insert(v.name);
  for (const Node& n : g.nodes) produced.insert(n.outputs.begin(), n.outputs.end());
  for (const Node& n : q.graph.nodes)
    for (const auto& v : n.inputs) {
      if (v.empty() || produced.count(v) || g.initializers.count(v)) continue;
      auto it = q.graph.shapes.find(v);
      if (it == q.graph.shapes.end())
        fail(source, "value '" + v + "'", "missing from the value-shape table");
      check_shape_alloc(source, "value '" + v + "'", it->second, 1);
      Tensor t;
      t.shape = it->second;
      g.initializers[v] = std::move(t);
    }
  infer_shapes(g);
  for (const auto& kv : g.shapes) {
    if (q.graph.initializers.count(kv.first)) continue;
    auto it = q.graph.shapes.find(kv.first);
    if (it == q.graph.shapes.end())
      fail(source, "value '" + kv.first + "'", "missing from the value-shape table");
    if (it->second != kv.second)
      fail(source, "value '" + kv.first + "'",
           "shape table says " + shape_str(it->second) + ", the graph gives " +
               shape_str(kv.second));
  }
}

// How many requantization records kind k indexes (-1: the weight-layer rule of check_layers).
int64_t requant_needed(const QuantizedModel& q, const QLayer& L) {
  switch (L.kind) {
    case QLayer::Kind::AvgPool: {
      const Node& n = q.graph.nodes[L.node];
      const PoolGeom p = pool_geometry(q.graph, n, q.graph.shape(L.inputs.at(0)));
      return p.kh * p.kw + 1;  // requant[n] for a window of n taps, n = 0 .. kh*kw
    }
    case QLayer::Kind::GlobalAvgPool:
    case QLayer::Kind::Mul:
    case QLayer::Kind::MatMulAct:
    case QLayer::Kind::ReduceSum:
      return 1;
    case QLayer::Kind::Add:
    case QLayer::Kind::Sub:
      return 3;
    case QLayer::Kind::Concat:
      return static_cast<int64_t>(L.inputs.size());
    default:
      return has_weights(L) ? -1 : 0;
  }
}

// Activation inputs each kind reads (a constant operand of Add/Sub/Mul is the inline weight).
size_t inputs_needed(const QLayer& L) {
  switch (L.kind) {
    case QLayer::Kind::Add:
    case QLayer::Kind::Sub:
    case QLayer::Kind::Mul:
      return L.const_operand >= 0 ? 1 : 2;
    case QLayer::Kind::MatMulAct:
      return 2;
    case QLayer::Kind::Concat:
      return L.inputs.empty() ? 1 : L.inputs.size();
    default:
      return 1;
  }
}

void check_layer(const QuantizedModel& q, const QLayer& L, const std::set<std::string>& ready,
                 const std::string& source) {
  const std::string place = "layer '" + L.name + "'";
  const Node& n = q.graph.nodes[L.node];
  if (n.op != L.op) fail(source, place, "op '" + L.op + "' but its node is a " + n.op);
  if (L.inputs.size() != inputs_needed(L))
    fail(source, place,
         "has " + std::to_string(L.inputs.size()) + " inputs, its kind reads " +
             std::to_string(inputs_needed(L)));
  for (const auto& v : L.inputs)
    if (!ready.count(v)) fail(source, place, "input '" + v + "' is produced by no earlier layer");
  for (const auto* v : {&L.output}) {
    if (!q.graph.shapes.count(*v)) fail(source, place, "output '" + *v + "' has no shape");
    check_shape_alloc(source, place, q.graph.shapes.at(*v), 8);
  }
  for (const auto& v : L.inputs) check_shape_alloc(source, place, q.graph.shapes.at(v), 8);
  for (size_t k = 0; k < L.requant.size(); ++k) {
    const auto& r = L.requant[k];
    if (r.shift < hls::kMinShift || r.shift > hls::kMaxShift || r.multiplier < 0)
      fail(source, place + " requant " + std::to_string(k),
           "multiplier " + std::to_string(r.multiplier) + " / shift " + std::to_string(r.shift) +
               " outside [0, 2^31) / [" + std::to_string(hls::kMinShift) + ", " +
               std::to_string(hls::kMaxShift) + "]");
  }
  const int64_t need = requant_needed(q, L);
  if (need >= 0 && static_cast<int64_t>(L.requant.size()) < need)
    fail(source, place,
         "has " + std::to_string(L.requant.size()) + " requantization records, its kind needs " +
             std::to_string(need));
  if (L.act_min > L.act_max) fail(source, place, "act_min > act_max");
  if (L.kind == QLayer::Kind::Lut && L.lut.size() != 256)
    fail(source, place, "lookup table has " + std::to_string(L.lut.size()) + " entries, not 256");
  if (L.kind == QLayer::Kind::Softmax && L.exp_lut.size() != 256)
    fail(source, place, "exp table has " + std::to_string(L.exp_lut.size()) + " entries, not 256");
  if (L.kind == QLayer::Kind::LayerNorm) {
    const size_t w = L.weight.size();
    const int64_t out = numel(q.graph.shapes.at(L.output));
    if (w == 0 || L.bias.size() != w || L.requant.size() != w || L.exp_lut.size() != 2 ||
        out % static_cast<int64_t>(w) != 0 || L.exp_lut[0] < 0 || L.exp_lut[1] < 0)
      fail(source, place,
           "LayerNorm needs one weight, bias and requantization record per normalised element "
           "and a two-word epsilon");
  }
  if (L.const_operand < -1 || (L.const_operand > 1 && L.kind != QLayer::Kind::Concat))
    fail(source, place, "constant operand " + std::to_string(L.const_operand) + " is not -1, 0, 1");
  if (!has_weights(L)) {
    int64_t n_w = 0;
    if (!checked_numel(L.weight_shape, &n_w) ||
        (L.const_operand >= 0 && L.weight.size() != static_cast<size_t>(n_w)))
      fail(source, place, "inline operand does not match its shape " + shape_str(L.weight_shape));
  }
  for (float s : L.weight_scale) check_scale(source, place + " weight scale", s);
}

}  // namespace

void check_program(const QuantizedModel& q, const std::string& source) {
  check_scales(q, source);
  check_shape_table(q, source);
  std::set<std::string> ready = {q.input};
  if (!q.graph.shapes.count(q.input)) fail(source, "input '" + q.input + "'", "has no shape");
  for (const QLayer& L : q.layers) {
    check_layer(q, L, ready, source);
    ready.insert(L.output);
  }
  if (!ready.count(q.output)) fail(source, "output '" + q.output + "'", "is produced by no layer");
}

}  // namespace prunesim::pwt
