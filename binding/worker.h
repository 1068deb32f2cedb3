// The one AsyncWorker pattern every exposed operation uses: a Promise settled on the main
// thread, the JS inputs and outputs kept referenced while the worker runs, libtorch's intra-op
// thread count set on the worker thread, and C++/libtorch errors turned into JS errors with a
// `.code` (see cpp/core/error.h).
#pragma once

#include <napi.h>

#include <c10/util/Exception.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"

namespace voxqc::binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, int threads = 0)
      : Napi::AsyncWorker(env, "voxqc"), deferred_(Napi::Promise::Deferred::New(env)), threads_(threads) {}

  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

  // Keeps a JS value (input buffer, output array) alive until the worker is done with it.
  void Keep(Napi::Value value) { kept_.push_back(Napi::Persistent(value.As<Napi::Object>())); }

 protected:
  // Runs on a libuv worker thread: no Napi calls here.
  virtual void Run() = 0;
  // Runs on the main thread after Run() succeeded.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

 private:
  void Execute() final {
    try {
      useIntraOpThreads(threads_);
      Run();
      return;
    } catch (const voxqc::Error& e) {
      code_ = errorCodeName(e.code());
      SetError(e.what());
    } catch (const c10::Error& e) {
      code_ = "ERR_NATIVE";
      SetError(std::string("libtorch: ") + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
      code_ = "ERR_NATIVE";
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = "ERR_NATIVE";
      SetError(e.what());
    } catch (...) {
      code_ = "ERR_NATIVE";
      SetError("unknown native error");
    }
  }

  void OnOK() final {
    Napi::Env env = Env();
    Napi::Value value;
    try {
      value = Result(env);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
      return;
    }
    deferred_.Resolve(value);
  }

  void OnError(const Napi::Error& error) final {
    Napi::Object err = error.Value();
    err.Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(err);
  }

  Napi::Promise::Deferred deferred_;
  int threads_;
  std::string code_ = "ERR_NATIVE";
  std::vector<Napi::ObjectReference> kept_;
};

// Argument helpers for the glue (the TypeScript layer validates options first; these only
// guard the native boundary against misuse of the private addon API).
inline Napi::Error argError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
  return err;
}

template <typename T>
T* typedArrayData(const Napi::Value& v, napi_typedarray_type type, size_t* length, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw argError(v.Env(), std::string(name) + " must be a typed array of the expected type");
  }
  auto arr = v.As<Napi::TypedArray>();
  *length = arr.ElementLength();
  auto ab = arr.ArrayBuffer();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(ab.Data()) + arr.ByteOffset());
}

inline int intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) throw argError(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

inline double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) throw argError(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// Registration functions, one per binding file.
void RegisterRuntime(Napi::Env env, Napi::Object exports);
void RegisterWav(Napi::Env env, Napi::Object exports);
void RegisterResample(Napi::Env env, Napi::Object exports);
void RegisterFeatures(Napi::Env env, Napi::Object exports);
void RegisterMetrics(Napi::Env env, Napi::Object exports);
void RegisterSimulate(Napi::Env env, Napi::Object exports);
void RegisterVideo(Napi::Env env, Napi::Object exports);
void RegisterGrader(Napi::Env env, Napi::Object exports);
void RegisterTrain(Napi::Env env, Napi::Object exports);

}  // namespace voxqc::binding
