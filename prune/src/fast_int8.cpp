// Fast int8 executor: run_int8's layer program (int8_runner.h) with Conv, ConvTranspose and
// Gemm layers on packed, vectorised kernels, samples split over threads, and the prefix cache.
// Bit-exactness: every accumulator is the same int32 wrapping sum as hls::conv2d_acc /
// conv_transpose2d_acc / gemm_acc (modular addition is order-free), and every output goes
// through the same requantization (hls::requantize_clamp or its lane-wise copy).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>

#include "fast_kernels.h"
#include "im2col.h"
#include "int8_runner.h"
#include "prune/errors.h"
#include "prune/fast_exec.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace {

using fast::kTile;
using fast::parallel_samples;
using fast::thread_count;

int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

// One MAC layer packed for the kernels (shared read-only by every thread).
struct Packed {
  enum class Path { Golden, Im2col, Depthwise, Dense } path = Path::Golden;
  ConvGeom c;
  bool tr = false;
  int icg = 1, ocg = 1, Kc = 0, K4 = 0;
  std::vector<int8_t> w;      // Im2col/Dense: [M][4*K4]; Depthwise: [M][kh*kw]
  std::vector<int32_t> comp;  // Im2col/Dense: bias - 128 * sum(w); Depthwise: bias
};

int32_t wrap32(int64_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v)));
}

Packed pack(const QuantizedModel& q, const QLayer& L) {
  Packed P;
  const Graph& g = q.graph;
  const Node& n = g.nodes[L.node];
  const auto bias = [&](int64_t oc) -> int64_t {
    return L.bias.empty() ? 0 : L.bias[static_cast<size_t>(oc)];
  };
  if (L.kind == QLayer::Kind::Gemm) {
    const int64_t K = L.weight_shape[1], N = L.weight_shape[0];
    if (K > (1 << 28) || N > (1 << 28)) return P;
    P.path = Packed::Path::Dense;
    P.Kc = static_cast<int>(K);
    P.K4 = (P.Kc + 3) / 4;
    P.w.assign(static_cast<size_t>(N * 4 * P.K4), 0);
    P.comp.resize(static_cast<size_t>(N));
    for (int64_t o = 0; o < N; ++o) {
      int64_t sw = 0;
      for (int64_t k = 0; k < K; ++k) {
        const int8_t v = L.weight[static_cast<size_t>(o * K + k)];
        P.w[static_cast<size_t>(o * 4 * P.K4 + k)] = v;
        sw += v;
      }
      P.comp[static_cast<size_t>(o)] = wrap32(bias(o) - 128 * sw);
    }
    return P;
  }
  P.tr = L.kind == QLayer::Kind::ConvTranspose;
  const Shape& xs = g.shape(L.inputs[0]);
  P.c = P.tr ? convtranspose_geometry(g, n, xs, L.weight_shape)
             : conv_geometry(g, n, xs, L.weight_shape);
  const ConvGeom& c = P.c;
  P.icg = static_cast<int>(c.C / c.group);
  P.ocg = static_cast<int>(c.M / c.group);
  const int64_t taps = c.kh * c.kw;
  if (!P.tr && P.icg == 1 && P.ocg == 1) {  // depthwise, multiplier 1: direct rows
    P.path = Packed::Path::Depthwise;
    P.w = L.weight;
    P.comp.resize(static_cast<size_t>(c.M));
    for (int64_t oc = 0; oc < c.M; ++oc) P.comp[static_cast<size_t>(oc)] = wrap32(bias(oc));
    return P;
  }
  P.path = Packed::Path::Im2col;
  P.Kc = static_cast<int>(P.icg * taps);
  P.K4 = (P.Kc + 3) / 4;
  P.w.assign(static_cast<size_t>(c.M * 4 * P.K4), 0);
  P.comp.resize(static_cast<size_t>(c.M));
  for (int64_t oc = 0; oc < c.M; ++oc) {
    const int64_t gi = oc / P.ocg, m = oc % P.ocg;
    int64_t sw = 0;
    for (int64_t ci = 0; ci < P.icg; ++ci)
      for (int64_t i = 0; i < c.kh; ++i)
        for (int64_t j = 0; j < c.kw; ++j) {
          // Transposed: taps in descending (i, j), the float reference's scatter order.
          const int64_t k = (ci * c.kh + i) * c.kw + j;
          const size_t src =
              P.tr ? static_cast<size_t>((((gi * P.icg + ci) * P.ocg + m) * c.kh + (c.kh - 1 - i)) *
                                             c.kw +
                                         (c.kw - 1 - j))
                   : static_cast<size_t>(((oc * P.icg + ci) * c.kh + i) * c.kw + j);
          const int8_t v = L.weight[src];
          P.w[static_cast<size_t>(oc * 4 * P.K4 + k)] = v;
          sw += v;
        }
    P.comp[static_cast<size_t>(oc)] = wrap32(bias(oc) - 128 * sw);
  }
  return P;
}

// The kernels of one thread: the shared packing plus this thread's scratch buffers.
class FastKernels : public Int8LayerKernels {
 public:
  FastKernels(const QuantizedModel& q, const std::vector<Packed>& packed, KernelIsa isa)
      : q_(q), packed_(packed), isa_(isa) {}

  bool run(size_t layer, const QLayer& L, const Codes& x, Codes& y) override {
    const Packed& P = packed_[layer];
    switch (P.path) {
      case Packed::Path::Im2col:
        im2col_conv(P, L, x, y);
        return true;
      case Packed::Path::Depthwise:
        depthwise(P, L, x, y);
        return true;
      case Packed::Path::Dense:
        return dense(P, L, x, y);
      default:
        return false;
    }
  }

 private:
  void im2col_conv(const Packed& P, const QLayer& L, const Codes& x, Codes& y) {
    const ConvGeom& c = P.c;
    const int64_t OHW = c.OH * c.OW, HW = c.H * c.W;
    X_.resize(static_cast<size_t>(P.K4) * kTile * 4);
    acc_.resize(static_cast<size_t>(P.ocg) * kTile);
    const bool pointwise = !P.tr && c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.pt == 0 &&
                           c.pl == 0 && c.OH == c.H && c.OW == c.W;
    for (int64_t b = 0; b < c.N; ++b)
      for (int64_t gi = 0; gi < c.group; ++gi) {
        const int8_t* xg = x.data() + (b * c.C + gi * P.icg) * HW;
        for (int64_t p0 = 0; p0 < OHW; p0 += kTile) {
          const int nt = static_cast<int>(std::min<int64_t>(kTile, OHW - p0));
          const int NT = round_up(nt, 16);
          std::fill(X_.begin(), X_.begin() + static_cast<int64_t>(P.K4) * NT * 4, uint8_t{0x80});
          if (pointwise)
            pack_pointwise(P, xg, HW, p0, nt, NT);
          else
            pack_conv(P, xg, p0, nt, NT);
          const int64_t oc0 = gi * P.ocg;
          fast::gemm_u8s8(isa_, P.ocg, P.K4, NT, P.w.data() + oc0 * 4 * P.K4, X_.data(),
                          P.comp.data() + oc0, acc_.data());
          for (int r = 0; r < P.ocg; ++r) {
            const int64_t oc = oc0 + r;
            fast::requant_row(isa_, nt, acc_.data() + r * NT, L.requant[static_cast<size_t>(oc)],
                              L.act_min, L.act_max, y.data() + (b * c.M + oc) * OHW + p0);
          }
        }
      }
  }

  // 1x1, stride 1, no padding: X[k4][p][0..3] = the codes of channels 4*k4 .. 4*k4+3 at p.
  void pack_pointwise(const Packed& P, const int8_t* xg, int64_t HW, int64_t p0, int nt, int NT) {
    for (int k4 = 0; k4 < P.K4; ++k4) {
      uint8_t* d = X_.data() + static_cast<int64_t>(k4) * NT * 4;
      const int rows = std::min(4, P.Kc - 4 * k4);
      const uint8_t* r[4];
      for (int j = 0; j < 4; ++j)
        r[j] = reinterpret_cast<const uint8_t*>(xg + (4 * k4 + std::min(j, rows - 1)) * HW + p0);
      if (rows == 4) {
        for (int pp = 0; pp < nt; ++pp) {
          d[4 * pp] = r[0][pp] ^ 0x80;
          d[4 * pp + 1] = r[1][pp] ^ 0x80;
          d[4 * pp + 2] = r[2][pp] ^ 0x80;
          d[4 * pp + 3] = r[3][pp] ^ 0x80;
        }
      } else {
        for (int j = 0; j < rows; ++j)
          for (int pp = 0; pp < nt; ++pp) d[4 * pp + j] = r[j][pp] ^ 0x80;
      }
    }
  }

  void pack_conv(const Packed& P, const int8_t* xg, int64_t p0, int nt, int NT) {
    uint8_t* X = X_.data();
    fast::im2col_tile(P.c, P.tr, P.icg, p0, nt, [&](int64_t k, int64_t pp, int64_t idx) {
      X[(k >> 2) * NT * 4 + pp * 4 + (k & 3)] = static_cast<uint8_t>(xg[idx] ^ 0x80);
    });
  }

  void depthwise(const Packed& P, const QLayer& L, const Codes& x, Codes& y) {
    const ConvGeom& c = P.c;
    const int64_t PH = (c.OH - 1) * c.sh + (c.kh - 1) * c.dh + 1;
    const int64_t PW = (c.OW - 1) * c.sw + (c.kw - 1) * c.dw + 1;
    const int taps = static_cast<int>(c.kh * c.kw);
    plane_.resize(static_cast<size_t>(PH * PW));
    off_.resize(static_cast<size_t>(taps));
    for (int64_t b = 0; b < c.N; ++b)
      for (int64_t ch = 0; ch < c.M; ++ch) {
        const int8_t* xc = x.data() + (b * c.C + ch) * c.H * c.W;
        std::fill(plane_.begin(), plane_.end(), int8_t{0});  // zero point 0: padding is code 0
        for (int64_t ih = 0; ih < c.H && ih + c.pt < PH; ++ih) {
          const int64_t n = std::min(c.W, PW - c.pl);
          if (n > 0) std::memcpy(plane_.data() + (ih + c.pt) * PW + c.pl, xc + ih * c.W, n);
        }
        if (c.sh == 1 && c.sw == 1) {
          // Stride 1: the output rows laid at the padded plane's pitch make one long row per tap
          // (columns past OW are computed and dropped), so the vector loops run the whole plane.
          const int64_t n = (c.OH - 1) * PW + c.OW;
          for (int64_t i = 0; i < c.kh; ++i)
            for (int64_t j = 0; j < c.kw; ++j)
              off_[static_cast<size_t>(i * c.kw + j)] = i * c.dh * PW + j * c.dw;
          acc_.assign(static_cast<size_t>(n), P.comp[static_cast<size_t>(ch)]);
          rows_.resize(static_cast<size_t>(n));
          fast::dw_row(isa_, static_cast<int>(n), taps, plane_.data(), off_.data(), 1,
                       P.w.data() + ch * taps, acc_.data());
          fast::requant_row(isa_, static_cast<int>(n), acc_.data(),
                            L.requant[static_cast<size_t>(ch)], L.act_min, L.act_max, rows_.data());
          int8_t* yc = y.data() + (b * c.M + ch) * c.OH * c.OW;
          for (int64_t oh = 0; oh < c.OH; ++oh)
            std::memcpy(yc + oh * c.OW, rows_.data() + oh * PW, static_cast<size_t>(c.OW));
          continue;
        }
        acc_.resize(static_cast<size_t>(c.OW));
        for (int64_t oh = 0; oh < c.OH; ++oh) {
          for (int64_t i = 0; i < c.kh; ++i)
            for (int64_t j = 0; j < c.kw; ++j)
              off_[static_cast<size_t>(i * c.kw + j)] = (oh * c.sh + i * c.dh) * PW + j * c.dw;
          std::fill(acc_.begin(), acc_.end(), P.comp[static_cast<size_t>(ch)]);
          fast::dw_row(isa_, static_cast<int>(c.OW), taps, plane_.data(), off_.data(),
                       static_cast<int>(c.sw), P.w.data() + ch * taps, acc_.data());
          fast::requant_row(isa_, static_cast<int>(c.OW), acc_.data(),
                            L.requant[static_cast<size_t>(ch)], L.act_min, L.act_max,
                            y.data() + ((b * c.M + ch) * c.OH + oh) * c.OW);
        }
      }
  }

  bool dense(const Packed& P, const QLayer& L, const Codes& x, Codes& y) {
    const Node& n = q_.graph.nodes[L.node];
    if (n.op == "Gemm" && n.attr_i("transA", 0)) return false;  // rare: the golden path
    const int64_t K = P.Kc, N = L.weight_shape[0];
    const int64_t rows = static_cast<int64_t>(x.size()) / K;
    X_.resize(static_cast<size_t>(P.K4) * kTile * 4);
    acc_.resize(static_cast<size_t>(N) * kTile);
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kTile, rows - r0));
      const int NT = round_up(nt, 16);
      std::fill(X_.begin(), X_.begin() + static_cast<int64_t>(P.K4) * NT * 4, uint8_t{0x80});
      for (int rr = 0; rr < nt; ++rr)
        for (int64_t k = 0; k < K; ++k)
          X_[static_cast<size_t>((k >> 2) * NT * 4 + rr * 4 + (k & 3))] =
              static_cast<uint8_t>(x[static_cast<size_t>((r0 + rr) * K + k)] ^ 0x80);
      fast::gemm_u8s8(isa_, static_cast<int>(N), P.K4, NT, P.w.data(), X_.data(), P.comp.data(),
                      acc_.data());
      for (int rr = 0; rr < nt; ++rr)
        for (int64_t o = 0; o < N; ++o)
          y[static_cast<size_t>((r0 + rr) * N + o)] =
              hls::requantize_clamp(acc_[static_cast<size_t>(o * NT + rr)],
                                    L.requant[static_cast<size_t>(o)], L.act_min, L.act_max);
    }
    return true;
  }

  const QuantizedModel& q_;
  const std::vector<Packed>& packed_;
  KernelIsa isa_;
  std::vector<uint8_t> X_;
  std::vector<int32_t> acc_;
  std::vector<int8_t> plane_, rows_;
  std::vector<int64_t> off_;
};

std::vector<Packed> pack_all(const QuantizedModel& q) {
  std::vector<Packed> p(q.layers.size());
  for (size_t k = 0; k < q.layers.size(); ++k) {
    const QLayer& L = q.layers[k];
    if (L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
        L.kind == QLayer::Kind::Gemm)
      p[k] = pack(q, L);
  }
  return p;
}

// run_int8's input quantization of elements [a, b) of x.
void quantize_range(const QuantizedModel& q, const Tensor& x, size_t a, size_t b, int8_t* out,
                    KernelIsa isa) {
  fast::quantize_row(isa, b - a, x.f.data() + a, q.input_scale, out);
}

// ---------------------------------------------------------------- prefix cache signatures
void put(std::string& s, const void* p, size_t n) {
  s.append(static_cast<const char*>(p), n);
}
template <class T>
void put_pod(std::string& s, const T& v) {
  put(s, &v, sizeof v);
}
template <class T>
void put_vec(std::string& s, const std::vector<T>& v) {
  put_pod(s, v.size());
  if (!v.empty()) put(s, v.data(), v.size() * sizeof(T));
}
void put_str(std::string& s, const std::string& v) {
  put_pod(s, v.size());
  s += v;
}
void put_tensor(std::string& s, const Tensor& t) {
  put_pod(s, t.dtype);
  put_vec(s, t.shape);
  put_vec(s, t.f);
  put_vec(s, t.i);
}

// Everything layer k's output depends on besides its input codes, as bytes.
std::string signature(const QuantizedModel& q, size_t k) {
  const QLayer& L = q.layers[k];
  const Graph& g = q.graph;
  const Node& n = g.nodes[L.node];
  std::string s;
  put_pod(s, L.kind);
  put_str(s, L.op);
  put_str(s, n.op);
  put_pod(s, g.opset);
  for (const auto& f : L.fused) put_str(s, f);
  put_pod(s, L.inputs.size());
  for (const auto& v : L.inputs) put_str(s, v);
  put_str(s, L.output);
  put_vec(s, g.shape(L.output));
  put_vec(s, L.weight_shape);
  put_vec(s, L.weight);
  put_vec(s, L.weight_scale);
  put_pod(s, L.const_operand);
  put_vec(s, L.bias);
  put_pod(s, L.requant.size());
  for (const auto& r : L.requant) {
    put_pod(s, r.multiplier);
    put_pod(s, r.shift);
  }
  put_pod(s, L.act_min);
  put_pod(s, L.act_max);
  put_vec(s, L.lut);
  put_vec(s, L.exp_lut);
  for (const auto& [name, a] : n.attrs) {
    put_str(s, name);
    put_pod(s, a.kind);
    put_pod(s, a.i);
    put_pod(s, a.f);
    put_str(s, a.s);
    put_vec(s, a.ints);
    put_vec(s, a.floats);
    put_tensor(s, a.t);
  }
  put_pod(s, n.inputs.size());
  for (const auto& v : n.inputs) {
    put_str(s, v);
    if (v.empty()) continue;
    if (g.is_const(v)) {
      put_tensor(s, g.init(v));
    } else {
      put_vec(s, g.shape(v));
      auto it = q.scales.find(v);
      put_pod(s, it == q.scales.end() ? 0.f : it->second);
    }
  }
  return s;
}

}  // namespace

Int8Result run_int8_fast(const QuantizedModel& q, const Tensor& x, const ExecOptions& o,
                         const Int8Observer& obs) {
  Shape S;
  const int64_t n = detail::check_int8_input(q, x, &S);
  const int64_t per = numel(S), per_out = numel(q.graph.shape(q.output));
  Int8Result r = detail::int8_result(q, n);
  const std::vector<Packed> packed = pack_all(q);
  // An observer sees the samples in order, as run_int8's does: one thread then.
  parallel_samples(n, obs ? 1 : thread_count(o.threads, n), [&](int64_t a, int64_t b) {
    FastKernels k(q, packed, o.isa);
    detail::Int8Program prog(q, &k);
    for (int64_t s = a; s < b; ++s) {
      Codes xin(static_cast<size_t>(per));
      quantize_range(q, x, static_cast<size_t>(s * per), static_cast<size_t>((s + 1) * per),
                     xin.data(), o.isa);
      const Codes& y = prog.run(std::move(xin), obs);
      std::copy(y.begin(), y.end(), r.output_int8.i.begin() + s * per_out);
    }
  });
  detail::dequantize_result(q, r);
  return r;
}

size_t Int8ActivationCache::bytes() const {
  size_t b = input_codes.size();
  for (const auto& kv : values) b += kv.second.size();
  return b;
}

size_t shared_prefix(const Int8ActivationCache& cache, const QuantizedModel& q,
                     const std::vector<int8_t>& input_codes) {
  if (cache.signatures.empty() || cache.input != q.input || cache.output != q.output ||
      cache.input_scale != q.input_scale || cache.input_codes != input_codes)
    return 0;
  size_t k = 0;
  while (k < q.layers.size() && k < cache.signatures.size() &&
         cache.values.count(q.layers[k].output) && cache.signatures[k] == signature(q, k))
    ++k;
  return k;
}

Int8Result run_int8_cached(const QuantizedModel& q, const Tensor& x, Int8ActivationCache& cache,
                           const ExecOptions& o, size_t* reused) {
  Shape S;
  const int64_t n = detail::check_int8_input(q, x, &S);
  std::vector<int8_t> codes(x.f.size());
  parallel_samples(n, thread_count(o.threads, n), [&](int64_t a, int64_t b) {
    const size_t per = codes.size() / static_cast<size_t>(n);
    quantize_range(q, x, a * per, b * per, codes.data() + a * per, o.isa);
  });
  const size_t first = shared_prefix(cache, q, codes);
  if (reused) *reused = first;
  const Graph& g = q.graph;

  // Keep the prefix's values, drop the rest; make room for the layers to compute.
  std::map<std::string, std::vector<int8_t>> values;
  std::map<std::string, Shape> shapes;
  for (size_t k = 0; k < first; ++k) {
    const std::string& v = q.layers[k].output;
    values[v] = std::move(cache.values[v]);
    shapes[v] = g.shape(v);
  }
  for (size_t k = first; k < q.layers.size(); ++k) {
    const std::string& v = q.layers[k].output;
    shapes[v] = g.shape(v);
    values[v].assign(static_cast<size_t>(numel(shapes[v]) * n), 0);
  }
  const int64_t per = numel(S);
  const std::vector<Packed> packed = pack_all(q);
  parallel_samples(n, thread_count(o.threads, n), [&](int64_t a, int64_t b) {
    FastKernels k(q, packed, o.isa);
    detail::Int8Program prog(q, &k);
    for (int64_t s = a; s < b; ++s) {
      std::map<std::string, Codes> env;
      env[q.input] = Codes(codes.begin() + s * per, codes.begin() + (s + 1) * per);
      for (size_t l = 0; l < first; ++l) {
        const std::string& v = q.layers[l].output;
        const size_t sz = static_cast<size_t>(numel(shapes[v]));
        const auto& src = values[v];
        env[v] = Codes(src.begin() + static_cast<int64_t>(s * sz),
                       src.begin() + static_cast<int64_t>((s + 1) * sz));
      }
      prog.run_from(std::move(env), first, [&](const QLayer& L, const Codes& c, const Shape&) {
        std::copy(c.begin(), c.end(),
                  values.at(L.output).begin() + s * static_cast<int64_t>(c.size()));
      });
    }
  });

  Int8Result r = detail::int8_result(q, n);
  const auto& out = q.layers.empty() ? codes : values.at(q.output);
  std::copy(out.begin(), out.end(), r.output_int8.i.begin());
  detail::dequantize_result(q, r);

  std::vector<std::string> sigs(q.layers.size());
  for (size_t k = 0; k < q.layers.size(); ++k)
    sigs[k] = k < first ? std::move(cache.signatures[k]) : signature(q, k);
  cache.signatures = std::move(sigs);
  cache.input = q.input;
  cache.output = q.output;
  cache.input_scale = q.input_scale;
  cache.sample = S;
  cache.samples = n;
  cache.input_codes = std::move(codes);
  cache.shapes = std::move(shapes);
  cache.values = std::move(values);
  return r;
}

// ---------------------------------------------------------------- selection
bool reference_executor_selected() {
  const char* e = std::getenv("PRUNESIM_EXECUTOR");
  if (!e || !*e || std::string(e) == "fast") return false;
  if (std::string(e) == "reference") return true;
  fail("environment", "PRUNESIM_EXECUTOR",
       "'" + std::string(e) + "' is not an executor (fast, reference)");
}

Int8Result run_int8_batch(const QuantizedModel& q, const Tensor& x, int threads) {
  if (reference_executor_selected()) return run_int8(q, x);
  ExecOptions o;
  o.threads = threads;
  return run_int8_fast(q, x, o);
}

}  // namespace prunesim
