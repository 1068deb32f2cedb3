// Planted-defect evaluations of cpp/metrics on real speech, shared by the tests
// (test_metrics_corpus.cpp runs them on small held-out subsets and asserts the targets) and by the
// tool cpp/tools/metrics_eval.cpp (the same code on more clips, for the figures in bench/).
// Clips: the held-out split of test_metrics_corpus.h (LibriSpeech + Leopard + WeNet + FunASR);
// nothing here was used to train or tune the metrics.
#pragma once

#include <cmath>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/metrics.h"
#include "simulate/plant.h"
#include "test_metrics_corpus.h"

namespace voxqc::mtest {

struct Clip {
  std::string name;
  Audio a;
  double cleanFloorDb = 0;  // P.56 active level minus the power of the P.56-inactive samples
};

inline double cleanFloorDb(const Audio& a) {
  // Speech level (P.56) over the clip's own noise floor: the 10th percentile of its 10 ms block
  // powers (blocks of digital silence left out).
  const double lvl = simulate::activeSpeechLevelDbfs(a.x.data(), a.x.size(), a.rate);
  const size_t blk = size_t(a.rate / 100);
  std::vector<double> p;
  for (size_t s = 0; s + blk <= a.x.size(); s += blk) {
    double e = 0;
    for (size_t i = s; i < s + blk; ++i) e += double(a.x[i]) * a.x[i];
    if (e > 0) p.push_back(e / double(blk));
  }
  if (p.size() < 10) return 99;
  std::nth_element(p.begin(), p.begin() + p.size() / 10, p.end());
  return lvl - 10 * std::log10(p[p.size() / 10]);
}

// Held-out clips: `libri` LibriSpeech utterances spread over the 351 (every k-th file, sorted), plus
// (others = true) Picovoice Leopard (8 languages, not empty.wav / diarization_test.wav), WeNet and
// FunASR clips. Clips longer than maxSec are cut in a pause before maxSec. minFloorDb > 0 keeps only clips whose
// own noise floor is at least that far below their speech (the "clean" references of SNR tests).
inline std::vector<Clip> heldOutClips(const std::string& corpus, size_t libri, bool others,
                                      double maxSec = 20, double minFloorDb = 0) {
  std::vector<std::string> files;
  auto ls = listFiles(corpus, "speech/resemblyzer_librispeech");
  if (libri > 0 && !ls.empty()) {
    const double step = double(ls.size()) / double(libri);
    for (size_t i = 0; i < libri; ++i) files.push_back(ls[size_t(i * step)]);
  }
  if (others) {
    for (auto& f : listFiles(corpus, "speech/picovoice_leopard_multilingual"))
      if (f.find("empty") == std::string::npos && f.find("diarization") == std::string::npos)
        files.push_back(f);
    for (const char* d : {"speech/wenet_testwavs", "speech/funasr_examples"})
      for (auto& f : listFiles(corpus, d)) files.push_back(f);
  }
  std::vector<Clip> out;
  for (auto& f : files) {
    Clip c;
    c.name = std::filesystem::path(f).filename().string();
    c.a = loadAudio(f);
    if (!c.a.ok()) continue;
    if (c.a.x.size() > size_t(maxSec * c.a.rate)) {
      // Cut in the quietest 10 ms of the last 3 s before maxSec (a pause), not inside a word: the
      // cut clips serve as untruncated controls too.
      const size_t blk = size_t(c.a.rate / 100), hi = size_t(maxSec * c.a.rate);
      size_t best = hi;
      double bestP = 1e30;
      for (size_t s = hi - 3 * size_t(c.a.rate); s + blk <= hi; s += blk) {
        double e = 0;
        for (size_t i = s; i < s + blk; ++i) e += double(c.a.x[i]) * c.a.x[i];
        if (e < bestP) bestP = e, best = s + blk / 2;
      }
      c.a.x.resize(best);
    }
    c.cleanFloorDb = cleanFloorDb(c.a);
    if (minFloorDb > 0 && c.cleanFloorDb < minFloorDb) continue;
    out.push_back(std::move(c));
  }
  return out;
}

// Second halves of the noise recordings, resampled per rate on demand.
class NoiseBank {
 public:
  explicit NoiseBank(std::string corpus) : corpus_(std::move(corpus)) {}
  const Audio& get(const std::string& name, int rate) {
    auto key = name + "@" + std::to_string(rate);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    for (auto& nf : noiseFiles())
      if (name == nf.name) return cache_[key] = noiseHalf(corpus_, nf.path, rate, 1);
    return cache_[key] = Audio{};
  }

 private:
  std::string corpus_;
  std::map<std::string, Audio> cache_;
};

// Babble-like noise: the sum of 6 other held-out LibriSpeech clips at equal level.
inline Audio babble(const std::vector<Clip>& pool, size_t skip, int rate, size_t len) {
  Audio b;
  b.rate = rate;
  b.x.assign(len, 0.0f);
  int used = 0;
  for (size_t k = 0; k < pool.size() && used < 6; ++k) {
    if (k == skip || pool[k].a.rate != rate) continue;
    const auto& x = pool[k].a.x;
    const double l = simulate::activeSpeechLevelDbfs(x.data(), x.size(), rate);
    const double g = std::pow(10.0, (-30 - l) / 20);
    for (size_t i = 0; i < len; ++i) b.x[i] += float(g * x[(i + 7919 * k) % x.size()]);
    ++used;
  }
  return b;
}

inline size_t offsetFor(uint64_t seed, size_t len) {
  std::mt19937_64 r(seed);
  return len ? size_t(r() % len) : 0;
}

// --- SNR --------------------------------------------------------------------------------------
struct SnrRow {
  std::string noise, clip;
  double planted, est, wada;
};

inline std::vector<SnrRow> evalSnr(const std::vector<Clip>& clips, NoiseBank& bank,
                                   const std::vector<std::string>& noises, const std::vector<double>& snrs) {
  std::vector<SnrRow> rows;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    for (auto& nn : noises) {
      Audio nz = nn == "babble" ? babble(clips, ci, c.a.rate, c.a.x.size()) : bank.get(nn, c.a.rate);
      if (!nz.ok()) continue;
      for (double snr : snrs) {
        auto mix = simulate::mixAtSnr(c.a.x.data(), c.a.x.size(), c.a.rate, nz.x.data(), nz.x.size(), snr,
                                      offsetFor(ci * 131 + size_t(snr) * 7, nz.x.size()));
        auto s = metrics::analyzeSignal(mix.data(), mix.size(), c.a.rate);
        rows.push_back({nn, c.name, snr, s.snrDb, metrics::wadaSnr(mix.data(), mix.size())});
      }
    }
  }
  return rows;
}

// --- speech activity ------------------------------------------------------------------------------
// Reference: P.56 activity (with its 0.2 s hangover) of the CLEAN clip, per 10 ms frame by majority.
inline std::vector<uint8_t> referenceFrames(const Audio& clean, size_t frames) {
  auto m = simulate::activeSpeechMask(clean.x.data(), clean.x.size(), clean.rate);
  std::vector<uint8_t> ref(frames, 0);
  for (size_t t = 0; t < frames; ++t) {
    const size_t a = size_t(t * 0.01 * clean.rate), b = std::min(m.size(), size_t((t + 1) * 0.01 * clean.rate));
    size_t on = 0;
    for (size_t i = a; i < b; ++i) on += m[i];
    ref[t] = b > a && 2 * on >= b - a;
  }
  return ref;
}

struct VadRow {
  std::string noise, clip;
  double snr, accuracy;
};

inline std::vector<VadRow> evalVad(const std::vector<Clip>& clips, NoiseBank& bank,
                                   const std::vector<std::string>& noises, const std::vector<double>& snrs) {
  std::vector<VadRow> rows;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    for (auto& nn : noises) {
      Audio nz = nn == "clean" ? Audio{} : nn == "babble" ? babble(clips, ci, c.a.rate, c.a.x.size()) : bank.get(nn, c.a.rate);
      if (nn != "clean" && !nz.ok()) continue;
      for (double snr : snrs) {
        std::vector<float> mix = nn == "clean" ? c.a.x
                                               : simulate::mixAtSnr(c.a.x.data(), c.a.x.size(), c.a.rate, nz.x.data(),
                                                                    nz.x.size(), snr, offsetFor(ci * 31 + 5, nz.x.size()));
        auto v = metrics::detectSpeech(mix.data(), mix.size(), c.a.rate);
        auto ref = referenceFrames(c.a, v.isSpeech.size());
        size_t ok = 0;
        for (size_t t = 0; t < ref.size(); ++t) ok += ref[t] == v.isSpeech[t];
        rows.push_back({nn, c.name, snr, double(ok) / double(ref.size())});
        if (nn == "clean") break;
      }
    }
  }
  return rows;
}

// A sample inside active speech (P.56 envelope above threshold, no hangover) with at least `margin`
// samples around it, chosen by seed; n/2 when none.
inline size_t activePosition(const Audio& a, uint64_t seed, size_t margin) {
  auto m = simulate::activeSpeechMask(a.x.data(), a.x.size(), a.rate, false);
  std::vector<size_t> cand;
  for (size_t i = margin; i + margin < m.size(); i += 37)
    if (m[i]) cand.push_back(i);
  if (cand.empty()) return a.x.size() / 2;
  return cand[offsetFor(seed, cand.size())];
}

// --- planted defects on clean clips -----------------------------------------------------------------
struct Rate {
  size_t hits = 0, trials = 0;
  double value() const { return trials ? double(hits) / double(trials) : 0.0; }
};

// Noise for the "noisy" variants: the named test-half noise at snr dB (none when snr >= 99).
inline std::vector<float> maybeNoisy(const Clip& c, NoiseBank& bank, const std::string& noise, double snr,
                                     uint64_t seed) {
  if (snr >= 99) return c.a.x;
  const Audio& nz = bank.get(noise, c.a.rate);
  return simulate::mixAtSnr(c.a.x.data(), c.a.x.size(), c.a.rate, nz.x.data(), nz.x.size(), snr,
                            offsetFor(seed, nz.x.size()));
}

struct DropoutEval {
  Rate recall, falseAlarm;
};
// For each clip: plants a digital-zero dropout of each length (ms) at an active-speech position;
// detected when a reported span >= 30 ms overlaps it. False alarms: the unmodified clip reports a
// dropout >= 30 ms.
inline DropoutEval evalDropouts(const std::vector<Clip>& clips, NoiseBank& bank, const std::vector<double>& lensMs,
                                const std::string& noise, double snr) {
  DropoutEval r;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    auto base = maybeNoisy(c, bank, noise, snr, ci);
    auto s0 = metrics::analyzeSignal(base.data(), base.size(), c.a.rate);
    r.falseAlarm.trials++;
    if (s0.maxDropoutMs >= 29.99) r.falseAlarm.hits++;
    for (size_t k = 0; k < lensMs.size(); ++k) {
      const size_t len = size_t(lensMs[k] * 1e-3 * c.a.rate);
      auto x = base;
      const size_t at = activePosition(c.a, ci * 17 + k, len + c.a.rate / 10) - len / 2;
      simulate::insertDropout(x.data(), x.size(), at, len);
      auto s = metrics::analyzeSignal(x.data(), x.size(), c.a.rate);
      bool found = false;
      const double a = double(at) / c.a.rate, b = double(at + len) / c.a.rate;
      for (auto& sp : s.dropoutSpans)
        if (sp.endSec > a && sp.startSec < b && (sp.endSec - sp.startSec) * 1e3 >= 29.99) found = true;
      r.recall.trials++;
      if (found) r.recall.hits++;
    }
  }
  return r;
}

struct ClipEval {
  double maxRelErr = 0, meanRelErr = 0;
  size_t trials = 0;
  Rate falseAlarm;  // clean clip measured above 0.02 %
};
inline ClipEval evalClipping(const std::vector<Clip>& clips, const std::vector<double>& fractions) {
  ClipEval r;
  double sum = 0;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    auto s0 = metrics::analyzeSignal(c.a.x.data(), c.a.x.size(), c.a.rate);
    r.falseAlarm.trials++;
    if (s0.clippedFraction > 0.0002) r.falseAlarm.hits++;
    for (double f : fractions) {
      auto x = c.a.x;
      const double planted = simulate::clipAt(x.data(), x.size(), simulate::clipLevelForFraction(x.data(), x.size(), f));
      auto s = metrics::analyzeSignal(x.data(), x.size(), c.a.rate);
      const double e = std::fabs(s.clippedFraction - planted) / planted;
      r.maxRelErr = std::max(r.maxRelErr, e);
      sum += e;
      r.trials++;
    }
  }
  r.meanRelErr = r.trials ? sum / double(r.trials) : 0;
  return r;
}

struct RepeatEval {
  Rate recall, falseAlarm;
  double meanAbsLenErr = 0;
};
// Plants repeatSpan of each length (s) starting at an active-speech position (noise, if any, is
// added AFTER the repetition, so the copies differ by it); detected when repeatedSec >= 0.8 and the
// reported second copy overlaps the planted one. False alarms: unmodified clip reports >= 0.8 s.
inline RepeatEval evalRepetition(const std::vector<Clip>& clips, NoiseBank& bank, const std::vector<double>& lens,
                                 const std::string& noise, double snr) {
  RepeatEval r;
  double errSum = 0;
  size_t errN = 0;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    auto base = maybeNoisy(c, bank, noise, snr, ci + 1000);
    auto s0 = metrics::analyzeSignal(base.data(), base.size(), c.a.rate);
    r.falseAlarm.trials++;
    if (s0.repeatedSec >= 0.8) r.falseAlarm.hits++;
    for (size_t k = 0; k < lens.size(); ++k) {
      const size_t len = size_t(lens[k] * c.a.rate);
      if (c.a.x.size() < 2 * len + c.a.rate) continue;
      size_t at = activePosition(c.a, ci * 7 + k, c.a.rate / 10);
      at = std::min(at, c.a.x.size() - len - 1);
      auto rep = simulate::repeatSpan(c.a.x.data(), c.a.x.size(), at, len);
      Clip cc{c.name, Audio{rep, c.a.rate}, 0};
      auto x = maybeNoisy(cc, bank, noise, snr, ci + 2000);
      auto s = metrics::analyzeSignal(x.data(), x.size(), c.a.rate);
      const double second = double(at + len) / c.a.rate;
      const bool found = s.repeatedSec >= 0.8 && s.repeatSecondSec < second + lens[k] &&
                         s.repeatSecondSec + s.repeatedSec > second;
      r.recall.trials++;
      if (found) {
        r.recall.hits++;
        errSum += std::fabs(s.repeatedSec - lens[k]);
        ++errN;
      }
    }
  }
  r.meanAbsLenErr = errN ? errSum / double(errN) : 0;
  return r;
}

struct TruncEval {
  Rate recallStart, recallEnd, faOriginal, faOnsetTrim;
};
// Cuts each clip inside a word: at an active-speech position whose 10 ms power is within 15.9 dB
// (the P.56 margin) of the clip's active level. Untruncated controls: the original clip, and the
// clip trimmed 10 ms before its first word onset / 10 ms after its last word end (a tight but
// correct segmentation). Onset = first 10 ms block within 35 dB of the active level.
inline TruncEval evalTruncation(const std::vector<Clip>& clips, NoiseBank& bank, const std::string& noise, double snr) {
  TruncEval r;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const auto& c = clips[ci];
    const int sr = c.a.rate;
    const size_t blk = size_t(sr / 100);
    const double lvl = simulate::activeSpeechLevelDbfs(c.a.x.data(), c.a.x.size(), sr);
    auto bp = [&](size_t s) { return simulate::meanPowerDbfs(c.a.x.data() + s, blk); };
    auto m = simulate::activeSpeechMask(c.a.x.data(), c.a.x.size(), sr, false);
    std::vector<size_t> inWord;
    for (size_t s = sr / 2; s + blk + sr / 2 < c.a.x.size(); s += blk)
      if (m[s] && bp(s) >= lvl - 15.9) inWord.push_back(s);
    if (inWord.size() < 4) continue;
    auto run = [&](const std::vector<float>& x) {
      Clip cc{c.name, Audio{x, sr}, 0};
      auto y = maybeNoisy(cc, bank, noise, snr, ci + 3000);
      return metrics::analyzeSignal(y.data(), y.size(), sr);
    };
    {
      auto s = run(c.a.x);
      r.faOriginal.trials++;
      if (s.truncatedStart || s.truncatedEnd) r.faOriginal.hits++;
    }
    const size_t p = inWord[offsetFor(ci * 3 + 1, inWord.size())];
    {
      auto s = run(simulate::cut(c.a.x.data(), c.a.x.size(), p, c.a.x.size()));
      r.recallStart.trials++;
      if (s.truncatedStart) r.recallStart.hits++;
    }
    const size_t q = inWord[offsetFor(ci * 3 + 2, inWord.size())];
    {
      auto s = run(simulate::cut(c.a.x.data(), c.a.x.size(), 0, q));
      r.recallEnd.trials++;
      if (s.truncatedEnd) r.recallEnd.hits++;
    }
    size_t on = 0, off = c.a.x.size();
    for (size_t s = 0; s + blk <= c.a.x.size(); s += blk)
      if (bp(s) >= lvl - 35) {
        on = s;
        break;
      }
    for (size_t s = c.a.x.size() - blk; s > blk; s -= blk)
      if (bp(s) >= lvl - 35) {
        off = s + blk;
        break;
      }
    const size_t a = on > blk ? on - blk : 0, b = std::min(c.a.x.size(), off + blk);
    if (b > a + sr) {
      auto s = run(simulate::cut(c.a.x.data(), c.a.x.size(), a, b));
      r.faOnsetTrim.trials++;
      if (s.truncatedStart || s.truncatedEnd) r.faOnsetTrim.hits++;
    }
  }
  return r;
}

}  // namespace voxqc::mtest
