// resample(input: Float32Array, fromRate, toRate, out: Float32Array, threads) -> Promise<void>
// `out` must hold ceil(input.length * toRate / fromRate) samples (the TS layer computes it).
#include "audio/resample.h"

#include "worker.h"

namespace voxqc::binding {

namespace {

class ResampleWorker : public PromiseWorker {
 public:
  ResampleWorker(Napi::Env env, int threads, const float* in, size_t n, int64_t from, int64_t to, float* out,
                 size_t outLen)
      : PromiseWorker(env, threads), in_(in), n_(n), from_(from), to_(to), out_(out), outLen_(outLen) {}

 protected:
  void Run() override {
    const auto shared = audio::sharedResampler(from_, to_);
    const audio::Resampler& r = *shared;
    if (r.outputLength(n_) != outLen_) {
      throw Error(ErrorCode::InvalidArg, "resample: out has " + std::to_string(outLen_) + " samples, " +
                                             std::to_string(r.outputLength(n_)) + " expected");
    }
    r.process(in_, n_, out_);
  }

 private:
  const float* in_;
  size_t n_;
  int64_t from_, to_;
  float* out_;
  size_t outLen_;
};

Napi::Value ResampleJs(const Napi::CallbackInfo& info) {
  size_t n = 0, outLen = 0;
  auto* in = typedArrayData<float>(info[0], napi_float32_array, &n, "input");
  int from = intArg(info, 1, "fromRate");
  int to = intArg(info, 2, "toRate");
  auto* out = typedArrayData<float>(info[3], napi_float32_array, &outLen, "out");
  int threads = intArg(info, 4, "threads");
  auto* w = new ResampleWorker(info.Env(), threads, in, n, from, to, out, outLen);
  w->Keep(info[0]);
  w->Keep(info[3]);
  return w->Start();
}

}  // namespace

void RegisterResample(Napi::Env env, Napi::Object exports) {
  exports.Set("resample", Napi::Function::New(env, ResampleJs, "resample"));
}

}  // namespace voxqc::binding
