// Tests of cpp/metrics (analyzeSignal, detectSpeech, wadaSnr) and cpp/simulate (defect planting).
// The first tests need no corpus (synthetic signals, input validation, exact properties of the
// planting primitives). The corpus tests plant defects at known places and sizes into REAL speech
// from ../shared/corpus and assert the accuracy targets, printing the figures.
//
// Clips: only the held-out split of test_metrics_corpus.h (LibriSpeech from resemblyzer's copy,
// Picovoice Leopard in 8 languages); the VAD model was trained and the constants tuned on other
// sources (LJSpeech, Thorsten, CMU ARCTIC, ...). Noise: the SECOND half of each noise recording
// (the model trained on the first halves). The SNR references are LibriSpeech clips whose own noise
// floor is >= 35 dB below their speech (a planted 30 dB SNR is then within ~0.4 dB of the truth).
// CI budget: this file runs in well under 2 minutes on 2 cores; cpp/tools/metrics_eval.cpp runs the
// same evaluations on more clips (bench/snr_vs_wada.md).
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <random>

#include "core/error.h"
#include "harness.h"
#include "core/simd.h"
#include "metrics/frames.h"
#include "metrics/metrics.h"
#include "simulate/plant.h"
#include "test_metrics_eval.h"

using namespace voxqc;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> sine(double hz, double amp, int rate, double sec) {
  std::vector<float> x(size_t(rate * sec));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(amp * std::sin(2 * kPi * hz * double(i) / rate));
  return x;
}

// A speech-like synthetic clip: 150 Hz harmonic bursts (syllables) in white noise at -60 dBFS.
std::vector<float> syllables(int rate, double sec, uint64_t seed) {
  auto x = simulate::whiteNoise(size_t(rate * sec), -60, seed);
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = double(i) / rate;
    const double env = std::max(0.0, std::sin(2 * kPi * 2.5 * t));  // 4 syllables/s
    double v = 0;
    for (int h = 1; h <= 20; ++h) v += std::sin(2 * kPi * 150 * h * t + h) / h;
    x[i] += float(0.1 * env * v);
  }
  return x;
}

std::string needCorpus() {
  std::string c = voxqc::test::corpusDir();
  if (c.empty()) VOXQC_SKIP("../shared/corpus is absent (set VOXQC_CORPUS): corpus metric tests need real speech");
  if (!mtest::haveFfmpeg()) VOXQC_SKIP("ffmpeg is not installed: needed to decode the corpus FLAC/OGG files");
  return c;
}

// 8 LibriSpeech + 3 Leopard clips (en, de, ja), at most 12 s each.
std::vector<mtest::Clip> defectClips(const std::string& corpus) {
  auto all = mtest::heldOutClips(corpus, 8, true, 12);
  std::vector<mtest::Clip> out;
  for (auto& c : all)
    if (c.name.find(".flac") != std::string::npos || c.name == "test.wav" || c.name == "test_de.wav" ||
        c.name == "test_ja.wav")
      out.push_back(c);
  return out;
}

}  // namespace

// --- no corpus needed ---------------------------------------------------------------------------

VOXQC_TEST(metrics_input_validation) {
  std::vector<float> x(16000, 0.1f);
  CHECK_THROWS_CODE(metrics::analyzeSignal(x.data(), 0, 16000), ErrorCode::InvalidArg, "empty");
  CHECK_THROWS_CODE(metrics::analyzeSignal(x.data(), x.size(), 4000), ErrorCode::InvalidArg, "sampleRate");
  x[123] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_CODE(metrics::analyzeSignal(x.data(), x.size(), 16000), ErrorCode::InvalidArg, "sample 123");
  x[123] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_CODE(metrics::detectSpeech(x.data(), x.size(), 16000), ErrorCode::InvalidArg, "infinite");
  x[123] = 0.1f;
  metrics::VadOptions vo;
  vo.threshold = 1.5;
  CHECK_THROWS_CODE(metrics::detectSpeech(x.data(), x.size(), 16000, vo), ErrorCode::InvalidArg, "threshold");
  metrics::AnalyzeOptions ao;
  ao.minDropoutMs = -1;
  CHECK_THROWS_CODE(metrics::analyzeSignal(x.data(), x.size(), 16000, ao), ErrorCode::InvalidArg, "minDropoutMs");
  // Tiny and silent clips analyse without error.
  std::vector<float> z(10, 0.0f);
  auto s = metrics::analyzeSignal(z.data(), z.size(), 8000);
  CHECK_EQ(s.speechSec, 0.0);
  CHECK_EQ(s.dropouts, 0);
  CHECK_EQ(metrics::wadaSnr(z.data(), z.size()), -20.0);
}

// The SIMD inner loops (core/simd.cpp) and their plain versions against double references.
VOXQC_TEST(metrics_simd_kernels) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  auto randomVec = [&](size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = g(rng);
    return v;
  };
  for (size_t n : {0, 1, 7, 31, 32, 33, 160, 4800, 4803}) {
    auto a = randomVec(n), b = randomVec(n);
    long double ref = 0, mag = 0;
    for (size_t i = 0; i < n; ++i) ref += (long double)a[i] * b[i], mag += std::fabs((long double)a[i] * b[i]);
    const double tol = 1e-6 * double(mag) + 1e-12;
    CHECK_NEAR(simd::dotProduct(a.data(), b.data(), n), double(ref), tol);
    CHECK_NEAR(simd::dotProductGeneric(a.data(), b.data(), n), double(ref), tol);
    // Float sums: looser, n times float epsilon at worst.
    const double ftol = 1e-7 * double(n + 1) * double(mag) + 1e-9;
    CHECK_NEAR(simd::dotFloat(a.data(), b.data(), n), double(ref), ftol);
    CHECK_NEAR(simd::dotFloatGeneric(a.data(), b.data(), n), double(ref), ftol);
  }
  // Window roots from prefix sums (a negative difference, from rounding, gives 0).
  {
    std::vector<double> prefix = {0, 1, 5, 5, 14, 13.9999, 30};
    for (size_t w : {1, 2, 3}) {
      const size_t count = prefix.size() - w;
      std::vector<double> got(count), plain(count);
      simd::windowRoots(prefix.data(), count, w, got.data());
      simd::windowRootsGeneric(prefix.data(), count, w, plain.data());
      for (size_t p = 0; p < count; ++p) {
        const double want = std::sqrt(std::max(0.0, prefix[p + w] - prefix[p]));
        CHECK_NEAR(got[p], want, 1e-12);
        CHECK_NEAR(plain[p], want, 1e-12);
      }
    }
  }
  // Dense layers of the VAD's shapes (364 -> 64 -> 32), a 16-column one and an odd one.
  struct Shape { int64_t rows, k, n; };
  for (Shape sh : {Shape{1, 364, 64}, Shape{13, 364, 64}, Shape{256, 64, 32}, Shape{7, 5, 16}, Shape{5, 9, 3}}) {
    auto x = randomVec(size_t(sh.rows * sh.k)), wt = randomVec(size_t(sh.k * sh.n)), bias = randomVec(size_t(sh.n));
    for (bool relu : {false, true}) {
      std::vector<float> y(size_t(sh.rows * sh.n)), y2(y.size());
      simd::denseLayer(x.data(), sh.rows, sh.k, wt.data(), bias.data(), sh.n, relu, y.data());
      simd::denseLayerGeneric(x.data(), sh.rows, sh.k, wt.data(), bias.data(), sh.n, relu, y2.data());
      double worst = 0;
      bool reluOk = true;
      for (int64_t r = 0; r < sh.rows; ++r)
        for (int64_t j = 0; j < sh.n; ++j) {
          double ref = bias[size_t(j)], mag = std::fabs(bias[size_t(j)]);
          for (int64_t i = 0; i < sh.k; ++i) {
            ref += double(x[size_t(r * sh.k + i)]) * wt[size_t(i * sh.n + j)];
            mag += std::fabs(double(x[size_t(r * sh.k + i)]) * wt[size_t(i * sh.n + j)]);
          }
          if (relu) ref = std::max(ref, 0.0);
          for (float got : {y[size_t(r * sh.n + j)], y2[size_t(r * sh.n + j)]}) {
            worst = std::max(worst, std::fabs(got - ref) / (mag + 1e-6));
            if (relu && got < 0) reluOk = false;
          }
        }
      CHECK(reluOk);
      CHECK(worst < 1e-5);
    }
  }
  std::cout << "    metrics SIMD: " << simd::name() << "\n";
}

// Sliding minimum / maximum (van Herk / Gil-Werman) against the definition, edges included.
VOXQC_TEST(metrics_sliding_min_max) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-5.0f, 5.0f);
  for (size_t n : {1, 2, 3, 7, 10, 31, 300, 1001}) {
    std::vector<float> v(n);
    for (auto& x : v) x = std::round(u(rng));  // ties on purpose
    for (size_t half : {0, 1, 2, 3, 5, 15, 150, 300, 2000}) {
      auto lo = metrics::detail::slidingMin(v, half), hi = metrics::detail::slidingMax(v, half);
      bool ok = lo.size() == n && hi.size() == n;
      for (size_t i = 0; ok && i < n; ++i) {
        const size_t a = i >= half ? i - half : 0, b = std::min(n - 1, i + half);
        float mn = v[a], mx = v[a];
        for (size_t j = a; j <= b; ++j) mn = std::min(mn, v[j]), mx = std::max(mx, v[j]);
        ok = lo[i] == mn && hi[i] == mx;
      }
      if (!ok) VOXQC_FAIL("sliding min/max wrong for n=" << n << " half=" << half);
    }
  }
}

VOXQC_TEST(metrics_plant_primitives) {
  const int sr = 16000;
  auto clean = syllables(sr, 3.0, 1);
  auto noise = simulate::whiteNoise(5000, -20, 7);  // shorter than the clip: looped
  for (double snr : {0.0, 12.5, 30.0}) {
    auto n = simulate::scaledNoiseForSnr(clean.data(), clean.size(), sr, noise.data(), noise.size(), snr, 123);
    const double got = simulate::activeSpeechLevelDbfs(clean.data(), clean.size(), sr) -
                       simulate::meanPowerDbfs(n.data(), n.size());
    CHECK_NEAR(got, snr, 1e-6);
    auto mix = simulate::mixAtSnr(clean.data(), clean.size(), sr, noise.data(), noise.size(), snr, 123);
    CHECK_NEAR(mix[100], clean[100] + n[100], 1e-6);
  }
  // P.56 level of a steady sine: every sample active, level = mean square (-3 dB re amplitude).
  auto s = sine(440, 0.5, sr, 1.0);
  // (the envelope needs a few ms to rise above the threshold: ~0.1 dB on a 1 s clip)
  CHECK_NEAR(simulate::activeSpeechLevelDbfs(s.data(), s.size(), sr), 20 * std::log10(0.5) - 3.0103, 0.15);
  // Leading silence does not change the active level (P.56 counts active samples only; trailing
  // silence would: the 0.2 s hangover after the last syllable then falls inside the clip).
  auto padded = simulate::padSilence(clean.data(), clean.size(), sr, 0);
  CHECK_NEAR(simulate::activeSpeechLevelDbfs(padded.data(), padded.size(), sr),
             simulate::activeSpeechLevelDbfs(clean.data(), clean.size(), sr), 0.3);
  // Clipping at a level for a fraction.
  auto c = clean;
  const double lvl = simulate::clipLevelForFraction(c.data(), c.size(), 0.01);
  const double f = simulate::clipAt(c.data(), c.size(), lvl);
  CHECK_NEAR(f, 0.01, 0.001);
  // Repetition: the span occurs twice.
  auto r = simulate::repeatSpan(clean.data(), clean.size(), 1000, 500);
  CHECK_EQ(r.size(), clean.size() + 500);
  CHECK_EQ(r[1500], clean[1000]);
  CHECK_EQ(r[1999], clean[1499]);
  CHECK_EQ(r[2000], clean[1500]);
  // Convolution with a delayed, scaled impulse: the clip comes back aligned and at its level.
  std::vector<float> rir(300, 0.0f);
  rir[40] = -0.5f;
  rir[200] = 0.1f;
  auto y = simulate::convolve(clean.data(), clean.size(), rir.data(), rir.size());
  CHECK_EQ(y.size(), clean.size());
  CHECK_NEAR(y[5000], clean[5000] - 0.2 * clean[5000 - 160], 1e-5);
  // Band limiting removes a 6 kHz tone and keeps a 1 kHz one.
  auto hi = sine(6000, 0.5, sr, 0.5), lo = sine(1000, 0.5, sr, 0.5);
  auto hb = simulate::bandLimit(hi.data(), hi.size(), sr), lb = simulate::bandLimit(lo.data(), lo.size(), sr);
  CHECK(simulate::meanPowerDbfs(hb.data() + 1000, 6000) < -90);
  CHECK_NEAR(simulate::meanPowerDbfs(lb.data() + 1000, 6000), simulate::meanPowerDbfs(lo.data() + 1000, 6000), 0.05);
  // Seeded noise is deterministic; silence insertion.
  CHECK(simulate::whiteNoise(10, -30, 5) == simulate::whiteNoise(10, -30, 5));
  CHECK(simulate::whiteNoise(10, -30, 5) != simulate::whiteNoise(10, -30, 6));
  auto g = simulate::insertSilence(clean.data(), clean.size(), 100, 50);
  CHECK_EQ(g.size(), clean.size() + 50);
  CHECK_EQ(g[120], 0.0f);
  CHECK_EQ(g[150], clean[100]);
  CHECK_THROWS_CODE(simulate::insertDropout(c.data(), c.size(), c.size() - 5, 10), ErrorCode::InvalidArg, "exceeds");
  CHECK_THROWS_CODE(simulate::clipAt(c.data(), c.size(), 0.0), ErrorCode::InvalidArg, "level");
}

VOXQC_TEST(metrics_synthetic_defects) {
  const int sr = 16000;
  auto x = syllables(sr, 4.0, 3);
  auto s0 = metrics::analyzeSignal(x.data(), x.size(), sr);
  CHECK_EQ(s0.clippedFraction, 0.0);
  CHECK_EQ(s0.dropouts, 0);
  CHECK(s0.speechSec > 1.0);
  // A 40 ms dropout in the middle, and a stuck (constant, non-zero) 20 ms run.
  auto d = x;
  simulate::insertDropout(d.data(), d.size(), 2 * sr, sr * 40 / 1000);
  simulate::insertDropout(d.data(), d.size(), 3 * sr, sr * 20 / 1000, 0.05f);
  auto s1 = metrics::analyzeSignal(d.data(), d.size(), sr);
  CHECK_EQ(s1.dropouts, 2);
  CHECK_NEAR(s1.maxDropoutMs, 40.0, 0.1);
  // Clipping of a sine: both rails, the exact planted fraction.
  auto sn = sine(200, 0.9, sr, 1.0);
  const double planted = simulate::clipAt(sn.data(), sn.size(), 0.8);
  auto s2 = metrics::analyzeSignal(sn.data(), sn.size(), sr);
  CHECK_NEAR(s2.clippedFraction, planted, 1e-9);
  CHECK_NEAR(s2.clipLevel, 0.8, 1e-6);
  // Leading/trailing digital silence is not a dropout.
  auto p = simulate::padSilence(x.data(), x.size(), sr, sr);
  auto s3 = metrics::analyzeSignal(p.data(), p.size(), sr);
  CHECK_EQ(s3.dropouts, 0);
  // WADA-SNR orders clean > noisy.
  auto noisy = simulate::mixAtSnr(x.data(), x.size(), sr, simulate::whiteNoise(x.size(), -20, 9).data(), x.size(), 5);
  CHECK(metrics::wadaSnr(x.data(), x.size()) > metrics::wadaSnr(noisy.data(), noisy.size()) + 10);
}

// --- corpus: planted defects on real speech ----------------------------------------------------------

VOXQC_TEST(metrics_corpus_snr_vs_wada) {
  const std::string corpus = needCorpus();
  // Clean references: held-out clips whose own floor is >= 35 dB below the speech; 6 of them.
  auto all = mtest::heldOutClips(corpus, 12, true, 12, 35);
  std::vector<mtest::Clip> clips;
  for (size_t i = 0; i < all.size() && clips.size() < 6; i += std::max<size_t>(1, all.size() / 6)) clips.push_back(all[i]);
  CHECK(clips.size() >= 4);
  mtest::NoiseBank bank(corpus);
  const std::vector<std::string> noises = {"running_tap", "dishes", "exercise_bike", "street_alley"};
  auto rows = mtest::evalSnr(clips, bank, noises, {0, 5, 10, 15, 20, 25, 30});
  double sum = 0, sumW = 0;
  for (auto& nn : noises) {
    double e = 0, w = 0;
    size_t k = 0;
    for (auto& r : rows)
      if (r.noise == nn) e += std::fabs(r.est - r.planted), w += std::fabs(r.wada - r.planted), ++k;
    std::cout << std::fixed << std::setprecision(2) << "        SNR MAE " << nn << ": voxqc " << e / k << " dB, WADA "
              << w / k << " dB (" << k << " mixtures, 0-30 dB)\n";
    sum += e;
    sumW += w;
  }
  const double mae = sum / rows.size();
  std::cout << "        SNR MAE all 4 noises: voxqc " << mae << " dB, WADA " << sumW / rows.size() << " dB over "
            << clips.size() << " held-out clips:";
  for (auto& c : clips) std::cout << " " << c.name;
  std::cout << "\n";
  CHECK(rows.size() == clips.size() * 4 * 7);
  CHECK(mae <= 2.0);
}

VOXQC_TEST(metrics_corpus_vad_accuracy_5db) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  if (clips.size() > 8) clips.erase(clips.begin() + 5, clips.end() - 3);  // 5 LibriSpeech + 3 Leopard
  mtest::NoiseBank bank(corpus);
  const std::vector<std::string> noises = {"running_tap", "dishes", "exercise_bike", "street_alley"};
  auto rows = mtest::evalVad(clips, bank, noises, {5});
  double all = 0;
  for (auto& nn : noises) {
    double a = 0;
    size_t k = 0;
    for (auto& r : rows)
      if (r.noise == nn) a += r.accuracy, ++k;
    std::cout << std::fixed << std::setprecision(3) << "        VAD frame accuracy at 5 dB, " << nn << ": " << a / k << "\n";
    all += a;
  }
  auto clean = mtest::evalVad(clips, bank, {"clean"}, {99});
  double ca = 0;
  for (auto& r : clean) ca += r.accuracy;
  std::cout << "        VAD frame accuracy at 5 dB, mean of 4 noises: " << all / rows.size() << "; clean: "
            << ca / clean.size() << " (" << clips.size() << " clips; reference: P.56 activity of the clean clip)\n";
  CHECK(all / rows.size() >= 0.9);
  CHECK(ca / clean.size() >= 0.95);
}

VOXQC_TEST(metrics_corpus_clipping) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  auto r = mtest::evalClipping(clips, {0.0005, 0.002, 0.01, 0.05});
  std::cout << std::fixed << std::setprecision(4) << "        clipping: mean relative error " << r.meanRelErr
            << ", max " << r.maxRelErr << " over " << r.trials << " plants (0.05%-5%); clean clips flagged "
            << r.falseAlarm.hits << "/" << r.falseAlarm.trials << "\n";
  CHECK(r.maxRelErr <= 0.2);
  CHECK_EQ(r.falseAlarm.hits, size_t(0));
}

VOXQC_TEST(metrics_corpus_dropouts) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  mtest::NoiseBank bank(corpus);
  auto clean = mtest::evalDropouts(clips, bank, {30, 45, 100}, "dishes", 99);
  auto noisy = mtest::evalDropouts(clips, bank, {30, 45, 100}, "dishes", 15);
  std::cout << std::fixed << std::setprecision(3) << "        dropouts >= 30 ms, clean: recall " << clean.recall.value()
            << " (" << clean.recall.hits << "/" << clean.recall.trials << "), false alarms "
            << clean.falseAlarm.hits << "/" << clean.falseAlarm.trials << "; in dishes noise at 15 dB: recall "
            << noisy.recall.value() << ", false alarms " << noisy.falseAlarm.hits << "/" << noisy.falseAlarm.trials << "\n";
  CHECK(clean.recall.value() >= 0.95);
  CHECK(noisy.recall.value() >= 0.95);
  CHECK(clean.falseAlarm.value() < 0.02);
}

VOXQC_TEST(metrics_corpus_repetition) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  mtest::NoiseBank bank(corpus);
  auto r = mtest::evalRepetition(clips, bank, {0.85, 1.3, 2.0}, "dishes", 99);
  std::cout << std::fixed << std::setprecision(3) << "        repetition >= 0.8 s (exact copies): recall "
            << r.recall.value() << " (" << r.recall.hits << "/" << r.recall.trials << "), false alarms "
            << r.falseAlarm.hits << "/" << r.falseAlarm.trials << ", mean |length error| " << r.meanAbsLenErr << " s\n";
  CHECK(r.recall.value() >= 0.9);
  CHECK(r.falseAlarm.value() < 0.02);
}

VOXQC_TEST(metrics_corpus_truncation) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  mtest::NoiseBank bank(corpus);
  auto t = mtest::evalTruncation(clips, bank, "dishes", 99);
  const double recall = double(t.recallStart.hits + t.recallEnd.hits) / double(t.recallStart.trials + t.recallEnd.trials);
  std::cout << std::fixed << std::setprecision(3) << "        truncation: recall " << recall << " (start "
            << t.recallStart.hits << "/" << t.recallStart.trials << ", end " << t.recallEnd.hits << "/"
            << t.recallEnd.trials << "); false alarms on originals " << t.faOriginal.hits << "/" << t.faOriginal.trials
            << ", on clips trimmed 10 ms outside the first/last word " << t.faOnsetTrim.hits << "/"
            << t.faOnsetTrim.trials << "\n";
  CHECK(recall >= 0.85);
}

VOXQC_TEST(metrics_corpus_bandwidth_level_silence) {
  const std::string corpus = needCorpus();
  auto clips = defectClips(corpus);
  double minWide = 1, maxNarrow = 0, levelErr = 0, leadErr = 0, trailErr = 0;
  size_t k = 0;
  for (auto& c : clips) {
    const int sr = c.a.rate;
    auto s = metrics::analyzeSignal(c.a.x.data(), c.a.x.size(), sr);
    auto nb = simulate::bandLimit(c.a.x.data(), c.a.x.size(), sr);
    auto s2 = metrics::analyzeSignal(nb.data(), nb.size(), sr);
    minWide = std::min(minWide, s.hfEnergyAbove4k);
    maxNarrow = std::max(maxNarrow, s2.hfEnergyAbove4k);
    levelErr += std::fabs(s.activeLevelDbfs - simulate::activeSpeechLevelDbfs(c.a.x.data(), c.a.x.size(), sr));
    // 1.5 s of leading and 2 s of trailing silence at -70 dBFS: the measured silences grow by that.
    auto p = simulate::padSilence(c.a.x.data(), c.a.x.size(), size_t(1.5 * sr), size_t(2 * sr), -70, 11);
    auto s3 = metrics::analyzeSignal(p.data(), p.size(), sr);
    leadErr += std::fabs(s3.leadingSilenceSec - (s.leadingSilenceSec + 1.5));
    trailErr += std::fabs(s3.trailingSilenceSec - (s.trailingSilenceSec + 2.0));
    ++k;
  }
  std::cout << std::fixed << std::setprecision(3) << "        hfEnergyAbove4k: original clips min " << minWide * 100
            << " %, after 8 kHz band-limiting max " << maxNarrow * 100 << " %; active level vs P.56 (clean) MAE "
            << levelErr / k << " dB; padded silence error: leading " << leadErr / k << " s, trailing "
            << trailErr / k << " s (" << k << " clips)\n";
  CHECK(maxNarrow < 0.001);
  CHECK(levelErr / k < 1.0);
  CHECK(leadErr / k < 0.1);
  CHECK(trailErr / k < 0.2);
}
