// Small hot loops outside the feature and attention kernels (see simd.h for who uses them). Each
// has a plain version and an AVX2+FMA version compiled for that target only, so the library stays
// portable; the choice is made once at run time (VOXQC_SIMD=generic forces the plain one).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/simd.h"

#if defined(__x86_64__) || defined(__i386__)
#define VOXQC_SIMD_X86 1
#include <immintrin.h>
#else
#define VOXQC_SIMD_X86 0
#endif

namespace voxqc::simd {

void denseLayerGeneric(const float* x, int64_t rows, int64_t k, const float* wt, const float* bias, int64_t n,
                  bool relu, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    float* out = y + r * n;
    for (int64_t j = 0; j < n; ++j) out[j] = bias[j];
    const float* xr = x + r * k;
    for (int64_t i = 0; i < k; ++i) {
      const float v = xr[i];
      const float* w = wt + i * n;
      for (int64_t j = 0; j < n; ++j) out[j] += v * w[j];
    }
    if (relu)
      for (int64_t j = 0; j < n; ++j) out[j] = std::max(out[j], 0.0f);
  }
}

float dotFloatGeneric(const float* a, const float* b, size_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void windowRootsGeneric(const double* prefix, size_t count, size_t window, double* out) {
  for (size_t p = 0; p < count; ++p) out[p] = std::sqrt(std::max(0.0, prefix[p + window] - prefix[p]));
}

double dotProductGeneric(const float* a, const float* b, size_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int q = 0; q < 8; ++q) acc[q] += double(a[i + q]) * double(b[i + q]);
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

namespace {

#if VOXQC_SIMD_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")

// MR rows x 16 columns per tile: 2*MR accumulators, per k two weight loads and MR broadcasts.
template <int MR>
inline void denseTile(const float* x, int64_t k, const float* wt, const float* bias, int64_t n, bool relu,
                      float* y) {
  __m256 acc[MR][2];
  const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
  for (int r = 0; r < MR; ++r) acc[r][0] = b0, acc[r][1] = b1;
  for (int64_t i = 0; i < k; ++i) {
    const __m256 w0 = _mm256_loadu_ps(wt + i * n), w1 = _mm256_loadu_ps(wt + i * n + 8);
    for (int r = 0; r < MR; ++r) {
      const __m256 v = _mm256_broadcast_ss(x + r * k + i);
      acc[r][0] = _mm256_fmadd_ps(v, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(v, w1, acc[r][1]);
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  for (int r = 0; r < MR; ++r) {
    if (relu) acc[r][0] = _mm256_max_ps(acc[r][0], zero), acc[r][1] = _mm256_max_ps(acc[r][1], zero);
    _mm256_storeu_ps(y + r * n, acc[r][0]);
    _mm256_storeu_ps(y + r * n + 8, acc[r][1]);
  }
}

void denseAvx2(const float* x, int64_t rows, int64_t k, const float* wt, const float* bias, int64_t n, bool relu,
               float* y) {
  for (int64_t c = 0; c < n; c += 16) {
    int64_t r = 0;
    for (; r + 6 <= rows; r += 6) denseTile<6>(x + r * k, k, wt + c, bias + c, n, relu, y + r * n + c);
    for (; r < rows; ++r) denseTile<1>(x + r * k, k, wt + c, bias + c, n, relu, y + r * n + c);
  }
}

double dotAvx2(const float* a, const float* b, size_t n) {
  // Four independent 8-lane float chains (each lane sums n/32 products), reduced in double.
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  alignas(32) float lanes[32];
  _mm256_store_ps(lanes, s0);
  _mm256_store_ps(lanes + 8, s1);
  _mm256_store_ps(lanes + 16, s2);
  _mm256_store_ps(lanes + 24, s3);
  double s = 0;
  for (float v : lanes) s += v;
  for (; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

void windowRootsAvx2(const double* prefix, size_t count, size_t window, double* out) {
  const __m256d zero = _mm256_setzero_pd();
  size_t p = 0;
  for (; p + 4 <= count; p += 4) {
    const __m256d d = _mm256_sub_pd(_mm256_loadu_pd(prefix + p + window), _mm256_loadu_pd(prefix + p));
    _mm256_storeu_pd(out + p, _mm256_sqrt_pd(_mm256_max_pd(d, zero)));
  }
  for (; p < count; ++p) out[p] = std::sqrt(std::max(0.0, prefix[p + window] - prefix[p]));
}

float dotFloatAvx2(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  if (i + 8 <= n) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    i += 8;
  }
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float s = _mm_cvtss_f32(h);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

#pragma GCC pop_options
#endif

bool useAvx2() {
  static const bool yes = avx2Enabled("VOXQC_SIMD");
  return yes;
}

}  // namespace

bool avx2Enabled(const char* envVar) {
#if VOXQC_SIMD_X86
  if (const char* env = std::getenv(envVar))
    if (std::strcmp(env, "generic") == 0) return false;
  static const bool cpu = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return cpu;
#else
  (void)envVar;
  return false;
#endif
}

void denseLayer(const float* x, int64_t rows, int64_t k, const float* wt, const float* bias, int64_t n, bool relu,
                float* y) {
#if VOXQC_SIMD_X86
  if (n % 16 == 0 && useAvx2()) return denseAvx2(x, rows, k, wt, bias, n, relu, y);
#endif
  denseLayerGeneric(x, rows, k, wt, bias, n, relu, y);
}

double dotProduct(const float* a, const float* b, size_t n) {
#if VOXQC_SIMD_X86
  if (useAvx2()) return dotAvx2(a, b, n);
#endif
  return dotProductGeneric(a, b, n);
}

float dotFloat(const float* a, const float* b, size_t n) {
#if VOXQC_SIMD_X86
  if (useAvx2()) return dotFloatAvx2(a, b, n);
#endif
  return dotFloatGeneric(a, b, n);
}

void windowRoots(const double* prefix, size_t count, size_t window, double* out) {
#if VOXQC_SIMD_X86
  if (useAvx2()) return windowRootsAvx2(prefix, count, window, out);
#endif
  windowRootsGeneric(prefix, count, window, out);
}

const char* name() { return useAvx2() ? "avx2+fma" : "generic"; }

}  // namespace voxqc::simd
