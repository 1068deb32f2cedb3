// High-band energy share and effective bandwidth (rubric) at the native rate: the long-term power
// spectrum over the VAD's active frames (Hann frames of ~32 ms, hop 20 ms), minus the long-term
// spectrum of the non-speech frames (the noise under the speech; floored at 0 per bin) when there
// are at least 0.2 s of them. DC is left out. hfEnergyAbove4k is the share above 4 kHz (0 when the
// native Nyquist is <= 4 kHz); bandwidthHz is where the cumulative share reaches 99.5%.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "features/features.h"
#include "metrics/internal.h"

namespace voxqc::metrics::detail {

BandResult measureBandwidth(const float* x, size_t n, int sampleRate, const std::vector<uint8_t>& isSpeech,
                            double floorDb) {
  BandResult r;
  int nfft = 256;
  while (nfft < 0.032 * sampleRate) nfft *= 2;
  const int bins = nfft / 2 + 1;
  const size_t hop = size_t(std::lround(0.02 * sampleRate));
  if (n < size_t(nfft)) return r;
  const size_t frames = 1 + (n - nfft) / hop;
  features::SpectrogramOptions so;
  so.nFft = nfft;
  so.hopLength = int(hop);
  so.center = false;
  so.sampleRate = sampleRate;
  const double workHop = double(kHop) / kWorkRate;
  std::vector<double> act(bins, 0.0), noi(bins, 0.0);
  size_t nAct = 0, nNoi = 0;
  std::mutex mu;
  constexpr size_t kChunk = 256;
  const size_t chunks = (frames + kChunk - 1) / kChunk;
  at::parallel_for(0, int64_t(chunks), 1, [&](int64_t c0, int64_t c1) {
    std::vector<double> a(bins, 0.0), z(bins, 0.0);
    size_t na = 0, nz = 0;
    std::vector<float> spec;
    for (int64_t c = c0; c < c1; ++c) {
      const size_t f0 = size_t(c) * kChunk, F = std::min(kChunk, frames - f0);
      const size_t len = (F - 1) * hop + nfft;
      spec.resize(F * bins);
      features::spectrogramInto(x + f0 * hop, len, so, spec.data());
      for (size_t t = 0; t < F; ++t) {
        const double centre = (double((f0 + t) * hop) + nfft / 2.0) / sampleRate;
        const size_t wf = size_t(centre / workHop);
        if (wf >= isSpeech.size()) continue;
        const float* p = &spec[t * bins];
        auto& dst = isSpeech[wf] ? a : z;
        for (int k = 0; k < bins; ++k) dst[k] += p[k];
        (isSpeech[wf] ? na : nz) += 1;
      }
    }
    std::lock_guard<std::mutex> lk(mu);
    for (int k = 0; k < bins; ++k) {
      act[k] += a[k];
      noi[k] += z[k];
    }
    nAct += na;
    nNoi += nz;
  });
  if (nAct == 0) return r;
  std::vector<double> s(bins, 0.0);
  double peak = 0;
  for (int k = 1; k < bins; ++k) {
    s[k] = act[k] / double(nAct);
    if (nNoi >= 10) s[k] = std::max(0.0, s[k] - noi[k] / double(nNoi));
    peak = std::max(peak, s[k]);
  }
  if (!(peak > 0)) return r;
  const double fl = peak * std::pow(10.0, floorDb / 10);
  double total = 0, high = 0;
  for (int k = 1; k < bins; ++k) {
    if (s[k] < fl) s[k] = 0;
    total += s[k];
    if (double(k) * sampleRate / nfft > 4000.0) high += s[k];
  }
  if (!(total > 0)) return r;
  r.hfShare = sampleRate > 8000 ? high / total : 0.0;
  double cum = 0;
  r.bandwidthHz = sampleRate / 2.0;
  for (int k = 1; k < bins; ++k) {
    cum += s[k];
    if (cum >= 0.995 * total) {
      r.bandwidthHz = double(k) * sampleRate / nfft;
      break;
    }
  }
  return r;
}

}  // namespace voxqc::metrics::detail
