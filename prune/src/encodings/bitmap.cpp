// `bitmap`: one presence bit per weight (row-major, LSB-first) plus the kept values. Its cost
// does not depend on where the kept weights are, so it wins at moderate sparsity (below about
// 90% a bit per weight is cheaper than an index per kept weight).
#include "bitstream.h"

namespace prunesim {
namespace {

class Bitmap : public Encoding {
 public:
  uint8_t id() const override { return 1; }
  std::string description() const override { return "1 presence bit per weight + the kept values"; }
  std::string encode(const WeightMatrix& w, const EncodeContext&,
                     EncodedLayer* out) const override {
    enc::BitWriter bw;
    for (uint8_t m : w.mask) bw.put(m ? 1 : 0, 1);
    out->values = enc::gather_values(w);
    enc::finish(out, bw);
    return "";
  }
  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const int64_t n = w->rows * w->cols;
    enc::expect_count(e.meta_bits, n, "metadata bit count", place);
    enc::BitReader br(e.meta, e.meta_bits, place);
    w->mask.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) w->mask[static_cast<size_t>(k)] = br.get(1) ? 1 : 0;
    enc::scatter_values(e, w, place);
  }
  nlohmann::json describe(const EncodedLayer&) const override { return nlohmann::json::object(); }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("bitmap", Bitmap);
}  // namespace prunesim
