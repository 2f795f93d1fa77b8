// The compare engine (sim/dse/compare.h) driven directly on two RAMAN tables of the ds_cae1
// encoder (dense and 50 % magnitude-pruned): the ratios follow from the two simulate reports,
// the paper's figures appear only for fpga-soc, and a file that is not a table is refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "common/raman_cases.h"
#include "prune/errors.h"
#include "sim/dse/compare.h"

namespace prunesim::dse {
namespace {

namespace fs = std::filesystem;

TEST(Compare, RatiosFollowFromTheTwoRuns) {
  const fs::path dir =
      fs::temp_directory_path() / ("prunesim_dse_compare_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const Arch& arch = get_arch("raman");
  CompareInput in;
  in.arch = "raman";
  // The dense encoder and its 50 % magnitude-pruned twin, written as RAMAN tables.
  const Graph g = load_onnx(test::zoo("ds_cae1/encoder.onnx"));
  const Tensor calib = test::first_samples(load_npy_as_float(test::zoo("ds_cae1/calib.npy")), 16);
  for (int k = 0; k < 2; ++k) {
    PruneOutcome res;
    res.graph = g;
    if (k == 1) {
      SchemeOptions so;
      so.sparsity = 0.5;
      PruneData d;
      d.calib = &calib;
      res = run_pruning(g, single_rule_recipe("magnitude", so), Schedule{}, Recovery{}, d);
    }
    TableOptions to;
    to.target = "raman";
    to.accepts = get_arch("raman").encodings();
    const std::string path = (dir / (k ? "compressed.pwt" : "base.pwt")).string();
    write_tables(quantize(res.graph, calib), res.masks, res.notes, to, path);
    (k ? in.compressed : in.base) = path;
  }
  in.proto.params = resolve_params("raman", arch.params(), "", {});
  in.proto.input_path = test::zoo("ds_cae1/sample.npy");
  in.proto.input = load_npy_as_float(in.proto.input_path);
  in.proto.mode = "analytical";
  in.proto.quiet = true;
  std::vector<std::string> warnings;
  size_t calls = 0;
  const Comparison r = compare(
      arch, in, [&](const std::string& w) { warnings.push_back(w); },
      [&](size_t, size_t, const std::string&) { ++calls; });
  EXPECT_EQ(calls, 3u);
  const CompareRun b = run_one(arch, in.proto, in.base, nullptr, [](const std::string&) {});
  const CompareRun c = run_one(arch, in.proto, in.compressed, nullptr, [](const std::string&) {});
  EXPECT_EQ(r.base.macs, b.macs);
  EXPECT_LT(c.macs, b.macs);
  EXPECT_LT(c.params, b.params);
  EXPECT_DOUBLE_EQ(r.ops_pct, 100.0 * static_cast<double>(c.macs) / static_cast<double>(b.macs));
  EXPECT_DOUBLE_EQ(r.par_pct,
                   100.0 * static_cast<double>(c.params) / static_cast<double>(b.params));
  const double tb = b.report.at("latency_s").get<double>();
  const double tc = c.report.at("latency_s").get<double>();
  EXPECT_DOUBLE_EQ(r.speedup, tb / tc);
  EXPECT_GT(r.speedup, 1.0);
  EXPECT_FALSE(r.published);  // the HSI paper's figures belong to fpga-soc only
  EXPECT_FALSE(r.out.contains("published"));
  EXPECT_EQ(r.out.at("compressed").at("macs").get<int64_t>(), c.macs);
  EXPECT_EQ(r.out.at("base").at("ops").get<int64_t>(), 2 * b.macs);
  EXPECT_FALSE(r.out.at("base").contains("miou"));  // no labels

  // A file that is not a weight table is refused by name.
  try {
    run_one(arch, in.proto, test::zoo("ds_cae1/sample.npy"), nullptr, [](const std::string&) {});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a weight table"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace prunesim::dse
