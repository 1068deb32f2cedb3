// Fused spectral-feature kernels (see kernels.h): Spectrogram / MelSpectrogram / MFCC and Kaldi
// fbank / mfcc for a batch of variable-length clips in one launch. CUDA runtime only (no torch).
//
// Design (per thread block of F frames, 256 threads, all intermediates in shared memory):
//   1. framing: each frame's samples are fetched with the padding modes done by index arithmetic
//      (torch.stft's zero pad + centre pad reflect/constant/replicate/circular; Kaldi's snip or
//      reflected edges), consecutive frames of a clip in one block so the overlapping reads hit
//      L1/L2; 2. Kaldi preprocessing (DC offset, raw log-energy, pre-emphasis) folded into
//   3. windowing while packing the real frame x[0..N) as N/2 complex values z[n] = x[2n] + i x[2n+1];
//   4. Stockham auto-sort FFT of length M = N/2 in shared memory, mixed radix (2, 4 specialised,
//      any other prime through a generic radix-R butterfly), fp32, twiddles from a table built in
//      double precision on the host; 5. the real-FFT split X[k] = (Z[k] + Z*[M-k])/2
//      + e^{-2 pi i k/N} (Z[k] - Z*[M-k])/(2i), power |X|^p; 6. sparse mel filterbank (each
//   filter's non-zero bin range only); 7. log / dB; 8. DCT as a small dense product with the DCT
//   matrix (L1-resident) and the output row written once, coalesced.
// Why not a DFT on the tensor cores: bf16/tf32 operands carry 8/11 mantissa bits, which puts the
// error of low-energy bins (60-80 dB under a frame's peak, common in speech) far above the parity
// bound (relative L2 1e-4); 3xTF32 restores fp32 accuracy but costs ~200 GFLOP for 256 x 10 s
// at nFft 400 (~0.7 ms with mma.sync), while this FFT needs ~3.5 GFLOP and is bound by memory and
// shared-memory traffic.
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "cuda/kernels.h"

namespace voxqc::cuda {

const char* errorString(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxFrames = 16;  // frames per block (upper bound)

inline int bufStride(const SpecPlan& p) {
  int s = 2 * p.M;
  if (p.nFft > s) s = p.nFft;
  if (p.frameLen > s) s = p.frameLen;
  if (p.nBins > s) s = p.nBins;
  if (p.nMels > s) s = p.nMels;
  return (s + 3) & ~3;
}

__device__ __forceinline__ float2 cmul(float2 a, float2 b) {
  return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
__device__ __forceinline__ float2 cadd(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ __forceinline__ float2 csub(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }

__device__ __forceinline__ float fetchSample(const SpecPlan& p, const float* __restrict__ x, int64_t n,
                                             int64_t t, int j) {
  int64_t v;
  if (p.framing == kFramingStft) {
    int64_t u = t * p.hop + j - p.cpad;
    const int64_t L = n + 2 * static_cast<int64_t>(p.pad);
    if (u < 0 || u >= L) {
      switch (p.padMode) {
        case kPadReflect: u = u < 0 ? -u : 2 * (L - 1) - u; break;
        case kPadReplicate: u = u < 0 ? 0 : L - 1; break;
        case kPadCircular: u = u < 0 ? u + L : u - L; break;
        default: return 0.f;
      }
      if (u < 0 || u >= L) return 0.f;  // unreachable for validated options
    }
    v = u - p.pad;
    if (v < 0 || v >= n) return 0.f;
  } else {
    v = t * p.hop + j;
    if (p.framing == kFramingKaldiReflect) {
      v -= p.kaldiPad;
      if (v < 0) v = -v - 1;
      else if (v >= n) v = 2 * n - 1 - v;
    }
    if (v < 0) v = 0;  // defensive clamps; unreachable for validated options
    if (v >= n) v = n - 1;
  }
  return __ldg(x + v);
}

// Float max through integer atomics (ordered-int trick); *addr must start at -FLT_MAX or above.
__device__ __forceinline__ void atomicMaxFloat(float* addr, float v) {
  if (v >= 0.f) atomicMax(reinterpret_cast<int*>(addr), __float_as_int(v));
  else atomicMin(reinterpret_cast<unsigned int*>(addr), __float_as_uint(v));
}

__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void __launch_bounds__(kThreads) specKernel(SpecPlan p, int F, int stride,
                                                       const float* __restrict__ x,
                                                       const int64_t* __restrict__ clipStart,
                                                       const int64_t* __restrict__ clipLen,
                                                       const int64_t* __restrict__ frameOffset,
                                                       int numClips, int64_t totalFrames,
                                                       float* __restrict__ out, float* frameMin,
                                                       float* clipMax, int fixup) {
  extern __shared__ float4 smem4[];
  float* sm = reinterpret_cast<float*>(smem4);
  __shared__ int sClip[kMaxFrames];
  __shared__ long long sT[kMaxFrames];
  __shared__ int sValid[kMaxFrames];  // frame exists
  __shared__ int sWrite[kMaxFrames];  // frame's row is written by this pass
  __shared__ float sMean[kMaxFrames];
  __shared__ float sEnergy[kMaxFrames];
  __shared__ float sThr[kMaxFrames];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int64_t f0 = static_cast<int64_t>(blockIdx.x) * F;
  int write = 0;
  if (tid < F) {
    const int64_t g = f0 + tid;
    const int valid = g < totalFrames;
    int c = 0;
    int64_t t = 0;
    float thr = -FLT_MAX;
    if (valid) {
      int lo = 0, hi = numClips - 1;  // last clip whose first frame is <= g
      while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (frameOffset[mid] <= g) lo = mid;
        else hi = mid - 1;
      }
      c = lo;
      t = g - frameOffset[c];
      write = 1;
      if (fixup) {
        thr = clipMax[c] - p.topDb;
        write = frameMin[g] < thr;
      }
    }
    sClip[tid] = c;
    sT[tid] = t;
    sValid[tid] = valid;
    sWrite[tid] = write;
    sThr[tid] = thr;
    sMean[tid] = 0.f;
    sEnergy[tid] = 0.f;
  }
  if (fixup) {
    if (!__syncthreads_or(write)) return;  // no frame of this block needs the top_db clamp
  } else {
    __syncthreads();
  }

  const int N = p.nFft, M = p.M;
  auto bufA = [&](int f) { return sm + static_cast<size_t>(f) * 2 * stride; };
  auto bufB = [&](int f) { return sm + static_cast<size_t>(f) * 2 * stride + stride; };

  // 1. raw samples of each frame -> B (floats)
  for (int idx = tid; idx < F * N; idx += kThreads) {
    const int f = idx / N, j = idx - f * N;
    float v = 0.f;
    if (j < p.frameLen && sValid[f]) {
      const int c = sClip[f];
      v = fetchSample(p, x + clipStart[c], clipLen[c], sT[f], j);
    }
    bufB(f)[j] = v;
  }
  __syncthreads();

  // 2. Kaldi: DC offset and raw energy (one warp per frame, two passes over shared memory)
  if (p.removeDc || p.energyMode == 1) {
    for (int f = warp; f < F; f += kWarps) {
      const float* s = bufB(f);
      float mean = 0.f;
      if (p.removeDc) {
        float acc = 0.f;
        for (int j = lane; j < p.frameLen; j += 32) acc += s[j];
        mean = warpSum(acc) / static_cast<float>(p.frameLen);
      }
      if (p.energyMode == 1) {
        float acc = 0.f;
        for (int j = lane; j < p.frameLen; j += 32) {
          const float d = s[j] - mean;
          acc += d * d;
        }
        acc = warpSum(acc);
        if (lane == 0) sEnergy[f] = fmaxf(logf(fmaxf(acc, FLT_EPSILON)), p.logEnergyFloor);
      }
      if (lane == 0) sMean[f] = mean;
    }
    __syncthreads();
  }

  // 3. pre-emphasis + window, packed as complex into A
  const float c1 = p.preemph;
  auto windowed = [&](int f, int j) -> float {
    if (j >= p.frameLen) return 0.f;
    const float* s = bufB(f);
    const float mean = sMean[f];
    float v = s[j] - mean;
    if (c1 != 0.f) v -= c1 * (j > 0 ? s[j - 1] - mean : v);
    return v * __ldg(p.window + j);
  };
  for (int idx = tid; idx < F * M; idx += kThreads) {
    const int f = idx / M, n = idx - f * M;
    float2 z;
    if (p.realSplit) z = make_float2(windowed(f, 2 * n), windowed(f, 2 * n + 1));
    else z = make_float2(windowed(f, n), 0.f);
    reinterpret_cast<float2*>(bufA(f))[n] = z;
  }
  __syncthreads();
  if (p.energyMode == 2) {  // Kaldi raw_energy=False: energy of the windowed frame
    for (int f = warp; f < F; f += kWarps) {
      const float2* z = reinterpret_cast<const float2*>(bufA(f));
      float acc = 0.f;
      for (int n = lane; n < M; n += 32) acc += z[n].x * z[n].x + z[n].y * z[n].y;
      acc = warpSum(acc);
      if (lane == 0) sEnergy[f] = fmaxf(logf(fmaxf(acc, FLT_EPSILON)), p.logEnergyFloor);
    }
    // (ordered before its readers by the FFT's barriers)
  }

  // 4. Stockham FFT, A -> B -> A ...
  const float2* tw = reinterpret_cast<const float2*>(p.tw);
  bool inA = true;
  int span = 1;
  for (int s = 0; s < p.nStages; ++s) {
    const int R = p.radix[s];
    const int nb = M / R;
    const int step = M / (span * R);
    for (int idx = tid; idx < F * nb; idx += kThreads) {
      const int f = idx / nb, i = idx - f * nb;
      const float2* in = reinterpret_cast<const float2*>(inA ? bufA(f) : bufB(f));
      float2* o = reinterpret_cast<float2*>(inA ? bufB(f) : bufA(f));
      const int k = i % span;
      const int j = (i - k) * R + k;
      if (R == 2) {
        const float2 a0 = in[i];
        const float2 a1 = cmul(in[i + nb], __ldg(tw + k * step));
        o[j] = cadd(a0, a1);
        o[j + span] = csub(a0, a1);
      } else if (R == 4) {
        const float2 a0 = in[i];
        const float2 a1 = cmul(in[i + nb], __ldg(tw + k * step));
        const float2 a2 = cmul(in[i + 2 * nb], __ldg(tw + 2 * k * step));
        const float2 a3 = cmul(in[i + 3 * nb], __ldg(tw + 3 * k * step));
        const float2 s02 = cadd(a0, a2), d02 = csub(a0, a2);
        const float2 s13 = cadd(a1, a3), d13 = csub(a1, a3);
        const float2 md13 = make_float2(d13.y, -d13.x);  // -i * d13
        o[j] = cadd(s02, s13);
        o[j + span] = cadd(d02, md13);
        o[j + 2 * span] = csub(s02, s13);
        o[j + 3 * span] = csub(d02, md13);
      } else {
        // generic radix: y[j + q span] = sum_r x[i + r nb] w^(r (k + q span) step)
        for (int q = 0; q < R; ++q) {
          float2 acc = in[i];
          const int e = (k + q * span) * step;
          int t = e;
          for (int r = 1; r < R; ++r) {
            acc = cadd(acc, cmul(in[i + r * nb], __ldg(tw + t)));
            t += e;
            if (t >= M) t -= M;
          }
          o[j + q * span] = acc;
        }
      }
    }
    __syncthreads();
    inA = !inA;
    span *= R;
  }

  // 5. real split + power -> the other buffer (floats)
  const float2* rtw = reinterpret_cast<const float2*>(p.rtw);
  const float scale2 = p.specScale * p.specScale;
  const bool powerOut = p.kind == kSpecPower;
  for (int idx = tid; idx < F * p.nBins; idx += kThreads) {
    const int f = idx / p.nBins, k = idx - f * p.nBins;
    const float2* Z = reinterpret_cast<const float2*>(inA ? bufA(f) : bufB(f));
    float2 X;
    if (p.realSplit) {
      const float2 zk = Z[k == M ? 0 : k];
      const float2 zm = Z[k == 0 ? 0 : M - k];
      const float2 zc = make_float2(zm.x, -zm.y);
      const float2 sum = cadd(zk, zc), dif = csub(zk, zc);
      const float2 odd = make_float2(0.5f * dif.y, -0.5f * dif.x);  // dif / (2i)
      X = cadd(make_float2(0.5f * sum.x, 0.5f * sum.y), cmul(__ldg(rtw + k), odd));
    } else {
      X = Z[k];
    }
    const float mag2 = X.x * X.x + X.y * X.y;
    float P;
    if (p.powerExp == 2.f) P = mag2 * scale2;
    else if (p.powerExp == 1.f) P = sqrtf(mag2) * p.specScale;
    else P = powf(sqrtf(mag2) * p.specScale, p.powerExp);
    if (powerOut) {
      if (sWrite[f]) out[(f0 + f) * p.nOut + k] = P;
    } else {
      (inA ? bufB(f) : bufA(f))[k] = P;
    }
  }
  if (powerOut) return;
  __syncthreads();

  // 6. mel + log -> the FFT buffer (floats), or straight to the output row
  const bool melOut = p.kind == kSpecMel;
  for (int idx = tid; idx < F * p.nMels; idx += kThreads) {
    const int f = idx / p.nMels, m = idx - f * p.nMels;
    const float* P = inA ? bufB(f) : bufA(f);
    const int st = __ldg(p.melStart + m), len = __ldg(p.melLen + m), off = __ldg(p.melOff + m);
    float acc = 0.f;
    for (int t = 0; t < len; ++t) acc = fmaf(__ldg(p.melW + off + t), P[st + t], acc);
    float L = acc;
    switch (p.logMode) {
      case kLogDb: L = 10.f * log10f(fmaxf(acc, 1e-10f)); break;
      case kLogPlus1e6: L = logf(acc + 1e-6f); break;
      case kLogKaldi: L = logf(fmaxf(acc, FLT_EPSILON)); break;
      default: break;
    }
    if (fixup) L = fmaxf(L, sThr[f]);
    if (melOut) {
      if (sWrite[f]) {
        float* row = out + (f0 + f) * p.nOut;
        row[p.melColOffset + m] = L;
        if (m == 0 && p.energyCol >= 0) row[p.energyCol] = sEnergy[f];
      }
    } else {
      (inA ? bufA(f) : bufB(f))[m] = L;
    }
  }
  if (melOut) return;
  __syncthreads();

  // 7. top_db bookkeeping (first pass): each frame's minimum dB, each clip's maximum
  if (p.topDb > 0.f && !fixup) {
    for (int f = warp; f < F; f += kWarps) {
      if (!sValid[f]) continue;
      const float* L = inA ? bufA(f) : bufB(f);
      float mn = FLT_MAX, mx = -FLT_MAX;
      for (int m = lane; m < p.nMels; m += 32) {
        mn = fminf(mn, L[m]);
        mx = fmaxf(mx, L[m]);
      }
      for (int o = 16; o > 0; o >>= 1) {
        mn = fminf(mn, __shfl_xor_sync(0xffffffffu, mn, o));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      }
      if (lane == 0) {
        frameMin[f0 + f] = mn;
        atomicMaxFloat(clipMax + sClip[f], mx);
      }
    }
  }

  // 8. DCT (+ energy column)
  for (int idx = tid; idx < F * p.nOut; idx += kThreads) {
    const int f = idx / p.nOut, c = idx - f * p.nOut;
    if (!sWrite[f]) continue;
    float v;
    if (c == p.energyCol) {
      v = sEnergy[f];
    } else {
      const float* L = inA ? bufA(f) : bufB(f);
      float acc = 0.f;
      for (int m = 0; m < p.nMels; ++m) acc = fmaf(__ldg(p.dct + m * p.nOut + c), L[m], acc);
      v = acc;
    }
    out[(f0 + f) * p.nOut + c] = v;
  }
}

__global__ void fillKernel(float* p, int n, float v) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = v;
}

// Kaldi subtract_mean: one block per clip, columns over threads, double sums.
__global__ void subtractMeanKernel(float* out, const int64_t* frameOffset, int nOut) {
  const int c0 = blockIdx.x;
  const int64_t a = frameOffset[c0], b = frameOffset[c0 + 1];
  if (b <= a) return;
  for (int col = threadIdx.x; col < nOut; col += blockDim.x) {
    double s = 0;
    for (int64_t t = a; t < b; ++t) s += out[t * nOut + col];
    const float mean = static_cast<float>(s / static_cast<double>(b - a));
    for (int64_t t = a; t < b; ++t) out[t * nOut + col] -= mean;
  }
}

__global__ void archKernel(int* out) {
#ifdef __CUDA_ARCH__
  *out = __CUDA_ARCH__;
#else
  *out = 0;
#endif
}

inline size_t alignUp(size_t v) { return (v + 255) & ~static_cast<size_t>(255); }

}  // namespace

size_t specWorkspaceBytes(const SpecPlan& plan, int numClips, int64_t totalFrames) {
  if (!(plan.topDb > 0.f)) return 0;
  return alignUp(sizeof(float) * static_cast<size_t>(numClips)) +
         alignUp(sizeof(float) * static_cast<size_t>(totalFrames));
}

int specForward(const SpecPlan& plan, const float* samples, const int64_t* clipStart,
                const int64_t* clipLen, const int64_t* frameOffset, int numClips, int64_t totalFrames,
                float* out, void* workspace, size_t workspaceBytes, void* stream) {
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (numClips <= 0 || totalFrames <= 0) return 0;
  if (plan.M <= 0 || plan.nStages < 0 || plan.nStages > kSpecMaxStages) return cudaErrorInvalidValue;
  const int stride = bufStride(plan);
  int F = static_cast<int>((96 * 1024) / (2 * static_cast<size_t>(stride) * sizeof(float)));
  if (F > kMaxFrames) F = kMaxFrames;
  if (F < 1) F = 1;
  const size_t smem = static_cast<size_t>(F) * 2 * stride * sizeof(float);
  int dev = 0, maxOptin = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e != cudaSuccess) return e;
  e = cudaDeviceGetAttribute(&maxOptin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (e != cudaSuccess) return e;
  if (smem > static_cast<size_t>(maxOptin)) return cudaErrorInvalidValue;  // nFft too large
  if (smem > 48 * 1024) {
    e = cudaFuncSetAttribute(specKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (e != cudaSuccess) return e;
  }
  const bool topDb = plan.topDb > 0.f && plan.kind == kSpecCepstra;
  float* clipMax = nullptr;
  float* frameMin = nullptr;
  if (topDb) {
    if (!workspace || workspaceBytes < specWorkspaceBytes(plan, numClips, totalFrames))
      return cudaErrorInvalidValue;
    clipMax = static_cast<float*>(workspace);
    frameMin = reinterpret_cast<float*>(static_cast<char*>(workspace) + alignUp(sizeof(float) * numClips));
    fillKernel<<<(numClips + 255) / 256, 256, 0, st>>>(clipMax, numClips, -FLT_MAX);
  }
  SpecPlan p = plan;
  if (!topDb) p.topDb = 0.f;
  const int64_t blocks = (totalFrames + F - 1) / F;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  specKernel<<<static_cast<unsigned>(blocks), kThreads, smem, st>>>(p, F, stride, samples, clipStart, clipLen,
                                                                   frameOffset, numClips, totalFrames, out,
                                                                   frameMin, clipMax, 0);
  if (topDb) {
    specKernel<<<static_cast<unsigned>(blocks), kThreads, smem, st>>>(p, F, stride, samples, clipStart, clipLen,
                                                                     frameOffset, numClips, totalFrames, out,
                                                                     frameMin, clipMax, 1);
  }
  if (plan.subtractMean) subtractMeanKernel<<<numClips, 128, 0, st>>>(out, frameOffset, plan.nOut);
  return cudaGetLastError();
}

int kernelArch() {
  int* d = nullptr;
  int h = 0;
  if (cudaMalloc(&d, sizeof(int)) != cudaSuccess) return 0;
  archKernel<<<1, 1>>>(d);
  if (cudaMemcpy(&h, d, sizeof(int), cudaMemcpyDeviceToHost) != cudaSuccess) h = 0;
  cudaFree(d);
  return h;
}

}  // namespace voxqc::cuda
