// Dropouts (rubric): runs of exactly-equal samples (digital zeros or a stuck value) inside the
// speech span. Every run of at least minMs is reported; runs that touch the first or last sample
// of the clip are padding, not dropouts, and runs at the clip rail (+/-clipLevel) are clipping.
// A run counts when it overlaps the speech span widened by 0.3 s on each side (a dropout that
// swallows a word's onset moves the VAD's first frame past it).
#include <algorithm>
#include <cmath>

#include "metrics/internal.h"

namespace voxqc::metrics::detail {

DropoutResult findDropouts(const float* x, size_t n, int sampleRate, size_t spanStart, size_t spanEnd,
                           double minMs, double clipLevel) {
  DropoutResult r;
  if (spanEnd <= spanStart || n < 2) return r;
  const size_t minLen = std::max<size_t>(2, size_t(std::ceil(minMs * 1e-3 * sampleRate)));
  const size_t widen = size_t(0.3 * sampleRate);
  const size_t lo = spanStart > widen ? spanStart - widen : 0;
  const size_t hi = std::min(n, spanEnd + widen);
  for (size_t i = 1; i < n;) {
    if (x[i] != x[i - 1]) {
      ++i;
      continue;
    }
    const size_t s = i - 1;
    size_t e = i;
    while (e < n && x[e] == x[s]) ++e;
    i = e;
    const size_t len = e - s;
    if (len < minLen || s == 0 || e == n) continue;
    if (clipLevel > 0 && std::fabs(x[s]) == float(clipLevel)) continue;
    if (e <= lo || s >= hi) continue;
    ++r.count;
    const double ms = 1e3 * double(len) / sampleRate;
    r.maxMs = std::max(r.maxMs, ms);
    r.spans.push_back({double(s) / sampleRate, double(e) / sampleRate});
  }
  return r;
}

}  // namespace voxqc::metrics::detail
