// Internals shared by the weight-table writer (tables_writer.cpp) and reader
// (tables_reader.cpp): the format's constants and enum codes (docs/weight-tables.md), the
// cursors that add the format's shapes and tensors to the little-endian byte I/O, the matrix
// view of a layer's weights, and the per-section record both sides fill.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "byte_io.h"
#include "prune/tables.h"

namespace prunesim::pwt {

constexpr char kMagic[8] = {'\x89', 'P', 'W', 'T', '\r', '\n', '\x1a', '\n'};
constexpr size_t kHeaderBytes = 48;
constexpr char kSectionTag[4] = {'P', 'W', 'L', 'S'};
constexpr uint32_t kNoSection = 0xFFFFFFFFu;
// Sanity bounds for counts read from a file: a damaged length must give an error, not a
// multi-gigabyte allocation.
constexpr int64_t kMaxRank = 16;
// Per layer and in total over all layers of a file; 2^28 int8 weights (256 MiB) is ten times the
// largest model the bench prunes.
constexpr int64_t kMaxWeights = int64_t{1} << 28;

// Fixed codes, independent of the C++ enum order (the enums may grow; files must not change).
const std::vector<std::pair<DType, uint8_t>> kDTypeCodes = {
    {DType::F32, 0}, {DType::F64, 1}, {DType::I8, 2},   {DType::U8, 3},
    {DType::I32, 4}, {DType::I64, 5}, {DType::BOOL, 6}, {DType::OTHER, 255}};
const std::vector<std::pair<Attribute::Kind, uint8_t>> kAttrCodes = {
    {Attribute::Kind::INT, 0},    {Attribute::Kind::FLOAT, 1},  {Attribute::Kind::STRING, 2},
    {Attribute::Kind::INTS, 3},   {Attribute::Kind::FLOATS, 4}, {Attribute::Kind::TENSOR, 5},
    {Attribute::Kind::OTHER, 255}};
const std::vector<std::pair<QLayer::Kind, uint8_t>> kKindCodes = {
    {QLayer::Kind::Conv, 0},          {QLayer::Kind::ConvTranspose, 1},
    {QLayer::Kind::Gemm, 2},          {QLayer::Kind::MaxPool, 3},
    {QLayer::Kind::GlobalMaxPool, 4}, {QLayer::Kind::AvgPool, 5},
    {QLayer::Kind::GlobalAvgPool, 6}, {QLayer::Kind::Add, 7},
    {QLayer::Kind::Concat, 8},        {QLayer::Kind::Clamp, 9},
    {QLayer::Kind::Lut, 10},          {QLayer::Kind::Softmax, 11},
    {QLayer::Kind::Move, 12},         {QLayer::Kind::Mul, 13},
    {QLayer::Kind::Sub, 14},          {QLayer::Kind::ReduceSum, 15},
    {QLayer::Kind::ReduceMax, 16},    {QLayer::Kind::ResizeLinear, 17},
    {QLayer::Kind::LayerNorm, 18},    {QLayer::Kind::MatMulAct, 19}};
// The first code and graph ops that need version 3 (weight-tables.md §7): transformers.
constexpr uint8_t kFirstV3Kind = 18;
const std::set<std::string> kV3Ops = {"Erf", "Gelu", "LayerNormalization", "Pow"};
// The first code and graph ops that need version 2 (weight-tables.md §7).
constexpr uint8_t kFirstV2Kind = 13;
const std::set<std::string> kV2Ops = {"Cast",      "Gather",     "HardSwish", "Pad",
                                      "ReduceMax", "ReduceMean", "ReduceSum", "Slice",
                                      "Squeeze",   "Unsqueeze"};

template <typename E>
uint8_t code_of(const std::vector<std::pair<E, uint8_t>>& t, E e) {
  for (const auto& p : t)
    if (p.first == e) return p.second;
  throw std::logic_error("weight tables: enum value without a file code");
}
template <typename E>
bool enum_of(const std::vector<std::pair<E, uint8_t>>& t, uint8_t c, E* e) {
  for (const auto& p : t)
    if (p.second == c) {
      *e = p.first;
      return true;
    }
  return false;
}

inline bool has_weights(const QLayer& L) {
  return L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
         L.kind == QLayer::Kind::Gemm;
}

// ------------------------------------------------------------------------- table cursors
class Out : public ByteWriter {
 public:
  void shape(const Shape& s) {
    count(s.size());
    for (int64_t d : s) i64(d);
  }
  void tensor(const Tensor& t) {
    u8(code_of(kDTypeCodes, t.dtype));
    shape(t.shape);
    count(t.f.size());
    for (float v : t.f) f32(v);
    count(t.i.size());
    for (int64_t v : t.i) i64(v);
  }
};

class In : public ByteReader {
 public:
  using ByteReader::ByteReader;
  Shape shape(const char* w) {
    const size_t n = count(8, w);
    if (static_cast<int64_t>(n) > kMaxRank) bad(std::string(w) + ": rank " + std::to_string(n));
    Shape s(n);
    for (auto& d : s) d = i64(w);
    return s;
  }
  // none_ok: the writer stores an empty default Tensor for every non-tensor attribute.
  Tensor tensor(const char* w, bool none_ok = false) {
    Tensor t;
    if (!enum_of(kDTypeCodes, u8(w), &t.dtype)) bad(std::string(w) + ": unknown dtype code");
    t.shape = shape(w);
    t.f.resize(count(4, w));
    for (auto& v : t.f) v = f32(w);
    t.i.resize(count(8, w));
    for (auto& v : t.i) v = i64(w);
    // The data must be what the shape says: kernels index it by the shape.
    int64_t n = 0;
    const size_t have = t.is_float() ? t.f.size() : t.i.size();
    const size_t other = t.is_float() ? t.i.size() : t.f.size();
    const bool none = none_ok && t.shape.empty() && t.f.empty() && t.i.empty();
    if (!none && (!checked_numel(t.shape, &n) || have != static_cast<uint64_t>(n) || other != 0))
      bad(std::string(w) + ": shape " + shape_str(t.shape) + " does not match its " +
          std::to_string(have) + " values");
    return t;
  }
};

// ------------------------------------------------------- matrix view of a layer's weights
// rows = output channels, cols = reduction; q(k) / init(k) = index of matrix element k
// (row-major) in QLayer::weight and in the weight initializer (the MaskMap layout). Computed on
// the fly: index tables would cost 16 bytes per weight.
struct LayerMap {
  enum class Layout { RowMajor, ConvTranspose, KN };
  Layout layout = Layout::RowMajor;
  int64_t rows = 0, cols = 0;
  int64_t mpg = 1, cpg = 1, ksz = 1;  // ConvTranspose: out/in channels per group, kernel taps
  int64_t total() const { return rows * cols; }
  int64_t q(int64_t k) const {
    if (layout != Layout::ConvTranspose) return k;  // Conv and QLayer Gemm [N, K]: row-major
    // [C, M/group, k...]: output channel g*mpg + mo gathers w[ci, mo, :] over the group's ci.
    const int64_t r = k / cols, c = k % cols;
    const int64_t ci = (r / mpg) * cpg + c / ksz;
    return (ci * mpg + r % mpg) * ksz + c % ksz;
  }
  int64_t init(int64_t k) const {
    if (layout != Layout::KN) return q(k);
    return (k % cols) * rows + k / cols;  // a [K, N] initializer
  }
};

// Returns "" or what is inconsistent (a file could carry a shape no quantizer produced).
std::string layer_map(const QLayer& L, const Node& n, LayerMap* m);

// ------------------------------------------------------------------ one encoded layer section
struct Section {
  size_t qlayer = 0;
  std::string name, weight, op;
  const Encoding* enc = nullptr;
  LayerMap map;
  EncodedLayer e;
  std::string bytes;  // the complete section, CRC included
  int64_t nnz = 0;
};

// The semantic rules of tables_check.cpp (scales, requantization records, per-kind list lengths,
// the shape table against shape inference); InputError naming the file and the layer.
void check_program(const QuantizedModel& q, const std::string& source);

// The listing entry of a section (`tables inspect`, TableSummary).
TableLayerInfo layer_info(const QLayer& L, const Section& s, int64_t offset);

}  // namespace prunesim::pwt
