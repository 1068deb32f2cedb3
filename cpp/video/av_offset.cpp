// Audio-video offset estimation: see av_offset.h for the method.
#include "video/av_offset.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace voxqc::video {

namespace {

constexpr int kGridRows = 6, kGridCols = 8;
constexpr int kTopCells[] = {4, 6};
constexpr int kFluxSpans[] = {4, 6, 8};  // in 10 ms frames
constexpr int kBands = 24;
constexpr double kBandLoHz = 80.0, kBandHiHz = 7600.0;
constexpr double kFloorDb = 60.0;
constexpr double kRate = 100.0;  // analysis rate (Hz) of both signals
constexpr double kRivalMinDistMs = 120.0;

std::string num(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Mean absolute frame difference per grid cell: (numFrames - 1) x cells.
std::vector<double> cellMotion(const uint8_t* frames, int n, int w, int h) {
  const int cells = kGridRows * kGridCols;
  std::vector<int> rowCell(h), colCell(w);
  std::vector<double> cellSize(cells, 0.0);
  for (int y = 0; y < h; ++y) rowCell[y] = std::min(kGridRows - 1, static_cast<int>(int64_t(y) * kGridRows / h));
  for (int x = 0; x < w; ++x) colCell[x] = std::min(kGridCols - 1, static_cast<int>(int64_t(x) * kGridCols / w));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) cellSize[rowCell[y] * kGridCols + colCell[x]] += 1.0;
  const size_t frameBytes = size_t(w) * size_t(h);
  std::vector<double> out(size_t(n - 1) * cells, 0.0);
  std::vector<int64_t> acc(cells);
  for (int i = 0; i + 1 < n; ++i) {
    const uint8_t* a = frames + frameBytes * i;
    const uint8_t* b = a + frameBytes;
    std::fill(acc.begin(), acc.end(), 0);
    for (int y = 0; y < h; ++y) {
      const uint8_t* ra = a + size_t(y) * w;
      const uint8_t* rb = b + size_t(y) * w;
      const int base = rowCell[y] * kGridCols;
      for (int x = 0; x < w; ++x) acc[base + colCell[x]] += std::abs(int(ra[x]) - int(rb[x]));
    }
    for (int c = 0; c < cells; ++c) out[size_t(i) * cells + c] = cellSize[c] > 0 ? acc[c] / cellSize[c] : 0.0;
  }
  return out;
}

// Log band energies at audio frames centred at video-clock times k / kRate, k = k0 .. k0+count-1:
// count x kBands (row-major), and a mask of the frames that hold audio.
struct BandEnergies {
  std::vector<float> logE;
  std::vector<uint8_t> hasAudio;
};

BandEnergies bandEnergies(const float* audio, size_t numSamples, int sampleRate, double audioStartSec, int64_t k0,
                          int64_t count) {
  const int win = std::max(16, static_cast<int>(std::lround(0.025 * sampleRate)));
  int nfft = 1;
  while (nfft < win) nfft <<= 1;
  const int bins = nfft / 2 + 1;
  const double hi = std::min(kBandHiHz, 0.48 * sampleRate);
  const double lo = std::min(kBandLoHz, hi / 4);
  std::vector<int> binBand(bins, -1);
  for (int b = 0; b < bins; ++b) {
    const double f = double(b) * sampleRate / nfft;
    for (int q = 0; q < kBands; ++q) {
      const double e0 = lo * std::pow(hi / lo, double(q) / kBands);
      const double e1 = lo * std::pow(hi / lo, double(q + 1) / kBands);
      if (f >= e0 && f < e1) {
        binBand[b] = q;
        break;
      }
    }
  }
  std::vector<float> hann(win);
  for (int i = 0; i < win; ++i) hann[i] = float(0.5 - 0.5 * std::cos(2.0 * M_PI * i / (win - 1)));

  BandEnergies be;
  be.hasAudio.assign(size_t(count), 0);
  // Only frames whose window overlaps the audio are transformed.
  std::vector<int64_t> idx;
  std::vector<int64_t> starts;
  for (int64_t k = 0; k < count; ++k) {
    const double centre = ((double(k0 + k) / kRate) - audioStartSec) * sampleRate;
    const int64_t start = static_cast<int64_t>(std::llround(centre)) - win / 2;
    if (start + win <= 0 || start >= int64_t(numSamples)) continue;
    // A frame counts as "having audio" when its centre lies within the audio.
    if (centre >= 0 && centre < double(numSamples)) be.hasAudio[size_t(k)] = 1;
    idx.push_back(k);
    starts.push_back(start);
  }
  be.logE.assign(size_t(count) * kBands, 0.0f);
  if (idx.empty()) return be;
  auto frames = torch::zeros({int64_t(idx.size()), nfft}, torch::kFloat32);
  float* fp = frames.data_ptr<float>();
  for (size_t r = 0; r < idx.size(); ++r) {
    float* row = fp + r * nfft;
    for (int i = 0; i < win; ++i) {
      const int64_t s = starts[r] + i;
      if (s >= 0 && s < int64_t(numSamples)) row[i] = audio[s] * hann[i];
    }
  }
  auto power = torch::fft::rfft(frames, nfft, /*dim=*/1).abs().pow(2).contiguous();
  const float* pp = power.data_ptr<float>();
  std::vector<double> energy(idx.size() * kBands, 0.0);
  double maxE = 0.0;
  for (size_t r = 0; r < idx.size(); ++r) {
    for (int b = 0; b < bins; ++b) {
      if (binBand[b] >= 0) energy[r * kBands + binBand[b]] += pp[r * bins + b];
    }
  }
  for (double e : energy) maxE = std::max(maxE, e);
  const double floorE = maxE > 0 ? maxE * std::pow(10.0, -kFloorDb / 10.0) : 1e-30;
  // Frames without audio are silence: the floor.
  std::fill(be.logE.begin(), be.logE.end(), float(std::log(floorE)));
  for (size_t r = 0; r < idx.size(); ++r)
    for (int q = 0; q < kBands; ++q)
      be.logE[size_t(idx[r]) * kBands + q] = float(std::log(std::max(energy[r * kBands + q], floorE)));
  return be;
}

// Normalised cross-correlation curve: corr(L) = sum_j m[j] s[j + L + lagBase] / (|m| |s|), with m
// and s mean-removed (s over its audio frames; zero elsewhere).
std::vector<double> xcorr(const std::vector<double>& m, const std::vector<double>& s, int maxLag) {
  const int64_t J = int64_t(m.size());
  std::vector<double> out(size_t(2 * maxLag + 1), 0.0);
  double nm = 0, ns = 0;
  for (double v : m) nm += v * v;
  for (double v : s) ns += v * v;
  if (nm <= 0 || ns <= 0) return out;
  const double norm = std::sqrt(nm * ns);
  for (int L = -maxLag; L <= maxLag; ++L) {
    double acc = 0;
    // s index = j + L + maxLag (s covers video frames -maxLag .. J-1+maxLag)
    for (int64_t j = 0; j < J; ++j) acc += m[size_t(j)] * s[size_t(j + L + maxLag)];
    out[size_t(L + maxLag)] = acc / norm;
  }
  return out;
}

}  // namespace

AvOffsetResult estimateAvOffset(const uint8_t* grayFrames, int numFrames, int width, int height, double fps,
                                const float* audio, size_t numSamples, int sampleRate,
                                const AvOffsetOptions& o) {
  const char* where = "avOffset: ";
  if (!(fps > 0 && fps <= 1000 && std::isfinite(fps))) throwInvalidArg(std::string(where) + "fps must be in (0, 1000], got " + num(fps));
  if (width < kGridCols || height < kGridRows || width > 4096 || height > 4096)
    throwInvalidArg(std::string(where) + "frame size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is out of range (at least 8x6, at most 4096x4096)");
  if (numFrames < 0) throwInvalidArg(std::string(where) + "numFrames must be >= 0");
  if (!grayFrames && numFrames > 0) throwInvalidArg(std::string(where) + "no frame data");
  if (!audio && numSamples > 0) throwInvalidArg(std::string(where) + "no audio data");
  if (sampleRate < 1000 || sampleRate > 768000)
    throwInvalidArg(std::string(where) + "sampleRate must be from 1000 to 768000 Hz, got " + std::to_string(sampleRate));
  if (!(o.maxOffsetMs > 0 && o.maxOffsetMs <= 5000))
    throwInvalidArg(std::string(where) + "maxOffsetMs must be in (0, 5000], got " + num(o.maxOffsetMs));
  if (!std::isfinite(o.audioStartSec)) throwInvalidArg(std::string(where) + "audioStartSec must be finite");
  if (!(std::fabs(o.leadMs) <= 500)) throwInvalidArg(std::string(where) + "leadMs must be within +-500, got " + num(o.leadMs));
  const double videoSec = numFrames / fps;
  if (numFrames < 8 || videoSec < kMinVideoSec)
    throwInvalidArg(std::string(where) + "the video is too short: " + std::to_string(numFrames) + " frames (" +
                    num(std::round(videoSec * 1000) / 1000) + " s); at least 8 frames and " + num(kMinVideoSec) +
                    " s are needed");
  if (numSamples < size_t(sampleRate / 10))
    throwInvalidArg(std::string(where) + "the audio is too short: " + std::to_string(numSamples) + " samples (" +
                    num(double(numSamples) / sampleRate) + " s)");

  AvOffsetResult res;
  const int maxLag = static_cast<int>(std::lround(o.maxOffsetMs / (1000.0 / kRate)));
  res.lagStepMs = 1000.0 / kRate;
  res.curve.assign(size_t(2 * maxLag + 1), 0.0f);

  // --- video: motion per cell, mouth cells, signals on the 100 Hz grid --------------------------
  const int cells = kGridRows * kGridCols;
  const int nd = numFrames - 1;
  std::vector<double> motion = cellMotion(grayFrames, numFrames, width, height);
  std::vector<double> sd(cells, 0.0);
  for (int c = 0; c < cells; ++c) {
    double s = 0, s2 = 0;
    for (int i = 0; i < nd; ++i) s += motion[size_t(i) * cells + c];
    const double mean = s / nd;
    for (int i = 0; i < nd; ++i) s2 += (motion[size_t(i) * cells + c] - mean) * (motion[size_t(i) * cells + c] - mean);
    sd[c] = std::sqrt(s2 / nd);
  }
  std::vector<int> order(cells);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return sd[a] > sd[b]; });

  const int64_t J = std::max<int64_t>(2, static_cast<int64_t>(std::floor(videoSec * kRate)));
  std::vector<std::vector<double>> videoSignals;
  for (int K : kTopCells) {
    std::vector<double> raw(nd, 0.0);
    for (int i = 0; i < nd; ++i)
      for (int r = 0; r < K; ++r) raw[i] += motion[size_t(i) * cells + order[r]];
    if (K == kTopCells[0]) {
      double s = 0;
      for (double v : raw) s += v;
      res.motionLevel = s / nd / K;
    }
    std::vector<double> sig(static_cast<size_t>(J));
    for (int64_t j = 0; j < J; ++j) {
      const double pos = (double(j) / kRate) * fps - 0.5;  // in motion-sample units
      if (pos <= 0) sig[j] = raw[0];
      else if (pos >= nd - 1) sig[j] = raw[nd - 1];
      else {
        const int i0 = static_cast<int>(pos);
        const double f = pos - i0;
        sig[j] = raw[i0] * (1 - f) + raw[i0 + 1] * f;
      }
    }
    const double mean = std::accumulate(sig.begin(), sig.end(), 0.0) / double(J);
    for (double& v : sig) v -= mean;
    videoSignals.push_back(std::move(sig));
  }

  // --- audio: spectral flux on the video clock, covering -maxLag .. J-1+maxLag -----------------
  const int maxSpan = *std::max_element(std::begin(kFluxSpans), std::end(kFluxSpans));
  const int64_t pad = maxSpan / 2 + 1;
  const int64_t k0 = -maxLag - pad;
  const int64_t count = J + 2 * maxLag + 2 * pad;
  BandEnergies be = bandEnergies(audio, numSamples, sampleRate, o.audioStartSec, k0, count);
  std::vector<std::vector<double>> audioSignals;
  double speechFrames = 0;
  for (int d : kFluxSpans) {
    const int h0 = d / 2, h1 = d - d / 2;
    std::vector<double> s(size_t(J + 2 * maxLag), 0.0);
    std::vector<uint8_t> valid(s.size(), 0);
    double sum = 0, nValid = 0;
    for (size_t t = 0; t < s.size(); ++t) {
      const int64_t k = int64_t(t) + pad;  // index into be (k0 + pad == -maxLag)
      if (!be.hasAudio[size_t(k)]) continue;
      const float* a = &be.logE[size_t(k - h0) * kBands];
      const float* b = &be.logE[size_t(k + h1) * kBands];
      double f = 0;
      for (int q = 0; q < kBands; ++q) f += std::fabs(double(b[q]) - double(a[q]));
      s[t] = f / kBands;
      valid[t] = 1;
      sum += s[t];
      nValid += 1;
    }
    if (nValid > 0) {
      const double mean = sum / nValid;
      for (size_t t = 0; t < s.size(); ++t)
        if (valid[t]) s[t] -= mean;
    }
    if (d == kFluxSpans[0]) {
      double mx = 0;
      for (size_t t = 0; t < s.size(); ++t) mx = std::max(mx, s[t] + (valid[t] ? sum / std::max(1.0, nValid) : 0));
      for (size_t t = 0; t < s.size(); ++t)
        if (valid[t] && s[t] + sum / std::max(1.0, nValid) > 0.1 * mx && mx > 0) speechFrames += 1;
    }
    audioSignals.push_back(std::move(s));
  }
  res.speechSec = speechFrames / kRate;

  // --- correlation curves, averaged ----------------------------------------------------------------
  std::vector<double> curve(size_t(2 * maxLag + 1), 0.0);
  int used = 0;
  for (const auto& m : videoSignals)
    for (const auto& s : audioSignals) {
      auto c = xcorr(m, s, maxLag);
      for (size_t i = 0; i < c.size(); ++i) curve[i] += c[i];
      ++used;
    }
  for (size_t i = 0; i < curve.size(); ++i) {
    curve[i] /= used;
    res.curve[i] = float(curve[i]);
  }
  const bool degenerate = std::all_of(curve.begin(), curve.end(), [](double v) { return v == 0.0; });
  if (degenerate || res.speechSec <= 0) return res;  // no motion or no sound: offset 0, confidence 0

  // --- peak, refinement, rival, confidence ---------------------------------------------------------
  const int n = int(curve.size());
  const int ip = int(std::max_element(curve.begin(), curve.end()) - curve.begin());
  double frac = 0;
  if (ip > 0 && ip < n - 1) {
    const double y0 = curve[ip - 1], y1 = curve[ip], y2 = curve[ip + 1];
    const double den = y0 - 2 * y1 + y2;
    if (den < 0) frac = std::clamp(0.5 * (y0 - y2) / den, -0.5, 0.5);
  }
  res.atSearchEdge = ip == 0 || ip == n - 1;
  res.rawLagMs = (ip - maxLag + frac) * res.lagStepMs;
  res.offsetMs = res.rawLagMs - o.leadMs;
  res.peakCorr = curve[ip];
  const int minDist = static_cast<int>(std::lround(kRivalMinDistMs / res.lagStepMs));
  int ir = -1;
  for (int i = 0; i < n; ++i) {
    if (std::abs(i - ip) < minDist) continue;
    const bool localMax = (i == 0 || curve[i] >= curve[i - 1]) && (i == n - 1 || curve[i] >= curve[i + 1]);
    if (localMax && (ir < 0 || curve[i] > curve[ir])) ir = i;
  }
  if (ir >= 0) {
    res.rivalCorr = curve[ir];
    res.rivalLagMs = (ir - maxLag) * res.lagStepMs;
  }
  // Confidence: a clear peak (margin over the best rival) that is also high.
  const double margin = res.peakCorr - std::max(0.0, res.rivalCorr);
  double conf = std::clamp(margin / 0.12, 0.0, 1.0) * std::clamp(res.peakCorr / 0.35, 0.0, 1.0);
  if (res.atSearchEdge) conf *= 0.25;
  res.confidence = conf;
  return res;
}

}  // namespace voxqc::video
