// The learned grader (cpp/model/grader.h) as a native object:
//   loadGrader(dir, threads) -> Promise<NativeGrader>
//   grader.grade(clips, threads) -> Promise<Array<{ gradeProbs, flagProbs, snrDb, grade }>>
//     clips: Array<{ samples: Float32Array (16 kHz), text?: string,
//                    video?: { frames: Uint8Array, count, height, width }, scores?: object }>
//   grader.info() -> { grades, flags, parameters, config }   grader.dispose()
// Workers hold a shared_ptr to the model, so dispose() during a grade() is safe.
#include <cmath>
#include <memory>

#include "model/grader.h"
#include "worker.h"

namespace voxqc::binding {

namespace {

using voxqc::model::Grader;
using voxqc::model::GraderInput;
using voxqc::model::GradeOutput;

struct GraderData {
  Napi::FunctionReference constructor;
};

class NativeGrader : public Napi::ObjectWrap<NativeGrader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeGrader",
                       {InstanceMethod("grade", &NativeGrader::GradeJs), InstanceMethod("info", &NativeGrader::Info),
                        InstanceMethod("dispose", &NativeGrader::Dispose)});
  }
  explicit NativeGrader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeGrader>(info) {}
  std::shared_ptr<Grader> grader;

 private:
  Napi::Value GradeJs(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!grader) throw Napi::Error::New(env, "the grader was disposed");
    Napi::Object o = Napi::Object::New(env);
    auto names = [&](const std::vector<std::string>& v) {
      auto a = Napi::Array::New(env, v.size());
      for (uint32_t i = 0; i < v.size(); ++i) a.Set(i, v[i]);
      return a;
    };
    o.Set("grades", names(grader->gradeNames()));
    o.Set("flags", names(grader->flagNames()));
    o.Set("parameters", static_cast<double>(grader->parameterCount()));
    o.Set("fusion", voxqc::model::toString(grader->config().fusion));
    return o;
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    grader.reset();
    return info.Env().Undefined();
  }
};

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, int threads, std::string dir) : PromiseWorker(env, threads), dir_(std::move(dir)) {}

 protected:
  void Run() override { grader_ = std::shared_ptr<Grader>(Grader::load(dir_).release()); }
  Napi::Value Result(Napi::Env env) override {
    auto* data = env.GetInstanceData<GraderData>();
    Napi::Object obj = data->constructor.New({});
    NativeGrader::Unwrap(obj)->grader = grader_;
    return obj;
  }

 private:
  std::string dir_;
  std::shared_ptr<Grader> grader_;
};

// Copies of the clip fields that are not borrowed pointers (text, scores); the typed arrays are
// kept alive by the worker.
struct ClipCopy {
  const float* samples = nullptr;
  size_t numSamples = 0;
  std::optional<std::string> text;
  const uint8_t* video = nullptr;
  int64_t frames = 0, height = 0, width = 0;
  std::map<std::string, double> scores;
};

class GradeWorker : public PromiseWorker {
 public:
  GradeWorker(Napi::Env env, int threads, std::shared_ptr<Grader> grader, std::vector<ClipCopy> clips)
      : PromiseWorker(env, threads), grader_(std::move(grader)), clips_(std::move(clips)) {}

 protected:
  void Run() override {
    std::vector<GraderInput> inputs(clips_.size());
    for (size_t i = 0; i < clips_.size(); ++i) {
      const ClipCopy& c = clips_[i];
      GraderInput& in = inputs[i];
      in.samples = c.samples;
      in.numSamples = c.numSamples;
      in.text = c.text;
      in.video = c.video;
      in.videoFrames = c.frames;
      in.videoHeight = c.height;
      in.videoWidth = c.width;
      in.scores = c.scores;
    }
    out_ = grader_->grade(inputs);
  }
  Napi::Value Result(Napi::Env env) override {
    auto arr = Napi::Array::New(env, out_.size());
    for (uint32_t i = 0; i < out_.size(); ++i) {
      const GradeOutput& g = out_[i];
      Napi::Object o = Napi::Object::New(env);
      auto gp = Napi::Float32Array::New(env, g.gradeProbs.size());
      std::copy(g.gradeProbs.begin(), g.gradeProbs.end(), gp.Data());
      auto fp = Napi::Float32Array::New(env, g.flagProbs.size());
      std::copy(g.flagProbs.begin(), g.flagProbs.end(), fp.Data());
      o.Set("gradeProbs", gp);
      o.Set("flagProbs", fp);
      o.Set("snrDb", g.snrDb);
      o.Set("grade", g.grade);
      arr.Set(i, o);
    }
    return arr;
  }

 private:
  std::shared_ptr<Grader> grader_;
  std::vector<ClipCopy> clips_;
  std::vector<GradeOutput> out_;
};

Napi::Value NativeGrader::GradeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!grader) {
    Napi::Error err = Napi::Error::New(env, "the grader was disposed");
    err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
    throw err;
  }
  if (!info[0].IsArray()) throw argError(env, "clips must be an array");
  Napi::Array clipsJs = info[0].As<Napi::Array>();
  int threads = intArg(info, 1, "threads");
  std::vector<ClipCopy> clips(clipsJs.Length());
  std::vector<Napi::Value> keep;
  for (uint32_t i = 0; i < clipsJs.Length(); ++i) {
    Napi::Value v = clipsJs.Get(i);
    if (!v.IsObject()) throw argError(env, "clips[" + std::to_string(i) + "] must be an object");
    Napi::Object c = v.As<Napi::Object>();
    ClipCopy& cc = clips[i];
    size_t n = 0;
    cc.samples = typedArrayData<float>(c.Get("samples"), napi_float32_array, &n, "clip.samples");
    cc.numSamples = n;
    keep.push_back(c.Get("samples"));
    if (c.Has("text") && c.Get("text").IsString()) cc.text = c.Get("text").As<Napi::String>().Utf8Value();
    if (c.Has("video") && c.Get("video").IsObject()) {
      Napi::Object vid = c.Get("video").As<Napi::Object>();
      size_t bytes = 0;
      cc.video = typedArrayData<uint8_t>(vid.Get("frames"), napi_uint8_array, &bytes, "clip.video.frames");
      cc.frames = vid.Get("count").As<Napi::Number>().Int64Value();
      cc.height = vid.Get("height").As<Napi::Number>().Int64Value();
      cc.width = vid.Get("width").As<Napi::Number>().Int64Value();
      if (cc.frames < 0 || cc.height <= 0 || cc.width <= 0 ||
          static_cast<double>(cc.frames) * cc.height * cc.width > static_cast<double>(bytes)) {
        throw argError(env, "clips[" + std::to_string(i) + "].video: frames hold fewer bytes than count x height x width");
      }
      keep.push_back(vid.Get("frames"));
    }
    if (c.Has("scores") && c.Get("scores").IsObject()) {
      Napi::Object s = c.Get("scores").As<Napi::Object>();
      Napi::Array keys = s.GetPropertyNames();
      for (uint32_t k = 0; k < keys.Length(); ++k) {
        std::string name = keys.Get(k).As<Napi::String>().Utf8Value();
        Napi::Value val = s.Get(name);
        if (val.IsNumber()) cc.scores[name] = val.As<Napi::Number>().DoubleValue();
        else if (val.IsBoolean()) cc.scores[name] = val.As<Napi::Boolean>().Value() ? 1.0 : 0.0;
        else cc.scores[name] = std::nan("");
      }
    }
  }
  auto* w = new GradeWorker(env, threads, grader, std::move(clips));
  for (auto& v : keep) w->Keep(v);
  return w->Start();
}

Napi::Value LoadGraderJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw argError(info.Env(), "dir must be a string");
  int threads = intArg(info, 1, "threads");
  auto* w = new LoadWorker(info.Env(), threads, info[0].As<Napi::String>().Utf8Value());
  return w->Start();
}

}  // namespace

void RegisterGrader(Napi::Env env, Napi::Object exports) {
  auto* data = new GraderData();
  data->constructor = Napi::Persistent(NativeGrader::Define(env));
  env.SetInstanceData<GraderData>(data);
  exports.Set("loadGrader", Napi::Function::New(env, LoadGraderJs, "loadGrader"));
}

}  // namespace voxqc::binding
