// The channel dependency groups and channel removal of prune/include/prune/channel.h, used by the
// `channel` and `similarity` schemes.
//
// The analysis works on single activation channels ("elements": channel c of tensor v) joined by
// a union-find: ops that keep channel c in channel c (element-wise ops, BatchNormalization,
// pooling, Resize, depthwise conv) join in[c] with out[c]; residual Add/Sub/Mul/Div join both
// operands; Concat joins input k's channel c with output channel offset_k + c; Flatten joins
// channel c with features c·HW … (c+1)·HW − 1. A connected set is a slot: it goes as a whole.
// Slots that share a producer node form a group. Anything we cannot follow (Reshape, Transpose,
// Softmax, grouped conv, graph inputs and outputs …) poisons the channels it touches, and a group
// with a poisoned slot is left whole.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <set>
#include <tuple>

#include "prune/channel.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace {

using ChannelSet = std::map<std::string, std::set<int64_t>>;  // value → removed channels

std::string where(const Node& n) {
  return n.op + " '" + n.name + "'";
}

bool is_graph_output(const Graph& g, const std::string& v) {
  for (const auto& o : g.outputs)
    if (o.name == v) return true;
  return false;
}

// ---------------------------------------------------------------- node roles
// What a node does with channels, decided from the op and its constant weight alone so that the
// analysis and the removal cannot disagree.
struct Role {
  bool producer = false;   // output channel m is filter m of its weight
  bool consumer = false;   // input-0 channel c is a slice of its weight
  bool depthwise = false;  // channel c in → channel c out through filter c of its weight
  bool grouped = false;    // group > 1 and not depthwise: channels cannot be cut
};

const Tensor* const_weight(const Graph& g, const Node& n) {
  if (n.in(1).empty() || !g.is_const(n.in(1))) return nullptr;
  const Tensor& w = g.init(n.in(1));
  return w.is_float() && w.shape.size() >= 2 ? &w : nullptr;
}

Role role_of(const Graph& g, const Node& n) {
  Role r;
  const Tensor* w = const_weight(g, n);
  if (!w) return r;
  if (n.op == "Conv" || n.op == "ConvTranspose") {
    const int64_t group = n.attr_i("group", 1);
    const auto it = g.shapes.find(n.in(0));
    if (it == g.shapes.end() || it->second.size() < 3) return r;
    const int64_t C = it->second[1];
    if (group == 1) {
      r.producer = r.consumer = true;
    } else if (group == C && w->shape[1] == 1 && (n.op == "ConvTranspose" || w->shape[0] == C)) {
      r.depthwise = true;  // channel multiplier 1 only: larger multipliers fan one channel out
    } else {
      r.grouped = true;
    }
  } else if (n.op == "Gemm" || n.op == "MatMul") {
    if (w->shape.size() != 2) return r;
    const auto it = g.shapes.find(n.in(0));
    if (it == g.shapes.end() || it->second.size() != 2) return r;
    r.producer = true;
    r.consumer = n.op == "MatMul" || n.attr_i("transA", 0) == 0;
  }
  return r;
}

// Weight axis holding the output channels (producer) and the input channels (consumer).
int producer_axis(const Node& n) {
  if (n.op == "ConvTranspose") return 1;
  if (n.op == "Gemm") return n.attr_i("transB", 0) ? 0 : 1;
  if (n.op == "MatMul") return 1;
  return 0;
}
int consumer_axis(const Node& n) {
  if (n.op == "ConvTranspose") return 0;
  if (n.op == "Gemm") return n.attr_i("transB", 0) ? 1 : 0;
  if (n.op == "MatMul") return 0;
  return 1;
}

// ---------------------------------------------------------------- tensor helpers
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView view(const Shape& s, int axis) {
  AxisView v;
  for (int d = 0; d < axis; ++d) v.outer *= s[static_cast<size_t>(d)];
  v.n = s[static_cast<size_t>(axis)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < s.size(); ++d) v.inner *= s[d];
  return v;
}

void zero_axis(Tensor& t, int axis, const std::set<int64_t>& idx) {
  const AxisView v = view(t.shape, axis);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t c : idx)
      for (int64_t i = 0; i < v.inner; ++i)
        t.f[static_cast<size_t>((o * v.n + c) * v.inner + i)] = 0.f;
}

Tensor erase_axis(const Tensor& t, int axis, const std::set<int64_t>& idx) {
  const AxisView v = view(t.shape, axis);
  Tensor r = t;
  r.shape[static_cast<size_t>(axis)] -= static_cast<int64_t>(idx.size());
  r.f.clear();
  r.f.reserve(static_cast<size_t>(numel(r.shape)));
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t c = 0; c < v.n; ++c) {
      if (idx.count(c)) continue;
      const auto b = t.f.begin() + (o * v.n + c) * v.inner;
      r.f.insert(r.f.end(), b, b + v.inner);
    }
  return r;
}

// Input k of node i as an initializer nobody else reads, copying it first if it is shared, so
// cutting one layer's weight can never change another layer.
Tensor& own_input(Graph& g, size_t i, size_t k) {
  Node& n = g.nodes[i];
  const std::string v = n.inputs[k];
  int uses = is_graph_output(g, v) ? 1 : 0;
  for (const Node& m : g.nodes)
    for (const auto& in : m.inputs) uses += in == v;
  if (uses <= 1) return g.initializers.at(v);
  std::string nv = v + "__" + n.name;
  while (g.initializers.count(nv)) nv += "_";
  g.initializers[nv] = g.init(v);
  n.inputs[k] = nv;
  return g.initializers.at(nv);
}

// ---------------------------------------------------------------- element union-find
struct Elements {
  std::map<std::string, std::pair<int64_t, int64_t>> base;  // value → (first id, channels)
  std::vector<ChannelRef> ref;                              // id → (value, channel)
  std::vector<int64_t> parent;
  std::vector<std::string> poison;  // first reason an element cannot be removed ("" if none)

  void add(const std::string& v, int64_t C) {
    if (base.count(v)) return;
    base[v] = {static_cast<int64_t>(ref.size()), C};
    for (int64_t c = 0; c < C; ++c) {
      parent.push_back(static_cast<int64_t>(ref.size()));
      ref.push_back({v, c});
      poison.emplace_back();
    }
  }
  bool has(const std::string& v) const { return base.count(v) != 0; }
  int64_t channels(const std::string& v) const { return base.at(v).second; }
  int64_t id(const std::string& v, int64_t c) const { return base.at(v).first + c; }
  int64_t find(int64_t x) {
    while (parent[static_cast<size_t>(x)] != x)
      x = parent[static_cast<size_t>(x)] =
          parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  }
  void unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
  void join(const std::string& a, int64_t ca, const std::string& b, int64_t cb) {
    unite(id(a, ca), id(b, cb));
  }
  void poison_value(const std::string& v, const std::string& why) {
    if (!has(v)) return;
    for (int64_t c = 0; c < channels(v); ++c) {
      auto& p = poison[static_cast<size_t>(id(v, c))];
      if (p.empty()) p = why;
    }
  }
};

const std::set<std::string>& passthrough_ops() {
  // Ops that compute output channel c from input channel c alone.
  static const std::set<std::string> s = {"Relu",
                                          "LeakyRelu",
                                          "Sigmoid",
                                          "Tanh",
                                          "Clip",
                                          "Abs",
                                          "Neg",
                                          "Exp",
                                          "Log",
                                          "Sqrt",
                                          "Reciprocal",
                                          "Elu",
                                          "Selu",
                                          "HardSigmoid",
                                          "Softplus",
                                          "Softsign",
                                          "Floor",
                                          "Ceil",
                                          "Identity",
                                          "Dropout",
                                          "MaxPool",
                                          "AveragePool",
                                          "GlobalAveragePool",
                                          "GlobalMaxPool",
                                          "BatchNormalization",
                                          "Resize",
                                          "Upsample"};
  return s;
}

// The constant operand of a binary op: the axis of it that runs along the output channels, or -1
// when it broadcasts over them (size 1 or absent).
int const_channel_axis(const Tensor& t, size_t out_rank) {
  const int ax = 1 - static_cast<int>(out_rank - t.shape.size());
  if (ax < 0 || t.shape[static_cast<size_t>(ax)] == 1) return -1;
  return ax;
}

struct Structure {
  ChannelAnalysis a;
  // (producer node, channel) → (group, slot)
  std::map<std::pair<std::string, int64_t>, std::pair<size_t, size_t>> filter_slot;
};

std::string through(const Node& n) {
  return "goes through " + where(n);
}

const std::string& first_output(const Node& n) {
  return n.outputs.empty() ? n.in(0) : n.outputs[0];
}

// The elements of g joined and poisoned node by node (see the top of the file), with the producer
// filters and the consumer inputs met on the way.
struct ElementWalk {
  const Graph& g;
  Elements e;
  std::vector<FilterRef> filters;                              // all producer filters (node order)
  std::vector<std::pair<std::string, std::string>> consumers;  // (node, value)

  explicit ElementWalk(const Graph& graph) : g(graph) {
    for (const auto& kv : g.shapes)
      if (!g.is_const(kv.first) && kv.second.size() >= 2) e.add(kv.first, kv.second[1]);
    for (const Node& n : g.nodes) visit(n);
    for (const auto& v : g.inputs) e.poison_value(v.name, "reaches graph input '" + v.name + "'");
    for (const auto& v : g.outputs) e.poison_value(v.name, "reaches graph output '" + v.name + "'");
  }

  void visit(const Node& n) {
    if (n.op == "Conv" || n.op == "ConvTranspose" || n.op == "Gemm" || n.op == "MatMul")
      weight_layer(n);
    else if (passthrough_ops().count(n.op))
      passthrough(n);
    else if (n.op == "Add" || n.op == "Sub" || n.op == "Mul" || n.op == "Div")
      elementwise(n);
    else if (n.op == "Concat")
      concat(n);
    else if (n.op == "Flatten")
      flatten(n);
    else
      poison_all(n, through(n));
  }

  void poison_all(const Node& n, const std::string& reason) {
    for (const auto& v : n.inputs)
      if (!v.empty() && !g.is_const(v)) e.poison_value(v, reason);
    for (const auto& v : n.outputs)
      if (!v.empty()) e.poison_value(v, reason);
  }

  // Depthwise convs pass channel c through; the other weight layers list their filters and, when
  // they read their input through the weight, that input as a consumer.
  void weight_layer(const Node& n) {
    const std::string why = through(n);
    const std::string& x = n.in(0);
    const std::string& y = first_output(n);
    const Role r = role_of(g, n);
    const Tensor* w = const_weight(g, n);
    if (!w || !e.has(y)) {
      poison_all(n, w ? why : why + " (no constant weight)");
      return;
    }
    const int64_t M = e.channels(y);
    if (r.depthwise) {
      for (int64_t c = 0; c < M; ++c) e.join(x, c, y, c);
      if (!n.in(2).empty() && !g.is_const(n.in(2))) poison_all(n, why + " (non-constant bias)");
      return;
    }
    // Grouped layers are listed as producers too, so the report names them as left whole.
    for (int64_t m = 0; m < M; ++m) filters.push_back({n.name, m});
    if (r.grouped) {
      poison_all(n, "goes through grouped " + where(n) + " (group " +
                        std::to_string(n.attr_i("group", 1)) + ")");
      return;
    }
    if (!r.producer && !r.consumer) {
      poison_all(n, why + " (operands are not [N, features] with a 2-D weight)");
      return;
    }
    if (r.consumer && e.has(x))
      consumers.emplace_back(n.name, x);
    else
      e.poison_value(x, why + " (transA)");
    if (!n.in(2).empty()) {
      bool ok = g.is_const(n.in(2));
      if (ok && n.op == "Gemm") {  // the bias is cut along its last axis, or broadcast
        const Shape& b = g.init(n.in(2)).shape;
        ok = b.size() <= 2 && (numel(b) == 1 || (!b.empty() && b.back() == M));
      }
      if (!ok) e.poison_value(y, why + " (bias not per output channel)");
    }
  }

  void passthrough(const Node& n) {
    const std::string& x = n.in(0);
    const std::string& y = first_output(n);
    bool ok = e.has(x) && e.has(y) && e.channels(x) == e.channels(y);
    for (size_t k = 1; k < n.inputs.size(); ++k)
      ok = ok && (n.inputs[k].empty() || g.is_const(n.inputs[k]));
    if (!ok) {
      poison_all(n, through(n));
      return;
    }
    for (int64_t c = 0; c < e.channels(x); ++c) e.join(x, c, y, c);
  }

  // Add/Sub/Mul/Div: every non-constant operand's channel c joins output channel c; a constant
  // operand must be per channel or broadcast over the channels.
  void elementwise(const Node& n) {
    const std::string& y = first_output(n);
    if (!e.has(y)) {
      poison_all(n, through(n));
      return;
    }
    const size_t R = g.shape(y).size();
    const int64_t C = e.channels(y);
    bool ok = true;
    for (const auto& v : n.inputs) {
      if (g.is_const(v)) {
        const Tensor& t = g.init(v);
        const int ax = const_channel_axis(t, R);
        ok = ok && (ax < 0 || t.shape[static_cast<size_t>(ax)] == C);
      } else {
        ok = ok && e.has(v) && g.shape(v).size() == R && e.channels(v) == C;
      }
    }
    if (!ok) {
      poison_all(n, through(n) + " (broadcast across channels)");
      return;
    }
    for (const auto& v : n.inputs)
      if (!g.is_const(v))
        for (int64_t c = 0; c < C; ++c) e.join(v, c, y, c);
  }

  void concat(const Node& n) {
    const std::string& y = first_output(n);
    bool ok = e.has(y);
    for (const auto& v : n.inputs) ok = ok && !g.is_const(v) && e.has(v);
    if (!ok) {
      poison_all(n, through(n) + " (constant or low-rank input)");
      return;
    }
    const int64_t R = static_cast<int64_t>(g.shape(y).size());
    int64_t axis = n.attr_i("axis", 1);
    if (axis < 0) axis += R;
    int64_t off = 0;
    for (const auto& v : n.inputs) {
      for (int64_t c = 0; c < e.channels(v); ++c) e.join(v, c, y, axis == 1 ? off + c : c);
      off += e.channels(v);
    }
  }

  void flatten(const Node& n) {
    const std::string& x = n.in(0);
    const std::string& y = first_output(n);
    if (n.attr_i("axis", 1) != 1 || !e.has(x) || !e.has(y)) {
      poison_all(n, through(n));
      return;
    }
    const Shape& s = g.shape(x);
    const int64_t C = s[1], hw = numel(s) / (s[0] * C);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < hw; ++j) e.join(x, c, y, c * hw + j);
  }
};

// Node name → position in the graph: every list of the analysis is in graph order.
struct NodeOrder {
  std::map<std::string, size_t> pos;
  explicit NodeOrder(const Graph& g) {
    for (size_t i = 0; i < g.nodes.size(); ++i) pos[g.nodes[i].name] = i;
  }
  size_t at(const std::string& node) const { return pos.at(node); }
  bool less(const FilterRef& a, const FilterRef& b) const {
    return std::make_pair(at(a.node), a.channel) < std::make_pair(at(b.node), b.channel);
  }
};

// The slots: the connected sets of elements that hold at least one filter, each with the first
// reason one of its elements cannot be removed ("" when none can be said).
struct Slots {
  std::vector<ChannelSlot> slots;
  std::vector<std::string> poison;
};

Slots collect_slots(const Graph& g, ElementWalk& w, const NodeOrder& order) {
  Elements& e = w.e;
  std::map<int64_t, size_t> slot_of_root;
  std::vector<ChannelSlot> slots;
  std::vector<std::string> slot_poison;
  auto slot_for = [&](int64_t id) {
    const int64_t r = e.find(id);
    auto it = slot_of_root.find(r);
    if (it != slot_of_root.end()) return it->second;
    slot_of_root[r] = slots.size();
    slots.emplace_back();
    slot_poison.emplace_back();
    return slots.size() - 1;
  };
  for (const auto& f : w.filters)
    slots[slot_for(e.id(g.nodes[order.at(f.node)].outputs[0], f.channel))].filters.push_back(f);
  for (size_t id = 0; id < e.ref.size(); ++id) {
    auto it = slot_of_root.find(e.find(static_cast<int64_t>(id)));
    if (it == slot_of_root.end()) continue;
    slots[it->second].values.push_back(e.ref[id]);
    if (slot_poison[it->second].empty()) slot_poison[it->second] = e.poison[id];
  }
  for (const auto& cv : w.consumers)
    for (int64_t c = 0; c < e.channels(cv.second); ++c) {
      auto it = slot_of_root.find(e.find(e.id(cv.second, c)));
      if (it != slot_of_root.end()) slots[it->second].uses.push_back({cv.first, cv.second, c});
    }
  for (auto& s : slots) {
    std::sort(s.filters.begin(), s.filters.end(),
              [&](const FilterRef& a, const FilterRef& b) { return order.less(a, b); });
    std::sort(s.uses.begin(), s.uses.end(), [&](const ChannelUse& a, const ChannelUse& b) {
      return std::make_tuple(order.at(a.node), a.value, a.channel) <
             std::make_tuple(order.at(b.node), b.value, b.channel);
    });
  }
  return {std::move(slots), std::move(slot_poison)};
}

// The groups: slots sharing a producer node, ordered by their first producer; a group with a
// poisoned slot is left whole.
Structure group_slots(const Slots& sl, const NodeOrder& order) {
  const std::vector<ChannelSlot>& slots = sl.slots;
  std::vector<size_t> gp(slots.size());
  std::iota(gp.begin(), gp.end(), size_t{0});
  std::function<size_t(size_t)> gfind = [&](size_t s) {
    return gp[s] == s ? s : gp[s] = gfind(gp[s]);
  };
  std::map<std::string, size_t> first_slot_of_node;
  for (size_t s = 0; s < slots.size(); ++s)
    for (const auto& f : slots[s].filters) {
      auto it = first_slot_of_node.find(f.node);
      if (it == first_slot_of_node.end())
        first_slot_of_node[f.node] = s;
      else
        gp[std::max(gfind(s), gfind(it->second))] = std::min(gfind(s), gfind(it->second));
    }
  std::map<size_t, std::vector<size_t>> members;
  for (size_t s = 0; s < slots.size(); ++s) members[gfind(s)].push_back(s);

  Structure st;
  for (auto& kv : members) {
    ChannelGroup grp;
    std::set<std::string> prods;
    for (size_t s : kv.second)
      for (const auto& f : slots[s].filters) prods.insert(f.node);
    grp.producers.assign(prods.begin(), prods.end());
    std::sort(
        grp.producers.begin(), grp.producers.end(),
        [&](const std::string& a, const std::string& b) { return order.at(a) < order.at(b); });
    std::vector<size_t> members_in_order = kv.second;
    std::sort(members_in_order.begin(), members_in_order.end(), [&](size_t a, size_t b) {
      return order.less(slots[a].filters[0], slots[b].filters[0]);
    });
    for (size_t s : members_in_order) {
      if (grp.prunable && !sl.poison[s].empty()) {
        grp.prunable = false;
        grp.reason = sl.poison[s];
      }
      grp.slots.push_back(slots[s]);
    }
    st.a.groups.push_back(std::move(grp));
  }
  std::sort(st.a.groups.begin(), st.a.groups.end(),
            [&](const ChannelGroup& a, const ChannelGroup& b) {
              return order.at(a.producers[0]) < order.at(b.producers[0]);
            });
  for (size_t gi = 0; gi < st.a.groups.size(); ++gi)
    for (size_t si = 0; si < st.a.groups[gi].slots.size(); ++si)
      for (const auto& f : st.a.groups[gi].slots[si].filters)
        st.filter_slot[{f.node, f.channel}] = {gi, si};
  return st;
}

Structure analyze_structure(const Graph& g) {
  ElementWalk w(g);
  const NodeOrder order(g);
  return group_slots(collect_slots(g, w, order), order);
}

// ---------------------------------------------------------------- plans
size_t node_index(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return i;
  fail(g.source, "node '" + name + "'", "no such node");
}

// The removed channels of every tensor: the plan's filters closed over their slots.
ChannelSet resolve(const Graph& g, const Structure& st, const ChannelPlan& p) {
  std::set<std::pair<size_t, size_t>> chosen;
  for (const auto& kv : p.remove) {
    for (int64_t c : kv.second) {
      auto it = st.filter_slot.find({kv.first, c});
      if (it == st.filter_slot.end()) {
        node_index(g, kv.first);  // names an unknown node first
        fail(g.source, "node '" + kv.first + "'",
             "has no prunable output channel " + std::to_string(c) +
                 " (not a Conv/ConvTranspose/Gemm/MatMul with a constant weight, or out of range)");
      }
      const ChannelGroup& grp = st.a.groups[it->second.first];
      if (!grp.prunable)
        fail(g.source, "node '" + kv.first + "'",
             "channel " + std::to_string(c) + " is in a group left whole: " + grp.reason);
      chosen.insert(it->second);
    }
  }
  ChannelSet R;
  for (const auto& gs : chosen)
    for (const auto& v : st.a.groups[gs.first].slots[gs.second].values)
      R[v.value].insert(v.channel);
  for (const auto& kv : R)
    if (static_cast<int64_t>(kv.second.size()) >= g.shape(kv.first)[1])
      fail(g.source, "tensor '" + kv.first + "'", "the plan removes all of its channels");
  return R;
}

Graph masked_from(const Graph& g, const ChannelSet& R) {
  Graph m = g;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const Role r = role_of(g, n);
    if (!r.producer && !r.depthwise) continue;
    auto it = R.find(n.outputs[0]);
    if (it == R.end()) continue;
    Tensor& w = own_input(m, i, 1);
    zero_axis(w, r.depthwise ? 0 : producer_axis(n), it->second);
  }
  return m;
}

// Every consumer input that loses channels, as computed by the masked graph on a zero input.
// The removed channels are constants there (every filter feeding them is zero), so one run gives
// the values to fold; the zero input only keeps the kept channels finite.
std::map<std::string, Tensor> masked_consumer_inputs(const Graph& g, const ChannelSet& R) {
  std::set<std::string> want;
  for (const Node& n : g.nodes)
    if (role_of(g, n).consumer && R.count(n.in(0))) want.insert(n.in(0));
  std::map<std::string, Tensor> got;
  if (want.empty()) return got;
  const Graph m = masked_from(g, R);
  TensorMap in;
  for (const auto& v : g.inputs) in[v.name] = Tensor(g.shape(v.name));
  run_float(m, in, [&](const Node&, const std::string& v, const Tensor& t) {
    if (want.count(v)) got[v] = t;
  });
  return got;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

bool conv_padded(const Graph& g, const Node& n) {
  const ConvGeom c = conv_geometry(g, n, g.shape(n.in(0)), g.init(n.in(1)).shape);
  return c.pt || c.pl || c.pb || c.pr;
}

// Adds to `delta` (indexed by the consumer's output channels) what channel c of the consumer's
// input contributes when it holds the masked graph's value x; returns why that is not a bias
// ("" when it is).
std::string fold_channel(const Graph& g, const Node& n, const Tensor& x, int64_t c,
                         std::vector<double>& delta) {
  const Tensor& w = g.init(n.in(1));
  const int64_t per = numel(x.shape) / (x.shape[0] * x.shape[1]);
  const float* plane = x.f.data() + c * per;
  const float v0 = plane[0];
  bool zero = true, uniform = true;
  for (int64_t k = 0; k < per; ++k) {
    if (!std::isfinite(plane[k])) return "its value in the masked graph is not finite";
    zero = zero && plane[k] == 0.f;
    uniform = uniform && std::fabs(plane[k] - v0) <= 1e-6f * std::max(1.f, std::fabs(v0));
  }
  if (zero) return "";
  if (n.op == "Gemm") {
    const bool tb = n.attr_i("transB", 0) != 0;
    const int64_t N = tb ? w.shape[0] : w.shape[1], K = tb ? w.shape[1] : w.shape[0];
    const double alpha = n.attr_f("alpha", 1.f);
    for (int64_t j = 0; j < N; ++j)
      delta[static_cast<size_t>(j)] +=
          alpha * v0 * w.f[static_cast<size_t>(tb ? j * K + c : c * N + j)];
    return "";
  }
  if (n.op != "Conv")
    return "its constant " + fmt(v0) + " cannot become a bias of " + where(n) +
           (n.op == "ConvTranspose" ? " (edge outputs collect fewer taps)" : " (no bias input)");
  if (!uniform) return "its value in the masked graph varies over positions";
  if (conv_padded(g, n))
    return "its constant " + fmt(v0) + " reaches padded " + where(n) +
           ", whose border taps read zero padding instead";
  const AxisView av = view(w.shape, 1);  // [M, C, k…]
  for (int64_t m = 0; m < av.outer; ++m) {
    double s = 0.0;
    for (int64_t k = 0; k < av.inner; ++k)
      s += w.f[static_cast<size_t>((m * av.n + c) * av.inner + k)];
    delta[static_cast<size_t>(m)] += s * v0;
  }
  return "";
}

int64_t out_channels(const Graph& g, const Node& n) {
  return g.shape(n.outputs[0])[1];
}

// Adds delta (per output channel) to node i's bias, creating the bias if there is none. A Gemm's
// beta is multiplied in first so that the added amount is not scaled.
void add_to_bias(Graph& g, size_t i, const std::vector<double>& delta) {
  const int64_t M = static_cast<int64_t>(delta.size());
  if (g.nodes[i].in(2).empty()) {
    std::string nb = g.nodes[i].name + "__bias";
    while (g.initializers.count(nb)) nb += "_";
    g.initializers[nb] = Tensor({M});
    g.nodes[i].inputs.resize(3);
    g.nodes[i].inputs[2] = nb;
    g.nodes[i].attrs.erase("beta");
  }
  Tensor& b = own_input(g, i, 2);
  Node& n = g.nodes[i];
  if (n.op == "Gemm") {
    const float beta = n.attr_f("beta", 1.f);
    for (auto& v : b.f) v *= beta;
    n.attrs.erase("beta");
    if (b.size() == 1 && M > 1) b = Tensor({M}, std::vector<float>(static_cast<size_t>(M), b.f[0]));
  }
  for (size_t k = 0; k < b.f.size(); ++k)
    b.f[k] = static_cast<float>(b.f[k] + delta[k % static_cast<size_t>(M)]);
}

Graph cut(const Graph& g, const ChannelSet& R,
          const std::map<std::string, std::vector<double>>& bias_delta) {
  Graph out = g;
  auto removed = [&](const std::string& v) -> const std::set<int64_t>* {
    auto it = R.find(v);
    return it == R.end() || it->second.empty() ? nullptr : &it->second;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];  // the original: roles and shapes are read before any cut
    const Role r = role_of(g, n);
    const std::set<int64_t>* rin = removed(n.in(0));
    const std::set<int64_t>* rout = n.outputs.empty() ? nullptr : removed(n.outputs[0]);
    auto dit = bias_delta.find(n.name);
    if (dit != bias_delta.end()) add_to_bias(out, i, dit->second);
    if (r.producer || r.consumer) {
      const bool cut_out = r.producer && rout, cut_in = r.consumer && rin;
      if (cut_out || cut_in) {
        Tensor& w = own_input(out, i, 1);
        if (cut_out) w = erase_axis(w, producer_axis(n), *rout);
        if (cut_in) w = erase_axis(w, consumer_axis(n), *rin);
      }
      if (cut_out && !out.nodes[i].in(2).empty()) {
        Tensor& b = own_input(out, i, 2);
        if (b.size() > 1) b = erase_axis(b, static_cast<int>(b.shape.size()) - 1, *rout);
      }
    } else if (r.depthwise && rout) {
      Tensor& w = own_input(out, i, 1);
      w = erase_axis(w, 0, *rout);
      if (!out.nodes[i].in(2).empty()) {
        Tensor& b = own_input(out, i, 2);
        b = erase_axis(b, 0, *rout);
      }
      out.nodes[i].attrs["group"].i = out_channels(g, n) - static_cast<int64_t>(rout->size());
    } else if (n.op == "BatchNormalization" && rout) {
      for (size_t k = 1; k < 5; ++k) {
        Tensor& t = own_input(out, i, k);
        t = erase_axis(t, 0, *rout);
      }
    } else if ((n.op == "Add" || n.op == "Sub" || n.op == "Mul" || n.op == "Div") && rout) {
      const size_t rank = g.shape(n.outputs[0]).size();
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (!g.is_const(n.inputs[k])) continue;
        const int ax = const_channel_axis(g.init(n.inputs[k]), rank);
        if (ax < 0) continue;
        Tensor& t = own_input(out, i, k);
        t = erase_axis(t, ax, *rout);
      }
    } else if (n.op == "Resize" && rout && !n.in(3).empty()) {
      Tensor& sizes = own_input(out, i, 3);  // explicit output sizes name the channel count
      const auto kept = out_channels(g, n) - static_cast<int64_t>(rout->size());
      if (sizes.is_float())
        sizes.f[1] = static_cast<float>(kept);
      else
        sizes.i[1] = kept;
    }
  }
  std::set<std::string> used;
  for (const Node& n : out.nodes)
    for (const auto& v : n.inputs) used.insert(v);
  for (const auto& o : out.outputs) used.insert(o.name);
  for (auto it = out.initializers.begin(); it != out.initializers.end();)
    it = used.count(it->first) ? std::next(it) : out.initializers.erase(it);
  infer_shapes(out);
  return out;
}

}  // namespace

ChannelAnalysis analyze_channels(const Graph& g) {
  Structure st = analyze_structure(g);
  // Mask every prunable slot at once: a masked slot's values depend only on its own biases and
  // constants, so one run answers the fold question for all of them.
  ChannelSet R;
  for (const auto& grp : st.a.groups)
    if (grp.prunable)
      for (const auto& s : grp.slots)
        for (const auto& v : s.values) R[v.value].insert(v.channel);
  const auto xs = masked_consumer_inputs(g, R);
  for (auto& grp : st.a.groups) {
    if (!grp.prunable) continue;
    for (auto& s : grp.slots)
      for (const auto& u : s.uses) {
        const Node& n = g.nodes[node_index(g, u.node)];
        std::vector<double> scratch(static_cast<size_t>(out_channels(g, n)), 0.0);
        const std::string why = fold_channel(g, n, xs.at(u.value), u.channel, scratch);
        if (!why.empty() && s.exact_fold) {
          s.exact_fold = false;
          s.fold_note = why;
        }
      }
  }
  return st.a;
}

Graph channel_masked(const Graph& g, const ChannelPlan& p) {
  return masked_from(g, resolve(g, analyze_structure(g), p));
}

Graph channel_physical(const Graph& g, const ChannelPlan& p) {
  const ChannelSet R = resolve(g, analyze_structure(g), p);
  const auto xs = masked_consumer_inputs(g, R);
  std::map<std::string, std::vector<double>> deltas;
  for (const Node& n : g.nodes) {
    if (!role_of(g, n).consumer || !R.count(n.in(0))) continue;
    std::vector<double> d(static_cast<size_t>(out_channels(g, n)), 0.0);
    for (int64_t c : R.at(n.in(0))) {
      const std::string why = fold_channel(g, n, xs.at(n.in(0)), c, d);
      if (!why.empty())
        fail(g.source, "channel " + std::to_string(c) + " of '" + n.in(0) + "'",
             "cannot be removed exactly: " + why);
    }
    if (std::any_of(d.begin(), d.end(), [](double v) { return v != 0.0; })) deltas[n.name] = d;
  }
  return cut(g, R, deltas);
}

Graph channel_cut(const Graph& g, const ChannelPlan& p) {
  return cut(g, resolve(g, analyze_structure(g), p), {});
}

bool bias_foldable(const Graph& g, const std::string& consumer) {
  const Node& n = g.nodes[node_index(g, consumer)];
  if (!role_of(g, n).consumer) return false;
  if (n.op == "Gemm") return true;
  return n.op == "Conv" && !conv_padded(g, n);
}

void absorb_channel(Graph& g, const std::string& consumer, int64_t from, int64_t into, double alpha,
                    double beta) {
  const size_t i = node_index(g, consumer);
  if (!role_of(g, g.nodes[i]).consumer)
    fail(g.source, "node '" + consumer + "'", "does not read its input through a weight");
  if (beta != 0.0) {
    if (!bias_foldable(g, consumer))
      fail(g.source, where(g.nodes[i]), "an intercept cannot be folded into its bias exactly");
    // β·(channel of ones) is what fold_channel folds for a constant channel of value β.
    Tensor ones(g.shape(g.nodes[i].in(0)));
    ones.shape[0] = 1;
    ones.f.assign(static_cast<size_t>(numel(ones.shape)), 0.f);
    const int64_t per = numel(ones.shape) / ones.shape[1];
    std::fill(ones.f.begin() + from * per, ones.f.begin() + (from + 1) * per, 1.f);
    std::vector<double> d(static_cast<size_t>(out_channels(g, g.nodes[i])), 0.0);
    fold_channel(g, g.nodes[i], ones, from, d);
    for (auto& v : d) v *= beta;
    add_to_bias(g, i, d);
  }
  const Node n = g.nodes[i];
  Tensor& w = own_input(g, i, 1);
  const AxisView av = view(w.shape, consumer_axis(n));
  for (int64_t o = 0; o < av.outer; ++o)
    for (int64_t k = 0; k < av.inner; ++k) {
      float& dst = w.f[static_cast<size_t>((o * av.n + into) * av.inner + k)];
      float& src = w.f[static_cast<size_t>((o * av.n + from) * av.inner + k)];
      dst = static_cast<float>(dst + alpha * src);
      src = 0.f;
    }
}

nlohmann::json layer_channel_notes(const Graph& before, const Graph& after) {
  // Keyed by node name, the shape the pipeline merges per-layer notes in.
  nlohmann::json r = nlohmann::json::object();
  std::map<std::string, const Node*> kept;
  for (const Node& k : after.nodes) kept[k.name] = &k;
  for (const Node& n : before.nodes) {
    if (n.op != "Conv" && n.op != "ConvTranspose" && n.op != "Gemm" && n.op != "MatMul") continue;
    auto it = kept.find(n.name);
    if (it == kept.end() || before.shape(n.outputs[0]).size() < 2) continue;
    const Node& m = *it->second;
    auto ch = [](const Graph& g, const std::string& v) {
      return g.shape(v).size() >= 2 ? g.shape(v)[1] : int64_t{0};
    };
    r[n.name] = {{"in_channels_before", ch(before, n.in(0))},
                 {"in_channels_after", ch(after, m.in(0))},
                 {"out_channels_before", ch(before, n.outputs[0])},
                 {"out_channels_after", ch(after, m.outputs[0])}};
  }
  return r;
}

}  // namespace prunesim
