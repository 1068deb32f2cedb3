// The fused CPU feature kernels (see features.h): plans, plan cache, threading and the API.
// The per-frame kernels themselves are in kernels.inc, compiled twice (baseline and AVX2+FMA).
#include "features/features.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VOXQC_FEATURES_X86 1
#else
#define VOXQC_FEATURES_X86 0
#endif

#include "core/error.h"
#include "core/simd.h"
#include "features/detail.h"
#include "features/fft.h"
#include "features/reference_ops.h"

namespace voxqc::features {

namespace detail {

// A filterbank in groups of 8 filters: group g (filters 8g .. 8g+7) covers bins
// [begin[g], begin[g] + count[g]), the union of its filters' nonzero bands, with the weights
// stored bin-major, 8 per bin (zeros where a filter does not reach): one 8-wide FMA per bin.
struct BlockedMel {
  int nMels = 0, nGroups = 0;
  std::vector<int32_t> begin, count, offset;
  std::vector<float> weights;

  // fb: float32 [nMels][nBins] (filter-major).
  void build(const at::Tensor& fbFilterMajor) {
    at::Tensor fb = fbFilterMajor.contiguous();
    nMels = static_cast<int>(fb.size(0));
    nGroups = (nMels + 7) / 8;
    const int64_t nBins = fb.size(1);
    const float* d = fb.data_ptr<float>();
    begin.assign(nGroups, 0);
    count.assign(nGroups, 0);
    offset.assign(nGroups, 0);
    weights.clear();
    for (int g = 0; g < nGroups; ++g) {
      int64_t lo = nBins, hi = 0;
      for (int m = 8 * g; m < std::min(nMels, 8 * g + 8); ++m) {
        const float* row = d + m * nBins;
        for (int64_t k = 0; k < nBins; ++k)
          if (row[k] != 0.f) {
            lo = std::min(lo, k);
            hi = std::max(hi, k + 1);
          }
      }
      if (hi <= lo) lo = hi = 0;
      begin[g] = static_cast<int32_t>(lo);
      count[g] = static_cast<int32_t>(hi - lo);
      offset[g] = static_cast<int32_t>(weights.size());
      for (int64_t k = lo; k < hi; ++k)
        for (int j = 0; j < 8; ++j) {
          const int m = 8 * g + j;
          weights.push_back(m < nMels ? d[m * nBins + k] : 0.f);
        }
    }
    weights.resize(weights.size() + 16, 0.f);
  }
};

struct Scratch {
  AlignedBuffer frame, spec, power, mel, aux, ceps;
};

Scratch& threadScratch() {
  thread_local Scratch s;
  return s;
}

// A DCT matrix [nIn][nOut] stored with rows padded to a multiple of 8 floats (zeros).
static std::vector<float> padDct(const at::Tensor& dct, int& ld) {
  at::Tensor d = dct.contiguous();
  const int64_t nIn = d.size(0), nOut = d.size(1);
  ld = static_cast<int>((nOut + 7) / 8 * 8);
  std::vector<float> out(static_cast<size_t>(nIn * ld) + 64, 0.f);
  const float* p = d.data_ptr<float>();
  for (int64_t m = 0; m < nIn; ++m)
    for (int64_t k = 0; k < nOut; ++k) out[m * ld + k] = p[m * nOut + k];
  return out;
}

struct SpectralPlan {
  enum Mode { Spectrogram, Mel, Mfcc } mode = Spectrogram;
  StftParams stft;
  std::vector<float> window;  // winLength values; "window" normalisation folded in
  const RealFft* fft = nullptr;
  int64_t outBins = 0;
  BlockedMel mel;
  bool logMels = false;
  int nMfcc = 0;
  int dctLd = 0;
  std::vector<float> dct;  // [nMels][dctLd]
};

struct KaldiPlan {
  int64_t winSize = 0, shift = 0, padded = 0, cols = 0, numCeps = 0;
  bool snipEdges = true, removeDc = true, rawEnergy = true, usePower = true, useLogFbank = true;
  bool useEnergy = false, htkCompat = false, subtractMean = false, mfcc = false;
  bool hasEnergyFloor = true, hasLifter = false;
  float logEnergyFloor = 0.f, preemph = 0.97f;
  std::vector<float> window;
  const RealFft* fft = nullptr;
  BlockedMel mel;
  int dctLd = 0;
  std::vector<float> dct, lifter;
};

// ---- the kernels, twice ----------------------------------------------------------------------
namespace generic {
#define VOXQC_KERNEL_AVX2 0
#include "features/kernels.inc"
#undef VOXQC_KERNEL_AVX2
}  // namespace generic

#if VOXQC_FEATURES_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define VOXQC_KERNEL_AVX2 1
#include "features/kernels.inc"
#undef VOXQC_KERNEL_AVX2
}  // namespace avx2
#pragma GCC pop_options
#endif

struct Kernels {
  float (*spectralRange)(const SpectralPlan&, const float*, int64_t, int64_t, int64_t, float*, float*);
  void (*mfccFinish)(const SpectralPlan&, const float*, int64_t, int64_t, float, float*);
  void (*kaldiRange)(const KaldiPlan&, const float*, int64_t, int64_t, int64_t, float*);
  const char* name;
};

static bool useAvx2() {
#if VOXQC_FEATURES_X86
  static const bool yes = simd::avx2Enabled("VOXQC_FEATURES_SIMD");
  return yes;
#else
  return false;
#endif
}

static const Kernels& kernels() {
  static const Kernels g{generic::spectralRange, generic::mfccFinish, generic::kaldiRange, "generic"};
#if VOXQC_FEATURES_X86
  static const Kernels a{avx2::spectralRange, avx2::mfccFinish, avx2::kaldiRange, "avx2+fma"};
  return useAvx2() ? a : g;
#else
  return g;
#endif
}

// ---- plans and their cache -------------------------------------------------------------------

template <class Plan>
class PlanCache {
 public:
  template <class Build>
  std::shared_ptr<const Plan> get(const std::string& key, Build build) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::shared_ptr<const Plan> plan = build();  // outside the lock: may take a while
    std::lock_guard<std::mutex> lock(mutex_);
    if (map_.size() >= 64) map_.clear();
    return map_.emplace(key, std::move(plan)).first->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Plan>> map_;
};

static void keySpec(std::ostringstream& k, const StftParams& s) {
  k << s.nFft << ',' << s.winLength << ',' << s.hop << ',' << s.pad << ',' << s.center << ','
    << static_cast<int>(s.padMode) << ',' << static_cast<int>(s.window) << ',' << std::hexfloat << s.power
    << ',' << s.normalized << ',' << s.onesided;
}

// Plans hold only constants; building them runs a few libtorch ops, with grad off.
static std::shared_ptr<const SpectralPlan> spectralPlan(const StftParams& s, const MelParams* m,
                                                        const MfccOptions* mf) {
  static PlanCache<SpectralPlan> cache;
  std::ostringstream k;
  keySpec(k, s);
  if (m)
    k << "|mel," << m->nMels << ',' << std::hexfloat << m->fMin << ',' << m->fMax << ',' << m->sampleRate << ','
      << static_cast<int>(m->norm) << ',' << static_cast<int>(m->melScale);
  if (mf) k << "|mfcc," << mf->nMfcc << ',' << static_cast<int>(mf->dctNorm) << ',' << mf->logMels;
  return cache.get(k.str(), [&] {
    at::NoGradGuard noGrad;
    auto p = std::make_shared<SpectralPlan>();
    p->stft = s;
    at::Tensor w = ref::transformWindow(s.window, s.winLength);
    if (s.normalized) w = w / w.pow(2.0).sum().sqrt();
    w = w.contiguous();
    p->window.assign(w.data_ptr<float>(), w.data_ptr<float>() + s.winLength);
    p->fft = &realFft(static_cast<int>(s.nFft));
    p->outBins = s.outBins();
    p->mode = SpectralPlan::Spectrogram;
    if (m) {
      p->mode = SpectralPlan::Mel;
      at::Tensor fb = ref::melFilterbank(s.bins(), m->fMin, m->fMax, m->nMels, m->sampleRate, m->norm, m->melScale);
      p->mel.build(fb.t());
      p->outBins = m->nMels;
    }
    if (mf) {
      p->mode = SpectralPlan::Mfcc;
      p->logMels = mf->logMels;
      p->nMfcc = mf->nMfcc;
      p->dct = padDct(ref::createDct(mf->nMfcc, m->nMels, mf->dctNorm), p->dctLd);
      p->outBins = mf->nMfcc;
    }
    return std::shared_ptr<const SpectralPlan>(std::move(p));
  });
}

static std::shared_ptr<const KaldiPlan> kaldiPlan(const KaldiFbankOptions& o, const KaldiParams& kp,
                                                  const KaldiMfccOptions* mo) {
  static PlanCache<KaldiPlan> cache;
  std::ostringstream k;
  k << std::hexfloat << o.blackmanCoeff << ',' << o.energyFloor << ',' << kp.winSize << ',' << kp.shift << ','
    << kp.padded << ',' << kp.lowFreq << ',' << kp.highFreq << ',' << o.numMelBins << ','
    << o.preemphasisCoefficient << ',' << o.rawEnergy << o.removeDcOffset << o.snipEdges << o.subtractMean
    << o.useEnergy << o.useLogFbank << o.usePower << o.htkCompat << ',' << static_cast<int>(o.windowType) << ','
    << o.sampleFrequency;
  if (mo) k << "|mfcc," << mo->numCeps << ',' << mo->cepstralLifter;
  return cache.get(k.str(), [&] {
    at::NoGradGuard noGrad;
    auto p = std::make_shared<KaldiPlan>();
    p->winSize = kp.winSize;
    p->shift = kp.shift;
    p->padded = kp.padded;
    p->cols = mo ? mo->numCeps : kp.cols;
    p->snipEdges = o.snipEdges;
    p->removeDc = o.removeDcOffset;
    p->rawEnergy = o.rawEnergy;
    p->usePower = mo ? true : o.usePower;
    p->useLogFbank = mo ? true : o.useLogFbank;
    p->useEnergy = o.useEnergy;
    p->htkCompat = o.htkCompat;
    p->subtractMean = o.subtractMean;
    p->mfcc = mo != nullptr;
    p->hasEnergyFloor = o.energyFloor != 0.0;
    p->logEnergyFloor = p->hasEnergyFloor ? static_cast<float>(std::log(o.energyFloor)) : 0.f;
    p->preemph = static_cast<float>(o.preemphasisCoefficient);
    at::Tensor w = ref::kaldiWindow(o.windowType, kp.winSize, o.blackmanCoeff).contiguous();
    p->window.assign(w.data_ptr<float>(), w.data_ptr<float>() + kp.winSize);
    p->fft = &realFft(static_cast<int>(kp.padded));
    p->mel.build(ref::kaldiMelBanks(kp.numMelBins, kp.padded, o.sampleFrequency, kp.lowFreq, kp.highFreq));
    if (mo) {
      p->numCeps = mo->numCeps;
      p->dct = padDct(ref::kaldiDctMatrix(mo->numCeps, kp.numMelBins), p->dctLd);
      p->hasLifter = mo->cepstralLifter != 0.0;
      if (p->hasLifter) {
        at::Tensor l = ref::kaldiLifterCoeffs(mo->numCeps, mo->cepstralLifter).contiguous();
        p->lifter.assign(l.data_ptr<float>(), l.data_ptr<float>() + mo->numCeps);
      }
    }
    return std::shared_ptr<const KaldiPlan>(std::move(p));
  });
}

// ---- threads ----------------------------------------------------------------------------------
//
// at::parallel_for with libtorch's OpenMP backend is an inline template whose "#pragma omp
// parallel" only takes effect in code compiled with -fopenmp; compiled without it, it silently runs
// everything on the calling thread. When this file is built without -fopenmp against an OpenMP
// libtorch, parallelFor below makes the same call the pragma would (GOMP_parallel, from the libgomp
// libtorch has already loaded) with ATen's own chunking, so libtorch's intra-op thread count
// (at::set_num_threads / voxqc::useIntraOpThreads) still governs. With -fopenmp (or a non-OpenMP
// libtorch) it is at::parallel_for itself.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#define VOXQC_FEATURES_GOMP_SHIM 1
namespace gomp {
using ParallelFn = void (*)(void (*)(void*), void*, unsigned, unsigned);
using IntFn = int (*)();
struct Api {
  ParallelFn parallel = nullptr;
  IntFn threadNum = nullptr, numThreads = nullptr;
};
static const Api& api() {
  static const Api a = [] {
    Api r;
    void* h = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);  // the instance libtorch uses
    void* lib = h ? h : RTLD_DEFAULT;
    r.parallel = reinterpret_cast<ParallelFn>(dlsym(lib, "GOMP_parallel"));
    r.threadNum = reinterpret_cast<IntFn>(dlsym(lib, "omp_get_thread_num"));
    r.numThreads = reinterpret_cast<IntFn>(dlsym(lib, "omp_get_num_threads"));
    if (!r.parallel || !r.threadNum || !r.numThreads) r = Api{};
    return r;
  }();
  return a;
}
template <class F>
struct Ctx {
  int64_t begin = 0, end = 0, grain = 0;
  const F* f = nullptr;
  std::atomic_flag errFlag = ATOMIC_FLAG_INIT;
  std::exception_ptr eptr;
};
template <class F>
static void body(void* p) {  // ATen's invoke_parallel, as the pragma would run it
  auto* c = static_cast<Ctx<F>*>(p);
  int64_t numThreads = api().numThreads();
  if (c->grain > 0) numThreads = std::min(numThreads, at::divup(c->end - c->begin, c->grain));
  const int64_t tid = api().threadNum();
  const int64_t chunk = at::divup(c->end - c->begin, numThreads);
  const int64_t b = c->begin + tid * chunk;
  if (b < c->end) {
    try {
      (*c->f)(b, std::min(c->end, b + chunk));
    } catch (...) {
      if (!c->errFlag.test_and_set()) c->eptr = std::current_exception();
    }
  }
}
}  // namespace gomp
#else
#define VOXQC_FEATURES_GOMP_SHIM 0
#endif

template <class F>
static void parallelFor(int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (begin >= end) return;
#if VOXQC_FEATURES_GOMP_SHIM
  const bool parallel = end - begin > grain && end - begin > 1 && !at::in_parallel_region() &&
                        at::get_num_threads() > 1 && gomp::api().parallel;
  if (!parallel) {
    f(begin, end);
    return;
  }
  gomp::Ctx<F> ctx;
  ctx.begin = begin;
  ctx.end = end;
  ctx.grain = grain;
  ctx.f = &f;
  gomp::api().parallel(&gomp::body<F>, &ctx, 0, 0);
  if (ctx.eptr) std::rethrow_exception(ctx.eptr);
#else
  at::parallel_for(begin, end, grain, f);
#endif
}

// ---- running one clip ----------------------------------------------------------------------

// Frames per thread at least: waking a thread costs more than a few hundred frames take (about
// 0.3 ms), so short clips stay on one thread.
constexpr int64_t kGrainFrames = 256;

// The mel-dB scratch of the two-pass MFCC: reused per thread up to 4 Mi floats, else per call.
struct DbScratch {
  float* get(size_t n) {
    constexpr size_t kKeep = size_t(1) << 22;
    if (n > kKeep) {
      big.reset(new float[n]);
      return big.get();
    }
    thread_local std::vector<float> small;
    if (small.size() < n) small.resize(n);
    return small.data();
  }
  std::unique_ptr<float[]> big;
};

static void runSpectral(const SpectralPlan& P, const float* x, int64_t n, int64_t frames, float* out,
                        bool parallel) {
  const Kernels& K = kernels();
  const int64_t grain = parallel ? kGrainFrames : std::numeric_limits<int64_t>::max();
  if (P.mode != SpectralPlan::Mfcc || P.logMels) {
    parallelFor(0, frames, grain, [&](int64_t b, int64_t e) { K.spectralRange(P, x, n, b, e, out, nullptr); });
    return;
  }
  DbScratch scratch;
  float* db = scratch.get(static_cast<size_t>(frames) * P.mel.nMels);
  std::mutex maxMutex;
  float mx = -std::numeric_limits<float>::infinity();
  parallelFor(0, frames, grain, [&](int64_t b, int64_t e) {
    const float m = K.spectralRange(P, x, n, b, e, out, db);
    std::lock_guard<std::mutex> lock(maxMutex);
    mx = std::max(mx, m);
  });
  const float floorDb = mx - 80.0f;  // top_db
  parallelFor(0, frames, grain, [&](int64_t b, int64_t e) { K.mfccFinish(P, db, b, e, floorDb, out); });
}

static void subtractColumnMeans(float* out, int64_t frames, int64_t cols) {
  if (frames == 0) return;
  std::vector<double> mean(cols, 0.0);
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t c = 0; c < cols; ++c) mean[c] += out[t * cols + c];
  std::vector<float> m(cols);
  for (int64_t c = 0; c < cols; ++c) m[c] = static_cast<float>(mean[c] / static_cast<double>(frames));
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t c = 0; c < cols; ++c) out[t * cols + c] -= m[c];
}

static void runKaldi(const KaldiPlan& P, const float* x, int64_t n, int64_t frames, float* out, bool parallel) {
  const Kernels& K = kernels();
  const int64_t grain = parallel ? kGrainFrames : std::numeric_limits<int64_t>::max();
  parallelFor(0, frames, grain, [&](int64_t b, int64_t e) { K.kaldiRange(P, x, n, b, e, out); });
  if (P.subtractMean) subtractColumnMeans(out, frames, P.cols);
}

// ---- batches --------------------------------------------------------------------------------

// Runs run(i, parallelFrames) for every clip: clips much longer than the average are split by
// frames, one after the other; the rest are spread over the threads whole.
template <class Run>
static void runBatch(const std::vector<int64_t>& frames, Run run) {
  const int64_t nClips = static_cast<int64_t>(frames.size());
  const int threads = at::get_num_threads();
  if (threads <= 1 || nClips <= 1) {
    for (int64_t i = 0; i < nClips; ++i) run(i, threads > 1);
    return;
  }
  int64_t total = 0;
  for (int64_t f : frames) total += f;
  const int64_t big = std::max<int64_t>(kGrainFrames * 4, total / (2 * threads));
  std::vector<int64_t> small;
  for (int64_t i = 0; i < nClips; ++i) {
    if (frames[i] > big) {
      run(i, true);
    } else {
      small.push_back(i);
    }
  }
  parallelFor(0, static_cast<int64_t>(small.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) run(small[j], false);
  });
}

static void checkBatchArgs(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                           const std::vector<float*>* outs) {
  if (clips.size() != lengths.size())
    throwInvalidArg("batch: " + std::to_string(clips.size()) + " clips but " + std::to_string(lengths.size()) +
                    " lengths");
  if (outs && outs->size() != clips.size())
    throwInvalidArg("batch: " + std::to_string(clips.size()) + " clips but " + std::to_string(outs->size()) +
                    " output buffers");
  for (size_t i = 0; i < clips.size(); ++i)
    if (!clips[i] && lengths[i] > 0) throwInvalidArg("batch: clip " + std::to_string(i) + " is a null pointer");
}

static at::Tensor inputTensor(const at::Tensor& samples) {
  if (!samples.defined() || samples.dim() != 1)
    throwInvalidArg("samples must be a 1-D tensor (one mono clip)");
  if (samples.scalar_type() != at::kFloat) throwInvalidArg("samples must be float32");
  if (!samples.device().is_cpu()) throwInvalidArg("samples must be on the CPU");
  return samples.contiguous();
}

}  // namespace detail

using namespace detail;

// ---- the torchaudio transforms -------------------------------------------------------------------

namespace {

// Everything one option set needs, resolved and validated once.
struct SpectralJob {
  const char* structName;
  StftParams stft;
  MelParams mel;
  std::shared_ptr<const SpectralPlan> plan;

  FeatureShape shape(size_t n, long clip = -1) const {
    return {static_cast<size_t>(stftFrames(stft, n, structName, clip)), static_cast<size_t>(plan->outBins)};
  }
  double sampleRate() const { return stft.sampleRate; }
  void compute(const float* x, size_t n, size_t frames, float* out, bool parallel) const {
    runSpectral(*plan, x, static_cast<int64_t>(n), static_cast<int64_t>(frames), out, parallel);
  }
};

SpectralJob makeJob(const SpectrogramOptions& o) {
  SpectralJob j{"SpectrogramOptions", resolveStft(o, "SpectrogramOptions"), {}, nullptr};
  j.plan = spectralPlan(j.stft, nullptr, nullptr);
  return j;
}
SpectralJob makeJob(const MelSpectrogramOptions& o) {
  SpectralJob j{"MelSpectrogramOptions", resolveStft(o, "MelSpectrogramOptions"), {}, nullptr};
  j.mel = resolveMel(o, j.stft, j.structName);
  j.plan = spectralPlan(j.stft, &j.mel, nullptr);
  return j;
}
SpectralJob makeJob(const MfccOptions& o) {
  SpectralJob j{"MfccOptions", resolveStft(o, "MfccOptions"), {}, nullptr};
  j.mel = resolveMel(o, j.stft, j.structName);
  validateMfcc(o);
  j.plan = spectralPlan(j.stft, &j.mel, &o);
  return j;
}

struct KaldiJob {
  const char* structName;
  KaldiFbankOptions opts;
  KaldiParams params;
  std::shared_ptr<const KaldiPlan> plan;

  FeatureShape shape(size_t n, long clip = -1) const {
    return {static_cast<size_t>(kaldiFrames(opts, params, n, structName, clip)), static_cast<size_t>(plan->cols)};
  }
  double sampleRate() const { return opts.sampleFrequency; }
  void compute(const float* x, size_t n, size_t frames, float* out, bool parallel) const {
    runKaldi(*plan, x, static_cast<int64_t>(n), static_cast<int64_t>(frames), out, parallel);
  }
};

KaldiJob makeJob(const KaldiFbankOptions& o) {
  KaldiJob j{"KaldiFbankOptions", o, resolveKaldi(o, "KaldiFbankOptions"), nullptr};
  j.plan = kaldiPlan(o, j.params, nullptr);
  return j;
}
KaldiJob makeJob(const KaldiMfccOptions& o) {
  KaldiJob j{"KaldiMfccOptions", o, resolveKaldi(o, "KaldiMfccOptions"), nullptr};
  validateKaldiMfcc(o);
  j.plan = kaldiPlan(o, j.params, &o);
  return j;
}

// Shape, pointers and samples of one clip checked; returns its shape.
template <class Job>
FeatureShape checkClip(const Job& job, const float* x, size_t n, const float* out, long clip = -1) {
  const FeatureShape s = job.shape(n, clip);
  if (!x) throwInvalidArg(clipPrefix(clip) + "samples is a null pointer");
  if (!out && s.size() > 0) throwInvalidArg(clipPrefix(clip) + "the output buffer is a null pointer");
  checkFinite(x, n, job.sampleRate(), clip);
  return s;
}

template <class Opts>
FeatureShape shapeOf(size_t n, const Opts& o) {
  return makeJob(o).shape(n);
}

template <class Opts>
void intoOf(const float* x, size_t n, const Opts& o, float* out) {
  auto job = makeJob(o);
  const FeatureShape s = checkClip(job, x, n, out);
  job.compute(x, n, s.frames, out, true);
}

template <class Opts>
std::vector<float> vectorOf(const float* x, size_t n, const Opts& o) {
  auto job = makeJob(o);
  const FeatureShape s = job.shape(n);
  std::vector<float> out(s.size());
  checkClip(job, x, n, out.data());
  job.compute(x, n, s.frames, out.data(), true);
  return out;
}

template <class Opts>
at::Tensor tensorOf(const at::Tensor& samples, const Opts& o) {
  auto job = makeJob(o);
  at::Tensor x = inputTensor(samples);
  const size_t n = static_cast<size_t>(x.numel());
  const FeatureShape s = job.shape(n);
  at::Tensor out = at::empty({static_cast<int64_t>(s.frames), static_cast<int64_t>(s.bins)}, at::kFloat);
  checkClip(job, x.data_ptr<float>(), n, out.data_ptr<float>());
  job.compute(x.data_ptr<float>(), n, s.frames, out.data_ptr<float>(), true);
  return out;
}

template <class Job>
void batchRun(const Job& job, const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
              const std::vector<float*>& outs) {
  std::vector<int64_t> frames(clips.size());
  for (size_t i = 0; i < clips.size(); ++i)
    frames[i] = static_cast<int64_t>(checkClip(job, clips[i], lengths[i], outs[i], static_cast<long>(i)).frames);
  runBatch(frames, [&](int64_t i, bool parallel) { job.compute(clips[i], lengths[i], frames[i], outs[i], parallel); });
}

template <class Opts>
void batchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths, const Opts& o,
               const std::vector<float*>& outs) {
  checkBatchArgs(clips, lengths, &outs);
  batchRun(makeJob(o), clips, lengths, outs);
}

template <class Opts>
std::vector<std::vector<float>> batchOf(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,
                                        const Opts& o) {
  checkBatchArgs(clips, lengths, nullptr);
  auto job = makeJob(o);
  std::vector<std::vector<float>> results(clips.size());
  std::vector<float*> outs(clips.size());
  for (size_t i = 0; i < clips.size(); ++i) {
    results[i].resize(job.shape(lengths[i], static_cast<long>(i)).size());
    outs[i] = results[i].data();
  }
  batchRun(job, clips, lengths, outs);
  return results;
}

}  // namespace

#define VOXQC_FEATURE_API(name, Opts)                                                                     \
  FeatureShape name##Shape(size_t n, const Opts& o) { return shapeOf(n, o); }                            \
  void name##Into(const float* x, size_t n, const Opts& o, float* out) { intoOf(x, n, o, out); }         \
  std::vector<float> name(const float* x, size_t n, const Opts& o) { return vectorOf(x, n, o); }         \
  at::Tensor name(const at::Tensor& x, const Opts& o) { return tensorOf(x, o); }                         \
  void name##BatchInto(const std::vector<const float*>& clips, const std::vector<size_t>& lengths,       \
                       const Opts& o, const std::vector<float*>& outs) {                                 \
    batchInto(clips, lengths, o, outs);                                                                  \
  }                                                                                                      \
  std::vector<std::vector<float>> name##Batch(const std::vector<const float*>& clips,                    \
                                              const std::vector<size_t>& lengths, const Opts& o) {       \
    return batchOf(clips, lengths, o);                                                                   \
  }

VOXQC_FEATURE_API(spectrogram, SpectrogramOptions)
VOXQC_FEATURE_API(melSpectrogram, MelSpectrogramOptions)
VOXQC_FEATURE_API(mfcc, MfccOptions)
VOXQC_FEATURE_API(kaldiFbank, KaldiFbankOptions)
VOXQC_FEATURE_API(kaldiMfcc, KaldiMfccOptions)
#undef VOXQC_FEATURE_API

const char* fftBackend() { return realFftBackend(); }
const char* simdPath() { return kernels().name; }

}  // namespace voxqc::features
