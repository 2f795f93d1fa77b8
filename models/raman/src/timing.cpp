// The analytical twin: the cycles and action counts of one layer computed from the program and
// the layer's input codes, with no event simulation. Timing rules (docs/raman.md "Timing"):
//   layer    = setup + sum over output positions (raster order) of
//   position = 1 (accumulator init) + stream + 1 (pipeline flush) + ceil(out_channels / ppu_lanes)
//   stream   = broadcast mode: per candidate column r (not padding, some weight kept):
//                1 cycle if the activation is zero, else col_work[r] cycles;
//              lane mode: 1 cycle per (tap, channel tile) word (not padding, not all pruned).
// The SystemC model produces the same numbers by running the clocked pipeline (tests).
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/raman/program.h"

namespace prunesim::raman {
namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

std::vector<ParamSpec> RamanConfig::specs() {
  const RamanConfig d;
  return {
      int_param("pe_count", d.pe_count, 1, 1024, "1", "processing elements in the PE array"),
      int_param("cluster_size", d.cluster_size, 1, 1024, "1",
                "PEs sharing one sparse weight decoder (and one balanced pattern)"),
      int_param("acc_bits", d.acc_bits, 8, 32, "bit",
                "accumulator width; a layer needing more is rejected"),
      int_param("acc_per_pe", d.acc_per_pe, 1, 256, "1",
                "accumulator registers per PE: output channels a PE holds at once"),
      int_param("ppu_lanes", d.ppu_lanes, 1, 64, "1/cycle",
                "outputs the post-processing unit requantizes and writes per cycle"),
      int_param("act_mem_bytes", d.act_mem_bytes, 16, 1 << 24, "B",
                "activation memory (IA and OA share it, overlapping in place)"),
      int_param("weight_mem_bytes", d.weight_mem_bytes, 16, 1 << 24, "B",
                "weight memory holding the compressed layer images"),
      int_param("dma_bytes_per_cycle", d.dma_bytes_per_cycle, 1, 64, "B/cycle",
                "host DMA bandwidth into and out of the activation memory"),
      int_param("layer_setup_cycles", d.layer_setup_cycles, 0, 1000, "cycles",
                "controller cycles to fetch and decode one layer descriptor"),
      real_param("clock_hz", d.clock_hz, 1e3, 1e10, "Hz", "core clock",
                 "REFERENCE.md §1: 2 MHz ASIC"),
      real_param("voltage_v", d.voltage_v, 0.5, 1.5, "V", "supply voltage (scales energy)",
                 "REFERENCE.md §1: 1.2 V"),
  };
}

RamanConfig RamanConfig::from(const ParamValues& v) {
  RamanConfig c;
  c.pe_count = v.i("pe_count");
  c.cluster_size = v.i("cluster_size");
  c.acc_bits = v.i("acc_bits");
  c.acc_per_pe = v.i("acc_per_pe");
  c.ppu_lanes = v.i("ppu_lanes");
  c.act_mem_bytes = v.i("act_mem_bytes");
  c.weight_mem_bytes = v.i("weight_mem_bytes");
  c.dma_bytes_per_cycle = v.i("dma_bytes_per_cycle");
  c.layer_setup_cycles = v.i("layer_setup_cycles");
  c.clock_hz = v.d("clock_hz");
  c.voltage_v = v.d("voltage_v");
  return c;
}

int64_t nonzero_weight_taps(const LayerProgram& L) {
  if (!L.passes.empty()) {
    int64_t n = 0;
    for (const LayerProgram& Q : L.passes) n += nonzero_weight_taps(Q);
    return n;
  }
  if (L.mode == Mode::Lane) {
    if (L.qkind != QLayer::Kind::Conv) return 0;
    int64_t nzw = 0;
    for (int8_t w : L.lane_w) nzw += w != 0;
    return nzw * L.positions();  // padding taps included, as in macs_dense
  }
  if (L.mode != Mode::Broadcast) return 0;
  std::vector<int64_t> col_nz(static_cast<size_t>(L.cols), 0);
  for (int64_t r = 0; r < L.cols; ++r)
    for (int64_t p = 0; p < L.pes; ++p)
      col_nz[static_cast<size_t>(r)] += L.group_nz[static_cast<size_t>(r * L.pes + p)];
  int64_t seen = 0;
  const int64_t taps = L.kh * L.kw;
  for (int64_t pos = 0; pos < L.positions(); ++pos) {
    const int64_t oy = pos / L.out.w, ox = pos % L.out.w;
    if (L.flat_input) {
      for (int64_t k = 0; k < L.cols; ++k) seen += col_nz[static_cast<size_t>(k)];
      continue;
    }
    for (int64_t ch = 0; ch < L.in.c; ++ch)
      for (int64_t i = 0; i < L.kh; ++i)
        for (int64_t j = 0; j < L.kw; ++j) {
          if (L.transpose) {
            const int64_t ty = oy + L.pt - i * L.dh, tx = ox + L.pl - j * L.dw;
            if (ty < 0 || tx < 0 || ty % L.sh || tx % L.sw) continue;
            if (ty / L.sh >= L.in.h || tx / L.sw >= L.in.w) continue;
          }
          seen += col_nz[static_cast<size_t>(ch * taps + i * L.kw + j)];
        }
  }
  return seen;
}

LayerCounts empty_counts(const LayerProgram& L, const RamanConfig& cfg) {
  LayerCounts c;
  c.name = L.name;
  c.kind = L.kind;
  c.mode = L.mode == Mode::Broadcast ? "broadcast" : L.mode == Mode::Lane ? "lane" : "none";
  c.encoding = L.encoding;
  const size_t n = static_cast<size_t>(cfg.pe_count);
  c.busy_per_pe.assign(n, 0);
  c.stalled_per_pe.assign(n, 0);
  c.gated_per_pe.assign(n, 0);
  c.act_in_bytes = L.in.bytes();
  c.act_out_bytes = L.out.bytes();
  c.act_in_base = L.in.base;
  c.act_out_base = L.out.base;
  if (L.mode != Mode::None) {
    int64_t lo = std::min(L.in.base, L.out.base);
    int64_t hi = std::max(L.in.base + L.in.bytes(), L.out.base + L.out.bytes());
    if (L.two_operands()) {  // both operands
      lo = std::min(lo, L.in2.base);
      hi = std::max(hi, L.in2.base + L.in2.bytes());
    }
    c.act_footprint_bytes = hi - lo;
  }
  c.weight_bytes = L.mode == Mode::None ? 0 : L.weight_bytes;
  return c;
}

namespace {

// Input rows (or columns) one kernel tap touches over all output rows: an arithmetic progression
// start + k*step, k < count, inside [0, in). Conv: in = oy*s - p + i*d; transposed conv (gather):
// in = (oy + p - i*d) / s for the output rows where that divides.
struct Span {
  int64_t start = 0, step = 1, count = 0;
};

int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

Span tap_span(bool transpose, int64_t k, int64_t s, int64_t p, int64_t d, int64_t in, int64_t out) {
  Span r;
  if (!transpose) {
    // oy in [ceil((p - k*d)/s), floor((in - 1 + p - k*d)/s)] ∩ [0, out - 1]
    const int64_t lo = std::max<int64_t>(0, -floor_div(-(p - k * d), s));
    const int64_t hi = std::min<int64_t>(out - 1, floor_div(in - 1 + p - k * d, s));
    r.count = std::max<int64_t>(0, hi - lo + 1);
    r.start = lo * s - p + k * d;
    r.step = s;
  } else {
    // iy in [ceil((k*d - p)/s) ... ]: oy = iy*s + k*d - p must lie in [0, out)
    const int64_t lo = std::max<int64_t>(0, -floor_div(-(p - k * d), s));
    const int64_t hi = std::min<int64_t>(in - 1, floor_div(out - 1 + p - k * d, s));
    r.count = std::max<int64_t>(0, hi - lo + 1);
    r.start = lo;
    r.step = 1;
  }
  return r;
}

// Counts of non-zero activations over strided rectangles of one channel. Stride 1 (every conv,
// depthwise and transposed conv in the zoo): the channel's total minus the cells the rectangle
// leaves out (or the cells it covers, whichever is fewer) -- a few cells for "same" padding.
// Larger strides: one 2-D prefix sum per residue class, O(1) per query. The analytical twin is
// benchmarked against the cycle model, so this avoids touching every activation more than once.
class NonZeroPrefix {
 public:
  NonZeroPrefix(const int8_t* x, int64_t C, int64_t H, int64_t W, int64_t sy, int64_t sx)
      : x_(x), H_(H), W_(W), sy_(sy), sx_(sx) {
    if (sy == 1 && sx == 1) {
      totals_.resize(static_cast<size_t>(C));
      const int64_t n = H * W;
      for (int64_t c = 0; c < C; ++c) {
        const int8_t* xc = x + c * n;
        int64_t t = 0;
        for (int64_t k = 0; k < n; ++k) t += xc[k] != 0;
        totals_[static_cast<size_t>(c)] = t;
      }
      return;
    }
    na_.resize(static_cast<size_t>(sy));
    nb_.resize(static_cast<size_t>(sx));
    for (int64_t r = 0; r < sy; ++r)
      na_[static_cast<size_t>(r)] = r < H ? (H - r + sy - 1) / sy : 0;
    for (int64_t r = 0; r < sx; ++r)
      nb_[static_cast<size_t>(r)] = r < W ? (W - r + sx - 1) / sx : 0;
    off_.assign(static_cast<size_t>(C * sy * sx + 1), 0);
    size_t total = 0;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ry = 0; ry < sy; ++ry)
        for (int64_t rx = 0; rx < sx; ++rx) {
          off_[static_cast<size_t>((c * sy + ry) * sx + rx)] = static_cast<int64_t>(total);
          total += static_cast<size_t>((na_[static_cast<size_t>(ry)] + 1) *
                                       (nb_[static_cast<size_t>(rx)] + 1));
        }
    pre_.assign(total, 0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ry = 0; ry < sy; ++ry)
        for (int64_t rx = 0; rx < sx; ++rx) {
          const int64_t na = na_[static_cast<size_t>(ry)], nb = nb_[static_cast<size_t>(rx)];
          int32_t* P =
              &pre_[static_cast<size_t>(off_[static_cast<size_t>((c * sy + ry) * sx + rx)])];
          const int8_t* xc = x + c * H * W;
          for (int64_t a = 0; a < na; ++a) {
            int32_t row = 0;
            const int8_t* xr = xc + (ry + a * sy) * W + rx;
            for (int64_t b = 0; b < nb; ++b) {
              row += xr[b * sx] != 0;
              P[(a + 1) * (nb + 1) + b + 1] = P[a * (nb + 1) + b + 1] + row;
            }
          }
        }
  }

  // The cells one tap's rectangle covers (or leaves out), as offsets in a channel plane: planned
  // once per tap and reused for every channel, so a query costs a handful of loads.
  struct Plan {
    bool stride1 = false, subtract = false, empty = false;
    std::vector<int32_t> cells;
    Span y, x;
  };
  Plan plan(const Span& y, const Span& x) const {
    Plan p;
    p.y = y;
    p.x = x;
    p.empty = y.count <= 0 || x.count <= 0;
    p.stride1 = !totals_.empty();
    if (p.empty || !p.stride1) return p;
    const int64_t y1 = y.start + y.count, x1 = x.start + x.count;
    p.subtract = y.count * x.count * 2 > H_ * W_;
    for (int64_t yy = 0; yy < H_; ++yy)
      for (int64_t xx = 0; xx < W_; ++xx) {
        const bool in = yy >= y.start && yy < y1 && xx >= x.start && xx < x1;
        if (in != p.subtract) p.cells.push_back(static_cast<int32_t>(yy * W_ + xx));
      }
    return p;
  }
  int64_t count(int64_t c, const Plan& p) const {
    if (p.empty) return 0;
    if (!p.stride1) return count(c, p.y, p.x);
    const int8_t* xc = x_ + c * H_ * W_;
    int64_t n = 0;
    for (int32_t off : p.cells) n += xc[off] != 0;
    return p.subtract ? totals_[static_cast<size_t>(c)] - n : n;
  }

  // Non-zeros at rows y.start + k*y.step (k < y.count) x columns likewise, channel c.
  int64_t count(int64_t c, const Span& y, const Span& x) const {
    if (y.count <= 0 || x.count <= 0) return 0;
    if (!totals_.empty()) {
      const int8_t* xc = x_ + c * H_ * W_;
      const int64_t y1 = y.start + y.count, x1 = x.start + x.count;
      auto direct = [&](int64_t ya, int64_t yb, int64_t xa, int64_t xb) {
        int64_t n = 0;
        for (int64_t yy = ya; yy < yb; ++yy)
          for (int64_t xx = xa; xx < xb; ++xx) n += xc[yy * W_ + xx] != 0;
        return n;
      };
      const int64_t covered = y.count * x.count;
      if (covered * 2 <= H_ * W_) return direct(y.start, y1, x.start, x1);
      // Total minus the rows above/below and the column strips beside the rectangle.
      return totals_[static_cast<size_t>(c)] - direct(0, y.start, 0, W_) - direct(y1, H_, 0, W_) -
             direct(y.start, y1, 0, x.start) - direct(y.start, y1, x1, W_);
    }
    // Conv spans step by the layer's strides, which the residue tables were built for.
    const int64_t sy = sy_, sx = sx_;
    const int64_t ry = y.start % sy, rx = x.start % sx;
    const int64_t a0 = y.start / sy, b0 = x.start / sx;
    const int64_t nb = nb_[static_cast<size_t>(rx)];
    const int32_t* P =
        &pre_[static_cast<size_t>(off_[static_cast<size_t>((c * sy_ + ry) * sx_ + rx)])];
    const int64_t a1 = a0 + y.count, b1 = b0 + x.count;
    return P[a1 * (nb + 1) + b1] - P[a0 * (nb + 1) + b1] - P[a1 * (nb + 1) + b0] +
           P[a0 * (nb + 1) + b0];
  }

 private:
  const int8_t* x_;
  int64_t H_, W_, sy_, sx_;
  std::vector<int64_t> totals_;
  std::vector<int64_t> na_, nb_, off_;
  std::vector<int32_t> pre_;
};

// What a run's counting walks add to beside its LayerCounts: cycles, candidates that stall the
// PEs on a zero, and the busy cycles per PE. ys/xs: the output rows/columns each tap reaches, as
// input spans.
struct Walk {
  const LayerProgram& L;
  const int8_t* x;
  int64_t positions;
  std::vector<Span> ys, xs;
  LayerCounts& c;
  int64_t cycles = 0, zero_cands = 0;
  std::vector<int64_t> busy;
};

// Broadcast mode: per column (weight row of the reduction) its zero checks, the broadcasts of
// its non-zero activations and the MACs its groups execute.
void broadcast_counts(Walk& w) {
  const LayerProgram& L = w.L;
  LayerCounts& c = w.c;
  const int64_t np = L.pes, H = L.in.h, W = L.in.w, C = L.in.c, taps = L.kh * L.kw;
  int64_t nz_seen = 0;
  auto column = [&](int64_t r, int64_t present, int64_t valid, int64_t nz) {
    const size_t ri = static_cast<size_t>(r);
    const int64_t col_nz = L.col_nz[ri];
    nz_seen += col_nz * present;
    const int64_t work = L.col_work[ri];
    if (work == 0 || valid == 0) return;  // skipped by the controller
    c.zero_checks += valid;
    c.act_reads += valid;
    c.act_read_bytes += valid;
    w.zero_cands += valid - nz;
    w.cycles += (valid - nz) + work * nz;
    if (nz == 0) return;
    c.broadcasts += nz;
    c.macs_executed += col_nz * nz;
    c.weight_read_bits += L.group_bits[ri] * nz;
    c.weight_reads += ceil_div(L.group_bits[ri], 32) * nz;
    c.decoder_steps += (L.group_off[static_cast<size_t>((r + 1) * np)] -
                        L.group_off[static_cast<size_t>(r * np)]) *
                       nz;
    if (!L.col_lfsr_steps.empty()) c.lfsr_steps += L.col_lfsr_steps[ri] * nz;
    for (int64_t p = 0; p < np; ++p)
      w.busy[static_cast<size_t>(p)] += L.group_nz[static_cast<size_t>(r * np + p)] * nz;
  };
  if (L.flat_input) {
    const int64_t hw = H * W;
    for (int64_t k = 0; k < L.cols; ++k) {
      const int64_t ch = k / hw, sp = k % hw;
      column(k, 1, 1, w.x[ch * hw + sp] != 0);
    }
  } else {
    const NonZeroPrefix nzp(w.x, C, H, W, L.transpose ? 1 : L.sh, L.transpose ? 1 : L.sw);
    std::vector<NonZeroPrefix::Plan> plans(static_cast<size_t>(taps));
    for (int64_t i = 0; i < L.kh; ++i)
      for (int64_t j = 0; j < L.kw; ++j)
        plans[static_cast<size_t>(i * L.kw + j)] =
            nzp.plan(w.ys[static_cast<size_t>(i)], w.xs[static_cast<size_t>(j)]);
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < L.kh; ++i)
        for (int64_t j = 0; j < L.kw; ++j) {
          const Span& y = w.ys[static_cast<size_t>(i)];
          const Span& xx = w.xs[static_cast<size_t>(j)];
          const int64_t valid = y.count * xx.count;
          // A conv tap is present at every position (padding counts as a zero activation); a
          // transposed-conv tap only where it lands on an input.
          const int64_t present = L.transpose ? valid : w.positions;
          const int64_t r = ch * taps + i * L.kw + j;
          const bool needed = L.col_work[static_cast<size_t>(r)] > 0 && valid > 0;
          column(r, present, valid,
                 needed ? nzp.count(ch, plans[static_cast<size_t>(i * L.kw + j)]) : 0);
        }
  }
  c.macs_dense = L.macs_dense;
  c.macs_skipped_pruned = L.macs_dense - nz_seen;
  c.macs_skipped_zero = nz_seen - c.macs_executed;
  c.acc_updates = c.macs_executed + w.positions * L.rows;
}

// Lane mode: one word per (tap, tile) at every position where the tap is not padding (`words`
// of them for an Add); a depthwise layer also reads its weight word and MACs its non-zeros.
void lane_counts(Walk& w, int64_t words, bool global) {
  const LayerProgram& L = w.L;
  LayerCounts& c = w.c;
  const int64_t np = L.pes, H = L.in.h, W = L.in.w, C = L.in.c, taps = L.kh * L.kw;
  const bool dw = L.qkind == QLayer::Kind::Conv;
  const int64_t tiles = L.slots;
  std::unique_ptr<NonZeroPrefix> nzp;
  if (dw) nzp = std::make_unique<NonZeroPrefix>(w.x, C, H, W, global ? 1 : L.sh, global ? 1 : L.sw);
  for (int64_t i = 0; i < L.kh; ++i)
    for (int64_t j = 0; j < L.kw; ++j) {
      const Span& y = w.ys[static_cast<size_t>(i)];
      const Span& xx = w.xs[static_cast<size_t>(j)];
      const int64_t v = y.count * xx.count;
      if (v == 0) continue;
      const int64_t k = i * L.kw + j;
      NonZeroPrefix::Plan plan;
      if (dw) plan = nzp->plan(y, xx);
      for (int64_t t = 0; t < tiles; ++t) {
        if (dw && L.tap_skip[static_cast<size_t>(t * taps + k)]) continue;
        const int64_t c0 = t * np, c1 = std::min(C, c0 + np);
        const int64_t vw = v * words;
        w.cycles += vw;
        c.act_reads += vw;
        c.act_read_bytes += (c1 - c0) * vw;
        c.zero_checks += (c1 - c0) * vw;
        if (!dw) {
          for (int64_t ch = c0; ch < c1; ++ch) w.busy[static_cast<size_t>(ch - c0)] += vw;
          c.acc_updates += (c1 - c0) * vw;
          continue;
        }
        c.weight_reads += v;
        const size_t tk = static_cast<size_t>(t * taps + k);
        c.weight_read_bits += L.lane_bits[tk] * v;
        c.decoder_steps += L.lane_kept[tk] * v;
        for (int64_t ch = c0; ch < c1; ++ch) {
          const size_t wi = static_cast<size_t>(ch * taps + k);
          if (L.lane_w[wi] == 0) continue;
          const int64_t nz = nzp->count(ch, plan);
          w.busy[static_cast<size_t>(ch - c0)] += nz;
          c.macs_executed += nz;
        }
      }
    }
  if (dw) {
    c.macs_dense = L.macs_dense;
    const int64_t seen = nonzero_weight_taps(L);
    c.macs_skipped_pruned = L.macs_dense - seen;
    c.macs_skipped_zero = seen - c.macs_executed;
    c.acc_updates = c.macs_executed + w.positions * C;
  } else {
    c.acc_updates += w.positions * C;
  }
}

// Channel copy: per position one word of each source tile the pass loads, stored in its slot.
void copy_counts(Walk& w) {
  const LayerProgram& L = w.L;
  LayerCounts& c = w.c;
  const int64_t np = L.pes, n = w.positions;
  for (int64_t t : L.src_tiles) {
    const int64_t lanes = std::min(L.in.c, (t + 1) * np) - t * np;
    w.cycles += n;
    c.act_reads += n;
    c.act_read_bytes += lanes * n;
    c.zero_checks += lanes * n;
    c.acc_updates += lanes * n;
    for (int64_t p = 0; p < lanes; ++p) w.busy[static_cast<size_t>(p)] += n;
  }
  c.acc_updates += n * std::min(L.out.c, L.slots * np);  // the accumulator init
}

}  // namespace

void analytical_layer(const LayerProgram& L, const RamanConfig& cfg, const int8_t* x,
                      LayerCounts* out) {
  LayerCounts c = empty_counts(L, cfg);
  if (!L.passes.empty()) {
    // Folding: every pass is a layer of its own (setup, positions, its channels); a lane pass
    // reads its channel slice, which is contiguous in the NCHW input.
    for (const LayerProgram& Q : L.passes) {
      LayerCounts qc;
      // (A Concat or copy pass reads another input or tiles anywhere in it, but its counts do
      // not depend on the codes.)
      const bool own = Q.qkind != QLayer::Kind::Concat && Q.qkind != QLayer::Kind::Move;
      analytical_layer(Q, cfg, own ? x + Q.pass_in_c0 * L.in.h * L.in.w : x, &qc);
      accumulate(c, qc);
    }
    *out = std::move(c);
    return;
  }
  if (L.mode == Mode::None) {
    *out = std::move(c);
    return;
  }
  const int64_t P = cfg.pe_count, np = L.pes;
  const int64_t positions = L.positions();
  const int64_t writes = ceil_div(L.out.c, cfg.ppu_lanes);
  // An Add or Mul drains in two cycles per output group (operand a, then b) and reads two words
  // per tile (core.cpp).
  const bool add = L.two_operands();
  const int64_t words = add ? 2 : 1, drain = writes * words;
  const bool global =
      L.qkind == QLayer::Kind::GlobalAvgPool || L.qkind == QLayer::Kind::GlobalMaxPool;
  Walk w{L, x, positions, {}, {}, c, 0, 0, {}};
  w.cycles = cfg.layer_setup_cycles + positions * (2 + drain);
  w.busy.assign(static_cast<size_t>(P), 0);
  for (int64_t p = 0; p < np; ++p) w.busy[static_cast<size_t>(p)] = positions;  // init cycles
  w.ys.resize(static_cast<size_t>(L.kh));
  w.xs.resize(static_cast<size_t>(L.kw));
  for (int64_t i = 0; i < L.kh; ++i)
    w.ys[static_cast<size_t>(i)] =
        global ? Span{i, 1, 1} : tap_span(L.transpose, i, L.sh, L.pt, L.dh, L.in.h, L.out.h);
  for (int64_t j = 0; j < L.kw; ++j)
    w.xs[static_cast<size_t>(j)] =
        global ? Span{j, 1, 1} : tap_span(L.transpose, j, L.sw, L.pl, L.dw, L.in.w, L.out.w);
  if (L.mode == Mode::Broadcast)
    broadcast_counts(w);
  else if (L.qkind == QLayer::Kind::Move)
    copy_counts(w);
  else
    lane_counts(w, words, global);
  // Add: two rescales and a requantization; Mul: the product and its requantization.
  const int64_t ops = L.qkind == QLayer::Kind::Add ? 3 : L.qkind == QLayer::Kind::Mul ? 2 : 1;
  c.ppu_ops = positions * L.out.c * ops;
  c.act_writes = positions * writes;
  c.act_write_bytes = positions * L.out.c;
  c.cycles = w.cycles;
  for (int64_t p = 0; p < P; ++p) {
    const size_t i = static_cast<size_t>(p);
    c.busy_per_pe[i] = w.busy[i];
    c.stalled_per_pe[i] = (L.mode == Mode::Broadcast && p < np) ? w.zero_cands : 0;
    c.gated_per_pe[i] = w.cycles - c.busy_per_pe[i] - c.stalled_per_pe[i];
    c.pe_busy += c.busy_per_pe[i];
    c.pe_stalled += c.stalled_per_pe[i];
    c.pe_gated += c.gated_per_pe[i];
  }
  *out = std::move(c);
}

void finish_counts(const RamanProgram& p, RamanCounts* c) {
  c->config = p.cfg;
  c->dma_in_bytes = p.input.bytes() * c->inferences;
  c->dma_out_bytes = p.output.bytes() * c->inferences;
  // Beats plus one completion-handshake cycle each way.
  c->dma_in_cycles = (ceil_div(p.input.bytes(), p.cfg.dma_bytes_per_cycle) + 1) * c->inferences;
  c->dma_out_cycles = (ceil_div(p.output.bytes(), p.cfg.dma_bytes_per_cycle) + 1) * c->inferences;
  c->program_load_cycles = ceil_div(p.weight_bytes, p.cfg.dma_bytes_per_cycle) + 1;
  c->weight_mem_used_bytes = p.weight_bytes;
  c->act_peak_bytes = p.act_peak;
  c->act_peak_no_overlap_bytes = p.act_peak_no_overlap;
  c->act_used_bytes = p.act_used;
  int64_t t = c->dma_in_cycles + c->dma_out_cycles;
  for (const LayerCounts& l : c->layers) t += l.cycles;
  c->total_cycles = t;
}

}  // namespace prunesim::raman
