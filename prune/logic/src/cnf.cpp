#include "logic/cnf.h"

#include <cadical.hpp>

namespace prunesim::logic {

SatContext::SatContext() : solver_(std::make_unique<CaDiCaL::Solver>()) {}
SatContext::~SatContext() = default;

int SatContext::true_lit() {
  if (!true_) {
    true_ = fresh();
    clause({true_});
  }
  return true_;
}

void SatContext::clause(std::initializer_list<int> lits) {
  for (int l : lits) solver_->add(l);
  solver_->add(0);
}

void SatContext::gate(int o, int a, int b, TruthTable tt) {
  // Row (va, vb): (a != va) or (b != vb) or (o == f(va, vb)).
  for (int va = 0; va < 2; ++va)
    for (int vb = 0; vb < 2; ++vb) {
      const bool f = apply(tt, va, vb);
      clause({va ? -a : a, vb ? -b : b, f ? o : -o});
    }
}

CnfEncoder::CnfEncoder(SatContext& ctx, const Netlist& n, std::vector<int> inputs,
                       const std::vector<Lit>* repr)
    : ctx_(ctx), n_(n), repr_(repr), vars_(n.signals(), 0) {
  for (uint32_t i = 0; i < n.inputs; ++i) vars_[i] = inputs.empty() ? ctx.fresh() : inputs[i];
}

int CnfEncoder::lit(Lit l) {
  if (l.is_const()) return l.neg ? ctx_.true_lit() : -ctx_.true_lit();
  const int v = var(static_cast<uint32_t>(l.sig));
  return l.neg ? -v : v;
}

// A gate input as a literal, through the representative map when there is one.
int CnfEncoder::input_lit(uint32_t sig) {
  if (repr_ && sig < repr_->size() && !((*repr_)[sig] == lit_of(sig))) return lit((*repr_)[sig]);
  return var(sig);
}

int CnfEncoder::var(uint32_t sig) {
  if (vars_[sig]) return vars_[sig];
  // Iterative post-order over the cone (networks can be deeper than the call stack allows).
  std::vector<uint32_t> stack{sig};
  while (!stack.empty()) {
    const uint32_t s = stack.back();
    if (vars_[s]) {
      stack.pop_back();
      continue;
    }
    const Gate& g = n_.gates[s - n_.inputs];
    bool ready = true;
    for (uint32_t in : {g.a, g.b}) {
      uint32_t t = in;
      if (repr_ && in < repr_->size() && !((*repr_)[in] == lit_of(in))) {
        if ((*repr_)[in].is_const()) continue;
        t = static_cast<uint32_t>((*repr_)[in].sig);
      }
      if (!vars_[t]) ready = false, stack.push_back(t);
    }
    if (!ready) continue;
    stack.pop_back();
    const int o = ctx_.fresh();
    ctx_.gate(o, input_lit(g.a), input_lit(g.b), g.tt);
    vars_[s] = o;
    ++encoded_;
  }
  return vars_[sig];
}

}  // namespace prunesim::logic
