// Two-layer configuration: user JSON / --set text / flags -> validated ParamValues (DESIGN.md
// habit 3), for architectures, pruning schemes and encodings alike.
#include "base/params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/errors.h"
#include "base/limits.h"

namespace prunesim {
namespace {

std::string num_str(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

std::string param_range(const ParamSpec& s) {
  std::ostringstream os;
  if (s.type == ParamSpec::Type::Choice || (s.type == ParamSpec::Type::Int && !s.choices.empty())) {
    for (size_t i = 0; i < s.choices.size(); ++i) os << (i ? "|" : "") << s.choices[i];
    return os.str();
  }
  if (s.type == ParamSpec::Type::Bool) return "true|false";
  if (s.min > s.max) return "";
  os << "[" << num_str(s.min) << ", " << num_str(s.max) << "]";
  if (s.type == ParamSpec::Type::IntList) os << " x" << s.count;
  return os.str();
}

std::string param_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return num_str(v.get<double>());
  if (v.is_array()) {
    std::string r;
    for (const auto& e : v) r += (r.empty() ? "" : ",") + param_text(e);
    return r;
  }
  return v.dump();
}

namespace {

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
    case ParamSpec::Type::IntList:
      return "ints";
  }
  return "?";
}

[[noreturn]] void unknown_key(const std::string& where, const std::string& owner,
                              const std::string& key, const std::string& lister) {
  throw InputError(where + ": key '" + key + "': unknown parameter of " + owner + " (" +
                   (lister.empty() ? "prunesim config --dump " + owner : lister) + " lists them)");
}

// Text values end up in reports (JSON): a --set value that is not UTF-8 (a JSON file's strings
// are checked by the parser) is refused here rather than by nlohmann's dump() later.
void check_utf8(const nlohmann::json& v, const std::string& place) {
  const std::string& t = v.get_ref<const std::string&>();
  if (!valid_utf8(t)) throw InputError(place + ": '" + utf8_escape(t) + "' is not valid UTF-8");
}

// One integer of an Int or IntList spec: whole, finite, in range.
int64_t check_int(const ParamSpec& s, const nlohmann::json& v, const std::string& place) {
  if (!v.is_number()) throw InputError(place + ": expected an integer");
  const double d = v.get<double>();
  if (d != std::floor(d) || !std::isfinite(d)) throw InputError(place + ": expected an integer");
  // Converting a double beyond int64 is undefined: refuse it whatever the spec's range.
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    throw InputError(place + ": " + v.dump() + " does not fit a 64-bit integer");
  if (s.min <= s.max && (d < s.min || d > s.max))
    throw InputError(place + " must be in " + param_range(s) + " (got " + v.dump() + ")");
  return static_cast<int64_t>(d);
}

}  // namespace

const ParamSpec* find_param(const std::vector<ParamSpec>& specs, const std::string& name) {
  for (const ParamSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

nlohmann::json check_param_value(const ParamSpec& s, const nlohmann::json& v,
                                 const std::string& where) {
  const std::string place = where + ": " + s.name;
  switch (s.type) {
    case ParamSpec::Type::Int: {
      const int64_t i = check_int(s, v, place);
      // Allowed values only (e.g. 4|8|16): the range does not say enough.
      if (!s.choices.empty() &&
          std::find(s.choices.begin(), s.choices.end(), std::to_string(i)) == s.choices.end())
        throw InputError(place + ": " + std::to_string(i) + " is not one of " + param_range(s));
      return i;
    }
    case ParamSpec::Type::Real: {
      if (s.inf_ok && v.is_string() && v.get<std::string>() == "inf")
        return std::numeric_limits<double>::infinity();
      if (!v.is_number())
        throw InputError(place +
                         (s.inf_ok ? ": expected a number or \"inf\"" : ": expected a number"));
      const double d = v.get<double>();
      if (std::isnan(d) || (std::isinf(d) && !s.inf_ok))
        throw InputError(place + ": expected a finite number");
      if (s.min <= s.max && (d < s.min || d > s.max))
        throw InputError(place + " must be in " + param_range(s) + " (got " + v.dump() + ")");
      return d;
    }
    case ParamSpec::Type::IntList: {
      if (!v.is_array() || static_cast<int>(v.size()) != s.count)
        throw InputError(place + ": expected " + std::to_string(s.count) + " integers");
      std::vector<int64_t> r;
      for (const auto& e : v) r.push_back(check_int(s, e, place));
      return r;
    }
    case ParamSpec::Type::Bool:
      if (!v.is_boolean()) throw InputError(place + ": expected true or false");
      return v;
    case ParamSpec::Type::Choice: {
      if (!v.is_string()) throw InputError(place + ": expected one of " + param_range(s));
      check_utf8(v, place);
      for (const std::string& c : s.choices)
        if (c == v.get<std::string>()) return v;
      throw InputError(place + ": '" + v.get<std::string>() + "' is not one of " + param_range(s));
    }
    case ParamSpec::Type::Text:
      if (!v.is_string()) throw InputError(place + ": expected text");
      check_utf8(v, place);
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
    auto number = [&](const std::string& t) {
      char* end = nullptr;
      const double d = std::strtod(t.c_str(), &end);
      if (t.empty() || end != t.c_str() + t.size() || (std::isinf(d) && !s.inf_ok))
        throw InputError(where + ": " + s.name + ": '" + text + "' is not a number");
      return d;
    };
    if (s.type == ParamSpec::Type::IntList) {
      v = nlohmann::json::array();
      std::stringstream ss(text);
      for (std::string part; std::getline(ss, part, ',');) v.push_back(number(part));
    } else {
      v = number(text);
    }
  }
  return check_param_value(s, v, where);
}

ParamValues resolve_params(const std::string& owner, const std::vector<ParamSpec>& specs,
                           const std::string& config_file, const std::vector<std::string>& sets,
                           const std::string& lister) {
  std::string text;
  if (!config_file.empty()) {
    std::ifstream f(config_file, std::ios::binary);
    if (!f) throw InputError(config_file + ": cannot open");
    std::ostringstream s;
    s << f.rdbuf();
    text = s.str();
  }
  return resolve_params_text(owner, specs, text, config_file, sets, lister);
}

ParamValues resolve_params_text(const std::string& owner, const std::vector<ParamSpec>& specs,
                                const std::string& config_text, const std::string& config_file,
                                const std::vector<std::string>& sets, const std::string& lister) {
  ParamValues out(specs);
  if (!config_file.empty()) {
    const nlohmann::json j = parse_json_input(config_text, config_file);
    if (!j.is_object()) throw InputError(config_file + ": expected a JSON object of parameters");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const ParamSpec* s = find_param(specs, it.key());
      if (!s) unknown_key(config_file, owner, it.key(), lister);
      out.set(s->name, check_param_value(*s, it.value(), config_file + ": key '" + it.key() + "'"));
    }
  }
  for (const std::string& kv : sets) {
    const auto eq = kv.find('=');
    const std::string where = "--set " + kv;
    if (eq == std::string::npos || eq == 0) throw InputError(where + ": expected KEY=VALUE");
    const std::string key = kv.substr(0, eq);
    const ParamSpec* s = find_param(specs, key);
    if (!s) unknown_key("--set", owner, key, lister);
    out.set(key, parse_param_value(*s, kv.substr(eq + 1), where));
  }
  return out;
}

std::string dump_params_table(const std::string& owner, const std::vector<ParamSpec>& specs) {
  size_t w = 4;
  for (const ParamSpec& s : specs) w = std::max(w, s.name.size());
  std::ostringstream os;
  os << "parameters of " << owner << " (set with --set NAME=VALUE or --config FILE.json)\n\n";
  char line[1024];
  std::snprintf(line, sizeof line, "%-*s  %-6s  %-12s  %-8s  %-22s  %s\n", static_cast<int>(w),
                "name", "type", "default", "unit", "range", "meaning");
  os << line;
  for (const ParamSpec& s : specs) {
    const std::string def = param_text(s.def);
    std::snprintf(line, sizeof line, "%-*s  %-6s  %-12s  %-8s  %-22s  %s", static_cast<int>(w),
                  s.name.c_str(), type_str(s.type), def.c_str(), s.unit.c_str(),
                  param_range(s).c_str(), s.meaning.c_str());
    os << line;
    if (!s.source.empty()) os << " [" << s.source << "]";
    os << "\n";
  }
  return os.str();
}

nlohmann::json dump_params_json(const std::string& owner, const std::vector<ParamSpec>& specs) {
  nlohmann::json j = {{"arch", owner}, {"parameters", nlohmann::json::array()}};
  for (const ParamSpec& s : specs) {
    nlohmann::json p = {{"name", s.name}, {"type", type_str(s.type)}, {"default", s.def},
                        {"unit", s.unit}, {"meaning", s.meaning},     {"source", s.source}};
    if (s.type == ParamSpec::Type::Choice || !s.choices.empty()) p["choices"] = s.choices;
    if (s.type == ParamSpec::Type::IntList) p["count"] = s.count;
    if (s.type != ParamSpec::Type::Choice && s.choices.empty() && s.min <= s.max) {
      p["min"] = s.min;
      p["max"] = s.max;
    }
    j["parameters"].push_back(p);
  }
  return j;
}

}  // namespace prunesim
