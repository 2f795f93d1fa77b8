// Similarity-based data-driven pruning (after Kresse, Yu, Lampert, "Scalable Interconnect
// Learning in Boolean Networks"; the exact criterion is not published in the abstract, this is
// ours): on data, every gate's candidates are the earlier signals whose output bit-vectors nearly
// agree with it — small Hamming distance, either polarity — and the constants. Two ways to pick
// and rank among them (SimilarityScore): by the distance alone (`hamming`), or by the output bits
// each candidate changes through the gate's fan-out cone, the distance breaking ties (`outputs`,
// the default). The ranking goes to apply_to_budget (budget.h).
#pragma once

#include <vector>

#include "logic/budget.h"

namespace prunesim::logic {

enum class SimilarityScore { hamming, outputs };

struct SimilarityOptions {
  size_t screen_words = 8;  // words (x 64 samples) used to screen all earlier signals
  size_t keep = 8;          // screened candidates re-scored on every sample
  SimilarityScore score = SimilarityScore::outputs;
  size_t output_words = 16;  // `outputs`: samples (x 64) the output change is counted on
};

// Every gate's best merge, best first. `hamming`: score = disagreeing samples / samples;
// `outputs`: score = output bits changed + distance / (samples + 1). `inputs` are the encoded
// samples (rows == n.inputs), `samples` of them valid.
std::vector<Merge> similarity_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                      const SimilarityOptions& opt = {});

}  // namespace prunesim::logic
