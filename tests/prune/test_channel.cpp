// Channel pruning with dependency groups (`channel`) and similarity-based merging (`similarity`):
// the groups found on a residual + concat + flatten→gemm net, masked == physical, exact channel
// counts, groups left whole, determinism, ONNX round trip, and the zoo.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/onnx_builder.h"
#include "prune/channel.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pruning.h"

using namespace prunesim;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;
namespace fs = std::filesystem;

namespace {

std::vector<float> scaled_rows(std::vector<float> w, const std::vector<float>& f) {
  const size_t per = w.size() / f.size();
  for (size_t k = 0; k < w.size(); ++k) w[k] *= f[k / per];
  return w;
}

// x[1,3,8,8] → conv1(3→8, 3x3 pad 1) → relu r1 ─┬→ conv2(8→8, 1x1) → c2 ─ add(c2, r1) → relu r2
//                                                └────────────────────────┘
// r2 → conv3(8→4, 3x3 pad 1) → relu r3 ─┐
// r2 → dw(depthwise 3x3 pad 1, bias) → d ┴→ concat[12] → maxpool 2 → conv4(12→6, 1x1) → relu r4
// → flatten [96] → gemm(96→5) → y.
// conv1/conv2 biases make the masked constant relu(b2 + relu(b1)) at r2 zero for channels
// {0,1,3,5} and positive for {2,4,6,7}; conv3's padding makes the latter inexact to fold. Row
// scales make slot 2 the weakest, then 3, then 1.
ModelBuilder residual_concat_net() {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8});
  const std::vector<float> f = {1.f, 0.3f, 0.1f, 0.2f, 1.f, 1.f, 1.f, 1.f};
  b.init("w1", {8, 3, 3, 3}, scaled_rows(ramp(216, 1), f));
  b.init("b1", {8}, {-0.5f, 0.3f, -0.2f, 0.1f, -0.4f, -0.1f, 0.2f, -0.3f});
  b.init("w2", {8, 8, 1, 1}, scaled_rows(ramp(64, 2), f));
  b.init("b2", {8}, {-0.1f, -0.5f, 0.2f, -0.3f, 0.1f, -0.2f, 0.05f, 0.1f});
  b.init("w3", {4, 8, 3, 3}, ramp(288, 3));
  b.init("b3", {4}, {0.2f, -0.1f, 0.3f, 0.05f});
  b.init("wd", {8, 1, 3, 3}, ramp(72, 4));
  b.init("bd", {8}, ramp(8, 5));
  b.init("w4", {6, 12, 1, 1}, ramp(72, 6));
  b.init("b4", {6}, {0.1f, 0.2f, -0.3f, 0.4f, 0.05f, 0.15f});
  b.init("wg", {5, 96}, ramp(480, 7));
  b.init("bg", {5}, ramp(5, 8));
  auto pads1 = std::vector<int64_t>{1, 1, 1, 1};
  ModelBuilder::attr(b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1"), "pads", pads1);
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2");
  b.node("Add", {"c2", "r1"}, {"a1"}, "add1");
  b.node("Relu", {"a1"}, {"r2"}, "relu2");
  ModelBuilder::attr(b.node("Conv", {"r2", "w3", "b3"}, {"c3"}, "conv3"), "pads", pads1);
  b.node("Relu", {"c3"}, {"r3"}, "relu3");
  auto* dw = b.node("Conv", {"r2", "wd", "bd"}, {"d"}, "dw");
  ModelBuilder::attr(dw, "pads", pads1);
  ModelBuilder::attr(dw, "group", int64_t{8});
  ModelBuilder::attr(b.node("Concat", {"r3", "d"}, {"cat"}, "concat"), "axis", int64_t{1});
  auto* mp = b.node("MaxPool", {"cat"}, {"mp"}, "pool");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  b.node("Conv", {"mp", "w4", "b4"}, {"c4"}, "conv4");
  b.node("Relu", {"c4"}, {"r4"}, "relu4");
  b.node("Flatten", {"r4"}, {"fl"}, "flatten");
  ModelBuilder::attr(b.node("Gemm", {"fl", "wg", "bg"}, {"y"}, "gemm"), "transB", int64_t{1});
  b.output("y");
  return b;
}

Tensor random_input(const Shape& s, uint32_t seed) {
  return Tensor(s, ramp(static_cast<size_t>(numel(s)), seed));
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  float m = 0;
  for (size_t k = 0; k < a.f.size() && k < b.f.size(); ++k)
    m = std::max(m, std::fabs(a.f[k] - b.f[k]));
  return m;
}

std::vector<std::string> strs(const ChannelSlot& s) {
  std::vector<std::string> r;
  for (const auto& v : s.values) r.push_back(v.value + ":" + std::to_string(v.channel));
  return r;
}

const ChannelGroup& group_of(const ChannelAnalysis& a, const std::string& producer) {
  for (const auto& g : a.groups)
    for (const auto& p : g.producers)
      if (p == producer) return g;
  throw std::runtime_error("no group with " + producer);
}

// The plan a scheme's notes report (producer → removed channels).
ChannelPlan plan_from_notes(const nlohmann::json& notes) {
  ChannelPlan p;
  for (const auto& grp : notes.at("groups"))
    for (auto it = grp.at("removed").begin(); it != grp.at("removed").end(); ++it)
      for (const auto& c : it.value()) p.remove[it.key()].push_back(c.get<int64_t>());
  return p;
}

int64_t params(const Graph& g) {
  int64_t n = 0;
  for (const auto& kv : g.initializers) n += kv.second.is_float() ? kv.second.size() : 0;
  return n;
}

SchemeResult run_scheme(const std::string& name, const Graph& g, double sparsity,
                        const std::string& criterion = "", const PruneData& d = {}) {
  SchemeOptions o;
  o.sparsity = sparsity;
  if (!criterion.empty()) o.params.set("criterion", criterion);  // "": the scheme's default
  return make_scheme(name)->apply(g, {}, o, d);
}

std::string zoo(const std::string& rel) {
  const char* env = std::getenv("PRUNESIM_SOURCE_DIR");
  return std::string(env ? env : PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}

}  // namespace

TEST(ChannelGroups, ResidualConcatFlattenGemm) {
  const Graph g = residual_concat_net().graph();
  const ChannelAnalysis a = analyze_channels(g);
  ASSERT_EQ(a.groups.size(), 4u);

  const ChannelGroup& g0 = a.groups[0];  // residual: conv1 and conv2 go together
  EXPECT_EQ(g0.producers, (std::vector<std::string>{"conv1", "conv2"}));
  ASSERT_EQ(g0.channels(), 8);
  EXPECT_TRUE(g0.prunable);
  for (int64_t c = 0; c < 8; ++c) {
    const ChannelSlot& s = g0.slots[static_cast<size_t>(c)];
    ASSERT_EQ(s.filters.size(), 2u);
    EXPECT_EQ(s.filters[0].node, "conv1");
    EXPECT_EQ(s.filters[0].channel, c);
    EXPECT_EQ(s.filters[1].node, "conv2");
    EXPECT_EQ(s.filters[1].channel, c);
    const std::string k = std::to_string(c), k4 = std::to_string(c + 4);
    // The depthwise conv passes the channel through; Concat puts it after conv3's 4 channels.
    EXPECT_EQ(strs(s), (std::vector<std::string>{"a1:" + k, "c1:" + k, "c2:" + k, "cat:" + k4,
                                                 "d:" + k, "mp:" + k4, "r1:" + k, "r2:" + k}));
    ASSERT_EQ(s.uses.size(), 3u);
    EXPECT_EQ(s.uses[0].node, "conv2");
    EXPECT_EQ(s.uses[1].node, "conv3");
    EXPECT_EQ(s.uses[2].node, "conv4");
    EXPECT_EQ(s.uses[2].channel, c + 4);
    // relu(b2 + relu(b1)) > 0 reaches padded conv3 for channels 2, 4, 6, 7.
    const bool inexact = c == 2 || c == 4 || c == 6 || c == 7;
    EXPECT_EQ(s.exact_fold, !inexact) << c << " " << s.fold_note;
    if (inexact) {
      EXPECT_NE(s.fold_note.find("padded Conv 'conv3'"), std::string::npos);
    }
  }

  const ChannelGroup& g1 = a.groups[1];
  EXPECT_EQ(g1.producers, std::vector<std::string>{"conv3"});
  ASSERT_EQ(g1.channels(), 4);
  EXPECT_EQ(strs(g1.slots[3]), (std::vector<std::string>{"c3:3", "cat:3", "mp:3", "r3:3"}));
  for (const auto& s : g1.slots) EXPECT_TRUE(s.exact_fold) << s.fold_note;

  const ChannelGroup& g2 = a.groups[2];  // Flatten: channel c is features 16c … 16c+15
  EXPECT_EQ(g2.producers, std::vector<std::string>{"conv4"});
  ASSERT_EQ(g2.channels(), 6);
  const ChannelSlot& s2 = g2.slots[2];
  ASSERT_EQ(s2.uses.size(), 16u);
  for (int64_t j = 0; j < 16; ++j) {
    EXPECT_EQ(s2.uses[static_cast<size_t>(j)].node, "gemm");
    EXPECT_EQ(s2.uses[static_cast<size_t>(j)].value, "fl");
    EXPECT_EQ(s2.uses[static_cast<size_t>(j)].channel, 32 + j);
  }
  EXPECT_EQ(s2.values.size(), 18u);  // c4, r4 and 16 features

  const ChannelGroup& g3 = a.groups[3];
  EXPECT_EQ(g3.producers, std::vector<std::string>{"gemm"});
  EXPECT_FALSE(g3.prunable);
  EXPECT_EQ(g3.reason, "reaches graph output 'y'");
}

TEST(ChannelGroups, LeftWholeReasons) {
  // 1-D: convA → grouped convG (group 2) → relu → convB → Softmax → y; convR → Reshape → y2.
  ModelBuilder b;
  b.input("x", {1, 4, 6});
  b.init("wa", {6, 4, 1}, ramp(24, 1));
  b.init("wg", {6, 3, 1}, ramp(18, 2));
  b.init("wb", {3, 6, 1}, ramp(18, 3));
  b.init("wr", {2, 4, 1}, ramp(8, 4));
  b.init_i64("shape", {2}, {1, 12});
  b.node("Conv", {"x", "wa"}, {"a"}, "convA");
  ModelBuilder::attr(b.node("Conv", {"a", "wg"}, {"gq"}, "convG"), "group", int64_t{2});
  b.node("Relu", {"gq"}, {"r"}, "relu");
  b.node("Conv", {"r", "wb"}, {"cb"}, "convB");
  ModelBuilder::attr(b.node("Softmax", {"cb"}, {"y"}, "sm"), "axis", int64_t{1});
  b.node("Conv", {"x", "wr"}, {"cr"}, "convR");
  b.node("Reshape", {"cr", "shape"}, {"y2"}, "rs");
  b.output("y");
  b.output("y2");
  const Graph g = b.graph();
  const ChannelAnalysis a = analyze_channels(g);
  ASSERT_EQ(a.groups.size(), 4u);
  EXPECT_EQ(group_of(a, "convA").reason, "goes through grouped Conv 'convG' (group 2)");
  EXPECT_EQ(group_of(a, "convG").reason, "goes through grouped Conv 'convG' (group 2)");
  EXPECT_EQ(group_of(a, "convB").reason, "goes through Softmax 'sm'");
  EXPECT_EQ(group_of(a, "convR").reason, "goes through Reshape 'rs'");
  for (const auto& grp : a.groups) EXPECT_FALSE(grp.prunable);

  // The scheme leaves them whole and says so; it is not an error.
  const SchemeResult r = run_scheme("channel", g, 0.5);
  EXPECT_EQ(r.notes.at("left_whole").size(), 4u);
  EXPECT_EQ(r.notes.at("groups").size(), 0u);
  EXPECT_EQ(params(r.graph), params(g));
  ChannelPlan p;
  p.remove["convA"] = {0};
  try {
    channel_physical(g, p);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("left whole"), std::string::npos) << e.what();
  }
}

TEST(ChannelPrune, ExactCountsAndMaskedEqualsPhysical) {
  const Graph g = residual_concat_net().graph();
  const SchemeResult r = run_scheme("channel", g, 0.25);
  // Group 0 (8 slots, target 2): slot 2 is the weakest but inexact, so slots 3 and 1 go.
  const auto& g0 = r.notes.at("groups").at(0);
  EXPECT_EQ(g0.at("removed").at("conv1"), (nlohmann::json{1, 3}));
  EXPECT_EQ(g0.at("removed").at("conv2"), (nlohmann::json{1, 3}));
  EXPECT_EQ(g0.at("kept_for_exactness").size(), 1u);
  EXPECT_EQ(g0.at("kept_for_exactness").at(0).at("slot"), 2);
  EXPECT_EQ(r.notes.at("groups").at(1).at("channels_after"), 3);  // floor(0.25·4) = 1
  EXPECT_EQ(r.notes.at("groups").at(2).at("channels_after"), 5);  // floor(0.25·6) = 1
  EXPECT_EQ(r.notes.at("left_whole").at(0).at("reason"), "reaches graph output 'y'");

  const Graph& p = r.graph;
  EXPECT_EQ(p.init(p.nodes[0].in(1)).shape, (Shape{6, 3, 3, 3}));  // conv1
  EXPECT_EQ(p.shape("r2"), (Shape{1, 6, 8, 8}));
  EXPECT_EQ(p.shape("c3"), (Shape{1, 3, 8, 8}));
  EXPECT_EQ(p.shape("d"), (Shape{1, 6, 8, 8}));
  EXPECT_EQ(p.shape("cat"), (Shape{1, 9, 8, 8}));
  EXPECT_EQ(p.shape("c4"), (Shape{1, 5, 4, 4}));
  EXPECT_EQ(p.shape("fl"), (Shape{1, 80}));
  EXPECT_EQ(p.shape("y"), (Shape{1, 5}));
  for (const Node& n : p.nodes)
    if (n.name == "dw") {
      EXPECT_EQ(n.attr_i("group", 0), 6);
    }
  for (const auto& kv : r.masks) {
    EXPECT_EQ(static_cast<int64_t>(kv.second.size()), p.init(kv.first).size());
    for (auto m : kv.second) EXPECT_EQ(m, 1);
  }

  const ChannelPlan plan = plan_from_notes(r.notes);
  const Graph masked = channel_masked(g, plan);
  EXPECT_EQ(params(masked), params(g));
  const Tensor x = random_input({4, 3, 8, 8}, 11);
  const Tensor ym = run_float(masked, x), yp = run_float(p, x);
  EXPECT_LT(max_abs_diff(ym, yp), 1e-5f);
  // The pruned model really differs from the dense one (the test would be void otherwise).
  EXPECT_GT(max_abs_diff(run_float(g, x), ym), 1e-3f);

  // Sparsity 0.5: group 0's four exact slots {0,1,3,5} go, the other groups lose 2 and 3.
  const SchemeResult h = run_scheme("channel", g, 0.5, "l2");
  EXPECT_EQ(h.notes.at("groups").at(0).at("removed").at("conv1"), (nlohmann::json{0, 1, 3, 5}));
  EXPECT_EQ(h.graph.shape("cat"), (Shape{1, 6, 8, 8}));
  EXPECT_EQ(h.graph.shape("fl"), (Shape{1, 48}));
  EXPECT_LT(max_abs_diff(run_float(channel_masked(g, plan_from_notes(h.notes)), x),
                         run_float(h.graph, x)),
            1e-5f);
}

TEST(ChannelPrune, NeverEmptiesALayerAndKeepsOne) {
  const Graph g = residual_concat_net().graph();
  const SchemeResult r = run_scheme("channel", g, 0.99);
  EXPECT_EQ(r.notes.at("groups").at(1).at("channels_after"), 1);  // floor(0.99·4)=3 of 4
  EXPECT_EQ(r.notes.at("groups").at(2).at("channels_after"), 1);
  const Tensor x = random_input({2, 3, 8, 8}, 5);
  EXPECT_LT(max_abs_diff(run_float(channel_masked(g, plan_from_notes(r.notes)), x),
                         run_float(r.graph, x)),
            1e-5f);
}

TEST(ChannelPrune, InexactPlanAndBadPlansAreInputErrors) {
  const Graph g = residual_concat_net().graph();
  auto error_of = [&](const ChannelPlan& p) -> std::string {
    try {
      channel_physical(g, p);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  ChannelPlan inexact;
  inexact.remove["conv2"] = {2};
  EXPECT_NE(error_of(inexact).find("cannot be removed exactly"), std::string::npos);
  ChannelPlan unknown;
  unknown.remove["nope"] = {0};
  EXPECT_NE(error_of(unknown).find("no such node"), std::string::npos);
  ChannelPlan range;
  range.remove["conv3"] = {4};
  EXPECT_NE(error_of(range).find("no prunable output channel 4"), std::string::npos);
  ChannelPlan all;
  all.remove["conv3"] = {0, 1, 2, 3};
  EXPECT_NE(error_of(all).find("removes all of its channels"), std::string::npos);
  // The masked graph of the inexact plan is still well defined: that is what differs.
  EXPECT_NO_THROW(channel_masked(g, inexact));
}

TEST(ChannelPrune, Deterministic) {
  const Graph g = residual_concat_net().graph();
  const SchemeResult a = run_scheme("channel", g, 0.4), b = run_scheme("channel", g, 0.4);
  EXPECT_EQ(a.notes.dump(), b.notes.dump());
  ASSERT_EQ(a.graph.initializers.size(), b.graph.initializers.size());
  for (const auto& kv : a.graph.initializers) EXPECT_EQ(kv.second.f, b.graph.init(kv.first).f);
}

TEST(ChannelPrune, SmallerOnnxRoundTrips) {
  const Graph g = residual_concat_net().graph();
  const SchemeResult r = run_scheme("channel", g, 0.5);
  const std::string path = (fs::temp_directory_path() / "prunesim_channel_rt.onnx").string();
  save_onnx(r.graph, path);
  const Graph back = load_onnx(path);
  std::remove(path.c_str());
  EXPECT_LT(params(back), params(g));
  const Tensor x = random_input({3, 3, 8, 8}, 9);
  EXPECT_LT(max_abs_diff(run_float(back, x), run_float(r.graph, x)), 1e-6f);
}

TEST(ChannelPrune, UnfoldedBatchNormAndPerChannelConstants) {
  // conv → BN (kept unfolded) → Mul by a per-channel constant → relu → conv2 (1x1) → y.
  ModelBuilder b;
  b.input("x", {1, 2, 5, 5});
  b.init("w", {4, 2, 3, 3}, ramp(72, 1));
  b.init("b", {4}, {0.3f, -0.2f, 0.5f, 0.1f});
  b.init("gamma", {4}, {1.5f, 0.5f, 2.f, 1.f});
  b.init("beta", {4}, ramp(4, 3));
  b.init("mean", {4}, ramp(4, 4));
  b.init("var", {4}, {0.5f, 1.f, 2.f, 0.25f});
  b.init("s", {1, 4, 1, 1}, {0.5f, 2.f, -1.f, 1.5f});
  b.init("w2", {3, 4, 1, 1}, ramp(12, 5));
  b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"}, "bn");
  b.node("Mul", {"bn", "s"}, {"m"}, "mul");
  b.node("Relu", {"m"}, {"r"}, "relu");
  b.node("Conv", {"r", "w2"}, {"y"}, "conv2");  // no bias: the fold creates one
  b.output("y");
  ImportOptions keep;
  keep.fold_batchnorm = false;
  const Graph g = b.graph(keep);
  ASSERT_EQ(g.nodes.size(), 5u);
  const SchemeResult r = run_scheme("channel", g, 0.5);
  EXPECT_EQ(r.graph.shape("bn"), (Shape{1, 2, 3, 3}));
  const Tensor x = random_input({2, 2, 5, 5}, 3);
  EXPECT_LT(max_abs_diff(run_float(channel_masked(g, plan_from_notes(r.notes)), x),
                         run_float(r.graph, x)),
            1e-5f);
}

namespace {

// A 1-D DS-CAE-like net: x[1,6,12] → dw(k3 pad1) → pw(6→8) → relu → AvgPool 2 → dw(k3 pad1)
// → pw(8→8) → relu → ConvTranspose(8→4, k4 s2 pad1) → relu → dw(k3 pad1) → pw(4→6) → y.
ModelBuilder cae_like_net() {
  ModelBuilder b;
  b.input("x", {1, 6, 12});
  b.init("d1", {6, 1, 3}, ramp(18, 1));
  b.init("p1", {8, 6, 1}, ramp(48, 2));
  b.init("pb1", {8}, ramp(8, 3));
  b.init("d2", {8, 1, 3}, ramp(24, 4));
  b.init("p2", {8, 8, 1}, ramp(64, 5));
  b.init("pb2", {8}, ramp(8, 6));
  b.init("t", {8, 4, 4}, ramp(128, 7));
  b.init("tb", {4}, ramp(4, 8));
  b.init("d3", {4, 1, 3}, ramp(12, 9));
  b.init("p3", {6, 4, 1}, ramp(24, 10));
  auto dw = [&](const std::string& in, const std::string& w, const std::string& out, int64_t C) {
    auto* n = b.node("Conv", {in, w}, {out}, out);
    ModelBuilder::attr(n, "group", C);
    ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 1});
  };
  dw("x", "d1", "dw1", 6);
  b.node("Conv", {"dw1", "p1", "pb1"}, {"pw1"}, "pw1");
  b.node("Relu", {"pw1"}, {"r1"}, "r1");
  auto* ap = b.node("AveragePool", {"r1"}, {"ap"}, "ap");
  ModelBuilder::attr(ap, "kernel_shape", std::vector<int64_t>{2});
  ModelBuilder::attr(ap, "strides", std::vector<int64_t>{2});
  dw("ap", "d2", "dw2", 8);
  b.node("Conv", {"dw2", "p2", "pb2"}, {"pw2"}, "pw2");
  b.node("Relu", {"pw2"}, {"r2"}, "r2");
  auto* t = b.node("ConvTranspose", {"r2", "t", "tb"}, {"up"}, "up");
  ModelBuilder::attr(t, "strides", std::vector<int64_t>{2});
  ModelBuilder::attr(t, "pads", std::vector<int64_t>{1, 1});
  b.node("Relu", {"up"}, {"r3"}, "r3");
  dw("r3", "d3", "dw3", 4);
  b.node("Conv", {"dw3", "p3"}, {"y"}, "pw3");
  b.output("y");
  return b;
}

}  // namespace

TEST(ChannelPrune, ConvTransposeAndAveragePool1d) {
  const Graph g = cae_like_net().graph();
  const ChannelAnalysis a = analyze_channels(g);
  // pw1, pw2, up are prunable; pw3 reaches the output; dw1's channels come from the input.
  ASSERT_EQ(a.groups.size(), 4u);
  EXPECT_EQ(group_of(a, "pw3").reason, "reaches graph output 'y'");
  // pw2's channels feed the ConvTranspose: exact only where relu(pb2) is 0.
  const ChannelGroup& g2 = group_of(a, "pw2");
  const Tensor& pb2 = g.init("pb2");
  for (size_t c = 0; c < 8; ++c) EXPECT_EQ(g2.slots[c].exact_fold, pb2.f[c] <= 0.f) << c;
  // pw1's and up's constants meet a depthwise conv whose filter is zeroed with them: exact.
  for (const auto& s : group_of(a, "pw1").slots) EXPECT_TRUE(s.exact_fold) << s.fold_note;
  for (const auto& s : group_of(a, "up").slots) EXPECT_TRUE(s.exact_fold) << s.fold_note;

  const Tensor x = random_input({3, 6, 12}, 17), calib = random_input({8, 6, 12}, 18);
  for (double s : {0.25, 0.5}) {
    const SchemeResult r = run_scheme("channel", g, s);
    EXPECT_LT(params(r.graph), params(g));
    EXPECT_LT(max_abs_diff(run_float(channel_masked(g, plan_from_notes(r.notes)), x),
                           run_float(r.graph, x)),
              1e-5f);
    PruneData d;
    d.calib = &calib;
    const SchemeResult m = run_scheme("similarity", g, s, "", d);
    EXPECT_EQ(m.graph.shape("y"), g.shape("y"));
    EXPECT_LT(params(m.graph), params(g));
  }
}

// ---------------------------------------------------------------- zoo
namespace {

struct ZooCase {
  const char* model;
  const char* data;  // sample set to compare on
};

// Test listings show the case, not the struct's bytes.
void PrintTo(const ZooCase& c, std::ostream* os) {
  *os << c.model << " on " << c.data;
}

}  // namespace

class ChannelZoo : public ::testing::TestWithParam<ZooCase> {};

TEST_P(ChannelZoo, MaskedEqualsPhysical) {
  const std::string model = zoo(GetParam().model), data = zoo(GetParam().data);
  if (!fs::exists(model) || !fs::exists(data))
    GTEST_SKIP() << model << " or " << data << " missing";
  const Graph g = load_onnx(model);
  Tensor x = load_npy_as_float(data);
  if (x.shape[0] > 8) {  // a few samples are enough for an equality check
    x.shape[0] = 8;
    x.f.resize(static_cast<size_t>(numel(x.shape)));
  }
  for (double s : {0.25, 0.5}) {
    const SchemeResult r = run_scheme("channel", g, s);
    const ChannelPlan plan = plan_from_notes(r.notes);
    ASSERT_FALSE(plan.remove.empty()) << r.notes.dump(1);
    EXPECT_LT(params(r.graph), params(g));
    const Tensor ym = run_float(channel_masked(g, plan), x), yp = run_float(r.graph, x);
    EXPECT_LT(max_abs_diff(ym, yp), 1e-5f) << GetParam().model << " at " << s;
    // Every group the scheme pruned hit its target unless the notes say why not.
    for (const auto& grp : r.notes.at("groups")) {
      const int64_t removed =
          grp.at("channels_before").get<int64_t>() - grp.at("channels_after").get<int64_t>();
      if (grp.at("kept_for_exactness").empty()) {
        EXPECT_EQ(removed, grp.at("target_removed"));
      }
    }
    const std::string path = (fs::temp_directory_path() / "prunesim_channel_zoo.onnx").string();
    save_onnx(r.graph, path);
    const Graph back = load_onnx(path);
    std::remove(path.c_str());
    EXPECT_LT(max_abs_diff(run_float(back, x), yp), 1e-5f);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, ChannelZoo,
    ::testing::Values(ZooCase{"ds_cae1/ds_cae1.onnx", "ds_cae1/sample.npy"},
                      ZooCase{"ds_cae1/encoder.onnx", "ds_cae1/eval.npy"},
                      ZooCase{"digits_dscnn/digits_dscnn.onnx", "digits_dscnn/eval.npy"},
                      ZooCase{"fmnist_dscnn/fmnist_dscnn.onnx", "fmnist_dscnn/eval.npy"}),
    [](const ::testing::TestParamInfo<ZooCase>& i) {
      std::string s = i.param.model;
      for (auto& ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return s;
    });

// ---------------------------------------------------------------- similarity
namespace {

// x[1,2,6,6] → convA(2→4, 3x3, no pad) [→ relu] → convB(4→3, 1x1) → y. Filter 3 of convA is
// `scale` × filter 1 and its bias scale·b1 + shift, so channel 3 is an exact affine copy of
// channel 1 (before the optional relu).
Graph copy_net(bool relu, float scale, float shift) {
  ModelBuilder b;
  b.input("x", {1, 2, 6, 6});
  std::vector<float> wa = ramp(72, 21);
  for (size_t k = 0; k < 18; ++k) wa[54 + k] = scale * wa[18 + k];
  std::vector<float> ba = {0.4f, 0.3f, 0.5f, 0.f};
  ba[3] = scale * ba[1] + shift;
  b.init("wa", {4, 2, 3, 3}, wa);
  b.init("ba", {4}, ba);
  b.init("wb", {3, 4, 1, 1}, ramp(12, 22));
  b.init("bb", {3}, ramp(3, 23));
  b.node("Conv", {"x", "wa", "ba"}, {"a"}, "convA");
  if (relu) b.node("Relu", {"a"}, {"r"}, "relu");
  b.node("Conv", {relu ? "r" : "a", "wb", "bb"}, {"y"}, "convB");
  b.output("y");
  return b.graph();
}

}  // namespace

TEST(Similarity, ExactCopyMergesLosslessly) {
  const Graph g = copy_net(true, 2.f, 0.f);
  const Tensor calib = random_input({16, 2, 6, 6}, 31), x = random_input({4, 2, 6, 6}, 32);
  PruneData d;
  d.calib = &calib;
  const SchemeResult r = run_scheme("similarity", g, 0.25, "", d);  // cosine, 1 of 4 channels
  const auto& m = r.notes.at("groups").at(0).at("merges");
  ASSERT_EQ(m.size(), 1u) << r.notes.dump(1);
  EXPECT_EQ(m[0].at("removed"), "convA:1");  // the weaker copy goes into the stronger
  EXPECT_EQ(m[0].at("into"), "convA:3");
  EXPECT_NEAR(m[0].at("similarity").get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(m[0].at("fits")[0].at("alpha").get<double>(), 0.5, 1e-5);
  EXPECT_EQ(r.graph.shape("a"), (Shape{1, 3, 4, 4}));
  EXPECT_LT(max_abs_diff(run_float(r.graph, x), run_float(g, x)), 1e-5f);
}

TEST(Similarity, CorrelationFoldsTheIntercept) {
  const Graph g = copy_net(false, -2.f, 0.5f);  // a3 = -2·a1 + 0.5: |r| = 1
  const Tensor calib = random_input({16, 2, 6, 6}, 41), x = random_input({4, 2, 6, 6}, 42);
  PruneData d;
  d.calib = &calib;
  const SchemeResult r = run_scheme("similarity", g, 0.25, "correlation", d);
  const auto& m = r.notes.at("groups").at(0).at("merges");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].at("removed"), "convA:1");
  const auto& f = m[0].at("fits")[0];
  EXPECT_TRUE(f.at("intercept").get<bool>());  // convB is 1x1 without padding
  EXPECT_NEAR(f.at("alpha").get<double>(), -0.5, 1e-5);
  EXPECT_NEAR(f.at("beta").get<double>(), 0.25, 1e-5);
  EXPECT_LT(max_abs_diff(run_float(r.graph, x), run_float(g, x)), 1e-5f);
}

TEST(Similarity, ThresholdAndDeterminism) {
  const Graph g = copy_net(true, 2.f, 0.f);
  const Tensor calib = random_input({16, 2, 6, 6}, 31);
  PruneData d;
  d.calib = &calib;
  SchemeOptions o;
  o.params.set("threshold", 0.999999);  // only the exact copy qualifies, whatever the sparsity
  o.sparsity = 0.0;
  const auto s = make_scheme("similarity");
  const SchemeResult a = s->apply(g, {}, o, d), b = s->apply(g, {}, o, d);
  EXPECT_EQ(a.notes.at("groups").at(0).at("channels_after"), 3);
  EXPECT_EQ(a.notes.dump(), b.notes.dump());
  for (const auto& kv : a.graph.initializers) EXPECT_EQ(kv.second.f, b.graph.init(kv.first).f);
}

TEST(Similarity, BadInputs) {
  const Graph g = copy_net(true, 2.f, 0.f);
  auto error_of = [&](const std::string& crit, const Tensor* calib) -> std::string {
    PruneData d;
    d.calib = calib;
    try {
      run_scheme("similarity", g, 0.5, crit, d);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  const Tensor calib = random_input({4, 2, 6, 6}, 1), wrong = random_input({4, 3, 6, 6}, 1);
  EXPECT_EQ(error_of("", nullptr), "the similarity scheme needs --calib");
  EXPECT_NE(error_of("euclid", &calib).find("not a similarity criterion"), std::string::npos);
  EXPECT_NE(error_of("", &wrong).find("--calib"), std::string::npos);
  try {
    run_scheme("channel", g, 0.5, "l3");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a channel criterion"), std::string::npos);
  }
}

// The comparison docs/pruning.md reports ("Similarity versus magnitude"): channel L1 (the
// magnitude greedy baseline) and similarity merging at the same channel sparsity, on the DS-CAE1
// autoencoder (SNDR of the reconstruction of eval.npy) and on digits_dscnn (top-1 on eval.npy).
TEST(SimilarityZoo, SimilarityVersusMagnitude) {
  struct Case {
    std::string dir, model;
    bool classifier;
  };
  const std::vector<Case> cases = {{"ds_cae1", "ds_cae1.onnx", false},
                                   {"digits_dscnn", "digits_dscnn.onnx", true}};
  int compared = 0, similarity_wins = 0;
  for (const auto& c : cases) {
    const std::string model = zoo(c.dir + "/" + c.model), calib_p = zoo(c.dir + "/calib.npy"),
                      eval_p = zoo(c.dir + "/eval.npy"), labels_p = zoo(c.dir + "/eval_labels.npy");
    if (!fs::exists(model) || !fs::exists(calib_p) || !fs::exists(eval_p) ||
        (c.classifier && !fs::exists(labels_p))) {
      std::printf("%s: zoo files missing, skipped\n", c.dir.c_str());
      continue;
    }
    const Graph g = load_onnx(model);
    const Tensor calib = load_npy_as_float(calib_p), ev = load_npy_as_float(eval_p);
    const Tensor labels = c.classifier ? load_npy_as_float(labels_p) : Tensor();
    auto metric = [&](const Graph& m) {
      const Tensor y = run_float(m, ev);
      return c.classifier ? top1(y, labels) : sndr_db(ev, y);
    };
    auto removed = [](const SchemeResult& r) {
      int64_t n = 0;
      for (const auto& grp : r.notes.at("groups"))
        n += grp.at("channels_before").get<int64_t>() - grp.at("channels_after").get<int64_t>();
      return n;
    };
    const char* unit = c.classifier ? "top-1" : "SNDR dB";
    std::printf("%s: dense %s %.4f, params %lld\n", c.dir.c_str(), unit, metric(g),
                static_cast<long long>(params(g)));
    for (double s : {0.125, 0.25, 0.5}) {
      PruneData d;
      d.calib = &calib;
      const SchemeResult l1 = run_scheme("channel", g, s, "l1");
      const SchemeResult cos = run_scheme("similarity", g, s, "cosine", d);
      const SchemeResult cor = run_scheme("similarity", g, s, "correlation", d);
      const double ml1 = metric(l1.graph), mcos = metric(cos.graph), mcor = metric(cor.graph);
      std::printf(
          "%s s=%.3f  %s: channel-l1 %.4f (%lld ch removed, %lld params) | similarity-cosine "
          "%.4f (%lld ch, %lld params) | similarity-correlation %.4f (%lld ch, %lld params)\n",
          c.dir.c_str(), s, unit, ml1, static_cast<long long>(removed(l1)),
          static_cast<long long>(params(l1.graph)), mcos, static_cast<long long>(removed(cos)),
          static_cast<long long>(params(cos.graph)), mcor, static_cast<long long>(removed(cor)),
          static_cast<long long>(params(cor.graph)));
      if (s == 0.5) {
        ++compared;
        similarity_wins += mcos >= ml1;
      }
    }
  }
  if (compared == 0) GTEST_SKIP() << "zoo models missing";
  EXPECT_GE(similarity_wins, 1) << "similarity (cosine) worse than channel L1 on every model";
}
