// Internal: run_int8's layer program as an object the fast executor reuses, so every layer it
// does not accelerate (pools, Add, Concat, LUTs, moves, ...) runs the golden code itself. A
// kernel hook may take over Conv, ConvTranspose and Gemm layers; without one this is run_int8.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "prune/quant.h"

namespace prunesim {

using Codes = std::vector<int8_t>;

// Takes over a MAC layer (Conv, ConvTranspose, Gemm) of the program: `layer` indexes
// QuantizedModel::layers, x is the layer's first input (one sample), y is sized to the output.
// Returns false to leave the layer to the hls/ kernels.
class Int8LayerKernels {
 public:
  virtual ~Int8LayerKernels() = default;
  virtual bool run(size_t layer, const QLayer& L, const Codes& x, Codes& y) = 0;
};

namespace detail {

class Runner;

// run_int8's input checks (split_samples, finite values): the sample count; sets its shape.
int64_t check_int8_input(const QuantizedModel& q, const Tensor& x, Shape* sample);
// The result for n samples: shapes and scale set, codes zero (output_int8.i sized).
Int8Result int8_result(const QuantizedModel& q, int64_t n);
// output_float from output_int8 (code * output scale).
void dequantize_result(const QuantizedModel& q, Int8Result& r);

// One sample at a time, like run_int8; not thread-safe (one per thread).
class Int8Program {
 public:
  Int8Program(const QuantizedModel& q, Int8LayerKernels* k);
  ~Int8Program();
  const Codes& run(Codes input, const Int8Observer& obs);
  // Layers [first, end) with env holding every value they read that earlier layers made.
  const Codes& run_from(std::map<std::string, Codes> env, size_t first, const Int8Observer& obs);

 private:
  std::unique_ptr<Runner> r_;
};

}  // namespace detail
}  // namespace prunesim
