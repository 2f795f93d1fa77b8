// PL kernels of the hyperspectral (HSI) preprocessing and post-processing pipeline: cube building
// from a snapshot-mosaic frame (demosaic), reflectance normalisation fused with the network's
// input quantization, nearest crop/resize, and the per-pixel argmax that turns int8 class scores
// into a mask. Streaming, row-at-a-time, fixed-width integers; docs/fpga-soc.md specifies them.
#pragma once

#include <cstdint>

#include "hls/arith.h"

#if defined(__SYNTHESIS__)
#define PRUNESIM_HLS_HSI_PIPELINE _Pragma("HLS PIPELINE II=1")
#define PRUNESIM_HLS_HSI_INLINE _Pragma("HLS INLINE off")
#else
#define PRUNESIM_HLS_HSI_PIPELINE
#define PRUNESIM_HLS_HSI_INLINE
#endif

namespace prunesim {
namespace hls {

// Geometry of the snapshot mosaic: a `mosaic` x `mosaic` macro-pixel carries one sample of each
// of mosaic^2 bands; raw pixel (m*i + r, m*j + c) is band m*r + c of cube pixel (i, j).
struct MosaicParams {
  int32_t mosaic = 5;            // 5x5 -> 25 bands (HSI-Drive's sensor)
  int32_t raw_h = 0, raw_w = 0;  // multiples of mosaic
  int32_t cube_h() const { return raw_h / mosaic; }
  int32_t cube_w() const { return raw_w / mosaic; }
  int32_t bands() const { return mosaic * mosaic; }
};

// Cube building for one raw row: scatters the row into `mosaic` band planes of the cube
// [bands][cube_h][cube_w] (uint16 DN). A streaming kernel sees each raw pixel once, in raster
// order, and writes it to its band: II = 1 per raw pixel, no arithmetic.
inline void demosaic_row(const MosaicParams& p, int32_t raw_row, const uint16_t* row,
                         uint16_t* cube) {
  const int32_t i = raw_row / p.mosaic, r = raw_row % p.mosaic;
  const int32_t ch = p.cube_h(), cw = p.cube_w();
  for (int32_t x = 0; x < p.raw_w; ++x) {
    PRUNESIM_HLS_HSI_PIPELINE
    const int32_t j = x / p.mosaic, c = x % p.mosaic;
    const int32_t band = r * p.mosaic + c;
    cube[(band * ch + i) * cw + j] = row[x];
  }
}

// The whole frame: raw [raw_h][raw_w] -> cube [bands][cube_h][cube_w].
inline void demosaic(const MosaicParams& p, const uint16_t* raw, uint16_t* cube) {
  PRUNESIM_HLS_HSI_INLINE
  for (int32_t y = 0; y < p.raw_h; ++y) demosaic_row(p, y, raw + y * p.raw_w, cube);
}

// Reflectance normalisation fused with input quantization: the network's input code of a sample
// is q = sat8(round((dn - dark) / (white - dark) / s_in)). In integer form the subtraction is
// exact and the division by (white - dark) * s_in is one requantization: q =
// requantize(dn - dark, M, shift) with M * 2^-shift = 1 / ((white - dark) * s_in), computed on
// the host by normalise_requant(). dark and the requantization are per band.
inline int8_t normalise_value(uint16_t dn, uint16_t dark, const Requant& rq) {
  return requantize(static_cast<int32_t>(dn) - static_cast<int32_t>(dark), rq);
}

// cube [bands][n] (n pixels per band) -> codes [bands][n].
inline void normalise(int32_t bands, int32_t n, const uint16_t* cube, const uint16_t* dark,
                      const Requant* rq, int8_t* out) {
  for (int32_t b = 0; b < bands; ++b) {
    for (int32_t k = 0; k < n; ++k) {
      PRUNESIM_HLS_HSI_PIPELINE
      out[b * n + k] = normalise_value(cube[b * n + k], dark[b], rq[b]);
    }
  }
}

// Host side: the requantization of normalise_value, or false if the factor is not
// representable (white <= dark, a scale of 0).
inline bool normalise_requant(double white_minus_dark, float input_scale, Requant* out) {
  if (!(white_minus_dark > 0.0) || !(input_scale > 0.f)) return false;
  return quantize_multiplier(1.0 / (white_minus_dark * static_cast<double>(input_scale)), out);
}

// Crop and nearest resize of a [c][in_h][in_w] int8 tensor to [c][out_h][out_w]: the window
// starting at (top, left) of size (win_h, win_w) is sampled at src = top + floor(dst * win / out),
// the index mapping of ONNX Resize nearest with asymmetric coordinates and floor rounding (a pure
// crop when win == out).
struct CropParams {
  int32_t channels = 1, in_h = 1, in_w = 1;
  int32_t top = 0, left = 0, win_h = 1, win_w = 1;
  int32_t out_h = 1, out_w = 1;
};

inline void crop_resize(const CropParams& p, const int8_t* x, int8_t* y) {
  for (int32_t c = 0; c < p.channels; ++c) {
    for (int32_t oh = 0; oh < p.out_h; ++oh) {
      const int32_t ih = p.top + (oh * p.win_h) / p.out_h;
      for (int32_t ow = 0; ow < p.out_w; ++ow) {
        PRUNESIM_HLS_HSI_PIPELINE
        const int32_t iw = p.left + (ow * p.win_w) / p.out_w;
        y[(c * p.out_h + oh) * p.out_w + ow] = x[(c * p.in_h + ih) * p.in_w + iw];
      }
    }
  }
}

// Per-pixel argmax over `classes` int8 score planes [classes][n] -> class ids [n]. The first
// maximum wins (the lowest class id on a tie), the same rule as numpy.argmax. Comparing int8
// codes is exact: quantization is monotonic and every class shares the output scale.
inline void argmax(int32_t classes, int32_t n, const int8_t* scores, uint8_t* mask) {
  for (int32_t k = 0; k < n; ++k) {
    PRUNESIM_HLS_HSI_PIPELINE
    int8_t best = scores[k];
    uint8_t id = 0;
    for (int32_t c = 1; c < classes; ++c) {
      const int8_t v = scores[c * n + k];
      if (v > best) {
        best = v;
        id = static_cast<uint8_t>(c);
      }
    }
    mask[k] = id;
  }
}

}  // namespace hls
}  // namespace prunesim
