#include "base/limits.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/errors.h"

namespace prunesim {

bool checked_mul(int64_t a, int64_t b, int64_t* r) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return false;
  *r = a * b;
  return true;
}

bool checked_add(int64_t a, int64_t b, int64_t* r) {
  if (a < 0 || b < 0 || a > std::numeric_limits<int64_t>::max() - b) return false;
  *r = a + b;
  return true;
}

bool checked_numel(const std::vector<int64_t>& dims, int64_t* n) {
  int64_t p = 1;
  for (int64_t d : dims)
    if (!checked_mul(p, d, &p)) return false;
  *n = p;
  return true;
}

namespace {
constexpr uint64_t kDefaultCap = uint64_t{4} << 30;

// "4294967296", "512M", "4G": bytes with an optional binary suffix; 0 for anything else.
uint64_t parse_bytes(const char* s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s) return 0;
  uint64_t mul = 1;
  if (*end == 'K' || *end == 'k') mul = uint64_t{1} << 10;
  if (*end == 'M' || *end == 'm') mul = uint64_t{1} << 20;
  if (*end == 'G' || *end == 'g') mul = uint64_t{1} << 30;
  if (mul != 1) ++end;
  if (*end != '\0' || v > std::numeric_limits<uint64_t>::max() / mul) return 0;
  return v * mul;
}

std::string bytes_text(uint64_t b) {
  char buf[64];
  if (b >= (uint64_t{1} << 30) && b % (uint64_t{1} << 30) == 0)
    std::snprintf(buf, sizeof buf, "%llu GiB", static_cast<unsigned long long>(b >> 30));
  else if (b >= (uint64_t{1} << 20) && b % (uint64_t{1} << 20) == 0)
    std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(b >> 20));
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}
}  // namespace

uint64_t memory_cap_bytes() {
  const char* env = std::getenv("PRUNESIM_MAX_BYTES");
  if (env && *env) {
    const uint64_t v = parse_bytes(env);
    if (v == 0)
      throw InputError(std::string("PRUNESIM_MAX_BYTES: '") + env +
                       "' is not a byte count (e.g. 4294967296, 512M, 8G)");
    return v;
  }
  return kDefaultCap;
}

std::string memory_cap_text() {
  return bytes_text(memory_cap_bytes()) + " (set PRUNESIM_MAX_BYTES to change it)";
}

void check_alloc(const std::string& file, const std::string& place, const std::string& what,
                 int64_t elems, uint64_t elem_bytes) {
  const uint64_t cap = memory_cap_bytes();
  if (elems >= 0 && (elem_bytes == 0 || static_cast<uint64_t>(elems) <= cap / elem_bytes)) return;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g bytes",
                static_cast<double>(elems) * static_cast<double>(elem_bytes));
  const std::string need = elems < 0 ? "more than 2^63 elements" : buf;
  fail(file, place, what + " needs " + need + ", more than the memory cap of " + memory_cap_text());
}

void check_shape_alloc(const std::string& file, const std::string& place,
                       const std::vector<int64_t>& shape, uint64_t elem_bytes) {
  std::string s = "shape [";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  s += "]";
  for (int64_t d : shape)
    if (d < 0) fail(file, place, s + " has a negative dimension");
  int64_t n = 0;
  if (!checked_numel(shape, &n)) n = -1;
  check_alloc(file, place, s, n, elem_bytes);
}

namespace {
// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629 table 3-7).
size_t utf8_seq(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}
}  // namespace

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_seq(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string utf8_escape(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_seq(s, i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
      r += buf;
      ++i;
    } else {
      r.append(s, i, n);
      i += n;
    }
  }
  return r;
}

namespace {
// The byte offset where arrays/objects nest deeper than kMaxJsonDepth, or npos. Brackets inside
// strings do not count.
size_t too_deep_at(const std::string& t) {
  int depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (in_str) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}
}  // namespace

nlohmann::json parse_json_input(const std::string& text, const std::string& file) {
  const size_t deep = too_deep_at(text);
  if (deep != std::string::npos)
    fail(file, "byte " + std::to_string(deep),
         "JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(file, "byte " + std::to_string(e.byte), "invalid JSON");
  } catch (const nlohmann::json::exception& e) {
    // out_of_range 406, "number overflow parsing '1e400'": a number a double cannot hold. The
    // message quotes the number; its first occurrence in the text is the place.
    const std::string w = e.what();
    const size_t q0 = w.find('\''), q1 = w.rfind('\'');
    size_t at = std::string::npos;
    if (q0 != std::string::npos && q1 > q0) at = text.find(w.substr(q0 + 1, q1 - q0 - 1));
    const size_t p = w.find("] ");
    fail(file, at == std::string::npos ? "number" : "byte " + std::to_string(at),
         "invalid JSON: " + (p == std::string::npos ? w : w.substr(p + 2)));
  }
}

nlohmann::json load_json_input(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open file");
  std::ostringstream s;
  s << f.rdbuf();
  return parse_json_input(s.str(), path);
}

}  // namespace prunesim
