// The sweep engine behind `prunesim sweep` (docs/cli.md): every point of a grid (values of
// swept architecture parameters × scheme × sparsity) is pruned, quantized, written as a weight
// table in memory, simulated on the architecture and measured for int8 fidelity; the rows are
// marked Pareto-optimal on (energy min, fidelity max) and written as CSV or JSON. The engine
// knows architectures only through sim/arch.h: what a scheme must know about the hardware it
// gets from Arch::scheme_hints.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/params.h"
#include "prune/ir.h"
#include "prune/pipeline.h"
#include "prune/pruning.h"
#include "sim/arch.h"
#include "sim/dse/progress.h"

namespace prunesim::dse {

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
  double fidelity_oneshot = std::nan("");  // with finetune: the int8 fidelity before recovery
  std::string metric;
  int64_t cycles = 0, storage_bytes = 0, file_bytes = 0;
  double latency_s = 0, energy_j = 0, power_w = 0, area_mm2 = 0;
  double rate_hz = 0;  // the rate power_w is at: below the asked one when the core is slower
  bool pareto = false;
};

// (pruned graph, its masks, label) -> the recovered graph (Schedule::finetune_fn); the CLI
// builds it from the training engine, which this library does not link.
using FinetuneFn = std::function<Graph(const Graph&, const MaskMap&, const std::string&)>;

// What every point of one sweep shares: the architecture, the model and the data sets.
struct Context {
  const Arch* arch = nullptr;
  std::vector<ParamSpec> specs;  // arch->params()
  std::string config;            // JSON file of architecture parameters ("" = none)
  std::string mode;              // one of arch->modes()
  std::string target;            // weight-table target ("" = any encoding)
  double rate = 0;               // inferences per second asked for power (0 = the arch's)
  uint64_t seed = 1;             // the schemes' random choices
  std::string recipe;            // the "recipe" curve's file
  std::string mask_file;         // masks for the mask/polarization schemes
  bool bias_correct = false;
  std::string input_path;  // names `input` in the simulation
  Graph g;
  Tensor calib, data, labels, dense_out, input;
  const Tensor* labels_p = nullptr;  // &labels, or null: fidelity against dense_out
  FinetuneFn finetune;               // empty: no recovery
  mutable double rate_hz = 0;        // the rate the arch used for power (its default unless rate)
};

// "%.9g", and nan / inf / -inf: the numbers of the CSV.
std::string fmt(double v);

// "a:b:c" = a, a+c, …, b (inclusive); otherwise a comma list. Every value in [0, 1); sorted,
// duplicates dropped. InputError "--sparsity <s>: ..." otherwise.
std::vector<double> parse_sparsities(const std::string& s);

// --set key=v1,v2 ... (or key=start:stop:step, inclusive) as axes; each value checked against the
// arch's parameters now (InputError naming the --set).
std::vector<Axis> parse_axes(const std::string& arch, const std::vector<ParamSpec>& specs,
                             const std::string& config, const std::vector<std::string>& sets);

// InputError when the grid has more than 10000 points (checked before any work).
void check_grid(const std::vector<Axis>& axes, size_t schemes, size_t sparsities);
// The grid's rows, not yet run: every combination of axis values (the first axis varies
// slowest), then scheme, then sparsity.
std::vector<Row> make_rows(const std::vector<Axis>& axes, const std::vector<std::string>& schemes,
                           const std::vector<double>& sparsities);

// One point: sets ("key=value", one per axis) on top of c.config. Throws for anything that makes
// the point impossible; run_rows records the message in the row.
void run_point(const Context& c, const std::vector<std::string>& sets, Row& r);

// c.g pruned by `recipe` on the context's data (calibration, evaluation, labels) with its
// recovery (bias correction) and seed.
PruneOutcome prune_recipe(const Context& c, const Recipe& recipe, const Schedule& sched = {});

// What sweep and search share after pruning: quantizes res.graph on c.calib, writes its weight
// table in memory (named `name` in errors), simulates it in c.mode with params pv and measures
// its int8 fidelity on c.data (dse::int8_fidelity, the one call of the int8 reference); fills the
// measured fields of r and sets r.ok. Throws for a table the architecture refuses.
void measure_point(const Context& c, const ParamValues& pv, const PruneOutcome& res,
                   const std::string& name, Row& r);

// The scheme params of a point at sparsity `target`, each given to a scheme that declares it:
// the architecture's hints (Arch::scheme_hints), mask_file, and what a scheme whose sparsity
// follows from its options sets from the target (nm: n:m).
ParamValues point_scheme_params(const Scheme& scheme, double target, const nlohmann::json& hints,
                                const std::string& mask_file);

// Runs every row (a failed point keeps its error and the sweep goes on); progress(done, total,
// label) is called before and after each point. Returns the number of failed points.
size_t run_rows(const Context& c, const std::vector<Axis>& axes, std::vector<Row>& rows,
                const ProgressFn& progress);

// Pareto over (energy min, fidelity max) among the points at or above min_fidelity (NaN: all),
// so that a model broken to chance accuracy is not ringed for its low energy.
void mark_pareto(std::vector<Row>& rows, double min_fidelity);

// The warnings a finished sweep owes its user (points short of their sparsity, points slower
// than 1/rate_hz), one line each without the "warning: " prefix.
std::vector<std::string> sweep_warnings(const std::vector<Row>& rows, double rate_hz);

// The CSV (docs/cli.md lists the columns; units in the names) and the JSON rows.
std::string to_csv(const std::vector<Row>& rows, const std::vector<Axis>& axes);
nlohmann::json to_json(const std::vector<Row>& rows, const std::vector<Axis>& axes);
// The console table of the rows, with the fidelity's unit and the power's rate below it.
void print_table(const std::vector<Row>& rows, const std::vector<Axis>& axes, double rate_hz);

}  // namespace prunesim::dse
