// wavInfo(head: Uint8Array, fileSize: number) -> Promise<WavInfo>
// decodeWav(info: WavInfo, bytes: Uint8Array, frames: number, channel: number, out: Float32Array)
//   -> Promise<number> (index of the first non-finite sample, or -1)
#include "audio/wav.h"

#include "worker.h"

namespace voxqc::binding {

namespace {

using audio::WavInfo;

class WavInfoWorker : public PromiseWorker {
 public:
  WavInfoWorker(Napi::Env env, const uint8_t* head, size_t size, uint64_t fileSize)
      : PromiseWorker(env), head_(head), size_(size), fileSize_(fileSize) {}

 protected:
  void Run() override { info_ = audio::parseWavHeader(head_, size_, fileSize_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("formatTag", info_.formatTag);
    o.Set("encoding", static_cast<int>(info_.encoding));
    o.Set("encodingName", audio::describeEncoding(info_));
    o.Set("extensible", info_.extensible);
    o.Set("channels", info_.channels);
    o.Set("sampleRate", info_.sampleRate);
    o.Set("bitsPerSample", info_.bitsPerSample);
    o.Set("blockAlign", info_.blockAlign);
    o.Set("dataOffset", static_cast<double>(info_.dataOffset));
    o.Set("dataBytes", static_cast<double>(info_.dataBytes));
    o.Set("frames", static_cast<double>(info_.frames));
    o.Set("dataSizeClamped", info_.dataSizeClamped);
    return o;
  }

 private:
  const uint8_t* head_;
  size_t size_;
  uint64_t fileSize_;
  WavInfo info_;
};

WavInfo infoFromJs(const Napi::Object& o) {
  WavInfo info;
  info.formatTag = o.Get("formatTag").As<Napi::Number>().Uint32Value();
  info.encoding = static_cast<audio::SampleEncoding>(o.Get("encoding").As<Napi::Number>().Int32Value());
  info.channels = o.Get("channels").As<Napi::Number>().Uint32Value();
  info.sampleRate = o.Get("sampleRate").As<Napi::Number>().Uint32Value();
  info.bitsPerSample = o.Get("bitsPerSample").As<Napi::Number>().Uint32Value();
  info.blockAlign = o.Get("blockAlign").As<Napi::Number>().Uint32Value();
  return info;
}

class DecodeWavWorker : public PromiseWorker {
 public:
  DecodeWavWorker(Napi::Env env, WavInfo info, const uint8_t* bytes, uint64_t frames, int channel, float* out)
      : PromiseWorker(env), info_(info), bytes_(bytes), frames_(frames), channel_(channel), out_(out) {}

 protected:
  void Run() override { firstBad_ = audio::decodeWavFrames(info_, bytes_, frames_, channel_, out_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(firstBad_)); }

 private:
  WavInfo info_;
  const uint8_t* bytes_;
  uint64_t frames_;
  int channel_;
  float* out_;
  int64_t firstBad_ = -1;
};

Napi::Value WavInfoJs(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto* head = typedArrayData<uint8_t>(info[0], napi_uint8_array, &n, "head");
  double fileSize = numberArg(info, 1, "fileSize");
  auto* w = new WavInfoWorker(info.Env(), head, n, static_cast<uint64_t>(fileSize));
  w->Keep(info[0]);
  return w->Start();
}

Napi::Value DecodeWavJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw argError(env, "info must be the object returned by wavInfo()");
  WavInfo wi = infoFromJs(info[0].As<Napi::Object>());
  size_t nBytes = 0, nOut = 0;
  auto* bytes = typedArrayData<uint8_t>(info[1], napi_uint8_array, &nBytes, "bytes");
  double frames = numberArg(info, 2, "frames");
  int channel = intArg(info, 3, "channel");
  auto* out = typedArrayData<float>(info[4], napi_float32_array, &nOut, "out");
  if (wi.blockAlign == 0 || frames < 0 || frames * wi.blockAlign > static_cast<double>(nBytes) ||
      frames > static_cast<double>(nOut)) {
    throw argError(env, "decodeWav: bytes or out too small for the frame count");
  }
  auto* w = new DecodeWavWorker(env, wi, bytes, static_cast<uint64_t>(frames), channel, out);
  w->Keep(info[1]);
  w->Keep(info[4]);
  return w->Start();
}

}  // namespace

void RegisterWav(Napi::Env env, Napi::Object exports) {
  exports.Set("wavInfo", Napi::Function::New(env, WavInfoJs, "wavInfo"));
  exports.Set("decodeWav", Napi::Function::New(env, DecodeWavJs, "decodeWav"));
}

}  // namespace voxqc::binding
