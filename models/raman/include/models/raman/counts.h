// What the RAMAN-like model reports: its configuration and, per layer, the cycles and the
// action counts that sim/power turns into energy (DESIGN.md habit 5: the model only counts).
// Cycle mode and analytical mode fill the same structures and must agree exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/params.h"
#include "models/stats.h"

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

// The per-layer statistics, one line each (issue 17 item 5): adding a statistic is one line
// here; the struct field, accumulate(), the JSON round trip and the summary StatGroup entries
// are generated from these lists.
//
// Summed counts: X(field, json key, summary stat name ("" = not in the summary), unit, meaning).
// Summed over layers and inferences by accumulate(); the summary divides them per inference.
// Every PE's cycles split exactly into busy + stalled + gated = cycles.
#define PRUNESIM_RAMAN_LAYER_COUNTS(X)                                                             \
  X(cycles, "cycles", "", "cycles", "layer cycles")                                                \
  X(macs_dense, "macs_dense", "macs_dense", "MAC", "dense layer MACs")                             \
  X(macs_executed, "macs_executed", "macs_executed", "MAC", "MACs the PEs performed")              \
  X(macs_skipped_zero, "macs_skipped_zero", "macs_skipped_zero_act", "MAC",                        \
    "skipped: zero activation or padding")                                                         \
  X(macs_skipped_pruned, "macs_skipped_pruned", "macs_skipped_pruned", "MAC",                      \
    "skipped: pruned (zero) weight")                                                               \
  X(pe_busy, "pe_busy_cycles", "pe_busy", "PE-cycles", "summed over PEs")                          \
  X(pe_stalled, "pe_stalled_cycles", "pe_stalled", "PE-cycles",                                    \
    "ungated, waiting for the zero detector")                                                      \
  X(pe_gated, "pe_gated_cycles", "pe_gated", "PE-cycles", "clock-gated")                           \
  X(acc_updates, "acc_updates", "", "1", "accumulator writes (bias loads + MACs)")                 \
  X(broadcasts, "broadcasts", "", "1", "non-zero activations broadcast to the PE array")           \
  X(act_reads, "act_reads", "act_mem_reads", "accesses", "activation memory reads")                \
  X(act_read_bytes, "act_read_bytes", "", "B", "activation bytes read")                            \
  X(act_writes, "act_writes", "act_mem_writes", "accesses", "activation memory writes")            \
  X(act_write_bytes, "act_write_bytes", "", "B", "activation bytes written")                       \
  X(weight_reads, "weight_reads", "weight_mem_reads", "accesses",                                  \
    "weight memory reads (32-bit words)")                                                          \
  X(weight_read_bits, "weight_read_bits", "weight_mem_read_bits", "bit",                           \
    "values and metadata read")                                                                    \
  X(decoder_steps, "decoder_steps", "decoder_steps", "1", "kept weights produced by the decoders") \
  X(lfsr_steps, "lfsr_steps", "", "1", "LFSR advances (balanced/lfsr)")                            \
  X(ppu_ops, "ppu_ops", "", "1", "requantize/clamp/pool-finish operations")                        \
  X(zero_checks, "zero_checked_values", "", "1", "activations examined by the zero detector")

// Per-PE cycles, one entry per PE, summed element-wise: X(field, json key).
#define PRUNESIM_RAMAN_LAYER_PER_PE(X)       \
  X(busy_per_pe, "busy_cycles_per_pe")       \
  X(stalled_per_pe, "stalled_cycles_per_pe") \
  X(gated_per_pe, "gated_cycles_per_pe")

// What the layer is and where it lives; set once by empty_counts, never summed: X(field, json key).
#define PRUNESIM_RAMAN_LAYER_TEXT(X)                                                        \
  X(name, "name") /* executed node */                                                       \
  X(kind, "kind") /* "conv", "conv_transpose", "gemm", "depthwise", "avgpool", ... */       \
  X(mode, "mode") /* "broadcast" (Gustavson row-wise), "lane" (channel-parallel), "none" */ \
  X(encoding, "encoding") /* weight encoding ("" for layers without weights) */
#define PRUNESIM_RAMAN_LAYER_LAYOUT(X)                                                 \
  X(act_in_bytes, "act_in_bytes") /* tensor sizes */                                   \
  X(act_out_bytes, "act_out_bytes")                                                    \
  X(act_in_base, "act_in_offset_bytes") /* allocation in the activation memory */      \
  X(act_out_base, "act_out_offset_bytes")                                              \
  X(act_footprint_bytes, "act_footprint_bytes") /* span of IA and OA (with overlap) */ \
  X(weight_bytes, "weight_bytes")               /* bytes this layer occupies in weight memory */

// Per-layer counts (summed over RamanCounts::inferences).
struct LayerCounts {
#define PRUNESIM_X_TEXT(f, key) std::string f;
#define PRUNESIM_X_COUNT(f, key, stat, unit, desc) int64_t f = 0;
#define PRUNESIM_X_PER_PE(f, key) std::vector<int64_t> f;
#define PRUNESIM_X_LAYOUT(f, key) int64_t f = 0;
  PRUNESIM_RAMAN_LAYER_TEXT(PRUNESIM_X_TEXT)
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X_COUNT)
  PRUNESIM_RAMAN_LAYER_PER_PE(PRUNESIM_X_PER_PE)
  PRUNESIM_RAMAN_LAYER_LAYOUT(PRUNESIM_X_LAYOUT)
#undef PRUNESIM_X_TEXT
#undef PRUNESIM_X_COUNT
#undef PRUNESIM_X_PER_PE
#undef PRUNESIM_X_LAYOUT
};

// Merges b into a: every summed count, the per-PE vectors element-wise; text and layout of a
// are kept.
void accumulate(LayerCounts& a, const LayerCounts& b);
// Every field under its JSON key (the report's layer entries, the cycle child's payload) and
// back; counts_from_json throws nlohmann::json errors on a missing key.
nlohmann::json counts_to_json(const LayerCounts& c);
LayerCounts counts_from_json(const nlohmann::json& j);
// The summary entries (those with a stat name) summed over `layers` and divided by
// `inferences`, added to g in list order.
void add_count_stats(StatGroup& g, const std::vector<LayerCounts>& layers, double inferences);

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
