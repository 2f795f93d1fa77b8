#include "lgn_samples.h"

#include "common.h"
#include "prune/errors.h"
#include "prune/npy.h"

namespace prunesim::cli {
namespace {

// Class ids: an integer (or integral float) .npy of exactly n elements, none negative.
std::vector<int64_t> load_class_ids(const std::string& path, int64_t n) {
  const Tensor t = load_npy_as_float(path);
  if (static_cast<int64_t>(t.f.size()) != n)
    fail(path, "shape",
         std::to_string(t.f.size()) + " labels for " + std::to_string(n) + " samples");
  std::vector<int64_t> y(t.f.size());
  for (size_t k = 0; k < y.size(); ++k) {
    if (!(t.f[k] >= 0) || t.f[k] != static_cast<float>(static_cast<int64_t>(t.f[k])))
      fail(path, "element " + std::to_string(k), "not a class id (a non-negative integer)");
    y[k] = static_cast<int64_t>(t.f[k]);
  }
  return y;
}

}  // namespace

LgnSamples load_lgn_samples(const logic::Netlist& net, const std::string& net_path,
                            const std::string& data, const std::string& labels) {
  const Tensor t = load_data(data, nullptr);  // float32, NaN/Inf rejected
  if (t.shape.empty() || t.shape[0] <= 0) fail(data, "shape", "no samples along dimension 0");
  const int64_t n = t.shape[0];
  const int64_t features = static_cast<int64_t>(t.f.size()) / n;
  LgnSamples s;
  if (!labels.empty()) s.labels = load_class_ids(labels, n);
  if (static_cast<size_t>(features) != net.encoder.thresholds.size())
    fail(data, "shape",
         std::to_string(features) + " features per sample, but " + net_path + " encodes " +
             std::to_string(net.encoder.thresholds.size()));
  for (size_t k = 0; k < s.labels.size(); ++k)
    if (s.labels[k] >= net.classes)
      fail(labels, "element " + std::to_string(k),
           "class " + std::to_string(s.labels[k]) + " but the network has " +
               std::to_string(net.classes) + " classes");
  s.n = static_cast<size_t>(n);
  s.bits = logic::encode(net.encoder, t.f.data(), s.n, static_cast<size_t>(features));
  return s;
}

}  // namespace prunesim::cli
