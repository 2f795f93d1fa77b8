// run_core: the host driver, the design under test (the Verilated raman_core, a broken variant of
// it, or the structural netlist with chosen blocks Verilated) and, beside it, the all-twin
// netlist; at every falling clock edge the probes of both are compared (cosim/verify/probes.h)
// and then the next inputs are driven. Docs: docs/raman-rtl.md, docs/cli.md "verify".
#include <chrono>
#include <fstream>
#include <memory>
#include <systemc>

#include "Vraman_act_mem64.h"
#include "Vraman_core.h"
#include "Vraman_core___024root.h"
#include "Vraman_core_broken_order.h"
#include "Vraman_core_broken_order___024root.h"
#include "Vraman_core_broken_round.h"
#include "Vraman_core_broken_round___024root.h"
#include "Vraman_ctrl.h"
#include "Vraman_decoder.h"
#include "Vraman_pe_array.h"
#include "Vraman_requant.h"
#include "cosim/verify.h"
#include "models/raman/core_net.h"
#include "probes.h"
#include "prune/errors.h"
#include "verilated.h"
#include "verilated_fst_sc.h"

namespace prunesim::cosim {
namespace {

using namespace sc_core;
using cosim::to_words;  // the port-type overloads of probes.h beside the ones below
using raman::CoreSignals;

template <size_t N>
void to_words(const VlWide<N>& v, uint32_t* o) {
  for (size_t i = 0; i < N; ++i) o[i] = v[i];
}
template <class T>
void to_words(const sc_signal<T>& s, uint32_t* o) {
  to_words(s.read(), o);
}
template <class T>
void to_words(const sc_out<T>& s, uint32_t* o) {
  to_words(s.read(), o);
}

// Probes in lockstep order, reading wires through `get(wire_name)` which returns a callable
// filling words with the whole wire (decoder outputs are slices of the concatenated wires).
template <class Wire>
std::vector<Probe> make_probes(const Wire& wire) {
  std::vector<Probe> p;
  auto whole = [&](const std::string& name, const char* w, int width) {
    p.push_back({name, width, wire(w)});
  };
  whole("act_mem.rd_data", "am_rd_data", 128);
  whole("act_mem.overlap_err", "am_overlap_err", 1);
  whole("act_mem.port_conflict", "am_port_conflict", 1);
  struct Dec {
    const char* port;
    const char* w;
    int width, total;
  };
  for (int c = 0; c < 4; ++c)
    for (const Dec& d : {Dec{"valid", "dec_valid", 4, 16}, Dec{"slot", "dec_slot", 12, 48},
                         Dec{"wgt", "dec_wgt", 32, 128}, Dec{"last", "dec_last", 1, 4}}) {
      auto full = wire(d.w);
      const int lo = c * d.width, width = d.width, total = d.total;
      p.push_back({"decoder" + std::to_string(c) + "." + d.port, width,
                   [full, lo, width, total](uint32_t* o) {
                     uint32_t buf[8] = {};
                     (void)total;
                     full(buf);
                     slice_words(buf, lo, width, o);
                   }});
    }
  whole("pe_array.rd_acc", "pa_rd_acc", 32);
  whole("pe_array.mac_done", "pa_mac_done", 16);
  whole("requant.out_valid", "rq_out_valid", 1);
  whole("requant.out_q", "rq_out_q", 8);
#define PRUNESIM_X(n, w) whole("ctrl." #n, #n, w);
  PRUNESIM_CTRL_OUTPUTS(PRUNESIM_X)
#undef PRUNESIM_X
  return p;
}

using Reader = std::function<void(uint32_t*)>;

// Wires of a structural netlist: its CoreSignals by name.
std::vector<Probe> netlist_probes(CoreSignals& s) {
  return make_probes([&s](const std::string& n) -> Reader {
#define PRUNESIM_R(w) \
  if (n == #w) return [&s](uint32_t* o) { to_words(s.w, o); };
    PRUNESIM_R(am_rd_data)
    PRUNESIM_R(am_overlap_err)
    PRUNESIM_R(am_port_conflict)
    PRUNESIM_R(dec_valid)
    PRUNESIM_R(dec_slot)
    PRUNESIM_R(dec_wgt)
    PRUNESIM_R(dec_last)
    PRUNESIM_R(pa_rd_acc)
    PRUNESIM_R(pa_mac_done)
    PRUNESIM_R(rq_out_valid)
    PRUNESIM_R(rq_out_q)
#define PRUNESIM_X(w, width) PRUNESIM_R(w)
    PRUNESIM_CTRL_OUTPUTS(PRUNESIM_X)
#undef PRUNESIM_X
#undef PRUNESIM_R
    throw std::logic_error("netlist probe: no signal " + n);
  });
}

// The top-level signals of a Verilated raman_core (the netlist's are in CoreSignals).
struct TopSignals {
  sc_signal<bool> rst_n{"rst_n"}, pl_en{"pl_en"}, start{"start"}, busy{"busy"},
      dout_valid{"dout_valid"}, am_overlap_err{"am_overlap_err"},
      am_port_conflict{"am_port_conflict"};
  sc_signal<uint32_t> pl_sel{"pl_sel"}, pl_addr{"pl_addr"}, pl_data{"pl_data"},
      dout_addr{"dout_addr"}, dout_data{"dout_data"};
};

// Wires of the Verilated core: its public internal wires and its top-level ports.
template <class M>
std::vector<Probe> core_probes(M* m, TopSignals& t) {
  auto* r = m->rootp;
  return make_probes([r, &t](const std::string& n) -> Reader {
#define PRUNESIM_R(w) \
  if (n == #w) return [r](uint32_t* o) { to_words(r->raman_core__DOT__##w, o); };
#define PRUNESIM_T(w) \
  if (n == #w) return [&t](uint32_t* o) { to_words(t.w, o); };
    PRUNESIM_T(busy)
    PRUNESIM_T(dout_valid)
    PRUNESIM_T(dout_addr)
    PRUNESIM_T(dout_data)
    PRUNESIM_T(am_overlap_err)
    PRUNESIM_T(am_port_conflict)
    PRUNESIM_R(am_rd_data)
    PRUNESIM_R(dec_valid)
    PRUNESIM_R(dec_slot)
    PRUNESIM_R(dec_wgt)
    PRUNESIM_R(dec_last)
    PRUNESIM_R(pa_rd_acc)
    PRUNESIM_R(pa_mac_done)
    PRUNESIM_R(rq_out_valid)
    PRUNESIM_R(rq_out_q)
    PRUNESIM_R(am_rd_en)
    PRUNESIM_R(am_rd_word)
    PRUNESIM_R(am_rd_addr)
    PRUNESIM_R(am_wr_en)
    PRUNESIM_R(am_wr_addr)
    PRUNESIM_R(am_wr_be)
    PRUNESIM_R(am_wr_data)
    PRUNESIM_R(pa_gate_en)
    PRUNESIM_R(pa_init)
    PRUNESIM_R(pa_init_bias)
    PRUNESIM_R(pa_act)
    PRUNESIM_R(pa_lane)
    PRUNESIM_R(pa_op_max)
    PRUNESIM_R(pa_lane_act)
    PRUNESIM_R(pa_mac_valid)
    PRUNESIM_R(pa_mac_slot)
    PRUNESIM_R(pa_wgt)
    PRUNESIM_R(pa_rd_pe)
    PRUNESIM_R(pa_rd_slot)
    PRUNESIM_R(dec_load)
    PRUNESIM_R(dec_fmt)
    PRUNESIM_R(dec_bits)
    PRUNESIM_R(dec_cnt)
    PRUNESIM_R(dec_idx)
    PRUNESIM_R(dec_vals)
    PRUNESIM_R(rq_in_valid)
    PRUNESIM_R(rq_bypass)
    PRUNESIM_R(rq_acc)
    PRUNESIM_R(rq_mult)
    PRUNESIM_R(rq_shift)
    PRUNESIM_R(rq_act_min)
    PRUNESIM_R(rq_act_max)
#undef PRUNESIM_R
#undef PRUNESIM_T
    throw std::logic_error("core probe: no wire " + n);
  });
}

template <class M>
M* make_core(const char* name, sc_clock& clk, TopSignals& t) {
  auto* m = new M(name);
  m->clk(clk);
  m->rst_n(t.rst_n);
  m->pl_en(t.pl_en);
  m->pl_sel(t.pl_sel);
  m->pl_addr(t.pl_addr);
  m->pl_data(t.pl_data);
  m->start(t.start);
  m->busy(t.busy);
  m->dout_valid(t.dout_valid);
  m->dout_addr(t.dout_addr);
  m->dout_data(t.dout_data);
  m->am_overlap_err(t.am_overlap_err);
  m->am_port_conflict(t.am_port_conflict);
  return m;
}

// The host's view of one core: inputs to drive, outputs to read.
struct HostPort {
  std::function<void(bool rst_n, bool pl_en, uint32_t sel, uint32_t addr, uint32_t data,
                     bool start)>
      drive;
  std::function<bool()> busy, dout_valid;
  std::function<uint32_t()> dout_addr, dout_data;
};

// CoreSignals (a netlist) and TopSignals (the Verilated core) name their top ports alike.
template <class S>
HostPort host_of(S& s) {
  HostPort h;
  h.drive = [&s](bool r, bool e, uint32_t sel, uint32_t a, uint32_t d, bool st) {
    s.rst_n.write(r);
    s.pl_en.write(e);
    s.pl_sel.write(sel);
    s.pl_addr.write(a);
    s.pl_data.write(d);
    s.start.write(st);
  };
  h.busy = [&s] { return s.busy.read(); };
  h.dout_valid = [&s] { return s.dout_valid.read(); };
  h.dout_addr = [&s] { return s.dout_addr.read(); };
  h.dout_data = [&s] { return s.dout_data.read(); };
  return h;
}

// A VCD of probe values, one timestep per cycle (the block-boundary view of the run).
class ProbeVcd {
 public:
  bool open(const std::string& path, const std::vector<std::pair<std::string, const Probe*>>& ps) {
    f_.open(path);
    if (!f_) return false;
    ps_ = ps;
    f_ << "$timescale 1 ns $end\n$scope module core $end\n";
    for (size_t i = 0; i < ps_.size(); ++i)
      f_ << "$var wire " << ps_[i].second->width << " " << id(i) << " " << ps_[i].first
         << " $end\n";
    f_ << "$upscope $end\n$enddefinitions $end\n";
    last_.assign(ps_.size(), "");
    return true;
  }
  void sample(uint64_t cycle) {
    if (!f_) return;
    bool stamped = false;
    uint32_t buf[160];
    for (size_t i = 0; i < ps_.size(); ++i) {
      const Probe& p = *ps_[i].second;
      p.read(buf);
      std::string v(static_cast<size_t>(p.width), '0');
      for (int b = 0; b < p.width; ++b)
        if (buf[b / 32] >> (b % 32) & 1u) v[static_cast<size_t>(p.width - 1 - b)] = '1';
      if (v == last_[i]) continue;
      if (!stamped) f_ << "#" << cycle * 10 << "\n";
      stamped = true;
      if (p.width == 1)
        f_ << v << id(i) << "\n";
      else
        f_ << "b" << v << " " << id(i) << "\n";
      last_[i] = std::move(v);
    }
  }

 private:
  static std::string id(size_t i) {
    std::string s;
    do {
      s += static_cast<char>('!' + i % 90);
      i /= 90;
    } while (i);
    return s;
  }
  std::ofstream f_;
  std::vector<std::pair<std::string, const Probe*>> ps_;
  std::vector<std::string> last_;
};

// A class body, not one function (ctags counts the SC_MODULE macro as one): its processes
// and helpers are each under 100 lines.
SC_MODULE(Host) {
  sc_in<bool> clk;
  const raman::RtlImage& img;
  const std::vector<std::vector<int8_t>>& codes;
  std::vector<HostPort> ports;  // [0] = DUT, [1] = reference (lockstep)
  std::vector<Probe> dut_probes, ref_probes;
  std::vector<const Probe*> rec;  // recorded probes (CoreRunOptions::record)
  ProbeVcd* vcd = nullptr;
  int64_t max_cycles = 0;  // CoreRunOptions::max_cycles
  std::vector<int64_t> expected;
  CoreRunResult* res = nullptr;
  uint64_t cycle = 0;
  std::chrono::steady_clock::time_point t0;
  bool started = false;
  std::function<std::string(int64_t)> where;

  SC_HAS_PROCESS(Host);
  Host(sc_module_name n, const raman::RtlImage& i, const std::vector<std::vector<int8_t>>& c)
      : sc_module(n), img(i), codes(c) {
    SC_THREAD(run);
    sensitive << clk.neg();
  }

  void drive(bool r, bool e, uint32_t sel, uint32_t a, uint32_t d, bool st) {
    for (HostPort& p : ports) p.drive(r, e, sel, a, d, st);
  }

  // The state of the sample being run: busy cycles seen so far, output words collected.
  bool in_sample = false, seen_busy = false;
  // busy_count: cycles with the DUT's busy high; sample_cycle: cycles since the start edge (the
  // numbering of divergences: equal to the busy index while the DUT is right).
  int64_t busy_count = 0, sample_cycle = 0, sample = -1;
  std::vector<uint32_t> out;
  std::string phase = "reset";

  // One falling edge: account the DUT's busy/dout, trace, compare. False at a divergence.
  bool check() {
    ++cycle;
    int64_t idx = -1;
    HostPort& d = ports[0];
    if (in_sample) {
      idx = sample_cycle++;
      if (d.busy()) {
        seen_busy = true;
        ++busy_count;
      }
      if (d.dout_valid() && d.dout_addr() < out.size()) out[d.dout_addr()] = d.dout_data();
    }
    if (vcd) vcd->sample(cycle);
    if (idx >= 0 && sample == 0)
      for (size_t k = 0; k < rec.size(); ++k) {
        std::vector<uint32_t> w(static_cast<size_t>(rec[k]->words()));
        rec[k]->read(w.data());
        res->recorded[k].push_back(std::move(w));
      }
    if (!ref_probes.empty()) {
      uint32_t a[160], b[160];
      for (size_t i = 0; i < dut_probes.size(); ++i) {
        const Probe& p = dut_probes[i];
        p.read(a);
        ref_probes[i].read(b);
        if (std::equal(a, a + p.words(), b)) continue;
        const size_t dot = p.name.find('.');
        res->div = {true,
                    static_cast<uint64_t>(idx >= 0 ? idx : static_cast<int64_t>(cycle)),
                    p.name.substr(0, dot),
                    p.name.substr(dot + 1),
                    words_hex(b, p.width),
                    words_hex(a, p.width)};
        res->div_sample = idx >= 0 ? sample : -1;
        res->div_where = idx >= 0 ? where(idx) : phase + ", clock cycle " + std::to_string(cycle);
        return false;
      }
    }
    return true;
  }

  void tick() {
    wait();
    if (!check()) {
      sc_stop();
      wait();
    }
  }

  void run() {
    drive(false, false, 0, 0, 0, false);
    tick();
    tick();
    drive(true, false, 0, 0, 0, false);
    tick();
    phase = "program load";
    for (int t = 0; t < raman::kHin; ++t) {
      const auto& words = img.tables[static_cast<size_t>(t)];
      for (size_t a = 0; a < words.size(); ++a) {
        if (words[a] == 0) continue;  // the tables start at 0 (Verilator and the twin)
        drive(true, true, static_cast<uint32_t>(t), static_cast<uint32_t>(a), words[a], false);
        tick();
      }
    }
    drive(true, false, 0, 0, 0, false);
    tick();
    for (size_t s = 0; s < codes.size(); ++s) {
      phase = "input load of sample " + std::to_string(s);
      const std::vector<uint32_t> hin = img.hin_words(codes[s]);
      for (size_t a = 0; a < hin.size(); ++a) {
        drive(true, true, raman::kHin, static_cast<uint32_t>(a), hin[a], false);
        tick();
      }
      if (s == 0) t0 = std::chrono::steady_clock::now();
      sample = static_cast<int64_t>(s);
      out.assign(static_cast<size_t>((img.out_bytes() + 3) / 4), 0);
      in_sample = true;
      seen_busy = false;
      busy_count = 0;
      sample_cycle = 0;
      drive(true, false, 0, 0, 0, true);
      tick();  // start is sampled on this rising edge: busy is high from here on
      drive(true, false, 0, 0, 0, false);
      const int64_t limit =
          max_cycles > 0 ? max_cycles : 2 * (s < expected.size() ? expected[s] : 0) + 1000;
      int64_t waited = 0;
      while (!seen_busy || ports[0].busy()) {
        if (busy_count > limit || (!seen_busy && ++waited > 16)) {
          res->timed_out = true;
          res->hang_limit = limit;
          res->div_sample = sample;
          sc_stop();
          wait();
        }
        tick();
      }
      in_sample = false;
      phase = "after sample " + std::to_string(s);
      res->cycles.push_back(busy_count);
      res->outputs.push_back(img.output_from_words(out));
    }
    res->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sc_stop();
    wait();
  }
};

template <class V>
sc_module* rtl_maker(const char* name, CoreSignals& s, int index);

// The design under test: the Verilated core (or a broken variant) on the top-level signals, or
// the structural netlist with the chosen blocks Verilated; its probes, and its FST tracer.
struct Dut {
  std::string name;
  std::unique_ptr<sc_module> core;
  std::unique_ptr<CoreSignals> sig;
  std::unique_ptr<raman::CoreNet> net;
  std::vector<Probe> probes;
  std::function<void(VerilatedFstSc*)> trace_core;
};

template <class M>
void make_full_core(Dut& d, sc_clock& clk, TopSignals& top) {
  auto* m = make_core<M>("rtl", clk, top);
  d.probes = core_probes(m, top);
  d.trace_core = [m](VerilatedFstSc* f) { m->trace(f, 99); };
  d.core.reset(m);
}

Dut make_dut(const CoreRunOptions& opt, sc_clock& clk, TopSignals& top) {
  Dut d;
  if (opt.rtl.empty()) {
    d.name = "raman_core";
    if (opt.variant.empty()) {
      make_full_core<Vraman_core>(d, clk, top);
    } else if (opt.variant == "broken_round") {
      make_full_core<Vraman_core_broken_round>(d, clk, top);
      d.name += " (-DBREAK_ROUND)";
    } else if (opt.variant == "broken_order") {
      make_full_core<Vraman_core_broken_order>(d, clk, top);
      d.name += " (-DBREAK_DECODER_ORDER)";
    } else {
      throw std::logic_error("run_core: unknown variant " + opt.variant);
    }
    return d;
  }
  raman::BlockMakers mk = raman::CoreNet::twins();
  d.name = "mixed:";
  for (const std::string& b : opt.rtl) {
    d.name += " " + b;
    if (b == "ctrl") mk.ctrl = rtl_maker<Vraman_ctrl>;
    if (b == "act_mem") mk.act_mem = rtl_maker<Vraman_act_mem64>;
    if (b == "pe_array") mk.pe_array = rtl_maker<Vraman_pe_array>;
    if (b == "decoder") mk.decoder = rtl_maker<Vraman_decoder>;
    if (b == "requant") mk.requant = rtl_maker<Vraman_requant>;
  }
  d.name += " in RTL, the rest SystemC twins";
  d.sig = std::make_unique<CoreSignals>();
  d.net = std::make_unique<raman::CoreNet>("dut", clk, *d.sig, mk);
  d.probes = netlist_probes(*d.sig);
  return d;
}

// One list of block outputs: ours must be the twin netlist's (names, widths, order).
void check_probe_list(const std::vector<Probe>& probes) {
  const auto& ports = raman::observation_ports();
  bool same = ports.size() == probes.size();
  for (size_t i = 0; same && i < ports.size(); ++i)
    same = ports[i].first == probes[i].name && ports[i].second == probes[i].width;
  if (!same) throw std::logic_error("run_core: the probe list differs from observation_ports()");
}

// Where busy cycle c of a sample falls: DMA in, a layer (by the SystemC model's cycles), DMA out.
std::function<std::string(int64_t)> place_of(
    int64_t dma_in_cycles, const std::vector<std::pair<std::string, int64_t>>& layer_cycles) {
  return [dma_in_cycles, layer_cycles](int64_t c) {
    if (c < dma_in_cycles) return "DMA in, cycle " + std::to_string(c) + " of it";
    int64_t t = dma_in_cycles;
    for (const auto& [name, n] : layer_cycles) {
      if (c < t + n) return "layer '" + name + "', cycle " + std::to_string(c - t) + " of it";
      t += n;
    }
    return "DMA out, cycle " + std::to_string(c - t) + " of it";
  };
}

// The probes opt.record names, from the reference netlist if there is one.
void select_records(Host& host, const CoreRunOptions& opt, CoreRunResult& res) {
  const std::vector<Probe>& src = host.ref_probes.empty() ? host.dut_probes : host.ref_probes;
  for (const std::string& n : opt.record) {
    auto it = std::find_if(src.begin(), src.end(), [&](const Probe& p) { return p.name == n; });
    if (it == src.end()) throw std::logic_error("run_core: no probe " + n);
    host.rec.push_back(&*it);
  }
  res.recorded.resize(host.rec.size());
}

}  // namespace

CoreRunResult run_core(const raman::RtlImage& img, const std::vector<std::vector<int8_t>>& codes,
                       const CoreRunOptions& opt, const std::vector<int64_t>& expected_cycles,
                       const std::vector<std::pair<std::string, int64_t>>& layer_cycles,
                       int64_t dma_in_cycles) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  const bool full = opt.rtl.empty();
  const std::string& tr = opt.trace;
  const bool fst = tr.size() > 4 && tr.compare(tr.size() - 4, 4, ".fst") == 0;
  if (fst && !full) throw std::logic_error("run_core: FST needs the whole core (verify checks)");
  if (fst) Verilated::traceEverOn(true);
  CoreRunResult res;
  sc_clock clk("clk", 10, SC_NS);

  TopSignals top;
  Dut dut = make_dut(opt, clk, top);
  res.dut = dut.name;
  // The reference: every block a SystemC twin.
  std::unique_ptr<CoreSignals> ref_sig;
  std::unique_ptr<raman::CoreNet> ref_net;
  std::vector<Probe> ref_probes;
  if (opt.lockstep) {
    ref_sig = std::make_unique<CoreSignals>();
    ref_net = std::make_unique<raman::CoreNet>("twin", clk, *ref_sig, raman::CoreNet::twins());
    ref_probes = netlist_probes(*ref_sig);
  }
  check_probe_list(dut.probes);

  Host host("host", img, codes);
  host.clk(clk);
  host.res = &res;
  host.expected = expected_cycles;
  host.max_cycles = opt.max_cycles;
  host.ports.push_back(full ? host_of(top) : host_of(*dut.sig));
  if (ref_sig) host.ports.push_back(host_of(*ref_sig));
  host.dut_probes = std::move(dut.probes);
  host.ref_probes = std::move(ref_probes);
  host.where = place_of(dma_in_cycles, layer_cycles);
  select_records(host, opt, res);
  ProbeVcd vcd;
  std::vector<std::pair<std::string, const Probe*>> vcd_probes;
  if (!tr.empty() && !fst) {
    for (const Probe& p : host.dut_probes) vcd_probes.emplace_back("rtl." + p.name, &p);
    for (const Probe& p : host.ref_probes) vcd_probes.emplace_back("twin." + p.name, &p);
    if (!vcd.open(tr, vcd_probes)) throw InputError("--trace " + tr + ": cannot create the file");
    host.vcd = &vcd;
  }
  std::unique_ptr<VerilatedFstSc> fst_file;
  sc_start(SC_ZERO_TIME);
  if (fst) {
    fst_file = std::make_unique<VerilatedFstSc>();
    dut.trace_core(fst_file.get());
    fst_file->open(tr.c_str());
  }
  sc_start();
  if (fst_file) fst_file->close();
  res.cycles_run = 0;
  for (int64_t c : res.cycles) res.cycles_run += c;
  if (top.am_port_conflict.read() || (dut.sig && dut.sig->am_port_conflict.read()))
    res.error = "the activation memory saw a read and a write in one cycle (port_conflict)";
  return res;
}

namespace {
template <class V>
sc_module* rtl_maker(const char* name, CoreSignals& s, int index) {
  auto* m = new V(name);
  if constexpr (std::is_same_v<V, Vraman_ctrl>) raman::bind_ctrl(*m, s);
  if constexpr (std::is_same_v<V, Vraman_act_mem64>) raman::bind_act_mem(*m, s);
  if constexpr (std::is_same_v<V, Vraman_pe_array>) raman::bind_pe_array(*m, s);
  if constexpr (std::is_same_v<V, Vraman_decoder>) raman::bind_decoder(*m, s, index);
  if constexpr (std::is_same_v<V, Vraman_requant>) raman::bind_requant(*m, s);
  return m;
}
}  // namespace

}  // namespace prunesim::cosim
