// Two-input cut rewriting: a gate whose function, seen through its cone, depends on just two
// signals u, v further back (a 2-feasible cut) is re-expressed as one gate f(u, v) when that frees
// gates of its cone used by nobody else. A SAT sweep only merges signals that already exist; this
// removes the gates whose combination is a simpler two-input function of earlier signals (what a
// 2-LUT mapper such as ABC's `if -K 2` exploits). Exact: the function of every gate is kept.
#pragma once

#include "logic/netlist.h"

namespace prunesim::logic {

// A simplified network (simplify.h) in, the rewritten and re-simplified network out; `rewritten`
// receives the number of gates re-expressed.
Netlist cut_rewrite(const Netlist& n, size_t* rewritten = nullptr);

}  // namespace prunesim::logic
