// Statistics with a name, a unit and a description, in a hierarchy (accelerator -> layer ->
// component), DESIGN.md habit 4. Models fill StatGroups; sim/core turns them into JSON (the
// machine format) and an aligned table (the human one).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prunesim {

struct Stat {
  std::string name;
  double value = 0;
  std::string unit;  // "cycles", "B", "J", "1" (a count), "%" ...
  std::string desc;
};

struct StatGroup {
  std::string name;
  std::string desc;
  std::vector<Stat> stats;
  std::vector<StatGroup> groups;

  // Adds (or, if present, overwrites) a stat; returns *this for chaining.
  StatGroup& add(const std::string& name, double value, const std::string& unit,
                 const std::string& desc);
  StatGroup& group(const std::string& name, const std::string& desc = "");  // get or create
  const Stat* find(const std::string& name) const;
  const StatGroup* find_group(const std::string& name) const;
  double value(const std::string& name) const;  // 0 if absent

  // {"name":..., "desc":..., "stats": {name: {"value","unit","desc"}}, "groups": [...]}
  nlohmann::json to_json() const;
  // Indented table: name, value, unit, description; groups nested. max_depth limits nesting.
  std::string to_table(int max_depth = 8) const;
};

}  // namespace prunesim
