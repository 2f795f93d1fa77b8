// NumPy .npy reader/writer. The format is a magic string, a version, a little-endian header length
// and a Python dict literal; we parse that literal by hand rather than pull in a Python-syntax
// library, accepting what numpy.save writes (and the harmless variants other writers produce).
#include "prune/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/limits.h"
#include "byte_io.h"
#include "prune/errors.h"

namespace prunesim {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct Descr {
  DType dtype = DType::OTHER;
  size_t itemsize = 0;
};

// A tiny cursor over the header dict literal; every error names the header.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  void skip_ws() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  bool peek(char c) {
    skip_ws();
    return p_ < s_.size() && s_[p_] == c;
  }
  void expect(char c) {
    if (!peek(c)) bad(std::string("expected '") + c + "'");
    ++p_;
  }
  std::string string_lit() {
    skip_ws();
    if (p_ >= s_.size() || (s_[p_] != '\'' && s_[p_] != '"')) bad("expected a quoted string");
    const char q = s_[p_++];
    const size_t start = p_;
    while (p_ < s_.size() && s_[p_] != q) ++p_;
    if (p_ >= s_.size()) bad("unterminated string");
    return s_.substr(start, p_++ - start);
  }
  bool bool_lit() {
    skip_ws();
    for (const char* w : {"True", "False"}) {
      const size_t n = std::strlen(w);
      if (s_.compare(p_, n, w) == 0) {
        p_ += n;
        return w[0] == 'T';
      }
    }
    bad("expected True or False");
  }
  Shape tuple_lit() {
    expect('(');
    Shape shape;
    while (!peek(')')) {
      skip_ws();
      const size_t start = p_;
      while (p_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p_]))) ++p_;
      if (p_ == start) bad("shape entries must be non-negative integers");
      if (p_ - start > 15) bad("shape entry " + s_.substr(start, p_ - start) + " is too large");
      shape.push_back(std::stoll(s_.substr(start, p_ - start)));
      if (p_ < s_.size() && s_[p_] == 'L') ++p_;  // Python 2 long suffix
      if (!peek(',')) break;
      ++p_;
    }
    expect(')');
    return shape;
  }
  bool at_end() {
    skip_ws();
    return p_ >= s_.size();
  }
  [[noreturn]] void bad(const std::string& what) {
    fail(file_, "header", what + " at character " + std::to_string(p_) + " of '" + s_ + "'");
  }

 private:
  const std::string& s_;
  const std::string& file_;
  size_t p_ = 0;
};

Descr parse_descr(const std::string& d, const std::string& file) {
  if (d.size() < 3) fail(file, "header", "unsupported dtype descr '" + d + "'");
  const char order = d[0];
  const std::string code = d.substr(1);
  Descr r;
  if (code == "f4")
    r = {DType::F32, 4};
  else if (code == "f8")
    r = {DType::F64, 8};
  else if (code == "i1")
    r = {DType::I8, 1};
  else if (code == "u1")
    r = {DType::U8, 1};
  else if (code == "i4")
    r = {DType::I32, 4};
  else if (code == "i8")
    r = {DType::I64, 8};
  else if (code == "b1")
    r = {DType::BOOL, 1};
  else
    fail(file, "header",
         "unsupported dtype '" + d +
             "' (float32, float64, int8, uint8, int32, int64 and bool are supported)");
  // '>' on a one-byte type means nothing, but numpy never writes it; a multi-byte '>' would
  // silently read garbage if we ignored it.
  if (order == '>' && r.itemsize > 1)
    fail(file, "header", "big-endian dtype '" + d + "' is not supported (little-endian only)");
  if (order != '<' && order != '|' && order != '=' && order != '>')
    fail(file, "header", "unsupported byte-order mark in dtype '" + d + "'");
  return r;
}

// The header's dict literal: 'descr', 'fortran_order' (must be False) and 'shape', nothing else.
void parse_header(const std::string& header, const std::string& file, std::string* descr,
                  Shape* shape) {
  HeaderParser hp(header, file);
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  hp.expect('{');
  while (!hp.peek('}')) {
    const std::string key = hp.string_lit();
    hp.expect(':');
    if (key == "descr") {
      *descr = hp.string_lit();
      have_descr = true;
    } else if (key == "fortran_order") {
      fortran = hp.bool_lit();
      have_order = true;
    } else if (key == "shape") {
      *shape = hp.tuple_lit();
      have_shape = true;
    } else {
      hp.bad("unexpected key '" + key + "'");
    }
    if (!hp.peek(',')) break;
    hp.expect(',');
  }
  hp.expect('}');
  if (!hp.at_end()) hp.bad("trailing characters after the header dict");
  if (!have_descr) fail(file, "header", "missing 'descr'");
  if (!have_order) fail(file, "header", "missing 'fortran_order'");
  if (!have_shape) fail(file, "header", "missing 'shape'");
  if (fortran) fail(file, "header", "fortran_order True is not supported (save with C order)");
}

// cnt elements of type d at p (their bytes are there: parse_npy checked the length).
Tensor decode_payload(const Descr& d, const Shape& shape, const unsigned char* p, size_t cnt) {
  Tensor t;
  t.dtype = d.dtype;
  t.shape = shape;
  switch (d.dtype) {
    case DType::F32:
      t.f.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) {
        const uint32_t b = static_cast<uint32_t>(get_le(p + 4 * k, 4));
        std::memcpy(&t.f[k], &b, 4);
      }
      break;
    case DType::F64:
      t.f.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) {
        const uint64_t b = get_le(p + 8 * k, 8);
        double v;
        std::memcpy(&v, &b, 8);
        t.f[k] = static_cast<float>(v);
      }
      break;
    case DType::I8:
      t.i.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) t.i[k] = static_cast<int8_t>(p[k]);
      break;
    case DType::U8:
      t.i.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) t.i[k] = p[k];
      break;
    case DType::BOOL:
      t.i.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) t.i[k] = p[k] != 0;
      break;
    case DType::I32:
      t.i.resize(cnt);
      for (size_t k = 0; k < cnt; ++k)
        t.i[k] = static_cast<int32_t>(static_cast<uint32_t>(get_le(p + 4 * k, 4)));
      break;
    case DType::I64:
      t.i.resize(cnt);
      for (size_t k = 0; k < cnt; ++k) t.i[k] = static_cast<int64_t>(get_le(p + 8 * k, 8));
      break;
    default:
      break;  // parse_descr rejected everything else
  }
  return t;
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& file) {
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    fail(file, "header", "not a NumPy .npy file (missing \\x93NUMPY magic)");
  const int major = u[6], minor = u[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(file, "header",
         "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             " (1.0, 2.0 and 3.0 are supported)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail(file, "header", "file ends inside the header length");
  const size_t hlen = static_cast<size_t>(get_le(u + 8, len_bytes));
  const size_t data_off = 8 + len_bytes + hlen;
  if (data_off > bytes.size())
    fail(file, "header",
         "header length " + std::to_string(hlen) + " runs past the end of the file (" +
             std::to_string(bytes.size()) + " bytes)");
  const std::string header = bytes.substr(8 + len_bytes, hlen);

  Shape shape;
  std::string descr;
  parse_header(header, file, &descr, &shape);
  const Descr d = parse_descr(descr, file);

  // Guard the element count against overflow before trusting it for a size comparison.
  uint64_t n = 1;
  for (int64_t dim : shape) {
    if (dim != 0 && n > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(dim))
      fail(file, "header", "shape " + shape_str(shape) + " is too large");
    n *= static_cast<uint64_t>(dim);
  }
  const uint64_t need = n * d.itemsize;
  const uint64_t have = bytes.size() - data_off;
  if (have < need)
    fail(file, "byte " + std::to_string(bytes.size()),
         "truncated data: shape " + shape_str(shape) + " of " + descr + " needs " +
             std::to_string(need) + " bytes after the header (from byte " +
             std::to_string(data_off) + "), file has " + std::to_string(have));
  if (have > need)
    fail(file, "byte " + std::to_string(data_off + need),
         "size mismatch: " + std::to_string(have - need) + " bytes beyond the " +
             std::to_string(need) + " that shape " + shape_str(shape) + " of " + descr + " needs");

  // Decoded values are widened to float or int64: the widened tensor must fit the memory cap.
  check_shape_alloc(file, "header", shape, 8);
  return decode_payload(d, shape, u + data_off, static_cast<size_t>(n));
}

namespace {

std::string encode(const Tensor& t, const std::string& file) {
  const char* descr = nullptr;
  size_t item = 0;
  int64_t lo = 0, hi = 0;
  switch (t.dtype) {
    case DType::F32:
      descr = "<f4";
      item = 4;
      break;
    case DType::F64:
      descr = "<f8";
      item = 8;
      break;
    case DType::I8:
      descr = "|i1";
      item = 1;
      lo = -128;
      hi = 127;
      break;
    case DType::U8:
      descr = "|u1";
      item = 1;
      lo = 0;
      hi = 255;
      break;
    case DType::BOOL:
      descr = "|b1";
      item = 1;
      lo = 0;
      hi = 1;
      break;
    case DType::I32:
      descr = "<i4";
      item = 4;
      lo = std::numeric_limits<int32_t>::min();
      hi = std::numeric_limits<int32_t>::max();
      break;
    case DType::I64:
      descr = "<i8";
      item = 8;
      lo = std::numeric_limits<int64_t>::min();
      hi = std::numeric_limits<int64_t>::max();
      break;
    default:
      fail(file, "", std::string("cannot write dtype ") + dtype_name(t.dtype) + " as .npy");
  }
  const size_t n = static_cast<size_t>(t.size());
  const size_t have = t.is_float() ? t.f.size() : t.i.size();
  if (have != n)
    fail(file, "",
         "tensor of shape " + shape_str(t.shape) + " holds " + std::to_string(have) +
             " values, expected " + std::to_string(n));

  std::ostringstream h;
  h << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (size_t k = 0; k < t.shape.size(); ++k) h << (k ? ", " : "") << t.shape[k];
  if (t.shape.size() == 1) h << ',';  // Python's one-tuple
  h << "), }";
  std::string header = h.str();
  // numpy pads so the payload starts on a 64-byte boundary (lets readers mmap aligned data);
  // the header ends in '\n'. Version 2.0 only when the header outgrows the 16-bit length.
  const size_t v1_pre = kMagicLen + 2 + 2;
  size_t pre = v1_pre;
  size_t total = pre + header.size() + 1;
  if ((total + 63) / 64 * 64 - pre > 65535) pre = kMagicLen + 2 + 4;
  total = pre + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');

  std::string out(kMagic, kMagicLen);
  out.push_back(static_cast<char>(pre == v1_pre ? 1 : 2));
  out.push_back(0);
  put_le(out, header.size(), pre == v1_pre ? 2 : 4);
  out += header;
  out.reserve(out.size() + n * item);
  for (size_t k = 0; k < n; ++k) {
    if (t.dtype == DType::F32) {
      uint32_t b;
      std::memcpy(&b, &t.f[k], 4);
      put_le(out, b, 4);
    } else if (t.dtype == DType::F64) {
      const double v = t.f[k];
      uint64_t b;
      std::memcpy(&b, &v, 8);
      put_le(out, b, 8);
    } else {
      const int64_t v = t.i[k];
      if (v < lo || v > hi)
        fail(file, "element " + std::to_string(k),
             "value " + std::to_string(v) + " does not fit " + dtype_name(t.dtype));
      put_le(out, static_cast<uint64_t>(v), item);
    }
  }
  return out;
}

}  // namespace

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open file");
  std::ostringstream s;
  s << f.rdbuf();
  return parse_npy(s.str(), path);
}

Tensor load_npy_as_float(const std::string& path) {
  Tensor t = load_npy(path);
  if (t.is_float()) {
    t.dtype = DType::F32;
    return t;
  }
  t.f.assign(t.i.begin(), t.i.end());
  t.i.clear();
  t.dtype = DType::F32;
  return t;
}

void save_npy(const Tensor& t, const std::string& path) {
  write_file_atomic(path, encode(t, path));
}

std::string npy_bytes(const Tensor& t) {
  return encode(t, "<tensor>");
}

}  // namespace prunesim
