#include "prune/balanced.h"

#include <algorithm>

#include "prune/errors.h"

namespace prunesim {

BalancedGeometry balanced_geometry(const PrunableLayer& l, const PeMapping& pe) {
  if (pe.pes < 1) throw InputError("--pes: must be at least 1");
  if (pe.cluster < 1) throw InputError("--cluster: must be at least 1");
  BalancedGeometry g;
  g.rows = l.rows;
  g.cols = l.cols;
  g.pes = std::min<int64_t>(pe.pes, l.rows);
  if (l.rows % g.pes != 0)
    throw InputError("layer '" + l.node + "': " + std::to_string(l.rows) +
                     " output channels do not divide among " + std::to_string(g.pes) +
                     " PEs (--pes)");
  g.cluster = std::min<int64_t>(pe.cluster, g.pes);
  if (g.pes % g.cluster != 0)
    throw InputError("layer '" + l.node + "': clusters of " + std::to_string(g.cluster) +
                     " PEs do not divide " + std::to_string(g.pes) + " PEs (--cluster)");
  g.slots = l.rows / g.pes;
  return g;
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
