// The "fpga-soc" architecture: adapts models/fpga_soc (the HSI segmentation pipeline on a Kria
// K26) to `prunesim simulate`, `config --dump`, `sweep` and `compare`. It checks the design
// against the device's resources, runs the SystemC model (in a forked child: SystemC elaborates
// once per process) or the analytical twin, and turns the model's activity into watts with the
// technology table sim/power/data/k26.json (every number there carries its source).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/fpga_soc/soc.h"
#include "models/isolate.h"
#include "prune/errors.h"
#include "sim/arch.h"
#include "sim/tech.h"

namespace prunesim {
namespace {

using json = nlohmann::json;
using namespace fpga_soc;

std::string tech_path(const std::string& name) {
  if (name.find('/') != std::string::npos || name.find(".json") != std::string::npos) return name;
  return tech_data_dir() + "/" + name + ".json";
}

struct Res {
  double lut = 0, ff = 0, dsp = 0, bram = 0, uram = 0;
  Res& operator+=(const Res& o) {
    lut += o.lut;
    ff += o.ff;
    dsp += o.dsp;
    bram += o.bram;
    uram += o.uram;
    return *this;
  }
  json to_json() const {
    return {{"lut", lut}, {"ff", ff}, {"dsp", dsp}, {"bram", bram}, {"uram", uram}};
  }
};

// DPU resources: PG338's per-size numbers, calibrated to the K26 build of a B3136 (which adds
// depthwise/avg-pool features and moves buffers into UltraRAM): LUT, FF and DSP by the ratio of
// the two B3136 figures, block RAM split into BRAM and URAM in the K26 build's proportion.
Res dpu_resources(const TechTable& t, const SocConfig& c) {
  const std::string b = "dpu_" + c.dpu.name + "_";
  const double lut_k = t.get("k26_dpu_B3136_lut") / t.get("dpu_B3136_lut");
  const double dsp_k = t.get("k26_dpu_B3136_dsp") / t.get("dpu_B3136_dsp");
  Res r;
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

Res kernel_resources(const TechTable& t, const std::string& step, int lanes) {
  const std::string b = "pl_" + step + "_";
  const double k = lanes / 4.0;  // table entries are for 4 lanes
  Res r;
  r.lut = std::round(t.get(b + "lut") * k);
  r.ff = std::round(t.get(b + "ff") * k);
  r.dsp = std::round(t.get(b + "dsp") * k);
  r.bram = t.get(b + "bram");
  return r;
}

struct ResourceReport {
  std::vector<std::pair<std::string, Res>> blocks;
  Res total, device;
};

ResourceReport resources(const TechTable& t, const SocConfig& c, const DpuProgram& prog) {
  ResourceReport R;
  Res plat;
  plat.lut = t.get("platform_lut");
  plat.ff = t.get("platform_ff");
  plat.dsp = t.get("platform_dsp");
  plat.bram = t.get("platform_bram");
  plat.uram = t.get("platform_uram");
  R.blocks.push_back({"platform", plat});
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
  R.device.lut = t.get("device_lut");
  R.device.ff = t.get("device_ff");
  R.device.dsp = t.get("device_dsp");
  R.device.bram = t.get("device_bram");
  R.device.uram = t.get("device_uram");
  return R;
}

void check_fits(const ResourceReport& R, const SocConfig& c) {
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

struct Power {
  double ps_w = 0, pl_static_w = 0, dpu_w = 0, kernels_w = 0, ddr_w = 0, total_w = 0;
  std::vector<std::pair<std::string, double>> parts;  // component -> W
};

Power power(const TechTable& t, const SocConfig& c, const SocResult& r, const ResourceReport& R) {
  Power p;
  const double T = r.sim_time_s > 0 ? r.sim_time_s : 1.0;
  const double ps_scale = c.ps_clock_hz / 1.333e9;
  double ps_dyn = 0;
  for (const Activity& a : r.resources)
    if (a.kind == "ps")
      ps_dyn += t.get("a53_core_active_power", "uW") * 1e-6 * ps_scale * a.busy_s / T;
  p.ps_w = t.get("ps_idle_power", "uW") * 1e-6 + ps_dyn;
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

class FpgaSocArch : public Arch {
 public:
  std::string name() const override { return "fpga-soc"; }
  std::string description() const override {
    return "Zynq UltraScale+ MPSoC (Kria K26) pipeline: HSI mosaic sensor with PS/PL "
           "preprocessing (or a tensor input quantized on the PS/PL), DPU with a PS fallback for "
           "the layers it cannot run, argmax, pipelined over frames";
  }
  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> s = param_specs();
    ParamSpec t;
    t.name = "tech";
    t.type = ParamSpec::Type::Text;
    t.def = "k26";
    t.meaning = "technology/resource table: a name in sim/power/data or a path to a .json";
    t.source = "sim/power/data/k26.json";
    s.push_back(t);
    return s;
  }
  std::vector<std::string> modes() const override { return {"cycle", "analytical"}; }
  // Power is reported at the pipeline's own frame rate (free-running sensor); this default only
  // matters to callers that ask for a rate (HSI-Drive's camera streams at video rate).
  double default_rate_hz() const override { return 25.0; }

  SimOutput simulate(const SimInput& in) const override {
    if (!in.trace_path.empty())
      throw InputError("--vcd " + in.trace_path + ": the fpga-soc model writes no trace");
    SocConfig cfg = make_config(in.params);
    const TechTable tech = load_tech_table(tech_path(in.params.s("tech")));
    cfg.input = resolve_input_mode(in.model, cfg, in.input, in.input_path);
    const DpuProgram prog = compile_dpu(in.model, cfg, in.tables_path);
    const ResourceReport R = resources(tech, cfg, prog);
    check_fits(R, cfg);
    const Frames frames = load_frames(in.input, cfg, prog, in.input_path);
    SocResult r;
    if (in.mode == "analytical") {
      r = run_analytical(in.model, prog, cfg, frames);
    } else {
      const QuantizedModel& q = in.model;
      const std::string payload =
          run_isolated([&] { return run_cycle(q, prog, cfg, frames).to_json().dump(); });
      r = SocResult::from_json(json::parse(payload));
    }
    const Power pw = power(tech, cfg, r, R);
    return make_output(in, cfg, prog, r, R, pw, tech);
  }

 private:
  SimOutput make_output(const SimInput& in, const SocConfig& cfg, const DpuProgram& prog,
                        const SocResult& r, const ResourceReport& R, const Power& pw,
                        const TechTable& tech) const {
    SimOutput o;
    json& j = o.report;
    const double fps = r.throughput_fps;
    const double frame_s = fps > 0 ? 1.0 / fps : 0.0;
    const double T = r.sim_time_s > 0 ? r.sim_time_s : 1.0;
    j["arch"] = "fpga-soc";
    j["mode"] = r.mode;
    j["tables"] = in.tables_path;
    j["input"] = in.input_path;
    j["frames"] = r.frames;
    j["input_mode"] = prog.input_mode;
    j["postprocess"] = prog.argmax ? "argmax" : "none";
    j["clock_hz"] = cfg.dpu_clock_hz;
    j["latency_s"] = r.latency_mean_s;
    j["latency_cycles"] = std::llround(r.latency_mean_s * cfg.dpu_clock_hz);
    j["latency_min_s"] = r.latency_min_s;
    j["latency_max_s"] = r.latency_max_s;
    j["throughput_fps"] = fps;
    j["inference_s"] = r.inference_s;
    j["simulated_time_s"] = r.sim_time_s;
    j["power_w"] = pw.total_w;
    j["energy_j"] = pw.total_w * frame_s;  // per frame at the pipeline's frame rate
    j["rate_hz"] = fps;
    // An FPGA design has no area of its own: it occupies LUTs, DSPs and RAMs of a fixed die
    // (see "resources"). The XCK26 die area is not published, so 0 by convention.
    j["area_mm2"] = 0.0;
    j["area_note"] = "FPGA: see resources (LUT, FF, DSP, BRAM, URAM); die area not published";
    j["bit_exact"] = r.bit_exact;
    j["reference_checked"] = r.reference_checked;
    j["mismatched_pixels"] = r.mismatched_pixels;
    j["config"] = in.params.json();
    j["dpu"] = {{"size", cfg.dpu.name},
                {"pixel_parallelism", cfg.dpu.pp},
                {"input_channel_parallelism", cfg.dpu.icp},
                {"output_channel_parallelism", cfg.dpu.ocp},
                {"peak_macs_per_cycle", cfg.dpu.macs_per_cycle()},
                {"clock_hz", cfg.dpu_clock_hz},
                {"macs_per_frame", prog.macs},
                {"ops_per_frame", 2 * prog.macs},
                {"params", prog.params},
                {"layers", prog.layers.size()},
                {"layers_on_dpu", prog.dpu_layers},
                {"layers_on_ps", prog.ps_layers},
                {"free_moves", prog.move_layers},
                {"dpu_subgraphs", prog.subgraphs},
                {"ps_macs_per_frame", prog.ps_macs}};
    {
      // Where the DPU stage's time goes: the PS-side launch and the fixed per-layer cost do not
      // shrink with the operations; the array time does; the rest is waiting for DDR.
      // The CPU-subgraph layers (PS fallback) are their own share: the DPU waits for them.
      double compute = 0, overhead = 0, ps_s = 0;
      for (size_t i = 0; i < prog.layers.size(); ++i) {
        const DpuLayer& D = prog.layers[i];
        compute += static_cast<double>(D.compute_cycles);
        overhead += static_cast<double>(D.overhead_cycles);
        if (D.place == Place::PS && i < r.layer_cycles.size())
          ps_s += static_cast<double>(r.layer_cycles[i]) / cfg.dpu_clock_hz;
      }
      compute /= cfg.dpu_clock_hz;
      overhead /= cfg.dpu_clock_hz;
      const double launch = cfg.dpu_launch_s * static_cast<double>(prog.subgraphs);
      const double stall = std::max(0.0, r.inference_s - launch - overhead - compute - ps_s);
      j["dpu_time"] = {{"launch_s", launch},
                       {"overhead_s", overhead},
                       {"compute_s", compute},
                       {"ps_layers_s", ps_s},
                       {"memory_stall_s", stall}};
    }
    j["layers"] = json::array();
    // The DPU's energy per frame is shared among the DPU layers by their time; a PS layer
    // spends its A53 core's active power for its time instead.
    double layer_cyc_total = 0;
    for (size_t i = 0; i < r.layer_cycles.size() && i < prog.layers.size(); ++i)
      if (prog.layers[i].place != Place::PS)
        layer_cyc_total += static_cast<double>(r.layer_cycles[i]);
    const double dpu_energy = pw.dpu_w * frame_s;
    const double a53_w = tech.get("a53_core_active_power", "uW") * 1e-6 * cfg.ps_clock_hz / 1.333e9;
    for (size_t i = 0; i < prog.layers.size(); ++i) {
      const DpuLayer& D = prog.layers[i];
      const double cyc = i < r.layer_cycles.size() ? static_cast<double>(r.layer_cycles[i]) : 0;
      j["layers"].push_back({{"name", D.name},
                             {"op", D.op},
                             {"placement", D.place == Place::PS ? "ps" : "dpu"},
                             {"engine", D.engine},
                             {"ps_reason", D.ps_reason},
                             {"ps_cycles", D.ps_cycles},
                             {"cycles", cyc},
                             {"compute_cycles", D.compute_cycles},
                             {"macs_dense", D.macs},
                             {"macs_executed", D.macs},
                             {"params", D.params},
                             {"mac_efficiency", D.mac_efficiency},
                             {"ddr_bytes", D.ddr_read_bytes + D.ddr_write_bytes},
                             {"energy_j", D.place == Place::PS  ? a53_w * cyc / cfg.dpu_clock_hz
                                          : layer_cyc_total > 0 ? dpu_energy * cyc / layer_cyc_total
                                                                : 0.0}});
    }
    j["components"] = json::array();
    for (const auto& p : pw.parts)
      j["components"].push_back({{"name", p.first},
                                 {"area_mm2", 0.0},
                                 {"energy_j", p.second * frame_s},
                                 {"power_w", p.second}});
    j["power_breakdown_w"] = {{"ps", pw.ps_w},   {"pl_static", pw.pl_static_w},
                              {"dpu", pw.dpu_w}, {"pl_kernels", pw.kernels_w},
                              {"ddr", pw.ddr_w}, {"total", pw.total_w}};
    j["stages"] = json::array();
    for (const Activity& a : r.stages)
      j["stages"].push_back({{"name", a.name},
                             {"kind", a.kind},
                             {"service_s", a.service_s},
                             {"busy_s", a.busy_s},
                             {"utilisation", a.busy_s / T},
                             {"ddr_bytes_per_frame", a.frames ? a.ddr_bytes / a.frames : 0}});
    j["utilisation"] = json::object();
    for (const Activity& a : r.resources) j["utilisation"][a.name] = std::min(1.0, a.busy_s / T);
    json res;
    res["device"] = R.device.to_json();
    res["total"] = R.total.to_json();
    res["blocks"] = json::object();
    for (const auto& b : R.blocks) res["blocks"][b.first] = b.second.to_json();
    res["percent"] = {{"lut", 100 * R.total.lut / R.device.lut},
                      {"ff", 100 * R.total.ff / R.device.ff},
                      {"dsp", 100 * R.total.dsp / R.device.dsp},
                      {"bram", 100 * R.total.bram / R.device.bram},
                      {"uram", 100 * R.total.uram / R.device.uram}};
    j["resources"] = res;
    j["tech"] = {{"table", tech.path.empty() ? tech.name : tech.path}};
    json src = json::object();
    for (const auto& e : tech.entries)
      src[e.first] = {
          {"value", e.second.value}, {"unit", e.second.unit}, {"source", e.second.source}};
    j["tech"]["entries"] = src;

    // Terminal statistics.
    StatGroup& st = o.stats;
    st.name = "fpga-soc";
    const bool mosaic = prog.input_mode == "mosaic";
    st.desc = std::string(mosaic ? "HSI segmentation pipeline" : "tensor-input pipeline") +
              " on a Kria K26 (" + r.mode + " mode)";
    st.add("frames", static_cast<double>(r.frames), "1", "frames simulated")
        .add("throughput", fps, "frames/s", "steady state")
        .add("latency", r.latency_mean_s * 1e3, "ms",
             mosaic ? "mean, sensor readout start to mask in DDR"
                    : "mean, input DMA start to result in DDR")
        .add("latency_max", r.latency_max_s * 1e3, "ms", "")
        .add("inference", r.inference_s * 1e3, "ms", "DPU stage per frame (launch + layers)")
        .add("power", pw.total_w, "W", "PS + PL static + DPU + PL kernels + DDR")
        .add("energy", pw.total_w * frame_s * 1e3, "mJ", "per frame");
    StatGroup& sg = st.group("stages", "per-frame service time and utilisation");
    for (const Activity& a : r.stages)
      sg.group(a.name)
          .add("time", a.service_s * 1e3, "ms", "per frame")
          .add("utilisation", 100 * a.busy_s / T, "%", "");
    StatGroup& lg = st.group("layers", "per layer: time per frame and where it runs");
    lg.add("on_dpu", static_cast<double>(prog.dpu_layers), "1", "layers on a DPU engine")
        .add("on_ps", static_cast<double>(prog.ps_layers), "1",
             "layers on the PS (CPU subgraphs, the DPU waits)")
        .add("free_moves", static_cast<double>(prog.move_layers), "1",
             "Flatten/Reshape folded into addressing")
        .add("dpu_subgraphs", static_cast<double>(prog.subgraphs), "1",
             "DPU jobs per frame, each paying dpu.launch_us");
    for (size_t i = 0; i < prog.layers.size(); ++i) {
      const DpuLayer& D = prog.layers[i];
      const double cyc = i < r.layer_cycles.size() ? static_cast<double>(r.layer_cycles[i]) : 0;
      const std::string where =
          D.place == Place::PS ? "PS: " + D.ps_reason : "DPU " + D.engine + " engine";
      lg.group(D.name).add("time", cyc / cfg.dpu_clock_hz * 1e3, "ms", D.op + " on " + where);
    }
    StatGroup& rg = st.group("resources", "FPGA resources used of the K26");
    rg.add("LUT", R.total.lut, "1", "of " + std::to_string(static_cast<int64_t>(R.device.lut)))
        .add("FF", R.total.ff, "1", "of " + std::to_string(static_cast<int64_t>(R.device.ff)))
        .add("DSP", R.total.dsp, "1", "of " + std::to_string(static_cast<int64_t>(R.device.dsp)))
        .add("BRAM", R.total.bram, "1",
             "BRAM36 of " + std::to_string(static_cast<int64_t>(R.device.bram)))
        .add("URAM", R.total.uram, "1",
             "of " + std::to_string(static_cast<int64_t>(R.device.uram)));
    StatGroup& pg = st.group("power", "W");
    for (const auto& p : pw.parts) pg.add(p.first, p.second, "W", "");
    j["stats"] = st.to_json();

    // Outputs: the class ids (masks [N, H, W] of a segmentation network, [N] of a classifier)
    // as float and as int8; with postprocess=none the output codes, dequantized and as int8.
    Shape os{r.frames};
    if (prog.input_mode == "mosaic") {
      os = {r.frames, prog.in_h, prog.in_w};
    } else {
      const Shape& ys = prog.out_shape;
      for (size_t k = prog.argmax ? 2 : 1; k < ys.size(); ++k) os.push_back(ys[k]);
    }
    o.output = Tensor(os);
    o.output_int8 = Tensor(os);
    o.output_int8.dtype = DType::I8;
    o.output_int8.f.clear();
    for (const auto& m : r.masks)
      for (uint8_t v : m) o.output_int8.i.push_back(v);
    for (const auto& c : r.codes)
      for (int8_t v : c) o.output_int8.i.push_back(v);
    for (size_t k = 0; k < o.output.f.size() && k < o.output_int8.i.size(); ++k)
      o.output.f[k] = prog.argmax ? static_cast<float>(o.output_int8.i[k])
                                  : static_cast<float>(o.output_int8.i[k]) * in.model.output_scale;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "fpga-soc (%s, %s @ %.0f MHz): %.1f frames/s, latency %.3f ms, inference %.3f "
                  "ms/frame, %.2f W, %.2f mJ/frame; %s %s the integer reference",
                  r.mode.c_str(), cfg.dpu.name.c_str(), cfg.dpu_clock_hz / 1e6, fps,
                  r.latency_mean_s * 1e3, r.inference_s * 1e3, pw.total_w,
                  pw.total_w * frame_s * 1e3,
                  prog.input_mode == "mosaic" ? "masks"
                  : prog.argmax               ? "class ids"
                                              : "output codes",
                  !r.reference_checked ? "not checked against"
                  : r.bit_exact        ? "bit-exact with"
                                       : "DIFFER from");
    o.summary = buf;
    if (prog.input_mode == "tensor")
      o.summary += "; layers: " + std::to_string(prog.dpu_layers) + " on the DPU, " +
                   std::to_string(prog.ps_layers) + " on the PS (" +
                   std::to_string(prog.subgraphs) + " DPU jobs per frame), " +
                   std::to_string(prog.move_layers) + " free moves";
    return o;
  }
};

}  // namespace
PRUNESIM_REGISTER_ARCH("fpga-soc", FpgaSocArch);
}  // namespace prunesim
