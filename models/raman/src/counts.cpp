// Everything that walks the fields of LayerCounts, generated from the lists in counts.h so that a
// new statistic cannot be summed but forgotten in the report (or the other way round).
#include "models/raman/counts.h"

namespace prunesim::raman {

void accumulate(LayerCounts& a, const LayerCounts& b) {
#define PRUNESIM_X(f, key, stat, unit, desc) a.f += b.f;
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
#undef PRUNESIM_X
  // Element-wise over the PEs both have (the three vectors always have one length).
  for (size_t i = 0; i < a.busy_per_pe.size() && i < b.busy_per_pe.size(); ++i) {
#define PRUNESIM_X(f, key) a.f[i] += b.f[i];
    PRUNESIM_RAMAN_LAYER_PER_PE(PRUNESIM_X)
#undef PRUNESIM_X
  }
}

nlohmann::json counts_to_json(const LayerCounts& c) {
  nlohmann::json j;
#define PRUNESIM_X(f, key, ...) j[key] = c.f;
  PRUNESIM_RAMAN_LAYER_TEXT(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_PER_PE(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_LAYOUT(PRUNESIM_X)
#undef PRUNESIM_X
  return j;
}

LayerCounts counts_from_json(const nlohmann::json& j) {
  LayerCounts c;
#define PRUNESIM_X(f, key, ...) j.at(key).get_to(c.f);
  PRUNESIM_RAMAN_LAYER_TEXT(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_PER_PE(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_LAYOUT(PRUNESIM_X)
#undef PRUNESIM_X
  return c;
}

void add_count_stats(StatGroup& g, const std::vector<LayerCounts>& layers, double inferences) {
  LayerCounts sum;
  for (const LayerCounts& l : layers) {
#define PRUNESIM_X(f, key, stat, unit, desc) sum.f += l.f;
    PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
#undef PRUNESIM_X
  }
#define PRUNESIM_X(f, key, stat, unit, desc) \
  if (*stat) g.add(stat, static_cast<double>(sum.f) / inferences, unit, desc);
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
#undef PRUNESIM_X
}

}  // namespace prunesim::raman
