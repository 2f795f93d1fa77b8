// Fidelity metrics shared by `eval`, the sweeps and the tests. Definitions are fixed here and in
// docs/metrics.md so that the Python zoo scripts and the C++ report the same numbers.
#pragma once

#include "prune/ir.h"

namespace prunesim {

// Fraction of rows of `logits` [N, K] whose argmax equals `labels` [N] (integer class ids).
double top1(const Tensor& logits, const Tensor& labels);
// SNDR (dB) = 10 log10( Σ x² / Σ (x − x̂)² ) over every element.
double sndr_db(const Tensor& ref, const Tensor& est);
// R² = 1 − Σ (x − x̂)² / Σ (x − mean_c)², mean_c the mean of channel c (dimension 1) over all
// samples and positions.
double r2_score(const Tensor& ref, const Tensor& est);

}  // namespace prunesim
