#include "logic/sat_sweep.h"

#include <cadical.hpp>
#include <chrono>
#include <random>
#include <unordered_map>

#include "logic/cnf.h"
#include "logic/cut_rewrite.h"
#include "logic/simplify.h"

namespace prunesim::logic {
namespace {

// Simulation values of every signal over the patterns: the random and data words first (fixed),
// then counter-example words filled one pattern at a time. Unfilled bits of the last word hold
// the all-zero input, a real pattern too, so two signals with different rows really differ.
struct Patterns {
  const Netlist& n;
  BitMatrix rows;
  size_t base_words = 0;
  size_t fill = 64;  // patterns used in the last word (64: it is full)

  Patterns(const Netlist& net, const BitMatrix& inputs) : n(net) {
    rows = simulate_all(n, inputs);
    base_words = rows.words;
  }
  bool phase(uint32_t s) const { return rows.row(s)[0] & 1u; }
  uint64_t key(uint32_t s) const {  // hash of the normalised base words
    const uint64_t m = phase(s) ? ~0ull : 0ull;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t w = 0; w < base_words; ++w) h = (h ^ (rows.row(s)[w] ^ m)) * 0x100000001b3ull;
    return h;
  }
  bool same_class(uint32_t s, uint32_t r) const {
    const uint64_t m = (phase(s) != phase(r)) ? ~0ull : 0ull;
    for (size_t w = 0; w < rows.words; ++w)
      if (rows.row(s)[w] != (rows.row(r)[w] ^ m)) return false;
    return true;
  }
  bool constant(uint32_t s) const {
    const uint64_t m = phase(s) ? ~0ull : 0ull;
    for (size_t w = 0; w < rows.words; ++w)
      if ((rows.row(s)[w] ^ m) != 0) return false;
    return true;
  }
  void add(const std::vector<uint8_t>& in);
};

void Patterns::add(const std::vector<uint8_t>& in) {
  if (fill == 64) {  // open a new word
    BitMatrix g;
    g.rows = rows.rows;
    g.words = rows.words + 1;
    g.data.assign(static_cast<size_t>(g.rows) * g.words, 0);
    for (uint32_t s = 0; s < rows.rows; ++s)
      std::copy(rows.row(s), rows.row(s) + rows.words, g.row(s));
    rows = std::move(g);
    fill = 0;
  }
  const size_t w = rows.words - 1;
  for (uint32_t i = 0; i < n.inputs; ++i)
    if (in[i]) rows.row(i)[w] |= 1ull << fill;
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const Gate& gt = n.gates[g];
    rows.row(n.inputs + static_cast<uint32_t>(g))[w] =
        gate_word(gt.tt, rows.row(gt.a)[w], rows.row(gt.b)[w]);
  }
  ++fill;
}

BitMatrix sweep_inputs(const Netlist& n, const SweepOptions& opt) {
  BitMatrix r = random_inputs(n, opt.random_words, opt.seed);
  if (!opt.data || opt.data->words == 0) return r;
  BitMatrix m;
  m.rows = n.inputs;
  m.words = r.words + opt.data->words;
  m.data.resize(static_cast<size_t>(m.rows) * m.words);
  for (uint32_t i = 0; i < n.inputs; ++i) {
    std::copy(opt.data->row(i), opt.data->row(i) + opt.data->words, m.row(i));
    std::copy(r.row(i), r.row(i) + r.words, m.row(i) + opt.data->words);
  }
  return m;
}

// One sweep over the gates in topological order; returns the representative of every signal.
std::vector<Lit> sweep_round(const Netlist& n, const SweepOptions& opt, SweepStats* st) {
  Patterns p(n, sweep_inputs(n, opt));
  std::vector<Lit> repr = identity_subst(n);
  SatContext ctx;
  CnfEncoder enc(ctx, n, {}, &repr);
  std::unordered_map<uint64_t, std::vector<uint32_t>> classes;  // roots with distinct rows
  for (uint32_t s = 0; s < n.signals(); ++s) {
    auto& bucket = classes[p.key(s)];
    Lit target;
    bool candidate = false;
    if (s >= n.inputs && p.constant(s)) {
      target = lit_const(p.phase(s)), candidate = true;
    } else if (s >= n.inputs) {
      for (uint32_t r : bucket)
        if (p.same_class(s, r)) {
          target = lit_of(r, p.phase(s) != p.phase(r)), candidate = true;
          break;
        }
    }
    if (!candidate) {
      bucket.push_back(s);
      continue;
    }
    const int x = ctx.fresh();
    ctx.xor_def(x, enc.var(s), enc.lit(target));
    ctx.solver().assume(x);
    if (opt.conflict_limit >= 0) ctx.solver().limit("conflicts", opt.conflict_limit);
    ++st->sat_calls;
    const int res = ctx.solver().solve();
    if (res == 20) {  // no input tells them apart
      ctx.clause({-x});
      repr[s] = target;
      ++st->proven;
      if (target.is_const()) ++st->proven_const;
    } else if (res == 10) {
      std::vector<uint8_t> cex(n.inputs);
      for (uint32_t i = 0; i < n.inputs; ++i) cex[i] = ctx.solver().val(enc.input_var(i)) > 0;
      p.add(cex);
      ++st->refuted;
      bucket.push_back(s);  // its row now differs from every root's in the bucket
    } else {
      ++st->unknown;  // kept, and not a class of its own (its row equals the root's)
    }
  }
  st->patterns = 64 * (p.rows.words - 1) + p.fill;
  return repr;
}

}  // namespace

BitMatrix random_inputs(const Netlist& n, size_t words, uint64_t seed) {
  std::mt19937_64 rng(seed);
  BitMatrix m;
  m.rows = n.inputs;
  m.words = words;
  m.data.resize(static_cast<size_t>(m.rows) * m.words);
  for (auto& w : m.data) w = rng();
  return m;
}

Netlist sat_sweep(const Netlist& n, const SweepOptions& opt, SweepStats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  SweepStats st;
  st.gates_before = n.gates.size();
  Netlist cur = simplify(n);
  // Sweep, merge, rewrite cuts; again while a round still removes gates (a rewrite can make new
  // signals equal, a merge new cuts small).
  for (int round = 0; round < std::max(1, opt.max_rounds); ++round) {
    ++st.rounds;
    const size_t gates = cur.gates.size();
    cur = rebuild(cur, sweep_round(cur, opt, &st));
    if (opt.rewrite) {
      size_t rw = 0;
      cur = cut_rewrite(cur, &rw);
      st.rewritten += rw;
    }
    if (cur.gates.size() == gates) break;
  }
  st.gates_after = cur.gates.size();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = st;
  return cur;
}

}  // namespace prunesim::logic
