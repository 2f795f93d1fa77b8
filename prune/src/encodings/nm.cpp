// `nm`: for layers pruned to "keep N of every M" consecutive weights along the reduction, store
// exactly min(N, group length) values per group and, per stored value, its ceil(log2 M)-bit
// position in the group. A group keeping fewer than N is padded with zero values at its lowest
// free positions, so every group has the same size and a decoder needs no per-group count
// (the layout of 2:4 sparse tensor cores).
#include <algorithm>

#include "bitstream.h"

namespace prunesim {
namespace {

// Parameters block: u32 n, u32 m, u8 position bits, 3 reserved.
class Nm : public Encoding {
 public:
  uint8_t id() const override { return 5; }
  std::string description() const override {
    return "keep N of M: N values + N ceil(log2 M)-bit positions per group of M";
  }

  std::string encode(const WeightMatrix& w, const EncodeContext& c,
                     EncodedLayer* out) const override {
    if (!c.notes.is_object() || !c.notes.contains("nm") || !c.notes["nm"].is_object())
      return "the notes give no N:M geometry for this layer (notes.layers['" + c.layer + "'].nm)";
    const nlohmann::json& j = c.notes["nm"];
    if (!j.contains("n") || !j.contains("m") || !j["n"].is_number_integer() ||
        !j["m"].is_number_integer())
      return "the nm notes need integer 'n' and 'm'";
    const int64_t n = j["n"].get<int64_t>(), m = j["m"].get<int64_t>();
    if (m < 1 || n < 0 || n > m || m > 0xFFFFFFFFll)
      return "keep " + std::to_string(n) + " of " + std::to_string(m) + " is not a valid N:M";
    const int pb = enc::ceil_log2(static_cast<uint64_t>(m));
    enc::BitWriter bw;
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c0 = 0; c0 < w.cols; c0 += m) {
        const int64_t len = std::min(m, w.cols - c0), want = std::min(n, len);
        std::vector<int64_t> pos;
        for (int64_t j2 = 0; j2 < len; ++j2)
          if (w.mask[static_cast<size_t>(r * w.cols + c0 + j2)]) pos.push_back(j2);
        if (static_cast<int64_t>(pos.size()) > want)
          return "not keep " + std::to_string(n) + " of " + std::to_string(m) +
                 ": output channel " + std::to_string(r) + " keeps " + std::to_string(pos.size()) +
                 " in the group at reduction index " + std::to_string(c0);
        for (int64_t j2 = 0; j2 < len && static_cast<int64_t>(pos.size()) < want; ++j2)
          if (!std::count(pos.begin(), pos.end(), j2)) pos.push_back(j2);
        std::sort(pos.begin(), pos.end());
        for (int64_t p : pos) {
          bw.put(static_cast<uint64_t>(p), pb);
          out->values.push_back(
              static_cast<char>(w.mask[static_cast<size_t>(r * w.cols + c0 + p)]
                                    ? w.values[static_cast<size_t>(r * w.cols + c0 + p)]
                                    : 0));
        }
      }
    enc::put_le(out->params, static_cast<uint64_t>(n), 4);
    enc::put_le(out->params, static_cast<uint64_t>(m), 4);
    enc::put_le(out->params, static_cast<uint64_t>(pb), 1);
    enc::put_le(out->params, 0, 3);
    enc::finish(out, bw);
    return "";
  }

  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const int64_t n = static_cast<int64_t>(enc::get_le(e.params, 0, 4, place));
    const int64_t m = static_cast<int64_t>(enc::get_le(e.params, 4, 4, place));
    const int pb = static_cast<int>(enc::get_le(e.params, 8, 1, place));
    if (m < 1 || n > m || pb != enc::ceil_log2(static_cast<uint64_t>(m)))
      throw InputError(place + ": nm parameters n " + std::to_string(n) + ", m " +
                       std::to_string(m) + ", position bits " + std::to_string(pb) +
                       " are inconsistent");
    // Stored entries: min(n, group length) per group.
    int64_t entries = 0;
    for (int64_t c0 = 0; c0 < w->cols; c0 += m) entries += std::min(n, std::min(m, w->cols - c0));
    entries *= w->rows;
    enc::expect_count(static_cast<int64_t>(e.values.size()), entries, "value byte count", place);
    enc::expect_count(e.meta_bits, entries * pb, "metadata bit count", place);
    enc::BitReader br(e.meta, e.meta_bits, place);
    w->mask.assign(static_cast<size_t>(w->rows * w->cols), 0);
    w->values.assign(w->mask.size(), 0);
    size_t v = 0;
    for (int64_t r = 0; r < w->rows; ++r)
      for (int64_t c0 = 0; c0 < w->cols; c0 += m) {
        const int64_t len = std::min(m, w->cols - c0), want = std::min(n, len);
        int64_t prev = -1;
        for (int64_t k = 0; k < want; ++k) {
          const int64_t p = static_cast<int64_t>(br.get(pb));
          if (p <= prev || p >= len)
            throw InputError(place + ": nm position " + std::to_string(p) +
                             " in the group of output channel " + std::to_string(r) +
                             " at reduction index " + std::to_string(c0) +
                             " is out of order or past the group");
          prev = p;
          const size_t at = static_cast<size_t>(r * w->cols + c0 + p);
          w->mask[at] = 1;
          w->values[at] = static_cast<int8_t>(e.values[v++]);
        }
      }
  }

  nlohmann::json describe(const EncodedLayer& e) const override {
    return {{"n", enc::get_le(e.params, 0, 4, "nm")},
            {"m", enc::get_le(e.params, 4, 4, "nm")},
            {"position_bits", enc::get_le(e.params, 8, 1, "nm")}};
  }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("nm", Nm);
}  // namespace prunesim
