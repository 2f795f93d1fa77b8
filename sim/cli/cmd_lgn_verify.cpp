// `prunesim lgn verify net.lgn --data X.npy [--keep DIR] [--broken] [--json]`: the network's
// SystemVerilog (lgn verilog) Verilated and run on every sample, each output bit compared with
// the bit-parallel evaluator; exit 0 when all agree, 1 with the first divergence (sample,
// output) otherwise. --broken complements the gate driving output 0 in the RTL, to show the check
// bites.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lgn_samples.h"
#include "lgn_verilate.h"
#include "logic/format.h"
#include "prune/errors.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string net, data, keep;
  bool json = false, broken = false;
};

void run(const Opts& o) {
  run_lgn_verify(o.net, o.data, o.keep, o.broken, o.json);
}

}  // namespace

void run_lgn_verify(const std::string& net, const std::string& data, const std::string& keep,
                    bool broken, bool json) {
  const Opts o{net, data, keep, json, broken};
  const logic::Netlist n = logic::read_lgn(o.net);
  const LgnSamples s = load_lgn_samples(n, o.net, o.data, "");
  logic::Netlist dut = n;
  if (o.broken) {
    // The gate that drives output 0 complemented: output 0 is wrong on every sample.
    if (dut.outputs[0] < dut.inputs)
      throw InputError(o.net + ": --broken needs output 0 to be driven by a gate");
    dut.gates[dut.outputs[0] - dut.inputs].tt ^= 0b1111;
  }
  // The DUT's RTL against the evaluator run on the unmodified network.
  const LgnVerifyResult r = verilate_and_compare(dut, n, s.bits, s.n, o.keep);
  set_exit_code(r.pass ? 0 : 1);
  nlohmann::json j = {
      {"pass", r.pass},       {"network", o.net},           {"samples", r.samples},
      {"outputs", r.outputs}, {"mismatches", r.mismatches}, {"verilator_build_s", r.build_s},
      {"rtl_run_s", r.run_s}};
  if (!r.pass)
    j["first_divergence"] = {{"sample", r.first_sample},
                             {"output", r.first_output},
                             {"expected", r.expected},
                             {"actual", r.actual}};
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf(
      "%s: RTL vs evaluator on %zu samples x %zu output bits: %s (Verilator build %.1f s, "
      "run %.2f s)\n",
      o.net.c_str(), r.samples, r.outputs, r.pass ? "PASS, every bit equal" : "FAIL", r.build_s,
      r.run_s);
  if (!r.pass)
    std::printf(
        "  first divergence: sample %ld, output %ld: evaluator %d, RTL %d (%zu bits differ)\n",
        r.first_sample, r.first_output, r.expected, r.actual, r.mismatches);
}

namespace {

void setup(CLI::App& app) {
  CLI::App& g = group(app, "lgn", "discretised logic-gate networks (docs/logic-networks.md)");
  auto* c =
      g.add_subcommand("verify", "run the network's Verilog in Verilator against the evaluator");
  auto o = std::make_shared<Opts>();
  c->add_option("net", o->net, "network (.lgn)")->required();
  c->add_option("--data", o->data, "samples (.npy [N, features]), every one is run")->required();
  c->add_option("--keep", o->keep, "build in this folder and keep it (default: a temporary one)");
  c->add_flag("--broken", o->broken,
              "complement the gate driving output 0 in the RTL (the check must fail)");
  c->add_flag("--json", o->json, "JSON report on stdout");
  c->callback([o] { run(*o); });
}

const Registrar reg("lgn verify", setup);

}  // namespace
}  // namespace prunesim::cli
