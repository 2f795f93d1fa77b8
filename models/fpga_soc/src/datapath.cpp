// Functional datapath of the FPGA-SoC model: the PL kernels of hls/hsi.h for the preprocessing
// (or the input quantization of tensor mode), the streaming kernels of hls/pl_conv.h (and the
// generic hls/ kernels for other geometries) for the DPU layers, the integer reference's own
// layer code (run_int8_layer) for the layers placed on the PS, the argmax kernel.
// reference_mask()/reference_frame() are the independent check: plain loops for the
// preprocessing, run_int8 (the integer reference executor) for the whole network.
#include <algorithm>
#include <cmath>
#include <memory>

#include "hls/datapath.h"
#include "hls/hsi.h"
#include "hls/pl_conv.h"
#include "models/fpga_soc/soc.h"
#include "prune/errors.h"
#include "prune/hls_params.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace fpga_soc {
namespace {

using Codes = std::vector<int8_t>;
constexpr int kLbC = 256, kLbW = 1024;  // line-buffer capacity of the PL conv engine
using ConvLineBuffer = hls::LineBuffer<3, kLbC, kLbW>;

int32_t i32(int64_t v) {
  return static_cast<int32_t>(v);
}

struct Preproc {
  hls::MosaicParams mp;
  uint16_t dark = 0;
  hls::Requant rq;
  hls::CropParams cp;
};

Preproc preproc_params(const SocConfig& cfg, const DpuProgram& prog) {
  Preproc p;
  p.mp.mosaic = cfg.mosaic;
  p.mp.raw_h = i32(cfg.raw_h);
  p.mp.raw_w = i32(cfg.raw_w);
  p.dark = static_cast<uint16_t>(std::lround(cfg.dark_dn));
  if (!hls::normalise_requant(cfg.white_dn - p.dark, prog.input_scale, &p.rq))
    throw InputError("sensor.white_dn: must exceed sensor.dark_dn (normalisation by white - dark)");
  const int32_t ch = p.mp.cube_h(), cw = p.mp.cube_w();
  p.cp.channels = p.mp.bands();
  p.cp.in_h = ch;
  p.cp.in_w = cw;
  p.cp.out_h = i32(prog.in_h);
  p.cp.out_w = i32(prog.in_w);
  if (cfg.resize == "nearest") {
    p.cp.top = p.cp.left = 0;
    p.cp.win_h = ch;
    p.cp.win_w = cw;
  } else {
    p.cp.win_h = p.cp.out_h;
    p.cp.win_w = p.cp.out_w;
    p.cp.top = cfg.crop_top >= 0 ? i32(cfg.crop_top) : (ch - p.cp.out_h) / 2;
    p.cp.left = cfg.crop_left >= 0 ? i32(cfg.crop_left) : (cw - p.cp.out_w) / 2;
  }
  return p;
}

// Runs the DPU program on one input (codes [C][H][W]); returns the output codes.
class DpuRunner {
 public:
  DpuRunner(const QuantizedModel& q, const DpuProgram& prog)
      : q_(q), prog_(prog), lb_(std::make_unique<ConvLineBuffer>()) {}

  Codes run(Codes input) {
    env_.clear();
    env_[q_.input] = std::move(input);
    for (const DpuLayer& D : prog_.layers) {
      const QLayer& L = q_.layers[D.qlayer];
      if (D.place == Place::PS) {
        // CPU subgraph: the A53 runs the reference's own integer code for this layer.
        env_[L.output] = run_int8_layer(q_, D.qlayer, env_);
        continue;
      }
      Codes y(static_cast<size_t>(numel(D.out_shape)), 0);
      layer(L, D, y);
      env_[L.output] = std::move(y);
    }
    return env_.at(q_.output);
  }

 private:
  const Codes& in(const QLayer& L, size_t k) const { return env_.at(L.inputs.at(k)); }

  void layer(const QLayer& L, const DpuLayer& D, Codes& y) {
    const Graph& g = q_.graph;
    const Node& n = g.nodes[L.node];
    switch (L.kind) {
      case QLayer::Kind::Conv:
        conv(g, n, L, D, y);
        break;
      case QLayer::Kind::ConvTranspose:
        conv_transpose(g, n, L, D, y);
        break;
      case QLayer::Kind::MaxPool:
        max_pool(g, n, L, D, y);
        break;
      case QLayer::Kind::AvgPool: {
        const PoolGeom pg = pool_geometry(g, n, D.in_shape);
        hls::PoolParams p = pool_params(pg, pg.N * pg.C);
        p.count_include_pad = n.attr_i("count_include_pad", 0) != 0;
        p.act_min = L.act_min;
        p.act_max = L.act_max;
        hls::avg_pool2d(p, in(L, 0).data(), L.requant.data(), y.data());
        break;
      }
      case QLayer::Kind::GlobalAvgPool: {
        const Shape& s = D.in_shape;
        const int64_t planes = s[0] * s[1];
        hls::global_avg_pool(i32(planes), i32(numel(s) / planes), in(L, 0).data(), L.requant[0],
                             L.act_min, L.act_max, y.data());
        break;
      }
      case QLayer::Kind::GlobalMaxPool: {
        hls::max_pool2d(global_pool_params(D.in_shape), in(L, 0).data(), y.data());
        break;
      }
      case QLayer::Kind::Gemm: {
        // Fully connected on the conv engine: K inputs to N outputs per pixel row (transA,
        // which would need a gather, is placed on the PS by compile_dpu).
        const int64_t K = L.weight_shape[1], N = L.weight_shape[0];
        const Codes& x = in(L, 0);
        const int64_t rows = static_cast<int64_t>(x.size()) / K;
        hls::gemm(i32(rows), i32(K), i32(N), x.data(), L.weight.data(), L.bias.data(),
                  L.requant.data(), L.act_min, L.act_max, y.data());
        break;
      }
      case QLayer::Kind::Lut:  // LeakyRelu only (compile_dpu)
        hls::lut_apply(i32(static_cast<int64_t>(y.size())), L.lut.data(), in(L, 0).data(),
                       y.data());
        break;
      case QLayer::Kind::Concat: {
        // Channel concatenation of [1, C_i, H, W] inputs: each moved to the output scale.
        size_t o = 0;
        for (size_t i = 0; i < L.inputs.size(); ++i) {
          const Codes& x = in(L, i);
          hls::rescale8(i32(static_cast<int64_t>(x.size())), x.data(), L.requant[i], y.data() + o);
          o += x.size();
        }
        break;
      }
      case QLayer::Kind::Add: {
        hls::AddParams p;
        p.a = L.requant[0];
        p.b = L.requant[1];
        p.out = L.requant[2];
        p.act_min = L.act_min;
        p.act_max = L.act_max;
        hls::add8(i32(static_cast<int64_t>(y.size())), in(L, 0).data(), in(L, 1).data(), p,
                  y.data());
        break;
      }
      case QLayer::Kind::Clamp:
        hls::clamp8(i32(static_cast<int64_t>(y.size())), in(L, 0).data(), L.act_min, L.act_max,
                    y.data());
        break;
      case QLayer::Kind::Move: {
        if (D.engine == "move") {  // Flatten/Reshape: the same codes in the same order
          y = in(L, 0);
          break;
        }
        const Shape& is = D.in_shape;
        const Shape& os = D.out_shape;
        const int64_t ih = is.size() == 4 ? is[2] : 1, oh = os.size() == 4 ? os[2] : 1;
        hls::upsample_nearest(i32(is[1]), i32(ih), i32(is.back()), i32(oh / ih),
                              i32(os.back() / is.back()), in(L, 0).data(), y.data());
        break;
      }
      default:
        throw InputError("layer '" + L.name + "': not supported by the DPU model");
    }
  }

  // Conv on the fastest engine kernel that fits: 1x1, the line buffer, or the general loop.
  void conv(const Graph& g, const Node& n, const QLayer& L, const DpuLayer& D, Codes& y) {
    const ConvGeom c = conv_geometry(g, n, D.in_shape, L.weight_shape);
    const hls::ConvParams p = conv_params(c, L);
    const int8_t* x = in(L, 0).data();
    if (p.k_h == 1 && p.k_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.groups == 1 &&
        p.pad_top == 0 && p.pad_left == 0 && p.in_c <= kLbC && p.out_h == p.in_h &&
        p.out_w == p.in_w)
      hls::conv1x1<kLbC>(p, x, L.weight.data(), L.bias.data(), L.requant.data(), y.data());
    else if (hls::conv_lb_supports<3, kLbC, kLbW>(p))
      hls::conv_lb(p, x, L.weight.data(), L.bias.data(), L.requant.data(), y.data(), *lb_);
    else
      hls::conv2d(p, x, L.weight.data(), L.bias.data(), L.requant.data(), y.data());
  }

  // ConvTranspose: the 2x2 stride-2 up-convolution kernel when it fits, else the general one.
  void conv_transpose(const Graph& g, const Node& n, const QLayer& L, const DpuLayer& D, Codes& y) {
    const ConvGeom c = convtranspose_geometry(g, n, D.in_shape, L.weight_shape);
    const hls::ConvParams p = conv_params(c, L);
    const int8_t* x = in(L, 0).data();
    if (c.kh == 2 && c.kw == 2 && c.sh == 2 && c.sw == 2 && c.group == 1 && c.pt == 0 &&
        c.pl == 0 && c.OH == 2 * c.H && c.OW == 2 * c.W && c.C <= kLbC && c.dh == 1 && c.dw == 1)
      hls::upconv2x2<kLbC>(p.in_c, p.in_h, p.in_w, p.out_c, x, L.weight.data(), L.bias.data(),
                           L.requant.data(), L.act_min, L.act_max, y.data());
    else
      hls::conv_transpose2d(p, x, L.weight.data(), L.bias.data(), L.requant.data(), y.data());
  }

  // Max pooling: the 2x2 line-buffer kernel when it fits, else the general one.
  void max_pool(const Graph& g, const Node& n, const QLayer& L, const DpuLayer& D, Codes& y) {
    const PoolGeom pg = pool_geometry(g, n, D.in_shape);
    if (pg.kh == 2 && pg.kw == 2 && pg.sh == 2 && pg.sw == 2 && pg.pt == 0 && pg.pl == 0 &&
        pg.pb == 0 && pg.pr == 0 && pg.OH == pg.H / 2 && pg.OW == pg.W / 2 && pg.W <= kLbW) {
      hls::maxpool2x2<kLbW>(i32(pg.N * pg.C), i32(pg.H), i32(pg.W), in(L, 0).data(), y.data());
    } else {
      hls::PoolParams p;
      p.channels = i32(pg.N * pg.C);
      p.in_h = i32(pg.H);
      p.in_w = i32(pg.W);
      p.out_h = i32(pg.OH);
      p.out_w = i32(pg.OW);
      p.k_h = i32(pg.kh);
      p.k_w = i32(pg.kw);
      p.stride_h = i32(pg.sh);
      p.stride_w = i32(pg.sw);
      p.pad_top = i32(pg.pt);
      p.pad_left = i32(pg.pl);
      p.pad_bottom = i32(pg.pb);
      p.pad_right = i32(pg.pr);
      hls::max_pool2d(p, in(L, 0).data(), y.data());
    }
  }

  const QuantizedModel& q_;
  const DpuProgram& prog_;
  std::unique_ptr<ConvLineBuffer> lb_;
  std::map<std::string, Codes> env_;
};

}  // namespace

namespace {

void mosaic_step(Step step, const DpuProgram& prog, const SocConfig& cfg, const uint16_t* raw,
                 FrameData& d) {
  const Preproc pp = preproc_params(cfg, prog);
  const int32_t bands = pp.mp.bands();
  const int32_t npx = pp.mp.cube_h() * pp.mp.cube_w();
  switch (step) {
    case Step::Demosaic:
      d.cube.assign(static_cast<size_t>(bands) * npx, 0);
      hls::demosaic(pp.mp, raw, d.cube.data());
      break;
    case Step::Normalise: {
      const std::vector<uint16_t> dark(static_cast<size_t>(bands), pp.dark);
      const std::vector<hls::Requant> rq(static_cast<size_t>(bands), pp.rq);
      d.norm.assign(d.cube.size(), 0);
      hls::normalise(bands, npx, d.cube.data(), dark.data(), rq.data(), d.norm.data());
      d.cube = {};
      break;
    }
    case Step::Crop:
      d.x.assign(static_cast<size_t>(bands * prog.in_h * prog.in_w), 0);
      hls::crop_resize(pp.cp, d.norm.data(), d.x.data());
      d.norm = {};
      break;
    default:
      break;
  }
}

}  // namespace

void run_step(Step step, const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
              const Frames& frames, int64_t k, FrameData& d) {
  (void)q;
  switch (step) {
    case Step::Demosaic:
    case Step::Normalise:
    case Step::Crop:
      mosaic_step(step, prog, cfg, frames.frame(k), d);
      break;
    case Step::Quantize: {
      // The rule run_int8 applies to its float input (round half away from zero, saturate),
      // so the codes the DPU gets are the reference's.
      const float* x = frames.sample(k);
      d.x.resize(static_cast<size_t>(prog.in_elems));
      for (int64_t i = 0; i < prog.in_elems; ++i)
        d.x[static_cast<size_t>(i)] = hls::quantize_value(x[i], prog.input_scale);
      break;
    }
    case Step::Argmax:
      d.mask.assign(static_cast<size_t>(prog.out_pixels), 0);
      hls::argmax(i32(prog.classes), i32(prog.out_pixels), d.scores.data(), d.mask.data());
      d.scores = {};
      break;
  }
}

void run_network(const QuantizedModel& q, const DpuProgram& prog, FrameData& d) {
  DpuRunner dpu(q, prog);
  d.scores = dpu.run(std::move(d.x));
  d.x = {};
}

std::vector<uint8_t> run_datapath(const QuantizedModel& q, const DpuProgram& prog,
                                  const SocConfig& cfg, const uint16_t* raw) {
  FrameData d;
  for (Step s : {Step::Demosaic, Step::Normalise, Step::Crop}) mosaic_step(s, prog, cfg, raw, d);
  run_network(q, prog, d);
  d.mask.assign(static_cast<size_t>(prog.out_pixels), 0);
  hls::argmax(i32(prog.classes), i32(prog.out_pixels), d.scores.data(), d.mask.data());
  return d.mask;
}

FrameData run_frame(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                    const Frames& frames, int64_t k) {
  FrameData d;
  if (frames.tensor) {
    run_step(Step::Quantize, q, prog, cfg, frames, k, d);
    run_network(q, prog, d);
    if (prog.argmax) run_step(Step::Argmax, q, prog, cfg, frames, k, d);
  } else {
    d.mask = run_datapath(q, prog, cfg, frames.frame(k));
  }
  return d;
}

FrameData reference_frame(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                          const Frames& frames, int64_t k) {
  FrameData d;
  if (!frames.tensor) {
    d.mask = reference_mask(q, prog, cfg, frames.frame(k));
    return d;
  }
  const float* x = frames.sample(k);
  const Tensor t(prog.in_shape, std::vector<float>(x, x + frames.per));
  const Int8Result r = run_int8(q, t);
  std::vector<int8_t> codes(r.output_int8.i.size());
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<int8_t>(r.output_int8.i[i]);
  if (!prog.argmax) {
    d.scores = std::move(codes);
    return d;
  }
  // numpy.argmax over the class axis: the first maximum wins.
  const int64_t C = prog.classes, n = prog.out_pixels;
  d.mask.assign(static_cast<size_t>(n), 0);
  for (int64_t p = 0; p < n; ++p) {
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (codes[static_cast<size_t>(c * n + p)] > codes[static_cast<size_t>(best * n + p)])
        best = c;
    d.mask[static_cast<size_t>(p)] = static_cast<uint8_t>(best);
  }
  return d;
}

std::vector<uint8_t> reference_mask(const QuantizedModel& q, const DpuProgram& prog,
                                    const SocConfig& cfg, const uint16_t* raw) {
  const Preproc pp = preproc_params(cfg, prog);
  const int64_t m = cfg.mosaic, H = prog.in_h, W = prog.in_w, B = m * m;
  // Input tensor of the network, built pixel by pixel straight from the raw frame: band b of
  // cube pixel (i, j) is raw[(m*i + b/m)][m*j + b%m]; normalisation is the integer rule of
  // docs/fpga-soc.md; the crop/resize index map is the ONNX nearest (asymmetric, floor) one.
  Tensor x(Shape{1, B, H, W});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oh = 0; oh < H; ++oh)
      for (int64_t ow = 0; ow < W; ++ow) {
        const int64_t i = pp.cp.top + oh * pp.cp.win_h / H;
        const int64_t j = pp.cp.left + ow * pp.cp.win_w / W;
        const int64_t dn = raw[(m * i + b / m) * cfg.raw_w + m * j + b % m];
        const int8_t code = hls::requantize(static_cast<int32_t>(dn - pp.dark), pp.rq);
        // The executor quantizes its float input; code * scale maps back to code exactly.
        x.f[static_cast<size_t>((b * H + oh) * W + ow)] = static_cast<float>(code) * q.input_scale;
      }
  const Int8Result r = run_int8(q, x);
  const int64_t C = prog.classes, n = H * W;
  std::vector<uint8_t> mask(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (r.output_int8.i[static_cast<size_t>(c * n + k)] >
          r.output_int8.i[static_cast<size_t>(best * n + k)])
        best = c;
    mask[static_cast<size_t>(k)] = static_cast<uint8_t>(best);
  }
  return mask;
}

}  // namespace fpga_soc
}  // namespace prunesim
