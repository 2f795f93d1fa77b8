// The search checkpoint's reader (sim/dse/checkpoint.h): what the writer makes reads back to the
// same points, and a hand-edited or corrupt checkpoint is one InputError naming the point and the
// rule, never a conversion out of range or a decision vector outside the search space.
#include <gtest/gtest.h>

#include "base/errors.h"
#include "sim/dse/checkpoint.h"

using namespace prunesim;
using namespace prunesim::dse;

namespace {

const std::vector<int64_t> kUpper = {1, 9, 1, 9};  // two layers x 2 schemes x 10 sparsities

std::vector<Point> points() {
  std::vector<Point> v(2);
  v[0].x = {0, 0, 0, 0};
  v[0].row.ok = true;
  v[0].row.fidelity = 17.25;
  v[0].row.metric = "sndr_db";
  v[0].row.cycles = 123456;
  v[0].row.energy_j = 3.5e-9;
  v[1].x = {1, 9, 0, 4};
  v[1].generation = 3;
  v[1].part = "part 1";
  v[1].row.ok = false;
  v[1].row.error = "layer 'c1': 24 channels";
  return v;
}

std::string error_of(const std::string& text, const std::string& key = "k") {
  try {
    parse_checkpoint(text, "ck.json", key, kUpper);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// The writer's text with the first occurrence of `from` replaced by `to`.
std::string edited(const std::string& from, const std::string& to) {
  std::string t = checkpoint_text("k", 3, 2, points());
  const size_t at = t.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? t : t.replace(at, from.size(), to);
}

}  // namespace

TEST(Checkpoint, WhatTheWriterMakesReadsBackExactly) {
  const std::vector<Point> in = points();
  const std::vector<Point> out =
      parse_checkpoint(checkpoint_text("k", 3, 2, in), "ck", "k", kUpper);
  ASSERT_EQ(out.size(), in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(out[k].x, in[k].x);
    EXPECT_EQ(out[k].generation, in[k].generation);
    EXPECT_EQ(out[k].part, in[k].part);
    EXPECT_EQ(out[k].row.ok, in[k].row.ok);
    EXPECT_EQ(out[k].row.error, in[k].row.error);
    EXPECT_EQ(out[k].row.cycles, in[k].row.cycles);
    EXPECT_EQ(std::isnan(out[k].row.fidelity), std::isnan(in[k].row.fidelity));
    if (!std::isnan(in[k].row.fidelity)) EXPECT_EQ(out[k].row.fidelity, in[k].row.fidelity);
    if (!std::isnan(in[k].row.energy_j)) EXPECT_EQ(out[k].row.energy_j, in[k].row.energy_j);
  }
}

TEST(Checkpoint, HostileCheckpointsAreOneInputErrorNamingTheRule) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"format\":", "unreadable checkpoint: "},  // not JSON (truncated)
      {std::string(100, '[') + std::string(100, ']'), "nested more than"},
      {edited("\"version\":1", "\"version\":2"), "not a prunesim search checkpoint"},
      {edited("\"key\":\"k\"", "\"key\":\"other\""), "written by a different search"},
      {edited("[1,9,0,4]", "[1,10,0,4]"), "point 1: x[1] = 10 is outside [0, 9]"},
      {edited("[1,9,0,4]", "[1,9,0,-1]"), "point 1: x[3] = -1 is outside [0, 9]"},
      {edited("[1,9,0,4]", "[1,9,0]"), "point 1: decision vector of 3 entries, the search has 4"},
      {edited("[1,9,0,4]", "[0,0,0,0]"), "point 1: a decision vector recorded twice"},
      {edited("[1,9,0,4]", "[1,9.5,0,4]"), "point 1: 'x' holds a non-integer"},
      {edited("\"cycles\":123456", "\"cycles\":1e30"), "point 0: 'cycles' is not a 64-bit integer"},
      {edited("\"cycles\":123456", "\"cycles\":18446744073709551615"), "is not a 64-bit integer"},
      {edited("\"cycles\":123456", "\"cycles\":1e400"), "number overflow"},
      {edited("\"ok\":true", "\"ok\":1"), "point 0: 'ok' is not true/false"},
      {edited("\"metric\":\"sndr_db\"", "\"metric\":5"), "point 0: 'metric' is not a string"},
      {edited("\"generation\":3,\"latency_s\"", "\"latency_s\""), "point 1: missing 'generation'"},
      {edited("\"points\":[", "\"points\":{\"a\":[") + "}", "unreadable checkpoint: "},
  };
  for (const auto& [text, want] : cases) {
    const std::string e = error_of(text);
    EXPECT_NE(e.find("--resume ck.json: "), std::string::npos) << e;
    EXPECT_NE(e.find(want), std::string::npos) << "want '" << want << "' in: " << e;
  }
}
