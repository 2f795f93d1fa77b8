#include "logic/cut_rewrite.h"

#include <algorithm>
#include <array>

#include "logic/eval.h"
#include "logic/simplify.h"

namespace prunesim::logic {
namespace {

// A cut of at most two leaves (l0 <= l1; one leaf: l0 == l1) and the node's function over them
// (bit 2x + y for l0 = x, l1 = y; a one-leaf cut uses rows 00 and 11 only).
struct Cut {
  uint32_t l0, l1;
  TruthTable tt;
};
constexpr size_t kMaxCuts = 12;

// f (a function over cut c) as a function over the leaves (l0, l1) of a cut that contains c's.
TruthTable expand(const Cut& c, uint32_t l0, uint32_t l1) {
  TruthTable r = 0;
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 2; ++y) {
      const bool v0 = c.l0 == l0 ? x : y, v1 = c.l1 == l0 ? x : y;
      if (apply(c.tt, v0, v1)) r |= 1u << (2 * x + y);
    }
  (void)l1;
  return r;
}

// Cuts of gate g from its inputs' cuts: every union of at most two leaves, plus g itself.
std::vector<Cut> gate_cuts(uint32_t g, const Gate& gt, const std::vector<Cut>& ca,
                           const std::vector<Cut>& cb) {
  std::vector<Cut> out{Cut{g, g, 0b1100}};
  for (const Cut& x : ca)
    for (const Cut& y : cb) {
      std::array<uint32_t, 4> l{x.l0, x.l1, y.l0, y.l1};
      std::sort(l.begin(), l.end());
      const auto end = std::unique(l.begin(), l.end());
      const long k = end - l.begin();
      if (k > 2) continue;
      const uint32_t l0 = l[0], l1 = k == 2 ? l[1] : l[0];
      const TruthTable fa = expand(x, l0, l1), fb = expand(y, l0, l1);
      const TruthTable f = static_cast<TruthTable>(gate_word(gt.tt, fa, fb) & 15u);
      const bool dup = std::any_of(out.begin(), out.end(),
                                   [&](const Cut& c) { return c.l0 == l0 && c.l1 == l1; });
      if (!dup && out.size() < kMaxCuts) out.push_back(Cut{l0, l1, f});
    }
  return out;
}

struct Refs {
  const Netlist& n;
  std::vector<uint32_t> count;
  // Gates freed when `s` loses a reader, not counting the leaves; undone by ref() unless kept.
  size_t deref(uint32_t s, uint32_t l0, uint32_t l1) {
    if (--count[s] || s < n.inputs || s == l0 || s == l1) return 0;
    const Gate& g = n.gates[s - n.inputs];
    return 1 + deref(g.a, l0, l1) + deref(g.b, l0, l1);
  }
  void ref(uint32_t s, uint32_t l0, uint32_t l1) {
    if (count[s]++ || s < n.inputs || s == l0 || s == l1) return;
    const Gate& g = n.gates[s - n.inputs];
    ref(g.a, l0, l1), ref(g.b, l0, l1);
  }
};

}  // namespace

Netlist cut_rewrite(const Netlist& in, size_t* rewritten) {
  Netlist n = in;
  Refs refs{n, std::vector<uint32_t>(n.signals(), 0)};
  for (const Gate& g : n.gates) ++refs.count[g.a], ++refs.count[g.b];
  for (uint32_t o : n.outputs) ++refs.count[o];
  std::vector<std::vector<Cut>> cuts(n.signals());
  for (uint32_t i = 0; i < n.inputs; ++i) cuts[i] = {Cut{i, i, 0b1100}};
  size_t done = 0;
  for (uint32_t s = n.inputs; s < n.signals(); ++s) {
    Gate& g = n.gates[s - n.inputs];
    if (refs.count[s]) {  // live: look for the cut that frees most of its cone
      const std::vector<Cut> cand = gate_cuts(s, g, cuts[g.a], cuts[g.b]);
      size_t best_gain = 0;
      const Cut* best = nullptr;
      for (const Cut& c : cand) {
        if (c.l0 == s || (std::minmax(g.a, g.b) == std::minmax(c.l0, c.l1))) continue;
        const size_t freed = refs.deref(g.a, c.l0, c.l1) + refs.deref(g.b, c.l0, c.l1);
        refs.ref(g.a, c.l0, c.l1), refs.ref(g.b, c.l0, c.l1);
        if (freed > best_gain) best_gain = freed, best = &c;
      }
      if (best) {
        const Cut c = *best;
        refs.deref(g.a, c.l0, c.l1), refs.deref(g.b, c.l0, c.l1);
        g = Gate{c.l0, c.l1, c.tt, g.layer};
        ++refs.count[c.l0], ++refs.count[c.l1];
        ++done;
      }
    }
    cuts[s] = gate_cuts(s, g, cuts[g.a], cuts[g.b]);
  }
  if (rewritten) *rewritten = done;
  return simplify(n);
}

}  // namespace prunesim::logic
