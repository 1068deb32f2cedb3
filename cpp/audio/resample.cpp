#include "audio/resample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/simd.h"

namespace voxqc::audio {

namespace {

constexpr int kMaxExactPhases = 4096;
// Largest polyphase table (floats, 64 MiB) a Resampler may build.
constexpr double kMaxTableFloats = 16.0 * 1024 * 1024;
constexpr int64_t kMaxRate = 10'000'000;

// Zeroth-order modified Bessel function of the first kind (power series; converges fast for the
// arguments a Kaiser window needs).
double besselI0(double x) {
  double sum = 1.0, term = 1.0, half = x / 2.0;
  for (int k = 1; k < 200; ++k) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

}  // namespace

Resampler::Resampler(int64_t fromRate, int64_t toRate, ResamplerOptions options)
    : fromRate_(fromRate), toRate_(toRate) {
  if (fromRate <= 0 || fromRate > kMaxRate) {
    throwInvalidArg("resampler: source rate must be 1.." + std::to_string(kMaxRate) + " Hz, got " +
                    std::to_string(fromRate));
  }
  if (toRate <= 0 || toRate > kMaxRate) {
    throwInvalidArg("resampler: target rate must be 1.." + std::to_string(kMaxRate) + " Hz, got " +
                    std::to_string(toRate));
  }
  if (!(options.passbandEdge > 0.5 && options.passbandEdge < 0.995)) {
    throwInvalidArg("resampler: passbandEdge must be in (0.5, 0.995)");
  }
  if (!(options.stopbandAttenuationDb >= 40 && options.stopbandAttenuationDb <= 180)) {
    throwInvalidArg("resampler: stopbandAttenuationDb must be in [40, 180]");
  }
  const int64_t g = std::gcd(fromRate, toRate);
  up_ = toRate / g;
  down_ = fromRate / g;

  // Frequencies in cycles per input sample.
  const double lowerNyquist = 0.5 * std::min<double>(1.0, static_cast<double>(toRate) / fromRate);
  const double passband = options.passbandEdge * lowerNyquist;
  const double cutoff = 0.5 * (passband + lowerNyquist);  // -6 dB point, centre of the transition
  const double transition = lowerNyquist - passband;
  const double A = options.stopbandAttenuationDb;
  const double beta = A > 50 ? 0.1102 * (A - 8.7) : 0.5842 * std::pow(A - 21, 0.4) + 0.07886 * (A - 21);
  // Kaiser's length estimate, in input samples.
  const double length = (A - 7.95) / (2.285 * 2.0 * M_PI * transition) + 1.0;
  // The filter grows with the downsampling factor (about 130 taps per unit of fromRate/toRate)
  // and its table with the phases: refuse a conversion whose table would not fit in memory or
  // take minutes to design, rather than allocating gigabytes (e.g. 10 MHz to 1 Hz).
  const double phasesWanted = static_cast<double>(std::min<int64_t>(up_, kMaxExactPhases));
  if (!(length / 2.0 < 1e7) || (phasesWanted + 1) * 2.0 * std::ceil(length / 2.0) > kMaxTableFloats) {
    throwInvalidArg("resampler: converting " + std::to_string(fromRate) + " Hz to " + std::to_string(toRate) +
                    " Hz needs a filter of " + std::to_string(static_cast<int64_t>(length)) +
                    " taps, over the limit; resample in two steps (e.g. to " + std::to_string(toRate * 64 < fromRate ? toRate * 64 : fromRate) + " Hz first)");
  }
  halfTaps_ = static_cast<int>(std::ceil(length / 2.0));
  taps_ = 2 * halfTaps_;
  phases_ = up_ <= kMaxExactPhases ? static_cast<int>(up_) : kMaxExactPhases;

  const double i0beta = besselI0(beta);
  table_.assign(static_cast<size_t>(phases_ + 1) * taps_, 0.0f);
  for (int p = 0; p <= phases_; ++p) {
    const double frac = static_cast<double>(p) / phases_;  // output time - floor(output time)
    float* row = table_.data() + static_cast<size_t>(p) * taps_;
    double sum = 0;
    std::vector<double> h(taps_);
    for (int j = 0; j < taps_; ++j) {
      // Tap j reads input index floor(t) - halfTaps + 1 + j; tau = t - index.
      const double tau = frac + halfTaps_ - 1 - j;
      const double r = tau / halfTaps_;
      double w = std::fabs(r) >= 1.0 ? 0.0 : besselI0(beta * std::sqrt(1.0 - r * r)) / i0beta;
      const double arg = 2.0 * cutoff * tau;
      const double sinc = std::fabs(arg) < 1e-12 ? 1.0 : std::sin(M_PI * arg) / (M_PI * arg);
      h[j] = 2.0 * cutoff * sinc * w;
      sum += h[j];
    }
    // Unit DC gain for every phase.
    for (int j = 0; j < taps_; ++j) row[j] = static_cast<float>(h[j] / sum);
  }
}

uint64_t Resampler::outputLength(uint64_t n) const {
  const unsigned __int128 num = static_cast<unsigned __int128>(n) * up_;
  return static_cast<uint64_t>((num + down_ - 1) / down_);
}

void Resampler::process(const float* in, uint64_t n, float* out) const {
  const uint64_t outLen = outputLength(n);
  if (outLen == 0) return;
  const int taps = taps_;
  const int64_t half = halfTaps_;
  const bool exact = phases_ == up_;
  at::parallel_for(0, static_cast<int64_t>(outLen), 16384, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const unsigned __int128 pos = static_cast<unsigned __int128>(k) * down_;
      const int64_t base = static_cast<int64_t>(pos / up_);
      const int64_t rem = static_cast<int64_t>(pos % up_);
      int row;
      float weight = 0.0f;
      if (exact) {
        row = static_cast<int>(rem);
      } else {
        const double f = static_cast<double>(rem) / up_ * phases_;
        row = static_cast<int>(f);
        weight = static_cast<float>(f - row);
      }
      const float* h0 = table_.data() + static_cast<size_t>(row) * taps;
      const float* h1 = h0 + taps;
      const int64_t first = base - half + 1;
      // Taps that fall inside the signal.
      const int jStart = static_cast<int>(std::max<int64_t>(0, -first));
      const int jEnd = static_cast<int>(std::min<int64_t>(taps, static_cast<int64_t>(n) - first));
      const int count = jEnd - jStart;
      float acc = 0.0f;
      if (count > 0) {
        const float* x = in + (first + jStart);
        const float* a = h0 + jStart;
        if (weight == 0.0f) {
          acc = simd::dotFloat(a, x, size_t(count));
        } else {
          const float* b = h1 + jStart;
          const float w0 = 1.0f - weight;
#pragma omp simd reduction(+ : acc)
          for (int j = 0; j < count; ++j) acc += (w0 * a[j] + weight * b[j]) * x[j];
        }
      }
      out[k] = acc;
    }
  });
}

std::shared_ptr<const Resampler> sharedResampler(int64_t fromRate, int64_t toRate) {
  // Designing the filter (a Kaiser window and a sinc per tap and phase) costs about as much as
  // converting a few seconds of audio, and a dataset has few distinct rates: keep the last few.
  constexpr size_t kKeep = 8;
  static std::mutex mutex;
  static std::deque<std::shared_ptr<const Resampler>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& r : cache)
      if (r->fromRate() == fromRate && r->toRate() == toRate) return r;
  }
  auto made = std::make_shared<const Resampler>(fromRate, toRate);  // may throw; designed unlocked
  std::lock_guard<std::mutex> lock(mutex);
  cache.push_front(made);
  if (cache.size() > kKeep) cache.pop_back();
  return made;
}

std::vector<float> resample(const float* in, uint64_t n, int64_t fromRate, int64_t toRate) {
  if (fromRate == toRate) return std::vector<float>(in, in + n);
  const auto r = sharedResampler(fromRate, toRate);
  std::vector<float> out(r->outputLength(n));
  r->process(in, n, out.data());
  return out;
}

}  // namespace voxqc::audio
