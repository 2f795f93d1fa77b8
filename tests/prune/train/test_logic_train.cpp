// Logic-gate network training (train/logic_train.h) on the shared loop: the learned
// interconnect's parameters per gate do not depend on the input width, the trainer's hard
// forward and the bit-parallel evaluator agree sample by sample, a small task is learnt, a seed
// repeats a run, and bad labels or layer specs are one InputError.
#include <gtest/gtest.h>

#include <random>

#include "common/input_error.h"
#include "logic/eval.h"
#include "train/logic_train.h"

using namespace prunesim;
using namespace prunesim::train;

namespace {

// Four classes from two thresholds on two of `features` uniform features (the others noise).
LogicData quadrants(int64_t n, int64_t features, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  LogicData d;
  d.n = n;
  d.features = features;
  d.x.resize(static_cast<size_t>(n * features));
  for (auto& v : d.x) v = u(rng);
  for (int64_t s = 0; s < n; ++s)
    d.labels.push_back(2 * (d.x[s * features] > 0.5f) + (d.x[s * features + 1] > 0.5f));
  return d;
}

LogicNetOptions small(const std::string& interconnect) {
  LogicNetOptions o;
  o.layers = {64, 64, 40};
  o.interconnect = interconnect;
  o.candidates = 8;
  o.thresholds = 3;  // uniform over [0, 1]: 0.25, 0.5, 0.75 (the quadrant edges are bits)
  o.tau = 2;
  o.init = "normal";
  o.train.epochs = 15;
  o.train.lr = 0.05;
  o.train.batch = 50;
  o.train.threads = 1;
  o.train.seed = 5;
  o.train.val_split = 0.25;
  return o;
}

std::vector<int32_t> evaluator_classes(const logic::Netlist& net, const LogicData& d) {
  const logic::BitMatrix in =
      logic::encode(net.encoder, d.x.data(), static_cast<size_t>(d.n), d.features);
  return logic::classify(net, in, static_cast<size_t>(d.n));
}

}  // namespace

TEST(LogicTrain, LearnedParametersPerGateDoNotGrowWithTheInputWidth) {
  LogicNetOptions o = small("learned");
  const int64_t gates = 64 + 64 + 40;
  const int64_t narrow = logic_parameter_count(64, o), wide = logic_parameter_count(128, o);
  EXPECT_EQ(narrow, wide);
  EXPECT_EQ(narrow, gates * (16 + 2 * o.candidates));
  // Doubling every layer's width doubles the gates, not the parameters per gate.
  LogicNetOptions w = o;
  w.layers = {128, 128, 80};
  EXPECT_EQ(logic_parameter_count(128, w), 2 * gates * (16 + 2 * o.candidates));
}

TEST(LogicTrain, RandomWiringHasSixteenParametersPerGate) {
  const LogicNetOptions o = small("random");
  EXPECT_EQ(logic_parameter_count(64, o), (64 + 64 + 40) * 16);
  EXPECT_EQ(logic_parameter_count(512, o), (64 + 64 + 40) * 16);
}

TEST(LogicTrain, HardForwardEqualsTheEvaluatorOnEverySample) {
  const LogicData d = quadrants(300, 6, 1);
  for (const char* ic : {"learned", "random"}) {
    LogicNetOptions o = small(ic);
    o.init = "normal";
    logic::Netlist net;
    const std::vector<int64_t> torch_cls = logic_hard_predictions(d, o, &net);
    const std::vector<int32_t> eval_cls = evaluator_classes(net, d);
    ASSERT_EQ(torch_cls.size(), eval_cls.size());
    for (size_t s = 0; s < eval_cls.size(); ++s) ASSERT_EQ(torch_cls[s], eval_cls[s]) << ic << s;
  }
}

TEST(LogicTrain, LearnsAndItsDiscreteAccuracyIsTheEvaluators) {
  const LogicData d = quadrants(800, 4, 2);
  for (const char* ic : {"learned", "random"}) {
    const LogicTrainResult r = train_logic(d, small(ic));
    ASSERT_EQ(r.val_rows.size(), 200u);
    LogicData v;
    v.features = d.features;
    for (int64_t row : r.val_rows) {
      v.x.insert(v.x.end(), d.x.begin() + row * d.features, d.x.begin() + (row + 1) * d.features);
      v.labels.push_back(d.labels[static_cast<size_t>(row)]);
    }
    v.n = static_cast<int64_t>(v.labels.size());
    const std::vector<int32_t> cls = evaluator_classes(r.net, v);
    size_t hit = 0;
    for (size_t s = 0; s < cls.size(); ++s) hit += cls[s] == v.labels[s];
    EXPECT_DOUBLE_EQ(r.train.best_metric, static_cast<double>(hit) / cls.size()) << ic;
    // Chance is 25 %; the quadrants are two thresholds away from the inputs.
    EXPECT_GT(r.train.best_metric, 0.9) << ic;
    EXPECT_EQ(r.net.gates.size(), 168u);
    EXPECT_EQ(r.net.classes, 4u);
  }
}

TEST(LogicTrain, ASeedRepeatsTheRun) {
  const LogicData d = quadrants(400, 4, 3);
  LogicNetOptions o = small("learned");
  o.train.epochs = 2;
  const LogicTrainResult a = train_logic(d, o), b = train_logic(d, o);
  ASSERT_EQ(a.net.gates.size(), b.net.gates.size());
  for (size_t i = 0; i < a.net.gates.size(); ++i) {
    EXPECT_EQ(a.net.gates[i].a, b.net.gates[i].a);
    EXPECT_EQ(a.net.gates[i].b, b.net.gates[i].b);
    EXPECT_EQ(a.net.gates[i].tt, b.net.gates[i].tt);
  }
  EXPECT_EQ(a.train.epochs.back().train_loss, b.train.epochs.back().train_loss);
}

TEST(LogicTrain, BadLabelsAndLayersAreOneInputError) {
  LogicData d = quadrants(100, 4, 4);
  d.labels_source = "y.npy";
  d.labels.pop_back();
  EXPECT_NE(test::error_of([&] { train_logic(d, small("random")); }).find("y.npy"),
            std::string::npos);
  d = quadrants(100, 4, 4);
  LogicNetOptions o = small("random");
  o.layers = {64, 42};  // 42 gates do not split into 4 classes
  EXPECT_NE(test::error_of([&] { train_logic(d, o); }).find("multiple of 4"), std::string::npos);
  EXPECT_EQ(parse_layers("3x100,50", "--layers"), (std::vector<uint32_t>{100, 100, 100, 50}));
  for (const char* bad : {"", "4x", "x100", "4x0", "abc", "4x100,,", "-3", "2x3x4"})
    EXPECT_NE(test::error_of([&] { parse_layers(bad, "--layers"); }), "") << bad;
}
