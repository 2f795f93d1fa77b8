// Post-training int8 quantization (quantize: float graph + calibration data -> integer program)
// and the bit-exact integer executor (run_int8: hls/ kernels only), whose codes are the golden
// values for the SystemC models and RTL. docs/quantization.md specifies every rule used here.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hls/arith.h"
#include "prune/ir.h"

namespace prunesim {

struct QuantOptions {
  enum class Calib { MinMax, Percentile };
  Calib calib = Calib::MinMax;
  double percentile = 99.99;  // of |activation| over all calibration samples, in (0, 100]
  // Names the calibration data in error messages (the CLI puts the file name here).
  std::string calib_source = "calibration data";
};

// One step of the integer program: executes graph node `node` plus the nodes it absorbed
// (a following Relu/Clip, for MatMul also a constant bias Add). Fields a kind does not use stay
// empty.
struct QLayer {
  enum class Kind {
    Conv,           // Conv 1-D/2-D, any groups (depthwise included)
    ConvTranspose,  // ConvTranspose 1-D/2-D
    Gemm,           // Gemm, or MatMul with a constant 2-D right operand
    MaxPool,        // int8 max; output keeps the input scale
    GlobalMaxPool,  // likewise
    AvgPool,        // int32 window sum, requant[n] for a window of n taps
    GlobalAvgPool,  // int32 plane sum, requant[0]
    Add,            // requant = {a -> common grid, b -> common grid, common grid -> out}
    Concat,         // requant[i] moves activation input i to the output scale; a constant
                    // input (ViT's class token) is `weight` at the output scale, at node input
                    // position const_operand
    Clamp,          // stand-alone Relu/Clip: clamp to [act_min, act_max], scale unchanged
    Lut,            // Sigmoid, Tanh, LeakyRelu, HardSigmoid, HardSwish, Gelu, and x * f(x) (SiLU,
                    // hard swish: the Mul fused): 256-entry table
    Softmax,        // exp table on (max - x), integer divide; output scale fixed at 1/127
    Move,           // Flatten, Reshape, Transpose, Resize/Upsample (nearest), Slice, Squeeze,
                    // Unsqueeze, Gather, Pad, Cast to float: codes moved as-is (a constant Pad
                    // fills with the value's code at the input scale)
    Mul,            // Mul, or Div by a constant (its reciprocal): product requantized by
                    // requant[0] = s_a * s_b / s_out; a constant operand as for Add
    Sub,            // Add's grid and fields, second operand subtracted
    ReduceSum,      // ReduceSum/ReduceMean: int32 sum, requant[0] (Mean folds in 1/n)
    ReduceMax,      // ReduceMax: the largest code; output keeps the input scale
    ResizeLinear,   // Resize/Upsample linear over at most 2 axes: integer-weighted neighbours,
                    // input scale kept (weights from the node's geometry, quantization.md §9)
    MatMulAct,      // MatMul of two activations (attention): int32 sums of code products,
                    // requant[0] = s_a * s_b / s_out (hls::matmul8), numpy batch broadcasting
    LayerNorm,      // LayerNormalization over the trailing block of n codes (hls::layernorm8):
                    // weight/weight_scale = gamma per element, bias = beta on the same grid,
                    // requant[i] per element, exp_lut = {E >> 31, E & (2^31-1)} with
                    // E = round(n^2 eps / s_in^2) (quantization.md §11d)
  };
  Kind kind = Kind::Move;
  std::string name;                 // the executed node
  std::string op;                   // its ONNX op type
  size_t node = 0;                  // index in QuantizedModel::graph.nodes
  std::vector<std::string> fused;   // absorbed nodes, in order
  std::vector<std::string> inputs;  // int8 activation inputs (graph value names)
  std::string output;               // int8 output value (the last absorbed node's output)

  // Conv: [M, C/group, (kh,) kw]; ConvTranspose: [C, M/group, (kh,) kw] (ONNX layouts);
  // Gemm: [N, K], output-major whatever transB was. Add with a constant operand: that operand.
  Shape weight_shape;
  std::vector<int8_t> weight;
  std::vector<float> weight_scale;  // per output channel (Add constant: one per-tensor scale)
  int const_operand = -1;     // Add/Sub/Mul (0/1), Concat (input position): the constant, else -1
  std::vector<int32_t> bias;  // per output channel, scale = s_in * weight_scale[c]
  std::vector<hls::Requant> requant;
  int8_t act_min = hls::kInt8Min, act_max = hls::kInt8Max;  // fused (or stand-alone) clamp
  std::vector<int8_t> lut;                                  // Lut: 256 entries, lut[q + 128]
  std::vector<int32_t> exp_lut;  // Softmax: exp_lut[d] = round(2^16 exp(-d s_in)), d = max - q
  int64_t acc_bound = 0;         // largest |accumulator| any input can produce (< 2^31 is checked)
};

struct QuantizedModel {
  Graph graph;  // the float graph: geometry, attributes and (batch-1) shapes
  QuantOptions options;
  std::vector<QLayer> layers;  // in execution order
  // Symmetric int8 scale (zero point 0) of every activation value the program touches.
  std::map<std::string, float> scales;
  // Calibrated [min, max] of every value, in float (reports, tests).
  std::map<std::string, std::pair<float, float>> ranges;
  std::string input, output;  // the graph's single input and output
  float input_scale = 1.f, output_scale = 1.f;
  int64_t calib_samples = 0;
};

// calib is [N, ...] with N samples of the input: either [N, d1, ...] for an input [1, d1, ...]
// (the batch replaced) or [N, 1, d1, ...]. InputError on a wrong shape, NaN/Inf in calib, or a
// node/attribute the int8 path does not support (naming the node and op).
QuantizedModel quantize(const Graph& g, const Tensor& calib, const QuantOptions& opt = {});

struct Int8Result {
  Tensor output_float;  // dequantized output, F32
  Tensor output_int8;   // dtype I8, codes in .i
  float output_scale = 1.f;
};

// Called after every layer with its output codes (one sample, batch-1 shape).
using Int8Observer =
    std::function<void(const QLayer&, const std::vector<int8_t>& codes, const Shape& shape)>;

// x float [N, ...] in the same forms as the calibration data. The input is quantized with
// hls::quantize_value (round half away from zero, saturate) and everything after that is
// integer arithmetic of the hls/ kernels; the output is dequantized as code * output_scale.
Int8Result run_int8(const QuantizedModel& q, const Tensor& x, const Int8Observer& obs = nullptr);

// Runs layer `layer` of q's program alone, on one sample's activation codes (env: value name ->
// codes of every input of the layer, batch-1 shapes), with exactly run_int8's arithmetic: for
// models that run some layers elsewhere and hand the rest to the reference (the FPGA-SoC PS
// fallback). InputError-free; std::out_of_range if an input is missing from env.
std::vector<int8_t> run_int8_layer(const QuantizedModel& q, size_t layer,
                                   const std::map<std::string, std::vector<int8_t>>& env);

// A Move layer (Reshape, Transpose, Slice, Flatten, Squeeze, Gather, ...) seen as a gather: for
// every output element (flat, batch-1 order) the entry of `from` it copies, where `from` holds,
// per element of the layer's input, an index (< 2^24: the layer's own op is run on them in
// float, which is exact there). For accelerators that move codes by address (the RAMAN core's
// views and channel copies). InputError naming the layer for a Pad (it fills, not gathers).
std::vector<int64_t> move_gather(const QuantizedModel& q, const QLayer& L,
                                 const std::vector<int64_t>& from);

// ReduceSum/ReduceMax layer: per input axis, whether it is reduced.
std::vector<bool> reduced_axes(const QuantizedModel& q, const QLayer& L);

// Number of samples in x and the shape of one sample, or InputError "<source>: shape [..]: ...".
int64_t split_samples(const Graph& g, const Tensor& x, const std::string& source, Shape* sample);

}  // namespace prunesim
