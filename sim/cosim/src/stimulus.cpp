// Stimulus table, its text form and the seeded generators of the rtl/raman/ blocks.
#include "cosim/stimulus.h"

#include <algorithm>
#include <istream>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace prunesim::cosim {

Stimulus::Stimulus(std::string block, std::vector<Field> fields)
    : block_(std::move(block)), fields_(std::move(fields)) {
  for (const Field& f : fields_) {
    offset_.push_back(stride_);
    stride_ += static_cast<size_t>(f.words());
  }
}

size_t Stimulus::field(const std::string& name) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return i;
  throw std::invalid_argument("stimulus of " + block_ + ": no field '" + name + "'");
}

void Stimulus::add_cycle() {
  data_.resize(data_.size() + stride_, 0);
}

void Stimulus::set(size_t c, size_t f, uint64_t value, size_t word) {
  const int w = fields_[f].width - 64 * static_cast<int>(word);
  if (w < 64) value &= w <= 0 ? 0 : (uint64_t{1} << w) - 1;
  data_[c * stride_ + offset_[f] + word] = value;
}

uint64_t Stimulus::get(size_t c, size_t f, size_t word) const {
  return data_[c * stride_ + offset_[f] + word];
}

void Stimulus::write(std::ostream& out) const {
  out << "# prunesim stimulus v1 " << block_ << "\nfields";
  for (const Field& f : fields_) out << ' ' << f.name << ':' << f.width;
  out << '\n';
  static const char* hex = "0123456789abcdef";
  for (size_t c = 0; c < cycles(); ++c) {
    for (size_t f = 0; f < fields_.size(); ++f) {
      if (f) out << ' ';
      for (int d = (fields_[f].width + 3) / 4 - 1; d >= 0; --d)
        out << hex[(get(c, f, static_cast<size_t>(d / 16)) >> (4 * (d % 16))) & 15u];
    }
    out << '\n';
  }
}

Stimulus Stimulus::read(std::istream& in, const std::string& source) {
  auto fail = [&](size_t line, const std::string& what) {
    throw std::runtime_error(source + ": line " + std::to_string(line) + ": " + what);
  };
  std::string line, word;
  if (!std::getline(in, line) || line.rfind("# prunesim stimulus v1 ", 0) != 0)
    fail(1, "expected '# prunesim stimulus v1 <block>'");
  const std::string block = line.substr(23);
  if (!std::getline(in, line)) fail(2, "expected 'fields name:width ...'");
  std::istringstream fl(line);
  fl >> word;
  if (word != "fields") fail(2, "expected 'fields name:width ...'");
  std::vector<Field> fields;
  while (fl >> word) {
    const size_t colon = word.find(':');
    int width = 0;
    if (colon == std::string::npos || colon == 0) fail(2, "field '" + word + "' is not name:width");
    try {
      width = std::stoi(word.substr(colon + 1));
    } catch (const std::exception&) {
      fail(2, "field '" + word + "': bad width");
    }
    if (width < 1 || width > 4096) fail(2, "field '" + word + "': width out of [1, 4096]");
    fields.push_back({word.substr(0, colon), width});
  }
  Stimulus s(block, fields);
  size_t n = 2;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    std::istringstream ls(line);
    const size_t c = s.cycles();
    s.add_cycle();
    for (size_t f = 0; f < fields.size(); ++f) {
      if (!(ls >> word)) fail(n, "expected " + std::to_string(fields.size()) + " values");
      const int digits = (fields[f].width + 3) / 4;
      if (static_cast<int>(word.size()) != digits)
        fail(n,
             "field '" + fields[f].name + "': expected " + std::to_string(digits) + " hex digits");
      for (int d = 0; d < digits; ++d) {
        const char ch = word[static_cast<size_t>(digits - 1 - d)];
        const int v = ch >= '0' && ch <= '9'   ? ch - '0'
                      : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                      : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                               : -1;
        if (v < 0) fail(n, "field '" + fields[f].name + "': '" + word + "' is not hexadecimal");
        const size_t w = static_cast<size_t>(d / 16);
        s.set(c, f, s.get(c, f, w) | (static_cast<uint64_t>(v) << (4 * (d % 16))), w);
      }
    }
    if (ls >> word) fail(n, "more than " + std::to_string(fields.size()) + " values");
  }
  return s;
}

namespace {

// mt19937_64's output sequence is fixed by the standard (unlike the distributions), so a seed
// gives the same stimulus with every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t bits(int n) { return n >= 64 ? g_() : g_() & ((uint64_t{1} << n) - 1); }
  // Uniform in [lo, hi] (the modulo bias is irrelevant for stimulus).
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(g_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return static_cast<int>(g_() % 100) < percent; }
  // One in n.
  bool one_in(uint64_t n) { return g_() % n == 0; }

 private:
  std::mt19937_64 g_;
};

// Reset is low in the first two cycles (every register starts known) and then rarely, so the
// asynchronous reset path is exercised mid-run too.
bool reset_low(Rng& r, size_t c) {
  return c < 2 || r.one_in(20000);
}

}  // namespace

Stimulus pe_stimulus(uint64_t seed, size_t cycles) {
  Stimulus s("raman_pe", {{"rst_n", 1},
                          {"gate_en", 1},
                          {"init", 1},
                          {"init_bias", 256},
                          {"mac_valid", 1},
                          {"op_max", 1},
                          {"mac_slot", 3},
                          {"act", 8},
                          {"wgt", 8},
                          {"rd_slot", 3}});
  const size_t f_rst = s.field("rst_n"), f_gate = s.field("gate_en"), f_init = s.field("init"),
               f_bias = s.field("init_bias"), f_valid = s.field("mac_valid"),
               f_max = s.field("op_max"), f_slot = s.field("mac_slot"), f_act = s.field("act"),
               f_wgt = s.field("wgt"), f_rd = s.field("rd_slot");
  Rng r(seed);
  // Like a layer: the operation (MAC or max-pool) is chosen at each init and held until the
  // next one, with a few rows of the other kind mixed in (the PE must not care).
  bool max_mode = false;
  for (size_t c = 0; c < cycles; ++c) {
    s.add_cycle();
    s.set(c, f_rst, !reset_low(r, c));
    s.set(c, f_gate, r.chance(90));
    const bool init = r.chance(3);
    s.set(c, f_init, init);
    if (init) max_mode = r.chance(30);
    // Biases: mostly small, sometimes near the int32 limits so the accumulator wraps (or a max
    // meets INT32_MIN / INT32_MAX), -128 (the max-pool init) in max mode.
    for (size_t w = 0; w < 4; ++w) {
      uint64_t v = 0;
      for (int k = 0; k < 2; ++k) {
        const uint32_t b = max_mode && r.chance(60) ? static_cast<uint32_t>(-128)
                           : r.chance(70) ? static_cast<uint32_t>(r.range(-100000, 100000))
                                          : static_cast<uint32_t>(r.bits(32));
        v |= static_cast<uint64_t>(b) << (32 * k);
      }
      s.set(c, f_bias, v, w);
    }
    s.set(c, f_valid, r.chance(80));
    const bool op_max = r.chance(5) ? !max_mode : max_mode;
    s.set(c, f_max, op_max);
    s.set(c, f_slot, r.bits(3));
    // MAC: zero operands a quarter of the time each (the skip path), extremes now and then.
    // Max: mostly negative activations (a window at -128 climbs slowly, and a negative
    // accumulator meets a larger negative value), zero (no skip for max), extremes; wgt is
    // ignored but still random, zero included.
    auto operand = [&r]() -> uint64_t {
      if (r.chance(25)) return 0;
      if (r.chance(10)) return r.chance(50) ? 0x80 : 0x7f;
      return r.bits(8);
    };
    uint64_t act = 0;
    if (!op_max) {
      act = operand();
    } else if (r.chance(50)) {
      act = static_cast<uint8_t>(r.range(-128, -1));
    } else {
      act = operand();
    }
    s.set(c, f_act, act);
    s.set(c, f_wgt, operand());
    s.set(c, f_rd, r.bits(3));
  }
  return s;
}

Stimulus requant_stimulus(uint64_t seed, size_t cycles) {
  Stimulus s("raman_requant", {{"in_valid", 1},
                               {"bypass", 1},
                               {"acc", 32},
                               {"mult", 31},
                               {"shift", 6},
                               {"act_min", 8},
                               {"act_max", 8}});
  const size_t f_valid = s.field("in_valid"), f_bypass = s.field("bypass"), f_acc = s.field("acc"),
               f_mult = s.field("mult"), f_shift = s.field("shift"), f_lo = s.field("act_min"),
               f_hi = s.field("act_max");
  Rng r(seed);
  for (size_t c = 0; c < cycles; ++c) {
    s.add_cycle();
    const bool valid = r.chance(90);
    s.set(c, f_valid, valid);
    s.set(c, f_bypass, r.chance(10));
    int64_t acc = 0, mult = 0, shift = 1;
    const int64_t kind = r.range(0, 9);
    if (kind < 4) {  // anything legal
      acc = static_cast<int32_t>(r.bits(32));
      mult = static_cast<int64_t>(r.bits(31));
      shift = r.range(1, 62);
    } else if (kind < 7) {  // exact ties: M a power of two, small accumulators
      acc = r.range(-2000, 2000);
      mult = int64_t{1} << r.range(20, 30);
      shift = r.range(20, 36);
    } else {  // a real layer: normalised M, shift putting the result near the int8 range
      acc = r.range(-(int64_t{1} << 20), int64_t{1} << 20);
      mult = r.range(int64_t{1} << 30, (int64_t{1} << 31) - 1);
      int mag = 0;
      while (mag < 32 && (int64_t{1} << mag) <= (acc < 0 ? -acc : acc)) ++mag;
      shift = mag + 31 - 7 + r.range(-2, 2);
      shift = shift < 1 ? 1 : shift > 62 ? 62 : shift;
    }
    // Invalid rows carry garbage, sometimes the shifts no layer has (0, 63): out_q must be 0
    // whatever the datapath computes from them.
    if (!valid && r.chance(25)) shift = r.chance(50) ? 0 : 63;
    s.set(c, f_acc, static_cast<uint32_t>(acc));
    s.set(c, f_mult, static_cast<uint64_t>(mult));
    s.set(c, f_shift, static_cast<uint64_t>(shift));
    int64_t lo = -128, hi = 127;
    const int64_t clamp = r.range(0, 9);
    if (clamp < 3) {
      lo = 0;  // ReLU
    } else if (clamp < 5) {
      lo = r.range(-128, 127);
      hi = r.range(lo, 127);
    }
    s.set(c, f_lo, static_cast<uint8_t>(lo));
    s.set(c, f_hi, static_cast<uint8_t>(hi));
  }
  return s;
}

Stimulus decoder_stimulus(uint64_t seed, size_t cycles) {
  constexpr int kCl = 4, kSlots = 8;
  Stimulus s("raman_decoder", {{"rst_n", 1},
                               {"load", 1},
                               {"fmt", 2},
                               {"bits", kCl * kSlots},
                               {"cnt", kCl * 4},
                               {"idx", kCl * kSlots * 3},
                               {"vals", kCl * kSlots * 8}});
  Rng r(seed);
  int64_t busy = 0;  // cycles the group in flight still needs (the controller's view)
  for (size_t c = 0; c < cycles; ++c) {
    s.add_cycle();
    const bool rst = reset_low(r, c);
    s.set(c, 0, !rst);
    // Like the controller: load the next column when the last one finishes (mostly at once,
    // sometimes after idle cycles), rarely cut a group short. Between loads the data inputs
    // carry garbage, which the decoder must ignore.
    const bool load = !rst && (busy == 0 ? r.chance(70) : r.one_in(50));
    s.set(c, 1, load);
    const uint32_t fmt = static_cast<uint32_t>(r.bits(2));
    s.set(c, 2, fmt);
    const int density = static_cast<int>(r.range(0, 4));  // keep probability density/4
    uint64_t bits = 0, cnt = 0;
    uint64_t idx[2] = {0, 0};
    int64_t work = 0;
    if (fmt == 0) {
      // Dense: PE p holds rows in slots 0..n_p-1, n_p = n or n-1 (rows not a multiple of P').
      const int n = static_cast<int>(r.range(0, kSlots));
      for (int p = 0; p < kCl; ++p) {
        const int np = n > 0 && r.chance(25) ? n - 1 : n;
        bits |= ((uint64_t{1} << np) - 1) << (p * kSlots);
      }
    } else {
      for (int b = 0; b < kCl * kSlots; ++b)
        if (static_cast<int>(r.range(0, 3)) < density) bits |= uint64_t{1} << b;
    }
    for (int p = 0; p < kCl; ++p) {
      const uint32_t mask = static_cast<uint32_t>(bits >> (p * kSlots)) & 0xffu;
      if (fmt == 2) {
        // CSR: the kept slots of the mask, ascending, as indices; cnt = how many.
        int k = 0;
        for (int sl = 0; sl < kSlots; ++sl) {
          if (!((mask >> sl) & 1u)) continue;
          const int bit = (p * kSlots + k) * 3;
          idx[bit / 64] |= static_cast<uint64_t>(sl) << (bit % 64);
          if (bit % 64 > 61) idx[1] |= static_cast<uint64_t>(sl) >> (64 - bit % 64);
          ++k;
        }
        cnt |= static_cast<uint64_t>(k) << (p * 4);
        work = std::max<int64_t>(work, k);
      } else {
        const uint32_t m = fmt == 3 ? static_cast<uint32_t>(bits) & 0xffu : mask;
        work = std::max<int64_t>(work, __builtin_popcount(m));
      }
    }
    if (!load) {  // garbage on the data inputs
      bits = r.bits(32);
      cnt = r.bits(16);
      idx[0] = r.bits(64);
      idx[1] = r.bits(32);
    }
    s.set(c, 3, bits);
    s.set(c, 4, cnt);
    s.set(c, 5, idx[0], 0);
    s.set(c, 5, idx[1], 1);
    for (size_t w = 0; w < 4; ++w) {
      uint64_t v = 0;
      for (int b = 0; b < 8; ++b) {
        const uint64_t x = r.chance(20) ? 0 : r.bits(8);  // dense images hold zero weights
        v |= x << (8 * b);
      }
      s.set(c, 6, v, w);
    }
    if (rst)
      busy = 0;
    else if (load)
      busy = work;
    else if (busy > 0)
      --busy;
    if (load && busy > 0) --busy;  // the load edge already yields the first entries
  }
  return s;
}

namespace {

// The PE array's layer kind, chosen at each init and held until the next one, like the
// controller: broadcast MAC, lane MAC (depthwise: per-PE activation and weight), lane max
// (max-pool: wgt 0), lane sum (average pool: wgt 1), and rarely a broadcast max (legal for the
// block).
enum PeArrayKind { kBroadcast, kLaneMac, kLaneMax, kLaneSum, kBroadcastMax };
constexpr int kArrayPes = 16;

// A random byte, 0 with the given chance.
uint64_t byte_or_zero(Rng& r, int zero_percent) {
  return r.chance(zero_percent) ? 0 : r.bits(8);
}

// init_bias of an init row (the other rows stay zero, a quarter of the table size). Max layers
// start at -128.
void pe_array_bias(Rng& r, Stimulus& s, size_t c, size_t f, bool is_max) {
  for (size_t w = 0; w < 64; ++w) {
    uint64_t v = 0;
    for (int k = 0; k < 2; ++k) {
      const uint32_t b = is_max && r.chance(80) ? static_cast<uint32_t>(-128)
                         : r.chance(70)         ? static_cast<uint32_t>(r.range(-100000, 100000))
                                                : static_cast<uint32_t>(r.bits(32));
      v |= static_cast<uint64_t>(b) << (32 * k);
    }
    s.set(c, f, v, w);
  }
}

// lane_act: in broadcast mode garbage half the time (so a wrong select shows); lane bytes past
// `lanes` are 0 (the controller's rule), and many inputs are 0 (ReLU outputs): max(acc, 0) and a
// depthwise MAC with act 0 must differ in the PE.
void pe_array_lane_act(Rng& r, Stimulus& s, size_t c, size_t f, bool lane, bool is_max, int lanes) {
  uint64_t la[2] = {0, 0};
  if (lane || r.chance(50)) {
    for (int p = 0; p < kArrayPes; ++p) {
      uint64_t x = 0;
      if (!lane || p < lanes)
        x = is_max && r.chance(40) ? static_cast<uint8_t>(r.range(-128, -1)) : byte_or_zero(r, 30);
      la[p / 8] |= x << (8 * (p % 8));
    }
  }
  s.set(c, f, la[0], 0);
  s.set(c, f, la[1], 1);
}

// mac_slot and wgt: a lane issue has one channel tile for every PE, the decoders give each PE its
// own slot; max ignores wgt (0 like the controller), sum and pass use weight 1.
void pe_array_slots_weights(Rng& r, Stimulus& s, size_t c, size_t f_slot, size_t f_wgt, bool lane,
                            PeArrayKind kind) {
  const uint64_t tile = r.bits(3);
  uint64_t slots = 0;
  for (int p = 0; p < kArrayPes; ++p) slots |= (lane && r.chance(90) ? tile : r.bits(3)) << (3 * p);
  s.set(c, f_slot, slots);
  uint64_t w[2] = {0, 0};
  for (int p = 0; p < kArrayPes; ++p) {
    uint64_t x = byte_or_zero(r, 20);
    if (kind == kLaneMax && r.chance(80)) x = 0;
    if (kind == kLaneSum && r.chance(80)) x = 1;
    w[p / 8] |= x << (8 * (p % 8));
  }
  s.set(c, f_wgt, w[0], 0);
  s.set(c, f_wgt, w[1], 1);
}

}  // namespace

Stimulus pe_array_stimulus(uint64_t seed, size_t cycles) {
  constexpr int kPes = kArrayPes;
  Stimulus s("raman_pe_array", {{"rst_n", 1},
                                {"gate_en", kPes},
                                {"init", 1},
                                {"init_bias", kPes * 8 * 32},
                                {"act", 8},
                                {"lane", 1},
                                {"lane_act", kPes * 8},
                                {"op_max", 1},
                                {"mac_valid", kPes},
                                {"mac_slot", kPes * 3},
                                {"wgt", kPes * 8},
                                {"rd_pe", 4},
                                {"rd_slot", 3}});
  const size_t f_rst = s.field("rst_n"), f_gate = s.field("gate_en"), f_init = s.field("init"),
               f_bias = s.field("init_bias"), f_act = s.field("act"), f_lane = s.field("lane"),
               f_lane_act = s.field("lane_act"), f_max = s.field("op_max"),
               f_valid = s.field("mac_valid"), f_slot = s.field("mac_slot"), f_wgt = s.field("wgt"),
               f_rd_pe = s.field("rd_pe"), f_rd_slot = s.field("rd_slot");
  Rng r(seed);
  // A few rows flip lane or op_max on their own. `lanes` PEs carry channels in lane mode.
  PeArrayKind kind = kBroadcast;
  int lanes = kPes;
  for (size_t c = 0; c < cycles; ++c) {
    s.add_cycle();
    s.set(c, f_rst, !reset_low(r, c));
    // Mostly the whole array runs; sometimes only the PEs holding rows of a small layer.
    s.set(c, f_gate, r.chance(70) ? 0xffffu : r.bits(16));
    const bool init = r.chance(3);
    s.set(c, f_init, init);
    if (init) {
      const int64_t k = r.range(0, 19);
      kind = k < 9    ? kBroadcast
             : k < 13 ? kLaneMac
             : k < 17 ? kLaneMax
             : k < 19 ? kLaneSum
                      : kBroadcastMax;
      lanes = r.chance(50) ? kPes : static_cast<int>(r.range(1, kPes));
    }
    const bool is_max = kind == kLaneMax || kind == kBroadcastMax;
    const bool is_lane = kind == kLaneMac || kind == kLaneMax || kind == kLaneSum;
    if (init) pe_array_bias(r, s, c, f_bias, is_max);
    const bool lane = r.chance(3) ? !is_lane : is_lane;
    const bool op_max = r.chance(3) ? !is_max : is_max;
    s.set(c, f_lane, lane);
    s.set(c, f_max, op_max);
    // The input the mode ignores carries garbage half the time (act in lane mode).
    s.set(c, f_act, lane ? (r.chance(50) ? r.bits(8) : 0) : byte_or_zero(r, 25));
    pe_array_lane_act(r, s, c, f_lane_act, lane, is_max, lanes);
    // Lane issue: the lanes carrying channels are valid (the controller clears them between
    // issues); broadcast: the decoders' valid bits.
    uint64_t valid = 0;
    if (lane && !r.chance(10)) {
      valid = r.chance(80) ? (uint64_t{1} << lanes) - 1 : 0;
    } else {
      valid = r.chance(10) ? 0 : r.bits(16);
    }
    s.set(c, f_valid, valid);
    pe_array_slots_weights(r, s, c, f_slot, f_wgt, lane, kind);
    s.set(c, f_rd_pe, r.bits(4));
    s.set(c, f_rd_slot, r.bits(3));
  }
  return s;
}

Stimulus act_mem_stimulus(uint64_t seed, size_t cycles) {
  constexpr int64_t kBytes = 16384;
  Stimulus s("raman_act_mem", {{"rst_n", 1},
                               {"rd_en", 1},
                               {"rd_word", 1},
                               {"rd_addr", 14},
                               {"wr_en", 1},
                               {"wr_addr", 14},
                               {"wr_be", 4},
                               {"wr_data", 32},
                               {"guard_en", 1},
                               {"ia_low", 15},
                               {"ia_high", 15}});
  Rng r(seed);
  // Addresses cluster in a small window (reads see earlier writes) and at the top of the memory
  // (words and writes running past the end are cut).
  auto addr = [&r]() -> uint64_t {
    if (r.chance(15)) return static_cast<uint64_t>(r.range(kBytes - 20, kBytes - 1));
    if (r.chance(10)) return r.bits(14);
    return static_cast<uint64_t>(r.range(0, 255));
  };
  for (size_t c = 0; c < cycles; ++c) {
    s.add_cycle();
    // The error flags are sticky: reset every few hundred cycles so they keep being exercised.
    s.set(c, 0, !(c < 2 || r.one_in(400)));
    // Like the core: the zero detector reads, the PPU or DMA writes, rarely both (a conflict).
    const bool wr = r.chance(40);
    s.set(c, 1, wr ? r.one_in(100) : r.chance(80));
    s.set(c, 2, r.chance(40));
    s.set(c, 3, addr());
    s.set(c, 4, wr);
    s.set(c, 5, addr());
    s.set(c, 6, r.chance(50) ? 0xf : r.bits(4));
    s.set(c, 7, r.bits(32));
    s.set(c, 8, r.chance(50));
    const int64_t lo = r.range(0, 300);
    s.set(c, 9, static_cast<uint64_t>(r.chance(10) ? 300 : lo));
    s.set(c, 10, static_cast<uint64_t>(r.range(lo, kBytes)));
  }
  return s;
}

}  // namespace prunesim::cosim
