// `dense`: every weight, one int8 byte each, row-major; no metadata. Always applicable, so auto
// selection always has a fallback, and it is what an unpruned layer costs.
#include "bitstream.h"

namespace prunesim {
namespace {

class Dense : public Encoding {
 public:
  uint8_t id() const override { return 0; }
  std::string description() const override { return "all weights, 8 bits each, no metadata"; }
  std::string encode(const WeightMatrix& w, const EncodeContext&,
                     EncodedLayer* out) const override {
    out->values = enc::values_of(w.values);
    out->stored = static_cast<int64_t>(w.values.size());
    out->value_bits = 8 * out->stored;
    return "";
  }
  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const int64_t n = w->rows * w->cols;
    enc::expect_count(static_cast<int64_t>(e.values.size()), n, "value byte count", place);
    enc::expect_count(e.meta_bits, 0, "metadata bit count", place);
    w->values.resize(static_cast<size_t>(n));
    w->mask.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      w->values[static_cast<size_t>(k)] = static_cast<int8_t>(e.values[static_cast<size_t>(k)]);
      // Dense records no positions: report the non-zero weights, as a layer without a mask.
      w->mask[static_cast<size_t>(k)] = w->values[static_cast<size_t>(k)] != 0;
    }
  }
  nlohmann::json describe(const EncodedLayer&) const override { return nlohmann::json::object(); }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("dense", Dense);
}  // namespace prunesim
