// `prunesim infer MODEL --input x.npy --output y.npy [--int8 --calib c.npy]`: runs the float
// reference or the bit-exact integer reference and writes the output tensor (atomically).
// MODEL may be a weight table (.pwt): it is already quantized, so it runs on the integer
// reference directly.
#include <iostream>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/npy.h"
#include "prune/tables.h"
#include "quant_opts.h"
#include "registry.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string model, input, output, output_int8;
  Int8Opts q;
};

void run_quantized(const QuantizedModel& qm, const Tensor& x, const Opts& o) {
  Int8Result r = run_int8_batch(qm, x);
  save_npy(r.output_float, o.output);
  if (!o.output_int8.empty()) save_npy(r.output_int8, o.output_int8);
  std::cout << "int8 output " << shape_str(r.output_float.shape) << " (scale " << r.output_scale
            << ", dequantized to float32) -> " << o.output << "\n";
}

void run(const Opts& o) {
  check_writable(o.output, "--output");
  check_writable(o.output_int8, "--output-int8");
  if (is_table_file(o.model)) {
    if (!o.q.calib.empty())
      throw InputError("--calib: " + o.model + " is a weight table, already quantized");
    QuantizedModel qm = read_tables(o.model);
    run_quantized(qm, load_data(o.input, &qm.graph), o);
    return;
  }
  if (o.q.int8 && o.q.calib.empty()) throw InputError("--int8 needs --calib FILE.npy");
  if (!o.q.int8 && !o.output_int8.empty()) throw InputError("--output-int8 needs --int8");
  Graph g = load_model(o.model);
  Tensor x = load_data(o.input, &g);
  if (!o.q.int8) {
    Tensor y = run_float_batch(g, x);
    save_npy(y, o.output);
    std::cout << "float32 output " << shape_str(y.shape) << " -> " << o.output << "\n";
    return;
  }
  Tensor calib = load_data(o.q.calib, &g);
  run_quantized(quantize(g, calib, o.q.options()), x, o);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("infer", "Run a model on an input tensor (float or int8 reference)");
  c->add_option("model", o->model, "ONNX model or weight table (.pwt)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--input", o->input, "input .npy [N, ...]")->required()->check(CLI::ExistingFile);
  c->add_option("--output", o->output, "output .npy (float32)")->required();
  c->add_option("--output-int8", o->output_int8, "also write the raw int8 output .npy (--int8)");
  add_threads_option(c);
  o->q.add_to(c);
  c->callback([o] { run(*o); });
}

Registrar reg("infer", setup);

}  // namespace
}  // namespace prunesim::cli
