// The registry of weight-table encodings (one .cpp each in prune/src/encodings/) and the
// resolution of their parameters.
#include <algorithm>
#include <stdexcept>

#include "prune/errors.h"
#include "prune/tables.h"

namespace prunesim {

EncodingRegistry& encoding_registry() {
  static EncodingRegistry r;
  return r;
}

const Encoding& EncodingRegistry::add(std::unique_ptr<Encoding> e) {
  // Ids are written into files: two encodings with one id would make old files ambiguous.
  if (find(e->id()))
    throw std::logic_error("weight-table encoding '" + e->name() + "': id " +
                           std::to_string(e->id()) + " is registered twice");
  return Registry<Encoding>::add(std::move(e));
}

const Encoding* EncodingRegistry::find(uint8_t id) const {
  for (const Encoding* e : items())
    if (e->id() == id) return e;
  return nullptr;
}

const Encoding* find_encoding(const std::string& name) {
  return encoding_registry().find(name);
}

const Encoding* find_encoding(uint8_t id) {
  return encoding_registry().find(id);
}

std::vector<std::string> encoding_names() {
  std::vector<const Encoding*> all = encoding_registry().items();
  std::sort(all.begin(), all.end(),
            [](const Encoding* a, const Encoding* b) { return a->id() < b->id(); });
  std::vector<std::string> r;
  for (const Encoding* e : all) r.push_back(e->name());
  return r;
}

std::string encoding_flag(const std::string& encoding, const std::string& param) {
  std::string f = "--" + encoding + "-" + param;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

ParamValues encoding_params(const Encoding& e, const nlohmann::json& given,
                            const std::string& path) {
  const std::vector<ParamSpec> specs = e.params();
  ParamValues pv(specs);
  if (!given.is_object() || !given.contains(e.name())) return pv;
  for (const auto& [key, v] : given[e.name()].items()) {
    const std::string flag = encoding_flag(e.name(), key);
    const ParamSpec* s = find_param(specs, key);
    if (!s) fail(path, flag, "not a parameter of the " + e.name() + " encoding");
    try {
      pv.set(key, check_param_value(*s, v, flag));
    } catch (const InputError& err) {
      throw InputError(path + ": " + err.what());
    }
  }
  return pv;
}

}  // namespace prunesim
