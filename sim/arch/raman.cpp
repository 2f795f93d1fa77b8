// The `raman` architecture: compiles the weight table into the RAMAN layer program, runs the
// SystemC model (mode "cycle", in a child process: SystemC elaborates once per process) or the
// analytical twin (mode "analytical": counts from the integer reference's activations), checks
// the outputs against the integer reference, and prices the counts with sim/power.
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "base/output.h"
#include "models/isolate.h"
#include "models/raman/core.h"
#include "models/raman/program.h"
#include "prune/errors.h"
#include "prune/fast_exec.h"
#include "sim/arch.h"
#include "sim/raman_power.h"
#include "sim/tech.h"

namespace prunesim {
namespace {

using namespace raman;
using nlohmann::json;
using Codes = std::vector<std::vector<int8_t>>;  // per sample, int8 codes (NCHW)

// The default rate (20 windows/s) only scales average power, so a model slower than 1/rate is
// simulated all the same, and the power is stated at the rate the core reaches.
std::string rate_warning(const RamanPowerEstimate& pw) {
  char b[320];
  std::snprintf(b, sizeof b,
                "--rate %.4g 1/s: one inference takes %.4g s, so the core reaches at most %.4g "
                "inferences/s; the power is given at that rate: %.4g uW",
                pw.rate_asked_hz, pw.latency_s, pw.rate_hz, pw.power_w * 1e6);
  return b;
}

void check_trace(const SimInput& in) {
  if (in.trace_path.empty()) return;
  if (in.mode != "cycle")
    throw InputError("--vcd " + in.trace_path + ": only --mode cycle writes a trace");
  if (in.trace_path.size() < 5 || in.trace_path.substr(in.trace_path.size() - 4) != ".vcd")
    throw InputError("--vcd " + in.trace_path + ": the trace file name must end in .vcd");
}

// The samples as the core sees them: the host quantizes each to int8 codes.
Codes input_codes(const SimInput& in, const RamanProgram& prog, Shape* sample) {
  const int64_t n = split_samples(in.model.graph, in.input, in.input_path, sample);
  const int64_t per = numel(*sample);
  Codes codes(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s) {
    auto& v = codes[static_cast<size_t>(s)];
    v.resize(static_cast<size_t>(per));
    for (int64_t k = 0; k < per; ++k)
      v[static_cast<size_t>(k)] =
          hls::quantize_value(in.input.f[static_cast<size_t>(s * per + k)], prog.input_scale);
  }
  return codes;
}

// The integer reference on every sample: the golden outputs, and (analytical mode) every layer's
// counts from its input codes, summed into counts->layers. Runs on the fast int8 executor
// (code for code run_int8's, prune/fast_exec.h), or on run_int8 itself when PRUNESIM_EXECUTOR
// is "reference"; the observer sees every layer of sample 0, then of sample 1, ... either way.
Codes reference_run(const SimInput& in, const RamanProgram& prog, const Codes& codes,
                    bool analytical, RamanCounts* counts) {
  const int64_t per_out = numel(in.model.graph.shape(in.model.output));
  const size_t layers = in.model.layers.size();
  std::map<std::string, std::vector<int8_t>> vals;
  size_t seen = 0;  // layers observed so far, over all samples
  const Int8Observer obs = [&](const QLayer& L, const std::vector<int8_t>& c, const Shape&) {
    const size_t li = seen % layers, s = seen / layers;
    ++seen;
    if (!analytical) return;
    // The host's codes of this sample are what the core's first layer reads.
    if (li == 0) vals[in.model.input] = codes[s];
    LayerCounts lc;
    analytical_layer(prog.layers[li], prog.cfg, vals.at(L.inputs[0]).data(), &lc);
    accumulate(counts->layers[li], lc);
    vals[L.output] = c;
  };
  ExecOptions eo;
  eo.threads = 1;
  const Int8Result r = reference_executor_selected() ? run_int8(in.model, in.input, obs)
                                                     : run_int8_fast(in.model, in.input, eo, obs);
  Codes ref_out(codes.size());
  for (size_t s = 0; s < codes.size(); ++s)
    for (int64_t k = 0; k < per_out; ++k)
      ref_out[s].push_back(static_cast<int8_t>(r.output_int8.i[s * per_out + k]));
  return ref_out;
}

// The SystemC model in a child process; the trace goes to a temporary name and is renamed once
// the run succeeded, like every other output (no half-written files). Returns the outputs; the
// counts replace counts->layers and the DMA figures.
Codes cycle_run(const SimInput& in, const RamanProgram& prog, const Codes& codes,
                RamanCounts* counts) {
  const bool own_temp = in.trace_write_path.empty();
  const std::string trace = in.trace_path.empty() ? ""
                            : !own_temp           ? in.trace_write_path
                                        : in.trace_path.substr(0, in.trace_path.size() - 4) +
                                              ".tmp." + std::to_string(::getpid()) + ".vcd";
  // Removed by the signal handler (base/output.h) if the run is interrupted.
  const int slot = trace.empty() || !own_temp ? -1 : track_temp(trace);
  std::string payload;
  try {
    payload = run_isolated([&] {
      CycleResult cr = simulate_cycle(prog, codes, trace);
      json j;
      j["layers"] = json::array();
      for (const LayerCounts& c : cr.counts.layers) j["layers"].push_back(counts_to_json(c));
      j["dma_in"] = cr.counts.dma_in_cycles;
      j["dma_out"] = cr.counts.dma_out_cycles;
      j["program_load"] = cr.counts.program_load_cycles;
      j["outputs"] = cr.outputs;
      j["sample_cycles"] = cr.sample_cycles;
      return j.dump();
    });
  } catch (...) {
    if (!trace.empty()) std::remove(trace.c_str());
    forget_temp(slot);
    throw;
  }
  if (own_temp && !trace.empty() && std::rename(trace.c_str(), in.trace_path.c_str()) != 0) {
    std::remove(trace.c_str());
    forget_temp(slot);
    throw InputError("--vcd " + in.trace_path + ": cannot write the trace");
  }
  forget_temp(slot);
  const json j = json::parse(payload);
  counts->layers.clear();
  for (const json& l : j["layers"]) counts->layers.push_back(counts_from_json(l));
  finish_counts(prog, counts);
  counts->dma_in_cycles = j["dma_in"];
  counts->dma_out_cycles = j["dma_out"];
  counts->program_load_cycles = j["program_load"];
  int64_t t = counts->dma_in_cycles + counts->dma_out_cycles;
  for (const LayerCounts& l : counts->layers) t += l.cycles;
  counts->total_cycles = t;
  const auto sample_cycles = j["sample_cycles"].get<std::vector<int64_t>>();
  if (!sample_cycles.empty()) {
    int64_t sum = 0;
    for (int64_t v : sample_cycles) sum += v;
    if (sum != counts->total_cycles)
      throw std::logic_error("raman: per-sample cycles disagree with the layer totals");
  }
  return j["outputs"].get<Codes>();
}

struct Mismatch {
  int64_t count = 0, first = -1;  // elements that differ; flat index of the first (-1: none)
};

Mismatch compare_outputs(const Codes& outs, const Codes& ref) {
  Mismatch m;
  for (size_t s = 0; s < outs.size(); ++s)
    for (size_t k = 0; k < outs[s].size() && k < ref[s].size(); ++k)
      if (outs[s][k] != ref[s][k]) {
        if (m.first < 0) m.first = static_cast<int64_t>(s * outs[s].size() + k);
        ++m.count;
      }
  return m;
}

double layer_energy(const RamanPowerEstimate& pw, size_t i) {
  return i < pw.layer_energy_j.size() ? pw.layer_energy_j[i] : 0.0;
}

// The report's figures (DESIGN.md "Interfaces" plus raman's own keys), all in base units.
json report_json(const SimInput& in, const RamanCounts& c, const RamanPowerEstimate& pw,
                 Mismatch m) {
  const RamanConfig& cfg = c.config;
  const double n = static_cast<double>(c.inferences);
  json r;
  r["arch"] = "raman";
  r["mode"] = in.mode;
  r["tables"] = in.tables_path;
  r["input"] = in.input_path;
  r["inferences"] = c.inferences;
  r["clock_hz"] = cfg.clock_hz;
  r["latency_cycles"] = static_cast<double>(c.total_cycles) / n;
  r["latency_s"] = static_cast<double>(c.total_cycles) / n / cfg.clock_hz;
  r["energy_j"] = pw.energy_j;
  r["power_w"] = pw.power_w;
  r["rate_hz"] = pw.rate_hz;
  r["rate_asked_hz"] = pw.rate_asked_hz;
  r["area_mm2"] = pw.area_mm2;
  r["warnings"] = json::array();
  if (pw.rate_asked_hz > pw.rate_hz) r["warnings"].push_back(rate_warning(pw));
  // Analytical mode takes its outputs from the integer reference: there is nothing to compare.
  if (in.mode == "cycle") {
    r["bit_exact_vs_reference"] = m.count == 0;
    r["output_mismatches"] = m.count;
    if (m.first >= 0) r["first_mismatch_element"] = m.first;
  } else {
    r["outputs_from"] = "integer reference (analytical mode)";
  }
  r["config"] = in.params.json();
  r["layers"] = json::array();
  for (size_t i = 0; i < c.layers.size(); ++i) {
    json l = counts_to_json(c.layers[i]);
    // Per inference, like the top-level figures.
    for (const char* k :
         {"cycles", "macs_dense", "macs_executed", "macs_skipped_zero", "macs_skipped_pruned"})
      l[k] = l[k].get<double>() / n;
    l["energy_j"] = layer_energy(pw, i);
    r["layers"].push_back(l);
  }
  r["components"] = json::array();
  for (const ComponentEstimate& ce : pw.components)
    r["components"].push_back({{"name", ce.name},
                               {"area_mm2", ce.area_mm2},
                               {"energy_j", ce.energy_j},
                               {"dynamic_j", ce.dynamic_j},
                               {"leakage_j", ce.leakage_j},
                               {"leakage_w", ce.leakage_w}});
  r["memory"] = {{"act_mem_bytes", cfg.act_mem_bytes},
                 {"act_peak_bytes", c.act_peak_bytes},
                 {"act_peak_no_overlap_bytes", c.act_peak_no_overlap_bytes},
                 {"act_used_bytes", c.act_used_bytes},
                 {"weight_mem_bytes", cfg.weight_mem_bytes},
                 {"weight_mem_used_bytes", c.weight_mem_used_bytes},
                 {"dma_in_cycles", static_cast<double>(c.dma_in_cycles) / n},
                 {"dma_out_cycles", static_cast<double>(c.dma_out_cycles) / n},
                 {"program_load_cycles", c.program_load_cycles}};
  r["power"] = pw.to_json();
  return r;
}

// The statistics tree (name, base unit, description; shown in ms, uJ, uW by the printers).
StatGroup stats_tree(const RamanCounts& c, const RamanPowerEstimate& pw, double latency_cycles,
                     double latency_s) {
  const double n = static_cast<double>(c.inferences);
  StatGroup st;
  st.name = "raman";
  st.desc = "per inference unless noted";
  st.add("latency", latency_cycles, "cycles", "DMA in + layers + DMA out")
      .add("latency_time", latency_s, "s", "at clock_hz", "ms")
      .add("energy", pw.energy_j, "J", "dynamic + leakage over the latency", "uJ")
      .add("power", pw.power_w, "W", "average at the inference rate", "uW")
      .add("rate", pw.rate_hz, "1/s", "inferences per second for power")
      .add("area", pw.area_mm2, "mm2", "core area");
  add_count_stats(st, c.layers, n);
  st.add("act_peak", c.act_peak_bytes, "B", "activation memory peak (IA/OA overlapped)")
      .add("act_peak_no_overlap", c.act_peak_no_overlap_bytes, "B",
           "what separate IA and OA buffers would need")
      .add("act_used", c.act_used_bytes, "B",
           "activation memory the whole allocation spans (smallest act_mem_bytes that runs)")
      .add("weight_mem_used", c.weight_mem_used_bytes, "B", "compiled layer images");
  StatGroup& lg = st.group("layers", "cycles and MACs per layer, per inference");
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCounts& l = c.layers[i];
    if (l.mode == "none") continue;
    StatGroup& g =
        lg.group(l.name, l.kind + ", " + l.mode + (l.encoding.empty() ? "" : ", " + l.encoding));
    g.add("cycles", l.cycles / n, "cycles", "")
        .add("macs_dense", l.macs_dense / n, "MAC", "")
        .add("macs_executed", l.macs_executed / n, "MAC", "")
        .add("energy", layer_energy(pw, i), "J", "", "uJ")
        .add("act_footprint", l.act_footprint_bytes, "B", "IA and OA span");
  }
  StatGroup& pe = st.group("pes", "busy/stalled/gated cycles per PE (all layers, per inference)");
  for (int64_t p = 0; p < c.config.pe_count; ++p) {
    int64_t b = 0, s = 0, g = 0;
    for (const LayerCounts& l : c.layers)
      if (!l.busy_per_pe.empty()) {
        b += l.busy_per_pe[static_cast<size_t>(p)];
        s += l.stalled_per_pe[static_cast<size_t>(p)];
        g += l.gated_per_pe[static_cast<size_t>(p)];
      }
    pe.group("pe" + std::to_string(p))
        .add("busy", b / n, "cycles", "")
        .add("stalled", s / n, "cycles", "")
        .add("gated", g / n, "cycles", "");
  }
  StatGroup& cg = st.group("components", "energy per inference and area");
  for (const ComponentEstimate& ce : pw.components)
    cg.group(ce.name).add("energy", ce.energy_j, "J", "", "uJ").add("area", ce.area_mm2, "mm2", "");
  return st;
}

// The outputs as codes and dequantized like the integer reference's.
void set_outputs(const RamanProgram& prog, int64_t inferences, const Codes& outs, SimOutput* o) {
  Shape os = prog.output_shape;
  os[0] = inferences;
  o->output = Tensor(os);
  o->output_int8 = Tensor(os);
  o->output_int8.dtype = DType::I8;
  o->output_int8.f.clear();
  for (const auto& v : outs) o->output_int8.i.insert(o->output_int8.i.end(), v.begin(), v.end());
  for (size_t k = 0; k < o->output.f.size() && k < o->output_int8.i.size(); ++k)
    o->output.f[k] =
        hls::dequantize_value(static_cast<int8_t>(o->output_int8.i[k]), prog.output_scale);
}

std::string summary_line(const SimInput& in, const RamanConfig& cfg, const json& r,
                         const RamanPowerEstimate& pw, Mismatch m) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "raman (%s): %.0f cycles = %.3f ms at %.3g MHz, %.3f uJ/inference, %.2f uW at "
                "%.3g inferences/s, %.4f mm2; outputs %s the integer reference",
                in.mode.c_str(), r["latency_cycles"].get<double>(),
                r["latency_s"].get<double>() * 1e3, cfg.clock_hz / 1e6, pw.energy_j * 1e6,
                pw.power_w * 1e6, pw.rate_hz, pw.area_mm2,
                in.mode != "cycle" ? "taken from"
                : m.count == 0     ? "bit-exact with"
                                   : "DIFFER from");
  return buf;
}

class RamanArch : public Arch {
 public:
  std::string description() const override {
    return "RAMAN-like sparse tinyML accelerator (65 nm, 2 MHz): Gustavson row-wise dataflow, "
           "zero skipping, clock gating, in-place activation memory";
  }
  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> s = RamanConfig::specs();
    s.push_back(
        tech_param("raman65", "technology table: a name in sim/power/data or a path to a .json"));
    return s;
  }
  std::vector<std::string> encodings() const override { return decoded_encodings(); }
  std::vector<std::string> modes() const override { return {"cycle", "analytical"}; }
  // The memories and the accumulator width the model needs (fit_needs); PE count, accumulators
  // per PE and everything else stay as set (a layer wider than they hold folds).
  ParamValues fit(const SimInput& in) const override {
    const RamanConfig cfg = RamanConfig::from(in.params);
    const FitNeeds n = fit_needs(in.model, in.summary, in.masks, cfg, in.tables_path);
    ParamValues p = in.params;
    p.set("act_mem_bytes", n.act_mem_bytes);
    p.set("weight_mem_bytes", n.weight_mem_bytes);
    p.set("acc_bits", n.acc_bits);
    return p;
  }
  double default_rate_hz() const override { return 20.0; }  // docs/references.md §1: 20 windows/s
  // The balanced encoding is only decodable by an array with the PE mapping it was pruned for.
  nlohmann::json scheme_hints(const ParamValues& p) const override {
    nlohmann::json h = nlohmann::json::object();
    if (p.has("pe_count")) h["pes"] = p.i("pe_count");
    if (p.has("cluster_size")) h["cluster"] = p.i("cluster_size");
    return h;
  }

  SimOutput simulate(const SimInput& in) const override {
    const RamanConfig cfg = RamanConfig::from(in.params);
    check_trace(in);
    const TechTable tech = load_tech_param(in.params);
    const RamanProgram prog = compile(in.model, in.summary, in.masks, cfg, in.tables_path);
    Shape sample;
    const Codes codes = input_codes(in, prog, &sample);
    RamanCounts counts;
    counts.inferences = static_cast<int64_t>(codes.size());
    for (const LayerProgram& L : prog.layers) counts.layers.push_back(empty_counts(L, cfg));
    const bool analytical = in.mode == "analytical";
    const Codes ref_out = reference_run(in, prog, codes, analytical, &counts);
    Codes outs = ref_out;
    if (analytical)
      finish_counts(prog, &counts);
    else
      outs = cycle_run(in, prog, codes, &counts);
    const Mismatch m = compare_outputs(outs, ref_out);
    const double rate = in.rate_hz > 0 ? in.rate_hz : default_rate_hz();
    const RamanPowerEstimate pw = estimate_raman(counts, tech, rate);
    SimOutput o;
    o.report = report_json(in, counts, pw, m);
    o.stats = stats_tree(counts, pw, o.report["latency_cycles"].get<double>(),
                         o.report["latency_s"].get<double>());
    o.report["stats"] = o.stats.to_json();
    set_outputs(prog, counts.inferences, outs, &o);
    o.summary = summary_line(in, cfg, o.report, pw, m);
    return o;
  }
};

}  // namespace
PRUNESIM_REGISTER_ARCH("raman", RamanArch);
}  // namespace prunesim
