#include "prune_output.h"

#include <cstdio>

#include "models/raman/program.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/metrics.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "sim/arch.h"
#include "sim/config.h"

namespace prunesim::cli {

std::string fidelity_text(const nlohmann::json& f) {
  char b[128];
  if (f.contains("top1"))
    std::snprintf(b, sizeof b, "top-1 %.2f %%", 100.0 * f["top1"].get<double>());
  else if (f.contains("miou"))
    std::snprintf(b, sizeof b, "mIoU %.2f %%, pixel accuracy %.2f %%",
                  100.0 * f["miou"].get<double>(), 100.0 * f["pixel_accuracy"].get<double>());
  else
    std::snprintf(b, sizeof b, "SNDR %.2f dB, R2 %.4f", f["sndr_db"].get<double>(),
                  f["r2"].get<double>());
  return b;
}

void write_pruned_tables(const Graph& dense, const PruneOutcome& res, const Tensor& calib,
                         const Tensor* data, const Tensor* labels, const TablesCliOpts& o,
                         const std::string& path, nlohmann::json& report) {
  QuantizedModel q = quantize(res.graph, calib);
  if (data) report["fidelity"]["int8"] = int8_fidelity(dense, q, *data, labels);
  TableOptions to;
  to.encoding = o.encoding;
  to.target = o.target;
  to.csr_index_bits = o.csr_index_bits;
  if (o.target == "raman") {
    // The model must fit the core before the table is written: one line naming every --set
    // value that makes it fit, and no file left behind.
    TableSummary ts;
    MaskMap tm;
    const QuantizedModel tq =
        parse_tables(table_bytes(q, res.masks, res.notes, to, path), path, &ts, &tm);
    const Arch& a = get_arch("raman");
    const raman::RamanConfig cfg =
        raman::RamanConfig::from(resolve_params("raman", a.params(), "", o.sets));
    // The message names the model the user pruned, not the table that was not written.
    const std::string& src = dense.source.empty() ? path : dense.source;
    const raman::FitNeeds n = raman::fit_needs(tq, ts, tm, cfg, src);
    if (!n.fits(cfg)) throw InputError(raman::fit_message(n, cfg, src));
  } else if (!o.sets.empty()) {
    throw InputError("--set: only with --target raman (the core the model is checked against)");
  }
  write_tables(q, res.masks, res.notes, to, path);
  TableSummary s;
  read_tables(path, &s);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers)
    layers.push_back({{"name", l.name},
                      {"encoding", l.encoding},
                      {"value_bytes", l.value_bytes},
                      {"meta_bytes", l.meta_bytes}});
  report["tables"] = {{"file", path}, {"file_bytes", s.file_bytes}, {"layers", layers}};
  // The per-layer report rows gain their encoding and storage.
  for (auto& row : report["layers"])
    for (const auto& l : s.layers)
      if (row["name"] == l.name) {
        row["encoding"] = l.encoding;
        row["value_bits"] = 8 * l.value_bytes;
        row["meta_bits"] = 8 * l.meta_bytes;
      }
}

}  // namespace prunesim::cli
