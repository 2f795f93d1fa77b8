#include "sim/raman_power.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "prune/errors.h"

namespace prunesim {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The 64-bit read anchors of the table, (bytes, key), ascending in size.
const std::vector<std::pair<double, const char*>>& sram_anchors() {
  static const std::vector<std::pair<double, const char*>> a = {
      {8192.0, "sram_read_8KB_64b"},
      {32768.0, "sram_read_32KB_64b"},
      {1048576.0, "sram_read_1MB_64b"},
  };
  return a;
}

// Block area from its parts, all at the target node: flip-flop bits and NAND2 gate equivalents.
double logic_area(const TechTable& t, double ff_bits, double ge) {
  return ff_bits * t.get("reg_bit_area", "um2") + ge * t.get("nand2_area", "um2");
}

double sram_area(const TechTable& t, double bytes, double ports) {
  double cell = t.get("sram_cell_area", "um2/bit");
  double eff = t.get("sram_array_efficiency", "1");
  double extra = t.get("sram_extra_port_area_factor", "1");
  return bytes * 8.0 * cell / eff * (1.0 + extra * std::max(0.0, ports - 1.0));
}

}  // namespace

double sram_read_pj(const TechTable& t, double bytes, double width_bits) {
  const auto& a = sram_anchors();
  std::vector<double> e;
  for (const auto& p : a) e.push_back(t.get(p.second, "pJ"));
  double s = std::max(bytes, 1.0);
  // Segment to interpolate on (or extrapolate from, at either end), in log-log space: Horowitz
  // gives E ~ size^0.5 between 8 KB and 32 KB, ~size^0.46 from 32 KB to 1 MB.
  size_t i = 0;
  while (i + 2 < a.size() && s > a[i + 1].first) ++i;
  double x0 = std::log(a[i].first), x1 = std::log(a[i + 1].first);
  double y0 = std::log(e[i]), y1 = std::log(e[i + 1]);
  double e64 = std::exp(y0 + (y1 - y0) * (std::log(s) - x0) / (x1 - x0));
  // Part of an access (decode, word line, control) does not depend on the bits read; the rest
  // (bit lines, sense amplifiers, output drivers) is per bit.
  double f = t.get("sram_width_fixed_fraction", "1");
  return e64 * (f + (1.0 - f) * width_bits / 64.0);
}

RamanUnitCosts raman_unit_costs(const raman::RamanConfig& cfg, const TechTable& t) {
  RamanUnitCosts u;
  const double acc_bits = static_cast<double>(cfg.acc_bits);
  const double tree = t.get("clock_tree_factor", "1");
  const double clk = t.get("reg_bit_clock_energy", "pJ") * tree;  // per flip-flop per cycle
  const double wr = t.get("reg_bit_write_energy", "pJ");          // data switching per bit
  const double icg = t.get("icg_clock_ff_equiv", "1") * clk;      // one clock-gating cell
  const double add32 = t.get("add32_energy", "pJ");
  const double pe_bits = t.get("pe_extra_ff_bits", "bit");
  const double clusters =
      std::ceil(static_cast<double>(cfg.pe_count) / std::max<int64_t>(1, cfg.cluster_size));

  u.mac_pj = t.get("mult8_energy", "pJ") + 8.0 * wr;
  // An adder's energy grows about linearly with its width (Horowitz: 8-bit 0.03 pJ, 32-bit
  // 0.1 pJ). The accumulator bank is clock-gated per register, so a write also pays its clock.
  u.acc_update_pj = add32 * acc_bits / 32.0 + acc_bits * (wr + clk);
  u.broadcast_pj = static_cast<double>(cfg.pe_count) * 8.0 * wr;
  // Ungated: the PE's pipeline/control flops plus the clock-gating cells of its accumulator
  // bank and of the PE itself. Gated: only the PE's own gating cell sees the clock.
  u.pe_ungated_cycle_pj = pe_bits * clk + (static_cast<double>(cfg.acc_per_pe) + 1.0) * icg;
  u.pe_gated_cycle_pj = icg;

  const double act_b = static_cast<double>(cfg.act_mem_bytes);
  const double w_b = static_cast<double>(cfg.weight_mem_bytes);
  const double wf = t.get("sram_write_read_ratio", "1");
  u.act_read_access_pj = sram_read_pj(t, act_b, 0.0);
  u.act_read_bit_pj = sram_read_pj(t, act_b, 1.0) - u.act_read_access_pj;
  u.act_write_access_pj = u.act_read_access_pj * wf;
  u.act_write_bit_pj = u.act_read_bit_pj * wf;
  u.weight_read_access_pj = sram_read_pj(t, w_b, 0.0);
  u.weight_read_bit_pj = sram_read_pj(t, w_b, 1.0) - u.weight_read_access_pj;

  // A decoder step advances a position counter (an 8-bit add) and writes its state.
  u.decoder_step_pj = t.get("add8_energy", "pJ") + t.get("decoder_step_bits", "bit") * (wr + clk);
  u.lfsr_step_pj = t.get("lfsr_bits", "bit") * (wr + clk);
  u.decoder_cycle_pj = clusters * t.get("decoder_ff_bits", "bit") * clk;
  // Testing 8 bits for zero is an OR tree, smaller than an 8-bit adder: the adder's energy is an
  // upper bound, and the detector's share of the total is small either way.
  u.zero_check_pj = t.get("add8_energy", "pJ");
  const double ppu_bits = t.get("ppu_ff_bits", "bit");
  u.ppu_op_pj = t.get("mult32_energy", "pJ") + add32 + ppu_bits * (wr + clk);
  u.controller_cycle_pj = t.get("controller_ff_bits", "bit") * clk;
  u.dma_cycle_pj = t.get("dma_ff_bits", "bit") * clk;
  u.dma_byte_pj = 8.0 * wr;

  // Leakage: standard cells leak in proportion to their area (density of the characterised
  // flip-flop), SRAM per stored bit.
  u.logic_leak_uw_per_um2 = t.get("reg_bit_leakage", "uW") / t.get("reg_bit_area", "um2") *
                            t.get("logic_leakage_flavor_factor", "1");
  u.sram_leak_uw_per_bit = t.get("sram_leakage", "uW/bit");

  u.pe_area_um2 = t.get("mult8_area", "um2") + t.get("add32_area", "um2") * acc_bits / 32.0 +
                  logic_area(t, static_cast<double>(cfg.acc_per_pe) * acc_bits + pe_bits,
                             t.get("pe_control_ge", "GE"));
  u.act_mem_area_um2 = sram_area(t, act_b, 1);
  u.weight_mem_area_um2 = sram_area(t, w_b, 1);
  u.decoder_area_um2 =
      clusters * logic_area(t, t.get("decoder_ff_bits", "bit"), t.get("decoder_logic_ge", "GE"));
  u.zero_detector_area_um2 =
      logic_area(t, 8.0 * static_cast<double>(cfg.pe_count),
                 t.get("zero_detector_ge_per_lane", "GE") * static_cast<double>(cfg.pe_count));
  u.ppu_area_um2 = static_cast<double>(cfg.ppu_lanes) *
                   (t.get("mult32_area", "um2") + t.get("add32_area", "um2") +
                    logic_area(t, ppu_bits, t.get("ppu_logic_ge", "GE")));
  u.controller_area_um2 =
      logic_area(t, t.get("controller_ff_bits", "bit"), t.get("controller_logic_ge", "GE"));
  u.dma_area_um2 = logic_area(t, t.get("dma_ff_bits", "bit"), t.get("dma_logic_ge", "GE"));
  u.routing_factor = 1.0 / t.get("placement_utilization", "1") - 1.0;
  return u;
}

const ComponentEstimate* RamanPowerEstimate::component(const std::string& name) const {
  for (const auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

enum Component { PE, ACT, WGT, DEC, ZD, PPU, CTL, DMA, ROUTE, NCOMP };

void set_areas(const raman::RamanConfig& cfg, const RamanUnitCosts& u,
               std::vector<ComponentEstimate>& comp) {
  const double pe = static_cast<double>(cfg.pe_count);
  comp[PE].area_mm2 = pe * u.pe_area_um2 * 1e-6;
  comp[ACT].area_mm2 = u.act_mem_area_um2 * 1e-6;
  comp[WGT].area_mm2 = u.weight_mem_area_um2 * 1e-6;
  comp[DEC].area_mm2 = u.decoder_area_um2 * 1e-6;
  comp[ZD].area_mm2 = u.zero_detector_area_um2 * 1e-6;
  comp[PPU].area_mm2 = u.ppu_area_um2 * 1e-6;
  comp[CTL].area_mm2 = u.controller_area_um2 * 1e-6;
  comp[DMA].area_mm2 = u.dma_area_um2 * 1e-6;
  double cells_mm2 = 0;
  for (int i : {PE, DEC, ZD, PPU, CTL, DMA}) cells_mm2 += comp[i].area_mm2;
  comp[ROUTE].area_mm2 = cells_mm2 * u.routing_factor;
}

// Leakage power (W): logic by cell area, memories by bit. Routing is wire: it does not leak.
void set_leakage(const raman::RamanConfig& cfg, const RamanUnitCosts& u,
                 std::vector<ComponentEstimate>& comp) {
  for (int i : {PE, DEC, ZD, PPU, CTL, DMA})
    comp[i].leakage_w = comp[i].area_mm2 * 1e6 * u.logic_leak_uw_per_um2 * 1e-6;
  comp[ACT].leakage_w =
      static_cast<double>(cfg.act_mem_bytes) * 8.0 * u.sram_leak_uw_per_bit * 1e-6;
  comp[WGT].leakage_w =
      static_cast<double>(cfg.weight_mem_bytes) * 8.0 * u.sram_leak_uw_per_bit * 1e-6;
}

// Dynamic energy of one layer per inference (pJ), by component.
void layer_dynamic_pj(const raman::LayerCounts& l, const RamanUnitCosts& u, double n,
                      double e[NCOMP]) {
  auto per = [&](int64_t v) { return static_cast<double>(v) / n; };
  for (int i = 0; i < NCOMP; ++i) e[i] = 0;  // the DMA and routing have no per-layer energy
  e[PE] = per(l.macs_executed) * u.mac_pj + per(l.acc_updates) * u.acc_update_pj +
          per(l.broadcasts) * u.broadcast_pj +
          per(l.pe_busy + l.pe_stalled) * u.pe_ungated_cycle_pj +
          per(l.pe_gated) * u.pe_gated_cycle_pj;
  e[ACT] =
      per(l.act_reads) * u.act_read_access_pj + per(l.act_read_bytes) * 8.0 * u.act_read_bit_pj +
      per(l.act_writes) * u.act_write_access_pj + per(l.act_write_bytes) * 8.0 * u.act_write_bit_pj;
  e[WGT] = per(l.weight_reads) * u.weight_read_access_pj +
           per(l.weight_read_bits) * u.weight_read_bit_pj;
  // Decoders are clocked only while a layer with weights runs (pooling/move layers gate them).
  e[DEC] = per(l.decoder_steps) * u.decoder_step_pj + per(l.lfsr_steps) * u.lfsr_step_pj +
           (l.encoding.empty() ? 0.0 : per(l.cycles) * u.decoder_cycle_pj);
  e[ZD] = per(l.zero_checks) * u.zero_check_pj;
  e[PPU] = per(l.ppu_ops) * u.ppu_op_pj;
  e[CTL] = per(l.cycles) * u.controller_cycle_pj;
}

// Host transfers: the DMA writes the input into and reads the output out of the activation
// memory a word (dma_bytes_per_cycle) at a time; the controller stays clocked meanwhile. Like
// every count, the DMA totals and total_cycles are summed over the inferences. Returns the DMA
// cycles per inference.
double add_dma_dynamic(const raman::RamanCounts& c, const RamanUnitCosts& u, double n,
                       std::vector<ComponentEstimate>& comp) {
  const double dma_cycles = static_cast<double>(c.dma_in_cycles + c.dma_out_cycles) / n;
  const double word = static_cast<double>(std::max<int64_t>(1, c.config.dma_bytes_per_cycle));
  const double in_b = static_cast<double>(c.dma_in_bytes) / n;
  const double out_b = static_cast<double>(c.dma_out_bytes) / n;
  comp[ACT].dynamic_j +=
      (std::ceil(in_b / word) * u.act_write_access_pj + in_b * 8.0 * u.act_write_bit_pj +
       std::ceil(out_b / word) * u.act_read_access_pj + out_b * 8.0 * u.act_read_bit_pj) *
      1e-12;
  comp[DMA].dynamic_j += (dma_cycles * u.dma_cycle_pj + (in_b + out_b) * u.dma_byte_pj) * 1e-12;
  comp[CTL].dynamic_j += dma_cycles * u.controller_cycle_pj * 1e-12;
  return dma_cycles;
}

}  // namespace

RamanPowerEstimate estimate_raman(const raman::RamanCounts& c, const TechTable& t, double rate_hz) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz))
    fail("--rate " + fmt(rate_hz), "", "the inference rate must be a positive number (1/s)");
  const raman::RamanConfig& cfg = c.config;
  if (!(cfg.clock_hz > 0)) fail(t.path, "", "clock_hz of the configuration must be > 0");
  const RamanUnitCosts u = raman_unit_costs(cfg, t);
  const double n = static_cast<double>(std::max<int64_t>(1, c.inferences));
  const double f = cfg.clock_hz;

  RamanPowerEstimate r;
  r.clock_hz = f;
  r.rate_hz = rate_hz;
  r.table = t.path;
  r.calibrated = t.calibrated();
  const char* names[NCOMP] = {"pe_array", "act_mem",    "weight_mem", "decoders", "zero_detector",
                              "ppu",      "controller", "dma",        "routing"};
  r.components.resize(NCOMP);
  for (int i = 0; i < NCOMP; ++i) r.components[i].name = names[i];
  auto& comp = r.components;
  set_areas(cfg, u, comp);
  set_leakage(cfg, u, comp);
  for (const auto& x : comp) r.leakage_w += x.leakage_w;

  // Dynamic energy per layer (pJ per inference), accumulated into the components.
  double layer_cycles_sum = 0;
  std::vector<double> layer_dyn_pj;
  for (const auto& l : c.layers) {
    double e[NCOMP];
    layer_dynamic_pj(l, u, n, e);
    double sum = 0;
    for (int i = 0; i < NCOMP; ++i) {
      comp[i].dynamic_j += e[i] * 1e-12;
      sum += e[i];
    }
    layer_dyn_pj.push_back(sum);
    layer_cycles_sum += static_cast<double>(l.cycles) / n;
    r.layer_names.push_back(l.name);
  }
  const double dma_cycles = add_dma_dynamic(c, u, n, comp);

  r.latency_cycles =
      c.total_cycles > 0 ? static_cast<double>(c.total_cycles) / n : layer_cycles_sum + dma_cycles;
  r.latency_s = r.latency_cycles / f;
  // A rate the core cannot reach only scales average power: the power is given at the highest
  // rate it reaches (back-to-back inferences) and the caller warns (rate_asked_hz > rate_hz).
  r.rate_asked_hz = rate_hz;
  if (r.latency_s > 1.0 / rate_hz) rate_hz = 1.0 / r.latency_s;
  r.rate_hz = rate_hz;

  for (size_t i = 0; i < c.layers.size(); ++i)
    r.layer_energy_j.push_back(layer_dyn_pj[i] * 1e-12 +
                               r.leakage_w * static_cast<double>(c.layers[i].cycles) / n / f);
  for (auto& x : comp) {
    x.leakage_j = x.leakage_w * r.latency_s;
    x.energy_j = x.dynamic_j + x.leakage_j;
    r.dynamic_j += x.dynamic_j;
    r.leakage_j += x.leakage_j;
    r.area_mm2 += x.area_mm2;
  }
  r.energy_j = r.dynamic_j + r.leakage_j;
  r.power_w = r.dynamic_j * rate_hz + r.leakage_w;
  return r;
}

nlohmann::json RamanPowerEstimate::to_json() const {
  nlohmann::json j;
  j["tech_table"] = table;
  j["clock_hz"] = clock_hz;
  j["latency_cycles"] = latency_cycles;
  j["latency_s"] = latency_s;
  j["rate_hz"] = rate_hz;
  j["rate_asked_hz"] = rate_asked_hz;
  j["dynamic_energy_j"] = dynamic_j;
  j["leakage_energy_j"] = leakage_j;
  j["energy_j"] = energy_j;
  j["leakage_power_w"] = leakage_w;
  j["power_w"] = power_w;
  j["area_mm2"] = area_mm2;
  j["idle_assumption"] =
      "between inferences all clocks are gated (no dynamic energy); nothing is power-gated, so "
      "leakage_power_w continues: power_w = dynamic_energy_j * rate_hz + leakage_power_w";
  j["calibrated_entries"] = calibrated;
  nlohmann::json cs = nlohmann::json::array();
  for (const auto& c : components)
    cs.push_back({{"name", c.name},
                  {"area_mm2", c.area_mm2},
                  {"dynamic_energy_j", c.dynamic_j},
                  {"leakage_energy_j", c.leakage_j},
                  {"energy_j", c.energy_j},
                  {"leakage_power_w", c.leakage_w}});
  j["components"] = cs;
  nlohmann::json ls = nlohmann::json::array();
  for (size_t i = 0; i < layer_energy_j.size(); ++i)
    ls.push_back(
        {{"name", i < layer_names.size() ? layer_names[i] : ""}, {"energy_j", layer_energy_j[i]}});
  j["layers"] = ls;
  return j;
}

}  // namespace prunesim
