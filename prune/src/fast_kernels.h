// Internal: the vectorised inner kernels of the fast executors, one set per instruction set,
// chosen at run time (fast_exec.h's KernelIsa). Every variant computes the same integers (int32
// sums wrap, so any order gives the same codes) or the same doubles (k summed in ascending order
// with exact products), so they are interchangeable; tests run each one the CPU has.
#pragma once

#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#include "hls/arith.h"
#include "prune/fast_exec.h"

namespace prunesim::fast {

// Threads for `samples` samples when `asked` were requested (0: exec_threads()).
int thread_count(int asked, int64_t samples);

// f(first, last) on contiguous sample ranges, one per thread; the first exception is rethrown.
template <class F>
inline void parallel_samples(int64_t n, int threads, const F& f) {
  if (threads <= 1) {
    f(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> err(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    const int64_t a = n * t / threads, b = n * (t + 1) / threads;
    pool.emplace_back([&, t, a, b] {
      try {
        f(a, b);
      } catch (...) {
        err[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : err)
    if (e) std::rethrow_exception(e);
}

// Pixel tile of the packed GEMMs: the X operands hold kTile columns (a multiple of 16).
constexpr int kTile = 64;

// acc[m][p] = comp[m] + sum over k of W[m][k] * X[k][p], int32 wrapping, for m < M, p < NT
// (NT a multiple of 16). W: [M][4*K4] int8 (zero past K), read 4 weights (one word) at a time.
// X: [K4][NT][4] uint8 (the activation code + 128; comp folds the 128 back out).
void gemm_u8s8(KernelIsa isa, int M, int K4, int NT, const int8_t* W, const uint8_t* X,
               const int32_t* comp, int32_t* acc);

// acc[m][p] = sum over k = 0, 1, ..., K-1 of W[m][k] * X[k][p] in double, from 0.0 and in that
// order (the float reference's order; products of floats are exact in double, so FMA and
// multiply-then-add agree). W: [M][K], X: [K][NT], NT a multiple of 16.
void gemm_f64(KernelIsa isa, int M, int K, int NT, const double* W, const double* X, double* acc);

// y[p] = clamp(requantize(acc[p], r), lo, hi) for p < n: hls::requantize_clamp, vectorised.
void requant_row(KernelIsa isa, int n, const int32_t* acc, hls::Requant r, int8_t lo, int8_t hi,
                 int8_t* y);

// out[k] = hls::quantize_value(x[k], scale) for k < n (x finite or +-Inf, never NaN).
void quantize_row(KernelIsa isa, size_t n, const float* x, float scale, int8_t* out);

// Depthwise row: acc[ow] += sum over taps t of w[t] * x[off[t] + ow * stride] (int32 wrapping)
// for ow < n; x is a zero-padded plane, so no bounds checks.
void dw_row(KernelIsa isa, int n, int taps, const int8_t* x, const int64_t* off, int stride,
            const int8_t* w, int32_t* acc);

// Float depthwise row, stride 1: acc[o] += double(x[off[t] + o]) * w[t] for t = 0, 1, ...,
// taps-1 in that order (the reference's tap order), o < n.
void dw_row_f64(KernelIsa isa, int n, int taps, const float* x, const int64_t* off, const double* w,
                double* acc);

}  // namespace prunesim::fast
