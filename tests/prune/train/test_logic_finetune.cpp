// Fine-tuning of a pruned, discretised logic network (finetune_logic, train/logic_train.h): the
// starting point is the input netlist exactly (gates and classes per sample), the wiring and
// gate count survive training, the accuracy does not fall, and a seed repeats the run.
#include <gtest/gtest.h>

#include <random>

#include "common/input_error.h"
#include "logic/budget.h"
#include "logic/eval.h"
#include "logic/greedy.h"
#include "train/logic_train.h"

using namespace prunesim;
using namespace prunesim::train;

namespace {

// Four classes from two thresholds on two of four uniform features.
LogicData quadrants(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  LogicData d;
  d.n = n;
  d.features = 4;
  d.x.resize(static_cast<size_t>(n * 4));
  for (auto& v : d.x) v = u(rng);
  for (int64_t s = 0; s < n; ++s)
    d.labels.push_back(2 * (d.x[s * 4] > 0.5f) + (d.x[s * 4 + 1] > 0.5f));
  return d;
}

// A briefly trained network pruned by the greedy pass to 60 gates: a DAG whose gates read
// earlier signals of any layer, with a top-1 well below what the wiring allows.
logic::Netlist pruned_net(const LogicData& d) {
  LogicNetOptions o;
  o.layers = {64, 64, 40};
  o.interconnect = "random";
  o.thresholds = 3;
  o.tau = 2;
  o.init = "normal";
  o.train.epochs = 3;
  o.train.lr = 0.05;
  o.train.batch = 50;
  o.train.threads = 1;
  o.train.seed = 7;
  const logic::Netlist full = train_logic(d, o).net;
  const logic::BitMatrix in =
      logic::encode(full.encoder, d.x.data(), static_cast<size_t>(d.n), d.features);
  const auto rank = [&](const logic::Netlist& n) {
    return logic::greedy_ranking(n, in, static_cast<size_t>(d.n));
  };
  return logic::prune_in_rounds(full, rank, 60, 1, "test").net;
}

double top1(const logic::Netlist& net, const LogicData& d) {
  const logic::BitMatrix in =
      logic::encode(net.encoder, d.x.data(), static_cast<size_t>(d.n), d.features);
  return logic::accuracy(net, in, d.labels.data(), static_cast<size_t>(d.n));
}

LogicFinetuneOptions ft_options() {
  LogicFinetuneOptions f;
  f.train.epochs = 8;
  f.train.lr = 0.05;
  f.train.batch = 50;
  f.train.threads = 1;
  f.train.seed = 3;
  f.train.val_split = 0;  // the metric is the training data's top-1: the test compares it
  return f;
}

void expect_same_wiring(const logic::Netlist& a, const logic::Netlist& b, bool same_tt) {
  ASSERT_EQ(a.gates.size(), b.gates.size());
  for (size_t g = 0; g < a.gates.size(); ++g) {
    EXPECT_EQ(a.gates[g].a, b.gates[g].a) << g;
    EXPECT_EQ(a.gates[g].b, b.gates[g].b) << g;
    if (same_tt) EXPECT_EQ(a.gates[g].tt, b.gates[g].tt) << g;
  }
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.out_negate, b.out_negate);
}

}  // namespace

TEST(LogicFinetune, TheStartingPointIsTheInputNetlist) {
  const LogicData d = quadrants(600, 11);
  const logic::Netlist net = pruned_net(d);
  ASSERT_LE(net.gates.size(), 60u);
  // Some gate must read a signal outside the previous layer, or the DAG path is not exercised.
  const auto layer_of = [&](uint32_t s) {
    return s < net.inputs ? -1 : static_cast<int>(net.gates[s - net.inputs].layer);
  };
  bool skips = false;
  for (const auto& g : net.gates)
    skips |= layer_of(g.a) + 1 != static_cast<int>(g.layer) ||
             layer_of(g.b) + 1 != static_cast<int>(g.layer);
  EXPECT_TRUE(skips);
  const logic::BitMatrix in =
      logic::encode(net.encoder, d.x.data(), static_cast<size_t>(d.n), d.features);
  const std::vector<int32_t> want = logic::classify(net, in, static_cast<size_t>(d.n));
  for (double c : {0.5, 3.0, 10.0}) {
    std::vector<int64_t> hard;
    const logic::Netlist start = logic_finetune_start(net, d, c, &hard);
    expect_same_wiring(start, net, true);
    ASSERT_EQ(hard.size(), want.size());
    for (size_t s = 0; s < want.size(); ++s) ASSERT_EQ(hard[s], want[s]) << c << " " << s;
  }
}

TEST(LogicFinetune, KeepsTheWiringAndDoesNotLoseAccuracy) {
  const LogicData d = quadrants(600, 12);
  const logic::Netlist net = pruned_net(d);
  const LogicFinetuneResult r = finetune_logic(net, d, ft_options());
  expect_same_wiring(r.wiring, net, false);
  EXPECT_LE(r.net.gates.size(), net.gates.size());
  EXPECT_EQ(r.parameters, 16 * static_cast<int64_t>(net.gates.size()));
  // The loop's start metric is the input's discrete top-1, its best the result's.
  EXPECT_DOUBLE_EQ(r.train.start_metric, top1(net, d));
  EXPECT_DOUBLE_EQ(r.train.best_metric, top1(r.wiring, d));
  EXPECT_DOUBLE_EQ(top1(r.net, d), top1(r.wiring, d));  // simplify keeps the function
  EXPECT_GE(top1(r.net, d), top1(net, d));
  // The pruned start is well below the quadrants' reach; 8 epochs must recover some of it.
  EXPECT_GT(r.train.best_epoch, 0);
  EXPECT_GT(top1(r.net, d), top1(net, d));
}

TEST(LogicFinetune, ASeedRepeatsTheRun) {
  const LogicData d = quadrants(400, 13);
  const logic::Netlist net = pruned_net(d);
  LogicFinetuneOptions f = ft_options();
  f.train.epochs = 2;
  f.train.val_split = 0.2;
  const LogicFinetuneResult a = finetune_logic(net, d, f), b = finetune_logic(net, d, f);
  ASSERT_EQ(a.wiring.gates.size(), b.wiring.gates.size());
  for (size_t g = 0; g < a.wiring.gates.size(); ++g)
    EXPECT_EQ(a.wiring.gates[g].tt, b.wiring.gates[g].tt) << g;
  EXPECT_EQ(a.train.epochs.back().train_loss, b.train.epochs.back().train_loss);
  EXPECT_EQ(a.val_rows, b.val_rows);
}

TEST(LogicFinetune, DataThatDoesNotFitIsOneInputError) {
  LogicData d = quadrants(200, 14);
  const logic::Netlist net = pruned_net(d);
  LogicData bad = d;
  bad.labels_source = "y.npy";
  bad.labels.pop_back();
  EXPECT_NE(test::error_of([&] { finetune_logic(net, bad, ft_options()); }).find("y.npy"),
            std::string::npos);
  bad = d;
  bad.labels[5] = 4;  // the network has 4 classes
  EXPECT_NE(test::error_of([&] { finetune_logic(net, bad, ft_options()); }).find("element 5"),
            std::string::npos);
  LogicFinetuneOptions f = ft_options();
  f.init_logit = 0;
  EXPECT_NE(test::error_of([&] { finetune_logic(net, d, f); }), "");
}
