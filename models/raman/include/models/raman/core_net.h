// The whole RAMAN-like core as a structural SystemC netlist (docs/raman-rtl.md "Structure"): the
// controller, the activation memory, four cluster decoders, the PE array and the requantizer,
// connected in a star to the controller exactly as rtl/raman/raman_core.sv wires them. Every
// block is made by a factory, so the same netlist holds the SystemC twins (CoreNet::twins()), the
// Verilated --sc models of the blocks, or any mix: the bind_* helpers connect a block by port
// name and work for both. Plus the block-output observation list in lockstep order and a host
// driver (program port, input load, start, busy count, DMA-out words).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <utility>
#include <vector>

#include "models/raman/rtl_ports.h"

// The controller's outputs in port-table order (docs/raman-rtl.md "Controller ports"): X(name,
// width). The twin netlist's observation list and verify's probes of the Verilated core both
// expand it, so the two cannot list different ports.
// clang-format off
#define PRUNESIM_CTRL_OUTPUTS(X) \
  X(busy, 1) \
  X(dout_valid, 1) \
  X(dout_addr, 16) \
  X(dout_data, 32) \
  X(am_rd_en, 1) \
  X(am_rd_word, 1) \
  X(am_rd_addr, 16) \
  X(am_wr_en, 1) \
  X(am_wr_addr, 16) \
  X(am_wr_be, 4) \
  X(am_wr_data, 32) \
  X(pa_gate_en, 16) \
  X(pa_init, 1) \
  X(pa_init_bias, 4096) \
  X(pa_act, 8) \
  X(pa_lane, 1) \
  X(pa_op_max, 1) \
  X(pa_lane_act, 128) \
  X(pa_mac_valid, 16) \
  X(pa_mac_slot, 48) \
  X(pa_wgt, 128) \
  X(pa_rd_pe, 4) \
  X(pa_rd_slot, 3) \
  X(dec_load, 1) \
  X(dec_fmt, 2) \
  X(dec_bits, 128) \
  X(dec_cnt, 64) \
  X(dec_idx, 384) \
  X(dec_vals, 1024) \
  X(rq_in_valid, 1) \
  X(rq_bypass, 1) \
  X(rq_acc, 32) \
  X(rq_mult, 31) \
  X(rq_shift, 6) \
  X(rq_act_min, 8) \
  X(rq_act_max, 8)
// clang-format on

namespace prunesim::raman {

// Every inter-block signal of the core, named like the controller's ports (docs/raman-rtl.md
// "Controller ports"), and the core's top-level ports. The decoders' slices of the controller's
// concatenated dec_* vectors are separate per-cluster signals (dc_*[c]); CoreNet splits and joins
// them. clk is external: CoreNet sets `clk` before it makes the blocks.
struct CoreSignals {
  template <class T>
  using sig = sc_core::sc_signal<T>;
  template <class T>
  using vec = sc_core::sc_vector<sc_core::sc_signal<T>>;
  using bv128 = sc_dt::sc_bv<128>;

  // prefix: prepended to every signal name ("" = a unique "netN_").
  explicit CoreSignals(const std::string& prefix = "");

  std::string name_prefix;
  sc_core::sc_signal_in_if<bool>* clk = nullptr;
  // Top level: reset, program port, host handshake, DMA out, act memory error flags.
  sig<bool> rst_n, pl_en, start, busy, dout_valid, am_overlap_err, am_port_conflict;
  sig<uint32_t> pl_sel, pl_addr, pl_data, dout_addr, dout_data;
  // Controller <-> activation memory (the IA/OA guard inputs are tied to 0 in the core).
  sig<bool> am_rd_en, am_rd_word, am_wr_en;
  sig<uint32_t> am_rd_addr, am_wr_addr, am_wr_be, am_wr_data;
  sig<bv128> am_rd_data;
  sig<bool> am_guard_en;
  sig<uint32_t> am_ia_low, am_ia_high;
  // Controller <-> PE array.
  sig<uint32_t> pa_gate_en;
  sig<bool> pa_init;
  sig<sc_dt::sc_bv<4096>> pa_init_bias;
  sig<uint32_t> pa_act;
  sig<bool> pa_lane, pa_op_max;
  sig<bv128> pa_lane_act;
  sig<uint32_t> pa_mac_valid;
  sig<uint64_t> pa_mac_slot;
  sig<bv128> pa_wgt;
  sig<uint32_t> pa_rd_pe, pa_rd_slot, pa_rd_acc, pa_mac_done;
  // Controller <-> decoders, concatenated in cluster order (the controller's view).
  sig<bool> dec_load;
  sig<uint32_t> dec_fmt;
  sig<bv128> dec_bits;
  sig<uint64_t> dec_cnt;
  sig<sc_dt::sc_bv<384>> dec_idx;
  sig<sc_dt::sc_bv<1024>> dec_vals;
  sig<uint32_t> dec_valid;
  sig<uint64_t> dec_slot;
  sig<bv128> dec_wgt;
  sig<uint32_t> dec_last;
  // Decoder c's slices (its own ports): bits [c*32 +: 32], cnt [c*16 +: 16], idx [c*96 +: 96],
  // vals [c*256 +: 256]; outputs valid [c*4 +: 4], slot [c*12 +: 12], wgt [c*32 +: 32], last [c].
  vec<uint32_t> dc_bits, dc_cnt;
  vec<sc_dt::sc_bv<96>> dc_idx;
  vec<sc_dt::sc_bv<256>> dc_vals;
  vec<uint32_t> dc_valid, dc_slot, dc_wgt;
  vec<bool> dc_last;
  // Controller <-> requantizer.
  sig<bool> rq_in_valid, rq_bypass;
  sig<uint32_t> rq_acc, rq_mult, rq_shift, rq_act_min, rq_act_max;
  sig<bool> rq_out_valid;
  sig<uint32_t> rq_out_q;
};

// Binders by port name: M is a twin or a Verilated --sc model with the block's port list.
template <class M>
void bind_ctrl(M& m, CoreSignals& s) {
  m.clk(*s.clk);
  m.rst_n(s.rst_n);
  m.pl_en(s.pl_en);
  m.pl_sel(s.pl_sel);
  m.pl_addr(s.pl_addr);
  m.pl_data(s.pl_data);
  m.start(s.start);
  m.busy(s.busy);
  m.dout_valid(s.dout_valid);
  m.dout_addr(s.dout_addr);
  m.dout_data(s.dout_data);
  m.am_rd_en(s.am_rd_en);
  m.am_rd_word(s.am_rd_word);
  m.am_rd_addr(s.am_rd_addr);
  m.am_wr_en(s.am_wr_en);
  m.am_wr_addr(s.am_wr_addr);
  m.am_wr_be(s.am_wr_be);
  m.am_wr_data(s.am_wr_data);
  m.am_rd_data(s.am_rd_data);
  m.pa_gate_en(s.pa_gate_en);
  m.pa_init(s.pa_init);
  m.pa_init_bias(s.pa_init_bias);
  m.pa_act(s.pa_act);
  m.pa_lane(s.pa_lane);
  m.pa_op_max(s.pa_op_max);
  m.pa_lane_act(s.pa_lane_act);
  m.pa_mac_valid(s.pa_mac_valid);
  m.pa_mac_slot(s.pa_mac_slot);
  m.pa_wgt(s.pa_wgt);
  m.pa_rd_pe(s.pa_rd_pe);
  m.pa_rd_slot(s.pa_rd_slot);
  m.pa_rd_acc(s.pa_rd_acc);
  m.pa_mac_done(s.pa_mac_done);
  m.dec_load(s.dec_load);
  m.dec_fmt(s.dec_fmt);
  m.dec_bits(s.dec_bits);
  m.dec_cnt(s.dec_cnt);
  m.dec_idx(s.dec_idx);
  m.dec_vals(s.dec_vals);
  m.dec_valid(s.dec_valid);
  m.dec_slot(s.dec_slot);
  m.dec_wgt(s.dec_wgt);
  m.dec_last(s.dec_last);
  m.rq_in_valid(s.rq_in_valid);
  m.rq_bypass(s.rq_bypass);
  m.rq_acc(s.rq_acc);
  m.rq_mult(s.rq_mult);
  m.rq_shift(s.rq_shift);
  m.rq_act_min(s.rq_act_min);
  m.rq_act_max(s.rq_act_max);
  m.rq_out_valid(s.rq_out_valid);
  m.rq_out_q(s.rq_out_q);
}

// The other blocks' binders are expanded from their port lists (rtl_ports.h): the clock to the
// core's clock, rst_n to the core's reset, every other port to the signal its list entry names.
#define PRUNESIM_CORE_BIND(dir, name, signal) PRUNESIM_CORE_BIND_##dir(name, signal)
#define PRUNESIM_CORE_BIND_clock(name, signal) m.name(*s.clk);
#define PRUNESIM_CORE_BIND_reset(name, signal) m.name(s.rst_n);
#define PRUNESIM_CORE_BIND_in(name, signal) m.name(signal);
#define PRUNESIM_CORE_BIND_out(name, signal) m.name(signal);
#define PRUNESIM_CORE_BIND_comb(name, signal) m.name(signal);

// Port p of the activation memory on s.am_p.
template <class M>
void bind_act_mem(M& m, CoreSignals& s) {
#define PRUNESIM_X(dir, name, width) PRUNESIM_CORE_BIND(dir, name, s.am_##name)
  PRUNESIM_ACT_MEM_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
}

// Port p of the PE array on s.pa_p.
template <class M>
void bind_pe_array(M& m, CoreSignals& s) {
#define PRUNESIM_X(dir, name, width) PRUNESIM_CORE_BIND(dir, name, s.pa_##name)
  PRUNESIM_PE_ARRAY_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
}

// Decoder `cluster` (0..3): the shared load/fmt on s.dec_load/dec_fmt, data port p on its slice
// s.dc_p[cluster].
template <class M>
void bind_decoder(M& m, CoreSignals& s, int cluster) {
  const auto c = static_cast<size_t>(cluster);
#define PRUNESIM_X(dir, name, width) PRUNESIM_CORE_BIND(dir, name, s.dec_##name)
  PRUNESIM_DECODER_SHARED_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(dir, name, width) PRUNESIM_CORE_BIND(dir, name, s.dc_##name[c])
  PRUNESIM_DECODER_DATA_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
}

// The requantizer (combinational: no clock, no reset): port p on s.rq_p.
template <class M>
void bind_requant(M& m, CoreSignals& s) {
#define PRUNESIM_X(dir, name, width) PRUNESIM_CORE_BIND(dir, name, s.rq_##name)
  PRUNESIM_REQUANT_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
}

// Makes one block bound to the signals (index: the decoder's cluster, else 0). The netlist owns
// what it returns.
using BlockMaker = std::function<sc_core::sc_module*(const char* name, CoreSignals&, int index)>;
struct BlockMakers {
  BlockMaker ctrl, act_mem, pe_array, decoder, requant;
};

class CoreNet : public sc_core::sc_module {
 public:
  static constexpr int kClusters = 4;
  static constexpr uint32_t kActMemBytes = 65536;  // the core's activation memory

  SC_HAS_PROCESS(CoreNet);
  // Sets s.clk = &clk, makes the blocks (ctrl, act_mem, decoder 0..3, pe_array, requant) as
  // children named like that ("decoder2") and the dec_* splitter/joiner processes.
  CoreNet(sc_core::sc_module_name name, sc_core::sc_signal_in_if<bool>& clk, CoreSignals& s,
          const BlockMakers& makers);
  ~CoreNet() override;

  // Makers of the SystemC twin of every block (the activation memory with 65,536 B).
  static BlockMakers twins();

  CoreSignals& signals() { return s_; }
  // The blocks in creation order: ctrl, act_mem, decoder0..3, pe_array, requant.
  const std::vector<std::unique_ptr<sc_core::sc_module>>& blocks() const { return blocks_; }

 private:
  CoreSignals& s_;
  std::vector<std::unique_ptr<sc_core::sc_module>> blocks_;
  void split();  // dec_bits/cnt/idx/vals -> dc_*[c]
  void join();   // dc_valid/slot/wgt/last[c] -> dec_valid/slot/wgt/last
};

// One block output: "<block>.<port>" and its value as 32-bit words, LSB first.
using Observation = std::pair<std::string, std::vector<uint32_t>>;
// Every block output in the lockstep order: the activation memory (rd_data, overlap_err,
// port_conflict), decoder 0..3 (valid, slot, wgt, last), the PE array (rd_acc, mac_done), the
// requantizer (out_valid, out_q), the controller (its outputs in port-table order, "ctrl.busy"
// ... "ctrl.rq_act_max"). Read from the signals (decoder outputs from the per-cluster ones).
std::vector<Observation> observe(const CoreSignals& s);
// The names and widths of observe()'s entries, same order.
const std::vector<std::pair<std::string, int>>& observation_ports();

// ---- Host driver -------------------------------------------------------------------------------

struct HostResult {
  std::vector<std::vector<uint32_t>> dout;  // per sample: DMA-out words indexed by dout_addr
  std::vector<int64_t> cycles;              // per sample: clock cycles with busy high
  bool timed_out = false;                   // busy never rose, or stayed high past max_busy
  uint64_t clock_cycles = 0;                // falling edges seen in total
  double seconds = 0;                       // wall time of the inferences (load excluded)
};

// Drives the top-level ports of one or more cores with the same inputs (cores[0] is the one whose
// busy and dout are observed), on the falling clock edge so the inputs are stable at the rising
// edge that samples them:
//  - rst_n low for 2 cycles, then high;
//  - program load: for pl_sel = 0..7, tables[sel][a] for every a < tables[sel].size() (only the
//    words given, zeros included unless skip_zero_words), one word per cycle (pl_en high);
//  - per sample: its HIN words (pl_sel 7, from address 0), one per cycle; then start high for one
//    cycle (the rising edge that samples it moves the controller out of IDLE); then at every
//    falling edge busy is sampled: the count of falling edges with busy high is the number of
//    clock cycles (rising edge to rising edge) with busy high, i.e. the latency; dout words are
//    collected in those cycles; the sample ends at the first falling edge with busy low.
// on_cycle (optional) runs at every falling edge after the outputs were sampled, with the number
// of that falling edge and the busy-cycle index of the sample (-1 outside busy); returning false
// stops the simulation (sc_stop).
SC_MODULE(CoreHost) {
  sc_core::sc_in<bool> clk;

  struct Options {
    int64_t out_words = 0;         // dout words per sample (0: as many as dout_addr reaches)
    int64_t max_busy = 0;          // per sample before giving up; 0: no limit
    bool skip_zero_words = false;  // program load: skip zero words (the tables reset to 0)
  };

  SC_HAS_PROCESS(CoreHost);
  CoreHost(sc_core::sc_module_name name, std::vector<CoreSignals*> cores,
           std::array<std::vector<uint32_t>, 8> tables, std::vector<std::vector<uint32_t>> hin,
           const Options& opt);

  HostResult result;
  std::function<bool(uint64_t falling_edge, int64_t busy_index)> on_cycle;

 private:
  std::vector<CoreSignals*> cores_;
  std::array<std::vector<uint32_t>, 8> tables_;
  std::vector<std::vector<uint32_t>> hin_;
  Options opt_;
  void drive(bool rst_n, bool pl_en, uint32_t sel, uint32_t addr, uint32_t data, bool start);
  void run();
};

// Runs the all-twin netlist on a clock of 10 ns: program load, then every sample. SystemC
// elaborates once per process: call at most once per process (models/isolate.h).
HostResult run_twin_core(const std::array<std::vector<uint32_t>, 8>& tables,
                         const std::vector<std::vector<uint32_t>>& hin,
                         const CoreHost::Options& opt);

}  // namespace prunesim::raman
