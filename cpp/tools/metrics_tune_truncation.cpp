// Tunes the truncation constants of cpp/metrics/truncation.cpp (kEdgeDb, kEdgeSnrDb, kRiseDb) on
// the TUNING split only (LJSpeech, Thorsten, CMU ARCTIC): positives are clips cut inside a word
// (at a 10 ms block within 15.9 dB of the P.56 level), negatives the original clips and clips
// trimmed 10 ms outside their first/last word. Prints recall and false-alarm rate per setting.
// Build like metrics_train_vad.cpp; run from the repository root: /tmp/metrics_tune_truncation
#include <iomanip>
#include <iostream>

#include "../tests/test_metrics_eval.h"

using namespace voxqc;
using namespace voxqc::mtest;

struct Edge {
  double db, rise, snr;
  bool truncated;
};

int main(int argc, char** argv) {
  const std::string corpus = argc > 1 ? argv[1] : "../shared/corpus";
  std::vector<std::string> files;
  for (const char* d : {"speech/coqui_tts_ljspeech", "speech/thorsten_voice_de/emotional",
                        "speech/thorsten_voice_de/transcribed", "speech/pyroomacoustics_samples"})
    for (auto& f : listFiles(corpus, d)) files.push_back(f);
  std::vector<Edge> edges;
  for (size_t ci = 0; ci < files.size(); ++ci) {
    Audio a = loadAudio(files[ci]);
    if (!a.ok() || a.x.size() < size_t(2 * a.rate)) continue;
    const int sr = a.rate;
    const size_t blk = size_t(sr / 100);
    const double lvl = simulate::activeSpeechLevelDbfs(a.x.data(), a.x.size(), sr);
    auto bp = [&](size_t s) { return simulate::meanPowerDbfs(a.x.data() + s, blk); };
    auto m = simulate::activeSpeechMask(a.x.data(), a.x.size(), sr, false);
    std::vector<size_t> inWord;
    for (size_t s = sr / 2; s + blk + sr / 2 < a.x.size(); s += blk)
      if (m[s] && bp(s) >= lvl - 15.9) inWord.push_back(s);
    if (inWord.size() < 4) continue;
    auto add = [&](const std::vector<float>& x, bool startTrunc, bool endTrunc, bool useStart, bool useEnd) {
      auto s = metrics::analyzeSignal(x.data(), x.size(), sr);
      if (useStart) edges.push_back({s.startEdgeDb, s.startRiseDb, s.startEdgeSnrDb, startTrunc});
      if (useEnd) edges.push_back({s.endEdgeDb, s.endRiseDb, s.endEdgeSnrDb, endTrunc});
    };
    add(a.x, false, false, true, true);
    for (int k = 0; k < 2; ++k) {
      const size_t p = inWord[offsetFor(ci * 5 + k, inWord.size())];
      add(simulate::cut(a.x.data(), a.x.size(), p, a.x.size()), true, false, true, false);
      const size_t q = inWord[offsetFor(ci * 5 + 2 + k, inWord.size())];
      add(simulate::cut(a.x.data(), a.x.size(), 0, q), false, true, false, true);
    }
    size_t on = 0, off = a.x.size();
    for (size_t s = 0; s + blk <= a.x.size(); s += blk)
      if (bp(s) >= lvl - 35) {
        on = s;
        break;
      }
    for (size_t s = a.x.size() - blk; s > blk; s -= blk)
      if (bp(s) >= lvl - 35) {
        off = s + blk;
        break;
      }
    for (size_t margin : {size_t(0), blk}) {
      const size_t s0 = on > margin ? on - margin : 0, s1 = std::min(a.x.size(), off + margin);
      if (s1 > s0 + sr) add(simulate::cut(a.x.data(), a.x.size(), s0, s1), false, false, true, true);
    }
  }
  size_t pos = 0, neg = 0;
  for (auto& e : edges) (e.truncated ? pos : neg)++;
  std::cout << "edges: " << pos << " truncated, " << neg << " not\n";
  std::cout << "edgeDb snrDb riseDb : recall falseAlarm\n";
  for (double edb : {-20.0, -17.0, -15.0})
    for (double snr : {0.0, 3.0, 6.0})
      for (double rise : {6.0, 9.0, 12.0, 15.0, 20.0}) {
        size_t tp = 0, fp = 0;
        for (auto& e : edges) {
          const bool d = e.db >= edb && e.snr >= snr && e.rise < rise;
          if (d && e.truncated) ++tp;
          if (d && !e.truncated) ++fp;
        }
        std::cout << std::fixed << std::setprecision(3) << edb << " " << snr << " " << rise << " : "
                  << double(tp) / pos << " " << double(fp) / neg << "\n";
      }
  return 0;
}
