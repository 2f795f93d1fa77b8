// Technology tables as data (DESIGN.md habit 5): a JSON file of energy per action, leakage per
// component and area per component, each entry with its unit and its source, plus the node and
// voltage it was published at. Estimators ask for an entry in a canonical unit at the table's
// target node and voltage; the scaling (exponents stored in the file) and the calibration factor
// are applied here, once. Format and rules: docs/power-model.md.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/params.h"

namespace prunesim {

// What a unit measures decides how an entry scales between nodes and voltages.
enum class TechKind { Energy, Power, Area, None };

struct TechEntry {
  std::string name;
  double value = 0;          // as published, in `unit`
  std::string unit;          // "pJ", "fJ/bit", "nW", "pW/bit", "um2", "mm2", "1", "GE" ...
  std::string source;        // citation (required: loading fails without it)
  double node_nm = 0;        // node the number was published for (0 = the table's)
  double voltage_v = 0;      // voltage it was published for (0 = the table's)
  double calibration = 1.0;  // factor applied on top of scaling (docs say why)
  bool scale = true;         // false: the number is already valid at the target (no scaling)
  std::string note;
  // Derived at load time from `unit`.
  TechKind kind = TechKind::None;
  std::string canonical_unit;  // "pJ", "pJ/bit", "uW", "uW/bit", "um2", "um2/bit", "1" ...
  double to_canonical = 1.0;   // value * to_canonical = value in canonical_unit
};

struct ScalingRule {
  double node_exp = 0;     // quantity ~ (node / node_src)^node_exp
  double voltage_exp = 0;  // quantity ~ (V / V_src)^voltage_exp
  std::string source;
};

struct TechTable {
  std::string name, path, description;
  double node_nm = 0, voltage_v = 0;  // the target technology of this table
  std::map<std::string, TechEntry> entries;
  std::map<TechKind, ScalingRule> scaling;  // Energy, Power, Area (None never scales)

  bool has(const std::string& key) const { return entries.count(key) != 0; }
  // InputError "<path>: entry 'key': not in the table" if absent.
  const TechEntry& entry(const std::string& key) const;
  // Scaling factor from the entry's node/voltage to the table's (1 for None or scale=false).
  double scale_factor(const TechEntry& e) const;
  // The entry at (node_nm, voltage_v), calibrated, in its canonical unit.
  double get(const std::string& key) const;
  // Same, but also checks the canonical unit ("pJ", "uW/bit" ...): an estimator that reads a
  // table with the wrong kind of number fails naming the entry instead of mixing units.
  double get(const std::string& key, const std::string& canonical_unit) const;
  // Entries whose calibration factor is not 1 (docs must name each one).
  std::vector<std::string> calibrated() const;
  // Every entry: published value and unit, scaled value and canonical unit, source.
  nlohmann::json to_json() const;
};

// Parses a unit string into kind, canonical unit and conversion factor; false if unknown.
// Accepted: energies fJ pJ nJ uJ mJ J, powers pW nW uW mW W, areas nm2 um2 mm2, each optionally
// per something ("pJ/bit", "uW/bit", "um2/bit", "mW/LUT"); dimensionless "1", "GE", "%",
// "bit", "cycles", "V", "Hz".
bool parse_tech_unit(const std::string& unit, TechKind* kind, std::string* canonical,
                     double* to_canonical);

// Reads and validates a table (every entry has value, unit, source; known unit; positive node,
// voltage and calibration; no unknown keys). InputError "<path>: entry 'x': ..." otherwise.
TechTable load_tech_table(const std::string& path);
// Same from parsed JSON; `path` only names the file in messages.
TechTable parse_tech_table(const nlohmann::json& j, const std::string& path);
// Folder of the bundled tables (sim/power/data), overridable by PRUNESIM_DATA_DIR.
std::string tech_data_dir();

// The `tech` parameter every architecture declares (text, default `def`): which table prices it.
ParamSpec tech_param(const std::string& def, const std::string& meaning,
                     const std::string& source = "");
// A `tech` value as a file: a path (it has a '/' or ends in ".json") as given, a name as
// <tech_data_dir()>/<name>.json.
std::string tech_table_path(const std::string& tech);
// The table the resolved parameter `tech` of v names (load_tech_table's errors).
TechTable load_tech_param(const ParamValues& v);

}  // namespace prunesim
