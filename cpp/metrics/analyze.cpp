// analyzeSignal: every measurement of the rubric on one clip (see metrics.h).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "metrics/internal.h"

namespace voxqc::metrics {

namespace {
void validateAnalyze(const AnalyzeOptions& o) {
  auto bad = [](const char* name, double v, const char* range) {
    std::ostringstream os;
    os << "AnalyzeOptions." << name << " must be " << range << ", got " << v;
    throwInvalidArg(os.str());
  };
  if (!(o.minDropoutMs > 0 && o.minDropoutMs <= 10000)) bad("minDropoutMs", o.minDropoutMs, "in (0, 10000]");
  if (!(o.minRepeatSec >= 0.05 && o.minRepeatSec <= 60)) bad("minRepeatSec", o.minRepeatSec, "in [0.05, 60]");
  if (!(o.maxRepeatLagSec >= o.minRepeatSec && o.maxRepeatLagSec <= 600))
    bad("maxRepeatLagSec", o.maxRepeatLagSec, "in [minRepeatSec, 600]");
  if (!(o.bandEnergyFloorDb < 0)) bad("bandEnergyFloorDb", o.bandEnergyFloorDb, "< 0");
  if (!(o.repeatMaxDistance > 0 && o.repeatMaxDistance < 1)) bad("repeatMaxDistance", o.repeatMaxDistance, "in (0, 1)");
}
}  // namespace

SignalScores analyzeSignal(const float* x, size_t n, int sampleRate, const AnalyzeOptions& o) {
  validateAnalyze(o);
  std::vector<float> w = detail::toWorkRate(x, n, sampleRate, "analyzeSignal");
  SignalScores s;
  s.sampleRate = sampleRate;
  s.durationSec = double(n) / sampleRate;

  detail::Frames f = detail::analyzeFrames(w.data(), w.size());
  const detail::VadModel& model =
      o.vad.modelPath.empty() ? detail::builtinVadModel() : detail::loadVadModel(o.vad.modelPath);
  VadResult vad = smoothVad(detail::vadProbabilities(f, model), o.vad);
  const double hop = vad.frameSec;
  for (auto& seg : vad.segments) seg.endSec = std::min(seg.endSec, s.durationSec);

  // Silences and speech time.
  size_t active = 0;
  for (auto v : vad.isSpeech) active += v;
  s.speechSec = std::min(s.durationSec, double(active) * hop);
  s.speechSegments = int(vad.segments.size());
  if (vad.segments.empty()) {
    s.leadingSilenceSec = s.trailingSilenceSec = s.durationSec;
  } else {
    s.leadingSilenceSec = vad.segments.front().startSec;
    s.trailingSilenceSec = std::max(0.0, s.durationSec - vad.segments.back().endSec);
    for (size_t i = 1; i < vad.segments.size(); ++i)
      s.maxPauseSec = std::max(s.maxPauseSec, vad.segments[i].startSec - vad.segments[i - 1].endSec);
  }

  // Level and SNR.
  detail::LevelEstimate lev = detail::estimateLevels(f, vad);
  s.activeLevelDbfs = lev.activeLevelDbfs;
  s.noiseLevelDbfs = lev.noiseLevelDbfs;
  s.snrDb = lev.snrDb;
  s.noiseSec = lev.noiseSec;

  // Clipping (native samples).
  detail::ClipResult clip = detail::measureClipping(x, n);
  s.clippedFraction = clip.fraction;
  s.clipLevel = clip.level;

  // Dropouts inside the speech span (native samples).
  if (!vad.segments.empty()) {
    const size_t a = size_t(vad.segments.front().startSec * sampleRate);
    const size_t b = std::min(n, size_t(std::ceil(vad.segments.back().endSec * sampleRate)));
    detail::DropoutResult d = detail::findDropouts(x, n, sampleRate, a, b, o.minDropoutMs, clip.level);
    s.dropouts = d.count;
    s.maxDropoutMs = d.maxMs;
    s.dropoutSpans = std::move(d.spans);
  }

  // Repetition (16 kHz).
  detail::RepeatResult rep = detail::findRepetition(w.data(), w.size(), f, vad, o.minRepeatSec, o.maxRepeatLagSec,
                                                       1.0 - o.repeatMaxDistance);
  s.repeatedSec = rep.seconds;
  s.repeatFirstSec = rep.firstSec;
  s.repeatSecondSec = rep.secondSec;

  // Truncation (16 kHz).
  detail::TruncationResult tr = detail::detectTruncation(w.data(), w.size(), f, vad, lev);
  s.truncatedStart = tr.start;
  s.truncatedEnd = tr.end;
  s.startEdgeDb = tr.startDb;
  s.endEdgeDb = tr.endDb;
  s.startRiseDb = tr.startRise;
  s.endRiseDb = tr.endRise;
  s.startEdgeSnrDb = tr.startSnr;
  s.endEdgeSnrDb = tr.endSnr;

  // Band measurements (native rate).
  detail::BandResult band = detail::measureBandwidth(x, n, sampleRate, vad.isSpeech, o.bandEnergyFloorDb);
  s.hfEnergyAbove4k = band.hfShare;
  s.bandwidthHz = band.bandwidthHz;
  return s;
}

}  // namespace voxqc::metrics
