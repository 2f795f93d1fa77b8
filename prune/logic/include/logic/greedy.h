// The magnitude-style greedy baseline the similarity pass is compared with: every gate is scored
// alone, on the original network — it is replaced by whichever of constant 0, constant 1, its
// input a, its input b (or their complements) is closest to it locally, and the score is how many
// output bits (sample x output) that changes, i.e. the L1 change of the group-sum class scores.
// Lowest score first; ties go to the smaller local change. The ranking goes to apply_to_budget.
#pragma once

#include <vector>

#include "logic/budget.h"

namespace prunesim::logic {

struct GreedyOptions {
  size_t max_words = 16;  // scoring samples: at most 64 x this many
};

std::vector<Merge> greedy_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                  const GreedyOptions& opt = {});

}  // namespace prunesim::logic
