// The bit-parallel logic-network evaluator (prune/logic) on a network the size of Petersen et
// al.'s small MNIST model (NeurIPS 2022: 6 layers × 8,000 gates, group sum over 10 classes),
// over MNIST-sized inputs (784 features, 2 thermometer bits each), random wiring and functions.
// Items/s = samples/s on one core, against their "beyond a million images per second".
#include <benchmark/benchmark.h>

#include <random>

#include "logic/eval.h"
#include "logic/netlist.h"

using namespace prunesim::logic;

namespace {

constexpr uint32_t kFeatures = 784, kBits = 2, kLayers = 6, kWidth = 8000, kClasses = 10;
constexpr size_t kSamples = 65536;

const Netlist& mnist_size_net() {
  static const Netlist n = [] {
    std::mt19937_64 rng(1);
    Netlist n;
    n.encoder.thresholds.assign(kFeatures, {0.25f, 0.5f});
    n.inputs = kFeatures * kBits;
    uint32_t prev = 0, prev_n = n.inputs;
    for (uint32_t l = 0; l < kLayers; ++l) {
      const uint32_t first = n.signals();
      for (uint32_t j = 0; j < kWidth; ++j)
        n.gates.push_back({prev + static_cast<uint32_t>(rng() % prev_n),
                           prev + static_cast<uint32_t>(rng() % prev_n),
                           static_cast<TruthTable>(rng() % 16), l});
      prev = first;
      prev_n = kWidth;
    }
    for (uint32_t j = 0; j < kWidth; ++j) n.outputs.push_back(prev + j);
    n.out_negate.assign(kWidth, 0);
    n.classes = kClasses;
    n.tau = 10;
    validate(n, "bench");
    return n;
  }();
  return n;
}

const std::vector<float>& features() {
  static const std::vector<float> x = [] {
    std::mt19937_64 rng(2);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> v(kSamples * kFeatures);
    for (auto& f : v) f = u(rng);
    return v;
  }();
  return x;
}

void run_counts(benchmark::State& state, bool avx2) {
  const Netlist& n = mnist_size_net();
  const BitMatrix in = encode(n.encoder, features().data(), kSamples, kFeatures);
  eval_allow_avx2(avx2);
  for (auto _ : state) benchmark::DoNotOptimize(class_counts(n, in, kSamples));
  eval_allow_avx2(true);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSamples));
  state.counters["gates"] = static_cast<double>(n.gates.size());
}

}  // namespace

// Pre-encoded inputs (the comparison with Petersen et al., whose figure starts from binary inputs).
static void BM_LogicEval_Mnist6x8000(benchmark::State& state) {
  run_counts(state, true);
}
BENCHMARK(BM_LogicEval_Mnist6x8000)->Unit(benchmark::kMillisecond)->MinTime(2.0);

static void BM_LogicEval_Mnist6x8000_Portable(benchmark::State& state) {
  run_counts(state, false);
}
BENCHMARK(BM_LogicEval_Mnist6x8000_Portable)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Float features in: the thermometer encoding included.
static void BM_LogicEval_Mnist6x8000_WithEncoding(benchmark::State& state) {
  const Netlist& n = mnist_size_net();
  for (auto _ : state) {
    const BitMatrix in = encode(n.encoder, features().data(), kSamples, kFeatures);
    benchmark::DoNotOptimize(class_counts(n, in, kSamples));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSamples));
}
BENCHMARK(BM_LogicEval_Mnist6x8000_WithEncoding)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The reference simulator (every signal over all samples, no blocking), for the speed-up; on an
// eighth of the samples, as it holds all 49,568 signals × samples in memory (50 MB here).
static void BM_LogicSimulateAll_Mnist6x8000(benchmark::State& state) {
  const Netlist& n = mnist_size_net();
  const size_t samples = kSamples / 8;
  const BitMatrix in = encode(n.encoder, features().data(), samples, kFeatures);
  for (auto _ : state) benchmark::DoNotOptimize(simulate_outputs(n, in));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
}
BENCHMARK(BM_LogicSimulateAll_Mnist6x8000)->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
