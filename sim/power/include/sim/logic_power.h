// Area and energy of a logic-gate network as a combinational block at 65 nm (raman65.json), so
// it sits in the same comparison as an int8 model on the RAMAN-like core: each gate is priced as
// its standard cell (NanGate areas scaled by the table's rules), each output transition measured
// by simulation (logic/hw_report.h) costs the cell's area in GE times the energy per GE
// transition; registered inputs and outputs, the group-sum popcounts and the argmax are priced
// as flip-flops and full adders. One inference per clock cycle. docs/logic-networks.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "logic/hw_report.h"
#include "sim/tech.h"

namespace prunesim {

struct LogicPart {
  std::string name;
  double count = 0;  // cells (gates, flip-flops, full adders)
  double area_um2 = 0;
  double energy_pj = 0;  // dynamic, per inference
};

struct LogicCost {
  std::vector<LogicPart> parts;  // "gates", "inverters", "registers", "group_sum", "argmax"
  double area_um2 = 0, dynamic_pj = 0, leakage_uw = 0;
  double clock_hz = 0, throughput_per_s = 0, latency_s = 0;
  double energy_per_inference_pj = 0;  // dynamic + leakage over one clock period
  double power_uw = 0;                 // at one inference per cycle
};

// The cell area (um2, at the table's node) of a gate with truth table tt: one cell or an
// inverter plus one cell (A&~B = NOR2(~A, B), A|~B = NAND2(~A, B)); 0 for constants and wires.
double gate_cell_area_um2(const TechTable& t, int tt);
LogicCost price_logic(const logic::HwProfile& p, const TechTable& t, double clock_hz);
nlohmann::json to_json(const LogicCost& c);

}  // namespace prunesim
