// Fast reference executors: run_int8's and run_float's arithmetic with blocked, vectorised
// conv/gemm kernels (picked at run time by CPU feature) and threads over samples. The int8 one is
// code-for-code run_int8; the float one is bit-for-bit run_float (same double accumulation order).
// run_int8 stays the golden definition; docs/quantization.md §15 has the design and the argument.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "prune/executor.h"
#include "prune/quant.h"

namespace prunesim {

// Instruction set of the inner kernels. Auto: the best this CPU supports. Int8 kernels use
// vpdpbusd (AVX-512 VNNI on 512-bit, AVX-VNNI on 256-bit), AVX2 vpmaddwd, or plain C++; float
// kernels use AVX-512F, AVX2+FMA or plain C++ (Avx512 and AvxVnni/Avx2 pick the matching width).
enum class KernelIsa { Auto, Scalar, Avx2, AvxVnni, Avx512 };

struct ExecOptions {
  int threads = 0;                  // worker threads over samples; 0: the process default
  KernelIsa isa = KernelIsa::Auto;  // forcing one the CPU lacks falls back to Scalar
};

// The process default for ExecOptions::threads == 0 (the commands' --threads): n >= 1, or 0 for
// all hardware threads (the initial value).
void set_exec_threads(int n);
int exec_threads();  // the default resolved: >= 1

// The ISA Auto resolves to on this CPU, and the printable name of one ("avx512-vnni", ...).
KernelIsa best_kernel_isa();
bool kernel_isa_supported(KernelIsa isa);
const char* kernel_isa_name(KernelIsa isa);

// Same contract and result as run_int8. With an observer the samples run on one thread, so it
// sees what run_int8's does (every layer of sample 0, then of sample 1, ...), in the same order.
Int8Result run_int8_fast(const QuantizedModel& q, const Tensor& x, const ExecOptions& o = {},
                         const Int8Observer& obs = nullptr);

// Same contract and result as run_float(g, x, obs) for a single-input, single-output graph. With
// an observer the samples run on one thread, so it sees what run_float's does, in the same order.
Tensor run_float_fast(const Graph& g, const Tensor& x, const ExecOptions& o = {},
                      const Observer& obs = nullptr);

// Whole-batch evaluation as the commands do it: the fast executors, or run_int8 / run_float when
// the environment variable PRUNESIM_EXECUTOR is "reference" (for checking; any other value than
// "fast", "reference" or unset is an InputError naming the variable). threads as ExecOptions.
bool reference_executor_selected();
Int8Result run_int8_batch(const QuantizedModel& q, const Tensor& x, int threads = 0);
Tensor run_float_batch(const Graph& g, const Tensor& x, int threads = 0,
                       const Observer& obs = nullptr);

// Int8 activations of one batch, kept so the next design point can skip the leading layers it
// shares with this one. Holds, per layer, the bytes of everything that determines its output
// (compared exactly: no hash); the search engine keeps one per worker and passes it to every
// run_int8_cached call. Empty (default) means nothing to reuse.
struct Int8ActivationCache {
  std::vector<std::string> signatures;  // of the program the activations belong to, per layer
  std::string input, output;            // its input and output value names
  float input_scale = 0.f;
  Shape sample;  // shape of one input sample (batch-1)
  int64_t samples = 0;
  std::vector<int8_t> input_codes;      // quantized input, all samples
  std::map<std::string, Shape> shapes;  // batch-1 shape of every value below
  // value name -> codes of every sample (samples * numel(shape) bytes, sample-major)
  std::map<std::string, std::vector<int8_t>> values;
  size_t bytes() const;  // memory held by input_codes and values
};

// How many leading layers of q can reuse `cache`: layers equal in everything that determines
// their output (kind, node geometry, shapes, weights, bias, requantization, clamps, tables,
// input names), with the same quantized input. 0 when the input or its scale differ.
size_t shared_prefix(const Int8ActivationCache& cache, const QuantizedModel& q,
                     const std::vector<int8_t>& input_codes);

// run_int8's result for q on x, computing only the layers after the prefix shared with `cache`
// (reading the rest from it) and leaving cache holding q's activations on x. `reused`, when
// given, receives the number of layers taken from the cache.
Int8Result run_int8_cached(const QuantizedModel& q, const Tensor& x, Int8ActivationCache& cache,
                           const ExecOptions& o = {}, size_t* reused = nullptr);

}  // namespace prunesim
