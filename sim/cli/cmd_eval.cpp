// `prunesim eval MODEL --data x.npy --labels y.npy [--int8 --calib c.npy] [--then D] [--json]`:
// top-1 when the labels are class ids [N], mIoU and pixel accuracy when they are class ids per
// pixel [N, H, W] (0 = unlabelled, ignored), SNDR and R² when they are target tensors shaped like
// the output (an autoencoder passes its input as labels). With --int8 both float and int8 are
// reported, with the difference.
//
// MODEL may be a weight table (.pwt): it is the int8 model the simulators run, so only the int8
// row exists. --then D runs a second stage on MODEL's output (RAMAN's use: the on-chip encoder,
// then the offline decoder), and the labels are D's targets. A .pwt D is fixed int8; an ONNX D
// runs in float, and with --int8 in int8 calibrated on --then-calib (a file of D's inputs), or,
// when that is not given, on the first stage's output over --calib.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/tables.h"
#include "quant_opts.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, data, labels, then, then_calib;
  bool json = false;
  Int8Opts q;
};

nlohmann::json metrics(const Tensor& out, const Tensor& labels) {
  nlohmann::json j;
  for (const auto& [k, v] : score(out, labels)) j[k] = v;
  return j;
}

// One stage: an ONNX graph (float, and int8 once quantized) or a weight table (int8 only).
struct Stage {
  std::string path;
  bool table = false;
  Graph g;                           // the float graph (a table's geometry only)
  std::optional<QuantizedModel> qm;  // int8 form: the table, or the graph quantized
  std::string calib_source;          // what the int8 form was calibrated on
};

Stage load_stage(const std::string& path) {
  Stage s;
  s.path = path;
  if (is_table_file(path)) {
    s.table = true;
    s.qm = read_tables(path);
    s.g = s.qm->graph;
    s.calib_source = "the table's own scales";
  } else {
    s.g = load_model(path);
  }
  return s;
}

// An ONNX second stage after a first stage in int8: calibrated on --then-calib, or on the first
// stage's int8 output for --calib.
void quantize_then(const Opts& o, const Stage& a, Stage& b) {
  Tensor bc;
  if (!o.then_calib.empty()) {
    bc = load_data(o.then_calib, &b.g);
    b.calib_source = o.then_calib;
  } else {
    if (o.q.calib.empty())
      throw InputError("--then " + o.then +
                       ": an ONNX second stage after a weight table needs --then-calib "
                       "FILE.npy (its inputs) to run in int8");
    bc = run_int8_batch(*a.qm, load_data(o.q.calib, &a.g)).output_float;
    b.calib_source = "the first stage's int8 output on " + o.q.calib;
  }
  QuantOptions bo = o.q.options();
  bo.calib_source = b.calib_source;
  b.qm = quantize(b.g, bc, bo);
}

// The console summary of the report: one row per metric, float and int8 side by side.
void print_summary(const nlohmann::json& j, const std::string& model, const std::string& then,
                   int64_t n, bool first_is_table) {
  std::printf("%s%s%s on %lld samples\n", model.c_str(), then.empty() ? "" : " then ", then.c_str(),
              static_cast<long long>(n));
  const bool has_float = j.contains("float"), has_int8 = j.contains("int8");
  auto row = [&](const char* name, const char* key, double scale, const char* unit) {
    std::printf("  %-9s", name);
    double f = 0;
    if (has_float) {
      f = j["float"][key].get<double>() * scale;
      std::printf(" float %8.3f %s", f, unit);
    }
    if (has_int8) {
      const double q = j["int8"][key].get<double>() * scale;
      std::printf("%s int8 %8.3f %s", has_float ? "  " : "", q, unit);
      if (has_float) std::printf("   (int8 - float %+.3f %s)", q - f, unit);
    }
    std::printf("\n");
  };
  const nlohmann::json& any = has_int8 ? j["int8"] : j["float"];
  if (any.contains("top1")) {
    row("top-1", "top1", 100.0, "%");
  } else if (any.contains("miou")) {
    row("mIoU", "miou", 100.0, "%");
    row("pixel acc", "pixel_accuracy", 100.0, "%");
    std::printf("  (pixels labelled 0 are unlabelled and not scored)\n");
  } else {
    row("SNDR", "sndr_db", 1.0, "dB");
    row("R2", "r2", 1.0, "(1)");
  }
  if (!has_float)
    std::printf("  (int8 only: %s is a weight table)\n",
                first_is_table ? model.c_str() : then.c_str());
}

void run(const Opts& o) {
  Stage a = load_stage(o.model);
  std::optional<Stage> b;
  if (!o.then.empty()) b = load_stage(o.then);
  const bool int8 = o.q.int8 || a.table;
  if (a.table && !o.q.calib.empty())
    throw InputError("--calib: " + o.model + " is a weight table, already quantized");
  if (o.q.int8 && !a.table && o.q.calib.empty()) throw InputError("--int8 needs --calib FILE.npy");
  if (!o.then_calib.empty() && (!b || b->table || !int8))
    throw InputError("--then-calib calibrates an ONNX --then model for --int8");
  if (b && b->table && !int8)
    throw InputError("--then: " + o.then + " is a weight table (int8): evaluate with --int8");

  Tensor x = load_data(o.data, &a.g);
  const int64_t n = x.shape[0];
  const Graph& last = b ? b->g : a.g;
  Tensor labels = load_labels(o.labels, last, n);

  nlohmann::json j;
  j["model"] = o.model;
  if (b) j["then"] = o.then;
  j["samples"] = n;
  if (!a.table) {
    Tensor yf =
        run_in_chunks(x, "eval float", [&](const Tensor& t) { return run_float_batch(a.g, t); });
    if (b && !b->table) {
      check_input_shape(b->g, yf, "--then " + o.then + " (the first stage's output)");
      yf = run_in_chunks(yf, "eval float --then",
                         [&](const Tensor& t) { return run_float_batch(b->g, t); });
    }
    if (!b || !b->table) j["float"] = metrics(yf, labels);
  }
  if (int8) {
    if (!a.table) {
      Tensor calib = load_data(o.q.calib, &a.g);
      a.qm = quantize(a.g, calib, o.q.options());
      a.calib_source = o.q.calib;
      j["calibration"] = {{"file", o.q.calib}, {"method", o.q.method}, {"samples", calib.shape[0]}};
    }
    Tensor y = run_in_chunks(
        x, "eval int8", [&](const Tensor& t) { return run_int8_batch(*a.qm, t).output_float; });
    if (b) {
      check_input_shape(b->g, y, "--then " + o.then + " (the first stage's output)");
      if (!b->table) quantize_then(o, a, *b);
      y = run_in_chunks(y, "eval int8 --then",
                        [&](const Tensor& t) { return run_int8_batch(*b->qm, t).output_float; });
      j["then_calibration"] = b->calib_source;
    }
    j["int8"] = metrics(y, labels);
  }
  if (o.json) {
    std::cout << json_text(j);
    return;
  }
  print_summary(j, o.model, b ? o.then : std::string(), n, a.table);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("eval", "Fidelity of a model on a data set: top-1, or SNDR and R2");
  c->add_option("model", o->model, "ONNX model or weight table (.pwt: int8 only)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "inputs .npy [N, ...]")->required()->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels,
                "class ids [N], per-pixel class ids [N, H, W] or targets shaped like the (last "
                "stage's) output")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--then", o->then,
                "second stage fed by MODEL's output (ONNX or .pwt), e.g. RAMAN's offline decoder")
      ->check(CLI::ExistingFile);
  c->add_option("--then-calib", o->then_calib,
                "int8 calibration inputs of an ONNX --then model (default: MODEL's output on "
                "--calib)")
      ->check(CLI::ExistingFile);
  c->add_flag("--json", o->json, "print JSON");
  add_threads_option(c);
  o->q.add_to(c);
  c->callback([o] { run(*o); });
}

Registrar reg("eval", setup);

}  // namespace
}  // namespace prunesim::cli
