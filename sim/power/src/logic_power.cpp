#include "sim/logic_power.h"

#include <cmath>

namespace prunesim {

double gate_cell_area_um2(const TechTable& t, int tt) {
  switch (tt & 15) {
    case 0b1000:
      return t.get("and2_area", "um2");
    case 0b1110:
      return t.get("or2_area", "um2");
    case 0b0111:
      return t.get("nand2_area", "um2");
    case 0b0001:
      return t.get("nor2_area", "um2");
    case 0b0110:
    case 0b1001:
      return t.get("xor2_area", "um2");
    case 0b0100:
    case 0b0010:
      return t.get("inv1_area", "um2") + t.get("nor2_area", "um2");
    case 0b1101:
    case 0b1011:
      return t.get("inv1_area", "um2") + t.get("nand2_area", "um2");
    case 0b0011:
    case 0b0101:
      return t.get("inv1_area", "um2");
    default:
      return 0;  // constants and buffers are wires
  }
}

namespace {

// A full adder as 2 XOR2 + 2 AND2 + 1 OR2 (the decomposition the toggle energy is derived from).
double full_adder_area(const TechTable& t) {
  return 2 * t.get("xor2_area", "um2") + 2 * t.get("and2_area", "um2") + t.get("or2_area", "um2");
}

// The group-sum and argmax that turn output bits into a class: per class a popcount of
// per_class bits (about one full adder per input bit in a carry-save tree), then classes - 1
// comparisons of the counts (one full adder per count bit). Their activity is not simulated: we
// assume the output bits' measured transition rate for every adder output.
void price_classifier(const logic::HwProfile& p, const TechTable& t, double ge_pj, double rate,
                      LogicCost* c) {
  const double fa = full_adder_area(t), fa_ge = fa / t.get("nand2_area", "um2");
  const double count_bits = std::ceil(std::log2(double(p.per_class) + 1));
  const double pop = double(p.classes) * (double(p.per_class) > 1 ? double(p.per_class) - 1 : 0);
  const double cmp = double(p.classes > 1 ? p.classes - 1 : 0) * count_bits;
  for (const auto& [name, n] : {std::pair<const char*, double>{"group_sum", pop}, {"argmax", cmp}})
    c->parts.push_back(LogicPart{name, n, n * fa, n * fa_ge * ge_pj * rate});
}

}  // namespace

LogicCost price_logic(const logic::HwProfile& p, const TechTable& t, double clock_hz) {
  LogicCost c;
  const double nand2 = t.get("nand2_area", "um2");
  const double ge_pj = t.get("logic_toggle_energy_per_ge", "pJ");
  LogicPart gates{"gates", 0, 0, 0};
  for (int tt = 0; tt < 16; ++tt) {
    const double a = gate_cell_area_um2(t, tt);
    gates.count += double(p.by_tt[tt]);
    gates.area_um2 += double(p.by_tt[tt]) * a;
    gates.energy_pj += p.toggles_by_tt[tt] * (a / nand2) * ge_pj;
  }
  c.parts.push_back(gates);
  const double inv = t.get("inv1_area", "um2");
  const double out_rate = p.outputs ? p.output_toggles / double(p.outputs) : 0;
  c.parts.push_back(LogicPart{"inverters", double(p.inverters), double(p.inverters) * inv,
                              double(p.inverters) * out_rate * (inv / nand2) * ge_pj});
  // Registered live inputs and the class result: clock energy every cycle, data on a change.
  const double ff = double(p.live_inputs),
               clk = t.get("reg_bit_clock_energy", "pJ") * t.get("clock_tree_factor", "1");
  const double in_rate = p.inputs ? p.input_toggles / double(p.inputs) : 0;
  c.parts.push_back(LogicPart{"registers", ff, ff * t.get("reg_bit_area", "um2"),
                              ff * (clk + in_rate * t.get("reg_bit_write_energy", "pJ"))});
  price_classifier(p, t, ge_pj, out_rate, &c);
  const double leak_per_um2 = t.get("reg_bit_leakage", "uW") / t.get("reg_bit_area", "um2") *
                              t.get("logic_leakage_flavor_factor", "1");
  for (const LogicPart& x : c.parts) c.area_um2 += x.area_um2, c.dynamic_pj += x.energy_pj;
  c.area_um2 /= t.get("placement_utilization", "1");
  c.leakage_uw = c.area_um2 * leak_per_um2;
  c.clock_hz = clock_hz;
  c.throughput_per_s = clock_hz;
  c.latency_s = 1.0 / clock_hz;
  c.energy_per_inference_pj = c.dynamic_pj + c.leakage_uw * 1e6 / clock_hz;  // uW * s = 1e6 pJ
  c.power_uw = c.energy_per_inference_pj * 1e-6 * clock_hz;
  return c;
}

nlohmann::json to_json(const LogicCost& c) {
  nlohmann::json j;
  j["clock_hz"] = c.clock_hz;
  j["throughput_per_s"] = c.throughput_per_s;
  j["latency_s"] = c.latency_s;
  j["area_mm2"] = c.area_um2 * 1e-6;
  j["dynamic_energy_j"] = c.dynamic_pj * 1e-12;
  j["leakage_w"] = c.leakage_uw * 1e-6;
  j["energy_per_inference_j"] = c.energy_per_inference_pj * 1e-12;
  j["power_w"] = c.power_uw * 1e-6;
  for (const LogicPart& p : c.parts)
    j["components"].push_back({{"name", p.name},
                               {"count", p.count},
                               {"area_mm2", p.area_um2 * 1e-6},
                               {"energy_j", p.energy_pj * 1e-12}});
  return j;
}

}  // namespace prunesim
