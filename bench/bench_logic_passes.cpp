// The SAT sweep's runtime (logic/sat_sweep.h) on layered random networks with planted redundancy
// (the test generator, tests/prune/logic/passes/nets.h), at growing sizes, with and without the
// cut rewriting; bench/README.md has the figures and the command.
#include <benchmark/benchmark.h>

#include "logic/sat_sweep.h"
#include "prune/logic/passes/nets.h"

using namespace prunesim::logic;

static void BM_SatSweep(benchmark::State& state) {
  const size_t gates = static_cast<size_t>(state.range(0));
  const testing::Planted p = testing::plant(testing::random_net(256, gates, 500, 10, 1, 6), 4, 2);
  SweepOptions o;
  o.rewrite = state.range(1) != 0;
  SweepStats st;
  for (auto _ : state) benchmark::DoNotOptimize(sat_sweep(p.net, o, &st));
  state.counters["gates_in"] = double(p.net.gates.size());
  state.counters["gates_out"] = double(st.gates_after);
  state.counters["sat_calls"] = double(st.sat_calls);
}
BENCHMARK(BM_SatSweep)->ArgsProduct({{2000, 8000, 16000}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
