#include "common.h"

#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"

namespace prunesim::cli {

Graph load_model(const std::string& path) {
  return load_onnx(path);
}

Tensor load_data(const std::string& path, const Graph* g) {
  Tensor t = load_npy_as_float(path);
  check_finite(t, path, "data");
  if (g) check_input_shape(*g, t, path);
  return t;
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), r;
  for (size_t k = 0; k < s.size(); ++k) {
    if (k && (s.size() - k) % 3 == 0) r += ',';
    r += s[k];
  }
  return v < 0 ? "-" + r : r;
}

}  // namespace prunesim::cli
