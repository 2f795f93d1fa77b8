// The geometry of hardware-aware balanced pruning (docs/references.md §1), shared by the `balanced`
// scheme, the weight-table `balanced` encoding and (later) the SystemC/RTL decoders: which
// weights form a group, which PEs form a cluster, and how the LFSR variant regenerates the kept
// positions from a seed so that no index is stored.
//
// Mapping: a layer's weight matrix [rows = output channels, cols = reduction] is spread over
// P' = min(pes, rows) PEs, row m on PE (m mod P'); P' must divide rows. A group is (PE p,
// column c): the rows/P' weights PE p multiplies with one broadcast input activation. Every
// group of a layer keeps exactly k weights. Slot j of group (p, c) is row p + j*P'.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prune/pruning.h"

namespace prunesim {

struct BalancedGeometry {
  int64_t pes = 1;      // P' (PEs that receive rows of this layer)
  int64_t cluster = 1;  // PEs per cluster (clipped to P'; must divide P')
  int64_t slots = 1;    // rows / P': weights per group
  int64_t cols = 1;
  int64_t rows = 1;
  int64_t clusters() const { return pes / cluster; }
  int64_t row_of(int64_t pe, int64_t slot) const { return pe + slot * pes; }
};

// InputError naming the layer when the PE count does not divide what it must.
BalancedGeometry balanced_geometry(const PrunableLayer& l, const PeMapping& pe);

// 16-bit maximal-length Galois LFSR (taps 16, 14, 13, 11; polynomial 0xB400). step() returns the
// next state; state 0 is never reached from a non-zero seed.
inline uint16_t lfsr16_step(uint16_t s) {
  const uint16_t lsb = s & 1u;
  s >>= 1;
  if (lsb) s ^= 0xB400u;
  return s;
}

// Kept slots of every group for the LFSR variant: for each column c (outer) and PE p (inner),
// draw slots by `x = lfsr16_step(x); slot = x % slots` and keep the first k distinct ones, the
// LFSR state carrying on from group to group, starting from `seed` (non-zero). Returns a mask
// over slots in order [c][p][slot].
std::vector<uint8_t> lfsr_slot_mask(const BalancedGeometry& geo, int64_t k, uint16_t seed);

}  // namespace prunesim
