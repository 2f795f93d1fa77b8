// `balanced`: hardware-aware balanced stochastic pruning (docs/references.md §1, the RAMAN CAE
// paper). Every group (PE, column) of a layer keeps exactly k weights, so every PE does the same
// number of MACs for each broadcast input activation. Which slots survive is drawn at random with
// probability growing with |w|^p; nothing per weight is stored:
//  - variant "pattern": one kept-slot pattern per (cluster, column), shared by the PEs of the
//    cluster; slot j's weight is Σ over the cluster's PEs of (|w|/max|w|)^p, and k slots are
//    drawn without replacement (Efraimidis–Spirakis keys log(u)/weight). p = inf takes the k
//    heaviest slots (balanced magnitude pruning).
//  - variant "lfsr": the kept slots are regenerated in hardware by a 16-bit LFSR from a seed;
//    the scheme tries `kLfsrCandidates` seeds derived from --seed and keeps the one whose
//    pattern retains the most Σ(|w|/max)^p (p = inf scored as p = 2), so magnitude still matters
//    while only the seed is stored.
#include <cmath>
#include <functional>
#include <limits>

#include "prune/balanced.h"
#include "prune/errors.h"
#include "prune/pruning.h"
#include "scheme_util.h"

namespace prunesim {
namespace {

constexpr int kLfsrCandidates = 256;

int64_t ceil_log2(int64_t v) {
  int64_t b = 0;
  while ((int64_t{1} << b) < v) ++b;
  return std::max<int64_t>(b, 1);
}

// The magnitude weight |w[row, col]| / max |w|, raised to a power.
using SlotWeight = std::function<double(int64_t row, int64_t col, double p)>;

// Pattern variant: per cluster and column, k slots drawn by weighted sampling without replacement
// (keys log(u) / s over the cluster's summed weight s), or the k largest sums when p = inf.
std::vector<uint8_t> pattern_slots(const BalancedGeometry& geo, int64_t k, double pexp,
                                   const SlotWeight& weight, detail::SplitMix64& rng) {
  const bool inf = std::isinf(pexp);
  std::vector<uint8_t> slot_mask(static_cast<size_t>(geo.cols * geo.pes * geo.slots), 0);
  for (int64_t c = 0; c < geo.cols; ++c)
    for (int64_t q = 0; q < geo.clusters(); ++q) {
      std::vector<double> key(static_cast<size_t>(geo.slots));
      for (int64_t j = 0; j < geo.slots; ++j) {
        double s = 0;
        for (int64_t p = q * geo.cluster; p < geo.cluster_end(q); ++p)
          s += weight(geo.row_of(p, j), c, inf ? 1.0 : pexp);
        const double u = rng.uniform();
        key[static_cast<size_t>(j)] =
            inf ? s : (s > 0 ? std::log(u) / s : -std::numeric_limits<double>::infinity());
      }
      for (size_t j : detail::top_k(key, static_cast<size_t>(k)))
        for (int64_t p = q * geo.cluster; p < geo.cluster_end(q); ++p)
          slot_mask[static_cast<size_t>((c * geo.pes + p) * geo.slots + static_cast<int64_t>(j))] =
              1;
    }
  return slot_mask;
}

// LFSR variant: of kLfsrCandidates seeds drawn from rng, the one whose pattern keeps the most
// weight (|w|^2 for p = inf).
std::vector<uint8_t> lfsr_slots(const BalancedGeometry& geo, int64_t k, double pexp,
                                const SlotWeight& weight, detail::SplitMix64& rng,
                                uint16_t* chosen_seed) {
  const bool inf = std::isinf(pexp);
  std::vector<uint8_t> slot_mask;
  double best = -1;
  for (int t = 0; t < kLfsrCandidates; ++t) {
    const uint16_t seed = static_cast<uint16_t>((rng.next() & 0xFFFFu) | 1u);
    auto m = lfsr_slot_mask(geo, k, seed);
    double kept = 0;
    for (int64_t c = 0; c < geo.cols; ++c)
      for (int64_t p = 0; p < geo.pes; ++p)
        for (int64_t j = 0; j < geo.slots; ++j)
          if (m[static_cast<size_t>((c * geo.pes + p) * geo.slots + j)])
            kept += weight(geo.row_of(p, j), c, inf ? 2.0 : pexp);
    if (kept > best) {
      best = kept;
      *chosen_seed = seed;
      slot_mask = std::move(m);
    }
  }
  return slot_mask;
}

class Balanced : public Scheme {
 public:
  std::string description() const override {
    return "hardware-aware balanced stochastic pruning: equal kept weights per PE group, "
           "index-free (--pes, --cluster, --p, --variant pattern|lfsr, --seed)";
  }
  std::vector<ParamSpec> params() const override {
    // The PE mapping has no range here: balanced_geometry refuses a count below 1 by its flag.
    ParamSpec pes = int_param("pes", 16, 1, 0, "PEs", "PE count of the target (at least 1)");
    ParamSpec cluster =
        int_param("cluster", 4, 1, 0, "PEs", "PEs per cluster sharing a pattern (at least 1)");
    ParamSpec p = real_param("p", 8.0, 0.0, std::numeric_limits<double>::infinity(), "1",
                             "magnitude exponent of the sampler (inf = balanced magnitude)");
    p.inf_ok = true;
    return {pes, cluster, p,
            choice_param("variant", "pattern", {"pattern", "lfsr"},
                         "pattern: one kept-slot pattern per cluster; lfsr: regenerated from a "
                         "seed")};
  }
  SchemeTraits traits() const override { return {false, true}; }
  std::string redraws(const ParamValues& p) const override {
    return p.s("variant") == "lfsr" ? "balanced lfsr" : "";
  }
  std::string options_label(const ParamValues& p) const override {
    return "pes=" + std::to_string(p.i("pes")) + " cluster=" + std::to_string(p.i("cluster"));
  }
  std::string shortfall_reason(const ParamValues&) const override {
    return "balanced keeps at least one weight in every PE group, so a layer with few rows per PE "
           "cannot reach the target";
  }

  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    check_sparsity(o.sparsity);
    const double pexp = o.params.d("p");
    const std::string variant = o.params.s("variant");
    PeMapping pe;
    pe.pes = o.params.i("pes");
    pe.cluster = o.params.i("cluster");
    if (!(pexp > 0)) throw InputError("--p: the magnitude exponent must be positive (or inf)");
    if (variant != "pattern" && variant != "lfsr")
      throw InputError("--variant: '" + variant + "' is not pattern or lfsr");
    SchemeResult r;
    detail::SplitMix64 rng(o.seed);
    int64_t tot_dense = 0, tot_csr = 0, tot_pattern = 0, tot_lfsr = 0, tot_values = 0;
    for (const auto& l : select_layers(g, layers)) {
      BalancedGeometry geo;
      try {
        geo = balanced_geometry(l, pe, o.sparsity);
      } catch (const InputError& e) {
        // The geometry does not know the model; the user must learn which file it is about.
        throw InputError(g.source + ": " + e.what());
      }
      const Tensor& w = g.init(l.weight);
      int64_t k = detail::kept_count(geo.slots, o.sparsity);
      nlohmann::json note;
      if (k < 1) {
        k = 1;  // a group must keep something, or the layer would vanish
        note["clamped"] = "groups of " + std::to_string(geo.slots) + " keep at least 1";
      }
      float wmax = 0.f;
      for (float v : w.f) wmax = std::max(wmax, std::fabs(v));
      const bool inf = std::isinf(pexp);
      auto weight = [&](int64_t row, int64_t col, double p) {
        const double a =
            wmax > 0 ? std::fabs(w.f[static_cast<size_t>(l.index(row, col))]) / wmax : 0.0;
        return std::pow(a, p);
      };
      uint16_t chosen_seed = 0;
      std::vector<uint8_t> slot_mask = variant == "pattern"
                                           ? pattern_slots(geo, k, pexp, weight, rng)
                                           : lfsr_slots(geo, k, pexp, weight, rng, &chosen_seed);
      auto& mask = r.masks[l.weight];
      mask.assign(w.f.size(), 0);
      for (int64_t c = 0; c < geo.cols; ++c)
        for (int64_t p = 0; p < geo.pes; ++p)
          for (int64_t j = 0; j < geo.slots; ++j)
            if (slot_mask[static_cast<size_t>((c * geo.pes + p) * geo.slots + j)])
              mask[static_cast<size_t>(l.index(geo.row_of(p, j), c))] = 1;

      // Storage in bits (8-bit values): dense; CSR with ceil(log2 cols)-bit column indices and
      // 32-bit row pointers; balanced pattern (one slot bitmap per cluster and column); LFSR
      // (a 16-bit seed and a 16-bit k per layer).
      const int64_t kept = geo.cols * geo.pes * k, values = kept * 8;
      const int64_t dense = w.size() * 8;
      const int64_t csr = values + kept * ceil_log2(l.cols) + (l.rows + 1) * 32;
      const int64_t pattern = values + geo.clusters() * geo.cols * geo.slots;
      const int64_t lfsr = values + 32;
      note["balanced"] = {
          {"pes", geo.pes},     {"cluster", geo.cluster}, {"slots", geo.slots},  {"k", k},
          {"variant", variant}, {"p", inf ? -1.0 : pexp}, {"idle_pes", geo.idle}};
      if (variant == "lfsr") note["balanced"]["seed"] = chosen_seed;
      note["storage_bits"] = {
          {"dense", dense}, {"csr", csr}, {"balanced_pattern", pattern}, {"balanced_lfsr", lfsr}};
      r.notes["layers"][l.node] = note;
      tot_dense += dense;
      tot_csr += csr;
      tot_pattern += pattern;
      tot_lfsr += lfsr;
      tot_values += values;
    }
    const int64_t mine = variant == "lfsr" ? tot_lfsr : tot_pattern;
    r.notes["storage_bits"] = {{"dense", tot_dense},
                               {"csr", tot_csr},
                               {"balanced_pattern", tot_pattern},
                               {"balanced_lfsr", tot_lfsr},
                               {"values", tot_values}};
    if (tot_dense > 0)
      r.notes["storage_saving"] = {
          {"vs_dense", 1.0 - static_cast<double>(mine) / static_cast<double>(tot_dense)},
          {"vs_csr", 1.0 - static_cast<double>(mine) / static_cast<double>(tot_csr)}};
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("balanced", Balanced);
}  // namespace prunesim
