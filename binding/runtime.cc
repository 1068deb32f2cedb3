// runtimeInfo(): libtorch version, CUDA, threads.
#include "worker.h"

namespace voxqc::binding {

namespace {

class RuntimeInfoWorker : public PromiseWorker {
 public:
  using PromiseWorker::PromiseWorker;

 protected:
  void Run() override {
    info_ = runtimeInfo();
    threads_ = intraOpThreads();
    hardware_ = hardwareThreads();
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("torchVersion", info_.torchVersion);
    o.Set("cudaCompiled", info_.cudaCompiled);
    o.Set("cudaAvailable", info_.cudaAvailable);
    o.Set("parallelInfo", info_.parallelInfo);
    o.Set("intraOpThreads", threads_);
    o.Set("hardwareThreads", hardware_);
    return o;
  }

 private:
  RuntimeInfo info_;
  int threads_ = 0, hardware_ = 0;
};

Napi::Value RuntimeInfoJs(const Napi::CallbackInfo& info) {
  int threads = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  auto* w = new RuntimeInfoWorker(info.Env(), threads);
  return w->Start();
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfoJs, "runtimeInfo"));
}

}  // namespace voxqc::binding
