// Small hot loops outside the feature and attention kernels, AVX2+FMA when the CPU has it
// (chosen once at run time; VOXQC_SIMD=generic forces the plain versions, which are exported too
// so tests can compare both with a double reference).
//   denseLayer   the speech-activity MLP (metrics/vad.cpp)
//   dotProduct   the repetition search's lag scan (metrics/repeat.cpp)
//   dotFloat     the resampler's polyphase filter (audio/resample.cpp)
//   windowRoots  the repetition search's Cauchy-Schwarz bound (metrics/repeat.cpp)
#pragma once

#include <cstddef>
#include <cstdint>

namespace voxqc::simd {

// Whether AVX2+FMA kernels may run: the CPU has both, and the environment variable envVar is not
// "generic" (VOXQC_SIMD here, VOXQC_FEATURES_SIMD and VOXQC_ATTENTION_SIMD for those kernels).
// Callers cache the answer.
bool avx2Enabled(const char* envVar);

// y[rows][n] = bias + x[rows][k] * wt[k][n], then max(0, .) when relu.
void denseLayer(const float* x, int64_t rows, int64_t k, const float* wt, const float* bias, int64_t n, bool relu,
                float* y);
// sum a[i] * b[i]: float products, 32 partial sums reduced in double.
double dotProduct(const float* a, const float* b, size_t n);
// sum a[i] * b[i] in float (16 partial sums): for short filters.
float dotFloat(const float* a, const float* b, size_t n);
// out[p] = sqrt(max(0, prefix[p + window] - prefix[p])) for p < count: the root energy of every
// window-long stretch, from prefix sums of squares (prefix holds count + window values).
void windowRoots(const double* prefix, size_t count, size_t window, double* out);
// "avx2+fma" or "generic".
const char* name();

void denseLayerGeneric(const float* x, int64_t rows, int64_t k, const float* wt, const float* bias, int64_t n,
                       bool relu, float* y);
double dotProductGeneric(const float* a, const float* b, size_t n);
float dotFloatGeneric(const float* a, const float* b, size_t n);
void windowRootsGeneric(const double* prefix, size_t count, size_t window, double* out);

}  // namespace voxqc::simd
