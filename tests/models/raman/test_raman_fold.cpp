// The RAMAN compiler on layers beyond one pass of the accumulators (issue 12 part 2): output-
// channel folding of conv, depthwise, pointwise, dense and pooling layers with every weight
// encoding the core decodes; residual Add; channel Concat; global pooling of many channels. Each
// is checked bit-exact against the integer reference, cycle mode against the analytical twin on
// every count, and by the counts a pass must add (the input read once per pass).
#include <gtest/gtest.h>

#include "common/onnx_builder.h"
#include "common/raman_cases.h"
#include "models/raman/rtl_image.h"
#include "prune/errors.h"
#include "prune/executor.h"

namespace prunesim {
namespace {

using nlohmann::json;
using testing::ModelBuilder;
using testing::ramp;

using Prune = test::PruneSpec;

SimInput make_input(const Graph& g, const Tensor& calib, const Tensor& x,
                    const std::vector<std::string>& sets, const Prune& pr = {}) {
  return test::graph_case(g, calib, x, sets, pr);
}

// Cycle mode against the reference and against the analytical twin, every count of every layer.
json expect_modes_agree(SimInput in, const std::string& what) {
  const Arch& a = get_arch("raman");
  const Int8Result ref = run_int8(in.model, in.input);
  in.mode = "cycle";
  const SimOutput c = a.simulate(in);
  in.mode = "analytical";
  const SimOutput an = a.simulate(in);
  EXPECT_EQ(c.output_int8.i, ref.output_int8.i) << what;
  EXPECT_TRUE(c.report["bit_exact_vs_reference"].get<bool>()) << what;
  EXPECT_EQ(c.report["layers"].size(), an.report["layers"].size()) << what;
  for (size_t i = 0; i < c.report["layers"].size() && i < an.report["layers"].size(); ++i)
    for (auto it = an.report["layers"][i].begin(); it != an.report["layers"][i].end(); ++it)
      EXPECT_EQ(it.value(), c.report["layers"][i][it.key()])
          << what << ": " << an.report["layers"][i]["name"] << " " << it.key();
  EXPECT_EQ(c.report["latency_cycles"], an.report["latency_cycles"]) << what;
  EXPECT_EQ(c.report["energy_j"], an.report["energy_j"]) << what;
  EXPECT_EQ(c.report["memory"], an.report["memory"]) << what;
  return c.report;
}

const json& layer(const json& r, const std::string& name) {
  for (const json& l : r["layers"])
    if (l["name"] == name) return l;
  throw std::logic_error("no layer " + name);
}

// The one-line refusal of the whole-core RTL's image builder (what `verify` prints), "" if none.
std::string rtl_refusal(const SimInput& in) {
  try {
    raman::build_rtl_image(raman::compile(in.model, in.summary, in.masks,
                                          raman::RamanConfig::from(in.params), in.tables_path));
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

// conv 3->40 (3x3), depthwise 40, pointwise 40->20, transposed conv 20->20, max-pool, global
// average pool, dense 20->36: on 4 PEs with 4 accumulators (16 rows or channels a pass) every
// layer folds: 40 channels in 3 passes, 20 in 2, 36 in 3.
Graph fold_net() {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8});
  b.init("w1", {40, 3, 3, 3}, ramp(40 * 27, 1));
  b.init("b1", {40}, ramp(40, 2));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init("w2", {40, 1, 3, 3}, ramp(40 * 9, 3));
  b.init("b2", {40}, ramp(40, 4));
  auto* c2 = b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "depthwise");
  ModelBuilder::attr(c2, "group", int64_t{40});
  ModelBuilder::attr(c2, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c2"}, {"r2"}, "relu2");
  b.init("w3", {20, 40, 1, 1}, ramp(800, 5));
  b.init("b3", {20}, ramp(20, 6));
  b.node("Conv", {"r2", "w3", "b3"}, {"c3"}, "pointwise");
  b.init("w4", {20, 20, 2, 2}, ramp(1600, 9));
  auto* ct = b.node("ConvTranspose", {"c3", "w4"}, {"t"}, "convT");
  ModelBuilder::attr(ct, "strides", std::vector<int64_t>{2, 2});
  auto* mp = b.node("MaxPool", {"t"}, {"m"}, "maxpool");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{1, 1});
  b.node("GlobalAveragePool", {"m"}, {"gp"}, "gap");
  b.node("Flatten", {"gp"}, {"f"}, "flatten");
  b.init("wg", {36, 20}, ramp(720, 7));
  b.init("bg", {36}, ramp(36, 8));
  auto* gm = b.node("Gemm", {"f", "wg", "bg"}, {"y"}, "dense");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  b.output("y");
  return b.graph();
}

const std::vector<std::string> kSmallCore = {"pe_count=4", "cluster_size=2", "acc_per_pe=4"};

Tensor relu_ramp(const Shape& s, uint32_t seed) {
  return test::relu_ramp_tensor(s, ramp(static_cast<size_t>(numel(s)), seed));
}

Tensor ramp_input() {
  return Tensor({1, 4, 5, 5}, ramp(100, 94));
}

TEST(RamanFold, EveryLayerKindFoldsWithEveryEncoding) {
  const Graph g = fold_net();
  const Tensor calib({8, 3, 8, 8}, ramp(8 * 192, 11));
  const Tensor x = relu_ramp({1, 3, 8, 8}, 12);
  const std::vector<Prune> cases = {{"", 0, "dense", "pattern"},
                                    {"magnitude", 0.5, "bitmap", "pattern"},
                                    {"magnitude", 0.7, "csr", "pattern"},
                                    {"balanced", 0.5, "balanced", "pattern"},
                                    {"balanced", 0.5, "balanced", "lfsr"}};
  for (const Prune& p : cases) {
    const std::string what = p.encoding + "/" + p.variant;
    const json r = expect_modes_agree(make_input(g, calib, x, kSmallCore, p), what);
    EXPECT_EQ(layer(r, "conv")["encoding"], p.encoding) << what;
    // Lane passes split the channels: dense, the depthwise reads each of its 40 channels once
    // per valid tap of each of the 4x4 positions (11 valid (position, tap) pairs per axis).
    if (p.encoding == "dense")
      EXPECT_EQ(layer(r, "depthwise")["act_read_bytes"].get<int64_t>(), 11 * 11 * 40);
  }
}

// The same layer with one and with two passes: the second pass re-reads every input tap, so the
// activation reads, zero checks and broadcasts double, the weights are read once in total, and
// the outputs are the same codes.
TEST(RamanFold, TwoPassesReadTheInputTwice) {
  ModelBuilder b;
  b.input("x", {1, 8, 5, 5});
  b.init("w", {32, 8, 1, 1}, ramp(256, 21));
  b.init("bb", {32}, ramp(32, 22));
  b.node("Conv", {"x", "w", "bb"}, {"y"}, "pw");
  b.output("y");
  const Graph g = b.graph();
  const Tensor calib({8, 8, 5, 5}, ramp(8 * 200, 23));
  const Tensor x = relu_ramp({1, 8, 5, 5}, 24);
  const json one =
      expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "acc_per_pe=8"}), "1 pass");
  const json two =
      expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "acc_per_pe=4"}), "2 passes");
  const json &l1 = layer(one, "pw"), &l2 = layer(two, "pw");
  EXPECT_GT(l1["act_reads"].get<int64_t>(), 0);
  EXPECT_EQ(l2["act_reads"].get<int64_t>(), 2 * l1["act_reads"].get<int64_t>());
  EXPECT_EQ(l2["zero_checked_values"].get<int64_t>(), 2 * l1["zero_checked_values"].get<int64_t>());
  EXPECT_EQ(l2["broadcasts"].get<int64_t>(), 2 * l1["broadcasts"].get<int64_t>());
  EXPECT_EQ(l2["macs_executed"], l1["macs_executed"]);
  EXPECT_EQ(l2["weight_read_bits"], l1["weight_read_bits"]);  // dense: every slot, once in all
  EXPECT_EQ(l2["act_write_bytes"], l1["act_write_bytes"]);
  // Dense weights: a non-zero activation costs slots cycles (8 in one pass, 4 in each of two),
  // a zero one 1 cycle per pass; each pass has its setup and per position init, flush and a
  // drain of its 16 channels. So two passes cost one setup, 2 cycles per position and one more
  // cycle per zero activation than one pass.
  const int64_t pos = 25, setup = 4;
  const int64_t zeros = l1["zero_checked_values"].get<int64_t>() - l1["broadcasts"].get<int64_t>();
  EXPECT_GT(zeros, 0);
  EXPECT_EQ(l2["cycles"].get<int64_t>(), l1["cycles"].get<int64_t>() + setup + 2 * pos + zeros);
  EXPECT_GT(two["energy_j"].get<double>(), one["energy_j"].get<double>());
  // The folded layer's output may not overwrite its input (every pass reads it all).
  EXPECT_GE(l2["act_footprint_bytes"].get<int64_t>(), 8 * 25 + 32 * 25);
}

// Global pooling of any size: 300 channels of 20x20 (3 passes on the default core).
TEST(RamanFold, GlobalPoolingOfManyChannels) {
  ModelBuilder b;
  b.input("x", {1, 300, 20, 20});
  b.node("GlobalAveragePool", {"x"}, {"a"}, "gap");
  b.node("GlobalMaxPool", {"x"}, {"m"}, "gmp");
  b.node("Add", {"a", "m"}, {"y"}, "sum");
  b.output("y");
  const Graph g = b.graph();
  const Tensor calib({2, 300, 20, 20}, ramp(2 * 120000, 31));
  const Tensor x = relu_ramp({1, 300, 20, 20}, 32);
  const json r = expect_modes_agree(
      make_input(g, calib, x, {"act_mem_bytes=262144", "weight_mem_bytes=65536"}), "gap 300");
  // Lane passes split the channels: every input byte is read exactly once per pool.
  EXPECT_EQ(layer(r, "gap")["act_read_bytes"].get<int64_t>(), 300 * 400);
  EXPECT_EQ(layer(r, "gmp")["act_read_bytes"].get<int64_t>(), 300 * 400);
}

// A residual block and a Concat: conv -> relu -> conv -> Add(conv2, relu1) -> relu -> Concat
// with relu1 -> pointwise; the skip tensor stays live across the second conv.
Graph residual_net(int64_t c) {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6});
  b.init("w1", {c, 4, 3, 3}, ramp(static_cast<size_t>(c * 36), 41));
  b.init("b1", {c}, ramp(static_cast<size_t>(c), 42));
  auto* c1 = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init("w2", {c, c, 3, 3}, ramp(static_cast<size_t>(c * c * 9), 43));
  b.init("b2", {c}, ramp(static_cast<size_t>(c), 44));
  auto* c2 = b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2");
  ModelBuilder::attr(c2, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Add", {"c2", "r1"}, {"s"}, "residual");
  b.node("Relu", {"s"}, {"rs"}, "relu2");
  auto* cat = b.node("Concat", {"rs", "r1"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  b.init("w3", {6, 2 * c, 1, 1}, ramp(static_cast<size_t>(12 * c), 45));
  b.init("b3", {6}, ramp(6, 46));
  b.node("Conv", {"cat", "w3", "b3"}, {"y"}, "head");
  b.output("y");
  return b.graph();
}

TEST(RamanFold, ResidualAddAndConcatAreBitExact) {
  for (int64_t c : {8, 20}) {
    const Graph g = residual_net(c);
    const Tensor calib({8, 4, 6, 6}, ramp(8 * 144, 51));
    const Tensor x = relu_ramp({1, 4, 6, 6}, 52);
    const std::string w = "c=" + std::to_string(c);
    const json r = expect_modes_agree(make_input(g, calib, x, {}), "default core " + w);
    // Add: per position 1 init + 2 words (one tile) + 1 flush + 2 drain cycles per channel.
    const int64_t tiles = (c + 15) / 16;
    EXPECT_EQ(layer(r, "residual")["cycles"].get<int64_t>(), 4 + 36 * (2 + 2 * tiles + 2 * c));
    EXPECT_EQ(layer(r, "residual")["ppu_ops"].get<int64_t>(), 36 * c * 3);
    EXPECT_EQ(layer(r, "residual")["act_read_bytes"].get<int64_t>(), 2 * 36 * c);
    // Concat: the Add's output (read by nothing else, and the wider input, whose rescale to
    // the output scale is the identity) is written in place by the Add; relu1, which conv2 and
    // the Add read too, is copied: its bytes read and written once.
    EXPECT_EQ(layer(r, "concat")["act_read_bytes"].get<int64_t>(), 36 * c);
    EXPECT_EQ(layer(r, "concat")["act_write_bytes"].get<int64_t>(), 36 * c);
    // Folded: 4 PEs x 2 accumulators hold one tile of both operands per pass.
    expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "cluster_size=2", "acc_per_pe=2"}),
                       "folded " + w);
    expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "cluster_size=2", "acc_per_pe=2"},
                                  {"magnitude", 0.6, "csr", "pattern"}),
                       "folded csr " + w);
  }
}

// Concat by placement: two branches with the same weights have the same scale, so both rescales
// are the identity and both producers write into the Concat's output: the Concat costs nothing.
TEST(RamanFold, AConcatOfSameScaleBranchesIsPlacedWithoutACopy) {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6});
  b.init("w", {24, 4, 3, 3}, ramp(24 * 36, 81));
  for (const char* k : {"a", "b"}) {
    auto* c = b.node("Conv", {"x", "w"}, {std::string("c") + k}, std::string("conv_") + k);
    ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Relu", {std::string("c") + k}, {std::string("r") + k}, std::string("relu_") + k);
  }
  auto* cat = b.node("Concat", {"ra", "rb"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  b.init("w2", {8, 48, 1, 1}, ramp(8 * 48, 82));
  b.node("Conv", {"cat", "w2"}, {"y"}, "head");
  b.output("y");
  const Graph g = b.graph();
  const Tensor calib({8, 4, 6, 6}, ramp(8 * 144, 83));
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {}, {"pe_count=4", "cluster_size=2", "acc_per_pe=4"}}) {
    const json r = expect_modes_agree(make_input(g, calib, relu_ramp({1, 4, 6, 6}, 84), sets),
                                      "placed concat");
    EXPECT_EQ(layer(r, "concat")["mode"], "none");
    EXPECT_EQ(layer(r, "concat")["cycles"].get<double>(), 0.0);
    EXPECT_EQ(layer(r, "concat")["act_read_bytes"].get<int64_t>(), 0);
    // Each branch writes its 24 channels into the 48-channel tensor: the bytes per position the
    // head reads are the concat's.
    EXPECT_EQ(layer(r, "conv_b")["act_out_offset_bytes"].get<int64_t>() -
                  layer(r, "conv_a")["act_out_offset_bytes"].get<int64_t>(),
              24);
  }
}

// Look-up activations (the squeeze-excite gate's Sigmoid; Tanh, LeakyRelu) in the PPU: lanes pass
// the codes, the PPU reads the layer's 256-entry table; folded over 4 PEs x 4 accumulators too.
// The RTL refuses them in one line.
TEST(RamanFold, LookUpActivationsRunInThePpu) {
  ModelBuilder b;
  b.input("x", {1, 4, 5, 5});
  b.init("w1", {20, 4, 3, 3}, ramp(20 * 36, 91));
  auto* c1 = b.node("Conv", {"x", "w1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Sigmoid", {"c1"}, {"s1"}, "sigmoid");
  b.init("w2", {20, 20, 1, 1}, ramp(400, 92));
  b.node("Conv", {"s1", "w2"}, {"c2"}, "conv2");
  b.node("Tanh", {"c2"}, {"t2"}, "tanh");
  auto* lr = b.node("LeakyRelu", {"t2"}, {"y"}, "leaky");
  ModelBuilder::attr_f(lr, "alpha", 0.1f);
  b.output("y");
  const Graph g = b.graph();
  const Tensor calib({8, 4, 5, 5}, ramp(800, 93));
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {}, {"pe_count=4", "cluster_size=2", "acc_per_pe=4"}}) {
    const json r = expect_modes_agree(make_input(g, calib, ramp_input(), sets), "lut");
    EXPECT_EQ(layer(r, "sigmoid")["kind"], "lut");
    EXPECT_EQ(layer(r, "sigmoid")["ppu_ops"].get<int64_t>(), 25 * 20);
  }
  const std::string m = rtl_refusal(make_input(g, calib, ramp_input(), {}));
  EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer 'sigmoid': look-up activation", 0), 0u) << m;
}

TEST(RamanFold, TheSkipTensorIsNotOverwritten) {
  // The tight memory run: act_used_bytes is enough, one byte less is not (the allocation keeps
  // r1 live from conv1 to the concat).
  const Graph g = residual_net(8);
  const Tensor calib({8, 4, 6, 6}, ramp(8 * 144, 51));
  const Tensor x = relu_ramp({1, 4, 6, 6}, 52);
  SimInput in = make_input(g, calib, x, {});
  in.mode = "analytical";
  const int64_t used = get_arch("raman").simulate(in).report["memory"]["act_used_bytes"];
  // conv1's output (288 B) lives while conv2 (288 B in, 288 B out) and the Add run.
  EXPECT_GE(used, 3 * 288);
  expect_modes_agree(make_input(g, calib, x, {"act_mem_bytes=" + std::to_string(used)}), "tight");
  SimInput less = make_input(g, calib, x, {"act_mem_bytes=" + std::to_string(used - 1)});
  less.mode = "analytical";
  EXPECT_THROW(get_arch("raman").simulate(less), InputError);
}

// What the whole-core RTL does not have yet is refused by its image builder (so by `verify`) in
// one line naming the layer and the feature: a balanced-LFSR layer folded into passes (its
// column fetch draws over at most 8 slots).
TEST(RamanFold, TheRtlImageRefusesAFoldedLfsrLayerNamingIt) {
  ModelBuilder b;
  b.input("x", {1, 8, 2, 2});
  b.init("w", {144, 8, 1, 1}, ramp(144 * 8, 61));
  b.node("Conv", {"x", "w"}, {"y"}, "wide");
  b.output("y");
  const Graph g = b.graph();
  SimInput in = make_input(g, Tensor({4, 8, 2, 2}, ramp(128, 62)), relu_ramp({1, 8, 2, 2}, 63), {},
                           {"balanced", 0.5, "balanced", "lfsr"});
  expect_modes_agree(in, "folded lfsr on the default core");
  const raman::RamanProgram p = raman::compile(in.model, in.summary, in.masks,
                                               raman::RamanConfig::from(in.params), in.tables_path);
  ASSERT_EQ(p.layers[0].passes.size(), 2u);
  try {
    raman::build_rtl_image(p);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer 'wide': balanced LFSR across folding passes "
                      "is not in the RTL",
                      0),
              0u)
        << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

// An encoding the decoders do not implement is refused in one line naming the layer, the
// encoding and the ones the core decodes (the compiler used to take any such encoding for
// balanced).
class UndecodedEncoding : public Encoding {
 public:
  uint8_t id() const override { return 250; }
  std::string description() const override { return "an encoding no decoder implements"; }
  std::string encode(const WeightMatrix&, const EncodeContext&, EncodedLayer*) const override {
    return "not for writing";  // so "auto" never picks it
  }
  void decode(const EncodedLayer&, WeightMatrix*, const std::string&) const override {}
  nlohmann::json describe(const EncodedLayer&) const override { return {}; }
};

TEST(RamanFold, AnEncodingTheCoreDoesNotDecodeIsRefusedNamingIt) {
  // Registered for this test's process only (ctest runs one process per test).
  static const Encoding& reg =
      encoding_registry().add(std::make_unique<Registered<UndecodedEncoding>>("undecoded"));
  ASSERT_EQ(reg.name(), "undecoded");
  ModelBuilder b;
  b.input("x", {1, 8, 2, 2});
  b.init("w", {16, 8, 1, 1}, ramp(16 * 8, 71));
  b.node("Conv", {"x", "w"}, {"y"}, "pw");
  b.output("y");
  SimInput in =
      make_input(b.graph(), Tensor({4, 8, 2, 2}, ramp(128, 72)), relu_ramp({1, 8, 2, 2}, 73), {});
  ASSERT_EQ(in.summary.layers.size(), 1u);
  in.summary.layers[0].encoding = "undecoded";
  try {
    raman::compile(in.model, in.summary, in.masks, raman::RamanConfig::from(in.params),
                   in.tables_path);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "fold.pwt: layer 'pw': encoding 'undecoded' is not accepted by the raman core (it "
                 "decodes balanced, bitmap, csr, dense; write the table with --target raman)");
  }
}

// Cycles of one lane run by the rule in docs/raman.md: setup + per output position init, one
// cycle per word read, flush, and the drain (`drain` cycles per output group of ppu_lanes).
int64_t lane_run_cycles(int64_t positions, int64_t words, int64_t channels, int64_t drain) {
  const raman::RamanConfig d;
  return d.layer_setup_cycles +
         positions * (2 + words + drain * ((channels + d.ppu_lanes - 1) / d.ppu_lanes));
}

// A squeeze-excite block as MobileNetV3 has it, and EfficientNet's SiLU: conv -> HardSwish ->
// (global pool -> fc -> relu -> fc -> HardSigmoid) = gate; Mul(gate, x) with the gate
// [1, C, 1, 1] first (torchvision's order); conv -> x * Sigmoid(x); a same-shape Mul.
Graph squeeze_excite_net() {
  ModelBuilder b(14);
  b.input("x", {1, 4, 6, 6});
  b.init("w1", {20, 4, 3, 3}, ramp(20 * 36, 101));
  auto* c1 = b.node("Conv", {"x", "w1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("HardSwish", {"c1"}, {"h"}, "hswish");
  b.node("GlobalAveragePool", {"h"}, {"gp"}, "squeeze");
  b.init("w2", {8, 20, 1, 1}, ramp(160, 102));
  b.init("b2", {8}, ramp(8, 103));
  b.node("Conv", {"gp", "w2", "b2"}, {"f1"}, "fc1");
  b.node("Relu", {"f1"}, {"r1"}, "relu1");
  b.init("w3", {20, 8, 1, 1}, ramp(160, 104));
  b.init("b3", {20}, ramp(20, 105));
  b.node("Conv", {"r1", "w3", "b3"}, {"f2"}, "fc2");
  b.node("HardSigmoid", {"f2"}, {"gate"}, "hsig");
  b.node("Mul", {"gate", "h"}, {"m"}, "se_mul");
  b.init("w4", {20, 20, 1, 1}, ramp(400, 106));
  b.node("Conv", {"m", "w4"}, {"c2"}, "conv2");
  b.node("Sigmoid", {"c2"}, {"sg"}, "silu_sigmoid");
  b.node("Mul", {"c2", "sg"}, {"si"}, "silu_mul");
  b.init("w5", {20, 20, 1, 1}, ramp(400, 107));
  b.node("Conv", {"h", "w5"}, {"c3"}, "conv3");
  b.node("Mul", {"si", "c3"}, {"y"}, "mul_same");
  b.output("y");
  return b.graph();
}

// Squeeze-excite: the gate's Mul and a same-shape Mul run in lanes with the PPU doing
// hls::mul8 (bit-exact), HardSwish, HardSigmoid and the fused SiLU through the look-up table;
// the cycles follow the rule (both operands' words, two drain cycles per output), the gate's
// word is read again at every position, and the whole-core RTL refuses the Mul in one line.
TEST(RamanFold, SqueezeExciteMulAndHardActivationsAreBitExact) {
  const Graph g = squeeze_excite_net();
  const Tensor calib({8, 4, 6, 6}, ramp(8 * 144, 108));
  const Tensor x = Tensor({1, 4, 6, 6}, ramp(144, 109));
  const json r = expect_modes_agree(make_input(g, calib, x, {}), "squeeze-excite");
  const int64_t C = 20, positions = 36, tiles = (C + 15) / 16;
  for (const char* mul : {"se_mul", "mul_same"}) {
    const json& l = layer(r, mul);
    EXPECT_EQ(l["kind"], "mul") << mul;
    EXPECT_EQ(l["cycles"].get<int64_t>(), lane_run_cycles(positions, 2 * tiles, C, 2)) << mul;
    EXPECT_EQ(l["ppu_ops"].get<int64_t>(), positions * C * 2) << mul;
    // Both operands' words at every position (the gate's C bytes re-read each time).
    EXPECT_EQ(l["act_read_bytes"].get<int64_t>(), 2 * positions * C) << mul;
    EXPECT_EQ(l["act_write_bytes"].get<int64_t>(), positions * C) << mul;
  }
  for (const char* lut : {"hswish", "hsig"}) EXPECT_EQ(layer(r, lut)["kind"], "lut") << lut;
  // x * Sigmoid(x) is one table: no third Mul layer.
  int muls = 0;
  for (const json& l : r["layers"]) muls += l["kind"] == "mul";
  EXPECT_EQ(muls, 2);
  // Folded: 4 PEs x 2 accumulators hold one tile of both operands per pass (5 passes of C=20).
  expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "cluster_size=2", "acc_per_pe=2"}),
                     "squeeze-excite folded");
  expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "cluster_size=2", "acc_per_pe=2"},
                                {"magnitude", 0.6, "csr", "pattern"}),
                     "squeeze-excite folded csr");
  // hswish, the first layer the RTL lacks, is a look-up (a Mul alone: the next test).
  const std::string m = rtl_refusal(make_input(g, calib, x, {}));
  EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer 'hswish': look-up activation", 0), 0u) << m;
}

// The whole-core RTL refuses a Mul naming it (a model whose only missing feature is the Mul).
TEST(RamanFold, TheRtlImageRefusesAMulNamingIt) {
  ModelBuilder b;
  b.input("x", {1, 4, 3, 3});
  b.init("w", {16, 4, 1, 1}, ramp(64, 111));
  b.node("Conv", {"x", "w"}, {"a"}, "pw");
  b.node("GlobalAveragePool", {"a"}, {"g"}, "squeeze");
  b.node("Mul", {"a", "g"}, {"y"}, "scale");
  b.output("y");
  SimInput in =
      make_input(b.graph(), Tensor({4, 4, 3, 3}, ramp(144, 112)), relu_ramp({1, 4, 3, 3}, 113), {});
  const json r = expect_modes_agree(in, "x * gap(x)");
  EXPECT_EQ(layer(r, "scale")["kind"], "mul");
  const std::string m = rtl_refusal(in);
  EXPECT_EQ(
      m.rfind("fold.pwt: whole-core RTL: layer 'scale': elementwise Mul is not in the RTL", 0), 0u)
      << m;
}

// Channel shuffle of `in` (C channels, 2 groups) into `out`: Reshape -> Transpose -> Reshape,
// named <p>_r1, <p>_t, <p>_r2.
void shuffle(ModelBuilder& b, const std::string& in, const std::string& out, int64_t C,
             const std::string& p) {
  b.init_i64(p + "_shape1", {5}, {1, 2, C / 2, 6, 6});
  b.init_i64(p + "_shape2", {4}, {1, C, 6, 6});
  b.node("Reshape", {in, p + "_shape1"}, {p + "_a"}, p + "_r1");
  auto* t = b.node("Transpose", {p + "_a"}, {p + "_b"}, p + "_t");
  ModelBuilder::attr(t, "perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  b.node("Reshape", {p + "_b", p + "_shape2"}, {out}, p + "_r2");
}

// ShuffleNetV2's unit twice: Split in halves, one half through a pointwise conv, Concat, channel
// shuffle; then a shuffle before ReduceMean over the plane and a dense layer.
Graph shuffle_net() {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6});
  b.init("w1", {24, 4, 3, 3}, ramp(24 * 36, 121));
  auto* c1 = b.node("Conv", {"x", "w1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.init_i64("halves", {2}, {12, 12});
  auto* sp = b.node("Split", {"r1", "halves"}, {"sa", "sb"}, "split");
  ModelBuilder::attr(sp, "axis", int64_t{1});
  b.init("w2", {12, 12, 1, 1}, ramp(144, 122));
  b.node("Conv", {"sb", "w2"}, {"cb"}, "branch");
  b.node("Relu", {"cb"}, {"rb"}, "relu_b");
  auto* cat = b.node("Concat", {"sa", "rb"}, {"cat"}, "concat");
  ModelBuilder::attr(cat, "axis", int64_t{1});
  shuffle(b, "cat", "sh", 24, "shuffle1");
  auto* sp2 = b.node("Split", {"sh", "halves"}, {"ta", "tb"}, "split2");
  ModelBuilder::attr(sp2, "axis", int64_t{1});
  b.init("w3", {12, 12, 1, 1}, ramp(144, 123));
  b.node("Conv", {"tb", "w3"}, {"cb2"}, "branch2");
  b.node("Relu", {"cb2"}, {"rb2"}, "relu_b2");
  auto* cat2 = b.node("Concat", {"ta", "rb2"}, {"cat2"}, "concat2");
  ModelBuilder::attr(cat2, "axis", int64_t{1});
  shuffle(b, "cat2", "sh2", 24, "shuffle2");
  auto* mean = b.node("ReduceMean", {"sh2"}, {"mean"}, "mean");
  ModelBuilder::attr(mean, "axes", std::vector<int64_t>{2, 3});
  ModelBuilder::attr(mean, "keepdims", int64_t{0});
  b.init("wg", {10, 24}, ramp(240, 124));
  auto* gm = b.node("Gemm", {"mean", "wg"}, {"y"}, "fc");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  b.output("y");
  return b.graph();
}

// Channel shuffle and split: a Split of a tensor of its own is two views (no cycles); the
// shuffle's Reshape and Transpose, read only by Moves, are views too; where the shuffled
// channels are read by a layer (a Split's half, the last Reshape) they are copied in lanes,
// their cycles by the rule over the source tiles a pass loads; ReduceMean over the plane runs
// as global pooling. Bit-exact and equal in both modes, folded too; the RTL refuses the copy.
TEST(RamanFold, ChannelShuffleAndSplitAreViewsOrCountedCopies) {
  const Graph g = shuffle_net();
  const Tensor calib({8, 4, 6, 6}, ramp(8 * 144, 125));
  const Tensor x = Tensor({1, 4, 6, 6}, ramp(144, 126));
  const json r = expect_modes_agree(make_input(g, calib, x, {}), "shuffle");
  auto by_kind = [&](const std::string& kind, const std::string& mode) {
    std::vector<json> v;
    for (const json& l : r["layers"])
      if (l["kind"] == kind && l["mode"] == mode) v.push_back(l);
    return v;
  };
  for (const char* view :
       {"shuffle1_r1", "shuffle1_t", "shuffle1_r2", "shuffle2_r1", "shuffle2_t"}) {
    EXPECT_EQ(layer(r, view)["mode"], "none") << view;
    EXPECT_EQ(layer(r, view)["cycles"].get<double>(), 0.0) << view;
  }
  // The first Split: two contiguous channel ranges of relu1's output, views.
  const std::vector<json> views = by_kind("move", "none");
  EXPECT_EQ(views.size(), 7u);  // 2 slices + 3 + 2 shuffle steps
  // Copies: split2's halves (12 channels each gathered from both 16-channel source tiles of
  // the concat) and the last shuffle (24 channels from both tiles): cycles, reads and writes by
  // the rule.
  const std::vector<json> copies = by_kind("move", "lane");
  ASSERT_EQ(copies.size(), 3u);
  const int64_t positions = 36, src_tiles = 2;
  for (const json& l : copies) {
    const int64_t n = l["act_write_bytes"].get<int64_t>() / positions;
    EXPECT_EQ(n, l["name"] == "shuffle2_r2" ? 24 : 12) << l["name"];
    EXPECT_EQ(l["cycles"].get<int64_t>(), lane_run_cycles(positions, src_tiles, n, 1)) << l["name"];
    EXPECT_EQ(l["act_read_bytes"].get<int64_t>(), positions * 24) << l["name"];
    EXPECT_EQ(l["ppu_ops"].get<int64_t>(), positions * n) << l["name"];
  }
  const json& mean = layer(r, "mean");
  EXPECT_EQ(mean["kind"], "reduce_sum");
  EXPECT_EQ(mean["cycles"].get<int64_t>(), lane_run_cycles(1, positions * src_tiles, 24, 1));
  expect_modes_agree(make_input(g, calib, x, {"pe_count=4", "cluster_size=2", "acc_per_pe=2"}),
                     "shuffle folded");
  expect_modes_agree(make_input(g, calib, x, kSmallCore, {"balanced", 0.5, "balanced", "pattern"}),
                     "shuffle balanced, small core");
  const std::string m = rtl_refusal(make_input(g, calib, x, {}));
  EXPECT_EQ(m.rfind("fold.pwt: whole-core RTL: layer '", 0), 0u) << m;
  EXPECT_NE(m.find("': channel copy (a channel shuffle or split) is not in the RTL"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace prunesim
