// Clipped fraction (rubric): the clip level is the largest magnitude the waveform reaches, per
// polarity, provided it is *held*: two runs of >= 2 consecutive samples sit exactly at it, or one
// such run and one more sample (a single held peak is what a quantised smooth peak can do by
// itself; a waveform cut off by a rail sits at it again and again). Once a rail is established, every sample at it counts (the
// planted fraction counts them too), over all samples. Positive and negative rails are found
// separately, so asymmetric clipping (DC offset, one-sided limiter) is measured; clipLevel reports
// the larger magnitude of the rails found.
#include <algorithm>
#include <cmath>

#include "metrics/internal.h"

namespace voxqc::metrics::detail {

ClipResult measureClipping(const float* x, size_t n) {
  ClipResult r;
  if (n < 2) return r;
  float hi = x[0], lo = x[0];
  for (size_t i = 1; i < n; ++i) {
    hi = std::max(hi, x[i]);
    lo = std::min(lo, x[i]);
  }
  size_t at[2] = {0, 0}, held[2] = {0, 0};
  const float rails[2] = {hi, lo};
  for (int pol = 0; pol < 2; ++pol) {
    const float rail = rails[pol];
    if (rail == 0.0f || (pol == 0 ? rail < 0 : rail > 0)) continue;
    for (size_t i = 0; i < n;) {
      if (x[i] != rail) {
        ++i;
        continue;
      }
      size_t e = i;
      while (e < n && x[e] == rail) ++e;
      at[pol] += e - i;
      if (e - i >= 2) ++held[pol];
      i = e;
    }
  }
  // A rail is established by two held runs, or one held run plus another sample at it; a rail of
  // the same magnitude as an established one on the other side counts too (symmetric clipping).
  bool est[2];
  for (int pol = 0; pol < 2; ++pol) est[pol] = held[pol] >= 2 || (held[pol] >= 1 && at[pol] >= 3);
  for (int pol = 0; pol < 2; ++pol)
    if (!est[pol] && est[1 - pol] && at[pol] > 0 && std::fabs(rails[pol]) == std::fabs(rails[1 - pol]))
      est[pol] = true;
  size_t clipped = 0;
  for (int pol = 0; pol < 2; ++pol)
    if (est[pol]) {
      clipped += at[pol];
      r.level = std::max(r.level, double(std::fabs(rails[pol])));
    }
  r.fraction = double(clipped) / double(n);
  return r;
}

}  // namespace voxqc::metrics::detail
