// `prunesim simulate --arch A --tables T.pwt --input x.npy [--report r.json] [--output y.npy]
// [--mode M] [--vcd trace.vcd] [--set k=v ...] [--config c.json] [--rate R] [--json]`:
// runs a weight table on an architecture model and reports latency, energy, power and area.
// Everything is checked before the run; outputs are written only after it succeeded.
#include <iostream>

#include "base/output.h"
#include "common.h"
#include "prune/errors.h"
#include "prune/npy.h"
#include "prune/tables.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string arch, tables, input, report, output, output_int8, mode, vcd, config;
  std::vector<std::string> sets;
  double rate = 0;
  bool json = false, stats = false, fit = false;
};

void run(const Opts& o) {
  const Arch& a = get_arch(o.arch);
  check_writable(o.report, "--report");
  check_writable(o.output, "--output");
  check_writable(o.output_int8, "--output-int8");
  check_writable(o.vcd, "--vcd");
  SimInput in;
  in.params = resolve_params(o.arch, a.params(), o.config, o.sets);
  const auto modes = a.modes();
  in.mode = o.mode.empty() ? modes.front() : o.mode;
  if (std::find(modes.begin(), modes.end(), in.mode) == modes.end()) {
    std::string k;
    for (const auto& m : modes) k += (k.empty() ? "" : ", ") + m;
    throw InputError("--mode " + in.mode + ": " + o.arch + " has modes " + k);
  }
  if (o.rate < 0) throw InputError("--rate " + std::to_string(o.rate) + ": must be positive");
  load_table_and_input(o.tables, o.input, &in);
  // Every output (trace, report, tensors) is staged and renamed into place together at the end.
  OutputBatch outputs;
  in.trace_path = o.vcd;
  if (!o.vcd.empty()) in.trace_write_path = outputs.stage_external(o.vcd);
  in.rate_hz = o.rate;
  nlohmann::json fitted;
  if (o.fit) {
    // Sized to the model before the run: the report's area is that of the fitted core.
    const ParamValues before = in.params;
    in.params = a.fit(in);
    for (const char* k : {"act_mem_bytes", "weight_mem_bytes", "acc_bits"})
      if (in.params.json().contains(k) && before.json()[k] != in.params.json()[k])
        fitted[k] = in.params.json()[k];
  }
  SimOutput r = a.simulate(in);
  for (const auto& w : r.report.value("warnings", nlohmann::json::array()))
    warn(w.get<std::string>());
  if (o.fit) r.report["fit"] = fitted;
  if (!o.report.empty()) outputs.stage(o.report, json_text(r.report));
  if (!o.output.empty()) outputs.stage(o.output, npy_bytes(r.output));
  if (!o.output_int8.empty()) outputs.stage(o.output_int8, npy_bytes(r.output_int8));
  outputs.commit();
  if (o.json) {
    std::cout << json_text(r.report);
    return;
  }
  if (o.stats) std::cout << r.stats.to_table(3) << "\n";
  if (o.fit) {
    const nlohmann::json c = r.report["config"];
    std::cout << "fit: act_mem_bytes=" << c["act_mem_bytes"]
              << " B, weight_mem_bytes=" << c["weight_mem_bytes"]
              << " B, acc_bits=" << c["acc_bits"] << " bit, area "
              << r.report["area_mm2"].get<double>() << " mm2\n";
  }
  std::cout << r.summary << "\n";
  if (!o.report.empty()) std::cout << "report -> " << o.report << "\n";
  if (!o.output.empty()) std::cout << "output -> " << o.output << "\n";
  if (!o.vcd.empty()) std::cout << "trace -> " << o.vcd << "\n";
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("simulate", "Run a weight table on an accelerator model");
  c->add_option("--arch", o->arch, "architecture (prunesim config --list)")->required();
  c->add_option("--tables", o->tables, "weight table (.pwt)")->required()->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "input .npy [N, ...]")->required()->check(CLI::ExistingFile);
  c->add_option("--report", o->report, "write the JSON report here");
  c->add_option("--output", o->output, "write the dequantized output .npy here");
  c->add_option("--output-int8", o->output_int8, "write the int8 output codes .npy here");
  c->add_option("--mode", o->mode, "simulation mode (raman: cycle | analytical)");
  c->add_option("--vcd", o->vcd, "write a VCD trace of the core (cycle mode)");
  c->add_option("--set", o->sets, "architecture parameter NAME=VALUE (repeatable)");
  c->add_option("--config", o->config, "JSON object of architecture parameters")
      ->check(CLI::ExistingFile);
  c->add_option("--rate", o->rate, "inferences per second for average power (default: the arch's)");
  c->add_flag("--json", o->json, "print the report as JSON");
  c->add_flag("--stats", o->stats, "print the statistics table");
  c->add_flag("--fit", o->fit,
              "size the memories and the accumulator width to the model (raman), then run");
  c->callback([o] { run(*o); });
}

Registrar reg("simulate", setup);

}  // namespace
}  // namespace prunesim::cli
