// at::Tensor glue for the CUDA feature kernels (cuda.h over kernels.h). Only in CUDA builds.
#if VOXQC_WITH_CUDA
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "cuda/cuda.h"
#include "cuda/kernels.h"
#include "features/detail.h"
#include "features/features.h"
#include "features/reference_ops.h"

namespace voxqc::cuda {

using namespace voxqc::features;

namespace {

void checkCuda(int code, const std::string& what) {
  if (code != 0) throw Error(ErrorCode::Native, what + ": CUDA error: " + errorString(code));
}

// Constants of one option set, on one device, built once and cached.
struct Prepared {
  SpecPlan plan;
  at::Tensor window, tw, rtw, melStart, melLen, melOff, melW, dct;
};

std::vector<int> radices(int M) {
  std::vector<int> r;
  int m = M;
  while (m % 4 == 0) r.push_back(4), m /= 4;
  while (m % 2 == 0) r.push_back(2), m /= 2;
  for (int p = 3; m > 1; p += 2)
    while (m % p == 0) r.push_back(p), m /= p;
  return r;
}

at::Tensor toDevice(const std::vector<float>& v, const at::Device& dev) {
  return at::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, at::kFloat).to(dev).clone();
}
at::Tensor toDeviceInt(const std::vector<int>& v, const at::Device& dev) {
  return at::from_blob(const_cast<int*>(v.data()), {static_cast<int64_t>(v.size())}, at::kInt).to(dev).clone();
}

void setFft(Prepared& pr, const at::Device& dev) {
  SpecPlan& p = pr.plan;
  const int N = p.nFft;
  p.realSplit = N % 2 == 0 ? 1 : 0;
  p.M = p.realSplit ? N / 2 : N;
  const std::vector<int> r = radices(p.M);
  if (static_cast<int>(r.size()) > kSpecMaxStages) throwInvalidArg("nFft has too many factors for the CUDA FFT");
  for (int f : r)
    if (f > 64)
      throw Error(ErrorCode::Unsupported, "CUDA features: nFft " + std::to_string(N) + " has the prime factor " +
                                              std::to_string(f) + " (> 64): use device 'cpu' or another nFft");
  p.nStages = static_cast<int>(r.size());
  for (int i = 0; i < p.nStages; ++i) p.radix[i] = r[i];
  std::vector<float> tw(2 * static_cast<size_t>(p.M)), rtw(2 * static_cast<size_t>(p.M + 1));
  for (int t = 0; t < p.M; ++t) {
    const double a = 2.0 * M_PI * t / p.M;
    tw[2 * t] = static_cast<float>(std::cos(a));
    tw[2 * t + 1] = static_cast<float>(-std::sin(a));
  }
  for (int k = 0; k <= p.M; ++k) {
    const double a = 2.0 * M_PI * k / N;
    rtw[2 * k] = static_cast<float>(std::cos(a));
    rtw[2 * k + 1] = static_cast<float>(-std::sin(a));
  }
  pr.tw = toDevice(tw, dev);
  pr.rtw = toDevice(rtw, dev);
  p.tw = pr.tw.data_ptr<float>();
  p.rtw = pr.rtw.data_ptr<float>();
}

// window: 1-D float CPU tensor placed at `offset` inside nFft zeros.
void setWindow(Prepared& pr, const at::Tensor& window, int offset, const at::Device& dev) {
  std::vector<float> w(pr.plan.nFft, 0.f);
  at::Tensor wc = window.to(at::kFloat).contiguous();
  const float* src = wc.data_ptr<float>();
  for (int64_t j = 0; j < wc.numel() && offset + j < pr.plan.nFft; ++j) w[offset + j] = src[j];
  pr.window = toDevice(w, dev);
  pr.plan.window = pr.window.data_ptr<float>();
}

// melRows: [nMels][nBins] float CPU. Each filter keeps its first..last non-zero bins.
void setMel(Prepared& pr, const at::Tensor& melRows, const at::Device& dev) {
  at::Tensor m = melRows.to(at::kFloat).contiguous();
  const int64_t nMels = m.size(0), nBins = m.size(1);
  const float* a = m.data_ptr<float>();
  std::vector<int> start(nMels), len(nMels), off(nMels);
  std::vector<float> w;
  for (int64_t i = 0; i < nMels; ++i) {
    int64_t lo = -1, hi = -1;
    for (int64_t k = 0; k < nBins; ++k)
      if (a[i * nBins + k] != 0.f) {
        if (lo < 0) lo = k;
        hi = k;
      }
    off[i] = static_cast<int>(w.size());
    if (lo < 0) {
      start[i] = 0;
      len[i] = 0;
      continue;
    }
    start[i] = static_cast<int>(lo);
    len[i] = static_cast<int>(hi - lo + 1);
    for (int64_t k = lo; k <= hi; ++k) w.push_back(a[i * nBins + k]);
  }
  if (w.empty()) w.push_back(0.f);
  pr.melStart = toDeviceInt(start, dev);
  pr.melLen = toDeviceInt(len, dev);
  pr.melOff = toDeviceInt(off, dev);
  pr.melW = toDevice(w, dev);
  pr.plan.nMels = static_cast<int>(nMels);
  pr.plan.melStart = pr.melStart.data_ptr<int>();
  pr.plan.melLen = pr.melLen.data_ptr<int>();
  pr.plan.melOff = pr.melOff.data_ptr<int>();
  pr.plan.melW = pr.melW.data_ptr<float>();
}

void setDct(Prepared& pr, const at::Tensor& dct /*[nMels][nOut]*/, const at::Device& dev) {
  at::Tensor d = dct.to(at::kFloat).contiguous();
  pr.dct = d.to(dev).clone();
  pr.plan.dct = pr.dct.data_ptr<float>();
  pr.plan.nOut = static_cast<int>(d.size(1));
}

int padModeOf(PadMode m) {
  switch (m) {
    case PadMode::reflect: return kPadReflect;
    case PadMode::constant: return kPadConstant;
    case PadMode::replicate: return kPadReplicate;
    case PadMode::circular: return kPadCircular;
  }
  return kPadConstant;
}

void stftPlan(Prepared& pr, const detail::StftParams& s, const at::Device& dev, const char* what) {
  if (!s.onesided)
    throw Error(ErrorCode::Unsupported, std::string(what) + ": onesided=false is not offered on CUDA (use device 'cpu')");
  SpecPlan& p = pr.plan;
  p.framing = kFramingStft;
  p.nFft = static_cast<int>(s.nFft);
  p.frameLen = p.nFft;
  p.hop = static_cast<int>(s.hop);
  p.pad = static_cast<int>(s.pad);
  p.cpad = static_cast<int>(s.cpad);
  p.padMode = padModeOf(s.padMode);
  p.powerExp = static_cast<float>(s.power);
  p.nBins = static_cast<int>(s.bins());
  at::Tensor win = ref::transformWindow(s.window, s.winLength);
  p.specScale = s.normalized ? 1.f / win.pow(2.0).sum().sqrt().item<float>() : 1.f;
  setWindow(pr, win, static_cast<int>(s.winOffset), dev);
  setFft(pr, dev);
  p.nOut = p.nBins;
}

void kaldiPlan(Prepared& pr, const KaldiFbankOptions& o, const detail::KaldiParams& k, const at::Device& dev) {
  SpecPlan& p = pr.plan;
  p.framing = o.snipEdges ? kFramingKaldiSnip : kFramingKaldiReflect;
  p.nFft = static_cast<int>(k.padded);
  p.frameLen = static_cast<int>(k.winSize);
  p.hop = static_cast<int>(k.shift);
  p.kaldiPad = static_cast<int>(k.winSize / 2 - k.shift / 2);
  p.removeDc = o.removeDcOffset ? 1 : 0;
  p.preemph = static_cast<float>(o.preemphasisCoefficient);
  p.energyMode = o.useEnergy ? (o.rawEnergy ? 1 : 2) : 0;
  p.logEnergyFloor = o.energyFloor == 0.0 ? -3.0e38f : static_cast<float>(std::log(o.energyFloor));
  p.powerExp = o.usePower ? 2.f : 1.f;
  p.specScale = 1.f;
  p.nBins = p.nFft / 2 + 1;
  setWindow(pr, ref::kaldiWindow(o.windowType, k.winSize, o.blackmanCoeff), 0, dev);
  setFft(pr, dev);
  setMel(pr, ref::kaldiMelBanks(k.numMelBins, k.padded, o.sampleFrequency, k.lowFreq, k.highFreq), dev);
  p.logMode = o.useLogFbank ? kLogKaldi : kLogNone;
  p.subtractMean = o.subtractMean ? 1 : 0;
}

std::string key(const char* kind, const at::Device& dev, const std::function<void(std::ostream&)>& fields) {
  std::ostringstream os;
  os << std::setprecision(17) << kind << '|' << dev.str() << '|';
  fields(os);
  return os.str();
}
void stftFields(std::ostream& os, const SpectrogramOptions& o) {
  os << o.nFft << ',' << o.winLength << ',' << o.hopLength << ',' << o.pad << ',' << static_cast<int>(o.window) << ','
     << o.power << ',' << o.normalized << ',' << o.center << ',' << static_cast<int>(o.padMode) << ',' << o.onesided
     << ',' << o.sampleRate << ',';
}
void melFields(std::ostream& os, const MelSpectrogramOptions& o) {
  stftFields(os, o);
  os << o.nMels << ',' << o.fMin << ',' << o.fMax << ',' << static_cast<int>(o.norm) << ','
     << static_cast<int>(o.melScale) << ',';
}
void kaldiFields(std::ostream& os, const KaldiFbankOptions& o) {
  os << o.blackmanCoeff << ',' << o.dither << ',' << o.energyFloor << ',' << o.frameLength << ',' << o.frameShift
     << ',' << o.highFreq << ',' << o.htkCompat << ',' << o.lowFreq << ',' << o.minDuration << ',' << o.numMelBins
     << ',' << o.preemphasisCoefficient << ',' << o.rawEnergy << ',' << o.removeDcOffset << ','
     << o.roundToPowerOfTwo << ',' << o.sampleFrequency << ',' << o.snipEdges << ',' << o.subtractMean << ','
     << o.useEnergy << ',' << o.useLogFbank << ',' << o.usePower << ',' << o.vtlnHigh << ',' << o.vtlnLow << ','
     << o.vtlnWarp << ',' << static_cast<int>(o.windowType) << ',';
}

std::shared_ptr<Prepared> cached(const std::string& k, const std::function<std::shared_ptr<Prepared>()>& build) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<Prepared>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(k);
  if (it != cache.end()) return it->second;
  auto p = build();
  cache[k] = p;
  return p;
}

at::Device targetDevice(const at::Tensor& samples) {
  if (samples.is_cuda()) return samples.device();
  return at::Device(at::kCUDA, c10::cuda::current_device());
}

FeatureBatch runBatch(const char* what, const at::Tensor& samplesIn, const std::vector<int64_t>& lengthsIn,
                      const Prepared& pr, double sampleRate, bool checkFinite,
                      const std::function<int64_t(size_t)>& framesOf) {
  requireAvailable(what);
  if (!samplesIn.defined() || samplesIn.dim() < 1 || samplesIn.dim() > 2)
    throwInvalidArg(std::string(what) + ": samples must be a [T] or [B, T] tensor");
  if (samplesIn.scalar_type() != at::kFloat) throwInvalidArg(std::string(what) + ": samples must be float32");
  const at::Device dev = targetDevice(samplesIn);
  c10::cuda::CUDAGuard guard(dev);
  at::Tensor samples = samplesIn.dim() == 1 ? samplesIn.unsqueeze(0) : samplesIn;
  samples = samples.to(dev).contiguous();
  const int64_t B = samples.size(0), T = samples.size(1);
  std::vector<int64_t> lengths = lengthsIn;
  if (lengths.empty()) lengths.assign(static_cast<size_t>(B), T);
  if (static_cast<int64_t>(lengths.size()) != B)
    throwInvalidArg(std::string(what) + ": lengths has " + std::to_string(lengths.size()) + " entries for " +
                    std::to_string(B) + " clips");
  std::vector<int64_t> meta(3 * static_cast<size_t>(B) + 1);  // clipStart | clipLen | frameOffset
  int64_t total = 0;
  for (int64_t c = 0; c < B; ++c) {
    const int64_t n = lengths[c];
    if (n < 0 || n > T)
      throwInvalidArg(std::string(what) + ": clip " + std::to_string(c) + ": length " + std::to_string(n) +
                      " is outside 0.." + std::to_string(T));
    int64_t frames = 0;
    try {
      frames = framesOf(static_cast<size_t>(n));
    } catch (const Error& e) {
      throw Error(e.code(), "clip " + std::to_string(c) + ": " + e.what());
    }
    meta[c] = c * T;
    meta[B + c] = n;
    meta[2 * B + c] = total;
    total += frames;
  }
  meta[3 * B] = total;
  if (checkFinite && samples.numel() > 0 && !at::isfinite(samples).all().item<bool>()) {
    at::Tensor host = samples.cpu();  // find the first bad sample inside a clip (padding may hold anything)
    for (int64_t c = 0; c < B; ++c)
      detail::checkFinite(host.data_ptr<float>() + c * T, static_cast<size_t>(lengths[c]), sampleRate,
                          static_cast<long>(c));
  }
  FeatureBatch res;
  res.bins = pr.plan.nOut;
  res.frameOffsets.assign(meta.begin() + 2 * B, meta.end());
  res.values = at::empty({total, static_cast<int64_t>(pr.plan.nOut)}, samples.options());
  if (total == 0) return res;
  at::Tensor dmeta =
      at::from_blob(meta.data(), {static_cast<int64_t>(meta.size())}, at::kLong).to(dev);  // synchronous copy
  const int64_t* m = dmeta.data_ptr<int64_t>();
  const size_t wsBytes = specWorkspaceBytes(pr.plan, static_cast<int>(B), total);
  at::Tensor ws;
  if (wsBytes) ws = at::empty({static_cast<int64_t>(wsBytes)}, samples.options().dtype(at::kByte));
  if (B > 0x7fffffff) throwInvalidArg(std::string(what) + ": too many clips");
  checkCuda(specForward(pr.plan, samples.data_ptr<float>(), m, m + B, m + 2 * B, static_cast<int>(B), total,
                        res.values.data_ptr<float>(), wsBytes ? ws.data_ptr() : nullptr, wsBytes,
                        c10::cuda::getCurrentCUDAStream(dev.index()).stream()),
            what);
  return res;
}

}  // namespace

FeatureBatch spectrogramBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                              const SpectrogramOptions& opts, bool checkFinite) {
  requireAvailable("spectrogram");
  const at::Device dev = targetDevice(samples);
  auto pr = cached(key("spec", dev, [&](std::ostream& os) { stftFields(os, opts); }), [&] {
    auto p = std::make_shared<Prepared>();
    p->plan.kind = kSpecPower;
    stftPlan(*p, detail::resolveStft(opts, "SpectrogramOptions"), dev, "spectrogram");
    return p;
  });
  return runBatch("spectrogram", samples, lengths, *pr, opts.sampleRate, checkFinite,
                  [&](size_t n) { return static_cast<int64_t>(spectrogramShape(n, opts).frames); });
}

FeatureBatch melSpectrogramBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                                 const MelSpectrogramOptions& opts, bool checkFinite) {
  requireAvailable("melSpectrogram");
  const at::Device dev = targetDevice(samples);
  auto pr = cached(key("mel", dev, [&](std::ostream& os) { melFields(os, opts); }), [&] {
    auto p = std::make_shared<Prepared>();
    const char* sn = "MelSpectrogramOptions";
    detail::StftParams s = detail::resolveStft(opts, sn);
    detail::MelParams m = detail::resolveMel(opts, s, sn);
    p->plan.kind = kSpecMel;
    stftPlan(*p, s, dev, "melSpectrogram");
    setMel(*p, ref::melFilterbank(s.bins(), m.fMin, m.fMax, m.nMels, m.sampleRate, m.norm, m.melScale).t(), dev);
    p->plan.logMode = kLogNone;
    p->plan.nOut = static_cast<int>(m.nMels);
    return p;
  });
  return runBatch("melSpectrogram", samples, lengths, *pr, opts.sampleRate, checkFinite,
                  [&](size_t n) { return static_cast<int64_t>(melSpectrogramShape(n, opts).frames); });
}

FeatureBatch mfccBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths, const MfccOptions& opts,
                       bool checkFinite) {
  requireAvailable("mfcc");
  const at::Device dev = targetDevice(samples);
  auto pr = cached(key("mfcc", dev,
                       [&](std::ostream& os) {
                         melFields(os, opts);
                         os << opts.nMfcc << ',' << opts.dctType << ',' << static_cast<int>(opts.dctNorm) << ','
                            << opts.logMels;
                       }),
                   [&] {
                     auto p = std::make_shared<Prepared>();
                     const char* sn = "MfccOptions";
                     detail::validateMfcc(opts);
                     detail::StftParams s = detail::resolveStft(opts, sn);
                     detail::MelParams m = detail::resolveMel(opts, s, sn);
                     p->plan.kind = kSpecCepstra;
                     stftPlan(*p, s, dev, "mfcc");
                     setMel(*p,
                            ref::melFilterbank(s.bins(), m.fMin, m.fMax, m.nMels, m.sampleRate, m.norm, m.melScale).t(),
                            dev);
                     p->plan.logMode = opts.logMels ? kLogPlus1e6 : kLogDb;
                     p->plan.topDb = opts.logMels ? 0.f : 80.f;
                     setDct(*p, ref::createDct(opts.nMfcc, m.nMels, opts.dctNorm), dev);
                     return p;
                   });
  return runBatch("mfcc", samples, lengths, *pr, opts.sampleRate, checkFinite,
                  [&](size_t n) { return static_cast<int64_t>(mfccShape(n, opts).frames); });
}

FeatureBatch kaldiFbankBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                             const KaldiFbankOptions& opts, bool checkFinite) {
  requireAvailable("kaldiFbank");
  const at::Device dev = targetDevice(samples);
  auto pr = cached(key("fbank", dev, [&](std::ostream& os) { kaldiFields(os, opts); }), [&] {
    auto p = std::make_shared<Prepared>();
    detail::KaldiParams k = detail::resolveKaldi(opts, "KaldiFbankOptions");
    p->plan.kind = kSpecMel;
    kaldiPlan(*p, opts, k, dev);
    p->plan.nOut = static_cast<int>(k.cols);
    p->plan.melColOffset = (opts.useEnergy && !opts.htkCompat) ? 1 : 0;
    p->plan.energyCol = opts.useEnergy ? (opts.htkCompat ? static_cast<int>(k.numMelBins) : 0) : -1;
    return p;
  });
  return runBatch("kaldiFbank", samples, lengths, *pr, opts.sampleFrequency, checkFinite,
                  [&](size_t n) { return static_cast<int64_t>(kaldiFbankShape(n, opts).frames); });
}

FeatureBatch kaldiMfccBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                            const KaldiMfccOptions& opts, bool checkFinite) {
  requireAvailable("kaldiMfcc");
  const at::Device dev = targetDevice(samples);
  auto pr = cached(key("kmfcc", dev,
                       [&](std::ostream& os) {
                         kaldiFields(os, opts);
                         os << opts.numCeps << ',' << opts.cepstralLifter;
                       }),
                   [&] {
                     auto p = std::make_shared<Prepared>();
                     detail::validateKaldiMfcc(opts);
                     KaldiFbankOptions fo = opts;
                     fo.useLogFbank = true;
                     fo.usePower = true;
                     detail::KaldiParams k = detail::resolveKaldi(fo, "KaldiMfccOptions");
                     p->plan.kind = kSpecCepstra;
                     kaldiPlan(*p, fo, k, dev);  // subtractMean (on the cepstra) comes from opts via fo
                     const int nc = opts.numCeps;
                     at::Tensor d = ref::kaldiDctMatrix(nc, k.numMelBins);  // [nb][nc]
                     if (opts.cepstralLifter != 0.0)
                       d = d * ref::kaldiLifterCoeffs(nc, opts.cepstralLifter).to(at::kFloat).unsqueeze(0);
                     if (opts.htkCompat) {  // [c1 .. c_{n-1}, c0 (x sqrt 2 without energy) | energy]
                       at::Tensor c0 = d.slice(1, 0, 1) * (opts.useEnergy ? 1.0 : std::sqrt(2.0));
                       d = at::cat({d.slice(1, 1), c0}, 1);
                     }
                     setDct(*p, d, dev);
                     p->plan.energyCol = opts.useEnergy ? (opts.htkCompat ? nc - 1 : 0) : -1;
                     return p;
                   });
  return runBatch("kaldiMfcc", samples, lengths, *pr, opts.sampleFrequency, checkFinite,
                  [&](size_t n) { return static_cast<int64_t>(kaldiMfccShape(n, opts).frames); });
}

at::Tensor gradeBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths) {
  requireAvailable("grade");
  // HOOK(model): batched grading on the GPU. The shipped model does not exist yet. When it does:
  //   1. features: mfccBatch / kaldiFbankBatch(samples, lengths, <the model's options>)
  //   2. the model's forward on the clips' device, its attention through voxqc::cuda::fusedAttention
  //      with the clips' key-padding masks;
  //   3. per-clip scores [B] back to the caller.
  throw Error(ErrorCode::Unsupported,
              "grade on CUDA: no shipped model yet (cpp/cuda/features_torch.cpp gradeBatch is the hook)");
}

}  // namespace voxqc::cuda
#endif  // VOXQC_WITH_CUDA
