// `nm`: keep N of every M consecutive weights along the reduction (input-channel) axis of each
// output channel, the largest |w| in each group. A tail group shorter than M (reduction not a
// multiple of M) keeps min(N, its length) — it still never holds more than N.
#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

#include <algorithm>
#include <cmath>

namespace prunesim {

void nm_for_sparsity(double s, int64_t* n, int64_t* m) {
  double best = 2;
  for (int64_t mm : {4, 8}) {
    const int64_t nn = std::clamp<int64_t>(std::llround((1 - s) * mm), 1, mm);
    const double err = std::fabs(1.0 - static_cast<double>(nn) / mm - s);
    if (err < best - 1e-12) best = err, *n = nn, *m = mm;
  }
}

namespace {

class NM : public Scheme {
 public:
  std::string name() const override { return "nm"; }
  std::string description() const override {
    return "keep N of every M consecutive weights along the reduction axis (--n, --m)";
  }
  SchemeResult apply(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                     const PruneData&) const override {
    if (o.m < 1 || o.n < 0 || o.n > o.m)
      throw InputError("--n/--m: keep " + std::to_string(o.n) + " of " + std::to_string(o.m) +
                       " is not valid (need 0 <= N <= M, M >= 1)");
    SchemeResult r;
    for (const auto& l : select_layers(g, layers)) {
      const Tensor& w = g.init(l.weight);
      auto& m = r.masks[l.weight];
      m.assign(w.f.size(), 0);
      for (int64_t row = 0; row < l.rows; ++row)
        for (int64_t c0 = 0; c0 < l.cols; c0 += o.m) {
          const int64_t len = std::min(o.m, l.cols - c0);
          std::vector<double> score(static_cast<size_t>(len));
          for (int64_t j = 0; j < len; ++j)
            score[static_cast<size_t>(j)] =
                std::fabs(w.f[static_cast<size_t>(l.index(row, c0 + j))]);
          for (size_t j : detail::top_k(score, static_cast<size_t>(std::min(o.n, len))))
            m[static_cast<size_t>(l.index(row, c0 + static_cast<int64_t>(j)))] = 1;
        }
      r.notes["layers"][l.node]["nm"] = {{"n", o.n}, {"m", o.m}};
    }
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("nm", NM);
}  // namespace prunesim
