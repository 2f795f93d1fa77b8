#include "prune/metrics.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace prunesim {

double top1(const Tensor& logits, const Tensor& labels) {
  const int64_t n = logits.shape.empty() ? 0 : logits.shape[0];
  if (n == 0 || labels.size() != n) throw std::invalid_argument("top1: size mismatch");
  const int64_t k = logits.size() / n;
  int64_t hit = 0;
  for (int64_t r = 0; r < n; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < k; ++c)
      if (logits.f[static_cast<size_t>(r * k + c)] > logits.f[static_cast<size_t>(r * k + best)])
        best = c;
    const int64_t want = labels.f.empty() ? labels.i[static_cast<size_t>(r)]
                                          : static_cast<int64_t>(labels.f[static_cast<size_t>(r)]);
    hit += best == want;
  }
  return static_cast<double>(hit) / static_cast<double>(n);
}

double sndr_db(const Tensor& ref, const Tensor& est) {
  if (ref.f.size() != est.f.size()) throw std::invalid_argument("sndr: size mismatch");
  double sig = 0, err = 0;
  for (size_t k = 0; k < ref.f.size(); ++k) {
    const double d = static_cast<double>(ref.f[k]) - est.f[k];
    sig += static_cast<double>(ref.f[k]) * ref.f[k];
    err += d * d;
  }
  if (err == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sig / err);
}

double r2_score(const Tensor& ref, const Tensor& est) {
  if (ref.f.size() != est.f.size() || ref.shape.size() < 2)
    throw std::invalid_argument("r2: size mismatch");
  const int64_t N = ref.shape[0], C = ref.shape[1], inner = ref.size() / (N * C);
  std::vector<double> mean(static_cast<size_t>(C), 0.0);
  for (int64_t k = 0; k < ref.size(); ++k)
    mean[static_cast<size_t>((k / inner) % C)] += ref.f[static_cast<size_t>(k)];
  for (auto& m : mean) m /= static_cast<double>(N * inner);
  double res = 0, tot = 0;
  for (int64_t k = 0; k < ref.size(); ++k) {
    const double x = ref.f[static_cast<size_t>(k)];
    const double d = x - est.f[static_cast<size_t>(k)],
                 t = x - mean[static_cast<size_t>((k / inner) % C)];
    res += d * d;
    tot += t * t;
  }
  return 1.0 - res / tot;
}

}  // namespace prunesim
