// Bit-exact int8 reference executor: runs a QuantizedModel's layer program with the hls/
// kernels on int8 codes, one sample at a time. Between the input quantization and the output
// dequantization no floating-point value touches an activation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "hls/datapath.h"
#include "int8_runner.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/hls_params.h"
#include "prune/op_geometry.h"
#include "prune/quant.h"

namespace prunesim {
namespace {

int32_t i32(int64_t v) {
  return static_cast<int32_t>(v);
}

// Strides of `s` seen through numpy broadcasting into `out` (0 along broadcast axes).
std::vector<int64_t> bstrides(const Shape& s, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t acc = 1;
  for (size_t k = s.size(); k-- > 0;) {
    const size_t o = k + out.size() - s.size();
    st[o] = s[k] == 1 ? 0 : acc;
    acc *= s[k];
  }
  return st;
}

}  // namespace

namespace detail {

class Runner {
 public:
  Runner(const QuantizedModel& q, Int8LayerKernels* k) : q_(q), g_(q.graph), k_(k) {}

  // Runs every layer on one sample's input codes; returns the output codes.
  const Codes& run(Codes input, const Int8Observer& obs) {
    env_.clear();
    env_[q_.input] = std::move(input);
    return run_from(0, obs);
  }

  // Layers [first, end) on the values already in env_ (seeded by the caller).
  const Codes& run_from(size_t first, const Int8Observer& obs) {
    for (size_t k = first; k < q_.layers.size(); ++k) {
      const QLayer& L = q_.layers[k];
      Codes y;
      layer(k, L, y);
      if (obs) obs(L, y, g_.shape(L.output));
      env_[L.output] = std::move(y);
    }
    return env_.at(q_.output);
  }

  std::map<std::string, Codes>& env() { return env_; }

  // One layer on activations held by the caller (value name -> codes of one sample).
  Codes run_layer(const QLayer& L, const std::map<std::string, Codes>& env) {
    env_.clear();
    for (const std::string& v : g_.nodes[L.node].inputs)
      if (!v.empty() && env.count(v)) env_[v] = env.at(v);
    for (const std::string& v : L.inputs) env_[v] = env.at(v);
    Codes y;
    layer(static_cast<size_t>(&L - q_.layers.data()), L, y);
    return y;
  }

 private:
  const Codes& in(const QLayer& L, size_t k) const { return env_.at(L.inputs.at(k)); }

  void layer(size_t index, const QLayer& L, Codes& y) {
    const Node& n = g_.nodes[L.node];
    const Shape& out_shape = g_.shape(L.output);
    y.assign(static_cast<size_t>(numel(out_shape)), 0);
    const bool mac_layer = L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
                           L.kind == QLayer::Kind::Gemm;
    if (k_ && mac_layer && k_->run(index, L, in(L, 0), y)) return;
    switch (L.kind) {
      case QLayer::Kind::Conv:
      case QLayer::Kind::ConvTranspose: {
        const bool tr = L.kind == QLayer::Kind::ConvTranspose;
        const Shape& xs = g_.shape(L.inputs[0]);
        const ConvGeom c = tr ? convtranspose_geometry(g_, n, xs, L.weight_shape)
                              : conv_geometry(g_, n, xs, L.weight_shape);
        const hls::ConvParams p = conv_params(c, L);
        const Codes& x = in(L, 0);
        const int64_t xi = c.C * c.H * c.W, yi = c.M * c.OH * c.OW;
        for (int64_t b = 0; b < c.N; ++b) {
          if (tr)
            hls::conv_transpose2d(p, x.data() + b * xi, L.weight.data(), L.bias.data(),
                                  L.requant.data(), y.data() + b * yi);
          else
            hls::conv2d(p, x.data() + b * xi, L.weight.data(), L.bias.data(), L.requant.data(),
                        y.data() + b * yi);
        }
        break;
      }
      case QLayer::Kind::Gemm: {
        const int64_t K = L.weight_shape[1], N = L.weight_shape[0];
        const Codes* x = &in(L, 0);
        const int64_t rows = static_cast<int64_t>(x->size()) / K;
        Codes xt;
        if (n.op == "Gemm" && n.attr_i("transA", 0)) {  // A stored [K, M]: gather rows
          xt.resize(x->size());
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < K; ++k)
              xt[static_cast<size_t>(r * K + k)] = (*x)[static_cast<size_t>(k * rows + r)];
          x = &xt;
        }
        hls::gemm(i32(rows), i32(K), i32(N), x->data(), L.weight.data(), L.bias.data(),
                  L.requant.data(), L.act_min, L.act_max, y.data());
        break;
      }
      case QLayer::Kind::MaxPool:
      case QLayer::Kind::AvgPool: {
        const PoolGeom pg = pool_geometry(g_, n, g_.shape(L.inputs[0]));
        hls::PoolParams p = pool_params(pg, pg.N * pg.C);
        p.count_include_pad = n.attr_i("count_include_pad", 0) != 0;
        p.act_min = L.act_min;
        p.act_max = L.act_max;
        if (L.kind == QLayer::Kind::MaxPool)
          hls::max_pool2d(p, in(L, 0).data(), y.data());
        else
          hls::avg_pool2d(p, in(L, 0).data(), L.requant.data(), y.data());
        break;
      }
      case QLayer::Kind::GlobalMaxPool: {
        hls::max_pool2d(global_pool_params(g_.shape(L.inputs[0])), in(L, 0).data(), y.data());
        break;
      }
      case QLayer::Kind::GlobalAvgPool: {
        const Shape& s = g_.shape(L.inputs[0]);
        const int64_t planes = s[0] * s[1];
        hls::global_avg_pool(i32(planes), i32(numel(s) / planes), in(L, 0).data(), L.requant[0],
                             L.act_min, L.act_max, y.data());
        break;
      }
      case QLayer::Kind::Add:
      case QLayer::Kind::Sub:
      case QLayer::Kind::Mul:
        binary(L, out_shape, y);
        break;
      case QLayer::Kind::ReduceSum:
      case QLayer::Kind::ReduceMax:
        reduce(L, n, y);
        break;
      case QLayer::Kind::ResizeLinear:
        resize_linear(L, n, y);
        break;
      case QLayer::Kind::Concat:
        concat(L, n, out_shape, y);
        break;
      case QLayer::Kind::Clamp:
        hls::clamp8(i32(static_cast<int64_t>(y.size())), in(L, 0).data(), L.act_min, L.act_max,
                    y.data());
        break;
      case QLayer::Kind::Lut:
        hls::lut_apply(i32(static_cast<int64_t>(y.size())), L.lut.data(), in(L, 0).data(),
                       y.data());
        break;
      case QLayer::Kind::Softmax:
        softmax(L, n, y);
        break;
      case QLayer::Kind::MatMulAct:
        matmul_act(L, out_shape, y);
        break;
      case QLayer::Kind::LayerNorm: {
        const int32_t inner = i32(static_cast<int64_t>(L.weight.size()));
        const int64_t E = (static_cast<int64_t>(L.exp_lut[0]) << 31) | L.exp_lut[1];
        const Codes& x = in(L, 0);
        for (size_t r = 0; r < y.size(); r += static_cast<size_t>(inner))
          hls::layernorm8(inner, x.data() + r, L.weight.data(), L.bias.data(), L.requant.data(), E,
                          L.act_min, L.act_max, y.data() + r);
        break;
      }
      case QLayer::Kind::Move:
        move(L, n, y);
        break;
    }
  }

  // Add, Sub and Mul with numpy broadcasting; a constant operand is the layer's inline weight.
  void binary(const QLayer& L, const Shape& out, Codes& y) const {
    const Codes* op[2];
    Shape shp[2];
    size_t a = 0;
    for (int i = 0; i < 2; ++i) {
      if (i == L.const_operand) {
        op[i] = &L.weight;
        shp[i] = L.weight_shape;
      } else {
        op[i] = &in(L, a);
        shp[i] = g_.shape(L.inputs[a]);
        ++a;
      }
    }
    hls::AddParams p;
    if (L.kind != QLayer::Kind::Mul) {
      p.a = L.requant[0];
      p.b = L.requant[1];
      p.out = L.requant[2];
      p.act_min = L.act_min;
      p.act_max = L.act_max;
    }
    auto f = [&](int8_t u, int8_t v) {
      switch (L.kind) {
        case QLayer::Kind::Sub:
          return hls::sub8(u, v, p);
        case QLayer::Kind::Mul:
          return hls::mul8(u, v, L.requant[0], L.act_min, L.act_max);
        default:
          return hls::add8(u, v, p);
      }
    };
    if (shp[0] == out && shp[1] == out) {
      if (L.kind == QLayer::Kind::Add) {
        hls::add8(i32(static_cast<int64_t>(y.size())), op[0]->data(), op[1]->data(), p, y.data());
        return;
      }
      for (size_t k = 0; k < y.size(); ++k) y[k] = f((*op[0])[k], (*op[1])[k]);
      return;
    }
    const auto sa = bstrides(shp[0], out), sb = bstrides(shp[1], out);
    std::vector<int64_t> idx(out.size(), 0);
    int64_t ia = 0, ib = 0;
    for (size_t k = 0; k < y.size(); ++k) {
      y[k] = f((*op[0])[static_cast<size_t>(ia)], (*op[1])[static_cast<size_t>(ib)]);
      for (size_t d = out.size(); d-- > 0;) {  // odometer over the output index
        ++idx[d];
        ia += sa[d];
        ib += sb[d];
        if (idx[d] < out[d]) break;
        ia -= sa[d] * out[d];
        ib -= sb[d] * out[d];
        idx[d] = 0;
      }
    }
  }

  // The reduced codes of each output are gathered contiguously (in input order) and handed to
  // the kernel: the sum is order-free integer addition, the max order-free too.
  void reduce(const QLayer& L, const Node& n, Codes& y) const {
    const Shape& xs = g_.shape(L.inputs[0]);
    const ReducePlan p = reduce_plan(g_, n, xs);
    const Codes& x = in(L, 0);
    Shape kept;
    for (size_t d = 0; d < xs.size(); ++d) kept.push_back(p.reduced[d] ? 1 : xs[d]);
    std::vector<int64_t> ks(xs.size(), 1);
    for (size_t d = xs.size(); d-- > 1;) ks[d - 1] = ks[d] * kept[d];
    std::vector<Codes> groups(y.size());
    std::vector<int64_t> idx(xs.size(), 0);
    for (size_t k = 0; k < x.size(); ++k) {
      int64_t o = 0;
      for (size_t d = 0; d < xs.size(); ++d)
        if (!p.reduced[d]) o += idx[d] * ks[d];
      groups[static_cast<size_t>(o)].push_back(x[k]);
      for (size_t d = xs.size(); d-- > 0;) {
        if (++idx[d] < xs[d]) break;
        idx[d] = 0;
      }
    }
    for (size_t o = 0; o < y.size(); ++o) {
      const int32_t cnt = i32(static_cast<int64_t>(groups[o].size()));
      y[o] = L.kind == QLayer::Kind::ReduceMax
                 ? hls::reduce_max8(cnt, groups[o].data())
                 : hls::reduce_sum8(cnt, groups[o].data(), L.requant[0], L.act_min, L.act_max);
    }
  }

  // Linear Resize over one or two axes: per axis w1 = round(lambda * 2^kLerpBits),
  // w0 = 2^kLerpBits - w1 (the weights sum exactly to one); the 2 or 4 neighbours' codes are
  // weighted by the products and rounded back (quantization.md §9).
  void resize_linear(const QLayer& L, const Node& n, Codes& y) const {
    const Shape& xs = g_.shape(L.inputs[0]);
    const Shape& os = g_.shape(L.output);
    const auto axes = resize_linear_axes(g_, n, xs);
    const Codes& x = in(L, 0);
    std::vector<int64_t> st(xs.size(), 1);
    for (size_t d = xs.size(); d-- > 1;) st[d - 1] = st[d] * xs[d];
    std::vector<int> which(xs.size(), -1);  // axis -> index into axes
    for (size_t a = 0; a < axes.size(); ++a) which[axes[a].axis] = static_cast<int>(a);
    const int32_t one = 1 << hls::kLerpBits;
    const int shift = hls::kLerpBits * static_cast<int>(axes.size());
    std::vector<int64_t> idx(os.size(), 0);
    for (size_t k = 0; k < y.size(); ++k) {
      int64_t base = 0;
      for (size_t d = 0; d < os.size(); ++d)
        if (which[d] < 0) base += idx[d] * st[d];
      int8_t taps[4];
      int32_t w[4];
      int32_t cnt = 1;
      taps[0] = 0;
      w[0] = 1;
      int64_t off[4] = {base, 0, 0, 0};
      for (const LinearAxis& a : axes) {
        const LinearTap& t = a.taps[static_cast<size_t>(idx[a.axis])];
        const int32_t w1 = static_cast<int32_t>(std::llround(t.w1 * one)), w0 = one - w1;
        for (int32_t j = cnt; j-- > 0;) {  // each existing neighbour splits in two
          off[2 * j + 1] = off[j] + t.i1 * st[a.axis];
          w[2 * j + 1] = w[j] * w1;
          off[2 * j] = off[j] + t.i0 * st[a.axis];
          w[2 * j] = w[j] * w0;
        }
        cnt *= 2;
      }
      for (int32_t j = 0; j < cnt; ++j) taps[j] = x[static_cast<size_t>(off[j])];
      y[k] = shift == 0 ? taps[0] : hls::lerp8(cnt, taps, w, shift);
      for (size_t d = os.size(); d-- > 0;) {
        if (++idx[d] < os[d]) break;
        idx[d] = 0;
      }
    }
  }

  // Pad moves codes with the float op's plan; the constant fill is the value's own code at the
  // input scale, sat8(round(value / s_in)) (0 for the zero padding PyTorch emits).
  void pad(const QLayer& L, const Node& n, Codes& y) const {
    const Shape& xs = g_.shape(L.inputs[0]);
    const PadPlan p = pad_plan(g_, n, xs);
    const int8_t fill = hls::quantize_value(p.value, q_.scales.at(L.inputs[0]));
    const Codes& x = in(L, 0);
    std::vector<int64_t> st(xs.size(), 1);
    for (size_t d = xs.size(); d-- > 1;) st[d - 1] = st[d] * xs[d];
    std::vector<int64_t> idx(p.out.size(), 0);
    for (size_t k = 0; k < y.size(); ++k) {
      int64_t off = 0;
      bool inside = true;
      for (size_t d = 0; d < idx.size() && inside; ++d) {
        const int64_t s = pad_src(p.mode, idx[d], p.begin[d], xs[d]);
        inside = s >= 0;
        off += s * st[d];
      }
      y[k] = inside ? x[static_cast<size_t>(off)] : fill;
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < p.out[d]) break;
        idx[d] = 0;
      }
    }
  }

  // Node inputs in order; a constant one (const_operand) is the layer's weight, already at the
  // output scale.
  void concat(const QLayer& L, const Node& n, const Shape& out, Codes& y) const {
    int64_t ax = n.attr_i("axis", 0);
    if (ax < 0) ax += static_cast<int64_t>(out.size());
    const int64_t outer = numel(Shape(out.begin(), out.begin() + ax));
    const size_t count = L.inputs.size() + (L.const_operand >= 0 ? 1 : 0);
    std::vector<Codes> parts(count);
    std::vector<int64_t> chunk(count);
    for (size_t i = 0, a = 0; i < count; ++i) {
      Shape s;
      if (static_cast<int>(i) == L.const_operand) {
        parts[i] = L.weight;
        s = L.weight_shape;
      } else {
        const Codes& x = in(L, a);
        parts[i].resize(x.size());
        hls::rescale8(i32(static_cast<int64_t>(x.size())), x.data(), L.requant[a], parts[i].data());
        s = g_.shape(L.inputs[a]);
        ++a;
      }
      chunk[i] = numel(Shape(s.begin() + ax, s.end()));
    }
    size_t o = 0;
    for (int64_t r = 0; r < outer; ++r)
      for (size_t i = 0; i < parts.size(); ++i) {
        std::copy_n(parts[i].begin() + r * chunk[i], chunk[i], y.begin() + static_cast<int64_t>(o));
        o += static_cast<size_t>(chunk[i]);
      }
  }

  // numpy MatMul of two activations (both at least 2-D): the batch dimensions broadcast, each
  // [M, K] x [K, N] pair runs hls::matmul8.
  void matmul_act(const QLayer& L, const Shape& out, Codes& y) const {
    const Shape& as = g_.shape(L.inputs[0]);
    const Shape& bs = g_.shape(L.inputs[1]);
    const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    const Shape ob(out.begin(), out.end() - 2);
    const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    const auto sa = bstrides(ab, ob), sb = bstrides(bb, ob);
    const Codes& a = in(L, 0);
    const Codes& b = in(L, 1);
    const int64_t batches = numel(ob);
    std::vector<int64_t> idx(ob.size(), 0);
    for (int64_t t = 0; t < batches; ++t) {
      int64_t ia = 0, ib = 0;
      for (size_t d = 0; d < ob.size(); ++d) {
        ia += idx[d] * sa[d];
        ib += idx[d] * sb[d];
      }
      hls::matmul8(i32(M), i32(K), i32(N), a.data() + ia * M * K, b.data() + ib * K * N,
                   L.requant[0], L.act_min, L.act_max, y.data() + t * M * N);
      for (size_t d = ob.size(); d-- > 0;) {
        if (++idx[d] < ob[d]) break;
        idx[d] = 0;
      }
    }
  }

  // Same axis convention as the float executor: one axis from opset 13, before that the
  // input coerced to 2-D at `axis`.
  void softmax(const QLayer& L, const Node& n, Codes& y) const {
    const Shape& s = g_.shape(L.inputs[0]);
    int64_t ax = n.attr_i("axis", g_.opset >= 13 ? -1 : 1);
    if (ax < 0) ax += static_cast<int64_t>(s.size());
    const int64_t outer = numel(Shape(s.begin(), s.begin() + ax));
    int64_t len = numel(Shape(s.begin() + ax, s.end())), inner = 1;
    if (g_.opset >= 13) {
      len = s[static_cast<size_t>(ax)];
      inner = numel(Shape(s.begin() + ax + 1, s.end()));
    }
    const Codes& x = in(L, 0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        hls::softmax8(i32(len), i32(inner), x.data() + o * len * inner + i, L.exp_lut.data(),
                      y.data() + o * len * inner + i);
  }

  // Pure data movement (reshape, transpose, nearest resize) goes through the float op table on
  // the codes held as floats: every int8 value is exact in float32 and these ops only copy, so
  // the index mapping is the float executor's by construction.
  void move(const QLayer& L, const Node& n, Codes& y) const {
    if (n.op == "Pad") {
      pad(L, n, y);
      return;
    }
    size_t used = n.inputs.size();
    while (used > 0 && n.inputs[used - 1].empty()) --used;
    std::vector<Tensor> holders(used);
    std::vector<const Tensor*> ins(used, nullptr);
    for (size_t i = 0; i < used; ++i) {
      const std::string& v = n.inputs[i];
      if (v.empty()) continue;
      if (g_.is_const(v)) {
        ins[i] = &g_.init(v);
        continue;
      }
      const Codes& c = env_.at(v);
      holders[i] = Tensor(g_.shape(v), std::vector<float>(c.begin(), c.end()));
      ins[i] = &holders[i];
    }
    std::vector<Tensor> outs(n.outputs.size());
    find_op(n.op)->run(g_, n, ins, outs);
    const Tensor& t = outs.at(0);
    y.resize(t.f.size());
    for (size_t k = 0; k < t.f.size(); ++k) y[k] = static_cast<int8_t>(t.f[k]);
    (void)L;
  }

  const QuantizedModel& q_;
  const Graph& g_;
  Int8LayerKernels* k_ = nullptr;
  std::map<std::string, Codes> env_;
};

Int8Program::Int8Program(const QuantizedModel& q, Int8LayerKernels* k)
    : r_(std::make_unique<Runner>(q, k)) {}
Int8Program::~Int8Program() = default;
const Codes& Int8Program::run(Codes input, const Int8Observer& obs) {
  return r_->run(std::move(input), obs);
}
const Codes& Int8Program::run_from(std::map<std::string, Codes> env, size_t first,
                                   const Int8Observer& obs) {
  r_->env() = std::move(env);
  return r_->run_from(first, obs);
}

}  // namespace detail

std::vector<bool> reduced_axes(const QuantizedModel& q, const QLayer& L) {
  return reduce_plan(q.graph, q.graph.nodes[L.node], q.graph.shape(L.inputs.at(0))).reduced;
}

std::vector<int64_t> move_gather(const QuantizedModel& q, const QLayer& L,
                                 const std::vector<int64_t>& from) {
  const Graph& g = q.graph;
  const Node& n = g.nodes[L.node];
  if (L.kind != QLayer::Kind::Move || n.op == "Pad")
    fail("layer '" + L.name + "'", n.op, "is not a gather of its input's codes");
  if (from.size() >= (size_t{1} << 24))
    fail("layer '" + L.name + "'", n.op, "input of more than 2^24 elements");
  std::vector<Tensor> holders(n.inputs.size());
  std::vector<const Tensor*> ins(n.inputs.size(), nullptr);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const std::string& v = n.inputs[i];
    if (v.empty()) continue;
    if (g.is_const(v)) {
      ins[i] = &g.init(v);
      continue;
    }
    holders[i] = Tensor(g.shape(v), std::vector<float>(from.begin(), from.end()));
    ins[i] = &holders[i];
  }
  std::vector<Tensor> outs(n.outputs.size());
  find_op(n.op)->run(g, n, ins, outs);
  std::vector<int64_t> map(outs.at(0).f.size());
  for (size_t k = 0; k < map.size(); ++k) map[k] = static_cast<int64_t>(outs[0].f[k]);
  return map;
}

namespace detail {

int64_t check_int8_input(const QuantizedModel& q, const Tensor& x, Shape* sample) {
  const int64_t n = split_samples(q.graph, x, "input", sample);
  bool bad = false;  // a branch-free (vectorisable) pass first; the element is found on error
  for (float v : x.f) bad |= !(std::fabs(v) <= std::numeric_limits<float>::max());
  for (size_t k = 0; bad && k < x.f.size(); ++k)
    if (!std::isfinite(x.f[k]))
      fail("input", "element " + std::to_string(k),
           std::string(std::isnan(x.f[k]) ? "NaN" : "Inf") + " (input data must be finite)");
  return n;
}

Int8Result int8_result(const QuantizedModel& q, int64_t n) {
  Shape out = q.graph.shape(q.output);
  if (out.empty())
    out = {n};
  else
    out[0] *= n;
  Int8Result r;
  r.output_scale = q.output_scale;
  r.output_int8.dtype = DType::I8;
  r.output_int8.shape = out;
  r.output_int8.i.assign(static_cast<size_t>(numel(out)), 0);
  r.output_float = Tensor(out);
  return r;
}

void dequantize_result(const QuantizedModel& q, Int8Result& r) {
  for (size_t k = 0; k < r.output_int8.i.size(); ++k)
    r.output_float.f[k] =
        hls::dequantize_value(static_cast<int8_t>(r.output_int8.i[k]), q.output_scale);
}

}  // namespace detail

Int8Result run_int8(const QuantizedModel& q, const Tensor& x, const Int8Observer& obs) {
  Shape S;
  const int64_t n = detail::check_int8_input(q, x, &S);
  const int64_t per = numel(S);
  Int8Result r = detail::int8_result(q, n);
  detail::Runner run(q, nullptr);
  size_t o = 0;
  for (int64_t s = 0; s < n; ++s) {
    Codes xin(static_cast<size_t>(per));
    for (int64_t k = 0; k < per; ++k)
      xin[static_cast<size_t>(k)] =
          hls::quantize_value(x.f[static_cast<size_t>(s * per + k)], q.input_scale);
    const Codes& y = run.run(std::move(xin), obs);
    for (int8_t v : y) r.output_int8.i[o++] = v;
  }
  detail::dequantize_result(q, r);
  return r;
}

std::vector<int8_t> run_int8_layer(const QuantizedModel& q, size_t layer,
                                   const std::map<std::string, std::vector<int8_t>>& env) {
  detail::Runner run(q, nullptr);
  return run.run_layer(q.layers.at(layer), env);
}

hls::ConvParams conv_params(const ConvGeom& c, const QLayer& L) {
  hls::ConvParams p;
  p.in_c = static_cast<int32_t>(c.C);
  p.in_h = static_cast<int32_t>(c.H);
  p.in_w = static_cast<int32_t>(c.W);
  p.out_c = static_cast<int32_t>(c.M);
  p.out_h = static_cast<int32_t>(c.OH);
  p.out_w = static_cast<int32_t>(c.OW);
  p.k_h = static_cast<int32_t>(c.kh);
  p.k_w = static_cast<int32_t>(c.kw);
  p.stride_h = static_cast<int32_t>(c.sh);
  p.stride_w = static_cast<int32_t>(c.sw);
  p.dil_h = static_cast<int32_t>(c.dh);
  p.dil_w = static_cast<int32_t>(c.dw);
  p.pad_top = static_cast<int32_t>(c.pt);
  p.pad_left = static_cast<int32_t>(c.pl);
  p.groups = static_cast<int32_t>(c.group);
  p.act_min = L.act_min;
  p.act_max = L.act_max;
  return p;
}

hls::PoolParams global_pool_params(const Shape& s) {
  hls::PoolParams p;
  p.channels = static_cast<int32_t>(s[0] * s[1]);
  p.in_h = p.k_h = s.size() == 4 ? static_cast<int32_t>(s[2]) : 1;
  p.in_w = p.k_w = static_cast<int32_t>(s.back());
  return p;
}

hls::PoolParams pool_params(const PoolGeom& g, int64_t channels) {
  hls::PoolParams p;
  p.channels = static_cast<int32_t>(channels);
  p.in_h = static_cast<int32_t>(g.H);
  p.in_w = static_cast<int32_t>(g.W);
  p.out_h = static_cast<int32_t>(g.OH);
  p.out_w = static_cast<int32_t>(g.OW);
  p.k_h = static_cast<int32_t>(g.kh);
  p.k_w = static_cast<int32_t>(g.kw);
  p.stride_h = static_cast<int32_t>(g.sh);
  p.stride_w = static_cast<int32_t>(g.sw);
  p.dil_h = static_cast<int32_t>(g.dh);
  p.dil_w = static_cast<int32_t>(g.dw);
  p.pad_top = static_cast<int32_t>(g.pt);
  p.pad_left = static_cast<int32_t>(g.pl);
  p.pad_bottom = static_cast<int32_t>(g.pb);
  p.pad_right = static_cast<int32_t>(g.pr);
  return p;
}

}  // namespace prunesim
