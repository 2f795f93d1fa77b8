// The compare engine behind `prunesim compare` (docs/cli.md): the before/after experiment. Both
// weight tables run on the same architecture and configuration; the result holds operations,
// non-zero parameters, inference time, speed-up, frames/s, power and (with labels) mIoU side by
// side, the HSI segmentation paper's published figures beside ours (fpga-soc only,
// docs/references.md section 2) and a per-stage breakdown of the time.
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/arch.h"
#include "sim/dse/progress.h"

namespace prunesim::dse {

// One table's run.
struct CompareRun {
  nlohmann::json report;         // the architecture's simulate report
  int64_t params = 0, macs = 0;  // non-zero int8 weights and biases; executed MACs per inference
  double miou = std::nan("");    // with labels: mean IoU (a fraction), pixels labelled 0 ignored
};

struct CompareInput {
  std::string arch;                // as the user named it (reports)
  std::string base, compressed;    // weight-table paths
  SimInput proto;                  // params, mode, input and input_path shared by both runs
  const Tensor* labels = nullptr;  // class ids per pixel [N, H, W], or null
};

struct Comparison {
  std::string arch, mode, input, base_tables, compressed_tables;
  CompareRun base, compressed;
  bool labels = false, published = false;  // published: the paper's figures apply (fpga-soc)
  double ops_pct = 0, par_pct = 0;         // compressed / base, in %
  double tb = 0, tc = 0;                   // inference time per frame, s (base, compressed)
  double speedup = 0;                      // tb / tc
  // Share of the base time that does not shrink with the operations (ours, the paper's).
  double fixed_ours = 0, fixed_paper = 0;
  nlohmann::json out;  // the comparison as `--report` / `--json` write it
};

// Runs the base table, then the compressed one (InputError for a file that is not a weight
// table or labels that do not fit the output); the architecture's report warnings go to warn.
CompareRun run_one(const Arch& a, const SimInput& proto, const std::string& tables,
                   const Tensor* labels, const WarnFn& warn);
Comparison compare(const Arch& a, const CompareInput& in, const WarnFn& warn,
                   const ProgressFn& progress);

// The console tables on stdout; report (if not empty) is named as written.
void print_comparison(const Comparison& r, const std::string& report);

}  // namespace prunesim::dse
