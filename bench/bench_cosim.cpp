// Lockstep bench speed (issue 5, moved out of ctest by issue 17): simulated cycles per wall-second
// of the PE-array bench with the SystemC twin on both sides, 100,000 cycles of the seeded random
// stimulus test_cosim uses. SystemC elaborates once per process, so each iteration runs in a
// forked child (run_isolated) and times only sc_start inside it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cosim/benches.h"
#include "models/isolate.h"

namespace prunesim {
namespace {

constexpr size_t kCycles = 100000;

void BM_PeArrayTwinOnly(benchmark::State& st) {
  unsigned long long cycles = 0;
  for (auto _ : st) {
    const std::string r = run_isolated([] {
      sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
      const cosim::Stimulus s = cosim::pe_array_stimulus(5, kCycles);
      cosim::PeArrayBench<raman::RamanPeArrayTwin, raman::RamanPeArrayTwin> b("b", s);
      const auto t0 = std::chrono::steady_clock::now();
      sc_core::sc_start();
      const double sec =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // The same model on both sides: a divergence would be a bench bug, not a finding.
      if (b.check.divergence().found) throw std::logic_error(b.check.divergence().message());
      return std::to_string(sec) + " " + std::to_string(b.cycles_run);
    });
    double sec = 0;
    std::sscanf(r.c_str(), "%lf %llu", &sec, &cycles);
    st.SetIterationTime(sec);
  }
  st.counters["sim_cycles"] = static_cast<double>(cycles);
  st.counters["cycles_per_s"] = benchmark::Counter(static_cast<double>(cycles),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PeArrayTwinOnly)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace prunesim

// libsystemc's main() is not used: Google Benchmark's is.
extern "C" int sc_main(int, char**) {
  return 0;
}
BENCHMARK_MAIN();
