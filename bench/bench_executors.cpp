// Throughput of the reference and fast executors on the zoo models, in MAC/s (dense MACs of one
// inference times inferences per second). Run: build/bench/bench_executors (see bench/README.md).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wuninitialized (their _mm512_undefined_* operands).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/graph_passes.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"

namespace {

using namespace prunesim;

struct Loaded {
  Graph g;
  Tensor calib, sample, eval;
  int64_t macs = 0;
};

Loaded load(const std::string& name, const std::string& file) {
  const std::string dir = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + name + "/";
  Loaded l;
  l.g = load_onnx(dir + file);
  l.calib = load_npy_as_float(dir + "calib.npy");
  l.sample = load_npy_as_float(dir + "sample.npy");
  l.eval = load_npy_as_float(dir + "eval.npy");
  for (const auto& s : layer_stats(l.g)) l.macs += s.macs;
  return l;
}

// MAC/s over wall time (the batch benchmarks use real time: their work is on other threads).
void report(benchmark::State& st, int64_t macs, int64_t inferences = 1) {
  st.counters["MAC/s"] = benchmark::Counter(
      static_cast<double>(macs * inferences) * static_cast<double>(st.iterations()),
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

// A batch of `kBatch` evaluation samples, as eval/sensitivity/sweep run them: the reference
// executors (one thread: they have no threads) against the fast ones at 1 and 2 threads.
constexpr int64_t kBatch = 128;

Tensor batch(const Tensor& t) {
  Shape s = t.shape;
  const int64_t per = numel(s) / s[0];
  s[0] = std::min(kBatch, s[0]);
  return Tensor(s, std::vector<float>(t.f.begin(), t.f.begin() + s[0] * per));
}

void BM_Int8Batch(benchmark::State& st, const std::string& name, const std::string& file) {
  Loaded l = load(name, file);
  QuantizedModel q = quantize(l.g, l.calib);
  const Tensor x = batch(l.eval);
  ExecOptions o;
  o.threads = static_cast<int>(st.range(1));
  for (auto _ : st) benchmark::DoNotOptimize(st.range(0) ? run_int8_fast(q, x, o) : run_int8(q, x));
  report(st, l.macs, x.shape[0]);
  st.SetLabel(st.range(0) ? std::string("fast ") + kernel_isa_name(KernelIsa::Auto) : "run_int8");
}

void BM_FloatBatch(benchmark::State& st, const std::string& name, const std::string& file) {
  Loaded l = load(name, file);
  const Tensor x = batch(l.eval);
  ExecOptions o;
  o.threads = static_cast<int>(st.range(1));
  for (auto _ : st)
    benchmark::DoNotOptimize(st.range(0) ? run_float_fast(l.g, x, o) : run_float(l.g, x));
  report(st, l.macs, x.shape[0]);
  st.SetLabel(st.range(0) ? std::string("fast ") + kernel_isa_name(KernelIsa::Auto) : "run_float");
}

// Args: {0 reference | 1 fast, threads}.
void batch_args(benchmark::internal::Benchmark* b) {
  b->Args({0, 1})->Args({1, 1})->Args({1, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK_CAPTURE(BM_Int8Batch, fmnist_dscnn, std::string("fmnist_dscnn"),
                  std::string("fmnist_dscnn.onnx"))
    ->Apply(batch_args);
BENCHMARK_CAPTURE(BM_Int8Batch, ds_cae1_encoder, std::string("ds_cae1"),
                  std::string("encoder.onnx"))
    ->Apply(batch_args);
BENCHMARK_CAPTURE(BM_Int8Batch, ds_cae1, std::string("ds_cae1"), std::string("ds_cae1.onnx"))
    ->Apply(batch_args);
BENCHMARK_CAPTURE(BM_FloatBatch, fmnist_dscnn, std::string("fmnist_dscnn"),
                  std::string("fmnist_dscnn.onnx"))
    ->Apply(batch_args);
BENCHMARK_CAPTURE(BM_FloatBatch, ds_cae1_encoder, std::string("ds_cae1"),
                  std::string("encoder.onnx"))
    ->Apply(batch_args);
BENCHMARK_CAPTURE(BM_FloatBatch, ds_cae1, std::string("ds_cae1"), std::string("ds_cae1.onnx"))
    ->Apply(batch_args);

// The ceiling the kernels work under: register-only loops of 512-bit vpdpbusd (64 int8 MACs
// each) and of double FMAs (8 MACs), 12 independent accumulators, one thread.
#if defined(__x86_64__)
// Twelve accumulators kept in registers (an array would live on the stack); the empty asm makes
// each one opaque, so the loop can neither be folded nor merged.
#define PRUNESIM_TWELVE(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx512f,avx512vnni"))) int64_t vnni_loop(int64_t n) {
  const __m512i x = _mm512_set1_epi32(0x01010101), w = _mm512_set1_epi32(0x02020202);
#define PRUNESIM_DECL(i) __m512i a##i = _mm512_set1_epi32(i);
#define PRUNESIM_STEP(i)                  \
  a##i = _mm512_dpbusd_epi32(a##i, x, w); \
  asm volatile("" : "+v"(a##i));
#define PRUNESIM_SUM(i) s += _mm512_reduce_add_epi32(a##i);
  PRUNESIM_TWELVE(PRUNESIM_DECL)
  for (int64_t k = 0; k < n; ++k) {
    PRUNESIM_TWELVE(PRUNESIM_STEP)
  }
  int64_t s = 0;
  PRUNESIM_TWELVE(PRUNESIM_SUM)
  return s;
}
#undef PRUNESIM_DECL
#undef PRUNESIM_STEP
#undef PRUNESIM_SUM
__attribute__((target("avx512f"))) double fma_loop(int64_t n) {
  const __m512d x = _mm512_set1_pd(1.0000001), w = _mm512_set1_pd(0.9999999);
#define PRUNESIM_DECL(i) __m512d a##i = _mm512_set1_pd(i);
#define PRUNESIM_STEP(i)              \
  a##i = _mm512_fmadd_pd(a##i, x, w); \
  asm volatile("" : "+v"(a##i));
#define PRUNESIM_SUM(i) s += _mm512_reduce_add_pd(a##i);
  PRUNESIM_TWELVE(PRUNESIM_DECL)
  for (int64_t k = 0; k < n; ++k) {
    PRUNESIM_TWELVE(PRUNESIM_STEP)
  }
  double s = 0;
  PRUNESIM_TWELVE(PRUNESIM_SUM)
  return s;
}
#undef PRUNESIM_DECL
#undef PRUNESIM_STEP
#undef PRUNESIM_SUM
#undef PRUNESIM_TWELVE
#endif

void BM_PeakInt8Vnni(benchmark::State& st) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512vnni")) return st.SkipWithError("no AVX-512 VNNI");
  constexpr int64_t n = 1 << 20;
  for (auto _ : st) benchmark::DoNotOptimize(vnni_loop(n));
  report(st, 12 * 64, n);
#else
  st.SkipWithError("not x86-64");
#endif
}

void BM_PeakDoubleFma(benchmark::State& st) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) return st.SkipWithError("no AVX-512F");
  constexpr int64_t n = 1 << 20;
  for (auto _ : st) benchmark::DoNotOptimize(fma_loop(n));
  report(st, 12 * 8, n);
#else
  st.SkipWithError("not x86-64");
#endif
}

BENCHMARK(BM_PeakInt8Vnni)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeakDoubleFma)->UseRealTime()->Unit(benchmark::kMillisecond);

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
