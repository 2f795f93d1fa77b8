#include "common.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/tables.h"

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

Tensor load_labels(const std::string& path, const Graph& g, int64_t n) {
  Tensor labels = load_npy_as_float(path);
  check_finite(labels, path, "labels");
  Shape out = g.shape(g.outputs.at(0).name);
  out[0] = n;
  if (labels.shape.size() == 1) {
    if (labels.shape[0] != n)
      fail(path, "shape " + shape_str(labels.shape),
           std::to_string(labels.shape[0]) + " labels for " + std::to_string(n) + " samples");
    if (out.size() != 2)
      fail(path, "labels",
           "class ids need a model with [N, classes] output, not " + shape_str(out));
    for (size_t k = 0; k < labels.f.size(); ++k) {
      const float v = labels.f[k];
      if (v < 0 || v >= static_cast<float>(out[1]) || v != std::floor(v))
        fail(path, "element " + std::to_string(k),
             "value " + std::to_string(v) + " is not a class id in [0, " + std::to_string(out[1]) +
                 ")");
    }
  } else if (labels.shape != out) {
    Shape ids = out;  // per-pixel class ids: the output without its class dimension
    if (out.size() > 2) ids.erase(ids.begin() + 1);
    if (out.size() <= 2 || labels.shape != ids)
      fail(path, "shape " + shape_str(labels.shape),
           "targets must be class ids [N], per-pixel class ids " +
               (out.size() > 2 ? shape_str(ids) + " " : std::string()) +
               "or shaped like the output " + shape_str(out));
    for (size_t k = 0; k < static_cast<size_t>(labels.size()); ++k) {
      const float v = labels.f[k];
      if (v < 0 || v >= static_cast<float>(out[1]) || v != std::floor(v))
        fail(path, "element " + std::to_string(k),
             "value " + std::to_string(v) + " is not a class id in [0, " + std::to_string(out[1]) +
                 ")");
    }
  }
  return labels;
}

void check_writable(const std::string& path, const std::string& flag) {
  if (path.empty()) return;
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
    fail(path, flag, "folder '" + dir.string() + "' does not exist or is not writable");
}

void load_table_and_input(const std::string& tables, const std::string& input, SimInput* in) {
  if (!is_table_file(tables)) throw InputError(tables + ": not a weight table (.pwt)");
  in->tables_path = tables;
  in->model = read_tables(tables, &in->summary, &in->masks);
  in->input_path = input;
  in->input = load_data(input, nullptr);
}

void progress(size_t done, size_t total, const std::string& what) {
  static const bool tty = isatty(STDERR_FILENO);
  if (!tty) return;
  constexpr int kWidth = 20;
  const int fill = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu %s\033[K", std::string(fill, '#').c_str(),
               std::string(kWidth - fill, '.').c_str(), done, total, what.c_str());
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

Tensor run_in_chunks(const Tensor& x, const std::string& what,
                     const std::function<Tensor(const Tensor&)>& f) {
  const int64_t n = x.shape.empty() ? 0 : x.shape[0];
  constexpr int64_t kChunk = 64;
  if (n <= kChunk || !x.is_float()) return f(x);
  const int64_t per = x.size() / n;
  Tensor out;
  for (int64_t a = 0; a < n; a += kChunk) {
    progress(static_cast<size_t>(a), static_cast<size_t>(n), what);
    const int64_t b = std::min(n, a + kChunk);
    Shape s = x.shape;
    s[0] = b - a;
    Tensor part(s, std::vector<float>(x.f.begin() + a * per, x.f.begin() + b * per));
    Tensor y = f(part);
    if (a == 0) {
      out = y;
      out.shape[0] = n;
      out.f.reserve(static_cast<size_t>(y.size() / (b - a) * n));
    } else {
      out.f.insert(out.f.end(), y.f.begin(), y.f.end());
    }
  }
  progress(static_cast<size_t>(n), static_cast<size_t>(n), what);
  return out;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace prunesim::cli
