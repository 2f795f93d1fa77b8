// RAMAN model speed (issue 4): simulated cycles per wall-second of the SystemC cycle model on the
// ds_cae1 encoder (goal: faster than the 2 MHz chip, >= 2 M cycles/s on one core), and layers per
// second of the analytical twin. SystemC elaborates once per process, so each cycle-mode
// iteration runs in a forked child (run_isolated) and times only sc_start inside it.
#include <benchmark/benchmark.h>

#include <chrono>

#include "models/isolate.h"
#include "models/raman/core.h"
#include "models/raman/program.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pipeline.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace prunesim {
namespace {

struct Setup {
  QuantizedModel q;
  TableSummary summary;
  MaskMap masks;
  raman::RamanProgram prog;
  std::vector<std::vector<int8_t>> inputs;        // one sample's codes
  std::vector<std::vector<int8_t>> layer_inputs;  // per layer, NCHW
};

Setup make(double sparsity) {
  const std::string z = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";
  Graph g = load_onnx(z + "encoder.onnx");
  Tensor calib = load_npy_as_float(z + "calib.npy");
  PruneOutcome out;
  out.graph = g;
  if (sparsity > 0) {
    SchemeOptions o;
    o.sparsity = sparsity;
    PruneData d;
    out = run_pruning(g, single_rule_recipe("balanced", o), Schedule{}, Recovery{}, d);
  }
  Setup s;
  const QuantizedModel q = quantize(out.graph, calib);
  TableOptions to;
  to.target = "raman";
  to.accepts = raman::decoded_encodings();
  s.q = parse_tables(table_bytes(q, out.masks, out.notes, to, "b.pwt"), "b.pwt", &s.summary,
                     &s.masks);
  s.prog = raman::compile(s.q, s.summary, s.masks, raman::RamanConfig{}, "b.pwt");
  const Tensor x = load_npy_as_float(z + "sample.npy");
  std::vector<int8_t> c;
  for (float v : x.f) c.push_back(hls::quantize_value(v, s.q.input_scale));
  s.inputs = {c};
  std::map<std::string, std::vector<int8_t>> vals{{s.q.input, c}};
  run_int8(s.q, x, [&](const QLayer& L, const std::vector<int8_t>& o, const Shape&) {
    s.layer_inputs.push_back(vals.at(L.inputs[0]));
    vals[L.output] = o;
  });
  return s;
}

void BM_CycleModel(benchmark::State& st) {
  const Setup s = make(static_cast<double>(st.range(0)) / 10);
  int64_t cycles = 0;
  for (auto _ : st) {
    const std::string r = run_isolated([&] {
      const auto t0 = std::chrono::steady_clock::now();
      const raman::CycleResult cr = raman::simulate_cycle(s.prog, s.inputs);
      const double sec =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return std::to_string(sec) + " " + std::to_string(cr.counts.total_cycles);
    });
    double sec = 0;
    std::sscanf(r.c_str(), "%lf %ld", &sec, &cycles);
    st.SetIterationTime(sec);
  }
  st.counters["sim_cycles"] = static_cast<double>(cycles);
  st.counters["cycles_per_s"] = benchmark::Counter(static_cast<double>(cycles),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CycleModel)
    ->Arg(0)
    ->Arg(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

void BM_Analytical(benchmark::State& st) {
  const Setup s = make(static_cast<double>(st.range(0)) / 10);
  int64_t layers = 0, cycles = 0;
  for (auto _ : st) {
    cycles = 0;
    for (size_t i = 0; i < s.prog.layers.size(); ++i) {
      raman::LayerCounts c;
      raman::analytical_layer(s.prog.layers[i], s.prog.cfg, s.layer_inputs[i].data(), &c);
      cycles += c.cycles;
      benchmark::DoNotOptimize(c.cycles);
    }
    layers += static_cast<int64_t>(s.prog.layers.size());
  }
  st.counters["sim_cycles"] = static_cast<double>(cycles);
  st.counters["layers_per_s"] =
      benchmark::Counter(static_cast<double>(layers), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Analytical)->Arg(0)->Arg(5)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace prunesim

// libsystemc's main() is not used: Google Benchmark's is.
extern "C" int sc_main(int, char**) {
  return 0;
}
BENCHMARK_MAIN();
