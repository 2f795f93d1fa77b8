#include "prune/balanced.h"

#include <algorithm>

#include <cmath>

#include "prune/errors.h"
#include "schemes/scheme_util.h"

namespace prunesim {

BalancedGeometry balanced_geometry(const PrunableLayer& l, const PeMapping& pe, double sparsity) {
  if (pe.pes < 1) throw InputError("--pes: must be at least 1");
  if (pe.cluster < 1) throw InputError("--cluster: must be at least 1");
  if (l.rows < 1) throw InputError("layer '" + l.node + "': no output channels");
  BalancedGeometry g;
  g.rows = l.rows;
  g.cols = l.cols;
  // P' by the rule of prune/balanced.h: fewest cycles, then the sparsity nearest the target,
  // then the most PEs (divisors are visited from the largest, so a tie keeps the first).
  const int64_t avail = std::min<int64_t>(pe.pes, l.rows);
  int64_t best_k = -1;
  double best_gap = 0;
  for (int64_t d = avail; d >= 1; --d) {
    if (l.rows % d != 0) continue;
    if (sparsity < 0 || d == avail) {
      g.pes = d;
      break;
    }
    const int64_t slots = l.rows / d;
    const int64_t k = std::max<int64_t>(1, detail::kept_count(slots, sparsity));
    const double gap =
        std::fabs(1.0 - static_cast<double>(k) / static_cast<double>(slots) - sparsity);
    if (best_k < 0 || k < best_k || (k == best_k && gap < best_gap - 1e-12)) {
      best_k = k;
      best_gap = gap;
      g.pes = d;
    }
  }
  g.idle = avail - g.pes;
  g.cluster = std::min<int64_t>(pe.cluster, g.pes);
  g.slots = l.rows / g.pes;
  return g;
}

bool balanced_pes_valid(int64_t rows, int64_t pes_asked, int64_t pes_used) {
  const int64_t avail = std::min(pes_asked, rows);
  if (pes_used < 1 || avail < 1 || rows % pes_used != 0) return false;
  // Where the array divides the channels the pruner uses all of it, so a table made for another
  // PE count is refused rather than run on part of a bigger array.
  return rows % avail == 0 ? pes_used == avail : pes_used < avail;
}

std::vector<uint8_t> lfsr_slot_mask(const BalancedGeometry& geo, int64_t k, uint16_t seed) {
  if (seed == 0) throw InputError("balanced lfsr: the seed must be non-zero");
  std::vector<uint8_t> mask(static_cast<size_t>(geo.cols * geo.pes * geo.slots), 0);
  uint16_t x = seed;
  for (int64_t c = 0; c < geo.cols; ++c)
    for (int64_t p = 0; p < geo.pes; ++p) {
      uint8_t* m = &mask[static_cast<size_t>((c * geo.pes + p) * geo.slots)];
      int64_t kept = 0;
      while (kept < std::min(k, geo.slots)) {
        x = lfsr16_step(x);
        const int64_t s = x % geo.slots;
        if (!m[s]) {
          m[s] = 1;
          ++kept;
        }
      }
    }
  return mask;
}

}  // namespace prunesim
