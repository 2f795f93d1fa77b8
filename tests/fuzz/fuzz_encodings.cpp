// Each sparse encoding's decoder on its own: byte 0 picks the encoding (by file id), bytes 1-2
// the matrix size (rows, cols in 1..256), then 4 bytes of the stored-value count (not used: like
// the section reader, the target takes it from the value bytes) and 4 of the metadata bit
// count; the rest is split into params, values and metadata by two length bytes.
// The section reader checks stored == value bytes and meta_bits against metadata bytes before
// a decoder runs, so the target does the same and lets the decoder meet everything else.
#include "byte_io.h"
#include "fuzz_common.h"
#include "prune/tables.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace prunesim;
  if (size < 13) return 0;
  const Encoding* enc = find_encoding(data[0]);
  if (!enc) return 0;
  WeightMatrix w;
  w.rows = data[1] + 1;
  w.cols = data[2] + 1;
  EncodedLayer e;
  const int64_t meta_bits = static_cast<int64_t>(get_le(data + 7, 4));
  const size_t plen = data[11], vlen = data[12];
  const uint8_t* p = data + 13;
  size_t left = size - 13;
  const size_t pl = std::min(plen, left);
  e.params.assign(reinterpret_cast<const char*>(p), pl);
  p += pl;
  left -= pl;
  const size_t vl = std::min(vlen, left);
  e.values.assign(reinterpret_cast<const char*>(p), vl);
  p += vl;
  left -= vl;
  e.meta.assign(reinterpret_cast<const char*>(p), left);
  e.stored = static_cast<int64_t>(e.values.size());
  e.value_bits = 8 * e.stored;
  e.meta_bits = std::min<int64_t>(meta_bits % (8 * static_cast<int64_t>(left) + 1),
                                  8 * static_cast<int64_t>(left));
  if ((e.meta_bits + 7) / 8 != static_cast<int64_t>(e.meta.size())) return 0;
  return fuzz::run([&] {
    enc->decode(e, &w, "fuzz: " + enc->name());
    if (w.values.size() != static_cast<size_t>(w.rows * w.cols) || w.mask.size() != w.values.size())
      __builtin_trap();  // a decoder must fill the whole matrix or throw
    enc->describe(e);
  });
}
