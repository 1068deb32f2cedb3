// Fused attention on the GPU (see kernels.h): FlashAttention-2 style forward with an online softmax
// over key tiles, key-padding masks and an optional causal mask; backward recomputing the
// probabilities from q, k and the saved logsumexp. CUDA runtime only (no torch).
//
// Kernels:
//   kvLenKernel   per batch item, the last unpadded key + 1: key tiles past it are never loaded,
//                 so a padded batch costs what its real lengths cost (the point of the op).
//   fwdMma<T,DP>  fp16/bf16 forward on the tensor cores (mma.sync m16n8k16, fp32 accumulators):
//                 4 warps x 16 query rows, 64-key tiles of K (row-major, +16 B padding) and V
//                 (transposed) in shared memory; S = QK^T, mask, online softmax in registers, P
//                 re-packed as the A operand of P V without leaving registers.
//   fwdSimt<T,DP> fp32 (and fallback) forward: one thread per query row, q and the accumulator in
//                 registers, K/V tiles broadcast from shared memory, softmax rescaled every 16 keys.
//   deltaKernel   delta_i = dO_i . O_i.
//   bwdDq<T,DP>   dq: a thread pair per query row (each half of D), loops over key tiles.
//   bwdDkDv<T,DP> dk, dv: a thread pair per key, loops over query tiles (causal: from the key on).
//   No atomics: dq and dk/dv are separate passes, so results are deterministic.
// DP is the head size rounded up to 32 or 64 (D <= 64).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "cuda/kernels.h"

namespace voxqc::cuda {
namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

template <typename T>
__device__ __forceinline__ float toF(T v);
template <>
__device__ __forceinline__ float toF<float>(float v) { return v; }
template <>
__device__ __forceinline__ float toF<__half>(__half v) { return __half2float(v); }
template <>
__device__ __forceinline__ float toF<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T fromF(float v);
template <>
__device__ __forceinline__ float fromF<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half fromF<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 fromF<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

struct Dims {
  int B, H, Lq, Lk, D;
  float scale;
  int causal;
};

__global__ void kvLenKernel(const uint8_t* __restrict__ pad, int Lk, int* __restrict__ kvLen) {
  __shared__ int sLast;
  const int b = blockIdx.x;
  if (threadIdx.x == 0) sLast = -1;
  __syncthreads();
  int last = -1;
  if (pad) {
    for (int j = threadIdx.x; j < Lk; j += blockDim.x)
      if (!pad[static_cast<int64_t>(b) * Lk + j]) last = j;
  } else {
    last = Lk - 1;
  }
  if (last >= 0) atomicMax(&sLast, last);
  __syncthreads();
  if (threadIdx.x == 0) kvLen[b] = sLast + 1;
}

// ---------------------------------------------------------------------------------------------
// SIMT forward: one thread per query row.
template <typename T, int DP>
__global__ void __launch_bounds__(128) fwdSimt(Dims dm, const T* __restrict__ q, const T* __restrict__ k,
                                               const T* __restrict__ v, const uint8_t* __restrict__ pad,
                                               const int* __restrict__ kvLen, T* __restrict__ out,
                                               float* __restrict__ lse) {
  constexpr int BC = 64, BR = 128, CH = 16;
  __shared__ float sK[BC][DP];
  __shared__ float sV[BC][DP];
  __shared__ int sOk[BC];
  const int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * BR, tid = threadIdx.x;
  const int i = i0 + tid;
  const int D = dm.D;
  const int64_t bh = static_cast<int64_t>(b) * dm.H + h;
  const T* Q = q + bh * dm.Lq * D;
  const T* K = k + bh * dm.Lk * D;
  const T* V = v + bh * dm.Lk * D;
  const float sl2 = dm.scale * kLog2e;
  float qr[DP], acc[DP];
#pragma unroll
  for (int d = 0; d < DP; ++d) {
    qr[d] = (i < dm.Lq && d < D) ? toF(Q[static_cast<int64_t>(i) * D + d]) * sl2 : 0.f;
    acc[d] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  int kEnd = kvLen[b];
  if (dm.causal && kEnd > i0 + BR) kEnd = i0 + BR;
  for (int kt = 0; kt < kEnd; kt += BC) {
    for (int e = tid; e < BC * DP; e += BR) {
      const int r = e / DP, d = e - r * DP, j = kt + r;
      const bool in = j < dm.Lk && d < D;
      sK[r][d] = in ? toF(K[static_cast<int64_t>(j) * D + d]) : 0.f;
      sV[r][d] = in ? toF(V[static_cast<int64_t>(j) * D + d]) : 0.f;
    }
    for (int r = tid; r < BC; r += BR) {
      const int j = kt + r;
      sOk[r] = j < kEnd && (!pad || !pad[static_cast<int64_t>(b) * dm.Lk + j]);
    }
    __syncthreads();
    for (int jc = 0; jc < BC; jc += CH) {
      float s[CH];
      float cmax = -INFINITY;
#pragma unroll
      for (int jj = 0; jj < CH; ++jj) {
        float dot = 0.f;
#pragma unroll
        for (int d = 0; d < DP; ++d) dot = fmaf(qr[d], sK[jc + jj][d], dot);
        const int j = kt + jc + jj;
        const bool ok = sOk[jc + jj] && (!dm.causal || j <= i);
        s[jj] = ok ? dot : -INFINITY;
        cmax = fmaxf(cmax, s[jj]);
      }
      const float mNew = fmaxf(m, cmax);
      if (mNew == -INFINITY) continue;  // nothing allowed yet for this row
      const float alpha = exp2f(m - mNew);
      l *= alpha;
#pragma unroll
      for (int d = 0; d < DP; ++d) acc[d] *= alpha;
#pragma unroll
      for (int jj = 0; jj < CH; ++jj) {
        const float pj = exp2f(s[jj] - mNew);
        l += pj;
#pragma unroll
        for (int d = 0; d < DP; ++d) acc[d] = fmaf(pj, sV[jc + jj][d], acc[d]);
      }
      m = mNew;
    }
    __syncthreads();
  }
  if (i < dm.Lq) {
    const float inv = l > 0.f ? 1.f / l : 0.f;
    T* O = out + (bh * dm.Lq + i) * D;
#pragma unroll
    for (int d = 0; d < DP; ++d)
      if (d < D) O[d] = fromF<T>(acc[d] * inv);
    lse[bh * dm.Lq + i] = l > 0.f ? (m + log2f(l)) * kLn2 : -INFINITY;
  }
}

// ---------------------------------------------------------------------------------------------
// Tensor-core forward (fp16 / bf16), sm_80+.
template <typename T>
__device__ __forceinline__ uint32_t pack2(float a, float b);
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float a, float b) {
  __half2 v = __floats2half2_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&v);
}
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float a, float b) {
  __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&v);
}

template <typename T>
__device__ __forceinline__ void mma16816(float* c, const uint32_t* a, uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<__half>(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

template <typename T, int DP>
__global__ void __launch_bounds__(128) fwdMma(Dims dm, const T* __restrict__ q, const T* __restrict__ k,
                                              const T* __restrict__ v, const uint8_t* __restrict__ pad,
                                              const int* __restrict__ kvLen, T* __restrict__ out,
                                              float* __restrict__ lse) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  constexpr int BC = 64, BR = 64, KS = DP + 8, VS = BC + 8, NT = BC / 8, DT = DP / 8;
  __shared__ __align__(16) T sK[BC * KS];
  __shared__ __align__(16) T sVt[DP * VS];
  __shared__ int sOk[BC];
  const int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * BR;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tg = lane & 3;
  const int D = dm.D;
  const int64_t bh = static_cast<int64_t>(b) * dm.H + h;
  const T* Q = q + bh * dm.Lq * D;
  const T* K = k + bh * dm.Lk * D;
  const T* V = v + bh * dm.Lk * D;
  const int rowA = i0 + warp * 16 + g, rowB = rowA + 8;
  const float sl2 = dm.scale * kLog2e;

  auto ldq = [&](int row, int col) -> uint32_t {
    if (row >= dm.Lq || col >= D) return 0u;
    return *reinterpret_cast<const uint32_t*>(Q + static_cast<int64_t>(row) * D + col);
  };
  uint32_t qa[DP / 16][4];
#pragma unroll
  for (int kk = 0; kk < DP / 16; ++kk) {
    const int c0 = kk * 16 + tg * 2;
    qa[kk][0] = ldq(rowA, c0);
    qa[kk][1] = ldq(rowB, c0);
    qa[kk][2] = ldq(rowA, c0 + 8);
    qa[kk][3] = ldq(rowB, c0 + 8);
  }
  float o[DT][4];
#pragma unroll
  for (int dt = 0; dt < DT; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.f, 0.f};

  int kEnd = kvLen[b];
  if (dm.causal && kEnd > i0 + BR) kEnd = i0 + BR;
  for (int kt = 0; kt < kEnd; kt += BC) {
    for (int c = tid; c < BC * DP / 8; c += 128) {
      const int r = c / (DP / 8), d8 = (c - r * (DP / 8)) * 8, j = kt + r;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (j < dm.Lk && d8 < D) {
        kv = *reinterpret_cast<const uint4*>(K + static_cast<int64_t>(j) * D + d8);
        vv = *reinterpret_cast<const uint4*>(V + static_cast<int64_t>(j) * D + d8);
      }
      *reinterpret_cast<uint4*>(&sK[r * KS + d8]) = kv;
      const T* ve = reinterpret_cast<const T*>(&vv);
#pragma unroll
      for (int e = 0; e < 8; ++e) sVt[(d8 + e) * VS + r] = ve[e];
    }
    for (int r = tid; r < BC; r += 128) {
      const int j = kt + r;
      sOk[r] = j < kEnd && (!pad || !pad[static_cast<int64_t>(b) * dm.Lk + j]);
    }
    __syncthreads();

    float s[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < DP / 16; ++kk) {
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const T* kp = &sK[(nt * 8 + g) * KS + kk * 16 + tg * 2];
        mma16816<T>(s[nt], qa[kk], *reinterpret_cast<const uint32_t*>(kp),
                    *reinterpret_cast<const uint32_t*>(kp + 8));
      }
    }
    // mask, scale (log2 units), row maxima over the quad
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = nt * 8 + tg * 2 + (e & 1);
        const int row = e < 2 ? rowA : rowB;
        const bool ok = sOk[col] && (!dm.causal || kt + col <= row);
        s[nt][e] = ok ? s[nt][e] * sl2 : -INFINITY;
        mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
      }
    }
    float mUse[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float mNew = fmaxf(mrow[r], mx[r]);
      mUse[r] = mNew == -INFINITY ? 0.f : mNew;
      const float alpha = exp2f(mrow[r] - mUse[r]);
      lrow[r] *= alpha;
#pragma unroll
      for (int dt = 0; dt < DT; ++dt) {
        o[dt][2 * r] *= alpha;
        o[dt][2 * r + 1] *= alpha;
      }
      mrow[r] = mNew;
    }
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float pv = exp2f(s[nt][e] - mUse[e >> 1]);
        s[nt][e] = pv;
        lrow[e >> 1] += pv;
      }
    }
    // O += P V
#pragma unroll
    for (int kk2 = 0; kk2 < BC / 16; ++kk2) {
      uint32_t pa[4];
      pa[0] = pack2<T>(s[2 * kk2][0], s[2 * kk2][1]);
      pa[1] = pack2<T>(s[2 * kk2][2], s[2 * kk2][3]);
      pa[2] = pack2<T>(s[2 * kk2 + 1][0], s[2 * kk2 + 1][1]);
      pa[3] = pack2<T>(s[2 * kk2 + 1][2], s[2 * kk2 + 1][3]);
#pragma unroll
      for (int dt = 0; dt < DT; ++dt) {
        const T* vp = &sVt[(dt * 8 + g) * VS + kk2 * 16 + tg * 2];
        mma16816<T>(o[dt], pa, *reinterpret_cast<const uint32_t*>(vp), *reinterpret_cast<const uint32_t*>(vp + 8));
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
    lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = r == 0 ? rowA : rowB;
    if (row >= dm.Lq) continue;
    const float inv = lrow[r] > 0.f ? 1.f / lrow[r] : 0.f;
    T* O = out + (bh * dm.Lq + row) * D;
#pragma unroll
    for (int dt = 0; dt < DT; ++dt) {
      const int col = dt * 8 + tg * 2;
      if (col < D)
        *reinterpret_cast<uint32_t*>(O + col) = pack2<T>(o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
    }
    if (tg == 0) lse[bh * dm.Lq + row] = lrow[r] > 0.f ? (mrow[r] + log2f(lrow[r])) * kLn2 : -INFINITY;
  }
#endif
}

// ---------------------------------------------------------------------------------------------
// Backward.
template <typename T>
__global__ void deltaKernel(int64_t rows, int D, const T* __restrict__ o, const T* __restrict__ dout,
                            float* __restrict__ delta) {
  const int64_t r = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  float acc = 0.f;
  for (int d = lane; d < D; d += 32) acc += toF(o[r * D + d]) * toF(dout[r * D + d]);
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if (lane == 0) delta[r] = acc;
}

// Shared-memory row layout for a thread pair: the two halves of a row are one word apart in
// banks (a pad word between them), so the pair's broadcast reads do not conflict.
template <int DP>
struct PairRow {
  static constexpr int DH = DP / 2;
  static constexpr int STRIDE = DP + 2;
  __device__ static int at(int row, int d) { return row * STRIDE + d + (d >= DH ? 1 : 0); }
};

template <typename T, int DP>
__global__ void __launch_bounds__(128) bwdDq(Dims dm, const T* __restrict__ q, const T* __restrict__ k,
                                             const T* __restrict__ v, const uint8_t* __restrict__ pad,
                                             const int* __restrict__ kvLen, const float* __restrict__ lse,
                                             const float* __restrict__ delta, const T* __restrict__ dout,
                                             T* __restrict__ dq) {
  constexpr int BC = 64, ROWS = 64, DH = DP / 2;
  using L = PairRow<DP>;
  __shared__ float sK[BC * L::STRIDE];
  __shared__ float sV[BC * L::STRIDE];
  __shared__ int sOk[BC];
  const int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * ROWS, tid = threadIdx.x;
  const int i = i0 + (tid >> 1), half = tid & 1, dBase = half * DH;
  const int D = dm.D;
  const int64_t bh = static_cast<int64_t>(b) * dm.H + h;
  const T* K = k + bh * dm.Lk * D;
  const T* V = v + bh * dm.Lk * D;
  const bool rowIn = i < dm.Lq;
  float qr[DH], go[DH], acc[DH];
#pragma unroll
  for (int d = 0; d < DH; ++d) {
    const int dd = dBase + d;
    const bool in = rowIn && dd < D;
    qr[d] = in ? toF(q[(bh * dm.Lq + i) * D + dd]) : 0.f;
    go[d] = in ? toF(dout[(bh * dm.Lq + i) * D + dd]) : 0.f;
    acc[d] = 0.f;
  }
  const float l2 = rowIn ? lse[bh * dm.Lq + i] * kLog2e : -INFINITY;
  const float dl = rowIn ? delta[bh * dm.Lq + i] : 0.f;
  const bool live = rowIn && l2 != -INFINITY;
  const float sl2 = dm.scale * kLog2e;
  int kEnd = kvLen[b];
  if (dm.causal && kEnd > i0 + ROWS) kEnd = i0 + ROWS;
  for (int kt = 0; kt < kEnd; kt += BC) {
    for (int e = tid; e < BC * DP; e += 128) {
      const int r = e / DP, d = e - r * DP, j = kt + r;
      const bool in = j < dm.Lk && d < D;
      sK[L::at(r, d)] = in ? toF(K[static_cast<int64_t>(j) * D + d]) : 0.f;
      sV[L::at(r, d)] = in ? toF(V[static_cast<int64_t>(j) * D + d]) : 0.f;
    }
    for (int r = tid; r < BC; r += 128) {
      const int j = kt + r;
      sOk[r] = j < kEnd && (!pad || !pad[static_cast<int64_t>(b) * dm.Lk + j]);
    }
    __syncthreads();
#pragma unroll 2
    for (int jj = 0; jj < BC; ++jj) {
      const float* kr = sK + L::at(jj, dBase);
      const float* vr = sV + L::at(jj, dBase);
      float sp = 0.f, dp = 0.f;
#pragma unroll
      for (int d = 0; d < DH; ++d) {
        sp = fmaf(qr[d], kr[d], sp);
        dp = fmaf(go[d], vr[d], dp);
      }
      sp += __shfl_xor_sync(0xffffffffu, sp, 1);
      dp += __shfl_xor_sync(0xffffffffu, dp, 1);
      const int j = kt + jj;
      const bool ok = live && sOk[jj] && (!dm.causal || j <= i);
      const float p = ok ? exp2f(sp * sl2 - l2) : 0.f;
      const float ds = p * (dp - dl);
#pragma unroll
      for (int d = 0; d < DH; ++d) acc[d] = fmaf(ds, kr[d], acc[d]);
    }
    __syncthreads();
  }
  if (rowIn) {
#pragma unroll
    for (int d = 0; d < DH; ++d) {
      const int dd = dBase + d;
      if (dd < D) dq[(bh * dm.Lq + i) * D + dd] = fromF<T>(acc[d] * dm.scale);
    }
  }
}

template <typename T, int DP>
__global__ void __launch_bounds__(128) bwdDkDv(Dims dm, const T* __restrict__ q, const T* __restrict__ k,
                                               const T* __restrict__ v, const uint8_t* __restrict__ pad,
                                               const int* __restrict__ kvLen, const float* __restrict__ lse,
                                               const float* __restrict__ delta, const T* __restrict__ dout,
                                               T* __restrict__ dk, T* __restrict__ dv) {
  constexpr int BR = 64, KEYS = 64, DH = DP / 2;
  using L = PairRow<DP>;
  __shared__ float sQ[BR * L::STRIDE];
  __shared__ float sG[BR * L::STRIDE];
  __shared__ float sL2[BR];
  __shared__ float sDl[BR];
  const int b = blockIdx.z, h = blockIdx.y, j0 = blockIdx.x * KEYS, tid = threadIdx.x;
  const int j = j0 + (tid >> 1), half = tid & 1, dBase = half * DH;
  const int D = dm.D;
  const int64_t bh = static_cast<int64_t>(b) * dm.H + h;
  const T* Q = q + bh * dm.Lq * D;
  const T* G = dout + bh * dm.Lq * D;
  const bool keyIn = j < dm.Lk;
  const bool keyOk = keyIn && j < kvLen[b] && (!pad || !pad[static_cast<int64_t>(b) * dm.Lk + j]);
  float kr[DH], vr[DH], ak[DH], av[DH];
#pragma unroll
  for (int d = 0; d < DH; ++d) {
    const int dd = dBase + d;
    const bool in = keyIn && dd < D;
    kr[d] = in ? toF(k[(bh * dm.Lk + j) * D + dd]) : 0.f;
    vr[d] = in ? toF(v[(bh * dm.Lk + j) * D + dd]) : 0.f;
    ak[d] = av[d] = 0.f;
  }
  const float sl2 = dm.scale * kLog2e;
  if (__syncthreads_or(keyOk)) {
    const int iStart = dm.causal ? j0 : 0;
    for (int it = iStart; it < dm.Lq; it += BR) {
      for (int e = tid; e < BR * DP; e += 128) {
        const int r = e / DP, d = e - r * DP, i = it + r;
        const bool in = i < dm.Lq && d < D;
        sQ[L::at(r, d)] = in ? toF(Q[static_cast<int64_t>(i) * D + d]) : 0.f;
        sG[L::at(r, d)] = in ? toF(G[static_cast<int64_t>(i) * D + d]) : 0.f;
      }
      for (int r = tid; r < BR; r += 128) {
        const int i = it + r;
        sL2[r] = i < dm.Lq ? lse[bh * dm.Lq + i] * kLog2e : -INFINITY;
        sDl[r] = i < dm.Lq ? delta[bh * dm.Lq + i] : 0.f;
      }
      __syncthreads();
#pragma unroll 2
      for (int ii = 0; ii < BR; ++ii) {
        const float* qi = sQ + L::at(ii, dBase);
        const float* gi = sG + L::at(ii, dBase);
        float sp = 0.f, dp = 0.f;
#pragma unroll
        for (int d = 0; d < DH; ++d) {
          sp = fmaf(qi[d], kr[d], sp);
          dp = fmaf(gi[d], vr[d], dp);
        }
        sp += __shfl_xor_sync(0xffffffffu, sp, 1);
        dp += __shfl_xor_sync(0xffffffffu, dp, 1);
        const int i = it + ii;
        const float l2 = sL2[ii];
        const bool ok = keyOk && l2 != -INFINITY && (!dm.causal || j <= i);
        const float p = ok ? exp2f(sp * sl2 - l2) : 0.f;
        const float ds = p * (dp - sDl[ii]);
#pragma unroll
        for (int d = 0; d < DH; ++d) {
          av[d] = fmaf(p, gi[d], av[d]);
          ak[d] = fmaf(ds, qi[d], ak[d]);
        }
      }
      __syncthreads();
    }
  }
  if (keyIn) {
#pragma unroll
    for (int d = 0; d < DH; ++d) {
      const int dd = dBase + d;
      if (dd < D) {
        dk[(bh * dm.Lk + j) * D + dd] = fromF<T>(ak[d] * dm.scale);
        dv[(bh * dm.Lk + j) * D + dd] = fromF<T>(av[d]);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
int deviceMajor() {
  int dev = 0, major = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return 0;
  return major;
}

template <typename T, int DP>
int launchForward(const AttnParams& p, const Dims& dm, cudaStream_t st) {
  const T* q = static_cast<const T*>(p.q);
  const T* k = static_cast<const T*>(p.k);
  const T* v = static_cast<const T*>(p.v);
  T* o = static_cast<T*>(p.out);
  if constexpr (sizeof(T) == 2) {
    const auto aligned = [](const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0; };
    const bool mma = !p.forceSimt && p.D % 8 == 0 && aligned(p.q) && aligned(p.k) && aligned(p.v) &&
                     aligned(p.out) && deviceMajor() >= 8;
    if (mma) {
      dim3 grid((p.Lq + 63) / 64, p.H, p.B);
      fwdMma<T, DP><<<grid, 128, 0, st>>>(dm, q, k, v, p.keyPad, p.kvLen, o, p.lse);
      return cudaGetLastError();
    }
  }
  {
    dim3 grid((p.Lq + 127) / 128, p.H, p.B);
    fwdSimt<T, DP><<<grid, 128, 0, st>>>(dm, q, k, v, p.keyPad, p.kvLen, o, p.lse);
  }
  return cudaGetLastError();
}

template <typename T, int DP>
int launchBackward(const AttnBwdParams& bp, const Dims& dm, cudaStream_t st) {
  const AttnParams& p = bp.fwd;
  const T* q = static_cast<const T*>(p.q);
  const T* k = static_cast<const T*>(p.k);
  const T* v = static_cast<const T*>(p.v);
  const T* g = static_cast<const T*>(bp.dout);
  const int64_t rows = static_cast<int64_t>(p.B) * p.H * p.Lq;
  if (rows > 0) {
    deltaKernel<T><<<static_cast<unsigned>((rows * 32 + 255) / 256), 256, 0, st>>>(
        rows, p.D, static_cast<const T*>(p.out), g, bp.delta);
    dim3 gq((p.Lq + 63) / 64, p.H, p.B);
    bwdDq<T, DP><<<gq, 128, 0, st>>>(dm, q, k, v, p.keyPad, p.kvLen, p.lse, bp.delta, g, static_cast<T*>(bp.dq));
  }
  if (p.Lk > 0) {  // with Lq == 0 every dk, dv is 0 (the kernel still writes them)
    dim3 gk((p.Lk + 63) / 64, p.H, p.B);
    bwdDkDv<T, DP><<<gk, 128, 0, st>>>(dm, q, k, v, p.keyPad, p.kvLen, p.lse, bp.delta, g,
                                       static_cast<T*>(bp.dk), static_cast<T*>(bp.dv));
  }
  return cudaGetLastError();
}

template <typename T>
int dispatchForward(const AttnParams& p, const Dims& dm, cudaStream_t st) {
  return p.D <= 32 ? launchForward<T, 32>(p, dm, st) : launchForward<T, 64>(p, dm, st);
}
template <typename T>
int dispatchBackward(const AttnBwdParams& p, const Dims& dm, cudaStream_t st) {
  return p.fwd.D <= 32 ? launchBackward<T, 32>(p, dm, st) : launchBackward<T, 64>(p, dm, st);
}

int checkParams(const AttnParams& p) {
  if (p.B < 0 || p.H < 0 || p.Lq < 0 || p.Lk < 0 || p.D <= 0 || p.D > 64) return cudaErrorInvalidValue;
  if (p.dtype != kAttnF32 && p.D % 2 != 0) return cudaErrorInvalidValue;
  if (!p.kvLen || !p.lse) return cudaErrorInvalidValue;
  if (p.H > 65535 || p.B > 65535) return cudaErrorInvalidValue;
  return 0;
}

}  // namespace

int attentionForward(const AttnParams& p, void* stream) {
  if (int e = checkParams(p)) return e;
  if (p.B == 0 || p.H == 0 || p.Lq == 0) return 0;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  kvLenKernel<<<p.B, 256, 0, st>>>(p.keyPad, p.Lk, p.kvLen);
  Dims dm{p.B, p.H, p.Lq, p.Lk, p.D, p.scale, p.causal};
  switch (p.dtype) {
    case kAttnF32: return dispatchForward<float>(p, dm, st);
    case kAttnF16: return dispatchForward<__half>(p, dm, st);
    case kAttnBF16: return dispatchForward<__nv_bfloat16>(p, dm, st);
    default: return cudaErrorInvalidValue;
  }
}

int attentionBackward(const AttnBwdParams& bp, void* stream) {
  const AttnParams& p = bp.fwd;
  if (int e = checkParams(p)) return e;
  if (!bp.delta || !bp.dout || !bp.dq || !bp.dk || !bp.dv) return cudaErrorInvalidValue;
  if (p.B == 0 || p.H == 0 || (p.Lq == 0 && p.Lk == 0)) return 0;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  kvLenKernel<<<p.B, 256, 0, st>>>(p.keyPad, p.Lk, p.kvLen);  // cheap; keeps backward self-contained
  Dims dm{p.B, p.H, p.Lq, p.Lk, p.D, p.scale, p.causal};
  switch (p.dtype) {
    case kAttnF32: return dispatchBackward<float>(bp, dm, st);
    case kAttnF16: return dispatchBackward<__half>(bp, dm, st);
    case kAttnBF16: return dispatchBackward<__nv_bfloat16>(bp, dm, st);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace voxqc::cuda
