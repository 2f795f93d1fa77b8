// Float32 semantics of every supported op (ONNX operator definitions, opsets 7–17).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "base/limits.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace {

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

int64_t norm_axis(const Graph& g, const Node& n, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    fail(g.source, where(n),
         "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

std::vector<Shape> same_shape(const Graph&, const Node&, const std::vector<Shape>& in) {
  return {in[0]};
}

// ---------------------------------------------------------------- element-wise unary
template <typename F>
void unary(const Tensor& x, Tensor& y, F f) {
  y = Tensor(x.shape);
  for (size_t k = 0; k < x.f.size(); ++k) y.f[k] = f(x.f[k]);
}

void run_relu(const Graph&, const Node&, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  unary(*in[0], out[0], [](float v) { return v > 0.f ? v : 0.f; });
}
void run_leaky(const Graph&, const Node& n, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out) {
  const float a = n.attr_f("alpha", 0.01f);
  unary(*in[0], out[0], [a](float v) { return v >= 0.f ? v : a * v; });
}
void run_sigmoid(const Graph&, const Node&, const std::vector<const Tensor*>& in,
                 std::vector<Tensor>& out) {
  unary(*in[0], out[0], [](float v) { return 1.f / (1.f + std::exp(-v)); });
}
void run_tanh(const Graph&, const Node&, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  unary(*in[0], out[0], [](float v) { return std::tanh(v); });
}
// Element-wise unary ops with no parameters beyond optional alpha/beta/gamma attributes.
template <int kOp>
void run_unary(const Graph&, const Node& n, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out) {
  const float alpha = n.attr_f("alpha", kOp == 7 ? 1.67326319f : kOp == 8 ? 0.2f : 1.f);
  const float beta = n.attr_f("beta", 0.5f), gamma = n.attr_f("gamma", 1.05070102f);
  unary(*in[0], out[0], [=](float v) -> float {
    switch (kOp) {
      case 0:
        return std::fabs(v);
      case 1:
        return -v;
      case 2:
        return std::exp(v);
      case 3:
        return std::log(v);
      case 4:
        return std::sqrt(v);
      case 5:
        return 1.f / v;
      case 6:
        return v >= 0.f ? v : alpha * (std::exp(v) - 1.f);  // Elu
      case 7:
        return gamma * (v > 0.f ? v : alpha * (std::exp(v) - 1.f));  // Selu
      case 8:
        return std::max(0.f, std::min(1.f, alpha * v + beta));  // HardSigmoid
      case 9:
        return std::log1p(std::exp(v));  // Softplus
      case 10:
        return v / (1.f + std::fabs(v));  // Softsign
      case 11:
        return std::floor(v);
      case 12:
        return std::ceil(v);
      case 13:  // HardSwish: x * HardSigmoid(x) with alpha 1/6, beta 1/2 (ONNX opset 14)
        return v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f));
      case 14:
        return std::erf(v);
      case 15:  // Gelu (the erf form; the int8 table evaluates the same function)
        return gelu_erf(v);
      default:
        return v;
    }
  });
}

void run_identity(const Graph&, const Node&, const std::vector<const Tensor*>& in,
                  std::vector<Tensor>& out) {
  out[0] = *in[0];
  for (size_t k = 1; k < out.size(); ++k) out[k] = Tensor(in[0]->shape);  // Dropout mask: unused
}

// Clip bounds come from attributes before opset 11 and from optional inputs after.
void clip_bounds(const Graph& g, const Node& n, const std::vector<const Tensor*>& in, float& lo,
                 float& hi) {
  lo = -std::numeric_limits<float>::infinity();
  hi = std::numeric_limits<float>::infinity();
  if (g.opset < 11) {
    lo = n.attr_f("min", lo);
    hi = n.attr_f("max", hi);
    return;
  }
  if (in.size() > 1 && in[1] && !in[1]->f.empty()) lo = in[1]->f[0];
  if (in.size() > 2 && in[2] && !in[2]->f.empty()) hi = in[2]->f[0];
}
void run_clip(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  float lo, hi;
  clip_bounds(g, n, in, lo, hi);
  unary(*in[0], out[0], [lo, hi](float v) { return std::min(std::max(v, lo), hi); });
}

// ---------------------------------------------------------------- broadcasting binary
Shape broadcast_shape(const Graph& g, const Node& n, const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape s(r);
  for (size_t k = 0; k < r; ++k) {
    const int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    const int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(g.source, where(n),
           "shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    s[k] = da == 1 ? db : da;
  }
  return s;
}
// Opset < 7 binary ops broadcast B only when broadcast=1, aligned at `axis` of A (or as a
// suffix); the result is the same as numpy broadcasting of B padded with 1s.
Shape legacy_b_shape(const Graph& g, const Node& n, const Shape& a, const Shape& b) {
  if (n.attr_i("broadcast", 0) == 0 || !n.has("axis")) return b;
  // B aligned at `axis` must fit inside A: axis in [-rank(A), rank(A) - rank(B)].
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", 0), a.size());
  if (ax + static_cast<int64_t>(b.size()) > static_cast<int64_t>(a.size()))
    fail(g.source, where(n),
         "broadcast axis " + std::to_string(ax) + " puts B " + shape_str(b) + " beyond A " +
             shape_str(a));
  Shape s(static_cast<size_t>(ax), 1);
  s.insert(s.end(), b.begin(), b.end());
  while (s.size() < a.size()) s.push_back(1);
  return s;
}
std::vector<Shape> infer_binary(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {broadcast_shape(g, n, in[0], legacy_b_shape(g, n, in[0], in[1]))};
}

// Strides of `s` seen through broadcasting into `out` (0 where broadcast).
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

template <typename F>
void binary(const Graph& g, const Node& n, const Tensor& a, const Tensor& b, Tensor& y, F f) {
  const Shape bs = legacy_b_shape(g, n, a.shape, b.shape);
  const Shape s = broadcast_shape(g, n, a.shape, bs);
  y = Tensor(s);
  const auto sa = bstrides(a.shape, s), sb = bstrides(bs, s);
  const size_t r = s.size();
  std::vector<int64_t> idx(r, 0);
  const int64_t total = numel(s);
  int64_t ia = 0, ib = 0;
  for (int64_t k = 0; k < total; ++k) {
    y.f[static_cast<size_t>(k)] = f(a.f[static_cast<size_t>(ia)], b.f[static_cast<size_t>(ib)]);
    for (size_t d = r; d-- > 0;) {  // odometer increment keeps ia/ib without divisions
      ++idx[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < s[d]) break;
      ia -= sa[d] * s[d];
      ib -= sb[d] * s[d];
      idx[d] = 0;
    }
  }
}
void run_add(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  binary(g, n, *in[0], *in[1], out[0], [](float a, float b) { return a + b; });
}
void run_sub(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  binary(g, n, *in[0], *in[1], out[0], [](float a, float b) { return a - b; });
}
void run_mul(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  binary(g, n, *in[0], *in[1], out[0], [](float a, float b) { return a * b; });
}
void run_div(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  binary(g, n, *in[0], *in[1], out[0], [](float a, float b) { return a / b; });
}
// Pow: float only (the decomposed LayerNorm's square is fused away at import; an unfused Pow
// has no int8 rule). Exponent 2 as a product: what PyTorch's kernel does for it.
void run_pow(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  // The exponent may be an integer initializer (ONNX allows T1 float, T2 int): as floats.
  Tensor conv[2];
  const Tensor* v[2] = {in[0], in[1]};
  for (int k = 0; k < 2; ++k)
    if (!v[k]->is_float()) {
      conv[k] = Tensor(v[k]->shape);
      for (size_t e = 0; e < v[k]->i.size(); ++e) conv[k].f[e] = static_cast<float>(v[k]->i[e]);
      v[k] = &conv[k];
    }
  binary(g, n, *v[0], *v[1], out[0],
         [](float a, float b) { return b == 2.f ? a * a : std::pow(a, b); });
}

// ---------------------------------------------------------------- LayerNormalization
// Opset 17's op, and what import fuses PyTorch's opset-13 decomposition into
// (graph_passes.cpp fuse_layernorm): normalised over the axes [axis, rank), mean and variance
// in double (then the result is within float32 rounding of both forms), Scale and B broadcast
// over the normalised block (numel equal to it, or 1).
void check_layernorm(const Graph& g, const Node& n) {
  if (n.attr_i("stash_type", 1) != 1)
    unsupported(g.source, where(n), "stash_type other than 1 (float32) is not supported");
}
std::vector<Shape> infer_layernorm(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", -1), in[0].size());
  const Shape inner(in[0].begin() + ax, in[0].end());
  for (size_t k = 1; k < in.size(); ++k) {
    if (in[k].empty() && n.in(k).empty()) continue;
    const int64_t c = numel(in[k]);
    if (c != numel(inner) && c != 1)
      fail(g.source, where(n),
           "input " + std::to_string(k) + " of shape " + shape_str(in[k]) +
               " does not match the normalised shape " + shape_str(inner));
  }
  // Mean and InvStdDev (optional outputs): the normalised axes kept at 1.
  Shape stat = in[0];
  for (size_t k = static_cast<size_t>(ax); k < stat.size(); ++k) stat[k] = 1;
  return {in[0], stat, stat};
}
void run_layernorm(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                   std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", -1), x.shape.size());
  const int64_t inner = numel(Shape(x.shape.begin() + ax, x.shape.end()));
  const int64_t rows = numel(x.shape) / inner;
  const double eps = n.attr_f("epsilon", 1e-5f);
  const Tensor* sc = in.size() > 1 ? in[1] : nullptr;
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  auto at = [](const Tensor* t, int64_t i, float dflt) {
    if (!t) return dflt;
    return t->f[t->f.size() == 1 ? 0 : static_cast<size_t>(i)];
  };
  out[0] = Tensor(x.shape);
  Shape stat = x.shape;
  for (size_t k = static_cast<size_t>(ax); k < stat.size(); ++k) stat[k] = 1;
  for (size_t k = 1; k < out.size(); ++k) out[k] = Tensor(stat);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.f.data() + r * inner;
    float* yr = out[0].f.data() + r * inner;
    double mean = 0.0;
    for (int64_t i = 0; i < inner; ++i) mean += xr[i];
    mean /= static_cast<double>(inner);
    double var = 0.0;
    for (int64_t i = 0; i < inner; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<double>(inner);
    const double inv = 1.0 / std::sqrt(var + eps);
    if (out.size() > 1) out[1].f[static_cast<size_t>(r)] = static_cast<float>(mean);
    if (out.size() > 2) out[2].f[static_cast<size_t>(r)] = static_cast<float>(inv);
    for (int64_t i = 0; i < inner; ++i)
      yr[i] = static_cast<float>((xr[i] - mean) * inv * at(sc, i, 1.f) + at(b, i, 0.f));
  }
}

// ---------------------------------------------------------------- Conv / ConvTranspose
std::vector<Shape> infer_conv(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  ConvGeom c = conv_geometry(g, n, in[0], in[1]);
  if (in.size() > 2 && numel(in[2]) != c.M) fail(g.source, where(n), "bias size != out channels");
  return {c.out_shape()};
}
void run_conv(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  const Tensor &x = *in[0], &w = *in[1];
  const ConvGeom c = conv_geometry(g, n, x.shape, w.shape);
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  Tensor y(c.out_shape());
  const int64_t cpg = c.C / c.group, mpg = c.M / c.group;
  for (int64_t bn = 0; bn < c.N; ++bn)
    for (int64_t m = 0; m < c.M; ++m) {
      const int64_t gi = m / mpg;
      const float bias = b ? b->f[static_cast<size_t>(m)] : 0.f;
      for (int64_t oh = 0; oh < c.OH; ++oh)
        for (int64_t ow = 0; ow < c.OW; ++ow) {
          double acc = 0.0;  // double accumulation keeps the reference well inside 1e-5
          for (int64_t ci = 0; ci < cpg; ++ci) {
            const int64_t cin = gi * cpg + ci;
            for (int64_t i = 0; i < c.kh; ++i) {
              const int64_t ih = oh * c.sh - c.pt + i * c.dh;
              if (ih < 0 || ih >= c.H) continue;
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t iw = ow * c.sw - c.pl + j * c.dw;
                if (iw < 0 || iw >= c.W) continue;
                acc += static_cast<double>(
                           x.f[static_cast<size_t>(((bn * c.C + cin) * c.H + ih) * c.W + iw)]) *
                       w.f[static_cast<size_t>(((m * cpg + ci) * c.kh + i) * c.kw + j)];
              }
            }
          }
          y.f[static_cast<size_t>(((bn * c.M + m) * c.OH + oh) * c.OW + ow)] =
              static_cast<float>(acc + bias);
        }
    }
  out[0] = std::move(y);
}

std::vector<Shape> infer_convt(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  ConvGeom c = convtranspose_geometry(g, n, in[0], in[1]);
  if (in.size() > 2 && numel(in[2]) != c.M) fail(g.source, where(n), "bias size != out channels");
  return {c.out_shape()};
}
void run_convt(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out) {
  const Tensor &x = *in[0], &w = *in[1];
  const ConvGeom c = convtranspose_geometry(g, n, x.shape, w.shape);
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  const int64_t cpg = c.C / c.group, mpg = c.M / c.group;
  std::vector<double> acc(static_cast<size_t>(c.N * c.M * c.OH * c.OW), 0.0);
  // Scatter form: every input element adds kernel-weighted copies into the output; positions
  // falling into the cropped pads are dropped.
  for (int64_t bn = 0; bn < c.N; ++bn)
    for (int64_t ci = 0; ci < c.C; ++ci) {
      const int64_t gi = ci / cpg;
      for (int64_t ih = 0; ih < c.H; ++ih)
        for (int64_t iw = 0; iw < c.W; ++iw) {
          const double xv = x.f[static_cast<size_t>(((bn * c.C + ci) * c.H + ih) * c.W + iw)];
          for (int64_t mo = 0; mo < mpg; ++mo) {
            const int64_t m = gi * mpg + mo;
            for (int64_t i = 0; i < c.kh; ++i) {
              const int64_t oh = ih * c.sh + i * c.dh - c.pt;
              if (oh < 0 || oh >= c.OH) continue;
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ow = iw * c.sw + j * c.dw - c.pl;
                if (ow < 0 || ow >= c.OW) continue;
                acc[static_cast<size_t>(((bn * c.M + m) * c.OH + oh) * c.OW + ow)] +=
                    xv * w.f[static_cast<size_t>(((ci * mpg + mo) * c.kh + i) * c.kw + j)];
              }
            }
          }
        }
    }
  Tensor y(c.out_shape());
  for (size_t k = 0; k < acc.size(); ++k) {
    const int64_t m = (static_cast<int64_t>(k) / (c.OH * c.OW)) % c.M;
    y.f[k] = static_cast<float>(acc[k] + (b ? b->f[static_cast<size_t>(m)] : 0.f));
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- Gemm / MatMul
void gemm_dims(const Graph& g, const Node& n, const Shape& a, const Shape& b, int64_t& M,
               int64_t& K, int64_t& N) {
  if (a.size() != 2 || b.size() != 2) fail(g.source, where(n), "Gemm inputs must be 2-D");
  const bool ta = n.attr_i("transA", 0), tb = n.attr_i("transB", 0);
  M = ta ? a[1] : a[0];
  K = ta ? a[0] : a[1];
  const int64_t K2 = tb ? b[1] : b[0];
  N = tb ? b[0] : b[1];
  if (K != K2)
    fail(g.source, where(n), "inner dimensions differ: " + shape_str(a) + " x " + shape_str(b));
}
std::vector<Shape> infer_gemm(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  int64_t M, K, N;
  gemm_dims(g, n, in[0], in[1], M, K, N);
  if (in.size() > 2) broadcast_shape(g, n, in[2], {M, N});
  return {{M, N}};
}
void run_gemm(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  const Tensor &a = *in[0], &b = *in[1];
  int64_t M, K, N;
  gemm_dims(g, n, a.shape, b.shape, M, K, N);
  const bool ta = n.attr_i("transA", 0), tb = n.attr_i("transB", 0);
  const float alpha = n.attr_f("alpha", 1.f), beta = n.attr_f("beta", 1.f);
  Tensor y({M, N});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<double>(a.f[static_cast<size_t>(ta ? k * M + i : i * K + k)]) *
               b.f[static_cast<size_t>(tb ? j * K + k : k * N + j)];
      y.f[static_cast<size_t>(i * N + j)] = static_cast<float>(alpha * acc);
    }
  if (in.size() > 2 && in[2]) {
    Tensor c = *in[2];
    Tensor sum;
    binary(g, n, y, c, sum, [beta](float u, float v) { return u + beta * v; });
    y = std::move(sum);
  }
  out[0] = std::move(y);
}

// numpy matmul: 1-D operands are promoted and the added axis removed; batch dims broadcast.
std::vector<Shape> infer_matmul(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  Shape a = in[0], b = in[1];
  if (a.empty() || b.empty()) fail(g.source, where(n), "MatMul of a scalar");
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    fail(g.source, where(n),
         "inner dimensions differ: " + shape_str(in[0]) + " x " + shape_str(in[1]));
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape s = broadcast_shape(g, n, ba, bb);
  if (!a1) s.push_back(a[a.size() - 2]);
  if (!b1) s.push_back(b.back());
  return {s};
}
void run_matmul(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  Shape a = in[0]->shape, b = in[1]->shape;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  const Shape bs = broadcast_shape(g, n, ba, bb);
  const auto sa = bstrides(ba, bs), sb = bstrides(bb, bs);
  Tensor y(infer_matmul(g, n, {in[0]->shape, in[1]->shape})[0]);
  const int64_t batches = numel(bs);
  for (int64_t t = 0; t < batches; ++t) {
    int64_t rem = t, oa = 0, ob = 0;
    for (size_t d = bs.size(); d-- > 0;) {
      const int64_t i = rem % bs[d];
      rem /= bs[d];
      oa += i * sa[d];
      ob += i * sb[d];
    }
    const float* A = in[0]->f.data() + oa * M * K;
    const float* B = in[1]->f.data() + ob * K * N;
    float* Y = y.f.data() + t * M * N;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0.0;
        for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(A[i * K + k]) * B[k * N + j];
        Y[i * N + j] = static_cast<float>(acc);
      }
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- pooling
void check_pool(const Graph& g, const Node& n) {
  if (n.attr_i("storage_order", 0) != 0)
    unsupported(g.source, where(n), "storage_order=1 is not supported");
}
std::vector<Shape> infer_pool(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {pool_geometry(g, n, in[0]).out_shape()};
}
template <bool kMax>
void run_pool(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const PoolGeom p = pool_geometry(g, n, x.shape);
  const bool include_pad = n.attr_i("count_include_pad", 0) != 0;
  Tensor y(p.out_shape());
  // Windows wholly inside the input (every tap in range, none in the padding) take a loop
  // without bounds checks: the same taps in the same order, so the same sum and maximum; the
  // pooling was 9 % of a search point's calibration before.
  auto inside = [](int64_t o, int64_t s, int64_t pad, int64_t d, int64_t k, int64_t len) {
    const int64_t first = o * s - pad, last = first + (k - 1) * d;
    return first >= 0 && last < len;
  };
  std::vector<char> row_in(static_cast<size_t>(p.OH)), col_in(static_cast<size_t>(p.OW));
  for (int64_t oh = 0; oh < p.OH; ++oh)
    row_in[static_cast<size_t>(oh)] = inside(oh, p.sh, p.pt, p.dh, p.kh, p.H);
  for (int64_t ow = 0; ow < p.OW; ++ow)
    col_in[static_cast<size_t>(ow)] = inside(ow, p.sw, p.pl, p.dw, p.kw, p.W);
  const double taps = static_cast<double>(p.kh * p.kw);
  for (int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (int64_t oh = 0; oh < p.OH; ++oh)
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const size_t o = static_cast<size_t>((nc * p.OH + oh) * p.OW + ow);
        if (row_in[static_cast<size_t>(oh)] && col_in[static_cast<size_t>(ow)]) {
          const float* base = x.f.data() + (nc * p.H + oh * p.sh - p.pt) * p.W + (ow * p.sw - p.pl);
          float best = -std::numeric_limits<float>::infinity();
          double sum = 0.0;
          for (int64_t i = 0; i < p.kh; ++i) {
            const float* r = base + i * p.dh * p.W;
            for (int64_t j = 0; j < p.kw; ++j) {
              const float v = r[j * p.dw];
              if (kMax)
                best = std::max(best, v);
              else
                sum += v;
            }
          }
          y.f[o] = kMax ? best : static_cast<float>(sum / taps);
          continue;
        }
        float best = -std::numeric_limits<float>::infinity();
        double sum = 0.0;
        int64_t cnt = 0, cnt_pad = 0;
        for (int64_t i = 0; i < p.kh; ++i) {
          const int64_t ih = oh * p.sh - p.pt + i * p.dh;
          if (ih >= p.H + p.pb) continue;  // beyond the end padding (ceil_mode windows)
          for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
            if (iw >= p.W + p.pr) continue;
            ++cnt_pad;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            const float v = x.f[static_cast<size_t>((nc * p.H + ih) * p.W + iw)];
            best = std::max(best, v);
            sum += v;
            ++cnt;
          }
        }
        if (kMax)
          y.f[o] = best;
        else
          y.f[o] = static_cast<float>(sum / static_cast<double>(include_pad ? cnt_pad : cnt));
      }
  out[0] = std::move(y);
}

std::vector<Shape> infer_global(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  if (in[0].size() < 3) fail(g.source, where(n), "input must have spatial dimensions");
  Shape s = in[0];
  for (size_t k = 2; k < s.size(); ++k) s[k] = 1;
  return {s};
}
template <bool kMax>
void run_global(const Graph&, const Node&, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  Shape s = x.shape;
  const int64_t spatial = numel(Shape(s.begin() + 2, s.end()));
  for (size_t k = 2; k < s.size(); ++k) s[k] = 1;
  Tensor y(s);
  for (int64_t nc = 0; nc < s[0] * s[1]; ++nc) {
    double acc = 0.0;
    float best = -std::numeric_limits<float>::infinity();
    for (int64_t k = 0; k < spatial; ++k) {
      const float v = x.f[static_cast<size_t>(nc * spatial + k)];
      acc += v;
      best = std::max(best, v);
    }
    y.f[static_cast<size_t>(nc)] =
        kMax ? best : static_cast<float>(acc / static_cast<double>(spatial));
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- BatchNormalization
void check_bn(const Graph& g, const Node& n) {
  if (n.attr_i("training_mode", 0) != 0)
    unsupported(g.source, where(n), "training_mode=1 is not supported (inference only)");
  if (n.attr_i("spatial", 1) != 1) unsupported(g.source, where(n), "spatial=0 is not supported");
  if (n.has("is_test") && n.attr_i("is_test", 1) != 1)
    unsupported(g.source, where(n), "is_test=0 (training) is not supported");
}
std::vector<Shape> infer_bn(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  if (in[0].size() < 2) fail(g.source, where(n), "input must be at least 2-D");
  for (size_t k = 1; k < 5; ++k)
    if (numel(in[k]) != in[0][1])
      fail(g.source, where(n), "parameter " + std::to_string(k) + " size != channels");
  return {in[0]};
}
void run_bn(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out) {
  (void)g;
  const Tensor& x = *in[0];
  const float eps = n.attr_f("epsilon", 1e-5f);
  const int64_t C = x.shape[1];
  const int64_t inner = numel(Shape(x.shape.begin() + 2, x.shape.end()));
  Tensor y(x.shape);
  for (int64_t k = 0; k < x.size(); ++k) {
    const size_t c = static_cast<size_t>((k / inner) % C);
    const float inv = in[1]->f[c] / std::sqrt(in[4]->f[c] + eps);
    y.f[static_cast<size_t>(k)] = (x.f[static_cast<size_t>(k)] - in[3]->f[c]) * inv + in[2]->f[c];
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- shape ops
std::vector<Shape> infer_concat(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  // Before opset 4 the axis was optional with default 1.
  if (!n.has("axis") && g.opset >= 4) fail(g.source, where(n), "missing attribute 'axis'");
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", 1), in[0].size());
  Shape s = in[0];
  for (size_t k = 1; k < in.size(); ++k) {
    if (in[k].size() != s.size()) fail(g.source, where(n), "inputs differ in rank");
    for (size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != ax && in[k][d] != s[d])
        fail(g.source, where(n),
             "input shapes " + shape_str(in[0]) + " and " + shape_str(in[k]) +
                 " differ outside the concat axis");
    s[static_cast<size_t>(ax)] += in[k][static_cast<size_t>(ax)];
  }
  return {s};
}
void run_concat(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  std::vector<Shape> shapes;
  for (auto* t : in) shapes.push_back(t->shape);
  const Shape s = infer_concat(g, n, shapes)[0];
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", 1), s.size());
  const int64_t outer = numel(Shape(s.begin(), s.begin() + ax));
  Tensor y(s);
  size_t o = 0;
  for (int64_t i = 0; i < outer; ++i)
    for (auto* t : in) {
      const int64_t chunk = numel(Shape(t->shape.begin() + ax, t->shape.end()));
      std::copy_n(t->f.begin() + i * chunk, chunk, y.f.begin() + static_cast<int64_t>(o));
      o += static_cast<size_t>(chunk);
    }
  out[0] = std::move(y);
}

std::vector<Shape> infer_flatten(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const int64_t r = static_cast<int64_t>(in[0].size());
  int64_t ax = n.attr_i("axis", 1);
  if (ax < -r || ax > r) fail(g.source, where(n), "axis out of range");
  if (ax < 0) ax += r;
  return {{numel(Shape(in[0].begin(), in[0].begin() + ax)),
           numel(Shape(in[0].begin() + ax, in[0].end()))}};
}

std::vector<Shape> infer_reshape(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  std::vector<int64_t> want = const_ints(g, n, 1);
  const bool allowzero = n.attr_i("allowzero", 0) != 0;
  Shape s;
  int64_t known = 1, infer_at = -1;
  for (size_t k = 0; k < want.size(); ++k) {
    int64_t d = want[k];
    if (d == 0 && !allowzero) {
      if (k >= in[0].size()) fail(g.source, where(n), "shape copies a missing dimension");
      d = in[0][k];
    }
    if (d == -1) {
      if (infer_at >= 0) fail(g.source, where(n), "more than one -1 in shape");
      infer_at = static_cast<int64_t>(k);
      s.push_back(1);
      continue;
    }
    if (d < 0) fail(g.source, where(n), "negative dimension in shape");
    s.push_back(d);
    if (!checked_mul(known, d, &known))
      fail(g.source, where(n), "shape " + shape_str(want) + ": element count overflows");
  }
  const int64_t total = numel(in[0]);
  if (infer_at >= 0) {
    if (known == 0 || total % known)
      fail(g.source, where(n), "cannot reshape " + shape_str(in[0]) + " to " + shape_str(want));
    s[static_cast<size_t>(infer_at)] = total / known;
  }
  if (numel(s) != total)
    fail(g.source, where(n), "cannot reshape " + shape_str(in[0]) + " to " + shape_str(s));
  return {s};
}
// Reshape-like ops keep the data and only change the shape: run = infer + copy.
template <std::vector<Shape> (*Infer)(const Graph&, const Node&, const std::vector<Shape>&)>
void run_reshape(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                 std::vector<Tensor>& out) {
  std::vector<Shape> shapes;
  for (auto* t : in) shapes.push_back(t ? t->shape : Shape{});
  out[0] = Tensor(Infer(g, n, shapes)[0], in[0]->f);
}

std::vector<Shape> infer_transpose(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  auto perm = n.attr_ints("perm");
  const size_t r = in[0].size();
  if (perm.empty())
    for (size_t k = 0; k < r; ++k) perm.push_back(static_cast<int64_t>(r - 1 - k));
  if (perm.size() != r) fail(g.source, where(n), "perm length != rank");
  Shape s;
  for (auto p : perm) s.push_back(in[0][static_cast<size_t>(norm_axis(g, n, p, r))]);
  return {s};
}
void run_transpose(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                   std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const size_t r = x.shape.size();
  auto perm = n.attr_ints("perm");
  if (perm.empty())
    for (size_t k = 0; k < r; ++k) perm.push_back(static_cast<int64_t>(r - 1 - k));
  Tensor y(infer_transpose(g, n, {x.shape})[0]);
  std::vector<int64_t> xs(r, 1);
  for (size_t d = r - 1; d-- > 0;) xs[d] = xs[d + 1] * x.shape[d + 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < y.size(); ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < r; ++d) off += idx[d] * xs[static_cast<size_t>(perm[d])];
    y.f[static_cast<size_t>(k)] = x.f[static_cast<size_t>(off)];
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < y.shape[d]) break;
      idx[d] = 0;
    }
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- Softmax
std::vector<Shape> infer_softmax(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  norm_axis(g, n, n.attr_i("axis", g.opset >= 13 ? -1 : 1), in[0].size());
  return {in[0]};
}
void run_softmax(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                 std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const int64_t ax = norm_axis(g, n, n.attr_i("axis", g.opset >= 13 ? -1 : 1), x.shape.size());
  int64_t outer = numel(Shape(x.shape.begin(), x.shape.begin() + ax)), len, inner;
  if (g.opset >= 13) {
    len = x.shape[static_cast<size_t>(ax)];
    inner = numel(Shape(x.shape.begin() + ax + 1, x.shape.end()));
  } else {  // before opset 13 the input is coerced to 2-D at `axis`
    len = numel(Shape(x.shape.begin() + ax, x.shape.end()));
    inner = 1;
  }
  Tensor y(x.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t l) { return static_cast<size_t>((o * len + l) * inner + i); };
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t l = 0; l < len; ++l) mx = std::max(mx, x.f[at(l)]);
      double sum = 0.0;
      for (int64_t l = 0; l < len; ++l) sum += std::exp(static_cast<double>(x.f[at(l)] - mx));
      for (int64_t l = 0; l < len; ++l)
        y.f[at(l)] = static_cast<float>(std::exp(static_cast<double>(x.f[at(l)] - mx)) / sum);
    }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- Resize / Upsample (nearest)
void check_resize(const Graph& g, const Node& n) {
  const std::string mode = n.attr_s("mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    unsupported(g.source, where(n),
                "mode '" + mode + "' is not supported (nearest or linear; cubic is not)");
  const std::string ct = n.attr_s("coordinate_transformation_mode", "half_pixel");
  if (mode == "linear" && ct == "tf_half_pixel_for_nearest")
    unsupported(g.source, where(n), "coordinate_transformation_mode '" + ct + "' with mode linear");
  static const char* ok_ct[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                "tf_half_pixel_for_nearest"};
  if (std::find(std::begin(ok_ct), std::end(ok_ct), ct) == std::end(ok_ct))
    unsupported(g.source, where(n), "coordinate_transformation_mode '" + ct + "'");
  const std::string nm = n.attr_s("nearest_mode", "round_prefer_floor");
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    unsupported(g.source, where(n), "nearest_mode '" + nm + "'");
}
}  // namespace
// Shared with the training engine (op_table.h): one rule for the output shape and the scales.
ResizePlan resize_plan(const Graph& g, const Node& n, const Shape& x) {
  ResizePlan p;
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  if (n.op == "Upsample") {
    scales = g.opset >= 9 ? const_floats(g, n, 1) : n.attr_floats("scales");
  } else if (g.opset < 11) {
    scales = const_floats(g, n, 1);
  } else {
    if (!n.in(3).empty()) sizes = const_ints(g, n, 3);
    if (sizes.empty() && !n.in(2).empty()) scales = const_floats(g, n, 2);
  }
  if (!sizes.empty()) {
    if (sizes.size() != x.size()) fail(g.source, where(n), "'sizes' length != input rank");
    p.out.assign(sizes.begin(), sizes.end());
    for (size_t d = 0; d < x.size(); ++d)
      p.scales.push_back(static_cast<float>(sizes[d]) / static_cast<float>(x[d]));
  } else {
    if (scales.size() != x.size()) fail(g.source, where(n), "'scales' length != input rank");
    p.scales = scales;
    for (size_t d = 0; d < x.size(); ++d) {
      if (!(scales[d] > 0.f)) fail(g.source, where(n), "scales must be positive");
      p.out.push_back(float_to_i64(g, n, std::floor(static_cast<double>(x[d]) * scales[d])));
    }
  }
  return p;
}
std::vector<LinearAxis> resize_linear_axes(const Graph& g, const Node& n, const Shape& x) {
  const ResizePlan p = resize_plan(g, n, x);
  std::vector<LinearAxis> r;
  for (size_t d = 0; d < x.size(); ++d) {
    LinearAxis a;
    a.axis = d;
    bool identity = p.out[d] == x[d];
    for (int64_t o = 0; o < p.out[d]; ++o) {
      a.taps.push_back(linear_src(n, n.op == "Upsample", o, x[d], p.out[d], p.scales[d]));
      identity = identity && a.taps.back().i0 == o && a.taps.back().w1 == 0.0;
    }
    if (!identity) r.push_back(std::move(a));
  }
  return r;
}

namespace {
std::vector<Shape> infer_resize(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {resize_plan(g, n, in[0]).out};
}
// Linear: one pass per axis (the N-linear weights are products of the per-axis ones).
void run_resize_linear(const Node& n, const Tensor& x, const ResizePlan& p, Tensor& y) {
  const bool up = n.op == "Upsample";
  Tensor cur = x;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    const int64_t in = cur.shape[d], out = p.out[d];
    const int64_t outer = numel(Shape(cur.shape.begin(), cur.shape.begin() + d));
    const int64_t inner = numel(Shape(cur.shape.begin() + d + 1, cur.shape.end()));
    Shape s = cur.shape;
    s[d] = out;
    Tensor nxt(s);
    for (int64_t o = 0; o < out; ++o) {
      const LinearTap t = linear_src(n, up, o, in, out, p.scales[d]);
      const double w0 = 1.0 - t.w1;
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t b = 0; b < inner; ++b)
          nxt.f[static_cast<size_t>((a * out + o) * inner + b)] =
              static_cast<float>(w0 * cur.f[static_cast<size_t>((a * in + t.i0) * inner + b)] +
                                 t.w1 * cur.f[static_cast<size_t>((a * in + t.i1) * inner + b)]);
    }
    cur = std::move(nxt);
  }
  y = std::move(cur);
}

void run_resize(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const ResizePlan p = resize_plan(g, n, x.shape);
  if (n.attr_s("mode", "nearest") == "linear") {
    run_resize_linear(n, x, p, out[0]);
    return;
  }
  const bool up = n.op == "Upsample";
  const size_t r = x.shape.size();
  std::vector<std::vector<int64_t>> src(r);
  for (size_t d = 0; d < r; ++d)
    for (int64_t o = 0; o < p.out[d]; ++o)
      src[d].push_back(nearest_src(n, up, o, x.shape[d], p.out[d], p.scales[d]));
  std::vector<int64_t> xs(r, 1);
  for (size_t d = r - 1; d-- > 0;) xs[d] = xs[d + 1] * x.shape[d + 1];
  Tensor y(p.out);
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < y.size(); ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < r; ++d) off += src[d][static_cast<size_t>(idx[d])] * xs[d];
    y.f[static_cast<size_t>(k)] = x.f[static_cast<size_t>(off)];
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < p.out[d]) break;
      idx[d] = 0;
    }
  }
  out[0] = std::move(y);
}

// ---------------------------------------------------------------- Pad, Reduce*, Slice, Gather,
// Squeeze/Unsqueeze: the plans are shared with the int8 program and the training engine.
void check_pad(const Graph& g, const Node& n) {
  const std::string mode = n.attr_s("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    fail(g.source, where(n),
         "mode '" + mode + "' is not a Pad mode (constant, reflect or edge; 'wrap' is opset 19)");
}

// Odometer over an output shape, calling f(output index vector, flat output offset).
template <typename F>
void for_each_index(const Shape& s, F f) {
  const int64_t total = numel(s);
  std::vector<int64_t> idx(s.size(), 0);
  for (int64_t k = 0; k < total; ++k) {
    f(idx, k);
    for (size_t d = s.size(); d-- > 0;) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> row_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}
}  // namespace

int64_t pad_src(const std::string& mode, int64_t o, int64_t begin, int64_t d) {
  int64_t i = o - begin;
  if (i >= 0 && i < d) return i;
  if (mode == "edge") return i < 0 ? 0 : d - 1;
  if (mode == "reflect") {  // numpy 'reflect': the edge element is not repeated
    if (d == 1) return 0;
    const int64_t period = 2 * (d - 1);
    i = ((i % period) + period) % period;
    return i < d ? i : period - i;
  }
  return -1;
}

PadPlan pad_plan(const Graph& g, const Node& n, const Shape& x) {
  PadPlan p;
  p.mode = n.attr_s("mode", "constant");
  std::vector<int64_t> pads;
  if (g.opset < 11) {
    pads = n.attr_ints("pads");
    p.value = n.attr_f("value", 0.f);
  } else {
    pads = const_ints(g, n, 1);
    const std::vector<float> v = const_floats(g, n, 2);
    if (!v.empty()) p.value = v[0];
  }
  const size_t r = x.size();
  if (pads.size() != 2 * r)
    fail(g.source, where(n),
         "pads has " + std::to_string(pads.size()) + " values, rank " + std::to_string(r) +
             " needs " + std::to_string(2 * r));
  for (size_t d = 0; d < r; ++d) {
    p.begin.push_back(pads[d]);
    p.end.push_back(pads[d + r]);
    const int64_t o = x[d] + pads[d] + pads[d + r];
    if (o < 0) fail(g.source, where(n), "pads crop axis " + std::to_string(d) + " below size 0");
    if (p.mode == "reflect" && (pads[d] >= x[d] || pads[d + r] >= x[d]) &&
        (pads[d] > 0 || pads[d + r] > 0) && x[d] > 1)
      fail(g.source, where(n), "reflect pads must be smaller than the axis size");
    if (p.mode != "constant" && x[d] == 0 && o > 0)
      fail(g.source, where(n), "cannot " + p.mode + "-pad an empty axis");
    p.out.push_back(o);
  }
  return p;
}

ReducePlan reduce_plan(const Graph& g, const Node& n, const Shape& x) {
  ReducePlan p;
  std::vector<int64_t> axes;
  bool from_input = n.op == "ReduceSum" && g.opset >= 13;
  if (from_input) {
    axes = const_ints(g, n, 1);
    if (n.has("axes"))
      fail(g.source, where(n), "'axes' is an input from opset 13, not an attribute");
  } else {
    axes = n.attr_ints("axes");
    if (n.inputs.size() > 1 && !n.in(1).empty())
      fail(g.source, where(n), "axes as an input needs opset 18 (ReduceSum: 13)");
  }
  const size_t r = x.size();
  p.reduced.assign(r, axes.empty());
  if (axes.empty() && n.attr_i("noop_with_empty_axes", 0) != 0) {
    p.noop = true;
    p.reduced.assign(r, false);
    p.out = x;
    return p;
  }
  for (auto a : axes) {
    const int64_t k = norm_axis(g, n, a, r);
    if (p.reduced[static_cast<size_t>(k)] && !axes.empty())
      fail(g.source, where(n), "axis " + std::to_string(a) + " listed twice");
    p.reduced[static_cast<size_t>(k)] = true;
  }
  const bool keep = n.attr_i("keepdims", 1) != 0;
  for (size_t d = 0; d < r; ++d) {
    if (!p.reduced[d])
      p.out.push_back(x[d]);
    else if (keep)
      p.out.push_back(1);
  }
  return p;
}

SlicePlan slice_plan(const Graph& g, const Node& n, const Shape& x) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (g.opset < 10) {
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    axes = n.attr_ints("axes");
  } else {
    starts = const_ints(g, n, 1);
    ends = const_ints(g, n, 2);
    axes = const_ints(g, n, 3);
    steps = const_ints(g, n, 4);
  }
  if (starts.size() != ends.size()) fail(g.source, where(n), "starts and ends differ in length");
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    fail(g.source, where(n), "starts, ends, axes and steps differ in length");
  const size_t r = x.size();
  SlicePlan p;
  p.start.assign(r, 0);
  p.step.assign(r, 1);
  p.out = x;
  std::vector<bool> seen(r, false);
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t a = static_cast<size_t>(norm_axis(g, n, axes[k], r));
    if (seen[a]) fail(g.source, where(n), "axis " + std::to_string(axes[k]) + " listed twice");
    seen[a] = true;
    const int64_t d = x[a], st = steps[k];
    if (st == 0) fail(g.source, where(n), "step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = std::max<int64_t>(0, std::min(s, d));
      e = std::max<int64_t>(0, std::min(e, d));
    } else {
      s = std::max<int64_t>(0, std::min(s, d - 1));
      e = std::max<int64_t>(-1, std::min(e, d - 1));
    }
    const int64_t len = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
    p.start[a] = s;
    p.step[a] = st;
    p.out[a] = std::max<int64_t>(0, len);
  }
  return p;
}

std::vector<int64_t> gather_indices(const Graph& g, const Node& n, const Shape& x, int64_t* axis) {
  *axis = norm_axis(g, n, n.attr_i("axis", 0), x.size());
  std::vector<int64_t> idx = const_ints(g, n, 1);
  const int64_t d = x[static_cast<size_t>(*axis)];
  for (auto& i : idx) {
    if (i < -d || i >= d)
      fail(g.source, where(n),
           "index " + std::to_string(i) + " out of range for size " + std::to_string(d));
    if (i < 0) i += d;
  }
  return idx;
}

namespace {
std::vector<Shape> infer_pad(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {pad_plan(g, n, in[0]).out};
}
void run_pad(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const PadPlan p = pad_plan(g, n, x.shape);
  const auto xs = row_strides(x.shape);
  Tensor y(p.out);
  for_each_index(p.out, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      const int64_t s = pad_src(p.mode, idx[d], p.begin[d], x.shape[d]);
      if (s < 0) {
        y.f[static_cast<size_t>(k)] = p.value;
        return;
      }
      off += s * xs[d];
    }
    y.f[static_cast<size_t>(k)] = x.f[static_cast<size_t>(off)];
  });
  out[0] = std::move(y);
}

std::vector<Shape> infer_reduce(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {reduce_plan(g, n, in[0]).out};
}
// kOp: 0 mean, 1 max, 2 sum. Sums in double as GlobalAveragePool does.
template <int kOp>
void run_reduce(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const ReducePlan p = reduce_plan(g, n, x.shape);
  if (p.noop) {
    out[0] = x;
    return;
  }
  // Output offset of every input element: strides of the kept axes, 0 along reduced ones.
  Shape kept;
  for (size_t d = 0; d < x.shape.size(); ++d) kept.push_back(p.reduced[d] ? 1 : x.shape[d]);
  const auto ks = row_strides(kept);
  const int64_t m = numel(kept);
  std::vector<double> acc(static_cast<size_t>(m),
                          kOp == 1 ? -std::numeric_limits<double>::infinity() : 0.0);
  for_each_index(x.shape, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (!p.reduced[d]) o += idx[d] * ks[d];
    const double v = x.f[static_cast<size_t>(k)];
    double& a = acc[static_cast<size_t>(o)];
    a = kOp == 1 ? std::max(a, v) : a + v;
  });
  const double cnt = m ? static_cast<double>(x.size()) / static_cast<double>(m) : 0.0;
  Tensor y(p.out);
  for (int64_t k = 0; k < m; ++k)
    y.f[static_cast<size_t>(k)] = static_cast<float>(kOp == 0 ? acc[static_cast<size_t>(k)] / cnt
                                                              : acc[static_cast<size_t>(k)]);
  out[0] = std::move(y);
}

std::vector<Shape> infer_slice(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  return {slice_plan(g, n, in[0]).out};
}
void run_slice(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const SlicePlan p = slice_plan(g, n, x.shape);
  const auto xs = row_strides(x.shape);
  Tensor y(p.out);
  for_each_index(p.out, [&](const std::vector<int64_t>& idx, int64_t k) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += (p.start[d] + idx[d] * p.step[d]) * xs[d];
    y.f[static_cast<size_t>(k)] = x.f[static_cast<size_t>(off)];
  });
  out[0] = std::move(y);
}

std::vector<Shape> infer_gather(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  int64_t ax;
  gather_indices(g, n, in[0], &ax);
  const Shape& is = g.init(n.in(1)).shape;
  Shape s(in[0].begin(), in[0].begin() + ax);
  s.insert(s.end(), is.begin(), is.end());
  s.insert(s.end(), in[0].begin() + ax + 1, in[0].end());
  return {s};
}
void run_gather(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  int64_t ax;
  const std::vector<int64_t> idx = gather_indices(g, n, x.shape, &ax);
  const int64_t outer = numel(Shape(x.shape.begin(), x.shape.begin() + ax));
  const int64_t inner = numel(Shape(x.shape.begin() + ax + 1, x.shape.end()));
  const int64_t d = x.shape[static_cast<size_t>(ax)];
  Tensor y(infer_gather(g, n, {x.shape})[0]);
  size_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i : idx)
      for (int64_t b = 0; b < inner; ++b)
        y.f[o++] = x.f[static_cast<size_t>((a * d + i) * inner + b)];
  out[0] = std::move(y);
}

// Squeeze/Unsqueeze axes: an attribute before opset 13, a constant input from 13.
std::vector<int64_t> squeeze_axes(const Graph& g, const Node& n) {
  if (g.opset >= 13) {
    if (n.has("axes"))
      fail(g.source, where(n), "'axes' is an input from opset 13, not an attribute");
    return const_ints(g, n, 1);
  }
  return n.attr_ints("axes");
}
std::vector<Shape> infer_squeeze(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in[0];
  std::vector<bool> drop(x.size(), false);
  const auto axes = squeeze_axes(g, n);
  for (auto a : axes) {
    const size_t k = static_cast<size_t>(norm_axis(g, n, a, x.size()));
    if (x[k] != 1)
      fail(g.source, where(n),
           "cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x[k]));
    drop[k] = true;
  }
  Shape s;
  for (size_t d = 0; d < x.size(); ++d)
    if (!(axes.empty() ? x[d] == 1 : drop[d])) s.push_back(x[d]);
  return {s};
}
std::vector<Shape> infer_unsqueeze(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto axes = squeeze_axes(g, n);
  const size_t r = in[0].size() + axes.size();
  std::vector<bool> ins(r, false);
  for (auto a : axes) {
    const size_t k = static_cast<size_t>(norm_axis(g, n, a, r));
    if (ins[k]) fail(g.source, where(n), "axis " + std::to_string(a) + " listed twice");
    ins[k] = true;
  }
  Shape s;
  size_t j = 0;
  for (size_t d = 0; d < r; ++d) s.push_back(ins[d] ? 1 : in[0][j++]);
  return {s};
}

// Split: lengths from the `split` attribute (opset < 13) or constant input 1 (from 13), else
// equal parts. Import rewrites every Split into one Slice per output (split_to_slices), so the
// int8 program and the training engine only meet Slice; the float op stays for direct callers.
}  // namespace
std::vector<int64_t> split_lengths(const Graph& g, const Node& n, const Shape& x, int64_t* axis) {
  *axis = norm_axis(g, n, n.attr_i("axis", 0), x.size());
  const int64_t d = x[static_cast<size_t>(*axis)];
  std::vector<int64_t> len = g.opset >= 13 ? const_ints(g, n, 1) : n.attr_ints("split");
  const int64_t parts = static_cast<int64_t>(n.outputs.size());
  if (len.empty()) {
    if (parts == 0 || d % parts)
      fail(g.source, where(n),
           "axis size " + std::to_string(d) + " does not split into " + std::to_string(parts) +
               " equal parts");
    len.assign(static_cast<size_t>(parts), d / parts);
  }
  int64_t sum = 0;
  for (auto l : len) {
    if (l < 0) fail(g.source, where(n), "negative split length");
    sum += l;
  }
  if (static_cast<int64_t>(len.size()) != parts || sum != d)
    fail(g.source, where(n),
         "split lengths " + shape_str(len) + " do not cover axis size " + std::to_string(d) +
             " with " + std::to_string(parts) + " outputs");
  return len;
}
namespace {
std::vector<Shape> infer_split(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  int64_t ax;
  std::vector<Shape> r;
  for (auto l : split_lengths(g, n, in[0], &ax)) {
    Shape s = in[0];
    s[static_cast<size_t>(ax)] = l;
    r.push_back(s);
  }
  return r;
}
void run_split(const Graph& g, const Node& n, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  int64_t ax;
  const auto len = split_lengths(g, n, x.shape, &ax);
  const int64_t outer = numel(Shape(x.shape.begin(), x.shape.begin() + ax));
  const int64_t inner = numel(Shape(x.shape.begin() + ax + 1, x.shape.end()));
  const int64_t d = x.shape[static_cast<size_t>(ax)];
  int64_t at = 0;
  for (size_t k = 0; k < len.size(); ++k) {
    Shape s = x.shape;
    s[static_cast<size_t>(ax)] = len[k];
    Tensor y(s);
    size_t o = 0;
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t i = 0; i < len[k] * inner; ++i)
        y.f[o++] = x.f[static_cast<size_t>((a * d + at) * inner + i)];
    at += len[k];
    if (k < out.size()) out[k] = std::move(y);
  }
}

// Fold-only ops: shapes for the folding pass; their values are computed there.
std::vector<Shape> infer_shape_op(const Graph&, const Node&, const std::vector<Shape>& in) {
  int64_t r = static_cast<int64_t>(in[0].size());
  return {{r}};
}
std::vector<Shape> infer_unknown(const Graph& g, const Node& n, const std::vector<Shape>&) {
  unsupported(g.source, where(n),
              "its value depends on a non-constant input (shape arithmetic is folded at import "
              "only when every input is a constant or a fixed shape)");
}
void check_cast(const Graph& g, const Node& n) {
  if (!n.has("to")) fail(g.source, where(n), "missing attribute 'to'");
}

void check_gelu(const Graph& g, const Node& n) {
  if (n.attr_s("approximate", "none") != "none")
    unsupported(g.source, where(n),
                "approximate '" + n.attr_s("approximate", "none") +
                    "' is not supported (nearest supported form: approximate 'none')");
}

void check_dropout(const Graph& g, const Node& n) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty() && !g.consumers(n.outputs[1]).empty())
    unsupported(g.source, where(n), "the Dropout mask output is used (inference keeps no mask)");
}

const std::map<std::string, OpDef>& table() {
  static const std::map<std::string, OpDef> t = [] {
    std::map<std::string, OpDef> m;
    const std::vector<std::string> conv_attrs = {"auto_pad",     "dilations", "group",
                                                 "kernel_shape", "pads",      "strides"};
    m["Conv"] = {conv_attrs, 2, 3, 1, {}, nullptr, infer_conv, run_conv};
    auto ct = conv_attrs;
    ct.push_back("output_padding");
    ct.push_back("output_shape");
    m["ConvTranspose"] = {ct, 2, 3, 1, {}, nullptr, infer_convt, run_convt};
    m["Gemm"] = {{"alpha", "beta", "transA", "transB"}, 2, 3, 1, {}, nullptr, infer_gemm, run_gemm};
    m["MatMul"] = {{}, 2, 2, 1, {}, nullptr, infer_matmul, run_matmul};
    m["Relu"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_relu};
    m["LeakyRelu"] = {{"alpha"}, 1, 1, 1, {}, nullptr, same_shape, run_leaky};
    m["Sigmoid"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_sigmoid};
    m["Tanh"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_tanh};
    m["Clip"] = {{"min", "max"}, 1, 3, 1, {}, nullptr, same_shape, run_clip};
    m["Abs"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<0>};
    m["Neg"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<1>};
    m["Exp"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<2>};
    m["Log"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<3>};
    m["Sqrt"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<4>};
    m["Reciprocal"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<5>};
    m["Elu"] = {{"alpha"}, 1, 1, 1, {}, nullptr, same_shape, run_unary<6>};
    m["Selu"] = {{"alpha", "gamma"}, 1, 1, 1, {}, nullptr, same_shape, run_unary<7>};
    m["HardSigmoid"] = {{"alpha", "beta"}, 1, 1, 1, {}, nullptr, same_shape, run_unary<8>};
    m["Softplus"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<9>};
    m["Softsign"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<10>};
    m["Floor"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<11>};
    m["Ceil"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<12>};
    m["Identity"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_identity};
    m["Dropout"] = {
        {"ratio", "seed", "is_test"}, 1, 3, 2, {}, check_dropout, same_shape, run_identity};
    m["Add"] = {{"broadcast", "axis"}, 2, 2, 1, {}, nullptr, infer_binary, run_add};
    m["Sub"] = {{"broadcast", "axis"}, 2, 2, 1, {}, nullptr, infer_binary, run_sub};
    m["Mul"] = {{"broadcast", "axis"}, 2, 2, 1, {}, nullptr, infer_binary, run_mul};
    m["Div"] = {{"broadcast", "axis"}, 2, 2, 1, {}, nullptr, infer_binary, run_div};
    const std::vector<std::string> pool = {"auto_pad",     "ceil_mode", "dilations",
                                           "kernel_shape", "pads",      "strides"};
    auto mp = pool;
    mp.push_back("storage_order");
    m["MaxPool"] = {mp, 1, 1, 1, {}, check_pool, infer_pool, run_pool<true>};
    auto ap = pool;
    ap.push_back("count_include_pad");
    m["AveragePool"] = {ap, 1, 1, 1, {}, nullptr, infer_pool, run_pool<false>};
    m["GlobalAveragePool"] = {{}, 1, 1, 1, {}, nullptr, infer_global, run_global<false>};
    m["GlobalMaxPool"] = {{}, 1, 1, 1, {}, nullptr, infer_global, run_global<true>};
    m["BatchNormalization"] = {{"epsilon", "momentum", "training_mode", "spatial", "is_test"},
                               5,
                               5,
                               1,
                               {},
                               check_bn,
                               infer_bn,
                               run_bn};
    m["Concat"] = {{"axis"}, 1, 64, 1, {}, nullptr, infer_concat, run_concat};
    m["Flatten"] = {{"axis"}, 1, 1, 1, {}, nullptr, infer_flatten, run_reshape<infer_flatten>};
    m["Reshape"] = {
        {"allowzero"}, 2, 2, 1, {1}, nullptr, infer_reshape, run_reshape<infer_reshape>};
    m["Transpose"] = {{"perm"}, 1, 1, 1, {}, nullptr, infer_transpose, run_transpose};
    m["Softmax"] = {{"axis"}, 1, 1, 1, {}, nullptr, infer_softmax, run_softmax};
    const std::vector<std::string> rs = {"mode",
                                         "coordinate_transformation_mode",
                                         "nearest_mode",
                                         "cubic_coeff_a",
                                         "exclude_outside",
                                         "extrapolation_value"};
    m["Resize"] = {rs, 1, 4, 1, {1, 2, 3}, check_resize, infer_resize, run_resize};
    m["Upsample"] = {{"mode", "scales"}, 1, 2, 1, {1}, check_resize, infer_resize, run_resize};
    m["HardSwish"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<13>};
    m["Erf"] = {{}, 1, 1, 1, {}, nullptr, same_shape, run_unary<14>};
    // Opset 20's Gelu (approximate "none" only); also what import fuses PyTorch's
    // x * 0.5 * (1 + erf(x / sqrt 2)) into (graph_passes.cpp fuse_gelu).
    m["Gelu"] = {{"approximate"}, 1, 1, 1, {}, check_gelu, same_shape, run_unary<15>};
    m["Pow"] = {{}, 2, 2, 1, {}, nullptr, infer_binary, run_pow};
    m["LayerNormalization"] = {{"axis", "epsilon", "stash_type"},
                               1,
                               3,
                               3,
                               {},
                               check_layernorm,
                               infer_layernorm,
                               run_layernorm};
    m["Pad"] = {{"mode", "pads", "value"}, 1, 3, 1, {1, 2}, check_pad, infer_pad, run_pad};
    const std::vector<std::string> red = {"axes", "keepdims", "noop_with_empty_axes"};
    m["ReduceMean"] = {red, 1, 1, 1, {}, nullptr, infer_reduce, run_reduce<0>};
    m["ReduceMax"] = {red, 1, 1, 1, {}, nullptr, infer_reduce, run_reduce<1>};
    m["ReduceSum"] = {red, 1, 2, 1, {1}, nullptr, infer_reduce, run_reduce<2>};
    m["Slice"] = {
        {"starts", "ends", "axes"}, 1, 5, 1, {1, 2, 3, 4}, nullptr, infer_slice, run_slice};
    m["Gather"] = {{"axis"}, 2, 2, 1, {1}, nullptr, infer_gather, run_gather};
    m["Squeeze"] = {{"axes"}, 1, 2, 1, {1}, nullptr, infer_squeeze, run_reshape<infer_squeeze>};
    m["Unsqueeze"] = {
        {"axes"}, 1, 2, 1, {1}, nullptr, infer_unsqueeze, run_reshape<infer_unsqueeze>};
    // Cast to float is the identity on float activations; to any other type it only occurs in
    // shape arithmetic, which fold_constants() evaluates (a leftover one is refused there).
    m["Split"] = {{"axis", "split"}, 1, 2, 64, {1}, nullptr, infer_split, run_split};
    m["Cast"] = {{"to"}, 1, 1, 1, {}, check_cast, same_shape, run_identity};
    OpDef fold;
    fold.fold_only = true;
    fold.infer = infer_unknown;
    m["ConstantOfShape"] = fold;
    m["ConstantOfShape"].attrs = {"value"};
    m["Range"] = fold;
    m["Range"].min_inputs = m["Range"].max_inputs = 3;
    // ViT's class-token shape arithmetic (Equal, Where, Expand on constants): folded too.
    m["Equal"] = fold;
    m["Equal"].min_inputs = m["Equal"].max_inputs = 2;
    m["Where"] = fold;
    m["Where"].min_inputs = m["Where"].max_inputs = 3;
    m["Expand"] = fold;
    m["Expand"].min_inputs = m["Expand"].max_inputs = 2;
    // Swin's shifted-window mask and shape arithmetic: Mod, Not, ScatterND on constants.
    m["Mod"] = fold;
    m["Mod"].min_inputs = m["Mod"].max_inputs = 2;
    m["Mod"].attrs = {"fmod"};
    m["Not"] = fold;
    m["ScatterND"] = fold;
    m["ScatterND"].min_inputs = m["ScatterND"].max_inputs = 3;
    m["ScatterND"].attrs = {"reduction"};
    m["Shape"] = fold;
    m["Shape"].attrs = {"start", "end"};
    m["Shape"].infer = infer_shape_op;
    return m;
  }();
  return t;
}

}  // namespace

const OpDef* find_op(const std::string& op) {
  auto it = table().find(op);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> r;
  for (const auto& kv : table()) r.push_back(kv.first);
  r.push_back("Constant");  // folded into an initializer at import
  std::sort(r.begin(), r.end());
  return r;
}

std::vector<int64_t> const_ints(const Graph& g, const Node& n, size_t k) {
  const std::string& v = n.in(k);
  if (v.empty()) return {};
  if (!g.is_const(v))
    unsupported(g.source, where(n),
                "input " + std::to_string(k) + " ('" + v + "') must be a constant initializer");
  const Tensor& t = g.init(v);
  if (!t.is_float()) return t.i;
  std::vector<int64_t> r;
  for (float f : t.f) r.push_back(float_to_i64(g, n, f));
  return r;
}

std::vector<float> const_floats(const Graph& g, const Node& n, size_t k) {
  const std::string& v = n.in(k);
  if (v.empty()) return {};
  if (!g.is_const(v))
    unsupported(g.source, where(n),
                "input " + std::to_string(k) + " ('" + v + "') must be a constant initializer");
  const Tensor& t = g.init(v);
  if (t.is_float()) return t.f;
  return std::vector<float>(t.i.begin(), t.i.end());
}

}  // namespace prunesim
