// Two-layer configuration: user JSON / --set text -> validated ParamValues (DESIGN.md habit 3).
#include "sim/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "prune/errors.h"

namespace prunesim {
namespace {

std::string range_str(const ParamSpec& s) {
  std::ostringstream os;
  if (s.type == ParamSpec::Type::Choice) {
    for (size_t i = 0; i < s.choices.size(); ++i) os << (i ? "|" : "") << s.choices[i];
    return os.str();
  }
  if (s.type == ParamSpec::Type::Bool) return "true|false";
  if (s.min > s.max) return "";
  os << "[" << s.min << ", " << s.max << "]";
  return os.str();
}

const char* type_str(ParamSpec::Type t) {
  switch (t) {
    case ParamSpec::Type::Int:
      return "int";
    case ParamSpec::Type::Real:
      return "real";
    case ParamSpec::Type::Bool:
      return "bool";
    case ParamSpec::Type::Choice:
      return "choice";
    case ParamSpec::Type::Text:
      return "text";
  }
  return "?";
}

const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& name) {
  for (const ParamSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& where, const std::string& arch,
                              const std::string& key) {
  throw InputError(where + ": key '" + key + "': unknown parameter of " + arch +
                   " (prunesim config --dump " + arch + " lists them)");
}

}  // namespace

nlohmann::json check_param_value(const ParamSpec& s, const nlohmann::json& v,
                                 const std::string& where) {
  const std::string place = where + ": " + s.name;
  switch (s.type) {
    case ParamSpec::Type::Int: {
      if (!v.is_number()) throw InputError(place + ": expected an integer");
      const double d = v.get<double>();
      if (d != std::floor(d) || !std::isfinite(d))
        throw InputError(place + ": expected an integer");
      if (s.min <= s.max && (d < s.min || d > s.max))
        throw InputError(place + " must be in " + range_str(s) + " (got " + v.dump() + ")");
      return static_cast<int64_t>(d);
    }
    case ParamSpec::Type::Real: {
      if (!v.is_number()) throw InputError(place + ": expected a number");
      const double d = v.get<double>();
      if (!std::isfinite(d)) throw InputError(place + ": expected a finite number");
      if (s.min <= s.max && (d < s.min || d > s.max))
        throw InputError(place + " must be in " + range_str(s) + " (got " + v.dump() + ")");
      return d;
    }
    case ParamSpec::Type::Bool:
      if (!v.is_boolean()) throw InputError(place + ": expected true or false");
      return v;
    case ParamSpec::Type::Choice: {
      if (!v.is_string()) throw InputError(place + ": expected one of " + range_str(s));
      for (const std::string& c : s.choices)
        if (c == v.get<std::string>()) return v;
      throw InputError(place + ": '" + v.get<std::string>() + "' is not one of " + range_str(s));
    }
    case ParamSpec::Type::Text:
      if (!v.is_string()) throw InputError(place + ": expected text");
      return v;
  }
  return v;
}

nlohmann::json parse_param_value(const ParamSpec& s, const std::string& text,
                                 const std::string& where) {
  nlohmann::json v;
  if (s.type == ParamSpec::Type::Choice || s.type == ParamSpec::Type::Text) {
    v = text;
  } else if (s.type == ParamSpec::Type::Bool) {
    if (text == "true" || text == "1")
      v = true;
    else if (text == "false" || text == "0")
      v = false;
    else
      throw InputError(where + ": " + s.name + ": expected true or false, got '" + text + "'");
  } else {
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
      throw InputError(where + ": " + s.name + ": '" + text + "' is not a number");
    v = d;
  }
  return check_param_value(s, v, where);
}

ParamValues resolve_params(const std::string& arch, const std::vector<ParamSpec>& specs,
                           const std::string& config_file, const std::vector<std::string>& sets) {
  ParamValues out(specs);
  if (!config_file.empty()) {
    std::ifstream f(config_file);
    if (!f) throw InputError(config_file + ": cannot open");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
      throw InputError(config_file + ": not valid JSON: " + std::string(e.what()));
    }
    if (!j.is_object()) throw InputError(config_file + ": expected a JSON object of parameters");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const ParamSpec* s = find_spec(specs, it.key());
      if (!s) unknown_key(config_file, arch, it.key());
      out.set(s->name, check_param_value(*s, it.value(), config_file + ": key '" + it.key() + "'"));
    }
  }
  for (const std::string& kv : sets) {
    const auto eq = kv.find('=');
    const std::string where = "--set " + kv;
    if (eq == std::string::npos || eq == 0) throw InputError(where + ": expected KEY=VALUE");
    const std::string key = kv.substr(0, eq);
    const ParamSpec* s = find_spec(specs, key);
    if (!s) unknown_key("--set", arch, key);
    out.set(key, parse_param_value(*s, kv.substr(eq + 1), where));
  }
  return out;
}

std::string dump_params_table(const std::string& arch, const std::vector<ParamSpec>& specs) {
  size_t w = 4;
  for (const ParamSpec& s : specs) w = std::max(w, s.name.size());
  std::ostringstream os;
  os << "parameters of " << arch << " (set with --set NAME=VALUE or --config FILE.json)\n\n";
  char line[1024];
  std::snprintf(line, sizeof line, "%-*s  %-6s  %-12s  %-8s  %-22s  %s\n", static_cast<int>(w),
                "name", "type", "default", "unit", "range", "meaning");
  os << line;
  for (const ParamSpec& s : specs) {
    std::string def = s.def.is_string() ? s.def.get<std::string>() : s.def.dump();
    std::snprintf(line, sizeof line, "%-*s  %-6s  %-12s  %-8s  %-22s  %s", static_cast<int>(w),
                  s.name.c_str(), type_str(s.type), def.c_str(), s.unit.c_str(),
                  range_str(s).c_str(), s.meaning.c_str());
    os << line;
    if (!s.source.empty()) os << " [" << s.source << "]";
    os << "\n";
  }
  return os.str();
}

nlohmann::json dump_params_json(const std::string& arch, const std::vector<ParamSpec>& specs) {
  nlohmann::json j = {{"arch", arch}, {"parameters", nlohmann::json::array()}};
  for (const ParamSpec& s : specs) {
    nlohmann::json p = {{"name", s.name}, {"type", type_str(s.type)}, {"default", s.def},
                        {"unit", s.unit}, {"meaning", s.meaning},     {"source", s.source}};
    if (s.type == ParamSpec::Type::Choice) p["choices"] = s.choices;
    if ((s.type == ParamSpec::Type::Int || s.type == ParamSpec::Type::Real) && s.min <= s.max) {
      p["min"] = s.min;
      p["max"] = s.max;
    }
    j["parameters"].push_back(p);
  }
  return j;
}

}  // namespace prunesim
