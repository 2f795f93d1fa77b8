#include "lgn_cli.h"

#include <cmath>

#include "common.h"
#include "prune/errors.h"
#include "prune/npy.h"

namespace prunesim::cli {

Tensor load_logic_samples(const std::string& data) {
  Tensor x = load_data(data, nullptr);
  if (x.shape.empty() || x.shape[0] < 1)
    fail(data, "shape " + shape_str(x.shape), "no samples (the first dimension is N)");
  return x;
}

std::vector<int64_t> load_class_ids(const std::string& labels, int64_t n, const std::string& data) {
  const Tensor y = load_npy_as_float(labels);
  if (y.shape.empty() || y.size() != y.shape[0])
    fail(labels, "shape " + shape_str(y.shape), "labels must be class ids [N]");
  if (y.shape[0] != n)
    fail(labels, "shape " + shape_str(y.shape),
         std::to_string(y.shape[0]) + " labels for " + std::to_string(n) + " samples of " + data);
  std::vector<int64_t> ids(y.f.size());
  for (size_t k = 0; k < y.f.size(); ++k) {
    const float v = y.f[k];
    // 1e6 bounds a class id far above any real class count and keeps the cast defined.
    if (!std::isfinite(v) || v != std::floor(v) || v < 0 || v > 1e6)
      fail(labels, "element " + std::to_string(k),
           "value " + std::to_string(v) + " is not a class id (a non-negative integer)");
    ids[k] = static_cast<int64_t>(v);
  }
  return ids;
}

train::LogicData load_logic_data(const std::string& data, const std::string& labels) {
  const Tensor x = load_logic_samples(data);
  train::LogicData d;
  d.n = x.shape[0];
  d.features = x.size() / d.n;
  d.x = x.f;
  d.x_source = data;
  d.labels_source = labels;
  d.labels = load_class_ids(labels, d.n, data);
  return d;
}

}  // namespace prunesim::cli
