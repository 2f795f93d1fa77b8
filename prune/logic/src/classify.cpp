// The fast path of the evaluator: the netlist compiled to a straight-line program over "slots"
// (a slot per live signal, reused once its last reader has run, dead gates dropped), run over
// blocks of kBlock words (kBlock × 64 samples) so that the live slots of a block stay in L1/L2
// instead of streaming a signals × samples matrix through memory. Each gate is its algebraic
// normal form o = c0 ^ c1·a ^ c2·b ^ c3·a·b with the coefficients as all-ones/zero masks: no
// branch on the gate's function, which a 16-way switch would mispredict at every gate.
// Group sums are counted bit-sliced (a ripple-carry counter per class over the block's words).
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "base/errors.h"
#include "logic/eval.h"

namespace prunesim::logic {
namespace {

constexpr int kBlock = 8;  // words per block: 512 samples, two AVX2 registers per signal
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

struct Op {
  uint32_t a, b, o;  // slots
  uint64_t c[4];     // ANF coefficient masks: 1, a, b, ab
};

struct Program {
  uint32_t slots = 0;
  std::vector<uint32_t> in_slot;  // per input signal: its slot, kNone when no live gate reads it
  std::vector<Op> ops;
  std::vector<uint32_t> out_slot;  // per output
};

Op make_op(TruthTable tt, uint32_t a, uint32_t b, uint32_t o) {
  const uint64_t f00 = tt & 1u, f01 = (tt >> 1) & 1u, f10 = (tt >> 2) & 1u, f11 = (tt >> 3) & 1u;
  Op op{a, b, o, {}};
  const uint64_t bits[4] = {f00, f00 ^ f10, f00 ^ f01, f00 ^ f01 ^ f10 ^ f11};
  for (int k = 0; k < 4; ++k) op.c[k] = 0 - bits[k];
  return op;
}

// Liveness from the outputs back, then a linear scan that gives every live signal a slot and
// frees it after its last reader (the gate's own slot is taken before its inputs' are freed, so
// a gate never writes the slot it reads).
Program compile(const Netlist& n) {
  const uint32_t S = n.signals();
  std::vector<uint8_t> live(S, 0);
  std::vector<size_t> last(S, 0);
  constexpr size_t kForever = std::numeric_limits<size_t>::max();
  for (uint32_t o : n.outputs) live[o] = 1, last[o] = kForever;
  for (size_t i = n.gates.size(); i-- > 0;) {
    if (!live[n.inputs + i]) continue;
    for (uint32_t x : {n.gates[i].a, n.gates[i].b}) {
      live[x] = 1;
      last[x] = std::max(last[x], i);
    }
  }
  Program p;
  std::vector<uint32_t> slot(S, kNone), free_slots;
  auto alloc = [&] {
    if (free_slots.empty()) return p.slots++;
    const uint32_t s = free_slots.back();
    free_slots.pop_back();
    return s;
  };
  p.in_slot.assign(n.inputs, kNone);
  for (uint32_t i = 0; i < n.inputs; ++i)
    if (live[i]) p.in_slot[i] = slot[i] = alloc();
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const uint32_t s = n.inputs + static_cast<uint32_t>(i);
    if (!live[s]) continue;
    const Gate& g = n.gates[i];
    slot[s] = alloc();
    p.ops.push_back(make_op(g.tt, slot[g.a], slot[g.b], slot[s]));
    if (last[g.a] == i) free_slots.push_back(slot[g.a]);
    if (g.b != g.a && last[g.b] == i) free_slots.push_back(slot[g.b]);
  }
  for (uint32_t o : n.outputs) p.out_slot.push_back(slot[o]);
  return p;
}

inline void run_ops_generic(const Program& p, uint64_t* mem) {
  for (const Op& op : p.ops) {
    const uint64_t* a = mem + static_cast<size_t>(op.a) * kBlock;
    const uint64_t* b = mem + static_cast<size_t>(op.b) * kBlock;
    uint64_t* o = mem + static_cast<size_t>(op.o) * kBlock;
    for (int w = 0; w < kBlock; ++w)
      o[w] = op.c[0] ^ (op.c[1] & a[w]) ^ (op.c[2] & b[w]) ^ (op.c[3] & a[w] & b[w]);
  }
}

__attribute__((target("avx2"))) void run_ops_avx2(const Program& p, uint64_t* mem) {
  static_assert(kBlock == 8, "the AVX2 kernel holds a block in two 256-bit registers");
  for (const Op& op : p.ops) {
    const auto* a = reinterpret_cast<const __m256i*>(mem + static_cast<size_t>(op.a) * kBlock);
    const auto* b = reinterpret_cast<const __m256i*>(mem + static_cast<size_t>(op.b) * kBlock);
    auto* o = reinterpret_cast<__m256i*>(mem + static_cast<size_t>(op.o) * kBlock);
    const __m256i c0 = _mm256_set1_epi64x(static_cast<long long>(op.c[0]));
    const __m256i c1 = _mm256_set1_epi64x(static_cast<long long>(op.c[1]));
    const __m256i c2 = _mm256_set1_epi64x(static_cast<long long>(op.c[2]));
    const __m256i c3 = _mm256_set1_epi64x(static_cast<long long>(op.c[3]));
    for (int h = 0; h < 2; ++h) {
      const __m256i x = _mm256_loadu_si256(a + h), y = _mm256_loadu_si256(b + h);
      __m256i r = _mm256_xor_si256(c0, _mm256_and_si256(c1, x));
      r = _mm256_xor_si256(r, _mm256_and_si256(c2, y));
      r = _mm256_xor_si256(r, _mm256_and_si256(c3, _mm256_and_si256(x, y)));
      _mm256_storeu_si256(o + h, r);
    }
  }
}

bool g_allow_avx2 = true;

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has && g_allow_avx2;
}

// A block's worth of one signal: kBlock words, 64 samples each. The loops over it are fixed-length,
// so the compiler turns them into vector instructions (AVX2 in the avx2-target copy).
struct Vec {
  uint64_t w[kBlock];
};

// Carry-save adder: (high, low) = a + b + c per bit.
inline __attribute__((always_inline)) void csa(Vec& h, Vec& l, const Vec& a, const Vec& b,
                                               const Vec& c) {
  for (int i = 0; i < kBlock; ++i) {
    const uint64_t u = a.w[i] ^ b.w[i];
    h.w[i] = (a.w[i] & b.w[i]) | (u & c.w[i]);
    l.w[i] = u ^ c.w[i];
  }
}

// Adds `v` (weight 1) into the bit-sliced counter planes[0..n) without a data-dependent branch
// (a carry that dies early would be a mispredicted branch on every output of every block).
inline __attribute__((always_inline)) void ripple(Vec* planes, int n, Vec v) {
  for (int q = 0; q < n; ++q)
    for (int i = 0; i < kBlock; ++i) {
      const uint64_t t = planes[q].w[i] & v.w[i];
      planes[q].w[i] ^= v.w[i];
      v.w[i] = t;
    }
}

inline __attribute__((always_inline)) Vec output(const Netlist& n, const Program& p,
                                                 const uint64_t* mem, uint32_t k) {
  Vec v;
  const uint64_t* src = mem + static_cast<size_t>(p.out_slot[k]) * kBlock;
  const uint64_t neg = n.out_negate[k] ? ~uint64_t{0} : 0;
  for (int i = 0; i < kBlock; ++i) v.w[i] = src[i] ^ neg;
  return v;
}

// Every sample's count of the class's outputs [k0, k1), bit-sliced: Harley-Seal carry-save
// adders fold 16 outputs into a weight-16 word (`ones`..`eights` carry the rest between
// groups), which ripples into `high`; the last < 16 outputs ripple into `low`.
inline __attribute__((always_inline)) void count_class(const Netlist& n, const Program& p,
                                                       const uint64_t* mem, uint32_t k0,
                                                       uint32_t k1, Vec* lowp, Vec* highp,
                                                       int high_planes) {
  Vec ones{}, twos{}, fours{}, eights{}, ta, tb, fa, fb, ea, eb, sixteens;
  uint32_t k = k0;
  for (; k + 16 <= k1; k += 16) {
    Vec f[2];
    for (int h = 0; h < 2; ++h) {
      const uint32_t b = k + 8 * h;
      csa(ta, ones, ones, output(n, p, mem, b), output(n, p, mem, b + 1));
      csa(tb, ones, ones, output(n, p, mem, b + 2), output(n, p, mem, b + 3));
      csa(fa, twos, twos, ta, tb);
      csa(ta, ones, ones, output(n, p, mem, b + 4), output(n, p, mem, b + 5));
      csa(tb, ones, ones, output(n, p, mem, b + 6), output(n, p, mem, b + 7));
      csa(fb, twos, twos, ta, tb);
      csa(f[h], fours, fours, fa, fb);
    }
    ea = f[0];
    eb = f[1];
    csa(sixteens, eights, eights, ea, eb);
    ripple(highp, high_planes, sixteens);
  }
  for (; k < k1; ++k) ripple(lowp + 4, 5, output(n, p, mem, k));
  lowp[0] = ones;
  lowp[1] = twos;
  lowp[2] = fours;
  lowp[3] = eights;
}

// The block's group sums into counts (sample-major). plane arrays: low[0..3] = ones, twos,
// fours, eights of the carry-save part, low[4..8] the remainder's counter, high the count of
// sixteens (as many planes as per_class / 16 needs, at most 28: any 32-bit count).
inline __attribute__((always_inline)) void count_block_impl(const Netlist& n, const Program& p,
                                                            const uint64_t* mem, size_t s0,
                                                            size_t samples,
                                                            std::vector<uint32_t>& counts) {
  const uint32_t per = n.per_class();
  int high_planes = 0;
  while ((uint64_t{16} << high_planes) <= per) ++high_planes;
  const size_t in_block = std::min<size_t>(samples - s0, kBlock * 64);
  for (uint32_t c = 0; c < n.classes; ++c) {
    Vec low[9] = {}, high[28] = {};
    count_class(n, p, mem, c * per, (c + 1) * per, low, high, high_planes);
    for (size_t j = 0; j < in_block; ++j) {
      const size_t w = j / 64, b = j % 64;
      uint32_t v = 0;
      for (int q = 0; q < 4; ++q) v += static_cast<uint32_t>((low[q].w[w] >> b) & 1) << q;
      for (int q = 0; q < 5; ++q) v += static_cast<uint32_t>((low[4 + q].w[w] >> b) & 1) << q;
      for (int q = 0; q < high_planes; ++q)
        v += static_cast<uint32_t>((high[q].w[w] >> b) & 1) << (q + 4);
      counts[(s0 + j) * n.classes + c] = v;
    }
  }
}

void count_block_generic(const Netlist& n, const Program& p, const uint64_t* mem, size_t s0,
                         size_t samples, std::vector<uint32_t>& counts) {
  count_block_impl(n, p, mem, s0, samples, counts);
}
__attribute__((target("avx2"))) void count_block_avx2(const Netlist& n, const Program& p,
                                                      const uint64_t* mem, size_t s0,
                                                      size_t samples,
                                                      std::vector<uint32_t>& counts) {
  count_block_impl(n, p, mem, s0, samples, counts);
}

}  // namespace

bool eval_uses_avx2() {
  return cpu_has_avx2();
}
void eval_allow_avx2(bool allow) {
  g_allow_avx2 = allow;
}

std::vector<uint32_t> class_counts(const Netlist& n, const BitMatrix& inputs, size_t samples) {
  if (inputs.rows != n.inputs)
    throw InputError("logic network: " + std::to_string(inputs.rows) + " input rows for " +
                     std::to_string(n.inputs) + " inputs");
  if (samples > inputs.words * 64)
    throw InputError("logic network: " + std::to_string(samples) + " samples in " +
                     std::to_string(inputs.words) + " words of 64");
  const Program p = compile(n);
  std::vector<uint64_t> mem(static_cast<size_t>(std::max<uint32_t>(p.slots, 1)) * kBlock);
  std::vector<uint32_t> counts(samples * n.classes, 0);
  const bool avx2 = cpu_has_avx2();
  for (size_t s0 = 0; s0 < samples; s0 += kBlock * 64) {
    const size_t w0 = s0 / 64;
    const size_t nw = std::min<size_t>(kBlock, inputs.words - w0);
    for (uint32_t i = 0; i < n.inputs; ++i) {
      if (p.in_slot[i] == kNone) continue;
      uint64_t* d = mem.data() + static_cast<size_t>(p.in_slot[i]) * kBlock;
      std::copy(inputs.row(i) + w0, inputs.row(i) + w0 + nw, d);
      std::fill(d + nw, d + kBlock, 0);
    }
    if (avx2)
      run_ops_avx2(p, mem.data());
    else
      run_ops_generic(p, mem.data());
    if (avx2)
      count_block_avx2(n, p, mem.data(), s0, samples, counts);
    else
      count_block_generic(n, p, mem.data(), s0, samples, counts);
  }
  return counts;
}

std::vector<int32_t> classify(const Netlist& n, const BitMatrix& inputs, size_t samples) {
  const std::vector<uint32_t> counts = class_counts(n, inputs, samples);
  std::vector<int32_t> cls(samples, 0);
  for (size_t s = 0; s < samples; ++s) {
    const uint32_t* c = counts.data() + s * n.classes;
    // max_element returns the first maximum: the lowest class on ties, as netlist.h specifies.
    cls[s] = static_cast<int32_t>(std::max_element(c, c + n.classes) - c);
  }
  return cls;
}

double accuracy(const Netlist& n, const BitMatrix& inputs, const int64_t* labels, size_t samples) {
  if (samples == 0) return 0.0;
  const std::vector<int32_t> cls = classify(n, inputs, samples);
  size_t hit = 0;
  for (size_t s = 0; s < samples; ++s) hit += cls[s] == labels[s];
  return static_cast<double>(hit) / static_cast<double>(samples);
}

}  // namespace prunesim::logic
