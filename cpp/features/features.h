// CPU feature kernels equal to torchaudio 0.13: Spectrogram, MelSpectrogram, MFCC and
// torchaudio.compliance.kaldi fbank / mfcc. Plain C++17 on libtorch (no Node).
//
// Every transform is computed frame by frame in one fused pass (framing with the padding done by
// index arithmetic, window, real FFT, power, sparse mel filterbank, log, DCT) with no full-size
// intermediate tensors; FFT plans and filterbanks are built once per option set and cached.
// Work is split over frames (one clip) or clips (batch) with at::parallel_for, so libtorch's
// intra-op thread count (voxqc::useIntraOpThreads) sets how many threads run.
//
// Layout: every output is row-major [frames][bins] float32 (torchaudio returns [bins][frames]).
// Errors: voxqc::Error with ErrorCode::InvalidArg (ERR_INVALID_ARG) naming the option, the
// accepted range and the value received; NaN/Inf samples are reported with their index and time.
// Clips too short for one frame behave as torchaudio does: Spectrogram/Mel/MFCC with center and
// padMode reflect need more than nFft/2 samples, without center at least nFft (both errors, as in
// torch.stft); constant/replicate padding accepts any non-empty clip. torchaudio's Kaldi
// functions raise for clips shorter than one window (frameLength), with snipEdges either way:
// so do these. A Kaldi clip shorter than minDuration gives 0 frames (a valid, empty result).
#pragma once

#include <cstddef>
#include <vector>

#include "features/options.h"

namespace at {
class Tensor;
}

namespace voxqc::features {

struct FeatureShape {
  size_t frames = 0;
  size_t bins = 0;  // values per frame (nFft/2+1, nMels, nMfcc, numMelBins + useEnergy, numCeps)
  size_t size() const { return frames * bins; }
};

// --- torchaudio.transforms.Spectrogram -------------------------------------------------------
// Shape of the result for a clip of numSamples samples; validates the options and the length.
FeatureShape spectrogramShape(size_t numSamples, const SpectrogramOptions& opts);
// Writes spectrogramShape(n).size() floats to out, [frame][bin].
void spectrogramInto(const float* samples, size_t n, const SpectrogramOptions& opts, float* out);
std::vector<float> spectrogram(const float* samples, size_t n, const SpectrogramOptions& opts);
// samples: 1-D float32 CPU tensor (made contiguous if needed). Returns [frames][bins].
at::Tensor spectrogram(const at::Tensor& samples, const SpectrogramOptions& opts);

// --- torchaudio.transforms.MelSpectrogram ----------------------------------------------------
FeatureShape melSpectrogramShape(size_t numSamples, const MelSpectrogramOptions& opts);
void melSpectrogramInto(const float* samples, size_t n, const MelSpectrogramOptions& opts, float* out);
std::vector<float> melSpectrogram(const float* samples, size_t n, const MelSpectrogramOptions& opts);
at::Tensor melSpectrogram(const at::Tensor& samples, const MelSpectrogramOptions& opts);

// --- torchaudio.transforms.MFCC ----------------------------------------------------------------
FeatureShape mfccShape(size_t numSamples, const MfccOptions& opts);
void mfccInto(const float* samples, size_t n, const MfccOptions& opts, float* out);
std::vector<float> mfcc(const float* samples, size_t n, const MfccOptions& opts);
at::Tensor mfcc(const at::Tensor& samples, const MfccOptions& opts);

// --- torchaudio.compliance.kaldi.fbank ----------------------------------------------------------
FeatureShape kaldiFbankShape(size_t numSamples, const KaldiFbankOptions& opts);
void kaldiFbankInto(const float* samples, size_t n, const KaldiFbankOptions& opts, float* out);
std::vector<float> kaldiFbank(const float* samples, size_t n, const KaldiFbankOptions& opts);
at::Tensor kaldiFbank(const at::Tensor& samples, const KaldiFbankOptions& opts);

// --- torchaudio.compliance.kaldi.mfcc -----------------------------------------------------------
FeatureShape kaldiMfccShape(size_t numSamples, const KaldiMfccOptions& opts);
void kaldiMfccInto(const float* samples, size_t n, const KaldiMfccOptions& opts, float* out);
std::vector<float> kaldiMfcc(const float* samples, size_t n, const KaldiMfccOptions& opts);
at::Tensor kaldiMfcc(const at::Tensor& samples, const KaldiMfccOptions& opts);

// --- batches ----------------------------------------------------------------------------------
// Many clips with one option set: clips[i] has lengths[i] samples and its result goes to outs[i]
// (xxxShape(lengths[i]).size() floats each). Every clip is validated before any work starts
// (messages name the clip index). Threads split the clips; clips much longer than the rest are
// split by frames instead. Results are bit-identical to the per-clip calls.
void spectrogramBatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                          const SpectrogramOptions& opts, const std::vector<float*>& outs);
void melSpectrogramBatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                             const MelSpectrogramOptions& opts, const std::vector<float*>& outs);
void mfccBatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                   const MfccOptions& opts, const std::vector<float*>& outs);
void kaldiFbankBatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                         const KaldiFbankOptions& opts, const std::vector<float*>& outs);
void kaldiMfccBatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                        const KaldiMfccOptions& opts, const std::vector<float*>& outs);
// Convenience: allocates each result ([frames][bins] row-major; shapes from xxxShape).
std::vector<std::vector<float>> spectrogramBatch(const std::vector<const float*>& clips,
                                                 const std::vector<size_t>& lengths,
                                                 const SpectrogramOptions& opts);
std::vector<std::vector<float>> melSpectrogramBatch(const std::vector<const float*>& clips,
                                                    const std::vector<size_t>& lengths,
                                                    const MelSpectrogramOptions& opts);
std::vector<std::vector<float>> mfccBatch(const std::vector<const float*>& clips,
                                          const std::vector<size_t>& lengths, const MfccOptions& opts);
std::vector<std::vector<float>> kaldiFbankBatch(const std::vector<const float*>& clips,
                                                const std::vector<size_t>& lengths,
                                                const KaldiFbankOptions& opts);
std::vector<std::vector<float>> kaldiMfccBatch(const std::vector<const float*>& clips,
                                               const std::vector<size_t>& lengths,
                                               const KaldiMfccOptions& opts);

// Which FFT the kernels use: "fftw3f" (FFTW, single precision) or "builtin" (fallback).
const char* fftBackend();
// Which SIMD path the hot loops take on this CPU: "avx2+fma" or "generic".
const char* simdPath();

}  // namespace voxqc::features
