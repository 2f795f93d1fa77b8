// Lockstep checker, stimulus player and the clocked bench (cosim/lockstep.h).
#include "cosim/lockstep.h"

namespace prunesim::cosim {

std::string Divergence::message() const {
  if (!found) return "no divergence";
  return "cycle " + std::to_string(cycle) + ": " + block + "." + signal + ": expected " + expected +
         ", actual " + actual;
}

bool Lockstep::compare(uint64_t cycle, Timing timing) {
  if (div_.found) return false;
  for (const Probe& p : probes_) {
    if (p.timing == timing && !p.equal()) {
      div_ = {true, cycle, block_, p.name, p.expected(), p.actual()};
      return false;
    }
  }
  return true;
}

void Player::drive(const std::string& name, sc_core::sc_signal<bool>& sig) {
  const size_t f = stim_.field(name);
  writers_.push_back([this, f, &sig](size_t c) { sig.write(stim_.row(c, f)[0] & 1u); });
  tracers_.push_back([name, &sig](sc_core::sc_trace_file* t) { sc_core::sc_trace(t, sig, name); });
}

void Player::drive(const std::string& name, sc_core::sc_signal<uint32_t>& sig) {
  const size_t f = stim_.field(name);
  writers_.push_back(
      [this, f, &sig](size_t c) { sig.write(static_cast<uint32_t>(stim_.row(c, f)[0])); });
  tracers_.push_back([name, &sig](sc_core::sc_trace_file* t) { sc_core::sc_trace(t, sig, name); });
}

void Player::drive(const std::string& name, sc_core::sc_signal<uint64_t>& sig) {
  const size_t f = stim_.field(name);
  writers_.push_back([this, f, &sig](size_t c) { sig.write(stim_.row(c, f)[0]); });
  tracers_.push_back([name, &sig](sc_core::sc_trace_file* t) { sc_core::sc_trace(t, sig, name); });
}

SC_HAS_PROCESS(Bench);

Bench::Bench(sc_core::sc_module_name name, const Stimulus& s, const std::string& block)
    : sc_module(name),
      clk("clk", 10, sc_core::SC_NS, 0.5, 5, sc_core::SC_NS, true),
      player(s),
      check(block) {
  SC_THREAD(run);
}

Bench::~Bench() {
  if (vcd_) sc_core::sc_close_vcd_trace_file(vcd_);
}

bool Bench::trace_vcd(const std::string& path_without_ext) {
  vcd_ = sc_core::sc_create_vcd_trace_file(path_without_ext.c_str());
  if (!vcd_) return false;
  sc_core::sc_trace(vcd_, clk, "clk");
  player.trace(vcd_);
  check.trace(vcd_);
  return true;
}

void Bench::run() {
  const size_t n = player.stimulus().cycles();
  for (size_t k = 0; k < n; ++k) {
    player.apply(k);
    // Cycle k's combinational outputs, settled from row k before edge k updates a register.
    wait(clk.posedge_event());
    ++cycles_run;
    if (!check.compare(k, Lockstep::kCombinational)) break;
    if (on_settled) on_settled(k);
    wait(clk.negedge_event());
    if (!check.compare(k, Lockstep::kRegistered)) break;
    if (on_cycle) on_cycle(k);
  }
  sc_core::sc_stop();
}

}  // namespace prunesim::cosim
