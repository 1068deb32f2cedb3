// Audio-video offset of a talking-head clip from the agreement between mouth-region motion and
// the rate of change of the speech spectrum (plain C++ on libtorch; no Node).
//
// Method. The frames handed in are the mouth search region (the caller crops the lower-centre of
// the face, e.g. x 1/3..2/3, y 2/3..11/12 of a centred talking-head frame, at ~60x36 pixels).
//  1. Video: mean absolute frame difference in a 6x8 grid of cells; the cells whose motion
//     varies most over the clip are taken as the mouth (top 4 and top 6), each sum is one motion
//     signal, sampled at (i + 0.5) / fps and interpolated onto a 100 Hz grid on the video clock.
//  2. Audio: log energies in 24 log-spaced bands (80 Hz .. 7.6 kHz, 25 ms Hann windows, 10 ms
//     hop, floored 60 dB below the maximum); spectral flux = mean |B(t + d/2) - B(t - d/2)| over
//     the bands for d = 40, 60, 80 ms. Motion energy measures how fast the mouth's shape changes,
//     flux how fast the sound's spectrum changes: the pairing gives far sharper correlation peaks
//     than motion energy against the envelope level, which is dominated by the slow
//     speaking / not-speaking covariation.
//  3. For every lag in +-maxOffsetMs (10 ms steps) the normalised cross-correlation of each
//     (motion, flux) pair with the video fixed and the audio placed on the video clock (zero
//     flux where there is no audio); the six curves are averaged, the best peak refined by a
//     parabola, and a constant articulation lead (leadMs) subtracted.
// Sign: positive offsetMs = the audio comes later than the lips (rubric's convention).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxqc::video {

struct AvOffsetOptions {
  // Search range: lags from -maxOffsetMs to +maxOffsetMs. (0, 5000].
  double maxOffsetMs = 1000.0;
  // Time of audio sample 0 on the video clock (frame 0 is shown at 0 s), e.g. the difference of
  // the streams' start times in the container. Any finite value.
  double audioStartSec = 0.0;
  // Articulation lead subtracted from the raw correlation lag: mouth motion precedes the
  // spectral change it causes. Calibrated on GRID (leave-one-speaker-out median, see
  // cpp/tests/test_video.cpp); |leadMs| <= 500.
  double leadMs = kDefaultLeadMs;
  static constexpr double kDefaultLeadMs = 15.0;
};

struct AvOffsetResult {
  double offsetMs = 0.0;     // estimated offset (positive: audio later than the lips)
  double confidence = 0.0;   // 0..1, from the peak's height and its margin over the best rival
  // Diagnostics.
  double rawLagMs = 0.0;         // correlation peak before the lead correction
  double peakCorr = 0.0;         // height of the averaged correlation curve at its peak
  double rivalCorr = 0.0;        // highest other local maximum >= 120 ms away (0 when none)
  double rivalLagMs = 0.0;       // its lag
  bool atSearchEdge = false;     // the peak is at +-maxOffsetMs (the true offset may lie beyond)
  double speechSec = 0.0;        // audio time with spectral change (flux above a tenth of its max)
  double motionLevel = 0.0;      // mean absolute frame difference in the chosen mouth cells (0..255)
  double lagStepMs = 10.0;       // spacing of `curve`
  std::vector<float> curve;      // the averaged correlation at lags -maxOffsetMs..+maxOffsetMs
};

// grayFrames: numFrames frames of width x height 8-bit luma, row-major, frame after frame, frame
// i shown at i / fps seconds. audio: mono samples at sampleRate. Throws voxqc::Error
// (InvalidArg) for inputs out of their domain or a clip too short to estimate (< 1 s of video or
// fewer than 8 frames). A clip without speech or without any mouth motion returns offsetMs 0
// with confidence 0.
AvOffsetResult estimateAvOffset(const uint8_t* grayFrames, int numFrames, int width, int height, double fps,
                                const float* audio, size_t numSamples, int sampleRate,
                                const AvOffsetOptions& options = {});

// Minimum video duration (seconds) estimateAvOffset accepts.
constexpr double kMinVideoSec = 1.0;

}  // namespace voxqc::video
