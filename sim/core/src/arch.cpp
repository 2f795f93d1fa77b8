// The architecture registry (DESIGN.md habit 2).
#include "sim/arch.h"

#include <map>

#include "prune/errors.h"

namespace prunesim {
namespace {
std::map<std::string, std::unique_ptr<Arch>>& registry() {
  static std::map<std::string, std::unique_ptr<Arch>> r;
  return r;
}
}  // namespace

ParamValues Arch::fit(const SimInput&) const {
  throw InputError("--fit: the " + name() + " architecture cannot size itself to a model");
}

void Arch::scheme_hints(const ParamValues&, SchemeOptions*) const {}

ArchRegistrar::ArchRegistrar(const std::string& name, ArchFactory f) {
  registry()[name] = f();
}

const Arch* find_arch(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> arch_names() {
  std::vector<std::string> r;
  for (const auto& kv : registry()) r.push_back(kv.first);
  return r;
}

const Arch& get_arch(const std::string& name) {
  if (const Arch* a = find_arch(name)) return *a;
  std::string known;
  for (const std::string& n : arch_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--arch " + name + ": unknown architecture (known: " + known + ")");
}

}  // namespace prunesim
