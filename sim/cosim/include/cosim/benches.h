// Lockstep benches of the rtl/raman/ blocks: the shared input signals, one output set per
// implementation, an instance of Rtl and of Twin bound by port name. Rtl is normally the
// Verilated --sc model (Vraman_pe, ...), Twin the SystemC twin (models/raman/rtl_twins.h); both
// parameters accept either, which is how a subset of blocks runs in RTL and the rest in SystemC.
// Every bench is expanded from its block's port list (models/raman/rtl_ports.h): an input signal
// per input named like the port and driven by the stimulus field of that name, an output pair
// per output. Combinational outputs (the drain reads rd_acc, the requantizer's outputs) are
// watched as Lockstep::kCombinational: compared just before the rising edge of their cycle.
#pragma once

#include "cosim/lockstep.h"
#include "models/raman/rtl_ports.h"
#include "models/raman/rtl_twins.h"

// Per port of a list, by direction (rtl_ports.h): X(dir, name, width) -> PRUNESIM_BENCH_<step>_dir.
#define PRUNESIM_BENCH_STEP(step, dir, name, width) PRUNESIM_BENCH_##step##_##dir(name, width)
// The shared input signals (the clock is the Bench's).
#define PRUNESIM_BENCH_IN(dir, name, width) PRUNESIM_BENCH_STEP(IN, dir, name, width)
#define PRUNESIM_BENCH_IN_clock(name, width)
#define PRUNESIM_BENCH_IN_reset(name, width) sc_core::sc_signal<raman::port_t<width>> name{#name};
#define PRUNESIM_BENCH_IN_in(name, width) sc_core::sc_signal<raman::port_t<width>> name{#name};
#define PRUNESIM_BENCH_IN_out(name, width)
#define PRUNESIM_BENCH_IN_comb(name, width)
// One implementation's output signals.
#define PRUNESIM_BENCH_OUT(dir, name, width) PRUNESIM_BENCH_STEP(OUT, dir, name, width)
#define PRUNESIM_BENCH_OUT_clock(name, width)
#define PRUNESIM_BENCH_OUT_reset(name, width)
#define PRUNESIM_BENCH_OUT_in(name, width)
#define PRUNESIM_BENCH_OUT_out(name, width) sc_core::sc_signal<raman::port_t<width>> name;
#define PRUNESIM_BENCH_OUT_comb(name, width) sc_core::sc_signal<raman::port_t<width>> name;
// The player drives every input from its stimulus field.
#define PRUNESIM_BENCH_DRIVE(dir, name, width) PRUNESIM_BENCH_STEP(DRIVE, dir, name, width)
#define PRUNESIM_BENCH_DRIVE_clock(name, width)
#define PRUNESIM_BENCH_DRIVE_reset(name, width) player.drive(#name, name);
#define PRUNESIM_BENCH_DRIVE_in(name, width) player.drive(#name, name);
#define PRUNESIM_BENCH_DRIVE_out(name, width)
#define PRUNESIM_BENCH_DRIVE_comb(name, width)
// The checker compares every output pair.
#define PRUNESIM_BENCH_WATCH(dir, name, width) PRUNESIM_BENCH_STEP(WATCH, dir, name, width)
#define PRUNESIM_BENCH_WATCH_clock(name, width)
#define PRUNESIM_BENCH_WATCH_reset(name, width)
#define PRUNESIM_BENCH_WATCH_in(name, width)
#define PRUNESIM_BENCH_WATCH_out(name, width) check.watch(#name, o_rtl.name, o_twin.name);
#define PRUNESIM_BENCH_WATCH_comb(name, width) \
  check.watch(#name, o_rtl.name, o_twin.name, Lockstep::kCombinational);
// An implementation bound by port name: the inputs to the shared signals, the outputs to its own.
#define PRUNESIM_BENCH_BIND(dir, name, width) PRUNESIM_BENCH_STEP(BIND, dir, name, width)
#define PRUNESIM_BENCH_BIND_clock(name, width) m.name(clk);
#define PRUNESIM_BENCH_BIND_reset(name, width) m.name(name);
#define PRUNESIM_BENCH_BIND_in(name, width) m.name(name);
#define PRUNESIM_BENCH_BIND_out(name, width) m.name(o.name);
#define PRUNESIM_BENCH_BIND_comb(name, width) m.name(o.name);

// The bench NAME of the block BLOCK (its stimulus and divergence name) with port list PORTS.
#define PRUNESIM_BENCH(NAME, TWIN, BLOCK, PORTS)                              \
  template <class Rtl, class Twin = raman::TWIN>                              \
  struct NAME : Bench {                                                       \
    PORTS(PRUNESIM_BENCH_IN)                                                  \
    struct Out {                                                              \
      PORTS(PRUNESIM_BENCH_OUT)                                               \
    } o_rtl, o_twin;                                                          \
    Rtl rtl{"rtl"};                                                           \
    Twin twin{"twin"};                                                        \
                                                                              \
    NAME(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, BLOCK) { \
      bind(rtl, o_rtl);                                                       \
      bind(twin, o_twin);                                                     \
      PORTS(PRUNESIM_BENCH_DRIVE)                                             \
      PORTS(PRUNESIM_BENCH_WATCH)                                             \
    }                                                                         \
    template <class M>                                                        \
    void bind(M& m, Out& o) {                                                 \
      PORTS(PRUNESIM_BENCH_BIND)                                              \
    }                                                                         \
  };

namespace prunesim::cosim {

PRUNESIM_BENCH(PeBench, RamanPeTwin, "raman_pe", PRUNESIM_PE_PORTS)
// No clock or reset on the requantizer: the bench's clock only paces the stimulus rows.
PRUNESIM_BENCH(RequantBench, RamanRequantTwin, "raman_requant", PRUNESIM_REQUANT_PORTS)
PRUNESIM_BENCH(DecoderBench, RamanDecoderTwin, "raman_decoder", PRUNESIM_DECODER_PORTS)
PRUNESIM_BENCH(PeArrayBench, RamanPeArrayTwin, "raman_pe_array", PRUNESIM_PE_ARRAY_PORTS)
PRUNESIM_BENCH(ActMemBench, RamanActMemTwin, "raman_act_mem", PRUNESIM_ACT_MEM_PORTS)

}  // namespace prunesim::cosim
