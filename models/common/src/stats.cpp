// Statistics tree: JSON for machines, an aligned table for people.
#include "models/stats.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace prunesim {

double unit_scale(const std::string& unit, const std::string& shown) {
  if (shown.empty() || shown == unit) return 1.0;
  if (unit == "1" && shown == "%") return 100.0;
  static const std::pair<char, double> prefixes[] = {
      {'p', 1e12}, {'n', 1e9}, {'u', 1e6}, {'m', 1e3}, {'k', 1e-3}, {'M', 1e-6}, {'G', 1e-9}};
  if (shown.size() == unit.size() + 1 && shown.compare(1, std::string::npos, unit) == 0)
    for (const auto& p : prefixes)
      if (shown[0] == p.first) return p.second;
  throw std::logic_error("stat shown in '" + shown + "' but measured in '" + unit + "'");
}

double Stat::shown_value() const {
  // Multiplying by 1 leaves the value's bits as they are; a scale is one multiplication, so a
  // stat shown in ms prints exactly what `seconds * 1e3` gives.
  return value * unit_scale(unit, shown);
}

StatGroup& StatGroup::add(const std::string& n, double v, const std::string& unit,
                          const std::string& d, const std::string& shown) {
  unit_scale(unit, shown);  // reject a bad pair where it is made, not where it is printed
  for (Stat& s : stats)
    if (s.name == n) {
      s = Stat{n, v, unit, d, shown};
      return *this;
    }
  stats.push_back(Stat{n, v, unit, d, shown});
  return *this;
}

StatGroup& StatGroup::group(const std::string& n, const std::string& d) {
  for (StatGroup& g : groups)
    if (g.name == n) return g;
  groups.push_back(StatGroup{n, d, {}, {}});
  return groups.back();
}

const Stat* StatGroup::find(const std::string& n) const {
  for (const Stat& s : stats)
    if (s.name == n) return &s;
  return nullptr;
}

const StatGroup* StatGroup::find_group(const std::string& n) const {
  for (const StatGroup& g : groups)
    if (g.name == n) return &g;
  return nullptr;
}

double StatGroup::value(const std::string& n) const {
  const Stat* s = find(n);
  return s ? s->value : 0.0;
}

nlohmann::json StatGroup::to_json() const {
  nlohmann::json j;
  j["name"] = name;
  if (!desc.empty()) j["desc"] = desc;
  nlohmann::json st = nlohmann::json::object();
  for (const Stat& s : stats)
    st[s.name] = {{"value", s.shown_value()}, {"unit", s.shown_unit()}, {"desc", s.desc}};
  j["stats"] = st;
  if (!groups.empty()) {
    j["groups"] = nlohmann::json::array();
    for (const StatGroup& g : groups) j["groups"].push_back(g.to_json());
  }
  return j;
}

namespace {
std::string fmt_value(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void table(const StatGroup& g, int depth, int max_depth, std::ostringstream& os) {
  const std::string ind(static_cast<size_t>(depth) * 2, ' ');
  os << ind << g.name;
  if (!g.desc.empty()) os << "  (" << g.desc << ")";
  os << "\n";
  for (const Stat& s : g.stats) {
    char line[512];
    std::snprintf(line, sizeof line, "%s  %-28s %16s %-8s %s\n", ind.c_str(), s.name.c_str(),
                  fmt_value(s.shown_value()).c_str(), s.shown_unit().c_str(), s.desc.c_str());
    os << line;
  }
  if (depth + 1 > max_depth) return;
  for (const StatGroup& c : g.groups) table(c, depth + 1, max_depth, os);
}
}  // namespace

std::string StatGroup::to_table(int max_depth) const {
  std::ostringstream os;
  table(*this, 0, max_depth, os);
  return os.str();
}

}  // namespace prunesim
