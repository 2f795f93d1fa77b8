// SystemC twin of the whole-core controller rtl/raman/raman_ctrl.sv (docs/raman-rtl.md
// "Controller ports", "Tables", "Controller behaviour, cycle by cycle", "Column fetch"): the
// eight table memories written through the program port, the FSM (DMA in, setup, init, stream
// with zero detect, flush, drain, DMA out) and the combinational column fetch. Written from the
// spec independently of the RTL; `prunesim verify` compares the two on every output every cycle,
// so every output that is not meaningful in a cycle is 0.
//
// Port types follow Verilator --sc: 1 bit bool, 2..32 bits uint32_t, 33..64 bits uint64_t, wider
// sc_bv<N>. Registers change on the rising clock edge (and the falling reset edge); the outputs
// are computed by one SC_METHOD from the registers, the tables and this cycle's inputs
// (am_rd_data, dec_*, pa_rd_acc, rq_out_q), so the combinational paths the spec defines
// (decoder pass-through, column fetch from am_rd_data, rq_acc from pa_rd_acc, am_wr_data from
// rq_out_q) settle in delta cycles like the Verilated model's.
#pragma once

#include <array>
#include <cstdint>
#include <systemc>
#include <vector>

namespace prunesim::raman {

// A class body (ctags counts the SC_MODULE macro as one function): ports, registers and the
// declarations of short member functions.
SC_MODULE(RamanCtrlTwin) {
  static constexpr int kPes = 16, kSlots = 8, kCl = 4, kAccBits = 32;
  static constexpr int kLfsrDraws = 64;  // draws the column fetch unrolls per group
  // Table sizes in words (docs/raman-rtl.md "Tables"), index = pl_sel.
  static constexpr std::array<uint32_t, 8> kTableWords = {16384, 65536, 262144, 16384,
                                                          16384, 65536, 1024,   16384};
  enum State : uint32_t { kIdle, kDmaIn, kSetup, kInit, kStream, kFlush, kDrain, kDmaOut };

  sc_core::sc_in<bool> clk, rst_n;
  // Program port and host handshake.
  sc_core::sc_in<bool> pl_en;
  sc_core::sc_in<uint32_t> pl_sel, pl_addr, pl_data;
  sc_core::sc_in<bool> start;
  sc_core::sc_out<bool> busy;
  sc_core::sc_out<bool> dout_valid;
  sc_core::sc_out<uint32_t> dout_addr, dout_data;
  // Activation memory.
  sc_core::sc_out<bool> am_rd_en, am_rd_word;
  sc_core::sc_out<uint32_t> am_rd_addr;
  sc_core::sc_out<bool> am_wr_en;
  sc_core::sc_out<uint32_t> am_wr_addr, am_wr_be, am_wr_data;
  sc_core::sc_in<sc_dt::sc_bv<128>> am_rd_data;
  // PE array.
  sc_core::sc_out<uint32_t> pa_gate_en;
  sc_core::sc_out<bool> pa_init;
  sc_core::sc_out<sc_dt::sc_bv<4096>> pa_init_bias;
  sc_core::sc_out<uint32_t> pa_act;
  sc_core::sc_out<bool> pa_lane, pa_op_max;
  sc_core::sc_out<sc_dt::sc_bv<128>> pa_lane_act;
  sc_core::sc_out<uint32_t> pa_mac_valid;
  sc_core::sc_out<uint64_t> pa_mac_slot;
  sc_core::sc_out<sc_dt::sc_bv<128>> pa_wgt;
  sc_core::sc_out<uint32_t> pa_rd_pe, pa_rd_slot;
  sc_core::sc_in<uint32_t> pa_rd_acc, pa_mac_done;
  // Cluster decoders (concatenated in cluster order).
  sc_core::sc_out<bool> dec_load;
  sc_core::sc_out<uint32_t> dec_fmt;
  sc_core::sc_out<sc_dt::sc_bv<128>> dec_bits;
  sc_core::sc_out<uint64_t> dec_cnt;
  sc_core::sc_out<sc_dt::sc_bv<384>> dec_idx;
  sc_core::sc_out<sc_dt::sc_bv<1024>> dec_vals;
  sc_core::sc_in<uint32_t> dec_valid;
  sc_core::sc_in<uint64_t> dec_slot;
  sc_core::sc_in<sc_dt::sc_bv<128>> dec_wgt;
  sc_core::sc_in<uint32_t> dec_last;
  // Requantizer.
  sc_core::sc_out<bool> rq_in_valid, rq_bypass;
  sc_core::sc_out<uint32_t> rq_acc, rq_mult, rq_shift, rq_act_min, rq_act_max;
  sc_core::sc_in<bool> rq_out_valid;
  sc_core::sc_in<uint32_t> rq_out_q;

  SC_CTOR(RamanCtrlTwin);

  // The FSM state (tests, traces).
  uint32_t state() const {
    return r_.state;
  }

 private:
  struct Regs {
    uint32_t state = kIdle;
    uint32_t layer = 0, oy = 0, ox = 0;
    uint32_t k = 0;     // candidate index within the position's gather list
    uint32_t left = 0;  // STREAM: cycles of candidate k left including this one; 0 = zero check
    uint32_t cnt = 0;   // DMA beat, setup cycle or drain channel
    uint32_t bc_act = 0;
    uint32_t lane_valid = 0, lane_slot = 0;
    bool half = false;  // DRAIN of an Add: operand b's cycle
    uint32_t ra = 0;    // Add: operand a rescaled onto the common grid
    std::array<uint8_t, kPes> lane_act{}, lane_wgt{};
  };
  // Every output of one cycle, as plain words.
  struct Out {
    bool busy = false, dout_valid = false;
    uint32_t dout_addr = 0, dout_data = 0;
    bool am_rd_en = false, am_rd_word = false;
    uint32_t am_rd_addr = 0;
    bool am_wr_en = false;
    uint32_t am_wr_addr = 0, am_wr_be = 0, am_wr_data = 0;
    uint32_t pa_gate_en = 0;
    bool pa_init = false;
    std::array<uint32_t, 128> pa_init_bias{};
    uint32_t pa_act = 0;
    bool pa_lane = false, pa_op_max = false;
    std::array<uint32_t, 4> pa_lane_act{};
    uint32_t pa_mac_valid = 0;
    uint64_t pa_mac_slot = 0;
    std::array<uint32_t, 4> pa_wgt{};
    uint32_t pa_rd_pe = 0, pa_rd_slot = 0;
    bool dec_load = false;
    uint32_t dec_fmt = 0;
    std::array<uint32_t, 4> dec_bits{};
    uint64_t dec_cnt = 0;
    std::array<uint32_t, 12> dec_idx{};
    std::array<uint32_t, 32> dec_vals{};
    bool rq_in_valid = false, rq_bypass = false;
    uint32_t rq_acc = 0, rq_mult = 0, rq_shift = 0, rq_act_min = 0, rq_act_max = 0;
  };
  // The layer descriptor and the current position's gather list.
  struct Pos {
    uint32_t d[16] = {};
    uint32_t row_off = 0, col_off = 0, yfac = 0, xfac = 0;
    uint32_t first = 0, n = 0;
  };

  std::array<std::vector<uint32_t>, 8> tab_;
  Regs r_;
  sc_core::sc_event changed_;

  void tick();
  void comb();
  // This cycle's outputs from the registers and the inputs; with next != nullptr also the
  // registers after the coming rising edge.
  void eval(Out * o, Regs * next) const;
  uint32_t t(int sel, uint32_t addr) const {
    const auto& v = tab_[static_cast<size_t>(sel)];
    return addr < v.size() ? v[addr] : 0u;
  }
  uint32_t wbyte(uint32_t b) const {
    return (t(0, b >> 2) >> (8 * (b & 3u))) & 0xffu;
  }
  void position(uint32_t layer, uint32_t oy, uint32_t ox, Pos * p) const;
  uint32_t cand_addr(const Pos& p, uint32_t k) const;
  // Broadcast column fetch of CTAB entry `ct` into the decoder inputs; returns `work`.
  uint32_t column_fetch(const Pos& p, uint32_t ct, Out* o) const;
  // Depthwise word of CTAB entry `ct` for `lanes` lanes: weight per lane (0 if not kept).
  void depthwise_word(const Pos& p, uint32_t ct, uint32_t lanes, uint8_t* w) const;
  void enter_layer(uint32_t layer, Regs * n) const;
  void next_position(const Pos& p, Regs* n) const;

  // eval() by state. The layer states (INIT, STREAM, FLUSH, DRAIN) share the decoded descriptor
  // of the current layer and position.
  struct Layer {
    Pos p;
    bool lane = false;
    uint32_t op = 0, init = 0, ppu = 0;  // d0 fields
    uint32_t np = 0, slots = 0;          // PEs and slots in use
    uint32_t out_c = 0, out_pitch = 0, qbase = 0;
  };
  void eval_dma_in(Out * o, Regs * n) const;
  void eval_dma_out(Out * o, Regs * n) const;
  void eval_init(const Layer& L, Out* o, Regs* n) const;
  void eval_stream(const Layer& L, Out* o, Regs* n) const;
  void eval_drain(const Layer& L, Out* o, Regs* n) const;
  // The activation-memory read of candidate k of the position's gather list.
  void read_cand(const Layer& L, uint32_t k, Out* o) const;
  // The PE-array operands of STREAM and FLUSH.
  void array_operands(const Layer& L, Out* o) const;
  // STREAM, lane mode: the lane registers the coming edge loads for candidate word w0.
  void lane_issue(const Layer& L, uint32_t w0, Regs* n) const;
  // acc rescaled by QTAB entry `entry` (an Add's operands onto the common grid).
  uint32_t rescale(uint32_t acc, uint32_t entry) const;
  void drain_requant(const Layer& L, uint32_t ch, Out* o) const;
};

}  // namespace prunesim::raman
