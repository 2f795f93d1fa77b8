// FPGA-SoC resources and power from the K26 table: formulas and sources in docs/fpga-soc.md.
#include "sim/fpga_soc_power.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "prune/errors.h"

namespace prunesim {

using namespace fpga_soc;

FpgaResources& FpgaResources::operator+=(const FpgaResources& o) {
  lut += o.lut;
  ff += o.ff;
  dsp += o.dsp;
  bram += o.bram;
  uram += o.uram;
  return *this;
}

nlohmann::json FpgaResources::to_json() const {
  return {{"lut", lut}, {"ff", ff}, {"dsp", dsp}, {"bram", bram}, {"uram", uram}};
}

namespace {

// DPU resources: PG338's per-size numbers, calibrated to the K26 build of a B3136 (which adds
// depthwise/avg-pool features and moves buffers into UltraRAM): LUT, FF and DSP by the ratio of
// the two B3136 figures, block RAM split into BRAM and URAM in the K26 build's proportion.
FpgaResources dpu_resources(const TechTable& t, const SocConfig& c) {
  const std::string b = "dpu_" + c.dpu.name + "_";
  const double lut_k = t.get("k26_dpu_B3136_lut") / t.get("dpu_B3136_lut");
  const double dsp_k = t.get("k26_dpu_B3136_dsp") / t.get("dpu_B3136_dsp");
  FpgaResources r;
  r.lut = std::round(t.get(b + "lut") * lut_k);
  r.ff = std::round(t.get(b + "ff") * lut_k);
  r.dsp = std::round(t.get(b + "dsp") * dsp_k);
  const double bram = t.get(b + "bram");
  if (c.dpu_uram) {
    const double ref = t.get("dpu_B3136_bram");
    r.bram = std::ceil(2 * bram * t.get("k26_dpu_B3136_bram") / ref) / 2;  // BRAM36, halves
    r.uram = std::ceil(bram * t.get("k26_dpu_B3136_uram") / ref);
  } else {
    r.bram = bram;
  }
  return r;
}

FpgaResources kernel_resources(const TechTable& t, const std::string& step, int lanes) {
  const std::string b = "pl_" + step + "_";
  const double k = lanes / 4.0;  // table entries are for 4 lanes
  FpgaResources r;
  r.lut = std::round(t.get(b + "lut") * k);
  r.ff = std::round(t.get(b + "ff") * k);
  r.dsp = std::round(t.get(b + "dsp") * k);
  r.bram = t.get(b + "bram");
  return r;
}

// "<prefix>_lut" ... "<prefix>_uram" of the table.
FpgaResources table_resources(const TechTable& t, const std::string& prefix) {
  FpgaResources r;
  r.lut = t.get(prefix + "_lut");
  r.ff = t.get(prefix + "_ff");
  r.dsp = t.get(prefix + "_dsp");
  r.bram = t.get(prefix + "_bram");
  r.uram = t.get(prefix + "_uram");
  return r;
}

}  // namespace

FpgaResourceReport fpga_soc_resources(const TechTable& t, const SocConfig& c,
                                      const DpuProgram& prog) {
  FpgaResourceReport R;
  R.blocks.push_back({"platform", table_resources(t, "platform")});
  R.blocks.push_back({"dpu " + c.dpu.name, dpu_resources(t, c)});
  // Only the steps the input mode has get a PL kernel: tensor input has no demosaic, normalise
  // or crop, and no argmax when postprocess is none.
  std::vector<Step> steps = {Step::Demosaic, Step::Normalise, Step::Crop, Step::Argmax};
  if (prog.input_mode == "tensor") {
    steps = {Step::Quantize};
    if (prog.argmax) steps.push_back(Step::Argmax);
  }
  for (Step s : steps)
    if (c.placement(s) == Place::PL) {
      const std::string n = step_name(s);
      R.blocks.push_back({"pl." + n, kernel_resources(t, n, c.pl_lanes)});
    }
  for (const auto& b : R.blocks) R.total += b.second;
  R.device = table_resources(t, "device");
  return R;
}

void check_fpga_fits(const FpgaResourceReport& R, const SocConfig& c) {
  const std::pair<const char*, double> need[] = {{"LUT", R.total.lut},
                                                 {"FF", R.total.ff},
                                                 {"DSP", R.total.dsp},
                                                 {"BRAM", R.total.bram},
                                                 {"URAM", R.total.uram}};
  const double have[] = {R.device.lut, R.device.ff, R.device.dsp, R.device.bram, R.device.uram};
  for (int i = 0; i < 5; ++i)
    if (need[i].second > have[i]) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "the design needs %.1f %s but the K26 has %.0f (dpu=%s, pl.lanes=%d, "
                    "dpu.uram=%s)",
                    need[i].second, need[i].first, have[i], c.dpu.name.c_str(), c.pl_lanes,
                    c.dpu_uram ? "true" : "false");
      throw InputError(std::string("--set dpu=") + c.dpu.name + ": resources: " + buf);
    }
}

FpgaSocPower estimate_fpga_soc_power(const TechTable& t, const SocConfig& c, const SocResult& r,
                                     const FpgaResourceReport& R) {
  FpgaSocPower p;
  const double T = r.sim_time_s > 0 ? r.sim_time_s : 1.0;
  const double ps_scale = c.ps_clock_hz / 1.333e9;
  double ps_dyn = 0;
  for (const Activity& a : r.resources)
    if (a.kind == "ps")
      ps_dyn += t.get("a53_core_active_power", "uW") * 1e-6 * ps_scale * a.busy_s / T;
  p.ps_w = t.get("ps_idle_power", "uW") * 1e-6 + ps_dyn;
  p.a53_core_w = t.get("a53_core_active_power", "uW") * 1e-6 * c.ps_clock_hz / 1.333e9;
  p.pl_static_w = t.get("pl_static_power", "uW") * 1e-6;
  double macs = 0;
  for (const Activity& a : r.resources)
    if (a.kind == "dpu") macs += static_cast<double>(a.ops);
  double dpu_dsp = 0;
  for (const auto& b : R.blocks)
    if (b.first.rfind("dpu", 0) == 0) dpu_dsp = b.second.dsp;
  p.dpu_w = macs / T * t.get("dpu_mac_energy", "pJ") * 1e-12 +
            dpu_dsp * t.get("dpu_clocked_power_per_dsp", "uW") * 1e-6 * (c.dpu_clock_hz / 300e6);
  const double pl_scale = c.pl_clock_hz / 300e6;
  for (const auto& b : R.blocks) {
    if (b.first.rfind("pl.", 0) != 0) continue;
    double util = 0;  // the kernel's stage busy fraction
    for (const Activity& a : r.resources)
      if (a.kind == "pl" && a.name.find(b.first.substr(3)) != std::string::npos)
        util = std::min(1.0, a.busy_s / T);
    const double w =
        (b.second.lut * t.get("pl_lut_power", "uW") + b.second.dsp * t.get("pl_dsp_power", "uW") +
         b.second.bram * t.get("pl_bram_power", "uW")) *
        1e-6 * pl_scale * util;
    p.kernels_w += w;
    p.parts.push_back({b.first, w});
  }
  double bytes = 0;
  for (const Activity& a : r.resources)
    if (a.kind == "ddr") bytes += static_cast<double>(a.ddr_bytes);
  p.ddr_w =
      bytes / T * t.get("ddr_energy", "pJ/B") * 1e-12 + t.get("ddr_background_power", "uW") * 1e-6;
  p.total_w = p.ps_w + p.pl_static_w + p.dpu_w + p.kernels_w + p.ddr_w;
  p.parts.insert(p.parts.begin(), {{"ps", p.ps_w}, {"pl_static", p.pl_static_w}, {"dpu", p.dpu_w}});
  p.parts.push_back({"ddr", p.ddr_w});
  return p;
}

}  // namespace prunesim
