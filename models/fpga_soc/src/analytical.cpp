// The analytical twin of the pipeline (no events): every stage's per-frame time from the same cost
// formulas as the SystemC model, the DDR bandwidth split among the stages in proportion to their
// traffic, throughput from the slowest stage, latency as the sum of stage times. Also the result
// bookkeeping both modes share (masks, reference check, latency statistics, JSON).
#include <algorithm>
#include <cmath>
#include <map>

#include "models/fpga_soc/soc.h"

namespace prunesim {
namespace fpga_soc {

void add_resources(const SocConfig& cfg, const std::vector<double>& core_busy, double dpu_busy_s,
                   int64_t dpu_ops, double ddr_busy_s, int64_t ddr_bytes, SocResult& r) {
  for (int c = 0; c < cfg.ps_cores; ++c) {
    Activity a;
    a.name = "ps.core" + std::to_string(c);
    a.kind = "ps";
    a.busy_s = core_busy[static_cast<size_t>(c)];
    r.resources.push_back(a);
  }
  for (const Activity& s : r.stages)
    if (s.kind == "pl") {
      Activity a = s;
      a.name = "pl." + s.name.substr(0, s.name.find(' '));
      r.resources.push_back(a);
    }
  Activity d;
  d.name = "dpu.array";
  d.kind = "dpu";
  d.busy_s = dpu_busy_s;
  d.ops = dpu_ops;
  r.resources.push_back(d);
  Activity m;
  m.name = "ddr";
  m.kind = "ddr";
  m.busy_s = ddr_busy_s;
  m.ddr_bytes = ddr_bytes;
  r.resources.push_back(m);
}

void finish_result(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                   const Frames& frames, int64_t n, const std::vector<double>& start_s,
                   const std::vector<double>& done_s, SocResult& r) {
  // Functional results: the cycle model's stages filled r.masks (or r.codes); the analytical
  // twin computes them here. Each distinct input frame is checked against the reference once.
  if (r.masks.empty() && r.codes.empty())
    for (int64_t k = 0; k < n; ++k) {
      if (k >= frames.n) {
        if (prog.argmax)
          r.masks.push_back(r.masks[static_cast<size_t>(k % frames.n)]);
        else
          r.codes.push_back(r.codes[static_cast<size_t>(k % frames.n)]);
        continue;
      }
      FrameData d = run_frame(q, prog, cfg, frames, k);
      if (prog.argmax)
        r.masks.push_back(std::move(d.mask));
      else
        r.codes.push_back(std::move(d.scores));
    }
  r.reference_checked = cfg.check_reference;
  r.bit_exact = true;
  auto count = [&](const auto& ref, const auto& got) {
    for (size_t i = 0; i < ref.size(); ++i)
      if (i >= got.size() || ref[i] != got[i]) r.mismatched_pixels++;
  };
  if (cfg.check_reference)
    for (int64_t k = 0; k < std::min(n, frames.n); ++k) {
      const FrameData ref = reference_frame(q, prog, cfg, frames, k);
      if (prog.argmax)
        count(ref.mask, r.masks.at(static_cast<size_t>(k)));
      else
        count(ref.scores, r.codes.at(static_cast<size_t>(k)));
    }
  if (!cfg.check_reference) r.bit_exact = false;
  if (r.mismatched_pixels > 0) r.bit_exact = false;
  // Latency: readout start of a frame to its mask in memory.
  double sum = 0, lo = 1e300, hi = 0;
  for (size_t k = 0; k < done_s.size() && k < start_s.size(); ++k) {
    const double l = done_s[k] - start_s[k];
    sum += l;
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  const size_t m = std::min(done_s.size(), start_s.size());
  r.latency_mean_s = m ? sum / static_cast<double>(m) : 0.0;
  r.latency_min_s = m ? lo : 0.0;
  r.latency_max_s = hi;
  if (done_s.size() >= 2)
    r.throughput_fps = static_cast<double>(done_s.size() - 1) / (done_s.back() - done_s.front());
  else if (!done_s.empty() && done_s[0] > 0)
    r.throughput_fps = 1.0 / r.latency_mean_s;
}

SocResult run_analytical(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                         const Frames& frames) {
  const int64_t n = cfg.frames > 0 ? cfg.frames : frames.n;
  const auto plan = plan_stages(cfg, prog);
  const auto costs = step_costs(cfg, prog);
  const double bw = cfg.ddr_bytes_per_cycle * cfg.ddr_efficiency * cfg.ddr_clock_hz;  // B/s
  const double lat = static_cast<double>(cfg.ddr_latency_cycles) / cfg.ddr_clock_hz;
  SocResult r;
  r.mode = "analytical";
  r.frames = n;
  // DPU layer times: overhead + max(array, memory at full bandwidth) + request latency, and a
  // launch before each DPU subgraph; a PS layer: max(A53 time, memory) + request latency.
  double dpu_s = 0, dpu_compute_s = 0, dpu_bytes = 0, ps_layers_s = 0;
  for (const DpuLayer& D : prog.layers) {
    const bool on_ps = D.place == Place::PS;
    const double comp =
        on_ps ? static_cast<double>(D.ps_cycles) / cfg.ps_clock_hz
              : static_cast<double>(D.overhead_cycles + D.compute_cycles) / cfg.dpu_clock_hz;
    const double bytes = static_cast<double>(D.ddr_read_bytes + D.ddr_write_bytes);
    const double t = std::max(comp, bytes / bw) + (bytes > 0 ? lat : 0.0);
    r.layer_cycles.push_back(static_cast<int64_t>(std::llround(t * cfg.dpu_clock_hz)));
    dpu_s += t + (D.launch ? cfg.dpu_launch_s : 0.0);
    if (on_ps) ps_layers_s += t;
    dpu_compute_s += static_cast<double>(D.compute_cycles) / cfg.dpu_clock_hz;
    dpu_bytes += bytes;
  }
  std::vector<double> t(plan.size(), 0.0);
  std::vector<double> bytes(plan.size(), 0.0);
  double total_bytes = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const StageDef& s = plan[i];
    bytes[i] = s.kind == "dpu" ? dpu_bytes : static_cast<double>(s.read_bytes + s.write_bytes);
    total_bytes += bytes[i];
    if (s.kind == "dpu")
      t[i] = dpu_s;
    else
      t[i] = std::max(s.compute_s, bytes[i] / bw) + (bytes[i] > 0 ? lat : 0.0);
  }
  // Steady state: the slowest stage, or the DDR if the frame's total traffic takes longer.
  double period = total_bytes / bw;
  for (double x : t) period = std::max(period, x);
  if (cfg.sensor_fps > 0) period = std::max(period, 1.0 / cfg.sensor_fps);
  double latency = 0;
  for (double x : t) latency += x;
  std::vector<double> start_s, done_s;
  for (int64_t k = 0; k < n; ++k) {
    start_s.push_back(static_cast<double>(k) * period);
    done_s.push_back(static_cast<double>(k) * period + latency);
  }
  r.sim_time_s = done_s.empty() ? 0 : done_s.back();
  std::vector<double> core_busy(static_cast<size_t>(cfg.ps_cores), 0.0);
  for (size_t i = 0; i < plan.size(); ++i) {
    Activity a;
    a.name = plan[i].name;
    a.kind = plan[i].kind;
    a.frames = n;
    a.service_s = t[i];
    a.busy_s = t[i] * static_cast<double>(n);
    a.ddr_bytes = static_cast<int64_t>(bytes[i]) * n;
    if (plan[i].kind == "dpu") {
      a.ops = prog.macs * n;
      r.inference_s = t[i];
    } else {
      for (Step k : plan[i].steps) a.ops += costs[static_cast<size_t>(k)].elements * n;
    }
    if (plan[i].kind == "ps") core_busy[static_cast<size_t>(plan[i].core)] += a.busy_s;
    if (plan[i].kind == "dpu" && plan[i].core >= 0)
      core_busy[static_cast<size_t>(plan[i].core)] += ps_layers_s * static_cast<double>(n);
    r.stages.push_back(a);
  }
  add_resources(cfg, core_busy, dpu_compute_s * static_cast<double>(n), prog.macs * n,
                total_bytes / bw * static_cast<double>(n), static_cast<int64_t>(total_bytes) * n,
                r);
  finish_result(q, prog, cfg, frames, n, start_s, done_s, r);
  if (n >= 1) r.throughput_fps = 1.0 / period;
  return r;
}

namespace {
nlohmann::json act_json(const Activity& a) {
  return {{"name", a.name},     {"kind", a.kind},
          {"busy_s", a.busy_s}, {"service_s", a.service_s},
          {"frames", a.frames}, {"ddr_bytes", a.ddr_bytes},
          {"ops", a.ops}};
}
Activity act_from(const nlohmann::json& j) {
  Activity a;
  a.name = j.at("name");
  a.kind = j.at("kind");
  a.busy_s = j.at("busy_s");
  a.service_s = j.at("service_s");
  a.frames = j.at("frames");
  a.ddr_bytes = j.at("ddr_bytes");
  a.ops = j.at("ops");
  return a;
}
}  // namespace

nlohmann::json SocResult::to_json() const {
  nlohmann::json j;
  j["mode"] = mode;
  j["masks"] = masks;
  j["codes"] = codes;
  j["stages"] = nlohmann::json::array();
  for (const auto& a : stages) j["stages"].push_back(act_json(a));
  j["resources"] = nlohmann::json::array();
  for (const auto& a : resources) j["resources"].push_back(act_json(a));
  j["layer_cycles"] = layer_cycles;
  j["sim_time_s"] = sim_time_s;
  j["throughput_fps"] = throughput_fps;
  j["latency_mean_s"] = latency_mean_s;
  j["latency_min_s"] = latency_min_s;
  j["latency_max_s"] = latency_max_s;
  j["inference_s"] = inference_s;
  j["frames"] = frames;
  j["reference_checked"] = reference_checked;
  j["bit_exact"] = bit_exact;
  j["mismatched_pixels"] = mismatched_pixels;
  return j;
}

SocResult SocResult::from_json(const nlohmann::json& j) {
  SocResult r;
  r.mode = j.at("mode");
  r.masks = j.at("masks").get<std::vector<std::vector<uint8_t>>>();
  r.codes = j.at("codes").get<std::vector<std::vector<int8_t>>>();
  for (const auto& a : j.at("stages")) r.stages.push_back(act_from(a));
  for (const auto& a : j.at("resources")) r.resources.push_back(act_from(a));
  r.layer_cycles = j.at("layer_cycles").get<std::vector<int64_t>>();
  r.sim_time_s = j.at("sim_time_s");
  r.throughput_fps = j.at("throughput_fps");
  r.latency_mean_s = j.at("latency_mean_s");
  r.latency_min_s = j.at("latency_min_s");
  r.latency_max_s = j.at("latency_max_s");
  r.inference_s = j.at("inference_s");
  r.frames = j.at("frames");
  r.reference_checked = j.at("reference_checked");
  r.bit_exact = j.at("bit_exact");
  r.mismatched_pixels = j.at("mismatched_pixels");
  return r;
}

}  // namespace fpga_soc
}  // namespace prunesim
