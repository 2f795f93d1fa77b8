#include "sim/tech.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "base/limits.h"
#include "prune/errors.h"

#ifndef PRUNESIM_DATA_DIR_DEFAULT
#define PRUNESIM_DATA_DIR_DEFAULT "sim/power/data"
#endif

namespace prunesim {
namespace {

const char* kind_name(TechKind k) {
  switch (k) {
    case TechKind::Energy:
      return "energy";
    case TechKind::Power:
      return "leakage";
    case TechKind::Area:
      return "area";
    default:
      return "none";
  }
}

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A number that must be finite and, where asked, positive; names the key when it is not.
double number(const nlohmann::json& j, const std::string& key, const std::string& path,
              const std::string& place, bool positive) {
  const auto& v = j.at(key);
  if (!v.is_number()) fail(path, place, "'" + key + "' must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) fail(path, place, "'" + key + "' is not finite");
  if (positive && !(d > 0)) fail(path, place, "'" + key + "' must be > 0, got " + fmt(d));
  return d;
}

std::string text(const nlohmann::json& j, const std::string& key, const std::string& path,
                 const std::string& place) {
  const auto& v = j.at(key);
  if (!v.is_string()) fail(path, place, "'" + key + "' must be a string");
  return v.get<std::string>();
}

}  // namespace

bool parse_tech_unit(const std::string& unit, TechKind* kind, std::string* canonical,
                     double* to_canonical) {
  // "<base>" or "<base>/<per>": the per part is kept verbatim (bit, LUT, access ...).
  std::string base = unit, per;
  auto slash = unit.find('/');
  if (slash != std::string::npos) {
    base = unit.substr(0, slash);
    per = unit.substr(slash + 1);
    if (per.empty() || per.find('/') != std::string::npos) return false;
  }
  struct U {
    TechKind k;
    const char* canon;
    double f;
  };
  static const std::map<std::string, U> units = {
      {"fJ", {TechKind::Energy, "pJ", 1e-3}},    {"pJ", {TechKind::Energy, "pJ", 1}},
      {"nJ", {TechKind::Energy, "pJ", 1e3}},     {"uJ", {TechKind::Energy, "pJ", 1e6}},
      {"mJ", {TechKind::Energy, "pJ", 1e9}},     {"J", {TechKind::Energy, "pJ", 1e12}},
      {"pW", {TechKind::Power, "uW", 1e-6}},     {"nW", {TechKind::Power, "uW", 1e-3}},
      {"uW", {TechKind::Power, "uW", 1}},        {"mW", {TechKind::Power, "uW", 1e3}},
      {"W", {TechKind::Power, "uW", 1e6}},       {"nm2", {TechKind::Area, "um2", 1e-6}},
      {"um2", {TechKind::Area, "um2", 1}},       {"mm2", {TechKind::Area, "um2", 1e6}},
      {"1", {TechKind::None, "1", 1}},           {"GE", {TechKind::None, "GE", 1}},
      {"%", {TechKind::None, "1", 0.01}},        {"bit", {TechKind::None, "bit", 1}},
      {"cycles", {TechKind::None, "cycles", 1}}, {"V", {TechKind::None, "V", 1}},
      {"Hz", {TechKind::None, "Hz", 1}},
  };
  auto it = units.find(base);
  if (it == units.end()) return false;
  if (!per.empty() && it->second.k == TechKind::None) return false;  // "1/bit" means nothing
  *kind = it->second.k;
  *canonical = std::string(it->second.canon) + (per.empty() ? "" : "/" + per);
  *to_canonical = it->second.f;
  return true;
}

const TechEntry& TechTable::entry(const std::string& key) const {
  auto it = entries.find(key);
  if (it == entries.end()) fail(path, "entry '" + key + "'", "not in the table");
  return it->second;
}

double TechTable::scale_factor(const TechEntry& e) const {
  if (!e.scale || e.kind == TechKind::None) return 1.0;
  auto it = scaling.find(e.kind);
  if (it == scaling.end())
    fail(path, "entry '" + e.name + "'",
         std::string("no scaling rule for ") + kind_name(e.kind) + " (\"scaling\")");
  double node = e.node_nm > 0 ? e.node_nm : node_nm;
  double volt = e.voltage_v > 0 ? e.voltage_v : voltage_v;
  return std::pow(node_nm / node, it->second.node_exp) *
         std::pow(voltage_v / volt, it->second.voltage_exp);
}

double TechTable::get(const std::string& key) const {
  const TechEntry& e = entry(key);
  return e.value * e.to_canonical * scale_factor(e) * e.calibration;
}

double TechTable::get(const std::string& key, const std::string& canonical_unit) const {
  const TechEntry& e = entry(key);
  if (e.canonical_unit != canonical_unit)
    fail(path, "entry '" + key + "'",
         "unit '" + e.unit + "' is not convertible to '" + canonical_unit + "'");
  return get(key);
}

std::vector<std::string> TechTable::calibrated() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries)
    if (e.calibration != 1.0) out.push_back(k);
  return out;
}

nlohmann::json TechTable::to_json() const {
  nlohmann::json j;
  j["name"] = name;
  j["path"] = path;
  j["node_nm"] = node_nm;
  j["voltage_v"] = voltage_v;
  nlohmann::json es = nlohmann::json::object();
  for (const auto& [k, e] : entries) {
    es[k] = {{"value", e.value},
             {"unit", e.unit},
             {"scaled_value", get(k)},
             {"scaled_unit", e.canonical_unit},
             {"scale_factor", scale_factor(e)},
             {"calibration", e.calibration},
             {"source", e.source}};
  }
  j["entries"] = es;
  return j;
}

TechTable parse_tech_table(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "", "a technology table must be a JSON object");
  static const std::set<std::string> top_keys = {"name",      "description", "node_nm",
                                                 "voltage_v", "scaling",     "entries"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!top_keys.count(it.key())) fail(path, "key '" + it.key() + "'", "unknown key");
  for (const char* k : {"name", "node_nm", "voltage_v", "scaling", "entries"})
    if (!j.contains(k)) fail(path, "", std::string("missing '") + k + "'");

  TechTable t;
  t.path = path;
  t.name = text(j, "name", path, "");
  if (j.contains("description")) t.description = text(j, "description", path, "");
  t.node_nm = number(j, "node_nm", path, "", true);
  t.voltage_v = number(j, "voltage_v", path, "", true);

  const auto& sc = j.at("scaling");
  if (!sc.is_object()) fail(path, "scaling", "must be an object");
  static const std::map<std::string, TechKind> kinds = {
      {"energy", TechKind::Energy}, {"leakage", TechKind::Power}, {"area", TechKind::Area}};
  for (auto it = sc.begin(); it != sc.end(); ++it) {
    std::string place = "scaling '" + it.key() + "'";
    auto k = kinds.find(it.key());
    if (k == kinds.end()) fail(path, place, "unknown kind (energy, leakage, area)");
    const auto& r = it.value();
    if (!r.is_object() || !r.contains("node_exp") || !r.contains("voltage_exp") ||
        !r.contains("source"))
      fail(path, place, "needs node_exp, voltage_exp and source");
    ScalingRule rule;
    rule.node_exp = number(r, "node_exp", path, place, false);
    rule.voltage_exp = number(r, "voltage_exp", path, place, false);
    rule.source = text(r, "source", path, place);
    if (rule.source.empty()) fail(path, place, "empty source");
    t.scaling[k->second] = rule;
  }

  const auto& es = j.at("entries");
  if (!es.is_object()) fail(path, "entries", "must be an object keyed by entry name");
  static const std::set<std::string> entry_keys = {"value",     "unit",        "source", "node_nm",
                                                   "voltage_v", "calibration", "scale",  "note"};
  for (auto it = es.begin(); it != es.end(); ++it) {
    std::string place = "entry '" + it.key() + "'";
    const auto& v = it.value();
    if (!v.is_object()) fail(path, place, "must be an object");
    for (auto f = v.begin(); f != v.end(); ++f)
      if (!entry_keys.count(f.key())) fail(path, place, "unknown key '" + f.key() + "'");
    for (const char* k : {"value", "unit", "source"})
      if (!v.contains(k)) fail(path, place, std::string("missing '") + k + "'");
    TechEntry e;
    e.name = it.key();
    e.value = number(v, "value", path, place, false);
    // Energies, powers, areas, sizes and ratios are never negative; a sign slip would
    // silently lower the estimate.
    if (e.value < 0) fail(path, place, "'value' must be >= 0, got " + fmt(e.value));
    e.unit = text(v, "unit", path, place);
    e.source = text(v, "source", path, place);
    if (e.source.find_first_not_of(" \t") == std::string::npos)
      fail(path, place, "empty 'source' (every constant needs a citation or 'assumption: ...')");
    if (v.contains("node_nm")) e.node_nm = number(v, "node_nm", path, place, true);
    if (v.contains("voltage_v")) e.voltage_v = number(v, "voltage_v", path, place, true);
    if (v.contains("calibration")) e.calibration = number(v, "calibration", path, place, true);
    if (v.contains("scale")) {
      if (!v.at("scale").is_boolean()) fail(path, place, "'scale' must be true or false");
      e.scale = v.at("scale").get<bool>();
    }
    if (v.contains("note")) e.note = text(v, "note", path, place);
    if (!parse_tech_unit(e.unit, &e.kind, &e.canonical_unit, &e.to_canonical))
      fail(path, place, "unknown unit '" + e.unit + "'");
    if (e.scale && e.kind != TechKind::None && !t.scaling.count(e.kind))
      fail(path, place, std::string("no scaling rule for ") + kind_name(e.kind));
    t.entries[e.name] = e;
  }
  return t;
}

TechTable load_tech_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "", "cannot open technology table");
  std::ostringstream text;
  text << in.rdbuf();
  // A search or sweep prices every design point with the same table: parsing and checking it
  // once per point cost 3 % of a point. The last table read is kept with the bytes it came from
  // and reused only when the file still holds exactly those bytes.
  static std::mutex mu;
  static std::string last_path, last_text;
  static TechTable last;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (path == last_path && text.str() == last_text) return last;
  }
  TechTable t = parse_tech_table(parse_json_input(text.str(), path), path);
  std::lock_guard<std::mutex> lock(mu);
  last_path = path;
  last_text = text.str();
  last = t;
  return t;
}

std::string tech_data_dir() {
  const char* env = std::getenv("PRUNESIM_DATA_DIR");
  if (env && *env) return env;
  return PRUNESIM_DATA_DIR_DEFAULT;
}

ParamSpec tech_param(const std::string& def, const std::string& meaning,
                     const std::string& source) {
  ParamSpec t;
  t.name = "tech";
  t.type = ParamSpec::Type::Text;
  t.def = def;
  t.meaning = meaning;
  t.source = source;
  t.min = 1;  // text: no range
  t.max = 0;
  return t;
}

std::string tech_table_path(const std::string& tech) {
  const std::string ext = ".json";
  const bool json_file =
      tech.size() > ext.size() && tech.compare(tech.size() - ext.size(), ext.size(), ext) == 0;
  if (tech.find('/') != std::string::npos || json_file) return tech;
  return tech_data_dir() + "/" + tech + ".json";
}

TechTable load_tech_param(const ParamValues& v) {
  return load_tech_table(tech_table_path(v.s("tech")));
}

}  // namespace prunesim
