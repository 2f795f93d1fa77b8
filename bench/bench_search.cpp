// Analytical design points per second of the search engine (sim/dse/search.h evaluate: prune
// each layer, quantize on the calibration set, write the table in memory, the RAMAN analytical
// twin, the int8 fidelity on the validation split) on the ds_cae1 encoder, single-threaded:
// the "design points/s per core" figure of bench/README.md. Arg: validation samples.
#include <benchmark/benchmark.h>

#include <random>

#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "sim/dse/search.h"

namespace {

using namespace prunesim;

std::string zoo(const std::string& rel) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}

Tensor first(const Tensor& t, int64_t n) {
  Shape s = t.shape;
  n = std::min(n, s[0]);
  const int64_t per = numel(t.shape) / t.shape[0];
  s[0] = n;
  return Tensor(s, std::vector<float>(t.f.begin(), t.f.begin() + n * per));
}

void BM_SearchPointEncoder(benchmark::State& st) {
  set_exec_threads(1);  // per core: the executors' sample threads off
  dse::Context c;
  c.arch = &get_arch("raman");
  c.specs = c.arch->params();
  c.mode = "analytical";
  c.target = "raman";
  c.g = load_onnx(zoo("ds_cae1/encoder.onnx"));
  c.calib = load_npy_as_float(zoo("ds_cae1/calib.npy"));  // all 32, as `search` uses them
  c.data = first(load_npy_as_float(zoo("ds_cae1/eval.npy")), st.range(0));
  c.dense_out = run_float(c.g, c.data);
  c.input = first(c.data, 1);
  dse::Space s;
  for (const auto& l : prunable_layers(c.g)) s.layers.push_back(l.node);
  s.schemes = {"magnitude", "nm"};
  s.sparsities = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  std::mt19937_64 rng(1);
  for (auto _ : st) {
    dse::Decision x(s.dim());
    for (size_t k = 0; k < x.size(); ++k)
      x[k] = std::uniform_int_distribution<int64_t>(0, s.upper(k))(rng);
    const dse::Point p = dse::evaluate(c, s, x);
    if (!p.row.ok) st.SkipWithError(p.row.error.c_str());
    benchmark::DoNotOptimize(p.row.energy_j);
  }
  st.counters["points_per_s"] =
      benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SearchPointEncoder)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace

// libsystemc.so calls sc_main from its own main(); ours (BENCHMARK_MAIN) takes precedence.
extern "C" int sc_main(int, char**) {
  return 0;
}
BENCHMARK_MAIN();
