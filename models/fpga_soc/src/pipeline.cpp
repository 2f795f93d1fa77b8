// The SystemC model of the pipeline. Four clock domains (sc_clock): PS (A53), PL (HLS kernels),
// DPU, DDR controller (domains of equal frequency share one sc_clock). Modules: a sensor, one stage
// per planned stage (PS or PL), the DPU, a sink, connected by sc_fifo<int> frame tokens whose depth
// is the number of frame buffers (so stages overlap across frames and back-pressure stalls the
// upstream ones), and a DDR/AXI arbiter that serves every stage's DMA requests round-robin in
// bursts. Each process waits a computed number of cycles of its own clock (the cost formulas of
// program.cpp) instead of waking every cycle.
#include <systemc>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "models/fpga_soc/soc.h"

namespace prunesim {
namespace fpga_soc {
namespace {

using namespace sc_core;

struct DdrReq {
  int64_t remaining = 0;
  bool finished = false;
  sc_event done;
};

// DDR controller + AXI interconnect: one request queue, served round-robin in bursts of
// burst_bytes at bytes_per_cycle * efficiency per controller cycle. Requests therefore share the
// bandwidth when several stages move data at once.
SC_MODULE(Ddr) {
  sc_in<bool> clk;
  int64_t busy_cycles = 0, bytes = 0;

  SC_HAS_PROCESS(Ddr);
  Ddr(sc_module_name n, double bytes_per_cycle, int64_t burst)
      : sc_module(n), bpc_(bytes_per_cycle), burst_(burst) {
    SC_THREAD(serve);
    sensitive << clk.pos();
  }
  void submit(DdrReq * r) {
    if (r->remaining <= 0) {
      r->finished = true;
      return;
    }
    q_.push_back(r);
    kick_.notify(SC_ZERO_TIME);
  }

 private:
  void serve() {
    for (;;) {
      if (q_.empty()) {
        wait(kick_);
        wait();  // requests start on a controller clock edge
        continue;
      }
      DdrReq* r = q_.front();
      q_.pop_front();
      const int64_t chunk = std::min(burst_, r->remaining);
      const int64_t cyc = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(chunk / bpc_)));
      wait(static_cast<int>(cyc));
      busy_cycles += cyc;
      bytes += chunk;
      r->remaining -= chunk;
      if (r->remaining > 0) {
        q_.push_back(r);
      } else {
        r->finished = true;
        r->done.notify(SC_ZERO_TIME);
      }
    }
  }
  double bpc_;
  int64_t burst_;
  std::deque<DdrReq*> q_;
  sc_event kick_;
};

// Moves `bytes` through the DDR while the caller computes for `cycles` of its clock; returns
// when both are done plus the request latency. Must run in an SC_THREAD clocked by that clock.
void compute_and_transfer(Ddr& ddr, int64_t bytes, int64_t cycles, const sc_time& latency) {
  DdrReq r;
  r.remaining = bytes;
  ddr.submit(&r);
  if (cycles > 0) sc_core::wait(static_cast<int>(std::min<int64_t>(cycles, INT32_MAX)));
  if (!r.finished) sc_core::wait(r.done);
  if (bytes > 0 && latency > SC_ZERO_TIME) sc_core::wait(latency);
}

// The same for work timed in seconds rather than the caller's clock (a CPU-subgraph layer run
// on an A53 from inside the DPU stage's thread).
void compute_and_transfer(Ddr& ddr, int64_t bytes, const sc_time& t, const sc_time& latency) {
  DdrReq r;
  r.remaining = bytes;
  ddr.submit(&r);
  if (t > SC_ZERO_TIME) sc_core::wait(t);
  if (!r.finished) sc_core::wait(r.done);
  if (bytes > 0 && latency > SC_ZERO_TIME) sc_core::wait(latency);
}

// The frame buffers' contents: the functional data each stage produces, computed by the stage
// that produces it when its timing is done. Repeated input frames (frames > the input's N) reuse
// what an earlier pass through the same stage computed: the datapath is deterministic.
struct FrameStore {
  const QuantizedModel* q;
  const DpuProgram* prog;
  const SocConfig* cfg;
  const Frames* frames;
  std::map<int64_t, FrameData> data;      // per source frame
  std::map<int64_t, std::set<int>> done;  // steps done per source frame (4 = the network)
  std::vector<std::vector<uint8_t>> masks;
  std::vector<std::vector<int8_t>> codes;

  int64_t src(int k) const { return k % frames->n; }
  void step(int k, Step s) {
    const int64_t f = src(k);
    if (!done[f].insert(static_cast<int>(s)).second) return;
    run_step(s, *q, *prog, *cfg, *frames, f, data[f]);
  }
  void network(int k) {
    const int64_t f = src(k);
    if (!done[f].insert(kSteps).second) return;
    run_network(*q, *prog, data[f]);
  }
  void collect(int k) {
    const FrameData& d = data[src(k)];
    if (prog->argmax)
      masks.push_back(d.mask);
    else
      codes.push_back(d.scores);
  }
};

struct Probe {
  double busy_s = 0;
  int64_t frames = 0, bytes = 0, ops = 0;
};

// Raw frames enter DDR through the sensor interface DMA. Free-running (fps = 0) the sensor takes
// a frame as soon as a frame buffer is free; otherwise it also keeps its frame period.
SC_MODULE(Sensor) {
  sc_in<bool> clk;
  sc_fifo_out<int> out;
  Probe probe;
  std::vector<double> start_s;

  SC_HAS_PROCESS(Sensor);
  Sensor(sc_module_name n, Ddr * ddr, int64_t frames, int64_t bytes, double fps, sc_time lat)
      : sc_module(n), ddr_(ddr), frames_(frames), bytes_(bytes), fps_(fps), lat_(lat) {
    SC_THREAD(run);
    sensitive << clk.pos();
  }

 private:
  void run() {
    for (int64_t k = 0; k < frames_; ++k) {
      while (out->num_free() == 0) wait(out->data_read_event());
      if (fps_ > 0) {
        const sc_time due(static_cast<double>(k) / fps_, SC_SEC);
        if (sc_time_stamp() < due) wait(due - sc_time_stamp());
      }
      wait();  // align to the interface clock
      const sc_time t0 = sc_time_stamp();
      start_s.push_back(t0.to_seconds());
      compute_and_transfer(*ddr_, bytes_, 0, lat_);
      probe.busy_s += (sc_time_stamp() - t0).to_seconds();
      probe.frames++;
      probe.bytes += bytes_;
      out.write(static_cast<int>(k));
    }
  }
  Ddr* ddr_;
  int64_t frames_, bytes_;
  double fps_;
  sc_time lat_;
};

// A preprocessing/postprocessing stage on the PS (one A53 core, shared through a mutex when
// stages outnumber cores) or the PL (an HLS kernel chain).
SC_MODULE(Stage) {
  sc_in<bool> clk;
  sc_fifo_in<int> in;
  sc_fifo_out<int> out;
  Probe probe;

  SC_HAS_PROCESS(Stage);
  Stage(sc_module_name n, Ddr * ddr, int64_t cycles, int64_t bytes, int64_t elems, sc_mutex * core,
        sc_time lat, std::vector<Step> steps, FrameStore * store)
      : sc_module(n),
        ddr_(ddr),
        cycles_(cycles),
        bytes_(bytes),
        elems_(elems),
        core_(core),
        lat_(lat),
        steps_(std::move(steps)),
        store_(store) {
    SC_THREAD(run);
    sensitive << clk.pos();
  }

 private:
  void run() {
    for (;;) {
      const int f = in.read();
      if (core_) core_->lock();
      wait();
      const sc_time t0 = sc_time_stamp();
      compute_and_transfer(*ddr_, bytes_, cycles_, lat_);
      probe.busy_s += (sc_time_stamp() - t0).to_seconds();
      probe.frames++;
      probe.bytes += bytes_;
      probe.ops += elems_;
      for (Step st : steps_) store_->step(f, st);
      if (core_) core_->unlock();
      out.write(f);
    }
  }
  Ddr* ddr_;
  int64_t cycles_, bytes_, elems_;
  sc_mutex* core_;
  sc_time lat_;
  std::vector<Step> steps_;
  FrameStore* store_;
};

// The DPU: per frame the layer program; each DPU subgraph starts with the PS-side launch, each
// DPU layer computes for its array cycles plus the fixed per-layer overhead while its weights and
// features stream through the DDR. A layer placed on the PS (CPU subgraph) runs on an A53 core
// (held through its mutex) while the DPU waits, its features moving through the DDR.
SC_MODULE(Dpu) {
  sc_in<bool> clk;
  sc_fifo_in<int> in;
  sc_fifo_out<int> out;
  Probe probe;
  double compute_s = 0;  // array busy time
  std::vector<double> layer_s;

  SC_HAS_PROCESS(Dpu);
  double ps_busy_s = 0;  // A53 time of the CPU-subgraph layers

  Dpu(sc_module_name n, Ddr * ddr, const DpuProgram* prog, const SocConfig* cfg, sc_time lat,
      FrameStore* store, sc_mutex* core)
      : sc_module(n), ddr_(ddr), prog_(prog), cfg_(cfg), lat_(lat), store_(store), core_(core) {
    layer_s.assign(prog->layers.size(), 0.0);
    SC_THREAD(run);
    sensitive << clk.pos();
  }

 private:
  void run() {
    const double period = 1.0 / cfg_->dpu_clock_hz;
    const int64_t launch = static_cast<int64_t>(std::ceil(cfg_->dpu_launch_s * cfg_->dpu_clock_hz));
    for (;;) {
      const int f = in.read();
      wait();
      const sc_time t0 = sc_time_stamp();
      for (size_t l = 0; l < prog_->layers.size(); ++l) {
        const DpuLayer& D = prog_->layers[l];
        const int64_t bytes = D.ddr_read_bytes + D.ddr_write_bytes;
        if (D.place == Place::PS) {
          if (core_) core_->lock();
          const sc_time tl = sc_time_stamp();
          compute_and_transfer(
              *ddr_, bytes, sc_time(static_cast<double>(D.ps_cycles) / cfg_->ps_clock_hz, SC_SEC),
              lat_);
          const double dt = (sc_time_stamp() - tl).to_seconds();
          if (core_) core_->unlock();
          layer_s[l] += dt;
          ps_busy_s += dt;
          probe.bytes += bytes;
          wait();  // back on the DPU clock
          continue;
        }
        if (D.launch && launch > 0) wait(static_cast<int>(launch));
        const sc_time tl = sc_time_stamp();
        compute_and_transfer(*ddr_, bytes, D.overhead_cycles + D.compute_cycles, lat_);
        layer_s[l] += (sc_time_stamp() - tl).to_seconds();
        compute_s += static_cast<double>(D.compute_cycles) * period;
        probe.bytes += D.ddr_read_bytes + D.ddr_write_bytes;
        probe.ops += D.macs;
      }
      probe.busy_s += (sc_time_stamp() - t0).to_seconds();
      probe.frames++;
      store_->network(f);
      out.write(f);
    }
  }
  Ddr* ddr_;
  const DpuProgram* prog_;
  const SocConfig* cfg_;
  sc_time lat_;
  FrameStore* store_;
  sc_mutex* core_;
};

SC_MODULE(Sink) {
  sc_in<bool> clk;
  sc_fifo_in<int> in;
  std::vector<double> done_s;

  SC_HAS_PROCESS(Sink);
  Sink(sc_module_name n, int64_t frames, FrameStore * store)
      : sc_module(n), frames_(frames), store_(store) {
    SC_THREAD(run);
    sensitive << clk.pos();
  }

 private:
  void run() {
    for (int64_t k = 0; k < frames_; ++k) {
      const int f = in.read();
      done_s.push_back(sc_time_stamp().to_seconds());
      store_->collect(f);
    }
    sc_stop();
  }
  int64_t frames_;
  FrameStore* store_;
};

sc_time period_of(double hz) {
  return sc_time(1.0 / hz, SC_SEC);
}

}  // namespace

// Shared by both modes (analytical.cpp): the per-resource activity rows (PS cores, PL kernels,
// DPU array, DDR) from the stages and the busy times each mode measured.
void add_resources(const SocConfig& cfg, const std::vector<double>& core_busy, double dpu_busy_s,
                   int64_t dpu_ops, double ddr_busy_s, int64_t ddr_bytes, SocResult& r);
// Shared by both modes (analytical.cpp): masks, the reference check and the latency figures.
void finish_result(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                   const Frames& frames, int64_t n, const std::vector<double>& start_s,
                   const std::vector<double>& done_s, SocResult& r);

SocResult run_cycle(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                    const Frames& frames) {
  const int64_t n = cfg.frames > 0 ? cfg.frames : frames.n;
  const auto plan = plan_stages(cfg, prog);
  // Modules live until the process ends (SystemC does not support tearing a design down and
  // elaborating again; run_cycle runs once per process, see models/isolate.h).
  // One sc_clock per distinct frequency (domains at the same frequency share one, as a design
  // clocked from one PLL output would), and no PS clock unless a step runs on the PS: clock edges
  // are most of the simulator's work.
  std::map<double, sc_clock*> clocks;
  auto clock = [&](const char* name, double hz) {
    auto it = clocks.find(hz);
    if (it != clocks.end()) return it->second;
    return clocks[hz] = new sc_clock(name, period_of(hz));
  };
  bool any_ps = false;
  for (const StageDef& s : plan) any_ps |= s.kind == "ps";
  sc_clock* pl_clk = clock("pl_clk", cfg.pl_clock_hz);
  sc_clock* dpu_clk = clock("dpu_clk", cfg.dpu_clock_hz);
  sc_clock* ddr_clk = clock("ddr_clk", cfg.ddr_clock_hz);
  sc_clock* ps_clk = any_ps ? clock("ps_clk", cfg.ps_clock_hz) : nullptr;
  const sc_time lat = period_of(cfg.ddr_clock_hz) * static_cast<double>(cfg.ddr_latency_cycles);
  auto* ddr = new Ddr("ddr", cfg.ddr_bytes_per_cycle * cfg.ddr_efficiency, cfg.ddr_burst_bytes);
  ddr->clk(*ddr_clk);
  std::vector<sc_fifo<int>*> fifos;
  auto fifo = [&]() {
    fifos.push_back(new sc_fifo<int>(static_cast<int>(cfg.buffers)));
    return fifos.back();
  };
  auto* store = new FrameStore{&q, &prog, &cfg, &frames, {}, {}, {}, {}};
  auto* sensor = new Sensor("sensor", ddr, n, plan[0].write_bytes, cfg.sensor_fps, lat);
  sensor->clk(*pl_clk);
  sc_fifo<int>* prev = fifo();
  sensor->out(*prev);
  std::vector<sc_mutex*> cores;
  for (int c = 0; c < cfg.ps_cores; ++c)
    cores.push_back(new sc_mutex(("core" + std::to_string(c)).c_str()));
  std::vector<Stage*> stages;
  std::vector<size_t> stage_plan;  // plan index of each Stage
  Dpu* dpu = nullptr;
  const auto costs = step_costs(cfg, prog);
  for (size_t i = 1; i < plan.size(); ++i) {
    const StageDef& s = plan[i];
    sc_fifo<int>* next = fifo();
    if (s.kind == "dpu") {
      dpu = new Dpu("dpu", ddr, &prog, &cfg, lat, store,
                    s.core >= 0 ? cores[static_cast<size_t>(s.core)] : nullptr);
      dpu->clk(*dpu_clk);
      dpu->in(*prev);
      dpu->out(*next);
    } else {
      const bool ps = s.kind == "ps";
      const double hz = ps ? cfg.ps_clock_hz : cfg.pl_clock_hz;
      int64_t elems = 0;
      for (Step k : s.steps) elems += costs[static_cast<size_t>(k)].elements;
      const int64_t cycles = static_cast<int64_t>(std::llround(s.compute_s * hz));
      std::string name = "stage" + std::to_string(i);
      auto* st = new Stage(name.c_str(), ddr, cycles, s.read_bytes + s.write_bytes, elems,
                           ps ? cores[static_cast<size_t>(s.core)] : nullptr, lat, s.steps, store);
      st->clk(ps ? *ps_clk : *pl_clk);
      st->in(*prev);
      st->out(*next);
      stages.push_back(st);
      stage_plan.push_back(i);
    }
    prev = next;
  }
  auto* sink = new Sink("sink", n, store);
  sink->clk(*pl_clk);
  sink->in(*prev);

  // sc_stop() ends the run once the last mask is out; its "simulation stopped" info message is
  // not news to the user.
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_start();
  const double t_end = sc_time_stamp().to_seconds();

  SocResult r;
  r.mode = "cycle";
  r.masks = std::move(store->masks);
  r.codes = std::move(store->codes);
  r.frames = n;
  r.sim_time_s = t_end;
  auto act = [&](const std::string& name, const std::string& kind, const Probe& p) {
    Activity a;
    a.name = name;
    a.kind = kind;
    a.busy_s = p.busy_s;
    a.frames = p.frames;
    a.service_s = p.frames ? p.busy_s / static_cast<double>(p.frames) : 0.0;
    a.ddr_bytes = p.bytes;
    a.ops = p.ops;
    return a;
  };
  r.stages.push_back(act(plan[0].name, "sensor", sensor->probe));
  size_t si = 0;
  std::vector<double> core_busy(static_cast<size_t>(cfg.ps_cores), 0.0);
  for (size_t i = 1; i < plan.size(); ++i) {
    if (plan[i].kind == "dpu") {
      r.stages.push_back(act("dpu", "dpu", dpu->probe));
      r.inference_s = r.stages.back().service_s;
    } else {
      const Stage* st = stages[si++];
      r.stages.push_back(act(plan[i].name, plan[i].kind, st->probe));
      if (plan[i].kind == "ps") core_busy[static_cast<size_t>(plan[i].core)] += st->probe.busy_s;
    }
  }
  for (size_t i = 1; i < plan.size(); ++i)
    if (plan[i].kind == "dpu" && plan[i].core >= 0)
      core_busy[static_cast<size_t>(plan[i].core)] += dpu->ps_busy_s;
  add_resources(cfg, core_busy, dpu->compute_s, dpu->probe.ops,
                static_cast<double>(ddr->busy_cycles) / cfg.ddr_clock_hz, ddr->bytes, r);
  for (double s : dpu->layer_s)
    r.layer_cycles.push_back(
        static_cast<int64_t>(std::llround(s / static_cast<double>(n) * cfg.dpu_clock_hz)));
  finish_result(q, prog, cfg, frames, n, sensor->start_s, sink->done_s, r);
  return r;
}

}  // namespace fpga_soc
}  // namespace prunesim
