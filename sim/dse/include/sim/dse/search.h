// The search engine behind `prunesim search` (docs/search.md): a multi-objective search over
// per-layer scheme and sparsity (and --set ranges of architecture parameters), each candidate
// evaluated like a sweep point (sweep.h measure_point, on the analytical twin), by NSGA-II
// (pagmo2) or random search, optionally divided into K parts (EMO-DIR). Evaluation is a pure
// function of the decision vector, so a seed gives the same points at any MPI rank count.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/dse/sweep.h"

namespace prunesim::dse {

enum class Objective { Energy, Latency, Area, Fidelity };
// "energy,fidelity" -> objectives; InputError naming --objectives for an unknown name, a repeat,
// or fewer than 2 / more than 4.
std::vector<Objective> parse_objectives(const std::string& s);
std::string objective_name(Objective o);  // energy_j, latency_s, area_mm2, fidelity

// Limits a point must meet to be feasible (NaN: none). min_fidelity is in the fidelity's unit
// (% or dB).
struct Constraints {
  double latency_s = std::nan("");
  double min_fidelity = std::nan("");
  double area_mm2 = std::nan("");
};

// The decision variables: every prunable layer (or those of one part) takes an index into
// schemes and one into sparsities; every axis an index into its values. Decision vector layout:
// [scheme_0, sparsity_0, scheme_1, sparsity_1, ..., axis_0, axis_1, ...].
struct Space {
  std::vector<std::string> layers;  // node names, in graph order
  std::vector<std::string> schemes;
  std::vector<double> sparsities;  // sorted; 0 keeps the layer dense
  std::vector<Axis> axes;
  size_t dim() const { return 2 * layers.size() + axes.size(); }
  int64_t upper(size_t k) const;  // the largest index variable k takes
};
using Decision = std::vector<int64_t>;

// One evaluated candidate: the sweep's measured row plus what the search adds.
struct Point {
  Decision x;
  Row row;                 // measured fields (row.ok false: row.error says why)
  double violation = 0;    // 0: feasible; else the sum of relative misses (see constraint_miss)
  int64_t generation = 0;  // first evaluated in (0 = initial population)
  bool front = false;
  // The front's recheck in cycle mode (-1: not rechecked).
  int64_t cycle_cycles = -1;
  double cycle_latency_s = std::nan("");
  std::string part;  // EMO-DIR: the part that proposed it ("" = a network-level candidate)
  // --finetune: the same point pruned again with recovery (c.finetune) and measured again;
  // tuned.ok false with tuned.error when that failed, tuned.scheme empty when not run.
  Row tuned;
};

// Evaluates x (pure: same x, same point): prunes each layer with its scheme at its sparsity
// (seed c.seed), then measure_point on the parameters the axes select. A point that cannot be
// made keeps row.ok = false and the error. Never throws for a bad point.
Point evaluate(const Context& c, const Space& s, const Decision& x);
// The dense model on c.config (no --set): the reference the hypervolume is normalised by.
Point evaluate_reference(const Context& c);

// Per scheme of s, the layers on which it removes nothing even at the largest sparsity alone (a
// channel scheme on a depthwise layer, whose channels follow its input's producer, or on the
// layer that makes the model's output): "scheme: layer, layer". The CLI warns about them once.
std::vector<std::string> inert_choices(const Context& c, const Space& s);

// Evaluates a batch in order (serial: evaluate() in a loop; MPI: farmed over ranks).
using BatchFn = std::function<std::vector<Point>(const std::vector<Decision>&)>;
BatchFn serial_batch(const Context& c, const Space& s);

struct SearchOptions {
  std::string algo = "nsga2";  // nsga2 | random
  size_t pop = 16;             // nsga2: a multiple of 4, >= 8
  size_t gens = 10;            // generations after the initial population
  uint64_t seed = 1;
  std::vector<Objective> objectives = {Objective::Energy, Objective::Fidelity};
  Constraints cons;
  size_t divide = 1;  // EMO-DIR parts (1: plain search)
  // NSGA-II's operators (pagmo::nsga2): crossover probability and distribution index, mutation
  // probability (0: 1/dimension) and distribution index.
  double cr = 0.95, eta_c = 10, m = 0, eta_m = 50;
  // The initial population holds the dense design (every index 0) and pop - 1 uniform draws;
  // false: pop uniform draws.
  bool dense_start = true;
  std::string checkpoint;  // written after every generation ("" = none)
  bool resume = false;     // continue from checkpoint
};

// The hypervolume's frame: every objective minimised and normalised so the dense reference
// model sits at 0 for fidelity and 1 for the costs; the reference point is 1.1 for the costs
// and 1 for fidelity (fidelity = fid_ref, the floor if given, else 0 % / 0 dB).
struct HvFrame {
  std::vector<Objective> objectives;
  std::vector<double> dense;  // the reference model's objective values (fidelity as measured)
  double fid_ref = 0;
  std::vector<double> ref_point;  // in normalised units
  // The normalised vector of a point, or empty when it is infeasible or failed.
  std::vector<double> normalise(const Point& p) const;
  nlohmann::json json() const;
};
HvFrame make_frame(const std::vector<Objective>& objs, const Point& reference,
                   const Constraints& cons);
// Hypervolume (pagmo::hypervolume) of the feasible points that dominate the reference point.
double hypervolume(const HvFrame& f, const std::vector<const Point*>& pts);

struct GenerationLog {
  size_t generation = 0, evaluations = 0, distinct = 0;  // cumulative fitness calls and points
  double hypervolume = 0;
  double seconds = 0;  // wall time of the generation (not in the CSV: runs must compare equal)
};

struct SearchResult {
  std::vector<Point> points;  // every distinct decision vector, in evaluation order
  std::vector<GenerationLog> history;
  Point reference;
  HvFrame frame;
  size_t evaluations = 0;      // fitness calls (a vector met again is answered from the cache)
  size_t generations_run = 0;  // this process (after a resume: those left)
  double eval_seconds = 0;     // wall time spent in batches (this process)
  size_t replayed = 0;         // points loaded from the checkpoint (--resume)
  size_t feasible = 0;
  // When nothing is feasible: the smallest violation and what it misses ("" when some point is).
  std::string best_miss;
};

// The relative miss of p against cons (0: feasible); `what` (if given) says which limit and by
// how much, with units.
double constraint_miss(const Point& p, const Constraints& cons, std::string* what = nullptr);

// InputError for options that cannot run on s (algorithm, population, --divide); run_search
// calls it, the CLI too before it loads the data.
void check_search(const Space& s, const SearchOptions& o);

// Runs the search (every generation: one batch through `batch`, then the checkpoint); progress is
// called after each generation with a label "gen g/G, x evals/s, HV h". InputError for bad
// options or an unreadable / mismatched checkpoint (before any evaluation).
SearchResult run_search(const Context& c, const Space& s, const SearchOptions& o,
                        const BatchFn& batch, const ProgressFn& progress);

// Marks the non-dominated feasible points (on o.objectives) as front.
void mark_front(std::vector<Point>& pts, const std::vector<Objective>& objs,
                const Constraints& cons);

// Reruns the front in cycle mode (isolated processes) and records its cycles; returns one line per
// point whose cycle-mode cycles differ from the analytical ones, or whose cycle-mode latency
// misses the budget.
std::vector<std::string> recheck_front(const Context& c, const Space& s, std::vector<Point>& pts,
                                       const Constraints& cons);

// Fine-tunes every front point (c.finetune must be set): the point's recipe pruned again with
// recovery after it (the pruning structure held exactly), quantized and measured as in the
// search; the result goes to Point::tuned. Returns one line per point that failed, lost
// fidelity, or no longer meets the constraints. progress(k, n, label) before each point.
std::vector<std::string> finetune_front(const Context& c, const Space& s, std::vector<Point>& pts,
                                        const Constraints& cons, const ProgressFn& progress);

// Outputs: the CSV of every point (docs/search.md lists the columns), the hypervolume per
// generation as CSV, the front (and run) as JSON.
std::string points_csv(const Space& s, const std::vector<Point>& pts);
std::string history_csv(const std::vector<GenerationLog>& h);
nlohmann::json point_json(const Space& s, const Point& p);
nlohmann::json result_json(const Space& s, const SearchOptions& o, const SearchResult& r);

// A point as the checkpoint and the MPI farm carry it (every double exactly) and back.
nlohmann::json point_state(const Point& p);
Point point_from_state(const nlohmann::json& j);

// The checkpoint (JSON) and what must match for --resume: the space, the options that shape the
// run, the model's fingerprint.
std::string checkpoint_key(const Context& c, const Space& s, const SearchOptions& o);

}  // namespace prunesim::dse
