// The libtorch-ops pipelines: torchaudio 0.13's code transcribed to ATen (see reference_ops.h).
#include "features/reference_ops.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/padding.h>

#include <cmath>

#include "core/error.h"
#include "features/detail.h"

namespace voxqc::features::ref {

namespace F = torch::nn::functional;
using detail::KaldiParams;
using detail::StftParams;

namespace {

at::Tensor checkedInput(const at::Tensor& samples, double sampleRate) {
  if (!samples.defined() || samples.dim() != 1)
    throwInvalidArg("samples must be a 1-D tensor (one mono clip)");
  if (samples.scalar_type() != at::kFloat) throwInvalidArg("samples must be float32");
  if (!samples.device().is_cpu()) throwInvalidArg("samples must be on the CPU");
  at::Tensor x = samples.contiguous();
  detail::checkFinite(x.data_ptr<float>(), static_cast<size_t>(x.numel()), sampleRate);
  return x;
}

double hzToMel(double freq, MelScale scale) {
  if (scale == MelScale::htk) return 2595.0 * std::log10(1.0 + (freq / 700.0));
  const double fMin = 0.0, fSp = 200.0 / 3;
  double mels = (freq - fMin) / fSp;
  const double minLogHz = 1000.0;
  const double minLogMel = (minLogHz - fMin) / fSp;
  const double logstep = std::log(6.4) / 27.0;
  if (freq >= minLogHz) mels = minLogMel + std::log(freq / minLogHz) / logstep;
  return mels;
}

at::Tensor melToHz(const at::Tensor& mels, MelScale scale) {
  if (scale == MelScale::htk) return 700.0 * (at::pow(10.0, mels / 2595.0) - 1.0);
  const double fMin = 0.0, fSp = 200.0 / 3;
  at::Tensor freqs = fMin + fSp * mels;
  const double minLogHz = 1000.0;
  const double minLogMel = (minLogHz - fMin) / fSp;
  const double logstep = std::log(6.4) / 27.0;
  at::Tensor logT = mels >= minLogMel;
  return at::where(logT, minLogHz * at::exp(logstep * (mels - minLogMel)), freqs);
}

// torchaudio.functional.spectrogram, returning [bins][frames] as torchaudio does.
at::Tensor spectrogramBinsFrames(at::Tensor x, const StftParams& p) {
  if (p.pad > 0) x = at::constant_pad_nd(x, {p.pad, p.pad}, 0);
  at::Tensor window = transformWindow(p.window, p.winLength);
  if (p.center) {
    // torch.stft (Python) pads the signal itself before calling the ATen op
    F::PadFuncOptions::mode_t mode = torch::kReflect;
    switch (p.padMode) {
      case PadMode::reflect: mode = torch::kReflect; break;
      case PadMode::constant: mode = torch::kConstant; break;
      case PadMode::replicate: mode = torch::kReplicate; break;
      case PadMode::circular: mode = torch::kCircular; break;
    }
    x = F::pad(x.view({1, 1, -1}), F::PadFuncOptions({p.cpad, p.cpad}).mode(mode)).view({-1});
  }
  at::Tensor spec = at::stft(x, p.nFft, p.hop, p.winLength, window, /*normalized=*/false, p.onesided,
                             /*return_complex=*/true);
  if (p.normalized) spec = spec / window.pow(2.0).sum().sqrt();
  if (p.power == 1.0) return spec.abs();
  return spec.abs().pow(p.power);
}

}  // namespace

at::Tensor transformWindow(WindowType type, int64_t n) {
  switch (type) {
    case WindowType::hann: return at::hann_window(n);
    case WindowType::hamming: return at::hamming_window(n);
    case WindowType::blackman: return at::blackman_window(n);
    case WindowType::bartlett: return at::bartlett_window(n);
    case WindowType::rectangular: return at::ones({n});
  }
  throwInvalidArg("unknown window type");
}

at::Tensor melFilterbank(int64_t nFreqs, double fMin, double fMax, int64_t nMels, int64_t sampleRate,
                         MelNorm norm, MelScale melScale) {
  at::Tensor allFreqs = at::linspace(0, sampleRate / 2, nFreqs);
  const double mMin = hzToMel(fMin, melScale), mMax = hzToMel(fMax, melScale);
  at::Tensor mPts = at::linspace(mMin, mMax, nMels + 2);
  at::Tensor fPts = melToHz(mPts, melScale);
  // _create_triangular_filterbank
  at::Tensor fDiff = fPts.slice(0, 1) - fPts.slice(0, 0, -1);
  at::Tensor slopes = fPts.unsqueeze(0) - allFreqs.unsqueeze(1);
  at::Tensor zero = at::zeros({1});
  at::Tensor down = (-1.0 * slopes.slice(1, 0, -2)) / fDiff.slice(0, 0, -1);
  at::Tensor up = slopes.slice(1, 2) / fDiff.slice(0, 1);
  at::Tensor fb = at::max(zero, at::min(down, up));
  if (norm == MelNorm::slaney) {
    at::Tensor enorm = 2.0 / (fPts.slice(0, 2, nMels + 2) - fPts.slice(0, 0, nMels));
    fb = fb * enorm.unsqueeze(0);
  }
  return fb.contiguous();
}

at::Tensor createDct(int64_t nMfcc, int64_t nMels, DctNorm norm) {
  at::Tensor n = at::arange(static_cast<double>(nMels), at::kFloat);
  at::Tensor k = at::arange(static_cast<double>(nMfcc), at::kFloat).unsqueeze(1);
  at::Tensor dct = at::cos(M_PI / static_cast<double>(nMels) * (n + 0.5) * k);  // [nMfcc][nMels]
  if (norm == DctNorm::none) {
    dct = dct * 2.0;
  } else {
    dct[0] *= 1.0 / std::sqrt(2.0);
    dct = dct * std::sqrt(2.0 / static_cast<double>(nMels));
  }
  return dct.t().contiguous();
}

at::Tensor kaldiWindow(KaldiWindowType type, int64_t size, double blackmanCoeff) {
  switch (type) {
    case KaldiWindowType::hanning: return at::hann_window(size, /*periodic=*/false);
    case KaldiWindowType::hamming: return at::hamming_window(size, /*periodic=*/false, 0.54, 0.46);
    case KaldiWindowType::povey: return at::hann_window(size, /*periodic=*/false).pow(0.85);
    case KaldiWindowType::rectangular: return at::ones({size});
    case KaldiWindowType::blackman: {
      const double a = 2 * M_PI / static_cast<double>(size - 1);
      at::Tensor wf = at::arange(size, at::kFloat);
      return (blackmanCoeff - 0.5 * at::cos(a * wf) + (0.5 - blackmanCoeff) * at::cos(2 * a * wf)).to(at::kFloat);
    }
  }
  throwInvalidArg("unknown Kaldi window type");
}

at::Tensor kaldiMelBanks(int64_t numBins, int64_t paddedWindowSize, double sampleFreq, double lowFreq,
                         double highFreq) {
  const double numFftBins = paddedWindowSize / 2.0;
  const double fftBinWidth = sampleFreq / static_cast<double>(paddedWindowSize);
  auto melScalar = [](double f) { return 1127.0 * std::log(1.0 + f / 700.0); };
  const double melLow = melScalar(lowFreq), melHigh = melScalar(highFreq);
  const double delta = (melHigh - melLow) / static_cast<double>(numBins + 1);
  at::Tensor bin = at::arange(numBins).unsqueeze(1);  // int64, as torch.arange(num_bins)
  at::Tensor left = melLow + bin * delta;
  at::Tensor center = melLow + (bin + 1.0) * delta;
  at::Tensor right = melLow + (bin + 2.0) * delta;
  at::Tensor freqs = fftBinWidth * at::arange(numFftBins, at::kFloat);
  at::Tensor mel = (1127.0 * (1.0 + freqs / 700.0).log()).unsqueeze(0);
  at::Tensor upSlope = (mel - left) / (center - left);
  at::Tensor downSlope = (right - mel) / (right - center);
  at::Tensor bins = at::max(at::zeros({1}), at::min(upSlope, downSlope));
  return at::constant_pad_nd(bins, {0, 1}, 0).contiguous();
}

at::Tensor kaldiDctMatrix(int64_t numCeps, int64_t numMelBins) {
  at::Tensor dct = createDct(numMelBins, numMelBins, DctNorm::ortho);
  dct.select(1, 0).fill_(std::sqrt(1 / static_cast<double>(numMelBins)));
  return dct.slice(1, 0, numCeps).contiguous();
}

at::Tensor kaldiLifterCoeffs(int64_t numCeps, double cepstralLifter) {
  at::Tensor i = at::arange(numCeps);
  return 1.0 + 0.5 * cepstralLifter * at::sin(M_PI * i / cepstralLifter);
}

// --- the pipelines --------------------------------------------------------------------------

at::Tensor spectrogram(const at::Tensor& samples, const SpectrogramOptions& opts) {
  StftParams p = detail::resolveStft(opts, "SpectrogramOptions");
  detail::stftFrames(p, samples.defined() ? static_cast<size_t>(samples.numel()) : 0, "SpectrogramOptions");
  at::Tensor x = checkedInput(samples, opts.sampleRate);
  return spectrogramBinsFrames(x, p).transpose(0, 1).contiguous();
}

static at::Tensor melFramesBins(const at::Tensor& samples, const MelSpectrogramOptions& opts, const char* sn) {
  StftParams p = detail::resolveStft(opts, sn);
  detail::MelParams m = detail::resolveMel(opts, p, sn);
  detail::stftFrames(p, samples.defined() ? static_cast<size_t>(samples.numel()) : 0, sn);
  at::Tensor x = checkedInput(samples, opts.sampleRate);
  at::Tensor spec = spectrogramBinsFrames(x, p);  // [bins][frames]
  at::Tensor fb = melFilterbank(p.nFft / 2 + 1, m.fMin, m.fMax, m.nMels, m.sampleRate, m.norm, m.melScale);
  return at::matmul(spec.transpose(-1, -2), fb);  // [frames][nMels], as MelScale.forward
}

at::Tensor melSpectrogram(const at::Tensor& samples, const MelSpectrogramOptions& opts) {
  return melFramesBins(samples, opts, "MelSpectrogramOptions").contiguous();
}

at::Tensor mfcc(const at::Tensor& samples, const MfccOptions& opts) {
  detail::validateMfcc(opts);
  at::Tensor mel = melFramesBins(samples, opts, "MfccOptions");  // [frames][nMels]
  if (opts.logMels) {
    mel = at::log(mel + 1e-6);
  } else {
    // AmplitudeToDB("power", top_db=80): multiplier 10, amin 1e-10, db_multiplier log10(1) = 0
    at::Tensor db = 10.0 * at::log10(at::clamp(mel, 1e-10));
    db -= 10.0 * 0.0;
    mel = at::max(db, db.amax() - 80.0);
  }
  at::Tensor dct = createDct(opts.nMfcc, opts.nMels, opts.dctNorm);
  return at::matmul(mel, dct).contiguous();
}

static at::Tensor kaldiFbankImpl(const at::Tensor& samples, const KaldiFbankOptions& o, const char* sn,
                                 at::Tensor* logEnergyOut) {
  KaldiParams p = detail::resolveKaldi(o, sn);
  const int64_t frames =
      detail::kaldiFrames(o, p, samples.defined() ? static_cast<size_t>(samples.numel()) : 0, sn);
  at::Tensor x = checkedInput(samples, o.sampleFrequency);
  if (frames == 0) return at::empty({0, p.cols});
  const int64_t n = x.numel();
  const at::Tensor eps = at::tensor(std::numeric_limits<float>::epsilon());
  // _get_strided
  at::Tensor wave = x;
  if (!o.snipEdges) {
    at::Tensor reversed = at::flip(x, {0});
    const int64_t pad = p.winSize / 2 - p.shift / 2;
    if (pad > 0) {
      wave = at::cat({reversed.slice(0, n - pad), x, reversed});
    } else {
      wave = at::cat({x.slice(0, -pad), reversed});
    }
  }
  at::Tensor strided = wave.as_strided({frames, p.winSize}, {p.shift, 1});
  if (o.removeDcOffset) strided = strided - at::mean(strided, 1).unsqueeze(1);
  auto logEnergy = [&](const at::Tensor& s) {
    at::Tensor e = at::max(s.pow(2).sum(1), eps).log();
    if (o.energyFloor == 0.0) return e;
    return at::max(e, at::tensor(std::log(o.energyFloor), at::kFloat));
  };
  at::Tensor energy;
  if (o.rawEnergy) energy = logEnergy(strided);
  if (o.preemphasisCoefficient != 0.0) {
    at::Tensor offset =
        F::pad(strided.unsqueeze(0), F::PadFuncOptions({1, 0}).mode(torch::kReplicate)).squeeze(0);
    strided = strided - o.preemphasisCoefficient * offset.slice(1, 0, -1);
  }
  strided = strided * kaldiWindow(o.windowType, p.winSize, o.blackmanCoeff).unsqueeze(0);
  if (p.padded != p.winSize) strided = at::constant_pad_nd(strided, {0, p.padded - p.winSize}, 0);
  if (!o.rawEnergy) energy = logEnergy(strided);
  at::Tensor spectrum = at::fft_rfft(strided).abs();
  if (o.usePower) spectrum = spectrum.pow(2.0);
  at::Tensor banks = kaldiMelBanks(p.numMelBins, p.padded, o.sampleFrequency, p.lowFreq, p.highFreq);
  at::Tensor mel = at::mm(spectrum, banks.t());
  if (o.useLogFbank) mel = at::max(mel, eps).log();
  if (logEnergyOut) *logEnergyOut = energy;
  if (o.useEnergy) {
    at::Tensor e = energy.unsqueeze(1);
    mel = o.htkCompat ? at::cat({mel, e}, 1) : at::cat({e, mel}, 1);
  }
  return mel;
}

at::Tensor kaldiFbank(const at::Tensor& samples, const KaldiFbankOptions& opts) {
  at::Tensor mel = kaldiFbankImpl(samples, opts, "KaldiFbankOptions", nullptr);
  if (opts.subtractMean && mel.size(0) > 0) mel = mel - at::mean(mel, 0).unsqueeze(0);
  return mel.contiguous();
}

at::Tensor kaldiMfcc(const at::Tensor& samples, const KaldiMfccOptions& opts) {
  detail::validateKaldiMfcc(opts);
  KaldiFbankOptions fo = opts;
  fo.useLogFbank = true;
  fo.usePower = true;
  fo.subtractMean = false;
  at::Tensor feature = kaldiFbankImpl(samples, fo, "KaldiMfccOptions", nullptr);
  const int64_t nb = opts.numMelBins;
  if (feature.size(0) == 0) return at::empty({0, static_cast<int64_t>(opts.numCeps)});
  at::Tensor energy;
  if (opts.useEnergy) {
    energy = feature.select(1, opts.htkCompat ? nb : 0).clone();
    const int64_t off = opts.htkCompat ? 0 : 1;
    feature = feature.slice(1, off, nb + off);
  }
  feature = feature.matmul(kaldiDctMatrix(opts.numCeps, nb));
  if (opts.cepstralLifter != 0.0) feature *= kaldiLifterCoeffs(opts.numCeps, opts.cepstralLifter).unsqueeze(0);
  if (opts.useEnergy) feature.select(1, 0).copy_(energy);
  if (opts.htkCompat) {
    at::Tensor e = feature.select(1, 0).unsqueeze(1).clone();
    feature = feature.slice(1, 1);
    if (!opts.useEnergy) e *= std::sqrt(2.0);
    feature = at::cat({feature, e}, 1);
  }
  if (opts.subtractMean) feature = feature - at::mean(feature, 0).unsqueeze(0);
  return feature.contiguous();
}

}  // namespace voxqc::features::ref
