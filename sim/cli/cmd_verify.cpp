// `prunesim verify --arch raman --tables T.pwt --input x.npy [--rtl pe_array,decoder]
// [--trace out.fst|out.vcd] [--set k=v ...] [--config c.json] [--no-lockstep] [--broken V]
// [--json]`, or `prunesim verify --lgn net.lgn --data X.npy [--json]` (the logic network's RTL,
// what `lgn verify` runs):
// runs the table on the RAMAN-like core's RTL (Verilator) — the whole core, or the chosen blocks
// inside the SystemC twin netlist — and exits 0 when the outputs are bit-exact with the integer
// reference and the cycles equal the SystemC model's, 1 with the first divergence otherwise.
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "lgn_verilate.h"
#include "prune/errors.h"
#include "prune/tables.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"
#ifdef PRUNESIM_HAVE_COSIM
#include "cosim/verify.h"
#endif

namespace prunesim::cli {
namespace {

struct Opts {
  std::string arch, tables, input, trace, config, rtl, variant, lgn, data;
  std::vector<std::string> sets;
  bool json = false, no_lockstep = false;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a <= s.size()) {
    const size_t b = std::min(s.find(',', a), s.size());
    if (b > a) out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

// `--lgn`: the logic network's check; none of the accelerator options apply to it.
void run_lgn(const Opts& o) {
  const std::vector<std::pair<const char*, bool>> other = {
      {"--arch", !o.arch.empty()},     {"--tables", !o.tables.empty()},
      {"--input", !o.input.empty()},   {"--rtl", !o.rtl.empty()},
      {"--trace", !o.trace.empty()},   {"--set", !o.sets.empty()},
      {"--config", !o.config.empty()}, {"--broken", !o.variant.empty()},
      {"--no-lockstep", o.no_lockstep}};
  for (const auto& [flag, given] : other)
    if (given)
      throw InputError(std::string("verify --lgn: ") + flag +
                       " is for the accelerator (the logic network takes --data and --json; "
                       "`lgn verify` has --keep and --broken)");
  if (o.data.empty()) throw InputError("verify --lgn needs --data (the samples it runs)");
  run_lgn_verify(o.lgn, o.data, "", false, o.json);
}

void run(const Opts& o) {
  if (!o.lgn.empty()) return run_lgn(o);
  if (!o.data.empty()) throw InputError("--data goes with --lgn (the accelerator takes --input)");
  for (const auto& [flag, v] : {std::pair{"--arch", &o.arch}, std::pair{"--tables", &o.tables},
                                std::pair{"--input", &o.input}})
    if (v->empty()) throw InputError(std::string(flag) + " is required (or --lgn NET --data X)");
  if (o.arch != "raman") throw InputError("--arch " + o.arch + ": only raman has RTL to verify");
#ifndef PRUNESIM_HAVE_COSIM
  throw InputError(
      "verify: this prunesim was built without Verilator (scripts/setup.sh installs it)");
#else
  const Arch& a = get_arch(o.arch);
  check_writable(o.trace, "--trace");
  SimInput in;
  in.params = resolve_params(o.arch, a.params(), o.config, o.sets);
  load_table_and_input(o.tables, o.input, &in);
  cosim::VerifyOptions vo;
  vo.run.rtl = split_list(o.rtl);
  if (!o.rtl.empty() && vo.run.rtl.empty()) throw InputError("--rtl: empty block list");
  vo.run.trace = o.trace;
  vo.run.lockstep = !o.no_lockstep;
  if (!o.variant.empty() && o.variant != "broken_round" && o.variant != "broken_order")
    throw InputError("--broken " + o.variant + ": the broken cores are broken_round, broken_order");
  if (!o.variant.empty() && !vo.run.rtl.empty())
    throw InputError("--broken " + o.variant + ": a broken core is a whole core (no --rtl)");
  vo.run.variant = o.variant;
  const cosim::VerifyReport r = cosim::verify_raman(in, vo);
  set_exit_code(r.pass ? 0 : 1);
  if (o.json) {
    nlohmann::json j;
    j["pass"] = r.pass;
    j["dut"] = r.dut;
    j["samples"] = r.samples;
    j["cycles_model"] = r.model_cycles;
    j["cycles_rtl"] = r.rtl_cycles;
    j["bit_exact_vs_reference"] = r.bit_exact;
    j["output_mismatches"] = r.mismatches;
    j["lockstep"] = !o.no_lockstep;
    j["first_divergence"] = r.first_failure;
    if (r.div.found)
      j["divergence"] = {{"cycle", r.div.cycle},
                         {"block", r.div.block},
                         {"signal", r.div.signal},
                         {"expected", r.div.expected},
                         {"actual", r.div.actual}};
    j["rtl_wall_s"] = r.rtl_seconds;
    j["rtl_cycles_simulated"] = r.rtl_cycles_run;
    j["model_wall_s"] = r.model_seconds;  // the SystemC model's run of the same samples
    std::cout << json_text(j);
    return;
  }
  std::cout << "verify raman: " << o.tables << " on " << r.dut << ", " << r.samples << " sample(s)"
            << (o.no_lockstep ? "" : ", lockstep against the SystemC twins") << "\n";
  for (size_t s = 0; s < r.model_cycles.size(); ++s) {
    std::cout << "  sample " << s << ": ";
    // A sample the RTL never finished: the run stopped at the first divergence (or earlier).
    if (s < r.rtl_cycles.size() && r.rtl_cycles[s] >= 0)
      std::cout << r.rtl_cycles[s] << " cycles RTL, ";
    else
      std::cout << "RTL run stopped before the end (at the divergence below), ";
    std::cout << r.model_cycles[s] << " cycles SystemC model\n";
  }
  std::cout << "  outputs " << (r.bit_exact ? "bit-exact with" : "DIFFER from")
            << " the integer reference";
  if (!r.bit_exact) std::cout << " (" << r.mismatches << " elements)";
  std::cout << "\n";
  if (r.rtl_seconds > 0)
    std::cout << "  RTL simulation: " << r.rtl_cycles_run << " cycles in " << r.rtl_seconds
              << " s (" << static_cast<int64_t>(r.rtl_cycles_run / r.rtl_seconds) << " cycles/s)\n";
  if (!o.trace.empty()) std::cout << "  trace -> " << o.trace << "\n";
  if (r.pass)
    std::cout << "PASS\n";
  else
    std::cout << "FAIL: " << r.first_failure << "\n";
#endif
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c =
      app.add_subcommand("verify", "Check the accelerator RTL against the reference and model");
  c->add_option("--arch", o->arch, "architecture with RTL (raman); required without --lgn");
  c->add_option("--tables", o->tables, "weight table (.pwt); required without --lgn")
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "input .npy [N, ...]; required without --lgn")
      ->check(CLI::ExistingFile);
  c->add_option("--lgn", o->lgn,
                "instead: a logic network (.lgn), its Verilog run in Verilator against the "
                "bit-parallel evaluator on every sample of --data (as `lgn verify`)");
  c->add_option("--data", o->data, "--lgn: samples (.npy [N, features])");
  c->add_option("--rtl", o->rtl,
                "mixed mode: blocks in RTL, comma-separated (act_mem, decoder, pe_array, "
                "requant, ctrl); default: the whole core in RTL");
  c->add_option("--trace", o->trace, "write a trace: .fst (Verilator) or .vcd");
  c->add_option("--set", o->sets, "architecture parameter NAME=VALUE (repeatable)");
  c->add_option("--config", o->config, "JSON object of architecture parameters")
      ->check(CLI::ExistingFile);
  c->add_flag("--no-lockstep", o->no_lockstep,
              "do not run the SystemC twin netlist beside the RTL (faster; only outputs and "
              "cycles are checked)");
  c->add_option("--broken", o->variant,
                "run a deliberately broken build of the whole core to see the checker fail: "
                "broken_round (the requantizer truncates), broken_order (decoders yield the "
                "highest slot first)");
  c->add_flag("--json", o->json, "print the result as JSON");
  c->callback([o] { run(*o); });
}

Registrar reg("verify", setup);

}  // namespace
}  // namespace prunesim::cli
