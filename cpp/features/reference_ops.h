// The feature pipelines written with plain libtorch ops, line for line as torchaudio 0.13 writes
// them (torch.stft, matmul with the mel matrix, amplitude_to_DB, DCT matrix, Kaldi's strided
// frames). A benchmark peer and a cross-check for the fused kernels in features.h; not a
// product path. Also home of the constant builders (windows, mel filterbanks, DCT matrices),
// which the fused kernels reuse so that both paths share torchaudio's float32 constants exactly.
//
// Inputs: a 1-D float32 CPU tensor (the clip). Outputs: float32 [frames][bins] (torchaudio's
// [bins][frames] transposed), the same layout as features.h. Options are validated the same way
// as the fused kernels (voxqc::Error, ERR_INVALID_ARG).
#pragma once

#include <ATen/core/Tensor.h>

#include "features/options.h"

namespace voxqc::features::ref {

at::Tensor spectrogram(const at::Tensor& samples, const SpectrogramOptions& opts);
at::Tensor melSpectrogram(const at::Tensor& samples, const MelSpectrogramOptions& opts);
at::Tensor mfcc(const at::Tensor& samples, const MfccOptions& opts);
at::Tensor kaldiFbank(const at::Tensor& samples, const KaldiFbankOptions& opts);
at::Tensor kaldiMfcc(const at::Tensor& samples, const KaldiMfccOptions& opts);

// --- constants, built with torch ops as torchaudio builds them (float32) ---

// window_fn(winLength) of the transforms (periodic windows): [winLength].
at::Tensor transformWindow(WindowType type, int64_t winLength);
// torchaudio.functional.melscale_fbanks(nFreqs, fMin, fMax, nMels, sampleRate, norm, melScale):
// [nFreqs][nMels]. fMax must already be resolved (no 0 = default here).
at::Tensor melFilterbank(int64_t nFreqs, double fMin, double fMax, int64_t nMels, int64_t sampleRate,
                         MelNorm norm, MelScale melScale);
// torchaudio.functional.create_dct(nMfcc, nMels, norm): [nMels][nMfcc].
at::Tensor createDct(int64_t nMfcc, int64_t nMels, DctNorm norm);
// kaldi._feature_window_function(type, size, blackmanCoeff): [size] (symmetric windows).
at::Tensor kaldiWindow(KaldiWindowType type, int64_t size, double blackmanCoeff);
// kaldi.get_mel_banks(...)[0] padded with the zero column for the Nyquist bin, as fbank() uses
// it: [numMelBins][paddedWindowSize / 2 + 1]. No VTLN warping.
at::Tensor kaldiMelBanks(int64_t numBins, int64_t paddedWindowSize, double sampleFreq, double lowFreq,
                         double highFreq);
// kaldi._get_dct_matrix(numCeps, numMelBins): [numMelBins][numCeps].
at::Tensor kaldiDctMatrix(int64_t numCeps, int64_t numMelBins);
// kaldi._get_lifter_coeffs(numCeps, cepstralLifter): [numCeps].
at::Tensor kaldiLifterCoeffs(int64_t numCeps, double cepstralLifter);

}  // namespace voxqc::features::ref
