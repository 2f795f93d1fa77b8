// Self-documenting parameters (DESIGN.md habit 3): every architecture, pruning scheme and
// weight-table encoding declares its parameters as ParamSpecs (name, type, unit, default, range,
// meaning); user input (a JSON file, --set k=v, a flag, a recipe key) is resolved against them
// into ParamValues, which the component reads. Components never parse user input.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prunesim {

struct ParamSpec {
  // IntList: `count` integers, each in [min, max] ("1,4" as text, [1, 4] in JSON).
  enum class Type { Int, Real, Bool, Choice, Text, IntList };
  std::string name;  // flat, may contain dots ("place.demosaic")
  Type type = Type::Int;
  nlohmann::json def;  // default value (number, bool or string)
  std::string unit;    // "Hz", "B", "V", "cycles", "1" for counts, "" for choices/flags
  std::string meaning;
  double min = 0, max = 0;           // Int/Real: inclusive range (ignored if min > max)
  std::vector<std::string> choices;  // Choice: allowed values; Int: allowed values, if any
  bool inf_ok = false;               // Real: "inf" (text or JSON string) is a value too
  int count = 0;                     // IntList: number of integers
  std::string source;                // where the default comes from (REFERENCE.md §, datasheet)
};

ParamSpec int_param(std::string name, int64_t def, double min, double max, std::string unit,
                    std::string meaning, std::string source = "");
ParamSpec real_param(std::string name, double def, double min, double max, std::string unit,
                     std::string meaning, std::string source = "");
ParamSpec bool_param(std::string name, bool def, std::string meaning, std::string source = "");
ParamSpec text_param(std::string name, std::string def, std::string unit, std::string meaning);
ParamSpec int_list_param(std::string name, std::vector<int64_t> def, double min, double max,
                         std::string unit, std::string meaning);
ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices,
                       std::string meaning, std::string source = "");

// Resolved, validated values: every declared parameter is present with the right type.
class ParamValues {
 public:
  ParamValues() = default;
  // All defaults of specs.
  explicit ParamValues(const std::vector<ParamSpec>& specs);
  int64_t i(const std::string& name) const;
  double d(const std::string& name) const;
  bool b(const std::string& name) const;
  std::string s(const std::string& name) const;
  std::vector<int64_t> list(const std::string& name) const;
  bool has(const std::string& name) const { return values_.contains(name); }
  // Sets without validation (sim/core validates before calling this).
  void set(const std::string& name, nlohmann::json v) { values_[name] = std::move(v); }
  const nlohmann::json& json() const { return values_; }

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

// Applies, in order: defaults, the JSON object in config_file (if not empty; keys are parameter
// names, values numbers/bools/strings), then each "key=value" of sets. Errors:
// "<file>: key 'x': unknown parameter of <owner>" / "--set pe_count=0: pe_count must be in [1,
// 1024]". `lister` is the command that lists the parameters, named in the unknown-key error.
ParamValues resolve_params(const std::string& owner, const std::vector<ParamSpec>& specs,
                           const std::string& config_file, const std::vector<std::string>& sets,
                           const std::string& lister = "");
// The same with the configuration's JSON text in memory (config_name names it in errors; empty
// text: no configuration file).
ParamValues resolve_params_text(const std::string& owner, const std::vector<ParamSpec>& specs,
                                const std::string& config_text, const std::string& config_name,
                                const std::vector<std::string>& sets,
                                const std::string& lister = "");

// One value from text (a --set right-hand side, a flag): validated and converted to the spec's
// type. `where` names it in errors.
nlohmann::json parse_param_value(const ParamSpec& spec, const std::string& text,
                                 const std::string& where);
// Validates a JSON value against spec (type and range); returns it converted.
nlohmann::json check_param_value(const ParamSpec& spec, const nlohmann::json& v,
                                 const std::string& where);
// The spec called `name`, or nullptr.
const ParamSpec* find_param(const std::vector<ParamSpec>& specs, const std::string& name);
// "[1, 1024]", "pattern|lfsr", "true|false", "" (no range): the range as the dumps print it.
std::string param_range(const ParamSpec& s);
// A value as text ("8", "pattern", "1,4", "inf").
std::string param_text(const nlohmann::json& v);

// `config --dump`: a table of name, type, default, unit, range/choices, meaning (and source).
std::string dump_params_table(const std::string& owner, const std::vector<ParamSpec>& specs);
nlohmann::json dump_params_json(const std::string& owner, const std::vector<ParamSpec>& specs);

}  // namespace prunesim
