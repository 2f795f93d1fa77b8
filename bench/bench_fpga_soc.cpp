// Simulated frames per wall-clock second of the FPGA-SoC pipeline model on the zoo U-Net
// (default configuration: K26, B3136 at 300 MHz, every preprocessing step on the PL). The cycle
// model elaborates SystemC once per process, so each iteration runs in a forked child
// (run_isolated, as `prunesim simulate` and `compare` do); the fork costs about a millisecond.
#include <benchmark/benchmark.h>

#include <string>

#include "models/fpga_soc/soc.h"
#include "models/isolate.h"
#include "prune/npy.h"
#include "prune/tables.h"

// libsystemc.so calls sc_main from its own main(); ours (BENCHMARK_MAIN) takes precedence, but
// the library's reference must resolve.
extern "C" int sc_main(int, char**) {
  return 0;
}

namespace {

using namespace prunesim;
using namespace prunesim::fpga_soc;

std::string zoo(const std::string& f) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/hsi_unet/" + f;
}

void run(benchmark::State& st, const std::string& table, bool cycle, bool check,
         bool all_ps = false) {
  const QuantizedModel q = read_tables(zoo(table));
  ParamValues v(param_specs());
  if (all_ps)
    for (const char* s : {"demosaic", "normalise", "crop", "argmax"})
      v.set(std::string("place.") + s, "ps");
  const int64_t frames = st.range(0);
  v.set("frames", frames);
  v.set("check_reference", check);
  const SocConfig cfg = make_config(v);
  const DpuProgram prog = compile_dpu(q, cfg, table);
  const Frames f = load_frames(load_npy(zoo("frames.npy")), cfg, prog, "frames.npy");
  double sim_s = 0;
  for (auto _ : st) {
    if (cycle) {
      const std::string out =
          run_isolated([&] { return run_cycle(q, prog, cfg, f).to_json().dump(); });
      sim_s = nlohmann::json::parse(out)["sim_time_s"].get<double>();
    } else {
      sim_s = run_analytical(q, prog, cfg, f).sim_time_s;
    }
  }
  st.SetItemsProcessed(st.iterations() * frames);  // items/s = simulated frames per wall second
  st.counters["simulated_s_per_frame"] = sim_s / static_cast<double>(frames);
}

void BM_CycleCompressed(benchmark::State& s) {
  run(s, "unet_pruned.pwt", true, false);
}
void BM_CycleBase(benchmark::State& s) {
  run(s, "unet_base.pwt", true, false);
}
void BM_CycleCompressedChecked(benchmark::State& s) {
  run(s, "unet_pruned.pwt", true, true);
}
void BM_CycleAllOnPs(benchmark::State& s) {
  run(s, "unet_pruned.pwt", true, false, true);
}
void BM_AnalyticalCompressed(benchmark::State& s) {
  run(s, "unet_pruned.pwt", false, false);
}

// Wall time: the simulation runs in the forked child, whose CPU time the parent does not see.
BENCHMARK(BM_CycleCompressed)->Arg(60)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CycleBase)->Arg(60)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CycleCompressedChecked)->Arg(60)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CycleAllOnPs)->Arg(60)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AnalyticalCompressed)->Arg(60)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
