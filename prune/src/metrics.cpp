#include "prune/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

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

namespace {

int64_t code_at(const Tensor& t, size_t k) {
  return t.f.empty() ? t.i[k] : static_cast<int64_t>(t.f[k]);
}

// Per-class intersection and union counts over scored pixels, and the correct/scored totals.
struct SegCounts {
  std::vector<int64_t> inter, uni;
  int64_t hit = 0, scored = 0;
};

SegCounts seg_counts(const Tensor& pred, const Tensor& labels, int64_t ignore) {
  const int64_t n = pred.shape.empty() ? 0 : pred.shape[0];
  const int64_t nl = labels.shape.empty() ? 0 : labels.shape[0];
  if (n == 0 || nl == 0 || pred.size() / n != labels.size() / nl)
    throw std::invalid_argument("miou: size mismatch");
  const int64_t per = pred.size() / n;
  SegCounts c;
  for (int64_t f = 0; f < n; ++f)
    for (int64_t k = 0; k < per; ++k) {
      const int64_t t = code_at(labels, static_cast<size_t>((f % nl) * per + k));
      if (t == ignore) continue;
      const int64_t p = code_at(pred, static_cast<size_t>(f * per + k));
      const int64_t top = std::max(t, p) + 1;
      if (top > static_cast<int64_t>(c.inter.size())) {
        c.inter.resize(static_cast<size_t>(top), 0);
        c.uni.resize(static_cast<size_t>(top), 0);
      }
      ++c.scored;
      if (p == t) {
        ++c.hit;
        ++c.inter[static_cast<size_t>(t)];
        ++c.uni[static_cast<size_t>(t)];
      } else {
        if (t >= 0) ++c.uni[static_cast<size_t>(t)];
        if (p >= 0 && p != ignore) ++c.uni[static_cast<size_t>(p)];
      }
    }
  return c;
}

}  // namespace

double miou(const Tensor& pred, const Tensor& labels, int64_t ignore) {
  const SegCounts c = seg_counts(pred, labels, ignore);
  double s = 0;
  int n = 0;
  for (size_t k = 0; k < c.uni.size(); ++k)
    if (static_cast<int64_t>(k) != ignore && c.uni[k] > 0) {
      s += static_cast<double>(c.inter[k]) / static_cast<double>(c.uni[k]);
      ++n;
    }
  return n ? s / n : 0.0;
}

double pixel_accuracy(const Tensor& pred, const Tensor& labels, int64_t ignore) {
  const SegCounts c = seg_counts(pred, labels, ignore);
  return c.scored ? static_cast<double>(c.hit) / static_cast<double>(c.scored) : 0.0;
}

Tensor argmax_classes(const Tensor& logits) {
  if (logits.shape.size() < 2) throw std::invalid_argument("argmax_classes: needs [N, C, ...]");
  const int64_t n = logits.shape[0], C = logits.shape[1];
  const int64_t per = logits.size() / (n * C);
  Shape s = logits.shape;
  s.erase(s.begin() + 1);
  Tensor out(s, std::vector<float>(static_cast<size_t>(n * per)));
  for (int64_t f = 0; f < n; ++f)
    for (int64_t k = 0; k < per; ++k) {
      int64_t best = 0;
      float bv = logits.f[static_cast<size_t>(f * C * per + k)];
      for (int64_t c = 1; c < C; ++c) {
        const float v = logits.f[static_cast<size_t>((f * C + c) * per + k)];
        if (v > bv) bv = v, best = c;
      }
      out.f[static_cast<size_t>(f * per + k)] = static_cast<float>(best);
    }
  return out;
}

std::vector<std::pair<std::string, double>> score(const Tensor& out, const Tensor& ref) {
  if (ref.shape.size() == 1) return {{"top1", top1(out, ref)}};
  if (ref.shape.size() + 1 == out.shape.size()) {
    const Tensor cls = argmax_classes(out);
    return {{"miou", miou(cls, ref, 0)}, {"pixel_accuracy", pixel_accuracy(cls, ref, 0)}};
  }
  return {{"sndr_db", sndr_db(ref, out)}, {"r2", r2_score(ref, out)}};
}

}  // namespace prunesim
