// The bit-parallel evaluator against a naive per-sample evaluation with logic::apply on random
// netlists: the thermometer bits, every signal, the group-sum counts and the classes, for sample
// counts that end inside a word and inside a block, with the AVX2 and the portable kernel.
#include <gtest/gtest.h>

#include <random>

#include "base/errors.h"
#include "logic/eval.h"
#include "logic_test_nets.h"

using namespace prunesim;
using namespace prunesim::logic;

namespace {

// Every signal of one sample, straight from the definitions in netlist.h.
std::vector<bool> naive_signals(const Netlist& n, const float* x) {
  std::vector<bool> v;
  for (size_t f = 0; f < n.encoder.thresholds.size(); ++f)
    for (float t : n.encoder.thresholds[f]) v.push_back(x[f] > t);
  for (const Gate& g : n.gates) v.push_back(apply(g.tt, v[g.a], v[g.b]));
  return v;
}

std::vector<uint32_t> naive_counts(const Netlist& n, const std::vector<bool>& v) {
  std::vector<uint32_t> c(n.classes, 0);
  for (size_t k = 0; k < n.outputs.size(); ++k)
    c[k / n.per_class()] += v[n.outputs[k]] != static_cast<bool>(n.out_negate[k]);
  return c;
}

bool bit(const BitMatrix& m, uint32_t row, size_t s) {
  return (m.row(row)[s / 64] >> (s % 64)) & 1;
}

void check_network(uint64_t seed, uint32_t gates, size_t samples, uint32_t per_class = 5) {
  std::mt19937_64 rng(seed);
  const Netlist n = test_nets::random_netlist(rng, 9, gates, 4, per_class);
  validate(n, "test");
  const std::vector<float> x = test_nets::random_features(rng, n, samples);
  const size_t F = n.encoder.thresholds.size();
  const BitMatrix in = encode(n.encoder, x.data(), samples, F);
  const BitMatrix all = simulate_all(n, in);
  const BitMatrix outs = simulate_outputs(n, in);
  const std::vector<uint32_t> counts = class_counts(n, in, samples);
  const std::vector<int32_t> cls = classify(n, in, samples);
  ASSERT_EQ(counts.size(), samples * n.classes);
  for (size_t s = 0; s < samples; ++s) {
    const std::vector<bool> v = naive_signals(n, x.data() + s * F);
    for (uint32_t r = 0; r < n.signals(); ++r)
      ASSERT_EQ(bit(all, r, s), v[r]) << "signal " << r << " sample " << s;
    for (uint32_t k = 0; k < n.outputs.size(); ++k)
      ASSERT_EQ(bit(outs, k, s), v[n.outputs[k]] != static_cast<bool>(n.out_negate[k]));
    const std::vector<uint32_t> c = naive_counts(n, v);
    int32_t best = 0;
    for (uint32_t k = 0; k < n.classes; ++k) {
      ASSERT_EQ(counts[s * n.classes + k], c[k]) << "sample " << s << " class " << k;
      if (c[k] > c[best]) best = static_cast<int32_t>(k);
    }
    ASSERT_EQ(cls[s], best) << "sample " << s;
  }
}

}  // namespace

TEST(LogicEval, BitParallelEqualsNaivePerSample) {
  for (size_t samples : {1, 63, 64, 65, 511, 512, 513, 1300}) check_network(samples, 300, samples);
}

// Groups of 16 and more go through the carry-save adders, the rest through the ripple counter.
TEST(LogicEval, LargeGroupSumsCountExactly) {
  for (uint32_t per : {15, 16, 17, 37, 300}) check_network(per, 400, 700, per);
}

TEST(LogicEval, PortableKernelEqualsAvx2) {
  eval_allow_avx2(false);
  EXPECT_FALSE(eval_uses_avx2());
  check_network(7, 500, 777, 40);
  eval_allow_avx2(true);
  check_network(7, 500, 777, 40);
}

TEST(LogicEval, AccuracyCountsMatches) {
  std::mt19937_64 rng(3);
  const Netlist n = test_nets::random_netlist(rng, 6, 200, 3, 4);
  const std::vector<float> x = test_nets::random_features(rng, n, 200);
  const BitMatrix in = encode(n.encoder, x.data(), 200, 6);
  const std::vector<int32_t> cls = classify(n, in, 200);
  std::vector<int64_t> labels(200);
  size_t hit = 0;
  for (size_t s = 0; s < 200; ++s) {
    labels[s] = s % 2 ? cls[s] : (cls[s] + 1) % 3;  // half right by construction
    hit += labels[s] == cls[s];
  }
  EXPECT_EQ(hit, 100u);
  EXPECT_DOUBLE_EQ(accuracy(n, in, labels.data(), 200), 0.5);
}

TEST(LogicEval, GateWordIsTheTruthTable) {
  for (int tt = 0; tt < 16; ++tt)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const uint64_t w = gate_word(static_cast<TruthTable>(tt), a ? ~0ull : 0, b ? ~0ull : 0);
        EXPECT_EQ(w, apply(static_cast<TruthTable>(tt), a, b) ? ~0ull : 0ull);
      }
}

TEST(LogicEval, WrongFeatureCountIsAnInputError) {
  std::mt19937_64 rng(1);
  const Netlist n = test_nets::random_netlist(rng, 5, 20, 2, 2);
  std::vector<float> x(4 * 3);
  EXPECT_THROW(encode(n.encoder, x.data(), 4, 3), InputError);
}
