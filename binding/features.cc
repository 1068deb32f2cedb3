// Feature kernels (cpp/features):
//   featureShape(kind, numSamples, opts) -> { frames, bins }   (synchronous: arithmetic only;
//                                                               validates the options)
//   computeFeatures(kind, samples, opts, out, threads) -> Promise<void>
//   computeFeaturesBatch(kind, clips[], opts, outs[], threads) -> Promise<void>
//   computeFeaturesReference(kind, samples, opts, out, threads) -> Promise<void>  (libtorch ops)
// kind: "spectrogram" | "melSpectrogram" | "mfcc" | "kaldiFbank" | "kaldiMfcc". `out` arrays are
// allocated by the caller (TypeScript) with featureShape's size.
#include <torch/torch.h>

#include <cstring>
#include <functional>

#include "features/features.h"
#include "features/reference_ops.h"
#include "worker.h"

namespace voxqc::binding {

namespace {

using namespace voxqc::features;

enum class Kind { Spectrogram, MelSpectrogram, Mfcc, KaldiFbank, KaldiMfcc };

Kind parseKind(const Napi::Value& v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "spectrogram") return Kind::Spectrogram;
  if (s == "melSpectrogram") return Kind::MelSpectrogram;
  if (s == "mfcc") return Kind::Mfcc;
  if (s == "kaldiFbank") return Kind::KaldiFbank;
  if (s == "kaldiMfcc") return Kind::KaldiMfcc;
  throw argError(v.Env(), "unknown feature kind '" + s + "'");
}

// Reads opts[name] into `field` when present; the TypeScript layer has checked the types.
struct Reader {
  Napi::Object o;
  bool has(const char* name) const {
    if (!o.Has(name)) return false;
    Napi::Value v = o.Get(name);
    return !v.IsUndefined();
  }
  void get(const char* name, int& field) const {
    if (has(name)) field = o.Get(name).As<Napi::Number>().Int32Value();
  }
  void get(const char* name, double& field) const {
    if (has(name)) field = o.Get(name).As<Napi::Number>().DoubleValue();
  }
  void get(const char* name, bool& field) const {
    if (has(name)) field = o.Get(name).ToBoolean().Value();
  }
  // Enum fields: a string, or null meaning torchaudio's None ("none").
  template <typename E>
  void get(const char* name, E& field, E (*parse)(const std::string&)) const {
    if (!has(name)) return;
    Napi::Value v = o.Get(name);
    field = parse(v.IsNull() ? std::string("none") : v.ToString().Utf8Value());
  }
};

void readSpectrogram(const Reader& r, SpectrogramOptions& o) {
  r.get("nFft", o.nFft);
  r.get("winLength", o.winLength);
  r.get("hopLength", o.hopLength);
  r.get("pad", o.pad);
  r.get("window", o.window, parseWindowType);
  r.get("power", o.power);
  r.get("normalized", o.normalized);
  r.get("center", o.center);
  r.get("padMode", o.padMode, parsePadMode);
  r.get("onesided", o.onesided);
  r.get("sampleRate", o.sampleRate);
}

void readMel(const Reader& r, MelSpectrogramOptions& o) {
  readSpectrogram(r, o);
  r.get("nMels", o.nMels);
  r.get("fMin", o.fMin);
  r.get("fMax", o.fMax);
  r.get("norm", o.norm, parseMelNorm);
  r.get("melScale", o.melScale, parseMelScale);
}

void readMfcc(const Reader& r, MfccOptions& o) {
  readMel(r, o);
  r.get("nMfcc", o.nMfcc);
  r.get("dctType", o.dctType);
  r.get("dctNorm", o.dctNorm, parseDctNorm);
  r.get("logMels", o.logMels);
}

void readFbank(const Reader& r, KaldiFbankOptions& o) {
  r.get("blackmanCoeff", o.blackmanCoeff);
  r.get("dither", o.dither);
  r.get("energyFloor", o.energyFloor);
  r.get("frameLength", o.frameLength);
  r.get("frameShift", o.frameShift);
  r.get("highFreq", o.highFreq);
  r.get("htkCompat", o.htkCompat);
  r.get("lowFreq", o.lowFreq);
  r.get("minDuration", o.minDuration);
  r.get("numMelBins", o.numMelBins);
  r.get("preemphasisCoefficient", o.preemphasisCoefficient);
  r.get("rawEnergy", o.rawEnergy);
  r.get("removeDcOffset", o.removeDcOffset);
  r.get("roundToPowerOfTwo", o.roundToPowerOfTwo);
  r.get("sampleFrequency", o.sampleFrequency);
  r.get("snipEdges", o.snipEdges);
  r.get("subtractMean", o.subtractMean);
  r.get("useEnergy", o.useEnergy);
  r.get("useLogFbank", o.useLogFbank);
  r.get("usePower", o.usePower);
  r.get("vtlnHigh", o.vtlnHigh);
  r.get("vtlnLow", o.vtlnLow);
  r.get("vtlnWarp", o.vtlnWarp);
  r.get("windowType", o.windowType, parseKaldiWindowType);
}

void readKaldiMfcc(const Reader& r, KaldiMfccOptions& o) {
  readFbank(r, o);
  r.get("numCeps", o.numCeps);
  r.get("cepstralLifter", o.cepstralLifter);
}

// One option set of any kind, parsed on the main thread and copied into the worker.
struct AnyOptions {
  Kind kind = Kind::Mfcc;
  SpectrogramOptions spec;
  MelSpectrogramOptions mel;
  MfccOptions mfcc;
  KaldiFbankOptions fbank;
  KaldiMfccOptions kmfcc;

  FeatureShape shape(size_t n) const {
    switch (kind) {
      case Kind::Spectrogram: return spectrogramShape(n, spec);
      case Kind::MelSpectrogram: return melSpectrogramShape(n, mel);
      case Kind::Mfcc: return mfccShape(n, mfcc);
      case Kind::KaldiFbank: return kaldiFbankShape(n, fbank);
      case Kind::KaldiMfcc: return kaldiMfccShape(n, kmfcc);
    }
    return {};
  }
  void compute(const float* x, size_t n, float* out) const {
    switch (kind) {
      case Kind::Spectrogram: return spectrogramInto(x, n, spec, out);
      case Kind::MelSpectrogram: return melSpectrogramInto(x, n, mel, out);
      case Kind::Mfcc: return mfccInto(x, n, mfcc, out);
      case Kind::KaldiFbank: return kaldiFbankInto(x, n, fbank, out);
      case Kind::KaldiMfcc: return kaldiMfccInto(x, n, kmfcc, out);
    }
  }
  void computeBatch(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                    const std::vector<float*>& outs) const {
    switch (kind) {
      case Kind::Spectrogram: return spectrogramBatchInto(clips, lengths, spec, outs);
      case Kind::MelSpectrogram: return melSpectrogramBatchInto(clips, lengths, mel, outs);
      case Kind::Mfcc: return mfccBatchInto(clips, lengths, mfcc, outs);
      case Kind::KaldiFbank: return kaldiFbankBatchInto(clips, lengths, fbank, outs);
      case Kind::KaldiMfcc: return kaldiMfccBatchInto(clips, lengths, kmfcc, outs);
    }
  }
  at::Tensor reference(const at::Tensor& x) const {
    switch (kind) {
      case Kind::Spectrogram: return ref::spectrogram(x, spec);
      case Kind::MelSpectrogram: return ref::melSpectrogram(x, mel);
      case Kind::Mfcc: return ref::mfcc(x, mfcc);
      case Kind::KaldiFbank: return ref::kaldiFbank(x, fbank);
      case Kind::KaldiMfcc: return ref::kaldiMfcc(x, kmfcc);
    }
    return {};
  }
};

// Parses options; voxqc::Error from the enum parsers becomes a JS error with its code.
AnyOptions parseOptions(const Napi::Value& kindValue, const Napi::Value& optsValue) {
  AnyOptions o;
  o.kind = parseKind(kindValue);
  Napi::Object obj = optsValue.IsObject() ? optsValue.As<Napi::Object>() : Napi::Object::New(optsValue.Env());
  Reader r{obj};
  switch (o.kind) {
    case Kind::Spectrogram: readSpectrogram(r, o.spec); break;
    case Kind::MelSpectrogram: readMel(r, o.mel); break;
    case Kind::Mfcc: readMfcc(r, o.mfcc); break;
    case Kind::KaldiFbank: readFbank(r, o.fbank); break;
    case Kind::KaldiMfcc: readKaldiMfcc(r, o.kmfcc); break;
  }
  return o;
}

Napi::Error jsErrorFrom(Napi::Env env, const voxqc::Error& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", Napi::String::New(env, errorCodeName(e.code())));
  return err;
}

Napi::Value FeatureShapeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    AnyOptions o = parseOptions(info[0], info[2]);
    double n = numberArg(info, 1, "numSamples");
    FeatureShape s = o.shape(static_cast<size_t>(n));
    Napi::Object res = Napi::Object::New(env);
    res.Set("frames", static_cast<double>(s.frames));
    res.Set("bins", static_cast<double>(s.bins));
    return res;
  } catch (const voxqc::Error& e) {
    throw jsErrorFrom(env, e);
  }
}

class FeaturesWorker : public PromiseWorker {
 public:
  FeaturesWorker(Napi::Env env, int threads, AnyOptions opts, const float* x, size_t n, float* out, size_t outLen,
                 bool reference)
      : PromiseWorker(env, threads), opts_(std::move(opts)), x_(x), n_(n), out_(out), outLen_(outLen),
        reference_(reference) {}

 protected:
  void Run() override {
    FeatureShape s = opts_.shape(n_);
    if (s.size() != outLen_) {
      throw Error(ErrorCode::InvalidArg, "features: out has " + std::to_string(outLen_) + " values, " +
                                             std::to_string(s.size()) + " expected");
    }
    if (!reference_) {
      opts_.compute(x_, n_, out_);
      return;
    }
    at::Tensor input = torch::from_blob(const_cast<float*>(x_), {static_cast<int64_t>(n_)}, torch::kFloat32);
    at::Tensor y = opts_.reference(input).contiguous();
    if (static_cast<size_t>(y.numel()) != outLen_) throw Error(ErrorCode::Native, "reference: unexpected output size");
    std::memcpy(out_, y.data_ptr<float>(), outLen_ * sizeof(float));
  }

 private:
  AnyOptions opts_;
  const float* x_;
  size_t n_;
  float* out_;
  size_t outLen_;
  bool reference_;
};

Napi::Value ComputeJs(const Napi::CallbackInfo& info, bool reference) {
  Napi::Env env = info.Env();
  AnyOptions o;
  try {
    o = parseOptions(info[0], info[2]);
  } catch (const voxqc::Error& e) {
    throw jsErrorFrom(env, e);
  }
  size_t n = 0, outLen = 0;
  auto* x = typedArrayData<float>(info[1], napi_float32_array, &n, "samples");
  auto* out = typedArrayData<float>(info[3], napi_float32_array, &outLen, "out");
  int threads = intArg(info, 4, "threads");
  auto* w = new FeaturesWorker(env, threads, std::move(o), x, n, out, outLen, reference);
  w->Keep(info[1]);
  w->Keep(info[3]);
  return w->Start();
}

class FeaturesBatchWorker : public PromiseWorker {
 public:
  FeaturesBatchWorker(Napi::Env env, int threads, AnyOptions opts, std::vector<const float*> clips,
                      std::vector<size_t> lengths, std::vector<float*> outs, std::vector<size_t> outLens)
      : PromiseWorker(env, threads), opts_(std::move(opts)), clips_(std::move(clips)), lengths_(std::move(lengths)),
        outs_(std::move(outs)), outLens_(std::move(outLens)) {}

 protected:
  void Run() override {
    for (size_t i = 0; i < clips_.size(); ++i) {
      if (opts_.shape(lengths_[i]).size() != outLens_[i]) {
        throw Error(ErrorCode::InvalidArg, "features batch: out[" + std::to_string(i) + "] has the wrong size");
      }
    }
    opts_.computeBatch(clips_, lengths_, outs_);
  }

 private:
  AnyOptions opts_;
  std::vector<const float*> clips_;
  std::vector<size_t> lengths_;
  std::vector<float*> outs_;
  std::vector<size_t> outLens_;
};

Napi::Value ComputeBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AnyOptions o;
  try {
    o = parseOptions(info[0], info[2]);
  } catch (const voxqc::Error& e) {
    throw jsErrorFrom(env, e);
  }
  if (!info[1].IsArray() || !info[3].IsArray()) throw argError(env, "clips and outs must be arrays");
  Napi::Array clipsJs = info[1].As<Napi::Array>(), outsJs = info[3].As<Napi::Array>();
  if (clipsJs.Length() != outsJs.Length()) throw argError(env, "clips and outs differ in length");
  int threads = intArg(info, 4, "threads");
  std::vector<const float*> clips;
  std::vector<size_t> lengths, outLens;
  std::vector<float*> outs;
  for (uint32_t i = 0; i < clipsJs.Length(); ++i) {
    size_t n = 0, m = 0;
    clips.push_back(typedArrayData<float>(clipsJs.Get(i), napi_float32_array, &n, "clips[i]"));
    outs.push_back(typedArrayData<float>(outsJs.Get(i), napi_float32_array, &m, "outs[i]"));
    lengths.push_back(n);
    outLens.push_back(m);
  }
  auto* w = new FeaturesBatchWorker(env, threads, std::move(o), std::move(clips), std::move(lengths), std::move(outs),
                                    std::move(outLens));
  w->Keep(clipsJs);  // the arrays hold the typed arrays, which stay reachable through them
  w->Keep(outsJs);
  for (uint32_t i = 0; i < clipsJs.Length(); ++i) {
    w->Keep(clipsJs.Get(i));
    w->Keep(outsJs.Get(i));
  }
  return w->Start();
}

Napi::Value FeatureBackendJs(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("fft", fftBackend());
  o.Set("simd", simdPath());
  return o;
}

}  // namespace

void RegisterFeatures(Napi::Env env, Napi::Object exports) {
  exports.Set("featureShape", Napi::Function::New(env, FeatureShapeJs, "featureShape"));
  exports.Set("computeFeatures", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return ComputeJs(i, false); }, "computeFeatures"));
  exports.Set("computeFeaturesReference", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return ComputeJs(i, true); }, "computeFeaturesReference"));
  exports.Set("computeFeaturesBatch", Napi::Function::New(env, ComputeBatchJs, "computeFeaturesBatch"));
  exports.Set("featureBackend", Napi::Function::New(env, FeatureBackendJs, "featureBackend"));
}

}  // namespace voxqc::binding
