// What the RAMAN-like model reports: its configuration and, per layer, the cycles and the
// action counts that sim/power turns into energy (DESIGN.md habit 5: the model only counts).
// Cycle mode and analytical mode fill the same structures and must agree exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/params.h"

namespace prunesim::raman {

struct RamanConfig {
  int64_t pe_count = 16;     // PEs in the array
  int64_t cluster_size = 4;  // PEs sharing one sparse decoder
  int64_t acc_bits = 32;     // accumulator width (bits)
  int64_t acc_per_pe = 8;    // accumulator registers per PE (output rows a PE holds at once)
  int64_t ppu_lanes = 1;     // outputs the post-processing unit finishes per cycle
  int64_t act_mem_bytes = 16384;
  int64_t weight_mem_bytes = 16384;
  int64_t dma_bytes_per_cycle = 4;
  int64_t layer_setup_cycles = 4;  // controller: fetch and decode one layer descriptor
  double clock_hz = 2e6;
  double voltage_v = 1.2;
  double node_nm = 65;

  static std::vector<ParamSpec> specs();
  static RamanConfig from(const ParamValues& v);  // v resolved against specs()
};

// Per-layer counts (summed over RamanCounts::inferences). Every PE's cycles split exactly into busy
// + stalled + gated = cycles.
struct LayerCounts {
  std::string name;      // executed node
  std::string kind;      // "conv", "conv_transpose", "gemm", "depthwise", "avgpool", "maxpool",
                         // "global_avgpool", "clamp", "move"
  std::string mode;      // "broadcast" (Gustavson row-wise), "lane" (channel-parallel), "none"
  std::string encoding;  // weight encoding ("" for layers without weights)
  int64_t cycles = 0;
  int64_t macs_dense = 0;           // MACs of the dense layer (every weight x every input tap)
  int64_t macs_executed = 0;        // MACs the PEs performed
  int64_t macs_skipped_zero = 0;    // avoided because the input activation was zero (or padding)
  int64_t macs_skipped_pruned = 0;  // avoided because the weight was pruned
  int64_t acc_updates = 0;          // accumulator writes (bias loads + MACs)
  int64_t broadcasts = 0;           // non-zero activations broadcast to the PE array
  int64_t act_reads = 0;            // activation memory read accesses
  int64_t act_read_bytes = 0;
  int64_t act_writes = 0;  // activation memory write accesses
  int64_t act_write_bytes = 0;
  int64_t weight_reads = 0;      // weight memory read accesses
  int64_t weight_read_bits = 0;  // value + metadata bits read
  int64_t decoder_steps = 0;     // sparse decoder: positions produced (one per kept weight fetched)
  int64_t lfsr_steps = 0;        // LFSR advances (balanced/lfsr)
  int64_t ppu_ops = 0;           // requantize/clamp/pool-finish operations
  int64_t zero_checks = 0;       // activations examined by the zero detector
  int64_t pe_busy = 0;           // summed over PEs
  int64_t pe_stalled = 0;        // ungated but idle (waiting for the fetcher)
  int64_t pe_gated = 0;          // clock-gated
  std::vector<int64_t> busy_per_pe, stalled_per_pe, gated_per_pe;
  int64_t act_in_bytes = 0, act_out_bytes = 0;  // tensor sizes
  int64_t act_in_base = 0, act_out_base = 0;    // allocation in the activation memory
  int64_t act_footprint_bytes = 0;              // span of IA and OA together (with overlap)
  int64_t weight_bytes = 0;                     // bytes this layer occupies in weight memory
};

struct RamanCounts {
  RamanConfig config;
  std::vector<LayerCounts> layers;
  int64_t dma_in_cycles = 0;   // host -> activation memory, input of one inference
  int64_t dma_out_cycles = 0;  // activation memory -> host, output
  int64_t dma_in_bytes = 0, dma_out_bytes = 0;
  int64_t program_load_cycles = 0;  // weight program load (once, not per inference)
  int64_t weight_mem_used_bytes = 0;
  int64_t act_peak_bytes = 0;             // largest footprint of any layer (IA/OA overlapped)
  int64_t act_peak_no_overlap_bytes = 0;  // what separate IA and OA buffers would need
  int64_t act_used_bytes = 0;  // memory the whole allocation spans (overlaps move buffers down)
  int64_t total_cycles = 0;    // dma_in + layers + dma_out, one inference
  int64_t inferences = 1;      // samples simulated (counts are summed over them)
};

}  // namespace prunesim::raman
