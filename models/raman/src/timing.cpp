// The analytical twin: the cycles and action counts of one layer computed from the program and
// the layer's input codes, with no event simulation. Timing rules (docs/raman.md "Timing"):
//   layer    = setup + sum over output positions (raster order) of
//   position = 1 (accumulator init) + stream + 1 (pipeline flush) + ceil(out_channels / ppu_lanes)
//   stream   = broadcast mode: per candidate column r (not padding, some weight kept):
//                1 cycle if the activation is zero, else col_work[r] cycles;
//              lane mode: 1 cycle per (tap, channel tile) word (not padding, not all pruned).
// The SystemC model produces the same numbers by running the clocked pipeline (tests).
#include <algorithm>

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
    const int64_t lo = std::min(L.in.base, L.out.base);
    const int64_t hi = std::max(L.in.base + L.in.bytes(), L.out.base + L.out.bytes());
    c.act_footprint_bytes = hi - lo;
  }
  c.weight_bytes = L.mode == Mode::None ? 0 : L.weight_bytes;
  return c;
}

void analytical_layer(const LayerProgram& L, const RamanConfig& cfg, const int8_t* x,
                      LayerCounts* out) {
  LayerCounts c = empty_counts(L, cfg);
  if (L.mode == Mode::None) {
    *out = std::move(c);
    return;
  }
  const int64_t P = cfg.pe_count, np = L.pes;
  const int64_t drain = ceil_div(L.out.c, cfg.ppu_lanes);
  int64_t cycles = cfg.layer_setup_cycles;
  int64_t zero_cands = 0;  // stall cycles of PEs p < np
  std::vector<int64_t> busy(static_cast<size_t>(P), 0);
  const int64_t positions = L.positions();
  const int64_t H = L.in.h, W = L.in.w, C = L.in.c;
  auto act = [&](int64_t ch, int64_t y, int64_t xx) { return x[(ch * H + y) * W + xx]; };
  if (L.mode == Mode::Broadcast) {
    // Per column: non-zero weights over all rows (the MAC partition) and per-PE busy cycles.
    std::vector<int64_t> col_nz(static_cast<size_t>(L.cols), 0);
    int64_t nz_total = 0;
    for (int64_t r = 0; r < L.cols; ++r) {
      for (int64_t p = 0; p < np; ++p)
        col_nz[static_cast<size_t>(r)] += L.group_nz[static_cast<size_t>(r * np + p)];
      nz_total += col_nz[static_cast<size_t>(r)];
    }
    int64_t nz_seen = 0;  // sum of col_nz over every structurally present (position, column)
    auto candidate = [&](int64_t r, int8_t a) {
      const size_t ri = static_cast<size_t>(r);
      nz_seen += col_nz[ri];
      const int64_t work = L.col_work[ri];
      if (work == 0) return;  // the controller skips columns with no kept weight
      ++c.zero_checks;
      ++c.act_reads;
      ++c.act_read_bytes;
      if (a == 0) {
        ++cycles;
        ++zero_cands;
        return;
      }
      cycles += work;
      ++c.broadcasts;
      c.macs_executed += col_nz[ri];
      c.weight_read_bits += L.group_bits[ri];
      c.weight_reads += ceil_div(L.group_bits[ri], 32);
      c.decoder_steps +=
          L.group_off[static_cast<size_t>((r + 1) * np)] - L.group_off[static_cast<size_t>(r * np)];
      if (!L.col_lfsr_steps.empty()) c.lfsr_steps += L.col_lfsr_steps[ri];
      for (int64_t p = 0; p < np; ++p)
        busy[static_cast<size_t>(p)] += L.group_nz[static_cast<size_t>(r * np + p)];
    };
    const int64_t taps = L.kh * L.kw;
    for (int64_t pos = 0; pos < positions; ++pos) {
      cycles += 1;  // accumulator init with the bias
      const int64_t oy = pos / L.out.w, ox = pos % L.out.w;
      if (L.flat_input) {
        const int64_t hw = H * W;
        for (int64_t k = 0; k < L.cols; ++k) {
          const int64_t ch = k / hw, sp = k % hw;
          candidate(k, act(ch, sp / W, sp % W));
        }
      } else {
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t i = 0; i < L.kh; ++i)
            for (int64_t j = 0; j < L.kw; ++j) {
              const int64_t r = ch * taps + i * L.kw + j;
              int64_t iy, ix;
              if (L.transpose) {
                const int64_t ty = oy + L.pt - i * L.dh, tx = ox + L.pl - j * L.dw;
                if (ty < 0 || tx < 0 || ty % L.sh || tx % L.sw) continue;  // no such tap
                iy = ty / L.sh;
                ix = tx / L.sw;
                if (iy >= H || ix >= W) continue;
              } else {
                iy = oy * L.sh - L.pt + i * L.dh;
                ix = ox * L.sw - L.pl + j * L.dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) {  // padding: never fetched
                  nz_seen += col_nz[static_cast<size_t>(r)];
                  continue;
                }
              }
              candidate(r, act(ch, iy, ix));
            }
      }
      cycles += 1 + drain;
    }
    c.macs_dense = L.macs_dense;
    c.macs_skipped_pruned = L.macs_dense - nz_seen;
    c.macs_skipped_zero = nz_seen - c.macs_executed;
    c.acc_updates = c.macs_executed + positions * L.rows;
    for (int64_t p = 0; p < np; ++p) busy[static_cast<size_t>(p)] += positions;  // init
  } else {                                                                       // Lane mode
    const bool dw = L.qkind == QLayer::Kind::Conv;
    const bool global =
        L.qkind == QLayer::Kind::GlobalAvgPool || L.qkind == QLayer::Kind::GlobalMaxPool;
    const int64_t taps = L.kh * L.kw;
    const int64_t tiles = L.slots;
    int64_t nz_seen = 0;
    for (int64_t pos = 0; pos < positions; ++pos) {
      cycles += 1;
      const int64_t oy = pos / L.out.w, ox = pos % L.out.w;
      for (int64_t i = 0; i < L.kh; ++i)
        for (int64_t j = 0; j < L.kw; ++j) {
          const int64_t iy = global ? i : oy * L.sh - L.pt + i * L.dh;
          const int64_t ix = global ? j : ox * L.sw - L.pl + j * L.dw;
          const int64_t k = i * L.kw + j;
          const bool pad = iy < 0 || iy >= H || ix < 0 || ix >= W;
          for (int64_t t = 0; t < tiles; ++t) {
            const int64_t c0 = t * np, c1 = std::min(C, c0 + np);
            if (dw)
              for (int64_t ch = c0; ch < c1; ++ch)
                nz_seen += L.lane_w[static_cast<size_t>(ch * taps + k)] != 0;
            if (pad) continue;
            if (dw && L.tap_skip[static_cast<size_t>(t * taps + k)]) continue;
            ++cycles;
            ++c.act_reads;
            c.act_read_bytes += c1 - c0;
            c.zero_checks += c1 - c0;
            for (int64_t ch = c0; ch < c1; ++ch) {
              const size_t p = static_cast<size_t>(ch - c0);
              if (!dw) {
                ++busy[p];
                ++c.acc_updates;
                continue;
              }
              const size_t wi = static_cast<size_t>(ch * taps + k);
              if (L.lane_keep[wi]) {
                c.weight_read_bits += 8;
                ++c.decoder_steps;
              }
              if (L.encoding == "bitmap") c.weight_read_bits += 1;
              if (L.lane_w[wi] != 0 && act(ch, iy, ix) != 0) {
                ++busy[p];
                ++c.macs_executed;
              }
            }
            if (dw) ++c.weight_reads;
          }
        }
      cycles += 1 + drain;
    }
    if (dw) {
      c.macs_dense = L.macs_dense;
      c.macs_skipped_pruned = L.macs_dense - nz_seen;
      c.macs_skipped_zero = nz_seen - c.macs_executed;
      c.acc_updates = c.macs_executed + positions * C;
    } else {
      c.acc_updates += positions * C;
    }
    for (int64_t p = 0; p < np; ++p) busy[static_cast<size_t>(p)] += positions;  // init
  }
  c.ppu_ops = positions * L.out.c;
  c.act_writes = positions * drain;
  c.act_write_bytes = positions * L.out.c;
  c.cycles = cycles;
  for (int64_t p = 0; p < P; ++p) {
    const size_t i = static_cast<size_t>(p);
    c.busy_per_pe[i] = busy[i];
    c.stalled_per_pe[i] = (L.mode == Mode::Broadcast && p < np) ? zero_cands : 0;
    c.gated_per_pe[i] = cycles - c.busy_per_pe[i] - c.stalled_per_pe[i];
    c.pe_busy += c.busy_per_pe[i];
    c.pe_stalled += c.stalled_per_pe[i];
    c.pe_gated += c.gated_per_pe[i];
  }
  *out = std::move(c);
}

void accumulate(LayerCounts& a, const LayerCounts& b) {
  a.cycles += b.cycles;
  a.macs_dense += b.macs_dense;
  a.macs_executed += b.macs_executed;
  a.macs_skipped_zero += b.macs_skipped_zero;
  a.macs_skipped_pruned += b.macs_skipped_pruned;
  a.acc_updates += b.acc_updates;
  a.broadcasts += b.broadcasts;
  a.act_reads += b.act_reads;
  a.act_read_bytes += b.act_read_bytes;
  a.act_writes += b.act_writes;
  a.act_write_bytes += b.act_write_bytes;
  a.weight_reads += b.weight_reads;
  a.weight_read_bits += b.weight_read_bits;
  a.decoder_steps += b.decoder_steps;
  a.lfsr_steps += b.lfsr_steps;
  a.ppu_ops += b.ppu_ops;
  a.zero_checks += b.zero_checks;
  a.pe_busy += b.pe_busy;
  a.pe_stalled += b.pe_stalled;
  a.pe_gated += b.pe_gated;
  for (size_t i = 0; i < a.busy_per_pe.size() && i < b.busy_per_pe.size(); ++i) {
    a.busy_per_pe[i] += b.busy_per_pe[i];
    a.stalled_per_pe[i] += b.stalled_per_pe[i];
    a.gated_per_pe[i] += b.gated_per_pe[i];
  }
}

void finish_counts(const RamanProgram& p, RamanCounts* c) {
  c->config = p.cfg;
  c->dma_in_bytes = p.input.bytes() * c->inferences;
  c->dma_out_bytes = p.output.bytes() * c->inferences;
  // Beats plus one completion-handshake cycle each way.
  c->dma_in_cycles = (ceil_div(p.input.bytes(), p.cfg.dma_bytes_per_cycle) + 1) * c->inferences;
  c->dma_out_cycles = (ceil_div(p.output.bytes(), p.cfg.dma_bytes_per_cycle) + 1) * c->inferences;
  c->program_load_cycles = ceil_div(p.weight_bytes, p.cfg.dma_bytes_per_cycle);
  c->weight_mem_used_bytes = p.weight_bytes;
  c->act_peak_bytes = p.act_peak;
  c->act_peak_no_overlap_bytes = p.act_peak_no_overlap;
  int64_t t = c->dma_in_cycles + c->dma_out_cycles;
  for (const LayerCounts& l : c->layers) t += l.cycles;
  c->total_cycles = t;
}

}  // namespace prunesim::raman
