// Defect planting for the simulator (cpp/simulate/plant.h):
//   activeSpeechLevel(clean, sampleRate, threads) -> Promise<number>   (dBFS, P.56)
//   mixAtSnr(clean, sampleRate, noise, snrDb, noiseOffset, out, threads) -> Promise<void>
//   convolve(x, rir, out, threads) -> Promise<void>
#include <algorithm>
#include <functional>

#include "simulate/plant.h"
#include "worker.h"

namespace voxqc::binding {

namespace {

// A worker that runs a function returning a vector and copies it into a JS-owned output.
class VectorWorker : public PromiseWorker {
 public:
  VectorWorker(Napi::Env env, int threads, std::function<std::vector<float>()> fn, float* out, size_t outLen)
      : PromiseWorker(env, threads), fn_(std::move(fn)), out_(out), outLen_(outLen) {}

 protected:
  void Run() override {
    std::vector<float> y = fn_();
    if (y.size() != outLen_) {
      throw Error(ErrorCode::InvalidArg,
                  "out has " + std::to_string(outLen_) + " samples, " + std::to_string(y.size()) + " expected");
    }
    std::copy(y.begin(), y.end(), out_);
  }

 private:
  std::function<std::vector<float>()> fn_;
  float* out_;
  size_t outLen_;
};

class LevelWorker : public PromiseWorker {
 public:
  LevelWorker(Napi::Env env, int threads, const float* x, size_t n, int rate)
      : PromiseWorker(env, threads), x_(x), n_(n), rate_(rate) {}

 protected:
  void Run() override { level_ = simulate::activeSpeechLevelDbfs(x_, n_, rate_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, level_); }

 private:
  const float* x_;
  size_t n_;
  int rate_;
  double level_ = 0;
};

Napi::Value LevelJs(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto* x = typedArrayData<float>(info[0], napi_float32_array, &n, "clean");
  int rate = intArg(info, 1, "sampleRate");
  int threads = intArg(info, 2, "threads");
  auto* w = new LevelWorker(info.Env(), threads, x, n, rate);
  w->Keep(info[0]);
  return w->Start();
}

Napi::Value MixJs(const Napi::CallbackInfo& info) {
  size_t n = 0, noiseLen = 0, outLen = 0;
  auto* clean = typedArrayData<float>(info[0], napi_float32_array, &n, "clean");
  int rate = intArg(info, 1, "sampleRate");
  auto* noise = typedArrayData<float>(info[2], napi_float32_array, &noiseLen, "noise");
  double snr = numberArg(info, 3, "snrDb");
  double offset = numberArg(info, 4, "noiseOffset");
  auto* out = typedArrayData<float>(info[5], napi_float32_array, &outLen, "out");
  int threads = intArg(info, 6, "threads");
  auto fn = [=] { return simulate::mixAtSnr(clean, n, rate, noise, noiseLen, snr, static_cast<size_t>(offset)); };
  auto* w = new VectorWorker(info.Env(), threads, fn, out, outLen);
  w->Keep(info[0]);
  w->Keep(info[2]);
  w->Keep(info[5]);
  return w->Start();
}

Napi::Value ConvolveJs(const Napi::CallbackInfo& info) {
  size_t n = 0, rirLen = 0, outLen = 0;
  auto* x = typedArrayData<float>(info[0], napi_float32_array, &n, "x");
  auto* rir = typedArrayData<float>(info[1], napi_float32_array, &rirLen, "rir");
  auto* out = typedArrayData<float>(info[2], napi_float32_array, &outLen, "out");
  int threads = intArg(info, 3, "threads");
  auto fn = [=] { return simulate::convolve(x, n, rir, rirLen); };
  auto* w = new VectorWorker(info.Env(), threads, fn, out, outLen);
  w->Keep(info[0]);
  w->Keep(info[1]);
  w->Keep(info[2]);
  return w->Start();
}

}  // namespace

void RegisterSimulate(Napi::Env env, Napi::Object exports) {
  exports.Set("activeSpeechLevel", Napi::Function::New(env, LevelJs, "activeSpeechLevel"));
  exports.Set("mixAtSnr", Napi::Function::New(env, MixJs, "mixAtSnr"));
  exports.Set("convolve", Napi::Function::New(env, ConvolveJs, "convolve"));
}

}  // namespace voxqc::binding
