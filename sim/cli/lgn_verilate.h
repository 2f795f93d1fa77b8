// The network's generated SystemVerilog, Verilated at run time (verilator --cc --exe --build in a
// temporary folder, with a generated C++ harness), fed every sample and compared output bit by
// output bit with the bit-parallel evaluator (logic/eval.h). What `prunesim lgn verify` runs.
#pragma once

#include <string>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::cli {

struct LgnVerifyResult {
  bool pass = false;
  size_t samples = 0, outputs = 0, mismatches = 0;  // mismatching (sample, output) bits
  long first_sample = -1, first_output = -1;        // the first divergence, if any
  int expected = 0, actual = 0;
  double build_s = 0, run_s = 0;
  std::string workdir;  // kept when `keep` was given
};

// The RTL of `rtl` against the evaluator on `reference` (the same network, unless a test breaks
// the RTL on purpose). `keep` non-empty: build there and leave the files; else a temporary
// folder removed at the end. InputError when verilator is missing or the build fails (its log's
// path in the message).
LgnVerifyResult verilate_and_compare(const logic::Netlist& rtl, const logic::Netlist& reference,
                                     const logic::BitMatrix& in, size_t samples,
                                     const std::string& keep);

// The whole `lgn verify` command (also `verify --lgn`): reads the network and the samples, runs
// the check, prints the result (text or JSON) and sets the exit code (0 pass, 1 divergence).
void run_lgn_verify(const std::string& net, const std::string& data, const std::string& keep,
                    bool broken, bool json);

}  // namespace prunesim::cli
