// The search checkpoint's reader and writer, and the point <-> JSON state the MPI farm also
// carries (sim/dse/checkpoint.h). Every field is type- and range-checked before it is converted:
// a hand-edited or truncated checkpoint is one InputError, never a conversion out of range or an
// index past the search space (the fuzz target tests/fuzz/fuzz_checkpoint.cpp).
#include "sim/dse/checkpoint.h"

#include <cmath>
#include <set>

#include "base/errors.h"
#include "base/limits.h"

namespace prunesim::dse {
namespace {

using json = nlohmann::json;

json num(double v) {
  return std::isfinite(v) ? json(v) : json();
}

const json& field(const json& j, const char* k) {
  if (!j.is_object() || !j.contains(k))
    throw std::runtime_error(std::string("missing '") + k + "'");
  return j[k];
}
double get_num(const json& j, const char* k) {  // null: not measured (NaN)
  const json& v = field(j, k);
  if (v.is_null()) return std::nan("");
  if (!v.is_number()) throw std::runtime_error(std::string("'") + k + "' is not a number");
  return v.get<double>();
}
int64_t get_int(const json& j, const char* k) {
  const json& v = field(j, k);
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX))
    throw std::runtime_error(std::string("'") + k + "' is not a 64-bit integer");
  return v.get<int64_t>();
}
std::string get_str(const json& j, const char* k) {
  const json& v = field(j, k);
  if (!v.is_string()) throw std::runtime_error(std::string("'") + k + "' is not a string");
  return v.get<std::string>();
}
bool get_bool(const json& j, const char* k) {
  const json& v = field(j, k);
  if (!v.is_boolean()) throw std::runtime_error(std::string("'") + k + "' is not true/false");
  return v.get<bool>();
}

}  // namespace

json point_state(const Point& p) {
  const Row& r = p.row;
  json j = {{"x", p.x},
            {"generation", p.generation},
            {"part", p.part},
            {"ok", r.ok},
            {"error", r.error},
            {"actual", num(r.actual)},
            {"params", r.params},
            {"macs", r.macs},
            {"fidelity", num(r.fidelity)},
            {"metric", r.metric},
            {"cycles", r.cycles},
            {"storage_bytes", r.storage_bytes},
            {"file_bytes", r.file_bytes},
            {"latency_s", num(r.latency_s)},
            {"energy_j", num(r.energy_j)},
            {"power_w", num(r.power_w)},
            {"area_mm2", num(r.area_mm2)},
            {"rate_hz", num(r.rate_hz)},
            {"scheme_options", r.scheme_options}};
  return j;
}

Point point_from_state(const json& j) {
  Point p;
  const json& x = field(j, "x");
  if (!x.is_array()) throw std::runtime_error("'x' is not an array");
  for (const json& v : x) {
    if (!v.is_number_integer()) throw std::runtime_error("'x' holds a non-integer");
    p.x.push_back(v.get<int64_t>());
  }
  p.generation = get_int(j, "generation");
  p.part = get_str(j, "part");
  Row& r = p.row;
  r.ok = get_bool(j, "ok");
  r.error = get_str(j, "error");
  r.actual = get_num(j, "actual");
  r.params = get_int(j, "params");
  r.macs = get_int(j, "macs");
  r.fidelity = get_num(j, "fidelity");
  r.metric = get_str(j, "metric");
  r.cycles = get_int(j, "cycles");
  r.storage_bytes = get_int(j, "storage_bytes");
  r.file_bytes = get_int(j, "file_bytes");
  r.latency_s = get_num(j, "latency_s");
  r.energy_j = get_num(j, "energy_j");
  r.power_w = get_num(j, "power_w");
  r.area_mm2 = get_num(j, "area_mm2");
  r.rate_hz = get_num(j, "rate_hz");
  r.scheme_options = get_str(j, "scheme_options");
  return p;
}

std::string checkpoint_text(const std::string& key, int64_t generation, int64_t evaluations,
                            const std::vector<Point>& points) {
  json ck = {{"format", "prunesim-search-checkpoint"},
             {"version", 1},
             {"key", key},
             {"generation", generation},
             {"evaluations", evaluations},
             {"points", json::array()}};
  for (const auto& p : points) ck["points"].push_back(point_state(p));
  return ck.dump() + "\n";
}

std::vector<Point> parse_checkpoint(const std::string& text, const std::string& path,
                                    const std::string& key, const std::vector<int64_t>& upper) {
  const std::string where = "--resume " + path;
  json ck;
  try {
    ck = parse_json_input(text, path);  // nesting and number overflow checked, byte named
  } catch (const InputError& e) {
    throw InputError(where + ": unreadable checkpoint: " + e.what());
  }
  std::vector<Point> out;
  std::string place;  // "point k: " while the points are read
  try {
    if (!ck.is_object() || !ck.contains("format") || ck["format"] != "prunesim-search-checkpoint" ||
        !ck.contains("version") || ck["version"] != 1)
      throw std::runtime_error("not a prunesim search checkpoint (format/version)");
    if (get_str(ck, "key") != key)
      throw InputError(where +
                       ": written by a different search (model, data, space or options differ)");
    const json& pts = field(ck, "points");
    if (!pts.is_array()) throw std::runtime_error("'points' is not an array");
    std::set<Decision> seen;
    for (size_t k = 0; k < pts.size(); ++k) {
      place = "point " + std::to_string(k) + ": ";
      Point p = point_from_state(pts[k]);
      if (p.x.size() != upper.size())
        throw std::runtime_error("decision vector of " + std::to_string(p.x.size()) +
                                 " entries, the search has " + std::to_string(upper.size()));
      for (size_t v = 0; v < p.x.size(); ++v)
        if (p.x[v] < 0 || p.x[v] > upper[v])
          throw std::runtime_error("x[" + std::to_string(v) + "] = " + std::to_string(p.x[v]) +
                                   " is outside [0, " + std::to_string(upper[v]) + "]");
      if (!seen.insert(p.x).second) throw std::runtime_error("a decision vector recorded twice");
      out.push_back(std::move(p));
    }
    place.clear();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(where + ": unreadable checkpoint: " + place + e.what());
  }
  return out;
}

}  // namespace prunesim::dse
