// Pruning speed on 25 M float weights (five Gemm layers of 2048 x 2442): global magnitude at
// 90 % sparsity — the operation torch.nn.utils.prune.global_unstructured performs, compared in
// bench/README.md with scripts/bench/torch_global_prune.py — and balanced pruning of the same.
#include <benchmark/benchmark.h>

#include "prune/pruning.h"

namespace {

using namespace prunesim;

Graph big_graph() {
  Graph g;
  g.source = "bench";
  g.opset = 13;
  g.inputs.push_back({"x", {1, 2442}, DType::F32});
  uint32_t s = 12345;
  std::string prev = "x";
  for (int l = 0; l < 5; ++l) {
    const std::string w = "w" + std::to_string(l), y = "y" + std::to_string(l);
    Tensor t({2048, 2442});
    for (auto& v : t.f) {
      s = s * 1664525u + 1013904223u;
      v = static_cast<float>(static_cast<int32_t>(s >> 8) - (1 << 23)) /
          static_cast<float>(1 << 23);
    }
    g.initializers[w] = std::move(t);
    Node n;
    n.name = "fc" + std::to_string(l);
    n.op = "Gemm";
    n.inputs = {prev, w};
    n.outputs = {y};
    Attribute tb;
    tb.kind = Attribute::Kind::INT;
    tb.i = 1;
    n.attrs["transB"] = tb;
    g.nodes.push_back(n);
    prev = y;
  }
  g.outputs.push_back({prev, {1, 2048}, DType::F32});
  return g;
}

void BM_GlobalMagnitude25M(benchmark::State& st) {
  const Graph g = big_graph();
  auto scheme = make_scheme("magnitude");
  SchemeOptions o;
  o.sparsity = 0.9;
  o.params.set("global", true);
  for (auto _ : st) benchmark::DoNotOptimize(scheme->apply(g, {}, o, {}));
  st.counters["weights/s"] = benchmark::Counter(
      5.0 * 2048 * 2442 * static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}

void BM_Balanced25M(benchmark::State& st) {
  const Graph g = big_graph();
  auto scheme = make_scheme("balanced");
  SchemeOptions o;
  o.sparsity = 0.9;
  o.params.set("pes", 16);
  o.params.set("cluster", 4);
  for (auto _ : st) benchmark::DoNotOptimize(scheme->apply(g, {}, o, {}));
}

BENCHMARK(BM_GlobalMagnitude25M)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Balanced25M)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
