// verify_raman: the integer reference, the SystemC model (cycle mode) and the RTL run on the same
// compiled program; each simulation runs in its own child process (SystemC elaborates once per
// process), results come back as JSON.
#include "cosim/verify.h"
#include "base/output.h"

#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "models/isolate.h"
#include "models/raman/core.h"
#include "prune/errors.h"
#include "prune/quant.h"

namespace prunesim::cosim {
namespace {

using nlohmann::json;
using namespace raman;

std::string hex8(int8_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%02x (%d)", static_cast<unsigned>(static_cast<uint8_t>(v)),
                static_cast<int>(v));
  return b;
}

// The trace file name and the --rtl block names.
void check_run_options(const CoreRunOptions& run) {
  const std::string& tr = run.trace;
  auto ends = [&](const char* e) { return tr.size() > 4 && tr.compare(tr.size() - 4, 4, e) == 0; };
  if (!tr.empty() && !ends(".fst") && !ends(".vcd"))
    throw InputError("--trace " + tr + ": the trace file name must end in .fst or .vcd");
  if (ends(".fst") && !run.rtl.empty())
    throw InputError("--trace " + tr +
                     ": FST traces the whole Verilated core; in mixed mode use "
                     ".vcd (the block ports)");
  for (const std::string& b : run.rtl)
    if (std::find(rtl_block_names().begin(), rtl_block_names().end(), b) ==
        rtl_block_names().end()) {
      std::string k;
      for (const auto& n : rtl_block_names()) k += (k.empty() ? "" : ", ") + n;
      throw InputError("--rtl " + b + ": not a block of the core (" + k + ")");
    }
}

// Per sample: the input codes, and the integer reference's output codes.
struct Samples {
  std::vector<std::vector<int8_t>> codes, ref;
};
Samples reference_samples(const SimInput& in, const RamanProgram& prog) {
  Shape sample;
  const int64_t n = split_samples(in.model.graph, in.input, in.input_path, &sample);
  const int64_t per = numel(sample);
  Samples r;
  r.codes.resize(static_cast<size_t>(n));
  r.ref.resize(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s) {
    Tensor xs(sample);
    std::copy(in.input.f.begin() + s * per, in.input.f.begin() + (s + 1) * per, xs.f.begin());
    auto& c = r.codes[static_cast<size_t>(s)];
    for (float v : xs.f) c.push_back(hls::quantize_value(v, prog.input_scale));
    const Int8Result out = run_int8(in.model, xs);
    for (int64_t v : out.output_int8.i)
      r.ref[static_cast<size_t>(s)].push_back(static_cast<int8_t>(v));
  }
  return r;
}

// The SystemC model in a child: per-sample cycles and per-layer cycles (to place a divergence).
json run_model(const RamanProgram& prog, const std::vector<std::vector<int8_t>>& codes) {
  return json::parse(run_isolated([&] {
    const auto t0 = std::chrono::steady_clock::now();
    const CycleResult cr = simulate_cycle(prog, codes);
    json j;
    j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    j["sample_cycles"] = cr.sample_cycles;
    j["dma_in"] = cr.counts.dma_in_cycles / std::max<int64_t>(1, cr.counts.inferences);
    j["layers"] = json::array();
    for (const LayerCounts& l : cr.counts.layers)
      if (l.mode != "none")
        j["layers"].push_back({l.name, l.cycles / std::max<int64_t>(1, cr.counts.inferences)});
    return j.dump();
  }));
}

// The RTL in a child; its trace is written to a temporary name and renamed when complete.
json run_rtl(const RtlImage& img, const std::vector<std::vector<int8_t>>& codes,
             const CoreRunOptions& run, const std::vector<int64_t>& model_cycles,
             const std::vector<std::pair<std::string, int64_t>>& layer_cycles, int64_t dma_in) {
  const std::string& tr = run.trace;
  const std::string trace_tmp = tr.empty()
                                    ? ""
                                    : tr.substr(0, tr.size() - 4) + ".tmp." +
                                          std::to_string(::getpid()) + tr.substr(tr.size() - 4);
  // Removed by the signal handler if the run is interrupted (base/output.h).
  const int slot = trace_tmp.empty() ? -1 : track_temp(trace_tmp);
  CoreRunOptions ro = run;
  ro.trace = trace_tmp;
  json rtl;
  try {
    rtl = json::parse(run_isolated([&] {
      const CoreRunResult r = run_core(img, codes, ro, model_cycles, layer_cycles, dma_in);
      json j;
      j["outputs"] = r.outputs;
      j["cycles"] = r.cycles;
      j["div"] = {r.div.found,    r.div.cycle,  r.div.block,  r.div.signal,
                  r.div.expected, r.div.actual, r.div_sample, r.div_where};
      j["timed_out"] = r.timed_out;
      j["hang"] = {r.div_sample, r.hang_limit};
      j["error"] = r.error;
      j["seconds"] = r.seconds;
      j["cycles_run"] = r.cycles_run;
      j["dut"] = r.dut;
      return j.dump();
    }));
  } catch (...) {
    if (!trace_tmp.empty()) std::remove(trace_tmp.c_str());
    forget_temp(slot);
    throw;
  }
  if (!trace_tmp.empty() && std::rename(trace_tmp.c_str(), tr.c_str()) != 0) {
    std::remove(trace_tmp.c_str());
    forget_temp(slot);
    throw InputError("--trace " + tr + ": cannot write the trace");
  }
  forget_temp(slot);
  return rtl;
}

// The RTL run's figures into rep; returns its first failure (a divergence, a hang, an error), ""
// if none.
std::string read_rtl(const json& rtl, VerifyReport& rep) {
  rep.dut = rtl["dut"];
  rep.rtl_seconds = rtl["seconds"];
  rep.rtl_cycles_run = rtl["cycles_run"];
  rep.rtl_cycles = rtl["cycles"].get<std::vector<int64_t>>();
  const json& d = rtl["div"];
  rep.div.found = d[0];
  rep.div.cycle = d[1];
  rep.div.block = d[2];
  rep.div.signal = d[3];
  rep.div.expected = d[4];
  rep.div.actual = d[5];
  std::string first;
  if (rep.div.found) {
    const int64_t s = d[6];
    first = rep.div.message() + " (" + (s >= 0 ? "sample " + std::to_string(s) + ", " : "") +
            d[7].get<std::string>() + ")";
  }
  if (first.empty() && rtl["timed_out"].get<bool>())
    first = "sample " + std::to_string(rtl["hang"][0].get<int64_t>()) +
            ": the RTL did not finish within " + std::to_string(rtl["hang"][1].get<int64_t>()) +
            " busy cycles (the SystemC model took " +
            std::to_string(rep.model_cycles.at(
                static_cast<size_t>(std::max<int64_t>(0, rtl["hang"][0].get<int64_t>())))) +
            ")";
  if (first.empty() && !rtl["error"].get<std::string>().empty()) first = rtl["error"];
  return first;
}

// Outputs against the reference element by element, then cycles against the SystemC model: the
// counts into rep, the first difference into *first if it is still empty.
void compare_results(const std::vector<std::vector<int8_t>>& outs,
                     const std::vector<std::vector<int8_t>>& ref, VerifyReport& rep,
                     std::string* first) {
  rep.bit_exact = outs.size() == ref.size();
  for (size_t s = 0; s < ref.size(); ++s)
    for (size_t k = 0; k < ref[s].size(); ++k) {
      const bool have = s < outs.size() && k < outs[s].size();
      if (have && outs[s][k] == ref[s][k]) continue;
      rep.bit_exact = false;
      ++rep.mismatches;
      if (first->empty())
        *first = "output element " + std::to_string(k) + " of sample " + std::to_string(s) +
                 ": expected " + hex8(ref[s][k]) + " (integer reference), actual " +
                 (have ? hex8(outs[s][k]) : std::string("missing"));
    }
  for (size_t s = 0; s < rep.model_cycles.size(); ++s) {
    const int64_t got = s < rep.rtl_cycles.size() ? rep.rtl_cycles[s] : -1;
    if (got != rep.model_cycles[s] && first->empty())
      *first = "cycles of sample " + std::to_string(s) + ": expected " +
               std::to_string(rep.model_cycles[s]) + " (SystemC model), actual " +
               std::to_string(got);
  }
}

}  // namespace

const std::vector<std::string>& rtl_block_names() {
  static const std::vector<std::string> n = {"act_mem", "decoder", "pe_array", "requant", "ctrl"};
  return n;
}

VerifyReport verify_raman(const SimInput& in, const VerifyOptions& opt) {
  check_run_options(opt.run);
  const RamanConfig cfg = RamanConfig::from(in.params);
  // The RTL's fixed parameters first: a table compiled for another core fails for that reason.
  if (const std::string m = rtl_config_mismatch(cfg); !m.empty())
    throw InputError(in.tables_path + ": whole-core RTL: configuration " + m);
  const RamanProgram prog = compile(in.model, in.summary, in.masks, cfg, in.tables_path);
  const RtlImage img = build_rtl_image(prog);
  const Samples smp = reference_samples(in, prog);

  VerifyReport rep;
  rep.samples = static_cast<int64_t>(smp.codes.size());
  rep.usage = img.usage();
  const json model = run_model(prog, smp.codes);
  rep.model_seconds = model["seconds"];
  rep.model_cycles = model["sample_cycles"].get<std::vector<int64_t>>();
  std::vector<std::pair<std::string, int64_t>> layer_cycles;
  for (const json& l : model["layers"]) layer_cycles.emplace_back(l[0], l[1]);
  const json rtl = run_rtl(img, smp.codes, opt.run, rep.model_cycles, layer_cycles,
                           model["dma_in"].get<int64_t>());
  std::string first = read_rtl(rtl, rep);
  compare_results(rtl["outputs"].get<std::vector<std::vector<int8_t>>>(), smp.ref, rep, &first);
  rep.first_failure = first;
  rep.pass = first.empty();
  return rep;
}

}  // namespace prunesim::cosim
