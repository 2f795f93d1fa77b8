// Compiler from weight tables to the RAMAN layer program: mode and geometry per layer, the
// weight groups each PE streams, weight-memory image sizes, and activation-memory allocation
// with in-place IA/OA overlap (REFERENCE.md §1). docs/raman.md explains every rule here.
#include "models/raman/program.h"

#include <algorithm>
#include <climits>
#include <map>
#include <numeric>
#include <set>

#include "hls/eltwise.h"
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
    case QLayer::Kind::Add:
      return "add";
    case QLayer::Kind::Concat:
      return "concat";
    case QLayer::Kind::Lut:
      return "lut";
    case QLayer::Kind::Mul:
      return "mul";
    case QLayer::Kind::ReduceSum:
      return "reduce_sum";
    case QLayer::Kind::ReduceMax:
      return "reduce_max";
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

// A memory or accumulator too small for the model (the fit check catches it and names every
// size the model needs): key is the parameter, place where the compile ran out ("layer 'x'",
// "input 'x'").
class SizeError : public InputError {
 public:
  SizeError(const std::string& msg, std::string k, std::string l)
      : InputError(msg), key(std::move(k)), place(std::move(l)) {}
  std::string key, place;
};

struct Ctx {
  const QuantizedModel& q;
  const RamanConfig& cfg;
  const std::string& src;
  std::string place;
  std::string layer;
  [[noreturn]] void err(const std::string& what) const { fail(src, place, what); }
  [[noreturn]] void size_err(const std::string& key, const std::string& what) const {
    throw SizeError(src + ": " + place + ": " + what, key, place);
  }
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

// The weight groups of rows [0, v.rows) of a view on `pes` PEs. In a folding pass the view is
// rows [pass_c0, pass_c0 + v.rows) of the layer, its slots are slots slot0.. of the layer's groups
// (full_slots of them), which the balanced LFSR decoder needs to redraw the whole group.
void build_groups(const Ctx& cx, LayerProgram& P, const MatrixView& v, const TableLayerInfo& ti,
                  const MaskMap& masks, int64_t pes, int64_t full_slots, int64_t slot0) {
  const RamanConfig& cfg = cx.cfg;
  P.rows = v.rows;
  P.cols = v.cols;
  P.pes = pes;
  P.slots = ceil_div(v.rows, P.pes);
  P.cluster = std::min(cfg.cluster_size, P.pes);
  P.clusters = ceil_div(P.pes, P.cluster);
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
    P.lfsr_k = std::min(ti.params.value("k", int64_t{0}), full_slots);
    P.lfsr_slots = full_slots;
    P.lfsr_slot0 = slot0;
    uint16_t x = static_cast<uint16_t>(ti.params.value("seed", int64_t{1}));
    P.col_lfsr_steps.assign(static_cast<size_t>(v.cols), 0);
    P.col_lfsr_state.assign(static_cast<size_t>(v.cols), 0);
    std::vector<int32_t> drawn;
    for (int64_t c = 0; c < v.cols; ++c) {
      P.col_lfsr_state[static_cast<size_t>(c)] = x;
      for (int64_t p = 0; p < np && P.lfsr_k > 0; ++p)
        P.col_lfsr_steps[static_cast<size_t>(c)] +=
            lfsr_group_slots(&x, full_slots, P.lfsr_k, &drawn);
    }
  }
  build_image(P, v.rows);
  int64_t bits = 0;
  for (int64_t b : P.group_bits) bits += b;
  // (Column pointers of bitmap/csr are already in group_bits.)
  P.weight_bytes = ceil_div(bits, 8) + (P.lfsr ? 2 : 0);
}

// A broadcast layer: the whole matrix when its rows fit the accumulators (ceil(rows / P') <=
// acc_per_pe), otherwise one folding pass per acc_per_pe slots. With row = p + s*P', slots
// [s0, s0 + acc_per_pe) are the contiguous rows [s0*P', (s0 + acc_per_pe)*P'), so each pass is
// the layer restricted to a row range: its own groups, image, bias and requantization.
void build_broadcast(const Ctx& cx, LayerProgram& P, const MatrixView& v, const TableLayerInfo& ti,
                     const MaskMap& masks) {
  int64_t pes = std::min(cx.cfg.pe_count, v.rows);
  if (P.encoding == "balanced") {
    // Balanced groups run on the table's PEs in use (prune/balanced.h: a divisor of the channel
    // count within the array, the others idle for this layer).
    const int64_t epes = ti.params.value("pes", int64_t{0});
    if (!balanced_pes_valid(v.rows, cx.cfg.pe_count, epes))
      cx.err("balanced encoding made for " + std::to_string(epes) + " PEs, the core maps " +
             std::to_string(v.rows) + " output channels onto at most " + std::to_string(pes) +
             " (prune with --pes " + std::to_string(cx.cfg.pe_count) + ")");
    pes = epes;
  }
  const int64_t S = ceil_div(v.rows, pes);
  const int64_t A = cx.cfg.acc_per_pe;
  if (S <= A) {
    build_groups(cx, P, v, ti, masks, pes, S, 0);
    return;
  }
  for (int64_t s0 = 0; s0 < S; s0 += A) {
    const int64_t r0 = s0 * pes, n = std::min(A * pes, v.rows - r0);
    LayerProgram Q = P;
    Q.passes.clear();  // the passes made so far belong to P
    if (!P.bias.empty()) Q.bias.assign(P.bias.begin() + r0, P.bias.begin() + r0 + n);
    Q.requant.assign(P.requant.begin() + r0, P.requant.begin() + r0 + n);
    MatrixView w;
    w.rows = n;
    w.cols = v.cols;
    w.w = [&v, r0](int64_t r, int64_t k) { return v.w(r + r0, k); };
    w.init = [&v, r0](int64_t r, int64_t k) { return v.init(r + r0, k); };
    build_groups(cx, Q, w, ti, masks, pes, S, s0);
    Q.pass_c0 = r0;
    P.passes.push_back(std::move(Q));
  }
  P.rows = v.rows;
  P.cols = v.cols;
  P.pes = pes;
  P.slots = S;
  P.cluster = P.passes.front().cluster;
  P.clusters = P.passes.front().clusters;
  P.lfsr = P.passes.front().lfsr;
}

void check_acc(const Ctx& cx, int64_t bound, int64_t* widest) {
  *widest = std::max(*widest, bound);
  const int64_t lim = (int64_t{1} << (cx.cfg.acc_bits - 1)) - 1;
  if (bound > lim)
    cx.size_err("acc_bits", "needs accumulators holding |acc| <= " + std::to_string(bound) +
                                ", acc_bits=" + std::to_string(cx.cfg.acc_bits) + " holds " +
                                std::to_string(lim));
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

FitNeeds fit_needs(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                   const RamanConfig& cfg, const std::string& source) {
  // Unbounded sizes first: every refusal that is not about a size comes out here, naming its
  // layer, and the weight and accumulator needs are exact.
  RamanConfig big = cfg;
  big.act_mem_bytes = big.weight_mem_bytes = int64_t{1} << 40;
  big.acc_bits = 32;
  const RamanProgram p = compile_impl(q, summary, masks, big, source, false, 0, nullptr);
  FitNeeds n;
  n.weight_mem_bytes = p.weight_bytes;
  while ((int64_t{1} << (n.acc_bits - 1)) - 1 < p.acc_bound) ++n.acc_bits;
  for (const LayerProgram& L : p.layers)
    if (n.weight_layer.empty() && L.mode != Mode::None &&
        L.weight_base + L.weight_bytes > cfg.weight_mem_bytes)
      n.weight_layer = "layer '" + L.name + "'";
  const int64_t lim = (int64_t{1} << (cfg.acc_bits - 1)) - 1;  // check_acc's rule
  for (const QLayer& L : q.layers)
    if (n.acc_layer.empty() && L.acc_bound > lim) n.acc_layer = "layer '" + L.name + "'";
  if (n.acc_layer.empty() && n.acc_bits > cfg.acc_bits) n.acc_layer = "a pooling layer";
  // Activations: the smallest memory the allocation runs in. Where a layer goes depends on the
  // room left above its input, so this is a search over compiles between nothing and the span
  // in an unbounded memory (which always runs: the same placements, shifted).
  auto runs = [&](int64_t m, std::string* place) {
    RamanConfig c = big;
    c.act_mem_bytes = m;
    try {
      compile_impl(q, summary, masks, c, source, false, 0, nullptr);
      return true;
    } catch (const SizeError& e) {
      if (place) *place = e.place;
      return false;
    }
  };
  int64_t lo = 0, hi = p.act_used;  // hi runs; lo does not (or is 0)
  if (cfg.act_mem_bytes < hi && runs(cfg.act_mem_bytes, nullptr)) hi = cfg.act_mem_bytes;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (runs(mid, nullptr) ? hi : lo) = mid;
  }
  n.act_mem_bytes = hi;
  if (hi > cfg.act_mem_bytes) runs(cfg.act_mem_bytes, &n.act_layer);
  return n;
}

std::string fit_message(const FitNeeds& n, const RamanConfig& cfg, const std::string& source) {
  std::vector<std::string> parts;
  auto need = [&](const char* key, int64_t want, int64_t have, const std::string& what,
                  const std::string& layer, const char* unit) {
    if (want <= have) return;
    parts.push_back(std::string("set ") + key + " >= " + std::to_string(want) + " (" + what +
                    " do not fit from " + layer + ": the core has " + std::to_string(have) + " " +
                    unit + ", short by " + std::to_string(want - have) + " " + unit + ")");
  };
  need("act_mem_bytes", n.act_mem_bytes, cfg.act_mem_bytes, "activations", n.act_layer, "B");
  need("weight_mem_bytes", n.weight_mem_bytes, cfg.weight_mem_bytes, "weights", n.weight_layer,
       "B");
  need("acc_bits", n.acc_bits, cfg.acc_bits, "accumulators", n.acc_layer, "bit");
  std::string m = source + ": does not fit the raman core: ";
  for (size_t i = 0; i < parts.size(); ++i) m += (i ? "; " : "") + parts[i];
  return m;
}

RamanProgram compile(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                     const RamanConfig& cfg, const std::string& source) {
  try {
    return compile_impl(q, summary, masks, cfg, source, false, 0, nullptr);
  } catch (const SizeError&) {
    // Too small somewhere: name every size the model needs at once, in one line.
    const FitNeeds n = fit_needs(q, summary, masks, cfg, source);
    if (!n.fits(cfg)) throw InputError(fit_message(n, cfg, source));
    throw;
  }
}

namespace {

// Concat by placement (docs/raman.md "Concat"): an input that only the Concat reads and whose
// rescale to the output scale is the identity is written by its producer straight into its
// channel range of the Concat's output ("region", allocated when its first producer runs).
struct Placed {
  size_t concat;
  int64_t c0;
};

// One compile walking the layers: its inputs, the program so far and the allocation state.
struct Compile {
  const QuantizedModel& q;
  const TableSummary& summary;
  const MaskMap& masks;
  const RamanConfig& cfg;
  const std::string& source;
  RamanProgram prog;
  std::map<std::string, ActBuffer> bufs;   // every tensor produced so far, where it lives
  std::map<std::string, size_t> last_use;  // tensor -> index of its last reader
  std::map<std::string, Placed> placed;
  std::map<size_t, ActBuffer> regions;  // concat layer -> its output buffer
  // Moves (docs/raman.md "Views and channel copies"): a Move whose readers are all Moves is not
  // materialized: its output is `src` seen through `map` (output element -> src element, NCHW).
  struct Virtual {
    std::string src;
    std::vector<int64_t> map;
  };
  std::map<std::string, Virtual> virt;
  std::map<std::string, std::string> view_src;  // a channel-slice view -> the tensor it views
  std::map<std::string, std::vector<size_t>> readers;  // tensor -> the layers reading it
  int64_t wbase = 0, span_so_far = 0, alloc_low = 0;

  // The tensor a view, or a virtual Move output, reads its bytes from ("" for a tensor of its own).
  std::string source_of(const std::string& v) const {
    std::string s;
    if (auto it = virt.find(v); it != virt.end()) s = it->second.src;
    if (auto it = view_src.find(v); it != view_src.end()) s = it->second;
    while (view_src.count(s)) s = view_src.at(s);
    return s;
  }
  // A tensor read through a view or a Move lives until that reader (and so do the tensors it
  // views).
  void extend_life(std::string v, size_t upto) {
    for (;;) {
      last_use[v] = std::max(last_use[v], upto);
      const auto it = view_src.find(v);
      if (it == view_src.end()) return;
      v = it->second;
    }
  }

  // A layer that takes no cycles (a view of bytes already in place), recorded as is; a virtual
  // Move output has no buffer (output "").
  void push_view(LayerProgram&& P, const std::string& output) {
    if (!output.empty()) bufs[output] = P.out;
    prog.layers.push_back(std::move(P));
    prog.act_span.push_back(span_so_far);
  }
};

// The input at the top of the activation memory (layers move down), and the liveness of every
// tensor: it stays until its last reader (a residual branch or a Concat input outlives the next
// layer); the graph output until the DMA out.
void place_input(Compile& c) {
  const QuantizedModel& q = c.q;
  const RamanConfig& cfg = c.cfg;
  const std::string& source = c.source;
  RamanProgram& prog = c.prog;
  prog.cfg = cfg;
  prog.source = source;
  prog.input_scale = q.input_scale;
  prog.output_scale = q.output_scale;
  prog.output_shape = q.graph.shape(q.output);
  ActBuffer in = buffer_of(q.graph.shape(q.input), source, "input '" + q.input + "'");
  if (in.bytes() > cfg.act_mem_bytes)
    throw SizeError(source + ": input '" + q.input + "': needs " + std::to_string(in.bytes()) +
                        " B of activation memory, the core has " +
                        std::to_string(cfg.act_mem_bytes) + " B (short by " +
                        std::to_string(in.bytes() - cfg.act_mem_bytes) + " B)",
                    "act_mem_bytes", "input '" + q.input + "'");
  in.base = cfg.act_mem_bytes - in.bytes();
  c.bufs[q.input] = in;
  prog.input = in;
  for (size_t li = 0; li < q.layers.size(); ++li)
    for (const std::string& v : q.layers[li].inputs) {
      c.last_use[v] = li;
      c.readers[v].push_back(li);
    }
  c.last_use[q.output] = q.layers.size();
  c.span_so_far = cfg.act_mem_bytes - in.base;
  c.alloc_low = in.base;
}

// The Concat inputs written in place by their producers (see Placed).
void plan_placement(Compile& c) {
  const QuantizedModel& q = c.q;
  const Graph& g = q.graph;
  std::map<std::string, int> readers;
  std::map<std::string, size_t> producer;
  for (size_t li = 0; li < q.layers.size(); ++li) {
    for (const std::string& v : q.layers[li].inputs) ++readers[v];
    producer[q.layers[li].output] = li;
  }
  for (size_t ci = 0; ci < q.layers.size(); ++ci) {
    const QLayer& C = q.layers[ci];
    if (C.kind != QLayer::Kind::Concat) continue;
    const Shape& cs = g.shape(C.output);
    int64_t ax = g.nodes[C.node].attr_i("axis", 0);
    if (ax < 0) ax += static_cast<int64_t>(cs.size());
    if (ax != 1 || cs.size() < 2 || C.requant.size() != C.inputs.size()) continue;
    int64_t c0 = 0;
    for (size_t i = 0; i < C.inputs.size(); ++i) {
      const std::string& v = C.inputs[i];
      bool identity = true;
      for (int x = hls::kInt8Min; x <= hls::kInt8Max && identity; ++x)
        identity = hls::rescale8(static_cast<int8_t>(x), C.requant[i]) == x;
      const auto pr = producer.find(v);
      if (identity && readers[v] == 1 && pr != producer.end() && v != q.output &&
          !c.placed.count(v) && q.layers[pr->second].kind != QLayer::Kind::Move &&
          q.layers[pr->second].kind != QLayer::Kind::Concat &&
          std::count(C.inputs.begin(), C.inputs.end(), v) == 1)
        c.placed[v] = Placed{ci, c0};
      c0 += g.shape(v).size() > 1 ? g.shape(v)[1] : 1;
    }
  }
}

// The layer's identity and first input, after the checks every kind shares.
LayerProgram begin_layer(const Compile& c, const Ctx& cx, size_t li) {
  const QLayer& L = c.q.layers[li];
  LayerProgram P;
  P.qlayer = li;
  P.name = L.name;
  P.op = L.op;
  P.qkind = L.kind;
  P.act_min = L.act_min;
  P.act_max = L.act_max;
  if (L.inputs.empty() || (L.inputs.size() != 1 && L.kind != QLayer::Kind::Add &&
                           L.kind != QLayer::Kind::Mul && L.kind != QLayer::Kind::Concat))
    cx.err(L.op + " with several activation inputs is not supported by the raman core");
  for (const std::string& v : L.inputs)
    if (!c.bufs.count(v) && !c.virt.count(v))
      cx.err("input '" + v + "' is not produced by an earlier layer");
  const auto vt = c.virt.find(L.inputs[0]);  // only a Move reads a virtual tensor
  P.in = c.bufs.at(vt != c.virt.end() ? vt->second.src : L.inputs[0]);
  const Shape& xs = c.q.graph.shape(L.inputs[0]);
  if (!xs.empty() && xs[0] != 1) cx.err("batch size must be 1");
  // The bytes must be laid out as this layer reads them: a view (Flatten/Reshape) only feeds a
  // dense layer, which reads through its flat index; anything else sees [position][channel].
  if (L.kind != QLayer::Kind::Gemm && L.kind != QLayer::Kind::Move) {
    const ActBuffer want = buffer_of(xs, c.source, cx.place);
    if (want.c != P.in.c || want.h != P.in.h || want.w != P.in.w)
      cx.err("input '" + L.inputs[0] + "' is a view of a " + std::to_string(P.in.c) + "x" +
             std::to_string(P.in.h) + "x" + std::to_string(P.in.w) + " tensor, the layer expects " +
             shape_str(xs) + " (the raman core only reshapes before a dense layer)");
  }
  return P;
}

// The encodings the decoders implement (docs/raman.md "Weight memory image"), in the order the
// refusal lists them. Anything else is refused rather than decoded as one of these; the same list
// is what the table writer may use for `--target raman` (decoded_encodings()).
constexpr std::pair<const char*, Enc> kDecoded[] = {
    {"balanced", Enc::Balanced}, {"bitmap", Enc::Bitmap}, {"csr", Enc::Csr}, {"dense", Enc::Dense}};

Enc decoded_encoding(const Ctx& cx, const std::string& name) {
  std::string known;
  for (const auto& [n, e] : kDecoded) {
    if (name == n) return e;
    known += std::string(known.empty() ? "" : ", ") + n;
  }
  cx.err("encoding '" + name + "' is not accepted by the raman core (it decodes " + known +
         "; write the table with --target raman)");
}

}  // namespace

std::vector<std::string> decoded_encodings() {
  std::vector<std::string> r;
  for (const auto& [n, e] : kDecoded) r.push_back(n);
  return r;
}

namespace {

// The weight section of a layer with weights: its encoding, and the accumulator check.
const TableLayerInfo& weight_info(Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  const TableLayerInfo* ti = info_of(c.summary, L.name);
  if (!ti) cx.err("no weight section in the table");
  P.encoding = ti->encoding;
  P.enc = decoded_encoding(cx, ti->encoding);
  check_acc(cx, L.acc_bound, &c.prog.acc_bound);
  return *ti;
}

// Channels [c0, c0 + nc) of a depthwise layer on lanes 0.. of tiles 0.. (the whole layer, or one
// folding pass): its weights, kept flags and image, one word per (tile, tap).
void build_depthwise(LayerProgram& Q, const QLayer& L, const TableLayerInfo& ti,
                     const std::vector<uint8_t>* mask, int64_t taps, int64_t c0, int64_t nc) {
  Q.slots = ceil_div(nc, Q.pes);
  Q.rows = nc;
  Q.cols = taps;
  const size_t w0 = static_cast<size_t>(c0 * taps), wn = static_cast<size_t>(nc * taps);
  Q.lane_w.assign(L.weight.begin() + static_cast<int64_t>(w0),
                  L.weight.begin() + static_cast<int64_t>(w0 + wn));
  Q.lane_keep.resize(wn);
  for (size_t k = 0; k < wn; ++k)
    Q.lane_keep[k] = Q.encoding == "dense" ? 1 : mask ? (*mask)[w0 + k] : L.weight[w0 + k] != 0;
  Q.tap_skip.assign(static_cast<size_t>(Q.slots * taps), 1);
  Q.lane_bits.assign(static_cast<size_t>(Q.slots * taps), 0);
  Q.lane_kept.assign(static_cast<size_t>(Q.slots * taps), 0);
  Q.image.clear();
  Q.col_addr.clear();
  int64_t bits = 0;
  for (int64_t t = 0; t < Q.slots; ++t)
    for (int64_t k = 0; k < taps; ++k) {
      // One word per (tile, tap): the kept weights of the tile's lanes and the metadata that
      // says which lanes have one (docs/raman.md "Weight memory image").
      const size_t tk = static_cast<size_t>(t * taps + k);
      const int64_t lanes = std::min(nc, (t + 1) * Q.pes) - t * Q.pes;
      int64_t kept = 0;
      for (int64_t ch = t * Q.pes; ch < t * Q.pes + lanes; ++ch)
        kept += Q.lane_keep[static_cast<size_t>(ch * taps + k)] != 0;
      int64_t meta = 0;
      if (Q.encoding == "bitmap")
        meta = lanes;
      else if (Q.encoding == "csr")
        meta = 8 + kept * Q.csr_index_bits;
      else if (Q.encoding == "balanced")
        meta = ti.params.value("variant", std::string("pattern")) == "lfsr" ? 0 : lanes;
      Q.tap_skip[tk] = kept == 0;
      Q.lane_kept[tk] = kept;
      Q.lane_bits[tk] = kept * 8 + meta;
      bits += Q.lane_bits[tk];
      // Image word: dense = every lane's value; otherwise a lane bitmap and the kept values
      // (the csr/balanced metadata is charged as above, decoded the same way).
      Q.col_addr.push_back(static_cast<int64_t>(Q.image.size()));
      const size_t at0 = Q.image.size();
      if (Q.encoding != "dense") Q.image.resize(at0 + static_cast<size_t>(ceil_div(lanes, 8)), 0);
      for (int64_t ch = t * Q.pes; ch < t * Q.pes + lanes; ++ch) {
        const size_t wi = static_cast<size_t>(ch * taps + k);
        if (Q.encoding == "dense") {
          Q.image.push_back(static_cast<uint8_t>(Q.lane_w[wi]));
        } else if (Q.lane_keep[wi]) {
          const int64_t lane = ch - t * Q.pes;
          Q.image[at0 + static_cast<size_t>(lane / 8)] |= uint8_t(1u << (lane % 8));
          Q.image.push_back(static_cast<uint8_t>(Q.lane_w[wi]));
        }
      }
    }
  Q.weight_bytes = ceil_div(bits, 8);
}

// Depthwise: lane mode, one channel per PE; folded into passes of acc_per_pe x P' channels.
void compile_depthwise(const Compile& c, const QLayer& L, const ConvGeom& g,
                       const TableLayerInfo& ti, LayerProgram& P) {
  const RamanConfig& cfg = c.cfg;
  const int64_t taps = g.kh * g.kw;
  P.mode = Mode::Lane;
  P.pes = std::min(cfg.pe_count, g.C);
  P.slots = ceil_div(g.C, P.pes);
  const std::vector<uint8_t>* mask = nullptr;
  auto mit = c.masks.find(ti.weight);
  if (mit != c.masks.end()) mask = &mit->second;
  if (P.encoding == "csr") P.csr_index_bits = ti.params.value("index_bits", int64_t{8});
  const int64_t per_pass = cfg.acc_per_pe * P.pes;
  if (P.slots <= cfg.acc_per_pe) {
    build_depthwise(P, L, ti, mask, taps, 0, g.C);
    return;
  }
  for (int64_t c0 = 0; c0 < g.C; c0 += per_pass) {
    const int64_t nc = std::min(per_pass, g.C - c0);
    LayerProgram Q = P;
    Q.passes.clear();  // the passes made so far belong to P
    Q.bias.assign(P.bias.begin() + c0, P.bias.begin() + c0 + nc);
    Q.requant.assign(P.requant.begin() + c0, P.requant.begin() + c0 + nc);
    build_depthwise(Q, L, ti, mask, taps, c0, nc);
    Q.in = P.in.slice(c0, nc);
    Q.pass_c0 = Q.pass_in_c0 = c0;
    P.passes.push_back(std::move(Q));
  }
  P.rows = g.M;
  P.cols = taps;
}

// Conv and ConvTranspose: standard and pointwise broadcast their matrix view [M, C*taps];
// depthwise runs in lanes. Returns whether the layer is depthwise.
bool compile_conv(const Compile& c, const Ctx& cx, const QLayer& L, const TableLayerInfo& ti,
                  LayerProgram& P) {
  const Graph& gr = c.q.graph;
  const Shape& xs = gr.shape(L.inputs[0]);
  const bool tr = L.kind == QLayer::Kind::ConvTranspose;
  const Node& n = gr.nodes[L.node];
  const ConvGeom g = tr ? convtranspose_geometry(gr, n, xs, L.weight_shape)
                        : conv_geometry(gr, n, xs, L.weight_shape);
  P.kh = g.kh, P.kw = g.kw, P.sh = g.sh, P.sw = g.sw, P.dh = g.dh, P.dw = g.dw;
  P.pt = g.pt, P.pl = g.pl;
  P.transpose = tr;
  P.bias = L.bias;
  P.requant = L.requant;
  const int64_t taps = g.kh * g.kw;
  const bool depthwise = !tr && g.group > 1 && g.group == g.C && g.M == g.C;
  if (g.group > 1 && !depthwise)
    cx.err("grouped convolution with " + std::to_string(g.C / g.group) +
           " channels per group is not supported by the raman core (standard, depthwise and "
           "pointwise are)");
  if (depthwise) {
    compile_depthwise(c, L, g, ti, P);
    return true;
  }
  P.mode = Mode::Broadcast;
  MatrixView v;
  v.rows = g.M;
  v.cols = g.C * taps;
  const std::vector<int8_t>& W = L.weight;
  if (!tr) {
    const int64_t cols = v.cols;
    v.w = [&W, cols](int64_t r, int64_t k) { return W[static_cast<size_t>(r * cols + k)]; };
    v.init = [cols](int64_t r, int64_t k) { return r * cols + k; };
  } else {
    const int64_t M = g.M;
    v.w = [&W, M, taps](int64_t r, int64_t k) {
      return W[static_cast<size_t>(((k / taps) * M + r) * taps + k % taps)];
    };
    v.init = [M, taps](int64_t r, int64_t k) { return ((k / taps) * M + r) * taps + k % taps; };
  }
  build_broadcast(cx, P, v, ti, c.masks);
  return false;
}

// Gemm/MatMul: broadcast of [N, K] over the flat input.
void compile_gemm(const Compile& c, const Ctx& cx, const QLayer& L, const TableLayerInfo& ti,
                  LayerProgram& P) {
  const Node& n = c.q.graph.nodes[L.node];
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
  v.init = [K, N, col_major](int64_t r, int64_t k) { return col_major ? k * N + r : r * K + k; };
  build_broadcast(cx, P, v, ti, c.masks);
}

// MaxPool/AvgPool and their global forms: lane mode; max keeps an int8 maximum, only the
// average sums into the accumulator (checked against acc_bits).
void compile_pool(Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  P.requant = L.requant;
  P.mode = Mode::Lane;
  if (L.kind == QLayer::Kind::GlobalAvgPool || L.kind == QLayer::Kind::GlobalMaxPool) {
    P.kh = P.in.h;
    P.kw = P.in.w;
    if (L.kind == QLayer::Kind::GlobalAvgPool)
      check_acc(cx, P.in.h * P.in.w * 128, &c.prog.acc_bound);
    return;
  }
  const Graph& g = c.q.graph;
  const Node& n = g.nodes[L.node];
  const PoolGeom pg = pool_geometry(g, n, g.shape(L.inputs[0]));
  P.kh = pg.kh, P.kw = pg.kw, P.sh = pg.sh, P.sw = pg.sw, P.dh = pg.dh, P.dw = pg.dw;
  P.pt = pg.pt, P.pl = pg.pl, P.pool_pb = pg.pb, P.pool_pr = pg.pr;
  P.count_include_pad = n.attr_i("count_include_pad", 0) != 0;
  if (L.kind == QLayer::Kind::AvgPool) check_acc(cx, pg.kh * pg.kw * 128, &c.prog.acc_bound);
}

// Sigmoid/Tanh/LeakyRelu: lanes pass the codes, the PPU looks each up in the layer's 256-entry
// table (stored with the layer's descriptor in weight memory).
void compile_lut(const Ctx& cx, const QLayer& L, LayerProgram& P) {
  if (L.lut.size() != 256)
    cx.err("look-up table with " + std::to_string(L.lut.size()) + " entries (the PPU's has 256)");
  P.lut = L.lut;
  P.mode = Mode::Lane;
}

// The second operand of an Add or Mul (both held in the accumulators, so acc_per_pe >= 2).
void second_operand(const Compile& c, const Ctx& cx, const QLayer& L, const std::string& v,
                    LayerProgram& P) {
  if (c.cfg.acc_per_pe < 2)
    cx.err(L.op + " holds both operands in the accumulators and needs acc_per_pe >= 2, the core " +
           "has acc_per_pe=" + std::to_string(c.cfg.acc_per_pe));
  P.in2 = c.bufs.at(v);
  const ActBuffer want = buffer_of(c.q.graph.shape(v), c.source, cx.place);
  if (want.c != P.in2.c || want.h != P.in2.h || want.w != P.in2.w)
    cx.err("input '" + v + "' is a view the raman core cannot " +
           (L.kind == QLayer::Kind::Mul ? "multiply" : "add"));
  P.requant = L.requant;
  P.mode = Mode::Lane;
}

// Residual add (docs/raman.md "Residual Add"): lane mode, both operands' words into the
// accumulators, the PPU rescales each onto the common grid, adds and requantizes.
void compile_add(const Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  const Graph& g = c.q.graph;
  const Shape& xs = g.shape(L.inputs[0]);
  const Shape& ys = g.shape(L.output);
  if (L.const_operand >= 0 || L.inputs.size() != 2)
    cx.err("Add with a constant operand is not supported by the raman core");
  const Shape& bs = g.shape(L.inputs[1]);
  if (bs != xs || xs != ys)
    cx.err("Add of " + shape_str(xs) + " and " + shape_str(bs) +
           " (broadcasting) is not supported by the raman core");
  second_operand(c, cx, L, L.inputs[1], P);
}

// Mul of two activations (docs/raman.md "Elementwise Mul"): lane mode like Add, the PPU forms
// the exact product and requantizes it (hls::mul8). The squeeze-excite gate [1, C, 1, 1] over
// [1, C, H, W] (either operand order: the product commutes) is read at position 0 for every
// output position.
void compile_mul(const Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  const Graph& g = c.q.graph;
  if (L.const_operand >= 0 || L.inputs.size() != 2)
    cx.err("Mul by a constant is not supported by the raman core (it multiplies two activations)");
  const Shape& ys = g.shape(L.output);
  const Shape &as = g.shape(L.inputs[0]), &bs = g.shape(L.inputs[1]);
  auto per_channel = [&](const Shape& s) {
    return s.size() == ys.size() && s.size() >= 3 && s[1] == ys[1] && numel(s) == ys[1];
  };
  size_t gate = 1;  // the operand read as in2
  if (as == ys && (bs == ys || per_channel(bs)))
    gate = 1;
  else if (bs == ys && per_channel(as))
    gate = 0;
  else
    cx.err("Mul of " + shape_str(as) + " and " + shape_str(bs) +
           " is not supported by the raman core (same shapes, or [1, C, H, W] by [1, C, 1, 1])");
  P.in = c.bufs.at(L.inputs[1 - gate]);
  const ActBuffer want = buffer_of(ys, c.source, cx.place);
  if (want.c != P.in.c || want.h != P.in.h || want.w != P.in.w)
    cx.err("input '" + L.inputs[1 - gate] + "' is a view the raman core cannot multiply");
  second_operand(c, cx, L, L.inputs[gate], P);
  P.bcast2 = g.shape(L.inputs[gate]) != ys;
}

// ReduceMean/ReduceSum (ReduceMax) over every spatial axis is global average (max) pooling: the
// same plane sum and requant[0] (the same int8 maximum) in lanes, so it runs as one.
void compile_reduce(Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  const Graph& g = c.q.graph;
  const Shape& xs = g.shape(L.inputs[0]);
  const std::vector<bool> red = reduced_axes(c.q, L);
  bool spatial = xs.size() >= 3 && !red[0] && !red[1];
  for (size_t d = 2; d < xs.size(); ++d) spatial = spatial && red[d];
  if (!spatial)
    cx.err(L.op + " over other axes than all spatial ones is not supported by the raman core");
  P.qkind =
      L.kind == QLayer::Kind::ReduceSum ? QLayer::Kind::GlobalAvgPool : QLayer::Kind::GlobalMaxPool;
  P.requant = L.requant;
  P.mode = Mode::Lane;
  P.kh = P.in.h;
  P.kw = P.in.w;
  if (L.kind == QLayer::Kind::ReduceSum) check_acc(cx, P.in.h * P.in.w * 128, &c.prog.acc_bound);
}

// Channel concat: one counted copy pass per input (and per acc_per_pe x P' channels of it) into
// its channel range of the output, rescaled by the PPU (the passes are made by fold_lane).
void compile_concat(const Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P) {
  const Graph& g = c.q.graph;
  const Shape& ys = g.shape(L.output);
  int64_t ax = g.nodes[L.node].attr_i("axis", 0);
  if (ax < 0) ax += static_cast<int64_t>(ys.size());
  if (ax != 1)
    cx.err("Concat along axis " + std::to_string(ax) +
           " is not supported by the raman core (only channels, axis 1)");
  for (const std::string& v : L.inputs) {
    const ActBuffer b = c.bufs.at(v), want = buffer_of(g.shape(v), c.source, cx.place);
    if (want.c != b.c || want.h != b.h || want.w != b.w)
      cx.err("input '" + v + "' is a view the raman core cannot concatenate");
  }
  P.requant = L.requant;
  P.mode = Mode::Lane;
}

// The copy passes of a channel gather (src[c]: the source channel of output channel c): output
// channels in order, a pass holding at most acc_per_pe source tiles of P' channels.
void copy_passes(const Compile& c, const std::vector<int64_t>& src, LayerProgram& P) {
  const int64_t pes = std::min(c.cfg.pe_count, P.in.c);
  P.pes = pes;
  for (size_t o = 0; o < src.size();) {
    LayerProgram Q = P;
    Q.passes.clear();  // the passes made so far belong to P
    Q.pass_c0 = static_cast<int64_t>(o);
    for (; o < src.size(); ++o) {
      const int64_t t = src[o] / pes;
      auto it = std::find(Q.src_tiles.begin(), Q.src_tiles.end(), t);
      if (it == Q.src_tiles.end()) {
        if (static_cast<int64_t>(Q.src_tiles.size()) == c.cfg.acc_per_pe) break;
        it = Q.src_tiles.insert(Q.src_tiles.end(), t);
      }
      Q.gather_pe.push_back(static_cast<int32_t>(src[o] % pes));
      Q.gather_slot.push_back(static_cast<int32_t>(it - Q.src_tiles.begin()));
    }
    Q.slots = static_cast<int64_t>(Q.src_tiles.size());
    Q.rows = static_cast<int64_t>(Q.gather_pe.size());
    P.passes.push_back(std::move(Q));
  }
  P.slots = P.passes.front().slots;
}

// Moves (docs/raman.md "Views and channel copies"): the layer's gather map, composed with its
// input's if that is virtual. Read only by Moves: virtual (no bytes move). Otherwise a view when
// the bytes are already laid out as the readers read them -- the same [position][channel] bytes,
// a contiguous channel range (a Split), or the flat order a dense layer reads -- else a counted
// copy when it gathers channels at the same positions (a channel shuffle). Returns true for a
// copy (a lane layer to compile), false when the layer was recorded as a view.
bool compile_move(Compile& c, const Ctx& cx, const QLayer& L, LayerProgram&& P) {
  const Graph& g = c.q.graph;
  const std::string& op = g.nodes[L.node].op;
  const Shape& ys = g.shape(L.output);
  const std::string& v = L.inputs[0];
  const auto vt = c.virt.find(v);
  const std::string src = vt != c.virt.end() ? vt->second.src : v;
  std::vector<int64_t> from;
  if (vt != c.virt.end()) {
    from = vt->second.map;
  } else {
    from.resize(static_cast<size_t>(numel(g.shape(v))));
    std::iota(from.begin(), from.end(), int64_t{0});
  }
  if (op == "Pad" || op == "Resize" || op == "Upsample")
    cx.err(op +
           " is not supported by the raman core (it moves codes by address: views and "
           "channel copies)");
  std::vector<int64_t> map = move_gather(c.q, L, from);
  const ActBuffer S = c.bufs.at(src);
  P.mode = Mode::None;
  P.kind = "move";
  P.in = S;
  P.out = S;
  const auto rd = c.readers.find(L.output);
  bool resolve = L.output == c.q.output || rd == c.readers.end();
  if (!resolve)
    for (size_t r : rd->second) resolve = resolve || c.q.layers[r].kind != QLayer::Kind::Move;
  const size_t last = c.last_use[L.output];
  if (!resolve) {
    c.extend_life(src, last);
    c.virt[L.output] = Compile::Virtual{src, std::move(map)};
    c.push_view(std::move(P), "");
    return false;
  }
  const std::string what = op + " to " + shape_str(ys);
  if (ys.size() < 2 || ys.size() > 4)
    cx.err(what +
           " is not supported by the raman core (its activations are [1, C], [1, C, W] "
           "or [1, C, H, W])");
  const ActBuffer O = buffer_of(ys, c.source, cx.place);
  // Channel gather at the same positions: output (ch, p) = source (sc[ch], p).
  const int64_t hw = S.h * S.w;
  bool gather = O.h * O.w == hw && static_cast<int64_t>(map.size()) == O.bytes();
  std::vector<int64_t> sc(static_cast<size_t>(O.c));
  for (int64_t ch = 0; ch < O.c && gather; ++ch) {
    const int64_t s0 = map[static_cast<size_t>(ch * hw)];
    gather = s0 >= 0 && s0 % hw == 0 && s0 / hw < S.c;
    sc[static_cast<size_t>(ch)] = s0 / hw;
    for (int64_t p = 0; p < hw && gather; ++p)
      gather = map[static_cast<size_t>(ch * hw + p)] == s0 + p;
  }
  bool contiguous = gather;
  for (int64_t ch = 0; ch < O.c && contiguous; ++ch)
    contiguous = sc[static_cast<size_t>(ch)] == sc[0] + ch;
  bool flat = map.size() == static_cast<size_t>(S.bytes());
  for (size_t k = 0; k < map.size() && flat; ++k) flat = map[k] == static_cast<int64_t>(k);
  ActBuffer view = S;
  if (contiguous) {
    if (sc[0] != 0 || O.c != S.c) view = S.slice(sc[0], O.c);
    view.h = O.h;
    view.w = O.w;
  }
  // The DMA reads the graph output as a tensor of its own, so a strided view of it is copied.
  const bool strided = view.pitch() != view.c;
  if ((contiguous || flat) && !(strided && L.output == c.q.output)) {
    P.out = view;
    if (strided) c.view_src[L.output] = src;
    c.extend_life(src, last);
    c.push_view(std::move(P), L.output);
    return false;
  }
  if (!gather)
    cx.err(what +
           " moves codes across positions, which the raman core does not do (it has "
           "views and channel copies)");
  c.extend_life(src, c.prog.layers.size());
  P.mode = Mode::Lane;
  copy_passes(c, sc, P);
  return true;
}

// The copy passes of a Concat, one per input not written in place (and per acc_per_pe x P'
// channels of it). Returns false when every input was written in place: the Concat is then a
// view of its region, recorded with no cycles.
bool concat_passes(Compile& c, const QLayer& L, size_t li, LayerProgram& P) {
  // The core concatenates activation buffers; a constant input (ViT's class token) has none.
  if (L.const_operand >= 0)
    unsupported(c.source, "layer '" + L.name + "' (Concat)",
                "a constant input has no RAMAN core form (the core concatenates activations)");
  int64_t off = 0;
  for (size_t i = 0; i < L.inputs.size(); ++i) {
    const ActBuffer& xi = c.bufs.at(L.inputs[i]);
    if (c.placed.count(L.inputs[i])) {  // its producer wrote it in place: no copy
      off += xi.c;
      continue;
    }
    const int64_t pes = std::min(c.cfg.pe_count, xi.c), per = c.cfg.acc_per_pe * pes;
    for (int64_t c0 = 0; c0 < xi.c; c0 += per) {
      LayerProgram Q = P;
      Q.passes.clear();  // the passes made so far belong to P
      const int64_t nc = std::min(per, xi.c - c0);
      Q.in = xi.slice(c0, nc);
      Q.pes = pes;
      Q.slots = ceil_div(nc, pes);
      Q.requant = {L.requant.at(i)};
      Q.pass_c0 = off + c0;
      Q.pass_in_c0 = c0;
      Q.pass_input = i;
      P.passes.push_back(std::move(Q));
    }
    off += xi.c;
  }
  if (P.passes.empty()) {
    P.mode = Mode::None;
    P.kind = "concat";
    P.out = c.regions.at(li);
    c.push_view(std::move(P), L.output);
    return false;
  }
  P.pes = P.passes.front().pes;
  return true;
}

// Lane geometry and folding: pooling, clamp, Add and Mul fold like depthwise, channels [c0, c0 +
// tiles*P') per pass, where an Add or Mul holds two operands per channel and so half the tiles.
// Returns false when the layer was recorded as a view (concat_passes).
bool fold_lane(Compile& c, const QLayer& L, size_t li, bool depthwise, LayerProgram& P) {
  const RamanConfig& cfg = c.cfg;
  P.pes = std::min(cfg.pe_count, P.in.c);
  P.slots = ceil_div(P.in.c, P.pes);
  const bool add = P.two_operands();
  const int64_t tiles = add ? cfg.acc_per_pe / 2 : cfg.acc_per_pe;
  const int64_t per_pass = tiles * P.pes;
  if (L.kind == QLayer::Kind::Concat) return concat_passes(c, L, li, P);
  if (L.kind == QLayer::Kind::Move) return true;  // copy passes made by compile_move
  if (depthwise || P.slots <= tiles) return true;
  for (int64_t c0 = 0; c0 < P.in.c; c0 += per_pass) {
    LayerProgram Q = P;
    Q.passes.clear();  // the passes made so far belong to P
    const int64_t nc = std::min(per_pass, P.in.c - c0);
    Q.in = P.in.slice(c0, nc);
    if (add) Q.in2 = P.in2.slice(c0, nc);
    Q.slots = ceil_div(nc, P.pes);
    Q.pass_c0 = Q.pass_in_c0 = c0;
    P.passes.push_back(std::move(Q));
  }
  return true;
}

// Per kind: mode, geometry and weights. Returns false when the layer was recorded as a view.
bool compile_kind(Compile& c, const Ctx& cx, const QLayer& L, LayerProgram& P, bool* depthwise) {
  switch (L.kind) {
    case QLayer::Kind::Conv:
    case QLayer::Kind::ConvTranspose:
      *depthwise = compile_conv(c, cx, L, weight_info(c, cx, L, P), P);
      return true;
    case QLayer::Kind::Gemm:
      compile_gemm(c, cx, L, weight_info(c, cx, L, P), P);
      return true;
    case QLayer::Kind::MaxPool:
    case QLayer::Kind::AvgPool:
    case QLayer::Kind::GlobalAvgPool:
    case QLayer::Kind::GlobalMaxPool:
      compile_pool(c, cx, L, P);
      return true;
    case QLayer::Kind::Clamp:
      P.mode = Mode::Lane;
      return true;
    case QLayer::Kind::Lut:
      compile_lut(cx, L, P);
      return true;
    case QLayer::Kind::Add:
      compile_add(c, cx, L, P);
      return true;
    case QLayer::Kind::Mul:
      compile_mul(c, cx, L, P);
      return true;
    case QLayer::Kind::ReduceSum:
    case QLayer::Kind::ReduceMax:
      compile_reduce(c, cx, L, P);
      return true;
    case QLayer::Kind::Concat:
      compile_concat(c, cx, L, P);
      return true;
    case QLayer::Kind::Move:
      return compile_move(c, cx, L, std::move(P));
    default:
      cx.err(L.op +
             " is not supported by the raman core (it runs conv, depthwise, pointwise, "
             "transposed conv, dense, pooling, ReLU/clip, look-up activations, Add, Mul, "
             "Concat and moves)");
  }
}

// Dense MACs of a broadcast run: every weight with every input tap, padding included; a
// transposed conv counts the taps that land on an input, as its scatter form would.
int64_t broadcast_dense_macs(const LayerProgram& R, const ActBuffer& out) {
  if (R.flat_input) return R.cols * R.rows;
  int64_t taps_total = 0;
  for (int64_t oy = 0; oy < out.h; ++oy)
    for (int64_t ox = 0; ox < out.w; ++ox)
      for (int64_t i = 0; i < R.kh; ++i)
        for (int64_t j = 0; j < R.kw; ++j) {
          if (!R.transpose) {
            ++taps_total;
            continue;
          }
          const int64_t ty = oy + R.pt - i * R.dh, tx = ox + R.pl - j * R.dw;
          if (ty < 0 || tx < 0 || ty % R.sh || tx % R.sw) continue;
          if (ty / R.sh < R.in.h && tx / R.sw < R.in.w) ++taps_total;
        }
  return taps_total * R.in.c * R.rows;
}

// Dense MACs and weight-memory bytes of the layer and of each pass (a folded layer sums them).
void count_layer(LayerProgram& P, const ActBuffer& out, bool depthwise) {
  std::vector<LayerProgram*> runs;
  if (P.passes.empty()) runs.push_back(&P);
  for (LayerProgram& Q : P.passes) runs.push_back(&Q);
  for (LayerProgram* R : runs) {
    if (R->mode == Mode::Broadcast)
      R->macs_dense = broadcast_dense_macs(*R, out);
    else if (depthwise)
      R->macs_dense = out.h * out.w * R->in.c * R->kh * R->kw;
    // Weight memory: the image plus bias (4 B), requant (multiplier 4 B + shift 1 B) per output
    // channel and a 16-byte layer descriptor (one per pass).
    // A channel copy stores one byte per output channel: where the drain reads it.
    R->weight_bytes += 16 + 4 * static_cast<int64_t>(R->bias.size()) +
                       5 * static_cast<int64_t>(R->requant.size()) +
                       static_cast<int64_t>(R->lut.size() + R->gather_pe.size());
  }
  if (P.passes.empty()) return;
  P.macs_dense = 0;
  P.weight_bytes = 0;
  for (const LayerProgram& Q : P.passes) {
    P.macs_dense += Q.macs_dense;
    P.weight_bytes += Q.weight_bytes;
  }
}

void place_weights(Compile& c, const Ctx& cx, LayerProgram& P) {
  P.weight_base = c.wbase;
  c.wbase += P.weight_bytes;
  if (c.wbase > c.cfg.weight_mem_bytes)
    cx.size_err("weight_mem_bytes",
                "weights do not fit: layers up to this one need " + std::to_string(c.wbase) +
                    " B of weight memory, the core has " + std::to_string(c.cfg.weight_mem_bytes) +
                    " B (short by " + std::to_string(c.wbase - c.cfg.weight_mem_bytes) + " B)");
}

// Tensors that stay live past layer li, and li's inputs that die there.
struct Residents {
  std::vector<ActBuffer> live, dying;
};
Residents residents(const Compile& c, const QLayer& L, size_t li) {
  Residents r;
  // A tensor this layer reads through a view or a Move is not overwritten at all (the in-place
  // limit is worked out for a tensor read as itself).
  std::set<std::string> viewed;
  for (const std::string& v : L.inputs) viewed.insert(c.source_of(v));
  for (const auto& [name, b] : c.bufs) {
    if (b.stride > 0) continue;  // a channel view of a region or a tensor, itself in bufs
    const auto lu = c.last_use.find(name);
    const size_t last = lu == c.last_use.end() ? 0 : lu->second;
    const bool input = std::find(L.inputs.begin(), L.inputs.end(), name) != L.inputs.end();
    if (last > li || (last == li && viewed.count(name)))
      r.live.push_back(b);
    else if (input && last == li)
      r.dying.push_back(b);
  }
  return r;
}

// A chain (every zoo model): the input dies here and nothing else is live. -1 if OA fits nowhere.
int64_t chain_base(const LayerProgram& P, int64_t g0, int64_t oa, int64_t mem) {
  if (g0 == LLONG_MIN) return mem - oa;  // everything is read before anything is written
  const int64_t c1 = std::min(P.in.base - g0, mem - oa);
  if (c1 >= 0) return c1;
  if (mem - oa >= P.in.base + P.in.bytes()) return mem - oa;
  return -1;
}

// Residual branches and Concat inputs: OA may not touch a live tensor, and may overlap a dying
// input only at or below its in-place limit (input base - gap). Candidates: in place on a dying
// input first (as in a chain), then the highest free place. -1 if OA fits nowhere.
int64_t free_base(const Residents& r, int64_t g0, int64_t oa, int64_t mem) {
  auto span = [](const ActBuffer& b) { return b.pitch() * b.h * b.w; };
  auto hits = [&](int64_t b0, const ActBuffer& b) {
    return b0 < b.base + span(b) && b.base < b0 + oa;
  };
  auto valid = [&](int64_t b0) {
    if (b0 < 0 || b0 + oa > mem) return false;
    for (const ActBuffer& b : r.live)
      if (hits(b0, b)) return false;
    for (const ActBuffer& b : r.dying)
      if (hits(b0, b) && g0 != LLONG_MIN && b0 > b.base - g0) return false;
    return true;
  };
  std::vector<int64_t> first, rest{mem - oa};
  for (const ActBuffer& b : r.dying)
    first.push_back(g0 == LLONG_MIN ? mem - oa : std::min(b.base - g0, mem - oa));
  for (const std::vector<ActBuffer>* set : {&r.live, &r.dying})
    for (const ActBuffer& b : *set) {
      rest.push_back(b.base - oa);
      rest.push_back(b.base + span(b));
    }
  std::sort(rest.rbegin(), rest.rend());
  int64_t base = -1;
  for (const std::vector<int64_t>* cand : {&first, &rest})
    for (int64_t b0 : *cand)
      if (base < 0 && valid(b0)) base = b0;
  return base;
}

// Activation memory: where layer li's output goes (OA overlaps IA in place when the gap allows,
// see overlap_gap), into P.out and its passes' views. Returns the base it chose.
int64_t allocate_output(Compile& c, const Ctx& cx, size_t li, LayerProgram& P,
                        const ActBuffer& out) {
  const QLayer& L = c.q.layers[li];
  const int64_t ia = P.in.bytes(), mem = c.cfg.act_mem_bytes;
  // Placement into a Concat's region: the first producer allocates the whole region (its output
  // position is pitched, so it may not overlap its input at all); later producers and the Concat
  // itself find it allocated.
  const auto pl = c.placed.find(L.output);
  const size_t region_of = pl != c.placed.end()             ? pl->second.concat
                           : L.kind == QLayer::Kind::Concat ? li
                                                            : SIZE_MAX;
  const bool region_known = region_of != SIZE_MAX && c.regions.count(region_of);
  ActBuffer region;
  if (region_of != SIZE_MAX && !region_known)
    region = buffer_of(c.q.graph.shape(c.q.layers[region_of].output), c.source, cx.place);
  const int64_t oa = region_of != SIZE_MAX && !region_known ? region.bytes() : out.bytes();
  // A folded layer reads its whole input again in every pass (a Concat reads each input once, in
  // pass order), so its output may not overwrite any of it: OA goes entirely below IA (gap = OA
  // size) or above it. An unfolded Add or Mul reads position o of both operands before it writes
  // position o, so its output may start at either operand (gap 0).
  const bool multi = L.inputs.size() > 1;
  const int64_t g0 = !P.passes.empty() || L.kind == QLayer::Kind::Concat || region_of != SIZE_MAX
                         ? oa
                     : P.two_operands() ? 0
                                        : overlap_gap(P);
  Residents r = residents(c, L, li);
  if (P.bcast2) {
    // The squeeze-excite gate is read at every output position: it stays whole until the end.
    auto gate = std::find_if(r.dying.begin(), r.dying.end(),
                             [&](const ActBuffer& b) { return b.base == P.in2.base; });
    if (gate != r.dying.end()) {
      r.live.push_back(*gate);
      r.dying.erase(gate);
    }
  }
  int64_t base = -1;
  if (region_known)
    base = c.regions.at(region_of).base;
  else if (!multi && r.live.empty() && region_of == SIZE_MAX)
    base = chain_base(P, g0, oa, mem);
  else
    base = free_base(r, g0, oa, mem);
  if (base < 0) {
    // Successive overlaps move the buffers down; what the whole allocation needs up to this
    // layer is the span it takes in an unbounded memory.
    const int64_t need = activation_need(c.q, c.summary, c.masks, c.cfg, c.source, li);
    cx.size_err("act_mem_bytes",
                "activations do not fit: IA " + std::to_string(ia) + " B and OA " +
                    std::to_string(oa) + " B; the in-place allocation up to this layer needs " +
                    std::to_string(need) + " B, the core has " + std::to_string(mem) +
                    " B (short by " + std::to_string(std::max<int64_t>(need - mem, 1)) + " B)");
  }
  P.out.base = base;
  if (region_of != SIZE_MAX) {
    if (!region_known) {
      region.base = base;
      c.regions[region_of] = region;
      // Live from now on under the Concat's output name (its readers come after it).
      c.bufs[c.q.layers[region_of].output] = region;
    }
    const ActBuffer& rg = c.regions.at(region_of);
    P.out = pl != c.placed.end() ? rg.slice(pl->second.c0, out.c) : rg;
  }
  c.alloc_low = std::min(c.alloc_low, base);
  for (LayerProgram& Q : P.passes) Q.out = P.out.slice(Q.pass_c0, Q.out.c);
  c.span_so_far = std::max(c.span_so_far, mem - std::min(base, P.in.base));
  return base;
}

// The program's totals: weight bytes, output buffer and the activation peaks.
void finish_program(Compile& c) {
  RamanProgram& prog = c.prog;
  prog.weight_bytes = c.wbase;
  auto oit = c.bufs.find(c.q.output);
  if (oit == c.bufs.end())
    fail(c.source, "output '" + c.q.output + "'", "not produced by any layer");
  prog.output = oit->second;
  int64_t lowest = prog.input.base;
  for (const LayerProgram& P : prog.layers) {
    if (P.mode == Mode::None) continue;
    lowest = std::min(lowest, P.out.base);
    // Every input tensor the layer reads (an Add's two operands, each Concat input: its copy
    // passes read channel views of it) and its output.
    std::map<int64_t, int64_t> ins;  // base -> bytes
    ins[P.in.base] = P.in.bytes();
    if (P.two_operands()) ins[P.in2.base] = P.in2.bytes();
    if (P.qkind == QLayer::Kind::Concat)
      for (const LayerProgram& Q : P.passes)
        ins[Q.in.base - Q.pass_in_c0] = Q.in.pitch() * Q.in.h * Q.in.w;
    int64_t lo = P.out.base, hi = P.out.base + P.out.bytes(), sum = P.out.bytes();
    for (const auto& [b, n] : ins) {
      lo = std::min(lo, b);
      hi = std::max(hi, b + n);
      sum += n;
    }
    prog.act_peak = std::max(prog.act_peak, hi - lo);
    prog.act_peak_no_overlap = std::max(prog.act_peak_no_overlap, sum);
  }
  prog.act_used = c.cfg.act_mem_bytes - std::min(lowest, c.alloc_low);
}

RamanProgram compile_impl(const QuantizedModel& q, const TableSummary& summary,
                          const MaskMap& masks, const RamanConfig& cfg, const std::string& source,
                          bool probe, size_t upto, int64_t* probe_need) {
  Compile c{q, summary, masks, cfg, source, {}, {}, {}, {}, {}, {}, {}, {}};
  place_input(c);
  plan_placement(c);
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    const Ctx cx{q, cfg, source, "layer '" + L.name + "'", L.name};
    LayerProgram P = begin_layer(c, cx, li);
    bool depthwise = false;
    if (!compile_kind(c, cx, L, P, &depthwise)) continue;  // a view, recorded
    P.kind = kind_name(L, depthwise);
    if (P.mode == Mode::Lane && !fold_lane(c, L, li, depthwise, P)) continue;
    const ActBuffer out = buffer_of(q.graph.shape(L.output), source, cx.place);
    P.out = out;
    // Each pass is a complete layer over a channel range of the output (broadcast) or of input
    // and output (lane); its buffers are views, re-pointed once the allocation is known.
    for (LayerProgram& Q : P.passes) {
      Q.kind = P.kind;
      const bool by_rows = Q.mode == Mode::Broadcast || Q.qkind == QLayer::Kind::Move;
      Q.out = out.slice(Q.pass_c0, by_rows ? Q.rows : Q.in.c);
    }
    count_layer(P, out, depthwise);
    place_weights(c, cx, P);
    const int64_t base = allocate_output(c, cx, li, P, out);
    if (probe) {
      *probe_need = std::max(*probe_need, cfg.act_mem_bytes - std::min(base, P.in.base));
      if (li >= upto) return std::move(c.prog);
    }
    c.prog.act_span.push_back(c.span_so_far);
    c.bufs[L.output] = P.out;
    c.prog.layers.push_back(std::move(P));
  }
  finish_program(c);
  return std::move(c.prog);
}
}  // namespace

}  // namespace prunesim::raman
