// The search engine (sim/dse/search.h): decision vectors to per-layer recipes, NSGA-II through
// pagmo (one generation per evolve, offspring evaluated by a batch evaluator so evaluations can
// be farmed), random search, EMO-DIR, hypervolume, the checkpoint and the outputs.
//
// Resume replays: a checkpoint holds every point evaluated so far, and a resumed run runs the
// same deterministic algorithm from the start with those points in its cache, so it reaches
// exactly the state of the run that was killed and evaluates only what that run had not.
#include "sim/dse/search.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/batch_evaluators/member_bfe.hpp>
#include <pagmo/bfe.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/utils/hypervolume.hpp>
#include <random>
#include <set>
#include <sstream>

#include "base/output.h"
#include "models/isolate.h"
#include "prune/errors.h"
#include "prune/pipeline.h"
#include "sim/config.h"
#include "sim/dse/checkpoint.h"

namespace prunesim::dse {

using nlohmann::json;

namespace {

constexpr double kInfeasible = 1e9;  // fitness of a point that misses a constraint: 1e9 (1 + miss)
constexpr double kFailed = 1e15;     // fitness of a point that could not be made

uint64_t mix(uint64_t a, uint64_t b) {
  // splitmix64 of a combined value: independent streams per (seed, generation, part).
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double objective_value(const Point& p, Objective o) {
  switch (o) {
    case Objective::Energy:
      return p.row.energy_j;
    case Objective::Latency:
      return p.row.latency_s;
    case Objective::Area:
      return p.row.area_mm2;
    case Objective::Fidelity:
      return -p.row.fidelity;
  }
  return 0;
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) better = true;
  }
  return better;
}

std::string fmt_unit(double v, const char* unit) {
  char b[64];
  std::snprintf(b, sizeof b, "%.4g %s", v, unit);
  return b;
}

json num(double v) {
  return std::isfinite(v) ? json(v) : json();
}

}  // namespace

namespace {

uint64_t fnv(uint64_t h, const void* data, size_t n) {
  const auto* b = static_cast<const unsigned char*>(data);
  for (size_t k = 0; k < n; ++k) h = (h ^ b[k]) * 0x100000001B3ull;
  return h;
}
uint64_t fnv_tensor(uint64_t h, const Tensor& t) {
  if (!t.f.empty()) h = fnv(h, t.f.data(), t.f.size() * sizeof(float));
  for (int64_t d : t.shape) h = fnv(h, &d, sizeof d);
  return h;
}

}  // namespace

std::vector<Objective> parse_objectives(const std::string& s) {
  std::vector<Objective> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) {
    Objective o;
    if (t == "energy")
      o = Objective::Energy;
    else if (t == "latency")
      o = Objective::Latency;
    else if (t == "area")
      o = Objective::Area;
    else if (t == "fidelity")
      o = Objective::Fidelity;
    else
      throw InputError("--objectives " + s + ": unknown objective '" + t +
                       "' (known: energy, latency, area, fidelity)");
    if (std::count(out.begin(), out.end(), o))
      throw InputError("--objectives " + s + ": '" + t + "' is named twice");
    out.push_back(o);
  }
  if (out.size() < 2 || out.size() > 4)
    throw InputError("--objectives " + s + ": name two to four objectives");
  return out;
}

std::string objective_name(Objective o) {
  switch (o) {
    case Objective::Energy:
      return "energy_j";
    case Objective::Latency:
      return "latency_s";
    case Objective::Area:
      return "area_mm2";
    case Objective::Fidelity:
      return "fidelity";
  }
  return "";
}

int64_t Space::upper(size_t k) const {
  if (k < 2 * layers.size())
    return k % 2 == 0 ? static_cast<int64_t>(schemes.size()) - 1
                      : static_cast<int64_t>(sparsities.size()) - 1;
  return static_cast<int64_t>(axes.at(k - 2 * layers.size()).values.size()) - 1;
}

namespace {

// The recipe of x: one rule per layer that is pruned (sparsity index 0 = 0: dense).
Recipe recipe_of(const Context& c, const Space& s, const Decision& x, const ParamValues& pv,
                 std::string* label) {
  Recipe rec;
  const json hints = c.arch->scheme_hints(pv);
  for (size_t l = 0; l < s.layers.size(); ++l) {
    const double sp = s.sparsities.at(x.at(2 * l + 1));
    if (sp == 0) continue;
    RecipeRule rule;
    rule.layers = {s.layers[l]};
    rule.scheme = s.schemes.at(x.at(2 * l));
    rule.options.sparsity = sp;
    rule.options.seed = c.seed;
    const Scheme& scheme = *make_scheme(rule.scheme);
    rule.options.params = point_scheme_params(scheme, sp, hints, c.mask_file);
    const std::string ol = scheme.options_label(rule.options.params);
    *label += (label->empty() ? "" : "; ") + s.layers[l] + " " + rule.scheme +
              (ol.empty() ? "" : " " + ol);
    rec.rules.push_back(rule);
  }
  // Layers no rule names stay dense: the last rule skips everything else.
  RecipeRule rest;
  rest.skip = true;
  rec.rules.push_back(rest);
  return rec;
}

Point evaluate_sets(const Context& c, const Space& s, const Decision& x,
                    const std::vector<std::string>& sets) {
  Point p;
  p.x = x;
  Row& r = p.row;
  r.scheme = "search";
  try {
    const ParamValues pv = resolve_params(c.arch->name(), c.specs, c.config, sets);
    std::string label;
    const Recipe rec = recipe_of(c, s, x, pv, &label);
    PruneOutcome res;
    if (rec.rules.size() == 1 && !c.finetune) {
      res.graph = c.g;  // all dense: no scheme runs
    } else if (c.finetune) {
      // finetune_front: recovery after the one-shot pruning (Schedule::finetune_fn).
      Schedule sched;
      sched.finetune_fn = [&c, &label](const Graph& pg, const MaskMap& m, const std::string&) {
        return c.finetune(pg, m, "finetune " + (label.empty() ? std::string("dense") : label));
      };
      res = prune_recipe(c, rec, sched);
    } else {
      res = prune_recipe(c, rec);
    }
    measure_point(c, pv, res, "search point", r);
    r.scheme_options = label;
  } catch (const Interrupted&) {
    throw;
  } catch (const std::exception& e) {
    r.ok = false;
    r.error = e.what();
  }
  return p;
}

std::vector<std::string> sets_of(const Space& s, const Decision& x) {
  std::vector<std::string> sets;
  for (size_t k = 0; k < s.axes.size(); ++k)
    sets.push_back(s.axes[k].key + "=" + s.axes[k].values.at(x.at(2 * s.layers.size() + k)));
  return sets;
}

}  // namespace

Point evaluate(const Context& c, const Space& s, const Decision& x) {
  if (x.size() != s.dim()) throw std::logic_error("evaluate: decision vector of the wrong size");
  for (size_t k = 0; k < x.size(); ++k)
    if (x[k] < 0 || x[k] > s.upper(k)) throw std::logic_error("evaluate: index out of range");
  return evaluate_sets(c, s, x, sets_of(s, x));
}

std::vector<std::string> inert_choices(const Context& c, const Space& s) {
  std::vector<std::string> out;
  const double top = s.sparsities.empty() ? 0 : s.sparsities.back();
  if (top <= 0) return out;
  PruneOutcome dense;
  dense.graph = c.g;
  const int64_t dense_macs =
      pruning_report(c.g, dense)["total"].value("macs_effective", int64_t{0});
  for (size_t k = 0; k < s.schemes.size(); ++k) {
    std::string names;
    for (size_t l = 0; l < s.layers.size(); ++l) {
      Decision x(s.dim(), 0);
      x[2 * l] = static_cast<int64_t>(k);
      x[2 * l + 1] = static_cast<int64_t>(s.sparsities.size()) - 1;
      std::string label;
      try {
        const ParamValues pv = resolve_params(c.arch->name(), c.specs, c.config, sets_of(s, x));
        const PruneOutcome res = prune_recipe(c, recipe_of(c, s, x, pv, &label));
        const json tot = pruning_report(c.g, res)["total"];
        if (tot.value("sparsity", 0.0) > 0 || tot.value("macs_effective", int64_t{0}) < dense_macs)
          continue;
      } catch (const Interrupted&) {
        throw;
      } catch (const std::exception&) {
        continue;  // a point that fails says so itself
      }
      names += (names.empty() ? "" : ", ") + s.layers[l];
    }
    if (!names.empty()) out.push_back(s.schemes[k] + ": " + names);
  }
  return out;
}

Point evaluate_reference(const Context& c) {
  Space none;
  Point p = evaluate_sets(c, none, {}, {});
  if (!p.row.ok) throw InputError("search: the dense model cannot be simulated: " + p.row.error);
  return p;
}

BatchFn serial_batch(const Context& c, const Space& s) {
  return [&c, &s](const std::vector<Decision>& xs) {
    std::vector<Point> out;
    out.reserve(xs.size());
    for (const auto& x : xs) out.push_back(evaluate(c, s, x));
    return out;
  };
}

double constraint_miss(const Point& p, const Constraints& cons, std::string* what) {
  if (!p.row.ok) {
    if (what) *what = "the point failed: " + p.row.error;
    return kFailed;
  }
  double miss = 0;
  std::string w;
  auto add = [&](double rel, const std::string& text) {
    if (rel <= 0) return;
    miss += rel;
    w += (w.empty() ? "" : ", ") + text;
  };
  const Row& r = p.row;
  if (!std::isnan(cons.latency_s))
    add((r.latency_s - cons.latency_s) / cons.latency_s,
        "latency " + fmt_unit(1e6 * r.latency_s, "us") + " over the " +
            fmt_unit(1e6 * cons.latency_s, "us") + " budget");
  if (!std::isnan(cons.min_fidelity)) {
    const std::string u = r.metric == "top1_pct" || r.metric == "miou_pct" ? "%" : "dB";
    add((cons.min_fidelity - r.fidelity) / std::max(1.0, std::fabs(cons.min_fidelity)),
        "fidelity " + fmt_unit(r.fidelity, u.c_str()) + " below the " +
            fmt_unit(cons.min_fidelity, u.c_str()) + " floor");
  }
  if (!std::isnan(cons.area_mm2))
    add((r.area_mm2 - cons.area_mm2) / cons.area_mm2,
        "area " + fmt_unit(r.area_mm2, "mm2") + " over the " + fmt_unit(cons.area_mm2, "mm2") +
            " limit");
  if (what) *what = w;
  return miss;
}

HvFrame make_frame(const std::vector<Objective>& objs, const Point& ref, const Constraints& cons) {
  HvFrame f;
  f.objectives = objs;
  f.fid_ref = std::isnan(cons.min_fidelity) ? 0.0 : cons.min_fidelity;
  for (Objective o : objs) {
    f.dense.push_back(o == Objective::Fidelity ? ref.row.fidelity : objective_value(ref, o));
    f.ref_point.push_back(o == Objective::Fidelity ? 1.0 : 1.1);
  }
  return f;
}

std::vector<double> HvFrame::normalise(const Point& p) const {
  if (!p.row.ok || p.violation > 0) return {};
  std::vector<double> v;
  for (size_t k = 0; k < objectives.size(); ++k) {
    if (objectives[k] == Objective::Fidelity) {
      const double span = dense[k] - fid_ref;
      v.push_back((dense[k] - p.row.fidelity) / (span > 0 ? span : 1.0));
    } else {
      v.push_back(dense[k] > 0 ? objective_value(p, objectives[k]) / dense[k]
                               : objective_value(p, objectives[k]));
    }
  }
  return v;
}

json HvFrame::json() const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t k = 0; k < objectives.size(); ++k) {
    const std::string n = objective_name(objectives[k]);
    if (objectives[k] == Objective::Fidelity)
      j[n] = {{"zero_at", dense[k]},
              {"one_at", fid_ref},
              {"reference_point", ref_point[k]},
              {"normalised", "(dense - fidelity) / (dense - one_at), minimised"}};
    else
      j[n] = {{"dense", dense[k]},
              {"reference_point", ref_point[k]},
              {"normalised", "value / dense, minimised"}};
  }
  return j;
}

double hypervolume(const HvFrame& f, const std::vector<const Point*>& pts) {
  std::vector<std::vector<double>> v;
  for (const Point* p : pts) {
    std::vector<double> n = f.normalise(*p);
    if (n.empty()) continue;
    bool inside = true;
    for (size_t k = 0; k < n.size(); ++k) inside = inside && n[k] < f.ref_point[k];
    if (inside) v.push_back(n);
  }
  // Only the non-dominated points change the volume; fewer points keep pagmo's 3-D/4-D fast.
  std::vector<std::vector<double>> nd;
  for (size_t a = 0; a < v.size(); ++a) {
    bool dom = false;
    for (size_t b = 0; b < v.size() && !dom; ++b)
      dom = b != a && (dominates(v[b], v[a]) || (v[b] == v[a] && b < a));
    if (!dom) nd.push_back(v[a]);
  }
  if (nd.empty()) return 0;
  return pagmo::hypervolume(nd, false).compute(f.ref_point);
}

void mark_front(std::vector<Point>& pts, const std::vector<Objective>& objs,
                const Constraints& cons) {
  std::vector<std::vector<double>> v(pts.size());
  for (size_t a = 0; a < pts.size(); ++a) {
    pts[a].front = false;
    if (!pts[a].row.ok || constraint_miss(pts[a], cons) > 0) continue;
    for (Objective o : objs) v[a].push_back(objective_value(pts[a], o));
  }
  for (size_t a = 0; a < pts.size(); ++a) {
    if (v[a].empty()) continue;
    bool dom = false;
    for (size_t b = 0; b < pts.size() && !dom; ++b)
      dom = !v[b].empty() && b != a && (dominates(v[b], v[a]) || (v[b] == v[a] && b < a));
    pts[a].front = !dom;
  }
}

// ---------------------------------------------------------------------------------------------
// The engine: the cache of evaluated points, batches, generations, the checkpoint.
namespace {

// A search stage's view of the space: the variables it moves (the others stay at `base`) and
// the limits its fitness is judged against (EMO-DIR parts judge a share of the network's).
struct Stage {
  std::vector<size_t> vars;  // indices into the full decision vector
  Decision base;             // the full vector the stage's variables are written into
  Constraints cons;
  std::string part;  // "" = the whole network
};

class Engine {
 public:
  Engine(const Context& c, const Space& s, const SearchOptions& o, const BatchFn& batch,
         const ProgressFn& progress)
      : c_(c), s_(s), o_(o), batch_(batch), progress_(progress) {}

  SearchResult run();

  // Stage fitness of the full-space point (minimised, pagmo's order).
  std::vector<double> fitness(const Point& p, const Stage& st) const {
    const double miss = constraint_miss(p, st.cons);
    std::vector<double> f;
    for (Objective o : o_.objectives)
      f.push_back(!p.row.ok  ? kFailed
                  : miss > 0 ? kInfeasible * (1 + miss)
                             : objective_value(p, o));
    return f;
  }
  Decision full(const Stage& st, const std::vector<double>& sub) const {
    Decision x = st.base;
    for (size_t k = 0; k < st.vars.size(); ++k) x[st.vars[k]] = std::llround(sub[k]);
    return x;
  }
  std::vector<double> sub(const Stage& st, const Decision& x) const {
    std::vector<double> v;
    for (size_t k : st.vars) v.push_back(static_cast<double>(x[k]));
    return v;
  }
  // Evaluates what the cache lacks (one batch, first occurrences in order) and returns the points
  // of xs; counts every vector as one fitness call.
  std::vector<const Point*> eval(const std::vector<Decision>& xs, const std::string& part);
  void end_generation(size_t done, size_t total);

  const Context& c_;
  const Space& s_;
  const SearchOptions& o_;
  const BatchFn& batch_;
  const ProgressFn& progress_;
  SearchResult r_;
  std::map<Decision, size_t> cache_;
  size_t generation_ = 0;  // the generation being run (0: the initial population)
  // The points the run has reached: all it evaluated, or in a replay the checkpoint's prefix the
  // killed run had evaluated by now (points are stored in evaluation order).
  size_t touched_ = 0;
  std::chrono::steady_clock::time_point t_gen_ = std::chrono::steady_clock::now();
  size_t fresh_in_gen_ = 0;
};

// The pagmo problem: the stage's variables, all integers.
struct Udp {
  const Engine* e = nullptr;
  const Stage* st = nullptr;
  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    // The batch evaluator answers every call nsga2 makes; a single call is a cached point.
    const Decision d = e->full(*st, x);
    const auto it = e->cache_.find(d);
    if (it == e->cache_.end()) throw std::logic_error("search: fitness outside a batch");
    return e->fitness(e->r_.points[it->second], *st);
  }
  std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
    pagmo::vector_double lo(st->vars.size(), 0.0), hi;
    for (size_t k : st->vars) hi.push_back(static_cast<double>(e->s_.upper(k)));
    return {lo, hi};
  }
  pagmo::vector_double::size_type get_nobj() const { return e->o_.objectives.size(); }
  pagmo::vector_double::size_type get_nix() const { return st->vars.size(); }
};

// The batch evaluator nsga2 calls with every generation's offspring.
struct Bfe {
  Engine* e = nullptr;
  const Stage* st = nullptr;
  pagmo::vector_double operator()(const pagmo::problem& p, const pagmo::vector_double& dvs) const {
    const size_t n = p.get_nx(), count = dvs.size() / n;
    std::vector<Decision> xs;
    for (size_t k = 0; k < count; ++k)
      xs.push_back(
          e->full(*st, pagmo::vector_double(dvs.begin() + k * n, dvs.begin() + (k + 1) * n)));
    const auto pts = e->eval(xs, st->part);
    pagmo::vector_double out;
    for (const Point* q : pts) {
      const auto f = e->fitness(*q, *st);
      out.insert(out.end(), f.begin(), f.end());
    }
    return out;
  }
};

std::vector<const Point*> Engine::eval(const std::vector<Decision>& xs, const std::string& part) {
  std::vector<Decision> todo;
  std::set<Decision> queued;
  for (const auto& x : xs)
    if (!cache_.count(x) && queued.insert(x).second) todo.push_back(x);
  if (!todo.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Point> got = batch_(todo);
    r_.eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto& p : got) {
      p.generation = static_cast<int64_t>(generation_);
      p.part = part;
      p.violation = constraint_miss(p, o_.cons);
      cache_[p.x] = r_.points.size();
      r_.points.push_back(std::move(p));
    }
    fresh_in_gen_ += got.size();
  }
  r_.evaluations += xs.size();
  std::vector<const Point*> out;
  for (const auto& x : xs) {
    const size_t k = cache_.at(x);
    touched_ = std::max(touched_, k + 1);
    out.push_back(&r_.points[k]);
  }
  return out;
}

void Engine::end_generation(size_t done, size_t total) {
  GenerationLog g;
  g.generation = generation_;
  g.evaluations = r_.evaluations;
  g.distinct = touched_;
  std::vector<const Point*> all;
  for (size_t k = 0; k < touched_; ++k) all.push_back(&r_.points[k]);
  g.hypervolume = hypervolume(r_.frame, all);
  const auto now = std::chrono::steady_clock::now();
  g.seconds = std::chrono::duration<double>(now - t_gen_).count();
  r_.history.push_back(g);
  if (fresh_in_gen_ > 0) {
    ++r_.generations_run;
    if (!o_.checkpoint.empty()) {
      OutputBatch b;
      b.stage(o_.checkpoint,
              checkpoint_text(checkpoint_key(c_, s_, o_), static_cast<int64_t>(generation_),
                              static_cast<int64_t>(r_.evaluations), r_.points));
      b.commit();
    }
  }
  char label[160];
  std::snprintf(label, sizeof label, "gen %zu/%zu, %.1f evals/s, HV %.4f", generation_, o_.gens,
                g.seconds > 0 ? fresh_in_gen_ / g.seconds : 0.0, g.hypervolume);
  progress_(std::min(done, total), total, label);
  ++generation_;
  fresh_in_gen_ = 0;
  t_gen_ = now;
}

std::vector<Decision> random_vectors(const Space& s, const Stage& st, uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<Decision> out;
  for (size_t k = 0; k < n; ++k) {
    Decision x = st.base;
    for (size_t v : st.vars) x[v] = std::uniform_int_distribution<int64_t>(0, s.upper(v))(rng);
    out.push_back(x);
  }
  return out;
}

// gens generations of NSGA-II (or of random search) on one stage, starting from a random
// population; returns the final population.
std::vector<Decision> run_stage(Engine& e, const Stage& st, size_t gens, uint64_t seed,
                                size_t& done, size_t total) {
  const SearchOptions& o = e.o_;
  std::vector<Decision> pop = random_vectors(e.s_, st, mix(seed, 0), o.pop);
  // The dense design (every variable at index 0) anchors the high-fidelity end of the front,
  // which uniform draws over many layers almost never reach; both algorithms start from it.
  if (o.dense_start) pop[0] = st.base;
  e.eval(pop, st.part);
  e.end_generation(++done, total);
  for (size_t g = 1; g <= gens; ++g) {
    if (o.algo == "random") {
      pop = random_vectors(e.s_, st, mix(seed, g), o.pop);
      e.eval(pop, st.part);
    } else {
      // A fresh population and algorithm every generation, seeded by (seed, g): the state of
      // generation g depends only on the points, so a resumed run replays it exactly.
      pagmo::problem prob{Udp{&e, &st}};
      pagmo::population p(prob, 0u, static_cast<unsigned>(mix(seed, 1000 + g)));
      for (const auto& x : pop) {
        const Point& q = e.r_.points[e.cache_.at(x)];
        p.push_back(e.sub(st, x), e.fitness(q, st));
      }
      const double m = o.m > 0 ? o.m : 1.0 / static_cast<double>(st.vars.size());
      pagmo::nsga2 algo(1u, o.cr, o.eta_c, m, o.eta_m, static_cast<unsigned>(mix(seed, g)));
      algo.set_bfe(pagmo::bfe{Bfe{&e, &st}});
      p = algo.evolve(p);
      pop.clear();
      for (const auto& x : p.get_x()) pop.push_back(e.full(st, x));
    }
    e.end_generation(++done, total);
  }
  return pop;
}

// EMO-DIR's combination: per-part front points as deltas against the dense network, combined
// additively into network-level predictions, ranked by the global impairment (the fidelity the
// combination is predicted to lose), best first.
std::vector<Decision> combine_parts(const Engine& e, const std::vector<Stage>& stages,
                                    const Point& dense, size_t want) {
  const auto& objs = e.o_.objectives;
  struct Cand {
    std::vector<size_t> vars;
    Decision x;
    std::vector<double> delta;  // per objective, minimised sense
  };
  std::vector<std::vector<Cand>> fronts;
  std::vector<double> d;
  for (Objective o : objs) d.push_back(objective_value(dense, o));
  for (const Stage& st : stages) {
    std::vector<Point> mine;
    for (const auto& p : e.r_.points)
      if (p.part == st.part) mine.push_back(p);
    mark_front(mine, objs, st.cons);
    std::vector<Cand> f;
    for (const auto& p : mine)
      if (p.front) {
        Cand c{st.vars, p.x, {}};
        for (size_t k = 0; k < objs.size(); ++k)
          c.delta.push_back(objective_value(p, objs[k]) - d[k]);
        f.push_back(c);
      }
    // The part left dense is always a choice.
    f.push_back(Cand{st.vars, st.base, std::vector<double>(objs.size(), 0.0)});
    fronts.push_back(f);
  }
  // Thin each front (evenly over its fidelity order) so the product stays within 20000.
  const size_t K = fronts.size();
  const size_t per = std::max<size_t>(
      2, static_cast<size_t>(std::floor(std::pow(20000.0, 1.0 / static_cast<double>(K)))));
  size_t fid = 0;
  for (size_t k = 0; k < objs.size(); ++k)
    if (objs[k] == Objective::Fidelity) fid = k;
  for (auto& f : fronts) {
    std::stable_sort(f.begin(), f.end(),
                     [&](const Cand& a, const Cand& b) { return a.delta[fid] < b.delta[fid]; });
    if (f.size() > per) {
      std::vector<Cand> t;
      for (size_t k = 0; k < per; ++k) t.push_back(f[k * (f.size() - 1) / (per - 1)]);
      f = t;
    }
  }
  struct Combo {
    Decision x;
    std::vector<double> pred;
    double impairment = 0;
  };
  std::vector<Combo> combos;
  std::vector<size_t> idx(K, 0);
  for (;;) {
    Combo cb{stages[0].base, d, 0};
    for (size_t k = 0; k < K; ++k) {
      const Cand& c = fronts[k][idx[k]];
      for (size_t v : c.vars) cb.x[v] = c.x[v];
      for (size_t j = 0; j < objs.size(); ++j) cb.pred[j] += c.delta[j];
    }
    // Fidelity is minimised as -fidelity: its predicted loss is pred - dense.
    cb.impairment = objs.empty() ? 0 : cb.pred[fid] - d[fid];
    combos.push_back(cb);
    size_t k = 0;
    while (k < K && ++idx[k] == fronts[k].size()) idx[k++] = 0;
    if (k == K) break;
  }
  // Non-dominated predictions first (each group by impairment, then by index: deterministic).
  std::vector<char> nd(combos.size(), 1);
  for (size_t a = 0; a < combos.size(); ++a)
    for (size_t b = 0; b < combos.size() && nd[a]; ++b)
      if (b != a && dominates(combos[b].pred, combos[a].pred)) nd[a] = 0;
  std::vector<size_t> order(combos.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (nd[a] != nd[b]) return nd[a] > nd[b];
    return combos[a].impairment < combos[b].impairment;
  });
  std::vector<Decision> out;
  std::set<Decision> seen;
  const size_t front_n = static_cast<size_t>(std::count(nd.begin(), nd.end(), 1));
  // More non-dominated predictions than budget: evenly spaced along the ranking, so the
  // candidates span the front instead of crowding at its low-impairment end.
  if (front_n > want) {
    for (size_t k = 0; k < want; ++k) {
      const Decision& x = combos[order[k * (front_n - 1) / std::max<size_t>(1, want - 1)]].x;
      if (seen.insert(x).second) out.push_back(x);
    }
  }
  for (size_t k = 0; k < order.size() && out.size() < want; ++k)
    if (seen.insert(combos[order[k]].x).second) out.push_back(combos[order[k]].x);
  return out;
}

SearchResult Engine::run() {
  check_search(s_, o_);
  if (o_.resume) {
    if (o_.checkpoint.empty()) throw InputError("--resume: needs --checkpoint FILE");
    std::ifstream in(o_.checkpoint, std::ios::binary);
    if (!in) throw InputError("--resume " + o_.checkpoint + ": cannot read the checkpoint");
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<int64_t> upper(s_.dim());
    for (size_t k = 0; k < upper.size(); ++k) upper[k] = s_.upper(k);
    for (Point& p : parse_checkpoint(ss.str(), o_.checkpoint, checkpoint_key(c_, s_, o_), upper)) {
      p.violation = constraint_miss(p, o_.cons);
      cache_.emplace(p.x, r_.points.size());
      r_.points.push_back(std::move(p));
    }
    r_.replayed = r_.points.size();
  }
  r_.reference = evaluate_reference(c_);
  r_.frame = make_frame(o_.objectives, r_.reference, o_.cons);

  // A variable with one value (one scheme, a one-value --set) is not searched: pagmo's NSGA-II
  // refuses equal bounds, and it would only cost crossover and mutation draws. It stays at 0.
  auto free = [this](size_t k) { return s_.upper(k) > 0; };
  Stage whole;
  for (size_t k = 0; k < s_.dim(); ++k)
    if (free(k)) whole.vars.push_back(k);
  whole.base.assign(s_.dim(), 0);
  whole.cons = o_.cons;
  size_t done = 0;
  if (o_.divide == 1) {
    run_stage(*this, whole, o_.gens, o_.seed, done, o_.gens + 1);
  } else {
    // EMO-DIR: K parts of consecutive layers, each searched with the others dense under its
    // share (1/K) of the network's latency saving and fidelity loss; then the parts' fronts
    // combined by the global impairment ranking, the rest of the budget evaluating them.
    const size_t K = o_.divide, L = s_.layers.size();
    const size_t budget = o_.pop * (o_.gens + 1);
    const size_t part_gens = std::max<size_t>(1, (3 * (o_.gens + 1)) / (4 * K)) - 1;
    std::vector<Stage> stages;
    const Point& dense = r_.reference;
    for (size_t k = 0; k < K; ++k) {
      Stage st = whole;
      st.vars.clear();
      for (size_t l = k * L / K; l < (k + 1) * L / K; ++l)
        for (size_t v : {2 * l, 2 * l + 1})
          if (free(v)) st.vars.push_back(v);
      st.part = "part" + std::to_string(k + 1) + "/" + std::to_string(K);
      if (!std::isnan(o_.cons.latency_s))
        st.cons.latency_s = dense.row.latency_s -
                            (dense.row.latency_s - o_.cons.latency_s) / static_cast<double>(K);
      if (!std::isnan(o_.cons.min_fidelity))
        st.cons.min_fidelity = dense.row.fidelity -
                               (dense.row.fidelity - o_.cons.min_fidelity) / static_cast<double>(K);
      stages.push_back(st);
    }
    const size_t total = o_.gens + 1;  // the budget in generations of --pop
    for (size_t k = 0; k < K; ++k)
      run_stage(*this, stages[k], part_gens, mix(o_.seed, 7919 + k), done, total);
    const size_t left = budget > r_.evaluations ? budget - r_.evaluations : 0;
    const std::vector<Decision> cands = combine_parts(*this, stages, dense, left);
    for (size_t k = 0; k < cands.size(); k += o_.pop) {
      eval(std::vector<Decision>(cands.begin() + k,
                                 cands.begin() + std::min(cands.size(), k + o_.pop)),
           "");
      end_generation(++done, total);
    }
  }
  mark_front(r_.points, o_.objectives, o_.cons);
  double best = kFailed * 10;
  for (const auto& p : r_.points) {
    if (p.row.ok && p.violation == 0) ++r_.feasible;
    if (p.violation < best) {
      best = p.violation;
      std::string what;
      constraint_miss(p, o_.cons, &what);
      r_.best_miss = what;
    }
  }
  if (r_.feasible) r_.best_miss.clear();
  return r_;
}

}  // namespace

void check_search(const Space& s, const SearchOptions& o) {
  if (o.algo != "nsga2" && o.algo != "random")
    throw InputError("--algo " + o.algo + ": unknown (known: nsga2, random)");
  if (o.pop < 8 || o.pop % 4 != 0)
    throw InputError("--pop " + std::to_string(o.pop) + ": must be a multiple of 4, at least 8");
  if (o.divide < 1 || o.divide > s.layers.size())
    throw InputError("--divide " + std::to_string(o.divide) + ": must be 1.." +
                     std::to_string(s.layers.size()) + " (the prunable layers)");
  if (o.divide > 1 && !s.axes.empty())
    throw InputError("--divide: not with --set ranges (the parts share one accelerator)");
  if (s.layers.empty()) throw InputError("search: the model has no prunable layer");
  if (s.sparsities.size() < 2)
    throw InputError("--sparsity: gives no sparsity above 0, so there is nothing to search");
  if (o.divide > 1 && o.gens + 1 < 2 * o.divide)
    throw InputError("--divide " + std::to_string(o.divide) + ": needs --gens of at least " +
                     std::to_string(2 * o.divide - 1) +
                     " (each part and the combination get one generation of the budget)");
}

SearchResult run_search(const Context& c, const Space& s, const SearchOptions& o,
                        const BatchFn& batch, const ProgressFn& progress) {
  Engine e(c, s, o, batch, progress);
  return e.run();
}

std::vector<std::string> recheck_front(const Context& c, const Space& s, std::vector<Point>& pts,
                                       const Constraints& cons) {
  Context cyc = c;
  cyc.mode = "cycle";
  std::vector<std::string> out;
  for (auto& p : pts) {
    if (!p.front) continue;
    const Point q = evaluate(cyc, s, p.x);
    if (!q.row.ok) {
      out.push_back("front point failed in cycle mode: " + q.row.error);
      continue;
    }
    p.cycle_cycles = q.row.cycles;
    p.cycle_latency_s = q.row.latency_s;
    if (q.row.cycles != p.row.cycles)
      out.push_back("front point: cycle mode took " + std::to_string(q.row.cycles) +
                    " cycles, the analytical twin " + std::to_string(p.row.cycles));
    if (!std::isnan(cons.latency_s) && q.row.latency_s > cons.latency_s)
      out.push_back("front point misses the latency budget in cycle mode (" +
                    fmt_unit(1e6 * q.row.latency_s, "us") + ")");
  }
  return out;
}

std::vector<std::string> finetune_front(const Context& c, const Space& s, std::vector<Point>& pts,
                                        const Constraints& cons, const ProgressFn& progress) {
  if (!c.finetune) throw std::logic_error("finetune_front: no fine-tuning hook in the context");
  std::vector<std::string> out;
  size_t n = 0, k = 0;
  for (const auto& p : pts) n += p.front;
  for (size_t i = 0; i < pts.size(); ++i) {
    Point& p = pts[i];
    if (!p.front) continue;
    // The dense point (no layer pruned) has nothing to recover.
    bool pruned = false;
    for (size_t l = 0; l < s.layers.size(); ++l) pruned |= p.x.at(2 * l + 1) != 0;
    if (!pruned) continue;
    progress(k++, n, "fine-tuning front point " + std::to_string(i));
    const Point q = evaluate(c, s, p.x);
    p.tuned = q.row;
    p.tuned.scheme = "search+finetune";
    const std::string who = "front point " + std::to_string(i) + " fine-tuned";
    if (!q.row.ok) {
      out.push_back(who + ": failed: " + q.row.error);
      continue;
    }
    if (q.row.fidelity < p.row.fidelity)
      out.push_back(who + ": fidelity fell from " + fmt(p.row.fidelity) + " to " +
                    fmt(q.row.fidelity) + " " + q.row.metric +
                    " (the one-shot point is kept on the front)");
    std::string what;
    if (constraint_miss(q, cons, &what) > 0) out.push_back(who + ": " + what);
  }
  if (n) progress(n, n, "fine-tuning the front");
  return out;
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string r = "\"";
  for (char ch : s) r += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return r + "\"";
}
}  // namespace

std::string points_csv(const Space& s, const std::vector<Point>& pts) {
  std::ostringstream o;
  o << "index,generation,part,sparsity_actual,params,macs,fidelity,fidelity_metric,cycles,"
       "latency_s,energy_j,power_w,area_mm2,storage_bytes,violation,feasible,front,"
       "cycle_mode_cycles,fidelity_finetuned,energy_j_finetuned";
  for (const auto& l : s.layers)
    o << "," << csv_field(l + ".scheme") << "," << csv_field(l + ".sparsity");
  for (const auto& a : s.axes) o << "," << csv_field(a.key);
  o << ",scheme_options,error\n";
  for (size_t k = 0; k < pts.size(); ++k) {
    const Point& p = pts[k];
    const Row& r = p.row;
    o << k << "," << p.generation << "," << csv_field(p.part) << ",";
    if (r.ok)
      o << fmt(r.actual) << "," << r.params << "," << r.macs << "," << fmt(r.fidelity) << ","
        << r.metric << "," << r.cycles << "," << fmt(r.latency_s) << "," << fmt(r.energy_j) << ","
        << fmt(r.power_w) << "," << fmt(r.area_mm2) << "," << r.storage_bytes;
    else
      o << ",,,,,,,,,,";
    o << "," << (r.ok ? fmt(p.violation) : std::string()) << ","
      << (r.ok && p.violation == 0 ? 1 : 0) << "," << (p.front ? 1 : 0) << ","
      << (p.cycle_cycles >= 0 ? std::to_string(p.cycle_cycles) : std::string()) << ","
      << (p.tuned.ok ? fmt(p.tuned.fidelity) : std::string()) << ","
      << (p.tuned.ok ? fmt(p.tuned.energy_j) : std::string());
    for (size_t l = 0; l < s.layers.size(); ++l)
      o << "," << s.schemes.at(p.x[2 * l]) << "," << fmt(s.sparsities.at(p.x[2 * l + 1]));
    for (size_t a = 0; a < s.axes.size(); ++a)
      o << "," << csv_field(s.axes[a].values.at(p.x[2 * s.layers.size() + a]));
    o << "," << csv_field(r.scheme_options) << "," << csv_field(r.error) << "\n";
  }
  return o.str();
}

std::string history_csv(const std::vector<GenerationLog>& h) {
  std::ostringstream o;
  o << "generation,evaluations,distinct_points,hypervolume\n";
  for (const auto& g : h)
    o << g.generation << "," << g.evaluations << "," << g.distinct << "," << fmt(g.hypervolume)
      << "\n";
  return o.str();
}

json point_json(const Space& s, const Point& p) {
  const Row& r = p.row;
  json j = {{"generation", p.generation}};
  if (!p.part.empty()) j["part"] = p.part;
  json layers = json::array();  // in graph order
  for (size_t l = 0; l < s.layers.size(); ++l)
    layers.push_back({{"name", s.layers[l]},
                      {"scheme", s.schemes.at(p.x[2 * l])},
                      {"sparsity", s.sparsities.at(p.x[2 * l + 1])}});
  j["layers"] = layers;
  for (size_t a = 0; a < s.axes.size(); ++a)
    j["params"][s.axes[a].key] = s.axes[a].values.at(p.x[2 * s.layers.size() + a]);
  if (!r.ok) {
    j["error"] = r.error;
    return j;
  }
  j["sparsity_actual"] = r.actual;
  j["params_nonzero"] = r.params;
  j["macs"] = r.macs;
  j["fidelity"] = num(r.fidelity);
  j["fidelity_metric"] = r.metric;
  j["cycles"] = r.cycles;
  j["latency_s"] = r.latency_s;
  j["energy_j"] = r.energy_j;
  j["power_w"] = r.power_w;
  j["area_mm2"] = r.area_mm2;
  j["storage_bytes"] = r.storage_bytes;
  j["violation"] = p.violation;
  if (p.cycle_cycles >= 0) {
    j["cycle_mode_cycles"] = p.cycle_cycles;
    j["cycle_mode_latency_s"] = p.cycle_latency_s;
  }
  if (!p.tuned.scheme.empty()) {
    const Row& t = p.tuned;
    if (t.ok)
      j["finetuned"] = {{"fidelity", num(t.fidelity)}, {"cycles", t.cycles},
                        {"latency_s", t.latency_s},    {"energy_j", t.energy_j},
                        {"power_w", t.power_w},        {"sparsity_actual", t.actual}};
    else
      j["finetuned"] = {{"error", t.error}};
  }
  return j;
}

json result_json(const Space& s, const SearchOptions& o, const SearchResult& r) {
  json objs = json::array();
  for (Objective ob : o.objectives) objs.push_back(objective_name(ob));
  json cons = json::object();
  if (!std::isnan(o.cons.latency_s)) cons["latency_s"] = o.cons.latency_s;
  if (!std::isnan(o.cons.min_fidelity)) cons["min_fidelity"] = o.cons.min_fidelity;
  if (!std::isnan(o.cons.area_mm2)) cons["area_mm2"] = o.cons.area_mm2;
  json hist = json::array();
  for (const auto& g : r.history)
    hist.push_back({{"generation", g.generation},
                    {"evaluations", g.evaluations},
                    {"distinct_points", g.distinct},
                    {"hypervolume", g.hypervolume}});
  json front = json::array();
  for (const auto& p : r.points)
    if (p.front) front.push_back(point_json(s, p));
  json ref = point_json(Space{}, r.reference);
  ref.erase("layers");
  ref.erase("generation");
  ref.erase("violation");
  return {
      {"algo", o.algo},
      {"divide", o.divide},
      {"pop", o.pop},
      {"generations", o.gens},
      {"seed", o.seed},
      {"objectives", objs},
      {"constraints", cons},
      {"evaluations", r.evaluations},
      {"distinct_points", r.points.size()},
      {"feasible_points", r.feasible},
      {"dense_reference", ref},
      {"hypervolume_frame", r.frame.json()},
      // Wall time of this process's batches (the only run-dependent figure here).
      {"eval_seconds", r.eval_seconds},
      {"points_per_s", r.eval_seconds > 0 ? (r.points.size() - r.replayed) / r.eval_seconds : 0.0},
      {"hypervolume", r.history.empty() ? 0.0 : r.history.back().hypervolume},
      {"history", hist},
      {"front", front}};
}

std::string checkpoint_key(const Context& c, const Space& s, const SearchOptions& o) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (const auto& [name, t] : c.g.initializers) {
    h = fnv(h, name.data(), name.size());
    h = fnv_tensor(h, t);
  }
  h = fnv_tensor(h, c.calib);
  h = fnv_tensor(h, c.data);
  h = fnv_tensor(h, c.labels);
  h = fnv_tensor(h, c.input);
  json axes = json::array();
  for (const auto& a : s.axes) axes.push_back({a.key, a.values});
  json objs = json::array();
  for (Objective ob : o.objectives) objs.push_back(objective_name(ob));
  char hb[20];
  std::snprintf(hb, sizeof hb, "%016llx", static_cast<unsigned long long>(h));
  const json k = {
      {"data", hb},
      {"arch", c.arch ? c.arch->name() : ""},
      {"config", c.config},
      {"rate", c.rate},
      {"seed", c.seed},
      {"layers", s.layers},
      {"schemes", s.schemes},
      {"sparsities", s.sparsities},
      {"axes", axes},
      {"algo", o.algo},
      {"pop", o.pop},
      {"gens", o.gens},
      {"divide", o.divide},
      {"objectives", objs},
      {"constraints", {num(o.cons.latency_s), num(o.cons.min_fidelity), num(o.cons.area_mm2)}},
      {"operators", {o.cr, o.eta_c, o.m, o.eta_m}},
      {"search_seed", o.seed}};
  return k.dump();
}

}  // namespace prunesim::dse
