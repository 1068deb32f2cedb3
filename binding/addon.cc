// Entry point of the voxqc addon: each binding/*.cc file registers what it exposes.
#include <napi.h>

#include "worker.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace voxqc::binding;
  RegisterRuntime(env, exports);
  RegisterWav(env, exports);
  RegisterResample(env, exports);
  RegisterFeatures(env, exports);
  RegisterMetrics(env, exports);
  RegisterSimulate(env, exports);
  RegisterVideo(env, exports);
  RegisterGrader(env, exports);
  RegisterTrain(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace

NODE_API_MODULE(voxqc, Init)
