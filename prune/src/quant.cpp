// Post-training int8 quantization: activation ranges from the float executor's observer over
// the calibration set, per-output-channel symmetric weights, int32 biases, requantization
// multipliers and the layer program run_int8() executes. docs/quantization.md is the spec.
#include "prune/quant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "hls/datapath.h"
#include "op_table.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/graph_passes.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace {

// Percentile resolution: |a| is binned over [0, max|a|]; 2^16 bins put the error of the chosen
// clip value at max/65536, some 500x below one int8 step (max/127).
constexpr int kHistBins = 1 << 16;
// Calibration samples per float-executor call: bounds memory of the observed tensors.
constexpr int64_t kChunk = 16;

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

const std::set<std::string> kInt8Ops = {"Add",
                                        "AveragePool",
                                        "BatchNormalization",
                                        "Cast",
                                        "Clip",
                                        "Concat",
                                        "Conv",
                                        "ConvTranspose",
                                        "Div",
                                        "Dropout",
                                        "Flatten",
                                        "Gather",
                                        "Gemm",
                                        "GlobalAveragePool",
                                        "Gelu",
                                        "GlobalMaxPool",
                                        "HardSigmoid",
                                        "HardSwish",
                                        "Identity",
                                        "LayerNormalization",
                                        "LeakyRelu",
                                        "MatMul",
                                        "MaxPool",
                                        "Mul",
                                        "Pad",
                                        "ReduceMax",
                                        "ReduceMean",
                                        "ReduceSum",
                                        "Relu",
                                        "Reshape",
                                        "Resize",
                                        "Sigmoid",
                                        "Slice",
                                        "Softmax",
                                        "Squeeze",
                                        "Sub",
                                        "Tanh",
                                        "Transpose",
                                        "Unsqueeze",
                                        "Upsample"};

// Unary ops the int8 path runs as a 256-entry table (and that fuse a following Mul by their
// own input into the table: x * f(x)).
const std::set<std::string> kLutOps = {"Sigmoid",     "Tanh",      "LeakyRelu",
                                       "HardSigmoid", "HardSwish", "Gelu"};

std::string int8_op_list() {
  std::string r;
  for (const auto& o : kInt8Ops)
    if (o != "Identity" && o != "Dropout") r += (r.empty() ? "" : ", ") + o;
  return r;
}

struct ValueStats {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  uint64_t count = 0;
  std::vector<uint64_t> hist;  // second pass (Percentile) only

  void add_range(const std::vector<float>& v) {
    for (float a : v) {
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
    count += v.size();
  }
  double absmax() const {
    if (count == 0) return 0.0;
    return std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
  }
  void add_hist(const std::vector<float>& v) {
    const double m = absmax();
    if (hist.empty()) hist.assign(kHistBins, 0);
    for (float a : v) {
      size_t b = 0;
      if (m > 0) {
        const double pos = std::fabs(static_cast<double>(a)) / m * kHistBins;
        b = static_cast<size_t>(std::min<double>(pos, kHistBins - 1));
      }
      ++hist[b];
    }
  }
  // The smallest bin upper edge below which at least p% of |a| lies (never above max|a|).
  double percentile_abs(double p) const {
    const double m = absmax();
    if (hist.empty() || m == 0.0 || p >= 100.0) return m;
    uint64_t total = 0;
    for (auto c : hist) total += c;
    const uint64_t rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total))));
    uint64_t cum = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
      cum += hist[b];
      if (cum >= rank) return std::min(m, (static_cast<double>(b) + 1.0) / kHistBins * m);
    }
    return m;
  }
};

class Calibrator {
 public:
  Calibrator(const Graph& g, const Tensor& calib, const QuantOptions& opt)
      : g_(g), x_(calib), opt_(opt) {
    n_ = split_samples(g, calib, opt.calib_source, &sample_);
    for (size_t k = 0; k < calib.f.size(); ++k)
      if (!std::isfinite(calib.f[k]))
        fail(opt.calib_source, "element " + std::to_string(k),
             std::string(std::isnan(calib.f[k]) ? "NaN" : "Inf") +
                 " in calibration data (it must be finite)");
  }

  void run() {
    const bool pct = opt_.calib == QuantOptions::Calib::Percentile;
    // The histogram needs max|a| first. The first pass keeps the activations it saw (up to
    // kKeepBytes) so the histogram is filled from them instead of running the float graph a
    // second time: the same values, so the same bins (the order of counting does not matter).
    keep_ = pct;
    pass(false);
    if (!pct) return;
    if (!keep_) {
      pass(true);
      return;
    }
    for (auto& kv : kept_) stats_[kv.first].add_hist(kv.second);
    kept_.clear();
  }

  int64_t samples() const { return n_; }
  const std::map<std::string, ValueStats>& stats() const { return stats_; }

 private:
  void observe(const std::string& v, const Tensor& t, bool hist) {
    ValueStats& s = stats_[v];
    if (hist) {
      s.add_hist(t.f);
      return;
    }
    s.add_range(t.f);
    if (!keep_) return;
    kept_bytes_ += t.f.size() * sizeof(float);
    if (kept_bytes_ > kKeepBytes) {
      keep_ = false;  // too large to keep: the second pass runs the graph again
      kept_.clear();
      return;
    }
    auto& k = kept_[v];
    k.insert(k.end(), t.f.begin(), t.f.end());
  }

  void pass(bool hist) {
    const int64_t per = numel(sample_);
    const std::string& in = g_.inputs[0].name;
    // A batch-1 model takes [n, ...] chunks (the float executor splits them); any other
    // declared batch runs one sample at a time.
    const int64_t chunk = sample_[0] == 1 ? kChunk : 1;
    for (int64_t s0 = 0; s0 < n_; s0 += chunk) {
      const int64_t cnt = std::min(chunk, n_ - s0);
      Shape shp = sample_;
      shp[0] *= cnt;
      Tensor t(shp, std::vector<float>(x_.f.begin() + s0 * per, x_.f.begin() + (s0 + cnt) * per));
      observe(in, t, hist);
      run_float_batch(g_, t, 0, [&](const Node&, const std::string& v, const Tensor& y) {
        if (y.is_float()) observe(v, y, hist);
      });
    }
  }

  const Graph& g_;
  const Tensor& x_;
  const QuantOptions& opt_;
  Shape sample_;
  int64_t n_ = 0;
  std::map<std::string, ValueStats> stats_;
  // The first pass's activations, per value, while they fit in kKeepBytes (Percentile only).
  static constexpr size_t kKeepBytes = size_t{256} << 20;
  bool keep_ = false;
  size_t kept_bytes_ = 0;
  std::map<std::string, std::vector<float>> kept_;
};

// Builds the layer program; one method per family of ops.
class Builder {
 public:
  Builder(const Graph& g, const QuantOptions& opt, const std::map<std::string, ValueStats>& st,
          QuantizedModel& q)
      : g_(g), opt_(opt), st_(st), q_(q) {}

  void build() {
    q_.input = g_.inputs[0].name;
    q_.output = g_.outputs[0].name;
    q_.scales[q_.input] = calibrated_scale(q_.input);
    for (size_t k = 0; k < g_.nodes.size(); ++k) {
      if (absorbed_.count(k)) continue;
      const Node& n = g_.nodes[k];
      QLayer L;
      L.name = n.name;
      L.op = n.op;
      L.node = k;
      L.output = n.outputs.at(0);
      const std::string& op = n.op;
      if (op == "Conv")
        conv(n, L);
      else if (op == "ConvTranspose")
        conv_transpose(n, L);
      else if (op == "Gemm")
        gemm(n, L);
      else if (op == "MatMul" && !g_.is_const(n.in(1)) && !g_.is_const(n.in(0)))
        matmul_act(n, L);
      else if (op == "MatMul")
        matmul(n, L);
      else if (op == "MaxPool")
        pass_through(n, L, QLayer::Kind::MaxPool);
      else if (op == "GlobalMaxPool")
        pass_through(n, L, QLayer::Kind::GlobalMaxPool);
      else if (op == "AveragePool")
        avg_pool(n, L);
      else if (op == "GlobalAveragePool")
        global_avg_pool(n, L);
      else if (op == "Add" || op == "Sub")
        add(n, L);
      else if (op == "Mul" || op == "Div")
        mul(n, L);
      else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax")
        reduce(n, L);
      else if (op == "Concat")
        concat(n, L);
      else if (op == "Relu" || op == "Clip")
        clamp(n, L);
      else if (kLutOps.count(op))
        lut(n, L);
      else if (op == "Softmax")
        softmax(n, L);
      else if (op == "LayerNormalization")
        layernorm(n, L);
      else if ((op == "Resize" || op == "Upsample") && n.attr_s("mode", "nearest") == "linear")
        resize_linear(n, L);
      else if (op == "Flatten" || op == "Reshape" || op == "Transpose" || op == "Resize" ||
               op == "Upsample" || op == "Identity" || op == "Dropout" || op == "Slice" ||
               op == "Squeeze" || op == "Unsqueeze" || op == "Gather" || op == "Pad" ||
               op == "Cast")
        pass_through(n, L, QLayer::Kind::Move);
      else
        unsupported(g_.source, where(n), "op '" + op + "' has no int8 implementation");
      q_.layers.push_back(std::move(L));
    }
    auto it = q_.scales.find(q_.output);
    if (it == q_.scales.end())
      fail(g_.source, "output '" + q_.output + "'", "is not produced by any node");
    q_.input_scale = q_.scales.at(q_.input);
    q_.output_scale = it->second;
    for (const auto& kv : st_) q_.ranges[kv.first] = {kv.second.lo, kv.second.hi};
  }

 private:
  // ------------------------------------------------------------------ scales and helpers
  float calibrated_scale(const std::string& v) const {
    auto it = st_.find(v);
    if (it == st_.end()) throw std::logic_error("no calibration statistics for '" + v + "'");
    const double m = opt_.calib == QuantOptions::Calib::Percentile
                         ? it->second.percentile_abs(opt_.percentile)
                         : it->second.absmax();
    // An identically-zero value is exact at any scale; 1 keeps the multipliers ordinary. A
    // range so small that m/127 underflows float32 is treated the same way.
    const float s = static_cast<float>(m / 127.0);
    return s > 0.f ? s : 1.f;
  }

  const std::string& act_input(const Node& n, size_t i) const {
    const std::string& v = n.in(i);
    if (v.empty() || g_.is_const(v))
      unsupported(g_.source, where(n),
                  "input " + std::to_string(i) + " must be an activation for the int8 path");
    if (!q_.scales.count(v))
      throw std::logic_error("int8: value '" + v + "' has no scale before " + n.name);
    return v;
  }

  const Tensor& const_input(const Node& n, size_t i, const char* what) const {
    const std::string& v = n.in(i);
    if (v.empty() || !g_.is_const(v))
      unsupported(g_.source, where(n),
                  std::string(what) + " must be a constant initializer for the int8 path");
    const Tensor& t = g_.init(v);
    if (!t.is_float()) fail(g_.source, where(n), std::string(what) + " is not a float tensor");
    return t;
  }

  bool is_graph_output(const std::string& v) const {
    for (const auto& o : g_.outputs)
      if (o.name == v) return true;
    return false;
  }

  // The node reading `v` if it is the only reader (and v is no graph output), else -1.
  int sole_consumer(const std::string& v) const {
    if (is_graph_output(v)) return -1;
    int found = -1, uses = 0;
    for (size_t k = 0; k < g_.nodes.size(); ++k)
      for (const auto& i : g_.nodes[k].inputs)
        if (i == v) {
          ++uses;
          found = static_cast<int>(k);
        }
    return uses == 1 ? found : -1;
  }

  // Absorbs a Relu/Clip that alone reads L's output. Returns the absorbed node or nullptr.
  const Node* absorb_activation(QLayer& L) {
    const int j = sole_consumer(L.output);
    if (j < 0) return nullptr;
    const Node& a = g_.nodes[static_cast<size_t>(j)];
    if (a.op != "Relu" && a.op != "Clip") return nullptr;
    absorbed_.insert(static_cast<size_t>(j));
    L.fused.push_back(a.name);
    L.output = a.outputs.at(0);
    return &a;
  }

  // int8 images of the activation's bounds at scale s (round half away, saturate).
  void clamp_bounds(const Node& a, float s, int8_t& lo, int8_t& hi) const {
    if (a.op == "Relu") {
      lo = 0;
      hi = hls::kInt8Max;
      return;
    }
    float fl = -std::numeric_limits<float>::infinity(), fh = std::numeric_limits<float>::infinity();
    if (g_.opset < 11) {
      fl = a.attr_f("min", fl);
      fh = a.attr_f("max", fh);
    } else {
      auto v1 = const_floats(g_, a, 1), v2 = const_floats(g_, a, 2);
      if (!v1.empty()) fl = v1[0];
      if (!v2.empty()) fh = v2[0];
    }
    lo = hls::quantize_value(fl, s);
    hi = hls::quantize_value(fh, s);
  }

  // Sets L.output's scale from calibration and the fused clamp, if any.
  float finish_output(QLayer& L, const Node* act) {
    const float s = calibrated_scale(L.output);
    q_.scales[L.output] = s;
    if (act) clamp_bounds(*act, s, L.act_min, L.act_max);
    return s;
  }

  hls::Requant requant(const Node& n, double real) const {
    hls::Requant r;
    if (!hls::quantize_multiplier(real, &r))
      fail(g_.source, where(n),
           "requantization factor " + std::to_string(real) +
               " cannot be represented as multiplier * 2^-shift (shift 1..62)");
    return r;
  }

  // Per-output-channel symmetric weights: s_w[c] = max|w_c| / 127, q = round_half_away(w / s_w)
  // in [-127, 127]. chan(i) is the output channel of flat element i of `w`.
  template <typename Chan>
  void quantize_weights(const std::vector<float>& w, int64_t channels, Chan chan, QLayer& L) {
    std::vector<double> mx(static_cast<size_t>(channels), 0.0);
    for (size_t i = 0; i < w.size(); ++i) {
      double& m = mx[static_cast<size_t>(chan(i))];
      m = std::max(m, std::fabs(static_cast<double>(w[i])));
    }
    L.weight_scale.resize(static_cast<size_t>(channels));
    for (size_t c = 0; c < mx.size(); ++c)
      // An all-zero (fully pruned) channel: any scale is exact for its weights; 1/127 keeps its
      // bias step s_in/127, well below one input step.
      L.weight_scale[c] =
          static_cast<float>(mx[c] / 127.0) > 0.f ? static_cast<float>(mx[c] / 127.0) : 1.f / 127.f;
    L.weight.resize(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      const double s = L.weight_scale[static_cast<size_t>(chan(i))];
      const double v = std::round(static_cast<double>(w[i]) / s);
      L.weight[i] = static_cast<int8_t>(std::max(-127.0, std::min(127.0, v)));
    }
  }

  // bias[c] = sat32(round_half_away(b[c] / (s_in * s_w[c]))).
  void quantize_bias(const std::vector<float>& b, float s_in, QLayer& L) {
    L.bias.assign(L.weight_scale.size(), 0);
    for (size_t c = 0; c < L.bias.size() && !b.empty(); ++c) {
      const double v =
          std::round(static_cast<double>(b[c]) / (static_cast<double>(s_in) * L.weight_scale[c]));
      L.bias[c] = hls::sat32(static_cast<int64_t>(std::max(-4e18, std::min(4e18, v))));
    }
  }

  // Per-channel requantization s_in * s_w[c] / s_out.
  void channel_requant(const Node& n, float s_in, float s_out, QLayer& L) {
    L.requant.clear();
    for (float sw : L.weight_scale)
      L.requant.push_back(requant(n, static_cast<double>(s_in) * sw / static_cast<double>(s_out)));
  }

  // Worst-case |accumulator|: sum over a channel's weights of |w| * 128 plus |bias|. Above
  // 2^31 - 1 the int32 register could wrap, so the model is rejected rather than mis-simulated.
  template <typename Chan>
  void check_accumulator(const Node& n, int64_t channels, Chan chan, QLayer& L) {
    std::vector<int64_t> sum(static_cast<size_t>(channels), 0);
    for (size_t i = 0; i < L.weight.size(); ++i)
      sum[static_cast<size_t>(chan(i))] += std::abs(static_cast<int64_t>(L.weight[i]));
    for (size_t c = 0; c < sum.size(); ++c) {
      const int64_t b = L.bias.empty() ? 0 : std::abs(static_cast<int64_t>(L.bias[c]));
      L.acc_bound = std::max(L.acc_bound, sum[c] * 128 + b);
    }
    if (L.acc_bound > hls::kInt32Max)
      fail(g_.source, where(n),
           "the int32 accumulator could overflow: worst case |acc| = " +
               std::to_string(L.acc_bound) + " > 2^31-1");
  }

  // ------------------------------------------------------------------ ops
  void conv(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Conv;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Tensor& w = const_input(n, 1, "the weight");
    const ConvGeom c = conv_geometry(g_, n, g_.shape(x), w.shape);
    const int64_t per = numel(w.shape) / c.M;
    auto chan = [per](size_t i) { return static_cast<int64_t>(i) / per; };
    quantize_conv_like(n, x, w, c.M, chan, L);
  }

  // Shared by Conv and ConvTranspose: they differ only in which output channel owns each
  // weight element (`chan`).
  template <typename Chan>
  void quantize_conv_like(const Node& n, const std::string& x, const Tensor& w, int64_t M,
                          Chan chan, QLayer& L) {
    quantize_weights(w.f, M, chan, L);
    L.weight_shape = w.shape;
    const float s_in = q_.scales.at(x);
    std::vector<float> b;
    if (!n.in(2).empty()) b = const_input(n, 2, "the bias").f;
    quantize_bias(b, s_in, L);
    const float s_out = finish_output(L, absorb_activation(L));
    channel_requant(n, s_in, s_out, L);
    check_accumulator(n, M, chan, L);
  }

  void conv_transpose(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::ConvTranspose;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Tensor& w = const_input(n, 1, "the weight");
    const ConvGeom c = convtranspose_geometry(g_, n, g_.shape(x), w.shape);
    // w is [C, M/group, k...]: element i belongs to input channel ci and, within ci's group
    // gi, to output channel gi * M/group + mo.
    const int64_t mpg = c.M / c.group, cpg = c.C / c.group, taps = c.kh * c.kw;
    auto chan = [=](size_t i) {
      const int64_t e = static_cast<int64_t>(i) / taps;
      return (e / mpg) / cpg * mpg + e % mpg;
    };
    quantize_conv_like(n, x, w, c.M, chan, L);
  }

  // Shared tail of Gemm and MatMul once the float weight is [N, K] and the bias is known.
  void dense(const Node& n, QLayer& L, const std::vector<float>& wnk, int64_t N, int64_t K,
             const std::vector<float>& bias, const Node* act) {
    L.kind = QLayer::Kind::Gemm;
    auto chan = [K](size_t i) { return static_cast<int64_t>(i) / K; };
    quantize_weights(wnk, N, chan, L);
    L.weight_shape = {N, K};
    const float s_in = q_.scales.at(L.inputs[0]);
    quantize_bias(bias, s_in, L);
    const float s_out = finish_output(L, act);
    channel_requant(n, s_in, s_out, L);
    check_accumulator(n, N, chan, L);
  }

  // A constant row vector (numel N, or 1) that broadcasts over rows: usable as a bias.
  bool row_bias(const Tensor& t, int64_t N, std::vector<float>& out, float mul) const {
    const int64_t cnt = t.size();
    if (cnt != N && cnt != 1) return false;
    for (size_t d = 0; d + 1 < t.shape.size(); ++d)
      if (t.shape[d] != 1) return false;
    if (!t.shape.empty() && t.shape.back() != cnt) return false;
    out.resize(static_cast<size_t>(N));
    for (int64_t k = 0; k < N; ++k)
      out[static_cast<size_t>(k)] = mul * t.f[cnt == 1 ? 0 : static_cast<size_t>(k)];
    return true;
  }

  void gemm(const Node& n, QLayer& L) {
    const std::string& a = act_input(n, 0);
    L.inputs = {a};
    const Tensor& B = const_input(n, 1, "operand B");
    if (B.shape.size() != 2) fail(g_.source, where(n), "operand B must be 2-D");
    const bool tb = n.attr_i("transB", 0) != 0;
    const float alpha = n.attr_f("alpha", 1.f), beta = n.attr_f("beta", 1.f);
    const int64_t K = tb ? B.shape[1] : B.shape[0], N = tb ? B.shape[0] : B.shape[1];
    // alpha is folded into the weights before their scale is chosen, beta into the bias.
    std::vector<float> w(static_cast<size_t>(N * K));
    for (int64_t o = 0; o < N; ++o)
      for (int64_t k = 0; k < K; ++k)
        w[static_cast<size_t>(o * K + k)] =
            alpha * B.f[static_cast<size_t>(tb ? o * K + k : k * N + o)];
    std::vector<float> bias;
    if (!n.in(2).empty()) {
      const Tensor& C = const_input(n, 2, "operand C");
      if (!row_bias(C, N, bias, beta))
        unsupported(g_.source, where(n),
                    "operand C of shape " + shape_str(C.shape) +
                        " varies along rows; the int8 path needs a per-column bias");
    }
    dense(n, L, w, N, K, bias, absorb_activation(L));
  }

  void matmul(const Node& n, QLayer& L) {
    const std::string& a = act_input(n, 0);
    L.inputs = {a};
    const Tensor& B = const_input(n, 1, "the right operand");
    if (B.shape.size() != 2)
      unsupported(g_.source, where(n), "the int8 path needs a 2-D constant right operand");
    const int64_t K = B.shape[0], N = B.shape[1];
    std::vector<float> w(static_cast<size_t>(N * K));
    for (int64_t o = 0; o < N; ++o)
      for (int64_t k = 0; k < K; ++k)
        w[static_cast<size_t>(o * K + k)] = B.f[static_cast<size_t>(k * N + o)];
    // torch exports Linear on >2-D inputs as MatMul + Add(bias): take the Add in as the bias.
    std::vector<float> bias;
    const int j = sole_consumer(L.output);
    if (j >= 0) {
      const Node& ad = g_.nodes[static_cast<size_t>(j)];
      if (ad.op == "Add" && ad.inputs.size() == 2) {
        const int ci = ad.inputs[0] == L.output ? 1 : 0;
        const std::string& cv = ad.inputs[static_cast<size_t>(ci)];
        if (g_.is_const(cv) && g_.init(cv).is_float() &&
            g_.shape(ad.outputs[0]) == g_.shape(L.output) && row_bias(g_.init(cv), N, bias, 1.f)) {
          absorbed_.insert(static_cast<size_t>(j));
          L.fused.push_back(ad.name);
          L.output = ad.outputs.at(0);
        } else {
          bias.clear();
        }
      }
    }
    dense(n, L, w, N, K, bias, absorb_activation(L));
  }

  // Ops whose output codes are input codes (moved, or selected by max): same scale.
  void pass_through(const Node& n, QLayer& L, QLayer::Kind kind) {
    L.kind = kind;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    if (kind == QLayer::Kind::MaxPool) pool_geometry(g_, n, g_.shape(x));  // validates
    if (kind == QLayer::Kind::GlobalMaxPool && g_.shape(x).size() > 4)
      unsupported(g_.source, where(n), "only 1-D and 2-D inputs in the int8 path");
    q_.scales[L.output] = q_.scales.at(x);
  }

  void avg_pool(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::AvgPool;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const PoolGeom p = pool_geometry(g_, n, g_.shape(x));
    const float s_in = q_.scales.at(x);
    const float s_out = finish_output(L, absorb_activation(L));
    const int64_t taps = p.kh * p.kw;
    L.requant.assign(1, hls::Requant{});  // entry 0: a window of no tap outputs 0
    for (int64_t c = 1; c <= taps; ++c)
      L.requant.push_back(requant(n, static_cast<double>(s_in) / (static_cast<double>(s_out) * c)));
    L.acc_bound = taps * 128;
  }

  void global_avg_pool(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::GlobalAvgPool;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Shape& s = g_.shape(x);
    const int64_t spatial = numel(s) / (s[0] * s[1]);
    const float s_in = q_.scales.at(x);
    const float s_out = finish_output(L, absorb_activation(L));
    L.requant = {requant(n, static_cast<double>(s_in) / (static_cast<double>(s_out) * spatial))};
    L.acc_bound = spatial * 128;
    if (L.acc_bound > hls::kInt32Max) fail(g_.source, where(n), "plane too large for an int32 sum");
  }

  // Add and Sub share the common-grid rule (§11); Sub subtracts the second operand.
  void add(const Node& n, QLayer& L) {
    L.kind = n.op == "Sub" ? QLayer::Kind::Sub : QLayer::Kind::Add;
    float s[2];
    for (size_t i = 0; i < 2; ++i) {
      const std::string& v = n.in(i);
      if (!v.empty() && g_.is_const(v)) {
        if (L.const_operand >= 0) unsupported(g_.source, where(n), "both operands are constant");
        const Tensor& t = const_input(n, i, "the constant operand");
        L.const_operand = static_cast<int>(i);
        L.weight_shape = t.shape;
        quantize_weights(
            t.f, 1, [](size_t) { return int64_t{0}; }, L);
        s[i] = L.weight_scale[0];
      } else {
        L.inputs.push_back(act_input(n, i));
        s[i] = q_.scales.at(v);
      }
    }
    const float s_out = finish_output(L, absorb_activation(L));
    const double sc = std::max<double>(s[0], s[1]) / (1 << hls::kAddGridBits);
    L.requant = {requant(n, s[0] / sc), requant(n, s[1] / sc), requant(n, sc / s_out)};
    L.acc_bound = int64_t{2} * 128 << hls::kAddGridBits;
  }

  // Mul of two activations (squeeze-excite gating, broadcasting [N,C,H,W] x [N,C,1,1]) or of an
  // activation and a constant; Div only by a constant, as a Mul by its reciprocal. The int32
  // product of the codes is exact (|a*b| <= 2^14) and is requantized once by s_a*s_b/s_out.
  void mul(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Mul;
    const bool div = n.op == "Div";
    float s[2];
    for (size_t i = 0; i < 2; ++i) {
      const std::string& v = n.in(i);
      if (!v.empty() && g_.is_const(v)) {
        if (L.const_operand >= 0) unsupported(g_.source, where(n), "both operands are constant");
        if (div && i == 0)
          unsupported(g_.source, where(n),
                      "a constant divided by an activation has no int8 implementation (only "
                      "division by a constant, run as Mul by its reciprocal)");
        const Tensor& t = const_input(n, i, "the constant operand");
        std::vector<float> k = t.f;
        if (div)
          for (auto& e : k) {
            if (e == 0.f) fail(g_.source, where(n), "division by a constant 0");
            e = static_cast<float>(1.0 / static_cast<double>(e));
          }
        L.const_operand = static_cast<int>(i);
        L.weight_shape = t.shape;
        quantize_weights(
            k, 1, [](size_t) { return int64_t{0}; }, L);
        s[i] = L.weight_scale[0];
      } else {
        if (div && i == 1)
          unsupported(g_.source, where(n),
                      "division by an activation has no int8 implementation (only division by "
                      "a constant, run as Mul by its reciprocal)");
        L.inputs.push_back(act_input(n, i));
        s[i] = q_.scales.at(v);
      }
    }
    const float s_out = finish_output(L, absorb_activation(L));
    L.requant = {requant(n, static_cast<double>(s[0]) * s[1] / s_out)};
    L.acc_bound = 128 * 128;
  }

  // ReduceMean/ReduceSum: the int32 sum of the reduced codes requantized once (Mean divides by
  // the count inside the multiplier, as GlobalAveragePool); ReduceMax selects a code.
  void reduce(const Node& n, QLayer& L) {
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Shape& xs = g_.shape(x);
    const ReducePlan p = reduce_plan(g_, n, xs);
    if (p.noop || n.op == "ReduceMax") {
      L.kind = p.noop ? QLayer::Kind::Move : QLayer::Kind::ReduceMax;
      q_.scales[L.output] = q_.scales.at(x);
      return;
    }
    L.kind = QLayer::Kind::ReduceSum;
    const int64_t count = numel(p.out) ? numel(xs) / numel(p.out) : 0;
    L.acc_bound = count * 128;
    if (L.acc_bound > hls::kInt32Max)
      fail(g_.source, where(n), "too many reduced values for an int32 sum");
    const float s_in = q_.scales.at(x);
    const float s_out = finish_output(L, absorb_activation(L));
    const double div =
        n.op == "ReduceMean" ? static_cast<double>(std::max<int64_t>(count, 1)) : 1.0;
    L.requant = {requant(n, static_cast<double>(s_in) / (static_cast<double>(s_out) * div))};
  }

  // Linear Resize keeps the input scale: a convex combination of codes stays in their range.
  // The integer weights (kLerpBits per axis) are products over the interpolated axes, so at most
  // two axes keep the accumulator within 128 * 2^20.
  void resize_linear(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::ResizeLinear;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    if (resize_linear_axes(g_, n, g_.shape(x)).size() > 2)
      unsupported(g_.source, where(n), "linear Resize over more than 2 axes in the int8 path");
    q_.scales[L.output] = q_.scales.at(x);
  }

  // One constant input (ViT's class token before the patch tokens) is quantized at the
  // calibrated output scale and stored as the layer's weight.
  void concat(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Concat;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!n.inputs[i].empty() && g_.is_const(n.inputs[i])) {
        if (L.const_operand >= 0)
          unsupported(g_.source, where(n), "more than one constant input in the int8 path");
        L.const_operand = static_cast<int>(i);
        continue;
      }
      L.inputs.push_back(act_input(n, i));
    }
    if (L.inputs.empty()) unsupported(g_.source, where(n), "every input is a constant");
    const float s_out = finish_output(L, nullptr);
    for (const auto& v : L.inputs)
      L.requant.push_back(requant(n, static_cast<double>(q_.scales.at(v)) / s_out));
    if (L.const_operand >= 0) {
      const Tensor& t = const_input(n, static_cast<size_t>(L.const_operand), "the constant input");
      L.weight_shape = t.shape;
      for (float v : t.f) L.weight.push_back(hls::quantize_value(v, s_out));
    }
  }

  // MatMul of two activations (attention's Q K^T and P V): the int32 sum of code products
  // requantized once by s_a * s_b / s_out, like an activation x activation Mul (§11).
  void matmul_act(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::MatMulAct;
    L.inputs = {act_input(n, 0), act_input(n, 1)};
    const Shape& a = g_.shape(L.inputs[0]);
    const Shape& b = g_.shape(L.inputs[1]);
    if (a.size() < 2 || b.size() < 2)
      unsupported(g_.source, where(n), "a 1-D operand of an activation MatMul in the int8 path");
    const int64_t K = a.back();
    L.acc_bound = K * 128 * 128;
    if (L.acc_bound > hls::kInt32Max)
      fail(g_.source, where(n), "inner dimension too large for an int32 sum");
    const float s_out = finish_output(L, absorb_activation(L));
    L.requant = {requant(
        n, static_cast<double>(q_.scales.at(L.inputs[0])) * q_.scales.at(L.inputs[1]) / s_out)};
  }

  void clamp(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Clamp;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const float s = q_.scales.at(x);
    q_.scales[L.output] = s;
    clamp_bounds(n, s, L.act_min, L.act_max);
  }

  // The table holds f(code * s_in) requantized to s_out, f evaluated exactly as the float
  // executor does, so the only error is the two roundings. A Mul that alone reads f's output and
  // whose other operand is f's own input is fused into the table, which then holds x * f(x):
  // SiLU (Sigmoid, Mul) and hard swish (HardSigmoid, Mul, as PyTorch exports it before opset
  // 14) cost one table look-up instead of a table, a requantizing Mul and the int8 rounding of
  // f's output between them.
  void lut(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Lut;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    bool times_x = false;
    const int j = sole_consumer(L.output);
    if (j >= 0) {
      const Node& m = g_.nodes[static_cast<size_t>(j)];
      if (m.op == "Mul" && m.inputs.size() == 2 &&
          ((m.inputs[0] == L.output && m.inputs[1] == x) ||
           (m.inputs[1] == L.output && m.inputs[0] == x))) {
        absorbed_.insert(static_cast<size_t>(j));
        L.fused.push_back(m.name);
        L.output = m.outputs.at(0);
        times_x = true;
      }
    }
    const float s_in = q_.scales.at(x);
    const float s_out = finish_output(L, nullptr);
    const float alpha = n.attr_f("alpha", n.op == "HardSigmoid" ? 0.2f : 0.01f);
    const float beta = n.attr_f("beta", 0.5f);
    L.lut.resize(256);
    for (int code = -128; code <= 127; ++code) {
      const float v = hls::dequantize_value(static_cast<int8_t>(code), s_in);
      float y;
      if (n.op == "Sigmoid")
        y = 1.f / (1.f + std::exp(-v));
      else if (n.op == "Tanh")
        y = std::tanh(v);
      else if (n.op == "HardSigmoid")
        y = std::max(0.f, std::min(1.f, alpha * v + beta));
      else if (n.op == "HardSwish")
        y = v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f));
      else if (n.op == "Gelu")
        y = gelu_erf(v);
      else
        y = v >= 0.f ? v : alpha * v;  // LeakyRelu
      if (times_x) y = v * y;
      L.lut[static_cast<size_t>(code + 128)] = hls::quantize_value(y, s_out);
    }
  }

  // Softmax outputs lie in [0, 1]: the scale is fixed at 1/127 rather than calibrated, so the
  // kernel's output formula needs no multiplier.
  void softmax(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::Softmax;
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Shape& s = g_.shape(x);
    int64_t ax = n.attr_i("axis", g_.opset >= 13 ? -1 : 1);
    if (ax < 0) ax += static_cast<int64_t>(s.size());
    const int64_t len =
        g_.opset >= 13 ? s[static_cast<size_t>(ax)] : numel(Shape(s.begin() + ax, s.end()));
    if (len > hls::kSoftmaxMaxLen)
      unsupported(g_.source, where(n),
                  "softmax over " + std::to_string(len) + " values (int8 path: at most " +
                      std::to_string(hls::kSoftmaxMaxLen) + ")");
    const double s_in = q_.scales.at(x);
    L.exp_lut.resize(256);
    for (int d = 0; d < 256; ++d)
      L.exp_lut[static_cast<size_t>(d)] =
          static_cast<int32_t>(std::llround(std::ldexp(std::exp(-d * s_in), hls::kSoftmaxExpBits)));
    q_.scales[L.output] = 1.f / 127.f;
    L.acc_bound = len << hls::kSoftmaxExpBits;
  }

  // LayerNormalization over the trailing block of n codes (§11d, hls::layernorm8): gamma
  // quantized per element (so its code is +-127 and its scale carries it), beta on gamma's grid
  // times 2^kNormBits, eps moved onto the squared code grid. Output scale calibrated.
  void layernorm(const Node& n, QLayer& L) {
    L.kind = QLayer::Kind::LayerNorm;
    for (size_t k = 1; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty() &&
          (is_graph_output(n.outputs[k]) || !g_.consumers(n.outputs[k]).empty()))
        unsupported(g_.source, where(n),
                    "the Mean / InvStdDev outputs have no int8 implementation (only Y)");
    const std::string& x = act_input(n, 0);
    L.inputs = {x};
    const Shape& xs = g_.shape(x);
    int64_t ax = n.attr_i("axis", -1);
    if (ax < 0) ax += static_cast<int64_t>(xs.size());
    const int64_t inner = numel(Shape(xs.begin() + ax, xs.end()));
    if (inner > (int64_t{1} << 14))
      unsupported(g_.source, where(n),
                  "LayerNorm over " + std::to_string(inner) + " values (int8 path: at most 16384)");
    auto expand = [&](size_t i, float dflt) {
      std::vector<float> v(static_cast<size_t>(inner), dflt);
      if (n.in(i).empty()) return v;
      const Tensor& t = const_input(n, i, i == 1 ? "the scale" : "the bias");
      for (size_t k = 0; k < v.size(); ++k) v[k] = t.f[t.f.size() == 1 ? 0 : k];
      return v;
    };
    const std::vector<float> gamma = expand(1, 1.f), beta = expand(2, 0.f);
    quantize_weights(
        gamma, inner, [](size_t i) { return static_cast<int64_t>(i); }, L);
    L.weight_shape = {inner};
    const double one = std::ldexp(1.0, hls::kNormBits);
    L.bias.resize(static_cast<size_t>(inner));
    for (size_t k = 0; k < L.bias.size(); ++k) {
      const double v = std::round(beta[k] * one / L.weight_scale[k]);
      L.bias[k] = hls::sat32(static_cast<int64_t>(std::max(-4e18, std::min(4e18, v))));
    }
    const double s_in = q_.scales.at(x);
    const double nn = static_cast<double>(inner) * static_cast<double>(inner);
    const double e = std::round(nn * n.attr_f("epsilon", 1e-5f) / (s_in * s_in));
    const double vmax = nn * 128.0 * 128.0;
    if (!(vmax + e <= std::ldexp(1.0, 46)))
      unsupported(g_.source, where(n),
                  "epsilon is too large against the input's int8 step (n^2 eps / s_in^2 = " +
                      std::to_string(e) + " > 2^46)");
    const int64_t E = static_cast<int64_t>(e);
    L.exp_lut = {static_cast<int32_t>(E >> 31), static_cast<int32_t>(E & 0x7fffffff)};
    const float s_out = finish_output(L, absorb_activation(L));
    L.requant.clear();
    for (float sw : L.weight_scale) L.requant.push_back(requant(n, sw / (one * s_out)));
    // |x-hat| <= sqrt(n - 1) (+ rounding): |z| <= sqrt(n) 2^kNormBits + 1.
    const int64_t zmax =
        static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(inner)) * one)) + 1;
    for (size_t k = 0; k < L.bias.size(); ++k)
      L.acc_bound = std::max(L.acc_bound, zmax * std::abs(static_cast<int64_t>(L.weight[k])) +
                                              std::abs(static_cast<int64_t>(L.bias[k])));
    if (L.acc_bound > hls::kInt32Max)
      fail(g_.source, where(n),
           "the int32 accumulator could overflow: worst case |acc| = " +
               std::to_string(L.acc_bound) + " > 2^31-1");
  }

  const Graph& g_;
  const QuantOptions& opt_;
  const std::map<std::string, ValueStats>& st_;
  QuantizedModel& q_;
  std::set<size_t> absorbed_;
};

}  // namespace

// BatchNormalization that import could not fold (its input is not a Conv/Gemm output read only
// by it: DenseNet normalises a Concat) is, with constant parameters, a per-channel affine map:
// in the int8 program it becomes a depthwise 1x1 Conv (weight gamma/sqrt(var+eps), bias
// beta - mean*weight) and follows the Conv rules (§3-§8), a following ReLU fused.
void batchnorm_as_depthwise(Graph& g) {
  bool any = false;
  for (Node& n : g.nodes) {
    if (n.op != "BatchNormalization") continue;
    bool consts = n.inputs.size() == 5;
    for (size_t i = 1; consts && i < 5; ++i)
      consts = g.is_const(n.in(i)) && g.init(n.in(i)).is_float();
    const Shape& xs = g.shape(n.inputs[0]);
    if (!consts || (xs.size() != 3 && xs.size() != 4)) continue;
    const int64_t C = xs[1];
    const float eps = n.attr_f("epsilon", 1e-5f);
    const auto &gamma = g.init(n.in(1)).f, &beta = g.init(n.in(2)).f;
    const auto &mean = g.init(n.in(3)).f, &var = g.init(n.in(4)).f;
    Shape ws = {C, 1, 1};
    if (xs.size() == 4) ws.push_back(1);
    Tensor w(ws), b({C});
    for (size_t c = 0; c < static_cast<size_t>(C); ++c) {
      // The float executor's per-channel factor, so the calibrated ranges are BN's own.
      const float inv = gamma[c] / std::sqrt(var[c] + eps);
      w.f[c] = inv;
      b.f[c] = beta[c] - mean[c] * inv;
    }
    const std::string wn = n.name + "__bn_dw_weight", bn = n.name + "__bn_dw_bias";
    g.initializers[wn] = std::move(w);
    g.initializers[bn] = std::move(b);
    n.op = "Conv";
    n.inputs = {n.inputs[0], wn, bn};
    n.attrs.clear();
    Attribute grp;
    grp.kind = Attribute::Kind::INT;
    grp.i = C;
    n.attrs["group"] = grp;
    any = true;
  }
  if (any) infer_shapes(g);
}

int64_t split_samples(const Graph& g, const Tensor& x, const std::string& source, Shape* sample) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    fail(g.source, "graph",
         "the int8 path needs one input and one output, found " + std::to_string(g.inputs.size()) +
             " and " + std::to_string(g.outputs.size()));
  if (!x.is_float())
    fail(source, "dtype", std::string(dtype_name(x.dtype)) + " data where float is expected");
  const std::string& in = g.inputs[0].name;
  const Shape& S = g.shape(in);
  if (S.empty()) unsupported(g.source, "input '" + in + "'", "a scalar model input");
  const Shape& xs = x.shape;
  *sample = S;
  if (!xs.empty() && xs[0] >= 1) {
    // [N, d1, ...] for an input [1, d1, ...]: the batch dimension replaced by N.
    if (!S.empty() && S[0] == 1 && xs.size() == S.size() &&
        std::equal(xs.begin() + 1, xs.end(), S.begin() + 1))
      return xs[0];
    // [N, S...]: N whole inputs.
    if (xs.size() == S.size() + 1 && std::equal(xs.begin() + 1, xs.end(), S.begin())) return xs[0];
    if (xs == S) return 1;
  }
  // "[N, 96, 100]" and "[N, 1, 96, 100]" for an input [1, 96, 100].
  auto with_n = [](Shape::const_iterator b, Shape::const_iterator e) {
    std::string r = "[N";
    for (auto it = b; it != e; ++it) r += ", " + std::to_string(*it);
    return r + "]";
  };
  std::string want = with_n(S.begin(), S.end());
  if (!S.empty() && S[0] == 1) want = with_n(S.begin() + 1, S.end()) + " or " + want;
  fail(source, "shape " + shape_str(xs),
       "does not match model input '" + in + "' " + shape_str(S) + " of " + g.source +
           " (expected " + want + " for N samples)");
}

QuantizedModel quantize(const Graph& g, const Tensor& calib, const QuantOptions& opt) {
  if (opt.calib == QuantOptions::Calib::Percentile &&
      !(opt.percentile > 0 && opt.percentile <= 100))
    fail(opt.calib_source, "percentile", std::to_string(opt.percentile) + " is outside (0, 100]");
  Graph gq = g;
  batchnorm_as_depthwise(gq);
  // Unsupported ops are reported before calibration spends time running the float graph.
  for (const Node& n : gq.nodes) {
    if (!kInt8Ops.count(n.op))
      unsupported(
          g.source, where(n),
          "op '" + n.op + "' has no int8 implementation (supported: " + int8_op_list() + ")");
    if (n.op == "BatchNormalization")
      unsupported(g.source, where(n),
                  "unfolded BatchNormalization needs constant parameters and a [N, C, L] or "
                  "[N, C, H, W] input in the int8 path (fold it into a Conv/Gemm)");
  }
  Calibrator cal(gq, calib, opt);
  cal.run();
  QuantizedModel q;
  q.graph = std::move(gq);
  q.options = opt;
  q.calib_samples = cal.samples();
  Builder(q.graph, q.options, cal.stats(), q).build();
  return q;
}

}  // namespace prunesim
