// Lockstep benches of the rtl/raman/ blocks: the shared input signals, one output set per
// implementation, an instance of Rtl and of Twin bound by port name. Rtl is normally the
// Verilated --sc model (Vraman_pe, ...), Twin the SystemC twin (models/raman/rtl_twins.h); both
// parameters accept either, which is how a subset of blocks runs in RTL and the rest in SystemC.
// Combinational outputs (the drain reads rd_acc, the requantizer's outputs) are watched as
// Lockstep::kCombinational: compared just before the rising edge of their cycle (lockstep.h).
#pragma once

#include "cosim/lockstep.h"
#include "models/raman/rtl_twins.h"

namespace prunesim::cosim {

template <class Rtl, class Twin = raman::RamanPeTwin>
struct PeBench : Bench {
  using Bias = sc_dt::sc_bv<raman::RamanPeTwin::kSlots * raman::RamanPeTwin::kAccBits>;
  sc_core::sc_signal<bool> rst_n{"rst_n"}, gate_en{"gate_en"}, init{"init"}, mac_valid{"mac_valid"},
      op_max{"op_max"};
  sc_core::sc_signal<Bias> init_bias{"init_bias"};
  sc_core::sc_signal<uint32_t> mac_slot{"mac_slot"}, act{"act"}, wgt{"wgt"}, rd_slot{"rd_slot"};
  struct Out {
    sc_core::sc_signal<uint32_t> rd_acc;
    sc_core::sc_signal<bool> mac_done;
  } o_rtl, o_twin;
  Rtl rtl{"rtl"};
  Twin twin{"twin"};

  PeBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_pe") {
    bind(rtl, o_rtl);
    bind(twin, o_twin);
    player.drive("rst_n", rst_n);
    player.drive("gate_en", gate_en);
    player.drive("init", init);
    player.drive("init_bias", init_bias);
    player.drive("mac_valid", mac_valid);
    player.drive("op_max", op_max);
    player.drive("mac_slot", mac_slot);
    player.drive("act", act);
    player.drive("wgt", wgt);
    player.drive("rd_slot", rd_slot);
    check.watch("rd_acc", o_rtl.rd_acc, o_twin.rd_acc, Lockstep::kCombinational);
    check.watch("mac_done", o_rtl.mac_done, o_twin.mac_done);
  }
  template <class M>
  void bind(M& m, Out& o) {
    m.clk(clk);
    m.rst_n(rst_n);
    m.gate_en(gate_en);
    m.init(init);
    m.init_bias(init_bias);
    m.mac_valid(mac_valid);
    m.op_max(op_max);
    m.mac_slot(mac_slot);
    m.act(act);
    m.wgt(wgt);
    m.rd_slot(rd_slot);
    m.rd_acc(o.rd_acc);
    m.mac_done(o.mac_done);
  }
};

template <class Rtl, class Twin = raman::RamanRequantTwin>
struct RequantBench : Bench {
  // No clock or reset on the block: the bench's clock only paces the stimulus rows.
  sc_core::sc_signal<bool> in_valid{"in_valid"}, bypass{"bypass"};
  sc_core::sc_signal<uint32_t> acc{"acc"}, mult{"mult"}, shift{"shift"}, act_min{"act_min"},
      act_max{"act_max"};
  struct Out {
    sc_core::sc_signal<bool> out_valid;
    sc_core::sc_signal<uint32_t> out_q;
  } o_rtl, o_twin;
  Rtl rtl{"rtl"};
  Twin twin{"twin"};

  RequantBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_requant") {
    bind(rtl, o_rtl);
    bind(twin, o_twin);
    player.drive("in_valid", in_valid);
    player.drive("bypass", bypass);
    player.drive("acc", acc);
    player.drive("mult", mult);
    player.drive("shift", shift);
    player.drive("act_min", act_min);
    player.drive("act_max", act_max);
    check.watch("out_valid", o_rtl.out_valid, o_twin.out_valid, Lockstep::kCombinational);
    check.watch("out_q", o_rtl.out_q, o_twin.out_q, Lockstep::kCombinational);
  }
  template <class M>
  void bind(M& m, Out& o) {
    m.in_valid(in_valid);
    m.bypass(bypass);
    m.acc(acc);
    m.mult(mult);
    m.shift(shift);
    m.act_min(act_min);
    m.act_max(act_max);
    m.out_valid(o.out_valid);
    m.out_q(o.out_q);
  }
};

template <class Rtl, class Twin = raman::RamanDecoderTwin>
struct DecoderBench : Bench {
  using T = raman::RamanDecoderTwin;
  sc_core::sc_signal<bool> rst_n{"rst_n"}, load{"load"};
  sc_core::sc_signal<uint32_t> fmt{"fmt"}, bits{"bits"}, cnt{"cnt"};
  sc_core::sc_signal<sc_dt::sc_bv<T::kCl * T::kSlots * T::kSlotBits>> idx{"idx"};
  sc_core::sc_signal<sc_dt::sc_bv<T::kCl * T::kSlots * 8>> vals{"vals"};
  struct Out {
    sc_core::sc_signal<uint32_t> valid, slot, wgt;
    sc_core::sc_signal<bool> last;
  } o_rtl, o_twin;
  Rtl rtl{"rtl"};
  Twin twin{"twin"};

  DecoderBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_decoder") {
    bind(rtl, o_rtl);
    bind(twin, o_twin);
    player.drive("rst_n", rst_n);
    player.drive("load", load);
    player.drive("fmt", fmt);
    player.drive("bits", bits);
    player.drive("cnt", cnt);
    player.drive("idx", idx);
    player.drive("vals", vals);
    check.watch("valid", o_rtl.valid, o_twin.valid);
    check.watch("slot", o_rtl.slot, o_twin.slot);
    check.watch("wgt", o_rtl.wgt, o_twin.wgt);
    check.watch("last", o_rtl.last, o_twin.last);
  }
  template <class M>
  void bind(M& m, Out& o) {
    m.clk(clk);
    m.rst_n(rst_n);
    m.load(load);
    m.fmt(fmt);
    m.bits(bits);
    m.cnt(cnt);
    m.idx(idx);
    m.vals(vals);
    m.valid(o.valid);
    m.slot(o.slot);
    m.wgt(o.wgt);
    m.last(o.last);
  }
};

template <class Rtl, class Twin = raman::RamanPeArrayTwin>
struct PeArrayBench : Bench {
  using T = raman::RamanPeArrayTwin;
  sc_core::sc_signal<bool> rst_n{"rst_n"}, init{"init"}, lane{"lane"}, op_max{"op_max"};
  sc_core::sc_signal<uint32_t> gate_en{"gate_en"}, act{"act"}, mac_valid{"mac_valid"},
      rd_pe{"rd_pe"}, rd_slot{"rd_slot"};
  sc_core::sc_signal<sc_dt::sc_bv<T::kPes * T::kSlots * T::kAccBits>> init_bias{"init_bias"};
  sc_core::sc_signal<sc_dt::sc_bv<T::kPes * 8>> lane_act{"lane_act"};
  sc_core::sc_signal<uint64_t> mac_slot{"mac_slot"};
  sc_core::sc_signal<sc_dt::sc_bv<T::kPes * 8>> wgt{"wgt"};
  struct Out {
    sc_core::sc_signal<uint32_t> rd_acc, mac_done;
  } o_rtl, o_twin;
  Rtl rtl{"rtl"};
  Twin twin{"twin"};

  PeArrayBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_pe_array") {
    bind(rtl, o_rtl);
    bind(twin, o_twin);
    player.drive("rst_n", rst_n);
    player.drive("gate_en", gate_en);
    player.drive("init", init);
    player.drive("init_bias", init_bias);
    player.drive("act", act);
    player.drive("lane", lane);
    player.drive("lane_act", lane_act);
    player.drive("op_max", op_max);
    player.drive("mac_valid", mac_valid);
    player.drive("mac_slot", mac_slot);
    player.drive("wgt", wgt);
    player.drive("rd_pe", rd_pe);
    player.drive("rd_slot", rd_slot);
    check.watch("rd_acc", o_rtl.rd_acc, o_twin.rd_acc, Lockstep::kCombinational);
    check.watch("mac_done", o_rtl.mac_done, o_twin.mac_done);
  }
  template <class M>
  void bind(M& m, Out& o) {
    m.clk(clk);
    m.rst_n(rst_n);
    m.gate_en(gate_en);
    m.init(init);
    m.init_bias(init_bias);
    m.act(act);
    m.lane(lane);
    m.lane_act(lane_act);
    m.op_max(op_max);
    m.mac_valid(mac_valid);
    m.mac_slot(mac_slot);
    m.wgt(wgt);
    m.rd_pe(rd_pe);
    m.rd_slot(rd_slot);
    m.rd_acc(o.rd_acc);
    m.mac_done(o.mac_done);
  }
};

template <class Rtl, class Twin = raman::RamanActMemTwin>
struct ActMemBench : Bench {
  using T = raman::RamanActMemTwin;
  sc_core::sc_signal<bool> rst_n{"rst_n"}, rd_en{"rd_en"}, rd_word{"rd_word"}, wr_en{"wr_en"},
      guard_en{"guard_en"};
  sc_core::sc_signal<uint32_t> rd_addr{"rd_addr"}, wr_addr{"wr_addr"}, wr_be{"wr_be"},
      wr_data{"wr_data"}, ia_low{"ia_low"}, ia_high{"ia_high"};
  struct Out {
    sc_core::sc_signal<sc_dt::sc_bv<T::kLanes * 8>> rd_data;
    sc_core::sc_signal<bool> overlap_err, port_conflict;
  } o_rtl, o_twin;
  Rtl rtl{"rtl"};
  Twin twin{"twin"};

  ActMemBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_act_mem") {
    bind(rtl, o_rtl);
    bind(twin, o_twin);
    player.drive("rst_n", rst_n);
    player.drive("rd_en", rd_en);
    player.drive("rd_word", rd_word);
    player.drive("rd_addr", rd_addr);
    player.drive("wr_en", wr_en);
    player.drive("wr_addr", wr_addr);
    player.drive("wr_be", wr_be);
    player.drive("wr_data", wr_data);
    player.drive("guard_en", guard_en);
    player.drive("ia_low", ia_low);
    player.drive("ia_high", ia_high);
    check.watch("rd_data", o_rtl.rd_data, o_twin.rd_data);
    check.watch("overlap_err", o_rtl.overlap_err, o_twin.overlap_err);
    check.watch("port_conflict", o_rtl.port_conflict, o_twin.port_conflict);
  }
  template <class M>
  void bind(M& m, Out& o) {
    m.clk(clk);
    m.rst_n(rst_n);
    m.rd_en(rd_en);
    m.rd_word(rd_word);
    m.rd_addr(rd_addr);
    m.wr_en(wr_en);
    m.wr_addr(wr_addr);
    m.wr_be(wr_be);
    m.wr_data(wr_data);
    m.guard_en(guard_en);
    m.ia_low(ia_low);
    m.ia_high(ia_high);
    m.rd_data(o.rd_data);
    m.overlap_err(o.overlap_err);
    m.port_conflict(o.port_conflict);
  }
};

}  // namespace prunesim::cosim
