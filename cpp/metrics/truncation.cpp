// Truncation (rubric): the clip starts or ends while a word is being spoken.
//
// What separates a clip cut inside a word from one that starts exactly at a word onset (or ends
// exactly at a word's end) is not whether there is energy at sample 0 but its shape: an onset
// starts low and rises over tens of milliseconds (a vowel's glottal attack, a fricative's build-
// up, a stop's silent closure), an offset decays; a cut lands on speech at its running level.
// At each edge, with e0 the noise-subtracted mean square of the first (last) 10 ms and emax the
// loudest 10 ms block of the next (previous) 60 ms:
//   edgeDb  = 10 log10(e0) - activeLevelDbfs     (how loud the edge is against the speech)
//   localSnr = e0 over the noise power at the edge
//   rise    = 10 log10(emax / e0)                 (an onset/offset ramp)
// The edge is truncated when edgeDb >= kEdgeDb, localSnr >= kEdgeSnrDb and rise < kRiseDb.
// Constants tuned on the tuning split only (LJSpeech, Thorsten, CMU ARCTIC) with
// cpp/tools/metrics_tune_truncation.cpp: there, recall 0.88 at 0.3% false alarms (500 edges).
#include <algorithm>
#include <cmath>

#include "metrics/internal.h"

namespace voxqc::metrics::detail {

namespace {
constexpr double kEdgeDb = -17.0;
constexpr double kEdgeSnrDb = 3.0;
constexpr double kRiseDb = 15.0;
constexpr size_t kBlock = 160;  // 10 ms at 16 kHz

double blockPower(const float* x, size_t len) {
  double s = 0;
  for (size_t i = 0; i < len; ++i) s += double(x[i]) * x[i];
  return len ? s / double(len) : 0.0;
}

bool edgeTruncated(const float* x, size_t n, bool atStart, double noise, double activeDb, double& edgeDb,
                   double& riseOut, double& snrOut) {
  edgeDb = -100;
  if (n < 7 * kBlock) return false;
  const float* first = atStart ? x : x + n - kBlock;
  const double e0raw = blockPower(first, kBlock);
  const double e0 = std::max(0.0, e0raw - noise);
  double emax = 0;
  for (int k = 1; k <= 6; ++k) {
    const float* b = atStart ? x + k * kBlock : x + n - (k + 1) * kBlock;
    emax = std::max(emax, std::max(0.0, blockPower(b, kBlock) - noise));
  }
  if (!(e0 > 0)) return false;
  edgeDb = 10 * std::log10(e0) - activeDb;
  const double localSnr = noise > 0 ? 10 * std::log10(e0 / noise) : 100.0;
  const double rise = emax > 0 ? 10 * std::log10(emax / e0) : -100.0;
  riseOut = rise;
  snrOut = localSnr;
  return edgeDb >= kEdgeDb && localSnr >= kEdgeSnrDb && rise < kRiseDb;
}
}  // namespace

TruncationResult detectTruncation(const float* x, size_t n, const Frames& f, const VadResult& vad,
                                  const LevelEstimate& lev) {
  TruncationResult r;
  if (f.count == 0 || lev.activeLevelDbfs <= -100) return r;
  const double n0 = lev.noisePower.front(), n1 = lev.noisePower.back();
  r.start = edgeTruncated(x, n, true, n0, lev.activeLevelDbfs, r.startDb, r.startRise, r.startSnr);
  r.end = edgeTruncated(x, n, false, n1, lev.activeLevelDbfs, r.endDb, r.endRise, r.endSnr);
  return r;
}

}  // namespace voxqc::metrics::detail
