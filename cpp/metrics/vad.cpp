// Speech activity: a small MLP over level-invariant spectral features with temporal context,
// trained on corpus mixtures by cpp/tools/metrics_train_vad.cpp (labels: ITU-T P.56 activity of
// the clean clip), then decision smoothing (click removal, gap bridging, P.56 hangover).
//
// Features per 10 ms frame (kFrameFeat = 2 * kBands + 4), all independent of the clip's gain:
//   [0, kBands)          band level above the band's noise floor, /10 dB, in [-1, 8]; the floor
//                        is the minimum over +-1.5 s of the 5-frame moving average (dB)
//   [kBands, 2 kBands)   spectral shape: band level minus the frame's mean band level, /10 dB
//   2 kBands             frame level above its floor (same tracker), /10 dB
//   2 kBands + 1         frame level below the loudest frame within +-3 s, /10 dB, in [-8, 0]
//   2 kBands + 2         periodicity (normalised autocorrelation peak, 62.5-400 Hz)
//   2 kBands + 3         periodicity averaged over +-5 frames
// The model sees these at the frame offsets kContext (frames.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/simd.h"
#include "metrics/frames.h"
#include "metrics/internal.h"
#include "metrics/metrics.h"

#if __has_include("metrics/vad_weights.inc")
#include "metrics/vad_weights.inc"  // kVadDims[3], kVadWeights[]
#define VOXQC_HAVE_VAD_WEIGHTS 1
#endif

namespace voxqc::metrics {
namespace detail {

namespace {
constexpr float kEps = 1e-10f;
inline float db(float p) { return 10.0f * std::log10(std::max(p, kEps)); }

std::vector<float> movingAverage(const std::vector<float>& v, size_t half) {
  const size_t n = v.size();
  std::vector<double> cs(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) cs[i + 1] = cs[i] + v[i];
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t lo = i >= half ? i - half : 0, hi = std::min(n, i + half + 1);
    out[i] = float((cs[hi] - cs[lo]) / double(hi - lo));
  }
  return out;
}
}  // namespace

std::vector<float> vadFeatures(const Frames& f) {
  const size_t T = f.count;
  std::vector<float> frameFeat(T * kFrameFeat, 0.0f);
  // Band levels and their floors.
  std::vector<float> L(T * kBands), tot(T);
  for (size_t t = 0; t < T; ++t) {
    for (int b = 0; b < kBands; ++b) L[t * kBands + b] = db(f.band[t * kBands + b]);
    tot[t] = db(f.power[t]);
  }
  std::vector<float> col(T);
  for (int b = 0; b < kBands; ++b) {
    for (size_t t = 0; t < T; ++t) col[t] = L[t * kBands + b];
    auto floor = slidingMin(movingAverage(col, 2), 150);
    for (size_t t = 0; t < T; ++t)
      frameFeat[t * kFrameFeat + b] = std::clamp((col[t] - floor[t]) / 10.0f, -1.0f, 8.0f);
  }
  auto totSmooth = movingAverage(tot, 2);
  auto totFloor = slidingMin(totSmooth, 150);
  auto totMax = slidingMax(totSmooth, 300);
  auto harmAvg = movingAverage(f.harm, 5);
  for (size_t t = 0; t < T; ++t) {
    float* o = &frameFeat[t * kFrameFeat];
    double mean = 0;
    for (int b = 0; b < kBands; ++b) mean += L[t * kBands + b];
    mean /= kBands;
    for (int b = 0; b < kBands; ++b)
      o[kBands + b] = std::clamp(float((L[t * kBands + b] - mean) / 10.0), -6.0f, 6.0f);
    o[2 * kBands] = std::clamp((tot[t] - totFloor[t]) / 10.0f, -1.0f, 8.0f);
    o[2 * kBands + 1] = std::clamp((tot[t] - totMax[t]) / 10.0f, -8.0f, 0.0f);
    o[2 * kBands + 2] = f.harm[t];
    o[2 * kBands + 3] = harmAvg[t];
  }
  // Stack the context.
  std::vector<float> out(T * kFeatureDims);
  for (size_t t = 0; t < T; ++t) {
    for (int c = 0; c < kContextN; ++c) {
      int64_t s = int64_t(t) + kContext[c];
      s = std::clamp<int64_t>(s, 0, int64_t(T) - 1);
      std::memcpy(&out[t * kFeatureDims + c * kFrameFeat], &frameFeat[size_t(s) * kFrameFeat],
                  sizeof(float) * kFrameFeat);
    }
  }
  return out;
}

VadModel parseVadModel(int inDims, int h1, int h2, const float* data, size_t count,
                       const std::string& origin) {
  const size_t need = size_t(inDims) * 2 + size_t(inDims) * h1 + h1 + size_t(h1) * h2 + h2 + h2 + 1;
  if (inDims != kFeatureDims || h1 <= 0 || h2 <= 0 || h1 > 4096 || h2 > 4096 || count != need) {
    std::ostringstream os;
    os << "VAD model " << origin << ": expected " << kFeatureDims << " inputs and " << need
       << " weights, got " << inDims << " inputs and " << count << " weights";
    throwInvalidArg(os.str());
  }
  VadModel m;
  m.inDims = inDims;
  m.h1 = h1;
  m.h2 = h2;
  const float* p = data;
  auto take = [&](std::vector<float>& v, size_t k) {
    v.assign(p, p + k);
    p += k;
  };
  take(m.mean, inDims);
  take(m.stdev, inDims);
  take(m.w1, size_t(h1) * inDims);
  take(m.b1, h1);
  take(m.w2, size_t(h2) * h1);
  take(m.b2, h2);
  take(m.w3, h2);
  take(m.b3, 1);
  return m;
}

const VadModel& builtinVadModel() {
  static const VadModel m = [] {
#ifdef VOXQC_HAVE_VAD_WEIGHTS
    return parseVadModel(kVadDims[0], kVadDims[1], kVadDims[2], kVadWeights,
                         sizeof(kVadWeights) / sizeof(float), "(built in)");
#else
    return VadModel{};
#endif
  }();
  return m;
}

VadModel loadVadModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throwInvalidArg("VAD model: cannot open " + path);
  char magic[8];
  int32_t dims[3];
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(dims), sizeof dims);
  if (!in || std::memcmp(magic, "VXQVAD01", 8) != 0)
    throwInvalidArg("VAD model: " + path + " is not a voxqc VAD model (bad magic)");
  std::vector<float> w;
  float v;
  while (in.read(reinterpret_cast<char*>(&v), sizeof v)) w.push_back(v);
  return parseVadModel(dims[0], dims[1], dims[2], w.data(), w.size(), path);
}

void saveVadModel(const VadModel& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throwInvalidArg("VAD model: cannot write " + path);
  out.write("VXQVAD01", 8);
  int32_t dims[3] = {m.inDims, m.h1, m.h2};
  out.write(reinterpret_cast<const char*>(dims), sizeof dims);
  for (const auto* v : {&m.mean, &m.stdev, &m.w1, &m.b1, &m.w2, &m.b2, &m.w3, &m.b3})
    out.write(reinterpret_cast<const char*>(v->data()), sizeof(float) * v->size());
}

std::vector<float> vadProbabilities(const Frames& f, const VadModel& m) {
  const size_t T = f.count;
  std::vector<float> prob(T, 0.0f);
  if (T == 0) return prob;
  if (m.empty()) {
    // No model: energy above the tracked floor (a fallback, much weaker in noise).
    std::vector<float> tot(T);
    for (size_t t = 0; t < T; ++t) tot[t] = db(f.power[t]);
    auto fl = slidingMin(movingAverage(tot, 2), 150);
    for (size_t t = 0; t < T; ++t) prob[t] = 1.0f / (1.0f + std::exp(-(tot[t] - fl[t] - 12.0f) / 2.0f));
    return prob;
  }
  std::vector<float> feat = vadFeatures(f);
  // (x - mean) / std, then three dense layers on our own kernel (simd::denseLayer, core/simd.cpp): through
  // libtorch this was a third of analyzeSignal's time on Debian's reference BLAS.
  const int64_t K = m.inDims, H1 = m.h1, H2 = m.h2;
  for (size_t t = 0; t < T; ++t) {
    float* row = feat.data() + t * K;
    for (int64_t i = 0; i < K; ++i) row[i] = (row[i] - m.mean[i]) / m.stdev[i];
  }
  auto transpose = [](const std::vector<float>& w, int64_t rows, int64_t cols) {
    std::vector<float> t(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) t[size_t(c * rows + r)] = w[size_t(r * cols + c)];
    return t;
  };
  const std::vector<float> w1t = transpose(m.w1, H1, K), w2t = transpose(m.w2, H2, H1);
  // Frames in blocks, so the hidden activations stay in cache.
  constexpr size_t kBlock = 256;
  std::vector<float> h1(kBlock * H1), h2(kBlock * H2);
  for (size_t t0 = 0; t0 < T; t0 += kBlock) {
    const size_t rows = std::min(kBlock, T - t0);
    simd::denseLayer(feat.data() + t0 * K, int64_t(rows), K, w1t.data(), m.b1.data(), H1, true, h1.data());
    simd::denseLayer(h1.data(), int64_t(rows), H1, w2t.data(), m.b2.data(), H2, true, h2.data());
    for (size_t r = 0; r < rows; ++r) {
      double z = m.b3[0];
      for (int64_t j = 0; j < H2; ++j) z += double(h2[r * H2 + j]) * m.w3[j];
      prob[t0 + r] = float(1.0 / (1.0 + std::exp(-z)));
    }
  }
  return prob;
}

}  // namespace detail

namespace {

void validateVad(const VadOptions& o) {
  auto bad = [](const char* name, double v, const char* range) {
    std::ostringstream os;
    os << "VadOptions." << name << " must be " << range << ", got " << v;
    throwInvalidArg(os.str());
  };
  if (!(o.threshold > 0 && o.threshold < 1)) bad("threshold", o.threshold, "in (0, 1)");
  if (!(o.hangoverSec >= 0 && o.hangoverSec <= 5)) bad("hangoverSec", o.hangoverSec, "in [0, 5]");
  if (!(o.minGapSec >= 0 && o.minGapSec <= 5)) bad("minGapSec", o.minGapSec, "in [0, 5]");
  if (!(o.minSpeechSec >= 0 && o.minSpeechSec <= 5)) bad("minSpeechSec", o.minSpeechSec, "in [0, 5]");
}

}  // namespace

// Shared with analyze.cpp: smoothing of the frame probabilities into decisions and segments.
VadResult smoothVad(const std::vector<float>& prob, const VadOptions& o) {
  validateVad(o);
  const double hop = double(detail::kHop) / detail::kWorkRate;
  VadResult r;
  r.frameSec = hop;
  r.speechProb = prob;
  const size_t T = prob.size();
  std::vector<uint8_t> raw(T);
  for (size_t t = 0; t < T; ++t) raw[t] = prob[t] > o.threshold;
  const size_t minSpeech = size_t(std::lround(o.minSpeechSec / hop));
  const size_t minGap = size_t(std::lround(o.minGapSec / hop));
  const size_t hang = size_t(std::lround(o.hangoverSec / hop));
  // Drop short bursts.
  for (size_t t = 0; t < T;) {
    if (!raw[t]) {
      ++t;
      continue;
    }
    size_t e = t;
    while (e < T && raw[e]) ++e;
    if (e - t < minSpeech) std::fill(raw.begin() + t, raw.begin() + e, 0);
    t = e;
  }
  // Bridge short gaps between speech runs.
  size_t lastEnd = SIZE_MAX;
  for (size_t t = 0; t < T;) {
    if (!raw[t]) {
      ++t;
      continue;
    }
    size_t e = t;
    while (e < T && raw[e]) ++e;
    if (lastEnd != SIZE_MAX && t - lastEnd < minGap) std::fill(raw.begin() + lastEnd, raw.begin() + t, 1);
    lastEnd = e;
    t = e;
  }
  r.isSpeech.assign(T, 0);
  for (size_t t = 0; t < T;) {
    if (!raw[t]) {
      ++t;
      continue;
    }
    size_t e = t;
    while (e < T && raw[e]) ++e;
    r.segments.push_back({double(t) * hop, double(e) * hop});
    std::fill(r.isSpeech.begin() + t, r.isSpeech.begin() + std::min(T, e + hang), 1);
    t = e;
  }
  return r;
}

VadResult detectSpeech(const float* x, size_t n, int sampleRate, const VadOptions& o) {
  validateVad(o);
  std::vector<float> w = detail::toWorkRate(x, n, sampleRate, "detectSpeech");
  detail::Frames f = detail::analyzeFrames(w.data(), w.size());
  const detail::VadModel& model =
      o.modelPath.empty() ? detail::builtinVadModel() : detail::loadVadModel(o.modelPath);
  // loadVadModel returns by value; keep it alive for the call.
  std::vector<float> prob = detail::vadProbabilities(f, model);
  VadResult r = smoothVad(prob, o);
  // The last frame may extend past the clip: clamp segment ends to the duration.
  const double dur = double(n) / sampleRate;
  for (auto& s : r.segments) s.endSec = std::min(s.endSec, dur);
  return r;
}

}  // namespace voxqc::metrics
