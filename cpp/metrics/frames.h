// Internal to cpp/metrics (and the VAD training tool): the 10 ms frame analysis at 16 kHz that
// the speech-activity model, the noise estimate and the repetition search share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace voxqc::metrics::detail {

constexpr int kWorkRate = 16000;
constexpr int kHop = 160;    // 10 ms
constexpr int kWin = 400;    // 25 ms Hann, centred on the hop: frame t ~ samples [160t-120, 160t+280)
constexpr int kFft = 512;
constexpr int kBins = kFft / 2 + 1;
constexpr int kBands = 24;   // rectangular mel-spaced bands 0..8 kHz (every FFT bin in one band)

// Validates (rate, emptiness, NaN/Inf with index and time) and returns the clip at 16 kHz.
std::vector<float> toWorkRate(const float* x, size_t n, int sampleRate, const char* fn);
void validateInput(const float* x, size_t n, int sampleRate, const char* fn);

struct Frames {
  size_t count = 0;
  std::vector<float> band;   // [count][kBands] mean-square power per band (sums to frame power)
  std::vector<float> power;  // [count] frame mean square (sum of the bands)
  std::vector<float> harm;   // [count] periodicity: max normalised autocorrelation, lags 2.5-16 ms
};

// Frames of a 16 kHz signal: count = ceil(n / kHop).
Frames analyzeFrames(const float* x16k, size_t n);

// Model input features per frame (see vad.cpp for the layout); dims = kFeatureDims.
constexpr int kFrameFeat = 2 * kBands + 4;
constexpr int kContext[] = {-8, -4, -2, 0, 2, 4, 8};
constexpr int kContextN = 7;
constexpr int kFeatureDims = kFrameFeat * kContextN;
std::vector<float> vadFeatures(const Frames& f);

// The small MLP (kFeatureDims -> h1 -> h2 -> 1, ReLU, sigmoid), weights in a flat float array:
// magic/dims header then [mean, std, W1, b1, W2, b2, W3, b3].
struct VadModel {
  int inDims = 0, h1 = 0, h2 = 0;
  std::vector<float> mean, stdev, w1, b1, w2, b2, w3, b3;
  bool empty() const { return inDims == 0; }
};
// data holds count floats laid out as above for the dims inDims, h1, h2.
VadModel parseVadModel(int inDims, int h1, int h2, const float* data, size_t count,
                       const std::string& origin);
// File format (models/vad/*.bin): "VXQVAD01", int32 inDims, h1, h2, then the floats (LE).
void saveVadModel(const VadModel& m, const std::string& path);
const VadModel& builtinVadModel();  // empty when the library was built without weights
VadModel loadVadModel(const std::string& path);

// Speech probability per frame.
std::vector<float> vadProbabilities(const Frames& f, const VadModel& m);

// Sliding minimum / maximum of v over [i - half, i + half] (clamped), O(n).
std::vector<float> slidingMin(const std::vector<float>& v, size_t half);
std::vector<float> slidingMax(const std::vector<float>& v, size_t half);

}  // namespace voxqc::metrics::detail
