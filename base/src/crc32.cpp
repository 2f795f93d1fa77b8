// crc32 is zlib's (already linked for .npz): the same reflected CRC-32 the formats specify
// (poly 0xEDB88320, init and final xor 0xFFFFFFFF), so files written by the earlier
// hand-written table read unchanged.
#include "base/crc32.h"

#include <zlib.h>

#include <algorithm>

namespace prunesim {

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const Bytef*>(data);
  // crc32_z takes a z_size_t, but a 32-bit uLong build caps it: feed bounded chunks.
  constexpr size_t kChunk = size_t{1} << 30;
  uLong c = crc;
  while (n > 0) {
    const size_t k = std::min(n, kChunk);
    c = ::crc32_z(c, p, static_cast<z_size_t>(k));
    p += k;
    n -= k;
  }
  return static_cast<uint32_t>(c);
}

}  // namespace prunesim
