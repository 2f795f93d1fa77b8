// SystemC twins of the RTL blocks in rtl/raman/: one SC_MODULE per block with the port list the
// Verilated --sc model of that block has (same names; 1 bit -> bool, 2..32 bits -> uint32_t,
// wider -> sc_bv<N>), computing with the hls/ arithmetic. The co-simulation (sim/cosim/) binds
// either implementation to the same signals and compares their outputs every cycle; the port
// contracts are in docs/raman.md "RTL blocks and ports". Twins use the RTL's default parameters.
#pragma once

#include <cstdint>
#include <systemc>

#include "hls/arith.h"

namespace prunesim::raman {

// Every RTL block has active-low asynchronous reset and registered outputs: the twins run one
// method on the rising clock edge and on the falling reset edge.
#define PRUNESIM_TWIN_CLOCKED(method) \
  SC_METHOD(method);                  \
  sensitive << clk.pos() << rst_n.neg();

// rtl/raman/raman_pe.sv with ACC_SLOTS = 8, ACC_BITS = 32, SLOT_BITS = 3.
SC_MODULE(RamanPeTwin) {
  static constexpr int kSlots = 8;
  static constexpr int kAccBits = 32;
  sc_core::sc_in<bool> clk, rst_n, gate_en, init, mac_valid;
  sc_core::sc_in<sc_dt::sc_bv<kSlots * kAccBits>> init_bias;
  sc_core::sc_in<uint32_t> mac_slot, act, wgt, rd_slot;
  sc_core::sc_out<uint32_t> rd_acc;
  sc_core::sc_out<bool> mac_done;

  SC_CTOR(RamanPeTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  int32_t acc_[kSlots] = {};

  void tick() {
    if (!rst_n.read()) {
      for (int32_t& a : acc_) a = 0;
      rd_acc.write(0);
      mac_done.write(false);
      return;
    }
    const uint32_t rs = rd_slot.read();
    // Read before the update: the drain port shows the value the edge found.
    const uint32_t rd = rs < kSlots ? static_cast<uint32_t>(acc_[rs]) : 0u;
    const auto a = static_cast<int8_t>(act.read() & 0xffu);
    const auto w = static_cast<int8_t>(wgt.read() & 0xffu);
    const bool fire = gate_en.read() && mac_valid.read() && !init.read() && a != 0 && w != 0;
    if (gate_en.read() && init.read()) {
      const sc_dt::sc_bv<kSlots * kAccBits> b = init_bias.read();
      for (int s = 0; s < kSlots; ++s)
        acc_[s] = static_cast<int32_t>(b.range(s * kAccBits + kAccBits - 1, s * kAccBits).to_uint());
    } else if (fire) {
      const uint32_t s = mac_slot.read() & (kSlots - 1);
      acc_[s] = hls::mac(acc_[s], a, w);
    }
    rd_acc.write(rd);
    mac_done.write(fire);
  }
};

// rtl/raman/raman_requant.sv: hls::requantize_clamp, or clamp8(sat8(acc)) with bypass.
// shift must be in [1, 62] (hls::kMinShift..kMaxShift) on valid cycles: layer programs never
// hold other values, and hls::round_shift is undefined outside that range.
SC_MODULE(RamanRequantTwin) {
  sc_core::sc_in<bool> clk, rst_n, in_valid, bypass;
  sc_core::sc_in<uint32_t> acc, mult, shift, act_min, act_max;
  sc_core::sc_out<bool> out_valid;
  sc_core::sc_out<uint32_t> out_q;

  SC_CTOR(RamanRequantTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

  // The registered result for one set of inputs (also used by tests to predict outputs).
  static int8_t compute(bool bypass, uint32_t acc, uint32_t mult, uint32_t shift, uint32_t lo,
                        uint32_t hi) {
    const auto a = static_cast<int32_t>(acc);
    const auto l = static_cast<int8_t>(lo & 0xffu), h = static_cast<int8_t>(hi & 0xffu);
    if (bypass) return hls::clamp8(hls::sat8(a), l, h);
    hls::Requant r;
    r.multiplier = static_cast<int32_t>(mult & 0x7fffffffu);
    r.shift = static_cast<int32_t>(shift & 63u);
    return hls::requantize_clamp(a, r, l, h);
  }

 private:
  void tick() {
    if (!rst_n.read()) {
      out_valid.write(false);
      out_q.write(0);
      return;
    }
    out_valid.write(in_valid.read());
    if (in_valid.read()) {
      const int8_t q = compute(bypass.read(), acc.read(), mult.read(), shift.read(),
                               act_min.read(), act_max.read());
      out_q.write(static_cast<uint8_t>(q));
    }
  }
};

// rtl/raman/raman_decoder.sv with CL = 4, SLOTS = 8, SLOT_BITS = 3, CNT_BITS = 4.
SC_MODULE(RamanDecoderTwin) {
  static constexpr int kCl = 4, kSlots = 8, kSlotBits = 3, kCntBits = 4;
  enum Fmt : uint32_t { kDense = 0, kBitmap = 1, kCsr = 2, kPattern = 3 };
  sc_core::sc_in<bool> clk, rst_n, load;
  sc_core::sc_in<uint32_t> fmt, bits, cnt;
  sc_core::sc_in<sc_dt::sc_bv<kCl * kSlots * kSlotBits>> idx;
  sc_core::sc_in<sc_dt::sc_bv<kCl * kSlots * 8>> vals;
  sc_core::sc_out<uint32_t> valid, slot, wgt;
  sc_core::sc_out<bool> last;

  SC_CTOR(RamanDecoderTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  // The group in flight: storage-order slot indices (csr) and weights, and per PE the slots
  // still to yield (mask formats), entries left (csr) and the read pointer.
  uint32_t fmt_ = kDense;
  uint8_t idx_[kCl][kSlots] = {};
  uint8_t vals_[kCl][kSlots] = {};
  uint32_t rem_[kCl] = {}, left_[kCl] = {}, ptr_[kCl] = {};

  void tick() {
    if (!rst_n.read()) {
      fmt_ = kDense;
      for (int p = 0; p < kCl; ++p) {
        rem_[p] = left_[p] = ptr_[p] = 0;
        for (int k = 0; k < kSlots; ++k) idx_[p][k] = vals_[p][k] = 0;
      }
      valid.write(0);
      slot.write(0);
      wgt.write(0);
      last.write(false);
      return;
    }
    if (load.read()) {
      fmt_ = fmt.read() & 3u;
      const sc_dt::sc_bv<kCl * kSlots * kSlotBits> ix = idx.read();
      const sc_dt::sc_bv<kCl * kSlots * 8> vv = vals.read();
      const uint32_t b = bits.read(), c = cnt.read();
      for (int p = 0; p < kCl; ++p) {
        for (int k = 0; k < kSlots; ++k) {
          const int i = p * kSlots + k;
          idx_[p][k] = static_cast<uint8_t>(ix.range(i * kSlotBits + kSlotBits - 1, i * kSlotBits).to_uint());
          vals_[p][k] = static_cast<uint8_t>(vv.range(i * 8 + 7, i * 8).to_uint());
        }
        ptr_[p] = 0;
        left_[p] = fmt_ == kCsr ? (c >> (p * kCntBits)) & 0xfu : 0u;
        const uint32_t own = (b >> (p * kSlots)) & 0xffu, shared = b & 0xffu;
        rem_[p] = fmt_ == kCsr ? 0u : fmt_ == kPattern ? shared : own;
      }
    }
    uint32_t v = 0, sl = 0, wg = 0;
    bool more = false;
    for (int p = 0; p < kCl; ++p) {
      bool emit = false;
      uint32_t s = 0;
      if (fmt_ == kCsr) {
        if (left_[p] != 0) {
          emit = true;
          s = idx_[p][ptr_[p] & (kSlots - 1)];
          --left_[p];
        }
      } else if (rem_[p] != 0) {
        emit = true;
        while (!((rem_[p] >> s) & 1u)) ++s;  // storage order: lowest slot first
        rem_[p] &= ~(1u << s);
      }
      if (emit) {
        v |= 1u << p;
        sl |= s << (p * kSlotBits);
        wg |= static_cast<uint32_t>(vals_[p][ptr_[p] & (kSlots - 1)]) << (p * 8);
        ++ptr_[p];
      }
      more = more || rem_[p] != 0 || left_[p] != 0;
    }
    valid.write(v);
    slot.write(sl);
    wgt.write(wg);
    last.write(v != 0 && !more);
  }
};

#undef PRUNESIM_TWIN_CLOCKED

}  // namespace prunesim::raman
