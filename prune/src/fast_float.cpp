// Fast float executor: run_float's graph walk with Conv, ConvTranspose, Gemm and MatMul (constant
// right operand) on im2col tiles and the packed double kernels, samples split over threads.
// Bit-for-bit run_float: each output is the same double sum, from 0.0, over the same taps in the
// same order (ascending channel and tap; ConvTranspose: the scatter order, i.e. taps descending),
// with the padding taps the reference skips contributing +-0.0, which leaves any sum unchanged
// (an exact float product in double, never -0.0 + -0.0 since sums start at +0.0). Non-finite
// weights would break that (0 * Inf), so such nodes run the reference op.
#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>

#include "fast_kernels.h"
#include "float_walk.h"
#include "im2col.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/fast_exec.h"

namespace prunesim {
namespace {

using fast::kTile;

int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

bool finite(const Tensor& t) {
  for (float v : t.f)
    if (!std::isfinite(v)) return false;
  return true;
}

// One node prepared for the kernels (shared read-only by the threads).
struct FNode {
  enum class Path { Reference, Conv, Dense } path = Path::Reference;
  bool tr = false;
  int64_t K = 0, N = 0;   // Dense: inner and output sizes
  bool bias_add = false;  // Dense (Gemm): add input 2 (beta == 1) after alpha * acc
  double alpha = 1.0;
  std::vector<double> w;     // Conv: [M][cpg*kh*kw]; Dense: [N][K]
  std::vector<double> bias;  // Conv: per output channel (0 when absent)
};

FNode prepare(const Graph& g, const Node& n) {
  FNode f;
  if ((n.op == "Conv" || n.op == "ConvTranspose") && g.is_const(n.in(1)) &&
      (n.in(2).empty() || g.is_const(n.in(2)))) {
    const Tensor& w = g.init(n.in(1));
    if (!finite(w) || !w.is_float()) return f;
    f.tr = n.op == "ConvTranspose";
    f.path = FNode::Path::Conv;
    const Shape& ws = w.shape;
    const int64_t taps = ws.size() == 4 ? ws[2] * ws[3] : ws.back();
    const int64_t kh = ws.size() == 4 ? ws[2] : 1, kw = ws.back();
    if (!f.tr) {
      f.w.assign(w.f.begin(), w.f.end());  // [M][cpg][kh][kw] is already the tap order
    } else {
      // w [C][M/group][kh][kw] -> [M][cpg * kh * kw] with taps descending.
      const int64_t C = ws[0], mpg = ws[1];
      const int64_t group = n.attr_i("group", 1), cpg = C / group, M = mpg * group;
      f.w.assign(static_cast<size_t>(M * cpg * taps), 0.0);
      for (int64_t m = 0; m < M; ++m) {
        const int64_t gi = m / mpg, mo = m % mpg;
        for (int64_t ci = 0; ci < cpg; ++ci)
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j)
              f.w[static_cast<size_t>(((m * cpg + ci) * kh + i) * kw + j)] =
                  w.f[static_cast<size_t>((((gi * cpg + ci) * mpg + mo) * kh + (kh - 1 - i)) * kw +
                                          (kw - 1 - j))];
      }
    }
    const int64_t M = f.tr ? ws[1] * n.attr_i("group", 1) : ws[0];
    f.bias.assign(static_cast<size_t>(M), 0.0);
    if (!n.in(2).empty()) {
      const Tensor& b = g.init(n.in(2));
      for (int64_t m = 0; m < M && m < b.size(); ++m)
        f.bias[static_cast<size_t>(m)] = b.f[static_cast<size_t>(m)];
    }
    return f;
  }
  const bool gemm = n.op == "Gemm", matmul = n.op == "MatMul";
  if ((gemm || matmul) && g.is_const(n.in(1)) && g.init(n.in(1)).shape.size() == 2 &&
      g.init(n.in(1)).is_float() && finite(g.init(n.in(1)))) {
    if (gemm && (n.attr_i("transA", 0) != 0 || n.attr_f("beta", 1.f) != 1.f)) return f;
    const Tensor& b = g.init(n.in(1));
    const bool tb = gemm && n.attr_i("transB", 0) != 0;
    f.K = tb ? b.shape[1] : b.shape[0];
    f.N = tb ? b.shape[0] : b.shape[1];
    f.w.resize(static_cast<size_t>(f.K * f.N));
    for (int64_t j = 0; j < f.N; ++j)
      for (int64_t k = 0; k < f.K; ++k)
        f.w[static_cast<size_t>(j * f.K + k)] =
            b.f[static_cast<size_t>(tb ? j * f.K + k : k * f.N + j)];
    f.alpha = gemm ? static_cast<double>(n.attr_f("alpha", 1.f)) : 1.0;
    f.bias_add = gemm && !n.in(2).empty();
    f.path = FNode::Path::Dense;
  }
  return f;
}

class Walker {
 public:
  Walker(const Graph& g, const std::vector<FNode>& prep, KernelIsa isa)
      : g_(g), prep_(prep), isa_(isa) {}

  // run_float's walk, with the prepared nodes on the kernels.
  TensorMap run(const TensorMap& inputs, const Observer& obs) {
    return run_graph_once(g_, inputs, obs,
                          [this](size_t k, const Node& n, const std::vector<const Tensor*>& in,
                                 std::vector<Tensor>& out) {
                            const FNode& f = prep_[k];
                            if (f.path == FNode::Path::Conv) {
                              conv(n, f, *in[0], out[0]);
                              return true;
                            }
                            return f.path == FNode::Path::Dense && dense(n, f, in, out[0]);
                          });
  }

 private:
  // im2col of one pixel tile: X[k][p], 0.0 where the reference skips the tap.
  void pack(const ConvGeom& c, bool tr, bool pointwise, const float* xg, int64_t cpg, int64_t p0,
            int nt, int NT) {
    std::fill(X_.begin(), X_.begin() + cpg * c.kh * c.kw * NT, 0.0);
    double* X = X_.data();
    if (pointwise) {
      for (int64_t ci = 0; ci < cpg; ++ci)
        for (int pp = 0; pp < nt; ++pp) X[ci * NT + pp] = xg[ci * c.H * c.W + p0 + pp];
      return;
    }
    fast::im2col_tile(c, tr, cpg, p0, nt,
                      [&](int64_t k, int64_t pp, int64_t idx) { X[k * NT + pp] = xg[idx]; });
  }

  // Depthwise, stride 1: the zero-padded plane, every output row at its pitch, taps in order.
  void depthwise(const ConvGeom& c, const FNode& f, const Tensor& x, Tensor& y) {
    const int64_t PH = c.OH + (c.kh - 1) * c.dh, PW = c.OW + (c.kw - 1) * c.dw;
    const int64_t n = (c.OH - 1) * PW + c.OW;
    const int taps = static_cast<int>(c.kh * c.kw);
    plane_.resize(static_cast<size_t>(PH * PW));
    off_.resize(static_cast<size_t>(taps));
    for (int64_t i = 0; i < c.kh; ++i)
      for (int64_t j = 0; j < c.kw; ++j)
        off_[static_cast<size_t>(i * c.kw + j)] = i * c.dh * PW + j * c.dw;
    for (int64_t b = 0; b < c.N; ++b)
      for (int64_t ch = 0; ch < c.M; ++ch) {
        const float* xc = x.f.data() + (b * c.C + ch) * c.H * c.W;
        std::fill(plane_.begin(), plane_.end(), 0.f);
        for (int64_t ih = 0; ih < c.H && ih + c.pt < PH; ++ih) {
          const int64_t w = std::min(c.W, PW - c.pl);
          if (w > 0)
            std::copy(xc + ih * c.W, xc + ih * c.W + w, plane_.data() + (ih + c.pt) * PW + c.pl);
        }
        acc_.assign(static_cast<size_t>(n), 0.0);
        fast::dw_row_f64(isa_, static_cast<int>(n), taps, plane_.data(), off_.data(),
                         f.w.data() + ch * taps, acc_.data());
        const double bias = f.bias[static_cast<size_t>(ch)];
        float* yc = y.f.data() + (b * c.M + ch) * c.OH * c.OW;
        for (int64_t oh = 0; oh < c.OH; ++oh)
          for (int64_t ow = 0; ow < c.OW; ++ow)
            yc[oh * c.OW + ow] = static_cast<float>(acc_[static_cast<size_t>(oh * PW + ow)] + bias);
      }
  }

  void conv(const Node& n, const FNode& f, const Tensor& x, Tensor& y) {
    const Shape& ws = g_.init(n.in(1)).shape;
    const ConvGeom c =
        f.tr ? convtranspose_geometry(g_, n, x.shape, ws) : conv_geometry(g_, n, x.shape, ws);
    y = Tensor(c.out_shape());
    const int64_t cpg = c.C / c.group, mpg = c.M / c.group, K = cpg * c.kh * c.kw;
    if (!f.tr && cpg == 1 && mpg == 1 && c.sh == 1 && c.sw == 1) return depthwise(c, f, x, y);
    const int64_t OHW = c.OH * c.OW, HW = c.H * c.W;
    X_.resize(static_cast<size_t>(K * kTile));
    acc_.resize(static_cast<size_t>(mpg * kTile));
    const bool pointwise = !f.tr && c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.pt == 0 &&
                           c.pl == 0 && c.OH == c.H && c.OW == c.W;
    for (int64_t b = 0; b < c.N; ++b)
      for (int64_t gi = 0; gi < c.group; ++gi) {
        const float* xg = x.f.data() + (b * c.C + gi * cpg) * HW;
        for (int64_t p0 = 0; p0 < OHW; p0 += kTile) {
          const int nt = static_cast<int>(std::min<int64_t>(kTile, OHW - p0));
          const int NT = round_up(nt, 16);
          pack(c, f.tr, pointwise, xg, cpg, p0, nt, NT);
          const int64_t m0 = gi * mpg;
          fast::gemm_f64(isa_, static_cast<int>(mpg), static_cast<int>(K), NT, f.w.data() + m0 * K,
                         X_.data(), acc_.data());
          for (int64_t r = 0; r < mpg; ++r) {
            const double bias = f.bias[static_cast<size_t>(m0 + r)];
            float* yo = y.f.data() + (b * c.M + m0 + r) * OHW + p0;
            const double* a = acc_.data() + r * NT;
            for (int pp = 0; pp < nt; ++pp) yo[pp] = static_cast<float>(a[pp] + bias);
          }
        }
      }
  }

  bool dense(const Node& n, const FNode& f, const std::vector<const Tensor*>& in, Tensor& y) {
    const Tensor& a = *in[0];
    const bool gemm = n.op == "Gemm";
    if (a.shape.size() < 2 || (gemm && a.shape.size() != 2) || a.shape.back() != f.K) return false;
    const Tensor* cb = f.bias_add && in.size() > 2 ? in[2] : nullptr;
    if (f.bias_add && !cb) return false;
    const int64_t rows = a.size() / f.K;
    Shape os = a.shape;
    os.back() = f.N;
    y = Tensor(os);
    X_.resize(static_cast<size_t>(f.K * kTile));
    acc_.resize(static_cast<size_t>(f.N * kTile));
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kTile, rows - r0));
      const int NT = round_up(nt, 16);
      std::fill(X_.begin(), X_.begin() + f.K * NT, 0.0);
      for (int rr = 0; rr < nt; ++rr)
        for (int64_t k = 0; k < f.K; ++k)
          X_[static_cast<size_t>(k * NT + rr)] = a.f[static_cast<size_t>((r0 + rr) * f.K + k)];
      fast::gemm_f64(isa_, static_cast<int>(f.N), static_cast<int>(f.K), NT, f.w.data(), X_.data(),
                     acc_.data());
      for (int rr = 0; rr < nt; ++rr)
        for (int64_t j = 0; j < f.N; ++j)
          y.f[static_cast<size_t>((r0 + rr) * f.N + j)] =
              static_cast<float>(f.alpha * acc_[static_cast<size_t>(j * NT + rr)]);
    }
    if (cb) {  // u + beta * v with beta == 1 is u + v: one rounding, whatever the contraction
      const Shape& cs = cb->shape;
      if (cs.size() > 2) return false;
      const int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
      if ((cm != 1 && cm != rows) || (cn != 1 && cn != f.N)) return false;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < f.N; ++j) {
          const float v = cb->f[static_cast<size_t>((cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j))];
          float& u = y.f[static_cast<size_t>(i * f.N + j)];
          u = u + v;
        }
    }
    return true;
  }

  const Graph& g_;
  const std::vector<FNode>& prep_;
  KernelIsa isa_;
  std::vector<double> X_, acc_;
  std::vector<float> plane_;
  std::vector<int64_t> off_;
};

}  // namespace

Tensor run_float_fast(const Graph& g, const Tensor& x, const ExecOptions& o, const Observer& obs) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    fail(g.source, "graph",
         "expected one input and one output, found " + std::to_string(g.inputs.size()) + " and " +
             std::to_string(g.outputs.size()));
  std::vector<FNode> prep(g.nodes.size());
  for (size_t k = 0; k < g.nodes.size(); ++k) prep[k] = prepare(g, g.nodes[k]);
  const std::string& in = g.inputs[0].name;
  const bool split = !g.inputs[0].shape.empty() &&
                     (g.inputs[0].shape[0] == 1 || g.inputs[0].shape[0] < 0) && !x.shape.empty() &&
                     x.shape[0] > 1;
  if (!split) return Walker(g, prep, o.isa).run({{in, x}}, obs).begin()->second;
  // As run_float: a batch-1 model runs the batch sample by sample, outputs concatenated.
  const int64_t n = x.shape[0];
  std::vector<Tensor> outs(static_cast<size_t>(n));
  const int threads = obs ? 1 : fast::thread_count(o.threads, n);
  fast::parallel_samples(n, threads, [&](int64_t a, int64_t b) {
    Walker w(g, prep, o.isa);
    for (int64_t s = a; s < b; ++s)
      outs[static_cast<size_t>(s)] = w.run({{in, batch_slice(x, s)}}, obs).begin()->second;
  });
  Tensor r;
  r.shape = outs[0].shape;
  r.shape[0] = 0;
  for (const Tensor& t : outs) {
    r.shape[0] += t.shape.empty() ? 1 : t.shape[0];
    r.f.insert(r.f.end(), t.f.begin(), t.f.end());
  }
  return r;
}

Tensor run_float_batch(const Graph& g, const Tensor& x, int threads, const Observer& obs) {
  if (reference_executor_selected()) return run_float(g, x, obs);
  ExecOptions o;
  o.threads = threads;
  return run_float_fast(g, x, o, obs);
}

}  // namespace prunesim
