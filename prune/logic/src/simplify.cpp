#include "logic/simplify.h"

#include <stdexcept>
#include <string>
#include <unordered_map>

namespace prunesim::logic {

TruthTable tt_negate_a(TruthTable tt) {
  return static_cast<TruthTable>(((tt >> 2) & 3u) | ((tt & 3u) << 2));
}
TruthTable tt_negate_b(TruthTable tt) {
  return static_cast<TruthTable>(((tt >> 1) & 5u) | ((tt & 5u) << 1));
}
TruthTable tt_swap(TruthTable tt) {
  return static_cast<TruthTable>((tt & 9u) | ((tt & 2u) << 1) | ((tt & 4u) >> 1));
}
bool tt_depends_a(TruthTable tt) {
  return ((tt >> 2) & 3u) != (tt & 3u);
}
bool tt_depends_b(TruthTable tt) {
  return ((tt >> 1) & 5u) != (tt & 5u);
}

namespace {

// Builds the new netlist gate by gate. Every gate it emits is normalised — inputs not inverted
// and in increasing order, f(0,0) = 0 (a gate with f(0,0) = 1 is stored complemented and its
// users read the complement) — so that identical functions of the same inputs hash to one gate
// and a second pass finds nothing left to do.
struct Builder {
  Netlist out;
  std::unordered_map<uint64_t, uint32_t> table;  // (a, b, tt) → new signal
  SimplifyStats st;
  int64_t const_sig = -1;  // the one constant gate outputs may need

  // Value of a one-input function f(x) with f(0) = f0, f(1) = f1.
  Lit unary(Lit x, bool f0, bool f1) {
    if (f0 == f1) {
      ++st.constants;
      return lit_const(f0);
    }
    ++st.unary;
    return Lit{x.sig, f0 ? !x.neg : x.neg};
  }

  Lit gate(Lit a, Lit b, TruthTable tt, uint32_t layer) {
    if (a.neg && !a.is_const()) tt = tt_negate_a(tt), a.neg = false;
    if (b.neg && !b.is_const()) tt = tt_negate_b(tt), b.neg = false;
    if (a.is_const() && b.is_const()) {
      ++st.constants;
      return lit_const(apply(tt, a.neg, b.neg));
    }
    if (a.is_const()) return unary(b, apply(tt, a.neg, false), apply(tt, a.neg, true));
    if (b.is_const()) return unary(a, apply(tt, false, b.neg), apply(tt, true, b.neg));
    if (a.sig == b.sig) return unary(a, apply(tt, false, false), apply(tt, true, true));
    if (!tt_depends_a(tt)) return unary(b, apply(tt, false, false), apply(tt, false, true));
    if (!tt_depends_b(tt)) return unary(a, apply(tt, false, false), apply(tt, true, false));
    if (a.sig > b.sig) std::swap(a, b), tt = tt_swap(tt);
    const bool neg = tt & 1u;
    if (neg) tt ^= 15u;
    const uint64_t key =
        (static_cast<uint64_t>(a.sig) << 36) | (static_cast<uint64_t>(b.sig) << 4) | tt;
    auto it = table.find(key);
    if (it != table.end()) {
      ++st.hashed;
      return lit_of(it->second, neg);
    }
    const uint32_t s = out.signals();
    out.gates.push_back(
        Gate{static_cast<uint32_t>(a.sig), static_cast<uint32_t>(b.sig), tt, layer});
    table.emplace(key, s);
    return lit_of(s, neg);
  }

  // An output that is constant reads one FALSE gate (the netlist has no constant signal).
  uint32_t constant_signal() {
    if (const_sig < 0) {
      if (out.inputs == 0) throw std::logic_error("rebuild: a constant output needs an input");
      const_sig = out.signals();
      out.gates.push_back(Gate{0, 0, 0, 0});
    }
    return static_cast<uint32_t>(const_sig);
  }
};

Lit resolve(const std::vector<Lit>& map, Lit l) {
  if (l.is_const()) return l;
  Lit m = map[static_cast<size_t>(l.sig)];
  m.neg = m.neg != l.neg;
  return m;
}

// Drops the gates outside every output's cone and renumbers the rest in order.
Netlist remove_dead(Netlist n, size_t* dead) {
  std::vector<uint8_t> live(n.signals(), 0);
  for (uint32_t o : n.outputs) live[o] = 1;
  for (size_t i = n.gates.size(); i-- > 0;) {
    if (!live[n.inputs + i]) continue;
    live[n.gates[i].a] = live[n.gates[i].b] = 1;
  }
  std::vector<uint32_t> renum(n.signals());
  for (uint32_t i = 0; i < n.inputs; ++i) renum[i] = i;
  std::vector<Gate> kept;
  for (size_t i = 0; i < n.gates.size(); ++i) {
    if (!live[n.inputs + i]) continue;
    Gate g = n.gates[i];
    g.a = renum[g.a];
    g.b = renum[g.b];
    renum[n.inputs + i] = n.inputs + static_cast<uint32_t>(kept.size());
    kept.push_back(g);
  }
  if (dead) *dead = n.gates.size() - kept.size();
  n.gates = std::move(kept);
  for (auto& o : n.outputs) o = renum[o];
  return n;
}

}  // namespace

std::vector<Lit> identity_subst(const Netlist& n) {
  std::vector<Lit> s(n.signals());
  for (uint32_t i = 0; i < n.signals(); ++i) s[i] = lit_of(i);
  return s;
}

Netlist rebuild(const Netlist& n, const std::vector<Lit>& subst, SimplifyStats* stats) {
  if (!subst.empty() && subst.size() != n.signals())
    throw std::logic_error("rebuild: substitution size differs from the signal count");
  Builder b;
  b.out = n;
  b.out.gates.clear();
  b.out.outputs.clear();
  b.out.out_negate.clear();
  std::vector<Lit> map(n.signals());
  for (uint32_t s = 0; s < n.signals(); ++s) {
    const bool kept = subst.empty() || subst[s] == lit_of(s);
    if (!kept) {
      if (subst[s].sig >= static_cast<int64_t>(s))
        throw std::logic_error("rebuild: signal " + std::to_string(s) + " replaced by a later one");
      map[s] = resolve(map, subst[s]);
    } else if (s < n.inputs) {
      map[s] = lit_of(s);
    } else {
      const Gate& g = n.gates[s - n.inputs];
      map[s] = b.gate(map[g.a], map[g.b], g.tt, g.layer);
    }
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Lit l = resolve(map, lit_of(n.outputs[i], n.out_negate[i] != 0));
    b.out.outputs.push_back(l.is_const() ? b.constant_signal() : static_cast<uint32_t>(l.sig));
    b.out.out_negate.push_back(l.neg ? 1 : 0);
  }
  Netlist r = remove_dead(std::move(b.out), &b.st.dead);
  b.st.gates_before = n.gates.size();
  b.st.gates_after = r.gates.size();
  if (stats) *stats = b.st;
  return r;
}

Netlist simplify(const Netlist& n, SimplifyStats* stats) {
  return rebuild(n, {}, stats);
}

size_t live_gates(const Netlist& n) {
  std::vector<uint8_t> live(n.signals(), 0);
  for (uint32_t o : n.outputs) live[o] = 1;
  size_t count = 0;
  for (size_t i = n.gates.size(); i-- > 0;) {
    if (!live[n.inputs + i]) continue;
    ++count;
    live[n.gates[i].a] = live[n.gates[i].b] = 1;
  }
  return count;
}

}  // namespace prunesim::logic
