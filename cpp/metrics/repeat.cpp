// Repetition (rubric): the longest stretch that occurs twice, the second time as a near-exact copy.
//
// 1. Candidates by hashing (O(frames)): each speech frame gets a 23-bit spectral key, the signs of
//    the differences between adjacent bands of its 3-frame-smoothed log band energies; four hash
//    tables index fixed 14-bit subsets of the key (locality-sensitive: a copy that sits a fraction
//    of a hop off the original's frame grid keeps most subsets). A frame votes for the frame lag
//    to every earlier frame with the same subset key within maxLag; a lag that collects >= 8 votes
//    (lags +-1 pooled) within 0.4 s is a candidate.
// 2. Verification on the samples: the exact lag in samples is the peak of the normalised
//    cross-correlation within +-1.5 frames of the candidate's; then 10 ms blocks are compared at
//    that lag and the stretch is grown while blocks correlate >= 1 - repeatMaxDistance (0.8 by
//    default; gaps of up to 0.15 s of
//    non-matching blocks are bridged, near-silent blocks neither break nor extend it; a block
//    that correlates <= -0.3 ends it: a copy never anti-correlates, a steady tone or hum whose
//    period happens to fit the lag does). A copy cannot overlap its original, so the stretch is at
//    most the lag.
// Re-spoken words, sustained vowels and rhythmic noise do not correlate sample by sample over
// 10 ms blocks at one lag for 0.4 s, so they do not count.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/simd.h"
#include "metrics/internal.h"

namespace voxqc::metrics::detail {

namespace {
constexpr int kTables = 4;
constexpr int kKeyBits = 14;
constexpr int kVotesNeeded = 8;
constexpr size_t kBucketScan = 64;
constexpr double kAntiCorr = -0.3;
constexpr size_t kMaxCandidates = 400;

struct Vote {
  uint32_t lag, t;
};

std::array<std::array<int, kKeyBits>, kTables> subsets() {
  std::array<std::array<int, kKeyBits>, kTables> s{};
  // Deterministic spread subsets of the 23 key bits.
  const int step[kTables] = {1, 3, 5, 7};
  for (int tb = 0; tb < kTables; ++tb)
    for (int i = 0; i < kKeyBits; ++i) s[tb][i] = (tb * 2 + i * step[tb]) % (kBands - 1);
  return s;
}

double blockCorr(const float* a, const float* b, size_t len, double& ea, double& eb) {
  double ab = 0;
  ea = 0, eb = 0;
  for (size_t i = 0; i < len; ++i) {
    ab += double(a[i]) * b[i];
    ea += double(a[i]) * a[i];
    eb += double(b[i]) * b[i];
  }
  if (ea <= 0 || eb <= 0) return 0;
  return ab / std::sqrt(ea * eb);
}
}  // namespace

RepeatResult findRepetition(const float* x, size_t n, const Frames& f, const VadResult& vad,
                            double minSec, double maxLagSec, double minBlockCorr) {
  const double kBlockCorr = minBlockCorr;
  RepeatResult best;
  const size_t T = f.count;
  const size_t minFrames = size_t(std::lround(minSec * kWorkRate / kHop));
  const size_t maxLag = size_t(std::lround(maxLagSec * kWorkRate / kHop));
  if (T < 2 * minFrames || minFrames < 2) return best;
  // Smoothed log band energies -> keys.
  std::vector<uint32_t> key(T, 0);
  std::vector<uint8_t> use(T, 0);
  for (size_t t = 0; t < T; ++t) {
    float g[kBands];
    for (int b = 0; b < kBands; ++b) {
      double s = 0;
      int c = 0;
      for (int d = -1; d <= 1; ++d) {
        const int64_t u = int64_t(t) + d;
        if (u < 0 || u >= int64_t(T)) continue;
        s += f.band[size_t(u) * kBands + b];
        ++c;
      }
      g[b] = float(10 * std::log10(s / c + 1e-12));
    }
    uint32_t k = 0;
    for (int b = 0; b + 1 < kBands; ++b) k |= uint32_t(g[b + 1] > g[b]) << b;
    key[t] = k;
    use[t] = vad.isSpeech.empty() ? 1 : vad.isSpeech[t];
  }
  const auto sub = subsets();
  std::vector<std::vector<uint32_t>> buckets(size_t(kTables) << kKeyBits);
  std::vector<Vote> votes;
  std::vector<uint32_t> lagsHere;
  for (size_t t = 0; t < T; ++t) {
    if (!use[t]) continue;
    lagsHere.clear();
    for (int tb = 0; tb < kTables; ++tb) {
      uint32_t h = 0;
      for (int i = 0; i < kKeyBits; ++i) h |= ((key[t] >> sub[tb][i]) & 1u) << i;
      auto& bucket = buckets[(size_t(tb) << kKeyBits) | h];
      size_t scanned = 0;
      for (size_t j = bucket.size(); j-- > 0 && scanned < kBucketScan; ++scanned) {
        const size_t lag = t - bucket[j];
        if (lag > maxLag) break;
        if (lag >= minFrames) lagsHere.push_back(uint32_t(lag));
      }
      bucket.push_back(uint32_t(t));
    }
    std::sort(lagsHere.begin(), lagsHere.end());
    lagsHere.erase(std::unique(lagsHere.begin(), lagsHere.end()), lagsHere.end());
    for (uint32_t l : lagsHere) votes.push_back({l, uint32_t(t)});
  }
  if (votes.empty()) return best;
  std::sort(votes.begin(), votes.end(), [](const Vote& a, const Vote& b) {
    return a.lag != b.lag ? a.lag < b.lag : a.t < b.t;
  });
  // Candidates: for each lag L, votes at L-1..L+1 within minFrames.
  struct Cand {
    uint32_t lag, t, votes;
  };
  std::vector<Cand> cands;
  {
    size_t i = 0;
    std::vector<uint32_t> ts;
    while (i < votes.size()) {
      const uint32_t L = votes[i].lag;
      size_t j = i;
      while (j < votes.size() && votes[j].lag == L) ++j;
      // Gather L-1..L+1.
      ts.clear();
      auto lo = std::lower_bound(votes.begin(), votes.end(), L == 0 ? 0u : L - 1,
                                 [](const Vote& v, uint32_t l) { return v.lag < l; });
      for (auto it = lo; it != votes.end() && it->lag <= L + 1; ++it) ts.push_back(it->t);
      std::sort(ts.begin(), ts.end());
      size_t a = 0;
      uint32_t bestCount = 0, bestT = 0;
      for (size_t b = 0; b < ts.size(); ++b) {
        while (ts[b] - ts[a] >= minFrames) ++a;
        const uint32_t c = uint32_t(b - a + 1);
        if (c > bestCount) {
          bestCount = c;
          bestT = ts[(a + b) / 2];
        }
      }
      if (bestCount >= uint32_t(kVotesNeeded)) cands.push_back({L, bestT, bestCount});
      i = j;
    }
  }
  std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.votes > b.votes; });
  if (cands.size() > kMaxCandidates) cands.resize(kMaxCandidates);

  const size_t blk = kHop;
  std::vector<std::pair<size_t, size_t>> done;  // verified second-copy spans (samples)
  std::vector<double> prefix;                     // prefix sums of squares for the lag search
  std::vector<double> chunkRms;                   // sqrt of each 320-sample window's energy
  for (const auto& c : cands) {
    const size_t centre = size_t(c.t) * kHop + kHop / 2;
    bool seen = false;
    for (auto& d : done)
      if (centre >= d.first && centre < d.second) seen = true;
    if (seen) continue;
    // Exact lag in samples around the centre.
    constexpr int64_t segLen = 4800, half = 2400;
    const int64_t s0 = int64_t(centre) - half;
    const int64_t lagLo = int64_t(c.lag) * kHop - 240, lagHi = int64_t(c.lag) * kHop + 240;
    if (s0 - lagHi < 0 || s0 + segLen > int64_t(n) || lagLo <= 0) continue;
    // Normalised cross-correlation at every lag in [lagLo, lagHi]: the segment's energy once, the
    // lagged window's energy from prefix sums of squares, the dot product on the SIMD kernel
    // (core/simd.cpp) in 15 chunks of 320 samples. After each chunk, Cauchy-Schwarz bounds what
    // the rest can add (|sum a b| <= sqrt(sum a^2 * sum b^2) per chunk): a lag that can no longer
    // reach max(kBlockCorr, the best so far) is dropped. Exact: a dropped lag could not have been
    // the maximum, nor have passed the threshold. Most lags of a false candidate go after 3-5
    // chunks, which makes the search ~3x cheaper than computing every sum in full.
    constexpr int64_t kChunk = 320, kChunks = segLen / kChunk;
    static_assert(kChunk * kChunks == segLen, "segment splits into whole chunks");
    double bestR = -1;
    int64_t bestLag = 0;
    {
      const float* a = x + s0;
      double ea = 0, eaC[kChunks];
      for (int64_t c = 0; c < kChunks; ++c) {
        const double e = simd::dotProduct(a + c * kChunk, a + c * kChunk, size_t(kChunk));
        eaC[c] = e;
        ea += e;
      }
      const int64_t w0 = s0 - lagHi, w1 = s0 - lagLo + segLen;  // span of every lagged window
      prefix.assign(size_t(w1 - w0 + 1), 0.0);
      for (int64_t i = w0; i < w1; ++i) prefix[size_t(i - w0 + 1)] = prefix[size_t(i - w0)] + double(x[i]) * x[i];
      // Square roots of every chunk-long window's energy, once per candidate (the bound needs one
      // per chunk and lag), and of the segment's chunks.
      const size_t span = size_t(w1 - w0);
      chunkRms.resize(span - size_t(kChunk) + 1);
      simd::windowRoots(prefix.data(), chunkRms.size(), size_t(kChunk), chunkRms.data());
      double eaRoot[kChunks];
      for (int64_t c = 0; c < kChunks; ++c) eaRoot[c] = std::sqrt(eaC[c]);
      // Loudest chunks of the segment first: what is left after them bounds the rest tightly,
      // so a lag that cannot match goes sooner (the sum is the same, in another order).
      int64_t order[kChunks];
      for (int64_t c = 0; c < kChunks; ++c) order[c] = c;
      std::stable_sort(order, order + kChunks, [&](int64_t p, int64_t q) { return eaC[p] > eaC[q]; });
      double rest[kChunks + 1];  // rest[j]: bound on |sum a b| over chunks order[j..end]
      for (int64_t L = lagLo; L <= lagHi; ++L) {
        const float* b = x + s0 - L;
        const size_t o = size_t(s0 - L - w0);  // prefix index of b[0]
        const double eb = prefix[o + size_t(segLen)] - prefix[o];
        if (ea <= 0 || eb <= 0) {
          if (0.0 > bestR) bestR = 0.0, bestLag = L;
          continue;
        }
        const double denom = std::sqrt(ea * eb);
        rest[kChunks] = 0;
        for (int64_t j = kChunks - 1; j >= 0; --j)
          rest[j] = rest[j + 1] + eaRoot[order[j]] * chunkRms[o + size_t(order[j] * kChunk)];
        const double need = std::max(kBlockCorr, bestR) * denom;
        double ab = 0;
        bool dropped = false;
        for (int64_t j = 0; j < kChunks; ++j) {
          const int64_t c = order[j];
          ab += simd::dotProduct(a + c * kChunk, b + c * kChunk, size_t(kChunk));
          // The 1e-9 margin keeps rounding in the bound from dropping a lag at the threshold.
          if (ab + rest[j + 1] * (1 + 1e-9) < need) {
            dropped = true;
            break;
          }
        }
        if (dropped) continue;
        const double r = ab / denom;
        if (r > bestR) {
          bestR = r;
          bestLag = L;
        }
      }
    }
    if (bestR < kBlockCorr) continue;
    const size_t Ls = size_t(bestLag);
    // Grow in 10 ms blocks from the centre block.
    const size_t nb = n / blk;
    const size_t cb = centre / blk;
    auto matchAt = [&](size_t b, int& state) {  // 1 match, 0 neutral, -1 mismatch
      const size_t s = b * blk;
      if (s < Ls || s + blk > n) return (state = -1);
      double ea, eb;
      const double r = blockCorr(x + s, x + s - Ls, blk, ea, eb);
      if (ea / blk < 1e-9 && eb / blk < 1e-9) return (state = 0);
      if (r <= kAntiCorr) return (state = -2);  // impossible in a copy: a periodic sound
      return (state = r >= kBlockCorr ? 1 : -1);
    };
    const size_t maxGap = 15;
    size_t first = cb, last = cb;
    int st;
    {
      size_t gap = 0;
      for (size_t b = cb + 1; b < nb && gap <= maxGap; ++b) {
        matchAt(b, st);
        if (st == -2) break;
        if (st == 1) {
          last = b;
          gap = 0;
        } else if (st == -1) {
          ++gap;
        }
      }
      gap = 0;
      for (size_t b = cb; b-- > 0 && gap <= maxGap;) {
        if (b * blk < Ls) break;
        matchAt(b, st);
        if (st == -2) break;
        if (st == 1) {
          first = b;
          gap = 0;
        } else if (st == -1) {
          ++gap;
        }
      }
    }
    size_t lenSamples = (last - first + 1) * blk;
    lenSamples = std::min(lenSamples, Ls);
    const double sec = double(lenSamples) / kWorkRate;
    done.push_back({first * blk, (last + 1) * blk});
    if (sec >= minSec && sec > best.seconds) {
      best.seconds = sec;
      best.secondSec = double(first * blk) / kWorkRate;
      best.firstSec = double(first * blk - Ls) / kWorkRate;
    }
  }
  return best;
}

}  // namespace voxqc::metrics::detail
