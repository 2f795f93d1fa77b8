// `prunesim compare --arch A BASE.pwt COMPRESSED.pwt --input x.npy [--labels y.npy] [--set k=v]
// [--mode M] [--report cmp.json] [--json]`: the before/after experiment. Runs both weight tables
// on the same architecture and configuration and prints operations, parameters, inference time,
// speed-up, frames/s, power and (with labels) mIoU side by side, with the published figures of
// the HSI segmentation paper (docs/references.md section 2) beside ours, and a per-stage breakdown
// that shows which part of the time did not shrink with the operations. The engine is
// sim/dse/compare.h; this file declares and checks the flags, loads the input and prints.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/errors.h"
#include "prune/npy.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"
#include "sim/dse/compare.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string arch, base, compressed, input, labels, report, mode, config;
  std::vector<std::string> sets;
  bool json = false;
};

// --labels: class ids (integers in [0, 255]) per pixel, as int64 codes whatever the dtype.
Tensor load_class_ids(const std::string& path) {
  Tensor labels = load_npy(path);
  if (labels.is_float()) {
    labels.i.clear();
    for (size_t k = 0; k < labels.f.size(); ++k) {
      const float v = labels.f[k];
      if (!(v >= 0 && v < 256) || v != std::floor(v))
        throw InputError(path + ": element " + std::to_string(k) + ": not a class id");
      labels.i.push_back(static_cast<int64_t>(v));
    }
  }
  for (size_t k = 0; k < labels.i.size(); ++k)
    if (labels.i[k] < 0 || labels.i[k] > 255)
      throw InputError(path + ": element " + std::to_string(k) + ": not a class id");
  return labels;
}

void run(const Opts& o) {
  const Arch& a = get_arch(o.arch);
  check_writable(o.report, "--report");
  dse::CompareInput in;
  in.arch = o.arch;
  in.base = o.base;
  in.compressed = o.compressed;
  SimInput& proto = in.proto;
  proto.params = resolve_params(o.arch, a.params(), o.config, o.sets);
  const auto modes = a.modes();
  proto.mode = o.mode.empty() ? modes.front() : o.mode;
  if (std::find(modes.begin(), modes.end(), proto.mode) == modes.end())
    throw InputError("--mode " + proto.mode + ": not a mode of " + o.arch);
  proto.input_path = o.input;
  proto.input = load_data(o.input, nullptr);
  proto.quiet = true;
  Tensor labels;
  if (!o.labels.empty()) {
    labels = load_class_ids(o.labels);
    in.labels = &labels;
  }
  const dse::Comparison r = dse::compare(a, in, warn, progress);
  if (!o.report.empty()) write_file_atomic(o.report, json_text(r.out));
  if (o.json) {
    std::cout << json_text(r.out);
    return;
  }
  dse::print_comparison(r, o.report);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("compare",
                               "Before/after: two weight tables on one architecture, side by side");
  c->add_option("--arch", o->arch, "architecture (prunesim config --list)")->required();
  c->add_option("base", o->base, "weight table of the base model (.pwt)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("compressed", o->compressed, "weight table of the compressed model (.pwt)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input,
                "input .npy (fpga-soc: raw mosaic frames [N, H, W] or the network's own input)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids per pixel [N, H, W] for mIoU")
      ->check(CLI::ExistingFile);
  c->add_option("--mode", o->mode, "simulation mode (the arch's first by default)");
  c->add_option("--set", o->sets, "architecture parameter NAME=VALUE (repeatable)");
  c->add_option("--config", o->config, "JSON object of architecture parameters")
      ->check(CLI::ExistingFile);
  c->add_option("--report", o->report, "write the comparison as JSON here");
  c->add_flag("--json", o->json, "print the comparison as JSON");
  c->callback([o] { run(*o); });
}

Registrar reg("compare", setup);

}  // namespace
}  // namespace prunesim::cli
