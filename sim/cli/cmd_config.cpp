// `prunesim config --dump ARCH [--json]` prints every parameter of an architecture (name, type,
// default, unit, range, meaning, source); `prunesim config --list` the architectures.
#include <iostream>

#include "common.h"
#include "prune/errors.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string dump;
  bool list = false, json = false;
};

void run(const Opts& o) {
  if (o.list || o.dump.empty()) {
    for (const std::string& n : arch_names())
      std::cout << n << "  " << get_arch(n).description() << "\n";
    return;
  }
  const Arch& a = get_arch(o.dump);
  if (o.json) {
    nlohmann::json j = dump_params_json(o.dump, a.params());
    j["modes"] = a.modes();
    j["default_rate_hz"] = a.default_rate_hz();
    std::cout << json_text(j);
    return;
  }
  std::cout << dump_params_table(o.dump, a.params());
  std::cout << "\nmodes: ";
  for (const auto& m : a.modes()) std::cout << m << (m == a.modes().front() ? " (default) " : " ");
  std::cout << "\ndefault inference rate for power: " << a.default_rate_hz() << " 1/s\n";
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("config", "Architecture parameters: --dump ARCH or --list");
  c->add_option("--dump", o->dump, "print every parameter of ARCH");
  c->add_flag("--list", o->list, "list the architectures");
  c->add_flag("--json", o->json, "JSON instead of a table");
  c->callback([o] { run(*o); });
}

Registrar reg("config", setup);

}  // namespace
}  // namespace prunesim::cli
