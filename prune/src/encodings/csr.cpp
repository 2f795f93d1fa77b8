// `csr`: compressed sparse rows over output channels — rows+1 row pointers (just wide enough for
// the kept count) and one column index of 4, 8 or 16 bits per kept value. The classic format
// of sparse accelerators: a PE finds its output channel's weights without scanning the others.
#include "bitstream.h"

namespace prunesim {
namespace {

class Csr : public Encoding {
 public:
  uint8_t id() const override { return 2; }
  std::string description() const override {
    return "row pointers per output channel + a 4/8/16-bit column index per kept value";
  }

  std::vector<ParamSpec> params() const override {
    ParamSpec s = int_param("index_bits", 8, 4, 16, "bits", "column index width");
    s.choices = {"4", "8", "16"};
    return {s};
  }

  std::string encode(const WeightMatrix& w, const EncodeContext& c,
                     EncodedLayer* out) const override {
    const int ib = static_cast<int>(c.params.i("index_bits"));
    if (ib != 4 && ib != 8 && ib != 16)
      return "column index width " + std::to_string(ib) + " is not 4, 8 or 16";
    int64_t kept = 0;
    for (uint8_t m : w.mask) kept += m;
    const int pb = enc::bits_for(static_cast<uint64_t>(kept));
    enc::BitWriter bw;
    int64_t ptr = 0;
    bw.put(0, pb);
    for (int64_t r = 0; r < w.rows; ++r) {
      for (int64_t col = 0; col < w.cols; ++col)
        ptr += w.mask[static_cast<size_t>(r * w.cols + col)];
      bw.put(static_cast<uint64_t>(ptr), pb);
    }
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t col = 0; col < w.cols; ++col) {
        if (!w.mask[static_cast<size_t>(r * w.cols + col)]) continue;
        if (col >= (int64_t{1} << ib))
          return "column index " + std::to_string(col) + " (output channel " + std::to_string(r) +
                 ") does not fit in " + std::to_string(ib) + " bits";
        bw.put(static_cast<uint64_t>(col), ib);
      }
    enc::put_le(out->params, static_cast<uint64_t>(ib), 1);
    enc::put_le(out->params, static_cast<uint64_t>(pb), 1);
    enc::put_le(out->params, 0, 2);
    out->values = enc::gather_values(w);
    enc::finish(out, bw);  // stored == kept: gather_values takes every masked value
    return "";
  }

  void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const override {
    const int ib = static_cast<int>(enc::get_le(e.params, 0, 1, place));
    const int pb = static_cast<int>(enc::get_le(e.params, 1, 1, place));
    if (ib != 4 && ib != 8 && ib != 16)
      throw InputError(place + ": csr column index width " + std::to_string(ib) +
                       " is not 4, 8 or 16");
    if (pb < 1 || pb > 63)
      throw InputError(place + ": csr row pointer width " + std::to_string(pb) +
                       " is outside 1..63");
    const int64_t kept = static_cast<int64_t>(e.values.size());
    enc::expect_count(e.meta_bits, (w->rows + 1) * pb + kept * ib, "metadata bit count", place);
    enc::BitReader br(e.meta, e.meta_bits, place);
    std::vector<int64_t> ptr(static_cast<size_t>(w->rows + 1));
    for (auto& p : ptr) p = static_cast<int64_t>(br.get(pb));
    if (ptr[0] != 0 || ptr.back() != kept)
      throw InputError(place + ": csr row pointers run from " + std::to_string(ptr[0]) + " to " +
                       std::to_string(ptr.back()) + ", expected 0 to " + std::to_string(kept));
    w->mask.assign(static_cast<size_t>(w->rows * w->cols), 0);
    for (int64_t r = 0; r < w->rows; ++r) {
      if (ptr[r + 1] < ptr[r])
        throw InputError(place + ": csr row pointer of output channel " + std::to_string(r) +
                         " decreases");
      int64_t prev = -1;
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const int64_t col = static_cast<int64_t>(br.get(ib));
        // Strictly increasing columns: the writer emits them in order, and a repeat would
        // silently lose a value.
        if (col <= prev || col >= w->cols)
          throw InputError(place + ": csr column index " + std::to_string(col) +
                           " of output channel " + std::to_string(r) +
                           " is out of order or >= " + std::to_string(w->cols));
        prev = col;
        w->mask[static_cast<size_t>(r * w->cols + col)] = 1;
      }
    }
    enc::scatter_values(e, w, place);
  }

  nlohmann::json describe(const EncodedLayer& e) const override {
    return {{"index_bits", enc::get_le(e.params, 0, 1, "csr")},
            {"pointer_bits", enc::get_le(e.params, 1, 1, "csr")}};
  }
};

}  // namespace
PRUNESIM_REGISTER_ENCODING("csr", Csr);
}  // namespace prunesim
