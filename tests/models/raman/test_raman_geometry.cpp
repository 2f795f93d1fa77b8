// The RAMAN model on geometry the zoo does not have: 2-D strided and dilated convolution with
// asymmetric pads, depthwise with stride, ceil-mode max-pool, average pool counting padding,
// transposed convolution with output padding, global pooling, Flatten + dense; odd core shapes
// (5 PEs, clusters of 3, 3 PPU lanes, narrow accumulators); several samples; and a chain whose
// in-place allocation drifts down, run at exactly the memory it needs.
#include <gtest/gtest.h>

#include "common/onnx_builder.h"
#include "common/raman_cases.h"
#include "prune/errors.h"
#include "prune/executor.h"

namespace prunesim {
namespace {

using nlohmann::json;
using testing::ModelBuilder;
using testing::ramp;

SimInput make_input(const Graph& g, const Tensor& calib, const Tensor& x,
                    const std::vector<std::string>& sets, double sparsity) {
  const Arch& arch = get_arch("raman");
  SimInput in;
  in.params = resolve_params("raman", arch.params(), "", sets);
  PruneOutcome out;
  out.graph = g;
  if (sparsity > 0) {
    SchemeOptions o;
    o.sparsity = sparsity;
    out = run_pruning(g, single_rule_recipe("magnitude", o), Schedule{}, Recovery{}, PruneData{});
  }
  const QuantizedModel q = quantize(out.graph, calib);
  TableOptions to;
  to.target = "raman";
  to.accepts = arch.encodings();
  const std::string bytes = table_bytes(q, out.masks, out.notes, to, "geo.pwt");
  in.tables_path = "geo.pwt";
  in.model = parse_tables(bytes, "geo.pwt", &in.summary, &in.masks);
  in.input = x;
  in.input_path = "x.npy";
  in.rate_hz = 1;
  return in;
}

Graph odd_geometry() {
  ModelBuilder b;
  b.input("x", {1, 3, 11, 13});
  b.init("w1", {6, 3, 3, 3}, ramp(162, 1));
  b.init("b1", {6}, ramp(6, 2));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv_s2_d2");
  ModelBuilder::attr(c1, "strides", std::vector<int64_t>{2, 1});
  ModelBuilder::attr(c1, "dilations", std::vector<int64_t>{1, 2});
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{0, 1, 1, 2});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init("w2", {6, 1, 3, 3}, ramp(54, 3));
  b.init("b2", {6}, ramp(6, 4));
  auto* c2 = b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "dw_s2");
  ModelBuilder::attr(c2, "group", int64_t{6});
  ModelBuilder::attr(c2, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  auto* mp = b.node("MaxPool", {"c2"}, {"m"}, "maxpool_ceil");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "ceil_mode", int64_t{1});
  auto* ap = b.node("AveragePool", {"m"}, {"a"}, "avgpool_pad");
  ModelBuilder::attr(ap, "kernel_shape", std::vector<int64_t>{3, 3});
  ModelBuilder::attr(ap, "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(ap, "count_include_pad", int64_t{1});
  b.init("w3", {6, 4, 3, 3}, ramp(216, 5));
  b.init("b3", {4}, ramp(4, 6));
  auto* ct = b.node("ConvTranspose", {"a", "w3", "b3"}, {"t"}, "convT_s2");
  ModelBuilder::attr(ct, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(ct, "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(ct, "output_padding", std::vector<int64_t>{1, 0});
  b.node("Relu", {"t"}, {"rt"}, "relu2");
  b.node("Flatten", {"rt"}, {"f"}, "flatten");
  b.output("y");
  // 11x13 -> conv 5x12 -> depthwise 3x6 -> max-pool (ceil) 2x3 -> avg-pool 2x3 -> convT 4x5,
  // 4 channels: 80 values into the dense layer.
  const int64_t k = 80;
  b.init("wg", {5, k}, ramp(static_cast<size_t>(5 * k), 7));
  b.init("bg", {5}, ramp(5, 8));
  auto* gm = b.node("Gemm", {"f", "wg", "bg"}, {"y"}, "dense");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  return b.graph();
}

void expect_modes_agree(SimInput in, const std::string& what) {
  const Arch& a = get_arch("raman");
  const Int8Result ref = run_int8(in.model, in.input);
  in.mode = "cycle";
  const SimOutput c = a.simulate(in);
  in.mode = "analytical";
  const SimOutput an = a.simulate(in);
  ASSERT_EQ(c.output_int8.i, ref.output_int8.i) << what;
  EXPECT_TRUE(c.report["bit_exact_vs_reference"].get<bool>()) << what;
  ASSERT_EQ(c.report["layers"].size(), an.report["layers"].size());
  for (size_t i = 0; i < c.report["layers"].size(); ++i)
    for (auto it = an.report["layers"][i].begin(); it != an.report["layers"][i].end(); ++it)
      EXPECT_EQ(it.value(), c.report["layers"][i][it.key()])
          << what << ": " << an.report["layers"][i]["name"] << " " << it.key();
  EXPECT_EQ(c.report["latency_cycles"], an.report["latency_cycles"]) << what;
  EXPECT_EQ(c.report["memory"], an.report["memory"]) << what;
}

TEST(RamanGeometry, OddLayersAndCoreShapesAgreeAndAreBitExact) {
  const Graph g = odd_geometry();
  const Tensor calib({12, 3, 11, 13}, ramp(12 * 3 * 11 * 13, 11));
  // Inputs with exact zeros (post-ReLU-like), so zero skipping is exercised.
  Tensor x({3, 3, 11, 13}, ramp(3 * 3 * 11 * 13, 12));
  for (float& v : x.f) v = v < 0 ? 0 : v;
  for (double s : {0.0, 0.5}) {
    expect_modes_agree(make_input(g, calib, x, {}, s), "default s=" + std::to_string(s));
    expect_modes_agree(make_input(g, calib, x,
                                  {"pe_count=5", "cluster_size=3", "ppu_lanes=3", "acc_per_pe=2",
                                   "acc_bits=24", "dma_bytes_per_cycle=3"},
                                  s),
                       "odd core s=" + std::to_string(s));
  }
}

TEST(RamanGeometry, SeveralSamplesReportPerInference) {
  const Graph g = odd_geometry();
  const Tensor calib({12, 3, 11, 13}, ramp(12 * 3 * 11 * 13, 11));
  const Tensor x({3, 3, 11, 13}, ramp(3 * 3 * 11 * 13, 13));
  SimInput all = make_input(g, calib, x, {}, 0.0);
  all.mode = "analytical";
  const json r3 = get_arch("raman").simulate(all).report;
  double sum = 0;
  for (int s = 0; s < 3; ++s) {
    SimInput one =
        make_input(g, calib,
                   Tensor({1, 3, 11, 13},
                          std::vector<float>(x.f.begin() + s * 429, x.f.begin() + (s + 1) * 429)),
                   {}, 0.0);
    one.mode = "analytical";
    sum += get_arch("raman").simulate(one).report["latency_cycles"].get<double>();
  }
  EXPECT_DOUBLE_EQ(r3["latency_cycles"].get<double>(), sum / 3);
  EXPECT_EQ(r3["inferences"], 3);
}

Graph drifting_chain() {
  ModelBuilder b;
  b.input("x", {1, 16, 40});
  std::string cur = "x";
  for (int i = 0; i < 3; ++i) {
    const std::string w = "w" + std::to_string(i), o = "c" + std::to_string(i);
    b.init(w, {16, 16, 3}, ramp(768, static_cast<uint32_t>(20 + i)));
    auto* c = b.node("Conv", {cur, w}, {o}, "conv" + std::to_string(i));
    ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
    cur = o;
  }
  b.node("Relu", {cur}, {"y"}, "relu");
  b.output("y");
  return b.graph();
}

TEST(RamanGeometry, DriftingAllocationRunsAtExactlyTheMemoryItNeeds) {
  const Graph g = drifting_chain();
  const Tensor calib({8, 16, 40}, ramp(8 * 640, 30));
  const Tensor x({1, 16, 40}, ramp(640, 31));
  SimInput in = make_input(g, calib, x, {}, 0.0);
  in.mode = "analytical";
  const json r = get_arch("raman").simulate(in).report;
  const int64_t used = r["memory"]["act_used_bytes"], peak = r["memory"]["act_peak_bytes"];
  EXPECT_GT(used, peak);  // each overlap moves the buffers down: the span exceeds one layer's
  SimInput tight = make_input(g, calib, x, {"act_mem_bytes=" + std::to_string(used)}, 0.0);
  expect_modes_agree(tight, "tight memory");
  SimInput less = make_input(g, calib, x, {"act_mem_bytes=" + std::to_string(used - 1)}, 0.0);
  less.mode = "analytical";
  try {
    get_arch("raman").simulate(less);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("short by 1 B"), std::string::npos) << e.what();
  }
}

TEST(RamanGeometry, AViewFeedingAConvolutionIsRejected) {
  ModelBuilder b;
  b.input("x", {1, 8});
  b.init("wg", {12, 8}, ramp(96, 40));
  auto* gm = b.node("Gemm", {"x", "wg"}, {"g"}, "dense");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  b.init_i64("shape", {3}, {1, 3, 4});
  b.node("Reshape", {"g", "shape"}, {"r"}, "reshape");
  b.init("wc", {2, 3, 3}, ramp(18, 41));
  auto* c = b.node("Conv", {"r", "wc"}, {"y"}, "conv");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
  b.output("y");
  const Graph g = b.graph();
  SimInput in = make_input(g, Tensor({4, 8}, ramp(32, 42)), Tensor({1, 8}, ramp(8, 43)), {}, 0.0);
  in.mode = "analytical";
  try {
    get_arch("raman").simulate(in);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("geo.pwt: layer 'conv'"), std::string::npos) << m;
    EXPECT_NE(m.find("is a view"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace prunesim
