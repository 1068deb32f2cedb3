// avOffset(frames: Uint8Array, numFrames, width, height, fps, audio: Float32Array, sampleRate,
//          opts: { maxOffsetMs?, audioStartSec?, leadMs? }, threads)
//   -> Promise<{ offsetMs, confidence, rawLagMs, peakCorr, rivalCorr, rivalLagMs, atSearchEdge,
//                speechSec, motionLevel }>
// frames: numFrames gray frames of width x height (the mouth search region; lib/video.ts crops).
#include "video/av_offset.h"

#include "worker.h"

namespace voxqc::binding {

namespace {

class AvOffsetWorker : public PromiseWorker {
 public:
  AvOffsetWorker(Napi::Env env, int threads, const uint8_t* frames, int numFrames, int width, int height, double fps,
                 const float* audio, size_t numSamples, int sampleRate, video::AvOffsetOptions opts)
      : PromiseWorker(env, threads), frames_(frames), numFrames_(numFrames), width_(width), height_(height), fps_(fps),
        audio_(audio), numSamples_(numSamples), sampleRate_(sampleRate), opts_(opts) {}

 protected:
  void Run() override {
    result_ = video::estimateAvOffset(frames_, numFrames_, width_, height_, fps_, audio_, numSamples_, sampleRate_, opts_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("offsetMs", result_.offsetMs);
    o.Set("confidence", result_.confidence);
    o.Set("rawLagMs", result_.rawLagMs);
    o.Set("peakCorr", result_.peakCorr);
    o.Set("rivalCorr", result_.rivalCorr);
    o.Set("rivalLagMs", result_.rivalLagMs);
    o.Set("atSearchEdge", result_.atSearchEdge);
    o.Set("speechSec", result_.speechSec);
    o.Set("motionLevel", result_.motionLevel);
    return o;
  }

 private:
  const uint8_t* frames_;
  int numFrames_, width_, height_;
  double fps_;
  const float* audio_;
  size_t numSamples_;
  int sampleRate_;
  video::AvOffsetOptions opts_;
  video::AvOffsetResult result_;
};

double optNumber(const Napi::Object& opts, const char* key, double fallback) {
  if (!opts.Has(key)) return fallback;
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw argError(opts.Env(), std::string("opts.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Value AvOffsetJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t frameBytes = 0, numSamples = 0;
  auto* frames = typedArrayData<uint8_t>(info[0], napi_uint8_array, &frameBytes, "frames");
  const int numFrames = intArg(info, 1, "numFrames");
  const int width = intArg(info, 2, "width");
  const int height = intArg(info, 3, "height");
  const double fps = numberArg(info, 4, "fps");
  auto* audio = typedArrayData<float>(info[5], napi_float32_array, &numSamples, "audio");
  const int sampleRate = intArg(info, 6, "sampleRate");
  if (info.Length() <= 7 || !info[7].IsObject()) throw argError(env, "opts must be an object");
  Napi::Object opts = info[7].As<Napi::Object>();
  const int threads = intArg(info, 8, "threads");
  if (numFrames < 0 || width <= 0 || height <= 0 ||
      frameBytes != size_t(numFrames) * size_t(width) * size_t(height)) {
    throw argError(env, "frames holds " + std::to_string(frameBytes) + " bytes, numFrames x width x height = " +
                            std::to_string(int64_t(numFrames) * width * height));
  }
  video::AvOffsetOptions o;
  o.maxOffsetMs = optNumber(opts, "maxOffsetMs", o.maxOffsetMs);
  o.audioStartSec = optNumber(opts, "audioStartSec", o.audioStartSec);
  o.leadMs = optNumber(opts, "leadMs", o.leadMs);
  auto* w = new AvOffsetWorker(env, threads, frames, numFrames, width, height, fps, audio, numSamples, sampleRate, o);
  w->Keep(info[0]);
  w->Keep(info[5]);
  return w->Start();
}

}  // namespace

void RegisterVideo(Napi::Env env, Napi::Object exports) {
  exports.Set("avOffset", Napi::Function::New(env, AvOffsetJs, "avOffset"));
}

}  // namespace voxqc::binding
