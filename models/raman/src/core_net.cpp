// The structural core netlist, its observation list and the host driver (models/raman/core_net.h).
#include "models/raman/core_net.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "models/raman/ctrl_twin.h"
#include "models/raman/rtl_twins.h"

namespace prunesim::raman {
namespace {

std::string signal_prefix(const std::string& p) {
  static int n = 0;
  return p.empty() ? "net" + std::to_string(n++) + "_" : p;
}

void words_of(bool v, std::vector<uint32_t>& o) {
  o.assign(1, v ? 1u : 0u);
}
void words_of(uint32_t v, std::vector<uint32_t>& o) {
  o.assign(1, v);
}
void words_of(uint64_t v, std::vector<uint32_t>& o) {
  o = {static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
}
template <int N>
void words_of(const sc_dt::sc_bv<N>& v, std::vector<uint32_t>& o) {
  o.resize((N + 31) / 32);
  for (int i = 0; i < (N + 31) / 32; ++i) o[static_cast<size_t>(i)] = v.get_word(i);
}
// The value masked to its port width (decoder outputs carry only their slice).
template <class T>
std::vector<uint32_t> value(const sc_core::sc_signal<T>& s, int width) {
  std::vector<uint32_t> o;
  words_of(s.read(), o);
  if (width % 32 != 0) o[static_cast<size_t>(width / 32)] &= (1u << (width % 32)) - 1u;
  return o;
}

// Every output of a block's port list (rtl_ports.h) is observed, on the core signal it drives.
#define PRUNESIM_OBSERVE_clock(block, n, w, sig)
#define PRUNESIM_OBSERVE_reset(block, n, w, sig)
#define PRUNESIM_OBSERVE_in(block, n, w, sig)
#define PRUNESIM_OBSERVE_out(block, n, w, sig) \
  f(                                           \
      block + #n, w, [&]() -> const auto& { return sig; });
#define PRUNESIM_OBSERVE_comb(block, n, w, sig) PRUNESIM_OBSERVE_out(block, n, w, sig)

// Visits every observed output in lockstep order: f(name, width, get), get() its signal in *s.
template <class F>
void visit_outputs(const CoreSignals* s, F&& f) {
#define PRUNESIM_X(dir, n, w) PRUNESIM_OBSERVE_##dir(std::string("act_mem."), n, w, s->am_##n)
  PRUNESIM_ACT_MEM_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
  for (size_t c = 0; c < static_cast<size_t>(CoreNet::kClusters); ++c) {
    const std::string d = "decoder" + std::to_string(c) + ".";
#define PRUNESIM_X(dir, n, w) PRUNESIM_OBSERVE_##dir(d, n, w, s->dc_##n[c])
    PRUNESIM_DECODER_DATA_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
  }
#define PRUNESIM_X(dir, n, w) PRUNESIM_OBSERVE_##dir(std::string("pe_array."), n, w, s->pa_##n)
  PRUNESIM_PE_ARRAY_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(dir, n, w) PRUNESIM_OBSERVE_##dir(std::string("requant."), n, w, s->rq_##n)
  PRUNESIM_REQUANT_PORTS(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(n, w) \
  f(                     \
      "ctrl." #n, w, [&]() -> const auto& { return s->n; });
  PRUNESIM_CTRL_OUTPUTS(PRUNESIM_X)
#undef PRUNESIM_X
}

}  // namespace

#define PRUNESIM_S(x) x((name_prefix + #x).c_str())
CoreSignals::CoreSignals(const std::string& prefix)
    : name_prefix(signal_prefix(prefix)),
      PRUNESIM_S(rst_n),
      PRUNESIM_S(pl_en),
      PRUNESIM_S(start),
      PRUNESIM_S(busy),
      PRUNESIM_S(dout_valid),
      PRUNESIM_S(am_overlap_err),
      PRUNESIM_S(am_port_conflict),
      PRUNESIM_S(pl_sel),
      PRUNESIM_S(pl_addr),
      PRUNESIM_S(pl_data),
      PRUNESIM_S(dout_addr),
      PRUNESIM_S(dout_data),
      PRUNESIM_S(am_rd_en),
      PRUNESIM_S(am_rd_word),
      PRUNESIM_S(am_wr_en),
      PRUNESIM_S(am_rd_addr),
      PRUNESIM_S(am_wr_addr),
      PRUNESIM_S(am_wr_be),
      PRUNESIM_S(am_wr_data),
      PRUNESIM_S(am_rd_data),
      PRUNESIM_S(am_guard_en),
      PRUNESIM_S(am_ia_low),
      PRUNESIM_S(am_ia_high),
      PRUNESIM_S(pa_gate_en),
      PRUNESIM_S(pa_init),
      PRUNESIM_S(pa_init_bias),
      PRUNESIM_S(pa_act),
      PRUNESIM_S(pa_lane),
      PRUNESIM_S(pa_op_max),
      PRUNESIM_S(pa_lane_act),
      PRUNESIM_S(pa_mac_valid),
      PRUNESIM_S(pa_mac_slot),
      PRUNESIM_S(pa_wgt),
      PRUNESIM_S(pa_rd_pe),
      PRUNESIM_S(pa_rd_slot),
      PRUNESIM_S(pa_rd_acc),
      PRUNESIM_S(pa_mac_done),
      PRUNESIM_S(dec_load),
      PRUNESIM_S(dec_fmt),
      PRUNESIM_S(dec_bits),
      PRUNESIM_S(dec_cnt),
      PRUNESIM_S(dec_idx),
      PRUNESIM_S(dec_vals),
      PRUNESIM_S(dec_valid),
      PRUNESIM_S(dec_slot),
      PRUNESIM_S(dec_wgt),
      PRUNESIM_S(dec_last),
      dc_bits((name_prefix + "dc_bits").c_str(), CoreNet::kClusters),
      dc_cnt((name_prefix + "dc_cnt").c_str(), CoreNet::kClusters),
      dc_idx((name_prefix + "dc_idx").c_str(), CoreNet::kClusters),
      dc_vals((name_prefix + "dc_vals").c_str(), CoreNet::kClusters),
      dc_valid((name_prefix + "dc_valid").c_str(), CoreNet::kClusters),
      dc_slot((name_prefix + "dc_slot").c_str(), CoreNet::kClusters),
      dc_wgt((name_prefix + "dc_wgt").c_str(), CoreNet::kClusters),
      dc_last((name_prefix + "dc_last").c_str(), CoreNet::kClusters),
      PRUNESIM_S(rq_in_valid),
      PRUNESIM_S(rq_bypass),
      PRUNESIM_S(rq_acc),
      PRUNESIM_S(rq_mult),
      PRUNESIM_S(rq_shift),
      PRUNESIM_S(rq_act_min),
      PRUNESIM_S(rq_act_max),
      PRUNESIM_S(rq_out_valid),
      PRUNESIM_S(rq_out_q) {}
#undef PRUNESIM_S

CoreNet::CoreNet(sc_core::sc_module_name name, sc_core::sc_signal_in_if<bool>& clk, CoreSignals& s,
                 const BlockMakers& mk)
    : sc_module(name), s_(s) {
  s.clk = &clk;
  blocks_.emplace_back(mk.ctrl("ctrl", s, 0));
  blocks_.emplace_back(mk.act_mem("act_mem", s, 0));
  for (int c = 0; c < kClusters; ++c)
    blocks_.emplace_back(mk.decoder(("decoder" + std::to_string(c)).c_str(), s, c));
  blocks_.emplace_back(mk.pe_array("pe_array", s, 0));
  blocks_.emplace_back(mk.requant("requant", s, 0));
  SC_METHOD(split);
  sensitive << s.dec_bits << s.dec_cnt << s.dec_idx << s.dec_vals;
  SC_METHOD(join);
  for (int c = 0; c < kClusters; ++c) {
    const auto i = static_cast<size_t>(c);
    sensitive << s.dc_valid[i] << s.dc_slot[i] << s.dc_wgt[i] << s.dc_last[i];
  }
}

CoreNet::~CoreNet() = default;

void CoreNet::split() {
  const sc_dt::sc_bv<128>& bits = s_.dec_bits.read();
  const uint64_t cnt = s_.dec_cnt.read();
  const sc_dt::sc_bv<384>& idx = s_.dec_idx.read();
  const sc_dt::sc_bv<1024>& vals = s_.dec_vals.read();
  for (int c = 0; c < kClusters; ++c) {
    const auto i = static_cast<size_t>(c);
    s_.dc_bits[i].write(static_cast<uint32_t>(bits.get_word(c)));
    s_.dc_cnt[i].write(static_cast<uint32_t>(cnt >> (16 * c)) & 0xffffu);
    sc_dt::sc_bv<96> ix;
    for (int w = 0; w < 3; ++w) ix.set_word(w, idx.get_word(3 * c + w));
    s_.dc_idx[i].write(ix);
    sc_dt::sc_bv<256> v;
    for (int w = 0; w < 8; ++w) v.set_word(w, vals.get_word(8 * c + w));
    s_.dc_vals[i].write(v);
  }
}

void CoreNet::join() {
  uint32_t valid = 0, last = 0;
  uint64_t slot = 0;
  sc_dt::sc_bv<128> wgt;
  for (int c = 0; c < kClusters; ++c) {
    const auto i = static_cast<size_t>(c);
    valid |= (s_.dc_valid[i].read() & 0xfu) << (4 * c);
    slot |= static_cast<uint64_t>(s_.dc_slot[i].read() & 0xfffu) << (12 * c);
    wgt.set_word(c, s_.dc_wgt[i].read());
    last |= (s_.dc_last[i].read() ? 1u : 0u) << c;
  }
  s_.dec_valid.write(valid);
  s_.dec_slot.write(slot);
  s_.dec_wgt.write(wgt);
  s_.dec_last.write(last);
}

BlockMakers CoreNet::twins() {
  BlockMakers m;
  m.ctrl = [](const char* n, CoreSignals& s, int) -> sc_core::sc_module* {
    auto* b = new RamanCtrlTwin(n);
    bind_ctrl(*b, s);
    return b;
  };
  m.act_mem = [](const char* n, CoreSignals& s, int) -> sc_core::sc_module* {
    auto* b = new RamanActMemTwin(n, kActMemBytes);
    bind_act_mem(*b, s);
    return b;
  };
  m.decoder = [](const char* n, CoreSignals& s, int c) -> sc_core::sc_module* {
    auto* b = new RamanDecoderTwin(n);
    bind_decoder(*b, s, c);
    return b;
  };
  m.pe_array = [](const char* n, CoreSignals& s, int) -> sc_core::sc_module* {
    auto* b = new RamanPeArrayTwin(n);
    bind_pe_array(*b, s);
    return b;
  };
  m.requant = [](const char* n, CoreSignals& s, int) -> sc_core::sc_module* {
    auto* b = new RamanRequantTwin(n);
    bind_requant(*b, s);
    return b;
  };
  return m;
}

std::vector<Observation> observe(const CoreSignals& s) {
  std::vector<Observation> o;
  o.reserve(observation_ports().size());
  visit_outputs(&s, [&o](const std::string& name, int width, const auto& get) {
    o.emplace_back(name, value(get(), width));
  });
  return o;
}

const std::vector<std::pair<std::string, int>>& observation_ports() {
  static const std::vector<std::pair<std::string, int>> ports = [] {
    std::vector<std::pair<std::string, int>> p;
    // observe()'s walk without signals: the getters are never called.
    visit_outputs(nullptr, [&p](const std::string& name, int width, const auto&) {
      p.emplace_back(name, width);
    });
    return p;
  }();
  return ports;
}

// ---- Host driver -------------------------------------------------------------------------------

CoreHost::CoreHost(sc_core::sc_module_name name, std::vector<CoreSignals*> cores,
                   std::array<std::vector<uint32_t>, 8> tables,
                   std::vector<std::vector<uint32_t>> hin, const Options& opt)
    : sc_module(name),
      cores_(std::move(cores)),
      tables_(std::move(tables)),
      hin_(std::move(hin)),
      opt_(opt) {
  SC_THREAD(run);
  sensitive << clk.neg();
}

void CoreHost::drive(bool r, bool e, uint32_t sel, uint32_t a, uint32_t d, bool st) {
  for (CoreSignals* s : cores_) {
    s->rst_n.write(r);
    s->pl_en.write(e);
    s->pl_sel.write(sel);
    s->pl_addr.write(a);
    s->pl_data.write(d);
    s->start.write(st);
  }
}

void CoreHost::run() {
  auto stop = [this] { sc_core::sc_stop(); };
  auto tick = [this](int64_t idx) {
    wait();
    ++result.clock_cycles;
    return !on_cycle || on_cycle(result.clock_cycles, idx);
  };
  drive(false, false, 0, 0, 0, false);
  if (!tick(-1) || !tick(-1)) return stop();
  drive(true, false, 0, 0, 0, false);
  if (!tick(-1)) return stop();
  for (uint32_t sel = 0; sel < 8; ++sel) {
    const auto& words = tables_[sel];
    for (size_t a = 0; a < words.size(); ++a) {
      if (opt_.skip_zero_words && words[a] == 0) continue;
      drive(true, true, sel, static_cast<uint32_t>(a), words[a], false);
      if (!tick(-1)) return stop();
    }
  }
  drive(true, false, 0, 0, 0, false);
  if (!tick(-1)) return stop();
  std::chrono::steady_clock::time_point t0;
  CoreSignals& dut = *cores_.at(0);
  for (size_t s = 0; s < hin_.size(); ++s) {
    for (size_t a = 0; a < hin_[s].size(); ++a) {
      drive(true, true, 7, static_cast<uint32_t>(a), hin_[s][a], false);
      if (!tick(-1)) return stop();
    }
    if (s == 0) t0 = std::chrono::steady_clock::now();
    std::vector<uint32_t> out(static_cast<size_t>(std::max<int64_t>(0, opt_.out_words)), 0u);
    int64_t busy_count = 0, waited = 0;
    bool seen = false;
    drive(true, false, 0, 0, 0, true);  // sampled by the next rising edge
    for (;;) {
      wait();
      ++result.clock_cycles;
      drive(true, false, 0, 0, 0, false);
      int64_t idx = -1;
      const bool b = dut.busy.read();
      if (b) {
        idx = busy_count++;
        seen = true;
      }
      if (dut.dout_valid.read()) {
        const uint32_t a = dut.dout_addr.read();
        if (opt_.out_words == 0 && a >= out.size()) out.resize(a + 1, 0u);
        if (a < out.size()) out[a] = dut.dout_data.read();
      }
      if (on_cycle && !on_cycle(result.clock_cycles, idx)) return stop();
      if (seen && !b) break;
      if ((!seen && ++waited > 16) || (opt_.max_busy > 0 && busy_count > opt_.max_busy)) {
        result.timed_out = true;
        result.cycles.push_back(busy_count);
        result.dout.push_back(std::move(out));
        return stop();
      }
    }
    result.cycles.push_back(busy_count);
    result.dout.push_back(std::move(out));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop();
}

HostResult run_twin_core(const std::array<std::vector<uint32_t>, 8>& tables,
                         const std::vector<std::vector<uint32_t>>& hin,
                         const CoreHost::Options& opt) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_clock clk("clk", 10, sc_core::SC_NS);
  CoreSignals s("twin_");
  CoreNet net("twin", clk, s, CoreNet::twins());
  CoreHost host("host", {&s}, tables, hin, opt);
  host.clk(clk);
  sc_core::sc_start();
  return host.result;
}

}  // namespace prunesim::raman
