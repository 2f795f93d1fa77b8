#include "sim/dse/fidelity.h"

#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/metrics.h"

namespace prunesim::dse {

nlohmann::json int8_fidelity(const Graph& dense, const QuantizedModel& q, const Tensor& data,
                             const Tensor* labels, const Tensor* dense_out) {
  // The fast executor (bit-exact with run_int8; PRUNESIM_EXECUTOR=reference selects run_int8).
  const Tensor y = run_int8_batch(q, data).output_float;
  nlohmann::json f;
  // Same reference as the float fidelity: the labels, or else the dense float model.
  const Tensor ref = labels ? *labels : dense_out ? *dense_out : run_float_batch(dense, data);
  for (const auto& [k, v] : score(y, ref)) f[k] = v;
  return f;
}

double fidelity_headline(const nlohmann::json& f, std::string* metric) {
  if (f.contains("top1")) {
    if (metric) *metric = "top1_pct";
    return 100.0 * f["top1"].get<double>();
  }
  if (f.contains("miou")) {
    if (metric) *metric = "miou_pct";
    return 100.0 * f["miou"].get<double>();
  }
  if (metric) *metric = "sndr_db";
  return f["sndr_db"].get<double>();
}

}  // namespace prunesim::dse
