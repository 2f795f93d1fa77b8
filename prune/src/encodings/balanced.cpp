// `balanced`: the index-free storage of hardware-aware balanced pruning (docs/references.md §1,
// prune/balanced.h). Every group (PE p, column c) keeps exactly k of its `slots` weights, so the
// only metadata is which slots: "pattern" stores one slot bitmap per (column, cluster), shared
// by the cluster's PEs; "lfsr" stores only the 16-bit seed from which the hardware regenerates
// every group's slots. Values go group by group, [column][PE][kept slot], so each PE streams
// its own k values per broadcast activation.
#include "prune/balanced.h"
#include "bitstream.h"

namespace prunesim {
namespace {

enum Variant : uint8_t { kPattern = 0, kLfsr = 1 };

// Parameters block: u8 variant, 3 reserved, u32 pes, u32 cluster, u32 slots, u32 k.
struct Params {
  int variant = kPattern;
  int64_t pes = 1, cluster = 1, slots = 1, k = 0;
};

void put_params(const Params& p, std::string& s) {
  enc::put_le(s, static_cast<uint64_t>(p.variant), 1);
  enc::put_le(s, 0, 3);
  enc::put_le(s, static_cast<uint64_t>(p.pes), 4);
  enc::put_le(s, static_cast<uint64_t>(p.cluster), 4);
  enc::put_le(s, static_cast<uint64_t>(p.slots), 4);
  enc::put_le(s, static_cast<uint64_t>(p.k), 4);
}

Params get_params(const std::string& s, const std::string& place) {
  Params p;
  p.variant = static_cast<int>(enc::get_le(s, 0, 1, place));
  p.pes = static_cast<int64_t>(enc::get_le(s, 4, 4, place));
  p.cluster = static_cast<int64_t>(enc::get_le(s, 8, 4, place));
  p.slots = static_cast<int64_t>(enc::get_le(s, 12, 4, place));
  p.k = static_cast<int64_t>(enc::get_le(s, 16, 4, place));
  return p;
}

bool kept(const WeightMatrix& w, const BalancedGeometry& g, int64_t pe, int64_t slot, int64_t c) {
  return w.mask[static_cast<size_t>(g.row_of(pe, slot) * w.cols + c)] != 0;
}

int64_t get_int(const nlohmann::json& j, const char* key, int64_t dflt, bool* ok) {
  if (!j.contains(key)) return dflt;
  if (!j[key].is_number_integer()) {
    *ok = false;
    return dflt;
  }
  return j[key].get<int64_t>();
}

class Balanced : public Encoding {
 public:
  uint8_t id() const override { return 4; }
  std::string description() const override {
    return "index-free: k kept per (PE, column); slot bitmap per cluster or an LFSR seed";
  }

  std::string encode(const WeightMatrix& w, const EncodeContext& c,
                     EncodedLayer* out) const override {
    if (!c.notes.is_object() || !c.notes.contains("balanced") || !c.notes["balanced"].is_object())
      return "the notes give no balanced geometry for this layer (notes.layers['" + c.layer +
             "'].balanced)";
    const nlohmann::json& j = c.notes["balanced"];
    bool ok = true;
    PeMapping pm;
    pm.pes = get_int(j, "pes", -1, &ok);
    pm.cluster = get_int(j, "cluster", 1, &ok);
    const int64_t k_note = get_int(j, "k", -1, &ok);
    const int64_t seed = get_int(j, "seed", 0, &ok);
    const std::string variant = j.contains("variant") && j["variant"].is_string()
                                    ? j["variant"].get<std::string>()
                                    : "pattern";
    if (!ok || pm.pes < 1) return "the balanced notes need integer 'pes' (>= 1), 'cluster', 'k'";
    if (variant != "pattern" && variant != "lfsr")
      return "balanced variant '" + variant + "' is neither 'pattern' nor 'lfsr'";
    PrunableLayer pl;
    pl.node = c.layer;
    pl.rows = w.rows;
    pl.cols = w.cols;
    BalancedGeometry g;
    try {
      g = balanced_geometry(pl, pm);
    } catch (const InputError& e) {
      return e.what();
    }
    // Every group must keep the same k (the defining property; the notes' k must agree).
    int64_t k = -1;
    for (int64_t col = 0; col < w.cols; ++col)
      for (int64_t p = 0; p < g.pes; ++p) {
        int64_t n = 0;
        for (int64_t s = 0; s < g.slots; ++s) n += kept(w, g, p, s, col);
        if (k < 0) k = n;
        if (n != k)
          return "not balanced: group (PE " + std::to_string(p) + ", column " +
                 std::to_string(col) + ") keeps " + std::to_string(n) +
                 ", group (PE 0, column 0) " + std::to_string(k);
      }
    if (k < 0) k = 0;
    if (k_note >= 0 && k_note != k)
      return "the notes say k = " + std::to_string(k_note) + " but the mask keeps " +
             std::to_string(k) + " per group";
    Params prm;
    prm.variant = variant == "lfsr" ? kLfsr : kPattern;
    prm.pes = g.pes;
    prm.cluster = g.cluster;
    prm.slots = g.slots;
    prm.k = k;
    enc::BitWriter bw;
    if (prm.variant == kPattern) {
      for (int64_t col = 0; col < w.cols; ++col)
        for (int64_t q = 0; q < g.clusters(); ++q) {
          const int64_t p0 = q * g.cluster;
          for (int64_t p = p0 + 1; p < g.cluster_end(q); ++p)
            for (int64_t s = 0; s < g.slots; ++s)
              if (kept(w, g, p, s, col) != kept(w, g, p0, s, col))
                return "pattern variant: PE " + std::to_string(p) + " keeps other slots than PE " +
                       std::to_string(p0) + " of its cluster in column " + std::to_string(col);
          for (int64_t s = 0; s < g.slots; ++s) bw.put(kept(w, g, p0, s, col) ? 1 : 0, 1);
        }
    } else {
      if (seed < 1 || seed > 0xFFFF)
        return "lfsr variant: the notes' seed " + std::to_string(seed) +
               " is not a non-zero 16-bit LFSR seed";
      // The 16-bit LFSR only reaches every slot of groups up to 65535 slots.
      if (g.slots > 0xFFFF) return "lfsr variant: more than 65535 slots per group";
      const auto slot_mask = lfsr_slot_mask(g, k, static_cast<uint16_t>(seed));
      for (int64_t col = 0; col < w.cols; ++col)
        for (int64_t p = 0; p < g.pes; ++p)
          for (int64_t s = 0; s < g.slots; ++s)
            if (kept(w, g, p, s, col) !=
                (slot_mask[static_cast<size_t>((col * g.pes + p) * g.slots + s)] != 0))
              return "lfsr variant: the mask of group (PE " + std::to_string(p) + ", column " +
                     std::to_string(col) + ") is not the one seed " + std::to_string(seed) +
                     " regenerates";
      bw.put(static_cast<uint64_t>(seed), 16);
    }
    put_params(prm, out->params);
    for (int64_t col = 0; col < w.cols; ++col)
      for (int64_t p = 0; p < g.pes; ++p)
        for (int64_t s = 0; s < g.slots; ++s)
          if (kept(w, g, p, s, col))
            out->values.push_back(
                static_cast<char>(w.values[static_cast<size_t>(g.row_of(p, s) * w.cols + col)]));
    enc::finish(out, bw);
    return "";
  }

  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const Params prm = get_params(e.params, place);
    if (prm.variant != kPattern && prm.variant != kLfsr)
      throw InputError(place + ": balanced variant " + std::to_string(prm.variant) +
                       " is not 0 (pattern) or 1 (lfsr)");
    // pes and slots are bounded by rows before their product is formed (no overflow).
    if (prm.pes < 1 || prm.cluster < 1 || prm.cluster > prm.pes || prm.slots < 1 ||
        prm.pes > w->rows || prm.slots > w->rows || prm.pes * prm.slots != w->rows ||
        prm.k > prm.slots)
      throw InputError(place + ": balanced geometry (pes " + std::to_string(prm.pes) +
                       ", cluster " + std::to_string(prm.cluster) + ", slots " +
                       std::to_string(prm.slots) + ", k " + std::to_string(prm.k) +
                       ") does not fit " + std::to_string(w->rows) + " output channels");
    BalancedGeometry g;
    g.pes = prm.pes;
    g.cluster = prm.cluster;
    g.slots = prm.slots;
    g.rows = w->rows;
    g.cols = w->cols;
    // slot_mask in [column][PE][slot] order, as lfsr_slot_mask returns it.
    std::vector<uint8_t> slot_mask;
    if (prm.variant == kPattern) {
      enc::expect_count(e.meta_bits, w->cols * g.clusters() * g.slots, "metadata bit count", place);
      enc::BitReader br(e.meta, e.meta_bits, place);
      slot_mask.resize(static_cast<size_t>(w->cols * g.pes * g.slots));
      for (int64_t col = 0; col < w->cols; ++col)
        for (int64_t q = 0; q < g.clusters(); ++q) {
          int64_t n = 0;
          for (int64_t s = 0; s < g.slots; ++s) {
            const uint8_t b = br.get(1) ? 1 : 0;
            n += b;
            for (int64_t p = q * g.cluster; p < g.cluster_end(q); ++p)
              slot_mask[static_cast<size_t>((col * g.pes + p) * g.slots + s)] = b;
          }
          if (n != prm.k)
            throw InputError(place + ": balanced pattern of column " + std::to_string(col) +
                             ", cluster " + std::to_string(q) + " keeps " + std::to_string(n) +
                             " slots, k is " + std::to_string(prm.k));
        }
    } else {
      enc::expect_count(e.meta_bits, 16, "metadata bit count", place);
      enc::BitReader br(e.meta, e.meta_bits, place);
      const uint16_t seed = static_cast<uint16_t>(br.get(16));
      if (seed == 0) throw InputError(place + ": balanced lfsr seed is 0");
      if (g.slots > 0xFFFF)
        throw InputError(place + ": balanced lfsr groups of more than 65535 slots");
      slot_mask = lfsr_slot_mask(g, prm.k, seed);
    }
    enc::expect_count(static_cast<int64_t>(e.values.size()), w->cols * g.pes * prm.k,
                      "value byte count", place);
    w->mask.assign(static_cast<size_t>(w->rows * w->cols), 0);
    w->values.assign(w->mask.size(), 0);
    size_t v = 0;
    for (int64_t col = 0; col < w->cols; ++col)
      for (int64_t p = 0; p < g.pes; ++p)
        for (int64_t s = 0; s < g.slots; ++s)
          if (slot_mask[static_cast<size_t>((col * g.pes + p) * g.slots + s)]) {
            const size_t at = static_cast<size_t>(g.row_of(p, s) * w->cols + col);
            w->mask[at] = 1;
            w->values[at] = static_cast<int8_t>(e.values[v++]);
          }
  }

  nlohmann::json describe(const EncodedLayer& e) const override {
    const Params p = get_params(e.params, "balanced");
    nlohmann::json j = {{"variant", p.variant == kLfsr ? "lfsr" : "pattern"},
                        {"pes", p.pes},
                        {"cluster", p.cluster},
                        {"slots", p.slots},
                        {"k", p.k}};
    if (p.variant == kLfsr && e.meta.size() >= 2) j["seed"] = enc::get_le(e.meta, 0, 2, "balanced");
    return j;
  }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("balanced", Balanced);
}  // namespace prunesim
