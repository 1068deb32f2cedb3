// Internal to cpp/features: options resolved to plain numbers and validated (shared by the fused
// kernels and the libtorch-ops reference, so both refuse the same inputs with the same messages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "features/options.h"

namespace voxqc::features::detail {

// SpectrogramOptions with the None-style zeros resolved.
struct StftParams {
  int64_t nFft = 0, winLength = 0, hop = 0, pad = 0;
  int64_t cpad = 0;       // center padding: nFft / 2 when center, else 0
  int64_t winOffset = 0;  // where the window starts inside the nFft frame: (nFft - winLength) / 2
  bool center = true, onesided = true, normalized = false;
  PadMode padMode = PadMode::reflect;
  WindowType window = WindowType::hann;
  double power = 2.0;
  int sampleRate = 16000;
  int64_t bins() const { return nFft / 2 + 1; }
  int64_t outBins() const { return onesided ? nFft / 2 + 1 : nFft; }
};
StftParams resolveStft(const SpectrogramOptions& o, const char* structName);
// Frames of a clip of n samples (torch.stft's rules); throws when the clip is empty or too short.
// clip >= 0 names the clip in a batch.
int64_t stftFrames(const StftParams& p, size_t n, const char* structName, long clip = -1);

struct MelParams {
  int64_t nMels = 0;
  double fMin = 0, fMax = 0;  // fMax resolved
  int sampleRate = 16000;
  MelNorm norm = MelNorm::none;
  MelScale melScale = MelScale::htk;
};
MelParams resolveMel(const MelSpectrogramOptions& o, const StftParams& s, const char* structName);
void validateMfcc(const MfccOptions& o);

struct KaldiParams {
  int64_t winSize = 0, shift = 0, padded = 0;
  double lowFreq = 0, highFreq = 0;  // highFreq resolved (> 0)
  int64_t numMelBins = 0;
  int64_t cols = 0;                  // output columns of fbank: numMelBins + useEnergy
};
KaldiParams resolveKaldi(const KaldiFbankOptions& o, const char* structName);
void validateKaldiMfcc(const KaldiMfccOptions& o);
// Frames of a clip of n samples: throws when shorter than one window (as torchaudio asserts), 0
// when shorter than minDuration.
int64_t kaldiFrames(const KaldiFbankOptions& o, const KaldiParams& p, size_t n, const char* structName,
                    long clip = -1);

// Throws ERR_INVALID_ARG naming the first NaN/Inf sample (index and time at sampleRate).
void checkFinite(const float* x, size_t n, double sampleRate, long clip = -1);
std::string clipPrefix(long clip);  // "" or "clip 3: "

}  // namespace voxqc::features::detail
