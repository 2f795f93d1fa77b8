// Builds the whole-core RTL's tables from the layer program (docs/raman-rtl.md "Tables",
// "Gather lists"). The candidate order of every position is the SystemC zero detector's
// (core.cpp): broadcast c, i, j (flat: k) skipping padding and columns without a kept weight;
// lane i, j, t skipping padding and all-pruned depthwise tiles.
#include "models/raman/rtl_image.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "hls/pool.h"
#include "prune/errors.h"

namespace prunesim::raman {
namespace {

struct AxisTap {
  int64_t i;  // kernel index on this axis
  int64_t d;  // input coordinate relative to the position's base
  bool operator<(const AxisTap& o) const { return i != o.i ? i < o.i : d < o.d; }
  bool operator==(const AxisTap& o) const { return i == o.i && d == o.d; }
};

// One axis of a layer: per output coordinate its class, base input coordinate and (average
// pool) window-count factor; per class the valid taps in kernel order.
struct Axis {
  std::vector<int64_t> cls, base, factor;
  std::vector<std::vector<AxisTap>> classes;
};

struct AxisGeom {
  int64_t n_out, n_in, k, s, d, pad, pad_end;
  bool transpose, global, count_pad;
};

Axis make_axis(const AxisGeom& g) {
  Axis a;
  std::map<std::vector<AxisTap>, int64_t> index;
  for (int64_t o = 0; o < g.n_out; ++o) {
    std::vector<std::pair<int64_t, int64_t>> taps;  // (i, input coordinate)
    int64_t factor = 0;
    for (int64_t i = 0; i < g.k; ++i) {
      int64_t c;
      bool ok;
      if (g.global) {
        c = i;
        ok = c < g.n_in;
      } else if (g.transpose) {
        const int64_t t = o + g.pad - i * g.d;
        ok = t >= 0 && t % g.s == 0 && t / g.s < g.n_in;
        c = ok ? t / g.s : 0;
      } else {
        c = o * g.s - g.pad + i * g.d;
        ok = c >= 0 && c < g.n_in;
      }
      if (ok) taps.emplace_back(i, c);
      // The average pool's window count (hls::pool_window_count) per axis.
      if (!g.global && !g.transpose) {
        const int64_t cc = o * g.s - g.pad + i * g.d;
        const int64_t lo = g.count_pad ? -g.pad : 0, hi = g.count_pad ? g.n_in + g.pad_end : g.n_in;
        if (cc >= lo && cc < hi) ++factor;
      }
    }
    int64_t base = 0;
    if (!taps.empty()) {
      base = taps.front().second;
      for (const auto& t : taps) base = std::min(base, t.second);
    }
    std::vector<AxisTap> key;
    for (const auto& t : taps) key.push_back({t.first, t.second - base});
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, static_cast<int64_t>(a.classes.size())).first;
      a.classes.push_back(key);
    }
    a.cls.push_back(it->second);
    a.base.push_back(base);
    a.factor.push_back(factor);
  }
  return a;
}

uint32_t u32(int64_t v) {
  return static_cast<uint32_t>(static_cast<int32_t>(v));
}

// The tables being built: put(sel, w) appends a word; the weight images collect as bytes.
struct Tables {
  RtlImage img;
  std::vector<uint8_t> wbytes;
  void put(int sel, uint32_t w) { img.tables[static_cast<size_t>(sel)].push_back(w); }
  int64_t size(int sel) const {
    return static_cast<int64_t>(img.tables[static_cast<size_t>(sel)].size());
  }
};

// What a run (a layer or a folding pass) needs that the RTL does not have; lw names the layer.
void check_run(const LayerProgram& L, const std::string& lw) {
  if (L.pes > kRtlPes || L.slots > kRtlSlots)
    throw InputError(lw + "does not fit 16 PEs x 8 slots");
  if (L.qkind == QLayer::Kind::Lut)
    throw InputError(lw +
                     "look-up activation (Sigmoid/Tanh/LeakyRelu) is not in the RTL (its "
                     "PPU has no table); simulate runs it");
  if (L.qkind == QLayer::Kind::Mul)
    throw InputError(lw +
                     "elementwise Mul is not in the RTL (its PPU multiplies by requantization "
                     "multipliers only); simulate runs it");
  if (L.qkind == QLayer::Kind::Move)
    throw InputError(lw +
                     "channel copy (a channel shuffle or split) is not in the RTL (its drain "
                     "writes the channels in accumulator order); simulate runs it");
  if (L.qkind == QLayer::Kind::Add && L.in2.pitch() != L.in.pitch())
    throw InputError(lw + "Add of operands with different position strides (a channel view) is " +
                     "not in the RTL; simulate runs it");
  if (L.lfsr && L.lfsr_slots != L.slots)
    throw InputError(lw +
                     "balanced LFSR across folding passes is not in the RTL (its column "
                     "fetch draws over at most 8 slots; the layer's groups have " +
                     std::to_string(L.lfsr_slots) + ")");
}

// The run's weight image into WMEM and its column table into CTAB; returns the CTAB base. A
// balanced-LFSR group must be drawn within the column fetch's unrolled draws.
int64_t put_weights(Tables& T, const LayerProgram& L, const std::string& lw) {
  const int64_t wbase = static_cast<int64_t>(T.wbytes.size());
  T.wbytes.insert(T.wbytes.end(), L.image.begin(), L.image.end());
  if (static_cast<int64_t>(T.wbytes.size()) > kRtlTableWords[kWmem] * 4)
    throw InputError(lw + "weight images need " + std::to_string(T.wbytes.size()) +
                     " B, the RTL weight memory holds " +
                     std::to_string(kRtlTableWords[kWmem] * 4) + " B");
  const int64_t cbase = T.size(kCtab);
  for (size_t r = 0; r < L.col_addr.size(); ++r) {
    const uint32_t state = L.lfsr ? L.col_lfsr_state[r] : 0u;
    T.put(kCtab, static_cast<uint32_t>(wbase + L.col_addr[r]) | state << 16);
  }
  if (!L.lfsr || L.mode == Mode::Lane) return cbase;
  std::vector<int32_t> drawn;
  for (int64_t r = 0; r < L.cols; ++r) {
    uint16_t s = L.col_lfsr_state[static_cast<size_t>(r)];
    for (int64_t q = 0; q < L.pes; ++q) {
      const int64_t steps = lfsr_group_slots(&s, L.lfsr_slots, L.lfsr_k, &drawn);
      if (steps > kRtlLfsrDraws)
        throw InputError(lw + "balanced LFSR group (column " + std::to_string(r) + ", PE " +
                         std::to_string(q) + ") needs " + std::to_string(steps) +
                         " draws, the RTL column fetch unrolls " + std::to_string(kRtlLfsrDraws));
    }
  }
  return cbase;
}

// The RTL forms an average pool's window count as a product of the axis factors: check it is.
void check_pool_separable(const LayerProgram& L, const Axis& ay, const Axis& ax,
                          const std::string& lw) {
  hls::PoolParams pp;
  pp.in_h = static_cast<int32_t>(L.in.h), pp.in_w = static_cast<int32_t>(L.in.w);
  pp.k_h = static_cast<int32_t>(L.kh), pp.k_w = static_cast<int32_t>(L.kw);
  pp.stride_h = static_cast<int32_t>(L.sh), pp.stride_w = static_cast<int32_t>(L.sw);
  pp.dil_h = static_cast<int32_t>(L.dh), pp.dil_w = static_cast<int32_t>(L.dw);
  pp.pad_top = static_cast<int32_t>(L.pt), pp.pad_left = static_cast<int32_t>(L.pl);
  pp.pad_bottom = static_cast<int32_t>(L.pool_pb);
  pp.pad_right = static_cast<int32_t>(L.pool_pr);
  pp.count_include_pad = L.count_include_pad;
  for (int64_t oy = 0; oy < L.out.h; ++oy)
    for (int64_t ox = 0; ox < L.out.w; ++ox)
      if (ay.factor[static_cast<size_t>(oy)] * ax.factor[static_cast<size_t>(ox)] !=
          hls::pool_window_count(pp, static_cast<int32_t>(oy), static_cast<int32_t>(ox)))
        throw std::logic_error(lw + "average-pool window count is not separable");
}

// The run's position classes on each axis (one class per distinct set of valid taps).
void make_axes(const LayerProgram& L, const std::string& lw, Axis* ay, Axis* ax) {
  const bool global =
      L.qkind == QLayer::Kind::GlobalAvgPool || L.qkind == QLayer::Kind::GlobalMaxPool;
  if (L.flat_input) {
    if (L.positions() != 1) throw InputError(lw + "flat input with several output positions");
    *ay = make_axis({1, 1, 0, 1, 1, 0, 0, false, false, false});
    *ax = *ay;
  } else {
    *ay = make_axis({L.out.h, L.in.h, L.kh, L.sh, L.dh, L.pt, L.pool_pb, L.transpose, global,
                     L.count_include_pad});
    *ax = make_axis({L.out.w, L.in.w, L.kw, L.sw, L.dw, L.pl, L.pool_pr, L.transpose, global,
                     L.count_include_pad});
  }
  if (L.qkind == QLayer::Kind::AvgPool) check_pool_separable(L, *ay, *ax, lw);
}

// Position table entries of one axis (input offset at `stride` bytes a coordinate, class and
// window factor); returns the first entry's index.
int64_t put_positions(Tables& T, const Axis& a, int64_t stride) {
  const int64_t first = T.size(kPtab) / 2;
  for (size_t o = 0; o < a.cls.size(); ++o) {
    T.put(kPtab, u32(a.base[o] * stride));
    T.put(kPtab, static_cast<uint32_t>(a.cls[o]) | static_cast<uint32_t>(a.factor[o]) << 16);
  }
  return first;
}

// The gather list of one class pair (y taps ty, x taps tx), in the SystemC zero detector's order.
void put_gather(Tables& T, const LayerProgram& L, int64_t cbase, const std::vector<AxisTap>& ty,
                const std::vector<AxisTap>& tx) {
  const bool lane = L.mode == Mode::Lane, dw = lane && L.qkind == QLayer::Kind::Conv;
  const bool add = L.qkind == QLayer::Kind::Add;
  // C: the run's channels; S: bytes per input position (a lane pass reads a channel slice of a
  // wider tensor).
  const int64_t C = L.in.c, S = L.in.pitch(), W = L.in.w, taps = L.kh * L.kw, np = L.pes;
  auto cand = [&](int64_t ctab, int64_t tile, int64_t off) {
    T.put(kGmem, static_cast<uint32_t>(ctab) | static_cast<uint32_t>(tile) << 20);
    T.put(kGmem, u32(off));
  };
  if (L.flat_input) {
    const int64_t hw = L.in.h * L.in.w;
    for (int64_t k = 0; k < L.cols; ++k)
      if (L.col_work[static_cast<size_t>(k)] > 0)
        cand(cbase + k, 0, L.in.addr(k / hw, (k % hw) / W, (k % hw) % W) - L.in.base);
  } else if (!lane) {
    for (int64_t ch = 0; ch < C; ++ch)
      for (const AxisTap& a : ty)
        for (const AxisTap& b : tx) {
          const int64_t r = ch * taps + a.i * L.kw + b.i;
          if (L.col_work[static_cast<size_t>(r)] == 0) continue;
          cand(cbase + r, 0, (a.d * W + b.d) * S + ch);
        }
  } else {
    for (const AxisTap& a : ty)
      for (const AxisTap& b : tx)
        for (int64_t t = 0; t < L.slots; ++t) {
          const int64_t k = a.i * L.kw + b.i;
          if (dw && L.tap_skip[static_cast<size_t>(t * taps + k)]) continue;
          cand(dw ? cbase + t * taps + k : 0, t, (a.d * W + b.d) * S + t * np);
          // Add: operand b's word at the same position of the other tensor (GMEM w0 bit 28:
          // into slot t + slots).
          if (add) cand(0, t | 0x100, (a.d * W + b.d) * S + t * np + (L.in2.base - L.in.base));
        }
  }
}

// The descriptor fields the layer kind sets: init, PPU mode, lane op, clamp bounds.
struct KindFields {
  uint32_t init = 0, ppu = 0, op = 0;
  int8_t amin = 0, amax = 0;
};

// Bias and requantization entries into QTAB; returns the kind's descriptor fields.
KindFields put_requant(Tables& T, const LayerProgram& L) {
  auto q = [&](int32_t bias, const hls::Requant& rq) {
    T.put(kQtab, static_cast<uint32_t>(bias));
    T.put(kQtab, static_cast<uint32_t>(rq.multiplier) & 0x7fffffffu);
    T.put(kQtab, static_cast<uint32_t>(rq.shift) & 0x3fu);
    T.put(kQtab, 0);
  };
  KindFields k;
  k.amin = L.act_min;
  k.amax = L.act_max;
  switch (L.qkind) {
    case QLayer::Kind::MaxPool:
    case QLayer::Kind::GlobalMaxPool:
      k.init = 1, k.ppu = 1, k.op = 1;
      k.amin = hls::kInt8Min, k.amax = hls::kInt8Max;  // the model keeps the int8 maximum as is
      break;
    case QLayer::Kind::Clamp:
      k.init = 2, k.ppu = 1, k.op = 3;
      break;
    case QLayer::Kind::AvgPool:
      k.init = 2, k.ppu = 2, k.op = 2;
      for (const hls::Requant& rq : L.requant) q(0, rq);
      break;
    case QLayer::Kind::GlobalAvgPool:
      k.init = 2, k.ppu = 3, k.op = 2;
      q(0, L.requant.at(0));
      break;
    case QLayer::Kind::Concat:  // a copy pass: lanes pass the codes, one rescale for the pass
      k.init = 2, k.ppu = 3, k.op = 3;
      q(0, L.requant.at(0));
      break;
    case QLayer::Kind::Add:  // lanes pass both operands; the drain rescales a, b, the sum
      k.init = 2, k.ppu = 3, k.op = 3;
      for (size_t i = 0; i < 3; ++i) q(0, L.requant.at(i));
      break;
    default:
      for (int64_t ch = 0; ch < L.out.c; ++ch)
        q(L.bias.empty() ? 0 : L.bias[static_cast<size_t>(ch)],
          L.requant.at(static_cast<size_t>(ch)));
      break;
  }
  return k;
}

// The decoder format of the descriptor's d0 (docs/raman-rtl.md "Layer descriptor").
uint32_t enc_code(const LayerProgram& L) {
  switch (L.enc) {
    case Enc::Bitmap:
      return 1;
    case Enc::Csr:
      return 2;
    case Enc::Balanced:
      return L.lfsr ? 4 : 3;
    default:
      return 0;
  }
}

// One run's tables and its 16-word descriptor in DTAB.
void put_run(Tables& T, const LayerProgram& L, const std::string& where) {
  const std::string lw = where + "layer '" + L.name + "': ";
  check_run(L, lw);
  const bool lane = L.mode == Mode::Lane, add = L.qkind == QLayer::Kind::Add;
  const int64_t cbase = put_weights(T, L, lw);
  Axis ay, ax;
  make_axes(L, lw, &ay, &ax);
  const int64_t S = L.in.pitch();
  const int64_t pty = put_positions(T, ay, L.in.w * S), ptx = put_positions(T, ax, S);
  const int64_t lbase = T.size(kLtab) / 2;
  const int64_t NX = static_cast<int64_t>(ax.classes.size());
  for (const std::vector<AxisTap>& ty : ay.classes)
    for (const std::vector<AxisTap>& tx : ax.classes) {
      const int64_t first = T.size(kGmem) / 2;
      put_gather(T, L, cbase, ty, tx);
      const int64_t n = T.size(kGmem) / 2 - first;
      T.img.candidates += n;
      T.put(kLtab, static_cast<uint32_t>(first));
      T.put(kLtab, static_cast<uint32_t>(n));
    }
  const int64_t qbase = T.size(kQtab) / 4;
  const KindFields k = put_requant(T, L);
  std::vector<uint32_t> d(16, 0);
  d[0] = (lane ? 1u : 0u) | enc_code(L) << 2 | k.op << 5 | k.init << 8 | k.ppu << 10 |
         (add ? 1u : 0u) << 12;
  d[1] = u32(L.pes);
  d[2] = u32(L.slots);
  d[3] = u32(L.cluster);
  // [7:0] channels, [31:16] bytes per output position (a pass writes a channel slice).
  d[4] = u32(L.out.c) | static_cast<uint32_t>(L.out.pitch()) << 16;
  d[5] = u32(L.out.h);
  d[6] = u32(L.out.w);
  d[7] = u32(L.out.base);
  d[8] = u32(L.in.base);
  d[9] = u32(L.in.c);
  d[10] = u32(lbase);
  d[11] = u32(NX);
  d[12] = u32(pty);
  d[13] = u32(ptx);
  d[14] = u32(qbase);
  d[15] = static_cast<uint32_t>(static_cast<uint8_t>(k.amin)) |
          static_cast<uint32_t>(static_cast<uint8_t>(k.amax)) << 8 |
          static_cast<uint32_t>(L.lfsr_k & 0xff) << 16;
  auto& dtab = T.img.tables[kDtab];
  dtab.insert(dtab.end(), d.begin(), d.end());
  ++T.img.layers;
}

// The layer count, the weight bytes as WMEM words, and every table's size against the RTL's.
void finish_tables(Tables& T, const std::string& where) {
  RtlImage& img = T.img;
  img.tables[kDtab][0] = u32(img.layers);
  for (size_t b = 0; b < T.wbytes.size(); b += 4) {
    uint32_t w = 0;
    for (size_t i = 0; i < 4 && b + i < T.wbytes.size(); ++i)
      w |= static_cast<uint32_t>(T.wbytes[b + i]) << (8 * i);
    T.put(kWmem, w);
  }
  for (int t = 0; t < kRtlTables; ++t)
    if (T.size(t) > kRtlTableWords[static_cast<size_t>(t)])
      throw InputError(where + kRtlTableNames[t] + " needs " + std::to_string(T.size(t)) +
                       " words, the RTL has " +
                       std::to_string(kRtlTableWords[static_cast<size_t>(t)]));
  if ((img.in_bytes() + 3) / 4 > kRtlTableWords[kHin])
    throw InputError(where + "the input needs " + std::to_string(img.in_bytes()) +
                     " B, HIN holds " + std::to_string(kRtlTableWords[kHin] * 4) + " B");
}

}  // namespace

std::string rtl_config_mismatch(const RamanConfig& cfg) {
  auto bad = [](const char* name, int64_t v, const std::string& rtl) {
    return std::string(name) + "=" + std::to_string(v) + " (the RTL has " + rtl + ")";
  };
  if (cfg.pe_count != kRtlPes) return bad("pe_count", cfg.pe_count, "16");
  // cluster_size is not fixed: each decoder serves kRtlCluster PEs, and the group sharing a
  // balanced pattern is the layer descriptor's d3 (the column fetch expands it per PE).
  if (cfg.acc_per_pe != kRtlSlots) return bad("acc_per_pe", cfg.acc_per_pe, "8");
  if (cfg.ppu_lanes != 1) return bad("ppu_lanes", cfg.ppu_lanes, "1");
  if (cfg.dma_bytes_per_cycle != 4) return bad("dma_bytes_per_cycle", cfg.dma_bytes_per_cycle, "4");
  if (cfg.acc_bits > 32) return bad("acc_bits", cfg.acc_bits, "32");
  if (cfg.act_mem_bytes > kRtlActBytes) return bad("act_mem_bytes", cfg.act_mem_bytes, "65536 B");
  return "";
}

RtlImage build_rtl_image(const RamanProgram& p) {
  const std::string where = p.source + ": whole-core RTL: ";
  if (const std::string m = rtl_config_mismatch(p.cfg); !m.empty())
    throw InputError(where + "configuration " + m);
  Tables T;
  RtlImage& img = T.img;
  // Global words g0..g15 first; g0 (layer count) is patched at the end.
  auto& g = img.tables[kDtab];
  g.assign(16, 0);
  g[1] = u32(p.input.base);
  g[2] = u32(p.input.bytes());
  g[3] = u32(p.output.base);
  g[4] = u32(p.output.bytes());
  g[5] = u32(p.cfg.layer_setup_cycles);
  img.in_c = p.input.c;
  img.in_hw = p.input.h * p.input.w;
  img.out_c = p.output.c;
  img.out_hw = p.output.h * p.output.w;
  // Folded layers: one descriptor per pass.
  for (const LayerProgram& L : p.layers)
    if (L.mode != Mode::None)
      for (const LayerProgram* r : L.runs()) put_run(T, *r, where);
  finish_tables(T, where);
  return std::move(T.img);
}

std::vector<uint32_t> RtlImage::hin_words(const std::vector<int8_t>& nchw) const {
  const int64_t n = in_bytes();
  if (static_cast<int64_t>(nchw.size()) != n)
    throw std::logic_error("rtl image: input sample has " + std::to_string(nchw.size()) +
                           " codes, the program takes " + std::to_string(n));
  std::vector<uint32_t> w(static_cast<size_t>((n + 3) / 4), 0);
  for (int64_t c = 0; c < in_c; ++c)
    for (int64_t s = 0; s < in_hw; ++s) {
      const int64_t b = s * in_c + c;  // NHWC byte
      w[static_cast<size_t>(b / 4)] |=
          static_cast<uint32_t>(static_cast<uint8_t>(nchw[static_cast<size_t>(c * in_hw + s)]))
          << (8 * (b % 4));
    }
  return w;
}

std::vector<int8_t> RtlImage::output_from_words(const std::vector<uint32_t>& words) const {
  const int64_t n = out_bytes();
  std::vector<int8_t> y(static_cast<size_t>(n), 0);
  for (int64_t c = 0; c < out_c; ++c)
    for (int64_t s = 0; s < out_hw; ++s) {
      const int64_t b = s * out_c + c;
      const size_t wi = static_cast<size_t>(b / 4);
      const uint32_t w = wi < words.size() ? words[wi] : 0u;
      y[static_cast<size_t>(c * out_hw + s)] = static_cast<int8_t>(w >> (8 * (b % 4)) & 0xffu);
    }
  return y;
}

std::string RtlImage::usage() const {
  std::ostringstream s;
  for (int t = 0; t < kRtlTables; ++t)
    s << kRtlTableNames[t] << " " << tables[static_cast<size_t>(t)].size() << "/"
      << kRtlTableWords[static_cast<size_t>(t)] << " words\n";
  return s.str();
}

}  // namespace prunesim::raman
