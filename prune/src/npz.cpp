// .npz = a zip archive of .npy members. We read the central directory (so data descriptors and
// zip64-free archives of any writer work), then inflate deflated members with zlib.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/limits.h"
#include "byte_io.h"
#include "prune/errors.h"
#include "prune/npy.h"

namespace prunesim {
namespace {

uint32_t le(const std::string& b, size_t off, size_t n, const std::string& file) {
  if (off + n > b.size()) fail(file, "byte " + std::to_string(off), "truncated zip structure");
  return static_cast<uint32_t>(get_le(b.data() + off, n));
}

std::string inflate_raw(const std::string& in, size_t out_size, const std::string& file,
                        const std::string& member) {
  std::string out(out_size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(file, member, "zlib init failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  if (rc != Z_STREAM_END || z.total_out != out_size) fail(file, member, "corrupt deflate data");
  return out;
}

}  // namespace

std::map<std::string, Tensor> load_npz(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_npz(ss.str(), path);
}

std::map<std::string, Tensor> parse_npz(const std::string& b, const std::string& path) {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  if (b.size() < 22) fail(path, "", "not a zip/.npz archive (too short)");
  size_t eocd = std::string::npos;
  for (size_t k = b.size() - 22 + 1; k-- > 0 && b.size() - k <= 65557;)
    if (le(b, k, 4, path) == 0x06054b50u) {
      eocd = k;
      break;
    }
  if (eocd == std::string::npos)
    fail(path, "", "not a zip/.npz archive (no end of central directory)");
  const uint32_t entries = le(b, eocd + 10, 2, path);
  size_t cd = le(b, eocd + 16, 4, path);
  std::map<std::string, Tensor> out;
  // Over all members: each member's ratio bound alone lets N members take N times as much.
  uint64_t total = 0;
  const uint64_t cap = memory_cap_bytes();
  for (uint32_t e = 0; e < entries; ++e) {
    if (le(b, cd, 4, path) != 0x02014b50u)
      fail(path, "byte " + std::to_string(cd), "bad central directory entry");
    const uint32_t method = le(b, cd + 10, 2, path);
    const uint32_t csize = le(b, cd + 20, 4, path), usize = le(b, cd + 24, 4, path);
    const uint32_t nlen = le(b, cd + 28, 2, path), xlen = le(b, cd + 30, 2, path),
                   clen = le(b, cd + 32, 2, path);
    const uint32_t local = le(b, cd + 42, 4, path);
    if (cd + 46 + nlen > b.size())
      fail(path, "byte " + std::to_string(cd), "truncated member name");
    std::string name = b.substr(cd + 46, nlen);
    if (!valid_utf8(name))
      fail(path, "member '" + utf8_escape(name) + "'", "member name is not valid UTF-8");
    cd += 46 + nlen + xlen + clen;
    if (le(b, local, 4, path) != 0x04034b50u)
      fail(path, "member '" + name + "'", "bad local header");
    const size_t data = local + 30 + le(b, local + 26, 2, path) + le(b, local + 28, 2, path);
    if (data + csize > b.size()) fail(path, "member '" + name + "'", "truncated data");
    // deflate expands at most ~1032:1; a larger claim is a corrupt or hostile header.
    if (method == 8 && usize > 1032ull * csize + 1024)
      fail(path, "member '" + name + "'",
           "declared size " + std::to_string(usize) + " is impossible for " +
               std::to_string(csize) + " compressed bytes");
    // The stored or inflated bytes, then the decoded tensor widened to 8 bytes per element
    // (at most 8x the .npy payload): counted against the memory cap before inflating.
    const uint64_t member_bytes = (method == 0 ? uint64_t{csize} : uint64_t{usize}) * 9;
    if (member_bytes > cap - std::min(cap, total))
      fail(path, "member '" + name + "'",
           "the archive's members decode to more than the memory cap of " + memory_cap_text());
    total += member_bytes;
    std::string raw = b.substr(data, csize);
    std::string npy;
    if (method == 0)
      npy = raw;
    else if (method == 8) {
      npy = inflate_raw(raw, usize, path, "member '" + name + "'");
    } else
      fail(path, "member '" + name + "'",
           "unsupported zip compression method " + std::to_string(method));
    if (method == 0 && usize != csize)
      fail(path, "member '" + name + "'", "stored member with different sizes");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    out[name] = parse_npy(npy, path + ":" + name);
  }
  return out;
}

}  // namespace prunesim
