// Option parsing, resolution and validation of the feature kernels (see detail.h).
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "features/detail.h"
#include "features/options.h"

namespace voxqc::features {

namespace {

template <class E, size_t N>
E parseEnum(const std::string& s, const char* option, const char* const (&names)[N]) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  std::ostringstream m;
  m << option << " must be one of ";
  for (size_t i = 0; i < N; ++i) m << (i ? ", " : "") << "'" << names[i] << "'";
  m << "; got '" << s << "'";
  throwInvalidArg(m.str());
}

const char* const kWindow[] = {"hann", "hamming", "blackman", "bartlett", "rectangular"};
const char* const kPadMode[] = {"reflect", "constant", "replicate", "circular"};
const char* const kMelNorm[] = {"none", "slaney"};
const char* const kMelScale[] = {"htk", "slaney"};
const char* const kDctNorm[] = {"ortho", "none"};
const char* const kKaldiWindow[] = {"povey", "hanning", "hamming", "rectangular", "blackman"};

}  // namespace

const char* toString(WindowType v) { return kWindow[static_cast<int>(v)]; }
const char* toString(PadMode v) { return kPadMode[static_cast<int>(v)]; }
const char* toString(MelNorm v) { return kMelNorm[static_cast<int>(v)]; }
const char* toString(MelScale v) { return kMelScale[static_cast<int>(v)]; }
const char* toString(DctNorm v) { return kDctNorm[static_cast<int>(v)]; }
const char* toString(KaldiWindowType v) { return kKaldiWindow[static_cast<int>(v)]; }
WindowType parseWindowType(const std::string& s) { return parseEnum<WindowType>(s, "window", kWindow); }
PadMode parsePadMode(const std::string& s) { return parseEnum<PadMode>(s, "padMode", kPadMode); }
MelNorm parseMelNorm(const std::string& s) { return parseEnum<MelNorm>(s, "norm", kMelNorm); }
MelScale parseMelScale(const std::string& s) { return parseEnum<MelScale>(s, "melScale", kMelScale); }
DctNorm parseDctNorm(const std::string& s) { return parseEnum<DctNorm>(s, "dctNorm", kDctNorm); }
KaldiWindowType parseKaldiWindowType(const std::string& s) {
  return parseEnum<KaldiWindowType>(s, "windowType", kKaldiWindow);
}

namespace detail {

namespace {

[[noreturn]] void bad(const char* structName, const char* field, const std::string& expected,
                      const std::string& got) {
  std::ostringstream m;
  m << structName << "." << field << " must be " << expected << "; got " << got;
  throwInvalidArg(m.str());
}

std::string num(double v) {
  // Whole numbers in full (an option of 2147483647 reads as such, not 2.14748e+09).
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string seconds(double samples, double rate) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g s", samples / rate);
  return buf;
}

}  // namespace

// Limits that keep one call's tables in memory (torchaudio has none; these are far past any
// speech use): FFT size, padding and hop, mel bands, and the filterbank's entries.
constexpr int kMaxFft = 1 << 18;
constexpr int kMaxPad = 1 << 24;
constexpr int kMaxBands = 1 << 14;
constexpr double kMaxFilterbank = 1 << 24;

std::string clipPrefix(long clip) { return clip >= 0 ? "clip " + std::to_string(clip) + ": " : ""; }

StftParams resolveStft(const SpectrogramOptions& o, const char* sn) {
  StftParams p;
  if (o.nFft < 1 || o.nFft > kMaxFft) bad(sn, "nFft", "between 1 and " + num(kMaxFft), num(o.nFft));
  p.nFft = o.nFft;
  if (o.winLength < 0 || o.winLength > o.nFft)
    bad(sn, "winLength", "between 1 and nFft (" + num(o.nFft) + "), or 0 for nFft", num(o.winLength));
  p.winLength = o.winLength == 0 ? o.nFft : o.winLength;
  if (o.hopLength < 0) bad(sn, "hopLength", "> 0 (or 0 for winLength / 2)", num(o.hopLength));
  p.hop = o.hopLength == 0 ? p.winLength / 2 : o.hopLength;
  if (p.hop <= 0)
    bad(sn, "hopLength", "> 0; the default winLength / 2 is 0 for winLength " + num(p.winLength) + ", so set it",
        num(o.hopLength));
  if (o.pad < 0 || o.pad > kMaxPad) bad(sn, "pad", "between 0 and " + num(kMaxPad), num(o.pad));
  p.pad = o.pad;
  if (!(o.power > 0) || !std::isfinite(o.power)) bad(sn, "power", "a finite number > 0 (1 magnitude, 2 power)", num(o.power));
  if (o.sampleRate <= 0) bad(sn, "sampleRate", "> 0 Hz", num(o.sampleRate));
  if (static_cast<unsigned>(o.window) > static_cast<unsigned>(WindowType::rectangular))
    bad(sn, "window", "hann, hamming, blackman, bartlett or rectangular", num(static_cast<int>(o.window)));
  if (static_cast<unsigned>(o.padMode) > static_cast<unsigned>(PadMode::circular))
    bad(sn, "padMode", "reflect, constant, replicate or circular", num(static_cast<int>(o.padMode)));
  p.power = o.power;
  p.center = o.center;
  p.cpad = o.center ? o.nFft / 2 : 0;
  p.winOffset = (p.nFft - p.winLength) / 2;
  p.onesided = o.onesided;
  p.normalized = o.normalized;
  p.padMode = o.padMode;
  p.window = o.window;
  p.sampleRate = o.sampleRate;
  return p;
}

int64_t stftFrames(const StftParams& p, size_t n, const char* sn, long clip) {
  const std::string cp = clipPrefix(clip);
  if (n == 0) throwInvalidArg(cp + "empty input: the clip has no samples");
  const int64_t len = static_cast<int64_t>(n) + 2 * p.pad;  // after the `pad` zeros
  std::ostringstream m;
  if (p.center && p.padMode == PadMode::reflect && p.cpad >= len) {
    m << cp << "clip too short: " << n << " samples";
    if (p.pad) m << " (+ 2 x pad " << p.pad << ")";
    m << " but " << sn << " center=true with padMode 'reflect' needs more than nFft / 2 = " << p.cpad
      << " (torch.stft's reflect padding raises here too); use padMode 'constant' or 'replicate', or a smaller nFft";
    throwInvalidArg(m.str());
  }
  if (p.center && p.padMode == PadMode::circular && p.cpad > len) {
    m << cp << "clip too short: " << n << " samples";
    if (p.pad) m << " (+ 2 x pad " << p.pad << ")";
    m << " but " << sn << " center=true with padMode 'circular' needs at least nFft / 2 = " << p.cpad
      << " (torch's circular padding raises here too)";
    throwInvalidArg(m.str());
  }
  const int64_t padded = len + 2 * p.cpad;
  if (padded < p.nFft) {
    m << cp << "clip too short: " << n << " samples";
    if (p.pad) m << " (+ 2 x pad " << p.pad << ")";
    m << " but " << sn << " with center=false needs at least nFft = " << p.nFft
      << " samples for one frame (torch.stft raises here too)";
    throwInvalidArg(m.str());
  }
  return 1 + (padded - p.nFft) / p.hop;
}

MelParams resolveMel(const MelSpectrogramOptions& o, const StftParams& s, const char* sn) {
  MelParams p;
  if (o.nMels < 1 || o.nMels > kMaxBands) bad(sn, "nMels", "between 1 and " + num(kMaxBands), num(o.nMels));
  if (static_cast<double>(o.nMels) * (s.nFft / 2 + 1) > kMaxFilterbank)
    bad(sn, "nMels", "small enough that nMels x (nFft / 2 + 1) stays within " + num(kMaxFilterbank) +
                         " filterbank entries (nFft " + num(s.nFft) + ")", num(o.nMels));
  if (!s.onesided)
    bad(sn, "onesided", "true for mel features (torchaudio's MelScale expects nFft / 2 + 1 bins)", "false");
  const double nyquist = o.sampleRate / 2.0;
  if (!(o.fMax >= 0) || !std::isfinite(o.fMax)) bad(sn, "fMax", ">= 0 Hz (0 for sampleRate / 2)", num(o.fMax));
  if (o.fMax > nyquist)
    bad(sn, "fMax", "at most the Nyquist frequency sampleRate / 2 = " + num(nyquist) + " Hz", num(o.fMax));
  p.fMax = o.fMax == 0 ? static_cast<double>(o.sampleRate / 2) : o.fMax;
  if (!(o.fMin >= 0) || !std::isfinite(o.fMin)) bad(sn, "fMin", ">= 0 Hz", num(o.fMin));
  if (o.fMin >= p.fMax) bad(sn, "fMin", "below fMax (" + num(p.fMax) + " Hz)", num(o.fMin));
  if (static_cast<unsigned>(o.norm) > 1u) bad(sn, "norm", "none or slaney", num(static_cast<int>(o.norm)));
  if (static_cast<unsigned>(o.melScale) > 1u)
    bad(sn, "melScale", "htk or slaney", num(static_cast<int>(o.melScale)));
  p.nMels = o.nMels;
  p.fMin = o.fMin;
  p.sampleRate = o.sampleRate;
  p.norm = o.norm;
  p.melScale = o.melScale;
  return p;
}

void validateMfcc(const MfccOptions& o) {
  const char* sn = "MfccOptions";
  if (o.dctType != 2) bad(sn, "dctType", "2 (the only DCT type torchaudio's MFCC supports)", num(o.dctType));
  if (o.nMfcc < 1 || o.nMfcc > o.nMels)
    bad(sn, "nMfcc", "between 1 and nMels (" + num(o.nMels) + ")", num(o.nMfcc));
  if (static_cast<unsigned>(o.dctNorm) > 1u) bad(sn, "dctNorm", "ortho or none", num(static_cast<int>(o.dctNorm)));
}

KaldiParams resolveKaldi(const KaldiFbankOptions& o, const char* sn) {
  KaldiParams p;
  if (!(o.sampleFrequency > 0) || !std::isfinite(o.sampleFrequency))
    bad(sn, "sampleFrequency", "> 0 Hz", num(o.sampleFrequency));
  if (o.dither != 0.0)
    bad(sn, "dither", "0 (random dither is not supported: outputs stay reproducible)", num(o.dither));
  if (o.vtlnWarp != 1.0) bad(sn, "vtlnWarp", "1.0 (VTLN warping is not supported)", num(o.vtlnWarp));
  if (!(o.frameShift > 0) || !std::isfinite(o.frameShift)) bad(sn, "frameShift", "> 0 ms", num(o.frameShift));
  if (!(o.frameLength > 0) || !std::isfinite(o.frameLength)) bad(sn, "frameLength", "> 0 ms", num(o.frameLength));
  if (o.sampleFrequency > 1e7) bad(sn, "sampleFrequency", "at most 10 MHz", num(o.sampleFrequency));
  if (o.sampleFrequency * o.frameLength * 0.001 > kMaxFft)
    bad(sn, "frameLength", "a frame of at most " + num(kMaxFft) + " samples", num(o.frameLength) + " ms");
  if (o.sampleFrequency * o.frameShift * 0.001 > kMaxPad)
    bad(sn, "frameShift", "a shift of at most " + num(kMaxPad) + " samples", num(o.frameShift) + " ms");
  // As torchaudio: int(sample_frequency * frame_shift * 0.001), truncated.
  p.shift = static_cast<int64_t>(o.sampleFrequency * o.frameShift * 0.001);
  p.winSize = static_cast<int64_t>(o.sampleFrequency * o.frameLength * 0.001);
  if (p.shift <= 0)
    bad(sn, "frameShift", "at least one sample (" + num(1000.0 / o.sampleFrequency) + " ms at " +
                              num(o.sampleFrequency) + " Hz)", num(o.frameShift) + " ms");
  if (p.winSize < 2)
    bad(sn, "frameLength", "at least two samples (" + num(2000.0 / o.sampleFrequency) + " ms at " +
                               num(o.sampleFrequency) + " Hz)", num(o.frameLength) + " ms");
  if (o.roundToPowerOfTwo) {
    p.padded = 1;
    while (p.padded < p.winSize) p.padded *= 2;
  } else {
    p.padded = p.winSize;
  }
  if (p.padded % 2 != 0)
    bad(sn, "frameLength", "a frame of an even number of samples when roundToPowerOfTwo is false",
        num(o.frameLength) + " ms = " + num(p.winSize) + " samples");
  if (!(o.preemphasisCoefficient >= 0 && o.preemphasisCoefficient <= 1))
    bad(sn, "preemphasisCoefficient", "between 0 and 1", num(o.preemphasisCoefficient));
  if (!(o.energyFloor >= 0) || !std::isfinite(o.energyFloor))
    bad(sn, "energyFloor", ">= 0 (0 for no floor)", num(o.energyFloor));
  if (!(o.minDuration >= 0)) bad(sn, "minDuration", ">= 0 s", num(o.minDuration));
  if (o.numMelBins <= 3 || o.numMelBins > kMaxBands) bad(sn, "numMelBins", "> 3 and at most " + num(kMaxBands), num(o.numMelBins));
  if (static_cast<double>(o.numMelBins) * (p.padded / 2 + 1) > kMaxFilterbank)
    bad(sn, "numMelBins", "small enough that numMelBins x (FFT size / 2 + 1) stays within " + num(kMaxFilterbank) +
                              " filterbank entries (FFT size " + num(static_cast<double>(p.padded)) + ")", num(o.numMelBins));
  if (static_cast<unsigned>(o.windowType) > static_cast<unsigned>(KaldiWindowType::blackman))
    bad(sn, "windowType", "povey, hanning, hamming, rectangular or blackman", num(static_cast<int>(o.windowType)));
  const double nyquist = 0.5 * o.sampleFrequency;
  double high = o.highFreq;
  if (high <= 0.0) high += nyquist;
  if (!(o.lowFreq >= 0.0 && o.lowFreq < nyquist))
    bad(sn, "lowFreq", "in [0, Nyquist = " + num(nyquist) + " Hz)", num(o.lowFreq));
  if (!(high > 0.0 && high <= nyquist))
    bad(sn, "highFreq", "in (0, Nyquist = " + num(nyquist) + " Hz], or <= 0 for an offset from Nyquist",
        num(o.highFreq) + (o.highFreq <= 0 ? " (= " + num(high) + " Hz)" : std::string()));
  if (!(o.lowFreq < high))
    bad(sn, "lowFreq", "below highFreq (" + num(high) + " Hz)", num(o.lowFreq));
  p.lowFreq = o.lowFreq;
  p.highFreq = high;
  p.numMelBins = o.numMelBins;
  p.cols = o.numMelBins + (o.useEnergy ? 1 : 0);
  return p;
}

void validateKaldiMfcc(const KaldiMfccOptions& o) {
  const char* sn = "KaldiMfccOptions";
  if (o.numCeps < 1 || o.numCeps > o.numMelBins)
    bad(sn, "numCeps", "between 1 and numMelBins (" + num(o.numMelBins) + ")", num(o.numCeps));
  if (!std::isfinite(o.cepstralLifter)) bad(sn, "cepstralLifter", "finite", num(o.cepstralLifter));
}

int64_t kaldiFrames(const KaldiFbankOptions& o, const KaldiParams& p, size_t n, const char* sn, long clip) {
  const std::string cp = clipPrefix(clip);
  if (n == 0) throwInvalidArg(cp + "empty input: the clip has no samples");
  const int64_t len = static_cast<int64_t>(n);
  if (len < p.winSize) {
    std::ostringstream m;
    m << cp << "clip too short: " << n << " samples (" << seconds(len, o.sampleFrequency) << ") but " << sn
      << " needs at least one frame, frameLength " << o.frameLength << " ms = " << p.winSize
      << " samples at sampleFrequency " << o.sampleFrequency
      << " Hz (torchaudio.compliance.kaldi raises here too, whatever snipEdges)";
    throwInvalidArg(m.str());
  }
  if (static_cast<double>(len) < o.minDuration * o.sampleFrequency) return 0;
  if (o.snipEdges) return 1 + (len - p.winSize) / p.shift;
  return (len + p.shift / 2) / p.shift;
}

void checkFinite(const float* x, size_t n, double sampleRate, long clip) {
  // Fast scan: x * 0 is 0 for finite x and NaN for NaN / Inf.
  float acc = 0.f;
  size_t i = 0;
  constexpr size_t kBlock = 4096;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t e = b + kBlock < n ? b + kBlock : n;
    float a = 0.f;
#pragma omp simd reduction(+ : a)
    for (size_t j = b; j < e; ++j) a += x[j] * 0.f;
    if (a != 0.f || a != a) {
      acc = a;
      i = b;
      break;
    }
  }
  if (acc == 0.f) return;
  for (; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      std::ostringstream m;
      m << clipPrefix(clip) << "samples[" << i << "] is " << (std::isnan(x[i]) ? "NaN" : "infinite")
        << " (at " << seconds(static_cast<double>(i), sampleRate) << " for a sample rate of " << sampleRate
        << " Hz): the input must be finite";
      throwInvalidArg(m.str());
    }
  }
}

}  // namespace detail
}  // namespace voxqc::features
