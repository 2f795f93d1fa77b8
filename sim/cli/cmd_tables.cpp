// `prunesim tables inspect FILE.pwt [--json]`: what a weight table holds per layer (shape,
// sparsity, encoding, bytes of values and metadata, checksum) and in total. Reading the file
// verifies every CRC and length, so a listing is also an integrity check: a damaged file is one
// error line and exit code 2.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "prune/tables.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string file;
  bool json = false;
};

void run(const Opts& o) {
  TableSummary s;
  read_tables(o.file, &s);
  int64_t total = 0, nnz = 0, vbytes = 0, mbytes = 0;
  for (const auto& l : s.layers) {
    total += l.total;
    nnz += l.nnz;
    vbytes += l.value_bytes;
    mbytes += l.meta_bytes;
  }
  const double sparsity = total ? 1.0 - static_cast<double>(nnz) / static_cast<double>(total) : 0;
  if (o.json) {
    nlohmann::json j;
    j["file"] = o.file;
    j["version"] = s.version;
    j["source_model"] = s.source_model;
    j["file_bytes"] = s.file_bytes;
    j["layers"] = nlohmann::json::array();
    for (const auto& l : s.layers)
      j["layers"].push_back({{"name", l.name},
                             {"op", l.op},
                             {"weight", l.weight},
                             {"shape", l.shape},
                             {"rows", l.rows},
                             {"cols", l.cols},
                             {"weights", l.total},
                             {"nonzero", l.nnz},
                             {"sparsity", l.sparsity},
                             {"encoding", l.encoding},
                             {"params", l.params},
                             {"stored_values", l.stored},
                             {"value_bytes", l.value_bytes},
                             {"meta_bytes", l.meta_bytes},
                             {"meta_bits", l.meta_bits},
                             {"offset", l.offset},
                             {"crc32", l.crc},
                             {"crc_ok", l.crc_ok}});
    j["total"] = {{"weights", total},      {"nonzero", nnz},       {"sparsity", sparsity},
                  {"value_bytes", vbytes}, {"meta_bytes", mbytes}, {"dense_int8_bytes", total}};
    j["units"] = {{"sparsity", "fraction of int8 weights that are zero"},
                  {"value_bytes", "bytes"},
                  {"meta_bytes", "bytes"},
                  {"meta_bits", "bits"},
                  {"file_bytes", "bytes"}};
    std::cout << json_text(j);
    return;
  }
  std::cout << "weight table: " << o.file << "  (format v" << s.version << ", from "
            << s.source_model << ", " << s.layers.size() << " weight layers)\n\n";
  std::printf("%3s  %-24s %-13s %-18s %8s  %-9s %10s %10s  %s\n", "#", "layer", "op", "shape",
              "sparsity", "encoding", "values B", "meta B", "crc");
  int k = 0;
  for (const auto& l : s.layers)
    std::printf("%3d  %-24s %-13s %-18s %7.1f%%  %-9s %10s %10s  %s\n", k++,
                l.name.substr(0, 24).c_str(), l.op.c_str(), shape_str(l.shape).c_str(),
                100.0 * l.sparsity, l.encoding.c_str(), with_commas(l.value_bytes).c_str(),
                with_commas(l.meta_bytes).c_str(), l.crc_ok ? "ok" : "BAD");
  std::printf(
      "\ntotal: %s weights, %.1f%% zero; %s B values + %s B metadata = %s B (dense int8 %s B); "
      "file %s B\n",
      with_commas(total).c_str(), 100.0 * sparsity, with_commas(vbytes).c_str(),
      with_commas(mbytes).c_str(), with_commas(vbytes + mbytes).c_str(), with_commas(total).c_str(),
      with_commas(s.file_bytes).c_str());
}

void setup(CLI::App& app) {
  auto* t = app.add_subcommand("tables", "Weight tables (.pwt): inspect");
  t->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto* c = t->add_subcommand(
      "inspect", "Per layer: shape, sparsity, encoding, bytes of values/metadata, checksum");
  c->add_option("file", o->file, "weight table (.pwt)")->required()->check(CLI::ExistingFile);
  c->add_flag("--json", o->json, "print JSON instead of the table");
  c->callback([o] { run(*o); });
}

Registrar reg("tables", setup);

}  // namespace
}  // namespace prunesim::cli
