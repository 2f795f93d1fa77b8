// The compare engine (sim/dse/compare.h): two weight tables on one architecture, the ratios
// between them beside the HSI paper's published figures, and the per-stage breakdown.
#include "sim/dse/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "prune/errors.h"
#include "prune/metrics.h"
#include "prune/tables.h"

namespace prunesim::dse {
namespace {

using json = nlohmann::json;

// Published figures (docs/references.md section 2, arXiv 2507.16556 abstract).
constexpr double kPaperOpsPct = 24.34, kPaperParamsPct = 1.02, kPaperSpeedup = 2.86;

double num(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::nan("");
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

// Per-stage breakdown (architectures that report stages; fpga-soc's DPU time in its parts).
json stage_breakdown(const json& B, const json& C) {
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
  return stages;
}

// One table's side of the comparison (t: its inference time per frame, s).
json side_json(const std::string& tables, const CompareRun& r, double t) {
  const json& R = r.report;
  return {{"tables", tables},
          {"macs", r.macs},
          {"ops", 2 * r.macs},
          {"params", r.params},
          {"inference_s", t},
          {"throughput_fps", num(R, "throughput_fps")},
          {"latency_s", num(R, "latency_s")},
          {"power_w", num(R, "power_w")},
          {"energy_j", num(R, "energy_j")},
          {"bit_exact", R.value("bit_exact", false)}};
}

}  // namespace

CompareRun run_one(const Arch& a, const SimInput& proto, const std::string& tables,
                   const Tensor* labels, const WarnFn& warn) {
  SimInput in = proto;
  if (!is_table_file(tables)) throw InputError(tables + ": not a weight table (.pwt)");
  in.tables_path = tables;
  in.model = read_tables(tables, &in.summary, &in.masks);
  SimOutput o = a.simulate(in);
  for (const auto& w : o.report.value("warnings", json::array()))
    warn(tables + ": " + w.get<std::string>());
  CompareRun r;
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

Comparison compare(const Arch& a, const CompareInput& in, const WarnFn& warn,
                   const ProgressFn& progress) {
  progress(0, 2, "simulating " + in.base);
  const CompareRun b = run_one(a, in.proto, in.base, in.labels, warn);
  progress(1, 2, "simulating " + in.compressed);
  const CompareRun c = run_one(a, in.proto, in.compressed, in.labels, warn);
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

  Comparison r;
  json& out = r.out;
  out["arch"] = in.arch;
  out["mode"] = in.proto.mode;
  out["input"] = in.proto.input_path;
  out["base"] = side_json(in.base, b, tb);
  out["compressed"] = side_json(in.compressed, c, tc);
  if (in.labels) {
    out["base"]["miou"] = b.miou;
    out["compressed"]["miou"] = c.miou;
  }
  out["ratios"] = {{"ops_pct", ops_pct},
                   {"params_pct", par_pct},
                   {"speedup", speedup},
                   {"fixed_share_of_base_time", fixed_ours}};
  // The published figures are the HSI paper's (its U-Net on the Kria K26): they belong to the
  // fpga-soc architecture only.
  const bool published = in.arch == "fpga-soc";
  if (published)
    out["published"] = {{"ops_pct", kPaperOpsPct},
                        {"params_pct", kPaperParamsPct},
                        {"speedup", kPaperSpeedup},
                        {"fixed_share_of_base_time", fixed_paper},
                        {"source", "arXiv 2507.16556 (docs/references.md section 2)"}};
  out["stages"] = stage_breakdown(B, C);
  r.arch = in.arch;
  r.mode = in.proto.mode;
  r.input = in.proto.input_path;
  r.base_tables = in.base;
  r.compressed_tables = in.compressed;
  r.base = b;
  r.compressed = c;
  r.labels = in.labels != nullptr;
  r.published = published;
  r.ops_pct = ops_pct;
  r.par_pct = par_pct;
  r.tb = tb;
  r.tc = tc;
  r.speedup = speedup;
  r.fixed_ours = fixed_ours;
  r.fixed_paper = fixed_paper;
  return r;
}

void print_comparison(const Comparison& r, const std::string& report) {
  const CompareRun& b = r.base;
  const CompareRun& c = r.compressed;
  const json& B = b.report;
  const json& C = c.report;
  const json& stages = r.out.at("stages");
  const bool published = r.published;
  const double ops_pct = r.ops_pct, par_pct = r.par_pct, tb = r.tb, tc = r.tc;
  const double speedup = r.speedup, fixed_ours = r.fixed_ours, fixed_paper = r.fixed_paper;
  std::printf("%s (%s mode), input %s\n", r.arch.c_str(), r.mode.c_str(), r.input.c_str());
  std::printf("  base:       %s\n  compressed: %s\n\n", r.base_tables.c_str(),
              r.compressed_tables.c_str());
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
  if (r.labels)
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
  if (!report.empty()) std::printf("\nreport -> %s\n", report.c_str());
}

}  // namespace prunesim::dse
