// `random`: each layer loses exactly round(s·n) weights chosen uniformly with a seeded PRNG —
// the control every structured scheme should beat.
#include "prune/pruning.h"
#include "scheme_util.h"

namespace prunesim {
namespace {

class Random : public Scheme {
 public:
  std::string description() const override { return "seeded uniform random unstructured pruning"; }
  SchemeTraits traits() const override { return {false, true}; }
  std::string redraws(const ParamValues&) const override { return "random"; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    check_sparsity(o.sparsity);
    SchemeResult r;
    detail::SplitMix64 rng(o.seed);
    for (const auto& l : select_layers(g, layers)) {
      const Tensor& w = g.init(l.weight);
      std::vector<double> score(w.f.size());
      for (auto& s : score) s = rng.uniform();
      auto& m = r.masks[l.weight];
      m.assign(score.size(), 0);
      for (size_t k :
           detail::top_k(score, static_cast<size_t>(detail::kept_count(w.size(), o.sparsity))))
        m[k] = 1;
    }
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("random", Random);
}  // namespace prunesim
