// Shared set-up for the RAMAN tests: a zoo model pruned by a scheme, quantized and written as a
// weight table in memory (the same path `prunesim prune --target raman` takes), ready to hand to
// the `raman` architecture.
#pragma once

#include <string>

#include "base/params.h"
#include "prune/executor.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pipeline.h"
#include "prune/tables.h"
#include "sim/arch.h"

namespace prunesim::test {

inline std::string zoo(const std::string& rel) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + rel;
}

// First n samples of a [N, ...] tensor.
inline Tensor first_samples(const Tensor& t, int64_t n) {
  Shape s = t.shape;
  n = std::min(n, s[0]);
  const int64_t per = numel(t.shape) / t.shape[0];
  s[0] = n;
  return Tensor(s, std::vector<float>(t.f.begin(), t.f.begin() + n * per));
}

// scheme "" = dense. encoding "auto" = the smallest the raman core accepts.
// Sets option `key` when `scheme` declares it (the cases share one set of settings).
inline void set_declared(SchemeOptions& o, const std::string& scheme, const std::string& key,
                         const nlohmann::json& v) {
  if (find_param(make_scheme(scheme)->params(), key)) o.params.set(key, v);
}

inline SimInput build_case(const std::string& model, const std::string& calib,
                           const std::string& input, const std::string& scheme, double sparsity,
                           const std::string& encoding, const std::vector<std::string>& sets = {},
                           const std::string& variant = "pattern", int64_t samples = 1) {
  Graph g = load_onnx(zoo(model));
  Tensor c = first_samples(load_npy_as_float(zoo(calib)), 16);
  Tensor x = first_samples(load_npy_as_float(zoo(input)), samples);
  // The decoder's inputs are latents: the float encoder makes them from the windows.
  if (model == "ds_cae1/decoder.onnx") {
    const Graph enc = load_onnx(zoo("ds_cae1/encoder.onnx"));
    c = run_float(enc, c);
    x = run_float(enc, x);
  }
  PruneOutcome out;
  out.graph = g;
  const Arch& arch = get_arch("raman");
  SimInput in;
  in.params = resolve_params("raman", arch.params(), "", sets);
  if (!scheme.empty() && sparsity > 0) {
    SchemeOptions o;
    o.sparsity = sparsity;
    set_declared(o, scheme, "pes", in.params.i("pe_count"));
    set_declared(o, scheme, "cluster", in.params.i("cluster_size"));
    set_declared(o, scheme, "variant", variant);
    if (scheme == "nm") {
      o.params.set("m", 4);
      o.params.set("n",
                   std::max<int64_t>(1, static_cast<int64_t>(std::lround((1 - sparsity) * 4))));
    }
    PruneData d;
    d.calib = &c;
    out = run_pruning(g, single_rule_recipe(scheme, o), Schedule{}, Recovery{}, d);
  }
  const QuantizedModel q = quantize(out.graph, c);
  TableOptions to;
  to.encoding = encoding;
  to.target = "raman";
  to.accepts = arch.encodings();
  const std::string bytes = table_bytes(q, out.masks, out.notes, to, "case.pwt");
  in.tables_path = "case.pwt";
  in.model = parse_tables(bytes, "case.pwt", &in.summary, &in.masks);
  in.input_path = input;
  in.input = x;
  in.quiet = true;
  return in;
}

// The zoo models the RAMAN core runs, and a short test name for one ("ds_cae1/encoder.onnx" ->
// "encoder").
inline constexpr const char* kRamanZooModels[] = {
    "ds_cae1/encoder.onnx", "ds_cae1/decoder.onnx", "ds_cae1/ds_cae1.onnx",
    "digits_dscnn/digits_dscnn.onnx", "fmnist_dscnn/fmnist_dscnn.onnx"};
inline std::string zoo_short_name(const std::string& model) {
  std::string n = model.substr(model.find('/') + 1);
  return n.substr(0, n.find('.'));
}

// build_case for a zoo model with its folder's calib.npy and `input`, and the settings every
// model runs with: room for the csr/bitmap images of the larger models, and clusters of 2 that
// divide the classifiers' 10 output rows (which the balanced pattern needs).
inline SimInput zoo_case(const std::string& model, const std::string& scheme, double sparsity,
                         const std::string& encoding, const std::string& variant,
                         const std::string& input = "sample.npy", int64_t samples = 1) {
  const std::string dir = model.substr(0, model.find('/'));
  return build_case(model, dir + "/calib.npy", dir + "/" + input, scheme, sparsity, encoding,
                    {"weight_mem_bytes=65536", "cluster_size=2"}, variant, samples);
}

// A graph built in the test (tests/common/onnx_builder.h), pruned (scheme "" = dense),
// quantized on `calib` and written as a weight table "fold.pwt" for the raman core with `sets`.
struct PruneSpec {
  std::string scheme = "";
  double sparsity = 0;
  std::string encoding = "auto";
  std::string variant = "pattern";
};
inline SimInput graph_case(const Graph& g, const Tensor& calib, const Tensor& x,
                           const std::vector<std::string>& sets, const PruneSpec& pr = {}) {
  const Arch& arch = get_arch("raman");
  SimInput in;
  in.params = resolve_params("raman", arch.params(), "", sets);
  PruneOutcome out;
  out.graph = g;
  if (!pr.scheme.empty()) {
    SchemeOptions o;
    o.sparsity = pr.sparsity;
    set_declared(o, pr.scheme, "pes", in.params.i("pe_count"));
    set_declared(o, pr.scheme, "cluster", in.params.i("cluster_size"));
    set_declared(o, pr.scheme, "variant", pr.variant);
    out = run_pruning(g, single_rule_recipe(pr.scheme, o), Schedule{}, Recovery{}, PruneData{});
  }
  const QuantizedModel q = quantize(out.graph, calib);
  TableOptions to;
  to.target = "raman";
  to.accepts = arch.encodings();
  to.encoding = pr.encoding;
  const std::string bytes = table_bytes(q, out.masks, out.notes, to, "fold.pwt");
  in.tables_path = "fold.pwt";
  in.model = parse_tables(bytes, "fold.pwt", &in.summary, &in.masks);
  in.input = x;
  in.input_path = "x.npy";
  in.rate_hz = 1;
  in.quiet = true;
  return in;
}

// A [N, ...] ramp with the negative values set to 0: exact zeros exercise zero skipping.
inline Tensor relu_ramp_tensor(const Shape& s, const std::vector<float>& ramp) {
  Tensor t(s, ramp);
  for (float& v : t.f) v = v < 0 ? 0 : v;
  return t;
}

}  // namespace prunesim::test
