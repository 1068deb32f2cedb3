// 10 ms frame analysis at 16 kHz on the fused spectrogram kernel (features.h), in chunks so that a
// one-hour clip never holds its whole spectrogram.
#include "metrics/frames.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "audio/resample.h"
#include "core/error.h"
#include "features/features.h"

namespace voxqc::metrics::detail {

void validateInput(const float* x, size_t n, int sampleRate, const char* fn) {
  if (sampleRate < 8000 || sampleRate > 768000) {
    std::ostringstream os;
    os << fn << ": sampleRate must be in [8000, 768000] Hz, got " << sampleRate;
    throwInvalidArg(os.str());
  }
  if (n == 0) throwInvalidArg(std::string(fn) + ": the clip is empty (0 samples)");
  if (x == nullptr) throwInvalidArg(std::string(fn) + ": null sample pointer");
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      std::ostringstream os;
      os << fn << ": sample " << i << " (at " << double(i) / sampleRate << " s) is "
         << (std::isnan(x[i]) ? "NaN" : "infinite") << "; samples must be finite";
      throwInvalidArg(os.str());
    }
  }
}

std::vector<float> toWorkRate(const float* x, size_t n, int sampleRate, const char* fn) {
  validateInput(x, n, sampleRate, fn);
  if (sampleRate == kWorkRate) return std::vector<float>(x, x + n);
  return audio::resample(x, n, sampleRate, kWorkRate);
}

namespace {

double hzToMel(double f) { return 2595.0 * std::log10(1.0 + f / 700.0); }

const std::vector<int>& binToBand() {
  static const std::vector<int> map = [] {
    std::vector<int> m(kBins);
    const double top = hzToMel(kWorkRate / 2.0);
    for (int k = 0; k < kBins; ++k) {
      const double f = double(k) * kWorkRate / kFft;
      m[k] = std::min(kBands - 1, int(std::floor(hzToMel(f) / top * kBands)));
    }
    return m;
  }();
  return map;
}

// Autocorrelation of the periodic Hann window of kWin samples, normalised (Boersma's correction).
const std::vector<double>& windowAutocorr() {
  static const std::vector<double> r = [] {
    std::vector<double> w(kWin), out(kFft / 2 + 1, 0.0);
    for (int i = 0; i < kWin; ++i) w[i] = 0.5 - 0.5 * std::cos(2 * M_PI * i / kWin);
    for (int l = 0; l <= kFft / 2 && l < kWin; ++l) {
      double s = 0;
      for (int i = 0; i + l < kWin; ++i) s += w[i] * w[i + l];
      out[l] = s;
    }
    const double r0 = out[0];
    for (auto& v : out) v /= r0;
    return out;
  }();
  return r;
}

constexpr int kLagMin = 40;   // 400 Hz
constexpr int kLagMax = 256;  // 62.5 Hz

}  // namespace

Frames analyzeFrames(const float* x, size_t n) {
  Frames fr;
  fr.count = (n + kHop - 1) / kHop;
  if (fr.count == 0) return fr;
  fr.band.assign(fr.count * kBands, 0.0f);
  fr.power.assign(fr.count, 0.0f);
  fr.harm.assign(fr.count, 0.0f);

  features::SpectrogramOptions so;
  so.nFft = kFft;
  so.winLength = kWin;
  so.hopLength = kHop;
  so.center = false;
  so.power = 2.0;
  so.sampleRate = kWorkRate;

  const double norm = 1.0 / (double(kFft) * (kWin * 0.375));  // Parseval + sum(w^2)
  const auto& band = binToBand();
  const auto& wr = windowAutocorr();
  float invWr[kLagMax + 1] = {};
  for (int l = kLagMin; l <= kLagMax; ++l) invWr[l] = float(1.0 / wr[l]);
  // Bins of each band (binToBand is non-decreasing): band j is [bandStart[j], bandStart[j + 1]).
  int bandStart[kBands + 1];
  for (int j = 0, k = 0; j <= kBands; ++j) {
    while (k < kBins && band[k] < j) ++k;
    bandStart[j] = k;
  }
  double binScale[kBins];
  for (int k = 0; k < kBins; ++k) binScale[k] = ((k == 0 || k == kBins - 1) ? 1.0 : 2.0) * norm;
  constexpr size_t kChunk = 1024;
  const size_t chunks = (fr.count + kChunk - 1) / kChunk;

  at::parallel_for(0, int64_t(chunks), 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> buf, spec;
    for (int64_t c = c0; c < c1; ++c) {
      const size_t f0 = size_t(c) * kChunk;
      const size_t F = std::min(kChunk, fr.count - f0);
      const size_t len = (F - 1) * kHop + kFft;
      buf.assign(len, 0.0f);
      // Frame t's nFft block starts at t*kHop + kHop/2 - kFft/2.
      const int64_t start = int64_t(f0) * kHop + kHop / 2 - kFft / 2;
      for (size_t i = 0; i < len; ++i) {
        const int64_t j = start + int64_t(i);
        if (j >= 0 && j < int64_t(n)) buf[i] = x[j];
      }
      spec.resize(F * kBins);
      features::spectrogramInto(buf.data(), len, so, spec.data());
      for (size_t t = 0; t < F; ++t) {
        const float* p = &spec[t * kBins];
        float* b = &fr.band[(f0 + t) * kBands];
        // Each band is a run of bins: its sum stays in a register (same additions, same order);
        // the frame total in four independent chains.
        double tot[4] = {0, 0, 0, 0};
        for (int j = 0; j < kBands; ++j) {
          float sum = 0.0f;
          for (int k = bandStart[j]; k < bandStart[j + 1]; ++k) {
            const double v = p[k] * binScale[k];
            sum += float(v);
            tot[k & 3] += v;
          }
          b[j] = sum;
        }
        fr.power[f0 + t] = float((tot[0] + tot[1]) + (tot[2] + tot[3]));
      }
      // Periodicity: autocorrelation = inverse FFT of the power spectrum.
      at::Tensor S = at::from_blob(spec.data(), {int64_t(F), int64_t(kBins)}, at::kFloat);
      at::Tensor r = at::fft_irfft(S, kFft, -1).contiguous();
      const float* pr = r.data_ptr<float>();
      for (size_t t = 0; t < F; ++t) {
        const float* rt = pr + t * kFft;
        if (!(rt[0] > 1e-12f)) continue;
        // max over lags of r[l] / wr[l], then / r[0] (> 0): one multiply per lag, vectorisable.
        float best = 0.0f;
#pragma omp simd reduction(max : best)
        for (int l = kLagMin; l <= kLagMax; ++l) best = std::max(best, rt[l] * invWr[l]);
        fr.harm[f0 + t] = float(std::min(1.0, double(best) / rt[0]));
      }
    }
  });
  return fr;
}

std::vector<float> slidingMin(const std::vector<float>& v, size_t half) {
  // van Herk / Gil-Werman: with blocks of the window's length w, a full window [a, a + w) spans
  // at most two blocks, so its minimum is min(suffix-min of a's block from a, prefix-min of the
  // next block up to a + w - 1). Windows cut by the ends are running minima from either end.
  // Three branch-free passes instead of a deque per element; the same minima.
  const size_t n = v.size();
  std::vector<float> out(n);
  if (n == 0) return out;
  const size_t w = 2 * half + 1;
  if (w >= n) {  // every window reaches an end
    std::vector<float> fromLeft(n), fromRight(n);
    fromLeft[0] = v[0];
    for (size_t i = 1; i < n; ++i) fromLeft[i] = std::min(fromLeft[i - 1], v[i]);
    fromRight[n - 1] = v[n - 1];
    for (size_t i = n - 1; i-- > 0;) fromRight[i] = std::min(fromRight[i + 1], v[i]);
    for (size_t i = 0; i < n; ++i) {
      const size_t lo = i >= half ? i - half : 0, hi = std::min(n - 1, i + half);
      out[i] = lo == 0 ? fromLeft[hi] : fromRight[lo];  // lo > 0 implies hi == n - 1
    }
    return out;
  }
  std::vector<float> g(n), h(n);  // prefix / suffix minima within blocks of w
  for (size_t b0 = 0; b0 < n; b0 += w) {
    const size_t b1 = std::min(n, b0 + w);
    g[b0] = v[b0];
    for (size_t i = b0 + 1; i < b1; ++i) g[i] = std::min(g[i - 1], v[i]);
    h[b1 - 1] = v[b1 - 1];
    for (size_t i = b1 - 1; i-- > b0;) h[i] = std::min(h[i + 1], v[i]);
  }
  // Here w < n: the first half windows are cut by the start only ([0, i + half], a running
  // minimum from the left), the last half by the end only, and the rest are full.
  float run = v[0];
  for (size_t j = 1; j < half; ++j) run = std::min(run, v[j]);
  for (size_t i = 0; i < half; ++i) out[i] = run = std::min(run, v[i + half]);
  for (size_t i = half; i + half < n; ++i) out[i] = std::min(h[i - half], g[i + half]);
  run = v[n - 1];
  for (size_t j = n - half; j + 1 < n; ++j) run = std::min(run, v[j]);
  for (size_t i = n; i-- > n - half;) out[i] = run = std::min(run, v[i - half]);
  return out;
}

std::vector<float> slidingMax(const std::vector<float>& v, size_t half) {
  std::vector<float> neg(v.size());
  for (size_t i = 0; i < v.size(); ++i) neg[i] = -v[i];
  auto m = slidingMin(neg, half);
  for (auto& x : m) x = -x;
  return m;
}

}  // namespace voxqc::metrics::detail
