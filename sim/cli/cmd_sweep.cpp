// `prunesim sweep --arch A --model M.onnx --schemes a,b --sparsity 0:0.9:0.1 --calib C.npy
// --data X.npy [--set key=v1,v2 ...] -o sweep.csv [--plot sweep.png]`: for every scheme ×
// sparsity × combination of --set values it prunes, quantizes, builds the weight table in
// memory, measures the int8 fidelity and simulates the table on the architecture; the rows go to
// one CSV (docs/cli.md lists the columns) with the Pareto points on (energy min, fidelity max)
// marked, and optionally a PNG drawn by scripts/plot_sweep.py.
//
// A point that cannot be made (a scheme refusing a layer geometry, an arch rejecting a table) is
// a row with the `error` column set, and the sweep goes on: only bad flags abort, before any work.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common.h"
#include "models/isolate.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/pipeline.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "prune_output.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"
#include "train_cli.h"

namespace prunesim::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Debian's python3-matplotlib lives under the system interpreter; the python3 first on PATH may
// be another one (pyenv, venv) without it.
constexpr const char* kPython = "/usr/bin/python3";

struct Opts {
  std::string arch = "raman", model, calib, data, labels, input, out, plot, mode, config;
  std::vector<std::string> schemes = {"balanced", "magnitude", "nm"};
  std::string sparsity = "0:0.9:0.1";
  std::vector<std::string> sets;
  double rate = 0;
  uint64_t seed = 1;
  bool json = false;
  double min_fidelity = std::nan("");  // points below are not Pareto candidates (broken models)
  // Recovery of every point: built-in fine-tuning, bias correction, a recipe as one more curve,
  // masks imported for the mask/polarization schemes.
  std::string finetune, train_data, train_labels, recipe, mask_file;
  bool bias_correct = false;
};

// One swept architecture parameter: its values as the user wrote them (already validated).
struct Axis {
  std::string key;
  std::vector<std::string> values;
};

struct Row {
  std::string scheme, scheme_options, error;
  double target = 0, actual = 0;
  int64_t params = 0, macs = 0;         // non-zero parameters and effective MACs after pruning
  std::vector<std::string> set_values;  // one per Axis
  bool ok = false;
  double fidelity = 0;
  double fidelity_oneshot = std::nan("");  // with --finetune: the int8 fidelity before recovery
  std::string metric;
  int64_t cycles = 0, storage_bytes = 0, file_bytes = 0;
  double latency_s = 0, energy_j = 0, power_w = 0, area_mm2 = 0;
  double rate_hz = 0;  // the rate power_w is at: below the asked one when the core is slower
  bool pareto = false;
};

std::string fmt(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

// "a:b:c" = a, a+c, …, b (inclusive); otherwise a comma list. Every value in [0, 1).
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

// A point's scheme options, each given to a scheme that declares it: the PE mapping from the
// architecture (a balanced encoding is only decodable by an array with the PE mapping it was
// pruned for), --mask-file, and what a scheme whose sparsity follows from its options sets from
// the point's target (nm: m in {4, 8} and n = round((1 - s) m), the row records the sparsity
// reached).
ParamValues sweep_scheme_params(const Scheme& scheme, double target, const ParamValues& pv,
                                const Opts& o) {
  const std::vector<ParamSpec> specs = scheme.params();
  json given = json::object();
  if (pv.has("pe_count")) given["pes"] = pv.i("pe_count");
  if (pv.has("cluster_size")) given["cluster"] = pv.i("cluster_size");
  if (!o.mask_file.empty()) given["mask_file"] = o.mask_file;
  ParamValues from(specs);
  std::string note;
  for (const auto& k : scheme.params_for_sparsity(target, &from, &note)) given[k] = from.json()[k];
  for (auto it = given.begin(); it != given.end();)
    it = find_param(specs, it.key()) ? std::next(it) : given.erase(it);
  return resolve_scheme_params(scheme, given, [](const std::string& k) {
    return k == "mask_file" ? "--mask-file" : k.empty() ? "--schemes" : "--set " + k;
  });
}

// Locates scripts/plot_sweep.py: $PRUNESIM_SOURCE_DIR, the compile-time source folder, or the
// first ancestor of the executable's folder holding it (build trees live inside the source tree).
std::string find_plot_script() {
  std::vector<fs::path> roots;
  if (const char* e = std::getenv("PRUNESIM_SOURCE_DIR")) roots.emplace_back(e);
#ifdef PRUNESIM_SOURCE_DIR
  roots.emplace_back(PRUNESIM_SOURCE_DIR);
#endif
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
      roots.push_back(p);
  for (const auto& r : roots)
    if (fs::is_regular_file(r / "scripts" / "plot_sweep.py"))
      return (r / "scripts" / "plot_sweep.py").string();
  return "";
}

// Runs argv (no shell: paths pass through untouched); returns the exit status (-1 if killed or
// not started). quiet sends the child's stdout/stderr to /dev/null.
int run_program(const std::vector<std::string>& args, bool quiet) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (quiet) {
      if (FILE* n = std::freopen("/dev/null", "w", stdout)) (void)n;
      if (FILE* n = std::freopen("/dev/null", "w", stderr)) (void)n;
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

// Pareto-optimal on (energy_j min, fidelity max) among the rows that succeeded: no other row is
// at least as good on both and strictly better on one.
// Pareto over (energy min, fidelity max) among the points at or above min_fidelity (NaN: all),
// so that a model broken to chance accuracy is not ringed for its low energy.
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

// The simulated inference's input: --input, or the first sample of --data.
Tensor first_sample(const Graph& g, const Tensor& x, const std::string& source) {
  Shape sample;
  split_samples(g, x, source, &sample);
  const int64_t n = numel(sample);
  return Tensor(sample, std::vector<float>(x.f.begin(), x.f.begin() + n));
}

struct Context {
  const Opts* o = nullptr;
  const Arch* arch = nullptr;
  std::vector<ParamSpec> specs;
  std::string mode, target;
  Graph g;
  Tensor calib, data, labels, dense_out, input;
  const Tensor* labels_p = nullptr;
  mutable double rate_hz = 0;  // the rate the arch used for power (its default unless --rate)
  Tensor train_x, train_y;
  mutable LoopFinetune ft;
  bool finetune = false;
};

double fidelity_value(const json& f) {
  return fidelity_headline(f);
}

// One point of the sweep. Throws for anything that makes the point impossible; the caller
// records the message in the row.
void run_point(const Context& c, const std::vector<std::string>& sets, Row& r) {
  const ParamValues pv = resolve_params(c.arch->name(), c.specs, c.o->config, sets);
  PruneOutcome res;
  if (r.target == 0) {
    // The dense baseline: no scheme runs, so every scheme's curve starts at the same point.
    res.graph = c.g;
  } else {
    SchemeOptions so;
    so.sparsity = r.target;
    so.seed = c.o->seed;
    if (r.scheme != "recipe") {
      so.params = sweep_scheme_params(*make_scheme(r.scheme), r.target, pv, *c.o);
      r.scheme_options = make_scheme(r.scheme)->options_label(so.params);
    }
    PruneData pd;
    pd.calib = &c.calib;
    pd.eval = &c.data;
    pd.labels = c.labels_p;
    Recovery rec;
    rec.bias_correct = c.o->bias_correct;
    rec.seed = c.o->seed;
    Recipe recipe =
        r.scheme == "recipe" ? load_recipe(c.o->recipe, c.g) : single_rule_recipe(r.scheme, so);
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
      const PruneOutcome once = run_pruning(c.g, recipe, Schedule{}, rec, pd);
      r.fidelity_oneshot = fidelity_value(
          int8_fidelity(c.g, quantize(once.graph, c.calib), c.data, c.labels_p, &c.dense_out));
      Schedule sched;
      sched.finetune_fn = [&c, &r](const Graph& pg, const MaskMap& m, const std::string&) {
        return c.ft(pg, m, "finetune " + r.scheme + " s=" + fmt(r.target));
      };
      res = run_pruning(c.g, recipe, sched, rec, pd);
    } else {
      res = run_pruning(c.g, recipe, Schedule{}, rec, pd);
    }
  }
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
  const std::string name = "sweep point " + r.scheme + " s=" + fmt(r.target);
  SimInput in;
  in.tables_path = name;
  const std::string bytes = table_bytes(q, res.masks, res.notes, to, name, &in.summary);
  in.model = parse_tables(bytes, name, &in.summary, &in.masks);
  r.file_bytes = in.summary.file_bytes;
  for (const auto& l : in.summary.layers) r.storage_bytes += l.value_bytes + l.meta_bytes;

  in.input = c.input;
  in.input_path = c.o->input.empty() ? c.o->data : c.o->input;
  in.params = pv;
  in.mode = c.mode;
  in.rate_hz = c.o->rate;
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
  r.rate_hz = rep.value("rate_hz", c.o->rate);
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

void run(const Opts& o) {
  // Every flag is checked before the first point runs: a bad one costs nothing and writes nothing.
  if (o.model.empty()) throw InputError("sweep: --model is required");
  if (o.calib.empty()) throw InputError("sweep: --calib is required (int8 quantization)");
  if (o.data.empty()) throw InputError("sweep: --data is required (fidelity)");
  check_writable(o.out, "-o");
  check_writable(o.plot, "--plot");
  if (!o.plot.empty() && o.out.empty()) throw InputError("--plot: needs -o (the CSV it plots)");

  Context c;
  c.o = &o;
  c.arch = &get_arch(o.arch);
  c.specs = c.arch->params();
  const auto modes = c.arch->modes();
  // Analytical by default: a sweep wants many points fast; cycle mode on request.
  c.mode = o.mode.empty()
               ? (std::count(modes.begin(), modes.end(), "analytical") ? "analytical" : modes.at(0))
               : o.mode;
  if (!std::count(modes.begin(), modes.end(), c.mode)) {
    std::string known;
    for (const auto& m : modes) known += (known.empty() ? "" : ", ") + m;
    throw InputError("--mode " + c.mode + ": not a mode of " + o.arch + " (known: " + known + ")");
  }
  // Tables hold only encodings the architecture decodes (it lists none: any encoding).
  c.target = c.arch->encodings().empty() ? "" : o.arch;
  if (!(o.rate >= 0) || !std::isfinite(o.rate))
    throw InputError("--rate: must be a finite number >= 0 inferences/s");

  if (o.schemes.empty()) throw InputError("--schemes: name at least one scheme");
  std::vector<std::string> schemes;
  for (const auto& s : o.schemes) {
    if (s == "recipe" && !o.recipe.empty()) {
      if (!std::count(schemes.begin(), schemes.end(), s)) schemes.push_back(s);
      continue;
    }
    scheme_registry().get(s, "--schemes");
    if (!std::count(schemes.begin(), schemes.end(), s)) schemes.push_back(s);
  }
  const std::vector<double> sparsities = parse_sparsities(o.sparsity);

  std::vector<Axis> axes;
  for (const auto& s : o.sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw InputError("--set " + s + ": expected key=value[,value...]");
    Axis a{s.substr(0, eq), {}};
    for (const auto& x : axes)
      if (x.key == a.key) throw InputError("--set " + s + ": " + a.key + " is set twice");
    std::stringstream vs(s.substr(eq + 1));
    for (std::string v; std::getline(vs, v, ',');) {
      if (v.empty()) throw InputError("--set " + s + ": empty value");
      // Validates key and value now (unknown parameter, out of range), naming the --set.
      resolve_params(o.arch, c.specs, o.config, {a.key + "=" + v});
      a.values.push_back(v);
    }
    axes.push_back(a);
  }
  size_t combos = 1;
  for (const auto& a : axes) combos *= a.values.size();
  if (combos * schemes.size() * sparsities.size() > 10000)
    throw InputError("sweep: more than 10000 points; narrow --set or --sparsity");

  std::string script;
  if (!o.plot.empty()) {
    script = find_plot_script();
    if (script.empty())
      throw InputError("--plot: scripts/plot_sweep.py not found (set PRUNESIM_SOURCE_DIR)");
    if (::access(kPython, X_OK) != 0)
      throw InputError(std::string("--plot: ") + kPython +
                       " not found (install Debian's python3-matplotlib)");
    if (run_program({kPython, "-c", "import matplotlib"}, true) != 0)
      throw InputError(std::string("--plot: ") + kPython +
                       " lacks matplotlib (install Debian's python3-matplotlib)");
  }

  c.g = load_model(o.model);
  if (!o.recipe.empty()) {
    load_recipe(o.recipe, c.g);  // a bad recipe fails now, not at every point
    if (!std::count(schemes.begin(), schemes.end(), "recipe")) schemes.push_back("recipe");
  }
  if (!o.finetune.empty()) {
    train::parse_train_spec(o.finetune, "--finetune", &c.ft.opt);
    if (o.train_data.empty()) throw InputError("--finetune: needs --train-data X.npy");
    c.train_x = load_data(o.train_data, &c.g);
    c.ft.x = &c.train_x;
    if (!o.train_labels.empty()) {
      c.train_y = load_npy_as_float(o.train_labels);
      check_finite(c.train_y, o.train_labels, "labels");
      c.ft.labels = &c.train_y;
    }
    c.ft.dense = &c.g;
    c.ft.quiet = true;
    c.finetune = true;
    train::install_interrupt_handler();
  } else if (!o.train_data.empty() || !o.train_labels.empty()) {
    throw InputError("--train-data/--train-labels: only used with --finetune epochs=N");
  }
  c.calib = load_data(o.calib, &c.g);
  c.ft.calib = &c.calib;
  c.data = load_data(o.data, &c.g);
  if (!o.labels.empty()) {
    c.labels = load_labels(o.labels, c.g, c.data.shape[0]);
    c.labels_p = &c.labels;
  } else {
    c.dense_out = run_float(c.g, c.data);
  }
  if (!o.input.empty()) {
    // The architecture checks the shape: its input need not be the model's (fpga-soc takes raw
    // sensor frames and preprocesses them).
    c.input = load_data(o.input, nullptr);
  } else {
    c.input = first_sample(c.g, c.data, o.data);
  }

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
  mark_pareto(rows, o.min_fidelity);

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
      warn(std::to_string(n) + " of " + std::to_string(rows.size()) +
           " points reached less sparsity than asked (" + list + (n > 4 ? ", ..." : "") +
           "); the sparsity_actual column has each");
  }
  // Points slower than 1/rate: their power is at the rate they reach, not the one asked.
  {
    std::string list;
    int n = 0;
    for (const auto& r : rows)
      if (r.ok && r.rate_hz < c.rate_hz * (1 - 1e-9)) {
        char b[96];
        std::snprintf(b, sizeof b, "%s%s s=%.2f at %.3g 1/s", n ? ", " : "", r.scheme.c_str(),
                      r.target, r.rate_hz);
        if (n < 4) list += b;
        ++n;
      }
    if (n) {
      char b[64];
      std::snprintf(b, sizeof b, "%.4g", 1.0 / c.rate_hz);
      warn(std::to_string(n) + " of " + std::to_string(rows.size()) +
           " points take longer than 1/rate = " + b + " s (" + list + (n > 4 ? ", ..." : "") +
           "); their power is at the rate they reach");
    }
  }
  const std::string csv = to_csv(rows, axes);
  if (!o.out.empty()) write_file_atomic(o.out, csv);
  if (!o.plot.empty()) {
    std::vector<std::string> cmd = {kPython, script, o.out, o.plot};
    if (!std::isnan(o.min_fidelity)) {
      char b[32];
      std::snprintf(b, sizeof b, "%.17g", o.min_fidelity);
      cmd.insert(cmd.end(), {"--min-fidelity", b});
    }
    const int rc = run_program(cmd, false);
    if (rc != 0)
      throw std::runtime_error("--plot: " + script + " exited with status " + std::to_string(rc) +
                               " (the CSV " + o.out + " was written)");
  }
  if (o.json) {
    json j = {{"arch", o.arch},
              {"mode", c.mode},
              {"model", o.model},
              {"rate_hz", c.rate_hz},
              {"points", rows.size()},
              {"failed", failed},
              {"rows", to_json(rows, axes)}};
    if (!o.out.empty()) j["csv"] = o.out;
    if (!o.plot.empty()) j["plot"] = o.plot;
    std::cout << j.dump(2) << "\n";
  } else if (o.out.empty()) {
    std::cout << csv;
  } else {
    print_table(rows, axes, c.rate_hz);
    std::printf("wrote %zu rows (%zu failed) to %s\n", rows.size(), failed, o.out.c_str());
    if (!o.plot.empty()) std::printf("wrote plot %s\n", o.plot.c_str());
  }
  // Nothing simulated at all is a failure a script must notice, even though the CSV says why.
  if (failed == rows.size()) {
    std::cerr << "prunesim: error: sweep: every point failed; first: " << rows[0].error << "\n";
    set_exit_code(1);
  }
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand(
      "sweep", "Schemes x sparsities (x --set ranges): prune, measure fidelity, simulate; CSV");
  c->add_option("--arch", o->arch, "architecture (default raman)");
  c->add_option("--model", o->model, "ONNX model")->check(CLI::ExistingFile);
  c->add_option("--schemes", o->schemes, "comma list of pruning schemes")->delimiter(',');
  c->add_option("--sparsity", o->sparsity,
                "start:stop:step (inclusive) or a comma list, in [0, 1)");
  c->add_option("--calib", o->calib, "calibration set .npy (int8 scales)")
      ->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "evaluation inputs .npy (fidelity; first sample simulated)")
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets for --data")
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "simulate this input .npy instead of the first --data sample")
      ->check(CLI::ExistingFile);
  c->add_option("--mode", o->mode, "simulation mode (default analytical; cycle = SystemC)");
  c->add_option("--set", o->sets, "key=v1,v2,...: sweep an architecture parameter (repeatable)");
  c->add_option("--config", o->config, "JSON file of architecture parameters")
      ->check(CLI::ExistingFile);
  c->add_option("--rate", o->rate, "inferences per second for power (default: the arch's)");
  c->add_option("--seed", o->seed, "seed of the schemes' random choices");
  c->add_option("-o,--output", o->out, "CSV to write (without: CSV on stdout)");
  c->add_option(
      "--plot", o->plot,
      "PNG to draw (energy, power and fidelity against sparsity; fidelity against energy)");
  c->add_flag("--json", o->json, "print the rows as JSON");
  c->add_option("--min-fidelity", o->min_fidelity,
                "points whose fidelity is below this (in the fidelity column's unit: % or dB) are "
                "not Pareto candidates, and the plot draws the line");
  c->add_option("--finetune", o->finetune,
                "recover every point with the built-in engine: epochs=N[,lr=X,batch=N,qat,...]");
  c->add_option("--train-data", o->train_data, "--finetune: training inputs .npy")
      ->check(CLI::ExistingFile);
  c->add_option("--train-labels", o->train_labels,
                "--finetune: class ids or targets (without: distillation from the dense model)")
      ->check(CLI::ExistingFile);
  c->add_flag("--bias-correct", o->bias_correct, "recover every point by bias correction");
  c->add_option("--recipe", o->recipe, "one more curve: this recipe (scheme name 'recipe')")
      ->check(CLI::ExistingFile);
  c->add_option("--mask-file", o->mask_file, "masks for the mask/polarization schemes")
      ->check(CLI::ExistingFile);
  c->callback([o] { run(*o); });
}

Registrar reg("sweep", setup);

}  // namespace
}  // namespace prunesim::cli
