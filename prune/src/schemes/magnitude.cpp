// `magnitude`: unstructured L1 pruning. Layer-wise, each layer loses exactly round(s·n) of its
// smallest |w|; with --global one ranking over all selected layers, so layers that hold many
// small weights lose more (the classic global magnitude baseline).
#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

namespace prunesim {
namespace {

class Magnitude : public Scheme {
 public:
  std::string name() const override { return "magnitude"; }
  std::string description() const override {
    return "unstructured L1 magnitude pruning, layer-wise or --global";
  }
  SchemeResult apply(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                     const PruneData&) const override {
    check_sparsity(o.sparsity);
    SchemeResult r;
    auto sel = select_layers(g, layers);
    if (!o.global) {
      for (const auto& l : sel) {
        const Tensor& w = g.init(l.weight);
        std::vector<double> score(w.f.size());
        for (size_t k = 0; k < score.size(); ++k) score[k] = std::fabs(w.f[k]);
        auto& m = r.masks[l.weight];
        m.assign(score.size(), 0);
        for (size_t k :
             detail::top_k(score, static_cast<size_t>(detail::kept_count(w.size(), o.sparsity))))
          m[k] = 1;
      }
    } else {
      std::vector<double> score;
      std::vector<std::pair<std::string, size_t>> where;
      for (const auto& l : sel) {
        const Tensor& w = g.init(l.weight);
        for (size_t k = 0; k < w.f.size(); ++k) {
          score.push_back(std::fabs(w.f[k]));
          where.emplace_back(l.weight, k);
        }
        r.masks[l.weight].assign(w.f.size(), 0);
      }
      const auto keep = detail::top_k(score, static_cast<size_t>(detail::kept_count(
                                                 static_cast<int64_t>(score.size()), o.sparsity)));
      for (size_t k : keep) r.masks[where[k].first][where[k].second] = 1;
    }
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("magnitude", Magnitude);
}  // namespace prunesim
