// The one CRC-32 of the project's binary formats (.pwt weight tables, .lgn logic networks):
// standard reflected CRC-32 (poly 0xEDB88320, init and final xor 0xFFFFFFFF; zlib/PNG/Ethernet).
// In base/ so that torch-free, prune-free libraries (prune/logic) check their files with it too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace prunesim {

// `crc` continues a running checksum (0 to start).
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

}  // namespace prunesim
