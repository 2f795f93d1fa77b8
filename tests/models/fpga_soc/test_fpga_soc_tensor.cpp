// The FPGA-SoC model on networks that are not the HSI U-Net (tensor input mode): a small
// classifier built in memory (conv, max pool, sigmoid, average pool, global average pool,
// flatten, gemm, softmax) and a 1-D conv net. The DPU runs what PG338 supports, the PS the rest
// (sigmoid, softmax) with its cost; the outputs are bit-exact with run_int8; the cycle model and
// the analytical twin agree; the mode is chosen from the input. One cycle simulation per test
// (SystemC elaborates once per process).
#include <gtest/gtest.h>

#include <string>

#include "common/onnx_builder.h"
#include "models/fpga_soc/soc.h"
#include "prune/errors.h"

namespace prunesim {
namespace fpga_soc {
namespace {

using testing::ModelBuilder;
using testing::ramp;

// x [1, 3, 8, 8] -> Conv 3->8 k3 p1 + Relu -> MaxPool 2 -> Conv 8->8 k3 p1 -> Sigmoid (PS) ->
// AveragePool 2 -> GlobalAveragePool -> Flatten -> Gemm 8->5 -> Softmax (PS).
Graph classifier() {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8});
  b.init("w1", {8, 3, 3, 3}, ramp(216, 11));
  b.init("b1", {8}, ramp(8, 12));
  b.init("w2", {8, 8, 3, 3}, ramp(576, 13));
  b.init("b2", {8}, ramp(8, 14));
  b.init("fw", {5, 8}, ramp(40, 15));
  b.init("fb", {5}, ramp(5, 16));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  auto* p1 = b.node("MaxPool", {"r1"}, {"p1"}, "pool1");
  ModelBuilder::attr(p1, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(p1, "strides", std::vector<int64_t>{2, 2});
  auto* c2 = b.node("Conv", {"p1", "w2", "b2"}, {"c2"}, "conv2");
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Sigmoid", {"c2"}, {"s2"}, "sig2");
  auto* a2 = b.node("AveragePool", {"s2"}, {"a2"}, "avg2");
  ModelBuilder::attr(a2, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(a2, "strides", std::vector<int64_t>{2, 2});
  b.node("GlobalAveragePool", {"a2"}, {"g"}, "gap");
  b.node("Flatten", {"g"}, {"f"}, "flat");
  auto* fc = b.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc");
  ModelBuilder::attr(fc, "transB", 1);
  b.node("Softmax", {"y"}, {"prob"}, "softmax");
  b.output("prob");
  return b.graph();
}

// x [1, 2, 16] -> Conv1d 2->4 k3 p1 + Relu -> MaxPool1d 2 -> Flatten -> Gemm 32->3.
Graph conv1d() {
  ModelBuilder b;
  b.input("x", {1, 2, 16});
  b.init("w", {4, 2, 3}, ramp(24, 21));
  b.init("b", {4}, ramp(4, 22));
  b.init("fw", {3, 32}, ramp(96, 23));
  b.init("fb", {3}, ramp(3, 24));
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv1");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu1");
  auto* p = b.node("MaxPool", {"r"}, {"p"}, "pool1");
  ModelBuilder::attr(p, "kernel_shape", std::vector<int64_t>{2});
  ModelBuilder::attr(p, "strides", std::vector<int64_t>{2});
  b.node("Flatten", {"p"}, {"f"}, "flat");
  auto* fc = b.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc");
  ModelBuilder::attr(fc, "transB", 1);
  b.output("y");
  return b.graph();
}

// x [1, 2, 16] -> Conv1d 2->4 k3 p1 + Relu -> Resize nearest x2 -> Conv1d 4->2 k3 p1: a 1-D
// decoder-like net whose output [1, 2, 32] is no class score (postprocess auto = none).
Graph upsample1d() {
  ModelBuilder b;
  b.input("x", {1, 2, 16});
  b.init("w1", {4, 2, 3}, ramp(24, 51));
  b.init("b1", {4}, ramp(4, 52));
  b.init("w2", {2, 4, 3}, ramp(24, 53));
  b.init("b2", {2}, ramp(2, 54));
  b.init("scales", {3}, {1.f, 1.f, 2.f});
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  auto* up = b.node("Resize", {"r1", "", "scales"}, {"u"}, "up");
  ModelBuilder::attr_s(up, "mode", "nearest");
  auto* c2 = b.node("Conv", {"u", "w2", "b2"}, {"y"}, "conv2");
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1});
  b.output("y");
  return b.graph();
}

struct Net {
  QuantizedModel q;
  SocConfig cfg;
  DpuProgram prog;
  Frames frames;
  Net(const Graph& g, const Shape& xs, ParamValues v = ParamValues(param_specs())) {
    Shape cs = xs;
    cs[0] = 16;
    q = quantize(g, Tensor(cs, ramp(static_cast<size_t>(numel(cs)), 31)));
    cfg = make_config(v);
    const Tensor x(xs, ramp(static_cast<size_t>(numel(xs)), 32));
    cfg.input = resolve_input_mode(q, cfg, x, "x.npy");
    prog = compile_dpu(q, cfg, "net.pwt");
    frames = load_frames(x, cfg, prog, "x.npy");
  }
  const DpuLayer& layer(const std::string& name) const {
    for (const DpuLayer& l : prog.layers)
      if (l.name == name) return l;
    throw std::runtime_error("no layer " + name);
  }
};

TEST(FpgaSocTensor, LayersArePlacedOnTheDpuOrThePs) {
  Net n(classifier(), {4, 3, 8, 8});
  EXPECT_EQ(n.prog.input_mode, "tensor");
  EXPECT_TRUE(n.prog.argmax);
  EXPECT_EQ(n.prog.classes, 5);
  EXPECT_EQ(n.prog.out_pixels, 1);
  EXPECT_EQ(n.layer("conv1").engine, "conv");
  EXPECT_EQ(n.layer("pool1").engine, "pool");
  EXPECT_EQ(n.layer("avg2").engine, "pool");
  EXPECT_EQ(n.layer("gap").engine, "pool");
  EXPECT_EQ(n.layer("flat").engine, "move");
  EXPECT_EQ(n.layer("flat").compute_cycles, 0);
  EXPECT_EQ(n.layer("flat").overhead_cycles, 0);
  EXPECT_EQ(n.layer("fc").engine, "conv");  // fully connected on the conv engine (PG338)
  EXPECT_EQ(n.layer("fc").place, Place::PL);
  // B3136: PP 8, ICP 14, OCP 14: one pixel, ceil(8/14) * ceil(5/14) = 1 cycle.
  EXPECT_EQ(n.layer("fc").compute_cycles, 1);
  EXPECT_EQ(n.layer("fc").macs, 40);
  for (const char* ps : {"sig2", "softmax"}) {
    EXPECT_EQ(n.layer(ps).place, Place::PS) << ps;
    EXPECT_EQ(n.layer(ps).engine, "ps") << ps;
    EXPECT_FALSE(n.layer(ps).ps_reason.empty()) << ps;
    EXPECT_GT(n.layer(ps).ps_cycles, 0) << ps;
  }
  // Softmax: 5 elements x ps.cpe.softmax (40); sigmoid: 8x4x4 outputs x ps.cpe.layer (4).
  EXPECT_EQ(n.layer("softmax").ps_cycles, 200);
  EXPECT_EQ(n.layer("sig2").ps_cycles, 512);
  // The sigmoid splits the DPU work into two jobs, each launched from the PS.
  EXPECT_EQ(n.prog.subgraphs, 2);
  EXPECT_TRUE(n.layer("conv1").launch);
  EXPECT_TRUE(n.layer("avg2").launch);
  EXPECT_FALSE(n.layer("conv2").launch);
  EXPECT_EQ(n.prog.ps_layers, 2);
  EXPECT_EQ(n.prog.move_layers, 1);
  const auto plan = plan_stages(n.cfg, n.prog);
  ASSERT_EQ(plan.size(), 4u);  // input, quantize (PS), dpu, argmax (PL)
  EXPECT_EQ(plan[0].name, "input");
  EXPECT_EQ(plan[0].write_bytes, 4 * 3 * 8 * 8);
  EXPECT_EQ(plan[1].name, "quantize (PS)");
  EXPECT_EQ(plan[2].kind, "dpu");
  EXPECT_EQ(plan[2].core, 1);  // the runner thread's CPU subgraphs, next to the quantize core
  EXPECT_EQ(plan[3].name, "argmax (PL)");
}

TEST(FpgaSocTensor, QuantizeOnThePlIsAStreamingKernel) {
  ParamValues v(param_specs());
  Net ps(classifier(), {4, 3, 8, 8}, v);
  v.set("place.quantize", "pl");
  Net pl(classifier(), {4, 3, 8, 8}, v);
  const auto a = plan_stages(ps.cfg, ps.prog), b = plan_stages(pl.cfg, pl.prog);
  ASSERT_EQ(b[1].name, "quantize (PL)");
  // 192 elements: PS 4 cycles each at 1.333 GHz; PL 40 cycles of fill + 192 / 4 lanes at 300 MHz.
  EXPECT_NEAR(a[1].compute_s, 192 * 4.0 / ps.cfg.ps_clock_hz, 1e-15);
  EXPECT_NEAR(b[1].compute_s, (40 + 48) / pl.cfg.pl_clock_hz, 1e-15);
  EXPECT_EQ(b[1].read_bytes, 4 * 192);
  EXPECT_EQ(b[1].write_bytes, 192);
  const SocResult r = run_analytical(pl.q, pl.prog, pl.cfg, pl.frames);
  EXPECT_TRUE(r.bit_exact);  // same codes wherever it runs
}

TEST(FpgaSocTensor, DatapathBitExactWithReference) {
  Net n(classifier(), {4, 3, 8, 8});
  for (int64_t k = 0; k < n.frames.n; ++k) {
    const FrameData got = run_frame(n.q, n.prog, n.cfg, n.frames, k);
    const FrameData ref = reference_frame(n.q, n.prog, n.cfg, n.frames, k);
    ASSERT_EQ(got.mask.size(), 1u);
    EXPECT_EQ(got.mask, ref.mask) << "sample " << k;
  }
  // Without the argmax the output codes themselves (the softmax's) must agree.
  ParamValues v(param_specs());
  v.set("postprocess", "none");
  Net m(classifier(), {4, 3, 8, 8}, v);
  EXPECT_FALSE(m.prog.argmax);
  for (int64_t k = 0; k < m.frames.n; ++k) {
    const FrameData got = run_frame(m.q, m.prog, m.cfg, m.frames, k);
    const FrameData ref = reference_frame(m.q, m.prog, m.cfg, m.frames, k);
    ASSERT_EQ(got.scores.size(), 5u);
    EXPECT_EQ(got.scores, ref.scores) << "sample " << k;
  }
  const SocResult r = run_analytical(m.q, m.prog, m.cfg, m.frames);
  EXPECT_TRUE(r.bit_exact);
  EXPECT_EQ(r.codes.size(), 4u);
  EXPECT_TRUE(r.masks.empty());
}

TEST(FpgaSocTensor, PsFallbackLayersAreCosted) {
  // The PS layers' A53 time is part of the DPU stage (the DPU waits): raising their cost by
  // D cycles per element lengthens the inference by exactly D x elements / ps_clock_hz.
  ParamValues v(param_specs());
  Net a(classifier(), {4, 3, 8, 8}, v);
  v.set("ps.cpe.softmax", 40040.0);  // +40000 cycles per element, 5 elements
  v.set("ps.cpe.layer", 1004.0);     // +1000 cycles per element, 128 sigmoid outputs
  Net b(classifier(), {4, 3, 8, 8}, v);
  const SocResult ra = run_analytical(a.q, a.prog, a.cfg, a.frames);
  const SocResult rb = run_analytical(b.q, b.prog, b.cfg, b.frames);
  const double extra = (40000.0 * 5 + 1000.0 * 128) / a.cfg.ps_clock_hz;
  EXPECT_NEAR(rb.inference_s - ra.inference_s, extra, 1e-6 * extra);
  // ... and the A53 that runs them is busy for it.
  double busy_a = 0, busy_b = 0;
  for (const Activity& x : ra.resources)
    if (x.name == "ps.core1") busy_a = x.busy_s;
  for (const Activity& x : rb.resources)
    if (x.name == "ps.core1") busy_b = x.busy_s;
  EXPECT_GT(busy_a, 0);
  EXPECT_NEAR(busy_b - busy_a, 4 * extra, 1e-6 * extra);
  // Two DPU jobs per frame: two launches in the DPU stage.
  double layers = 0;
  for (int64_t c : ra.layer_cycles) layers += static_cast<double>(c) / a.cfg.dpu_clock_hz;
  EXPECT_NEAR(ra.inference_s - layers, 2 * a.cfg.dpu_launch_s, 1e-3 * a.cfg.dpu_launch_s);
}

TEST(FpgaSocTensor, CycleModelAgreesWithAnalyticalTwin) {
  ParamValues v(param_specs());
  v.set("frames", 8);
  Net n(classifier(), {4, 3, 8, 8}, v);
  const SocResult a = run_analytical(n.q, n.prog, n.cfg, n.frames);
  const SocResult c = run_cycle(n.q, n.prog, n.cfg, n.frames);
  EXPECT_EQ(c.masks, a.masks);
  EXPECT_TRUE(c.bit_exact);
  EXPECT_TRUE(a.bit_exact);
  EXPECT_EQ(c.masks.size(), 8u);
  EXPECT_NEAR(a.inference_s, c.inference_s, 0.05 * c.inference_s);
  EXPECT_NEAR(a.throughput_fps, c.throughput_fps, 0.05 * c.throughput_fps);
  // The first frame meets empty buffers; later ones queue behind the bottleneck in the cycle
  // model (the free-running input fills the buffers), which the twin's sum of stages leaves out.
  EXPECT_NEAR(a.latency_mean_s, c.latency_min_s, 0.05 * c.latency_min_s);
  // The cycle model spends the PS layers' time too (A53 cycles at ps_clock_hz).
  ASSERT_EQ(c.layer_cycles.size(), n.prog.layers.size());
  for (size_t i = 0; i < n.prog.layers.size(); ++i) {
    const DpuLayer& D = n.prog.layers[i];
    if (D.place != Place::PS) continue;
    const double want = static_cast<double>(D.ps_cycles) / n.cfg.ps_clock_hz * n.cfg.dpu_clock_hz;
    EXPECT_GE(static_cast<double>(c.layer_cycles[i]), want) << D.name;
    EXPECT_NEAR(static_cast<double>(c.layer_cycles[i]), static_cast<double>(a.layer_cycles[i]),
                0.05 * static_cast<double>(a.layer_cycles[i]))
        << D.name;
  }
}

TEST(FpgaSocTensor, OneDimensionalNetRunsOnTheDpuAsHeightOne) {
  Net n(conv1d(), {3, 2, 16});
  EXPECT_EQ(n.prog.input_mode, "tensor");
  EXPECT_EQ(n.prog.ps_layers, 0);
  // Conv1d 2->4, k3, 16 outputs: ceil(16/8) x 1 row x 1 x 1 x 1x3 taps = 6 cycles.
  EXPECT_EQ(n.layer("conv1").engine, "conv");
  EXPECT_EQ(n.layer("conv1").compute_cycles, 6);
  for (int64_t k = 0; k < n.frames.n; ++k)
    EXPECT_EQ(run_frame(n.q, n.prog, n.cfg, n.frames, k).mask,
              reference_frame(n.q, n.prog, n.cfg, n.frames, k).mask)
        << "sample " << k;
}

TEST(FpgaSocTensor, OneDimensionalUpsamplingKeepsTheOutputCodes) {
  Net n(upsample1d(), {3, 2, 16});
  EXPECT_FALSE(n.prog.argmax);  // [1, 2, 32]: no class scores
  EXPECT_EQ(n.layer("up").engine, "eltwise");
  EXPECT_EQ(n.prog.ps_layers, 0);
  for (int64_t k = 0; k < n.frames.n; ++k) {
    const FrameData got = run_frame(n.q, n.prog, n.cfg, n.frames, k);
    ASSERT_EQ(got.scores.size(), 64u);
    EXPECT_EQ(got.scores, reference_frame(n.q, n.prog, n.cfg, n.frames, k).scores)
        << "sample " << k;
  }
}

TEST(FpgaSocTensor, InputModeFromTheInput) {
  const Graph g = classifier();
  const QuantizedModel q = quantize(g, Tensor({8, 3, 8, 8}, ramp(8 * 192, 3)));
  const SocConfig cfg = make_config(ParamValues(param_specs()));
  EXPECT_EQ(resolve_input_mode(q, cfg, Tensor({2, 3, 8, 8}), "x.npy"), "tensor");
  EXPECT_EQ(resolve_input_mode(q, cfg, Tensor({2, 120, 240}), "x.npy"), "mosaic");
  EXPECT_EQ(resolve_input_mode(q, cfg, Tensor({2, 1, 120, 240}), "x.npy"), "mosaic");
  // Neither the network's input nor raw frames: one message naming the file and the shape.
  try {
    resolve_input_mode(q, cfg, Tensor({2, 3, 16, 16}), "x.npy");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("x.npy"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3, 16, 16]"), std::string::npos) << m;
    EXPECT_NE(m.find("[N, 3, 8, 8]"), std::string::npos) << m;
  }
  // Forced modes are taken as given; the network then decides whether it can run.
  SocConfig m = cfg;
  m.input = "mosaic";
  EXPECT_EQ(resolve_input_mode(q, m, Tensor({2, 3, 8, 8}), "x.npy"), "mosaic");
  EXPECT_THROW(compile_dpu(q, m, "net.pwt"), InputError);  // not a 25-band segmentation net
  // A tensor of the wrong shape, or with NaN, in tensor mode.
  SocConfig t = cfg;
  t.input = "tensor";
  const DpuProgram p = compile_dpu(q, t, "net.pwt");
  EXPECT_THROW(load_frames(Tensor({2, 3, 8, 9}), t, p, "x.npy"), InputError);
  Tensor nan({1, 3, 8, 8});
  nan.f[7] = std::nanf("");
  EXPECT_THROW(load_frames(nan, t, p, "x.npy"), InputError);
}

}  // namespace
}  // namespace fpga_soc
}  // namespace prunesim
