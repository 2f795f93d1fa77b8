#include "prune/op_geometry.h"

#include <algorithm>
#include <cmath>

#include <algorithm>

#include "prune/errors.h"

namespace prunesim {
namespace {

std::string where(const Node& n) {
  return "node '" + n.name + "' (" + n.op + ")";
}

// Reads a per-spatial-dim attribute for 1-D or 2-D and maps it to (h, w).
void spatial_pair(const Graph& g, const Node& n, const std::string& a, bool one_d, int64_t dflt,
                  int64_t& h, int64_t& w) {
  auto v = n.attr_ints(a);
  if (v.empty()) {
    h = w = dflt;
    if (one_d) h = 1;
    return;
  }
  const size_t want = one_d ? 1 : 2;
  if (v.size() != want)
    fail(g.source, where(n),
         "attribute '" + a + "' has " + std::to_string(v.size()) + " values, expected " +
             std::to_string(want));
  if (one_d) {
    h = 1;
    w = v[0];
  } else {
    h = v[0];
    w = v[1];
  }
}

void read_pads(const Graph& g, const Node& n, bool one_d, int64_t& pt, int64_t& pl, int64_t& pb,
               int64_t& pr) {
  auto p = n.attr_ints("pads");
  pt = pl = pb = pr = 0;
  if (p.empty()) return;
  const size_t want = one_d ? 2 : 4;
  if (p.size() != want)
    fail(g.source, where(n),
         "attribute 'pads' has " + std::to_string(p.size()) + " values, expected " +
             std::to_string(want));
  for (auto v : p)
    if (v < 0) fail(g.source, where(n), "negative pads are not supported");
  if (one_d) {
    pl = p[0];
    pr = p[1];
  } else {
    pt = p[0];
    pl = p[1];
    pb = p[2];
    pr = p[3];
  }
}

// auto_pad SAME_*: output = ceil(in / stride); the total padding is split with the extra
// element at the end (UPPER) or the beginning (LOWER).
void same_pads(const std::string& mode, int64_t in, int64_t k, int64_t s, int64_t d, int64_t& b,
               int64_t& e) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
  b = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
  e = total - b;
}

void apply_auto_pad(const Graph& g, const Node& n, int64_t H, int64_t W, int64_t kh, int64_t kw,
                    int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t& pt, int64_t& pl,
                    int64_t& pb, int64_t& pr, bool one_d) {
  const std::string ap = n.attr_s("auto_pad", "NOTSET");
  if (ap == "NOTSET") {
    read_pads(g, n, one_d, pt, pl, pb, pr);
  } else if (ap == "VALID") {
    pt = pl = pb = pr = 0;
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    same_pads(ap, H, kh, sh, dh, pt, pb);
    same_pads(ap, W, kw, sw, dw, pl, pr);
    if (one_d) pt = pb = 0;
  } else {
    unsupported(g.source, where(n), "auto_pad '" + ap + "' is not supported");
  }
}

void read_input(const Graph& g, const Node& n, const Shape& x, bool& one_d, int64_t& N, int64_t& C,
                int64_t& H, int64_t& W) {
  if (x.size() == 3) {
    one_d = true;
    N = x[0];
    C = x[1];
    H = 1;
    W = x[2];
  } else if (x.size() == 4) {
    one_d = false;
    N = x[0];
    C = x[1];
    H = x[2];
    W = x[3];
  } else {
    unsupported(g.source, where(n),
                "input of rank " + std::to_string(x.size()) +
                    " (only 1-D and 2-D spatial operators are supported)");
  }
}

}  // namespace

Shape ConvGeom::out_shape() const {
  return one_d ? Shape{N, M, OW} : Shape{N, M, OH, OW};
}
int64_t ConvGeom::macs_per_batch() const {
  return M * OH * OW * (C / group) * kh * kw;
}
Shape PoolGeom::out_shape() const {
  return one_d ? Shape{N, C, OW} : Shape{N, C, OH, OW};
}

ConvGeom conv_geometry(const Graph& g, const Node& n, const Shape& x, const Shape& w) {
  ConvGeom c;
  read_input(g, n, x, c.one_d, c.N, c.C, c.H, c.W);
  if (w.size() != x.size())
    fail(g.source, where(n), "weight rank " + std::to_string(w.size()) + " does not match input");
  c.group = n.attr_i("group", 1);
  c.M = w[0];
  if (c.group < 1 || c.C % c.group || c.M % c.group)
    fail(g.source, where(n),
         "group " + std::to_string(c.group) + " does not divide channels " + std::to_string(c.C) +
             " and " + std::to_string(c.M));
  if (w[1] != c.C / c.group)
    fail(g.source, where(n),
         "weight " + shape_str(w) + " expects " + std::to_string(w[1] * c.group) +
             " input channels, input has " + std::to_string(c.C));
  c.kh = c.one_d ? 1 : w[2];
  c.kw = w.back();
  spatial_pair(g, n, "strides", c.one_d, 1, c.sh, c.sw);
  spatial_pair(g, n, "dilations", c.one_d, 1, c.dh, c.dw);
  apply_auto_pad(g, n, c.H, c.W, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr,
                 c.one_d);
  c.OH = (c.H + c.pt + c.pb - ((c.kh - 1) * c.dh + 1)) / c.sh + 1;
  c.OW = (c.W + c.pl + c.pr - ((c.kw - 1) * c.dw + 1)) / c.sw + 1;
  if (c.OH < 1 || c.OW < 1) fail(g.source, where(n), "kernel larger than padded input");
  return c;
}

ConvGeom convtranspose_geometry(const Graph& g, const Node& n, const Shape& x, const Shape& w) {
  ConvGeom c;
  read_input(g, n, x, c.one_d, c.N, c.C, c.H, c.W);
  if (w.size() != x.size())
    fail(g.source, where(n), "weight rank " + std::to_string(w.size()) + " does not match input");
  c.group = n.attr_i("group", 1);
  if (w[0] != c.C)
    fail(g.source, where(n),
         "weight " + shape_str(w) + " expects " + std::to_string(w[0]) +
             " input channels, input has " + std::to_string(c.C));
  if (c.group < 1 || c.C % c.group) fail(g.source, where(n), "group does not divide channels");
  c.M = w[1] * c.group;
  c.kh = c.one_d ? 1 : w[2];
  c.kw = w.back();
  spatial_pair(g, n, "strides", c.one_d, 1, c.sh, c.sw);
  spatial_pair(g, n, "dilations", c.one_d, 1, c.dh, c.dw);
  int64_t oph = 0, opw = 0;
  spatial_pair(g, n, "output_padding", c.one_d, 0, oph, opw);
  if (c.one_d) oph = 0;
  const int64_t full_h = c.sh * (c.H - 1) + oph + (c.kh - 1) * c.dh + 1;
  const int64_t full_w = c.sw * (c.W - 1) + opw + (c.kw - 1) * c.dw + 1;
  const std::string ap = n.attr_s("auto_pad", "NOTSET");
  auto os = n.attr_ints("output_shape");
  if (!os.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    int64_t th, tw;  // target output size
    if (!os.empty()) {
      if (os.size() != (c.one_d ? 1u : 2u) && os.size() != x.size())
        fail(g.source, where(n), "attribute 'output_shape' has the wrong number of values");
      tw = os.back();
      th = c.one_d ? 1 : os[os.size() - 2];
    } else {
      th = c.H * c.sh;
      tw = c.W * c.sw;
    }
    auto split = [&](int64_t total, int64_t& b, int64_t& e) {
      if (total < 0) {  // a larger output than the kernels cover: extra zeros at the end
        b = 0;
        e = total;
      } else if (ap == "SAME_UPPER") {
        b = total / 2;
        e = total - b;
      } else {
        b = total - total / 2;
        e = total / 2;
      }
    };
    split(full_h - th, c.pt, c.pb);
    split(full_w - tw, c.pl, c.pr);
  } else if (ap == "NOTSET" || ap == "VALID") {
    if (ap == "NOTSET") read_pads(g, n, c.one_d, c.pt, c.pl, c.pb, c.pr);
  } else {
    unsupported(g.source, where(n), "auto_pad '" + ap + "' is not supported");
  }
  c.OH = full_h - c.pt - c.pb;
  c.OW = full_w - c.pl - c.pr;
  if (c.OH < 1 || c.OW < 1) fail(g.source, where(n), "pads larger than the output");
  return c;
}

PoolGeom pool_geometry(const Graph& g, const Node& n, const Shape& x) {
  PoolGeom p;
  read_input(g, n, x, p.one_d, p.N, p.C, p.H, p.W);
  spatial_pair(g, n, "kernel_shape", p.one_d, 1, p.kh, p.kw);
  if (!n.has("kernel_shape")) fail(g.source, where(n), "missing attribute 'kernel_shape'");
  spatial_pair(g, n, "strides", p.one_d, 1, p.sh, p.sw);
  spatial_pair(g, n, "dilations", p.one_d, 1, p.dh, p.dw);
  apply_auto_pad(g, n, p.H, p.W, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr,
                 p.one_d);
  const bool ceil_mode = n.attr_i("ceil_mode", 0) != 0;
  auto out = [&](int64_t in, int64_t b, int64_t e, int64_t k, int64_t s, int64_t d) {
    const int64_t span = in + b + e - ((k - 1) * d + 1);
    if (span < 0) fail(g.source, where(n), "kernel larger than padded input");
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // A window may not start inside the end padding only (PyTorch/ONNX rule for ceil_mode).
    if (ceil_mode && (o - 1) * s >= in + b) --o;
    return o;
  };
  p.OH = p.one_d ? 1 : out(p.H, p.pt, p.pb, p.kh, p.sh, p.dh);
  p.OW = out(p.W, p.pl, p.pr, p.kw, p.sw, p.dw);
  return p;
}

namespace {
// The input coordinate of output index `o` under the node's coordinate_transformation_mode.
double source_coord(const Node& n, bool upsample, int64_t o, int64_t in, int64_t out, float scale) {
  const std::string ct =
      upsample ? "asymmetric" : n.attr_s("coordinate_transformation_mode", "half_pixel");
  if (ct == "asymmetric") return o / static_cast<double>(scale);
  if (ct == "align_corners") {
    // ONNX's reference takes the resized length as in * scale, not the floored output length
    // (they differ when the scale does not give a whole length: downsampling by 0.6); a
    // sizes-driven scale (out / in) gives back `out` up to float rounding, which is snapped.
    double len = static_cast<double>(in) * scale;
    if (std::fabs(len - std::round(len)) < 1e-4) len = std::round(len);
    return len == 1.0 ? 0.0 : o * (in - 1.0) / (len - 1.0);
  }
  if (ct == "pytorch_half_pixel") return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  if (ct == "tf_half_pixel_for_nearest") return (o + 0.5) / scale;
  return (o + 0.5) / scale - 0.5;  // half_pixel
}
}  // namespace

LinearTap linear_src(const Node& n, bool upsample, int64_t o, int64_t in, int64_t out,
                     float scale) {
  double xo = source_coord(n, upsample, o, in, out, scale);
  xo = std::min(std::max(xo, 0.0), static_cast<double>(in - 1));
  LinearTap t;
  t.i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(xo)), in - 1);
  t.i1 = std::min<int64_t>(t.i0 + 1, in - 1);
  t.w1 = xo - static_cast<double>(t.i0);
  return t;
}

int64_t nearest_src(const Node& n, bool upsample, int64_t o, int64_t in, int64_t out, float scale) {
  const std::string nm = upsample ? "floor" : n.attr_s("nearest_mode", "round_prefer_floor");
  const double xo = source_coord(n, upsample, o, in, out, scale);
  double r;
  if (nm == "floor")
    r = std::floor(xo);
  else if (nm == "ceil")
    r = std::ceil(xo);
  else if (nm == "round_prefer_ceil")
    r = std::floor(xo + 0.5);
  else
    r = (xo - std::floor(xo) == 0.5) ? std::floor(xo) : std::round(xo);  // prefer floor
  return std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(r), 0), in - 1);
}

}  // namespace prunesim
