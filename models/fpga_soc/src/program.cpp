// The DPU program: which QLayers the DPU model runs, the PG338 limits it checks, and the cost
// formulas (compute cycles of the PP x ICP x OCP array, DDR traffic with on-chip buffer
// refetches) shared by the SystemC model and the analytical twin. Also the preprocessing step
// costs and the stage plan (PL fusion, PS core assignment).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "models/fpga_soc/soc.h"
#include "prune/errors.h"
#include "prune/op_geometry.h"

namespace prunesim {
namespace fpga_soc {
namespace {

int64_t cdiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

// Why the DPU cannot run this convolution (PG338 "Configurable options / supported operations"
// limits of DPUCZDX8G convolution), or "" if it can. Vitis AI's compiler hands such a layer to
// the CPU as its own subgraph; so does this model (PS fallback).
std::string conv_limits(const ConvGeom& c, const DpuSize& d, bool transposed) {
  if (c.kh < 1 || c.kh > 16 || c.kw < 1 || c.kw > 16)
    return "kernel " + std::to_string(c.kh) + "x" + std::to_string(c.kw) +
           " exceeds the DPU's 1..16 (PG338)";
  if (c.sh > 8 || c.sw > 8)
    return "stride " + std::to_string(c.sh) + "x" + std::to_string(c.sw) +
           " exceeds the DPU's 1..8 (PG338)";
  if (!transposed && (c.pt > c.kh - 1 || c.pl > c.kw - 1 || c.pb > c.kh - 1 || c.pr > c.kw - 1))
    return "padding larger than kernel - 1 (PG338)";
  const bool depthwise = c.group == c.C && c.group == c.M && c.group > 1;
  if (c.group != 1 && !depthwise)
    return "grouped convolution (group " + std::to_string(c.group) +
           "): the DPU runs group 1 and depthwise only (PG338)";
  if (transposed && c.group != 1) return "grouped transposed convolution (not in the DPU model)";
  const int64_t max_c = 256LL * d.icp;
  if (c.C > max_c || c.M > max_c)
    return "channels " + std::to_string(std::max(c.C, c.M)) + " exceed " + std::to_string(max_c) +
           " = 256 x channel parallelism of " + d.name + " (PG338)";
  return "";
}

// PG338 table 1 (v3.4): max pooling kernel and stride 1..8; average pooling the same with a
// square kernel. Global pooling is a pooling whose window is the whole plane.
std::string pool_limits(int64_t kh, int64_t kw, int64_t sh, int64_t sw, bool average) {
  if (kh > 8 || kw > 8)
    return "pooling window " + std::to_string(kh) + "x" + std::to_string(kw) +
           " exceeds the DPU's 1..8 (PG338)";
  if (sh > 8 || sw > 8) return "pooling stride above 8 (PG338)";
  if (average && kh != kw && !(kh == 1 || kw == 1))
    return "average pooling needs a square window on the DPU (PG338)";
  return "";
}

int64_t input_bytes(const Graph& g, const QLayer& L) {
  int64_t b = 0;
  for (const auto& v : L.inputs) b += numel(g.shape(v));
  return b;
}

// A layer the DPU does not run: placed on the PS with the reason (the caller costs it on the
// A53).
void to_ps(DpuLayer& D, const std::string& why) {
  D.place = Place::PS;
  D.engine = "ps";
  D.ps_reason = why;
}

int64_t weight_bytes(const QLayer& L) {
  return static_cast<int64_t>(L.weight.size()) + 4 * static_cast<int64_t>(L.bias.size());
}

void place_conv(const Graph& g, const Node& n, const SocConfig& cfg, const QLayer& L,
                int64_t in_bytes, DpuLayer& D) {
  const DpuSize& d = cfg.dpu;
  const bool tr = L.kind == QLayer::Kind::ConvTranspose;
  // 1-D layers come as H = 1 (op_geometry.h): the DPU runs them as 2-D layers of height 1,
  // the [N, C, L] -> [N, C, 1, L] rewrite a compiler front end makes for Conv1d.
  const ConvGeom c = tr ? convtranspose_geometry(g, n, D.in_shape, L.weight_shape)
                        : conv_geometry(g, n, D.in_shape, L.weight_shape);
  const bool depthwise = c.group > 1;
  D.params = static_cast<int64_t>(L.weight.size() + L.bias.size());
  const int64_t wbytes = weight_bytes(L);
  if (tr)
    D.macs = c.H * c.W * c.C * (c.M / c.group) * c.kh * c.kw;
  else
    D.macs = c.OH * c.OW * c.M * (c.C / c.group) * c.kh * c.kw;
  D.ddr_read_bytes = wbytes + in_bytes;
  const std::string why = conv_limits(c, d, tr);
  if (!why.empty()) return to_ps(D, why);
  D.engine = tr ? "deconv" : "conv";
  if (tr) {
    // Each input pixel scatters a kh x kw patch to every output channel.
    D.compute_cycles = cdiv(c.W, d.pp) * c.H * cdiv(c.C, d.icp) * cdiv(c.M, d.ocp) * c.kh * c.kw;
  } else if (depthwise) {
    // PG338: depthwise convolution runs at half the pixel parallelism.
    D.compute_cycles = cdiv(c.OW, std::max(1, d.pp / 2)) * c.OH * cdiv(c.C, d.icp) * c.kh * c.kw;
  } else {
    D.compute_cycles = cdiv(c.OW, d.pp) * c.OH * cdiv(c.C, d.icp) * cdiv(c.M, d.ocp) * c.kh * c.kw;
  }
  // Buffers: weights that do not fit are refetched once per output row; input rows (kh rows of
  // every channel) that do not fit are reread once per output-channel tile.
  int64_t wtraffic = wbytes;
  if (wbytes > cfg.dpu_weight_buffer_bytes) wtraffic = wbytes * (tr ? c.H : c.OH);
  int64_t itraffic = in_bytes;
  if (c.C * c.kh * c.W > cfg.dpu_feature_buffer_bytes) itraffic = in_bytes * cdiv(c.M, d.ocp);
  D.ddr_read_bytes = wtraffic + itraffic;
}

// PG338 "fully connected layer": on the conv engine as a 1x1 convolution of the K inputs to N
// outputs over `rows` pixels (1 for a classifier head, which leaves PP - 1 of the pixel lanes
// idle).
void place_gemm(const Node& n, const SocConfig& cfg, const QLayer& L, int64_t in_bytes,
                DpuLayer& D) {
  const DpuSize& d = cfg.dpu;
  const int64_t K = L.weight_shape[1], N = L.weight_shape[0];
  const int64_t rows = std::max<int64_t>(1, in_bytes / std::max<int64_t>(K, 1));
  D.params = static_cast<int64_t>(L.weight.size() + L.bias.size());
  D.macs = rows * K * N;
  const int64_t wbytes = weight_bytes(L);
  D.ddr_read_bytes = wbytes + in_bytes;
  if (n.op == "Gemm" && n.attr_i("transA", 0))
    return to_ps(D, "transposed activation operand (transA): not a DPU fully connected layer");
  const int64_t max_c = 256LL * d.icp;
  if (K > max_c || N > max_c)
    return to_ps(D, "fully connected " + std::to_string(K) + " -> " + std::to_string(N) +
                        " exceeds 256 x channel parallelism of " + d.name + " (PG338)");
  D.engine = "conv";
  D.compute_cycles = cdiv(rows, d.pp) * cdiv(K, d.icp) * cdiv(N, d.ocp);
  // Weights that do not fit the buffer stream once per pixel row.
  if (wbytes > cfg.dpu_weight_buffer_bytes) D.ddr_read_bytes = wbytes * cdiv(rows, d.pp) + in_bytes;
}

void place_pool(const Graph& g, const Node& n, const DpuSize& d, const QLayer& L, DpuLayer& D) {
  const PoolGeom pg = pool_geometry(g, n, D.in_shape);
  const bool avg = L.kind == QLayer::Kind::AvgPool;
  D.ps_work = pg.N * pg.C * pg.OH * pg.OW * pg.kh * pg.kw;
  if (pg.dh != 1 || pg.dw != 1) return to_ps(D, "dilated pooling (not in PG338)");
  const std::string why = pool_limits(pg.kh, pg.kw, pg.sh, pg.sw, avg);
  if (!why.empty()) return to_ps(D, why);
  D.engine = "pool";
  D.compute_cycles = cdiv(pg.OW, d.pp) * pg.OH * cdiv(pg.C, d.icp) * pg.kh * pg.kw;
}

void place_global_pool(const DpuSize& d, const QLayer& L, DpuLayer& D) {
  const Shape& s = D.in_shape;
  const int64_t kh = s.size() == 4 ? s[2] : 1, kw = s.back(), C = s[1];
  D.ps_work = numel(s);
  const std::string why = pool_limits(kh, kw, 1, 1, L.kind == QLayer::Kind::GlobalAvgPool);
  if (!why.empty()) return to_ps(D, "global " + why);
  D.engine = "pool";
  D.compute_cycles = cdiv(C, d.icp) * kh * kw;  // one output pixel per channel tile
}

// Why the elementwise engine (Concat, Add, Relu/Clip, LeakyRelu, nearest Resize, free moves)
// cannot take this layer, or "" when it can.
std::string eltwise_limits(const Graph& g, const Node& n, const QLayer& L, const DpuLayer& D) {
  switch (L.kind) {
    case QLayer::Kind::Concat: {
      int64_t ax = n.attr_i("axis", 0);
      if (ax < 0) ax += static_cast<int64_t>(D.out_shape.size());
      if (L.const_operand >= 0) return "the DPU concatenates activations only (a constant input)";
      return ax != 1 ? "the DPU concatenates along channels (axis 1) only" : "";
    }
    case QLayer::Kind::Add:
      if (L.const_operand >= 0 || L.inputs.size() != 2 || g.shape(L.inputs[0]) != D.out_shape ||
          g.shape(L.inputs[1]) != D.out_shape)
        return "the DPU's elementwise sum takes two activation tensors of the same shape";
      return "";
    case QLayer::Kind::Clamp:
      return "";  // PG338: ReLU, ReLU6 (fused to the layer before on the real DPU)
    case QLayer::Kind::Lut:
      // PG338 lists Leaky ReLU among the DPU's activations; sigmoid and tanh it does not run.
      return L.op != "LeakyRelu" ? L.op + " is not a DPUCZDX8G activation (PG338)" : "";
    case QLayer::Kind::Softmax:
      return "softmax: the K26 smart-camera DPU build has no softmax module (optional in PG338); "
             "Vitis AI runs it on the CPU";
    case QLayer::Kind::Move: {
      // Nearest upsampling by integer factors, 2-D or 1-D (height 1, like a 1-D conv).
      const bool resize = L.op == "Resize" || L.op == "Upsample";
      const Shape& is = D.in_shape;
      const Shape& os = D.out_shape;
      const bool rank_ok = (is.size() == 4 || is.size() == 3) && os.size() == is.size();
      if (!resize || !rank_ok || is[1] != os[1] || os.back() % is.back() != 0 ||
          (is.size() == 4 && os[2] % is[2] != 0) || n.attr_s("mode", "nearest") != "nearest")
        return L.op + ": only nearest upsampling by integer factors moves codes on the DPU model";
      return "";
    }
    default:
      // Every other int8 kind (elementwise Mul and Sub, ReduceSum/Max, linear Resize, ...): not a
      // DPUCZDX8G operation in PG338, so Vitis AI leaves it to the CPU.
      return L.op + " is not a DPUCZDX8G operation (PG338)";
  }
}

// Places and costs one layer: one function per engine; a layer the DPU does not run gets
// ps_reason and is costed on the A53 by the caller.
void place_layer(const QuantizedModel& q, const SocConfig& cfg, const QLayer& L, DpuLayer& D) {
  const Graph& g = q.graph;
  const Node& n = g.nodes[L.node];
  const int64_t in_bytes = input_bytes(g, L);
  D.ddr_read_bytes = in_bytes;
  D.ddr_write_bytes = numel(D.out_shape);
  switch (L.kind) {
    case QLayer::Kind::Conv:
    case QLayer::Kind::ConvTranspose:
      return place_conv(g, n, cfg, L, in_bytes, D);
    case QLayer::Kind::Gemm:
      return place_gemm(n, cfg, L, in_bytes, D);
    case QLayer::Kind::MaxPool:
    case QLayer::Kind::AvgPool:
      return place_pool(g, n, cfg.dpu, L, D);
    case QLayer::Kind::GlobalMaxPool:
    case QLayer::Kind::GlobalAvgPool:
      return place_global_pool(cfg.dpu, L, D);
    default:
      break;
  }
  if (L.kind == QLayer::Kind::Move &&
      (L.op == "Flatten" || L.op == "Reshape" || L.op == "Identity" || L.op == "Dropout")) {
    // Same codes in the same order: the compiler folds the move into the addressing of the next
    // layer (a fully connected layer's weight order), so it costs nothing.
    D.engine = "move";
    D.ddr_read_bytes = D.ddr_write_bytes = 0;
    return;
  }
  const std::string why = eltwise_limits(g, n, L, D);
  if (!why.empty()) return to_ps(D, why);
  // The elementwise engine: PP x ICP codes a cycle.
  D.engine = "eltwise";
  D.compute_cycles = cdiv(numel(D.out_shape), int64_t{cfg.dpu.pp} * cfg.dpu.icp);
}

}  // namespace

std::string resolve_input_mode(const QuantizedModel& q, const SocConfig& cfg, const Tensor& x,
                               const std::string& src) {
  if (cfg.input != "auto") return cfg.input;
  const Shape& net = q.graph.shape(q.input);
  const Shape& s = x.shape;
  // Samples shaped like the network's input: [N, d1, ...] for an input [1, d1, ...]. For a
  // network the mosaic sensor can feed (25 bands, 2-D), a cube of integer DNs is the mistake of
  // passing a band cube for raw frames, which mosaic mode reports; float data are a tensor.
  const int64_t bands = int64_t{cfg.mosaic} * cfg.mosaic;
  const bool mosaic_net = net.size() == 4 && net[1] == bands;
  bool integral = !x.is_float();
  if (x.is_float()) {
    integral = true;
    for (float v : x.f)
      if (v != std::floor(v)) {
        integral = false;
        break;
      }
  }
  if (s.size() == net.size() && !s.empty() && std::equal(s.begin() + 1, s.end(), net.begin() + 1))
    return mosaic_net && integral ? "mosaic" : "tensor";
  if (s.size() == 3 || (s.size() == 4 && s[1] == 1)) return "mosaic";
  Shape want = net;
  if (!want.empty()) want[0] = -1;
  std::string w = shape_str(want);
  w.replace(1, 2, "N");
  fail(src, "shape " + shape_str(s),
       "is neither the network's input " + w +
           " (input=tensor) nor raw mosaic frames [N, H, W] (input=mosaic)");
}

namespace {

// The network's input and output as the pipeline sees them: input mode (mosaic frames or a
// tensor), the shapes the stages work on and the argmax post-processing. InputError (naming
// `src`) when the network does not fit the mode asked.
void plan_io(const QuantizedModel& q, const SocConfig& cfg, const std::string& src, DpuProgram& p) {
  const Graph& g = q.graph;
  const Shape& xs = g.shape(q.input);
  const Shape& ys = g.shape(q.output);
  const int64_t bands = int64_t{cfg.mosaic} * cfg.mosaic;
  p.in_shape = xs;
  p.out_shape = ys;
  p.in_elems = numel(xs);
  p.out_elems = numel(ys);
  p.input_scale = q.input_scale;
  p.input_mode = cfg.input;
  if (p.input_mode == "auto") {
    // Without an input to look at: a 25-band 2-D network is the HSI pipeline's.
    p.input_mode = xs.size() == 4 && xs[1] == bands ? "mosaic" : "tensor";
  }
  if (p.input_mode == "mosaic") {
    if (xs.size() != 4 || ys.size() != 4)
      fail(src, "input '" + q.input + "'",
           "input=mosaic needs a 2-D segmentation network [N, C, H, W] -> [N, classes, H, W]; "
           "got " +
               shape_str(xs) + " -> " + shape_str(ys) +
               " (a tensor input of the network's shape runs it with input=tensor)");
    p.in_c = xs[1];
    p.in_h = xs[2];
    p.in_w = xs[3];
    p.classes = ys[1];
    p.out_pixels = ys[2] * ys[3];
    if (p.in_c != bands)
      fail(src, "input '" + q.input + "'",
           "the network takes " + std::to_string(p.in_c) + " channels but the " +
               std::to_string(cfg.mosaic) + "x" + std::to_string(cfg.mosaic) +
               " mosaic sensor gives " + std::to_string(bands) + " bands");
    if (ys[2] != xs[2] || ys[3] != xs[3])
      fail(src, "output '" + q.output + "'",
           "the output " + shape_str(ys) + " must have the input's height and width " +
               shape_str(xs) + " (one score per class and pixel)");
    if (cfg.postprocess == "none")
      fail(src, "postprocess",
           "none: the mosaic pipeline ends in segmentation masks (argmax); use input=tensor");
    p.argmax = true;
  } else {
    if (xs.size() < 2 || ys.size() < 1)
      fail(src, "input '" + q.input + "'",
           "tensor input needs a batched network input [1, ...]; got " + shape_str(xs));
    p.in_c = xs[1];
    p.in_h = xs.size() == 4 ? xs[2] : 1;
    p.in_w = xs.size() >= 3 ? xs.back() : 1;
    const bool classifier = ys.size() == 2 && ys[1] >= 2;
    const bool seg2d = ys.size() == 4 && xs.size() == 4 && ys[2] == xs[2] && ys[3] == xs[3];
    p.argmax = cfg.postprocess == "argmax" || (cfg.postprocess == "auto" && (classifier || seg2d));
    if (p.argmax) {
      if (ys.size() < 2)
        fail(src, "output '" + q.output + "'",
             "postprocess=argmax needs class scores [N, K, ...]; got " + shape_str(ys));
      p.classes = ys[1];
      p.out_pixels = p.out_elems / std::max<int64_t>(1, p.classes);
    } else {
      p.classes = ys.size() >= 2 ? ys[1] : p.out_elems;
      p.out_pixels = 1;
    }
  }
  if (p.argmax && (p.classes < 1 || p.classes > 255))
    fail(src, "output '" + q.output + "'",
         "argmax class count " + std::to_string(p.classes) +
             " must be in [1, 255] (8-bit class ids; --set postprocess=none keeps the scores)");
}

// A layer of the CPU subgraph: the same arithmetic on the A53, its inputs read from and its
// output written to DDR (the DPU's feature maps live there between layers anyway).
int64_t ps_cycles(const SocConfig& cfg, const QLayer& L, const DpuLayer& D) {
  double cyc = 0;
  if (L.kind == QLayer::Kind::Conv || L.kind == QLayer::Kind::ConvTranspose ||
      L.kind == QLayer::Kind::Gemm)
    cyc = cfg.ps_cycles_per_mac * static_cast<double>(D.macs);
  else if (L.kind == QLayer::Kind::Softmax)
    cyc = cfg.ps_cycles_per_softmax_elem * static_cast<double>(numel(D.out_shape));
  else
    cyc = cfg.ps_cycles_per_layer_elem *
          static_cast<double>(D.ps_work > 0 ? D.ps_work : numel(D.out_shape));
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(cyc)));
}

}  // namespace

DpuProgram compile_dpu(const QuantizedModel& q, const SocConfig& cfg, const std::string& src) {
  const Graph& g = q.graph;
  const DpuSize& d = cfg.dpu;
  DpuProgram p;
  plan_io(q, cfg, src, p);
  const int64_t peak = d.macs_per_cycle();
  bool prev_ps = true;  // a DPU job starts at the first DPU layer and after every CPU subgraph
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    DpuLayer D;
    D.qlayer = li;
    D.name = L.name;
    D.op = L.op;
    D.in_shape = g.shape(L.inputs.at(0));
    D.out_shape = g.shape(L.output);
    place_layer(q, cfg, L, D);
    if (D.place == Place::PS) {
      D.ps_cycles = ps_cycles(cfg, L, D);
      D.compute_cycles = 0;
      p.ps_macs += D.macs;
      p.params += D.params;
      p.ps_layers++;
      prev_ps = true;
    } else if (D.engine == "move") {
      p.move_layers++;
    } else {
      D.compute_cycles = std::max<int64_t>(D.compute_cycles, 1);
      D.overhead_cycles = cfg.dpu_layer_overhead_cycles;
      D.launch = prev_ps;
      if (D.launch) p.subgraphs++;
      prev_ps = false;
      p.macs += D.macs;
      p.params += D.params;
      p.dpu_layers++;
    }
    D.mac_efficiency =
        D.place == Place::PL && D.macs > 0
            ? static_cast<double>(D.macs) / (static_cast<double>(D.compute_cycles) * peak)
            : 0.0;
    p.layers.push_back(std::move(D));
  }
  return p;
}

std::vector<StepCost> step_costs(const SocConfig& cfg, const DpuProgram& prog) {
  const int64_t bands = int64_t{cfg.mosaic} * cfg.mosaic;
  const int64_t raw = cfg.raw_h * cfg.raw_w;  // = bands * cube pixels
  const int64_t net = prog.in_h * prog.in_w;
  std::vector<StepCost> v;
  auto add = [&](Step s, int64_t elems, int64_t rd, int64_t wr) {
    StepCost c;
    c.step = s;
    c.place = cfg.placement(s);
    c.elements = elems;
    c.read_bytes = rd;
    c.write_bytes = wr;
    const int i = static_cast<int>(s);
    if (c.place == Place::PS) {
      c.cycles = static_cast<int64_t>(std::ceil(cfg.ps_cycles_per_elem[i] * elems));
      c.clock_hz = cfg.ps_clock_hz;
    } else {
      c.cycles = cfg.pl_latency_cycles[i] + cdiv(elems, cfg.pl_lanes);
      c.clock_hz = cfg.pl_clock_hz;
    }
    v.push_back(c);
  };
  add(Step::Demosaic, raw, 2 * raw, 2 * raw);  // u16 in, u16 cube out
  add(Step::Normalise, raw, 2 * raw, raw);     // u16 cube in, int8 codes out
  add(Step::Crop, bands * net, bands * net, bands * net);
  // argmax compares every class score of a pixel: the PS pays per pixel and class; the PL
  // kernel compares the classes of one pixel in parallel (one pixel per lane per cycle).
  const int64_t px = prog.out_pixels;
  add(Step::Argmax, px * prog.classes, px * prog.classes, px);
  if (cfg.placement(Step::Argmax) == Place::PL)
    v.back().cycles = cfg.pl_latency_cycles[3] + cdiv(px, cfg.pl_lanes);
  // Tensor input: float32 samples in, int8 codes out (one multiply, round, saturate each).
  add(Step::Quantize, prog.in_elems, 4 * prog.in_elems, prog.in_elems);
  return v;
}

std::vector<StageDef> plan_stages(const SocConfig& cfg, const DpuProgram& prog) {
  const auto costs = step_costs(cfg, prog);
  std::vector<StageDef> st;
  const bool tensor = prog.input_mode == "tensor";
  StageDef sensor;
  // Tensor input: the float sample arrives in DDR by DMA (camera pipeline, file, network), 4 B
  // per element, paced by sensor.fps like the sensor.
  sensor.name = tensor ? "input" : "sensor";
  sensor.kind = "sensor";
  sensor.write_bytes = tensor ? 4 * prog.in_elems : 2 * cfg.raw_h * cfg.raw_w;
  sensor.compute_s = cfg.sensor_fps > 0 ? 1.0 / cfg.sensor_fps : 0.0;
  st.push_back(sensor);
  auto add_step = [&](const StepCost& c, bool may_fuse) {
    const std::string kind = c.place == Place::PS ? "ps" : "pl";
    const double t = static_cast<double>(c.cycles) / c.clock_hz;
    if (may_fuse && kind == "pl" && cfg.pl_fuse && !st.empty() && st.back().kind == "pl") {
      // Streaming chain: the stage runs at the pace of its slowest kernel; intermediate data
      // never leaves the PL, so only the chain's input is read and its output written.
      StageDef& s = st.back();
      s.steps.push_back(c.step);
      s.compute_s = std::max(s.compute_s, t);
      s.write_bytes = c.write_bytes;
      return;
    }
    StageDef s;
    s.kind = kind;
    s.steps = {c.step};
    s.compute_s = t;
    s.read_bytes = c.read_bytes;
    s.write_bytes = c.write_bytes;
    st.push_back(s);
  };
  if (tensor) {
    add_step(costs[static_cast<size_t>(Step::Quantize)], false);
  } else {
    for (int i = 0; i < 3; ++i) add_step(costs[static_cast<size_t>(i)], true);
  }
  StageDef dpu;
  dpu.name = "dpu";
  dpu.kind = "dpu";
  st.push_back(dpu);
  if (prog.argmax) add_step(costs[static_cast<size_t>(Step::Argmax)], false);
  int core = 0;
  for (auto& s : st) {
    if (s.kind == "ps" || s.kind == "pl") {
      std::string n;
      for (Step k : s.steps) n += (n.empty() ? "" : "+") + std::string(step_name(k));
      s.name = n + (s.kind == "ps" ? " (PS)" : " (PL)");
    }
    if (s.kind == "ps") s.core = core++ % cfg.ps_cores;
  }
  // The DPU runner's thread runs the CPU subgraphs, on the next core (shared, through its
  // mutex, with a PS stage when the stages take every core).
  for (auto& s : st)
    if (s.kind == "dpu" && prog.ps_layers > 0) s.core = core % cfg.ps_cores;
  return st;
}

namespace {
// Tensor input: [N, d1, ...] samples of the network's input [1, d1, ...], finite floats.
Frames load_tensor(const Tensor& x, const DpuProgram& prog, const std::string& src) {
  const Shape& s = x.shape;
  const Shape& net = prog.in_shape;
  if (s.size() != net.size() || s.empty() || !std::equal(s.begin() + 1, s.end(), net.begin() + 1)) {
    std::string w = shape_str(net);
    w.replace(1, std::to_string(net.empty() ? 0 : net[0]).size(), "N");
    fail(src, "shape " + shape_str(s), "input=tensor needs samples of the network's input " + w);
  }
  Frames f;
  f.tensor = true;
  f.n = s[0];
  f.per = prog.in_elems;
  if (f.n < 1) fail(src, "shape " + shape_str(s), "no samples");
  f.x.resize(static_cast<size_t>(f.n * f.per));
  for (size_t k = 0; k < f.x.size(); ++k) {
    const double v = x.is_float() ? x.f[k] : static_cast<double>(x.i[k]);
    if (!std::isfinite(v))
      fail(src, "element " + std::to_string(k),
           std::string(std::isnan(v) ? "NaN" : "Inf") + " (input data must be finite)");
    f.x[k] = static_cast<float>(v);
  }
  return f;
}
}  // namespace

Frames load_frames(const Tensor& x, const SocConfig& cfg, const DpuProgram& prog,
                   const std::string& src) {
  if (prog.input_mode == "tensor") return load_tensor(x, prog, src);
  const Shape& s = x.shape;
  Frames f;
  const bool ok3 = s.size() == 3;
  const bool ok4 = s.size() == 4 && s[1] == 1;
  if (s.size() == 4 && s[1] != 1)
    fail(src, "shape " + shape_str(s),
         "has " + std::to_string(s[1]) +
             " planes per frame; the pipeline takes raw snapshot-mosaic frames [N, H, W] or [N, "
             "1, H, W] (one plane holding all " +
             std::to_string(cfg.mosaic * cfg.mosaic) +
             " bands), not a band cube (--set input=tensor runs the network's own float input)");
  if (!ok3 && !ok4)
    fail(src, "shape " + shape_str(s), "raw frames must be [N, H, W] or [N, 1, H, W]");
  f.n = s[0];
  f.h = s[s.size() - 2];
  f.w = s.back();
  if (f.n < 1) fail(src, "shape " + shape_str(s), "no frames");
  if (f.h != cfg.raw_h || f.w != cfg.raw_w)
    fail(src, "shape " + shape_str(s),
         "frames are " + std::to_string(f.h) + "x" + std::to_string(f.w) +
             " but the sensor is configured for " + std::to_string(cfg.raw_h) + "x" +
             std::to_string(cfg.raw_w) + " (--set sensor.rows=.. --set sensor.cols=..)");
  if (f.h % cfg.mosaic != 0 || f.w % cfg.mosaic != 0)
    fail(src, "shape " + shape_str(s),
         "frame size must be a multiple of the " + std::to_string(cfg.mosaic) + "x" +
             std::to_string(cfg.mosaic) + " mosaic");
  const int64_t ch = f.h / cfg.mosaic, cw = f.w / cfg.mosaic;
  if (ch < prog.in_h || cw < prog.in_w) {
    if (cfg.resize == "crop")
      fail(src, "shape " + shape_str(s),
           "the cube is " + std::to_string(ch) + "x" + std::to_string(cw) +
               ", smaller than the network input " + std::to_string(prog.in_h) + "x" +
               std::to_string(prog.in_w) + " (use --set resize=nearest)");
  }
  if (cfg.resize == "crop" && cfg.crop_top >= 0 && cfg.crop_top + prog.in_h > ch)
    fail(src, "crop.top", "window rows exceed the cube height " + std::to_string(ch));
  if (cfg.resize == "crop" && cfg.crop_left >= 0 && cfg.crop_left + prog.in_w > cw)
    fail(src, "crop.left", "window columns exceed the cube width " + std::to_string(cw));
  const double maxv = std::ldexp(1.0, cfg.bits) - 1.0;
  f.dn.resize(static_cast<size_t>(f.n * f.h * f.w));
  for (size_t k = 0; k < f.dn.size(); ++k) {
    const double v = x.is_float() ? x.f[k] : static_cast<double>(x.i[k]);
    if (!(v >= 0.0 && v <= maxv) || v != std::floor(v))
      fail(src, "element " + std::to_string(k),
           "value " + std::to_string(v) + " is not an integer digital number in [0, " +
               std::to_string(static_cast<int64_t>(maxv)) + "] of a " + std::to_string(cfg.bits) +
               "-bit sensor");
    f.dn[k] = static_cast<uint16_t>(v);
  }
  return f;
}

}  // namespace fpga_soc
}  // namespace prunesim
