// Internal helpers of the weight-table encodings: LSB-first bit streams (a field of width w at
// bit position p occupies bits p .. p+w-1, bit j of the stream being bit j%8 of byte j/8 — the
// order a hardware shift register consumes) and bounds-checked little-endian parameter fields
// (put_le, the writing side, is byte_io.h's).
#pragma once

#include <cstdint>
#include <string>

#include "../byte_io.h"
#include "prune/errors.h"
#include "prune/tables.h"

namespace prunesim::enc {

class BitWriter {
 public:
  void put(uint64_t v, int width) {
    for (int b = 0; b < width; ++b) {
      if (bits_ % 8 == 0) bytes_.push_back('\0');
      if ((v >> b) & 1u) bytes_.back() = static_cast<char>(bytes_.back() | (1 << (bits_ % 8)));
      ++bits_;
    }
  }
  int64_t bits() const { return bits_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
  int64_t bits_ = 0;
};

// Reads fields back; running past `limit_bits` is a damaged file, not a crash.
class BitReader {
 public:
  BitReader(const std::string& bytes, int64_t limit_bits, const std::string& place)
      : b_(bytes), limit_(limit_bits), place_(place) {}
  uint64_t get(int width) {
    if (pos_ + width > limit_)
      throw InputError(place_ + ": metadata ends after " + std::to_string(limit_) +
                       " bits, more needed");
    uint64_t v = 0;
    for (int b = 0; b < width; ++b, ++pos_)
      if ((static_cast<uint8_t>(b_[static_cast<size_t>(pos_ / 8)]) >> (pos_ % 8)) & 1u)
        v |= uint64_t{1} << b;
    return v;
  }
  int64_t pos() const { return pos_; }
  int64_t left() const { return limit_ - pos_; }

 private:
  const std::string& b_;
  int64_t limit_;
  int64_t pos_ = 0;
  std::string place_;
};

using prunesim::put_le;  // the encodings write enc::put_le

// Field at byte `at` of `s` (width `bytes`); InputError if `s` is too short.
inline uint64_t get_le(const std::string& s, size_t at, int bytes, const std::string& place) {
  if (at + static_cast<size_t>(bytes) > s.size())
    throw InputError(place + ": encoding parameters are " + std::to_string(s.size()) +
                     " bytes, too short");
  return prunesim::get_le(s.data() + at, static_cast<size_t>(bytes));
}

// Bits needed to write every value in [0, n] (at least 1).
inline int bits_for(uint64_t n) {
  int b = 1;
  while (b < 64 && (n >> b) != 0) ++b;
  return b;
}

// ceil(log2(m)): bits of a position in [0, m).
inline int ceil_log2(uint64_t m) {
  int b = 0;
  while (b < 64 && (uint64_t{1} << b) < m) ++b;
  return b;
}

inline std::string values_of(const std::vector<int8_t>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

// Shared checks of decoders: the metadata must have been consumed exactly, the value bytes
// must match the count of kept positions.
inline void expect_count(int64_t have, int64_t want, const std::string& what,
                         const std::string& place) {
  if (have != want)
    throw InputError(place + ": " + what + " is " + std::to_string(have) + ", expected " +
                     std::to_string(want));
}

// Places the stored values in mask order (row-major) into w->values.
inline void scatter_values(const EncodedLayer& e, WeightMatrix* w, const std::string& place) {
  int64_t kept = 0;
  for (uint8_t m : w->mask) kept += m;
  expect_count(static_cast<int64_t>(e.values.size()), kept, "value byte count", place);
  w->values.assign(w->mask.size(), 0);
  size_t v = 0;
  for (size_t k = 0; k < w->mask.size(); ++k)
    if (w->mask[k]) w->values[k] = static_cast<int8_t>(e.values[v++]);
}

// Kept values in row-major order.
inline std::string gather_values(const WeightMatrix& w) {
  std::string s;
  for (size_t k = 0; k < w.mask.size(); ++k)
    if (w.mask[k]) s.push_back(static_cast<char>(w.values[k]));
  return s;
}

// The end of every encoder: the int8 values already in out->values (one byte each), the metadata
// bits written so far moved into out->meta, and the counts the table records.
inline void finish(EncodedLayer* out, BitWriter& bw) {
  out->stored = static_cast<int64_t>(out->values.size());
  out->value_bits = 8 * out->stored;
  out->meta_bits = bw.bits();
  out->meta = bw.take();
}

}  // namespace prunesim::enc
