// The search engine (sim/dse/search.h) driven directly on the ds_cae1 encoder: a point equals the
// sweep's for the same uniform pruning, a seed gives the same run, NSGA-II's hypervolume beats
// random search's at equal evaluations, constraints hold on the front, a run cut mid-generation
// and resumed from its checkpoint equals the uninterrupted one, and EMO-DIR keeps to the budget.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/input_error.h"
#include "common/raman_cases.h"
#include "prune/errors.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "sim/dse/search.h"

namespace prunesim::dse {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::first_samples;
using test::zoo;

const Context& encoder() {
  static Context c = [] {
    Context c;
    c.arch = &get_arch("raman");
    c.specs = c.arch->params();
    c.mode = "analytical";
    c.target = "raman";
    c.g = load_onnx(zoo("ds_cae1/encoder.onnx"));
    c.calib = first_samples(load_npy_as_float(zoo("ds_cae1/calib.npy")), 8);
    c.data = first_samples(load_npy_as_float(zoo("ds_cae1/eval.npy")), 2);
    c.dense_out = run_float(c.g, c.data);
    c.input = first_samples(c.data, 1);
    return c;
  }();
  return c;
}

Space space(const Context& c) {
  Space s;
  for (const auto& l : prunable_layers(c.g)) s.layers.push_back(l.node);
  s.schemes = {"magnitude", "nm"};
  s.sparsities = {0, 0.25, 0.5, 0.75, 0.9};
  return s;
}

TEST(Objectives, ParsedAndChecked) {
  const auto o = parse_objectives("fidelity,energy,latency");
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0], Objective::Fidelity);
  EXPECT_EQ(o[2], Objective::Latency);
  EXPECT_NE(error_of([] { parse_objectives("energy,speed"); }).find("unknown objective 'speed'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_objectives("energy"); }).find("two to four"), std::string::npos);
  EXPECT_NE(error_of([] { parse_objectives("energy,energy"); }).find("named twice"),
            std::string::npos);
}

TEST(Axes, RangesAreInclusiveAndAnEmptyOneIsRefused) {
  const Arch& a = get_arch("raman");
  const auto axes = parse_axes("raman", a.params(), "", {"pe_count=16:32:8"});
  ASSERT_EQ(axes.size(), 1u);
  EXPECT_EQ(axes[0].values, (std::vector<std::string>{"16", "24", "32"}));
  EXPECT_NE(error_of([&] {
              parse_axes("raman", a.params(), "", {"pe_count=32:16:4"});
            }).find("--set pe_count=32:16:4: empty range (stop is below start)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_axes("raman", a.params(), "", {"pe_count=16:32"});
            }).find("a range is start:stop:step"),
            std::string::npos);
}

Point hand(double energy, double fidelity, double latency = 1) {
  Point p;
  p.row.ok = true;
  p.row.energy_j = energy;
  p.row.fidelity = fidelity;
  p.row.latency_s = latency;
  return p;
}

TEST(Hypervolume, TwoObjectivesByHand) {
  // Dense: energy 10 J, fidelity 30 dB; the reference point (1.1, 1) is energy 11 J, 0 dB.
  const Point dense = hand(10, 30);
  const HvFrame f = make_frame({Objective::Energy, Objective::Fidelity}, dense, Constraints{});
  const Point a = hand(5, 15), b = hand(8, 27), dominated = hand(9, 14), outside = hand(12, 29);
  // a: (0.5, 0.5), b: (0.8, 0.1). Union of boxes up to (1.1, 1):
  // a: 0.6 * 0.5 = 0.3; b adds (1.1 - 0.8) * (0.5 - 0.1) = 0.12.
  EXPECT_NEAR(hypervolume(f, {&a, &b, &dominated, &outside}), 0.42, 1e-12);
  EXPECT_NEAR(hypervolume(f, {&a}), 0.3, 1e-12);
  Point infeasible = hand(1, 29);
  infeasible.violation = 0.5;  // misses a limit: never counted
  EXPECT_NEAR(hypervolume(f, {&a, &infeasible}), 0.3, 1e-12);
}

TEST(Front, NonDominatedFeasibleOnly) {
  std::vector<Point> v = {hand(5, 15, 2), hand(8, 27, 1), hand(9, 14, 1), hand(4, 28, 9)};
  Constraints c;
  c.latency_s = 5;  // the last point has the best energy and fidelity but misses the budget
  mark_front(v, {Objective::Energy, Objective::Fidelity}, c);
  EXPECT_TRUE(v[0].front);
  EXPECT_TRUE(v[1].front);
  EXPECT_FALSE(v[2].front);
  EXPECT_FALSE(v[3].front);
  std::string what;
  EXPECT_NEAR(constraint_miss(v[3], c, &what), 0.8, 1e-12);
  EXPECT_NE(what.find("latency 9e+06 us over the 5e+06 us budget"), std::string::npos) << what;
}

TEST(Evaluate, UniformPointEqualsTheSweepsAndDenseTheReference) {
  const Context& c = encoder();
  const Space s = space(c);
  Decision x(s.dim(), 0);
  for (size_t l = 0; l < s.layers.size(); ++l) x[2 * l + 1] = 2;  // magnitude at 0.5 everywhere
  const Point p = evaluate(c, s, x);
  ASSERT_TRUE(p.row.ok) << p.row.error;
  Row r;
  r.scheme = "magnitude";
  r.target = 0.5;
  run_point(c, {}, r);
  EXPECT_EQ(p.row.cycles, r.cycles);
  EXPECT_EQ(p.row.energy_j, r.energy_j);
  EXPECT_EQ(p.row.fidelity, r.fidelity);
  EXPECT_EQ(p.row.params, r.params);
  const Point d = evaluate(c, s, Decision(s.dim(), 0));
  const Point ref = evaluate_reference(c);
  EXPECT_EQ(d.row.energy_j, ref.row.energy_j);
  EXPECT_EQ(d.row.actual, 0.0);
  EXPECT_LT(p.row.energy_j, ref.row.energy_j);
}

TEST(Evaluate, AxesSetTheArchitecturesParameters) {
  const Context& c = encoder();
  Space s = space(c);
  s.axes = parse_axes("raman", c.specs, "", {"pe_count=16,32"});
  Decision x(s.dim(), 0);
  for (size_t l = 0; l < s.layers.size(); ++l) x[2 * l + 1] = 2;
  x.back() = 1;  // pe_count = 32
  const Point p = evaluate(c, s, x);
  ASSERT_TRUE(p.row.ok) << p.row.error;
  Row r;
  r.scheme = "magnitude";
  r.target = 0.5;
  run_point(c, {"pe_count=32"}, r);
  EXPECT_EQ(p.row.cycles, r.cycles);
  EXPECT_EQ(p.row.area_mm2, r.area_mm2);
  x.back() = 0;
  EXPECT_NE(evaluate(c, s, x).row.area_mm2, p.row.area_mm2);
}

SearchOptions opts(const std::string& algo, uint64_t seed, size_t gens = 4) {
  SearchOptions o;
  o.algo = algo;
  o.pop = 8;
  o.gens = gens;
  o.seed = seed;
  return o;
}

SearchResult run(const SearchOptions& o, const BatchFn* batch = nullptr) {
  const Context& c = encoder();
  static const Space s = space(c);
  const BatchFn serial = serial_batch(c, s);
  return run_search(c, s, o, batch ? *batch : serial, [](size_t, size_t, const std::string&) {});
}

TEST(Search, SameSeedSameRunOtherSeedOtherRun) {
  const Space s = space(encoder());
  const SearchResult a = run(opts("nsga2", 3, 2)), b = run(opts("nsga2", 3, 2));
  const SearchResult other = run(opts("nsga2", 4, 2));
  EXPECT_EQ(points_csv(s, a.points), points_csv(s, b.points));
  EXPECT_NE(points_csv(s, a.points), points_csv(s, other.points));
  EXPECT_EQ(a.evaluations, 8u * 3);
  // The initial population starts from the dense design, then uniform draws.
  EXPECT_EQ(a.points[0].x, Decision(s.dim(), 0));
  EXPECT_EQ(a.points[0].row.actual, 0.0);
  ASSERT_EQ(a.history.size(), 3u);
  // The archive only grows: the hypervolume never falls.
  EXPECT_LE(a.history[0].hypervolume, a.history[1].hypervolume);
  EXPECT_LE(a.history[1].hypervolume, a.history[2].hypervolume);
}

TEST(Search, Nsga2BeatsRandomAtEqualEvaluations) {
  for (uint64_t seed : {1, 2, 3}) {
    const SearchResult n = run(opts("nsga2", seed, 8)), r = run(opts("random", seed, 8));
    EXPECT_EQ(n.evaluations, r.evaluations);
    EXPECT_GT(n.history.back().hypervolume, r.history.back().hypervolume) << "seed " << seed;
  }
}

TEST(Search, LatencyBudgetHoldsOnTheFrontAndAnImpossibleOneIsReported) {
  const Point dense = evaluate_reference(encoder());
  SearchOptions o = opts("nsga2", 1, 2);
  o.cons.latency_s = 0.97 * dense.row.latency_s;
  SearchResult r = run(o);
  size_t front = 0;
  for (const auto& p : r.points) {
    if (!p.front) continue;
    ++front;
    EXPECT_LE(p.row.latency_s, o.cons.latency_s);
  }
  EXPECT_GT(front, 0u);
  EXPECT_GT(r.feasible, 0u);
  EXPECT_LT(r.feasible, r.points.size());  // the budget is binding: some points miss it
  EXPECT_EQ(r.best_miss, "");
  o.cons.latency_s = 1e-9;
  o.gens = 1;
  r = run(o);
  EXPECT_EQ(r.feasible, 0u);
  EXPECT_NE(r.best_miss.find("over the 0.001 us budget"), std::string::npos) << r.best_miss;
  for (const auto& p : r.points) EXPECT_FALSE(p.front);
}

TEST(Search, ResumedAfterACutMidGenerationEqualsTheWholeRun) {
  const Context& c = encoder();
  const Space s = space(c);
  const fs::path ck = fs::temp_directory_path() / ("search_ck_" + std::to_string(::getpid()));
  SearchOptions o = opts("nsga2", 5, 4);
  const SearchResult whole = run(o);
  o.checkpoint = ck.string();
  // Cut inside generation 3: its batch evaluates two points and dies (like SIGKILL).
  int batches = 0;
  const BatchFn dying = [&](const std::vector<Decision>& xs) {
    if (++batches == 4) {
      (void)evaluate(c, s, xs[0]);
      throw std::runtime_error("killed");
    }
    return serial_batch(c, s)(xs);
  };
  EXPECT_THROW(run(o, &dying), std::runtime_error);
  size_t fresh = 0, ck_points = 0;
  const BatchFn counting = [&](const std::vector<Decision>& xs) {
    fresh += xs.size();
    return serial_batch(c, s)(xs);
  };
  o.resume = true;
  const SearchResult resumed = [&] {
    // The checkpoint as the cut run left it, read before the resumed run rewrites it.
    std::ifstream in(ck);
    ck_points = nlohmann::json::parse(in).at("points").size();
    return run(o, &counting);
  }();
  EXPECT_EQ(points_csv(s, resumed.points), points_csv(s, whole.points));
  EXPECT_EQ(history_csv(resumed.history), history_csv(whole.history));
  // Only what the cut run had not checkpointed was evaluated again.
  const size_t before = ck_points;
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, whole.points.size());
  EXPECT_EQ(fresh, whole.points.size() - before);
  // A checkpoint of another search, or not one at all, is refused.
  SearchOptions other = o;
  other.seed = 6;
  EXPECT_NE(error_of([&] { run(other); }).find("written by a different search"), std::string::npos);
  std::ofstream(ck) << "{\"format\": \"prunesim-search-checkpoint\", \"version\": 1, \"key\": 3}";
  EXPECT_NE(error_of([&] { run(o); }).find("unreadable checkpoint"), std::string::npos);
  fs::remove(ck);
  EXPECT_NE(error_of([&] { run(o); }).find("cannot read the checkpoint"), std::string::npos);
}

TEST(Search, EmoDirKeepsToTheBudgetAndMarksItsParts) {
  SearchOptions o = opts("nsga2", 1, 7);
  o.divide = 2;
  const SearchResult r = run(o);
  EXPECT_LE(r.evaluations, o.pop * (o.gens + 1));
  size_t parts = 0, combined = 0;
  for (const auto& p : r.points) (p.part.empty() ? combined : parts)++;
  EXPECT_GT(parts, 0u);
  EXPECT_GT(combined, 0u);
  // A part's point leaves the other part's layers dense (sparsity index 0).
  const Space s = space(encoder());
  const size_t half = s.layers.size() / 2;
  for (const auto& p : r.points)
    if (p.part == "part1/2")
      for (size_t l = half; l < s.layers.size(); ++l) EXPECT_EQ(p.x[2 * l + 1], 0);
  o.divide = 5;
  EXPECT_NE(error_of([&] { run(o); }).find("needs --gens of at least 9"), std::string::npos);
}

}  // namespace
}  // namespace prunesim::dse
