// The geometry of hardware-aware balanced pruning (docs/references.md §1), shared by the `balanced`
// scheme, the weight-table `balanced` encoding and (later) the SystemC/RTL decoders: which
// weights form a group, which PEs form a cluster, and how the LFSR variant regenerates the kept
// positions from a seed so that no index is stored.
//
// Mapping: a layer's weight matrix [rows = output channels, cols = reduction] is spread over
// P' PEs, row m on PE (m mod P'). A group is (PE p, column c): the rows/P' weights PE p
// multiplies with one broadcast input activation. Every group of a layer keeps exactly k
// weights. Slot j of group (p, c) is row p + j*P'.
//
// Which P'. When min(pes, rows) divides rows, all of them (96 rows on 16 PEs: 6 slots each), as
// always. Otherwise (24 rows on 16 PEs) the groups are balanced over the PEs in use: among the
// divisors d of rows below min(pes, rows), the one whose groups take the fewest cycles,
// k_d = max(1, kept(rows/d, sparsity)) per column; among equals the one whose sparsity
// 1 - k_d/(rows/d) is closest to the target; then the most PEs. 24 rows at 50 %: 12 PEs of 2
// slots keep 1 each — the k that 16 PEs of ceil(24/16) = 2 slots would take — and 4 PEs idle.
// Every group then has the same slots, so "exactly k per group", the index-free property, holds
// and the sparsity is the one asked. A prime count such as 17 on 16 PEs runs on one PE.
// Clusters are clipped to P'; when the cluster size does not divide P' the last cluster is short
// (10 PEs in clusters of 4: 4 + 4 + 2), as in the core. Without a sparsity the rule is the
// largest divisor. The core takes the table's P' when it divides rows within the array.
//
// Left as it was: groups of one slot (16 rows on 16 PEs) cannot lose a weight; folding them onto
// 8 PEs of 2 slots would reach the target at the same k, but it prunes small, sensitive layers
// that today stay dense, so the shortfall is warned instead (docs/schemes.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "prune/pruning.h"

namespace prunesim {

struct BalancedGeometry {
  int64_t pes = 1;      // P' (PEs that receive rows of this layer)
  int64_t cluster = 1;  // PEs per cluster (clipped to P'; the last cluster may be short)
  int64_t slots = 1;    // rows / P': weights per group
  int64_t cols = 1;
  int64_t rows = 1;
  int64_t idle = 0;  // PEs left idle because P' does not divide rows: min(pes, rows) − P'
  int64_t clusters() const { return (pes + cluster - 1) / cluster; }
  int64_t cluster_end(int64_t q) const { return std::min(pes, (q + 1) * cluster); }
  int64_t row_of(int64_t pe, int64_t slot) const { return pe + slot * pes; }
};

// InputError when the PE or cluster count is below 1. sparsity < 0: no target (largest divisor).
BalancedGeometry balanced_geometry(const PrunableLayer& l, const PeMapping& pe,
                                   double sparsity = -1);

// The same mapping with P' given (a table's): true when P' is what balanced_geometry could have
// chosen for an array of pes_asked: all of min(pes_asked, rows) when that divides rows, else a
// smaller divisor of rows.
bool balanced_pes_valid(int64_t rows, int64_t pes_asked, int64_t pes_used);

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
