// The fuzz targets (see targets.h) and their structured input generators.
#include "fuzz/targets.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "audio/resample.h"
#include "audio/wav.h"
#include "core/error.h"
#include "features/features.h"
#include "metrics/metrics.h"
#include "simulate/plant.h"

namespace voxqc::fuzz {

namespace {

// --- deterministic random numbers ----------------------------------------------------------------
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return n ? static_cast<uint32_t>(next() % n) : 0; }
  bool chance(double p) { return (next() >> 11) * (1.0 / 9007199254740992.0) < p; }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  template <typename T>
  T pick(std::initializer_list<T> xs) {
    return *(xs.begin() + below(static_cast<uint32_t>(xs.size())));
  }
};

// --- reading parameters from the fuzz bytes --------------------------------------------------------
// Parameters are taken from the front of the input; what is left is the sample data (float32).
struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(u8()) << (8 * i);
    return v;
  }
  double f64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(u8()) << (8 * i);
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  // An int: a selector byte picks a boundary value from `special`, or the next 4 raw bytes.
  int i32(std::initializer_list<int> special) {
    uint8_t sel = u8();
    if (sel < special.size()) return *(special.begin() + sel);
    return static_cast<int>(u32());
  }
  double num(std::initializer_list<double> special) {
    uint8_t sel = u8();
    if (sel < special.size()) return *(special.begin() + sel);
    return f64();
  }
  bool flag() { return u8() & 1; }
  std::vector<float> samples(size_t maxCount) {
    size_t count = std::min(n / 4, maxCount);
    std::vector<float> v(count);
    if (count) std::memcpy(v.data(), p, count * 4);
    p += count * 4;
    n -= count * 4;
    return v;
  }
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- writing structured inputs ---------------------------------------------------------------------
struct Writer {
  std::vector<uint8_t> b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { u8(v & 0xFF), u8(v >> 8); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void f64(double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    u64(v);
  }
  void tag(const char* s) { b.insert(b.end(), s, s + 4); }
  // A selector for Reader::i32/num: a boundary value (index) most of the time, else raw bytes.
  void pickInt(Rng& r, size_t specials, int raw) {
    if (r.chance(0.8)) {
      u8(static_cast<uint8_t>(r.below(static_cast<uint32_t>(specials))));
    } else {
      u8(255);
      u32(static_cast<uint32_t>(raw));
    }
  }
  void pickNum(Rng& r, size_t specials, double raw) {
    if (r.chance(0.8)) {
      u8(static_cast<uint8_t>(r.below(static_cast<uint32_t>(specials))));
    } else {
      u8(255);
      f64(raw);
    }
  }
  void floats(const std::vector<float>& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    b.insert(b.end(), p, p + v.size() * 4);
  }
};

// Sample data with the values that break numerical code: silence, constants, full-scale square
// waves, NaN, +-Inf, denormals, huge values, -0, and lengths 0, 1, 2 and around frame sizes.
std::vector<float> hostileSamples(Rng& r, size_t maxLen) {
  size_t len;
  switch (r.below(6)) {
    case 0: len = r.pick<size_t>({0, 1, 2, 3}); break;
    case 1: len = r.pick<size_t>({159, 160, 161, 199, 200, 201, 399, 400, 401, 511, 512, 513}); break;
    case 2: len = r.pick<size_t>({1600, 4000, 8000, 16000}); break;
    default: len = r.below(static_cast<uint32_t>(maxLen) + 1); break;
  }
  len = std::min(len, maxLen);
  std::vector<float> x(len);
  const int kind = static_cast<int>(r.below(7));
  const double f = 50 + r.uniform() * 4000, a = r.pick<double>({0.0, 1e-6, 0.1, 0.5, 1.0, 1.5, 1e30});
  uint64_t noise = r.next();
  for (size_t i = 0; i < len; ++i) {
    noise = noise * 6364136223846793005ull + 1442695040888963407ull;
    const double nz = static_cast<double>(static_cast<int64_t>(noise >> 11)) / 4503599627370496.0;
    switch (kind) {
      case 0: x[i] = 0.0f; break;
      case 1: x[i] = static_cast<float>(a); break;
      case 2: x[i] = static_cast<float>(a * std::sin(2 * M_PI * f * double(i) / 16000.0) + 0.01 * nz); break;
      case 3: x[i] = (i / 40) % 2 ? 1.0f : -1.0f; break;
      case 4: x[i] = static_cast<float>(a * nz); break;
      case 5: x[i] = (i / 800) % 3 ? 0.0f : static_cast<float>(0.3 * std::sin(0.05 * double(i)) + 0.05 * nz); break;
      default: x[i] = static_cast<float>(nz * 1e-3); break;
    }
  }
  // Sprinkle special values.
  if (len && r.chance(0.4)) {
    const int count = 1 + static_cast<int>(r.below(4));
    for (int k = 0; k < count; ++k) {
      x[r.below(static_cast<uint32_t>(len))] = r.pick<float>(
          {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
           -std::numeric_limits<float>::infinity(), 1e-40f, -1e-45f, std::numeric_limits<float>::max(),
           -0.0f, std::numeric_limits<float>::lowest()});
    }
  }
  if (len && r.chance(0.15)) std::fill(x.begin(), x.end(), 1e-41f);  // all denormal
  return x;
}

// Random mutations on top of a structured input: bit flips, byte overwrites, truncation,
// insertion, duplication of a run.
void mutate(Rng& r, std::vector<uint8_t>& b) {
  const int rounds = 1 + static_cast<int>(r.below(6));
  for (int k = 0; k < rounds; ++k) {
    switch (r.below(6)) {
      case 0:
        if (!b.empty()) b[r.below(static_cast<uint32_t>(b.size()))] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (!b.empty()) b[r.below(static_cast<uint32_t>(b.size()))] = r.pick<uint8_t>({0, 1, 0x7F, 0x80, 0xFF, 0xFE});
        break;
      case 2:
        if (!b.empty()) b.resize(r.below(static_cast<uint32_t>(b.size())));
        break;
      case 3: {
        const size_t at = r.below(static_cast<uint32_t>(b.size() + 1));
        const size_t len = 1 + r.below(16);
        std::vector<uint8_t> ins(len);
        for (auto& c : ins) c = static_cast<uint8_t>(r.next());
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 4:
        if (b.size() > 4) {
          const size_t at = r.below(static_cast<uint32_t>(b.size() - 4));
          uint32_t v = r.pick<uint32_t>({0, 1, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFFEu, 44, 16});
          std::memcpy(b.data() + at, &v, 4);
        }
        break;
      default:
        if (b.size() > 8) {
          const size_t from = r.below(static_cast<uint32_t>(b.size() - 8));
          const size_t len = 1 + r.below(static_cast<uint32_t>(std::min<size_t>(64, b.size() - from)));
          std::vector<uint8_t> run(b.begin() + static_cast<std::ptrdiff_t>(from),
                                   b.begin() + static_cast<std::ptrdiff_t>(from + len));
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(r.below(static_cast<uint32_t>(b.size()))), run.begin(), run.end());
        }
        break;
    }
  }
}

// ====================================================================================================
// wav: the WAV parser and decoder on a whole file.
// ====================================================================================================
void runWav(const uint8_t* data, size_t size) {
  const size_t head = std::min<size_t>(size, 1 << 20);
  audio::WavInfo info = audio::parseWavHeader(data, head, size);
  // The parser promises: the data lies inside the file, in whole frames.
  if (info.dataOffset > size || info.dataBytes > size - info.dataOffset || info.blockAlign == 0 ||
      info.dataBytes != info.frames * info.blockAlign) {
    throw std::logic_error("parseWavHeader returned data outside the file");
  }
  const uint64_t frames = std::min<uint64_t>(info.frames, kMaxCaseFloats);
  std::vector<float> out(frames);
  audio::decodeWavFrames(info, data + info.dataOffset, frames, audio::kMixChannels, out.data());
  if (info.channels > 1) {
    audio::decodeWavFrames(info, data + info.dataOffset, frames, static_cast<int>(info.channels - 1), out.data());
  }
  // A channel that does not exist is an error, never a read past the frame.
  try {
    audio::decodeWavFrames(info, data + info.dataOffset, frames, static_cast<int>(info.channels), out.data());
    throw std::logic_error("decodeWavFrames accepted a channel past the last");
  } catch (const Error&) {
  }
  (void)audio::describeEncoding(info);
}

std::vector<uint8_t> genWav(uint64_t seed) {
  Rng r(seed);
  Writer w;
  const bool rf64 = r.chance(0.1);
  uint16_t tag = r.pick<uint16_t>({1, 1, 1, 3, 3, 6, 7, 0xFFFE, 0xFFFE, 2, 0x11, 0x55, 0});
  uint16_t sub = r.pick<uint16_t>({1, 3, 6, 7, 2, 0});
  const uint16_t effective = tag == 0xFFFE ? sub : tag;
  uint32_t channels = r.chance(0.7) ? r.pick<uint32_t>({1, 1, 2, 2, 3, 6}) : r.pick<uint32_t>({0, 1024, 1025, 65535, 255});
  uint32_t rate = r.chance(0.7) ? r.pick<uint32_t>({8000, 16000, 22050, 44100, 48000})
                                : r.pick<uint32_t>({0, 1, 10000000, 10000001, 0xFFFFFFFFu, 7});
  uint32_t bits;
  if (r.chance(0.75)) {
    bits = effective == 3 ? r.pick<uint32_t>({32, 64}) : effective == 6 || effective == 7 ? 8 : r.pick<uint32_t>({8, 16, 24, 32});
  } else {
    bits = r.pick<uint32_t>({0, 1, 4, 12, 20, 48, 64, 65535});
  }
  uint32_t align = static_cast<uint32_t>(channels * (bits / 8));
  if (r.chance(0.15)) align = r.pick<uint32_t>({0, 1, 3, align + 1, align - 1, 65535});
  uint32_t frameCount = r.chance(0.2) ? r.pick<uint32_t>({0, 1, 2}) : r.below(3000);
  if ((align & 0xFFFF) > 0) frameCount = std::min<uint32_t>(frameCount, (1u << 16) / (align & 0xFFFF) + 1);
  const uint64_t realData = uint64_t(frameCount) * (align & 0xFFFF);
  uint64_t claimed = realData;
  switch (r.below(8)) {
    case 0: claimed = 0; break;
    case 1: claimed = 0xFFFFFFFFu; break;
    case 2: claimed = realData * 2 + 1000; break;
    case 3: claimed = realData ? realData - 1 : 0; break;
    default: break;
  }

  w.tag(rf64 ? "RF64" : "RIFF");
  w.u32(rf64 ? 0xFFFFFFFFu : static_cast<uint32_t>(r.chance(0.8) ? 36 + realData : r.next()));
  w.tag("WAVE");
  if (rf64) {
    w.tag("ds64");
    w.u32(28);
    w.u64(36 + realData);
    w.u64(r.chance(0.8) ? claimed : r.next());
    w.u64(frameCount);
    w.u32(0);
  }
  if (r.chance(0.25)) {  // a chunk before fmt, maybe odd-sized, maybe lying about its size
    w.tag(r.chance(0.5) ? "LIST" : "junk");
    const uint32_t n = r.below(9);
    w.u32(r.chance(0.85) ? n : r.pick<uint32_t>({0xFFFFFFFFu, 0x7FFFFFFF, 1000000}));
    for (uint32_t i = 0; i < n; ++i) w.u8(static_cast<uint8_t>(r.next()));
    if (n & 1) w.u8(0);
  }
  const bool ext = tag == 0xFFFE;
  w.tag("fmt ");
  const uint32_t fmtSize = ext ? 40 : r.chance(0.9) ? 16 : r.pick<uint32_t>({0, 14, 18, 15});
  w.u32(fmtSize);
  w.u16(tag);
  w.u16(static_cast<uint16_t>(channels));
  w.u32(rate);
  w.u32(rate * (align & 0xFFFF));
  w.u16(static_cast<uint16_t>(align));
  w.u16(static_cast<uint16_t>(bits));
  if (ext) {
    w.u16(22);
    w.u16(static_cast<uint16_t>(r.chance(0.8) ? bits : bits + 8));
    w.u32(r.chance(0.5) ? 0 : 3);
    w.u16(sub);
    for (int i = 0; i < 14; ++i) w.u8(static_cast<uint8_t>(i));
  } else if (fmtSize > 16) {
    for (uint32_t i = 16; i < fmtSize; ++i) w.u8(0);
  }
  if (fmtSize & 1) w.u8(0);
  w.tag("data");
  w.u32(rf64 ? 0xFFFFFFFFu : static_cast<uint32_t>(claimed));
  // Sample bytes: for float data, hostile float values; otherwise random bytes.
  if (effective == 3 && bits == 32) {
    std::vector<float> s = hostileSamples(r, realData / 4);
    w.floats(s);
    for (size_t i = s.size() * 4; i < realData; ++i) w.u8(0);
  } else if (effective == 3 && bits == 64) {
    for (uint64_t i = 0; i < realData / 8; ++i)
      w.f64(r.chance(0.02) ? r.pick<double>({kNaN, kInf, -kInf, 1e-310, 1e300}) : std::sin(0.01 * double(i)));
  } else {
    for (uint64_t i = 0; i < realData; ++i) w.u8(static_cast<uint8_t>(r.next()));
  }
  if (r.chance(0.5)) mutate(r, w.b);
  if (r.chance(0.05)) {  // random bytes behind a valid RIFF prefix
    w.b.resize(12 + r.below(200));
    for (size_t i = 12; i < w.b.size(); ++i) w.b[i] = static_cast<uint8_t>(r.next());
  }
  return w.b;
}

// ====================================================================================================
// wav_info: decodeWavFrames with a WavInfo that did not come from the parser (the addon's
// decodeWav takes the info object back from JavaScript, where anyone can change it).
// ====================================================================================================
void runWavInfo(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  audio::WavInfo info;
  info.encoding = static_cast<audio::SampleEncoding>(rd.i32({0, 1, 2, 3, 4, 5, -1}));
  info.formatTag = static_cast<uint16_t>(rd.i32({1, 3, 6, 7, 0xFFFE}));
  info.channels = static_cast<uint32_t>(rd.i32({1, 2, 0, 1024, 1025, -1}));
  info.bitsPerSample = static_cast<uint32_t>(rd.i32({8, 16, 24, 32, 64, 0, 12, -1}));
  info.blockAlign = static_cast<uint32_t>(rd.i32({1, 2, 3, 4, 6, 8, 0, 65535}));
  info.sampleRate = 16000;
  const int channel = rd.i32({-1, 0, 1, 2, 1023, -2});
  const size_t nBytes = rd.n;
  // What the addon checks before it calls decodeWavFrames.
  if (info.blockAlign == 0) return;
  const uint64_t frames = nBytes / info.blockAlign;
  std::vector<float> out(frames);
  audio::decodeWavFrames(info, rd.p, frames, channel, out.data());
}

std::vector<uint8_t> genWavInfo(uint64_t seed) {
  Rng r(seed);
  Writer w;
  const bool consistent = r.chance(0.5);
  const int enc = static_cast<int>(r.below(5));
  const int bits = enc == 0 || enc >= 3 ? 8 : enc == 1 ? r.pick<int>({16, 24, 32}) : r.pick<int>({32, 64});
  const int ch = r.pick<int>({1, 2, 3});
  const int bitsSel = bits == 8 ? 0 : bits == 16 ? 1 : bits == 24 ? 2 : bits == 32 ? 3 : 4;
  const int align = ch * bits / 8;
  if (consistent) {
    w.u8(static_cast<uint8_t>(enc));
    w.u8(0);
    w.u8(static_cast<uint8_t>(ch == 1 ? 0 : ch == 2 ? 1 : 255));
    if (ch == 3) w.u32(3);
    w.u8(static_cast<uint8_t>(bitsSel));
    w.u8(255);
    w.u32(static_cast<uint32_t>(align));
    w.u8(static_cast<uint8_t>(r.below(3)));
  } else {
    w.pickInt(r, 7, static_cast<int>(r.next()));
    w.pickInt(r, 5, static_cast<int>(r.next()));
    w.pickInt(r, 6, static_cast<int>(r.next() % 4096));
    w.pickInt(r, 8, static_cast<int>(r.next() % 128));
    w.pickInt(r, 8, static_cast<int>(r.next() % 64));
    w.pickInt(r, 6, static_cast<int>(r.next() % 8));
  }
  const size_t n = r.below(512);
  for (size_t i = 0; i < n; ++i) w.u8(static_cast<uint8_t>(r.next()));
  if (r.chance(0.3)) mutate(r, w.b);
  return w.b;
}

// ====================================================================================================
// resample: the band-limited resampler at any pair of rates.
// ====================================================================================================
const std::initializer_list<int> kRates = {16000, 8000, 44100, 48000, 22050, 1, 2, 0, -1, 10000000, 10000001,
                                           9999991, 7, 768000, 96000, 11025};

void runResample(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  const int from = rd.i32(kRates);
  const int to = rd.i32(kRates);
  std::vector<float> x = rd.samples(1 << 16);
  audio::Resampler r(from, to);
  const uint64_t outLen = r.outputLength(x.size());
  if (outLen > kMaxCaseFloats) return;  // only sized: the caller allocates the output
  std::vector<float> out(outLen);
  r.process(x.data(), x.size(), out.data());
}

std::vector<uint8_t> genResample(uint64_t seed) {
  Rng r(seed);
  Writer w;
  // Mostly common rates (the first 5), sometimes the extremes and odd values (designing the filter
  // for a far-off coprime pair is legitimately slow, up to about a second).
  for (int k = 0; k < 2; ++k) {
    if (r.chance(0.75)) w.u8(static_cast<uint8_t>(r.below(5)));
    else w.pickInt(r, kRates.size(), static_cast<int>(r.below(200000)));
  }
  w.floats(hostileSamples(r, 20000));
  if (r.chance(0.3)) mutate(r, w.b);
  return w.b;
}

// ====================================================================================================
// features: the five feature kernels, single and batch, with options at and past their limits.
// ====================================================================================================
const std::initializer_list<int> kSizes = {400, 512, 0, 1, 2, 3, -1, 256, 1024, 4096, 65536, 1 << 20, 0x7FFFFFFF,
                                           std::numeric_limits<int>::min(), 401, 160, 8000};
const std::initializer_list<double> kReals = {0.0, -0.0, 1.0, -1.0, kNaN, kInf, -kInf, 1e-300, 1e300, 0.5,
                                              2.0, 16000.0, 8000.0, 20.0, 25.0, 10.0, 0.97, 22.0, 1e-9};

template <typename E>
E anyEnum(Reader& rd, int count) {
  return static_cast<E>(rd.i32({0, 1, 2, 3, 4, 5, -1, 99}) % (count + 1));  // one past the last
}

void readSpec(Reader& rd, features::SpectrogramOptions& o) {
  o.nFft = rd.i32(kSizes);
  o.winLength = rd.i32(kSizes);
  o.hopLength = rd.i32(kSizes);
  o.pad = rd.i32({0, 1, -1, 400, 1 << 20, 0x7FFFFFFF});
  o.window = anyEnum<features::WindowType>(rd, 6);
  o.power = rd.num(kReals);
  o.normalized = rd.flag();
  o.center = rd.flag();
  o.padMode = anyEnum<features::PadMode>(rd, 4);
  o.onesided = rd.flag();
  o.sampleRate = rd.i32({16000, 8000, 0, -1, 1, 768000, 0x7FFFFFFF});
}
void readMelOpts(Reader& rd, features::MelSpectrogramOptions& o) {
  readSpec(rd, o);
  o.nMels = rd.i32({128, 40, 0, 1, -1, 4096, 100000});
  o.fMin = rd.num(kReals);
  o.fMax = rd.num(kReals);
  o.norm = anyEnum<features::MelNorm>(rd, 2);
  o.melScale = anyEnum<features::MelScale>(rd, 2);
}
void readFbankOpts(Reader& rd, features::KaldiFbankOptions& o) {
  o.blackmanCoeff = rd.num(kReals);
  o.dither = rd.u8() < 240 ? 0.0 : rd.num(kReals);
  o.energyFloor = rd.num(kReals);
  o.frameLength = rd.num(kReals);
  o.frameShift = rd.num(kReals);
  o.highFreq = rd.num(kReals);
  o.htkCompat = rd.flag();
  o.lowFreq = rd.num(kReals);
  o.minDuration = rd.num(kReals);
  o.numMelBins = rd.i32({23, 40, 0, 3, 4, -1, 100000});
  o.preemphasisCoefficient = rd.num(kReals);
  o.rawEnergy = rd.flag();
  o.removeDcOffset = rd.flag();
  o.roundToPowerOfTwo = rd.flag();
  o.sampleFrequency = rd.num(kReals);
  o.snipEdges = rd.flag();
  o.subtractMean = rd.flag();
  o.useEnergy = rd.flag();
  o.useLogFbank = rd.flag();
  o.usePower = rd.flag();
  o.vtlnWarp = rd.u8() < 240 ? 1.0 : rd.num(kReals);
  o.windowType = anyEnum<features::KaldiWindowType>(rd, 5);
}

template <typename Opts, typename ShapeFn, typename IntoFn, typename BatchFn>
void runKernel(const Opts& o, const std::vector<float>& x, ShapeFn shape, IntoFn into, BatchFn batch, bool useBatch) {
  const features::FeatureShape s = shape(x.size(), o);
  if (s.size() > kMaxCaseFloats || s.bins > kMaxCaseFloats) return;
  std::vector<float> out(s.size());
  into(x.data(), x.size(), o, out.data());
  if (useBatch && x.size() >= 2) {
    const size_t half = x.size() / 2;
    std::vector<const float*> clips = {x.data(), x.data() + half};
    std::vector<size_t> lengths = {half, x.size() - half};
    const features::FeatureShape s0 = shape(lengths[0], o), s1 = shape(lengths[1], o);
    if (s0.size() + s1.size() > kMaxCaseFloats) return;
    std::vector<float> o0(s0.size()), o1(s1.size());
    batch(clips, lengths, o, std::vector<float*>{o0.data(), o1.data()});
  }
}

void runFeatures(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  const int kind = rd.u8() % 5;
  const bool useBatch = rd.flag();
  features::MfccOptions mfcc;
  features::KaldiMfccOptions kaldi;
  if (kind <= 2) {
    readMelOpts(rd, mfcc);
    mfcc.nMfcc = rd.i32({40, 13, 0, 1, -1, 128, 129});
    mfcc.dctType = rd.i32({2, 1, 3, 0});
    mfcc.dctNorm = anyEnum<features::DctNorm>(rd, 2);
    mfcc.logMels = rd.flag();
  } else {
    readFbankOpts(rd, kaldi);
    kaldi.numCeps = rd.i32({13, 1, 0, -1, 23, 24});
    kaldi.cepstralLifter = rd.num(kReals);
  }
  std::vector<float> x = rd.samples(1 << 16);
  using namespace features;
  switch (kind) {
    case 0:
      runKernel(static_cast<const SpectrogramOptions&>(mfcc), x, spectrogramShape, spectrogramInto, spectrogramBatchInto, useBatch);
      break;
    case 1:
      runKernel(static_cast<const MelSpectrogramOptions&>(mfcc), x, melSpectrogramShape, melSpectrogramInto,
                melSpectrogramBatchInto, useBatch);
      break;
    case 2: runKernel(mfcc, x, mfccShape, mfccInto, mfccBatchInto, useBatch); break;
    case 3:
      runKernel(static_cast<const KaldiFbankOptions&>(kaldi), x, kaldiFbankShape, kaldiFbankInto, kaldiFbankBatchInto, useBatch);
      break;
    default: runKernel(kaldi, x, kaldiMfccShape, kaldiMfccInto, kaldiMfccBatchInto, useBatch); break;
  }
}

std::vector<uint8_t> genFeatures(uint64_t seed) {
  Rng r(seed);
  Writer w;
  const int kind = static_cast<int>(r.below(5));
  w.u8(static_cast<uint8_t>(kind));
  w.u8(static_cast<uint8_t>(r.below(2)));
  // Mostly defaults (selector 0), with a few options pushed to their limits.
  const double pOdd = r.pick<double>({0.0, 0.05, 0.2, 0.5});
  auto sel = [&](size_t specials) {
    if (r.chance(pOdd)) w.pickInt(r, specials, static_cast<int>(r.next() % 70000));
    else w.u8(0);
  };
  auto selNum = [&](size_t specials, double dflt) {
    if (r.chance(pOdd)) {
      w.pickNum(r, specials, r.uniform() * 20000 - 100);
    } else {
      w.u8(255);
      w.f64(dflt);
    }
  };
  auto flag = [&](bool dflt) { w.u8(r.chance(pOdd) ? static_cast<uint8_t>(r.below(2)) : dflt); };
  if (kind <= 2) {
    sel(kSizes.size()); sel(kSizes.size()); sel(kSizes.size()); sel(6); sel(8);
    selNum(kReals.size(), 2.0); flag(false); flag(true); sel(8); flag(true); sel(7);
    sel(7); selNum(kReals.size(), 0.0); selNum(kReals.size(), 0.0); sel(8); sel(8);
    sel(7); sel(4); sel(8); flag(false);
  } else {
    selNum(kReals.size(), 0.42); w.u8(0); selNum(kReals.size(), 1.0); selNum(kReals.size(), 25.0);
    selNum(kReals.size(), 10.0); selNum(kReals.size(), 0.0); flag(false); selNum(kReals.size(), 20.0);
    selNum(kReals.size(), 0.0); sel(7); selNum(kReals.size(), 0.97); flag(true); flag(true); flag(true);
    selNum(kReals.size(), 16000.0); flag(true); flag(false); flag(false); flag(true); flag(true); w.u8(0); sel(8);
    sel(6); selNum(kReals.size(), 22.0);
  }
  w.floats(hostileSamples(r, 16000));
  if (r.chance(0.25)) mutate(r, w.b);
  return w.b;
}

// ====================================================================================================
// metrics: analyzeSignal, detectSpeech and wadaSnr on any samples at any rate.
// ====================================================================================================
void runMetrics(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  const int rate = rd.i32({16000, 8000, 44100, 48000, 7999, 768000, 768001, 0, -1, 22050, 11025});
  metrics::AnalyzeOptions o;
  if (rd.flag()) {
    o.minDropoutMs = rd.num({10.0, 0.0, -1.0, 10000.0, 10001.0, kNaN, kInf, 1e-9});
    o.minRepeatSec = rd.num({0.4, 0.05, 0.049, 60.0, 61.0, kNaN});
    o.maxRepeatLagSec = rd.num({30.0, 600.0, 601.0, 0.05, kNaN, -kInf});
    o.repeatMaxDistance = rd.num({0.2, 0.0, 1.0, 0.999, 1e-9, kNaN});
    o.vad.threshold = rd.num({0.5, 0.0, 1.0, 1e-9, 0.999999, kNaN});
    o.vad.hangoverSec = rd.num({0.2, 0.0, 5.0, 5.1, -0.0, kNaN});
    o.vad.minGapSec = rd.num({0.2, 0.0, 5.0, 5.1, kInf});
    o.vad.minSpeechSec = rd.num({0.03, 0.0, 5.0, 5.1, -1.0});
  }
  std::vector<float> x = rd.samples(48000 * 4);
  if (rate > 0 && x.size() > static_cast<size_t>(rate) * 4) x.resize(static_cast<size_t>(rate) * 4);
  (void)metrics::wadaSnr(x.data(), x.size());
  metrics::SignalScores s = metrics::analyzeSignal(x.data(), x.size(), rate, o);
  metrics::VadResult v = metrics::detectSpeech(x.data(), x.size(), rate, o.vad);
  if (!(s.durationSec >= 0) || v.isSpeech.size() != v.speechProb.size()) throw std::logic_error("inconsistent metrics");
}

std::vector<uint8_t> genMetrics(uint64_t seed) {
  Rng r(seed);
  Writer w;
  w.pickInt(r, 11, static_cast<int>(r.below(100000)));
  const bool opts = r.chance(0.3);
  w.u8(opts);
  if (opts) {
    for (size_t k : {8, 6, 6, 6, 6, 6, 5, 5}) w.pickNum(r, k, r.uniform() * 2);
  }
  w.floats(hostileSamples(r, 32000));
  if (r.chance(0.2)) mutate(r, w.b);
  return w.b;
}

// ====================================================================================================
// simulate: the defect planters (mix at an SNR, convolution, clipping, band limiting, ...).
// ====================================================================================================
void runSimulate(const uint8_t* data, size_t size) {
  Reader rd{data, size};
  const int op = rd.u8() % 8;
  const int rate = rd.i32({16000, 8000, 1000, 999, 1000000, 1000001, 0, -1, 44100});
  const double v = rd.num({10.0, 0.0, -2.0, 35.0, kNaN, kInf, -kInf, 1e300, 0.5, 1e-9, 1.0});
  const uint32_t a = rd.u32() % 100000, b = rd.u32() % 100000;
  const uint32_t split = rd.u32();
  std::vector<float> all = rd.samples(1 << 15);
  const size_t k = all.empty() ? 0 : split % (all.size() + 1);
  const float* x = all.data();
  const size_t n = k, m = all.size() - k;
  const float* y = all.data() + k;
  namespace sim = voxqc::simulate;
  switch (op) {
    case 0: (void)sim::mixAtSnr(x, n, rate, y, m, v, a); break;
    case 1: (void)sim::convolve(x, n, y, std::min<size_t>(m, 4096)); break;
    case 2: (void)sim::activeSpeechLevelDbfs(all.data(), all.size(), rate); break;
    case 3: {
      std::vector<float> c(all);
      const double level = sim::clipLevelForFraction(c.data(), c.size(), v);
      (void)sim::clipAt(c.data(), c.size(), level);
      break;
    }
    case 4: (void)sim::bandLimit(all.data(), all.size(), rate, static_cast<int>(a % 48000)); break;
    case 5: (void)sim::repeatSpan(all.data(), all.size(), a, b); break;
    case 6: (void)sim::insertSilence(all.data(), all.size(), a, b % 20000, v, a); break;
    default: {
      std::vector<float> c(all);
      sim::insertDropout(c.data(), c.size(), a, b);
      sim::applyGain(c.data(), c.size(), v);
      (void)sim::cut(c.data(), c.size(), a, b);
      break;
    }
  }
}

std::vector<uint8_t> genSimulate(uint64_t seed) {
  Rng r(seed);
  Writer w;
  w.u8(static_cast<uint8_t>(r.below(8)));
  w.pickInt(r, 9, static_cast<int>(r.below(100000)));
  w.pickNum(r, 11, r.uniform() * 60 - 10);
  std::vector<float> x = hostileSamples(r, 16000);
  w.u32(r.below(static_cast<uint32_t>(x.size() + 10)));
  w.u32(r.below(static_cast<uint32_t>(x.size() + 10)));
  w.u32(static_cast<uint32_t>(r.chance(0.7) ? x.size() / 2 : r.next()));
  w.floats(x);
  if (r.chance(0.2)) mutate(r, w.b);
  return w.b;
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"wav", runWav, genWav},
      {"wav_info", runWavInfo, genWavInfo},
      {"resample", runResample, genResample},
      {"features", runFeatures, genFeatures},
      {"metrics", runMetrics, genMetrics},
      {"simulate", runSimulate, genSimulate},
  };
  return t;
}

const Target* findTarget(const std::string& name) {
  for (const auto& t : targets())
    if (name == t.name) return &t;
  return nullptr;
}

Outcome runCase(const Target& t, const uint8_t* data, size_t size, std::string* what) {
  try {
    t.run(data, size);
    return Outcome::Ok;
  } catch (const Error& e) {
    if (what) *what = e.what();
    return Outcome::Rejected;
  } catch (const c10::Error& e) {
    if (what) *what = std::string("libtorch: ") + e.what_without_backtrace();
    return Outcome::Unexpected;
  } catch (const std::exception& e) {
    if (what) *what = e.what();
    return Outcome::Unexpected;
  }
}

}  // namespace voxqc::fuzz
