// SystemC twins of the RTL blocks in rtl/raman/: one SC_MODULE per block with the port list the
// Verilated --sc model of that block has, expanded from the block's list in rtl_ports.h (same
// names; 1 bit -> bool, 2..32 bits -> uint32_t, 33..64 bits -> uint64_t, wider -> sc_bv<N>),
// computing with the hls/ arithmetic. The
// co-simulation (sim/cosim/) binds either implementation to the same signals and compares their
// outputs every cycle; the port contracts are in docs/raman.md "RTL blocks and ports". Twins use
// the RTL's default parameters (the activation memory's size is a constructor argument).
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <systemc>
#include <utility>
#include <vector>

#include "hls/arith.h"
#include "models/raman/rtl_ports.h"

namespace prunesim::raman {

// The clocked blocks have an active-low asynchronous reset: their twins run one method on the
// rising clock edge and on the falling reset edge.
#define PRUNESIM_TWIN_CLOCKED(method) \
  SC_METHOD(method);                  \
  sensitive << clk.pos() << rst_n.neg();

// Combinational outputs (the PE drain read, the requantizer) are written by one SC_METHOD per
// output set, sensitive to the inputs they depend on and, for register-dependent outputs, to an
// event the clocked method notifies immediately after it changes the registers. An immediate
// notification runs that method in the same evaluation phase as the clocked one, so the twin's
// output changes in the same delta cycle as the Verilated model's (whose eval() is sensitive to
// every input and the clock). One writer per output: sc_signal allows a single writing process.

// A twin's ports, expanded from its block's list (rtl_ports.h).
#define PRUNESIM_TWIN_PORT(dir, name, width) PRUNESIM_TWIN_PORT_##dir(name, width)
#define PRUNESIM_TWIN_PORT_clock(name, width) sc_core::sc_in<bool> name;
#define PRUNESIM_TWIN_PORT_reset(name, width) sc_core::sc_in<bool> name;
#define PRUNESIM_TWIN_PORT_in(name, width) sc_core::sc_in<port_t<width>> name;
#define PRUNESIM_TWIN_PORT_out(name, width) sc_core::sc_out<port_t<width>> name;
#define PRUNESIM_TWIN_PORT_comb(name, width) sc_core::sc_out<port_t<width>> name;

// The state and edge behaviour of one PE, shared by the PE and PE-array twins.
struct PeState {
  static constexpr int kSlots = 8;
  static constexpr int kAccBits = 32;
  int32_t acc[kSlots] = {};

  void reset() {
    for (int32_t& a : acc) a = 0;
  }
  // The drain read port: acc[slot] as the registers hold it now (combinational).
  uint32_t read(uint32_t slot) const {
    return slot < kSlots ? static_cast<uint32_t>(acc[slot]) : 0u;
  }
  // One rising edge. `bias(s)` gives init_bias slot s. Returns whether an operation fired (the
  // next mac_done): a MAC past the zero skip, or a max (no zero skip, wgt ignored).
  template <class Bias>
  bool edge(bool gate_en, bool init, const Bias& bias, bool mac_valid, bool op_max,
            uint32_t mac_slot, uint32_t act, uint32_t wgt) {
    const auto a = static_cast<int8_t>(act & 0xffu);
    const auto w = static_cast<int8_t>(wgt & 0xffu);
    // init wins over an operation; the zero skip is the MAC's only.
    const bool fire = gate_en && mac_valid && !init && (op_max || (a != 0 && w != 0));
    if (gate_en && init) {
      for (int s = 0; s < kSlots; ++s) acc[s] = static_cast<int32_t>(bias(s));
    } else if (fire) {
      const uint32_t s = mac_slot & (kSlots - 1);
      acc[s] = op_max ? std::max<int32_t>(acc[s], a) : hls::mac(acc[s], a, w);
    }
    return fire;
  }
};

// rtl/raman/raman_pe.sv with ACC_SLOTS = 8, ACC_BITS = 32, SLOT_BITS = 3.
SC_MODULE(RamanPeTwin) {
  static constexpr int kSlots = PeState::kSlots;
  static constexpr int kAccBits = PeState::kAccBits;
  PRUNESIM_PE_PORTS(PRUNESIM_TWIN_PORT)

  SC_CTOR(RamanPeTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
    SC_METHOD(drain);
    sensitive << rd_slot << changed_;
  }

 private:
  PeState pe_;
  sc_core::sc_event changed_;  // the accumulators changed (edge or reset)

  void tick() {
    if (!rst_n.read()) {
      pe_.reset();
      mac_done.write(false);
    } else {
      const sc_dt::sc_bv<kSlots* kAccBits> b = init_bias.read();
      mac_done.write(pe_.edge(
          gate_en.read(), init.read(),
          [&b](int s) { return b.range(s * kAccBits + kAccBits - 1, s * kAccBits).to_uint(); },
          mac_valid.read(), op_max.read(), mac_slot.read(), act.read(), wgt.read()));
    }
    changed_.notify();
  }
  void drain() {
    rd_acc.write(pe_.read(rd_slot.read() & (kSlots - 1)));
  }
};

// rtl/raman/raman_pe_array.sv with P = 16, PE_BITS = 4 and the PE defaults.
SC_MODULE(RamanPeArrayTwin) {
  static constexpr int kPes = 16, kSlots = PeState::kSlots, kAccBits = PeState::kAccBits;
  PRUNESIM_PE_ARRAY_PORTS(PRUNESIM_TWIN_PORT)

  SC_CTOR(RamanPeArrayTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
    SC_METHOD(drain);
    sensitive << rd_pe << rd_slot << changed_;
  }

 private:
  PeState pe_[kPes];
  sc_core::sc_event changed_;  // the accumulators changed (edge or reset)

  void tick() {
    if (!rst_n.read()) {
      for (PeState& p : pe_) p.reset();
      mac_done.write(0);
      changed_.notify();
      return;
    }
    const sc_dt::sc_bv<kPes* kSlots* kAccBits> b = init_bias.read();
    const sc_dt::sc_bv<kPes* 8> w = wgt.read();
    // Lane mode: PE p's activation is lane_act byte p instead of the broadcast act.
    const bool ln = lane.read();
    const sc_dt::sc_bv<kPes* 8> la = ln ? lane_act.read() : sc_dt::sc_bv<kPes * 8>();
    const uint64_t slots = mac_slot.read();
    const uint32_t gate = gate_en.read(), valid = mac_valid.read();
    uint32_t done = 0;
    for (int p = 0; p < kPes; ++p) {
      const int base = p * kSlots * kAccBits;
      const bool fired = pe_[p].edge(
          (gate >> p) & 1u, init.read(),
          [&b, base](int s) {
            return b.range(base + s * kAccBits + kAccBits - 1, base + s * kAccBits).to_uint();
          },
          (valid >> p) & 1u, op_max.read(), static_cast<uint32_t>(slots >> (3 * p)) & 7u,
          ln ? la.range(p * 8 + 7, p * 8).to_uint() : act.read(),
          w.range(p * 8 + 7, p * 8).to_uint());
      if (fired) done |= 1u << p;
    }
    mac_done.write(done);
    changed_.notify();
  }
  void drain() {
    rd_acc.write(pe_[rd_pe.read() & (kPes - 1)].read(rd_slot.read() & (kSlots - 1)));
  }
};

// rtl/raman/raman_requant.sv: hls::requantize_clamp, or clamp8(sat8(acc)) with bypass.
// Combinational (no clock, no reset): out_valid = in_valid, out_q = the result when in_valid,
// else 0. shift must be in [1, 62] (hls::kMinShift..kMaxShift) on valid cycles: layer programs
// never hold other values, and hls::round_shift is undefined outside that range (invalid cycles
// may carry anything: their result is not computed).
// (clang-format misreads a class body that opens with a port-list expansion.)
// clang-format off
SC_MODULE(RamanRequantTwin) {
  PRUNESIM_REQUANT_PORTS(PRUNESIM_TWIN_PORT)

  SC_CTOR(RamanRequantTwin) {
    SC_METHOD(eval);
    sensitive << in_valid << bypass << acc << mult << shift << act_min << act_max;
  }

  // The result for one set of valid inputs (also used by tests to predict outputs).
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
  void eval() {
    const bool v = in_valid.read();
    out_valid.write(v);
    out_q.write(v ? static_cast<uint8_t>(compute(bypass.read(), acc.read(), mult.read(),
                                                 shift.read(), act_min.read(), act_max.read()))
                  : 0u);
  }
};
// clang-format on

// rtl/raman/raman_decoder.sv with CL = 4, SLOTS = 8, SLOT_BITS = 3, CNT_BITS = 4.
SC_MODULE(RamanDecoderTwin) {
  static constexpr int kCl = 4, kSlots = 8, kSlotBits = 3, kCntBits = 4;
  enum Fmt : uint32_t { kDense = 0, kBitmap = 1, kCsr = 2, kPattern = 3 };
  PRUNESIM_DECODER_PORTS(PRUNESIM_TWIN_PORT)

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
      const sc_dt::sc_bv<kCl* kSlots* kSlotBits> ix = idx.read();
      const sc_dt::sc_bv<kCl* kSlots* 8> vv = vals.read();
      const uint32_t b = bits.read(), c = cnt.read();
      for (int p = 0; p < kCl; ++p) {
        for (int k = 0; k < kSlots; ++k) {
          const int i = p * kSlots + k;
          idx_[p][k] = static_cast<uint8_t>(
              ix.range(i * kSlotBits + kSlotBits - 1, i * kSlotBits).to_uint());
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

// rtl/raman/raman_act_mem.sv with LANES = 16, WR_LANES = 4 and BYTES / ADDR_BITS given at
// construction: 16384 / 14 by default (the stand-alone block), 65536 / 16 for the whole core
// (docs/raman-rtl.md). ADDR_BITS = ceil(log2(BYTES)); address inputs are cut to ADDR_BITS bits
// (ia_low, ia_high to ADDR_BITS + 1) like the RTL's ports. The bytes are not reset (an SRAM); a
// write on a clock edge happens even while reset is low.
class RamanActMemTwin : public sc_core::sc_module {
 public:
  static constexpr int kDefaultBytes = 16384, kLanes = 16, kWrLanes = 4;
  PRUNESIM_ACT_MEM_PORTS(PRUNESIM_TWIN_PORT)

  SC_HAS_PROCESS(RamanActMemTwin);
  explicit RamanActMemTwin(sc_core::sc_module_name name, uint32_t bytes = kDefaultBytes)
      : sc_module(name), bytes_(bytes), addr_bits_(addr_bits_for(bytes)), mem_(bytes, 0) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }
  uint32_t bytes() const { return bytes_; }
  int addr_bits() const { return addr_bits_; }
  // ceil(log2(bytes)): the RTL's ADDR_BITS for a memory of `bytes` bytes (14 for 16384).
  static int addr_bits_for(uint32_t bytes) {
    if (bytes == 0 || bytes > (uint32_t{1} << 30))
      throw std::invalid_argument("RamanActMemTwin: BYTES must be in [1, 2^30]");
    int b = 0;
    while (b < 32 && (uint64_t{1} << b) < bytes) ++b;
    return b;
  }

 private:
  uint32_t bytes_;
  int addr_bits_;
  std::vector<uint8_t> mem_;
  bool overlap_ = false, conflict_ = false;

  void tick() {
    const bool edge = clk.posedge();
    const uint32_t amask = (1u << addr_bits_) - 1u, imask = (2u << addr_bits_) - 1u;
    // Read before write: a read in the cycle of a write returns the old bytes.
    sc_dt::sc_bv<kLanes * 8> rd;
    const uint32_t ra = rd_addr.read() & amask;
    for (int i = 0; i < kLanes; ++i) {
      const uint32_t a = ra + static_cast<uint32_t>(i);
      rd.range(i * 8 + 7, i * 8) = (i == 0 || rd_word.read()) && a < bytes_ ? mem_[a] : 0u;
    }
    bool hit = false;
    const uint32_t wa = wr_addr.read() & amask, be = wr_be.read(), wd = wr_data.read();
    const uint32_t lo = ia_low.read() & imask, hi = ia_high.read() & imask;
    for (int i = 0; i < kWrLanes; ++i) {
      const uint32_t a = wa + static_cast<uint32_t>(i);
      if (!((be >> i) & 1u)) continue;
      if (a >= lo && a < hi) hit = true;
      if (edge && wr_en.read() && a < bytes_) mem_[a] = static_cast<uint8_t>(wd >> (8 * i));
    }
    if (!rst_n.read()) {
      overlap_ = conflict_ = false;
      rd_data.write(sc_dt::sc_bv<kLanes * 8>());
    } else {
      if (rd_en.read()) rd_data.write(rd);
      overlap_ = overlap_ || (wr_en.read() && guard_en.read() && hit);
      conflict_ = conflict_ || (wr_en.read() && rd_en.read());
    }
    overlap_err.write(overlap_);
    port_conflict.write(conflict_);
  }
};

#undef PRUNESIM_TWIN_CLOCKED
#undef PRUNESIM_TWIN_PORT
#undef PRUNESIM_TWIN_PORT_clock
#undef PRUNESIM_TWIN_PORT_reset
#undef PRUNESIM_TWIN_PORT_in
#undef PRUNESIM_TWIN_PORT_out
#undef PRUNESIM_TWIN_PORT_comb

}  // namespace prunesim::raman
