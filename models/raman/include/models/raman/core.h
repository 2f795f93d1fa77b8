// The clocked SystemC model of the RAMAN-like core (docs/raman.md): host DMA, controller running
// the layer program, zero detector / activation fetcher, PE array with one sparse decoder per
// cluster, post-processing unit, activation memory (IA/OA in place) and weight memory. It
// computes the outputs with its own datapath (hls/ kernels for the arithmetic) from the bytes in
// its activation memory, and counts every action. SystemC elaborates once per process: call
// simulate_cycle() at most once per process (models/isolate.h runs it in a child).
#pragma once

#include <string>
#include <vector>

#include "models/raman/program.h"

namespace prunesim::raman {

struct CycleResult {
  RamanCounts counts;                        // summed over the samples
  std::vector<std::vector<int8_t>> outputs;  // per sample: output codes, NCHW
  std::vector<int64_t> sample_cycles;        // per sample: DMA in + layers + DMA out
};

// inputs: per sample, the int8 input codes in NCHW order (batch 1).
CycleResult simulate_cycle(const RamanProgram& prog, const std::vector<std::vector<int8_t>>& inputs,
                           const std::string& vcd_path = "");

}  // namespace prunesim::raman
