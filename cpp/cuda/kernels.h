// voxqc CUDA kernels: a plain C++ launch API on raw device pointers and sizes.
//
// No torch and no CUDA headers here: the .cu files that implement this compile against nothing
// but the CUDA runtime (so CPU machines with nvcc compile them too, target voxqc_cuda_objects),
// and the at::Tensor glue (cpp/cuda/*_torch.cpp, only when VOXQC_WITH_CUDA) calls them.
//
// Conventions: every pointer named d* / every array pointer in a params struct is device
// memory unless said otherwise; `stream` is a cudaStream_t (nullptr = the legacy default
// stream). Every function returns 0 on success or the cudaError_t of the first failing CUDA call
// (launch errors included); errorString() turns it into text. No function synchronizes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace voxqc::cuda {

const char* errorString(int code);

// ================================================================================================
// Spectral features: Spectrogram / MelSpectrogram / MFCC (torchaudio transforms) and Kaldi fbank /
// mfcc (torchaudio.compliance.kaldi), for a batch of clips of different lengths in one launch.
// One fused pass per frame block: framing (padding by index arithmetic) -> Kaldi preprocessing
// (DC offset, raw energy, pre-emphasis) -> window -> real FFT (half-size complex Stockham FFT in
// shared memory, mixed radix, fp32) -> power -> sparse mel -> log / dB -> DCT (-> energy column).
// MFCC with top_db (AmplitudeToDB) needs each clip's maximum: the first pass writes the result
// and per-frame minima and reduces per-clip maxima; a second pass recomputes only the frame
// blocks in which the top_db clamp is active (none in typical speech).
// ================================================================================================

enum SpecKind : int {
  kSpecPower = 0,   // Spectrogram: [frames][nFft/2+1]
  kSpecMel = 1,     // MelSpectrogram / Kaldi fbank: [frames][nMels (+ energy)] (logMode applies)
  kSpecCepstra = 2, // MFCC / Kaldi mfcc: log mel then DCT: [frames][nOut]
};
enum SpecFraming : int {
  kFramingStft = 0,        // torch.stft: `pad` zeros both sides, then center pad `cpad` in padMode
  kFramingKaldiSnip = 1,   // kaldi snip_edges=True: frame t = x[t*hop, t*hop+frameLen)
  kFramingKaldiReflect = 2 // kaldi snip_edges=False: reflected ends, offset kaldiPad
};
enum SpecPadMode : int { kPadConstant = 0, kPadReflect = 1, kPadReplicate = 2, kPadCircular = 3 };
enum SpecLog : int {
  kLogNone = 0,
  kLogDb = 1,       // 10 log10(max(x, 1e-10)) (AmplitudeToDB power, amin 1e-10, ref 1)
  kLogPlus1e6 = 2,  // ln(x + 1e-6) (MFCC log_mels)
  kLogKaldi = 3,    // ln(max(x, FLT_EPSILON)) (kaldi use_log_fbank)
};

constexpr int kSpecMaxStages = 24;

struct SpecPlan {
  int kind = kSpecMel;
  // --- framing ---
  int framing = kFramingStft;
  int nFft = 400;       // FFT length N (Kaldi: the padded window size)
  int frameLen = 400;   // samples read per frame (transforms: N; Kaldi: window size, rest zero)
  int hop = 200;
  int pad = 0;          // kFramingStft: zeros added both ends
  int cpad = 200;       // kFramingStft: centre padding (0 when center=false)
  int padMode = kPadReflect;
  int kaldiPad = 0;     // kFramingKaldiReflect: winSize/2 - shift/2
  // --- Kaldi per-frame preprocessing ---
  int removeDc = 0;
  float preemph = 0.f;
  int energyMode = 0;   // 0 none, 1 raw energy (before preemphasis/window), 2 after window
  float logEnergyFloor = -3.0e38f;  // log energy floored at this (-3e38: no floor)
  int energyCol = -1;   // output column that receives the log energy, -1 none
  // --- spectrum ---
  const float* window = nullptr;  // [nFft], zeros where the frame has no window
  float powerExp = 2.f;   // |X|^powerExp (2: power, 1: magnitude)
  float specScale = 1.f;  // |X| is multiplied by this first (normalized=True)
  int nBins = 201;        // nFft/2+1
  // FFT: complex length M (= N/2 when realSplit, else N), radices (product M), twiddle tables
  // tw[2*M] = exp(-2 pi i t / M) as (re, im); rtw[2*(M+1)] = exp(-2 pi i k / N) (realSplit only).
  int M = 200;
  int realSplit = 1;
  int nStages = 0;
  int radix[kSpecMaxStages] = {};
  const float* tw = nullptr;
  const float* rtw = nullptr;
  // --- mel (kind >= kSpecMel): sparse filterbank, filter m has melLen[m] weights melW[melOff[m]..]
  // applied to bins melStart[m]..  ---
  int nMels = 0;
  const int* melStart = nullptr;
  const int* melLen = nullptr;
  const int* melOff = nullptr;
  const float* melW = nullptr;
  int logMode = kLogNone;
  // --- output ---
  int nOut = 0;          // columns of the output
  int melColOffset = 0;  // kSpecMel: column of mel 0
  const float* dct = nullptr;  // kSpecCepstra: [nMels][nOut] (lifter and column order folded in)
  float topDb = 0.f;     // > 0: AmplitudeToDB top_db clamp per clip (logMode kLogDb)
  int subtractMean = 0;  // Kaldi subtract_mean: each column minus its mean over the clip
};

// Device scratch needed by specForward (bytes; 0 allowed for plans without topDb/subtractMean).
size_t specWorkspaceBytes(const SpecPlan& plan, int numClips, int64_t totalFrames);

// samples: device float32; clip c is samples[clipStart[c] .. + clipLen[c]) (device int64 arrays).
// frameOffset: device int64 [numClips + 1]: clip c's frames are out rows frameOffset[c] ..
// frameOffset[c+1] (the host computes the counts with the CPU kernels' shape functions).
// out: device float32 [totalFrames][plan.nOut].
int specForward(const SpecPlan& plan, const float* samples, const int64_t* clipStart,
                const int64_t* clipLen, const int64_t* frameOffset, int numClips, int64_t totalFrames,
                float* out, void* workspace, size_t workspaceBytes, void* stream);

// ================================================================================================
// Fused attention (FlashAttention-2 style) with key-padding masks, forward and backward.
// Semantics are those of cpp/attention/attention.h: out[b,h,i] = softmax over allowed keys of
// scale * q.k, times v; key j allowed for row i iff !keyPad[b][j] and (!causal or j <= i); rows
// with no allowed key give 0 and lse = -inf, and no gradient.
// Tensors are contiguous [B, H, L, D] of one dtype; D <= 64 and a multiple of 8 (16-bit types)
// or any D <= 64 (fp32). Accumulation is fp32; 16-bit inputs use tensor cores (mma.sync
// m16n8k16) on sm_80+ in the forward; the backward is a fp32 SIMT kernel pair (dq; dk+dv).
// ================================================================================================

enum AttnDType : int { kAttnF32 = 0, kAttnF16 = 1, kAttnBF16 = 2 };

struct AttnParams {
  int B = 0, H = 0, Lq = 0, Lk = 0, D = 0;
  float scale = 0.f;  // > 0
  int causal = 0;
  int dtype = kAttnF32;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const uint8_t* keyPad = nullptr;  // [B][Lk] bool (1 = padded) or nullptr
  void* out = nullptr;              // [B,H,Lq,D], dtype
  float* lse = nullptr;             // [B,H,Lq] natural-log logsumexp of the scaled scores
  int* kvLen = nullptr;             // scratch int[B]: last allowed key + 1 (filled here)
  int forceSimt = 0;                // 1: never use the tensor-core forward (tests)
};

int attentionForward(const AttnParams& p, void* stream);

struct AttnBwdParams {
  AttnParams fwd;             // q, k, v, keyPad, out, lse as in (and from) the forward
  const void* dout = nullptr; // [B,H,Lq,D] dtype
  float* delta = nullptr;     // scratch float [B,H,Lq]
  void* dq = nullptr;         // [B,H,Lq,D] dtype
  void* dk = nullptr;         // [B,H,Lk,D] dtype
  void* dv = nullptr;         // [B,H,Lk,D] dtype
};

int attentionBackward(const AttnBwdParams& p, void* stream);

// The __CUDA_ARCH__ the kernels run as on the current device (e.g. 900), 0 if unknown: shows
// whether the sm_90 image or a JIT-compiled PTX fallback is running.
int kernelArch();

}  // namespace voxqc::cuda
