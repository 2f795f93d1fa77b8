// The sweep engine (sim/dse/sweep.h) driven directly: sparsity lists, the --set axes and the
// grid, Pareto marking on hand-made rows, the CSV columns, and one real point on a zoo model
// that must agree with simulating the same table through the architecture.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "common/input_error.h"
#include "common/raman_cases.h"
#include "prune/errors.h"
#include "prune/quant.h"
#include "sim/dse/fidelity.h"
#include "sim/dse/sweep.h"

namespace prunesim::dse {
namespace {

using test::first_samples;
using test::zoo;

using test::error_of;

TEST(Sparsities, RangeIsInclusiveAndCounted) {
  // Counted, not accumulated: 0.9 is the last value, not 0.8999... or 1.0.
  const std::vector<double> v = parse_sparsities("0:0.9:0.1");
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v.front(), 0.0);
  EXPECT_EQ(v.back(), 0.9);
  EXPECT_EQ(v[3], 0.3);
}

TEST(Sparsities, ListIsSortedWithoutRepeats) {
  EXPECT_EQ(parse_sparsities("0.5,0.1,0.5,0"), (std::vector<double>{0, 0.1, 0.5}));
  EXPECT_EQ(parse_sparsities("0.25"), (std::vector<double>{0.25}));
}

TEST(Sparsities, BadInputNamesTheFlag) {
  EXPECT_NE(error_of([] { parse_sparsities("0:1:0.5"); }).find("sparsity 1 is not in [0, 1)"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_sparsities("0:0.5"); }).find("a range is start:stop:step"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_sparsities("0:0.5:0"); }).find("the step must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_sparsities("0.5:0.1:0.1"); }).find("stop is below start"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_sparsities("0:0.9:0.0001"); }).find("more than 1000"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { parse_sparsities("0.1,x"); }).find("--sparsity 0.1,x: 'x' is not a number"),
      std::string::npos);
  EXPECT_NE(error_of([] { parse_sparsities("-0.1"); }).find("is not in [0, 1)"), std::string::npos);
}

TEST(Grid, AxesAreCheckedAndTheFirstVariesSlowest) {
  const Arch& a = get_arch("raman");
  const auto axes = parse_axes("raman", a.params(), "", {"pe_count=16,32", "cluster_size=2"});
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_EQ(axes[0].values, (std::vector<std::string>{"16", "32"}));
  const auto rows = make_rows(axes, {"balanced", "nm"}, {0, 0.5});
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0].set_values, (std::vector<std::string>{"16", "2"}));
  EXPECT_EQ(rows[3].scheme, "nm");
  EXPECT_EQ(rows[3].target, 0.5);
  EXPECT_EQ(rows[4].set_values[0], "32");
  EXPECT_NE(error_of([&] {
              parse_axes("raman", a.params(), "", {"pe_count=0"});
            }).find("pe_count must be in"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_axes("raman", a.params(), "", {"pe_count=4", "pe_count=8"});
            }).find("is set twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_axes("raman", a.params(), "", {"pe_count"});
            }).find("expected key=value"),
            std::string::npos);
  EXPECT_NE(error_of([&] { check_grid(axes, 600, 10); }).find("more than 10000 points"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { check_grid(axes, 3, 10); }), "");
}

Row point(const std::string& scheme, double energy_j, double fidelity, bool ok = true) {
  Row r;
  r.scheme = scheme;
  r.ok = ok;
  r.energy_j = energy_j;
  r.fidelity = fidelity;
  return r;
}

TEST(Pareto, DominatedAndFailedPointsAreNotMarked) {
  std::vector<Row> rows = {point("a", 1.0, 90),          // lowest energy
                           point("b", 2.0, 95),          // more energy, better fidelity
                           point("c", 2.5, 94),          // dominated by b
                           point("d", 1.0, 80),          // dominated by a (same energy, worse)
                           point("e", 0.1, 99, false)};  // failed: never a candidate
  mark_pareto(rows, std::nan(""));
  EXPECT_TRUE(rows[0].pareto);
  EXPECT_TRUE(rows[1].pareto);
  EXPECT_FALSE(rows[2].pareto);
  EXPECT_FALSE(rows[3].pareto);
  EXPECT_FALSE(rows[4].pareto);
}

TEST(Pareto, PointsBelowMinFidelityAreNeverMarked) {
  std::vector<Row> rows = {point("broken", 0.5, 10), point("a", 1.0, 90), point("b", 2.0, 95)};
  mark_pareto(rows, std::nan(""));
  EXPECT_TRUE(rows[0].pareto);  // lowest energy wins without a floor
  mark_pareto(rows, 50);
  EXPECT_FALSE(rows[0].pareto);
  EXPECT_TRUE(rows[1].pareto);  // the lowest energy among the candidates left
  EXPECT_TRUE(rows[2].pareto);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> v;
  std::stringstream s(line);
  for (std::string f; std::getline(s, f, ',');) v.push_back(f);
  if (!line.empty() && line.back() == ',') v.emplace_back();
  return v;
}

TEST(Csv, ColumnsCarryUnitsAndFailedRowsKeepTheirError) {
  Row ok = point("nm", 2.5e-6, 31.25);
  ok.target = 0.5;
  ok.actual = 0.5;
  ok.metric = "sndr_db";
  ok.latency_s = 0.125;
  ok.cycles = 250000;
  ok.pareto = true;
  ok.set_values = {"16"};
  Row bad = point("balanced", 0, 0, false);
  bad.target = 0.5;
  bad.error = "layer 'x': does not fit, \"quoted\"";
  bad.set_values = {"16"};
  const std::string csv = to_csv({ok, bad}, {Axis{"pe_count", {"16"}}});
  std::stringstream s(csv);
  std::string header, r1, r2;
  std::getline(s, header);
  std::getline(s, r1);
  std::getline(s, r2);
  const auto h = split(header);
  const std::vector<std::string> want = {
      "scheme",         "sparsity_target", "sparsity_actual",  "params",        "macs",
      "fidelity",       "fidelity_metric", "fidelity_oneshot", "cycles",        "latency_s",
      "energy_j",       "power_w",         "area_mm2",         "storage_bytes", "file_bytes",
      "scheme_options", "pe_count",        "pareto",           "error"};
  EXPECT_EQ(h, want);
  const auto v = split(r1);
  ASSERT_EQ(v.size(), want.size());
  EXPECT_EQ(v[0], "nm");
  EXPECT_EQ(v[5], "31.25");  // fidelity, in the unit fidelity_metric names
  EXPECT_EQ(v[6], "sndr_db");
  EXPECT_EQ(v[7], "");          // no one-shot fidelity without recovery
  EXPECT_EQ(v[9], "0.125");     // seconds
  EXPECT_EQ(v[10], "2.5e-06");  // joules
  EXPECT_EQ(v[16], "16");
  EXPECT_EQ(v[17], "1");
  // A failed row: the 13 measurements and scheme_options empty, the error quoted (RFC 4180).
  EXPECT_EQ(r2.rfind("balanced,0.5" + std::string(15, ',') + "16,0,", 0), 0u) << r2;
  EXPECT_NE(r2.find("\"layer 'x': does not fit, \"\"quoted\"\"\""), std::string::npos) << r2;
}

// One point on the ds_cae1 encoder, analytical: its energy and cycles must be what simulating
// the same pruned table through the architecture gives, its fidelity what the int8 reference of
// that table scores.
TEST(RunPoint, AgreesWithSimulateOnTheSameTable) {
  const Arch& arch = get_arch("raman");
  Context c;
  c.arch = &arch;
  c.specs = arch.params();
  c.mode = "analytical";
  c.target = "raman";
  c.g = load_onnx(zoo("ds_cae1/encoder.onnx"));
  c.calib = first_samples(load_npy_as_float(zoo("ds_cae1/calib.npy")), 16);
  c.data = first_samples(load_npy_as_float(zoo("ds_cae1/eval.npy")), 8);
  c.dense_out = run_float(c.g, c.data);
  c.input = first_samples(c.data, 1);
  c.input_path = "eval.npy";
  Row r;
  r.scheme = "magnitude";
  r.target = 0.5;
  run_point(c, {"pe_count=16"}, r);
  ASSERT_TRUE(r.ok);
  EXPECT_GT(r.actual, 0.45);

  // The same point by hand: the scheme with the core's PE mapping, quantize, table, simulate.
  SimInput in;
  in.params = resolve_params("raman", arch.params(), "", {"pe_count=16"});
  SchemeOptions so;
  so.sparsity = 0.5;
  EXPECT_EQ(arch.scheme_hints(in.params).value("pes", 0), 16);  // magnitude takes no PE mapping
  const PruneOutcome res = run_pruning(c.g, single_rule_recipe("magnitude", so), Schedule{},
                                       Recovery{}, PruneData{&c.calib, &c.data, nullptr, {}});
  const QuantizedModel q = quantize(res.graph, c.calib);
  TableOptions to;
  to.target = "raman";
  to.accepts = arch.encodings();
  const std::string bytes = table_bytes(q, res.masks, res.notes, to, "t", &in.summary);
  in.tables_path = "t";
  in.model = parse_tables(bytes, "t", &in.summary, &in.masks);
  in.input = c.input;
  in.input_path = c.input_path;
  in.mode = "analytical";
  in.quiet = true;
  const nlohmann::json rep = arch.simulate(in).report;
  EXPECT_EQ(r.cycles, std::llround(rep.at("latency_cycles").get<double>()));
  EXPECT_DOUBLE_EQ(r.energy_j, rep.at("energy_j").get<double>());
  EXPECT_DOUBLE_EQ(r.latency_s, rep.at("latency_s").get<double>());
  EXPECT_DOUBLE_EQ(r.area_mm2, rep.at("area_mm2").get<double>());
  EXPECT_EQ(r.file_bytes, static_cast<int64_t>(bytes.size()));
  const double want =
      fidelity_headline(int8_fidelity(c.g, in.model, c.data, nullptr, &c.dense_out));
  EXPECT_DOUBLE_EQ(r.fidelity, want);
  EXPECT_EQ(r.metric, "sndr_db_vs_dense_float");

  // A denser point costs more energy on the same core.
  Row dense;
  dense.scheme = "magnitude";
  dense.target = 0;
  run_point(c, {"pe_count=16"}, dense);
  EXPECT_GT(dense.energy_j, r.energy_j);
}

}  // namespace
}  // namespace prunesim::dse
