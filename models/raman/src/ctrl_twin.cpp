// The controller twin (models/raman/ctrl_twin.h), written from docs/raman-rtl.md.
#include "models/raman/ctrl_twin.h"

#include <algorithm>

#include "hls/arith.h"

namespace prunesim::raman {
namespace {

// The Galois LFSR of prune/balanced.h (docs/raman-rtl.md "Column fetch").
uint32_t lfsr16(uint32_t x) {
  return (x >> 1) ^ ((x & 1u) ? 0xB400u : 0u);
}

uint32_t popcount8(uint32_t v) {
  uint32_t n = 0;
  for (int i = 0; i < 8; ++i) n += (v >> i) & 1u;
  return n;
}

uint32_t low_bits(uint32_t n) {
  return n >= 32 ? 0xffffffffu : (1u << n) - 1u;
}

// Bits [lo, lo + w) of a word array (w <= 32).
void put_bits(uint32_t* words, int lo, int w, uint32_t v) {
  for (int b = 0; b < w; ++b) {
    const int i = lo + b;
    if ((v >> b) & 1u)
      words[i / 32] |= 1u << (i % 32);
    else
      words[i / 32] &= ~(1u << (i % 32));
  }
}

template <int N, size_t W>
sc_dt::sc_bv<N> to_bv(const std::array<uint32_t, W>& w) {
  static_assert(N == static_cast<int>(W) * 32, "whole words");
  sc_dt::sc_bv<N> b;
  for (size_t i = 0; i < W; ++i) b.set_word(static_cast<int>(i), w[i]);
  return b;
}

// Writes a signal only when the value changes (sc_bv compares are cheaper than events).
template <class P, class V>
void put(P& port, const V& v) {
  if (!(port.read() == v)) port.write(v);
}

}  // namespace

constexpr std::array<uint32_t, 8> RamanCtrlTwin::kTableWords;

RamanCtrlTwin::RamanCtrlTwin(sc_core::sc_module_name n) : sc_core::sc_module(n) {
  for (size_t i = 0; i < tab_.size(); ++i) tab_[i].assign(kTableWords[i], 0u);
  SC_METHOD(tick);
  sensitive << clk.pos() << rst_n.neg();
  SC_METHOD(comb);
  sensitive << changed_ << am_rd_data << dec_valid << dec_slot << dec_wgt << pa_rd_acc << rq_out_q;
}

void RamanCtrlTwin::tick() {
  const bool edge = clk.posedge();
  if (!rst_n.read()) {
    r_ = Regs{};
  } else if (edge) {
    Out o;
    Regs n;
    eval(&o, &n);
    r_ = n;
  }
  // The table memories have no reset: only the program port writes them, on any rising edge.
  if (edge && pl_en.read()) {
    const uint32_t sel = pl_sel.read() & 7u, a = pl_addr.read() & 0x3ffffu;
    auto& v = tab_[sel];
    if (a < v.size()) v[a] = pl_data.read();
  }
  // Immediate: the outputs follow the registers in the edge's own delta cycle, like the
  // Verilated model's (rtl_twins.h does the same for its combinational outputs).
  changed_.notify();
}

void RamanCtrlTwin::comb() {
  Out o;
  eval(&o, nullptr);
  put(busy, o.busy);
  put(dout_valid, o.dout_valid);
  put(dout_addr, o.dout_addr);
  put(dout_data, o.dout_data);
  put(am_rd_en, o.am_rd_en);
  put(am_rd_word, o.am_rd_word);
  put(am_rd_addr, o.am_rd_addr);
  put(am_wr_en, o.am_wr_en);
  put(am_wr_addr, o.am_wr_addr);
  put(am_wr_be, o.am_wr_be);
  put(am_wr_data, o.am_wr_data);
  put(pa_gate_en, o.pa_gate_en);
  put(pa_init, o.pa_init);
  put(pa_init_bias, to_bv<4096>(o.pa_init_bias));
  put(pa_act, o.pa_act);
  put(pa_lane, o.pa_lane);
  put(pa_op_max, o.pa_op_max);
  put(pa_lane_act, to_bv<128>(o.pa_lane_act));
  put(pa_mac_valid, o.pa_mac_valid);
  put(pa_mac_slot, o.pa_mac_slot);
  put(pa_wgt, to_bv<128>(o.pa_wgt));
  put(pa_rd_pe, o.pa_rd_pe);
  put(pa_rd_slot, o.pa_rd_slot);
  put(dec_load, o.dec_load);
  put(dec_fmt, o.dec_fmt);
  put(dec_bits, to_bv<128>(o.dec_bits));
  put(dec_cnt, o.dec_cnt);
  put(dec_idx, to_bv<384>(o.dec_idx));
  put(dec_vals, to_bv<1024>(o.dec_vals));
  put(rq_in_valid, o.rq_in_valid);
  put(rq_bypass, o.rq_bypass);
  put(rq_acc, o.rq_acc);
  put(rq_mult, o.rq_mult);
  put(rq_shift, o.rq_shift);
  put(rq_act_min, o.rq_act_min);
  put(rq_act_max, o.rq_act_max);
}

void RamanCtrlTwin::position(uint32_t layer, uint32_t oy, uint32_t ox, Pos* p) const {
  for (uint32_t i = 0; i < 16; ++i) p->d[i] = t(6, 16 + 16 * layer + i);
  const uint32_t py = p->d[12] + oy, px = p->d[13] + ox;
  p->row_off = t(3, 2 * py);
  p->col_off = t(3, 2 * px);
  const uint32_t yw = t(3, 2 * py + 1), xw = t(3, 2 * px + 1);
  p->yfac = yw >> 16;
  p->xfac = xw >> 16;
  const uint32_t pair = p->d[10] + (yw & 0xffffu) * p->d[11] + (xw & 0xffffu);
  p->first = t(4, 2 * pair);
  p->n = t(4, 2 * pair + 1);
}

uint32_t RamanCtrlTwin::cand_addr(const Pos& p, uint32_t k) const {
  const uint32_t e = p.first + k;
  return (p.d[8] + p.row_off + p.col_off + t(2, 2 * e + 1)) & 0xffffu;
}

uint32_t RamanCtrlTwin::column_fetch(const Pos& p, uint32_t ct, Out* o) const {
  const uint32_t enc = (p.d[0] >> 2) & 7u;
  const uint32_t np = std::min<uint32_t>(p.d[1], kPes), slots = p.d[2], out_c = p.d[4] & 0xffu;
  const uint32_t cluster = p.d[3], lfsr_k = (p.d[15] >> 16) & 0xffu;
  const uint32_t ctab = t(1, ct);
  uint32_t a = ctab & 0xffffu;  // WMEM byte address
  uint32_t x = ctab >> 16;      // LFSR state (balanced LFSR)
  uint32_t pattern = 0, work = 0;
  const uint32_t fmt = enc == 0 ? 0u : enc == 2 ? 2u : 1u;
  o->dec_fmt = enc <= 4 ? fmt : 0u;
  if (enc > 4) return 1;  // not an encoding: no entries
  for (uint32_t pe = 0; pe < np; ++pe) {
    const uint32_t rows = p.d[1] == 0 || out_c <= pe ? 0u : (out_c - pe + p.d[1] - 1) / p.d[1];
    const uint32_t pslots = std::min(slots, rows);
    uint32_t bits = 0, nvals = 0;
    uint32_t idx[kSlots] = {}, vals[kSlots] = {};
    switch (enc) {
      case 0:  // dense: pslots values
        bits = low_bits(pslots) & 0xffu;
        nvals = pslots;
        break;
      case 1: {  // bitmap: mask byte, one value per set bit of the mask within pslots
        const uint32_t m = wbyte(a++);
        bits = m & low_bits(pslots) & 0xffu;
        nvals = popcount8(bits);
        break;
      }
      case 2: {  // csr: count n, n slot bytes, n values
        const uint32_t cnt = wbyte(a++);
        for (uint32_t k = 0; k < cnt; ++k) {
          const uint32_t s = wbyte(a++);
          if (k < kSlots) idx[k] = s & 7u;
        }
        bits = cnt & 0xfu;  // cnt[p] (4 bits): the entries the decoder yields
        nvals = cnt;
        o->dec_cnt |= static_cast<uint64_t>(cnt & 0xfu) << (4 * pe);
        break;
      }
      case 3:  // balanced pattern: the cluster head carries the pattern byte
        if (cluster != 0 && pe % cluster == 0) pattern = wbyte(a++);
        bits = pattern & low_bits(pslots) & 0xffu;
        nvals = popcount8(bits);
        break;
      case 4: {  // balanced LFSR: draw until lfsr_k distinct slots (at most 64 draws)
        uint32_t got = 0;
        for (int d = 0; d < kLfsrDraws && got < lfsr_k && slots != 0; ++d) {
          x = lfsr16(x);
          const uint32_t s = x % slots;
          if (s < kSlots && !((bits >> s) & 1u)) {
            bits |= 1u << s;
            ++got;
          }
        }
        nvals = popcount8(bits);
        break;
      }
    }
    for (uint32_t k = 0; k < nvals; ++k) {
      const uint32_t v = wbyte(a++);
      if (k < kSlots) vals[k] = v;
    }
    if (enc == 2) {
      work = std::max(work, bits);
      for (uint32_t k = 0; k < kSlots; ++k)
        put_bits(o->dec_idx.data(), static_cast<int>((pe * kSlots + k) * 3), 3, idx[k]);
    } else {
      work = std::max(work, popcount8(bits));
      put_bits(o->dec_bits.data(), static_cast<int>(pe * 8), 8, bits);
    }
    for (uint32_t k = 0; k < kSlots; ++k)
      put_bits(o->dec_vals.data(), static_cast<int>((pe * kSlots + k) * 8), 8, vals[k]);
  }
  return std::max<uint32_t>(work, 1);
}

void RamanCtrlTwin::depthwise_word(const Pos& p, uint32_t ct, uint32_t lanes, uint8_t* w) const {
  const uint32_t enc = (p.d[0] >> 2) & 7u;
  uint32_t a = t(1, ct) & 0xffffu;
  if (enc == 0) {
    for (uint32_t l = 0; l < lanes; ++l) w[l] = static_cast<uint8_t>(wbyte(a++));
    return;
  }
  const uint32_t mask_at = a;
  a += (lanes + 7) / 8;
  for (uint32_t l = 0; l < lanes; ++l)
    if ((wbyte(mask_at + l / 8) >> (l % 8)) & 1u) w[l] = static_cast<uint8_t>(wbyte(a++));
}

void RamanCtrlTwin::enter_layer(uint32_t layer, Regs* n) const {
  n->layer = layer;
  n->oy = n->ox = n->k = n->left = n->cnt = 0;
  if (layer >= t(6, 0))
    n->state = kDmaOut;
  else if (t(6, 5) > 0)
    n->state = kSetup;
  else
    n->state = kInit;
}

void RamanCtrlTwin::next_position(const Pos& p, Regs* n) const {
  n->k = n->left = n->cnt = 0;
  if (r_.ox + 1 < p.d[6]) {
    n->ox = r_.ox + 1;
    n->state = kInit;
  } else if (r_.oy + 1 < p.d[5]) {
    n->ox = 0;
    n->oy = r_.oy + 1;
    n->state = kInit;
  } else {
    enter_layer(r_.layer + 1, n);
  }
}

void RamanCtrlTwin::eval(Out* o, Regs* n) const {
  const Regs& r = r_;
  *o = Out{};
  if (n) {
    *n = r;
    // The lane registers hold only what the edge of a lane issue loads.
    n->lane_valid = n->lane_slot = 0;
    n->lane_act.fill(0);
    n->lane_wgt.fill(0);
  }
  o->busy = r.state != kIdle;
  switch (r.state) {
    case kIdle:
      if (n && start.read()) {
        n->state = kDmaIn;
        n->cnt = 0;
      }
      return;
    case kDmaIn:
      return eval_dma_in(o, n);
    case kDmaOut:
      return eval_dma_out(o, n);
    case kSetup:
      if (n) {
        if (r.cnt + 1 >= t(6, 5)) {
          n->state = kInit;
          n->cnt = 0;
        } else {
          n->cnt = r.cnt + 1;
        }
      }
      return;
    default:
      break;
  }
  // INIT, STREAM, FLUSH, DRAIN: the current layer and position.
  Layer L;
  position(r.layer, r.oy, r.ox, &L.p);
  const uint32_t* d = L.p.d;
  L.lane = (d[0] & 3u) == 1;
  L.op = (d[0] >> 5) & 7u;
  L.init = (d[0] >> 8) & 3u;
  L.ppu = (d[0] >> 10) & 3u;
  L.np = std::min<uint32_t>(d[1], kPes);
  L.slots = std::min<uint32_t>(d[2], kSlots);
  // d4: [7:0] channels, [31:16] bytes per output position (a folding pass writes a slice).
  L.out_c = d[4] & 0xffu;
  L.out_pitch = d[4] >> 16;
  L.qbase = d[14];
  if (r.state != kDrain) {
    o->pa_gate_en = L.np >= 16 ? 0xffffu : low_bits(L.np);
    o->pa_lane = L.lane;
    o->pa_op_max = L.lane && L.op == 1;
  }
  switch (r.state) {
    case kInit:
      return eval_init(L, o, n);
    case kStream:
      return eval_stream(L, o, n);
    case kFlush:
      array_operands(L, o);
      if (n) {
        n->state = kDrain;
        n->cnt = 0;
      }
      return;
    default:
      return eval_drain(L, o, n);
  }
}

void RamanCtrlTwin::eval_dma_in(Out* o, Regs* n) const {
  const uint32_t g1 = t(6, 1), g2 = t(6, 2), beats = (g2 + 3) / 4, j = r_.cnt;
  if (j < beats) {
    o->am_wr_en = true;
    o->am_wr_addr = (g1 + 4 * j) & 0xffffu;
    for (uint32_t i = 0; i < 4; ++i)
      if (4 * j + i < g2) o->am_wr_be |= 1u << i;
    // Bytes without their enable are 0 (the spec's don't-care rule).
    uint32_t d = t(7, j);
    for (uint32_t i = 0; i < 4; ++i)
      if (!(o->am_wr_be >> i & 1u)) d &= ~(0xffu << (8 * i));
    o->am_wr_data = d;
  }
  if (n) {
    if (j >= beats)
      enter_layer(0, n);
    else
      n->cnt = j + 1;
  }
}

void RamanCtrlTwin::eval_dma_out(Out* o, Regs* n) const {
  const uint32_t g3 = t(6, 3), g4 = t(6, 4), beats = (g4 + 3) / 4, j = r_.cnt;
  if (j < beats) {
    o->am_rd_en = true;
    o->am_rd_word = true;
    o->am_rd_addr = (g3 + 4 * j) & 0xffffu;
  }
  if (j >= 1) {
    const uint32_t w = j - 1;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < 4; ++i)
      if (4 * w + i < g4) keep |= 0xffu << (8 * i);
    o->dout_valid = true;
    o->dout_addr = w & 0xffffu;
    o->dout_data = static_cast<uint32_t>(am_rd_data.read().get_word(0)) & keep;
  }
  if (n) {
    if (j >= beats)
      n->state = kIdle;
    else
      n->cnt = j + 1;
  }
}

void RamanCtrlTwin::read_cand(const Layer& L, uint32_t k, Out* o) const {
  o->am_rd_en = true;
  o->am_rd_word = L.lane;
  o->am_rd_addr = cand_addr(L.p, k);
}

void RamanCtrlTwin::array_operands(const Layer& L, Out* o) const {
  const Regs& r = r_;
  if (!L.lane) {
    o->pa_act = r.bc_act & 0xffu;
    o->pa_mac_valid = dec_valid.read() & 0xffffu;
    o->pa_mac_slot = dec_slot.read() & 0xffffffffffffull;
    const sc_dt::sc_bv<128>& w = dec_wgt.read();
    for (int i = 0; i < 4; ++i) o->pa_wgt[static_cast<size_t>(i)] = w.get_word(i);
    return;
  }
  o->pa_mac_valid = r.lane_valid;
  for (uint32_t q = 0; q < kPes; ++q) {
    put_bits(o->pa_lane_act.data(), static_cast<int>(8 * q), 8, r.lane_act[q]);
    put_bits(o->pa_wgt.data(), static_cast<int>(8 * q), 8, r.lane_wgt[q]);
    if ((r.lane_valid >> q) & 1u)
      o->pa_mac_slot |= static_cast<uint64_t>(r.lane_slot & 7u) << (3 * q);
  }
}

void RamanCtrlTwin::eval_init(const Layer& L, Out* o, Regs* n) const {
  const uint32_t* d = L.p.d;
  o->pa_init = true;
  for (uint32_t q = 0; q < L.np; ++q)
    for (uint32_t s = 0; s < L.slots; ++s) {
      const uint32_t ch = s * d[1] + q;
      if (ch >= L.out_c) continue;
      const uint32_t v = L.init == 0 ? t(5, 4 * (L.qbase + ch)) : L.init == 1 ? 0xffffff80u : 0u;
      o->pa_init_bias[q * kSlots + s] = v;
    }
  if (L.p.n > 0) read_cand(L, 0, o);
  if (n) {
    n->k = n->left = 0;
    n->state = L.p.n > 0 ? kStream : kFlush;
  }
}

void RamanCtrlTwin::lane_issue(const Layer& L, uint32_t w0, Regs* n) const {
  const uint32_t* d = L.p.d;
  const uint32_t tile = (w0 >> 20) & 0xffu;
  const int64_t rest = static_cast<int64_t>(d[9]) - static_cast<int64_t>(tile) * d[1];
  const uint32_t lanes = static_cast<uint32_t>(std::clamp<int64_t>(rest, 0, L.np));
  uint8_t w[kPes] = {};
  if (L.op == 0)
    depthwise_word(L.p, w0 & 0xfffffu, lanes, w);
  else if (L.op == 2 || L.op == 3)
    for (uint32_t q = 0; q < lanes; ++q) w[q] = 1;
  const sc_dt::sc_bv<128>& in = am_rd_data.read();
  for (uint32_t q = 0; q < lanes; ++q) {
    n->lane_valid |= 1u << q;
    n->lane_act[q] = static_cast<uint8_t>(in.get_word(static_cast<int>(q / 4)) >> (8 * (q % 4)));
    n->lane_wgt[q] = w[q];
  }
  // An Add's operand b (GMEM w0 bit 28) goes to slot tile + slots.
  n->lane_slot = (tile + ((w0 >> 28) & 1u ? d[2] : 0u)) & 7u;
}

void RamanCtrlTwin::eval_stream(const Layer& L, Out* o, Regs* n) const {
  const Regs& r = r_;
  array_operands(L, o);
  bool last = false;
  if (r.left == 0) {  // zero-check cycle of candidate k: am_rd_data holds its input
    const uint32_t e = L.p.first + r.k, w0 = t(2, 2 * e);
    uint32_t cost = 1;
    if (!L.lane) {
      const uint32_t a = static_cast<uint32_t>(am_rd_data.read().get_word(0)) & 0xffu;
      if (a != 0) {
        o->dec_load = true;
        cost = column_fetch(L.p, w0 & 0xfffffu, o);
        if (n) n->bc_act = a;
      }
    } else if (n) {
      lane_issue(L, w0, n);
    }
    last = cost == 1;
    if (n && !last) n->left = cost - 1;
  } else {
    last = r.left == 1;
    if (n) n->left = r.left - 1;
  }
  if (!last) return;
  if (r.k + 1 < L.p.n) {
    read_cand(L, r.k + 1, o);
    if (n) {
      n->k = r.k + 1;
      n->left = 0;
    }
  } else if (n) {
    n->state = kFlush;
    n->left = 0;
  }
}

uint32_t RamanCtrlTwin::rescale(uint32_t acc, uint32_t entry) const {
  hls::Requant q;
  q.multiplier = static_cast<int32_t>(t(5, 4 * entry + 1) & 0x7fffffffu);
  q.shift = static_cast<int32_t>(t(5, 4 * entry + 2) & 0x3fu);
  return static_cast<uint32_t>(hls::rescale32(static_cast<int32_t>(acc), q));
}

// The requantizer inputs of channel ch of a layer without an Add, by its PPU mode.
void RamanCtrlTwin::drain_requant(const Layer& L, uint32_t ch, Out* o) const {
  const uint32_t* d = L.p.d;
  o->rq_in_valid = true;
  o->rq_acc = pa_rd_acc.read();
  o->rq_act_min = d[15] & 0xffu;
  o->rq_act_max = (d[15] >> 8) & 0xffu;
  auto q_of = [&](uint32_t entry) {
    o->rq_mult = t(5, 4 * entry + 1) & 0x7fffffffu;
    o->rq_shift = t(5, 4 * entry + 2) & 0x3fu;
  };
  switch (L.ppu) {
    case 0:
      q_of(L.qbase + ch);
      break;
    case 1:
      o->rq_bypass = true;
      break;
    case 2: {
      const uint32_t cnt = L.p.yfac * L.p.xfac;
      if (cnt > 0) {
        q_of(L.qbase + cnt);
      } else {
        o->rq_bypass = true;
        o->rq_acc = 0;
        o->rq_act_min = 0x80;
        o->rq_act_max = 0x7f;
      }
      break;
    }
    default:
      q_of(L.qbase);
      break;
  }
}

// DRAIN: channel ch through the requantizer into the activation memory. A residual Add (d0 bit
// 12) takes two cycles a channel: operand a's accumulator is rescaled into a register, then
// operand b's (slot + slots) is rescaled, added and requantized (QTAB qbase..qbase+2).
void RamanCtrlTwin::eval_drain(const Layer& L, Out* o, Regs* n) const {
  const Regs& r = r_;
  const uint32_t* d = L.p.d;
  const uint32_t ch = r.cnt;
  const uint32_t pd = d[1] == 0 ? 1u : d[1];
  const bool add = (d[0] >> 12) & 1u;
  o->pa_rd_pe = (ch % pd) & 15u;
  o->pa_rd_slot = (ch / pd) & 7u;
  if (add && !r.half) {
    if (n) {
      n->half = true;
      n->ra = rescale(pa_rd_acc.read(), L.qbase);
    }
    return;
  }
  if (n) n->half = false;
  if (add) {
    o->pa_rd_slot = (ch / pd + d[2]) & 7u;
    o->rq_in_valid = true;
    o->rq_acc = r.ra + rescale(pa_rd_acc.read(), L.qbase + 1);
    o->rq_mult = t(5, 4 * (L.qbase + 2) + 1) & 0x7fffffffu;
    o->rq_shift = t(5, 4 * (L.qbase + 2) + 2) & 0x3fu;
    o->rq_act_min = d[15] & 0xffu;
    o->rq_act_max = (d[15] >> 8) & 0xffu;
  } else {
    drain_requant(L, ch, o);
  }
  const uint32_t outptr = d[7] + (r.oy * d[6] + r.ox) * L.out_pitch;
  o->am_wr_en = true;
  o->am_wr_addr = (outptr + ch) & 0xffffu;
  o->am_wr_be = 1;
  o->am_wr_data = rq_out_q.read() & 0xffu;
  if (n) {
    if (ch + 1 < L.out_c)
      n->cnt = ch + 1;
    else
      next_position(L.p, n);
  }
}

}  // namespace prunesim::raman
