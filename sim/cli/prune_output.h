// Writing a pruning result as int8 weight tables: quantize the pruned float graph on the
// calibration set, write the .pwt (per-layer encodings), and add the int8 fidelity and the
// tables' per-layer storage to the report.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/output.h"
#include "prune/pipeline.h"
#include "prune/quant.h"
#include "prune/tables.h"
#include "sim/dse/fidelity.h"

namespace prunesim::cli {

struct TablesCliOpts {
  std::string encoding = "auto";
  std::string target;
  std::vector<std::string> sets;  // --target raman: the core the model is checked against
  // Each encoding parameter's flag (--csr-index-bits), as typed; "" = not given.
  std::map<std::string, std::string> given;
  // The flags come from the encodings' declarations (Encoding::params()).
  void add_to(CLI::App* c);
  // TableOptions from the flags; InputError naming the flag for a bad value or target. Called
  // before any work, so a bad flag costs nothing.
  TableOptions resolve() const;
};

// int8_fidelity and fidelity_headline are the sweep engine's (sim/dse/fidelity.h).
using dse::fidelity_headline;
using dse::int8_fidelity;

// "top-1 97.23 %", "mIoU 84.10 %, pixel accuracy 98.1 %" or "SNDR 16.40 dB, R2 0.9781": a
// fidelity record (int8_fidelity, fidelity()) for the console, with its units.
std::string fidelity_text(const nlohmann::json& f);
// The int8 weight tables of a pruned model as bytes (not written: the caller writes them with its
// other outputs, all or none), their listing added to `report`.
std::string pruned_table_bytes(const Graph& dense, const PruneOutcome& res, const Tensor& calib,
                               const Tensor* data, const Tensor* labels, const TablesCliOpts& o,
                               const std::string& path, nlohmann::json& report);

}  // namespace prunesim::cli
