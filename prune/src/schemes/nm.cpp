// `nm`: keep N of every M consecutive weights along the reduction (input-channel) axis of each
// output channel, the largest |w| in each group. A tail group shorter than M (reduction not a
// multiple of M) keeps min(N, its length) — it still never holds more than N.
#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  std::string description() const override {
    return "keep N of every M consecutive weights along the reduction axis (--n, --m)";
  }
  std::vector<ParamSpec> params() const override {
    return {int_param("n", 2, 0, 65536, "weights", "keep N ..."),
            int_param("m", 4, 1, 65536, "weights", "... of every M consecutive weights")};
  }
  void check(const ParamValues& p) const override {
    if (p.i("n") > p.i("m"))
      throw InputError("keep " + std::to_string(p.i("n")) + " of " + std::to_string(p.i("m")) +
                       ": N > M (needs N <= M)");
  }
  std::string options_label(const ParamValues& p) const override {
    return "n:m=" + std::to_string(p.i("n")) + ":" + std::to_string(p.i("m"));
  }
  // N:M has no free sparsity: a requested one picks the nearest pattern.
  std::vector<std::string> params_for_sparsity(double s, ParamValues* p,
                                               std::string* note) const override {
    int64_t n = 0, m = 0;
    nm_for_sparsity(s, &n, &m);
    p->set("n", n);
    p->set("m", m);
    char b[128];
    std::snprintf(b, sizeof b, "%lld:%lld (%.1f %% of the weights removed)",
                  static_cast<long long>(n), static_cast<long long>(m),
                  100.0 * (1.0 - static_cast<double>(n) / static_cast<double>(m)));
    *note = b;
    return {"n", "m"};
  }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    const int64_t n = o.params.i("n"), m = o.params.i("m");
    if (m < 1 || n < 0 || n > m)
      throw InputError("--n/--m: keep " + std::to_string(n) + " of " + std::to_string(m) +
                       " is not valid (need 0 <= N <= M, M >= 1)");
    SchemeResult r;
    for (const auto& l : select_layers(g, layers)) {
      const Tensor& w = g.init(l.weight);
      auto& mask = r.masks[l.weight];
      mask.assign(w.f.size(), 0);
      for (int64_t row = 0; row < l.rows; ++row)
        for (int64_t c0 = 0; c0 < l.cols; c0 += m) {
          const int64_t len = std::min(m, l.cols - c0);
          std::vector<double> score(static_cast<size_t>(len));
          for (int64_t j = 0; j < len; ++j)
            score[static_cast<size_t>(j)] =
                std::fabs(w.f[static_cast<size_t>(l.index(row, c0 + j))]);
          for (size_t j : detail::top_k(score, static_cast<size_t>(std::min(n, len))))
            mask[static_cast<size_t>(l.index(row, c0 + static_cast<int64_t>(j)))] = 1;
        }
      r.notes["layers"][l.node]["nm"] = {{"n", n}, {"m", m}};
    }
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("nm", NM);
}  // namespace prunesim
