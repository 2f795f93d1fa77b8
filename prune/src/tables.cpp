// Weight-table writer and reader (format v1, docs/weight-tables.md); the encoding registry is
// encoding_registry.cpp.
// The file is: a 48-byte header (magic, version, lengths, CRCs), one model section (graph,
// quantization parameters, section directory) and one section per weight layer. Every field is
// little-endian and fixed-width, maps are written sorted and nothing depends on time or
// addresses, so the same inputs always give the same bytes.
#include "prune/tables.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "prune/errors.h"

namespace prunesim {

// ------------------------------------------------------------------------------------- CRC32
uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

namespace {

constexpr char kMagic[8] = {'\x89', 'P', 'W', 'T', '\r', '\n', '\x1a', '\n'};
constexpr size_t kHeaderBytes = 48;
constexpr char kSectionTag[4] = {'P', 'W', 'L', 'S'};
constexpr uint32_t kNoSection = 0xFFFFFFFFu;
// Sanity bounds for counts read from a file: a damaged length must give an error, not a
// multi-gigabyte allocation.
constexpr int64_t kMaxRank = 16;
// Per layer; 2^28 int8 weights (256 MiB) is ten times the largest model the bench prunes.
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
    {QLayer::Kind::ReduceMax, 16},    {QLayer::Kind::ResizeLinear, 17}};
// The first code and graph ops that need version 2 (weight-tables.md §7).
constexpr uint8_t kFirstV2Kind = 13;
const std::set<std::string> kV2Ops = {"Cast",      "Gather",     "HardSwish", "Pad",
                                      "ReduceMax", "ReduceMean", "ReduceSum", "Slice",
                                      "Squeeze",   "Unsqueeze"};

uint16_t version_needed(const QuantizedModel& q);

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

bool has_weights(const QLayer& L) {
  return L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
         L.kind == QLayer::Kind::Gemm;
}

// ------------------------------------------------------------------------- byte writer
class Out {
 public:
  void u8(uint64_t v) { le(v, 1); }
  void u16(uint64_t v) { le(v, 2); }
  void u32(uint64_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i8(int8_t v) { le(static_cast<uint8_t>(v), 1); }
  void i32(int32_t v) { le(static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void f32(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    le(b, 4);
  }
  void f64(double v) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    le(b, 8);
  }
  void count(size_t n) {
    if (n > 0xFFFFFFFFull) throw InputError("weight tables: a list of more than 2^32 entries");
    u32(n);
  }
  void str(const std::string& s) {
    count(s.size());
    b_ += s;
  }
  void raw(const std::string& s) { b_ += s; }
  void shape(const Shape& s) {
    count(s.size());
    for (int64_t d : s) i64(d);
  }
  void strs(const std::vector<std::string>& v) {
    count(v.size());
    for (const auto& s : v) str(s);
  }
  void tensor(const Tensor& t) {
    u8(code_of(kDTypeCodes, t.dtype));
    shape(t.shape);
    count(t.f.size());
    for (float v : t.f) f32(v);
    count(t.i.size());
    for (int64_t v : t.i) i64(v);
  }
  std::string& bytes() { return b_; }
  size_t size() const { return b_.size(); }
  void put_u32_at(size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b_[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  }

 private:
  void le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) b_.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  }
  std::string b_;
};

// ------------------------------------------------------------------------- byte reader
// Reads within [pos, end) of the file bytes; every error names the file, the section and the
// absolute byte offset of the field that did not fit.
class In {
 public:
  In(const std::string& b, size_t begin, size_t end, std::string source, std::string section)
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
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= uint64_t{static_cast<uint8_t>(b_[pos_ + k])} << (8 * k);
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
  std::string str(const char* w) {
    const size_t n = count(1, w);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string raw(uint64_t n, const char* w) {
    need(n, w);
    std::string s = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  Shape shape(const char* w) {
    const size_t n = count(8, w);
    if (static_cast<int64_t>(n) > kMaxRank) bad(std::string(w) + ": rank " + std::to_string(n));
    Shape s(n);
    for (auto& d : s) d = i64(w);
    return s;
  }
  std::vector<std::string> strs(const char* w) {
    const size_t n = count(4, w);
    std::vector<std::string> v(n);
    for (auto& s : v) s = str(w);
    return v;
  }
  Tensor tensor(const char* w) {
    Tensor t;
    if (!enum_of(kDTypeCodes, u8(w), &t.dtype)) bad(std::string(w) + ": unknown dtype code");
    t.shape = shape(w);
    t.f.resize(count(4, w));
    for (auto& v : t.f) v = f32(w);
    t.i.resize(count(8, w));
    for (auto& v : t.i) v = i64(w);
    return t;
  }
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }

 private:
  const std::string& b_;
  size_t pos_, end_;
  std::string source_, section_;
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
std::string layer_map(const QLayer& L, const Node& n, LayerMap* m) {
  const Shape& ws = L.weight_shape;
  if (ws.size() < 2) return "weight shape " + shape_str(ws) + " has rank < 2";
  // Bounded before multiplying: a damaged shape must not overflow.
  int64_t total = 1;
  for (int64_t d : ws) {
    if (d < 1 || d > kMaxWeights || total * d > kMaxWeights)
      return "weight shape " + shape_str(ws) + " is empty or has more than 2^28 weights";
    total *= d;
  }
  if (static_cast<int64_t>(L.weight.size()) != total && !L.weight.empty())
    return "weight has " + std::to_string(L.weight.size()) + " values, shape " + shape_str(ws);
  if (L.kind == QLayer::Kind::Conv) {
    // [M, C/group, k...]: one output channel's reduction is contiguous.
    m->rows = ws[0];
    m->cols = total / m->rows;
  } else if (L.kind == QLayer::Kind::ConvTranspose) {
    const int64_t group = n.attr_i("group", 1);
    if (group < 1 || ws[0] % group != 0)
      return "group " + std::to_string(group) + " does not divide " + std::to_string(ws[0]) +
             " input channels";
    m->layout = LayerMap::Layout::ConvTranspose;
    m->mpg = ws[1];
    m->cpg = ws[0] / group;
    m->ksz = total / (ws[0] * ws[1]);
    m->rows = m->mpg * group;
    m->cols = m->cpg * m->ksz;
  } else {
    // QLayer weight is [N, K] whatever transB was; the initializer is [N, K] only for Gemm with
    // transB = 1 (decided by the attribute: a square matrix's shape cannot tell).
    if (ws.size() != 2) return "Gemm weight shape " + shape_str(ws) + " is not 2-D";
    m->rows = ws[0];
    m->cols = ws[1];
    if (!(n.op == "Gemm" && n.attr_i("transB", 0) != 0)) m->layout = LayerMap::Layout::KN;
  }
  return "";
}

// Initializers that QLayers already carry (weights and biases of weight layers, constant
// operands of Add) are left out of the graph section: the table stores them once, quantized.
uint16_t version_needed(const QuantizedModel& q) {
  for (const QLayer& L : q.layers)
    if (code_of(kKindCodes, L.kind) >= kFirstV2Kind) return 2;
  for (const Node& n : q.graph.nodes)
    if (kV2Ops.count(n.op)) return 2;
  return 1;
}

std::set<std::string> graph_initializers(const QuantizedModel& q) {
  const Graph& g = q.graph;
  std::set<std::pair<std::string, size_t>> carried;  // (node name, input position)
  for (const QLayer& L : q.layers) {
    const bool weights = has_weights(L);
    // The constant operand of Add/Sub/Mul (a Div's is stored as its quantized reciprocal).
    const bool const_add = (L.kind == QLayer::Kind::Add || L.kind == QLayer::Kind::Sub ||
                            L.kind == QLayer::Kind::Mul) &&
                           L.const_operand >= 0;
    if (!weights && !const_add) continue;
    if (weights) {
      carried.insert({L.name, 1});
      carried.insert({L.name, 2});
    }
    if (const_add) carried.insert({L.name, static_cast<size_t>(L.const_operand)});
    // A MatMul's absorbed bias Add: its constant operand became QLayer::bias.
    for (const auto& f : L.fused)
      for (const Node& n : g.nodes)
        if (n.name == f && n.op == "Add")
          for (size_t i = 0; i < n.inputs.size(); ++i)
            if (g.is_const(n.inputs[i])) carried.insert({n.name, i});
  }
  std::set<std::string> keep;
  for (const Node& n : g.nodes)
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (!n.inputs[i].empty() && g.is_const(n.inputs[i]) && !carried.count({n.name, i}))
        keep.insert(n.inputs[i]);
  return keep;
}

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

std::string section_bytes(const QLayer& L, uint32_t qindex, const Section& s) {
  Out o;
  o.raw(std::string(kSectionTag, 4));
  o.u32(0);  // body length, patched below
  o.u32(qindex);
  o.u8(s.enc->id());
  o.u8(L.weight_shape.size());
  o.u16(0);
  o.u64(static_cast<uint64_t>(s.map.rows));
  o.u64(static_cast<uint64_t>(s.map.cols));
  o.u64(static_cast<uint64_t>(s.e.stored));
  o.u64(s.e.values.size());
  o.u64(s.e.meta.size());
  o.u64(static_cast<uint64_t>(s.e.meta_bits));
  o.u32(s.e.params.size());
  o.u32(L.name.size());
  for (int64_t d : L.weight_shape) o.i64(d);
  o.raw(L.name);
  o.raw(s.e.params);
  o.raw(s.e.values);
  o.raw(s.e.meta);
  const size_t body = o.size() - 8;
  if (body > 0xFFFFFFFFull) throw InputError("layer '" + L.name + "': section larger than 4 GiB");
  o.put_u32_at(4, static_cast<uint32_t>(body));
  o.u32(crc32(o.bytes().data(), o.size()));
  return std::move(o.bytes());
}

void write_model(Out& o, const QuantizedModel& q, const std::vector<uint32_t>& qsection) {
  const Graph& g = q.graph;
  o.str(g.source);
  o.str(g.name);
  o.i64(g.opset);
  for (const auto* vis : {&g.inputs, &g.outputs}) {
    o.count(vis->size());
    for (const ValueInfo& v : *vis) {
      o.str(v.name);
      o.u8(code_of(kDTypeCodes, v.dtype));
      o.shape(v.shape);
    }
  }
  o.count(g.shapes.size());
  for (const auto& kv : g.shapes) {
    o.str(kv.first);
    o.shape(kv.second);
  }
  const std::set<std::string> inits = graph_initializers(q);
  o.count(inits.size());
  for (const auto& name : inits) {
    o.str(name);
    o.tensor(g.initializers.at(name));
  }
  o.count(g.nodes.size());
  for (const Node& n : g.nodes) {
    o.str(n.name);
    o.str(n.op);
    o.strs(n.inputs);
    o.strs(n.outputs);
    o.count(n.attrs.size());
    for (const auto& kv : n.attrs) {
      const Attribute& a = kv.second;
      o.str(kv.first);
      o.u8(code_of(kAttrCodes, a.kind));
      o.i64(a.i);
      o.f32(a.f);
      o.str(a.s);
      o.count(a.ints.size());
      for (int64_t v : a.ints) o.i64(v);
      o.count(a.floats.size());
      for (float v : a.floats) o.f32(v);
      o.tensor(a.t);
    }
  }
  // Quantization.
  o.u8(q.options.calib == QuantOptions::Calib::Percentile ? 1 : 0);
  o.f64(q.options.percentile);
  o.str(q.options.calib_source);
  o.str(q.input);
  o.str(q.output);
  o.f32(q.input_scale);
  o.f32(q.output_scale);
  o.i64(q.calib_samples);
  o.count(q.scales.size());
  for (const auto& kv : q.scales) {
    o.str(kv.first);
    o.f32(kv.second);
  }
  o.count(q.ranges.size());
  for (const auto& kv : q.ranges) {
    o.str(kv.first);
    o.f32(kv.second.first);
    o.f32(kv.second.second);
  }
  o.count(q.layers.size());
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    o.u8(code_of(kKindCodes, L.kind));
    o.str(L.name);
    o.str(L.op);
    o.u32(L.node);
    o.strs(L.fused);
    o.strs(L.inputs);
    o.str(L.output);
    o.shape(L.weight_shape);
    o.u32(qsection[li]);
    // Weights of a sectioned layer live in its section; others (an Add constant) inline.
    if (qsection[li] == kNoSection) {
      o.count(L.weight.size());
      for (int8_t v : L.weight) o.i8(v);
    } else {
      o.count(0);
    }
    o.count(L.weight_scale.size());
    for (float v : L.weight_scale) o.f32(v);
    o.i32(L.const_operand);
    o.count(L.bias.size());
    for (int32_t v : L.bias) o.i32(v);
    o.count(L.requant.size());
    for (const auto& r : L.requant) {
      o.i32(r.multiplier);
      o.i32(r.shift);
    }
    o.i8(L.act_min);
    o.i8(L.act_max);
    o.count(L.lut.size());
    for (int8_t v : L.lut) o.i8(v);
    o.count(L.exp_lut.size());
    for (int32_t v : L.exp_lut) o.i32(v);
    o.i64(L.acc_bound);
  }
}

TableLayerInfo layer_info(const QLayer& L, const Section& s, int64_t offset) {
  TableLayerInfo i;
  i.name = L.name;
  i.op = L.op;
  i.encoding = s.enc->name();
  i.shape = L.weight_shape;
  i.total = s.map.rows * s.map.cols;
  i.nnz = s.nnz;
  i.sparsity = i.total ? 1.0 - static_cast<double>(i.nnz) / static_cast<double>(i.total) : 0.0;
  i.value_bytes = static_cast<int64_t>(s.e.values.size());
  i.meta_bytes = static_cast<int64_t>(s.e.meta.size());
  i.crc_ok = true;
  i.weight = s.weight;
  i.rows = s.map.rows;
  i.cols = s.map.cols;
  i.stored = s.e.stored;
  i.value_bits = s.e.value_bits;
  i.meta_bits = s.e.meta_bits;
  i.offset = offset;
  const std::string& b = s.bytes;
  i.crc = static_cast<uint32_t>(static_cast<uint8_t>(b[b.size() - 4])) |
          static_cast<uint32_t>(static_cast<uint8_t>(b[b.size() - 3])) << 8 |
          static_cast<uint32_t>(static_cast<uint8_t>(b[b.size() - 2])) << 16 |
          static_cast<uint32_t>(static_cast<uint8_t>(b[b.size() - 1])) << 24;
  i.params = s.enc->describe(s.e);
  return i;
}

bool accepts(const TableOptions& opt, const std::string& encoding) {
  return opt.accepts.empty() ||
         std::find(opt.accepts.begin(), opt.accepts.end(), encoding) != opt.accepts.end();
}

void check_options(const TableOptions& opt, const std::string& path) {
  if (opt.encoding != "auto" && !find_encoding(opt.encoding)) {
    std::string known = "auto";
    for (const auto& n : encoding_names()) known += ", " + n;
    fail(path, "--encoding", "unknown encoding '" + opt.encoding + "' (known: " + known + ")");
  }
  for (const auto& n : opt.accepts)
    if (!find_encoding(n))  // the target's own list is wrong: a bug, not the user's
      throw std::logic_error("target '" + opt.target + "' accepts unknown encoding '" + n + "'");
  if (opt.encoding != "auto" && !accepts(opt, opt.encoding)) {
    std::string decoded;
    for (const auto& n : opt.accepts) decoded += (decoded.empty() ? "" : ", ") + n;
    fail(path, "--encoding",
         "encoding '" + opt.encoding + "' is not accepted by target '" + opt.target +
             "' (it decodes " + decoded + ")");
  }
  if (!opt.encoding_params.is_object())
    fail(path, "encoding parameters", "expected an object keyed by encoding");
  for (const auto& [name, given] : opt.encoding_params.items()) {
    const Encoding* e = find_encoding(name);
    if (!e) fail(path, "encoding parameters", "unknown encoding '" + name + "'");
    encoding_params(*e, opt.encoding_params, path);
  }
}

// Encodes one layer: the forced encoding, or the smallest the target accepts.
void encode_layer(const EncodeContext& ctx, const WeightMatrix& w, const TableOptions& opt,
                  const std::string& path, Section* s) {
  if (opt.encoding != "auto") {
    s->enc = find_encoding(opt.encoding);
    EncodeContext c = ctx;
    c.params = encoding_params(*s->enc, opt.encoding_params, path);
    const std::string why = s->enc->encode(w, c, &s->e);
    if (!why.empty())
      fail(path, "layer '" + ctx.layer + "'",
           "encoding '" + opt.encoding + "' does not apply: " + why);
    return;
  }
  // Smallest stored size in whole bytes (what the file and a memory hold), then fewest bits,
  // then the lowest id, so the choice is deterministic.
  for (const auto& name : encoding_names()) {
    const Encoding* e = find_encoding(name);
    if (!accepts(opt, name)) continue;
    EncodeContext c = ctx;
    c.params = encoding_params(*e, opt.encoding_params, path);
    EncodedLayer cand;
    if (!e->encode(w, c, &cand).empty()) continue;
    if (!s->enc || cand.bytes() < s->e.bytes() ||
        (cand.bytes() == s->e.bytes() && cand.bits() < s->e.bits())) {
      s->enc = e;
      s->e = std::move(cand);
    }
  }
  if (!s->enc) fail(path, "layer '" + ctx.layer + "'", "no encoding applies");
}

}  // namespace

// ------------------------------------------------------------------------------------ writer
std::string table_bytes(const QuantizedModel& q, const MaskMap& masks, const nlohmann::json& notes,
                        const TableOptions& opt, const std::string& path, TableSummary* summary) {
  check_options(opt, path);
  const Graph& g = q.graph;
  std::set<std::string> used_masks;
  std::vector<Section> sections;
  std::vector<uint32_t> qsection(q.layers.size(), kNoSection);
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    if (!has_weights(L)) continue;
    const std::string place = "layer '" + L.name + "'";
    if (L.node >= g.nodes.size()) fail(path, place, "node index out of range");
    const Node& n = g.nodes[L.node];
    Section s;
    s.qlayer = li;
    s.name = L.name;
    s.op = L.op;
    s.weight = n.in(1);
    const std::string why = layer_map(L, n, &s.map);
    if (!why.empty()) fail(path, place, why);
    WeightMatrix w;
    w.rows = s.map.rows;
    w.cols = s.map.cols;
    const size_t total = static_cast<size_t>(s.map.total());
    w.values.resize(total);
    w.mask.resize(total);
    for (size_t k = 0; k < total; ++k)
      w.values[k] = L.weight[static_cast<size_t>(s.map.q(static_cast<int64_t>(k)))];
    auto mit = masks.find(s.weight);
    if (mit == masks.end()) {
      for (size_t k = 0; k < total; ++k) w.mask[k] = w.values[k] != 0;
    } else {
      used_masks.insert(s.weight);
      if (mit->second.size() != total)
        fail(path, place,
             "mask for '" + s.weight + "' has " + std::to_string(mit->second.size()) +
                 " entries, the weight has " + std::to_string(total));
      for (size_t k = 0; k < total; ++k) {
        const int64_t at = s.map.init(static_cast<int64_t>(k));
        w.mask[k] = mit->second[static_cast<size_t>(at)] ? 1 : 0;
        // An encoding stores kept positions only: a pruned non-zero weight would be lost.
        if (!w.mask[k] && w.values[k] != 0)
          fail(path, place,
               "mask drops non-zero int8 weight " + std::to_string(w.values[k]) + " at element " +
                   std::to_string(at) + " of '" + s.weight +
                   "' (prune the graph before quantizing)");
      }
    }
    for (int8_t v : w.values) s.nnz += v != 0;
    EncodeContext ctx;
    ctx.layer = L.name;
    ctx.op = L.op;
    if (notes.is_object() && notes.contains("layers") && notes["layers"].is_object() &&
        notes["layers"].contains(L.name))
      ctx.notes = notes["layers"][L.name];
    encode_layer(ctx, w, opt, path, &s);
    if (sections.size() >= kNoSection) fail(path, place, "too many weight layers");
    qsection[li] = static_cast<uint32_t>(sections.size());
    s.bytes = section_bytes(L, static_cast<uint32_t>(li), s);
    sections.push_back(std::move(s));
  }
  for (const auto& kv : masks)
    if (!used_masks.count(kv.first))
      fail(path, "mask '" + kv.first + "'", "no weight layer of the model reads this initializer");

  Out model;
  write_model(model, q, qsection);
  // Directory: fixed size per entry, so the offsets are known before it is written.
  const size_t dir_bytes = 4 + sections.size() * 20;
  uint64_t off = kHeaderBytes + model.size() + dir_bytes;
  model.count(sections.size());
  std::vector<int64_t> offsets;
  for (const auto& s : sections) {
    model.u32(s.qlayer);
    model.u64(off);
    model.u64(s.bytes.size());
    offsets.push_back(static_cast<int64_t>(off));
    off += s.bytes.size();
  }
  Out h;
  h.raw(std::string(kMagic, 8));
  const uint16_t version = version_needed(q);
  h.u16(version);
  h.u16(0);
  h.u32(sections.size());
  h.u64(kHeaderBytes);
  h.u64(model.size());
  h.u64(off);
  h.u32(crc32(model.bytes().data(), model.size()));
  h.u32(crc32(h.bytes().data(), h.size()));
  std::string file = std::move(h.bytes());
  file += model.bytes();
  for (const auto& s : sections) file += s.bytes;
  if (summary) {
    summary->version = version;
    summary->source_model = g.source;
    summary->file_bytes = static_cast<int64_t>(file.size());
    summary->layers.clear();
    for (size_t k = 0; k < sections.size(); ++k)
      summary->layers.push_back(layer_info(q.layers[sections[k].qlayer], sections[k], offsets[k]));
  }
  return file;
}

void write_tables(const QuantizedModel& q, const MaskMap& masks, const nlohmann::json& notes,
                  const TableOptions& opt, const std::string& path, TableSummary* summary) {
  write_file_atomic(path, table_bytes(q, masks, notes, opt, path, summary));
}

// ------------------------------------------------------------------------------------ reader
namespace {

Graph read_graph(In& in) {
  Graph g;
  g.source = in.str("graph source");  // replaced by the caller; kept for the summary
  g.name = in.str("graph name");
  g.opset = in.i64("opset");
  for (auto* vis : {&g.inputs, &g.outputs}) {
    const size_t n = in.count(9, "graph inputs/outputs");
    for (size_t k = 0; k < n; ++k) {
      ValueInfo v;
      v.name = in.str("value name");
      if (!enum_of(kDTypeCodes, in.u8("value dtype"), &v.dtype)) in.bad("unknown dtype code");
      v.shape = in.shape("value shape");
      vis->push_back(v);
    }
  }
  const size_t ns = in.count(8, "shapes");
  for (size_t k = 0; k < ns; ++k) {
    std::string name = in.str("shape name");
    g.shapes[name] = in.shape("shape");
  }
  const size_t ni = in.count(4, "initializers");
  for (size_t k = 0; k < ni; ++k) {
    std::string name = in.str("initializer name");
    g.initializers[name] = in.tensor("initializer");
  }
  const size_t nn = in.count(4, "nodes");
  for (size_t k = 0; k < nn; ++k) {
    Node n;
    n.name = in.str("node name");
    n.op = in.str("node op");
    n.inputs = in.strs("node inputs");
    n.outputs = in.strs("node outputs");
    const size_t na = in.count(4, "attributes");
    for (size_t a = 0; a < na; ++a) {
      std::string name = in.str("attribute name");
      Attribute at;
      if (!enum_of(kAttrCodes, in.u8("attribute kind"), &at.kind))
        in.bad("attribute '" + name + "': unknown kind code");
      at.i = in.i64("attribute int");
      at.f = in.f32("attribute float");
      at.s = in.str("attribute string");
      at.ints.resize(in.count(8, "attribute ints"));
      for (auto& v : at.ints) v = in.i64("attribute ints");
      at.floats.resize(in.count(4, "attribute floats"));
      for (auto& v : at.floats) v = in.f32("attribute floats");
      at.t = in.tensor("attribute tensor");
      n.attrs[name] = std::move(at);
    }
    g.nodes.push_back(std::move(n));
  }
  return g;
}

void read_quant(In& in, QuantizedModel& q, std::vector<uint32_t>& qsection, uint16_t file_version) {
  const uint8_t calib = in.u8("calibration method");
  if (calib > 1) in.bad("calibration method code " + std::to_string(calib) + " is not 0 or 1");
  q.options.calib = calib ? QuantOptions::Calib::Percentile : QuantOptions::Calib::MinMax;
  q.options.percentile = in.f64("percentile");
  q.options.calib_source = in.str("calibration source");
  q.input = in.str("input name");
  q.output = in.str("output name");
  q.input_scale = in.f32("input scale");
  q.output_scale = in.f32("output scale");
  q.calib_samples = in.i64("calibration samples");
  const size_t ns = in.count(8, "scales");
  for (size_t k = 0; k < ns; ++k) {
    std::string name = in.str("scale name");
    q.scales[name] = in.f32("scale");
  }
  const size_t nr = in.count(12, "ranges");
  for (size_t k = 0; k < nr; ++k) {
    std::string name = in.str("range name");
    const float lo = in.f32("range min");
    q.ranges[name] = {lo, in.f32("range max")};
  }
  const size_t nl = in.count(40, "layers");
  for (size_t k = 0; k < nl; ++k) {
    QLayer L;
    const uint8_t kind_code = in.u8("layer kind");
    if (!enum_of(kKindCodes, kind_code, &L.kind)) in.bad("unknown layer kind code");
    if (kind_code >= kFirstV2Kind && file_version < 2)
      in.bad("layer kind code " + std::to_string(kind_code) + " needs weight-table version 2");
    L.name = in.str("layer name");
    L.op = in.str("layer op");
    L.node = in.u32("layer node");
    if (L.node >= q.graph.nodes.size())
      in.bad("layer '" + L.name + "': node index " + std::to_string(L.node) + " out of range");
    L.fused = in.strs("fused nodes");
    L.inputs = in.strs("layer inputs");
    L.output = in.str("layer output");
    L.weight_shape = in.shape("weight shape");
    qsection.push_back(in.u32("weight section"));
    L.weight.resize(in.count(1, "inline weights"));
    for (auto& v : L.weight) v = in.i8("inline weights");
    L.weight_scale.resize(in.count(4, "weight scales"));
    for (auto& v : L.weight_scale) v = in.f32("weight scales");
    L.const_operand = in.i32("constant operand");
    L.bias.resize(in.count(4, "bias"));
    for (auto& v : L.bias) v = in.i32("bias");
    L.requant.resize(in.count(8, "requant"));
    for (auto& r : L.requant) {
      r.multiplier = in.i32("requant multiplier");
      r.shift = in.i32("requant shift");
    }
    L.act_min = in.i8("act_min");
    L.act_max = in.i8("act_max");
    L.lut.resize(in.count(1, "lut"));
    for (auto& v : L.lut) v = in.i8("lut");
    L.exp_lut.resize(in.count(4, "exp lut"));
    for (auto& v : L.exp_lut) v = in.i32("exp lut");
    L.acc_bound = in.i64("accumulator bound");
    q.layers.push_back(std::move(L));
  }
}

uint32_t get_u32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= uint32_t{static_cast<uint8_t>(b[at + k])} << (8 * k);
  return v;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

}  // namespace

QuantizedModel parse_tables(const std::string& b, const std::string& source, TableSummary* summary,
                            MaskMap* masks) {
  if (b.size() < 8 || b.compare(0, 8, std::string(kMagic, 8)) != 0)
    fail(source, "byte 0", "not a weight table (bad magic; expected \\x89PWT\\r\\n\\x1a\\n)");
  if (b.size() < 10) fail(source, "header", "truncated: the file ends inside the header");
  In hdr(b, 8, b.size(), source, "header");
  // The version decides how everything after it reads, so it is checked before the CRC.
  const uint16_t version = static_cast<uint16_t>(hdr.le(2, "version"));
  if (version < kTableMinVersion || version > kTableVersion)
    fail(source, "byte 8",
         "unsupported weight-table version " + std::to_string(version) + " (this build reads " +
             std::to_string(kTableMinVersion) + "-" + std::to_string(kTableVersion) + ")");
  if (b.size() < kHeaderBytes)
    fail(source, "header",
         "truncated: the file has " + std::to_string(b.size()) + " bytes, the header needs " +
             std::to_string(kHeaderBytes));
  const uint32_t hcrc = get_u32(b, 44), hcalc = crc32(b.data(), 44);
  if (hcrc != hcalc)
    fail(source, "header, byte 44",
         "header CRC mismatch (stored " + hex32(hcrc) + ", computed " + hex32(hcalc) + ")");
  hdr.le(2, "flags");
  const uint32_t nsections = hdr.u32("section count");
  const uint64_t model_off = hdr.u64("model offset"), model_len = hdr.u64("model length");
  const uint64_t file_len = hdr.u64("file length");
  const uint32_t model_crc = hdr.u32("model CRC");
  if (file_len != b.size())
    fail(source, "header, byte 32",
         file_len > b.size()
             ? "truncated: the file has " + std::to_string(b.size()) + " bytes, its header says " +
                   std::to_string(file_len)
             : "the file has " + std::to_string(b.size()) + " bytes, its header says " +
                   std::to_string(file_len) + " (trailing data)");
  if (model_off != kHeaderBytes || model_len > file_len - kHeaderBytes)
    fail(source, "header, byte 16",
         "model section at " + std::to_string(model_off) + " of " + std::to_string(model_len) +
             " bytes does not fit the file");
  const uint32_t mcalc = crc32(b.data() + model_off, static_cast<size_t>(model_len));
  if (mcalc != model_crc)
    fail(source, "model section, byte " + std::to_string(model_off),
         "CRC mismatch (stored " + hex32(model_crc) + ", computed " + hex32(mcalc) + ")");

  In in(b, static_cast<size_t>(model_off), static_cast<size_t>(model_off + model_len), source,
        "model section");
  QuantizedModel q;
  q.graph = read_graph(in);
  const std::string source_model = q.graph.source;
  q.graph.source = source;
  std::vector<uint32_t> qsection;
  read_quant(in, q, qsection, version);
  const size_t nd = in.count(20, "section directory");
  if (nd != nsections)
    in.bad("the directory lists " + std::to_string(nd) + " sections, the header " +
           std::to_string(nsections));
  struct Dir {
    uint32_t qlayer;
    uint64_t off, len;
  };
  std::vector<Dir> dir(nd);
  uint64_t expect_off = model_off + model_len;
  for (size_t k = 0; k < nd; ++k) {
    dir[k].qlayer = in.u32("directory layer");
    dir[k].off = in.u64("directory offset");
    dir[k].len = in.u64("directory length");
    if (dir[k].qlayer >= q.layers.size() || qsection[dir[k].qlayer] != k)
      in.bad("directory entry " + std::to_string(k) + " names layer " +
             std::to_string(dir[k].qlayer) + ", which does not point back to it");
    // Sections follow each other without gaps: anything else is a damaged length.
    if (dir[k].off != expect_off || dir[k].len > file_len - dir[k].off || dir[k].len < 4)
      in.bad("section " + std::to_string(k) + " at byte " + std::to_string(dir[k].off) + " of " +
             std::to_string(dir[k].len) +
             " bytes does not follow the previous one inside the file");
    expect_off += dir[k].len;
  }
  if (in.left() != 0) in.bad(std::to_string(in.left()) + " unread bytes at the end");
  if (expect_off != file_len)
    fail(source, "byte " + std::to_string(expect_off),
         std::to_string(file_len - expect_off) + " bytes after the last section");
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    const std::string place = "layer '" + L.name + "'";
    const bool want = has_weights(L);
    if (want != (qsection[li] != kNoSection))
      fail(source, place,
           want ? "weight layer without a section" : "section for a layer without weights");
    if (!want) continue;
    if (qsection[li] >= nd || dir[qsection[li]].qlayer != li)
      fail(source, place, "section " + std::to_string(qsection[li]) + " is not in the directory");
    // The executor indexes these per output channel: a short list would read past its end.
    LayerMap map;
    const std::string why = layer_map(L, q.graph.nodes[L.node], &map);
    if (!why.empty()) fail(source, place, why);
    const size_t rows = static_cast<size_t>(map.rows);
    if (L.bias.size() != rows || L.requant.size() != rows || L.weight_scale.size() != rows)
      fail(source, place,
           "bias/requant/scale lists do not have one entry per output channel (" +
               std::to_string(rows) + ")");
  }

  if (summary) {
    summary->version = version;
    summary->source_model = source_model;
    summary->file_bytes = static_cast<int64_t>(b.size());
    summary->layers.clear();
  }
  for (size_t k = 0; k < nd; ++k) {
    QLayer& L = q.layers[dir[k].qlayer];
    const size_t off = static_cast<size_t>(dir[k].off), len = static_cast<size_t>(dir[k].len);
    const std::string place = "layer '" + L.name + "' (section " + std::to_string(k) + " at byte " +
                              std::to_string(off) + ")";
    const uint32_t stored_crc = get_u32(b, off + len - 4), calc = crc32(b.data() + off, len - 4);
    if (stored_crc != calc)
      fail(source, place,
           "CRC mismatch (stored " + hex32(stored_crc) + ", computed " + hex32(calc) + ")");
    In s(b, off, off + len - 4, source, place);
    if (s.raw(4, "section tag") != std::string(kSectionTag, 4)) s.bad("bad section tag");
    const uint32_t body = s.u32("body length");
    if (body != len - 12)
      s.bad("body length " + std::to_string(body) + " disagrees with the directory");
    if (s.u32("layer index") != dir[k].qlayer) s.bad("layer index disagrees with the directory");
    const uint8_t enc_id = s.u8("encoding id");
    const Encoding* enc = find_encoding(enc_id);
    if (!enc) s.bad("unknown encoding id " + std::to_string(enc_id));
    const uint8_t rank = s.u8("rank");
    s.le(2, "reserved");
    Section sec;
    sec.enc = enc;
    sec.map.rows = static_cast<int64_t>(s.u64("rows"));
    sec.map.cols = static_cast<int64_t>(s.u64("cols"));
    sec.e.stored = static_cast<int64_t>(s.u64("stored values"));
    const uint64_t vbytes = s.u64("value bytes"), mbytes = s.u64("metadata bytes");
    sec.e.meta_bits = static_cast<int64_t>(s.u64("metadata bits"));
    const uint32_t plen = s.u32("params length"), nlen = s.u32("name length");
    Shape shape(rank);
    for (auto& d : shape) d = s.i64("dims");
    const std::string name = s.raw(nlen, "name");
    sec.e.params = s.raw(plen, "params");
    sec.e.values = s.raw(vbytes, "values");
    sec.e.meta = s.raw(mbytes, "metadata");
    if (s.left() != 0) s.bad(std::to_string(s.left()) + " unread bytes before the CRC");
    if (name != L.name || shape != L.weight_shape)
      s.bad("name '" + name + "' / shape " + shape_str(shape) + " disagree with the model section");
    if (sec.e.stored != static_cast<int64_t>(vbytes) || sec.e.meta_bits < 0 ||
        static_cast<uint64_t>((sec.e.meta_bits + 7) / 8) != mbytes)
      s.bad("lengths inconsistent: " + std::to_string(sec.e.stored) + " stored values in " +
            std::to_string(vbytes) + " bytes, " + std::to_string(sec.e.meta_bits) +
            " metadata bits in " + std::to_string(mbytes) + " bytes");
    sec.e.value_bits = 8 * sec.e.stored;
    LayerMap map;
    const std::string why = layer_map(L, q.graph.nodes[L.node], &map);
    if (!why.empty()) fail(source, place, why);
    if (map.rows != sec.map.rows || map.cols != sec.map.cols)
      fail(source, place,
           "matrix " + std::to_string(sec.map.rows) + " x " + std::to_string(sec.map.cols) +
               " disagrees with weight shape " + shape_str(L.weight_shape));
    sec.map = std::move(map);
    WeightMatrix w;
    w.rows = sec.map.rows;
    w.cols = sec.map.cols;
    enc->decode(sec.e, &w, source + ": " + place + ": " + enc->name());
    const size_t total = static_cast<size_t>(sec.map.total());
    if (w.values.size() != total || w.mask.size() != total)
      throw std::logic_error("encoding '" + enc->name() + "' decoded a wrong size");
    L.weight.assign(total, 0);
    for (size_t i = 0; i < total; ++i) {
      L.weight[static_cast<size_t>(sec.map.q(static_cast<int64_t>(i)))] = w.values[i];
      sec.nnz += w.values[i] != 0;
    }
    const Node& node = q.graph.nodes[L.node];
    sec.weight = node.in(1);
    if (masks) {
      auto& m = (*masks)[sec.weight];
      m.assign(total, 0);
      for (size_t i = 0; i < total; ++i)
        m[static_cast<size_t>(sec.map.init(static_cast<int64_t>(i)))] = w.mask[i];
    }
    if (summary) {
      sec.bytes = b.substr(off, len);
      summary->layers.push_back(layer_info(L, sec, static_cast<int64_t>(off)));
    }
  }
  return q;
}

QuantizedModel read_tables(const std::string& path, TableSummary* summary, MaskMap* masks) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open weight table");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail(path, "", "read error");
  return parse_tables(bytes, path, summary, masks);
}

bool is_table_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char m[8];
  if (!f.read(m, 8)) return false;
  return std::memcmp(m, kMagic, 8) == 0;
}

}  // namespace prunesim
