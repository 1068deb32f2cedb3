// Bigger evaluation of cpp/metrics than the CI tests (same code: cpp/tests/test_metrics_eval.h),
// on held-out corpus clips; prints the figures and markdown tables used in bench/snr_vs_wada.md.
// Build like metrics_train_vad.cpp (see its header); run from the repository root:
//   /tmp/metrics_eval [snr|vad|defects|speed|all] [libriClips] [corpusDir]
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdlib>

#include "../tests/test_metrics_eval.h"
#include "core/runtime.h"

using namespace voxqc;
using namespace voxqc::mtest;

namespace {

void snrTable(const std::vector<Clip>& clips, NoiseBank& bank) {
  const std::vector<std::string> noises = {"running_tap", "dishes", "exercise_bike", "street_alley",
                                           "guitar_music", "cat_meowing", "babble"};
  const std::vector<double> snrs = {0, 5, 10, 15, 20, 25, 30};
  auto rows = evalSnr(clips, bank, noises, snrs);
  std::cout << "\n### SNR: mean absolute error (dB), voxqc / WADA-SNR, " << clips.size()
            << " held-out clips\n\n| noise |";
  for (double s : snrs) std::cout << " " << s << " dB |";
  std::cout << " all 0-30 | bias voxqc | bias WADA |\n|---|";
  for (size_t i = 0; i < snrs.size() + 3; ++i) std::cout << "---|";
  std::cout << "\n";
  std::map<std::string, std::pair<double, double>> all;
  double coreSum = 0, coreWada = 0;
  size_t coreN = 0;
  for (auto& nn : noises) {
    std::cout << "| " << nn << " |";
    double ta = 0, tw = 0, ba = 0, bw = 0;
    size_t tn = 0;
    for (double s : snrs) {
      double ea = 0, ew = 0;
      size_t k = 0;
      for (auto& r : rows)
        if (r.noise == nn && r.planted == s) {
          ea += std::fabs(r.est - s);
          ew += std::fabs(r.wada - s);
          ba += r.est - s;
          bw += r.wada - s;
          ++k;
        }
      if (!k) {
        std::cout << " - |";
        continue;
      }
      std::cout << std::fixed << std::setprecision(1) << " " << ea / k << " / " << ew / k << " |";
      ta += ea;
      tw += ew;
      tn += k;
    }
    std::cout << " **" << ta / tn << "** / " << tw / tn << " | " << ba / tn << " | " << bw / tn << " |\n";
    if (nn != "babble" && nn != "cat_meowing") {
      coreSum += ta;
      coreWada += tw;
      coreN += tn;
    }
  }
  std::cout << "\nMAE over running_tap, dishes, exercise_bike, street_alley, guitar_music, 0-30 dB: voxqc "
            << coreSum / coreN << " dB, WADA " << coreWada / coreN << " dB (" << coreN << " mixtures)\n";
}

void vadTable(const std::vector<Clip>& clips, NoiseBank& bank) {
  const std::vector<std::string> noises = {"clean",        "running_tap",  "dishes",      "exercise_bike",
                                           "street_alley", "guitar_music", "cat_meowing", "babble"};
  auto rows = evalVad(clips, bank, noises, {0, 5, 10, 20});
  std::cout << "\n### Speech activity: frame accuracy vs P.56 activity of the clean clip\n\n| noise | 0 dB | 5 dB | 10 dB | 20 dB |\n|---|---|---|---|---|\n";
  for (auto& nn : noises) {
    std::cout << "| " << nn << " |";
    for (double s : {0.0, 5.0, 10.0, 20.0}) {
      double a = 0;
      size_t k = 0;
      for (auto& r : rows)
        if (r.noise == nn && (r.snr == s || nn == "clean")) a += r.accuracy, ++k;
      std::cout << std::fixed << std::setprecision(3) << " " << (k ? a / k : 0) << " |";
    }
    std::cout << "\n";
  }
}

void defects(const std::vector<Clip>& clips, NoiseBank& bank) {
  for (double snr : {99.0, 20.0}) {
    const std::string tag = snr >= 99 ? "clean" : "dishes 20 dB";
    auto d = evalDropouts(clips, bank, {30, 50, 100}, "dishes", snr);
    std::cout << std::fixed << std::setprecision(3) << "dropouts (" << tag << "): recall " << d.recall.value() << " ("
              << d.recall.hits << "/" << d.recall.trials << "), false alarms " << d.falseAlarm.value() << " ("
              << d.falseAlarm.hits << "/" << d.falseAlarm.trials << ")\n";
    auto r = evalRepetition(clips, bank, {0.85, 1.2, 2.0}, "dishes", snr);
    std::cout << "repetition (" << tag << "): recall " << r.recall.value() << " (" << r.recall.hits << "/"
              << r.recall.trials << "), false alarms " << r.falseAlarm.value() << " (" << r.falseAlarm.hits << "/"
              << r.falseAlarm.trials << "), mean |length error| " << r.meanAbsLenErr << " s\n";
    auto t = evalTruncation(clips, bank, "dishes", snr);
    std::cout << "truncation (" << tag << "): recall start " << t.recallStart.value() << " (" << t.recallStart.hits
              << "/" << t.recallStart.trials << "), end " << t.recallEnd.value() << " (" << t.recallEnd.hits << "/"
              << t.recallEnd.trials << "); false alarms original " << t.faOriginal.value() << " ("
              << t.faOriginal.hits << "/" << t.faOriginal.trials << "), onset-trimmed " << t.faOnsetTrim.value()
              << " (" << t.faOnsetTrim.hits << "/" << t.faOnsetTrim.trials << ")\n";
  }
  auto c = evalClipping(clips, {0.0005, 0.002, 0.01, 0.05});
  std::cout << "clipping: mean relative error " << c.meanRelErr << ", max " << c.maxRelErr << " (" << c.trials
            << " plants); clean clips above 0.02%: " << c.falseAlarm.hits << "/" << c.falseAlarm.trials << "\n";
  // Band limiting and level.
  double minWide = 1, maxNarrow = 0, levelErr = 0;
  size_t k = 0;
  for (auto& cl : clips) {
    if (cl.a.rate < 16000) continue;
    auto s = metrics::analyzeSignal(cl.a.x.data(), cl.a.x.size(), cl.a.rate);
    auto nb = simulate::bandLimit(cl.a.x.data(), cl.a.x.size(), cl.a.rate);
    auto s2 = metrics::analyzeSignal(nb.data(), nb.size(), cl.a.rate);
    minWide = std::min(minWide, s.hfEnergyAbove4k);
    maxNarrow = std::max(maxNarrow, s2.hfEnergyAbove4k);
    levelErr += std::fabs(s.activeLevelDbfs - simulate::activeSpeechLevelDbfs(cl.a.x.data(), cl.a.x.size(), cl.a.rate));
    ++k;
  }
  std::cout << "hfEnergyAbove4k: wideband min " << minWide * 100 << " %, band-limited max " << maxNarrow * 100
            << " %; active level vs P.56 on clean: MAE " << levelErr / k << " dB (" << k << " clips)\n";
}

void speed(const std::vector<Clip>& clips) {
  voxqc::useIntraOpThreads(1);
  std::vector<float> x;
  for (auto& c : clips)
    if (c.a.rate == 16000 && x.size() < 60 * 16000) x.insert(x.end(), c.a.x.begin(), c.a.x.end());
  x.resize(60 * 16000);
  auto t0 = std::chrono::steady_clock::now();
  metrics::analyzeSignal(x.data(), x.size(), 16000);
  double s60 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "speed: 60 s clip at 16 kHz, 1 thread: " << s60 << " s (" << 60 / s60 << "x real time)\n";
  std::vector<float> h;
  h.reserve(3600 * 16000);
  for (int i = 0; i < 60; ++i) {
    // Vary each minute a little so the hour is not one long repetition.
    for (float v : x) h.push_back(v * (0.5f + 0.01f * i));
  }
  t0 = std::chrono::steady_clock::now();
  auto s = metrics::analyzeSignal(h.data(), h.size(), 16000);
  double s3600 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "speed: 1 hour at 16 kHz, 1 thread: " << s3600 << " s (" << 3600 / s3600
            << "x real time); repeatedSec " << s.repeatedSec << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  const size_t libri = argc > 2 ? size_t(std::atoi(argv[2])) : 40;
  const std::string corpus = argc > 3 ? argv[3] : "../shared/corpus";
  voxqc::useIntraOpThreads(2);
  NoiseBank bank(corpus);
  if (mode == "snr" || mode == "all") {
    auto clips = heldOutClips(corpus, libri, true, 20, 35);
    std::cout << "SNR clips (own floor >= 35 dB below speech): " << clips.size() << "\n";
    snrTable(clips, bank);
  }
  if (mode == "vad" || mode == "all") vadTable(heldOutClips(corpus, libri, true), bank);
  if (mode == "defects" || mode == "all") defects(heldOutClips(corpus, libri, true), bank);
  if (mode == "speed" || mode == "all") speed(heldOutClips(corpus, 12, false));
  return 0;
}
