// The .lgn reader and writer (docs/logic-networks.md, "The .lgn format"). Every count is checked
// against the bytes that remain before anything is allocated, so a corrupt count cannot make the
// reader allocate gigabytes; the CRCs are checked before the structure is validated.
#include "logic/format.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/crc32.h"
#include "base/errors.h"

namespace prunesim::logic {
namespace {

constexpr char kMagic[4] = {'P', 'L', 'G', 'N'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeader = 40;     // fixed header, its CRC included
constexpr size_t kGateBytes = 12;  // a u32, b u32, tt u8, reserved u8, layer u16
constexpr size_t kOutputBytes = 5;

// A fuzzer's mutations almost never keep the CRCs right; its build (scripts/fuzz.sh) skips their
// comparison so that it reaches the fields behind them. Release builds always compare.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kCompareCrc = false;
#else
constexpr bool kCompareCrc = true;
#endif

void put(std::string& o, uint64_t v, size_t n) {
  for (size_t k = 0; k < n; ++k) o.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}
void put_f32(std::string& o, float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  put(o, b, 4);
}

// A bounded cursor over the file's bytes: a field that does not fit names its offset.
class Cursor {
 public:
  Cursor(const std::string& b, const std::string& path) : b_(b), path_(path) {}
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }
  void set_end(size_t e) { end_ = e; }
  // Throws unless `n` items of `size` bytes fit in what is left (before allocating them).
  void need(uint64_t n, size_t size, const std::string& what) const {
    if (n > left() / size)
      fail(path_, "byte " + std::to_string(pos_),
           what + ": " + std::to_string(n) + " × " + std::to_string(size) + " bytes, but only " +
               std::to_string(left()) + " bytes are left (truncated or corrupt file)");
  }
  uint64_t get(size_t n, const std::string& what) {
    need(1, n, what);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= uint64_t{static_cast<uint8_t>(b_[pos_ + k])} << (8 * k);
    pos_ += n;
    return v;
  }
  float f32(const std::string& what) {
    const uint32_t u = static_cast<uint32_t>(get(4, what));
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }

 private:
  const std::string& b_;
  const std::string& path_;
  size_t pos_ = 0, end_ = 0;
};

struct Header {
  uint32_t inputs, features, gates, outputs, classes, meta_len;
  float tau;
};

Header read_header(Cursor& c, const std::string& b, const std::string& path) {
  if (b.size() < kHeader + 4)
    fail(path, "byte 0",
         "a .lgn file has at least " + std::to_string(kHeader + 4) + " bytes, this one " +
             std::to_string(b.size()) + " (truncated or not a .lgn file)");
  if (std::memcmp(b.data(), kMagic, 4) != 0) fail(path, "byte 0", "not a .lgn file (bad magic)");
  const uint32_t stored =
      static_cast<uint32_t>(static_cast<uint8_t>(b[36]) | static_cast<uint8_t>(b[37]) << 8 |
                            static_cast<uint32_t>(static_cast<uint8_t>(b[38])) << 16 |
                            static_cast<uint32_t>(static_cast<uint8_t>(b[39])) << 24);
  if (kCompareCrc && crc32(b.data(), 36) != stored)
    fail(path, "header", "CRC mismatch (corrupt file)");
  c.set_end(b.size() - 4);
  c.get(4, "magic");
  const uint32_t version = static_cast<uint32_t>(c.get(2, "version"));
  if (version != kVersion)
    fail(path, "byte 4",
         "version " + std::to_string(version) + " (this build reads version " +
             std::to_string(kVersion) + ")");
  c.get(2, "reserved");
  Header h;
  h.inputs = static_cast<uint32_t>(c.get(4, "inputs"));
  h.features = static_cast<uint32_t>(c.get(4, "features"));
  h.gates = static_cast<uint32_t>(c.get(4, "gates"));
  h.outputs = static_cast<uint32_t>(c.get(4, "outputs"));
  h.classes = static_cast<uint32_t>(c.get(4, "classes"));
  h.tau = c.f32("tau");
  h.meta_len = static_cast<uint32_t>(c.get(4, "meta length"));
  c.get(4, "header CRC");
  return h;
}

void read_body(Cursor& c, const Header& h, const std::string& path, Netlist& n) {
  n.inputs = h.inputs;
  n.classes = h.classes;
  n.tau = h.tau;
  c.need(h.features, 4, "encoder: threshold counts");
  n.encoder.thresholds.resize(h.features);
  for (uint32_t f = 0; f < h.features; ++f) {
    const uint64_t k = c.get(4, "encoder: feature " + std::to_string(f) + " threshold count");
    c.need(k, 4, "encoder: feature " + std::to_string(f) + " thresholds");
    auto& t = n.encoder.thresholds[f];
    t.resize(k);
    for (auto& v : t) {
      v = c.f32("threshold");
      if (!std::isfinite(v))
        fail(path, "byte " + std::to_string(c.pos() - 4),
             "feature " + std::to_string(f) + ": a threshold is not finite");
    }
  }
  c.need(h.gates, kGateBytes, "gate table");
  n.gates.resize(h.gates);
  for (Gate& g : n.gates) {
    g.a = static_cast<uint32_t>(c.get(4, "gate"));
    g.b = static_cast<uint32_t>(c.get(4, "gate"));
    g.tt = static_cast<TruthTable>(c.get(1, "gate"));
    c.get(1, "gate");
    g.layer = static_cast<uint32_t>(c.get(2, "gate"));
  }
  c.need(h.outputs, kOutputBytes, "output table");
  n.outputs.resize(h.outputs);
  n.out_negate.resize(h.outputs);
  for (uint32_t i = 0; i < h.outputs; ++i) {
    n.outputs[i] = static_cast<uint32_t>(c.get(4, "output"));
    n.out_negate[i] = static_cast<uint8_t>(c.get(1, "output"));
  }
}

}  // namespace

Netlist read_lgn(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "", "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_lgn(ss.str(), path);
}

Netlist parse_lgn(const std::string& b, const std::string& path) {
  Cursor c(b, path);
  const Header h = read_header(c, b, path);
  Netlist n;
  read_body(c, h, path, n);
  c.need(h.meta_len, 1, "meta text");
  n.meta = b.substr(c.pos(), h.meta_len);
  const size_t body_end = c.pos() + h.meta_len;
  if (body_end != b.size() - 4)
    fail(path, "byte " + std::to_string(body_end),
         std::to_string(b.size() - 4 - body_end) + " bytes after the meta text (corrupt file)");
  const uint32_t stored = static_cast<uint32_t>(
      static_cast<uint8_t>(b[body_end]) | static_cast<uint8_t>(b[body_end + 1]) << 8 |
      static_cast<uint32_t>(static_cast<uint8_t>(b[body_end + 2])) << 16 |
      static_cast<uint32_t>(static_cast<uint8_t>(b[body_end + 3])) << 24);
  if (kCompareCrc && crc32(b.data() + kHeader, body_end - kHeader) != stored)
    fail(path, "body", "CRC mismatch (corrupt file)");
  validate(n, path);
  return n;
}

void write_lgn(const Netlist& n, const std::string& path) {
  write_file_atomic(path, serialize_lgn(n, path));
}

std::string serialize_lgn(const Netlist& n, const std::string& path) {
  validate(n, path);
  std::string o(kMagic, 4);
  put(o, kVersion, 2);
  put(o, 0, 2);
  put(o, n.inputs, 4);
  put(o, n.encoder.thresholds.size(), 4);
  put(o, n.gates.size(), 4);
  put(o, n.outputs.size(), 4);
  put(o, n.classes, 4);
  put_f32(o, n.tau);
  put(o, n.meta.size(), 4);
  put(o, crc32(o.data(), o.size()), 4);
  for (const auto& t : n.encoder.thresholds) {
    put(o, t.size(), 4);
    for (float v : t) put_f32(o, v);
  }
  for (const Gate& g : n.gates) {
    if (g.layer > 0xFFFF) fail(path, "gate layer", "more than 65535 layers");
    put(o, g.a, 4);
    put(o, g.b, 4);
    put(o, g.tt, 1);
    put(o, 0, 1);
    put(o, g.layer, 2);
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    put(o, n.outputs[i], 4);
    put(o, n.out_negate[i] ? 1 : 0, 1);
  }
  o += n.meta;
  put(o, crc32(o.data() + kHeader, o.size() - kHeader), 4);
  return o;
}

}  // namespace prunesim::logic
