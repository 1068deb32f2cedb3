// Training the grader (cpp/train/train.h):
//   trainGrader(manifest, configJson, options, onProgress(jsonString)) -> { promise, cancel() }
// Progress events and the result are JSON strings (parsed in lib/train.ts). cancel() asks the
// trainer to stop after the current step; it saves a checkpoint, and the same call resumes.
#include <napi.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

#include "model/config.h"
#include "train/train.h"
#include "worker.h"

namespace voxqc::binding {

namespace {

using nlohmann::json;

class TrainWorker : public Napi::AsyncProgressQueueWorker<std::string> {
 public:
  TrainWorker(Napi::Function onProgress, Napi::Promise::Deferred deferred, std::string manifest, model::ModelConfig cfg,
              train::TrainOptions opts, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncProgressQueueWorker<std::string>(onProgress, "voxqc.train"),
        deferred_(deferred),
        manifest_(std::move(manifest)),
        cfg_(std::move(cfg)),
        opts_(std::move(opts)),
        cancel_(std::move(cancel)) {}

  void Execute(const ExecutionProgress& progress) override {
    try {
      useIntraOpThreads(opts_.threads);
      auto onProgress = [&](const train::TrainProgress& p) {
        json j = {{"phase", p.phase}, {"epoch", p.epoch}, {"epochs", p.epochs}, {"step", p.step},
                  {"totalSteps", p.totalSteps}, {"loss", p.loss}, {"lr", p.lr}, {"elapsedSec", p.elapsedSec},
                  {"examplesPerSec", p.examplesPerSec}, {"message", p.message}};
        if (p.val) j["val"] = p.val->toJson(cfg_.grades, cfg_.flags);
        std::string s = j.dump();
        progress.Send(&s, 1);
      };
      train::TrainResult r = voxqc::train::train(manifest_, cfg_, opts_, onProgress, cancel_.get());
      json j = {{"outDir", r.outDir}, {"modelPath", r.modelPath}, {"configPath", r.configPath},
                {"metricsPath", r.metricsPath}, {"cancelled", r.cancelled}, {"resumedFromStep", r.resumedFromStep},
                {"epochsDone", r.epochsDone}, {"steps", r.steps}, {"bestEpoch", r.bestEpoch},
                {"best", r.best.toJson(cfg_.grades, cfg_.flags)}, {"trainExamples", r.trainExamples},
                {"valExamples", r.valExamples}, {"trainSpeakers", r.trainSpeakers}, {"valSpeakers", r.valSpeakers},
                {"parameters", r.parameters}};
      result_ = j.dump();
    } catch (const voxqc::Error& e) {
      code_ = errorCodeName(e.code());
      SetError(e.what());
    } catch (const c10::Error& e) {
      code_ = "ERR_NATIVE";
      SetError(std::string("libtorch: ") + e.what_without_backtrace());
    } catch (const std::exception& e) {
      code_ = "ERR_NATIVE";
      SetError(e.what());
    }
  }

  void OnProgress(const std::string* data, size_t count) override {
    Napi::HandleScope scope(Env());
    for (size_t i = 0; i < count; ++i) Callback().Call({Napi::String::New(Env(), data[i])});
  }

  void OnOK() override { deferred_.Resolve(Napi::String::New(Env(), result_)); }
  void OnError(const Napi::Error& error) override {
    Napi::Object err = error.Value();
    err.Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(err);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string manifest_;
  model::ModelConfig cfg_;
  train::TrainOptions opts_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::string result_;
  std::string code_ = "ERR_NATIVE";
};

train::TrainOptions readOptions(const Napi::Object& o) {
  train::TrainOptions t;
  auto num = [&](const char* k, auto& field) {
    if (o.Has(k) && o.Get(k).IsNumber()) field = static_cast<std::decay_t<decltype(field)>>(o.Get(k).As<Napi::Number>().DoubleValue());
  };
  auto boolean = [&](const char* k, bool& field) {
    if (o.Has(k) && o.Get(k).IsBoolean()) field = o.Get(k).As<Napi::Boolean>().Value();
  };
  auto str = [&](const char* k, std::string& field) {
    if (o.Has(k) && o.Get(k).IsString()) field = o.Get(k).As<Napi::String>().Utf8Value();
  };
  str("outDir", t.outDir);
  num("epochs", t.epochs);
  num("batchSize", t.batchSize);
  num("maxBatchFrames", t.maxBatchFrames);
  num("bucketWindow", t.bucketWindow);
  num("lr", t.lr);
  num("weightDecay", t.weightDecay);
  num("warmupFraction", t.warmupFraction);
  num("warmupSteps", t.warmupSteps);
  num("minLrRatio", t.minLrRatio);
  num("gradClip", t.gradClip);
  boolean("classBalanced", t.classBalanced);
  num("seed", t.seed);
  num("threads", t.threads);
  num("valFraction", t.valFraction);
  str("selectBy", t.selectBy);
  boolean("resume", t.resume);
  num("progressEvery", t.progressEvery);
  str("device", t.device);
  return t;
}

Napi::Value TrainJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString() || !info[2].IsObject() || !info[3].IsFunction()) {
    throw argError(env, "trainGrader(manifest, configJson, options, onProgress)");
  }
  model::ModelConfig cfg;
  train::TrainOptions opts;
  try {
    cfg = model::ModelConfig::fromJson(info[1].As<Napi::String>().Utf8Value());
    opts = readOptions(info[2].As<Napi::Object>());
    opts.validate();
  } catch (const voxqc::Error& e) {
    Napi::Error err = Napi::Error::New(env, e.what());
    err.Set("code", Napi::String::New(env, errorCodeName(e.code())));
    throw err;
  }
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto deferred = Napi::Promise::Deferred::New(env);
  auto* w = new TrainWorker(info[3].As<Napi::Function>(), deferred, info[0].As<Napi::String>().Utf8Value(), cfg,
                            opts, cancel);
  w->Queue();
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", deferred.Promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo& i) {
               cancel->store(true);
               return i.Env().Undefined();
             }));
  return handle;
}

}  // namespace

void RegisterTrain(Napi::Env env, Napi::Object exports) {
  exports.Set("trainGrader", Napi::Function::New(env, TrainJs, "trainGrader"));
}

}  // namespace voxqc::binding
