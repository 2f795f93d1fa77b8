// Block-boundary probes of the whole core: every output of every block (act memory, the four
// decoders, PE array, requantizer, controller) in the order the lockstep compares them, read
// either from a structural netlist's signals or from the Verilated raman_core's public wires.
// Both lists are built by one function (core_run.cpp make_probes) and checked at start-up against
// the twin netlist's own list (raman::observation_ports()), so the three cannot drift apart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

namespace prunesim::cosim {

struct Probe {
  std::string name;  // "<block>.<port>", e.g. "decoder2.valid", "ctrl.am_wr_data"
  int width = 1;
  std::function<void(uint32_t*)> read;  // writes ceil(width / 32) words, LSB first
  int words() const { return (width + 31) / 32; }
};

// Reads a value of any port type into 32-bit words.
inline void to_words(bool v, uint32_t* o) {
  o[0] = v;
}
inline void to_words(uint8_t v, uint32_t* o) {
  o[0] = v;
}
inline void to_words(uint16_t v, uint32_t* o) {
  o[0] = v;
}
inline void to_words(uint32_t v, uint32_t* o) {
  o[0] = v;
}
inline void to_words(uint64_t v, uint32_t* o) {
  o[0] = static_cast<uint32_t>(v);
  o[1] = static_cast<uint32_t>(v >> 32);
}
template <int N>
void to_words(const sc_dt::sc_bv<N>& v, uint32_t* o) {
  for (int i = 0; i < (N + 31) / 32; ++i) o[i] = static_cast<uint32_t>(v.get_word(i));
}

// Bits [lo, lo + width) of words w into o.
inline void slice_words(const uint32_t* w, int lo, int width, uint32_t* o) {
  for (int i = 0; i < (width + 31) / 32; ++i) {
    uint32_t v = 0;
    for (int b = 0; b < 32 && i * 32 + b < width; ++b) {
      const int s = lo + i * 32 + b;
      v |= ((w[s / 32] >> (s % 32)) & 1u) << b;
    }
    o[i] = v;
  }
}

inline std::string words_hex(const uint32_t* w, int width) {
  std::string s = "0x";
  bool lead = true;
  char buf[16];
  for (int i = (width + 31) / 32 - 1; i >= 0; --i) {
    if (lead) {
      std::snprintf(buf, sizeof buf, "%x", w[i]);
      if (w[i] != 0 || i == 0) lead = false;
      if (!lead) s += buf;
    } else {
      std::snprintf(buf, sizeof buf, "%08x", w[i]);
      s += buf;
    }
  }
  if (width <= 32) s += " (" + std::to_string(w[0]) + ")";
  return s;
}

}  // namespace prunesim::cosim
