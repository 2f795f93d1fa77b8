// The port list of each rtl/raman/ block but the controller, one X-macro per block, in the order
// and with the widths its module declares with the default parameters: X(dir, name, width). The
// SystemC twins (rtl_twins.h), the lockstep benches (sim/cosim benches.h) and the core netlist's
// binders (core_net.h) are all expanded from these lists, so none can have a port the RTL lacks
// or miss one it has ("same ports", DESIGN.md habit 7; an unbound port fails elaboration).
#pragma once

#include <cstdint>
#include <systemc>
#include <type_traits>

// dir is one of
//   clock  the rising-edge clock (the bench's or the core's clock, never a stimulus field);
//   reset  rst_n, active-low asynchronous (driven like an input; the core's one reset);
//   in     an input;
//   out    a registered output;
//   comb   an output combinational in this cycle's inputs and registers (compared just before the
//          rising edge, Lockstep::kCombinational).
// clang-format off

// rtl/raman/raman_pe.sv (ACC_SLOTS = 8, ACC_BITS = 32, SLOT_BITS = 3).
#define PRUNESIM_PE_PORTS(X) \
  X(clock, clk, 1) \
  X(reset, rst_n, 1) \
  X(in, gate_en, 1) \
  X(in, init, 1) \
  X(in, init_bias, 256) \
  X(in, mac_valid, 1) \
  X(in, op_max, 1) \
  X(in, mac_slot, 3) \
  X(in, act, 8) \
  X(in, wgt, 8) \
  X(in, rd_slot, 3) \
  X(comb, rd_acc, 32) \
  X(out, mac_done, 1)

// rtl/raman/raman_pe_array.sv (P = 16, PE_BITS = 4 and the PE defaults).
#define PRUNESIM_PE_ARRAY_PORTS(X) \
  X(clock, clk, 1) \
  X(reset, rst_n, 1) \
  X(in, gate_en, 16) \
  X(in, init, 1) \
  X(in, init_bias, 4096) \
  X(in, act, 8) \
  X(in, lane, 1) \
  X(in, lane_act, 128) \
  X(in, op_max, 1) \
  X(in, mac_valid, 16) \
  X(in, mac_slot, 48) \
  X(in, wgt, 128) \
  X(in, rd_pe, 4) \
  X(in, rd_slot, 3) \
  X(comb, rd_acc, 32) \
  X(out, mac_done, 16)

// rtl/raman/raman_decoder.sv (CL = 4, SLOTS = 8, SLOT_BITS = 3, CNT_BITS = 4), in two parts: the
// clock, reset and the load/format inputs the core shares among its four decoders, then the data
// ports, which the core slices per cluster out of the controller's vectors.
#define PRUNESIM_DECODER_SHARED_PORTS(X) \
  X(clock, clk, 1) \
  X(reset, rst_n, 1) \
  X(in, load, 1) \
  X(in, fmt, 2)
#define PRUNESIM_DECODER_DATA_PORTS(X) \
  X(in, bits, 32) \
  X(in, cnt, 16) \
  X(in, idx, 96) \
  X(in, vals, 256) \
  X(out, valid, 4) \
  X(out, slot, 12) \
  X(out, wgt, 32) \
  X(out, last, 1)
#define PRUNESIM_DECODER_PORTS(X) PRUNESIM_DECODER_SHARED_PORTS(X) PRUNESIM_DECODER_DATA_PORTS(X)

// rtl/raman/raman_requant.sv: combinational, no clock, no reset.
#define PRUNESIM_REQUANT_PORTS(X) \
  X(in, in_valid, 1) \
  X(in, bypass, 1) \
  X(in, acc, 32) \
  X(in, mult, 31) \
  X(in, shift, 6) \
  X(in, act_min, 8) \
  X(in, act_max, 8) \
  X(comb, out_valid, 1) \
  X(comb, out_q, 8)

// rtl/raman/raman_act_mem.sv (BYTES = 16384, ADDR_BITS = 14, LANES = 16, WR_LANES = 4). The
// core's 64 KiB instance has ADDR_BITS = 16 (rd_addr, wr_addr 16 bits, ia_low, ia_high 17): the
// same C++ types.
#define PRUNESIM_ACT_MEM_PORTS(X) \
  X(clock, clk, 1) \
  X(reset, rst_n, 1) \
  X(in, rd_en, 1) \
  X(in, rd_word, 1) \
  X(in, rd_addr, 14) \
  X(out, rd_data, 128) \
  X(in, wr_en, 1) \
  X(in, wr_addr, 14) \
  X(in, wr_be, 4) \
  X(in, wr_data, 32) \
  X(in, guard_en, 1) \
  X(in, ia_low, 15) \
  X(in, ia_high, 15) \
  X(out, overlap_err, 1) \
  X(out, port_conflict, 1)

// clang-format on

namespace prunesim::raman {

// The C++ type of a `width`-bit port of a Verilated --sc model: 1 bit -> bool, 2..32 ->
// uint32_t, 33..64 -> uint64_t, wider -> sc_bv<width>.
template <int W>
using port_t = std::conditional_t<
    W == 1, bool,
    std::conditional_t<(W <= 32), uint32_t,
                       std::conditional_t<(W <= 64), uint64_t, sc_dt::sc_bv<W>>>>;

}  // namespace prunesim::raman
