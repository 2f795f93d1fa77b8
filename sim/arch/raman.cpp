// The `raman` architecture: compiles the weight table into the RAMAN layer program, runs the
// SystemC model (mode "cycle", in a child process: SystemC elaborates once per process) or the
// analytical twin (mode "analytical": counts from the integer reference's activations), checks
// the outputs against the integer reference, and prices the counts with sim/power.
#include <unistd.h>

#include <cstdio>

#include <cmath>

#include "models/isolate.h"
#include "models/raman/core.h"
#include "models/raman/program.h"
#include "prune/errors.h"
#include "sim/arch.h"
#include "sim/raman_power.h"
#include "sim/tech.h"

namespace prunesim {
namespace {

using namespace raman;
using nlohmann::json;

json counts_json(const LayerCounts& c) {
  return {{"name", c.name},
          {"kind", c.kind},
          {"mode", c.mode},
          {"encoding", c.encoding},
          {"cycles", c.cycles},
          {"macs_dense", c.macs_dense},
          {"macs_executed", c.macs_executed},
          {"macs_skipped_zero", c.macs_skipped_zero},
          {"macs_skipped_pruned", c.macs_skipped_pruned},
          {"acc_updates", c.acc_updates},
          {"broadcasts", c.broadcasts},
          {"act_reads", c.act_reads},
          {"act_read_bytes", c.act_read_bytes},
          {"act_writes", c.act_writes},
          {"act_write_bytes", c.act_write_bytes},
          {"weight_reads", c.weight_reads},
          {"weight_read_bits", c.weight_read_bits},
          {"decoder_steps", c.decoder_steps},
          {"lfsr_steps", c.lfsr_steps},
          {"ppu_ops", c.ppu_ops},
          {"zero_checked_values", c.zero_checks},
          {"pe_busy_cycles", c.pe_busy},
          {"pe_stalled_cycles", c.pe_stalled},
          {"pe_gated_cycles", c.pe_gated},
          {"busy_cycles_per_pe", c.busy_per_pe},
          {"stalled_cycles_per_pe", c.stalled_per_pe},
          {"gated_cycles_per_pe", c.gated_per_pe},
          {"act_in_bytes", c.act_in_bytes},
          {"act_out_bytes", c.act_out_bytes},
          {"act_in_offset_bytes", c.act_in_base},
          {"act_out_offset_bytes", c.act_out_base},
          {"act_footprint_bytes", c.act_footprint_bytes},
          {"weight_bytes", c.weight_bytes}};
}

LayerCounts counts_from(const json& j) {
  LayerCounts c;
  c.name = j["name"];
  c.kind = j["kind"];
  c.mode = j["mode"];
  c.encoding = j["encoding"];
  c.cycles = j["cycles"];
  c.macs_dense = j["macs_dense"];
  c.macs_executed = j["macs_executed"];
  c.macs_skipped_zero = j["macs_skipped_zero"];
  c.macs_skipped_pruned = j["macs_skipped_pruned"];
  c.acc_updates = j["acc_updates"];
  c.broadcasts = j["broadcasts"];
  c.act_reads = j["act_reads"];
  c.act_read_bytes = j["act_read_bytes"];
  c.act_writes = j["act_writes"];
  c.act_write_bytes = j["act_write_bytes"];
  c.weight_reads = j["weight_reads"];
  c.weight_read_bits = j["weight_read_bits"];
  c.decoder_steps = j["decoder_steps"];
  c.lfsr_steps = j["lfsr_steps"];
  c.ppu_ops = j["ppu_ops"];
  c.zero_checks = j["zero_checked_values"];
  c.pe_busy = j["pe_busy_cycles"];
  c.pe_stalled = j["pe_stalled_cycles"];
  c.pe_gated = j["pe_gated_cycles"];
  c.busy_per_pe = j["busy_cycles_per_pe"].get<std::vector<int64_t>>();
  c.stalled_per_pe = j["stalled_cycles_per_pe"].get<std::vector<int64_t>>();
  c.gated_per_pe = j["gated_cycles_per_pe"].get<std::vector<int64_t>>();
  c.act_in_bytes = j["act_in_bytes"];
  c.act_out_bytes = j["act_out_bytes"];
  c.act_in_base = j["act_in_offset_bytes"];
  c.act_out_base = j["act_out_offset_bytes"];
  c.act_footprint_bytes = j["act_footprint_bytes"];
  c.weight_bytes = j["weight_bytes"];
  return c;
}

std::string tech_path(const std::string& name) {
  if (name.find('/') != std::string::npos ||
      (name.size() > 5 && name.substr(name.size() - 5) == ".json"))
    return name;
  return tech_data_dir() + "/" + name + ".json";
}

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

class RamanArch : public Arch {
 public:
  std::string name() const override { return "raman"; }
  std::string description() const override {
    return "RAMAN-like sparse tinyML accelerator (65 nm, 2 MHz): Gustavson row-wise dataflow, "
           "zero skipping, clock gating, in-place activation memory";
  }
  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> s = RamanConfig::specs();
    ParamSpec t;
    t.name = "tech";
    t.type = ParamSpec::Type::Text;
    t.def = "raman65";
    t.meaning = "technology table: a name in sim/power/data or a path to a .json";
    t.min = 1;
    t.max = 0;
    s.push_back(t);
    return s;
  }
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

  SimOutput simulate(const SimInput& in) const override {
    const RamanConfig cfg = RamanConfig::from(in.params);
    if (!in.trace_path.empty()) {
      if (in.mode != "cycle")
        throw InputError("--vcd " + in.trace_path + ": only --mode cycle writes a trace");
      if (in.trace_path.size() < 5 || in.trace_path.substr(in.trace_path.size() - 4) != ".vcd")
        throw InputError("--vcd " + in.trace_path + ": the trace file name must end in .vcd");
    }
    const TechTable tech = load_tech_table(tech_path(in.params.s("tech")));
    const RamanProgram prog = compile(in.model, in.summary, in.masks, cfg, in.tables_path);
    // Samples and their int8 codes (the host quantizes; the core sees codes).
    Shape sample;
    const int64_t n = split_samples(in.model.graph, in.input, in.input_path, &sample);
    const int64_t per = numel(sample);
    std::vector<std::vector<int8_t>> codes(static_cast<size_t>(n));
    for (int64_t s = 0; s < n; ++s) {
      auto& v = codes[static_cast<size_t>(s)];
      v.resize(static_cast<size_t>(per));
      for (int64_t k = 0; k < per; ++k)
        v[static_cast<size_t>(k)] =
            hls::quantize_value(in.input.f[static_cast<size_t>(s * per + k)], prog.input_scale);
    }
    // The integer reference: golden outputs, and every layer's input for the analytical twin.
    std::vector<std::vector<int8_t>> ref_out(static_cast<size_t>(n));
    RamanCounts counts;
    counts.inferences = n;
    for (const LayerProgram& L : prog.layers) counts.layers.push_back(empty_counts(L, cfg));
    const bool analytical = in.mode == "analytical";
    for (int64_t s = 0; s < n; ++s) {
      Tensor xs(sample);
      std::copy(in.input.f.begin() + s * per, in.input.f.begin() + (s + 1) * per, xs.f.begin());
      std::map<std::string, std::vector<int8_t>> vals;
      vals[in.model.input] = codes[static_cast<size_t>(s)];
      size_t li = 0;
      Int8Result r =
          run_int8(in.model, xs, [&](const QLayer& L, const std::vector<int8_t>& c, const Shape&) {
            if (analytical) {
              const LayerProgram& P = prog.layers[li];
              LayerCounts lc;
              analytical_layer(P, cfg, vals.at(L.inputs[0]).data(), &lc);
              accumulate(counts.layers[li], lc);
            }
            vals[L.output] = c;
            ++li;
          });
      auto& ro = ref_out[static_cast<size_t>(s)];
      for (int64_t v : r.output_int8.i) ro.push_back(static_cast<int8_t>(v));
    }
    std::vector<std::vector<int8_t>> outs;
    std::vector<int64_t> sample_cycles;
    if (analytical) {
      finish_counts(prog, &counts);
      outs = ref_out;
    } else {
      // The trace goes to a temporary name and is renamed once the run succeeded, like every
      // other output (no half-written files).
      const std::string trace = in.trace_path.empty()
                                    ? ""
                                    : in.trace_path.substr(0, in.trace_path.size() - 4) + ".tmp." +
                                          std::to_string(::getpid()) + ".vcd";
      std::string payload;
      try {
        payload = run_isolated([&] {
          CycleResult cr = simulate_cycle(prog, codes, trace);
          json j;
          j["layers"] = json::array();
          for (const LayerCounts& c : cr.counts.layers) j["layers"].push_back(counts_json(c));
          j["dma_in"] = cr.counts.dma_in_cycles;
          j["dma_out"] = cr.counts.dma_out_cycles;
          j["program_load"] = cr.counts.program_load_cycles;
          j["outputs"] = cr.outputs;
          j["sample_cycles"] = cr.sample_cycles;
          return j.dump();
        });
      } catch (...) {
        if (!trace.empty()) std::remove(trace.c_str());
        throw;
      }
      if (!trace.empty() && std::rename(trace.c_str(), in.trace_path.c_str()) != 0)
        throw InputError("--vcd " + in.trace_path + ": cannot write the trace");
      const json j = json::parse(payload);
      counts.layers.clear();
      for (const json& l : j["layers"]) counts.layers.push_back(counts_from(l));
      finish_counts(prog, &counts);
      counts.dma_in_cycles = j["dma_in"];
      counts.dma_out_cycles = j["dma_out"];
      counts.program_load_cycles = j["program_load"];
      int64_t t = counts.dma_in_cycles + counts.dma_out_cycles;
      for (const LayerCounts& l : counts.layers) t += l.cycles;
      counts.total_cycles = t;
      outs = j["outputs"].get<std::vector<std::vector<int8_t>>>();
      sample_cycles = j["sample_cycles"].get<std::vector<int64_t>>();
      if (!sample_cycles.empty()) {
        int64_t sum = 0;
        for (int64_t v : sample_cycles) sum += v;
        if (sum != counts.total_cycles)
          throw std::logic_error("raman: per-sample cycles disagree with the layer totals");
      }
    }
    int64_t mismatches = 0, first_mismatch = -1;
    for (size_t s = 0; s < outs.size(); ++s)
      for (size_t k = 0; k < outs[s].size() && k < ref_out[s].size(); ++k)
        if (outs[s][k] != ref_out[s][k]) {
          if (first_mismatch < 0) first_mismatch = static_cast<int64_t>(s * outs[s].size() + k);
          ++mismatches;
        }
    const double rate = in.rate_hz > 0 ? in.rate_hz : default_rate_hz();
    const RamanPowerEstimate pw = estimate_raman(counts, tech, rate);
    return make_output(in, prog, counts, pw, outs, mismatches, first_mismatch);
  }

 private:
  SimOutput make_output(const SimInput& in, const RamanProgram& prog, const RamanCounts& c,
                        const RamanPowerEstimate& pw, const std::vector<std::vector<int8_t>>& outs,
                        int64_t mismatches, int64_t first_mismatch) const {
    const RamanConfig& cfg = prog.cfg;
    const double n = static_cast<double>(c.inferences);
    SimOutput o;
    json& r = o.report;
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
      r["bit_exact_vs_reference"] = mismatches == 0;
      r["output_mismatches"] = mismatches;
      if (first_mismatch >= 0) r["first_mismatch_element"] = first_mismatch;
    } else {
      r["outputs_from"] = "integer reference (analytical mode)";
    }
    r["config"] = in.params.json();
    r["layers"] = json::array();
    for (size_t i = 0; i < c.layers.size(); ++i) {
      json l = counts_json(c.layers[i]);
      // Per inference, like the top-level figures.
      for (const char* k :
           {"cycles", "macs_dense", "macs_executed", "macs_skipped_zero", "macs_skipped_pruned"})
        l[k] = l[k].get<double>() / n;
      l["energy_j"] = i < pw.layer_energy_j.size() ? pw.layer_energy_j[i] : 0.0;
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
    // Statistics tree (name, unit, description).
    StatGroup& st = o.stats;
    st.name = "raman";
    st.desc = "per inference unless noted";
    int64_t macs_d = 0, macs_e = 0, sk_z = 0, sk_p = 0, busy = 0, stall = 0, gated = 0;
    int64_t ar = 0, aw = 0, wr = 0, wbits = 0, dec = 0;
    for (const LayerCounts& l : c.layers) {
      macs_d += l.macs_dense, macs_e += l.macs_executed, sk_z += l.macs_skipped_zero;
      sk_p += l.macs_skipped_pruned, busy += l.pe_busy, stall += l.pe_stalled, gated += l.pe_gated;
      ar += l.act_reads, aw += l.act_writes, wr += l.weight_reads, wbits += l.weight_read_bits;
      dec += l.decoder_steps;
    }
    st.add("latency", r["latency_cycles"].get<double>(), "cycles", "DMA in + layers + DMA out")
        .add("latency_time", r["latency_s"].get<double>() * 1e3, "ms", "at clock_hz")
        .add("energy", pw.energy_j * 1e6, "uJ", "dynamic + leakage over the latency")
        .add("power", pw.power_w * 1e6, "uW", "average at the inference rate")
        .add("rate", pw.rate_hz, "1/s", "inferences per second for power")
        .add("area", pw.area_mm2, "mm2", "core area")
        .add("macs_dense", macs_d / n, "MAC", "dense layer MACs")
        .add("macs_executed", macs_e / n, "MAC", "MACs the PEs performed")
        .add("macs_skipped_zero_act", sk_z / n, "MAC", "skipped: zero activation or padding")
        .add("macs_skipped_pruned", sk_p / n, "MAC", "skipped: pruned (zero) weight")
        .add("pe_busy", busy / n, "PE-cycles", "summed over PEs")
        .add("pe_stalled", stall / n, "PE-cycles", "ungated, waiting for the zero detector")
        .add("pe_gated", gated / n, "PE-cycles", "clock-gated")
        .add("act_mem_reads", ar / n, "accesses", "activation memory reads")
        .add("act_mem_writes", aw / n, "accesses", "activation memory writes")
        .add("weight_mem_reads", wr / n, "accesses", "weight memory reads (32-bit words)")
        .add("weight_mem_read_bits", wbits / n, "bit", "values and metadata read")
        .add("decoder_steps", dec / n, "1", "kept weights produced by the decoders")
        .add("act_peak", c.act_peak_bytes, "B", "activation memory peak (IA/OA overlapped)")
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
          .add("energy", (i < pw.layer_energy_j.size() ? pw.layer_energy_j[i] : 0) * 1e6, "uJ", "")
          .add("act_footprint", l.act_footprint_bytes, "B", "IA and OA span");
    }
    StatGroup& pe = st.group("pes", "busy/stalled/gated cycles per PE (all layers, per inference)");
    for (int64_t p = 0; p < cfg.pe_count; ++p) {
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
      cg.group(ce.name)
          .add("energy", ce.energy_j * 1e6, "uJ", "")
          .add("area", ce.area_mm2, "mm2", "");
    r["stats"] = st.to_json();
    // Outputs, dequantized like the integer reference's.
    Shape os = prog.output_shape;
    os[0] = c.inferences;
    o.output = Tensor(os);
    o.output_int8 = Tensor(os);
    o.output_int8.dtype = DType::I8;
    o.output_int8.f.clear();
    for (const auto& v : outs) o.output_int8.i.insert(o.output_int8.i.end(), v.begin(), v.end());
    for (size_t k = 0; k < o.output.f.size() && k < o.output_int8.i.size(); ++k)
      o.output.f[k] =
          hls::dequantize_value(static_cast<int8_t>(o.output_int8.i[k]), prog.output_scale);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "raman (%s): %.0f cycles = %.3f ms at %.3g MHz, %.3f uJ/inference, %.2f uW at "
                  "%.3g inferences/s, %.4f mm2; outputs %s the integer reference",
                  in.mode.c_str(), r["latency_cycles"].get<double>(),
                  r["latency_s"].get<double>() * 1e3, cfg.clock_hz / 1e6, pw.energy_j * 1e6,
                  pw.power_w * 1e6, pw.rate_hz, pw.area_mm2,
                  in.mode != "cycle" ? "taken from"
                  : mismatches == 0  ? "bit-exact with"
                                     : "DIFFER from");
    o.summary = buf;
    return o;
  }
};

}  // namespace
PRUNESIM_REGISTER_ARCH("raman", RamanArch);
}  // namespace prunesim
