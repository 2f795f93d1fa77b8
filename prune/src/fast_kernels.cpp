// The fast executors' inner kernels, one variant per instruction set (function-level target
// attributes, chosen at run time by KernelIsa), so the build stays baseline x86-64 (or any
// architecture: without x86 only the plain C++ variants exist).
#include "fast_kernels.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <type_traits>

#if defined(__x86_64__) && defined(__GNUC__)
#define PRUNESIM_FAST_X86 1
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (their _mm512_undefined_* operands).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cpuid.h>
#include <immintrin.h>
#else
#define PRUNESIM_FAST_X86 0
#endif

namespace prunesim {

#if PRUNESIM_FAST_X86
namespace {
// AVX-VNNI is CPUID leaf 7, sub-leaf 1, EAX bit 4; read directly because clang 14 (the fuzz and
// sanitizer builds' compiler) has no "avxvnni" name for __builtin_cpu_supports. The OS's YMM
// state is checked by the AVX2 test this goes with.
bool cpu_has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> 4) & 1u;
}
}  // namespace
#endif

bool kernel_isa_supported(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::Auto:
    case KernelIsa::Scalar:
      return true;
#if PRUNESIM_FAST_X86
    case KernelIsa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KernelIsa::AvxVnni:
      return kernel_isa_supported(KernelIsa::Avx2) && cpu_has_avx_vnni();
    case KernelIsa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
#else
    default:
      return false;
#endif
  }
  return false;
}

KernelIsa best_kernel_isa() {
  static const KernelIsa best = [] {
    for (KernelIsa i : {KernelIsa::Avx512, KernelIsa::AvxVnni, KernelIsa::Avx2})
      if (kernel_isa_supported(i)) return i;
    return KernelIsa::Scalar;
  }();
  return best;
}

const char* kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::Auto:
      return kernel_isa_name(best_kernel_isa());
    case KernelIsa::Scalar:
      return "scalar";
    case KernelIsa::Avx2:
      return "avx2";
    case KernelIsa::AvxVnni:
      return "avx-vnni";
    case KernelIsa::Avx512:
      return "avx512-vnni";
  }
  return "?";
}

namespace {
std::atomic<int> g_threads{0};
}  // namespace

void set_exec_threads(int n) {
  g_threads = std::max(0, n);
}

int exec_threads() {
  const int t = g_threads.load();
  return t > 0 ? t : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

namespace fast {

int thread_count(int asked, int64_t samples) {
  const int t = asked > 0 ? asked : exec_threads();
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(t, samples)));
}

namespace {

KernelIsa resolve(KernelIsa isa) {
  if (isa == KernelIsa::Auto) return best_kernel_isa();
  return kernel_isa_supported(isa) ? isa : KernelIsa::Scalar;
}

int32_t word(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Calls f(std::integral_constant<int, R>{}, m) for blocks of MR rows from row m, then once for
// the R < MR rows left: every kernel gets a compile-time row count (its accumulators in registers).
template <int R, class F>
inline void tail_rows(int left, int m, const F& f) {
  if constexpr (R > 0) {
    if (left == R)
      f(std::integral_constant<int, R>{}, m);
    else
      tail_rows<R - 1>(left, m, f);
  }
}
template <int MR, class F>
inline void row_blocks(int M, const F& f) {
  int m = 0;
  for (; m + MR <= M; m += MR) f(std::integral_constant<int, MR>{}, m);
  tail_rows<MR - 1>(M - m, m, f);
}

// ------------------------------------------------------------------ plain C++ (any CPU)
void gemm_u8s8_scalar(int M, int K4, int NT, const int8_t* W, const uint8_t* X, const int32_t* comp,
                      int32_t* acc) {
  for (int m = 0; m < M; ++m) {
    uint32_t* row = reinterpret_cast<uint32_t*>(acc + m * NT);
    for (int p = 0; p < NT; ++p) row[p] = static_cast<uint32_t>(comp[m]);
    for (int k = 0; k < K4; ++k) {
      const int8_t* w = W + (m * K4 + k) * 4;
      const uint8_t* x = X + k * NT * 4;
      for (int p = 0; p < NT; ++p) {
        const int32_t s = x[4 * p] * w[0] + x[4 * p + 1] * w[1] + x[4 * p + 2] * w[2] +
                          x[4 * p + 3] * w[3];  // |s| <= 4 * 255 * 127: no overflow
        row[p] += static_cast<uint32_t>(s);
      }
    }
  }
}

void gemm_f64_scalar(int M, int K, int NT, const double* W, const double* X, double* acc) {
  for (int m = 0; m < M; ++m) {
    double* row = acc + m * NT;
    for (int p = 0; p < NT; ++p) row[p] = 0.0;
    for (int k = 0; k < K; ++k) {
      const double w = W[m * K + k];
      const double* x = X + k * NT;
      for (int p = 0; p < NT; ++p) row[p] += w * x[p];
    }
  }
}

void requant_scalar(int n, const int32_t* acc, hls::Requant r, int8_t lo, int8_t hi, int8_t* y) {
  for (int p = 0; p < n; ++p) y[p] = hls::requantize_clamp(acc[p], r, lo, hi);
}

void quantize_scalar(size_t n, const float* x, float scale, int8_t* out) {
  for (size_t k = 0; k < n; ++k) out[k] = hls::quantize_value(x[k], scale);
}

// Shared body of the depthwise row; the target variants below only change code generation.
inline __attribute__((always_inline)) void dw_row_body(int n, int taps, const int8_t* x,
                                                       const int64_t* off, int stride,
                                                       const int8_t* w, int32_t* acc_s) {
  uint32_t* acc = reinterpret_cast<uint32_t*>(acc_s);
  for (int t = 0; t < taps; ++t) {
    const int32_t wt = w[t];
    const int8_t* xr = x + off[t];
    if (stride == 1) {
      for (int o = 0; o < n; ++o) acc[o] += static_cast<uint32_t>(xr[o] * wt);
    } else {
      for (int o = 0; o < n; ++o) acc[o] += static_cast<uint32_t>(xr[o * stride] * wt);
    }
  }
}

inline __attribute__((always_inline)) void dw_row_f64_body(int n, int taps, const float* x,
                                                           const int64_t* off, const double* w,
                                                           double* acc) {
  for (int t = 0; t < taps; ++t) {
    const double wt = w[t];
    const float* xr = x + off[t];
    for (int o = 0; o < n; ++o) acc[o] += static_cast<double>(xr[o]) * wt;
  }
}

void dw_row_f64_scalar(int n, int taps, const float* x, const int64_t* off, const double* w,
                       double* acc) {
  dw_row_f64_body(n, taps, x, off, w, acc);
}

void dw_row_scalar(int n, int taps, const int8_t* x, const int64_t* off, int stride,
                   const int8_t* w, int32_t* acc) {
  dw_row_body(n, taps, x, off, stride, w, acc);
}

#if PRUNESIM_FAST_X86
#define TGT512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))
#define TGTVNNI __attribute__((target("avx2,fma,avxvnni")))
#define TGT2 __attribute__((target("avx2,fma")))

// ------------------------------------------------------------------ AVX-512 VNNI
// 16 pixels per zmm; MR output rows share each X load; weights broadcast one word (4 k) at a
// time; vpdpbusd adds the four u8 x s8 products into each int32 lane (wrapping, no saturation).
template <int MR>
TGT512 void rows512(int K4, int NT, const int8_t* W, const uint8_t* X, const int32_t* comp,
                    int32_t* acc) {
  for (int p = 0; p < NT; p += 16) {
    __m512i a[MR];
    for (int r = 0; r < MR; ++r) a[r] = _mm512_set1_epi32(comp[r]);
    const uint8_t* x = X + p * 4;
    for (int k = 0; k < K4; ++k) {
      const __m512i xv = _mm512_loadu_si512(x + k * NT * 4);
      for (int r = 0; r < MR; ++r)
        a[r] = _mm512_dpbusd_epi32(a[r], xv, _mm512_set1_epi32(word(W + (r * K4 + k) * 4)));
    }
    for (int r = 0; r < MR; ++r) _mm512_storeu_si512(acc + r * NT + p, a[r]);
  }
}

TGT512 void gemm_u8s8_512(int M, int K4, int NT, const int8_t* W, const uint8_t* X,
                          const int32_t* comp, int32_t* acc) {
  row_blocks<8>(M, [&](auto mr, int m) {
    rows512<decltype(mr)::value>(K4, NT, W + m * K4 * 4, X, comp + m, acc + m * NT);
  });
}

template <int MR>
TGT512 void frows512(int K, int NT, const double* W, const double* X, double* acc) {
  for (int p = 0; p < NT; p += 16) {
    __m512d a[MR][2];
    for (int r = 0; r < MR; ++r) a[r][0] = a[r][1] = _mm512_setzero_pd();
    for (int k = 0; k < K; ++k) {
      const __m512d x0 = _mm512_loadu_pd(X + k * NT + p), x1 = _mm512_loadu_pd(X + k * NT + p + 8);
      for (int r = 0; r < MR; ++r) {
        const __m512d w = _mm512_set1_pd(W[r * K + k]);
        a[r][0] = _mm512_fmadd_pd(w, x0, a[r][0]);
        a[r][1] = _mm512_fmadd_pd(w, x1, a[r][1]);
      }
    }
    for (int r = 0; r < MR; ++r) {
      _mm512_storeu_pd(acc + r * NT + p, a[r][0]);
      _mm512_storeu_pd(acc + r * NT + p + 8, a[r][1]);
    }
  }
}

TGT512 void gemm_f64_512(int M, int K, int NT, const double* W, const double* X, double* acc) {
  row_blocks<6>(
      M, [&](auto mr, int m) { frows512<decltype(mr)::value>(K, NT, W + m * K, X, acc + m * NT); });
}

// round_shift on 8 int64 lanes then the clamp, exactly hls::requantize_clamp: the product is
// exact in 64 bits, (x + 2^(n-1) - [x < 0]) >> n rounds half away from zero, and
// "v < lo ? lo : min(v, hi)" is clamp8(sat8(v), lo, hi) for int8 bounds.
TGT512 void requant_512(int n, const int32_t* acc, hls::Requant r, int8_t lo, int8_t hi,
                        int8_t* y) {
  const __m512i mul = _mm512_set1_epi64(r.multiplier);
  const __m512i half = _mm512_set1_epi64(int64_t{1} << (r.shift - 1));
  const __m128i sh = _mm_cvtsi32_si128(r.shift);
  const __m512i vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
  int p = 0;
  for (; p + 8 <= n; p += 8) {
    const __m512i v =
        _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + p)));
    const __m512i prod = _mm512_mul_epi32(v, mul);
    const __m512i t = _mm512_add_epi64(_mm512_add_epi64(prod, half), _mm512_srai_epi64(prod, 63));
    const __m512i s = _mm512_sra_epi64(t, sh);
    const __mmask8 below = _mm512_cmplt_epi64_mask(s, vlo);
    const __m512i c = _mm512_mask_blend_epi64(below, _mm512_min_epi64(s, vhi), vlo);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + p), _mm512_cvtepi64_epi8(c));
  }
  for (; p < n; ++p) y[p] = hls::requantize_clamp(acc[p], r, lo, hi);
}

// hls::quantize_value on 8 lanes: the same double quotient; std::round as trunc plus one step
// away from zero when the (exact) fraction is at least 1/2; the same saturation. An infinite
// quotient gives a NaN fraction, no step, and saturates like the scalar code.
TGT512 void quantize_512(size_t n, const float* x, float scale, int8_t* out) {
  const __m512d s = _mm512_set1_pd(static_cast<double>(scale));
  const __m512d half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
  const __m512d sign = _mm512_set1_pd(-0.0);
  const __m512d hi = _mm512_set1_pd(hls::kInt8Max), lo = _mm512_set1_pd(hls::kInt8Min);
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m512d d = _mm512_div_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + k)), s);
    const __m512d t = _mm512_roundscale_pd(d, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512d frac = _mm512_abs_pd(_mm512_sub_pd(d, t));
    const __mmask8 up = _mm512_cmp_pd_mask(frac, half, _CMP_GE_OQ);
    const __m512d step = _mm512_or_pd(one, _mm512_and_pd(d, sign));  // +-1 with d's sign
    const __m512d r = _mm512_mask_add_pd(t, up, t, step);
    const __m512d c = _mm512_max_pd(_mm512_min_pd(r, hi), lo);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + k),
                     _mm512_cvtepi32_epi8(_mm512_castsi256_si512(_mm512_cvtpd_epi32(c))));
  }
  quantize_scalar(n - k, x + k, scale, out + k);
}

TGT512 void dw_row_512(int n, int taps, const int8_t* x, const int64_t* off, int stride,
                       const int8_t* w, int32_t* acc) {
  dw_row_body(n, taps, x, off, stride, w, acc);
}

TGT512 void dw_row_f64_512(int n, int taps, const float* x, const int64_t* off, const double* w,
                           double* acc) {
  dw_row_f64_body(n, taps, x, off, w, acc);
}

// ------------------------------------------------------------------ AVX-VNNI (256-bit)
template <int MR>
TGTVNNI void rows_vnni(int K4, int NT, const int8_t* W, const uint8_t* X, const int32_t* comp,
                       int32_t* acc) {
  for (int p = 0; p < NT; p += 16) {
    __m256i a[MR][2];
    for (int r = 0; r < MR; ++r) a[r][0] = a[r][1] = _mm256_set1_epi32(comp[r]);
    const uint8_t* x = X + p * 4;
    for (int k = 0; k < K4; ++k) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k * NT * 4));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k * NT * 4 + 32));
      for (int r = 0; r < MR; ++r) {
        const __m256i w = _mm256_set1_epi32(word(W + (r * K4 + k) * 4));
        a[r][0] = _mm256_dpbusd_avx_epi32(a[r][0], x0, w);
        a[r][1] = _mm256_dpbusd_avx_epi32(a[r][1], x1, w);
      }
    }
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * NT + p), a[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * NT + p + 8), a[r][1]);
    }
  }
}

TGTVNNI void gemm_u8s8_vnni(int M, int K4, int NT, const int8_t* W, const uint8_t* X,
                            const int32_t* comp, int32_t* acc) {
  row_blocks<4>(M, [&](auto mr, int m) {
    rows_vnni<decltype(mr)::value>(K4, NT, W + m * K4 * 4, X, comp + m, acc + m * NT);
  });
}

// ------------------------------------------------------------------ AVX2
// No vpdpbusd: the u8 and s8 operands are widened to int16 and vpmaddwd adds products in
// pairs (exact: |pair| <= 2 * 255 * 127); each 8-pixel block keeps two accumulators (pixels 0-3
// and 4-7, two partial sums per pixel) summed pairwise once at the end.
template <int MR>
TGT2 void rows_avx2(int K4, int NT, const int8_t* W, const uint8_t* X, const int32_t* comp,
                    int32_t* acc) {
  for (int p = 0; p < NT; p += 8) {
    __m256i lo[MR], hi[MR];
    for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
    const uint8_t* x = X + p * 4;
    for (int k = 0; k < K4; ++k) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k * NT * 4));
      const __m256i xl = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(xv));
      const __m256i xh = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(xv, 1));
      for (int r = 0; r < MR; ++r) {
        const int8_t* w = W + (r * K4 + k) * 4;
        const __m256i wv = _mm256_setr_epi16(w[0], w[1], w[2], w[3], w[0], w[1], w[2], w[3], w[0],
                                             w[1], w[2], w[3], w[0], w[1], w[2], w[3]);
        lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(xl, wv));
        hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(xh, wv));
      }
    }
    for (int r = 0; r < MR; ++r) {
      // hadd gives pixels [0 1 4 5 | 2 3 6 7]; the 64-bit permute puts them in order.
      const __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[r], hi[r]), 0xD8);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * NT + p),
                          _mm256_add_epi32(s, _mm256_set1_epi32(comp[r])));
    }
  }
}

TGT2 void gemm_u8s8_avx2(int M, int K4, int NT, const int8_t* W, const uint8_t* X,
                         const int32_t* comp, int32_t* acc) {
  row_blocks<4>(M, [&](auto mr, int m) {
    rows_avx2<decltype(mr)::value>(K4, NT, W + m * K4 * 4, X, comp + m, acc + m * NT);
  });
}

template <int MR>
TGT2 void frows_avx2(int K, int NT, const double* W, const double* X, double* acc) {
  for (int p = 0; p < NT; p += 16) {
    __m256d a[MR][4];
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < 4; ++v) a[r][v] = _mm256_setzero_pd();
    for (int k = 0; k < K; ++k) {
      __m256d x[4];
      for (int v = 0; v < 4; ++v) x[v] = _mm256_loadu_pd(X + k * NT + p + 4 * v);
      for (int r = 0; r < MR; ++r) {
        const __m256d w = _mm256_set1_pd(W[r * K + k]);
        for (int v = 0; v < 4; ++v) a[r][v] = _mm256_fmadd_pd(w, x[v], a[r][v]);
      }
    }
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < 4; ++v) _mm256_storeu_pd(acc + r * NT + p + 4 * v, a[r][v]);
  }
}

TGT2 void gemm_f64_avx2(int M, int K, int NT, const double* W, const double* X, double* acc) {
  row_blocks<3>(M, [&](auto mr, int m) {
    frows_avx2<decltype(mr)::value>(K, NT, W + m * K, X, acc + m * NT);
  });
}

TGT2 void dw_row_avx2(int n, int taps, const int8_t* x, const int64_t* off, int stride,
                      const int8_t* w, int32_t* acc) {
  dw_row_body(n, taps, x, off, stride, w, acc);
}
TGT2 void dw_row_f64_avx2(int n, int taps, const float* x, const int64_t* off, const double* w,
                          double* acc) {
  dw_row_f64_body(n, taps, x, off, w, acc);
}
#endif  // PRUNESIM_FAST_X86

}  // namespace

void gemm_u8s8(KernelIsa isa, int M, int K4, int NT, const int8_t* W, const uint8_t* X,
               const int32_t* comp, int32_t* acc) {
  switch (resolve(isa)) {
#if PRUNESIM_FAST_X86
    case KernelIsa::Avx512:
      return gemm_u8s8_512(M, K4, NT, W, X, comp, acc);
    case KernelIsa::AvxVnni:
      return gemm_u8s8_vnni(M, K4, NT, W, X, comp, acc);
    case KernelIsa::Avx2:
      return gemm_u8s8_avx2(M, K4, NT, W, X, comp, acc);
#endif
    default:
      return gemm_u8s8_scalar(M, K4, NT, W, X, comp, acc);
  }
}

void gemm_f64(KernelIsa isa, int M, int K, int NT, const double* W, const double* X, double* acc) {
  switch (resolve(isa)) {
#if PRUNESIM_FAST_X86
    case KernelIsa::Avx512:
      return gemm_f64_512(M, K, NT, W, X, acc);
    case KernelIsa::AvxVnni:
    case KernelIsa::Avx2:
      return gemm_f64_avx2(M, K, NT, W, X, acc);
#endif
    default:
      return gemm_f64_scalar(M, K, NT, W, X, acc);
  }
}

void requant_row(KernelIsa isa, int n, const int32_t* acc, hls::Requant r, int8_t lo, int8_t hi,
                 int8_t* y) {
#if PRUNESIM_FAST_X86
  if (resolve(isa) == KernelIsa::Avx512) return requant_512(n, acc, r, lo, hi, y);
#endif
  requant_scalar(n, acc, r, lo, hi, y);
}

void quantize_row(KernelIsa isa, size_t n, const float* x, float scale, int8_t* out) {
#if PRUNESIM_FAST_X86
  if (resolve(isa) == KernelIsa::Avx512) return quantize_512(n, x, scale, out);
#endif
  quantize_scalar(n, x, scale, out);
}

void dw_row(KernelIsa isa, int n, int taps, const int8_t* x, const int64_t* off, int stride,
            const int8_t* w, int32_t* acc) {
  switch (resolve(isa)) {
#if PRUNESIM_FAST_X86
    case KernelIsa::Avx512:
      return dw_row_512(n, taps, x, off, stride, w, acc);
    case KernelIsa::AvxVnni:
    case KernelIsa::Avx2:
      return dw_row_avx2(n, taps, x, off, stride, w, acc);
#endif
    default:
      return dw_row_scalar(n, taps, x, off, stride, w, acc);
  }
}

void dw_row_f64(KernelIsa isa, int n, int taps, const float* x, const int64_t* off, const double* w,
                double* acc) {
  switch (resolve(isa)) {
#if PRUNESIM_FAST_X86
    case KernelIsa::Avx512:
      return dw_row_f64_512(n, taps, x, off, w, acc);
    case KernelIsa::AvxVnni:
    case KernelIsa::Avx2:
      return dw_row_f64_avx2(n, taps, x, off, w, acc);
#endif
    default:
      return dw_row_f64_scalar(n, taps, x, off, w, acc);
  }
}

}  // namespace fast
}  // namespace prunesim
