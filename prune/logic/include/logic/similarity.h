// Similarity-based data-driven pruning (after Kresse, Yu, Lampert, "Scalable Interconnect
// Learning in Boolean Networks"; the exact criterion is not published in the abstract, this is
// ours): on data, a gate whose output bit-vector nearly agrees — small Hamming distance — with an
// earlier signal, that signal's complement or a constant is merged into it, most similar first.
// The ranking goes to apply_to_budget (budget.h).
#pragma once

#include <vector>

#include "logic/budget.h"

namespace prunesim::logic {

struct SimilarityOptions {
  size_t screen_words = 8;  // words (x 64 samples) used to screen all earlier signals
  size_t keep = 8;          // screened candidates re-scored on every sample
};

// Every gate's best merge (score = disagreeing samples / samples), most similar first.
// `inputs` are the encoded samples (rows == n.inputs), `samples` of them valid.
std::vector<Merge> similarity_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                      const SimilarityOptions& opt = {});

}  // namespace prunesim::logic
