// The IR lowered onto libtorch. The float executor (prune/src/ops_float.cpp) is the ground truth:
// every translation below reproduces its per-op semantics, reading the same geometry helpers
// (op_geometry.h) so pads, ceil_mode windows and ConvTranspose crops cannot drift apart.
//
// The graph is lowered once into a Plan (static geometry, Resize index tensors, AveragePool
// divisors, per-value batch bookkeeping); forward() only interprets the Plan, so a training step
// pays for the tensor ops and nothing else.
#include "graph_module.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include "../../src/op_table.h"
#include "prune/errors.h"
#include "prune/op_geometry.h"
#include "train/finetune.h"

namespace prunesim::train {

namespace {

enum class Op {
  Conv,
  ConvT,
  Gemm,
  MatMul,
  Relu,
  LeakyRelu,
  Sigmoid,
  Tanh,
  Clip,
  Abs,
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Elu,
  Selu,
  HardSigmoid,
  Softplus,
  Softsign,
  Floor,
  Ceil,
  Identity,
  Add,
  Sub,
  Mul,
  Div,
  MaxPool,
  AvgPool,
  GlobalAvg,
  GlobalMax,
  BatchNorm,
  Concat,
  Reshape,
  Transpose,
  Softmax,
  Resize,
  HardSwish,
  Pad,
  ReduceMean,
  ReduceMax,
  ReduceSum,
  Slice,
  Gather,
  Erf,
  Gelu,
  Pow,
  LayerNorm
};

const std::map<std::string, Op>& op_kinds() {
  static const std::map<std::string, Op> m = {
      {"Conv", Op::Conv},
      {"ConvTranspose", Op::ConvT},
      {"Gemm", Op::Gemm},
      {"MatMul", Op::MatMul},
      {"Relu", Op::Relu},
      {"LeakyRelu", Op::LeakyRelu},
      {"Sigmoid", Op::Sigmoid},
      {"Tanh", Op::Tanh},
      {"Clip", Op::Clip},
      {"Abs", Op::Abs},
      {"Neg", Op::Neg},
      {"Exp", Op::Exp},
      {"Log", Op::Log},
      {"Sqrt", Op::Sqrt},
      {"Reciprocal", Op::Reciprocal},
      {"Elu", Op::Elu},
      {"Selu", Op::Selu},
      {"HardSigmoid", Op::HardSigmoid},
      {"Softplus", Op::Softplus},
      {"Softsign", Op::Softsign},
      {"Floor", Op::Floor},
      {"Ceil", Op::Ceil},
      {"Identity", Op::Identity},
      {"Dropout", Op::Identity},  // inference: the mask output is refused by the op table
      {"Add", Op::Add},
      {"Sub", Op::Sub},
      {"Mul", Op::Mul},
      {"Div", Op::Div},
      {"MaxPool", Op::MaxPool},
      {"AveragePool", Op::AvgPool},
      {"GlobalAveragePool", Op::GlobalAvg},
      {"GlobalMaxPool", Op::GlobalMax},
      {"BatchNormalization", Op::BatchNorm},
      {"Concat", Op::Concat},
      // Flatten and Reshape only move data: both become a reshape to the inferred output shape.
      {"Flatten", Op::Reshape},
      {"Reshape", Op::Reshape},
      {"Transpose", Op::Transpose},
      {"Softmax", Op::Softmax},
      {"Resize", Op::Resize},
      {"Upsample", Op::Resize},
      {"HardSwish", Op::HardSwish},
      {"Pad", Op::Pad},
      {"ReduceMean", Op::ReduceMean},
      {"ReduceMax", Op::ReduceMax},
      {"ReduceSum", Op::ReduceSum},
      {"Slice", Op::Slice},
      {"Gather", Op::Gather},
      // Shape-only ops: the target is the inferred output shape, as for Reshape.
      {"Squeeze", Op::Reshape},
      {"Unsqueeze", Op::Reshape},
      {"Cast", Op::Identity},  // import leaves only Cast to float on activations
      // Transformer ops (import fuses PyTorch's LayerNorm and GELU decompositions into these).
      {"Erf", Op::Erf},
      {"Gelu", Op::Gelu},
      {"Pow", Op::Pow},
      {"LayerNormalization", Op::LayerNorm},
  };
  return m;
}

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

// Inputs that the executor reads as numbers at planning time (shapes, scales, bounds), not as
// data flowing through the op: they get no weight_hook and are never parameters.
bool shape_like(const Node& n, size_t k) {
  if (k == 0) return false;
  if (n.op == "Reshape" || n.op == "Upsample") return k == 1;
  return n.op == "Resize" || n.op == "Clip" || n.op == "Pad" || n.op == "ReduceSum" ||
         n.op == "Slice" || n.op == "Gather" || n.op == "Squeeze" || n.op == "Unsqueeze";
}

int64_t norm_axis(const Graph& g, const Node& n, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) fail(g.source, where(n), "axis out of range");
  return axis < 0 ? axis + r : axis;
}

// Sizes as a vector: braced lists would also match the string_view padding overloads.
using Dims = std::vector<int64_t>;

std::vector<int64_t> dims(const torch::Tensor& t) {
  return std::vector<int64_t>(t.sizes().begin(), t.sizes().end());
}

// Per-axis scales of a Resize/Upsample: the executor's own plan (op_table.h).
std::vector<float> resize_scales(const Graph& g, const Node& n, const Shape& x) {
  return resize_plan(g, n, x).scales;
}

// First element of a float initializer, as run_clip reads a bound (an empty or integer-typed
// bound is ignored there too: it reads Tensor::f).
bool clip_const_bound(const Graph& g, const std::string& v, float& out) {
  const Tensor& t = g.init(v);
  if (t.f.empty()) return false;
  out = t.f[0];
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// The lowered program.
//
// Batch rule. Shapes are inferred at batch 1, and run_float runs a larger batch of a batch-1
// model sample by sample. A value is "batched" when its leading dimension is the sample index
// (inferred size 1, produced from the graph input by ops that keep the samples apart in dim 0);
// its shape at batch N is the inferred one with dim 0 = N. Reshape/Flatten targets are taken
// from the inferred output shape with that substitution, which is where a constant Reshape
// target whose first entry is the inferred batch (1, or 0/-1 resolving to it) becomes N while
// its input carries the batch. Values computed from initializers only ("constant") keep their
// inferred shape; a constant operand of Concat is broadcast along the batch. When any
// input-dependent value does not keep the batch in dim 0 (a Transpose moving it, a Concat or
// Softmax over axis 0, a Reshape folding it into another dimension, a Gemm with transA, ...)
// forward() at N > 1 runs the batch sample by sample and concatenates, exactly as run_float
// does; that is still differentiable, only slower.
struct GraphModule::Plan {
  struct Arg {
    std::string name;  // empty: absent optional input
    int slot = -1;     // activation slot, or -1 for an initializer (read through value_of)
    bool batched = false;
  };
  struct Step {
    size_t node = 0;
    Op op = Op::Identity;
    std::vector<Arg> in;
    std::vector<int> out;  // slot per output (-1: output not named)
    ConvGeom conv;
    PoolGeom pool;
    int64_t axis = 0, len = 0;
    float alpha = 0.f, beta = 0.f, gamma = 0.f;
    bool flag_a = false, flag_b = false;  // Gemm transA/transB; AveragePool include_pad
    bool has_lo = false, has_hi = false;  // Clip bounds known at planning time
    float lo = 0.f, hi = 0.f;
    int legacy_axis = -1;  // opset < 7 broadcast: B aligned at this axis of A
    std::vector<int64_t> perm;
    int64_t pad_right = 0, pad_bottom = 0;  // pooling: pads so that exactly OH x OW windows fit
    torch::Tensor divisor;                  // AveragePool: [OH, OW] element counts
    std::vector<std::pair<int64_t, torch::Tensor>> gathers;  // Resize: (axis, source indices)
    // Linear Resize, per interpolated axis: (axis, i0, i1, w1) as resize_linear_axes gives them.
    std::vector<std::tuple<int64_t, torch::Tensor, torch::Tensor, torch::Tensor>> lerps;
  };
  std::vector<Step> steps;
  std::vector<Shape> slot_shape;  // inferred (batch 1)
  std::vector<bool> slot_batched;
  std::vector<std::string> slot_name;
  std::vector<std::vector<int>> release;  // per step: slots whose last reader it is
  int input_slot = -1;
  Shape input_shape;
  bool batch_mode = false;  // one input inferred at batch 1: forward accepts any N >= 1
  bool batch_ok = true;     // the batch rule holds for every input-dependent value
  std::string out_name;
  int out_slot = -1;  // -1: the output is an initializer
};

struct OpLowering {
  using Plan = GraphModule::Plan;

  static std::shared_ptr<const Plan> lower(const Graph& g);
  static void batch_analysis(const Graph& g, Plan& p);
  static torch::Tensor run(const GraphModule& m, const torch::Tensor& x, int64_t N);
  static torch::Tensor step(const GraphModule& m, const Plan& p, const Plan::Step& s,
                            const std::vector<torch::Tensor>& env, int64_t N);
};

// Long by design: one short case per op kind (its geometry or constants precomputed), a table
// read next to step() below; splitting it would separate each op's lowering from its peers.
std::shared_ptr<const GraphModule::Plan> OpLowering::lower(const Graph& g) {
  auto plan = std::make_shared<Plan>();
  Plan& p = *plan;
  std::map<std::string, int> slots;
  auto new_slot = [&](const std::string& v) {
    const int id = static_cast<int>(p.slot_shape.size());
    slots[v] = id;
    p.slot_shape.push_back(g.shape(v));
    p.slot_batched.push_back(false);
    p.slot_name.push_back(v);
    return id;
  };
  if (g.inputs.size() > 1)
    unsupported(g.source, "graph",
                std::to_string(g.inputs.size()) + " inputs (the trainer feeds exactly one)");
  if (g.inputs.size() == 1) {
    p.input_slot = new_slot(g.inputs[0].name);
    p.input_shape = g.shape(g.inputs[0].name);
    p.batch_mode = !p.input_shape.empty() && p.input_shape[0] == 1;
  }
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    auto kind = op_kinds().find(n.op);
    if (kind == op_kinds().end())
      unsupported(g.source, where(n), "op '" + n.op + "' has no torch translation");
    Plan::Step s;
    s.node = k;
    s.op = kind->second;
    size_t used = n.inputs.size();
    while (used > 0 && n.inputs[used - 1].empty()) --used;
    for (size_t i = 0; i < used; ++i) {
      Plan::Arg a;
      a.name = n.inputs[i];
      if (!a.name.empty() && !g.is_const(a.name)) {
        auto it = slots.find(a.name);
        if (it == slots.end())
          fail(g.source, where(n), "input '" + a.name + "' is computed by no earlier node");
        a.slot = it->second;
      }
      s.in.push_back(a);
    }
    const Shape& x = g.shape(n.inputs[0]);
    switch (s.op) {
      case Op::Conv:
        s.conv = conv_geometry(g, n, x, g.shape(n.inputs[1]));
        break;
      case Op::ConvT:
        s.conv = convtranspose_geometry(g, n, x, g.shape(n.inputs[1]));
        break;
      case Op::MaxPool:
      case Op::AvgPool: {
        const PoolGeom& q = s.pool = pool_geometry(g, n, x);
        // Windows are laid over [-pl, W + pad_right): the right/bottom pads (negative: a crop)
        // are whatever makes the geometry's OH x OW windows fit exactly, which covers ceil_mode.
        s.pad_right = (q.OW - 1) * q.sw + (q.kw - 1) * q.dw + 1 - q.W - q.pl;
        s.pad_bottom = (q.OH - 1) * q.sh + (q.kh - 1) * q.dh + 1 - q.H - q.pt;
        if (s.op == Op::AvgPool) {
          s.flag_b = n.attr_i("count_include_pad", 0) != 0;
          // run_pool's own counting: positions past the end padding (ceil_mode windows) never
          // count, padding counts only with count_include_pad. 0/0 stays NaN as there.
          std::vector<float> cnt(static_cast<size_t>(q.OH * q.OW));
          for (int64_t oh = 0; oh < q.OH; ++oh)
            for (int64_t ow = 0; ow < q.OW; ++ow) {
              int64_t c = 0, c_pad = 0;
              for (int64_t i = 0; i < q.kh; ++i) {
                const int64_t ih = oh * q.sh - q.pt + i * q.dh;
                if (ih >= q.H + q.pb) continue;
                for (int64_t j = 0; j < q.kw; ++j) {
                  const int64_t iw = ow * q.sw - q.pl + j * q.dw;
                  if (iw >= q.W + q.pr) continue;
                  ++c_pad;
                  if (ih < 0 || ih >= q.H || iw < 0 || iw >= q.W) continue;
                  ++c;
                }
              }
              cnt[static_cast<size_t>(oh * q.OW + ow)] = static_cast<float>(s.flag_b ? c_pad : c);
            }
          s.divisor = torch::from_blob(cnt.data(), {q.OH, q.OW}, torch::kFloat32).clone();
        }
        break;
      }
      case Op::Gemm:
        s.flag_a = n.attr_i("transA", 0) != 0;
        s.flag_b = n.attr_i("transB", 0) != 0;
        s.alpha = n.attr_f("alpha", 1.f);
        s.beta = n.attr_f("beta", 1.f);
        break;
      case Op::LeakyRelu:
        s.alpha = n.attr_f("alpha", 0.01f);
        break;
      case Op::Elu:
        s.alpha = n.attr_f("alpha", 1.f);
        break;
      case Op::Selu:
        s.alpha = n.attr_f("alpha", 1.67326319f);
        s.gamma = n.attr_f("gamma", 1.05070102f);
        break;
      case Op::HardSigmoid:
        s.alpha = n.attr_f("alpha", 0.2f);
        s.beta = n.attr_f("beta", 0.5f);
        break;
      case Op::Clip:
        if (g.opset < 11) {
          if (n.has("min")) s.has_lo = true, s.lo = n.attr_f("min", 0.f);
          if (n.has("max")) s.has_hi = true, s.hi = n.attr_f("max", 0.f);
          s.in.resize(1);  // no bound inputs before opset 11
        } else {
          for (size_t i = 1; i < s.in.size(); ++i)
            if (!s.in[i].name.empty() && s.in[i].slot < 0) {
              float v = 0.f;
              const bool ok = clip_const_bound(g, s.in[i].name, v);
              (i == 1 ? s.has_lo : s.has_hi) = ok;
              (i == 1 ? s.lo : s.hi) = v;
              s.in[i].name.clear();  // settled: nothing to read at run time
            }
        }
        break;
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
        if (n.attr_i("broadcast", 0) != 0 && n.has("axis")) {
          const int64_t ax = n.attr_i("axis", 0);
          s.legacy_axis = static_cast<int>(ax < 0 ? ax + static_cast<int64_t>(x.size()) : ax);
        }
        break;
      case Op::BatchNorm:
        s.alpha = n.attr_f("epsilon", 1e-5f);
        break;
      case Op::LayerNorm:
        s.alpha = n.attr_f("epsilon", 1e-5f);
        s.axis = norm_axis(g, n, n.attr_i("axis", -1), x.size());
        break;
      case Op::Concat:
        s.axis = norm_axis(g, n, n.attr_i("axis", 1), x.size());
        break;
      case Op::Transpose: {
        auto perm = n.attr_ints("perm");
        if (perm.empty())
          for (size_t d = 0; d < x.size(); ++d)
            perm.push_back(static_cast<int64_t>(x.size() - 1 - d));
        for (auto& d : perm) d = norm_axis(g, n, d, x.size());
        s.perm = perm;
        break;
      }
      case Op::Softmax:
        s.axis = norm_axis(g, n, n.attr_i("axis", g.opset >= 13 ? -1 : 1), x.size());
        s.flag_a = g.opset < 13;
        // Before opset 13 the input is coerced to 2-D at axis: the softmax runs over the
        // flattened trailing block, whose size per sample does not depend on the batch.
        s.len = numel(Shape(x.begin() + s.axis, x.end()));
        break;
      case Op::Resize: {
        const bool up = n.op == "Upsample";
        if (n.attr_s("mode", "nearest") == "linear") {
          for (const LinearAxis& a : resize_linear_axes(g, n, x)) {
            std::vector<int64_t> i0, i1;
            std::vector<float> w1;
            for (const LinearTap& t : a.taps) {
              i0.push_back(t.i0);
              i1.push_back(t.i1);
              w1.push_back(static_cast<float>(t.w1));
            }
            s.lerps.emplace_back(static_cast<int64_t>(a.axis),
                                 torch::tensor(i0, torch::dtype(torch::kLong)),
                                 torch::tensor(i1, torch::dtype(torch::kLong)), torch::tensor(w1));
          }
          s.in.resize(1);
          break;
        }
        const std::vector<float> scales = resize_scales(g, n, x);
        const Shape& out = g.shape(n.outputs[0]);
        for (size_t d = 0; d < x.size(); ++d) {
          std::vector<int64_t> src;
          bool identity = out[d] == x[d];
          for (int64_t o = 0; o < out[d]; ++o) {
            src.push_back(nearest_src(n, up, o, x[d], out[d], scales[d]));
            identity = identity && src.back() == o;
          }
          // Identity axes are skipped; at batch 1 that includes the batch axis, which is what
          // lets the same plan serve any N.
          if (!identity)
            s.gathers.emplace_back(static_cast<int64_t>(d),
                                   torch::tensor(src, torch::dtype(torch::kLong)));
        }
        s.in.resize(1);  // roi/scales/sizes are settled
        break;
      }
      case Op::Reshape:
        s.in.resize(1);  // the target is the inferred output shape
        break;
      case Op::Pad: {
        const PadPlan pp = pad_plan(g, n, x);
        s.alpha = pp.value;
        s.flag_a = pp.mode == "constant";
        if (s.flag_a) {
          // constant_pad_nd takes (begin, end) pairs from the last axis back; negative crops.
          for (size_t d = x.size(); d-- > 0;) {
            s.perm.push_back(pp.begin[d]);
            s.perm.push_back(pp.end[d]);
          }
        } else {  // reflect / edge: one index_select per padded axis, pad_src's mapping
          for (size_t d = 0; d < x.size(); ++d) {
            if (pp.begin[d] == 0 && pp.end[d] == 0) continue;
            std::vector<int64_t> src;
            for (int64_t o = 0; o < pp.out[d]; ++o)
              src.push_back(pad_src(pp.mode, o, pp.begin[d], x[d]));
            s.gathers.emplace_back(static_cast<int64_t>(d),
                                   torch::tensor(src, torch::dtype(torch::kLong)));
          }
        }
        s.in.resize(1);
        break;
      }
      case Op::ReduceMean:
      case Op::ReduceMax:
      case Op::ReduceSum: {
        const ReducePlan rp = reduce_plan(g, n, x);
        s.flag_a = rp.noop;
        s.flag_b = n.attr_i("keepdims", 1) != 0;
        for (size_t d = 0; d < x.size(); ++d)
          if (rp.reduced[d]) s.perm.push_back(static_cast<int64_t>(d));
        s.in.resize(1);
        break;
      }
      case Op::Slice: {
        const SlicePlan sp = slice_plan(g, n, x);
        for (size_t d = 0; d < x.size(); ++d) {
          // Identity axes are skipped (at batch 1 that includes the batch axis, as for Resize).
          if (sp.out[d] == x[d] && sp.start[d] == 0 && sp.step[d] == 1) continue;
          std::vector<int64_t> src;
          for (int64_t o = 0; o < sp.out[d]; ++o) src.push_back(sp.start[d] + o * sp.step[d]);
          s.gathers.emplace_back(static_cast<int64_t>(d),
                                 torch::tensor(src, torch::dtype(torch::kLong)));
        }
        s.in.resize(1);
        break;
      }
      case Op::Gather: {
        int64_t ax = 0;
        const std::vector<int64_t> idx = gather_indices(g, n, x, &ax);
        s.axis = ax;
        s.gathers.emplace_back(ax, torch::tensor(idx, torch::dtype(torch::kLong)));
        s.in.resize(1);
        break;
      }
      default:
        break;
    }
    for (const auto& o : n.outputs) s.out.push_back(o.empty() ? -1 : new_slot(o));
    p.steps.push_back(std::move(s));
  }
  if (g.outputs.empty()) fail(g.source, "graph", "no outputs");
  p.out_name = g.outputs[0].name;
  if (!g.is_const(p.out_name)) {
    auto it = slots.find(p.out_name);
    if (it == slots.end()) fail(g.source, "output '" + p.out_name + "'", "is computed by no node");
    p.out_slot = it->second;
  }
  // Activation slots are dropped after their last reader (the output slot is kept).
  std::vector<int> last(p.slot_shape.size(), -1);
  for (size_t k = 0; k < p.steps.size(); ++k)
    for (const auto& a : p.steps[k].in)
      if (a.slot >= 0) last[static_cast<size_t>(a.slot)] = static_cast<int>(k);
  p.release.resize(p.steps.size());
  for (size_t v = 0; v < last.size(); ++v)
    if (last[v] >= 0 && static_cast<int>(v) != p.out_slot)
      p.release[static_cast<size_t>(last[v])].push_back(static_cast<int>(v));
  batch_analysis(g, p);
  return plan;
}

void OpLowering::batch_analysis(const Graph& g, Plan& p) {
  enum St : uint8_t { kConst, kBatch, kOther };
  std::vector<St> st(p.slot_shape.size(), kConst);
  if (p.input_slot >= 0) st[static_cast<size_t>(p.input_slot)] = p.batch_mode ? kBatch : kOther;
  auto state = [&](const Plan::Arg& a) {
    return a.slot < 0 ? kConst : st[static_cast<size_t>(a.slot)];
  };
  for (auto& s : p.steps) {
    const Node& n = g.nodes[s.node];
    bool dep = false;
    for (const auto& a : s.in) dep = dep || (!a.name.empty() && state(a) != kConst);
    St out = kConst;
    if (dep) {
      const Shape& y = g.shape(n.outputs[0]);
      const size_t r = y.size();
      auto batched = [&](size_t k) { return k < s.in.size() && state(s.in[k]) == kBatch; };
      auto constant = [&](size_t k) {
        return k >= s.in.size() || s.in[k].name.empty() || state(s.in[k]) == kConst;
      };
      auto rank = [&](size_t k) { return g.shape(s.in[k].name).size(); };
      bool ok = r >= 1 && y[0] == 1;
      switch (s.op) {
        case Op::Conv:
        case Op::ConvT:
        case Op::MaxPool:
        case Op::AvgPool:
        case Op::GlobalAvg:
        case Op::GlobalMax:
        case Op::BatchNorm:
        case Op::Resize:
        case Op::Reshape:
          ok = ok && batched(0);
          for (size_t k = 1; k < s.in.size(); ++k) ok = ok && constant(k);
          break;
        case Op::Gemm:
          ok = ok && batched(0) && !s.flag_a && constant(1) &&
               (constant(2) || (batched(2) && rank(2) == 2));
          break;
        case Op::MatMul:
          ok = ok && (constant(0) || (batched(0) && rank(0) == r && rank(0) >= 2)) &&
               (constant(1) || (batched(1) && rank(1) == r && rank(1) >= 3));
          break;
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
        case Op::Div:
        case Op::Pow:
          for (size_t k = 0; k < 2; ++k) ok = ok && (constant(k) || (batched(k) && rank(k) == r));
          if (s.legacy_axis > 0 && !constant(1)) ok = false;
          break;
        case Op::Concat:
          ok = ok && s.axis != 0;
          for (size_t k = 0; k < s.in.size(); ++k) ok = ok && (constant(k) || batched(k));
          break;
        case Op::Transpose:
          ok = ok && batched(0) && s.perm[0] == 0;
          break;
        case Op::Softmax:
          ok = ok && batched(0) && (s.flag_a || s.axis != 0);
          break;
        case Op::LayerNorm:  // normalising over the batch axis would mix samples
          ok = ok && batched(0) && s.axis != 0;
          for (size_t k = 1; k < s.in.size(); ++k) ok = ok && constant(k);
          break;
        case Op::ReduceMean:
        case Op::ReduceMax:
        case Op::ReduceSum:  // reducing the batch axis would mix samples
          ok = ok && batched(0) && (s.flag_a || (!s.perm.empty() && s.perm[0] != 0));
          break;
        case Op::Gather:
          ok = ok && batched(0) && s.axis != 0;
          break;
        default:  // element-wise: the shape and its batch are the input's
          ok = ok && batched(0);
          for (size_t k = 1; k < s.in.size(); ++k) ok = ok && constant(k);
          break;
      }
      out = ok ? kBatch : kOther;
      if (!ok) p.batch_ok = false;
    }
    for (int o : s.out)
      if (o >= 0) {
        st[static_cast<size_t>(o)] = out;
        p.slot_batched[static_cast<size_t>(o)] = out == kBatch;
      }
    for (auto& a : s.in) a.batched = state(a) == kBatch;
  }
  if (p.input_slot >= 0) p.slot_batched[static_cast<size_t>(p.input_slot)] = p.batch_mode;
  // A constant output would be stacked once per sample by run_float.
  if (p.out_slot < 0 || st[static_cast<size_t>(p.out_slot)] != kBatch) p.batch_ok = false;
}

// Long by design: one case per op kind, each the few torch calls of the float executor's kernel
// (ops_float.cpp), in the same order as lower()'s cases.
torch::Tensor OpLowering::step(const GraphModule& m, const Plan& p, const Plan::Step& s,
                               const std::vector<torch::Tensor>& env, int64_t N) {
  auto has = [&](size_t k) { return k < s.in.size() && !s.in[k].name.empty(); };
  auto in = [&](size_t k) -> torch::Tensor {
    const Plan::Arg& a = s.in[k];
    return a.slot >= 0 ? env[static_cast<size_t>(a.slot)] : m.value_of(a.name);
  };
  const torch::Tensor x = in(0);
  switch (s.op) {
    case Op::Conv: {
      const ConvGeom& c = s.conv;
      torch::Tensor x4 = c.one_d ? x.unsqueeze(2) : x;
      torch::Tensor w = in(1);
      if (c.one_d) w = w.unsqueeze(2);
      Dims pad = {c.pt, c.pl};
      if (c.pt != c.pb || c.pl != c.pr) {  // torch pads symmetrically only
        x4 = torch::constant_pad_nd(x4, {c.pl, c.pr, c.pt, c.pb}, 0);
        pad = {0, 0};
      }
      c10::optional<torch::Tensor> b;
      if (has(2)) b = in(2).reshape({-1});
      torch::Tensor y = torch::conv2d(x4, w, b, Dims{c.sh, c.sw}, pad, Dims{c.dh, c.dw}, c.group);
      return c.one_d ? y.squeeze(2) : y;
    }
    case Op::ConvT: {
      const ConvGeom& c = s.conv;
      torch::Tensor x4 = c.one_d ? x.unsqueeze(2) : x;
      torch::Tensor w = in(1);
      if (c.one_d) w = w.unsqueeze(2);
      // The full (uncropped) output, then the geometry's crop: pads are cut from the start and
      // end; a negative end pad (output_shape beyond the kernels' reach, or output_padding) is
      // zero fill that receives only the bias, as in run_convt's scatter.
      torch::Tensor y = torch::conv_transpose2d(x4, w, {}, Dims{c.sh, c.sw}, Dims{0, 0}, Dims{0, 0},
                                                c.group, Dims{c.dh, c.dw});
      const int64_t fh = y.size(2), fw = y.size(3);
      y = torch::constant_pad_nd(y, {-c.pl, c.OW + c.pl - fw, -c.pt, c.OH + c.pt - fh}, 0);
      if (has(2)) y = y + in(2).reshape({1, -1, 1, 1});
      return c.one_d ? y.squeeze(2) : y;
    }
    case Op::Gemm: {
      torch::Tensor a = s.flag_a ? x.t() : x;
      torch::Tensor b = in(1);
      if (s.flag_b) b = b.t();
      torch::Tensor y = torch::mm(a, b);
      if (s.alpha != 1.f) y = y * s.alpha;
      if (has(2)) y = s.beta == 1.f ? y + in(2) : y + s.beta * in(2);
      return y;
    }
    case Op::MatMul:
      return torch::matmul(x, in(1));
    case Op::Relu:
      return torch::relu(x);
    case Op::LeakyRelu:
      return torch::leaky_relu(x, s.alpha);
    case Op::Sigmoid:
      return torch::sigmoid(x);
    case Op::Tanh:
      return torch::tanh(x);
    case Op::Clip: {
      c10::optional<torch::Tensor> lo, hi;
      if (has(1)) lo = in(1).reshape({-1})[0];  // run_clip reads the first element only
      if (has(2)) hi = in(2).reshape({-1})[0];
      if (lo || hi) {
        if (s.has_lo) lo = torch::scalar_tensor(s.lo);
        if (s.has_hi) hi = torch::scalar_tensor(s.hi);
        return torch::clamp(x, lo, hi);
      }
      c10::optional<at::Scalar> l, h;
      if (s.has_lo) l = s.lo;
      if (s.has_hi) h = s.hi;
      if (!l && !h) return x;
      return torch::clamp(x, l, h);
    }
    case Op::Abs:
      return torch::abs(x);
    case Op::Neg:
      return torch::neg(x);
    case Op::Exp:
      return torch::exp(x);
    case Op::Log:
      return torch::log(x);
    case Op::Sqrt:
      return torch::sqrt(x);
    case Op::Reciprocal:
      return torch::reciprocal(x);
    case Op::Elu:
      return torch::elu(x, s.alpha);
    case Op::Selu:
      return torch::elu(x, s.alpha, s.gamma);
    case Op::HardSigmoid:
      return torch::clamp(x * s.alpha + s.beta, 0.f, 1.f);
    case Op::Softplus:
      // Not torch::softplus: its linear branch above 20 differs from log1p(exp(v)), which
      // overflows to inf past 88 in the reference.
      return torch::log1p(torch::exp(x));
    case Op::Softsign:
      return x / (torch::abs(x) + 1.f);
    case Op::Floor:
      return torch::floor(x);
    case Op::Ceil:
      return torch::ceil(x);
    case Op::Identity:
      return x;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div: {
      torch::Tensor b = in(1);
      if (s.legacy_axis >= 0) {  // B padded with 1s around its alignment axis, then numpy rules
        std::vector<int64_t> bs(static_cast<size_t>(s.legacy_axis), 1);
        for (auto d : b.sizes()) bs.push_back(d);
        while (bs.size() < static_cast<size_t>(x.dim())) bs.push_back(1);
        b = b.reshape(bs);
      }
      if (s.op == Op::Add) return x + b;
      if (s.op == Op::Sub) return x - b;
      if (s.op == Op::Mul) return x * b;
      return x / b;
    }
    case Op::MaxPool:
    case Op::AvgPool: {
      const PoolGeom& q = s.pool;
      torch::Tensor x4 = q.one_d ? x.unsqueeze(2) : x;
      const bool is_max = s.op == Op::MaxPool;
      // Max ignores padding (-inf never wins unless the window holds no data, where the
      // reference also yields -inf); the average sums zeros and divides by run_pool's count.
      const double fill = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
      if (q.pl || q.pt || s.pad_right || s.pad_bottom)
        x4 = torch::constant_pad_nd(x4, {q.pl, s.pad_right, q.pt, s.pad_bottom}, fill);
      torch::Tensor y;
      if (is_max) {
        y = torch::max_pool2d(x4, Dims{q.kh, q.kw}, Dims{q.sh, q.sw}, Dims{0, 0}, Dims{q.dh, q.dw},
                              false);
      } else {
        if (q.dh == 1 && q.dw == 1) {
          y = torch::avg_pool2d(x4, Dims{q.kh, q.kw}, Dims{q.sh, q.sw}, Dims{0, 0}, false, true, 1);
        } else {  // avg_pool2d has no dilation: sum with a dilated all-ones depthwise kernel
          const int64_t n = x4.size(0), c = x4.size(1);
          auto flat = x4.reshape({n * c, 1, x4.size(2), x4.size(3)});
          y = torch::conv2d(flat, torch::ones({1, 1, q.kh, q.kw}, x4.options()), {},
                            Dims{q.sh, q.sw}, Dims{0, 0}, Dims{q.dh, q.dw}, 1);
          y = y.reshape({n, c, q.OH, q.OW});
        }
        y = y / s.divisor;
      }
      return q.one_d ? y.squeeze(2) : y;
    }
    case Op::GlobalAvg:
    case Op::GlobalMax: {
      std::vector<int64_t> red;
      for (int64_t d = 2; d < x.dim(); ++d) red.push_back(d);
      return s.op == Op::GlobalAvg ? x.mean(red, true) : torch::amax(x, red, true);
    }
    case Op::BatchNorm: {
      std::vector<int64_t> bs(static_cast<size_t>(x.dim()), 1);
      bs[1] = x.size(1);
      const torch::Tensor inv = in(1).reshape(bs) / torch::sqrt(in(4).reshape(bs) + s.alpha);
      return (x - in(3).reshape(bs)) * inv + in(2).reshape(bs);
    }
    case Op::Concat: {
      std::vector<torch::Tensor> parts;
      for (size_t k = 0; k < s.in.size(); ++k) {
        torch::Tensor t = in(k);
        // A constant operand next to batched ones is the same for every sample.
        if (!s.in[k].batched && N != 1 && p.slot_batched[static_cast<size_t>(s.out[0])]) {
          auto want = dims(t);
          want[0] = N;
          t = t.expand(want);
        }
        parts.push_back(t);
      }
      return torch::cat(parts, s.axis);
    }
    case Op::Reshape: {
      const int slot = s.out[0];
      Shape want = p.slot_shape[static_cast<size_t>(slot)];
      if (p.slot_batched[static_cast<size_t>(slot)]) want[0] = N;
      return x.reshape(want);
    }
    case Op::Transpose:
      return x.permute(s.perm);
    case Op::Softmax:
      if (s.flag_a) return torch::softmax(x.reshape({-1, s.len}), 1).reshape(x.sizes());
      return torch::softmax(x, s.axis);
    case Op::Resize:
    case Op::Slice: {
      torch::Tensor y = x;
      for (const auto& gth : s.gathers) y = y.index_select(gth.first, gth.second);
      // Linear: one axis at a time, as run_resize_linear does.
      for (const auto& l : s.lerps) {
        const int64_t ax = std::get<0>(l);
        std::vector<int64_t> ws(static_cast<size_t>(y.dim()), 1);
        ws[static_cast<size_t>(ax)] = -1;
        const torch::Tensor w1 = std::get<3>(l).reshape(ws);
        y = y.index_select(ax, std::get<1>(l)) * (1.f - w1) +
            y.index_select(ax, std::get<2>(l)) * w1;
      }
      return y;
    }
    case Op::HardSwish:
      return x * torch::clamp(x / 6.f + 0.5f, 0.f, 1.f);
    case Op::Erf:
      return torch::erf(x);
    case Op::Gelu:  // gelu_erf (op_table.h)
      return x * 0.5f * (1.f + torch::erf(x * 0.70710678118654752f));
    case Op::Pow: {
      // The integer exponent of an initializer as float, as run_pow reads it.
      torch::Tensor b = in(1);
      if (!b.is_floating_point()) b = b.to(torch::kFloat32);
      return torch::pow(x, b);
    }
    case Op::LayerNorm: {
      std::vector<int64_t> red, inner;
      for (int64_t d = s.axis; d < x.dim(); ++d) {
        red.push_back(d);
        inner.push_back(x.size(d));
      }
      const torch::Tensor d = x - x.mean(red, true);
      torch::Tensor y = d / torch::sqrt((d * d).mean(red, true) + s.alpha);
      for (size_t k = 1; k < s.in.size(); ++k) {
        if (s.in[k].name.empty()) continue;
        torch::Tensor t = in(k);
        if (t.numel() != 1) t = t.reshape(inner);
        y = k == 1 ? y * t : y + t;
      }
      return y;
    }
    case Op::Pad: {
      if (s.flag_a) return torch::constant_pad_nd(x, s.perm, s.alpha);
      torch::Tensor y = x;
      for (const auto& gth : s.gathers) y = y.index_select(gth.first, gth.second);
      return y;
    }
    case Op::ReduceMean:
    case Op::ReduceMax:
    case Op::ReduceSum:
      if (s.flag_a) return x;
      if (s.op == Op::ReduceMean) return x.mean(s.perm, s.flag_b);
      if (s.op == Op::ReduceSum) return x.sum(s.perm, s.flag_b);
      return torch::amax(x, s.perm, s.flag_b);
    case Op::Gather: {
      torch::Tensor y = x.index_select(s.axis, s.gathers[0].second);
      Shape want = p.slot_shape[static_cast<size_t>(s.out[0])];
      if (p.slot_batched[static_cast<size_t>(s.out[0])]) want[0] = N;
      return y.reshape(want);  // scalar or multi-dimensional indices
    }
  }
  throw std::logic_error("unhandled op");
}

torch::Tensor OpLowering::run(const GraphModule& m, const torch::Tensor& x, int64_t N) {
  const Plan& p = *m.plan_;
  const Graph& g = m.g_;
  std::vector<torch::Tensor> env(p.slot_shape.size());
  if (p.input_slot >= 0)
    env[static_cast<size_t>(p.input_slot)] = m.act_hook ? m.act_hook(g.inputs[0].name, x) : x;
  for (size_t k = 0; k < p.steps.size(); ++k) {
    const Plan::Step& s = p.steps[k];
    const Node& n = g.nodes[s.node];
    torch::Tensor y = step(m, p, s, env, N);
    if (s.out[0] >= 0) {
      Shape want = p.slot_shape[static_cast<size_t>(s.out[0])];
      if (p.slot_batched[static_cast<size_t>(s.out[0])]) want[0] = N;
      if (dims(y) != want)  // the plan and shape inference disagree: a translator bug
        throw std::logic_error(g.source + ": " + where(n) + ": torch result " + shape_str(dims(y)) +
                               ", expected " + shape_str(want));
    }
    for (size_t o = 0; o < s.out.size(); ++o) {
      if (s.out[o] < 0) continue;
      torch::Tensor v = y;
      if (o > 0 && s.op == Op::LayerNorm && s.in[0].slot >= 0) {  // Mean, InvStdDev
        const torch::Tensor& xi = env[static_cast<size_t>(s.in[0].slot)];
        std::vector<int64_t> red;
        for (int64_t d = s.axis; d < xi.dim(); ++d) red.push_back(d);
        const torch::Tensor mean = xi.mean(red, true), d = xi - mean;
        v = o == 1 ? mean : 1.f / torch::sqrt((d * d).mean(red, true) + s.alpha);
      } else if (o > 0) {
        v = torch::zeros_like(y);  // Dropout mask: unused, as there
      }
      env[static_cast<size_t>(s.out[o])] = m.act_hook ? m.act_hook(n.outputs[o], v) : v;
    }
    for (int v : p.release[k]) env[static_cast<size_t>(v)] = torch::Tensor();
  }
  return p.out_slot >= 0 ? env[static_cast<size_t>(p.out_slot)] : m.value_of(p.out_name);
}

// ------------------------------------------------------------------------------------------------

GraphModule::GraphModule(const Graph& g, std::vector<std::string> trainable) : g_(g) {
  if (g_.shapes.empty() && !g_.nodes.empty())
    fail(g_.source, "graph", "shapes are not inferred (load it with load_onnx)");
  if (trainable.empty()) trainable = trainable_initializers(g_);
  for (const auto& name : trainable) {
    if (name.empty()) continue;  // {""} is how a caller asks for no parameters at all
    if (!g_.is_const(name) || !g_.init(name).is_float())
      fail(g_.source, "initializer '" + name + "'", "is not a float initializer to train");
    params_[name] = to_torch(g_.init(name)).set_requires_grad(true);
  }
  for (const Node& n : g_.nodes)
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string& v = n.inputs[k];
      if (v.empty() || shape_like(n, k) || !g_.is_const(v) || params_.count(v)) continue;
      consts_.emplace(v, to_torch(g_.init(v)));
    }
  for (const auto& o : g_.outputs)
    if (g_.is_const(o.name) && !params_.count(o.name))
      consts_.emplace(o.name, to_torch(g_.init(o.name)));
  plan_ = OpLowering::lower(g_);
}

torch::Tensor GraphModule::value_of(const std::string& init) const {
  torch::Tensor t;
  auto p = params_.find(init);
  if (p != params_.end()) {
    t = p->second;
  } else {
    auto c = consts_.find(init);
    t = c != consts_.end() ? c->second : to_torch(g_.init(init));
  }
  return weight_hook ? weight_hook(init, t) : t;
}

torch::Tensor GraphModule::forward(const torch::Tensor& x) const {
  const Plan& p = *plan_;
  if (p.input_slot < 0) return OpLowering::run(*this, x, 1);
  const std::string& name = g_.inputs[0].name;
  const Shape& s = p.input_shape;
  bool ok = x.defined() && x.dim() == static_cast<int64_t>(s.size()) &&
            x.scalar_type() == torch::kFloat32;
  for (size_t d = 0; ok && d < s.size(); ++d)
    ok = x.size(static_cast<int64_t>(d)) == s[d] || (d == 0 && p.batch_mode && x.size(0) >= 1);
  if (!ok)
    fail(g_.source, "forward",
         "tensor " + (x.defined() ? shape_str(dims(x)) : std::string("(undefined)")) +
             " does not fit input '" + name + "' " + shape_str(s) +
             (p.batch_mode ? " (any batch)" : "") + " as float32");
  const int64_t N = s.empty() ? 1 : x.size(0);
  if (N == 1 || !p.batch_mode || p.batch_ok) return OpLowering::run(*this, x, N);
  std::vector<torch::Tensor> ys;
  for (int64_t b = 0; b < N; ++b) ys.push_back(OpLowering::run(*this, x.narrow(0, b, 1), 1));
  return torch::cat(ys, 0);
}

std::vector<torch::Tensor> GraphModule::param_list() const {
  std::vector<torch::Tensor> r;
  for (const auto& kv : params_) r.push_back(kv.second);
  return r;
}

Graph GraphModule::to_graph() const {
  Graph g = g_;
  for (const auto& kv : params_) {
    Tensor& t = g.initializers.at(kv.first);
    Tensor v = from_torch(kv.second);
    if (v.shape != t.shape)
      fail(g.source, "initializer '" + kv.first + "'",
           "parameter has shape " + shape_str(v.shape) + ", the graph " + shape_str(t.shape));
    t.f = std::move(v.f);  // dtype kept: an F64 initializer stays F64 with the new values
  }
  return g;
}

torch::Tensor to_torch(const Tensor& t) {
  torch::Tensor r = torch::empty(t.shape, torch::kFloat32);
  float* d = r.data_ptr<float>();
  const size_t n = static_cast<size_t>(t.size());
  if (t.is_float()) {
    if (t.f.size() != n) throw std::invalid_argument("to_torch: payload size != shape");
    std::memcpy(d, t.f.data(), n * sizeof(float));
  } else {
    if (t.i.size() != n) throw std::invalid_argument("to_torch: payload size != shape");
    for (size_t k = 0; k < n; ++k) d[k] = static_cast<float>(t.i[k]);
  }
  return r;
}

Tensor from_torch(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  Tensor r(dims(c));
  if (!r.f.empty()) std::memcpy(r.f.data(), c.data_ptr<float>(), r.f.size() * sizeof(float));
  return r;
}

std::vector<std::string> trainable_initializers(const Graph& g) {
  std::vector<std::string> r;
  std::set<std::string> seen;
  auto take = [&](const std::string& v) {
    if (v.empty() || !g.is_const(v) || !g.init(v).is_float() || !seen.insert(v).second) return;
    r.push_back(v);
  };
  for (const Node& n : g.nodes) {
    if (n.op == "Conv" || n.op == "ConvTranspose" || n.op == "Gemm") {
      take(n.in(1));
      take(n.in(2));
    } else if (n.op == "MatMul") {
      take(n.in(1));
    } else if (n.op == "Add" || n.op == "Sub") {
      take(n.in(0));
      take(n.in(1));
    } else if (n.op == "BatchNormalization") {  // folded ones are gone; these run unfolded
      take(n.in(1));
      take(n.in(2));
    }
  }
  return r;
}

}  // namespace prunesim::train
