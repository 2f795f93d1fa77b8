// FPGA resources and power of the FPGA-SoC pipeline (models/fpga_soc) from a technology and
// resource table (sim/power/data/k26.json, every entry sourced): what the design occupies of the
// K26 (platform, DPU, the PL kernels the configuration places) and the watts its activity costs
// (PS, PL static, DPU, PL kernels, DDR). The model only reports activity; the prices are here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/fpga_soc/soc.h"
#include "sim/tech.h"

namespace prunesim {

struct FpgaResources {
  double lut = 0, ff = 0, dsp = 0, bram = 0, uram = 0;  // bram in BRAM36 (halves allowed)
  FpgaResources& operator+=(const FpgaResources& o);
  nlohmann::json to_json() const;  // {"lut","ff","dsp","bram","uram"}
};

struct FpgaResourceReport {
  std::vector<std::pair<std::string, FpgaResources>> blocks;  // "platform", "dpu B…", "pl.<step>"
  FpgaResources total, device;
};

// The blocks the configuration instantiates and their sum, beside the device's resources.
FpgaResourceReport fpga_soc_resources(const TechTable& t, const fpga_soc::SocConfig& c,
                                      const fpga_soc::DpuProgram& prog);
// InputError naming the first resource the design needs more of than the K26 has.
void check_fpga_fits(const FpgaResourceReport& R, const fpga_soc::SocConfig& c);

struct FpgaSocPower {  // W, averaged over the simulated time
  double ps_w = 0, pl_static_w = 0, dpu_w = 0, kernels_w = 0, ddr_w = 0, total_w = 0;
  double a53_core_w = 0;  // one A53 core active at ps_clock_hz (prices the PS-fallback layers)
  std::vector<std::pair<std::string, double>> parts;  // component -> W, in report order
};

FpgaSocPower estimate_fpga_soc_power(const TechTable& t, const fpga_soc::SocConfig& c,
                                     const fpga_soc::SocResult& r, const FpgaResourceReport& R);

}  // namespace prunesim
