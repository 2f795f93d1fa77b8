// Internal: the im2col walk shared by the fast int8 and float executors. For one group and a
// tile of output pixels it visits every (tap row k, tile column pp) whose input is inside the
// image and hands over the input's index; taps outside are left to the caller's fill (code 0 /
// 0.0). Tap rows are k = (ci, i, j) in ascending order; for ConvTranspose tap (i, j) stands for
// kernel tap (kh-1-i, kw-1-j), the order in which the float reference's scatter reaches an output.
#pragma once

#include <algorithm>
#include <cstdint>

#include "prune/op_geometry.h"

namespace prunesim::fast {

// put(k, pp, index): index into the group's input planes ([cpg][H][W]).
template <class Put>
inline void im2col_tile(const ConvGeom& c, bool tr, int64_t cpg, int64_t p0, int nt, Put&& put) {
  const int64_t HW = c.H * c.W;
  for (int64_t ci = 0; ci < cpg; ++ci)
    for (int64_t i = 0; i < c.kh; ++i)
      for (int64_t j = 0; j < c.kw; ++j) {
        const int64_t k = (ci * c.kh + i) * c.kw + j;
        // Input column of output column ow: (ow * sw + base) for Conv; for ConvTranspose
        // (ow + base) / sw where (ow + base) is a multiple of sw.
        const int64_t base = tr ? c.pl - (c.kw - 1 - j) * c.dw : j * c.dw - c.pl;
        for (int64_t pp = 0; pp < nt;) {
          const int64_t p = p0 + pp, oh = p / c.OW, ow0 = p % c.OW;
          const int64_t len = std::min<int64_t>(c.OW - ow0, nt - pp);
          const int64_t ow1 = ow0 + len;  // this row's columns: [ow0, ow1)
          pp += len;
          int64_t ih;
          if (!tr) {
            ih = oh * c.sh - c.pt + i * c.dh;
          } else {
            const int64_t th = oh + c.pt - (c.kh - 1 - i) * c.dh;
            if (th < 0 || th % c.sh != 0) continue;
            ih = th / c.sh;
          }
          if (ih < 0 || ih >= c.H) continue;
          const int64_t row = ci * HW + ih * c.W, col0 = pp - len - ow0;  // tile column of ow
          if (!tr) {
            // 0 <= ow * sw + base < W
            const int64_t lo = base >= 0 ? 0 : (-base + c.sw - 1) / c.sw;
            const int64_t hi = c.W - 1 - base < 0 ? 0 : (c.W - 1 - base) / c.sw + 1;
            const int64_t a = std::max(lo, ow0), e = std::min(hi, ow1);
            for (int64_t ow = a; ow < e; ++ow) put(k, col0 + ow, row + ow * c.sw + base);
          } else {
            // ow + base = iw * sw with 0 <= iw < W
            int64_t ow = std::max(ow0, -base);
            const int64_t r = (ow + base) % c.sw;
            if (r) ow += c.sw - r;
            const int64_t e = std::min(ow1, c.W * c.sw - base);
            for (int64_t iw = (ow + base) / c.sw; ow < e; ow += c.sw, ++iw)
              put(k, col0 + ow, row + iw);
          }
        }
      }
}

}  // namespace prunesim::fast
