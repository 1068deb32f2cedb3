// Defect-planting primitives with known parameters: the ground truth of the metric tests
// (cpp/tests/test_metrics*.cpp) and of the simulator (`voxqc simulate`) that labels training
// clips by the rubric (../shared/spec/rubric.md). Plain C++ on libtorch (no Node).
//
// Conventions: mono float samples, nominally in [-1, 1]; positions and lengths in samples; every
// function validates its arguments and throws voxqc::Error(InvalidArg) with a message naming the
// argument. Nothing here draws random numbers unless it takes a seed, and then the result is a
// pure function of the arguments (same seed, same samples, on every platform: std::mt19937_64
// and a Box-Muller transform written out here, not std::normal_distribution).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace voxqc::simulate {

// --- levels -----------------------------------------------------------------------------------
// Active speech level of a CLEAN clip in dBFS (full scale = 1.0), ITU-T P.56 method B: envelope
// of |x| through two one-pole smoothers of time constant 0.03 s, activity = envelope above a
// threshold c or within a 0.2 s hangover after it, level = total energy / active samples, with c
// chosen so that level is 15.9 dB above c (solved on a 0.05 dB grid, linearly interpolated).
// This is the level in the SNR definition of the rubric. Returns -inf for an all-zero clip.
double activeSpeechLevelDbfs(const float* clean, size_t n, int sampleRate);

// Per-sample P.56 activity of the same computation (1 = active), for reference labels. With
// hangover = false, only the samples whose envelope itself is above the threshold.
std::vector<uint8_t> activeSpeechMask(const float* clean, size_t n, int sampleRate, bool hangover = true);

// 10 log10(mean square) of x in dBFS (-inf for silence).
double meanPowerDbfs(const float* x, size_t n);

// --- noise --------------------------------------------------------------------------------------
// clean + g * noise, with g chosen so that activeSpeechLevelDbfs(clean) minus the mean power (dB)
// of the scaled noise over the n output samples equals snrDb exactly. The noise is read from
// noiseOffset (taken modulo noiseLen) and looped when shorter than the clip. Same length as clean.
// Throws when the clean clip has no active speech or the noise segment is all zeros.
std::vector<float> mixAtSnr(const float* clean, size_t n, int sampleRate, const float* noise,
                            size_t noiseLen, double snrDb, size_t noiseOffset = 0);

// The looped noise segment mixAtSnr adds (already scaled), for tests that need it.
std::vector<float> scaledNoiseForSnr(const float* clean, size_t n, int sampleRate, const float* noise,
                                     size_t noiseLen, double snrDb, size_t noiseOffset = 0);

// White Gaussian noise of the given mean power (dBFS), deterministic for a seed.
std::vector<float> whiteNoise(size_t n, double powerDbfs, uint64_t seed);

// --- clipping -----------------------------------------------------------------------------------
// Hard-clips x in place at +/-level (0 < level). Returns the fraction of the n samples that sit
// at +/-level afterwards (those cut off plus any that were exactly at the level).
double clipAt(float* x, size_t n, double level);

// The level at which clipAt would cut off `fraction` (0 < fraction < 1) of the samples: the
// (1 - fraction) quantile of |x|. Use clipAt(x, n, clipLevelForFraction(x, n, f)) to plant a
// fraction f.
double clipLevelForFraction(const float* x, size_t n, double fraction);

// --- dropouts, gaps, gain -------------------------------------------------------------------------
// Sets x[start, start+len) to `value` (0: a digital-zero dropout; any constant: a stuck sample).
void insertDropout(float* x, size_t n, size_t start, size_t len, float value = 0.0f);

// Multiplies x by 10^(gainDb/20) in place (no clipping: values may leave [-1, 1]).
void applyGain(float* x, size_t n, double gainDb);

// --- repetition -----------------------------------------------------------------------------------
// x[0, start+len) + x[start, start+len) + x[start+len, n): the span [start, start+len) occurs
// twice in a row (a loop / duplicated packet run). Length n + len.
std::vector<float> repeatSpan(const float* x, size_t n, size_t start, size_t len);

// --- band limiting ----------------------------------------------------------------------------------
// Down to narrowRate (default 8 kHz) and back to sampleRate with voxqc::audio::Resampler: energy
// above ~0.45 x narrowRate is gone (stopband >= 100 dB). Same length as x. sampleRate must exceed
// narrowRate.
std::vector<float> bandLimit(const float* x, size_t n, int sampleRate, int narrowRate = 8000);

// --- reverberation ----------------------------------------------------------------------------------
// x convolved with the impulse response rir (FFT convolution), same length as x and time-aligned
// with it: the direct path (the rir's largest |sample|) maps to lag 0 and is scaled to 1, so the
// direct sound keeps the level and timing of x; taps before the direct path (pre-delay noise) are
// dropped; the reverberant tail past the end of x is cut.
std::vector<float> convolve(const float* x, size_t n, const float* rir, size_t rirLen);

// --- silence ----------------------------------------------------------------------------------------
// Inserts len samples of silence at position `at` (0..n). floorDbfs = -inf (default) inserts
// digital zeros; a finite value inserts white noise at that power (seeded), which is what a real
// pause sounds like and is not a dropout under the rubric.
std::vector<float> insertSilence(const float* x, size_t n, size_t at, size_t len,
                                 double floorDbfs = -std::numeric_limits<double>::infinity(), uint64_t seed = 0);

// leading + x + trailing samples of silence (same floor convention as insertSilence).
std::vector<float> padSilence(const float* x, size_t n, size_t leading, size_t trailing,
                              double floorDbfs = -std::numeric_limits<double>::infinity(), uint64_t seed = 0);

// x[start, end): cuts a clip, e.g. inside a word to plant truncation.
std::vector<float> cut(const float* x, size_t n, size_t start, size_t end);

}  // namespace voxqc::simulate
