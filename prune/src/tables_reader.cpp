// The weight-table reader (format in docs/weight-tables.md): the header, the model section
// (graph, quantization parameters, section directory) and each layer section are read and
// checked in turn; any corruption is an InputError naming the file, the place and the byte.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/limits.h"
#include "prune/errors.h"
#include "prune/tables.h"
#include "tables_format.h"

namespace prunesim {
namespace pwt {
namespace {

// A fuzzer's mutations almost never keep the CRCs right; its build (scripts/fuzz.sh) skips their
// comparison so that it reaches the fields behind them. Release builds always compare.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kCompareCrc = false;
#else
constexpr bool kCompareCrc = true;
#endif

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
      at.t = in.tensor("attribute tensor", true);
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
    if (kind_code >= kFirstV3Kind && file_version < 3)
      in.bad("layer kind code " + std::to_string(kind_code) + " needs weight-table version 3");
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
  return static_cast<uint32_t>(get_le(b.data() + at, 4));
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

struct Header {
  uint16_t version = 0;
  uint32_t nsections = 0;
  uint64_t model_off = 0, model_len = 0, file_len = 0;
};

// The 48-byte header, checked: magic, version, its CRC, the file length and the model section's
// place and CRC.
Header read_header(const std::string& b, const std::string& source) {
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
  if (kCompareCrc && hcrc != hcalc)
    fail(source, "header, byte 44",
         "header CRC mismatch (stored " + hex32(hcrc) + ", computed " + hex32(hcalc) + ")");
  hdr.le(2, "flags");
  const uint32_t nsections = hdr.u32("section count");
  const uint64_t model_off = hdr.u64("model offset"), model_len = hdr.u64("model length");
  const uint64_t file_len = hdr.u64("file length");
  const uint32_t model_crc = hdr.u32("model CRC");
  Header h{version, nsections, model_off, model_len, file_len};
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
  if (kCompareCrc && mcalc != model_crc)
    fail(source, "model section, byte " + std::to_string(model_off),
         "CRC mismatch (stored " + hex32(model_crc) + ", computed " + hex32(mcalc) + ")");
  return h;
}

struct Dir {
  uint32_t qlayer;
  uint64_t off, len;
};

// The section directory at the end of the model section: one entry per section, each pointing
// back at its layer, the sections following each other up to the end of the file.
std::vector<Dir> read_directory(In& in, const Header& h, const QuantizedModel& q,
                                const std::vector<uint32_t>& qsection, const std::string& source) {
  const size_t nd = in.count(20, "section directory");
  if (nd != h.nsections)
    in.bad("the directory lists " + std::to_string(nd) + " sections, the header " +
           std::to_string(h.nsections));
  std::vector<Dir> dir(nd);
  uint64_t expect_off = h.model_off + h.model_len;
  for (size_t k = 0; k < nd; ++k) {
    dir[k].qlayer = in.u32("directory layer");
    dir[k].off = in.u64("directory offset");
    dir[k].len = in.u64("directory length");
    if (dir[k].qlayer >= q.layers.size() || qsection[dir[k].qlayer] != k)
      in.bad("directory entry " + std::to_string(k) + " names layer " +
             std::to_string(dir[k].qlayer) + ", which does not point back to it");
    // Sections follow each other without gaps: anything else is a damaged length.
    if (dir[k].off != expect_off || dir[k].len > h.file_len - dir[k].off || dir[k].len < 4)
      in.bad("section " + std::to_string(k) + " at byte " + std::to_string(dir[k].off) + " of " +
             std::to_string(dir[k].len) +
             " bytes does not follow the previous one inside the file");
    expect_off += dir[k].len;
  }
  if (in.left() != 0) in.bad(std::to_string(in.left()) + " unread bytes at the end");
  if (expect_off != h.file_len)
    fail(source, "byte " + std::to_string(expect_off),
         std::to_string(h.file_len - expect_off) + " bytes after the last section");
  return dir;
}

// Every weight layer has a section and lists one bias, requant and scale per output channel;
// no other layer has a section.
void check_layers(const QuantizedModel& q, const std::vector<uint32_t>& qsection,
                  const std::vector<Dir>& dir, const std::string& source) {
  const size_t nd = dir.size();
  int64_t all_weights = 0;  // over the whole file: a per-layer bound alone lets N layers take N x
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
    if (!checked_add(all_weights, map.total(), &all_weights) || all_weights > kMaxWeights)
      fail(source, place, "the layers up to this one hold more than 2^28 weights in total");
    const size_t rows = static_cast<size_t>(map.rows);
    if (L.bias.size() != rows || L.requant.size() != rows || L.weight_scale.size() != rows)
      fail(source, place,
           "bias/requant/scale lists do not have one entry per output channel (" +
               std::to_string(rows) + ")");
  }
}

// Section k's fields, checked against the directory and the model section (its CRC, tag,
// lengths, name, shape and matrix view); *place names it in errors.
Section read_section(const std::string& b, const std::string& source, size_t k, const Dir& d,
                     const QuantizedModel& q, std::string* place) {
  const QLayer& L = q.layers[d.qlayer];
  const size_t off = static_cast<size_t>(d.off), len = static_cast<size_t>(d.len);
  *place = "layer '" + L.name + "' (section " + std::to_string(k) + " at byte " +
           std::to_string(off) + ")";
  const uint32_t stored_crc = get_u32(b, off + len - 4), calc = crc32(b.data() + off, len - 4);
  if (kCompareCrc && stored_crc != calc)
    fail(source, *place,
         "CRC mismatch (stored " + hex32(stored_crc) + ", computed " + hex32(calc) + ")");
  In s(b, off, off + len - 4, source, *place);
  if (s.raw(4, "section tag") != std::string(kSectionTag, 4)) s.bad("bad section tag");
  const uint32_t body = s.u32("body length");
  if (body != len - 12)
    s.bad("body length " + std::to_string(body) + " disagrees with the directory");
  if (s.u32("layer index") != d.qlayer) s.bad("layer index disagrees with the directory");
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
  for (auto& dim : shape) dim = s.i64("dims");
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
  if (!why.empty()) fail(source, *place, why);
  if (map.rows != sec.map.rows || map.cols != sec.map.cols)
    fail(source, *place,
         "matrix " + std::to_string(sec.map.rows) + " x " + std::to_string(sec.map.cols) +
             " disagrees with weight shape " + shape_str(L.weight_shape));
  sec.map = std::move(map);
  return sec;
}

// Decodes sec into layer L's int8 weights (in QLayer order) and, if masks is given, the
// positions the encoding records (in the initializer's layout).
void decode_section(Section& sec, QLayer& L, const Graph& g, const std::string& source,
                    const std::string& place, MaskMap* masks) {
  const Encoding* enc = sec.enc;
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
  sec.weight = g.nodes[L.node].in(1);
  if (masks) {
    auto& m = (*masks)[sec.weight];
    m.assign(total, 0);
    for (size_t i = 0; i < total; ++i)
      m[static_cast<size_t>(sec.map.init(static_cast<int64_t>(i)))] = w.mask[i];
  }
}

}  // namespace
}  // namespace pwt

QuantizedModel parse_tables(const std::string& b, const std::string& source, TableSummary* summary,
                            MaskMap* masks) {
  using namespace pwt;
  const Header h = read_header(b, source);
  In in(b, static_cast<size_t>(h.model_off), static_cast<size_t>(h.model_off + h.model_len), source,
        "model section");
  QuantizedModel q;
  q.graph = read_graph(in);
  const std::string source_model = q.graph.source;
  q.graph.source = source;
  std::vector<uint32_t> qsection;
  read_quant(in, q, qsection, h.version);
  const std::vector<Dir> dir = read_directory(in, h, q, qsection, source);
  check_layers(q, qsection, dir, source);
  check_program(q, source);
  if (summary) {
    summary->version = h.version;
    summary->source_model = source_model;
    summary->file_bytes = static_cast<int64_t>(b.size());
    summary->layers.clear();
  }
  for (size_t k = 0; k < dir.size(); ++k) {
    QLayer& L = q.layers[dir[k].qlayer];
    std::string place;
    Section sec = read_section(b, source, k, dir[k], q, &place);
    decode_section(sec, L, q.graph, source, place, masks);
    if (summary) {
      const size_t off = static_cast<size_t>(dir[k].off), len = static_cast<size_t>(dir[k].len);
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
  return std::memcmp(m, pwt::kMagic, 8) == 0;
}

}  // namespace prunesim
