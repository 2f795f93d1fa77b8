// Self-documenting architecture parameters (DESIGN.md habit 3): every model declares its
// parameters as ParamSpecs (name, unit, default, range, meaning); sim/core resolves user input
// against them into ParamValues, which the model reads. Models never parse user input.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prunesim {

struct ParamSpec {
  enum class Type { Int, Real, Bool, Choice, Text };
  std::string name;  // flat, may contain dots ("place.demosaic")
  Type type = Type::Int;
  nlohmann::json def;  // default value (number, bool or string)
  std::string unit;    // "Hz", "B", "V", "cycles", "1" for counts, "" for choices/flags
  std::string meaning;
  double min = 0, max = 0;           // Int/Real: inclusive range (ignored if min > max)
  std::vector<std::string> choices;  // Choice: allowed values
  std::string source;                // where the default comes from (REFERENCE.md §, datasheet)
};

ParamSpec int_param(std::string name, int64_t def, double min, double max, std::string unit,
                    std::string meaning, std::string source = "");
ParamSpec real_param(std::string name, double def, double min, double max, std::string unit,
                     std::string meaning, std::string source = "");
ParamSpec bool_param(std::string name, bool def, std::string meaning, std::string source = "");
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
  bool has(const std::string& name) const { return values_.contains(name); }
  // Sets without validation (sim/core validates before calling this).
  void set(const std::string& name, nlohmann::json v) { values_[name] = std::move(v); }
  const nlohmann::json& json() const { return values_; }

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

}  // namespace prunesim
