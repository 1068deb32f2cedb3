// Signal measurements behind the grading rubric (../shared/spec/rubric.md): speech activity,
// level, blind SNR, clipping, dropouts, repetition, truncation, bandwidth. Plain C++17 on libtorch
// (no Node). Inputs are mono float samples in [-1, 1] at any rate >= 8000 Hz; the analysis runs at
// a 16 kHz working rate (voxqc::audio::Resampler) with 10 ms frames, except the band measurements
// (hfEnergyAbove4k, bandwidthHz) and the sample-exact ones (clipping, dropouts), which use the
// native samples. Work is split with at::parallel_for, so voxqc::useIntraOpThreads sets the
// thread count. Errors: voxqc::Error(InvalidArg) for an empty clip, a rate out of range, or a
// NaN/Inf sample (the message gives its index and time).
//
// Thresholds of the rubric (10 dB, 30 ms, 0.8 s, ...) are NOT applied here: these functions
// report measured values; lib/ turns them into flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace voxqc::metrics {

struct SpeechSegment {
  double startSec, endSec;
};

struct VadOptions {
  // Decision threshold on the frame speech probability.
  double threshold = 0.5;
  // Activity is held this long after the last frame above the threshold (ITU-T P.56 hangover),
  // in isSpeech. Segments end at the last frame above the threshold (without the hangover).
  double hangoverSec = 0.2;
  // Gaps between speech frames shorter than this are bridged in segments (and in isSpeech).
  double minGapSec = 0.2;
  // Runs of speech frames shorter than this (before the hangover) are dropped as clicks.
  double minSpeechSec = 0.03;
  // Optional path of a model file written by cpp/tools/metrics_train_vad.cpp (models/vad/*.bin);
  // empty uses the model compiled into the library (cpp/metrics/vad_weights.inc).
  std::string modelPath;
};

struct VadResult {
  double frameSec = 0.01;             // frame hop: frame t covers [t, t+1) * frameSec
  std::vector<float> speechProb;      // per frame, model output in [0, 1]
  std::vector<uint8_t> isSpeech;      // per frame, smoothed decision incl. the hangover
  std::vector<SpeechSegment> segments;  // speech runs in seconds, without the hangover tail
};

VadResult detectSpeech(const float* x, size_t n, int sampleRate, const VadOptions& = {});

struct AnalyzeOptions {
  VadOptions vad;                     // speech activity settings
  double minDropoutMs = 10.0;         // report constant runs at least this long
  double minRepeatSec = 0.4;          // shortest repeated stretch that is searched for/reported
  double maxRepeatLagSec = 30.0;      // how far after the original a copy may start (search
                                      // window; cost grows with it only through hash buckets)
  double repeatMaxDistance = 0.2;     // how near-exact a copy must be: its 10 ms blocks correlate
                                      // with the original's at >= 1 - this (sample by sample);
                                      // re-spoken words correlate far below 0.5
  double bandEnergyFloorDb = -120.0;  // bins this far below the band peak are ignored in
                                      // bandwidthHz (guards against resampler floor/dither)
};

struct SignalScores {
  double durationSec = 0;
  int sampleRate = 0;

  // From the VAD (speech activity). speechSec counts isSpeech frames (with the P.56 hangover).
  double speechSec = 0, leadingSilenceSec = 0, trailingSilenceSec = 0, maxPauseSec = 0;
  int speechSegments = 0;

  // Level and SNR. activeLevelDbfs is the speech's own level: mean square over active frames
  // with the estimated noise power subtracted (equals the P.56 level for a clean clip).
  // noiseLevelDbfs is the estimated mean power of everything else over the whole clip, and
  // snrDb = activeLevelDbfs - noiseLevelDbfs (capped at 100 dB; -100 dBFS floors).
  double activeLevelDbfs = -100;
  double noiseLevelDbfs = -100;
  double snrDb = 100;
  double noiseSec = 0;                // seconds of pure non-speech frames the noise estimate used

  // Clipping: samples at the clip's largest magnitude (either sign), in runs of >= 2 equal
  // samples, that look cut off (see clipping.cpp), over all samples.
  double clippedFraction = 0;
  double clipLevel = 0;               // the magnitude they sit at (0 when none)

  // Runs of exactly-equal samples (zero or any constant) >= minDropoutMs inside the speech span.
  int dropouts = 0;
  double maxDropoutMs = 0;
  std::vector<SpeechSegment> dropoutSpans;

  // Longest stretch (>= minRepeatSec) that occurs twice as a near-exact copy (0 if none), and
  // where the two copies start.
  double repeatedSec = 0;
  double repeatFirstSec = -1, repeatSecondSec = -1;

  // Truncation: the clip starts / ends while a word is spoken; the scores behind the decisions
  // (onset/offset level in dB above the clip's noise floor, see truncation.cpp).
  bool truncatedStart = false, truncatedEnd = false;
  double startEdgeDb = -100, endEdgeDb = -100;    // edge 10 ms level re the active speech level
  double startRiseDb = 0, endRiseDb = 0;          // loudest 10 ms within 60 ms inward, re the edge
  double startEdgeSnrDb = -100, endEdgeSnrDb = -100;  // edge 10 ms level re the noise there

  // Long-term spectrum over the active frames at the native rate.
  double hfEnergyAbove4k = 0;         // share of the energy above 4 kHz (0 when rate <= 8 kHz)
  double bandwidthHz = 0;             // frequency below which 99.5% of the energy lies
};

SignalScores analyzeSignal(const float* x, size_t n, int sampleRate, const AnalyzeOptions& = {});

// WADA-SNR (Kim & Stern, Interspeech 2008): blind SNR from the log-mean of the amplitude
// distribution, assuming Gamma(0.4) speech amplitudes and Gaussian noise; the lookup table is the
// one of the authors' MATLAB code (snreval). Its SNR is total signal energy over total noise
// energy (not the active level), range [-20, 100] dB. Returns -20 for an all-zero clip.
double wadaSnr(const float* x, size_t n);

}  // namespace voxqc::metrics
