// Signal metrics (cpp/metrics):
//   analyzeSignal(samples, sampleRate, opts, threads) -> Promise<{ scores, segments, frameSec, isSpeech }>
//   vad(samples, sampleRate, opts, threads) -> Promise<{ frameSec, speechProb, isSpeech, segments }>
//   wadaSnr(samples, threads) -> Promise<number>
#include <cmath>

#include "metrics/metrics.h"
#include "worker.h"

namespace voxqc::binding {

namespace {

using namespace voxqc::metrics;

double getNumber(const Napi::Object& o, const char* name, double dflt) {
  if (!o.Has(name)) return dflt;
  Napi::Value v = o.Get(name);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

VadOptions readVad(const Napi::Value& value) {
  VadOptions v;
  if (!value.IsObject()) return v;
  Napi::Object o = value.As<Napi::Object>();
  v.threshold = getNumber(o, "threshold", v.threshold);
  v.hangoverSec = getNumber(o, "hangoverSec", v.hangoverSec);
  v.minGapSec = getNumber(o, "minGapSec", v.minGapSec);
  v.minSpeechSec = getNumber(o, "minSpeechSec", v.minSpeechSec);
  return v;
}

AnalyzeOptions readAnalyze(const Napi::Value& value) {
  AnalyzeOptions a;
  if (!value.IsObject()) return a;
  Napi::Object o = value.As<Napi::Object>();
  if (o.Has("vad")) a.vad = readVad(o.Get("vad"));
  a.minDropoutMs = getNumber(o, "minDropoutMs", a.minDropoutMs);
  a.minRepeatSec = getNumber(o, "minRepeatSec", a.minRepeatSec);
  a.maxRepeatLagSec = getNumber(o, "maxRepeatLagSec", a.maxRepeatLagSec);
  a.repeatMaxDistance = getNumber(o, "repeatMaxDistance", a.repeatMaxDistance);
  return a;
}

Napi::Float64Array segmentsArray(Napi::Env env, const std::vector<SpeechSegment>& segs) {
  auto arr = Napi::Float64Array::New(env, segs.size() * 2);
  for (size_t i = 0; i < segs.size(); ++i) {
    arr[2 * i] = segs[i].startSec;
    arr[2 * i + 1] = segs[i].endSec;
  }
  return arr;
}

Napi::Uint8Array bytesArray(Napi::Env env, const std::vector<uint8_t>& v) {
  auto arr = Napi::Uint8Array::New(env, v.size());
  std::copy(v.begin(), v.end(), arr.Data());
  return arr;
}

class AnalyzeWorker : public PromiseWorker {
 public:
  AnalyzeWorker(Napi::Env env, int threads, const float* x, size_t n, int rate, AnalyzeOptions opts)
      : PromiseWorker(env, threads), x_(x), n_(n), rate_(rate), opts_(std::move(opts)) {}

 protected:
  void Run() override {
    scores_ = analyzeSignal(x_, n_, rate_, opts_);
    vad_ = detectSpeech(x_, n_, rate_, opts_.vad);
  }
  Napi::Value Result(Napi::Env env) override {
    const SignalScores& s = scores_;
    Napi::Object sc = Napi::Object::New(env);
    sc.Set("durationSec", s.durationSec);
    sc.Set("sampleRate", s.sampleRate);
    sc.Set("speechSec", s.speechSec);
    sc.Set("leadingSilenceSec", s.leadingSilenceSec);
    sc.Set("trailingSilenceSec", s.trailingSilenceSec);
    sc.Set("maxPauseSec", s.maxPauseSec);
    sc.Set("speechSegments", s.speechSegments);
    sc.Set("activeLevelDbfs", s.activeLevelDbfs);
    sc.Set("noiseLevelDbfs", s.noiseLevelDbfs);
    sc.Set("snrDb", s.snrDb);
    sc.Set("noiseSec", s.noiseSec);
    sc.Set("clippedFraction", s.clippedFraction);
    sc.Set("clipLevel", s.clipLevel);
    sc.Set("dropouts", s.dropouts);
    sc.Set("maxDropoutMs", s.maxDropoutMs);
    sc.Set("repeatedSec", s.repeatedSec);
    sc.Set("repeatFirstSec", s.repeatFirstSec);
    sc.Set("repeatSecondSec", s.repeatSecondSec);
    sc.Set("truncatedStart", s.truncatedStart);
    sc.Set("truncatedEnd", s.truncatedEnd);
    sc.Set("startEdgeDb", s.startEdgeDb);
    sc.Set("endEdgeDb", s.endEdgeDb);
    sc.Set("hfEnergyAbove4k", s.hfEnergyAbove4k);
    sc.Set("bandwidthHz", s.bandwidthHz);
    Napi::Object o = Napi::Object::New(env);
    o.Set("scores", sc);
    o.Set("segments", segmentsArray(env, vad_.segments));
    o.Set("dropoutSpans", segmentsArray(env, s.dropoutSpans));
    o.Set("frameSec", vad_.frameSec);
    o.Set("isSpeech", bytesArray(env, vad_.isSpeech));
    return o;
  }

 private:
  const float* x_;
  size_t n_;
  int rate_;
  AnalyzeOptions opts_;
  SignalScores scores_;
  VadResult vad_;
};

class VadWorker : public PromiseWorker {
 public:
  VadWorker(Napi::Env env, int threads, const float* x, size_t n, int rate, VadOptions opts)
      : PromiseWorker(env, threads), x_(x), n_(n), rate_(rate), opts_(std::move(opts)) {}

 protected:
  void Run() override { vad_ = detectSpeech(x_, n_, rate_, opts_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("frameSec", vad_.frameSec);
    auto prob = Napi::Float32Array::New(env, vad_.speechProb.size());
    std::copy(vad_.speechProb.begin(), vad_.speechProb.end(), prob.Data());
    o.Set("speechProb", prob);
    o.Set("isSpeech", bytesArray(env, vad_.isSpeech));
    o.Set("segments", segmentsArray(env, vad_.segments));
    return o;
  }

 private:
  const float* x_;
  size_t n_;
  int rate_;
  VadOptions opts_;
  VadResult vad_;
};

class WadaWorker : public PromiseWorker {
 public:
  WadaWorker(Napi::Env env, int threads, const float* x, size_t n) : PromiseWorker(env, threads), x_(x), n_(n) {}

 protected:
  void Run() override { snr_ = wadaSnr(x_, n_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, snr_); }

 private:
  const float* x_;
  size_t n_;
  double snr_ = 0;
};

Napi::Value AnalyzeJs(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto* x = typedArrayData<float>(info[0], napi_float32_array, &n, "samples");
  int rate = intArg(info, 1, "sampleRate");
  AnalyzeOptions opts = readAnalyze(info[2]);
  int threads = intArg(info, 3, "threads");
  auto* w = new AnalyzeWorker(info.Env(), threads, x, n, rate, opts);
  w->Keep(info[0]);
  return w->Start();
}

Napi::Value VadJs(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto* x = typedArrayData<float>(info[0], napi_float32_array, &n, "samples");
  int rate = intArg(info, 1, "sampleRate");
  VadOptions opts = readVad(info[2]);
  int threads = intArg(info, 3, "threads");
  auto* w = new VadWorker(info.Env(), threads, x, n, rate, opts);
  w->Keep(info[0]);
  return w->Start();
}

Napi::Value WadaJs(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto* x = typedArrayData<float>(info[0], napi_float32_array, &n, "samples");
  int threads = intArg(info, 1, "threads");
  auto* w = new WadaWorker(info.Env(), threads, x, n);
  w->Keep(info[0]);
  return w->Start();
}

}  // namespace

void RegisterMetrics(Napi::Env env, Napi::Object exports) {
  exports.Set("analyzeSignal", Napi::Function::New(env, AnalyzeJs, "analyzeSignal"));
  exports.Set("vad", Napi::Function::New(env, VadJs, "vad"));
  exports.Set("wadaSnr", Napi::Function::New(env, WadaJs, "wadaSnr"));
}

}  // namespace voxqc::binding
