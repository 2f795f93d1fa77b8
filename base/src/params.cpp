// ParamSpec constructors and typed access to resolved values.
#include "base/params.h"

#include <stdexcept>

namespace prunesim {

ParamSpec int_param(std::string name, int64_t def, double min, double max, std::string unit,
                    std::string meaning, std::string source) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = ParamSpec::Type::Int;
  s.def = def;
  s.min = min;
  s.max = max;
  s.unit = std::move(unit);
  s.meaning = std::move(meaning);
  s.source = std::move(source);
  return s;
}

ParamSpec real_param(std::string name, double def, double min, double max, std::string unit,
                     std::string meaning, std::string source) {
  ParamSpec s = int_param(std::move(name), 0, min, max, std::move(unit), std::move(meaning),
                          std::move(source));
  s.type = ParamSpec::Type::Real;
  s.def = def;
  return s;
}

ParamSpec bool_param(std::string name, bool def, std::string meaning, std::string source) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = ParamSpec::Type::Bool;
  s.def = def;
  s.meaning = std::move(meaning);
  s.source = std::move(source);
  s.min = 1;  // no range
  s.max = 0;
  return s;
}

ParamSpec text_param(std::string name, std::string def, std::string unit, std::string meaning) {
  ParamSpec s = bool_param(std::move(name), false, std::move(meaning));
  s.type = ParamSpec::Type::Text;
  s.def = std::move(def);
  s.unit = std::move(unit);
  return s;
}

ParamSpec int_list_param(std::string name, std::vector<int64_t> def, double min, double max,
                         std::string unit, std::string meaning) {
  ParamSpec s = int_param(std::move(name), 0, min, max, std::move(unit), std::move(meaning));
  s.type = ParamSpec::Type::IntList;
  s.count = static_cast<int>(def.size());
  s.def = def;
  return s;
}

ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices,
                       std::string meaning, std::string source) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = ParamSpec::Type::Choice;
  s.def = std::move(def);
  s.choices = std::move(choices);
  s.meaning = std::move(meaning);
  s.source = std::move(source);
  s.min = 1;
  s.max = 0;
  return s;
}

ParamValues::ParamValues(const std::vector<ParamSpec>& specs) {
  for (const ParamSpec& s : specs) values_[s.name] = s.def;
}

namespace {
const nlohmann::json& at(const nlohmann::json& v, const std::string& name) {
  auto it = v.find(name);
  // A model asking for a parameter it did not declare is a bug, not a user error.
  if (it == v.end()) throw std::logic_error("parameter '" + name + "' was not declared");
  return *it;
}
}  // namespace

int64_t ParamValues::i(const std::string& name) const {
  const auto& v = at(values_, name);
  return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
}
double ParamValues::d(const std::string& name) const {
  return at(values_, name).get<double>();
}
bool ParamValues::b(const std::string& name) const {
  return at(values_, name).get<bool>();
}
std::string ParamValues::s(const std::string& name) const {
  return at(values_, name).get<std::string>();
}
std::vector<int64_t> ParamValues::list(const std::string& name) const {
  return at(values_, name).get<std::vector<int64_t>>();
}

}  // namespace prunesim
