// Defect-planting primitives (see plant.h).
#include "simulate/plant.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <sstream>
#include <string>

#include "audio/resample.h"
#include "core/error.h"

namespace voxqc::simulate {

namespace {

void requireSamples(const float* x, size_t n, const char* name) {
  if (n == 0) throwInvalidArg(std::string(name) + ": the clip is empty (0 samples)");
  if (x == nullptr) throwInvalidArg(std::string(name) + ": null sample pointer");
}

void requireRate(int sampleRate, const char* name) {
  if (sampleRate < 1000 || sampleRate > 1000000) {
    std::ostringstream os;
    os << name << ": sampleRate must be in [1000, 1000000] Hz, got " << sampleRate;
    throwInvalidArg(os.str());
  }
}

// Deterministic standard normal generator (Box-Muller over mt19937_64).
class Gauss {
 public:
  explicit Gauss(uint64_t seed) : rng_(seed) {}
  double next() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double u1, u2;
    do {
      u1 = double(rng_() >> 11) * 0x1.0p-53;
    } while (u1 <= 0.0);
    u2 = double(rng_() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2 * M_PI * u2);
    hasSpare_ = true;
    return r * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937_64 rng_;
  bool hasSpare_ = false;
  double spare_ = 0;
};

constexpr double kP56Margin = 15.9;     // dB between the active level and the threshold
constexpr double kP56Tau = 0.03;        // s, envelope time constant
constexpr double kP56Hangover = 0.2;    // s
constexpr double kGridLowDb = -200.0;   // threshold grid
constexpr double kGridStepDb = 0.05;
constexpr int kGridBins = 4400;         // -200 .. +20 dB

struct P56 {
  double levelDb = -INFINITY;
  double thresholdDb = INFINITY;  // 20 log10 c
  std::vector<float> runMax;      // hangover-extended envelope per sample
  std::vector<float> env;         // the envelope itself
};

P56 p56(const float* x, size_t n, int sampleRate, bool keepEnvelope) {
  P56 r;
  const double g = std::exp(-1.0 / (sampleRate * kP56Tau));
  const size_t hang = size_t(std::lround(kP56Hangover * sampleRate));
  double p = 0, q = 0, sumsq = 0;
  std::vector<double> hist(kGridBins, 0.0);
  std::deque<std::pair<size_t, double>> dq;  // running max of q over [i - hang, i]
  if (keepEnvelope) {
    r.runMax.resize(n);
    r.env.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i];
    sumsq += v * v;
    p = g * p + (1 - g) * std::fabs(v);
    q = g * q + (1 - g) * p;
    while (!dq.empty() && dq.back().second <= q) dq.pop_back();
    dq.emplace_back(i, q);
    while (dq.front().first + hang < i) dq.pop_front();
    const double m = dq.front().second;
    if (keepEnvelope) {
      r.runMax[i] = float(m);
      r.env[i] = float(q);
    }
    if (m > 0) {
      const double db = 20 * std::log10(m);
      int k = int(std::floor((db - kGridLowDb) / kGridStepDb));
      k = std::clamp(k, 0, kGridBins - 1);
      hist[k] += 1;
    }
  }
  if (sumsq <= 0) return r;
  // a[k] = samples whose extended envelope reaches threshold k (bins >= k).
  std::vector<double> above(kGridBins + 1, 0.0);
  for (int k = kGridBins - 1; k >= 0; --k) above[k] = above[k + 1] + hist[k];
  double prevDelta = NAN, prevA = NAN;
  for (int k = 0; k < kGridBins; ++k) {
    if (above[k] <= 0) break;
    const double A = 10 * std::log10(sumsq / above[k]);
    const double C = kGridLowDb + k * kGridStepDb;
    const double delta = A - C;
    if (delta <= kP56Margin) {
      if (std::isnan(prevDelta)) {
        r.levelDb = A;
        r.thresholdDb = C;
      } else {
        const double t = (prevDelta - kP56Margin) / (prevDelta - delta);
        r.levelDb = prevA + t * (A - prevA);
        r.thresholdDb = C - kGridStepDb + t * kGridStepDb;
      }
      return r;
    }
    prevDelta = delta;
    prevA = A;
  }
  // Never crossed (a signal with a flat envelope): every sample is active.
  r.levelDb = 10 * std::log10(sumsq / double(n));
  r.thresholdDb = -INFINITY;
  return r;
}

}  // namespace

double activeSpeechLevelDbfs(const float* clean, size_t n, int sampleRate) {
  requireSamples(clean, n, "activeSpeechLevelDbfs");
  requireRate(sampleRate, "activeSpeechLevelDbfs");
  return p56(clean, n, sampleRate, false).levelDb;
}

std::vector<uint8_t> activeSpeechMask(const float* clean, size_t n, int sampleRate, bool hangover) {
  requireSamples(clean, n, "activeSpeechMask");
  requireRate(sampleRate, "activeSpeechMask");
  P56 r = p56(clean, n, sampleRate, true);
  std::vector<uint8_t> mask(n, 0);
  if (!std::isfinite(r.levelDb)) return mask;
  const double c = std::isfinite(r.thresholdDb) ? std::pow(10.0, r.thresholdDb / 20) : 0.0;
  const auto& e = hangover ? r.runMax : r.env;
  for (size_t i = 0; i < n; ++i) mask[i] = e[i] > 0 && e[i] >= c ? 1 : 0;
  return mask;
}

double meanPowerDbfs(const float* x, size_t n) {
  requireSamples(x, n, "meanPowerDbfs");
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return s > 0 ? 10 * std::log10(s / double(n)) : -INFINITY;
}

std::vector<float> scaledNoiseForSnr(const float* clean, size_t n, int sampleRate, const float* noise,
                                     size_t noiseLen, double snrDb, size_t noiseOffset) {
  requireSamples(clean, n, "mixAtSnr clean");
  requireSamples(noise, noiseLen, "mixAtSnr noise");
  requireRate(sampleRate, "mixAtSnr");
  if (!std::isfinite(snrDb)) throwInvalidArg("mixAtSnr: snrDb must be finite");
  const double level = activeSpeechLevelDbfs(clean, n, sampleRate);
  if (!std::isfinite(level)) throwInvalidArg("mixAtSnr: the clean clip has no active speech (all zeros)");
  std::vector<float> seg(n);
  size_t j = noiseOffset % noiseLen;
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    seg[i] = noise[j];
    s += double(noise[j]) * noise[j];
    if (++j == noiseLen) j = 0;
  }
  if (s <= 0) throwInvalidArg("mixAtSnr: the noise segment is all zeros");
  const double noiseDb = 10 * std::log10(s / double(n));
  const double gain = std::pow(10.0, (level - snrDb - noiseDb) / 20);
  for (auto& v : seg) v = float(v * gain);
  return seg;
}

std::vector<float> mixAtSnr(const float* clean, size_t n, int sampleRate, const float* noise,
                            size_t noiseLen, double snrDb, size_t noiseOffset) {
  std::vector<float> out =
      scaledNoiseForSnr(clean, n, sampleRate, noise, noiseLen, snrDb, noiseOffset);
  for (size_t i = 0; i < n; ++i) out[i] += clean[i];
  return out;
}

std::vector<float> whiteNoise(size_t n, double powerDbfs, uint64_t seed) {
  if (!std::isfinite(powerDbfs)) throwInvalidArg("whiteNoise: powerDbfs must be finite");
  std::vector<float> out(n);
  Gauss g(seed);
  const double a = std::pow(10.0, powerDbfs / 20);
  for (auto& v : out) v = float(a * g.next());
  return out;
}

double clipAt(float* x, size_t n, double level) {
  requireSamples(x, n, "clipAt");
  if (!(level > 0) || !std::isfinite(level)) {
    std::ostringstream os;
    os << "clipAt: level must be a finite value > 0, got " << level;
    throwInvalidArg(os.str());
  }
  const float hi = float(level), lo = -float(level);
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    if (x[i] >= hi) {
      x[i] = hi;
      ++at;
    } else if (x[i] <= lo) {
      x[i] = lo;
      ++at;
    }
  }
  return double(at) / double(n);
}

double clipLevelForFraction(const float* x, size_t n, double fraction) {
  requireSamples(x, n, "clipLevelForFraction");
  if (!(fraction > 0 && fraction < 1)) {
    std::ostringstream os;
    os << "clipLevelForFraction: fraction must be in (0, 1), got " << fraction;
    throwInvalidArg(os.str());
  }
  std::vector<float> a(x, x + n);
  for (auto& v : a) v = std::fabs(v);
  size_t k = size_t(std::floor((1.0 - fraction) * double(n)));
  k = std::min(k, n - 1);
  std::nth_element(a.begin(), a.begin() + k, a.end());
  return std::max(double(a[k]), 1e-9);
}

void insertDropout(float* x, size_t n, size_t start, size_t len, float value) {
  requireSamples(x, n, "insertDropout");
  if (start > n || len > n - start) {
    std::ostringstream os;
    os << "insertDropout: span [" << start << ", " << start + len << ") exceeds the clip (" << n
       << " samples)";
    throwInvalidArg(os.str());
  }
  std::fill(x + start, x + start + len, value);
}

void applyGain(float* x, size_t n, double gainDb) {
  if (!std::isfinite(gainDb)) throwInvalidArg("applyGain: gainDb must be finite");
  const double g = std::pow(10.0, gainDb / 20);
  for (size_t i = 0; i < n; ++i) x[i] = float(x[i] * g);
}

std::vector<float> repeatSpan(const float* x, size_t n, size_t start, size_t len) {
  requireSamples(x, n, "repeatSpan");
  if (len == 0 || start > n || len > n - start) {
    std::ostringstream os;
    os << "repeatSpan: span [" << start << ", " << start + len << ") must be non-empty and inside the clip ("
       << n << " samples)";
    throwInvalidArg(os.str());
  }
  std::vector<float> out;
  out.reserve(n + len);
  out.insert(out.end(), x, x + start + len);
  out.insert(out.end(), x + start, x + start + len);
  out.insert(out.end(), x + start + len, x + n);
  return out;
}

std::vector<float> bandLimit(const float* x, size_t n, int sampleRate, int narrowRate) {
  requireSamples(x, n, "bandLimit");
  requireRate(sampleRate, "bandLimit");
  requireRate(narrowRate, "bandLimit narrowRate");
  if (narrowRate >= sampleRate) {
    std::ostringstream os;
    os << "bandLimit: narrowRate (" << narrowRate << ") must be below sampleRate (" << sampleRate << ")";
    throwInvalidArg(os.str());
  }
  std::vector<float> low = audio::resample(x, n, sampleRate, narrowRate);
  std::vector<float> back = audio::resample(low.data(), low.size(), narrowRate, sampleRate);
  back.resize(n, 0.0f);
  return back;
}

std::vector<float> convolve(const float* x, size_t n, const float* rir, size_t rirLen) {
  requireSamples(x, n, "convolve");
  requireSamples(rir, rirLen, "convolve rir");
  size_t d = 0;
  for (size_t i = 1; i < rirLen; ++i)
    if (std::fabs(rir[i]) > std::fabs(rir[d])) d = i;
  if (rir[d] == 0.0f) throwInvalidArg("convolve: the impulse response is all zeros");
  const size_t h = rirLen - d;
  std::vector<double> hh(h);
  for (size_t i = 0; i < h; ++i) hh[i] = double(rir[d + i]) / double(rir[d]);
  // Overlap-add in blocks of B input samples, FFT size >= B + h - 1.
  size_t B = std::max<size_t>(65536, 4 * h);
  size_t nfft = 1;
  while (nfft < B + h - 1) nfft <<= 1;
  B = nfft - h + 1;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor H = at::fft_rfft(at::from_blob(hh.data(), {int64_t(h)}, opts).clone(), int64_t(nfft));
  std::vector<double> acc(n, 0.0);
  std::vector<double> blk(B);
  for (size_t s = 0; s < n; s += B) {
    const size_t m = std::min(B, n - s);
    for (size_t i = 0; i < m; ++i) blk[i] = x[s + i];
    at::Tensor X = at::fft_rfft(at::from_blob(blk.data(), {int64_t(m)}, opts).clone(), int64_t(nfft));
    at::Tensor y = at::fft_irfft(X * H, int64_t(nfft)).contiguous();
    const double* py = y.data_ptr<double>();
    const size_t lim = std::min(nfft, n - s);
    for (size_t i = 0; i < lim; ++i) acc[s + i] += py[i];
  }
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = float(acc[i]);
  return out;
}

std::vector<float> insertSilence(const float* x, size_t n, size_t at, size_t len, double floorDbfs,
                                 uint64_t seed) {
  requireSamples(x, n, "insertSilence");
  if (at > n) {
    std::ostringstream os;
    os << "insertSilence: position " << at << " is past the end of the clip (" << n << " samples)";
    throwInvalidArg(os.str());
  }
  std::vector<float> gap =
      std::isfinite(floorDbfs) ? whiteNoise(len, floorDbfs, seed) : std::vector<float>(len, 0.0f);
  std::vector<float> out;
  out.reserve(n + len);
  out.insert(out.end(), x, x + at);
  out.insert(out.end(), gap.begin(), gap.end());
  out.insert(out.end(), x + at, x + n);
  return out;
}

std::vector<float> padSilence(const float* x, size_t n, size_t leading, size_t trailing,
                              double floorDbfs, uint64_t seed) {
  requireSamples(x, n, "padSilence");
  std::vector<float> out(leading + n + trailing, 0.0f);
  if (std::isfinite(floorDbfs)) out = whiteNoise(leading + n + trailing, floorDbfs, seed);
  for (size_t i = 0; i < n; ++i) out[leading + i] = x[i];  // the floor fills the pads only
  return out;
}

std::vector<float> cut(const float* x, size_t n, size_t start, size_t end) {
  requireSamples(x, n, "cut");
  if (start >= end || end > n) {
    std::ostringstream os;
    os << "cut: [" << start << ", " << end << ") must be a non-empty range inside the clip (" << n
       << " samples)";
    throwInvalidArg(os.str());
  }
  return std::vector<float>(x + start, x + end);
}

}  // namespace voxqc::simulate
