// Internal to cpp/metrics: the per-measurement modules analyzeSignal (analyze.cpp) calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/frames.h"
#include "metrics/metrics.h"

namespace voxqc::metrics {

// vad.cpp: frame probabilities -> decisions (isSpeech with hangover) and segments.
VadResult smoothVad(const std::vector<float>& prob, const VadOptions& o);

namespace detail {

// snr.cpp: noise trajectory from pure non-speech frames, speech level over active frames.
struct LevelEstimate {
  double activeLevelDbfs = -100, noiseLevelDbfs = -100, snrDb = 100, noiseSec = 0;
  std::vector<float> noisePower;  // [frames] estimated noise mean square per frame
};
LevelEstimate estimateLevels(const Frames& f, const VadResult& vad);

// clipping.cpp (native samples)
struct ClipResult {
  double fraction = 0, level = 0;
};
ClipResult measureClipping(const float* x, size_t n);

// dropouts.cpp (native samples); span in samples [spanStart, spanEnd); runs at +/-clipLevel skipped.
struct DropoutResult {
  int count = 0;
  double maxMs = 0;
  std::vector<SpeechSegment> spans;
};
DropoutResult findDropouts(const float* x, size_t n, int sampleRate, size_t spanStart, size_t spanEnd,
                           double minMs, double clipLevel);

// repeat.cpp (16 kHz samples + frames)
struct RepeatResult {
  double seconds = 0, firstSec = -1, secondSec = -1;
};
RepeatResult findRepetition(const float* x16k, size_t n, const Frames& f, const VadResult& vad,
                            double minSec, double maxLagSec, double minBlockCorr);

// truncation.cpp
struct TruncationResult {
  bool start = false, end = false;
  double startDb = -100, endDb = -100, startRise = 0, endRise = 0, startSnr = -100, endSnr = -100;
};
TruncationResult detectTruncation(const float* x16k, size_t n, const Frames& f, const VadResult& vad,
                                  const LevelEstimate& lev);

// bandwidth.cpp (native samples; active frames of the 10 ms grid)
struct BandResult {
  double hfShare = 0, bandwidthHz = 0;
};
BandResult measureBandwidth(const float* x, size_t n, int sampleRate, const std::vector<uint8_t>& isSpeech,
                            double floorDb);

}  // namespace detail
}  // namespace voxqc::metrics
