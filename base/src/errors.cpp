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

namespace {
// Writes contents to a temporary name next to path and returns that name.
std::string write_temp(const std::string& path, const std::string& contents) {
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
  return tmp;
}
}  // namespace

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> tmps;
  try {
    for (const auto& f : files) tmps.push_back(write_temp(f.first, f.second));
  } catch (...) {
    for (const auto& t : tmps) std::remove(t.c_str());
    throw;
  }
  for (size_t k = 0; k < files.size(); ++k)
    if (std::rename(tmps[k].c_str(), files[k].first.c_str()) != 0) {
      for (size_t j = k; j < tmps.size(); ++j) std::remove(tmps[j].c_str());
      fail(files[k].first, "", "cannot rename temporary file into place");
    }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  const std::string tmp = write_temp(path, contents);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, "", "cannot rename temporary file into place");
  }
}

}  // namespace prunesim
