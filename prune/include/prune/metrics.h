// Fidelity metrics shared by `eval`, the sweeps and the tests. Definitions are fixed here and in
// docs/metrics.md so that the Python zoo scripts and the C++ report the same numbers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "prune/ir.h"

namespace prunesim {

// Fraction of rows of `logits` [N, K] whose argmax equals `labels` [N] (integer class ids).
double top1(const Tensor& logits, const Tensor& labels);
// SNDR (dB) = 10 log10( Σ x² / Σ (x − x̂)² ) over every element.
double sndr_db(const Tensor& ref, const Tensor& est);
// R² = 1 − Σ (x − x̂)² / Σ (x − mean_c)², mean_c the mean of channel c (dimension 1) over all
// samples and positions.
double r2_score(const Tensor& ref, const Tensor& est);

// Segmentation, from class maps `pred` [N, ...] (class id per pixel, float or int codes) against
// `labels` [N', ...] of the same per-frame size (frame f is scored against labels f mod N', so
// one labelled frame can score a stream of it). Pixels labelled `ignore` (HSI-Drive's 0 =
// unlabelled) count for nothing. mIoU is the mean IoU over the classes other than `ignore` that
// occur in the labels or the predictions of scored pixels.
double miou(const Tensor& pred, const Tensor& labels, int64_t ignore = 0);
double pixel_accuracy(const Tensor& pred, const Tensor& labels, int64_t ignore = 0);
// The class map of per-pixel logits [N, C, ...]: argmax over dimension 1, as [N, ...] floats.
Tensor argmax_classes(const Tensor& logits);

// The fidelity of a model output against `ref`, by the reference's shape: class ids [N] ->
// {"top1"}; class ids per pixel (one dimension fewer than `out`, 0 = unlabelled) -> {"miou",
// "pixel_accuracy"}; a tensor shaped like `out` -> {"sndr_db", "r2"}. The first entry is the
// headline metric (what sweeps and sensitivity rank by). Fractions, not percent; SNDR in dB.
std::vector<std::pair<std::string, double>> score(const Tensor& out, const Tensor& ref);

}  // namespace prunesim
