// Active speech level, noise level and blind SNR (rubric: active speech level over the mean power
// of everything that is not the speech, across the whole clip), plus the WADA-SNR baseline.
//
// Method: "pure" non-speech frames are the frames outside the VAD's activity (which already
// carries the 0.2 s P.56 hangover after speech) that are also at least kOnsetGuard frames before
// the next speech onset (weak onsets the model misses would otherwise count as noise). Per band,
// the noise power is tracked over those frames by exponential averages run forward and backward
// (time constant kTrackFrames) that hold their value through speech; a speech frame takes the mean
// of the two, so non-stationary noise (a bus passing, dishes) is followed between pauses. The mean
// of that trajectory over all frames is the noise level. The speech level is the mean over active
// frames of (frame power - noise power), floored at 0 per frame (noise subtraction is unbiased in
// the mean). When the clip has too few pure non-speech frames, the noise falls back to a low
// per-band percentile of all frames (minimum statistics), which is weaker for non-stationary noise.
// (Frames right next to speech are never used instead: the VAD's misses there are speech, and a
// few of them would swamp the noise estimate of a clean clip.)
#include <algorithm>
#include <cmath>

#include "metrics/internal.h"

namespace voxqc::metrics {
namespace detail {

namespace {
constexpr size_t kOnsetGuard = 10;      // 100 ms before an onset
constexpr double kTrackFrames = 50.0;   // 0.5 s
constexpr size_t kMinNoiseFrames = 20;  // 0.2 s
inline double toDb(double p) { return p > 1e-10 ? 10 * std::log10(p) : -100.0; }
}  // namespace

LevelEstimate estimateLevels(const Frames& f, const VadResult& vad) {
  LevelEstimate r;
  const size_t T = f.count;
  r.noisePower.assign(T, 0.0f);
  if (T == 0) return r;
  const auto& sp = vad.isSpeech;
  // Pure noise frames.
  std::vector<uint8_t> noise(T, 0);
  size_t nextSpeech = SIZE_MAX;  // index of the next speech frame, scanning backward
  size_t count = 0;
  for (size_t i = T; i-- > 0;) {
    if (sp[i]) {
      nextSpeech = i;
      continue;
    }
    if (nextSpeech == SIZE_MAX || nextSpeech - i > kOnsetGuard) {
      noise[i] = 1;
      ++count;
    }
  }
  std::vector<double> nb(T * kBands, 0.0);
  if (count >= kMinNoiseFrames) {
    const double a = std::exp(-1.0 / kTrackFrames);
    std::vector<double> fw(T * kBands), bw(T * kBands);
    std::vector<uint8_t> fwOk(T, 0), bwOk(T, 0);
    for (int b = 0; b < kBands; ++b) {
      double acc = 0, wsum = 0;
      for (size_t t = 0; t < T; ++t) {
        if (noise[t]) {
          acc = a * acc + f.band[t * kBands + b];
          wsum = a * wsum + 1;
        }
        if (wsum > 0) {
          fw[t * kBands + b] = acc / wsum;
          fwOk[t] = 1;
        }
      }
      acc = 0, wsum = 0;
      for (size_t t = T; t-- > 0;) {
        if (noise[t]) {
          acc = a * acc + f.band[t * kBands + b];
          wsum = a * wsum + 1;
        }
        if (wsum > 0) {
          bw[t * kBands + b] = acc / wsum;
          bwOk[t] = 1;
        }
      }
    }
    for (size_t t = 0; t < T; ++t) {
      for (int b = 0; b < kBands; ++b) {
        const size_t k = t * kBands + b;
        if (noise[t])
          nb[k] = f.band[k];
        else if (fwOk[t] && bwOk[t])
          nb[k] = 0.5 * (fw[k] + bw[k]);
        else
          nb[k] = fwOk[t] ? fw[k] : bw[k];
      }
    }
    r.noiseSec = double(count) * kHop / kWorkRate;
  } else {
    // Minimum statistics: 10th percentile per band over the clip, times the mean/10th-percentile
    // ratio of a chi-square band power (about 2 for the few-bin low bands, less for wide bands).
    std::vector<float> col(T);
    for (int b = 0; b < kBands; ++b) {
      for (size_t t = 0; t < T; ++t) col[t] = f.band[t * kBands + b];
      const size_t k = T / 10;
      std::nth_element(col.begin(), col.begin() + k, col.end());
      const double v = col[k] * 1.5;
      for (size_t t = 0; t < T; ++t) nb[t * kBands + b] = v;
    }
  }
  double noiseSum = 0, speechSum = 0;
  size_t active = 0;
  for (size_t t = 0; t < T; ++t) {
    double nt = 0;
    for (int b = 0; b < kBands; ++b) nt += nb[t * kBands + b];
    r.noisePower[t] = float(nt);
    noiseSum += nt;
    if (sp[t]) {
      speechSum += std::max(0.0, double(f.power[t]) - nt);
      ++active;
    }
  }
  r.noiseLevelDbfs = toDb(noiseSum / double(T));
  r.activeLevelDbfs = active ? toDb(speechSum / double(active)) : -100.0;
  r.snrDb = active ? std::min(100.0, r.activeLevelDbfs - r.noiseLevelDbfs) : -100.0;
  if (active && r.noiseLevelDbfs <= -100.0) r.snrDb = 100.0;
  return r;
}

}  // namespace detail

double wadaSnr(const float* x, size_t n) {
  // G(SNR) for SNR = -20..100 dB (Kim & Stern 2008, Gamma(0.4) speech; table of their MATLAB code).
  static const double g[121] = {
      0.40974774, 0.40986926, 0.40998566, 0.40969089, 0.40986186, 0.40999006, 0.41027138, 0.41052627,
      0.41101024, 0.41143264, 0.41231718, 0.41337272, 0.41526426, 0.4178192,  0.42077252, 0.42452799,
      0.42918886, 0.43510373, 0.44234195, 0.45161485, 0.46221153, 0.47491647, 0.48883809, 0.50509236,
      0.52353709, 0.54372088, 0.56532427, 0.58847532, 0.61346212, 0.63954496, 0.66750818, 0.69583724,
      0.72454762, 0.75414799, 0.78323148, 0.81240985, 0.84219775, 0.87166406, 0.90030504, 0.92880418,
      0.95655449, 0.9835349,  1.01047155, 1.0362095,  1.06136425, 1.08579312, 1.1094819,  1.13277995,
      1.15472826, 1.17627308, 1.19703503, 1.21671694, 1.23535898, 1.25364313, 1.27103891, 1.28718029,
      1.30302865, 1.31839527, 1.33294817, 1.34700935, 1.3605727,  1.37345513, 1.38577122, 1.39733504,
      1.40856397, 1.41959619, 1.42983624, 1.43958467, 1.44902176, 1.45804831, 1.46669568, 1.47486938,
      1.48269965, 1.49034339, 1.49748214, 1.50435106, 1.51076426, 1.51698915, 1.5229097,  1.528578,
      1.53389835, 1.5391211,  1.5439065,  1.54858517, 1.55310776, 1.55744391, 1.56164927, 1.56566348,
      1.56938671, 1.57307767, 1.57654764, 1.57980083, 1.58304129, 1.58602496, 1.58880681, 1.59162477,
      1.5941969,  1.59693155, 1.599446,   1.60185011, 1.60408668, 1.60627134, 1.60826199, 1.61004547,
      1.61192472, 1.61369656, 1.61534074, 1.61688905, 1.61838916, 1.61985374, 1.62135878, 1.62268119,
      1.62390423, 1.62513143, 1.62632463, 1.6274027,  1.62842767, 1.62945532, 1.6303307,  1.63128026,
      1.63204102};
  if (n == 0 || x == nullptr) return -20.0;
  double peak = 0;
  for (size_t i = 0; i < n; ++i) peak = std::max(peak, double(std::fabs(x[i])));
  if (!(peak > 1e-10)) return -20.0;
  const double eps = 1e-10;
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double a = std::max(eps, std::fabs(x[i]) / peak);
    s1 += a;
    s2 += std::log(a);
  }
  const double v1 = std::max(eps, s1 / double(n));
  const double v3 = std::log(v1) - s2 / double(n);
  int idx = -1;
  for (int i = 0; i < 121; ++i)
    if (g[i] < v3) idx = i;
  double snr;
  if (idx < 0)
    snr = -20.0;
  else if (idx == 120)
    snr = 100.0;
  else
    snr = -20.0 + idx + (v3 - g[idx]) / (g[idx + 1] - g[idx]);
  return snr;  // the reference code's energy split returns this same value
}

}  // namespace voxqc::metrics
