#include "base/errors.h"

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <random>

namespace prunesim {

void fail(const std::string& file, const std::string& place, const std::string& what) {
  std::string m = file;
  if (!place.empty()) m += ": " + place;
  m += ": " + what;
  throw InputError(m);
}

void unsupported(const std::string& file, const std::string& place, const std::string& what) {
  std::string m = file;
  if (!place.empty()) m += ": " + place;
  m += ": " + what;
  throw UnsupportedError(m);
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  // Same folder as the target so rename() is atomic (same filesystem).
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(path, "", "cannot open for writing");
    f.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      fail(path, "", "write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, "", "cannot rename temporary file into place");
  }
}

}  // namespace prunesim
