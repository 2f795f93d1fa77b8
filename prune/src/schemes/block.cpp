// `block`: the weight matrix [output channels, reduction] is tiled into blocks of --block R,C;
// whole blocks are kept or dropped by their mean-square norm (mean, so clipped edge blocks
// compete fairly), removing round(s · blocks) per layer.
#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

namespace prunesim {
namespace {

class Block : public Scheme {
 public:
  std::string description() const override {
    return "drop whole blocks (--block R,C over [out channels, reduction]) by block norm";
  }
  std::vector<ParamSpec> params() const override {
    return {int_list_param("block", {1, 4}, 1, 65536, "weights",
                           "block shape R,C over [out channels, reduction]")};
  }
  SchemeTraits traits() const override { return {false, true}; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    check_sparsity(o.sparsity);
    const std::vector<int64_t> block = o.params.list("block");
    if (block.size() != 2 || block[0] < 1 || block[1] < 1)
      throw InputError("--block: expected two positive sizes R,C");
    const int64_t br = block[0], bc = block[1];
    SchemeResult r;
    for (const auto& l : select_layers(g, layers)) {
      const Tensor& w = g.init(l.weight);
      const int64_t nbr = (l.rows + br - 1) / br, nbc = (l.cols + bc - 1) / bc;
      std::vector<double> score(static_cast<size_t>(nbr * nbc), 0.0);
      for (int64_t row = 0; row < l.rows; ++row)
        for (int64_t col = 0; col < l.cols; ++col) {
          const double v = w.f[static_cast<size_t>(l.index(row, col))];
          score[static_cast<size_t>((row / br) * nbc + col / bc)] += v * v;
        }
      for (int64_t b = 0; b < nbr * nbc; ++b) {
        const int64_t h = std::min(br, l.rows - (b / nbc) * br),
                      wd = std::min(bc, l.cols - (b % nbc) * bc);
        score[static_cast<size_t>(b)] /= static_cast<double>(h * wd);
      }
      std::vector<uint8_t> keep_block(score.size(), 0);
      for (size_t b :
           detail::top_k(score, static_cast<size_t>(detail::kept_count(nbr * nbc, o.sparsity))))
        keep_block[b] = 1;
      auto& m = r.masks[l.weight];
      m.assign(w.f.size(), 0);
      for (int64_t row = 0; row < l.rows; ++row)
        for (int64_t col = 0; col < l.cols; ++col)
          m[static_cast<size_t>(l.index(row, col))] =
              keep_block[static_cast<size_t>((row / br) * nbc + col / bc)];
      r.notes["layers"][l.node]["block"] = {{"rows", br}, {"cols", bc}, {"blocks", nbr * nbc}};
    }
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("block", Block);
}  // namespace prunesim
