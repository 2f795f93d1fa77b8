// `prunesim compare --arch A BASE.pwt COMPRESSED.pwt --input x.npy [--labels y.npy] [--set k=v]
// [--mode M] [--report cmp.json] [--json]`: the before/after experiment. Runs both weight tables
// on the same architecture and configuration and prints operations, parameters, inference time,
// speed-up, frames/s, power and (with labels) mIoU side by side, with the published figures of
// the HSI segmentation paper (docs/references.md section 2) beside ours, and a per-stage breakdown
// that shows which part of the time did not shrink with the operations.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/errors.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/tables.h"
#include "registry.h"
#include "sim/arch.h"
#include "sim/config.h"

namespace prunesim::cli {
namespace {

using json = nlohmann::json;

struct Opts {
  std::string arch, base, compressed, input, labels, report, mode, config;
  std::vector<std::string> sets;
  bool json = false;
};

// Published figures (docs/references.md section 2, arXiv 2507.16556 abstract).
constexpr double kPaperOpsPct = 24.34, kPaperParamsPct = 1.02, kPaperSpeedup = 2.86;

double num(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::nan("");
}

struct Run {
  json report;
  int64_t params = 0, macs = 0;
  double miou = std::nan("");
};

Run run_one(const Arch& a, const SimInput& proto, const std::string& tables, const Tensor* labels) {
  SimInput in = proto;
  if (!is_table_file(tables)) throw InputError(tables + ": not a weight table (.pwt)");
  in.tables_path = tables;
  in.model = read_tables(tables, &in.summary, &in.masks);
  SimOutput o = a.simulate(in);
  for (const auto& w : o.report.value("warnings", json::array()))
    warn(tables + ": " + w.get<std::string>());
  Run r;
  r.report = o.report;
  // Non-zero parameters: a pruned table stores zeros it does not need to count.
  for (const QLayer& L : in.model.layers) {
    for (int8_t w : L.weight) r.params += w != 0;
    for (int32_t b : L.bias) r.params += b != 0;
  }
  for (const json& l : o.report.value("layers", json::array()))
    r.macs += static_cast<int64_t>(num(l, "macs_executed"));
  if (labels) {
    const Shape& ms = o.output.shape;
    const Shape& ls = labels->shape;
    if (ls.size() != ms.size() || !std::equal(ls.begin() + 1, ls.end(), ms.begin() + 1))
      throw InputError(
          "--labels: shape does not match the masks (one class id per pixel, [N, H, W])");
    // Pixels labelled 0 ("unlabelled", HSI-Drive's convention) are ignored, as in
    // scripts/zoo/hsi_synth.py.
    r.miou = miou(o.output, *labels, 0);
  }
  return r;
}

// A value with the SI prefix that keeps it between 1 and 1000 (186.2 uW, 2.41 mJ), so a tinyML
// core's power does not print as 0.000 W.
std::string si(double v, const char* unit) {
  if (std::isnan(v)) return "-";
  static const std::pair<double, const char*> kP[] = {{1e9, "G"},  {1e6, "M"},  {1e3, "k"},
                                                      {1, ""},     {1e-3, "m"}, {1e-6, "u"},
                                                      {1e-9, "n"}, {1e-12, "p"}};
  const double a = std::fabs(v);
  for (const auto& [f, p] : kP)
    if (a >= f || f == 1e-12) {
      char b[64];
      std::snprintf(b, sizeof b, "%.4g %s%s", v / f, p, unit);
      return b;
    }
  return "-";
}

std::string fmt(double v, const char* f) {
  if (std::isnan(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void run(const Opts& o) {
  const Arch& a = get_arch(o.arch);
  check_writable(o.report, "--report");
  SimInput proto;
  proto.params = resolve_params(o.arch, a.params(), o.config, o.sets);
  const auto modes = a.modes();
  proto.mode = o.mode.empty() ? modes.front() : o.mode;
  if (std::find(modes.begin(), modes.end(), proto.mode) == modes.end())
    throw InputError("--mode " + proto.mode + ": not a mode of " + o.arch);
  proto.input_path = o.input;
  proto.input = load_data(o.input, nullptr);
  proto.quiet = true;
  Tensor labels;
  const Tensor* lp = nullptr;
  if (!o.labels.empty()) {
    labels = load_npy(o.labels);
    if (labels.is_float()) {
      labels.i.clear();
      for (size_t k = 0; k < labels.f.size(); ++k) {
        const float v = labels.f[k];
        if (!(v >= 0 && v < 256) || v != std::floor(v))
          throw InputError(o.labels + ": element " + std::to_string(k) + ": not a class id");
        labels.i.push_back(static_cast<int64_t>(v));
      }
    }
    for (size_t k = 0; k < labels.i.size(); ++k)
      if (labels.i[k] < 0 || labels.i[k] > 255)
        throw InputError(o.labels + ": element " + std::to_string(k) + ": not a class id");
    lp = &labels;
  }
  progress(0, 2, "simulating " + o.base);
  const Run b = run_one(a, proto, o.base, lp);
  progress(1, 2, "simulating " + o.compressed);
  const Run c = run_one(a, proto, o.compressed, lp);
  progress(2, 2, "done");
  const json& B = b.report;
  const json& C = c.report;
  const double ops_pct = 100.0 * static_cast<double>(c.macs) / std::max<int64_t>(1, b.macs);
  const double par_pct = 100.0 * static_cast<double>(c.params) / std::max<int64_t>(1, b.params);
  const double tb = B.contains("inference_s") ? num(B, "inference_s") : num(B, "latency_s");
  const double tc = C.contains("inference_s") ? num(C, "inference_s") : num(C, "latency_s");
  const double speedup = tb / tc;
  // If time = fixed + k * ops, the fixed share of the base time follows from the speed-up and the
  // operations ratio: 1/speedup = f + (1 - f) * ops.
  auto fixed_share = [](double s, double r) { return (1.0 / s - r) / (1.0 - r); };
  const double fixed_ours = fixed_share(speedup, ops_pct / 100.0);
  const double fixed_paper = fixed_share(kPaperSpeedup, kPaperOpsPct / 100.0);

  json out;
  out["arch"] = o.arch;
  out["mode"] = proto.mode;
  out["input"] = o.input;
  out["base"] = {{"tables", o.base},
                 {"macs", b.macs},
                 {"ops", 2 * b.macs},
                 {"params", b.params},
                 {"inference_s", tb},
                 {"throughput_fps", num(B, "throughput_fps")},
                 {"latency_s", num(B, "latency_s")},
                 {"power_w", num(B, "power_w")},
                 {"energy_j", num(B, "energy_j")},
                 {"bit_exact", B.value("bit_exact", false)}};
  out["compressed"] = {{"tables", o.compressed},
                       {"macs", c.macs},
                       {"ops", 2 * c.macs},
                       {"params", c.params},
                       {"inference_s", tc},
                       {"throughput_fps", num(C, "throughput_fps")},
                       {"latency_s", num(C, "latency_s")},
                       {"power_w", num(C, "power_w")},
                       {"energy_j", num(C, "energy_j")},
                       {"bit_exact", C.value("bit_exact", false)}};
  if (lp) {
    out["base"]["miou"] = b.miou;
    out["compressed"]["miou"] = c.miou;
  }
  out["ratios"] = {{"ops_pct", ops_pct},
                   {"params_pct", par_pct},
                   {"speedup", speedup},
                   {"fixed_share_of_base_time", fixed_ours}};
  // The published figures are the HSI paper's (its U-Net on the Kria K26): they belong to the
  // fpga-soc architecture only.
  const bool published = o.arch == "fpga-soc";
  if (published)
    out["published"] = {{"ops_pct", kPaperOpsPct},
                        {"params_pct", kPaperParamsPct},
                        {"speedup", kPaperSpeedup},
                        {"fixed_share_of_base_time", fixed_paper},
                        {"source", "arXiv 2507.16556 (docs/references.md section 2)"}};
  // Per-stage breakdown (architectures that report stages).
  json stages = json::array();
  if (B.contains("stages") && C.contains("stages"))
    for (size_t i = 0; i < B["stages"].size() && i < C["stages"].size(); ++i) {
      const double sb = num(B["stages"][i], "service_s"), sc = num(C["stages"][i], "service_s");
      stages.push_back({{"name", B["stages"][i].value("name", "")},
                        {"base_s", sb},
                        {"compressed_s", sc},
                        {"ratio", sb > 0 ? sc / sb : std::nan("")}});
    }
  for (const char* part : {"launch_s", "overhead_s", "compute_s", "memory_stall_s"})
    if (B.contains("dpu_time") && C.contains("dpu_time")) {
      const double sb = num(B["dpu_time"], part), sc = num(C["dpu_time"], part);
      stages.push_back({{"name", std::string("dpu.") + part},
                        {"base_s", sb},
                        {"compressed_s", sc},
                        {"ratio", sb > 0 ? sc / sb : std::nan("")}});
    }
  out["stages"] = stages;
  if (!o.report.empty()) write_file_atomic(o.report, out.dump(2) + "\n");
  if (o.json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("%s (%s mode), input %s\n", o.arch.c_str(), proto.mode.c_str(), o.input.c_str());
  std::printf("  base:       %s\n  compressed: %s\n\n", o.base.c_str(), o.compressed.c_str());
  std::printf("| %-30s | %14s | %14s | %12s | %18s |\n", "", "base", "compressed", "ours",
              published ? "published" : "");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(32, '-').c_str(), std::string(16, '-').c_str(),
              std::string(16, '-').c_str(), std::string(14, '-').c_str(),
              std::string(20, '-').c_str());
  auto row = [published](const char* name, const std::string& x, const std::string& y,
                         const std::string& r, const std::string& p) {
    std::printf("| %-30s | %14s | %14s | %12s | %18s |\n", name, x.c_str(), y.c_str(), r.c_str(),
                published ? p.c_str() : "");
  };
  row("operations (MOP/frame)", fmt(2e-6 * b.macs, "%.3f"), fmt(2e-6 * c.macs, "%.3f"),
      fmt(ops_pct, "%.2f %%"), fmt(kPaperOpsPct, "%.2f %%"));
  row("non-zero parameters", fmt(b.params, "%.0f"), fmt(c.params, "%.0f"), fmt(par_pct, "%.2f %%"),
      fmt(kPaperParamsPct, "%.2f %%"));
  row("inference time (per frame)", si(tb, "s"), si(tc, "s"), "", "");
  row("inference speed-up", "", "", fmt(speedup, "%.2fx"), fmt(kPaperSpeedup, "%.2fx"));
  row("pipeline throughput (frames/s)", fmt(num(B, "throughput_fps"), "%.1f"),
      fmt(num(C, "throughput_fps"), "%.1f"),
      fmt(num(C, "throughput_fps") / num(B, "throughput_fps"), "%.2fx"), "");
  row("end-to-end latency", si(num(B, "latency_s"), "s"), si(num(C, "latency_s"), "s"),
      fmt(num(C, "latency_s") / num(B, "latency_s"), "%.3fx"), "");
  row("average power", si(num(B, "power_w"), "W"), si(num(C, "power_w"), "W"),
      fmt(num(C, "power_w") / num(B, "power_w"), "%.3fx"), "");
  row("energy per frame", si(num(B, "energy_j"), "J"), si(num(C, "energy_j"), "J"),
      fmt(num(C, "energy_j") / num(B, "energy_j"), "%.3fx"), "");
  if (lp)
    row("mIoU (%)", fmt(100 * b.miou, "%.2f"), fmt(100 * c.miou, "%.2f"),
        fmt(100 * (c.miou - b.miou), "%+.2f pt"), "no noticeable loss");
  row("time not shrinking with ops", "", "", fmt(100 * fixed_ours, "%.1f %%"),
      fmt(100 * fixed_paper, "%.1f %%"));
  if (!stages.empty()) {
    std::printf("\nper stage (time per frame):\n");
    std::printf("| %-34s | %12s | %12s | %8s |\n", "stage", "base (ms)", "compr. (ms)", "ratio");
    std::printf("|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(14, '-').c_str(),
                std::string(14, '-').c_str(), std::string(10, '-').c_str());
    for (const json& s : stages)
      std::printf("| %-34s | %12s | %12s | %8s |\n", s["name"].get<std::string>().c_str(),
                  fmt(num(s, "base_s") * 1e3, "%.4f").c_str(),
                  fmt(num(s, "compressed_s") * 1e3, "%.4f").c_str(),
                  fmt(num(s, "ratio"), "%.3f").c_str());
  }
  auto inexact = [](const json& r) {
    return r.value("reference_checked", true) && !r.value("bit_exact", true);
  };
  if (inexact(B) || inexact(C))
    std::printf("\nwarning: outputs are not bit-exact with the integer reference\n");
  if (!o.report.empty()) std::printf("\nreport -> %s\n", o.report.c_str());
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
