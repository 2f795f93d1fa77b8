// Statistics with a name, a unit and a description, in a hierarchy (accelerator -> layer ->
// component), DESIGN.md habit 4. Models fill StatGroups in base units (s, J, W, B, cycles, a
// fraction "1"); a stat may name the unit it is shown in ("ms", "uJ", "%"), and only the
// printers scale to it: the aligned table, and the report's "stats" tree (see to_json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prunesim {

struct Stat {
  std::string name;
  double value = 0;  // in `unit`
  std::string unit;  // base unit: "cycles", "B", "J", "s", "W", "1" (a count or a fraction) ...
  std::string desc;
  std::string shown;  // unit printed ("ms" for "s", "uJ" for "J", "%" for "1"); "" = unit

  const std::string& shown_unit() const { return shown.empty() ? unit : shown; }
  double shown_value() const;  // value in shown_unit()
};

// Factor from `unit` to `shown` (1e3 for "s" -> "ms", 100 for "1" -> "%"): an SI prefix (p n u m
// k M G) in front of the same unit. std::logic_error for any other pair (a model's mistake).
double unit_scale(const std::string& unit, const std::string& shown);

struct StatGroup {
  std::string name;
  std::string desc;
  std::vector<Stat> stats;
  std::vector<StatGroup> groups;

  // Adds (or, if present, overwrites) a stat; returns *this for chaining. value in `unit`.
  StatGroup& add(const std::string& name, double value, const std::string& unit,
                 const std::string& desc, const std::string& shown = "");
  StatGroup& group(const std::string& name, const std::string& desc = "");  // get or create
  const Stat* find(const std::string& name) const;
  const StatGroup* find_group(const std::string& name) const;
  double value(const std::string& name) const;  // in its base unit; 0 if absent

  // {"name":..., "desc":..., "stats": {name: {"value","unit","desc"}}, "groups": [...]}, each
  // value in its shown unit (and that unit named): the report's "stats" tree has always given
  // ms, uJ, uW and %, and its format stays; the report's own figures are the base-unit ones.
  nlohmann::json to_json() const;
  // Indented table: name, value, unit, description; groups nested. max_depth limits nesting.
  std::string to_table(int max_depth = 8) const;
};

}  // namespace prunesim
