// Compiler from weight tables to the RAMAN layer program: mode and geometry per layer, the
// weight groups each PE streams, weight-memory image sizes, and activation-memory allocation
// with in-place IA/OA overlap (REFERENCE.md §1). docs/raman.md explains every rule here.
#include "models/raman/program.h"

#include <algorithm>
#include <climits>
#include <map>

#include "prune/balanced.h"
#include "prune/errors.h"
#include "prune/op_geometry.h"

namespace prunesim::raman {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

std::string kind_name(const QLayer& L, bool depthwise) {
  switch (L.kind) {
    case QLayer::Kind::Conv:
      return depthwise ? "depthwise" : "conv";
    case QLayer::Kind::ConvTranspose:
      return "conv_transpose";
    case QLayer::Kind::Gemm:
      return "gemm";
    case QLayer::Kind::MaxPool:
      return "maxpool";
    case QLayer::Kind::GlobalMaxPool:
      return "global_maxpool";
    case QLayer::Kind::AvgPool:
      return "avgpool";
    case QLayer::Kind::GlobalAvgPool:
      return "global_avgpool";
    case QLayer::Kind::Clamp:
      return "clamp";
    case QLayer::Kind::Move:
      return "move";
    default:
      return L.op;
  }
}

// [1, C], [1, C, W] or [1, C, H, W]; other ranks are not activations the core can hold.
ActBuffer buffer_of(const Shape& s, const std::string& src, const std::string& place) {
  ActBuffer b;
  if (s.size() < 2 || s.size() > 4)
    fail(src, place, "activation " + shape_str(s) + " is not [1, C], [1, C, W] or [1, C, H, W]");
  if (s.size() == 2) {
    b.c = s[1];
  } else if (s.size() == 3) {
    b.c = s[1];
    b.w = s[2];
  } else if (s.size() == 4) {
    b.c = s[1];
    b.h = s[2];
    b.w = s[3];
  }
  return b;
}

// Lowest input index along one axis that output index o reads (kernel k, stride s, pad p,
// dilation d, input length n); LLONG_MAX if every tap falls outside.
int64_t first_along(bool transpose, int64_t o, int64_t k, int64_t s, int64_t p, int64_t d,
                    int64_t n) {
  int64_t first = LLONG_MAX;
  for (int64_t i = 0; i < k; ++i) {
    int64_t in;
    if (transpose) {  // gather form: input in feeds output in*s - p + i*d
      const int64_t t = o + p - i * d;
      if (t < 0 || t % s) continue;
      in = t / s;
    } else {
      in = o * s - p + i * d;
    }
    if (in >= 0 && in < n) first = std::min(first, in);
  }
  return first;
}

// Lowest raster index of an input position output (oy, ox) reads; LLONG_MAX if none.
int64_t first_input(const LayerProgram& L, int64_t oy, int64_t ox) {
  const int64_t y0 = first_along(L.transpose, oy, L.kh, L.sh, L.pt, L.dh, L.in.h);
  const int64_t x0 = first_along(L.transpose, ox, L.kw, L.sw, L.pl, L.dw, L.in.w);
  if (y0 == LLONG_MAX || x0 == LLONG_MAX) return LLONG_MAX;
  return y0 * L.in.w + x0;
}

// In-place overlap: after output position o is written, only input positions >= need(o+1) are
// still read. The OA of position o occupies [out + o*Co, out + (o+1)*Co); it must end at or below
// in + need(o+1)*Ci. The largest such gap g = max_o ((o+1)*Co - need(o+1)*Ci) lets OA start at
// in.base - g. LLONG_MIN when nothing constrains (one output position, or a flat Gemm input).
int64_t overlap_gap(const LayerProgram& L) {
  const int64_t n = L.positions();
  if (n <= 1 || L.flat_input) return LLONG_MIN;
  std::vector<int64_t> need(static_cast<size_t>(n));
  int64_t m = LLONG_MAX;
  for (int64_t o = n - 1; o >= 0; --o) {
    m = std::min(m, first_input(L, o / L.out.w, o % L.out.w));
    need[static_cast<size_t>(o)] = m;
  }
  int64_t g = LLONG_MIN;
  for (int64_t o = 0; o + 1 < n; ++o) {
    const int64_t nd = need[static_cast<size_t>(o + 1)];
    if (nd == LLONG_MAX) continue;  // nothing left to read
    g = std::max(g, (o + 1) * L.out.c - nd * L.in.c);
  }
  return g;
}

struct Ctx {
  const QuantizedModel& q;
  const RamanConfig& cfg;
  const std::string& src;
  std::string place;
  [[noreturn]] void err(const std::string& what) const { fail(src, place, what); }
};

const TableLayerInfo* info_of(const TableSummary& s, const std::string& name) {
  for (const TableLayerInfo& t : s.layers)
    if (t.name == name) return &t;
  return nullptr;
}

// Weight (row, col) of the matrix view, and its index in the initializer layout (for the mask).
struct MatrixView {
  int64_t rows = 0, cols = 0;
  std::function<int8_t(int64_t, int64_t)> w;
  std::function<int64_t(int64_t, int64_t)> init;
};

// Byte image of a broadcast layer, column by column (docs/raman.md "Weight memory image"):
//   dense    per PE: one value per row slot
//   bitmap   per PE: ceil(slots/8) bytes of slot bits, then the kept values
//   csr      per PE: count byte, one slot-index byte per kept weight, then the values
//   balanced pattern: per cluster the shared slot bits, then per PE its kept values
//   balanced lfsr:    per PE its kept values (slots regenerated from col_lfsr_state)
void build_image(LayerProgram& P, int64_t rows) {
  const int64_t np = P.pes, nb = ceil_div(P.slots, 8);
  P.image.clear();
  P.col_addr.assign(static_cast<size_t>(P.cols), 0);
  auto group = [&](int64_t c, int64_t p) {
    const size_t g = static_cast<size_t>(c * np + p);
    return std::make_pair(P.entries.begin() + P.group_off[g],
                          P.entries.begin() + P.group_off[g + 1]);
  };
  auto bits_of = [&](int64_t c, int64_t p) {
    std::vector<uint8_t> b(static_cast<size_t>(nb), 0);
    auto [a, e] = group(c, p);
    for (auto it = a; it != e; ++it)
      b[static_cast<size_t>(it->slot / 8)] |= uint8_t(1u << (it->slot % 8));
    return b;
  };
  for (int64_t c = 0; c < P.cols; ++c) {
    P.col_addr[static_cast<size_t>(c)] = static_cast<int64_t>(P.image.size());
    for (int64_t p = 0; p < np; ++p) {
      auto [a, e] = group(c, p);
      const bool cluster_head = p % P.cluster == 0;
      if (P.encoding == "bitmap" || (P.encoding == "balanced" && !P.lfsr && cluster_head)) {
        const auto b = bits_of(c, p);
        P.image.insert(P.image.end(), b.begin(), b.end());
      } else if (P.encoding == "csr") {
        P.image.push_back(static_cast<uint8_t>(e - a));
        for (auto it = a; it != e; ++it) P.image.push_back(static_cast<uint8_t>(it->slot));
      }
      (void)rows;
      for (auto it = a; it != e; ++it) P.image.push_back(static_cast<uint8_t>(it->w));
    }
  }
}

void build_groups(const Ctx& cx, LayerProgram& P, const MatrixView& v, const TableLayerInfo& ti,
                  const MaskMap& masks) {
  const RamanConfig& cfg = cx.cfg;
  P.rows = v.rows;
  P.cols = v.cols;
  P.pes = std::min(cfg.pe_count, v.rows);
  if (P.encoding == "balanced") {
    // Balanced groups run on the table's PEs in use (prune/balanced.h: a divisor of the channel
    // count within the array, the others idle for this layer).
    const int64_t epes = ti.params.value("pes", int64_t{0});
    if (!balanced_pes_valid(v.rows, cfg.pe_count, epes))
      cx.err("balanced encoding made for " + std::to_string(epes) + " PEs, the core maps " +
             std::to_string(v.rows) + " output channels onto at most " + std::to_string(P.pes) +
             " (prune with --pes " + std::to_string(cfg.pe_count) + ")");
    P.pes = epes;
  }
  P.slots = ceil_div(v.rows, P.pes);
  P.cluster = std::min(cfg.cluster_size, P.pes);
  P.clusters = ceil_div(P.pes, P.cluster);
  if (P.slots > cfg.acc_per_pe)
    cx.err(std::to_string(v.rows) + " output channels need " + std::to_string(P.slots) +
           " accumulators per PE on " + std::to_string(P.pes) +
           " PEs; the core has acc_per_pe=" + std::to_string(cfg.acc_per_pe));
  const std::vector<uint8_t>* mask = nullptr;
  auto mit = masks.find(ti.weight);
  if (mit != masks.end()) mask = &mit->second;
  const bool dense = P.encoding == "dense";
  if (P.encoding == "balanced") {
    const auto& pr = ti.params;
    const int64_t ecl = pr.value("cluster", int64_t{0});
    P.lfsr = pr.value("variant", std::string("pattern")) == "lfsr";
    if (!P.lfsr && ecl != P.cluster)
      cx.err("balanced pattern shared by clusters of " + std::to_string(ecl) +
             " PEs, the core's clusters have " + std::to_string(P.cluster) +
             " (prune with --cluster " + std::to_string(cfg.cluster_size) + ")");
  }
  if (P.encoding == "csr") P.csr_index_bits = ti.params.value("index_bits", int64_t{8});
  const int64_t np = P.pes;
  P.group_off.assign(static_cast<size_t>(v.cols * np + 1), 0);
  P.col_work.assign(static_cast<size_t>(v.cols), 0);
  P.group_nz.assign(static_cast<size_t>(v.cols * np), 0);
  P.col_nz.assign(static_cast<size_t>(v.cols), 0);
  P.group_bits.assign(static_cast<size_t>(v.cols), 0);
  P.entries.clear();
  for (int64_t c = 0; c < v.cols; ++c) {
    int64_t work = 0, bits = 0;
    for (int64_t p = 0; p < np; ++p) {
      const size_t g = static_cast<size_t>(c * np + p);
      P.group_off[g] = static_cast<int64_t>(P.entries.size());
      int64_t n = 0, nz = 0, pslots = 0;
      for (int64_t s = 0; s < P.slots; ++s) {
        const int64_t row = p + s * np;
        if (row >= v.rows) break;
        ++pslots;
        const int8_t w = v.w(row, c);
        const bool rec =
            dense || (mask ? (*mask)[static_cast<size_t>(v.init(row, c))] != 0 : w != 0);
        if (!rec) continue;
        P.entries.push_back(Entry{static_cast<int32_t>(s), w});
        ++n;
        nz += w != 0;
      }
      P.group_nz[g] = static_cast<int32_t>(nz);
      work = std::max(work, dense ? P.slots : n);
      // Bits the decoder of this PE's cluster reads from weight memory for this group.
      if (dense)
        bits += pslots * 8;
      else if (P.encoding == "bitmap")
        bits += pslots + n * 8;
      else if (P.encoding == "csr")
        bits += 8 + n * (P.csr_index_bits + 8);
      else
        bits += n * 8;  // balanced: values only
    }
    if (P.encoding == "balanced" && !P.lfsr) bits += P.clusters * P.slots;  // shared patterns
    if (P.encoding == "bitmap" || P.encoding == "csr") bits += 16;          // column pointer
    P.col_work[static_cast<size_t>(c)] = static_cast<int32_t>(work);
    for (int64_t p = 0; p < np; ++p)
      P.col_nz[static_cast<size_t>(c)] += P.group_nz[static_cast<size_t>(c * np + p)];
    P.group_bits[static_cast<size_t>(c)] = bits;
  }
  P.group_off[static_cast<size_t>(v.cols * np)] = static_cast<int64_t>(P.entries.size());
  if (P.lfsr) {
    // The decoders regenerate the kept slots with the table's LFSR (prune/balanced.h): record the
    // state each column starts from and the draws it needs, in lfsr_slot_mask() order.
    P.lfsr_k = std::min(ti.params.value("k", int64_t{0}), P.slots);
    uint16_t x = static_cast<uint16_t>(ti.params.value("seed", int64_t{1}));
    P.col_lfsr_steps.assign(static_cast<size_t>(v.cols), 0);
    P.col_lfsr_state.assign(static_cast<size_t>(v.cols), 0);
    std::vector<int32_t> drawn;
    for (int64_t c = 0; c < v.cols; ++c) {
      P.col_lfsr_state[static_cast<size_t>(c)] = x;
      for (int64_t p = 0; p < np && P.lfsr_k > 0; ++p)
        P.col_lfsr_steps[static_cast<size_t>(c)] += lfsr_group_slots(&x, P.slots, P.lfsr_k, &drawn);
    }
  }
  build_image(P, v.rows);
  int64_t bits = 0;
  for (int64_t b : P.group_bits) bits += b;
  // (Column pointers of bitmap/csr are already in group_bits.)
  P.weight_bytes = ceil_div(bits, 8) + (P.lfsr ? 2 : 0);
}

void check_acc(const Ctx& cx, int64_t bound) {
  const int64_t lim = (int64_t{1} << (cx.cfg.acc_bits - 1)) - 1;
  if (bound > lim)
    cx.err("needs accumulators holding |acc| <= " + std::to_string(bound) +
           ", acc_bits=" + std::to_string(cx.cfg.acc_bits) + " holds " + std::to_string(lim));
}

}  // namespace

int64_t lfsr_group_slots(uint16_t* state, int64_t slots, int64_t k, std::vector<int32_t>* out) {
  out->clear();
  int64_t steps = 0;
  while (static_cast<int64_t>(out->size()) < k) {
    *state = lfsr16_step(*state);
    ++steps;
    const int32_t s = static_cast<int32_t>(*state % slots);
    if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(s);
  }
  return steps;
}

namespace {

// probe: allocate in an unbounded activation memory and return the span the allocation needs up
// to and including layer `upto` (used to state the true shortfall when a layer does not fit).
RamanProgram compile_impl(const QuantizedModel& q, const TableSummary& summary,
                          const MaskMap& masks, const RamanConfig& cfg, const std::string& source,
                          bool probe, size_t upto, int64_t* probe_need);

int64_t activation_need(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                        RamanConfig cfg, const std::string& source, size_t upto) {
  cfg.act_mem_bytes = int64_t{1} << 40;
  int64_t need = 0;
  compile_impl(q, summary, masks, cfg, source, true, upto, &need);
  return need;
}

}  // namespace

RamanProgram compile(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                     const RamanConfig& cfg, const std::string& source) {
  return compile_impl(q, summary, masks, cfg, source, false, 0, nullptr);
}

namespace {
RamanProgram compile_impl(const QuantizedModel& q, const TableSummary& summary,
                          const MaskMap& masks, const RamanConfig& cfg, const std::string& source,
                          bool probe, size_t upto, int64_t* probe_need) {
  RamanProgram prog;
  prog.cfg = cfg;
  prog.source = source;
  prog.input_scale = q.input_scale;
  prog.output_scale = q.output_scale;
  const Graph& g = q.graph;
  prog.output_shape = g.shape(q.output);
  std::map<std::string, ActBuffer> bufs;
  ActBuffer in = buffer_of(g.shape(q.input), source, "input '" + q.input + "'");
  if (in.bytes() > cfg.act_mem_bytes)
    fail(source, "input '" + q.input + "'",
         "needs " + std::to_string(in.bytes()) + " B of activation memory, the core has " +
             std::to_string(cfg.act_mem_bytes) + " B (short by " +
             std::to_string(in.bytes() - cfg.act_mem_bytes) + " B)");
  in.base = cfg.act_mem_bytes - in.bytes();  // the input sits at the top; layers move down
  bufs[q.input] = in;
  prog.input = in;
  int64_t wbase = 0;
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    const Node& n = g.nodes[L.node];
    Ctx cx{q, cfg, source, "layer '" + L.name + "'"};
    LayerProgram P;
    P.qlayer = li;
    P.name = L.name;
    P.op = L.op;
    P.qkind = L.kind;
    P.act_min = L.act_min;
    P.act_max = L.act_max;
    if (L.inputs.size() != 1)
      cx.err(L.op + " with several activation inputs is not supported by the raman core");
    auto bit = bufs.find(L.inputs[0]);
    if (bit == bufs.end())
      cx.err("input '" + L.inputs[0] + "' is not produced by an earlier layer");
    P.in = bit->second;
    const Shape& xs = g.shape(L.inputs[0]);
    const Shape& ys = g.shape(L.output);
    if (!xs.empty() && xs[0] != 1) cx.err("batch size must be 1");
    // The bytes must be laid out as this layer reads them: a view (Flatten/Reshape) only feeds a
    // dense layer, which reads through its flat index; anything else sees [position][channel].
    if (L.kind != QLayer::Kind::Gemm && L.kind != QLayer::Kind::Move) {
      const ActBuffer want = buffer_of(xs, source, cx.place);
      if (want.c != P.in.c || want.h != P.in.h || want.w != P.in.w)
        cx.err("input '" + L.inputs[0] + "' is a view of a " + std::to_string(P.in.c) + "x" +
               std::to_string(P.in.h) + "x" + std::to_string(P.in.w) +
               " tensor, the layer expects " + shape_str(xs) +
               " (the raman core only reshapes before a dense layer)");
    }
    bool depthwise = false;
    const TableLayerInfo* ti = nullptr;
    if (L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
        L.kind == QLayer::Kind::Gemm) {
      ti = info_of(summary, L.name);
      if (!ti) cx.err("no weight section in the table");
      P.encoding = ti->encoding;
      P.enc = P.encoding == "dense"    ? Enc::Dense
              : P.encoding == "bitmap" ? Enc::Bitmap
              : P.encoding == "csr"    ? Enc::Csr
                                       : Enc::Balanced;
      const Encoding* e = find_encoding(ti->encoding);
      if (!e || !e->accepted_by("raman"))
        cx.err("encoding '" + ti->encoding +
               "' is not accepted by the raman core (it decodes balanced, bitmap, csr, dense; "
               "write the table with --target raman)");
      check_acc(cx, L.acc_bound);
    }
    switch (L.kind) {
      case QLayer::Kind::Conv:
      case QLayer::Kind::ConvTranspose: {
        const bool tr = L.kind == QLayer::Kind::ConvTranspose;
        const ConvGeom c = tr ? convtranspose_geometry(g, n, xs, L.weight_shape)
                              : conv_geometry(g, n, xs, L.weight_shape);
        P.kh = c.kh, P.kw = c.kw, P.sh = c.sh, P.sw = c.sw, P.dh = c.dh, P.dw = c.dw;
        P.pt = c.pt, P.pl = c.pl;
        P.transpose = tr;
        P.bias = L.bias;
        P.requant = L.requant;
        const int64_t taps = c.kh * c.kw;
        depthwise = !tr && c.group > 1 && c.group == c.C && c.M == c.C;
        if (c.group > 1 && !depthwise)
          cx.err("grouped convolution with " + std::to_string(c.C / c.group) +
                 " channels per group is not supported by the raman core (standard, depthwise and "
                 "pointwise are)");
        if (depthwise) {
          P.mode = Mode::Lane;
          P.pes = std::min(cfg.pe_count, c.C);
          P.slots = ceil_div(c.C, P.pes);
          if (P.slots > cfg.acc_per_pe)
            cx.err(std::to_string(c.C) + " channels need " + std::to_string(P.slots) +
                   " accumulators per PE lane; the core has acc_per_pe=" +
                   std::to_string(cfg.acc_per_pe));
          P.rows = c.M;
          P.cols = taps;
          const std::vector<uint8_t>* mask = nullptr;
          auto mit = masks.find(ti->weight);
          if (mit != masks.end()) mask = &mit->second;
          P.lane_w = L.weight;
          P.lane_keep.resize(L.weight.size());
          for (size_t k = 0; k < L.weight.size(); ++k)
            P.lane_keep[k] = P.encoding == "dense" ? 1 : mask ? (*mask)[k] : L.weight[k] != 0;
          P.tap_skip.assign(static_cast<size_t>(P.slots * taps), 1);
          P.lane_bits.assign(static_cast<size_t>(P.slots * taps), 0);
          P.lane_kept.assign(static_cast<size_t>(P.slots * taps), 0);
          if (P.encoding == "csr") P.csr_index_bits = ti->params.value("index_bits", int64_t{8});
          int64_t bits = 0;
          for (int64_t t = 0; t < P.slots; ++t)
            for (int64_t k = 0; k < taps; ++k) {
              // One word per (tile, tap): the kept weights of the tile's lanes and the metadata
              // that says which lanes have one (docs/raman.md "Weight memory image").
              const size_t tk = static_cast<size_t>(t * taps + k);
              const int64_t lanes = std::min(c.C, (t + 1) * P.pes) - t * P.pes;
              int64_t kept = 0;
              for (int64_t ch = t * P.pes; ch < t * P.pes + lanes; ++ch)
                kept += P.lane_keep[static_cast<size_t>(ch * taps + k)] != 0;
              int64_t meta = 0;
              if (P.encoding == "bitmap")
                meta = lanes;
              else if (P.encoding == "csr")
                meta = 8 + kept * P.csr_index_bits;
              else if (P.encoding == "balanced")
                meta = ti->params.value("variant", std::string("pattern")) == "lfsr" ? 0 : lanes;
              P.tap_skip[tk] = kept == 0;
              P.lane_kept[tk] = kept;
              P.lane_bits[tk] = kept * 8 + meta;
              bits += P.lane_bits[tk];
              // Image word: dense = every lane's value; otherwise a lane bitmap and the kept
              // values (the csr/balanced metadata is charged as above, decoded the same way).
              P.col_addr.push_back(static_cast<int64_t>(P.image.size()));
              const size_t at0 = P.image.size();
              if (P.encoding != "dense")
                P.image.resize(at0 + static_cast<size_t>(ceil_div(lanes, 8)), 0);
              for (int64_t ch = t * P.pes; ch < t * P.pes + lanes; ++ch) {
                const size_t wi = static_cast<size_t>(ch * taps + k);
                if (P.encoding == "dense") {
                  P.image.push_back(static_cast<uint8_t>(L.weight[wi]));
                } else if (P.lane_keep[wi]) {
                  const int64_t lane = ch - t * P.pes;
                  P.image[at0 + static_cast<size_t>(lane / 8)] |= uint8_t(1u << (lane % 8));
                  P.image.push_back(static_cast<uint8_t>(L.weight[wi]));
                }
              }
            }
          P.weight_bytes = ceil_div(bits, 8);
        } else {
          P.mode = Mode::Broadcast;
          MatrixView v;
          v.rows = c.M;
          v.cols = c.C * taps;
          const std::vector<int8_t>& W = L.weight;
          if (!tr) {
            const int64_t cols = v.cols;
            v.w = [&W, cols](int64_t r, int64_t k) { return W[static_cast<size_t>(r * cols + k)]; };
            v.init = [cols](int64_t r, int64_t k) { return r * cols + k; };
          } else {
            const int64_t M = c.M;
            v.w = [&W, M, taps](int64_t r, int64_t k) {
              return W[static_cast<size_t>(((k / taps) * M + r) * taps + k % taps)];
            };
            v.init = [M, taps](int64_t r, int64_t k) {
              return ((k / taps) * M + r) * taps + k % taps;
            };
          }
          build_groups(cx, P, v, *ti, masks);
        }
        break;
      }
      case QLayer::Kind::Gemm: {
        if (n.op == "Gemm" && n.attr_i("transA", 0)) cx.err("Gemm with transA is not supported");
        P.mode = Mode::Broadcast;
        P.flat_input = true;
        P.bias = L.bias;
        P.requant = L.requant;
        const int64_t N = L.weight_shape[0], K = L.weight_shape[1];
        if (K != P.in.bytes())
          cx.err("reduction " + std::to_string(K) + " does not match the input's " +
                 std::to_string(P.in.bytes()) + " values");
        MatrixView v;
        v.rows = N;
        v.cols = K;
        const std::vector<int8_t>& W = L.weight;
        v.w = [&W, K](int64_t r, int64_t k) { return W[static_cast<size_t>(r * K + k)]; };
        const bool col_major = n.op == "MatMul" || !n.attr_i("transB", 0);
        v.init = [K, N, col_major](int64_t r, int64_t k) {
          return col_major ? k * N + r : r * K + k;
        };
        build_groups(cx, P, v, *ti, masks);
        break;
      }
      case QLayer::Kind::MaxPool:
      case QLayer::Kind::AvgPool: {
        const PoolGeom pg = pool_geometry(g, n, xs);
        P.kh = pg.kh, P.kw = pg.kw, P.sh = pg.sh, P.sw = pg.sw, P.dh = pg.dh, P.dw = pg.dw;
        P.pt = pg.pt, P.pl = pg.pl, P.pool_pb = pg.pb, P.pool_pr = pg.pr;
        P.count_include_pad = n.attr_i("count_include_pad", 0) != 0;
        P.requant = L.requant;
        P.mode = Mode::Lane;
        // Max-pooling keeps an int8 maximum; only the average sums into the accumulator.
        if (L.kind == QLayer::Kind::AvgPool) check_acc(cx, pg.kh * pg.kw * 128);
        break;
      }
      case QLayer::Kind::GlobalAvgPool:
      case QLayer::Kind::GlobalMaxPool: {
        P.kh = P.in.h;
        P.kw = P.in.w;
        P.requant = L.requant;
        P.mode = Mode::Lane;
        if (L.kind == QLayer::Kind::GlobalAvgPool) check_acc(cx, P.in.h * P.in.w * 128);
        break;
      }
      case QLayer::Kind::Clamp:
        P.mode = Mode::Lane;
        break;
      case QLayer::Kind::Move: {
        // Flatten/Reshape to [1, C*H*W] keeps the bytes where they are: the consumer (a Gemm)
        // reads them through its flat view. Anything that reorders codes is not supported.
        if ((n.op != "Flatten" && n.op != "Reshape" && n.op != "Squeeze" && n.op != "Unsqueeze") ||
            numel(ys) != P.in.bytes() || !(ys.size() == 2 || P.in.h * P.in.w == 1))
          cx.err(n.op + " to " + shape_str(ys) + " is not supported by the raman core");
        P.mode = Mode::None;
        P.kind = "move";
        P.out = P.in;
        bufs[L.output] = P.out;
        prog.layers.push_back(std::move(P));
        continue;
      }
      default:
        cx.err(L.op +
               " is not supported by the raman core (it runs conv, depthwise, pointwise, "
               "transposed conv, dense, pooling and ReLU/clip)");
    }
    P.kind = kind_name(L, depthwise);
    if (P.mode == Mode::Lane) {
      P.pes = std::min(cfg.pe_count, P.in.c);
      P.slots = ceil_div(P.in.c, P.pes);
      if (P.slots > cfg.acc_per_pe)
        cx.err(
            std::to_string(P.in.c) + " channels need " + std::to_string(P.slots) +
            " accumulators per PE lane; the core has acc_per_pe=" + std::to_string(cfg.acc_per_pe));
    }
    ActBuffer out = buffer_of(ys, source, cx.place);
    P.out = out;
    // Dense MACs (every weight with every input tap, padding included; a transposed conv counts
    // the taps that land on an input, as its scatter form would).
    if (P.mode == Mode::Broadcast) {
      int64_t taps_total = 0;
      if (P.flat_input) {
        taps_total = P.cols;
      } else {
        for (int64_t oy = 0; oy < out.h; ++oy)
          for (int64_t ox = 0; ox < out.w; ++ox)
            for (int64_t i = 0; i < P.kh; ++i)
              for (int64_t j = 0; j < P.kw; ++j) {
                if (!P.transpose) {
                  ++taps_total;
                  continue;
                }
                const int64_t ty = oy + P.pt - i * P.dh, tx = ox + P.pl - j * P.dw;
                if (ty < 0 || tx < 0 || ty % P.sh || tx % P.sw) continue;
                if (ty / P.sh < P.in.h && tx / P.sw < P.in.w) ++taps_total;
              }
        taps_total *= P.in.c;
      }
      P.macs_dense = taps_total * P.rows;
    } else if (depthwise) {
      P.macs_dense = out.h * out.w * P.in.c * P.kh * P.kw;
    }
    // Weight memory: the image plus bias (4 B), requant (multiplier 4 B + shift 1 B) per output
    // channel and a 16-byte layer descriptor.
    P.weight_bytes +=
        16 + 4 * static_cast<int64_t>(P.bias.size()) + 5 * static_cast<int64_t>(P.requant.size());
    P.weight_base = wbase;
    wbase += P.weight_bytes;
    if (wbase > cfg.weight_mem_bytes)
      cx.err("weights do not fit: layers up to this one need " + std::to_string(wbase) +
             " B of weight memory, the core has " + std::to_string(cfg.weight_mem_bytes) +
             " B (short by " + std::to_string(wbase - cfg.weight_mem_bytes) + " B)");
    // Activation memory: OA overlaps IA in place when the gap allows (see overlap_gap).
    const int64_t ia = P.in.bytes(), oa = out.bytes(), mem = cfg.act_mem_bytes;
    const int64_t g0 = overlap_gap(P);
    int64_t base = -1;
    if (g0 == LLONG_MIN) {
      base = mem - oa;  // everything is read before anything is written
    } else {
      const int64_t c1 = std::min(P.in.base - g0, mem - oa);
      if (c1 >= 0)
        base = c1;
      else if (mem - oa >= P.in.base + ia)
        base = mem - oa;
    }
    if (base < 0) {
      // Successive overlaps move the buffers down; what the whole allocation needs up to this
      // layer is the span it takes in an unbounded memory.
      const int64_t need = activation_need(q, summary, masks, cfg, source, li);
      cx.err("activations do not fit: IA " + std::to_string(ia) + " B and OA " +
             std::to_string(oa) + " B; the in-place allocation up to this layer needs " +
             std::to_string(need) + " B, the core has " + std::to_string(mem) + " B (short by " +
             std::to_string(std::max<int64_t>(need - mem, 1)) + " B)");
    }
    P.out.base = base;
    if (probe) {
      *probe_need = std::max(*probe_need, mem - std::min(base, P.in.base));
      if (li >= upto) return prog;
    }
    bufs[L.output] = P.out;
    prog.layers.push_back(std::move(P));
  }
  prog.weight_bytes = wbase;
  auto oit = bufs.find(q.output);
  if (oit == bufs.end()) fail(source, "output '" + q.output + "'", "not produced by any layer");
  prog.output = oit->second;
  int64_t lowest = prog.input.base;
  for (const LayerProgram& P : prog.layers) {
    if (P.mode == Mode::None) continue;
    lowest = std::min(lowest, P.out.base);
    const int64_t lo = std::min(P.in.base, P.out.base);
    const int64_t hi = std::max(P.in.base + P.in.bytes(), P.out.base + P.out.bytes());
    prog.act_peak = std::max(prog.act_peak, hi - lo);
    prog.act_peak_no_overlap = std::max(prog.act_peak_no_overlap, P.in.bytes() + P.out.bytes());
  }
  prog.act_used = cfg.act_mem_bytes - lowest;
  return prog;
}
}  // namespace

}  // namespace prunesim::raman
