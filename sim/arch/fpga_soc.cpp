// The "fpga-soc" architecture: adapts models/fpga_soc (the HSI segmentation pipeline on a Kria
// K26) to `prunesim simulate`, `config --dump`, `sweep` and `compare`. It checks the design
// against the device's resources, runs the SystemC model (in a forked child: SystemC elaborates
// once per process) or the analytical twin, and prices the model's activity with sim/power
// (sim/fpga_soc_power.h and the table sim/power/data/k26.json, every number there sourced).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/fpga_soc/soc.h"
#include "models/isolate.h"
#include "prune/errors.h"
#include "sim/arch.h"
#include "sim/fpga_soc_power.h"
#include "sim/tech.h"

namespace prunesim {
namespace {

using json = nlohmann::json;
using namespace fpga_soc;

// What every part of the report needs: the run and its prices.
struct Run {
  const SimInput& in;
  const SocConfig& cfg;
  const DpuProgram& prog;
  const SocResult& r;
  const FpgaResourceReport& R;
  const FpgaSocPower& pw;
  const TechTable& tech;
  double fps = 0, frame_s = 0, T = 1;  // frame rate, 1/frame rate, simulated time (s)
};

json dpu_json(const Run& x) {
  const SocConfig& cfg = x.cfg;
  const DpuProgram& prog = x.prog;
  return {{"size", cfg.dpu.name},
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
}

// Where the DPU stage's time goes: the PS-side launch and the fixed per-layer cost do not
// shrink with the operations; the array time does; the rest is waiting for DDR. The
// CPU-subgraph layers (PS fallback) are their own share: the DPU waits for them.
json dpu_time_json(const Run& x) {
  double compute = 0, overhead = 0, ps_s = 0;
  for (size_t i = 0; i < x.prog.layers.size(); ++i) {
    const DpuLayer& D = x.prog.layers[i];
    compute += static_cast<double>(D.compute_cycles);
    overhead += static_cast<double>(D.overhead_cycles);
    if (D.place == Place::PS && i < x.r.layer_cycles.size())
      ps_s += static_cast<double>(x.r.layer_cycles[i]) / x.cfg.dpu_clock_hz;
  }
  compute /= x.cfg.dpu_clock_hz;
  overhead /= x.cfg.dpu_clock_hz;
  const double launch = x.cfg.dpu_launch_s * static_cast<double>(x.prog.subgraphs);
  const double stall = std::max(0.0, x.r.inference_s - launch - overhead - compute - ps_s);
  return {{"launch_s", launch},
          {"overhead_s", overhead},
          {"compute_s", compute},
          {"ps_layers_s", ps_s},
          {"memory_stall_s", stall}};
}

double layer_cycles(const Run& x, size_t i) {
  return i < x.r.layer_cycles.size() ? static_cast<double>(x.r.layer_cycles[i]) : 0;
}

// The DPU's energy per frame is shared among the DPU layers by their time; a PS layer spends
// its A53 core's active power for its time instead.
json layers_json(const Run& x) {
  double dpu_cycles = 0;
  for (size_t i = 0; i < x.r.layer_cycles.size() && i < x.prog.layers.size(); ++i)
    if (x.prog.layers[i].place != Place::PS) dpu_cycles += static_cast<double>(x.r.layer_cycles[i]);
  const double dpu_energy = x.pw.dpu_w * x.frame_s;
  json ls = json::array();
  for (size_t i = 0; i < x.prog.layers.size(); ++i) {
    const DpuLayer& D = x.prog.layers[i];
    const double cyc = layer_cycles(x, i);
    ls.push_back({{"name", D.name},
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
                  {"energy_j", D.place == Place::PS ? x.pw.a53_core_w * cyc / x.cfg.dpu_clock_hz
                               : dpu_cycles > 0     ? dpu_energy * cyc / dpu_cycles
                                                    : 0.0}});
  }
  return ls;
}

json resources_json(const FpgaResourceReport& R) {
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
  return res;
}

json tech_json(const TechTable& tech) {
  json t = {{"table", tech.path.empty() ? tech.name : tech.path}};
  json src = json::object();
  for (const auto& e : tech.entries)
    src[e.first] = {
        {"value", e.second.value}, {"unit", e.second.unit}, {"source", e.second.source}};
  t["entries"] = src;
  return t;
}

// The report's figures (DESIGN.md "Interfaces" plus the pipeline's own keys), in base units.
json report_json(const Run& x) {
  const SocResult& r = x.r;
  const FpgaSocPower& pw = x.pw;
  json j;
  j["arch"] = "fpga-soc";
  j["mode"] = r.mode;
  j["tables"] = x.in.tables_path;
  j["input"] = x.in.input_path;
  j["frames"] = r.frames;
  j["input_mode"] = x.prog.input_mode;
  j["postprocess"] = x.prog.argmax ? "argmax" : "none";
  j["clock_hz"] = x.cfg.dpu_clock_hz;
  j["latency_s"] = r.latency_mean_s;
  j["latency_cycles"] = std::llround(r.latency_mean_s * x.cfg.dpu_clock_hz);
  j["latency_min_s"] = r.latency_min_s;
  j["latency_max_s"] = r.latency_max_s;
  j["throughput_fps"] = x.fps;
  j["inference_s"] = r.inference_s;
  j["simulated_time_s"] = r.sim_time_s;
  j["power_w"] = pw.total_w;
  j["energy_j"] = pw.total_w * x.frame_s;  // per frame at the pipeline's frame rate
  j["rate_hz"] = x.fps;
  // An FPGA design has no area of its own: it occupies LUTs, DSPs and RAMs of a fixed die
  // (see "resources"). The XCK26 die area is not published, so 0 by convention.
  j["area_mm2"] = 0.0;
  j["area_note"] = "FPGA: see resources (LUT, FF, DSP, BRAM, URAM); die area not published";
  j["bit_exact"] = r.bit_exact;
  j["reference_checked"] = r.reference_checked;
  j["mismatched_pixels"] = r.mismatched_pixels;
  j["config"] = x.in.params.json();
  j["dpu"] = dpu_json(x);
  j["dpu_time"] = dpu_time_json(x);
  j["layers"] = layers_json(x);
  j["components"] = json::array();
  for (const auto& p : pw.parts)
    j["components"].push_back({{"name", p.first},
                               {"area_mm2", 0.0},
                               {"energy_j", p.second * x.frame_s},
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
                           {"utilisation", a.busy_s / x.T},
                           {"ddr_bytes_per_frame", a.frames ? a.ddr_bytes / a.frames : 0}});
  j["utilisation"] = json::object();
  for (const Activity& a : r.resources) j["utilisation"][a.name] = std::min(1.0, a.busy_s / x.T);
  j["resources"] = resources_json(x.R);
  j["tech"] = tech_json(x.tech);
  return j;
}

// The statistics tree for the terminal (base units; shown in ms, mJ and %).
StatGroup stats_tree(const Run& x) {
  const SocResult& r = x.r;
  const DpuProgram& prog = x.prog;
  StatGroup st;
  st.name = "fpga-soc";
  const bool mosaic = prog.input_mode == "mosaic";
  st.desc = std::string(mosaic ? "HSI segmentation pipeline" : "tensor-input pipeline") +
            " on a Kria K26 (" + r.mode + " mode)";
  st.add("frames", static_cast<double>(r.frames), "1", "frames simulated")
      .add("throughput", x.fps, "frames/s", "steady state")
      .add("latency", r.latency_mean_s, "s",
           mosaic ? "mean, sensor readout start to mask in DDR"
                  : "mean, input DMA start to result in DDR",
           "ms")
      .add("latency_max", r.latency_max_s, "s", "", "ms")
      .add("inference", r.inference_s, "s", "DPU stage per frame (launch + layers)", "ms")
      .add("power", x.pw.total_w, "W", "PS + PL static + DPU + PL kernels + DDR")
      .add("energy", x.pw.total_w * x.frame_s, "J", "per frame", "mJ");
  StatGroup& sg = st.group("stages", "per-frame service time and utilisation");
  for (const Activity& a : r.stages)
    sg.group(a.name)
        .add("time", a.service_s, "s", "per frame", "ms")
        .add("utilisation", a.busy_s / x.T, "1", "", "%");
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
    const std::string where =
        D.place == Place::PS ? "PS: " + D.ps_reason : "DPU " + D.engine + " engine";
    lg.group(D.name).add("time", layer_cycles(x, i) / x.cfg.dpu_clock_hz, "s",
                         D.op + " on " + where, "ms");
  }
  const FpgaResources& t = x.R.total;
  const FpgaResources& d = x.R.device;
  auto of = [](double v) { return std::to_string(static_cast<int64_t>(v)); };
  st.group("resources", "FPGA resources used of the K26")
      .add("LUT", t.lut, "1", "of " + of(d.lut))
      .add("FF", t.ff, "1", "of " + of(d.ff))
      .add("DSP", t.dsp, "1", "of " + of(d.dsp))
      .add("BRAM", t.bram, "1", "BRAM36 of " + of(d.bram))
      .add("URAM", t.uram, "1", "of " + of(d.uram));
  StatGroup& pg = st.group("power", "W");
  for (const auto& p : x.pw.parts) pg.add(p.first, p.second, "W", "");
  return st;
}

// The class ids (masks [N, H, W] of a segmentation network, [N] of a classifier) as float and
// as int8; with postprocess=none the output codes, dequantized and as int8.
void set_outputs(const Run& x, SimOutput* o) {
  const DpuProgram& prog = x.prog;
  Shape os{x.r.frames};
  if (prog.input_mode == "mosaic") {
    os = {x.r.frames, prog.in_h, prog.in_w};
  } else {
    const Shape& ys = prog.out_shape;
    for (size_t k = prog.argmax ? 2 : 1; k < ys.size(); ++k) os.push_back(ys[k]);
  }
  o->output = Tensor(os);
  o->output_int8 = Tensor(os);
  o->output_int8.dtype = DType::I8;
  o->output_int8.f.clear();
  for (const auto& m : x.r.masks)
    for (uint8_t v : m) o->output_int8.i.push_back(v);
  for (const auto& c : x.r.codes)
    for (int8_t v : c) o->output_int8.i.push_back(v);
  for (size_t k = 0; k < o->output.f.size() && k < o->output_int8.i.size(); ++k)
    o->output.f[k] = prog.argmax
                         ? static_cast<float>(o->output_int8.i[k])
                         : static_cast<float>(o->output_int8.i[k]) * x.in.model.output_scale;
}

std::string summary_line(const Run& x) {
  const DpuProgram& prog = x.prog;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "fpga-soc (%s, %s @ %.0f MHz): %.1f frames/s, latency %.3f ms, inference %.3f "
                "ms/frame, %.2f W, %.2f mJ/frame; %s %s the integer reference",
                x.r.mode.c_str(), x.cfg.dpu.name.c_str(), x.cfg.dpu_clock_hz / 1e6, x.fps,
                x.r.latency_mean_s * 1e3, x.r.inference_s * 1e3, x.pw.total_w,
                x.pw.total_w * x.frame_s * 1e3,
                prog.input_mode == "mosaic" ? "masks"
                : prog.argmax               ? "class ids"
                                            : "output codes",
                !x.r.reference_checked ? "not checked against"
                : x.r.bit_exact        ? "bit-exact with"
                                       : "DIFFER from");
  std::string s = buf;
  if (prog.input_mode == "tensor")
    s += "; layers: " + std::to_string(prog.dpu_layers) + " on the DPU, " +
         std::to_string(prog.ps_layers) + " on the PS (" + std::to_string(prog.subgraphs) +
         " DPU jobs per frame), " + std::to_string(prog.move_layers) + " free moves";
  return s;
}

class FpgaSocArch : public Arch {
 public:
  std::string description() const override {
    return "Zynq UltraScale+ MPSoC (Kria K26) pipeline: HSI mosaic sensor with PS/PL "
           "preprocessing (or a tensor input quantized on the PS/PL), DPU with a PS fallback for "
           "the layers it cannot run, argmax, pipelined over frames";
  }
  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> s = param_specs();
    s.push_back(tech_param("k26",
                           "technology/resource table: a name in sim/power/data or a path to a "
                           ".json",
                           "sim/power/data/k26.json"));
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
    const TechTable tech = load_tech_param(in.params);
    cfg.input = resolve_input_mode(in.model, cfg, in.input, in.input_path);
    const DpuProgram prog = compile_dpu(in.model, cfg, in.tables_path);
    const FpgaResourceReport R = fpga_soc_resources(tech, cfg, prog);
    check_fpga_fits(R, cfg);
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
    const FpgaSocPower pw = estimate_fpga_soc_power(tech, cfg, r, R);
    Run x{in, cfg, prog, r, R, pw, tech};
    x.fps = r.throughput_fps;
    x.frame_s = x.fps > 0 ? 1.0 / x.fps : 0.0;
    x.T = r.sim_time_s > 0 ? r.sim_time_s : 1.0;
    SimOutput o;
    o.report = report_json(x);
    o.stats = stats_tree(x);
    o.report["stats"] = o.stats.to_json();
    set_outputs(x, &o);
    o.summary = summary_line(x);
    return o;
  }
};

}  // namespace
PRUNESIM_REGISTER_ARCH("fpga-soc", FpgaSocArch);
}  // namespace prunesim
