// The weight-table writer (format in docs/weight-tables.md): every layer with weights is encoded
// into its own section, then the model section (graph, quantization, directory) and the header
// with the CRCs are put in front. Maps are written sorted and nothing depends on time or
// addresses, so the same inputs always give the same bytes.
#include <algorithm>
#include <set>

#include "prune/errors.h"
#include "prune/tables.h"
#include "tables_format.h"

namespace prunesim {
namespace pwt {
namespace {

// The lowest version that describes q (tables.h: version-1 readers keep reading such files).
uint16_t version_needed(const QuantizedModel& q) {
  for (const QLayer& L : q.layers)
    if (code_of(kKindCodes, L.kind) >= kFirstV3Kind) return 3;
  for (const Node& n : q.graph.nodes)
    if (kV3Ops.count(n.op)) return 3;
  for (const QLayer& L : q.layers)
    if (code_of(kKindCodes, L.kind) >= kFirstV2Kind) return 2;
  for (const Node& n : q.graph.nodes)
    if (kV2Ops.count(n.op)) return 2;
  return 1;
}

// Initializers that QLayers already carry (weights and biases of weight layers, constant
// operands of Add) are left out of the graph section: the table stores them once, quantized.
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

void write_graph(Out& o, const QuantizedModel& q) {
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
}

// Quantization parameters and the layer list (a sectioned layer's weights live in its section).
void write_quant(Out& o, const QuantizedModel& q, const std::vector<uint32_t>& qsection) {
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

// The matrix view of L's weights and its mask: masks[weight] in the initializer's layout, or
// (none given) the non-zero weights. used_masks collects the masks read.
WeightMatrix layer_matrix(const QLayer& L, const Section& s, const MaskMap& masks,
                          const std::string& path, std::set<std::string>& used_masks) {
  const std::string place = "layer '" + L.name + "'";
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
    return w;
  }
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
               std::to_string(at) + " of '" + s.weight + "' (prune the graph before quantizing)");
  }
  return w;
}

// Layer li (a weight layer) encoded into its complete section.
Section layer_section(const QuantizedModel& q, size_t li, const MaskMap& masks,
                      const nlohmann::json& notes, const TableOptions& opt, const std::string& path,
                      std::set<std::string>& used_masks) {
  const QLayer& L = q.layers[li];
  const std::string place = "layer '" + L.name + "'";
  if (L.node >= q.graph.nodes.size()) fail(path, place, "node index out of range");
  const Node& n = q.graph.nodes[L.node];
  Section s;
  s.qlayer = li;
  s.name = L.name;
  s.op = L.op;
  s.weight = n.in(1);
  const std::string why = layer_map(L, n, &s.map);
  if (!why.empty()) fail(path, place, why);
  const WeightMatrix w = layer_matrix(L, s, masks, path, used_masks);
  for (int8_t v : w.values) s.nnz += v != 0;
  EncodeContext ctx;
  ctx.layer = L.name;
  ctx.op = L.op;
  if (notes.is_object() && notes.contains("layers") && notes["layers"].is_object() &&
      notes["layers"].contains(L.name))
    ctx.notes = notes["layers"][L.name];
  encode_layer(ctx, w, opt, path, &s);
  s.bytes = section_bytes(L, static_cast<uint32_t>(li), s);
  return s;
}

// Header, model section (with the directory) and the sections, in file order; offsets receives
// each section's byte offset.
std::string assemble(const QuantizedModel& q, const std::vector<Section>& sections,
                     const std::vector<uint32_t>& qsection, std::vector<int64_t>* offsets) {
  Out model;
  write_graph(model, q);
  write_quant(model, q, qsection);
  // Directory: fixed size per entry, so the offsets are known before it is written.
  const size_t dir_bytes = 4 + sections.size() * 20;
  uint64_t off = kHeaderBytes + model.size() + dir_bytes;
  model.count(sections.size());
  for (const auto& s : sections) {
    model.u32(s.qlayer);
    model.u64(off);
    model.u64(s.bytes.size());
    offsets->push_back(static_cast<int64_t>(off));
    off += s.bytes.size();
  }
  Out h;
  h.raw(std::string(kMagic, 8));
  h.u16(version_needed(q));
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
  return file;
}

}  // namespace
}  // namespace pwt

std::string table_bytes(const QuantizedModel& q, const MaskMap& masks, const nlohmann::json& notes,
                        const TableOptions& opt, const std::string& path, TableSummary* summary) {
  using namespace pwt;
  check_options(opt, path);
  std::set<std::string> used_masks;
  std::vector<Section> sections;
  std::vector<uint32_t> qsection(q.layers.size(), kNoSection);
  for (size_t li = 0; li < q.layers.size(); ++li) {
    if (!has_weights(q.layers[li])) continue;
    Section s = layer_section(q, li, masks, notes, opt, path, used_masks);
    if (sections.size() >= kNoSection)
      fail(path, "layer '" + q.layers[li].name + "'", "too many weight layers");
    qsection[li] = static_cast<uint32_t>(sections.size());
    sections.push_back(std::move(s));
  }
  for (const auto& kv : masks)
    if (!used_masks.count(kv.first))
      fail(path, "mask '" + kv.first + "'", "no weight layer of the model reads this initializer");
  std::vector<int64_t> offsets;
  std::string file = assemble(q, sections, qsection, &offsets);
  if (summary) {
    summary->version = version_needed(q);
    summary->source_model = q.graph.source;
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

}  // namespace prunesim
