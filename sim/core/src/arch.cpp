// The architecture registry (DESIGN.md habit 2).
#include "sim/arch.h"

#include "prune/errors.h"

namespace prunesim {

Registry<Arch>& arch_registry() {
  static Registry<Arch> r("architecture");
  return r;
}

ParamValues Arch::fit(const SimInput&) const {
  throw InputError("--fit: the " + name() + " architecture cannot size itself to a model");
}

nlohmann::json Arch::scheme_hints(const ParamValues&) const {
  return nlohmann::json::object();
}

const Arch* find_arch(const std::string& name) {
  return arch_registry().find(name);
}

std::vector<std::string> arch_names() {
  return arch_registry().names();
}

const Arch& get_arch(const std::string& name) {
  return arch_registry().get(name, "--arch");
}

std::vector<std::string> target_encodings(const std::string& target, const std::string& where) {
  if (target.empty()) return {};
  const Arch* a = find_arch(target);
  if (a && !a->encodings().empty()) return a->encodings();
  std::string known;
  for (const Arch* t : arch_registry().items())
    if (!t->encodings().empty()) known += t->name() + ", ";
  throw InputError(where + ": unknown target '" + target + "' (known: " + known +
                   "or none for any)");
}

}  // namespace prunesim
