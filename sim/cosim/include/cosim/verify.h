// `prunesim verify`: runs a weight table on the RAMAN-like core's RTL (Verilator) and checks it
// three ways: outputs bit-exact with the integer reference, cycle count equal to the SystemC
// model's, and every block's outputs equal to the all-twin SystemC netlist's every cycle (the
// lockstep names the first divergence). The RTL is the whole Verilated raman_core, or (mixed
// mode) the structural netlist with the chosen blocks Verilated and the rest SystemC twins.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cosim/lockstep.h"
#include "models/raman/rtl_image.h"
#include "sim/arch.h"

namespace prunesim::cosim {

// Blocks that can run in RTL in mixed mode (--rtl), in the order the lockstep compares them.
const std::vector<std::string>& rtl_block_names();

struct CoreRunOptions {
  std::vector<std::string> rtl;  // mixed mode: these blocks in RTL; empty: the whole raman_core
  bool lockstep = true;          // run the all-twin netlist beside the DUT and compare
  std::string trace;             // .fst (Verilator's, of the RTL) or .vcd (the block ports)
  std::string variant;           // whole core: "" | "broken_round" | "broken_order" (tests)
  int64_t max_cycles = 0;        // per sample before giving up as hung; 0: 2 x expected + 1000
  // Probes ("ctrl.dec_load", ...) whose values the reference netlist (the DUT without lockstep)
  // had in each busy cycle of sample 0: CoreRunResult::recorded (tests predict divergences).
  std::vector<std::string> record;
};

struct CoreRunResult {
  std::vector<std::vector<int8_t>> outputs;  // NCHW codes per sample
  std::vector<int64_t> cycles;               // busy cycles per sample
  Divergence div;                            // first lockstep divergence (found: false if none)
  int64_t div_sample = -1;  // sample the divergence happened in (-1: reset, program load)
  std::string div_where;    // "layer 'x', 12 cycles into it" (or the phase)
  bool timed_out = false;   // sample div_sample ran past hang_limit busy cycles
  int64_t hang_limit = 0;
  std::string error;       // a sticky error flag of the design (act memory port conflict)
  double seconds = 0;      // wall time of the inferences (program load excluded)
  int64_t cycles_run = 0;  // clock cycles simulated in that time
  std::string dut;         // "raman_core" or "mixed: pe_array, decoder"
  std::vector<std::vector<std::vector<uint32_t>>> recorded;  // [probe][busy cycle] -> words
};

// Runs in the calling process (SystemC elaborates once per process: callers isolate it).
// expected_cycles[s] (the SystemC model's) sizes the hang guard and names the layer of a
// divergence from layer_cycles (per layer, one inference).
CoreRunResult run_core(const raman::RtlImage& img, const std::vector<std::vector<int8_t>>& codes,
                       const CoreRunOptions& opt, const std::vector<int64_t>& expected_cycles,
                       const std::vector<std::pair<std::string, int64_t>>& layer_cycles,
                       int64_t dma_in_cycles);

struct VerifyOptions {
  CoreRunOptions run;
};

struct VerifyReport {
  bool pass = false;
  std::string dut;
  int64_t samples = 0;
  std::vector<int64_t> model_cycles, rtl_cycles;
  bool bit_exact = false;
  int64_t mismatches = 0;
  std::string first_failure;  // one line: the divergence, the output element or the cycles
  Divergence div;
  double rtl_seconds = 0, model_seconds = 0;
  int64_t rtl_cycles_run = 0;
  std::string usage;  // RTL table usage
};

// in: tables, model, input as for `simulate` (params resolved). Input errors (configuration the
// RTL does not have, a trace name without .fst/.vcd, unknown --rtl block) are InputError.
VerifyReport verify_raman(const SimInput& in, const VerifyOptions& opt);

}  // namespace prunesim::cosim
