// `magnitude`: unstructured L1 pruning. Layer-wise, each layer loses exactly round(s·n) of its
// smallest |w|; with --global one ranking over all selected layers, so layers that hold many
// small weights lose more (the classic global magnitude baseline).
#include <algorithm>
#include <functional>

#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

namespace prunesim {
namespace {

// Marks the `keep` largest |w| over the concatenation of `ws` (ties: earlier first). O(n): one
// nth_element for the threshold, one pass to mark — this is the hot path of global pruning of
// tens of millions of weights.
void keep_largest(const std::vector<const std::vector<float>*>& ws, int64_t keep,
                  std::vector<std::vector<uint8_t>*> masks) {
  size_t total = 0;
  for (auto* w : ws) total += w->size();
  for (size_t i = 0; i < ws.size(); ++i) masks[i]->assign(ws[i]->size(), 0);
  if (keep <= 0) return;
  if (static_cast<size_t>(keep) >= total) {
    for (auto* m : masks) std::fill(m->begin(), m->end(), 1);
    return;
  }
  std::vector<float> mag;
  mag.reserve(total);
  for (auto* w : ws)
    for (float v : *w) mag.push_back(std::fabs(v));
  const size_t kth = static_cast<size_t>(keep) - 1;
  std::nth_element(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(kth), mag.end(),
                   std::greater<float>());
  const float t = mag[kth];
  int64_t above = 0;
  for (auto* w : ws)
    for (float v : *w) above += std::fabs(v) > t;
  int64_t ties = keep - above;  // how many weights equal to the threshold survive
  for (size_t i = 0; i < ws.size(); ++i) {
    const auto& w = *ws[i];
    auto& m = *masks[i];
    for (size_t k = 0; k < w.size(); ++k) {
      const float a = std::fabs(w[k]);
      if (a > t || (a == t && ties-- > 0)) m[k] = 1;
    }
  }
}

class Magnitude : public Scheme {
 public:
  std::string description() const override {
    return "unstructured L1 magnitude pruning, layer-wise or --global";
  }
  std::vector<ParamSpec> params() const override {
    return {bool_param("global", false, "one ranking over all selected layers")};
  }
  SchemeTraits traits() const override { return {false, true}; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    check_sparsity(o.sparsity);
    const bool global = o.params.b("global");
    SchemeResult r;
    auto sel = select_layers(g, layers);
    std::vector<const std::vector<float>*> ws;
    std::vector<std::vector<uint8_t>*> ms;
    int64_t total = 0;
    for (const auto& l : sel) {
      ws.push_back(&g.init(l.weight).f);
      ms.push_back(&r.masks[l.weight]);
      total += g.init(l.weight).size();
      if (!global) {
        keep_largest({ws.back()}, detail::kept_count(g.init(l.weight).size(), o.sparsity),
                     {ms.back()});
      }
    }
    if (global) keep_largest(ws, detail::kept_count(total, o.sparsity), ms);
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("magnitude", Magnitude);
}  // namespace prunesim
