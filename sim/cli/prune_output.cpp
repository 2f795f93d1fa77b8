#include "prune_output.h"

#include <cstdio>

#include "base/params.h"
#include "models/raman/program.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/metrics.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "sim/arch.h"

namespace prunesim::cli {

void TablesCliOpts::add_to(CLI::App* c) {
  c->add_option("--encoding", encoding, "force one encoding for every layer (default: auto)");
  std::string targets;
  for (const Arch* a : arch_registry().items())
    if (!a->encodings().empty()) targets += (targets.empty() ? "" : ", ") + a->name();
  c->add_option("--target", target, "only encodings this architecture decodes (" + targets + ")");
  for (const std::string& name : encoding_names())
    for (const ParamSpec& p : find_encoding(name)->params()) {
      const std::string flag = encoding_flag(name, p.name);
      given[flag];
      c->add_option(flag, given[flag],
                    name + ": " + p.meaning + " (" + param_range(p) + ", " + p.unit + ") [" +
                        param_text(p.def) + "]");
    }
  c->add_option("--set", sets,
                "with --target raman: core parameter NAME=VALUE the model must fit (repeatable)");
}

TableOptions TablesCliOpts::resolve() const {
  TableOptions to;
  to.encoding = encoding;
  to.target = target;
  to.accepts = target_encodings(target, "--target");
  for (const std::string& name : encoding_names())
    for (const ParamSpec& p : find_encoding(name)->params()) {
      const std::string flag = encoding_flag(name, p.name);
      const std::string& text = given.at(flag);
      if (!text.empty()) to.encoding_params[name][p.name] = parse_param_value(p, text, flag);
    }
  return to;
}

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

std::string pruned_table_bytes(const Graph& dense, const PruneOutcome& res, const Tensor& calib,
                               const Tensor* data, const Tensor* labels, const TablesCliOpts& o,
                               const std::string& path, nlohmann::json& report) {
  QuantizedModel q = quantize(res.graph, calib);
  if (data) report["fidelity"]["int8"] = int8_fidelity(dense, q, *data, labels);
  const TableOptions to = o.resolve();
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
  std::string bytes = table_bytes(q, res.masks, res.notes, to, path);
  TableSummary s;
  parse_tables(bytes, path, &s);
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
  return bytes;
}

}  // namespace prunesim::cli
