// `prunesim inspect MODEL.onnx [--json]`: the per-layer table (op, shapes, parameters, MACs) and
// totals of a model after import (BatchNorm folded, Identity/Dropout removed).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/errors.h"
#include "prune/graph_passes.h"
#include "prune/tables.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model;
  bool json = false;
};

void run(const Opts& o) {
  // A weight table is not an ONNX model; say what to run instead of a protobuf parse error.
  if (is_table_file(o.model))
    throw InputError(o.model +
                     ": this is a weight table (.pwt), not an ONNX model; use "
                     "`prunesim tables inspect " +
                     o.model + "`");
  Graph g = load_model(o.model);
  auto layers = layer_stats(g);
  int64_t params = 0, macs = 0;
  for (const auto& l : layers) {
    params += l.params;
    macs += l.macs;
  }
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["opset"] = g.opset;
    for (const auto& v : g.inputs)
      j["inputs"].push_back({{"name", v.name}, {"shape", g.shape(v.name)}});
    for (const auto& v : g.outputs)
      j["outputs"].push_back({{"name", v.name}, {"shape", g.shape(v.name)}});
    j["layers"] = nlohmann::json::array();
    for (const auto& l : layers)
      j["layers"].push_back({{"name", l.name},
                             {"op", l.op},
                             {"input_shape", l.in_shape},
                             {"output_shape", l.out_shape},
                             {"params", l.params},
                             {"macs", l.macs}});
    j["total_params"] = params;
    j["total_macs"] = macs;
    j["units"] = {{"params", "count"}, {"macs", "multiply-accumulates per inference (batch 1)"}};
    std::cout << json_text(j);
    return;
  }
  std::cout << "model: " << o.model << "  (opset " << g.opset << ", " << g.nodes.size()
            << " layers)\n";
  for (const auto& v : g.inputs)
    std::cout << "input:  " << v.name << " " << shape_str(g.shape(v.name)) << "\n";
  for (const auto& v : g.outputs)
    std::cout << "output: " << v.name << " " << shape_str(g.shape(v.name)) << "\n\n";
  // The name column is as wide as the longest name: a cut name is ambiguous (U-Net layers share
  // their first 28 characters).
  int w = 5;
  for (const auto& l : layers) w = std::max(w, static_cast<int>(l.name.size()));
  std::printf("%3s  %-*s %-18s %-18s %-18s %10s %12s\n", "#", w, "layer", "op", "input", "output",
              "params", "MACs");
  int k = 0;
  for (const auto& l : layers)
    std::printf("%3d  %-*s %-18s %-18s %-18s %10s %12s\n", k++, w, l.name.c_str(), l.op.c_str(),
                shape_str(l.in_shape).c_str(), shape_str(l.out_shape).c_str(),
                with_commas(l.params).c_str(), with_commas(l.macs).c_str());
  std::printf("\ntotal: %s parameters, %s MACs per inference (batch 1)\n",
              with_commas(params).c_str(), with_commas(macs).c_str());
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c =
      app.add_subcommand("inspect", "Per-layer table of a model: op, shapes, parameters, MACs");
  c->add_option("model", o->model, "ONNX model")->required()->check(CLI::ExistingFile);
  c->add_flag("--json", o->json, "print JSON instead of the table");
  c->callback([o] { run(*o); });
}

Registrar reg("inspect", setup);

}  // namespace
}  // namespace prunesim::cli
