#include "lgn_samples.h"

#include "common.h"
#include "lgn_cli.h"
#include "prune/errors.h"

namespace prunesim::cli {
LgnSamples load_lgn_samples(const logic::Netlist& net, const std::string& net_path,
                            const std::string& data, const std::string& labels) {
  const Tensor t = load_logic_samples(data);
  const int64_t n = t.shape[0];
  const int64_t features = static_cast<int64_t>(t.f.size()) / n;
  LgnSamples s;
  if (!labels.empty()) s.labels = load_class_ids(labels, n, data);
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
