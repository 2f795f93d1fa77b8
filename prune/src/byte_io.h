// Little-endian fixed-width fields, the byte order of every binary format the front end reads
// and writes (.pwt weight tables, .npy, .npz, the encodings' parameter fields). Bytes are
// assembled one by one, so the code is right whatever the host's byte order and alignment.
// ByteWriter/ByteReader are the cursors of the weight-table format; a reader never reads past
// its range: a field that does not fit is an InputError naming the file, section and offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/limits.h"
#include "prune/errors.h"

namespace prunesim {

// Appends the n low bytes of v, least significant first.
inline void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t k = 0; k < n; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}

// The n-byte field at p (unchecked: the caller knows the bytes are there).
inline uint64_t get_le(const void* p, size_t n) {
  const auto* u = static_cast<const uint8_t*>(p);
  uint64_t v = 0;
  for (size_t k = 0; k < n; ++k) v |= uint64_t{u[k]} << (8 * k);
  return v;
}

inline uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}
inline uint64_t bits_of(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

class ByteWriter {
 public:
  void u8(uint64_t v) { put_le(b_, v, 1); }
  void u16(uint64_t v) { put_le(b_, v, 2); }
  void u32(uint64_t v) { put_le(b_, v, 4); }
  void u64(uint64_t v) { put_le(b_, v, 8); }
  void i8(int8_t v) { put_le(b_, static_cast<uint8_t>(v), 1); }
  void i32(int32_t v) { put_le(b_, static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { put_le(b_, static_cast<uint64_t>(v), 8); }
  void f32(float v) { put_le(b_, bits_of(v), 4); }
  void f64(double v) { put_le(b_, bits_of(v), 8); }
  // Counts are 32-bit in the format.
  void count(size_t n) {
    if (n > 0xFFFFFFFFull) throw InputError("weight tables: a list of more than 2^32 entries");
    u32(n);
  }
  void str(const std::string& s) {
    count(s.size());
    b_ += s;
  }
  void raw(const std::string& s) { b_ += s; }
  void strs(const std::vector<std::string>& v) {
    count(v.size());
    for (const auto& s : v) str(s);
  }
  std::string& bytes() { return b_; }
  size_t size() const { return b_.size(); }
  void put_u32_at(size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b_[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  }

 private:
  std::string b_;
};

// Reads within [pos, end) of the bytes; every error names the source, the section and the
// absolute byte offset of the field that did not fit.
class ByteReader {
 public:
  ByteReader(const std::string& b, size_t begin, size_t end, std::string source,
             std::string section)
      : b_(b), pos_(begin), end_(end), source_(std::move(source)), section_(std::move(section)) {}

  [[noreturn]] void bad(const std::string& what) const {
    fail(source_, section_ + ", byte " + std::to_string(pos_), what);
  }
  void need(uint64_t n, const char* what) {
    if (n > end_ - pos_)
      bad(std::string(what) + " needs " + std::to_string(n) + " bytes, the section has " +
          std::to_string(end_ - pos_) + " left");
  }
  uint64_t le(int n, const char* what) {
    need(static_cast<uint64_t>(n), what);
    const uint64_t v = get_le(b_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return v;
  }
  uint8_t u8(const char* w) { return static_cast<uint8_t>(le(1, w)); }
  uint32_t u32(const char* w) { return static_cast<uint32_t>(le(4, w)); }
  uint64_t u64(const char* w) { return le(8, w); }
  int8_t i8(const char* w) { return static_cast<int8_t>(u8(w)); }
  int32_t i32(const char* w) { return static_cast<int32_t>(u32(w)); }
  int64_t i64(const char* w) { return static_cast<int64_t>(u64(w)); }
  float f32(const char* w) {
    const uint32_t b = u32(w);
    float v;
    std::memcpy(&v, &b, 4);
    return v;
  }
  double f64(const char* w) {
    const uint64_t b = u64(w);
    double v;
    std::memcpy(&v, &b, 8);
    return v;
  }
  // A count of elements of `elem` bytes each: checked against what is left before anything is
  // allocated.
  size_t count(size_t elem, const char* what) {
    const uint32_t n = u32(what);
    need(static_cast<uint64_t>(n) * elem, what);
    return n;
  }
  // Every string of the format is a name that may reach JSON: it must be UTF-8.
  std::string str(const char* w) {
    const size_t n = count(1, w);
    std::string s = b_.substr(pos_, n);
    if (!valid_utf8(s)) bad(std::string(w) + " '" + utf8_escape(s) + "' is not valid UTF-8");
    pos_ += n;
    return s;
  }
  std::string raw(uint64_t n, const char* w) {
    need(n, w);
    std::string s = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::vector<std::string> strs(const char* w) {
    const size_t n = count(4, w);
    std::vector<std::string> v(n);
    for (auto& s : v) s = str(w);
    return v;
  }
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }

 private:
  const std::string& b_;
  size_t pos_, end_;
  std::string source_, section_;
};

}  // namespace prunesim
