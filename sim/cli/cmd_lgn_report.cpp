// `prunesim lgn report net.lgn [--data X.npy] [--tech raman65] [--clock-hz F] [--yosys] [--json]`:
// the network as the combinational block it is — gates by function, depth, area and energy per
// inference from the technology table (sim/logic_power.h), one inference per cycle at F — in the
// units of `prunesim simulate`, so it compares with an int8 model on the RAMAN-like core.
// Switching activity comes from simulating --data in its order (without it: random inputs, every
// bit toggling with probability 1/2). --yosys adds yosys' cell count of the generated Verilog.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/output.h"
#include "lgn_samples.h"
#include "logic/format.h"
#include "logic/hw_report.h"
#include "logic/sat_sweep.h"
#include "logic/simplify.h"
#include "logic/verilog.h"
#include "prune/errors.h"
#include "registry.h"
#include "sim/logic_power.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string net, data, tech = "raman65";
  double clock_hz = 2e6;
  bool json = false, yosys = false;
};

// yosys `synth; stat` of the generated module: its cell count, or -1 when yosys is missing.
long yosys_cells(const logic::Netlist& n) {
  namespace fs = std::filesystem;
  if (std::system("command -v yosys > /dev/null 2>&1") != 0) return -1;
  const fs::path dir = fs::temp_directory_path() / ("prunesim_yosys_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const int slot = track_temp_dir(dir.string());  // removed if interrupted (base/output.h)
  std::ofstream(dir / "net.sv") << logic::to_verilog(n, "lgn_net");
  const std::string cmd = "cd '" + dir.string() +
                          "' && yosys -p 'read_verilog -sv net.sv; synth -top lgn_net; stat' "
                          "> yosys.log 2>&1";
  long cells = -1;
  if (run_shell(cmd) == 0) {
    std::ifstream f(dir / "yosys.log");
    static const std::regex re("Number of cells:\\s*(\\d+)");
    std::smatch m;
    for (std::string line; std::getline(f, line);)
      if (std::regex_search(line, m, re)) cells = std::stol(m[1]);
  }
  fs::remove_all(dir);
  forget_temp(slot);
  return cells;
}

void run(const Opts& o) {
  if (!(o.clock_hz > 0)) throw InputError("--clock-hz must be > 0");
  const logic::Netlist file = logic::read_lgn(o.net);
  // Priced as synthesis would leave it: dead gates, buffers and duplicates gone (simplify.h).
  const logic::Netlist n = logic::simplify(file);
  const TechTable t = load_tech_table(tech_table_path(o.tech));
  LgnSamples s;
  if (!o.data.empty()) {
    s = load_lgn_samples(n, o.net, o.data, "");
  } else {
    s.n = 4096;
    s.bits = logic::random_inputs(n, s.n / 64, 1);
  }
  const logic::HwProfile p = logic::hw_profile(n, s.bits, s.n);
  const LogicCost c = price_logic(p, t, o.clock_hz);
  nlohmann::json j = to_json(c);
  j["arch"] = "logic-network";
  j["tech"] = t.name;
  j["network"] = o.net;
  j["gates"] = p.gates;
  j["gates_in_file"] = file.gates.size();
  j["depth_levels"] = p.depth;
  j["input_bits"] = p.inputs;
  j["live_input_bits"] = p.live_inputs;
  j["output_bits"] = p.outputs;
  j["activity_from"] = o.data.empty() ? "random inputs" : o.data;
  j["activity_samples"] = s.n;
  for (int tt = 0; tt < 16; ++tt)
    if (p.by_tt[tt])
      j["gates_by_function"][logic::tt_name(static_cast<logic::TruthTable>(tt))] = p.by_tt[tt];
  if (o.yosys) j["yosys_cells"] = yosys_cells(n);
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("%s as a combinational block (%s, one inference per cycle at %.3g MHz)\n",
              o.net.c_str(), t.name.c_str(), o.clock_hz / 1e6);
  std::printf(
      "  %zu gates (%zu in the file; dead gates, buffers and duplicates removed), depth %zu "
      "levels, %zu of %zu input bits read, %zu output bits\n",
      p.gates, file.gates.size(), p.depth, p.live_inputs, p.inputs, p.outputs);
  std::printf("  %-10s %10s %12s %14s\n", "part", "count", "area um2", "energy pJ/inf");
  for (const LogicPart& x : c.parts)
    std::printf("  %-10s %10.0f %12.1f %14.4f\n", x.name.c_str(), x.count, x.area_um2, x.energy_pj);
  std::printf("  area %.4f mm2 (placement utilisation included), leakage %.3f uW\n",
              c.area_um2 * 1e-6, c.leakage_uw);
  std::printf(
      "  energy per inference %.4f nJ (dynamic %.4f nJ), power %.3f uW, latency %.3g us, "
      "throughput %.3g inferences/s\n",
      c.energy_per_inference_pj * 1e-3, c.dynamic_pj * 1e-3, c.power_uw, c.latency_s * 1e6,
      c.throughput_per_s);
  std::printf("  activity from %s (%zu samples)\n",
              o.data.empty() ? "random inputs" : o.data.c_str(), s.n);
  if (o.yosys) std::printf("  yosys synth: %ld cells\n", j["yosys_cells"].get<long>());
}

void setup(CLI::App& app) {
  CLI::App& g = group(app, "lgn", "discretised logic-gate networks (docs/logic-networks.md)");
  auto* c = g.add_subcommand("report", "gates, depth, area and energy per inference at 65 nm");
  auto o = std::make_shared<Opts>();
  c->add_option("net", o->net, "network (.lgn)")->required();
  c->add_option("--data", o->data, "samples (.npy [N, features]) whose order gives the activity");
  c->add_option("--tech", o->tech, "technology table (name in sim/power/data or a .json path)");
  c->add_option("--clock-hz", o->clock_hz,
                "clock, one inference per cycle (Hz; default: the RAMAN-like core's 2 MHz)");
  c->add_flag("--yosys", o->yosys, "also synthesise the Verilog with yosys and report its cells");
  c->add_flag("--json", o->json, "JSON report on stdout");
  c->callback([o] { run(*o); });
}

const Registrar reg("lgn report", setup);

}  // namespace
}  // namespace prunesim::cli
