#include <cadical.hpp>
#include <stdexcept>

#include "logic/cnf.h"
#include "logic/sat_sweep.h"

namespace prunesim::logic {

EquivResult check_equivalent(const Netlist& a, const Netlist& b, int64_t conflict_limit) {
  if (a.inputs != b.inputs || a.outputs.size() != b.outputs.size())
    throw std::logic_error("check_equivalent: the networks' interfaces differ");
  SatContext ctx;
  CnfEncoder ea(ctx, a);
  std::vector<int> in(a.inputs);
  for (uint32_t i = 0; i < a.inputs; ++i) in[i] = ea.input_var(i);
  CnfEncoder eb(ctx, b, in);
  // Miter: d_i <-> (out_a_i xor out_b_i) for every output, and the clause (d_0 or d_1 or ...).
  std::vector<int> diff(a.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    diff[i] = ctx.fresh();
    ctx.xor_def(diff[i], ea.lit(lit_of(a.outputs[i], a.out_negate[i] != 0)),
                eb.lit(lit_of(b.outputs[i], b.out_negate[i] != 0)));
  }
  for (int d : diff) ctx.solver().add(d);
  ctx.solver().add(0);
  if (conflict_limit >= 0) ctx.solver().limit("conflicts", static_cast<int>(conflict_limit));
  EquivResult r;
  const int res = ctx.solver().solve();
  if (res == 20) {
    r.verdict = EquivResult::Equivalent;
  } else if (res == 10) {
    r.verdict = EquivResult::Different;
    r.counterexample.resize(a.inputs);
    for (uint32_t i = 0; i < a.inputs; ++i) r.counterexample[i] = ctx.solver().val(in[i]) > 0;
    for (size_t i = 0; i < diff.size(); ++i)
      if (ctx.solver().val(diff[i]) > 0) {
        r.output = i;
        break;
      }
  }
  return r;
}

}  // namespace prunesim::logic
