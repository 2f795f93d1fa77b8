// Throughput of the reference executors on the zoo models, in MAC/s (dense MACs of one inference
// times inferences per second). Run: build/bench/bench_executors (see bench/README.md).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"

namespace {

using namespace prunesim;

struct Loaded {
  Graph g;
  Tensor calib, sample;
  int64_t macs = 0;
};

Loaded load(const std::string& name, const std::string& file) {
  const std::string dir = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + name + "/";
  Loaded l;
  l.g = load_onnx(dir + file);
  l.calib = load_npy_as_float(dir + "calib.npy");
  l.sample = load_npy_as_float(dir + "sample.npy");
  for (const auto& s : layer_stats(l.g)) l.macs += s.macs;
  return l;
}

void report(benchmark::State& st, int64_t macs) {
  st.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(macs) * static_cast<double>(st.iterations()),
                         benchmark::Counter::kIsRate);
  st.counters["MACs/inference"] = static_cast<double>(macs);
}

void BM_Int8(benchmark::State& st, const std::string& name, const std::string& file) {
  Loaded l = load(name, file);
  QuantizedModel q = quantize(l.g, l.calib);
  for (auto _ : st) benchmark::DoNotOptimize(run_int8(q, l.sample));
  report(st, l.macs);
}

void BM_Float(benchmark::State& st, const std::string& name, const std::string& file) {
  Loaded l = load(name, file);
  for (auto _ : st) benchmark::DoNotOptimize(run_float(l.g, l.sample));
  report(st, l.macs);
}

BENCHMARK_CAPTURE(BM_Int8, ds_cae1, std::string("ds_cae1"), std::string("ds_cae1.onnx"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Int8, ds_cae1_encoder, std::string("ds_cae1"), std::string("encoder.onnx"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Int8, digits_dscnn, std::string("digits_dscnn"),
                  std::string("digits_dscnn.onnx"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Int8, fmnist_dscnn, std::string("fmnist_dscnn"),
                  std::string("fmnist_dscnn.onnx"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Float, ds_cae1, std::string("ds_cae1"), std::string("ds_cae1.onnx"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Float, fmnist_dscnn, std::string("fmnist_dscnn"),
                  std::string("fmnist_dscnn.onnx"))
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
