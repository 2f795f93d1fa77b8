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

[[noreturn]] void bad_layer(const std::string& src, const QLayer& L, const std::string& what) {
  fail(src, "layer '" + L.name + "' (" + L.op + ")", what);
}

// PG338 "Configurable options / supported operations" limits of DPUCZDX8G convolution.
void check_conv(const std::string& src, const QLayer& L, const ConvGeom& c, const DpuSize& d,
                bool transposed) {
  if (c.one_d) bad_layer(src, L, "1-D convolution: the DPU model runs 2-D layers only");
  if (c.kh < 1 || c.kh > 16 || c.kw < 1 || c.kw > 16)
    bad_layer(src, L,
              "kernel " + std::to_string(c.kh) + "x" + std::to_string(c.kw) +
                  " exceeds the DPU's 1..16 (PG338)");
  if (c.sh > 8 || c.sw > 8)
    bad_layer(src, L,
              "stride " + std::to_string(c.sh) + "x" + std::to_string(c.sw) +
                  " exceeds the DPU's 1..8 (PG338)");
  if (!transposed && (c.pt > c.kh - 1 || c.pl > c.kw - 1 || c.pb > c.kh - 1 || c.pr > c.kw - 1))
    bad_layer(src, L, "padding larger than kernel - 1 is not supported by the DPU (PG338)");
  const bool depthwise = c.group == c.C && c.group == c.M && c.group > 1;
  if (c.group != 1 && !depthwise)
    bad_layer(src, L,
              "grouped convolution (group " + std::to_string(c.group) +
                  ") is not supported by the DPU; only group 1 and depthwise");
  if (transposed && c.group != 1)
    bad_layer(src, L, "grouped transposed convolution is not supported by the DPU model");
  const int64_t max_c = 256LL * d.icp;
  if (c.C > max_c || c.M > max_c)
    bad_layer(src, L,
              "channels " + std::to_string(std::max(c.C, c.M)) + " exceed " +
                  std::to_string(max_c) + " = 256 x channel parallelism of " + d.name + " (PG338)");
}

}  // namespace

DpuProgram compile_dpu(const QuantizedModel& q, const SocConfig& cfg, const std::string& src) {
  const Graph& g = q.graph;
  const DpuSize& d = cfg.dpu;
  DpuProgram p;
  const Shape& xs = g.shape(q.input);
  const Shape& ys = g.shape(q.output);
  if (xs.size() != 4 || ys.size() != 4)
    fail(src, "input '" + q.input + "'",
         "the FPGA-SoC pipeline needs a 2-D segmentation network [N, C, H, W] -> [N, classes, "
         "H, W]; got " +
             shape_str(xs) + " -> " + shape_str(ys));
  p.in_c = xs[1];
  p.in_h = xs[2];
  p.in_w = xs[3];
  p.classes = ys[1];
  p.input_scale = q.input_scale;
  const int64_t bands = int64_t{cfg.mosaic} * cfg.mosaic;
  if (p.in_c != bands)
    fail(src, "input '" + q.input + "'",
         "the network takes " + std::to_string(p.in_c) + " channels but the " +
             std::to_string(cfg.mosaic) + "x" + std::to_string(cfg.mosaic) +
             " mosaic sensor gives " + std::to_string(bands) + " bands");
  if (ys[2] != xs[2] || ys[3] != xs[3])
    fail(src, "output '" + q.output + "'",
         "the output " + shape_str(ys) + " must have the input's height and width " +
             shape_str(xs) + " (one score per class and pixel)");
  if (p.classes < 1 || p.classes > 255)
    fail(src, "output '" + q.output + "'", "class count must be in [1, 255]");
  const int64_t peak = d.macs_per_cycle();
  for (size_t li = 0; li < q.layers.size(); ++li) {
    const QLayer& L = q.layers[li];
    const Node& n = g.nodes[L.node];
    DpuLayer D;
    D.qlayer = li;
    D.name = L.name;
    D.op = L.op;
    D.in_shape = g.shape(L.inputs.at(0));
    D.out_shape = g.shape(L.output);
    const int64_t in_bytes = [&] {
      int64_t b = 0;
      for (const auto& v : L.inputs) b += numel(g.shape(v));
      return b;
    }();
    const int64_t out_bytes = numel(D.out_shape);
    int64_t wbytes = 0;
    switch (L.kind) {
      case QLayer::Kind::Conv:
      case QLayer::Kind::ConvTranspose: {
        const bool tr = L.kind == QLayer::Kind::ConvTranspose;
        const ConvGeom c = tr ? convtranspose_geometry(g, n, D.in_shape, L.weight_shape)
                              : conv_geometry(g, n, D.in_shape, L.weight_shape);
        check_conv(src, L, c, d, tr);
        const bool depthwise = c.group > 1;
        D.engine = tr ? "deconv" : "conv";
        D.params = static_cast<int64_t>(L.weight.size() + L.bias.size());
        wbytes = static_cast<int64_t>(L.weight.size()) + 4 * static_cast<int64_t>(L.bias.size());
        if (tr) {
          D.macs = c.H * c.W * c.C * (c.M / c.group) * c.kh * c.kw;
          // Each input pixel scatters a kh x kw patch to every output channel.
          D.compute_cycles =
              cdiv(c.W, d.pp) * c.H * cdiv(c.C, d.icp) * cdiv(c.M, d.ocp) * c.kh * c.kw;
        } else if (depthwise) {
          D.macs = c.OH * c.OW * c.M * c.kh * c.kw;
          // PG338: depthwise convolution runs at half the pixel parallelism.
          D.compute_cycles =
              cdiv(c.OW, std::max(1, d.pp / 2)) * c.OH * cdiv(c.C, d.icp) * c.kh * c.kw;
        } else {
          D.macs = c.OH * c.OW * c.M * c.C * c.kh * c.kw;
          D.compute_cycles =
              cdiv(c.OW, d.pp) * c.OH * cdiv(c.C, d.icp) * cdiv(c.M, d.ocp) * c.kh * c.kw;
        }
        // Buffers: weights that do not fit are refetched once per output row; input rows
        // (kh rows of every channel) that do not fit are reread once per output-channel tile.
        int64_t wtraffic = wbytes;
        if (wbytes > cfg.dpu_weight_buffer_bytes) wtraffic = wbytes * (tr ? c.H : c.OH);
        int64_t itraffic = in_bytes;
        if (c.C * c.kh * c.W > cfg.dpu_feature_buffer_bytes) itraffic = in_bytes * cdiv(c.M, d.ocp);
        D.ddr_read_bytes = wtraffic + itraffic;
        D.ddr_write_bytes = out_bytes;
        break;
      }
      case QLayer::Kind::MaxPool: {
        const PoolGeom pg = pool_geometry(g, n, D.in_shape);
        if (pg.one_d) bad_layer(src, L, "1-D pooling: the DPU model runs 2-D layers only");
        if (pg.kh > 8 || pg.kw > 8 || pg.sh > 8 || pg.sw > 8)
          bad_layer(src, L, "pooling kernel/stride above 8 is not supported by the DPU (PG338)");
        if (pg.dh != 1 || pg.dw != 1) bad_layer(src, L, "dilated pooling is not supported");
        D.engine = "pool";
        D.compute_cycles = cdiv(pg.OW, d.pp) * pg.OH * cdiv(pg.C, d.icp) * pg.kh * pg.kw;
        D.ddr_read_bytes = in_bytes;
        D.ddr_write_bytes = out_bytes;
        break;
      }
      case QLayer::Kind::Concat:
      case QLayer::Kind::Add:
      case QLayer::Kind::Clamp:
      case QLayer::Kind::Move: {
        if (L.kind == QLayer::Kind::Concat) {
          int64_t ax = n.attr_i("axis", 0);
          if (ax < 0) ax += static_cast<int64_t>(D.out_shape.size());
          if (ax != 1) bad_layer(src, L, "the DPU concatenates along channels (axis 1) only");
        }
        if (L.kind == QLayer::Kind::Add) {
          if (L.const_operand >= 0 || L.inputs.size() != 2 || g.shape(L.inputs[0]) != D.out_shape ||
              g.shape(L.inputs[1]) != D.out_shape)
            bad_layer(src, L, "the DPU adds two activation tensors of the same shape only");
        }
        if (L.kind == QLayer::Kind::Move) {
          const bool resize = L.op == "Resize" || L.op == "Upsample";
          const Shape& is = D.in_shape;
          const Shape& os = D.out_shape;
          if (!resize || is.size() != 4 || os.size() != 4 || is[1] != os[1] || os[2] % is[2] != 0 ||
              os[3] % is[3] != 0 || n.attr_s("mode", "nearest") != "nearest")
            bad_layer(src, L,
                      "not supported by the DPU model (only nearest upsampling by integer "
                      "factors moves codes on the DPU)");
        }
        D.engine = "eltwise";
        D.compute_cycles = cdiv(numel(D.out_shape), int64_t{d.pp} * d.icp);
        D.ddr_read_bytes = in_bytes;
        D.ddr_write_bytes = out_bytes;
        break;
      }
      default:
        bad_layer(src, L,
                  "not supported by the DPU model (supported: Conv, ConvTranspose, MaxPool, "
                  "Concat, Add, Relu/Clip, nearest Resize)");
    }
    D.compute_cycles = std::max<int64_t>(D.compute_cycles, 1);
    D.mac_efficiency =
        D.macs > 0 ? static_cast<double>(D.macs) / (static_cast<double>(D.compute_cycles) * peak)
                   : 0.0;
    p.macs += D.macs;
    p.params += D.params;
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
  add(Step::Argmax, net * prog.classes, net * prog.classes, net);
  if (cfg.placement(Step::Argmax) == Place::PL)
    v.back().cycles = cfg.pl_latency_cycles[3] + cdiv(net, cfg.pl_lanes);
  return v;
}

std::vector<StageDef> plan_stages(const SocConfig& cfg, const DpuProgram& prog) {
  const auto costs = step_costs(cfg, prog);
  std::vector<StageDef> st;
  StageDef sensor;
  sensor.name = "sensor";
  sensor.kind = "sensor";
  sensor.write_bytes = 2 * cfg.raw_h * cfg.raw_w;
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
  for (int i = 0; i < 3; ++i) add_step(costs[static_cast<size_t>(i)], true);
  StageDef dpu;
  dpu.name = "dpu";
  dpu.kind = "dpu";
  st.push_back(dpu);
  add_step(costs[3], false);
  int core = 0;
  for (auto& s : st) {
    if (s.kind == "ps" || s.kind == "pl") {
      std::string n;
      for (Step k : s.steps) n += (n.empty() ? "" : "+") + std::string(step_name(k));
      s.name = n + (s.kind == "ps" ? " (PS)" : " (PL)");
    }
    if (s.kind == "ps") s.core = core++ % cfg.ps_cores;
  }
  return st;
}

Frames load_frames(const Tensor& x, const SocConfig& cfg, const DpuProgram& prog,
                   const std::string& src) {
  const Shape& s = x.shape;
  Frames f;
  const bool ok3 = s.size() == 3;
  const bool ok4 = s.size() == 4 && s[1] == 1;
  if (s.size() == 4 && s[1] != 1)
    fail(src, "shape " + shape_str(s),
         "has " + std::to_string(s[1]) +
             " planes per frame; the pipeline takes raw snapshot-mosaic frames [N, H, W] or [N, "
             "1, H, W] (one plane holding all " +
             std::to_string(cfg.mosaic * cfg.mosaic) + " bands), not a band cube");
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
