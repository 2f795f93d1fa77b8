// `rle`: the gaps of pruned positions between kept values, row-major over the whole matrix, one
// r-bit code each; the all-ones code is an escape ("skip 2^r - 1 positions, no value"), so a long
// run costs a few escapes instead of a wide field or stored padding zeros (Deep Compression
// stores a padding zero instead; the escape keeps the value stream free of fillers).
#include "bitstream.h"

namespace prunesim {
namespace {

// Codes needed at width r: one per kept value plus one escape per full 2^r - 1 of gap.
int64_t count_codes(const WeightMatrix& w, int r) {
  const int64_t esc = (int64_t{1} << r) - 1;
  int64_t codes = 0, gap = 0;
  for (uint8_t m : w.mask) {
    if (!m) {
      ++gap;
      continue;
    }
    codes += gap / esc + 1;
    gap = 0;
  }
  return codes;
}

class Rle : public Encoding {
 public:
  uint8_t id() const override { return 3; }
  std::string description() const override {
    return "r-bit zero-run length before each kept value, all-ones code = escape";
  }

  std::vector<ParamSpec> params() const override {
    return {int_param("run_bits", 0, 0, 16, "bits",
                      "zero-run length width; 0 = the width in 1..8 with fewest bits")};
  }

  std::string encode(const WeightMatrix& w, const EncodeContext& c,
                     EncodedLayer* out) const override {
    int r = static_cast<int>(c.params.i("run_bits"));
    if (r == 0) {
      // Fewest bits over widths 1..8; ties go to the narrower width (cheaper decoder).
      int64_t best = -1;
      for (int cand = 1; cand <= 8; ++cand) {
        const int64_t b = count_codes(w, cand) * cand;
        if (best < 0 || b < best) {
          best = b;
          r = cand;
        }
      }
    }
    if (r < 1 || r > 16) return "run width " + std::to_string(r) + " is outside 1..16";
    const int64_t esc = (int64_t{1} << r) - 1;
    enc::BitWriter bw;
    int64_t gap = 0;
    for (uint8_t m : w.mask) {
      if (!m) {
        ++gap;
        continue;
      }
      for (; gap >= esc; gap -= esc) bw.put(static_cast<uint64_t>(esc), r);
      bw.put(static_cast<uint64_t>(gap), r);
      gap = 0;
    }
    enc::put_le(out->params, static_cast<uint64_t>(r), 1);
    enc::put_le(out->params, 0, 3);
    out->values = enc::gather_values(w);
    enc::finish(out, bw);
    return "";
  }

  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const int r = static_cast<int>(enc::get_le(e.params, 0, 1, place));
    if (r < 1 || r > 16)
      throw InputError(place + ": rle run width " + std::to_string(r) + " is outside 1..16");
    if (e.meta_bits % r != 0)
      throw InputError(place + ": rle metadata of " + std::to_string(e.meta_bits) +
                       " bits is not a whole number of " + std::to_string(r) + "-bit codes");
    const int64_t esc = (int64_t{1} << r) - 1, n = w->rows * w->cols;
    w->mask.assign(static_cast<size_t>(n), 0);
    enc::BitReader br(e.meta, e.meta_bits, place);
    int64_t pos = 0;
    bool last_escape = false;
    while (br.left() > 0) {
      const int64_t code = static_cast<int64_t>(br.get(r));
      pos += code;
      last_escape = code == esc;
      if (last_escape) continue;
      if (pos >= n)
        throw InputError(place + ": rle run reaches position " + std::to_string(pos) +
                         " of a layer of " + std::to_string(n) + " weights");
      w->mask[static_cast<size_t>(pos++)] = 1;
    }
    if (last_escape) throw InputError(place + ": rle metadata ends with an escape code");
    enc::scatter_values(e, w, place);
  }

  nlohmann::json describe(const EncodedLayer& e) const override {
    return {{"run_bits", enc::get_le(e.params, 0, 1, "rle")}};
  }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("rle", Rle);
}  // namespace prunesim
