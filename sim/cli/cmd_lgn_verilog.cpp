// `prunesim lgn verilog net.lgn -o net.sv [--module NAME]`: the network as a synthesizable
// SystemVerilog module (logic/verilog.h: input x = thermometer bits, output y = output bits);
// `-o net.blif` writes BLIF instead (logic/blif.h), the format ABC and other logic tools read.
#include <iostream>

#include "logic/blif.h"
#include "logic/format.h"
#include "logic/verilog.h"
#include "prune/errors.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string net, out, module;
};

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

void run(const Opts& o) {
  const bool blif = ends_with(o.out, ".blif");
  if (!blif && !ends_with(o.out, ".sv") && !ends_with(o.out, ".v"))
    throw InputError("-o " + o.out + ": the name must end in .sv, .v or .blif");
  const std::string module = o.module.empty() ? logic::module_name_for(o.out) : o.module;
  for (size_t i = 0; i < module.size(); ++i)
    if (!(std::isalnum(static_cast<unsigned char>(module[i])) || module[i] == '_') ||
        (i == 0 && std::isdigit(static_cast<unsigned char>(module[0]))))
      throw InputError("--module " + module + ": not a Verilog identifier");
  const logic::Netlist n = logic::read_lgn(o.net);
  if (blif)
    logic::write_blif(n, o.out, module);
  else
    logic::write_verilog(n, o.out, module);
  std::cout << "wrote " << o.out << ": module " << module << ", " << n.inputs << " input bits, "
            << n.gates.size() << " gates, " << n.outputs.size() << " output bits\n";
}

void setup(CLI::App& app) {
  CLI::App& g = group(app, "lgn", "discretised logic-gate networks (docs/logic-networks.md)");
  auto* c = g.add_subcommand("verilog", "write the network as a SystemVerilog module (or BLIF)");
  auto o = std::make_shared<Opts>();
  c->add_option("net", o->net, "network (.lgn)")->required();
  c->add_option("-o,--out", o->out, "module (.sv/.v) or BLIF netlist (.blif)")->required();
  c->add_option("--module", o->module, "module name (default: the output's file stem)");
  c->callback([o] { run(*o); });
}

const Registrar reg("lgn verilog", setup);

}  // namespace
}  // namespace prunesim::cli
