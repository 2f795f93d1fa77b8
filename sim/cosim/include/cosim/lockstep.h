// Lockstep co-simulation: a Player writes one stimulus row per cycle to the input signals a
// block's RTL and its SystemC twin share, and a Lockstep checker compares every output pair
// once per cycle, stopping at the first divergence (cycle, block, signal, expected = twin,
// actual = RTL). Bench is the clocked harness both hang off; block benches (benches.h) add the
// signals and the two instances.
//
// Cycle convention. Cycle k is the clock period that ends with rising edge k; stimulus row k is
// its input, written on the falling edge before that edge. An output is compared once per cycle
// and reported as cycle k, at the time its value belongs to cycle k:
//   - registered output (kRegistered): on the falling edge after rising edge k, i.e. the value
//     edge k registered from row k (and earlier rows);
//   - combinational output (kCombinational, a function of this cycle's inputs and registers, e.g.
//     the PE drain read or the requantizer): just before rising edge k, i.e. the value computed
//     from row k and the registers as they are in cycle k (after edge k - 1). Compared on the
//     falling edge instead, it would mix row k with the registers after edge k, a pair that
//     exists in no real cycle. The rising-edge event wakes the checker in the same evaluation
//     phase as the clocked processes, and signal reads return the values of before their
//     writes, so the comparison sees the settled pre-edge values of both implementations.
#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/stimulus.h"

namespace prunesim::cosim {

struct Divergence {
  bool found = false;
  uint64_t cycle = 0;  // stimulus row whose rising edge produced the differing outputs
  std::string block, signal, expected, actual;
  // "cycle 12: raman_requant.out_q: expected 0x0fe, actual 0x0ff"
  std::string message() const;
};

inline std::string to_text(bool v) {
  return v ? "1" : "0";
}
inline std::string to_text(uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v << " (" << std::dec << v << ")";
  return s.str();
}
inline std::string to_text(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v << " (" << std::dec << v << ")";
  return s.str();
}
template <int N>
std::string to_text(const sc_dt::sc_bv<N>& v) {
  return v.to_string(sc_dt::SC_HEX);
}

class Lockstep {
 public:
  explicit Lockstep(std::string block) : block_(std::move(block)) {}
  const std::string& block() const { return block_; }

  enum Timing { kRegistered, kCombinational };

  // Compares `twin` (expected) with `rtl` (actual) every cycle at the time `timing` gives (see
  // the cycle convention above), in the order watched within each time.
  template <class T>
  void watch(const std::string& name, const sc_core::sc_signal<T>& rtl,
             const sc_core::sc_signal<T>& twin, Timing timing = kRegistered) {
    probes_.push_back({name, timing, [&rtl, &twin] { return rtl.read() == twin.read(); },
                       [&twin] { return to_text(twin.read()); },
                       [&rtl] { return to_text(rtl.read()); }});
    tracers_.push_back([name, &rtl, &twin](sc_core::sc_trace_file* f) {
      sc_core::sc_trace(f, rtl, "rtl." + name);
      sc_core::sc_trace(f, twin, "twin." + name);
    });
  }
  // Compares the probes of one timing; false at the first differing output (kept, and every
  // later call returns false).
  bool compare(uint64_t cycle, Timing timing);
  const Divergence& divergence() const { return div_; }
  void trace(sc_core::sc_trace_file* f) const {
    for (const auto& t : tracers_) t(f);
  }

 private:
  struct Probe {
    std::string name;
    Timing timing;
    std::function<bool()> equal;
    std::function<std::string()> expected, actual;
  };
  std::string block_;
  std::vector<Probe> probes_;
  std::vector<std::function<void(sc_core::sc_trace_file*)>> tracers_;
  Divergence div_;
};

// Writes stimulus row k to the bound input signals.
class Player {
 public:
  explicit Player(const Stimulus& s) : stim_(s) {}
  void drive(const std::string& name, sc_core::sc_signal<bool>& sig);
  void drive(const std::string& name, sc_core::sc_signal<uint32_t>& sig);
  void drive(const std::string& name, sc_core::sc_signal<uint64_t>& sig);
  template <int N>
  void drive(const std::string& name, sc_core::sc_signal<sc_dt::sc_bv<N>>& sig) {
    const size_t f = stim_.field(name);
    writers_.push_back([this, f, &sig](size_t c) {
      sc_dt::sc_bv<N> v;
      const uint64_t* w = stim_.row(c, f);
      for (int i = 0; i < (N + 31) / 32; ++i)
        v.set_word(i, static_cast<sc_dt::sc_digit>(w[i / 2] >> (32 * (i % 2))));
      sig.write(v);
    });
    tracers_.push_back(
        [name, &sig](sc_core::sc_trace_file* t) { sc_core::sc_trace(t, sig, name); });
  }
  void apply(size_t cycle) {
    for (const auto& w : writers_) w(cycle);
  }
  const Stimulus& stimulus() const { return stim_; }
  void trace(sc_core::sc_trace_file* f) const {
    for (const auto& t : tracers_) t(f);
  }

 private:
  const Stimulus& stim_;
  std::vector<std::function<void(size_t)>> writers_;
  std::vector<std::function<void(sc_core::sc_trace_file*)>> tracers_;
};

// Clocked harness: period 10 ns, first rising edge at 5 ns. Row k is written on the falling
// edge before rising edge k (row 0 at time 0); combinational outputs are compared just before
// rising edge k, registered outputs on the falling edge after it (cycle convention above). Runs
// until the stimulus ends or the first divergence, then calls sc_stop().
class Bench : public sc_core::sc_module {
 public:
  Bench(sc_core::sc_module_name name, const Stimulus& s, const std::string& block);
  ~Bench() override;

  sc_core::sc_clock clk;
  Player player;
  Lockstep check;
  uint64_t cycles_run = 0;  // cycles compared, the divergent one included
  // Tests: on_settled(k) runs just before rising edge k, after the combinational outputs of
  // cycle k matched (read them here); on_cycle(k) after the registered outputs of cycle k
  // matched on the falling edge.
  std::function<void(uint64_t)> on_settled;
  std::function<void(uint64_t)> on_cycle;

  // VCD of every input and both outputs of every watched pair ("rtl.x", "twin.x"); call before
  // sc_start. Returns false if the file cannot be created.
  bool trace_vcd(const std::string& path_without_ext);

 private:
  void run();
  sc_core::sc_trace_file* vcd_ = nullptr;
};

}  // namespace prunesim::cosim
