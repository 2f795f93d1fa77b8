// Energy, power and area of the RAMAN-like accelerator from the action counts its model reports
// (models/raman/counts.h) and a technology table (sim/tech.h). The model only counts; every
// joule and square micrometre comes from a table entry with a source. Every count, the DMA
// totals and total_cycles included, is summed over `inferences` samples (as the model reports
// them) and divided back to one inference. Formulas: docs/power-model.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/raman/counts.h"
#include "sim/tech.h"

namespace prunesim {

struct ComponentEstimate {
  std::string name;
  double area_mm2 = 0;
  double dynamic_j = 0;  // per inference
  double leakage_j = 0;  // leakage_w over one inference's latency
  double energy_j = 0;   // dynamic_j + leakage_j
  double leakage_w = 0;
};

struct RamanPowerEstimate {
  // pe_array, act_mem, weight_mem, decoders, zero_detector, ppu, controller, dma, routing
  // (placement whitespace and wiring around the standard cells: area only).
  std::vector<ComponentEstimate> components;
  std::vector<std::string> layer_names;
  std::vector<double> layer_energy_j;  // per RamanCounts::layers entry, per inference: dynamic
                                       // + leakage over the layer's cycles
  double latency_cycles = 0, latency_s = 0, clock_hz = 0;
  double dynamic_j = 0, leakage_j = 0, energy_j = 0;  // per inference
  // Average power at rate_hz inferences/s. Between inferences every clock is gated (no dynamic
  // energy) and nothing is power-gated (leakage continues): power = dynamic_j*rate + leakage_w.
  double leakage_w = 0, power_w = 0, rate_hz = 0;
  // The rate asked for. Above 1/latency_s the core cannot keep up: rate_hz is then 1/latency_s
  // (inferences back to back) and power_w is the power at it.
  double rate_asked_hz = 0;
  double area_mm2 = 0;
  std::string table;                    // path of the technology table
  std::vector<std::string> calibrated;  // table entries whose calibration factor is not 1

  const ComponentEstimate* component(const std::string& name) const;
  nlohmann::json to_json() const;  // every number with its unit in the key name
};

// Per-action energies and per-component areas the estimator derives from the table for one
// configuration, at the table's node and voltage (pJ, µm², µW). Exposed for tests and docs.
struct RamanUnitCosts {
  double mac_pj = 0;         // int8 x int8 multiply + weight operand register write
  double acc_update_pj = 0;  // acc_bits add + accumulator register write (with its clock)
  double broadcast_pj = 0;   // activation operand registers of every PE written
  double pe_ungated_cycle_pj = 0, pe_gated_cycle_pj = 0;  // clock per PE per cycle
  double act_read_access_pj = 0, act_read_bit_pj = 0;     // SRAM: per access + per bit
  double act_write_access_pj = 0, act_write_bit_pj = 0;
  double weight_read_access_pj = 0, weight_read_bit_pj = 0;
  double decoder_step_pj = 0, lfsr_step_pj = 0, decoder_cycle_pj = 0;  // decoder_cycle: clock
  double zero_check_pj = 0, ppu_op_pj = 0;
  double controller_cycle_pj = 0, dma_cycle_pj = 0, dma_byte_pj = 0;
  double logic_leak_uw_per_um2 = 0, sram_leak_uw_per_bit = 0;
  double pe_area_um2 = 0, act_mem_area_um2 = 0, weight_mem_area_um2 = 0, decoder_area_um2 = 0,
         zero_detector_area_um2 = 0, ppu_area_um2 = 0, controller_area_um2 = 0, dma_area_um2 = 0;
  double routing_factor = 0;  // routing area = factor x standard-cell area
};

RamanUnitCosts raman_unit_costs(const raman::RamanConfig& cfg, const TechTable& t);

// SRAM read energy (pJ) for one access of `width_bits` to a memory of `bytes`, from the table's
// 64-bit anchors (log-log interpolation on size, affine in width). Exposed for tests.
double sram_read_pj(const TechTable& t, double bytes, double width_bits);

// InputError if rate_hz <= 0 or if an entry the
// estimator needs is missing or has the wrong unit.
RamanPowerEstimate estimate_raman(const raman::RamanCounts& c, const TechTable& t, double rate_hz);

}  // namespace prunesim
