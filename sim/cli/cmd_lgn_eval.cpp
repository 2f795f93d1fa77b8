// `prunesim lgn eval net.lgn --data X.npy --labels Y.npy [--json]`: the discretised network's
// top-1 by the bit-parallel evaluator, its size, and the evaluator's throughput on this machine
// (one core), with and without the thermometer encoding of the inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "lgn_cli.h"
#include "logic/eval.h"
#include "logic/format.h"
#include "prune/errors.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string net, data, labels, report;
  double min_seconds = 0.3;
  bool json = false;
};

// Samples per second of f over `samples` samples, repeated until min_seconds have passed.
template <class F>
double rate(F&& f, size_t samples, double min_seconds) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  size_t runs = 0;
  double s = 0;
  do {
    f();
    ++runs;
    s = std::chrono::duration<double>(clock::now() - t0).count();
  } while (s < min_seconds);
  return static_cast<double>(runs * samples) / s;
}

void run(const Opts& o) {
  check_writable(o.report, "--report");
  const logic::Netlist n = logic::read_lgn(o.net);
  const train::LogicData d = load_logic_data(o.data, o.labels);
  if (static_cast<size_t>(d.features) != n.encoder.thresholds.size())
    fail(o.data, "",
         std::to_string(d.features) + " features per sample, but " + o.net + " encodes " +
             std::to_string(n.encoder.thresholds.size()));
  for (size_t k = 0; k < d.labels.size(); ++k)
    if (d.labels[k] >= n.classes)
      fail(o.labels, "element " + std::to_string(k),
           "class " + std::to_string(d.labels[k]) + " but the network has " +
               std::to_string(n.classes) + " classes");
  const size_t N = static_cast<size_t>(d.n);
  const logic::BitMatrix in = logic::encode(n.encoder, d.x.data(), N, d.features);
  const double top1 = logic::accuracy(n, in, d.labels.data(), N);
  const double net_rate = rate([&] { logic::class_counts(n, in, N); }, N, o.min_seconds);
  const double all_rate = rate(
      [&] {
        const logic::BitMatrix b = logic::encode(n.encoder, d.x.data(), N, d.features);
        logic::class_counts(n, b, N);
      },
      N, o.min_seconds);
  uint32_t layers = 0;
  for (const auto& g : n.gates) layers = std::max(layers, g.layer + 1);
  nlohmann::json rep = {{"network", o.net},
                        {"data", o.data},
                        {"samples", N},
                        {"top1", top1},
                        {"gates", n.gates.size()},
                        {"layers", layers},
                        {"input_bits", n.inputs},
                        {"classes", n.classes},
                        {"avx2", logic::eval_uses_avx2()},
                        {"samples_per_s", net_rate},
                        {"samples_per_s_with_encoding", all_rate}};
  if (!o.report.empty()) write_file_atomic(o.report, rep.dump(2) + "\n");
  if (o.json) {
    std::cout << rep.dump(2) << "\n";
    return;
  }
  std::printf("lgn eval %s on %s: %zu samples\n", o.net.c_str(), o.data.c_str(), N);
  std::printf("  top-1 %.2f %%\n", 100 * top1);
  std::printf("  %zu gates in %u layers, %u input bits, %u classes\n", n.gates.size(), layers,
              n.inputs, n.classes);
  std::printf("  throughput (one core%s): %.3f M samples/s (%.3f M samples/s with the encoding)\n",
              logic::eval_uses_avx2() ? ", AVX2" : "", net_rate / 1e6, all_rate / 1e6);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  CLI::App& g = group(app, "lgn", "Boolean logic-gate networks: train, evaluate, prune, export");
  auto* c = g.add_subcommand("eval", "Accuracy and throughput of a discretised logic network");
  c->add_option("network", o->net, "the network (.lgn)")->required()->check(CLI::ExistingFile);
  c->add_option("--data", o->data, "inputs .npy [N, ...] (flattened to features)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--labels", o->labels, "class ids .npy [N]")->required()->check(CLI::ExistingFile);
  c->add_option("--min-seconds", o->min_seconds,
                "throughput: repeat the evaluation for at least this long (s)")
      ->check(CLI::Range(0.0, 600.0));
  c->add_option("--report", o->report, "JSON report to write");
  c->add_flag("--json", o->json, "print the report as JSON");
  c->callback([o] { run(*o); });
}

Registrar reg("lgn eval", setup);

}  // namespace
}  // namespace prunesim::cli
