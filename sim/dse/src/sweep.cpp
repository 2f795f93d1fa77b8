// The sweep engine (sim/dse/sweep.h): the grid, one point (prune, quantize, table, simulate,
// fidelity), the Pareto marking and the CSV / JSON / console rows.
#include "sim/dse/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "models/isolate.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/pipeline.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "sim/config.h"
#include "sim/dse/fidelity.h"
#include "sim/text.h"

namespace prunesim::dse {
namespace {

using nlohmann::json;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

double fidelity_value(const json& f) {
  return fidelity_headline(f);
}

}  // namespace

// A point's scheme params (sweep.h): each given to a scheme that declares it: the architecture's
// hints (Arch::scheme_hints; raman: the PE mapping a balanced table must be pruned for to be
// decodable),
// --mask-file, and what a scheme whose sparsity follows from its options sets from the point's
// target (nm: m in {4, 8} and n = round((1 - s) m); the row records the sparsity reached).
ParamValues point_scheme_params(const Scheme& scheme, double target, const json& hints,
                                const std::string& mask_file) {
  const std::vector<ParamSpec> specs = scheme.params();
  json given = hints.is_object() ? hints : json::object();
  if (!mask_file.empty()) given["mask_file"] = mask_file;
  ParamValues from(specs);
  std::string note;
  for (const auto& k : scheme.params_for_sparsity(target, &from, &note)) given[k] = from.json()[k];
  for (auto it = given.begin(); it != given.end();)
    it = find_param(specs, it.key()) ? std::next(it) : given.erase(it);
  return resolve_scheme_params(scheme, given, [](const std::string& k) {
    return k == "mask_file" ? "--mask-file" : k.empty() ? "--schemes" : "--set " + k;
  });
}

std::string fmt(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

std::vector<double> parse_sparsities(const std::string& s) {
  const std::string flag = "--sparsity " + s;
  std::vector<double> v;
  if (s.find(':') != std::string::npos) {
    const auto r = parse_number_list(s, flag, ':');
    if (r.size() != 3) throw InputError(flag + ": a range is start:stop:step");
    if (!(r[2] > 0)) throw InputError(flag + ": the step must be > 0");
    if (r[1] < r[0]) throw InputError(flag + ": stop is below start");
    // Counted, not accumulated, so 0:0.9:0.1 ends at 0.9 and not at 0.8999… or 1.0.
    const double n = std::floor((r[1] - r[0]) / r[2] + 1e-9);
    if (n > 1000) throw InputError(flag + ": more than 1000 sparsities");
    for (int64_t k = 0; k <= static_cast<int64_t>(n); ++k)
      v.push_back(std::round((r[0] + k * r[2]) * 1e9) / 1e9);
  } else {
    v = parse_number_list(s, flag);
  }
  for (double x : v)
    if (!(x >= 0 && x < 1)) throw InputError(flag + ": sparsity " + fmt(x) + " is not in [0, 1)");
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<Axis> parse_axes(const std::string& arch, const std::vector<ParamSpec>& specs,
                             const std::string& config, const std::vector<std::string>& sets) {
  std::vector<Axis> axes;
  for (const auto& s : sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw InputError("--set " + s + ": expected key=value[,value...]");
    Axis a{s.substr(0, eq), {}};
    for (const auto& x : axes)
      if (x.key == a.key) throw InputError("--set " + s + ": " + a.key + " is set twice");
    std::vector<std::string> values;
    const std::string rhs = s.substr(eq + 1);
    if (rhs.find(':') != std::string::npos) {
      // start:stop:step, inclusive and counted like --sparsity; an empty range is an error.
      const auto r = parse_number_list(rhs, "--set " + s, ':');
      if (r.size() != 3) throw InputError("--set " + s + ": a range is start:stop:step");
      if (!(r[2] > 0)) throw InputError("--set " + s + ": the step must be > 0");
      if (r[1] < r[0]) throw InputError("--set " + s + ": empty range (stop is below start)");
      const double n = std::floor((r[1] - r[0]) / r[2] + 1e-9);
      if (n >= 1000) throw InputError("--set " + s + ": more than 1000 values");
      for (int64_t k = 0; k <= static_cast<int64_t>(n); ++k) {
        const double v = std::round((r[0] + k * r[2]) * 1e9) / 1e9;
        values.push_back(v == std::floor(v) && std::fabs(v) < 1e15
                             ? std::to_string(static_cast<int64_t>(v))
                             : fmt(v));
      }
    } else {
      std::stringstream vs(rhs);
      for (std::string v; std::getline(vs, v, ',');) values.push_back(v);
    }
    for (const std::string& v : values) {
      if (v.empty()) throw InputError("--set " + s + ": empty value");
      // Validates key and value now (unknown parameter, out of range), naming the --set.
      resolve_params(arch, specs, config, {a.key + "=" + v});
      a.values.push_back(v);
    }
    axes.push_back(a);
  }
  return axes;
}

void check_grid(const std::vector<Axis>& axes, size_t schemes, size_t sparsities) {
  size_t combos = 1;
  for (const auto& a : axes) combos *= a.values.size();
  if (combos * schemes * sparsities > 10000)
    throw InputError("sweep: more than 10000 points; narrow --set or --sparsity");
}

std::vector<Row> make_rows(const std::vector<Axis>& axes, const std::vector<std::string>& schemes,
                           const std::vector<double>& sparsities) {
  // Points: every combination of --set values (first --set varies slowest), then scheme, then
  // sparsity.
  std::vector<std::vector<std::string>> combo_values(1);
  for (const auto& a : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& cv : combo_values)
      for (const auto& v : a.values) {
        next.push_back(cv);
        next.back().push_back(v);
      }
    combo_values = next;
  }
  std::vector<Row> rows;
  for (const auto& cv : combo_values)
    for (const auto& s : schemes)
      for (double sp : sparsities) {
        // A recipe is a curve like a scheme: at each sparsity its rules are scaled to it
        // (run_point).
        Row r;
        r.scheme = s;
        r.target = sp;
        r.set_values = cv;
        rows.push_back(r);
      }
  return rows;
}

namespace {

// The point's pruned float graph: the dense model at sparsity 0, else its scheme (or the recipe
// scaled to its sparsity) with the architecture's hints, recovered when c.finetune is set.
PruneOutcome prune_point(const Context& c, const ParamValues& pv, Row& r) {
  PruneOutcome res;
  if (r.target == 0) {
    // The dense baseline: no scheme runs, so every scheme's curve starts at the same point.
    res.graph = c.g;
  } else {
    SchemeOptions so;
    so.sparsity = r.target;
    so.seed = c.seed;
    if (r.scheme != "recipe") {
      const Scheme& scheme = *make_scheme(r.scheme);
      so.params = point_scheme_params(scheme, r.target, c.arch->scheme_hints(pv), c.mask_file);
      r.scheme_options = scheme.options_label(so.params);
    }
    Recipe recipe =
        r.scheme == "recipe" ? load_recipe(c.recipe, c.g) : single_rule_recipe(r.scheme, so);
    if (r.scheme == "recipe") {
      // The recipe's shape at this point's sparsity: its largest rule sparsity becomes the
      // target and the others scale with it (their ratios are what a recipe encodes).
      double mx = 0;
      for (const auto& rl : recipe.rules)
        if (!rl.skip) mx = std::max(mx, rl.options.sparsity);
      for (auto& rl : recipe.rules)
        if (!rl.skip) rl.options.sparsity = mx > 0 ? rl.options.sparsity * r.target / mx : r.target;
    }
    if (c.finetune) {
      // The one-shot point first (its int8 fidelity is the "before" column), then recovery.
      const PruneOutcome once = prune_recipe(c, recipe);
      r.fidelity_oneshot = fidelity_value(
          int8_fidelity(c.g, quantize(once.graph, c.calib), c.data, c.labels_p, &c.dense_out));
      Schedule sched;
      sched.finetune_fn = [&c, &r](const Graph& pg, const MaskMap& m, const std::string&) {
        return c.finetune(pg, m, "finetune " + r.scheme + " s=" + fmt(r.target));
      };
      res = prune_recipe(c, recipe, sched);
    } else {
      res = prune_recipe(c, recipe);
    }
  }
  return res;
}

}  // namespace

PruneOutcome prune_recipe(const Context& c, const Recipe& recipe, const Schedule& sched) {
  PruneData pd;
  pd.calib = &c.calib;
  pd.eval = &c.data;
  pd.labels = c.labels_p;
  Recovery rec;
  rec.bias_correct = c.bias_correct;
  rec.seed = c.seed;
  return run_pruning(c.g, recipe, sched, rec, pd);
}

void run_point(const Context& c, const std::vector<std::string>& sets, Row& r) {
  const ParamValues pv = resolve_params(c.arch->name(), c.specs, c.config, sets);
  const PruneOutcome res = prune_point(c, pv, r);
  measure_point(c, pv, res, "sweep point " + r.scheme + " s=" + fmt(r.target), r);
}

void measure_point(const Context& c, const ParamValues& pv, const PruneOutcome& res,
                   const std::string& name, Row& r) {
  {
    const json tot = pruning_report(c.g, res)["total"];  // against the original model
    r.actual = tot.value("sparsity", 0.0);
    r.params = tot.value("params", int64_t{0});
    r.macs = tot.value("macs_effective", int64_t{0});
  }

  const QuantizedModel q = quantize(res.graph, c.calib);
  TableOptions to;
  to.target = c.target;
  to.accepts = c.arch->encodings();
  SimInput in;
  in.tables_path = name;
  const std::string bytes = table_bytes(q, res.masks, res.notes, to, name, &in.summary);
  in.model = parse_tables(bytes, name, &in.summary, &in.masks);
  r.file_bytes = in.summary.file_bytes;
  for (const auto& l : in.summary.layers) r.storage_bytes += l.value_bytes + l.meta_bytes;

  in.input = c.input;
  in.input_path = c.input_path;
  in.params = pv;
  in.mode = c.mode;
  in.rate_hz = c.rate;
  in.quiet = true;
  json rep;
  if (c.mode == "analytical") {
    rep = c.arch->simulate(in).report;
  } else {
    // Event-driven modes elaborate SystemC, which can happen once per process.
    const Arch* a = c.arch;
    rep = json::parse(run_isolated([a, &in] {
      // SystemC's kernel prints its banner and "Simulation stopped" notes on stdout, where they
      // would break the table or --json; this child's stdout is nobody else's.
      std::fflush(stdout);
      if (FILE* n = std::freopen("/dev/null", "w", stdout)) (void)n;
      return a->simulate(in).report.dump();
    }));
  }
  // Every figure of the report is per inference already (averaged over the input's samples).
  r.cycles = std::llround(rep.at("latency_cycles").get<double>());
  r.latency_s = rep.at("latency_s").get<double>();
  r.energy_j = rep.at("energy_j").get<double>();
  r.power_w = rep.at("power_w").get<double>();
  r.area_mm2 = rep.at("area_mm2").get<double>();
  r.rate_hz = rep.value("rate_hz", c.rate);
  c.rate_hz = rep.value("rate_asked_hz", r.rate_hz);

  // Fidelity of what the table holds, i.e. of what the accelerator computes. After the
  // simulation: a table the architecture refuses (it does not fit, say) fails the point before
  // the evaluation over the whole --data set is spent on it.
  const json f = int8_fidelity(c.g, in.model, c.data, c.labels_p, &c.dense_out);
  r.fidelity = fidelity_headline(f, &r.metric);
  if (r.metric == "sndr_db")
    r.metric = c.labels_p ? "sndr_db_vs_targets" : "sndr_db_vs_dense_float";
  r.ok = true;
}

size_t run_rows(const Context& c, const std::vector<Axis>& axes, std::vector<Row>& rows,
                const ProgressFn& progress) {
  size_t done = 0, failed = 0;
  for (auto& r : rows) {
    std::string label = r.scheme + " s=" + fmt(r.target);
    std::vector<std::string> sets;
    for (size_t k = 0; k < axes.size(); ++k) {
      sets.push_back(axes[k].key + "=" + r.set_values[k]);
      label += " " + sets.back();
    }
    progress(done, rows.size(), label);
    try {
      run_point(c, sets, r);
    } catch (const std::exception& e) {
      // One impossible point (a geometry the scheme refuses, a table the arch rejects) must not
      // cost the rest of the sweep: the row carries the reason.
      r.ok = false;
      r.error = e.what();
      ++failed;
    }
    progress(++done, rows.size(), label);
  }
  return failed;
}

void mark_pareto(std::vector<Row>& rows, double min_fidelity) {
  auto candidate = [&](const Row& r) {
    return r.ok && !std::isnan(r.fidelity) && !std::isnan(r.energy_j) &&
           (std::isnan(min_fidelity) || r.fidelity >= min_fidelity);
  };
  for (auto& a : rows) {
    a.pareto = candidate(a);
    if (!a.pareto) continue;
    for (const auto& b : rows)
      if (&a != &b && candidate(b) && b.energy_j <= a.energy_j && b.fidelity >= a.fidelity &&
          (b.energy_j < a.energy_j || b.fidelity > a.fidelity)) {
        a.pareto = false;
        break;
      }
  }
}

std::vector<std::string> sweep_warnings(const std::vector<Row>& rows, double rate_hz) {
  std::vector<std::string> out;
  // Points that reached less sparsity than asked (balanced PE groups of one weight, say): one
  // warning line, so a short point is not read as the sparsity on its label.
  {
    std::string list;
    int n = 0;
    for (const auto& r : rows)
      if (r.ok && r.actual < r.target - 0.01) {
        char b[96];
        std::snprintf(b, sizeof b, "%s%s s=%.2f reached %.3f", n ? ", " : "", r.scheme.c_str(),
                      r.target, r.actual);
        if (n < 4) list += b;
        ++n;
      }
    if (n)
      out.push_back(std::to_string(n) + " of " + std::to_string(rows.size()) +
                    " points reached less sparsity than asked (" + list + (n > 4 ? ", ..." : "") +
                    "); the sparsity_actual column has each");
  }
  // Points slower than 1/rate: their power is at the rate they reach, not the one asked.
  {
    std::string list;
    int n = 0;
    for (const auto& r : rows)
      if (r.ok && r.rate_hz < rate_hz * (1 - 1e-9)) {
        char b[96];
        std::snprintf(b, sizeof b, "%s%s s=%.2f at %.3g 1/s", n ? ", " : "", r.scheme.c_str(),
                      r.target, r.rate_hz);
        if (n < 4) list += b;
        ++n;
      }
    if (n) {
      char b[64];
      std::snprintf(b, sizeof b, "%.4g", 1.0 / rate_hz);
      out.push_back(std::to_string(n) + " of " + std::to_string(rows.size()) +
                    " points take longer than 1/rate = " + b + " s (" + list +
                    (n > 4 ? ", ..." : "") + "); their power is at the rate they reach");
    }
  }
  return out;
}

std::string to_csv(const std::vector<Row>& rows, const std::vector<Axis>& axes) {
  std::ostringstream s;
  s << "scheme,sparsity_target,sparsity_actual,params,macs,fidelity,fidelity_metric,"
       "fidelity_oneshot,cycles,"
       "latency_s,energy_j,power_w,area_mm2,storage_bytes,file_bytes,scheme_options";
  for (const auto& a : axes) s << "," << csv_field(a.key);
  s << ",pareto,error\n";
  for (const auto& r : rows) {
    s << csv_field(r.scheme) << "," << fmt(r.target) << ",";
    if (r.ok)
      s << fmt(r.actual) << "," << r.params << "," << r.macs << "," << fmt(r.fidelity) << ","
        << r.metric << ","
        << (std::isnan(r.fidelity_oneshot) ? std::string() : fmt(r.fidelity_oneshot)) << ","
        << r.cycles << "," << fmt(r.latency_s) << "," << fmt(r.energy_j) << "," << fmt(r.power_w)
        << "," << fmt(r.area_mm2) << "," << r.storage_bytes << "," << r.file_bytes;
    else
      s << ",,,,,,,,,,,,";
    s << "," << csv_field(r.scheme_options);
    for (const auto& v : r.set_values) s << "," << csv_field(v);
    s << "," << (r.pareto ? 1 : 0) << "," << csv_field(r.error) << "\n";
  }
  return s.str();
}

json to_json(const std::vector<Row>& rows, const std::vector<Axis>& axes) {
  json a = json::array();
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(); };  // JSON has no inf
  for (const auto& r : rows) {
    json j = {{"scheme", r.scheme}, {"sparsity_target", r.target}, {"pareto", r.pareto}};
    if (!r.scheme_options.empty()) j["scheme_options"] = r.scheme_options;
    for (size_t k = 0; k < axes.size(); ++k) j["params"][axes[k].key] = r.set_values[k];
    if (r.ok) {
      j["sparsity_actual"] = r.actual;
      j["params"] = r.params;
      j["macs"] = r.macs;
      j["fidelity"] = num(r.fidelity);
      j["fidelity_metric"] = r.metric;
      if (!std::isnan(r.fidelity_oneshot)) j["fidelity_oneshot"] = num(r.fidelity_oneshot);
      j["cycles"] = r.cycles;
      j["latency_s"] = r.latency_s;
      j["energy_j"] = r.energy_j;
      j["power_w"] = r.power_w;
      j["rate_hz"] = r.rate_hz;
      j["area_mm2"] = r.area_mm2;
      j["storage_bytes"] = r.storage_bytes;
      j["file_bytes"] = r.file_bytes;
    } else {
      j["error"] = r.error;
    }
    a.push_back(j);
  }
  return a;
}

void print_table(const std::vector<Row>& rows, const std::vector<Axis>& axes, double rate_hz) {
  bool oneshot = false;  // with --finetune: the one-shot fidelity beside the recovered one
  for (const auto& r : rows) oneshot = oneshot || !std::isnan(r.fidelity_oneshot);
  std::printf("%-10s %6s %6s %10s", "scheme", "s", "s act", "fidelity");
  if (oneshot) std::printf(" %10s", "one-shot");
  std::printf(" %10s %12s %12s %12s %10s", "cycles", "latency us", "energy uJ", "power uW",
              "storage B");
  for (const auto& a : axes) std::printf(" %12s", a.key.substr(0, 12).c_str());
  std::printf(" pareto\n");
  for (const auto& r : rows) {
    std::printf("%-10s %6.2f ", r.scheme.substr(0, 10).c_str(), r.target);
    if (r.ok) {
      std::printf("%6.3f %10.2f", r.actual, r.fidelity);
      if (oneshot) {
        if (std::isnan(r.fidelity_oneshot))
          std::printf(" %10s", "-");
        else
          std::printf(" %10.2f", r.fidelity_oneshot);
      }
      std::printf(" %10s %12.3f %12.4f %12.3f %10s", with_commas(r.cycles).c_str(),
                  1e6 * r.latency_s, 1e6 * r.energy_j, 1e6 * r.power_w,
                  with_commas(r.storage_bytes).c_str());
    } else {
      std::printf("%6s %10s", "-", "-");
      if (oneshot) std::printf(" %10s", "-");
      std::printf(" %10s %12s %12s %12s %10s", "-", "-", "-", "-", "-");
    }
    for (const auto& v : r.set_values) std::printf(" %12s", v.c_str());
    std::printf(" %s%s%s\n", r.pareto ? "*" : "", r.ok ? "" : " error: ", r.error.c_str());
  }
  for (const auto& r : rows)
    if (r.ok) {
      std::printf("fidelity: %s (%s); power at %g inferences/s\n", r.metric.c_str(),
                  r.metric == "top1_pct"   ? "top-1 accuracy in %"
                  : r.metric == "miou_pct" ? "mIoU in %"
                                           : "SNDR in dB",
                  rate_hz);
      break;
    }
}

}  // namespace prunesim::dse
