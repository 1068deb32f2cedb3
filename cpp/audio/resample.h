// Band-limited sample-rate conversion: a Kaiser-windowed sinc evaluated as a polyphase filter
// for the rational ratio toRate/fromRate (reduced by their gcd).
//
// Design (defaults of ResamplerOptions):
//   passband   0 .. 0.90 x the lower Nyquist frequency, ripple < 0.001 dB
//   stopband   from the lower Nyquist frequency up, attenuation >= 100 dB (Kaiser beta 10.06),
//              so downsampling folds nothing back into the band that is kept
//   group delay zero (linear phase, centred taps); samples beyond the ends are taken as 0.
// The figures are measured on sines by cpp/tests/test_audio.cpp and test/02.audio.test.ts.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace voxqc::audio {

struct ResamplerOptions {
  double passbandEdge = 0.90;       // passband edge, as a fraction of the lower Nyquist frequency
  double stopbandAttenuationDb = 100.0;  // Kaiser design attenuation in the stopband
};

class Resampler {
 public:
  Resampler(int64_t fromRate, int64_t toRate, ResamplerOptions options = {});

  int64_t fromRate() const { return fromRate_; }
  int64_t toRate() const { return toRate_; }
  int tapsPerPhase() const { return taps_; }

  // Number of output samples for `inputLength` input samples: ceil(n * toRate / fromRate).
  uint64_t outputLength(uint64_t inputLength) const;

  // Resamples the whole signal `in` (n samples) into `out` (outputLength(n) samples). Splits the
  // work over libtorch's intra-op threads.
  void process(const float* in, uint64_t n, float* out) const;

 private:
  int64_t fromRate_, toRate_;
  int64_t up_, down_;      // toRate/g, fromRate/g
  int phases_;             // rows of the table; == up_ when exact, else an interpolated grid
  int taps_;               // taps per phase (even)
  int halfTaps_;
  std::vector<float> table_;  // (phases_ + 1) x taps_
};

// A Resampler with the default options for this conversion, from a small process-wide cache of
// recent designs (thread-safe; the object is immutable).
std::shared_ptr<const Resampler> sharedResampler(int64_t fromRate, int64_t toRate);

// Convenience: resample a whole signal (returns a copy when the rates are equal).
std::vector<float> resample(const float* in, uint64_t n, int64_t fromRate, int64_t toRate);

}  // namespace voxqc::audio
