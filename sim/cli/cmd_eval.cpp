// `prunesim eval MODEL --data x.npy --labels y.npy [--int8 --calib c.npy] [--json]`:
// top-1 when the labels are class ids [N], SNDR and R² when they are target tensors shaped like
// the output (an autoencoder passes its input as labels). With --int8 both float and int8 are
// reported, with the difference.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "quant_opts.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, data, labels;
  bool json = false;
  Int8Opts q;
};

nlohmann::json metrics(const Tensor& out, const Tensor& labels, bool classes) {
  nlohmann::json j;
  if (classes) {
    j["top1"] = top1(out, labels);
  } else {
    j["sndr_db"] = sndr_db(labels, out);
    j["r2"] = r2_score(labels, out);
  }
  return j;
}

void run(const Opts& o) {
  if (o.q.int8 && o.q.calib.empty()) throw InputError("--int8 needs --calib FILE.npy");
  Graph g = load_model(o.model);
  Tensor x = load_data(o.data, &g);
  Tensor labels = load_labels(o.labels, g, x.shape[0]);
  Tensor yf = run_float(g, x);
  const int64_t n = x.shape[0];
  const bool classes = labels.shape.size() == 1;
  nlohmann::json j;
  j["model"] = o.model;
  j["samples"] = n;
  j["float"] = metrics(yf, labels, classes);
  if (o.q.int8) {
    Tensor calib = load_data(o.q.calib, &g);
    QuantizedModel qm = quantize(g, calib, o.q.options());
    j["int8"] = metrics(run_int8(qm, x).output_float, labels, classes);
    j["calibration"] = {{"file", o.q.calib}, {"method", o.q.method}, {"samples", calib.shape[0]}};
  }
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("%s on %lld samples\n", o.model.c_str(), static_cast<long long>(n));
  auto row = [&](const char* name, const char* key, double scale, const char* unit) {
    const double f = j["float"][key].get<double>() * scale;
    std::printf("  %-8s float %8.3f %s", name, f, unit);
    if (o.q.int8) {
      const double q = j["int8"][key].get<double>() * scale;
      std::printf("   int8 %8.3f %s   (int8 - float %+.3f %s)", q, unit, q - f, unit);
    }
    std::printf("\n");
  };
  if (classes) {
    row("top-1", "top1", 100.0, "%");
  } else {
    row("SNDR", "sndr_db", 1.0, "dB");
    row("R2", "r2", 1.0, "(1)");
  }
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("eval", "Fidelity of a model on a data set: top-1, or SNDR and R2");
  c->add_option("model", o->model, "ONNX model")->required()->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "inputs .npy [N, ...]")->required()->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids [N] or targets shaped like the output")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_flag("--json", o->json, "print JSON");
  o->q.add_to(c);
  c->callback([o] { run(*o); });
}

Registrar reg("eval", setup);

}  // namespace
}  // namespace prunesim::cli
